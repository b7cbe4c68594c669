//! Personal rules (`personal.v1`): the queries chats watch from the bot. Key: the chat's 8
//! bytes (big-endian) ++ the rule's name (UTF-8), so one chat's rules are one prefix scan, in
//! name order; value: [`PersonalRule`] as JSON.
//!
//! A rule's delivery mode lives where every topic's does, in the chat's [`Subscription`]'s
//! `delivery` (under the rule's internal name, `rules::personal::internal`), so routing,
//! digests and `/settings` treat both alike. Adding or removing a rule writes both trees in
//! one transaction.
//!
//! Nothing here knows the rules file: a reload never touches this tree.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::outbox::Subscription;
use super::{Store, StoreError, decode, encode};
use crate::digest::schedule::Delivery;
use crate::rules::personal::internal;

pub(super) const TREE: &str = "personal.v1";

/// One chat's rule, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalRule {
    pub name: String,
    pub query: String,
    /// Paused rules are kept but not matched.
    #[serde(default)]
    pub paused: bool,
    pub created: DateTime<Utc>,
}

/// A rule with its chat, as `kkachi rules list --personal` and the control API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    pub chat: i64,
    #[serde(flatten)]
    pub rule: PersonalRule,
}

/// Every chat's rules, by chat, then name.
pub fn listing(store: &Store) -> Result<Vec<Owned>, StoreError> {
    Ok(store
        .all_personal_rules()?
        .into_iter()
        .map(|(chat, rule)| Owned { chat, rule })
        .collect())
}

/// What [`Store::add_personal_rule`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    Added,
    /// The chat already has a rule of that name (nothing changed).
    NameTaken,
    /// The chat has `limit` rules already (nothing changed).
    Limit {
        limit: usize,
    },
}

fn key(chat: i64, name: &str) -> Vec<u8> {
    let mut k = chat.to_be_bytes().to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

fn chat_of(k: &[u8]) -> Option<i64> {
    <[u8; 8]>::try_from(k.get(..8)?)
        .ok()
        .map(i64::from_be_bytes)
}

impl Store {
    /// One chat's personal rules, by name.
    pub fn personal_rules(&self, chat: i64) -> Result<Vec<PersonalRule>, StoreError> {
        let mut out = Vec::new();
        for kv in self.personal.scan_prefix(chat.to_be_bytes()) {
            let (k, v) = kv?;
            out.push(decode(&self.personal, &k, &v, "personal rule")?);
        }
        Ok(out)
    }

    /// Every chat's personal rules, by chat, then name.
    pub fn all_personal_rules(&self) -> Result<Vec<(i64, PersonalRule)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.personal.iter() {
            let (k, v) = kv?;
            let Some(chat) = chat_of(&k) else { continue };
            out.push((chat, decode(&self.personal, &k, &v, "personal rule")?));
        }
        Ok(out)
    }

    /// Adds `rule` for `chat` unless the name is taken or the chat has `limit` rules. A
    /// `delivery` other than instant is stored for it in the chat's subscription (created when
    /// the chat has none, so `/pause` and a blocked chat's end apply to it), in the same
    /// transaction. The bot handles one chat's updates one at a time, so the count cannot race.
    pub fn add_personal_rule(
        &self,
        chat: i64,
        rule: &PersonalRule,
        limit: usize,
        delivery: Delivery,
    ) -> Result<Added, StoreError> {
        let rules = self.personal_rules(chat)?;
        if rules.iter().any(|r| r.name == rule.name) {
            return Ok(Added::NameTaken);
        }
        if rules.len() >= limit {
            return Ok(Added::Limit { limit });
        }
        let mut sub = self.subscription(chat)?.unwrap_or_default();
        sub.ended = None;
        if delivery != Delivery::Instant {
            sub.delivery.insert(internal(chat, &rule.name), delivery);
        }
        self.write_personal(chat, &rule.name, Some(rule), &sub)?;
        Ok(Added::Added)
    }

    /// Removes one of a chat's rules (and its delivery mode). `false` when there is none of
    /// that name.
    pub fn remove_personal_rule(&self, chat: i64, name: &str) -> Result<bool, StoreError> {
        if self.personal.get(key(chat, name))?.is_none() {
            return Ok(false);
        }
        let mut sub = self.subscription(chat)?.unwrap_or_default();
        sub.delivery.remove(&internal(chat, name));
        self.write_personal(chat, name, None, &sub)?;
        Ok(true)
    }

    /// Pauses or resumes one of a chat's rules; the rule as it is now, `None` when there is
    /// none of that name.
    pub fn set_personal_paused(
        &self,
        chat: i64,
        name: &str,
        paused: bool,
    ) -> Result<Option<PersonalRule>, StoreError> {
        let k = key(chat, name);
        let Some(v) = self.personal.get(&k)? else {
            return Ok(None);
        };
        let mut rule: PersonalRule = decode(&self.personal, &k, &v, "personal rule")?;
        if rule.paused != paused {
            rule.paused = paused;
            self.personal.insert(k, encode(&rule, "personal rule")?)?;
        }
        Ok(Some(rule))
    }

    /// Moves a chat's personal rules to its new id (a group that became a supergroup).
    /// Called first by `migrate_chat`, which then merges the subscription records: the old
    /// chat's delivery modes are renamed here, under its old id.
    pub(super) fn migrate_personal(&self, from: i64, to: i64) -> Result<(), StoreError> {
        let rules = self.personal_rules(from)?;
        if rules.is_empty() {
            return Ok(());
        }
        for rule in &rules {
            self.personal
                .insert(key(to, &rule.name), encode(rule, "personal rule")?)?;
            self.personal.remove(key(from, &rule.name))?;
        }
        if let Some(mut sub) = self.subscription(from)? {
            for rule in &rules {
                if let Some(mode) = sub.delivery.remove(&internal(from, &rule.name)) {
                    sub.delivery.insert(internal(to, &rule.name), mode);
                }
            }
            self.set_subscription(from, &sub)?;
        }
        Ok(())
    }

    fn write_personal(
        &self,
        chat: i64,
        name: &str,
        rule: Option<&PersonalRule>,
        sub: &Subscription,
    ) -> Result<(), StoreError> {
        let k = key(chat, name);
        let value = rule.map(|r| encode(r, "personal rule")).transpose()?;
        let sub_value = encode(sub, "subscription")?;
        let subs = self.tg.subs.clone();
        (&self.personal, &subs)
            .transaction(|(personal, subs)| {
                match &value {
                    Some(v) => personal.insert(&k[..], &v[..])?,
                    None => personal.remove(&k[..])?,
                };
                subs.insert(&chat.to_be_bytes()[..], &sub_value[..])?;
                Ok::<_, ConflictableTransactionError<std::convert::Infallible>>(())
            })
            .map_err(super::tx_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, query: &str) -> PersonalRule {
        PersonalRule {
            name: name.into(),
            query: query.into(),
            paused: false,
            created: chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn add_list_pause_remove_limits_and_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            let daily = "daily 09:00".parse().expect("mode");
            assert_eq!(
                store
                    .add_personal_rule(7, &rule("deepseek", "DeepSeek"), 2, daily)
                    .expect("add"),
                Added::Added
            );
            assert_eq!(
                store
                    .add_personal_rule(7, &rule("deepseek", "딥시크"), 2, Delivery::Instant)
                    .expect("add"),
                Added::NameTaken
            );
            store
                .add_personal_rule(7, &rule("ai", "OpenAI"), 2, Delivery::Instant)
                .expect("add");
            assert_eq!(
                store
                    .add_personal_rule(7, &rule("third", "x"), 2, Delivery::Instant)
                    .expect("add"),
                Added::Limit { limit: 2 }
            );
            // Another chat has its own count and names.
            store
                .add_personal_rule(-100, &rule("deepseek", "DeepSeek"), 2, Delivery::Instant)
                .expect("add");
            let sub = store.subscription(7).expect("sub").expect("created");
            assert_eq!(sub.delivery.get("@7/deepseek"), Some(&daily));
            assert!(sub.rules.is_empty());
            let paused = store
                .set_personal_paused(7, "ai", true)
                .expect("pause")
                .expect("there");
            assert!(paused.paused);
            assert!(
                store
                    .set_personal_paused(7, "nope", true)
                    .expect("pause")
                    .is_none()
            );
        }
        let store = Store::open(dir.path()).expect("reopen");
        let names = |chat| -> Vec<(String, bool)> {
            store
                .personal_rules(chat)
                .expect("list")
                .into_iter()
                .map(|r| (r.name, r.paused))
                .collect()
        };
        assert_eq!(
            names(7),
            [("ai".to_string(), true), ("deepseek".to_string(), false)]
        );
        assert_eq!(store.all_personal_rules().expect("all").len(), 3);
        assert!(store.remove_personal_rule(7, "deepseek").expect("remove"));
        assert!(!store.remove_personal_rule(7, "deepseek").expect("again"));
        let sub = store.subscription(7).expect("sub").expect("kept");
        assert!(sub.delivery.is_empty());
        assert_eq!(names(7), [("ai".to_string(), true)]);
        store
            .add_personal_rule(
                7,
                &rule("chips", "반도체"),
                2,
                "hourly".parse().expect("mode"),
            )
            .expect("add");
        store.migrate_chat(7, -1007).expect("migrate");
        assert!(names(7).is_empty());
        assert_eq!(
            names(-1007),
            [("ai".to_string(), true), ("chips".to_string(), false)]
        );
        let moved = store.subscription(-1007).expect("sub").expect("moved");
        assert!(moved.delivery.contains_key("@-1007/chips"), "{moved:?}");
        assert!(!moved.delivery.contains_key("@7/chips"));
    }
}
