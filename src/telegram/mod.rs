//! Telegram: the only module that knows teloxide.
//!
//! Owns the bot token (resolved from `$TELOXIDE_TOKEN`, `[telegram] token_file` or systemd's
//! `$CREDENTIALS_DIRECTORY/telegram-token`; never from the TOML, never logged), rendering
//! alerts ([`render`], pure; Telegram's [`render::MESSAGE_LIMIT`]), the delivery task that
//! drains the outbox ([`send`]), the bot people talk to ([`mod@bot`]: commands, subscriptions),
//! and the classification of Bot API errors ([`classify`]).
//!
//! Which chats get an alert is `deliver::route`'s (pure policy, no teloxide).
//!
//! Must not: touch sled directly (the outbox lives in `store`), or fetch feeds.

pub mod api;
pub mod bot;
pub mod render;
pub mod send;

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The Bot API client (teloxide's), cheap to clone: the delivery task and the bot share one.
pub use teloxide::Bot;
use teloxide::{ApiError, RequestError};

use crate::config::TelegramConfig;

/// The bot token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The secret itself, for teloxide only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the telegram token file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the telegram token from {from} is empty")]
    Empty { from: String },
    #[error(
        "the telegram token from {from} does not look like a bot token (expected DIGITS:SECRET)"
    )]
    Malformed { from: String },
    #[error("$TELOXIDE_API_URL: {value:?} is not an http(s) URL")]
    ApiUrl { value: String },
}

/// Finds the token: `$TELOXIDE_TOKEN`, else `token_file`, else
/// `$CREDENTIALS_DIRECTORY/telegram-token` when that file exists. `Ok(None)`: no token, so no
/// bot (alerts go to stdout). `env` is `std::env::var_os` outside tests.
pub fn resolve_token(
    cfg: &TelegramConfig,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Option<Token>, TokenError> {
    if let Some(v) = env("TELOXIDE_TOKEN") {
        return check_token(&v.to_string_lossy(), "$TELOXIDE_TOKEN").map(Some);
    }
    let read = |path: PathBuf| -> Result<Token, TokenError> {
        let text = std::fs::read_to_string(&path).map_err(|source| TokenError::Read {
            path: path.clone(),
            source,
        })?;
        check_token(&text, &path.display().to_string())
    };
    if let Some(path) = &cfg.token_file {
        return read(path.clone()).map(Some);
    }
    if let Some(dir) = env("CREDENTIALS_DIRECTORY") {
        let path = PathBuf::from(dir).join("telegram-token");
        if path.is_file() {
            return read(path).map(Some);
        }
    }
    Ok(None)
}

fn check_token(raw: &str, from: &str) -> Result<Token, TokenError> {
    let token = raw.trim();
    if token.is_empty() {
        return Err(TokenError::Empty {
            from: from.to_string(),
        });
    }
    let well_formed = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !secret.is_empty()
    }) && !token.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(TokenError::Malformed {
            from: from.to_string(),
        });
    }
    Ok(Token(token.to_string()))
}

/// The Bot API server: `$TELOXIDE_API_URL` wins over `[telegram] api_url`; `None` is
/// Telegram's own.
pub fn api_url(
    cfg: &TelegramConfig,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Option<url::Url>, TokenError> {
    match env("TELOXIDE_API_URL") {
        Some(v) => {
            let value = v.to_string_lossy().trim_end_matches('/').to_string();
            match url::Url::parse(&value) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(Some(u)),
                _ => Err(TokenError::ApiUrl { value }),
            }
        }
        None => Ok(cfg.api_url.clone()),
    }
}

/// A bot whose HTTP requests time out after `timeout` (keep it above the long-poll timeout).
pub fn bot(
    token: &Token,
    api_url: Option<url::Url>,
    timeout: Duration,
) -> Result<Bot, reqwest_error::ClientError> {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(timeout)
        .build()
        .map_err(|e| reqwest_error::ClientError(e.to_string()))?;
    let bot = Bot::with_client(token.expose(), client);
    Ok(match api_url {
        Some(url) => bot.set_api_url(url),
        None => bot,
    })
}

pub mod reqwest_error {
    /// The HTTP client could not be built (TLS setup).
    #[derive(Debug, thiserror::Error)]
    #[error("cannot build the telegram http client: {0}")]
    pub struct ClientError(pub String);
}

/// What a failed Bot API request means for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 429: this chat waits that long; other chats keep flowing.
    RetryAfter(Duration),
    /// The group became a supergroup with this id: rewrite the chat and resend.
    Migrated(i64),
    /// "can't parse entities": resend as plain text.
    CantParse(String),
    /// "message is too long": split smaller and resend.
    TooLong,
    /// Blocked, deactivated, kicked, chat not found, any `Forbidden:`: end the chat.
    ChatGone(String),
    /// Any other rejection of this message (a 4xx): drop it, log it.
    Rejected(String),
    /// Telegram failed (5xx) or answered with an unknown non-4xx complaint: nothing was
    /// delivered; this chat retries after a backoff, other chats keep flowing.
    Transient(String),
    /// The request provably did not reach Telegram (no connection), or the token is refused:
    /// every chat would fail alike, so new requests wait for a backoff (those in flight go on).
    Unreachable(String),
    /// The request may have reached Telegram but the answer was lost (timeout after sending,
    /// unreadable answer): resend at most once.
    Ambiguous(String),
}

/// Classifies a teloxide error. teloxide matches Telegram's description text, not the status
/// code, so unknown descriptions are sorted by their prefix.
pub fn classify(e: &RequestError) -> Failure {
    match e {
        RequestError::RetryAfter(s) => {
            Failure::RetryAfter(Duration::from_secs(u64::from(s.seconds())))
        }
        RequestError::MigrateToChatId(id) => Failure::Migrated(id.0),
        RequestError::Api(api) => classify_api(api),
        RequestError::Network(n) if n.is_connect() || n.is_builder() => {
            Failure::Unreachable(e.to_string())
        }
        RequestError::Network(_) | RequestError::InvalidJson { .. } => {
            Failure::Ambiguous(e.to_string())
        }
        RequestError::Io(_) => Failure::Transient(e.to_string()),
    }
}

pub(crate) fn classify_api(api: &ApiError) -> Failure {
    let text = match api {
        ApiError::Unknown(s) => s.clone(),
        other => other.to_string(),
    };
    match api {
        ApiError::CantParseEntities(s) => Failure::CantParse(s.clone()),
        ApiError::MessageIsTooLong | ApiError::EditedMessageIsTooLong => Failure::TooLong,
        ApiError::BotBlocked
        | ApiError::UserDeactivated
        | ApiError::ChatNotFound
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots => Failure::ChatGone(text),
        // A wrong token fails every request alike: back off, the admin sees it in the log.
        ApiError::InvalidToken => Failure::Unreachable(text),
        _ if text.starts_with("Forbidden:") => Failure::ChatGone(text),
        ApiError::Unknown(_)
            if !(text.starts_with("Bad Request") || text.starts_with("Unauthorized")) =>
        {
            // "Internal Server Error", "Bad Gateway", a 429 without parameters…
            Failure::Transient(text)
        }
        _ => Failure::Rejected(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn token_sources_in_order_and_never_shown() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tok");
        std::fs::write(&file, "111:from-file\n").expect("write");
        std::fs::write(dir.path().join("telegram-token"), "222:from-creds").expect("write");
        let creds = dir.path().to_string_lossy().into_owned();
        let with_file = TelegramConfig {
            token_file: Some(file.clone()),
            ..Default::default()
        };
        let none = TelegramConfig::default();

        let t = resolve_token(
            &with_file,
            env(&[
                ("TELOXIDE_TOKEN", "333:env"),
                ("CREDENTIALS_DIRECTORY", &creds),
            ]),
        );
        assert_eq!(t.expect("ok").expect("some").expose(), "333:env");
        let t = resolve_token(&with_file, env(&[("CREDENTIALS_DIRECTORY", &creds)]));
        assert_eq!(t.expect("ok").expect("some").expose(), "111:from-file");
        let t = resolve_token(&none, env(&[("CREDENTIALS_DIRECTORY", &creds)]));
        let t = t.expect("ok").expect("some");
        assert_eq!(t.expose(), "222:from-creds");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert!(resolve_token(&none, env(&[])).expect("ok").is_none());

        let err =
            resolve_token(&none, env(&[("TELOXIDE_TOKEN", "not a token")])).expect_err("malformed");
        assert!(!err.to_string().contains("not a token"), "{err}");
        let missing = TelegramConfig {
            token_file: Some(dir.path().join("nope")),
            ..Default::default()
        };
        let err = resolve_token(&missing, env(&[])).expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("cannot read the telegram token file"),
            "{err}"
        );
    }

    #[test]
    fn api_url_from_env_wins() {
        let cfg = TelegramConfig {
            api_url: url::Url::parse("http://local:8081").ok(),
            ..Default::default()
        };
        let u = api_url(&cfg, env(&[("TELOXIDE_API_URL", "http://127.0.0.1:9/")]))
            .expect("ok")
            .expect("some");
        assert_eq!(u.as_str(), "http://127.0.0.1:9/");
        assert_eq!(api_url(&cfg, env(&[])).expect("ok"), cfg.api_url);
        assert!(api_url(&cfg, env(&[("TELOXIDE_API_URL", "ftp://x")])).is_err());
    }

    #[test]
    fn errors_are_classified() {
        use teloxide::types::{ChatId, Seconds};
        let api = |s: &str| RequestError::Api(ApiError::Unknown(s.to_string()));
        let cases = [
            (
                RequestError::RetryAfter(Seconds::from_seconds(5)),
                Failure::RetryAfter(Duration::from_secs(5)),
            ),
            (
                RequestError::MigrateToChatId(ChatId(-100123)),
                Failure::Migrated(-100123),
            ),
            (
                RequestError::Api(ApiError::MessageIsTooLong),
                Failure::TooLong,
            ),
            (
                api("Internal Server Error"),
                Failure::Transient("Internal Server Error".into()),
            ),
            (
                api("Bad Request: message text is empty"),
                Failure::Rejected("Bad Request: message text is empty".into()),
            ),
            (
                api("Forbidden: bot can't initiate conversation with a user"),
                Failure::ChatGone("Forbidden: bot can't initiate conversation with a user".into()),
            ),
        ];
        for (e, want) in cases {
            assert_eq!(classify(&e), want, "{e:?}");
        }
        assert!(matches!(
            classify(&RequestError::Api(ApiError::BotBlocked)),
            Failure::ChatGone(_)
        ));
        assert!(matches!(
            classify(&RequestError::Api(ApiError::ChatNotFound)),
            Failure::ChatGone(_)
        ));
        assert!(matches!(
            classify(&RequestError::Api(ApiError::UserDeactivated)),
            Failure::ChatGone(_)
        ));
        assert!(matches!(
            classify(&RequestError::Api(ApiError::CantParseEntities(
                "Bad Request: can't parse entities: x".into()
            ))),
            Failure::CantParse(_)
        ));
    }
}
