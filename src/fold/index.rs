//! The in-memory LSH index of the stories in the window: band keys only (prints live in the
//! caller's store). One flat table for all bands: entry `slot * per + band` holds that band's
//! key and the next entry in its bucket's chain, so a story costs `per` × 12 bytes of entries,
//! one slot and its share of the bucket heads — no allocation per band value. Pruned slots are
//! reused; the heads grow (by doubling and relinking) as the window grows.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;

use super::hash::{BANDS, EVENT_BANDS, PREFIX_BANDS};
use super::{Id, Join, Print, Settings, verify};

const NIL: u32 = u32::MAX;
/// A key of 0 marks an empty entry; a real key of 0 (odds 2⁻⁶⁴) is stored as 1.
const EMPTY: u64 = 0;
/// At most this many candidates are verified per decision, best-banded first: a template that
/// puts thousands of stories in one bucket cannot make a decision slow.
pub const MAX_VERIFIED: usize = 64;
/// A story sharing only lede-start bands is a candidate with at least this many of the 10: two
/// ledes that start alike for a few words (a shared template phrase) share one or two, a first
/// report and its roundup most (P ≈ 0.93 at J = 0.9 of the starts, 0.02 at 0.7).
pub const MIN_START_HITS: u32 = 4;

#[derive(Clone, Copy)]
struct Slot {
    /// 0 = free.
    id: Id,
    cluster: Id,
    at: i64,
}

pub struct Index {
    settings: Settings,
    /// Entries per slot: the copy bands, the lede-start bands, plus the events bands when they
    /// are on.
    per: usize,
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_id: HashMap<Id, u32>,
    keys: Vec<u64>,
    next: Vec<u32>,
    /// Bucket heads, a power of two long.
    heads: Vec<u32>,
    live: usize,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("settings", &self.settings)
            .field("len", &self.live)
            .field("buckets", &self.heads.len())
            .finish()
    }
}

fn real(key: u64) -> u64 {
    if key == EMPTY { 1 } else { key }
}

impl Index {
    pub fn new(settings: Settings) -> Index {
        let per = BANDS + PREFIX_BANDS + if settings.events { EVENT_BANDS } else { 0 };
        Index {
            settings,
            per,
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            keys: Vec::new(),
            next: Vec::new(),
            heads: vec![NIL; 1024],
            live: 0,
        }
    }

    fn bucket(&self, key: u64) -> usize {
        (key as usize) & (self.heads.len() - 1)
    }

    /// The print's keys in entry order (copy bands, lede-start bands, then events bands when
    /// on); a print without bands gives empty entries. The lede-start bands offer the copies
    /// that share most of one side and little of the union (1보 ⊂ 종합, a lede cut at ~120
    /// chars), which 32 × 4 over all shingles misses; `verify` stays exact.
    fn keys_of<'p>(&self, print: &'p Print) -> impl Iterator<Item = (usize, u64)> + 'p {
        let events = self.settings.events;
        let copy = print.bands().iter().map(|k| real(*k));
        let start = print.prefix_bands().iter().map(|k| real(*k));
        let ev = print
            .event_bands()
            .iter()
            .map(|k| real(*k))
            .filter(move |_| events);
        copy.enumerate()
            .chain(start.enumerate().map(|(i, k)| (BANDS + i, k)))
            .chain(ev.enumerate().map(|(i, k)| (BANDS + PREFIX_BANDS + i, k)))
    }

    fn link(&mut self, e: usize, key: u64) {
        self.keys[e] = key;
        let b = self.bucket(key);
        self.next[e] = self.heads[b];
        self.heads[b] = e as u32;
    }

    fn unlink(&mut self, e: usize) {
        let key = self.keys[e];
        if key == EMPTY {
            return;
        }
        let b = self.bucket(key);
        let e32 = e as u32;
        if self.heads[b] == e32 {
            self.heads[b] = self.next[e];
        } else {
            let mut p = self.heads[b];
            while p != NIL {
                let n = self.next[p as usize];
                if n == e32 {
                    self.next[p as usize] = self.next[e];
                    break;
                }
                p = n;
            }
        }
        self.keys[e] = EMPTY;
        self.next[e] = NIL;
    }

    fn grow(&mut self) {
        let len = self.heads.len() * 2;
        self.heads = vec![NIL; len];
        for e in 0..self.keys.len() {
            let key = self.keys[e];
            if key != EMPTY {
                self.link(e, key);
            }
        }
    }

    /// The candidates: slots sharing at least one copy or events band with `print`, or at
    /// least [`MIN_START_HITS`] lede-start bands, with how many bands they share, most first
    /// (ties: lower slot first).
    fn ranked(&self, print: &Print) -> Vec<(u32, u32)> {
        // Slot × 2, + 1 for a lede-start band.
        let mut hits: Vec<u32> = Vec::new();
        for (band, key) in self.keys_of(print) {
            let start = u32::from((BANDS..BANDS + PREFIX_BANDS).contains(&band));
            let mut e = self.heads[self.bucket(key)];
            while e != NIL {
                let i = e as usize;
                if self.keys[i] == key && i % self.per == band {
                    hits.push((i / self.per) as u32 * 2 + start);
                }
                e = self.next[i];
            }
        }
        hits.sort_unstable();
        // (slot, bands, lede-start bands)
        let mut all: Vec<(u32, u32, u32)> = Vec::new();
        for h in hits {
            let (s, start) = (h / 2, h % 2);
            match all.last_mut() {
                Some((last, n, st)) if *last == s => {
                    *n += 1;
                    *st += start;
                }
                _ => all.push((s, 1, start)),
            }
        }
        let mut ranked: Vec<(u32, u32)> = all
            .into_iter()
            .filter(|&(_, n, start)| n > start || start >= MIN_START_HITS)
            .map(|(s, n, _)| (s, n))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// The best existing story `print` folds into, checking candidates exactly (at most
    /// [`MAX_VERIFIED`], most shared bands first; once a copy is found, candidates sharing fewer
    /// bands than it are not checked). `lookup` returns a candidate's stored print (None if the
    /// caller no longer has it: skip it).
    pub fn decide(&self, print: &Print, lookup: impl FnMut(Id) -> Option<Print>) -> Option<Join> {
        self.decide_with(print, lookup)
    }

    /// [`Index::decide`] with a `lookup` that may lend the stored print (`Option<&Print>`, a
    /// `Cow`) instead of handing over a copy.
    pub fn decide_with<P: Borrow<Print>>(
        &self,
        print: &Print,
        mut lookup: impl FnMut(Id) -> Option<P>,
    ) -> Option<Join> {
        let mut best: Option<Join> = None;
        let mut best_hits = 0;
        for (slot, hits) in self.ranked(print).into_iter().take(MAX_VERIFIED) {
            // Candidates come most shared bands first, and shared bands grow with similarity:
            // once a copy is found, one sharing fewer bands is not checked.
            if best
                .as_ref()
                .is_some_and(|b| b.verdict.tier == super::Tier::Copy)
                && hits < best_hits
            {
                break;
            }
            let s = self.slots[slot as usize];
            let Some(old) = lookup(s.id) else { continue };
            let Some(verdict) = verify(print, old.borrow(), &self.settings) else {
                continue;
            };
            if best
                .as_ref()
                .is_none_or(|b| verdict.score() > b.verdict.score())
            {
                best_hits = hits;
                best = Some(Join {
                    id: s.id,
                    cluster: s.cluster,
                    verdict,
                });
            }
        }
        best
    }

    /// The ids of the candidates (see `ranked`), most shared bands first.
    pub fn candidates(&self, print: &Print) -> Vec<Id> {
        self.ranked(print)
            .into_iter()
            .map(|(s, _)| self.slots[s as usize].id)
            .collect()
    }

    /// Adds a story (replacing an earlier entry with the same id). `cluster` = the id of the
    /// cluster's first story (its own id for a new cluster).
    pub fn insert(&mut self, id: Id, cluster: Id, at: i64, print: &Print) {
        if let Some(&old) = self.by_id.get(&id) {
            self.remove(old as usize);
        }
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                self.slots.push(Slot {
                    id: 0,
                    cluster: 0,
                    at: 0,
                });
                self.keys.resize(self.slots.len() * self.per, EMPTY);
                self.next.resize(self.slots.len() * self.per, NIL);
                self.slots.len() - 1
            }
        };
        self.slots[slot] = Slot { id, cluster, at };
        self.by_id.insert(id, slot as u32);
        self.live += 1;
        if self.live * self.per > self.heads.len() {
            self.grow();
        }
        let keys: Vec<(usize, u64)> = self.keys_of(print).collect();
        for (band, key) in keys {
            self.link(slot * self.per + band, key);
        }
    }

    fn remove(&mut self, slot: usize) {
        for e in slot * self.per..(slot + 1) * self.per {
            self.unlink(e);
        }
        self.by_id.remove(&self.slots[slot].id);
        self.slots[slot].id = 0;
        self.free.push(slot as u32);
        self.live -= 1;
    }

    pub fn cluster_of(&self, id: Id) -> Option<Id> {
        self.by_id.get(&id).map(|s| self.slots[*s as usize].cluster)
    }

    /// Drops stories whose `at` < before; returns how many.
    pub fn prune(&mut self, before: i64) -> usize {
        let old: Vec<usize> = (0..self.slots.len())
            .filter(|&s| self.slots[s].id != 0 && self.slots[s].at < before)
            .collect();
        for &s in &old {
            self.remove(s);
        }
        old.len()
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// An estimate of the heap the index holds (capacities, and the id map's table at one
    /// control byte per bucket).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.slots.capacity() * size_of::<Slot>()
            + self.free.capacity() * 4
            + self.keys.capacity() * 8
            + self.next.capacity() * 4
            + self.heads.capacity() * 4
            + self.by_id.capacity() * (size_of::<(Id, u32)>() + 1) * 8 / 7
    }
}
