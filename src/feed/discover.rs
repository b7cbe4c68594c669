//! Feed discovery for `kkachi feed find`: the feeds a page advertises and the paths sites
//! usually serve them at. Pure: the caller fetches the page and tries each candidate with the
//! feed parser.
//!
//! A page advertises a feed with `<link rel="alternate" type="application/rss+xml" href=…>`
//! (or `atom+xml`, `rdf+xml`, `application/feed+json`, and the `text/xml` / `application/xml`
//! some Korean outlets use); hrefs resolve against `<base href>` when present, else the page's
//! address.

use dom_query::Document;

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A `<link rel="alternate">` in the page.
    Advertised,
    /// One of the usual paths ([`COMMON_PATHS`]), tried because sites often serve a feed there.
    Guessed,
}

/// A place a feed may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub url: url::Url,
    /// The link's `title`, when it has one.
    pub title: Option<String>,
    pub origin: Origin,
}

/// Paths tried on the page's host when the page advertises nothing (and shown as guesses).
pub const COMMON_PATHS: &[&str] = &[
    "/rss",
    "/rss.xml",
    "/feed",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/rss/",
    "/feeds/posts/default",
];

/// The feed types `<link rel="alternate">` names.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
];

/// The feeds `html` (the page at `page`) advertises, in page order, without repeats.
pub fn advertised(html: &str, page: &url::Url) -> Vec<Candidate> {
    let doc = Document::from(html);
    let base = doc
        .select("base[href]")
        .iter()
        .next()
        .and_then(|b| b.attr("href"))
        .and_then(|href| page.join(href.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let mut out: Vec<Candidate> = Vec::new();
    for link in doc.select("link[href]").iter() {
        let rel = link
            .attr("rel")
            .map(|r| r.to_ascii_lowercase())
            .unwrap_or_default();
        if !rel.split_ascii_whitespace().any(|r| r == "alternate") {
            continue;
        }
        let kind = link
            .attr("type")
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let kind = kind
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !FEED_TYPES.contains(&kind.as_str()) {
            continue;
        }
        let Some(url) = link
            .attr("href")
            .and_then(|href| base.join(href.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            continue;
        };
        if out.iter().any(|c| c.url == url) {
            continue;
        }
        let title = link
            .attr("title")
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty());
        out.push(Candidate {
            url,
            title,
            origin: Origin::Advertised,
        });
    }
    out
}

/// [`COMMON_PATHS`] on the page's host, minus any already in `known`.
pub fn guesses(page: &url::Url, known: &[Candidate]) -> Vec<Candidate> {
    COMMON_PATHS
        .iter()
        .filter_map(|p| page.join(p).ok())
        .filter(|u| !known.iter().any(|c| c.url == *u))
        .map(|url| Candidate {
            url,
            title: None,
            origin: Origin::Guessed,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("url")
    }

    #[test]
    fn alternate_links_of_feed_types_resolved_and_deduplicated() {
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="경향신문  전체뉴스" href="/rss/rssdata/total_news.xml">
            <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="https://cdn.example.kr/atom.xml">
            <link rel="alternate" type="text/html" hreflang="en" href="/en/">
            <link rel="alternate" type="application/rss+xml" href="/rss/rssdata/total_news.xml">
            <link rel="alternate" type="application/rss+xml" href="javascript:void(0)">
            </head><body></body></html>"#;
        let got = advertised(html, &url("https://www.khan.co.kr/"));
        assert_eq!(
            got,
            vec![
                Candidate {
                    url: url("https://www.khan.co.kr/rss/rssdata/total_news.xml"),
                    title: Some("경향신문 전체뉴스".into()),
                    origin: Origin::Advertised
                },
                Candidate {
                    url: url("https://cdn.example.kr/atom.xml"),
                    title: None,
                    origin: Origin::Advertised
                },
            ]
        );
    }

    #[test]
    fn base_href_and_relative_paths() {
        let html = r#"<head><base href="https://news.example.com/kr/"><link rel="alternate" type="application/rss+xml" href="feed.xml"></head>"#;
        let got = advertised(html, &url("https://example.com/article/1"));
        assert_eq!(got[0].url, url("https://news.example.com/kr/feed.xml"));
    }

    #[test]
    fn guesses_skip_what_is_advertised() {
        let page = url("https://blog.example.com/post/1");
        let known = vec![Candidate {
            url: url("https://blog.example.com/feed"),
            title: None,
            origin: Origin::Advertised,
        }];
        let g = guesses(&page, &known);
        assert_eq!(g.len(), COMMON_PATHS.len() - 1);
        assert!(g.iter().all(|c| c.origin == Origin::Guessed));
        assert_eq!(g[0].url, url("https://blog.example.com/rss"));
    }
}
