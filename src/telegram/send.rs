//! The delivery task: drains the outbox into Telegram within its rate limits.
//!
//! Owns the sending policy; the state it keeps across restarts lives in `store::outbox`.
//! Must not: decide who gets what (that is [`super::route`], at admission), or sleep on a
//! chat's flood wait in a way a restart would forget (`retry_at` is persisted).
//!
//! Each turn it re-reads the outbox, takes the oldest entry whose chat may receive now, and
//! sends its next part. An entry leaves the outbox only when Telegram accepted every part (its
//! `message_id`s go to the sent record, in the same transaction) or failed permanently.
//!
//! | Telegram said | what happens |
//! |---|---|
//! | 429 `retry_after` | that chat's `retry_at` is persisted; other chats keep flowing |
//! | can't parse entities | the part is resent as plain text |
//! | message is too long | the part is split in two and resent |
//! | `migrate_to_chat_id` | the chat id is rewritten everywhere in the store, then resent |
//! | blocked, deactivated, kicked, chat not found, any `Forbidden:` | the chat's subscriptions end, its queue is dropped, admins get a notice |
//! | other 4xx | the entry is dropped and logged |
//! | connection refused, 5xx | retried after a capped exponential backoff (for every chat: it is Telegram or the network that is down) |
//! | timeout after sending, unreadable answer | ambiguous: resent at most once, then recorded as `uncertain` and never sent again |
//!
//! Rate limits come from a small sliding-window log ([`Limiter`]) rather than `governor`:
//! windows give the exact guarantee we test ("never more than N in any window"), where a token
//! bucket allows a burst of N right after N; the limiter runs on tokio's clock, so tests can
//! prove it with a paused clock; and it keeps per-chat state next to the persisted flood waits.
//! teloxide's `Throttle` adaptor is not used: it retries 429s itself and freezes every chat.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use chrono_tz::Tz;
use teloxide::Bot;
use teloxide::payloads::SendMessageSetters;
use teloxide::requests::Requester;
use teloxide::types::{ChatId, ParseMode};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::render::{self, Markup};
use super::{Failure, classify};
use crate::config::TelegramConfig;
use crate::metrics::Metrics;
use crate::store::outbox::{MESSAGE_LIMIT, OutboxEntry, Part, SentRecord};
use crate::store::{Store, StoreError};

/// Message rates, from `[telegram]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_chat_per_sec: u32,
    /// For groups and channels (negative chat ids).
    pub per_group_per_min: u32,
    pub global_per_sec: u32,
}

impl From<&TelegramConfig> for Limits {
    fn from(c: &TelegramConfig) -> Limits {
        Limits {
            per_chat_per_sec: c.per_chat_per_sec,
            per_group_per_min: c.per_group_per_min,
            global_per_sec: c.global_per_sec,
        }
    }
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

/// Sliding-window rate limiter: at most `n` sends in any window of the given length, per chat
/// (1 s), per group (60 s) and overall (1 s). Pure bookkeeping over [`Instant`]s.
#[derive(Debug)]
pub struct Limiter {
    limits: Limits,
    /// Send times per chat, within the last minute.
    chats: HashMap<i64, VecDeque<Instant>>,
    global: VecDeque<Instant>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            chats: HashMap::new(),
            global: VecDeque::new(),
        }
    }

    /// New limits (a reload) apply to the sends already in the windows.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The earliest instant at which a message to `chat` keeps every window within its limit
    /// (`<= now`: right away).
    pub fn ready_at(&self, chat: i64, now: Instant) -> Instant {
        let mut at = window_ready(&self.global, SECOND, self.limits.global_per_sec, now);
        if let Some(times) = self.chats.get(&chat) {
            at = at.max(window_ready(
                times,
                SECOND,
                self.limits.per_chat_per_sec,
                now,
            ));
            if chat < 0 {
                at = at.max(window_ready(
                    times,
                    MINUTE,
                    self.limits.per_group_per_min,
                    now,
                ));
            }
        }
        at
    }

    /// Records a request to `chat` at `at`.
    pub fn record(&mut self, chat: i64, at: Instant) {
        let times = self.chats.entry(chat).or_default();
        times.push_back(at);
        while times
            .front()
            .is_some_and(|t| at.saturating_duration_since(*t) >= MINUTE)
        {
            times.pop_front();
        }
        self.global.push_back(at);
        while self
            .global
            .front()
            .is_some_and(|t| at.saturating_duration_since(*t) >= SECOND)
        {
            self.global.pop_front();
        }
        if self.chats.len() > 10_000 {
            self.chats.retain(|_, t| {
                t.back()
                    .is_some_and(|b| at.saturating_duration_since(*b) < MINUTE)
            });
        }
    }
}

/// With `times` ascending: when a new event keeps at most `n` events in any `window`.
fn window_ready(times: &VecDeque<Instant>, window: Duration, n: u32, now: Instant) -> Instant {
    let n = n.max(1) as usize;
    let recent: Vec<&Instant> = times
        .iter()
        .filter(|t| now.saturating_duration_since(**t) < window)
        .collect();
    if recent.len() < n {
        now
    } else {
        *recent[recent.len() - n] + window
    }
}

/// How the delivery task behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    pub timezone: Tz,
    /// User ids that get notices about chats that ended.
    pub admins: Vec<i64>,
    /// Backoff after a transient failure: doubles from `backoff_min` up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// The outbox is re-read at least this often when nothing is ready (new entries also wake
    /// the task through [`Sender::waker`]).
    pub rescan: Duration,
}

impl Settings {
    pub fn new(config: &TelegramConfig, timezone: Tz) -> Settings {
        Settings {
            limits: Limits::from(config),
            timezone,
            admins: config.admins.clone(),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            rescan: Duration::from_secs(1),
        }
    }
}

/// The delivery task. Build it, keep [`Sender::waker`] for the pipeline, then [`Sender::run`].
pub struct Sender {
    bot: Bot,
    store: Arc<Store>,
    settings: Settings,
    limiter: Limiter,
    wake: Arc<Notify>,
    /// After a transient failure: nothing is sent before this instant.
    backoff: Option<(Instant, Duration)>,
    metrics: Arc<Metrics>,
    /// Reloaded settings, when the daemon publishes them.
    updates: Option<tokio::sync::watch::Receiver<Settings>>,
}

/// What one attempt did, for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Progress,
    Idle(Instant),
}

impl Sender {
    pub fn new(bot: Bot, store: Arc<Store>, settings: Settings) -> Sender {
        Sender {
            bot,
            store,
            limiter: Limiter::new(settings.limits),
            settings,
            wake: Arc::new(Notify::new()),
            backoff: None,
            metrics: Arc::new(Metrics::new()),
            updates: None,
        }
    }

    /// Settings published through the returned sender (a reload) apply from the next send.
    pub fn live_settings(&mut self) -> tokio::sync::watch::Sender<Settings> {
        let (tx, rx) = tokio::sync::watch::channel(self.settings.clone());
        self.updates = Some(rx);
        tx
    }

    /// Records deliveries in the process's shared metrics (without it, in a private set).
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Sender {
        Sender { metrics, ..self }
    }

    /// Notify it after queueing entries, so they go out without waiting for the next rescan.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Delivers until `shutdown` resolves. A request in flight when it does is finished (it is
    /// bounded by the HTTP client's timeout), never abandoned half-way.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        if let Err(e) = self.recover() {
            tracing::error!(error = %e, "cannot recover the outbox after a restart");
        }
        tokio::pin!(shutdown);
        loop {
            let step = match self.step().await {
                Ok(step) => step,
                Err(e) => {
                    tracing::error!(error = %e, "outbox error; retrying");
                    Step::Idle(Instant::now() + self.settings.rescan)
                }
            };
            match step {
                Step::Progress => {
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => break,
                        _ = std::future::ready(()) => {}
                    }
                }
                Step::Idle(until) => {
                    let until = until.min(Instant::now() + self.settings.rescan);
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep_until(until) => {}
                        _ = self.wake.notified() => {}
                    }
                }
            }
        }
        tracing::info!(
            queued = self.store.outbox_len(),
            "telegram delivery stopped"
        );
    }

    /// An entry found `in_flight` at start-up was being sent when the process died: that
    /// attempt is ambiguous.
    fn recover(&self) -> Result<(), StoreError> {
        for (seq, mut entry) in self.store.outbox()? {
            if entry.in_flight {
                entry.in_flight = false;
                self.ambiguous(
                    seq,
                    entry,
                    "the process stopped while a request was in flight",
                )?;
            }
        }
        Ok(())
    }

    /// Sends the next part of the oldest entry that may go now, or says when to look again.
    async fn step(&mut self) -> Result<Step, StoreError> {
        if let Some(updates) = &mut self.updates
            && updates.has_changed().unwrap_or(false)
        {
            self.settings = updates.borrow_and_update().clone();
            self.limiter.set_limits(self.settings.limits);
        }
        let now = Instant::now();
        if let Some((until, _)) = self.backoff
            && until > now
        {
            return Ok(Step::Idle(until));
        }
        let queue = self.store.outbox()?;
        if queue.is_empty() {
            return Ok(Step::Idle(now + self.settings.rescan));
        }
        let waits = self.store.chat_states()?;
        let wall = Utc::now();
        let mut wake = now + self.settings.rescan;
        let mut seen_chats = std::collections::HashSet::new();
        let mut chosen = None;
        for (seq, entry) in queue {
            // Only the oldest entry of a chat may go: a chat's messages keep their order.
            if !seen_chats.insert(entry.chat) {
                continue;
            }
            let flood = waits
                .get(&entry.chat)
                .and_then(|s| s.retry_at)
                .and_then(|t| (t - wall).to_std().ok())
                .map_or(now, |d| now + d);
            let ready = self.limiter.ready_at(entry.chat, now).max(flood);
            if ready <= now {
                chosen = Some((seq, entry));
                break;
            }
            wake = wake.min(ready);
        }
        match chosen {
            Some((seq, entry)) => {
                self.attempt(seq, entry).await?;
                Ok(Step::Progress)
            }
            None => Ok(Step::Idle(wake)),
        }
    }

    async fn attempt(&mut self, seq: u64, mut entry: OutboxEntry) -> Result<(), StoreError> {
        let chat = entry.chat;
        if let Some(story) = &entry.story {
            if self.store.sent(chat, story)?.is_some() {
                tracing::info!(chat, story = %story, "already sent to this chat; dropped");
                return self.store.drop_outbox_entry(seq);
            }
            if self.store.subscription(chat)?.is_some_and(|s| !s.active()) {
                tracing::info!(chat, story = %story, "chat paused or ended; alert dropped");
                return self.store.drop_outbox_entry(seq);
            }
        }
        if entry.parts.is_empty() {
            let html = render::html(&entry.body, self.settings.timezone);
            entry.parts = render::split(&html, MESSAGE_LIMIT, Markup::Html)
                .into_iter()
                .map(|text| Part { text, plain: false })
                .collect();
        }
        let k = entry.sent_parts.len();
        let Some(part) = entry.parts.get(k).cloned() else {
            return self.complete(seq, &entry, false);
        };
        // Written before the request: if the process dies now, the restart knows this attempt
        // is ambiguous.
        entry.in_flight = true;
        self.store.update_outbox_entry(seq, &entry)?;
        // On disk, not only in sled's buffer (flushed every second): a SIGKILL must not lose it.
        self.store.flush()?;
        self.limiter.record(chat, Instant::now());
        let mut request = self.bot.send_message(ChatId(chat), part.text.clone());
        if !part.plain {
            request = request.parse_mode(ParseMode::Html);
        }
        let result = request.await;
        entry.in_flight = false;
        match result {
            Ok(message) => {
                self.backoff = None;
                entry.sent_parts.push(message.id.0);
                if entry.sent_parts.len() >= entry.parts.len() {
                    self.complete(seq, &entry, false)
                } else {
                    self.store.update_outbox_entry(seq, &entry)
                }
            }
            Err(e) => {
                entry.attempts = entry.attempts.saturating_add(1);
                self.failed(seq, entry, k, classify(&e))
            }
        }
    }

    fn failed(
        &mut self,
        seq: u64,
        mut entry: OutboxEntry,
        k: usize,
        failure: Failure,
    ) -> Result<(), StoreError> {
        let chat = entry.chat;
        match failure {
            Failure::RetryAfter(wait) => {
                self.metrics.telegram_429();
                tracing::warn!(
                    chat,
                    retry_after = wait.as_secs(),
                    "telegram flood control: chat paused"
                );
                let mut state = self.store.chat_state(chat)?;
                state.retry_at =
                    Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
                self.store.set_chat_state(chat, &state)?;
                self.store.update_outbox_entry(seq, &entry)
            }
            Failure::CantParse(why) => {
                tracing::warn!(chat, error = %why, "telegram cannot parse the HTML; resending as plain text");
                if k == 0 {
                    let plain = render::plain(&entry.body, self.settings.timezone);
                    entry.parts = render::split(&plain, MESSAGE_LIMIT, Markup::Plain)
                        .into_iter()
                        .map(|text| Part { text, plain: true })
                        .collect();
                } else {
                    for p in &mut entry.parts[k..] {
                        if !p.plain {
                            *p = Part {
                                text: render::html_to_plain(&p.text),
                                plain: true,
                            };
                        }
                    }
                }
                self.store.update_outbox_entry(seq, &entry)
            }
            Failure::TooLong => {
                let part = entry.parts[k].clone();
                let len = render::utf16_len(&part.text);
                if len < 64 {
                    tracing::error!(
                        chat,
                        len,
                        "telegram says a tiny message is too long; dropped"
                    );
                    self.gave_up(&entry, "rejected");
                    return self.store.drop_outbox_entry(seq);
                }
                let markup = if part.plain {
                    Markup::Plain
                } else {
                    Markup::Html
                };
                let pieces: Vec<Part> = render::split(&part.text, len / 2 + 32, markup)
                    .into_iter()
                    .map(|text| Part {
                        text,
                        plain: part.plain,
                    })
                    .collect();
                tracing::warn!(
                    chat,
                    len,
                    pieces = pieces.len(),
                    "telegram says the message is too long; split"
                );
                entry.parts.splice(k..=k, pieces);
                self.store.update_outbox_entry(seq, &entry)
            }
            Failure::Migrated(new) => {
                tracing::warn!(
                    chat,
                    new_chat = new,
                    "group migrated to a supergroup; chat id rewritten"
                );
                self.store.update_outbox_entry(seq, &entry)?;
                self.store.migrate_chat(chat, new)
            }
            Failure::ChatGone(reason) => {
                let dropped = self.store.end_chat(chat, &reason, Utc::now())?;
                self.metrics.alerts_failed("chat_gone", dropped);
                tracing::warn!(chat, reason = %reason, dropped, "chat gone: subscriptions ended");
                let text = format!(
                    "kkachi: chat {chat} no longer receives alerts ({reason}). Its subscriptions are ended; \
                     {dropped} queued message(s) dropped."
                );
                let admins = self.settings.admins.iter().copied().filter(|&a| a != chat);
                self.store
                    .enqueue(&OutboxEntry::notices(admins, &text, Utc::now()))
            }
            Failure::Rejected(reason) => {
                tracing::error!(chat, reason = %reason, story = ?entry.story, "telegram rejected the message; dropped");
                self.gave_up(&entry, "rejected");
                self.store.drop_outbox_entry(seq)
            }
            Failure::Transient(reason) => {
                let wait = self.backoff.map_or(self.settings.backoff_min, |(_, d)| {
                    (d * 2).min(self.settings.backoff_max)
                });
                tracing::warn!(chat, reason = %reason, wait_ms = wait.as_millis() as u64, "telegram unreachable; backing off");
                self.backoff = Some((Instant::now() + wait, wait));
                self.store.update_outbox_entry(seq, &entry)
            }
            Failure::Ambiguous(reason) => self.ambiguous(seq, entry, &reason),
        }
    }

    /// Invariant (resend at most once): a request that may have reached Telegram is resent once;
    /// if that too ends ambiguously, the entry is recorded as sent-`uncertain` and never resent.
    fn ambiguous(&self, seq: u64, mut entry: OutboxEntry, reason: &str) -> Result<(), StoreError> {
        entry.ambiguous = entry.ambiguous.saturating_add(1);
        if entry.ambiguous >= 2 {
            tracing::error!(chat = entry.chat, reason, story = ?entry.story, "outcome unknown twice; not resending");
            return self.complete(seq, &entry, true);
        }
        tracing::warn!(chat = entry.chat, reason, story = ?entry.story, "outcome unknown; resending once");
        self.store.update_outbox_entry(seq, &entry)
    }

    /// Counts an alert given up (admin notices are not what `kkachi_alerts_queued_total`
    /// counts, so they are left out here too).
    fn gave_up(&self, entry: &OutboxEntry, reason: &'static str) {
        if entry.story.is_some() {
            self.metrics.alerts_failed(reason, 1);
        }
    }

    fn complete(&self, seq: u64, entry: &OutboxEntry, uncertain: bool) -> Result<(), StoreError> {
        let record = SentRecord {
            message_ids: entry.sent_parts.clone(),
            sent_at: Utc::now(),
            uncertain,
        };
        self.store.complete(seq, entry, &record)?;
        if uncertain {
            self.gave_up(entry, "uncertain");
        } else if entry.story.is_some() {
            let latency = (record.sent_at - entry.enqueued_at).to_std();
            self.metrics.alert_sent(latency.unwrap_or_default());
        }
        // A completion lost to a SIGKILL would send the message again after the restart.
        self.store.flush()
    }
}

/// Queue depth per chat, for `/status`.
pub fn depth_by_chat(store: &Store) -> Result<BTreeMap<i64, usize>, StoreError> {
    let mut out = BTreeMap::new();
    for (_, e) in store.outbox()? {
        *out.entry(e.chat).or_default() += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: Limits = Limits {
        per_chat_per_sec: 1,
        per_group_per_min: 20,
        global_per_sec: 30,
    };

    /// Drives the limiter greedily under a paused clock and checks every window afterwards.
    #[tokio::test(start_paused = true)]
    async fn limiter_keeps_every_window_with_the_real_limits() {
        let mut lim = Limiter::new(REAL);
        // 50 private chats and 10 groups, 6 messages each, served oldest-first like the sender.
        let chats: Vec<i64> = (1..=50).chain((1..=10).map(|g| -100 - g)).collect();
        let mut queue: VecDeque<i64> = (0..6).flat_map(|_| chats.iter().copied()).collect();
        let mut log: Vec<(i64, Instant)> = Vec::new();
        let start = Instant::now();
        while !queue.is_empty() {
            let now = Instant::now();
            let mut seen = std::collections::HashSet::new();
            let pick = queue
                .iter()
                .position(|&c| seen.insert(c) && lim.ready_at(c, now) <= now);
            match pick {
                Some(i) => {
                    let chat = queue.remove(i).expect("index from position");
                    lim.record(chat, now);
                    log.push((chat, now));
                }
                None => {
                    let mut seen = std::collections::HashSet::new();
                    let next = queue
                        .iter()
                        .filter(|c| seen.insert(**c))
                        .map(|&c| lim.ready_at(c, now))
                        .min();
                    tokio::time::sleep_until(next.expect("queue not empty")).await;
                }
            }
        }
        assert_eq!(log.len(), 360);
        for (i, (chat, t)) in log.iter().enumerate() {
            let in_window = |w: Duration, same_chat: bool| {
                log[..i]
                    .iter()
                    .filter(|(c, u)| (!same_chat || c == chat) && t.duration_since(*u) < w)
                    .count()
                    + 1
            };
            assert!(in_window(SECOND, false) <= 30, "more than 30/s overall");
            assert!(in_window(SECOND, true) <= 1, "chat {chat} above 1/s");
            if *chat < 0 {
                assert!(in_window(MINUTE, true) <= 20, "group {chat} above 20/min");
            }
        }
        // 360 messages at 30/s take 12 s; the limiter does not waste time either.
        let took = log.last().expect("sent").1.duration_since(start);
        assert!(
            took >= Duration::from_secs(11) && took < Duration::from_secs(13),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn groups_get_twenty_a_minute() {
        let mut lim = Limiter::new(REAL);
        let start = Instant::now();
        let mut sent = 0;
        while sent < 21 {
            let at = lim.ready_at(-5, Instant::now());
            tokio::time::sleep_until(at).await;
            lim.record(-5, Instant::now());
            sent += 1;
        }
        // 20 at one per second, the 21st a minute after the first.
        assert_eq!(Instant::now().duration_since(start), MINUTE);
    }
}
