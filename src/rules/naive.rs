//! The reference evaluator: every rule on every story, every literal searched for directly.
//!
//! Owns nothing clever on purpose. It shares only normalisation, the boundary rules and the
//! compiled tree with the indexed matcher, so the property test that compares the two checks
//! the automaton, the hit table, the trigger sets and the candidate filtering. Must stay simple
//! enough to be obviously right.

use super::compile::{Compiled, FIELD_NAMES, LeafKind, eval, word_distance};
use super::literal::Bounds;

/// A story's normalised fields (title, summary, content) and normalised feed name.
pub struct Fields<'a> {
    pub texts: [&'a str; 3],
    pub feed: &'a str,
}

/// Every accepted occurrence of `lit` in `text`, overlapping ones included.
pub fn occurrences<'t>(
    text: &'t str,
    lit: &'t str,
    bounds: Bounds,
) -> impl Iterator<Item = (usize, usize)> + 't {
    let mut from = 0;
    std::iter::from_fn(move || {
        while from <= text.len() {
            let i = from + text[from..].find(lit)?;
            from = i + text[i..].chars().next().map_or(1, char::len_utf8);
            let end = i + lit.len();
            if bounds.accepts(text, i, end) {
                return Some((i, end));
            }
        }
        None
    })
}

/// (first word, last word) of `text[start..end]`: words are separated by single spaces.
pub fn word_span(text: &str, start: usize, end: usize) -> (u32, u32) {
    let count =
        |s: &str| u32::try_from(s.bytes().filter(|b| *b == b' ').count()).unwrap_or(u32::MAX);
    let first = count(&text[..start]);
    (first, first + count(&text[start..end]))
}

fn leaf_holds(rule: &Compiled, lits: &[(Box<str>, Bounds)], f: &Fields, leaf: u32) -> bool {
    match &rule.leaves[leaf as usize].kind {
        LeafKind::Feed(name) => **name == *f.feed,
        LeafKind::Text { fields, lits: ids } => {
            FIELD_NAMES.iter().enumerate().any(|(i, (bit, _))| {
                fields & bit != 0
                    && ids.iter().any(|&id| {
                        let (text, bounds) = &lits[id as usize];
                        occurrences(f.texts[i], text, *bounds).next().is_some()
                    })
            })
        }
    }
}

fn spans(
    rule: &Compiled,
    lits: &[(Box<str>, Bounds)],
    f: &Fields,
    leaves: &[u32],
    field: usize,
) -> Vec<(u32, u32)> {
    let bit = FIELD_NAMES[field].0;
    let mut out = Vec::new();
    for &leaf in leaves {
        if let LeafKind::Text { fields, lits: ids } = &rule.leaves[leaf as usize].kind
            && fields & bit != 0
        {
            for &id in ids {
                let (text, bounds) = &lits[id as usize];
                let hay = f.texts[field];
                out.extend(occurrences(hay, text, *bounds).map(|(s, e)| word_span(hay, s, e)));
            }
        }
    }
    out
}

/// `Some(matched positive terms)` when the rule matches.
pub fn match_rule(rule: &Compiled, lits: &[(Box<str>, Bounds)], f: &Fields) -> Option<Vec<String>> {
    let matched = eval(
        &rule.root,
        &mut |leaf| leaf_holds(rule, lits, f, leaf),
        &mut |a, b, n| {
            (0..3).any(|field| {
                let a = spans(rule, lits, f, a, field);
                let b = spans(rule, lits, f, b, field);
                a.iter()
                    .any(|x| b.iter().any(|y| word_distance(*x, *y) <= n))
            })
        },
    );
    matched.then(|| {
        let mut out: Vec<String> = Vec::new();
        for (i, leaf) in rule.leaves.iter().enumerate() {
            if leaf.positive
                && !out.iter().any(|w| **w == *leaf.written)
                && leaf_holds(rule, lits, f, u32::try_from(i).unwrap_or(u32::MAX))
            {
                out.push(leaf.written.to_string());
            }
        }
        out
    })
}
