//! The long-polling dispatcher: its lifecycle, the update tree, the handlers (a message, a
//! `/topics` button tap, a `/settings` button tap) and the requests that answer them. Every
//! tap is answered (`answerCallbackQuery`) and edits the message it came from.
//!
//! `getMe` is retried with a capped backoff instead of panicking, and the dispatcher stops
//! through its own shutdown token when the caller's stop future resolves (`app` hands it the
//! cancellation of the one shutdown token, so SIGTERM stops it as well as SIGINT;
//! `enable_ctrlc_handler` is not used).
//!
//! Must not: word replies (that is [`super::commands`], [`super::keyboards`] and
//! [`super::settings`]) or decide who may change a subscription (that is [`super::access`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use teloxide::dispatching::{Dispatcher, UpdateFilterExt, UpdateHandler};
use teloxide::payloads::{AnswerCallbackQuerySetters, EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::{CallbackQuery, Message, Requester, Update};
use teloxide::types::{ChatId, Me, MessageId, ParseMode};
use teloxide::update_listeners::Polling;
use teloxide::utils::command::{BotCommands, ParseError};
use teloxide::{ApiError, Bot, RequestError, dptree};

use super::access::{Asker, Gate, Kind, gate, kind};
use super::commands::{
    Command, default_delivery, execute, help, normalize, not_a_command, recent_matches,
    registered_commands, unknown_command,
};
use super::keyboards::{Action, parse_callback, topics};
use super::render::{self, MESSAGE_LIMIT, Markup};
use super::settings::{self, Tap};
use super::{BotError, Ctx, Reply};
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

async fn on_callback(bot: Bot, q: CallbackQuery, ctx: Arc<Ctx>) -> Result<(), BotError> {
    if q.data
        .as_deref()
        .is_some_and(|d| d.starts_with(settings::PREFIX))
    {
        return on_settings_tap(bot, q, ctx).await;
    }
    let rules = ctx.rules();
    let parsed = q.data.as_deref().and_then(|d| parse_callback(d, &rules));
    let (Some(msg), Some((action, name))) = (q.regular_message(), parsed) else {
        bot.answer_callback_query(q.id.clone())
            .text("This button is out of date: send /topics again.")
            .await?;
        return Ok(());
    };
    let who = tapper(msg, &q);
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
                default_delivery(&mut sub, &before, ctx.settings().delivery);
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

/// Who tapped a button: the chat of the button's message and the user who tapped.
fn tapper(msg: &teloxide::types::Message, q: &CallbackQuery) -> Asker {
    Asker {
        chat: msg.chat.id.0,
        kind: kind(&msg.chat),
        user: i64::try_from(q.from.id.0).ok(),
        anonymous_admin: false,
    }
}

/// A tap on a `/settings` button: checked like a `/topics` tap, applied to the chat's
/// subscription and preferences, answered, and the same message edited to the next screen.
async fn on_settings_tap(bot: Bot, q: CallbackQuery, ctx: Arc<Ctx>) -> Result<(), BotError> {
    let tap = q.data.as_deref().and_then(Tap::decode);
    let (Some(msg), Some(tap)) = (q.regular_message(), tap) else {
        bot.answer_callback_query(q.id.clone())
            .text("This button is out of date: send /settings again.")
            .await?;
        return Ok(());
    };
    let who = tapper(msg, &q);
    let config = ctx.settings();
    let g = gate(&bot, &config, &who).await?;
    if g != Gate::Open {
        let text = match g {
            Gate::NotAdmin => "Only this group's administrators can change its settings.",
            _ => "Sorry, this chat is not allowed to subscribe.",
        };
        bot.answer_callback_query(q.id.clone())
            .text(text)
            .show_alert(true)
            .await?;
        return Ok(());
    }
    let rules = ctx.rules();
    let result = (|| {
        let mut sub = ctx.store.subscription(who.chat)?.unwrap_or_default();
        let mut prefs = ctx.store.chat_prefs(who.chat)?;
        let (sub_before, prefs_before) = (sub.clone(), prefs.clone());
        let (answer, screen) = settings::apply(tap, &rules, &mut sub, &mut prefs);
        if sub != sub_before {
            ctx.store.set_subscription(who.chat, &sub)?;
        }
        if prefs != prefs_before {
            ctx.store.set_chat_prefs(who.chat, &prefs)?;
        }
        if sub != sub_before || prefs != prefs_before {
            settings::reschedule(&ctx.store, who.chat, &sub, &prefs, config.timezone)?;
        }
        Ok::<_, StoreError>((
            answer,
            settings::view(&rules, &sub, &prefs, config.timezone, screen),
        ))
    })();
    let (answer, reply) = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(chat = who.chat, error = %e, "settings button failed on the store");
            bot.answer_callback_query(q.id.clone())
                .text("Sorry, kkachi could not do that just now.")
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
