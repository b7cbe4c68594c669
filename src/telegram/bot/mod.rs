//! The bot people talk to: commands, the `/topics` keyboard, and the subscriptions they change.
//!
//! Owns the command set (the `#[derive(BotCommands)]` doc comments are the `/help` text and
//! what `setMyCommands` registers), who may change a chat's subscriptions (access mode,
//! group administrators, kkachi admins), every reply's wording, and the long-polling
//! dispatcher's lifecycle: `getMe` is retried with backoff instead of panicking, and the
//! dispatcher stops through its shutdown token when kkachi's own shutdown future resolves
//! (SIGTERM as well as SIGINT; `enable_ctrlc_handler` is not used).
//!
//! Must not: send alerts or touch the outbox (that is [`super::send`]), decide who gets a
//! story (that is [`super::route`], which already skips paused chats and delivers to the
//! static `chats = [..]` of `rules.toml`), touch sled (subscriptions go through
//! `store::outbox`), or log the token.
//!
//! Every reply is HTML with every piece of user, rule and feed text escaped by
//! [`render::escape`]; unknown commands and wrong arguments get a helpful answer.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use teloxide::dispatching::{Dispatcher, UpdateFilterExt, UpdateHandler};
use teloxide::payloads::{AnswerCallbackQuerySetters, EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::{CallbackQuery, Message, Requester, Update};
use teloxide::types::{
    BotCommand, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, Me, MessageId, ParseMode,
    UserId,
};
use teloxide::update_listeners::Polling;
use teloxide::utils::command::{BotCommands, ParseError};
use teloxide::{ApiError, Bot, RequestError, dptree};
use tokio::sync::watch;

use super::render::{self, Markup};
use crate::config::{Access, Config};
use crate::rules::RuleSet;
use crate::store::outbox::{MESSAGE_LIMIT, Subscription};
use crate::store::{Store, StoreError};

/// The long-poll timeout: below the HTTP client's timeout (`app::TELEGRAM_TIMEOUT`, 20 s) so
/// that an idle poll ends with an empty answer, not a client error.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait between two attempts to reach Telegram at start-up.
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Telegram allows at most 64 bytes of callback data.
const CALLBACK_DATA_MAX: usize = 64;

/// At most this many topics get a button (Telegram caps inline keyboards at 100 buttons).
const MAX_BUTTONS: usize = 90;

/// The rules the bot shows and accepts. A `watch` receiver rather than a bare `Arc` so that
/// live reload (a later issue) can publish a new snapshot with `watch::Sender::send` and the
/// bot sees it on its next command, without restarting the dispatcher.
pub type Rules = watch::Receiver<Arc<RuleSet>>;

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
}

/// How the bot behaves, from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub access: Access,
    /// Chats that may subscribe with `access = "allowlist"`.
    pub allow: Vec<i64>,
    /// User ids that may use `/status` and change any chat's subscriptions.
    pub admins: Vec<i64>,
    pub timezone: Tz,
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

/// A bot on its own task, for a caller without `app`'s services (the daemon spawns [`run`] on
/// its task tracker instead): [`BotTask::stop`] cancels its token and waits at most a deadline.
pub struct BotTask {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl BotTask {
    /// Asks the dispatcher to stop and waits at most `deadline` (then abandons it).
    pub async fn stop(self, deadline: Duration) {
        self.stop.cancel();
        let abort = self.task.abort_handle();
        if tokio::time::timeout(deadline, self.task).await.is_err() {
            tracing::warn!("telegram bot still busy after {deadline:?}; abandoning it");
            abort.abort();
        }
    }
}

/// Starts the bot on its own task.
pub fn spawn(bot: Bot, ctx: Ctx) -> BotTask {
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(run(bot, ctx, stop.clone().cancelled_owned()));
    BotTask { stop, task }
}

/// Registers the commands, then answers updates until `shutdown` resolves. When Telegram
/// cannot be reached (`getMe` fails) it retries with a capped backoff instead of panicking.
pub async fn run(bot: Bot, ctx: Ctx, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let ctx = Arc::new(ctx);
    let poll_timeout = ctx.settings().poll_timeout;
    let mut commands_set = false;
    let mut backoff = Duration::from_secs(1);
    loop {
        if !commands_set {
            match bot.set_my_commands(registered_commands()).await {
                Ok(_) => commands_set = true,
                Err(e) => tracing::warn!(error = %e, "cannot register the bot's commands"),
            }
        }
        let mut dispatcher = Dispatcher::builder(bot.clone(), schema())
            .dependencies(dptree::deps![ctx.clone()])
            .default_handler(|_| async {})
            .error_handler(Arc::new(|e: BotError| async move {
                tracing::warn!(error = %e, "bot handler failed");
            }))
            .build();
        let token = dispatcher.shutdown_token();
        let listener = Polling::builder(bot.clone()).timeout(poll_timeout).build();
        let outcome = {
            let on_listener_error = Arc::new(|e: RequestError| async move {
                tracing::warn!(error = %e, "telegram getUpdates failed");
            });
            let dispatch = dispatcher.try_dispatch_with_listener(listener, on_listener_error);
            tokio::pin!(dispatch);
            tokio::select! {
                res = &mut dispatch => res,
                () = &mut shutdown => {
                    // Idle means getMe is still in flight: dropping the future is all it takes.
                    if token.shutdown().is_ok() {
                        dispatch.await.ok();
                    }
                    tracing::info!("telegram bot stopped");
                    return;
                }
            }
        };
        match outcome {
            Ok(()) => tracing::warn!("telegram polling ended; restarting it"),
            Err(e) => tracing::warn!(
                error = %e,
                retry_in = ?backoff,
                "cannot reach telegram (getMe); retrying"
            ),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// The command list for `setMyCommands`: Telegram wants the names without the slash that
/// teloxide's derive puts in front.
pub fn registered_commands() -> Vec<BotCommand> {
    Command::bot_commands()
        .into_iter()
        .map(|c| BotCommand::new(c.command.trim_start_matches('/'), c.description))
        .collect()
}

fn schema() -> UpdateHandler<BotError> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
}

// ---- who is asking ------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Private,
    Group,
    Channel,
}

/// The chat a command came from and who sent it.
#[derive(Debug, Clone, Copy)]
struct Asker {
    chat: i64,
    kind: Kind,
    user: Option<i64>,
    /// A group administrator posting as the group itself.
    anonymous_admin: bool,
}

impl Asker {
    fn of_message(msg: &Message) -> Asker {
        Asker {
            chat: msg.chat.id.0,
            kind: kind(&msg.chat),
            user: msg.from.as_ref().and_then(|u| i64::try_from(u.id.0).ok()),
            anonymous_admin: msg
                .sender_chat
                .as_ref()
                .is_some_and(|c| c.id == msg.chat.id),
        }
    }
}

fn kind(chat: &teloxide::types::Chat) -> Kind {
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
enum Gate {
    Open,
    /// `access = "allowlist"` and the chat is not in `allow`.
    NotAllowed,
    /// A group member who is neither a group administrator nor a kkachi admin.
    NotAdmin,
}

impl Settings {
    fn is_admin(&self, user: Option<i64>) -> bool {
        user.is_some_and(|u| self.admins.contains(&u))
    }

    /// The allowlist alone (reading `/topics` and `/list`).
    fn allowed(&self, who: &Asker) -> bool {
        self.access == Access::Open || self.allow.contains(&who.chat) || self.is_admin(who.user)
    }
}

/// Full check for a change: the allowlist, then, in groups, the group's administrators.
async fn gate(bot: &Bot, settings: &Settings, who: &Asker) -> Result<Gate, BotError> {
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

fn refusal(gate: Gate, who: &Asker) -> String {
    match gate {
        Gate::Open => String::new(),
        Gate::NotAllowed => format!(
            "Sorry, this kkachi only sends alerts to chats its operator has allowed. \
             If you think this chat should get them, ask the operator to add chat id <code>{}</code>.",
            who.chat
        ),
        Gate::NotAdmin => "Only this group's administrators can change its subscriptions.".into(),
    }
}

// ---- messages -----------------------------------------------------------------------------

/// A reply: HTML text and, for `/topics`, its keyboard.
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

async fn on_message(bot: Bot, msg: Message, me: Me, ctx: Arc<Ctx>) -> Result<(), BotError> {
    let Some(text) = msg.text() else {
        return Ok(());
    };
    let who = Asker::of_message(&msg);
    if !text.starts_with('/') {
        // Groups talk among themselves; a private chat gets a pointer to the commands.
        if who.kind == Kind::Private {
            send(&bot, who.chat, Reply::html(not_a_command())).await?;
        }
        return Ok(());
    }
    let reply = match Command::parse(&normalize(text), me.username()) {
        Ok(cmd) => match execute(&bot, &ctx, &who, cmd).await {
            Ok(reply) => reply,
            Err(BotError::Store(e)) => {
                tracing::error!(chat = who.chat, error = %e, "bot command failed on the store");
                Reply::html("Sorry, kkachi could not do that just now. Please try again later.")
            }
            Err(e) => return Err(e),
        },
        // A command for another bot in the same group.
        Err(ParseError::WrongBotName(_)) => return Ok(()),
        Err(ParseError::UnknownCommand(name)) => Reply::html(unknown_command(&name)),
        Err(e) => {
            tracing::debug!(error = %e, "unparsable command");
            Reply::html(help())
        }
    };
    send(&bot, who.chat, reply).await
}

/// Lower-cases the command word (`/Subscribe@Bot` works like `/subscribe@bot`) and makes the
/// first whitespace after it a single space, which is what the derived parser splits on.
fn normalize(text: &str) -> String {
    let text = text.trim();
    match text.find(char::is_whitespace) {
        Some(i) => format!("{} {}", text[..i].to_lowercase(), text[i..].trim_start()),
        None => text.to_lowercase(),
    }
}

async fn execute(bot: &Bot, ctx: &Ctx, who: &Asker, cmd: Command) -> Result<Reply, BotError> {
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

/// How far back, and how many, stories a new subscription is shown (so subscribing right after
/// a story broke still shows it).
pub const RECENT_WINDOW: chrono::Duration = chrono::Duration::hours(24);
pub const RECENT_MAX: usize = 3;

/// The newest stories of the last [`RECENT_WINDOW`] that match one of `names`, at most
/// [`RECENT_MAX`], as an HTML list; `None` when there are none (or no names).
fn recent_matches(
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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

fn help() -> String {
    format!(
        "{}\n\nIn a group, add @ and the bot's name to a command; only the group's \
         administrators can change its subscriptions.",
        render::escape(&Command::descriptions().to_string())
    )
}

fn unknown_command(name: &str) -> String {
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

fn not_a_command() -> String {
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

/// `/topics`: every rule with its description, marked when this chat follows it, and a
/// button per rule that subscribes or unsubscribes. Within one message.
fn topics(rules: &RuleSet, sub: &Subscription, chat: i64) -> Reply {
    if rules.is_empty() {
        return Reply::html("kkachi has no topics yet: its operator has not written any rules.");
    }
    let mut html = String::from("<b>Topics</b> (✅ = this chat gets its alerts)\n");
    let mut buttons = Vec::new();
    let budget = MESSAGE_LIMIT - 300;
    let mut left_out = 0;
    for r in rules.rules() {
        let on = sub.rules.contains(&r.name);
        let fixed = r.chats.contains(&chat);
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
            line.push_str(" <i>(always sent here by rules.toml)</i>");
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
        html.push_str(&format!(
            "\n\n…and {left_out} more: <code>/subscribe NAME</code> works for every topic."
        ));
    }
    if sub.paused {
        html.push_str("\n\nAlerts to this chat are paused: /resume to get them.");
    }
    html.push_str("\n\nTap a button to subscribe or unsubscribe.");
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons.chunks(2).map(<[_]>::to_vec).collect();
    Reply {
        html,
        keyboard: Some(InlineKeyboardMarkup::new(rows)),
    }
}

fn trim_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
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

/// `/status`: feeds, queue, alerts sent today and subscribers per rule.
fn status(
    store: &Store,
    rules: &RuleSet,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let tz = settings.timezone;
    let fmt = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m-%d %H:%M %Z").to_string();
    let mut s = format!(
        "<b>kkachi status</b>\n\n<b>Feeds</b> ({})",
        settings.feeds.len()
    );
    for name in &settings.feeds {
        let st = store.feed_state(name)?;
        let ok = st
            .last_success
            .map(|t| format!("last success {}", fmt(t)))
            .unwrap_or_else(|| "no success yet".into());
        s.push_str(&format!("\n• <b>{}</b>: {ok}", render::escape(name)));
        if st.failures > 0 {
            let err = st.last_error.as_deref().unwrap_or("unknown error");
            s.push_str(&format!(
                "\n  ⚠️ failing ({} in a row): {}",
                st.failures,
                render::escape(&trim_chars(err, 200))
            ));
        }
    }
    let depth = super::send::depth_by_chat(store)?;
    s.push_str(&format!(
        "\n\n<b>Outbox</b>: {} queued for {} chat{}",
        store.outbox_len(),
        depth.len(),
        plural(depth.len())
    ));
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map_or(now - chrono::Duration::hours(24), |t| t.with_timezone(&Utc));
    s.push_str(&format!(
        "\n<b>Sent today</b>: {}",
        store.sent_since(midnight)?
    ));
    // rule → (active, paused or ended)
    let mut per_rule: BTreeMap<String, (usize, usize)> = rules
        .rules()
        .iter()
        .map(|r| (r.name.clone(), (0, 0)))
        .collect();
    for sub in store.subscriptions()?.values() {
        for name in &sub.rules {
            let e = per_rule.entry(name.clone()).or_default();
            if sub.active() {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    s.push_str("\n\n<b>Subscribers per rule</b>");
    for (name, (active, inactive)) in &per_rule {
        let info = rules.rules().iter().find(|r| &r.name == name);
        s.push_str(&format!("\n• <b>{}</b>: {active}", render::escape(name)));
        if *inactive > 0 {
            s.push_str(&format!(" (+{inactive} paused or ended)"));
        }
        match info {
            Some(r) if !r.chats.is_empty() => s.push_str(&format!(
                " + {} static chat{}",
                r.chats.len(),
                plural(r.chats.len())
            )),
            Some(_) => {}
            None => s.push_str(" <i>(gone from rules.toml)</i>"),
        }
    }
    Ok(s)
}

// ---- buttons ------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
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
fn parse_callback(data: &str, rules: &RuleSet) -> Option<(Action, String)> {
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

async fn on_callback(bot: Bot, q: CallbackQuery, ctx: Arc<Ctx>) -> Result<(), BotError> {
    let rules = ctx.rules();
    let parsed = q.data.as_deref().and_then(|d| parse_callback(d, &rules));
    let (Some(msg), Some((action, name))) = (q.regular_message(), parsed) else {
        bot.answer_callback_query(q.id.clone())
            .text("This button is out of date: send /topics again.")
            .await?;
        return Ok(());
    };
    let who = Asker {
        chat: msg.chat.id.0,
        kind: kind(&msg.chat),
        user: i64::try_from(q.from.id.0).ok(),
        anonymous_admin: false,
    };
    let g = gate(&bot, &ctx.settings(), &who).await?;
    if g != Gate::Open {
        let text = match g {
            Gate::NotAdmin => "Only this group's administrators can change its subscriptions.",
            _ => "Sorry, this chat is not allowed to subscribe.",
        };
        bot.answer_callback_query(q.id.clone())
            .text(text)
            .show_alert(true)
            .await?;
        return Ok(());
    }
    let known = rules.rules().iter().any(|r| r.name == name);
    let result: Result<(String, Subscription), StoreError> = (|| {
        let mut sub = ctx.store.subscription(who.chat)?.unwrap_or_default();
        let before = sub.clone();
        sub.ended = None;
        let answer = match action {
            Action::Subscribe if !known => format!("The topic {name} is gone from the rules."),
            Action::Subscribe => {
                sub.rules.insert(name.clone());
                format!("Subscribed to {name}")
            }
            Action::Unsubscribe => {
                sub.rules.remove(&name);
                format!("Unsubscribed from {name}")
            }
        };
        if sub != before {
            ctx.store.set_subscription(who.chat, &sub)?;
        }
        Ok((answer, sub))
    })();
    let (answer, sub) = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(chat = who.chat, error = %e, "topic button failed on the store");
            bot.answer_callback_query(q.id.clone())
                .text("Sorry, kkachi could not do that just now.")
                .await?;
            return Ok(());
        }
    };
    bot.answer_callback_query(q.id.clone()).text(answer).await?;
    let reply = topics(&rules, &sub, who.chat);
    edit(&bot, who.chat, msg.id, reply).await?;
    if action == Action::Subscribe && known {
        let tz = ctx.settings.borrow().timezone;
        match recent_matches(&ctx.store, &rules, std::slice::from_ref(&name), tz) {
            Ok(Some(recent)) => send(&bot, who.chat, Reply::html(recent)).await?,
            Ok(None) => {}
            Err(e) => tracing::warn!(chat = who.chat, error = %e, "cannot read recent matches"),
        }
    }
    Ok(())
}

// ---- sending ------------------------------------------------------------------------------

async fn send(bot: &Bot, chat: i64, reply: Reply) -> Result<(), BotError> {
    let chunks = render::split(&reply.html, MESSAGE_LIMIT, Markup::Html);
    let last = chunks.len().saturating_sub(1);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let req = bot
            .send_message(ChatId(chat), chunk)
            .parse_mode(ParseMode::Html);
        match (&reply.keyboard, i == last) {
            (Some(kb), true) => req.reply_markup(kb.clone()).await?,
            _ => req.await?,
        };
    }
    Ok(())
}

async fn edit(bot: &Bot, chat: i64, message: MessageId, reply: Reply) -> Result<(), BotError> {
    let mut req = bot
        .edit_message_text(ChatId(chat), message, reply.html)
        .parse_mode(ParseMode::Html);
    if let Some(kb) = reply.keyboard {
        req = req.reply_markup(kb);
    }
    match req.await {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(src: &str) -> RuleSet {
        crate::rules::load(src, std::path::Path::new("rules.toml"))
            .expect("rules")
            .rules
    }

    const RULES: &str = "[[rules]]\nname = \"ai\"\nquery = \"AI\"\ndescription = \"AI & <chips>\"\n\
                         [[rules]]\nname = \"chips\"\nquery = \"반도체\"\nchats = [-100777]\n";

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
        assert_eq!(cmds.len(), 9);
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

    #[test]
    fn topics_buttons_round_trip_even_for_long_names() {
        let long = "x".repeat(80);
        let src = format!("{RULES}[[rules]]\nname = \"{long}\"\nquery = \"y\"\n");
        let rules = rules(&src);
        let sub = Subscription {
            rules: ["ai".to_string()].into(),
            ..Default::default()
        };
        let reply = topics(&rules, &sub, 1);
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
