//! The console sink: alerts on stdout, as text blocks or JSON lines (`--format`), digests at
//! their due time (`digest::render::text` / `digest::render::json`, one JSON line
//! `{"kind":"digest",..}`), and the text form of a story for `feed test`. Pure rendering plus
//! one locked write per batch.
//!
//! Invariant: stdout carries only results (alerts, stories); logs go to stderr.

use std::io::Write;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::{Alert, RuleHit};
use crate::story::Story;

/// An alert as one JSON line: `{"rule","feed","title","url","published","summary","matched",
/// "rules"}` where `rule` and `matched` are the first rule's (kept from when an alert was one
/// story and one rule) and `rules` lists every rule with its terms; fields may be added, never
/// renamed.
#[derive(Serialize)]
struct JsonLine<'a> {
    rule: &'a str,
    feed: &'a str,
    title: &'a str,
    url: &'a str,
    published: Option<DateTime<FixedOffset>>,
    summary: &'a str,
    matched: &'a [String],
    rules: &'a [RuleHit],
    /// The story's cluster (16 hex digits) when folding is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<String>,
}

/// A later member of a cluster whose story was already announced, as one JSON line:
/// `{"kind":"fold","cluster","feed","title","url","published","lead","lead_feed","lead_title",
/// "outlets","same_outlet","similarity"}`. Telegram edits the first message instead (the
/// `➕` line); a copy that matched a rule the cluster had not announced is an alert line (with
/// the same `cluster`) instead.
#[derive(Serialize)]
struct FoldJson<'a> {
    kind: &'static str,
    cluster: String,
    feed: &'a str,
    title: &'a str,
    url: &'a str,
    published: Option<DateTime<FixedOffset>>,
    /// The cluster's first story (GUID key, hex).
    lead: &'a str,
    lead_feed: &'a str,
    lead_title: &'a str,
    /// Outlets in the cluster now, this one included.
    outlets: usize,
    /// From the lead's own outlet (1보 → 종합): counted, not named.
    same_outlet: bool,
    similarity: f32,
}

/// What the console prints for a later member of an announced cluster.
#[derive(Debug, Clone)]
pub struct FoldLine<'a> {
    pub story: &'a Story,
    pub cluster: u64,
    pub joined: &'a crate::store::fold::Joined,
}

/// A cluster id as printed: 16 hex digits.
pub fn cluster_hex(id: u64) -> String {
    format!("{id:016x}")
}

impl<'a> From<&'a Alert> for JsonLine<'a> {
    fn from(a: &'a Alert) -> JsonLine<'a> {
        let (rule, matched) = a.first_hit();
        JsonLine {
            rule,
            feed: &a.feed,
            title: &a.title,
            url: &a.url,
            published: a.published,
            summary: &a.summary,
            matched,
            rules: &a.rules,
            cluster: a.cluster.map(cluster_hex),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Writes alerts to stdout.
#[derive(Debug, Clone)]
pub struct Console {
    pub format: Format,
    pub timezone: chrono_tz::Tz,
}

impl Console {
    /// Writes a batch under one stdout lock so concurrent feeds do not interleave lines.
    pub fn deliver(&self, alerts: &[&Alert]) -> std::io::Result<()> {
        self.write_alerts(&mut std::io::stdout().lock(), alerts)
    }

    /// Writes the fold lines of a batch under one stdout lock.
    pub fn deliver_folds(&self, lines: &[FoldLine<'_>]) -> std::io::Result<()> {
        self.write_folds(&mut std::io::stdout().lock(), lines)
    }

    /// [`Console::deliver`] into any writer (the control API's replay answers with it).
    pub fn write_alerts(&self, out: &mut dyn Write, alerts: &[&Alert]) -> std::io::Result<()> {
        for alert in alerts {
            out.write_all(self.render(alert).as_bytes())?;
        }
        out.flush()
    }

    /// [`Console::deliver_folds`] into any writer.
    pub fn write_folds(&self, out: &mut dyn Write, lines: &[FoldLine<'_>]) -> std::io::Result<()> {
        for line in lines {
            out.write_all(self.render_fold(line).as_bytes())?;
        }
        out.flush()
    }

    /// Writes one digest (a text block, or one JSON line) under one stdout lock. A digest
    /// without items prints nothing.
    pub fn deliver_digest(&self, d: &crate::digest::Digest) -> std::io::Result<()> {
        if d.items.is_empty() {
            return Ok(());
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        out.write_all(self.render_digest(d).as_bytes())?;
        out.flush()
    }

    pub fn render_digest(&self, d: &crate::digest::Digest) -> String {
        match self.format {
            Format::Json => {
                let mut line = crate::digest::render::json(d).to_string();
                line.push('\n');
                line
            }
            Format::Text => {
                let mut text = crate::digest::render::text(d);
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push('\n');
                text
            }
        }
    }

    pub fn render_fold(&self, f: &FoldLine<'_>) -> String {
        let j = f.joined;
        match self.format {
            Format::Json => {
                let json = FoldJson {
                    kind: "fold",
                    cluster: cluster_hex(f.cluster),
                    feed: &f.story.feed,
                    title: &f.story.title,
                    url: &f.story.url,
                    published: f.story.published,
                    lead: &j.lead.story,
                    lead_feed: &j.lead.feed,
                    lead_title: &j.lead.title,
                    outlets: j.outlets,
                    same_outlet: !j.new_outlet,
                    similarity: (j.similarity * 1000.0).round() / 1000.0,
                };
                let mut line = serde_json::to_string(&json)
                    .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
                line.push('\n');
                line
            }
            Format::Text => {
                let how = if j.new_outlet {
                    format!("now {} outlets", j.outlets)
                } else {
                    "a new version from the same outlet".to_string()
                };
                format!(
                    "  ↳ same story as {} · {} ({how}, cluster {})\n    {} · {}\n    {}\n\n",
                    j.lead.feed,
                    j.lead.title,
                    cluster_hex(f.cluster),
                    f.story.feed,
                    f.story.title,
                    f.story.url
                )
            }
        }
    }

    pub fn render(&self, alert: &Alert) -> String {
        match self.format {
            Format::Json => {
                let mut line = serde_json::to_string(&JsonLine::from(alert))
                    .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
                line.push('\n');
                line
            }
            Format::Text => render_text(alert, self.timezone),
        }
    }
}

/// A short human-readable block: rule and title, source and local time, link, summary, why.
pub fn render_text(alert: &Alert, tz: chrono_tz::Tz) -> String {
    let when = alert
        .published
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|| "time unknown".to_string());
    let (first_rule, first_matched) = alert.first_hit();
    let names: Vec<&str> = alert.rules.iter().map(|h| h.rule.as_str()).collect();
    let names = if names.is_empty() {
        first_rule.to_string()
    } else {
        names.join(", ")
    };
    let mut s = format!(
        "[{names}] {}\n  {} · {}\n  {}\n",
        alert.title, alert.feed, when, alert.url
    );
    if !alert.summary.is_empty() {
        s.push_str(&format!("  {}\n", alert.summary));
    }
    match alert.rules.as_slice() {
        [hit] if !hit.matched.is_empty() => {
            s.push_str(&format!("  matched: {}\n", hit.terms_why().join(", ")));
        }
        [] if !first_matched.is_empty() => {
            s.push_str(&format!("  matched: {}\n", first_matched.join(", ")));
        }
        [] | [_] => {}
        hits => {
            let why: Vec<String> = hits
                .iter()
                .map(|h| format!("{} ({})", h.rule, h.terms_why().join(", ")))
                .collect();
            s.push_str(&format!("  matched: {}\n", why.join("; ")));
        }
    }
    s.push('\n');
    s
}

/// A story as `feed test` prints it in text form.
pub fn render_story_text(story: &Story, tz: chrono_tz::Tz) -> String {
    let when = story
        .published
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|| "no date".to_string());
    let mut s = format!(
        "{}\n  {} · {}\n  id: {}\n",
        story.title, when, story.url, story.id
    );
    if !story.summary.is_empty() {
        s.push_str(&format!("  {}\n", story.summary));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_stable() {
        let alert = Alert {
            feed: "yna".into(),
            title: "오픈AI, 한국 기업과 협력".into(),
            url: "https://www.yna.co.kr/view/1".into(),
            published: DateTime::parse_from_rfc3339("2026-11-27T09:00:00+09:00").ok(),
            summary: "요약".into(),
            rules: vec![RuleHit {
                rule: "openai-korea".into(),
                matched: vec!["OpenAI".into(), "\"한국 기업\"".into()],
                via: vec![],
            }],
            cluster: None,
        };
        let console = Console {
            format: Format::Json,
            timezone: chrono_tz::Asia::Seoul,
        };
        assert_eq!(
            console.render(&alert),
            "{\"rule\":\"openai-korea\",\"feed\":\"yna\",\"title\":\"오픈AI, 한국 기업과 협력\",\
             \"url\":\"https://www.yna.co.kr/view/1\",\"published\":\"2026-11-27T09:00:00+09:00\",\
             \"summary\":\"요약\",\"matched\":[\"OpenAI\",\"\\\"한국 기업\\\"\"],\
             \"rules\":[{\"rule\":\"openai-korea\",\"matched\":[\"OpenAI\",\"\\\"한국 기업\\\"\"]}]}\n"
        );
        let text = render_text(&alert, chrono_tz::Asia::Seoul);
        assert!(text.contains("yna · 2026-11-27 09:00 KST"), "{text}");
        assert!(text.contains("matched: OpenAI, \"한국 기업\""), "{text}");
    }
}
