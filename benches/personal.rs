//! Personal rules at 100,000 rules (issue 16): what a `/watch` costs on the bot's path, and
//! what the compiler's rebuild of the whole personal set costs off it.
//!
//! Run: `cargo bench --locked --bench personal` (release). Does nothing unless `--bench` is
//! among the arguments, so `cargo test --all-targets` stays cheap. `KKACHI_BENCH_RULES=N`
//! changes the rule count (default 100,000 = 5,000 chats × 20), `KKACHI_BENCH_STORIES=N` the
//! stored stories (default 20,000: the real stories of `tests/data/feeds`, cycled over feeds
//! so each is its own story, all first seen now, so all are inside `/watch`'s 7-day preview).
//!
//! Measured, with the public functions the bot's handlers call, in the order they call them:
//! - the `/watch` answer, sent at once: `rules::personal::check_query`, `Store::personal_rules`
//!   (the chat's count and names), `RuleSet::sibling` (the one-rule set of the preview);
//! - its preview, edited into that message when ready: `Store::stories_since` over 7 days and
//!   one `Matcher` over them;
//! - the ✅ tap: `Store::add_personal_rule` (one transaction);
//! - the compiler (not on the bot's path; the next poll waits for nothing either: it matches the
//!   set in force until the new one is published): `personal::compile_stored`, its wall and
//!   CPU time, the process's RSS before and after, and the index's own heap.
//!
//! Telegram's round trips (100–300 ms from Korea) come on top of the bot's part and are not
//! simulated here: nothing in the measured path waits on the network.

use std::time::Instant;

use chrono::Utc;
use kkachi::digest::schedule::Delivery;
use kkachi::feed::parse_feed;
use kkachi::rules::RuleSet;
use kkachi::store::Store;
use kkachi::store::personal::PersonalRule;

#[path = "common/workload.rs"]
mod workload;

#[path = "common/fixtures.rs"]
mod fixtures;
use fixtures::REAL as FIXTURES;

/// Rules per chat: `[telegram] max_rules_per_chat`'s default.
const PER_CHAT: usize = 20;
/// `/watch`es timed.
const WATCHES: usize = 21;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cpu_secs() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Resident set size in MiB (from /proc/self/statm).
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n_rules = env_usize("KKACHI_BENCH_RULES", 100_000);
    let n_stories = env_usize("KKACHI_BENCH_STORIES", 20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store")).expect("store");

    // Stored stories.
    let mut real = Vec::new();
    for (name, body) in FIXTURES {
        real.extend(
            parse_feed("f", body, None, chrono_tz::Asia::Seoul)
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
    }
    let now = Utc::now();
    let stories: Vec<_> = (0..n_stories)
        .map(|i| {
            let mut s = real[i % real.len()].clone();
            s.feed = format!("feed-{}", i / real.len());
            s.url = format!("{}?copy={i}", s.url);
            s.published = None;
            s
        })
        .collect();
    let t = Instant::now();
    for chunk in stories.chunks(64) {
        store.admit(chunk, now).expect("admit");
    }
    eprintln!(
        "stored {} stories in {:.1} s",
        store.stories_len(),
        t.elapsed().as_secs_f64()
    );

    // 100,000 personal rules: 5,000 chats × 20, the rules bench's realistic queries.
    let pool = workload::entities(20_000);
    let queries = workload::rules(n_rules, &pool, 80);
    let t = Instant::now();
    let created = now;
    for (i, (_, query)) in queries.iter().enumerate() {
        let chat = 1_000_000 + (i / PER_CHAT) as i64;
        let rule = PersonalRule {
            name: format!("r{}", i % PER_CHAT),
            query: query.clone(),
            paused: false,
            created,
        };
        store
            .add_personal_rule(chat, &rule, PER_CHAT, Delivery::Instant)
            .expect("add");
    }
    store.flush().expect("flush");
    eprintln!(
        "stored {n_rules} personal rules in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let base = kkachi::rules::load(
        "builtin_aliases = true\n[[rules]]\nname = \"ai\"\nquery = \"AI\"\n",
        std::path::Path::new("rules.toml"),
    )
    .expect("rules")
    .rules;

    // The compiler's rebuild of the whole set.
    let rss_before = rss_mib();
    let (t, c) = (Instant::now(), cpu_secs());
    let set = kkachi::personal::compile_stored(&store, &base).expect("compile");
    let (wall, cpu) = (t.elapsed(), cpu_secs() - c);
    let rss_after = rss_mib();
    println!(
        "rebuild of {} personal rules: {:.2} s wall, {:.2} s CPU; RSS {rss_before:.0} → {rss_after:.0} MiB \
         (+{:.0} MiB with the set alive); index heap {:.1} MiB",
        set.len(),
        wall.as_secs_f64(),
        cpu,
        rss_after - rss_before,
        set.index_heap_bytes() as f64 / (1024.0 * 1024.0),
    );

    // `/watch` on the bot's path, with the 100,000-rule set alive beside it.
    let chat = 42;
    let mut answer = Vec::new();
    let mut message = Vec::new();
    let mut message_cpu = Vec::new();
    let mut read_cpu = Vec::new();
    let mut tap = Vec::new();
    let mut found_total = 0;
    for i in 0..WATCHES {
        // Half the rules bench's queries (mostly names absent from these stories), half queries
        // that find some.
        const FINDING: &[&str] = &[
            "삼성전자",
            "DeepSeek",
            "반도체 AND 수출",
            "\"인공지능\"",
            "Biden OR 바이든",
        ];
        let query = if i % 2 == 0 {
            queries[i * 37 % queries.len()].1.clone()
        } else {
            FINDING[i / 2 % FINDING.len()].to_string()
        };
        let query = &query;
        let (t, c) = (Instant::now(), cpu_secs());
        kkachi::rules::personal::check_query(query, 300).expect("valid");
        let existing = store.personal_rules(chat).expect("list");
        assert!(existing.len() < 1000);
        let (one, errors) = base.sibling([("q".to_string(), query.clone())]);
        assert!(errors.is_empty());
        answer.push(ms(t.elapsed()));
        let since = Utc::now() - chrono::Duration::days(7);
        let mut matcher = one.matcher();
        let r = cpu_secs();
        let stored = store.stories_since(since).expect("stories");
        read_cpu.push((cpu_secs() - r) * 1000.0);
        let found = stored
            .into_iter()
            .filter(|s| {
                !matcher
                    .match_doc(&kkachi::pipeline::doc(&s.story))
                    .is_empty()
            })
            .count();
        found_total += found;
        message.push(ms(t.elapsed()));
        message_cpu.push((cpu_secs() - c) * 1000.0);
        let t = Instant::now();
        store
            .add_personal_rule(
                chat + i as i64,
                &PersonalRule {
                    name: "w".into(),
                    query: query.clone(),
                    paused: false,
                    created,
                },
                PER_CHAT,
                Delivery::Instant,
            )
            .expect("add");
        tap.push(ms(t.elapsed()));
    }
    println!(
        "/watch answer (check, list, one-rule set; sent at once): median {:.2} ms, max {:.2} ms",
        percentile(&mut answer.clone(), 0.5),
        percentile(&mut answer, 1.0),
    );
    println!(
        "/watch answer + its preview (edited in: the 7-day preview over {n_stories} stories): median {:.1} ms \
         wall / {:.1} ms CPU (of which reading the stored stories {:.1} ms CPU), max {:.1} ms wall; \
         ✅ tap (store write): median {:.2} ms, max {:.2} ms; {:.1} preview matches per query",
        percentile(&mut message.clone(), 0.5),
        percentile(&mut message_cpu, 0.5),
        percentile(&mut read_cpu, 0.5),
        percentile(&mut message, 1.0),
        percentile(&mut tap.clone(), 0.5),
        percentile(&mut tap, 1.0),
        found_total as f64 / WATCHES as f64,
    );
    drop(set);
    let _ = RuleSet::empty();
}
