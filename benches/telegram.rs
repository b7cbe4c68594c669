//! Telegram delivery against the fake Bot API on 127.0.0.1 (real teloxide, real limits):
//! throughput as a fraction of Telegram's 30 msg/s ceiling with many chats, and the outbox's
//! cost per alert (queueing in the admit transaction, and the sender's bookkeeping).
//!
//! Run: `cargo bench --bench telegram`. Loopback only, bounded: 600 messages to 200 chats
//! (~20 s at 30/s) with the fake answering after 0, 150 and 300 ms, then the sender's own
//! cost with 10,000 entries queued, then 5,000 stories queued into a temporary store.

#[path = "../tests/it/fake_telegram.rs"]
#[allow(dead_code)]
mod fake_telegram;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use kkachi::deliver::{Alert, RuleHit};
use kkachi::store::Store;
use kkachi::store::outbox::OutboxEntry;
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
    OutboxEntry::alert(chat, &key, Alert::new(&s, hits), Utc::now())
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
    // `KKACHI_BENCH_CAP`: stop each delivery run after this many seconds (the old sender needs
    // minutes at 300 ms); `KKACHI_BENCH_COST`: how many of the 10,000 queued to deliver.
    let cap = std::env::var("KKACHI_BENCH_CAP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    // `KKACHI_BENCH_ONLY=cost`: only the sender's cost (for a profiler).
    let only_cost = std::env::var("KKACHI_BENCH_ONLY").is_ok_and(|v| v == "cost");
    for delay in [0, 150, 300].into_iter().filter(|_| !only_cost) {
        rt.block_on(throughput(
            Duration::from_millis(delay),
            Duration::from_secs(cap),
        ));
    }
    let cost_n = std::env::var("KKACHI_BENCH_COST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    rt.block_on(sender_cost(cost_n));
    if !only_cost {
        queue_cost();
    }
}

fn settings(limits: Limits) -> Settings {
    let mut s = Settings::new(&Default::default(), chrono_tz::Asia::Seoul);
    s.limits = limits;
    s.backoff_min = Duration::from_millis(50);
    s.backoff_max = Duration::from_millis(200);
    s.rescan = Duration::from_millis(50);
    s
}

const REAL: Limits = Limits {
    per_chat_per_sec: 1,
    per_group_per_min: 20,
    global_per_sec: 30,
};

/// Runs a sender over `store` until the outbox is empty or `cap` passed; returns the elapsed
/// time.
async fn drain(
    fake: &fake_telegram::FakeTelegram,
    store: &Arc<Store>,
    settings: Settings,
    cap: Duration,
) -> Duration {
    let sender = Sender::new(fake.bot(Duration::from_secs(5)), store.clone(), settings);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(sender.run(async {
        let _ = rx.await;
    }));
    let deadline = Instant::now() + cap;
    while store.outbox_len() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    took
}

async fn throughput(delay: Duration, cap: Duration) {
    let fake = fake_telegram::FakeTelegram::start();
    fake.set_delay(delay);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    // Private chats only: the 20/min group limit would dominate otherwise.
    let entries: Vec<OutboxEntry> = (0..PER_CHAT)
        .flat_map(|round| (1..=CHATS).map(move |c| alert(c, round * 1000 + c as usize)))
        .collect();
    let total = entries.len();
    store.enqueue(&entries).expect("enqueue");
    let took = drain(&fake, &store, settings(REAL), cap).await;
    let mut delivered = fake.delivered();
    delivered.sort_by_key(|r| r.at);
    let (Some(first), Some(last)) = (delivered.first(), delivered.last()) else {
        println!(
            "delivery, {} ms answers: nothing delivered",
            delay.as_millis()
        );
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
        "delivery, {} ms answers: {} of {total} messages to {CHATS} chats in {:.2} s \
         (sender start to empty outbox or cap): {:.1} msg/s; first to last {span:.2} s; \
         busiest 1-s window {busiest}; {:.1}% of the 30 msg/s ceiling",
        delay.as_millis(),
        delivered.len(),
        took.as_secs_f64(),
        delivered.len() as f64 / took.as_secs_f64(),
        efficiency * 100.0
    );
}

/// `VmRSS` / `VmHWM` of this process, in MB.
fn vm(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system) of this process so far.
fn cpu() -> Duration {
    // SAFETY: getrusage fills the struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
    t(u.ru_utime) + t(u.ru_stime)
}

/// CPU time (user + system) of this process's live threads, without those named `exclude`.
fn threads_cpu(exclude: &str) -> Duration {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut ticks = 0u64;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    for task in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ...": utime and stime are fields 14 and 15.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] == exclude {
            continue;
        }
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ticks += field(11) + field(12);
    }
    Duration::from_secs_f64(ticks as f64 / hz)
}

/// The sender's own cost with 10,000 entries queued (to 1,000 chats), the limits lifted and
/// a 0 ms fake: process CPU time per delivered message (this includes the fake server and
/// the HTTP client on both sides, so it over-states the sender's share), and peak RSS while
/// draining against the idle RSS with the queue in the store.
async fn sender_cost(deliver: usize) {
    const QUEUED: usize = 10_000;
    let fake = fake_telegram::FakeTelegram::start();
    fake.forget_bodies();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    let entries: Vec<OutboxEntry> = (0..QUEUED)
        .map(|n| alert(1 + (n % 1000) as i64, 50_000 + n))
        .collect();
    store.enqueue(&entries).expect("enqueue");
    drop(entries);
    store.flush().expect("flush");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let idle = vm("VmRSS:");
    let lifted = Limits {
        per_chat_per_sec: 1000,
        per_group_per_min: 100_000,
        global_per_sec: 100_000,
    };
    let mut s = settings(lifted);
    s.max_in_flight = 16;
    let cpu0 = cpu();
    let own0 = threads_cpu(fake_telegram::FAKE_THREADS);
    let goal = QUEUED - deliver.min(QUEUED);
    let sender = Sender::new(fake.bot(Duration::from_secs(5)), store.clone(), s);
    let delivered = sender.delivered();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(sender.run(async {
        let _ = rx.await;
    }));
    // The sender's counter, not `outbox_len` (sled counts a tree by walking it: O(queue)).
    let want = (QUEUED - goal) as u64;
    while delivered.load(std::sync::atomic::Ordering::Relaxed) < want
        && started.elapsed() < Duration::from_secs(300)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    let used = cpu() - cpu0;
    let own = threads_cpu(fake_telegram::FAKE_THREADS).saturating_sub(own0);
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    let n = QUEUED - store.outbox_len();
    println!(
        "sender cost, {QUEUED} queued to 1,000 chats, {n} delivered in {:.2} s: \
         {:.3} ms CPU per message for the whole process (sender + fake + HTTP both ways), \
         {:.3} ms without the fake's threads (sender, its HTTP client, sled); \
         RSS idle {idle:.1} MB, peak while draining {:.1} MB (+{:.1} MB)",
        took.as_secs_f64(),
        used.as_secs_f64() * 1e3 / n.max(1) as f64,
        own.as_secs_f64() * 1e3 / n.max(1) as f64,
        vm("VmHWM:"),
        vm("VmHWM:") - idle
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
                vec![OutboxEntry::alert(42, &key, Alert::new(s, hits), now)]
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
