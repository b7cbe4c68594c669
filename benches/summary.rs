//! Summariser speed: `cargo bench --bench summary`.
//!
//! Summarises a 4 KB Korean article (sentences of sci-news-sum-kr-50 article 09, the longest,
//! cut to the first 4,096 bytes' worth of whole sentences) and reports the median of 15 batches.
//! Exits at once without `--bench`, since `cargo clippy --all-targets` and `cargo test` build
//! and may run it.

use std::time::{Duration, Instant};

use kkachi::summary::{
    SummaryInput, decode_html, explain, extract_article, split_sentences, summarize,
};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let json = include_str!("../tests/data/summaries/sci-news-sum-kr-50/data/09.json");
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let mut article = String::new();
    for s in v["sentences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
    {
        if article.len() + s.len() + 2 > 4096 {
            break;
        }
        article.push_str(s.trim());
        article.push_str(". ");
    }
    let article = article.trim_end().to_owned();
    let title = v["title"].as_str().unwrap_or_default();
    let input = SummaryInput {
        title,
        description: "",
        content: None,
        article: Some(&article),
    };
    let html_description = format!("<p>{}</p>", article.replace(". ", ".</p><p>"));
    let from_html = SummaryInput {
        title,
        description: &html_description,
        content: None,
        article: None,
    };
    let page = include_bytes!("../tests/data/summaries/pages/article-ko.html");

    println!(
        "article: {} bytes, {} chars, {} sentences; summary: {:?}",
        article.len(),
        article.chars().count(),
        split_sentences(&article).len(),
        explain(&input, 280).summary
    );
    bench("summarize(article 4 KB, 280)", 200, || {
        summarize(&input, 280).len()
    });
    bench("summarize(description 4 KB HTML, 280)", 200, || {
        summarize(&from_html, 280).len()
    });
    bench("split_sentences(4 KB)", 2000, || {
        split_sentences(&article).len()
    });
    bench("decode_html + extract_article (3 KB page)", 100, || {
        extract_article(&decode_html(page, Some("text/html; charset=utf-8")), None)
            .map_or(0, |a| a.text.len())
    });
}

fn bench(name: &str, iters: u32, mut f: impl FnMut() -> usize) {
    let mut sink = 0usize;
    let mut batches: Vec<Duration> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                sink = sink.wrapping_add(std::hint::black_box(f()));
            }
            start.elapsed() / iters
        })
        .collect();
    batches.sort();
    println!(
        "{name:<45} median {:>9.1} µs   (min {:.1} µs, max {:.1} µs)  [{sink}]",
        batches[7].as_secs_f64() * 1e6,
        batches[0].as_secs_f64() * 1e6,
        batches[14].as_secs_f64() * 1e6
    );
}
