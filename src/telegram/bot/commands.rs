//! The commands: the set (parsed by `#[derive(BotCommands)]`; its doc comments say what each
//! does, and the English message file says the same: a test keeps them equal), what each one
//! does, and every reply, in the chat's language (`locales/*/kkachi.ftl`): `/help` and what
//! `setMyCommands` registers (once per language) come from the message files.
//!
//! The subscription changes themselves are pure ([`apply`]); a new subscription is shown the
//! recent stories that match it. A command sent inside a forum topic acts on that topic's
//! subscription (`Asker::dest`), not the whole group's; a chat's zone and quiet hours
//! (`prefs.v1`) stay the chat's. Unknown commands and wrong arguments get a helpful answer.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use teloxide::Bot;
use teloxide::types::BotCommand;
use teloxide::utils::command::BotCommands;

use super::access::{Asker, Gate, gate, refusal};
use super::keyboards::topics;
use super::render;
use super::settings::{Mine, Screen, set_zone, view};
use super::status::status;
use super::{BotError, Ctx, Reply, Settings, trim_chars};
use crate::i18n::{Lang, n, s, t};
use crate::rules::RuleSet;
use crate::store::outbox::{ChatPrefs, Subscription};
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
    /// delivery per topic (instant, digests, off), time zone, quiet hours, language; tz NAME sets the zone
    Settings(String),
    /// QUERY (or NAME: QUERY): alerts for your own query, e.g. /watch DeepSeek
    Watch(String),
    /// your own rules (/watch), with buttons to pause, delete or test each
    Rules,
    /// NAME: stop one of your own rules
    Unwatch(String),
    /// QUERY (a window such as 7d at the end): the newest stored stories that match
    Search(String),
}

/// The command names (without the slash) with their descriptions in `lang`, in the order of
/// [`Command`].
fn described(lang: Lang) -> Vec<(String, String)> {
    Command::bot_commands()
        .into_iter()
        .map(|c| {
            let name = c.command.trim_start_matches('/').to_string();
            let text = t(lang, &format!("cmd-{name}"), &[]);
            (name, text)
        })
        .collect()
}

/// The command list for `setMyCommands` in `lang` (registered once without a language code,
/// in English, and once with `language_code = "ko"`). Telegram wants the names without the
/// slash that teloxide's derive puts in front.
pub fn registered_commands(lang: Lang) -> Vec<BotCommand> {
    described(lang)
        .into_iter()
        .map(|(name, text)| BotCommand::new(name, text))
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
    lang: Lang,
    cmd: Command,
) -> Result<Reply, BotError> {
    let settings = &*ctx.settings();
    let rules = ctx.rules();
    let store = &ctx.store;
    match cmd {
        Command::Start => {
            let mut text = welcome(lang, &rules, settings);
            if settings.allowed(who) {
                // Talking to the bot again revives a chat that had ended (blocked, then
                // unblocked): its kept rule names apply again.
                if let Some(mut sub) = store.subscription(who.dest())?
                    && sub.ended.is_some()
                {
                    sub.ended = None;
                    store.set_subscription(who.dest(), &sub)?;
                    text.push_str("\n\n");
                    text.push_str(&t(lang, "welcome-back", &[]));
                }
            } else {
                text.push_str("\n\n");
                text.push_str(&refusal(lang, Gate::NotAllowed, who));
            }
            Ok(Reply::html(text))
        }
        Command::Help => Ok(Reply::html(help(lang))),
        Command::Watch(args) => super::watch::watch(bot, ctx, lang, who, &args).await,
        Command::Rules => super::watch::rules(ctx, lang, who),
        Command::Unwatch(args) => super::watch::unwatch(bot, ctx, lang, who, &args).await,
        Command::Search(args) => super::watch::search(ctx, lang, who, &args).await,
        Command::Topics => {
            if !settings.allowed(who) {
                return Ok(Reply::html(refusal(lang, Gate::NotAllowed, who)));
            }
            let sub = store.subscription(who.dest())?.unwrap_or_default();
            Ok(topics(lang, &rules, &sub, who.dest()))
        }
        Command::List => {
            if !settings.allowed(who) {
                return Ok(Reply::html(refusal(lang, Gate::NotAllowed, who)));
            }
            let sub = store.subscription(who.dest())?.unwrap_or_default();
            Ok(Reply::html(list(lang, &rules, &sub, who.dest())))
        }
        Command::Status => {
            if !settings.is_admin(who.user) {
                return Ok(Reply::html(t(lang, "status-admins-only", &[])));
            }
            Ok(Reply::html(status(
                lang,
                store,
                &rules,
                settings,
                Utc::now(),
            )?))
        }
        Command::Settings(args) => {
            let g = gate(bot, settings, who).await?;
            if g != Gate::Open {
                return Ok(Reply::html(refusal(lang, g, who)));
            }
            let mut prefs = store.chat_prefs(who.chat)?;
            let sub = store.subscription(who.dest())?.unwrap_or_default();
            let own = super::watch::mine_of(store, who)?;
            let mine = Mine {
                chat: who.chat,
                rules: &own,
            };
            let main = |prefs: &ChatPrefs| {
                view(
                    lang,
                    &rules,
                    mine,
                    &sub,
                    prefs,
                    settings.timezone,
                    Screen::Main,
                )
            };
            let args = args.trim();
            let (word, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
            if args.is_empty() {
                return Ok(main(&prefs));
            }
            if !word.eq_ignore_ascii_case("tz") {
                return Ok(Reply::html(t(lang, "settings-usage", &[])));
            }
            match set_zone(lang, &mut prefs, rest) {
                Ok(text) => {
                    super::settings::save(
                        store,
                        who.dest(),
                        (&sub, false),
                        (&prefs, true),
                        settings.timezone,
                    )?;
                    let mut reply = main(&prefs);
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
                return Ok(Reply::html(refusal(lang, g, who)));
            }
            let mut sub = store.subscription(who.dest())?.unwrap_or_default();
            let before = sub.clone();
            sub.ended = None;
            let mut text = apply(lang, change, &rules, &mut sub);
            default_delivery(&mut sub, &before, settings.delivery);
            if sub != before {
                store.set_subscription(who.dest(), &sub)?;
            }
            let added: Vec<String> = sub.rules.difference(&before.rules).cloned().collect();
            if let Some(recent) = recent_matches(lang, store, &rules, &added, settings.timezone)? {
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
    lang: Lang,
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
    Ok(recent_list(lang, &stories, rules, names, since, tz))
}

/// Pure part of [`recent_matches`].
fn recent_list(
    lang: Lang,
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
    let hours = n(usize::try_from(RECENT_WINDOW.num_hours()).unwrap_or(24));
    let mut out = if total > RECENT_MAX {
        t(
            lang,
            "recent-head-some",
            &[
                ("hours", hours),
                ("shown", n(RECENT_MAX)),
                ("total", n(total)),
            ],
        )
    } else {
        t(lang, "recent-head", &[("hours", hours)])
    };
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

/// Applies a change command to a chat's subscription and says what happened, in `lang`. Pure.
fn apply(lang: Lang, cmd: Command, rules: &RuleSet, sub: &mut Subscription) -> String {
    let names: Vec<&str> = rules.rules().iter().map(|r| r.name.as_str()).collect();
    let said = |id: &str, list: &[String]| t(lang, id, &[("names", s(bold_list(list)))]);
    match cmd {
        Command::Subscribe(args) => {
            let wanted = words(&args);
            if wanted.is_empty() {
                return t(lang, "sub-which", &[("names", s(name_list(lang, &names)))]);
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
                out.push(said("sub-done", &added));
            }
            if !already.is_empty() {
                out.push(said("sub-already", &already));
            }
            if !unknown.is_empty() {
                out.push(unknown_rules(lang, &unknown, &names));
            }
            if sub.paused && !added.is_empty() {
                out.push(t(lang, "paused-note", &[]));
            }
            out.join("\n")
        }
        Command::Unsubscribe(args) => {
            let wanted = words(&args);
            if wanted.is_empty() {
                return t(lang, "unsub-which", &[]);
            }
            if wanted.iter().any(|w| w == "all") {
                if sub.rules.is_empty() {
                    return t(lang, "unsub-none", &[]);
                }
                let count = sub.rules.len();
                sub.rules.clear();
                return t(lang, "unsub-all", &[("n", n(count))]);
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
                out.push(said("unsub-done", &removed));
            }
            if !not_subscribed.is_empty() {
                out.push(said("unsub-not", &not_subscribed));
            }
            if !unknown.is_empty() {
                out.push(unknown_rules(lang, &unknown, &names));
            }
            out.join("\n")
        }
        Command::Pause => {
            if sub.paused {
                t(lang, "pause-already", &[])
            } else {
                sub.paused = true;
                t(lang, "pause-done", &[])
            }
        }
        Command::Resume => {
            if sub.paused {
                sub.paused = false;
                t(lang, "resume-done", &[])
            } else {
                t(lang, "resume-not", &[])
            }
        }
        other => {
            tracing::debug!(command = ?other, "not a change command");
            help(lang)
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

fn name_list(lang: Lang, names: &[&str]) -> String {
    if names.is_empty() {
        return t(lang, "names-none", &[]);
    }
    names
        .iter()
        .map(|n| format!("<code>{}</code>", render::escape(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_rules(lang: Lang, unknown: &[String], names: &[&str]) -> String {
    let mut out = Vec::new();
    for u in unknown {
        let name = ("name", s(render::escape(u)));
        out.push(match crate::diag::did_you_mean(u, names) {
            Some(hint) => t(
                lang,
                "unknown-topic-hint",
                &[name, ("hint", s(render::escape(hint)))],
            ),
            None => t(lang, "unknown-topic", &[name]),
        });
    }
    out.push(t(
        lang,
        "topics-all",
        &[("names", s(name_list(lang, names)))],
    ));
    out.join("\n")
}

pub(super) fn help(lang: Lang) -> String {
    let mut text = t(lang, "help-head", &[]);
    text.push('\n');
    for (name, desc) in described(lang) {
        text.push_str(&format!("\n/{name} — {desc}"));
    }
    format!(
        "{}\n\n{}",
        render::escape(&text),
        t(lang, "help-groups", &[])
    )
}

pub(super) fn unknown_command(lang: Lang, name: &str) -> String {
    let known: Vec<String> = Command::bot_commands()
        .into_iter()
        .map(|c| format!("/{}", c.command.trim_start_matches('/')))
        .collect();
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let name_arg = ("name", s(render::escape(name)));
    let said = match crate::diag::did_you_mean(name, &refs) {
        Some(hint) => t(lang, "unknown-command-hint", &[name_arg, ("hint", s(hint))]),
        None => t(lang, "unknown-command", &[name_arg]),
    };
    format!("{said}\n\n{}", help(lang))
}

pub(super) fn not_a_command(lang: Lang) -> String {
    format!("{}\n\n{}", t(lang, "not-a-command", &[]), help(lang))
}

fn welcome(lang: Lang, rules: &RuleSet, settings: &Settings) -> String {
    t(
        lang,
        "welcome",
        &[
            ("feeds", n(settings.feeds.len())),
            ("topics", n(rules.len())),
        ],
    )
}

/// `/list`: the chat's subscriptions, saying which rules are gone from `rules.toml`.
fn list(lang: Lang, rules: &RuleSet, sub: &Subscription, dest: crate::deliver::Dest) -> String {
    let fixed: Vec<String> = rules
        .rules()
        .iter()
        .filter(|r| r.chats.contains(&dest))
        .map(|r| r.name.clone())
        .collect();
    let mut out = Vec::new();
    if sub.rules.is_empty() {
        out.push(t(lang, "list-none", &[]));
    } else {
        let mut lines = vec![t(lang, "list-head", &[])];
        for name in &sub.rules {
            match rules.rules().iter().find(|r| &r.name == name) {
                Some(r) if !r.description.trim().is_empty() => lines.push(format!(
                    "• <b>{}</b> — {}",
                    render::escape(name),
                    render::escape(&trim_chars(r.description.trim(), 150))
                )),
                Some(_) => lines.push(format!("• <b>{}</b>", render::escape(name))),
                None => lines.push(format!(
                    "• <b>{}</b> — <i>{}</i>",
                    render::escape(name),
                    t(lang, "list-gone", &[])
                )),
            }
        }
        out.push(lines.join("\n"));
    }
    if !fixed.is_empty() {
        out.push(t(lang, "list-fixed", &[("names", s(bold_list(&fixed)))]));
    }
    if sub.paused {
        out.push(t(lang, "paused-note", &[]));
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
        let cmds = registered_commands(Lang::En);
        assert_eq!(cmds.len(), 14);
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
        assert!(help(Lang::En).contains("/unsubscribe"));
        assert!(unknown_command(Lang::En, "/subscrbe").contains("Did you mean /subscribe?"));
    }

    #[test]
    fn the_english_descriptions_are_the_commands_doc_comments_and_korean_has_its_own() {
        let derived: Vec<(String, String)> = Command::bot_commands()
            .into_iter()
            .map(|c| (c.command.trim_start_matches('/').to_string(), c.description))
            .collect();
        assert_eq!(described(Lang::En), derived);
        assert_eq!(
            help(Lang::En),
            format!(
                "{}\n\nIn a group, add @ and the bot's name to a command; only the group's \
                 administrators can change its subscriptions.",
                render::escape(&Command::descriptions().to_string())
            )
        );
        let ko = registered_commands(Lang::Ko);
        assert_eq!(ko.len(), derived.len());
        for (c, (name, en)) in ko.iter().zip(&derived) {
            assert_eq!(&c.command, name);
            assert_ne!(&c.description, en, "{name} is not translated");
            assert!((1..=256).contains(&c.description.chars().count()));
        }
        assert!(
            help(Lang::Ko).contains("/subscribe — "),
            "{}",
            help(Lang::Ko)
        );
    }

    #[test]
    fn korean_replies_are_polite_and_keep_the_markup() {
        let rules = rules(RULES);
        let mut sub = Subscription::default();
        let t = apply(
            Lang::Ko,
            Command::Subscribe("ai nope".into()),
            &rules,
            &mut sub,
        );
        assert!(t.contains("<b>ai</b> 구독했어요."), "{t}");
        assert!(t.contains("<code>nope</code>이라는 주제는 없어요"), "{t}");
        let t = apply(Lang::Ko, Command::Pause, &rules, &mut sub);
        assert!(t.starts_with("일시 중지했어요."), "{t}");
        let t = unknown_command(Lang::Ko, "/subscrbe");
        assert!(t.contains("/subscribe을(를) 찾으셨나요?"), "{t}");
    }

    #[test]
    fn subscribe_unsubscribe_pause_resume() {
        let rules = rules(RULES);
        let mut sub = Subscription::default();
        let t = apply(
            Lang::En,
            Command::Subscribe("ai nope".into()),
            &rules,
            &mut sub,
        );
        assert!(t.contains("Subscribed to <b>ai</b>."), "{t}");
        assert!(t.contains("no topic named <code>nope</code>"), "{t}");
        assert!(t.contains("<code>chips</code>"), "{t}");
        assert_eq!(sub.rules, ["ai".to_string()].into());
        let t = apply(Lang::En, Command::Subscribe("ia".into()), &rules, &mut sub);
        assert!(t.contains("did you mean <code>ai</code>?"), "{t}");
        let t = apply(
            Lang::En,
            Command::Subscribe(String::new()),
            &rules,
            &mut sub,
        );
        assert!(t.starts_with("Which topics?"), "{t}");
        apply(Lang::En, Command::Pause, &rules, &mut sub);
        assert!(sub.paused && !sub.active());
        apply(Lang::En, Command::Resume, &rules, &mut sub);
        assert!(!sub.paused);
        sub.rules.insert("gone".into());
        let t = apply(
            Lang::En,
            Command::Unsubscribe("gone".into()),
            &rules,
            &mut sub,
        );
        assert_eq!(t, "Unsubscribed from <b>gone</b>.");
        let t = apply(
            Lang::En,
            Command::Unsubscribe("all".into()),
            &rules,
            &mut sub,
        );
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
        let t = list(Lang::En, &rules, &sub, (-100777).into());
        assert!(t.contains("• <b>ai</b> — AI &amp; &lt;chips&gt;"), "{t}");
        assert!(t.contains("<b>old</b> — <i>gone from rules.toml"), "{t}");
        assert!(
            t.contains("Always sent here by rules.toml: <b>chips</b>."),
            "{t}"
        );
    }
}
