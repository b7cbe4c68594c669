//! `kkachi feeds import` / `feeds export` through the binary, on OPML files in the shapes real
//! readers export (tests/data/opml/README.md).

use crate::support::{stderr, stdout};
use crate::{Env, FeedSpec, fixture, kkachi, rules};

fn env() -> Env {
    Env::new(
        &[FeedSpec::new("yna", "https://www.yna.co.kr/rss/news.xml")],
        &rules(&[("a", "딥시크")]),
    )
}

fn import(env: &Env, file: &str, write: bool) -> std::process::Output {
    let path = env.path(file);
    let mut c = kkachi();
    c.args(["feeds", "import"]).arg(&path);
    if write {
        c.arg("--write");
    }
    c.arg("--config")
        .arg(env.config())
        .output()
        .expect("import")
}

/// (name, url) of the config's feeds, as `check` sees them.
fn feeds(env: &Env) -> Vec<(String, String)> {
    env.load()
        .config
        .feeds
        .iter()
        .map(|f| {
            let url = match &f.source {
                kkachi::config::FeedSource::Http(u) => u.to_string(),
                kkachi::config::FeedSource::File(p) => p.display().to_string(),
            };
            (f.name.clone(), url)
        })
        .collect()
}

#[test]
fn each_readers_export_imports_with_unique_names_and_nothing_twice() {
    // (file, the feeds it adds as (name, url), how many are in the config already)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);
    let cases: &[Case<'_>] = &[
        (
            "feedly.opml",
            &[
                ("khan", "https://www.khan.co.kr/rss/rssdata/total_news.xml"),
                ("techcrunch", "https://techcrunch.com/feed/"),
            ],
            1, // yna is there already
        ),
        (
            "inoreader.opml",
            &[
                ("mk", "https://www.mk.co.kr/rss/30000001/"),
                ("mk-30100041", "https://www.mk.co.kr/rss/30100041/"),
                ("hani", "https://www.hani.co.kr/rss/"),
            ],
            0,
        ),
        (
            "miniflux.opml",
            &[
                ("donga", "https://rss.donga.com/total.xml"),
                ("bbci", "https://feeds.bbci.co.uk/news/world/rss.xml"),
                (
                    "google",
                    "https://news.google.com/rss?hl=ko&gl=KR&ceid=KR:ko",
                ),
            ],
            0,
        ),
        (
            "netnewswire.opml",
            &[
                (
                    "khan",
                    "https://www.khan.co.kr/rss/rssdata/politic_news.xml",
                ),
                ("daringfireball", "https://daringfireball.net/feeds/main"),
            ],
            1,
        ),
        (
            "legacy-url.opml",
            &[("zdnet", "https://zdnet.co.kr/rss/all.xml")],
            0,
        ),
    ];
    for (file, added, existing) in cases {
        let env = env();
        std::fs::write(env.path(file), fixture(&format!("opml/{file}"))).expect("copy");
        let before = std::fs::read_to_string(env.config()).expect("config");

        // A dry run prints the tables and changes nothing.
        let out = import(&env, file, false);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        let toml = stdout(&out);
        assert_eq!(
            toml.matches("[[feeds]]").count(),
            added.len(),
            "{file}:\n{toml}"
        );
        for (name, _) in *added {
            assert!(
                toml.contains(&format!("name = \"{name}\"")),
                "{file}:\n{toml}"
            );
        }
        assert_eq!(
            stderr(&out).matches("already in the config").count(),
            *existing,
            "{file}: {}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_to_string(env.config()).expect("config"),
            before
        );

        // --write adds them after what the file had, which stays as it was.
        let out = import(&env, file, true);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        let after = std::fs::read_to_string(env.config()).expect("config");
        assert!(
            after.starts_with(&before),
            "{file}: the file's text must be kept:\n{after}"
        );
        let mut want = vec![(
            "yna".to_string(),
            "https://www.yna.co.kr/rss/news.xml".to_string(),
        )];
        want.extend(added.iter().map(|(n, u)| (n.to_string(), u.to_string())));
        assert_eq!(feeds(&env), want, "{file}");

        // Importing again adds nothing.
        let out = import(&env, file, true);
        assert_eq!(out.status.code(), Some(0));
        assert!(
            stderr(&out).contains("nothing to add"),
            "{file}: {}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_to_string(env.config()).expect("config"),
            after
        );
    }
}

#[test]
fn links_are_skipped_by_line_and_broken_files_say_where() {
    let env = env();
    std::fs::write(env.path("l.opml"), fixture("opml/legacy-url.opml")).expect("copy");
    let out = import(&env, "l.opml", false);
    let err = stderr(&out);
    assert!(
        err.contains("l.opml:6: skipped: A web page, not a feed"),
        "{err}"
    );
    assert!(err.contains("l.opml:7: skipped: Another OPML"), "{err}");

    std::fs::write(
        env.path("bad.opml"),
        "<opml>\n<body>\n<outline text=\"a\">\n</body>\n",
    )
    .expect("write");
    let out = import(&env, "bad.opml", false);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad.opml:4:"), "{}", stderr(&out));
    std::fs::write(env.path("rss.opml"), fixture("feeds/README.md")).expect("write");
    let out = import(&env, "rss.opml", false);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("rss.opml:"), "{}", stderr(&out));
}

#[test]
fn export_prints_opml_that_imports_back() {
    let env = env();
    let out = kkachi()
        .args(["feeds", "export", "--config"])
        .arg(env.config())
        .output()
        .expect("export");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let xml = stdout(&out);
    assert!(xml.contains("<opml version=\"2.0\">"), "{xml}");
    let back = kkachi::opml::parse(&xml).expect("parse");
    let urls: Vec<&str> = back.entries.iter().map(|e| e.url.as_str()).collect();
    assert_eq!(urls, vec!["https://www.yna.co.kr/rss/news.xml"]);
}

/// Issue 17: `kkachi feed find URL` lists what a page advertises and what the usual paths
/// serve, each read with the feed parser (a loopback site; `allow_private` lets it be fetched).
#[test]
fn feed_find_lists_advertised_and_usual_feeds_with_titles_and_counts() {
    use crate::rss;
    use crate::server::Server;
    let server = Server::start();
    server.feed(
        "/",
        "<html><head><title>경향신문</title>\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"전체뉴스\" href=\"/rss/total.xml\">\
         <link rel=\"alternate\" type=\"application/atom+xml\" href=\"/broken.xml\">\
         </head><body>기사</body></html>",
        "text/html; charset=utf-8",
    );
    server.feed(
        "/rss/total.xml",
        rss(&[
            ("1", "딥시크 새 모델", "https://e.kr/1"),
            ("2", "반도체", "https://e.kr/2"),
        ]),
        "application/rss+xml",
    );
    server.feed("/broken.xml", "<html>not a feed</html>", "text/html");
    server.feed(
        "/feed",
        rss(&[("3", "날씨", "https://e.kr/3")]),
        "application/rss+xml",
    );
    let env = env();
    let cfg = std::fs::read_to_string(env.config()).expect("config");
    std::fs::write(
        env.config(),
        format!("{cfg}[summary]\nallow_private = true\n"),
    )
    .expect("write");
    let find = |url: String| {
        kkachi()
            .args(["feed", "find"])
            .arg(url)
            .arg("--config")
            .arg(env.config())
            .output()
            .expect("find")
    };
    let out = find(server.url("/"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(&server.url("/rss/total.xml"))
            && lines[0].contains("\t2 items\t(advertised)"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&server.url("/feed")) && lines[1].contains("\t1 item\t(usual path)"),
        "{lines:?}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("broken.xml: advertised by the page, but not a readable feed"),
        "{err}"
    );
    assert!(err.contains("usual paths"), "{err}");

    // A feed address is a feed; a site without any: exit 1, saying so.
    let out = find(server.url("/rss/total.xml"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("the address itself is a feed"),
        "{}",
        stdout(&out)
    );
    let bare = Server::start();
    bare.feed(
        "/",
        "<html><head><title>x</title></head></html>",
        "text/html",
    );
    let out = find(bare.url("/"));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("no feed found"), "{}", stderr(&out));

    // Without allow_private, loopback is refused (public addresses only).
    let plain = Env::new(&[], &rules(&[("a", "딥시크")]));
    let out = kkachi()
        .args(["feed", "find"])
        .arg(server.url("/"))
        .arg("--config")
        .arg(plain.config())
        .output()
        .expect("find");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a public address"),
        "{}",
        stderr(&out)
    );
}
