//! `[fetch]`: timeouts, size cap, concurrency, user agent and backoff for every fetch.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::sink::{Sink, duration, positive};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: u64,
    pub concurrency: usize,
    pub per_host_concurrency: usize,
    pub user_agent: String,
    pub max_backoff: Duration,
}

impl Default for FetchConfig {
    /// The only home of `[fetch]`'s defaults; the CLI tools that run without a config use it
    /// too.
    fn default() -> Self {
        FetchConfig {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            concurrency: 32,
            per_host_concurrency: 2,
            user_agent: default_user_agent(),
            max_backoff: Duration::from_secs(6 * 3600),
        }
    }
}

/// `[fetch] user_agent` when not set.
pub fn default_user_agent() -> String {
    format!("kkachi/{} (news alert daemon)", env!("CARGO_PKG_VERSION"))
}

pub(super) const KEYS: &[&str] = &[
    "timeout",
    "connect_timeout",
    "max_body_bytes",
    "concurrency",
    "per_host_concurrency",
    "user_agent",
    "max_backoff",
];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) connect_timeout: Option<Spanned<String>>,
    pub(super) max_body_bytes: Option<Spanned<i64>>,
    pub(super) concurrency: Option<Spanned<i64>>,
    pub(super) per_host_concurrency: Option<Spanned<i64>>,
    pub(super) user_agent: Option<Spanned<String>>,
    pub(super) max_backoff: Option<Spanned<String>>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw) -> FetchConfig {
    let d = FetchConfig::default();
    FetchConfig {
        timeout: duration(sink, raw.timeout.as_ref(), d.timeout, "[fetch] timeout"),
        connect_timeout: duration(
            sink,
            raw.connect_timeout.as_ref(),
            d.connect_timeout,
            "[fetch] connect_timeout",
        ),
        max_body_bytes: positive(
            sink,
            raw.max_body_bytes.as_ref(),
            d.max_body_bytes,
            "[fetch] max_body_bytes",
        ),
        concurrency: positive(
            sink,
            raw.concurrency.as_ref(),
            d.concurrency,
            "[fetch] concurrency",
        ),
        per_host_concurrency: positive(
            sink,
            raw.per_host_concurrency.as_ref(),
            d.per_host_concurrency,
            "[fetch] per_host_concurrency",
        ),
        user_agent: raw.user_agent.map_or(d.user_agent, Spanned::into_inner),
        max_backoff: duration(
            sink,
            raw.max_backoff.as_ref(),
            d.max_backoff,
            "[fetch] max_backoff",
        ),
    }
}
