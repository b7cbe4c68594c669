//! kkachi as a service, through the real binary: live reload (file edits and SIGHUP), invalid
//! edits, shutdown deadlines, the second signal, and systemd notifications.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::fake_telegram::{FakeTelegram, Request};
use crate::server::{Route, Server};
use crate::support::{Daemon, WAIT, two_more_polls, wait_hits};

/// What every daemon here starts from: the store, a schedule that never fires by itself (each
/// feed sets its own cron), long fetch timeouts, short backoff, no HTTP server.
const BASE: &str = "rules = \"rules.toml\"\n[store]\npath = \"store\"\n\
                    [schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
                    [fetch]\ntimeout = \"30s\"\nconnect_timeout = \"2s\"\nmax_backoff = \"1s\"\n\
                    [http]\nenabled = false\n";

/// A daemon whose `kkachi.toml` is [`BASE`] followed by `config`.
fn service(config: &str, rules: &str) -> Daemon {
    Daemon::new(&format!("{BASE}{config}"), rules)
}

fn rule(name: &str, query: &str, chat: i64) -> String {
    format!("[[rules]]\nname = \"{name}\"\nquery = '{query}'\nchats = [{chat}]\n\n")
}

fn sent_to(fake: &FakeTelegram, chat: i64) -> Vec<Request> {
    fake.delivered()
        .into_iter()
        .filter(|r| r.chat() == Some(chat))
        .collect()
}

/// An alert for `item(n, …)` is among `reqs`.
fn has_link(reqs: &[Request], n: u32) -> bool {
    let link = format!("news.example.kr/{n}\"");
    reqs.iter().any(|r| r.text().contains(&link))
}

fn item(n: u32, title: &str) -> (String, String, String) {
    (
        format!("g{n}"),
        title.to_string(),
        format!("https://news.example.kr/{n}"),
    )
}

fn feed(items: &[(String, String, String)]) -> String {
    let refs: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|(g, t, u)| (g.as_str(), t.as_str(), u.as_str()))
        .collect();
    crate::rss(&refs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rules_edit_changes_what_alerts_and_an_invalid_edit_keeps_the_old_rules() {
    let server = Server::start();
    let mut items = vec![item(0, "오늘의 날씨")];
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    let fake = FakeTelegram::start();
    let mut svc = service(
        &format!(
            "[telegram]\nadmins = [7]\n[[feeds]]\nname = \"news\"\nurl = \"{}\"\ncron = \"* * * * * *\"\n",
            server.url("/f.xml")
        ),
        &rule("ai", "AI", 42),
    );
    svc.spawn_with_telegram(&fake, &[]);
    wait_hits(&server, "/f.xml", 1);

    // Edit: the `ai` rule goes, a `deepseek` rule comes.
    let v2 = rule("deepseek", "DeepSeek", 42);
    svc.replace_file("rules.toml", &v2);
    svc.wait_log("configuration reloaded", 1);
    assert!(
        svc.log().contains("rules_added=1 rules_removed=1"),
        "{}",
        svc.log()
    );
    items.push(item(1, "AI 반도체 수출 급증"));
    items.push(item(2, "딥시크 새 모델 공개"));
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| has_link(&sent_to(&fake, 42), 2))
            .await,
        "the new rule does not alert:\n{}",
        svc.log()
    );
    two_more_polls(&server, "/f.xml");
    assert!(
        !has_link(&sent_to(&fake, 42), 1),
        "the removed rule still alerts"
    );

    // An invalid edit: rejected with its position, in the log and in the admin's chat, once.
    let bad = format!("{v2}{}", rule("chips", "AI AND (반도체", 42));
    svc.replace_file("rules.toml", &bad);
    svc.wait_log("reload rejected", 1);
    let log = svc.log();
    assert!(log.contains("rules.toml:"), "{log}");
    assert!(
        fake.wait_for(WAIT, |_| sent_to(&fake, 7)
            .iter()
            .any(|r| r.text().contains("rejected")))
            .await,
        "the admin is not told"
    );
    let notice = sent_to(&fake, 7)[0].text().to_string();
    assert!(notice.contains("rules.toml:"), "{notice}");
    assert!(notice.contains("previous one keeps running"), "{notice}");
    // The same bad file again (touched): logged again, but the admin hears once.
    svc.replace_file("rules.toml", &bad);
    svc.wait_log("reload rejected", 2);

    // The old rules keep running: a DeepSeek story alerts, an AI chip story does not.
    items.push(item(3, "딥시크, 두 번째 모델"));
    items.push(item(4, "AI 반도체 신제품"));
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| has_link(&sent_to(&fake, 42), 3))
            .await,
        "the old rules stopped after an invalid edit"
    );
    two_more_polls(&server, "/f.xml");
    let to_42 = sent_to(&fake, 42);
    assert!(!has_link(&to_42, 4), "the invalid rule was loaded");
    assert_eq!(to_42.len(), 2, "each alert once");
    let notices = sent_to(&fake, 7);
    assert_eq!(notices.len(), 1, "one notice per invalid edit: {notices:?}");

    // Two edits and the rewrite of the same file: three reloads, none caused by kkachi
    // reading the files itself.
    assert_eq!(svc.log().matches("reloading (").count(), 3, "{}", svc.log());

    svc.signal(libc::SIGTERM);
    let (code, _) = svc.wait_exit();
    assert_eq!(code, Some(0), "{}", svc.log());
}

#[test]
fn sighup_reloads_what_the_watcher_cannot_see() {
    let server = Server::start();
    let mut items = vec![item(0, "오늘의 날씨")];
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    let mut svc = service(
        &format!(
            "[[feeds]]\nname = \"news\"\nurl = \"{}\"\ncron = \"* * * * * *\"\n",
            server.url("/f.xml")
        ),
        "",
    );
    // rules.toml is a symlink into another directory (as with config management tools):
    // edits to its target are invisible to the watcher of the config directory.
    let real = svc.path("real");
    std::fs::create_dir(&real).expect("mkdir");
    std::fs::write(real.join("rules.toml"), rule("ai", "AI", 42)).expect("rules");
    std::fs::remove_file(svc.path("rules.toml")).expect("rm");
    std::os::unix::fs::symlink(real.join("rules.toml"), svc.path("rules.toml")).expect("symlink");
    svc.spawn(&["--format", "json"], &[]);
    wait_hits(&server, "/f.xml", 1);

    std::fs::write(real.join("rules.toml"), rule("deepseek", "DeepSeek", 42)).expect("edit");
    // An event that never comes has no event of its own: the daemon polls on (twice at least,
    // and until twice the watcher's debounce has passed since the edit), and no reload began.
    let edited = Instant::now();
    two_more_polls(&server, "/f.xml");
    while edited.elapsed() < 2 * kkachi::watch::DEBOUNCE {
        two_more_polls(&server, "/f.xml");
    }
    assert!(!svc.log().contains("reloading"), "{}", svc.log());
    svc.signal(libc::SIGHUP);
    svc.wait_log("reloading (SIGHUP)", 1);
    svc.wait_log("configuration reloaded", 1);

    items.push(item(1, "AI 반도체 수출 급증"));
    items.push(item(2, "딥시크 새 모델 공개"));
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    two_more_polls(&server, "/f.xml");
    let out = svc.stdout();
    assert!(out.contains("\"rule\":\"deepseek\""), "{out}");
    assert!(!out.contains("\"rule\":\"ai\""), "{out}");

    svc.signal(libc::SIGTERM);
    assert_eq!(svc.wait_exit().0, Some(0), "{}", svc.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_busy_poll_exits_0_by_the_deadline_and_the_next_start_delivers_the_rest() {
    let server = Server::start();
    let mut items = vec![item(0, "오늘의 날씨")];
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    // A feed whose every fetch takes 30 s: a poll is always in flight.
    server.route(
        "/slow.xml",
        Route::Slow {
            body: feed(&items).into_bytes(),
            delay: Duration::from_secs(30),
        },
    );
    let fake = FakeTelegram::start();
    let mut svc = service(
        &format!(
            "[[feeds]]\nname = \"news\"\nurl = \"{}\"\ncron = \"* * * * * *\"\n\
             [[feeds]]\nname = \"slow\"\nurl = \"{}\"\n",
            server.url("/f.xml"),
            server.url("/slow.xml")
        ),
        &rule("ai", "AI", 42),
    );
    let deadline = ["--shutdown-deadline", "2s"];
    svc.spawn_with_telegram(&fake, &deadline);
    wait_hits(&server, "/f.xml", 1);
    wait_hits(&server, "/slow.xml", 1);

    // Five alerts for one chat: at one message a second they take over four seconds.
    let news: Vec<_> = (1..=5).map(|i| item(i, &format!("AI 소식 {i}"))).collect();
    items.extend(news.iter().cloned());
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| !sent_to(&fake, 42).is_empty())
            .await,
        "no alert was sent:\n{}",
        svc.log()
    );
    svc.signal(libc::SIGTERM);
    let (code, took) = svc.wait_exit();
    assert_eq!(code, Some(0), "{}", svc.log());
    // The deadline is 2 s; the slow poll would have taken 30.
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    let log = svc.log();
    assert!(log.contains("abandoning"), "{log}");
    let before = sent_to(&fake, 42).len();
    assert!(
        before < 5,
        "everything went out before the deadline: {before}"
    );

    // The next start delivers the rest, each story once.
    svc.spawn_with_telegram(&fake, &deadline);
    assert!(
        fake.wait_for(Duration::from_secs(20), |_| sent_to(&fake, 42).len() >= 5)
            .await,
        "the rest was not delivered after the restart:\n{}",
        svc.log()
    );
    two_more_polls(&server, "/f.xml");
    // Stopped, it sends nothing more; its empty outbox says no second copy was still due.
    svc.signal(libc::SIGTERM);
    assert_eq!(svc.wait_exit().0, Some(0), "{}", svc.log());
    assert_eq!(svc.store().outbox_len(), 0, "a copy is still queued");
    let links = crate::fake_telegram::alert_links(&sent_to(&fake, 42));
    let want: Vec<String> = news.iter().map(|(_, _, u)| u.clone()).collect();
    assert_eq!(links, want, "each story exactly once");
}

#[test]
fn a_second_sigterm_exits_at_once() {
    let server = Server::start();
    server.route(
        "/slow.xml",
        Route::Slow {
            body: crate::rss(&[]).into_bytes(),
            delay: Duration::from_secs(30),
        },
    );
    let mut svc = service(
        &format!(
            "[[feeds]]\nname = \"slow\"\nurl = \"{}\"\n",
            server.url("/slow.xml")
        ),
        "",
    );
    svc.spawn(&[], &[]);
    wait_hits(&server, "/slow.xml", 1);
    svc.signal(libc::SIGTERM);
    svc.wait_log("shutting down", 1);
    // A second signal counts only a moment after the first (see the next test).
    std::thread::sleep(kkachi::app::SECOND_SIGNAL_AFTER + Duration::from_millis(100));
    svc.signal(libc::SIGTERM);
    let (code, took) = svc.wait_exit();
    // 128 + SIGTERM, long before the 10 s deadline would have passed.
    assert_eq!(code, Some(143), "{}", svc.log());
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        svc.log().contains("SIGTERM again: exiting now"),
        "{}",
        svc.log()
    );
}

/// Regression (issue 13): with a Telegram token and nobody subscribed to a rule, its matches
/// vanished (`new=1 alerts=0`, nothing said why). Now the poll says so, per rule.
#[test]
fn matches_nobody_receives_are_logged_per_rule() {
    let server = Server::start();
    server.feed(
        "/a.xml",
        crate::rss(&[("1", "딥시크, 새 모델 공개", "https://e.kr/1")]),
        "application/rss+xml",
    );
    let mut svc = service(
        &format!(
            "[[feeds]]\nname = \"a\"\nurl = \"{}\"\nbackfill = 5\n",
            server.url("/a.xml")
        ),
        "[[rules]]\nname = \"deepseek\"\nquery = 'DeepSeek'\n",
    );
    let fake = FakeTelegram::start();
    svc.spawn_with_telegram(&fake, &["--once"]);
    let (code, _) = svc.wait_exit();
    assert_eq!(code, Some(0), "{}", svc.log());
    let log = svc.log();
    let line = log
        .lines()
        .find(|l| l.contains("matches with no recipient"))
        .unwrap_or_else(|| panic!("no 'matches with no recipient' line:\n{log}"));
    assert!(
        line.contains("rule=deepseek") && line.contains("matches=1") && line.contains("feed=\"a\"")
            || line.contains("feed=a"),
        "{line}"
    );
    assert!(fake.delivered().is_empty(), "nobody to send to");
}

/// Regression (issue 10): `timeout 60 kkachi run` signals the process and its group in the
/// same instant; that is one request to stop, and the daemon shuts down gracefully (exit 0).
#[test]
fn two_sigterms_at_the_same_instant_are_one_request_to_stop() {
    let server = Server::start();
    server.feed("/a.xml", crate::rss(&[]), "application/rss+xml");
    let mut svc = service(
        &format!(
            "[[feeds]]\nname = \"a\"\nurl = \"{}\"\n",
            server.url("/a.xml")
        ),
        "",
    );
    svc.spawn(&[], &[]);
    svc.wait_log("polled", 1);
    svc.signal(libc::SIGTERM);
    svc.signal(libc::SIGTERM);
    let (code, _) = svc.wait_exit();
    // (tokio may fold the two into one delivery; either way it is one graceful stop.)
    assert_eq!(code, Some(0), "{}", svc.log());
    assert!(!svc.log().contains("exiting now"), "{}", svc.log());
}

/// Reads datagrams from the fake `$NOTIFY_SOCKET` until one contains `want`.
fn wait_notify(sock: &UnixDatagram, want: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + WAIT;
    let mut buf = [0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "no {want:?} in {seen:?}");
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let hit = msg.contains(want);
            seen.push(msg);
            if hit {
                return;
            }
        }
    }
}

#[test]
fn systemd_hears_ready_watchdog_reloading_and_stopping() {
    let server = Server::start();
    server.feed("/f.xml", crate::rss(&[]), "application/rss+xml");
    let mut svc = service(
        &format!(
            "[[feeds]]\nname = \"news\"\nurl = \"{}\"\n",
            server.url("/f.xml")
        ),
        &rule("ai", "AI", 42),
    );
    let path = svc.path("notify.sock");
    let sock = UnixDatagram::bind(&path).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let path = path.to_str().expect("utf-8 path").to_string();
    svc.spawn(
        &[],
        &[("NOTIFY_SOCKET", &path), ("WATCHDOG_USEC", "400000")],
    );
    let mut seen = Vec::new();
    wait_notify(&sock, "READY=1", &mut seen);
    let ready = seen.last().expect("ready").clone();
    assert!(
        ready.contains("STATUS=watching 1 feeds with 1 rules"),
        "{ready}"
    );
    // Keep-alives at half the watchdog interval.
    wait_notify(&sock, "WATCHDOG=1", &mut seen);
    wait_notify(&sock, "WATCHDOG=1", &mut seen);
    svc.signal(libc::SIGHUP);
    wait_notify(&sock, "RELOADING=1", &mut seen);
    assert!(seen.last().expect("reloading").contains("MONOTONIC_USEC="));
    wait_notify(&sock, "READY=1", &mut seen);
    svc.signal(libc::SIGTERM);
    wait_notify(&sock, "STOPPING=1", &mut seen);
    assert_eq!(svc.wait_exit().0, Some(0), "{}", svc.log());
}

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("GET");
    let code = resp.status().as_u16();
    (code, resp.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_readiness_over_http() {
    let server = Server::start();
    let items = vec![item(0, "오늘의 날씨"), item(1, "AI 반도체 수출 급증")];
    server.feed("/f.xml", feed(&items), "application/rss+xml");
    let mut svc = service(
        &format!(
            "[[feeds]]\nname = \"news\"\nurl = \"{}\"\nbackfill = 2\n",
            server.url("/f.xml")
        ),
        &rule("ai", "AI", 42),
    );
    // The base config turns [http] off; this one listens on a loopback port.
    let path = svc.path("kkachi.toml");
    let toml = std::fs::read_to_string(&path).expect("config");
    let toml = toml.replace(
        "[http]\nenabled = false\n",
        "[http]\nlisten = \"127.0.0.1:0\"\n",
    );
    std::fs::write(&path, toml).expect("config");
    svc.spawn(&["--format", "json"], &[]);
    svc.wait_log("polled feed=news", 1);
    let base = format!("http://{}", svc.http_addr());

    let (code, body) = get(&format!("{base}/readyz")).await;
    assert_eq!((code, body.as_str()), (200, "ready\n"));
    let (code, metrics) = get(&format!("{base}/metrics")).await;
    assert_eq!(code, 200);
    for series in [
        "kkachi_polls_total{feed=\"news\",outcome=\"polled\"} 1",
        "kkachi_stories_total{feed=\"news\",result=\"new\"} 2",
        "kkachi_rule_matches_total{rule=\"ai\"} 1",
        "kkachi_alerts_queued_total 1",
        "kkachi_fetched_bytes_total{feed=\"news\"}",
        "kkachi_poll_duration_seconds_count{outcome=\"polled\"} 1",
        "kkachi_outbox_depth 0",
        "kkachi_feeds_in_backoff 0",
    ] {
        assert!(metrics.contains(series), "no {series} in:\n{metrics}");
    }
    let (code, body) = get(&format!("{base}/healthz")).await;
    assert_eq!((code, body.as_str()), (200, "ok\n"));

    // A rejected edit shows in the reload series.
    std::fs::write(
        svc.path("rules.toml"),
        "[[rules]]\nname = \"x\"\nquery = '(AI'\n",
    )
    .expect("bad rules");
    svc.wait_log("reload rejected", 1);
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    assert!(
        metrics.contains("kkachi_config_reloads_total{result=\"rejected\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kkachi_config_last_reload_successful 0"),
        "{metrics}"
    );

    // The store directory is replaced by a file (as when a disk is remounted or the directory
    // removed): not writable, whoever we run as.
    let store = svc.path("store");
    let moved = svc.path("store.moved");
    std::fs::rename(&store, &moved).expect("move the store away");
    std::fs::write(&store, "not a directory").expect("file in its place");
    let (code, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("not writable"), "{body}");
    assert!(body.contains(&store.display().to_string()), "{body}");
    std::fs::remove_file(&store).expect("rm");
    std::fs::rename(&moved, &store).expect("move the store back");
    let (code, _) = get(&format!("{base}/healthz")).await;
    assert_eq!(code, 200);

    svc.signal(libc::SIGTERM);
    assert_eq!(svc.wait_exit().0, Some(0), "{}", svc.log());
}

#[test]
fn a_taken_http_port_fails_the_start_with_its_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let svc = service(&format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"), "");
    let path = svc.path("kkachi.toml");
    let toml = std::fs::read_to_string(&path).expect("config");
    std::fs::write(&path, toml.replace("[http]\nenabled = false\n", "")).expect("config");
    let out = crate::kkachi()
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_down_longer_than_feed_down_after_gets_one_notice_and_one_on_recovery() {
    let server = Server::start();
    server.route(
        "/f.xml",
        Route::Status {
            code: 500,
            headers: Vec::new(),
        },
    );
    let fake = FakeTelegram::start();
    let mut svc = service(
        &format!(
            "[health]\nfeed_down_after = \"2s\"\n[telegram]\nadmins = [7]\n\
             [[feeds]]\nname = \"news\"\nurl = \"{}\"\ncron = \"* * * * * *\"\n",
            server.url("/f.xml")
        ),
        &rule("ai", "AI", 42),
    );
    svc.spawn_with_telegram(&fake, &[]);
    let down =
        |r: &Request| r.text().contains("news") && r.text().contains("has been failing since");
    assert!(
        fake.wait_for(WAIT, |_| sent_to(&fake, 7).iter().any(down))
            .await,
        "no down notice:\n{}",
        svc.log()
    );
    let notice = sent_to(&fake, 7)[0].text().to_string();
    assert!(notice.contains("HTTP 500"), "{notice}");
    // It keeps failing: no second notice.
    two_more_polls(&server, "/f.xml");
    assert_eq!(sent_to(&fake, 7).len(), 1, "{:?}", sent_to(&fake, 7));

    server.feed("/f.xml", crate::rss(&[]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| sent_to(&fake, 7)
            .iter()
            .any(|r| r.text().contains("works again")))
            .await,
        "no recovery notice:\n{}",
        svc.log()
    );
    two_more_polls(&server, "/f.xml");
    assert_eq!(sent_to(&fake, 7).len(), 2, "{:?}", sent_to(&fake, 7));
    svc.signal(libc::SIGTERM);
    assert_eq!(svc.wait_exit().0, Some(0), "{}", svc.log());
}
