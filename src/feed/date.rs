//! The dates feeds write ([`parse_date`]), and the zone names they use that no table knows.
//! Pure.
//!
//! RFC 3339 / ISO 8601, RFC 2822 (lenient: any weekday or none, long month names, one-digit
//! day and hour, no seconds, `GMT`/`UTC`/`Z`/US zone names, `KST`), and the Korean forms
//! `Sat, 16 07 2022 22:01:07 +0900`, `2022-07-16 22:01:07`, `2022.07.16 22:01`, `… KST`,
//! `2004-05-25 오후 11:23:17`, `2004년 05월 28일 01:31:15`; asctime (`Sun Nov  6 08:49:37 1994`)
//! and W3C-DTF's `2003` and `2003-12`. No zone means the configured time
//! zone. Stories carry their time in the configured zone's offset (feed-rs keeps only UTC).
//! Zone abbreviations come from `src/zones.txt`, compiled in.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Parses the date formats feeds use (see the module doc); no zone means `tz`.
pub fn parse_date(s: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    parse_date_noting(s, tz, &Zones::load()).0
}

/// [`parse_date`], and the zone name it did not know (the date is then in `tz`).
pub(super) fn parse_date_noting(
    s: &str,
    tz: Tz,
    zones: &Zones,
) -> (Option<DateTime<FixedOffset>>, Option<String>) {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return (Some(d), None);
    }
    let toks = tokenize(s);
    let Some(parts) = DateParts::read(&toks, zones) else {
        return (None, None);
    };
    let date = parts.resolve(tz);
    let unknown = date.and(parts.unknown_zone.clone());
    (date, unknown)
}

/// A date that reads as one but names no real instant (`9999-12-31T23:59:59-99:99`, a 31st of
/// February, a year before 1900): rejected, and worth a warning.
pub(super) fn is_impossible(s: &str, zones: &Zones) -> bool {
    let toks = tokenize(s.trim());
    DateParts::read(&toks, zones)
        .is_some_and(|p| p.ymd().is_some() && p.resolve(chrono_tz::UTC).is_none())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
    Sym(char),
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            toks.push(Tok::Num(&s[i..end]));
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_alphabetic() {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            toks.push(Tok::Word(&s[i..end]));
        } else if !c.is_whitespace() {
            toks.push(Tok::Sym(c));
        }
    }
    toks
}

#[derive(Debug, Default)]
struct DateParts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    /// Numbers of the date part not yet placed, with their digit counts.
    loose: Vec<(u32, usize)>,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// `Some(true)` for PM / 오후, `Some(false)` for AM / 오전.
    pm: Option<bool>,
    offset: Option<i32>,
    /// A zone name that is in no table: the date is read in the configured zone, and the
    /// feed's warnings say so.
    unknown_zone: Option<String>,
    /// An explicit offset out of range (`-99:99`): no date.
    bad_offset: bool,
}

fn month_from_name(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&w))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// The zone names feeds use (`src/zones.txt`), read once per feed, not once per date word.
pub(super) struct Zones(Vec<(&'static str, i32)>);

impl Zones {
    /// Lines that do not parse are skipped here and fail the test that checks the file.
    pub(super) fn load() -> Zones {
        Zones(
            include_str!("../zones.txt")
                .lines()
                .filter_map(zone_line)
                .collect(),
        )
    }

    /// Offset in seconds east of UTC.
    fn offset(&self, word: &str) -> Option<i32> {
        self.0
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(_, secs)| *secs)
    }

    /// A word in a date that reads like a zone abbreviation (2–5 capitals) but is in no table.
    fn unknown(&self, word: &str) -> bool {
        (2..=5).contains(&word.len())
            && word.bytes().all(|b| b.is_ascii_uppercase())
            && self.offset(word).is_none()
            && month_from_name(word).is_none()
            && !matches!(
                word.to_ascii_lowercase().as_str(),
                "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun" | "am" | "pm"
            )
    }
}

fn zone_line(line: &str) -> Option<(&str, i32)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, offset) = line.split_once(char::is_whitespace)?;
    let offset = offset.trim();
    let sign = match offset.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = offset[1..].split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some((name, sign * (h * 3600 + m * 60)))
}

fn num(t: Option<&Tok<'_>>) -> Option<(u32, usize)> {
    match t {
        Some(Tok::Num(n)) if n.len() <= 9 => n.parse().ok().map(|v| (v, n.len())),
        _ => None,
    }
}

impl DateParts {
    fn read(toks: &[Tok<'_>], zones: &Zones) -> Option<DateParts> {
        let mut p = DateParts::default();
        // The time: H:MM[:SS[.frac]] — the first number followed by ':'.
        let time_at = (0..toks.len()).find(|&i| {
            num(toks.get(i)).is_some_and(|(_, d)| d <= 2)
                && toks.get(i + 1) == Some(&Tok::Sym(':'))
                && num(toks.get(i + 2)).is_some()
        });
        let (date_toks, after_time) = match time_at {
            Some(i) => {
                p.hour = num(toks.get(i))?.0;
                p.minute = num(toks.get(i + 2))?.0;
                let mut k = i + 3;
                if toks.get(k) == Some(&Tok::Sym(':'))
                    && let Some((sec, _)) = num(toks.get(k + 1))
                {
                    p.second = sec;
                    k += 2;
                    if matches!(toks.get(k), Some(Tok::Sym('.' | ',')))
                        && let Some(Tok::Num(frac)) = toks.get(k + 1)
                    {
                        let digits: String =
                            frac.chars().chain(std::iter::repeat('0')).take(9).collect();
                        p.nanos = digits.parse().ok()?;
                        k += 2;
                    }
                }
                (&toks[..i], &toks[k..])
            }
            None => (toks, &toks[toks.len()..]),
        };
        p.read_date(date_toks)?;
        p.read_zone(after_time, zones);
        Some(p)
    }

    fn read_date(&mut self, toks: &[Tok<'_>]) -> Option<()> {
        let mut i = 0;
        while i < toks.len() {
            match toks[i] {
                Tok::Num(_) => {
                    let (v, digits) = num(toks.get(i))?;
                    match toks.get(i + 1) {
                        Some(Tok::Word("년")) => self.year = i32::try_from(v).ok(),
                        Some(Tok::Word("월")) => self.month = Some(v),
                        Some(Tok::Word("일")) => self.day = Some(v),
                        _ => self.loose.push((v, digits)),
                    }
                }
                Tok::Word(w) => self.meridiem_or_month(w),
                Tok::Sym(_) => {}
            }
            i += 1;
        }
        Some(())
    }

    fn meridiem_or_month(&mut self, w: &str) {
        match w.to_ascii_lowercase().as_str() {
            "오후" | "pm" => self.pm = Some(true),
            "오전" | "am" => self.pm = Some(false),
            _ => {
                if self.month.is_none() {
                    self.month = month_from_name(w);
                }
            }
        }
    }

    fn read_zone(&mut self, toks: &[Tok<'_>], zones: &Zones) {
        let mut i = 0;
        while i < toks.len() {
            match toks[i] {
                Tok::Sym(sign @ ('+' | '-')) => {
                    if let Some((v, digits)) = num(toks.get(i + 1)) {
                        let (h, m, used) = match (digits, toks.get(i + 2), num(toks.get(i + 3))) {
                            (1 | 2, Some(Tok::Sym(':')), Some((m, 2))) => (v, m, 4),
                            (1 | 2, _, _) => (v, 0, 2),
                            (4, _, _) => (v / 100, v % 100, 2),
                            _ => {
                                i += 1;
                                continue;
                            }
                        };
                        if h <= 14 && m < 60 {
                            let secs = i32::try_from(h * 3600 + m * 60).unwrap_or(0);
                            self.offset = Some(if sign == '-' { -secs } else { secs });
                        } else {
                            // `-99:99`: an offset no place has; the date is not trusted.
                            self.bad_offset = true;
                        }
                        i += used;
                        continue;
                    }
                }
                // asctime puts the year after the time: `Sun Nov  6 08:49:37 1994`.
                Tok::Num(n) if n.len() == 4 && !self.loose.iter().any(|l| l.1 == 4) => {
                    if let Some(year) = num(toks.get(i)) {
                        self.loose.push(year);
                    }
                }
                Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                    "오후" | "pm" => self.pm = Some(true),
                    "오전" | "am" => self.pm = Some(false),
                    _ => {
                        if let Some(z) = zones.offset(w)
                            && self.offset.is_none()
                        {
                            self.offset = Some(z);
                        } else if self.offset.is_none() && zones.unknown(w) {
                            self.unknown_zone = Some(w.to_string());
                        }
                    }
                },
                _ => {}
            }
            i += 1;
        }
    }

    /// Places the loose numbers into year, month and day.
    fn ymd(&self) -> Option<(i32, u32, u32)> {
        let loose = &self.loose;
        let year_of = |(v, digits): (u32, usize)| -> Option<i32> {
            let v = i32::try_from(v).ok()?;
            Some(match digits {
                4 => v,
                1 | 2 if v < 70 => 2000 + v,
                1 | 2 => 1900 + v,
                _ => return None,
            })
        };
        match (self.year, self.month, self.day) {
            (Some(y), Some(m), Some(d)) => Some((y, m, d)),
            // Month named: "16 Jul 2022", "Jul 16, 2022", "2022 Jul 16".
            (None, Some(m), None) => match loose.as_slice() {
                [a, b] if a.1 == 4 => Some((year_of(*a)?, m, b.0)),
                [a, b] => Some((year_of(*b)?, m, a.0)),
                _ => None,
            },
            (None, None, None) => match loose.as_slice() {
                [(v, 8)] => Some((i32::try_from(v / 10000).ok()?, v / 100 % 100, v % 100)),
                // W3C-DTF's reduced forms: `2003`, `2003-12` (the first day of the period).
                [a] if a.1 == 4 => Some((year_of(*a)?, 1, 1)),
                [a, b] if a.1 == 4 && b.1 <= 2 => Some((year_of(*a)?, b.0, 1)),
                [a, b, c] if a.1 == 4 => Some((year_of(*a)?, b.0, c.0)),
                // "16 07 2022" (RFC 2822 order, numeric month);
                // "07 16 2022" when it can only be US order.
                [a, b, c] if c.1 == 4 && b.0 > 12 => Some((year_of(*c)?, a.0, b.0)),
                [a, b, c] if c.1 == 4 => Some((year_of(*c)?, b.0, a.0)),
                _ => None,
            },
            _ => None,
        }
    }

    fn resolve(&self, tz: Tz) -> Option<DateTime<FixedOffset>> {
        if self.bad_offset {
            return None;
        }
        let (y, m, d) = self.ymd()?;
        let date = NaiveDate::from_ymd_opt(y, m, d)?;
        let mut hour = self.hour;
        match self.pm {
            Some(true) if hour < 12 => hour += 12,
            Some(false) if hour == 12 => hour = 0,
            _ => {}
        }
        let (date, hour) = if hour == 24 {
            (date.succ_opt()?, 0)
        } else {
            (date, hour)
        };
        let time =
            NaiveTime::from_hms_nano_opt(hour, self.minute, self.second.min(59), self.nanos)?;
        let naive = NaiveDateTime::new(date, time);
        if !(1900..=9999).contains(&naive.year()) {
            return None;
        }
        match self.offset {
            Some(secs) => FixedOffset::east_opt(secs)?
                .from_local_datetime(&naive)
                .single(),
            None => tz
                .from_local_datetime(&naive)
                .earliest()
                // In a DST gap: the wall-clock time an hour later exists.
                .or_else(|| {
                    tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                        .earliest()
                })
                .map(|d| d.fixed_offset()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::{Zones, parse_date, parse_date_noting, zone_line};
    use crate::feed::test_support::SEOUL;
    use crate::feed::{self, parse_feed};

    // ---- dates --------------------------------------------------------------------------

    #[test]
    fn date_formats() {
        let cases: &[(&str, &str)] = &[
            // RFC 3339 / ISO 8601
            ("2022-07-30T09:00:00.000Z", "2022-07-30T09:00:00+00:00"),
            ("2019-11-14T09:08:29+00:00", "2019-11-14T09:08:29+00:00"),
            ("2022-07-16T22:01:07+0900", "2022-07-16T22:01:07+09:00"),
            ("2022-07-16T22:01:07", "2022-07-16T22:01:07+09:00"),
            ("2022-07-16", "2022-07-16T00:00:00+09:00"),
            (
                "2022-07-16T22:01:07.123456-05:00",
                "2022-07-16T22:01:07.123456-05:00",
            ),
            // RFC 2822 and its usual damage
            (
                "Wed, 02 Nov 2011 17:25:27 +0000",
                "2011-11-02T17:25:27+00:00",
            ),
            ("Tue, 17 Oct 2017 22:17:00 GMT", "2017-10-17T22:17:00+00:00"),
            (
                "Tue, 17 Oct 2017 22:17:00 -0000",
                "2017-10-17T22:17:00+00:00",
            ),
            ("17 Oct 2017 22:17 EST", "2017-10-17T22:17:00-05:00"),
            (
                "Thursday, 13 July 2011 7:38:00 UTC",
                "2011-07-13T07:38:00+00:00",
            ),
            ("Sat, 2 Jul 22 09:05:00 +0900", "2022-07-02T09:05:00+09:00"),
            (
                "Fri, 16 Jul 2022 22:01:07 +0900",
                "2022-07-16T22:01:07+09:00",
            ),
            // Korean feeds
            (
                "Sat, 16 07 2022 22:01:07 +0900",
                "2022-07-16T22:01:07+09:00",
            ),
            ("2022-07-16 22:01:07", "2022-07-16T22:01:07+09:00"),
            ("2022.07.16 22:01", "2022-07-16T22:01:00+09:00"),
            ("2022-07-16 22:01:07 KST", "2022-07-16T22:01:07+09:00"),
            ("Sat, 16 Jul 2022 22:01:07 KST", "2022-07-16T22:01:07+09:00"),
            ("2004-05-25 오후 11:23:17", "2004-05-25T23:23:17+09:00"),
            ("2004-05-25 오전 12:03:17", "2004-05-25T00:03:17+09:00"),
            ("2004-05-25 오전 9:03:17", "2004-05-25T09:03:17+09:00"),
            ("2004년 05월 28일 01:31:15", "2004-05-28T01:31:15+09:00"),
            ("2004년 5월 28일 오후 1:31", "2004-05-28T13:31:00+09:00"),
            ("  2022/07/16 22:01:07 +09:00 ", "2022-07-16T22:01:07+09:00"),
        ];
        for (input, want) in cases {
            let got = parse_date(input, SEOUL).map(|d| d.to_rfc3339());
            assert_eq!(got.as_deref(), Some(*want), "input: {input:?}");
        }
    }

    #[test]
    fn no_zone_means_the_configured_zone() {
        let ny =
            parse_date("2022-07-16 22:01:07", chrono_tz::America::New_York).map(|d| d.to_rfc3339());
        assert_eq!(ny.as_deref(), Some("2022-07-16T22:01:07-04:00"));
        let utc = parse_date("2004년 05월 28일 01:31:15", chrono_tz::UTC).map(|d| d.to_rfc3339());
        assert_eq!(utc.as_deref(), Some("2004-05-28T01:31:15+00:00"));
    }

    #[test]
    fn nonsense_dates_are_none() {
        for input in [
            "",
            "yesterday",
            "2022-13-45 10:00",
            "Sat, 31 Feb 2022 10:00:00 +0900",
            "12:30",
            "99:99:99",
        ] {
            assert_eq!(parse_date(input, SEOUL), None, "input: {input:?}");
        }
    }

    /// Regression (issue 13): `08:57:00 MET` came out as 08:57+09:00.
    #[test]
    fn zone_abbreviations_are_honoured_and_unknown_ones_reported() {
        let utc = |s: &str| parse_date(s, SEOUL).map(|d| d.with_timezone(&Utc).to_rfc3339());
        for (input, want) in [
            ("Tue, 10 Jun 2003 08:57:00 MET", "2003-06-10T07:57:00+00:00"),
            ("Tue, 10 Jun 2003 08:57:00 PT", "2003-06-10T16:57:00+00:00"),
            ("Tue, 10 Jun 2003 08:57:00 ET", "2003-06-10T13:57:00+00:00"),
            (
                "Tue, 10 Jun 2003 08:57:00 CEST",
                "2003-06-10T06:57:00+00:00",
            ),
            ("Tue, 10 Jun 2003 08:57:00 IST", "2003-06-10T03:27:00+00:00"),
            (
                "Tue, 10 Jun 2003 08:57:00 AEST",
                "2003-06-09T22:57:00+00:00",
            ),
            ("Tue, 10 Jun 2003 08:57:00 KST", "2003-06-09T23:57:00+00:00"),
        ] {
            assert_eq!(utc(input).as_deref(), Some(want), "{input}");
        }
        // Unknown: the configured zone, and a note, never a guessed offset without a word.
        let (d, zone) = parse_date_noting("Tue, 10 Jun 2003 08:57:00 XYZ", SEOUL, &Zones::load());
        assert_eq!(
            d.map(|d| d.to_rfc3339()).as_deref(),
            Some("2003-06-10T08:57:00+09:00")
        );
        assert_eq!(zone.as_deref(), Some("XYZ"));
        let xml = "<rss version=\"2.0\"><channel>\
                   <item><title>하나</title><guid>1</guid><pubDate>Tue, 10 Jun 2003 08:57:00 XYZ</pubDate></item>\
                   <item><title>둘</title><guid>2</guid><pubDate>Wed, 11 Jun 2003 08:57:00 XYZ</pubDate></item>\
                   </channel></rss>";
        let parsed = feed::parse("f", xml.as_bytes(), None, SEOUL).expect("parsed");
        assert_eq!(parsed.stories.len(), 2);
        assert_eq!(
            parsed.warnings,
            [
                "dates with unknown zone name(s) XYZ were read as Asia/Seoul time (the zone is missing, not guessed)"
            ]
        );
        // Impossible offsets and years are no dates.
        assert_eq!(parse_date("9999-12-31T23:59:59-99:99", SEOUL), None);
    }

    #[test]
    fn the_zone_table_parses_and_names_each_zone_once() {
        let mut names = std::collections::BTreeSet::new();
        for line in include_str!("../zones.txt").lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let (name, _) = zone_line(t).unwrap_or_else(|| panic!("bad line {line:?}"));
            assert!(names.insert(name), "{name} twice");
        }
        assert!(names.len() >= 50, "{}", names.len());
    }

    #[test]
    fn unparseable_date_leaves_published_empty() {
        let xml = "<rss version=\"2.0\"><channel><item><title>제목입니다</title><link>https://e.kr/1</link>\
                   <pubDate>언젠가</pubDate></item></channel></rss>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].published, None);
    }
}
