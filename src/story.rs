//! The normalised story: what every later stage sees of a feed item. Pure: no IO.
//! (Owner of normalisation, canonical URLs and dedup keys — filled in by the feed work.)

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// A feed item after decoding and normalisation.
///
/// JSON shape (`feed test --format json`, `rules match` input):
/// `{"id","feed","title","url","published","summary","authors","categories"}` plus the optional
/// `content`. Fields may be added, never renamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    /// Feed-scoped identifier: the item's GUID / Atom id, else its canonical URL.
    pub id: String,
    /// The configured feed name.
    pub feed: String,
    /// Plain text: HTML stripped, entities decoded, whitespace collapsed.
    pub title: String,
    /// Canonical URL (lower-case scheme and host, no fragment, no tracking parameters).
    pub url: String,
    /// RFC 3339 with offset, or null when the feed gives none.
    pub published: Option<DateTime<FixedOffset>>,
    /// Plain text, cut-off markers removed.
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Plain text of the full content (`content:encoded`, Atom content) when the feed carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}
