//! Runs a fuzz target of `tests/it/fuzz.rs` on files: to reproduce an input a failing run saved
//! (`target/tmp/fuzz-failures/`), or to time a corpus in a release build.
//!
//! ```text
//! cargo run --release --example fuzz_run -- feed target/tmp/fuzz-failures/feed-crash
//! cargo run --release --example fuzz_run -- article tests/data/fuzz/article/*
//! ```
//!
//! Longer generated runs are the property tests themselves, with more cases:
//! `PROPTEST_CASES=100000 cargo test --release --locked --test it fuzz::prop_ -- --test-threads=1`.

use std::process::ExitCode;
use std::time::Instant;

#[path = "../tests/it/fuzz/targets.rs"]
mod targets;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
    let Some(name) = args.next() else {
        eprintln!(
            "usage: fuzz_run TARGET FILE...   (targets: {})",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let Some(&(_, target)) = targets::TARGETS.iter().find(|(n, _)| *n == name) else {
        eprintln!("unknown target {name} (targets: {})", names.join(", "));
        return ExitCode::from(2);
    };
    let mut status = ExitCode::SUCCESS;
    for file in args {
        match std::fs::read(&file) {
            Ok(input) => {
                let start = Instant::now();
                target(&input);
                println!("{file}: {} bytes in {:?}", input.len(), start.elapsed());
            }
            Err(e) => {
                eprintln!("{file}: {e}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
