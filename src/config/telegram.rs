//! `[telegram]`: the bot's token file and API server, who may subscribe, the admins, and the
//! send rate limits.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::sink::{Sink, positive};

/// `[telegram]`. The token itself never lives in the TOML: it comes from `$TELOXIDE_TOKEN`,
/// `token_file`, or systemd's `$CREDENTIALS_DIRECTORY/telegram-token`.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramConfig {
    pub token_file: Option<PathBuf>,
    /// A local Bot API server; `$TELOXIDE_API_URL` wins over it.
    pub api_url: Option<url::Url>,
    pub access: Access,
    /// Chat ids that may subscribe when `access = "allowlist"`.
    pub allow: Vec<i64>,
    /// User ids that receive health notices and may use admin commands.
    pub admins: Vec<i64>,
    /// At most this many messages per second to one chat.
    pub per_chat_per_sec: u32,
    /// At most this many messages per minute to one group or channel.
    pub per_group_per_min: u32,
    /// At most this many messages per second overall.
    pub global_per_sec: u32,
    /// At most this many Bot API requests in flight at once (each to a different chat).
    pub max_in_flight: usize,
    /// Telegram Stars paid broadcasts: every message carries `allow_paid_broadcast`, and
    /// `global_per_sec` defaults to [`PAID_GLOBAL_PER_SEC`] instead of 30.
    pub allow_paid_broadcast: bool,
    /// At most this many personal rules (`/watch`) per chat; 0 turns `/watch` off.
    pub max_rules_per_chat: usize,
    /// The longest query `/watch` and `/search` accept, in characters.
    pub max_query_chars: usize,
}

/// `global_per_sec` when `allow_paid_broadcast = true` and `global_per_sec` is not set:
/// Telegram's ceiling for paid broadcasts.
pub const PAID_GLOBAL_PER_SEC: u32 = 1000;

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            token_file: None,
            api_url: None,
            access: Access::Open,
            allow: Vec::new(),
            admins: Vec::new(),
            per_chat_per_sec: 1,
            per_group_per_min: 20,
            global_per_sec: 30,
            max_in_flight: 16,
            allow_paid_broadcast: false,
            max_rules_per_chat: 20,
            max_query_chars: 300,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone may subscribe.
    Open,
    /// Only chats in `allow` may subscribe; others get a polite refusal.
    Allowlist,
}

pub(super) const KEYS: &[&str] = &[
    "token_file",
    "api_url",
    "access",
    "allow",
    "admins",
    "per_chat_per_sec",
    "per_group_per_min",
    "global_per_sec",
    "max_in_flight",
    "allow_paid_broadcast",
    "max_rules_per_chat",
    "max_query_chars",
];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) token_file: Option<Spanned<String>>,
    pub(super) api_url: Option<Spanned<String>>,
    pub(super) access: Option<Spanned<String>>,
    pub(super) allow: Option<Vec<i64>>,
    pub(super) admins: Option<Vec<i64>>,
    pub(super) per_chat_per_sec: Option<Spanned<i64>>,
    pub(super) per_group_per_min: Option<Spanned<i64>>,
    pub(super) global_per_sec: Option<Spanned<i64>>,
    pub(super) max_in_flight: Option<Spanned<i64>>,
    pub(super) allow_paid_broadcast: Option<bool>,
    pub(super) max_rules_per_chat: Option<Spanned<i64>>,
    pub(super) max_query_chars: Option<Spanned<i64>>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw, base: &Path) -> TelegramConfig {
    let d = TelegramConfig::default();
    let api_url = match raw.api_url {
        None => d.api_url,
        Some(u) => match url::Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                sink.error(
                    u.span(),
                    format!(
                        "[telegram] api_url: {:?} is not an http(s) URL",
                        u.get_ref()
                    ),
                );
                None
            }
        },
    };
    let access = match raw.access {
        None => d.access,
        Some(a) => match a.get_ref().as_str() {
            "open" => Access::Open,
            "allowlist" => Access::Allowlist,
            other => {
                sink.error(
                    a.span(),
                    format!("[telegram] access must be \"open\" or \"allowlist\", not {other:?}"),
                );
                d.access
            }
        },
    };
    let paid = raw.allow_paid_broadcast.unwrap_or(d.allow_paid_broadcast);
    TelegramConfig {
        token_file: raw
            .token_file
            .map(|p| base.join(p.get_ref()))
            .or(d.token_file),
        api_url,
        access,
        allow: raw.allow.unwrap_or(d.allow),
        admins: raw.admins.unwrap_or(d.admins),
        per_chat_per_sec: positive(
            sink,
            raw.per_chat_per_sec.as_ref(),
            d.per_chat_per_sec,
            "[telegram] per_chat_per_sec",
        ),
        per_group_per_min: positive(
            sink,
            raw.per_group_per_min.as_ref(),
            d.per_group_per_min,
            "[telegram] per_group_per_min",
        ),
        global_per_sec: positive(
            sink,
            raw.global_per_sec.as_ref(),
            if paid {
                PAID_GLOBAL_PER_SEC
            } else {
                d.global_per_sec
            },
            "[telegram] global_per_sec",
        ),
        max_in_flight: positive(
            sink,
            raw.max_in_flight.as_ref(),
            d.max_in_flight,
            "[telegram] max_in_flight",
        ),
        allow_paid_broadcast: paid,
        max_rules_per_chat: match raw.max_rules_per_chat {
            Some(n) if *n.get_ref() == 0 => 0,
            n => positive(
                sink,
                n.as_ref(),
                d.max_rules_per_chat,
                "[telegram] max_rules_per_chat",
            ),
        },
        max_query_chars: positive(
            sink,
            raw.max_query_chars.as_ref(),
            d.max_query_chars,
            "[telegram] max_query_chars",
        ),
    }
}
