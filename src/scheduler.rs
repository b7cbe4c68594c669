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

/// Why a cron expression was refused. The text names the expression as the user wrote it
/// (never the 6-field form it is translated to).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// Neither the 5-field crontab form nor the 6/7-field form with seconds.
    #[error(
        "expected 5 fields (min hour day month weekday) or 6-7 fields with seconds, found {found} in {expr:?}"
    )]
    FieldCount { expr: String, found: usize },
    /// A field of the 5-field form is out of range or malformed; `reason` names the field.
    #[error("invalid cron expression {expr:?}: {reason}")]
    Crontab { expr: String, reason: String },
    /// The `cron` crate refused the expression (6/7-field forms and `@` shorthands).
    #[error("invalid cron expression {expr:?}: {reason}")]
    Syntax { expr: String, reason: String },
    /// Valid, but no time ever matches (e.g. a year in the past).
    #[error("cron expression {expr:?} never fires")]
    NeverFires { expr: String },
}

impl CronSchedule {
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let expr = expr.trim();
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let translated = match fields.len() {
            _ if expr.starts_with('@') => expr.to_string(),
            5 => crontab(&fields).map_err(|reason| CronError::Crontab {
                expr: expr.to_string(),
                reason,
            })?,
            6 | 7 => expr.to_string(),
            found => {
                return Err(CronError::FieldCount {
                    expr: expr.to_string(),
                    found,
                });
            }
        };
        let schedule = cron::Schedule::from_str(&translated).map_err(|e| CronError::Syntax {
            expr: expr.to_string(),
            reason: e.to_string(),
        })?;
        if schedule.upcoming(Utc).next().is_none() {
            return Err(CronError::NeverFires {
                expr: expr.to_string(),
            });
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

/// One field of the 5-field crontab form: its name, bounds and names.
struct Field {
    name: &'static str,
    plural: &'static str,
    lo: u32,
    hi: u32,
    /// Names for `lo..`, lower case (months from 1, days of week from 0).
    names: &'static [&'static str],
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        plural: "minutes",
        lo: 0,
        hi: 59,
        names: &[],
    },
    Field {
        name: "hour",
        plural: "hours",
        lo: 0,
        hi: 23,
        names: &[],
    },
    Field {
        name: "day of month",
        plural: "days of month",
        lo: 1,
        hi: 31,
        names: &[],
    },
    Field {
        name: "month",
        plural: "months",
        lo: 1,
        hi: 12,
        names: MONTHS,
    },
    Field {
        name: "day of week",
        plural: "days of week",
        lo: 0,
        hi: 7,
        names: DAYS,
    },
];

/// Translates the 5-field crontab form (every form crontab(5) accepts: lists, ranges, steps,
/// names, 0 and 7 for Sunday, ranges such as `5-7`) into the `cron` crate's 6-field form.
/// Every field is checked here, so errors speak of the user's fields and never show the
/// translated expression; the day-of-week field is written out as a list of day names (the
/// crate numbers Sunday 1 and refuses ranges ending on crontab's Sunday 7).
fn crontab(fields: &[&str]) -> Result<String, String> {
    let mut out = vec!["0".to_string()];
    for (text, field) in fields.iter().zip(&FIELDS) {
        let values = field_values(text, field)?;
        if field.name == "day of week" {
            let days: std::collections::BTreeSet<u32> = values.iter().map(|&d| d % 7).collect();
            out.push(if days.len() == 7 {
                "*".to_string()
            } else {
                days.iter()
                    .map(|&d| DAYS[d as usize])
                    .collect::<Vec<_>>()
                    .join(",")
            });
        } else {
            // Checked, so the crate reads it as the user meant it.
            out.push((*text).to_string());
        }
    }
    Ok(out.join(" "))
}

/// The values a crontab field selects, checked against the field's bounds.
fn field_values(text: &str, field: &Field) -> Result<Vec<u32>, String> {
    let Field {
        name,
        plural,
        lo,
        hi,
        ..
    } = *field;
    let range_text = format!("{plural} are {lo}–{hi}");
    let value = |v: &str| -> Result<u32, String> {
        let lower = v.to_ascii_lowercase();
        if let Some(i) = field.names.iter().position(|n| *n == lower) {
            return Ok(i as u32 + if field.names.len() == 12 { 1 } else { 0 });
        }
        let n: u32 = v.parse().map_err(|_| {
            if field.names.is_empty() {
                format!("{name} {v:?} is not a number ({range_text})")
            } else {
                let names = if field.names.len() == 12 {
                    "jan–dec"
                } else {
                    "sun–sat"
                };
                format!("{name} {v:?} is neither a number nor a name ({range_text}, or {names})")
            }
        })?;
        if n < lo || n > hi {
            return Err(format!("{name} {n} is out of range ({range_text})"));
        }
        Ok(n)
    };
    let mut out = Vec::new();
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("empty item in the {name} field {text:?}"));
        }
        let (span, step) = match item.split_once('/') {
            Some((span, step)) => {
                let n: u32 = step
                    .parse()
                    .map_err(|_| format!("{name} step {step:?} in {item:?} is not a number"))?;
                if n == 0 || n > hi {
                    return Err(format!(
                        "{name} step {n} in {item:?} is out of range (1–{hi}; {range_text})"
                    ));
                }
                (span, n)
            }
            None => (item, 1),
        };
        let (start, end) = match span.split_once('-') {
            _ if span == "*" => (lo, hi),
            Some((a, b)) => (value(a)?, value(b)?),
            // `5/15`: from 5 to the end, every 15.
            None if item.contains('/') => (value(span)?, hi),
            None => {
                let v = value(span)?;
                (v, v)
            }
        };
        if start > end {
            return Err(format!(
                "{name} range {span:?} runs backwards (write it as two ranges, e.g. {start}-{hi},{lo}-{end})"
            ));
        }
        out.extend((start..=end).step_by(step as usize));
    }
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

    /// Regression (issue 13): `6-7`, `5-7` and `1-7` were refused ("Invalid named range for
    /// Days of Week: Sat-Sun"). Every crontab(5) weekday form, against the days it selects.
    #[test]
    fn every_crontab_weekday_form_is_accepted() {
        // 2026-01-04 is a Sunday; the days of the week that follow fire at 09:00 UTC.
        let days_of = |dow: &str| -> Vec<u32> {
            let c = CronSchedule::parse(&format!("0 9 * * {dow}"))
                .unwrap_or_else(|e| panic!("{dow}: {e}"));
            let mut t = at("2026-01-03T12:00:00Z");
            let mut out = Vec::new();
            for _ in 0..7 {
                t = c.next_after(t, chrono_tz::UTC).expect("fires");
                if t >= at("2026-01-11T00:00:00Z") {
                    break;
                }
                out.push(chrono::Datelike::weekday(&t).num_days_from_sunday());
            }
            out.sort_unstable();
            out.dedup();
            out
        };
        for (dow, days) in [
            ("*", vec![0, 1, 2, 3, 4, 5, 6]),
            ("0", vec![0]),
            ("7", vec![0]),
            ("1-5", vec![1, 2, 3, 4, 5]),
            ("6-7", vec![0, 6]),
            ("5-7", vec![0, 5, 6]),
            ("1-7", vec![0, 1, 2, 3, 4, 5, 6]),
            ("0-6", vec![0, 1, 2, 3, 4, 5, 6]),
            ("0,6", vec![0, 6]),
            ("1,3,5", vec![1, 3, 5]),
            ("*/2", vec![0, 2, 4, 6]),
            ("1-5/2", vec![1, 3, 5]),
            ("mon-fri", vec![1, 2, 3, 4, 5]),
            ("SAT,SUN", vec![0, 6]),
            ("Sun", vec![0]),
            ("0-7", vec![0, 1, 2, 3, 4, 5, 6]),
        ] {
            assert_eq!(days_of(dow), days, "day of week {dow:?}");
        }
    }

    #[test]
    fn crontab_fields_are_checked_with_their_ranges() {
        for (expr, want) in [
            (
                "*/61 * * * *",
                "minute step 61 in \"*/61\" is out of range (1–59; minutes are 0–59)",
            ),
            ("61 * * * *", "minute 61 is out of range (minutes are 0–59)"),
            ("0 24 * * *", "hour 24 is out of range (hours are 0–23)"),
            (
                "0 9 0 * *",
                "day of month 0 is out of range (days of month are 1–31)",
            ),
            ("0 9 * 13 *", "month 13 is out of range (months are 1–12)"),
            (
                "0 9 * * 8",
                "day of week 8 is out of range (days of week are 0–7)",
            ),
            (
                "0 9 * * fri-mon",
                "day of week range \"fri-mon\" runs backwards",
            ),
            (
                "0 9 * * xyz",
                "day of week \"xyz\" is neither a number nor a name (days of week are 0–7, or sun–sat)",
            ),
            (
                "0 9 * * 1,,2",
                "empty item in the day of week field \"1,,2\"",
            ),
        ] {
            let e = CronSchedule::parse(expr).expect_err(expr).to_string();
            assert!(e.contains(want), "{expr}: {e}");
            assert!(
                e.starts_with(&format!("invalid cron expression {expr:?}: ")),
                "{e}"
            );
            // Never the translated 6-field form.
            assert!(!e.contains("0 0 9") && !e.contains("Sat-Sun"), "{e}");
        }
        // Months by name, and start/step.
        assert!(CronSchedule::parse("0 9 1 jan,jul *").is_ok());
        let c = CronSchedule::parse("5/20 * * * *").expect("valid");
        assert_eq!(
            c.next_after(at("2026-01-01T00:06:00Z"), chrono_tz::UTC),
            Some(at("2026-01-01T00:25:00Z"))
        );
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
        let e = CronSchedule::parse("61 * * * *").unwrap_err().to_string();
        assert!(e.contains("invalid cron expression \"61 * * * *\""), "{e}");
        let e = CronSchedule::parse("* *").unwrap_err().to_string();
        assert!(e.contains("expected 5 fields"), "{e}");
    }

    #[test]
    fn cron_errors_are_typed_and_keep_their_text() {
        let e = CronSchedule::parse("* *").unwrap_err();
        assert_eq!(
            e,
            CronError::FieldCount {
                expr: "* *".into(),
                found: 2
            }
        );
        assert_eq!(
            e.to_string(),
            "expected 5 fields (min hour day month weekday) or 6-7 fields with seconds, found 2 in \"* *\""
        );
        let e = CronSchedule::parse(" 61 * * * * ").unwrap_err();
        assert_eq!(
            e,
            CronError::Crontab {
                expr: "61 * * * *".into(),
                reason: "minute 61 is out of range (minutes are 0–59)".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "invalid cron expression \"61 * * * *\": minute 61 is out of range (minutes are 0–59)"
        );
        let e = CronSchedule::parse("a b c d e f").unwrap_err();
        assert!(
            matches!(&e, CronError::Syntax { expr, .. } if expr == "a b c d e f"),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("invalid cron expression \"a b c d e f\": "),
            "{e}"
        );
        let e = CronSchedule::parse("0 0 0 1 1 * 2000").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cron expression \"0 0 0 1 1 * 2000\" never fires"
        );
        assert!(matches!(e, CronError::NeverFires { .. }), "{e:?}");
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
