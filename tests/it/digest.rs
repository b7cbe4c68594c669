//! Issue 15 through the binary: a daily digest collects stories and sends one message at its
//! due time; a restart after the due time sends it once, promptly; a SIGKILL during the digest's
//! send gives exactly one digest after the restart; quiet hours (hold) keep instant alerts and
//! release them as one catch-up digest.
//!
//! Due times are real wall-clock minutes (`daily HH:MM` in UTC, the next minute at least 20 s
//! away), so these tests wait for the clock, up to a minute and a half; every wait is on an
//! observable event (the fake's request log, a log line), never a fixed sleep.

use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};

use crate::fake_telegram::{FakeTelegram, Fault, Request};
use crate::support::{Daemon, WAIT};

/// Longest wait for a due time (the next minute is at most 80 s away) plus the send.
const DUE_WAIT: Duration = Duration::from_secs(110);

const TITLES: [&str; 3] = [
    "딥시크, 새 추론 모델 공개",
    "딥시크 창업자 첫 공개 연설",
    "딥시크 앱 국내 다운로드 급증",
];
const TEXTS: [&str; 3] = [
    "중국 인공지능 스타트업이 수학과 코딩 평가에서 높은 점수를 냈다고 밝혔다.",
    "창업자가 베이징 포럼에서 청년 연구자들에게 기초 연구 투자를 당부했다.",
    "국내 앱 장터에서 내려받기 순위가 하루 만에 1위로 올랐다는 집계가 나왔다.",
];

fn feed() -> String {
    let items: String = (0..3)
        .map(|i| {
            format!(
                "<item><guid>d-{i}</guid><title>{}</title><link>https://news.example/{i}</link>\
                 <description>{}</description><pubDate>Tue, 01 Dec 2026 09:0{i}:00 +0900</pubDate></item>\n",
                TITLES[i], TEXTS[i]
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n{items}</channel></rss>\n"
    )
}

/// The next whole UTC minute at least 20 s from now (the stories are admitted before it).
fn next_minute() -> DateTime<Utc> {
    let t = Utc::now() + chrono::Duration::seconds(20);
    let t = t
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .expect("minute");
    t + chrono::Duration::minutes(1)
}

/// When a UTC instant comes on this process's monotonic clock (the fake's `Request::at`).
fn instant_of(t: DateTime<Utc>) -> Instant {
    let ahead = (t - Utc::now()).to_std().unwrap_or_default();
    Instant::now() + ahead
}

/// A daemon with one file feed of three matching stories, rule `deepseek` routed to chat 1
/// with `chat` (a TOML value in `chats = [..]`), times in UTC.
fn daemon(chat: &str) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("news.xml");
    std::fs::write(&path, feed()).expect("feed");
    let config = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\n\
         timezone = \"UTC\"\njitter = \"0s\"\n[fetch]\ntimeout = \"2s\"\nconnect_timeout = \"1s\"\n\
         [http]\nenabled = false\n[[feeds]]\nname = \"news\"\nurl = \"{}\"\nbackfill = 10\n",
        path.display()
    );
    std::fs::write(dir.path().join("kkachi.toml"), config).expect("config");
    let rules = format!("[[rules]]\nname = \"deepseek\"\nquery = '딥시크'\nchats = [{chat}]\n");
    std::fs::write(dir.path().join("rules.toml"), rules).expect("rules");
    Daemon::in_dir(dir)
}

fn daily(due: DateTime<Utc>) -> String {
    format!(
        "{{ id = 1, delivery = \"daily {:02}:{:02}\" }}",
        due.hour(),
        due.minute()
    )
}

fn to_chat_1(reqs: &[Request]) -> Vec<Request> {
    reqs.iter()
        .filter(|r| r.chat() == Some(1) && r.method == "sendmessage" && r.accepted)
        .cloned()
        .collect()
}

fn wait_sent(fake: &FakeTelegram, n: usize, limit: Duration) -> bool {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(fake.wait_for(limit, |r| to_chat_1(r).len() >= n))
}

/// What any correct digest renderer keeps: every title, in one message, links without preview.
fn assert_one_digest(reqs: &[Request], log: &str) {
    let sent = to_chat_1(reqs);
    assert_eq!(sent.len(), 1, "one message: {sent:#?}\n{log}");
    let text = sent[0].text();
    for title in TITLES {
        assert!(text.contains(title), "{title:?} missing in {text}");
    }
    assert!(text.contains('3'), "the header counts 3 stories: {text}");
    assert_eq!(
        sent[0].body["link_preview_options"]["is_disabled"].as_bool(),
        Some(true),
        "{:?}",
        sent[0].body
    );
}

#[test]
fn a_daily_digest_collects_three_stories_and_sends_one_message_at_the_due_time() {
    let fake = FakeTelegram::start();
    let due = next_minute();
    let due_at = instant_of(due);
    let mut d = daemon(&daily(due));
    d.spawn_with_telegram(&fake, &[]);
    d.wait_log("polled feed=news", 1);
    assert!(
        to_chat_1(&fake.requests()).is_empty(),
        "nothing is sent before the due time:\n{}",
        d.log()
    );
    assert!(
        wait_sent(&fake, 1, DUE_WAIT),
        "no digest by {due}:\n{}",
        d.log()
    );
    d.terminate();
    let reqs = fake.requests();
    assert_one_digest(&reqs, &d.log());
    assert!(
        to_chat_1(&reqs)[0].at + Duration::from_millis(50) >= due_at,
        "sent before its due time {due}"
    );
    assert!(d.log().contains("digest queued"), "{}", d.log());
    let store = d.store();
    assert_eq!((store.pending_len(), store.outbox_len()), (0, 0));
}

/// The stories are collected by a `--once` run; the digest's due time passes while nothing
/// runs; the next start sends it at once, and a later start never again.
fn collected_then_due(d: &mut Daemon, fake: &FakeTelegram, due: DateTime<Utc>) {
    d.spawn_with_telegram(fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    assert!(to_chat_1(&fake.requests()).is_empty(), "{}", d.log());
    assert_eq!(d.store().pending_len(), 3, "{}", d.log());
    // The daemon is stopped; the due time passes (waiting on the clock itself).
    while Utc::now() < due {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_restart_after_the_due_time_sends_the_digest_once_promptly() {
    let fake = FakeTelegram::start();
    let due = next_minute();
    let mut d = daemon(&daily(due));
    collected_then_due(&mut d, &fake, due);
    let started = Instant::now();
    d.spawn_with_telegram(&fake, &[]);
    assert!(
        wait_sent(&fake, 1, WAIT),
        "no digest after the restart:\n{}",
        d.log()
    );
    assert!(started.elapsed() < WAIT);
    d.terminate();
    // A third start (and its cycle) sends nothing more.
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    assert_one_digest(&fake.requests(), &d.logs());
    let store = d.store();
    assert_eq!((store.pending_len(), store.outbox_len()), (0, 0));
}

#[test]
fn sigkill_during_the_digest_send_gives_exactly_one_digest_after_the_restart() {
    let fake = FakeTelegram::start();
    let due = next_minute();
    let mut d = daemon(&daily(due));
    collected_then_due(&mut d, &fake, due);
    // The digest's request reaches Telegram, and its answer never comes: killed meanwhile.
    fake.fault(Some(1), Fault::Stall(Duration::from_secs(60)));
    d.spawn_with_telegram(&fake, &[]);
    assert!(
        wait_sent(&fake, 1, WAIT),
        "the digest never left:\n{}",
        d.log()
    );
    d.kill();
    // Telegram is well again (a fresh fake: an empty request log). The outcome is unknown:
    // the digest is sent once more, and only once.
    let fake2 = FakeTelegram::start();
    d.spawn_with_telegram(&fake2, &[]);
    assert!(
        wait_sent(&fake2, 1, WAIT),
        "no digest after the restart:\n{}",
        d.log()
    );
    d.wait_log("outcome unknown; resending once", 1);
    d.terminate();
    d.spawn_with_telegram(&fake2, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    assert_one_digest(&fake2.requests(), &d.logs());
    let store = d.store();
    assert_eq!((store.pending_len(), store.outbox_len()), (0, 0));
}

#[test]
fn quiet_hours_hold_instant_alerts_and_release_one_catch_up() {
    let fake = FakeTelegram::start();
    let end = next_minute();
    let end_at = instant_of(end);
    let mut d = daemon("1");
    {
        // Until /settings exists, the chat's quiet hours are set through the store.
        let store = d.store();
        let from = end - chrono::Duration::hours(2);
        let prefs = kkachi::store::outbox::ChatPrefs {
            tz: Some("Asia/Seoul".into()),
            quiet: Some(kkachi::digest::schedule::Quiet {
                from: from.with_timezone(&chrono_tz::Asia::Seoul).time(),
                to: end.with_timezone(&chrono_tz::Asia::Seoul).time(),
                mode: kkachi::digest::schedule::QuietMode::Hold,
            }),
        };
        store.set_chat_prefs(1, &prefs).expect("prefs");
        store.flush().expect("flush");
    }
    d.spawn_with_telegram(&fake, &[]);
    d.wait_log("polled feed=news", 1);
    assert!(to_chat_1(&fake.requests()).is_empty(), "held:\n{}", d.log());
    assert!(
        wait_sent(&fake, 1, DUE_WAIT),
        "no catch-up by {end}:\n{}",
        d.log()
    );
    d.terminate();
    let reqs = fake.requests();
    assert_one_digest(&reqs, &d.log());
    assert!(to_chat_1(&reqs)[0].at + Duration::from_millis(50) >= end_at);
    assert!(d.log().contains("kind=CatchUp"), "{}", d.log());
}

#[test]
fn the_console_prints_a_static_routes_digest_at_its_due_time_as_one_json_line() {
    let due = next_minute();
    let mut d = daemon(&daily(due));
    d.spawn(&["--format", "json"], &[]);
    d.wait_log("polled feed=news", 1);
    let deadline = Instant::now() + DUE_WAIT;
    let digest = loop {
        let out = d.stdout();
        if let Some(line) = out.lines().find(|l| l.contains("\"kind\":\"digest\"")) {
            break line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no digest line by {due}:\n{out}\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(Utc::now() >= due, "printed before {due}");
    d.terminate();
    let v: serde_json::Value = serde_json::from_str(&digest).expect("one JSON line");
    assert_eq!(v["kind"], "digest");
    let text = v.to_string();
    for title in TITLES {
        assert!(text.contains(title), "{title:?} missing in {text}");
    }
    // The alerts themselves were printed when they were found, as always.
    let alerts = d
        .stdout()
        .lines()
        .filter(|l| l.starts_with("{\"rule\":\"deepseek\""))
        .count();
    assert_eq!(alerts, 3, "{}", d.stdout());
    assert_eq!(d.store().pending_len(), 0);
}

#[test]
fn quiet_hours_in_mode_silent_send_at_once_without_a_sound() {
    let fake = FakeTelegram::start();
    let mut d = daemon("1");
    {
        let store = d.store();
        let now = Utc::now();
        let prefs = kkachi::store::outbox::ChatPrefs {
            tz: None,
            quiet: Some(kkachi::digest::schedule::Quiet {
                from: (now - chrono::Duration::hours(1)).time(),
                to: (now + chrono::Duration::hours(1)).time(),
                mode: kkachi::digest::schedule::QuietMode::Silent,
            }),
        };
        store.set_chat_prefs(1, &prefs).expect("prefs");
        store.flush().expect("flush");
    }
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let sent = to_chat_1(&fake.requests());
    assert_eq!(sent.len(), 3, "three alerts, sent now: {sent:#?}");
    for r in &sent {
        assert_eq!(
            r.body["disable_notification"].as_bool(),
            Some(true),
            "{:?}",
            r.body
        );
        assert!(r.body.get("link_preview_options").is_none(), "{:?}", r.body);
    }
    assert_eq!(d.store().pending_len(), 0);
}
