//! Routing: which chats get an alert, and with which of their rules. Pure policy over the
//! rules file's static `chats = [..]` and the stored subscriptions: no IO, no teloxide.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Alert, RuleHit};
use crate::rules::RuleSet;
use crate::store::outbox::{OutboxEntry, Subscription};
use crate::story::Key;

/// Which chats get an alert, and with which of their rules: static routing (`chats = [..]` in
/// `rules.toml`) plus active subscriptions. One entry per chat, whatever the number of its
/// rules that matched; each carries the alert with that chat's rules only. A chat whose
/// subscription is paused or ended gets nothing. `key` is the story's GUID dedup key.
pub fn route(
    alert: &Alert,
    key: &Key,
    rules: &RuleSet,
    subs: &BTreeMap<i64, Subscription>,
    now: DateTime<Utc>,
) -> Vec<OutboxEntry> {
    let mut per_chat: BTreeMap<i64, Vec<RuleHit>> = BTreeMap::new();
    for hit in &alert.rules {
        let statics = rules
            .rules()
            .iter()
            .filter(|r| r.name == hit.rule)
            .flat_map(|r| r.chats.iter().copied());
        let subscribed = subs
            .iter()
            .filter(|(_, s)| s.rules.contains(&hit.rule))
            .map(|(c, _)| *c);
        let mut chats: Vec<i64> = statics.chain(subscribed).collect();
        chats.sort_unstable();
        chats.dedup();
        for chat in chats {
            if subs.get(&chat).is_none_or(Subscription::active) {
                per_chat.entry(chat).or_default().push(hit.clone());
            }
        }
    }
    per_chat
        .into_iter()
        .map(|(chat, hits)| {
            let alert = Alert {
                rules: hits,
                ..alert.clone()
            };
            OutboxEntry::alert(chat, key, alert, now)
        })
        .collect()
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
            ended: None,
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
        let entries = route(&alert, &key, &rules, &subs, Utc::now());
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
}
