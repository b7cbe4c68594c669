//! Telegram forum topics and channels (issue 17), through the real `kkachi run` binary and the
//! fake Bot API: a static route to a topic sends with `message_thread_id`, a channel id is a
//! static route like any chat, and `/subscribe` inside a topic subscribes that topic (the
//! bot's reply goes there too), across a restart. Every wait is bounded.

use std::time::Duration;

use kkachi::deliver::Dest;
use serde_json::{Value, json};

use crate::fake_telegram::{FakeTelegram, Request};
use crate::server::Server;
use crate::support::{Daemon, two_more_polls};

const WAIT: Duration = Duration::from_secs(10);
const GROUP: i64 = -1_001_234_567_890;
const CHANNEL: i64 = -1_009_876_543_210;
const ADMIN: i64 = 7;

fn config(feed_url: &str) -> String {
    format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"3s\"\nconnect_timeout = \"2s\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n\
         [[feeds]]\nname = \"news\"\nurl = \"{feed_url}\"\ncron = \"* * * * * *\"\n"
    )
}

fn thread(r: &Request) -> Option<i64> {
    r.body.get("message_thread_id").and_then(Value::as_i64)
}

fn alerts(fake: &FakeTelegram, url: &str) -> Vec<Request> {
    fake.delivered()
        .into_iter()
        .filter(|r| r.text().contains(url))
        .collect()
}

async fn wait_alert(fake: &FakeTelegram, url: &str) {
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.accepted && r.text().contains(url)))
            .await,
        "no alert with {url}: {:?}",
        fake.requests()
    );
}

fn terminate(daemon: &mut Daemon) {
    daemon.signal(libc::SIGTERM);
    let (code, _) = daemon.wait_exit();
    assert_eq!(code, Some(0), "{}", daemon.logs());
}

/// A command typed by `user` inside forum topic `topic` of `chat`, as Telegram sends it.
fn topic_message(chat: i64, topic: i64, user: i64, text: &str) -> Value {
    let len = text
        .split(char::is_whitespace)
        .next()
        .unwrap_or("")
        .encode_utf16()
        .count();
    json!({"message": {"message_id": 100, "message_thread_id": topic, "is_topic_message": true,
        "date": 1_700_000_000,
        "chat": {"id": chat, "type": "supergroup", "title": "News room", "is_forum": true},
        "from": {"id": user, "is_bot": false, "first_name": "Admin"},
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_route_to_a_topic_sends_with_its_thread_and_a_channel_route_sends_plainly() {
    let server = Server::start();
    let old = ("g0", "오늘의 날씨", "https://news.example.kr/0");
    server.feed("/f.xml", crate::rss(&[old]), "application/rss+xml");
    let fake = FakeTelegram::start();
    let rules =
        format!("[[rules]]\nname = \"ai\"\nquery = 'AI'\nchats = [\"{GROUP}/17\", {CHANNEL}]\n");
    let mut daemon = Daemon::new(&config(&server.url("/f.xml")), &rules);
    daemon.spawn_with_telegram(&fake, &[]);
    two_more_polls(&server, "/f.xml");
    let new = ("g1", "AI 반도체 협력", "https://news.example.kr/1");
    server.feed("/f.xml", crate::rss(&[new, old]), "application/rss+xml");
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .filter(|r| r.accepted && r.text().contains("https://news.example.kr/1"))
            .count()
            == 2)
            .await,
        "not both alerts: {:?}",
        fake.requests()
    );
    two_more_polls(&server, "/f.xml");
    terminate(&mut daemon);
    let sent: Vec<(Option<i64>, Option<i64>)> = alerts(&fake, "https://news.example.kr/1")
        .iter()
        .map(|r| (r.chat(), thread(r)))
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.contains(&(Some(GROUP), Some(17))), "{sent:?}");
    assert!(sent.contains(&(Some(CHANNEL), None)), "{sent:?}");
    assert_eq!(daemon.store().outbox_len(), 0, "nothing left queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_inside_a_topic_subscribes_that_topic_and_survives_a_restart() {
    let server = Server::start();
    let old = ("g0", "오늘의 날씨", "https://news.example.kr/0");
    server.feed("/f.xml", crate::rss(&[old]), "application/rss+xml");
    let fake = FakeTelegram::start();
    fake.set_admins(GROUP, &[ADMIN]);
    let rules = "[[rules]]\nname = \"ai\"\nquery = 'AI'\n";
    let mut daemon = Daemon::new(&config(&server.url("/f.xml")), rules);
    daemon.spawn_with_telegram(&fake, &[]);

    fake.inject_update(topic_message(GROUP, 5, ADMIN, "/subscribe ai"));
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.accepted && r.text().starts_with("Subscribed to")))
            .await,
        "no reply to /subscribe: {:?}",
        fake.requests()
    );
    let reply = fake
        .delivered()
        .into_iter()
        .find(|r| r.text().starts_with("Subscribed to"))
        .expect("the reply");
    assert_eq!(
        (reply.chat(), thread(&reply)),
        (Some(GROUP), Some(5)),
        "the reply goes into the topic"
    );
    assert_eq!(reply.text(), "Subscribed to <b>ai</b>.");

    // /list inside the topic shows the topic's subscription; /list in another topic does not.
    fake.inject_update(topic_message(GROUP, 9, ADMIN, "/list"));
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.accepted && thread(r) == Some(9)))
            .await,
        "no reply in topic 9"
    );
    let other = fake
        .delivered()
        .into_iter()
        .find(|r| thread(r) == Some(9))
        .expect("reply");
    assert!(
        other.text().contains("no subscriptions"),
        "{}",
        other.text()
    );

    let s1 = ("g1", "AI 스타트업 투자 유치", "https://news.example.kr/1");
    server.feed("/f.xml", crate::rss(&[s1, old]), "application/rss+xml");
    wait_alert(&fake, "https://news.example.kr/1").await;
    two_more_polls(&server, "/f.xml");
    terminate(&mut daemon);
    let got: Vec<(Option<i64>, Option<i64>)> = alerts(&fake, "https://news.example.kr/1")
        .iter()
        .map(|r| (r.chat(), thread(r)))
        .collect();
    assert_eq!(got, vec![(Some(GROUP), Some(5))], "topic 5 only");
    {
        let store = daemon.store();
        assert!(
            store
                .subscription(Dest::topic(GROUP, 5))
                .expect("store")
                .is_some_and(|s| s.rules.contains("ai"))
        );
        assert!(
            store.subscription(GROUP).expect("store").is_none(),
            "the whole group did not subscribe"
        );
    }

    // After a restart the topic still gets the next story, still in topic 5 only.
    daemon.spawn_with_telegram(&fake, &[]);
    let s2 = ("g2", "AI 반도체 수출", "https://news.example.kr/2");
    server.feed("/f.xml", crate::rss(&[s2, s1, old]), "application/rss+xml");
    wait_alert(&fake, "https://news.example.kr/2").await;
    two_more_polls(&server, "/f.xml");
    terminate(&mut daemon);
    let got: Vec<(Option<i64>, Option<i64>)> = alerts(&fake, "https://news.example.kr/2")
        .iter()
        .map(|r| (r.chat(), thread(r)))
        .collect();
    assert_eq!(got, vec![(Some(GROUP), Some(5))], "{}", daemon.logs());
    assert_eq!(
        alerts(&fake, "https://news.example.kr/1").len(),
        1,
        "no re-alert after the restart"
    );
}

/// A tap on a button of the bot's message `message_id`, which sits in topic `topic`.
fn topic_tap(chat: i64, topic: i64, user: i64, message_id: i64, data: &str) -> Value {
    json!({"callback_query": {"id": format!("cb-{data}"),
        "from": {"id": user, "is_bot": false, "first_name": "Admin"},
        "chat_instance": "ci", "data": data,
        "message": {"message_id": message_id, "message_thread_id": topic, "is_topic_message": true,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "supergroup", "title": "News room", "is_forum": true},
            "from": {"id": crate::fake_telegram::BOT_ID, "is_bot": true, "first_name": "News",
                     "username": "kkachi_test_bot"},
            "text": "Topics"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_buttons_inside_a_topic_change_that_topics_subscription() {
    let server = Server::start();
    server.feed(
        "/f.xml",
        crate::rss(&[("g0", "오늘의 날씨", "https://news.example.kr/0")]),
        "application/rss+xml",
    );
    let fake = FakeTelegram::start();
    fake.set_admins(GROUP, &[ADMIN]);
    let rules = "[[rules]]\nname = \"ai\"\nquery = 'AI'\n";
    let mut daemon = Daemon::new(&config(&server.url("/f.xml")), rules);
    daemon.spawn_with_telegram(&fake, &[]);
    fake.inject_update(topic_message(GROUP, 5, ADMIN, "/topics"));
    assert!(
        fake.wait_for(WAIT, |r| r
            .iter()
            .any(|r| r.accepted && thread(r) == Some(5)))
            .await,
        "no /topics reply in topic 5: {:?}",
        fake.requests()
    );
    let id = fake.delivered().len() as i64;
    fake.inject_update(topic_tap(GROUP, 5, ADMIN, id, "s:ai"));
    assert!(
        fake.wait_for(WAIT, |r| r.iter().any(|r| r.method == "editmessagetext"))
            .await,
        "the tap was not answered with an edit"
    );
    terminate(&mut daemon);
    let store = daemon.store();
    assert!(
        store
            .subscription(Dest::topic(GROUP, 5))
            .expect("store")
            .is_some_and(|s| s.rules.contains("ai")),
        "{:?}",
        store.subscriptions()
    );
    assert!(store.subscription(GROUP).expect("store").is_none());
}
