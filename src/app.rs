//! Lifecycle: load, open, schedule, poll, prune, shut down.
//!
//! `run` takes a shutdown future (as in mini-redis) so tests and `main` decide what stops it;
//! `main` passes SIGINT/SIGTERM. On shutdown no new poll starts, polls in flight get a
//! deadline to finish, and the store is flushed.
//!
//! Invariant: every poll is its own task; one slow or failing feed never delays another.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use rand::Rng;
use tokio::task::JoinSet;

use crate::config::{self, Loaded};
use crate::deliver::{Console, Format};
use crate::fetch::Fetcher;
use crate::pipeline::{self, Ctx, Outcome, Report};
use crate::scheduler::Plan;
use crate::store::Store;
use crate::telegram;

/// How long polls in flight may take to finish after a shutdown request.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);
/// HTTP timeout of a Bot API request (a send normally takes well under a second).
pub const TELEGRAM_TIMEOUT: Duration = Duration::from_secs(20);
/// How often seen keys and stories past the retention window are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub once: bool,
    pub dry_run: bool,
    pub format: Format,
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

/// Runs the daemon (or one cycle with `once`) until `shutdown` resolves.
pub async fn run(
    loaded: Loaded,
    opts: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<Vec<Report>> {
    let store = open_store(&loaded)?;
    let fetcher = Arc::new(Fetcher::new(
        &loaded.config.fetch,
        loaded.config.summary.allow_private,
    )?);
    // With a token (and without `--dry-run`) alerts go to Telegram through the outbox.
    let sender = if opts.dry_run {
        None
    } else {
        telegram_sender(&loaded, &store)?
    };
    let outbox = sender.as_ref().map(telegram::send::Sender::waker);
    let (tg_stop, tg_stopped) = tokio::sync::oneshot::channel::<()>();
    let tg_task = sender.map(|s| tokio::spawn(s.run(async move { drop(tg_stopped.await) })));
    // The bot people talk to runs beside the delivery task (a daemon with a token only).
    let bot_task = if opts.once || opts.dry_run {
        None
    } else {
        telegram_bot(&loaded, &store)?
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
    };
    tracing::info!(
        feeds = ctx.config.feeds.iter().filter(|f| f.enabled).count(),
        rules = ctx.rules.rules().len(),
        store = %ctx.config.store.path.display(),
        "kkachi started"
    );
    let reports = if opts.once {
        run_once(&ctx).await
    } else {
        daemon(&ctx, shutdown).await;
        Vec::new()
    };
    if let Some(bot) = bot_task {
        bot.stop(SHUTDOWN_DEADLINE).await;
    }
    if let Some(task) = tg_task {
        stop_telegram(task, tg_stop, &store, opts.once).await;
    }
    store.flush().context("cannot flush the store")?;
    Ok(reports)
}

/// Polls every enabled feed once, concurrently, and waits for all of them.
pub async fn run_once(ctx: &Ctx) -> Vec<Report> {
    let mut tasks = JoinSet::new();
    for feed in ctx.config.feeds.iter().filter(|f| f.enabled) {
        let (ctx, feed) = (ctx.clone(), feed.clone());
        tasks.spawn(async move { pipeline::poll_feed(&ctx, &feed).await });
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

async fn daemon(ctx: &Ctx, shutdown: impl Future<Output = ()>) {
    let config = &ctx.config;
    let tz = config.schedule.timezone;
    let feeds: HashMap<&str, &config::FeedConfig> = config
        .feeds
        .iter()
        .filter(|f| f.enabled)
        .map(|f| (f.name.as_str(), f))
        .collect();
    let mut plan = Plan::default();
    let mut running: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<Report> = JoinSet::new();
    let mut rng = rand::thread_rng();
    let mut jitter = || {
        let max = config.schedule.jitter.as_millis() as u64;
        Duration::from_millis(if max == 0 { 0 } else { rng.gen_range(0..=max) })
    };

    // Poll everything once at start, then follow each feed's schedule.
    let mut due: Vec<String> = feeds.keys().map(|s| s.to_string()).collect();
    due.sort();
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    tokio::pin!(shutdown);
    loop {
        let now = Utc::now();
        for name in due.drain(..) {
            let Some(feed) = feeds.get(name.as_str()) else {
                continue;
            };
            plan.schedule(&name, &feed.cron, tz, now, jitter());
            if !running.insert(name.clone()) {
                tracing::debug!(feed = %name, "previous poll still running; tick skipped");
                continue;
            }
            let ctx = ctx.clone();
            let feed = (*feed).clone();
            tasks.spawn(async move { pipeline::poll_feed(&ctx, &feed).await });
        }
        let sleep = plan
            .next_due()
            .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(sleep) => due = plan.take_due(Utc::now()),
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                match joined {
                    Ok(report) => { running.remove(&report.feed); }
                    Err(e) => tracing::error!(error = %e, "a poll task panicked"),
                }
            }
            _ = prune.tick() => {
                let store = ctx.store.clone();
                let days = config.store.retention_days;
                match tokio::task::spawn_blocking(move || store.prune(Utc::now(), days)).await {
                    Ok(Ok(stats)) => tracing::info!(keys = stats.keys, stories = stats.stories, "pruned"),
                    Ok(Err(e)) => tracing::error!(error = %e, "prune failed"),
                    Err(e) => tracing::error!(error = %e, "prune task failed"),
                }
            }
        }
    }
    tracing::info!(in_flight = tasks.len(), "shutting down");
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_DEADLINE, drain)
        .await
        .is_err()
    {
        tracing::warn!("polls still running after {SHUTDOWN_DEADLINE:?}; abandoning them");
        tasks.abort_all();
    }
}

/// The Telegram delivery task, when a token is configured (`$TELOXIDE_TOKEN`, `token_file`,
/// `$CREDENTIALS_DIRECTORY/telegram-token`).
fn telegram_sender(loaded: &Loaded, store: &Arc<Store>) -> Result<Option<telegram::send::Sender>> {
    let cfg = &loaded.config.telegram;
    let Some(token) = telegram::resolve_token(cfg, |k| std::env::var_os(k))? else {
        tracing::info!("no telegram token: alerts go to stdout");
        return Ok(None);
    };
    let api_url = telegram::api_url(cfg, |k| std::env::var_os(k))?;
    let bot = telegram::bot(&token, api_url, TELEGRAM_TIMEOUT)?;
    let settings = telegram::send::Settings::new(cfg, loaded.config.schedule.timezone);
    Ok(Some(telegram::send::Sender::new(
        bot,
        store.clone(),
        settings,
    )))
}

/// The bot people talk to (commands, `/topics` buttons), when a token is configured. Its
/// long poll ([`telegram::bot::POLL_TIMEOUT`]) stays below [`TELEGRAM_TIMEOUT`].
fn telegram_bot(loaded: &Loaded, store: &Arc<Store>) -> Result<Option<telegram::bot::BotTask>> {
    let cfg = &loaded.config.telegram;
    let Some(token) = telegram::resolve_token(cfg, |k| std::env::var_os(k))? else {
        return Ok(None);
    };
    let api_url = telegram::api_url(cfg, |k| std::env::var_os(k))?;
    let bot = telegram::bot(&token, api_url, TELEGRAM_TIMEOUT)?;
    // Live reload (a later issue) will keep the sender and publish new rule sets through it.
    let (_rules_tx, rules) = tokio::sync::watch::channel(loaded.rules.clone());
    let ctx = telegram::bot::Ctx {
        store: store.clone(),
        rules,
        settings: telegram::bot::Settings::new(&loaded.config),
    };
    Ok(Some(telegram::bot::spawn(bot, ctx)))
}

/// Stops the delivery task. After `--once` it first gets [`SHUTDOWN_DEADLINE`] to empty the
/// outbox; what is left goes out on the next run.
async fn stop_telegram(
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    store: &Store,
    drain: bool,
) {
    if drain {
        let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
        while store.outbox_len() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let _ = stop.send(());
    let abort = task.abort_handle();
    if tokio::time::timeout(SHUTDOWN_DEADLINE, task).await.is_err() {
        tracing::warn!("telegram delivery still busy after {SHUTDOWN_DEADLINE:?}; abandoning it");
        abort.abort();
    }
}

/// Summarises a `--once` cycle on stderr.
pub fn log_cycle(reports: &[Report]) {
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
    tracing::info!(feeds = reports.len(), failed, alerts, "cycle done");
}

/// Resolves when the process receives SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops kkachi");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
