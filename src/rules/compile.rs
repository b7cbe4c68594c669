//! Turns a parsed query into what the matchers evaluate: leaves (a term with its aliases
//! expanded into normalised literals and boundary rules, and the fields it may match in) under a
//! small boolean tree.
//!
//! Owns turning a term into literals (through [`Aliases::literals`], which decides each
//! member's and compound's boundary rules), field scoping and the literal table shared by a
//! rule set. Must not look at story text: both the indexed matcher and the naive evaluator start from
//! its output.

use std::collections::HashMap;

use super::aliases::Aliases;
use super::field::Field;
use super::literal::Bounds;
use super::normalize::normalize;
use super::parser::{Expr, Term};

pub const TITLE: u8 = 1;
pub const SUMMARY: u8 = 2;
pub const CONTENT: u8 = 4;
pub const ALL_FIELDS: u8 = TITLE | SUMMARY | CONTENT;

/// The field names, by bit position.
pub const FIELD_NAMES: [(u8, &str); 3] =
    [(TITLE, "title"), (SUMMARY, "summary"), (CONTENT, "content")];

#[derive(Debug, Clone)]
pub enum LeafKind {
    /// Any of `lits` (ids into the rule set's literal table) in any field of `fields`.
    Text { fields: u8, lits: Box<[u32]> },
    /// The story comes from this feed (normalised name).
    Feed(Box<str>),
}

#[derive(Debug, Clone)]
pub struct Leaf {
    /// The term as written (canonical form: straight quotes, modifiers kept, no field prefix;
    /// `feed:name` for feed leaves).
    pub written: Box<str>,
    /// Not under any NOT: reported in `matched` when it hits.
    pub positive: bool,
    pub kind: LeafKind,
}

#[derive(Debug, Clone)]
pub enum Node {
    Leaf(u32),
    Not(Box<Node>),
    And(Box<[Node]>),
    Or(Box<[Node]>),
    /// Some occurrence of a leaf of the first list within `n` words of one of the second, in the
    /// same field.
    Near(Box<[u32]>, Box<[u32]>, u32),
}

#[derive(Debug, Clone)]
pub struct Compiled {
    pub leaves: Box<[Leaf]>,
    pub root: Node,
}

/// Interns (normalised text, bounds) pairs so that rules share literals.
#[derive(Debug, Default)]
pub struct LiteralTable {
    pub lits: Vec<(Box<str>, Bounds)>,
    /// Whether Latin terms without an alias also get their transliterated spellings.
    pub translit: bool,
    ids: HashMap<(Box<str>, Bounds), u32>,
    /// The literals of each term's transliterated spellings, once per build (the search is the
    /// costly part of a build, and rules repeat their names).
    translit_ids: HashMap<TermKey, Box<[u32]>>,
}

/// A term as written and normalised.
type TermKey = (Box<str>, Box<str>);

impl LiteralTable {
    pub fn intern(&mut self, text: &str, bounds: Bounds) -> u32 {
        let key: (Box<str>, Bounds) = (text.into(), bounds);
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = u32::try_from(self.lits.len()).unwrap_or(u32::MAX);
        self.lits.push(key.clone());
        self.ids.insert(key, id);
        id
    }

    /// Drops the lookup map once building is done.
    pub fn into_lits(self) -> Vec<(Box<str>, Bounds)> {
        self.lits
    }
}

pub fn compile(expr: &Expr, aliases: &Aliases, table: &mut LiteralTable) -> Compiled {
    let mut c = Compiler {
        aliases,
        table,
        leaves: Vec::new(),
    };
    let root = c.node(expr, None, true);
    Compiled {
        leaves: c.leaves.into_boxed_slice(),
        root,
    }
}

struct Compiler<'a> {
    aliases: &'a Aliases,
    table: &'a mut LiteralTable,
    leaves: Vec<Leaf>,
}

impl Compiler<'_> {
    fn node(&mut self, e: &Expr, field: Option<Field>, positive: bool) -> Node {
        match e {
            Expr::Term(t) => Node::Leaf(self.leaf(t, field, positive)),
            Expr::Field(f, x) => self.node(x, Some(*f), positive),
            Expr::Not(x) => Node::Not(Box::new(self.node(x, field, false))),
            Expr::And(xs) => Node::And(xs.iter().map(|x| self.node(x, field, positive)).collect()),
            Expr::Or(xs) => Node::Or(xs.iter().map(|x| self.node(x, field, positive)).collect()),
            Expr::Near(a, b, n) => {
                let a = self.positional(a, field, positive);
                let b = self.positional(b, field, positive);
                Node::Near(a.into_boxed_slice(), b.into_boxed_slice(), *n)
            }
        }
    }

    /// The leaves of a NEAR operand (a term, or an OR of terms, maybe under a field prefix).
    fn positional(&mut self, e: &Expr, field: Option<Field>, positive: bool) -> Vec<u32> {
        match e {
            Expr::Term(t) => vec![self.leaf(t, field, positive)],
            Expr::Field(f, x) => self.positional(x, Some(*f), positive),
            Expr::Or(xs) => xs
                .iter()
                .flat_map(|x| self.positional(x, field, positive))
                .collect(),
            // The parser accepts only the shapes above as NEAR operands.
            _ => Vec::new(),
        }
    }

    fn leaf(&mut self, t: &Term, field: Option<Field>, positive: bool) -> u32 {
        let id = u32::try_from(self.leaves.len()).unwrap_or(u32::MAX);
        let term_written = Expr::Term(t.clone()).to_string();
        let leaf = if field == Some(Field::Feed) {
            Leaf {
                written: format!("feed:{term_written}").into(),
                positive,
                kind: LeafKind::Feed(normalize(&t.text).trim().into()),
            }
        } else {
            let fields = match field {
                Some(Field::Title) => TITLE,
                Some(Field::Summary) => SUMMARY,
                Some(Field::Content) => CONTENT,
                _ => ALL_FIELDS,
            };
            let norm = normalize(&t.text).trim().to_string();
            let forms = self.aliases.literals(&norm, t.prefix, t.suffix, t.whole);
            let mut lits: Vec<u32> = forms
                .iter()
                .map(|(m, bounds)| self.table.intern(m, *bounds))
                .collect();
            // A Latin name with no alias: its likely Hangul spellings, as whole words (`translit`).
            if self.table.translit && !self.aliases.contains(&norm) && !t.prefix && !t.suffix {
                let key: TermKey = (t.text.as_str().into(), norm.as_str().into());
                let ids = match self.table.translit_ids.get(&key) {
                    Some(ids) => ids.clone(),
                    None => {
                        let ids: Box<[u32]> = super::translit::for_term(&t.text, &norm)
                            .iter()
                            .map(|s| {
                                self.table
                                    .intern(s, Bounds::for_literal(s, false, false, true))
                            })
                            .collect();
                        self.table.translit_ids.insert(key, ids.clone());
                        ids
                    }
                };
                lits.extend_from_slice(&ids);
            }
            let lits = lits.into_boxed_slice();
            Leaf {
                written: term_written.into(),
                positive,
                kind: LeafKind::Text { fields, lits },
            }
        };
        self.leaves.push(leaf);
        id
    }
}

/// Evaluates a compiled rule, given whether each leaf holds and whether NEAR holds.
pub fn eval(
    node: &Node,
    leaf: &mut impl FnMut(u32) -> bool,
    near: &mut impl FnMut(&[u32], &[u32], u32) -> bool,
) -> bool {
    match node {
        Node::Leaf(i) => leaf(*i),
        Node::Not(x) => !eval(x, leaf, near),
        Node::And(xs) => xs.iter().all(|x| eval(x, leaf, near)),
        Node::Or(xs) => xs.iter().any(|x| eval(x, leaf, near)),
        Node::Near(a, b, n) => near(a, b, *n),
    }
}

/// Word distance between two occurrences given as (first word, last word): 0 when they
/// overlap, 1 when adjacent.
pub fn word_distance(a: (u32, u32), b: (u32, u32)) -> u32 {
    if b.0 > a.1 {
        b.0 - a.1
    } else {
        a.0.saturating_sub(b.1)
    }
}
