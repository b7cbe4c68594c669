//! Digest rendering benchmark (issue 15): one chat's digest of 500 stories under 10 rules,
//! rendered as Telegram HTML messages (`digest::render::html`), console text (`text`) and the
//! console JSON line (`json`, serialised), each alone and all three together.
//!
//! Run: `cargo bench --locked --bench digest` (release, single-threaded, deterministic). Does
//! nothing unless `--bench` is among the arguments, so `cargo test --all-targets` / `clippy
//! --all-targets` stay cheap. Items are the real stories of `tests/data/feeds` (titles, links,
//! feed names, dates), recycled to 500, each matching one or two of 10 rules (fixed-seed
//! generator); 20% are another outlet's copy of an earlier item (same cluster). Prints the
//! median of several runs, per digest and per story.

use std::hint::black_box;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use kkachi::deliver::{Alert, RuleHit};
use kkachi::digest::{Digest, Item, Kind, render};
use kkachi::feed::parse_feed;

#[path = "common/workload.rs"]
mod workload;
use workload::Rng;

#[path = "common/fixtures.rs"]
mod fixtures;
use fixtures::REAL as FIXTURES;

const STORIES: usize = 500;
const RULES: usize = 10;
/// Percent of items that are another outlet's copy of an earlier item.
const COPIES: u64 = 20;
const RUNS: usize = 9;
/// Digests rendered per run.
const PER_RUN: usize = 50;

fn digest() -> Digest {
    let mut stories = Vec::new();
    for (name, body) in FIXTURES {
        let feed = name
            .rsplit('/')
            .next()
            .and_then(|f| f.split('-').next())
            .unwrap_or(name);
        stories.extend(
            parse_feed(feed, body, None, chrono_tz::Asia::Seoul)
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
    }
    let mut rng = Rng(15);
    let rules: Vec<String> = (0..RULES).map(|i| format!("watch-{i}")).collect();
    // The Korean fixtures' day, 08:00 KST the morning after.
    let due = Utc
        .with_ymd_and_hms(2022, 7, 30, 23, 0, 0)
        .single()
        .expect("a valid date");
    let mut items: Vec<Item> = Vec::with_capacity(STORIES);
    for i in 0..STORIES {
        let s = &stories[i % stories.len()];
        let mut hits = vec![rng.below(RULES)];
        if rng.chance(30) {
            hits.push(rng.below(RULES));
        }
        hits.sort_unstable();
        hits.dedup();
        let cluster = if i > 0 && rng.chance(COPIES) {
            let j = rng.below(i);
            // Join (or start) the earlier item's cluster.
            let c = *items[j].alert.cluster.get_or_insert(j as u64);
            Some(c)
        } else {
            None
        };
        items.push(Item {
            alert: Alert {
                title: s.title.clone(),
                url: s.url.clone(),
                feed: s.feed.clone(),
                published: s.published,
                summary: s.summary.clone(),
                rules: hits
                    .iter()
                    .map(|&r| RuleHit {
                        rule: rules[r].clone(),
                        matched: vec!["term".into()],
                        via: vec![],
                    })
                    .collect(),
                cluster,
            },
            at: due - Duration::minutes((STORIES - i) as i64),
        });
    }
    Digest {
        kind: Kind::Daily,
        due,
        tz: chrono_tz::Asia::Seoul,
        items,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// This thread's CPU time: on a shared machine, wall time also counts other processes' turns.
fn cpu_secs() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Median (wall, CPU) seconds per call of `f` over [`RUNS`] runs of [`PER_RUN`] calls.
fn time(mut f: impl FnMut() -> usize) -> (f64, f64) {
    let mut wall = Vec::with_capacity(RUNS);
    let mut cpu = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (t, c) = (Instant::now(), cpu_secs());
        for _ in 0..PER_RUN {
            black_box(f());
        }
        wall.push(t.elapsed().as_secs_f64() / PER_RUN as f64);
        cpu.push((cpu_secs() - c) / PER_RUN as f64);
    }
    (median(wall), median(cpu))
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let d = digest();
    let messages = render::html(&d);
    let units: Vec<usize> = messages.iter().map(|m| m.encode_utf16().count()).collect();
    let clustered = d.items.iter().filter(|i| i.alert.cluster.is_some()).count();
    let listed = render::json(&d)["stories"].as_u64().unwrap_or(0);
    println!(
        "digest: {} items ({clustered} in clusters) → {listed} stories under {RULES} rules → \
         {} messages of {:?} UTF-16 units; text {} B, json {} B",
        d.items.len(),
        messages.len(),
        units,
        render::text(&d).len(),
        render::json(&d).to_string().len(),
    );
    let per = |name: &str, (wall, cpu): (f64, f64)| {
        println!(
            "{name:<20} median {:>8.1} µs wall, {:>8.1} µs CPU per digest; {:>6.2} µs CPU per \
             item (of {STORIES})",
            wall * 1e6,
            cpu * 1e6,
            cpu * 1e6 / STORIES as f64
        );
    };
    per("html", time(|| render::html(&d).len()));
    per("text", time(|| render::text(&d).len()));
    per(
        "json (to a string)",
        time(|| render::json(&d).to_string().len()),
    );
    per(
        "html + text + json",
        time(|| {
            render::html(&d).len() + render::text(&d).len() + render::json(&d).to_string().len()
        }),
    );
}
