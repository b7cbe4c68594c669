//! The `kkachi` binary as a user runs it: output, exit codes, error text.

use std::time::Duration;

use crate::server::Server;
use crate::support::{Daemon, stderr, stdout, wait_hits};
use crate::{Env, FeedSpec, fixture, kkachi, rss, rules};

#[test]
fn check_reports_every_problem_with_its_position() {
    let env = Env::new(&[], "");
    std::fs::write(
        env.config(),
        "rules = \"missing-rules.toml\"\n[schedule]\ncron = \"*/5 * * *\"\n[fetch]\ntimeot = \"5s\"\n\
         [[feeds]]\nname = \"a\"\nurl = \"https://example.com/rss\"\n",
    )
    .expect("write");
    let out = kkachi()
        .arg("check")
        .arg("--config")
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let file = env.config().display().to_string();
    let expect = [
        format!("{file}:1:9: cannot read rules file "),
        format!("{file}:3:8: [schedule] cron: expected 5 fields"),
        format!("{file}:5:1: unknown key `timeot` in [fetch] (did you mean `timeout`?)"),
    ];
    for e in &expect {
        assert!(
            text.lines().any(|l| l.starts_with(e.as_str())),
            "missing {e:?} in:\n{text}"
        );
    }
}

#[test]
fn check_accepts_the_bundled_configs() {
    for cfg in ["config/kkachi.toml", "config/demo.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(cfg);
        let out = kkachi()
            .arg("check")
            .arg("--config")
            .arg(&path)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{cfg}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(stdout(&out).contains(": ok ("), "{cfg}: {}", stdout(&out));
    }
}

#[test]
fn run_once_prints_json_alerts_and_nothing_the_second_time() {
    let server = Server::start();
    server.feed(
        "/f.xml",
        rss(&[
            (
                "g1",
                "오픈AI, 한국 기업들과의 협력 확대",
                "https://news.example.kr/a/1?utm_source=rss",
            ),
            ("g2", "날씨: 전국 맑음", "https://news.example.kr/a/2"),
        ]),
        "application/rss+xml",
    );
    let env = Env::new(
        &[FeedSpec::new("yna", server.url("/f.xml")).backfill(5)],
        &rules(&[("openai-korea", "OpenAI AND \"한국 기업\"")]),
    );
    let run = || {
        kkachi()
            .args(["run", "--once", "--format", "json", "--config"])
            .arg(env.config())
            .output()
            .expect("run")
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one alert expected:\n{text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("json line");
    assert_eq!(v["rule"], "openai-korea");
    assert_eq!(v["feed"], "yna");
    assert_eq!(v["title"], "오픈AI, 한국 기업들과의 협력 확대");
    assert_eq!(v["url"], "https://news.example.kr/a/1");
    assert_eq!(v["published"], "2026-11-27T09:00:00+09:00");
    assert_eq!(
        v["summary"],
        "회사는 27일 이같이 밝혔다. 업계는 이번 발표에 주목하고 있다."
    );
    assert!(
        v["matched"].as_array().is_some_and(|m| !m.is_empty()),
        "{v}"
    );

    let again = run();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stdout(&again), "", "the second run must not alert again");
}

/// Regression (issue 13): a story matching two rules was printed twice; now one alert carries
/// every rule (`rule` stays the first one's), and the first poll says what it marked seen.
#[test]
fn a_story_matching_two_rules_is_one_alert_naming_both() {
    let server = Server::start();
    server.feed(
        "/f.xml",
        rss(&[
            (
                "g1",
                "오픈AI, 딥시크와 한국 기업 협력",
                "https://news.example.kr/a/1",
            ),
            ("g2", "날씨: 전국 맑음", "https://news.example.kr/a/2"),
        ]),
        "application/rss+xml",
    );
    let env = Env::new(
        &[FeedSpec::new("yna", server.url("/f.xml")).backfill(5)],
        &rules(&[("openai", "OpenAI"), ("deepseek", "DeepSeek")]),
    );
    let out = kkachi()
        .env("RUST_LOG", "info")
        .args(["run", "--once", "--format", "json", "--config"])
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one alert per story:\n{text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("json line");
    assert_eq!(v["rule"], "openai");
    let rules: Vec<&str> = v["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|h| h["rule"].as_str())
        .collect();
    assert_eq!(rules, ["openai", "deepseek"]);
    assert!(
        stderr(&out).contains("first_poll=\"2 marked seen (backfill 5)\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_second_kkachi_on_the_same_store_exits_with_a_clear_error() {
    let server = Server::start();
    server.feed(
        "/f.xml",
        rss(&[("g1", "제목입니다", "https://e.kr/1")]),
        "application/rss+xml",
    );
    let env = Env::new(
        &[FeedSpec::new("f", server.url("/f.xml"))],
        &rules(&[("any", "feed:f")]),
    );
    let mut daemon = Daemon::in_dir(env.dir);
    daemon.spawn(&[], &[]);
    // The daemon holds the store from its start on; its first poll says it is running.
    daemon.wait_log("polled feed=f", 1);
    let out = kkachi()
        .args(["run", "--once", "--config"])
        .arg(daemon.config())
        .output()
        .expect("run");
    daemon.kill();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the second process was not refused: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("in use by another kkachi process"),
        "{}",
        stderr(&out)
    );
}

/// EUC-KR bytes, including the CP949 extension syllable 똠, in several disguises.
fn euc_kr_feed(declaration: Option<&str>) -> Vec<u8> {
    let decl = declaration
        .map(|d| format!("<?xml version=\"1.0\" encoding=\"{d}\"?>\n"))
        .unwrap_or_default();
    let text = format!(
        "{decl}<rss version=\"2.0\"><channel><title>한글 피드</title><item><title>똠방각하 삼성전자 뉴스</title>\
         <link>https://e.kr/1</link><description>년 단위 계획을 세웠다.</description></item></channel></rss>"
    );
    let (bytes, _, unmappable) = encoding_rs::EUC_KR.encode(&text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[test]
fn feed_test_decodes_euc_kr_from_header_label_or_guess() {
    let server = Server::start();
    server.feed(
        "/header-only.xml",
        euc_kr_feed(None),
        "text/xml; charset=euc-kr",
    );
    server.feed("/cp949.xml", euc_kr_feed(Some("cp949")), "text/xml");
    server.feed(
        "/windows-949.xml",
        euc_kr_feed(Some("x-windows-949")),
        "application/rss+xml",
    );
    server.feed("/nothing.xml", euc_kr_feed(None), "text/xml");
    server.feed(
        "/tiny.xml",
        fixture("feeds/ko/euc-kr-declared-tiny.xml"),
        "text/xml",
    );
    for path in [
        "/header-only.xml",
        "/cp949.xml",
        "/windows-949.xml",
        "/nothing.xml",
    ] {
        let out = kkachi()
            .args(["feed", "test", "--format", "json"])
            .arg(server.url(path))
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{path}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("{path}: {e}: {}", stdout(&out)));
        assert_eq!(v["title"], "똠방각하 삼성전자 뉴스", "{path}");
        assert_eq!(v["summary"], "년 단위 계획을 세웠다.", "{path}");
    }
    let out = kkachi()
        .args(["feed", "test", "--format", "json"])
        .arg(server.url("/tiny.xml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("년"),
        "the fixture's one item: {}",
        stdout(&out)
    );
}

/// Regression (issue 13): one invalid byte in the middle of a UTF-8 feed lost every story.
#[test]
fn feed_test_keeps_every_story_of_a_feed_with_a_bad_byte_and_says_so() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/feeds/broken/nocut-2022-07-30-cut-byte.xml");
    let out = kkachi()
        .args(["feed", "test", "--format", "json"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 50, "every story kept");
    assert!(
        stderr(&out).contains("warning: ")
            && stderr(&out).contains(
                "1 byte sequence(s) are not valid UTF-8 and were replaced with U+FFFD; every story is kept"
            ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn feed_test_reads_files_and_explains_failures() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/feeds/ko/nocut-2022-07-30.xml");
    let out = kkachi()
        .args(["feed", "test"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("블링컨-최선희 다음주 '랑데부' 가능성"),
        "{}",
        stdout(&out)
    );

    let env = Env::new(&[], "");
    std::fs::write(env.path("bad.xml"), "<html><body>not a feed</body></html>").expect("write");
    let out = kkachi()
        .args(["feed", "test"])
        .arg(env.path("bad.xml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot parse"), "{}", stderr(&out));
}

/// A feed server with one DeepSeek story, and a config that alerts on it at the first poll.
fn one_deepseek_story() -> (Server, Env) {
    let server = Server::start();
    server.feed(
        "/f.xml",
        rss(&[("g1", "딥시크 새 모델 공개", "https://e.kr/1")]),
        "application/rss+xml",
    );
    let env = Env::new(
        &[FeedSpec::new("f", server.url("/f.xml")).backfill(1)],
        &rules(&[("deepseek", "DeepSeek")]),
    );
    (server, env)
}

#[test]
fn the_daemon_polls_at_start_and_stops_cleanly_on_sigterm() {
    let (server, env) = one_deepseek_story();
    let mut daemon = Daemon::in_dir(env.dir);
    daemon.spawn(&["--format", "json"], &[]);
    // The daemon polls every feed at start.
    wait_hits(&server, "/f.xml", 1);
    // That poll has printed its alert when it says it is done.
    daemon.wait_log("polled feed=f", 1);
    daemon.signal(libc::SIGTERM);
    let (code, took) = daemon.wait_exit();
    assert!(took < Duration::from_secs(12), "shutdown took {took:?}");
    assert_eq!(code, Some(0), "{}", daemon.log());
    assert!(
        daemon.stdout().contains("\"rule\":\"deepseek\""),
        "{}",
        daemon.stdout()
    );
}

/// Regression (issue 13): lowercase operators in `rules test` were silent search words.
#[test]
fn rules_test_warns_about_a_lowercase_operator() {
    let out = kkachi()
        .args([
            "rules",
            "test",
            "DeepSeek and OpenAI",
            "--text",
            "딥시크와 오픈AI의 경쟁",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "no match: \"and\" is a word");
    assert!(
        stderr(&out).contains("warning: column 10: lowercase \"and\" is a search word here, not an operator: write AND"),
        "{}",
        stderr(&out)
    );
}

/// Regression (issue 13): `feed:yonhap` naming no configured feed was silent.
#[test]
fn check_warns_about_a_feed_term_naming_no_feed() {
    let env = Env::new(
        &[FeedSpec::new(
            "yonhap-en",
            "https://en.yna.co.kr/RSS/news.xml",
        )],
        "[[rules]]\nname = \"ai\"\nquery = 'AI AND feed:yonhap-e'\n",
    );
    let out = kkachi()
        .arg("check")
        .arg("--config")
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let rules = env.path("rules.toml").display().to_string();
    assert!(
        stdout(&out).contains(&format!(
            "{rules}:3:9: warning: rule \"ai\": feed:yonhap-e names no feed of this config, so that part never matches (did you mean feed:yonhap-en?)"
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_config_comes_from_kkachi_config_when_no_flag_is_given() {
    let env = Env::new(&[], &rules(&[("x", "x")]));
    let out = kkachi()
        .arg("check")
        .env("KKACHI_CONFIG", env.config())
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).starts_with(&env.config().display().to_string()),
        "{}",
        stdout(&out)
    );
    // Without either, config/kkachi.toml relative to the working directory.
    let out = kkachi()
        .arg("check")
        .current_dir(env.dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("config/kkachi.toml:1:1: cannot read config file"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn version_and_shell_completions() {
    let out = kkachi().arg("--version").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        format!("kkachi {}\n", env!("CARGO_PKG_VERSION"))
    );
    for (shell, marker) in [
        ("bash", "_kkachi()"),
        ("zsh", "#compdef kkachi"),
        ("fish", "complete -c kkachi"),
    ] {
        let out = kkachi().args(["completions", shell]).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        // Subcommands and their flags are completed.
        assert!(script.contains("shutdown-deadline"), "{shell}");
    }
    let out = kkachi()
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("possible values: bash"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn log_format_json_writes_one_object_per_line() {
    let (_server, env) = one_deepseek_story();
    let out = kkachi()
        .args(["--log-format", "json", "run", "--once", "--config"])
        .arg(env.config())
        .env("RUST_LOG", "info")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = stderr(&out);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let polled = lines
        .iter()
        .find(|v| v["fields"]["message"] == "polled")
        .unwrap_or_else(|| panic!("no poll line in {log}"));
    assert_eq!(polled["level"], "INFO");
    assert_eq!(polled["fields"]["feed"], "f");
    assert_eq!(polled["fields"]["alerts"], 1);
    // stdout still carries only the alert.
    assert!(
        stdout(&out).contains("딥시크 새 모델 공개"),
        "{}",
        stdout(&out)
    );
}

/// Issue 17: `kkachi replay | head` printed "error: Broken pipe (os error 32)". A reader that
/// stops early is not an error: the command exits quietly.
#[test]
fn replay_into_a_pipe_closed_early_exits_quietly() {
    use std::io::BufRead;
    let server = Server::start();
    let items: Vec<(String, String, String)> = (0..1500)
        .map(|i| {
            (
                format!("g{i}"),
                format!("딥시크 소식 {i}번째: 모델 {i} 공개와 시장 반응 정리"),
                format!("https://e.kr/{i}"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|(g, t, l)| (g.as_str(), t.as_str(), l.as_str()))
        .collect();
    server.feed("/f.xml", rss(&refs), "application/rss+xml");
    let env = Env::new(
        &[FeedSpec::new("f", server.url("/f.xml")).backfill(0)],
        &rules(&[("deepseek", "DeepSeek")]),
    );
    let out = kkachi()
        .args(["run", "--once", "--config"])
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let mut child = kkachi()
        .args(["replay", "--since", "30d", "--format", "json", "--config"])
        .arg(env.config())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("replay");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a first line");
    assert!(first.contains("\"rule\":\"deepseek\""), "{first}");
    // The reader is dropped here, like `head -n 1` exiting: the pipe is closed.
    let out = child.wait_with_output().expect("wait");
    let err = stderr(&out);
    assert!(
        !err.contains("Broken pipe") && !err.contains("error"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// Issue 17: `kkachi init DIR` writes a starter config and rules file that `check` accepts, and
/// never overwrites.
#[test]
fn init_writes_a_starter_config_that_checks_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("kk");
    let out = kkachi().arg("init").arg(&target).output().expect("init");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let config = target.join("kkachi.toml");
    let rules = std::fs::read_to_string(target.join("rules.toml")).expect("rules.toml");
    assert_eq!(rules.matches("[[rules]]").count(), 2, "{rules}");
    assert!(rules.contains("name = \"deepseek\""), "{rules}");
    let out = kkachi()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("check");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("2 rules"), "{}", stdout(&out));

    // A second init: an error naming the file, and the user's edit is still there.
    std::fs::write(&config, "# mine\n").expect("edit");
    let out = kkachi().arg("init").arg(&target).output().expect("init");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("kkachi.toml already exists"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), "# mine\n");
}

/// Issue 17: error wording a user can act on.
#[test]
fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `check` where there is no config/kkachi.toml: name --config and $KKACHI_CONFIG.
    let out = kkachi()
        .arg("check")
        .current_dir(dir.path())
        .output()
        .expect("check");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("--config")
            && text.contains("$KKACHI_CONFIG")
            && text.contains("kkachi init"),
        "{text}"
    );
    // `--since 7`: a unit a person would write, not "7sec".
    let out = kkachi()
        .args(["replay", "--since", "7"])
        .output()
        .expect("replay");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("7d (days)") && !stderr(&out).contains("7sec"),
        "{}",
        stderr(&out)
    );
    // Text that starts with a dash is text.
    let out = kkachi()
        .args([
            "summarize",
            "--text",
            "- 배기량 3리터 엔진을 얹었다. 회사는 이같이 밝혔다.",
        ])
        .output()
        .expect("summarize");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = kkachi()
        .args(["rules", "test", "배기량", "--text", "- 배기량 3리터"])
        .output()
        .expect("rules test");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// Issue 17: a taken port names `[http] listen` and says the OS error once.
#[test]
fn a_taken_port_names_the_setting_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let env = Env::new(&[], &rules(&[("a", "딥시크")]));
    let cfg = std::fs::read_to_string(env.config()).expect("config");
    let cfg = cfg.replace(
        "[http]\nenabled = false\n",
        &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    std::fs::write(env.config(), cfg).expect("write");
    // The daemon (not --once, which serves no HTTP) must fail at start; bounded wait.
    let mut child = kkachi()
        .args(["run", "--config"])
        .arg(env.config())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let start = std::time::Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            panic!("the daemon kept running on a taken port");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("[http] listen"), "{err}");
    assert_eq!(err.matches("os error 98").count(), 1, "{err}");
}
