//! A fake Telegram Bot API server on 127.0.0.1 for tests, driven by real teloxide through
//! `Bot::set_api_url`. It answers the methods kkachi uses (method names matched
//! case-insensitively, as teloxide sends them in PascalCase), replays a queue of injected faults
//! on `sendMessage`, and records every request with the time it arrived. It runs on its own
//! thread and runtime, and stops when dropped. Every wait inside it is bounded.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const TOKEN: &str = "123456:TEST-token";
pub const BOT_ID: i64 = 4242;
/// The name of the fake's threads.
pub const FAKE_THREADS: &str = "fake-telegram";

/// One fault for the next `sendMessage` (to `chat`, or to any chat when `None`).
#[derive(Debug, Clone)]
pub enum Fault {
    RetryAfter(u32),
    /// 403 with this description, e.g. "Forbidden: bot was blocked by the user".
    Forbidden(&'static str),
    ChatNotFound,
    CantParse,
    TooLong,
    Migrate(i64),
    /// Accepts the message but answers only after this long (the client times out first: the
    /// message *was* delivered, the sender cannot know).
    Stall(Duration),
    /// Answers with this HTTP status (5xx) and "Internal Server Error"; not delivered.
    ServerError(u16),
    /// Accepts the message, sends the status line and headers, then drops the connection
    /// before the body: delivered, but the client cannot know.
    Drop,
    /// For `editMessageText` only: "message to edit not found" (deleted by the reader).
    EditGone,
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Lower-case method name.
    pub method: String,
    pub body: Value,
    pub at: Instant,
    /// The message was accepted (a `sendMessage` that got a `message_id`).
    pub accepted: bool,
}

impl Request {
    pub fn chat(&self) -> Option<i64> {
        self.body.get("chat_id").and_then(Value::as_i64)
    }

    pub fn text(&self) -> &str {
        self.body.get("text").and_then(Value::as_str).unwrap_or("")
    }

    pub fn parse_mode(&self) -> Option<&str> {
        self.body.get("parse_mode").and_then(Value::as_str)
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Request>,
    faults: VecDeque<(Option<i64>, Fault)>,
    /// Faults for `editMessageText` (only `ServerError` and `EditGone` mean anything there).
    edit_faults: VecDeque<(Option<i64>, Fault)>,
    updates: Vec<Value>,
    next_update: i64,
    next_message: i64,
    admins: HashMap<i64, Vec<i64>>,
    /// Requests are logged without their bodies (a bench's 10,000 would otherwise weigh on
    /// the process's memory).
    light: bool,
    /// Every `sendMessage` answer waits this long (a slow round trip); the request is logged
    /// when it arrives.
    delay: Duration,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    updated: Arc<Notify>,
}

pub struct FakeTelegram {
    pub addr: SocketAddr,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeTelegram {
    pub fn start() -> FakeTelegram {
        let shared = Shared::default();
        shared.inner.lock().expect("fake state").next_update = 1000;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let state = shared.clone();
        // Named, so a bench can tell the fake's CPU time from the sender's.
        let thread = std::thread::Builder::new()
            .name(FAKE_THREADS.into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name(FAKE_THREADS)
                    .enable_all()
                    .build()
                    .expect("fake telegram runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind 127.0.0.1");
                    addr_tx
                        .send(listener.local_addr().expect("addr"))
                        .expect("send addr");
                    let app = Router::new()
                        .route("/{token}/{method}", post(handle))
                        .with_state(state);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop_rx.await;
                        })
                        .await;
                });
                // Stalled handlers may still sleep: do not wait for them.
                rt.shutdown_timeout(Duration::from_millis(100));
            })
            .expect("fake telegram thread");
        let addr = addr_rx.recv().expect("fake telegram address");
        FakeTelegram {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}", self.addr)).expect("url")
    }

    /// A bot pointed at this server whose requests time out after `timeout`.
    pub fn bot(&self, timeout: Duration) -> teloxide::Bot {
        let tok = match kkachi::telegram::resolve_token(&Default::default(), |k| {
            (k == "TELOXIDE_TOKEN").then(|| TOKEN.into())
        }) {
            Ok(Some(t)) => t,
            other => panic!("test token: {other:?}"),
        };
        kkachi::telegram::bot(&tok, Some(self.url()), timeout).expect("bot")
    }

    pub fn fault(&self, chat: Option<i64>, fault: Fault) {
        self.shared
            .inner
            .lock()
            .expect("fake state")
            .faults
            .push_back((chat, fault));
    }

    /// One fault for the next `editMessageText` (to `chat`, or to any chat when `None`).
    #[allow(
        dead_code,
        reason = "benches/telegram.rs includes this file and makes no edits"
    )]
    pub fn edit_fault(&self, chat: Option<i64>, fault: Fault) {
        self.shared
            .inner
            .lock()
            .expect("fake state")
            .edit_faults
            .push_back((chat, fault));
    }

    /// Accepted `editMessageText` requests, in arrival order.
    #[allow(
        dead_code,
        reason = "benches/telegram.rs includes this file and makes no edits"
    )]
    pub fn edits(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "editmessagetext" && r.accepted)
            .collect()
    }

    /// Logs requests without their bodies from now on (`chat()` and `text()` see nothing).
    #[allow(
        dead_code,
        reason = "for benches/telegram.rs, which includes this file"
    )]
    pub fn forget_bodies(&self) {
        self.shared.inner.lock().expect("fake state").light = true;
    }

    /// Delays every `sendMessage` answer by `delay` (a long round trip to Telegram).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.inner.lock().expect("fake state").delay = delay;
    }

    pub fn set_admins(&self, chat: i64, users: &[i64]) {
        self.shared
            .inner
            .lock()
            .expect("fake state")
            .admins
            .insert(chat, users.to_vec());
    }

    /// Queues an update (its `update_id` is assigned here) for `getUpdates`.
    pub fn inject_update(&self, mut update: Value) -> i64 {
        let mut inner = self.shared.inner.lock().expect("fake state");
        let id = inner.next_update;
        inner.next_update += 1;
        update["update_id"] = json!(id);
        inner.updates.push(update);
        drop(inner);
        self.shared.updated.notify_waiters();
        id
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .inner
            .lock()
            .expect("fake state")
            .requests
            .clone()
    }

    /// Accepted `sendMessage` requests, in arrival order.
    pub fn delivered(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "sendmessage" && r.accepted)
            .collect()
    }

    /// Waits (at most `limit`) until `pred` holds for the requests seen; returns whether it did.
    pub async fn wait_for(&self, limit: Duration, pred: impl Fn(&[Request]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if pred(&self.requests()) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

fn err(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(body)).into_response()
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "News", "username": "kkachi_test_bot"})
}

fn chat_json(id: i64) -> Value {
    if id < 0 {
        json!({"id": id, "type": "supergroup", "title": "Group"})
    } else {
        json!({"id": id, "type": "private", "first_name": "Reader"})
    }
}

fn message(id: i64, chat: i64, text: &str) -> Value {
    json!({"message_id": id, "date": 1_700_000_000, "chat": chat_json(chat), "from": bot_user(), "text": text})
}

async fn handle(
    State(shared): State<Shared>,
    Path((token, method)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let method = method.to_ascii_lowercase();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if token != format!("bot{TOKEN}") {
        return err(401, "Unauthorized", None);
    }
    let chat = body.get("chat_id").and_then(Value::as_i64);
    let record = |accepted: bool| {
        shared
            .inner
            .lock()
            .expect("fake state")
            .requests
            .push(Request {
                method: method.clone(),
                body: body.clone(),
                at,
                accepted,
            });
    };
    match method.as_str() {
        "getme" => {
            record(false);
            ok(
                json!({"id": BOT_ID, "is_bot": true, "first_name": "News", "username": "kkachi_test_bot",
                "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
                "can_connect_to_business": false, "has_main_web_app": false}),
            )
        }
        "sendmessage" => {
            let Some(chat) = chat else {
                record(false);
                return err(400, "Bad Request: chat_id is empty", None);
            };
            let (fault, delay) = {
                let mut inner = shared.inner.lock().expect("fake state");
                let i = inner
                    .faults
                    .iter()
                    .position(|(c, _)| c.is_none_or(|c| c == chat));
                let fault = i.and_then(|i| inner.faults.remove(i)).map(|(_, f)| f);
                (fault, inner.delay)
            };

            let text = body
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let accept = || {
                let mut inner = shared.inner.lock().expect("fake state");
                inner.next_message += 1;
                let id = inner.next_message;
                let body = if inner.light {
                    Value::Null
                } else {
                    body.clone()
                };
                inner.requests.push(Request {
                    method: method.clone(),
                    body,
                    at,
                    accepted: true,
                });
                id
            };
            let response = match fault {
                None => {
                    let id = accept();
                    ok(message(id, chat, &text))
                }
                Some(Fault::Stall(d)) => {
                    let id = accept();
                    tokio::time::sleep(d).await;
                    ok(message(id, chat, &text))
                }
                Some(Fault::Drop) => {
                    accept();
                    let broken = futures_util::stream::once(async {
                        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped"))
                    });
                    (StatusCode::OK, axum::body::Body::from_stream(broken)).into_response()
                }
                Some(f) => {
                    record(false);
                    match f {
                        Fault::RetryAfter(s) => err(
                            429,
                            &format!("Too Many Requests: retry after {s}"),
                            Some(json!({"retry_after": s})),
                        ),
                        Fault::Forbidden(d) => err(403, d, None),
                        Fault::ChatNotFound => err(400, "Bad Request: chat not found", None),
                        Fault::CantParse => err(
                            400,
                            "Bad Request: can't parse entities: Unsupported start tag \"p\" at byte offset 12",
                            None,
                        ),
                        Fault::TooLong => err(400, "Bad Request: message is too long", None),
                        Fault::Migrate(to) => err(
                            400,
                            "Bad Request: group chat was upgraded to a supergroup chat",
                            Some(json!({"migrate_to_chat_id": to})),
                        ),
                        Fault::ServerError(code) => err(code, "Internal Server Error", None),
                        Fault::EditGone => err(400, "Bad Request: message to edit not found", None),
                        Fault::Stall(_) | Fault::Drop => unreachable!("handled above"),
                    }
                }
            };
            // Recorded (and accepted) on arrival, answered after the round trip.
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            response
        }
        "getupdates" => {
            record(false);
            let offset = body.get("offset").and_then(Value::as_i64).unwrap_or(0);
            let timeout = body
                .get("timeout")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .min(5);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
            loop {
                let notified = shared.updated.notified();
                let ready: Vec<Value> = {
                    let mut inner = shared.inner.lock().expect("fake state");
                    // Confirming an offset forgets the updates before it, as Telegram does.
                    inner
                        .updates
                        .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                    inner.updates.clone()
                };
                if !ready.is_empty() || tokio::time::Instant::now() >= deadline {
                    return ok(Value::Array(ready));
                }
                let _ = tokio::time::timeout_at(deadline, notified).await;
            }
        }
        "editmessagetext" => {
            let fault = {
                let mut inner = shared.inner.lock().expect("fake state");
                let i = inner
                    .edit_faults
                    .iter()
                    .position(|(c, _)| c.is_none_or(|c| Some(c) == chat));
                i.and_then(|i| inner.edit_faults.remove(i)).map(|(_, f)| f)
            };
            match fault {
                Some(Fault::ServerError(code)) => {
                    record(false);
                    err(code, "Internal Server Error", None)
                }
                Some(Fault::EditGone) => {
                    record(false);
                    err(400, "Bad Request: message to edit not found", None)
                }
                _ => {
                    record(true);
                    let id = body.get("message_id").and_then(Value::as_i64).unwrap_or(0);
                    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
                    ok(message(id, chat.unwrap_or(0), text))
                }
            }
        }
        "getchatadministrators" => {
            record(false);
            let admins = shared
                .inner
                .lock()
                .expect("fake state")
                .admins
                .get(&chat.unwrap_or(0))
                .cloned();
            let members: Vec<Value> = admins
                .unwrap_or_default()
                .into_iter()
                .map(|u| {
                    json!({"status": "administrator", "user": {"id": u, "is_bot": false, "first_name": "Admin"},
                        "can_be_edited": false, "is_anonymous": false, "can_manage_chat": true,
                        "can_delete_messages": true, "can_manage_video_chats": true, "can_restrict_members": true,
                        "can_promote_members": false, "can_change_info": true, "can_invite_users": true,
                        "can_post_stories": false, "can_edit_stories": false, "can_delete_stories": false})
                })
                .collect();
            ok(Value::Array(members))
        }
        "setmycommands" | "deletewebhook" | "answercallbackquery" => {
            record(false);
            ok(json!(true))
        }
        "getwebhookinfo" => {
            record(false);
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        _ => {
            record(false);
            err(404, "Not Found: method not found", None)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_answers_teloxide() {
    use teloxide::prelude::*;
    use teloxide::types::BotCommand;
    let fake = FakeTelegram::start();
    let bot = fake.bot(Duration::from_secs(5));
    let me = bot.get_me().await.expect("getMe");
    assert_eq!(me.username(), "kkachi_test_bot");
    bot.set_my_commands(vec![BotCommand::new("help", "every command")])
        .await
        .expect("setMyCommands");
    bot.delete_webhook().await.expect("deleteWebhook");
    bot.get_webhook_info().await.expect("getWebhookInfo");
    fake.set_admins(-7, &[42]);
    let admins = bot
        .get_chat_administrators(ChatId(-7))
        .await
        .expect("getChatAdministrators");
    assert_eq!(admins[0].user.id.0, 42);
    let m = bot
        .send_message(ChatId(42), "hi")
        .await
        .expect("sendMessage");
    bot.edit_message_text(ChatId(42), m.id, "edited")
        .await
        .expect("editMessageText");
    let id = fake.inject_update(json!({"message": {"message_id": 1, "date": 1_700_000_000,
        "chat": {"id": 42, "type": "private", "first_name": "Reader"},
        "from": {"id": 42, "is_bot": false, "first_name": "Reader"}, "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}));
    let updates = bot
        .get_updates()
        .offset(0)
        .timeout(1)
        .await
        .expect("getUpdates");
    assert_eq!(updates.len(), 1);
    let updates = bot
        .get_updates()
        .offset(id as i32 + 1)
        .timeout(1)
        .await
        .expect("getUpdates");
    assert!(updates.is_empty(), "a confirmed update is not sent again");
    let methods: Vec<String> = fake.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods[..3], ["getme", "setmycommands", "deletewebhook"]);
    fake.fault(Some(42), Fault::RetryAfter(7));
    let e = bot.send_message(ChatId(42), "x").await.expect_err("429");
    assert!(
        matches!(e, teloxide::RequestError::RetryAfter(s) if s.seconds() == 7),
        "{e:?}"
    );
}

/// The story links (`https://news.example.kr/…`) of the alerts among `reqs`, sorted: equal to
/// the expected list when each story arrived exactly once.
pub fn alert_links(reqs: &[Request]) -> Vec<String> {
    let mut links: Vec<String> = reqs
        .iter()
        .filter_map(|r| {
            r.text()
                .split('"')
                .find(|s| s.starts_with("https://news.example.kr/"))
                .map(str::to_string)
        })
        .collect();
    links.sort();
    links
}
