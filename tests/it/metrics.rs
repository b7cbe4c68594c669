//! The operations endpoint over a real socket on 127.0.0.1: `/metrics` after real polls and
//! real deliveries (fake feed server, fake Telegram), `/healthz` against a store whose
//! directory is replaced, `/readyz` following the readiness channel, 404 for the rest.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kkachi::http::{self, Readiness};
use kkachi::metrics::Metrics;
use kkachi::pipeline::{self, Ctx, Outcome};
use kkachi::store::Store;
use tokio::sync::watch;

use crate::fake_telegram::{FakeTelegram, Fault};
use crate::server::{Route, Server};
use crate::{Env, FeedSpec, rss};

/// The server, running until dropped.
struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), http::HttpError>>,
}

impl Running {
    async fn start(
        metrics: Arc<Metrics>,
        store: Arc<Store>,
    ) -> (Running, watch::Sender<Readiness>) {
        let listener = http::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (ready_tx, ready) = watch::channel(Readiness::Starting);
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let state = http::State {
            metrics,
            store,
            ready,
            control: None,
        };
        let task = tokio::spawn(http::serve(listener, state, async {
            let _ = rx.await;
        }));
        let running = Running {
            addr,
            stop: Some(stop),
            task,
        };
        (running, ready_tx)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        let resp = reqwest::Client::new()
            .get(self.url(path))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, resp.text().await.expect("body"))
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the server stops on shutdown")
            .expect("server task")
            .expect("serve");
    }
}

/// The value of one sample line (`name{labels} value`), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn open(dir: &std::path::Path) -> Arc<Store> {
    Arc::new(Store::open(dir).expect("open store"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_polls_and_deliveries_has_every_series() {
    let server = Server::start();
    let items = [
        ("1", "삼성전자 실적 발표", "https://e.com/1"),
        ("2", "오늘의 날씨 소식", "https://e.com/2"),
        ("3", "삼성전자 신제품 공개", "https://e.com/3"),
    ];
    let body = rss(&items);
    server.feed("/a.xml", body.clone(), "application/rss+xml");
    server.route(
        "/down.xml",
        Route::Status {
            code: 503,
            headers: vec![],
        },
    );
    let rules = "[[rules]]\nname = \"samsung\"\nquery = \"삼성전자\"\nchats = [-100777]\n";
    let env = Env::new(
        &[
            FeedSpec::new("a", server.url("/a.xml")).backfill(10),
            FeedSpec::new("down", server.url("/down.xml")),
        ],
        rules,
    );
    let loaded = env.load();
    let store = open(&env.path("store"));
    let metrics = Arc::new(Metrics::new());
    let fake = FakeTelegram::start();
    let sender = kkachi::telegram::send::Sender::new(
        fake.bot(Duration::from_secs(5)),
        store.clone(),
        kkachi::telegram::send::Settings {
            limits: kkachi::telegram::send::Limits {
                per_chat_per_sec: 50,
                per_group_per_min: 1000,
                global_per_sec: 200,
            },
            timezone: chrono_tz::Asia::Seoul,
            admins: vec![],
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(200),
            rescan: Duration::from_millis(50),
            max_in_flight: 16,
            paid_broadcast: false,
        },
    )
    .with_metrics(metrics.clone());
    let ctx = Ctx {
        fetcher: Arc::new(
            kkachi::fetch::Fetcher::new(&loaded.config.fetch, false).expect("fetcher"),
        ),
        delivery: kkachi::deliver::Delivery::Outbox {
            wake: sender.waker(),
            timezone: loaded.config.schedule.timezone,
        },
        config: loaded.config.clone(),
        rules: loaded.rules.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        cpu: kkachi::pipeline::cpu_permits(),
    };
    let (running, _ready) = Running::start(metrics.clone(), store.clone()).await;

    // Before anything happened: the store gauges are there, at zero.
    let (status, ct, text) = running.get("/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(sample(&text, "kkachi_outbox_depth"), Some(0.0), "{text}");

    for feed in &loaded.config.feeds {
        pipeline::poll_feed(&ctx, feed, pipeline::Backoff::Honour).await;
    }
    // A second round: "a" is all duplicates now, "down" is in backoff.
    let reports = [
        pipeline::poll_feed(&ctx, &loaded.config.feeds[0], pipeline::Backoff::Honour).await,
        pipeline::poll_feed(&ctx, &loaded.config.feeds[1], pipeline::Backoff::Honour).await,
    ];
    assert!(matches!(reports[0].outcome, Outcome::Polled { new: 0, .. }));
    assert!(matches!(reports[1].outcome, Outcome::Skipped { .. }));

    let (_, _, text) = running.get("/metrics").await;
    assert_eq!(sample(&text, "kkachi_outbox_depth"), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, "kkachi_feeds_in_backoff"),
        Some(1.0),
        "{text}"
    );

    // The first send to the chat gets a 429, the retry goes through.
    fake.fault(Some(-100_777), Fault::RetryAfter(1));
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sender.run(async {
        let _ = rx.await;
    }));
    assert!(
        fake.wait_for(Duration::from_secs(10), |r| {
            r.iter()
                .filter(|r| r.method == "sendmessage" && r.accepted)
                .count()
                == 2
        })
        .await,
        "both alerts delivered"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while store.outbox_len() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    task.await.expect("sender");

    let (status, _, text) = running.get("/metrics").await;
    assert_eq!(status, 200);
    let bytes = body.len() as f64 * 2.0;
    for (series, value) in [
        (r#"kkachi_polls_total{feed="a",outcome="polled"}"#, 2.0),
        (r#"kkachi_polls_total{feed="down",outcome="failed"}"#, 1.0),
        (r#"kkachi_polls_total{feed="down",outcome="skipped"}"#, 1.0),
        (
            r#"kkachi_poll_errors_total{feed="down",kind="http_5xx"}"#,
            1.0,
        ),
        (
            r#"kkachi_poll_duration_seconds_count{outcome="polled"}"#,
            2.0,
        ),
        (
            r#"kkachi_poll_duration_seconds_count{outcome="failed"}"#,
            1.0,
        ),
        (r#"kkachi_fetched_bytes_total{feed="a"}"#, bytes),
        (r#"kkachi_stories_total{feed="a",result="new"}"#, 3.0),
        (r#"kkachi_stories_total{feed="a",result="duplicate"}"#, 3.0),
        (r#"kkachi_rule_matches_total{rule="samsung"}"#, 2.0),
        ("kkachi_alerts_queued_total", 2.0),
        ("kkachi_alerts_sent_total", 2.0),
        ("kkachi_telegram_429_total", 1.0),
        ("kkachi_delivery_latency_seconds_count", 2.0),
        ("kkachi_outbox_depth", 0.0),
        ("kkachi_feeds_in_backoff", 1.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    // The flood wait is part of the delivery latency.
    let latency = sample(&text, "kkachi_delivery_latency_seconds_sum").expect("latency sum");
    assert!(latency >= 1.0, "{latency}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_turns_unhealthy_when_the_store_directory_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let store = open(&path);
    let (running, _ready) = Running::start(Arc::new(Metrics::new()), store.clone()).await;
    let (status, _, body) = running.get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    // Root ignores permissions: move the directory away and leave a file in its place.
    let moved = dir.path().join("store.moved");
    std::fs::rename(&path, &moved).expect("move the store away");
    std::fs::write(&path, b"not a directory").expect("replace it by a file");
    let (status, _, body) = running.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with(&format!(
            "the store at {} is not writable: ",
            path.display()
        )),
        "{body}"
    );

    std::fs::remove_file(&path).expect("remove the file");
    std::fs::rename(&moved, &path).expect("restore the store");
    let (status, _, body) = running.get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_daemon_and_other_paths_are_404() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, ready) = Running::start(Arc::new(Metrics::new()), open(dir.path())).await;
    assert_eq!(
        running.get("/readyz").await,
        (503, "text/plain; charset=utf-8".into(), "starting\n".into())
    );
    ready.send_replace(Readiness::Ready);
    assert_eq!(running.get("/readyz").await.0, 200);
    ready.send_replace(Readiness::ShuttingDown);
    let (status, _, body) = running.get("/readyz").await;
    assert_eq!((status, body.as_str()), (503, "shutting down\n"));

    for path in ["/", "/metric", "/metrics/x", "/healthz/"] {
        assert_eq!(running.get(path).await.0, 404, "{path}");
    }
    let post = reqwest::Client::new()
        .post(running.url("/metrics"))
        .send()
        .await
        .expect("post");
    assert_eq!(post.status().as_u16(), 405);
    running.stop().await;
}

#[tokio::test]
async fn a_taken_port_is_reported_with_its_address() {
    let taken = http::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let addr = taken.local_addr().expect("addr");
    let err = http::bind(addr).await.expect_err("the port is taken");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot listen on {addr} (the config's [http] listen): "
        )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("in use"), "{text}");
    assert!(text.contains("choose another [http] listen"), "{text}");
}
