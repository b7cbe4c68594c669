//! The fuzz targets: functions of bytes that must return (no panic, no stack overflow, no
//! hang). Shared by `tests/it/fuzz.rs` and `examples/fuzz_run.rs` (which runs them on files,
//! e.g. an input a failing run saved, in a release build).

use std::path::Path;

use kkachi::summary::SummaryInput;

pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("rule_query", rule_query),
    ("rules_file", rules_file),
    ("feed", feed),
    ("html_text", html_text),
    ("summary_html", summary_html),
    ("article", article),
    // `CONTENT-TYPE NUL BODY`: what `prop_feed` runs when it generated a content type.
    ("feed_framed", feed_framed),
];

// ---- targets -----------------------------------------------------------------------------------

pub fn text(input: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(input)
}

/// One query: parse, print, parse the print again, compile it and match it against itself.
pub fn rule_query(input: &[u8]) {
    let query = text(input);
    let Ok(warnings) = kkachi::rules::check_query(&query) else {
        return;
    };
    for w in &warnings {
        let _ = kkachi::rules::caret_line(&query, w.column);
    }
    let Ok(set) = kkachi::rules::RuleSet::from_queries([("q", &*query)]) else {
        panic!("check_query accepted {query:?} but from_queries did not");
    };
    let doc = kkachi::rules::Doc {
        feed: "fuzz",
        title: &query,
        summary: "",
        content: &query,
    };
    let _ = set.match_doc(&doc);
    let _ = set.match_doc_naive(&doc);
    let _ = kkachi::rules::test_query(&query, &set, &doc);
}

pub fn rules_file(input: &[u8]) {
    let src = text(input);
    match kkachi::rules::load(&src, Path::new("rules.toml")) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                let _ = w.to_string();
            }
            let doc = kkachi::rules::Doc {
                feed: "fuzz",
                title: &src,
                summary: "",
                content: "",
            };
            let _ = loaded.rules.match_doc(&doc);
        }
        Err(diags) => {
            for d in &diags {
                let _ = d.to_string();
            }
        }
    }
}

/// Content types a feed can come with, for the corpus runs (generated cases pick their own).
pub const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/rss+xml; charset=euc-kr"),
    Some("text/xml; charset=\"utf-8\""),
    Some("text/xml; charset=iso-2022-kr"),
];

pub fn feed(input: &[u8]) {
    for ct in CONTENT_TYPES {
        feed_with(input, *ct);
    }
}

pub fn feed_with(input: &[u8], content_type: Option<&str>) {
    match kkachi::feed::parse_feed("fuzz", input, content_type, chrono_tz::Asia::Seoul) {
        Ok(stories) => {
            for s in &stories {
                let _ = kkachi::story::dedup_keys(s);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

pub fn html_text(input: &[u8]) {
    let html = text(input);
    let _ = kkachi::text::html_to_text(&html);
    let _ = kkachi::text::clean_summary(&html);
    let _ = kkachi::text::one_line(&html);
}

/// The summary's own HTML path, and a whole summary with the input as description and content.
pub fn summary_html(input: &[u8]) {
    let html = text(input);
    let _ = kkachi::summary::html_to_text(&html);
    let head: String = html.chars().take(200).collect();
    let summary = kkachi::summary::summarize(
        &SummaryInput {
            title: &head,
            description: &html,
            content: Some(&html),
            article: None,
        },
        300,
    );
    assert!(summary.chars().count() <= 300, "summary over budget");
}

/// A fetched article page: decode, then extract (with and without a base URL).
pub fn article(input: &[u8]) {
    for ct in [None, Some("text/html; charset=euc-kr")] {
        let html = kkachi::summary::decode_html(input, ct);
        let _ = kkachi::summary::extract_article(&html, Some("https://news.example.kr/a/1"));
    }
    let html = kkachi::summary::decode_html(input, Some("text/html"));
    let _ = kkachi::summary::extract_article(&html, None);
}

/// `content type NUL body`, for generated content types.
pub fn feed_framed(input: &[u8]) {
    let (ct, body) = match input.iter().position(|&b| b == 0) {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (&[][..], input),
    };
    feed_with(body, Some(&String::from_utf8_lossy(ct)));
}
