//! Summaries end to end: article pages fetched for `full_text` feeds (and refused on private
//! addresses unless allowed), the optional LLM with its fallback, and `kkachi summarize`.

use crate::server::{Route, Server};
use crate::support::text;
use crate::{Env, FeedSpec, fixture, kkachi, rules};

/// A feed whose one item has only a cut-off lede; its link points at the article page.
fn lede_feed(server: &Server) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>\
         <item><guid>z1</guid><title>지카바이러스, 남성 생식능력도 저하시킨다</title><link>{}</link>\
         <description>소두증을 유발한다고 알려진 지카바이러스가 남성의...</description>\
         <pubDate>Fri, 27 Nov 2026 09:00:00 +0900</pubDate></item></channel></rss>",
        server.url("/article/1")
    )
}

fn add_config(env: &Env, extra: &str) {
    let path = env.config();
    let mut toml = std::fs::read_to_string(&path).expect("read config");
    toml = toml.replace("[[feeds]]", &format!("{extra}\n[[feeds]]"));
    toml = toml.replace("backfill = 5\n", "backfill = 5\nfull_text = true\n");
    std::fs::write(&path, toml).expect("write config");
}

fn alert_summary(env: &Env, envs: &[(&str, &str)]) -> String {
    let out = kkachi()
        .args(["run", "--once", "--format", "json", "--config"])
        .arg(env.config())
        .envs(envs.iter().copied())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("{e}: {line:?} / {}", text(&out.stderr)));
    v["summary"].as_str().unwrap_or_default().to_string()
}

fn setup(extra: impl FnOnce(&Server) -> String) -> (Server, Env) {
    let server = Server::start();
    let extra = extra(&server);
    server.feed("/f.xml", lede_feed(&server), "application/rss+xml");
    server.feed(
        "/article/1",
        fixture("summaries/pages/article-ko.html"),
        "text/html; charset=utf-8",
    );
    let env = Env::new(
        &[FeedSpec::new("f", server.url("/f.xml")).backfill(5)],
        &rules(&[("zika", "지카바이러스")]),
    );
    add_config(&env, &extra);
    (server, env)
}

#[test]
fn full_text_feeds_summarise_the_article_page() {
    let (server, env) = setup(|_| "[summary]\nallow_private = true\nmax_chars = 200\n".into());
    let summary = alert_summary(&env, &[]);
    assert!(summary.chars().count() <= 200, "{summary}");
    assert!(
        summary.contains("동물 실험") || summary.contains("워싱턴대"),
        "article text expected: {summary}"
    );
    for junk in ["연합뉴스", "기자", "@", "ⓒ", "...", "광고"] {
        assert!(!summary.contains(junk), "{junk:?} in {summary}");
    }
    assert_eq!(server.hits("/article/1").len(), 1);
}

#[test]
fn article_pages_on_private_addresses_are_refused_and_the_feed_text_is_used() {
    let (server, env) = setup(|_| String::new());
    let summary = alert_summary(&env, &[]);
    assert!(
        server.hits("/article/1").is_empty(),
        "a loopback page must not be fetched by default"
    );
    assert!(!summary.is_empty(), "the alert still carries a summary");
    assert!(!summary.ends_with("..."), "{summary}");
}

#[test]
fn the_llm_summary_is_used_and_falls_back_when_it_fails() {
    let (server, env) = setup(|server| {
        format!(
            "[summary]\nallow_private = true\n[summary.llm]\nbase_url = \"{}\"\nmodel = \"test-model\"\n\
             api_key_env = \"KKACHI_TEST_LLM_KEY\"\ntimeout = \"3s\"\n",
            server.url("/v1")
        )
    });
    server.route(
        "/v1/chat/completions",
        Route::Json {
            body: r#"{"choices":[{"message":{"role":"assistant","content":"지카바이러스가 수컷 쥐의 생식능력을 떨어뜨린다는 연구가 나왔다."}}]}"#.into(),
        },
    );
    let summary = alert_summary(&env, &[("KKACHI_TEST_LLM_KEY", "sk-test")]);
    assert_eq!(
        summary,
        "지카바이러스가 수컷 쥐의 생식능력을 떨어뜨린다는 연구가 나왔다."
    );
    let calls = server.hits("/v1/chat/completions");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "POST");
    assert_eq!(
        calls[0].headers.get("authorization").map(String::as_str),
        Some("Bearer sk-test")
    );
    let body: serde_json::Value = serde_json::from_slice(&calls[0].body).expect("json request");
    assert_eq!(body["model"], "test-model");
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .is_some_and(|c| c.contains("워싱턴대")),
        "the article is sent"
    );

    // A failing endpoint: the extractive summary, and still an alert.
    std::fs::remove_dir_all(env.path("store")).expect("reset store");
    server.route(
        "/v1/chat/completions",
        Route::Status {
            code: 500,
            headers: vec![],
        },
    );
    let summary = alert_summary(&env, &[("KKACHI_TEST_LLM_KEY", "sk-test")]);
    assert!(summary.contains("지카바이러스"), "{summary}");
    assert_ne!(
        summary,
        "지카바이러스가 수컷 쥐의 생식능력을 떨어뜨린다는 연구가 나왔다."
    );
}

#[test]
fn summarize_command_on_text_files_pages_and_urls() {
    let article = "(서울=연합뉴스) 홍길동 기자 = 정부가 인공지능 기본법 시행령을 발표했다. \
                   시행령은 고영향 AI의 범위를 정했다. “규제가 과하다. 다시 봐야 한다”고 업계는 말했다. \
                   홍길동 기자 hong@yna.co.kr";
    let out = kkachi()
        .args(["summarize", "--max-chars", "120", "--text", article])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.trim().chars().count() <= 120, "{s}");
    assert!(
        s.contains("인공지능 기본법") && !s.contains("연합뉴스") && !s.contains("@"),
        "{s}"
    );

    let out = kkachi()
        .args(["summarize", "--explain", "--text", article])
        .output()
        .expect("run");
    let s = text(&out.stdout);
    assert!(
        s.contains("sentences:") && s.contains("removed:") && s.contains("summary:"),
        "{s}"
    );
    assert!(
        s.contains("hong@yna.co.kr"),
        "the removed byline is shown: {s}"
    );

    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/summaries/pages/article-euc-kr.html");
    let out = kkachi()
        .args(["summarize", "--file"])
        .arg(&page)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).trim().is_empty() && !text(&out.stdout).contains('<'),
        "{}",
        text(&out.stdout)
    );

    let server = Server::start();
    server.feed(
        "/a",
        fixture("summaries/pages/article-ko.html"),
        "text/html",
    );
    // Loopback pages are refused unless the config allows them.
    let env = Env::new(&[], &rules(&[("x", "x")]));
    let out = kkachi()
        .args(["summarize", "--url"])
        .arg(server.url("/a"))
        .arg("--config")
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a public address"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(
        env.config(),
        std::fs::read_to_string(env.config()).expect("read") + "[summary]\nallow_private = true\n",
    )
    .expect("write");
    let out = kkachi()
        .args(["summarize", "--url"])
        .arg(server.url("/a"))
        .arg("--config")
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("지카바이러스"),
        "{}",
        text(&out.stdout)
    );
}
