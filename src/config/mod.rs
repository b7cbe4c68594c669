//! Configuration: load `kkachi.toml` and its rules file, validate everything, and hand out an
//! immutable snapshot.
//!
//! Two stages, as in ripgrep: the raw TOML (with spans) becomes a validated [`Config`]. Every
//! problem found is collected as a [`Diagnostic`] with `FILE:LINE:COL`, so `kkachi check` lists
//! them all at once. Relative paths inside a config file resolve against that file's directory.
//! This module reads files but never touches the network or the store.
//!
//! One file per section: `store`, `schedule`, `fetch`, `telegram`, `summary` (with
//! `[summary.llm]`), `http`, `health` and `feeds` (`[[feeds]]`, [`FeedSource`]). Each holds its
//! validated struct, its raw (spanned) form, its allowed keys and its checks; the section's
//! `Default` impl (for `[[feeds]]` and `[summary.llm]`, which have required keys: associated
//! `DEFAULT_*` constants) is the only place its defaults live, and the CLI reads them from
//! there. `sink` collects the diagnostics. This file puts the sections together ([`parse`]),
//! reads the rules file ([`load`]) and decides what a reload may change ([`for_reload`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, line_col};
use crate::rules::{self, RuleSet};

mod delivery;
mod feeds;
mod fetch;
mod fold;
mod health;
mod http;
pub mod import;
mod schedule;
mod sink;
mod store;
mod summary;
mod telegram;
#[cfg(test)]
mod tests;

pub use delivery::DeliveryConfig;
pub use feeds::{FeedConfig, FeedSource, FeedSourceError};
pub use fetch::{FetchConfig, default_user_agent};
pub use fold::FoldConfig;
pub use health::HealthConfig;
pub use http::HttpConfig;
pub use schedule::{DEFAULT_CRON, ScheduleConfig};
pub use store::StoreConfig;
pub use summary::{LlmConfig, SummaryConfig};
pub use telegram::{Access, PAID_GLOBAL_PER_SEC, TelegramConfig};

use sink::{Sink, as_table};

/// The validated configuration. Immutable: a reload builds a new one.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file this came from.
    pub path: PathBuf,
    pub store: StoreConfig,
    pub schedule: ScheduleConfig,
    pub fetch: FetchConfig,
    pub feeds: Vec<FeedConfig>,
    /// The rules file, resolved against the config file's directory.
    pub rules_path: PathBuf,
    pub telegram: TelegramConfig,
    pub summary: SummaryConfig,
    pub http: HttpConfig,
    pub health: HealthConfig,
    pub fold: FoldConfig,
    pub delivery: DeliveryConfig,
}

/// `rules` when not set, relative to the config file's directory.
pub const DEFAULT_RULES_FILE: &str = "rules.toml";

/// What loading produced: the config, its compiled rules and every warning.
#[derive(Clone)]
pub struct Loaded {
    pub config: Arc<Config>,
    pub rules: Arc<RuleSet>,
    pub warnings: Vec<Diagnostic>,
}

/// A reloaded config as it can take effect without a restart: the settings that need one keep
/// their running values and are named (`[store] path`, …) in the returned list.
pub fn for_reload(running: &Config, mut new: Config) -> (Config, Vec<&'static str>) {
    let mut restart = Vec::new();
    if new.store.path != running.store.path {
        restart.push("[store] path");
        new.store.path = running.store.path.clone();
    }
    if new.telegram.token_file != running.telegram.token_file {
        restart.push("[telegram] token_file");
        new.telegram.token_file = running.telegram.token_file.clone();
    }
    if new.telegram.api_url != running.telegram.api_url {
        restart.push("[telegram] api_url");
        new.telegram.api_url = running.telegram.api_url.clone();
    }
    if new.http != running.http {
        restart.push("[http]");
        new.http = running.http.clone();
    }
    (new, restart)
}

/// Overrides `[store] path` (the packaged unit sets it to its `StateDirectory`).
pub const STORE_ENV: &str = "KKACHI_STORE";

/// Which config file to use: `--config`, else `$KKACHI_CONFIG`, else `config/kkachi.toml`.
pub fn resolve_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("KKACHI_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("config/kkachi.toml"))
}

/// Reads and validates the config file and its rules file. `Err` holds every problem found
/// (errors and warnings), sorted by file and position.
pub fn load(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let src = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error(
            path,
            1,
            1,
            match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "cannot read config file {}: {e} (name the file with --config PATH or \
                     $KKACHI_CONFIG; without them kkachi reads config/kkachi.toml under the \
                     current directory; `kkachi init DIR` writes a starter one)",
                    std::path::absolute(path)
                        .unwrap_or_else(|_| path.to_path_buf())
                        .display()
                ),
                _ => format!("cannot read config file: {e}"),
            },
        )]
    })?;
    let (mut config, rules_ref, mut diags) = parse(&src, path);
    // systemd units and containers place the store without editing the shared config file.
    if let (Some(config), Some(store)) = (config.as_mut(), std::env::var_os(STORE_ENV)) {
        config.store.path = PathBuf::from(store);
    }
    let rules_path = &rules_ref.path;
    let rules = match std::fs::read_to_string(rules_path) {
        Ok(rules_src) => match rules::load(&rules_src, rules_path) {
            Ok(loaded) => {
                diags.extend(loaded.warnings);
                if let Some(config) = &config {
                    diags.extend(check_rule_feeds(&loaded.rules, config, &rules_ref, path));
                }
                Some(loaded.rules)
            }
            Err(errs) => {
                diags.extend(errs);
                None
            }
        },
        Err(e) => {
            diags.push(Diagnostic::error(
                path,
                rules_ref.line,
                rules_ref.col,
                format!("cannot read rules file {}: {e}", rules_path.display()),
            ));
            None
        }
    };
    match (config, rules) {
        (Some(config), Some(rules)) if !diags.iter().any(Diagnostic::is_error) => Ok(Loaded {
            config: Arc::new(config),
            rules: Arc::new(rules),
            warnings: sorted(diags),
        }),
        _ => Err(sorted(diags)),
    }
}

fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    diags
}

/// A rule that names a feed the config does not have is a warning (the feed may be added later).
fn check_rule_feeds(
    rules: &RuleSet,
    config: &Config,
    at: &RulesRef,
    path: &Path,
) -> Vec<Diagnostic> {
    let names: HashSet<&str> = config.feeds.iter().map(|f| f.name.as_str()).collect();
    let (line, col) = (at.line, at.col);
    let mut out = Vec::new();
    let mut known: Vec<&str> = names.iter().copied().collect();
    known.sort_unstable();
    for rule in rules.rules() {
        for feed in &rule.feed_terms {
            if !names.contains(feed.as_str()) {
                let hint = crate::diag::did_you_mean(feed, &known)
                    .map(|n| format!(" (did you mean feed:{n}?)"))
                    .unwrap_or_default();
                let (line, col) = rule.at;
                out.push(Diagnostic::warning(
                    &at.path,
                    line,
                    col,
                    format!(
                        "rule {:?}: feed:{feed} names no feed of this config, so that part never matches{hint}",
                        rule.name
                    ),
                ));
            }
        }
        for feed in &rule.feeds {
            if !names.contains(feed.as_str()) {
                out.push(Diagnostic::warning(
                    path,
                    line,
                    col,
                    format!(
                        "rule {:?} names feed {feed:?}, which this config does not define",
                        rule.name
                    ),
                ));
            }
        }
    }
    out
}

/// The rules file a config names, and the position of its `rules` key (1:1 when defaulted),
/// for problems that concern the file as a whole.
#[derive(Debug, Clone)]
pub struct RulesRef {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
}

// ---- raw stage --------------------------------------------------------------------------------

const TOP_KEYS: &[&str] = &[
    "store", "schedule", "fetch", "feeds", "rules", "telegram", "summary", "http", "health",
    "fold", "delivery",
];

// Unknown keys are found by walking the table (so every one of them is reported, not only the
// first), so the raw structs accept and ignore them.

/// Parses and validates `src` (the text of `path`). Returns the config when nothing is fatal in
/// it, the rules file it names, and every problem found. Does not read the rules file.
pub fn parse(src: &str, path: &Path) -> (Option<Config>, RulesRef, Vec<Diagnostic>) {
    let mut sink = Sink {
        src,
        path,
        diags: Vec::new(),
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = match DeTable::parse(src) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            sink.toml_error(&e, 0..0, "invalid TOML: ");
            let rules = RulesRef {
                path: base.join(DEFAULT_RULES_FILE),
                line: 1,
                col: 1,
            };
            return (None, rules, sink.diags);
        }
    };
    sink.unknown_keys(&root, TOP_KEYS, "the top level");
    for (name, keys) in [
        ("store", store::KEYS),
        ("schedule", schedule::KEYS),
        ("fetch", fetch::KEYS),
        ("telegram", telegram::KEYS),
        ("summary", summary::KEYS),
        ("http", http::KEYS),
        ("health", health::KEYS),
        ("fold", fold::KEYS),
        ("delivery", delivery::KEYS),
    ] {
        if let Some(v) = root.get(name) {
            match as_table(v) {
                Some(t) => sink.unknown_keys(t, keys, &format!("[{name}]")),
                None => sink.error(v.span(), format!("`{name}` must be a table ([{name}])")),
            }
        }
    }

    let raw_store: store::Raw = sink.section(root.get("store"), "[store]: ");
    let raw_schedule: schedule::Raw = sink.section(root.get("schedule"), "[schedule]: ");
    let raw_fetch: fetch::Raw = sink.section(root.get("fetch"), "[fetch]: ");
    let raw_telegram: telegram::Raw = sink.section(root.get("telegram"), "[telegram]: ");
    if let Some(llm) = root
        .get("summary")
        .and_then(as_table)
        .and_then(|t| t.get("llm"))
        .and_then(as_table)
    {
        sink.unknown_keys(llm, summary::LLM_KEYS, "[summary.llm]");
    }
    let raw_summary: summary::Raw = sink.section(root.get("summary"), "[summary]: ");
    let raw_http: http::Raw = sink.section(root.get("http"), "[http]: ");
    let raw_health: health::Raw = sink.section(root.get("health"), "[health]: ");
    let raw_fold: fold::Raw = sink.section(root.get("fold"), "[fold]: ");
    let raw_delivery: delivery::Raw = sink.section(root.get("delivery"), "[delivery]: ");

    // The sections, in this order so the diagnostics come out as they always did.
    let store = store::build(&mut sink, raw_store, &base);
    let schedule = schedule::build(&mut sink, &raw_schedule);
    let fetch = fetch::build(&mut sink, raw_fetch);
    let telegram = telegram::build(&mut sink, raw_telegram, &base);
    let summary = summary::build(&mut sink, raw_summary);
    let http = http::build(&mut sink, raw_http);
    let health = health::build(&mut sink, raw_health);
    let fold = fold::build(&mut sink, raw_fold);
    let delivery = delivery::build(&mut sink, raw_delivery);
    let feeds = feeds::build_all(&mut sink, root.get("feeds"), &base, schedule.cron.as_ref());

    // rules = "rules.toml"
    let rules_path = match root.get("rules").map(|v| (v.span(), v.get_ref())) {
        None => base.join(DEFAULT_RULES_FILE),
        Some((_, DeValue::String(s))) => base.join(s.as_ref()),
        Some((span, _)) => {
            sink.error(
                span,
                "`rules` must be a path string, e.g. rules = \"rules.toml\"",
            );
            base.join(DEFAULT_RULES_FILE)
        }
    };

    if let Some(raw) = &raw_schedule.jitter {
        schedule::jitter_warnings(
            &mut sink,
            raw.span(),
            schedule.jitter,
            schedule.timezone,
            &feeds,
        );
    }

    if feeds.is_empty() && root.get("feeds").is_none() {
        sink.warning(0..0, "no [[feeds]] defined: kkachi has nothing to watch");
    }

    let fatal = sink.diags.iter().any(Diagnostic::is_error);
    let config = match schedule.cron {
        Some(cron) if !fatal => Some(Config {
            path: path.to_path_buf(),
            store,
            schedule: ScheduleConfig {
                cron,
                timezone: schedule.timezone,
                jitter: schedule.jitter,
            },
            fetch,
            feeds,
            rules_path: rules_path.clone(),
            telegram,
            summary,
            http,
            health,
            fold,
            delivery,
        }),
        _ => None,
    };
    let (line, col) = root
        .get("rules")
        .map_or((1, 1), |v| line_col(src, v.span().start));
    (
        config,
        RulesRef {
            path: rules_path,
            line,
            col,
        },
        sink.diags,
    )
}
