//! The long-polling dispatcher: its lifecycle, the update tree, the handlers (a message, a
//! `/topics` button tap, a `/settings` button tap) and the requests that answer them. Every
//! tap is answered (`answerCallbackQuery`) and edits the message it came from. A message or
//! tap in a forum topic acts on that topic (`Asker::dest`), and replies go into the topic
//! (`message_thread_id`).
//!
//! `getMe` is retried with a capped backoff instead of panicking, and the dispatcher stops
//! through its own shutdown token when the caller's stop future resolves (`app` hands it the
//! cancellation of the one shutdown token, so SIGTERM stops it as well as SIGINT;
//! `enable_ctrlc_handler` is not used).
//!
//! Every answer is in the chat's language ([`Ctx::lang_of`], read once per update); a
//! `/settings` language tap answers, and redraws the screen, in the language just chosen.
//!
//! Must not: word replies (the words are in `locales/*/kkachi.ftl`; the replies are built by
//! [`super::commands`], [`super::keyboards`] and [`super::settings`]) or decide who may change
//! a subscription (that is [`super::access`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use teloxide::dispatching::{Dispatcher, UpdateFilterExt, UpdateHandler};
use teloxide::payloads::{AnswerCallbackQuerySetters, EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::{CallbackQuery, Message, Requester, Update};
use teloxide::types::{ChatId, Me, MessageId, ParseMode, ThreadId};
use teloxide::update_listeners::Polling;
use teloxide::utils::command::{BotCommands, ParseError};
use teloxide::{ApiError, Bot, RequestError, dptree};

use super::access::{Asker, Gate, Kind, gate, kind, topic_of};
use super::commands::{
    Command, default_delivery, execute, help, normalize, not_a_command, recent_matches,
    registered_commands, unknown_command,
};
use super::keyboards::{Action, parse_callback, topics};
use super::render::{self, MESSAGE_LIMIT, Markup};
use super::settings::{self, Tap};
use super::{BotError, Ctx, Reply};
use crate::i18n::{Lang, s as text_arg, t};
use crate::store::StoreError;
use crate::store::outbox::Subscription;

/// Longest wait between two attempts to reach Telegram at start-up.
const BACKOFF_MAX: Duration = Duration::from_secs(60);

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

/// Registers the commands (in English for everyone, and in Korean for users whose Telegram
/// speaks Korean), then answers updates until `shutdown` resolves. When Telegram
/// cannot be reached (`getMe` fails) it retries with a capped backoff instead of panicking.
pub async fn run(bot: Bot, ctx: Ctx, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let ctx = Arc::new(ctx);
    let poll_timeout = ctx.settings().poll_timeout;
    let mut commands_set = false;
    let mut backoff = Duration::from_secs(1);
    loop {
        if !commands_set {
            match register_commands(&bot).await {
                Ok(()) => commands_set = true,
                // Unreachable: the getMe failure below says so, once per retry.
                Err(RequestError::Network(e)) => tracing::debug!(
                    error = crate::telegram::api::error_text(&*e),
                    "cannot register the bot's commands"
                ),
                Err(e) => tracing::warn!(
                    error = crate::telegram::api::error_text(&e),
                    "cannot register the bot's commands"
                ),
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
                tracing::warn!(
                    error = crate::telegram::api::error_text(&e),
                    "telegram getUpdates failed"
                );
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
                error = crate::telegram::api::error_text(&e),
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

/// `setMyCommands` once without a language (English) and once for `language_code = "ko"`.
async fn register_commands(bot: &Bot) -> Result<(), RequestError> {
    use teloxide::payloads::SetMyCommandsSetters;
    bot.set_my_commands(registered_commands(Lang::En)).await?;
    bot.set_my_commands(registered_commands(Lang::Ko))
        .language_code(Lang::Ko.code())
        .await?;
    Ok(())
}

fn schema() -> UpdateHandler<BotError> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
}

async fn on_message(bot: Bot, msg: Message, me: Me, ctx: Arc<Ctx>) -> Result<(), BotError> {
    let Some(text) = msg.text() else {
        return Ok(());
    };
    let who = Asker::of_message(&msg);
    if !text.starts_with('/') {
        // Groups talk among themselves; a private chat gets a pointer to the commands.
        if who.kind == Kind::Private {
            let lang = ctx.lang_of(&who);
            send(&bot, who.dest(), Reply::html(not_a_command(lang))).await?;
        }
        return Ok(());
    }
    let parsed = Command::parse(&normalize(text), me.username());
    // A command for another bot in the same group.
    if let Err(ParseError::WrongBotName(_)) = parsed {
        return Ok(());
    }
    let lang = ctx.lang_of(&who);
    let reply = match parsed {
        Ok(cmd) => match execute(&bot, &ctx, &who, lang, cmd).await {
            Ok(reply) => reply,
            Err(BotError::Store(e)) => {
                tracing::error!(chat = who.chat, error = %e, "bot command failed on the store");
                Reply::html(t(lang, "store-failed", &[]))
            }
            Err(e) => return Err(e),
        },
        Err(ParseError::WrongBotName(_)) => return Ok(()),
        Err(ParseError::UnknownCommand(name)) => Reply::html(unknown_command(lang, &name)),
        Err(e) => {
            tracing::debug!(error = %e, "unparsable command");
            Reply::html(help(lang))
        }
    };
    if reply.html.is_empty() {
        // The command answered by itself (`/watch` sends, then edits in its preview).
        return Ok(());
    }
    send(&bot, who.dest(), reply).await
}

async fn on_callback(bot: Bot, q: CallbackQuery, ctx: Arc<Ctx>) -> Result<(), BotError> {
    if q.data
        .as_deref()
        .is_some_and(|d| d.starts_with(settings::PREFIX))
    {
        return on_settings_tap(bot, q, ctx).await;
    }
    if q.data
        .as_deref()
        .is_some_and(|d| d.starts_with(super::watch::PREFIX))
    {
        return super::watch::on_tap(bot, q, ctx).await;
    }
    let rules = ctx.rules();
    let parsed = q.data.as_deref().and_then(|d| parse_callback(d, &rules));
    let (Some(msg), Some((action, name))) = (q.regular_message(), parsed) else {
        let lang = tap_lang(&ctx, &q);
        bot.answer_callback_query(q.id.clone())
            .text(t(lang, "topics-outdated", &[]))
            .await?;
        return Ok(());
    };
    let who = tapper(msg, &q);
    let lang = ctx.lang_of(&who);
    let g = gate(&bot, &ctx.settings(), &who).await?;
    if g != Gate::Open {
        return refuse_tap(&bot, &q, lang, g, "refuse-not-admin").await;
    }
    let known = rules.rules().iter().any(|r| r.name == name);
    let result: Result<(String, Subscription), StoreError> = (|| {
        let mut sub = ctx.store.subscription(who.dest())?.unwrap_or_default();
        let before = sub.clone();
        sub.ended = None;
        let named = [("name", text_arg(name.clone()))];
        let answer = match action {
            Action::Subscribe if !known => t(lang, "tap-gone", &named),
            Action::Subscribe => {
                sub.rules.insert(name.clone());
                default_delivery(&mut sub, &before, ctx.settings().delivery);
                t(lang, "tap-subscribed", &named)
            }
            Action::Unsubscribe => {
                sub.rules.remove(&name);
                t(lang, "tap-unsubscribed", &named)
            }
        };
        if sub != before {
            ctx.store.set_subscription(who.dest(), &sub)?;
        }
        Ok((answer, sub))
    })();
    let (answer, sub) = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(chat = who.chat, error = %e, "topic button failed on the store");
            bot.answer_callback_query(q.id.clone())
                .text(t(lang, "tap-failed", &[]))
                .await?;
            return Ok(());
        }
    };
    bot.answer_callback_query(q.id.clone()).text(answer).await?;
    let reply = topics(lang, &rules, &sub, who.dest());
    edit(&bot, who.chat, msg.id, reply).await?;
    if action == Action::Subscribe && known {
        let tz = ctx.settings.borrow().timezone;
        match recent_matches(lang, &ctx.store, &rules, std::slice::from_ref(&name), tz) {
            Ok(Some(recent)) => send(&bot, who.dest(), Reply::html(recent)).await?,
            Ok(None) => {}
            Err(e) => tracing::warn!(chat = who.chat, error = %e, "cannot read recent matches"),
        }
    }
    Ok(())
}

/// Who tapped a button: the chat (and forum topic) of the button's message and the user who
/// tapped.
pub(super) fn tapper(msg: &teloxide::types::Message, q: &CallbackQuery) -> Asker {
    Asker {
        chat: msg.chat.id.0,
        thread: topic_of(msg),
        kind: kind(&msg.chat),
        user: i64::try_from(q.from.id.0).ok(),
        anonymous_admin: false,
        lang_code: q.from.language_code.clone(),
    }
}

/// The language to answer a tap that has no usable message in: the tapper's chat's, as far
/// as it is known.
fn tap_lang(ctx: &Ctx, q: &CallbackQuery) -> Lang {
    match q.regular_message() {
        Some(msg) => ctx.lang_of(&tapper(msg, q)),
        None => crate::i18n::chat_lang(
            None,
            q.from.language_code.as_deref(),
            ctx.settings().language,
        ),
    }
}

/// Answers a button tap that the gate refused, as an alert: `not_admin` (a message id) for a
/// group member who is not an administrator, else "not allowed".
pub(super) async fn refuse_tap(
    bot: &Bot,
    q: &CallbackQuery,
    lang: Lang,
    g: Gate,
    not_admin: &str,
) -> Result<(), BotError> {
    let text = match g {
        Gate::NotAdmin => t(lang, not_admin, &[]),
        _ => t(lang, "tap-not-allowed", &[]),
    };
    bot.answer_callback_query(q.id.clone())
        .text(text)
        .show_alert(true)
        .await?;
    Ok(())
}

/// A tap on a `/settings` button: checked like a `/topics` tap, applied to the chat's
/// subscription and preferences, answered, and the same message edited to the next screen.
async fn on_settings_tap(bot: Bot, q: CallbackQuery, ctx: Arc<Ctx>) -> Result<(), BotError> {
    let tap = q.data.as_deref().and_then(Tap::decode);
    let (Some(msg), Some(tap)) = (q.regular_message(), tap) else {
        let lang = tap_lang(&ctx, &q);
        bot.answer_callback_query(q.id.clone())
            .text(t(lang, "settings-outdated", &[]))
            .await?;
        return Ok(());
    };
    let who = tapper(msg, &q);
    let lang = ctx.lang_of(&who);
    let config = ctx.settings();
    let g = gate(&bot, &config, &who).await?;
    if g != Gate::Open {
        return refuse_tap(&bot, &q, lang, g, "tap-not-admin-settings").await;
    }
    let rules = ctx.rules();
    let result = (|| {
        let mut sub = ctx.store.subscription(who.dest())?.unwrap_or_default();
        let mut prefs = ctx.store.chat_prefs(who.chat)?;
        let own = super::watch::mine_of(&ctx.store, &who)?;
        let mine = settings::Mine {
            chat: who.chat,
            rules: &own,
        };
        let (sub_before, prefs_before) = (sub.clone(), prefs.clone());
        let (answer, screen) = settings::apply(lang, tap, &rules, mine, &mut sub, &mut prefs);
        // A language tap answers, and shows the screen, in the new language.
        let lang = match tap {
            Tap::Lang(chosen) => chosen,
            _ => lang,
        };
        if sub != sub_before || prefs != prefs_before {
            settings::save(
                &ctx.store,
                who.dest(),
                (&sub, sub != sub_before),
                (&prefs, prefs != prefs_before),
                config.timezone,
            )?;
        }
        Ok::<_, StoreError>((
            answer,
            settings::view(lang, &rules, mine, &sub, &prefs, config.timezone, screen),
        ))
    })();
    let (answer, reply) = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(chat = who.chat, error = %e, "settings button failed on the store");
            bot.answer_callback_query(q.id.clone())
                .text(t(lang, "tap-failed", &[]))
                .await?;
            return Ok(());
        }
    };
    let req = bot.answer_callback_query(q.id.clone());
    if answer.is_empty() {
        req.await?;
    } else {
        req.text(answer).await?;
    }
    edit(&bot, who.chat, msg.id, reply).await
}

/// Sends a reply into `dest`: the chat, or the forum topic the command came from.
pub(super) async fn send(
    bot: &Bot,
    dest: impl Into<crate::deliver::Dest>,
    reply: Reply,
) -> Result<(), BotError> {
    sent(bot, dest, reply).await.map(|_| ())
}

/// [`send`], returning the id of the last message sent (the one with the keyboard).
pub(super) async fn sent(
    bot: &Bot,
    dest: impl Into<crate::deliver::Dest>,
    reply: Reply,
) -> Result<Option<MessageId>, BotError> {
    let dest = dest.into();
    let chunks = render::split(&reply.html, MESSAGE_LIMIT, Markup::Html);
    let last = chunks.len().saturating_sub(1);
    let mut id = None;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut req = bot
            .send_message(ChatId(dest.chat), chunk)
            .parse_mode(ParseMode::Html);
        if let Some(t) = dest.thread {
            req = req.message_thread_id(ThreadId(MessageId(t)));
        }
        let msg = match (&reply.keyboard, i == last) {
            (Some(kb), true) => req.reply_markup(kb.clone()).await?,
            _ => req.await?,
        };
        id = Some(msg.id);
    }
    Ok(id)
}

pub(super) async fn edit(
    bot: &Bot,
    chat: i64,
    message: MessageId,
    reply: Reply,
) -> Result<(), BotError> {
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
