//! Issue 17: `kkachi status`, `replay` and `feeds` beside the running daemon (which holds the
//! store's lock): they ask its control API on `[http] listen`; with the daemon stopped they
//! read the store.

use crate::server::Server;
use crate::support::{Daemon, free_port, stderr, stdout};
use crate::{kkachi, rss};

fn config(feed_url: &str, port: u16) -> String {
    format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n\
         [schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\n\
         [http]\nlisten = \"127.0.0.1:{port}\"\n\
         [[feeds]]\nname = \"f\"\nurl = \"{feed_url}\"\nbackfill = 5\n\
         [[feeds]]\nname = \"off\"\nurl = \"{feed_url}\"\nenabled = false\n"
    )
}

const RULES: &str = "[[rules]]\nname = \"deepseek\"\nquery = \"DeepSeek\"\n";

fn run(d: &Daemon, args: &[&str]) -> std::process::Output {
    kkachi()
        .args(args)
        .arg("--config")
        .arg(d.config())
        .output()
        .expect("kkachi")
}

#[test]
fn status_replay_and_feeds_ask_the_running_daemon_then_read_the_store() {
    let server = Server::start();
    server.feed(
        "/f.xml",
        rss(&[
            ("1", "딥시크 새 모델 공개", "https://e.kr/1"),
            ("2", "날씨 맑음", "https://e.kr/2"),
        ]),
        "application/rss+xml",
    );
    // The tools find the daemon at the config's listen address: a real port, not :0.
    let mut d = Daemon::new(&config(&server.url("/f.xml"), free_port()), RULES);
    d.spawn(&["--dry-run"], &[]);
    d.wait_log("polled", 1);
    d.http_addr();

    // status: the daemon's own record.
    let out = run(&d, &["status", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(s["running"], true, "{s}");
    assert_eq!(s["reloads"]["applied"], 0, "{s}");
    let f = &s["feeds"][0];
    assert_eq!(f["name"], "f");
    assert_eq!(f["last_poll"]["outcome"], "polled", "{s}");
    assert_eq!(f["last_poll"]["items"], 2, "{s}");
    assert_eq!(f["last_poll"]["new"], 2, "{s}");
    assert!(f["last_success"].is_string(), "{s}");
    assert_eq!(s["feeds"][1]["enabled"], false);
    assert_eq!(s["subscribers"]["deepseek"], 0);
    let out = run(&d, &["status"]);
    assert!(
        stdout(&out).contains("kkachi running for"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("FEED"), "{}", stdout(&out));

    // replay through the daemon: the stored story that matches.
    let out = run(&d, &["replay", "--since", "30d", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("딥시크 새 모델 공개"), "{lines:?}");
    let out = run(&d, &["replay", "--rule", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no rule named"), "{}", stderr(&out));

    // feeds poll: one more fetch of the feed, now; the answer says what it found.
    let before = server.hits("/f.xml").len();
    let out = run(&d, &["feeds", "poll", "f"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("f: 2 items, 0 new, 0 alerts ("), "{text}");
    assert_eq!(server.hits("/f.xml").len(), before + 1);
    let out = run(&d, &["feeds", "poll", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no feed named \"nope\""),
        "{}",
        stderr(&out)
    );
    let out = run(&d, &["feeds", "poll", "off"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("disabled"), "{}", stderr(&out));
    let out = run(&d, &["feeds", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("f\t"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("ok, last success"),
        "{}",
        stdout(&out)
    );

    // The daemon stopped: the same tools read the store.
    assert_eq!(d.terminate(), Some(0));
    let out = run(&d, &["status", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(s["running"], false, "{s}");
    assert!(s["feeds"][0]["last_success"].is_string(), "{s}");
    assert!(s["feeds"][0]["last_poll"].is_null(), "{s}");
    let out = run(&d, &["status"]);
    assert!(stdout(&out).contains("not running"), "{}", stdout(&out));
    let out = run(&d, &["replay", "--since", "30d", "--format", "json"]);
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stderr(&out));
    let out = run(&d, &["feeds", "poll", "f"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not running"), "{}", stderr(&out));
}
