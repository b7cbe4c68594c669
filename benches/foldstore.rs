//! Folding through the store (issue 14): admitting 100,000 matched stories with folding on
//! (print, LSH query, exact check on prints read back from sled, fold records and clusters in
//! the admission transactions) against the same admission with folding off, and the start-up
//! rebuild of the fold index from `fold.v2` (open the store, `Store::set_fold`) with its RSS.
//!
//! Run: `cargo bench --locked --bench foldstore` (release; `taskset -c 1` for one core). Does
//! nothing without `--bench`. Stories: the real fixture stories of `tests/data/feeds`, their
//! sentences recombined by a fixed-seed generator so that most are not copies of each other.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::Utc;
use kkachi::feed::parse_feed;
use kkachi::store::Store;
use kkachi::store::fold::FoldSettings;
use kkachi::story::Story;

#[path = "common/workload.rs"]
mod workload;
use workload::Rng;

const N: usize = 100_000;
/// Stories per `admit_chunks` call (a poll).
const POLL: usize = 500;

fn fixtures() -> Vec<Story> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/feeds");
    let mut out = Vec::new();
    for sub in ["ko", "en"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            if let Ok(stories) = parse_feed("f", &bytes, None, chrono_tz::Asia::Seoul) {
                out.extend(
                    stories
                        .into_iter()
                        .filter(|s| s.summary.chars().count() > 40),
                );
            }
        }
    }
    out
}

/// `n` stories: each takes its title from one fixture story and its text from sentences of
/// two others, with its own number, from one of 20 feeds (hosts).
fn stories(n: usize) -> Vec<Story> {
    let base = fixtures();
    assert!(!base.is_empty(), "no fixture stories");
    let sentences: Vec<&str> = base
        .iter()
        .flat_map(|s| s.summary.split_inclusive(['.', '다']))
        .filter(|s| s.chars().count() > 8)
        .collect();
    let mut rng = Rng(0x5eed_f01d);
    (0..n)
        .map(|i| {
            let t = rng.pick(&base);
            let mut text = String::new();
            for _ in 0..4 {
                text.push_str(sentences[rng.below(sentences.len())]);
                text.push(' ');
            }
            text.push_str(&format!("관계자는 {i}건이라고 말했다."));
            let host = i % 20;
            Story {
                id: format!("g{i}"),
                feed: format!("feed{host}"),
                title: format!("{} {i}", t.title),
                url: format!("https://news{host}.example.kr/{i}"),
                published: None,
                summary: text,
                authors: Vec::new(),
                categories: Vec::new(),
                content: None,
            }
        })
        .collect()
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Admits every story (each poll its own `admit_chunks`, every story matched rule `r`).
fn admit(store: &Store, stories: &[Story]) -> Duration {
    let now = Utc::now();
    let started = Instant::now();
    for poll in stories.chunks(POLL) {
        store
            .admit_chunks(
                poll,
                now,
                |_| vec!["r".to_string()],
                |_| Vec::new(),
                |_, folded| {
                    black_box(folded.len());
                },
            )
            .expect("admit");
    }
    started.elapsed()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let stories = stories(N);
    let settings = FoldSettings {
        events: false,
        window: Duration::from_secs(48 * 3600),
    };
    println!("| what | stories | time | per second |");
    println!("|---|---:|---:|---:|");
    for on in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .set_fold(on.then_some(settings), Utc::now())
            .expect("fold");
        let took = admit(&store, &stories);
        println!(
            "| admission, folding {} | {N} | {:.2} s | {:.0} |",
            if on { "on" } else { "off" },
            took.as_secs_f64(),
            N as f64 / took.as_secs_f64()
        );
        if on {
            store.flush().expect("flush");
            drop(store);
            let before = rss_kb();
            let started = Instant::now();
            let store = Store::open(dir.path()).expect("reopen");
            let rebuilt = store.set_fold(Some(settings), Utc::now()).expect("rebuild");
            let took = started.elapsed();
            let after = rss_kb();
            let (len, heap) = store.fold_len();
            println!(
                "| start-up: open + rebuild of the fold index | {} | {:.2} s | {:.0} |",
                rebuilt.stories,
                took.as_secs_f64(),
                rebuilt.stories as f64 / took.as_secs_f64()
            );
            println!(
                "\nfold index: {len} stories, heap estimate {:.0} B/story; RSS growth over open + rebuild {:.0} B/story (sled's cache included)",
                heap as f64 / len.max(1) as f64,
                (after.saturating_sub(before) * 1024) as f64 / len.max(1) as f64
            );
        }
    }
}
