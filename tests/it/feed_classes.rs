//! Issue 13's feed classes as a user sees them: `kkachi feed test` on each fixture in
//! `tests/data/feeds/issue13/` (README there) prints every story with its title, link and
//! instant.

use crate::kkachi;

/// (title, url, published) of every story `feed test --format json` prints, and its stderr.
fn feed_test(file: &str) -> (Vec<(String, String, String)>, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/feeds/issue13")
        .join(file);
    let out = kkachi()
        .args(["feed", "test", "--format", "json"])
        .arg(&path)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{file}: {stderr}");
    let stories = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}: {e}: {line}"));
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (field("title"), field("url"), field("published"))
        })
        .collect();
    (stories, stderr)
}

fn story(title: &str, url: &str, published: &str) -> (String, String, String) {
    (title.into(), url.into(), published.into())
}

/// Regression (issue 13, classes 2, 3, 4, 6): feeds that lost every story.
#[test]
fn feeds_that_lost_every_story_are_read() {
    let (stories, stderr) = feed_test("atom03.xml");
    assert_eq!(
        stories,
        [
            story(
                "Atom-Powered Robots Run Amok",
                "http://atom03.example.org/2003/12/13/atom03",
                "2003-12-13T21:29:29+09:00"
            ),
            story(
                "Second entry, modified only",
                "http://atom03.example.org/2003/12/14/second",
                "2003-12-14T19:00:00+09:00"
            ),
        ]
    );
    assert!(!stderr.contains("warning"), "{stderr}");

    let (stories, _) = feed_test("atom-odd-types.xml");
    let titles: Vec<&str> = stories.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Empty type",
            "Upper-case TEXT",
            "XHTML title",
            "Base64 content",
            "Nonsense type"
        ]
    );

    let (stories, _) = feed_test("rss-userland-ns.xml");
    assert_eq!(
        stories[0],
        story(
            "First under a default namespace",
            "http://userland.example.com/1",
            "2003-01-06T18:00:00+09:00"
        )
    );
    assert_eq!(stories.len(), 2);

    let (stories, _) = feed_test("rss-no-channel.xml");
    assert_eq!(
        stories,
        [story(
            "Item straight under rss",
            "https://nochannel.example.com/1",
            ""
        )]
    );

    let (stories, _) = feed_test("rdf-no-link.xml");
    assert_eq!(stories.len(), 5);
    assert_eq!(
        stories[0],
        story(
            "RDF item without link",
            "https://rdf.example.org/a",
            "2004-02-03T10:00:00+09:00"
        )
    );
}

/// Regression (issue 13, classes 7 and 8): dates and plain titles.
#[test]
fn dates_and_plain_titles_read_right() {
    let (stories, stderr) = feed_test("dates.xml");
    let dates: Vec<(&str, &str)> = stories
        .iter()
        .map(|s| (s.0.as_str(), s.2.as_str()))
        .collect();
    assert_eq!(
        dates[3..10],
        [
            ("asctime", "2004-01-04T16:29:06+09:00"),
            ("year only", "2003-01-01T00:00:00+09:00"),
            ("year and month", "2003-12-01T00:00:00+09:00"),
            ("dcterms:modified", "2003-12-31T19:14:55+09:00"),
            ("dcterms:issued", "2003-12-31T19:14:55+09:00"),
            ("atom:published", "2004-01-01T03:14:55+09:00"),
            ("impossible", ""),
        ]
    );
    assert!(
        stderr.contains("1 impossible date(s) rejected (such as `9999-12-31T23:59:59-99:99`)"),
        "{stderr}"
    );

    let (stories, _) = feed_test("plain-titles.xml");
    assert_eq!(stories[0].0, "Use <script> tags & more");
    assert_eq!(stories[1].0, "영화 <기생충>과 〈올드보이〉 재개봉");
    let (stories, _) = feed_test("atom-text-title.xml");
    assert_eq!(stories[0].0, "History of the <blink> tag");
}

/// Regression (issue 13, class 10): a link relative to neither `xml:base` nor the channel's
/// link is resolved against the address the feed was fetched from (`feed test URL`; the
/// daemon passes its feed's URL the same way). From a file there is no such address.
#[test]
fn a_link_relative_to_the_feed_url_is_resolved() {
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/feeds/issue13/feed-url-relative.xml"),
    )
    .expect("fixture");
    let server = crate::server::Server::start();
    server.feed("/rss/feed.xml", body, "application/rss+xml");
    let out = kkachi()
        .args(["feed", "test", "--format", "json"])
        .arg(server.url("/rss/feed.xml"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim()).expect("one story");
    assert_eq!(v["title"], "relative to the feed URL");
    assert_eq!(v["url"], server.url("/articles/6"));
}
