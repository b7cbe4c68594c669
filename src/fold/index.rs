//! The in-memory LSH index of the stories in the window: band keys and a lede sketch per story
//! (prints live in the caller's store). One flat table for the copy (and events) bands: entry
//! `slot * per + band` holds the low 32 bits of that band's key and its neighbours in its
//! bucket's chain (doubly linked, so a pruned story leaves its chains in constant time however
//! long they are), so a story costs `per` × 12 bytes of entries, its slot, its 64-byte sketch
//! and its share of the bucket heads — no allocation per band value. Pruned slots are reused;
//! the heads grow (by doubling and relinking) as the window grows, to keep at most two entries
//! a bucket.
//!
//! The lede-start bands are posting lists instead: (band, key) → the slots holding it, one slot
//! inline in the map, more in a list of their own. Many stories share a lede start (a template
//! phrase, a wire's opening words), so these keys are shared by tens of stories, and a chain
//! of them is a walk of dependent random reads; a list is read in one pass.
//!
//! A bucket is the low bits of a key, and an entry keeps only the key's low 32 bits, so two keys
//! that differ only above them look alike (for a window of 100,000 at about one entry in 500
//! of a bucket): an extra candidate now and then, which the sketch or `verify` rejects.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;

use super::hash::{BANDS, EVENT_BANDS, PREFIX_BANDS};
use super::{Id, Join, Keys, Print, Settings, Sketch, may_copy, verify};

const NIL: u32 = u32::MAX;
/// `prev` of an entry that heads its bucket's chain.
const HEAD: u32 = u32::MAX - 1;
/// The most entries a slot has (all three band sets).
const MAX_PER: usize = BANDS + EVENT_BANDS;
/// At most this many candidates are verified per decision, best-banded first: a template that
/// puts thousands of stories in one bucket cannot make a decision slow.
pub const MAX_VERIFIED: usize = 64;
/// A story sharing only lede-start bands is a candidate with at least this many of the 10: two
/// ledes that start alike for a few words (a shared template phrase) share one or two, a first
/// report and its roundup most (P ≈ 0.93 at J = 0.9 of the starts, 0.02 at 0.7).
pub const MIN_START_HITS: u32 = 4;
/// `Slot::meta`: the story takes the strict path (short or photo).
const STRICT: u16 = 1 << 15;
/// `Slot::meta`: the story's lede-start bands are in the posting lists (`Index::starts`).
const STARTS: u16 = 1 << 14;
/// `Slot::meta`: the lede's shingle count (saturated).
const TEXT_LEN: u16 = STARTS - 1;
/// A posting value with this bit set is an index into `Index::lists`; without, the one slot.
const LIST: u32 = 1 << 31;

/// The buckets of a hash table (`std`'s: a power of two, 7/8 of them usable) with this
/// `capacity`.
fn buckets(capacity: usize) -> usize {
    (capacity * 8).div_ceil(7).next_power_of_two()
}

/// The posting-list key of lede-start band `band` with key `key`.
fn start_key(band: usize, key: u32) -> u64 {
    (band as u64) << 32 | u64::from(key)
}

/// Hashes a posting key (already a hash in its low 32 bits) with one multiply: the table needs
/// its top bits spread as well as its low ones.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Postings = HashMap<u64, u32, std::hash::BuildHasherDefault<KeyHasher>>;

#[derive(Clone, Copy)]
struct Slot {
    /// 0 = free.
    id: Id,
    cluster: Id,
    at: i64,
}

/// One band value of one story in its bucket's chain. `prev` is [`HEAD`] for the chain's first
/// entry and [`NIL`] for an entry in no chain (a print without that band set, a free slot).
#[derive(Clone, Copy)]
struct Entry {
    key: u32,
    next: u32,
    prev: u32,
}

const UNLINKED: Entry = Entry {
    key: 0,
    next: NIL,
    prev: NIL,
};

pub struct Index {
    settings: Settings,
    /// Entries per slot: the copy bands, plus the events bands when they are on.
    per: usize,
    /// `u64::MAX / per + 1`: `e / per` as a multiply (Lemire et al., "Faster remainder by
    /// direct computation", exact for every u32 `e` when `per` ≥ 2).
    per_magic: u64,
    slots: Vec<Slot>,
    /// Per slot: the lede sketch, and the lede's shingle count (saturated) | [`STRICT`] |
    /// [`STARTS`].
    sketches: Vec<Sketch>,
    meta: Vec<u16>,
    /// Per slot: the lede-start band keys (valid when its meta has [`STARTS`]).
    starts: Vec<[u32; PREFIX_BANDS]>,
    /// (band, key) of a lede-start band → the one slot holding it, or [`LIST`] | an index
    /// into `lists`.
    postings: Postings,
    /// The posting lists of the keys held by two slots or more (unordered); `free_lists` are
    /// the empty ones, for reuse.
    lists: Vec<Vec<u32>>,
    free_lists: Vec<u32>,
    /// The most buckets `postings` and `by_id` have had (for `heap_bytes`: a table never
    /// shrinks, while its `capacity` falls as deleted cells take the place of free ones).
    buckets: (usize, usize),
    free: Vec<u32>,
    by_id: HashMap<Id, u32, std::hash::BuildHasherDefault<KeyHasher>>,
    entries: Vec<Entry>,
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

impl Index {
    pub fn new(settings: Settings) -> Index {
        let per = BANDS + if settings.events { EVENT_BANDS } else { 0 };
        Index {
            settings,
            per,
            per_magic: u64::MAX / per as u64 + 1,
            slots: Vec::new(),
            sketches: Vec::new(),
            meta: Vec::new(),
            starts: Vec::new(),
            postings: Postings::default(),
            lists: Vec::new(),
            free_lists: Vec::new(),
            buckets: (0, 0),
            free: Vec::new(),
            by_id: HashMap::default(),
            entries: Vec::new(),
            heads: vec![NIL; 1024],
            live: 0,
        }
    }

    fn bucket(&self, key: u32) -> usize {
        (key as usize) & (self.heads.len() - 1)
    }

    /// The slot of entry `e` (`e / per`).
    fn slot_of(&self, e: u32) -> u32 {
        ((u128::from(self.per_magic) * u128::from(e)) >> 64) as u32
    }

    /// The print's chained keys in entry order (copy bands, then events bands when on); a
    /// print without bands gives empty entries. (The lede-start bands, in the posting lists,
    /// offer the copies that share most of one side and little of the union (1보 ⊂ 종합, a
    /// lede cut at ~120 chars), which 32 × 4 over all shingles misses; `verify` stays exact.)
    fn keys_of<'p>(&self, keys: &'p Keys) -> impl Iterator<Item = (usize, u32)> + 'p {
        let events = self.settings.events;
        let copy = keys.bands().iter().copied();
        let ev = keys.event_bands().iter().copied().filter(move |_| events);
        copy.enumerate()
            .chain(ev.enumerate().map(|(i, k)| (BANDS + i, k)))
    }

    /// Adds `slot` to the posting of each lede-start band.
    fn post(&mut self, slot: u32, bands: &[u32; PREFIX_BANDS]) {
        use std::collections::hash_map::Entry as E;
        for (band, &key) in bands.iter().enumerate() {
            match self.postings.entry(start_key(band, key)) {
                E::Vacant(v) => {
                    v.insert(slot);
                }
                E::Occupied(mut o) => {
                    let v = *o.get();
                    if v & LIST != 0 {
                        self.lists[(v & !LIST) as usize].push(slot);
                    } else {
                        let l = match self.free_lists.pop() {
                            Some(l) => l,
                            None => {
                                self.lists.push(Vec::new());
                                (self.lists.len() - 1) as u32
                            }
                        };
                        self.lists[l as usize].extend([v, slot]);
                        o.insert(LIST | l);
                    }
                }
            }
        }
    }

    /// Takes `slot` out of the posting of each lede-start band.
    fn unpost(&mut self, slot: u32, bands: &[u32; PREFIX_BANDS]) {
        use std::collections::hash_map::Entry as E;
        for (band, &key) in bands.iter().enumerate() {
            let E::Occupied(mut o) = self.postings.entry(start_key(band, key)) else {
                continue;
            };
            let v = *o.get();
            if v & LIST == 0 {
                if v == slot {
                    o.remove();
                }
                continue;
            }
            let l = (v & !LIST) as usize;
            let list = &mut self.lists[l];
            if let Some(at) = list.iter().position(|&s| s == slot) {
                list.swap_remove(at);
            }
            if list.len() == 1 {
                o.insert(list[0]);
                list.clear();
                self.free_lists.push(l as u32);
            }
        }
    }

    fn link(&mut self, e: usize, key: u32) {
        let b = self.bucket(key);
        let head = self.heads[b];
        if head != NIL {
            self.entries[head as usize].prev = e as u32;
        }
        self.entries[e] = Entry {
            key,
            next: head,
            prev: HEAD,
        };
        self.heads[b] = e as u32;
    }

    fn unlink(&mut self, e: usize) {
        let Entry { key, next, prev } = self.entries[e];
        if prev == NIL {
            return;
        }
        if prev == HEAD {
            let b = self.bucket(key);
            self.heads[b] = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        self.entries[e] = UNLINKED;
    }

    fn grow(&mut self) {
        let len = self.heads.len() * 2;
        self.heads = vec![NIL; len];
        for e in 0..self.entries.len() {
            let Entry { key, prev, .. } = self.entries[e];
            if prev != NIL {
                self.link(e, key);
            }
        }
    }

    /// The candidates: slots sharing at least one copy or events band with `print`, or at
    /// least [`MIN_START_HITS`] lede-start bands, with how many bands they share, most first
    /// (ties: lower slot first).
    fn ranked(&self, keys: &Keys) -> Vec<(u32, u32)> {
        // The chains are walked side by side, one step of each per round, so their (random)
        // memory reads overlap instead of waiting on each other.
        let mut want = [(0u32, 0u32); MAX_PER];
        let mut at = [NIL; MAX_PER];
        let mut n = 0;
        for (band, key) in self.keys_of(keys) {
            want[n] = (band as u32, key);
            at[n] = self.heads[self.bucket(key)];
            n += 1;
        }
        // Slot × 2, + 1 for a lede-start band.
        let mut hits: Vec<u32> = Vec::with_capacity(4 * n + 64);
        for (band, &key) in keys.prefix_bands().iter().enumerate() {
            match self.postings.get(&start_key(band, key)) {
                None => {}
                Some(&v) if v & LIST == 0 => hits.push(v * 2 + 1),
                Some(&v) => hits.extend(self.lists[(v & !LIST) as usize].iter().map(|s| s * 2 + 1)),
            }
        }
        let per = self.per as u32;
        let mut walking = true;
        while walking {
            walking = false;
            for (&(band, key), e) in want[..n].iter().zip(&mut at[..n]) {
                if *e == NIL {
                    continue;
                }
                walking = true;
                let entry = self.entries[*e as usize];
                if entry.key == key {
                    let slot = self.slot_of(*e);
                    if *e - slot * per == band {
                        hits.push(slot * 2);
                    }
                }
                *e = entry.next;
            }
        }
        // Counted per slot in an open-addressed table instead of sorting the hits: (slot,
        // bands, lede-start bands). Sized by the hits, a power of two above their number: a
        // cell stays free (the probes end), and the distinct slots are far fewer than the hits.
        let bits = (hits.len() + 1)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let mask = (1usize << bits) - 1;
        let mut table = vec![(NIL, 0u32, 0u32); mask + 1];
        // The cells taken, in the order they were: read back instead of scanning the table.
        let mut taken: Vec<u32> = Vec::with_capacity(64);
        for h in hits {
            let (s, start) = (h / 2, h % 2);
            let mut i = (s.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize;
            loop {
                let t = &mut table[i];
                if t.0 == s {
                    t.1 += 1;
                    t.2 += start;
                    break;
                }
                if t.0 == NIL {
                    *t = (s, 1, start);
                    taken.push(i as u32);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        let mut ranked: Vec<(u32, u32)> = taken
            .into_iter()
            .map(|i| table[i as usize])
            .filter(|&(_, n, start)| n > start || start >= MIN_START_HITS)
            .map(|(s, n, _)| (s, n))
            .collect();
        // Slots are distinct: the order is total, an unstable sort gives the same.
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// The best existing story `print` folds into, checking candidates exactly (at most
    /// [`MAX_VERIFIED`], most shared bands first; once a copy is found, candidates sharing fewer
    /// bands than it are not checked). `lookup` returns a candidate's stored print (None if the
    /// caller no longer has it: skip it). With the events tier off, a candidate whose lede
    /// sketch rules out a copy (`fold::may_copy`; both on the normal path) is skipped
    /// without a lookup: most candidates are.
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
        let keys = print.keys();
        let sketched = !self.settings.events && !keys.is_strict();
        let own = (keys.sketch(), keys.text_len());
        for (slot, hits) in self.ranked(keys).into_iter().take(MAX_VERIFIED) {
            // Candidates come most shared bands first, and shared bands grow with similarity:
            // once a copy is found, one sharing fewer bands is not checked.
            if best
                .as_ref()
                .is_some_and(|b| b.verdict.tier == super::Tier::Copy)
                && hits < best_hits
            {
                break;
            }
            let meta = self.meta[slot as usize];
            if sketched
                && meta & STRICT == 0
                && !may_copy(
                    own,
                    (&self.sketches[slot as usize], usize::from(meta & TEXT_LEN)),
                )
            {
                continue;
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
        self.ranked(print.keys())
            .into_iter()
            .map(|(s, _)| self.slots[s as usize].id)
            .collect()
    }

    /// Adds a story (replacing an earlier entry with the same id). `cluster` = the id of the
    /// cluster's first story (its own id for a new cluster).
    pub fn insert(&mut self, id: Id, cluster: Id, at: i64, print: &Print) {
        self.insert_keys(id, cluster, at, print.keys());
    }

    /// [`Index::insert`] from the keys alone ([`Print::decode_keys`]: a start-up rebuild).
    pub fn insert_keys(&mut self, id: Id, cluster: Id, at: i64, keys: &Keys) {
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
                self.sketches.push(Sketch::default());
                self.meta.push(0);
                self.starts.push([0; PREFIX_BANDS]);
                self.entries.resize(self.slots.len() * self.per, UNLINKED);
                self.slots.len() - 1
            }
        };
        self.slots[slot] = Slot { id, cluster, at };
        self.sketches[slot] = *keys.sketch();
        self.meta[slot] = keys.text_len().min(usize::from(TEXT_LEN)) as u16
            | if keys.is_strict() { STRICT } else { 0 };
        if let Some(bands) = keys.prefix_bands().first_chunk::<PREFIX_BANDS>() {
            self.meta[slot] |= STARTS;
            self.starts[slot] = *bands;
            self.post(slot as u32, bands);
            self.buckets.0 = self.buckets.0.max(buckets(self.postings.capacity()));
        }
        self.by_id.insert(id, slot as u32);
        self.buckets.1 = self.buckets.1.max(buckets(self.by_id.capacity()));
        self.live += 1;
        // Up to two entries a bucket: the heads cost 2–4 bytes an entry, and a chain walk
        // meets one or two entries of other keys on average.
        if self.live * self.per > 2 * self.heads.len() {
            self.grow();
        }
        let mut entries = [(0, 0); MAX_PER];
        let mut n = 0;
        for k in self.keys_of(keys) {
            entries[n] = k;
            n += 1;
        }
        let base = slot * self.per;
        for &(band, key) in &entries[..n] {
            self.link(base + band, key);
        }
    }

    fn remove(&mut self, slot: usize) {
        for e in slot * self.per..(slot + 1) * self.per {
            self.unlink(e);
        }
        if self.meta[slot] & STARTS != 0 {
            self.meta[slot] &= !STARTS;
            let bands = self.starts[slot];
            self.unpost(slot as u32, &bands);
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

    /// An estimate of the heap the index holds (capacities, and the maps' tables at one
    /// control byte per bucket).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.slots.capacity() * size_of::<Slot>()
            + self.free.capacity() * 4
            + self.sketches.capacity() * size_of::<Sketch>()
            + self.meta.capacity() * 2
            + self.starts.capacity() * size_of::<[u32; PREFIX_BANDS]>()
            + self.buckets.0.max(buckets(self.postings.capacity())) * (size_of::<(u64, u32)>() + 1)
            + self.lists.capacity() * size_of::<Vec<u32>>()
            + self.lists.iter().map(|l| l.capacity() * 4).sum::<usize>()
            + self.free_lists.capacity() * 4
            + self.entries.capacity() * size_of::<Entry>()
            + self.heads.capacity() * 4
            + self.buckets.1.max(buckets(self.by_id.capacity())) * (size_of::<(Id, u32)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_of_divides_exactly() {
        for per in [BANDS, MAX_PER, 2, 7] {
            let index = Index {
                per,
                per_magic: u64::MAX / per as u64 + 1,
                ..Index::new(Settings::default())
            };
            let probes = (0..100_000u32).chain((0..64).map(|i| u32::MAX - i));
            for e in probes.chain((0..1000).map(|i| i * 4_294_967)) {
                assert_eq!(index.slot_of(e), e / per as u32, "{e} / {per}");
            }
        }
    }

    #[test]
    fn pruning_and_replacing_keep_shared_chains_whole() {
        // One print under many ids: every band chain holds all of them, so removals from the
        // middle, the head and the tail of a chain all happen.
        let p = Print::of(&super::super::Doc {
            title: "폭염 대비 무더위쉼터 밤 9시까지 연장",
            text: "정부가 올여름 폭염에 대비해 전국 무더위쉼터 운영 시간을 오후 9시까지 \
                   연장하기로 했다. 행정안전부는 30일 이런 내용을 담은 대책을 발표했다.",
        });
        let mut index = Index::new(Settings { events: true });
        for id in 1..=40u64 {
            index.insert(id, id, (id % 4) as i64, &p);
        }
        // at 0 and 1 go; then id 7 (at 3) is replaced (same id, at 10).
        assert_eq!(index.prune(2), 20);
        index.insert(7, 7, 10, &p);
        let mut left = index.candidates(&p);
        left.sort_unstable();
        let want: Vec<Id> = (1..=40).filter(|id| id % 4 >= 2).collect();
        assert_eq!(left, want);
        assert_eq!(index.len(), want.len());
        assert_eq!(index.prune(3), 10);
        assert_eq!(index.prune(4), 9, "at 3, all but id 7");
        assert_eq!(index.candidates(&p), [7]);
        assert_eq!(index.prune(i64::MAX), 1);
        assert!(index.is_empty() && index.candidates(&p).is_empty());
    }
}
