//! Synonym groups: the built-in dictionary of companies, people, products, institutions and
//! places with their Korean press spellings (`aliases.toml`), plus the user's `[aliases]` groups.
//!
//! Owns alias expansion: a term that is a member of a group (compared after normalisation)
//! matches every member of every group it belongs to. Expansion is one step, not transitive.
//! A user group with the same name as a built-in group replaces it. Must not do IO.
//!
//! # The dictionary
//!
//! `aliases.toml` (next to this file) is compiled in with `include_str!`, parsed and validated
//! once, on first use, into an immutable table (the one `static` of the rules module); a bad
//! entry is a test failure naming its line ([`parse_table`]). Its sections are the kinds
//! (`[company]`, `[person]`, `[product]`, `[org]`, `[place]`); each entry is
//! `slug = { members = [...], compounds = [...], not = [...] }`:
//!
//! - `members`: the English name, the Korean press spellings (every variant the press uses:
//!   올트먼 and 알트먼), abbreviations, former names. Each matches all the others.
//! - `compounds` (optional): longer Hangul words the entry also means (삼성 → 삼성전자,
//!   삼성SDI, …). Reached from the entry, never the other way round: `삼성전자` does not find
//!   `Samsung`.
//! - `not` (optional): phrases in which a member means something else (기아 in 기아에 시달리는,
//!   famine): an occurrence inside one of them does not count.
//!
//! # Precision
//!
//! A built-in member that a term brings in matches as a whole word: the word alone or followed
//! by particles and a few name suffixes ([`super::literal::Right::Name`]), so `Samsung` finds
//! 삼성이 and 삼성측, not 삼성동 or 삼성산; `Meta` finds 메타가, not 메타버스. Longer words come only
//! from the entry's `compounds`. The term as the user typed it keeps the usual rules (a Hangul
//! term takes any ending, so `삼성` still matches 삼성동, `=삼성` does not), and so do the members
//! of the user's own `[aliases]` groups: they are the user's words. `Samsung*` (or `삼성*`)
//! gives every member the prefix rule; `=Samsung` keeps the whole-word rule and drops the
//! compounds.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::literal::{Bounds, is_hangul, is_latin};
use super::normalize::normalize;

/// The dictionary's source, as shipped.
pub const SOURCE: &str = include_str!("aliases.toml");

/// The sections of `aliases.toml`.
pub const KINDS: &[&str] = &["company", "person", "product", "org", "place"];
const ENTRY_KEYS: &[&str] = &["members", "compounds", "not"];

/// One entry of the dictionary, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// 1-based line of the entry in the source.
    pub line: usize,
    pub members: Vec<String>,
    pub compounds: Vec<String>,
    pub not: Vec<String>,
}

/// A problem in the dictionary's source, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("aliases.toml:{line}: {message}")]
pub struct DataError {
    pub line: usize,
    pub message: String,
}

/// Parses and validates a dictionary source. Returns the valid entries in file order and every
/// problem found (an entry with a problem is left out).
pub fn parse_table(src: &str) -> (Vec<Entry>, Vec<DataError>) {
    let lines = crate::diag::LineIndex::new(src);
    let line = |offset: usize| lines.line_col(src, offset).0;
    let mut errors = Vec::new();
    let mut err = |offset: usize, message: String| {
        errors.push(DataError {
            line: line(offset),
            message,
        });
    };
    let root = match DeTable::parse(src) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            err(at, format!("invalid TOML: {}", e.message().trim()));
            return (Vec::new(), errors);
        }
    };
    let mut entries: Vec<(usize, Entry)> = Vec::new();
    for (section, value) in root.iter() {
        let Some(kind) = KINDS
            .iter()
            .copied()
            .find(|k| *k == section.get_ref().as_ref())
        else {
            err(
                section.span().start,
                format!(
                    "unknown section `{}`; expected one of: {}",
                    section.get_ref(),
                    KINDS.join(", ")
                ),
            );
            continue;
        };
        let DeValue::Table(t) = value.get_ref() else {
            err(value.span().start, format!("`{kind}` must be a table"));
            continue;
        };
        for (key, v) in t.iter() {
            let at = key.span().start;
            match entry(key.get_ref(), kind, v) {
                Ok(mut e) => {
                    e.line = line(at);
                    entries.push((at, e));
                }
                Err(problems) => {
                    for p in problems {
                        err(at, format!("entry `{}`: {p}", key.get_ref()));
                    }
                }
            }
        }
    }
    entries.sort_by_key(|(at, _)| *at);
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for (at, e) in entries {
        if let Some(l) = first_line.get(&e.name) {
            err(
                at,
                format!("entry `{}` is already defined on line {l}", e.name),
            );
            continue;
        }
        first_line.insert(e.name.clone(), e.line);
        out.push(e);
    }
    errors.sort_by_key(|e| e.line);
    (out, errors)
}

fn strings(v: &Spanned<DeValue<'_>>, what: &str, problems: &mut Vec<String>) -> Vec<String> {
    let DeValue::Array(items) = v.get_ref() else {
        problems.push(format!("`{what}` must be an array of strings"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref() {
            DeValue::String(s) => out.push(s.to_string()),
            _ => problems.push(format!("`{what}` must be an array of strings")),
        }
    }
    out
}

fn entry(name: &str, kind: &'static str, v: &Spanned<DeValue<'_>>) -> Result<Entry, Vec<String>> {
    let mut problems = Vec::new();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        problems.push("the name must be made of a-z, 0-9 and -".to_string());
    }
    let DeValue::Table(t) = v.get_ref() else {
        problems.push("must be a table { members = [...] }".to_string());
        return Err(problems);
    };
    for key in t.keys() {
        if !ENTRY_KEYS.contains(&key.get_ref().as_ref()) {
            problems.push(format!(
                "unknown key `{}`; expected one of: {}",
                key.get_ref(),
                ENTRY_KEYS.join(", ")
            ));
        }
    }
    let get = |k: &str, problems: &mut Vec<String>| {
        t.get(k)
            .map(|v| strings(v, k, problems))
            .unwrap_or_default()
    };
    let members = get("members", &mut problems);
    let compounds = get("compounds", &mut problems);
    let not = get("not", &mut problems);

    let mut seen: Vec<String> = Vec::new();
    for m in &members {
        let norm = normalize_member(m);
        if norm.is_empty() {
            problems.push("empty member".to_string());
        } else if m.contains(['"', '“', '”', '‘', '’', '(', ')', '*']) {
            problems.push(format!("member {m:?} must be plain text"));
        } else if seen.contains(&norm) {
            problems.push(format!("member {m:?} is listed twice"));
        } else if !norm.chars().any(is_latin) && norm.chars().filter(|c| is_hangul(*c)).count() < 2
        {
            problems.push(format!(
                "member {m:?}: needs two Hangul syllables; one matches noise"
            ));
        } else if !norm.chars().any(is_hangul) && norm.chars().filter(|c| is_latin(*c)).count() < 2
        {
            problems.push(format!("member {m:?}: one letter matches noise"));
        }
        seen.push(norm);
    }
    if members.len() < 2 {
        problems.push("needs at least two members".to_string());
    }
    if !members.iter().any(|m| m.chars().any(is_hangul)) {
        problems.push("needs a member in Hangul".to_string());
    }
    if !members.iter().any(|m| !m.chars().any(is_hangul)) {
        problems.push("needs a member without Hangul (the name in Latin script)".to_string());
    }
    for c in &compounds {
        let norm = normalize_member(c);
        if norm.is_empty() || c.contains(['"', '“', '”', '‘', '’', '(', ')', '*']) {
            problems.push(format!("compound {c:?} must be plain text"));
        } else if seen.contains(&norm) {
            problems.push(format!("compound {c:?} is also a member (or listed twice)"));
        }
        seen.push(norm);
    }
    for phrase in &not {
        let norm = normalize_member(phrase);
        if !members.iter().any(|m| norm.contains(&normalize_member(m))) {
            problems.push(format!("`not` phrase {phrase:?} contains no member"));
        }
    }
    if problems.is_empty() {
        Ok(Entry {
            name: name.to_string(),
            kind,
            line: 0,
            members,
            compounds,
            not,
        })
    } else {
        Err(problems)
    }
}

/// Normalised groups, compact: every text lives in one string (`text`), a group's members and
/// compounds are ranges of `spans`, and the member → group map is a sorted array. The built-in
/// table is built once and shared by every rule set, so it is kept small (a `HashMap` of
/// `String`s cost about five times as much heap).
#[derive(Debug, Clone, Default)]
struct Table {
    names: Vec<Box<str>>,
    text: String,
    /// (start, end) byte offsets into `text`.
    spans: Vec<(u32, u32)>,
    groups: Vec<Group>,
    /// (span of a member, its group), sorted by the member's text.
    by_member: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Default)]
struct Group {
    /// Indices into `spans`.
    members: Range<u32>,
    compounds: Range<u32>,
    /// 1-based index into the dictionary's `not` phrase lists; 0 for none.
    veto: u16,
}

fn index(n: usize) -> u32 {
    // The tables hold a few thousand texts of a few bytes each.
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Table {
    fn str(&self, span: u32) -> &str {
        let (start, end) = self.spans[span as usize];
        &self.text[start as usize..end as usize]
    }

    /// Appends normalised, non-empty texts not already in the group, as new spans.
    fn append(&mut self, from: u32, texts: &[String]) -> Range<u32> {
        let start = index(self.spans.len());
        for t in texts {
            let norm = normalize_member(t);
            let seen = (from..index(self.spans.len())).any(|i| self.str(i) == norm);
            if !norm.is_empty() && !seen {
                let begin = index(self.text.len());
                self.text.push_str(&norm);
                self.spans.push((begin, index(self.text.len())));
            }
        }
        start..index(self.spans.len())
    }

    /// Adds a group; call [`Table::finish`] once all are in.
    fn push(&mut self, name: &str, members: &[String], compounds: &[String], veto: u16) {
        let from = index(self.spans.len());
        let members = self.append(from, members);
        let compounds = self.append(from, compounds);
        let id = index(self.groups.len());
        self.by_member.extend(members.clone().map(|m| (m, id)));
        self.names.push(name.into());
        self.groups.push(Group {
            members,
            compounds,
            veto,
        });
    }

    fn finish(mut self) -> Table {
        let mut by_member = std::mem::take(&mut self.by_member);
        by_member.sort_by(|a, b| self.str(a.0).cmp(self.str(b.0)).then(a.1.cmp(&b.1)));
        self.by_member = by_member;
        self.text.shrink_to_fit();
        self.spans.shrink_to_fit();
        self.groups.shrink_to_fit();
        self.names.shrink_to_fit();
        self
    }

    /// The groups a normalised text is a member of.
    fn groups_of<'a>(&'a self, norm: &'a str) -> impl Iterator<Item = u32> + 'a {
        let from = self.by_member.partition_point(|&(m, _)| self.str(m) < norm);
        self.by_member[from..]
            .iter()
            .take_while(move |&&(m, _)| self.str(m) == norm)
            .map(|&(_, g)| g)
    }

    fn texts(&self, r: &Range<u32>) -> impl Iterator<Item = &str> {
        r.clone().map(|i| self.str(i))
    }
}

/// The parsed dictionary: the normalised table and the `not` phrases.
struct Dictionary {
    table: Table,
    /// Normalised `not` phrases, per group that has any (index = veto id - 1).
    vetoes: Vec<Vec<String>>,
}

/// Parsed on first use. Immutable afterwards; the test `the_dictionary_is_valid` holds the
/// source to having no errors, so none are dropped at run time.
static DICTIONARY: LazyLock<Dictionary> = LazyLock::new(|| {
    let (entries, _errors) = parse_table(SOURCE);
    let mut table = Table::default();
    let mut vetoes = Vec::new();
    for e in &entries {
        let veto = if !e.not.is_empty() {
            vetoes.push(e.not.iter().map(|p| normalize_member(p)).collect());
            u16::try_from(vetoes.len()).unwrap_or(0)
        } else {
            0
        };
        table.push(&e.name, &e.members, &e.compounds, veto);
    }
    Dictionary {
        table: table.finish(),
        vetoes,
    }
});

/// The names of the built-in entries, in file order.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    DICTIONARY.table.names.iter().map(|n| &**n)
}

/// Whether `text[start..end]` lies inside one of the `not` phrases of veto list `veto`.
pub fn vetoed(veto: u16, text: &str, start: usize, end: usize) -> bool {
    let Some(phrases) = (veto as usize)
        .checked_sub(1)
        .and_then(|i| DICTIONARY.vetoes.get(i))
    else {
        return false;
    };
    let lit = &text[start..end];
    phrases.iter().any(|p| {
        p.match_indices(lit).any(|(o, _)| {
            start
                .checked_sub(o)
                .and_then(|s| text.get(s..))
                .is_some_and(|t| t.starts_with(p.as_str()))
        })
    })
}

/// Where an expanded literal comes from, which decides its boundary rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The term as typed, or a member of a user group: the usual rules.
    Plain,
    /// A member of a built-in entry: whole word with particles (and the entry's `not` list).
    Member { veto: u16 },
    /// One of a built-in entry's compounds: likewise a whole word with particles.
    Compound { veto: u16 },
}

#[derive(Debug, Clone, Default)]
pub struct Aliases {
    /// Whether the built-in dictionary is on.
    builtin: bool,
    /// Built-in groups replaced by a user group of the same name.
    replaced: Vec<u32>,
    /// The user's groups, normalised.
    user: Table,
}

impl Aliases {
    /// `user` groups are (name, members as written); members are normalised here, empty ones
    /// dropped (the file loader reports them).
    pub fn new(builtin: bool, user: &[(String, Vec<String>)]) -> Aliases {
        let mut out = Aliases {
            builtin,
            ..Aliases::default()
        };
        if builtin {
            let d = &DICTIONARY.table;
            out.replaced = (0..d.names.len())
                .filter(|&i| user.iter().any(|(n, _)| **n == *d.names[i]))
                .map(index)
                .collect();
        }
        let mut table = Table::default();
        for (name, members) in user {
            table.push(name, members, &[], 0);
        }
        out.user = table.finish();
        out
    }

    /// The groups a normalised term belongs to, with their table: built-in ones first.
    fn groups<'a>(&'a self, norm: &'a str) -> impl Iterator<Item = (&'a Table, &'a Group, bool)> {
        let d = &DICTIONARY.table;
        let builtin = d
            .groups_of(norm)
            .filter(move |id| self.builtin && !self.replaced.contains(id))
            .map(move |id| (d, &d.groups[id as usize], true));
        let u = &self.user;
        let user = u
            .groups_of(norm)
            .map(move |id| (u, &u.groups[id as usize], false));
        builtin.chain(user)
    }

    /// Whether a normalised term is a member of some group.
    pub fn contains(&self, norm: &str) -> bool {
        self.groups(norm).next().is_some()
    }

    /// The normalised texts a normalised term stands for: itself first, then the other members
    /// of its groups, without duplicates (compounds not included).
    pub fn expand(&self, norm: &str) -> Vec<String> {
        self.expand_with_sources(norm)
            .into_iter()
            .filter(|(_, s)| !matches!(s, Source::Compound { .. }))
            .map(|(m, _)| m)
            .collect()
    }

    /// Like [`Aliases::expand`], with each text's [`Source`], the compounds of built-in groups
    /// last.
    pub fn expand_with_sources(&self, norm: &str) -> Vec<(String, Source)> {
        let mut out = vec![(norm.to_string(), Source::Plain)];
        let mut compounds = Vec::new();
        for (t, g, builtin) in self.groups(norm) {
            for m in t.texts(&g.members) {
                if !out.iter().any(|(o, _)| o == m) {
                    let source = if builtin {
                        Source::Member { veto: g.veto }
                    } else {
                        Source::Plain
                    };
                    out.push((m.to_string(), source));
                }
            }
            for c in t.texts(&g.compounds) {
                compounds.push((c, Source::Compound { veto: g.veto }));
            }
        }
        for (c, s) in compounds {
            if !out.iter().any(|(o, _)| o == c) {
                out.push((c.to_string(), s));
            }
        }
        out
    }

    /// The literals (normalised text and boundary rules) a normalised term written with these
    /// modifiers compiles to: see the module doc for the rules.
    pub fn literals(
        &self,
        norm: &str,
        prefix: bool,
        suffix: bool,
        whole: bool,
    ) -> Vec<(String, Bounds)> {
        self.expand_with_sources(norm)
            .into_iter()
            .filter_map(|(m, source)| {
                let bounds = match source {
                    Source::Plain => Bounds::for_literal(&m, prefix, suffix, whole),
                    Source::Member { veto } => {
                        Bounds::for_member(&m, prefix, suffix, whole).with_veto(veto)
                    }
                    Source::Compound { .. } if whole => return None,
                    Source::Compound { veto } => {
                        Bounds::for_member(&m, prefix, suffix, false).with_veto(veto)
                    }
                };
                Some((m, bounds))
            })
            .collect()
    }
}

/// Normalised, with surrounding whitespace trimmed (a member is matched like a phrase).
pub fn normalize_member(text: &str) -> String {
    normalize(text).trim().to_string()
}

#[cfg(test)]
#[path = "aliases_tests.rs"]
mod tests;
