//! Folding a list of stories in order, as `kkachi cluster` prints it and the accuracy test
//! (`tests/it/fold_eval.rs`) measures it: the glue between [`Story`] and [`crate::fold`].
//!
//! Pure: no IO, no `.await`. What a story gives folding is [`doc`] (the title, and the feed's
//! content when it carries one, else its summary); the outlet rule is [`same_outlet`]. Stories
//! get fold ids from their input position (1, 2, …) and join only stories whose time is at most
//! the window apart ([`WINDOW`], 48 h): a story's time is its `published`, and an undated story
//! takes the time of the nearest dated story before it in the input (after it, when none is
//! before), so input order stands in for the clock. The window is applied exactly, pair by pair,
//! in the lookup, and the index is pruned only of what no later story can reach any more, so a
//! story out of published order still meets every earlier story within 48 h of it.

use std::collections::HashMap;

use crate::fold::{self, Id, Index, Print, Settings, Tier, Verdict};
use crate::story::Story;

/// Stories further apart than this do not join (the daemon's default `[fold] window`).
pub const WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(48);

/// What folding reads of a story: its title and the feed's own text, the content when the feed
/// carries one (its lede is the start of the article), else the summary.
pub fn doc(story: &Story) -> fold::Doc<'_> {
    let text = story
        .content
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(&story.summary);
    fold::Doc {
        title: &story.title,
        text,
    }
}

/// A story's outlet host: its URL's host without a leading `www.` or `m.`; `None` without an
/// absolute URL.
pub fn outlet_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let host = host
        .strip_prefix("www.")
        .or_else(|| host.strip_prefix("m."))
        .unwrap_or(&host);
    Some(host.to_string())
}

/// Two stories are from the same outlet if their URL hosts are the same (see [`outlet_host`]),
/// or, when either has no host, their feed names are: so an aggregator feed's items from two
/// sites are two outlets, and a section feed's re-post of the main feed's story is one.
/// Same-outlet joins still join (1보 → 종합 is one story); the outlet only decides, downstream,
/// whether a member is shown as another outlet's copy. The daemon's rule
/// (`store::fold::Outlet::same_outlet`) is this function.
pub fn same_outlet(a: &Story, b: &Story) -> bool {
    same_outlet_parts(
        &a.feed,
        outlet_host(&a.url).as_deref(),
        &b.feed,
        outlet_host(&b.url).as_deref(),
    )
}

/// [`same_outlet`] on (feed, host) pairs.
pub fn same_outlet_parts(
    a_feed: &str,
    a_host: Option<&str>,
    b_feed: &str,
    b_host: Option<&str>,
) -> bool {
    match (a_host, b_host) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => a == b,
        _ => a_feed == b_feed,
    }
}

/// The texts ([`doc`]'s) that more than one of `stories` carries (a feed that gives every item
/// the same description: a slogan, "read more"). They say nothing about which story an item
/// is, so such items fold on their title alone ([`doc_in`]); otherwise every story of that feed
/// would look like a copy of the first. The daemon computes it per poll, `kkachi cluster` per
/// feed over its input.
pub fn boilerplate(stories: &[Story]) -> std::collections::HashSet<&str> {
    let mut seen = std::collections::HashSet::new();
    let mut repeated = std::collections::HashSet::new();
    for s in stories {
        let text = doc(s).text.trim();
        if !text.is_empty() && !seen.insert(text) {
            repeated.insert(text);
        }
    }
    repeated
}

/// [`doc`], without a text that is [`boilerplate`] among its neighbours.
pub fn doc_in<'a>(
    story: &'a Story,
    boilerplate: &std::collections::HashSet<&str>,
) -> fold::Doc<'a> {
    let d = doc(story);
    if boilerplate.contains(d.text.trim()) {
        fold::Doc {
            title: d.title,
            text: "",
        }
    } else {
        d
    }
}

/// The one number a verdict is shown as: the larger of Jaccard and containment for a copy, the
/// cosine for the same event.
pub fn similarity(verdict: &Verdict) -> f32 {
    match verdict.tier {
        Tier::Copy => verdict.overlap.jaccard.max(verdict.overlap.containment),
        Tier::Event => verdict.overlap.cosine,
    }
}

/// Where one story of the input went.
#[derive(Clone, Debug, PartialEq)]
pub struct Folded {
    /// The input position (0-based) of the cluster's first story; its own for a lead.
    pub lead: usize,
    /// How it joined; `None` for a lead.
    pub join: Option<Joined>,
}

/// A story that joined an earlier one.
#[derive(Clone, Debug, PartialEq)]
pub struct Joined {
    /// The input position (0-based) of the story it matched (not always the lead).
    pub matched: usize,
    pub verdict: Verdict,
    /// Whether the matched story is from the same outlet ([`same_outlet`]).
    pub same_outlet: bool,
}

/// Folds `stories` in input order with the real index and verifier; one [`Folded`] per story.
pub fn fold_stories(stories: &[Story], settings: Settings) -> Vec<Folded> {
    let times = times(stories);
    // Boilerplate per feed (a poll is one feed's items).
    let mut by_feed: HashMap<&str, Vec<Story>> = HashMap::new();
    for s in stories {
        by_feed.entry(s.feed.as_str()).or_default().push(s.clone());
    }
    let repeated: std::collections::HashSet<String> = by_feed
        .values()
        .flat_map(|v| {
            boilerplate(v)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let repeated: std::collections::HashSet<&str> = repeated.iter().map(String::as_str).collect();
    let mut index = Index::new(settings);
    let mut prints: HashMap<Id, Print> = HashMap::with_capacity(stories.len());
    let mut out = Vec::with_capacity(stories.len());
    let window = WINDOW.num_seconds();
    let horizon = horizon(&times);
    for (i, story) in stories.iter().enumerate() {
        let id = fold_id(i);
        let at = times[i];
        // What is older than the window of every story still to come can join none of them:
        // dropping it keeps the index (and its candidate lists) to the window, as the daemon's.
        index.prune(horizon[i].saturating_sub(window));
        let print = Print::of(&doc_in(story, &repeated));
        let join = index.decide_with(&print, |candidate| {
            let j = position(candidate)?;
            if (times.get(j)? - at).abs() > window {
                return None;
            }
            prints.get(&candidate)
        });
        let folded = match join {
            Some(join) => {
                let matched = position(join.id).filter(|&j| j < i);
                let lead = position(join.cluster).filter(|&j| j < i);
                match (matched, lead) {
                    (Some(matched), Some(lead)) => {
                        index.insert(id, join.cluster, at, &print);
                        Folded {
                            lead,
                            join: Some(Joined {
                                matched,
                                same_outlet: same_outlet(story, &stories[matched]),
                                verdict: join.verdict,
                            }),
                        }
                    }
                    // An id this function never inserted: cannot happen with a correct index;
                    // the story is safest as a lead of its own.
                    _ => {
                        index.insert(id, id, at, &print);
                        Folded {
                            lead: i,
                            join: None,
                        }
                    }
                }
            }
            None => {
                index.insert(id, id, at, &print);
                Folded {
                    lead: i,
                    join: None,
                }
            }
        };
        prints.insert(id, print);
        out.push(folded);
    }
    out
}

/// Input position → fold id (ids are > 0).
fn fold_id(position: usize) -> Id {
    position as Id + 1
}

fn position(id: Id) -> Option<usize> {
    usize::try_from(id.checked_sub(1)?).ok()
}

/// For each position, the earliest time of the stories from there on (input out of published
/// order makes this earlier than the story's own).
fn horizon(times: &[i64]) -> Vec<i64> {
    let mut out = times.to_vec();
    for i in (0..out.len().saturating_sub(1)).rev() {
        out[i] = out[i].min(out[i + 1]);
    }
    out
}

/// Each story's time in unix seconds: `published`, else the nearest dated story's before it in
/// the input, else after it, else 0 (no story is dated: all are in one window).
fn times(stories: &[Story]) -> Vec<i64> {
    let mut times: Vec<Option<i64>> = stories
        .iter()
        .map(|s| s.published.map(|p| p.timestamp()))
        .collect();
    let mut last = None;
    for t in times.iter_mut() {
        match t {
            Some(v) => last = Some(*v),
            None => *t = last,
        }
    }
    let mut next = None;
    for t in times.iter_mut().rev() {
        match t {
            Some(v) => next = Some(*v),
            None => *t = next,
        }
    }
    times.into_iter().map(|t| t.unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(feed: &str, url: &str, published: Option<&str>) -> Story {
        Story {
            id: url.into(),
            feed: feed.into(),
            title: "t".into(),
            url: url.into(),
            published: published.map(|p| chrono::DateTime::parse_from_rfc3339(p).expect("date")),
            summary: "s".into(),
            authors: vec![],
            categories: vec![],
            content: None,
        }
    }

    #[test]
    fn outlet_is_the_host_without_www_or_m_else_the_feed() {
        let cases = [
            (
                "a",
                "https://www.donga.com/1",
                "b",
                "https://m.donga.com/2",
                true,
            ),
            // One feed, two sites (an aggregator): two outlets.
            (
                "a",
                "https://donga.com/1",
                "a",
                "https://yna.co.kr/2",
                false,
            ),
            // Without links, the feed decides.
            ("a", "not a url", "a", "not a url", true),
            (
                "a",
                "https://donga.com/1",
                "b",
                "https://yna.co.kr/2",
                false,
            ),
            (
                "a",
                "https://news.donga.com/1",
                "b",
                "https://donga.com/2",
                false,
            ),
            ("a", "not a url", "b", "not a url", false),
        ];
        for (fa, ua, fb, ub, same) in cases {
            assert_eq!(
                same_outlet(&story(fa, ua, None), &story(fb, ub, None)),
                same,
                "{fa} {ua} / {fb} {ub}"
            );
        }
    }

    #[test]
    fn undated_stories_take_the_nearest_dated_time_in_input_order() {
        let s = |p: Option<&str>| story("f", "https://x.kr/", p);
        let stories = [
            s(None),
            s(Some("2022-07-30T10:00:00+09:00")),
            s(None),
            s(Some("2022-07-30T12:00:00+09:00")),
            s(None),
        ];
        let t10 = 1_659_142_800;
        let t12 = t10 + 7200;
        assert_eq!(times(&stories), vec![t10, t10, t10, t12, t12]);
        assert_eq!(times(&[s(None)]), vec![0]);
    }

    #[test]
    fn the_horizon_is_the_earliest_time_still_to_come() {
        assert_eq!(horizon(&[5, 3, 9, 7, 8]), vec![3, 3, 7, 7, 8]);
        assert_eq!(horizon(&[]), Vec::<i64>::new());
    }

    #[test]
    fn doc_reads_the_content_else_the_summary() {
        let mut s = story("f", "https://x.kr/", None);
        assert_eq!(doc(&s).text, "s");
        s.content = Some(" ".into());
        assert_eq!(doc(&s).text, "s");
        s.content = Some("body".into());
        assert_eq!(doc(&s).text, "body");
        assert_eq!(doc(&s).title, "t");
    }
}
