//! `[schedule]`: the default cron expression, the time zone cron is read in, and the jitter.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::feeds::FeedConfig;
use super::sink::{Sink, cron_or_report, duration};
use crate::scheduler::CronSchedule;

#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// The schedule of every feed without its own `cron`.
    pub cron: CronSchedule,
    pub timezone: chrono_tz::Tz,
    /// Each poll waits a random delay in `0..=jitter` after its tick.
    pub jitter: Duration,
}

/// `[schedule] cron` when not set: every ten minutes.
pub const DEFAULT_CRON: &str = "*/10 * * * *";

impl Default for ScheduleConfig {
    /// The only home of `[schedule]`'s defaults; the CLI tools that run without a config read
    /// the time zone from here.
    fn default() -> Self {
        ScheduleConfig {
            cron: CronSchedule::parse(DEFAULT_CRON)
                .expect("DEFAULT_CRON is a valid expression (checked by config's tests)"),
            timezone: chrono_tz::Asia::Seoul,
            jitter: Duration::from_secs(30),
        }
    }
}

pub(super) const KEYS: &[&str] = &["cron", "timezone", "jitter"];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) cron: Option<Spanned<String>>,
    pub(super) timezone: Option<Spanned<String>>,
    pub(super) jitter: Option<Spanned<String>>,
}

/// `[schedule]` as checked: `cron` is `None` when it did not parse (that error is reported,
/// and feeds without their own cron cannot be built).
pub(super) struct Checked {
    pub(super) cron: Option<CronSchedule>,
    pub(super) timezone: chrono_tz::Tz,
    pub(super) jitter: Duration,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: &Raw) -> Checked {
    let d = ScheduleConfig::default();
    let cron = match &raw.cron {
        Some(c) => cron_or_report(sink, c, "[schedule] cron"),
        None => Some(d.cron),
    };
    let timezone = match &raw.timezone {
        Some(tz) => match tz.get_ref().parse::<chrono_tz::Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                sink.error(
                    tz.span(),
                    format!("[schedule] timezone: unknown time zone {:?} (use an IANA name such as \"Asia/Seoul\" or \"UTC\")", tz.get_ref()),
                );
                d.timezone
            }
        },
        None => d.timezone,
    };
    let jitter = duration(sink, raw.jitter.as_ref(), d.jitter, "[schedule] jitter");
    Checked {
        cron,
        timezone,
        jitter,
    }
}

/// A `[schedule] jitter` set longer than a feed's own interval is capped at runtime (see
/// [`crate::scheduler::effective_jitter`]); say so once per schedule, at the jitter line.
pub(super) fn jitter_warnings(
    sink: &mut Sink<'_>,
    span: Range<usize>,
    jitter: Duration,
    tz: chrono_tz::Tz,
    feeds: &[FeedConfig],
) {
    let now = chrono::Utc::now();
    let mut told = std::collections::BTreeSet::new();
    for feed in feeds {
        if !told.insert(feed.cron.source().to_string()) {
            continue;
        }
        let Some(interval) = feed.cron.shortest_interval(now, tz, 48) else {
            continue;
        };
        if jitter > interval {
            let cap = crate::scheduler::effective_jitter(jitter, Some(interval));
            sink.warning(
                span.clone(),
                format!(
                    "[schedule] jitter ({}) is longer than the interval of feed {:?} (cron {:?} fires every {}): its polls get at most a tenth of the interval ({}) instead",
                    humantime::format_duration(jitter),
                    feed.name,
                    feed.cron.source(),
                    humantime::format_duration(interval),
                    humantime::format_duration(cap),
                ),
            );
        }
    }
}
