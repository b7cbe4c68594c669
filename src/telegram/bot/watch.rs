//! Personal rules from the bot: `/watch QUERY` (a preview of the last 7 days, then a button to
//! save), `/rules` (each rule with buttons to pause, delete or test it), `/unwatch NAME` and
//! `/search QUERY [7d]` (the newest stored matches, paged), with the wording of every reply.
//!
//! Queries are checked with the rules file's parser (the same error and warnings as `kkachi
//! rules test`) and matched with the rules file's alias settings ([`RuleSet::sibling`]), so a
//! personal rule behaves like a file rule. Saving a rule writes the store and asks the
//! personal rule compiler for a rebuild ([`crate::personal`]); the answer does not wait for it.
//!
//! What a button needs beyond its 64 bytes (a `/watch` preview's query, a search's query) is
//! kept in memory ([`Drafts`], bounded); after a restart such a button says to send the
//! command again. A `/rules` button names its rule by a hash of the name, so it stays right
//! when other rules are added or removed.
//!
//! Must not: touch sled (the store does), decide who gets an alert (route does).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use teloxide::Bot;
use teloxide::payloads::AnswerCallbackQuerySetters;
use teloxide::prelude::{CallbackQuery, Requester};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::access::{Asker, Gate, gate, refusal};
use super::render;
use super::{BotError, Ctx, Reply, Settings};
use crate::i18n::{Lang, n, s as text, t};
use crate::rules::personal::{self, derive_name, split_named};
use crate::rules::{RuleSet, caret_line};
use crate::store::personal::{Added, PersonalRule};
use crate::store::{StoreError, StoredStory};

/// Callback data of every button here starts with this.
pub(super) const PREFIX: &str = "w:";

/// How far back `/watch` previews and `/search` looks by default.
pub const PREVIEW_WINDOW: chrono::Duration = chrono::Duration::days(7);
/// Stories a `/watch` preview shows.
const PREVIEW_SHOWN: usize = 3;
/// Stories per `/search` page.
const PAGE: usize = 5;
/// `/watch` previews and searches kept for their buttons (the oldest goes first).
const DRAFTS_MAX: usize = 512;

/// What buttons refer to by a number: `/watch` previews waiting for ✅, and searches being
/// paged. In memory only.
#[derive(Default)]
pub(crate) struct Drafts {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    next: u64,
    items: BTreeMap<u64, Draft>,
}

#[derive(Debug, Clone, PartialEq)]
enum Draft {
    Watch {
        chat: i64,
        name: String,
        query: String,
    },
    Search {
        chat: i64,
        query: String,
        window: chrono::Duration,
    },
}

impl Drafts {
    fn keep(&self, draft: Draft) -> u64 {
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        kept.next += 1;
        let id = kept.next;
        kept.items.insert(id, draft);
        while kept.items.len() > DRAFTS_MAX {
            kept.items.pop_first();
        }
        id
    }

    fn get(&self, id: u64) -> Option<Draft> {
        let kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        kept.items.get(&id).cloned()
    }

    fn take(&self, id: u64) -> Option<Draft> {
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        kept.items.remove(&id)
    }
}

/// A button's meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tap {
    /// Save the `/watch` preview with this id.
    Save(u64),
    /// Drop it.
    Cancel(u64),
    /// Pause or resume the rule whose name hashes to this.
    Toggle(String),
    Delete(String),
    Test(String),
    /// Show this page of the search with this id.
    Page(u64, usize),
}

impl Tap {
    fn encode(&self) -> String {
        match self {
            Tap::Save(id) => format!("{PREFIX}s:{id}"),
            Tap::Cancel(id) => format!("{PREFIX}x:{id}"),
            Tap::Toggle(h) => format!("{PREFIX}p:{h}"),
            Tap::Delete(h) => format!("{PREFIX}d:{h}"),
            Tap::Test(h) => format!("{PREFIX}t:{h}"),
            Tap::Page(id, page) => format!("{PREFIX}n:{id}:{page}"),
        }
    }

    fn decode(data: &str) -> Option<Tap> {
        let rest = data.strip_prefix(PREFIX)?;
        let (kind, arg) = rest.split_once(':')?;
        Some(match kind {
            "s" => Tap::Save(arg.parse().ok()?),
            "x" => Tap::Cancel(arg.parse().ok()?),
            "p" => Tap::Toggle(arg.to_string()),
            "d" => Tap::Delete(arg.to_string()),
            "t" => Tap::Test(arg.to_string()),
            "n" => {
                let (id, page) = arg.split_once(':')?;
                Tap::Page(id.parse().ok()?, page.parse().ok()?)
            }
            _ => return None,
        })
    }
}

/// A rule's name in 10 hex digits (callback data is at most 64 bytes; names are up to 32
/// characters of any script): [`name_hash`] in hex.
fn name_code(name: &str) -> String {
    format!("{:010x}", name_hash(name))
}

/// The first 40 bits of the name's SHA-256: how `/rules` and `/settings` buttons name a
/// personal rule.
pub(super) fn name_hash(name: &str) -> u64 {
    Sha256::digest(name.as_bytes())[..5]
        .iter()
        .fold(0, |h, &b| h << 8 | u64::from(b))
}

/// The chat's personal rules as `/settings` shows them: the whole chat's, none inside a forum
/// topic (see [`super::settings::Mine`]).
pub(super) fn mine_of(
    store: &crate::store::Store,
    who: &Asker,
) -> Result<Vec<PersonalRule>, crate::store::StoreError> {
    match who.thread {
        None => store.personal_rules(who.chat),
        Some(_) => Ok(Vec::new()),
    }
}

fn button(label: impl Into<String>, tap: &Tap) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(label.into(), tap.encode())
}

/// The chat's zone for times in replies: its own, else the config's.
fn zone(ctx: &Ctx, chat: i64, settings: &Settings) -> Tz {
    ctx.store
        .chat_prefs(chat)
        .ok()
        .and_then(|p| p.tz)
        .and_then(|tz| tz.parse().ok())
        .unwrap_or(settings.timezone)
}

/// What a query found in the store: how many stories matched, newest first.
#[derive(Debug)]
struct Found {
    stories: Vec<StoredStory>,
}

/// When a stored story happened: published, else first seen.
fn when(s: &StoredStory) -> DateTime<Utc> {
    s.story
        .published
        .map_or(s.first_seen, |p| p.with_timezone(&Utc))
}

/// The stored stories of the last `window` that `set` matches, newest first. Pure apart from
/// the store read; the caller runs it off the reactor.
fn find(
    store: &crate::store::Store,
    set: &RuleSet,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Found, StoreError> {
    let since = now - window;
    let mut matcher = set.matcher();
    let mut stories: Vec<StoredStory> = store
        .stories_since(since)?
        .into_iter()
        .filter(|s| when(s) >= since)
        .filter(|s| {
            !matcher
                .match_doc(&crate::pipeline::doc(&s.story))
                .is_empty()
        })
        .collect();
    stories.sort_by_key(|s| std::cmp::Reverse(when(s)));
    Ok(Found { stories })
}

/// [`find`] on a blocking thread.
async fn find_off_reactor(
    ctx: &Ctx,
    set: RuleSet,
    window: chrono::Duration,
) -> Result<Found, BotError> {
    let store = ctx.store.clone();
    let now = Utc::now();
    tokio::task::spawn_blocking(move || find(&store, &set, window, now))
        .await
        .map_err(|e| BotError::Task(e.to_string()))?
        .map_err(BotError::Store)
}

fn story_line(n: usize, s: &StoredStory, tz: Tz) -> String {
    format!(
        "\n{n}. <a href=\"{}\">{}</a> — {} · {}",
        render::escape(&s.story.url),
        render::escape(&crate::text::trim_chars(&s.story.title, 120)),
        render::escape(&s.story.feed),
        when(s).with_timezone(&tz).format("%m-%d %H:%M"),
    )
}

/// `error: column N: …` with the query and a caret, as `kkachi rules test` prints it, in a
/// code block.
fn query_error(lang: Lang, query: &str, e: &crate::rules::QueryError) -> String {
    format!(
        "{}\n<pre>error: {}\n{}</pre>",
        t(lang, "watch-query-problem", &[]),
        render::escape(&e.to_string()),
        render::escape(&e.caret(query))
    )
}

fn warnings_block(query: &str, warnings: &[crate::rules::Warning]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = warnings
        .iter()
        .map(|w| {
            format!(
                "warning: column {}: {}\n{query}\n{}",
                w.column,
                w.message,
                caret_line(query, w.column)
            )
        })
        .collect();
    format!("\n<pre>{}</pre>", render::escape(&lines.join("\n")))
}

fn usage(lang: Lang) -> String {
    t(lang, "watch-usage", &[])
}

/// The one-query rule set a preview or search matches with: the rules file's alias settings.
fn one_rule(rules: &RuleSet, query: &str) -> Result<RuleSet, crate::rules::QueryError> {
    let (set, mut errors) = rules.sibling([("q".to_string(), query.to_string())]);
    match errors.pop() {
        Some((_, e)) => Err(e),
        None => Ok(set),
    }
}

/// `/watch [NAME:] QUERY`: checks the query and the chat's limit, then shows what the last 7
/// days would have given, with buttons to save or cancel.
pub(super) async fn watch(
    bot: &Bot,
    ctx: &Ctx,
    lang: Lang,
    who: &Asker,
    args: &str,
) -> Result<Reply, BotError> {
    let settings = ctx.settings();
    let g = gate(bot, &settings, who).await?;
    if g != Gate::Open {
        return Ok(Reply::html(refusal(lang, g, who)));
    }
    let limit = settings.max_rules_per_chat;
    if limit == 0 {
        return Ok(Reply::html(t(lang, "watch-off", &[])));
    }
    let (name, query) = split_named(args);
    if query.is_empty() {
        return Ok(Reply::html(usage(lang)));
    }
    let warnings = match personal::check_query(query, settings.max_query_chars) {
        Ok(w) => w,
        Err(e) => return Ok(Reply::html(query_error(lang, query, &e))),
    };
    let existing = ctx.store.personal_rules(who.chat)?;
    if existing.len() >= limit {
        return Ok(Reply::html(t(
            lang,
            "watch-limit",
            &[("count", n(existing.len()))],
        )));
    }
    let name = match name {
        Some(name) if existing.iter().any(|r| r.name == name) => {
            return Ok(Reply::html(t(
                lang,
                "watch-name-taken",
                &[("name", text(render::escape(name)))],
            )));
        }
        Some(name) => name.to_string(),
        None => {
            let taken: Vec<&str> = existing.iter().map(|r| r.name.as_str()).collect();
            derive_name(query, &taken)
        }
    };
    let set = match one_rule(&ctx.rules(), query) {
        Ok(set) => set,
        Err(e) => return Ok(Reply::html(query_error(lang, query, &e))),
    };
    // Answered at once (nothing here depends on how many rules kkachi holds); the preview
    // reads the store's last 7 days, which takes longer in a big store, and is edited in.
    let head = format!(
        "🔎 <b>{}</b>: <code>{}</code>{}\n\n",
        render::escape(&name),
        render::escape(query),
        warnings_block(query, &warnings)
    );
    let id = ctx.drafts.keep(Draft::Watch {
        chat: who.chat,
        name,
        query: query.to_string(),
    });
    let keyboard = InlineKeyboardMarkup::new([[
        button(t(lang, "watch-button-save", &[]), &Tap::Save(id)),
        button(t(lang, "watch-button-cancel", &[]), &Tap::Cancel(id)),
    ]]);
    let tail = format!("\n\n{}", t(lang, "watch-ask", &[]));
    let days = PREVIEW_WINDOW.num_days() as usize;
    let first = Reply {
        html: format!(
            "{head}{}{tail}",
            t(lang, "watch-looking", &[("days", n(days))])
        ),
        keyboard: Some(keyboard.clone()),
    };
    let Some(message) = super::dispatcher::sent(bot, who.dest(), first).await? else {
        return Ok(Reply::html(String::new()));
    };
    let found = find_off_reactor(ctx, set, PREVIEW_WINDOW).await?;
    let tz = zone(ctx, who.chat, &settings);
    let preview = Reply {
        html: format!("{head}{}{tail}", preview_text(lang, &found, tz)),
        keyboard: Some(keyboard),
    };
    // A tap on ✅ or ✖ before the preview arrived has replaced the message: leave it.
    if ctx.drafts.get(id).is_some() {
        super::dispatcher::edit(bot, who.chat, message, preview).await?;
    }
    Ok(Reply::html(String::new()))
}

/// "N stories of the last 7 days would have matched", and the newest few.
fn preview_text(lang: Lang, found: &Found, tz: Tz) -> String {
    let count = found.stories.len();
    let days = PREVIEW_WINDOW.num_days() as usize;
    if count == 0 {
        return t(lang, "watch-preview-none", &[("days", n(days))]);
    }
    let mut out = if count > PREVIEW_SHOWN {
        t(
            lang,
            "watch-preview-newest",
            &[
                ("count", n(count)),
                ("days", n(days)),
                ("shown", n(PREVIEW_SHOWN)),
            ],
        )
    } else {
        t(
            lang,
            "watch-preview-all",
            &[("count", n(count)), ("days", n(days))],
        )
    };
    for (i, s) in found.stories.iter().take(PREVIEW_SHOWN).enumerate() {
        out.push_str(&story_line(i + 1, s, tz));
    }
    out
}

/// `/rules`: the chat's personal rules, each with buttons.
pub(super) fn rules(ctx: &Ctx, lang: Lang, who: &Asker) -> Result<Reply, BotError> {
    let settings = ctx.settings();
    if !settings.allowed(who) {
        return Ok(Reply::html(refusal(lang, Gate::NotAllowed, who)));
    }
    let list = ctx.store.personal_rules(who.chat)?;
    Ok(rules_view(lang, &list, settings.max_rules_per_chat))
}

fn rules_view(lang: Lang, list: &[PersonalRule], limit: usize) -> Reply {
    if list.is_empty() {
        return Reply::html(format!("{} {}", t(lang, "rules-none", &[]), usage(lang)));
    }
    let mut html = t(
        lang,
        "rules-head",
        &[("count", n(list.len())), ("limit", n(limit))],
    );
    let mut rows = Vec::new();
    for (i, r) in list.iter().enumerate() {
        html.push_str(&format!(
            "\n{}. <b>{}</b>{} — <code>{}</code>",
            i + 1,
            render::escape(&r.name),
            if r.paused {
                format!(" {}", t(lang, "rules-paused", &[]))
            } else {
                String::new()
            },
            render::escape(&r.query)
        ));
        let code = name_code(&r.name);
        let short = crate::text::trim_chars(&r.name, 16);
        rows.push(vec![
            button(
                if r.paused {
                    format!("▶ {short}")
                } else {
                    format!("⏸ {short}")
                },
                &Tap::Toggle(code.clone()),
            ),
            button(
                t(lang, "rules-button-delete", &[]),
                &Tap::Delete(code.clone()),
            ),
            button(t(lang, "rules-button-test", &[]), &Tap::Test(code)),
        ]);
    }
    html.push_str("\n\n");
    html.push_str(&t(lang, "rules-legend", &[]));
    Reply {
        html,
        keyboard: Some(InlineKeyboardMarkup::new(rows)),
    }
}

/// `/unwatch NAME`.
pub(super) async fn unwatch(
    bot: &Bot,
    ctx: &Ctx,
    lang: Lang,
    who: &Asker,
    args: &str,
) -> Result<Reply, BotError> {
    let settings = ctx.settings();
    let g = gate(bot, &settings, who).await?;
    if g != Gate::Open {
        return Ok(Reply::html(refusal(lang, g, who)));
    }
    let name = args.trim();
    if name.is_empty() {
        return Ok(Reply::html(t(lang, "unwatch-usage", &[])));
    }
    let name_arg = ("name", text(render::escape(name)));
    if ctx.store.remove_personal_rule(who.chat, name)? {
        ctx.personal.changed();
        return Ok(Reply::html(t(lang, "unwatch-done", &[name_arg])));
    }
    let list = ctx.store.personal_rules(who.chat)?;
    let names: Vec<String> = list
        .iter()
        .map(|r| format!("<b>{}</b>", render::escape(&r.name)))
        .collect();
    Ok(Reply::html(if names.is_empty() {
        t(lang, "unwatch-unknown-none", &[name_arg])
    } else {
        t(
            lang,
            "unwatch-unknown",
            &[name_arg, ("names", text(names.join(", ")))],
        )
    }))
}

/// `/search QUERY [7d]`: the newest stored matches, a page at a time.
pub(super) async fn search(
    ctx: &Ctx,
    lang: Lang,
    who: &Asker,
    args: &str,
) -> Result<Reply, BotError> {
    let settings = ctx.settings();
    if !settings.allowed(who) {
        return Ok(Reply::html(refusal(lang, Gate::NotAllowed, who)));
    }
    let (query, window) = split_window(args);
    if query.is_empty() {
        return Ok(Reply::html(t(lang, "search-usage", &[])));
    }
    let window = match window {
        Ok(w) => w,
        Err(bad) => {
            return Ok(Reply::html(t(
                lang,
                "search-window-range",
                &[("window", text(render::escape(&bad)))],
            )));
        }
    };
    if let Err(e) = personal::check_query(query, settings.max_query_chars) {
        return Ok(Reply::html(query_error(lang, query, &e)));
    }
    let set = match one_rule(&ctx.rules(), query) {
        Ok(set) => set,
        Err(e) => return Ok(Reply::html(query_error(lang, query, &e))),
    };
    let found = find_off_reactor(ctx, set, window).await?;
    let id = ctx.drafts.keep(Draft::Search {
        chat: who.chat,
        query: query.to_string(),
        window,
    });
    let tz = zone(ctx, who.chat, &settings);
    Ok(search_page(lang, id, query, window, &found, 0, tz))
}

/// A trailing window (`7d`, `24h`, `2w`) off the query; 7 days when there is none. `Err` holds
/// a window out of range, as written.
fn split_window(args: &str) -> (&str, Result<chrono::Duration, String>) {
    let args = args.trim();
    let Some((query, last)) = args.rsplit_once(char::is_whitespace) else {
        return (args, Ok(PREVIEW_WINDOW));
    };
    let unit = last.chars().last().unwrap_or(' ');
    let digits = &last[..last.len() - unit.len_utf8()];
    if !matches!(unit, 'h' | 'd' | 'w')
        || digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return (args, Ok(PREVIEW_WINDOW));
    }
    let count: i64 = digits.parse().unwrap_or(i64::MAX);
    let hours = match unit {
        'h' => count,
        'd' => count.saturating_mul(24),
        _ => count.saturating_mul(24 * 7),
    };
    let window = if (1..=24 * 365).contains(&hours) {
        Ok(chrono::Duration::hours(hours))
    } else {
        Err(last.to_string())
    };
    (query.trim_end(), window)
}

fn window_text(lang: Lang, window: chrono::Duration) -> String {
    if window.num_hours() % 24 == 0 {
        t(
            lang,
            "search-days",
            &[("count", n(window.num_days() as usize))],
        )
    } else {
        t(
            lang,
            "search-hours",
            &[("count", n(window.num_hours() as usize))],
        )
    }
}

fn search_page(
    lang: Lang,
    id: u64,
    query: &str,
    window: chrono::Duration,
    found: &Found,
    page: usize,
    tz: Tz,
) -> Reply {
    let count = found.stories.len();
    let pages = count.div_ceil(PAGE).max(1);
    let page = page.min(pages - 1);
    let mut html = t(
        lang,
        "search-head",
        &[
            ("query", text(render::escape(query))),
            ("window", text(window_text(lang, window))),
        ],
    );
    html.push(' ');
    if count == 0 {
        html.push_str(&t(lang, "search-none", &[]));
        return Reply::html(html);
    }
    let from = page * PAGE;
    let to = (from + PAGE).min(count);
    html.push_str(&t(
        lang,
        "search-found",
        &[("count", n(count)), ("from", n(from + 1)), ("to", n(to))],
    ));
    for (i, s) in found.stories[from..to].iter().enumerate() {
        html.push_str(&story_line(from + i + 1, s, tz));
    }
    let mut row = Vec::new();
    if page > 0 {
        row.push(button(
            t(lang, "search-newer", &[]),
            &Tap::Page(id, page - 1),
        ));
    }
    if page + 1 < pages {
        row.push(button(
            t(lang, "search-older", &[]),
            &Tap::Page(id, page + 1),
        ));
    }
    Reply {
        html,
        keyboard: (!row.is_empty()).then(|| InlineKeyboardMarkup::new([row])),
    }
}

/// A tap on one of these buttons: checked (changes need [`gate`], reading the allowlist),
/// answered, and the message edited (a test sends its result as a new message).
pub(super) async fn on_tap(
    bot: Bot,
    q: CallbackQuery,
    ctx: std::sync::Arc<Ctx>,
) -> Result<(), BotError> {
    let tap = q.data.as_deref().and_then(Tap::decode);
    let (Some(msg), Some(tap)) = (q.regular_message(), tap) else {
        let lang = ctx.settings().language;
        bot.answer_callback_query(q.id.clone())
            .text(t(lang, "watch-tap-outdated", &[]))
            .await?;
        return Ok(());
    };
    let who = super::dispatcher::tapper(msg, &q);
    let lang = ctx.lang_of(&who);
    let settings = ctx.settings();
    let changes = matches!(tap, Tap::Save(_) | Tap::Toggle(_) | Tap::Delete(_));
    let g = if changes {
        gate(&bot, &settings, &who).await?
    } else if settings.allowed(&who) {
        Gate::Open
    } else {
        Gate::NotAllowed
    };
    if g != Gate::Open {
        return super::dispatcher::refuse_tap(&bot, &q, lang, g, "watch-tap-not-admin").await;
    }
    let (answer, reply, extra) = match tapped(&ctx, lang, &who, tap, &settings).await {
        Ok(r) => r,
        Err(BotError::Store(e)) => {
            tracing::error!(chat = who.chat, error = %e, "a rules button failed on the store");
            bot.answer_callback_query(q.id.clone())
                .text(t(lang, "tap-failed", &[]))
                .await?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    bot.answer_callback_query(q.id.clone()).text(answer).await?;
    if let Some(reply) = reply {
        super::dispatcher::edit(&bot, who.chat, msg.id, reply).await?;
    }
    if let Some(extra) = extra {
        super::dispatcher::send(&bot, who.dest(), extra).await?;
    }
    Ok(())
}

/// What a tap does: the callback answer, the message's new text, and a new message.
async fn tapped(
    ctx: &Ctx,
    lang: Lang,
    who: &Asker,
    tap: Tap,
    settings: &Settings,
) -> Result<(String, Option<Reply>, Option<Reply>), BotError> {
    let stale = || (t(lang, "watch-tap-outdated", &[]), None, None);
    let limit = settings.max_rules_per_chat;
    let named = |id: &str, name: &str| t(lang, id, &[("name", text(name.to_string()))]);
    let find_rule = |code: &str| -> Result<Option<PersonalRule>, StoreError> {
        Ok(ctx
            .store
            .personal_rules(who.chat)?
            .into_iter()
            .find(|r| name_code(&r.name) == code))
    };
    let list_view = || -> Result<Reply, StoreError> {
        Ok(rules_view(
            lang,
            &ctx.store.personal_rules(who.chat)?,
            limit,
        ))
    };
    match tap {
        Tap::Save(id) => {
            let Some(Draft::Watch { chat, name, query }) = ctx.drafts.take(id) else {
                return Ok(stale());
            };
            if chat != who.chat {
                return Ok(stale());
            }
            let rule = PersonalRule {
                name: name.clone(),
                query: query.clone(),
                paused: false,
                created: Utc::now(),
            };
            let added = ctx
                .store
                .add_personal_rule(chat, &rule, limit, settings.delivery)?;
            let html_name = ("name", text(render::escape(&name)));
            let (answer, html) = match added {
                Added::Added => {
                    ctx.personal.changed();
                    tracing::info!(chat, rule = name, query, "personal rule added");
                    (
                        named("watch-saved-answer", &name),
                        t(
                            lang,
                            "watch-saved",
                            &[html_name, ("query", text(render::escape(&query)))],
                        ),
                    )
                }
                Added::NameTaken => (
                    named("watch-exists-answer", &name),
                    t(lang, "watch-exists", &[html_name]),
                ),
                Added::Limit { limit } => (
                    t(lang, "watch-limit-answer", &[]),
                    t(lang, "watch-limit-tap", &[("limit", n(limit))]),
                ),
            };
            Ok((answer, Some(Reply::html(html)), None))
        }
        Tap::Cancel(id) => {
            ctx.drafts.take(id);
            Ok((
                t(lang, "watch-cancel-answer", &[]),
                Some(Reply::html(t(lang, "watch-cancelled", &[]))),
                None,
            ))
        }
        Tap::Toggle(code) | Tap::Delete(code) | Tap::Test(code) if find_rule(&code)?.is_none() => {
            Ok((t(lang, "rules-gone-answer", &[]), Some(list_view()?), None))
        }
        Tap::Toggle(code) => {
            let rule = find_rule(&code)?.expect("checked above");
            let now = ctx
                .store
                .set_personal_paused(who.chat, &rule.name, !rule.paused)?;
            ctx.personal.changed();
            let answer = match now {
                Some(r) if r.paused => named("rules-paused-answer", &r.name),
                Some(r) => named("rules-resumed-answer", &r.name),
                None => t(lang, "rules-gone-answer", &[]),
            };
            Ok((answer, Some(list_view()?), None))
        }
        Tap::Delete(code) => {
            let rule = find_rule(&code)?.expect("checked above");
            ctx.store.remove_personal_rule(who.chat, &rule.name)?;
            ctx.personal.changed();
            tracing::info!(chat = who.chat, rule = rule.name, "personal rule removed");
            Ok((
                named("rules-deleted-answer", &rule.name),
                Some(list_view()?),
                None,
            ))
        }
        Tap::Test(code) => {
            let rule = find_rule(&code)?.expect("checked above");
            let html = match one_rule(&ctx.rules(), &rule.query) {
                Err(e) => query_error(lang, &rule.query, &e),
                Ok(set) => {
                    let found = find_off_reactor(ctx, set, PREVIEW_WINDOW).await?;
                    format!(
                        "🔎 <b>{}</b>: <code>{}</code>\n\n{}",
                        render::escape(&rule.name),
                        render::escape(&rule.query),
                        preview_text(lang, &found, zone(ctx, who.chat, settings))
                    )
                }
            };
            Ok((
                named("rules-testing-answer", &rule.name),
                None,
                Some(Reply::html(html)),
            ))
        }
        Tap::Page(id, page) => {
            let Some(Draft::Search {
                chat,
                query,
                window,
            }) = ctx.drafts.get(id)
            else {
                return Ok(stale());
            };
            if chat != who.chat {
                return Ok(stale());
            }
            let Ok(set) = one_rule(&ctx.rules(), &query) else {
                return Ok(stale());
            };
            let found = find_off_reactor(ctx, set, window).await?;
            let tz = zone(ctx, who.chat, settings);
            Ok((
                t(lang, "search-page-answer", &[("page", n(page + 1))]),
                Some(search_page(lang, id, &query, window, &found, page, tz)),
                None,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_codes_round_trip_within_telegrams_64_bytes() {
        let code = name_code(&"가".repeat(32));
        for tap in [
            Tap::Save(u64::MAX),
            Tap::Cancel(3),
            Tap::Toggle(code.clone()),
            Tap::Delete(code.clone()),
            Tap::Test(code),
            Tap::Page(u64::MAX, 12),
        ] {
            let data = tap.encode();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Tap::decode(&data), Some(tap));
        }
        assert_eq!(Tap::decode("w:q:1"), None);
        assert_eq!(Tap::decode("c:r:1"), None);
    }

    #[test]
    fn drafts_are_bounded_and_taken_once() {
        let drafts = Drafts::default();
        let first = drafts.keep(Draft::Watch {
            chat: 1,
            name: "a".into(),
            query: "A".into(),
        });
        for _ in 0..DRAFTS_MAX {
            drafts.keep(Draft::Search {
                chat: 1,
                query: "q".into(),
                window: PREVIEW_WINDOW,
            });
        }
        assert_eq!(drafts.get(first), None, "the oldest went first");
        let id = drafts.keep(Draft::Watch {
            chat: 1,
            name: "b".into(),
            query: "B".into(),
        });
        assert!(drafts.take(id).is_some());
        assert!(drafts.take(id).is_none());
    }

    #[test]
    fn a_search_window_is_read_off_the_end() {
        assert_eq!(split_window("DeepSeek"), ("DeepSeek", Ok(PREVIEW_WINDOW)));
        assert_eq!(
            split_window("DeepSeek AND 삼성 3d"),
            ("DeepSeek AND 삼성", Ok(chrono::Duration::days(3)))
        );
        assert_eq!(
            split_window("딥시크 24h"),
            ("딥시크", Ok(chrono::Duration::hours(24)))
        );
        assert_eq!(split_window("a 2w").1, Ok(chrono::Duration::weeks(2)));
        // A last word that is not a window is part of the query.
        assert_eq!(split_window("F1 3D"), ("F1 3D", Ok(PREVIEW_WINDOW)));
        assert!(split_window("a 0d").1.is_err());
        assert_eq!(split_window("a 9999d").1, Err("9999d".to_string()));
    }

    #[test]
    fn errors_and_warnings_read_like_rules_test() {
        let e = crate::rules::check_query("DeepSeek AND").unwrap_err();
        let html = query_error(Lang::En, "DeepSeek AND", &e);
        assert!(
            html.starts_with("That query has a problem:\n<pre>error: column"),
            "{html}"
        );
        assert!(html.contains("DeepSeek AND\n"), "{html}");
        assert!(html.trim_end_matches("</pre>").ends_with('^'), "{html}");
        let w = crate::rules::check_query("삼성 and 애플").expect("parses");
        assert!(!w.is_empty());
        let block = warnings_block("삼성 and 애플", &w);
        assert!(block.contains("<pre>warning: column"), "{block}");
    }

    #[test]
    fn the_rules_list_has_a_row_of_buttons_per_rule() {
        let rule = |name: &str, paused| PersonalRule {
            name: name.into(),
            query: "A & <b>".into(),
            paused,
            created: Utc::now(),
        };
        let view = rules_view(Lang::En, &[rule("deepseek", false), rule("ai", true)], 20);
        assert!(view.html.contains("(2 of 20)"));
        assert!(view.html.contains("<b>ai</b> (paused)"));
        assert!(view.html.contains("A &amp; &lt;b&gt;"), "{}", view.html);
        let kb = view.keyboard.expect("buttons");
        assert_eq!(kb.inline_keyboard.len(), 2);
        assert_eq!(kb.inline_keyboard[1][0].text, "▶ ai");
        assert!(rules_view(Lang::En, &[], 20).keyboard.is_none());
    }
}
