//! Delivering alerts: the one [`Alert`] type from "a story matched" to "a message left", the
//! routing of an alert to Telegram chats ([`route()`]: now, in a digest, held for the end of
//! quiet hours, or silently), the console sink ([`console`]), and
//! [`Delivery`], the one way the daemon (`pipeline::poll`) and `kkachi replay` hand prepared
//! alerts on: [`Delivery::admit`].
//!
//! ```text
//! prepare (pipeline, replay) ─▶ Prepared ─▶ Delivery::admit
//!     ├─ Outbox:  route ─▶ store: seen + outbox entries + pending digest items, one
//!     │           transaction per chunk
//!     └─ Console: store: seen (+ pending items of static digest routes), per chunk ─▶ stdout,
//!                 once the chunk is committed
//! ```
//!
//! Owns: `Alert` and `RuleHit` (stored as they are in `store::outbox`'s entries: their serde
//! shape is the on-disk shape of `outbox.v1` and must not change), `Prepared`, `Delivery`.
//! Must not: know teloxide (rendering and sending are `telegram`'s), touch sled (it asks
//! `store`), match or summarise (the caller prepares).
//!
//! Invariant: stdout carries only results (alerts, stories); logs go to stderr.
//!
//! Deliberate gap: a console alert is printed right after its chunk of stories is marked seen,
//! outside the transaction, so a crash between the two loses it. Telegram alerts cannot be lost
//! that way (they are queued in the transaction). Making the console durable too (a queue tree
//! drained to stdout) was weighed and not done: stdout gives no acknowledgement, so a queue
//! would only move the loss to the pipe's buffer; it would add a stored record type (a new
//! tree, versioned, for ever) and a drain step to `run --once` and `replay`; and the console is
//! the dry-run and testing sink, where `kkachi replay --since` (with the daemon stopped) prints
//! the alerts of stored stories again after a crash: a story's record is written in the
//! transaction that marks it seen.

pub mod console;
pub mod route;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

pub use console::{Console, FoldLine, Format, cluster_hex, render_story_text, render_text};
pub use route::route;

use crate::rules::{RuleMatch, RuleSet};
use crate::store::outbox::Body;
use crate::store::{Queued, Store, StoreError};
use crate::story::Story;

/// One rule that matched, with the terms that hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    pub rule: String,
    pub matched: Vec<String>,
    /// Terms that hit through another form (alias, transliteration): `RuleMatch::via`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<crate::rules::Via>,
}

impl RuleHit {
    /// How `term` hit, when it hit through another form (an alias, a transliteration).
    pub fn via_of(&self, term: &str) -> Option<&crate::rules::Via> {
        self.via.iter().find(|v| v.term == term)
    }

    /// The terms as "why it matched" shows them: `Netflix (넷플릭스, dictionary)` for a term
    /// that hit through another form, else the term.
    pub fn terms_why(&self) -> Vec<String> {
        self.matched
            .iter()
            .map(|t| match self.via_of(t) {
                Some(v) => format!("{t} ({}, {})", v.form, v.source),
                None => t.clone(),
            })
            .collect()
    }
}

impl From<&RuleMatch> for RuleHit {
    fn from(m: &RuleMatch) -> RuleHit {
        RuleHit {
            rule: m.rule.clone(),
            matched: m.matched.clone(),
            via: m.via.clone(),
        }
    }
}

/// What an alert says: one story (the fields a reader sees) and the rules it matched (all of
/// them on the console; one chat's in an outbox entry). One alert per story, however many rules
/// hit it.
///
/// Its serde shape is the stored shape of an outbox entry's alert body (`outbox.v1`): fields
/// in this order, these names; fields may be added with `#[serde(default)]`, never renamed or
/// removed (stores on disk must still decode). The console's JSON line is its own view of it
/// (`console`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub title: String,
    pub url: String,
    pub feed: String,
    pub published: Option<DateTime<FixedOffset>>,
    /// The summary the alert carries: the one computed when it was prepared (LLM or
    /// extractive), not necessarily the feed's text.
    pub summary: String,
    pub rules: Vec<RuleHit>,
    /// The cluster the story belongs to (`store::fold`), when folding is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<u64>,
}

impl Alert {
    /// The story's fields with these hits; the summary is the story's own.
    pub fn new(story: &Story, hits: Vec<RuleHit>) -> Alert {
        Alert {
            title: story.title.clone(),
            url: story.url.clone(),
            feed: story.feed.clone(),
            published: story.published,
            summary: story.summary.clone(),
            rules: hits,
            cluster: None,
        }
    }

    /// The alert for a story that matched `matches` (not empty: a story without a match makes
    /// no alert), carrying `summary`. The daemon and `replay` build alerts with this.
    pub fn matched(story: &Story, matches: &[RuleMatch], summary: String) -> Alert {
        Alert {
            summary,
            ..Alert::new(story, matches.iter().map(RuleHit::from).collect())
        }
    }

    /// The first rule's name and terms (the console's `rule` and `matched`, kept from when an
    /// alert was one story and one rule).
    pub fn first_hit(&self) -> (&str, &[String]) {
        self.rules
            .first()
            .map_or(("", &[][..]), |h| (h.rule.as_str(), h.matched.as_slice()))
    }
}

/// The alerts prepared for a batch of stories (matched, summarised), by index into the batch.
/// Only the stories that matched are in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    alerts: BTreeMap<usize, Alert>,
}

impl Prepared {
    pub fn new() -> Prepared {
        Prepared::default()
    }

    pub fn insert(&mut self, index: usize, alert: Alert) {
        self.alerts.insert(index, alert);
    }

    pub fn get(&self, index: usize) -> Option<&Alert> {
        self.alerts.get(&index)
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// The alerts of `indices` that were prepared, in the order of `indices`.
    pub fn alerts<'a>(&'a self, indices: &'a [usize]) -> impl Iterator<Item = &'a Alert> + 'a {
        indices.iter().filter_map(|i| self.alerts.get(i))
    }

    /// Every prepared story's index, in batch order.
    pub fn indices(&self) -> Vec<usize> {
        self.alerts.keys().copied().collect()
    }
}

/// Where alerts go: chosen once at start-up (a token and no `--dry-run`: Telegram).
#[derive(Debug, Clone)]
pub enum Delivery {
    /// Telegram: alerts are routed to chats and queued in the outbox in the transaction that
    /// marks their stories seen (digest modes and quiet hours hold them as pending digest
    /// items, due in the chat's zone, `timezone` when it has none); the delivery task is woken
    /// through `wake`.
    Outbox {
        wake: Arc<tokio::sync::Notify>,
        timezone: chrono_tz::Tz,
    },
    /// No Telegram: alerts are printed to stdout once their stories are marked seen.
    Console(Console),
}

/// What [`Delivery::admit`] is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A poll's stories: marked seen (in chunks, each its own transaction); only the prepared
    /// stories that turn out new alert.
    Poll { now: DateTime<Utc> },
    /// Stories already in the store (`kkachi replay`): nothing is marked seen and every prepared
    /// alert is delivered. On the outbox they are queued again, and the sender's sent records
    /// keep a chat that already has one from getting it twice.
    Stored { now: DateTime<Utc> },
}

/// What [`Delivery::admit`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admitted {
    /// The stories that were new, in batch order (none for [`Admission::Stored`]).
    pub new: Vec<usize>,
    /// Outbox entries queued (edits included), or alerts printed.
    pub alerts: usize,
    /// New stories that joined an existing cluster (copies of a story already in the window).
    pub folded: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Only for [`Admission::Stored`]: after a poll the stories are already marked seen, so a
    /// failed write is logged and the poll goes on.
    #[error("cannot write alerts to stdout: {0}")]
    Stdout(#[from] std::io::Error),
}

impl Delivery {
    /// Follows a config reload (the console prints times in the schedule's zone).
    pub fn set_timezone(&mut self, tz: chrono_tz::Tz) {
        match self {
            Delivery::Console(console) => console.timezone = tz,
            Delivery::Outbox { timezone, .. } => *timezone = tz,
        }
    }

    /// Admits a batch of stories and delivers the prepared alerts of those that really are new
    /// (a prepared story only alerts if its transaction finds it new). Blocks on the store; run
    /// it off the async threads. `feed` names the batch in logs.
    pub fn admit(
        &self,
        store: &Store,
        rules: &RuleSet,
        feed: &str,
        stories: &[Story],
        prepared: &Prepared,
        admission: Admission,
    ) -> Result<Admitted, DeliverError> {
        match (self, admission) {
            // Telegram: dedup, routing and queueing in the same store transactions.
            (Delivery::Outbox { wake, timezone }, admission) => {
                let subs = store.subscriptions()?;
                let prefs = store.chats_prefs()?;
                let chats = route::Chats {
                    subs: &subs,
                    prefs: &prefs,
                    timezone: *timezone,
                };
                // Matches that reach no chat (no subscriber, no `chats = [..]`), per rule.
                let unrouted = std::cell::RefCell::new(BTreeMap::<String, usize>::new());
                let route = |i: usize| -> Queued {
                    let Some(alert) = prepared.get(i) else {
                        return Queued::default();
                    };
                    let key = crate::story::dedup_keys(&stories[i]).guid;
                    let queued = route::route(alert, &key, rules, &chats, admission.now());
                    let routed: BTreeSet<&str> = queued
                        .entries
                        .iter()
                        .filter_map(|e| match &e.body {
                            Body::Alert(a) => Some(a),
                            Body::Notice { .. } | Body::Fold(_) | Body::Digest(_) => None,
                        })
                        .chain(queued.pending.iter().map(|p| &p.item.alert))
                        .flat_map(|a| a.rules.iter().map(|h| h.rule.as_str()))
                        .collect();
                    for hit in &alert.rules {
                        if !routed.contains(hit.rule.as_str()) {
                            *unrouted.borrow_mut().entry(hit.rule.clone()).or_default() += 1;
                        }
                    }
                    queued
                };
                let alerting = |i: usize| rule_names(prepared, i);
                let result = match admission {
                    Admission::Poll { now } => {
                        let mut admitted = Admitted::default();
                        store
                            .admit_chunks(stories, now, alerting, route, |chunk, folded| {
                                log_folded(feed, stories, folded);
                                admitted.new.extend_from_slice(chunk);
                                admitted.folded +=
                                    folded.iter().filter(|f| f.joined.is_some()).count();
                            })
                            .map(|alerts| Admitted { alerts, ..admitted })
                    }
                    Admission::Stored { .. } => {
                        let mut all = Queued::default();
                        for q in prepared.indices().into_iter().map(route) {
                            all.entries.extend(q.entries);
                            all.pending.extend(q.pending);
                        }
                        store
                            .enqueue(&all.entries)
                            .and_then(|()| store.enqueue_pending(&all.pending))
                            .map(|()| Admitted {
                                alerts: all.entries.len() + all.pending.len(),
                                ..Admitted::default()
                            })
                    }
                };
                // Even after a failed chunk, the chunks before it may have queued alerts.
                wake.notify_one();
                for (rule, matches) in unrouted.into_inner() {
                    tracing::info!(
                        feed,
                        rule = %rule,
                        matches,
                        "matches with no recipient: nobody subscribes to this rule and it names no chats (the stories are marked seen; /subscribe shows the last day's)"
                    );
                }
                Ok(result?)
            }
            // Console: dedup, then print each chunk's alerts once it is committed, so a store
            // error in a later chunk does not swallow the alerts of the chunks already marked
            // seen.
            (Delivery::Console(console), Admission::Poll { now }) => {
                let mut admitted = Admitted::default();
                // Static routes with a digest mode collect their stories for a digest printed
                // at its due time (the console has no subscribers); alerts print as always.
                let (subs, prefs) = (BTreeMap::new(), store.chats_prefs()?);
                let chats = route::Chats {
                    subs: &subs,
                    prefs: &prefs,
                    timezone: console.timezone,
                };
                store.admit_chunks(
                    stories,
                    now,
                    |i| rule_names(prepared, i),
                    |i| {
                        let Some(alert) = prepared.get(i) else {
                            return Queued::default();
                        };
                        let key = crate::story::dedup_keys(&stories[i]).guid;
                        Queued {
                            entries: Vec::new(),
                            // Not the catch-ups of quiet hours: the alert is printed now.
                            pending: route::route(alert, &key, rules, &chats, now)
                                .pending
                                .into_iter()
                                .filter(|p| p.kind != crate::digest::Kind::CatchUp)
                                .collect(),
                        }
                    },
                    |chunk, folded| {
                        log_folded(feed, stories, folded);
                        let (alerts, folds) = console_view(stories, prepared, chunk, folded);
                        let alerts: Vec<&Alert> = alerts.iter().map(AsRef::as_ref).collect();
                        if let Err(e) = console.deliver(&alerts) {
                            tracing::error!(feed, error = %e, alerts = alerts.len(), "cannot write alerts to stdout");
                        }
                        if let Err(e) = console.deliver_folds(&folds) {
                            tracing::error!(feed, error = %e, lines = folds.len(), "cannot write fold lines to stdout");
                        }
                        admitted.alerts += alerts.len();
                        admitted.folded += folded.iter().filter(|f| f.joined.is_some()).count();
                        admitted.new.extend_from_slice(chunk);
                    },
                )?;
                Ok(admitted)
            }
            // `kkachi replay`: grouped by cluster (a story's cluster is in the store while it
            // is in the window): the first alert of a cluster, then its later members as fold
            // lines, or as alerts when they named a rule the cluster had not.
            (Delivery::Console(console), Admission::Stored { .. }) => replay_into(
                console,
                store,
                stories,
                prepared,
                &mut std::io::stdout().lock(),
            ),
        }
    }
}

/// `kkachi replay`'s printing: the alerts of stored stories into `out`, grouped by cluster (a
/// story's cluster is in the store while it is in the window): the first alert of a cluster,
/// then its later members as fold lines, or as alerts when they named a rule the cluster had
/// not. Nothing is marked or queued. Returns the alerts written.
pub fn replay_into(
    console: &Console,
    store: &Store,
    stories: &[Story],
    prepared: &Prepared,
    out: &mut dyn std::io::Write,
) -> Result<Admitted, DeliverError> {
    let mut groups: Vec<(Option<u64>, Vec<usize>)> = Vec::new();
    for i in prepared.indices() {
        let cluster = store.cluster_of(&crate::story::dedup_keys(&stories[i]).guid)?;
        match groups
            .iter_mut()
            .find(|(c, _)| c.is_some() && *c == cluster)
        {
            Some((_, members)) => members.push(i),
            None => groups.push((cluster, vec![i])),
        }
    }
    let mut count = 0;
    for (cluster, members) in groups {
        let record = match cluster {
            Some(id) => store.cluster(id)?,
            None => None,
        };
        let mut announced = BTreeSet::new();
        let mut joined = Vec::new();
        let mut alerts = Vec::new();
        for i in members {
            let Some(a) = prepared.get(i) else { continue };
            let fresh = a.rules.iter().any(|h| !announced.contains(&h.rule));
            match (&record, fresh) {
                (Some(c), false) => {
                    let outlet = crate::store::fold::Outlet::of(
                        &stories[i],
                        &crate::story::dedup_keys(&stories[i]).guid,
                    );
                    joined.push((
                        i,
                        crate::store::fold::Joined {
                            lead: c.outlets[0].clone(),
                            new_outlet: !c.outlets[0].same_outlet(&outlet),
                            similarity: f32::NAN,
                            tier: crate::fold::Tier::Copy,
                            outlets: c.outlets.len(),
                            announced: announced.clone(),
                        },
                    ));
                }
                _ => {
                    announced.extend(a.rules.iter().map(|h| h.rule.clone()));
                    let mut a = a.clone();
                    a.cluster = cluster;
                    alerts.push(a);
                }
            }
        }
        let refs: Vec<&Alert> = alerts.iter().collect();
        console.write_alerts(out, &refs)?;
        let lines: Vec<FoldLine<'_>> = joined
            .iter()
            .map(|(i, j)| FoldLine {
                story: &stories[*i],
                cluster: cluster.unwrap_or_default(),
                joined: j,
            })
            .collect();
        console.write_folds(out, &lines)?;
        count += alerts.len();
    }
    Ok(Admitted {
        alerts: count,
        ..Admitted::default()
    })
}

/// The rules a prepared story alerts for (none: it made no alert).
fn rule_names(prepared: &Prepared, i: usize) -> Vec<String> {
    prepared
        .get(i)
        .map(|a| a.rules.iter().map(|h| h.rule.clone()).collect())
        .unwrap_or_default()
}

/// One line per new story that joined an earlier one: folding never hides a story silently.
fn log_folded(feed: &str, stories: &[Story], folded: &[crate::store::fold::Folded]) {
    for f in folded {
        if let Some(j) = &f.joined {
            let story = &stories[f.index];
            tracing::info!(
                feed,
                title = %story.title,
                url = %story.url,
                cluster = %cluster_hex(f.cluster),
                lead_feed = %j.lead.feed,
                lead_title = %j.lead.title,
                similarity = format!("{:.2}", j.similarity),
                tier = ?j.tier,
                outlets = j.outlets,
                same_outlet = !j.new_outlet,
                "folded: the same story as one already in the window (the first alert is edited, not repeated)"
            );
        }
    }
}

/// What the console prints for a committed chunk: the alerts (each with its cluster), and a
/// fold line for each later member of a cluster that already alerted, unless it matched a rule
/// the cluster had not announced (then it is an alert of its own, as on Telegram).
fn console_view<'a>(
    stories: &'a [Story],
    prepared: &'a Prepared,
    chunk: &[usize],
    folded: &'a [crate::store::fold::Folded],
) -> (Vec<std::borrow::Cow<'a, Alert>>, Vec<FoldLine<'a>>) {
    use std::borrow::Cow;
    let mut alerts = Vec::new();
    let mut folds = Vec::new();
    for &i in chunk {
        let f = folded.iter().find(|f| f.index == i);
        let alert = prepared.get(i);
        match (f, alert) {
            (None, Some(a)) => alerts.push(Cow::Borrowed(a)),
            (None, None) => {}
            (Some(f), alert) => {
                let fresh = match (&f.joined, alert) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(j), Some(a)) => a.rules.iter().any(|h| !j.announced.contains(&h.rule)),
                };
                if let Some(a) = alert.filter(|_| fresh) {
                    let mut a = a.clone();
                    a.cluster = Some(f.cluster);
                    alerts.push(Cow::Owned(a));
                } else if let Some(j) = &f.joined
                    && (!j.announced.is_empty() || alert.is_some())
                {
                    folds.push(FoldLine {
                        story: &stories[i],
                        cluster: f.cluster,
                        joined: j,
                    });
                }
            }
        }
    }
    (alerts, folds)
}

impl Admission {
    fn now(self) -> DateTime<Utc> {
        match self {
            Admission::Poll { now } | Admission::Stored { now } => now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_queues_only_new_prepared_stories_and_replay_queues_stored_ones_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let src = "[[rules]]\nname = \"ai\"\nquery = \"AI\"\nchats = [5, 6]\n";
        let rules = crate::rules::load(src, std::path::Path::new("rules.toml"))
            .expect("rules")
            .rules;
        let stories = vec![
            crate::story::test_story("f", "1", "AI 소식", "https://e.com/1"),
            crate::story::test_story("f", "2", "다른 소식", "https://e.com/2"),
        ];
        let matches = rules.match_doc(&crate::pipeline::doc(&stories[0]));
        let mut prepared = Prepared::new();
        prepared.insert(0, Alert::matched(&stories[0], &matches, "요약".into()));
        let delivery = Delivery::Outbox {
            wake: Arc::new(tokio::sync::Notify::new()),
            timezone: chrono_tz::Tz::Asia__Seoul,
        };
        let now = Utc::now();
        let admit = |admission| {
            delivery
                .admit(&store, &rules, "f", &stories, &prepared, admission)
                .expect("admit")
        };
        let first = admit(Admission::Poll { now });
        assert_eq!(
            first,
            Admitted {
                new: vec![0, 1],
                alerts: 2,
                folded: 0
            }
        );
        assert_eq!(admit(Admission::Poll { now }), Admitted::default());
        let again = admit(Admission::Stored { now });
        assert_eq!((again.new.len(), again.alerts), (0, 2));
        let queued = store.outbox().expect("outbox");
        let summaries: Vec<(i64, &str)> = queued
            .iter()
            .map(|(_, e)| match &e.body {
                Body::Alert(a) => (e.chat, a.summary.as_str()),
                Body::Notice { .. } | Body::Fold(_) | Body::Digest(_) => (e.chat, ""),
            })
            .collect();
        assert_eq!(
            summaries,
            vec![(5, "요약"), (6, "요약"), (5, "요약"), (6, "요약")]
        );
    }
}
