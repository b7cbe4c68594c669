//! Digests: stories collected for a chat and sent as one message at a due time (hourly, daily,
//! weekly, or the catch-up at the end of quiet hours). Pure core: the types the store, the
//! sender and the console share. No IO, no teloxide, no sled.

pub mod render;
pub mod schedule;
pub mod zone;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::deliver::Alert;

/// Which delivery produced a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Hourly,
    Daily,
    Weekly,
    /// The instant alerts held during quiet hours (mode hold), sent when they end.
    CatchUp,
}

/// One story waiting for a digest: the alert as this chat would have got it (its `rules` are
/// the chat's rules that matched, in rule order) and when it was queued. Copies of one story
/// from other outlets are items of their own with the same `alert.cluster`; a digest shows
/// such a story once, with its outlet count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub alert: Alert,
    pub at: DateTime<Utc>,
}

/// One chat's digest for one due time, as rendered (`render`) and sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub kind: Kind,
    /// The due time (UTC); shown in `tz`.
    pub due: DateTime<Utc>,
    /// The chat's time zone: the header's time and each line's time are shown in it.
    pub tz: chrono_tz::Tz,
    /// In the order they were queued.
    pub items: Vec<Item>,
}
