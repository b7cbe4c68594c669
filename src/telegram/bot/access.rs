//! Who is asking (and in which Telegram language), and whether they may change a chat's
//! subscriptions: the access mode (`open` or `allowlist`), group administrators, kkachi
//! admins, and the refusal each gets.
//!
//! Must not: change anything (it answers yes or no; the handlers act).

use teloxide::Bot;
use teloxide::prelude::{Message, Requester};
use teloxide::types::{ChatId, UserId};

use super::{BotError, Settings};
use crate::config::Access;
use crate::i18n::{Lang, s, t};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Private,
    Group,
    Channel,
}

/// The chat a command came from (and its forum topic) and who sent it.
#[derive(Debug, Clone)]
pub(super) struct Asker {
    pub(super) chat: i64,
    /// The forum topic the message was posted in (`message_thread_id` when
    /// `is_topic_message`): subscriptions made there are that topic's.
    pub(super) thread: Option<i32>,
    pub(super) kind: Kind,
    pub(super) user: Option<i64>,
    /// A group administrator posting as the group itself.
    pub(super) anonymous_admin: bool,
    /// The sender's Telegram `language_code` (`ko`, `en-US`), when Telegram gives one.
    pub(super) lang_code: Option<String>,
}

impl Asker {
    pub(super) fn of_message(msg: &Message) -> Asker {
        Asker {
            chat: msg.chat.id.0,
            thread: topic_of(msg),
            kind: kind(&msg.chat),
            user: msg.from.as_ref().and_then(|u| i64::try_from(u.id.0).ok()),
            anonymous_admin: msg
                .sender_chat
                .as_ref()
                .is_some_and(|c| c.id == msg.chat.id),
            lang_code: msg.from.as_ref().and_then(|u| u.language_code.clone()),
        }
    }
}

impl Asker {
    /// Where the command acts and the bot answers: the forum topic it came from, else the
    /// whole chat.
    pub(super) fn dest(&self) -> crate::deliver::Dest {
        crate::deliver::Dest {
            chat: self.chat,
            thread: self.thread,
        }
    }
}

/// The forum topic a message is in. A reply thread of an ordinary group also has a
/// `thread_id`, but no `is_topic_message`: that is the whole chat.
pub(super) fn topic_of(msg: &Message) -> Option<i32> {
    msg.thread_id
        .filter(|_| msg.is_topic_message)
        .map(|t| t.0.0)
}

pub(super) fn kind(chat: &teloxide::types::Chat) -> Kind {
    if chat.is_private() {
        Kind::Private
    } else if chat.is_channel() {
        Kind::Channel
    } else {
        Kind::Group
    }
}

/// Whether a chat may change its subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    Open,
    /// `access = "allowlist"` and the chat is not in `allow`.
    NotAllowed,
    /// A group member who is neither a group administrator nor a kkachi admin.
    NotAdmin,
}

impl Settings {
    pub(super) fn is_admin(&self, user: Option<i64>) -> bool {
        user.is_some_and(|u| self.admins.contains(&u))
    }

    /// The allowlist alone (reading `/topics` and `/list`).
    pub(super) fn allowed(&self, who: &Asker) -> bool {
        self.access == Access::Open || self.allow.contains(&who.chat) || self.is_admin(who.user)
    }
}

/// Full check for a change: the allowlist, then, in groups, the group's administrators.
pub(super) async fn gate(bot: &Bot, settings: &Settings, who: &Asker) -> Result<Gate, BotError> {
    if settings.is_admin(who.user) {
        return Ok(Gate::Open);
    }
    if !settings.allowed(who) {
        return Ok(Gate::NotAllowed);
    }
    // In a channel only its administrators can post at all.
    if who.kind != Kind::Group || who.anonymous_admin {
        return Ok(Gate::Open);
    }
    let Some(user) = who.user.and_then(|u| u64::try_from(u).ok()) else {
        return Ok(Gate::NotAdmin);
    };
    let admins = bot.get_chat_administrators(ChatId(who.chat)).await?;
    Ok(if admins.iter().any(|m| m.user.id == UserId(user)) {
        Gate::Open
    } else {
        Gate::NotAdmin
    })
}

pub(super) fn refusal(lang: Lang, gate: Gate, who: &Asker) -> String {
    match gate {
        Gate::Open => String::new(),
        Gate::NotAllowed => t(
            lang,
            "refuse-not-allowed",
            &[("chat", s(who.chat.to_string()))],
        ),
        Gate::NotAdmin => t(lang, "refuse-not-admin", &[]),
    }
}
