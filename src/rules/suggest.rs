//! `kkachi aliases suggest`: Korean words in stories that look like a Latin term's spelling,
//! counted, each with one context, and the `[aliases]` line that would add them.
//!
//! Owns the search: every word (particles stripped) of every text is compared with the term's
//! transliterated spellings ([`super::translit::spellings_n`], a wider list than the matcher
//! uses) exactly, and loosely by consonant skeleton ([`super::translit::skeleton`]: 넷플렉스 is
//! one vowel away from 넷플릭스, 올트먼 from 알트먼). Pure: the caller reads the stories.

use std::collections::HashMap;

use super::literal::{PARTICLES, is_hangul};
use super::normalize::normalize;
use super::translit;

/// Spellings compared (the matcher keeps fewer: [`translit::MAX_CANDIDATES`]).
const WIDE: usize = 48;

/// How a suggested word resembles the term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Likeness {
    /// One of the spellings the matcher already tries.
    Spelling,
    /// One of the wider list of spellings.
    Transliteration,
    /// Same consonant skeleton as a spelling, give or take one consonant.
    Similar,
}

impl std::fmt::Display for Likeness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Likeness::Spelling => "matched already",
            Likeness::Transliteration => "transliteration",
            Likeness::Similar => "similar",
        })
    }
}

/// One Korean word found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The word without its particles, as written (several words for a multi-word term).
    pub word: String,
    pub count: usize,
    pub likeness: Likeness,
    /// The first occurrence with about 30 characters either side, the word in `[ ]`.
    pub context: String,
}

/// What the term's spellings look like, for comparing words against them.
pub struct Finder {
    words: usize,
    spellings: Vec<String>,
    wide: Vec<String>,
    /// Skeletons of the wide spellings (three consonants or more: shorter ones match noise).
    skeletons: Vec<String>,
    found: HashMap<String, Suggestion>,
}

impl Finder {
    /// `None` when the term is not one transliteration applies to ([`translit::applies`]).
    pub fn new(term: &str) -> Option<Finder> {
        if !translit::applies(term) {
            return None;
        }
        let norm = normalize(term).trim().to_string();
        let spellings = translit::spellings(&norm);
        let wide = translit::spellings_n(&norm, WIDE);
        let mut skeletons: Vec<String> = wide
            .iter()
            .map(|s| translit::skeleton(s))
            .filter(|k| k.chars().count() >= 3)
            .collect();
        skeletons.sort();
        skeletons.dedup();
        Some(Finder {
            words: norm.split_whitespace().count().max(1),
            spellings,
            wide,
            skeletons,
            found: HashMap::new(),
        })
    }

    /// Looks at one text (a title, a summary, an article).
    pub fn add(&mut self, text: &str) {
        // Word spans (byte offsets) of the text's Hangul runs: "넷플릭스가," → "넷플릭스가".
        let words: Vec<(usize, usize)> = hangul_words(text);
        if words.len() < self.words {
            return;
        }
        for w in words.windows(self.words) {
            let (start, last) = (w[0].0, w[self.words - 1]);
            let last_word = &text[last.0..last.1];
            // The stem: the longest that is a spelling, else the shortest that looks like one
            // (a particle glued to a near-spelling must not count as part of it).
            let shown = |stem_end: usize| -> String {
                let mut out = String::new();
                for (i, &(s, e)) in w.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(
                        &text[s..if i + 1 == self.words {
                            last.0 + stem_end
                        } else {
                            e
                        }],
                    );
                }
                out
            };
            let ends = stem_ends(last_word);
            let exact = ends.iter().find_map(|&e| {
                let word = shown(e);
                self.exact(&word).map(|l| (word, l, e))
            });
            let found = exact.or_else(|| {
                ends.iter().rev().find_map(|&e| {
                    let word = shown(e);
                    self.similar(&word).then_some((word, Likeness::Similar, e))
                })
            });
            if let Some((word, likeness, e)) = found {
                let end = last.0 + e;
                let entry = self
                    .found
                    .entry(word.clone())
                    .or_insert_with(|| Suggestion {
                        word,
                        count: 0,
                        likeness,
                        context: super::context(text, start, end),
                    });
                entry.count += 1;
            }
        }
    }

    /// One of the spellings (the matcher's, or the wider list).
    fn exact(&self, word: &str) -> Option<Likeness> {
        if self.spellings.iter().any(|s| s == word) {
            Some(Likeness::Spelling)
        } else if self.wide.iter().any(|s| s == word) {
            Some(Likeness::Transliteration)
        } else {
            None
        }
    }

    /// Close to a spelling by consonant skeleton.
    fn similar(&self, word: &str) -> bool {
        if word.chars().filter(|c| is_hangul(*c)).count() < 2 {
            return false;
        }
        let k = translit::skeleton(word);
        k.chars().count() >= 3 && self.skeletons.iter().any(|s| within_one(s, &k))
    }

    /// The words found: most frequent first (then the closer likeness, then the word).
    pub fn finish(self) -> Vec<Suggestion> {
        let mut out: Vec<Suggestion> = self.found.into_values().collect();
        out.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.likeness.cmp(&b.likeness))
                .then(a.word.cmp(&b.word))
        });
        out
    }
}

/// The `[aliases]` line that adds `words` to `term`: `netflix = ["Netflix", "넷플릭스"]`.
pub fn toml_line(term: &str, words: &[&str]) -> String {
    let key: String = term
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut members = vec![toml_string(term.trim())];
    members.extend(words.iter().map(|w| toml_string(w)));
    format!("{key} = [{}]", members.join(", "))
}

fn toml_string(s: &str) -> String {
    let escaped: String = s
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// Byte spans of the runs of Hangul syllables in `text`.
fn hangul_words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_hangul(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// Where a word's stem may end (byte offsets, longest first): the whole word, then every
/// point after which only particles follow (up to three chained: 들+과+의).
fn stem_ends(word: &str) -> Vec<usize> {
    let mut out = vec![word.len()];
    for (i, _) in word.char_indices().skip(1) {
        if particles(&word[i..], 3) && !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort_by(|a, b| b.cmp(a));
    out
}

fn particles(s: &str, depth: usize) -> bool {
    s.is_empty()
        || (depth > 0
            && PARTICLES
                .iter()
                .any(|p| s.strip_prefix(p).is_some_and(|r| particles(r, depth - 1))))
}

/// Whether two skeletons are equal but for one consonant (changed, added or dropped), with
/// the same first consonant.
fn within_one(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.first() != b.first() || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggest(term: &str, texts: &[&str]) -> Vec<Suggestion> {
        let mut f = Finder::new(term).unwrap_or_else(|| panic!("{term} does not qualify"));
        for t in texts {
            f.add(t);
        }
        f.finish()
    }

    #[test]
    fn finds_spellings_and_near_spellings_with_counts_and_context() {
        let got = suggest(
            "Netflix",
            &[
                "넷플릭스가 요금을 올린다",
                "넷플릭스의 새 드라마, 넷플렉스 아님",
                "구독료 인상",
            ],
        );
        let words: Vec<(&str, usize, Likeness)> = got
            .iter()
            .map(|s| (s.word.as_str(), s.count, s.likeness))
            .collect();
        assert_eq!(
            words,
            [
                ("넷플릭스", 2, Likeness::Spelling),
                ("넷플렉스", 1, Likeness::Similar)
            ]
        );
        assert_eq!(got[0].context, "[넷플릭스]가 요금을 올린다");
    }

    #[test]
    fn multi_word_terms_look_at_consecutive_words() {
        let got = suggest("Sally Rooney", &["작가 샐리 루니가 신작을", "샐리 씨"]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].word.as_str(), got[0].count), ("샐리 루니", 1));
    }

    #[test]
    fn unrelated_words_are_not_suggested() {
        assert!(suggest("Zalando", &["정부가 예산안을 발표했다", "잘 안 된다"]).is_empty());
        assert!(Finder::new("AI").is_none());
    }

    #[test]
    fn the_toml_line_is_ready_to_paste() {
        assert_eq!(
            toml_line("Netflix", &["넷플릭스", "넷플렉스"]),
            r#"netflix = ["Netflix", "넷플릭스", "넷플렉스"]"#
        );
        assert_eq!(
            toml_line("Sally Rooney", &["샐리 루니"]),
            r#"sally-rooney = ["Sally Rooney", "샐리 루니"]"#
        );
        let parsed: toml::Table =
            toml::from_str(&toml_line("a\"b", &["에이"])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.len(), 1);
    }

    #[test]
    fn skeletons_within_one_consonant() {
        assert!(within_one("ntplks", "ntplks"));
        assert!(within_one("ntplks", "ntpks"));
        assert!(within_one("ntplks", "ntplkt"));
        assert!(!within_one("ntplks", "tplks"));
        assert!(!within_one("ntplks", "ntpkt"));
    }
}
