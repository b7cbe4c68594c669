//! Watch rules: the query language, `rules.toml`, and matching stories against thousands of
//! rules at once.
//!
//! Owns everything between a rule's text and the answer "which rules does this story match, and
//! on which terms". Pure: no IO (the caller reads `rules.toml`), no `.await`, no global mutable
//! state; the only `static` is the built-in alias table (and [`translit`]'s stop list is a
//! compiled-in `const`).
//!
//! # The language
//!
//! | syntax | meaning |
//! |---|---|
//! | `A AND B`, `A B` | both (side by side is an implicit AND) |
//! | `A OR B` | either |
//! | `NOT A`, `-A`, `A NOT B` | exclude (`A NOT B` is `A AND NOT B`) |
//! | `( … )` | grouping |
//! | `"exact phrase"`, `“…”`, `‘…’` | consecutive words |
//! | `A NEAR/n B`, `A NEAR B` | both within `n` words (default 5) in the same field; each side is a term, a phrase or an OR group of them |
//! | `title:A`, `summary:(A OR B)`, `content:A` | only in that field |
//! | `feed:yna` | only stories from that feed (case-insensitive) |
//! | `반도체*`, `regul*` | prefix: any ending (at least 2 Hangul syllables or 3 letters before `*`) |
//! | `*기업` | may start inside a word: matches 중소기업 |
//! | `=메타` | whole word: the word alone or followed by particles only (see below) |
//!
//! Operators are capitals only (`and`, `or` are ordinary words). Precedence, tightest first:
//! parentheses and quotes; field prefixes and `*`; `NEAR/n`; `NOT`; `AND`; `OR`.
//!
//! # Matching
//!
//! Text and terms are normalised the same way ([`normalize()`]): NFKC, lower-case, zero-width
//! characters and soft hyphens removed, whitespace collapsed. Then:
//!
//! - A term that starts with Hangul (or any non-Latin letter) matches at the start of a word
//!   and takes any ending: `기업` matches `기업들과의`; `애플` does not match `파인애플`.
//! - A term that starts or ends with a Latin letter or digit needs a character that is not a
//!   Latin letter or digit on that side: `AI` matches `AI가` and `(AI)`, not `FAIR`; `sk` does
//!   not match `ask`; `오픈AI` matches `오픈AI는`.
//! - A phrase matches consecutive words, with the same rules at its two ends: `"한국 기업"`
//!   matches `한국 기업들과의`, not `한국의 기업`.
//! - `=term` (whole word) is for names that are also the start of other words: `=메타` matches
//!   메타, 메타가, 메타와의 but not 메타버스. After the term the rest of the word must be empty or
//!   a chain of up to three of these particles and endings: 이 가 은 는 을 를 의 와 과 도 에
//!   에서 에게 께 께서 한테 로 으로 로서 으로서 로써 으로써 만 까지 부터 처럼 보다 같이 라고
//!   이라고 이나 나 랑 이랑 하고 마저 조차 밖에 야 이야 며 이며 고 이고 다 이다 였다 이었다
//!   입니다 라는 이라는 란 이란 든 이든 든지 이든지 지만 이지만 요 이요 들 (so 들과의, 에서는).
//!   For a term ending in a Latin letter or digit, `=` changes nothing.
//! - Aliases: a term that belongs to a synonym group matches every member (`OpenAI` finds
//!   `오픈AI`). The built-in dictionary (`src/rules/aliases.toml`, see [`aliases`]) is on unless
//!   `builtin_aliases = false`; `[aliases]` adds groups, and a user group with a built-in
//!   entry's name replaces it. A built-in member that the term brings in matches the whole word
//!   with particles and a few name suffixes, plus the entry's listed compounds: `Samsung` finds
//!   삼성이, 삼성측, 삼성전자, not 삼성동; `Meta` finds 메타가, not 메타버스. An entry's `not`
//!   phrases do not count (`Kia` does not match 기아에 시달리는). The term as typed keeps the
//!   rules above (`삼성` still matches 삼성동), and so do the members of user groups. Modifiers
//!   apply to every member: `Samsung*` gives them any ending, `=Samsung` particles only and no
//!   compounds.
//! - Transliteration: a name in Latin letters that no alias group knows (capitalised, at least
//!   four letters, not an acronym: `Zalando`, `Sally Rooney`, not `service` or `NASA`) also
//!   matches its likely Korean spellings ([`translit`]: 잘란도, 샐리 루니), as whole words with
//!   particles only: `Zalando` matches 잘란도가, not 잘란도코리아. [`RuleMatch::via`] (and
//!   `rules test`) say which form hit and whether it came from the dictionary or from
//!   transliteration. `kkachi aliases suggest` ([`suggest`]) finds the spellings the press
//!   actually used, for `[aliases]`.
//! - A rule matches the story's title, summary and content (when the feed carries it).
//!
//! Known limitation, by design: boundaries cannot tell homonyms apart. `주가` (share price)
//! matches `이번 주가 고비` (this week + particle); add context (`주가 AND (증시 OR 코스피)`).
//! Plain `메타` matches `메타버스`; use `=메타`.
//!
//! # Speed
//!
//! [`RuleSet`] compiles every rule's literals (aliases expanded) into one multi-pattern
//! automaton (daachorse's character-wise double array, which scans Korean text about twice as
//! fast as aho-corasick; aho-corasick is the fallback), scans each field of a story once, and
//! evaluates only the rules whose trigger literals occurred (`index`), each as a short postfix
//! program in one contiguous array (`prog`). [`RuleSet::matcher`] keeps the per-story scratch
//! and the result buffers between stories: use it to match many stories (it is 1.5–5× faster
//! than [`RuleSet::match_doc`], which allocates both anew on every call).
//! [`RuleSet::match_doc_naive`] evaluates every rule directly and is the reference the
//! property tests compare against.

pub mod aliases;
mod compile;
mod field;
mod file;
mod index;
mod lexer;
pub mod literal;
mod naive;
pub mod normalize;
mod parser;
pub mod personal;
mod prog;
pub mod suggest;
pub mod translit;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::diag::Diagnostic;
pub use field::Field;
pub use file::load;
pub use normalize::normalize;
pub use parser::{Expr, Term, Warning, feed_names};

use aliases::Aliases;
use compile::{ALL_FIELDS, Compiled, FIELD_NAMES, LeafKind, LiteralTable, Node, compile};
use literal::Bounds;
use naive::Fields;

/// The story as the matcher sees it. `content` is empty when the feed carries none.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    pub feed: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub content: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    /// The rule's name.
    pub rule: String,
    /// The positive terms of the query that hit, as written (canonical form: straight quotes,
    /// no field prefix; `feed:name` for feed terms), in query order, without duplicates.
    pub matched: Vec<String>,
    /// For each matched term that hit only through another form (an alias or a transliterated
    /// spelling), the first such form: why `Netflix` matched a story that says 넷플릭스.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<Via>,
}

/// Where a form of a term comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The term as written.
    Written,
    /// An alias group (built in or `[aliases]`).
    Dictionary,
    /// A spelling [`translit`] generated.
    Transliteration,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Written => "as written",
            Source::Dictionary => "dictionary",
            Source::Transliteration => "transliteration",
        })
    }
}

/// A matched term and the form of it that hit, when that form is not the term as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Via {
    /// The term as written (as in [`RuleMatch::matched`]).
    pub term: String,
    /// The form that hit (normalised: lower case).
    pub form: String,
    pub source: Source,
}

#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub name: String,
    pub query: String,
    pub description: String,
    pub feeds: Vec<String>,
    /// Static routes: chats, or forum topics of a chat (`"-100123/17"`, `{ id, topic }`).
    pub chats: Vec<crate::deliver::Dest>,
    /// The delivery mode of static chats that name one (`{ id, delivery }`); others: instant.
    pub delivery:
        std::collections::BTreeMap<crate::deliver::Dest, crate::digest::schedule::Delivery>,
    /// The feeds its `feed:NAME` terms name (checked against the config's feeds by `check`).
    pub feed_terms: Vec<String>,
    /// Where the rule's query is in the rules file (1-based line and column; 0 when the rule
    /// did not come from a file).
    pub at: (usize, usize),
}

/// A valid rules file: the rules and the warnings worth showing.
#[derive(Debug)]
pub struct Loaded {
    pub rules: RuleSet,
    pub warnings: Vec<Diagnostic>,
}

/// A syntax or meaning error in one query, at a 1-based character column of the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    /// 1-based, in characters; one past the end when something is missing at the end.
    pub column: usize,
    pub message: String,
}

impl QueryError {
    /// The query and, on the next line, a caret under the column (wide Hangul and CJK
    /// characters count as two terminal cells).
    pub fn caret(&self, query: &str) -> String {
        format!("{query}\n{}", caret_line(query, self.column))
    }
}

/// Spaces up to the display position of `column` in `query`, then `^`.
pub fn caret_line(query: &str, column: usize) -> String {
    let width: usize = query
        .chars()
        .take(column.saturating_sub(1))
        .map(display_width)
        .sum();
    format!("{}^", " ".repeat(width))
}

fn display_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xA960..=0xA97F | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6);
    if wide { 2 } else { 1 }
}

/// Many short texts in one buffer, by index: one allocation instead of one per text (the
/// rule set's 231,000 literals at 100,000 rules, its terms, `rules match`'s escaped pieces).
#[derive(Debug, Default)]
pub struct Texts {
    text: String,
    /// End of each text in `text` (its start is the previous one's end).
    ends: Vec<u32>,
}

impl Texts {
    /// Appends `t`; it is [`Texts::get`]`(len before)`. The buffer is bounded by `u32` offsets
    /// (4 GiB: far past any rule set).
    pub fn push(&mut self, t: &str) {
        self.text.push_str(t);
        self.ends.push(count(self.text.len()));
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Text `i` (empty when out of range).
    #[inline]
    pub fn get(&self, i: usize) -> &str {
        self.ends
            .get(i)
            .and_then(|&end| self.text.get(self.start(i)..end as usize))
            .unwrap_or("")
    }

    /// Text `i` as bytes: [`Texts::get`] without the slice's check of char boundaries (for a
    /// hot loop that writes the bytes out).
    #[inline]
    pub fn get_bytes(&self, i: usize) -> &[u8] {
        self.ends
            .get(i)
            .and_then(|&end| self.text.as_bytes().get(self.start(i)..end as usize))
            .unwrap_or_default()
    }

    #[inline]
    fn start(&self, i: usize) -> usize {
        i.checked_sub(1)
            .and_then(|prev| self.ends.get(prev))
            .map_or(0, |&e| e as usize)
    }

    /// Starts loading where text `i` is: its offset, for a later [`Texts::prefetch_text`].
    #[inline]
    pub fn prefetch_offset(&self, i: usize) {
        prefetch(&self.ends, i.wrapping_sub(1));
    }

    /// Starts loading text `i`'s first bytes.
    #[inline]
    pub fn prefetch_text(&self, i: usize) {
        prefetch(self.text.as_bytes(), self.start(i));
    }

    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// (heap bytes, allocations).
    fn heap(&self) -> (usize, usize) {
        add(
            buf::<u8>(self.text.capacity()),
            buf::<u32>(self.ends.capacity()),
        )
    }

    /// Heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.heap().0
    }
}

/// The literal table a leaf's literal ids point into, for [`RuleSet::source`].
#[derive(Clone, Copy)]
enum LitsOf<'a> {
    /// The rule set's own.
    Set,
    /// Another table (a query compiled apart, the naive evaluator's).
    Other(&'a [(Box<str>, Bounds)]),
}

/// The rules compiled for the naive evaluator, with their own literal table.
struct NaiveRules {
    rules: Vec<Compiled>,
    lits: Vec<(Box<str>, Bounds)>,
}

/// A compiled, immutable set of rules. `Send + Sync`; share it in an `Arc` and swap the `Arc`
/// on reload.
pub struct RuleSet {
    infos: Vec<RuleInfo>,
    /// Rule → its normalised `feeds = [..]`; empty = every feed.
    feeds: Vec<Box<[Box<str>]>>,
    /// The rules' trees for [`RuleSet::match_doc_naive`], compiled again from the queries
    /// the first time it is called (the indexed matcher needs only `index` and `prog`, so the
    /// set does not keep them: at 100,000 rules they were 28 MiB in 620,000 allocations).
    /// Set at build time when the index is incomplete (the naive evaluator is then the matcher).
    naive: std::sync::OnceLock<NaiveRules>,
    /// The text of each literal (their bounds are in `index`).
    /// The literal table's texts (the bounds are in the index).
    lits: Texts,
    aliases: Aliases,
    /// Whether Latin terms without an alias get transliterated spellings ([`translit`]).
    translit: bool,
    /// Literal → whether it is the written form of a term with an alias group (so a leaf's other
    /// literals are aliases, not transliterations), for [`RuleMatch::via`].
    aliased: Vec<bool>,
    index: index::Index,
    prog: prog::Program,
    /// Rule → what a candidate needs first, in one word (one cache miss a candidate at
    /// 100,000 rules): [`FEED_LIMITED`] when it has `feeds = [..]`, and in the low bits its
    /// term id + 1 when the rule is one positive term searched in every field (most rules),
    /// else 0. Such a rule is a candidate only when one of its literals hit, boundaries
    /// checked (its trigger set is its literals), so it matches with that term, and
    /// [`prog::Program::eval`] would only say so after reading the rule's code.
    quick: Vec<u32>,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.infos.len())
            .field("literals", &self.lits.len())
            .field("index", &self.index)
            .finish()
    }
}

/// One hit of one term, for `kkachi rules test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The term as written (canonical form).
    pub term: String,
    /// The form of the term that hit (normalised) and where it comes from.
    pub form: String,
    pub source: Source,
    /// "title", "summary" or "content".
    pub field: &'static str,
    /// The original text that matched.
    pub found: String,
    /// About 30 characters either side, the hit wrapped in `[ ]`.
    pub context: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub matched: bool,
    /// The first hit of each positive term in each field.
    pub hits: Vec<Hit>,
    /// Hits of negated terms (why a story did not match).
    pub excluded: Vec<Hit>,
}

/// Parses and checks one query on its own: errors, then warnings.
pub fn check_query(query: &str) -> Result<Vec<Warning>, QueryError> {
    parser::parse(query).map(|p| p.warnings)
}

/// For `kkachi rules test 'QUERY'`: evaluates one query with the aliases of `aliases_from`, and
/// shows where each term hit.
pub fn test_query(
    query: &str,
    aliases_from: &RuleSet,
    doc: &Doc,
) -> Result<TestReport, QueryError> {
    let parsed = parser::parse(query)?;
    let mut table = LiteralTable::default();
    table.translit = aliases_from.translit;
    let compiled = compile(&parsed.expr, &aliases_from.aliases, &mut table);
    let lits = table.into_lits();
    let originals = [doc.title, doc.summary, doc.content];
    let mapped = originals.map(normalize::normalize_mapped);
    let feed = normalize(doc.feed);
    let fields = Fields {
        texts: [&mapped[0].0, &mapped[1].0, &mapped[2].0],
        feed: feed.trim(),
    };
    let matched = naive::match_rule(&compiled, &lits, &fields).is_some();

    let mut report = TestReport {
        matched,
        hits: Vec::new(),
        excluded: Vec::new(),
    };
    for leaf in compiled.leaves.iter() {
        let LeafKind::Text {
            fields: mask,
            lits: ids,
        } = &leaf.kind
        else {
            continue;
        };
        for (i, (bit, name)) in FIELD_NAMES.iter().enumerate() {
            if mask & bit == 0 {
                continue;
            }
            let (norm, map) = &mapped[i];
            let first = ids
                .iter()
                .enumerate()
                .filter_map(|(k, &id)| {
                    let (text, bounds) = &lits[id as usize];
                    naive::occurrences(norm, text, *bounds)
                        .next()
                        .map(|at| (at, k))
                })
                .min();
            let Some(((s, e), k)) = first else { continue };
            let (os, oe) = (map[s].0, map[e - 1].1);
            let hit = Hit {
                term: leaf.written.to_string(),
                form: lits[ids[k] as usize].0.to_string(),
                source: aliases_from.source(ids, k, LitsOf::Other(&lits)),
                field: name,
                found: originals[i][os..oe].to_string(),
                context: context(originals[i], os, oe),
            };
            if leaf.positive {
                report.hits.push(hit);
            } else {
                report.excluded.push(hit);
            }
        }
    }
    Ok(report)
}

/// About 30 characters either side of `text[start..end]`, the hit in `[ ]`, `…` where cut.
fn context(text: &str, start: usize, end: usize) -> String {
    const SIDE: usize = 30;
    // Only the characters shown (and one more, to know whether to cut) are read: a hit in a long
    // text must not cost the whole text.
    let mut before: Vec<char> = text[..start].chars().rev().take(SIDE + 1).collect();
    let cut_before = before.len() > SIDE;
    before.truncate(SIDE);
    let before: String = before.into_iter().rev().collect();
    let mut after: Vec<char> = text[end..].chars().take(SIDE + 1).collect();
    let cut_after = after.len() > SIDE;
    after.truncate(SIDE);
    let after: String = after.into_iter().collect();
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let lead = if before.ends_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let trail = if after.starts_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    format!(
        "{}{}{lead}[{}]{trail}{}{}",
        if cut_before { "…" } else { "" },
        squash(&before),
        &text[start..end],
        squash(&after),
        if cut_after { "…" } else { "" }
    )
}

impl RuleSet {
    pub fn empty() -> RuleSet {
        RuleSet::build(Vec::new(), Aliases::new(true, &[]))
    }

    /// Builds from (name, query) pairs with the built-in aliases, e.g. for benches and tests.
    /// `Err` lists every query that does not parse, with its rule name. Names are not checked.
    pub fn from_queries<'a>(
        queries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RuleSet, Vec<(String, QueryError)>> {
        RuleSet::from_queries_with_aliases(queries, true, &[])
    }

    /// Like [`RuleSet::from_queries`], with the alias settings of a rules file.
    pub fn from_queries_with_aliases<'a>(
        queries: impl IntoIterator<Item = (&'a str, &'a str)>,
        builtin_aliases: bool,
        groups: &[(String, Vec<String>)],
    ) -> Result<RuleSet, Vec<(String, QueryError)>> {
        RuleSet::from_queries_with(queries, builtin_aliases, groups, true)
    }

    /// Like [`RuleSet::from_queries_with_aliases`], with transliteration ([`translit`]) on or
    /// off (it is on everywhere else), e.g. to measure what it costs.
    pub fn from_queries_with<'a>(
        queries: impl IntoIterator<Item = (&'a str, &'a str)>,
        builtin_aliases: bool,
        groups: &[(String, Vec<String>)],
        translit: bool,
    ) -> Result<RuleSet, Vec<(String, QueryError)>> {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for (name, query) in queries {
            match parser::parse(query) {
                Ok(p) => rules.push((
                    RuleInfo {
                        name: name.to_string(),
                        query: query.to_string(),
                        description: String::new(),
                        feeds: Vec::new(),
                        chats: Vec::new(),
                        delivery: Default::default(),
                        feed_terms: parser::feed_names(&p.expr),
                        at: (0, 0),
                    },
                    p.expr,
                )),
                Err(e) => errors.push((name.to_string(), e)),
            }
        }
        if errors.is_empty() {
            Ok(RuleSet::build_with(
                rules,
                Aliases::new(builtin_aliases, groups),
                translit,
            ))
        } else {
            Err(errors)
        }
    }

    /// Another rule set with this one's alias settings (built-in dictionary on or off, the
    /// `[aliases]` groups, transliteration) over other (name, query) pairs: personal rules
    /// match exactly like the rules file's. Queries that do not parse are left out and returned
    /// with their names.
    pub fn sibling(
        &self,
        queries: impl IntoIterator<Item = (String, String)>,
    ) -> (RuleSet, Vec<(String, QueryError)>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for (name, query) in queries {
            match parser::parse(&query) {
                Ok(p) => rules.push((
                    RuleInfo {
                        name,
                        feed_terms: parser::feed_names(&p.expr),
                        query,
                        description: String::new(),
                        feeds: Vec::new(),
                        chats: Vec::new(),
                        delivery: Default::default(),
                        at: (0, 0),
                    },
                    p.expr,
                )),
                Err(e) => errors.push((name, e)),
            }
        }
        (
            RuleSet::build_with(rules, self.aliases.clone(), self.translit),
            errors,
        )
    }

    fn build(rules: Vec<(RuleInfo, Expr)>, aliases: Aliases) -> RuleSet {
        RuleSet::build_with(rules, aliases, true)
    }

    pub(crate) fn build_with(
        rules: Vec<(RuleInfo, Expr)>,
        aliases: Aliases,
        translit: bool,
    ) -> RuleSet {
        let mut table = LiteralTable::default();
        table.translit = translit;
        let mut infos = Vec::with_capacity(rules.len());
        let mut compiled = Vec::with_capacity(rules.len());
        let mut feeds = Vec::with_capacity(rules.len());
        for (info, expr) in rules {
            feeds.push(
                info.feeds
                    .iter()
                    .map(|f| normalize(f).trim().into())
                    .collect::<Box<[Box<str>]>>(),
            );
            compiled.push(compile(&expr, &aliases, &mut table));
            infos.push(info);
        }
        let lits = table.into_lits();
        let mut aliased: Vec<Option<bool>> = vec![None; lits.len()];
        for rule in &compiled {
            for leaf in rule.leaves.iter() {
                if let LeafKind::Text { lits: ids, .. } = &leaf.kind
                    && ids.len() > 1
                    && let Some(&first) = ids.first()
                    && aliased[first as usize].is_none()
                {
                    aliased[first as usize] =
                        Some(aliases.expand(&lits[first as usize].0).len() > 1);
                }
            }
        }
        let aliased = aliased.into_iter().map(|a| a.unwrap_or(false)).collect();
        let refs: Vec<&Compiled> = compiled.iter().collect();
        let index = index::Index::build(&refs, &lits);
        let prog = prog::Program::build(refs.iter().copied());
        drop(refs);
        let quick = compiled
            .iter()
            .zip(&feeds)
            .enumerate()
            .map(|(r, (rule, feeds))| {
                let single = match (&rule.root, &rule.leaves[..]) {
                    (Node::Leaf(0), [leaf])
                        if leaf.positive
                            && matches!(leaf.kind, LeafKind::Text { fields, .. } if fields == ALL_FIELDS) =>
                    {
                        prog.text_leaves(count(r))
                            .next()
                            .map_or(0, |(_, _, term, _)| term + 1)
                    }
                    _ => 0,
                };
                let single = if single < FEED_LIMITED { single } else { 0 };
                single | if feeds.is_empty() { 0 } else { FEED_LIMITED }
            })
            .collect();
        let naive = std::sync::OnceLock::new();
        if !index.complete {
            let _ = naive.set(NaiveRules {
                rules: compiled,
                lits: lits.clone(),
            });
        }
        RuleSet {
            quick,
            infos,
            feeds,
            naive,
            lits: {
                let mut t = Texts::default();
                lits.iter().for_each(|(x, _)| t.push(x));
                t
            },
            aliases,
            translit,
            aliased,
            index,
            prog,
        }
    }

    pub fn rules(&self) -> &[RuleInfo] {
        &self.infos
    }

    pub fn len(&self) -> usize {
        self.infos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// The indexed matcher. Results in rule-file order.
    ///
    /// Allocates its scratch space and every result string anew; to match many stories, hold a
    /// [`RuleSet::matcher`] instead.
    pub fn match_doc(&self, doc: &Doc) -> Vec<RuleMatch> {
        if !self.index.complete {
            return self.match_doc_naive(doc);
        }
        let mut s = Scratch::default();
        self.run(doc, &mut s);
        s.found
            .iter()
            .map(|&(r, a, b)| RuleMatch {
                rule: self.infos[r as usize].name.clone(),
                matched: s.terms[a as usize..b as usize]
                    .iter()
                    .map(|&t| self.prog.term(t).to_string())
                    .collect(),
                via: self.via(r, |l, mask| s.scan.hits.fields(l) & mask != 0),
            })
            .collect()
    }

    /// A matcher that keeps its scratch space and result buffers between stories: after the
    /// first few stories, matching allocates nothing.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            set: self,
            scratch: Scratch::default(),
            out: Vec::new(),
            len: 0,
            naive: Vec::new(),
        }
    }

    /// Scans the story and evaluates the candidate rules: the matches land in `s.found`.
    fn run(&self, doc: &Doc, s: &mut Scratch) {
        s.found.clear();
        s.terms.clear();
        let [n0, n1, n2] = &mut s.norm;
        let title = normalize::normalize_into(doc.title, n0);
        let summary = normalize::normalize_into(doc.summary, n1);
        let content = normalize::normalize_into(doc.content, n2);
        let feed = normalize(doc.feed);
        let feed = feed.trim();
        self.index
            .scan([title, summary, content], self.infos.len(), &mut s.scan);
        let quick = |r: u32| self.quick.get(r as usize).copied().unwrap_or(FEED_LIMITED);
        let evaluated = s.scan.candidates.iter().copied();
        self.prog
            .touch(evaluated.filter(|&r| quick(r) & !FEED_LIMITED == 0));
        for &r in &s.scan.candidates {
            let q = quick(r);
            if q & FEED_LIMITED != 0
                && !self
                    .feeds
                    .get(r as usize)
                    .is_some_and(|feeds| feed_allowed(feeds, feed))
            {
                continue;
            }
            let start = s.terms.len();
            if let Some(term) = (q & !FEED_LIMITED).checked_sub(1) {
                s.terms.push(term);
                s.found.push((r, count(start), count(s.terms.len())));
                continue;
            }
            if self.prog.eval(r, &s.scan, feed, &mut s.eval, &mut s.terms) {
                s.found.push((r, count(start), count(s.terms.len())));
            }
        }
    }

    /// The reference: every rule evaluated directly on the story. Same results as
    /// [`RuleSet::match_doc`], much slower with many rules. The first call compiles every rule
    /// again from its query (the set keeps only the index's form), and keeps the result.
    pub fn match_doc_naive(&self, doc: &Doc) -> Vec<RuleMatch> {
        let mut found = Vec::new();
        self.naive_into(doc, &mut found);
        found
            .into_iter()
            .map(|(r, matched, via)| RuleMatch {
                rule: self.infos[r as usize].name.clone(),
                matched,
                via,
            })
            .collect()
    }

    /// Why each matched term of rule `r` hit, when not as written: `hit(literal, fields)` says
    /// whether a literal occurred in one of those fields.
    fn via(&self, r: u32, hit: impl Fn(u32, u8) -> bool) -> Vec<Via> {
        let mut out = Vec::new();
        self.via_into(r, hit, &mut out);
        out
    }

    /// [`RuleSet::via`] into `out`, reusing its strings (the [`Matcher`] allocates nothing once
    /// warm).
    fn via_into(&self, r: u32, hit: impl Fn(u32, u8) -> bool, out: &mut Vec<Via>) {
        let leaves = self
            .prog
            .text_leaves(r)
            .map(|(fields, positive, term, lits)| (fields, positive, self.prog.term(term), lits));
        self.via_leaves(leaves, LitsOf::Set, hit, out);
    }

    /// [`RuleSet::via_into`] over the text leaves `(fields, positive, term as written,
    /// literal ids into lits)` of a rule.
    fn via_leaves<'l>(
        &self,
        leaves: impl Iterator<Item = (u8, bool, &'l str, &'l [u32])>,
        lits_table: LitsOf<'_>,
        hit: impl Fn(u32, u8) -> bool,
        out: &mut Vec<Via>,
    ) {
        let mut len = 0;
        for (fields, _, written, lits) in leaves.filter(|l| l.1) {
            let Some(k) = lits.iter().position(|&l| hit(l, fields)) else {
                continue;
            };
            if k == 0 || out[..len].iter().any(|v| *v.term == *written) {
                continue;
            }
            let form = match lits_table {
                LitsOf::Set => self.lits.get(lits[k] as usize),
                LitsOf::Other(table) => table.get(lits[k] as usize).map_or("", |(t, _)| &**t),
            };
            let source = self.source(lits, k, lits_table);
            if let Some(v) = out.get_mut(len) {
                v.term.clear();
                v.term.push_str(written);
                v.form.clear();
                v.form.push_str(form);
                v.source = source;
            } else {
                out.push(Via {
                    term: written.to_string(),
                    form: form.to_string(),
                    source,
                });
            }
            len += 1;
        }
        out.truncate(len);
    }

    /// Where the `k`-th literal of a leaf with literals `ids` comes from: the first is the term
    /// as written, the others its aliases or, for a term without any, its transliterations.
    fn source(&self, ids: &[u32], k: usize, lits: LitsOf<'_>) -> Source {
        if k == 0 {
            return Source::Written;
        }
        let Some(&first) = ids.first() else {
            return Source::Dictionary;
        };
        // The rule set's own literals were classified when it was built.
        let aliased = match lits {
            LitsOf::Set => self.aliased.get(first as usize).copied().unwrap_or(true),
            LitsOf::Other(lits) => lits
                .get(first as usize)
                .is_none_or(|(text, _)| self.aliases.expand(text).len() > 1),
        };
        if aliased || !self.translit {
            Source::Dictionary
        } else {
            Source::Transliteration
        }
    }

    /// [`RuleSet::match_doc_naive`] by rule index: appends (rule, terms, via) to `out`.
    fn naive_into(&self, doc: &Doc, out: &mut Vec<(u32, Vec<String>, Vec<Via>)>) {
        let texts = [
            normalize(doc.title),
            normalize(doc.summary),
            normalize(doc.content),
        ];
        let feed = normalize(doc.feed);
        let fields = Fields {
            texts: [&texts[0], &texts[1], &texts[2]],
            feed: feed.trim(),
        };
        let naive = self.naive.get_or_init(|| self.compile_naive());
        for (r, (rule, feeds)) in naive.rules.iter().zip(&self.feeds).enumerate() {
            if !feed_allowed(feeds, fields.feed) {
                continue;
            }
            if let Some(matched) = naive::match_rule(rule, &naive.lits, &fields) {
                let leaves = rule.leaves.iter().filter_map(|leaf| match &leaf.kind {
                    LeafKind::Text { fields, lits } => {
                        Some((*fields, leaf.positive, &*leaf.written, &**lits))
                    }
                    LeafKind::Feed(_) => None,
                });
                let mut via = Vec::new();
                let hit = |l: u32, mask: u8| {
                    let (text, bounds) = &naive.lits[l as usize];
                    FIELD_NAMES.iter().zip(fields.texts).any(|((bit, _), t)| {
                        mask & bit != 0 && naive::occurrences(t, text, *bounds).next().is_some()
                    })
                };
                self.via_leaves(leaves, LitsOf::Other(&naive.lits), hit, &mut via);
                out.push((count(r), matched, via));
            }
        }
    }

    /// Every rule compiled again from its query, with a literal table of its own, for the
    /// naive evaluator. Every query of a built set parses (the set was built from its parse);
    /// one that did not would match nothing.
    fn compile_naive(&self) -> NaiveRules {
        let mut table = LiteralTable::default();
        table.translit = self.translit;
        let rules = self
            .infos
            .iter()
            .map(|info| match parser::parse(&info.query) {
                Ok(p) => compile(&p.expr, &self.aliases, &mut table),
                Err(_) => Compiled {
                    leaves: Box::new([]),
                    root: Node::Or(Box::new([])),
                },
            })
            .collect();
        NaiveRules {
            rules,
            lits: table.into_lits(),
        }
    }

    /// How many distinct terms the rules have: [`MatchRef::term_ids`] are below this.
    pub fn term_count(&self) -> usize {
        self.prog.term_count()
    }

    /// The text of term `t` (below [`RuleSet::term_count`]), as [`MatchRef::terms`] gives it.
    pub fn term(&self, t: u32) -> &str {
        self.prog.term(t)
    }

    /// The automaton's patterns (normalised literals), for benchmarks.
    pub fn automaton_patterns(&self) -> Vec<&str> {
        self.index
            .pattern_literals()
            .map(|l| self.lits.get(l as usize))
            .collect()
    }

    /// Heap bytes of the index alone (automaton, maps and flat rule programs), for benchmarks.
    pub fn index_heap_bytes(&self) -> usize {
        self.index.heap_bytes() + self.prog.heap_bytes()
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The flag of [`RuleSet::quick`] for a rule with `feeds = [..]`.
const FEED_LIMITED: u32 = 1 << 31;

/// Asks the CPU to start loading the cache line of `at[i]` (nothing when `i` is out of
/// range): the matcher's reads of per-rule and per-literal tables at 100,000 rules miss the
/// cache, and a prefetch lets those misses overlap with other work where a plain read would
/// make the core wait. A hint only: it changes no value.
#[inline(always)]
pub fn prefetch<T>(at: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = at.get(i) {
        // SAFETY: `_mm_prefetch` only hints the cache (it never faults, and reads nothing the
        // program sees); SSE, which it needs, is part of every x86_64 CPU; the pointer is of
        // an element in bounds.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                std::ptr::from_ref(x).cast(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, i);
}

/// Per-story scratch space of the indexed matcher.
#[derive(Default)]
struct Scratch {
    /// Buffers for normalised title, summary and content (used when the text changes).
    norm: [String; 3],
    scan: index::ScanScratch,
    eval: prog::EvalScratch,
    /// (rule, range into `terms`) of each match, in rule order.
    found: Vec<(u32, u32, u32)>,
    terms: Vec<u32>,
}

/// Matches stories against a [`RuleSet`], reusing its scratch space and result buffers from
/// one story to the next. Get one with [`RuleSet::matcher`]; one per thread (it is `Send`).
pub struct Matcher<'a> {
    set: &'a RuleSet,
    scratch: Scratch,
    /// Result buffers: the first `len` are this story's matches; the rest keep their capacity.
    out: Vec<RuleMatch>,
    len: usize,
    /// [`Matcher::match_ids`]'s results when the index is incomplete (naive evaluator).
    naive: Vec<(u32, Vec<String>, Vec<Via>)>,
}

impl fmt::Debug for Matcher<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matcher").field("set", self.set).finish()
    }
}

impl<'a> Matcher<'a> {
    /// Same results as [`RuleSet::match_doc`], in rule-file order; valid until the next call.
    pub fn match_doc(&mut self, doc: &Doc) -> &[RuleMatch] {
        let set = self.set;
        if !set.index.complete {
            self.out = set.match_doc_naive(doc);
            self.len = self.out.len();
            return &self.out;
        }
        set.run(doc, &mut self.scratch);
        let s = &self.scratch;
        self.len = s.found.len();
        for (i, &(r, a, b)) in s.found.iter().enumerate() {
            let name = &set.infos[r as usize].name;
            let terms = s.terms[a as usize..b as usize]
                .iter()
                .map(|&t| set.prog.term(t));
            let hit = |l, mask| s.scan.hits.fields(l) & mask != 0;
            if let Some(m) = self.out.get_mut(i) {
                set.via_into(r, hit, &mut m.via);
                m.rule.clear();
                m.rule.push_str(name);
                let k = b as usize - a as usize;
                m.matched.truncate(k);
                for (j, t) in terms.enumerate() {
                    if let Some(slot) = m.matched.get_mut(j) {
                        slot.clear();
                        slot.push_str(t);
                    } else {
                        m.matched.push(t.to_string());
                    }
                }
            } else {
                self.out.push(RuleMatch {
                    rule: name.clone(),
                    matched: terms.map(str::to_string).collect(),
                    via: set.via(r, hit),
                });
            }
        }
        &self.out[..self.len]
    }

    /// The same matches as [`Matcher::match_doc`], borrowed instead of copied: each is the
    /// rule's index and its matched terms' ids, resolved to strings only when asked
    /// ([`MatchRef::rule`], [`MatchRef::terms`]). Valid until the next call. With hundreds of
    /// matches per story this skips copying every name and term.
    pub fn match_ids(&mut self, doc: &Doc) -> Matches<'_> {
        let set = self.set;
        self.len = 0;
        if !set.index.complete {
            self.naive.clear();
            set.naive_into(doc, &mut self.naive);
            return Matches {
                set,
                found: &[],
                terms: &[],
                naive: &self.naive,
                scan: None,
            };
        }
        set.run(doc, &mut self.scratch);
        Matches {
            set,
            found: &self.scratch.found,
            terms: &self.scratch.terms,
            naive: &[],
            scan: Some(&self.scratch.scan),
        }
    }

    /// The rule set this matcher matches against.
    pub fn rules(&self) -> &'a RuleSet {
        self.set
    }
}

/// One story's matches from [`Matcher::match_ids`], in rule-file order.
#[derive(Debug, Clone, Copy)]
pub struct Matches<'m> {
    set: &'m RuleSet,
    /// (rule, range into `terms`) of each match (indexed matcher).
    found: &'m [(u32, u32, u32)],
    terms: &'m [u32],
    /// (rule, terms, via) of each match when the rule set fell back to the naive evaluator.
    naive: &'m [(u32, Vec<String>, Vec<Via>)],
    /// The story's scan (indexed matcher), for [`MatchRef::via`].
    scan: Option<&'m index::ScanScratch>,
}

impl<'m> Matches<'m> {
    pub fn len(&self) -> usize {
        self.found.len() + self.naive.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = MatchRef<'m>> + 'm {
        let (set, terms, scan) = (self.set, self.terms, self.scan);
        let indexed = self.found.iter().map(move |&(r, a, b)| MatchRef {
            set,
            rule: r,
            ids: terms.get(a as usize..b as usize).unwrap_or(&[]),
            strs: &[],
            scan,
            vias: &[],
        });
        let naive = self.naive.iter().map(move |(r, strs, vias)| MatchRef {
            set,
            rule: *r,
            ids: &[],
            strs,
            scan: None,
            vias,
        });
        // Only one of the two is ever non-empty.
        ExactChain(indexed, naive)
    }

    /// The matches as owned [`RuleMatch`]es (what [`Matcher::match_doc`] returns).
    pub fn to_vec(&self) -> Vec<RuleMatch> {
        self.iter().map(|m| m.to_match()).collect()
    }
}

/// `Iterator::chain` that keeps `ExactSizeIterator`.
struct ExactChain<A, B>(A, B);

impl<T, A: ExactSizeIterator<Item = T>, B: ExactSizeIterator<Item = T>> Iterator
    for ExactChain<A, B>
{
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0.next().or_else(|| self.1.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.len() + self.1.len();
        (n, Some(n))
    }
}

impl<T, A: ExactSizeIterator<Item = T>, B: ExactSizeIterator<Item = T>> ExactSizeIterator
    for ExactChain<A, B>
{
}

/// One match from [`Matcher::match_ids`]: a rule index and its matched terms, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct MatchRef<'m> {
    set: &'m RuleSet,
    rule: u32,
    /// Term ids (indexed matcher) or term strings (naive fallback); one of them is empty.
    ids: &'m [u32],
    strs: &'m [String],
    /// The story's scan (indexed matcher) or the forms that hit (naive fallback).
    scan: Option<&'m index::ScanScratch>,
    vias: &'m [Via],
}

impl<'m> MatchRef<'m> {
    /// The rule's index in [`RuleSet::rules`].
    pub fn rule_index(&self) -> usize {
        self.rule as usize
    }

    /// The rule's name.
    pub fn rule(&self) -> &'m str {
        self.set
            .infos
            .get(self.rule as usize)
            .map_or("", |i| i.name.as_str())
    }

    /// The positive terms of the query that hit, as in [`RuleMatch::matched`].
    pub fn terms(&self) -> impl Iterator<Item = &'m str> + 'm {
        let prog = &self.set.prog;
        self.ids
            .iter()
            .map(move |&t| prog.term(t))
            .chain(self.strs.iter().map(String::as_str))
    }

    /// The ids of its matched terms, in the order of [`MatchRef::terms`] (below
    /// [`RuleSet::term_count`]; the same term has the same id in every rule), so a caller can
    /// keep per-term work such as escaping. Empty when the rule set fell back to the naive
    /// evaluator: then only [`MatchRef::terms`] has them.
    pub fn term_ids(&self) -> &'m [u32] {
        self.ids
    }

    /// Why its terms hit when not as written, as in [`RuleMatch::via`].
    pub fn via(&self) -> Vec<Via> {
        match self.scan {
            Some(scan) => self
                .set
                .via(self.rule, |l, mask| scan.hits.fields(l) & mask != 0),
            None => self.vias.to_vec(),
        }
    }

    /// The match as an owned [`RuleMatch`].
    pub fn to_match(&self) -> RuleMatch {
        RuleMatch {
            rule: self.rule().to_string(),
            matched: self.terms().map(str::to_string).collect(),
            via: self.via(),
        }
    }
}

fn feed_allowed(feeds: &[Box<str>], feed: &str) -> bool {
    feeds.is_empty() || feeds.iter().any(|f| **f == *feed)
}

/// Heap bytes and allocations of a part of a [`RuleSet`] ([`RuleSet::heap_parts`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct HeapPart {
    pub name: &'static str,
    /// Bytes asked of the allocator (capacities; the allocator's own overhead not included).
    pub bytes: usize,
    /// Allocations (each costs the allocator ≈ 8–16 bytes more, and rounds up to 16).
    pub allocs: usize,
}

/// `(bytes, allocations)` of a heap buffer of `cap` elements of `T`.
fn buf<T>(cap: usize) -> (usize, usize) {
    (cap * std::mem::size_of::<T>(), usize::from(cap > 0))
}

fn add(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    (a.0 + b.0, a.1 + b.1)
}

impl RuleSet {
    /// Where the heap bytes of the rule set are, part by part, for the benchmarks.
    pub fn heap_parts(&self) -> Vec<HeapPart> {
        let part = |name, (bytes, allocs): (usize, usize)| HeapPart {
            name,
            bytes,
            allocs,
        };
        let s = |x: &str| buf::<u8>(x.len());
        let mut infos = buf::<RuleInfo>(self.infos.capacity());
        for i in &self.infos {
            infos = add(infos, buf::<u8>(i.name.capacity()));
            infos = add(infos, buf::<u8>(i.query.capacity()));
            infos = add(infos, buf::<u8>(i.description.capacity()));
            infos = add(infos, buf::<String>(i.feeds.capacity()));
            infos = add(infos, buf::<String>(i.feed_terms.capacity()));
            for f in i.feeds.iter().chain(&i.feed_terms) {
                infos = add(infos, buf::<u8>(f.capacity()));
            }
            infos = add(infos, buf::<crate::deliver::Dest>(i.chats.capacity()));
        }
        let feeds = self
            .feeds
            .iter()
            .flat_map(|f| f.iter())
            .map(|f| s(f))
            .fold(buf::<Box<[Box<str>]>>(self.feeds.capacity()), add);
        let lits = self.lits.heap();
        let mut parts = vec![
            part("rule infos (names, queries)", infos),
            part("rule feeds", feeds),
            part("literal table", lits),
            part(
                "aliased flags, per-rule quick words",
                add(
                    buf::<bool>(self.aliased.capacity()),
                    buf::<u32>(self.quick.capacity()),
                ),
            ),
        ];
        for (name, bytes, allocs) in self.index.heap_parts() {
            parts.push(part(name, (bytes, allocs)));
        }
        for (name, bytes, allocs) in self.prog.heap_parts() {
            parts.push(part(name, (bytes, allocs)));
        }
        parts
    }
}
