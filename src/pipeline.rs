//! The pipeline: the only place the stages meet. One feed's poll reads top to bottom:
//!
//! ```text
//! backoff? ─▶ fetch ─▶ parse + normalise ─▶ store.admit (dedup) ─▶ first poll? backfill
//!          ─▶ match rules ─▶ deliver ─▶ feed state (validators, backoff) saved
//! ```
//!
//! Invariant: one feed's failure is returned as its [`Outcome::Failed`] and recorded in its
//! state; it never stops another feed's poll or the daemon.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedConfig};
use crate::deliver::{Alert, Console};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::rules::{Doc, RuleSet};
use crate::store::{FeedState, Store, StoreError};
use crate::story::Story;

/// Everything one poll cycle needs: a config snapshot and the shared services.
#[derive(Clone)]
pub struct Ctx {
    pub config: Arc<Config>,
    pub rules: Arc<RuleSet>,
    pub store: Arc<Store>,
    pub fetcher: Arc<Fetcher>,
    pub console: Console,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// In backoff until this time.
    Skipped { until: DateTime<Utc> },
    /// 304 Not Modified: nothing parsed.
    NotModified,
    Polled { items: usize, new: usize, alerts: usize },
    Failed { error: String },
}

#[derive(Debug, Clone)]
pub struct Report {
    pub feed: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// Why a poll failed; each becomes the feed's `last_error`.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("fetch failed: {0}")]
    Fetch(#[from] FetchError),
    #[error("cannot parse feed: {0}")]
    Parse(#[from] crate::feed::FeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Polls one feed: fetch, parse, dedup, match, deliver, and record the feed's state.
pub async fn poll_feed(ctx: &Ctx, feed: &FeedConfig) -> Report {
    let started = Instant::now();
    let now = Utc::now();
    let outcome = match ctx.store.feed_state(&feed.name) {
        Err(e) => Outcome::Failed { error: e.to_string() },
        Ok(state) => match state.retry_at {
            Some(until) if until > now => Outcome::Skipped { until },
            _ => poll_and_record(ctx, feed, state, now).await,
        },
    };
    let report = Report { feed: feed.name.clone(), outcome, elapsed: started.elapsed() };
    log_report(&report, feed);
    report
}

async fn poll_and_record(ctx: &Ctx, feed: &FeedConfig, mut state: FeedState, now: DateTime<Utc>) -> Outcome {
    let result = poll(ctx, feed, &state, now).await;
    let outcome = match result {
        Ok((outcome, validators)) => {
            state.initialized = true;
            state.failures = 0;
            state.retry_at = None;
            state.last_success = Some(now);
            state.last_error = None;
            if let Some(v) = validators {
                state.etag = v.etag;
                state.last_modified = v.last_modified;
            }
            outcome
        }
        Err(e) => {
            state.failures = state.failures.saturating_add(1);
            let server_wait = match &e {
                PollError::Fetch(f) => f.retry_after(),
                _ => None,
            };
            let wait = server_wait
                .unwrap_or_else(|| backoff(state.failures))
                .min(ctx.config.fetch.max_backoff);
            state.retry_at = Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
            state.last_error = Some(e.to_string());
            state.last_error_at = Some(now);
            Outcome::Failed { error: e.to_string() }
        }
    };
    if let Err(e) = ctx.store.set_feed_state(&feed.name, &state) {
        tracing::error!(feed = %feed.name, error = %e, "cannot save feed state");
    }
    outcome
}

async fn poll(
    ctx: &Ctx,
    feed: &FeedConfig,
    state: &FeedState,
    now: DateTime<Utc>,
) -> Result<(Outcome, Option<Validators>), PollError> {
    let validators = Validators { etag: state.etag.clone(), last_modified: state.last_modified.clone() };
    let (bytes, content_type, validators) = match ctx.fetcher.fetch(&feed.source, &validators).await? {
        Fetched::NotModified => return Ok((Outcome::NotModified, None)),
        Fetched::Body { bytes, content_type, validators } => (bytes, content_type, validators),
    };

    let tz = ctx.config.schedule.timezone;
    let mut stories = crate::feed::parse_feed(&feed.name, &bytes, content_type.as_deref(), tz)?;
    drop(bytes);
    let first_seen = now.with_timezone(&tz).fixed_offset();
    for story in &mut stories {
        story.published.get_or_insert(first_seen);
    }

    let new = ctx.store.admit(&stories, now)?;
    let alerting = if state.initialized { new.clone() } else { backfill(&stories, &new, feed.backfill) };

    let alerts: Vec<Alert> = alerting
        .iter()
        .flat_map(|&i| {
            let story = &stories[i];
            ctx.rules.match_doc(&doc(story)).into_iter().map(move |m| Alert::new(story, &m))
        })
        .collect();
    if let Err(e) = ctx.console.deliver(&alerts) {
        tracing::error!(feed = %feed.name, error = %e, "cannot write alerts to stdout");
    }
    let outcome = Outcome::Polled { items: stories.len(), new: alerting.len(), alerts: alerts.len() };
    Ok((outcome, Some(validators)))
}

pub fn doc(story: &Story) -> Doc<'_> {
    Doc {
        feed: &story.feed,
        title: &story.title,
        summary: &story.summary,
        content: story.content.as_deref().unwrap_or(""),
    }
}

/// On a feed's first poll everything is marked seen and only the newest `n` new stories alert
/// (newest by published time; feed order breaks ties). Returned in feed order.
pub fn backfill(stories: &[Story], new: &[usize], n: usize) -> Vec<usize> {
    let mut by_age: Vec<usize> = new.to_vec();
    by_age.sort_by_key(|&i| (std::cmp::Reverse(stories[i].published), i));
    by_age.truncate(n);
    by_age.sort_unstable();
    by_age
}

/// Exponential backoff after `failures` consecutive failures: 1 min, 2, 4, … (capped by the
/// caller at `[fetch] max_backoff`).
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    Duration::from_secs(60u64.saturating_mul(1u64 << exp))
}

fn log_report(report: &Report, feed: &FeedConfig) {
    let ms = report.elapsed.as_millis() as u64;
    match &report.outcome {
        Outcome::Skipped { until } => {
            tracing::debug!(feed = %report.feed, until = %until, "in backoff, skipped");
        }
        Outcome::NotModified => tracing::info!(feed = %report.feed, ms, "not modified"),
        Outcome::Polled { items, new, alerts } => {
            tracing::info!(feed = %report.feed, items, new, alerts, ms, "polled");
        }
        Outcome::Failed { error } => {
            tracing::warn!(feed = %report.feed, source = %feed.source, ms, error = %error, "poll failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(i: u32, day: Option<u32>) -> Story {
        Story {
            id: i.to_string(),
            feed: "f".into(),
            title: format!("title {i}"),
            url: format!("https://e.com/{i}"),
            published: day.and_then(|d| DateTime::parse_from_rfc3339(&format!("2026-01-{d:02}T00:00:00+09:00")).ok()),
            summary: String::new(),
            authors: vec![],
            categories: vec![],
            content: None,
        }
    }

    #[test]
    fn backfill_takes_the_newest_in_feed_order() {
        let stories = vec![story(0, Some(1)), story(1, Some(3)), story(2, None), story(3, Some(2))];
        assert_eq!(backfill(&stories, &[0, 1, 2, 3], 2), vec![1, 3]);
        assert_eq!(backfill(&stories, &[0, 1, 2, 3], 0), Vec::<usize>::new());
        assert_eq!(backfill(&stories, &[0, 2], 5), vec![0, 2]);
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(2), Duration::from_secs(120));
        assert_eq!(backoff(4), Duration::from_secs(480));
        assert!(backoff(100) > Duration::from_secs(6 * 3600));
    }
}
