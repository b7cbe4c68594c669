//! The compiled rules flattened for the indexed matcher: every rule's boolean tree as a short
//! postfix program in one contiguous array, its leaves and their literal ids in two more, and the
//! terms it can report interned once for the whole rule set.
//!
//! Owns evaluating one candidate rule against one story's scan (the hit table and NEAR word
//! spans of [`super::index`]). Evaluation is eager and branch-light: every leaf of a candidate
//! is looked up once, then the postfix ops run over a small bool stack. Same results as
//! [`super::compile::eval`] on the tree (a pure function of the leaves and NEAR answers), which
//! the property test against the naive evaluator checks.

use std::collections::HashMap;

use super::compile::{Compiled, FIELD_NAMES, LeafKind, Node, word_distance};
use super::index::ScanScratch;

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Push the value of the rule's leaf `i`.
    Leaf(u32),
    Not,
    /// Pop `n` values, push whether all hold.
    And(u32),
    /// Pop `n` values, push whether any holds.
    Or(u32),
    /// Push the answer of `nears[i]`.
    Near(u32),
}

#[derive(Debug, Clone, Copy)]
struct NearOp {
    /// Ranges into `near_leaves` (leaf indexes local to the rule).
    a: (u32, u32),
    b: (u32, u32),
    n: u32,
}

#[derive(Debug, Clone, Copy)]
struct FlatLeaf {
    /// Field bits a text leaf may match in; 0 for a feed leaf.
    fields: u8,
    positive: bool,
    /// Index into `terms`: the term as written.
    term: u32,
    /// Text leaf: range into `lits`. Feed leaf: (index into `feeds`, same).
    lits: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct RuleProg {
    ops: (u32, u32),
    leaves: (u32, u32),
}

/// Every rule of a rule set as a flat program.
#[derive(Debug, Default)]
pub struct Program {
    rules: Vec<RuleProg>,
    ops: Vec<Op>,
    leaves: Vec<FlatLeaf>,
    lits: Vec<u32>,
    nears: Vec<NearOp>,
    near_leaves: Vec<u32>,
    feeds: Vec<Box<str>>,
    terms: Vec<Box<str>>,
}

/// Evaluation scratch, reused between candidate rules and stories.
#[derive(Default)]
pub struct EvalScratch {
    vals: Vec<bool>,
    stack: Vec<bool>,
}

fn id(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn range(r: (u32, u32)) -> std::ops::Range<usize> {
    r.0 as usize..r.1 as usize
}

impl Program {
    pub fn build<'a>(rules: impl IntoIterator<Item = &'a Compiled>) -> Program {
        let mut p = Program::default();
        let mut term_ids: HashMap<Box<str>, u32> = HashMap::new();
        for rule in rules {
            let leaf_start = id(p.leaves.len());
            for leaf in rule.leaves.iter() {
                let term = *term_ids.entry(leaf.written.clone()).or_insert_with(|| {
                    p.terms.push(leaf.written.clone());
                    id(p.terms.len() - 1)
                });
                let (fields, lits) = match &leaf.kind {
                    LeafKind::Text { fields, lits } => {
                        let start = id(p.lits.len());
                        p.lits.extend(lits.iter());
                        (*fields, (start, id(p.lits.len())))
                    }
                    LeafKind::Feed(name) => {
                        let f = id(p.feeds.len());
                        p.feeds.push(name.clone());
                        (0, (f, f))
                    }
                };
                p.leaves.push(FlatLeaf {
                    fields,
                    positive: leaf.positive,
                    term,
                    lits,
                });
            }
            let op_start = id(p.ops.len());
            p.emit(&rule.root);
            p.rules.push(RuleProg {
                ops: (op_start, id(p.ops.len())),
                leaves: (leaf_start, id(p.leaves.len())),
            });
        }
        p.shrink();
        p
    }

    fn shrink(&mut self) {
        self.rules.shrink_to_fit();
        self.ops.shrink_to_fit();
        self.leaves.shrink_to_fit();
        self.lits.shrink_to_fit();
        self.nears.shrink_to_fit();
        self.near_leaves.shrink_to_fit();
        self.feeds.shrink_to_fit();
        self.terms.shrink_to_fit();
    }

    fn emit(&mut self, node: &Node) {
        match node {
            Node::Leaf(i) => self.ops.push(Op::Leaf(*i)),
            Node::Not(x) => {
                self.emit(x);
                self.ops.push(Op::Not);
            }
            Node::And(xs) => {
                xs.iter().for_each(|x| self.emit(x));
                self.ops.push(Op::And(id(xs.len())));
            }
            Node::Or(xs) => {
                xs.iter().for_each(|x| self.emit(x));
                self.ops.push(Op::Or(id(xs.len())));
            }
            Node::Near(a, b, n) => {
                let start = id(self.near_leaves.len());
                self.near_leaves.extend(a.iter());
                let mid = id(self.near_leaves.len());
                self.near_leaves.extend(b.iter());
                let end = id(self.near_leaves.len());
                self.ops.push(Op::Near(id(self.nears.len())));
                self.nears.push(NearOp {
                    a: (start, mid),
                    b: (mid, end),
                    n: *n,
                });
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.rules.capacity() * std::mem::size_of::<RuleProg>()
            + self.ops.capacity() * std::mem::size_of::<Op>()
            + self.leaves.capacity() * std::mem::size_of::<FlatLeaf>()
            + self.lits.capacity() * 4
            + self.nears.capacity() * std::mem::size_of::<NearOp>()
            + self.near_leaves.capacity() * 4
            + self.feeds.iter().map(|f| f.len() + 16).sum::<usize>()
            + self.terms.iter().map(|t| t.len() + 16).sum::<usize>()
    }

    /// The term string of a term id from [`Program::eval`].
    pub fn term(&self, t: u32) -> &str {
        self.terms.get(t as usize).map_or("", |t| &**t)
    }

    /// Whether rule `r` matches; if so, appends the ids of its positive terms that hit (as
    /// written, query order, no duplicates) to `matched`.
    pub fn eval(
        &self,
        r: u32,
        scan: &ScanScratch,
        feed: &str,
        s: &mut EvalScratch,
        matched: &mut Vec<u32>,
    ) -> bool {
        let Some(rule) = self.rules.get(r as usize) else {
            return false;
        };
        let leaves = &self.leaves[range(rule.leaves)];
        s.vals.clear();
        s.vals.extend(leaves.iter().map(|leaf| {
            if leaf.fields == 0 {
                self.feeds
                    .get(leaf.lits.0 as usize)
                    .is_some_and(|f| **f == *feed)
            } else {
                self.lits[range(leaf.lits)]
                    .iter()
                    .any(|&l| scan.hits.fields(l) & leaf.fields != 0)
            }
        }));
        let stack = &mut s.stack;
        stack.clear();
        for op in &self.ops[range(rule.ops)] {
            match *op {
                Op::Leaf(i) => stack.push(s.vals.get(i as usize).copied().unwrap_or(false)),
                Op::Not => {
                    if let Some(t) = stack.last_mut() {
                        *t = !*t;
                    }
                }
                Op::And(n) => {
                    let k = stack.len().saturating_sub(n as usize);
                    let v = stack[k..].iter().all(|&b| b);
                    stack.truncate(k);
                    stack.push(v);
                }
                Op::Or(n) => {
                    let k = stack.len().saturating_sub(n as usize);
                    let v = stack[k..].iter().any(|&b| b);
                    stack.truncate(k);
                    stack.push(v);
                }
                Op::Near(i) => {
                    let v = self
                        .nears
                        .get(i as usize)
                        .is_some_and(|near| self.near(near, leaves, &s.vals, scan));
                    stack.push(v);
                }
            }
        }
        if stack.pop() != Some(true) {
            return false;
        }
        let start = matched.len();
        for (leaf, &holds) in leaves.iter().zip(&s.vals) {
            if leaf.positive && holds && !matched[start..].contains(&leaf.term) {
                matched.push(leaf.term);
            }
        }
        true
    }

    fn near(&self, near: &NearOp, leaves: &[FlatLeaf], vals: &[bool], scan: &ScanScratch) -> bool {
        let a = &self.near_leaves[range(near.a)];
        let b = &self.near_leaves[range(near.b)];
        let holds = |xs: &[u32]| xs.iter().any(|&i| vals.get(i as usize) == Some(&true));
        if !holds(a) || !holds(b) {
            return false;
        }
        FIELD_NAMES.iter().any(|&(bit, _)| {
            self.any_span(leaves, a, bit, scan, |x| {
                self.any_span(leaves, b, bit, scan, |y| word_distance(x, y) <= near.n)
            })
        })
    }

    /// Calls `f(first word, last word)` for each occurrence of the leaves in the field `bit`
    /// until `f` returns true.
    fn any_span(
        &self,
        leaves: &[FlatLeaf],
        which: &[u32],
        bit: u8,
        scan: &ScanScratch,
        mut f: impl FnMut((u32, u32)) -> bool,
    ) -> bool {
        for &i in which {
            let Some(leaf) = leaves.get(i as usize) else {
                continue;
            };
            if leaf.fields & bit == 0 {
                continue;
            }
            for &l in &self.lits[range(leaf.lits)] {
                if scan
                    .positions(l)
                    .iter()
                    .any(|p| p.1 == bit && f((p.2, p.3)))
                {
                    return true;
                }
            }
        }
        false
    }
}
