//! When digests are due: delivery modes (`instant`, `hourly`, `daily 09:00`, `weekly mon
//! 09:00`, `off`), the next due instant in a chat's time zone, and quiet hours.
//!
//! Pure: every function takes the instant it computes from (`after`, `t`); nothing reads a
//! clock, so the daemon's task and the tests agree on what "now" is. Times are computed in the
//! chat's IANA zone with chrono-tz and returned in UTC (what the store keys on).
//!
//! DST: a local time that falls in a spring-forward gap is due at the first instant after the
//! gap (the transition itself); a local time that occurs twice (fall back) is due at the
//! earlier of the two.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How a subscription's (or a static route's) matches reach a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Delivery {
    /// Every match at once, as its own message.
    #[default]
    Instant,
    /// One digest at the top of every hour (local time).
    Hourly,
    /// One digest a day at this local time.
    Daily(NaiveTime),
    /// One digest a week on this day at this local time.
    Weekly(Weekday, NaiveTime),
    /// Nothing is sent (matches are not collected either).
    Off,
}

/// A delivery mode that does not parse; says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid delivery mode {input:?}: {reason}; expected `instant`, `hourly`, `daily HH:MM`, `weekly DAY HH:MM` (DAY: mon..sun) or `off`"
)]
pub struct DeliveryError {
    pub input: String,
    pub reason: &'static str,
}

impl Delivery {
    /// The digest kind this mode produces (`None` for instant and off).
    pub fn kind(&self) -> Option<super::Kind> {
        match self {
            Delivery::Hourly => Some(super::Kind::Hourly),
            Delivery::Daily(_) => Some(super::Kind::Daily),
            Delivery::Weekly(..) => Some(super::Kind::Weekly),
            Delivery::Instant | Delivery::Off => None,
        }
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

impl FromStr for Delivery {
    type Err = DeliveryError;

    fn from_str(s: &str) -> Result<Delivery, DeliveryError> {
        let err = |reason| DeliveryError {
            input: s.to_string(),
            reason,
        };
        let words: Vec<&str> = s.split_whitespace().collect();
        let time =
            |w: &str| parse_time(w).ok_or_else(|| err("the time is not HH:MM (00:00..23:59)"));
        match words.as_slice() {
            [w] if w.eq_ignore_ascii_case("instant") => Ok(Delivery::Instant),
            [w] if w.eq_ignore_ascii_case("hourly") => Ok(Delivery::Hourly),
            [w] if w.eq_ignore_ascii_case("off") => Ok(Delivery::Off),
            [w, t] if w.eq_ignore_ascii_case("daily") => Ok(Delivery::Daily(time(t)?)),
            [w, d, t] if w.eq_ignore_ascii_case("weekly") => {
                let day = d
                    .parse::<Weekday>()
                    .map_err(|_| err("the day is not a weekday"))?;
                Ok(Delivery::Weekly(day, time(t)?))
            }
            [w] if w.eq_ignore_ascii_case("daily") || w.eq_ignore_ascii_case("weekly") => {
                Err(err("the time is missing"))
            }
            [] => Err(err("it is empty")),
            _ => Err(err("unknown mode")),
        }
    }
}

impl fmt::Display for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delivery::Instant => f.write_str("instant"),
            Delivery::Hourly => f.write_str("hourly"),
            Delivery::Off => f.write_str("off"),
            Delivery::Daily(t) => write!(f, "daily {}", t.format("%H:%M")),
            Delivery::Weekly(d, t) => {
                let day = d.to_string().to_lowercase();
                write!(f, "weekly {day} {}", t.format("%H:%M"))
            }
        }
    }
}

impl TryFrom<String> for Delivery {
    type Error = DeliveryError;
    fn try_from(s: String) -> Result<Delivery, DeliveryError> {
        s.parse()
    }
}

impl From<Delivery> for String {
    fn from(d: Delivery) -> String {
        d.to_string()
    }
}

/// The instant a local date and time stands for in `tz`: the earlier one when it occurs twice,
/// the end of the gap when it does not occur (the first valid local minute after it).
pub fn resolve(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let mut local = date.and_time(time);
    // A gap is at most a few hours (and transitions fall on whole minutes): a day of minutes
    // is a generous bound.
    for _ in 0..=24 * 60 {
        match tz.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            chrono::LocalResult::Ambiguous(a, b) => {
                return Some(a.min(b).with_timezone(&Utc));
            }
            chrono::LocalResult::None => {
                local = local.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
            }
        }
    }
    None
}

/// The first instant strictly after `after` at which a digest of `mode` is due, in `tz`.
/// `None` for instant and off (nothing is ever due).
pub fn next_due(mode: &Delivery, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = after.with_timezone(&tz).date_naive();
    match *mode {
        Delivery::Instant | Delivery::Off => None,
        Delivery::Hourly => {
            // Every zone's offset is a multiple of 15 minutes: walk UTC quarter hours to the
            // first one that is a local top of the hour.
            let quarter = 15 * 60;
            let mut t = (after.timestamp().div_euclid(quarter) + 1) * quarter;
            for _ in 0..8 {
                let at = DateTime::<Utc>::from_timestamp(t, 0)?;
                if at.with_timezone(&tz).minute() == 0 {
                    return Some(at);
                }
                t += quarter;
            }
            None
        }
        Delivery::Daily(time) => (0..3)
            .filter_map(|d| resolve(tz, today + Duration::days(d), time))
            .find(|t| *t > after),
        Delivery::Weekly(day, time) => (0..15)
            .map(|d| today + Duration::days(d))
            .filter(|d| d.weekday() == day)
            .filter_map(|d| resolve(tz, d, time))
            .find(|t| *t > after),
    }
}

/// What happens to an instant alert inside a chat's quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietMode {
    /// Held, and sent as one catch-up digest when quiet hours end.
    Hold,
    /// Sent at once, without a notification sound.
    Silent,
}

/// A chat's quiet hours, local times in its zone; `from > to` spans midnight (23:00–07:00),
/// `from == to` is never quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quiet {
    pub from: NaiveTime,
    pub to: NaiveTime,
    pub mode: QuietMode,
}

impl Quiet {
    /// Whether `t` is inside the quiet hours (from inclusive, to exclusive).
    pub fn contains(&self, tz: Tz, t: DateTime<Utc>) -> bool {
        let local = t.with_timezone(&tz).time();
        if self.from <= self.to {
            self.from <= local && local < self.to
        } else {
            local >= self.from || local < self.to
        }
    }

    /// When the quiet hours that `t` is in end: the next local `to` strictly after `t`.
    pub fn end_after(&self, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        next_due(&Delivery::Daily(self.to), tz, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    fn due(mode: &str, tz: Tz, after: &str) -> String {
        let mode: Delivery = mode.parse().expect("mode");
        next_due(&mode, tz, utc(after))
            .expect("due")
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    #[test]
    fn modes_parse_print_and_round_trip_through_serde() {
        for (input, printed) in [
            ("instant", "instant"),
            ("hourly", "hourly"),
            ("off", "off"),
            ("daily 09:00", "daily 09:00"),
            ("Daily  9:05", "daily 09:05"),
            ("weekly mon 09:00", "weekly mon 09:00"),
            ("weekly Friday 18:30", "weekly fri 18:30"),
        ] {
            let d: Delivery = input.parse().expect(input);
            assert_eq!(d.to_string(), printed, "{input}");
            let json = serde_json::to_string(&d).expect("json");
            assert_eq!(json, format!("\"{printed}\""));
            assert_eq!(serde_json::from_str::<Delivery>(&json).expect("back"), d);
        }
    }

    #[test]
    fn bad_modes_say_what_is_accepted() {
        for (input, reason) in [
            ("sometimes", "unknown mode"),
            ("daily", "the time is missing"),
            ("daily 25:00", "the time is not HH:MM"),
            ("daily 9", "the time is not HH:MM"),
            ("weekly someday 09:00", "the day is not a weekday"),
            ("", "it is empty"),
        ] {
            let e = input.parse::<Delivery>().expect_err(input).to_string();
            assert!(e.contains(reason), "{input}: {e}");
            assert!(e.contains("`daily HH:MM`"), "{input}: {e}");
        }
        let e = serde_json::from_str::<Delivery>("\"daily noon\"").expect_err("serde");
        assert!(e.to_string().contains("invalid delivery mode"), "{e}");
    }

    #[test]
    fn instant_and_off_are_never_due() {
        let t = utc("2026-12-01T00:00:00Z");
        assert_eq!(next_due(&Delivery::Instant, Tz::UTC, t), None);
        assert_eq!(next_due(&Delivery::Off, Tz::UTC, t), None);
    }

    #[test]
    fn hourly_is_the_next_local_top_of_the_hour_strictly_after() {
        assert_eq!(
            due("hourly", Tz::Asia__Seoul, "2026-12-01T10:20:00Z"),
            "2026-12-01T11:00:00Z"
        );
        assert_eq!(
            due("hourly", Tz::Asia__Seoul, "2026-12-01T11:00:00Z"),
            "2026-12-01T12:00:00Z"
        );
        // A half-hour zone: the local top of the hour is :30 UTC.
        assert_eq!(
            due("hourly", Tz::Asia__Kolkata, "2026-12-01T10:31:00Z"),
            "2026-12-01T11:30:00Z"
        );
    }

    #[test]
    fn daily_in_seoul_today_or_tomorrow() {
        // 08:59 KST → 09:00 KST today.
        assert_eq!(
            due("daily 09:00", Tz::Asia__Seoul, "2026-11-30T23:59:00Z"),
            "2026-12-01T00:00:00Z"
        );
        // Exactly at the due time → tomorrow (strictly after).
        assert_eq!(
            due("daily 09:00", Tz::Asia__Seoul, "2026-12-01T00:00:00Z"),
            "2026-12-02T00:00:00Z"
        );
    }

    #[test]
    fn weekly_is_the_next_named_day() {
        // 2026-12-01 is a Tuesday.
        assert_eq!(
            due("weekly mon 09:00", Tz::Asia__Seoul, "2026-12-01T03:00:00Z"),
            "2026-12-07T00:00:00Z"
        );
        assert_eq!(
            due("weekly tue 18:00", Tz::Asia__Seoul, "2026-12-01T03:00:00Z"),
            "2026-12-01T09:00:00Z"
        );
        // Same day, time passed: a week later.
        assert_eq!(
            due("weekly tue 09:00", Tz::Asia__Seoul, "2026-12-01T03:00:00Z"),
            "2026-12-08T00:00:00Z"
        );
    }

    #[test]
    fn dst_spring_forward_gap_is_due_at_the_end_of_the_gap() {
        let ny = Tz::America__New_York;
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC). 02:30 does not exist.
        assert_eq!(
            due("daily 02:30", ny, "2026-03-08T05:00:00Z"),
            "2026-03-08T07:00:00Z"
        );
        // The day after, 02:30 EDT exists again.
        assert_eq!(
            due("daily 02:30", ny, "2026-03-08T07:00:00Z"),
            "2026-03-09T06:30:00Z"
        );
        // 09:00 on either side of the change keeps local 09:00.
        assert_eq!(
            due("daily 09:00", ny, "2026-03-07T15:00:00Z"),
            "2026-03-08T13:00:00Z"
        );
        assert_eq!(
            due("daily 09:00", ny, "2026-03-06T15:00:00Z"),
            "2026-03-07T14:00:00Z"
        );
        // Hourly across the gap: 01:00 EST → 03:00 EDT is one hour later.
        assert_eq!(
            due("hourly", ny, "2026-03-08T06:10:00Z"),
            "2026-03-08T07:00:00Z"
        );
    }

    #[test]
    fn dst_fall_back_ambiguous_time_is_the_earlier() {
        let berlin = Tz::Europe__Berlin;
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice (00:30 and
        // 01:30 UTC).
        assert_eq!(
            due("daily 02:30", berlin, "2026-10-24T23:00:00Z"),
            "2026-10-25T00:30:00Z"
        );
        // Past the earlier one: not the later one the same night, the next day's.
        assert_eq!(
            due("daily 02:30", berlin, "2026-10-25T00:30:00Z"),
            "2026-10-26T01:30:00Z"
        );
        // Hourly through the repeated hour: every UTC hour is a local top of the hour.
        assert_eq!(
            due("hourly", berlin, "2026-10-25T00:10:00Z"),
            "2026-10-25T01:00:00Z"
        );
        assert_eq!(
            due("hourly", berlin, "2026-10-25T01:10:00Z"),
            "2026-10-25T02:00:00Z"
        );
        // Weekly across the change keeps the local time.
        assert_eq!(
            due("weekly sun 09:00", berlin, "2026-10-20T00:00:00Z"),
            "2026-10-25T08:00:00Z"
        );
    }

    #[test]
    fn a_time_zone_change_recomputes_the_due_time() {
        let after = utc("2026-12-01T03:00:00Z");
        let mode: Delivery = "daily 09:00".parse().expect("mode");
        let seoul = next_due(&mode, Tz::Asia__Seoul, after).expect("due");
        let berlin = next_due(&mode, Tz::Europe__Berlin, after).expect("due");
        assert_eq!(seoul, utc("2026-12-02T00:00:00Z"));
        assert_eq!(berlin, utc("2026-12-01T08:00:00Z"));
        assert_ne!(seoul, berlin);
    }

    #[test]
    fn quiet_hours_across_midnight() {
        let q = Quiet {
            from: hm(23, 0),
            to: hm(7, 0),
            mode: QuietMode::Hold,
        };
        let seoul = Tz::Asia__Seoul;
        // 22:59 KST no, 23:00 yes, 03:00 yes, 07:00 no.
        assert!(!q.contains(seoul, utc("2026-12-01T13:59:00Z")));
        assert!(q.contains(seoul, utc("2026-12-01T14:00:00Z")));
        assert!(q.contains(seoul, utc("2026-12-01T18:00:00Z")));
        assert!(!q.contains(seoul, utc("2026-12-01T22:00:00Z")));
        // Ends at 07:00 KST the next morning, from before and after midnight.
        assert_eq!(
            q.end_after(seoul, utc("2026-12-01T14:30:00Z")),
            Some(utc("2026-12-01T22:00:00Z"))
        );
        assert_eq!(
            q.end_after(seoul, utc("2026-12-01T18:00:00Z")),
            Some(utc("2026-12-01T22:00:00Z"))
        );
        let day = Quiet {
            from: hm(12, 0),
            to: hm(13, 0),
            mode: QuietMode::Silent,
        };
        assert!(day.contains(Tz::UTC, utc("2026-12-01T12:30:00Z")));
        assert!(!day.contains(Tz::UTC, utc("2026-12-01T13:00:00Z")));
        let never = Quiet {
            from: hm(8, 0),
            to: hm(8, 0),
            mode: QuietMode::Hold,
        };
        assert!(!never.contains(Tz::UTC, utc("2026-12-01T08:00:00Z")));
    }
}
