//! A time zone typed by a user (`/settings`, the config): [`resolve`] reads an IANA name in any
//! case (`asia/seoul`), a city (`Seoul`, `new york`, `서울`, `뉴욕`), a country with one zone
//! (`일본`) or an abbreviation that names one place (`KST`), and answers an IANA zone, never a
//! fixed offset (the zone keeps its daylight saving time). [`COMMON`] is the short list the
//! settings buttons offer. Pure: no IO.
//!
//! Where names come from: chrono-tz's own zone names (the whole name, and the city: the last
//! component with `_` as a space, for the zones of the continents and oceans), and
//! `src/digest/zone-names.txt` (compiled in) for what chrono-tz cannot know: Korean names, cities
//! that share another city's zone (Beijing, Osaka), countries and abbreviations. Names are
//! compared ignoring case, spaces, `_`, `.` and `-` (but a `-` before a digit is kept:
//! `Etc/GMT-9`). The file's lines are read first (so `EST` is New York, not IANA's fixed
//! `EST`), then cities (so `Singapore` is `Asia/Singapore`, not the legacy link `Singapore`),
//! then whole IANA names.
//!
//! Errors name the input: an ambiguous name lists its zones (`CST`: Chicago, Shanghai,
//! Havana); an unknown one suggests the closest names (Damerau–Levenshtein over the same
//! normalised names, then names that contain the input).

use std::collections::HashMap;

use chrono_tz::Tz;

/// The zones offered as buttons in `/settings`: a label and the zone.
pub const COMMON: &[(&str, Tz)] = &[
    ("Seoul", Tz::Asia__Seoul),
    ("Tokyo", Tz::Asia__Tokyo),
    ("Shanghai", Tz::Asia__Shanghai),
    ("Singapore", Tz::Asia__Singapore),
    ("London", Tz::Europe__London),
    ("Berlin", Tz::Europe__Berlin),
    ("New York", Tz::America__New_York),
    ("Los Angeles", Tz::America__Los_Angeles),
];

/// The names file: `NAME = ZONE [ZONE…]` lines (see its header).
const NAMES: &str = include_str!("zone-names.txt");

/// Top-level areas whose zones are cities (so `Seoul` finds `Asia/Seoul`); the legacy country
/// aliases (`US/Pacific`, `Canada/Pacific`) are found by their whole name only.
const CITY_AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// At most this many suggestions in an error.
const SUGGESTIONS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("no time zone given: type a city (Seoul, 서울) or an IANA name (Asia/Seoul)")]
    Empty,
    #[error("time zone {input:?} is ambiguous: {}", names(.candidates))]
    Ambiguous { input: String, candidates: Vec<Tz> },
    /// `UTC+9`, `+09:00`: an offset changes with daylight saving time where a zone does not,
    /// so it is not taken; `zones` are common zones at that (standard) offset.
    #[error(
        "{input:?} is an offset, not a time zone: type a city or an IANA name{}",
        at_offset(.input, .zones)
    )]
    Offset { input: String, zones: Vec<Tz> },
    #[error("unknown time zone {input:?}{}", did_you_mean(.suggestions))]
    Unknown {
        input: String,
        /// The closest names, as the user could type them (`Asia/Seoul`, `서울 (Asia/Seoul)`).
        suggestions: Vec<String>,
    },
}

fn names(zones: &[Tz]) -> String {
    zones
        .iter()
        .map(|z| z.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn at_offset(input: &str, zones: &[Tz]) -> String {
    if zones.is_empty() {
        String::new()
    } else {
        format!(" (at {input}: {})", names(zones))
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        ": type a city (Seoul, 서울) or an IANA name (Asia/Seoul)".to_string()
    } else {
        format!(": did you mean {}?", suggestions.join(", "))
    }
}

/// The time zone `input` names (see the module doc).
pub fn resolve(input: &str) -> Result<Tz, ZoneError> {
    Table::new().resolve(input)
}

/// The comparison form of a name: lower case, letters and digits (any script), `/`, `+`, and
/// `-` before a digit.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' | '+' => out.push(c),
            '-' if chars.peek().is_some_and(char::is_ascii_digit) => out.push(c),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// The offset a normalised `utc+9`, `gmt-0530`, `+0900` names, in seconds east of UTC.
fn offset_secs(key: &str) -> Option<i64> {
    let rest = key
        .strip_prefix("utc")
        .or_else(|| key.strip_prefix("gmt"))
        .unwrap_or(key);
    let (sign, digits) = match rest.split_at_checked(1)? {
        ("+", d) => (1, d),
        ("-", d) => (-1, d),
        _ => return None,
    };
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits, "0")
    } else {
        digits.split_at(digits.len() - 2)
    };
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// A name's city: the last component, `_` as a space (`America/New_York` → `New York`), for
/// the zones of [`CITY_AREAS`].
fn city(name: &str) -> Option<String> {
    let (area, _) = name.split_once('/')?;
    if !CITY_AREAS.contains(&area) {
        return None;
    }
    let last = name.rsplit('/').next()?;
    Some(last.replace('_', " "))
}

/// One line of the names file.
#[derive(Debug)]
struct Line<'a> {
    number: usize,
    name: &'a str,
    zones: Vec<&'a str>,
}

fn lines() -> impl Iterator<Item = Line<'static>> {
    NAMES.lines().enumerate().filter_map(|(i, l)| {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            return None;
        }
        let (name, zones) = l.split_once('=').unwrap_or((l, ""));
        Some(Line {
            number: i + 1,
            name: name.trim(),
            zones: zones.split_whitespace().collect(),
        })
    })
}

/// Every name, by its normalised form; built per call (a few hundred entries: microseconds
/// next to a user's typing).
struct Table {
    /// The names file: one zone, or several for an ambiguous name.
    names: HashMap<String, Vec<Tz>>,
    iana: HashMap<String, Tz>,
    cities: HashMap<String, Tz>,
    /// What suggestions compare against: (normalised, as shown, zone).
    shown: Vec<(String, String, Tz)>,
}

impl Table {
    fn new() -> Table {
        let mut t = Table {
            names: HashMap::new(),
            iana: HashMap::new(),
            cities: HashMap::new(),
            shown: Vec::new(),
        };
        for line in lines() {
            // A zone the file gets wrong is skipped here (and fails the file's test).
            let mut zones: Vec<Tz> = Vec::new();
            for z in &line.zones {
                match z.parse() {
                    Ok(tz) => zones.push(tz),
                    Err(_) => tracing::warn!(
                        line = line.number,
                        zone = z,
                        "zone-names.txt: unknown zone, skipped"
                    ),
                }
            }
            if zones.is_empty() {
                continue;
            }
            let key = normalise(line.name);
            if zones.len() == 1 {
                let shown = format!("{} ({})", line.name, zones[0].name());
                t.shown.push((key.clone(), shown, zones[0]));
            }
            t.names.entry(key).or_insert(zones);
        }
        // Cities named by several zones (`America/Indianapolis` and
        // `America/Indiana/Indianapolis`, a link and its target): the longer name, which is
        // the current one in tzdata's layout; then the first in order.
        let mut best: HashMap<String, &'static str> = HashMap::new();
        for tz in chrono_tz::TZ_VARIANTS {
            let name = tz.name();
            let key = normalise(name);
            t.iana.insert(key.clone(), tz);
            t.shown.push((key, name.to_string(), tz));
            if let Some(c) = city(name) {
                let ck = normalise(&c);
                let slot = best.entry(ck).or_insert(name);
                if name.matches('/').count() > slot.matches('/').count()
                    || (name.matches('/').count() == slot.matches('/').count() && name < *slot)
                {
                    *slot = name;
                }
            }
        }
        for (ck, name) in best {
            if let Ok(tz) = name.parse::<Tz>() {
                t.shown.push((ck.clone(), name.to_string(), tz));
                t.cities.insert(ck, tz);
            }
        }
        t
    }

    fn resolve(&self, input: &str) -> Result<Tz, ZoneError> {
        let input = input.trim();
        let key = normalise(input);
        if key.is_empty() {
            return Err(ZoneError::Empty);
        }
        if let Some(zones) = self.names.get(&key) {
            return match zones.as_slice() {
                [one] => Ok(*one),
                many => Err(ZoneError::Ambiguous {
                    input: input.to_string(),
                    candidates: many.to_vec(),
                }),
            };
        }
        // A city before a whole name: the legacy one-word names (`Singapore`, `Hongkong`) are
        // links to the city's zone, and the city's is the name to keep.
        if let Some(tz) = self.cities.get(&key).or_else(|| self.iana.get(&key)) {
            return Ok(*tz);
        }
        if let Some(offset) = offset_secs(&key) {
            return Err(ZoneError::Offset {
                input: input.to_string(),
                zones: self.at_offset(offset),
            });
        }
        Err(ZoneError::Unknown {
            input: input.to_string(),
            suggestions: self.suggest(&key),
        })
    }

    /// Up to [`SUGGESTIONS`] zones whose standard offset is `secs` east of UTC: [`COMMON`]'s,
    /// then the names file's, in order.
    fn at_offset(&self, secs: i64) -> Vec<Tz> {
        use chrono::TimeZone;
        use chrono_tz::OffsetComponents;
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default();
        let mut out: Vec<Tz> = Vec::new();
        let file = lines().filter_map(|l| match l.zones.as_slice() {
            [one] => one.parse::<Tz>().ok(),
            _ => None,
        });
        for tz in COMMON.iter().map(|(_, tz)| *tz).chain(file) {
            let base = tz
                .offset_from_utc_datetime(&at)
                .base_utc_offset()
                .num_seconds();
            if base == secs && !out.contains(&tz) && out.len() < SUGGESTIONS {
                out.push(tz);
            }
        }
        out
    }

    /// Up to [`SUGGESTIONS`] names close to `key`, one per zone: the nearest by edit distance
    /// (within a third of the input's length, at least 1 for two characters or more, and at most
    /// one more than the nearest), else names containing the input.
    fn suggest(&self, key: &str) -> Vec<String> {
        // One character is too little to guess from; two Hangul syllables are a city name.
        let limit = |s: &str| match s.chars().count() {
            0 | 1 => 0,
            n => (n / 3).max(1),
        };
        let n = key.chars().count();
        let key_last = key.rsplit('/').next().unwrap_or(key);
        let mut near: Vec<(usize, usize, &str, Tz)> = Vec::new();
        for (k, shown, tz) in &self.shown {
            // Against the whole name, and last component against last component (`asia/seuol`
            // and `seuol` both find Asia/Seoul), each within its own length's allowance.
            let last = k.rsplit('/').next().unwrap_or(k);
            let whole = strsim::damerau_levenshtein(key, k);
            let city = strsim::damerau_levenshtein(key_last, last);
            let d = match (whole <= limit(key), city <= limit(key_last)) {
                (true, true) => Some(whole.min(city)),
                (true, false) => Some(whole),
                (false, true) => Some(city),
                (false, false) => None,
            };
            let rank = if let Some(d) = d {
                Some((0, d))
            } else if n >= 3 && k.contains(key) {
                Some((1, k.chars().count() - n))
            } else {
                None
            };
            if let Some((class, d)) = rank {
                near.push((class, d, shown, *tz));
            }
        }
        near.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        // Near misses that are much further than the nearest are noise (`asia/seul`: Seoul,
        // not Kabul).
        if let Some(&(0, best, _, _)) = near.first() {
            near.retain(|&(class, d, _, _)| class == 0 && d <= best + 1);
        }
        let mut out: Vec<String> = Vec::new();
        let mut zones: Vec<Tz> = Vec::new();
        for (_, _, shown, tz) in near {
            if out.len() == SUGGESTIONS {
                break;
            }
            if !zones.contains(&tz) {
                zones.push(tz);
                out.push(shown.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    #[test]
    fn iana_names_in_any_case_and_spelling() {
        for (input, want) in [
            ("Asia/Seoul", Asia::Seoul),
            ("asia/seoul", Asia::Seoul),
            ("  ASIA/SEOUL ", Asia::Seoul),
            ("America/New_York", America::New_York),
            ("america/new york", America::New_York),
            (
                "America/Argentina/Buenos_Aires",
                America::Argentina::Buenos_Aires,
            ),
            ("UTC", Tz::UTC),
            ("utc", Tz::UTC),
            ("Etc/GMT-9", Tz::Etc__GMTMinus9),
            ("etc/gmt+9", Tz::Etc__GMTPlus9),
            ("America/Port-au-Prince", America::PortauPrince),
        ] {
            assert_eq!(resolve(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn cities_in_english_and_korean() {
        for (input, want) in [
            ("Seoul", Asia::Seoul),
            ("seoul", Asia::Seoul),
            ("Tokyo", Asia::Tokyo),
            ("New York", America::New_York),
            ("newyork", America::New_York),
            ("new_york", America::New_York),
            ("London", Europe::London),
            ("los angeles", America::Los_Angeles),
            ("Ho Chi Minh", Asia::Ho_Chi_Minh),
            ("port au prince", America::PortauPrince),
            ("Beijing", Asia::Shanghai),
            ("San Francisco", America::Los_Angeles),
            ("서울", Asia::Seoul),
            ("부산", Asia::Seoul),
            ("도쿄", Asia::Tokyo),
            ("뉴욕", America::New_York),
            ("로스 앤젤레스", America::Los_Angeles),
            ("런던", Europe::London),
            ("베이징", Asia::Shanghai),
            ("일본", Asia::Tokyo),
            // A city two names share: the current (longer) one, not the backward link.
            ("Indianapolis", America::Indiana::Indianapolis),
            ("buenos aires", America::Argentina::Buenos_Aires),
        ] {
            assert_eq!(resolve(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn abbreviations_only_where_they_name_one_place() {
        assert_eq!(resolve("KST"), Ok(Asia::Seoul));
        assert_eq!(resolve("kst"), Ok(Asia::Seoul));
        assert_eq!(resolve("JST"), Ok(Asia::Tokyo));
        // IANA's EST is a fixed offset; a user means New York, with its summer time.
        assert_eq!(resolve("EST"), Ok(America::New_York));
        assert_eq!(resolve("PST"), Ok(America::Los_Angeles));
        let err = resolve("CST").expect_err("ambiguous");
        assert_eq!(
            err,
            ZoneError::Ambiguous {
                input: "CST".into(),
                candidates: vec![America::Chicago, Asia::Shanghai, America::Havana],
            }
        );
        assert_eq!(
            err.to_string(),
            "time zone \"CST\" is ambiguous: America/Chicago, Asia/Shanghai, America/Havana"
        );
        assert!(matches!(resolve("IST"), Err(ZoneError::Ambiguous { .. })));
        assert!(matches!(resolve("미국"), Err(ZoneError::Ambiguous { .. })));
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        let err = resolve("Seuol").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown time zone \"Seuol\": did you mean Asia/Seoul?"
        );
        let ZoneError::Unknown { suggestions, .. } = resolve("asia/tokio").expect_err("unknown")
        else {
            panic!("not unknown");
        };
        assert_eq!(suggestions.first().map(String::as_str), Some("Asia/Tokyo"));
        let ZoneError::Unknown { suggestions, .. } = resolve("서을").expect_err("unknown") else {
            panic!("not unknown");
        };
        assert!(
            suggestions.iter().any(|s| s == "서울 (Asia/Seoul)"),
            "{suggestions:?}"
        );
        let ZoneError::Unknown { suggestions, .. } = resolve("york").expect_err("unknown") else {
            panic!("not unknown");
        };
        assert!(
            suggestions.iter().any(|s| s == "America/New_York"),
            "{suggestions:?}"
        );
        assert!(suggestions.len() <= SUGGESTIONS);
        assert_eq!(
            resolve("qqqqqqqqqqqq").map_err(|e| e.to_string()),
            Err(
                "unknown time zone \"qqqqqqqqqqqq\": type a city (Seoul, 서울) or an IANA name \
                 (Asia/Seoul)"
                    .to_string()
            )
        );
        assert_eq!(resolve("  "), Err(ZoneError::Empty));
        assert_eq!(
            resolve("/"),
            Err(ZoneError::Unknown {
                input: "/".into(),
                suggestions: vec![]
            })
        );
    }

    #[test]
    fn offsets_are_refused_with_zones_at_that_offset() {
        assert_eq!(
            resolve("UTC+9").map_err(|e| e.to_string()),
            Err(
                "\"UTC+9\" is an offset, not a time zone: type a city or an IANA name \
                 (at UTC+9: Asia/Seoul, Asia/Tokyo, Asia/Pyongyang)"
                    .to_string()
            )
        );
        assert!(matches!(
            resolve("+05:30"),
            Err(ZoneError::Offset { zones, .. }) if zones == vec![Tz::Asia__Kolkata]
        ));
        assert!(matches!(
            resolve("gmt-5"),
            Err(ZoneError::Offset { zones, .. }) if zones.first() == Some(&America::New_York)
        ));
        assert_eq!(offset_secs("utc+0930"), Some(34_200));
        assert_eq!(offset_secs("utc+15"), None);
        assert_eq!(offset_secs("utc"), None);
        // IANA's own names stay names (Etc/GMT+9 is nine hours *behind* UTC, as POSIX has it).
        assert_eq!(resolve("Etc/GMT+9"), Ok(Tz::Etc__GMTPlus9));
        assert_eq!(resolve("GMT+0"), Ok(Tz::GMTPlus0));
    }

    #[test]
    fn the_names_file_is_well_formed() {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut problems = Vec::new();
        for line in lines() {
            if line.name.is_empty() || line.zones.is_empty() {
                problems.push(format!("zone-names.txt:{}: want NAME = ZONE", line.number));
            }
            for z in &line.zones {
                if z.parse::<Tz>().is_err() {
                    problems.push(format!("zone-names.txt:{}: unknown zone {z}", line.number));
                }
            }
            if let Some(first) = seen.insert(normalise(line.name), line.number) {
                problems.push(format!(
                    "zone-names.txt:{}: {} again (line {first})",
                    line.number, line.name
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert!(seen.len() > 100, "{}", seen.len());
        // Korean: the ~40 most common cities at least.
        let korean = lines()
            .filter(|l| l.name.chars().any(|c| ('가'..='힣').contains(&c)))
            .count();
        assert!(korean >= 40, "{korean}");
    }

    #[test]
    fn the_file_only_overrides_iana_names_it_means_to() {
        // A line that shadows an IANA name must be one of these (read before IANA on purpose).
        let shadowing: Vec<&str> = lines()
            .filter(|l| {
                chrono_tz::TZ_VARIANTS
                    .iter()
                    .any(|z| normalise(z.name()) == normalise(l.name))
            })
            .map(|l| l.name)
            .collect();
        assert_eq!(shadowing, vec!["Japan", "EST", "HST", "MST"]);
    }

    #[test]
    fn every_city_and_name_resolves_to_itself() {
        let table = Table::new();
        for tz in chrono_tz::TZ_VARIANTS {
            let name = tz.name();
            let key = normalise(name);
            // The file is read first (`the_file_only_overrides_…`), then cities.
            let want = match table.names.get(&key).map(Vec::as_slice) {
                Some([one]) => Ok(*one),
                Some(many) => Err(ZoneError::Ambiguous {
                    input: name.to_string(),
                    candidates: many.to_vec(),
                }),
                None => Ok(table.cities.get(&key).copied().unwrap_or(tz)),
            };
            assert_eq!(table.resolve(name), want, "{name}");
            let lower = name.to_lowercase();
            assert_eq!(table.resolve(&lower).ok(), want.ok(), "{lower}");
        }
        assert_eq!(resolve("Singapore"), Ok(Asia::Singapore));
        assert_eq!(resolve("Hongkong"), Ok(Asia::Hong_Kong));
        for (label, tz) in COMMON {
            assert_eq!(resolve(label), Ok(*tz), "{label}");
        }
        assert_eq!(COMMON.len(), 8);
    }
}
