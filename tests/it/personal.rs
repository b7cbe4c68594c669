//! Personal rules (`/watch`, `/rules`, `/unwatch`, `/search`) through the real binary and the
//! fake Bot API on 127.0.0.1: a chat's own query is previewed, saved with a tap, compiled off
//! the bot's path, matched by the next poll and delivered to that chat only; it survives a
//! restart and a rules.toml reload; limits and group administrators apply. Every wait is for an
//! observable event (a reply, a log line, a poll).

use std::time::Duration;

use crate::fake_telegram::{FakeTelegram, Request};
use crate::server::Server;
use crate::support::{Daemon, two_more_polls};
use crate::telegram_bot::{ask, buttons, check_telegram_html, sent_to, tap};

const RULES: &str = "[[rules]]\nname = \"ai\"\nquery = 'AI'\n";
const WAIT: Duration = Duration::from_secs(20);
const COMPILED: &str = "personal rules compiled";

/// An RSS feed whose items were published an hour ago (inside `/watch`'s 7-day preview).
fn rss(items: &[(&str, &str, &str)]) -> String {
    let date = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc2822();
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n",
    );
    for (guid, title, link) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>{link}</link>\
             <description>회사는 이같이 밝혔다.</description><pubDate>{date}</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

fn daemon(fake: &FakeTelegram, feed_url: &str, max_rules: usize) -> Daemon {
    let toml = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"3s\"\nconnect_timeout = \"2s\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n[telegram]\nmax_rules_per_chat = {max_rules}\n\
         [[feeds]]\nname = \"news\"\nurl = \"{feed_url}\"\ncron = \"* * * * * *\"\n"
    );
    let mut d = Daemon::new(&toml, RULES);
    d.spawn_with_telegram(fake, &[]);
    d
}

/// The alerts `chat` got (not the bot's replies, which may link stories too).
fn alerts_to(fake: &FakeTelegram, chat: i64) -> Vec<Request> {
    sent_to(&fake.delivered(), chat)
        .into_iter()
        .filter(|r| r.text().contains("\n<i>news · "))
        .collect()
}

/// Edits of the bot's messages in `chat`, in order.
fn edits_in(fake: &FakeTelegram, chat: i64) -> Vec<Request> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "editmessagetext" && r.chat() == Some(chat))
        .collect()
}

/// Taps `data` on message `id` in `chat` as `user` and returns the edit it caused.
async fn tap_edit(fake: &FakeTelegram, chat: i64, user: i64, id: i64, data: &str) -> Request {
    let before = edits_in(fake, chat).len();
    fake.inject_update(tap(chat, user, id, data));
    assert!(
        fake.wait_for(WAIT, |_| edits_in(fake, chat).len() > before)
            .await,
        "no edit after tapping {data}"
    );
    let edit = edits_in(fake, chat).remove(before);
    assert_eq!(check_telegram_html(edit.text()), Ok(()), "{}", edit.text());
    edit
}

/// The id the fake gave the bot's message `r` (it numbers accepted messages from 1, in order).
fn message_id(fake: &FakeTelegram, r: &Request) -> i64 {
    let n = fake
        .delivered()
        .iter()
        .position(|d| d.at == r.at && d.body == r.body)
        .expect("an accepted message");
    n as i64 + 1
}

/// `/watch QUERY` as `user` in `chat`: the answer (sent at once, with its buttons) and the
/// preview of the last 7 days edited into it.
async fn preview(fake: &FakeTelegram, chat: i64, user: i64, query: &str) -> (Request, Request) {
    let edits = edits_in(fake, chat).len();
    let first = ask(fake, chat, user, &format!("/watch {query}")).await;
    assert!(
        first.text().contains("Looking through the last 7 days"),
        "{}",
        first.text()
    );
    assert!(
        fake.wait_for(WAIT, |_| edits_in(fake, chat).len() > edits)
            .await,
        "no preview edited in"
    );
    let edit = edits_in(fake, chat).remove(edits);
    assert_eq!(check_telegram_html(edit.text()), Ok(()), "{}", edit.text());
    assert_eq!(
        buttons(&edit),
        buttons(&first),
        "the preview keeps ✅ and ✖"
    );
    (first, edit)
}

/// `/watch QUERY` then ✅: the rule is saved and compiled (the log says so `compiled` times).
async fn watch(fake: &FakeTelegram, daemon: &Daemon, chat: i64, query: &str, compiled: usize) {
    let (first, _) = preview(fake, chat, chat, query).await;
    let save = buttons(&first)
        .into_iter()
        .find(|b| b.starts_with("w:s:"))
        .unwrap_or_else(|| panic!("no ✅ button: {}", first.text()));
    let edit = tap_edit(fake, chat, chat, message_id(fake, &first), &save).await;
    assert!(edit.text().starts_with("✅ Watching"), "{}", edit.text());
    daemon.wait_log(COMPILED, compiled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_query_is_previewed_saved_and_alerts_only_its_chat_across_restart_and_reload() {
    let server = Server::start();
    let old = (
        "g0",
        "딥시크, 새 추론 모델 공개",
        "https://news.example.kr/0",
    );
    server.feed("/f.xml", rss(&[old]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let mut daemon = daemon(&fake, &server.url("/f.xml"), 20);
    daemon.wait_log(COMPILED, 1);
    // The first poll keeps the story (marked seen, not alerted): the preview finds it.
    two_more_polls(&server, "/f.xml");

    // An invalid query gets `rules test`'s error, with its caret, in a code block.
    let bad = ask(&fake, 42, 42, "/watch DeepSeek AND").await;
    assert!(
        bad.text().contains("<pre>error: column 13:"),
        "{}",
        bad.text()
    );
    assert!(bad.text().contains("DeepSeek AND\n"), "{}", bad.text());
    assert!(buttons(&bad).is_empty());

    // A valid one: the last 7 days (the dictionary finds 딥시크 for DeepSeek), then ✅.
    let (first, shown) = preview(&fake, 42, 42, "DeepSeek").await;
    assert!(
        shown
            .text()
            .contains("1 story of the last 7 days would have matched"),
        "{}",
        shown.text()
    );
    assert!(
        shown.text().contains("딥시크, 새 추론 모델 공개"),
        "{}",
        shown.text()
    );
    let save = buttons(&first)
        .into_iter()
        .find(|b| b.starts_with("w:s:"))
        .expect("✅");
    let edit = tap_edit(&fake, 42, 42, message_id(&fake, &first), &save).await;
    assert!(
        edit.text().starts_with("✅ Watching <b>deepseek</b>"),
        "{}",
        edit.text()
    );
    daemon.wait_log(COMPILED, 2);
    // Another chat watches something else; a third follows the file's topic only.
    watch(&fake, &daemon, 43, "chips: 반도체", 3).await;
    ask(&fake, 44, 44, "/subscribe ai").await;

    let s1 = (
        "g1",
        "DeepSeek releases a new model",
        "https://news.example.kr/1",
    );
    server.feed("/f.xml", rss(&[s1, old]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| !alerts_to(&fake, 42).is_empty())
            .await,
        "no alert for the personal rule"
    );
    two_more_polls(&server, "/f.xml");
    daemon.wait_outbox_empty();
    let alerts = alerts_to(&fake, 42);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    // People see their own name for the rule, not its internal one.
    assert!(
        alerts[0].text().contains("🔎 <b>deepseek</b>"),
        "{}",
        alerts[0].text()
    );
    assert!(!alerts[0].text().contains("@42/"), "{}", alerts[0].text());
    assert!(alerts_to(&fake, 43).is_empty() && alerts_to(&fake, 44).is_empty());

    // A restart keeps the rule: the next story still reaches chat 42.
    daemon.terminate();
    daemon.spawn_with_telegram(&fake, &[]);
    daemon.wait_log(COMPILED, 1);
    assert!(
        daemon.log().contains("rules=2"),
        "both rules compiled after the restart:\n{}",
        daemon.log()
    );
    let s2 = ("g2", "딥시크 투자 유치", "https://news.example.kr/2");
    server.feed("/f.xml", rss(&[s2, s1, old]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| alerts_to(&fake, 42).len() == 2)
            .await,
        "no alert after the restart"
    );

    // A rules.toml reload never touches personal rules: rebuilt with the new file, still there.
    daemon.replace_file(
        "rules.toml",
        "[[rules]]\nname = \"ai\"\nquery = 'AI OR 인공지능'\n",
    );
    daemon.wait_log("configuration reloaded", 1);
    daemon.wait_log(COMPILED, 2);
    let s3 = ("g3", "DeepSeek 창업자 인터뷰", "https://news.example.kr/3");
    server.feed("/f.xml", rss(&[s3, s2, s1, old]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| alerts_to(&fake, 42).len() == 3)
            .await,
        "no alert after the reload"
    );
    let chips = alerts_to(&fake, 43);
    assert!(chips.is_empty(), "{chips:?}");
    daemon.terminate();
    let store = daemon.store();
    assert_eq!(store.personal_rules(42).expect("rules").len(), 1);
    assert_eq!(store.personal_rules(43).expect("rules")[0].name, "chips");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_buttons_pause_test_and_delete_search_pages_and_limits_apply() {
    let server = Server::start();
    let items: Vec<(String, String, String)> = (0..7)
        .map(|i| {
            (
                format!("g{i}"),
                format!("반도체 수출 {i}개월 연속 증가"),
                format!("https://news.example.kr/{i}"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    server.feed("/f.xml", rss(&refs), "application/rss+xml");
    let fake = FakeTelegram::start();
    let mut daemon = daemon(&fake, &server.url("/f.xml"), 2);
    daemon.wait_log(COMPILED, 1);
    two_more_polls(&server, "/f.xml");

    // /search: 7 stored matches, 5 a page, a button to the older ones.
    let found = ask(&fake, 42, 42, "/search 반도체 3d").await;
    assert!(
        found
            .text()
            .contains("last 3 days: 7 stories (newest first, 1–5)"),
        "{}",
        found.text()
    );
    let older = buttons(&found);
    assert_eq!(older.len(), 1, "{older:?}");
    let page2 = tap_edit(&fake, 42, 42, message_id(&fake, &found), &older[0]).await;
    assert!(
        page2.text().contains("(newest first, 6–7)"),
        "{}",
        page2.text()
    );
    assert!(buttons(&page2)[0].starts_with("w:n:"), "a ◀ button");
    let none = ask(&fake, 42, 42, "/rules").await;
    assert!(
        none.text().contains("no personal rules yet"),
        "search saves nothing: {}",
        none.text()
    );

    watch(&fake, &daemon, 42, "chips: 반도체", 2).await;
    watch(&fake, &daemon, 42, "DeepSeek", 3).await;
    // The limit (2 here): a third is refused before any preview.
    let third = ask(&fake, 42, 42, "/watch 삼성").await;
    assert!(
        third.text().contains("the most this kkachi allows"),
        "{}",
        third.text()
    );
    // A name already taken is refused too.
    let taken = ask(&fake, 42, 42, "/unwatch nothing").await;
    assert!(
        taken
            .text()
            .contains("its rules: <b>chips</b>, <b>deepseek</b>"),
        "{}",
        taken.text()
    );

    let list = ask(&fake, 42, 42, "/rules").await;
    assert!(list.text().contains("(2 of 2)"), "{}", list.text());
    let b = buttons(&list);
    assert_eq!(b.len(), 6, "{b:?}");
    let id = message_id(&fake, &list);
    // ⏸ chips: paused in the store and the list, recompiled without it.
    let paused = tap_edit(&fake, 42, 42, id, &b[0]).await;
    assert!(
        paused.text().contains("<b>chips</b> (paused)"),
        "{}",
        paused.text()
    );
    daemon.wait_log(COMPILED, 4);
    assert!(
        daemon.log().contains("rules=1 paused=1"),
        "{}",
        daemon.log()
    );
    // 🔎 deepseek: a new message with its last 7 days.
    let before = sent_to(&fake.requests(), 42).len();
    fake.inject_update(tap(42, 42, id, &b[5]));
    assert!(
        fake.wait_for(WAIT, |r| sent_to(r, 42).len() > before).await,
        "no test result"
    );
    let test = sent_to(&fake.requests(), 42).remove(before);
    assert!(
        test.text().contains("No story of the last 7 days"),
        "{}",
        test.text()
    );

    // A paused rule sends nothing: a new matching story, two polls, an empty outbox.
    let s = ("n1", "반도체 장비 수주", "https://news.example.kr/n1");
    let mut with_new = refs.clone();
    with_new.insert(0, s);
    server.feed("/f.xml", rss(&with_new), "application/rss+xml");
    two_more_polls(&server, "/f.xml");
    daemon.wait_outbox_empty();
    assert!(alerts_to(&fake, 42).is_empty(), "a paused rule alerted");

    // 🗑 deepseek: gone from the store and the list.
    let deleted = tap_edit(&fake, 42, 42, id, &b[4]).await;
    assert!(deleted.text().contains("(1 of 2)"), "{}", deleted.text());
    assert!(!deleted.text().contains("deepseek"), "{}", deleted.text());
    let gone = ask(&fake, 42, 42, "/unwatch chips").await;
    assert_eq!(gone.text(), "Stopped watching <b>chips</b>.");
    daemon.terminate();
    assert!(daemon.store().personal_rules(42).expect("rules").is_empty());
}

/// `/settings` lists a chat's personal rules beside its topics, and a mode chosen there is the
/// one routing uses: a rule set to "off" gets nothing while the file topic's subscriber gets
/// the same story.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_choose_a_personal_rules_delivery() {
    let server = Server::start();
    server.feed("/f.xml", rss(&[]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let mut daemon = daemon(&fake, &server.url("/f.xml"), 20);
    daemon.wait_log(COMPILED, 1);
    watch(&fake, &daemon, 42, "chips: 반도체", 2).await;
    ask(&fake, 44, 44, "/subscribe ai").await;

    let settings = ask(&fake, 42, 42, "/settings").await;
    assert!(
        settings.text().contains("<b>Your rules</b>")
            && settings.text().contains("• <b>chips</b> — instant"),
        "{}",
        settings.text()
    );
    let open = buttons(&settings)
        .into_iter()
        .find(|b| b.starts_with("c:r:p"))
        .unwrap_or_else(|| panic!("no button for the personal rule: {}", settings.text()));
    let id = message_id(&fake, &settings);
    let rule = tap_edit(&fake, 42, 42, id, &open).await;
    assert!(
        rule.text().contains("Settings · chips</b>"),
        "{}",
        rule.text()
    );
    let off = format!("c:d:{}:o", &open["c:r:".len()..]);
    assert!(buttons(&rule).contains(&off), "{:?}", buttons(&rule));
    let after = tap_edit(&fake, 42, 42, id, &off).await;
    assert!(buttons(&after).contains(&off), "{:?}", buttons(&after));
    let again = ask(&fake, 42, 42, "/settings").await;
    assert!(
        again.text().contains("• <b>chips</b> — off"),
        "{}",
        again.text()
    );

    // One story for both: chat 44's topic alerts, chat 42's rule (off) does not.
    let story = ("g1", "AI 반도체 수출 급증", "https://news.example.kr/1");
    server.feed("/f.xml", rss(&[story]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |_| !alerts_to(&fake, 44).is_empty())
            .await,
        "no alert for the file topic"
    );
    two_more_polls(&server, "/f.xml");
    daemon.wait_outbox_empty();
    assert!(
        alerts_to(&fake, 42).is_empty(),
        "{:?}",
        alerts_to(&fake, 42)
    );
    daemon.terminate();
    let sub = daemon
        .store()
        .subscription(kkachi::deliver::Dest::chat(42))
        .expect("store")
        .expect("a subscription");
    assert_eq!(
        sub.delivery
            .get("@42/chips")
            .map(ToString::to_string)
            .as_deref(),
        Some("off")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_administrators_add_rules() {
    const GROUP: i64 = -100_555;
    let server = Server::start();
    server.feed("/f.xml", rss(&[]), "application/rss+xml");
    let fake = FakeTelegram::start();
    fake.set_admins(GROUP, &[1]);
    let mut daemon = daemon(&fake, &server.url("/f.xml"), 20);
    daemon.wait_log(COMPILED, 1);
    let refused = ask(&fake, GROUP, 2, "/watch DeepSeek").await;
    assert!(
        refused.text().contains("Only this group's administrators"),
        "{}",
        refused.text()
    );
    assert!(buttons(&refused).is_empty());
    // A member cannot save an administrator's preview either.
    let (preview, _) = preview(&fake, GROUP, 1, "DeepSeek").await;
    let save = buttons(&preview)
        .into_iter()
        .find(|b| b.starts_with("w:s:"))
        .expect("✅");
    fake.inject_update(tap(GROUP, 2, message_id(&fake, &preview), &save));
    assert!(
        fake.wait_for(WAIT, |r| r.iter().any(|r| r.method
            == "answercallbackquery"
            && r.body["text"]
                .as_str()
                .is_some_and(|t| t.contains("administrators"))))
            .await,
        "the member's tap was not refused"
    );
    // The administrator can.
    let edit = tap_edit(&fake, GROUP, 1, message_id(&fake, &preview), &save).await;
    assert!(edit.text().starts_with("✅ Watching"), "{}", edit.text());
    daemon.terminate();
    assert_eq!(
        daemon.store().personal_rules(GROUP).expect("rules").len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_lists_and_removes_personal_rules_from_the_cli_beside_the_daemon_and_without_it()
 {
    let server = Server::start();
    server.feed("/f.xml", rss(&[]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let port = crate::support::free_port();
    let toml = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [http]\nlisten = \"127.0.0.1:{port}\"\n\
         [[feeds]]\nname = \"news\"\nurl = \"{}\"\ncron = \"* * * * * *\"\n",
        server.url("/f.xml")
    );
    let mut daemon = Daemon::new(&toml, RULES);
    daemon.spawn_with_telegram(&fake, &[]);
    daemon.wait_log(COMPILED, 1);
    watch(&fake, &daemon, 42, "DeepSeek", 2).await;
    watch(&fake, &daemon, 7, "chips: 반도체 AND 수출", 3).await;
    let config = daemon.config();
    let cli = |args: &[&str]| {
        crate::kkachi()
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .expect("kkachi")
    };
    // Beside the running daemon (it holds the store): asked through the control API.
    let out = cli(&["rules", "list", "--personal"]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    assert_eq!(
        crate::support::stdout(&out),
        "7\tchips\t반도체 AND 수출\n42\tdeepseek\tDeepSeek\n"
    );
    let out = cli(&["rules", "remove", "--chat", "7", "chips"]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    assert_eq!(crate::support::stdout(&out), "removed chips of chat 7\n");
    // The daemon rebuilt its set without it.
    daemon.wait_log(COMPILED, 4);
    let out = cli(&["rules", "remove", "--chat", "7", "chips"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        crate::support::stderr(&out)
    );
    daemon.terminate();

    // Without the daemon: the store directly.
    let out = cli(&["rules", "list", "--personal", "--format", "json"]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let list: serde_json::Value =
        serde_json::from_str(&crate::support::stdout(&out)).expect("json");
    assert_eq!(list[0]["chat"], 42);
    assert_eq!(list[0]["name"], "deepseek");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let out = cli(&["rules", "remove", "--chat", "42", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        crate::support::stderr(&out)
            .contains("chat 42 has no personal rule named \"nope\"; its rules: deepseek"),
        "{}",
        crate::support::stderr(&out)
    );
    let out = cli(&["rules", "remove", "--chat", "42", "deepseek"]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let out = cli(&["rules", "list"]);
    assert_eq!(crate::support::stdout(&out), "ai\tAI\n");
}
