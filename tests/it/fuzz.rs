//! Fuzzing without `cargo fuzz`: the parsers that read what strangers write (watch-rule queries,
//! `rules.toml`, feed bodies, HTML fragments and article pages) run as bounded property tests.
//!
//! Each target is a function of bytes that must return, neither panicking nor overflowing its
//! stack nor hanging. Every call runs on its own thread with the stack the daemon gives its
//! blocking work (tokio's 2 MiB) and a generous wall-clock cap ([`CAP`]): a call that has not
//! returned by then is a hang, its input is saved and the test process aborts (shrinking a hang
//! would take minutes). A panic fails the test with the input saved. Saved inputs go to
//! `target/tmp/fuzz-failures/`; the input in flight is kept there too, so a stack overflow (which
//! aborts the process) leaves its input behind.
//!
//! - `corpus_*`: every file of `tests/data/fuzz/<target>/` through its target.
//! - `prop_*`: generated input, structured but hostile; case counts keep the whole file well
//!   under a minute in a debug build on two cores. `PROPTEST_CASES=N` overrides every count, for
//!   longer runs (see ARCHITECTURE.md, "Fuzzing").
//! - `hang_*`: pathological shapes at two sizes, n and 8n: a quadratic path turns the larger one
//!   into a hang the cap catches, by construction rather than by timing.
//! - `regression_<target>_<what>`: crashes and hangs found here, kept.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use kkachi::summary::SummaryInput;

mod targets;

use targets::{
    TARGETS, Target, article, feed, feed_framed, feed_with, html_text, rule_query, rules_file,
    summary_html,
};

/// A call that takes longer than this hangs (a debug build does each target in well under a
/// second on the largest inputs here).
const CAP: Duration = Duration::from_secs(20);

/// The stack of a tokio blocking thread, where the daemon parses feeds and pages.
const STACK: usize = 2 * 1024 * 1024;

// ---- the guard -------------------------------------------------------------------------------------

fn failures_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures")
}

fn save(file: &str, input: &[u8]) -> PathBuf {
    let dir = failures_dir();
    let path = dir.join(file);
    // Best effort: failing to save must not hide the failure itself.
    let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input));
    path
}

/// The current test's name, for file names (the harness names each test's thread after it).
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", "-")
}

/// Runs `target` on `input` on its own thread with [`STACK`] and [`CAP`]; returns how long it
/// took (for messages only: nothing asserts on it).
fn guard(name: &str, target: Target, input: &[u8]) -> Duration {
    let in_flight = save(&format!("{}.in-flight", test_name()), input);
    let (tx, rx) = mpsc::channel();
    let owned = input.to_vec();
    let spawned = std::thread::Builder::new()
        .name(format!("fuzz-{name}"))
        .stack_size(STACK)
        .spawn(move || {
            let start = Instant::now();
            target(&owned);
            let _ = tx.send(start.elapsed());
        });
    let handle = match spawned {
        Ok(h) => h,
        Err(e) => panic!("cannot start the fuzz thread: {e}"),
    };
    match rx.recv_timeout(CAP) {
        Ok(took) => {
            let _ = handle.join();
            let _ = std::fs::remove_file(&in_flight);
            took
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = std::fs::remove_file(&in_flight);
            let saved = save(&format!("{name}-crash"), input);
            let why = match handle.join() {
                Err(payload) => payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
                Ok(()) => String::new(),
            };
            panic!(
                "{name} panicked ({why}) on {} bytes, saved as {}",
                input.len(),
                saved.display()
            );
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let saved = save(&format!("{name}-hang"), input);
            // Straight to stderr: the harness's capture would swallow a println before abort.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\nHANG: {name} did not return within {CAP:?} on {} bytes; input saved as {}",
                input.len(),
                saved.display()
            );
            std::process::abort();
        }
    }
}

/// A pathological input, by name, built at a given size.
type Shape = (&'static str, fn(usize) -> Vec<u8>);

/// Runs shapes at sizes n and 8n (see the module doc).
fn hang_guard(name: &str, target: Target, shapes: &[Shape], n: usize) {
    for (shape, make) in shapes {
        for size in [n, 8 * n] {
            let input = make(size);
            let took = guard(name, target, &input);
            // Printed for whoever wonders where the time goes; never asserted.
            println!("{name}/{shape} n={size}: {} bytes in {took:?}", input.len());
        }
    }
}

/// `PROPTEST_CASES` when set (longer runs), else `ci` cases.
fn config(ci: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci);
    Config {
        cases,
        // Failures are kept as corpus files and regression tests, not proptest's seed files.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

// ---- generators ------------------------------------------------------------------------------------

/// Pieces of the query language, right and wrong, for token soup.
const QUERY_TOKENS: &[&str] = &[
    "(",
    ")",
    "((",
    "))",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR/0",
    "NEAR/3",
    "NEAR/1000",
    "NEAR/1001",
    "NEAR/x",
    "NEAR/",
    "NEAR/99999999999",
    "-",
    "=",
    "*",
    "\"",
    "“",
    "”",
    "‘",
    "’",
    "'",
    ":",
    "title:",
    "summary:",
    "content:",
    "feed:",
    "TITLE:",
    "titel:",
    "a:",
    "1:",
    "삼성",
    "반도체*",
    "*기업",
    "=메타",
    "=메타*",
    "AI",
    "OpenAI",
    "오픈AI",
    "a",
    "ab*",
    "abc*",
    "반*",
    "*",
    "**",
    "삼*성",
    "yna",
    "\u{200B}",
    "\u{FEFF}",
    "\u{00AD}",
    "\u{0301}",
    "ﬁ",
    "㈜",
    "Ⅻ",
    "ǅ",
    "İ",
    "ß",
    "\t",
    "\n",
    "\r\n",
    "\u{3000}",
    "\u{FFFD}",
    "😀",
    "\u{0}",
    "and",
    "or",
    "not",
    "\"한국 기업\"",
    "‘He said \"x\"’",
    "=\"메타\"",
    "-(",
    "=(",
];

fn query_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        8 => proptest::sample::select(QUERY_TOKENS).prop_map(str::to_string),
        1 => "\\PC{0,6}",
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    let sep = proptest::sample::select(&[" ", " ", " ", "", "  ", "\u{3000}"][..]);
    proptest::collection::vec((token, sep), 0..40)
        .prop_map(|parts| parts.into_iter().map(|(t, s)| t + s).collect())
}

/// Deep nesting of the operators that recurse: `(`, `NOT`, `-`, fields, around one term.
fn query_deep() -> impl Strategy<Value = String> {
    let opener =
        proptest::sample::select(&["(", "NOT ", "-", "title:(", "-(", "NOT (", "a AND ("][..]);
    (opener, 1usize..12_000, any::<bool>()).prop_map(|(open, depth, close)| {
        let closer = if open.contains('(') { ")" } else { "" };
        let mut q = open.repeat(depth);
        q.push_str("삼성");
        if close {
            q.push_str(&closer.repeat(depth));
        }
        q
    })
}

/// Long, flat queries: thousands of terms joined by one operator.
fn query_long() -> impl Strategy<Value = String> {
    let op = proptest::sample::select(&[" AND ", " OR ", " ", " NEAR/2 ", " -"][..]);
    let term =
        proptest::sample::select(&["삼성", "\"a b\"", "반도체*", "x", "=메타", "(a OR b)"][..]);
    (op, term, 1usize..800).prop_map(|(op, term, n)| vec![term; n].join(op))
}

fn any_query() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => query_soup(),
        2 => "\\PC{0,80}",
        1 => any::<String>(),
        1 => query_deep(),
        1 => query_long(),
    ]
}

/// A TOML string literal holding `s`, in one of TOML's four quotings (escapes included), or
/// broken on purpose.
fn toml_string(s: String, style: u8) -> String {
    match style % 6 {
        0 => format!("'{}'", s.replace(['\'', '\n', '\r'], "")),
        1 => {
            let mut out = String::from("\"");
            for (i, c) in s.chars().enumerate() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c if c.is_control() || i % 3 == 0 => {
                        if (c as u32) < 0x10000 {
                            out.push_str(&format!("\\u{:04X}", c as u32));
                        } else {
                            out.push_str(&format!("\\U{:08X}", c as u32));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        2 => format!("'''\n{}'''", s.replace("'''", "")),
        3 => format!("\"\"\"\n{} \\\n   \"\"\"", s.replace(['\\', '"'], "")),
        4 => format!("\"{}", s),
        _ => format!("'''{}''''", s.replace("'''", "")),
    }
}

fn rules_toml() -> impl Strategy<Value = String> {
    let name = prop_oneof!["[a-z0-9_-]{1,12}", Just("dup".to_string()), "\\PC{0,10}",];
    let rule = (
        name,
        any::<u8>(),
        any_query(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(name, ns, query, qs, extras)| {
            let mut r = format!(
                "[[rules]]\nname = {}\nquery = {}\n",
                toml_string(name, ns),
                toml_string(query, qs)
            );
            for e in extras {
                r.push_str(match e % 8 {
                    0 => "feeds = [\"yna\", \"한겨레\"]\n",
                    1 => "chats = [-1001234567890, 0x7fffffffffffffff, 0o17, 0b1]\n",
                    2 => "chats = [99999999999999999999]\n",
                    3 => "description = \"\"\"여러\n줄\"\"\"\n",
                    4 => "qeury = \"typo\"\n",
                    5 => "feeds = \"yna\"\n",
                    6 => "query = 3\n",
                    _ => "[rules.sub]\nx = 1\n",
                });
            }
            r
        });
    let head = proptest::sample::select(
        &[
            "",
            "builtin_aliases = false\n",
            "builtin_aliases = \"no\"\n",
            "[aliases]\nsamsung = [\"삼성\", \"Samsung\", \"삼성전자\"]\n",
            "[aliases]\nbad = [\"(x)\", \"\", \"*\"]\none = [\"x\"]\n",
            "aliases = 3\n",
            "rules = 3\n",
            "unknown = 1\n",
        ][..],
    );
    (
        head,
        proptest::collection::vec(rule, 0..6),
        any::<u16>(),
        any::<bool>(),
    )
        .prop_map(|(head, rules, cut, truncate)| {
            let mut src = head.to_string() + &rules.concat();
            if truncate && !src.is_empty() {
                let at = usize::from(cut) % src.len();
                let at = (0..=at)
                    .rev()
                    .find(|&i| src.is_char_boundary(i))
                    .unwrap_or(0);
                src.truncate(at);
            }
            src
        })
}

/// Real feeds, the seeds of the mutations.
const FIXTURES: &[&str] = &[
    "feeds/ko/donga-2022-07-30.xml",
    "feeds/ko/joongang-2022-07-30.xml",
    "feeds/ko/kmib-2022-07-30.xml",
    "feeds/ko/nocut-2022-07-30.xml",
    "feeds/ko/pressian-2022-07-30.xml",
    "feeds/ko/euc-kr-declared-tiny.xml",
    "feeds/en/techcrunch-2011.xml",
    "feeds/en/huffpost-canada-2017.xml",
    "feeds/en/reddit-worldnews-atom-2019.xml",
];

/// Snippets that XML, HTML and charset code find hard.
const HOSTILE: &[&str] = &[
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<!-- - -- --->",
    "<?xml version=\"1.0\" encoding=\"euc-kr\"?>",
    "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    "<?xml version=\"1.0\" encoding=\"iso-2022-kr\"?>",
    "<?xml encoding='bogus'?>",
    "<?xml",
    "<?",
    "?>",
    "<!DOCTYPE rss [<!ENTITY a \"&#38;a;&#38;a;\">]>",
    "<!DOCTYPE x [",
    "<!ENTITY lol \"lol\">",
    "<!",
    "&",
    "&amp;",
    "&amp;amp;amp;",
    "&#0;",
    "&#xFFFFFFFF;",
    "&#55296;",
    "&#x110000;",
    "&#99999999999999999999;",
    "&nbsp;",
    "&lol;",
    "&#",
    "&#x;",
    "quot;",
    "<",
    ">",
    "</",
    "/>",
    "<item>",
    "</item>",
    "<title>",
    "</title>",
    "<link>",
    "<entry>",
    "<rss version=\"2.00\">",
    "<rss>",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
    "<html>",
    "<a href=\"",
    "\"",
    "'",
    "<x:y:z>",
    "xmlns:a=\"\"",
    "<pubDate>2022-13-45 25:61:61 +9999</pubDate>",
    "<pubDate>Sat, 16 07 2022 22:01:07 +0900</pubDate>",
    "<pubDate>99999999999999 년 99 월</pubDate>",
    "<guid>javascript:alert(1)</guid>",
    "<link>http://[::1</link>",
    "<link>//host/path</link>",
    "\u{FEFF}",
    "\u{0}",
    "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[{}]}",
];

/// Bytes that break charsets: lone continuation bytes, truncated sequences, EUC-KR pairs,
/// UTF-16 BOMs.
const HOSTILE_BYTES: &[&[u8]] = &[
    b"\x80",
    b"\xff",
    b"\xe1\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",
    b"\xb0\xa1",
    b"\xc7\xd1",
    b"\xa1",
    b"\xfe\xff",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x0e\x80",
];

fn fixture(rel: &str) -> Vec<u8> {
    crate::fixture(rel)
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(f64),
    Delete(f64, usize),
    Duplicate(f64, usize),
    Insert(f64, usize),
    InsertBytes(f64, usize),
    Flip(f64, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0f64..1.0;
    prop_oneof![
        1 => at.clone().prop_map(Mutation::Truncate),
        2 => (at.clone(), 1usize..2_000).prop_map(|(a, n)| Mutation::Delete(a, n)),
        1 => (at.clone(), 1usize..2_000).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        4 => (at.clone(), 0..HOSTILE.len()).prop_map(|(a, i)| Mutation::Insert(a, i)),
        2 => (at.clone(), 0..HOSTILE_BYTES.len()).prop_map(|(a, i)| Mutation::InsertBytes(a, i)),
        2 => (at, any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
    ]
}

/// Applies mutations at byte positions (deliberately ignoring character boundaries).
fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let pos = |len: usize, at: f64| ((len as f64) * at) as usize;
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Truncate(at) => bytes.truncate(pos(len, at)),
            Mutation::Delete(at, n) => {
                let start = pos(len, at);
                bytes.drain(start..(start + n).min(len));
            }
            Mutation::Duplicate(at, n) => {
                let start = pos(len, at);
                let copy = bytes[start..(start + n).min(len)].to_vec();
                bytes.splice(start..start, copy);
            }
            Mutation::Insert(at, i) => {
                let start = pos(len, at);
                bytes.splice(start..start, HOSTILE[i].bytes());
            }
            Mutation::InsertBytes(at, i) => {
                let start = pos(len, at);
                bytes.splice(start..start, HOSTILE_BYTES[i].iter().copied());
            }
            Mutation::Flip(at, b) => {
                if let Some(x) = bytes.get_mut(pos(len, at)) {
                    *x = b;
                }
            }
        }
    }
    bytes
}

fn mutated_fixture() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(FIXTURES),
        proptest::collection::vec(mutation(), 1..8),
    )
        .prop_map(|(rel, ms)| mutate(fixture(rel), &ms))
}

/// A synthetic RSS or Atom document whose items carry hostile snippets.
fn synthetic_feed() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => proptest::sample::select(HOSTILE).prop_map(|s| s.as_bytes().to_vec()),
        1 => proptest::sample::select(HOSTILE_BYTES).prop_map(<[u8]>::to_vec),
        2 => "\\PC{0,20}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..8),
    ];
    let field = proptest::collection::vec(piece, 0..12).prop_map(|ps| ps.concat());
    let decl = proptest::sample::select(
        &[
            "",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<?xml version=\"1.0\" encoding=\"euc-kr\"?>\n",
            "<?xml version=\"1.0\" encoding=\"ks_c_5601-1987\"?>\n",
            "<?xml version=\"1.0\" encoding=\"shift_jis\"?>\n",
            "<?xml version=\"1.0\" encoding=\"utf-16le\"?>\n",
            "\n  <?xml version='1.0' encoding='cp949' ?>",
        ][..],
    );
    (decl, any::<bool>(), proptest::collection::vec(field, 1..6)).prop_map(
        |(decl, atom, fields)| {
            let mut out = decl.as_bytes().to_vec();
            let (open, close, item, item_end) = if atom {
                (
                    &b"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>"[..],
                    &b"</feed>"[..],
                    &b"<entry><title>"[..],
                    &b"</title><content type=\"html\">x</content></entry>"[..],
                )
            } else {
                (
                    &b"<rss version=\"2.0\"><channel><title>t</title><link>https://e.kr/</link>"[..],
                    &b"</channel></rss>"[..],
                    &b"<item><title>"[..],
                    &b"</title><description>d</description></item>"[..],
                )
            };
            out.extend_from_slice(open);
            for f in fields {
                out.extend_from_slice(item);
                out.extend_from_slice(&f);
                out.extend_from_slice(item_end);
            }
            out.extend_from_slice(close);
            out
        },
    )
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        proptest::sample::select(
            &[
                "application/rss+xml",
                "text/xml; charset=euc-kr",
                "text/xml; charset=UTF-8",
                "text/xml;charset=\"cp949\"",
                "text/xml; charset=utf-16",
                "text/xml; charset=iso-2022-kr",
                "text/xml; charset=replacement",
                "text/xml; charset=",
                "text/xml; charset",
                ";;;=;",
            ][..]
        )
        .prop_map(str::to_string),
        "\\PC{0,30}",
    ])
}

/// HTML tag soup: elements that change the tree builder's mode, misnested formatting, comments,
/// CDATA, entities, huge attributes.
const HTML_PIECES: &[&str] = &[
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<a href=\"x\">",
    "</a>",
    "<table>",
    "</table>",
    "<tr>",
    "<td>",
    "</td>",
    "<th>",
    "<br>",
    "<br/>",
    "</br>",
    "<img src=x alt=\"캡션\">",
    "<script>",
    "</script>",
    "<style>",
    "</style>",
    "<noscript>",
    "<template>",
    "</template>",
    "<svg>",
    "<math>",
    "<select>",
    "<option>",
    "<textarea>",
    "<title>",
    "<xmp>",
    "<plaintext>",
    "<iframe>",
    "<frameset>",
    "<figure>",
    "<figcaption>",
    "</figcaption>",
    "<li>",
    "<ul>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE html>",
    "<?php ?>",
    "<html>",
    "<body>",
    "<head>",
    "</html>",
    "&amp;",
    "&amp;amp;",
    "&lt;p&gt;",
    "&#0;",
    "&#xD800;",
    "&nbsp;",
    "&quot",
    "quot;",
    "&",
    "<",
    ">",
    "</",
    "<a",
    "=\"",
    "본문 문장입니다. ",
    "Text. ",
    "\u{200B}",
    "\u{00AD}",
    "\n\n",
    "\r\n",
    "\u{0}",
    "<article>",
    "<main>",
    "<nav>",
    "<meta charset=\"euc-kr\">",
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=cp949\">",
];

fn html_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => proptest::sample::select(HTML_PIECES).prop_map(str::to_string),
        1 => "\\PC{0,12}",
        1 => (1usize..20_000).prop_map(|n| format!("<p title=\"{}\">", "x".repeat(n))),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|ps| ps.concat())
}

/// One element repeated to depth n, optionally closed.
fn html_deep() -> impl Strategy<Value = String> {
    let tag = proptest::sample::select(
        &[
            "div",
            "b",
            "p",
            "table",
            "li",
            "a",
            "span",
            "font",
            "td",
            "svg",
            "blockquote",
        ][..],
    );
    (tag, 1usize..12_000, any::<bool>()).prop_map(|(tag, depth, close)| {
        let mut s = format!("<{tag}>").repeat(depth);
        s.push_str("본문 문장입니다.");
        if close {
            s.push_str(&format!("</{tag}>").repeat(depth));
        }
        s
    })
}

fn any_html() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => html_soup(),
        1 => any::<String>(),
        1 => html_deep(),
    ]
}

fn any_page() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => any_html().prop_map(String::into_bytes),
        2 => (
            proptest::sample::select(&["summaries/pages/article-ko.html", "summaries/pages/article-euc-kr.html"][..]),
            proptest::collection::vec(mutation(), 1..6),
        )
            .prop_map(|(rel, ms)| mutate(fixture(rel), &ms)),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

fn any_feed() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => mutated_fixture(),
        3 => synthetic_feed(),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

// ---- generated cases -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(400))]
    #[test]
    fn prop_rule_query(q in any_query()) {
        guard("rule_query", rule_query, q.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(200))]
    #[test]
    fn prop_rules_file(src in rules_toml()) {
        guard("rules_file", rules_file, src.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(500))]
    #[test]
    fn prop_feed(body in any_feed(), ct in content_type()) {
        guard("feed", |b| feed_with(b, None), &body);
        if let Some(ct) = ct {
            // The content type travels inside the input: a target is a plain fn of bytes.
            let mut framed = ct.into_bytes();
            framed.push(0);
            framed.extend_from_slice(&body);
            guard("feed", feed_framed, &framed);
        }
    }
}

proptest! {
    #![proptest_config(config(100))]
    #[test]
    fn prop_html_text(html in any_html()) {
        guard("html_text", html_text, html.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(80))]
    #[test]
    fn prop_summary_html(html in any_html()) {
        guard("summary_html", summary_html, html.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(80))]
    #[test]
    fn prop_article(page in any_page()) {
        guard("article", article, &page);
    }
}

// ---- hang guards: shapes at n and 8n ---------------------------------------------------------------

fn rep(unit: &str, n: usize) -> String {
    unit.repeat(n)
}

#[test]
fn hang_rule_query() {
    let shapes: &[Shape] = &[
        ("terms", |n| rep("삼성 AND ", n).into_bytes()),
        ("or", |n| (rep("a OR ", n) + "b").into_bytes()),
        ("phrases", |n| rep("\"한국 기업\" ", n).into_bytes()),
        ("open quotes", |n| rep("‘a ", n).into_bytes()),
        ("fields", |n| (rep("title:", n) + "a").into_bytes()),
        ("one word", |n| rep("가", n).into_bytes()),
        ("near", |n| rep("a NEAR/3 b AND ", n).into_bytes()),
    ];
    hang_guard("rule_query", rule_query, shapes, 500);
}

#[test]
fn hang_rules_file() {
    let shapes: &[Shape] = &[
        ("rules", |n| {
            (0..n)
                .map(|i| format!("[[rules]]\nname = \"r{i}\"\nquery = '삼성 AND 반도체*'\n"))
                .collect::<String>()
                .into_bytes()
        }),
        ("duplicates", |n| {
            rep("[[rules]]\nname = \"r\"\nquery = 'a'\n", n).into_bytes()
        }),
        ("escapes", |n| {
            format!(
                "[[rules]]\nname = \"e\"\nquery = \"{} x\"\n",
                rep("\\uAC00", n)
            )
            .into_bytes()
        }),
        ("long query", |n| {
            format!(
                "[[rules]]\nname = \"l\"\nquery = '''\n{}'''\n",
                rep("삼성 OR\n", n)
            )
            .into_bytes()
        }),
        ("arrays", |n| {
            (String::from("x = ") + &rep("[", n)).into_bytes()
        }),
        ("tables", |n| {
            (String::from("x = ") + &rep("{a=", n)).into_bytes()
        }),
    ];
    hang_guard("rules_file", rules_file, shapes, 2_000);
}

fn rss_with(inner: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>\
         <item><title>제목</title><link>https://e.kr/1</link><description>{inner}</description></item>\
         </channel></rss>"
    )
    .into_bytes()
}

#[test]
fn hang_feed() {
    let shapes: &[Shape] = &[
        ("items", |n| {
            let items: String = (0..n / 2)
                .map(|i| {
                    format!("<item><title>제목 {i}</title><link>https://e.kr/{i}</link></item>")
                })
                .collect();
            format!("<rss version=\"2.0\"><channel>{items}</channel></rss>").into_bytes()
        }),
        ("nested elements", |n| {
            rss_with(&(rep("<a>", n) + &rep("</a>", n)))
        }),
        ("unclosed elements", |n| rss_with(&rep("<a>", n))),
        ("escaped nesting", |n| rss_with(&rep("&lt;div&gt;", n))),
        ("ampersands", |n| rss_with(&rep("AT&T ", n))),
        ("entities", |n| {
            rss_with(&rep("&amp;amp;&#39;&nbsp;quot;", n))
        }),
        ("cdata", |n| rss_with(&rep("<![CDATA[<p>본문</p>]]>", n))),
        ("declarations", |n| {
            (rep("<!>", 16 * n) + "<rss/>").into_bytes()
        }),
        ("processing instructions", |n| {
            (rep("<?x?>", n) + "<rss/>").into_bytes()
        }),
        ("comments", |n| (rep("<!---->", n) + "<rss/>").into_bytes()),
        ("unterminated comment", |n| {
            (String::from("<rss><!--") + &rep("a", n)).into_bytes()
        }),
        ("attribute", |n| {
            format!("<rss version=\"{}\"/>", rep("2", n)).into_bytes()
        }),
        ("attributes", |n| {
            format!(
                "<rss {}/>",
                (0..n).map(|i| format!("a{i}='x' ")).collect::<String>()
            )
            .into_bytes()
        }),
        ("euc-kr", |n| {
            let text = rep("가", n);
            let (bytes, _, _) = encoding_rs::EUC_KR.encode(&text);
            [
                &b"<rss version=\"2.0\"><channel><item><title>"[..],
                &bytes,
                b"</title></item></channel></rss>",
            ]
            .concat()
        }),
    ];
    hang_guard("feed", |b| feed_with(b, None), shapes, 3_000);
}

/// Shapes for both HTML → text paths.
const HTML_SHAPES: &[Shape] = &[
    ("divs", |n| {
        (rep("<div>", n) + "x" + &rep("</div>", n)).into_bytes()
    }),
    ("open divs", |n| (rep("<div>", n) + "x").into_bytes()),
    ("bold", |n| (rep("<b>", n) + "x").into_bytes()),
    ("tables", |n| (rep("<table><tr><td>", n) + "x").into_bytes()),
    ("anchors", |n| (rep("<a href=x>", n) + "x").into_bytes()),
    ("misnested", |n| rep("<b><i>x</b></i>", n).into_bytes()),
    ("formatting then paragraphs", |n| {
        let open: String = (0..n / 8).map(|i| format!("<b id={i}>")).collect();
        (open + "</div>" + &rep("<p>x", n)).into_bytes()
    }),
    ("paragraphs", |n| rep("<p>문장입니다. ", n).into_bytes()),
    ("escaped", |n| {
        rep("&amp;lt;div&amp;gt;", n / 2).into_bytes()
    }),
    ("entities", |n| {
        rep("&amp;&#39;quot;&nbsp;", n / 2).into_bytes()
    }),
    ("comment", |n| {
        (String::from("<!--") + &rep("a", n)).into_bytes()
    }),
    ("attribute", |n| {
        format!("<p title=\"{}\">x", rep("x", n)).into_bytes()
    }),
    ("lt", |n| rep("<", n).into_bytes()),
    ("unmatched end tags", |n| {
        (rep("<div></b>", n) + "x").into_bytes()
    }),
    ("tag starts", |n| rep("<a", n).into_bytes()),
    ("unclosed brackets", |n| rep("(", 4 * n).into_bytes()),
    ("unclosed quotes", |n| rep("“", 4 * n).into_bytes()),
    ("unclosed caption groups", |n| rep("[사진=", n).into_bytes()),
    ("mismatched brackets", |n| {
        (rep("(", 2 * n) + &rep("]", 2 * n)).into_bytes()
    }),
];

#[test]
fn hang_html_text() {
    hang_guard("html_text", html_text, HTML_SHAPES, 1_500);
}

#[test]
fn hang_summary_html() {
    hang_guard("summary_html", summary_html, HTML_SHAPES, 1_000);
}

#[test]
fn hang_article() {
    let shapes: &[Shape] = &[
        ("divs", |n| {
            page_with(&(rep("<div>", n) + "x" + &rep("</div>", n)))
        }),
        ("open divs", |n| page_with(&rep("<div>", n))),
        ("paragraphs", |n| {
            page_with(&rep("<p>지카바이러스는 남성 생식능력을 저하시킨다. ", n))
        }),
        ("links", |n| page_with(&rep("<a href=\"/x\">메뉴</a> ", n))),
        ("tables", |n| page_with(&rep("<table><tr><td>", n))),
        ("metas", |n| rep("<meta name=x>", n).into_bytes()),
    ];
    hang_guard("article", article, shapes, 500);
}

fn page_with(inner: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>제목</title></head>\
         <body><article><h1>제목</h1>{inner}<p>본문 문장입니다. 두 번째 문장입니다.</p></article></body></html>"
    )
    .into_bytes()
}

// ---- the corpus ------------------------------------------------------------------------------------

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target)
}

fn run_corpus(target: &str) {
    let Some(&(_, run)) = TARGETS.iter().find(|(name, _)| *name == target) else {
        panic!("no target {target}");
    };
    let dir = corpus_dir(target);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => panic!("corpus {}: {e}", dir.display()),
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    for file in files {
        let input = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let took = guard(target, run, &input);
        println!("{}: {took:?}", file.display());
    }
}

#[test]
fn corpus_rule_query() {
    run_corpus("rule_query");
}

#[test]
fn corpus_rules_file() {
    run_corpus("rules_file");
}

#[test]
fn corpus_feed() {
    run_corpus("feed");
}

#[test]
fn corpus_html_text() {
    run_corpus("html_text");
}

#[test]
fn corpus_summary_html() {
    run_corpus("summary_html");
}

#[test]
fn corpus_article() {
    run_corpus("article");
}

/// Every corpus directory belongs to a target (a typo would leave seeds unrun).
#[test]
fn corpus_directories_are_targets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let entries = std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            assert!(
                TARGETS.iter().any(|(t, _)| *t == name),
                "tests/data/fuzz/{name} is no target"
            );
        }
    }
}

// ---- regressions: what this file found -------------------------------------------------------------

fn corpus_file(target: &str, name: &str) -> Vec<u8> {
    let path = corpus_dir(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Thousands of nested `(`, `NOT`, `-` overflowed the parser's stack (recursive descent);
/// now the query is refused with a column.
#[test]
fn regression_rule_query_deep_nesting() {
    for name in [
        "crash-deep-not-parens.txt",
        "crash-deep-parens.txt",
        "crash-deep-minus.txt",
        "crash-deep-not.txt",
    ] {
        let input = corpus_file("rule_query", name);
        guard("rule_query", rule_query, &input);
        let got = kkachi::rules::check_query(&String::from_utf8_lossy(&input));
        let err = got.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("nested more than"), "{name}: {err:?}");
    }
    // Nesting a person writes is fine.
    let q = "(".repeat(30) + "삼성" + &")".repeat(30) + " AND NOT (NOT (NOT 주가))";
    assert!(kkachi::rules::check_query(&q).is_ok());
}

/// `kkachi rules test` with thousands of terms took seconds: every hit copied the whole text to
/// show 30 characters of context.
#[test]
fn regression_rule_query_many_terms() {
    let input = corpus_file("rule_query", "hang-many-or-terms.txt");
    let q = String::from_utf8_lossy(&input).into_owned();
    let text = "a ".repeat(150_000) + "b";
    let report = guard_value(move || {
        let doc = kkachi::rules::Doc {
            feed: "f",
            title: &text,
            summary: "",
            content: &text,
        };
        kkachi::rules::test_query(&q, &kkachi::rules::RuleSet::empty(), &doc).ok()
    });
    assert!(report.is_some_and(|r| r.matched));
}

/// `title:title:title:…a` re-read the rest of the word for every prefix (quadratic).
#[test]
fn regression_rule_query_field_chain() {
    let input = corpus_file("rule_query", "hang-field-chain.txt");
    guard("rule_query", rule_query, &input);
    let long = "title:".repeat(80_000) + "a";
    let err = guard_value(move || {
        kkachi::rules::check_query(&long)
            .err()
            .map(|e| e.to_string())
    });
    assert_eq!(
        err.as_deref(),
        Some("column 7: expected a term, a phrase or ( after title:")
    );
}

/// Deeply nested pages: readability's scoring is quadratic in the depth (4,000 `<div>`s took
/// minutes in a debug build) and recursive (8,500 `<svg>`s overflowed the stack). Such a page
/// has no article; the summary falls back to the feed's text.
#[test]
fn regression_article_deep_nesting() {
    for name in ["hang-deep-divs.html", "crash-deep-svg.html"] {
        let input = corpus_file("article", name);
        guard("article", article, &input);
        let html = String::from_utf8_lossy(&input).into_owned();
        let got = guard_value(move || kkachi::summary::extract_article(&html, None));
        assert_eq!(got, None, "{name}");
    }
    // Ordinary depth, and thousands of unclosed paragraphs (which do not nest), still read.
    let page = page_with(
        &(rep("<div>", 40)
            + &rep("<p>지카바이러스는 남성 생식능력을 저하시킨다. ", 600)
            + &rep("</div>", 40)),
    );
    let got = guard_value(move || {
        kkachi::summary::extract_article(&String::from_utf8_lossy(&page), None)
    });
    assert!(got.is_some_and(|a| a.text.contains("지카바이러스는")));
}

/// The summary's HTML path parsed any depth: html5ever's tree builder is quadratic in it.
#[test]
fn regression_summary_html_deep_nesting() {
    let input = corpus_file("summary_html", "hang-deep-divs.html");
    guard("summary_html", summary_html, &input);
    let html = String::from_utf8_lossy(&input).into_owned();
    let text = guard_value(move || kkachi::summary::html_to_text(&html));
    assert_eq!(text, "x");
}

/// End tags that close nothing (`<div></b>`) counted as closing: the depth estimate missed the
/// nesting and html5ever's quadratic tree builder got it all (16,000 levels: half a minute).
#[test]
fn regression_html_text_unmatched_end_tags() {
    let input = corpus_file("html_text", "hang-unmatched-end-tags.html");
    guard("html_text", html_text, &input);
    let html = String::from_utf8_lossy(&input).into_owned();
    assert_eq!(guard_value(move || kkachi::text::html_to_text(&html)), "x");
}

/// `<div/>` is an open `<div>` in HTML (the `/` counts only in SVG and MathML): the depth
/// estimate took it for an empty element.
#[test]
fn regression_html_text_self_closing_divs() {
    let input = corpus_file("html_text", "hang-self-closing-divs.html");
    guard("html_text", html_text, &input);
    let html = String::from_utf8_lossy(&input).into_owned();
    assert_eq!(guard_value(move || kkachi::text::html_to_text(&html)), "x");
}

/// LexRank is quadratic in the number of sentences (in time and memory: an n × n matrix):
/// 16,000 sentences took minutes and 2 GB. Only the first sentences of a source are ranked.
#[test]
fn regression_summary_html_many_sentences() {
    let seed = corpus_file("summary_html", "many-sentences.html");
    guard("summary_html", summary_html, &seed);
    let html = String::from_utf8_lossy(&seed).repeat(8);
    let summary = guard_value(move || {
        kkachi::summary::summarize(
            &SummaryInput {
                title: "",
                description: &html,
                content: None,
                article: None,
            },
            300,
        )
    });
    assert!(summary.starts_with("문장입니다."), "{summary:?}");
}

/// Brackets and quotes that never close: the sentence splitter searched its whole stack of open
/// ones at every character, and the cleaner searched the rest of the sentence for a closer at
/// every opener (32,000 `(` took a quarter of a minute, 8,000 `(사진=` most of a minute).
#[test]
fn regression_summary_html_unclosed_brackets() {
    for name in [
        "hang-unclosed-brackets.txt",
        "hang-unclosed-caption-groups.txt",
    ] {
        let input = corpus_file("summary_html", name);
        guard("summary_html", summary_html, &input);
    }
    for unit in ["(", "[", "“", "(사진=", "[사진=", "(]"] {
        let text = unit.repeat(60_000 / unit.len()) + "가 말했다.";
        guard("summary_html", summary_html, text.as_bytes());
    }
}

/// Markup declarations before the root (`<!>`): finding the root searched the rest of the
/// document for a `[` at each one (quadratic: a 3 MB body took minutes).
#[test]
fn regression_feed_many_declarations() {
    let body = rep("<!>", 1_000_000) + "<rss version=\"2.0\"><channel></channel></rss>";
    guard("feed", feed, body.as_bytes());
    let got = guard_value(move || {
        kkachi::feed::parse_feed("f", body.as_bytes(), None, chrono_tz::Asia::Seoul)
            .map(|s| s.len())
            .map_err(|e| e.to_string())
    });
    assert!(got.is_err(), "{got:?}");
}

/// 70,000 nested elements overflowed feed-rs's namespace reader (its nesting level is a `u16`:
/// a panic in a debug build, silent wrapping in release). Feeds nest a handful of levels.
#[test]
fn regression_feed_deep_nesting() {
    let inner = rep("<a>", 70_000) + &rep("</a>", 70_000);
    let body = rss_with(&inner);
    guard("feed", feed, &body);
    let got = guard_value(move || {
        kkachi::feed::parse_feed("f", &body, None, chrono_tz::Asia::Seoul)
            .map(|s| s.len())
            .map_err(|e| e.to_string())
    });
    assert_eq!(
        got,
        Err(
            "not valid XML at line 1, column 3206: elements nested more than 1024 deep".to_string()
        )
    );
}

/// Runs `f` under the same cap and stack as [`guard`] and returns its value.
fn guard_value<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let _ = tx.send(f());
        });
    if let Err(e) = spawned {
        panic!("cannot start the thread: {e}");
    }
    match rx.recv_timeout(CAP) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("panicked (see above)"),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\nHANG: {} did not return within {CAP:?}",
                test_name()
            );
            std::process::abort();
        }
    }
}
