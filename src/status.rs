//! `kkachi status`: what the daemon is doing, as one [`Status`] built from the store (feed
//! states, the outbox, subscriptions) and, when the daemon is running, its [`Live`] record (the
//! last poll of each feed, reloads, uptime). The daemon serves it at `/control/status`; with the
//! daemon stopped, `kkachi status` builds it from the store alone (the live fields are empty).
//!
//! Must not: write anything.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::pipeline::{Outcome, Report};
use crate::rules::RuleSet;
use crate::store::{Store, StoreError};

/// The running daemon's own record: what the store does not keep, and the config and rules in
/// force (a reload swaps them).
#[derive(Debug)]
pub struct Live {
    pub started_at: DateTime<Utc>,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    last: BTreeMap<String, LastPoll>,
    reloads_applied: u64,
    reloads_rejected: u64,
    config: Arc<Config>,
    rules: Arc<RuleSet>,
}

/// A request to poll one feed now, ignoring its backoff (`kkachi feeds poll NAME`): the daemon
/// answers on `reply` when the poll is done, or at once with why it cannot.
#[derive(Debug)]
pub struct PollNow {
    pub feed: String,
    pub reply: tokio::sync::oneshot::Sender<Result<Report, String>>,
}

/// A feed's last poll in this run of the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastPoll {
    pub at: DateTime<Utc>,
    /// `polled`, `not_modified`, `skipped` (in backoff) or `failed`.
    pub outcome: String,
    pub items: Option<usize>,
    pub new: Option<usize>,
    pub alerts: Option<usize>,
    pub ms: u64,
}

impl Live {
    pub fn new(started_at: DateTime<Utc>, config: Arc<Config>, rules: Arc<RuleSet>) -> Live {
        Live {
            started_at,
            inner: Mutex::new(Inner {
                last: BTreeMap::new(),
                reloads_applied: 0,
                reloads_rejected: 0,
                config,
                rules,
            }),
        }
    }

    /// The config and rules in force.
    pub fn snapshot(&self) -> (Arc<Config>, Arc<RuleSet>) {
        let inner = self.lock();
        (inner.config.clone(), inner.rules.clone())
    }

    /// A poll finished.
    pub fn polled(&self, report: &Report, at: DateTime<Utc>) {
        let (items, new, alerts) = match report.outcome {
            Outcome::Polled { items, new, alerts } => (Some(items), Some(new), Some(alerts)),
            _ => (None, None, None),
        };
        let last = LastPoll {
            at,
            outcome: report.outcome.label().to_string(),
            items,
            new,
            alerts,
            ms: report.elapsed.as_millis() as u64,
        };
        self.lock().last.insert(report.feed.clone(), last);
    }

    /// A reload was applied (with what is in force now) or rejected (`None`).
    pub fn reloaded(&self, applied: Option<(Arc<Config>, Arc<RuleSet>)>) {
        let mut inner = self.lock();
        match applied {
            Some((config, rules)) => {
                inner.reloads_applied += 1;
                inner.config = config;
                inner.rules = rules;
            }
            None => inner.reloads_rejected += 1,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding it cannot leave the map half-written in a way that matters.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Everything `kkachi status` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Whether this came from the running daemon (else: from the store, daemon stopped).
    pub running: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub uptime_secs: Option<i64>,
    pub reloads: Option<Reloads>,
    pub feeds: Vec<FeedStatus>,
    pub outbox: OutboxStatus,
    /// Rule → active subscribers (paused or ended ones not counted), every rule of the file.
    pub subscribers: BTreeMap<String, usize>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reloads {
    pub applied: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedStatus {
    pub name: String,
    pub url: String,
    pub enabled: bool,
    /// This run's last poll (daemon only).
    pub last_poll: Option<LastPoll>,
    pub last_success: Option<DateTime<Utc>>,
    /// The current error, while the feed is failing.
    pub error: Option<String>,
    pub failures: u32,
    /// No fetch before this (backoff, Retry-After).
    pub next_retry: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxStatus {
    pub len: usize,
    pub oldest_age_secs: Option<i64>,
}

/// The status from the store, with the daemon's `live` record when it is the daemon asking.
pub fn build(
    store: &Store,
    config: &Config,
    rules: &RuleSet,
    live: Option<&Live>,
    now: DateTime<Utc>,
) -> Result<Status, StoreError> {
    let last = live.map(|l| l.lock().last.clone()).unwrap_or_default();
    let mut feeds = Vec::new();
    for f in &config.feeds {
        let st = store.feed_state(&f.name)?;
        feeds.push(FeedStatus {
            name: f.name.clone(),
            url: f.source.to_string(),
            enabled: f.enabled,
            last_poll: last.get(&f.name).cloned(),
            last_success: st.last_success,
            error: (st.failures > 0).then(|| st.last_error.clone()).flatten(),
            failures: st.failures,
            next_retry: st.retry_at.filter(|t| *t > now),
        });
    }
    let oldest = match store.outbox_seqs()?.first() {
        Some(seq) => store.outbox_entry(*seq)?.map(|e| e.enqueued_at),
        None => None,
    };
    let mut subscribers: BTreeMap<String, usize> =
        rules.rules().iter().map(|r| (r.name.clone(), 0)).collect();
    for sub in store.subscriptions()?.values().filter(|s| s.active()) {
        for rule in &sub.rules {
            *subscribers.entry(rule.clone()).or_default() += 1;
        }
    }
    let reloads = live.map(|l| {
        let inner = l.lock();
        Reloads {
            applied: inner.reloads_applied,
            rejected: inner.reloads_rejected,
        }
    });
    Ok(Status {
        running: live.is_some(),
        started_at: live.map(|l| l.started_at),
        uptime_secs: live.map(|l| (now - l.started_at).num_seconds()),
        reloads,
        feeds,
        outbox: OutboxStatus {
            len: store.outbox_len(),
            oldest_age_secs: oldest.map(|t| (now - t).num_seconds().max(0)),
        },
        subscribers,
        now,
    })
}

/// The human table `kkachi status` prints, times in `tz`.
pub fn render(s: &Status, tz: chrono_tz::Tz) -> String {
    let time = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m-%d %H:%M").to_string();
    let mut out = String::new();
    match (s.running, s.uptime_secs) {
        (true, Some(up)) => out.push_str(&format!(
            "kkachi running for {} (since {}), times in {tz}\n",
            age(up),
            s.started_at.map(time).unwrap_or_default()
        )),
        _ => out.push_str(&format!(
            "kkachi is not running (read from the store), times in {tz}\n"
        )),
    }
    if let Some(r) = s.reloads {
        out.push_str(&format!(
            "reloads: {} applied, {} rejected\n",
            r.applied, r.rejected
        ));
    }
    out.push_str(&format!(
        "outbox: {} queued{}\n\n",
        s.outbox.len,
        s.outbox
            .oldest_age_secs
            .map(|a| format!(", oldest {} old", age(a)))
            .unwrap_or_default()
    ));
    let rows: Vec<[String; 7]> = s
        .feeds
        .iter()
        .map(|f| {
            let p = f.last_poll.as_ref();
            [
                if f.enabled {
                    f.name.clone()
                } else {
                    format!("{} (off)", f.name)
                },
                p.map(|p| format!("{} {}", time(p.at), p.outcome))
                    .unwrap_or_else(|| "-".into()),
                f.last_success.map(time).unwrap_or_else(|| "never".into()),
                p.and_then(|p| p.items)
                    .map_or_else(|| "-".into(), |n| n.to_string()),
                p.and_then(|p| p.new)
                    .map_or_else(|| "-".into(), |n| n.to_string()),
                f.next_retry.map(time).unwrap_or_else(|| "-".into()),
                f.error
                    .as_deref()
                    .map(|e| format!("{} ({}×)", crate::text::trim_chars(e, 80), f.failures))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "FEED",
        "LAST POLL",
        "LAST SUCCESS",
        "ITEMS",
        "NEW",
        "NEXT RETRY",
        "ERROR",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  ", w = *w));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    out.push_str(&line(header.to_vec()));
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push_str("\nsubscribers per rule:\n");
    for (rule, n) in &s.subscribers {
        out.push_str(&format!("  {rule}: {n}\n"));
    }
    out
}

/// `3d 4h`, `5h 12m`, `42s`.
fn age(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_well() {
        assert_eq!(age(42), "42s");
        assert_eq!(age(125), "2m");
        assert_eq!(age(5 * 3600 + 12 * 60), "5h 12m");
        assert_eq!(age(3 * 86400 + 4 * 3600 + 59), "3d 4h");
    }
}
