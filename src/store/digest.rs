//! Digest state: the stories waiting for a chat's digest, and each chat's delivery preferences.
//!
//! Owns two sled trees (records are JSON like the rest of the store):
//! - `digest.v1`: due (i64 BE, milliseconds since the epoch, UTC) ++ chat (i64 BE) ++ sequence
//!   (u64 BE, sled's id generator) → [`PendingRecord`] `{"kind":"daily","item":{"alert":..,
//!   "at":..}}` (with `"thread":17` when it waits for a forum topic's digest; records without
//!   it are the whole chat's, as every record before topics). Key order is due order, then chat: the digest task reads the due groups as a
//!   prefix of the tree. Items are written in the admission transaction that marks their story
//!   seen ([`Store::admit_and_enqueue`]), and removed in the transaction that queues their
//!   digest ([`Store::release_digests`]), so a crash neither loses a pending story nor makes a
//!   digest twice.
//! - `prefs.v1`: chat (i64 BE) → [`ChatPrefs`]: the chat's zone (IANA name) and quiet hours.
//!
//! A digest is an outbox entry ([`Body::Digest`](crate::store::outbox::Body::Digest)) under a digest id ([`digest_id`]: SHA-256 of
//! "digest", chat, due and kind; the entry names its topic, and `sent.v1`'s key includes it), so
//! the sender's `sent.v1` check keeps it from ever being sent twice, like an alert. A chat's
//! due group holding items for several of its topics makes one digest per topic.
//!
//! Must not: compute due times (that is `digest::schedule`, called by `deliver::route`) or
//! render anything.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

#[cfg(test)]
use super::outbox::Body;
use super::outbox::{ChatPrefs, DigestBody, OutboxEntry};
use super::{Store, StoreError, decode, encode, tx_error};
use crate::digest::{Item, Kind};
use crate::story::Key;

/// The trees this module owns, opened by [`Store::open`], and the digest task's waker.
pub(super) struct Trees {
    pub(super) pending: sled::Tree,
    prefs: sled::Tree,
    /// Notified after an admission wrote pending items (the task may have to wake earlier).
    pub(super) wake: Arc<tokio::sync::Notify>,
}

impl Trees {
    pub(super) fn open(db: &sled::Db) -> Result<Trees, sled::Error> {
        Ok(Trees {
            pending: db.open_tree("digest.v1")?,
            prefs: db.open_tree("prefs.v1")?,
            wake: Arc::new(tokio::sync::Notify::new()),
        })
    }
}

/// One story waiting for a chat's digest due at `due`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub chat: i64,
    /// The forum topic of `chat` the digest goes to (`None`: the whole chat).
    pub thread: Option<i32>,
    pub due: DateTime<Utc>,
    pub kind: Kind,
    pub item: Item,
}

/// A `digest.v1` value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRecord {
    pub kind: Kind,
    pub item: Item,
    /// The forum topic the item waits for (`None`: the whole chat). Not written when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<i32>,
}

impl From<&Pending> for PendingRecord {
    fn from(p: &Pending) -> PendingRecord {
        PendingRecord {
            kind: p.kind,
            item: p.item.clone(),
            thread: p.thread,
        }
    }
}

/// What an admission queues for one story: outbox entries (sent now) and pending digest items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Queued {
    pub entries: Vec<OutboxEntry>,
    pub pending: Vec<Pending>,
}

impl From<Vec<OutboxEntry>> for Queued {
    fn from(entries: Vec<OutboxEntry>) -> Queued {
        Queued {
            entries,
            pending: Vec::new(),
        }
    }
}

/// One digest queued by [`Store::release_digests`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub chat: i64,
    pub due: DateTime<Utc>,
    pub kind: Kind,
    pub items: usize,
}

/// A due item's key and record (`None`: it does not decode, and is dropped).
type GroupItem = (sled::IVec, Option<PendingRecord>);
/// A digest group: due time and chat.
type Group = (DateTime<Utc>, i64);

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Hourly => "hourly",
        Kind::Daily => "daily",
        Kind::Weekly => "weekly",
        Kind::CatchUp => "catch_up",
    }
}

/// The digest id (its `story` key in the outbox and in `sent.v1`): SHA-256 over
/// `"digest" 0x00 chat (i64 BE) due (i64 BE ms) kind-name`. Stable: the same digest always
/// gets the same id, so a restart can never send it twice.
pub fn digest_id(chat: i64, due: DateTime<Utc>, kind: Kind) -> Key {
    let mut h = Sha256::new();
    h.update(b"digest\0");
    h.update(chat.to_be_bytes());
    h.update(due.timestamp_millis().to_be_bytes());
    h.update(kind_name(kind).as_bytes());
    h.finalize().into()
}

fn due_ms(due: DateTime<Utc>) -> i64 {
    // Before 1970 would sort after every later key (signed big-endian): never happens.
    due.timestamp_millis().max(0)
}

/// The first 16 bytes of a `digest.v1` key: due ++ chat (the group).
pub(super) fn group_prefix(due: DateTime<Utc>, chat: i64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&due_ms(due).to_be_bytes());
    k[8..].copy_from_slice(&chat.to_be_bytes());
    k
}

fn decode_key(k: &[u8]) -> Option<(DateTime<Utc>, i64)> {
    let due = i64::from_be_bytes(k.get(..8)?.try_into().ok()?);
    let chat = i64::from_be_bytes(k.get(8..16)?.try_into().ok()?);
    Some((DateTime::from_timestamp_millis(due)?, chat))
}

impl Store {
    /// Notified when an admission wrote pending items: the digest task sleeps on it.
    pub fn digest_waker(&self) -> Arc<tokio::sync::Notify> {
        self.digest.wake.clone()
    }

    // ---- prefs ---------------------------------------------------------------------------

    pub fn chat_prefs(&self, chat: i64) -> Result<ChatPrefs, StoreError> {
        let k = chat.to_be_bytes();
        match self.digest.prefs.get(k)? {
            Some(v) => decode(&self.digest.prefs, &k, &v, "chat prefs"),
            None => Ok(ChatPrefs::default()),
        }
    }

    pub fn set_chat_prefs(&self, chat: i64, prefs: &ChatPrefs) -> Result<(), StoreError> {
        let v = encode(prefs, "chat prefs")?;
        self.digest.prefs.insert(chat.to_be_bytes(), v)?;
        Ok(())
    }

    /// Every chat's preferences, by chat id (chats without a record are not listed).
    pub fn chats_prefs(&self) -> Result<BTreeMap<i64, ChatPrefs>, StoreError> {
        let mut out = BTreeMap::new();
        for kv in self.digest.prefs.iter() {
            let (k, v) = kv?;
            if let Ok(chat) = <[u8; 8]>::try_from(&k[..]) {
                out.insert(
                    i64::from_be_bytes(chat),
                    decode(&self.digest.prefs, &k, &v, "chat prefs")?,
                );
            }
        }
        Ok(out)
    }

    // ---- pending items -------------------------------------------------------------------

    /// Every pending item, by due time then chat then arrival.
    pub fn pending_items(&self) -> Result<Vec<Pending>, StoreError> {
        let mut out = Vec::new();
        for kv in self.digest.pending.iter() {
            let (k, v) = kv?;
            let Some((due, chat)) = decode_key(&k) else {
                continue;
            };
            let r: PendingRecord = decode(&self.digest.pending, &k, &v, "pending digest item")?;
            out.push(Pending {
                chat,
                thread: r.thread,
                due,
                kind: r.kind,
                item: r.item,
            });
        }
        Ok(out)
    }

    pub fn pending_len(&self) -> usize {
        self.digest.pending.len()
    }

    /// The earliest due time of a pending item (the digest task sleeps until it).
    pub fn next_digest_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .digest
            .pending
            .iter()
            .keys()
            .next()
            .transpose()?
            .and_then(|k| decode_key(&k))
            .map(|(due, _)| due))
    }

    /// Queues pending items outside an admission (tests, tools). Polls write them in their
    /// admission transaction.
    pub fn enqueue_pending(&self, items: &[Pending]) -> Result<(), StoreError> {
        for p in items {
            let mut k = group_prefix(p.due, p.chat).to_vec();
            k.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
            let v = encode(&PendingRecord::from(p), "pending digest item")?;
            self.digest.pending.insert(k, v)?;
        }
        self.digest.wake.notify_one();
        Ok(())
    }

    /// Moves the pending items of `dest` (a chat, or one forum topic of it) to the due time
    /// `due_of` gives them (`None`: keep theirs), after the chat changed its zone, quiet hours
    /// or a rule's mode: one transaction, so an item is never in two groups nor in none.
    /// Returns how many moved.
    pub fn reschedule_pending(
        &self,
        dest: impl Into<crate::deliver::Dest>,
        due_of: impl Fn(&PendingRecord) -> Option<DateTime<Utc>>,
    ) -> Result<usize, StoreError> {
        self.save_settings(dest, None, None, due_of)
    }

    /// A change of a chat's settings, in one transaction: `dest`'s subscription (when given),
    /// the chat's preferences (when given), and its pending items moved to the due times
    /// `due_of` gives them under the new settings (as [`Store::reschedule_pending`]). A crash
    /// leaves either the old settings with the items where they were, or all of it new.
    /// Returns how many items moved.
    pub fn save_settings(
        &self,
        dest: impl Into<crate::deliver::Dest>,
        sub: Option<&super::outbox::Subscription>,
        prefs: Option<&ChatPrefs>,
        due_of: impl Fn(&PendingRecord) -> Option<DateTime<Utc>>,
    ) -> Result<usize, StoreError> {
        let dest = dest.into();
        let chat = dest.chat;
        let mut moves: Vec<(sled::IVec, Vec<u8>, sled::IVec)> = Vec::new();
        for kv in self.digest.pending.iter() {
            let (k, v) = kv?;
            let Some((due, c)) = decode_key(&k) else {
                continue;
            };
            if c != chat {
                continue;
            }
            let r: PendingRecord = decode(&self.digest.pending, &k, &v, "pending digest item")?;
            if r.thread != dest.thread {
                continue;
            }
            if let Some(new) = due_of(&r).filter(|new| due_ms(*new) != due_ms(due)) {
                let mut key = group_prefix(new, chat).to_vec();
                key.extend_from_slice(&k[16..]);
                moves.push((k, key, v));
            }
        }
        if moves.is_empty() && sub.is_none() && prefs.is_none() {
            return Ok(0);
        }
        let sub = sub
            .map(|s| {
                Ok::<_, StoreError>((super::outbox::dest_key(dest), encode(s, "subscription")?))
            })
            .transpose()?;
        let prefs = prefs.map(|p| encode(p, "chat prefs")).transpose()?;
        // An item gone since the scan was released by the digest task (it is in the outbox):
        // moving it would queue it a second time.
        let moved = (&self.tg.subs, &self.digest.prefs, &self.digest.pending)
            .transaction(|(subs, prefs_t, pending)| {
                if let Some((k, v)) = &sub {
                    subs.insert(k.as_slice(), v.as_slice())?;
                }
                if let Some(v) = &prefs {
                    prefs_t.insert(&chat.to_be_bytes(), v.as_slice())?;
                }
                let mut moved = 0;
                for (old, new, v) in &moves {
                    if pending.remove(old)?.is_some() {
                        pending.insert(new.as_slice(), v.clone())?;
                        moved += 1;
                    }
                }
                Ok::<_, ConflictableTransactionError<Infallible>>(moved)
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
                sled::transaction::TransactionError::Abort(never) => match never {},
            })?;
        if moved > 0 {
            self.digest.wake.notify_one();
        }
        Ok(moved)
    }

    /// The group (due, kind) of `dest` (a chat or one topic of it) that holds an item of
    /// `cluster`, if one is still pending: a folded copy joins it. A scan of the pending tree
    /// (it holds only what waits for a digest).
    pub fn pending_group_of(
        &self,
        dest: crate::deliver::Dest,
        cluster: u64,
    ) -> Result<Option<(DateTime<Utc>, Kind)>, StoreError> {
        for kv in self.digest.pending.iter() {
            let (k, v) = kv?;
            let Some((due, c)) = decode_key(&k) else {
                continue;
            };
            if c != dest.chat {
                continue;
            }
            let r: PendingRecord = decode(&self.digest.pending, &k, &v, "pending digest item")?;
            if r.thread == dest.thread && r.item.alert.cluster == Some(cluster) {
                return Ok(Some((due, r.kind)));
            }
        }
        Ok(None)
    }

    /// Queues the digest of every (due, chat) group due at or before `now`: in one transaction
    /// per group, its items leave `digest.v1` and one outbox entry ([`Body::Digest`](crate::store::outbox::Body::Digest), under
    /// [`digest_id`]) is queued. `tz_of` names a chat's zone (stored in the body). A group's
    /// kind is the widest of its items' (a catch-up and a daily due at the same minute make one
    /// message). An item that does not decode is logged and dropped (it could never be sent).
    pub fn release_digests(
        &self,
        now: DateTime<Utc>,
        tz_of: impl Fn(i64) -> Option<String>,
    ) -> Result<Vec<Released>, StoreError> {
        Ok(self
            .release(now, tz_of, true)?
            .into_iter()
            .map(|(r, _)| r)
            .collect())
    }

    /// The console's [`Store::release_digests`]: every due group leaves `digest.v1` and is
    /// returned (chat, body) to be printed, nothing is queued. Like a console alert, a digest
    /// removed here and not yet printed is lost by a crash (stdout has no acknowledgement;
    /// see `deliver`'s module doc).
    pub fn take_digests(
        &self,
        now: DateTime<Utc>,
        tz_of: impl Fn(i64) -> Option<String>,
    ) -> Result<Vec<(i64, DigestBody)>, StoreError> {
        Ok(self
            .release(now, tz_of, false)?
            .into_iter()
            .map(|(r, body)| (r.chat, body))
            .collect())
    }

    fn release(
        &self,
        now: DateTime<Utc>,
        tz_of: impl Fn(i64) -> Option<String>,
        queue: bool,
    ) -> Result<Vec<(Released, DigestBody)>, StoreError> {
        let end = (due_ms(now).saturating_add(1)).to_be_bytes();
        let mut groups: Vec<(Group, Vec<GroupItem>)> = Vec::new();
        for kv in self.digest.pending.range(..end.to_vec()) {
            let (k, v) = kv?;
            let Some(group) = decode_key(&k) else {
                tracing::warn!(key = %hex::encode(&k), "a pending digest key of another shape; dropped");
                self.digest.pending.remove(&k)?;
                continue;
            };
            let record = match decode::<PendingRecord>(
                &self.digest.pending,
                &k,
                &v,
                "pending digest item",
            ) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::error!(error = %e, "a pending digest item cannot be read; it is dropped");
                    None
                }
            };
            match groups.last_mut() {
                Some((g, items)) if *g == group => items.push((k, record)),
                _ => groups.push((group, vec![(k, record)])),
            }
        }
        let mut out = Vec::new();
        for ((due, chat), members) in groups {
            // One digest per destination: the whole chat's items, and each topic's.
            let mut by_thread: BTreeMap<Option<i32>, Vec<&PendingRecord>> = BTreeMap::new();
            for r in members.iter().filter_map(|(_, r)| r.as_ref()) {
                by_thread.entry(r.thread).or_default().push(r);
            }
            let mut entries = Vec::new();
            for (thread, items) in by_thread {
                let Some(kind) = items.iter().map(|r| r.kind).max() else {
                    continue;
                };
                let body = DigestBody {
                    kind,
                    due,
                    tz: tz_of(chat),
                    items: items.iter().map(|r| r.item.clone()).collect(),
                };
                let id = digest_id(chat, due, kind);
                let released = Released {
                    chat,
                    due,
                    kind,
                    items: body.items.len(),
                };
                if queue {
                    let e = OutboxEntry::digest(chat, &id, body.clone(), now)
                        .to(crate::deliver::Dest { chat, thread });
                    entries.push(encode(&e, "outbox entry")?);
                }
                out.push((released, body));
            }
            (&self.digest.pending, &self.tg.outbox)
                .transaction(|(pending, outbox)| {
                    for (k, _) in &members {
                        pending.remove(k)?;
                    }
                    for e in &entries {
                        outbox.insert(&outbox.generate_id()?.to_be_bytes()[..], &e[..])?;
                    }
                    Ok::<_, ConflictableTransactionError<Infallible>>(())
                })
                .map_err(tx_error)?;
        }
        Ok(out)
    }
}

impl Store {
    /// A new story's pending items once folding placed it (`placed`): each carries its cluster
    /// (the renderer shows a cluster once, with its outlet count). A copy from another outlet
    /// joins the group that holds its lead for that chat (in `earlier`, the chunk's items so
    /// far, or in `digest.v1`); when that chat's digest with the lead was already queued, the
    /// copy is logged and dropped (a digest is not edited). A later version from the lead's own
    /// outlet adds nothing, as on an instant chat.
    pub(super) fn fold_pending(
        &self,
        pending: Vec<Pending>,
        placed: &super::fold::Folded,
        earlier: &[Pending],
    ) -> Result<Vec<Pending>, StoreError> {
        let mut out = Vec::with_capacity(pending.len());
        for mut p in pending {
            p.item.alert.cluster = Some(placed.cluster);
            let Some(joined) = &placed.joined else {
                out.push(p);
                continue;
            };
            let cluster = crate::deliver::cluster_hex(placed.cluster);
            if !joined.new_outlet {
                tracing::info!(
                    chat = p.chat,
                    cluster = %cluster,
                    title = %p.item.alert.title,
                    "a later version from an outlet already in the digest's story: nothing added"
                );
                continue;
            }
            let lead = earlier
                .iter()
                .rev()
                .find(|e| {
                    e.chat == p.chat
                        && e.thread == p.thread
                        && e.item.alert.cluster == Some(placed.cluster)
                })
                .map(|e| (e.due, e.kind));
            let lead = match lead {
                Some(l) => Some(l),
                None => {
                    let dest = crate::deliver::Dest {
                        chat: p.chat,
                        thread: p.thread,
                    };
                    self.pending_group_of(dest, placed.cluster)?
                }
            };
            match lead {
                Some((due, kind)) => {
                    p.due = due;
                    p.kind = kind;
                    out.push(p);
                }
                None => tracing::info!(
                    chat = p.chat,
                    cluster = %cluster,
                    title = %p.item.alert.title,
                    "a copy from another outlet of a story this chat's digest already carried: nothing added (a digest is not edited)"
                ),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::Alert;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn item(n: u32) -> Item {
        let s =
            crate::story::test_story("f", &n.to_string(), &format!("제목 {n}"), "https://e.com/x");
        Item {
            alert: Alert::new(&s, Vec::new()),
            at: at("2026-12-01T00:00:00Z"),
        }
    }

    #[test]
    fn a_settings_change_moves_the_chats_pending_items_and_only_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let nine = at("2026-12-02T00:00:00Z"); // 09:00 in Seoul
        let eight = at("2026-12-02T07:00:00Z"); // 08:00 in Berlin
        let p = |chat, n| Pending {
            chat,
            thread: None,
            due: nine,
            kind: Kind::Daily,
            item: item(n),
        };
        store
            .enqueue_pending(&[p(5, 1), p(6, 2), p(5, 3)])
            .expect("pending");
        let moved = store
            .reschedule_pending(5, |r| (r.item.alert.title != "제목 3").then_some(eight))
            .expect("reschedule");
        assert_eq!(moved, 1);
        let got: Vec<(i64, DateTime<Utc>, String)> = store
            .pending_items()
            .expect("items")
            .into_iter()
            .map(|p| (p.chat, p.due, p.item.alert.title))
            .collect();
        assert_eq!(
            got,
            vec![
                (5, nine, "제목 3".to_string()),
                (6, nine, "제목 2".to_string()),
                (5, eight, "제목 1".to_string()),
            ]
        );
        // The same again moves nothing (already there).
        assert_eq!(
            store.reschedule_pending(5, |_| Some(eight)).expect("again"),
            1
        );
        assert_eq!(
            store.reschedule_pending(5, |_| Some(eight)).expect("again"),
            0
        );
        assert_eq!(store.pending_len(), 3);
    }

    fn one_daily_item(store: &Store, chat: i64, due: DateTime<Utc>) {
        store
            .enqueue_pending(&[Pending {
                chat,
                thread: None,
                due,
                kind: Kind::Daily,
                item: item(1),
            }])
            .expect("pending");
    }

    /// The digest task may release an item between `reschedule_pending`'s scan and its
    /// transaction: the item is then in the outbox, and moving it must not queue it again
    /// (it would be sent twice, in the digest of its new due time).
    #[test]
    fn an_item_released_while_rescheduling_is_not_queued_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let nine = at("2026-12-01T09:00:00Z");
        let ten = at("2026-12-01T10:00:00Z");
        one_daily_item(&store, 42, nine);
        let moved = store
            .reschedule_pending(42, |_| {
                // The digest task, in between.
                let released = store.release_digests(nine, |_| None).expect("release");
                assert_eq!(released.len(), 1);
                Some(ten)
            })
            .expect("move");
        assert_eq!(moved, 0, "the released item was moved");
        assert_eq!(store.pending_len(), 0, "the released item is pending again");
        assert_eq!(store.outbox().expect("outbox").len(), 1);
    }

    /// A `/settings` change is one write: the subscription, the preferences and the moved
    /// items, read back together (and a store reopened after it holds all three).
    #[test]
    fn settings_subscription_prefs_and_moved_items_are_saved_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nine = at("2026-12-01T09:00:00Z");
        let ten = at("2026-12-01T10:00:00Z");
        let sub = crate::store::outbox::Subscription {
            rules: ["chips".to_string()].into(),
            ..Default::default()
        };
        let prefs = ChatPrefs {
            tz: Some("Europe/Berlin".into()),
            ..Default::default()
        };
        {
            let store = Store::open(dir.path()).expect("open");
            one_daily_item(&store, 42, nine);
            let moved = store
                .save_settings(42, Some(&sub), Some(&prefs), |_| Some(ten))
                .expect("save");
            assert_eq!(moved, 1);
            // Nothing to write, nothing to move: no transaction at all.
            assert_eq!(
                store.save_settings(42, None, None, |_| None).expect("none"),
                0
            );
            store.flush().expect("flush");
        }
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(store.subscription(42).expect("sub"), Some(sub));
        assert_eq!(store.chat_prefs(42).expect("prefs"), prefs);
        let due: Vec<_> = store
            .pending_items()
            .expect("items")
            .into_iter()
            .map(|p| p.due)
            .collect();
        assert_eq!(due, vec![ten]);
    }

    /// Topics (issue 17): a chat's due group with items for two of its forum topics and for
    /// the whole chat makes three digests, each entry naming its topic; a settings change in
    /// one topic moves only that topic's items; records before topics decode as the chat's.
    #[test]
    fn a_due_group_makes_one_digest_per_topic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let nine = at("2026-12-01T09:00:00Z");
        let p = |thread, n| Pending {
            chat: -100,
            thread,
            due: nine,
            kind: Kind::Daily,
            item: item(n),
        };
        store
            .enqueue_pending(&[p(Some(5), 1), p(None, 2), p(Some(7), 3), p(Some(5), 4)])
            .expect("pending");
        let eight = at("2026-12-01T08:00:00Z");
        assert_eq!(
            store
                .reschedule_pending(crate::deliver::Dest::topic(-100, 7), |_| Some(eight))
                .expect("move"),
            1
        );
        store
            .reschedule_pending(crate::deliver::Dest::topic(-100, 7), |_| Some(nine))
            .expect("back");
        let released = store.release_digests(nine, |_| None).expect("release");
        assert_eq!(released.len(), 3);
        let got: Vec<(Option<i32>, Vec<String>)> = store
            .outbox()
            .expect("outbox")
            .into_iter()
            .map(|(_, e)| match e.body {
                Body::Digest(d) => (
                    e.thread,
                    d.items.iter().map(|i| i.alert.title.clone()).collect(),
                ),
                _ => (e.thread, vec![]),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (None, vec!["제목 2".to_string()]),
                (Some(5), vec!["제목 1".to_string(), "제목 4".to_string()]),
                (Some(7), vec!["제목 3".to_string()]),
            ]
        );
        let old: PendingRecord = serde_json::from_str(
            &serde_json::to_string(&PendingRecord::from(&p(None, 9))).expect("json"),
        )
        .expect("decode");
        assert_eq!(old.thread, None);
        let json = serde_json::to_string(&PendingRecord::from(&p(Some(5), 9))).expect("json");
        assert!(json.contains("\"thread\":5"), "{json}");
        assert!(
            !serde_json::to_string(&PendingRecord::from(&p(None, 9)))
                .expect("json")
                .contains("thread"),
            "records of whole chats encode as before"
        );
    }

    #[test]
    fn due_groups_become_one_outbox_entry_each_and_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nine = at("2026-12-01T09:00:00Z");
        let ten = at("2026-12-01T10:00:00Z");
        {
            let store = Store::open(dir.path()).expect("open");
            let p = |chat, due, kind, n| Pending {
                chat,
                thread: None,
                due,
                kind,
                item: item(n),
            };
            store
                .enqueue_pending(&[
                    p(5, nine, Kind::Daily, 1),
                    p(6, nine, Kind::Daily, 2),
                    p(5, nine, Kind::CatchUp, 3),
                    p(5, ten, Kind::Hourly, 4),
                ])
                .expect("pending");
            assert_eq!(store.next_digest_due().expect("due"), Some(nine));
            assert!(
                store
                    .release_digests(at("2026-12-01T08:59:59Z"), |_| None)
                    .expect("early")
                    .is_empty()
            );
        }
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(store.pending_len(), 4);
        let released = store
            .release_digests(nine, |c| (c == 5).then(|| "Asia/Seoul".to_string()))
            .expect("release");
        assert_eq!(
            released,
            vec![
                Released {
                    chat: 5,
                    due: nine,
                    kind: Kind::CatchUp,
                    items: 2
                },
                Released {
                    chat: 6,
                    due: nine,
                    kind: Kind::Daily,
                    items: 1
                },
            ]
        );
        assert_eq!(store.next_digest_due().expect("due"), Some(ten));
        let queued = store.outbox().expect("outbox");
        assert_eq!(queued.len(), 2);
        let (_, first) = &queued[0];
        let Body::Digest(d) = &first.body else {
            panic!("a digest: {first:?}");
        };
        assert_eq!(d.tz.as_deref(), Some("Asia/Seoul"));
        let titles: Vec<&str> = d.items.iter().map(|i| i.alert.title.as_str()).collect();
        assert_eq!(titles, vec!["제목 1", "제목 3"]);
        assert_eq!(
            first.story.as_deref(),
            Some(hex::encode(digest_id(5, nine, Kind::CatchUp)).as_str())
        );
        // Nothing left to release at the same time.
        assert!(
            store
                .release_digests(nine, |_| None)
                .expect("again")
                .is_empty()
        );
    }

    #[test]
    fn digest_ids_are_stable_and_distinct() {
        let nine = at("2026-12-01T09:00:00Z");
        assert_eq!(
            hex::encode(digest_id(-100123, nine, Kind::Daily)),
            hex::encode(digest_id(-100123, nine, Kind::Daily))
        );
        assert_ne!(
            digest_id(1, nine, Kind::Daily),
            digest_id(2, nine, Kind::Daily)
        );
        assert_ne!(
            digest_id(1, nine, Kind::Daily),
            digest_id(1, nine, Kind::Weekly)
        );
        assert_ne!(
            digest_id(1, nine, Kind::Daily),
            digest_id(1, at("2026-12-02T09:00:00Z"), Kind::Daily)
        );
    }

    #[test]
    fn prefs_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert_eq!(store.chat_prefs(7).expect("prefs"), ChatPrefs::default());
        let prefs = ChatPrefs {
            tz: Some("Europe/Berlin".into()),
            quiet: Some(crate::digest::schedule::Quiet {
                from: chrono::NaiveTime::from_hms_opt(23, 0, 0).expect("t"),
                to: chrono::NaiveTime::from_hms_opt(7, 0, 0).expect("t"),
                mode: crate::digest::schedule::QuietMode::Hold,
            }),
            ..Default::default()
        };
        store.set_chat_prefs(7, &prefs).expect("set");
        assert_eq!(store.chat_prefs(7).expect("prefs"), prefs);
        assert_eq!(store.chats_prefs().expect("all").len(), 1);
        assert_eq!(
            serde_json::to_string(&prefs).expect("json"),
            r#"{"tz":"Europe/Berlin","quiet":{"from":"23:00:00","to":"07:00:00","mode":"hold"}}"#
        );
    }

    const LEAD_TEXT: &str = "(서울=연합뉴스) 홍길동 기자 = 중국 인공지능(AI) 스타트업 딥시크가 새 추론 모델 \
         'R2'를 공개했다. 딥시크는 1일 홈페이지를 통해 새 모델이 수학과 코딩 평가에서 오픈AI의 최신 모델과 \
         비슷한 점수를 냈으며, 학습 비용은 절반 수준이라고 밝혔다. 업계에서는 미국의 수출 통제 속에서도 중국 \
         AI 기업들의 추격이 빨라지고 있다는 평가가 나온다.";
    const COPY_TEXT: &str = "[서울=뉴시스]김철수 기자 = 중국 인공지능(AI) 스타트업 딥시크가 새 추론 모델 \
         'R2'를 공개했습니다. 딥시크는 1일 홈페이지를 통해 새 모델이 수학과 코딩 평가에서 오픈AI의 최신 모델과 \
         비슷한 점수를 냈으며, 학습 비용은 절반 수준이라고 밝혔습니다. 업계에서는 미국의 수출 통제 속에서도 \
         중국 AI 기업들의 추격이 빨라지고 있다는 평가가 나온다. *재판매 및 DB 금지";

    /// Folding and topics (issue 17): two forum topics of one group each get their own first
    /// message for a story (not one per group), and a copy from another outlet edits each
    /// topic's message, the edit entries naming their topic.
    #[test]
    fn two_topics_of_one_group_each_get_a_message_and_each_an_edit() {
        use crate::deliver::Dest;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let now = at("2026-12-01T00:00:00Z");
        let settings = super::super::fold::FoldSettings::from_config(&Default::default());
        store.set_fold(settings, now).expect("fold on");
        let topics = [Dest::topic(-100, 5), Dest::topic(-100, 7)];
        let admit = |feed: &str, id: &str, title: &str, url: &str, text: &str| {
            let mut s = crate::story::test_story(feed, id, title, url);
            s.summary = text.into();
            let key = crate::story::dedup_keys(&s).guid;
            let alert = Alert::new(&s, Vec::new());
            store
                .admit_chunks(
                    std::slice::from_ref(&s),
                    now,
                    |_| vec!["deepseek".to_string()],
                    |_| {
                        Queued::from(
                            topics
                                .iter()
                                .map(|d| {
                                    OutboxEntry::alert(d.chat, &key, alert.clone(), now).to(*d)
                                })
                                .collect::<Vec<_>>(),
                        )
                    },
                    |_, _| {},
                )
                .expect("admit")
        };
        admit(
            "yna",
            "1",
            "딥시크, 새 추론 모델 공개…\"오픈AI 절반 비용\"",
            "https://www.yna.co.kr/view/1",
            LEAD_TEXT,
        );
        let first: Vec<(Dest, bool)> = store
            .outbox()
            .expect("outbox")
            .into_iter()
            .map(|(_, e)| (e.dest(), matches!(e.body, Body::Alert(_))))
            .collect();
        assert_eq!(first, vec![(topics[0], true), (topics[1], true)]);
        admit(
            "newsis",
            "2",
            "[속보] 中 딥시크, 새 추론모델 'R2' 공개",
            "https://www.newsis.com/view/2",
            COPY_TEXT,
        );
        let edits: Vec<Dest> = store
            .outbox()
            .expect("outbox")
            .into_iter()
            .filter(|(_, e)| matches!(e.body, Body::Fold(_)))
            .map(|(_, e)| e.dest())
            .collect();
        assert_eq!(edits, topics.to_vec());
    }

    /// Folding and digests: a copy from another outlet joins its lead's pending group (one
    /// cluster, shown once with its outlets); once that digest is queued, a later copy adds
    /// nothing (a digest is not edited), and neither does a later version from the lead's own
    /// outlet.
    #[test]
    fn a_folded_copy_joins_its_leads_pending_digest_and_nothing_after_it_was_queued() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let now = at("2026-12-01T00:00:00Z");
        let settings = super::super::fold::FoldSettings::from_config(&Default::default());
        store.set_fold(settings, now).expect("fold on");
        let story = |feed: &str, id: &str, url: &str, text: &str| {
            let title = match id {
                "1" => "딥시크, 새 추론 모델 공개…\"오픈AI 절반 비용\"",
                "2" => "[속보] 中 딥시크, 새 추론모델 'R2' 공개",
                "3" => "딥시크, 새 추론 모델 공개(종합)",
                _ => "中 딥시크 새 추론모델 공개",
            };
            let mut s = crate::story::test_story(feed, id, title, url);
            s.summary = text.into();
            s
        };
        let nine = at("2026-12-01T09:00:00Z");
        let admit = |s: &crate::story::Story| {
            let alert = Alert::new(s, Vec::new());
            let stories = std::slice::from_ref(s);
            store
                .admit_chunks(
                    stories,
                    now,
                    |_| vec!["deepseek".to_string()],
                    |_| Queued {
                        entries: Vec::new(),
                        pending: vec![Pending {
                            chat: 5,
                            thread: None,
                            // The copy's own route would say tomorrow: it joins its lead's group.
                            due: if s.feed == "yna" {
                                nine
                            } else {
                                nine + chrono::Duration::days(1)
                            },
                            kind: Kind::Daily,
                            item: Item {
                                alert: alert.clone(),
                                at: now,
                            },
                        }],
                    },
                    |_, _| {},
                )
                .expect("admit")
        };
        assert_eq!(
            admit(&story(
                "yna",
                "1",
                "https://www.yna.co.kr/view/1",
                LEAD_TEXT
            )),
            1
        );
        assert_eq!(
            admit(&story(
                "newsis",
                "2",
                "https://www.newsis.com/view/2",
                COPY_TEXT
            )),
            1
        );
        let pending = store.pending_items().expect("pending");
        assert_eq!(pending.len(), 2, "{pending:#?}");
        assert!(pending.iter().all(|p| p.due == nine), "{pending:#?}");
        let cluster = pending[0].item.alert.cluster;
        assert!(cluster.is_some());
        assert_eq!(pending[1].item.alert.cluster, cluster, "one story");
        // A later version from the lead's own outlet: nothing.
        assert_eq!(
            admit(&story(
                "yna",
                "3",
                "https://www.yna.co.kr/view/3",
                LEAD_TEXT
            )),
            0
        );
        let released = store.release_digests(nine, |_| None).expect("release");
        assert_eq!(released.len(), 1);
        assert_eq!(released[0].items, 2);
        // The digest is queued: a third outlet's copy adds nothing, now or to a later digest.
        assert_eq!(
            admit(&story("news1", "4", "https://www.news1.kr/4", COPY_TEXT)),
            0
        );
        assert_eq!(store.pending_len(), 0);
    }
}
