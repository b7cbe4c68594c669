//! `/settings`: one message with an inline keyboard that every tap edits in place — per
//! subscribed topic and per personal rule (`/watch`) its delivery mode (instant · hourly ·
//! daily · weekly · off, with a time and a day), the chat's time zone, its quiet hours (with
//! hold ↔ silent) and its language (한국어 · English). Every screen is worded in the chat's
//! language.
//!
//! Pure: the screens ([`view`]), the buttons' callback codec ([`Tap::encode`],
//! [`Tap::decode`]; `c:`-prefixed, never over Telegram's 64 bytes) and what a tap changes
//! ([`apply`]). The dispatcher reads and writes the store and edits the message.
//!
//! Must not: touch the store or Telegram, or decide who may change a chat's settings (that is
//! [`super::access`]).

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{Reply, render, trim_chars};
use crate::digest::schedule::{Delivery, Quiet, QuietMode};
use crate::digest::zone::COMMON;
use crate::i18n::{Lang, delivery, n, s, t, weekday};
use crate::rules::RuleSet;
use crate::store::outbox::{ChatPrefs, Subscription};
use crate::store::personal::PersonalRule;

/// Every settings button's callback data starts with this (`/topics` uses `s:`, `u:`, `S#`,
/// `U#`).
pub(super) const PREFIX: &str = "c:";

/// Telegram allows at most 64 bytes of callback data.
const CALLBACK_DATA_MAX: usize = 64;

/// At most this many topics and personal rules together get a button on the main screen
/// (Telegram caps a keyboard at 100 buttons; the zone, quiet and language rows take 17).
const MAX_RULE_BUTTONS: usize = 60;

/// The times offered for daily and weekly digests.
pub(super) const TIMES: &[Hm] = &[(7, 0), (8, 0), (9, 0), (12, 0), (18, 0), (21, 0)];

/// A new daily or weekly mode starts at this time (and a weekly one on Monday).
const DEFAULT_TIME: Hm = (9, 0);

/// An hour and a minute.
type Hm = (u32, u32);

/// The quiet hours offered (from, to); index 0 is "off".
pub(super) const QUIET: &[Option<(Hm, Hm)>] = &[
    None,
    Some(((23, 0), (7, 0))),
    Some(((22, 0), (8, 0))),
    Some(((0, 0), (6, 0))),
];

const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Which screen of the settings message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Screen {
    /// Every subscribed topic's and personal rule's mode, the time zone and quiet hours.
    Main,
    /// One topic or personal rule with its mode, time and day buttons.
    Rule(Topic),
}

/// What a mode button is about: a rules-file topic or one of the chat's personal rules, each by
/// the hash of its name that `/rules` buttons use ([`super::watch::name_hash`]), so a reload
/// that reorders, adds or removes rules never makes an old button change another topic (a
/// button of a topic that is gone, or no longer subscribed, is refused by [`apply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Topic {
    /// `tHASH` (ten lower-case hex digits).
    File(u64),
    /// `pHASH`.
    Personal(u64),
}

impl Topic {
    fn of_file(name: &str) -> Topic {
        Topic::File(super::watch::name_hash(name))
    }

    fn encode(self) -> String {
        match self {
            Topic::File(h) => format!("t{h:010x}"),
            Topic::Personal(h) => format!("p{h:010x}"),
        }
    }

    fn decode(s: &str) -> Option<Topic> {
        let hash = |hex: &str| {
            let ok = hex.len() == 10
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            ok.then(|| u64::from_str_radix(hex, 16).ok()).flatten()
        };
        match s.split_at_checked(1)? {
            ("t", hex) => hash(hex).map(Topic::File),
            ("p", hex) => hash(hex).map(Topic::Personal),
            _ => None,
        }
    }
}

/// The chat's personal rules, as `/settings` lists them: those of the whole chat (`chat`), none
/// inside a forum topic (a personal rule is delivered to the chat that owns it, so its mode is
/// the whole chat's setting).
#[derive(Debug, Clone, Copy)]
pub(super) struct Mine<'a> {
    pub chat: i64,
    pub rules: &'a [PersonalRule],
}

#[cfg(test)]
impl Mine<'_> {
    pub(super) fn none(chat: i64) -> Self {
        Mine { chat, rules: &[] }
    }
}

/// A topic's name as shown and the key of its mode in the subscription's `delivery`; `None`
/// when it is not this chat's any more (unsubscribed, moved by a reload, deleted).
fn resolve(
    topic: Topic,
    rules: &RuleSet,
    mine: Mine<'_>,
    sub: &Subscription,
) -> Option<(String, String)> {
    match topic {
        Topic::File(h) => rules
            .rules()
            .iter()
            .filter(|r| sub.rules.contains(&r.name))
            .find(|r| super::watch::name_hash(&r.name) == h)
            .map(|r| (r.name.clone(), r.name.clone())),
        Topic::Personal(h) => mine
            .rules
            .iter()
            .find(|r| super::watch::name_hash(&r.name) == h)
            .map(|r| {
                (
                    r.name.clone(),
                    crate::rules::personal::internal(mine.chat, &r.name),
                )
            }),
    }
}

/// One button of the settings message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tap {
    /// Back to the main screen: `c:m`.
    Main,
    /// Open a topic: `c:r:TOPIC` (TOPIC: [`Topic`]'s `IDX` or `pHASH`).
    Rule(Topic),
    /// Set a topic's mode: `c:d:TOPIC:CODE`, CODE `i` `h` `o` `dHHMM` `wDHHMM` (D: 0 = Monday).
    Mode(Topic, Delivery),
    /// The chat's time zone, an index into [`COMMON`]: `c:z:I`.
    Zone(usize),
    /// Quiet hours, an index into [`QUIET`]: `c:q:I`.
    Quiet(usize),
    /// Quiet-hours mode: `c:h:h` (hold) or `c:h:s` (silent).
    QuietMode(QuietMode),
    /// The chat's language: `c:l:en`, `c:l:ko`.
    Lang(Lang),
}

fn hhmm(t: NaiveTime) -> String {
    t.format("%H%M").to_string()
}

fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveTime::from_hms_opt(s[..2].parse().ok()?, s[2..].parse().ok()?, 0)
}

fn time(hm: Hm) -> NaiveTime {
    NaiveTime::from_hms_opt(hm.0, hm.1, 0).unwrap_or(NaiveTime::MIN)
}

impl Tap {
    pub(super) fn encode(&self) -> String {
        match self {
            Tap::Main => format!("{PREFIX}m"),
            Tap::Rule(i) => format!("{PREFIX}r:{}", i.encode()),
            Tap::Mode(i, mode) => {
                let code = match mode {
                    Delivery::Instant => "i".to_string(),
                    Delivery::Hourly => "h".to_string(),
                    Delivery::Off => "o".to_string(),
                    Delivery::Daily(t) => format!("d{}", hhmm(*t)),
                    Delivery::Weekly(d, t) => format!("w{}{}", d.num_days_from_monday(), hhmm(*t)),
                };
                format!("{PREFIX}d:{}:{code}", i.encode())
            }
            Tap::Zone(i) => format!("{PREFIX}z:{i}"),
            Tap::Quiet(i) => format!("{PREFIX}q:{i}"),
            Tap::QuietMode(QuietMode::Hold) => format!("{PREFIX}h:h"),
            Tap::QuietMode(QuietMode::Silent) => format!("{PREFIX}h:s"),
            Tap::Lang(l) => format!("{PREFIX}l:{}", l.code()),
        }
    }

    /// The tap a button's data stands for; `None` for anything else (not ours, or malformed).
    pub(super) fn decode(data: &str) -> Option<Tap> {
        let rest = data.strip_prefix(PREFIX)?;
        let mut parts = rest.split(':');
        let tag = parts.next()?;
        let a = parts.next();
        let b = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let idx = |s: Option<&str>| s?.parse::<usize>().ok();
        let tap = match (tag, a, b) {
            ("m", None, None) => Tap::Main,
            ("r", Some(topic), None) => Tap::Rule(Topic::decode(topic)?),
            ("d", Some(_), Some(code)) => {
                let mode = match code {
                    "i" => Delivery::Instant,
                    "h" => Delivery::Hourly,
                    "o" => Delivery::Off,
                    _ if code.starts_with('d') => Delivery::Daily(parse_hhmm(&code[1..])?),
                    _ if code.starts_with('w') && code.len() == 6 => {
                        let day = Weekday::try_from(code[1..2].parse::<u8>().ok()?).ok()?;
                        Delivery::Weekly(day, parse_hhmm(&code[2..])?)
                    }
                    _ => return None,
                };
                Tap::Mode(Topic::decode(a?)?, mode)
            }
            ("z", Some(_), None) => Tap::Zone(idx(a).filter(|&i| i < COMMON.len())?),
            ("q", Some(_), None) => Tap::Quiet(idx(a).filter(|&i| i < QUIET.len())?),
            ("h", Some("h"), None) => Tap::QuietMode(QuietMode::Hold),
            ("h", Some("s"), None) => Tap::QuietMode(QuietMode::Silent),
            ("l", Some(code), None) => Tap::Lang(Lang::parse(code)?),
            _ => return None,
        };
        Some(tap)
    }
}

/// Saves a change of the chat's settings: the subscription of `dest` (the forum topic the
/// change came from, else the whole chat) when `sub_changed`, the chat's preferences when
/// `prefs_changed`, and its pending digest items moved to the due times the new settings give
/// them (`deliver::route::pending_due`), so a new zone or mode applies to what already waits,
/// not only to what comes next. One store transaction (`Store::save_settings`).
pub(super) fn save(
    store: &crate::store::Store,
    dest: crate::deliver::Dest,
    (sub, sub_changed): (&Subscription, bool),
    (prefs, prefs_changed): (&ChatPrefs, bool),
    default_tz: Tz,
) -> Result<(), crate::store::StoreError> {
    let tz = zone_of(prefs, default_tz);
    let now = chrono::Utc::now();
    let moved = store.save_settings(
        dest,
        sub_changed.then_some(sub),
        prefs_changed.then_some(prefs),
        |r| crate::deliver::route::pending_due(r, sub, tz, prefs.quiet.as_ref(), now),
    )?;
    if moved > 0 {
        tracing::info!(
            chat = dest.chat,
            thread = dest.thread,
            moved,
            "pending digest items follow the chat's new settings"
        );
    }
    Ok(())
}

fn button(label: impl Into<String>, tap: Tap) -> InlineKeyboardButton {
    let data = tap.encode();
    debug_assert!(data.len() <= CALLBACK_DATA_MAX, "{data}");
    InlineKeyboardButton::callback(label, data)
}

fn mark(on: bool, label: &str) -> String {
    if on {
        format!("✅ {label}")
    } else {
        label.to_string()
    }
}

/// A rule's mode in this chat (instant unless the subscription names another).
pub(super) fn mode_of(sub: &Subscription, rule: &str) -> Delivery {
    sub.delivery.get(rule).copied().unwrap_or_default()
}

/// The chat's zone: its own, else the config's.
pub(super) fn zone_of(prefs: &ChatPrefs, default: Tz) -> Tz {
    prefs
        .tz
        .as_deref()
        .and_then(|n| n.parse::<Tz>().ok())
        .unwrap_or(default)
}

fn quiet_text(lang: Lang, q: Option<&Quiet>) -> String {
    match q {
        None => t(lang, "quiet-off", &[]),
        Some(q) => t(
            lang,
            "quiet-range",
            &[
                ("from", s(q.from.format("%H:%M").to_string())),
                ("to", s(q.to.format("%H:%M").to_string())),
                (
                    "mode",
                    s(t(
                        lang,
                        match q.mode {
                            QuietMode::Hold => "quiet-hold",
                            QuietMode::Silent => "quiet-silent",
                        },
                        &[],
                    )),
                ),
            ],
        ),
    }
}

/// A language's own name (`English`, `한국어`), the same whatever the chat's language.
/// A zone button's city in the chat's language (`city-seoul` = Seoul, 서울).
fn city(lang: Lang, label: &str) -> String {
    t(
        lang,
        &format!("city-{}", label.to_lowercase().replace(' ', "-")),
        &[],
    )
}

fn lang_name(l: Lang) -> String {
    t(
        l,
        match l {
            Lang::En => "lang-en",
            Lang::Ko => "lang-ko",
        },
        &[],
    )
}

/// The settings message on `screen`.
pub(super) fn view(
    lang: Lang,
    rules: &RuleSet,
    mine: Mine<'_>,
    sub: &Subscription,
    prefs: &ChatPrefs,
    default_tz: Tz,
    screen: Screen,
) -> Reply {
    match screen {
        Screen::Rule(topic) => match resolve(topic, rules, mine, sub) {
            Some((name, key)) => rule_view(lang, topic, &name, mode_of(sub, &key)),
            None => main_view(lang, rules, mine, sub, prefs, default_tz),
        },
        Screen::Main => main_view(lang, rules, mine, sub, prefs, default_tz),
    }
}

fn main_view(
    lang: Lang,
    rules: &RuleSet,
    mine: Mine<'_>,
    sub: &Subscription,
    prefs: &ChatPrefs,
    default_tz: Tz,
) -> Reply {
    let tz = zone_of(prefs, default_tz);
    let mut html = t(lang, "settings-head", &[]);
    html.push('\n');
    let mut rows: Vec<Vec<InlineKeyboardButton>> = Vec::new();
    let mut topic_buttons = Vec::new();
    // (topic, its name as shown, the key of its mode, paused)
    let file: Vec<(Topic, &str, String, bool)> = rules
        .rules()
        .iter()
        .filter(|r| sub.rules.contains(&r.name))
        .map(|r| {
            (
                Topic::of_file(&r.name),
                r.name.as_str(),
                r.name.clone(),
                false,
            )
        })
        .collect();
    let personal: Vec<(Topic, &str, String, bool)> = mine
        .rules
        .iter()
        .map(|r| {
            (
                Topic::Personal(super::watch::name_hash(&r.name)),
                r.name.as_str(),
                crate::rules::personal::internal(mine.chat, &r.name),
                r.paused,
            )
        })
        .collect();
    if file.is_empty() && personal.is_empty() {
        html.push_str(&format!("\n{}\n", t(lang, "settings-no-topics", &[])));
    }
    let mut listed = 0;
    for (head, list) in [
        ("settings-delivery", &file),
        ("settings-personal", &personal),
    ] {
        if list.is_empty() {
            continue;
        }
        html.push_str(&format!("\n{}\n", t(lang, head, &[])));
        for (topic, name, key, paused) in list {
            let mode = delivery(lang, mode_of(sub, key));
            let paused = if *paused {
                format!(" {}", t(lang, "rules-paused", &[]))
            } else {
                String::new()
            };
            html.push_str(&format!(
                "• <b>{}</b>{paused} — {}\n",
                render::escape(name),
                render::escape(&mode)
            ));
            if topic_buttons.len() < MAX_RULE_BUTTONS {
                topic_buttons.push(button(
                    trim_chars(&format!("{name}: {mode}"), 40),
                    Tap::Rule(*topic),
                ));
            }
            listed += 1;
        }
    }
    if listed > MAX_RULE_BUTTONS {
        html.push_str(&t(
            lang,
            "settings-first-buttons",
            &[("n", n(MAX_RULE_BUTTONS))],
        ));
        html.push('\n');
    }
    rows.extend(topic_buttons.chunks(2).map(<[_]>::to_vec));
    let zone = [("zone", s(render::escape(tz.name())))];
    html.push_str(&format!(
        "\n{}\n{}\n",
        if prefs.tz.is_none() {
            t(lang, "settings-zone-default", &zone)
        } else {
            t(lang, "settings-zone", &zone)
        },
        t(lang, "settings-zone-hint", &[])
    ));
    let zones: Vec<InlineKeyboardButton> = COMMON
        .iter()
        .enumerate()
        .map(|(i, (label, z))| button(mark(*z == tz, &city(lang, label)), Tap::Zone(i)))
        .collect();
    rows.extend(zones.chunks(4).map(<[_]>::to_vec));
    html.push('\n');
    html.push_str(&t(
        lang,
        "settings-quiet",
        &[(
            "quiet",
            s(render::escape(&quiet_text(lang, prefs.quiet.as_ref()))),
        )],
    ));
    let current = prefs.quiet.map(|q| (q.from, q.to));
    let quiet: Vec<InlineKeyboardButton> = QUIET
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (label, on) = match p {
                None => (t(lang, "quiet-off", &[]), current.is_none()),
                Some((f, t)) => (
                    format!("{}–{}", time(*f).format("%H:%M"), time(*t).format("%H:%M")),
                    current == Some((time(*f), time(*t))),
                ),
            };
            button(mark(on, &label), Tap::Quiet(i))
        })
        .collect();
    rows.push(quiet);
    if let Some(q) = prefs.quiet {
        rows.push(vec![
            button(
                mark(q.mode == QuietMode::Hold, &t(lang, "button-hold", &[])),
                Tap::QuietMode(QuietMode::Hold),
            ),
            button(
                mark(q.mode == QuietMode::Silent, &t(lang, "button-silent", &[])),
                Tap::QuietMode(QuietMode::Silent),
            ),
        ]);
    }
    html.push_str("\n\n");
    html.push_str(&t(
        lang,
        "settings-language",
        &[("lang", s(lang_name(lang)))],
    ));
    // Korean first: most of kkachi's readers are Korean.
    rows.push(
        [Lang::Ko, Lang::En]
            .into_iter()
            .map(|l| button(mark(prefs.lang == Some(l), &lang_name(l)), Tap::Lang(l)))
            .collect(),
    );
    Reply {
        html,
        keyboard: Some(InlineKeyboardMarkup::new(rows)),
    }
}

fn rule_view(lang: Lang, i: Topic, name: &str, mode: Delivery) -> Reply {
    let html = t(
        lang,
        "settings-rule",
        &[
            ("name", s(render::escape(name))),
            ("mode", s(render::escape(&delivery(lang, mode)))),
        ],
    );
    let label = |id: &str| t(lang, id, &[]);
    let at = match mode {
        Delivery::Daily(t) | Delivery::Weekly(_, t) => t,
        _ => time(DEFAULT_TIME),
    };
    let day = match mode {
        Delivery::Weekly(d, _) => d,
        _ => Weekday::Mon,
    };
    let mut rows = vec![
        vec![
            button(
                mark(mode == Delivery::Instant, &label("mode-instant")),
                Tap::Mode(i, Delivery::Instant),
            ),
            button(
                mark(mode == Delivery::Hourly, &label("mode-hourly")),
                Tap::Mode(i, Delivery::Hourly),
            ),
            button(
                mark(matches!(mode, Delivery::Daily(_)), &label("button-daily")),
                Tap::Mode(i, Delivery::Daily(at)),
            ),
        ],
        vec![
            button(
                mark(
                    matches!(mode, Delivery::Weekly(..)),
                    &label("button-weekly"),
                ),
                Tap::Mode(i, Delivery::Weekly(day, at)),
            ),
            button(
                mark(mode == Delivery::Off, &label("mode-off")),
                Tap::Mode(i, Delivery::Off),
            ),
        ],
    ];
    if let Delivery::Daily(t) | Delivery::Weekly(_, t) = mode {
        let times: Vec<InlineKeyboardButton> = TIMES
            .iter()
            .map(|&hm| {
                let choice = time(hm);
                let new = match mode {
                    Delivery::Weekly(d, _) => Delivery::Weekly(d, choice),
                    _ => Delivery::Daily(choice),
                };
                button(
                    mark(choice == t, &choice.format("%H:%M").to_string()),
                    Tap::Mode(i, new),
                )
            })
            .collect();
        rows.extend(times.chunks(3).map(<[_]>::to_vec));
    }
    if let Delivery::Weekly(d, t) = mode {
        let days: Vec<InlineKeyboardButton> = DAYS
            .iter()
            .map(|&choice| {
                button(
                    mark(choice == d, &weekday(lang, choice)),
                    Tap::Mode(i, Delivery::Weekly(choice, t)),
                )
            })
            .collect();
        rows.extend(days.chunks(4).map(<[_]>::to_vec));
    }
    rows.push(vec![button(label("settings-back"), Tap::Main)]);
    Reply {
        html,
        keyboard: Some(InlineKeyboardMarkup::new(rows)),
    }
}

/// Applies a tap to a chat's subscription and preferences: the answer to show (the callback
/// answer's text, in `lang`, or in the new language after a language tap) and the screen to
/// show next. Pure.
pub(super) fn apply(
    lang: Lang,
    tap: Tap,
    rules: &RuleSet,
    mine: Mine<'_>,
    sub: &mut Subscription,
    prefs: &mut ChatPrefs,
) -> (String, Screen) {
    let gone = |topic: Topic| match topic {
        Topic::File(_) => t(lang, "tap-not-subscribed", &[]),
        Topic::Personal(_) => t(lang, "rules-gone-answer", &[]),
    };
    match tap {
        Tap::Main => (String::new(), Screen::Main),
        Tap::Rule(topic) => match resolve(topic, rules, mine, sub) {
            Some(_) => (String::new(), Screen::Rule(topic)),
            None => (gone(topic), Screen::Main),
        },
        Tap::Mode(topic, mode) => match resolve(topic, rules, mine, sub) {
            Some((name, key)) => {
                if mode == Delivery::Instant {
                    sub.delivery.remove(&key);
                } else {
                    sub.delivery.insert(key, mode);
                }
                (
                    t(
                        lang,
                        "tap-mode",
                        &[("name", s(name)), ("mode", s(delivery(lang, mode)))],
                    ),
                    Screen::Rule(topic),
                )
            }
            None => (gone(topic), Screen::Main),
        },
        Tap::Zone(i) => {
            let (_, tz) = COMMON[i.min(COMMON.len() - 1)];
            prefs.tz = Some(tz.name().to_string());
            (t(lang, "tap-zone", &[("zone", s(tz.name()))]), Screen::Main)
        }
        Tap::Quiet(i) => {
            let mode = prefs.quiet.map_or(QuietMode::Hold, |q| q.mode);
            prefs.quiet = QUIET.get(i).copied().flatten().map(|(f, t)| Quiet {
                from: time(f),
                to: time(t),
                mode,
            });
            (
                t(
                    lang,
                    "tap-quiet",
                    &[("quiet", s(quiet_text(lang, prefs.quiet.as_ref())))],
                ),
                Screen::Main,
            )
        }
        Tap::QuietMode(mode) => match prefs.quiet.as_mut() {
            Some(q) => {
                q.mode = mode;
                (
                    t(
                        lang,
                        "tap-quiet",
                        &[("quiet", s(quiet_text(lang, Some(q))))],
                    ),
                    Screen::Main,
                )
            }
            None => (t(lang, "tap-quiet-off", &[]), Screen::Main),
        },
        Tap::Lang(l) => {
            prefs.lang = Some(l);
            (t(l, "tap-language", &[]), Screen::Main)
        }
    }
}

/// `/settings tz NAME`: sets the chat's zone; the resolver's error text (escaped) on a bad
/// name. `Ok` carries the confirmation.
pub(super) fn set_zone(lang: Lang, prefs: &mut ChatPrefs, name: &str) -> Result<String, String> {
    match crate::digest::zone::resolve(name) {
        Ok(tz) => {
            prefs.tz = Some(tz.name().to_string());
            Ok(t(
                lang,
                "zone-set",
                &[("zone", s(render::escape(tz.name())))],
            ))
        }
        Err(e) => Err(t(
            lang,
            "zone-bad",
            &[("error", s(render::escape(&e.to_string())))],
        )),
    }
}

#[cfg(test)]
mod tests {
    use teloxide::types::InlineKeyboardButtonKind;

    use super::*;
    use crate::telegram::bot::testing::{RULES, rules};

    /// A screen of a chat with no personal rules, in Seoul.
    fn show(
        lang: Lang,
        rules: &RuleSet,
        sub: &Subscription,
        prefs: &ChatPrefs,
        screen: Screen,
    ) -> Reply {
        view(
            lang,
            rules,
            Mine::none(7),
            sub,
            prefs,
            Tz::Asia__Seoul,
            screen,
        )
    }

    fn datas(reply: &Reply) -> Vec<String> {
        reply
            .keyboard
            .as_ref()
            .expect("keyboard")
            .inline_keyboard
            .iter()
            .flatten()
            .map(|b| match &b.kind {
                InlineKeyboardButtonKind::CallbackData(d) => d.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn every_tap_round_trips_within_64_bytes() {
        let mut taps = vec![
            Tap::Main,
            Tap::Rule(Topic::File(0xff_ffff_ffff)),
            Tap::QuietMode(QuietMode::Hold),
            Tap::QuietMode(QuietMode::Silent),
            Tap::Lang(Lang::En),
            Tap::Lang(Lang::Ko),
        ];
        taps.extend((0..COMMON.len()).map(Tap::Zone));
        taps.extend((0..QUIET.len()).map(Tap::Quiet));
        for mode in [Delivery::Instant, Delivery::Hourly, Delivery::Off] {
            taps.push(Tap::Mode(Topic::File(0xff_ffff_ffff), mode));
        }
        for &hm in TIMES {
            taps.push(Tap::Mode(Topic::File(7), Delivery::Daily(time(hm))));
            for d in DAYS {
                taps.push(Tap::Mode(
                    Topic::File(0xff_ffff_ffff),
                    Delivery::Weekly(d, time(hm)),
                ));
            }
        }
        for tap in taps {
            let data = tap.encode();
            assert!(data.len() <= CALLBACK_DATA_MAX, "{data}");
            assert_eq!(Tap::decode(&data), Some(tap), "{data}");
        }
        assert_eq!(
            Tap::Mode(
                Topic::File(3),
                Delivery::Weekly(Weekday::Wed, time((18, 0)))
            )
            .encode(),
            "c:d:t0000000003:w21800"
        );
        for bad in [
            "c:",
            "c:x",
            "c:m:1",
            "c:r:",
            "c:r:a",
            "c:d:1",
            "c:d:1:w7",
            "c:d:1:w71800",
            "c:d:1:d2500",
            "c:z:99",
            "c:q:4",
            "c:h:x",
            "s:ai",
            "c:d:1:i:2",
            "c:l:kr",
            "c:l:",
        ] {
            assert_eq!(Tap::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_button_of_every_screen_decodes_and_fits() {
        let rules = rules(RULES);
        let mut sub = Subscription {
            rules: ["ai".to_string(), "chips".to_string()].into(),
            ..Default::default()
        };
        let mut prefs = ChatPrefs::default();
        let mut screens = vec![show(Lang::En, &rules, &sub, &prefs, Screen::Main)];
        for mode in [
            Delivery::Instant,
            Delivery::Daily(time((9, 0))),
            Delivery::Weekly(Weekday::Sun, time((21, 0))),
        ] {
            let (answer, screen) = apply(
                Lang::En,
                Tap::Mode(Topic::of_file("chips"), mode),
                &rules,
                Mine::none(7),
                &mut sub,
                &mut prefs,
            );
            assert_eq!(answer, format!("chips: {mode}"));
            screens.push(show(Lang::En, &rules, &sub, &prefs, screen));
        }
        let weekly = datas(screens.last().expect("screen"));
        // modes 5, times 6, days 7, back 1.
        assert_eq!(weekly.len(), 19, "{weekly:?}");
        let chips = Topic::of_file("chips").encode();
        assert!(
            weekly.contains(&format!("c:d:{chips}:w60700")),
            "{weekly:?}"
        );
        for s in &screens {
            for d in datas(s) {
                assert!(
                    d.len() <= CALLBACK_DATA_MAX && Tap::decode(&d).is_some(),
                    "{d}"
                );
            }
        }
        let main = show(Lang::En, &rules, &sub, &prefs, Screen::Main);
        assert!(
            main.html.contains("• <b>chips</b> — weekly sun 21:00"),
            "{}",
            main.html
        );
        assert!(main.html.contains("Asia/Seoul (kkachi's default)"));
    }

    #[test]
    fn taps_change_modes_zone_and_quiet_hours() {
        let rules = rules(RULES);
        let mut sub = Subscription {
            rules: ["ai".to_string()].into(),
            ..Default::default()
        };
        let mut prefs = ChatPrefs::default();
        let (_, screen) = apply(
            Lang::En,
            Tap::Rule(Topic::of_file("ai")),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!(screen, Screen::Rule(Topic::of_file("ai")));
        apply(
            Lang::En,
            Tap::Mode(Topic::of_file("ai"), Delivery::Hourly),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!(mode_of(&sub, "ai"), Delivery::Hourly);
        apply(
            Lang::En,
            Tap::Mode(Topic::of_file("ai"), Delivery::Instant),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert!(sub.delivery.is_empty(), "instant removes the entry");
        // chips is not subscribed: nothing changes.
        let (answer, screen) = apply(
            Lang::En,
            Tap::Mode(Topic::of_file("chips"), Delivery::Off),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert!(
            sub.delivery.is_empty() && screen == Screen::Main,
            "{answer}"
        );

        apply(
            Lang::En,
            Tap::Zone(5),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!(prefs.tz.as_deref(), Some("Europe/Berlin"));
        apply(
            Lang::En,
            Tap::QuietMode(QuietMode::Silent),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!(prefs.quiet, None);
        apply(
            Lang::En,
            Tap::Quiet(1),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        apply(
            Lang::En,
            Tap::QuietMode(QuietMode::Silent),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        let (answer, _) = apply(
            Lang::En,
            Tap::Quiet(3),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!(
            prefs.quiet,
            Some(Quiet {
                from: time((0, 0)),
                to: time((6, 0)),
                mode: QuietMode::Silent
            })
        );
        assert!(
            answer.starts_with("Quiet hours: 00:00–06:00, silent"),
            "{answer}"
        );
        apply(
            Lang::En,
            Tap::Quiet(0),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!(prefs.quiet, None);

        assert_eq!(
            set_zone(Lang::En, &mut prefs, "Asia/Tokyo").as_deref(),
            Ok("Time zone set to <b>Asia/Tokyo</b>.")
        );
        let err = set_zone(Lang::En, &mut prefs, "Atlantis<b>").expect_err("bad zone");
        assert!(err.contains("unknown time zone"), "{err}");
        assert!(!err.contains("<b>\""), "escaped: {err}");
        assert_eq!(prefs.tz.as_deref(), Some("Asia/Tokyo"));

        // The language row: a tap stores the choice and answers in the new language.
        let (answer, screen) = apply(
            Lang::En,
            Tap::Lang(Lang::Ko),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!((answer.as_str(), screen), ("언어: 한국어", Screen::Main));
        assert_eq!(prefs.lang, Some(Lang::Ko));
        let main = show(Lang::Ko, &rules, &sub, &prefs, Screen::Main);
        assert!(main.html.starts_with("<b>설정</b>"), "{}", main.html);
        assert!(main.html.contains("<b>언어</b>: 한국어"), "{}", main.html);
        assert!(datas(&main).contains(&"c:l:en".to_string()));
        // The zone buttons name their cities in the chat's language too.
        let labels: Vec<String> = main
            .keyboard
            .as_ref()
            .expect("buttons")
            .inline_keyboard
            .iter()
            .flatten()
            .map(|b| b.text.clone())
            .collect();
        assert!(labels.iter().any(|l| l == "서울"), "{labels:?}");
        assert!(labels.iter().any(|l| l.contains("도쿄")), "{labels:?}");
        assert!(!labels.iter().any(|l| l.contains("Tokyo")), "{labels:?}");
        let rule = show(
            Lang::Ko,
            &rules,
            &sub,
            &prefs,
            Screen::Rule(Topic::of_file("ai")),
        );
        assert!(
            rule.html.contains("전달 방식: <b>즉시</b>"),
            "{}",
            rule.html
        );
    }

    #[test]
    fn personal_rules_get_their_own_mode_buttons() {
        let rules = rules(RULES);
        let own = [
            PersonalRule {
                name: "딥시크".to_string(),
                query: "DeepSeek".to_string(),
                paused: false,
                created: chrono::Utc::now(),
            },
            PersonalRule {
                name: "chips".to_string(),
                query: "TSMC".to_string(),
                paused: true,
                created: chrono::Utc::now(),
            },
        ];
        let mine = Mine {
            chat: 7,
            rules: &own,
        };
        // No rules-file topic, two personal rules: both listed, each with a button.
        let mut sub = Subscription::default();
        let mut prefs = ChatPrefs::default();
        let main = view(
            Lang::En,
            &rules,
            mine,
            &sub,
            &prefs,
            Tz::Asia__Seoul,
            Screen::Main,
        );
        assert!(main.html.contains("<b>Your rules</b>"), "{}", main.html);
        assert!(!main.html.contains("no topics"), "{}", main.html);
        assert!(
            main.html.contains("• <b>딥시크</b> — instant"),
            "{}",
            main.html
        );
        assert!(
            main.html.contains("• <b>chips</b> (paused) — instant"),
            "{}",
            main.html
        );
        let code = format!("c:r:p{:010x}", super::super::watch::name_hash("딥시크"));
        assert!(datas(&main).contains(&code), "{:?}", datas(&main));

        // A daily mode for the personal rule lands under its internal name, where routing
        // reads it; the file topic of the same display name is untouched.
        let topic = Topic::Personal(super::super::watch::name_hash("딥시크"));
        let (_, screen) = apply(
            Lang::En,
            Tap::Rule(topic),
            &rules,
            mine,
            &mut sub,
            &mut prefs,
        );
        assert_eq!(screen, Screen::Rule(topic));
        let daily = Delivery::Daily(time((8, 0)));
        let (answer, screen) = apply(
            Lang::En,
            Tap::Mode(topic, daily),
            &rules,
            mine,
            &mut sub,
            &mut prefs,
        );
        assert_eq!(answer, "딥시크: daily 08:00");
        assert_eq!(screen, Screen::Rule(topic));
        assert_eq!(sub.delivery.get("@7/딥시크"), Some(&daily));
        let rule = view(
            Lang::En,
            &rules,
            mine,
            &sub,
            &prefs,
            Tz::Asia__Seoul,
            screen,
        );
        for d in datas(&rule) {
            assert!(d.len() <= CALLBACK_DATA_MAX, "{d}");
            assert_eq!(Tap::decode(&d).map(|t| t.encode()), Some(d.clone()), "{d}");
        }
        apply(
            Lang::En,
            Tap::Mode(topic, Delivery::Instant),
            &rules,
            mine,
            &mut sub,
            &mut prefs,
        );
        assert!(sub.delivery.is_empty(), "instant removes the entry");

        // A deleted rule's button, or one of another chat's rule, changes nothing.
        let gone = Topic::Personal(super::super::watch::name_hash("gone"));
        let (answer, screen) = apply(
            Lang::En,
            Tap::Mode(gone, Delivery::Off),
            &rules,
            mine,
            &mut sub,
            &mut prefs,
        );
        assert_eq!(
            (answer.as_str(), screen),
            ("That rule is gone", Screen::Main)
        );
        assert!(sub.delivery.is_empty());
        let (_, screen) = apply(
            Lang::En,
            Tap::Mode(topic, Delivery::Off),
            &rules,
            Mine::none(7),
            &mut sub,
            &mut prefs,
        );
        assert_eq!(screen, Screen::Main);
        assert!(sub.delivery.is_empty());
        for bad in [
            "c:r:p",
            "c:r:p12345",
            "c:r:pABCDEF0123",
            "c:r:p0123456789a",
            "c:d:pzz:i",
        ] {
            assert_eq!(Tap::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_button_keeps_naming_its_topic_after_a_reload_reorders_the_rules() {
        let before = rules(RULES);
        let mut sub = Subscription {
            rules: ["ai".to_string(), "chips".to_string()].into(),
            ..Default::default()
        };
        let mut prefs = ChatPrefs::default();
        let main = show(Lang::En, &before, &sub, &prefs, Screen::Main);
        let open = format!("c:r:{}", Topic::of_file("chips").encode());
        assert!(datas(&main).contains(&open), "{:?}", datas(&main));
        let names: Vec<&str> = before.rules().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(&names[..2], ["ai", "chips"]);
        // The reload puts chips first and adds a rule before ai.
        let after = rules(
            "[[rules]]\nname = \"chips\"\nquery = \"반도체\"\n\
             [[rules]]\nname = \"new\"\nquery = \"NEW\"\n\
             [[rules]]\nname = \"ai\"\nquery = \"AI\"\n",
        );
        let tap = Tap::decode(&format!("c:d:{}:h", Topic::of_file("chips").encode())).expect("tap");
        let (answer, _) = apply(Lang::En, tap, &after, Mine::none(7), &mut sub, &mut prefs);
        assert_eq!(answer, "chips: hourly");
        assert_eq!(mode_of(&sub, "chips"), Delivery::Hourly);
        assert_eq!(mode_of(&sub, "ai"), Delivery::Instant);
        // A topic that left the rules: refused, nothing changes.
        let gone = rules("[[rules]]\nname = \"ai\"\nquery = \"AI\"\n");
        let tap = Tap::decode(&format!("c:d:{}:o", Topic::of_file("chips").encode())).expect("tap");
        let (answer, screen) = apply(Lang::En, tap, &gone, Mine::none(7), &mut sub, &mut prefs);
        assert_eq!(screen, Screen::Main, "{answer}");
        assert_eq!(mode_of(&sub, "chips"), Delivery::Hourly);
    }
}
