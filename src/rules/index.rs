//! The indexed matcher: one multi-pattern automaton over every literal of every rule, a map
//! from literals to the rules they can trigger, and evaluation of only those rules.
//!
//! Owns the speed of matching. Each rule gets a trigger set: literals such that the rule cannot
//! match unless one of them occurs (an AND needs only its rarest side, an OR needs all its
//! sides, NOT contributes nothing). Rules whose trigger involves `feed:` are evaluated on every
//! story. A story is scanned once per field; the hits (literal, field) and, for literals used by
//! NEAR, their word positions are kept in small sorted vectors. Must agree exactly with
//! [`super::naive`]; a property test checks it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::compile::{Compiled, FIELD_NAMES, LeafKind, Node, eval, word_distance};
use super::literal::Bounds;

/// Compressed rows: row `i` is `data[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Default)]
struct Rows {
    offsets: Vec<u32>,
    data: Vec<u32>,
}

impl Rows {
    fn from_lists(lists: Vec<Vec<u32>>) -> Rows {
        let mut rows = Rows { offsets: Vec::with_capacity(lists.len() + 1), data: Vec::new() };
        rows.offsets.push(0);
        for l in lists {
            rows.data.extend(l);
            rows.offsets.push(u32::try_from(rows.data.len()).unwrap_or(u32::MAX));
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

pub struct Index {
    /// `None` when no rule has a text literal.
    ac: Option<AhoCorasick>,
    /// Pattern → literals with that text.
    pattern_lits: Rows,
    bounds: Vec<Bounds>,
    /// Literal → whether NEAR needs its positions.
    positional: Vec<bool>,
    /// Literal → rules it triggers (ascending).
    triggers: Rows,
    /// Rules evaluated on every story (their trigger includes `feed:`).
    always: Vec<u32>,
    patterns: Vec<Box<str>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("patterns", &self.patterns.len()).field("always", &self.always.len()).finish()
    }
}

/// A trigger set: literals, plus whether the rule can also be triggered through `feed:`.
struct Trigger {
    lits: Vec<u32>,
    feed: bool,
}

fn trigger(rule: &Compiled, node: &Node, popularity: &[u32]) -> Option<Trigger> {
    let cost = |t: &Trigger| -> u64 {
        t.lits.iter().map(|&l| u64::from(popularity[l as usize]) + 1).sum::<u64>() + if t.feed { 1 << 40 } else { 0 }
    };
    let leaf = |i: u32| -> Trigger {
        match &rule.leaves[i as usize].kind {
            LeafKind::Text { lits, .. } => Trigger { lits: lits.to_vec(), feed: false },
            LeafKind::Feed(_) => Trigger { lits: Vec::new(), feed: true },
        }
    };
    let union = |ts: Vec<Trigger>| -> Trigger {
        let mut out = Trigger { lits: Vec::new(), feed: false };
        for t in ts {
            out.lits.extend(t.lits);
            out.feed |= t.feed;
        }
        out
    };
    match node {
        Node::Leaf(i) => Some(leaf(*i)),
        Node::Not(_) => None,
        Node::And(xs) => xs.iter().filter_map(|x| trigger(rule, x, popularity)).min_by_key(|t| cost(t)),
        Node::Or(xs) => xs.iter().map(|x| trigger(rule, x, popularity)).collect::<Option<Vec<_>>>().map(union),
        Node::Near(a, b, _) => {
            let a = union(a.iter().map(|&i| leaf(i)).collect());
            let b = union(b.iter().map(|&i| leaf(i)).collect());
            Some(if cost(&a) <= cost(&b) { a } else { b })
        }
    }
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
        let mut always = Vec::new();
        for (r, rule) in rules.iter().enumerate() {
            let r = u32::try_from(r).unwrap_or(u32::MAX);
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

        let mut pattern_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
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
        let ac = if patterns.is_empty() {
            None
        } else {
            // Standard semantics: overlapping search reports every occurrence of every literal.
            AhoCorasickBuilder::new().match_kind(MatchKind::Standard).build(patterns.iter().map(|p| p.as_bytes())).ok()
        };
        Index {
            ac,
            pattern_lits: Rows::from_lists(pattern_lits),
            bounds: lits.iter().map(|(_, b)| *b).collect(),
            positional,
            triggers: Rows::from_lists(triggers),
            always,
            patterns,
        }
    }

    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|p| &**p)
    }

    /// Heap bytes of the index (the automaton and the maps), for the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        self.ac.as_ref().map_or(0, AhoCorasick::memory_usage)
            + self.pattern_lits.heap_bytes()
            + self.triggers.heap_bytes()
            + self.bounds.capacity() * std::mem::size_of::<Bounds>()
            + self.positional.capacity()
            + self.always.capacity() * 4
            + self.patterns.iter().map(|p| p.len() + 16).sum::<usize>()
    }

    /// Scans the fields and returns what hit plus the rules worth evaluating (ascending).
    pub fn scan(&self, texts: [&str; 3], rule_count: usize) -> (DocHits, Vec<u32>) {
        let mut hits: Vec<(u32, u8)> = Vec::new();
        let mut pos: Vec<(u32, u8, u32, u32)> = Vec::new();
        if let Some(ac) = &self.ac {
            for (i, text) in texts.iter().enumerate() {
                if text.is_empty() {
                    continue;
                }
                let bit = FIELD_NAMES[i].0;
                let mut spaces: Option<Vec<u32>> = None;
                for m in ac.find_overlapping_iter(*text) {
                    for &l in self.pattern_lits.row(m.pattern().as_usize()) {
                        if !self.bounds[l as usize].accepts(text, m.start(), m.end()) {
                            continue;
                        }
                        hits.push((l, bit));
                        if self.positional[l as usize] {
                            let sp = spaces.get_or_insert_with(|| space_offsets(text));
                            let first = sp.partition_point(|&s| (s as usize) < m.start());
                            let last = sp.partition_point(|&s| (s as usize) < m.end());
                            pos.push((l, bit, count(first), count(last)));
                        }
                    }
                }
            }
        }
        hits.sort_unstable();
        hits.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 |= b.1;
                true
            } else {
                false
            }
        });
        pos.sort_unstable();

        let mut bits = vec![0u64; rule_count.div_ceil(64)];
        let mut set = |r: u32| bits[(r / 64) as usize] |= 1 << (r % 64);
        for &(l, _) in &hits {
            self.triggers.row(l as usize).iter().for_each(|&r| set(r));
        }
        self.always.iter().for_each(|&r| set(r));
        let mut candidates = Vec::new();
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let b = word.trailing_zeros();
                candidates.push(u32::try_from(w * 64).unwrap_or(u32::MAX) + b);
                word &= word - 1;
            }
        }
        (DocHits { hits, pos }, candidates)
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn space_offsets(text: &str) -> Vec<u32> {
    text.bytes().enumerate().filter(|(_, b)| *b == b' ').map(|(i, _)| count(i)).collect()
}

/// What one story's scan found.
pub struct DocHits {
    /// (literal, fields bitmask), sorted by literal, one entry per literal.
    hits: Vec<(u32, u8)>,
    /// (literal, field bit, first word, last word) for NEAR literals, sorted.
    pos: Vec<(u32, u8, u32, u32)>,
}

impl DocHits {
    fn fields(&self, lit: u32) -> u8 {
        self.hits.binary_search_by_key(&lit, |h| h.0).map_or(0, |i| self.hits[i].1)
    }

    fn positions(&self, lit: u32) -> &[(u32, u8, u32, u32)] {
        let start = self.pos.partition_point(|p| p.0 < lit);
        let end = self.pos.partition_point(|p| p.0 <= lit);
        &self.pos[start..end]
    }

    fn leaf_holds(&self, rule: &Compiled, leaf: u32, feed: &str) -> bool {
        match &rule.leaves[leaf as usize].kind {
            LeafKind::Feed(name) => **name == *feed,
            LeafKind::Text { fields, lits } => lits.iter().any(|&l| self.fields(l) & fields != 0),
        }
    }

    fn spans(&self, rule: &Compiled, leaves: &[u32], bit: u8) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for &leaf in leaves {
            if let LeafKind::Text { fields, lits } = &rule.leaves[leaf as usize].kind
                && fields & bit != 0
            {
                for &l in lits.iter() {
                    out.extend(self.positions(l).iter().filter(|p| p.1 == bit).map(|p| (p.2, p.3)));
                }
            }
        }
        out
    }

    /// `Some(matched positive terms)` when the rule matches.
    pub fn match_rule(&self, rule: &Compiled, feed: &str) -> Option<Vec<String>> {
        let matched = eval(
            &rule.root,
            &mut |leaf| self.leaf_holds(rule, leaf, feed),
            &mut |a, b, n| {
                FIELD_NAMES.iter().any(|(bit, _)| {
                    let a = self.spans(rule, a, *bit);
                    !a.is_empty() && {
                        let b = self.spans(rule, b, *bit);
                        a.iter().any(|x| b.iter().any(|y| word_distance(*x, *y) <= n))
                    }
                })
            },
        );
        matched.then(|| {
            let mut out: Vec<String> = Vec::new();
            for (i, leaf) in rule.leaves.iter().enumerate() {
                if leaf.positive
                    && !out.iter().any(|w| **w == *leaf.written)
                    && self.leaf_holds(rule, count(i), feed)
                {
                    out.push(leaf.written.to_string());
                }
            }
            out
        })
    }
}
