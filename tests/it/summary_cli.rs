//! Summaries end to end: article pages fetched for `full_text` feeds (and refused on private
//! addresses unless allowed), the optional LLM with its fallback, and `kkachi summarize`.

use crate::fake_telegram::FakeTelegram;
use crate::server::{Route, Server};
use crate::support::Daemon;
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

/// The seed story of issue 15 (`tests/data/summaries/seed/`): title and text.
fn seed_story() -> (String, String) {
    let raw = String::from_utf8(fixture("summaries/seed/openai-korea.txt")).expect("utf-8");
    let (title, text) = raw.split_once("\n\n").expect("title, blank line, text");
    (title.to_string(), text.trim().to_string())
}

const SEED_QUERY: &str = "OpenAI AND \"한국 기업\"";
const DEEPSEEK_SENTENCE: &str = "중국 딥시크가 저가 모델로 추격하는 가운데 업계는 한국 기업들과의 제휴가 승부를 가를 것으로 본다.";

/// The seed story as a one-item RSS feed.
fn seed_feed() -> String {
    let (title, text) = seed_story();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>\
         <item><guid>s1</guid><title><![CDATA[{title}]]></title><link>https://news.example.kr/a/1</link>\
         <description><![CDATA[{text}]]></description>\
         <pubDate>Tue, 01 Dec 2026 09:00:00 +0900</pubDate></item></channel></rss>"
    )
}

/// Issue 15: the alert's summary keeps the sentence that says why the story matched.
#[test]
fn an_alert_summary_keeps_the_sentence_with_the_matched_terms() {
    let server = Server::start();
    server.feed("/f.xml", seed_feed(), "application/rss+xml");
    let env = Env::new(
        &[FeedSpec::new("yna", server.url("/f.xml")).backfill(5)],
        &rules(&[("openai-korea", SEED_QUERY)]),
    );
    let summary = alert_summary(&env, &[]);
    assert!(summary.contains(DEEPSEEK_SENTENCE), "{summary}");
    assert!(summary.chars().count() <= 280, "{summary}");
    assert!(
        summary.starts_with("미국 인공지능(AI) 기업 오픈AI가"),
        "{summary}"
    );
}

#[test]
fn summarize_query_keeps_the_matched_sentence_and_explains_it() {
    let (_, story) = seed_story();
    let run = |extra: &[&str]| {
        let out = kkachi()
            .args(["summarize", "--text", &story])
            .args(extra)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let plain = run(&[]);
    assert!(
        !plain.contains("딥시크"),
        "the seed shows the problem: {plain}"
    );
    let aware = run(&["--query", SEED_QUERY]);
    assert!(aware.contains(DEEPSEEK_SENTENCE), "{aware}");
    let explained = run(&["--query", SEED_QUERY, "--explain"]);
    assert!(
        explained.contains(&format!("{DEEPSEEK_SENTENCE}  [1 matched]")),
        "{explained}"
    );
    // A query that does not match the text: the plain summary, and a note.
    let out = kkachi()
        .args(["summarize", "--text", &story, "--query", "삼성전자"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), plain);
    assert!(
        text(&out.stderr).contains("does not match"),
        "{}",
        text(&out.stderr)
    );
    // A query that does not parse: an error naming the column.
    let out = kkachi()
        .args(["summarize", "--text", &story, "--query", "OpenAI AND ("])
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("--query: column") && err.contains('^'),
        "{err}"
    );
}

/// Issue 15 through the fake Bot API: the message carries the sentence, its matched terms bold
/// (the forms in the text: 오픈AI for `OpenAI`; 한국 기업 of 한국 기업들과의), the title unmarked.
#[test]
fn the_telegram_alert_shows_the_matched_terms_in_bold() {
    let fake = FakeTelegram::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let feed = dir.path().join("yna.xml");
    std::fs::write(&feed, seed_feed()).expect("feed");
    let config = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\n\
         jitter = \"0s\"\n[http]\nenabled = false\n\
         [[feeds]]\nname = \"yna\"\nurl = \"{}\"\nbackfill = 10\n",
        feed.display()
    );
    std::fs::write(dir.path().join("kkachi.toml"), config).expect("config");
    std::fs::write(
        dir.path().join("rules.toml"),
        format!("[[rules]]\nname = \"openai-korea\"\nquery = '{SEED_QUERY}'\nchats = [1]\n"),
    )
    .expect("rules");
    let mut d = Daemon::in_dir(dir);
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let sent: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "sendmessage" && r.accepted && r.chat() == Some(1))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:#?}\n{}", d.log());
    let message = sent[0].text();
    assert_eq!(sent[0].parse_mode(), Some("HTML"));
    assert!(
        message.contains(
            "중국 딥시크가 저가 모델로 추격하는 가운데 업계는 <b>한국 기업</b>들과의 제휴가 \
             승부를 가를 것으로 본다."
        ),
        "{message}"
    );
    assert!(
        message.contains("\n미국 인공지능(AI) 기업 <b>오픈AI</b>가 서울에"),
        "{message}"
    );
    assert!(
        message
            .contains(">오픈AI, 서울에 아시아 첫 사무소…&quot;한국 시장 성장 빨라&quot;</a></b>"),
        "{message}"
    );
}
