//! The `/topics` keyboard: its message (every rule, marked when the chat follows it, within
//! one message) and its buttons' callback data, which must fit Telegram's 64 bytes and
//! survive a reload.
//!
//! Must not: change subscriptions (a tap is handled in [`super::dispatcher`]).

use sha2::{Digest, Sha256};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::render::{self, MESSAGE_LIMIT};
use super::{Reply, trim_chars};
use crate::i18n::{Lang, n, t};
use crate::rules::RuleSet;
use crate::store::outbox::Subscription;

/// Telegram allows at most 64 bytes of callback data.
const CALLBACK_DATA_MAX: usize = 64;

/// At most this many topics get a button (Telegram caps inline keyboards at 100 buttons).
const MAX_BUTTONS: usize = 90;

/// `/topics`: every rule with its description, marked when this chat follows it, and a
/// button per rule that subscribes or unsubscribes. Within one message.
pub(super) fn topics(
    lang: Lang,
    rules: &RuleSet,
    sub: &Subscription,
    dest: crate::deliver::Dest,
) -> Reply {
    if rules.is_empty() {
        return Reply::html(t(lang, "topics-none", &[]));
    }
    let mut html = t(lang, "topics-head", &[]);
    html.push('\n');
    let mut buttons = Vec::new();
    let budget = MESSAGE_LIMIT - 300;
    let mut left_out = 0;
    for r in rules.rules() {
        let on = sub.rules.contains(&r.name);
        let fixed = r.chats.contains(&dest);
        let mut line = format!(
            "\n{} <b>{}</b>",
            if on || fixed { "✅" } else { "▫️" },
            render::escape(&r.name)
        );
        let desc = r.description.trim();
        if !desc.is_empty() {
            line.push_str(" — ");
            line.push_str(&render::escape(&trim_chars(desc, 150)));
        }
        if fixed {
            line.push_str(&format!(" <i>{}</i>", t(lang, "topics-fixed", &[])));
        }
        if buttons.len() >= MAX_BUTTONS
            || render::utf16_len(&html) + render::utf16_len(&line) > budget
        {
            left_out += 1;
            continue;
        }
        html.push_str(&line);
        let (label, data) = if on {
            (
                format!("✅ {}", r.name),
                callback_data(Action::Unsubscribe, &r.name),
            )
        } else {
            (
                format!("➕ {}", r.name),
                callback_data(Action::Subscribe, &r.name),
            )
        };
        buttons.push(InlineKeyboardButton::callback(trim_chars(&label, 40), data));
    }
    if left_out > 0 {
        html.push_str("\n\n");
        html.push_str(&t(lang, "topics-more", &[("n", n(left_out))]));
    }
    if sub.paused {
        html.push_str("\n\n");
        html.push_str(&t(lang, "paused-note", &[]));
    }
    html.push_str("\n\n");
    html.push_str(&t(lang, "topics-tap", &[]));
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons.chunks(2).map(<[_]>::to_vec).collect();
    Reply {
        html,
        keyboard: Some(InlineKeyboardMarkup::new(rows)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Subscribe,
    Unsubscribe,
}

/// `s:NAME` / `u:NAME`; a name too long for Telegram's 64 bytes goes as `S#`/`U#` and the
/// first 16 hex digits of its SHA-256. The action is explicit (not "toggle"), so a double tap
/// does not undo itself.
fn callback_data(action: Action, name: &str) -> String {
    let (short, long) = match action {
        Action::Subscribe => ("s:", "S#"),
        Action::Unsubscribe => ("u:", "U#"),
    };
    if short.len() + name.len() <= CALLBACK_DATA_MAX {
        format!("{short}{name}")
    } else {
        format!("{long}{}", name_hash(name))
    }
}

fn name_hash(name: &str) -> String {
    hex::encode(&Sha256::digest(name.as_bytes())[..8])
}

/// The action and rule name of a button, against the current rules (a hashed name must
/// still exist to be resolved).
pub(super) fn parse_callback(data: &str, rules: &RuleSet) -> Option<(Action, String)> {
    let (tag, rest) = data.split_at_checked(2)?;
    let by_hash = |h: &str| {
        rules
            .rules()
            .iter()
            .find(|r| name_hash(&r.name) == h)
            .map(|r| r.name.clone())
    };
    match tag {
        "s:" => Some((Action::Subscribe, rest.to_string())),
        "u:" => Some((Action::Unsubscribe, rest.to_string())),
        "S#" => by_hash(rest).map(|n| (Action::Subscribe, n)),
        "U#" => by_hash(rest).map(|n| (Action::Unsubscribe, n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::bot::testing::{RULES, rules};

    #[test]
    fn topics_buttons_round_trip_even_for_long_names() {
        let long = "x".repeat(80);
        let src = format!("{RULES}[[rules]]\nname = \"{long}\"\nquery = \"y\"\n");
        let rules = rules(&src);
        let sub = Subscription {
            rules: ["ai".to_string()].into(),
            ..Default::default()
        };
        let reply = topics(Lang::En, &rules, &sub, 1.into());
        let kb = reply.keyboard.expect("keyboard");
        let buttons: Vec<&InlineKeyboardButton> = kb.inline_keyboard.iter().flatten().collect();
        assert_eq!(buttons.len(), 3);
        let datas: Vec<String> = buttons
            .iter()
            .map(|b| match &b.kind {
                teloxide::types::InlineKeyboardButtonKind::CallbackData(d) => d.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(datas[0], "u:ai");
        assert_eq!(datas[1], "s:chips");
        assert!(datas.iter().all(|d| d.len() <= CALLBACK_DATA_MAX));
        assert_eq!(
            parse_callback(&datas[2], &rules),
            Some((Action::Subscribe, long.clone()))
        );
        assert_eq!(parse_callback("zz", &rules), None);
        assert!(
            reply.html.contains("✅ <b>ai</b> — AI &amp; &lt;chips&gt;"),
            "{}",
            reply.html
        );
    }
}
