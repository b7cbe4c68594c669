//! Lifecycle: load, open, schedule, poll, prune, shut down.
//!
//! `run` takes a shutdown future (as in mini-redis) so tests and `main` decide what stops it;
//! `main` passes SIGINT/SIGTERM. On shutdown no new poll starts, polls in flight get a
//! deadline to finish, and the store is flushed.
//!
//! Invariant: every poll is its own task; one slow or failing feed never delays another.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use rand::Rng;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::{self, Config, Loaded};
use crate::deliver::{Console, Format};
use crate::fetch::Fetcher;
use crate::http::{self, Readiness};
use crate::pipeline::{self, Ctx, Outcome, Report};
use crate::rules::RuleSet;
use crate::scheduler::Plan;
use crate::store::Store;
use crate::telegram;
use crate::watch::FileWatch;

/// How long polls and sends in flight may take to finish after a shutdown request (the
/// default of `kkachi run --shutdown-deadline`; keep it below systemd's `TimeoutStopSec`).
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);
/// HTTP timeout of a Bot API request (a send normally takes well under a second).
pub const TELEGRAM_TIMEOUT: Duration = Duration::from_secs(20);
/// How often seen keys and stories past the retention window are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How long `run --once` may go on delivering after its polls when no deadline is given: it
/// delivers until the outbox is empty, and gives up (the rest stays queued) after this.
pub const ONCE_DELIVERY_LIMIT: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub once: bool,
    pub dry_run: bool,
    pub format: Format,
    pub shutdown_deadline: Duration,
    /// `--once`: how long delivery may go on after the polls (`--shutdown-deadline` when the
    /// user gave one). `None`: until the outbox is empty, at most [`ONCE_DELIVERY_LIMIT`].
    pub once_deadline: Option<Duration>,
}

/// Loads the config (every problem is reported, start-up fails on any error).
pub fn load_config(path: &Path) -> Result<Loaded> {
    match config::load(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            Ok(loaded)
        }
        Err(diags) => {
            let list: Vec<String> = diags.iter().map(ToString::to_string).collect();
            anyhow::bail!("invalid configuration:\n{}", list.join("\n"))
        }
    }
}

pub fn open_store(loaded: &Loaded) -> Result<Arc<Store>> {
    let path = &loaded.config.store.path;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    Ok(Arc::new(Store::open(path)?))
}

/// What the outside world asks of a running daemon (signals, `systemctl reload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Load and validate the config and rules files; swap them in only if all is valid.
    Reload,
    /// Stop scheduling, let work in flight finish within the deadline, flush, exit.
    Shutdown,
}

/// Runs the daemon (or one cycle with `once`) until a [`Control::Shutdown`] arrives or
/// `control` closes.
pub async fn run(
    loaded: Loaded,
    opts: RunOptions,
    mut control: mpsc::UnboundedReceiver<Control>,
) -> Result<Vec<Report>> {
    let store = open_store(&loaded)?;
    let metrics = Arc::new(crate::metrics::Metrics::new());
    // The metrics and health endpoints (a daemon only). A taken port fails the start, before
    // systemd hears READY.
    let (ready, ready_rx) = watch::channel(Readiness::Starting);
    let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http_task = match loaded.config.http.listen {
        Some(addr) if !opts.once => {
            let listener = http::bind(addr).await?;
            let state = http::State {
                metrics: metrics.clone(),
                store: store.clone(),
                ready: ready_rx,
            };
            Some(tokio::spawn(http::serve(listener, state, async move {
                drop(http_stopped.await)
            })))
        }
        _ => None,
    };
    let fetcher = Arc::new(Fetcher::new(
        &loaded.config.fetch,
        loaded.config.summary.allow_private,
    )?);
    // With a token (and without `--dry-run`) alerts go to Telegram through the outbox.
    let client = if opts.dry_run {
        None
    } else {
        telegram_client(&loaded)?
    };
    let mut sender = client.clone().map(|bot| {
        let settings =
            telegram::send::Settings::new(&loaded.config.telegram, loaded.config.schedule.timezone);
        telegram::send::Sender::new(bot, store.clone(), settings).with_metrics(metrics.clone())
    });
    let sender_live = sender.as_mut().map(telegram::send::Sender::live_settings);
    let outbox = sender.as_ref().map(telegram::send::Sender::waker);
    let delivered = sender.as_ref().map(telegram::send::Sender::delivered);
    let (tg_stop, tg_stopped) = tokio::sync::oneshot::channel::<()>();
    let tg_task = sender.map(|s| tokio::spawn(s.run(async move { drop(tg_stopped.await) })));
    // The bot people talk to runs beside the delivery task (a daemon with a token only).
    let bot = match client {
        Some(bot) if !opts.once => Some(telegram_bot(bot, &loaded, &store)),
        _ => None,
    };
    let ctx = Ctx {
        outbox,
        console: Console {
            format: opts.format,
            timezone: loaded.config.schedule.timezone,
        },
        config: loaded.config.clone(),
        rules: loaded.rules.clone(),
        store: store.clone(),
        fetcher,
        metrics,
        cpu: pipeline::cpu_permits(),
    };
    tracing::info!(
        feeds = ctx.config.feeds.iter().filter(|f| f.enabled).count(),
        rules = ctx.rules.rules().len(),
        store = %ctx.config.store.path.display(),
        "kkachi started"
    );
    let (bot_task, bot_live) = match bot {
        Some((task, live)) => (Some(task), Some(live)),
        None => (None, None),
    };
    let (reports, until) = if opts.once {
        // A signal interrupts the cycle: what was not marked seen is polled again next time.
        let stop = async {
            loop {
                match control.recv().await {
                    Some(Control::Shutdown) => break,
                    Some(Control::Reload) => {}
                    // Nobody can ask any more: let the cycle finish.
                    None => std::future::pending::<()>().await,
                }
            }
        };
        let reports = tokio::select! {
            reports = run_once(&ctx) => reports,
            _ = stop => {
                tracing::warn!("interrupted: polls in flight are abandoned");
                Vec::new()
            }
        };
        let limit = opts.once_deadline.unwrap_or(ONCE_DELIVERY_LIMIT);
        (reports, Instant::now() + limit)
    } else {
        let mut daemon = Daemon {
            ctx,
            bot: bot_live,
            sender: sender_live,
            rejected: None,
            ready,
        };
        let mut polls = daemon.run(&mut control).await;
        // One deadline for everything in flight: polls, the bot's reply, Telegram sends.
        let until = Instant::now() + opts.shutdown_deadline;
        let in_flight = polls.len();
        tracing::info!(in_flight, "shutting down");
        crate::systemd::stopping(&format!(
            "stopping: {in_flight} polls finishing (at most {:?})",
            opts.shutdown_deadline
        ));
        let drain = async { while polls.join_next().await.is_some() {} };
        if tokio::time::timeout_at(until, drain).await.is_err() {
            tracing::warn!(
                "polls still running after {:?}; abandoning them (their stories are polled again next start)",
                opts.shutdown_deadline
            );
            polls.abort_all();
        }
        (Vec::new(), until)
    };
    if let Some(bot) = bot_task {
        bot.stop(until.saturating_duration_since(Instant::now()))
            .await;
    }
    if let Some(task) = tg_task {
        let drain = opts.once.then_some(&mut control);
        stop_telegram(task, tg_stop, &store, drain, until).await;
    }
    store.flush().context("cannot flush the store")?;
    if let Some(task) = http_task {
        let _ = http_stop.send(());
        match tokio::time::timeout(Duration::from_secs(1), task).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the http server failed"),
            Err(_) => tracing::debug!("the http server did not stop in 1 s; leaving it"),
            _ => {}
        }
    }
    if opts.once {
        let delivered = delivered.map_or(0, |d| d.load(std::sync::atomic::Ordering::Relaxed));
        log_cycle(&reports, delivered, store.outbox_len());
    }
    Ok(reports)
}

/// Polls every enabled feed once, concurrently, and waits for all of them.
pub async fn run_once(ctx: &Ctx) -> Vec<Report> {
    let mut tasks = JoinSet::new();
    for feed in ctx.config.feeds.iter().filter(|f| f.enabled) {
        let (ctx, feed) = (ctx.clone(), feed.clone());
        // README: `--once` polls every enabled feed once, backoff or not.
        tasks.spawn(
            async move { pipeline::poll_feed(&ctx, &feed, pipeline::Backoff::Ignore).await },
        );
    }
    let mut reports = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(report) => reports.push(report),
            Err(e) => tracing::error!(error = %e, "a poll task panicked"),
        }
    }
    reports.sort_by(|a, b| a.feed.cmp(&b.feed));
    reports
}

/// The running daemon: the current config snapshot and what a reload must reach.
struct Daemon {
    /// The snapshot new polls start with; polls in flight keep the one they started with.
    ctx: Ctx,
    /// The bot's live rules and settings.
    bot: Option<telegram::bot::Live>,
    /// The delivery task's live settings (limits, admins, time zone).
    sender: Option<watch::Sender<telegram::send::Settings>>,
    /// The problems of the last rejected reload: one bad edit gets one admin notice, however
    /// many file events and signals it causes.
    rejected: Option<String>,
    /// `/readyz`: ready from the first armed schedule until shutdown begins.
    ready: watch::Sender<Readiness>,
}

/// What the scheduler loop keeps between ticks.
#[derive(Default)]
struct Sched {
    plan: Plan,
    /// Feeds with a poll in flight (a tick that finds its feed still polling is skipped).
    running: HashSet<String>,
    tasks: JoinSet<Report>,
    /// Feeds to poll now.
    due: Vec<String>,
}

impl Daemon {
    /// Schedules polls until asked to stop; returns the polls still in flight.
    async fn run(&mut self, control: &mut mpsc::UnboundedReceiver<Control>) -> JoinSet<Report> {
        let (changed_tx, mut changed) = mpsc::unbounded_channel::<Vec<PathBuf>>();
        let mut watch = self.watch_files(&changed_tx);
        // Poll everything once at start, then follow each feed's schedule.
        let mut sched = Sched {
            due: self.enabled_feeds().map(|f| f.name.clone()).collect(),
            ..Sched::default()
        };
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        let mut watchdog = crate::systemd::watchdog_interval().map(tokio::time::interval);
        loop {
            self.start_due(&mut sched);
            if *self.ready.borrow() == Readiness::Starting {
                self.ready.send_replace(Readiness::Ready);
                crate::systemd::ready(&self.status());
            }
            let sleep = sched
                .plan
                .next_due()
                .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                c = control.recv() => match c {
                    Some(Control::Reload) => {
                        if self.reload("SIGHUP", &mut sched).await {
                            watch = self.watch_files(&changed_tx);
                        }
                    }
                    Some(Control::Shutdown) | None => break,
                },
                Some(paths) = changed.recv() => {
                    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                    if self.reload(&format!("{} changed", names.join(", ")), &mut sched).await {
                        watch = self.watch_files(&changed_tx);
                    }
                }
                _ = tokio::time::sleep(sleep) => sched.due = sched.plan.take_due(Utc::now()),
                Some(joined) = sched.tasks.join_next(), if !sched.tasks.is_empty() => {
                    match joined {
                        Ok(report) => {
                            sched.running.remove(&report.feed);
                            crate::systemd::status(|| self.status());
                        }
                        Err(e) => tracing::error!(error = %e, "a poll task panicked"),
                    }
                }
                _ = prune.tick() => self.prune().await,
                _ = tick(&mut watchdog) => crate::systemd::watchdog(),
            }
        }
        drop(watch);
        self.ready.send_replace(Readiness::ShuttingDown);
        sched.tasks
    }

    fn enabled_feeds(&self) -> impl Iterator<Item = &config::FeedConfig> {
        self.ctx.config.feeds.iter().filter(|f| f.enabled)
    }

    /// Starts a poll for every due feed and arms its next tick.
    fn start_due(&self, sched: &mut Sched) {
        let config = &self.ctx.config;
        let now = Utc::now();
        let mut rng = rand::thread_rng();
        for name in std::mem::take(&mut sched.due) {
            let Some(feed) = self.enabled_feeds().find(|f| f.name == name) else {
                continue;
            };
            // The gap this poll sits in: from its next tick to the one after.
            let interval = feed
                .cron
                .shortest_interval(now, config.schedule.timezone, 3);
            let max = crate::scheduler::effective_jitter(config.schedule.jitter, interval)
                .as_millis() as u64;
            let jitter = Duration::from_millis(if max == 0 { 0 } else { rng.gen_range(0..=max) });
            sched.plan.remove(&name);
            sched
                .plan
                .schedule(&name, &feed.cron, config.schedule.timezone, now, jitter);
            if !sched.running.insert(name.clone()) {
                tracing::debug!(feed = %name, "previous poll still running; tick skipped");
                continue;
            }
            let ctx = self.ctx.clone();
            let feed = feed.clone();
            sched.tasks.spawn(async move {
                pipeline::poll_feed(&ctx, &feed, pipeline::Backoff::Honour).await
            });
        }
    }

    /// Watches the config and rules files; a failure to watch leaves SIGHUP as the way to reload.
    fn watch_files(&self, changed: &mpsc::UnboundedSender<Vec<PathBuf>>) -> Option<FileWatch> {
        let files = [
            self.ctx.config.path.clone(),
            self.ctx.config.rules_path.clone(),
        ];
        let tx = changed.clone();
        match FileWatch::new(&files, move |paths| drop(tx.send(paths))) {
            Ok(w) => {
                tracing::debug!(files = ?w.files(), "watching for edits");
                Some(w)
            }
            Err(e) => {
                tracing::warn!(error = %e, "edits are not picked up by themselves; reload with SIGHUP");
                None
            }
        }
    }

    /// Loads and validates everything, then swaps it in, or keeps the running config and
    /// reports every problem. Returns whether the files to watch changed.
    async fn reload(&mut self, why: &str, sched: &mut Sched) -> bool {
        crate::systemd::reloading();
        tracing::info!("reloading ({why})");
        let path = self.ctx.config.path.clone();
        let loaded = tokio::task::spawn_blocking(move || config::load(&path)).await;
        let outcome = match loaded {
            Ok(Ok(loaded)) => self.apply(loaded, sched),
            Ok(Err(diags)) => Err(diags.iter().map(ToString::to_string).collect()),
            Err(e) => Err(vec![format!("the reload task failed: {e}")]),
        };
        self.ctx.metrics.reload(outcome.is_ok());
        let rewatch = match outcome {
            Ok(rewatch) => {
                self.rejected = None;
                rewatch
            }
            Err(problems) => {
                self.reject(why, problems);
                false
            }
        };
        crate::systemd::ready(&self.status());
        rewatch
    }

    fn reject(&mut self, why: &str, problems: Vec<String>) {
        for p in &problems {
            tracing::error!("{p}");
        }
        tracing::error!(
            problems = problems.len(),
            "reload rejected ({why}); the previous configuration keeps running"
        );
        let list = problems.join("\n");
        if self.rejected.as_deref() == Some(list.as_str()) {
            return;
        }
        const SHOWN: usize = 20;
        let mut text = format!(
            "⚠️ kkachi rejected the edited configuration ({why}); the previous one keeps running.\n\n{}",
            problems
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        if problems.len() > SHOWN {
            text.push_str(&format!(
                "\n… and {} more (see `kkachi check`)",
                problems.len() - SHOWN
            ));
        }
        pipeline::notify_admins(&self.ctx, &text, Utc::now());
        self.rejected = Some(list);
    }

    /// Swaps in a validated config. `Err` (nothing changed) when a service cannot be rebuilt
    /// from it.
    fn apply(&mut self, loaded: Loaded, sched: &mut Sched) -> Result<bool, Vec<String>> {
        for w in &loaded.warnings {
            tracing::warn!("{w}");
        }
        let old = self.ctx.config.clone();
        let (config, restart) = config::for_reload(&old, (*loaded.config).clone());
        let fetcher = if config.fetch != old.fetch
            || config.summary.allow_private != old.summary.allow_private
        {
            let fetcher = Fetcher::new(&config.fetch, config.summary.allow_private)
                .map_err(|e| vec![format!("{}: [fetch]: {e}", config.path.display())])?;
            Arc::new(fetcher)
        } else {
            self.ctx.fetcher.clone()
        };
        for what in restart {
            tracing::warn!(
                "{what} changed in {}: takes effect after a restart",
                config.path.display()
            );
        }
        let rules = rule_changes(&self.ctx.rules, &loaded.rules);
        let feeds = reschedule(&old, &config, sched, Utc::now());
        for name in &feeds.moved {
            self.forget_feed_state(name);
        }
        let rewatch = config.rules_path != old.rules_path;
        let config = Arc::new(config);
        self.ctx.fetcher = fetcher;
        self.ctx.console.timezone = config.schedule.timezone;
        self.ctx.config = config.clone();
        self.ctx.rules = loaded.rules.clone();
        if let Some(bot) = &self.bot {
            bot.update(loaded.rules, telegram::bot::Settings::new(&config));
        }
        if let Some(sender) = &self.sender {
            sender.send_replace(telegram::send::Settings::new(
                &config.telegram,
                config.schedule.timezone,
            ));
        }
        tracing::info!(
            rules = self.ctx.rules.rules().len(),
            rules_added = rules.added,
            rules_removed = rules.removed,
            rules_changed = rules.changed,
            feeds = self.enabled_feeds().count(),
            feeds_added = feeds.added,
            feeds_removed = feeds.removed,
            feeds_changed = feeds.changed,
            "configuration reloaded"
        );
        Ok(rewatch)
    }

    /// A feed whose URL changed is a new feed: its first poll marks what is there as seen
    /// (with `backfill`) instead of alerting on everything the new URL serves.
    fn forget_feed_state(&self, feed: &str) {
        if let Err(e) = self
            .ctx
            .store
            .set_feed_state(feed, &crate::store::FeedState::default())
        {
            tracing::error!(feed, error = %e, "cannot reset the state of a feed whose URL changed");
        }
    }

    async fn prune(&self) {
        let store = self.ctx.store.clone();
        let days = self.ctx.config.store.retention_days;
        match tokio::task::spawn_blocking(move || store.prune(Utc::now(), days)).await {
            Ok(Ok(stats)) => {
                tracing::info!(keys = stats.keys, stories = stats.stories, "pruned")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "prune failed"),
            Err(e) => tracing::error!(error = %e, "prune task failed"),
        }
    }

    /// One line for `systemctl status`.
    fn status(&self) -> String {
        format!(
            "watching {} feeds with {} rules; {} alerts queued",
            self.enabled_feeds().count(),
            self.ctx.rules.rules().len(),
            self.ctx.store.outbox_len()
        )
    }
}

/// Applies feed changes to the schedule: a new feed is polled now (first-poll semantics), a
/// removed or disabled one is no longer scheduled, a changed schedule applies from its next
/// tick, and a feed whose URL changed is polled now as a new feed (`moved`: the caller resets
/// its state).
fn reschedule(
    old: &Config,
    new: &Config,
    sched: &mut Sched,
    now: chrono::DateTime<Utc>,
) -> Changes {
    let mut changes = Changes::default();
    let before: HashMap<&str, &config::FeedConfig> = old
        .feeds
        .iter()
        .filter(|f| f.enabled)
        .map(|f| (f.name.as_str(), f))
        .collect();
    let tz_changed = old.schedule.timezone != new.schedule.timezone;
    for feed in new.feeds.iter().filter(|f| f.enabled) {
        match before.get(feed.name.as_str()) {
            None => {
                changes.added += 1;
                sched.due.push(feed.name.clone());
            }
            Some(was) if was.source != feed.source => {
                changes.changed += 1;
                changes.moved.push(feed.name.clone());
                sched.due.push(feed.name.clone());
            }
            Some(was) if tz_changed || was.cron.source() != feed.cron.source() => {
                changes.changed += 1;
                sched.plan.remove(&feed.name);
                sched.plan.schedule(
                    &feed.name,
                    &feed.cron,
                    new.schedule.timezone,
                    now,
                    Duration::ZERO,
                );
            }
            Some(_) => {}
        }
    }
    for name in before.keys() {
        if !new.feeds.iter().any(|f| f.enabled && f.name == *name) {
            changes.removed += 1;
            sched.plan.remove(name);
        }
    }
    changes
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Changes {
    added: usize,
    removed: usize,
    changed: usize,
    /// Feeds whose URL changed.
    moved: Vec<String>,
}

/// Rules added, removed and changed (same name, other query, feeds or chats), by name.
fn rule_changes(old: &RuleSet, new: &RuleSet) -> Changes {
    let key = |r: &crate::rules::RuleInfo| (r.query.clone(), r.feeds.clone(), r.chats.clone());
    let before: HashMap<&str, _> = old
        .rules()
        .iter()
        .map(|r| (r.name.as_str(), key(r)))
        .collect();
    let mut changes = Changes::default();
    for rule in new.rules() {
        match before.get(rule.name.as_str()) {
            None => changes.added += 1,
            Some(k) if *k != key(rule) => changes.changed += 1,
            Some(_) => {}
        }
    }
    changes.removed = before
        .keys()
        .filter(|name| !new.rules().iter().any(|r| r.name == **name))
        .count();
    changes
}

/// The next tick of an optional interval; never resolves without one.
async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The Bot API client shared by the delivery task and the bot, when a token is configured
/// (`$TELOXIDE_TOKEN`, `token_file`, `$CREDENTIALS_DIRECTORY/telegram-token`).
fn telegram_client(loaded: &Loaded) -> Result<Option<telegram::Bot>> {
    let cfg = &loaded.config.telegram;
    let Some(token) = telegram::resolve_token(cfg, |k| std::env::var_os(k))? else {
        tracing::info!("no telegram token: alerts go to stdout");
        return Ok(None);
    };
    let api_url = telegram::api_url(cfg, |k| std::env::var_os(k))?;
    Ok(Some(telegram::bot(&token, api_url, TELEGRAM_TIMEOUT)?))
}

/// The bot people talk to (commands, `/topics` buttons). Its long poll
/// ([`telegram::bot::POLL_TIMEOUT`]) stays below [`TELEGRAM_TIMEOUT`].
fn telegram_bot(
    bot: telegram::Bot,
    loaded: &Loaded,
    store: &Arc<Store>,
) -> (telegram::bot::BotTask, telegram::bot::Live) {
    let (ctx, live) = telegram::bot::Ctx::new(
        store.clone(),
        loaded.rules.clone(),
        telegram::bot::Settings::new(&loaded.config),
    );
    (telegram::bot::spawn(bot, ctx), live)
}

/// Stops the delivery task by `until`. After `--once` (`drain` has the control channel) it
/// first gets until then to empty the outbox, unless a signal says stop; what is left (in the
/// store) goes out on the next run.
async fn stop_telegram(
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    store: &Store,
    drain: Option<&mut mpsc::UnboundedReceiver<Control>>,
    until: Instant,
) {
    if let Some(control) = drain {
        let mut open = true;
        while store.outbox_len() > 0 && Instant::now() < until {
            tokio::select! {
                c = control.recv(), if open => match c {
                    Some(Control::Shutdown) => {
                        tracing::warn!("interrupted: the rest stays in the outbox");
                        break;
                    }
                    Some(Control::Reload) => {}
                    None => open = false,
                },
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }
    let _ = stop.send(());
    let abort = task.abort_handle();
    // A send in flight gets at least a moment to finish, so its outcome is recorded.
    let until = until.max(Instant::now() + Duration::from_millis(500));
    if tokio::time::timeout_at(until, task).await.is_err() {
        tracing::warn!(
            outbox = store.outbox_len(),
            "telegram delivery still busy at the shutdown deadline; abandoning it (the outbox keeps what is left)"
        );
        abort.abort();
    }
}

/// Summarises a `--once` cycle on stderr (its last line): the polls, and the messages
/// delivered to Telegram in this run and still queued.
pub fn log_cycle(reports: &[Report], delivered: u64, queued: usize) {
    let failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .count();
    let alerts: usize = reports
        .iter()
        .map(|r| match r.outcome {
            Outcome::Polled { alerts, .. } => alerts,
            _ => 0,
        })
        .sum();
    let skipped = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped { .. }))
        .count();
    tracing::info!(
        feeds = reports.len(),
        failed,
        skipped,
        alerts,
        delivered,
        queued,
        "cycle done"
    );
}

/// A second SIGTERM/SIGINT exits at once only when it comes at least this long after the
/// first: `timeout 60 kkachi run`, a terminal's Ctrl-C or a service manager may signal the
/// process and its group in the same instant, and that is one request to stop, not two.
pub const SECOND_SIGNAL_AFTER: Duration = Duration::from_secs(1);

/// Whether a stop signal at `now` is a second, deliberate one (exit at once), given when the
/// first came.
fn exits_at_once(first: Option<std::time::Instant>, now: std::time::Instant) -> bool {
    first.is_some_and(|t| now.saturating_duration_since(t) >= SECOND_SIGNAL_AFTER)
}

/// Turns signals into [`Control`]s: SIGHUP reloads; SIGTERM or SIGINT shuts down, and a second
/// one ([`SECOND_SIGNAL_AFTER`] or more later) exits at once (status 128 + the signal's
/// number). The outbox keeps every alert not yet accepted by Telegram, so even that loses none.
pub fn forward_signals(tx: mpsc::UnboundedSender<Control>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).with_context(|| format!("cannot listen for {name}"))
    };
    let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut int = listen(SignalKind::interrupt(), "SIGINT")?;
    let mut hup = listen(SignalKind::hangup(), "SIGHUP")?;
    tokio::spawn(async move {
        let mut first_stop: Option<std::time::Instant> = None;
        loop {
            let (name, number) = tokio::select! {
                _ = term.recv() => ("SIGTERM", 15),
                _ = int.recv() => ("SIGINT", 2),
                _ = hup.recv() => ("SIGHUP", 1),
            };
            let now = std::time::Instant::now();
            if number == 1 {
                let _ = tx.send(Control::Reload);
            } else if exits_at_once(first_stop, now) {
                tracing::warn!("{name} again: exiting now; unsent alerts stay in the outbox");
                std::process::exit(128 + number);
            } else if first_stop.is_some() {
                tracing::info!(
                    "{name} again within {SECOND_SIGNAL_AFTER:?} of the first (one request, sent to the process and its group?): still shutting down gracefully"
                );
            } else {
                first_stop = Some(now);
                tracing::info!("{name}: shutting down (send it again to exit at once)");
                let _ = tx.send(Control::Shutdown);
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_stop_signal_counts_only_a_moment_after_the_first() {
        let t0 = std::time::Instant::now();
        assert!(!exits_at_once(None, t0));
        // The same signal to the process and to its group: one request.
        assert!(!exits_at_once(Some(t0), t0));
        assert!(!exits_at_once(Some(t0), t0 + Duration::from_millis(900)));
        assert!(exits_at_once(Some(t0), t0 + SECOND_SIGNAL_AFTER));
        assert!(exits_at_once(Some(t0), t0 + Duration::from_secs(5)));
    }

    fn config(feeds: &str, tz: &str) -> Config {
        let src = format!("[schedule]\ncron = \"0 * * * *\"\ntimezone = \"{tz}\"\n{feeds}");
        match config::parse(&src, Path::new("/k/kkachi.toml")) {
            (Some(c), _, d) if d.is_empty() => c,
            (_, _, d) => panic!("{d:?}"),
        }
    }

    fn feed(name: &str, url: &str, extra: &str) -> String {
        format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n")
    }

    #[test]
    fn a_reload_polls_new_feeds_now_drops_removed_ones_and_moves_changed_schedules() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:20:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let old = config(
            &[
                feed("kept", "https://a.kr/rss", ""),
                feed("gone", "https://b.kr/rss", ""),
                feed("off", "https://c.kr/rss", ""),
                feed("hourly", "https://d.kr/rss", ""),
                feed("moved", "https://e.kr/rss", ""),
            ]
            .concat(),
            "UTC",
        );
        let mut sched = Sched::default();
        for f in &old.feeds {
            sched
                .plan
                .schedule(&f.name, &f.cron, chrono_tz::UTC, t0, Duration::ZERO);
        }
        let new = config(
            &[
                feed("kept", "https://a.kr/rss", ""),
                feed("off", "https://c.kr/rss", "enabled = false"),
                feed("hourly", "https://d.kr/rss", "cron = \"*/5 * * * *\""),
                feed("moved", "https://e.kr/new-rss", ""),
                feed("added", "https://f.kr/rss", ""),
            ]
            .concat(),
            "UTC",
        );
        let changes = reschedule(&old, &new, &mut sched, t0);
        assert_eq!(
            changes,
            Changes {
                added: 1,
                removed: 2,
                changed: 2,
                moved: vec!["moved".into()],
            }
        );
        // Polled now: the new feed and the one at a new URL.
        assert_eq!(sched.due, vec!["moved".to_string(), "added".to_string()]);
        // The new schedule applies from its next tick (10:25), the others keep theirs (11:00);
        // removed and disabled feeds are gone from the plan.
        let at = |hm: &str| {
            chrono::DateTime::parse_from_rfc3339(&format!("2026-11-27T{hm}:00Z"))
                .expect("time")
                .with_timezone(&Utc)
        };
        assert_eq!(sched.plan.take_due(at("10:59")), vec!["hourly".to_string()]);
        let mut at_11 = sched.plan.take_due(at("11:00"));
        at_11.sort();
        assert_eq!(at_11, vec!["kept".to_string(), "moved".to_string()]);
        assert!(sched.plan.is_empty());
    }

    #[test]
    fn a_time_zone_change_re_arms_every_feed() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:20:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let feeds = feed("a", "https://a.kr/rss", "cron = \"0 9 * * *\"");
        let (old, new) = (config(&feeds, "UTC"), config(&feeds, "Asia/Seoul"));
        let mut sched = Sched::default();
        sched
            .plan
            .schedule("a", &old.feeds[0].cron, chrono_tz::UTC, t0, Duration::ZERO);
        assert_eq!(reschedule(&old, &new, &mut sched, t0).changed, 1);
        // 09:00 KST tomorrow is 00:00 UTC.
        let next = sched.plan.next_due().expect("scheduled");
        assert_eq!(next.to_rfc3339(), "2026-11-28T00:00:00+00:00");
        assert_eq!(sched.plan.len(), 1);
    }

    #[test]
    fn rule_changes_are_counted_by_name() {
        let load = |src: &str| match crate::rules::load(src, Path::new("rules.toml")) {
            Ok(l) => l.rules,
            Err(d) => panic!("{d:?}"),
        };
        let old = load(
            "[[rules]]\nname = \"a\"\nquery = \"삼성전자\"\n[[rules]]\nname = \"b\"\nquery = \"LG전자\"\n",
        );
        let new = load(
            "[[rules]]\nname = \"a\"\nquery = \"삼성전자 OR 삼성\"\n[[rules]]\nname = \"c\"\nquery = \"딥시크\"\n",
        );
        let c = rule_changes(&old, &new);
        assert_eq!((c.added, c.removed, c.changed), (1, 1, 1));
    }
}
