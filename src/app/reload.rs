//! Reloads: load and validate the config and rules files, then swap them in, or keep the
//! running ones and report every problem.
//!
//! A reload is one [`Control::Reload`](super::Control::Reload) whatever asked for it (SIGHUP,
//! `systemctl reload`, an edit the watcher saw); its `why` is logged and named in the admins'
//! notice.
//!
//! Invariant: a reload swaps only a fully valid config; services it rebuilds (the `Fetcher`)
//! are built before anything is swapped. What needs a restart (`config::for_reload`) keeps its
//! running value and is named in the log.
//! Invariant: one rejected edit gets one admin notice, however many reloads it causes.
//! Invariant: polls in flight finish with the snapshot they started with.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::daemon::{Daemon, Sched};
use crate::config::{self, Config, Loaded};
use crate::fetch::Fetcher;
use crate::pipeline;
use crate::rules::RuleSet;
use crate::telegram;

impl Daemon {
    /// Loads and validates everything, then swaps it in, or keeps the running config and
    /// reports every problem. Returns whether the files to watch changed.
    pub(super) async fn reload(&mut self, why: &str, sched: &mut Sched) -> bool {
        crate::systemd::reloading();
        tracing::info!("reloading ({why})");
        let path = self.ctx.config.path.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let loaded = config::load(&path);
            super::release_freed_memory("rules file");
            loaded
        })
        .await;
        let outcome = match loaded {
            Ok(Ok(loaded)) => self.apply(loaded, sched),
            Ok(Err(diags)) => Err(diags.iter().map(ToString::to_string).collect()),
            Err(e) => Err(vec![format!("the reload task failed: {e}")]),
        };
        self.ctx.metrics.reload(outcome.is_ok());
        self.live.reloaded(
            outcome
                .is_ok()
                .then(|| (self.ctx.config.clone(), self.ctx.rules.clone())),
        );
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
        // In the running configuration's language: the rejected one may not have one.
        let lang = self.ctx.config.telegram.language;
        let mut text = format!(
            "{}\n\n{}",
            crate::i18n::t(
                lang,
                "notice-config-rejected",
                &[("why", crate::i18n::s(why))]
            ),
            problems
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        if problems.len() > SHOWN {
            text.push('\n');
            text.push_str(&crate::i18n::t(
                lang,
                "notice-config-more",
                &[("n", crate::i18n::n(problems.len() - SHOWN))],
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
        self.ctx.delivery.set_timezone(config.schedule.timezone);
        if config.fold != old.fold {
            // Off the async threads (a rebuild reads `fold.v2`); polls wait for it on the index.
            let (store, fold) = (self.ctx.store.clone(), config.fold.clone());
            tokio::task::spawn_blocking(move || match super::set_fold(&store, &fold) {
                Ok(()) => tracing::info!(
                    enabled = fold.enabled,
                    events = fold.events,
                    window = %humantime::format_duration(fold.window),
                    "[fold] changed"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "cannot apply [fold]; folding keeps its old settings")
                }
            });
        }
        self.ctx.config = config.clone();
        self.ctx.rules = loaded.rules.clone();
        self.personal_base.send_replace(loaded.rules.clone());
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

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
