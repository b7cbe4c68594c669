//! The Bot API requests the delivery task makes (`sendMessage`, and `editMessageText` for a
//! folded story's `➕` line), sent with reqwest directly.
//!
//! Owns the request body and the reading of Telegram's answer into a [`Failure`] class.
//! teloxide's request path is not used for delivery because it sleeps 10 s on any 5xx before
//! returning (`DELAY_ON_SERVER_ERROR`): the sender would hold the request, its in-flight mark
//! and the chat for that long, and a kill meanwhile would make a definite "not delivered"
//! look ambiguous. Here a 5xx status is a `Transient` failure the moment its status line is
//! in, and the sender decides when to retry.
//!
//! The client is the one teloxide built ([`super::bot()`]: `default_reqwest_settings()`, our
//! timeout), so TLS, proxy and pool settings are shared with the bot. Descriptions are turned
//! into teloxide's [`ApiError`] through its serde impl, so [`super::classify`]'s semantics hold.
//!
//! Must not: log or return the token. Request URLs carry it: reqwest errors are stripped of
//! their URL (`without_url`) before they become text.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use teloxide::ApiError;

use super::{Bot, Failure, classify_api};

/// `sendMessage`'s body: only what kkachi sets.
#[derive(Debug, Clone, Serialize)]
pub struct SendMessage<'a> {
    pub chat_id: i64,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<&'static str>,
    /// Telegram Stars paid broadcasts: up to 1000 messages/s, charged per message above 30/s.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_paid_broadcast: bool,
    /// Quiet hours in mode silent: the message arrives without a sound.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_notification: bool,
    /// Digests turn link previews off (a preview of the first link would hide the list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_preview_options: Option<LinkPreviewOptions>,
}

/// Bot API `LinkPreviewOptions`: only what kkachi sets.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LinkPreviewOptions {
    pub is_disabled: bool,
}

/// `editMessageText`'s body: only what kkachi sets.
#[derive(Debug, Clone, Serialize)]
pub struct EditMessageText<'a> {
    pub chat_id: i64,
    pub message_id: i32,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<&'static str>,
}

/// The Bot API endpoint of one bot. Cheap to clone (the HTTP client is shared).
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    /// `{api_url}/bot{token}/sendMessage`, or why it cannot be built. Never shown.
    send_message: Result<reqwest::Url, String>,
    /// `{api_url}/bot{token}/editMessageText`, likewise.
    edit_message_text: Result<reqwest::Url, String>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Api(<redacted>)")
    }
}

impl Api {
    /// The endpoint of `bot` (its token, API URL and HTTP client), as teloxide would call it.
    pub fn new(bot: &Bot) -> Api {
        // As teloxide builds it: path segments, so the token's ':' is not read as a scheme.
        let method = |name: &str| {
            let mut url = bot.api_url();
            let built = url.path_segments_mut().map(|mut path| {
                path.pop_if_empty()
                    .push(&format!("bot{}", bot.token()))
                    .push(name);
            });
            built
                .map(|()| url)
                .map_err(|()| "the Bot API URL cannot have a path".to_string())
        };
        Api {
            client: bot.client().clone(),
            send_message: method("sendMessage"),
            edit_message_text: method("editMessageText"),
        }
    }

    /// Sends one message; `Ok` is Telegram's `message_id`.
    pub async fn send_message(&self, body: &SendMessage<'_>) -> Result<i32, Failure> {
        let (status, answer_body) = self.post(&self.send_message, body).await?;
        answer(status, &answer_body)
    }

    /// Edits one message; `Ok` is its `message_id`. An edit that changes nothing ("message is
    /// not modified": it was applied before, e.g. by an attempt whose answer was lost) is done.
    /// A message that can no longer be edited (deleted, too old, not the bot's) is `Rejected`.
    pub async fn edit_message_text(&self, body: &EditMessageText<'_>) -> Result<i32, Failure> {
        let (status, answer_body) = self.post(&self.edit_message_text, body).await?;
        answer_edit(status, &answer_body, body.message_id)
    }

    /// Posts `body` as JSON: the HTTP status (below 500) and the answer's bytes.
    async fn post(
        &self,
        url: &Result<reqwest::Url, String>,
        body: &impl Serialize,
    ) -> Result<(u16, Vec<u8>), Failure> {
        let url = url.clone().map_err(Failure::Unreachable)?;
        let json = serde_json::to_vec(body)
            .map_err(|e| Failure::Rejected(format!("cannot encode the request: {e}")))?;
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        if status >= 500 {
            // Telegram (or the proxy in front of it) failed: nothing was delivered. The body is
            // not waited for.
            return Err(Failure::Transient(format!(
                "telegram server error: HTTP {status}"
            )));
        }
        let body = response.bytes().await.map_err(|e| {
            Failure::Ambiguous(format!(
                "the answer (HTTP {status}) was cut off: {}",
                error_text(&e.without_url())
            ))
        })?;
        Ok((status, body.to_vec()))
    }
}

/// A request that failed before an answer arrived. Only a failure to connect proves that
/// nothing reached Telegram.
fn network(e: reqwest::Error) -> Failure {
    let e = e.without_url();
    if e.is_connect() || e.is_builder() {
        Failure::Unreachable(error_text(&e))
    } else {
        Failure::Ambiguous(error_text(&e))
    }
}

/// The error and its sources on one line (reqwest's own text is terse: "error sending request").
pub(crate) fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        // Wrappers (teloxide's `RequestError::Network`) repeat their source's text.
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    /// A message (`sendMessage`, `editMessageText` of a chat message) or `true`.
    result: Option<serde_json::Value>,
    error_code: Option<i64>,
    description: Option<String>,
    #[serde(default)]
    parameters: Parameters,
}

#[derive(Deserialize)]
struct Sent {
    message_id: i32,
}

#[derive(Deserialize, Default)]
struct Parameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

/// Reads a Bot API answer (HTTP status below 500) into the message id or a [`Failure`]. Pure.
pub fn answer(status: u16, body: &[u8]) -> Result<i32, Failure> {
    let Ok(a) = serde_json::from_slice::<Answer>(body) else {
        return Err(Failure::Ambiguous(format!(
            "unreadable answer from telegram (HTTP {status}, {} bytes)",
            body.len()
        )));
    };
    if a.ok {
        return match a
            .result
            .and_then(|r| serde_json::from_value::<Sent>(r).ok())
        {
            Some(sent) => Ok(sent.message_id),
            None => Err(Failure::Ambiguous(
                "telegram said ok without a message_id".into(),
            )),
        };
    }
    Err(failure(status, a))
}

/// [`answer`] for `editMessageText` of `message_id`: "not modified" is done, and a message
/// that is gone or can no longer be edited is a rejection that says so.
pub fn answer_edit(status: u16, body: &[u8], message_id: i32) -> Result<i32, Failure> {
    let Ok(a) = serde_json::from_slice::<Answer>(body) else {
        return Err(Failure::Ambiguous(format!(
            "unreadable answer from telegram (HTTP {status}, {} bytes)",
            body.len()
        )));
    };
    if a.ok {
        return Ok(message_id);
    }
    let lower = a.description.as_deref().unwrap_or("").to_ascii_lowercase();
    if lower.contains("message is not modified") {
        return Ok(message_id);
    }
    if lower.contains("message to edit not found")
        || lower.contains("message can't be edited")
        || lower.contains("message_id_invalid")
    {
        return Err(Failure::Rejected(format!(
            "the message can no longer be edited: {}",
            a.description.unwrap_or_default()
        )));
    }
    Err(failure(status, a))
}

/// A Bot API answer with `ok: false`, classified.
fn failure(status: u16, a: Answer) -> Failure {
    if let Some(secs) = a.parameters.retry_after {
        return Failure::RetryAfter(Duration::from_secs(secs));
    }
    if let Some(to) = a.parameters.migrate_to_chat_id {
        return Failure::Migrated(to);
    }
    let description = a.description.unwrap_or_else(|| {
        format!(
            "error {} without a description",
            a.error_code.unwrap_or(i64::from(status))
        )
    });
    let api = serde_json::from_value::<ApiError>(serde_json::Value::String(description.clone()))
        .unwrap_or(ApiError::Unknown(description));
    classify_api(&api)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_like_teloxide_reads_them() {
        let cases: &[(u16, &str, Result<i32, Failure>)] = &[
            (
                200,
                r#"{"ok":true,"result":{"message_id":7,"date":1,"chat":{"id":1,"type":"private"}}}"#,
                Ok(7),
            ),
            (
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#,
                Err(Failure::RetryAfter(Duration::from_secs(5))),
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}"#,
                Err(Failure::Migrated(-1_001_234_567_890)),
            ),
            (
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
                Err(Failure::ChatGone(
                    "Forbidden: bot was blocked by the user".into(),
                )),
            ),
            (
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot can't initiate conversation with a user"}"#,
                Err(Failure::ChatGone(
                    "Forbidden: bot can't initiate conversation with a user".into(),
                )),
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}"#,
                Err(Failure::TooLong),
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}"#,
                Err(Failure::Rejected(
                    "Bad Request: message text is empty".into(),
                )),
            ),
            (
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry later","parameters":{}}"#,
                Err(Failure::Transient("Too Many Requests: retry later".into())),
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(&answer(*status, body.as_bytes()), want, "{body}");
        }
        assert!(matches!(
            answer(
                400,
                br#"{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"p\" at byte offset 12"}"#
            ),
            Err(Failure::CantParse(_))
        ));
        assert!(matches!(
            answer(
                400,
                br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#
            ),
            Err(Failure::ChatGone(_))
        ));
        assert!(matches!(
            answer(200, b"<html>gateway</html>"),
            Err(Failure::Ambiguous(_))
        ));
        assert!(matches!(
            answer(
                401,
                br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#
            ),
            Err(Failure::Unreachable(_))
        ));
    }

    #[test]
    fn the_body_has_only_what_kkachi_sets() {
        let body = SendMessage {
            chat_id: -5,
            text: "<b>x</b>",
            parse_mode: Some("HTML"),
            allow_paid_broadcast: false,
            disable_notification: false,
            link_preview_options: None,
        };
        assert_eq!(
            serde_json::to_string(&body).expect("json"),
            r#"{"chat_id":-5,"text":"<b>x</b>","parse_mode":"HTML"}"#
        );
        let digest = SendMessage {
            disable_notification: true,
            link_preview_options: Some(LinkPreviewOptions { is_disabled: true }),
            ..body.clone()
        };
        assert_eq!(
            serde_json::to_string(&digest).expect("json"),
            r#"{"chat_id":-5,"text":"<b>x</b>","parse_mode":"HTML","disable_notification":true,"link_preview_options":{"is_disabled":true}}"#
        );
        let paid = SendMessage {
            parse_mode: None,
            allow_paid_broadcast: true,
            ..body
        };
        assert_eq!(
            serde_json::to_string(&paid).expect("json"),
            r#"{"chat_id":-5,"text":"<b>x</b>","allow_paid_broadcast":true}"#
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_and_its_text_has_no_token() {
        let token = crate::telegram::resolve_token(&Default::default(), |k| {
            (k == "TELOXIDE_TOKEN").then(|| "123:SECRET-xyz".into())
        })
        .expect("token")
        .expect("some");
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}")).expect("url");
        let bot = crate::telegram::bot(&token, Some(url), Duration::from_secs(2)).expect("bot");
        let body = SendMessage {
            chat_id: 1,
            text: "x",
            parse_mode: None,
            allow_paid_broadcast: false,
            disable_notification: false,
            link_preview_options: None,
        };
        match Api::new(&bot).send_message(&body).await {
            Err(Failure::Unreachable(text)) => assert!(!text.contains("SECRET"), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_token_never_shows() {
        let token = crate::telegram::resolve_token(&Default::default(), |k| {
            (k == "TELOXIDE_TOKEN").then(|| "123:SECRET-xyz".into())
        })
        .expect("token")
        .expect("some");
        let bot = crate::telegram::bot(&token, None, Duration::from_secs(1)).expect("bot");
        assert_eq!(format!("{:?}", Api::new(&bot)), "Api(<redacted>)");
    }
}
