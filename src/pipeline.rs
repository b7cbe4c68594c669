//! The pipeline: the only place the stages meet. One feed's poll reads top to bottom:
//!
//! ```text
//! backoff? ─▶ fetch ─▶ parse + normalise ─▶ prepare: unseen? (first poll: backfill),
//!          match rules, summarise ─▶ delivery.admit: store marks seen (+ queues Telegram
//!          alerts, same transaction; or prints console alerts per committed chunk)
//!          ─▶ metrics ─▶ feed state (validators, backoff) saved
//! ```
//!
//! What happens to an alert once prepared is `deliver`'s ([`crate::deliver::Delivery`]); this
//! module decides which stories alert (backfill, dedup preview) and what they carry (summary).
//!
//! Invariant: one feed's failure is returned as its [`Outcome::Failed`] and recorded in its
//! state; it never stops another feed's poll or the daemon.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedConfig};
use crate::deliver::{Admission, Admitted, Alert, DeliverError, Delivery, Prepared};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::rules::{Doc, RuleMatch, RuleSet};
use crate::store::{FeedState, Store, StoreError};
use crate::story::Story;

/// Everything one poll cycle needs: a config snapshot and the shared services.
#[derive(Clone)]
pub struct Ctx {
    pub config: Arc<Config>,
    pub rules: Arc<RuleSet>,
    pub store: Arc<Store>,
    pub fetcher: Arc<Fetcher>,
    /// Where alerts go: the Telegram outbox or stdout.
    pub delivery: Delivery,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Permits for CPU-bound and blocking work (parse, match, store transactions), one per
    /// core: see [`cpu_permits`].
    pub cpu: Arc<tokio::sync::Semaphore>,
}

/// The permits of [`Ctx::cpu`]: one per core, so that heavy feeds are processed one per core
/// at a time and their memory does not add up.
pub fn cpu_permits() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    Arc::new(tokio::sync::Semaphore::new(cores))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// In backoff until this time.
    Skipped {
        until: DateTime<Utc>,
    },
    /// 304 Not Modified: nothing parsed.
    NotModified,
    Polled {
        items: usize,
        new: usize,
        alerts: usize,
    },
    Failed {
        error: String,
    },
}

impl Outcome {
    /// The outcome's name, as the `outcome` label of `kkachi_polls_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Skipped { .. } => "skipped",
            Outcome::NotModified => "not_modified",
            Outcome::Polled { .. } => "polled",
            Outcome::Failed { .. } => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub feed: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
    /// This was the feed's first successful poll (everything marked seen, backfill alerted).
    pub first_poll: bool,
    /// After a failure: when the next attempt may be made (backoff or Retry-After).
    pub next_retry: Option<DateTime<Utc>>,
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
    #[error("{0}")]
    Internal(String),
}

impl PollError {
    /// The `kind` label of `kkachi_poll_errors_total`: the fetch error's kind, or the stage.
    fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(e) => e.kind(),
            PollError::Parse(_) => "parse",
            PollError::Store(_) => "store",
            PollError::Internal(_) => "internal",
        }
    }
}

/// Whether a poll waits out the feed's backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The daemon: a feed in backoff is skipped until its `retry_at`.
    Honour,
    /// `run --once` (and a user asking for a poll now): every enabled feed is polled.
    Ignore,
}

/// Polls one feed: fetch, parse, dedup, match, deliver, and record the feed's state.
pub async fn poll_feed(ctx: &Ctx, feed: &FeedConfig, backoff: Backoff) -> Report {
    let started = Instant::now();
    let now = Utc::now();
    let mut first_poll = false;
    let mut next_retry = None;
    let outcome = match ctx.store.feed_state(&feed.name) {
        Err(e) => {
            let e = PollError::from(e);
            ctx.metrics.poll_error(&feed.name, e.kind());
            Outcome::Failed {
                error: e.to_string(),
            }
        }
        Ok(state) => match state.retry_at {
            Some(until) if until > now && backoff == Backoff::Honour => Outcome::Skipped { until },
            _ => {
                let was_initialized = state.initialized;
                let (outcome, retry_at) = poll_and_record(ctx, feed, state, now).await;
                first_poll = !was_initialized && matches!(outcome, Outcome::Polled { .. });
                next_retry = retry_at;
                outcome
            }
        },
    };
    let report = Report {
        feed: feed.name.clone(),
        outcome,
        elapsed: started.elapsed(),
        first_poll,
        next_retry,
    };
    log_report(&report, feed);
    ctx.metrics
        .poll(&feed.name, report.outcome.label(), report.elapsed);
    report
}

/// The poll's outcome, and after a failure when the feed may be tried again.
async fn poll_and_record(
    ctx: &Ctx,
    feed: &FeedConfig,
    mut state: FeedState,
    now: DateTime<Utc>,
) -> (Outcome, Option<DateTime<Utc>>) {
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
            ctx.metrics.poll_error(&feed.name, e.kind());
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
            Outcome::Failed {
                error: e.to_string(),
            }
        }
    };
    let failed = matches!(outcome, Outcome::Failed { .. });
    let health = feed_health(&mut state, failed, now, ctx.config.health.feed_down_after);
    if let Err(e) = ctx.store.set_feed_state(&feed.name, &state) {
        tracing::error!(feed = %feed.name, error = %e, "cannot save feed state");
    }
    if let Some(change) = health {
        notify_admins(
            ctx,
            &change.notice(&feed.name, ctx.config.schedule.timezone),
            now,
        );
    }
    let retry_at = if failed { state.retry_at } else { None };
    (outcome, retry_at)
}

/// A feed's health crossing the `[health] feed_down_after` line, either way.
#[derive(Debug, Clone, PartialEq)]
enum HealthChange {
    Down {
        since: DateTime<Utc>,
        down_for: chrono::Duration,
        error: String,
    },
    Recovered {
        down_for: chrono::Duration,
    },
}

impl HealthChange {
    fn notice(&self, feed: &str, tz: chrono_tz::Tz) -> String {
        match self {
            HealthChange::Down {
                since,
                down_for,
                error,
            } => format!(
                "⚠️ Feed {feed:?} has been failing since {} ({} so far): {error}\n\
                 kkachi keeps retrying; you will get one more notice when it recovers.",
                since.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
                humantime::format_duration(round_minutes(*down_for)),
            ),
            HealthChange::Recovered { down_for } => format!(
                "✅ Feed {feed:?} works again after failing for {}.",
                humantime::format_duration(round_minutes(*down_for)),
            ),
        }
    }
}

/// Whole minutes (whole seconds under a minute): "1h 1m", not "1h 1m 3s 120ms".
fn round_minutes(d: chrono::Duration) -> Duration {
    let secs = d.num_seconds().max(0) as u64;
    Duration::from_secs(if secs < 60 { secs } else { secs / 60 * 60 })
}

/// Updates the failure streak after a poll and says whether the admins should hear of it:
/// once when the feed has failed for longer than `down_after`, once when it works again.
fn feed_health(
    state: &mut FeedState,
    failed: bool,
    now: DateTime<Utc>,
    down_after: Duration,
) -> Option<HealthChange> {
    if failed {
        let since = *state.failing_since.get_or_insert(now);
        let down_after = chrono::Duration::from_std(down_after).unwrap_or(chrono::Duration::MAX);
        if !state.down_notified && now - since >= down_after {
            state.down_notified = true;
            return Some(HealthChange::Down {
                since,
                down_for: now - since,
                error: state.last_error.clone().unwrap_or_default(),
            });
        }
        return None;
    }
    let since = state.failing_since.take();
    if std::mem::take(&mut state.down_notified) {
        return Some(HealthChange::Recovered {
            down_for: now - since.unwrap_or(now),
        });
    }
    None
}

/// Queues a plain-text notice to every admin (Telegram), or logs it when Telegram is off.
pub fn notify_admins(ctx: &Ctx, text: &str, now: DateTime<Utc>) {
    let admins = &ctx.config.telegram.admins;
    match &ctx.delivery {
        Delivery::Outbox { wake, .. } if !admins.is_empty() => {
            let notices = crate::store::OutboxEntry::notices(admins.iter().copied(), text, now);
            match ctx.store.enqueue(&notices) {
                Ok(()) => wake.notify_one(),
                Err(e) => {
                    tracing::error!(error = %e, notice = text, "cannot queue an admin notice")
                }
            }
        }
        _ => tracing::warn!(
            notice = text,
            "admin notice (no Telegram admins configured)"
        ),
    }
}

async fn poll(
    ctx: &Ctx,
    feed: &FeedConfig,
    state: &FeedState,
    now: DateTime<Utc>,
) -> Result<(Outcome, Option<Validators>), PollError> {
    let Some((bytes, content_type, validators)) = fetch(ctx, feed, state).await? else {
        return Ok((Outcome::NotModified, None));
    };
    let stories = Arc::new(parse(ctx, feed, bytes, content_type, now).await?);
    let candidates = Arc::new(prepare(ctx, feed, state, &stories).await?);
    let admitted = admit(ctx, feed, &stories, &candidates, now).await?;
    Ok((
        count(ctx, feed, &stories, &candidates, &admitted),
        Some(validators),
    ))
}

/// The feed's body, unless it was not modified since the validators were stored.
async fn fetch(
    ctx: &Ctx,
    feed: &FeedConfig,
    state: &FeedState,
) -> Result<Option<(Vec<u8>, Option<String>, Validators)>, PollError> {
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    match ctx.fetcher.fetch(&feed.source, &validators).await? {
        Fetched::NotModified => Ok(None),
        Fetched::Body {
            bytes,
            content_type,
            validators,
        } => {
            ctx.metrics.fetched(&feed.name, bytes.len());
            Ok(Some((bytes, content_type, validators)))
        }
    }
}

/// Bytes → normalised stories; a story without a date is dated `now` (when it was first seen).
async fn parse(
    ctx: &Ctx,
    feed: &FeedConfig,
    bytes: Vec<u8>,
    content_type: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<Story>, PollError> {
    // Parsing, the store and matching are CPU-bound or block on disk: they run on the
    // blocking pool, one feed per core at a time, so a 50,000-item feed never delays a timer,
    // another feed's fetch timeout or /healthz on the async threads.
    let tz = ctx.config.schedule.timezone;
    let name = feed.name.clone();
    let url = match &feed.source {
        crate::config::FeedSource::Http(url) => Some(url.clone()),
        crate::config::FeedSource::File(_) => None,
    };
    off_reactor(ctx, move || {
        let parsed =
            crate::feed::parse_at(&name, &bytes, content_type.as_deref(), tz, url.as_ref())?;
        // Bytes replaced, items skipped, nothing understood: the feed works, but say so.
        for warning in &parsed.warnings {
            tracing::warn!(feed = %name, warning = %warning, "feed read with a problem");
        }
        let mut stories = parsed.stories;
        let first_seen = now.with_timezone(&tz).fixed_offset();
        for story in &mut stories {
            story.published.get_or_insert(first_seen);
        }
        Ok::<_, PollError>(stories)
    })
    .await?
}

/// What [`prepare`] found in a poll's stories.
struct Candidates {
    /// The stories that alert if the store finds them new: those that looked new, on a first
    /// poll only the backfill. Batch order.
    alerting: Vec<usize>,
    /// The alerts of those that matched a rule, with their summaries.
    alerts: Prepared,
}

/// Dedup (in chunks, each its own transaction) and delivery through [`Ctx::delivery`]:
/// Telegram entries are queued in the transaction that marks their story seen; console alerts
/// are printed once their chunk is committed.
async fn admit(
    ctx: &Ctx,
    feed: &FeedConfig,
    stories: &Arc<Vec<Story>>,
    candidates: &Arc<Candidates>,
    now: DateTime<Utc>,
) -> Result<Admitted, PollError> {
    let (stories, candidates, ctx2) = (stories.clone(), candidates.clone(), ctx.clone());
    let name = feed.name.clone();
    let admitted = off_reactor(ctx, move || {
        ctx2.delivery.admit(
            &ctx2.store,
            &ctx2.rules,
            &name,
            &stories,
            &candidates.alerts,
            Admission::Poll { now },
        )
    })
    .await?;
    admitted.map_err(|e| match e {
        DeliverError::Store(e) => PollError::Store(e),
        // Not returned after a poll (the stories are marked seen; the failure is logged).
        DeliverError::Stdout(e) => PollError::Internal(e.to_string()),
    })
}

/// The poll's metrics and outcome: the stories that alerted are the candidates the store found
/// new.
fn count(
    ctx: &Ctx,
    feed: &FeedConfig,
    stories: &[Story],
    candidates: &Candidates,
    admitted: &Admitted,
) -> Outcome {
    let new: std::collections::HashSet<usize> = admitted.new.iter().copied().collect();
    let alerting: Vec<usize> = candidates
        .alerting
        .iter()
        .copied()
        .filter(|i| new.contains(i))
        .collect();
    let matched = candidates
        .alerts
        .alerts(&alerting)
        .flat_map(|alert| alert.rules.iter().map(|h| h.rule.as_str()));
    ctx.metrics.admitted(
        &feed.name,
        stories.len(),
        admitted.new.len(),
        matched,
        admitted.alerts,
    );
    Outcome::Polled {
        items: stories.len(),
        new: alerting.len(),
        alerts: admitted.alerts,
    }
}

/// The stories that alert if they are new (a read-only preview of the store; on a first poll
/// only the backfill), and the alerts of those that matched: matched, then summarised
/// (summaries may wait on the network, which the store transactions cannot).
async fn prepare(
    ctx: &Ctx,
    feed: &FeedConfig,
    state: &FeedState,
    stories: &Arc<Vec<Story>>,
) -> Result<Candidates, PollError> {
    let (alerting, matches) = {
        let (stories, ctx2) = (stories.clone(), ctx.clone());
        let (initialized, backfill_n) = (state.initialized, feed.backfill);
        off_reactor(ctx, move || {
            let new = ctx2.store.unseen(&stories)?;
            let alerting = if initialized {
                new
            } else {
                backfill(&stories, &new, backfill_n)
            };
            // One matcher for the poll: it reuses its scratch between stories.
            let mut matcher = ctx2.rules.matcher();
            let matches: Vec<(usize, Vec<RuleMatch>)> = alerting
                .iter()
                .map(|&i| (i, matcher.match_doc(&doc(&stories[i])).to_vec()))
                .filter(|(_, m)| !m.is_empty())
                .collect();
            Ok::<_, PollError>((alerting, matches))
        })
        .await??
    };
    let mut alerts = Prepared::new();
    for (i, m) in matches {
        let terms = crate::summary::Terms::of_hits(m.iter().map(|r| (&r.matched[..], &r.via[..])));
        let summary = alert_summary(ctx, feed, &stories[i], terms).await;
        alerts.insert(i, Alert::matched(&stories[i], &m, summary));
    }
    Ok(Candidates { alerting, alerts })
}

/// Runs CPU-bound or blocking work on tokio's blocking pool, holding one of the
/// [`Ctx::cpu`] permits so that at most one such job per core runs at once (their memory adds
/// up: two 50,000-item feeds parsed together need twice the peak). A panic in the job (a
/// parser bug on a hostile feed) fails this poll, not the daemon.
async fn off_reactor<T: Send + 'static>(
    ctx: &Ctx,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PollError> {
    let _permit = ctx
        .cpu
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| PollError::Internal("the blocking pool is closed".to_string()))?;
    tokio::task::spawn_blocking(job).await.map_err(|e| {
        PollError::Internal(if e.is_panic() {
            format!(
                "internal error (panic) while processing the feed: {}",
                panic_text(e)
            )
        } else {
            "the blocking task was cancelled".to_string()
        })
    })
}

fn panic_text(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

/// The summary an alert carries: an LLM's when `[summary.llm]` is set and it answers within
/// the limits, else the extractive one over the article (when `full_text` fetched it) or the
/// feed's own text. Never fails: every fallback ends at the extractive summary. The extractive
/// summary keeps the sentence carrying the matched `terms`.
async fn alert_summary(
    ctx: &Ctx,
    feed: &FeedConfig,
    story: &Story,
    terms: crate::summary::Terms,
) -> String {
    let max = ctx.config.summary.max_chars;
    let article = if feed.full_text {
        fetch_article(ctx, &feed.name, &story.url).await
    } else {
        None
    };
    let extractive = {
        let (owned, article) = (story.clone(), article.clone());
        off_reactor(ctx, move || {
            summarize_story(&owned, article.as_deref(), max, &terms)
        })
            .await
            .unwrap_or_else(|e| {
                tracing::error!(feed = %feed.name, url = %story.url, error = %e, "cannot summarise; the alert carries the feed's own text");
                story.summary.chars().take(max).collect()
            })
    };
    let Some(llm) = &ctx.config.summary.llm else {
        return extractive;
    };
    let Ok(key) = std::env::var(&llm.api_key_env) else {
        tracing::warn!(env = %llm.api_key_env, "[summary.llm] is set but the API key variable is not; using the extractive summary");
        return extractive;
    };
    let text = article
        .as_deref()
        .or(story.content.as_deref())
        .unwrap_or(&story.summary);
    let text: String = text.chars().take(LLM_INPUT_CHARS).collect();
    match ctx
        .fetcher
        .chat_summary(llm, &key, &story.title, &text, max)
        .await
    {
        Ok(answer) => match fit_sentences(&answer, max) {
            Some(fitted) => fitted,
            None => {
                tracing::warn!(feed = %feed.name, "llm summary has no sentence within the limit; using the extractive one");
                extractive
            }
        },
        Err(e) => {
            tracing::warn!(feed = %feed.name, error = %e, "llm summary failed; using the extractive one");
            extractive
        }
    }
}

/// At most this much article text is sent to the LLM.
const LLM_INPUT_CHARS: usize = 8000;

/// Whole sentences of `text`, in order, within `max` characters (`None` if not even one fits).
fn fit_sentences(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    if text.chars().count() <= max {
        return (!text.is_empty()).then(|| text.to_string());
    }
    let mut out = String::new();
    for sentence in crate::summary::split_sentences(text) {
        let len = out.chars().count() + usize::from(!out.is_empty()) + sentence.chars().count();
        if len > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(sentence);
    }
    (!out.is_empty()).then_some(out)
}

async fn fetch_article(ctx: &Ctx, feed: &str, url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match ctx.fetcher.fetch_page(&parsed).await {
        Ok((bytes, content_type)) => {
            let page_url = url.to_string();
            let article = off_reactor(ctx, move || {
                let html = crate::summary::decode_html(&bytes, content_type.as_deref());
                crate::summary::extract_article(&html, Some(&page_url))
            })
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(feed, url, error = %e, "cannot extract the article; using the feed text");
                None
            });
            if article.is_none() {
                tracing::info!(
                    feed,
                    url,
                    "no article text found in the page; using the feed text"
                );
            }
            article.map(|a| a.text)
        }
        Err(e) => {
            tracing::warn!(feed, url, error = %e, "cannot fetch the article page; using the feed text");
            None
        }
    }
}

/// The extractive summary of a story (and of its article's main text, when fetched), keeping
/// the sentence that carries the matched `terms` (none: `feed test`). Used by alerts,
/// `feed test` and `replay` alike.
pub fn summarize_story(
    story: &Story,
    article: Option<&str>,
    max_chars: usize,
    terms: &crate::summary::Terms,
) -> String {
    let input = crate::summary::SummaryInput {
        title: &story.title,
        description: &story.summary,
        content: story.content.as_deref(),
        article,
    };
    let options = crate::summary::Options {
        terms: terms.clone(),
        ..Default::default()
    };
    crate::summary::explain_with(&input, max_chars, &options).summary
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
        // A first poll's new=0 would read like broken dedup: say what happened.
        Outcome::Polled { items, new, alerts } if report.first_poll => {
            let first_poll = format!("{items} marked seen (backfill {})", feed.backfill);
            tracing::info!(feed = %report.feed, items, new, alerts, ms, first_poll, "polled");
        }
        Outcome::Polled { items, new, alerts } => {
            tracing::info!(feed = %report.feed, items, new, alerts, ms, "polled");
        }
        // Once per failure: the feed is skipped until then (the daemon logs skips at debug).
        Outcome::Failed { error } => match report.next_retry {
            Some(at) => {
                let retry_in = humantime::format_duration(round_minutes(at - Utc::now()));
                tracing::warn!(feed = %report.feed, source = %feed.source, ms, error = %error, next_retry = %at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), %retry_in, "poll failed");
            }
            None => {
                tracing::warn!(feed = %report.feed, source = %feed.source, ms, error = %error, "poll failed");
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(i: u32, day: Option<u32>) -> Story {
        let mut s = crate::story::test_story(
            "f",
            &i.to_string(),
            &format!("title {i}"),
            &format!("https://e.com/{i}"),
        );
        s.published = day.and_then(|d| {
            DateTime::parse_from_rfc3339(&format!("2026-01-{d:02}T00:00:00+09:00")).ok()
        });
        s
    }

    #[test]
    fn a_feed_down_longer_than_the_limit_is_reported_once_then_its_recovery_once() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-27T00:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        let at = |mins: i64| t0 + chrono::Duration::minutes(mins);
        let limit = Duration::from_secs(60 * 60);
        let mut state = FeedState {
            last_error: Some("fetch failed: HTTP 500".into()),
            ..FeedState::default()
        };
        // Failing, but not yet for an hour: quiet.
        assert_eq!(feed_health(&mut state, true, at(0), limit), None);
        assert_eq!(feed_health(&mut state, true, at(30), limit), None);
        assert_eq!(state.failing_since, Some(at(0)));
        // Past the hour: one notice, then quiet while it keeps failing.
        let down = feed_health(&mut state, true, at(61), limit);
        assert_eq!(
            down,
            Some(HealthChange::Down {
                since: at(0),
                down_for: chrono::Duration::minutes(61),
                error: "fetch failed: HTTP 500".into()
            })
        );
        let text = down
            .expect("down")
            .notice("연합뉴스", chrono_tz::Asia::Seoul);
        assert!(text.contains("\"연합뉴스\" has been failing since 2026-11-27 09:00 KST (1h 1m so far): fetch failed: HTTP 500"), "{text}");
        assert_eq!(feed_health(&mut state, true, at(120), limit), None);
        // Recovery: one notice, and the streak is over.
        let up = feed_health(&mut state, false, at(150), limit);
        assert_eq!(
            up,
            Some(HealthChange::Recovered {
                down_for: chrono::Duration::minutes(150)
            })
        );
        assert!(
            up.expect("up")
                .notice("f", chrono_tz::UTC)
                .contains("works again after failing for 2h 30m")
        );
        assert_eq!((state.failing_since, state.down_notified), (None, false));
        assert_eq!(feed_health(&mut state, false, at(160), limit), None);
        // A short outage that never crossed the line recovers silently.
        assert_eq!(feed_health(&mut state, true, at(200), limit), None);
        assert_eq!(feed_health(&mut state, false, at(210), limit), None);
        assert_eq!(state.failing_since, None);
    }

    #[test]
    fn feed_state_records_from_before_the_health_fields_still_load() {
        let old = r#"{"initialized":true,"etag":null,"last_modified":null,"failures":2,"retry_at":null,"last_success":null,"last_error":"x","last_error_at":null}"#;
        let state: FeedState = serde_json::from_str(old).expect("old record loads");
        assert_eq!(
            (state.failures, state.failing_since, state.down_notified),
            (2, None, false)
        );
    }

    #[test]
    fn backfill_takes_the_newest_in_feed_order() {
        let stories = vec![
            story(0, Some(1)),
            story(1, Some(3)),
            story(2, None),
            story(3, Some(2)),
        ];
        assert_eq!(backfill(&stories, &[0, 1, 2, 3], 2), vec![1, 3]);
        assert_eq!(backfill(&stories, &[0, 1, 2, 3], 0), Vec::<usize>::new());
        assert_eq!(backfill(&stories, &[0, 2], 5), vec![0, 2]);
    }

    #[test]
    fn llm_answers_are_cut_to_whole_sentences() {
        assert_eq!(
            fit_sentences("  짧은 요약이다.  ", 100).as_deref(),
            Some("짧은 요약이다.")
        );
        let long = "첫 문장이다. 두 번째 문장은 조금 더 길다. 세 번째 문장은 한계를 넘는다.";
        assert_eq!(
            fit_sentences(long, 30).as_deref(),
            Some("첫 문장이다. 두 번째 문장은 조금 더 길다.")
        );
        assert_eq!(
            fit_sentences("하나의 아주 긴 문장이 한계를 넘는다.", 5),
            None
        );
        assert_eq!(fit_sentences("   ", 5), None);
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(2), Duration::from_secs(120));
        assert_eq!(backoff(4), Duration::from_secs(480));
        assert!(backoff(100) > Duration::from_secs(6 * 3600));
    }
}
