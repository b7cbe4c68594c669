//! What the service features of issue 6 cost: a reload (`config::load`: read, validate, compile
//! the rules), a `/metrics` scrape (`Metrics::render` with the store's gauges) and a `/healthz`
//! (`Store::health_check`: a sled heartbeat flushed, a probe file written, fsynced, removed).
//!
//! Run with `cargo bench --bench service` (release). Without `--bench` it exits at once, so
//! `cargo test --all-targets` / `clippy --all-targets` stay cheap. Deterministic inputs (fixed
//! seed), one thread, temporary directories only. Prints Markdown tables for BENCHMARKS.md.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use kkachi::metrics::Metrics;
use kkachi::store::{FeedState, OutboxEntry, Store};

// ---- workload: the rules of benches/rules.rs (same generator, same mix) -------------------------

#[path = "common/workload.rs"]
mod workload;
use workload::{Rng, entities, rules};

/// A rules file of `n` watch rules in the default mix of benches/rules.rs (entity alone, with
/// context, OR/NOT, phrase, NEAR, title:, wildcards, whole word, feed:; 8% famous companies),
/// every fourth with a description, plus two alias groups on top of the built-in ones.
fn rules_file(n: usize, pool: &[String]) -> String {
    let mut out = String::from(
        "builtin_aliases = true\n\n[aliases]\nhbm = [\"HBM\", \"고대역폭메모리\", \"고대역폭 메모리\"]\n\
         ev = [\"전기차\", \"electric vehicle\", \"EV\"]\n\n",
    );
    for (i, (_, q)) in rules(n, pool, 80).into_iter().enumerate() {
        let _ = write!(out, "[[rules]]\nname = \"watch-{i}\"\nquery = '{q}'\n");
        if i % 4 == 0 {
            let _ = writeln!(out, "description = \"generated watch rule {i}\"");
        }
        out.push('\n');
    }
    out
}

const FEEDS: &[(&str, &str)] = &[
    ("yna", "https://www.yna.co.kr/rss/news.xml"),
    ("donga", "https://rss.donga.com/total.xml"),
    ("hani", "https://www.hani.co.kr/rss/"),
    ("khan", "https://www.khan.co.kr/rss/rssdata/total_news.xml"),
    ("mk", "https://www.mk.co.kr/rss/30000001/"),
    ("etnews", "https://rss.etnews.com/Section901.xml"),
    ("zdnet-kr", "https://zdnet.co.kr/rss/all.xml"),
    ("techcrunch", "https://techcrunch.com/feed/"),
    ("verge", "https://www.theverge.com/rss/index.xml"),
    (
        "reuters-tech",
        "https://www.reutersagency.com/feed/?best-topics=tech",
    ),
];

fn config_file() -> String {
    let mut s = String::from(
        "rules = \"rules.toml\"\n\n[store]\npath = \"store\"\nretention_days = 30\n\n\
         [schedule]\ncron = \"*/10 * * * *\"\ntimezone = \"Asia/Seoul\"\njitter = \"30s\"\n\n\
         [fetch]\ntimeout = \"20s\"\nconcurrency = 32\nper_host_concurrency = 2\n\n\
         [summary]\nmax_chars = 280\n\n[http]\nlisten = \"127.0.0.1:9464\"\n\n\
         [health]\nfeed_down_after = \"6h\"\n",
    );
    for (i, (name, url)) in FEEDS.iter().enumerate() {
        let _ = write!(s, "\n[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n");
        if i == 0 {
            s.push_str("cron = \"*/5 * * * *\"\n");
        }
    }
    s
}

// ---- measurement ------------------------------------------------------------------------------

/// Sorted durations of `runs` calls of `f` (after one untimed warm-up call).
fn timed(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    f();
    let mut out: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    out.sort();
    out
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v >= 10.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn open_store(dir: &Path) -> Store {
    match Store::open(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot open a store in {}: {e}", dir.display());
            std::process::exit(1);
        }
    }
}

// ---- 1. reload ----------------------------------------------------------------------------------

fn reload(pool: &[String]) {
    println!("### Reload: `config::load` (10 feeds)");
    println!();
    println!("| rules | rules file | warnings | runs | median | max |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for (n, runs) in [(100, 100), (1_000, 50), (10_000, 20)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules = rules_file(n, pool);
        std::fs::write(dir.path().join("rules.toml"), &rules).expect("rules file");
        std::fs::write(dir.path().join("kkachi.toml"), config_file()).expect("config file");
        let path = dir.path().join("kkachi.toml");
        let loaded = match kkachi::config::load(&path) {
            Ok(l) => l,
            Err(diags) => {
                eprintln!("generated config does not load:");
                for d in diags.iter().take(5) {
                    eprintln!("  {d}");
                }
                std::process::exit(1);
            }
        };
        assert_eq!(loaded.rules.rules().len(), n, "every rule loaded");
        assert_eq!(loaded.config.feeds.len(), FEEDS.len(), "every feed loaded");
        let warnings = loaded.warnings.len();
        drop(loaded);
        let times = timed(runs, || {
            black_box(kkachi::config::load(black_box(&path)).is_ok());
        });
        println!(
            "| {} | {:.0} KiB | {warnings} | {runs} | {} | {} |",
            thousands(n),
            rules.len() as f64 / 1024.0,
            ms(pct(&times, 50.0)),
            ms(times[times.len() - 1]),
        );
    }
    println!();
}

// ---- 2. /metrics --------------------------------------------------------------------------------

const METRIC_FEEDS: usize = 1_000;
const METRIC_RULES: usize = 10_000;

/// Records what a day of polls would leave behind: every feed polled (and mostly not modified),
/// some failing, stories new and duplicate, and every rule matched at least once.
fn record(m: &Metrics, feeds: &[String], rules: &[String]) {
    let mut rng = Rng(5);
    let per_feed = rules.len().div_ceil(feeds.len());
    for (i, feed) in feeds.iter().enumerate() {
        for _ in 0..24 {
            m.poll(
                feed,
                "polled",
                Duration::from_millis(50 + rng.below(900) as u64),
            );
            m.poll(
                feed,
                "not_modified",
                Duration::from_millis(30 + rng.below(200) as u64),
            );
            m.fetched(feed, 20_000 + rng.below(200_000));
        }
        if i % 10 == 0 {
            let kind = *rng.pick(&["timeout", "http_5xx", "http_429", "connect", "parse"]);
            m.poll(feed, "failed", Duration::from_secs(20));
            m.poll_error(feed, kind);
            m.poll(feed, "skipped", Duration::ZERO);
        }
        let matched = rules[(i * per_feed).min(rules.len())..((i + 1) * per_feed).min(rules.len())]
            .iter()
            .map(String::as_str);
        m.admitted(feed, 480, 40 + rng.below(40), matched, 3);
    }
    for _ in 0..2_000 {
        m.alert_sent(Duration::from_millis(200 + rng.below(5_000) as u64));
    }
    m.alerts_failed("rejected", 2);
    m.alerts_failed("chat_gone", 1);
    m.telegram_429();
}

fn scrape() {
    println!(
        "### `/metrics`: `Metrics::render` ({} feeds with state in the store, {} rules)",
        thousands(METRIC_FEEDS),
        thousands(METRIC_RULES)
    );
    println!();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(dir.path());
    let now = Utc::now();
    let feeds: Vec<String> = (0..METRIC_FEEDS).map(|i| format!("feed-{i:04}")).collect();
    let rules: Vec<String> = (0..METRIC_RULES).map(|i| format!("watch-{i}")).collect();
    for (i, feed) in feeds.iter().enumerate() {
        let failing = i % 10 == 0;
        let state = FeedState {
            initialized: true,
            etag: Some(format!("\"{i:08x}-5f3a\"")),
            last_modified: Some("Fri, 27 Nov 2026 09:00:00 GMT".to_string()),
            failures: u32::from(failing),
            retry_at: failing.then(|| now + chrono::Duration::minutes(30)),
            last_success: Some(now),
            last_error: failing.then(|| "timed out after 20s".to_string()),
            last_error_at: failing.then_some(now),
            failing_since: failing.then_some(now),
            down_notified: false,
        };
        store.set_feed_state(feed, &state).expect("feed state");
    }
    let m = Metrics::new();
    record(&m, &feeds, &rules);
    let text = m.render(&store);
    let samples = text.lines().filter(|l| !l.starts_with('#')).count();
    let in_backoff = text
        .lines()
        .find_map(|l| l.strip_prefix("kkachi_feeds_in_backoff "))
        .unwrap_or("?")
        .to_string();
    assert_eq!(
        in_backoff,
        (METRIC_FEEDS / 10).to_string(),
        "feeds in backoff"
    );

    println!("| outbox | what | runs | median | max | output |");
    println!("|---:|---|---:|---:|---:|---:|");
    let mut queued = 0;
    for backlog in [0usize, 10_000] {
        if backlog > queued {
            let notices: Vec<OutboxEntry> = (queued..backlog)
                .map(|i| {
                    OutboxEntry::notice(
                        (i % 200) as i64,
                        "⚠️ feed yna has failed for 6 h: timed out after 20s",
                        now,
                    )
                })
                .collect();
            store.enqueue(&notices).expect("enqueue");
            queued = backlog;
        }
        let runs = 50;
        let mut bytes = 0;
        let times = timed(runs, || bytes = black_box(m.render(&store)).len());
        println!(
            "| {} | `render` (store gauges + encode) | {runs} | {} | {} | {} B ({} samples) |",
            thousands(backlog),
            ms(pct(&times, 50.0)),
            ms(times[times.len() - 1]),
            thousands(bytes),
            thousands(samples),
        );
        let times = timed(runs, || {
            black_box(store.outbox_len());
            black_box(store.feed_states().map(|s| s.len()).ok());
        });
        println!(
            "| {} | of which the store: `outbox_len` + `feed_states` | {runs} | {} | {} | |",
            thousands(backlog),
            ms(pct(&times, 50.0)),
            ms(times[times.len() - 1]),
        );
    }
    println!();
}

// ---- 3. /healthz --------------------------------------------------------------------------------

fn health() {
    println!("### `/healthz`: `Store::health_check` (temporary store on the machine's disk)");
    println!();
    println!("| store | runs | median | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(dir.path());
    let runs = 200;
    let check = |store: &Store| {
        if let Err(e) = store.health_check() {
            eprintln!("health check failed: {e}");
            std::process::exit(1);
        }
    };
    let times = timed(runs, || check(&store));
    println!(
        "| empty, back to back | {runs} | {} | {} | {} |",
        ms(pct(&times, 50.0)),
        ms(pct(&times, 99.0)),
        ms(times[times.len() - 1]),
    );
    // With something for sled to flush: 1,000 feed states rewritten before every check (about
    // what a 1,000-feed poll cycle leaves dirty), only the check timed.
    let state = FeedState {
        initialized: true,
        etag: Some("\"5f3a\"".to_string()),
        last_success: Some(Utc::now()),
        ..FeedState::default()
    };
    let mut times: Vec<Duration> = (0..runs)
        .map(|round| {
            for f in 0..1_000 {
                let state = FeedState {
                    failures: (round % 3) as u32,
                    ..state.clone()
                };
                store
                    .set_feed_state(&format!("feed-{f:04}"), &state)
                    .expect("feed state");
            }
            let t = Instant::now();
            check(&store);
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "| 1,000 feed states rewritten before each check | {runs} | {} | {} | {} |",
        ms(pct(&times, 50.0)),
        ms(pct(&times, 99.0)),
        ms(times[times.len() - 1]),
    );
    println!();
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let total = Instant::now();
    let pool = entities(20_000);
    reload(&pool);
    scrape();
    health();
    println!("total bench time: {:.0} s", total.elapsed().as_secs_f64());
}
