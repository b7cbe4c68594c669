//! `[health]`: when the admins hear about a failing feed.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::sink::{Sink, duration};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// A feed failing for longer than this gets one notice to the admins (and one when it
    /// recovers).
    pub feed_down_after: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            feed_down_after: Duration::from_secs(6 * 3600),
        }
    }
}

pub(super) const KEYS: &[&str] = &["feed_down_after"];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) feed_down_after: Option<Spanned<String>>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw) -> HealthConfig {
    HealthConfig {
        feed_down_after: duration(
            sink,
            raw.feed_down_after.as_ref(),
            HealthConfig::default().feed_down_after,
            "[health] feed_down_after",
        ),
    }
}
