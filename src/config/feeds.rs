//! `[[feeds]]`: each feed's name, source (a URL or a file path) and per-feed options.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::DeValue;

use super::sink::{Sink, as_table, cron_or_report};
use crate::scheduler::CronSchedule;

#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub name: String,
    pub source: FeedSource,
    /// The feed's own schedule, or `[schedule] cron`.
    pub cron: CronSchedule,
    pub enabled: bool,
    /// On the feed's first successful poll, alert on this many of the newest items.
    pub backfill: usize,
    /// Fetch each alerting story's article page and summarise its main text.
    pub full_text: bool,
}

impl FeedConfig {
    // A feed has no `Default` (`name` and `url` are required): these are the only home of the
    // defaults of its optional keys. `cron` defaults to `[schedule] cron`.
    /// `enabled` when not set.
    pub const DEFAULT_ENABLED: bool = true;
    /// `backfill` when not set: a first poll alerts on nothing.
    pub const DEFAULT_BACKFILL: usize = 0;
    /// `full_text` when not set.
    pub const DEFAULT_FULL_TEXT: bool = false;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSource {
    Http(url::Url),
    File(PathBuf),
}

/// Why a feed `url` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedSourceError {
    /// `http(s)://…` that does not parse as a URL.
    #[error("invalid URL {raw:?}: {error}")]
    InvalidUrl { raw: String, error: url::ParseError },
    /// A scheme other than http, https and file.
    #[error("unsupported scheme {scheme:?} in {raw:?}: use http, https or a file path")]
    UnsupportedScheme { scheme: String, raw: String },
    #[error("empty url")]
    Empty,
    /// No file of that name, and it reads as a web address without a proper scheme.
    #[error("{raw:?} looks like a mistyped web address, not a file path: did you mean {fix:?}?")]
    MistypedUrl { raw: String, fix: String },
}

impl FeedSource {
    /// Parses `http(s)://…` as a URL and anything without a scheme as a file path (relative to
    /// `base`).
    pub fn parse(raw: &str, base: &Path) -> Result<FeedSource, FeedSourceError> {
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return url::Url::parse(raw).map(FeedSource::Http).map_err(|error| {
                FeedSourceError::InvalidUrl {
                    raw: raw.to_string(),
                    error,
                }
            });
        }
        if let Some(path) = lower.strip_prefix("file://").map(|_| &raw[7..]) {
            return Ok(FeedSource::File(base.join(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(FeedSourceError::UnsupportedScheme {
                scheme: scheme.to_string(),
                raw: raw.to_string(),
            });
        }
        if raw.trim().is_empty() {
            return Err(FeedSourceError::Empty);
        }
        if let Some(fix) = mistyped_url(raw)
            && !base.join(raw).exists()
        {
            return Err(FeedSourceError::MistypedUrl {
                raw: raw.to_string(),
                fix,
            });
        }
        Ok(FeedSource::File(base.join(raw)))
    }

    /// The host the per-host concurrency limit applies to (`None` for files).
    pub fn host(&self) -> Option<String> {
        match self {
            FeedSource::Http(u) => u.host_str().map(str::to_owned),
            FeedSource::File(_) => None,
        }
    }
}

/// The likely web address behind a feed `url` without a proper `http(s)://`: a misspelt
/// scheme (`htps//…`, `http:/…`, `https//…`) or a host name where a path would start
/// (`www.hani.co.kr/rss/`). `None` for what reads as a file path (`feeds/yna.xml`, `a.xml`).
fn mistyped_url(raw: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    // A scheme near "http"/"https" followed by ':' or '/' (one to three of them).
    let scheme_len = lower.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (scheme, rest) = lower.split_at(scheme_len);
    let near_http = matches!(
        scheme,
        "http"
            | "https"
            | "htp"
            | "htps"
            | "htttp"
            | "htttps"
            | "hhtp"
            | "hhtps"
            | "ttp"
            | "ttps"
            | "hxxp"
            | "hxxps"
    );
    let after = rest.trim_start_matches([':', '/']);
    let punct = rest.len() - after.len();
    if near_http && (1..=4).contains(&punct) && !after.is_empty() {
        let secure = scheme.ends_with('s');
        let tail = &raw[raw.len() - after.len()..];
        return Some(format!(
            "{}://{tail}",
            if secure { "https" } else { "http" }
        ));
    }
    // A host where a path would start: a dotted first segment that is no file name.
    let first = raw.split('/').next().unwrap_or("");
    let labels: Vec<&str> = first.split('.').collect();
    let last = labels
        .last()
        .map(|l| l.to_ascii_lowercase())
        .unwrap_or_default();
    const FILE_EXTENSIONS: &[&str] = &[
        "xml", "rss", "atom", "rdf", "json", "txt", "html", "htm", "feed", "gz",
    ];
    let host_like = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && last.chars().all(|c| c.is_ascii_alphabetic())
        && (2..=6).contains(&last.len())
        && !FILE_EXTENSIONS.contains(&last.as_str());
    host_like.then(|| format!("https://{raw}"))
}

impl std::fmt::Display for FeedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedSource::Http(u) => write!(f, "{u}"),
            FeedSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

pub(super) const KEYS: &[&str] = &["name", "url", "cron", "enabled", "backfill", "full_text"];

#[derive(Deserialize)]
pub(super) struct Raw {
    pub(super) name: Spanned<String>,
    pub(super) url: Spanned<String>,
    pub(super) cron: Option<Spanned<String>>,
    pub(super) enabled: Option<bool>,
    pub(super) backfill: Option<Spanned<i64>>,
    pub(super) full_text: Option<bool>,
}

/// The `feeds` array: every entry that is valid (the others are reported).
pub(super) fn build_all(
    sink: &mut Sink<'_>,
    value: Option<&Spanned<DeValue<'_>>>,
    base: &Path,
    default_cron: Option<&CronSchedule>,
) -> Vec<FeedConfig> {
    let mut feeds = Vec::new();
    let mut seen_names: BTreeMap<String, usize> = BTreeMap::new();
    match value.map(|v| (v.span(), v.get_ref())) {
        None => {}
        Some((_, DeValue::Array(items))) => {
            for (i, item) in items.iter().enumerate() {
                let context = format!("[[feeds]] #{}: ", i + 1);
                if let Some(t) = as_table(item) {
                    sink.unknown_keys(t, KEYS, &format!("[[feeds]] #{}", i + 1));
                }
                let raw = match Raw::deserialize(item.clone().into_deserializer()) {
                    Ok(raw) => raw,
                    Err(e) => {
                        sink.toml_error(&e, item.span(), &context);
                        continue;
                    }
                };
                if let Some(feed) = build(sink, raw, base, default_cron, &mut seen_names, i) {
                    feeds.push(feed);
                }
            }
        }
        Some((span, _)) => sink.error(span, "`feeds` must be an array of tables ([[feeds]])"),
    }
    feeds
}

fn build(
    sink: &mut Sink<'_>,
    raw: Raw,
    base: &Path,
    default_cron: Option<&CronSchedule>,
    seen: &mut BTreeMap<String, usize>,
    index: usize,
) -> Option<FeedConfig> {
    let name = raw.name.get_ref().clone();
    let mut ok = true;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c))
    {
        sink.error(
            raw.name.span(),
            format!("feed name {name:?} must be non-empty and use only letters, digits, '_', '-' and '.'"),
        );
        ok = false;
    }
    if let Some(first) = seen.insert(name.clone(), index) {
        sink.error(
            raw.name.span(),
            format!("duplicate feed name {name:?} (also feed #{})", first + 1),
        );
        ok = false;
    }
    let source = match FeedSource::parse(raw.url.get_ref(), base) {
        Ok(s) => {
            if let FeedSource::File(p) = &s
                && !p.is_file()
            {
                sink.warning(
                    raw.url.span(),
                    format!("feed {name:?}: file {} does not exist (yet)", p.display()),
                );
            }
            Some(s)
        }
        Err(e) => {
            sink.error(raw.url.span(), format!("feed {name:?}: {e}"));
            None
        }
    };
    let cron = match &raw.cron {
        Some(c) => cron_or_report(sink, c, &format!("feed {name:?} cron")),
        None => default_cron.cloned(),
    };
    let backfill = match raw.backfill {
        Some(b) if *b.get_ref() < 0 => {
            sink.error(
                b.span(),
                format!("feed {name:?}: backfill must be 0 or more"),
            );
            0
        }
        Some(b) => usize::try_from(*b.get_ref()).unwrap_or(usize::MAX),
        None => FeedConfig::DEFAULT_BACKFILL,
    };
    match (ok, source, cron) {
        (true, Some(source), Some(cron)) => Some(FeedConfig {
            name,
            source,
            cron,
            enabled: raw.enabled.unwrap_or(FeedConfig::DEFAULT_ENABLED),
            backfill,
            full_text: raw.full_text.unwrap_or(FeedConfig::DEFAULT_FULL_TEXT),
        }),
        _ => None,
    }
}
