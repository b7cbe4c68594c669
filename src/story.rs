//! The normalised story: what every later stage sees of a feed item, its canonical URL, and
//! its dedup keys. Pure: no IO. Parsing a feed into stories is `feed`; plain-text clean-up is
//! `text`; persisting keys is `store`.
//!
//! # Dedup keys (an invariant: changing anything here re-alerts every story)
//!
//! A story is new only if none of its keys was seen before. Each key is the SHA-256 of a
//! versioned, `\x1f`-separated (ASCII unit separator) UTF-8 string:
//!
//! | key     | SHA-256 input                                             | absent when |
//! |---------|-----------------------------------------------------------|-------------|
//! | `guid`  | `kkachi/v1\x1fguid\x1f{feed}\x1f{id}`                     | never       |
//! | `url`   | `kkachi/v1\x1furl\x1f{canonical_url(url)}`                 | `url` is not an absolute URL |
//! | `title` | `kkachi/v1\x1ftitle\x1f{feed}\x1f{normalise_title(title)}` | the normalised title has fewer than [`MIN_TITLE_CHARS`] non-space characters |
//!
//! - `{feed}` is the configured feed name, `{id}` the story id as stored in [`Story::id`]
//!   (the GUID / Atom id as the feed gives it, trimmed).
//! - The URL key is *not* feed-scoped: one article in two feeds of the same outlet is one story.
//!   The GUID and title keys are: a generic title ("속보") or a reused GUID in another feed is not
//!   the same story.
//! - [`canonical_url`]: `&amp;` damage repaired; parsed by the `url` crate (WHATWG: scheme and
//!   host lower-cased, IDN hosts in punycode, default port dropped, non-ASCII path and query
//!   percent-encoded); fragment dropped; tracking parameters removed (`utm_*`, `fbclid`,
//!   `gclid`, `dclid`, `msclkid`, `yclid`, `igshid`, `mc_cid`, `mc_eid`, `_ga`, `cloc`, and
//!   `ref`/`from`/`src`/`source`/`rss` parameters whose value mentions `rss`); the remaining
//!   parameters keep their order and their raw spelling; percent-escapes upper-cased; a
//!   `&key=value` tail glued onto a path that has no `?` (pressian's `…16549&amp;ref=rss`) is
//!   read as the query.
//! - [`normalise_title`]: NFKC, lower-case, zero-width characters dropped, every run of
//!   characters that are not letters or digits collapsed to one space, trimmed.
//!
//! Golden tests below pin the hex values; if one fails, the algorithm changed: bump `v1` and plan
//! the migration in `store` instead of editing the expected value.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use url::Url;

/// A feed item after decoding and normalisation.
///
/// JSON shape (`feed test --format json`, `rules match` input):
/// `{"id","feed","title","url","published","summary","authors","categories"}` plus the optional
/// `content`. Fields may be added, never renamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    /// Feed-scoped identifier: the item's GUID / Atom id, else its canonical URL.
    pub id: String,
    /// The configured feed name.
    pub feed: String,
    /// Plain text: HTML stripped, entities decoded, whitespace collapsed.
    pub title: String,
    /// Canonical URL (lower-case scheme and host, no fragment, no tracking parameters).
    pub url: String,
    /// RFC 3339 with offset, or null when the feed gives none.
    pub published: Option<DateTime<FixedOffset>>,
    /// Plain text, cut-off markers removed.
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Plain text of the full content (`content:encoded`, Atom content) when the feed carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// A 32-byte SHA-256 dedup key.
pub type Key = [u8; 32];

/// The keys under which a story counts as seen (see the module doc for the exact format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DedupKeys {
    /// Feed-scoped GUID / Atom id (or the fallback id).
    pub guid: Key,
    /// Canonical URL, across feeds; `None` when the story has no absolute URL.
    pub url: Option<Key>,
    /// Normalised title within the feed; `None` when the title is too short to mean anything.
    pub title: Option<Key>,
}

impl DedupKeys {
    /// Every key that is present, in the order guid, url, title.
    pub fn all(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.guid)
            .chain(self.url.as_ref())
            .chain(self.title.as_ref())
    }
}

/// Version tag that starts every key input. Changing it (or the format) re-alerts everything.
const KEY_VERSION: &str = "kkachi/v1";
const SEP: char = '\x1f';

/// Titles whose normalised form has fewer non-space characters than this get no title key.
pub const MIN_TITLE_CHARS: usize = 4;

/// The dedup keys of a story (pure; `store` persists them).
pub fn dedup_keys(story: &Story) -> DedupKeys {
    let guid = key(&["guid", &story.feed, &story.id]);
    let url = canonical_url(&story.url).map(|u| key(&["url", &u]));
    let title = normalise_title(&story.title);
    let title = (title.chars().filter(|c| *c != ' ').count() >= MIN_TITLE_CHARS)
        .then(|| key(&["title", &story.feed, &title]));
    DedupKeys { guid, url, title }
}

fn key(fields: &[&str]) -> Key {
    let mut h = Sha256::new();
    h.update(KEY_VERSION.as_bytes());
    for f in fields {
        let mut sep = [0u8; 1];
        h.update(SEP.encode_utf8(&mut sep).as_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().into()
}

/// A title reduced to what makes it the same title: NFKC, lower-case, zero-width characters
/// dropped, runs of anything but letters and digits collapsed to one space, trimmed.
pub fn normalise_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut gap = false;
    for c in title.nfkc().flat_map(char::to_lowercase) {
        if matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
        ) {
            continue;
        }
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// Query parameters that only track where a click came from.
fn is_tracking_param(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_")
        || matches!(
            name.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "yclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "cloc"
        )
        || (matches!(name.as_str(), "ref" | "from" | "src" | "source" | "rss")
            && value.to_ascii_lowercase().contains("rss"))
}

/// The canonical form of a story URL (see the module doc), or `None` when `raw` is not an
/// absolute http(s) URL.
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_string();
    // `&amp;` left by double escaping upstream; a literal "&amp;" is never meant in a URL.
    while s.contains("&amp;") {
        s = s.replace("&amp;", "&");
    }
    let mut url = Url::parse(&s).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_fragment(None);
    if url.query().is_none() {
        glue_path_query(&mut url);
    }
    if let Some(query) = url.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let name = percent_decode(name);
                !is_tracking_param(&name, &percent_decode(value))
            })
            .collect();
        let kept = kept.join("&");
        url.set_query(if kept.is_empty() { None } else { Some(&kept) });
    }
    Some(upper_case_escapes(url.as_str()))
}

/// `…/2022073002525916549&ref=rss` (the `?` lost upstream): the `&name=value…` tail of the last
/// path segment becomes the query.
fn glue_path_query(url: &mut Url) {
    let path = url.path().to_string();
    let last_start = path.rfind('/').map_or(0, |i| i + 1);
    let Some(amp) = path[last_start..].find('&').map(|i| last_start + i) else {
        return;
    };
    let tail = &path[amp + 1..];
    if !tail.split('&').all(|p| p.contains('=')) {
        return;
    }
    let (head, tail) = (path[..amp].to_string(), tail.to_string());
    url.set_path(&head);
    url.set_query(Some(&tail));
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `%e2%80%a6` → `%E2%80%A6`, so two spellings of one escape are one URL.
fn upper_case_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(off) = s[i..].find('%') {
        let at = i + off;
        out.push_str(&s[i..at]);
        if at + 2 < b.len() && b[at + 1].is_ascii_hexdigit() && b[at + 2].is_ascii_hexdigit() {
            out.push('%');
            out.push(b[at + 1].to_ascii_uppercase() as char);
            out.push(b[at + 2].to_ascii_uppercase() as char);
            i = at + 3;
        } else {
            out.push('%');
            i = at + 1;
        }
    }
    out.push_str(&s[i..]);
    out
}

/// A bare story for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn test_story(feed: &str, id: &str, title: &str, url: &str) -> Story {
    Story {
        id: id.into(),
        feed: feed.into(),
        title: title.into(),
        url: url.into(),
        published: None,
        summary: String::new(),
        authors: vec![],
        categories: vec![],
        content: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(feed: &str, id: &str, title: &str, url: &str) -> Story {
        test_story(feed, id, title, url)
    }

    #[test]
    fn canonical_url_table() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "https://news.joins.com/article/24232833?cloc=rss-news-total_list",
                Some("https://news.joins.com/article/24232833"),
            ),
            (
                "https://www.pressian.com/pages/articles/2022073002525916549&amp;ref=rss",
                Some("https://www.pressian.com/pages/articles/2022073002525916549"),
            ),
            (
                "https://www.pressian.com/pages/articles/2022073002525916549&amp;amp;ref=rss",
                Some("https://www.pressian.com/pages/articles/2022073002525916549"),
            ),
            (
                "https://news.kmib.co.kr/article/view.asp?arcid=0017326476&amp;code=61111111&amp;sid1=pol",
                Some(
                    "https://news.kmib.co.kr/article/view.asp?arcid=0017326476&code=61111111&sid1=pol",
                ),
            ),
            (
                "https://example.com/a?utm_source=rss&id=7&utm_medium=feed&UTM_Campaign=x&fbclid=abc&gclid=z",
                Some("https://example.com/a?id=7"),
            ),
            (
                "https://example.com/a?ref=rss&from=rss_feed&ref=home",
                Some("https://example.com/a?ref=home"),
            ),
            (
                "HTTPS://WWW.Example.COM:443/Path/Is/Kept#comments",
                Some("https://www.example.com/Path/Is/Kept"),
            ),
            ("http://example.com:80", Some("http://example.com/")),
            (
                "  https://example.com/x?#frag  ",
                Some("https://example.com/x"),
            ),
            (
                "https://www.example.co.kr/뉴스/기사?제목=한국",
                Some(
                    "https://www.example.co.kr/%EB%89%B4%EC%8A%A4/%EA%B8%B0%EC%82%AC?%EC%A0%9C%EB%AA%A9=%ED%95%9C%EA%B5%AD",
                ),
            ),
            (
                "https://www.example.co.kr/%eb%89%b4%ec%8a%a4/%EA%B8%B0%EC%82%AC?%ec%a0%9c%eb%aa%a9=%ed%95%9c%ea%b5%ad",
                Some(
                    "https://www.example.co.kr/%EB%89%B4%EC%8A%A4/%EA%B8%B0%EC%82%AC?%EC%A0%9C%EB%AA%A9=%ED%95%9C%EA%B5%AD",
                ),
            ),
            ("https://한국.kr/a", Some("https://xn--3e0b707e.kr/a")),
            ("https://example.com/a&b", Some("https://example.com/a&b")),
            (
                "https://example.com/a?b=1&utm_source=x#top",
                Some("https://example.com/a?b=1"),
            ),
            ("/relative/path", None),
            ("not a url", None),
            ("", None),
            ("mailto:editor@example.com", None),
            ("javascript:alert(1)", None),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_url(raw).as_deref(), *want, "raw: {raw:?}");
        }
        // Idempotent.
        for (_, want) in cases.iter().filter(|(_, w)| w.is_some()) {
            let w = want.unwrap_or_default();
            assert_eq!(canonical_url(w).as_deref(), Some(w));
        }
    }

    #[test]
    fn normalise_title_table() {
        let cases: &[(&str, &str)] = &[
            ("Hello, World!", "hello world"),
            ("  ＯｐｅｎＡＩ,  새 모델 공개… ", "openai 새 모델 공개"),
            (
                "[속보] 삼성전자 “반도체 투자 확대”",
                "속보 삼성전자 반도체 투자 확대",
            ),
            ("㈜카카오", "주 카카오"),
            ("zero\u{200B}width", "zerowidth"),
            ("...", ""),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_title(input), *want, "input: {input:?}");
        }
    }

    #[test]
    fn dedup_keys_golden() {
        let s = story(
            "donga",
            "https://www.donga.com/news/Economy/article/all/20220730/114732889/1",
            "부산은행서도 직원 횡령…해외서 들어온 14억여원 빼돌려",
            "https://www.donga.com/news/Economy/article/all/20220730/114732889/1",
        );
        let k = dedup_keys(&s);
        assert_eq!(
            hex::encode(k.guid),
            "27f6c4fc555d4725eab523cbaa07b5dba8eb2681c9e6bd1b1bd35048c5c82980"
        );
        assert_eq!(
            k.url.map(hex::encode).as_deref(),
            Some("e53717533885efb0b5bb7fee3968b62cf31453a6c7a151ca9dff12887f05f5f2")
        );
        assert_eq!(
            k.title.map(hex::encode).as_deref(),
            Some("a1fe7f3467e96f89ca63e4a69be7baa62ad998f437ac5baa57ad9408213c23a8")
        );
        assert_eq!(k.all().count(), 3);

        // The input format itself, spelled out.
        let guid_input = "kkachi/v1\x1fguid\x1fdonga\x1fhttps://www.donga.com/news/Economy/article/all/20220730/114732889/1";
        assert_eq!(
            k.guid,
            <[u8; 32]>::from(Sha256::digest(guid_input.as_bytes()))
        );
        let title_input =
            "kkachi/v1\x1ftitle\x1fdonga\x1f부산은행서도 직원 횡령 해외서 들어온 14억여원 빼돌려";
        assert_eq!(
            k.title,
            Some(<[u8; 32]>::from(Sha256::digest(title_input.as_bytes())))
        );
    }

    #[test]
    fn dedup_keys_golden_short_title_and_no_url() {
        let k = dedup_keys(&story("nocut", "title:속보", "속보", ""));
        assert_eq!(
            hex::encode(k.guid),
            "d9a17f286ed8e71a64b0684e678138ad95541db81cca1266762fb5989ef70416"
        );
        assert_eq!(k.url, None);
        assert_eq!(k.title, None);
        assert_eq!(k.all().count(), 1);
    }

    #[test]
    fn dedup_keys_scoping() {
        let a = story(
            "hani",
            "1",
            "같은 기사 제목입니다",
            "https://www.hani.co.kr/arti/1.html?utm_source=rss",
        );
        let mut b = story(
            "hani-politics",
            "2",
            "같은 기사 제목입니다",
            "https://www.hani.co.kr/arti/1.html",
        );
        let (ka, kb) = (dedup_keys(&a), dedup_keys(&b));
        assert_eq!(ka.url, kb.url, "the url key is not feed-scoped");
        assert_ne!(ka.title, kb.title, "the title key is feed-scoped");
        assert_ne!(ka.guid, kb.guid);
        // An edited GUID with the same title in the same feed still collides on the title.
        b.feed = "hani".into();
        b.url = "https://www.hani.co.kr/arti/2.html".into();
        assert_eq!(dedup_keys(&b).title, ka.title);
        // Punctuation and width differences do not make a new title.
        b.title = "같은 기사,  제목입니다!".into();
        assert_eq!(dedup_keys(&b).title, ka.title);
    }
}
