//! Lifecycle: `run` is start → serve → stop.
//!
//! - **start** opens the store, binds `[http] listen` (a taken port fails the start, before
//!   systemd hears READY), builds the fetcher and the Telegram client, and spawns the services
//!   (`services`: the control pump, the HTTP server, the delivery task, the digest task, the
//!   bot).
//! - **serve** runs the `daemon` loop (the schedule; reloads are in `reload`) until a
//!   [`Control::Shutdown`], then gives the polls in flight until the shutdown deadline (and
//!   abandons the rest: their stories were not marked seen and are polled again). With
//!   `--once` it polls every feed once instead ([`run_once`]) and then lets the delivery task
//!   empty the outbox until its own deadline.
//! - **stop** cancels the one shutdown token, waits for the services by the same deadline,
//!   and flushes the store.
//!
//! The caller says when to stop through a [`Control`] channel: `main` forwards signals to it
//! ([`forward_signals`]); tests keep its sender, or drop it. No shutdown future is passed in.
//!
//! Invariant: a reload and a shutdown reach the daemon only as a [`Control`] on one channel:
//! the caller's controls are pumped into it and the file watcher sends its edits on it, so
//! SIGHUP and an edit are the same message with a different `why`.
//! Invariant: one shutdown token stops every service, after the polls in flight are done or
//! abandoned (the delivery task keeps sending what they queue meanwhile). One deadline
//! (`--shutdown-deadline`) bounds the polls, the bot and the Telegram sends; what is abandoned
//! at it is either not yet marked seen (polled again) or still in the outbox (sent next start).
//! Invariant: a caller that hangs up stops a daemon (as `Shutdown` does) but not a `--once`
//! cycle, which finishes.

mod daemon;
mod reload;
mod services;
mod signals;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::{self, Loaded};
use crate::deliver::{Console, Delivery, Format};
use crate::fetch::Fetcher;
use crate::http::{self, Readiness};
use crate::pipeline::{self, Ctx, Outcome, Report};
use crate::store::Store;
use crate::telegram;
use daemon::Daemon;
use services::Services;

pub use signals::{SECOND_SIGNAL_AFTER, forward_signals};

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

/// When standard output is a pipe, asks Linux for a 1 MiB pipe buffer instead of the default
/// 64 KiB, for commands that write gigabytes (`rules match` at 100,000 rules writes ≈ 20 KB a
/// story): each refill of a small pipe costs a wakeup of the reader, and writing 1 GB into
/// `cat` took 0.70 s of CPU with the default and 0.25 s with 1 MiB (BENCHMARKS.md). Best
/// effort: when stdout is not a pipe, or the system's `pipe-max-size` is lower, nothing changes.
pub fn widen_stdout_pipe() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: an all-zero `stat` is valid; `fstat` fills it for our own standard output,
        // and `F_SETPIPE_SZ` only resizes the pipe's buffer (it fails harmlessly on anything
        // else).
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(libc::STDOUT_FILENO, &mut st) == 0
                && st.st_mode & libc::S_IFMT == libc::S_IFIFO
            {
                libc::fcntl(libc::STDOUT_FILENO, libc::F_SETPIPE_SZ, 1 << 20);
            }
        }
    }
}

/// Gives the heap memory that a rule-set build (`what`: the rules file, the personal rules)
/// freed back to the operating system. glibc keeps freed memory in its arenas, so without this
/// the daemon's RSS stays at the build's peak: at 100,000 rules about half of it (BENCHMARKS.md).
/// Logs the RSS before and after. Elsewhere than glibc it does nothing. Call it off the
/// reactor: it walks the whole heap (milliseconds).
pub fn release_freed_memory(what: &str) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let started = std::time::Instant::now();
        let before = rss_kib();
        // SAFETY: `malloc_trim` takes no pointer and only returns free pages of glibc's own
        // arenas; it is thread-safe (it locks each arena).
        unsafe { libc::malloc_trim(0) };
        tracing::debug!(
            what,
            rss_before_kib = before,
            rss_after_kib = rss_kib(),
            took_ms = started.elapsed().as_millis() as u64,
            "freed heap memory returned to the system"
        );
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = what;
}

/// This process's resident set (`VmRSS` of `/proc/self/status`) in KiB; 0 if unreadable.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
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
    let store = Store::open(path)?;
    set_fold(&store, &loaded.config.fold)?;
    Ok(Arc::new(store))
}

/// Applies `[fold]` to the store: rebuilds the fold index from the store when it changes.
pub fn set_fold(store: &Store, config: &crate::config::FoldConfig) -> Result<()> {
    let started = std::time::Instant::now();
    let settings = crate::store::fold::FoldSettings::from_config(config);
    let rebuilt = store.set_fold(settings, chrono::Utc::now())?;
    if rebuilt.stories > 0 || rebuilt.dropped > 0 {
        tracing::info!(
            stories = rebuilt.stories,
            dropped = rebuilt.dropped,
            ms = started.elapsed().as_millis() as u64,
            "fold index rebuilt from the store"
        );
    }
    Ok(())
}

/// What the outside world asks of a running daemon (signals, `systemctl reload`, file edits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Load and validate the config and rules files; swap them in only if all is valid.
    /// `why` says who asked (`SIGHUP`, `/etc/kkachi/rules.toml changed`); it is logged and
    /// named in the admins' notice of a rejected edit.
    Reload { why: String },
    /// Stop scheduling, let work in flight finish within the deadline, flush, exit.
    Shutdown,
}

/// Runs the daemon (or one cycle with `once`) until a [`Control::Shutdown`] arrives or (the
/// daemon only) `control`'s sender hangs up.
pub async fn run(
    loaded: Loaded,
    opts: RunOptions,
    control: mpsc::UnboundedReceiver<Control>,
) -> Result<Vec<Report>> {
    let mut app = start(&loaded, &opts, control).await?;
    if opts.once {
        let reports = app.cycle().await;
        let until = Instant::now() + opts.once_deadline.unwrap_or(ONCE_DELIVERY_LIMIT);
        app.deliver_queued(until).await;
        app.stop(until).await?;
        app.log_cycle(&reports);
        Ok(reports)
    } else {
        let until = app.serve(opts.shutdown_deadline).await;
        app.stop(until).await?;
        Ok(Vec::new())
    }
}

/// What [`start`] builds and [`App::stop`] takes down.
struct App {
    /// The first snapshot and what a reload must reach.
    daemon: Daemon,
    services: Services,
    /// The one control channel (its sender is `daemon.control`).
    control: mpsc::UnboundedReceiver<Control>,
    /// Messages Telegram accepted in this run (with a token).
    delivered: Option<Arc<AtomicU64>>,
}

/// Opens the store, builds the clients and spawns the services.
async fn start(
    loaded: &Loaded,
    opts: &RunOptions,
    from_caller: mpsc::UnboundedReceiver<Control>,
) -> Result<App> {
    let store = open_store(loaded)?;
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let mut services = Services::new();
    let (control_tx, control) = mpsc::unbounded_channel();
    // A daemon whose caller hangs up stops; `--once` finishes its cycle and delivery.
    let hang_up = (!opts.once).then_some(Control::Shutdown);
    let tx = control_tx.clone();
    services.spawn(
        "control",
        |stop| pump(from_caller, tx, hang_up, stop),
        || {},
    );
    let (ready, ready_rx) = watch::channel(Readiness::Starting);
    let live = Arc::new(crate::status::Live::new(
        chrono::Utc::now(),
        loaded.config.clone(),
        loaded.rules.clone(),
    ));
    // The chats' own rules, compiled before the first poll (off the reactor: at 100,000 rules
    // a build takes seconds), then rebuilt by their compiler whenever one changes.
    let (personal, compiler, personal_base) = {
        let (store, base) = (store.clone(), loaded.rules.clone());
        tokio::task::spawn_blocking(move || crate::personal::start(store, base))
            .await
            .context("building the personal rules failed")??
    };
    services.spawn(
        "personal rules",
        |stop| compiler.run(stop),
        || tracing::debug!("the personal rule compiler is still building at the shutdown deadline; abandoning it"),
    );
    let (polls_tx, polls) = mpsc::unbounded_channel();
    if let Some(addr) = loaded.config.http.listen.filter(|_| !opts.once) {
        let state = http::State {
            metrics: metrics.clone(),
            store: store.clone(),
            ready: ready_rx,
            control: Some(http::ControlApi {
                live: live.clone(),
                polls: polls_tx,
                personal: personal.clone(),
            }),
        };
        spawn_http(&mut services, addr, state).await?;
    }
    let fetcher = Arc::new(Fetcher::new(
        &loaded.config.fetch,
        loaded.config.summary.allow_private,
    )?);
    // With a token (and without `--dry-run`) alerts go to Telegram through the outbox.
    let client = if opts.dry_run {
        None
    } else {
        telegram_client(loaded)?
    };
    let tg = client.map(|client| {
        let bot = (!opts.once).then(|| personal.clone());
        spawn_telegram(&mut services, client, loaded, &store, &metrics, bot)
    });
    let ctx = Ctx {
        delivery: match tg.as_ref() {
            Some(t) => Delivery::Outbox {
                wake: t.outbox.clone(),
                timezone: loaded.config.schedule.timezone,
            },
            None => {
                let console = Console {
                    format: opts.format,
                    timezone: loaded.config.schedule.timezone,
                };
                // Static routes with a digest mode: their digests are printed when due.
                let (digest_store, sink) = (
                    store.clone(),
                    services::DigestSink::Console(console.clone()),
                );
                services.spawn(
                    "digests",
                    |stop| services::digests(digest_store, sink, chrono::Utc::now, stop),
                    || {
                        tracing::warn!(
                            "the digest task still busy at the shutdown deadline; abandoning it"
                        )
                    },
                );
                Delivery::Console(console)
            }
        },
        config: loaded.config.clone(),
        rules: loaded.rules.clone(),
        personal,
        store,
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
    let (delivered, sender, bot) = match tg {
        Some(t) => (Some(t.delivered), Some(t.sender), t.bot),
        None => (None, None, None),
    };
    let daemon = Daemon {
        ctx,
        bot,
        sender,
        rejected: None,
        ready,
        control: control_tx,
        live,
        polls: Some(polls),
        personal_base,
    };
    Ok(App {
        daemon,
        services,
        control,
        delivered,
    })
}

/// Binds `addr` (a taken port fails the start, before systemd hears READY) and serves the
/// metrics and health endpoints on it.
async fn spawn_http(
    services: &mut Services,
    addr: std::net::SocketAddr,
    state: http::State,
) -> Result<()> {
    let listener = http::bind(addr).await?;
    services.spawn(
        "http",
        |stop| async move {
            if let Err(e) = http::serve(listener, state, stop).await {
                tracing::warn!(error = %e, "the http server failed");
            }
        },
        || tracing::debug!("the http server did not stop by the shutdown deadline; abandoning it"),
    );
    Ok(())
}

/// What the pipeline, a reload and the `--once` summary need of the Telegram services.
struct Telegram {
    /// Wakes the delivery task when a poll queued alerts.
    outbox: Arc<tokio::sync::Notify>,
    delivered: Arc<AtomicU64>,
    /// The delivery task's live settings.
    sender: watch::Sender<telegram::send::Settings>,
    /// The bot's live rules and settings (`None` without the bot).
    bot: Option<telegram::bot::Live>,
}

/// Spawns the delivery task and, with `with_bot`, the bot people talk to beside it.
fn spawn_telegram(
    services: &mut Services,
    client: telegram::Bot,
    loaded: &Loaded,
    store: &Arc<Store>,
    metrics: &Arc<crate::metrics::Metrics>,
    with_bot: Option<crate::personal::Personal>,
) -> Telegram {
    let settings =
        telegram::send::Settings::new(&loaded.config.telegram, loaded.config.schedule.timezone);
    let mut sender = telegram::send::Sender::new(client.clone(), store.clone(), settings)
        .with_metrics(metrics.clone());
    let live = sender.live_settings();
    let (outbox, delivered) = (sender.waker(), sender.delivered());
    let queued = store.clone();
    services.spawn(
        "telegram delivery",
        |stop| sender.run(stop),
        move || {
            tracing::warn!(
                outbox = queued.outbox_len(),
                "telegram delivery still busy at the shutdown deadline; abandoning it (the outbox keeps what is left)"
            )
        },
    );
    let (digest_store, sink) = (store.clone(), services::DigestSink::Outbox(outbox.clone()));
    services.spawn(
        "digests",
        |stop| services::digests(digest_store, sink, chrono::Utc::now, stop),
        || tracing::warn!("the digest task still busy at the shutdown deadline; abandoning it (pending digests stay in the store)"),
    );
    let bot = with_bot.map(|personal| {
        let (ctx, live) = telegram_bot(loaded, store);
        let ctx = ctx.with_personal(personal);
        services.spawn(
            "telegram bot",
            |stop| telegram::bot::run(client, ctx, stop),
            || tracing::warn!("telegram bot still busy at the shutdown deadline; abandoning it"),
        );
        live
    });
    Telegram {
        outbox,
        delivered,
        sender: live,
        bot,
    }
}

/// Forwards the caller's controls into the one control channel until the services stop.
/// When the caller hangs up, `hang_up` (if any) is sent in its place.
async fn pump(
    mut from: mpsc::UnboundedReceiver<Control>,
    to: mpsc::UnboundedSender<Control>,
    hang_up: Option<Control>,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            c = from.recv() => match c {
                Some(c) => {
                    if to.send(c).is_err() {
                        return;
                    }
                }
                None => {
                    if let Some(c) = hang_up {
                        let _ = to.send(c);
                    }
                    return;
                }
            },
            () = &mut stop => return,
        }
    }
}

impl App {
    /// The daemon: schedules polls until a [`Control::Shutdown`], then gives the polls in
    /// flight until `deadline` from now. Returns that instant: the services get until then
    /// too (one deadline for everything in flight: polls, the bot's reply, Telegram sends).
    async fn serve(&mut self, deadline: Duration) -> Instant {
        let polls = self.daemon.run(&mut self.control).await;
        let until = Instant::now() + deadline;
        finish_polls(polls, until, deadline).await;
        until
    }

    /// `--once`: polls every feed once. A [`Control::Shutdown`] interrupts it: what was not
    /// marked seen is polled again next time.
    async fn cycle(&mut self) -> Vec<Report> {
        let control = &mut self.control;
        let stop = async {
            loop {
                match control.recv().await {
                    Some(Control::Shutdown) => break,
                    Some(Control::Reload { .. }) => {}
                    // Nobody can ask any more: let the cycle finish.
                    None => std::future::pending::<()>().await,
                }
            }
        };
        tokio::select! {
            reports = run_once(&self.daemon.ctx) => reports,
            _ = stop => {
                tracing::warn!("interrupted: polls in flight are abandoned");
                Vec::new()
            }
        }
    }

    /// After `--once`: lets the delivery task (if any) empty the outbox until `until`, unless
    /// a [`Control::Shutdown`] says stop; what is left (in the store) goes out on the next run.
    async fn deliver_queued(&mut self, until: Instant) {
        if self.daemon.sender.is_none() {
            return; // No delivery task: console alerts were printed as they came.
        }
        let store = &self.daemon.ctx.store;
        let mut open = true;
        while store.outbox_len() > 0 && Instant::now() < until {
            tokio::select! {
                c = self.control.recv(), if open => match c {
                    Some(Control::Shutdown) => {
                        tracing::warn!("interrupted: the rest stays in the outbox");
                        break;
                    }
                    Some(Control::Reload { .. }) => {}
                    None => open = false,
                },
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }

    /// Cancels the shutdown token, waits for the services until `until` (see
    /// [`Services::stop`]), then flushes the store.
    async fn stop(&mut self, until: Instant) -> Result<()> {
        std::mem::take(&mut self.services).stop(until).await;
        self.daemon
            .ctx
            .store
            .flush()
            .context("cannot flush the store")
    }

    fn log_cycle(&self, reports: &[Report]) {
        let delivered = self
            .delivered
            .as_ref()
            .map_or(0, |d| d.load(Ordering::Relaxed));
        log_cycle(reports, delivered, self.daemon.ctx.store.outbox_len());
    }
}

/// Gives the polls in flight until `until`, then abandons them (their stories were not marked
/// seen, so the next start polls them again).
async fn finish_polls(mut polls: JoinSet<Report>, until: Instant, deadline: Duration) {
    let in_flight = polls.len();
    tracing::info!(in_flight, "shutting down");
    crate::systemd::stopping(&format!(
        "stopping: {in_flight} polls finishing (at most {deadline:?})"
    ));
    let drain = async { while polls.join_next().await.is_some() {} };
    if tokio::time::timeout_at(until, drain).await.is_err() {
        tracing::warn!(
            "polls still running after {deadline:?}; abandoning them (their stories are polled again next start)"
        );
        polls.abort_all();
    }
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

/// The bot people talk to (commands, `/topics` buttons) and the handle a reload updates it
/// through. Its long poll ([`telegram::bot::POLL_TIMEOUT`]) stays below [`TELEGRAM_TIMEOUT`].
fn telegram_bot(loaded: &Loaded, store: &Arc<Store>) -> (telegram::bot::Ctx, telegram::bot::Live) {
    telegram::bot::Ctx::new(
        store.clone(),
        loaded.rules.clone(),
        telegram::bot::Settings::new(&loaded.config),
    )
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
