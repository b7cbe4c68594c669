//! The embedded store: the only module that knows sled.
//!
//! Trees (each name carries its record version; changing a record means a new tree and a
//! migration, never a silent re-alert of everything):
//! - `seen.v1`: dedup key (32-byte SHA-256, see `story::dedup_keys`) → last sighting, i64 BE
//!   unix seconds. Refreshed when an old key is seen again, pruned after `retention_days`.
//! - `stories.v1`: GUID key → [`StoredStory`] as JSON, kept for the retention window (replay,
//!   and later clustering and digests, read them).
//! - `feeds.v1`: feed name → [`FeedState`] as JSON: conditional-GET validators, backoff,
//!   whether the first poll happened.
//! - `outbox.v1`, `sent.v1`, `subs.v1`, `chats.v1`: Telegram delivery, see [`outbox`].
//! - `digest.v1` (stories waiting for a chat's digest), `prefs.v1` (a chat's zone and quiet
//!   hours): see [`digest`].
//! - `health.v1`: `heartbeat` → i64 BE unix seconds of the last [`Store::health_check`].
//!
//! Invariant: a story's keys, its record, its queued alerts and its pending digest items are
//! written in one transaction
//! ([`Store::admit_and_enqueue`], in chunks of [`ADMIT_CHUNK`] stories), so a crash never
//! leaves a story half-seen or seen but unannounced. Invariant: sled holds an exclusive file lock, so a second kkachi
//! on the same store fails to open it with [`StoreError::Locked`].

use std::convert::Infallible;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::story::{Key, Story, dedup_keys};

pub mod digest;
pub mod fold;
pub mod outbox;

pub use digest::{Pending, Queued};
pub use outbox::OutboxEntry;

/// Keys older than this are refreshed when seen again, so a story that stays in a feed for
/// longer than the retention window is not forgotten (and re-alerted) while it is still there.
const REFRESH_AFTER_SECS: i64 = 24 * 3600;

/// Stories per admission transaction. sled holds a transaction's writes in memory (about
/// 20 KB per story with its keys and record) and runs it under a process-wide write lock that
/// every other store access waits for: 64 keeps a chunk near 1 MB and a few milliseconds, so
/// other feeds' polls interleave with a 50,000-item admission (256 let them wait up to 2 s).
pub const ADMIT_CHUNK: usize = 64;

/// Attempts (100 ms apart) to take sled's lock before reporting the store as in use.
const LOCK_RETRIES: u32 = 10;

/// A path as error messages show it: quoted, absolute when it can be made so.
fn quoted(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("\"{}\"", abs.display())
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store {} is in use by another kkachi process (one process per store): stop that one (e.g. systemctl stop kkachi), or give this one another [store] path",
        quoted(path)
    )]
    Locked { path: PathBuf },
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    #[error("the store at {path} is not writable: {reason}")]
    NotWritable { path: PathBuf, reason: String },
    /// A stored record that does not decode: which record, in which tree, under which key.
    #[error(
        "corrupt {what} record in the store (tree {tree}, key {}): {source}",
        key_text(key)
    )]
    Corrupt {
        what: &'static str,
        tree: String,
        key: Vec<u8>,
        source: serde_json::Error,
    },
    /// A record that could not be encoded before writing (nothing was written).
    #[error("cannot encode a {what} record for the store: {source}")]
    Encode {
        what: &'static str,
        source: serde_json::Error,
    },
}

/// A key as an error message shows it: quoted when it is printable text (feed names), else
/// hex (dedup keys, big-endian sequence numbers and chat ids).
fn key_text(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(s) if !s.is_empty() && !s.chars().any(char::is_control) => format!("{s:?}"),
        _ => hex::encode(key),
    }
}

/// Decodes a JSON record read from `tree` under `key`.
fn decode<T: for<'de> Deserialize<'de>>(
    tree: &sled::Tree,
    key: &[u8],
    value: &[u8],
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_slice(value).map_err(|source| StoreError::Corrupt {
        what,
        tree: String::from_utf8_lossy(&tree.name()).into_owned(),
        key: key.to_vec(),
        source,
    })
}

/// Encodes a record as JSON, before any write (and outside any transaction).
fn encode<T: Serialize>(v: &T, what: &'static str) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|source| StoreError::Encode { what, source })
}

/// A transaction's failure. Its closures never abort (records are encoded before it), so
/// only sled's own errors are left.
fn tx_error(e: TransactionError<Infallible>) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(never) => match never {},
    }
}

/// Per-feed state that must survive restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// The first successful poll happened (it marks everything present as seen).
    pub initialized: bool,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
    /// No fetch before this time (backoff or the server's Retry-After).
    pub retry_at: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the current run of failures began; `None` while the feed works.
    #[serde(default)]
    pub failing_since: Option<DateTime<Utc>>,
    /// The admins were told this feed is down (they hear once, and once more on recovery).
    #[serde(default)]
    pub down_notified: bool,
}

/// A story as kept for the retention window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredStory {
    #[serde(flatten)]
    pub story: Story,
    pub first_seen: DateTime<Utc>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PruneStats {
    pub keys: usize,
    pub stories: usize,
}

pub struct Store {
    db: sled::Db,
    path: PathBuf,
    /// Names each health probe file, so concurrent checks never remove each other's.
    probes: AtomicU64,
    health: sled::Tree,
    seen: sled::Tree,
    stories: sled::Tree,
    feeds: sled::Tree,
    tg: outbox::Trees,
    fold: fold::Trees,
    digest: digest::Trees,
}

impl Store {
    /// Opens (or creates) the store. Another process holding it gives [`StoreError::Locked`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        // sled releases its lock when its last handle and background flusher are gone, which
        // can trail a drop by a moment: a store closed just now by this same process (a test,
        // a restart in place) is retried briefly before it counts as held by another process.
        let mut attempt = 0;
        let db = loop {
            let opened = sled::Config::new()
                .path(path)
                // sled's default cache is 1 GiB; a news store needs a few MiB to stay fast.
                .cache_capacity(16 * 1024 * 1024)
                .flush_every_ms(Some(1000))
                .open();
            match opened {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    attempt += 1;
                    if attempt >= LOCK_RETRIES {
                        return Err(StoreError::Locked {
                            path: path.to_path_buf(),
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(source) => {
                    return Err(StoreError::Open {
                        path: path.to_path_buf(),
                        source,
                    });
                }
            }
        };
        Ok(Store {
            seen: db.open_tree("seen.v1")?,
            stories: db.open_tree("stories.v1")?,
            feeds: db.open_tree("feeds.v1")?,
            tg: outbox::Trees::open(&db)?,
            fold: fold::Trees::open(&db)?,
            digest: digest::Trees::open(&db)?,
            health: db.open_tree("health.v1")?,
            path: path.to_path_buf(),
            probes: AtomicU64::new(0),
            db,
        })
    }

    pub fn feed_state(&self, feed: &str) -> Result<FeedState, StoreError> {
        match self.feeds.get(feed.as_bytes())? {
            Some(v) => decode(&self.feeds, feed.as_bytes(), &v, "feed state"),
            None => Ok(FeedState::default()),
        }
    }

    pub fn set_feed_state(&self, feed: &str, state: &FeedState) -> Result<(), StoreError> {
        let v = encode(state, "feed state")?;
        self.feeds.insert(feed.as_bytes(), v)?;
        Ok(())
    }

    /// Every feed with stored state, by name.
    pub fn feed_states(&self) -> Result<Vec<(String, FeedState)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.feeds.iter() {
            let (k, v) = kv?;
            let state = decode(&self.feeds, &k, &v, "feed state")?;
            out.push((String::from_utf8_lossy(&k).into_owned(), state));
        }
        Ok(out)
    }

    /// Records a poll's stories and returns the indices (into `stories`) of those never seen
    /// before: none of their keys (GUID, canonical URL, title within the feed) was known,
    /// counting earlier items of the same batch. All keys of all stories are marked seen, and
    /// new stories are kept, chunk by chunk (see [`Store::admit_and_enqueue`]).
    pub fn admit(&self, stories: &[Story], now: DateTime<Utc>) -> Result<Vec<usize>, StoreError> {
        self.admit_and_enqueue(stories, now, |_| Vec::<OutboxEntry>::new())
            .map(|(new, _)| new)
    }

    /// [`Store::admit`], and queues the outbox entries (and pending digest items, see
    /// [`digest`]) that `enqueue` returns for a story (given its index into `stories`) if it
    /// is new, in the transaction that marks it seen.
    /// Returns every new index, in feed order, and how many entries were queued.
    ///
    /// Invariant: the work is split into transactions of at most [`ADMIT_CHUNK`] stories, so
    /// memory is bounded by the chunk, not by the feed (sled keeps a transaction's writes in
    /// memory until it commits: one transaction over a 50,000-item first poll took a gigabyte).
    /// Each story's keys, record and outbox entries still commit together, in its chunk. A
    /// crash between two chunks leaves the earlier chunks complete (seen, kept, queued) and
    /// the later ones untouched: they are new again at the next poll.
    ///
    /// sled runs a transaction's closure under its process-wide write lock, which every other
    /// read and write of the store waits for: records and entries are encoded before it, so
    /// the lock covers only the lookups and inserts, and other feeds' polls get the store
    /// between chunks.
    pub fn admit_and_enqueue<Q>(
        &self,
        stories: &[Story],
        now: DateTime<Utc>,
        enqueue: impl Fn(usize) -> Q,
    ) -> Result<(Vec<usize>, usize), StoreError>
    where
        Q: Into<Queued>,
    {
        let mut new = Vec::new();
        let queued = self.admit_chunks(
            stories,
            now,
            |_| Vec::new(),
            enqueue,
            |chunk, _| new.extend(chunk),
        )?;
        Ok((new, queued))
    }

    /// [`Store::admit_and_enqueue`], handing each chunk's new indices (and how folding placed
    /// them, when it is on) to `committed` as soon as its transaction has committed: a caller that acts after the store (the console prints
    /// alerts) acts on every committed chunk even when a later chunk fails. Returns how many
    /// entries were queued.
    ///
    /// With folding on (`[fold]`, [`Store::set_fold`]), the new stories for which `alerting`
    /// names rules (those that matched) are folded: a copy of a story already announced in
    /// the window becomes an edit of the chats' messages instead of a new one. Stories that
    /// alert nobody are not folded (nobody has a message a copy could edit), which keeps a big
    /// first poll as cheap as before.
    pub fn admit_chunks<Q>(
        &self,
        stories: &[Story],
        now: DateTime<Utc>,
        alerting: impl Fn(usize) -> Vec<String>,
        enqueue: impl Fn(usize) -> Q,
        mut committed: impl FnMut(&[usize], &[fold::Folded]),
    ) -> Result<usize, StoreError>
    where
        Q: Into<Queued>,
    {
        let mut queued = 0;
        let boilerplate = if self.fold.on() {
            fold::boilerplate(stories)
        } else {
            Default::default()
        };
        for start in (0..stories.len()).step_by(ADMIT_CHUNK) {
            let end = (start + ADMIT_CHUNK).min(stories.len());
            let (chunk_new, chunk_queued, folded) =
                self.admit_chunk(stories, start..end, now, &alerting, &enqueue, &boilerplate)?;
            committed(&chunk_new, &folded);
            queued += chunk_queued;
            std::thread::yield_now();
        }
        Ok(queued)
    }

    /// One transaction of [`Store::admit_and_enqueue`]: the stories in `range`. With folding
    /// on, the new stories are folded first (under the fold index's lock, held until the
    /// transaction committed), their fold records and clusters are written in the same
    /// transaction, and a copy's alerts become edits of the chats' first messages.
    fn admit_chunk<Q: Into<Queued>>(
        &self,
        stories: &[Story],
        range: std::ops::Range<usize>,
        now: DateTime<Utc>,
        alerting: &impl Fn(usize) -> Vec<String>,
        enqueue: &impl Fn(usize) -> Q,
        boilerplate: &std::collections::HashSet<&str>,
    ) -> Result<(Vec<usize>, usize, Vec<fold::Folded>), StoreError> {
        struct Prepared {
            index: usize,
            keys: crate::story::DedupKeys,
            record: Vec<u8>,
            entries: Vec<Vec<u8>>,
            /// (due ++ chat, record) of its pending digest items.
            pending: Vec<([u8; 16], Vec<u8>)>,
        }
        let mut folding = fold::ChunkFold::begin(self);
        // Under the fold lock nothing else admits, so a key not in `seen.v1` now (nor earlier in
        // this chunk) is still unseen in the transaction: only those stories are folded.
        let mut chunk_keys: std::collections::HashSet<Key> = std::collections::HashSet::new();
        let mut prepared = Vec::with_capacity(range.len());
        // The chunk's pending items so far: a folded copy may join a lead admitted before it.
        let mut prepared_pending: Vec<Pending> = Vec::new();
        let mut edits_at = None;
        for index in range {
            let keys = dedup_keys(&stories[index]);
            let record = StoredStory {
                story: stories[index].clone(),
                first_seen: now,
            };
            let Queued {
                mut entries,
                mut pending,
            } = enqueue(index).into();
            let rules = if folding.is_some() {
                alerting(index)
            } else {
                Vec::new()
            };
            if let Some(f) = folding.as_mut()
                && !rules.is_empty()
            {
                // A story folded before is in the index (while in the window): seen.
                let mut unseen = !f.knows(&keys.guid);
                for key in keys.all() {
                    if unseen && (chunk_keys.contains(key) || self.seen.contains_key(key)?) {
                        unseen = false;
                    }
                }
                chunk_keys.extend(keys.all().copied());
                if unseen {
                    let doc = fold::doc_of(&stories[index], boilerplate);
                    let story = (&stories[index], doc, &keys.guid, rules);
                    entries = f.story(self, index, story, entries, now)?;
                    edits_at = Some(index);
                    if let Some(placed) = f.folded.last().filter(|p| p.index == index) {
                        pending = self.fold_pending(pending, placed, &prepared_pending)?;
                    }
                }
            }
            let entries = entries
                .iter()
                .map(|e| encode(e, "outbox entry"))
                .collect::<Result<Vec<_>, _>>()?;
            prepared_pending.extend(pending.iter().cloned());
            let pending = pending
                .iter()
                .map(|p| {
                    let record = digest::PendingRecord {
                        kind: p.kind,
                        item: p.item.clone(),
                    };
                    Ok((
                        digest::group_prefix(p.due, p.chat),
                        encode(&record, "pending digest item")?,
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            prepared.push(Prepared {
                index,
                keys,
                record: encode(&record, "story")?,
                entries,
                pending,
            });
        }
        // The chunk's edits go out after its first messages, with the last story folded.
        let mut fold_writes: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if let Some(f) = folding.as_ref() {
            let edits = f
                .edit_entries(now)
                .iter()
                .map(|e| encode(e, "outbox entry"))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(at) = edits_at
                && let Some(p) = prepared.iter_mut().find(|p| p.index == at)
            {
                p.entries.extend(edits);
            }
            for (id, at, cluster, print) in &f.inserts {
                fold_writes.push((
                    id.to_be_bytes().to_vec(),
                    fold::encode_print(*at, *cluster, print),
                ));
            }
        }
        let cluster_writes: Vec<(Vec<u8>, Vec<u8>)> = match folding.as_ref() {
            Some(f) => f
                .clusters
                .iter()
                .map(|(id, c)| Ok((id.to_be_bytes().to_vec(), encode(c, "cluster")?)))
                .collect::<Result<_, StoreError>>()?,
            None => Vec::new(),
        };
        let stamp = now.timestamp().to_be_bytes();
        let result = (
            &self.seen,
            &self.stories,
            &self.tg.outbox,
            &self.fold.prints,
            &self.fold.clusters,
            &self.digest.pending,
        )
            .transaction(|(seen, kept, outbox, prints, clusters, digests)| {
                let mut new = Vec::new();
                let mut queued = 0;
                for p in &prepared {
                    let mut known = false;
                    for key in p.keys.all() {
                        match seen.get(key)? {
                            Some(v) => {
                                known = true;
                                if now.timestamp() - decode_stamp(&v) > REFRESH_AFTER_SECS {
                                    seen.insert(&key[..], &stamp[..])?;
                                }
                            }
                            None => {
                                seen.insert(&key[..], &stamp[..])?;
                            }
                        }
                    }
                    if !known {
                        kept.insert(&p.keys.guid[..], &p.record[..])?;
                        for entry in &p.entries {
                            outbox.insert(&outbox.generate_id()?.to_be_bytes()[..], &entry[..])?;
                        }
                        for (group, record) in &p.pending {
                            let mut k = group.to_vec();
                            k.extend_from_slice(&digests.generate_id()?.to_be_bytes());
                            digests.insert(k, &record[..])?;
                        }
                        queued += p.entries.len() + p.pending.len();
                        new.push(p.index);
                    }
                }
                for (k, v) in &fold_writes {
                    prints.insert(&k[..], &v[..])?;
                }
                for (k, v) in &cluster_writes {
                    clusters.insert(&k[..], &v[..])?;
                }
                Ok::<_, ConflictableTransactionError<Infallible>>((new, queued))
            });
        let (new, queued) = result.map_err(tx_error)?;
        if prepared.iter().any(|p| !p.pending.is_empty()) {
            self.digest.wake.notify_one();
        }
        let folded = folding.map(fold::ChunkFold::commit).unwrap_or_default();
        Ok((new, queued, folded))
    }

    /// Stories first seen at or after `since`, oldest first.
    pub fn stories_since(&self, since: DateTime<Utc>) -> Result<Vec<StoredStory>, StoreError> {
        let mut out = Vec::new();
        for kv in self.stories.iter() {
            let (k, v) = kv?;
            let s: StoredStory = decode(&self.stories, &k, &v, "story")?;
            if s.first_seen >= since {
                out.push(s);
            }
        }
        out.sort_by(|a, b| {
            (a.first_seen, &a.story.feed, &a.story.id).cmp(&(
                b.first_seen,
                &b.story.feed,
                &b.story.id,
            ))
        });
        Ok(out)
    }

    /// Removes seen keys and stories older than `retention_days`.
    pub fn prune(&self, now: DateTime<Utc>, retention_days: u32) -> Result<PruneStats, StoreError> {
        let cutoff = now - chrono::Duration::days(i64::from(retention_days));
        let mut stats = PruneStats::default();
        for kv in self.seen.iter() {
            let (k, v) = kv?;
            if decode_stamp(&v) < cutoff.timestamp() {
                self.seen.remove(k)?;
                stats.keys += 1;
            }
        }
        for kv in self.stories.iter() {
            let (k, v) = kv?;
            // A record we cannot read is removed too: it can never be replayed.
            let old =
                serde_json::from_slice::<StoredStory>(&v).map_or(true, |s| s.first_seen < cutoff);
            if old {
                self.stories.remove(k)?;
                stats.stories += 1;
            }
        }
        Ok(stats)
    }

    pub fn seen_len(&self) -> usize {
        self.seen.len()
    }

    pub fn stories_len(&self) -> usize {
        self.stories.len()
    }

    /// Writes everything to disk; called at shutdown.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Proves the store can still be written: a heartbeat goes through sled to disk, and a
    /// probe file is created, synced and removed in the store's directory. The second part
    /// matters because sled keeps its files open: a directory removed or replaced under it
    /// lets sled's own writes succeed until it needs a new file (a snapshot), and then fails.
    /// Blocks on disk IO: call it off the async threads.
    pub fn health_check(&self) -> Result<(), StoreError> {
        let not_writable = |reason: String| StoreError::NotWritable {
            path: self.path.clone(),
            reason,
        };
        let stamp = Utc::now().timestamp().to_be_bytes();
        // The file probe first: it is quick, and it is what fails when the directory is gone,
        // so a broken store fails its check at once; the flush may wait behind a big write.
        let n = self.probes.fetch_add(1, Ordering::Relaxed);
        let probe = self
            .path
            .join(format!(".health-probe-{}-{n}", std::process::id()));
        let written = std::fs::File::create(&probe).and_then(|mut f| {
            f.write_all(&stamp)?;
            f.sync_all()
        });
        // Removed even when the write failed half-way, so probes never pile up.
        let removed = std::fs::remove_file(&probe);
        written
            .and(removed)
            .map_err(|e| not_writable(format!("cannot write {}: {e}", probe.display())))?;
        self.health
            .insert("heartbeat", &stamp[..])
            .and_then(|_| self.db.flush())
            .map(|_| ())
            .map_err(|e| not_writable(format!("cannot write a heartbeat: {e}")))
    }
}

fn decode_stamp(v: &[u8]) -> i64 {
    <[u8; 8]>::try_from(v).map_or(0, i64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(feed: &str, id: &str, title: &str, url: &str) -> Story {
        crate::story::test_story(feed, id, title, url)
    }

    /// Stories `0..n` of feed `f`, each with its own GUID, title and link.
    fn numbered(n: usize) -> Vec<Story> {
        (0..n)
            .map(|i| {
                story(
                    "f",
                    &i.to_string(),
                    &format!("기사 {i}"),
                    &format!("https://e.com/{i}"),
                )
            })
            .collect()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_story_is_new_once_by_any_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let a = story("f", "1", "삼성전자 실적 발표", "https://e.com/1");
        let b = story("f", "2", "엔비디아 주가 급등", "https://e.com/2");
        assert_eq!(
            store.admit(&[a.clone(), b.clone()], now()).expect("admit"),
            vec![0, 1]
        );
        assert!(
            store
                .admit(&[b.clone(), a.clone()], now())
                .expect("admit")
                .is_empty()
        );
        // Changed GUID, same link; changed link, same title: still known.
        let a2 = story("f", "1-edited", "다른 제목입니다", "https://e.com/1");
        let b2 = story("f", "99", "엔비디아 주가 급등", "https://e.com/other");
        assert!(store.admit(&[a2, b2], now()).expect("admit").is_empty());
        // The same title in another feed is a different story.
        let c = story("g", "5", "엔비디아 주가 급등", "https://other.com/5");
        assert_eq!(store.admit(&[c], now()).expect("admit"), vec![0]);
        // Repeated items inside one batch count once.
        let d = story("f", "7", "새 기사 하나", "https://e.com/7");
        assert_eq!(store.admit(&[d.clone(), d], now()).expect("admit"), vec![0]);
        assert_eq!(store.stories_len(), 4);
    }

    /// Regression (issue 10, fault 1): a big first poll is admitted in bounded chunks.
    #[test]
    fn a_big_batch_is_admitted_in_chunks_with_the_same_answer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let n = ADMIT_CHUNK * 2 + 10;
        let mut stories = numbered(n);
        // A duplicate of story 3 in the last chunk, and one of the first chunk's last story
        // right after the boundary: known across chunks as within one.
        stories.push(stories[3].clone());
        stories.insert(ADMIT_CHUNK, stories[ADMIT_CHUNK - 1].clone());
        let preview = store.unseen(&stories).expect("unseen");
        let (new, queued) = store
            .admit_and_enqueue(&stories, now(), |i| {
                vec![OutboxEntry::notice(1, format!("{i}"), now())]
            })
            .expect("admit");
        assert_eq!(new.len(), n);
        assert_eq!(new, preview, "the preview agrees with the transactions");
        assert!(!new.contains(&ADMIT_CHUNK) && !new.contains(&(n + 1)));
        assert_eq!(queued, n, "entries only for the new stories");
        assert_eq!(store.outbox_len(), n);
        assert_eq!(store.stories_len(), n);
    }

    /// `admit_chunks` hands over each chunk's new stories once it is committed, in order.
    #[test]
    fn each_committed_chunk_is_handed_over_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let stories = numbered(ADMIT_CHUNK * 2 + 5);
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        let queued = store
            .admit_chunks(
                &stories,
                now(),
                |_| Vec::new(),
                |_| Vec::new(),
                |c, _| chunks.push(c.to_vec()),
            )
            .expect("admit");
        assert_eq!(queued, 0);
        assert_eq!(
            chunks,
            vec![
                (0..ADMIT_CHUNK).collect::<Vec<_>>(),
                (ADMIT_CHUNK..ADMIT_CHUNK * 2).collect(),
                (ADMIT_CHUNK * 2..ADMIT_CHUNK * 2 + 5).collect(),
            ]
        );
    }

    /// A crash between two chunks: the first is complete, the rest is new at the next poll.
    #[test]
    fn a_crash_between_chunks_leaves_whole_chunks_and_the_rest_new() {
        let dir = tempfile::tempdir().expect("tempdir");
        let n = ADMIT_CHUNK + 40;
        let stories = numbered(n);
        let queue = |i: usize| vec![OutboxEntry::notice(1, format!("{i}"), now())];
        {
            let store = Store::open(dir.path()).expect("open");
            // The first chunk commits; the process dies before the second.
            let (new, queued, _) = store
                .admit_chunk(
                    &stories,
                    0..ADMIT_CHUNK,
                    now(),
                    &|_| Vec::new(),
                    &queue,
                    &Default::default(),
                )
                .expect("first chunk");
            assert_eq!((new.len(), queued), (ADMIT_CHUNK, ADMIT_CHUNK));
            store.flush().expect("flush");
        }
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(store.outbox_len(), ADMIT_CHUNK);
        let (new, queued) = store
            .admit_and_enqueue(&stories, now(), queue)
            .expect("next poll");
        assert_eq!(new, (ADMIT_CHUNK..n).collect::<Vec<_>>());
        assert_eq!(queued, 40);
        assert_eq!(store.outbox_len(), n, "every story queued exactly once");
        assert_eq!(store.stories_len(), n);
    }

    #[test]
    fn state_survives_reopen_and_second_open_is_locked() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            store
                .admit(
                    &[story("f", "1", "제목 하나입니다", "https://e.com/1")],
                    now(),
                )
                .expect("admit");
            let st = FeedState {
                initialized: true,
                etag: Some("\"x\"".into()),
                ..FeedState::default()
            };
            store.set_feed_state("f", &st).expect("state");
            let err = Store::open(dir.path())
                .err()
                .expect("second open must fail");
            assert!(matches!(err, StoreError::Locked { .. }), "{err}");
            assert!(err.to_string().contains("in use by another kkachi process"));
            store.flush().expect("flush");
        }
        let store = Store::open(dir.path()).expect("reopen");
        assert!(store.feed_state("f").expect("state").initialized);
        assert!(
            store
                .admit(
                    &[story("f", "1", "제목 하나입니다", "https://e.com/1")],
                    now()
                )
                .expect("admit")
                .is_empty()
        );
    }

    #[test]
    fn prune_forgets_old_keys_and_stories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let old = now() - chrono::Duration::days(40);
        store
            .admit(
                &[story("f", "1", "오래된 기사 제목", "https://e.com/1")],
                old,
            )
            .expect("admit");
        store
            .admit(
                &[story("f", "2", "새로운 기사 제목", "https://e.com/2")],
                now(),
            )
            .expect("admit");
        let stats = store.prune(now(), 30).expect("prune");
        assert_eq!(stats.stories, 1);
        assert_eq!(stats.keys, 3);
        assert_eq!(store.stories_since(old).expect("since").len(), 1);
    }

    #[test]
    fn health_check_fails_when_the_directory_is_replaced_and_recovers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store");
        let store = Store::open(&path).expect("open");
        store.health_check().expect("a fresh store is healthy");
        // Tests run as root, where permissions do not stop writes: move the directory away
        // and put a regular file in its place instead.
        let moved = dir.path().join("store.moved");
        std::fs::rename(&path, &moved).expect("move the store away");
        std::fs::write(&path, b"not a directory").expect("replace it by a file");
        let err = store
            .health_check()
            .expect_err("a replaced directory is unhealthy");
        assert!(matches!(err, StoreError::NotWritable { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "the store at {} is not writable: ",
                path.display()
            )),
            "{text}"
        );
        std::fs::remove_file(&path).expect("remove the file");
        std::fs::rename(&moved, &path).expect("restore the store");
        store.health_check().expect("healthy again once restored");
        let left: Vec<_> = std::fs::read_dir(&path)
            .expect("read dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".health-probe"))
            .collect();
        assert!(left.is_empty(), "probe files left behind: {left:?}");
    }

    #[test]
    fn keys_seen_again_are_refreshed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let s = story("f", "1", "계속 남아있는 기사", "https://e.com/1");
        store
            .admit(std::slice::from_ref(&s), now() - chrono::Duration::days(29))
            .expect("admit");
        store.admit(std::slice::from_ref(&s), now()).expect("admit");
        let stats = store
            .prune(now() + chrono::Duration::days(2), 30)
            .expect("prune");
        assert_eq!(stats.keys, 0, "keys were refreshed by the second sighting");
    }

    #[test]
    fn a_corrupt_record_names_its_tree_and_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        // A printable key is quoted.
        store
            .feeds
            .insert("yna", &b"{not json"[..])
            .expect("insert");
        let err = store.feed_state("yna").expect_err("corrupt");
        match &err {
            StoreError::Corrupt {
                what, tree, key, ..
            } => assert_eq!(
                (*what, tree.as_str(), &key[..]),
                ("feed state", "feeds.v1", &b"yna"[..])
            ),
            other => panic!("{other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.starts_with(
                "corrupt feed state record in the store (tree feeds.v1, key \"yna\"): "
            ),
            "{text}"
        );
        let err = store.feed_states().expect_err("corrupt");
        assert!(
            err.to_string().contains("(tree feeds.v1, key \"yna\")"),
            "{err}"
        );
        // A binary key (an outbox sequence number) is hex.
        store
            .tg
            .outbox
            .insert(7u64.to_be_bytes(), &b"[]"[..])
            .expect("insert");
        let err = store.outbox().expect_err("corrupt");
        assert!(
            matches!(&err, StoreError::Corrupt { tree, .. } if tree == "outbox.v1"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("(tree outbox.v1, key 0000000000000007)"),
            "{err}"
        );
        let err = store.outbox_entry(7).expect_err("corrupt");
        assert!(err.to_string().contains("key 0000000000000007"), "{err}");
    }

    #[test]
    fn an_encoding_failure_is_not_a_corrupt_record_nor_a_sled_error() {
        // JSON object keys must be strings: a map keyed by pairs does not encode.
        let map: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let err = encode(&map, "test").expect_err("does not encode");
        assert!(
            matches!(err, StoreError::Encode { what: "test", .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("cannot encode a test record for the store: "),
            "{err}"
        );
    }

    #[test]
    fn keys_are_shown_as_text_or_hex() {
        assert_eq!(key_text(b"yna"), "\"yna\"");
        assert_eq!(key_text(b"\x00\x01\xff"), "0001ff");
        assert_eq!(key_text(b"a\nb"), "610a62");
        assert_eq!(key_text(b""), "");
    }
}
