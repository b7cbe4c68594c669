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
