//! Rule matching benchmark: the indexed matcher against the naive evaluator, and aho-corasick
//! against daachorse on the same patterns and Korean text.
//!
//! Run with `cargo bench --bench rules` (release). Without `--bench` it exits at once, so
//! `cargo test --all-targets` / `clippy --all-targets` stay cheap. Deterministic: stories and
//! rules come from a fixed-seed generator. Single-threaded. Prints Markdown tables for
//! BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kkachi::rules::literal::PARTICLES;
use kkachi::rules::{Doc, RuleSet, normalize};

// ---- memory: a counting allocator (this binary only) -------------------------------------------

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

// ---- deterministic generator -------------------------------------------------------------------

#[path = "common/workload.rs"]
mod workload;
use workload::{EN_COMPANIES, EN_TOPICS, KO_COMPANIES, KO_TOPICS, Rng, entities, rules};

/// What follows a Korean word in the generated text, drawn uniformly: nothing (4 in 24 draws)
/// or one of kkachi's own particles (`kkachi::rules::literal::PARTICLES`), the common ones,
/// 들과의 being a chain of three. A weighted pick from that table rather than the table
/// itself, so the workload stays the one BENCHMARKS.md measured; [`check_particles`] holds
/// every entry to the table, so the two cannot drift apart.
const KO_PARTICLES: &[&str] = &[
    "",
    "",
    "",
    "",
    "이",
    "가",
    "은",
    "는",
    "을",
    "를",
    "의",
    "와",
    "과",
    "도",
    "에",
    "에서",
    "로",
    "으로",
    "들",
    "들과의",
    "에게",
    "까지",
    "부터",
    "만",
];
const KO_VERBS: &[&str] = &[
    "밝혔다.",
    "발표했다.",
    "전망이다.",
    "예정이다.",
    "나타났다.",
    "설명했다.",
    "강조했다.",
    "덧붙였다.",
    "확대한다.",
    "추진한다.",
    "검토 중이다.",
    "하락했다.",
    "상승했다.",
    "기록했다.",
    "합의했다.",
];
const EN_FILLER: &[&str] = &[
    "the",
    "a",
    "of",
    "in",
    "on",
    "for",
    "with",
    "and",
    "to",
    "said",
    "on Tuesday",
    "according to",
    "officials",
    "analysts",
    "expected",
    "new",
    "first",
    "largest",
    "plans",
    "announced",
    "will",
];

struct Story {
    korean: bool,
    title: String,
    summary: String,
    content: String,
}

fn entity(rng: &mut Rng, pool: &[String], korean: bool) -> String {
    if rng.chance(25) {
        if korean {
            rng.pick(KO_COMPANIES).to_string()
        } else {
            rng.pick(EN_COMPANIES).to_string()
        }
    } else {
        pool[rng.skewed(pool.len())].clone()
    }
}

/// Panics unless every non-empty [`KO_PARTICLES`] entry is a chain of at most three of
/// kkachi's particles (the most the matcher accepts after a whole-word term).
fn check_particles() {
    fn chain(rest: &str, left: usize) -> bool {
        rest.is_empty()
            || left > 0
                && PARTICLES
                    .iter()
                    .any(|p| rest.strip_prefix(p).is_some_and(|r| chain(r, left - 1)))
    }
    for p in KO_PARTICLES.iter().filter(|p| !p.is_empty()) {
        assert!(chain(p, 3), "{p:?} is not made of kkachi's particles");
    }
}

fn ko_sentence(rng: &mut Rng, pool: &[String], words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        let w = if rng.chance(12) {
            entity(rng, pool, true)
        } else {
            KO_TOPICS[rng.skewed(KO_TOPICS.len())].to_string()
        };
        s.push_str(&w);
        s.push_str(rng.pick::<&str>(KO_PARTICLES));
        if rng.chance(5) {
            s.push(',');
        }
        s.push(' ');
        if i + 1 == words {
            s.push_str(rng.pick::<&str>(KO_VERBS));
        }
    }
    s
}

fn en_sentence(rng: &mut Rng, pool: &[String], words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        let w = match rng.below(10) {
            0 | 1 => entity(rng, pool, false),
            2..=5 => EN_TOPICS[rng.skewed(EN_TOPICS.len())].to_string(),
            _ => rng.pick(EN_FILLER).to_string(),
        };
        s.push_str(&w);
        s.push(if i + 1 == words { '.' } else { ' ' });
    }
    s.push(' ');
    s
}

fn stories(n: usize, pool: &[String]) -> Vec<Story> {
    let mut rng = Rng(42);
    (0..n)
        .map(|_| {
            let korean = rng.chance(60);
            let sentence = |rng: &mut Rng, w| {
                if korean {
                    ko_sentence(rng, pool, w)
                } else {
                    en_sentence(rng, pool, w)
                }
            };
            let mut title = sentence(&mut rng, if korean { 5 } else { 9 });
            title.truncate(title.trim_end().len());
            let mut summary = String::new();
            while title.len() + summary.len() < 680 {
                let w = 6 + rng.below(6);
                summary.push_str(&sentence(&mut rng, w));
            }
            let mut content = summary.clone();
            while title.len() + content.len() < 4000 {
                let w = 6 + rng.below(8);
                content.push_str(&sentence(&mut rng, w));
            }
            Story {
                korean,
                title,
                summary,
                content,
            }
        })
        .collect()
}

// ---- measurement -------------------------------------------------------------------------------

/// Runs `f` over `docs` in passes until `budget` has elapsed (at least one pass); stories/s.
fn throughput(docs: &[Doc], budget: Duration, mut f: impl FnMut(&Doc) -> usize) -> (f64, usize) {
    let start = Instant::now();
    let mut n = 0usize;
    let mut hits = 0usize;
    loop {
        for d in docs {
            hits += black_box(f(d));
            n += 1;
        }
        if start.elapsed() >= budget {
            break;
        }
    }
    (n as f64 / start.elapsed().as_secs_f64(), hits)
}

fn fmt_rate(r: f64) -> String {
    if r >= 10_000.0 {
        format!("{:.0}k", r / 1000.0)
    } else if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    check_particles();
    let total = Instant::now();
    let pool = entities(60_000);
    let stories = stories(2_000, &pool);
    let all_rules = rules(100_000, &pool, 80);
    // The same mix with well-known companies at 0.8% of entities: about as many such rules at
    // 100,000 rules (~800) as the default mix has at 10,000.
    let rare_famous = rules(100_000, &pool, 8);
    let ts_bytes: usize = stories
        .iter()
        .map(|s| s.title.len() + s.summary.len())
        .sum::<usize>()
        / stories.len();
    let full_bytes: usize = stories
        .iter()
        .map(|s| s.title.len() + s.content.len())
        .sum::<usize>()
        / stories.len();
    let korean = stories.iter().filter(|s| s.korean).count() * 100 / stories.len();
    println!(
        "stories: {} ({korean}% Korean), title+summary {ts_bytes} B, full text {full_bytes} B on average",
        stories.len()
    );
    let short: Vec<Doc> = stories
        .iter()
        .map(|s| Doc {
            feed: "yna",
            title: &s.title,
            summary: &s.summary,
            content: "",
        })
        .collect();
    let full: Vec<Doc> = stories
        .iter()
        .map(|s| Doc {
            feed: "yna",
            title: &s.title,
            summary: "",
            content: &s.content,
        })
        .collect();

    println!();
    println!(
        "| rules | famous | build | index heap | rule set (live) | build peak | match_doc t+s | Matcher t+s | match_ids t+s | naive t+s | match_doc full | Matcher full | naive full | matches/story t+s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut sets = Vec::new();
    let mut parts = Vec::new();
    // KKACHI_BENCH_SIZES=10000,100000 runs only those sizes (for profiling).
    let sizes: Vec<usize> = std::env::var("KKACHI_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 100, 1_000, 10_000, 100_000]);
    // The largest size again with the realistic share of well-known companies.
    let runs: Vec<(usize, bool)> = sizes
        .iter()
        .map(|&n| (n, false))
        .chain(sizes.iter().max().map(|&n| (n, true)))
        .collect();
    for &(n, rare) in &runs {
        let queries = if rare {
            &rare_famous[..n]
        } else {
            &all_rules[..n]
        };
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let t = Instant::now();
        let set = match RuleSet::from_queries(queries.iter().map(|(a, b)| (a.as_str(), b.as_str())))
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("generated rules do not parse: {:?}", &e[..e.len().min(3)]);
                std::process::exit(1);
            }
        };
        let build = t.elapsed();
        let live = LIVE.load(Ordering::Relaxed).saturating_sub(before);
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);

        // Correctness on a sample: indexed == naive.
        let sample = if n >= 10_000 { 40 } else { 300 };
        let mut matcher = set.matcher();
        // KKACHI_BENCH_PROFILE=short|full|ids: only the Matcher loop, 10 s, for `perf record`
        // (ids: `match_ids` on title+summary, results not read).
        if let Ok(which) = std::env::var("KKACHI_BENCH_PROFILE") {
            let docs = if which == "full" { &full } else { &short };
            let (rate, _) = throughput(docs, Duration::from_secs(10), |d| {
                if which == "ids" {
                    matcher.match_ids(d).len()
                } else {
                    matcher.match_doc(d).len()
                }
            });
            println!("| {n} | profile {which}: {}/s | {set:?}", fmt_rate(rate));
            continue;
        }
        for d in short
            .iter()
            .take(sample)
            .chain(full.iter().take(sample / 4))
        {
            let naive = set.match_doc_naive(d);
            assert_eq!(set.match_doc(d), naive, "indexed and naive disagree");
            assert_eq!(
                matcher.match_doc(d),
                &naive[..],
                "matcher and naive disagree"
            );
            assert_eq!(
                matcher.match_ids(d).to_vec(),
                naive,
                "match_ids and naive disagree"
            );
        }

        let budget = Duration::from_millis(1500);
        let (fast_short, hits) = throughput(&short, budget, |d| set.match_doc(d).len());
        let (reuse_short, _) = throughput(&short, budget, |d| matcher.match_doc(d).len());
        // Borrowed results: every match's rule name and terms are still resolved (lengths
        // summed), only not copied.
        let (ids_short, _) = throughput(&short, budget, |d| {
            matcher
                .match_ids(d)
                .iter()
                .map(|m| m.rule().len() + m.terms().map(str::len).sum::<usize>())
                .sum()
        });
        let (fast_full, _) = throughput(&full, budget, |d| set.match_doc(d).len());
        let (reuse_full, _) = throughput(&full, budget, |d| matcher.match_doc(d).len());
        drop(matcher);
        // Naive: a sample of stories, one pass, sized to keep the run short.
        let naive_n = match n {
            0..=100 => 2_000,
            101..=1_000 => 400,
            1_001..=10_000 => 40,
            _ => 8,
        };
        let (slow_short, _) = throughput(&short[..naive_n], Duration::ZERO, |d| {
            set.match_doc_naive(d).len()
        });
        let (slow_full, _) = throughput(&full[..naive_n / 2], Duration::ZERO, |d| {
            set.match_doc_naive(d).len()
        });
        let per_story = hits as f64 / (fast_short * budget.as_secs_f64()).max(1.0);
        println!(
            "| {n} | {} | {:.1} ms | {} | {} | {} | {}/s | {}/s | {}/s | {}/s | {}/s | {}/s | {}/s | {per_story:.2} |",
            if rare { "0.8%" } else { "8%" },
            build.as_secs_f64() * 1000.0,
            mib(set.index_heap_bytes()),
            mib(live),
            mib(peak),
            fmt_rate(fast_short),
            fmt_rate(reuse_short),
            fmt_rate(ids_short),
            fmt_rate(slow_short),
            fmt_rate(fast_full),
            fmt_rate(reuse_full),
            fmt_rate(slow_full),
        );
        if n >= 10_000 && !rare {
            parts.push((n, live, set.heap_parts()));
            sets.push((n, set));
        }
    }

    for (n, live, parts) in &parts {
        println!();
        println!(
            "Where the live set of {n} rules is ({} counted by the allocator):",
            mib(*live)
        );
        println!();
        println!("| part | heap | allocations |");
        println!("|---|---:|---:|");
        for p in parts {
            println!("| {} | {} | {} |", p.name, mib(p.bytes), p.allocs);
        }
        let (bytes, allocs) = parts
            .iter()
            .fold((0, 0), |a, p| (a.0 + p.bytes, a.1 + p.allocs));
        println!("| total | {} | {allocs} |", mib(bytes));
    }

    println!();
    println!("Automata on the same patterns, overlapping search over normalised text (scan only):");
    println!();
    println!("| rules | patterns | text | automaton | build | heap | MB/s | matches |");
    println!("|---:|---:|---|---|---:|---:|---:|---:|");
    let korean_text: Vec<String> = stories
        .iter()
        .filter(|s| s.korean)
        .map(|s| normalize(&format!("{} {}", s.title, s.content)).into_owned())
        .collect();
    let english_text: Vec<String> = stories
        .iter()
        .filter(|s| !s.korean)
        .map(|s| normalize(&format!("{} {}", s.title, s.content)).into_owned())
        .collect();
    for (n, set) in &sets {
        let patterns = set.automaton_patterns();
        let t = Instant::now();
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&patterns)
            .ok();
        let ac_build = t.elapsed();
        let t = Instant::now();
        let da = daachorse::DoubleArrayAhoCorasick::<u32>::new(&patterns).ok();
        let da_build = t.elapsed();
        let t = Instant::now();
        let dc = daachorse::CharwiseDoubleArrayAhoCorasick::<u32>::new(&patterns).ok();
        let dc_build = t.elapsed();
        for (label, texts) in [("Korean", &korean_text), ("English", &english_text)] {
            let bytes: usize = texts.iter().map(String::len).sum();
            let row = |name: &str, build: Duration, heap: usize, f: &dyn Fn(&str) -> usize| {
                let start = Instant::now();
                let mut matches = 0;
                let mut passes = 0;
                while start.elapsed() < Duration::from_millis(700) {
                    matches = texts.iter().map(|t| f(t)).sum::<usize>();
                    passes += 1;
                }
                let mbs = (bytes * passes) as f64 / start.elapsed().as_secs_f64() / 1e6;
                println!(
                    "| {n} | {} | {label} | {name} | {:.1} ms | {} | {mbs:.0} | {matches} |",
                    patterns.len(),
                    build.as_secs_f64() * 1000.0,
                    mib(heap)
                );
            };
            if let Some(ac) = &ac {
                row(
                    "aho-corasick 1.1 (auto: contiguous NFA)",
                    ac_build,
                    ac.memory_usage(),
                    &|t| ac.find_overlapping_iter(t).count(),
                );
            }
            if let Some(da) = &da {
                row("daachorse bytewise", da_build, da.heap_bytes(), &|t| {
                    da.find_overlapping_iter(t).count()
                });
            }
            if let Some(dc) = &dc {
                row("daachorse charwise", dc_build, dc.heap_bytes(), &|t| {
                    dc.find_overlapping_iter(t).count()
                });
            }
        }
    }
    println!();
    println!("total bench time: {:.0} s", total.elapsed().as_secs_f64());
}
