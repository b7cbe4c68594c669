//! The compiled rules flattened for the indexed matcher: every rule's boolean tree as a short
//! postfix program in one contiguous array, its leaves and their literal ids in two more, and the
//! terms it can report interned once for the whole rule set.
//!
//! Owns evaluating one candidate rule against one story's scan (the hit table and NEAR word
//! spans of [`super::index`]). Evaluation is eager and branch-light: every leaf of a candidate
//! is looked up once, then the postfix ops run over a small bool stack. Same results as
//! [`super::compile::eval`] on the tree (a pure function of the leaves and NEAR answers), which
//! the property test against the naive evaluator checks.

use super::compile::{Compiled, FIELD_NAMES, LeafKind, Node, word_distance};
use super::index::ScanScratch;

/// Op tags (top 3 bits of an op word; the low 29 bits are the argument).
const LEAF: u32 = 0;
/// Negate the top of the stack.
const NOT: u32 = 1;
/// Pop `n` values, push whether all hold.
const AND: u32 = 2;
/// Pop `n` values, push whether any holds.
const OR: u32 = 3;
/// Push the answer of `nears[i]`.
const NEAR: u32 = 4;
const ARG: u32 = (1 << 29) - 1;

fn op(tag: u32, arg: usize) -> u32 {
    (tag << 29) | (id(arg) & ARG)
}

#[derive(Debug, Clone, Copy)]
struct NearOp {
    /// Ranges into `near_leaves` (leaf indexes local to the rule).
    a: (u32, u32),
    b: (u32, u32),
    n: u32,
}

/// Every rule of a rule set as a flat program. Each rule is one run of `code`, so evaluating a
/// candidate touches one or two cache lines:
///
/// `[leaf count, op count, leaf…, op…]`, a leaf being `[fields | positive << 3 | literal count
/// << 4, term id, literal id…]` (a feed leaf has fields 0 and one "literal": its index in
/// `feeds`), an op being `tag << 29 | argument` in postfix order.
#[derive(Debug, Default)]
pub struct Program {
    /// Start of each rule in `code`.
    starts: Vec<u32>,
    code: Vec<u32>,
    nears: Vec<NearOp>,
    near_leaves: Vec<u32>,
    feeds: Vec<Box<str>>,
    /// Every term's text, by term id.
    terms: super::Texts,
}

/// Evaluation scratch, reused between candidate rules and stories.
#[derive(Default)]
pub struct EvalScratch {
    vals: Vec<bool>,
    /// Offset of each leaf of the current rule in `code`.
    leaf_at: Vec<u32>,
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
        let mut term_ids: foldhash::HashMap<&str, u32> = foldhash::HashMap::default();
        let mut ops = Vec::new();
        for rule in rules {
            p.starts.push(id(p.code.len()));
            ops.clear();
            p.emit(&rule.root, &mut ops);
            p.code.push(id(rule.leaves.len()));
            p.code.push(id(ops.len()));
            for leaf in rule.leaves.iter() {
                let term = *term_ids.entry(&leaf.written).or_insert_with(|| {
                    p.terms.push(&leaf.written);
                    id(p.terms.len() - 1)
                });
                let positive = u32::from(leaf.positive) << 3;
                match &leaf.kind {
                    LeafKind::Text { fields, lits } => {
                        p.code
                            .push(u32::from(*fields & 7) | positive | (id(lits.len()) << 4));
                        p.code.push(term);
                        p.code.extend(lits.iter());
                    }
                    LeafKind::Feed(name) => {
                        p.code.push(positive | (1 << 4));
                        p.code.push(term);
                        p.code.push(id(p.feeds.len()));
                        p.feeds.push(name.clone());
                    }
                }
            }
            p.code.extend(&ops);
        }
        p.starts.push(id(p.code.len()));
        p.starts.shrink_to_fit();
        p.code.shrink_to_fit();
        p.nears.shrink_to_fit();
        p.near_leaves.shrink_to_fit();
        p.feeds.shrink_to_fit();
        p.terms.shrink_to_fit();
        p
    }

    fn emit(&mut self, node: &Node, ops: &mut Vec<u32>) {
        match node {
            Node::Leaf(i) => ops.push(op(LEAF, *i as usize)),
            Node::Not(x) => {
                self.emit(x, ops);
                ops.push(op(NOT, 0));
            }
            Node::And(xs) => {
                xs.iter().for_each(|x| self.emit(x, ops));
                ops.push(op(AND, xs.len()));
            }
            Node::Or(xs) => {
                xs.iter().for_each(|x| self.emit(x, ops));
                ops.push(op(OR, xs.len()));
            }
            Node::Near(a, b, n) => {
                let start = id(self.near_leaves.len());
                self.near_leaves.extend(a.iter());
                let mid = id(self.near_leaves.len());
                self.near_leaves.extend(b.iter());
                let end = id(self.near_leaves.len());
                ops.push(op(NEAR, self.nears.len()));
                self.nears.push(NearOp {
                    a: (start, mid),
                    b: (mid, end),
                    n: *n,
                });
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.starts.capacity() * 4
            + self.code.capacity() * 4
            + self.nears.capacity() * std::mem::size_of::<NearOp>()
            + self.near_leaves.capacity() * 4
            + self.feeds.iter().map(|f| f.len() + 16).sum::<usize>()
            + self.terms.heap_bytes()
    }

    /// (part, heap bytes, allocations) of the programs, for the benchmarks.
    pub fn heap_parts(&self) -> Vec<(&'static str, usize, usize)> {
        vec![
            (
                "programs: code",
                (self.starts.capacity() + self.code.capacity() + self.near_leaves.capacity()) * 4
                    + self.nears.capacity() * std::mem::size_of::<NearOp>(),
                4,
            ),
            (
                "programs: terms and feeds",
                self.feeds.iter().map(|t| t.len()).sum::<usize>()
                    + self.feeds.capacity() * 16
                    + self.terms.heap_bytes(),
                3 + self.feeds.len(),
            ),
        ]
    }

    /// How many distinct terms: every term id is below this.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// The term string of a term id from [`Program::eval`].
    pub fn term(&self, t: u32) -> &str {
        self.terms.get(t as usize)
    }

    /// Prefetches the first and last word of each rule's code, so that the cache misses of a
    /// thousand scattered candidates overlap instead of stalling [`Program::eval`] one by one.
    pub fn touch(&self, rules: impl Iterator<Item = u32>) {
        for r in rules {
            let r = r as usize;
            if let (Some(&a), Some(&b)) = (self.starts.get(r), self.starts.get(r + 1))
                && a < b
            {
                super::prefetch(&self.code, a as usize);
                super::prefetch(&self.code, b as usize - 1);
            }
        }
    }

    /// The text leaves of rule `r`, in leaf order: (fields, positive, term id, literal ids).
    /// Feed leaves are left out.
    pub fn text_leaves(&self, r: u32) -> impl Iterator<Item = (u8, bool, u32, &[u32])> + '_ {
        let code = self.rule(r);
        let n_leaves = code.first().copied().unwrap_or(0);
        let mut at = 2usize;
        (0..n_leaves).filter_map(move |_| {
            let hdr = *code.get(at)?;
            let term = *code.get(at + 1)?;
            let n = (hdr >> 4) as usize;
            let lits = code.get(at + 2..at + 2 + n)?;
            at += 2 + n;
            let fields = (hdr & 7) as u8;
            (fields != 0).then_some((fields, hdr & 8 != 0, term, lits))
        })
    }

    /// The code of rule `r`.
    fn rule(&self, r: u32) -> &[u32] {
        match (self.starts.get(r as usize), self.starts.get(r as usize + 1)) {
            (Some(&a), Some(&b)) => self.code.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
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
        let code = self.rule(r);
        let [n_leaves, n_ops, ..] = *code else {
            return false;
        };
        s.vals.clear();
        s.leaf_at.clear();
        let mut at = 2;
        for _ in 0..n_leaves {
            let (Some(&hdr), Some(lits)) = (code.get(at), code.get(at + 2..)) else {
                return false;
            };
            let n = (hdr >> 4) as usize;
            let lits = &lits[..n.min(lits.len())];
            let fields = (hdr & 7) as u8;
            let holds = if fields == 0 {
                lits.first()
                    .and_then(|&f| self.feeds.get(f as usize))
                    .is_some_and(|f| **f == *feed)
            } else {
                lits.iter().any(|&l| scan.hits.fields(l) & fields != 0)
            };
            s.vals.push(holds);
            s.leaf_at.push(id(at));
            at += 2 + n;
        }
        let ops = code.get(at..at + n_ops as usize).unwrap_or(&[]);
        let stack = &mut s.stack;
        stack.clear();
        for &word in ops {
            let arg = (word & ARG) as usize;
            match word >> 29 {
                LEAF => stack.push(s.vals.get(arg).copied().unwrap_or(false)),
                NOT => {
                    if let Some(t) = stack.last_mut() {
                        *t = !*t;
                    }
                }
                AND => {
                    let k = stack.len().saturating_sub(arg);
                    let v = stack[k..].iter().all(|&b| b);
                    stack.truncate(k);
                    stack.push(v);
                }
                OR => {
                    let k = stack.len().saturating_sub(arg);
                    let v = stack[k..].iter().any(|&b| b);
                    stack.truncate(k);
                    stack.push(v);
                }
                _ => {
                    let v = self
                        .nears
                        .get(arg)
                        .is_some_and(|near| self.near(near, code, &s.vals, &s.leaf_at, scan));
                    stack.push(v);
                }
            }
        }
        if stack.pop() != Some(true) {
            return false;
        }
        let start = matched.len();
        for (&at, &holds) in s.leaf_at.iter().zip(&s.vals) {
            let (Some(&hdr), Some(&term)) = (code.get(at as usize), code.get(at as usize + 1))
            else {
                continue;
            };
            if hdr & 8 != 0 && holds && !matched[start..].contains(&term) {
                matched.push(term);
            }
        }
        true
    }

    fn near(
        &self,
        near: &NearOp,
        code: &[u32],
        vals: &[bool],
        leaf_at: &[u32],
        scan: &ScanScratch,
    ) -> bool {
        let a = &self.near_leaves[range(near.a)];
        let b = &self.near_leaves[range(near.b)];
        let holds = |xs: &[u32]| xs.iter().any(|&i| vals.get(i as usize) == Some(&true));
        if !holds(a) || !holds(b) {
            return false;
        }
        FIELD_NAMES.iter().any(|&(bit, _)| {
            self.any_span(code, leaf_at, a, bit, scan, |x| {
                self.any_span(code, leaf_at, b, bit, scan, |y| {
                    word_distance(x, y) <= near.n
                })
            })
        })
    }

    /// Calls `f(first word, last word)` for each occurrence of the leaves in the field `bit`
    /// until `f` returns true.
    fn any_span(
        &self,
        code: &[u32],
        leaf_at: &[u32],
        which: &[u32],
        bit: u8,
        scan: &ScanScratch,
        mut f: impl FnMut((u32, u32)) -> bool,
    ) -> bool {
        for &i in which {
            let Some(&at) = leaf_at.get(i as usize) else {
                continue;
            };
            let at = at as usize;
            let Some(&hdr) = code.get(at) else {
                continue;
            };
            if (hdr & 7) as u8 & bit == 0 {
                continue;
            }
            let lits = code
                .get(at + 2..at + 2 + (hdr >> 4) as usize)
                .unwrap_or(&[]);
            for &l in lits {
                if scan
                    .positions(l)
                    .any(|(b, first, last)| b == bit && f((first, last)))
                {
                    return true;
                }
            }
        }
        false
    }
}
