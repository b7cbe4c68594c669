//! Folding's state: which stories of the window are one story (see [`crate::fold`]).
//!
//! Owns two sled trees and the in-memory index rebuilt from them:
//! - `fold.v2`: fold id (u64 BE, the first 8 bytes of the story's GUID key, see [`fold_id`]) →
//!   `[1][at: i64 BE][cluster: u64 BE][Print::encode]`: when the story was admitted, the
//!   cluster it joined (its own id when it opened one) and its print (shingle hashes, LSH band
//!   keys and the lede sketch, stable across restarts: `fold`'s hashing has fixed seeds). The
//!   tree name carries `fold::VERSION`'s value: a new print format is a new tree. A tree of an
//!   older format (`fold.v1`) is dropped at open, with a warning naming it and its records:
//!   folding starts empty and refills as stories arrive (copies of the stories it held alert
//!   as new stories once).
//! - `clusters.v1`: cluster id (u64 BE) → [`Cluster`] as JSON: its outlets, the message each
//!   chat got for it, and the rules its alerts named.
//!
//! The LSH bands live in memory only ([`FoldState`]); [`Store::set_fold`] rebuilds them from
//! the heads of the `fold.v2` records ([`Print::decode_keys`]; at start, and when `[fold]` changes). Records are written in the admission
//! transaction that marks their story seen ([`Store::admit_and_enqueue`]), and the in-memory
//! index learns a story only after that transaction committed, so what survives a restart is
//! exactly what the index knew.
//!
//! Invariant: admissions fold one at a time (the index's mutex is held from the first decision
//! of a chunk to its commit), so two outlets' copies arriving in two concurrent polls are
//! decided in order: the second sees the first.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, decode};
use crate::fold::{self, Print};
use crate::story::{Key, Story};

pub use crate::cluster::{boilerplate, doc_in as doc_of};

/// Stored prints read for one new story's candidates, at most (see `ChunkFold::story`).
pub const MAX_LOOKUPS: usize = 16;

/// A story's fold id: the first 8 bytes of its GUID dedup key (never 0).
pub fn fold_id(guid: &Key) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&guid[..8]);
    u64::from_be_bytes(b).max(1)
}

/// Folding as configured (`[fold]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldSettings {
    pub events: bool,
    pub window: Duration,
}

impl FoldSettings {
    pub fn from_config(c: &crate::config::FoldConfig) -> Option<FoldSettings> {
        c.enabled.then_some(FoldSettings {
            events: c.events,
            window: c.window,
        })
    }

    fn window_secs(&self) -> i64 {
        i64::try_from(self.window.as_secs()).unwrap_or(i64::MAX / 4)
    }

    /// A cluster takes no member this long after its first.
    fn lifetime_secs(&self) -> i64 {
        self.window_secs().saturating_mul(3) / 2
    }
}

/// One outlet's part in a cluster: its first story of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlet {
    /// The configured feed name (what the `+N` line shows).
    pub feed: String,
    /// The story link's host without `www.` / `m.` (empty without a link).
    pub host: String,
    pub title: String,
    pub url: String,
    /// The story's GUID key (hex).
    pub story: String,
}

impl Outlet {
    pub fn of(story: &Story, guid: &Key) -> Outlet {
        Outlet {
            feed: story.feed.clone(),
            host: outlet_host(&story.url),
            title: story.title.clone(),
            url: story.url.clone(),
            story: hex::encode(guid),
        }
    }

    /// Two stories come from the same outlet when their links' hosts are the same (a section
    /// feed and the main feed of one site; 1보 and 종합 under new URLs); without a link on
    /// either side, when their feeds are. So an aggregator feed's items from two sites are two
    /// outlets.
    pub fn same_outlet(&self, other: &Outlet) -> bool {
        crate::cluster::same_outlet_parts(
            &self.feed,
            Some(&self.host),
            &other.feed,
            Some(&other.host),
        )
    }

    /// What the `➕` line calls this outlet: its feed's name, or its host when another outlet
    /// of the line (or the message's own) comes from the same feed (an aggregator).
    pub fn label<'a>(&'a self, line: &[Outlet], message_feed: &str) -> &'a str {
        let shared = self.feed == message_feed
            || line
                .iter()
                .any(|o| o.feed == self.feed && !o.same_outlet(self));
        if shared && !self.host.is_empty() {
            &self.host
        } else {
            &self.feed
        }
    }
}

/// A link's host, lower case, without a leading `www.` or `m.` (empty without one).
pub fn outlet_host(url: &str) -> String {
    crate::cluster::outlet_host(url).unwrap_or_default()
}

/// The message one chat got for a cluster: the story it announced, that story's outlet (an
/// index into [`Cluster::outlets`]) and the chat's rules it named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub story: String,
    pub outlet: usize,
    pub rules: Vec<String>,
}

/// One story as several outlets carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: u64,
    pub opened: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Stories in it, its lead and copies from the lead's own outlet included.
    pub stories: u32,
    /// One per outlet, in arrival order; the first is the lead's.
    pub outlets: Vec<Outlet>,
    /// Chat (or forum topic: a topic gets its own message) → the message it got for this
    /// cluster (its first message; later copies edit it). Keys are JSON strings, so records
    /// written when keys were chat ids decode as whole chats.
    pub messages: BTreeMap<crate::deliver::Dest, Message>,
    /// Story (hex) → the alert it made, with every rule it matched (a chat's message names
    /// only the chat's rules: [`Message::rules`]).
    pub alerts: BTreeMap<String, crate::deliver::Alert>,
    /// Every rule an alert of this cluster named (the console's "already announced").
    pub rules: BTreeSet<String>,
}

impl Cluster {
    pub fn new(id: u64, lead: Outlet, now: DateTime<Utc>) -> Cluster {
        Cluster {
            id,
            opened: now,
            last: now,
            stories: 1,
            outlets: vec![lead],
            messages: BTreeMap::new(),
            alerts: BTreeMap::new(),
            rules: BTreeSet::new(),
        }
    }

    /// The alert of `chat`'s message, naming only the chat's rules.
    pub fn message_alert(
        &self,
        dest: crate::deliver::Dest,
    ) -> Option<(&Message, crate::deliver::Alert)> {
        let m = self.messages.get(&dest)?;
        let mut alert = self.alerts.get(&m.story)?.clone();
        alert.rules.retain(|h| m.rules.contains(&h.rule));
        Some((m, alert))
    }

    /// The outlets a chat's message does not name yet: every one but its own, in arrival order.
    pub fn others(&self, message: &Message) -> Vec<Outlet> {
        self.outlets
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != message.outlet)
            .map(|(_, o)| o.clone())
            .collect()
    }
}

/// How a new story was folded (what the console prints, what the pipeline counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// Index of the story in the admitted batch.
    pub index: usize,
    pub cluster: u64,
    /// Set when it joined an existing cluster.
    pub joined: Option<Joined>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The cluster's first story.
    pub lead: Outlet,
    /// The outlet this story counts for: a new one, or the lead's own (1보 → 종합).
    pub new_outlet: bool,
    pub similarity: f32,
    pub tier: fold::Tier,
    /// Outlets in the cluster now.
    pub outlets: usize,
    /// Rules of the cluster that alerted before this story arrived.
    pub announced: BTreeSet<String>,
}

/// The in-memory side: the LSH index of the window and what it was built with.
pub struct FoldState {
    pub(super) settings: Option<FoldSettings>,
    pub(super) index: fold::Index,
}

impl Default for FoldState {
    fn default() -> Self {
        FoldState {
            settings: None,
            index: fold::Index::new(fold::Settings::default()),
        }
    }
}

pub(super) struct Trees {
    pub(super) prints: sled::Tree,
    pub(super) clusters: sled::Tree,
    pub(super) state: Mutex<FoldState>,
}

impl Trees {
    /// Whether folding is on.
    pub(super) fn on(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .settings
            .is_some()
    }

    pub(super) fn open(db: &sled::Db) -> Result<Trees, sled::Error> {
        let current = prints_tree();
        for name in db.tree_names() {
            let older = std::str::from_utf8(&name).ok().and_then(|n| {
                let v: u32 = n.strip_prefix("fold.v")?.parse().ok()?;
                (v < fold::VERSION).then_some(n)
            });
            if let Some(older) = older {
                let records = db.open_tree(&name)?.len();
                db.drop_tree(&name)?;
                tracing::warn!(
                    tree = older,
                    records,
                    now = %current,
                    "fold prints of an older format dropped: folding starts empty (the stories they \
                     held no longer fold their later copies)"
                );
            }
        }
        Ok(Trees {
            prints: db.open_tree(current)?,
            clusters: db.open_tree("clusters.v1")?,
            state: Mutex::new(FoldState::default()),
        })
    }
}

/// The prints tree's name: `fold.v` + [`fold::VERSION`].
fn prints_tree() -> String {
    format!("fold.v{}", fold::VERSION)
}

/// A `fold.v2` value.
pub(super) fn encode_print(at: i64, cluster: u64, print: &Print) -> Vec<u8> {
    let p = print.encode();
    let mut v = Vec::with_capacity(17 + p.len());
    v.push(1);
    v.extend_from_slice(&at.to_be_bytes());
    v.extend_from_slice(&cluster.to_be_bytes());
    v.extend_from_slice(&p);
    v
}

/// (at, cluster) of a `fold.v2` value, and its encoded print; `None` for one this version
/// cannot read.
fn decode_record(v: &[u8]) -> Option<(i64, u64, &[u8])> {
    if v.len() < 17 || v[0] != 1 {
        return None;
    }
    let at = i64::from_be_bytes(v[1..9].try_into().ok()?);
    let cluster = u64::from_be_bytes(v[9..17].try_into().ok()?);
    Some((at, cluster, &v[17..]))
}

/// (at, cluster, print) of a `fold.v2` value; `None` for one this version cannot read.
pub(super) fn decode_print(v: &[u8]) -> Option<(i64, u64, Print)> {
    let (at, cluster, p) = decode_record(v)?;
    Some((at, cluster, Print::decode(p).ok()?))
}

/// (at, cluster, keys) of a `fold.v2` value, from the head of its print alone.
fn decode_keys(v: &[u8]) -> Option<(i64, u64, fold::Keys)> {
    let (at, cluster, p) = decode_record(v)?;
    Some((at, cluster, Print::decode_keys(p).ok()?))
}

/// What [`Store::set_fold`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rebuilt {
    pub stories: usize,
    /// Records that did not decode or were outside the window (removed).
    pub dropped: usize,
}

impl Store {
    /// Sets how folding works (`None`: off) and rebuilds the in-memory index from `fold.v2`
    /// when that changes. Blocks on the store (one full read of `fold.v2`; of each print, only
    /// its head is decoded).
    pub fn set_fold(
        &self,
        settings: Option<FoldSettings>,
        now: DateTime<Utc>,
    ) -> Result<Rebuilt, StoreError> {
        let mut state = self.fold.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.settings == settings && (settings.is_none() || !state.index.is_empty()) {
            return Ok(Rebuilt::default());
        }
        state.settings = settings;
        state.index = fold::Index::new(fold::Settings {
            events: settings.is_some_and(|s| s.events),
        });
        let Some(settings) = settings else {
            return Ok(Rebuilt::default());
        };
        let before = now.timestamp() - settings.window_secs();
        let mut out = Rebuilt::default();
        for kv in self.fold.prints.iter() {
            let (k, v) = kv?;
            let id = <[u8; 8]>::try_from(&k[..]).map(u64::from_be_bytes);
            match (id, decode_keys(&v)) {
                (Ok(id), Some((at, cluster, keys))) if at >= before => {
                    state.index.insert_keys(id, cluster, at, &keys);
                    out.stories += 1;
                }
                (_, decoded) => {
                    if decoded.is_none() {
                        tracing::warn!(
                            tree = %prints_tree(),
                            key = %hex::encode(&k),
                            "a fold record does not decode; removed (its story no longer folds later copies)"
                        );
                    }
                    self.fold.prints.remove(&k)?;
                    out.dropped += 1;
                }
            }
        }
        Ok(out)
    }

    /// Stories in the in-memory fold index and its estimated heap size.
    pub fn fold_len(&self) -> (usize, usize) {
        let state = self.fold.state.lock().unwrap_or_else(|e| e.into_inner());
        (state.index.len(), state.index.heap_bytes())
    }

    /// The cluster a stored story belongs to, if it is still in the window.
    pub fn cluster_of(&self, guid: &Key) -> Result<Option<u64>, StoreError> {
        Ok(self
            .fold
            .prints
            .get(fold_id(guid).to_be_bytes())?
            .and_then(|v| decode_record(&v).map(|(_, cluster, _)| cluster)))
    }

    pub fn cluster(&self, id: u64) -> Result<Option<Cluster>, StoreError> {
        let key = id.to_be_bytes();
        match self.fold.clusters.get(key)? {
            Some(v) => decode(&self.fold.clusters, &key, &v, "cluster").map(Some),
            None => Ok(None),
        }
    }

    /// Drops fold records and clusters older than the window, from the store and the index.
    pub fn prune_fold(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut state = self.fold.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(settings) = state.settings else {
            return Ok(0);
        };
        let before = now.timestamp() - settings.window_secs();
        let mut removed = state.index.prune(before);
        for kv in self.fold.prints.iter() {
            let (k, v) = kv?;
            if decode_keys(&v).is_none_or(|(at, _, _)| at < before) {
                self.fold.prints.remove(&k)?;
            }
        }
        let closed = now - chrono::Duration::seconds(settings.window_secs());
        for kv in self.fold.clusters.iter() {
            let (k, v) = kv?;
            let old = serde_json::from_slice::<Cluster>(&v).map_or(true, |c| c.last < closed);
            if old {
                self.fold.clusters.remove(&k)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The folding of one admission chunk: decisions made under the index's lock, the records to
/// write in the chunk's transaction, and what to tell the index once it committed.
pub(super) struct ChunkFold<'a> {
    pub(super) state: std::sync::MutexGuard<'a, FoldState>,
    settings: FoldSettings,
    /// Clusters read or created in this chunk, written back in its transaction.
    pub(super) clusters: BTreeMap<u64, Cluster>,
    /// (id, at, cluster, print) of the chunk's new stories.
    pub(super) inserts: Vec<(u64, i64, u64, Print)>,
    /// Chats whose message for a cluster gets an edit at the end of the chunk, with the copy
    /// that caused it (its key and, when it matched the chat's rules, its own alert).
    pub(super) edits:
        BTreeMap<(u64, crate::deliver::Dest), (String, Option<crate::deliver::Alert>)>,
    pub(super) folded: Vec<Folded>,
    /// Prints the chunk's stories with its buffers reused (the prints of `Print::of`).
    printer: fold::Printer,
}

impl<'a> ChunkFold<'a> {
    pub(super) fn begin(store: &'a Store) -> Option<ChunkFold<'a>> {
        let state = store.fold.state.lock().unwrap_or_else(|e| e.into_inner());
        let settings = state.settings?;
        Some(ChunkFold {
            state,
            settings,
            clusters: BTreeMap::new(),
            inserts: Vec::new(),
            edits: BTreeMap::new(),
            folded: Vec::new(),
            printer: fold::Printer::new(),
        })
    }

    /// Whether the story with this GUID key is in the index (folded before, in the window).
    pub(super) fn knows(&self, guid: &Key) -> bool {
        self.state.index.cluster_of(fold_id(guid)).is_some()
    }

    /// Decides one new story's cluster and turns its routed alert entries into what each chat
    /// needs: a first message (returned), or nothing now and an edit of the chat's message
    /// at the end of the chunk.
    pub(super) fn story(
        &mut self,
        store: &Store,
        index: usize,
        (story, doc, guid, rules): (&Story, fold::Doc<'_>, &Key, Vec<String>),
        mut entries: Vec<crate::store::OutboxEntry>,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::store::OutboxEntry>, StoreError> {
        use crate::store::outbox::Body;
        let id = fold_id(guid);
        let print = self.printer.print(&doc);
        let at = now.timestamp();
        let outlet = Outlet::of(story, guid);
        let lifetime = self.settings.lifetime_secs();
        // Candidates: prints from this chunk first (not in the index yet), then the store.
        let mut decision = None;
        for (cid, _, ccluster, cprint) in &self.inserts {
            if let Some(v) = fold::verify(
                &print,
                cprint,
                &fold::Settings {
                    events: self.settings.events,
                },
            ) {
                let better =
                    decision
                        .as_ref()
                        .is_none_or(|(_, _, best): &(u64, u64, fold::Verdict)| {
                            crate::cluster::similarity(&v) > crate::cluster::similarity(best)
                        });
                if better {
                    decision = Some((*cid, *ccluster, v));
                }
            }
        }
        if decision.is_none() {
            let prints = &store.fold.prints;
            let mut lookups = 0;
            let join = self.state.index.decide(&print, |cand| {
                // Candidates come most shared bands first; a copy is among the first few. Each
                // lookup is a sled read and a decode, so a story whose text shares sentences
                // with many others (a template) stops after MAX_LOOKUPS.
                lookups += 1;
                if lookups > MAX_LOOKUPS {
                    return None;
                }
                match prints.get(cand.to_be_bytes()) {
                    Ok(v) => v.and_then(|v| decode_print(&v)).map(|(_, _, p)| p),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read a fold record; that candidate is skipped");
                        None
                    }
                }
            });
            if let Some(j) = join {
                decision = Some((j.id, j.cluster, j.verdict));
            }
        }
        // A cluster that is closed (or gone from the store) takes no new member.
        let mut joined = None;
        if let Some((_, cid, verdict)) = decision {
            let cluster = match self.clusters.remove(&cid) {
                Some(c) => Some(c),
                None => store.cluster(cid)?,
            };
            match cluster {
                Some(c) if at - c.opened.timestamp() <= lifetime => joined = Some((c, verdict)),
                Some(c) => {
                    self.clusters.insert(cid, c);
                }
                None => {}
            }
        }
        let (mut cluster, folded) = match joined {
            None => {
                let c = Cluster::new(id, outlet.clone(), now);
                let f = Folded {
                    index,
                    cluster: id,
                    joined: None,
                };
                (c, f)
            }
            Some((mut c, verdict)) => {
                let announced = c.rules.clone();
                let pos = c.outlets.iter().position(|o| o.same_outlet(&outlet));
                let new_outlet = pos.is_none();
                if new_outlet {
                    c.outlets.push(outlet.clone());
                }
                c.stories = c.stories.saturating_add(1);
                c.last = now;
                let f = Folded {
                    index,
                    cluster: c.id,
                    joined: Some(Joined {
                        lead: c.outlets[0].clone(),
                        new_outlet,
                        similarity: crate::cluster::similarity(&verdict),
                        tier: verdict.tier,
                        outlets: c.outlets.len(),
                        announced,
                    }),
                };
                (c, f)
            }
        };
        // Every rule the story alerts for (the console's view: it has no chats).
        let announced_now = rules;
        let outlet_index = cluster
            .outlets
            .iter()
            .position(|o| o.same_outlet(&outlet))
            .unwrap_or(0);
        let story_hex = hex::encode(guid);
        let before: Vec<crate::deliver::Dest> = cluster.messages.keys().copied().collect();
        let mut out = Vec::new();
        for mut e in entries.drain(..) {
            let dest = e.dest();
            let Body::Alert(alert) = &mut e.body else {
                out.push(e);
                continue;
            };
            alert.cluster = Some(cluster.id);
            cluster
                .rules
                .extend(alert.rules.iter().map(|h| h.rule.clone()));
            if cluster.messages.contains_key(&dest) {
                // The chat has this story already: a copy from another outlet edits that
                // message (below); one from the same outlet adds nothing.
                if folded.joined.as_ref().is_some_and(|j| j.new_outlet) {
                    self.edits
                        .insert((cluster.id, dest), (story_hex.clone(), Some(alert.clone())));
                }
                continue;
            }
            cluster.messages.insert(
                dest,
                Message {
                    story: story_hex.clone(),
                    outlet: outlet_index,
                    rules: alert.rules.iter().map(|h| h.rule.clone()).collect(),
                },
            );
            out.push(e);
        }
        if let Some(first) = out.iter().find_map(|e| match &e.body {
            Body::Alert(a) => Some(a),
            _ => None,
        }) {
            // The story's full alert: every chat's hits together.
            let mut full = first.clone();
            for e in &out {
                if let Body::Alert(a) = &e.body {
                    for h in &a.rules {
                        if !full.rules.iter().any(|x| x.rule == h.rule) {
                            full.rules.push(h.clone());
                        }
                    }
                }
            }
            cluster.alerts.insert(story_hex.clone(), full);
        }
        cluster.rules.extend(announced_now);
        if folded.joined.as_ref().is_some_and(|j| j.new_outlet) {
            for chat in before {
                self.edits
                    .entry((cluster.id, chat))
                    .or_insert_with(|| (story_hex.clone(), None));
            }
        }
        self.inserts.push((id, at, cluster.id, print));
        self.folded.push(folded);
        self.clusters.insert(cluster.id, cluster);
        Ok(out)
    }

    /// The chunk's edits, one entry per chat and cluster, after its first messages.
    pub(super) fn edit_entries(&self, now: DateTime<Utc>) -> Vec<crate::store::OutboxEntry> {
        let mut out = Vec::new();
        for ((cid, chat), (story, own)) in &self.edits {
            let Some(cluster) = self.clusters.get(cid) else {
                continue;
            };
            let Some((message, alert)) = cluster.message_alert(*chat) else {
                continue;
            };
            let fold = crate::store::outbox::Fold {
                cluster: *cid,
                target: message.story.clone(),
                alert,
                more: cluster.others(message),
                own: own.clone(),
                message_id: None,
            };
            out.push(crate::store::OutboxEntry::fold(chat.chat, story, fold, now).to(*chat));
        }
        out
    }

    /// After the chunk's transaction committed: the index learns its stories.
    pub(super) fn commit(mut self) -> Vec<Folded> {
        for (id, at, cluster, print) in self.inserts.drain(..) {
            self.state.index.insert(id, cluster, at, &print);
        }
        self.folded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_of_an_older_format_are_dropped_at_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let db = sled::open(dir.path()).expect("sled");
            let old = db.open_tree("fold.v1").expect("tree");
            old.insert(7u64.to_be_bytes(), &[1u8, 0, 0][..])
                .expect("insert");
            db.flush().expect("flush");
        }
        let store = Store::open(dir.path()).expect("open");
        let names: Vec<Vec<u8>> = store.db.tree_names().iter().map(|n| n.to_vec()).collect();
        assert!(!names.contains(&b"fold.v1".to_vec()));
        assert!(names.contains(&prints_tree().into_bytes()));
        let rebuilt = store
            .set_fold(
                Some(FoldSettings {
                    events: false,
                    window: Duration::from_secs(3600),
                }),
                Utc::now(),
            )
            .expect("rebuild");
        assert_eq!(rebuilt, Rebuilt::default());
    }
}
