//! `config::parse` and `config::for_reload` on data: defaults, positions, every problem.

use std::time::Duration;

use super::*;
// The raw structs and key lists under the names they had when config was one file.
use super::feeds::{KEYS as FEED_KEYS, Raw as RawFeed};
use super::fetch::{KEYS as FETCH_KEYS, Raw as RawFetch};
use super::schedule::{KEYS as SCHEDULE_KEYS, Raw as RawSchedule};
use super::store::{KEYS as STORE_KEYS, Raw as RawStore};
use super::summary::{KEYS as SUMMARY_KEYS, LLM_KEYS, Raw as RawSummary};
use super::telegram::{KEYS as TELEGRAM_KEYS, Raw as RawTelegram};

fn parse_str(src: &str) -> (Option<Config>, Vec<String>) {
    let (c, _, d) = parse(src, Path::new("/nonexistent/k.toml"));
    (c, d.iter().map(ToString::to_string).collect())
}

#[test]
fn defaults_apply() {
    let (c, d) = parse_str("[[feeds]]\nname = \"a\"\nurl = \"https://example.com/rss\"\n");
    let c = c.expect("valid");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(c.store.retention_days, 30);
    assert_eq!(c.store.path, Path::new("/nonexistent/kkachi-data"));
    assert_eq!(c.schedule.timezone, chrono_tz::Asia::Seoul);
    assert_eq!(c.fetch.max_body_bytes, 10 * 1024 * 1024);
    assert_eq!(c.fetch.max_backoff, Duration::from_secs(6 * 3600));
    assert_eq!(c.rules_path, Path::new("/nonexistent/rules.toml"));
    assert!(c.feeds[0].enabled);
    assert_eq!(c.feeds[0].backfill, 0);
    assert!(c.fetch.user_agent.starts_with("kkachi/"));
}

/// Regression (issue 13): a mistyped URL was taken as a file path with only a warning.
#[test]
fn a_mistyped_url_is_an_error_with_the_likely_fix() {
    for (url, fix) in [
        (
            "htps//www.yna.co.kr/rss/news.xml",
            "https://www.yna.co.kr/rss/news.xml",
        ),
        (
            "http:/rss.donga.com/total.xml",
            "http://rss.donga.com/total.xml",
        ),
        (
            "https//techcrunch.com/feed/",
            "https://techcrunch.com/feed/",
        ),
        ("www.hani.co.kr/rss/", "https://www.hani.co.kr/rss/"),
        (
            "rss.etnews.com/Section901.xml",
            "https://rss.etnews.com/Section901.xml",
        ),
        ("zdnet.co.kr", "https://zdnet.co.kr"),
    ] {
        let (c, d) = parse_str(&format!("[[feeds]]\nname = \"a\"\nurl = \"{url}\"\n"));
        assert!(c.is_none(), "{url}: an error, not a warning");
        assert_eq!(
            d,
            vec![format!(
                "/nonexistent/k.toml:3:7: feed \"a\": {url:?} looks like a mistyped web address, not a file path: did you mean {fix:?}?"
            )],
            "{url}"
        );
    }
    // File paths stay file paths (a warning when missing).
    for path in [
        "feeds/yna.xml",
        "a.xml",
        "./local.rss",
        "../data/x.atom",
        "feed",
    ] {
        let (c, d) = parse_str(&format!("[[feeds]]\nname = \"a\"\nurl = \"{path}\"\n"));
        assert!(c.is_some(), "{path}: {d:?}");
        assert!(
            d.iter().all(|m| m.contains("does not exist")),
            "{path}: {d:?}"
        );
    }
}

/// Regression (issue 10): `*/5 * * * *` with `jitter = "10m"` passed `check` silently.
#[test]
fn a_jitter_longer_than_a_feed_interval_is_a_warning() {
    let (c, d) = parse_str(
        "[schedule]\ncron = \"*/5 * * * *\"\njitter = \"10m\"\n\
         [[feeds]]\nname = \"a\"\nurl = \"https://example.com/rss\"\n\
         [[feeds]]\nname = \"b\"\nurl = \"https://example.com/b\"\n\
         [[feeds]]\nname = \"daily\"\nurl = \"https://example.com/c\"\ncron = \"0 9 * * *\"\n",
    );
    assert!(c.is_some(), "a warning, not an error");
    let texts: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(texts.len(), 1, "one warning per schedule: {texts:?}");
    assert_eq!(
        texts[0],
        "/nonexistent/k.toml:3:10: warning: [schedule] jitter (10m) is longer than the interval of feed \"a\" (cron \"*/5 * * * *\" fires every 5m): its polls get at most a tenth of the interval (30s) instead"
    );
    // The default jitter is capped quietly: nobody configured it.
    let (_, d) = parse_str(
        "[schedule]\ncron = \"*/2 * * * * *\"\n[[feeds]]\nname = \"a\"\nurl = \"https://example.com/rss\"\n",
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn relative_paths_resolve_against_the_config_dir() {
    let (c, _) = parse_str(
        "rules = \"r/x.toml\"\n[store]\npath = \"../db\"\n[[feeds]]\nname = \"f\"\nurl = \"feeds/a.xml\"\n",
    );
    let c = c.expect("valid");
    assert_eq!(c.rules_path, Path::new("/nonexistent/r/x.toml"));
    assert_eq!(c.store.path, Path::new("/nonexistent/../db"));
    assert_eq!(
        c.feeds[0].source,
        FeedSource::File(PathBuf::from("/nonexistent/feeds/a.xml"))
    );
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let src = "[schedule]\ncrn = \"x\"\ncron = \"61 * * * *\"\ntimezone = \"Mars/Base\"\n\
               [fetch]\ntimeout = \"soon\"\nconcurrency = 0\n\
               [[feeds]]\nname = \"a\"\nurl = \"ftp://x/y\"\nbackfil = 3\n\
               [[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\ncron = \"bad\"\n";
    let (c, d) = parse_str(src);
    assert!(c.is_none());
    let joined = d.join("\n");
    let expect = [
        "/nonexistent/k.toml:2:1: unknown key `crn` in [schedule] (did you mean `cron`?)",
        "/nonexistent/k.toml:3:8: [schedule] cron:",
        "/nonexistent/k.toml:4:12: [schedule] timezone: unknown time zone \"Mars/Base\"",
        "/nonexistent/k.toml:6:11: [fetch] timeout: invalid duration \"soon\"",
        "/nonexistent/k.toml:7:15: [fetch] concurrency must be a positive number, not 0",
        "/nonexistent/k.toml:10:7: feed \"a\": unsupported scheme \"ftp\"",
        "/nonexistent/k.toml:11:1: unknown key `backfil` in [[feeds]] #1 (did you mean `backfill`?)",
        "/nonexistent/k.toml:13:8: duplicate feed name \"a\" (also feed #1)",
        "/nonexistent/k.toml:15:8: feed \"a\" cron:",
    ];
    for e in expect {
        assert!(
            d.iter().any(|l| l.starts_with(e)),
            "missing {e:?} in:\n{joined}"
        );
    }
}

#[test]
fn telegram_section() {
    let (c, d) = parse_str(
        "[telegram]\naccess = \"allowlist\"\nallow = [-1001]\nadmins = [42]\ntoken_file = \"tok\"\n\
         [[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n",
    );
    assert!(d.is_empty(), "{d:?}");
    let t = c.expect("valid").telegram;
    assert_eq!(t.access, Access::Allowlist);
    assert_eq!(t.allow, vec![-1001]);
    assert_eq!(t.admins, vec![42]);
    assert_eq!(t.token_file, Some(PathBuf::from("/nonexistent/tok")));
    assert_eq!(
        (t.per_chat_per_sec, t.per_group_per_min, t.global_per_sec),
        (1, 20, 30)
    );
    assert_eq!((t.max_in_flight, t.allow_paid_broadcast), (16, false));
    let paid = |extra: &str| {
        let (c, d) = parse_str(&format!(
            "[telegram]\nallow_paid_broadcast = true\n{extra}[[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n"
        ));
        assert!(d.is_empty(), "{d:?}");
        let t = c.expect("valid").telegram;
        (t.allow_paid_broadcast, t.global_per_sec)
    };
    assert_eq!(paid(""), (true, PAID_GLOBAL_PER_SEC));
    assert_eq!(paid("global_per_sec = 100\n"), (true, 100));
    let (_, d) = parse_str("[telegram]\nmax_in_flight = 0\n");
    assert!(
        d.iter()
            .any(|l| l
                .contains(":2:17: [telegram] max_in_flight must be a positive number, not 0")),
        "{d:?}"
    );
    let (_, d) = parse_str("[telegram]\naccess = \"everyone\"\ntoken = \"123:abc\"\n");
    assert!(d.iter().any(|l| l.contains("access must be")), "{d:?}");
    assert!(
        d.iter()
            .any(|l| l.contains("unknown key `token` in [telegram]")),
        "{d:?}"
    );
}

#[test]
fn http_and_health_sections() {
    let feeds = "[[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n";
    let (c, d) = parse_str(feeds);
    assert!(d.is_empty(), "{d:?}");
    let c = c.expect("valid");
    assert_eq!(c.http.listen, Some("127.0.0.1:9464".parse().expect("addr")));
    assert_eq!(c.health.feed_down_after, Duration::from_secs(6 * 3600));
    let (c, d) = parse_str(&format!(
        "[http]\nlisten = \"[::1]:9000\"\n[health]\nfeed_down_after = \"90m\"\n{feeds}"
    ));
    assert!(d.is_empty(), "{d:?}");
    let c = c.expect("valid");
    assert_eq!(c.http.listen, Some("[::1]:9000".parse().expect("addr")));
    assert_eq!(c.health.feed_down_after, Duration::from_secs(90 * 60));
    let (c, _) = parse_str(&format!("[http]\nenabled = false\n{feeds}"));
    assert_eq!(c.expect("valid").http.listen, None);
    let (c, d) = parse_str(&format!(
        "[http]\nlisten = \"localhost\"\nport = 1\n[health]\nfeed_down_after = \"soon\"\n{feeds}"
    ));
    assert!(c.is_none());
    assert!(
        d.iter().any(|l| l.starts_with("/nonexistent/k.toml:2:10:")
            && l.contains("[http] listen: \"localhost\" is not an address:port")),
        "{d:?}"
    );
    assert!(
        d.iter().any(|l| l.contains("unknown key `port` in [http]")),
        "{d:?}"
    );
    assert!(
        d.iter().any(|l| l.contains("[health] feed_down_after")),
        "{d:?}"
    );
}

#[test]
fn a_reload_keeps_what_needs_a_restart_and_names_it() {
    let feeds = "[[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n";
    let (old, _) = parse_str(&format!("[store]\npath = \"s1\"\n{feeds}"));
    let (new, _) = parse_str(&format!(
        "[store]\npath = \"s2\"\n[http]\nlisten = \"127.0.0.1:1\"\n\
         [telegram]\ntoken_file = \"t\"\nadmins = [5]\n[summary]\nmax_chars = 100\n{feeds}"
    ));
    let (old, new) = (old.expect("valid"), new.expect("valid"));
    let (applied, restart) = for_reload(&old, new);
    assert_eq!(
        restart,
        vec!["[store] path", "[telegram] token_file", "[http]"]
    );
    assert_eq!(applied.store.path, old.store.path);
    assert_eq!(applied.http, old.http);
    assert_eq!(applied.telegram.token_file, None);
    // The rest takes effect.
    assert_eq!(applied.telegram.admins, vec![5]);
    assert_eq!(applied.summary.max_chars, 100);
    let (same, restart) = for_reload(&old, old.clone());
    assert!(restart.is_empty());
    assert_eq!(same.store.path, old.store.path);
}

#[test]
fn summary_section() {
    let (c, d) = parse_str(
        "[summary]\nmax_chars = 200\n[summary.llm]\nbase_url = \"http://127.0.0.1:1/v1\"\nmodel = \"m\"\n\
         [[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\nfull_text = true\n",
    );
    assert!(d.is_empty(), "{d:?}");
    let c = c.expect("valid");
    assert_eq!(c.summary.max_chars, 200);
    assert!(!c.summary.allow_private);
    let llm = c.summary.llm.expect("llm");
    assert_eq!(llm.api_key_env, "OPENAI_API_KEY");
    assert!(c.feeds[0].full_text);
    let (_, d) =
        parse_str("[summary.llm]\nbase_url = \"ftp://x\"\nmodel = \"m\"\napi_key = \"sk-1\"\n");
    assert!(
        d.iter()
            .any(|l| l.contains("unknown key `api_key` in [summary.llm]")),
        "{d:?}"
    );
    assert!(
        d.iter().any(|l| l.contains("is not an http(s) URL")),
        "{d:?}"
    );
}

#[test]
fn syntax_error_has_a_position() {
    let (c, d) = parse_str("[store]\npath = \n");
    assert!(c.is_none());
    assert!(d[0].starts_with("/nonexistent/k.toml:2:"), "{d:?}");
    assert!(d[0].contains("invalid TOML"), "{d:?}");
}

#[test]
fn key_lists_match_the_structs() {
    // Every key listed as allowed must deserialize into its raw struct.
    fn doc(keys: &[&str], value: &str) -> String {
        keys.iter().map(|k| format!("{k} = {value}\n")).collect()
    }
    let _: RawStore = toml::from_str("path = \"x\"\nretention_days = 1").expect("store keys");
    let _: RawSchedule = toml::from_str(&doc(SCHEDULE_KEYS, "\"x\"")).expect("schedule keys");
    let fetch_doc = "timeout = \"1s\"\nconnect_timeout = \"1s\"\nmax_body_bytes = 1\nconcurrency = 1\n\
                     per_host_concurrency = 1\nuser_agent = \"x\"\nmax_backoff = \"1s\"\n";
    assert_eq!(fetch_doc.lines().count(), FETCH_KEYS.len());
    let _: RawFetch = toml::from_str(fetch_doc).expect("fetch keys");
    let _: RawFeed = toml::from_str(
        "name = \"a\"\nurl = \"b\"\ncron = \"c\"\nenabled = true\nbackfill = 1\nfull_text = true",
    )
    .expect("feed keys");
    let _: RawSummary = toml::from_str("max_chars = 1\nallow_private = true\n[llm]\nbase_url = \"x\"\nmodel = \"m\"\napi_key_env = \"K\"\ntimeout = \"1s\"\n")
        .expect("summary keys");
    assert_eq!((SUMMARY_KEYS.len(), LLM_KEYS.len()), (3, 4));
    let tg = "token_file = \"t\"\napi_url = \"http://x\"\naccess = \"open\"\nallow = [1]\nadmins = [2]\n\
              per_chat_per_sec = 1\nper_group_per_min = 1\nglobal_per_sec = 1\nmax_in_flight = 1\n\
              allow_paid_broadcast = true\n";
    assert_eq!(tg.lines().count(), TELEGRAM_KEYS.len());
    let _: RawTelegram = toml::from_str(tg).expect("telegram keys");
    assert_eq!(STORE_KEYS.len(), 2);
    assert_eq!(FEED_KEYS.len(), 6);
}

/// The `Default` impls are what an empty section gives: they are the defaults, not a copy.
#[test]
fn an_empty_section_is_its_default() {
    let (c, d) = parse_str("[[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n");
    assert!(d.is_empty(), "{d:?}");
    let c = c.expect("valid");
    assert_eq!(c.fetch, FetchConfig::default());
    assert_eq!(c.telegram, TelegramConfig::default());
    assert_eq!(c.summary, SummaryConfig::default());
    assert_eq!(c.http, HttpConfig::default());
    assert_eq!(c.health, HealthConfig::default());
    let (store, schedule) = (StoreConfig::default(), ScheduleConfig::default());
    assert_eq!(c.store.path, Path::new("/nonexistent").join(&store.path));
    assert_eq!(c.store.retention_days, store.retention_days);
    assert_eq!(c.schedule.cron.source(), DEFAULT_CRON);
    assert_eq!(schedule.cron.source(), DEFAULT_CRON);
    assert_eq!(
        (c.schedule.timezone, c.schedule.jitter),
        (schedule.timezone, schedule.jitter)
    );
    let feed = &c.feeds[0];
    assert_eq!(
        (feed.enabled, feed.backfill, feed.full_text),
        (
            FeedConfig::DEFAULT_ENABLED,
            FeedConfig::DEFAULT_BACKFILL,
            FeedConfig::DEFAULT_FULL_TEXT
        )
    );
    assert_eq!(feed.cron, c.schedule.cron);
    assert_eq!(
        c.rules_path,
        Path::new("/nonexistent").join(DEFAULT_RULES_FILE)
    );
    let (c, _) = parse_str(
        "[summary.llm]\nbase_url = \"http://127.0.0.1:1/v1\"\nmodel = \"m\"\n\
         [[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n",
    );
    let llm = c.expect("valid").summary.llm.expect("llm");
    assert_eq!(
        (llm.api_key_env.as_str(), llm.timeout),
        (LlmConfig::DEFAULT_API_KEY_ENV, LlmConfig::DEFAULT_TIMEOUT)
    );
}

#[test]
fn feed_source_errors_are_typed_and_keep_their_text() {
    let base = Path::new("/nonexistent");
    let err = |raw: &str| FeedSource::parse(raw, base).expect_err(raw);
    let e = err("https://exa mple.com/");
    assert!(
        matches!(&e, FeedSourceError::InvalidUrl { raw, .. } if raw == "https://exa mple.com/"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "invalid URL \"https://exa mple.com/\": invalid international domain name"
    );
    let e = err("ftp://x/y");
    assert_eq!(
        e,
        FeedSourceError::UnsupportedScheme {
            scheme: "ftp".into(),
            raw: "ftp://x/y".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "unsupported scheme \"ftp\" in \"ftp://x/y\": use http, https or a file path"
    );
    assert_eq!(err("  "), FeedSourceError::Empty);
    assert_eq!(err("  ").to_string(), "empty url");
    let e = err("www.hani.co.kr/rss/");
    assert_eq!(
        e,
        FeedSourceError::MistypedUrl {
            raw: "www.hani.co.kr/rss/".into(),
            fix: "https://www.hani.co.kr/rss/".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "\"www.hani.co.kr/rss/\" looks like a mistyped web address, not a file path: did you mean \"https://www.hani.co.kr/rss/\"?"
    );
}

/// Issue 17: `jitter = 30` said `[schedule]: invalid type: integer` without the key.
#[test]
fn a_value_of_the_wrong_type_names_its_key() {
    let (c, d) = parse_str(
        "[schedule]\ncron = \"0 */5 * * * *\"\njitter = 30\n[[feeds]]\nname = \"a\"\nurl = \"https://e.com/rss\"\n",
    );
    assert!(c.is_none());
    assert!(
        d.iter()
            .any(|m| m.contains("k.toml:3:10: [schedule] jitter: invalid type: integer `30`")),
        "{d:?}"
    );
}
