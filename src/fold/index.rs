//! The in-memory LSH index of the stories in the window: band keys and a lede sketch per story
//! (prints live in the caller's store). Entry `slot * per + band` is one band value of one
//! story; a table maps each band key (its low 32 bits) to the entries that hold it: the entry
//! itself when it is the only one (most keys), else a list of them (a copy's bands, a template's
//! lede start shared by dozens of stories), so a query reads one table slot per band and each
//! shared key's entries side by side, instead of chasing a chain through memory. A story costs
//! `per` × 4 bytes of keys, its table slots, its slot and its 64-byte sketch, and no allocation
//! per band value except for keys it shares. Pruned slots are reused.
//!
//! The table keeps only a key's low 32 bits, so two keys that differ only above them share a
//! list: the entry's band still has to match, and what is left (odds ≈ 2⁻³² a pair) is an extra
//! candidate now and then, which the sketch or `verify` rejects.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use super::hash::{BANDS, EVENT_BANDS, PREFIX_BANDS};
use super::{Id, Join, Print, Settings, Sketch, may_copy, verify};

/// The most entries a slot has (all three band sets).
const MAX_PER: usize = BANDS + PREFIX_BANDS + EVENT_BANDS;
/// At most this many candidates are verified per decision, best-banded first: a template that
/// puts thousands of stories in one bucket cannot make a decision slow.
pub const MAX_VERIFIED: usize = 64;
/// A story sharing only lede-start bands is a candidate with at least this many of the 10: two
/// ledes that start alike for a few words (a shared template phrase) share one or two, a first
/// report and its roundup most (P ≈ 0.93 at J = 0.9 of the starts, 0.02 at 0.7).
pub const MIN_START_HITS: u32 = 4;
/// `Index::meta`: the story takes the strict path (short or photo).
const STRICT: u16 = 1 << 15;
/// The band sets in entry order, as (first band, bands); bit `i` of `Index::used` is set `i`.
const SETS: [(usize, usize); 3] = [
    (0, BANDS),
    (BANDS, PREFIX_BANDS),
    (BANDS + PREFIX_BANDS, EVENT_BANDS),
];
/// A table value with this bit is `LIST | index into lists`; without, the one entry.
const LIST: u32 = 1 << 31;

#[derive(Clone, Copy)]
struct Slot {
    /// 0 = free.
    id: Id,
    cluster: Id,
    at: i64,
}

/// The table's hasher: band keys are already uniform (`fmix64`), so one multiply spreads a key
/// over the hash's high bits (which the table reads for its tags) as well as its low ones.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, key: u32) {
        self.0 = u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub struct Index {
    settings: Settings,
    /// Entries per slot: the copy bands, the lede-start bands, plus the events bands when they
    /// are on.
    per: usize,
    /// `u64::MAX / per + 1`: `e / per` as a multiply (Lemire et al., "Faster remainder by
    /// direct computation", exact for every u32 `e` when `per` ≥ 2).
    per_magic: u64,
    slots: Vec<Slot>,
    /// Per slot: the lede sketch, and the lede's shingle count (saturated) | [`STRICT`].
    sketches: Vec<Sketch>,
    meta: Vec<u16>,
    free: Vec<u32>,
    by_id: HashMap<Id, u32>,
    /// Per entry, the key it holds, and per slot which band sets it has (the bits of `SETS`).
    keys: Vec<u32>,
    used: Vec<u8>,
    /// Key → its one entry, or `LIST | i` with the entries in `lists[i]`.
    table: HashMap<u32, u32, BuildHasherDefault<KeyHasher>>,
    /// The most `table.capacity()` was (it drops with deleted entries, the buckets do not).
    table_peak: usize,
    lists: Vec<Vec<u32>>,
    free_lists: Vec<u32>,
    live: usize,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("settings", &self.settings)
            .field("len", &self.live)
            .field("keys", &self.table.len())
            .finish()
    }
}

/// The buckets of a hash table that held up to `capacity` (a power of two, at most 7/8 full).
fn table_buckets(capacity: usize) -> usize {
    if capacity == 0 {
        0
    } else {
        (capacity * 8 / 7).next_power_of_two()
    }
}

/// What the table keeps of a band key.
fn short_key(key: u64) -> u32 {
    key as u32
}

impl Index {
    pub fn new(settings: Settings) -> Index {
        let per = BANDS + PREFIX_BANDS + if settings.events { EVENT_BANDS } else { 0 };
        Index {
            settings,
            per,
            per_magic: u64::MAX / per as u64 + 1,
            slots: Vec::new(),
            sketches: Vec::new(),
            meta: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            keys: Vec::new(),
            used: Vec::new(),
            table: HashMap::default(),
            table_peak: 0,
            lists: Vec::new(),
            free_lists: Vec::new(),
            live: 0,
        }
    }

    /// The slot of entry `e` (`e / per`).
    fn slot_of(&self, e: u32) -> u32 {
        ((u128::from(self.per_magic) * u128::from(e)) >> 64) as u32
    }

    /// The print's (band, key) pairs in entry order (copy bands, lede-start bands, then events
    /// bands when on), into `out`; returns how many. The lede-start bands offer the copies that
    /// share most of one side and little of the union (1보 ⊂ 종합, a lede cut at ~120 chars),
    /// which 32 × 4 over all shingles misses; `verify` stays exact.
    fn keys_of(&self, print: &Print, out: &mut [(u32, u32); MAX_PER]) -> usize {
        let copy = print.bands().iter().enumerate();
        let start = print.prefix_bands().iter().enumerate();
        let start = start.map(|(i, k)| (BANDS + i, k));
        let events = self.settings.events;
        let ev = print.event_bands().iter().enumerate();
        let ev = ev
            .map(|(i, k)| (BANDS + PREFIX_BANDS + i, k))
            .filter(|_| events);
        let mut n = 0;
        for (band, key) in copy.chain(start).chain(ev) {
            out[n] = (band as u32, short_key(*key));
            n += 1;
        }
        n
    }

    /// The entries that hold `key` (of any band).
    fn holders(&self, key: u32) -> &[u32] {
        match self.table.get(&key) {
            None => &[],
            Some(v) if v & LIST != 0 => &self.lists[(v & !LIST) as usize],
            Some(v) => std::slice::from_ref(v),
        }
    }

    fn add(&mut self, e: u32, key: u32) {
        match self.table.entry(key) {
            Entry::Vacant(v) => {
                v.insert(e);
                self.table_peak = self.table_peak.max(self.table.capacity());
            }
            Entry::Occupied(mut o) => {
                let v = *o.get();
                if v & LIST != 0 {
                    self.lists[(v & !LIST) as usize].push(e);
                } else {
                    let list = vec![v, e];
                    let i = match self.free_lists.pop() {
                        Some(i) => {
                            self.lists[i as usize] = list;
                            i
                        }
                        None => {
                            self.lists.push(list);
                            (self.lists.len() - 1) as u32
                        }
                    };
                    o.insert(LIST | i);
                }
            }
        }
    }

    fn take(&mut self, e: u32, key: u32) {
        let Some(&v) = self.table.get(&key) else {
            return;
        };
        if v & LIST == 0 {
            if v == e {
                self.table.remove(&key);
            }
            return;
        }
        let i = (v & !LIST) as usize;
        let list = &mut self.lists[i];
        if let Some(at) = list.iter().position(|x| *x == e) {
            list.swap_remove(at);
        }
        if list.len() == 1 {
            let only = list[0];
            self.lists[i] = Vec::new();
            self.free_lists.push(i as u32);
            self.table.insert(key, only);
        }
    }

    /// The candidates: slots sharing at least one copy or events band with `print`, or at
    /// least [`MIN_START_HITS`] lede-start bands, with how many bands they share, most first
    /// (ties: lower slot first).
    fn ranked(&self, print: &Print) -> Vec<(u32, u32)> {
        let mut want = [(0u32, 0u32); MAX_PER];
        let n = self.keys_of(print, &mut want);
        // Slot × 2, + 1 for a lede-start band.
        let mut hits: Vec<u32> = Vec::with_capacity(4 * n);
        let per = self.per as u32;
        let starts = BANDS as u32..(BANDS + PREFIX_BANDS) as u32;
        for &(band, key) in &want[..n] {
            let start = u32::from(starts.contains(&band));
            for &e in self.holders(key) {
                let slot = self.slot_of(e);
                if e - slot * per == band {
                    hits.push(slot * 2 + start);
                }
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
    /// caller no longer has it: skip it). With the events tier off, a candidate whose lede
    /// sketch rules out a copy ([`super::may_copy`]; both on the normal path) is skipped
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
        let sketched = !self.settings.events && !print.is_strict();
        let own = (print.sketch(), print.text_len());
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
            let meta = self.meta[slot as usize];
            if sketched
                && meta & STRICT == 0
                && !may_copy(
                    own,
                    (&self.sketches[slot as usize], usize::from(meta & !STRICT)),
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
                self.sketches.push(Sketch::default());
                self.meta.push(0);
                self.keys.resize(self.slots.len() * self.per, 0);
                self.used.push(0);
                self.slots.len() - 1
            }
        };
        self.slots[slot] = Slot { id, cluster, at };
        self.sketches[slot] = *print.sketch();
        self.meta[slot] = print.text_len().min(usize::from(!STRICT)) as u16
            | if print.is_strict() { STRICT } else { 0 };
        self.by_id.insert(id, slot as u32);
        self.live += 1;
        let mut keys = [(0, 0); MAX_PER];
        let n = self.keys_of(print, &mut keys);
        let base = slot * self.per;
        let mut used = 0;
        for &(band, key) in &keys[..n] {
            let band = band as usize;
            used |= 1 << SETS.iter().rposition(|s| s.0 <= band).unwrap_or(0);
            self.keys[base + band] = key;
            self.add((base + band) as u32, key);
        }
        self.used[slot] = used;
    }

    fn remove(&mut self, slot: usize) {
        let base = slot * self.per;
        for (i, &(first, bands)) in SETS.iter().enumerate() {
            if self.used[slot] & (1 << i) != 0 {
                for e in base + first..base + first + bands {
                    self.take(e as u32, self.keys[e]);
                }
            }
        }
        self.used[slot] = 0;
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
            + self.sketches.capacity() * size_of::<Sketch>()
            + self.meta.capacity() * 2
            + self.keys.capacity() * 4
            + self.used.capacity()
            + table_buckets(self.table_peak) * (size_of::<(u32, u32)>() + 1)
            + self.lists.capacity() * size_of::<Vec<u32>>()
            + self.lists.iter().map(|l| l.capacity() * 4).sum::<usize>()
            + self.free_lists.capacity() * 4
            + self.by_id.capacity() * (size_of::<(Id, u32)>() + 1) * 8 / 7
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_of_divides_exactly() {
        for per in [BANDS + PREFIX_BANDS, MAX_PER, 2, 7] {
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
}
