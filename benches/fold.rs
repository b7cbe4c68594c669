//! Folding benchmark (issue 14): `fold::Print::of` + `Index::decide` + `Index::insert` with
//! 100,000 stories in the window, the index's memory per story (RSS growth and `heap_bytes`),
//! and the start-up rebuild (the keys of 100,000 encoded prints, `Print::decode_keys`, +
//! insert).
//!
//! Run: `cargo bench --locked --bench fold` (release; `taskset -c 1` to hold it to one core).
//! Does nothing unless `--bench` is among the arguments, so `cargo test --all-targets` /
//! `clippy --all-targets` stay cheap. Single-threaded and deterministic: stories are the real
//! fixture texts of `tests/data/feeds`, their sentences recombined by a fixed-seed generator
//! (so most stories are not copies of each other), plus a share of real copies (wire-style
//! edits of an earlier story: 했다→했습니다, a new dateline, byline, footer and headline, a
//! sentence dropped). Prints the median of several runs.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use kkachi::feed::parse_feed;
use kkachi::fold::{Doc, Id, Index, Print, Printer, Settings};

#[path = "common/workload.rs"]
mod workload;
use workload::Rng;

#[path = "common/fixtures.rs"]
mod fixtures;
use fixtures::REAL as FIXTURES;

const WINDOW: usize = 100_000;
const MEASURED: usize = 20_000;
const RUNS: usize = 5;
/// Percent of generated stories that are copies of an earlier one.
const COPIES: u64 = 15;

struct Story {
    title: String,
    text: String,
    /// The story this one copies.
    source: Option<usize>,
}

/// Sentences and titles of every fixture story, Korean and English apart.
fn corpus() -> [(Vec<String>, Vec<String>); 2] {
    let mut out = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for (name, body) in FIXTURES {
        let stories = parse_feed(name, body, None, chrono_tz::Asia::Seoul)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let lang = usize::from(name.starts_with("en/"));
        for s in stories {
            let text = if s.summary.chars().count() >= 80 {
                s.summary
            } else {
                s.content.unwrap_or(s.summary)
            };
            let (titles, sentences) = &mut out[lang];
            titles.push(s.title);
            for sentence in text.split_inclusive(['.', '?', '!']) {
                let sentence = sentence.trim();
                if sentence.chars().count() >= 25 {
                    sentences.push(sentence.to_string());
                }
            }
        }
    }
    out
}

/// An original story: a real title cut and joined to another, and three to five real
/// sentences from anywhere in the corpus (so it shares little with any other story).
fn original(rng: &mut Rng, titles: &[String], sentences: &[String]) -> Story {
    let a = rng.pick(titles);
    let b = rng.pick(titles);
    let half = |s: &str, first: bool| {
        let words: Vec<&str> = s.split_whitespace().collect();
        let mid = words.len() / 2;
        if first {
            words[..mid].join(" ")
        } else {
            words[mid..].join(" ")
        }
    };
    let title = format!("{} {}", half(a, true), half(b, false));
    // Each sentence is the first half of one real sentence and the second half of another, so
    // two stories rarely share more than a half-sentence.
    let n = 3 + rng.below(3);
    let text: Vec<String> = (0..n)
        .map(|_| {
            let a = rng.pick(sentences);
            let b = rng.pick(sentences);
            format!("{} {}", half(a, true), half(b, false))
        })
        .collect();
    Story {
        title,
        text: text.join(" "),
        source: None,
    }
}

/// A wire-style copy of `s`.
fn copy_of(rng: &mut Rng, s: &Story, source: usize) -> Story {
    let mut text = s
        .text
        .replace("했다.", "했습니다.")
        .replace("있다.", "있습니다.")
        .replace(" said", " says");
    if rng.chance(50)
        && let Some(cut) = text.rfind(". ")
    {
        text.truncate(cut + 1);
    }
    let datelines = [
        "(서울=연합뉴스) 김민수 기자 = ",
        "[서울=뉴시스]이영희 기자 = ",
        "(서울=뉴스1) 박철수 기자 = ",
        "",
    ];
    let footers = [
        " *재판매 및 DB 금지",
        " <저작권자(c) 연합뉴스, 무단 전재-재배포 금지>",
        " kim@news1.kr",
        "",
    ];
    Story {
        title: format!(
            "[종합] {}",
            s.title
                .split_whitespace()
                .rev()
                .collect::<Vec<_>>()
                .join(" ")
        ),
        text: format!("{}{}{}", rng.pick(&datelines), text, rng.pick(&footers)),
        source: Some(source),
    }
}

fn stories(n: usize, seed: u64) -> Vec<Story> {
    let corpus = corpus();
    println!(
        "corpus: {} Korean titles and {} sentences, {} English titles and {} sentences",
        corpus[0].0.len(),
        corpus[0].1.len(),
        corpus[1].0.len(),
        corpus[1].1.len()
    );
    let mut rng = Rng(seed);
    let mut out: Vec<Story> = Vec::with_capacity(n);
    for _ in 0..n {
        if !out.is_empty() && rng.chance(COPIES) {
            // A copy of a recent story (within the last 2,000).
            let back = 1 + rng.below(out.len().min(2_000));
            let source = out.len() - back;
            let c = copy_of(&mut rng, &out[source], source);
            out.push(c);
        } else {
            let lang = usize::from(rng.chance(20));
            let (titles, sentences) = &corpus[lang];
            out.push(original(&mut rng, titles, sentences));
        }
    }
    out
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
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

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn doc(s: &Story) -> Doc<'_> {
    Doc {
        title: &s.title,
        text: &s.text,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let settings = Settings::default();
    let all = stories(WINDOW + MEASURED * (RUNS + 1), 0x6b6b_6163_6869_0b0b);
    let avg_chars = all
        .iter()
        .map(|s| s.title.chars().count() + s.text.chars().count())
        .sum::<usize>()
        / all.len();
    println!(
        "stories: {} generated ({COPIES}% copies), {avg_chars} chars (title + text) on average",
        all.len()
    );

    // Prints of the window, then the index alone: its RSS growth.
    let (t, c) = (Instant::now(), cpu_secs());
    let prints: Vec<Print> = all[..WINDOW].iter().map(|s| Print::of(&doc(s))).collect();
    let of_rate = WINDOW as f64 / t.elapsed().as_secs_f64();
    let of_cpu = WINDOW as f64 / (cpu_secs() - c);
    let shingles = prints.iter().map(Print::shingle_count).sum::<usize>() / WINDOW;
    let encoded: Vec<Vec<u8>> = prints.iter().map(Print::encode).collect();
    let enc_avg = encoded.iter().map(Vec::len).sum::<usize>() / WINDOW;
    println!(
        "Print::of alone: {of_rate:.0} stories/s wall, {of_cpu:.0} per CPU second; {shingles} shingles, {enc_avg} B encoded on average"
    );

    let before = rss_bytes();
    let mut index = Index::new(settings);
    for (i, p) in prints.iter().enumerate() {
        index.insert(i as Id + 1, i as Id + 1, i as i64, p);
    }
    let after = rss_bytes();
    println!(
        "index of {WINDOW}: RSS +{:.0} B/story, heap_bytes {:.0} B/story",
        (after.saturating_sub(before)) as f64 / WINDOW as f64,
        index.heap_bytes() as f64 / WINDOW as f64
    );
    drop(index);

    // Rebuild: the keys of every encoded print (its head, as the store's rebuild reads it) +
    // insert, into a fresh index.
    let mut rebuilds = Vec::new();
    let mut rebuild_cpu = Vec::new();
    for _ in 0..RUNS {
        let (t, c) = (Instant::now(), cpu_secs());
        let mut index = Index::new(settings);
        for (i, bytes) in encoded.iter().enumerate() {
            let k = Print::decode_keys(bytes).expect("own encoding");
            index.insert_keys(i as Id + 1, i as Id + 1, i as i64, &k);
        }
        rebuilds.push(t.elapsed().as_secs_f64());
        rebuild_cpu.push(cpu_secs() - c);
        black_box(index.len());
    }
    println!(
        "rebuild of {WINDOW} (decode keys + insert): median {:.3} s wall, {:.3} s CPU (wall runs: {})",
        median(rebuilds.clone()),
        median(rebuild_cpu),
        rebuilds
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // A whole print's decode (what a candidate's lookup in the store costs, sled aside).
    let c = cpu_secs();
    for bytes in &encoded {
        black_box(Print::decode(bytes).expect("own encoding"));
    }
    println!("Print::decode of {WINDOW}: {:.3} s CPU", cpu_secs() - c);

    // The folding path over a full window: the window is built by the same path, then each run
    // folds MEASURED more stories, pruning the oldest so 100,000 stay in the window.
    let mut store: HashMap<Id, Print> = HashMap::with_capacity(WINDOW + MEASURED * RUNS);
    let mut index = Index::new(settings);
    let mut joined = 0usize;
    // Returns the cluster the story went into. `clone`: the lookup hands over a copy of the
    // stored print (`decide`, as a store that decodes does) instead of lending it
    // (`decide_with`).
    // The prints come from one `Printer` (its buffers reused; the same prints as `Print::of`).
    let mut printer = Printer::new();
    let mut fold =
        |index: &mut Index, store: &mut HashMap<Id, Print>, i: usize, clone: bool| -> Id {
            let id = i as Id + 1;
            let p = printer.print(&doc(&all[i]));
            let join = if clone {
                index.decide(&p, |c| store.get(&c).cloned())
            } else {
                index.decide_with(&p, |c| store.get(&c))
            };
            let cluster = join.as_ref().map_or(id, |j| j.cluster);
            index.insert(id, cluster, i as i64, &p);
            store.insert(id, p);
            cluster
        };
    let mut clusters: Vec<Id> = Vec::with_capacity(WINDOW);
    let t = Instant::now();
    for i in 0..WINDOW {
        let cluster = fold(&mut index, &mut store, i, false);
        joined += usize::from(cluster != i as Id + 1);
        clusters.push(cluster);
    }
    println!(
        "window built by folding: {:.0} stories/s, {joined} joined ({:.1}%)",
        WINDOW as f64 / t.elapsed().as_secs_f64(),
        joined as f64 * 100.0 / WINDOW as f64
    );
    // Against the generator's truth: a copy belongs in its source's cluster; an original
    // joined to anything is a false join.
    let (mut copies, mut found, mut originals, mut false_joins) = (0, 0, 0, 0);
    let (mut missed_strict, mut shown) = (0, 0);
    for (i, s) in all[..WINDOW].iter().enumerate() {
        match s.source {
            Some(src) => {
                copies += 1;
                let ok = clusters[i] == clusters[src];
                found += usize::from(ok);
                if !ok {
                    let (a, b) = (&prints[i], &prints[src]);
                    if a.is_photo() || b.is_photo() || a.is_short() || b.is_short() {
                        missed_strict += 1;
                    } else if shown < 3 {
                        shown += 1;
                        println!(
                            "missed copy: {}",
                            kkachi::fold::explain(&doc(s), &doc(&all[src]))
                        );
                    }
                }
            }
            None => {
                originals += 1;
                false_joins += usize::from(clusters[i] != i as Id + 1);
            }
        }
    }
    println!(
        "copies in their source's cluster: {found} of {copies} ({:.1}%; of the missed, {missed_strict} on the photo/short path); originals joined to something: {false_joins} of {originals} ({:.2}%)",
        found as f64 * 100.0 / copies as f64,
        false_joins as f64 * 100.0 / originals as f64
    );
    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    let mut run_joined = Vec::new();
    // The runs, then one more with the cloning lookup.
    let mut clone_rate = 0.0;
    for run in 0..=RUNS {
        let clone = run == RUNS;
        let from = WINDOW + run * MEASURED;
        let mut j = 0;
        let (t, c) = (Instant::now(), cpu_secs());
        for i in from..from + MEASURED {
            j += usize::from(fold(&mut index, &mut store, i, clone) != i as Id + 1);
            if i % 1_000 == 0 {
                let before = (i - WINDOW) as i64;
                index.prune(before);
            }
        }
        let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_secs() - c);
        store.retain(|id, _| index.cluster_of(*id).is_some());
        if clone {
            clone_rate = MEASURED as f64 / cpu;
            break;
        }
        rates.push(MEASURED as f64 / wall);
        cpu_rates.push(MEASURED as f64 / cpu);
        run_joined.push(j);
    }
    let candidates: usize = all[WINDOW..WINDOW + 2_000]
        .iter()
        .map(|s| index.candidates(&Print::of(&doc(s))).len())
        .sum();
    println!(
        "folded with {} in the window: median {:.0} stories/s wall, {:.0} per CPU second (wall runs: {}); joined per run: {:?}; {:.2} candidates per story",
        index.len(),
        median(rates.clone()),
        median(cpu_rates),
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        run_joined,
        candidates as f64 / 2_000.0
    );
    println!(
        "with a lookup that clones the print (decide): {clone_rate:.0} per CPU second (one run)"
    );
    println!(
        "index heap_bytes at {}: {:.0} B/story",
        index.len(),
        index.heap_bytes() as f64 / index.len() as f64
    );
}
