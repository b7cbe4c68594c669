//! The commands: the set (the `#[derive(BotCommands)]` doc comments are the `/help` text and
//! what `setMyCommands` registers), what each one does, and every reply's wording.
//!
//! The subscription changes themselves are pure ([`apply`]); a new subscription is shown the
//! recent stories that match it. Unknown commands and wrong arguments get a helpful answer.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use teloxide::Bot;
use teloxide::types::BotCommand;
use teloxide::utils::command::BotCommands;

use super::access::{Asker, Gate, gate, refusal};
use super::keyboards::topics;
use super::render;
use super::settings::{Screen, set_zone, view};
use super::status::status;
use super::{BotError, Ctx, Reply, Settings, plural, trim_chars};
use crate::rules::RuleSet;
use crate::store::outbox::Subscription;
use crate::store::{Store, StoreError};

/// kkachi understands these commands:
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// welcome, and what kkachi watches
    Start,
    /// every command
    Help,
    /// the topics you can follow, with buttons to subscribe or unsubscribe
    Topics,
    /// NAME [NAME…]: get alerts for these topics
    Subscribe(String),
    /// NAME [NAME…] or all: stop alerts for these topics
    Unsubscribe(String),
    /// this chat's subscriptions
    List,
    /// stop alerts to this chat, keeping its subscriptions
    Pause,
    /// alerts again after /pause
    Resume,
    /// feeds, queue and subscribers (kkachi admins only)
    Status,
    /// delivery per topic (instant, digests, off), time zone, quiet hours; tz NAME sets the zone
    Settings(String),
}

/// The command list for `setMyCommands`: Telegram wants the names without the slash that
/// teloxide's derive puts in front.
pub fn registered_commands() -> Vec<BotCommand> {
    Command::bot_commands()
        .into_iter()
        .map(|c| BotCommand::new(c.command.trim_start_matches('/'), c.description))
        .collect()
}

/// Lower-cases the command word (`/Subscribe@Bot` works like `/subscribe@bot`) and makes the
/// first whitespace after it a single space, which is what the derived parser splits on.
pub(super) fn normalize(text: &str) -> String {
    let text = text.trim();
    match text.find(char::is_whitespace) {
        Some(i) => format!("{} {}", text[..i].to_lowercase(), text[i..].trim_start()),
        None => text.to_lowercase(),
    }
}

pub(super) async fn execute(
    bot: &Bot,
    ctx: &Ctx,
    who: &Asker,
    cmd: Command,
) -> Result<Reply, BotError> {
    let settings = &*ctx.settings();
    let rules = ctx.rules();
    let store = &ctx.store;
    match cmd {
        Command::Start => {
            let mut text = welcome(&rules, settings);
            if settings.allowed(who) {
                // Talking to the bot again revives a chat that had ended (blocked, then
                // unblocked): its kept rule names apply again.
                if let Some(mut sub) = store.subscription(who.chat)?
                    && sub.ended.is_some()
                {
                    sub.ended = None;
                    store.set_subscription(who.chat, &sub)?;
                    text.push_str("\n\nWelcome back: your earlier subscriptions are active again.");
                }
            } else {
                text.push_str("\n\n");
                text.push_str(&refusal(Gate::NotAllowed, who));
            }
            Ok(Reply::html(text))
        }
        Command::Help => Ok(Reply::html(help())),
        Command::Topics => {
            if !settings.allowed(who) {
                return Ok(Reply::html(refusal(Gate::NotAllowed, who)));
            }
            let sub = store.subscription(who.chat)?.unwrap_or_default();
            Ok(topics(&rules, &sub, who.chat))
        }
        Command::List => {
            if !settings.allowed(who) {
                return Ok(Reply::html(refusal(Gate::NotAllowed, who)));
            }
            let sub = store.subscription(who.chat)?.unwrap_or_default();
            Ok(Reply::html(list(&rules, &sub, who.chat)))
        }
        Command::Status => {
            if !settings.is_admin(who.user) {
                return Ok(Reply::html("Only kkachi's admins can use /status."));
            }
            Ok(Reply::html(status(store, &rules, settings, Utc::now())?))
        }
        Command::Settings(args) => {
            let g = gate(bot, settings, who).await?;
            if g != Gate::Open {
                return Ok(Reply::html(refusal(g, who)));
            }
            let mut prefs = store.chat_prefs(who.chat)?;
            let sub = store.subscription(who.chat)?.unwrap_or_default();
            let args = args.trim();
            let (word, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
            if args.is_empty() {
                return Ok(view(&rules, &sub, &prefs, settings.timezone, Screen::Main));
            }
            if !word.eq_ignore_ascii_case("tz") {
                return Ok(Reply::html(
                    "Send /settings for the settings buttons, or \
                     <code>/settings tz CITY</code> to set this chat's time zone.",
                ));
            }
            match set_zone(&mut prefs, rest) {
                Ok(text) => {
                    store.set_chat_prefs(who.chat, &prefs)?;
                    super::settings::reschedule(store, who.chat, &sub, &prefs, settings.timezone)?;
                    let mut reply = view(&rules, &sub, &prefs, settings.timezone, Screen::Main);
                    reply.html = format!("{text}\n\n{}", reply.html);
                    Ok(reply)
                }
                Err(text) => Ok(Reply::html(text)),
            }
        }
        change @ (Command::Subscribe(_)
        | Command::Unsubscribe(_)
        | Command::Pause
        | Command::Resume) => {
            let g = gate(bot, settings, who).await?;
            if g != Gate::Open {
                return Ok(Reply::html(refusal(g, who)));
            }
            let mut sub = store.subscription(who.chat)?.unwrap_or_default();
            let before = sub.clone();
            sub.ended = None;
            let mut text = apply(change, &rules, &mut sub);
            default_delivery(&mut sub, &before, settings.delivery);
            if sub != before {
                store.set_subscription(who.chat, &sub)?;
            }
            let added: Vec<String> = sub.rules.difference(&before.rules).cloned().collect();
            if let Some(recent) = recent_matches(store, &rules, &added, settings.timezone)? {
                text.push_str("\n\n");
                text.push_str(&recent);
            }
            Ok(Reply::html(text))
        }
    }
}

/// Stores `[delivery] default` for each topic `sub` follows and `before` did not, unless it
/// is instant (a topic without an entry is instant).
pub(super) fn default_delivery(
    sub: &mut Subscription,
    before: &Subscription,
    default: crate::digest::schedule::Delivery,
) {
    if default == crate::digest::schedule::Delivery::Instant {
        return;
    }
    let added: Vec<String> = sub.rules.difference(&before.rules).cloned().collect();
    for name in added {
        sub.delivery.insert(name, default);
    }
}

/// How far back, and how many, stories a new subscription is shown (so subscribing right after
/// a story broke still shows it).
pub const RECENT_WINDOW: chrono::Duration = chrono::Duration::hours(24);
pub const RECENT_MAX: usize = 3;

/// The newest stories of the last [`RECENT_WINDOW`] that match one of `names`, at most
/// [`RECENT_MAX`], as an HTML list; `None` when there are none (or no names).
pub(super) fn recent_matches(
    store: &Store,
    rules: &RuleSet,
    names: &[String],
    tz: Tz,
) -> Result<Option<String>, StoreError> {
    if names.is_empty() {
        return Ok(None);
    }
    let since = Utc::now() - RECENT_WINDOW;
    let stories = store.stories_since(since)?;
    Ok(recent_list(&stories, rules, names, since, tz))
}

/// Pure part of [`recent_matches`].
fn recent_list(
    stories: &[crate::store::StoredStory],
    rules: &RuleSet,
    names: &[String],
    since: DateTime<Utc>,
    tz: Tz,
) -> Option<String> {
    // Published (else first seen) within the window: an old story seen for the first time
    // today is not news.
    let when = |s: &crate::store::StoredStory| {
        s.story
            .published
            .map_or(s.first_seen, |p| p.with_timezone(&Utc))
    };
    let mut matcher = rules.matcher();
    let mut hits: Vec<&crate::store::StoredStory> = stories
        .iter()
        .filter(|s| when(s) >= since)
        .filter(|s| {
            matcher
                .match_doc(&crate::pipeline::doc(&s.story))
                .iter()
                .any(|m| names.contains(&m.rule))
        })
        .collect();
    if hits.is_empty() {
        return None;
    }
    hits.sort_by_key(|s| std::cmp::Reverse(when(s)));
    let total = hits.len();
    hits.truncate(RECENT_MAX);
    let mut out = format!(
        "<b>Recent matches</b> (last {} h{}):",
        RECENT_WINDOW.num_hours(),
        if total > RECENT_MAX {
            format!(", newest {RECENT_MAX} of {total}")
        } else {
            String::new()
        }
    );
    for s in hits {
        out.push_str(&format!(
            "\n• <a href=\"{}\">{}</a> · {} · {}",
            render::escape(&s.story.url),
            render::escape(&s.story.title),
            render::escape(&s.story.feed),
            when(s).with_timezone(&tz).format("%m-%d %H:%M %Z"),
        ));
    }
    Some(out)
}

/// Applies a change command to a chat's subscription and says what happened. Pure.
fn apply(cmd: Command, rules: &RuleSet, sub: &mut Subscription) -> String {
    let names: Vec<&str> = rules.rules().iter().map(|r| r.name.as_str()).collect();
    match cmd {
        Command::Subscribe(args) => {
            let wanted = words(&args);
            if wanted.is_empty() {
                return format!(
                    "Which topics? Send <code>/subscribe NAME</code> with one or more of: {}.\n\
                     Or pick them with buttons: /topics",
                    name_list(&names)
                );
            }
            let (mut added, mut already, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
            for w in wanted {
                if !names.contains(&w.as_str()) {
                    unknown.push(w);
                } else if sub.rules.insert(w.clone()) {
                    added.push(w);
                } else {
                    already.push(w);
                }
            }
            let mut out = Vec::new();
            if !added.is_empty() {
                out.push(format!("Subscribed to {}.", bold_list(&added)));
            }
            if !already.is_empty() {
                out.push(format!("Already subscribed to {}.", bold_list(&already)));
            }
            if !unknown.is_empty() {
                out.push(unknown_rules(&unknown, &names));
            }
            if sub.paused && !added.is_empty() {
                out.push("Alerts to this chat are paused: /resume to get them.".into());
            }
            out.join("\n")
        }
        Command::Unsubscribe(args) => {
            let wanted = words(&args);
            if wanted.is_empty() {
                return "Which topics? Send <code>/unsubscribe NAME</code> or \
                        <code>/unsubscribe all</code>; /list shows yours."
                    .into();
            }
            if wanted.iter().any(|w| w == "all") {
                if sub.rules.is_empty() {
                    return "This chat has no subscriptions.".into();
                }
                let n = sub.rules.len();
                sub.rules.clear();
                return format!(
                    "Unsubscribed from all {n} topic{}. /topics to pick again.",
                    plural(n)
                );
            }
            let (mut removed, mut not_subscribed, mut unknown) =
                (Vec::new(), Vec::new(), Vec::new());
            for w in wanted {
                if sub.rules.remove(&w) {
                    removed.push(w);
                } else if names.contains(&w.as_str()) {
                    not_subscribed.push(w);
                } else {
                    unknown.push(w);
                }
            }
            let mut out = Vec::new();
            if !removed.is_empty() {
                out.push(format!("Unsubscribed from {}.", bold_list(&removed)));
            }
            if !not_subscribed.is_empty() {
                out.push(format!(
                    "This chat was not subscribed to {}.",
                    bold_list(&not_subscribed)
                ));
            }
            if !unknown.is_empty() {
                out.push(unknown_rules(&unknown, &names));
            }
            out.join("\n")
        }
        Command::Pause => {
            if sub.paused {
                "Alerts to this chat were already paused. /resume to get them again.".into()
            } else {
                sub.paused = true;
                "Paused: no alerts to this chat until /resume. Your subscriptions are kept.".into()
            }
        }
        Command::Resume => {
            if sub.paused {
                sub.paused = false;
                "Resumed: alerts to this chat start again with the next new story.".into()
            } else {
                "Alerts to this chat are not paused.".into()
            }
        }
        other => {
            tracing::debug!(command = ?other, "not a change command");
            help()
        }
    }
}

/// Topic names from a command's arguments: split on whitespace and commas, lower-cased,
/// without duplicates, in order.
fn words(args: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    args.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_start_matches('#').to_lowercase())
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

fn bold_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("<b>{}</b>", render::escape(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn name_list(names: &[&str]) -> String {
    if names.is_empty() {
        return "(none yet: kkachi has no rules)".into();
    }
    names
        .iter()
        .map(|n| format!("<code>{}</code>", render::escape(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_rules(unknown: &[String], names: &[&str]) -> String {
    let mut out = Vec::new();
    for u in unknown {
        let hint = crate::diag::did_you_mean(u, names)
            .map(|n| format!(" (did you mean <code>{}</code>?)", render::escape(n)))
            .unwrap_or_default();
        out.push(format!(
            "There is no topic named <code>{}</code>{hint}.",
            render::escape(u)
        ));
    }
    out.push(format!("Topics: {}.", name_list(names)));
    out.join("\n")
}

pub(super) fn help() -> String {
    format!(
        "{}\n\nIn a group, add @ and the bot's name to a command; only the group's \
         administrators can change its subscriptions.",
        render::escape(&Command::descriptions().to_string())
    )
}

pub(super) fn unknown_command(name: &str) -> String {
    let known: Vec<String> = Command::bot_commands()
        .into_iter()
        .map(|c| format!("/{}", c.command.trim_start_matches('/')))
        .collect();
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let hint = crate::diag::did_you_mean(name, &refs)
        .map(|c| format!(" Did you mean {c}?"))
        .unwrap_or_default();
    format!(
        "I don't know the command <code>{}</code>.{hint}\n\n{}",
        render::escape(name),
        help()
    )
}

pub(super) fn not_a_command() -> String {
    format!("I only understand commands.\n\n{}", help())
}

fn welcome(rules: &RuleSet, settings: &Settings) -> String {
    let n = rules.len();
    let f = settings.feeds.len();
    format!(
        "<b>kkachi</b> watches {f} news feed{} for {n} topic{} and sends an alert, once, when \
         a new story matches a topic this chat follows.\n\n\
         /topics shows them with buttons to subscribe in one tap, or send \
         <code>/subscribe NAME</code>. /help lists every command.",
        plural(f),
        plural(n)
    )
}

/// `/list`: the chat's subscriptions, saying which rules are gone from `rules.toml`.
fn list(rules: &RuleSet, sub: &Subscription, chat: i64) -> String {
    let fixed: Vec<String> = rules
        .rules()
        .iter()
        .filter(|r| r.chats.contains(&chat))
        .map(|r| r.name.clone())
        .collect();
    let mut out = Vec::new();
    if sub.rules.is_empty() {
        out.push("This chat has no subscriptions. /topics to pick some.".to_string());
    } else {
        let mut lines = vec!["<b>This chat's subscriptions</b>".to_string()];
        for name in &sub.rules {
            match rules.rules().iter().find(|r| &r.name == name) {
                Some(r) if !r.description.trim().is_empty() => lines.push(format!(
                    "• <b>{}</b> — {}",
                    render::escape(name),
                    render::escape(&trim_chars(r.description.trim(), 150))
                )),
                Some(_) => lines.push(format!("• <b>{}</b>", render::escape(name))),
                None => lines.push(format!(
                    "• <b>{}</b> — <i>gone from rules.toml: kept, and alerts resume if it comes back</i>",
                    render::escape(name)
                )),
            }
        }
        out.push(lines.join("\n"));
    }
    if !fixed.is_empty() {
        out.push(format!(
            "Always sent here by rules.toml: {}.",
            bold_list(&fixed)
        ));
    }
    if sub.paused {
        out.push("Alerts to this chat are paused: /resume to get them.".into());
    }
    out.join("\n\n")
}

#[cfg(test)]
mod tests {
    use teloxide::utils::command::ParseError;

    use super::*;
    use crate::telegram::bot::testing::{RULES, rules};

    #[test]
    fn commands_parse_in_any_case_with_the_bot_name_and_loose_spacing() {
        let p = |t: &str| Command::parse(&normalize(t), "kkachi_test_bot");
        let ok = |t: &str| p(t).ok();
        assert_eq!(ok("/start"), Some(Command::Start));
        assert_eq!(ok("/Start@Kkachi_Test_Bot"), Some(Command::Start));
        assert_eq!(
            ok("/subscribe\n  ai chips"),
            Some(Command::Subscribe("ai chips".into()))
        );
        assert_eq!(ok("/SUBSCRIBE ai"), Some(Command::Subscribe("ai".into())));
        assert!(matches!(
            p("/help@other_bot"),
            Err(ParseError::WrongBotName(_))
        ));
        assert!(matches!(
            p("/frobnicate"),
            Err(ParseError::UnknownCommand(_))
        ));
        assert_eq!(words(" AI, chips  ai #x"), vec!["ai", "chips", "x"]);
    }

    #[test]
    fn every_command_has_a_valid_telegram_description() {
        let cmds = registered_commands();
        assert_eq!(cmds.len(), 10);
        for c in cmds {
            assert!(
                (1..=32).contains(&c.command.len())
                    && c.command
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                c.command
            );
            assert!(
                (1..=256).contains(&c.description.chars().count()),
                "{}",
                c.description
            );
        }
        assert!(help().contains("/unsubscribe"));
        assert!(unknown_command("/subscrbe").contains("Did you mean /subscribe?"));
    }

    #[test]
    fn subscribe_unsubscribe_pause_resume() {
        let rules = rules(RULES);
        let mut sub = Subscription::default();
        let t = apply(Command::Subscribe("ai nope".into()), &rules, &mut sub);
        assert!(t.contains("Subscribed to <b>ai</b>."), "{t}");
        assert!(t.contains("no topic named <code>nope</code>"), "{t}");
        assert!(t.contains("<code>chips</code>"), "{t}");
        assert_eq!(sub.rules, ["ai".to_string()].into());
        let t = apply(Command::Subscribe("ia".into()), &rules, &mut sub);
        assert!(t.contains("did you mean <code>ai</code>?"), "{t}");
        let t = apply(Command::Subscribe(String::new()), &rules, &mut sub);
        assert!(t.starts_with("Which topics?"), "{t}");
        apply(Command::Pause, &rules, &mut sub);
        assert!(sub.paused && !sub.active());
        apply(Command::Resume, &rules, &mut sub);
        assert!(!sub.paused);
        sub.rules.insert("gone".into());
        let t = apply(Command::Unsubscribe("gone".into()), &rules, &mut sub);
        assert_eq!(t, "Unsubscribed from <b>gone</b>.");
        let t = apply(Command::Unsubscribe("all".into()), &rules, &mut sub);
        assert!(t.starts_with("Unsubscribed from all 1 topic."), "{t}");
        assert!(sub.rules.is_empty());
    }

    #[test]
    fn list_says_when_a_rule_is_gone_and_escapes_descriptions() {
        let rules = rules(RULES);
        let sub = Subscription {
            rules: ["ai".to_string(), "old".to_string()].into(),
            ..Default::default()
        };
        let t = list(&rules, &sub, -100777);
        assert!(t.contains("• <b>ai</b> — AI &amp; &lt;chips&gt;"), "{t}");
        assert!(t.contains("<b>old</b> — <i>gone from rules.toml"), "{t}");
        assert!(
            t.contains("Always sent here by rules.toml: <b>chips</b>."),
            "{t}"
        );
    }
}
