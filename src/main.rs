//! The `kkachi` command line: argument parsing, logging set-up, exit codes. Everything else is
//! in the library.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use kkachi::app::{self, RunOptions};
use kkachi::config::{self, FeedSource};
use kkachi::deliver::{self, Admission, Alert, Delivery, Format, Prepared};
use kkachi::fetch::{Fetched, Fetcher, Validators};
use kkachi::rules::{self, Doc, RuleSet};
use kkachi::story::Story;

#[derive(Parser)]
#[command(
    name = "kkachi",
    version,
    about = "Watches news feeds and alerts, once, on the stories you care about"
)]
struct Cli {
    /// Log format on stderr (filter with RUST_LOG, e.g. RUST_LOG=kkachi=debug).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Clone)]
struct ConfigArg {
    /// Config file [default: $KKACHI_CONFIG, else config/kkachi.toml]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: poll feeds on their schedules and alert on matching stories.
    Run {
        #[command(flatten)]
        config: ConfigArg,
        /// Poll every enabled feed once, deliver, and exit.
        #[arg(long)]
        once: bool,
        /// Deliver to stdout only.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// On SIGTERM/SIGINT, how long polls and Telegram sends in flight may take to finish
        /// (keep it below systemd's TimeoutStopSec) [default: 10s]. With --once: how long
        /// delivery may go on after the polls [default: until the outbox is empty, at most 1h].
        #[arg(long, value_parser = humantime::parse_duration)]
        shutdown_deadline: Option<Duration>,
    },
    /// Validate the config and rules files; print every problem as FILE:LINE:COL: message.
    Check {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Feed tools.
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// Rule tools.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Summarise a text, a file (plain text or a saved HTML page) or a web page.
    Summarize {
        #[arg(long, conflicts_with_all = ["file", "url"])]
        text: Option<String>,
        #[arg(long, conflicts_with = "url")]
        file: Option<PathBuf>,
        #[arg(long)]
        url: Option<String>,
        #[arg(long, help = max_chars_help())]
        max_chars: Option<usize>,
        /// Print the sentences found, their scores and what was removed as boilerplate.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Run the current rules over the stories kept in the store and print what would have
    /// alerted, without sending.
    Replay {
        #[command(flatten)]
        config: ConfigArg,
        /// How far back, e.g. 7d, 12h.
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        since: Duration,
        /// Only this rule.
        #[arg(long)]
        rule: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Fold stories into clusters (one story, however many outlets carry it) and print, per
    /// story, its cluster: a dry run of the daemon's folding on stories as JSON lines (the
    /// `feed test --format json` shape), in order. JSON: `cluster` = the input line number
    /// (counting stories from 1) of the cluster's first story, `lead` = its id, `similarity`,
    /// `tier`, `matched` (the story it joined) and `outlet` (same / other) null for a lead.
    Cluster {
        /// JSON-lines input; `-` is stdin.
        #[arg(long, default_value = "-")]
        input: String,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Show the shingle overlap behind each join.
        #[arg(long)]
        explain: bool,
        /// Also fold the same event written up differently (`[fold] events = true`).
        #[arg(long)]
        events: bool,
    },
    /// Alias tools.
    Aliases {
        #[command(subcommand)]
        command: AliasesCommand,
    },
    /// Print a shell completion script, e.g.
    /// `kkachi completions bash > /etc/bash_completion.d/kkachi`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Fetch and parse one feed (URL or file path) and print its normalised stories.
    Test {
        source: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Subcommand)]
enum AliasesCommand {
    /// Find the Korean spellings of a Latin TERM in the stored stories (or in JSON lines) and
    /// print each with its count and one context, then the `[aliases]` line that adds them.
    /// Exit 1 when none was found.
    Suggest {
        /// The term as you would write it in a rule, e.g. Netflix or "Sally Rooney".
        term: String,
        /// How far back in the store, e.g. 30d, 12h.
        #[arg(long, default_value = "30d", value_parser = humantime::parse_duration)]
        since: Duration,
        /// Stories as JSON lines (`feed test --format json`); `-` is stdin. The store is not
        /// read unless --store is given too.
        #[arg(long)]
        input: Option<String>,
        /// The store directory [default: the config's [store] path].
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
        /// Words to show at most.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Test one query against a text; exit 0 on a match, 1 on no match, 2 on an error.
    Test {
        query: String,
        /// The whole text to test against (as a story's title).
        #[arg(long, conflicts_with_all = ["title", "file"])]
        text: Option<String>,
        #[arg(long, conflicts_with = "file")]
        title: Option<String>,
        #[arg(long, requires = "title")]
        summary: Option<String>,
        /// A file whose text is tested.
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Read stories as JSON lines and print one JSON line per (story, rule) match.
    Match {
        #[command(flatten)]
        config: ConfigArg,
        /// JSON-lines input; `-` is stdin.
        #[arg(long, default_value = "-")]
        input: String,
    },
}

/// `summarize --max-chars`: the default comes from `[summary]`'s own.
fn max_chars_help() -> String {
    format!(
        "Longest summary in characters [default: [summary] max_chars, else {}]",
        config::SummaryConfig::default().max_chars
    )
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: the journal and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Run {
            config,
            once,
            dry_run,
            format,
            shutdown_deadline,
        } => {
            let loaded = app::load_config(&config::resolve_path(config.config))?;
            let opts = RunOptions {
                once,
                dry_run,
                format,
                shutdown_deadline: shutdown_deadline.unwrap_or(app::SHUTDOWN_DEADLINE),
                once_deadline: shutdown_deadline,
            };
            // `run` logs the `--once` summary itself (it knows what was delivered).
            runtime()?.block_on(async {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                app::forward_signals(tx)?;
                app::run(loaded, opts, rx).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "kkachi", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config } => Ok(check(&config::resolve_path(config.config))),
        Command::Feed {
            command:
                FeedCommand::Test {
                    source,
                    format,
                    config,
                },
        } => feed_test(&source, format, config),
        Command::Rules {
            command:
                RulesCommand::Test {
                    query,
                    text,
                    title,
                    summary,
                    file,
                    config,
                },
        } => Ok(rules_test(&query, text, title, summary, file, config)),
        Command::Rules {
            command: RulesCommand::Match { config, input },
        } => rules_match(config, &input),
        Command::Replay {
            config,
            since,
            rule,
            format,
        } => replay(config, since, rule.as_deref(), format),
        Command::Cluster {
            input,
            format,
            explain,
            events,
        } => cluster(&input, format, explain, events),
        Command::Aliases {
            command:
                AliasesCommand::Suggest {
                    term,
                    since,
                    input,
                    store,
                    limit,
                    config,
                },
        } => aliases_suggest(&term, since, input.as_deref(), store, limit, config),
        Command::Summarize {
            text,
            file,
            url,
            max_chars,
            explain,
            config,
        } => summarize(text, file, url, max_chars, explain, config),
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    match config::load(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("{w}");
            }
            println!(
                "{}: ok ({} feeds, {} rules)",
                path.display(),
                loaded.config.feeds.len(),
                loaded.rules.rules().len()
            );
            ExitCode::SUCCESS
        }
        Err(diags) => {
            for d in &diags {
                println!("{d}");
            }
            ExitCode::from(1)
        }
    }
}

/// The config if it loads; tools that work without one fall back to defaults.
fn optional_config(arg: ConfigArg) -> Option<config::Loaded> {
    let path = config::resolve_path(arg.config.clone());
    match config::load(&path) {
        Ok(l) => Some(l),
        Err(diags) => {
            if arg.config.is_some() || path.exists() {
                tracing::warn!(config = %path.display(), problems = diags.len(), "config not usable; using defaults");
            }
            None
        }
    }
}

fn feed_test(source: &str, format: Format, config: ConfigArg) -> Result<ExitCode> {
    let loaded = optional_config(config);
    let fetch_cfg = loaded
        .as_ref()
        .map_or_else(config::FetchConfig::default, |l| l.config.fetch.clone());
    let tz = loaded.as_ref().map_or_else(
        || config::ScheduleConfig::default().timezone,
        |l| l.config.schedule.timezone,
    );
    let cwd = std::env::current_dir().unwrap_or_default();
    let src = FeedSource::parse(source, &cwd).map_err(anyhow::Error::msg)?;
    let name = match &src {
        FeedSource::Http(u) => u.host_str().unwrap_or("feed").to_string(),
        FeedSource::File(p) => p
            .file_stem()
            .map_or("feed".into(), |s| s.to_string_lossy().into_owned()),
    };
    let fetcher = Fetcher::new(&fetch_cfg, false)?;
    let fetched = runtime()?
        .block_on(fetcher.fetch(&src, &Validators::default()))
        .with_context(|| format!("cannot fetch {src}"))?;
    let Fetched::Body {
        bytes,
        content_type,
        ..
    } = fetched
    else {
        anyhow::bail!("{src}: the server answered 304 Not Modified to a plain GET");
    };
    let url = match &src {
        FeedSource::Http(url) => Some(url),
        FeedSource::File(_) => None,
    };
    let parsed = kkachi::feed::parse_at(&name, &bytes, content_type.as_deref(), tz, url)
        .with_context(|| format!("cannot parse {src}"))?;
    for warning in &parsed.warnings {
        eprintln!("warning: {src}: {warning}");
    }
    let mut stories = parsed.stories;
    // The summary alerts would carry.
    let max_chars = loaded.as_ref().map_or_else(
        || config::SummaryConfig::default().max_chars,
        |l| l.config.summary.max_chars,
    );
    for story in &mut stories {
        story.summary = kkachi::pipeline::summarize_story(story, None, max_chars);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for story in &stories {
        match format {
            Format::Json => writeln!(out, "{}", serde_json::to_string(story)?)?,
            Format::Text => write!(out, "{}", deliver::render_story_text(story, tz))?,
        }
    }
    tracing::info!(stories = stories.len(), bytes = bytes.len(), "parsed {src}");
    Ok(ExitCode::SUCCESS)
}

fn rules_test(
    query: &str,
    text: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    file: Option<PathBuf>,
    config: ConfigArg,
) -> ExitCode {
    let (title, summary) = match (text, title, file) {
        (Some(t), _, _) => (t, String::new()),
        (_, Some(t), _) => (t, summary.unwrap_or_default()),
        (_, _, Some(f)) => match std::fs::read_to_string(&f) {
            Ok(t) => (t, String::new()),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", f.display());
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("error: give the text to test with --text, --title [--summary] or --file");
            return ExitCode::from(2);
        }
    };
    let rules = optional_config(config).map_or_else(|| Arc::new(RuleSet::empty()), |l| l.rules);
    let doc = Doc {
        feed: "",
        title: &title,
        summary: &summary,
        content: "",
    };
    // The same warnings `check` gives for a query in rules.toml (lowercase operators, …).
    for w in rules::check_query(query).unwrap_or_default() {
        eprintln!(
            "warning: column {}: {}\n{}",
            w.column,
            w.message,
            rules::caret_line(query, w.column)
        );
    }
    match rules::test_query(query, &rules, &doc) {
        Err(e) => {
            eprintln!("error: {e}\n{}", e.caret(query));
            ExitCode::from(2)
        }
        Ok(report) => {
            println!(
                "{}",
                if report.matched {
                    "matched"
                } else {
                    "no match"
                }
            );
            for hit in &report.hits {
                println!("  {} in {}: {}", hit.term, hit.field, hit.context);
                if hit.source != rules::Source::Written {
                    println!("    as {} ({})", hit.form, hit.source);
                }
            }
            if report.matched {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// A `rules match` input line: the [`Story`] fields, with the text the matcher reads borrowed
/// from the line (copied only where it has JSON escapes). Checked as strictly as [`Story`]
/// (same fields, types and error messages), without building one.
#[derive(serde::Deserialize)]
#[serde(rename = "Story")]
struct StoryLine<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    feed: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    title: std::borrow::Cow<'a, str>,
    #[serde(borrow, rename = "url")]
    _url: std::borrow::Cow<'a, str>,
    #[serde(rename = "published")]
    _published: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(borrow, default)]
    summary: std::borrow::Cow<'a, str>,
    #[serde(default, rename = "authors")]
    _authors: Vec<std::borrow::Cow<'a, str>>,
    #[serde(default, rename = "categories")]
    _categories: Vec<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<std::borrow::Cow<'a, str>>,
}

fn rules_match(config: ConfigArg, input: &str) -> Result<ExitCode> {
    let loaded = app::load_config(&config::resolve_path(config.config))?;
    let mut reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(input).with_context(|| format!("cannot open {input}"))?,
        ))
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut bad = 0usize;
    // One matcher for the whole input: it reuses its scratch between stories.
    let mut matcher = loaded.rules.matcher();
    // One line buffer, read as bytes: the JSON parser checks the UTF-8 of what it reads.
    let mut line = Vec::new();
    let mut id = Vec::new();
    for n in 1.. {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("{input}:{n}: cannot read"))?;
        if read == 0 {
            break;
        }
        let text = line.trim_ascii();
        // Blank, or (never in practice) only Unicode whitespace: skipped, as `str::trim` did.
        if text.is_empty()
            || (text[0] >= 0x80 && std::str::from_utf8(text).is_ok_and(|t| t.trim().is_empty()))
        {
            continue;
        }
        let story: StoryLine = match serde_json::from_slice(&line) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{input}:{n}: not a story JSON line: {e}");
                bad += 1;
                continue;
            }
        };
        let doc = Doc {
            feed: &story.feed,
            title: &story.title,
            summary: &story.summary,
            content: story.content.as_deref().unwrap_or(""),
        };
        // `{"id":…,"matched":[…],"rule":…}`: the keys in the order `serde_json::json!` gave;
        // the id is escaped once per story, not once per match.
        let matches = matcher.match_ids(&doc);
        if matches.is_empty() {
            continue;
        }
        id.clear();
        serde_json::to_writer(&mut id, &*story.id)?;
        for m in matches.iter() {
            out.write_all(b"{\"id\":")?;
            out.write_all(&id)?;
            out.write_all(b",\"matched\":[")?;
            for (i, term) in m.terms().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut out, term)?;
            }
            out.write_all(b"],\"rule\":")?;
            serde_json::to_writer(&mut out, m.rule())?;
            out.write_all(b"}\n")?;
        }
    }
    out.flush()?;
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn replay(
    config: ConfigArg,
    since: Duration,
    rule: Option<&str>,
    format: Format,
) -> Result<ExitCode> {
    let loaded = app::load_config(&config::resolve_path(config.config))?;
    if let Some(rule) = rule
        && !loaded.rules.rules().iter().any(|r| r.name == rule)
    {
        anyhow::bail!(
            "no rule named {rule:?} in {}",
            loaded.config.rules_path.display()
        );
    }
    let store = app::open_store(&loaded)?;
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(since).unwrap_or_default();
    let delivery = Delivery::Console(deliver::Console {
        format,
        timezone: loaded.config.schedule.timezone,
    });
    let mut matcher = loaded.rules.matcher();
    let stories: Vec<Story> = store
        .stories_since(cutoff)?
        .into_iter()
        .map(|stored| stored.story)
        .collect();
    let mut prepared = Prepared::new();
    for (i, story) in stories.iter().enumerate() {
        let matches: Vec<kkachi::rules::RuleMatch> = matcher
            .match_doc(&kkachi::pipeline::doc(story))
            .iter()
            .filter(|m| rule.is_none_or(|r| m.rule == r))
            .cloned()
            .collect();
        if matches.is_empty() {
            continue;
        }
        let summary =
            kkachi::pipeline::summarize_story(story, None, loaded.config.summary.max_chars);
        prepared.insert(i, Alert::matched(story, &matches, summary));
    }
    let count = delivery
        .admit(
            &store,
            &loaded.rules,
            "replay",
            &stories,
            &prepared,
            Admission::Stored {
                now: chrono::Utc::now(),
            },
        )?
        .alerts;
    tracing::info!(alerts = count, "replay done (nothing was sent)");
    Ok(ExitCode::SUCCESS)
}

fn aliases_suggest(
    term: &str,
    since: Duration,
    input: Option<&str>,
    store: Option<PathBuf>,
    limit: usize,
    config: ConfigArg,
) -> Result<ExitCode> {
    let Some(mut finder) = rules::suggest::Finder::new(term) else {
        anyhow::bail!(
            "{term:?}: only Latin names of {} letters or more (not acronyms) have Korean spellings to look for",
            rules::translit::MIN_LETTERS
        );
    };
    let mut stories = 0usize;
    let mut add = |story: &Story| {
        stories += 1;
        finder.add(&story.title);
        finder.add(&story.summary);
        if let Some(c) = &story.content {
            finder.add(c);
        }
    };
    if let Some(input) = input {
        let reader: Box<dyn BufRead> = if input == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(input).with_context(|| format!("cannot open {input}"))?,
            ))
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("{input}:{}: cannot read", n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let story: Story = serde_json::from_str(&line)
                .with_context(|| format!("{input}:{}: not a story JSON line", n + 1))?;
            add(&story);
        }
    }
    if input.is_none() || store.is_some() {
        let store = match store {
            Some(path) => kkachi::store::Store::open(&path)
                .with_context(|| format!("cannot open the store {}", path.display()))?,
            None => {
                let loaded = app::load_config(&config::resolve_path(config.config))?;
                kkachi::store::Store::open(&loaded.config.store.path).with_context(|| {
                    format!(
                        "cannot open the store {}",
                        loaded.config.store.path.display()
                    )
                })?
            }
        };
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(since).unwrap_or_default();
        for stored in store.stories_since(cutoff)? {
            add(&stored.story);
        }
    }
    let found = finder.finish();
    if found.is_empty() {
        eprintln!("no Korean spelling of {term:?} found in {stories} stories");
        return Ok(ExitCode::from(1));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let shown = &found[..found.len().min(limit)];
    for s in shown {
        writeln!(
            out,
            "{:>6}  {}  ({})  {}",
            s.count, s.word, s.likeness, s.context
        )?;
    }
    let words: Vec<&str> = shown.iter().map(|s| s.word.as_str()).collect();
    writeln!(
        out,
        "\n[aliases]\n{}",
        rules::suggest::toml_line(term, &words)
    )?;
    tracing::info!(stories, words = found.len(), "suggestions for {term}");
    Ok(ExitCode::SUCCESS)
}

fn summarize(
    text: Option<String>,
    file: Option<PathBuf>,
    url: Option<String>,
    max_chars: Option<usize>,
    explain: bool,
    config: ConfigArg,
) -> Result<ExitCode> {
    use kkachi::summary;
    let loaded = optional_config(config);
    let max_chars = max_chars.unwrap_or_else(|| {
        loaded.as_ref().map_or_else(
            || config::SummaryConfig::default().max_chars,
            |l| l.config.summary.max_chars,
        )
    });
    // A page (fetched or saved) goes through the same article extraction as `full_text` feeds.
    let page = |bytes: &[u8], content_type: Option<&str>, url: Option<&str>| -> (String, String) {
        let html = summary::decode_html(bytes, content_type);
        match summary::extract_article(&html, url) {
            Some(a) => (a.title, a.text),
            None => (String::new(), summary::html_to_text(&html)),
        }
    };
    let (title, body, is_article) = match (text, file, url) {
        (Some(t), _, _) => (String::new(), t, false),
        (_, Some(f), _) => {
            let bytes =
                std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
            let head =
                String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
            if head.contains("<html") || head.contains("<body") || head.contains("<!doctype html") {
                let (t, b) = page(&bytes, None, None);
                (t, b, true)
            } else {
                (
                    String::new(),
                    summary::decode_html(&bytes, Some("text/plain")),
                    false,
                )
            }
        }
        (_, _, Some(u)) => {
            let parsed = url::Url::parse(&u).with_context(|| format!("not a URL: {u}"))?;
            let fetch_cfg = loaded
                .as_ref()
                .map_or_else(config::FetchConfig::default, |l| l.config.fetch.clone());
            let allow_private = loaded
                .as_ref()
                .is_some_and(|l| l.config.summary.allow_private);
            let fetcher = Fetcher::new(&fetch_cfg, allow_private)?;
            let (bytes, content_type) = runtime()?
                .block_on(fetcher.fetch_page(&parsed))
                .with_context(|| format!("cannot fetch {u}"))?;
            let (t, b) = page(&bytes, content_type.as_deref(), Some(&u));
            (t, b, true)
        }
        _ => anyhow::bail!("give the text to summarise with --text, --file or --url"),
    };
    let input = if is_article {
        summary::SummaryInput {
            title: &title,
            description: "",
            content: None,
            article: Some(&body),
        }
    } else {
        summary::SummaryInput {
            title: "",
            description: &body,
            content: None,
            article: None,
        }
    };
    let explanation = summary::explain(&input, max_chars);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if explain {
        writeln!(
            out,
            "source: {}",
            if explanation.source.is_empty() {
                "none"
            } else {
                explanation.source
            }
        )?;
        if let Some(f) = explanation.fallback {
            writeln!(out, "fallback: {f}")?;
        }
        writeln!(out, "sentences:")?;
        for s in &explanation.sentences {
            writeln!(
                out,
                "  {} {:.3}  {}",
                if s.chosen { "*" } else { " " },
                s.score,
                s.text
            )?;
        }
        writeln!(out, "removed:")?;
        for r in &explanation.removed {
            writeln!(out, "  [{}] {}", r.reason, r.text)?;
        }
        writeln!(out, "summary:")?;
    }
    writeln!(out, "{}", explanation.summary)?;
    Ok(ExitCode::SUCCESS)
}

/// `kkachi cluster`: every line is read and checked before anything is printed, so bad input
/// (exit 2, every bad line named) never leaves a half-printed result.
fn cluster(input: &str, format: Format, explain: bool, events: bool) -> Result<ExitCode> {
    use kkachi::cluster;
    let text = if input == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
            .map(|_| text)
            .map_err(|e| format!("stdin: cannot read: {e}"))
    } else {
        std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let name = if input == "-" { "stdin" } else { input };
    let mut stories = Vec::new();
    let mut bad = 0usize;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Story>(line) {
            Ok(s) => stories.push(s),
            Err(e) => {
                eprintln!("error: {name}:{}: not a story JSON line: {e}", n + 1);
                bad += 1;
            }
        }
    }
    if bad > 0 {
        eprintln!("error: {bad} bad line(s) in {name}; nothing folded");
        return Ok(ExitCode::from(2));
    }
    let settings = kkachi::fold::Settings { events };
    let folded = cluster::fold_stories(&stories, settings);
    match print_clusters(&stories, &folded, format, explain) {
        // `kkachi cluster | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

fn print_clusters(
    stories: &[Story],
    folded: &[kkachi::cluster::Folded],
    format: Format,
    explain: bool,
) -> std::io::Result<()> {
    use kkachi::cluster;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if format == Format::Text {
        writeln!(
            out,
            "{:>5} {:>7} {:>5} {:>5} {:<5} {:<5} {:<20} title",
            "#", "cluster", "match", "sim", "tier", "outl", "feed"
        )?;
    }
    for (i, (story, f)) in stories.iter().zip(folded).enumerate() {
        let lead = &stories[f.lead];
        let tier = f.join.as_ref().map(|j| match j.verdict.tier {
            kkachi::fold::Tier::Copy => "copy",
            kkachi::fold::Tier::Event => "event",
        });
        let outlet = f
            .join
            .as_ref()
            .map(|j| if j.same_outlet { "same" } else { "other" });
        let explained = f.join.as_ref().filter(|_| explain).map(|j| {
            kkachi::fold::explain(&cluster::doc(story), &cluster::doc(&stories[j.matched]))
        });
        match format {
            Format::Json => {
                let mut line = serde_json::json!({
                    "id": story.id,
                    "cluster": f.lead + 1,
                    "lead": lead.id,
                    // Three decimals: the f32 score widened to f64 would print its noise.
                    "similarity": f.join.as_ref().map(|j| {
                        (f64::from(cluster::similarity(&j.verdict)) * 1000.0).round() / 1000.0
                    }),
                    "tier": tier,
                    "matched": f.join.as_ref().map(|j| &stories[j.matched].id),
                    "outlet": outlet,
                });
                if let Some(x) = &explained {
                    line["explain"] = serde_json::Value::from(x.as_str());
                }
                writeln!(out, "{line}")?;
            }
            Format::Text => {
                let (matched, sim) =
                    f.join
                        .as_ref()
                        .map_or(("-".to_string(), "-".to_string()), |j| {
                            (
                                (j.matched + 1).to_string(),
                                format!("{:.2}", cluster::similarity(&j.verdict)),
                            )
                        });
                let feed: String = story.feed.chars().take(20).collect();
                writeln!(
                    out,
                    "{:>5} {:>7} {:>5} {:>5} {:<5} {:<5} {:<20} {}",
                    i + 1,
                    f.lead + 1,
                    matched,
                    sim,
                    tier.unwrap_or("-"),
                    outlet.unwrap_or("-"),
                    feed,
                    story.title
                )?;
                if let Some(x) = &explained {
                    for l in x.lines() {
                        writeln!(out, "{:>13}{l}", "")?;
                    }
                }
            }
        }
    }
    out.flush()
}
