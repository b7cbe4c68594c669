//! Prints the transliteration evaluation: coverage of the labelled names (tuning half and
//! held-back half), the names missed with the spellings generated for them, and every false
//! match on the Korean fixture feeds, with transliteration on and off.
//!
//! `cargo run --release --example translit_eval` (`-- --missed` lists the misses;
//! `-- --build-cost` measures instead what transliteration costs a rule set: build time and
//! index heap of the 10,000 rules of `cargo bench --bench rules`, with it on and off).

use std::time::Instant;

use kkachi::rules::RuleSet;

#[path = "../tests/it/translit/eval.rs"]
mod eval;

#[path = "../benches/common/workload.rs"]
mod workload;

fn build_cost() {
    let pool = workload::entities(60_000);
    for n in [10_000, 100_000] {
        let rules = workload::rules(n, &pool, 80);
        println!("| rules | transliteration | build (best of 3) | patterns | index heap |");
        println!("|---:|---|---:|---:|---:|");
        for translit in [false, true] {
            let mut best = f64::MAX;
            let mut set = RuleSet::empty();
            for _ in 0..3 {
                let t = Instant::now();
                set = RuleSet::from_queries_with(
                    rules.iter().map(|(a, b)| (a.as_str(), b.as_str())),
                    true,
                    &[],
                    translit,
                )
                .unwrap_or_else(|e| panic!("{e:?}"));
                best = best.min(t.elapsed().as_secs_f64());
            }
            println!(
                "| {n} | {} | {:.1} ms | {} | {:.1} MiB |",
                if translit { "on" } else { "off" },
                best * 1000.0,
                set.automaton_patterns().len(),
                set.index_heap_bytes() as f64 / (1024.0 * 1024.0)
            );
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--build-cost") {
        build_cost();
        return;
    }
    let show_missed = std::env::args().any(|a| a == "--missed");
    let mut names = eval::names();
    let known = eval::in_dictionary(&names);
    println!("in the dictionary, not counted: {known:?}");
    names.retain(|n| !known.contains(&n.english));
    let stories = eval::background();
    for translit in [false, true] {
        let r = eval::evaluate(&names, &stories, translit);
        println!("## transliteration {}", if translit { "on" } else { "off" });
        println!(
            "coverage: tuning {}/{} ({:.1}%), held back {}/{} ({:.1}%)",
            r.tune.0,
            r.tune.1,
            100.0 * r.tune_coverage(),
            r.held.0,
            r.held.1,
            100.0 * r.held_coverage()
        );
        println!(
            "false matches per 10,000 stories per rule: tuning half {:.2} ({} stories), held back {:.2} ({} stories), {} rules",
            r.false_rate(false),
            r.stories.0,
            r.false_rate(true),
            r.stories.1,
            r.rules
        );
        for (rule, title, held) in &r.false_matches {
            let half = if *held { "held" } else { "tuning" };
            println!("  false ({half}): {rule}: {title}");
        }
        for (rule, text) in &r.cross_matches {
            println!("  cross: {rule}: {text}");
        }
        if show_missed && translit {
            for (name, got, _, kind) in r.missed.iter().filter(|m| !m.2) {
                println!("  missed (tuning, {kind}): {name}: {}", got.join(", "));
            }
        }
    }
}
