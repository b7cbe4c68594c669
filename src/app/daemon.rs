//! The daemon loop: the schedule, polls as tasks, pruning, the watchdog, and the control
//! channel it reads between ticks.
//!
//! [`Daemon`] holds the running snapshot ([`Ctx`]) and what a reload must reach (the bot's and
//! the sender's live settings, `/readyz`); `reload.rs` holds the reload itself.
//!
//! Invariant: every poll is its own task; one slow or failing feed never delays another, and
//! a feed has at most one poll in flight (a tick that finds it still polling is skipped).
//! Invariant: a reload and a shutdown reach the loop only as a [`Control`] on the one control
//! channel, whoever asked (SIGHUP, SIGTERM, a file edit, the caller of `app::run`).
//! Must not: stop the services (that is `App::stop` in `app`, through the shutdown token).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::{Control, PRUNE_EVERY};
use crate::config;
use crate::http::Readiness;
use crate::pipeline::{self, Ctx, Report};
use crate::scheduler::Plan;
use crate::telegram;
use crate::watch::FileWatch;

/// The running daemon: the current config snapshot and what a reload must reach.
pub(super) struct Daemon {
    /// The snapshot new polls start with; polls in flight keep the one they started with.
    pub(super) ctx: Ctx,
    /// The bot's live rules and settings.
    pub(super) bot: Option<telegram::bot::Live>,
    /// The delivery task's live settings (limits, admins, time zone).
    pub(super) sender: Option<watch::Sender<telegram::send::Settings>>,
    /// The problems of the last rejected reload: one bad edit gets one admin notice, however
    /// many file events and signals it causes.
    pub(super) rejected: Option<String>,
    /// `/readyz`: ready from the first armed schedule until shutdown begins.
    pub(super) ready: watch::Sender<Readiness>,
    /// The control channel's own sender: the file watcher sends its reloads on it.
    pub(super) control: mpsc::UnboundedSender<Control>,
    /// What `kkachi status` reads of this run (last polls, reloads, the config in force).
    pub(super) live: Arc<crate::status::Live>,
    /// Polls asked for through the control API (taken by [`Daemon::run`]).
    pub(super) polls: Option<mpsc::UnboundedReceiver<crate::status::PollNow>>,
}

/// What the scheduler loop keeps between ticks.
#[derive(Default)]
pub(super) struct Sched {
    pub(super) plan: Plan,
    /// Feeds with a poll in flight (a tick that finds its feed still polling is skipped).
    pub(super) running: HashSet<String>,
    pub(super) tasks: JoinSet<Report>,
    /// Feeds to poll now.
    pub(super) due: Vec<String>,
}

impl Daemon {
    /// Schedules polls until a [`Control::Shutdown`] arrives; returns the polls still in flight
    /// (with `/readyz` saying "shutting down").
    pub(super) async fn run(
        &mut self,
        control: &mut mpsc::UnboundedReceiver<Control>,
    ) -> JoinSet<Report> {
        let mut watch = self.watch_files();
        // Poll everything once at start, then follow each feed's schedule.
        let mut sched = Sched {
            due: self.enabled_feeds().map(|f| f.name.clone()).collect(),
            ..Sched::default()
        };
        let mut polls = self.polls.take();
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
                    Some(Control::Reload { why }) => {
                        if self.reload(&why, &mut sched).await {
                            watch = self.watch_files();
                        }
                    }
                    // (`None` cannot happen while `self.control` is open; it would mean stop.)
                    Some(Control::Shutdown) | None => break,
                },
                _ = tokio::time::sleep(sleep) => sched.due = sched.plan.take_due(Utc::now()),
                Some(asked) = next_poll(&mut polls) => self.poll_now(asked, &mut sched),
                Some(joined) = sched.tasks.join_next(), if !sched.tasks.is_empty() => {
                    match joined {
                        Ok(report) => {
                            sched.running.remove(&report.feed);
                            self.live.polled(&report, Utc::now());
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

    /// `kkachi feeds poll NAME`: polls the feed now, ignoring its backoff (not its schedule:
    /// the next tick stays where it is), and answers when it is done. A feed already polling,
    /// disabled or unknown is answered at once with why.
    fn poll_now(&self, asked: crate::status::PollNow, sched: &mut Sched) {
        let crate::status::PollNow { feed: name, reply } = asked;
        let Some(feed) = self.ctx.config.feeds.iter().find(|f| f.name == name) else {
            let known: Vec<&str> = self
                .ctx
                .config
                .feeds
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            drop(reply.send(Err(format!(
                "no feed named {name:?} in {} (feeds: {})",
                self.ctx.config.path.display(),
                known.join(", ")
            ))));
            return;
        };
        if !feed.enabled {
            drop(reply.send(Err(format!(
                "feed {name:?} is disabled (enabled = false in {})",
                self.ctx.config.path.display()
            ))));
            return;
        }
        if !sched.running.insert(name.clone()) {
            drop(reply.send(Err(format!(
                "feed {name:?} is being polled right now; its result will be in `kkachi status`"
            ))));
            return;
        }
        tracing::info!(feed = %name, "polling now, as asked through the control API");
        let ctx = self.ctx.clone();
        let feed = feed.clone();
        sched.tasks.spawn(async move {
            let report = pipeline::poll_feed(&ctx, &feed, pipeline::Backoff::Ignore).await;
            drop(reply.send(Ok(report.clone())));
            report
        });
    }

    pub(super) fn enabled_feeds(&self) -> impl Iterator<Item = &config::FeedConfig> {
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

    /// Watches the config and rules files: an edit is a [`Control::Reload`] on the control
    /// channel, its `why` naming the files. A failure to watch leaves SIGHUP as the way to
    /// reload. The watcher stops when the returned value is dropped.
    fn watch_files(&self) -> Option<FileWatch> {
        let files = [
            self.ctx.config.path.clone(),
            self.ctx.config.rules_path.clone(),
        ];
        let tx = self.control.clone();
        let changed = move |paths: Vec<std::path::PathBuf>| {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let why = format!("{} changed", names.join(", "));
            drop(tx.send(Control::Reload { why }));
        };
        match FileWatch::new(&files, changed) {
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

    async fn prune(&self) {
        let store = self.ctx.store.clone();
        let days = self.ctx.config.store.retention_days;
        let pruned = tokio::task::spawn_blocking(move || {
            let stats = store.prune(Utc::now(), days)?;
            let fold = store.prune_fold(Utc::now())?;
            Ok::<_, crate::store::StoreError>((stats, fold))
        });
        match pruned.await {
            // Nothing pruned is not news (it is every start of a young store).
            Ok(Ok((stats, fold))) if stats.keys == 0 && stats.stories == 0 && fold == 0 => {
                tracing::debug!("pruned nothing")
            }
            Ok(Ok((stats, fold))) => {
                tracing::info!(keys = stats.keys, stories = stats.stories, fold, "pruned")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "prune failed"),
            Err(e) => tracing::error!(error = %e, "prune task failed"),
        }
    }

    /// One line for `systemctl status`.
    pub(super) fn status(&self) -> String {
        format!(
            "watching {} feeds with {} rules; {} alerts queued",
            self.enabled_feeds().count(),
            self.ctx.rules.rules().len(),
            self.ctx.store.outbox_len()
        )
    }
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

/// The next poll asked for through the control API; never, without one.
async fn next_poll(
    polls: &mut Option<mpsc::UnboundedReceiver<crate::status::PollNow>>,
) -> Option<crate::status::PollNow> {
    match polls {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
