//! The bot people talk to: commands, the `/topics` and `/settings` keyboards, and the
//! subscriptions and chat preferences they change.
//!
//! - `commands`: the command set, what each does, every reply's wording;
//! - `keyboards`: the `/topics` message and its buttons' callback data;
//! - `settings`: the `/settings` message (delivery per topic, time zone, quiet hours), its
//!   buttons' callback data and what a tap changes;
//! - `status`: `/status` for kkachi admins;
//! - `access`: who may change a chat's subscriptions (access mode, group administrators,
//!   kkachi admins);
//! - `dispatcher`: the long-polling dispatcher's lifecycle ([`run`], [`spawn`]) and the
//!   handlers that answer a message or a button tap.
//!
//! This file holds what they share: [`Settings`], the handlers' [`Ctx`] with its live rules
//! and settings ([`Live`]), [`BotError`] and a `Reply`.
//!
//! Must not: send alerts or touch the outbox (that is [`super::send`]), decide who gets a
//! story (that is [`crate::deliver::route()`], which already skips paused chats and delivers to the
//! static `chats = [..]` of `rules.toml`), touch sled (subscriptions go through
//! `store::outbox`), or log the token.
//!
//! Invariant: every reply is HTML with every piece of user, rule and feed text escaped by
//! [`render::escape`].

mod access;
mod commands;
mod dispatcher;
mod keyboards;
mod settings;
mod status;

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use teloxide::RequestError;
use teloxide::types::InlineKeyboardMarkup;
use tokio::sync::watch;

use super::render;
use crate::config::{Access, Config};
use crate::digest::schedule::Delivery;
use crate::rules::RuleSet;
use crate::store::{Store, StoreError};

pub use commands::{Command, RECENT_MAX, RECENT_WINDOW, registered_commands};
pub use dispatcher::{BotTask, run, spawn};

/// The long-poll timeout: below the HTTP client's timeout (`app::TELEGRAM_TIMEOUT`, 20 s) so
/// that an idle poll ends with an empty answer, not a client error.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// The rules the bot shows and accepts. A `watch` receiver rather than a bare `Arc` so that a
/// reload publishes a new snapshot (through [`Live`]) and the bot sees it on its next command,
/// without restarting the dispatcher.
pub type Rules = watch::Receiver<Arc<RuleSet>>;

/// How the bot behaves, from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub access: Access,
    /// Chats that may subscribe with `access = "allowlist"`.
    pub allow: Vec<i64>,
    /// User ids that may use `/status` and change any chat's subscriptions.
    pub admins: Vec<i64>,
    pub timezone: Tz,
    /// `[delivery] default`: the mode `/subscribe` stores for a newly subscribed topic.
    pub delivery: Delivery,
    /// Enabled feeds, by name, for `/start` and `/status`.
    pub feeds: Vec<String>,
    /// Long-poll timeout; keep it below the HTTP client's timeout.
    pub poll_timeout: Duration,
}

impl Settings {
    pub fn new(config: &Config) -> Settings {
        let tg = &config.telegram;
        Settings {
            access: tg.access,
            allow: tg.allow.clone(),
            admins: tg.admins.clone(),
            timezone: config.schedule.timezone,
            delivery: config.delivery.default,
            feeds: config
                .feeds
                .iter()
                .filter(|f| f.enabled)
                .map(|f| f.name.clone())
                .collect(),
            poll_timeout: POLL_TIMEOUT,
        }
    }
}

/// What the handlers share. Rules and settings are live: a reload publishes new ones through
/// the [`Live`] returned by [`Ctx::new`], and the next update sees them.
pub struct Ctx {
    pub store: Arc<Store>,
    rules: Rules,
    settings: watch::Receiver<Arc<Settings>>,
}

/// Publishes reloaded rules and settings to a running bot.
pub struct Live {
    rules: watch::Sender<Arc<RuleSet>>,
    settings: watch::Sender<Arc<Settings>>,
}

impl Live {
    pub fn update(&self, rules: Arc<RuleSet>, settings: Settings) {
        self.rules.send_replace(rules);
        self.settings.send_replace(Arc::new(settings));
    }
}

impl Ctx {
    pub fn new(store: Arc<Store>, rules: Arc<RuleSet>, settings: Settings) -> (Ctx, Live) {
        let (rules_tx, rules) = watch::channel(rules);
        let (settings_tx, settings) = watch::channel(Arc::new(settings));
        let live = Live {
            rules: rules_tx,
            settings: settings_tx,
        };
        (
            Ctx {
                store,
                rules,
                settings,
            },
            live,
        )
    }

    fn rules(&self) -> Arc<RuleSet> {
        self.rules.borrow().clone()
    }

    fn settings(&self) -> Arc<Settings> {
        self.settings.borrow().clone()
    }
}

/// Why a handler failed. Logged; the user gets an apology when the store failed.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("telegram request failed: {0}")]
    Telegram(#[from] RequestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A reply: HTML text and, for `/topics` and `/settings`, its keyboard.
#[derive(Debug, Clone, PartialEq)]
struct Reply {
    html: String,
    keyboard: Option<InlineKeyboardMarkup>,
}

impl Reply {
    fn html(html: impl Into<String>) -> Reply {
        Reply {
            html: html.into(),
            keyboard: None,
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

use crate::text::trim_chars;

#[cfg(test)]
mod testing {
    use crate::rules::RuleSet;

    pub(super) fn rules(src: &str) -> RuleSet {
        crate::rules::load(src, std::path::Path::new("rules.toml"))
            .expect("rules")
            .rules
    }

    pub(super) const RULES: &str = "[[rules]]\nname = \"ai\"\nquery = \"AI\"\ndescription = \"AI & <chips>\"\n\
                                    [[rules]]\nname = \"chips\"\nquery = \"반도체\"\nchats = [-100777]\n";
}
