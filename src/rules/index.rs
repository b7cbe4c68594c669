//! The indexed matcher: one multi-pattern automaton over every literal of every rule, a map
//! from literals to the rules they can trigger, and evaluation of only those rules.
//!
//! Owns the speed of matching. Each rule gets a trigger set: literals such that the rule cannot
//! match unless one of them occurs (an AND needs only its rarest side, an OR needs all its
//! sides, NOT contributes nothing). A rule whose top level is an AND of two or more operands
//! with triggers, or a NEAR, gets a pair instead: it is a candidate only when a literal of each
//! of its two rarest operands occurred (two bitsets, intersected). Rules whose trigger involves
//! `feed:` are evaluated on every story. A story is scanned once per field into per-story
//! tables that a [`super::Matcher`] reuses between stories: which fields each literal hit
//! (epoch-stamped, one slot per literal, so nothing is cleared), and for literals used by NEAR
//! the word span of every occurrence. Must agree exactly with [`super::naive`]; a property test
//! checks it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use daachorse::CharwiseDoubleArrayAhoCorasick;

use super::compile::{Compiled, FIELD_NAMES, LeafKind, Node};
use super::literal::Bounds;

/// Compressed rows: row `i` is `data[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Default)]
struct Rows {
    offsets: Vec<u32>,
    data: Vec<u32>,
}

impl Rows {
    fn from_lists(lists: Vec<Vec<u32>>) -> Rows {
        let mut rows = Rows {
            offsets: Vec::with_capacity(lists.len() + 1),
            data: Vec::new(),
        };
        rows.offsets.push(0);
        for l in lists {
            rows.data.extend(l);
            rows.offsets
                .push(u32::try_from(rows.data.len()).unwrap_or(u32::MAX));
        }
        rows.data.shrink_to_fit();
        rows
    }

    fn row(&self, i: usize) -> &[u32] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.data[a as usize..b as usize],
            _ => &[],
        }
    }

    fn heap_bytes(&self) -> usize {
        (self.offsets.capacity() + self.data.capacity()) * 4
    }
}

/// The multi-pattern automaton. daachorse's character-wise double array scans Korean text about
/// twice as fast as aho-corasick's NFA (see BENCHMARKS.md); aho-corasick is the fallback should
/// daachorse refuse a pattern set.
enum Scanner {
    None,
    Daachorse(CharwiseDoubleArrayAhoCorasick<u32>),
    AhoCorasick(AhoCorasick),
}

impl Scanner {
    fn build(patterns: &[Box<str>]) -> Scanner {
        if patterns.is_empty() {
            return Scanner::None;
        }
        // Standard match kind (the default): overlapping search reports every occurrence.
        if let Ok(d) = CharwiseDoubleArrayAhoCorasick::new(patterns.iter().map(|p| &**p)) {
            return Scanner::Daachorse(d);
        }
        match AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(patterns.iter().map(|p| p.as_bytes()))
        {
            Ok(ac) => Scanner::AhoCorasick(ac),
            Err(_) => Scanner::None,
        }
    }

    /// Calls `f(pattern, start, end)` for every occurrence of every pattern.
    fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, usize)) {
        match self {
            Scanner::None => {}
            Scanner::Daachorse(d) => {
                for m in d.find_overlapping_iter(text) {
                    f(m.value() as usize, m.start(), m.end());
                }
            }
            Scanner::AhoCorasick(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    f(m.pattern().as_usize(), m.start(), m.end());
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Scanner::None => 0,
            Scanner::Daachorse(d) => d.heap_bytes(),
            Scanner::AhoCorasick(ac) => ac.memory_usage(),
        }
    }
}

pub struct Index {
    scanner: Scanner,
    /// Whether every pattern made it into the scanner; if not, callers use the naive evaluator.
    pub complete: bool,
    /// Pattern → literals with that text.
    pattern_lits: Rows,
    bounds: Vec<Bounds>,
    /// Literal → whether NEAR needs its positions.
    positional: Vec<bool>,
    /// Literal → rules it triggers (ascending).
    triggers: Rows,
    /// Literal → rules that need it or another literal of the same first trigger set, and also
    /// one of their second set (`pair_b`): rules with two necessary operands.
    pair_a: Rows,
    pair_b: Rows,
    /// Rules evaluated on every story (their trigger includes `feed:`).
    always: Vec<u32>,
    patterns: Vec<Box<str>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("patterns", &self.patterns.len())
            .field("always", &self.always.len())
            .finish()
    }
}

/// A trigger set: literals, plus whether the rule can also be triggered through `feed:`.
struct Trigger {
    lits: Vec<u32>,
    feed: bool,
}

fn trigger(rule: &Compiled, node: &Node, popularity: &[u32]) -> Option<Trigger> {
    let cost = |t: &Trigger| -> u64 {
        t.lits
            .iter()
            .map(|&l| u64::from(popularity[l as usize]) + 1)
            .sum::<u64>()
            + if t.feed { 1 << 40 } else { 0 }
    };
    let leaf = |i: u32| -> Trigger {
        match &rule.leaves[i as usize].kind {
            LeafKind::Text { lits, .. } => Trigger {
                lits: lits.to_vec(),
                feed: false,
            },
            LeafKind::Feed(_) => Trigger {
                lits: Vec::new(),
                feed: true,
            },
        }
    };
    let union = |ts: Vec<Trigger>| -> Trigger {
        let mut out = Trigger {
            lits: Vec::new(),
            feed: false,
        };
        for t in ts {
            out.lits.extend(t.lits);
            out.feed |= t.feed;
        }
        out
    };
    match node {
        Node::Leaf(i) => Some(leaf(*i)),
        Node::Not(_) => None,
        Node::And(xs) => xs
            .iter()
            .filter_map(|x| trigger(rule, x, popularity))
            .min_by_key(|t| cost(t)),
        Node::Or(xs) => xs
            .iter()
            .map(|x| trigger(rule, x, popularity))
            .collect::<Option<Vec<_>>>()
            .map(union),
        Node::Near(a, b, _) => {
            let a = union(a.iter().map(|&i| leaf(i)).collect());
            let b = union(b.iter().map(|&i| leaf(i)).collect());
            Some(if cost(&a) <= cost(&b) { a } else { b })
        }
    }
}

/// Two trigger sets of which the rule needs both: the two cheapest operands of a top-level
/// AND, or the two sides of a top-level NEAR. `None` when the rule has no such pair (or one side
/// involves `feed:`).
fn pair_trigger(rule: &Compiled, popularity: &[u32]) -> Option<(Trigger, Trigger)> {
    let cost = |t: &Trigger| -> u64 {
        t.lits
            .iter()
            .map(|&l| u64::from(popularity[l as usize]) + 1)
            .sum()
    };
    let mut sides: Vec<Trigger> = match &rule.root {
        Node::And(xs) => xs
            .iter()
            .filter_map(|x| trigger(rule, x, popularity))
            .filter(|t| !t.feed && !t.lits.is_empty())
            .collect(),
        Node::Near(..) => {
            let side = |leaves: &[u32]| -> Option<Trigger> {
                let mut t = Trigger {
                    lits: Vec::new(),
                    feed: false,
                };
                for &i in leaves {
                    match &rule.leaves.get(i as usize)?.kind {
                        LeafKind::Text { lits, .. } => t.lits.extend(lits.iter()),
                        LeafKind::Feed(_) => return None,
                    }
                }
                (!t.lits.is_empty()).then_some(t)
            };
            let Node::Near(a, b, _) = &rule.root else {
                return None;
            };
            vec![side(a)?, side(b)?]
        }
        _ => return None,
    };
    if sides.len() < 2 {
        return None;
    }
    sides.sort_by_key(|t| cost(t));
    let mut it = sides.into_iter();
    Some((it.next()?, it.next()?))
}

fn near_leaves(node: &Node, out: &mut Vec<u32>) {
    match node {
        Node::Leaf(_) => {}
        Node::Not(x) => near_leaves(x, out),
        Node::And(xs) | Node::Or(xs) => xs.iter().for_each(|x| near_leaves(x, out)),
        Node::Near(a, b, _) => out.extend(a.iter().chain(b.iter())),
    }
}

impl Index {
    pub fn build(rules: &[&Compiled], lits: &[(Box<str>, Bounds)]) -> Index {
        let mut popularity = vec![0u32; lits.len()];
        let mut positional = vec![false; lits.len()];
        for rule in rules {
            for leaf in rule.leaves.iter() {
                if let LeafKind::Text { lits, .. } = &leaf.kind {
                    for &l in lits.iter() {
                        popularity[l as usize] += 1;
                    }
                }
            }
            let mut near = Vec::new();
            near_leaves(&rule.root, &mut near);
            for i in near {
                if let LeafKind::Text { lits, .. } = &rule.leaves[i as usize].kind {
                    for &l in lits.iter() {
                        positional[l as usize] = true;
                    }
                }
            }
        }

        let mut triggers: Vec<Vec<u32>> = vec![Vec::new(); lits.len()];
        let mut pair_a: Vec<Vec<u32>> = vec![Vec::new(); lits.len()];
        let mut pair_b: Vec<Vec<u32>> = vec![Vec::new(); lits.len()];
        let mut always = Vec::new();
        let add = |rows: &mut Vec<Vec<u32>>, t: &Trigger, r: u32| {
            for &l in &t.lits {
                if rows[l as usize].last() != Some(&r) {
                    rows[l as usize].push(r);
                }
            }
        };
        for (r, rule) in rules.iter().enumerate() {
            let r = u32::try_from(r).unwrap_or(u32::MAX);
            if let Some((a, b)) = pair_trigger(rule, &popularity) {
                add(&mut pair_a, &a, r);
                add(&mut pair_b, &b, r);
                continue;
            }
            match trigger(rule, &rule.root, &popularity) {
                Some(t) if !t.feed => {
                    for l in t.lits {
                        if triggers[l as usize].last() != Some(&r) {
                            triggers[l as usize].push(r);
                        }
                    }
                }
                // feed: triggers, and (never for a valid rule) no trigger at all
                _ => always.push(r),
            }
        }

        let mut pattern_of: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::new();
        let mut patterns: Vec<Box<str>> = Vec::new();
        let mut pattern_lits: Vec<Vec<u32>> = Vec::new();
        for (l, (text, _)) in lits.iter().enumerate() {
            let p = *pattern_of.entry(text).or_insert_with(|| {
                patterns.push(text.clone());
                pattern_lits.push(Vec::new());
                patterns.len() - 1
            });
            pattern_lits[p].push(u32::try_from(l).unwrap_or(u32::MAX));
        }
        let scanner = Scanner::build(&patterns);
        Index {
            complete: patterns.is_empty() || !matches!(scanner, Scanner::None),
            scanner,
            pattern_lits: Rows::from_lists(pattern_lits),
            bounds: lits.iter().map(|(_, b)| *b).collect(),
            positional,
            triggers: Rows::from_lists(triggers),
            pair_a: Rows::from_lists(pair_a),
            pair_b: Rows::from_lists(pair_b),
            always,
            patterns,
        }
    }

    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|p| &**p)
    }

    /// Heap bytes of the index (the automaton and the maps), for the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        self.scanner.heap_bytes()
            + self.pattern_lits.heap_bytes()
            + self.triggers.heap_bytes()
            + self.pair_a.heap_bytes()
            + self.pair_b.heap_bytes()
            + self.bounds.capacity() * std::mem::size_of::<Bounds>()
            + self.positional.capacity()
            + self.always.capacity() * 4
            + self.patterns.iter().map(|p| p.len() + 16).sum::<usize>()
    }

    /// Scans the fields into `s`: which literals hit in which fields, the word spans of NEAR
    /// literals (sorted), and the rules worth evaluating (ascending, in `s.candidates`).
    pub fn scan(&self, texts: [&str; 3], rule_count: usize, s: &mut ScanScratch) {
        s.hits.clear(self.bounds.len());
        s.pos.clear();
        s.candidates.clear();
        for (i, text) in texts.iter().enumerate() {
            if text.is_empty() {
                continue;
            }
            let bit = FIELD_NAMES[i].0;
            let hits = &mut s.hits;
            let pos = &mut s.pos;
            // Spaces before `cursor.0` are `cursor.1`; matches arrive by ascending end, so the
            // cursor mostly moves forwards.
            let mut cursor = (0usize, 0usize);
            self.scanner.for_each(text, |p, start, end| {
                for &l in self.pattern_lits.row(p) {
                    let positional = self.positional[l as usize];
                    // A literal already seen in this field needs no second boundary check,
                    // unless NEAR wants every position.
                    if !positional && hits.fields(l) & bit != 0 {
                        continue;
                    }
                    if !self.bounds[l as usize].accepts(text, start, end) {
                        continue;
                    }
                    hits.insert(l, bit);
                    if positional {
                        let bytes = text.as_bytes();
                        if end >= cursor.0 {
                            cursor.1 += spaces_in(&bytes[cursor.0..end]);
                        } else {
                            cursor.1 = cursor.1.saturating_sub(spaces_in(&bytes[end..cursor.0]));
                        }
                        cursor.0 = end;
                        let last = cursor.1;
                        let first = last.saturating_sub(spaces_in(&bytes[start..end]));
                        let idx = count(pos.len());
                        let next = hits.link(l, idx);
                        pos.push((bit, count(first), count(last), next));
                    }
                }
            });
        }

        let words = rule_count.div_ceil(64);
        for b in [&mut s.bits, &mut s.bits_a, &mut s.bits_b] {
            b.clear();
            b.resize(words, 0);
        }
        let (bits, bits_a, bits_b) = (&mut s.bits[..], &mut s.bits_a[..], &mut s.bits_b[..]);
        for &l in &s.hits.hit {
            set_bits(bits, self.triggers.row(l as usize));
            set_bits(bits_a, self.pair_a.row(l as usize));
            set_bits(bits_b, self.pair_b.row(l as usize));
        }
        set_bits(bits, &self.always);
        for ((w, a), b) in bits.iter_mut().zip(&*bits_a).zip(&*bits_b) {
            *w |= a & b;
        }
        for (w, word) in bits.iter_mut().enumerate() {
            let mut v = std::mem::take(word);
            while v != 0 {
                s.candidates.push(count(w * 64) + v.trailing_zeros());
                v &= v - 1;
            }
        }
    }
}

/// Per-story scratch of the scan, reused between stories by a [`super::Matcher`].
#[derive(Default)]
pub struct ScanScratch {
    pub hits: HitTable,
    /// (field bit, first word, last word, next occurrence of the same literal or `u32::MAX`)
    /// for each occurrence of a NEAR literal; [`HitTable`] holds each literal's last one.
    pos: Vec<(u8, u32, u32, u32)>,
    bits: Vec<u64>,
    bits_a: Vec<u64>,
    bits_b: Vec<u64>,
    pub candidates: Vec<u32>,
}

impl std::fmt::Debug for ScanScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanScratch")
            .field("hit", &self.hits.hit.len())
            .field("candidates", &self.candidates.len())
            .finish()
    }
}

impl ScanScratch {
    /// The word spans of `lit`, all fields.
    /// (field bit, first word, last word) of each occurrence of `lit`, last one first.
    pub fn positions(&self, lit: u32) -> impl Iterator<Item = (u8, u32, u32)> + '_ {
        let mut at = self.hits.first_pos(lit);
        std::iter::from_fn(move || {
            let &(bit, first, last, next) = self.pos.get(at as usize)?;
            at = next;
            Some((bit, first, last))
        })
    }
}

/// Literal → fields it hit in this story: one slot per literal of the rule set, stamped with
/// the story's epoch so that nothing needs clearing between stories, plus the list of literals
/// that hit (for the triggers).
#[derive(Default)]
pub struct HitTable {
    /// `epoch << 3 | field bits`; stale when the epoch differs.
    slots: Vec<u32>,
    /// Per literal, its last occurrence in `ScanScratch::pos` (`u32::MAX`: none); valid when
    /// the slot is current.
    heads: Vec<u32>,
    epoch: u32,
    hit: Vec<u32>,
}

impl HitTable {
    const MAX_EPOCH: u32 = u32::MAX >> 3;

    /// Starts a new story with `lits` literals.
    fn clear(&mut self, lits: usize) {
        self.hit.clear();
        if self.slots.len() != lits || self.epoch >= Self::MAX_EPOCH {
            self.slots.clear();
            self.slots.resize(lits, 0);
            // Allocated by the first NEAR occurrence (`link`).
            self.heads.clear();
            self.epoch = 0;
        }
        self.epoch += 1;
    }

    #[inline]
    fn insert(&mut self, lit: u32, bit: u8) {
        let stamp = self.epoch << 3;
        if let Some(s) = self.slots.get_mut(lit as usize) {
            if *s >> 3 == self.epoch {
                *s |= u32::from(bit);
            } else {
                *s = stamp | u32::from(bit);
                self.hit.push(lit);
                if let Some(h) = self.heads.get_mut(lit as usize) {
                    *h = u32::MAX;
                }
            }
        }
    }

    /// Makes `idx` the last occurrence of `lit` (already inserted); returns the previous one.
    fn link(&mut self, lit: u32, idx: u32) -> u32 {
        if self.heads.len() != self.slots.len() {
            self.heads.clear();
            self.heads.resize(self.slots.len(), u32::MAX);
        }
        self.heads
            .get_mut(lit as usize)
            .map_or(u32::MAX, |h| std::mem::replace(h, idx))
    }

    fn first_pos(&self, lit: u32) -> u32 {
        if self.fields(lit) == 0 {
            return u32::MAX;
        }
        self.heads.get(lit as usize).copied().unwrap_or(u32::MAX)
    }

    #[inline]
    pub fn fields(&self, lit: u32) -> u8 {
        match self.slots.get(lit as usize) {
            Some(&s) if s >> 3 == self.epoch => (s & 7) as u8,
            _ => 0,
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn set_bits(bits: &mut [u64], rules: &[u32]) {
    for &r in rules {
        if let Some(w) = bits.get_mut((r / 64) as usize) {
            *w |= 1 << (r % 64);
        }
    }
}

fn spaces_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b' ').count()
}
