//! The terms a story matched, as the summary and the alert look for them in its text: which
//! sentences carry them (for a query-aware summary) and where they are (for bolding them).
//! Pure: no IO, no `.await`.
//!
//! Owns reading a matched term's written form (`"한국 기업"`, `=메타`, `반도체*`) back into a
//! literal. It must not decide what counts as "the same text" or as a word boundary: text and
//! terms go through the rules' own [`normalize_mapped`]/[`normalize()`], and an occurrence counts
//! when the rules' [`Bounds`] accept it, so `기업` is found in 기업들과의 and `애플` is not in
//! 파인애플, exactly as the rule saw it.

use std::ops::Range;

use crate::rules::literal::Bounds;
use crate::rules::normalize::normalize_mapped;
use crate::rules::{Source, Via, normalize};

/// The matched terms of a story (of one or several rules). Empty by default: then nothing is
/// looked for and the summary is the plain extractive one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    needles: Vec<Needle>,
    /// The distinct terms as written; a needle's `term` indexes this.
    written: Vec<String>,
}

/// One form of one term, normalised, with the boundary rules it matched under.
#[derive(Debug, Clone, PartialEq)]
struct Needle {
    text: String,
    bounds: Bounds,
    /// `term*` / `*term`: the form is shown with the rest of its word.
    suffix: bool,
    prefix: bool,
    term: usize,
}

/// A term's written form taken apart: `=`, `*…`, `…*`, and phrase quotes.
struct Written<'a> {
    text: &'a str,
    prefix: bool,
    suffix: bool,
    whole: bool,
}

fn parse_written(term: &str) -> Option<Written<'_>> {
    if term.starts_with("feed:") {
        return None;
    }
    let (whole, rest) = match term.strip_prefix('=') {
        Some(rest) => (true, rest),
        None => (false, term),
    };
    let quoted = [('"', '"'), ('‘', '’'), ('“', '”')]
        .iter()
        .find_map(|&(open, close)| rest.strip_prefix(open)?.strip_suffix(close));
    if let Some(text) = quoted {
        return Some(Written {
            text,
            prefix: false,
            suffix: false,
            whole,
        });
    }
    let (prefix, rest) = match rest.strip_prefix('*') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (suffix, text) = match rest.strip_suffix('*') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    Some(Written {
        text,
        prefix,
        suffix,
        whole,
    })
}

impl Terms {
    pub fn new() -> Terms {
        Terms::default()
    }

    /// The terms of rule hits: each hit's `matched` terms and, for those that hit through
    /// another form, that form (`RuleMatch`/`RuleHit` `matched` and `via`).
    pub fn of_hits<'a>(hits: impl IntoIterator<Item = (&'a [String], &'a [Via])>) -> Terms {
        let mut terms = Terms::new();
        for (matched, via) in hits {
            for term in matched {
                terms.add(term, via.iter().find(|v| &v.term == term));
            }
        }
        terms
    }

    /// Adds a matched term as written in the rule (canonical form, as in `RuleMatch::matched`)
    /// and the form it hit through, if any. `feed:` terms name no text and are ignored; a term
    /// added twice counts once.
    pub fn add(&mut self, term: &str, via: Option<&Via>) {
        let Some(w) = parse_written(term) else {
            return;
        };
        let index = match self.written.iter().position(|t| t == term) {
            Some(i) => i,
            None => {
                self.written.push(term.to_owned());
                self.written.len() - 1
            }
        };
        let norm = normalize(w.text).trim().to_owned();
        let bounds = Bounds::for_literal(&norm, w.prefix, w.suffix, w.whole);
        self.push(norm, bounds, &w, index);
        if let Some(via) = via {
            let form = normalize(&via.form).trim().to_owned();
            let bounds = match via.source {
                Source::Written => Bounds::for_literal(&form, w.prefix, w.suffix, w.whole),
                Source::Dictionary => Bounds::for_member(&form, w.prefix, w.suffix, w.whole),
                // Transliterated spellings match as whole words with particles (`translit`).
                Source::Transliteration => Bounds::for_literal(&form, false, false, true),
            };
            self.push(form, bounds, &w, index);
        }
    }

    fn push(&mut self, text: String, bounds: Bounds, w: &Written, term: usize) {
        let needle = Needle {
            text,
            bounds,
            suffix: w.suffix,
            prefix: w.prefix,
            term,
        };
        if !needle.text.is_empty() && !self.needles.contains(&needle) {
            self.needles.push(needle);
        }
    }

    /// No term to look for.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The distinct terms that occur in `text`, as indices in the order they were added (a
    /// form counts as its term).
    pub fn found_in(&self, text: &str) -> Vec<usize> {
        if self.is_empty() {
            return Vec::new();
        }
        let norm = normalize(text);
        let mut found = vec![false; self.written.len()];
        for n in &self.needles {
            if !found[n.term] && occurrences(&norm, n).next().is_some() {
                found[n.term] = true;
            }
        }
        (0..found.len()).filter(|&t| found[t]).collect()
    }

    /// How many distinct terms occur in `text`.
    pub fn count_in(&self, text: &str) -> usize {
        self.found_in(text).len()
    }

    /// The byte ranges of `text` where a term occurs, sorted, overlapping ones merged; each
    /// starts and ends at a character boundary of `text`. The form as it matched (`기업` of
    /// 기업들과의; a wildcard term with the rest of its word: `regul*` gives `regulation`).
    pub fn find(&self, text: &str) -> Vec<Range<usize>> {
        if self.is_empty() {
            return Vec::new();
        }
        let (norm, map) = normalize_mapped(text);
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for n in &self.needles {
            for (start, end) in occurrences(&norm, n) {
                let start = if n.prefix {
                    word_start(&norm, start)
                } else {
                    start
                };
                let end = if n.suffix { word_end(&norm, end) } else { end };
                ranges.push(map[start].0..map[end - 1].1);
            }
        }
        ranges.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }
}

/// Accepted occurrences of `n` in the normalised `text`, as byte ranges (overlapping ones
/// included: a rejected occurrence must not hide an accepted one that starts inside it).
fn occurrences<'a>(text: &'a str, n: &'a Needle) -> impl Iterator<Item = (usize, usize)> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        while from < text.len() {
            let start = from + text[from..].find(n.text.as_str())?;
            let end = start + n.text.len();
            from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            if n.bounds.accepts(text, start, end) {
                return Some((start, end));
            }
        }
        None
    })
}

fn word_start(text: &str, at: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric())
        .last()
        .map_or(at, |(i, _)| i)
}

fn word_end(text: &str, at: usize) -> usize {
    at + text[at..]
        .find(|c: char| !c.is_alphanumeric())
        .unwrap_or(text.len() - at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(list: &[&str]) -> Terms {
        let mut t = Terms::new();
        for term in list {
            t.add(term, None);
        }
        t
    }

    fn marked(t: &Terms, text: &str) -> String {
        let mut out = String::new();
        let mut at = 0;
        for r in t.find(text) {
            out.push_str(&text[at..r.start]);
            out.push('[');
            out.push_str(&text[r.clone()]);
            out.push(']');
            at = r.end;
        }
        out.push_str(&text[at..]);
        out
    }

    #[test]
    fn found_as_the_rules_find_them() {
        let cases: &[(&[&str], &str, &str, usize)] = &[
            // (terms, text, marked, distinct terms counted)
            (
                &["\"한국 기업\""],
                "딥시크가 한국 기업들과의 협력을 늘린다.",
                "딥시크가 [한국 기업]들과의 협력을 늘린다.",
                1,
            ),
            (
                &["애플"],
                "파인애플 값이 올랐다.",
                "파인애플 값이 올랐다.",
                0,
            ),
            (&["애플"], "‘애플’이 웃었다.", "‘[애플]’이 웃었다.", 1),
            (
                &["OpenAI"],
                "OPENAI and openai.",
                "[OPENAI] and [openai].",
                1,
            ),
            (&["ai"], "FAIR AI가", "FAIR [AI]가", 1),
            (&["=메타"], "메타버스와 메타가", "메타버스와 [메타]가", 1),
            (&["regul*"], "New regulation.", "New [regulation].", 1),
            (&["*기업"], "중소기업들", "[중소기업]들", 1),
            (&["feed:yna"], "yna 기사", "yna 기사", 0),
            (
                &["한국", "\"한국 기업\"", "기업"],
                "한국 기업들",
                "[한국 기업]들",
                3,
            ),
            (&["AT&T"], "AT&T <b>", "[AT&T] <b>", 1),
            (
                &["ＯｐｅｎＡＩ"],
                "Ｏｐｅｎ\u{200B}ＡＩ는",
                "[Ｏｐｅｎ\u{200B}ＡＩ]는",
                1,
            ),
        ];
        for (list, text, want, count) in cases {
            let t = terms(list);
            assert_eq!(marked(&t, text), *want, "{list:?} in {text:?}");
            assert_eq!(t.count_in(text), *count, "{list:?} in {text:?}");
        }
    }

    #[test]
    fn a_form_that_hit_is_looked_for_too() {
        let via = Via {
            term: "OpenAI".into(),
            form: "오픈ai".into(),
            source: Source::Dictionary,
        };
        let t = Terms::of_hits([(&["OpenAI".to_owned()][..], &[via][..])]);
        assert_eq!(marked(&t, "오픈AI는 오늘"), "[오픈AI]는 오늘");
        assert_eq!(t.count_in("오픈AI는 OpenAI다"), 1, "one term, two forms");
        // a dictionary member ending in Hangul is a whole name: not the start of another word
        let via = Via {
            term: "DeepSeek".into(),
            form: "딥시크".into(),
            source: Source::Dictionary,
        };
        let t = Terms::of_hits([(&["DeepSeek".to_owned()][..], &[via][..])]);
        assert_eq!(marked(&t, "딥시크가 딥시크랜드"), "[딥시크]가 딥시크랜드");
    }
}
