//! kkachi's integration tests: real code, a fake feed server on 127.0.0.1, temporary stores.
//! Nothing here touches the internet.

mod cli;
mod crash_loop;
mod fake_telegram;
mod feed_classes;
mod fuzz;
mod hostile;
mod metrics;
mod poll;
mod rules_cli;
mod server;
mod service;
mod summary_cli;
mod telegram_bot;
mod telegram_send;

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A temporary config directory with `kkachi.toml`, `rules.toml` and a store.
pub struct Env {
    pub dir: TempDir,
}

pub struct FeedSpec<'a> {
    pub name: &'a str,
    pub url: String,
    pub backfill: usize,
}

impl<'a> FeedSpec<'a> {
    pub fn new(name: &'a str, url: impl Into<String>) -> Self {
        FeedSpec {
            name,
            url: url.into(),
            backfill: 0,
        }
    }

    pub fn backfill(mut self, n: usize) -> Self {
        self.backfill = n;
        self
    }
}

impl Env {
    pub fn new(feeds: &[FeedSpec<'_>], rules: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut toml = String::from(
            "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
             [fetch]\ntimeout = \"3s\"\nconnect_timeout = \"2s\"\nmax_body_bytes = 2000000\n\
             [http]\nenabled = false\n",
        );
        for f in feeds {
            toml.push_str(&format!(
                "[[feeds]]\nname = \"{}\"\nurl = \"{}\"\nbackfill = {}\n",
                f.name, f.url, f.backfill
            ));
        }
        std::fs::write(dir.path().join("kkachi.toml"), toml).expect("write config");
        std::fs::write(dir.path().join("rules.toml"), rules).expect("write rules");
        Env { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("kkachi.toml")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn load(&self) -> kkachi::config::Loaded {
        match kkachi::config::load(&self.config()) {
            Ok(l) => l,
            Err(d) => panic!("config does not load: {d:#?}"),
        }
    }
}

/// A rule file with one rule that matches every story (every title has a word starting with
/// one of these, or the rule is matched through `feed:`).
pub fn rules(entries: &[(&str, &str)]) -> String {
    entries
        .iter()
        .map(|(name, query)| format!("[[rules]]\nname = \"{name}\"\nquery = '{query}'\n\n"))
        .collect()
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A small RSS 2.0 feed from (guid, title, link) triples.
pub fn rss(items: &[(&str, &str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n",
    );
    for (guid, title, link) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>{link}</link>\
             <description>회사는 27일 이같이 밝혔다. 업계는 이번 발표에 주목하고 있다.</description>\
             <pubDate>Fri, 27 Nov 2026 09:00:00 +0900</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

pub fn kkachi() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kkachi"));
    c.env_remove("KKACHI_CONFIG").env("RUST_LOG", "warn");
    c
}
