//! The delivery task against the fake Telegram: every fault handled as specified, the real rate
//! limits kept under load, and a restart that delivers the rest without a duplicate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kkachi::store::Store;
use kkachi::store::outbox::{OutboxEntry, Subscription};
use kkachi::story::Story;
use kkachi::telegram::send::{Limits, Sender, Settings};
use tempfile::TempDir;

use crate::fake_telegram::{FakeTelegram, Fault};
use crate::support::alerts;

const REAL: Limits = Limits {
    per_chat_per_sec: 1,
    per_group_per_min: 20,
    global_per_sec: 30,
};
const FAST: Limits = Limits {
    per_chat_per_sec: 50,
    per_group_per_min: 1000,
    global_per_sec: 200,
};

fn settings(limits: Limits, admins: &[i64]) -> Settings {
    Settings {
        limits,
        timezone: chrono_tz::Asia::Seoul,
        admins: admins.to_vec(),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        rescan: Duration::from_millis(50),
        max_in_flight: 16,
        paid_broadcast: false,
        language: kkachi::i18n::Lang::En,
    }
}

/// Story `n`: its title has markup to escape.
fn story(n: usize) -> Story {
    alerts::story(
        "yna",
        format!("id-{n}"),
        format!("삼성전자 <실적> & 발표 {n}"),
        format!("https://e.com/{n}"),
        "요약입니다.",
    )
}

fn alert(chat: i64, n: usize) -> OutboxEntry {
    alerts::alert(chat, &story(n), "samsung", &["삼성전자"])
}

fn story_hex(n: usize) -> String {
    alerts::key_hex(&story(n))
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("sender stops")
            .expect("sender task");
    }
}

fn start(
    fake: &FakeTelegram,
    store: &Arc<Store>,
    settings: Settings,
    timeout: Duration,
) -> Running {
    let sender = Sender::new(fake.bot(timeout), store.clone(), settings);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sender.run(async {
        let _ = rx.await;
    }));
    Running { stop, task }
}

fn open(dir: &TempDir) -> Arc<Store> {
    Arc::new(Store::open(dir.path()).expect("open store"))
}

/// Runs the sender until the outbox is empty (at most `limit`).
async fn drain(fake: &FakeTelegram, store: &Arc<Store>, settings: Settings, limit: Duration) {
    drain_with_timeout(fake, store, settings, Duration::from_secs(5), limit).await
}

/// [`drain`] with the client's request `timeout` (a short one turns a stalled answer into an
/// ambiguous outcome).
async fn drain_with_timeout(
    fake: &FakeTelegram,
    store: &Arc<Store>,
    settings: Settings,
    timeout: Duration,
    limit: Duration,
) {
    let running = start(fake, store, settings, timeout);
    let deadline = tokio::time::Instant::now() + limit;
    while store.outbox_len() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "outbox not drained in {limit:?}: {} left",
            store.outbox_len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop().await;
}

/// How many requests the fake saw for `chat`.
fn requests_to(fake: &FakeTelegram, chat: i64) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.chat() == Some(chat))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_arrives_as_html_and_its_message_id_is_kept() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    store.enqueue(&[alert(42, 1)]).expect("enqueue");
    drain(&fake, &store, settings(REAL, &[]), Duration::from_secs(5)).await;
    let got = fake.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].chat(), Some(42));
    assert_eq!(got[0].parse_mode(), Some("HTML"));
    assert!(
        got[0].text().starts_with(
            "<b><a href=\"https://e.com/1\">삼성전자 &lt;실적&gt; &amp; 발표 1</a></b>\n<i>yna · "
        ),
        "{}",
        got[0].text()
    );
    let sent = store
        .sent(42, &story_hex(1))
        .expect("sent")
        .expect("record");
    assert_eq!(sent.message_ids, vec![1]);
    assert!(!sent.uncertain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_only_that_chat_persisted() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    fake.fault(Some(1), Fault::RetryAfter(2));
    store
        .enqueue(&[alert(1, 1), alert(1, 2), alert(2, 3), alert(2, 4)])
        .expect("enqueue");
    let running = start(&fake, &store, settings(REAL, &[]), Duration::from_secs(5));
    // Chat 2 is served while chat 1 waits.
    assert!(
        fake.wait_for(Duration::from_secs(5), |r| r
            .iter()
            .filter(|r| r.accepted && r.chat() == Some(2))
            .count()
            == 2)
            .await
    );
    let retry_at = store
        .chat_state(1)
        .expect("state")
        .retry_at
        .expect("retry_at persisted");
    assert!(
        retry_at > Utc::now() + chrono::Duration::milliseconds(500),
        "{retry_at}"
    );
    assert!(
        fake.delivered().iter().all(|r| r.chat() == Some(2)),
        "chat 1 sent to during its wait"
    );
    running.stop().await;
    // A restart honours the wait.
    drop(store);
    let store = open(&dir);
    drain(&fake, &store, settings(REAL, &[]), Duration::from_secs(8)).await;
    let reqs: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.chat() == Some(1))
        .collect();
    assert_eq!(reqs.len(), 3, "one refused, two delivered");
    assert!(
        reqs[1].at.duration_since(reqs[0].at) >= Duration::from_millis(1900),
        "retry_after not honoured"
    );
}

/// `allow_paid_broadcast = true` puts the flag on every message; off, it is not sent at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_broadcasts_carry_the_flag() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    store.enqueue(&[alert(1, 1)]).expect("enqueue");
    drain(&fake, &store, settings(FAST, &[]), Duration::from_secs(5)).await;
    let mut paid = settings(FAST, &[]);
    paid.paid_broadcast = true;
    store.enqueue(&[alert(2, 2)]).expect("enqueue");
    drain(&fake, &store, paid, Duration::from_secs(5)).await;
    let got = fake.delivered();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body.get("allow_paid_broadcast"), None);
    assert_eq!(
        got[1].body.get("allow_paid_broadcast"),
        Some(&serde_json::Value::Bool(true))
    );
    // The config raises the overall limit with it, unless global_per_sec is set.
    let cfg = kkachi::config::TelegramConfig {
        allow_paid_broadcast: true,
        global_per_sec: kkachi::config::PAID_GLOBAL_PER_SEC,
        ..Default::default()
    };
    let s = Settings::new(&cfg, chrono_tz::Asia::Seoul);
    assert!(s.paid_broadcast && s.limits.global_per_sec == 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cant_parse_entities_is_resent_as_plain_text() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    fake.fault(Some(5), Fault::CantParse);
    store.enqueue(&[alert(5, 1)]).expect("enqueue");
    drain(&fake, &store, settings(REAL, &[]), Duration::from_secs(5)).await;
    let got = fake.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].parse_mode(), None);
    assert!(
        got[0]
            .text()
            .starts_with("삼성전자 <실적> & 발표 1\nhttps://e.com/1\nyna · "),
        "{}",
        got[0].text()
    );
    assert!(store.sent(5, &story_hex(1)).expect("sent").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_is_too_long_is_split_and_resent() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    fake.fault(Some(5), Fault::TooLong);
    let mut e = alert(5, 1);
    if let kkachi::store::outbox::Body::Alert(a) = &mut e.body {
        a.summary = "긴 요약 문장입니다. ".repeat(40);
    }
    store.enqueue(&[e]).expect("enqueue");
    drain(&fake, &store, settings(FAST, &[]), Duration::from_secs(5)).await;
    let got = fake.delivered();
    assert!(got.len() >= 2, "split into {} parts", got.len());
    let sent = store.sent(5, &story_hex(1)).expect("sent").expect("record");
    assert_eq!(sent.message_ids.len(), got.len());
    let all: String = got.iter().map(|r| r.text()).collect();
    assert!(all.contains("🔎 <b>samsung</b>"), "nothing lost: {all}");
    for r in &got {
        assert_eq!(
            r.text().matches("<b>").count(),
            r.text().matches("</b>").count(),
            "{}",
            r.text()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_group_gets_its_new_id_everywhere() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let sub = Subscription {
        rules: ["samsung".to_string()].into(),
        ..Default::default()
    };
    store.set_subscription(-5, &sub).expect("sub");
    fake.fault(Some(-5), Fault::Migrate(-1_005));
    store
        .enqueue(&[alert(-5, 1), alert(-5, 2)])
        .expect("enqueue");
    drain(&fake, &store, settings(FAST, &[]), Duration::from_secs(5)).await;
    let chats: Vec<Option<i64>> = fake.delivered().iter().map(|r| r.chat()).collect();
    assert_eq!(chats, vec![Some(-1_005), Some(-1_005)]);
    assert!(store.subscription(-5).expect("sub").is_none());
    assert_eq!(store.subscription(-1_005).expect("sub"), Some(sub));
    assert!(store.sent(-1_005, &story_hex(2)).expect("sent").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_deactivated_and_missing_chats_end_and_admins_hear_of_it() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let faults = [
        (
            7,
            Fault::Forbidden("Forbidden: bot was blocked by the user"),
        ),
        (8, Fault::Forbidden("Forbidden: user is deactivated")),
        (9, Fault::ChatNotFound),
        (
            10,
            Fault::Forbidden("Forbidden: bot can't initiate conversation with a user"),
        ),
    ];
    for (chat, f) in faults {
        fake.fault(Some(chat), f);
        store
            .set_subscription(
                chat,
                &Subscription {
                    rules: ["samsung".to_string()].into(),
                    ..Default::default()
                },
            )
            .expect("sub");
        store
            .enqueue(&[alert(chat, 1), alert(chat, 2)])
            .expect("enqueue");
    }
    drain(
        &fake,
        &store,
        settings(FAST, &[999]),
        Duration::from_secs(5),
    )
    .await;
    for chat in [7, 8, 9, 10] {
        let reqs = fake
            .requests()
            .into_iter()
            .filter(|r| r.chat() == Some(chat))
            .count();
        assert_eq!(reqs, 1, "chat {chat}: nothing after the permanent failure");
        let sub = store.subscription(chat).expect("sub").expect("kept");
        assert!(sub.ended.is_some() && !sub.active(), "chat {chat} ended");
    }
    let notices: Vec<String> = fake
        .delivered()
        .iter()
        .filter(|r| r.chat() == Some(999))
        .map(|r| r.text().to_string())
        .collect();
    assert_eq!(notices.len(), 4, "{notices:?}");
    assert!(
        notices
            .iter()
            .any(|n| n.contains("chat 7") && n.contains("blocked")),
        "{notices:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_timeout_is_resent_at_most_once() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    // Chat 1: the first try times out (but was delivered), the resend is answered.
    fake.fault(Some(1), Fault::Stall(Duration::from_millis(1500)));
    // Chat 2: both tries time out: no third.
    fake.fault(Some(2), Fault::Stall(Duration::from_millis(1500)));
    fake.fault(Some(2), Fault::Stall(Duration::from_millis(1500)));
    store.enqueue(&[alert(1, 1), alert(2, 2)]).expect("enqueue");
    drain_with_timeout(
        &fake,
        &store,
        settings(FAST, &[]),
        Duration::from_millis(400),
        Duration::from_secs(8),
    )
    .await;
    let count = |chat| requests_to(&fake, chat);
    assert_eq!((count(1), count(2)), (2, 2));
    let one = store.sent(1, &story_hex(1)).expect("sent").expect("record");
    assert!(!one.uncertain && one.message_ids.len() == 1);
    let two = store.sent(2, &story_hex(2)).expect("sent").expect("record");
    assert!(two.uncertain && two.message_ids.is_empty(), "{two:?}");
}

/// `Store::complete` writes the sent record, then removes the entry (two ordered writes, not a
/// transaction): a kill between them leaves an entry whose story is already recorded for its
/// chat. Such an entry (here: the same alert queued twice) is dropped unsent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_whose_sent_record_exists_is_dropped_unsent() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    store
        .enqueue(&[alert(5, 1), alert(5, 1), alert(6, 1)])
        .expect("enqueue");
    drain(&fake, &store, settings(FAST, &[]), Duration::from_secs(5)).await;
    let count = |chat| requests_to(&fake, chat);
    assert_eq!((count(5), count(6)), (1, 1));
    assert!(store.sent(5, &story_hex(1)).expect("sent").is_some());
}

/// In-flight marks live in their own small tree (issue 11: the sender no longer rewrites the
/// whole entry to mark it): a mark found at start-up for the part still to send is the one
/// ambiguous attempt, so a second unknown outcome gives up (chat 1); a mark behind the entry's
/// `sent_parts` is stale (the process died between writing the outcome and removing the
/// mark), so that entry still has its resend (chat 2); an entry written by an older version
/// with `in_flight` set counts as marked (chat 3); a mark older than the entry's last written
/// outcome (its `attempts` moved on) is stale too (chats 4 and 5); marks of entries gone are
/// cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_marks_found_at_start_are_ambiguous_and_stale_ones_are_not() {
    use kkachi::store::outbox::Part;
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut two_parts = alert(2, 2);
    two_parts.parts = vec![
        Part {
            text: "first half".into(),
            plain: true,
        },
        Part {
            text: "second half".into(),
            plain: true,
        },
    ];
    two_parts.sent_parts = vec![7];
    let mut old = alert(3, 3);
    old.in_flight = true;
    // Chat 4: killed while the start-up settled the mark (ambiguous and attempts written, the
    // mark not yet removed): the one resend is still owed. Chat 5: killed after a 5xx was
    // written and flushed, before its mark was removed: "not delivered", not ambiguous.
    let mut settled = alert(4, 4);
    (settled.attempts, settled.ambiguous) = (1, 1);
    let mut after_5xx = alert(5, 5);
    after_5xx.attempts = 1;
    store
        .enqueue(&[alert(1, 1), two_parts, old, settled, after_5xx])
        .expect("enqueue");
    let seqs: Vec<u64> = store
        .outbox()
        .expect("outbox")
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    store.mark_in_flight(seqs[0], 0, 0).expect("mark");
    store.mark_in_flight(seqs[1], 0, 0).expect("stale mark");
    store.mark_in_flight(seqs[3], 0, 0).expect("settled mark");
    store
        .mark_in_flight(seqs[4], 0, 0)
        .expect("mark before the 5xx");
    store
        .mark_in_flight(seqs[4] + 1_000, 0, 0)
        .expect("mark of an entry gone");
    store.flush().expect("flush");
    for chat in [1, 2, 3, 4, 5] {
        fake.fault(Some(chat), Fault::Stall(Duration::from_millis(1500)));
    }
    drain_with_timeout(
        &fake,
        &store,
        settings(FAST, &[]),
        Duration::from_millis(400),
        Duration::from_secs(8),
    )
    .await;
    let count = |chat| requests_to(&fake, chat);
    assert_eq!(
        [1, 2, 3, 4, 5].map(count),
        [1, 2, 1, 1, 2],
        "requests per chat 1..=5"
    );
    let one = store.sent(1, &story_hex(1)).expect("sent").expect("record");
    assert!(one.uncertain, "{one:?}");
    let two = store.sent(2, &story_hex(2)).expect("sent").expect("record");
    assert!(!two.uncertain && two.message_ids.len() == 2, "{two:?}");
    assert_eq!(two.message_ids[0], 7);
    let three = store.sent(3, &story_hex(3)).expect("sent").expect("record");
    assert!(three.uncertain, "{three:?}");
    let four = store.sent(4, &story_hex(4)).expect("sent").expect("record");
    assert!(four.uncertain, "{four:?}");
    let five = store.sent(5, &story_hex(5)).expect("sent").expect("record");
    assert!(!five.uncertain && five.message_ids.len() == 1, "{five:?}");
    assert!(store.in_flight_marks().expect("marks").is_empty());
}

/// 200 alerts to 50 chats (40 private, 10 groups) with the real limits and 16 requests in
/// flight: all arrive, no chat above 1/s, no group above 20/min, never above 30/s overall,
/// and never two requests in flight to one chat. About 7 s each.
async fn real_limits_hold(delay: Duration) {
    let fake = FakeTelegram::start();
    fake.set_delay(delay);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let chats: Vec<i64> = (1..=40).chain((1..=10).map(|g| -1_000 - g)).collect();
    let entries: Vec<OutboxEntry> = (0..4)
        .flat_map(|round| {
            chats
                .iter()
                .map(move |&c| alert(c, round * 100 + c.unsigned_abs() as usize))
        })
        .collect();
    assert_eq!(entries.len(), 200);
    store.enqueue(&entries).expect("enqueue");
    drain(&fake, &store, settings(REAL, &[]), Duration::from_secs(30)).await;
    let mut got = fake.delivered();
    got.sort_by_key(|r| r.at);
    assert_eq!(got.len(), 200);
    let mut per_chat: HashMap<i64, Vec<std::time::Instant>> = HashMap::new();
    for r in &got {
        per_chat
            .entry(r.chat().expect("chat"))
            .or_default()
            .push(r.at);
    }
    assert_eq!(per_chat.len(), 50);
    // Arrival times carry a little loopback jitter: allow 50 ms.
    let slack = Duration::from_millis(50);
    for (chat, times) in &per_chat {
        assert_eq!(times.len(), 4);
        for w in times.windows(2) {
            let gap = w[1].duration_since(w[0]);
            assert!(
                gap + slack >= Duration::from_secs(1),
                "chat {chat} above 1/s"
            );
            // The next request to a chat leaves only after the answer to the last one.
            assert!(gap >= delay, "chat {chat}: two requests in flight");
        }
    }
    for (i, r) in got.iter().enumerate() {
        let window = got[i..]
            .iter()
            .take_while(|s| s.at.duration_since(r.at) + slack < Duration::from_secs(1))
            .count();
        assert!(window <= 30, "{window} messages within one second");
    }
    // In sequence order per chat.
    for c in &chats {
        let texts: Vec<String> = got
            .iter()
            .filter(|r| r.chat() == Some(*c))
            .map(|r| r.text().to_string())
            .collect();
        let want: Vec<String> = (0..4)
            .map(|round| format!("발표 {}", round * 100 + c.unsigned_abs() as usize))
            .collect();
        for (t, w) in texts.iter().zip(&want) {
            assert!(t.contains(w.as_str()), "chat {c} out of order: {t} vs {w}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_alerts_to_fifty_chats_keep_the_real_limits() {
    real_limits_hold(Duration::ZERO).await;
}

/// The same with answers that take 150 ms: several requests in flight, the limits still hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_many_in_flight_keep_the_real_limits() {
    real_limits_hold(Duration::from_millis(150)).await;
}

/// Issue 10, fault 3 (in-process half): a 5xx is answered at once (no 10 s sleep), backs off
/// only that chat while the others flow, and is not counted as ambiguous.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_a_5xx_backs_off_only_that_chat() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    fake.fault(Some(1), Fault::ServerError(500));
    fake.fault(Some(1), Fault::ServerError(503));
    store
        .enqueue(&[alert(1, 1), alert(2, 2), alert(2, 3), alert(3, 4)])
        .expect("enqueue");
    drain(&fake, &store, settings(FAST, &[]), Duration::from_secs(5)).await;
    let to = |chat| {
        fake.requests()
            .into_iter()
            .filter(|r| r.chat() == Some(chat))
            .collect::<Vec<_>>()
    };
    // Drained within the bound above: teloxide's path slept 10 s per 5xx (20 s here).
    assert_eq!(to(1).len(), 3, "two 5xx, then accepted");
    assert_eq!((to(2).len(), to(3).len()), (2, 1));
    let one = store.sent(1, &story_hex(1)).expect("sent").expect("record");
    assert!(!one.uncertain && one.message_ids.len() == 1, "{one:?}");
}

/// Stop the sender half-way, drop it and the store, reopen: the rest arrives, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_delivers_the_rest_without_duplicates() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        per_chat_per_sec: 10,
        per_group_per_min: 1000,
        global_per_sec: 20,
    };
    {
        let store = open(&dir);
        let entries: Vec<OutboxEntry> = (0..30)
            .map(|n| alert(if n % 2 == 0 { 1 } else { -2 }, n))
            .collect();
        store.enqueue(&entries).expect("enqueue");
        let running = start(&fake, &store, settings(limits, &[]), Duration::from_secs(5));
        assert!(
            fake.wait_for(Duration::from_secs(5), |r| r
                .iter()
                .filter(|r| r.accepted)
                .count()
                >= 10)
                .await
        );
        running.stop().await;
        assert!(store.outbox_len() > 0, "stopped half-way");
        store.flush().expect("flush");
    }
    let store = open(&dir);
    drain(
        &fake,
        &store,
        settings(limits, &[]),
        Duration::from_secs(10),
    )
    .await;
    let got = fake.delivered();
    let mut seen = std::collections::HashSet::new();
    for r in &got {
        assert!(
            seen.insert((r.chat(), r.text().to_string())),
            "sent twice: {:?}",
            r.text()
        );
    }
    assert_eq!(got.len(), 30);
    for n in 0..30 {
        let chat = if n % 2 == 0 { 1 } else { -2 };
        assert!(
            store.sent(chat, &story_hex(n)).expect("sent").is_some(),
            "story {n}"
        );
    }
}

/// The daemon wired end to end: with a token, a poll queues its alerts in the outbox (one per
/// chat, static routing here) and the delivery task sends them; nothing is printed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_with_a_token_delivers_through_the_outbox() {
    use kkachi::app::{self, RunOptions};
    use kkachi::deliver::Format;
    use kkachi::pipeline::Outcome;

    let server = crate::server::Server::start();
    let items = [
        ("1", "삼성전자 실적 발표", "https://e.com/1"),
        ("2", "오늘의 날씨 소식", "https://e.com/2"),
    ];
    server.feed("/a.xml", crate::rss(&items), "application/rss+xml");
    let fake = FakeTelegram::start();
    let rules = "[[rules]]\nname = \"samsung\"\nquery = \"삼성전자\"\nchats = [-100777]\n";
    let env = crate::Env::new(
        &[crate::FeedSpec::new("a", server.url("/a.xml")).backfill(10)],
        rules,
    );
    std::fs::write(
        env.path("token"),
        format!("{}\n", crate::fake_telegram::TOKEN),
    )
    .expect("token");
    let mut toml = std::fs::read_to_string(env.config()).expect("config");
    toml.push_str(&format!(
        "[telegram]\ntoken_file = \"token\"\napi_url = \"{}\"\n",
        fake.url()
    ));
    std::fs::write(env.config(), toml).expect("config");

    for round in 0..2 {
        let opts = RunOptions {
            once: true,
            dry_run: false,
            format: Format::Json,
            shutdown_deadline: app::SHUTDOWN_DEADLINE,
            once_deadline: None,
        };
        let (_control, rx) = tokio::sync::mpsc::unbounded_channel();
        let reports = app::run(env.load(), opts, rx).await.expect("run --once");
        let want = if round == 0 { (2, 2, 1) } else { (2, 0, 0) };
        match &reports[0].outcome {
            Outcome::Polled { items, new, alerts } => {
                assert_eq!((*items, *new, *alerts), want, "round {round}")
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    let got = fake.delivered();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].chat(), Some(-100_777));
    assert!(
        got[0].text().contains("삼성전자 실적 발표") && got[0].text().contains("🔎 <b>samsung</b>"),
        "{}",
        got[0].text()
    );
}

/// Issue 11: `run --once` delivers until the outbox is empty, past the old 10-s deadline, unless
/// `--shutdown-deadline` is given; either way its last line says what was delivered and what
/// is still queued. 14 alerts to one chat at 1/s: about 2 s, then about 11 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_run_once_delivers_until_the_outbox_is_empty() {
    let fake = FakeTelegram::start();
    let mut daemon = crate::crash_loop::daemon("", "");
    let entries: Vec<OutboxEntry> = (1..=14).map(|n| crate::crash_loop::alert(1, n)).collect();
    daemon.store().enqueue(&entries).expect("enqueue");
    let last_line = |d: &crate::support::Daemon| d.log().lines().last().unwrap_or("").to_string();
    let field = |line: &str, key: &str| -> usize {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line:?}"))
    };
    // With a deadline it stops there, and says how many are left.
    daemon.spawn_with_telegram(&fake, &["--once", "--shutdown-deadline", "2s"]);
    assert_eq!(daemon.wait_exit().0, Some(0), "{}", daemon.log());
    let line = last_line(&daemon);
    assert!(line.contains("cycle done"), "{line}");
    let (sent, queued) = (field(&line, "delivered="), field(&line, "queued="));
    assert!(sent >= 1 && queued >= 1 && sent + queued == 14, "{line}");
    assert_eq!(fake.delivered().len(), sent);
    // Without one it delivers the rest, though that takes longer than the old 10 s.
    daemon.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(daemon.wait_exit().0, Some(0), "{}", daemon.log());
    let line = last_line(&daemon);
    assert_eq!(
        (field(&line, "delivered="), field(&line, "queued=")),
        (queued, 0),
        "{line}"
    );
    assert_eq!(fake.delivered().len(), 14);
    assert_eq!(daemon.store().outbox_len(), 0);
}

/// Issue 14: edits of one message queued one behind the other (copies from two polls) make one
/// edit, the last (edits are cumulative); an edit whose message was never sent goes out as the
/// copy's own alert; one with neither is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_edits_of_one_message_are_one_edit_and_a_missing_message_sends_the_copy() {
    use kkachi::store::fold::Outlet;
    use kkachi::store::outbox::{Body, Fold};
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let outlet = |feed: &str, host: &str, n: usize| Outlet {
        feed: feed.into(),
        host: host.into(),
        title: format!("copy {n}"),
        url: format!("https://{host}/{n}"),
        story: story_hex(n),
    };
    let lead = alert(7, 1);
    let Body::Alert(lead_alert) = lead.body.clone() else {
        unreachable!()
    };
    let fold = |target: usize, more: Vec<Outlet>, own: Option<usize>| Fold {
        cluster: 99,
        target: story_hex(target),
        alert: lead_alert.clone(),
        more,
        own: own.map(|n| match alert(7, n).body {
            Body::Alert(a) => a,
            _ => unreachable!(),
        }),
        message_id: None,
    };
    let now = chrono::Utc::now();
    store
        .enqueue(&[
            lead,
            OutboxEntry::fold(
                7,
                &story_hex(2),
                fold(1, vec![outlet("newsis", "newsis.com", 2)], None),
                now,
            ),
            OutboxEntry::fold(
                7,
                &story_hex(3),
                fold(
                    1,
                    vec![
                        outlet("newsis", "newsis.com", 2),
                        outlet("news1", "news1.kr", 3),
                    ],
                    None,
                ),
                now,
            ),
            // Story 5's message was never sent: its copy 6 goes out as an alert; copy 8 of
            // story 7 matched nothing here and has nothing to edit: dropped.
            OutboxEntry::fold(
                7,
                &story_hex(6),
                fold(5, vec![outlet("hani", "hani.co.kr", 6)], Some(6)),
                now,
            ),
            OutboxEntry::fold(
                7,
                &story_hex(8),
                fold(7, vec![outlet("hani", "hani.co.kr", 8)], None),
                now,
            ),
            // Story 9's message was never sent either: copy 10 matched the chat's rules and a
            // later edit of the same message (copy 11) did not. Copy 10 is not covered by it.
            OutboxEntry::fold(
                7,
                &story_hex(10),
                fold(9, vec![outlet("hani", "hani.co.kr", 10)], Some(10)),
                now,
            ),
            OutboxEntry::fold(
                7,
                &story_hex(11),
                fold(
                    9,
                    vec![
                        outlet("hani", "hani.co.kr", 10),
                        outlet("news1", "news1.kr", 11),
                    ],
                    None,
                ),
                now,
            ),
        ])
        .expect("enqueue");
    drain(&fake, &store, settings(REAL, &[]), Duration::from_secs(10)).await;
    let reqs = fake.requests();
    let sends: Vec<_> = reqs.iter().filter(|r| r.method == "sendmessage").collect();
    let edits: Vec<_> = reqs
        .iter()
        .filter(|r| r.method == "editmessagetext")
        .collect();
    assert_eq!(sends.len(), 3, "{reqs:#?}");
    assert!(sends[1].text().contains("발표 6"), "{reqs:#?}");
    assert!(sends[2].text().contains("발표 10"), "{reqs:#?}");
    assert_eq!(edits.len(), 1, "{reqs:#?}");
    assert_eq!(edits[0].body["message_id"].as_i64(), Some(1));
    let text = edits[0].text();
    assert!(text.starts_with(sends[0].text()), "{text}");
    assert!(
        text.ends_with("➕ 2 · <a href=\"https://newsis.com/2\">newsis</a> · <a href=\"https://news1.kr/3\">news1</a>"),
        "{text}"
    );
    // The copies' sent records: the edited message, so a replay never sends them again.
    assert!(store.sent(7, &story_hex(3)).expect("sent").is_some());
}
