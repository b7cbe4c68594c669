//! Feed bytes → normalised [`Story`]s: decoding, repair, parsing (feed-rs), dates. Pure: no IO,
//! no `.await`, no global state.
//!
//! Owns everything between the fetched body and the story list. It must not fetch, store or
//! match: `fetch` hands it raw bytes and the HTTP `Content-Type`; `store` decides what is new.
//!
//! The stages, in the order a body goes through them:
//! - [`decode()`] (`decode.rs`): raw bytes → UTF-8 text with a true XML declaration, choosing the
//!   charset from the evidence (BOM, UTF-8 validity, HTTP `charset=`, XML `encoding=`, EUC-KR),
//!   replacing and counting the odd malformed byte;
//! - `repair.rs`: the repairs and checks before feed-rs (a missing RSS version, bare `&`, an
//!   HTML root, well-formedness and depth), with error positions in the feed as fetched; then
//!   the rewrites of elements feed-rs would drop or refuse (Atom 0.3, odd `type=`s, foreign
//!   namespaces, extension stand-ins);
//! - [`parse_date`] (`date.rs`): the date formats feeds use, Korean ones included;
//! - [`parse()`] (`parse.rs`): the whole path, feed-rs with our date parser and id rule, entries
//!   → [`Story`]s, and the warnings the user should hear ([`Parsed`]).
//!
//! - [`discover`]: the feeds an HTML page advertises (`<link rel="alternate">`) and the usual
//!   feed paths of a site, for `kkachi feed find`.
//!
//! Errors are [`FeedError`]; their messages name the reason, lower-case.

mod date;
mod decode;
pub mod discover;
mod parse;
mod repair;

pub use date::parse_date;
pub use decode::decode;
pub use parse::{parse, parse_at, parse_feed};

use crate::story::Story;

/// Why a feed body could not become stories. Messages name the reason, lower-case; the caller
/// adds which feed it was.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("empty document")]
    Empty,
    #[error("cannot decode: not utf-8, no usable charset given, and not euc-kr either")]
    Undecodable,
    #[error("unsupported encoding `{label}`")]
    UnsupportedEncoding { label: String },
    #[error("{}", xml_message(*.position, .message))]
    Xml {
        /// 1-based line and column (characters) when the XML reader could say where.
        position: Option<(usize, usize)>,
        message: String,
    },
    #[error("not an RSS or Atom feed{}", root_note(root.as_deref()))]
    NotAFeed { root: Option<String> },
    #[error("invalid feed: {0}")]
    Invalid(String),
}

fn root_note(root: Option<&str>) -> String {
    root.map(|r| format!(" (the root element is <{r}>)"))
        .unwrap_or_default()
}

fn xml_message(position: Option<(usize, usize)>, message: &str) -> String {
    match position {
        Some((line, col)) => format!("not valid XML at line {line}, column {col}: {message}"),
        None => format!("not valid XML: {message}"),
    }
}

/// A parsed feed: its stories, in feed order, and what the user should hear about it (bytes
/// replaced while decoding, items that could not become stories). The daemon logs every
/// warning with the feed's name; `feed test` prints them.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The feed's own title (`<channel><title>`, Atom `<title>`), when it has one.
    pub title: Option<String>,
    pub stories: Vec<Story>,
    pub warnings: Vec<String>,
}

/// What the tests of every stage share: the fixture feeds and the helpers that read them.
#[cfg(test)]
mod test_support {
    use chrono_tz::Tz;
    use encoding_rs::EUC_KR;

    use crate::story::Story;

    macro_rules! fixture {
        ($path:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/feeds/",
                $path
            ))
        };
    }

    pub(super) const FIXTURES: [(&str, &[u8]); 9] = [
        (
            "ko/donga-2022-07-30.xml",
            fixture!("ko/donga-2022-07-30.xml"),
        ),
        (
            "ko/joongang-2022-07-30.xml",
            fixture!("ko/joongang-2022-07-30.xml"),
        ),
        ("ko/kmib-2022-07-30.xml", fixture!("ko/kmib-2022-07-30.xml")),
        (
            "ko/nocut-2022-07-30.xml",
            fixture!("ko/nocut-2022-07-30.xml"),
        ),
        (
            "ko/pressian-2022-07-30.xml",
            fixture!("ko/pressian-2022-07-30.xml"),
        ),
        (
            "ko/euc-kr-declared-tiny.xml",
            fixture!("ko/euc-kr-declared-tiny.xml"),
        ),
        ("en/techcrunch-2011.xml", fixture!("en/techcrunch-2011.xml")),
        (
            "en/huffpost-canada-2017.xml",
            fixture!("en/huffpost-canada-2017.xml"),
        ),
        (
            "en/reddit-worldnews-atom-2019.xml",
            fixture!("en/reddit-worldnews-atom-2019.xml"),
        ),
    ];

    pub(super) const SEOUL: Tz = chrono_tz::Asia::Seoul;

    pub(super) fn parse(name: &str, bytes: &[u8]) -> Vec<Story> {
        match super::parse_feed(name, bytes, None, SEOUL) {
            Ok(stories) => stories,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    /// A synthetic EUC-KR feed, including 똠 and 뷁 (CP949 extension syllables).
    pub(super) fn euc_kr_feed(declaration: &str) -> Vec<u8> {
        let xml = format!(
            "{declaration}<rss version=\"2.0\"><channel><title>한글</title>\
             <item><title>똠방각하 뷁 한국어 제목</title><link>https://example.kr/1</link>\
             <description>본문입니다…</description></item></channel></rss>"
        );
        let (bytes, _, unmappable) = EUC_KR.encode(&xml);
        assert!(!unmappable);
        bytes.into_owned()
    }

    pub(super) fn error(body: &[u8]) -> String {
        match super::parse_feed("bad", body, None, SEOUL) {
            Ok(stories) => panic!(
                "{:?}: expected an error, got {} stories",
                String::from_utf8_lossy(body),
                stories.len()
            ),
            Err(e) => e.to_string(),
        }
    }
}
