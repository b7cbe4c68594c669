//! Routing: which chats get an alert, with which of their rules, and how: now (an outbox
//! entry), in a digest (a pending item due at the chat's next digest time), held for the end of
//! the chat's quiet hours (a catch-up item), or silently. Pure policy over the rules file's
//! static `chats = [..]`, the stored subscriptions and the chats' preferences: no IO, no
//! teloxide, no clock (the caller passes `now`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Alert, RuleHit};
use crate::digest::schedule::{Delivery, QuietMode, next_due};
use crate::digest::{Item, Kind};
use crate::rules::RuleSet;
use crate::store::outbox::{ChatPrefs, OutboxEntry, Subscription};
use crate::store::{Pending, Queued};
use crate::story::Key;

/// What routing knows about the chats, beside the rules.
#[derive(Debug, Clone, Copy)]
pub struct Chats<'a> {
    pub subs: &'a BTreeMap<i64, Subscription>,
    pub prefs: &'a BTreeMap<i64, ChatPrefs>,
    /// The zone of a chat without one of its own (`[schedule] timezone`).
    pub timezone: Tz,
}

impl Chats<'_> {
    /// A chat's zone: its own (a valid IANA name), else the config's.
    pub fn tz(&self, chat: i64) -> Tz {
        match self.prefs.get(&chat).and_then(|p| p.tz.as_deref()) {
            None => self.timezone,
            Some(name) => name.parse().unwrap_or_else(|_| {
                // Only `/settings` writes it, validated; a record from elsewhere is said.
                tracing::warn!(
                    chat,
                    tz = name,
                    fallback = %self.timezone,
                    "a chat's stored time zone is not an IANA name; using [schedule] timezone"
                );
                self.timezone
            }),
        }
    }
}

/// When a chat's pending item is due now that the chat changed its settings (`sub`, its zone
/// `tz`, `quiet`): a catch-up at the end of its quiet hours (now, when they are off or silent);
/// a digest item at the next due time of its first rule the chat subscribes (now, when that
/// rule became instant or off, so nothing waits for a digest that will not come); `None` (keep
/// its time) for an item of a static route.
pub fn pending_due(
    record: &crate::store::digest::PendingRecord,
    sub: &Subscription,
    tz: Tz,
    quiet: Option<&crate::digest::schedule::Quiet>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if record.kind == Kind::CatchUp {
        return Some(match quiet {
            Some(q) if q.mode == QuietMode::Hold && q.contains(tz, now) => {
                q.end_after(tz, now).unwrap_or(now)
            }
            _ => now,
        });
    }
    let rule = record
        .item
        .alert
        .rules
        .iter()
        .find(|h| sub.rules.contains(&h.rule))?;
    match sub.delivery.get(&rule.rule) {
        Some(mode @ (Delivery::Hourly | Delivery::Daily(_) | Delivery::Weekly(..))) => {
            next_due(mode, tz, now)
        }
        _ => Some(now),
    }
}

/// Which chats get an alert, with which of their rules, and how: static routing (`chats =
/// [..]` in `rules.toml`, each chat instant or with its `delivery`) plus active subscriptions
/// (each rule's mode from the subscription's `delivery`, instant when absent; it wins over a
/// static mode for the same chat). Per chat, the instant rules make one outbox entry (held as
/// a catch-up item inside quiet hours in mode hold, `silent` in mode silent), and each digest
/// mode one pending item due at its next due time in the chat's zone; `off` makes nothing.
/// Each carries the alert with that chat's rules of that mode only. A chat whose subscription
/// is paused or ended gets nothing. `key` is the story's GUID dedup key.
pub fn route(
    alert: &Alert,
    key: &Key,
    rules: &RuleSet,
    chats: &Chats<'_>,
    now: DateTime<Utc>,
) -> Queued {
    // chat → [(mode, hits)], modes in first-seen order.
    let mut per_chat: BTreeMap<i64, Vec<(Delivery, Vec<RuleHit>)>> = BTreeMap::new();
    for hit in &alert.rules {
        let mut modes: BTreeMap<i64, Delivery> = BTreeMap::new();
        for r in rules.rules().iter().filter(|r| r.name == hit.rule) {
            for chat in &r.chats {
                modes.insert(*chat, r.delivery.get(chat).copied().unwrap_or_default());
            }
        }
        for (chat, sub) in chats
            .subs
            .iter()
            .filter(|(_, s)| s.rules.contains(&hit.rule))
        {
            modes.insert(
                *chat,
                sub.delivery.get(&hit.rule).copied().unwrap_or_default(),
            );
        }
        for (chat, mode) in modes {
            if chats.subs.get(&chat).is_none_or(Subscription::active) {
                let groups = per_chat.entry(chat).or_default();
                match groups.iter_mut().find(|(m, _)| *m == mode) {
                    Some((_, hits)) => hits.push(hit.clone()),
                    None => groups.push((mode, vec![hit.clone()])),
                }
            }
        }
    }
    let mut out = Queued::default();
    for (chat, groups) in per_chat {
        let tz = chats.tz(chat);
        for (mode, hits) in groups {
            let alert = Alert {
                rules: hits,
                ..alert.clone()
            };
            let pending = |due, kind| Pending {
                chat,
                due,
                kind,
                item: Item {
                    alert: alert.clone(),
                    at: now,
                },
            };
            match (mode, mode.kind()) {
                (Delivery::Off, _) => {}
                (_, Some(kind)) => {
                    if let Some(due) = next_due(&mode, tz, now) {
                        out.pending.push(pending(due, kind));
                    }
                }
                (_, None) => {
                    let quiet = chats
                        .prefs
                        .get(&chat)
                        .and_then(|p| p.quiet)
                        .filter(|q| q.contains(tz, now));
                    match quiet {
                        Some(q) if q.mode == QuietMode::Hold => {
                            if let Some(end) = q.end_after(tz, now) {
                                out.pending.push(pending(end, Kind::CatchUp));
                            }
                        }
                        quiet => {
                            let mut e = OutboxEntry::alert(chat, key, alert.clone(), now);
                            e.silent = quiet.is_some();
                            out.entries.push(e);
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_chat_static_and_subscribed_paused_skipped() {
        let src = "[[rules]]\nname = \"ai\"\nquery = \"AI\"\nchats = [-100777, 1]\n\
                   [[rules]]\nname = \"chips\"\nquery = \"반도체\"\n";
        let rules = crate::rules::load(src, std::path::Path::new("rules.toml"))
            .expect("rules")
            .rules;
        let story = crate::story::test_story("f", "1", "AI 반도체", "https://e.com/1");
        let matches = rules.match_doc(&crate::pipeline::doc(&story));
        assert_eq!(matches.len(), 2);
        let sub = |rules: &[&str], paused: bool| Subscription {
            rules: rules.iter().map(|r| r.to_string()).collect(),
            paused,
            ..Default::default()
        };
        let subs: BTreeMap<i64, Subscription> = [
            (1, sub(&["ai", "chips"], false)),
            (2, sub(&["chips"], false)),
            (3, sub(&["ai"], true)),
            (4, sub(&["gone"], false)),
        ]
        .into();
        let key = crate::story::dedup_keys(&story).guid;
        let alert = Alert::matched(&story, &matches, story.summary.clone());
        let prefs = BTreeMap::new();
        let chats = Chats {
            subs: &subs,
            prefs: &prefs,
            timezone: Tz::Asia__Seoul,
        };
        let queued = route(&alert, &key, &rules, &chats, Utc::now());
        assert!(queued.pending.is_empty(), "every chat is instant");
        let entries = queued.entries;
        let got: Vec<(i64, Vec<&str>)> = entries
            .iter()
            .map(|e| match &e.body {
                crate::store::outbox::Body::Alert(a) => {
                    (e.chat, a.rules.iter().map(|h| h.rule.as_str()).collect())
                }
                _ => (e.chat, vec![]),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (-100777, vec!["ai"]),
                (1, vec!["ai", "chips"]),
                (2, vec!["chips"])
            ]
        );
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn pending_items_follow_a_new_zone_mode_or_quiet_hours() {
        use crate::digest::schedule::Quiet;
        use crate::store::digest::PendingRecord;
        let story = crate::story::test_story("f", "1", "AI", "https://e.com/1");
        let hit = |rule: &str| RuleHit {
            rule: rule.into(),
            matched: vec![],
            via: vec![],
        };
        let record = |kind, rules: &[&str]| PendingRecord {
            kind,
            item: Item {
                alert: Alert::new(&story, rules.iter().map(|r| hit(r)).collect()),
                at: Utc::now(),
            },
        };
        let mut sub = Subscription {
            rules: ["ai".to_string(), "chips".to_string()].into(),
            ..Subscription::default()
        };
        sub.delivery
            .insert("ai".into(), "daily 09:00".parse().expect("mode"));
        let now = "2026-12-01T12:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("now");
        let berlin = chrono_tz::Europe::Berlin;
        // daily 09:00 in Berlin (winter: UTC+1) after 12:00 UTC: tomorrow 08:00 UTC.
        assert_eq!(
            pending_due(&record(Kind::Daily, &["ai"]), &sub, berlin, None, now),
            Some("2026-12-02T08:00:00Z".parse().expect("due"))
        );
        // A rule the chat made instant (no entry): now. A static route's rule: kept.
        assert_eq!(
            pending_due(&record(Kind::Daily, &["chips"]), &sub, berlin, None, now),
            Some(now)
        );
        assert_eq!(
            pending_due(&record(Kind::Daily, &["static"]), &sub, berlin, None, now),
            None
        );
        // A catch-up: the end of quiet hours if still inside them, else now.
        let quiet = Quiet {
            from: chrono::NaiveTime::from_hms_opt(12, 0, 0).expect("t"),
            to: chrono::NaiveTime::from_hms_opt(15, 0, 0).expect("t"),
            mode: QuietMode::Hold,
        };
        assert_eq!(
            pending_due(
                &record(Kind::CatchUp, &["ai"]),
                &sub,
                berlin,
                Some(&quiet),
                now
            ),
            Some("2026-12-01T14:00:00Z".parse().expect("end"))
        );
        assert_eq!(
            pending_due(&record(Kind::CatchUp, &["ai"]), &sub, berlin, None, now),
            Some(now)
        );
    }

    #[test]
    fn digest_modes_quiet_hours_and_off_per_chat_and_rule() {
        use crate::digest::schedule::Quiet;
        let src = "[[rules]]\nname = \"ai\"\nquery = \"AI\"\n\
                   chats = [-100, { id = -200, delivery = \"daily 09:00\" }]\n\
                   [[rules]]\nname = \"chips\"\nquery = \"반도체\"\n";
        let rules = crate::rules::load(src, std::path::Path::new("rules.toml"))
            .expect("rules")
            .rules;
        let story = crate::story::test_story("f", "1", "AI 반도체", "https://e.com/1");
        let matches = rules.match_doc(&crate::pipeline::doc(&story));
        let alert = Alert::matched(&story, &matches, String::new());
        let key = crate::story::dedup_keys(&story).guid;
        let sub = |modes: &[(&str, &str)]| Subscription {
            rules: modes.iter().map(|(r, _)| r.to_string()).collect(),
            delivery: modes
                .iter()
                .filter(|(_, m)| !m.is_empty())
                .map(|(r, m)| (r.to_string(), m.parse().expect("mode")))
                .collect(),
            ..Default::default()
        };
        let subs: BTreeMap<i64, Subscription> = [
            // ai hourly, chips instant: one entry and one pending item.
            (1, sub(&[("ai", "hourly"), ("chips", "")])),
            // Both off: nothing.
            (2, sub(&[("ai", "off"), ("chips", "off")])),
            // Instant, in quiet hours (hold): a catch-up item at 07:00 in its zone.
            (3, sub(&[("ai", "")])),
            // Instant, in quiet hours (silent): sent now, silently.
            (4, sub(&[("chips", "")])),
            // Static -100 instant, but the chat's own subscription says weekly.
            (-100, sub(&[("ai", "weekly mon 09:00")])),
        ]
        .into();
        let quiet = |mode| ChatPrefs {
            tz: Some("Europe/Berlin".into()),
            quiet: Some(Quiet {
                from: chrono::NaiveTime::from_hms_opt(23, 0, 0).expect("t"),
                to: chrono::NaiveTime::from_hms_opt(7, 0, 0).expect("t"),
                mode,
            }),
        };
        let prefs: BTreeMap<i64, ChatPrefs> =
            [(3, quiet(QuietMode::Hold)), (4, quiet(QuietMode::Silent))].into();
        let chats = Chats {
            subs: &subs,
            prefs: &prefs,
            timezone: Tz::Asia__Seoul,
        };
        // Tuesday 2026-12-01 23:30 UTC: 00:30 in Berlin (quiet), 08:30 in Seoul.
        let now = at("2026-12-01T23:30:00Z");
        let q = route(&alert, &key, &rules, &chats, now);
        let entries: Vec<(i64, bool, Vec<&str>)> = q
            .entries
            .iter()
            .map(|e| match &e.body {
                crate::store::outbox::Body::Alert(a) => (
                    e.chat,
                    e.silent,
                    a.rules.iter().map(|h| h.rule.as_str()).collect(),
                ),
                _ => (e.chat, e.silent, vec![]),
            })
            .collect();
        assert_eq!(
            entries,
            vec![(1, false, vec!["chips"]), (4, true, vec!["chips"])]
        );
        let pending: Vec<(i64, DateTime<Utc>, Kind, Vec<&str>)> = q
            .pending
            .iter()
            .map(|p| {
                (
                    p.chat,
                    p.due,
                    p.kind,
                    p.item.alert.rules.iter().map(|h| h.rule.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            pending,
            vec![
                // Static daily 09:00 in Seoul: 00:00 UTC the next day.
                (-200, at("2026-12-02T00:00:00Z"), Kind::Daily, vec!["ai"]),
                // Weekly mon 09:00 Seoul: Monday 2026-12-07 00:00 UTC.
                (-100, at("2026-12-07T00:00:00Z"), Kind::Weekly, vec!["ai"]),
                (1, at("2026-12-02T00:00:00Z"), Kind::Hourly, vec!["ai"]),
                // 07:00 in Berlin (CET) is 06:00 UTC.
                (3, at("2026-12-02T06:00:00Z"), Kind::CatchUp, vec!["ai"]),
            ]
        );
    }
}
