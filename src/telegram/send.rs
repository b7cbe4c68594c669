//! The delivery task: drains the outbox into Telegram within its rate limits.
//!
//! Owns the sending policy; the state it keeps across restarts lives in `store::outbox`.
//! Must not: decide who gets what (that is [`crate::deliver::route()`], at admission), or sleep on a
//! chat's flood wait in a way a restart would forget (`retry_at` is persisted).
//!
//! A digest (`Body::Digest`) is sent like an alert (the same in-flight marks, retries and
//! ambiguity rules; `sent.v1` under its digest id), rendered by `digest::render::html` into
//! its parts (split at rule boundaries) with link previews off; an entry marked `silent`
//! (quiet hours, mode silent) goes with `disable_notification`.
//!
//! Several requests are in flight at once, across chats: each chat strictly in order with at
//! most one request in flight, overall at most `max_in_flight` and within the rate limits.
//! What may go next comes from an in-memory `Index` of the outbox (each chat's queue, the
//! chats ready now by their oldest entry, the chats waiting until an instant), built from the
//! store at start and kept in step with it: new entries are found by reading only the keys
//! after the last one seen. The store is read per send for one entry, never scanned.
//!
//! Crash safety with grouped flushes: the entries of one dispatch round are marked
//! `in_flight`, the store is flushed once, then their requests go out (a round waits up to
//! `ROUND_GATHER` (5 ms) for more free slots while more than half the window is in flight). An accepted answer is
//! written at once but flushed with the next round (or within [`GROUP_FLUSH`]): killed before
//! that, the restart finds the mark and resends once, logged as an ambiguous resend. Every
//! answer that says "not delivered" (429, 5xx, a rejection) is flushed before the sender acts
//! on it, so a kill never turns it into an ambiguous send.
//!
//! An entry leaves the outbox only when Telegram accepted every part (its `message_id`s go to
//! the sent record, written just before the entry is removed) or failed permanently.
//!
//! | Telegram said | what happens |
//! |---|---|
//! | 429 `retry_after` | that chat's `retry_at` is persisted and flushed; other chats keep flowing |
//! | can't parse entities | the part is resent as plain text |
//! | message is too long | the part is split in two and resent |
//! | `migrate_to_chat_id` | the chat id is rewritten everywhere in the store and the index, then resent |
//! | blocked, deactivated, kicked, chat not found, any `Forbidden:` | the chat's subscriptions end, its queue is dropped (store and index), admins get a notice |
//! | other 4xx | the entry is dropped and logged |
//! | 5xx (as soon as the status line is in; no 10 s sleep) | not delivered: the in-flight mark is cleared and flushed, that chat retries after a capped exponential backoff; other chats keep flowing |
//! | connection refused, token refused | not delivered: no new request to anyone before a capped exponential backoff (requests in flight go on) |
//! | timeout after sending, unreadable or cut-off answer | ambiguous: resent at most once, then recorded as `uncertain` and never sent again |
//!
//! Requests are made by [`super::api`] (reqwest, the client teloxide built), not teloxide's
//! request path, which sleeps 10 s on any 5xx before it returns.
//!
//! Rate limits come from a small sliding-window log ([`Limiter`]) rather than `governor`:
//! windows give the exact guarantee we test ("never more than N in any window"), where a token
//! bucket allows a burst of N right after N; the limiter runs on tokio's clock, so tests can
//! prove it with a paused clock; and it keeps per-chat state next to the persisted flood waits.
//! teloxide's `Throttle` adaptor is not used: it retries 429s itself and freezes every chat.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use chrono_tz::Tz;
use teloxide::Bot;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Failure;
use super::api::{Api, EditMessageText, LinkPreviewOptions, SendMessage};
use super::render::Split;
use crate::config::TelegramConfig;
use crate::metrics::Metrics;
use crate::store::outbox::{Body, OutboxEntry, Part, SentRecord};
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

/// The 1-s windows are kept 20 ms wider than a second: a request is recorded when it is
/// decided, and it leaves a few milliseconds later (after the round's flush, through the
/// connection pool), so without a margin two rounds a second apart could arrive closer than
/// that. Costs 2% of the ceiling (29.4 msg/s).
const SECOND: Duration = Duration::from_millis(1020);
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
        self.global_ready_at(now).max(self.chat_ready_at(chat, now))
    }

    /// When the overall window has room for one more message.
    pub fn global_ready_at(&self, now: Instant) -> Instant {
        window_ready(&self.global, SECOND, self.limits.global_per_sec, now)
    }

    /// When `chat`'s own windows (per chat, per group) have room for one more message.
    pub fn chat_ready_at(&self, chat: i64, now: Instant) -> Instant {
        let Some(times) = self.chats.get(&chat) else {
            return now;
        };
        let mut at = window_ready(times, SECOND, self.limits.per_chat_per_sec, now);
        if chat < 0 {
            at = at.max(window_ready(
                times,
                MINUTE,
                self.limits.per_group_per_min,
                now,
            ));
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

impl Limiter {
    /// The requests just recorded for `chats` (one each: the most recent records) leave at
    /// `at`, later than they were decided (after the round's flush): the windows count them
    /// from then, so a slow flush cannot squeeze two rounds into one window.
    pub fn left_at(&mut self, chats: &[i64], at: Instant) {
        let len = self.global.len();
        let n = chats.len().min(len);
        for t in self.global.range_mut(len - n..) {
            *t = (*t).max(at);
        }
        for chat in chats {
            if let Some(t) = self.chats.get_mut(chat).and_then(|t| t.back_mut()) {
                *t = (*t).max(at);
            }
        }
    }
}

/// With `times` ascending: when a new event keeps at most `n` events in any `window`.
fn window_ready(times: &VecDeque<Instant>, window: Duration, n: u32, now: Instant) -> Instant {
    let n = n.max(1) as usize;
    // The events still inside the window are a suffix of the ascending log.
    let first_recent = times.partition_point(|t| now.saturating_duration_since(*t) >= window);
    let recent = times.len() - first_recent;
    if recent < n {
        now
    } else {
        times[times.len() - n] + window
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
    /// At most this many requests in flight at once (each to a different chat).
    pub max_in_flight: usize,
    /// Sets `allow_paid_broadcast` on every message (Telegram Stars, above 30 msg/s).
    pub paid_broadcast: bool,
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
            max_in_flight: config.max_in_flight,
            paid_broadcast: config.allow_paid_broadcast,
        }
    }
}

/// Accepted answers written but not flushed yet are flushed at most this long after the first
/// of them (or with the next dispatch round, whichever comes first). A kill in between costs an
/// ambiguous resend of those messages, never a loss.
pub const GROUP_FLUSH: Duration = Duration::from_millis(100);

/// How long a dispatch round may wait for more of the window to free up (see
/// [`Sender::dispatch`]): a few milliseconds of latency for one flush per several requests.
const ROUND_GATHER: Duration = Duration::from_millis(5);

/// Entries found in the store but not in the index are looked for this often (stories
/// committed out of sequence order by concurrent polls); new entries are found at once by the
/// read of the keys after the last one seen.
const RECONCILE: Duration = Duration::from_secs(10);

/// Where a chat stands in the [`Index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Not schedulable: empty, or a request in flight.
    None,
    /// In `ready`, under its oldest sequence number.
    Ready(u64),
    /// In `timed`, waiting until this instant.
    Timed(Instant),
}

#[derive(Debug)]
struct ChatQueue {
    /// Queued sequence numbers, oldest first.
    seqs: BTreeSet<u64>,
    /// A request for this chat is in flight.
    busy: bool,
    /// Nothing goes to this chat before this instant (flood wait, backoff, its rate window).
    wait: Option<Instant>,
    /// The last 5xx backoff of this chat, doubled on the next one.
    backoff: Option<Duration>,
    slot: Slot,
}

impl ChatQueue {
    fn new() -> ChatQueue {
        ChatQueue {
            seqs: BTreeSet::new(),
            busy: false,
            wait: None,
            backoff: None,
            slot: Slot::None,
        }
    }
}

/// The sender's in-memory view of the outbox: which chats have what queued, which may send
/// now (by their oldest entry, so the oldest message overall goes first) and which wait.
#[derive(Debug, Default)]
struct Index {
    chats: HashMap<i64, ChatQueue>,
    ready: BTreeSet<(u64, i64)>,
    timed: BTreeSet<(Instant, i64)>,
    /// Every queued sequence number, with its chat.
    seqs: HashMap<u64, i64>,
    /// The highest sequence number seen in the store.
    last: Option<u64>,
}

impl Index {
    fn add(&mut self, seq: u64, chat: i64, now: Instant) {
        self.last = Some(self.last.map_or(seq, |l| l.max(seq)));
        if self.seqs.insert(seq, chat).is_some() {
            return;
        }
        self.chats
            .entry(chat)
            .or_insert_with(ChatQueue::new)
            .seqs
            .insert(seq);
        self.place(chat, now);
    }

    /// The entry left the outbox (sent, dropped).
    fn remove(&mut self, seq: u64, now: Instant) {
        if let Some(chat) = self.seqs.remove(&seq) {
            if let Some(q) = self.chats.get_mut(&chat) {
                q.seqs.remove(&seq);
            }
            self.place(chat, now);
        }
    }

    /// Puts `chat` where its state says: ready, waiting, or nowhere; forgets an idle chat.
    fn place(&mut self, chat: i64, now: Instant) {
        let Some(q) = self.chats.get_mut(&chat) else {
            return;
        };
        match q.slot {
            Slot::Ready(head) => {
                self.ready.remove(&(head, chat));
            }
            Slot::Timed(at) => {
                self.timed.remove(&(at, chat));
            }
            Slot::None => {}
        }
        if q.wait.is_some_and(|w| w <= now) {
            q.wait = None;
        }
        q.slot = match (q.busy, q.seqs.first(), q.wait) {
            (true, _, _) | (false, None, _) => Slot::None,
            (false, Some(_), Some(at)) => {
                self.timed.insert((at, chat));
                Slot::Timed(at)
            }
            (false, Some(&head), None) => {
                self.ready.insert((head, chat));
                Slot::Ready(head)
            }
        };
        if q.slot == Slot::None && !q.busy && q.seqs.is_empty() && q.wait.is_none() {
            self.chats.remove(&chat);
        }
    }

    fn queue(&mut self, chat: i64) -> &mut ChatQueue {
        self.chats.entry(chat).or_insert_with(ChatQueue::new)
    }

    fn set_wait(&mut self, chat: i64, until: Instant, now: Instant) {
        let q = self.queue(chat);
        q.wait = Some(q.wait.map_or(until, |w| w.max(until)));
        self.place(chat, now);
    }

    fn set_busy(&mut self, chat: i64, busy: bool, now: Instant) {
        self.queue(chat).busy = busy;
        self.place(chat, now);
    }

    /// Moves the chats whose wait is over to `ready`.
    fn promote(&mut self, now: Instant) {
        while let Some(&(at, chat)) = self.timed.first() {
            if at > now {
                break;
            }
            self.timed.remove(&(at, chat));
            if let Some(q) = self.chats.get_mut(&chat) {
                q.slot = Slot::None;
            }
            self.place(chat, now);
        }
    }

    /// `end_chat`: the chat's queue left the store.
    fn drop_chat(&mut self, chat: i64, now: Instant) {
        if let Some(q) = self.chats.get_mut(&chat) {
            for seq in std::mem::take(&mut q.seqs) {
                self.seqs.remove(&seq);
            }
        }
        self.place(chat, now);
    }

    /// `migrate_chat`: the chat's queue, wait and state move to `new` (merged in sequence
    /// order with whatever `new` already had).
    fn migrate(&mut self, old: i64, new: i64, now: Instant) {
        let Some(mut from) = self.chats.remove(&old) else {
            return;
        };
        match from.slot {
            Slot::Ready(head) => {
                self.ready.remove(&(head, old));
            }
            Slot::Timed(at) => {
                self.timed.remove(&(at, old));
            }
            Slot::None => {}
        }
        for seq in &from.seqs {
            self.seqs.insert(*seq, new);
        }
        let to = self.queue(new);
        to.seqs.append(&mut from.seqs);
        to.busy |= from.busy;
        to.wait = match (to.wait, from.wait) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.place(new, now);
    }

    /// The soonest instant a waiting chat becomes ready.
    fn next_wait(&self) -> Option<Instant> {
        self.timed.first().map(|(at, _)| *at)
    }
}

/// One request's outcome, back from its task.
struct Done {
    seq: u64,
    entry: OutboxEntry,
    part: usize,
    result: Result<i32, Failure>,
}

/// What a finished request asks of the store before anything else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// An accepted answer: it may wait for the next grouped flush (a kill before it costs an
    /// ambiguous resend).
    Grouped,
    /// A "not delivered" answer (429, 5xx, a rejection): flushed before the sender acts on it,
    /// so a kill cannot make it look ambiguous.
    Now,
}

/// The delivery task. Build it, keep [`Sender::waker`] for the pipeline, then [`Sender::run`].
pub struct Sender {
    api: Api,
    store: Arc<Store>,
    settings: Settings,
    limiter: Limiter,
    wake: Arc<Notify>,
    /// After a connection failure: no new request before this instant.
    backoff: Option<(Instant, Duration)>,
    metrics: Arc<Metrics>,
    /// Reloaded settings, when the daemon publishes them.
    updates: Option<tokio::sync::watch::Receiver<Settings>>,
    index: Index,
    in_flight: JoinSet<Done>,
    /// Task → (sequence, chat) of the requests in flight, to free the chat if a task panics.
    tasks: HashMap<tokio::task::Id, (u64, i64)>,
    /// Accepted answers written but not flushed since this instant.
    unflushed: Option<Instant>,
    /// A dispatch round deferred since this instant to gather more free slots.
    gather: Option<Instant>,
    delivered: Arc<AtomicU64>,
}

impl Sender {
    pub fn new(bot: Bot, store: Arc<Store>, settings: Settings) -> Sender {
        Sender {
            api: Api::new(&bot),
            store,
            limiter: Limiter::new(settings.limits),
            settings,
            wake: Arc::new(Notify::new()),
            backoff: None,
            metrics: Arc::new(Metrics::new()),
            updates: None,
            index: Index::default(),
            in_flight: JoinSet::new(),
            tasks: HashMap::new(),
            unflushed: None,
            gather: None,
            delivered: Arc::new(AtomicU64::new(0)),
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

    /// Counts the outbox entries delivered (every part accepted) since the start.
    pub fn delivered(&self) -> Arc<AtomicU64> {
        self.delivered.clone()
    }

    /// Delivers until `shutdown` resolves. Requests in flight when it does are finished (each
    /// is bounded by the HTTP client's timeout) and their outcomes recorded, never abandoned
    /// half-way.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        if let Err(e) = self.start() {
            tracing::error!(error = %e, "cannot recover the outbox after a restart");
        }
        tokio::pin!(shutdown);
        let mut reconcile = Instant::now() + RECONCILE;
        loop {
            self.refresh_settings();
            let next = match self.dispatch().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "outbox error; retrying");
                    Some(Instant::now() + self.settings.rescan)
                }
            };
            let now = Instant::now();
            let mut until = now + self.settings.rescan;
            if let Some(next) = next {
                until = until.min(next);
            }
            if let Some(since) = self.unflushed {
                until = until.min(since + GROUP_FLUSH);
            }
            let busy = !self.in_flight.is_empty();
            tokio::select! {
                _ = &mut shutdown => break,
                done = self.in_flight.join_next_with_id(), if busy => {
                    self.finished(done).await;
                }
                _ = tokio::time::sleep_until(until) => {
                    if self.unflushed.is_some_and(|s| s + GROUP_FLUSH <= Instant::now()) {
                        self.flush().await;
                    }
                    let full = Instant::now() >= reconcile;
                    if full {
                        reconcile = Instant::now() + RECONCILE;
                    }
                    self.scan(full);
                }
                _ = self.wake.notified() => self.scan(false),
            }
        }
        // Finish what is in flight, so its outcome is on disk.
        while !self.in_flight.is_empty() {
            let done = self.in_flight.join_next_with_id().await;
            self.finished(done).await;
        }
        self.flush().await;
        tracing::info!(
            queued = self.store.outbox_len(),
            delivered = self.delivered.load(Ordering::Relaxed),
            "telegram delivery stopped"
        );
    }

    fn refresh_settings(&mut self) {
        if let Some(updates) = &mut self.updates
            && updates.has_changed().unwrap_or(false)
        {
            self.settings = updates.borrow_and_update().clone();
            self.limiter.set_limits(self.settings.limits);
        }
    }

    /// At start-up: an entry found `in_flight` was being sent when the process died, so that
    /// attempt is ambiguous; then the index is built from the outbox and the persisted flood
    /// waits. The only full read of the outbox.
    fn start(&mut self) -> Result<(), StoreError> {
        let now = Instant::now();
        let marks = self.store.in_flight_marks()?;
        let mut recovered = !marks.is_empty();
        for (seq, mut entry) in self.store.outbox()? {
            let chat = entry.chat;
            // A stale mark (an outcome was written after it, the process died before the mark
            // was removed) is not an unknown outcome: `InFlight::is_live`.
            let marked = marks.get(&seq).is_some_and(|m| m.is_live(&entry));
            if entry.in_flight || marked {
                entry.in_flight = false;
                // An outcome (unknown) written like any other: it moves `attempts` on, so a
                // kill before the mark's removal below leaves a stale mark, not a second
                // ambiguous attempt that would spend the resend.
                entry.attempts = entry.attempts.saturating_add(1);
                recovered = true;
                if self.ambiguous(
                    seq,
                    entry,
                    "the process stopped while a request was in flight",
                )? {
                    // Given up (uncertain): it left the outbox.
                    self.index.last = Some(self.index.last.map_or(seq, |l| l.max(seq)));
                    continue;
                }
            }
            self.index.add(seq, chat, now);
        }
        // Every mark is settled now (the outcomes above are written first).
        for seq in marks.keys() {
            self.store.clear_in_flight(*seq)?;
        }
        if recovered {
            self.store.flush()?;
        }
        let wall = Utc::now();
        for (chat, state) in self.store.chat_states()? {
            if let Some(d) = state.retry_at.and_then(|t| (t - wall).to_std().ok())
                && self.index.chats.contains_key(&chat)
            {
                self.index.set_wait(chat, now + d, now);
            }
        }
        Ok(())
    }

    /// Brings the index in step with entries queued since the last look (only keys after
    /// the last seen); with `full`, also with entries committed out of order.
    fn scan(&mut self, full: bool) {
        let now = Instant::now();
        let found = match self.store.outbox_chats_after(self.index.last) {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "cannot read new outbox entries");
                return;
            }
        };
        for (seq, chat) in found {
            self.index.add(seq, chat, now);
        }
        if !full {
            return;
        }
        let seqs = match self.store.outbox_seqs() {
            Ok(seqs) => seqs,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                return;
            }
        };
        for seq in seqs {
            if self.index.seqs.contains_key(&seq) {
                continue;
            }
            match self.store.outbox_entry(seq) {
                Ok(Some(e)) => self.index.add(seq, e.chat, now),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, seq, "cannot read an outbox entry"),
            }
        }
    }

    /// Starts every request that may go now: marks them in flight, flushes once, sends them.
    /// Returns when to look again (`None`: only when something happens).
    async fn dispatch(&mut self) -> Result<Option<Instant>, StoreError> {
        // Rounds are gathered: with requests still in flight and less than half the window
        // free, wait up to ROUND_GATHER for more answers, so that one flush covers several
        // marks (answers trickle in one by one when the limits are not what holds us back).
        let now = Instant::now();
        let window = self.settings.max_in_flight.max(1);
        let free = window.saturating_sub(self.in_flight.len());
        let waiting =
            !self.index.ready.is_empty() || self.index.next_wait().is_some_and(|w| w <= now);
        if free == 0 {
            // Nothing can go before an answer comes back (it wakes the loop); the gathering
            // starts when the first slot frees.
            self.gather = None;
            return Ok(None);
        }
        if waiting && !self.in_flight.is_empty() && free < window.div_ceil(2) {
            let since = *self.gather.get_or_insert(now);
            if now < since + ROUND_GATHER {
                return Ok(Some(since + ROUND_GATHER));
            }
        }
        self.gather = None;
        let mut batch: Vec<(u64, OutboxEntry, usize)> = Vec::new();
        let mut next = None;
        let result = self.choose(&mut batch, &mut next);
        if !batch.is_empty() {
            // One flush for the whole round (and for accepted answers not flushed yet): the
            // marks are on disk before any request is written.
            if !self.flush().await {
                // The marks may not be on disk: nothing goes out. The chats retry after a
                // backoff (the entries stay marked: a kill now makes them ambiguous, resent once).
                let now = Instant::now();
                for (_, entry, _) in batch {
                    self.index.set_busy(entry.chat, false, now);
                    self.index
                        .set_wait(entry.chat, now + self.settings.backoff_min, now);
                }
                return result.map(|()| next);
            }
            let chats: Vec<i64> = batch.iter().map(|(_, e, _)| e.chat).collect();
            self.limiter.left_at(&chats, Instant::now());
            for (seq, entry, part) in batch {
                self.send(seq, entry, part);
            }
        }
        result.map(|()| next)
    }

    fn choose(
        &mut self,
        batch: &mut Vec<(u64, OutboxEntry, usize)>,
        next: &mut Option<Instant>,
    ) -> Result<(), StoreError> {
        let window = self.settings.max_in_flight.max(1);
        loop {
            if self.in_flight.len() + batch.len() >= window {
                return Ok(());
            }
            let now = Instant::now();
            if let Some((until, _)) = self.backoff
                && until > now
            {
                *next = Some(until);
                return Ok(());
            }
            self.index.promote(now);
            *next = self.index.next_wait();
            let Some(&(seq, chat)) = self.index.ready.first() else {
                return Ok(());
            };
            let global = self.limiter.global_ready_at(now);
            if global > now {
                *next = Some(next.map_or(global, |n| n.min(global)));
                return Ok(());
            }
            let own = self.limiter.chat_ready_at(chat, now);
            if own > now {
                self.index.set_wait(chat, own, now);
                continue;
            }
            match self.prepare(seq, chat)? {
                Some((entry, part)) => {
                    self.limiter.record(chat, now);
                    self.index.set_busy(chat, true, now);
                    batch.push((seq, entry, part));
                }
                None => continue,
            }
        }
    }

    /// Reads the entry, drops it if it must not go, renders it on its first attempt, and
    /// marks it in flight (written, not flushed: the round flushes once). `None`: nothing to
    /// send for it (it left the outbox).
    fn prepare(&mut self, seq: u64, chat: i64) -> Result<Option<(OutboxEntry, usize)>, StoreError> {
        let now = Instant::now();
        let Some(mut entry) = self.store.outbox_entry(seq)? else {
            self.index.remove(seq, now);
            return Ok(None);
        };
        if entry.chat != chat {
            // Rewritten behind the index's back (a migration it missed): follow the store.
            self.index.remove(seq, now);
            self.index.add(seq, entry.chat, now);
            return Ok(None);
        }
        if let Some(story) = &entry.story {
            if self.store.sent(chat, story)?.is_some() {
                tracing::info!(chat, story = %story, "already sent to this chat; dropped");
                self.store.drop_outbox_entry(seq)?;
                self.index.remove(seq, now);
                return Ok(None);
            }
            if self.store.subscription(chat)?.is_some_and(|s| !s.active()) {
                tracing::info!(chat, story = %story, "chat paused or ended; alert dropped");
                self.store.drop_outbox_entry(seq)?;
                self.index.remove(seq, now);
                return Ok(None);
            }
        }
        if let Body::Fold(_) = &entry.body
            && !self.prepare_fold(seq, &mut entry)?
        {
            self.index.remove(seq, now);
            return Ok(None);
        }
        let fresh = entry.parts.is_empty();
        if fresh && let Body::Digest(d) = &entry.body {
            // Split at rule boundaries by the digest renderer, not by the alert splitter.
            entry.parts = crate::digest::render::html(&d.digest(self.settings.timezone))
                .into_iter()
                .map(|text| Part { text, plain: false })
                .collect();
            if entry.parts.is_empty() {
                tracing::info!(chat, story = ?entry.story, "an empty digest; not sent");
                self.store.drop_outbox_entry(seq)?;
                self.index.remove(seq, now);
                return Ok(None);
            }
        }
        entry.render_parts(self.settings.timezone);
        let k = entry.sent_parts.len();
        if k >= entry.parts.len() {
            self.complete(seq, &entry, false)?;
            self.index.remove(seq, now);
            return Ok(None);
        }
        // A message of several parts keeps its rendering on disk: `sent_parts` counts into it,
        // so a restart must not split it anew. A single part is rendered again after a restart
        // (the same body, the same text), so the first attempt writes only its mark.
        if fresh && entry.parts.len() > 1 {
            self.store.update_outbox_entry(seq, &entry)?;
        }
        // Written before the request (and flushed with the round): if the process dies while
        // it is out, the restart knows this attempt is ambiguous.
        self.store.mark_in_flight(seq, k, entry.attempts)?;
        Ok(Some((entry, k)))
    }

    /// Finds the message a fold entry edits (`sent.v1`), or decides it must not be sent:
    /// covered by a later edit of the same message (the edits are cumulative), or nothing to
    /// edit. Without the chat's first message the copy's own alert (when it matched the chat's
    /// rules) goes out as a message of its own, so the copy is not lost. `false`: the entry
    /// left the outbox.
    fn prepare_fold(&mut self, seq: u64, entry: &mut OutboxEntry) -> Result<bool, StoreError> {
        let chat = entry.chat;
        let Body::Fold(fold) = &mut entry.body else {
            return Ok(true);
        };
        let target = self
            .store
            .sent(chat, &fold.target)?
            .and_then(|r| r.message_ids.last().copied());
        match (target, fold.own.take()) {
            (Some(id), own) => {
                // Only an edit of a message that exists is covered by a later one: without the
                // message, each copy's own alert matters (the later edit may carry none).
                let later = self
                    .index
                    .chats
                    .get(&chat)
                    .map(|q| q.seqs.range(seq + 1..).copied().collect::<Vec<u64>>())
                    .unwrap_or_default();
                for next in later {
                    if let Some(e) = self.store.outbox_entry(next)?
                        && let Body::Fold(f) = &e.body
                        && f.cluster == fold.cluster
                        && f.target == fold.target
                    {
                        tracing::debug!(
                            chat,
                            seq,
                            later = next,
                            "edit covered by a later edit of the same message"
                        );
                        self.store.drop_outbox_entry(seq)?;
                        return Ok(false);
                    }
                }
                fold.message_id = Some(id);
                fold.own = own;
                Ok(true)
            }
            (None, Some(own)) => {
                tracing::warn!(
                    chat,
                    story = ?entry.story,
                    cluster = %crate::deliver::cluster_hex(fold.cluster),
                    "the chat's first message for this story was never sent; sending this copy as an alert of its own"
                );
                entry.body = Body::Alert(own);
                entry.parts.clear();
                self.store.update_outbox_entry(seq, entry)?;
                Ok(true)
            }
            (None, None) => {
                tracing::info!(
                    chat,
                    story = ?entry.story,
                    cluster = %crate::deliver::cluster_hex(fold.cluster),
                    "a copy from another outlet, but the chat's first message for this story was never sent: nothing to edit"
                );
                self.store.drop_outbox_entry(seq)?;
                Ok(false)
            }
        }
    }

    fn send(&mut self, seq: u64, entry: OutboxEntry, part: usize) {
        let api = self.api.clone();
        let paid = self.settings.paid_broadcast;
        let chat = entry.chat;
        let handle = self.in_flight.spawn(async move {
            let p = &entry.parts[part];
            let parse_mode = (!p.plain).then_some("HTML");
            let edit = match &entry.body {
                Body::Fold(f) => f.message_id,
                _ => None,
            };
            let result = match edit {
                Some(message_id) => {
                    let body = EditMessageText {
                        chat_id: entry.chat,
                        message_id,
                        text: &p.text,
                        parse_mode,
                    };
                    api.edit_message_text(&body).await
                }
                None => {
                    let body = SendMessage {
                        chat_id: entry.chat,
                        text: &p.text,
                        parse_mode,
                        allow_paid_broadcast: paid,
                        disable_notification: entry.silent,
                        link_preview_options: matches!(entry.body, Body::Digest(_))
                            .then_some(LinkPreviewOptions { is_disabled: true }),
                    };
                    api.send_message(&body).await
                }
            };
            Done {
                seq,
                entry,
                part,
                result,
            }
        });
        self.tasks.insert(handle.id(), (seq, chat));
    }

    /// Records one finished request and every other one already finished, then flushes if
    /// any of them said "not delivered".
    async fn finished(
        &mut self,
        first: Option<Result<(tokio::task::Id, Done), tokio::task::JoinError>>,
    ) {
        let mut now_needed = false;
        let mut next = first;
        while let Some(joined) = next {
            match joined {
                Ok((id, done)) => {
                    self.tasks.remove(&id);
                    let chat = done.entry.chat;
                    match self.record(done) {
                        Ok(Durability::Now) => now_needed = true,
                        Ok(Durability::Grouped) => {}
                        Err(e) => {
                            now_needed = true;
                            tracing::error!(chat, error = %e, "cannot record a telegram answer");
                        }
                    }
                }
                Err(e) => {
                    // A request task panicked: its chat is freed; its entry keeps its mark,
                    // so the next start treats it as ambiguous.
                    if let Some((seq, chat)) = self.tasks.remove(&e.id()) {
                        tracing::error!(chat, seq, error = %e, "a telegram request failed");
                        let now = Instant::now();
                        self.index.set_busy(chat, false, now);
                        self.index
                            .set_wait(chat, now + self.settings.backoff_max, now);
                    }
                }
            }
            next = self.in_flight.try_join_next_with_id();
        }
        if now_needed {
            self.flush().await;
        } else if self.unflushed.is_none() {
            self.unflushed = Some(Instant::now());
        }
    }

    /// Flushes the store off the async threads (sled's flush is an fsync); whether it worked.
    async fn flush(&mut self) -> bool {
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || store.flush()).await;
        match result {
            Ok(Ok(())) => {
                self.unflushed = None;
                true
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot flush the store");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "the store flush did not finish");
                false
            }
        }
    }

    fn record(&mut self, done: Done) -> Result<Durability, StoreError> {
        let Done {
            seq,
            mut entry,
            part,
            result,
        } = done;
        let chat = entry.chat;
        let now = Instant::now();
        entry.in_flight = false;
        // The chat may take its next request once this outcome is recorded (and, when it says
        // "not delivered", flushed: the caller does that before the next dispatch).
        self.index.set_busy(chat, false, now);
        let durability = match result {
            Ok(message_id) => {
                self.backoff = None;
                if let Some(q) = self.index.chats.get_mut(&chat) {
                    q.backoff = None;
                }
                entry.sent_parts.push(message_id);
                if entry.sent_parts.len() >= entry.parts.len() {
                    self.complete(seq, &entry, false)?;
                    self.index.remove(seq, now);
                } else {
                    self.store.update_outbox_entry(seq, &entry)?;
                }
                Durability::Grouped
            }
            Err(failure) => {
                entry.attempts = entry.attempts.saturating_add(1);
                self.failed(seq, entry, part, failure)?;
                Durability::Now
            }
        };
        // After the outcome is written, never before (sled recovers a prefix of its writes):
        // a kill between the two leaves a stale mark that `start` recognises by `sent_parts`,
        // or the entry gone, never a mark missing while the outcome is unknown.
        self.store.clear_in_flight(seq)?;
        Ok(durability)
    }

    fn failed(
        &mut self,
        seq: u64,
        mut entry: OutboxEntry,
        k: usize,
        failure: Failure,
    ) -> Result<(), StoreError> {
        let chat = entry.chat;
        let now = Instant::now();
        match failure {
            Failure::RetryAfter(wait) => {
                self.metrics.telegram_429();
                let mut state = self.store.chat_state(chat)?;
                state.retry_at =
                    Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
                self.store.set_chat_state(chat, &state)?;
                self.store.update_outbox_entry(seq, &entry)?;
                // On disk before it is acted on: a kill now must not shorten the wait.
                self.store.flush()?;
                tracing::warn!(
                    chat,
                    retry_after = wait.as_secs(),
                    "telegram flood control: chat paused"
                );
                self.index.set_wait(chat, now + wait, now);
                Ok(())
            }
            Failure::CantParse(why) => {
                tracing::warn!(chat, error = %why, "telegram cannot parse the HTML; resending as plain text");
                entry.make_plain_from(k, self.settings.timezone);
                self.store.update_outbox_entry(seq, &entry)
            }
            Failure::TooLong if matches!(entry.body, Body::Fold(_)) => {
                tracing::warn!(chat, story = ?entry.story, "telegram says the edited message is too long; left as it was");
                self.index.remove(seq, now);
                self.store.drop_outbox_entry(seq)
            }
            Failure::TooLong => match entry.split_part(k) {
                Split::Tiny { len } => {
                    tracing::error!(
                        chat,
                        len,
                        "telegram says a tiny message is too long; dropped"
                    );
                    self.gave_up(&entry, "rejected");
                    self.index.remove(seq, now);
                    self.store.drop_outbox_entry(seq)
                }
                Split::Done { len, pieces } => {
                    tracing::warn!(
                        chat,
                        len,
                        pieces,
                        "telegram says the message is too long; split"
                    );
                    self.store.update_outbox_entry(seq, &entry)
                }
            },
            Failure::Migrated(new) => {
                tracing::warn!(
                    chat,
                    new_chat = new,
                    "group migrated to a supergroup; chat id rewritten"
                );
                self.store.update_outbox_entry(seq, &entry)?;
                self.store.migrate_chat(chat, new)?;
                self.index.migrate(chat, new, now);
                Ok(())
            }
            Failure::ChatGone(reason) => {
                let dropped = self.store.end_chat(chat, &reason, Utc::now())?;
                self.index.drop_chat(chat, now);
                self.metrics.alerts_failed("chat_gone", dropped);
                tracing::warn!(chat, reason = %reason, dropped, "chat gone: subscriptions ended");
                let text = format!(
                    "kkachi: chat {chat} no longer receives alerts ({reason}). Its subscriptions are ended; \
                     {dropped} queued message(s) dropped."
                );
                let admins = self.settings.admins.iter().copied().filter(|&a| a != chat);
                self.store
                    .enqueue(&OutboxEntry::notices(admins, &text, Utc::now()))?;
                self.scan(false);
                Ok(())
            }
            Failure::Rejected(reason) if matches!(entry.body, Body::Fold(_)) => {
                // Deleted by the reader, too old, or otherwise not editable: left alone, once.
                tracing::warn!(chat, reason = %reason, story = ?entry.story, "cannot edit the story's message to add another outlet; left as it was");
                self.index.remove(seq, now);
                self.store.drop_outbox_entry(seq)
            }
            Failure::Rejected(reason) => {
                tracing::error!(chat, reason = %reason, story = ?entry.story, "telegram rejected the message; dropped");
                self.gave_up(&entry, "rejected");
                self.index.remove(seq, now);
                self.store.drop_outbox_entry(seq)
            }
            Failure::Transient(reason) => {
                let q = self.index.queue(chat);
                let wait = q.backoff.map_or(self.settings.backoff_min, |d| {
                    (d * 2).min(self.settings.backoff_max)
                });
                q.backoff = Some(wait);
                self.store.update_outbox_entry(seq, &entry)?;
                // Not delivered, and on disk as such before anything else happens: a kill
                // now must not make this send look ambiguous.
                self.store.flush()?;
                tracing::warn!(chat, reason = %reason, wait_ms = wait.as_millis() as u64, "telegram server error; this chat backs off");
                self.index.set_wait(chat, now + wait, now);
                Ok(())
            }
            Failure::Unreachable(reason) => {
                let wait = self.backoff.map_or(self.settings.backoff_min, |(_, d)| {
                    (d * 2).min(self.settings.backoff_max)
                });
                self.backoff = Some((now + wait, wait));
                self.store.update_outbox_entry(seq, &entry)?;
                tracing::warn!(chat, reason = %reason, wait_ms = wait.as_millis() as u64, "telegram unreachable; backing off");
                Ok(())
            }
            Failure::Ambiguous(reason) => {
                if self.ambiguous(seq, entry, &reason)? {
                    self.index.remove(seq, now);
                }
                Ok(())
            }
        }
    }

    /// Invariant (resend at most once): a request that may have reached Telegram is resent once;
    /// if that too ends ambiguously, the entry is recorded as sent-`uncertain` and never resent.
    /// Returns whether the entry left the outbox.
    fn ambiguous(
        &self,
        seq: u64,
        mut entry: OutboxEntry,
        reason: &str,
    ) -> Result<bool, StoreError> {
        entry.ambiguous = entry.ambiguous.saturating_add(1);
        if entry.ambiguous >= 2 {
            tracing::error!(chat = entry.chat, reason, story = ?entry.story, "outcome unknown twice; not resending");
            self.complete(seq, &entry, true)?;
            return Ok(true);
        }
        tracing::warn!(chat = entry.chat, reason, story = ?entry.story, "outcome unknown; resending once");
        self.store.update_outbox_entry(seq, &entry)?;
        Ok(false)
    }

    /// Counts an alert given up (admin notices are not what `kkachi_alerts_queued_total`
    /// counts, so they are left out here too).
    fn gave_up(&self, entry: &OutboxEntry, reason: &'static str) {
        if entry.story.is_some() {
            self.metrics.alerts_failed(reason, 1);
        }
    }

    /// The entry leaves the outbox after its sent record is written. Not flushed here:
    /// the caller groups flushes (see the module doc).
    fn complete(&self, seq: u64, entry: &OutboxEntry, uncertain: bool) -> Result<(), StoreError> {
        let record = SentRecord {
            message_ids: entry.sent_parts.clone(),
            sent_at: Utc::now(),
            uncertain,
        };
        self.store.complete(seq, entry, &record)?;
        if uncertain {
            self.gave_up(entry, "uncertain");
        } else {
            self.delivered.fetch_add(1, Ordering::Relaxed);
            if entry.story.is_some() && matches!(entry.body, Body::Alert(_)) {
                let latency = (record.sent_at - entry.enqueued_at).to_std();
                self.metrics.alert_sent(latency.unwrap_or_default());
            }
        }
        Ok(())
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

    /// The index serves the oldest entry of the chats that may send, one request per chat,
    /// and follows migrations and ended chats.
    #[tokio::test(start_paused = true)]
    async fn the_index_keeps_chat_order_migrations_and_ended_chats() {
        let now = Instant::now();
        let mut ix = Index::default();
        for (seq, chat) in [(1, 10), (2, 20), (3, 10), (4, -5), (5, 20), (6, -5)] {
            ix.add(seq, chat, now);
        }
        assert_eq!(ix.last, Some(6));
        let ready: Vec<(u64, i64)> = ix.ready.iter().copied().collect();
        assert_eq!(ready, vec![(1, 10), (2, 20), (4, -5)]);
        // A request in flight takes the chat out; its completion brings the next entry.
        ix.set_busy(10, true, now);
        assert!(!ix.ready.contains(&(1, 10)));
        ix.remove(1, now);
        ix.set_busy(10, false, now);
        assert!(ix.ready.contains(&(3, 10)));
        // A wait puts the chat aside until it is over.
        ix.set_wait(20, now + SECOND, now);
        assert!(ix.ready.iter().all(|(_, c)| *c != 20));
        assert_eq!(ix.next_wait(), Some(now + SECOND));
        ix.promote(now + SECOND);
        assert!(ix.ready.contains(&(2, 20)));
        // Migration: -5's queue (and its wait) merge into -1005's, in sequence order.
        ix.add(7, -1005, now);
        ix.set_wait(-5, now + MINUTE, now);
        ix.migrate(-5, -1005, now);
        assert_eq!(ix.seqs.get(&4), Some(&-1005));
        let q = ix.chats.get(&-1005).expect("queue");
        assert_eq!(q.seqs.iter().copied().collect::<Vec<_>>(), vec![4, 6, 7]);
        assert_eq!(q.slot, Slot::Timed(now + MINUTE));
        assert!(!ix.chats.contains_key(&-5));
        // An ended chat's queue is gone.
        ix.drop_chat(-1005, now);
        assert!(!ix.chats.contains_key(&-1005) || ix.chats[&-1005].seqs.is_empty());
        assert!(ix.timed.iter().all(|(_, c)| *c != -1005));
        assert!(!ix.seqs.contains_key(&6));
        // A straggler committed out of order goes before the chat's newer entries.
        ix.add(0, 20, now);
        assert!(ix.ready.contains(&(0, 20)));
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
