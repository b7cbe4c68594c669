//! Telegram delivery against the fake Bot API on 127.0.0.1 (real teloxide, real limits):
//! throughput as a fraction of Telegram's 30 msg/s ceiling with many chats, and the outbox's
//! cost per alert (queueing in the admit transaction, and the sender's bookkeeping).
//!
//! Run: `cargo bench --bench telegram`. Loopback only, bounded: 600 messages to 200 chats
//! (~20 s at 30/s), then 5,000 stories queued into a temporary store.

#[path = "../tests/it/fake_telegram.rs"]
#[allow(dead_code)]
mod fake_telegram;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use kkachi::store::Store;
use kkachi::store::outbox::{AlertRecord, OutboxEntry, RuleHit};
use kkachi::story::Story;
use kkachi::telegram::send::{Limits, Sender, Settings};

const CHATS: i64 = 200;
const PER_CHAT: usize = 3;

fn story(n: usize) -> Story {
    Story {
        id: format!("id-{n}"),
        feed: "yna".into(),
        title: format!("삼성전자, HBM 공급 계약 체결 {n}"),
        url: format!("https://www.yna.co.kr/view/{n}"),
        published: None,
        summary: "삼성전자가 엔비디아에 고대역폭메모리를 공급하는 계약을 체결했다. 업계는 반도체 업황 회복의 신호로 본다."
            .into(),
        authors: vec![],
        categories: vec![],
        content: None,
    }
}

fn alert(chat: i64, n: usize) -> OutboxEntry {
    let s = story(n);
    let key = kkachi::story::dedup_keys(&s).guid;
    let hits = vec![RuleHit {
        rule: "ai-chips".into(),
        matched: vec!["Samsung".into(), "HBM".into()],
    }];
    OutboxEntry::alert(chat, &key, AlertRecord::new(&s, hits), Utc::now())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(throughput());
    queue_cost();
}

async fn throughput() {
    let fake = fake_telegram::FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    // Private chats only: the 20/min group limit would dominate otherwise.
    let entries: Vec<OutboxEntry> = (0..PER_CHAT)
        .flat_map(|round| (1..=CHATS).map(move |c| alert(c, round * 1000 + c as usize)))
        .collect();
    let total = entries.len();
    store.enqueue(&entries).expect("enqueue");
    let settings = Settings {
        limits: Limits {
            per_chat_per_sec: 1,
            per_group_per_min: 20,
            global_per_sec: 30,
        },
        timezone: chrono_tz::Asia::Seoul,
        admins: vec![],
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        rescan: Duration::from_millis(50),
    };
    let sender = Sender::new(fake.bot(Duration::from_secs(5)), store.clone(), settings);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(sender.run(async {
        let _ = rx.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(120);
    while store.outbox_len() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    let delivered = fake.delivered();
    let (Some(first), Some(last)) = (delivered.first(), delivered.last()) else {
        println!("nothing delivered");
        return;
    };
    // n messages under a limit of 30 in any 1-s window need at least (n / 30) windows: the
    // first message opens the first window and the last one closes the last, so the time the
    // limit allows for them is (last - first) + 1 s. Efficiency = n / (30 × that).
    let span = last.at.duration_since(first.at).as_secs_f64();
    let efficiency = delivered.len() as f64 / (30.0 * (span + 1.0));
    let busiest = delivered
        .iter()
        .enumerate()
        .map(|(i, r)| {
            delivered[i..]
                .iter()
                .take_while(|s| s.at.duration_since(r.at) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    println!(
        "delivery: {} of {total} messages to {CHATS} chats, first to last {span:.2} s \
         (sender start to empty outbox {:.2} s); busiest 1-s window {busiest}; \
         {:.1}% of the 30 msg/s ceiling",
        delivered.len(),
        started.elapsed().as_secs_f64(),
        efficiency * 100.0
    );
}

/// The outbox's cost per alert: stories admitted with one alert queued each, in the same
/// transaction, against admitting them with nothing to queue.
fn queue_cost() {
    const N: usize = 5_000;
    let stories: Vec<Story> = (0..N).map(|n| story(100_000 + n)).collect();
    for (label, queue) in [("admit only", false), ("admit + queue 1 alert", true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let now = Utc::now();
        let started = Instant::now();
        for chunk in stories.chunks(50) {
            let route = |i: usize| -> Vec<OutboxEntry> {
                if !queue {
                    return Vec::new();
                }
                let s = &chunk[i];
                let key = kkachi::story::dedup_keys(s).guid;
                let hits = vec![RuleHit {
                    rule: "ai-chips".into(),
                    matched: vec!["HBM".into()],
                }];
                vec![OutboxEntry::alert(42, &key, AlertRecord::new(s, hits), now)]
            };
            store.admit_and_enqueue(chunk, now, route).expect("admit");
        }
        let per = started.elapsed().as_secs_f64() / N as f64 * 1e6;
        println!(
            "{label}: {per:.1} µs per story ({N} stories in polls of 50), outbox {}",
            store.outbox_len()
        );
    }
}
