//! Prometheus metrics: every series kkachi exports, and their text encoding.
//!
//! One [`Metrics`] per process, shared as `Arc<Metrics>` (no global registry: STYLE forbids
//! global mutable state). The pipeline and the Telegram sender call one method per stage;
//! `http` serves [`Metrics::render`]. Gauges that describe the store (outbox depth, feeds in
//! backoff) are read from it at scrape time, so they are right across restarts and never
//! drift from what is on disk.
//!
//! Labels are bounded: feed and rule names come from the config, the other label values are
//! fixed sets named in each series' help text. Must not: know about HTTP, or read the config.

use std::fmt;
use std::time::Duration;

use chrono::Utc;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::store::Store;

/// The `Content-Type` of [`Metrics::render`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabel {
    feed: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PollLabels {
    feed: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    feed: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoryLabels {
    feed: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabel {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Every series kkachi exports. One instance per process, shared as `Arc<Metrics>`.
pub struct Metrics {
    registry: Registry,
    polls: Family<PollLabels, Counter>,
    poll_errors: Family<ErrorLabels, Counter>,
    poll_seconds: Family<OutcomeLabel, Histogram, fn() -> Histogram>,
    fetched_bytes: Family<FeedLabel, Counter>,
    stories: Family<StoryLabels, Counter>,
    rule_matches: Family<RuleLabel, Counter>,
    alerts_queued: Counter,
    alerts_sent: Counter,
    alerts_failed: Family<ReasonLabel, Counter>,
    telegram_429: Counter,
    delivery_seconds: Histogram,
    outbox_depth: Gauge,
    fold_stories: Gauge,
    fold_index_bytes: Gauge,
    feeds_in_backoff: Gauge,
    reloads: Family<ResultLabel, Counter>,
    reload_ok: Gauge,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// 50 ms … 2 min: a poll is a fetch (bounded by `[fetch] timeout`), a parse and a transaction.
fn poll_buckets() -> Histogram {
    Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0])
}

/// 100 ms … 3 h: a delivery waits for rate limits, flood waits and Telegram outages.
fn delivery_buckets() -> Histogram {
    Histogram::new([
        0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 10800.0,
    ])
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::with_prefix("kkachi"),
            polls: Family::default(),
            poll_errors: Family::default(),
            poll_seconds: Family::new_with_constructor(poll_buckets),
            fetched_bytes: Family::default(),
            stories: Family::default(),
            rule_matches: Family::default(),
            alerts_queued: Counter::default(),
            alerts_sent: Counter::default(),
            alerts_failed: Family::default(),
            telegram_429: Counter::default(),
            delivery_seconds: delivery_buckets(),
            outbox_depth: Gauge::default(),
            fold_stories: Gauge::default(),
            fold_index_bytes: Gauge::default(),
            feeds_in_backoff: Gauge::default(),
            reloads: Family::default(),
            reload_ok: Gauge::default(),
        };
        m.reload_ok.set(1);
        let mut r = m.registry;
        // Counters get `_total` and units their suffix from the encoder: `polls` is exported
        // as `kkachi_polls_total`, `poll_duration` as `kkachi_poll_duration_seconds`.
        r.register(
            "polls",
            "Feed polls by feed and outcome (polled, not_modified, skipped: in backoff, failed)",
            m.polls.clone(),
        );
        r.register(
            "poll_errors",
            "Failed feed polls by feed and kind: the fetch's (timeout, connect_timeout, connect, http_429, \
             http_4xx, http_5xx, http_other, too_large, redirects, refused, file, other), \
             parse, store or internal (a panic while processing the feed)",
            m.poll_errors.clone(),
        );
        r.register_with_unit(
            "poll_duration",
            "Time one feed poll took, fetch to saved state, by outcome (skipped polls are not \
             observed)",
            Unit::Seconds,
            m.poll_seconds.clone(),
        );
        r.register_with_unit(
            "fetched",
            "Feed body bytes fetched, by feed (after decompression; article pages not included)",
            Unit::Bytes,
            m.fetched_bytes.clone(),
        );
        r.register(
            "stories",
            "Stories read from feeds by feed and result (new: first seen now; duplicate: \
             already seen)",
            m.stories.clone(),
        );
        r.register(
            "rule_matches",
            "Rule matches on new stories that alert, by rule",
            m.rule_matches.clone(),
        );
        r.register(
            "alerts_queued",
            "Alerts made by polls: Telegram outbox entries queued (one per chat), or alerts \
             written to stdout without Telegram",
            m.alerts_queued.clone(),
        );
        r.register(
            "alerts_sent",
            "Telegram alerts accepted in full by Telegram",
            m.alerts_sent.clone(),
        );
        r.register(
            "alerts_failed",
            "Telegram alerts given up, by reason (chat_gone: the chat's queue was dropped; \
             rejected: Telegram refused the message; uncertain: the outcome was unknown twice)",
            m.alerts_failed.clone(),
        );
        r.register(
            "telegram_429",
            "Telegram 429 Too Many Requests answers (flood waits)",
            m.telegram_429.clone(),
        );
        r.register_with_unit(
            "delivery_latency",
            "Time from an alert being queued to Telegram accepting its last part",
            Unit::Seconds,
            m.delivery_seconds.clone(),
        );
        r.register(
            "outbox_depth",
            "Telegram messages waiting in the outbox (read at scrape time)",
            m.outbox_depth.clone(),
        );
        r.register(
            "fold_stories",
            "Stories in the in-memory fold index: the window's alerted stories a copy can fold into",
            m.fold_stories.clone(),
        );
        r.register(
            "fold_index_bytes",
            "Estimated heap of the in-memory fold index (LSH bands)",
            m.fold_index_bytes.clone(),
        );
        r.register(
            "feeds_in_backoff",
            "Feeds whose next poll waits for a backoff or a server's Retry-After (from the \
             store's feed states at scrape time)",
            m.feeds_in_backoff.clone(),
        );
        r.register(
            "config_reloads",
            "Config reloads (file edits, SIGHUP) by result (applied, rejected)",
            m.reloads.clone(),
        );
        r.register(
            "config_last_reload_successful",
            "1 when the last reload was applied (or none happened yet), 0 when it was rejected \
             and the previous config is still running",
            m.reload_ok.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// A reload was applied (`true`) or rejected.
    pub fn reload(&self, applied: bool) {
        let result = if applied { "applied" } else { "rejected" };
        self.reloads.get_or_create(&ResultLabel { result }).inc();
        self.reload_ok.set(i64::from(applied));
    }

    /// A poll finished. `outcome` is [`crate::pipeline::Outcome::label`]; skipped polls count
    /// but have no latency worth observing.
    pub fn poll(&self, feed: &str, outcome: &'static str, elapsed: Duration) {
        self.polls
            .get_or_create(&PollLabels {
                feed: feed.to_string(),
                outcome,
            })
            .inc();
        if outcome != "skipped" {
            self.poll_seconds
                .get_or_create(&OutcomeLabel { outcome })
                .observe(elapsed.as_secs_f64());
        }
    }

    /// A poll failed, with the error's kind (`PollError::kind`).
    pub fn poll_error(&self, feed: &str, kind: &'static str) {
        self.poll_errors
            .get_or_create(&ErrorLabels {
                feed: feed.to_string(),
                kind,
            })
            .inc();
    }

    /// A feed body was fetched.
    pub fn fetched(&self, feed: &str, bytes: usize) {
        self.fetched_bytes
            .get_or_create(&FeedLabel {
                feed: feed.to_string(),
            })
            .inc_by(bytes as u64);
    }

    /// A poll's stories went through the store: `items` read, `new` of them first seen, the
    /// rules that matched the alerting ones (once per story and rule), and the alerts made.
    pub fn admitted<'a>(
        &self,
        feed: &str,
        items: usize,
        new: usize,
        matched_rules: impl IntoIterator<Item = &'a str>,
        alerts: usize,
    ) {
        let stories = |result| {
            self.stories.get_or_create(&StoryLabels {
                feed: feed.to_string(),
                result,
            })
        };
        stories("new").inc_by(new as u64);
        stories("duplicate").inc_by(items.saturating_sub(new) as u64);
        for rule in matched_rules {
            self.rule_matches
                .get_or_create(&RuleLabel {
                    rule: rule.to_string(),
                })
                .inc();
        }
        self.alerts_queued.inc_by(alerts as u64);
    }

    /// Telegram accepted every part of an alert queued `latency` ago.
    pub fn alert_sent(&self, latency: Duration) {
        self.alerts_sent.inc();
        self.delivery_seconds.observe(latency.as_secs_f64());
    }

    /// `n` alerts were given up (`reason`: chat_gone, rejected, uncertain).
    pub fn alerts_failed(&self, reason: &'static str, n: usize) {
        self.alerts_failed
            .get_or_create(&ReasonLabel { reason })
            .inc_by(n as u64);
    }

    /// Telegram answered 429 Too Many Requests.
    pub fn telegram_429(&self) {
        self.telegram_429.inc();
    }

    /// Every series in the Prometheus text format ([`CONTENT_TYPE`]), with the store's gauges
    /// read now. Reads the store (sled, in memory mostly): call it off the async threads.
    pub fn render(&self, store: &Store) -> String {
        self.outbox_depth.set(store.outbox_len() as i64);
        let (fold_stories, fold_bytes) = store.fold_len();
        self.fold_stories.set(fold_stories as i64);
        self.fold_index_bytes.set(fold_bytes as i64);
        let now = Utc::now();
        match store.feed_states() {
            Ok(states) => {
                let n = states
                    .iter()
                    .filter(|(_, s)| s.retry_at.is_some_and(|t| t > now))
                    .count();
                self.feeds_in_backoff.set(n as i64);
            }
            // The last value stays; the error shows in the log, and in /healthz if it is the
            // disk.
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read feed states"),
        }
        let mut out = String::new();
        // Writing to a String cannot fail; the encoder's only error is the writer's.
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            tracing::error!(error = %e, "metrics: cannot encode");
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of one sample line (`name{labels} value`), if present.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn render_has_every_series_with_help_and_the_recorded_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let m = Metrics::new();
        m.poll("yna", "polled", Duration::from_millis(120));
        m.poll("yna", "failed", Duration::from_millis(30));
        m.poll("yna", "skipped", Duration::ZERO);
        m.poll_error("yna", "http_5xx");
        m.fetched("yna", 2048);
        m.admitted("yna", 10, 3, ["semis", "semis", "ai"], 4);
        m.alert_sent(Duration::from_secs(2));
        m.alerts_failed("rejected", 1);
        m.telegram_429();
        let text = m.render(&store);

        for (series, value) in [
            (r#"kkachi_polls_total{feed="yna",outcome="polled"}"#, 1.0),
            (r#"kkachi_polls_total{feed="yna",outcome="failed"}"#, 1.0),
            (r#"kkachi_polls_total{feed="yna",outcome="skipped"}"#, 1.0),
            (
                r#"kkachi_poll_errors_total{feed="yna",kind="http_5xx"}"#,
                1.0,
            ),
            (
                r#"kkachi_poll_duration_seconds_count{outcome="polled"}"#,
                1.0,
            ),
            (
                r#"kkachi_poll_duration_seconds_sum{outcome="polled"}"#,
                0.12,
            ),
            (r#"kkachi_fetched_bytes_total{feed="yna"}"#, 2048.0),
            (r#"kkachi_stories_total{feed="yna",result="new"}"#, 3.0),
            (
                r#"kkachi_stories_total{feed="yna",result="duplicate"}"#,
                7.0,
            ),
            (r#"kkachi_rule_matches_total{rule="semis"}"#, 2.0),
            (r#"kkachi_rule_matches_total{rule="ai"}"#, 1.0),
            ("kkachi_alerts_queued_total", 4.0),
            ("kkachi_alerts_sent_total", 1.0),
            (r#"kkachi_alerts_failed_total{reason="rejected"}"#, 1.0),
            ("kkachi_telegram_429_total", 1.0),
            ("kkachi_delivery_latency_seconds_count", 1.0),
            ("kkachi_delivery_latency_seconds_sum", 2.0),
            ("kkachi_outbox_depth", 0.0),
            ("kkachi_feeds_in_backoff", 0.0),
            ("kkachi_fold_stories", 0.0),
        ] {
            assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
        }
        // Skipped polls are counted, not timed.
        assert_eq!(
            sample(
                &text,
                r#"kkachi_poll_duration_seconds_count{outcome="skipped"}"#
            ),
            None
        );
        for name in [
            "kkachi_polls_total",
            "kkachi_poll_errors_total",
            "kkachi_poll_duration_seconds",
            "kkachi_fetched_bytes_total",
            "kkachi_stories_total",
            "kkachi_rule_matches_total",
            "kkachi_alerts_queued_total",
            "kkachi_alerts_sent_total",
            "kkachi_alerts_failed_total",
            "kkachi_telegram_429_total",
            "kkachi_delivery_latency_seconds",
            "kkachi_outbox_depth",
            "kkachi_feeds_in_backoff",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "help for {name}");
        }
    }

    #[test]
    fn store_gauges_are_read_at_scrape_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let now = Utc::now();
        let backoff = |minutes| crate::store::FeedState {
            retry_at: Some(now + chrono::Duration::minutes(minutes)),
            ..Default::default()
        };
        store.set_feed_state("down", &backoff(10)).expect("state");
        store
            .set_feed_state("was-down", &backoff(-10))
            .expect("state");
        store
            .set_feed_state("fine", &crate::store::FeedState::default())
            .expect("state");
        store
            .enqueue(&[
                crate::store::OutboxEntry::notice(1, "a", now),
                crate::store::OutboxEntry::notice(2, "b", now),
            ])
            .expect("enqueue");
        let m = Metrics::new();
        let text = m.render(&store);
        assert_eq!(
            sample(&text, "kkachi_feeds_in_backoff"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(sample(&text, "kkachi_outbox_depth"), Some(2.0), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let m = Metrics::new();
        m.admitted("f", 1, 1, ["say \"hi\""], 1);
        let text = m.render(&store);
        assert!(
            text.contains(r#"kkachi_rule_matches_total{rule="say \"hi\""} 1"#),
            "{text}"
        );
    }
}
