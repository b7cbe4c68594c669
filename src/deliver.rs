//! Delivering alerts. Today: the console (stdout), as text or JSON lines. The Telegram bot will
//! be a second sink behind the same [`Alert`] type.
//!
//! Invariant: stdout carries only results (alerts, stories); logs go to stderr.

use std::io::Write;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::rules::RuleMatch;
use crate::store::outbox::RuleHit;
use crate::story::Story;

/// One story and every rule it matched: one alert per story, however many rules hit it.
/// JSON shape: `{"rule","feed","title","url","published","summary","matched","rules"}` where
/// `rule` and `matched` are the first rule's (kept from when an alert was one story and one
/// rule) and `rules` lists every rule with its terms; fields may be added, never renamed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub rule: String,
    pub feed: String,
    pub title: String,
    pub url: String,
    pub published: Option<DateTime<FixedOffset>>,
    pub summary: String,
    pub matched: Vec<String>,
    pub rules: Vec<RuleHit>,
}

impl Alert {
    /// `matches` is not empty (a story without a match makes no alert).
    pub fn new(story: &Story, matches: &[RuleMatch]) -> Alert {
        let first = matches.first();
        Alert {
            rule: first.map(|m| m.rule.clone()).unwrap_or_default(),
            feed: story.feed.clone(),
            title: story.title.clone(),
            url: story.url.clone(),
            published: story.published,
            summary: story.summary.clone(),
            matched: first.map(|m| m.matched.clone()).unwrap_or_default(),
            rules: matches.iter().map(RuleHit::from).collect(),
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
    pub fn deliver(&self, alerts: &[Alert]) -> std::io::Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for alert in alerts {
            out.write_all(self.render(alert).as_bytes())?;
        }
        out.flush()
    }

    pub fn render(&self, alert: &Alert) -> String {
        match self.format {
            Format::Json => {
                let mut line = serde_json::to_string(alert)
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
    let names: Vec<&str> = alert.rules.iter().map(|h| h.rule.as_str()).collect();
    let names = if names.is_empty() {
        alert.rule.clone()
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
        [] | [_] if !alert.matched.is_empty() => {
            s.push_str(&format!("  matched: {}\n", alert.matched.join(", ")));
        }
        [] | [_] => {}
        hits => {
            let why: Vec<String> = hits
                .iter()
                .map(|h| format!("{} ({})", h.rule, h.matched.join(", ")))
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
            rule: "openai-korea".into(),
            feed: "yna".into(),
            title: "오픈AI, 한국 기업과 협력".into(),
            url: "https://www.yna.co.kr/view/1".into(),
            published: DateTime::parse_from_rfc3339("2026-11-27T09:00:00+09:00").ok(),
            summary: "요약".into(),
            matched: vec!["OpenAI".into(), "\"한국 기업\"".into()],
            rules: vec![RuleHit {
                rule: "openai-korea".into(),
                matched: vec!["OpenAI".into(), "\"한국 기업\"".into()],
            }],
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
