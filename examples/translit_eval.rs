//! Prints the transliteration evaluation: coverage of the labelled names (tuning half and
//! held-back half), the names missed with the spellings generated for them, and every false
//! match on the Korean fixture feeds, with transliteration on and off.
//!
//! `cargo run --release --example translit_eval` (`-- --missed` lists the misses).

#[path = "../tests/it/translit/eval.rs"]
mod eval;

fn main() {
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
