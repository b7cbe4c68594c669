//! `[fold]`: one alert per story, however many outlets carry it (see `fold` and
//! `store::fold`).

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::sink::{Sink, duration};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldConfig {
    /// Folding on: a later copy of a story edits the first alert instead of sending a new one.
    pub enabled: bool,
    /// Also fold the same event written up differently (not only copies of the same text).
    /// Off by default: lexical similarity confuses it with a different incident written from
    /// the same template.
    pub events: bool,
    /// A story joins a cluster whose latest member is at most this old (48 h). A cluster takes
    /// no member more than one and a half windows after its first (72 h).
    pub window: Duration,
}

impl Default for FoldConfig {
    fn default() -> Self {
        FoldConfig {
            enabled: true,
            events: false,
            window: Duration::from_secs(48 * 3600),
        }
    }
}

pub(super) const KEYS: &[&str] = &["enabled", "events", "window"];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) enabled: Option<bool>,
    pub(super) events: Option<bool>,
    pub(super) window: Option<Spanned<String>>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw) -> FoldConfig {
    let default = FoldConfig::default();
    let window = duration(sink, raw.window.as_ref(), default.window, "[fold] window");
    if let Some(w) = &raw.window
        && window < Duration::from_secs(60)
    {
        sink.error(
            w.span(),
            "[fold] window must be at least 1m (copies of a story arrive over hours; 48h is usual)",
        );
    }
    FoldConfig {
        enabled: raw.enabled.unwrap_or(default.enabled),
        events: raw.events.unwrap_or(default.events),
        window,
    }
}
