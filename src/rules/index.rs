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
use super::literal::{Bounds, Left, Right};

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
    /// `values[p]` is what [`Scanner::for_each`] reports for pattern `p`.
    fn build(patterns: &[&str], values: &[u32]) -> Scanner {
        if patterns.is_empty() {
            return Scanner::None;
        }
        // Standard match kind (the default): overlapping search reports every occurrence.
        if let Ok(d) = CharwiseDoubleArrayAhoCorasick::with_values(
            patterns.iter().copied().zip(values.iter().copied()),
        ) {
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

    /// Calls `f(value, start, end)` for every occurrence of every pattern (`values` as given
    /// to [`Scanner::build`]).
    fn for_each(&self, text: &str, values: &[u32], mut f: impl FnMut(u32, usize, usize)) {
        match self {
            Scanner::None => {}
            Scanner::Daachorse(d) => {
                for m in d.find_overlapping_iter(text) {
                    f(m.value(), m.start(), m.end());
                }
            }
            Scanner::AhoCorasick(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    if let Some(&v) = values.get(m.pattern().as_usize()) {
                        f(v, m.start(), m.end());
                    }
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
    /// Pattern → what the scanner reports for it: its literal when it has one alone (most
    /// patterns), else [`MANY`] | the pattern, whose literals are in `pattern_lits`.
    values: Vec<u32>,
    /// Literal → its boundary rules, whether NEAR needs its positions, and where its rules are
    /// in `rules`.
    lit_info: Vec<LitInfo>,
    /// Per literal, at its `LitInfo::rules`: `[t, a, b]`, then the `t` rules it triggers, the
    /// `a` rules of its first pair side and the `b` of its second (each ascending). A pair
    /// rule (two necessary operands) is a candidate when a literal of its first side and one
    /// of its second occurred. One place a literal, found from the `LitInfo` the scan reads
    /// anyway: one cache miss per literal that hit, where three row tables cost up to six.
    rules: Vec<u32>,
    /// Rules evaluated on every story (their trigger includes `feed:`).
    always: Vec<u32>,
}

/// The tag of a scanner value that names a pattern with several literals.
const MANY: u32 = 1 << 31;

/// What the scan needs of one literal, in one place (one cache line holds five).
#[derive(Debug, Clone, Copy)]
struct LitInfo {
    /// Where its rules start in `Index::rules`.
    rules: u32,
    bounds: Bounds,
    /// NEAR needs every occurrence's position.
    positional: bool,
    /// Every occurrence counts: no boundary on either side and no veto.
    free: bool,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("patterns", &self.values.len())
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

        let mut pattern_of: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
        let mut patterns: Vec<&str> = Vec::new();
        let mut pattern_lits: Vec<Vec<u32>> = Vec::new();
        for (l, (text, _)) in lits.iter().enumerate() {
            let p = *pattern_of.entry(text).or_insert_with(|| {
                patterns.push(text);
                pattern_lits.push(Vec::new());
                patterns.len() - 1
            });
            pattern_lits[p].push(u32::try_from(l).unwrap_or(u32::MAX));
        }
        let values: Vec<u32> = pattern_lits
            .iter()
            .enumerate()
            .map(|(p, ls)| match ls[..] {
                [l] if l < MANY => l,
                _ => MANY | count(p),
            })
            .collect();
        let scanner = Scanner::build(&patterns, &values);
        // Literals that trigger nothing share the empty entry at 0.
        let mut rule_lists = vec![0u32, 0, 0];
        let mut at = Vec::with_capacity(lits.len());
        for ((t, a), b) in triggers.iter().zip(&pair_a).zip(&pair_b) {
            if t.is_empty() && a.is_empty() && b.is_empty() {
                at.push(0);
                continue;
            }
            at.push(count(rule_lists.len()));
            rule_lists.extend([count(t.len()), count(a.len()), count(b.len())]);
            rule_lists.extend(t.iter().chain(a).chain(b));
        }
        rule_lists.shrink_to_fit();
        drop((triggers, pair_a, pair_b));
        let lit_info = lits
            .iter()
            .zip(positional)
            .zip(at)
            .map(|(((_, bounds), positional), rules)| LitInfo {
                rules,
                bounds: *bounds,
                positional,
                free: bounds.left == Left::Free && bounds.right == Right::Free && bounds.veto == 0,
            })
            .collect();
        Index {
            complete: patterns.is_empty() || !matches!(scanner, Scanner::None),
            scanner,
            pattern_lits: Rows::from_lists(pattern_lits),
            values,
            lit_info,
            rules: rule_lists,
            always,
        }
    }

    /// The automaton's patterns, as the literal whose text each one is (its first; the index
    /// keeps no copy of the texts).
    pub fn pattern_literals(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.values.len()).filter_map(move |p| self.pattern_lits.row(p).first().copied())
    }

    /// Heap bytes of the index (the automaton and the maps), for the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        self.scanner.heap_bytes()
            + self.pattern_lits.heap_bytes()
            + self.rules.capacity() * 4
            + self.values.capacity() * 4
            + self.lit_info.capacity() * std::mem::size_of::<LitInfo>()
            + self.always.capacity() * 4
    }

    /// (part, heap bytes, allocations) of the index, for the benchmarks.
    pub fn heap_parts(&self) -> Vec<(&'static str, usize, usize)> {
        vec![
            ("index: automaton", self.scanner.heap_bytes(), 3),
            (
                "index: pattern literals and values",
                self.pattern_lits.heap_bytes() + self.values.capacity() * 4,
                3,
            ),
            (
                "index: literal info",
                self.lit_info.capacity() * std::mem::size_of::<LitInfo>(),
                1,
            ),
            (
                "index: triggers, pairs, always",
                (self.rules.capacity() + self.always.capacity()) * 4,
                2,
            ),
        ]
    }

    /// Scans the fields into `s`: which literals hit in which fields, the word spans of NEAR
    /// literals (sorted), and the rules worth evaluating (ascending, in `s.candidates`).
    pub fn scan(&self, texts: [&str; 3], rule_count: usize, s: &mut ScanScratch) {
        s.hits.clear(self.lit_info.len());
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
            let mut on_lit = |l: u32, start: usize, end: usize| {
                let Some(info) = self.lit_info.get(l as usize) else {
                    return;
                };
                // A literal already seen in this field needs no second boundary check,
                // unless NEAR wants every position.
                if !info.positional && hits.fields(l) & bit != 0 {
                    return;
                }
                if !info.free && !info.bounds.accepts(text, start, end) {
                    return;
                }
                hits.insert(l, bit);
                // Its rules are read after the scan (`rules_of`): start loading them now.
                super::prefetch(&self.rules, info.rules as usize);
                if info.positional {
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
            };
            self.scanner.for_each(text, &self.values, |v, start, end| {
                if v & MANY == 0 {
                    on_lit(v, start, end);
                } else {
                    for &l in self.pattern_lits.row((v & !MANY) as usize) {
                        on_lit(l, start, end);
                    }
                }
            });
        }

        // Sparse bitsets over the rules: only the words a literal touched are visited and
        // cleared, so a story costs its hits, not the rule count (1,563 words at 100,000 rules).
        let words = rule_count.div_ceil(64);
        for b in [&mut s.bits, &mut s.bits_a, &mut s.bits_b] {
            b.reset(words);
        }
        for &l in &s.hits.hit {
            let (t, a, b) = self.rules_of(l);
            s.bits.set_all(t);
            s.bits_a.set_all(a);
            s.bits_b.set_all(b);
        }
        s.bits.set_all(&self.always);
        // A pair rule is a candidate when both of its sides hit: the words of `bits_a`, ANDed
        // with `bits_b`. Both end all zero again.
        for &w in &s.bits_a.touched {
            let w = w as usize;
            let v = s.bits_a.words[w] & s.bits_b.words[w];
            s.bits_a.words[w] = 0;
            s.bits.or_word(w, v);
        }
        s.bits_a.touched.clear();
        s.bits_b.clear();
        // In rule order, through the summary (a bit per word): no sort of the touched words.
        let bits = &mut s.bits;
        for (i, sum) in bits.summary.iter_mut().enumerate() {
            let mut sv = std::mem::take(sum);
            while sv != 0 {
                let w = i * 64 + sv.trailing_zeros() as usize;
                sv &= sv - 1;
                let mut v = bits.words.get_mut(w).map_or(0, std::mem::take);
                while v != 0 {
                    s.candidates.push(count(w) * 64 + v.trailing_zeros());
                    v &= v - 1;
                }
            }
        }
        bits.touched.clear();
    }

    /// The rules literal `l` triggers, and its pair sides' rules (see `Index::rules`).
    #[inline]
    fn rules_of(&self, l: u32) -> (&[u32], &[u32], &[u32]) {
        let at = self
            .lit_info
            .get(l as usize)
            .map_or(0, |i| i.rules as usize);
        let Some(&[t, a, b]) = self.rules.get(at..at + 3) else {
            return (&[], &[], &[]);
        };
        let rest = self.rules.get(at + 3..).unwrap_or(&[]);
        let (t, a, b) = (t as usize, a as usize, b as usize);
        match (
            rest.get(..t),
            rest.get(t..t + a),
            rest.get(t + a..t + a + b),
        ) {
            (Some(t), Some(a), Some(b)) => (t, a, b),
            _ => (&[], &[], &[]),
        }
    }
}

/// A bitset over the rules that is all zero between stories and remembers which words it set,
/// so that reading and clearing it costs the words used, not its length.
#[derive(Default)]
struct SparseBits {
    words: Vec<u64>,
    /// The indexes of the non-zero words, each once, in the order they were first set.
    touched: Vec<u32>,
    /// A bit per word of `words`, set when the word is: the non-zero words in order.
    summary: Vec<u64>,
}

impl SparseBits {
    /// Makes it `n` words long and all zero.
    fn reset(&mut self, n: usize) {
        if self.words.len() == n {
            // Normally empty already: each scan clears what it set.
            self.clear();
        } else {
            self.words.clear();
            self.words.resize(n, 0);
            self.summary.clear();
            self.summary.resize(n.div_ceil(64), 0);
            self.touched.clear();
        }
    }

    fn clear(&mut self) {
        for &w in &self.touched {
            if let Some(x) = self.words.get_mut(w as usize) {
                *x = 0;
            }
            if let Some(x) = self.summary.get_mut(w as usize / 64) {
                *x = 0;
            }
        }
        self.touched.clear();
    }

    #[inline]
    fn or_word(&mut self, w: usize, v: u64) {
        if v == 0 {
            return;
        }
        if let Some(x) = self.words.get_mut(w) {
            if *x == 0 {
                self.touched.push(count(w));
                if let Some(s) = self.summary.get_mut(w / 64) {
                    *s |= 1 << (w % 64);
                }
            }
            *x |= v;
        }
    }

    fn set_all(&mut self, rules: &[u32]) {
        for &r in rules {
            self.or_word((r / 64) as usize, 1 << (r % 64));
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
    bits: SparseBits,
    bits_a: SparseBits,
    bits_b: SparseBits,
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

fn spaces_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b' ').count()
}
