//! What the integration tests share: config directories ([`Env`]), feed and rule builders,
//! fixtures, the `kkachi` command, the daemon as a child process ([`Daemon`]), outbox alerts
//! ([`alerts`]), and the waits that stand for "the daemon has got this far".

pub mod alerts;
mod daemon;

pub use daemon::{Daemon, WAIT};

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::server::Server;

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

/// Output bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn stdout(out: &std::process::Output) -> String {
    text(&out.stdout)
}

pub fn stderr(out: &std::process::Output) -> String {
    text(&out.stderr)
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A plain HTTP/1.0 `GET` of `path` on `addr` (host:port): the body of a 200 answer.
pub fn http_get(addr: &str, path: &str) -> String {
    let mut sock = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(sock, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("request");
    let mut answer = String::new();
    sock.read_to_string(&mut answer).expect("answer");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1);
    assert_eq!(status, Some("200"), "GET {path}: {head}");
    body.to_string()
}

/// The value of `series` (its name and labels exactly as printed) in a `/metrics` text.
pub fn metric(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// Waits until `path` has been requested `n` times.
pub fn wait_hits(server: &Server, path: &str, n: usize) {
    let deadline = Instant::now() + WAIT;
    while server.hits(path).len() < n {
        assert!(Instant::now() < deadline, "{path} was not polled {n}×");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls of one feed never overlap: two more fetches of `path` mean the poll that read its
/// current body has finished (its stories admitted, its alerts queued or printed).
pub fn two_more_polls(server: &Server, path: &str) {
    let n = server.hits(path).len();
    wait_hits(server, path, n + 2);
}
