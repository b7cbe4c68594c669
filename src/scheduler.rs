//! Scheduling: cron expressions and when each feed is due next.
//!
//! Accepts the usual 5-field crontab form (`*/5 * * * *`, days of week 0–7 with 0 and 7 = Sunday)
//! as well as the `cron` crate's 6/7-field form with seconds (and years), and `@hourly`-style
//! shorthands. Times are computed in the configured time zone. This module owns no tasks: the
//! loop that sleeps until the next due feed lives in `app`, and asks [`Plan`] what is due.
//!
//! Invariant: missed ticks are not piled up. A feed's next run is always computed from "now",
//! so a daemon that was suspended for an hour polls each feed once, not twelve times.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A parsed cron expression, with the text the user wrote.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    source: String,
    schedule: cron::Schedule,
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl CronSchedule {
    pub fn parse(expr: &str) -> Result<CronSchedule, String> {
        let expr = expr.trim();
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let translated = match fields.len() {
            _ if expr.starts_with('@') => expr.to_string(),
            5 => {
                let dow = crontab_days_of_week(fields[4])?;
                format!(
                    "0 {} {} {} {} {}",
                    fields[0], fields[1], fields[2], fields[3], dow
                )
            }
            6 | 7 => expr.to_string(),
            n => {
                return Err(format!(
                    "expected 5 fields (min hour day month weekday) or 6-7 fields with seconds, found {n} in {expr:?}"
                ));
            }
        };
        let schedule = cron::Schedule::from_str(&translated)
            .map_err(|e| format!("invalid cron expression {expr:?}: {e}"))?;
        if schedule.upcoming(Utc).next().is_none() {
            return Err(format!("cron expression {expr:?} never fires"));
        }
        Ok(CronSchedule {
            source: expr.to_string(),
            schedule,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first fire time strictly after `after`, evaluated in `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        self.schedule
            .after(&after.with_timezone(&tz))
            .next()
            .map(|t| t.with_timezone(&Utc))
    }
}

impl CronSchedule {
    /// The shortest gap between consecutive fire times among the next `ticks` after `after`
    /// (`None` if it fires fewer than twice).
    pub fn shortest_interval(
        &self,
        after: DateTime<Utc>,
        tz: chrono_tz::Tz,
        ticks: usize,
    ) -> Option<Duration> {
        let times: Vec<_> = self
            .schedule
            .after(&after.with_timezone(&tz))
            .take(ticks.max(2))
            .collect();
        times
            .windows(2)
            .filter_map(|w| (w[1] - w[0]).to_std().ok())
            .min()
    }
}

/// The share of a feed's own interval that jitter may take: a `*/2 * * * * *` feed must not
/// poll at random 0–30 s intervals because the default `[schedule] jitter` is 30 s.
pub const JITTER_SHARE: u32 = 10;

/// The jitter a poll may get: the configured one, capped at a tenth ([`JITTER_SHARE`]) of the
/// interval it sits in (`interval`: the gap to the tick after next, when known).
pub fn effective_jitter(configured: Duration, interval: Option<Duration>) -> Duration {
    match interval {
        Some(i) => configured.min(i / JITTER_SHARE),
        None => configured,
    }
}

/// Crontab numbers days of week 0–7 (0 and 7 = Sunday); the `cron` crate uses 1–7 (1 = Sunday).
/// Numbers are rewritten as names, which both understand.
fn crontab_days_of_week(field: &str) -> Result<String, String> {
    const NAMES: [&str; 8] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut out = String::new();
    let mut num = String::new();
    let mut after_slash = false;
    let flush = |num: &mut String, out: &mut String, after_slash: bool| -> Result<(), String> {
        if num.is_empty() {
            return Ok(());
        }
        if after_slash {
            out.push_str(num);
        } else {
            let n: usize = num
                .parse()
                .map_err(|_| format!("bad day of week {num:?}"))?;
            let name = NAMES
                .get(n)
                .ok_or_else(|| format!("day of week {n} is out of range 0-7"))?;
            out.push_str(name);
        }
        num.clear();
        Ok(())
    };
    for c in field.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            flush(&mut num, &mut out, after_slash)?;
            after_slash = c == '/';
            out.push(c);
        }
    }
    flush(&mut num, &mut out, after_slash)?;
    Ok(out)
}

/// When each feed runs next. Pure: the caller supplies "now" and the jitter.
#[derive(Debug, Default)]
pub struct Plan {
    /// (due time, feed name) ordered by time.
    queue: BTreeMap<(DateTime<Utc>, String), ()>,
}

impl Plan {
    /// Schedules `feed` for its next tick after `now`, delayed by `jitter`.
    pub fn schedule(
        &mut self,
        feed: &str,
        cron: &CronSchedule,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
        jitter: Duration,
    ) {
        if let Some(next) = cron.next_after(now, tz) {
            let jitter = chrono::Duration::from_std(jitter).unwrap_or_default();
            self.queue.insert((next + jitter, feed.to_string()), ());
        }
    }

    /// The earliest due time, if any feed is scheduled.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// Removes and returns every feed due at or before `now`.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut due = Vec::new();
        while let Some(((t, _), ())) = self.queue.first_key_value() {
            if *t > now {
                break;
            }
            if let Some(((_, name), ())) = self.queue.pop_first() {
                due.push(name);
            }
        }
        due
    }

    /// Forgets `feed`'s next tick (it was removed, or its schedule changed).
    pub fn remove(&mut self, feed: &str) {
        self.queue.retain(|(_, name), ()| name != feed);
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Regression (issue 10): the default 30 s jitter was applied to a 2-second schedule.
    #[test]
    fn jitter_is_capped_at_a_tenth_of_the_feed_interval() {
        let t0 = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("time");
        let every_2s = CronSchedule::parse("*/2 * * * * *").expect("cron");
        let every_5m = CronSchedule::parse("*/5 * * * *").expect("cron");
        let twice_a_day = CronSchedule::parse("0 9,10 * * *").expect("cron");
        let tz = chrono_tz::Asia::Seoul;
        assert_eq!(
            every_2s.shortest_interval(t0, tz, 8),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            every_5m.shortest_interval(t0, tz, 8),
            Some(Duration::from_secs(300))
        );
        // 09:00 and 10:00 every day: the shortest gap is the hour.
        assert_eq!(
            twice_a_day.shortest_interval(t0, tz, 8),
            Some(Duration::from_secs(3600))
        );
        let thirty = Duration::from_secs(30);
        assert_eq!(
            effective_jitter(thirty, Some(Duration::from_secs(2))),
            Duration::from_millis(200)
        );
        assert_eq!(
            effective_jitter(thirty, Some(Duration::from_secs(300))),
            thirty
        );
        assert_eq!(effective_jitter(thirty, None), thirty);
        assert_eq!(
            effective_jitter(Duration::ZERO, Some(Duration::from_secs(2))),
            Duration::ZERO
        );
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test time")
            .with_timezone(&Utc)
    }

    #[test]
    fn five_field_crontab_form() {
        let c = CronSchedule::parse("*/5 * * * *").expect("valid");
        let next = c
            .next_after(at("2026-01-01T00:03:10Z"), chrono_tz::UTC)
            .expect("fires");
        assert_eq!(next, at("2026-01-01T00:05:00Z"));
    }

    #[test]
    fn six_and_seven_field_forms() {
        let c = CronSchedule::parse("30 */5 * * * *").expect("valid");
        assert_eq!(
            c.next_after(at("2026-01-01T00:03:10Z"), chrono_tz::UTC),
            Some(at("2026-01-01T00:05:30Z"))
        );
        assert!(CronSchedule::parse("0 0 9 * * Mon-Fri 2026").is_ok());
        assert!(CronSchedule::parse("@hourly").is_ok());
    }

    #[test]
    fn crontab_weekdays_are_translated() {
        // 1-5 = Monday to Friday in crontab; 2026-01-03 is a Saturday.
        let c = CronSchedule::parse("0 9 * * 1-5").expect("valid");
        let next = c
            .next_after(at("2026-01-03T00:00:00Z"), chrono_tz::UTC)
            .expect("fires");
        assert_eq!(next, at("2026-01-05T09:00:00Z"));
        let sun = CronSchedule::parse("0 9 * * 0").expect("valid");
        assert_eq!(
            sun.next_after(at("2026-01-03T00:00:00Z"), chrono_tz::UTC),
            Some(at("2026-01-04T09:00:00Z"))
        );
        let sun7 = CronSchedule::parse("0 9 * * 7").expect("valid");
        assert_eq!(
            sun7.next_after(at("2026-01-03T00:00:00Z"), chrono_tz::UTC),
            Some(at("2026-01-04T09:00:00Z"))
        );
        assert!(CronSchedule::parse("0 9 * * 8").is_err());
    }

    #[test]
    fn evaluated_in_the_configured_time_zone() {
        // 09:00 in Seoul is 00:00 UTC.
        let c = CronSchedule::parse("0 9 * * *").expect("valid");
        let next = c
            .next_after(at("2026-01-01T12:00:00Z"), chrono_tz::Asia::Seoul)
            .expect("fires");
        assert_eq!(
            next,
            chrono_tz::Asia::Seoul
                .with_ymd_and_hms(2026, 1, 2, 9, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        let e = CronSchedule::parse("61 * * * *").unwrap_err();
        assert!(e.contains("invalid cron expression \"61 * * * *\""), "{e}");
        let e = CronSchedule::parse("* *").unwrap_err();
        assert!(e.contains("expected 5 fields"), "{e}");
    }

    #[test]
    fn plan_takes_due_feeds_and_does_not_pile_up() {
        let c = CronSchedule::parse("*/5 * * * *").expect("valid");
        let mut p = Plan::default();
        let now = at("2026-01-01T00:00:01Z");
        p.schedule("a", &c, chrono_tz::UTC, now, Duration::ZERO);
        p.schedule("b", &c, chrono_tz::UTC, now, Duration::from_secs(10));
        assert_eq!(p.next_due(), Some(at("2026-01-01T00:05:00Z")));
        // An hour late: each feed is due once.
        let late = at("2026-01-01T01:00:00Z");
        assert_eq!(p.take_due(late), vec!["a".to_string(), "b".to_string()]);
        assert!(p.is_empty());
        p.schedule("a", &c, chrono_tz::UTC, late, Duration::ZERO);
        assert_eq!(p.next_due(), Some(at("2026-01-01T01:05:00Z")));
    }
}
