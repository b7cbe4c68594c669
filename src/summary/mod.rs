//! The extractive summariser: a story's text in, at most `max_chars` characters of its own
//! whole sentences out, in their original order, boilerplate removed. Pure: no IO, no `.await`,
//! no global mutable state; every function is deterministic.
//!
//! Owns: choosing the text source, HTML → text for summaries (`html`), sentence splitting
//! (`split`), boilerplate removal (`clean`), ranking (`rank`), fitting the budget, and the pure
//! halves of article fetching (`decode_html`, `extract_article`), and finding a story's matched
//! terms in its text (`query`). It must not fetch pages, log, or know about feeds or delivery;
//! of rules it knows only the matched terms it is given, and finds them with the rules' own
//! normalisation and word boundaries.
//!
//! How a summary is made:
//! 1. Sources, best first: the extracted article text, `content:encoded`, the description,
//!    the title. The first source with at least one usable sentence is used.
//! 2. The source becomes plain text with paragraph breaks, is split into sentences, and each
//!    sentence is cleaned (datelines, bylines, captions, e-mails, copyright, page furniture,
//!    cut-off fragments). Outside the title, a sentence that does not end like a sentence
//!    (`…휩싸이게 되는`: a feed cut it without a marker; or a sub-head) is dropped too.
//! 3. Sentences are ranked ([`rank`]: LexRank with a lead- and title-biased jump), then taken
//!    best first while they fit the budget, skipping near-duplicates of one already taken; the
//!    chosen ones are printed in their original order, joined by a space. Only a source's first
//!    200 sentences are considered (ranking is quadratic in their number).
//!    Query-aware ([`Options::terms`], the terms the story's rules matched): first the
//!    sentence that carries the most distinct matched terms and fits the budget (ties: the
//!    better ranked), then, while a term some fitting sentence carries is not shown yet, the
//!    one carrying the most of those; then the others as above. So the summary shows why the
//!    story matched. When no sentence carries a term (a title-only hit) nothing changes, and
//!    when the ranking would have taken those sentences anyway the summary is the same as
//!    without terms.
//! 4. Fallbacks, so that any usable text gives a non-empty summary: when no sentence of the
//!    source fits, a fitting sentence of a later source (not the title) is used; failing that,
//!    the title if it fits; as a last resort, the source's best sentence cut at the last word
//!    boundary within the budget (no `…` is added: the alert shows the link).

mod clean;
mod html;
pub mod query;
pub mod rank;
mod split;

pub use html::{Article, decode_html, extract_article, html_to_text};
pub use query::Terms;
pub use rank::{Rank, Tokens};
pub use split::split_sentences;

/// The texts a story offers; `description` and `content` may be HTML or plain text, `article`
/// is plain text as [`extract_article`] makes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryInput<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub content: Option<&'a str>,
    pub article: Option<&'a str>,
}

/// A sentence of the chosen source with its rank score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredSentence {
    pub text: String,
    pub score: f64,
    pub chosen: bool,
    /// How many distinct matched terms ([`Options::terms`]) it carries.
    pub terms: usize,
}

/// Text removed as boilerplate, and why (`"dateline"`, `"byline"`, `"e-mail"`, `"copyright"`,
/// `"photo caption"`, `"credit"`, `"page furniture"`, `"cut-off"`, `"no sentence end"`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub text: String,
    pub reason: &'static str,
}

/// Everything [`summarize`] decided, for `kkachi explain`-style output and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The kept sentences of the chosen source, in order.
    pub sentences: Vec<ScoredSentence>,
    /// Boilerplate removed from the sources that were looked at.
    pub removed: Vec<Removed>,
    /// `"article"`, `"content"`, `"description"`, `"title"`, or `""` when there was no text.
    pub source: &'static str,
    /// `None` when the summary is chosen sentences of `source`; otherwise which fallback made
    /// it: `"later source"`, `"title"`, or `"cut"` (a sentence cut at a word boundary).
    pub fallback: Option<&'static str>,
    pub summary: String,
}

/// Options beyond the budget; [`Default`] is what [`summarize`] uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub rank: Rank,
    /// A candidate whose similarity to an already chosen sentence exceeds this is skipped.
    pub redundancy: f64,
    /// The terms the story's rules matched: the sentence carrying most of them is kept (see
    /// the module docs, step 3). Empty (the default): the summary ignores the rules.
    pub terms: Terms,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            rank: Rank::default(),
            redundancy: 0.6,
            terms: Terms::default(),
        }
    }
}

/// A summary of at most `max_chars` characters (not bytes) made of whole sentences of the
/// story, in order; empty only when the input has no usable text. See the module docs.
pub fn summarize(input: &SummaryInput, max_chars: usize) -> String {
    explain(input, max_chars).summary
}

/// [`summarize`], with the sentences, their scores and what was removed.
pub fn explain(input: &SummaryInput, max_chars: usize) -> Explanation {
    explain_with(input, max_chars, &Options::default())
}

/// [`explain`] with explicit options (used by the evaluation harness to compare settings).
pub fn explain_with(input: &SummaryInput, max_chars: usize, options: &Options) -> Explanation {
    let sources: [(&'static str, Option<&str>); 4] = [
        ("article", input.article),
        ("content", input.content),
        ("description", Some(input.description)),
        ("title", Some(input.title)),
    ];
    // A story's title is plain text already (`feed` decoded it): parsing it as HTML again
    // would eat an escaped `<script>` and everything after it (issue 13).
    let title = html::plain_to_text(input.title).replace("\n\n", " ");
    let mut removed = Vec::new();
    let mut prepared: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (name, text) in sources {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let kept = sentences_of(text, name == "title", &mut removed);
        if !kept.is_empty() {
            prepared.push((name, kept));
        }
    }
    let Some((source, kept)) = prepared.first() else {
        // Only text without a sentence end (`년`, a list of headlines): better than nothing.
        let last_resort = removed.iter().find(|r| r.reason == "no sentence end");
        let (source, fallback, summary) = match last_resort {
            Some(r) => ("", Some("cut"), cut_at_word(&r.text, max_chars)),
            None => ("", None, String::new()),
        };
        return Explanation {
            sentences: Vec::new(),
            removed,
            source,
            fallback,
            summary,
        };
    };
    let refs: Vec<&str> = kept.iter().map(String::as_str).collect();
    let scores = rank::scores(&refs, &title, &options.rank);
    let carried: Vec<Vec<usize>> = refs.iter().map(|s| options.terms.found_in(s)).collect();
    let chosen = choose(&refs, &scores, &carried, max_chars, options);
    let mut summary = join(&refs, &chosen);
    let mut fallback_used = None;
    if summary.is_empty() {
        let (kind, text) = fallback(&prepared, &refs, &scores, max_chars);
        fallback_used = Some(kind);
        summary = text;
    }
    let sentences = refs
        .iter()
        .zip(&scores)
        .enumerate()
        .map(|(i, (text, &score))| ScoredSentence {
            text: (*text).to_owned(),
            score,
            chosen: chosen.contains(&i),
            terms: carried[i].len(),
        })
        .collect();
    Explanation {
        sentences,
        removed,
        source,
        fallback: fallback_used,
        summary,
    }
}

/// A source's sentences past this many are not looked at: ranking is quadratic in their number
/// (time and memory), and a news story's summary comes from its first sentences anyway.
const MAX_RANKED: usize = 200;

/// The clean sentences of one source (at most [`MAX_RANKED`]); removals are recorded.
fn sentences_of(text: &str, is_title: bool, removed: &mut Vec<Removed>) -> Vec<String> {
    let plain = if is_title {
        html::plain_to_text(text)
    } else {
        html::to_text(text)
    };
    let mut kept = Vec::new();
    let mut stripped = Vec::new();
    for sentence in split::split_sentences(&plain) {
        if kept.len() == MAX_RANKED {
            break;
        }
        match clean::clean_sentence(sentence, &mut stripped) {
            clean::Cleaned::Keep(s) if is_title || clean::is_terminated(&s) => kept.push(s),
            clean::Cleaned::Keep(s) => removed.push(Removed {
                text: s,
                reason: "no sentence end",
            }),
            clean::Cleaned::Drop(reason) => removed.push(Removed {
                text: sentence.to_owned(),
                reason,
            }),
        }
    }
    removed.extend(
        stripped
            .into_iter()
            .map(|(text, reason)| Removed { text, reason }),
    );
    kept
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Indices of the chosen sentences, ascending. First the sentences that show the matched
/// terms (`carried`: each sentence's term indices): while some term is not shown yet, the
/// sentence that still fits and carries the most terms not yet shown (ties: the better
/// ranked). Then the others, best score first while the budget allows, skipping
/// near-duplicates. When the ranking alone would have taken those first sentences, the result
/// is the same as without terms (they fit with the others, and none is a near-duplicate).
fn choose(
    sentences: &[&str],
    scores: &[f64],
    carried: &[Vec<usize>],
    max_chars: usize,
    options: &Options,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = Vec::new();
    let mut used = 0;
    let cost = |chosen: &[usize], i: usize| chars(sentences[i]) + usize::from(!chosen.is_empty());
    let mut shown: Vec<usize> = Vec::new();
    loop {
        let mut best: Option<(usize, usize)> = None;
        for &i in &order {
            if chosen.contains(&i) || used + cost(&chosen, i) > max_chars {
                continue;
            }
            let new = carried[i].iter().filter(|t| !shown.contains(t)).count();
            // `order` is best first: a later sentence must carry strictly more.
            if new > 0 && best.is_none_or(|(n, _)| new > n) {
                best = Some((new, i));
            }
        }
        let Some((_, i)) = best else {
            break;
        };
        used += cost(&chosen, i);
        chosen.push(i);
        shown.extend(&carried[i]);
    }
    for i in order {
        if chosen.contains(&i) {
            continue;
        }
        let cost = cost(&chosen, i);
        if used + cost > max_chars {
            continue;
        }
        let redundant = chosen.iter().any(|&c| {
            rank::similarity(sentences[i], sentences[c], options.rank.tokens) > options.redundancy
        });
        if redundant {
            continue;
        }
        chosen.push(i);
        used += cost;
    }
    chosen.sort_unstable();
    chosen
}

fn join(sentences: &[&str], chosen: &[usize]) -> String {
    chosen
        .iter()
        .map(|&i| sentences[i])
        .collect::<Vec<_>>()
        .join(" ")
}

/// No sentence of the best source fits the budget (see the module docs, step 4).
fn fallback(
    prepared: &[(&'static str, Vec<String>)],
    best: &[&str],
    scores: &[f64],
    max_chars: usize,
) -> (&'static str, String) {
    let fits = |s: &&String| chars(s) <= max_chars;
    let later = prepared
        .iter()
        .skip(1)
        .filter(|(name, _)| *name != "title")
        .flat_map(|(_, kept)| kept.iter());
    if let Some(s) = later.clone().find(fits) {
        return ("later source", s.clone());
    }
    let title = prepared
        .iter()
        .skip(1)
        .filter(|(name, _)| *name == "title")
        .flat_map(|(_, kept)| kept.iter());
    if let Some(s) = title.clone().find(fits) {
        return ("title", s.clone());
    }
    let top = (0..best.len()).max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)));
    (
        "cut",
        top.map_or_else(String::new, |i| cut_at_word(best[i], max_chars)),
    )
}

/// The longest prefix of `s` within `max_chars` that ends at a word boundary (or, for one
/// long word, at a character boundary).
fn cut_at_word(s: &str, max_chars: usize) -> String {
    if chars(s) <= max_chars {
        return s.to_owned();
    }
    let end = s.char_indices().nth(max_chars).map_or(s.len(), |(b, _)| b);
    let head = &s[..end];
    let at_space = s[end..].starts_with(char::is_whitespace);
    let cut = if at_space {
        head
    } else {
        head.rfind(char::is_whitespace)
            .map_or(head, |sp| &head[..sp])
    };
    cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:·(".contains(c))
        .to_owned()
}

#[cfg(test)]
mod tests;
