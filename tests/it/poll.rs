//! Polling through the real pipeline against the fake feed server: dedup, conditional GET,
//! faults isolated per feed, backoff.

use std::collections::HashMap;

use kkachi::app::{self, RunOptions};
use kkachi::deliver::Format;
use kkachi::pipeline::{Outcome, Report};
use kkachi::store::Store;

use crate::server::{Route, Server};
use crate::{Env, FeedSpec, fixture, rss, rules};

async fn once(env: &Env) -> HashMap<String, Outcome> {
    let opts = RunOptions {
        once: true,
        dry_run: true,
        format: Format::Json,
        shutdown_deadline: app::SHUTDOWN_DEADLINE,
        once_deadline: None,
    };
    let (_control, rx) = tokio::sync::mpsc::unbounded_channel();
    let reports: Vec<Report> = app::run(env.load(), opts, rx).await.expect("run --once");
    reports.into_iter().map(|r| (r.feed, r.outcome)).collect()
}

fn polled(o: &Outcome) -> (usize, usize, usize) {
    match o {
        Outcome::Polled { items, new, alerts } => (*items, *new, *alerts),
        other => panic!("expected a successful poll, got {other:?}"),
    }
}

fn failed(o: &Outcome) -> &str {
    match o {
        Outcome::Failed { error } => error,
        other => panic!("expected a failure, got {other:?}"),
    }
}

const FIXTURES: &[(&str, &str, &str)] = &[
    (
        "donga",
        "feeds/ko/donga-2022-07-30.xml",
        "application/rss+xml; charset=utf-8",
    ),
    ("joongang", "feeds/ko/joongang-2022-07-30.xml", "text/xml"),
    ("kmib", "feeds/ko/kmib-2022-07-30.xml", "text/xml"),
    ("nocut", "feeds/ko/nocut-2022-07-30.xml", "application/xml"),
    (
        "pressian",
        "feeds/ko/pressian-2022-07-30.xml",
        "text/xml; charset=UTF-8",
    ),
    ("techcrunch", "feeds/en/techcrunch-2011.xml", "text/xml"),
    (
        "huffpost",
        "feeds/en/huffpost-canada-2017.xml",
        "application/rss+xml",
    ),
    (
        "reddit",
        "feeds/en/reddit-worldnews-atom-2019.xml",
        "application/atom+xml",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_alerts_once_then_never_again_not_even_after_a_restart() {
    let server = Server::start();
    let mut feeds = Vec::new();
    for (name, file, ct) in FIXTURES {
        let path = format!("/{name}.xml");
        server.feed(&path, fixture(file), ct);
        feeds.push(FeedSpec::new(name, server.url(&path)).backfill(1000));
    }
    // Matches every story through its feed.
    let all = FIXTURES
        .iter()
        .map(|(n, _, _)| format!("feed:{n}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let env = Env::new(&feeds, &rules(&[("everything", &all)]));

    let first = once(&env).await;
    for (name, _, _) in FIXTURES {
        let (items, new, alerts) = polled(&first[*name]);
        assert!(items > 0, "{name}: no items");
        // reddit carries one story twice under the same title (a re-post): one alert.
        let distinct = if *name == "reddit" { items - 1 } else { items };
        assert_eq!(
            new, distinct,
            "{name}: backfill covers every distinct item on the first poll"
        );
        assert!(alerts > 0, "{name}: nothing alerted");
    }
    // A restart: a new process on the same store alerts nothing.
    let second = once(&env).await;
    for (name, _, _) in FIXTURES {
        let (items, new, alerts) = polled(&second[*name]);
        assert!(items > 0);
        assert_eq!((new, alerts), (0, 0), "{name} re-alerted after a restart");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_regiuded_and_tracked_items_do_not_alert_but_a_new_one_does() {
    let server = Server::start();
    let items = [
        (
            "g1",
            "삼성전자 3분기 실적 발표",
            "https://news.example.kr/a/1",
        ),
        (
            "g2",
            "오픈AI, 한국 기업과 협력",
            "https://news.example.kr/a/2",
        ),
        ("g3", "딥시크 새 모델 공개", "https://news.example.kr/a/3"),
    ];
    server.feed("/f.xml", rss(&items), "application/rss+xml");
    let env = Env::new(
        &[FeedSpec::new("f", server.url("/f.xml"))],
        &rules(&[("any", "feed:f")]),
    );

    // First poll: everything is marked seen, nothing alerts (backfill 0).
    assert_eq!(polled(&once(&env).await["f"]), (3, 0, 0));

    // Re-ordered, one GUID changed (same link), one link with tracking parameters and a
    // fragment (same title and GUID changed too), and a second poll of the same content.
    let variant = [
        ("g3", "딥시크 새 모델 공개", "https://news.example.kr/a/3"),
        (
            "g1-edited",
            "삼성전자 3분기 실적 발표 (수정)",
            "https://news.example.kr/a/1",
        ),
        (
            "g2-new",
            "오픈AI, 한국 기업과 협력",
            "https://NEWS.example.kr/a/2?utm_source=rss&amp;utm_medium=feed&amp;fbclid=x#top",
        ),
    ];
    server.feed("/f.xml", rss(&variant), "application/rss+xml");
    assert_eq!(polled(&once(&env).await["f"]), (3, 0, 0));

    // A genuinely new story does alert.
    let mut with_new = variant.to_vec();
    with_new.insert(
        0,
        ("g4", "SK하이닉스 HBM 증산", "https://news.example.kr/a/4"),
    );
    server.feed("/f.xml", rss(&with_new), "application/rss+xml");
    assert_eq!(polled(&once(&env).await["f"]), (4, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_304_parses_nothing_and_validators_are_sent() {
    let server = Server::start();
    let body = rss(&[("g1", "엔비디아 실적", "https://e.kr/1")]);
    server.route(
        "/etag.xml",
        Route::Feed {
            body: body.into_bytes(),
            content_type: "application/rss+xml".into(),
            etag: Some("\"v1\"".into()),
        },
    );
    let env = Env::new(
        &[FeedSpec::new("e", server.url("/etag.xml"))],
        &rules(&[("any", "feed:e")]),
    );
    assert_eq!(polled(&once(&env).await["e"]), (1, 0, 0));
    assert_eq!(once(&env).await["e"], Outcome::NotModified);
    let hits = server.hits("/etag.xml");
    assert_eq!(hits.len(), 2);
    assert_eq!(
        hits[1].headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    let ua = hits[0]
        .headers
        .get("user-agent")
        .cloned()
        .unwrap_or_default();
    assert!(
        ua.starts_with(&format!("kkachi/{}", env!("CARGO_PKG_VERSION"))),
        "user agent {ua:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_feeds_fail_alone_with_clear_errors_while_others_alert() {
    let server = Server::start();
    server.feed(
        "/good.xml",
        rss(&[("g1", "딥시크 새 모델 공개", "https://e.kr/1")]),
        "application/rss+xml",
    );
    server.route(
        "/huge.xml",
        Route::Huge {
            len: 20 * 1024 * 1024,
        },
    );
    server.route("/endless.xml", Route::Endless);
    server.route(
        "/500.xml",
        Route::Status {
            code: 500,
            headers: vec![],
        },
    );
    server.route(
        "/429.xml",
        Route::Status {
            code: 429,
            headers: vec![("Retry-After".into(), "120".into())],
        },
    );
    server.feed(
        "/broken.xml",
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><title>x</ti",
        "text/xml",
    );
    // A port nobody listens on: bind, note the port, close.
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let feeds = [
        FeedSpec::new("good", server.url("/good.xml")).backfill(10),
        FeedSpec::new("huge", server.url("/huge.xml")),
        FeedSpec::new("endless", server.url("/endless.xml")),
        FeedSpec::new("http500", server.url("/500.xml")),
        FeedSpec::new("http429", server.url("/429.xml")),
        FeedSpec::new("broken", server.url("/broken.xml")),
        FeedSpec::new("refused", format!("http://{refused}/feed.xml")),
    ];
    let env = Env::new(&feeds, &rules(&[("deepseek", "DeepSeek")]));
    let started = std::time::Instant::now();
    let out = once(&env).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "a hostile feed held up the cycle"
    );

    assert_eq!(
        polled(&out["good"]),
        (1, 1, 1),
        "the good feed alerts through the built-in DeepSeek alias"
    );
    assert!(
        failed(&out["huge"]).contains("larger than the 2000000-byte limit"),
        "{}",
        failed(&out["huge"])
    );
    assert!(
        failed(&out["endless"]).contains("timed out"),
        "{}",
        failed(&out["endless"])
    );
    assert!(
        failed(&out["http500"]).contains("HTTP 500"),
        "{}",
        failed(&out["http500"])
    );
    assert!(
        failed(&out["http429"]).contains("retry after 120s"),
        "{}",
        failed(&out["http429"])
    );
    assert!(
        failed(&out["broken"]).starts_with("cannot parse feed"),
        "{}",
        failed(&out["broken"])
    );
    assert!(
        failed(&out["refused"]).contains("cannot connect"),
        "{}",
        failed(&out["refused"])
    );

    // Failures are persisted with a backoff; the server's Retry-After wins where given.
    let store = Store::open(&env.path("store")).expect("store");
    let now = chrono::Utc::now();
    let s429 = store.feed_state("http429").expect("state");
    let wait = (s429.retry_at.expect("retry_at") - now).num_seconds();
    assert!((100..=121).contains(&wait), "429 retry in {wait}s");
    let s500 = store.feed_state("http500").expect("state");
    assert_eq!(s500.failures, 1);
    let wait = (s500.retry_at.expect("retry_at") - now).num_seconds();
    assert!(
        (40..=61).contains(&wait),
        "first backoff is a minute, got {wait}s"
    );
    assert!(
        store
            .feed_state("good")
            .expect("state")
            .last_error
            .is_none()
    );
    drop(store);

    // While in backoff the daemon skips the feed, without fetching it.
    let hits_before = server.hits("/500.xml").len();
    let loaded = env.load();
    let store = std::sync::Arc::new(Store::open(&loaded.config.store.path).expect("store"));
    let ctx = kkachi::pipeline::Ctx {
        fetcher: std::sync::Arc::new(
            kkachi::fetch::Fetcher::new(&loaded.config.fetch, false).expect("fetcher"),
        ),
        delivery: kkachi::deliver::Delivery::Console(kkachi::deliver::Console {
            format: Format::Json,
            timezone: chrono_tz::Asia::Seoul,
        }),
        config: loaded.config.clone(),
        rules: loaded.rules.clone(),
        personal: kkachi::personal::Personal::empty(),
        store: store.clone(),
        metrics: std::sync::Arc::new(kkachi::metrics::Metrics::new()),
        cpu: kkachi::pipeline::cpu_permits(),
    };
    let feed = loaded
        .config
        .feeds
        .iter()
        .find(|f| f.name == "http500")
        .expect("feed");
    let report = kkachi::pipeline::poll_feed(&ctx, feed, kkachi::pipeline::Backoff::Honour).await;
    assert!(
        matches!(report.outcome, Outcome::Skipped { .. }),
        "{report:?}"
    );
    assert_eq!(server.hits("/500.xml").len(), hits_before);
    drop((ctx, store));

    // Regression (issue 13): `run --once` polls every enabled feed, backoff or not (it used to
    // print `cycle done feeds=8 failed=0` on an offline config without polling anything).
    assert!(matches!(
        once(&env).await["http500"],
        Outcome::Failed { .. }
    ));
    assert_eq!(server.hits("/500.xml").len(), hits_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_decoded_and_redirect_loops_are_cut() {
    let server = Server::start();
    server.route(
        "/gz.xml",
        Route::Gzip {
            body: rss(&[("g1", "딥시크 압축 피드", "https://e.kr/1")]).into_bytes(),
        },
    );
    server.feed(
        "/new-home.xml",
        rss(&[("m1", "딥시크 이전한 피드", "https://e.kr/2")]),
        "application/rss+xml",
    );
    server.route(
        "/moved.xml",
        Route::Redirect {
            to: "/new-home.xml".into(),
        },
    );
    server.route(
        "/loop.xml",
        Route::Redirect {
            to: "/loop.xml".into(),
        },
    );
    let feeds = [
        FeedSpec::new("gz", server.url("/gz.xml")).backfill(5),
        FeedSpec::new("moved", server.url("/moved.xml")).backfill(5),
        FeedSpec::new("loop", server.url("/loop.xml")),
    ];
    let env = Env::new(&feeds, &rules(&[("deepseek", "DeepSeek")]));
    let out = once(&env).await;
    assert_eq!(polled(&out["gz"]), (1, 1, 1));
    let gz = server.hits("/gz.xml");
    assert!(
        gz[0]
            .headers
            .get("accept-encoding")
            .is_some_and(|v| v.contains("gzip")),
        "{:?}",
        gz[0].headers
    );
    assert_eq!(polled(&out["moved"]), (1, 1, 1), "the redirect is followed");
    assert!(
        failed(&out["loop"]).contains("too many redirects"),
        "{}",
        failed(&out["loop"])
    );
    // 1 request + 5 redirects followed, then the fetch gives up.
    assert_eq!(server.hits("/loop.xml").len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_are_bounded_per_host() {
    let server = Server::start();
    let mut feeds = Vec::new();
    let names: Vec<String> = (0..8).map(|i| format!("slow{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let path = format!("/slow/{i}.xml");
        let body = rss(&[(
            &format!("s{i}"),
            &format!("느린 피드 {i}번 기사"),
            &format!("https://e.kr/s/{i}"),
        )]);
        server.route(
            &path,
            Route::Slow {
                body: body.into_bytes(),
                delay: std::time::Duration::from_millis(300),
            },
        );
        feeds.push(FeedSpec::new(name, server.url(&path)));
    }
    let env = Env::new(&feeds, &rules(&[("any", "느린")]));
    // The Env config leaves per_host_concurrency at its default, 2.
    let out = once(&env).await;
    assert!(
        out.values().all(|o| matches!(o, Outcome::Polled { .. })),
        "{out:?}"
    );
    assert_eq!(
        server.max_slow_in_flight(),
        2,
        "at most 2 requests at once to one host"
    );
}
