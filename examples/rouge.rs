//! ROUGE evaluation of kkachi's summariser on articles with human-chosen summary sentences.
//!
//! ```text
//! cargo run --release --example rouge [-- PATH] [--budget N]
//! ```
//!
//! PATH is a directory of JSON files in the sci-news-sum-kr-50 format (`sentences`, with final
//! periods stripped, and `summaries`, the indices of the chosen sentences), or a directory with
//! such a `data/` directory; default `tests/data/summaries/sci-news-sum-kr-50`. Each article's
//! sentences are joined with `". "` into one text, so the summariser's own splitter runs; the
//! reference is the chosen sentences joined in order the same way. Every system gets the same
//! budget (default 280 characters, kkachi's default `max_chars`) and the same sentence
//! splitter; a baseline whose first sentence is over budget is cut at a word boundary, as
//! kkachi's last-resort fallback is.
//!
//! Scores are F1, averaged over articles, at two granularities: characters (whitespace
//! removed; the usual choice for Korean, where particles glue to words) and whitespace tokens
//! (punctuation stripped). ROUGE-L is the LCS of the whole sequences.
//!
//! Query-aware rows: each article gets a rule drawn from its own title, matched against the
//! article as the daemon would (`RuleSet::match_doc` over title and text), and its matched
//! terms go to the summariser (`Options::terms`). "two longest title words": the title's two
//! longest words (ends stripped of punctuation, then letters and digits only, at least 2
//! characters; ties: the earlier), each quoted, joined with AND (`"지카바이러스" AND
//! "생식능력도"`); "first title word": the title's first such word alone. After the table: in how many articles the rule's terms were
//! found in a sentence, and in how many the summary changed.

use std::path::{Path, PathBuf};

use kkachi::rules::{Doc, RuleSet};
use kkachi::summary::{
    Options, Rank, SummaryInput, Terms, Tokens, explain, explain_with, split_sentences,
};

/// A summariser under test.
type System = Box<dyn Fn(&Article) -> String>;

struct Article {
    title: String,
    text: String,
    reference: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut path = PathBuf::from("tests/data/summaries/sci-news-sum-kr-50");
    let mut budget = 280usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--budget" => budget = args.next().ok_or("--budget needs a number")?.parse()?,
            other => path = PathBuf::from(other),
        }
    }
    let articles = load(&path)?;
    println!(
        "{} articles from {}, budget {budget} characters\n",
        articles.len(),
        path.display()
    );

    let kkachi = |opts: Options| move |a: &Article| summarize(a, budget, &opts);
    let default = Options::default();
    let aware = |words: fn(&str) -> Vec<&str>| {
        move |a: &Article| {
            let opts = Options {
                terms: title_rule_terms(a, words),
                ..Options::default()
            };
            summarize(a, budget, &opts)
        }
    };
    let systems: Vec<(&str, System)> = vec![
        (
            "kkachi (default: bigrams, lead + title bias)",
            Box::new(kkachi(default.clone())),
        ),
        (
            "kkachi, query-aware: two longest title words",
            Box::new(aware(two_longest)),
        ),
        (
            "kkachi, query-aware: first title word",
            Box::new(aware(first_word)),
        ),
        (
            "kkachi, eojeol tokens",
            Box::new(kkachi(Options {
                rank: Rank {
                    tokens: Tokens::Eojeol,
                    ..default.rank
                },
                ..default.clone()
            })),
        ),
        (
            "kkachi, no lead bias",
            Box::new(kkachi(Options {
                rank: Rank {
                    lead: 0.0,
                    ..default.rank
                },
                ..default.clone()
            })),
        ),
        (
            "kkachi, no title bias",
            Box::new(kkachi(Options {
                rank: Rank {
                    title: 0.0,
                    ..default.rank
                },
                ..default.clone()
            })),
        ),
        (
            "kkachi, no bias at all (plain LexRank)",
            Box::new(kkachi(Options {
                rank: Rank {
                    lead: 0.0,
                    title: 0.0,
                    ..default.rank
                },
                ..default.clone()
            })),
        ),
        ("Lead-1", Box::new(move |a: &Article| lead(a, 1, budget))),
        ("Lead-3", Box::new(move |a: &Article| lead(a, 3, budget))),
        (
            "Lead, as many as fit",
            Box::new(move |a: &Article| lead(a, usize::MAX, budget)),
        ),
        (
            "Random sentences (mean of 20 seeds)",
            Box::new(|_: &Article| String::new()),
        ),
    ];

    println!(
        "| system | R-1 (char) | R-2 (char) | R-L (char) | R-1 (token) | R-2 (token) | R-L (token) | mean chars |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, system) in &systems {
        let mut total = [0.0; 6];
        let mut chars = 0usize;
        let mut runs = 0usize;
        for a in &articles {
            let outputs: Vec<String> = if name.starts_with("Random") {
                (0..20u64).map(|seed| random(a, budget, seed)).collect()
            } else {
                vec![system(a)]
            };
            for out in &outputs {
                let s = scores(out, &a.reference);
                total.iter_mut().zip(s).for_each(|(t, v)| *t += v);
                chars += out.chars().count();
                runs += 1;
            }
        }
        let n = runs as f64;
        print!("| {name} |");
        for t in total {
            print!(" {:.4} |", t / n);
        }
        println!(" {:.0} |", chars as f64 / n);
    }
    println!();
    for (name, words) in [
        (
            "two longest title words",
            two_longest as fn(&str) -> Vec<&str>,
        ),
        ("first title word", first_word),
    ] {
        let (mut carried, mut changed) = (0, 0);
        for a in &articles {
            let terms = title_rule_terms(a, words);
            let input = input(a);
            let opts = Options {
                terms,
                ..Options::default()
            };
            let on = explain_with(&input, budget, &opts);
            if on.sentences.iter().any(|s| s.terms > 0) {
                carried += 1;
            }
            if on.summary != explain(&input, budget).summary {
                changed += 1;
            }
        }
        println!(
            "{name}: terms in a sentence in {carried}/{n} articles, summary changed in {changed}/{n}",
            n = articles.len()
        );
    }
    Ok(())
}

/// Words of a title as a rule would take them: ends stripped of punctuation, at least two
/// characters, letters and digits only (they are quoted in the rule).
fn title_words(title: &str) -> Vec<&str> {
    title
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_alphanumeric))
        .collect()
}

/// The two longest words (ties: the earlier), in title order.
fn two_longest(title: &str) -> Vec<&str> {
    let words = title_words(title);
    let mut by_length: Vec<usize> = (0..words.len()).collect();
    by_length.sort_by_key(|&i| std::cmp::Reverse(words[i].chars().count()));
    by_length.truncate(2);
    by_length.sort_unstable();
    by_length.into_iter().map(|i| words[i]).collect()
}

fn first_word(title: &str) -> Vec<&str> {
    title_words(title).into_iter().take(1).collect()
}

/// The matched terms of the rule `words` (quoted, joined with AND) on the article.
fn title_rule_terms(a: &Article, words: fn(&str) -> Vec<&str>) -> Terms {
    let words = words(&a.title);
    if words.is_empty() {
        return Terms::new();
    }
    let query = words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" AND ");
    let Ok(rules) = RuleSet::from_queries([("title", query.as_str())]) else {
        return Terms::new();
    };
    let doc = Doc {
        feed: "",
        title: &a.title,
        summary: "",
        content: &a.text,
    };
    let matches = rules.match_doc(&doc);
    Terms::of_hits(matches.iter().map(|m| (&m.matched[..], &m.via[..])))
}

fn input(a: &Article) -> SummaryInput<'_> {
    SummaryInput {
        title: &a.title,
        description: "",
        content: None,
        article: Some(&a.text),
    }
}

fn summarize(a: &Article, budget: usize, opts: &Options) -> String {
    explain_with(&input(a), budget, opts).summary
}

fn load(path: &Path) -> Result<Vec<Article>, Box<dyn std::error::Error>> {
    let dir = if path.join("data").is_dir() {
        path.join("data")
    } else {
        path.to_path_buf()
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        let sentences: Vec<&str> = v["sentences"]
            .as_array()
            .ok_or_else(|| format!("{}: no sentences", file.display()))?
            .iter()
            .filter_map(|s| s.as_str().map(str::trim))
            .collect();
        let mut chosen: Vec<usize> = v["summaries"]
            .as_array()
            .ok_or_else(|| format!("{}: no summaries", file.display()))?
            .iter()
            .filter_map(|i| i.as_u64().and_then(|i| usize::try_from(i).ok()))
            .filter(|&i| i < sentences.len())
            .collect();
        chosen.sort_unstable();
        chosen.dedup();
        let join = |s: Vec<&str>| s.join(". ") + ".";
        out.push(Article {
            title: v["title"].as_str().unwrap_or_default().to_owned(),
            text: join(sentences.clone()),
            reference: join(chosen.iter().map(|&i| sentences[i]).collect()),
        });
    }
    Ok(out)
}

/// The first `k` sentences, stopping before the first that would exceed the budget.
fn lead(a: &Article, k: usize, budget: usize) -> String {
    let sentences = split_sentences(&a.text);
    let mut out = String::new();
    for s in sentences.iter().take(k) {
        let extra = if out.is_empty() {
            s.chars().count()
        } else {
            s.chars().count() + 1
        };
        if out.chars().count() + extra > budget {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(s);
    }
    if out.is_empty() {
        out = cut(sentences.first().copied().unwrap_or_default(), budget);
    }
    out
}

/// Sentences in a seeded random order, each taken if it still fits, printed in text order.
fn random(a: &Article, budget: usize, seed: u64) -> String {
    let sentences = split_sentences(&a.text);
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..order.len()).rev() {
        // xorshift64*: reproducible across Rust and crate versions.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        order.swap(i, (r % (i as u64 + 1)) as usize);
    }
    let mut chosen = Vec::new();
    let mut used = 0;
    for i in order {
        let len = sentences[i].chars().count() + usize::from(!chosen.is_empty());
        if used + len <= budget {
            chosen.push(i);
            used += len;
        }
    }
    chosen.sort_unstable();
    let out = chosen
        .iter()
        .map(|&i| sentences[i])
        .collect::<Vec<_>>()
        .join(" ");
    if out.is_empty() {
        cut(sentences.first().copied().unwrap_or_default(), budget)
    } else {
        out
    }
}

fn cut(s: &str, budget: usize) -> String {
    if s.chars().count() <= budget {
        return s.to_owned();
    }
    let head: String = s.chars().take(budget).collect();
    match head.rfind(' ') {
        Some(sp) => head[..sp].to_owned(),
        None => head,
    }
}

/// [R-1, R-2, R-L] F1 over characters, then over tokens.
fn scores(candidate: &str, reference: &str) -> [f64; 6] {
    let chars = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
    };
    let tokens = |s: &str| {
        s.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
    };
    let (cc, cr) = (chars(candidate), chars(reference));
    let (tc, tr) = (tokens(candidate), tokens(reference));
    [
        ngram_f1(&cc, &cr, 1),
        ngram_f1(&cc, &cr, 2),
        lcs_f1(&cc, &cr),
        ngram_f1(&tc, &tr, 1),
        ngram_f1(&tc, &tr, 2),
        lcs_f1(&tc, &tr),
    ]
}

fn f1(overlap: f64, cand: f64, reference: f64) -> f64 {
    if overlap == 0.0 || cand == 0.0 || reference == 0.0 {
        return 0.0;
    }
    let (p, r) = (overlap / cand, overlap / reference);
    2.0 * p * r / (p + r)
}

fn ngram_f1(cand: &[String], reference: &[String], n: usize) -> f64 {
    let (c, r) = (grams(cand, n), grams(reference, n));
    let overlap: usize = c
        .iter()
        .map(|(g, &k)| k.min(r.get(g).copied().unwrap_or(0)))
        .sum();
    let total = |m: &std::collections::HashMap<&[String], usize>| m.values().sum::<usize>() as f64;
    f1(overlap as f64, total(&c), total(&r))
}

fn grams(s: &[String], n: usize) -> std::collections::HashMap<&[String], usize> {
    let mut m = std::collections::HashMap::new();
    for g in s.windows(n) {
        *m.entry(g).or_default() += 1;
    }
    m
}

fn lcs_f1(cand: &[String], reference: &[String]) -> f64 {
    let mut prev = vec![0usize; reference.len() + 1];
    let mut cur = vec![0usize; reference.len() + 1];
    for a in cand {
        for (j, b) in reference.iter().enumerate() {
            cur[j + 1] = if a == b {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    f1(
        prev[reference.len()] as f64,
        cand.len() as f64,
        reference.len() as f64,
    )
}
