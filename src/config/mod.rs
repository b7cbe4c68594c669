//! Configuration: load `kkachi.toml` and its rules file, validate everything, and hand out an
//! immutable snapshot.
//!
//! Two stages, as in ripgrep: the raw TOML (with spans) becomes a validated [`Config`]. Every
//! problem found is collected as a [`Diagnostic`] with `FILE:LINE:COL`, so `kkachi check` lists
//! them all at once. Relative paths inside a config file resolve against that file's directory.
//! This module reads files but never touches the network or the store.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, line_col};
use crate::rules::{self, RuleSet};
use crate::scheduler::CronSchedule;

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
}

/// `[http]`: the metrics and health endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Where `/metrics`, `/healthz` and `/readyz` listen; `None` when `enabled = false`.
    pub listen: Option<std::net::SocketAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

/// `[health]`: when the admins hear about a failing feed.
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

/// `[summary]`: how alerts are summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryConfig {
    /// Longest summary, in characters.
    pub max_chars: usize,
    /// Article pages (`full_text = true` feeds) may be fetched from loopback and private
    /// addresses. Off by default: a feed could otherwise point kkachi at the local network.
    pub allow_private: bool,
    pub llm: Option<LlmConfig>,
}

impl Default for SummaryConfig {
    fn default() -> Self {
        SummaryConfig {
            max_chars: 280,
            allow_private: false,
            llm: None,
        }
    }
}

/// `[summary.llm]`: an OpenAI-compatible chat endpoint for abstractive summaries, with the
/// extractive summary as the fallback.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: url::Url,
    pub model: String,
    /// The environment variable that holds the API key (never the key itself).
    pub api_key_env: String,
    pub timeout: Duration,
}

/// `[telegram]`. The token itself never lives in the TOML: it comes from `$TELOXIDE_TOKEN`,
/// `token_file`, or systemd's `$CREDENTIALS_DIRECTORY/telegram-token`.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramConfig {
    pub token_file: Option<PathBuf>,
    /// A local Bot API server; `$TELOXIDE_API_URL` wins over it.
    pub api_url: Option<url::Url>,
    pub access: Access,
    /// Chat ids that may subscribe when `access = "allowlist"`.
    pub allow: Vec<i64>,
    /// User ids that receive health notices and may use admin commands.
    pub admins: Vec<i64>,
    /// At most this many messages per second to one chat.
    pub per_chat_per_sec: u32,
    /// At most this many messages per minute to one group or channel.
    pub per_group_per_min: u32,
    /// At most this many messages per second overall.
    pub global_per_sec: u32,
    /// At most this many Bot API requests in flight at once (each to a different chat).
    pub max_in_flight: usize,
    /// Telegram Stars paid broadcasts: every message carries `allow_paid_broadcast`, and
    /// `global_per_sec` defaults to [`PAID_GLOBAL_PER_SEC`] instead of 30.
    pub allow_paid_broadcast: bool,
}

/// `global_per_sec` when `allow_paid_broadcast = true` and `global_per_sec` is not set:
/// Telegram's ceiling for paid broadcasts.
pub const PAID_GLOBAL_PER_SEC: u32 = 1000;

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            token_file: None,
            api_url: None,
            access: Access::Open,
            allow: Vec::new(),
            admins: Vec::new(),
            per_chat_per_sec: 1,
            per_group_per_min: 20,
            global_per_sec: 30,
            max_in_flight: 16,
            allow_paid_broadcast: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone may subscribe.
    Open,
    /// Only chats in `allow` may subscribe; others get a polite refusal.
    Allowlist,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub retention_days: u32,
}

#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub cron: CronSchedule,
    pub timezone: chrono_tz::Tz,
    /// Each poll waits a random delay in `0..=jitter` after its tick.
    pub jitter: Duration,
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSource {
    Http(url::Url),
    File(PathBuf),
}

impl FeedSource {
    /// Parses `http(s)://…` as a URL and anything without a scheme as a file path (relative to
    /// `base`).
    pub fn parse(raw: &str, base: &Path) -> Result<FeedSource, String> {
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return url::Url::parse(raw)
                .map(FeedSource::Http)
                .map_err(|e| format!("invalid URL {raw:?}: {e}"));
        }
        if let Some(path) = lower.strip_prefix("file://").map(|_| &raw[7..]) {
            return Ok(FeedSource::File(base.join(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(format!(
                "unsupported scheme {scheme:?} in {raw:?}: use http, https or a file path"
            ));
        }
        if raw.trim().is_empty() {
            return Err("empty url".to_string());
        }
        if let Some(fix) = mistyped_url(raw)
            && !base.join(raw).exists()
        {
            return Err(format!(
                "{raw:?} looks like a mistyped web address, not a file path: did you mean {fix:?}?"
            ));
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

pub const DEFAULT_CRON: &str = "*/10 * * * *";
pub const DEFAULT_TIMEZONE: &str = "Asia/Seoul";

pub fn default_user_agent() -> String {
    format!("kkachi/{} (news alert daemon)", env!("CARGO_PKG_VERSION"))
}

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
            format!("cannot read config file: {e}"),
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
];
const HTTP_KEYS: &[&str] = &["listen", "enabled"];
const HEALTH_KEYS: &[&str] = &["feed_down_after"];
const SUMMARY_KEYS: &[&str] = &["max_chars", "allow_private", "llm"];
const LLM_KEYS: &[&str] = &["base_url", "model", "api_key_env", "timeout"];
const STORE_KEYS: &[&str] = &["path", "retention_days"];
const SCHEDULE_KEYS: &[&str] = &["cron", "timezone", "jitter"];
const FETCH_KEYS: &[&str] = &[
    "timeout",
    "connect_timeout",
    "max_body_bytes",
    "concurrency",
    "per_host_concurrency",
    "user_agent",
    "max_backoff",
];
const TELEGRAM_KEYS: &[&str] = &[
    "token_file",
    "api_url",
    "access",
    "allow",
    "admins",
    "per_chat_per_sec",
    "per_group_per_min",
    "global_per_sec",
    "max_in_flight",
    "allow_paid_broadcast",
];
const FEED_KEYS: &[&str] = &["name", "url", "cron", "enabled", "backfill", "full_text"];

#[derive(Deserialize, Default)]
struct RawStore {
    path: Option<Spanned<String>>,
    retention_days: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
struct RawSchedule {
    cron: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct RawFetch {
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    max_body_bytes: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
    per_host_concurrency: Option<Spanned<i64>>,
    user_agent: Option<Spanned<String>>,
    max_backoff: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct RawTelegram {
    token_file: Option<Spanned<String>>,
    api_url: Option<Spanned<String>>,
    access: Option<Spanned<String>>,
    allow: Option<Vec<i64>>,
    admins: Option<Vec<i64>>,
    per_chat_per_sec: Option<Spanned<i64>>,
    per_group_per_min: Option<Spanned<i64>>,
    global_per_sec: Option<Spanned<i64>>,
    max_in_flight: Option<Spanned<i64>>,
    allow_paid_broadcast: Option<bool>,
}

#[derive(Deserialize)]
struct RawFeed {
    name: Spanned<String>,
    url: Spanned<String>,
    cron: Option<Spanned<String>>,
    enabled: Option<bool>,
    backfill: Option<Spanned<i64>>,
    full_text: Option<bool>,
}

#[derive(Deserialize, Default)]
struct RawHttp {
    listen: Option<Spanned<String>>,
    enabled: Option<bool>,
}

#[derive(Deserialize, Default)]
struct RawHealth {
    feed_down_after: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct RawSummary {
    max_chars: Option<Spanned<i64>>,
    allow_private: Option<bool>,
    llm: Option<Spanned<RawLlm>>,
}

#[derive(Deserialize)]
struct RawLlm {
    base_url: Spanned<String>,
    model: String,
    api_key_env: Option<String>,
    timeout: Option<Spanned<String>>,
}

// Unknown keys are found by walking the table (so every one of them is reported, not only the
// first), so the raw structs accept and ignore them.

/// Collects diagnostics for one file.
struct Sink<'a> {
    src: &'a str,
    path: &'a Path,
    diags: Vec<Diagnostic>,
}

impl Sink<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, col) = line_col(self.src, span.start);
        self.diags
            .push(Diagnostic::error(self.path, line, col, message));
    }

    fn warning(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, col) = line_col(self.src, span.start);
        self.diags
            .push(Diagnostic::warning(self.path, line, col, message));
    }

    fn toml_error(&mut self, err: &toml::de::Error, fallback: Range<usize>, context: &str) {
        let span = err.span().unwrap_or(fallback);
        let message = err.message().trim().to_string();
        self.error(span, format!("{context}{message}"));
    }

    /// Deserialises one section, reporting a type error at its position.
    fn section<T: for<'de> Deserialize<'de> + Default>(
        &mut self,
        value: Option<&Spanned<DeValue<'_>>>,
        context: &str,
    ) -> T {
        let Some(value) = value else {
            return T::default();
        };
        let span = value.span();
        match T::deserialize(value.clone().into_deserializer()) {
            Ok(v) => v,
            Err(e) => {
                self.toml_error(&e, span, context);
                T::default()
            }
        }
    }

    /// Every key of `table` that is not in `allowed` is an error at the key's position.
    fn unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], section: &str) {
        for key in table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                let name: &str = key.get_ref();
                let hint = crate::diag::did_you_mean(name, allowed)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                self.error(
                    key.span(),
                    format!(
                        "unknown key `{name}` in {section}{hint}; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }
}

fn as_table<'a, 'i>(v: &'a Spanned<DeValue<'i>>) -> Option<&'a DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

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
                path: base.join("rules.toml"),
                line: 1,
                col: 1,
            };
            return (None, rules, sink.diags);
        }
    };
    sink.unknown_keys(&root, TOP_KEYS, "the top level");
    for (name, keys) in [
        ("store", STORE_KEYS),
        ("schedule", SCHEDULE_KEYS),
        ("fetch", FETCH_KEYS),
        ("telegram", TELEGRAM_KEYS),
        ("summary", SUMMARY_KEYS),
        ("http", HTTP_KEYS),
        ("health", HEALTH_KEYS),
    ] {
        if let Some(v) = root.get(name) {
            match as_table(v) {
                Some(t) => sink.unknown_keys(t, keys, &format!("[{name}]")),
                None => sink.error(v.span(), format!("`{name}` must be a table ([{name}])")),
            }
        }
    }

    let store: RawStore = sink.section(root.get("store"), "[store]: ");
    let schedule: RawSchedule = sink.section(root.get("schedule"), "[schedule]: ");
    let fetch: RawFetch = sink.section(root.get("fetch"), "[fetch]: ");
    let telegram: RawTelegram = sink.section(root.get("telegram"), "[telegram]: ");
    if let Some(llm) = root
        .get("summary")
        .and_then(as_table)
        .and_then(|t| t.get("llm"))
        .and_then(as_table)
    {
        sink.unknown_keys(llm, LLM_KEYS, "[summary.llm]");
    }
    let summary: RawSummary = sink.section(root.get("summary"), "[summary]: ");
    let http: RawHttp = sink.section(root.get("http"), "[http]: ");
    let health: RawHealth = sink.section(root.get("health"), "[health]: ");

    // [store]
    let store_path = store
        .path
        .as_ref()
        .map_or_else(|| base.join("kkachi-data"), |p| base.join(p.get_ref()));
    let retention_days = positive(
        &mut sink,
        store.retention_days.as_ref(),
        30,
        "[store] retention_days",
    );

    // [schedule]
    let default_cron = match &schedule.cron {
        Some(c) => cron_or_report(&mut sink, c, "[schedule] cron"),
        None => CronSchedule::parse(DEFAULT_CRON).ok(),
    };
    let timezone = match &schedule.timezone {
        Some(tz) => match tz.get_ref().parse::<chrono_tz::Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                sink.error(
                    tz.span(),
                    format!("[schedule] timezone: unknown time zone {:?} (use an IANA name such as \"Asia/Seoul\" or \"UTC\")", tz.get_ref()),
                );
                chrono_tz::Asia::Seoul
            }
        },
        None => chrono_tz::Asia::Seoul,
    };
    let jitter = duration(
        &mut sink,
        schedule.jitter.as_ref(),
        Duration::from_secs(30),
        "[schedule] jitter",
    );

    // [fetch]
    let fetch = FetchConfig {
        timeout: duration(
            &mut sink,
            fetch.timeout.as_ref(),
            Duration::from_secs(20),
            "[fetch] timeout",
        ),
        connect_timeout: duration(
            &mut sink,
            fetch.connect_timeout.as_ref(),
            Duration::from_secs(10),
            "[fetch] connect_timeout",
        ),
        max_body_bytes: positive(
            &mut sink,
            fetch.max_body_bytes.as_ref(),
            10 * 1024 * 1024,
            "[fetch] max_body_bytes",
        ),
        concurrency: positive(
            &mut sink,
            fetch.concurrency.as_ref(),
            32,
            "[fetch] concurrency",
        ),
        per_host_concurrency: positive(
            &mut sink,
            fetch.per_host_concurrency.as_ref(),
            2,
            "[fetch] per_host_concurrency",
        ),
        user_agent: fetch
            .user_agent
            .map_or_else(default_user_agent, |u| u.into_inner()),
        max_backoff: duration(
            &mut sink,
            fetch.max_backoff.as_ref(),
            Duration::from_secs(6 * 3600),
            "[fetch] max_backoff",
        ),
    };

    let telegram = telegram_config(&mut sink, telegram, &base);
    let summary = SummaryConfig {
        max_chars: positive(
            &mut sink,
            summary.max_chars.as_ref(),
            280,
            "[summary] max_chars",
        ),
        allow_private: summary.allow_private.unwrap_or(false),
        llm: summary.llm.and_then(|raw| {
            let span = raw.span();
            let raw = raw.into_inner();
            let base_url = match url::Url::parse(raw.base_url.get_ref()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => u,
                _ => {
                    sink.error(
                        raw.base_url.span(),
                        format!(
                            "[summary.llm] base_url: {:?} is not an http(s) URL",
                            raw.base_url.get_ref()
                        ),
                    );
                    return None;
                }
            };
            if raw.model.trim().is_empty() {
                sink.error(span, "[summary.llm] model must not be empty");
                return None;
            }
            Some(LlmConfig {
                base_url,
                model: raw.model,
                api_key_env: raw
                    .api_key_env
                    .unwrap_or_else(|| "OPENAI_API_KEY".to_string()),
                timeout: duration(
                    &mut sink,
                    raw.timeout.as_ref(),
                    Duration::from_secs(20),
                    "[summary.llm] timeout",
                ),
            })
        }),
    };

    // [http]
    let http = HttpConfig {
        listen: match (&http.listen, http.enabled.unwrap_or(true)) {
            (_, false) => None,
            (None, true) => HttpConfig::default().listen,
            (Some(l), true) => match l.get_ref().parse::<std::net::SocketAddr>() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    sink.error(
                        l.span(),
                        format!(
                            "[http] listen: {:?} is not an address:port such as \"127.0.0.1:9464\"",
                            l.get_ref()
                        ),
                    );
                    None
                }
            },
        },
    };
    // [health]
    let health = HealthConfig {
        feed_down_after: duration(
            &mut sink,
            health.feed_down_after.as_ref(),
            HealthConfig::default().feed_down_after,
            "[health] feed_down_after",
        ),
    };

    // [[feeds]]
    let mut feeds = Vec::new();
    let mut seen_names: BTreeMap<String, usize> = BTreeMap::new();
    match root.get("feeds").map(|v| (v.span(), v.get_ref())) {
        None => {}
        Some((_, DeValue::Array(items))) => {
            for (i, item) in items.iter().enumerate() {
                let context = format!("[[feeds]] #{}: ", i + 1);
                if let Some(t) = as_table(item) {
                    sink.unknown_keys(t, FEED_KEYS, &format!("[[feeds]] #{}", i + 1));
                }
                let raw = match RawFeed::deserialize(item.clone().into_deserializer()) {
                    Ok(raw) => raw,
                    Err(e) => {
                        sink.toml_error(&e, item.span(), &context);
                        continue;
                    }
                };
                if let Some(feed) = feed(
                    &mut sink,
                    raw,
                    &base,
                    default_cron.as_ref(),
                    &mut seen_names,
                    i,
                ) {
                    feeds.push(feed);
                }
            }
        }
        Some((span, _)) => sink.error(span, "`feeds` must be an array of tables ([[feeds]])"),
    }

    // rules = "rules.toml"
    let rules_path = match root.get("rules").map(|v| (v.span(), v.get_ref())) {
        None => base.join("rules.toml"),
        Some((_, DeValue::String(s))) => base.join(s.as_ref()),
        Some((span, _)) => {
            sink.error(
                span,
                "`rules` must be a path string, e.g. rules = \"rules.toml\"",
            );
            base.join("rules.toml")
        }
    };

    if let Some(raw) = &schedule.jitter {
        jitter_warnings(&mut sink, raw.span(), jitter, timezone, &feeds);
    }

    if feeds.is_empty() && root.get("feeds").is_none() {
        sink.warning(0..0, "no [[feeds]] defined: kkachi has nothing to watch");
    }

    let fatal = sink.diags.iter().any(Diagnostic::is_error);
    let config = match default_cron {
        Some(cron) if !fatal => Some(Config {
            path: path.to_path_buf(),
            store: StoreConfig {
                path: store_path,
                retention_days,
            },
            schedule: ScheduleConfig {
                cron,
                timezone,
                jitter,
            },
            fetch,
            feeds,
            rules_path: rules_path.clone(),
            telegram,
            summary,
            http,
            health,
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

fn telegram_config(sink: &mut Sink<'_>, raw: RawTelegram, base: &Path) -> TelegramConfig {
    let d = TelegramConfig::default();
    let api_url = raw
        .api_url
        .and_then(|u| match url::Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                sink.error(
                    u.span(),
                    format!(
                        "[telegram] api_url: {:?} is not an http(s) URL",
                        u.get_ref()
                    ),
                );
                None
            }
        });
    let access = match raw.access {
        None => Access::Open,
        Some(a) => match a.get_ref().as_str() {
            "open" => Access::Open,
            "allowlist" => Access::Allowlist,
            other => {
                sink.error(
                    a.span(),
                    format!("[telegram] access must be \"open\" or \"allowlist\", not {other:?}"),
                );
                Access::Open
            }
        },
    };
    let paid = raw.allow_paid_broadcast.unwrap_or(d.allow_paid_broadcast);
    TelegramConfig {
        token_file: raw.token_file.map(|p| base.join(p.get_ref())),
        api_url,
        access,
        allow: raw.allow.unwrap_or_default(),
        admins: raw.admins.unwrap_or_default(),
        per_chat_per_sec: positive(
            sink,
            raw.per_chat_per_sec.as_ref(),
            d.per_chat_per_sec,
            "[telegram] per_chat_per_sec",
        ),
        per_group_per_min: positive(
            sink,
            raw.per_group_per_min.as_ref(),
            d.per_group_per_min,
            "[telegram] per_group_per_min",
        ),
        global_per_sec: positive(
            sink,
            raw.global_per_sec.as_ref(),
            if paid {
                PAID_GLOBAL_PER_SEC
            } else {
                d.global_per_sec
            },
            "[telegram] global_per_sec",
        ),
        max_in_flight: positive(
            sink,
            raw.max_in_flight.as_ref(),
            d.max_in_flight,
            "[telegram] max_in_flight",
        ),
        allow_paid_broadcast: paid,
    }
}

fn feed(
    sink: &mut Sink<'_>,
    raw: RawFeed,
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
        None => 0,
    };
    match (ok, source, cron) {
        (true, Some(source), Some(cron)) => Some(FeedConfig {
            name,
            source,
            cron,
            enabled: raw.enabled.unwrap_or(true),
            backfill,
            full_text: raw.full_text.unwrap_or(false),
        }),
        _ => None,
    }
}

/// A `[schedule] jitter` set longer than a feed's own interval is capped at runtime (see
/// [`crate::scheduler::effective_jitter`]); say so once per schedule, at the jitter line.
fn jitter_warnings(
    sink: &mut Sink<'_>,
    span: Range<usize>,
    jitter: Duration,
    tz: chrono_tz::Tz,
    feeds: &[FeedConfig],
) {
    let now = chrono::Utc::now();
    let mut told = std::collections::BTreeSet::new();
    for feed in feeds {
        if !told.insert(feed.cron.source().to_string()) {
            continue;
        }
        let Some(interval) = feed.cron.shortest_interval(now, tz, 48) else {
            continue;
        };
        if jitter > interval {
            let cap = crate::scheduler::effective_jitter(jitter, Some(interval));
            sink.warning(
                span.clone(),
                format!(
                    "[schedule] jitter ({}) is longer than the interval of feed {:?} (cron {:?} fires every {}): its polls get at most a tenth of the interval ({}) instead",
                    humantime::format_duration(jitter),
                    feed.name,
                    feed.cron.source(),
                    humantime::format_duration(interval),
                    humantime::format_duration(cap),
                ),
            );
        }
    }
}

fn cron_or_report(sink: &mut Sink<'_>, expr: &Spanned<String>, what: &str) -> Option<CronSchedule> {
    match CronSchedule::parse(expr.get_ref()) {
        Ok(c) => Some(c),
        Err(e) => {
            sink.error(expr.span(), format!("{what}: {e}"));
            None
        }
    }
}

fn duration(
    sink: &mut Sink<'_>,
    raw: Option<&Spanned<String>>,
    default: Duration,
    what: &str,
) -> Duration {
    let Some(raw) = raw else { return default };
    match humantime::parse_duration(raw.get_ref()) {
        Ok(d) => d,
        Err(e) => {
            sink.error(
                raw.span(),
                format!(
                    "{what}: invalid duration {:?} ({e}); write e.g. \"30s\", \"5m\", \"6h\"",
                    raw.get_ref()
                ),
            );
            default
        }
    }
}

fn positive<T: TryFrom<i64> + Copy>(
    sink: &mut Sink<'_>,
    raw: Option<&Spanned<i64>>,
    default: T,
    what: &str,
) -> T {
    let Some(raw) = raw else { return default };
    match T::try_from(*raw.get_ref()) {
        Ok(v) if *raw.get_ref() > 0 => v,
        _ => {
            sink.error(
                raw.span(),
                format!("{what} must be a positive number, not {}", raw.get_ref()),
            );
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> (Option<Config>, Vec<String>) {
        let (c, _, d) = parse(src, Path::new("/nonexistent/k.toml"));
        (c, d.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn defaults_apply() {
        let (c, d) = parse_str("[[feeds]]\nname = \"a\"\nurl = \"https://example.com/rss\"\n");
        let c = c.expect("valid");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.store.retention_days, 30);
        assert_eq!(c.store.path, Path::new("/nonexistent/kkachi-data"));
        assert_eq!(c.schedule.timezone, chrono_tz::Asia::Seoul);
        assert_eq!(c.fetch.max_body_bytes, 10 * 1024 * 1024);
        assert_eq!(c.fetch.max_backoff, Duration::from_secs(6 * 3600));
        assert_eq!(c.rules_path, Path::new("/nonexistent/rules.toml"));
        assert!(c.feeds[0].enabled);
        assert_eq!(c.feeds[0].backfill, 0);
        assert!(c.fetch.user_agent.starts_with("kkachi/"));
    }

    /// Regression (issue 13): a mistyped URL was taken as a file path with only a warning.
    #[test]
    fn a_mistyped_url_is_an_error_with_the_likely_fix() {
        for (url, fix) in [
            (
                "htps//www.yna.co.kr/rss/news.xml",
                "https://www.yna.co.kr/rss/news.xml",
            ),
            (
                "http:/rss.donga.com/total.xml",
                "http://rss.donga.com/total.xml",
            ),
            (
                "https//techcrunch.com/feed/",
                "https://techcrunch.com/feed/",
            ),
            ("www.hani.co.kr/rss/", "https://www.hani.co.kr/rss/"),
            (
                "rss.etnews.com/Section901.xml",
                "https://rss.etnews.com/Section901.xml",
            ),
            ("zdnet.co.kr", "https://zdnet.co.kr"),
        ] {
            let (c, d) = parse_str(&format!("[[feeds]]\nname = \"a\"\nurl = \"{url}\"\n"));
            assert!(c.is_none(), "{url}: an error, not a warning");
            assert_eq!(
                d,
                vec![format!(
                    "/nonexistent/k.toml:3:7: feed \"a\": {url:?} looks like a mistyped web address, not a file path: did you mean {fix:?}?"
                )],
                "{url}"
            );
        }
        // File paths stay file paths (a warning when missing).
        for path in [
            "feeds/yna.xml",
            "a.xml",
            "./local.rss",
            "../data/x.atom",
            "feed",
        ] {
            let (c, d) = parse_str(&format!("[[feeds]]\nname = \"a\"\nurl = \"{path}\"\n"));
            assert!(c.is_some(), "{path}: {d:?}");
            assert!(
                d.iter().all(|m| m.contains("does not exist")),
                "{path}: {d:?}"
            );
        }
    }

    /// Regression (issue 10): `*/5 * * * *` with `jitter = "10m"` passed `check` silently.
    #[test]
    fn a_jitter_longer_than_a_feed_interval_is_a_warning() {
        let (c, d) = parse_str(
            "[schedule]\ncron = \"*/5 * * * *\"\njitter = \"10m\"\n\
             [[feeds]]\nname = \"a\"\nurl = \"https://example.com/rss\"\n\
             [[feeds]]\nname = \"b\"\nurl = \"https://example.com/b\"\n\
             [[feeds]]\nname = \"daily\"\nurl = \"https://example.com/c\"\ncron = \"0 9 * * *\"\n",
        );
        assert!(c.is_some(), "a warning, not an error");
        let texts: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(texts.len(), 1, "one warning per schedule: {texts:?}");
        assert_eq!(
            texts[0],
            "/nonexistent/k.toml:3:10: warning: [schedule] jitter (10m) is longer than the interval of feed \"a\" (cron \"*/5 * * * *\" fires every 5m): its polls get at most a tenth of the interval (30s) instead"
        );
        // The default jitter is capped quietly: nobody configured it.
        let (_, d) = parse_str(
            "[schedule]\ncron = \"*/2 * * * * *\"\n[[feeds]]\nname = \"a\"\nurl = \"https://example.com/rss\"\n",
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn relative_paths_resolve_against_the_config_dir() {
        let (c, _) = parse_str(
            "rules = \"r/x.toml\"\n[store]\npath = \"../db\"\n[[feeds]]\nname = \"f\"\nurl = \"feeds/a.xml\"\n",
        );
        let c = c.expect("valid");
        assert_eq!(c.rules_path, Path::new("/nonexistent/r/x.toml"));
        assert_eq!(c.store.path, Path::new("/nonexistent/../db"));
        assert_eq!(
            c.feeds[0].source,
            FeedSource::File(PathBuf::from("/nonexistent/feeds/a.xml"))
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_position() {
        let src = "[schedule]\ncrn = \"x\"\ncron = \"61 * * * *\"\ntimezone = \"Mars/Base\"\n\
                   [fetch]\ntimeout = \"soon\"\nconcurrency = 0\n\
                   [[feeds]]\nname = \"a\"\nurl = \"ftp://x/y\"\nbackfil = 3\n\
                   [[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\ncron = \"bad\"\n";
        let (c, d) = parse_str(src);
        assert!(c.is_none());
        let joined = d.join("\n");
        let expect = [
            "/nonexistent/k.toml:2:1: unknown key `crn` in [schedule] (did you mean `cron`?)",
            "/nonexistent/k.toml:3:8: [schedule] cron:",
            "/nonexistent/k.toml:4:12: [schedule] timezone: unknown time zone \"Mars/Base\"",
            "/nonexistent/k.toml:6:11: [fetch] timeout: invalid duration \"soon\"",
            "/nonexistent/k.toml:7:15: [fetch] concurrency must be a positive number, not 0",
            "/nonexistent/k.toml:10:7: feed \"a\": unsupported scheme \"ftp\"",
            "/nonexistent/k.toml:11:1: unknown key `backfil` in [[feeds]] #1 (did you mean `backfill`?)",
            "/nonexistent/k.toml:13:8: duplicate feed name \"a\" (also feed #1)",
            "/nonexistent/k.toml:15:8: feed \"a\" cron:",
        ];
        for e in expect {
            assert!(
                d.iter().any(|l| l.starts_with(e)),
                "missing {e:?} in:\n{joined}"
            );
        }
    }

    #[test]
    fn telegram_section() {
        let (c, d) = parse_str(
            "[telegram]\naccess = \"allowlist\"\nallow = [-1001]\nadmins = [42]\ntoken_file = \"tok\"\n\
             [[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let t = c.expect("valid").telegram;
        assert_eq!(t.access, Access::Allowlist);
        assert_eq!(t.allow, vec![-1001]);
        assert_eq!(t.admins, vec![42]);
        assert_eq!(t.token_file, Some(PathBuf::from("/nonexistent/tok")));
        assert_eq!(
            (t.per_chat_per_sec, t.per_group_per_min, t.global_per_sec),
            (1, 20, 30)
        );
        assert_eq!((t.max_in_flight, t.allow_paid_broadcast), (16, false));
        let paid = |extra: &str| {
            let (c, d) = parse_str(&format!(
                "[telegram]\nallow_paid_broadcast = true\n{extra}[[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n"
            ));
            assert!(d.is_empty(), "{d:?}");
            let t = c.expect("valid").telegram;
            (t.allow_paid_broadcast, t.global_per_sec)
        };
        assert_eq!(paid(""), (true, PAID_GLOBAL_PER_SEC));
        assert_eq!(paid("global_per_sec = 100\n"), (true, 100));
        let (_, d) = parse_str("[telegram]\nmax_in_flight = 0\n");
        assert!(
            d.iter()
                .any(|l| l
                    .contains(":2:17: [telegram] max_in_flight must be a positive number, not 0")),
            "{d:?}"
        );
        let (_, d) = parse_str("[telegram]\naccess = \"everyone\"\ntoken = \"123:abc\"\n");
        assert!(d.iter().any(|l| l.contains("access must be")), "{d:?}");
        assert!(
            d.iter()
                .any(|l| l.contains("unknown key `token` in [telegram]")),
            "{d:?}"
        );
    }

    #[test]
    fn http_and_health_sections() {
        let feeds = "[[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n";
        let (c, d) = parse_str(feeds);
        assert!(d.is_empty(), "{d:?}");
        let c = c.expect("valid");
        assert_eq!(c.http.listen, Some("127.0.0.1:9464".parse().expect("addr")));
        assert_eq!(c.health.feed_down_after, Duration::from_secs(6 * 3600));
        let (c, d) = parse_str(&format!(
            "[http]\nlisten = \"[::1]:9000\"\n[health]\nfeed_down_after = \"90m\"\n{feeds}"
        ));
        assert!(d.is_empty(), "{d:?}");
        let c = c.expect("valid");
        assert_eq!(c.http.listen, Some("[::1]:9000".parse().expect("addr")));
        assert_eq!(c.health.feed_down_after, Duration::from_secs(90 * 60));
        let (c, _) = parse_str(&format!("[http]\nenabled = false\n{feeds}"));
        assert_eq!(c.expect("valid").http.listen, None);
        let (c, d) = parse_str(&format!(
            "[http]\nlisten = \"localhost\"\nport = 1\n[health]\nfeed_down_after = \"soon\"\n{feeds}"
        ));
        assert!(c.is_none());
        assert!(
            d.iter().any(|l| l.starts_with("/nonexistent/k.toml:2:10:")
                && l.contains("[http] listen: \"localhost\" is not an address:port")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|l| l.contains("unknown key `port` in [http]")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|l| l.contains("[health] feed_down_after")),
            "{d:?}"
        );
    }

    #[test]
    fn a_reload_keeps_what_needs_a_restart_and_names_it() {
        let feeds = "[[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\n";
        let (old, _) = parse_str(&format!("[store]\npath = \"s1\"\n{feeds}"));
        let (new, _) = parse_str(&format!(
            "[store]\npath = \"s2\"\n[http]\nlisten = \"127.0.0.1:1\"\n\
             [telegram]\ntoken_file = \"t\"\nadmins = [5]\n[summary]\nmax_chars = 100\n{feeds}"
        ));
        let (old, new) = (old.expect("valid"), new.expect("valid"));
        let (applied, restart) = for_reload(&old, new);
        assert_eq!(
            restart,
            vec!["[store] path", "[telegram] token_file", "[http]"]
        );
        assert_eq!(applied.store.path, old.store.path);
        assert_eq!(applied.http, old.http);
        assert_eq!(applied.telegram.token_file, None);
        // The rest takes effect.
        assert_eq!(applied.telegram.admins, vec![5]);
        assert_eq!(applied.summary.max_chars, 100);
        let (same, restart) = for_reload(&old, old.clone());
        assert!(restart.is_empty());
        assert_eq!(same.store.path, old.store.path);
    }

    #[test]
    fn summary_section() {
        let (c, d) = parse_str(
            "[summary]\nmax_chars = 200\n[summary.llm]\nbase_url = \"http://127.0.0.1:1/v1\"\nmodel = \"m\"\n\
             [[feeds]]\nname = \"a\"\nurl = \"https://e.com/\"\nfull_text = true\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let c = c.expect("valid");
        assert_eq!(c.summary.max_chars, 200);
        assert!(!c.summary.allow_private);
        let llm = c.summary.llm.expect("llm");
        assert_eq!(llm.api_key_env, "OPENAI_API_KEY");
        assert!(c.feeds[0].full_text);
        let (_, d) =
            parse_str("[summary.llm]\nbase_url = \"ftp://x\"\nmodel = \"m\"\napi_key = \"sk-1\"\n");
        assert!(
            d.iter()
                .any(|l| l.contains("unknown key `api_key` in [summary.llm]")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|l| l.contains("is not an http(s) URL")),
            "{d:?}"
        );
    }

    #[test]
    fn syntax_error_has_a_position() {
        let (c, d) = parse_str("[store]\npath = \n");
        assert!(c.is_none());
        assert!(d[0].starts_with("/nonexistent/k.toml:2:"), "{d:?}");
        assert!(d[0].contains("invalid TOML"), "{d:?}");
    }

    #[test]
    fn key_lists_match_the_structs() {
        // Every key listed as allowed must deserialize into its raw struct.
        fn doc(keys: &[&str], value: &str) -> String {
            keys.iter().map(|k| format!("{k} = {value}\n")).collect()
        }
        let _: RawStore = toml::from_str("path = \"x\"\nretention_days = 1").expect("store keys");
        let _: RawSchedule = toml::from_str(&doc(SCHEDULE_KEYS, "\"x\"")).expect("schedule keys");
        let fetch_doc = "timeout = \"1s\"\nconnect_timeout = \"1s\"\nmax_body_bytes = 1\nconcurrency = 1\n\
                         per_host_concurrency = 1\nuser_agent = \"x\"\nmax_backoff = \"1s\"\n";
        assert_eq!(fetch_doc.lines().count(), FETCH_KEYS.len());
        let _: RawFetch = toml::from_str(fetch_doc).expect("fetch keys");
        let _: RawFeed =
            toml::from_str("name = \"a\"\nurl = \"b\"\ncron = \"c\"\nenabled = true\nbackfill = 1\nfull_text = true")
                .expect("feed keys");
        let _: RawSummary = toml::from_str("max_chars = 1\nallow_private = true\n[llm]\nbase_url = \"x\"\nmodel = \"m\"\napi_key_env = \"K\"\ntimeout = \"1s\"\n")
            .expect("summary keys");
        assert_eq!((SUMMARY_KEYS.len(), LLM_KEYS.len()), (3, 4));
        let tg = "token_file = \"t\"\napi_url = \"http://x\"\naccess = \"open\"\nallow = [1]\nadmins = [2]\n\
                  per_chat_per_sec = 1\nper_group_per_min = 1\nglobal_per_sec = 1\nmax_in_flight = 1\n\
                  allow_paid_broadcast = true\n";
        assert_eq!(tg.lines().count(), TELEGRAM_KEYS.len());
        let _: RawTelegram = toml::from_str(tg).expect("telegram keys");
        assert_eq!(STORE_KEYS.len(), 2);
        assert_eq!(FEED_KEYS.len(), 6);
    }
}
