//! `kkachi replay`: the current rules over the stories kept in the store, printed the way the
//! console prints alerts (grouped by cluster), nothing sent or marked. One function for the
//! two callers: the CLI on a store it opened itself, and the running daemon (which holds the
//! store's lock) answering `/control/replay`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::deliver::{self, Alert, Console, DeliverError, Format, Prepared};
use crate::rules::{RuleMatch, RuleSet};
use crate::store::Store;
use crate::story::Story;

/// What to replay.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// Stories kept since `now - since`.
    pub since: Duration,
    /// Only this rule's alerts.
    pub rule: Option<&'a str>,
    pub format: Format,
}

/// Writes the alerts the stories of `query` would make under `rules` into `out`. Returns how
/// many alerts were written.
pub fn replay(
    store: &Store,
    config: &Config,
    rules: &RuleSet,
    query: Query<'_>,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
) -> Result<usize, DeliverError> {
    let Query {
        since,
        rule,
        format,
    } = query;
    let cutoff = now - chrono::Duration::from_std(since).unwrap_or_default();
    let console = Console {
        format,
        timezone: config.schedule.timezone,
    };
    let mut matcher = rules.matcher();
    let stories: Vec<Story> = store
        .stories_since(cutoff)?
        .into_iter()
        .map(|stored| stored.story)
        .collect();
    let mut prepared = Prepared::new();
    for (i, story) in stories.iter().enumerate() {
        let matches: Vec<RuleMatch> = matcher
            .match_doc(&crate::pipeline::doc(story))
            .iter()
            .filter(|m| rule.is_none_or(|r| m.rule == r))
            .cloned()
            .collect();
        if matches.is_empty() {
            continue;
        }
        // The summary keeps the sentence that says why it matched, as the daemon's does.
        let terms =
            crate::summary::Terms::of_hits(matches.iter().map(|m| (&m.matched[..], &m.via[..])));
        let summary =
            crate::pipeline::summarize_story(story, None, config.summary.max_chars, &terms);
        prepared.insert(i, Alert::matched(story, &matches, summary));
    }
    Ok(deliver::replay_into(&console, store, &stories, &prepared, out)?.alerts)
}
