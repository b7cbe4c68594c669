//! The bot people talk to, against the fake Telegram on 127.0.0.1: commands injected through
//! `getUpdates`, replies read back from what reached the fake. The end-to-end tests run the
//! real `kkachi run` binary with `TELOXIDE_TOKEN` and `TELOXIDE_API_URL`; the others run the
//! bot task in-process. Every wait is bounded.

use std::sync::Arc;
use std::time::Duration;

use kkachi::config::Access;
use kkachi::digest::schedule::Delivery;
use kkachi::store::Store;
use kkachi::store::outbox::Subscription;
use kkachi::telegram::bot::{self, BotTask, Ctx, Settings};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::fake_telegram::{FakeTelegram, Request, TOKEN};
use crate::server::Server;
use crate::support::{Daemon, two_more_polls};

const RULES: &str = "[[rules]]\nname = \"ai\"\nquery = 'AI'\ndescription = \"AI & <machine> learning\"\n\n\
                     [[rules]]\nname = \"chips\"\nquery = '반도체'\ndescription = \"semiconductors\"\n";

const WAIT: Duration = Duration::from_secs(10);

// ---- Telegram's HTML rules ------------------------------------------------------------------

/// Checks `text` against Telegram's HTML parse mode: only the allowed tags (with only their
/// allowed attributes), every tag closed in order, `&` only as a known entity, no bare `<` or
/// `>`, attribute values without raw quotes, and at most 4096 UTF-16 units of visible text.
pub(crate) fn check_telegram_html(text: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut visible = 0usize;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("unclosed '<'")?;
                let tag = &rest[1..end];
                if tag.contains('<') {
                    return Err(format!("'<' inside a tag: {tag:?}"));
                }
                if let Some(name) = tag.strip_prefix('/') {
                    match stack.pop() {
                        Some(open) if open == name => {}
                        other => return Err(format!("</{name}> closes {other:?}")),
                    }
                } else {
                    let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
                    check_attrs(name, attrs.trim())?;
                    stack.push(name.to_string());
                }
                rest = &rest[end + 1..];
            }
            '>' => return Err("bare '>' in text".into()),
            '&' => {
                let end = rest.find(';').ok_or("'&' without ';'")?;
                let entity = &rest[..=end];
                let numeric = entity
                    .strip_prefix("&#")
                    .and_then(|n| n.strip_suffix(';'))
                    .is_some_and(|n| {
                        n.strip_prefix('x').map_or_else(
                            || !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
                            |h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()),
                        )
                    });
                if !numeric && !["&lt;", "&gt;", "&amp;", "&quot;"].contains(&entity) {
                    return Err(format!("unknown entity {entity:?}"));
                }
                visible += 1;
                rest = &rest[end + 1..];
            }
            c => {
                visible += c.len_utf16();
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed tags {stack:?}"));
    }
    if visible > 4096 {
        return Err(format!("{visible} UTF-16 units of text"));
    }
    Ok(())
}

fn check_attrs(name: &str, attrs: &str) -> Result<(), String> {
    let quoted = |prefix: &str| -> Result<(), String> {
        let value = attrs
            .strip_prefix(prefix)
            .and_then(|v| v.strip_prefix('"'))
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| format!("<{name}> attributes {attrs:?}"))?;
        if value.contains('"') || value.contains('<') {
            return Err(format!("raw quote or '<' in {value:?}"));
        }
        Ok(())
    };
    match name {
        "b" | "strong" | "i" | "em" | "u" | "ins" | "s" | "strike" | "del" | "tg-spoiler"
        | "pre"
            if attrs.is_empty() =>
        {
            Ok(())
        }
        "a" => quoted("href="),
        "code" if attrs.is_empty() => Ok(()),
        "code" => quoted("class="),
        "span" if attrs == "class=\"tg-spoiler\"" => Ok(()),
        "blockquote" if attrs.is_empty() || attrs == "expandable" => Ok(()),
        _ => Err(format!("tag <{name}> with {attrs:?} is not allowed")),
    }
}

#[test]
fn the_html_checker_knows_telegrams_rules() {
    let good = "<b><a href=\"https://e.com/?a=1&amp;b=&quot;2&quot;\">A &lt;b&gt; &amp; 한국 😀</a></b>\n\
                <i>x</i> <code>y</code> <span class=\"tg-spoiler\">z</span> &#39;";
    assert_eq!(check_telegram_html(good), Ok(()));
    for bad in [
        "<p>x</p>",
        "<b>x",
        "<b><i>x</b></i>",
        "a & b",
        "a > b",
        "<br>",
        "<a href=\"x\"y\">z</a>",
        "<b class=\"x\">y</b>",
        "&nbsp;",
    ] {
        assert!(check_telegram_html(bad).is_err(), "{bad:?} passed");
    }
}

// ---- updates --------------------------------------------------------------------------------

fn chat_json(chat: i64) -> Value {
    if chat < 0 {
        json!({"id": chat, "type": "supergroup", "title": "News room"})
    } else {
        json!({"id": chat, "type": "private", "first_name": "Reader"})
    }
}

fn user_json(user: i64) -> Value {
    json!({"id": user, "is_bot": false, "first_name": "Reader"})
}

/// A text message from `user` in `chat`, with the `bot_command` entity Telegram adds.
pub(crate) fn message(chat: i64, user: i64, text: &str) -> Value {
    let mut m = json!({"message_id": 1, "date": 1_700_000_000, "chat": chat_json(chat),
        "from": user_json(user), "text": text});
    if text.starts_with('/') {
        let len: usize = text
            .split(char::is_whitespace)
            .next()
            .unwrap_or("")
            .encode_utf16()
            .count();
        m["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    json!({ "message": m })
}

/// A tap on a button of the bot's message `message_id` in `chat`.
pub(crate) fn tap(chat: i64, user: i64, message_id: i64, data: &str) -> Value {
    json!({"callback_query": {"id": format!("cb-{user}-{data}"), "from": user_json(user),
        "chat_instance": "ci", "data": data,
        "message": {"message_id": message_id, "date": 1_700_000_000, "chat": chat_json(chat),
            "from": {"id": crate::fake_telegram::BOT_ID, "is_bot": true, "first_name": "News",
                     "username": "kkachi_test_bot"},
            "text": "Topics"}}})
}

pub(crate) fn sent_to(reqs: &[Request], chat: i64) -> Vec<Request> {
    reqs.iter()
        .filter(|r| r.method == "sendmessage" && r.chat() == Some(chat))
        .cloned()
        .collect()
}

fn count(fake: &FakeTelegram, method: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == method)
        .count()
}

/// Sends `text` as `user` in `chat` and returns the bot's reply (the next message to `chat`).
pub(crate) async fn ask(fake: &FakeTelegram, chat: i64, user: i64, text: &str) -> Request {
    ask_with(fake, chat, message(chat, user, text), text).await
}

/// [`ask`] with the update given (`text` is its text, for the messages).
async fn ask_with(fake: &FakeTelegram, chat: i64, update: Value, text: &str) -> Request {
    let before = sent_to(&fake.requests(), chat).len();
    fake.inject_update(update);
    assert!(
        fake.wait_for(WAIT, |r| sent_to(r, chat).len() > before)
            .await,
        "no reply to {text:?} in chat {chat}"
    );
    let reply = sent_to(&fake.requests(), chat).remove(before);
    assert_eq!(reply.parse_mode(), Some("HTML"), "{text:?}");
    assert_eq!(
        check_telegram_html(reply.text()),
        Ok(()),
        "{}",
        reply.text()
    );
    reply
}

/// The callback data of every button of a message or edit, in order.
/// How `/settings` buttons name a rules-file topic: `t` and the first 5 bytes of the SHA-256 of
/// its name in hex (stable across reloads that reorder the rules).
fn topic_code(name: &str) -> String {
    use sha2::Digest;
    format!(
        "t{}",
        hex::encode(&sha2::Sha256::digest(name.as_bytes())[..5])
    )
}

pub(crate) fn buttons(r: &Request) -> Vec<String> {
    r.body["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}

// ---- the bot in-process -----------------------------------------------------------------------

struct Harness {
    fake: FakeTelegram,
    store: Arc<Store>,
    task: Option<BotTask>,
    _dir: TempDir,
}

impl Harness {
    fn start(access: Access, allow: &[i64], admins: &[i64]) -> Harness {
        Harness::start_with(access, allow, admins, Delivery::Instant)
    }

    /// [`Harness::start`] with a `[delivery] default`.
    fn start_with(access: Access, allow: &[i64], admins: &[i64], delivery: Delivery) -> Harness {
        let fake = FakeTelegram::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(&dir.path().join("store")).expect("store"));
        let rules = match kkachi::rules::load(RULES, std::path::Path::new("rules.toml")) {
            Ok(l) => Arc::new(l.rules),
            Err(d) => panic!("rules: {d:?}"),
        };
        let (ctx, _live) = Ctx::new(
            store.clone(),
            rules,
            Settings {
                access,
                allow: allow.to_vec(),
                admins: admins.to_vec(),
                timezone: chrono_tz::Asia::Seoul,
                delivery,
                feeds: vec!["yna".into()],
                poll_timeout: Duration::from_secs(2),
                max_rules_per_chat: 3,
                max_query_chars: 300,
                language: kkachi::i18n::Lang::En,
            },
        );
        let task = bot::spawn(fake.bot(Duration::from_secs(10)), ctx);
        Harness {
            fake,
            store,
            task: Some(task),
            _dir: dir,
        }
    }

    fn rules_of(&self, chat: i64) -> Vec<String> {
        self.store
            .subscription(chat)
            .expect("store")
            .map(|s| s.rules.into_iter().collect())
            .unwrap_or_default()
    }

    async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            let t = std::time::Instant::now();
            task.stop(Duration::from_secs(5)).await;
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "stop took {:?}",
                t.elapsed()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_and_unknown_ones_get_help() {
    let h = Harness::start(Access::Open, &[], &[]);
    let fake = &h.fake;
    let reply = ask(fake, 42, 42, "/frobnicate").await;
    assert!(
        reply
            .text()
            .contains("I don't know the command <code>/frobnicate</code>"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("/subscribe"), "{}", reply.text());
    let reply = ask(fake, 42, 42, "/subscrbe ai").await;
    assert!(
        reply.text().contains("Did you mean /subscribe?"),
        "{}",
        reply.text()
    );
    let reply = ask(fake, 42, 42, "hello there").await;
    assert!(reply.text().contains("/topics"), "{}", reply.text());
    let reply = ask(fake, 42, 42, "/help").await;
    for c in [
        "/start",
        "/topics",
        "/subscribe",
        "/unsubscribe",
        "/list",
        "/pause",
        "/resume",
        "/status",
    ] {
        assert!(
            reply.text().contains(c),
            "{c} missing from {}",
            reply.text()
        );
    }
    // Wrong case still works; a wrong argument is explained, naming the valid topics.
    let reply = ask(fake, 42, 42, "/Subscribe AI").await;
    assert_eq!(reply.text(), "Subscribed to <b>ai</b>.");
    let reply = ask(fake, 42, 42, "/subscribe robots").await;
    assert!(
        reply.text().contains("no topic named <code>robots</code>")
            && reply.text().contains("<code>ai</code>, <code>chips</code>"),
        "{}",
        reply.text()
    );
    let reply = ask(fake, 42, 42, "/subscribe").await;
    assert!(
        reply.text().starts_with("Which topics?"),
        "{}",
        reply.text()
    );

    // setMyCommands came first, with every command and without slashes.
    let reqs = fake.requests();
    let first = reqs
        .iter()
        .position(|r| r.method == "setmycommands")
        .expect("setMyCommands");
    assert!(reqs[..first].iter().all(|r| r.method != "getupdates"));
    let names: Vec<&str> = reqs[first].body["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .filter_map(|c| c["command"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "start",
            "help",
            "topics",
            "subscribe",
            "unsubscribe",
            "list",
            "pause",
            "resume",
            "status",
            "settings",
            "watch",
            "rules",
            "unwatch",
            "search",
        ]
    );
    assert_eq!(h.rules_of(42), ["ai"]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topics_button_toggles_the_subscription_and_edits_the_message() {
    let h = Harness::start(Access::Open, &[], &[]);
    let fake = &h.fake;
    let reply = ask(fake, 42, 42, "/topics").await;
    assert!(
        reply
            .text()
            .contains("▫️ <b>ai</b> — AI &amp; &lt;machine&gt; learning"),
        "{}",
        reply.text()
    );
    assert_eq!(buttons(&reply), ["s:ai", "s:chips"]);
    // The fake numbers accepted messages from 1, in order.
    let id = fake.delivered().len() as i64;

    fake.inject_update(tap(42, 42, id, "s:chips"));
    assert!(
        fake.wait_for(WAIT, |r| r.iter().any(|r| r.method == "editmessagetext"))
            .await
    );
    assert_eq!(h.rules_of(42), ["chips"]);
    let reqs = fake.requests();
    let answer = reqs
        .iter()
        .find(|r| r.method == "answercallbackquery")
        .expect("answered");
    assert_eq!(answer.body["text"], "Subscribed to chips");
    let edit = reqs
        .iter()
        .find(|r| r.method == "editmessagetext")
        .expect("edited");
    assert_eq!(edit.body["message_id"], id);
    assert_eq!(edit.chat(), Some(42));
    assert!(edit.text().contains("✅ <b>chips</b>"), "{}", edit.text());
    assert_eq!(check_telegram_html(edit.text()), Ok(()));
    assert_eq!(buttons(edit), ["s:ai", "u:chips"]);

    // Tapping again unsubscribes; a double tap does not undo itself.
    fake.inject_update(tap(42, 42, id, "u:chips"));
    fake.inject_update(tap(42, 42, id, "u:chips"));
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .filter(|r| r.method == "answercallbackquery")
            .count()
            == 3)
            .await
    );
    assert!(h.rules_of(42).is_empty());
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .filter(|r| r.method == "editmessagetext")
            .count()
            >= 2)
            .await
    );
    let last_edit = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "editmessagetext")
        .expect("edit");
    assert_eq!(buttons(&last_edit), ["s:ai", "s:chips"]);
    // A stale or foreign button is answered, not ignored.
    fake.inject_update(tap(42, 42, id, "bogus"));
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .filter(|r| r.method == "answercallbackquery")
            .count()
            == 4)
            .await
    );
    h.stop().await;
}

/// Regression (issue 13): subscribing right after a story broke showed nothing of it (the
/// story was marked seen while nobody subscribed). Now the last day's matches are listed,
/// newest first, at most three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_lists_the_rules_recent_matches() {
    let h = Harness::start(Access::Open, &[], &[]);
    let fake = &h.fake;
    let now = chrono::Utc::now();
    let story = |i: i64, title: &str, hours_ago: i64| kkachi::story::Story {
        id: i.to_string(),
        feed: "yna".into(),
        title: title.into(),
        url: format!("https://e.kr/{i}"),
        published: Some((now - chrono::Duration::hours(hours_ago)).fixed_offset()),
        summary: String::new(),
        authors: vec![],
        categories: vec![],
        content: None,
    };
    let stories = vec![
        story(1, "AI 반도체 수출 늘어", 1),
        story(2, "AI 스타트업 투자 유치", 3),
        story(3, "AI 규제 법안 통과", 5),
        story(4, "AI 인재 확보 경쟁", 7),
        story(5, "날씨: 전국 맑음", 2),
        story(6, "AI 옛 기사", 30),
    ];
    h.store.admit(&stories, now).expect("admit");
    let reply = ask(fake, 42, 42, "/subscribe ai").await;
    let text = reply.text();
    assert!(text.starts_with("Subscribed to <b>ai</b>."), "{text}");
    assert!(
        text.contains("<b>Recent matches</b> (last 24 h, newest 3 of 4):"),
        "{text}"
    );
    let order: Vec<usize> = ["수출", "투자", "규제"]
        .iter()
        .map(|w| {
            text.find(w)
                .unwrap_or_else(|| panic!("{w} missing: {text}"))
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "newest first: {text}"
    );
    assert!(
        !text.contains("인재") && !text.contains("옛 기사") && !text.contains("날씨"),
        "{text}"
    );
    assert_eq!(check_telegram_html(text), Ok(()));
    // A topic with nothing recent adds nothing.
    let reply = ask(fake, 42, 42, "/subscribe chips").await;
    assert!(
        reply.text().contains("Recent matches"),
        "반도체 matched story 1: {}",
        reply.text()
    );
    let reply = ask(fake, 7, 7, "/subscribe ai").await;
    assert!(reply.text().contains("Recent matches"), "{}", reply.text());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_all_list_and_a_rule_gone_from_rules_toml() {
    let h = Harness::start(Access::Open, &[], &[]);
    let fake = &h.fake;
    h.store
        .set_subscription(
            42,
            &Subscription {
                rules: ["ai".to_string(), "old-rule".to_string()].into(),
                ..Default::default()
            },
        )
        .expect("seed");
    let reply = ask(fake, 42, 42, "/list").await;
    assert!(
        reply
            .text()
            .contains("• <b>ai</b> — AI &amp; &lt;machine&gt; learning"),
        "{}",
        reply.text()
    );
    assert!(
        reply.text().contains("• <b>old-rule</b> — <i>gone from rules.toml: kept, and alerts resume if it comes back</i>"),
        "{}",
        reply.text()
    );
    assert_eq!(
        h.rules_of(42),
        ["ai", "old-rule"],
        "/list keeps the gone rule's record"
    );
    let reply = ask(fake, 42, 42, "/unsubscribe").await;
    assert!(
        reply.text().contains("/unsubscribe all"),
        "{}",
        reply.text()
    );
    let reply = ask(fake, 42, 42, "/unsubscribe all").await;
    assert_eq!(
        reply.text(),
        "Unsubscribed from all 2 topics. /topics to pick again."
    );
    assert!(h.rules_of(42).is_empty());
    let reply = ask(fake, 42, 42, "/list").await;
    assert!(
        reply.text().starts_with("This chat has no subscriptions."),
        "{}",
        reply.text()
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowlist_refuses_other_chats_politely() {
    let h = Harness::start(Access::Allowlist, &[7], &[]);
    let fake = &h.fake;
    let reply = ask(fake, 8, 8, "/subscribe ai").await;
    assert!(
        reply
            .text()
            .contains("only sends alerts to chats its operator has allowed")
            && reply.text().contains("<code>8</code>"),
        "{}",
        reply.text()
    );
    assert!(h.store.subscription(8).expect("store").is_none());
    let reply = ask(fake, 8, 8, "/topics").await;
    assert!(
        reply.text().contains("operator has allowed"),
        "{}",
        reply.text()
    );
    assert!(buttons(&reply).is_empty());
    let reply = ask(fake, 8, 8, "/start").await;
    assert!(
        reply.text().contains("watches 1 news feed for 2 topics"),
        "{}",
        reply.text()
    );
    assert!(
        reply.text().contains("operator has allowed"),
        "{}",
        reply.text()
    );
    let reply = ask(fake, 7, 7, "/subscribe ai").await;
    assert_eq!(reply.text(), "Subscribed to <b>ai</b>.");
    assert_eq!(h.rules_of(7), ["ai"]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_administrators_and_kkachi_admins_change_subscriptions() {
    const GROUP: i64 = -100_500;
    let h = Harness::start(Access::Open, &[], &[99]);
    let fake = &h.fake;
    fake.set_admins(GROUP, &[1]);
    let reply = ask(fake, GROUP, 2, "/subscribe@kkachi_test_bot ai").await;
    assert_eq!(
        reply.text(),
        "Only this group's administrators can change its subscriptions."
    );
    assert!(h.store.subscription(GROUP).expect("store").is_none());
    // A member may still read.
    let reply = ask(fake, GROUP, 2, "/topics@kkachi_test_bot").await;
    assert_eq!(buttons(&reply), ["s:ai", "s:chips"]);
    let topics_id = fake.delivered().len() as i64;
    fake.inject_update(tap(GROUP, 2, topics_id, "s:ai"));
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.method == "answercallbackquery"))
            .await
    );
    let answer = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "answercallbackquery")
        .expect("answer");
    assert_eq!(answer.body["show_alert"], true);
    assert!(h.store.subscription(GROUP).expect("store").is_none());

    let reply = ask(fake, GROUP, 1, "/subscribe@kkachi_test_bot ai").await;
    assert_eq!(reply.text(), "Subscribed to <b>ai</b>.");
    let reply = ask(fake, GROUP, 99, "/subscribe chips").await;
    assert_eq!(reply.text(), "Subscribed to <b>chips</b>.");
    assert_eq!(h.rules_of(GROUP), ["ai", "chips"]);
    // A command for another bot is not ours to answer.
    let before = sent_to(&fake.requests(), GROUP).len();
    fake.inject_update(message(GROUP, 1, "/help@other_bot"));
    let reply = ask(fake, GROUP, 1, "/list@kkachi_test_bot").await;
    assert_eq!(sent_to(&fake.requests(), GROUP).len(), before + 1);
    assert!(reply.text().contains("<b>ai</b>"), "{}", reply.text());
    assert!(count(fake, "getchatadministrators") >= 3);
    h.stop().await;
}

// ---- /settings -------------------------------------------------------------------------------

/// Waits until `method` has been called `n` times.
async fn wait_count(fake: &FakeTelegram, method: &str, n: usize) -> bool {
    fake.wait_for(WAIT, |r| {
        r.iter().filter(|r| r.method == method).count() >= n
    })
    .await
}

/// Taps `data` on message `id` and returns the edit it caused (the `n`-th edit).
async fn tap_and_edit(fake: &FakeTelegram, chat: i64, id: i64, data: &str, n: usize) -> Request {
    fake.inject_update(tap(chat, chat, id, data));
    assert!(
        wait_count(fake, "editmessagetext", n).await,
        "no edit after {data}"
    );
    assert!(
        wait_count(fake, "answercallbackquery", n).await,
        "{data} not answered"
    );
    let edit = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "editmessagetext")
        .nth(n - 1)
        .expect("edit");
    assert_eq!(
        edit.body["message_id"], id,
        "{data}: another message was edited"
    );
    assert_eq!(edit.chat(), Some(chat));
    assert_eq!(check_telegram_html(edit.text()), Ok(()), "{}", edit.text());
    for b in buttons(&edit) {
        assert!(b.len() <= 64, "{b}");
    }
    edit
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_taps_change_delivery_and_quiet_hours_by_editing_one_message() {
    let h = Harness::start(Access::Open, &[], &[]);
    let fake = &h.fake;
    ask(fake, 42, 42, "/subscribe ai chips").await;
    let reply = ask(fake, 42, 42, "/settings").await;
    assert!(
        reply.text().contains("• <b>chips</b> — instant"),
        "{}",
        reply.text()
    );
    let first = buttons(&reply);
    let (ai, chips) = (topic_code("ai"), topic_code("chips"));
    let (open_ai, open_chips) = (format!("c:r:{ai}"), format!("c:r:{chips}"));
    for d in [
        open_ai.as_str(),
        &open_chips,
        "c:z:0",
        "c:z:5",
        "c:q:0",
        "c:q:1",
    ] {
        assert!(first.contains(&d.to_string()), "{d} missing from {first:?}");
    }
    let mode_tap = |code: &str| format!("c:d:{chips}:{code}");
    assert!(first.iter().all(|b| b.len() <= 64), "{first:?}");
    let id = fake.delivered().len() as i64;
    let messages = sent_to(&fake.requests(), 42).len();
    let mode = |h: &Harness| {
        h.store
            .subscription(42)
            .expect("store")
            .expect("subscription")
            .delivery
            .get("chips")
            .map(ToString::to_string)
    };

    let edit = tap_and_edit(fake, 42, id, &open_chips, 1).await;
    assert!(edit.text().contains("Settings · chips"), "{}", edit.text());
    assert!(buttons(&edit).contains(&mode_tap("h")));
    let edit = tap_and_edit(fake, 42, id, &mode_tap("d0900"), 2).await;
    assert_eq!(mode(&h).as_deref(), Some("daily 09:00"));
    assert!(buttons(&edit).contains(&mode_tap("d1800")));
    tap_and_edit(fake, 42, id, &mode_tap("d1800"), 3).await;
    assert_eq!(mode(&h).as_deref(), Some("daily 18:00"));
    let edit = tap_and_edit(fake, 42, id, &mode_tap("w01800"), 4).await;
    assert_eq!(mode(&h).as_deref(), Some("weekly mon 18:00"));
    assert!(buttons(&edit).contains(&mode_tap("w41800")));
    tap_and_edit(fake, 42, id, &mode_tap("w41800"), 5).await;
    assert_eq!(mode(&h).as_deref(), Some("weekly fri 18:00"));
    tap_and_edit(fake, 42, id, &mode_tap("o"), 6).await;
    assert_eq!(mode(&h).as_deref(), Some("off"));
    tap_and_edit(fake, 42, id, &mode_tap("i"), 7).await;
    assert_eq!(mode(&h), None, "instant removes the entry");
    let edit = tap_and_edit(fake, 42, id, "c:m", 8).await;
    assert!(
        edit.text().contains("<b>Quiet hours</b>: off"),
        "{}",
        edit.text()
    );

    let edit = tap_and_edit(fake, 42, id, "c:q:1", 9).await;
    assert!(buttons(&edit).contains(&"c:h:s".to_string()));
    let edit = tap_and_edit(fake, 42, id, "c:h:s", 10).await;
    assert!(
        edit.text().contains("23:00–07:00, silent"),
        "{}",
        edit.text()
    );
    let prefs = h.store.chat_prefs(42).expect("prefs");
    let quiet = prefs.quiet.expect("quiet hours");
    assert_eq!(
        (quiet.from.to_string(), quiet.to.to_string()),
        ("23:00:00".into(), "07:00:00".into())
    );
    assert_eq!(quiet.mode, kkachi::digest::schedule::QuietMode::Silent);
    tap_and_edit(fake, 42, id, "c:z:5", 11).await;
    assert_eq!(
        h.store.chat_prefs(42).expect("prefs").tz.as_deref(),
        Some("Europe/Berlin")
    );

    // Every tap edited the one message: no new message, and every callback was answered.
    assert_eq!(sent_to(&fake.requests(), 42).len(), messages);
    assert_eq!(count(fake, "answercallbackquery"), 11);
    // A stale settings button is answered too.
    fake.inject_update(tap(42, 42, id, "c:d:t00000000ff:h"));
    assert!(wait_count(fake, "answercallbackquery", 12).await);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_tz_is_typed_and_validated_and_subscribe_stores_the_default_mode() {
    let daily = "daily 08:00".parse::<Delivery>().expect("mode");
    let h = Harness::start_with(Access::Open, &[], &[], daily);
    let fake = &h.fake;
    let reply = ask(fake, 42, 42, "/settings tz Europe/Berlin").await;
    assert!(
        reply
            .text()
            .starts_with("Time zone set to <b>Europe/Berlin</b>."),
        "{}",
        reply.text()
    );
    assert_eq!(
        h.store.chat_prefs(42).expect("prefs").tz.as_deref(),
        Some("Europe/Berlin")
    );
    let reply = ask(fake, 42, 42, "/settings tz Atlantis").await;
    assert!(
        reply
            .text()
            .contains("unknown time zone &quot;Atlantis&quot;"),
        "{}",
        reply.text()
    );
    assert_eq!(
        h.store.chat_prefs(42).expect("prefs").tz.as_deref(),
        Some("Europe/Berlin")
    );
    let reply = ask(fake, 42, 42, "/settings tz Seoul").await;
    assert!(reply.text().contains("Asia/Seoul"), "{}", reply.text());

    ask(fake, 42, 42, "/subscribe ai").await;
    let sub = h.store.subscription(42).expect("store").expect("sub");
    assert_eq!(sub.delivery.get("ai"), Some(&daily));

    // A story already waiting for the Seoul 08:00 digest follows the chat to Berlin's 08:00.
    let now = chrono::Utc::now();
    let seoul =
        kkachi::digest::schedule::next_due(&daily, chrono_tz::Asia::Seoul, now).expect("due");
    let story = crate::support::alerts::story(
        "f",
        "1".into(),
        "AI 소식".into(),
        "https://e.kr/1".into(),
        "요약.",
    );
    let hit = kkachi::deliver::RuleHit {
        rule: "ai".into(),
        matched: vec!["AI".into()],
        via: vec![],
    };
    h.store
        .enqueue_pending(&[kkachi::store::Pending {
            thread: None,
            chat: 42,
            due: seoul,
            kind: kkachi::digest::Kind::Daily,
            item: kkachi::digest::Item {
                alert: kkachi::deliver::Alert::new(&story, vec![hit]),
                at: now,
            },
        }])
        .expect("pending");
    ask(fake, 42, 42, "/settings tz Europe/Berlin").await;
    let berlin =
        kkachi::digest::schedule::next_due(&daily, chrono_tz::Europe::Berlin, chrono::Utc::now())
            .expect("due");
    let dues: Vec<_> = h
        .store
        .pending_items()
        .expect("pending")
        .iter()
        .map(|p| p.due)
        .collect();
    assert_eq!(dues, vec![berlin]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_administrators_change_settings() {
    const GROUP: i64 = -100_600;
    let h = Harness::start(Access::Open, &[], &[]);
    let fake = &h.fake;
    fake.set_admins(GROUP, &[1]);
    let reply = ask(fake, GROUP, 2, "/settings@kkachi_test_bot").await;
    assert_eq!(
        reply.text(),
        "Only this group's administrators can change its subscriptions."
    );
    assert!(buttons(&reply).is_empty());
    let reply = ask(fake, GROUP, 2, "/settings@kkachi_test_bot tz Tokyo").await;
    assert!(buttons(&reply).is_empty());
    assert_eq!(h.store.chat_prefs(GROUP).expect("prefs").tz, None);

    let reply = ask(fake, GROUP, 1, "/settings@kkachi_test_bot").await;
    assert!(buttons(&reply).contains(&"c:z:1".to_string()));
    let id = fake.delivered().len() as i64;
    fake.inject_update(tap(GROUP, 2, id, "c:z:1"));
    assert!(wait_count(fake, "answercallbackquery", 1).await);
    let answer = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "answercallbackquery")
        .expect("answer");
    assert_eq!(answer.body["show_alert"], true);
    assert_eq!(h.store.chat_prefs(GROUP).expect("prefs").tz, None);
    assert_eq!(count(fake, "editmessagetext"), 0);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_for_kkachi_admins() {
    let h = Harness::start(Access::Open, &[], &[42]);
    let fake = &h.fake;
    let reply = ask(fake, 5, 5, "/status").await;
    assert_eq!(reply.text(), "Only kkachi's admins can use /status.");
    ask(fake, 5, 5, "/subscribe ai").await;
    ask(fake, 6, 6, "/subscribe ai").await;
    ask(fake, 6, 6, "/pause").await;
    let reply = ask(fake, 42, 42, "/status").await;
    let t = reply.text();
    for want in [
        "<b>Feeds</b> (1)\n• <b>yna</b>: no success yet",
        "<b>Outbox</b>: 0 queued for 0 chats",
        "<b>Sent today</b>: 0",
        "• <b>ai</b>: 1 (+1 paused or ended)",
        "• <b>chips</b>: 0",
    ] {
        assert!(t.contains(want), "{want:?} missing from\n{t}");
    }
    h.stop().await;
}

// ---- the real binary --------------------------------------------------------------------------

/// `kkachi run` against a local feed (polled every second) and the fake Telegram, with
/// `/metrics` on a loopback port.
pub(crate) fn daemon(fake: &FakeTelegram, feed_url: &str, admins: &[i64]) -> Daemon {
    let toml = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"3s\"\nconnect_timeout = \"2s\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n[telegram]\nadmins = {admins:?}\n\
         [[feeds]]\nname = \"news\"\nurl = \"{feed_url}\"\ncron = \"* * * * * *\"\n"
    );
    let mut d = Daemon::new(&toml, RULES);
    d.spawn_with_telegram(fake, &[]);
    d
}

/// SIGTERM: the exit code and every run's log; the stop takes less than 12 s.
pub(crate) fn terminate(daemon: &mut Daemon) -> (Option<i32>, String) {
    daemon.signal(libc::SIGTERM);
    let (code, took) = daemon.wait_exit();
    assert!(took < Duration::from_secs(12), "shutdown took {took:?}");
    (code, daemon.logs())
}

pub(crate) fn alerts_to(fake: &FakeTelegram, chat: i64) -> Vec<Request> {
    sent_to(&fake.delivered(), chat)
        .into_iter()
        .filter(|r| r.text().contains("https://news.example.kr/"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_exactly_one_valid_html_alert_through_the_binary() {
    let server = Server::start();
    let old = ("g0", "오늘의 날씨", "https://news.example.kr/0");
    server.feed("/f.xml", crate::rss(&[old]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let mut daemon = daemon(&fake, &server.url("/f.xml"), &[]);
    assert!(
        fake.wait_for(WAIT, |r| r.iter().any(|r| r.method == "getupdates"))
            .await,
        "the bot does not poll: {:?}",
        fake.requests()
    );
    // At start-up: once for everyone (English), once for Korean clients.
    assert_eq!(
        count(&fake, "setmycommands"),
        2,
        "setMyCommands at start-up"
    );
    let reply = ask(&fake, 42, 42, "/start").await;
    assert!(
        reply.text().contains("watches 1 news feed for 2 topics"),
        "{}",
        reply.text()
    );
    let reply = ask(&fake, 42, 42, "/subscribe ai").await;
    assert_eq!(reply.text(), "Subscribed to <b>ai</b>.");

    let new = (
        "g1",
        "삼성 AI &amp; 반도체 &lt;협력&gt; 발표",
        "https://news.example.kr/1",
    );
    server.feed("/f.xml", crate::rss(&[new, old]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.accepted && r.text().contains("https://news.example.kr/1")))
            .await,
        "no alert arrived"
    );
    two_more_polls(&server, "/f.xml");
    // Stopped, it sends nothing more; its empty outbox says no second copy was still due.
    let (code, stderr) = terminate(&mut daemon);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(daemon.store().outbox_len(), 0, "a copy is still queued");
    let alerts = alerts_to(&fake, 42);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let text = alerts[0].text();
    assert_eq!(alerts[0].parse_mode(), Some("HTML"));
    assert_eq!(check_telegram_html(text), Ok(()), "{text}");
    assert!(
        text.starts_with("<b><a href=\"https://news.example.kr/1\">삼성 AI &amp; 반도체 &lt;협력&gt; 발표</a></b>"),
        "{text}"
    );
    assert!(text.contains("🔎 <b>ai</b>"), "{text}");
    // Nobody else got anything, and every message the bot sent is valid HTML.
    assert!(fake.delivered().iter().all(|r| r.chat() == Some(42)));
    for r in fake.delivered() {
        assert_eq!(check_telegram_html(r.text()), Ok(()), "{}", r.text());
    }

    let secret = TOKEN.split_once(':').map_or(TOKEN, |(_, s)| s);
    assert!(!stderr.contains(secret), "the token was logged:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_delivery_and_resume_restarts_it_through_the_binary() {
    let server = Server::start();
    let s0 = ("g0", "오늘의 날씨", "https://news.example.kr/0");
    server.feed("/f.xml", crate::rss(&[s0]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let mut daemon = daemon(&fake, &server.url("/f.xml"), &[]);
    ask(&fake, 42, 42, "/subscribe ai chips").await;
    let reply = ask(&fake, 42, 42, "/pause").await;
    assert!(reply.text().starts_with("Paused"), "{}", reply.text());

    let s1 = ("g1", "AI 스타트업 투자 유치", "https://news.example.kr/1");
    server.feed("/f.xml", crate::rss(&[s1, s0]), "application/rss+xml");
    two_more_polls(&server, "/f.xml");
    // Whatever that poll queued has been sent or dropped by now.
    daemon.wait_outbox_empty();
    assert!(alerts_to(&fake, 42).is_empty(), "alerted while paused");

    let reply = ask(&fake, 42, 42, "/resume").await;
    assert!(reply.text().starts_with("Resumed"), "{}", reply.text());
    let s2 = ("g2", "반도체 수출 증가", "https://news.example.kr/2");
    server.feed("/f.xml", crate::rss(&[s2, s1, s0]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.accepted && r.text().contains("https://news.example.kr/2")))
            .await,
        "no alert after /resume"
    );
    two_more_polls(&server, "/f.xml");
    let alerts = alerts_to(&fake, 42);
    assert_eq!(alerts.len(), 1, "only the story after /resume: {alerts:?}");
    let (code, stderr) = terminate(&mut daemon);
    assert_eq!(code, Some(0), "{stderr}");
    // The subscription survived, unpaused, in the store.
    let store = daemon.store();
    let sub = store.subscription(42).expect("store").expect("kept");
    assert_eq!(sub.rules, ["ai".to_string(), "chips".to_string()].into());
    assert!(sub.active());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_through_the_binary_store_the_default_and_a_tapped_mode() {
    let server = Server::start();
    let s0 = ("g0", "오늘의 날씨", "https://news.example.kr/0");
    server.feed("/f.xml", crate::rss(&[s0]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let toml = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n[delivery]\ndefault = \"daily 07:00\"\n\
         [[feeds]]\nname = \"news\"\nurl = \"{}\"\ncron = \"0 0 1 1 *\"\n",
        server.url("/f.xml")
    );
    let mut daemon = Daemon::new(&toml, RULES);
    daemon.spawn_with_telegram(&fake, &[]);
    ask(&fake, 42, 42, "/subscribe ai chips").await;
    let reply = ask(&fake, 42, 42, "/settings").await;
    assert!(
        reply.text().contains("• <b>ai</b> — daily 07:00"),
        "{}",
        reply.text()
    );
    let id = fake.delivered().len() as i64;
    let ai = topic_code("ai");
    let edit = tap_and_edit(&fake, 42, id, &format!("c:r:{ai}"), 1).await;
    let hourly = format!("c:d:{ai}:h");
    assert!(buttons(&edit).contains(&hourly));
    tap_and_edit(&fake, 42, id, &hourly, 2).await;
    tap_and_edit(&fake, 42, id, "c:q:2", 3).await;
    let (code, stderr) = terminate(&mut daemon);
    assert_eq!(code, Some(0), "{stderr}");
    let store = daemon.store();
    let sub = store.subscription(42).expect("store").expect("kept");
    let modes: Vec<String> = sub.delivery.values().map(ToString::to_string).collect();
    assert_eq!(modes, ["hourly", "daily 07:00"]);
    let quiet = store.chat_prefs(42).expect("prefs").quiet.expect("quiet");
    assert_eq!(quiet.from.to_string(), "22:00:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_a_full_outbox_delivers_the_rest_after_restart_without_duplicates() {
    let server = Server::start();
    let s0 = ("g0", "오늘의 날씨", "https://news.example.kr/0");
    server.feed("/f.xml", crate::rss(&[s0]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let mut daemon = daemon(&fake, &server.url("/f.xml"), &[]);
    ask(&fake, 42, 42, "/subscribe ai").await;
    let titles: Vec<(String, String, String)> = (1..=6)
        .map(|i| {
            (
                format!("g{i}"),
                format!("AI 소식 {i}"),
                format!("https://news.example.kr/{i}"),
            )
        })
        .collect();
    let mut items: Vec<(&str, &str, &str)> = titles
        .iter()
        .map(|(g, t, u)| (g.as_str(), t.as_str(), u.as_str()))
        .collect();
    items.push(s0);
    server.feed("/f.xml", crate::rss(&items), "application/rss+xml");
    // One message per second to a chat: kill the process between two sends.
    assert!(
        fake.wait_for(WAIT, |_| alerts_to(&fake, 42).len() >= 2)
            .await,
        "the first alerts did not arrive"
    );
    // The kill point: once the sender has recorded the second answer (/metrics counts it)
    // and its grouped flush is due, a good while before the third send (a second later).
    daemon.wait_metric("kkachi_alerts_sent_total", |n| n >= 2.0);
    tokio::time::sleep(3 * kkachi::telegram::send::GROUP_FLUSH).await;
    daemon.kill();
    let before = alerts_to(&fake, 42).len();
    assert!(before < 6, "everything was sent before the kill");
    {
        let store = daemon.store();
        assert_eq!(
            store.outbox_len(),
            6 - before,
            "the rest waits in the outbox"
        );
    }
    daemon.spawn_with_telegram(&fake, &[]);
    assert!(
        fake.wait_for(Duration::from_secs(20), |_| alerts_to(&fake, 42).len() >= 6)
            .await,
        "the rest was not delivered after the restart"
    );
    two_more_polls(&server, "/f.xml");
    // Stopped, it sends nothing more; its empty outbox says no second copy was still due.
    let (code, stderr) = terminate(&mut daemon);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(daemon.store().outbox_len(), 0, "a copy is still queued");
    let urls = crate::fake_telegram::alert_links(&alerts_to(&fake, 42));
    let want: Vec<String> = titles.iter().map(|(_, _, u)| u.clone()).collect();
    assert_eq!(urls, want, "each story exactly once");
}

// ---- Korean ------------------------------------------------------------------------------------

/// `update` sent by a user whose Telegram app speaks Korean.
fn in_korean(mut update: Value) -> Value {
    for kind in ["message", "callback_query"] {
        if update.get(kind).is_some() {
            update[kind]["from"]["language_code"] = json!("ko-KR");
        }
    }
    update
}

/// The answer to the `n`-th button tap.
fn answer(fake: &FakeTelegram, n: usize) -> String {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "answercallbackquery")
        .nth(n - 1)
        .and_then(|r| r.body["text"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Issue 17: one Korean conversation through the binary. A user whose Telegram speaks Korean
/// starts, subscribes with a /topics button, lists, and gets a Korean alert; a group (English
/// by default) switches to 한국어 in /settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_korean_user_and_a_group_that_chooses_korean_through_the_binary() {
    const RULES_KO: &str = "[[rules]]\nname = \"ott\"\nquery = 'Netflix'\ndescription = \"OTT & 스트리밍\"\n\n\
                            [[rules]]\nname = \"chips\"\nquery = '반도체'\n";
    const GROUP: i64 = -100_700;
    let server = Server::start();
    let old = ("g0", "오늘의 날씨", "https://news.example.kr/0");
    server.feed("/f.xml", crate::rss(&[old]), "application/rss+xml");
    let fake = FakeTelegram::start();
    fake.set_admins(GROUP, &[7]);
    let toml = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"3s\"\nconnect_timeout = \"2s\"\n[http]\nlisten = \"127.0.0.1:0\"\n\
         [[feeds]]\nname = \"news\"\nurl = \"{}\"\ncron = \"* * * * * *\"\n",
        server.url("/f.xml")
    );
    let mut daemon = Daemon::new(&toml, RULES_KO);
    daemon.spawn_with_telegram(&fake, &[]);
    let ko = |text: &str| in_korean(message(42, 42, text));

    let reply = ask_with(&fake, 42, ko("/start"), "/start").await;
    assert!(
        reply
            .text()
            .starts_with("<b>kkachi</b>는 뉴스 피드 1개에서 주제 2개를 지켜보다가"),
        "{}",
        reply.text()
    );
    assert!(!reply.text().contains(['\u{2068}', '\u{2069}']));

    let reply = ask_with(&fake, 42, ko("/topics"), "/topics").await;
    assert!(
        reply
            .text()
            .starts_with("<b>주제</b> (✅ = 이 대화방이 알림을 받는 주제)"),
        "{}",
        reply.text()
    );
    assert!(
        reply.text().contains("▫️ <b>ott</b> — OTT &amp; 스트리밍"),
        "{}",
        reply.text()
    );
    assert!(reply.text().ends_with("버튼을 눌러 구독하거나 해지하세요."));
    assert_eq!(buttons(&reply), ["s:ott", "s:chips"]);
    let id = fake.delivered().len() as i64;
    // The tap carries no language: the chat's kept one answers.
    fake.inject_update(tap(42, 42, id, "s:ott"));
    assert!(wait_count(&fake, "editmessagetext", 1).await, "no edit");
    assert!(wait_count(&fake, "answercallbackquery", 1).await);
    assert_eq!(answer(&fake, 1), "ott 구독했어요");
    let edit = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "editmessagetext")
        .expect("edit");
    assert!(edit.text().contains("✅ <b>ott</b>"), "{}", edit.text());
    assert_eq!(check_telegram_html(edit.text()), Ok(()));

    let reply = ask_with(&fake, 42, ko("/list"), "/list").await;
    assert_eq!(
        reply.text(),
        "<b>이 대화방의 구독</b>\n• <b>ott</b> — OTT &amp; 스트리밍"
    );
    let reply = ask_with(&fake, 42, ko("/pause"), "/pause").await;
    assert!(
        reply.text().starts_with("일시 중지했어요."),
        "{}",
        reply.text()
    );
    let reply = ask_with(&fake, 42, ko("/resume"), "/resume").await;
    assert!(
        reply.text().starts_with("다시 시작했어요."),
        "{}",
        reply.text()
    );

    // The alert, rendered by the sender (no user at hand): in the chat's kept language.
    let new = (
        "g1",
        "넷플릭스, 한국 콘텐츠 투자 확대",
        "https://news.example.kr/1",
    );
    server.feed("/f.xml", crate::rss(&[new, old]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.accepted && r.text().contains("https://news.example.kr/1")))
            .await,
        "no alert arrived"
    );
    let alerts = alerts_to(&fake, 42);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let text = alerts[0].text();
    assert_eq!(check_telegram_html(text), Ok(()), "{text}");
    assert!(
        text.ends_with("🔎 <b>ott</b>: <code>Netflix</code> (넷플릭스, 사전)"),
        "{text}"
    );

    // A group speaks the operator's language (English) until an administrator picks 한국어.
    let reply = ask(&fake, GROUP, 7, "/settings@kkachi_test_bot").await;
    assert!(
        reply.text().starts_with("<b>Settings</b>"),
        "{}",
        reply.text()
    );
    assert!(
        reply.text().ends_with("<b>Language</b>: English"),
        "{}",
        reply.text()
    );
    let langs: Vec<String> = buttons(&reply)
        .into_iter()
        .filter(|b| b.starts_with("c:l:"))
        .collect();
    assert_eq!(langs, ["c:l:ko", "c:l:en"]);
    let id = fake.delivered().len() as i64;
    fake.inject_update(tap(GROUP, 7, id, "c:l:ko"));
    assert!(wait_count(&fake, "editmessagetext", 2).await, "no edit");
    assert!(wait_count(&fake, "answercallbackquery", 2).await);
    assert_eq!(answer(&fake, 2), "언어: 한국어");
    let edit = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "editmessagetext")
        .nth(1)
        .expect("edit");
    assert_eq!(edit.body["message_id"], id);
    assert!(edit.text().starts_with("<b>설정</b>"), "{}", edit.text());
    assert!(
        edit.text().ends_with("<b>언어</b>: 한국어"),
        "{}",
        edit.text()
    );
    assert!(
        buttons(&edit).len() == buttons(&reply).len(),
        "the same screen, in Korean"
    );
    let reply = ask(&fake, GROUP, 7, "/list@kkachi_test_bot").await;
    assert_eq!(
        reply.text(),
        "이 대화방은 구독한 주제가 없어요. /topics에서 골라 보세요."
    );

    let (code, stderr) = terminate(&mut daemon);
    assert_eq!(code, Some(0), "{stderr}");
    let store = daemon.store();
    let private = store.chat_prefs(42).expect("prefs");
    assert_eq!(
        (private.lang, private.user_lang.as_deref()),
        (None, Some("ko-KR"))
    );
    assert_eq!(
        store.chat_prefs(GROUP).expect("prefs").lang,
        Some(kkachi::i18n::Lang::Ko)
    );
    // setMyCommands: English for everyone, Korean for Korean clients.
    let registered: Vec<Request> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "setmycommands")
        .collect();
    assert_eq!(registered.len(), 2);
    assert_eq!(registered[0].body.get("language_code"), None);
    assert_eq!(registered[1].body["language_code"], "ko");
    assert_eq!(
        registered[1].body["commands"][0]["description"],
        "시작하기, kkachi가 지켜보는 것"
    );
}
