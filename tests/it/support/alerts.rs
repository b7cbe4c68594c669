//! Stories and their outbox alerts, for the tests and benches that fill the outbox directly
//! instead of through a poll. Shared with `benches/telegram.rs` through `#[path]`, so it uses
//! nothing but kkachi and chrono.

use chrono::Utc;
use kkachi::deliver::{Alert, RuleHit};
use kkachi::store::outbox::OutboxEntry;
use kkachi::story::Story;

/// A story of `feed` without a date, authors, categories or content.
pub fn story(feed: &str, id: String, title: String, url: String, summary: &str) -> Story {
    Story {
        id,
        feed: feed.into(),
        title,
        url,
        published: None,
        summary: summary.into(),
        authors: vec![],
        categories: vec![],
        content: None,
    }
}

/// `story`'s alert to `chat`, queued now, as if `rule` had matched the words `matched`.
pub fn alert(chat: i64, story: &Story, rule: &str, matched: &[&str]) -> OutboxEntry {
    let key = kkachi::story::dedup_keys(story).guid;
    let hits = vec![RuleHit {
        rule: rule.into(),
        matched: matched.iter().map(|m| m.to_string()).collect(),
        via: vec![],
    }];
    OutboxEntry::alert(chat, &key, Alert::new(story, hits), Utc::now())
}

/// `story`'s GUID dedup key in hex, as `Store::sent` takes it.
pub fn key_hex(story: &Story) -> String {
    hex::encode(kkachi::story::dedup_keys(story).guid)
}
