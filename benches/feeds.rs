//! Feed throughput: decode + parse + normalise (`feed::parse_feed`) and dedup keys
//! (`story::dedup_keys`) over every fixture feed, in stories/s and MB/s.
//!
//! Run: `cargo bench --bench feeds` (release). Does nothing unless `--bench` is among the
//! arguments, so `cargo clippy --all-targets` / `cargo test --all-targets` stay fast.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kkachi::feed::parse_feed;
use kkachi::story::{Story, dedup_keys};

#[path = "common/fixtures.rs"]
mod fixtures;

/// The real feeds and the tiny EUC-KR one.
const FIXTURES: [(&str, &[u8]); 9] = [
    fixtures::REAL[0],
    fixtures::REAL[1],
    fixtures::REAL[2],
    fixtures::REAL[3],
    fixtures::REAL[4],
    fixtures::EUC_KR_TINY,
    fixtures::REAL[5],
    fixtures::REAL[6],
    fixtures::REAL[7],
];

const TZ: chrono_tz::Tz = chrono_tz::Asia::Seoul;

/// Per-story work after parsing. Today: the dedup keys. The store step (sled insert of the
/// keys) belongs here too when it is benchmarked.
fn per_story(story: &Story) -> usize {
    dedup_keys(story).all().count()
}

/// One pass over one feed body: parse, then the per-story work. Returns the story count.
fn one_feed(name: &str, body: &[u8]) -> usize {
    let stories = match parse_feed(name, body, None, TZ) {
        Ok(stories) => stories,
        Err(e) => panic!("{name}: {e}"),
    };
    let keys: usize = stories.iter().map(per_story).sum();
    black_box(keys);
    stories.len()
}

struct Measured {
    stories: usize,
    bytes: usize,
    elapsed: Duration,
}

impl Measured {
    fn stories_per_sec(&self) -> f64 {
        self.stories as f64 / self.elapsed.as_secs_f64()
    }
    fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }
}

/// Runs `f` over `feeds` until at least `min` has passed (after one warm-up pass).
fn measure(feeds: &[(&str, &[u8])], min: Duration, f: impl Fn(&str, &[u8]) -> usize) -> Measured {
    for (name, body) in feeds {
        f(name, body);
    }
    let mut m = Measured {
        stories: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
    };
    let started = Instant::now();
    while started.elapsed() < min {
        for (name, body) in feeds {
            m.stories += f(name, black_box(body));
            m.bytes += body.len();
        }
    }
    m.elapsed = started.elapsed();
    m
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let per_feed = Duration::from_secs(2);
    println!(
        "{:<36} {:>8} {:>9} {:>12} {:>8}",
        "feed", "stories", "bytes", "stories/s", "MB/s"
    );
    for (name, body) in FIXTURES {
        let m = measure(&[(name, body)], per_feed, one_feed);
        let per_pass = m.stories * body.len() / m.bytes.max(1);
        println!(
            "{name:<36} {per_pass:>8} {:>9} {:>12.0} {:>8.1}",
            body.len(),
            m.stories_per_sec(),
            m.mb_per_sec()
        );
    }
    let all = measure(&FIXTURES, Duration::from_secs(10), one_feed);
    println!(
        "{:<36} {:>8} {:>9} {:>12.0} {:>8.1}",
        "all fixtures (parse + dedup keys)",
        all.stories,
        all.bytes,
        all.stories_per_sec(),
        all.mb_per_sec()
    );
    // The keys alone, on already-parsed stories.
    let stories: Vec<Story> = FIXTURES
        .iter()
        .flat_map(|(name, body)| parse_feed(name, body, None, TZ).unwrap_or_default())
        .collect();
    let (started, mut n, mut keys) = (Instant::now(), 0usize, 0usize);
    while started.elapsed() < Duration::from_secs(2) {
        for s in &stories {
            keys += per_story(black_box(s));
        }
        n += stories.len();
    }
    let per_sec = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "{:<36} {n:>8} {:>9} {per_sec:>12.0}   ({:.2} keys/story)",
        "dedup_keys alone",
        "-",
        keys as f64 / n as f64
    );
    store_pass();
}

/// The whole path the pipeline takes per poll: parse, then `Store::admit` (SHA-256 keys looked
/// up and written in one sled transaction, new stories kept as JSON) on a temporary store.
/// "new feeds": every pass under fresh feed names, so the feed-scoped keys (GUID, title) are
/// inserted while the global URL key is a hit after the first pass (so few records are kept);
/// "seen": the same bodies again, so every key is a lookup hit.
fn store_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = kkachi::store::Store::open(dir.path()).expect("store");
    let now = chrono::Utc::now();
    for label in ["new feeds", "seen"] {
        let (started, mut n, mut bytes, mut pass) = (Instant::now(), 0usize, 0usize, 0usize);
        while started.elapsed() < Duration::from_secs(5) {
            for (name, body) in FIXTURES {
                let feed = if label == "new feeds" {
                    format!("{name}#{pass}")
                } else {
                    name.to_string()
                };
                let stories = parse_feed(&feed, body, None, TZ).unwrap_or_default();
                let fresh = store.admit(&stories, now).expect("admit");
                black_box(fresh);
                n += stories.len();
                bytes += body.len();
            }
            pass += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<36} {n:>8} {bytes:>9} {:>12.0} {:>8.1}",
            format!("parse + store.admit ({label})"),
            n as f64 / secs,
            bytes as f64 / secs / 1e6
        );
    }
    println!(
        "store after the run: {} seen keys, {} stories",
        store.seen_len(),
        store.stories_len()
    );
}
