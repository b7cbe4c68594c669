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
use kkachi::deliver::{self, Format};
use kkachi::fetch::{Fetched, Fetcher, Validators};
use kkachi::rules::{self, Doc, RuleSet};
use kkachi::story::Story;

#[derive(Parser)]
#[command(
    name = "kkachi",
    version,
    about = "Watches news feeds and alerts, once, on the stories you care about",
    after_help = "Examples:\n  kkachi run --config config/kkachi.toml\n  kkachi check && kkachi replay --since 1d"
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
    #[command(
        after_help = "Examples:\n  kkachi run --config config/kkachi.toml\n  kkachi run --once --dry-run --format json"
    )]
    Run {
        #[command(flatten)]
        config: ConfigArg,
        /// Poll every enabled feed once, deliver, and exit.
        #[arg(long)]
        once: bool,
        /// Deliver to stdout only.
        #[arg(long)]
        dry_run: bool,
        /// How alerts are printed on stdout when they are not sent to Telegram: text, or JSON
        /// lines (one object per alert).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// On SIGTERM/SIGINT, how long polls and Telegram sends in flight may take to finish
        /// (keep it below systemd's TimeoutStopSec) [default: 10s]. With --once: how long
        /// delivery may go on after the polls [default: until the outbox is empty, at most 1h].
        #[arg(long, value_parser = duration)]
        shutdown_deadline: Option<Duration>,
    },
    /// Validate the config and rules files; print every problem as FILE:LINE:COL: message.
    #[command(
        after_help = "Examples:\n  kkachi check\n  kkachi check --config /etc/kkachi/kkachi.toml"
    )]
    Check {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Feed tools.
    #[command(
        after_help = "Example:\n  kkachi feed test https://www.hani.co.kr/rss/ --format json"
    )]
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// The config's feeds: import an OPML file from another reader, export them as OPML.
    #[command(
        after_help = "Examples:\n  kkachi feeds import feedly.opml            # prints the [[feeds]] it would add\n  kkachi feeds import feedly.opml --write    # adds them to the config file\n  kkachi feeds export > kkachi.opml"
    )]
    Feeds {
        #[command(subcommand)]
        command: FeedsCommand,
    },
    /// Rule tools.
    #[command(
        after_help = "Examples:\n  kkachi rules test DeepSeek --text '딥시크, 새 모델 공개'\n  kkachi feed test feed.xml --format json | kkachi rules match"
    )]
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Summarise a text, a file (plain text or a saved HTML page) or a web page.
    #[command(
        after_help = "Examples:\n  kkachi summarize --text \"$(cat article.txt)\"\n  kkachi summarize --url https://www.khan.co.kr/article/202207300830001 --explain"
    )]
    Summarize {
        /// The text to summarise (it may start with a dash).
        #[arg(long, conflicts_with_all = ["file", "url"], allow_hyphen_values = true)]
        text: Option<String>,
        /// A file to summarise: plain text, or a saved HTML page (its article is extracted).
        #[arg(long, conflicts_with = "url")]
        file: Option<PathBuf>,
        /// A web page to fetch and summarise (public addresses only).
        #[arg(long)]
        url: Option<String>,
        #[arg(long, help = max_chars_help())]
        max_chars: Option<usize>,
        /// Print the sentences found, their scores and what was removed as boilerplate.
        #[arg(long)]
        explain: bool,
        /// Summarise as an alert of this rule query would be: the sentence carrying the terms
        /// it matches is kept (aliases as in the config's rules file).
        #[arg(long)]
        query: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// What the daemon is doing: per feed the last poll, last success, items, new, the current
    /// error and the next retry; the outbox; subscribers per rule; reloads; uptime. Asks the
    /// running daemon (its control API on [http] listen) when it holds the store, else reads
    /// the store.
    #[command(
        after_help = "Examples:\n  kkachi status\n  kkachi status --format json | jq '.feeds[] | select(.error)'"
    )]
    Status {
        #[command(flatten)]
        config: ConfigArg,
        /// Output: a table, or one JSON object.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run the current rules over the stories kept in the store and print what would have
    /// alerted, without sending (beside a running daemon too: it asks the daemon).
    #[command(
        after_help = "Examples:\n  kkachi replay --since 2d\n  kkachi replay --rule deepseek --format json | head"
    )]
    Replay {
        #[command(flatten)]
        config: ConfigArg,
        /// How far back, e.g. 7d, 12h.
        #[arg(long, default_value = "7d", value_parser = duration)]
        since: Duration,
        /// Only this rule.
        #[arg(long)]
        rule: Option<String>,
        /// Output: text, or JSON lines (alerts, and fold lines for later members of a cluster).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Fold stories into clusters (one story, however many outlets carry it) and print, per
    /// story, its cluster: a dry run of the daemon's folding on stories as JSON lines (the
    /// `feed test --format json` shape), in order. JSON: `cluster` = the input line number
    /// (counting stories from 1) of the cluster's first story, `lead` = its id, `similarity`,
    /// `tier`, `matched` (the story it joined) and `outlet` (same / other) null for a lead.
    #[command(
        after_help = "Examples:\n  kkachi feed test feeds/khan.xml --format json | kkachi cluster\n  kkachi cluster --input stories.jsonl --format text --explain"
    )]
    Cluster {
        /// JSON-lines input; `-` is stdin.
        #[arg(long, default_value = "-")]
        input: String,
        /// Output: JSON lines (one per story), or text.
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
    #[command(after_help = "Example:\n  kkachi aliases suggest Netflix --since 30d")]
    Aliases {
        #[command(subcommand)]
        command: AliasesCommand,
    },
    /// Write a commented starter config (kkachi.toml) and rules file (rules.toml) into DIR:
    /// Korean and English outlets, two example rules, every setting with its default. Refuses
    /// to overwrite either file.
    #[command(
        after_help = "Examples:\n  kkachi init ~/kkachi && kkachi check --config ~/kkachi/kkachi.toml\n  kkachi init /etc/kkachi"
    )]
    Init {
        /// The directory to write into (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print a shell completion script, e.g.
    /// `kkachi completions bash > /etc/bash_completion.d/kkachi`.
    #[command(
        after_help = "Examples:\n  kkachi completions bash > /etc/bash_completion.d/kkachi\n  kkachi completions zsh > ~/.zfunc/_kkachi"
    )]
    Completions {
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Find the feeds a site or article page offers: the ones it advertises
    /// (`<link rel="alternate" type="application/rss+xml">`, Atom, JSON Feed) and the usual
    /// paths (/rss, /feed, …), each tried with `feed test`'s parser and shown with its title
    /// and item count. Public addresses only (like article pages; `[summary] allow_private`).
    /// Exit 1 when no feed was found.
    #[command(
        after_help = "Examples:\n  kkachi feed find https://www.khan.co.kr\n  kkachi feed find https://www.hani.co.kr/arti/politics/1234.html"
    )]
    Find {
        /// The page: a site's home page or an article, http(s) (`https://` is assumed when
        /// no scheme is given).
        url: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Fetch and parse one feed (URL or file path) and print its normalised stories.
    #[command(
        after_help = "Examples:\n  kkachi feed test https://www.khan.co.kr/rss/rssdata/total_news.xml\n  kkachi feed test saved-feed.xml --format json"
    )]
    Test {
        /// The feed: an http(s) URL, or a path to a saved feed file.
        source: String,
        /// Output: text, or JSON lines (one story per line; the input `rules match` and
        /// `cluster` read).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Subcommand)]
enum FeedsCommand {
    /// Read an OPML file (Feedly, Inoreader, Miniflux, NetNewsWire… exports) and print the
    /// `[[feeds]]` tables it would add to the config: feeds already there (by address) are
    /// skipped, names are derived from the hosts and made unique. Nothing is written without
    /// --write.
    #[command(
        after_help = "Examples:\n  kkachi feeds import subscriptions.opml\n  kkachi feeds import subscriptions.opml --write --config /etc/kkachi/kkachi.toml"
    )]
    Import {
        /// The OPML file; `-` is stdin.
        file: String,
        /// Add the feeds to the config file (its comments and layout are kept; the result is
        /// checked before it replaces the file, and a running kkachi reloads it).
        #[arg(long)]
        write: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// List the config's feeds with their state (last success, current error, next retry).
    #[command(after_help = "Example:\n  kkachi feeds list")]
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Poll one feed now, ignoring its backoff, through the running daemon (its alerts go out
    /// as usual); prints what the poll found.
    #[command(after_help = "Example:\n  kkachi feeds poll yna")]
    Poll {
        /// The feed's name in the config.
        name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Print the config's feeds as an OPML 2.0 document.
    #[command(after_help = "Example:\n  kkachi feeds export > kkachi.opml")]
    Export {
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Subcommand)]
enum AliasesCommand {
    /// Find the Korean spellings of a Latin TERM in the stored stories (or in JSON lines) and
    /// print each with its count and one context, then the `[aliases]` line that adds them.
    /// Exit 1 when none was found.
    #[command(
        after_help = "Examples:\n  kkachi aliases suggest Netflix\n  kkachi feed test feed.xml --format json | kkachi aliases suggest \"Sally Rooney\" --input -"
    )]
    Suggest {
        /// The term as you would write it in a rule, e.g. Netflix or "Sally Rooney".
        term: String,
        /// How far back in the store, e.g. 30d, 12h.
        #[arg(long, default_value = "30d", value_parser = duration)]
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
    #[command(
        after_help = "Examples:\n  kkachi rules test 'OpenAI AND \"한국 기업\"' --text '오픈AI, 한국 기업들과의 협력 확대'\n  kkachi rules test 'title:딥시크' --title '딥시크 새 모델' --summary '중국 AI 기업…'"
    )]
    Test {
        /// The query, in the rules file's language (AND, OR, NOT, "phrases", field:term).
        query: String,
        /// The whole text to test against (as a story's title; it may start with a dash).
        #[arg(long, conflicts_with_all = ["title", "file"], allow_hyphen_values = true)]
        text: Option<String>,
        /// A story's title to test against (with --summary: title and summary separately).
        #[arg(long, conflicts_with = "file", allow_hyphen_values = true)]
        title: Option<String>,
        /// The story's summary (description), tested with --title.
        #[arg(long, requires = "title", allow_hyphen_values = true)]
        summary: Option<String>,
        /// A file whose text is tested.
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Read stories as JSON lines and print one JSON line per (story, rule) match.
    #[command(
        after_help = "Examples:\n  kkachi feed test feed.xml --format json | kkachi rules match\n  kkachi rules match --input stories.jsonl --config config/kkachi.toml"
    )]
    Match {
        #[command(flatten)]
        config: ConfigArg,
        /// JSON-lines input; `-` is stdin.
        #[arg(long, default_value = "-")]
        input: String,
    },
    /// List the rules file's rules, or with --personal the rules chats made with /watch
    /// (beside a running daemon too: it asks the daemon).
    #[command(
        after_help = "Examples:\n  kkachi rules list\n  kkachi rules list --personal --format json | jq '.[] | select(.paused)'"
    )]
    List {
        /// The chats' own rules (/watch) instead of the rules file's.
        #[arg(long)]
        personal: bool,
        /// Output: one rule per line (tab-separated), or one JSON array.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Remove one chat's personal rule (/watch), e.g. one its chat can no longer remove itself.
    #[command(after_help = "Examples:\n  kkachi rules remove --chat -1001234567890 deepseek")]
    Remove {
        /// The chat that owns the rule (its id, as `rules list --personal` shows it).
        #[arg(long, allow_hyphen_values = true)]
        chat: i64,
        /// The rule's name in that chat.
        name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

/// A duration argument (`7d`, `12h`, `30m`): humantime's syntax, with a hint a person can use
/// when the unit is missing (humantime suggests "7sec").
fn duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "{t} has no unit: add one, e.g. {t}d (days), {t}h (hours) or {t}m (minutes)"
        ));
    }
    humantime::parse_duration(t).map_err(|e| format!("{e} (e.g. 7d, 12h, 30m, 1h30m)"))
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
        // `kkachi replay | head`: the reader has what it wanted; nothing went wrong.
        Err(e) if closed_stdout(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            ExitCode::from(1)
        }
    }
}

/// An error and its causes on one line, each cause once: many of our errors name their cause
/// in their own message (logs show only that message), so a cause already in the text is not
/// repeated (`Address already in use (os error 98): Address already in use (os error 98)`).
fn report(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Whether `e` is a write to a stdout whose reader has gone (a closed pipe).
fn closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
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
        Command::Init { dir } => init(&dir),
        Command::Feeds {
            command:
                FeedsCommand::Import {
                    file,
                    write,
                    config,
                },
        } => feeds_import(&file, write, &config::resolve_path(config.config)),
        Command::Feeds {
            command: FeedsCommand::Export { config },
        } => feeds_export(&config::resolve_path(config.config)),
        Command::Feeds {
            command: FeedsCommand::List { config },
        } => feeds_list(&config::resolve_path(config.config)),
        Command::Feeds {
            command: FeedsCommand::Poll { name, config },
        } => feeds_poll(&name, &config::resolve_path(config.config)),
        Command::Status { config, format } => status(&config::resolve_path(config.config), format),
        Command::Feed {
            command: FeedCommand::Find { url, config },
        } => feed_find(&url, config),
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
        Command::Rules {
            command:
                RulesCommand::List {
                    personal,
                    format,
                    config,
                },
        } => rules_list(&config::resolve_path(config.config), personal, format),
        Command::Rules {
            command: RulesCommand::Remove { chat, name, config },
        } => rules_remove(&config::resolve_path(config.config), chat, &name),
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
            query,
            config,
        } => summarize(text, file, url, max_chars, explain, query, config),
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

/// The starter files of `kkachi init`: the bundled config (its store beside it) and the
/// bundled rules file's header and first two rules.
fn starter_files() -> [(&'static str, String); 2] {
    let config = include_str!("../config/kkachi.toml")
        .replace("path = \"../kkachi-data\"", "path = \"kkachi-data\"");
    let rules = include_str!("../config/rules.toml");
    let third = rules
        .match_indices("[[rules]]")
        .nth(2)
        .map_or(rules.len(), |(at, _)| at);
    let rules = format!(
        "{}# Add your own below; try a query first with: kkachi rules test 'QUERY' --text '...'\n",
        &rules[..third]
    );
    [("kkachi.toml", config), ("rules.toml", rules)]
}

fn init(dir: &std::path::Path) -> Result<ExitCode> {
    let files = starter_files();
    // Both or neither: check every target before writing any.
    for (name, _) in &files {
        let path = dir.join(name);
        if path.exists() {
            anyhow::bail!(
                "{} already exists; kkachi init does not overwrite files (move it away, or pick another directory)",
                path.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let config = dir.join("kkachi.toml");
    println!(
        "next: kkachi check --config {0}, then kkachi run --config {0} (alerts go to stdout until a \
         Telegram token is set: $TELOXIDE_TOKEN)",
        config.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The config, or every problem with it (as `check` prints them) as the error.
fn config_or_problems(path: &std::path::Path) -> Result<config::Loaded> {
    config::load(path).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid configuration:\n{}", lines.join("\n"))
    })
}

fn feeds_import(file: &str, write: bool, config_path: &std::path::Path) -> Result<ExitCode> {
    let bytes = if file == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).context("cannot read stdin")?;
        b
    } else {
        std::fs::read(file).with_context(|| format!("cannot read {file}"))?
    };
    let text = kkachi::charset::decode_feed(&bytes, None)
        .map_err(|e| match e {
            kkachi::charset::CharsetError::Unsupported { label } => {
                anyhow::anyhow!("{file}: declared in {label}, an encoding kkachi cannot read")
            }
            kkachi::charset::CharsetError::Undecodable => {
                anyhow::anyhow!(
                    "{file}: not UTF-8, and no encoding it could be read in is declared"
                )
            }
        })?
        .text;
    let opml = kkachi::opml::parse(&text).map_err(|e| anyhow::anyhow!("{file}:{e}"))?;
    let loaded = config_or_problems(config_path)?;
    let plan = config::import::plan(&loaded.config, &opml.entries);
    for s in &opml.skipped {
        eprintln!("{file}:{}: skipped: {}", s.line, s.reason);
    }
    for (line, why) in &plan.invalid {
        eprintln!("{file}:{line}: skipped: {why}");
    }
    for (line, url, name) in &plan.existing {
        eprintln!("{file}:{line}: already in the config as feed {name:?}: {url}");
    }
    if plan.add.is_empty() {
        eprintln!(
            "nothing to add: {} feeds read, every one is in {} already or was skipped",
            opml.entries.len(),
            config_path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !write {
        print!("{}", config::import::snippet(&plan.add));
        eprintln!(
            "would add {} to {} ({} already there, {} skipped); run again with --write to add them",
            feeds_word(plan.add.len()),
            config_path.display(),
            plan.existing.len(),
            plan.invalid.len() + opml.skipped.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let src = std::fs::read_to_string(config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let edited = config::import::apply(&src, &plan.add)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config_path.display()))?;
    // The edited file must load as well as the original did before it replaces it.
    let (parsed, _, diags) = config::parse(&edited, config_path);
    if parsed.is_none() {
        let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "the config with the imported feeds would not load, so {} was not changed:\n{}",
            config_path.display(),
            lines.join("\n")
        );
    }
    // Replace the file in one rename, so a watcher (a running kkachi) never reads half of it.
    let tmp = config_path.with_extension("toml.kkachi-import");
    std::fs::write(&tmp, &edited).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, config_path)
        .with_context(|| format!("cannot replace {}", config_path.display()))?;
    for p in &plan.add {
        println!("added feed {:?}: {}", p.name, p.url);
    }
    eprintln!(
        "added {} to {} ({} already there, {} skipped)",
        feeds_word(plan.add.len()),
        config_path.display(),
        plan.existing.len(),
        plan.invalid.len() + opml.skipped.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where the store is for a tool that reads it: opened here, or held by a running kkachi
/// whose control API (on `[http] listen`) is at this base URL.
enum Held {
    Here(Arc<kkachi::store::Store>),
    Daemon(String),
}

fn store_or_daemon(loaded: &config::Loaded) -> Result<Held> {
    match app::open_store(loaded) {
        Ok(store) => Ok(Held::Here(store)),
        Err(e)
            if e.downcast_ref::<kkachi::store::StoreError>()
                .is_some_and(|e| matches!(e, kkachi::store::StoreError::Locked { .. })) =>
        {
            let Some(addr) = loaded.config.http.listen else {
                anyhow::bail!(
                    "{e}; [http] is disabled in {}, so this command cannot ask the running kkachi (enable [http] to use it beside the daemon)",
                    loaded.config.path.display()
                );
            };
            // A daemon listening on every address answers on loopback too.
            let ip = match addr.ip() {
                std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
                    std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
                }
                std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
                    std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
                }
                ip => ip,
            };
            let addr = std::net::SocketAddr::new(ip, addr.port());
            tracing::debug!(%addr, "the store is held by a running kkachi; asking it");
            Ok(Held::Daemon(format!("http://{addr}")))
        }
        Err(e) => Err(e),
    }
}

/// One request to the running daemon's control API: its status and body, or why not.
fn ask_daemon(method: reqwest::Method, url: url::Url, timeout: Duration) -> Result<(u16, String)> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .context("cannot build an HTTP client")?;
    let shown = url.clone();
    runtime()?.block_on(async move {
        let resp = client.request(method, url).send().await.with_context(|| {
            format!("a kkachi holds the store, but its control API at {shown} does not answer")
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .text()
            .await
            .context("cannot read the daemon's answer")?;
        if status >= 400 {
            anyhow::bail!("the running kkachi answered {status}: {}", body.trim());
        }
        Ok((status, body))
    })
}

/// The status, from the running daemon or the store.
fn current_status(loaded: &config::Loaded) -> Result<kkachi::status::Status> {
    match store_or_daemon(loaded)? {
        Held::Here(store) => Ok(kkachi::status::build(
            &store,
            &loaded.config,
            &loaded.rules,
            None,
            chrono::Utc::now(),
        )?),
        Held::Daemon(base) => {
            let url = url::Url::parse(&format!("{base}/control/status"))?;
            let (_, body) = ask_daemon(reqwest::Method::GET, url, Duration::from_secs(30))?;
            serde_json::from_str(&body).context("the daemon's status is not the JSON expected")
        }
    }
}

fn status(config_path: &std::path::Path, format: Format) -> Result<ExitCode> {
    let loaded = app::load_config(config_path)?;
    let status = current_status(&loaded)?;
    let text = match format {
        Format::Json => serde_json::to_string(&status)? + "\n",
        Format::Text => kkachi::status::render(&status, loaded.config.schedule.timezone),
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// `kkachi rules list [--personal]`.
fn rules_list(config_path: &std::path::Path, personal: bool, format: Format) -> Result<ExitCode> {
    let loaded = app::load_config(config_path)?;
    let mut out = String::new();
    if !personal {
        let rules: Vec<serde_json::Value> = loaded
            .rules
            .rules()
            .iter()
            .map(|r| serde_json::json!({"name": r.name, "query": r.query, "description": r.description}))
            .collect();
        match format {
            Format::Json => out = serde_json::to_string(&rules)? + "\n",
            Format::Text => {
                for r in loaded.rules.rules() {
                    out.push_str(&format!("{}\t{}\n", r.name, r.query));
                }
            }
        }
    } else {
        let list: Vec<kkachi::store::personal::Owned> = match store_or_daemon(&loaded)? {
            Held::Here(store) => kkachi::store::personal::listing(&store)?,
            Held::Daemon(base) => {
                let url = url::Url::parse(&format!("{base}/control/rules/personal"))?;
                let (_, body) = ask_daemon(reqwest::Method::GET, url, Duration::from_secs(30))?;
                serde_json::from_str(&body)
                    .context("the daemon's list of personal rules is not the JSON expected")?
            }
        };
        match format {
            Format::Json => out = serde_json::to_string(&list)? + "\n",
            Format::Text => {
                for o in &list {
                    let paused = if o.rule.paused { "\tpaused" } else { "" };
                    out.push_str(&format!(
                        "{}\t{}\t{}{paused}\n",
                        o.chat, o.rule.name, o.rule.query
                    ));
                }
                if list.is_empty() {
                    eprintln!("no personal rules (chats add them with /watch)");
                }
            }
        }
    }
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// `kkachi rules remove --chat ID NAME`: exit 1 when the chat has no such rule.
fn rules_remove(config_path: &std::path::Path, chat: i64, name: &str) -> Result<ExitCode> {
    let loaded = app::load_config(config_path)?;
    let removed = match store_or_daemon(&loaded)? {
        Held::Here(store) => {
            let removed = store.remove_personal_rule(chat, name)?;
            store.flush()?;
            removed
        }
        Held::Daemon(base) => {
            let mut url = url::Url::parse(&format!("{base}/control/rules/personal/"))?;
            url.path_segments_mut()
                .map_err(|()| anyhow::anyhow!("bad control URL"))?
                .pop_if_empty()
                .push(&chat.to_string())
                .push(name);
            let (_, body) = ask_daemon(reqwest::Method::DELETE, url, Duration::from_secs(30))?;
            let v: serde_json::Value = serde_json::from_str(&body)
                .context("the daemon's answer is not the JSON expected")?;
            v["removed"].as_bool().unwrap_or(false)
        }
    };
    if removed {
        println!("removed {name} of chat {chat}");
        Ok(ExitCode::SUCCESS)
    } else {
        let left: Vec<String> = match store_or_daemon(&loaded) {
            Ok(Held::Here(store)) => store
                .personal_rules(chat)
                .map(|l| l.into_iter().map(|r| r.name).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        eprintln!(
            "error: chat {chat} has no personal rule named {name:?}{}",
            if left.is_empty() {
                " (kkachi rules list --personal lists them)".to_string()
            } else {
                format!("; its rules: {}", left.join(", "))
            }
        );
        Ok(ExitCode::from(1))
    }
}

fn feeds_list(config_path: &std::path::Path) -> Result<ExitCode> {
    let loaded = app::load_config(config_path)?;
    let status = current_status(&loaded)?;
    let tz = loaded.config.schedule.timezone;
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%m-%d %H:%M").to_string();
    let mut out = String::new();
    for f in &status.feeds {
        let state = match (&f.error, f.last_success) {
            (Some(e), _) => format!(
                "failing ({}×): {}",
                f.failures,
                kkachi::text::trim_chars(e, 100)
            ),
            (None, Some(t)) => format!("ok, last success {}", time(t)),
            (None, None) => "not polled yet".to_string(),
        };
        let retry = f
            .next_retry
            .map(|t| format!(", next retry {}", time(t)))
            .unwrap_or_default();
        let off = if f.enabled { "" } else { " (disabled)" };
        out.push_str(&format!("{}{off}\t{}\t{state}{retry}\n", f.name, f.url));
    }
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn feeds_poll(name: &str, config_path: &std::path::Path) -> Result<ExitCode> {
    let loaded = app::load_config(config_path)?;
    let base = match store_or_daemon(&loaded)? {
        Held::Daemon(base) => base,
        Held::Here(_) => anyhow::bail!(
            "kkachi is not running on {} (its store is free): start it, or poll every feed once with kkachi run --once",
            loaded.config.store.path.display()
        ),
    };
    let mut url = url::Url::parse(&format!("{base}/control/feeds/"))?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("bad control URL"))?
        .pop_if_empty()
        .push(name)
        .push("poll");
    // The daemon answers when the poll is done: a fetch, its retries and the processing.
    let limit = loaded.config.fetch.timeout * 3 + Duration::from_secs(60);
    let (_, body) = ask_daemon(reqwest::Method::POST, url, limit)?;
    let a: kkachi::http::PollAnswer =
        serde_json::from_str(&body).context("the daemon's answer is not the JSON expected")?;
    match (a.outcome.as_str(), &a.error) {
        (_, Some(e)) => {
            println!("{}: failed after {} ms: {e}", a.feed, a.ms);
            return Ok(ExitCode::from(1));
        }
        ("polled", None) => println!(
            "{}: {} items, {} new, {} alerts ({} ms)",
            a.feed,
            a.items.unwrap_or(0),
            a.new.unwrap_or(0),
            a.alerts.unwrap_or(0),
            a.ms
        ),
        (outcome, None) => println!("{}: {outcome} ({} ms)", a.feed, a.ms),
    }
    Ok(ExitCode::SUCCESS)
}

fn feeds_word(n: usize) -> String {
    if n == 1 {
        "1 feed".into()
    } else {
        format!("{n} feeds")
    }
}

fn items_word(n: usize) -> String {
    if n == 1 {
        "1 item".into()
    } else {
        format!("{n} items")
    }
}

fn feeds_export(config_path: &std::path::Path) -> Result<ExitCode> {
    let loaded = config_or_problems(config_path)?;
    let urls: Vec<(String, String)> = loaded
        .config
        .feeds
        .iter()
        .map(|f| {
            let url = match &f.source {
                config::FeedSource::Http(u) => u.to_string(),
                config::FeedSource::File(p) => format!("file://{}", p.display()),
            };
            (f.name.clone(), url)
        })
        .collect();
    let feeds: Vec<kkachi::opml::Feed<'_>> = urls
        .iter()
        .map(|(name, url)| kkachi::opml::Feed { name, url })
        .collect();
    std::io::stdout()
        .write_all(kkachi::opml::export("kkachi feeds", &feeds).as_bytes())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// A one-off tool's fetch settings and time zone: the config's, else the defaults.
fn fetch_and_zone(loaded: Option<&config::Loaded>) -> (config::FetchConfig, chrono_tz::Tz) {
    match loaded {
        Some(l) => (l.config.fetch.clone(), l.config.schedule.timezone),
        None => (
            config::FetchConfig::default(),
            config::ScheduleConfig::default().timezone,
        ),
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

fn feed_find(page: &str, config: ConfigArg) -> Result<ExitCode> {
    use kkachi::feed::discover::{self, Origin};
    let loaded = optional_config(config);
    let (fetch_cfg, tz) = fetch_and_zone(loaded.as_ref());
    let allow_private = loaded
        .as_ref()
        .is_some_and(|l| l.config.summary.allow_private);
    let raw = if page.contains("://") {
        page.to_string()
    } else {
        format!("https://{page}")
    };
    let page = url::Url::parse(&raw).with_context(|| format!("{page:?} is not a URL"))?;
    let fetcher = Fetcher::new(&fetch_cfg, allow_private)?;
    let rt = runtime()?;
    // One candidate: fetched as a page (public addresses only) and read as a feed.
    let try_feed = |url: url::Url| {
        let fetcher = &fetcher;
        async move {
            let result = match fetcher.fetch_page(&url).await {
                Ok((bytes, ct)) => {
                    kkachi::feed::parse_at("feed", &bytes, ct.as_deref(), tz, Some(&url))
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            (url, result)
        }
    };
    let (bytes, content_type) = rt
        .block_on(fetcher.fetch_page(&page))
        .with_context(|| format!("cannot fetch {page}"))?;
    // The address may be a feed already.
    if let Ok(parsed) =
        kkachi::feed::parse_at("feed", &bytes, content_type.as_deref(), tz, Some(&page))
    {
        println!(
            "{page}\t{}\t{}\t(the address itself is a feed)",
            parsed.title.as_deref().unwrap_or("(no title)"),
            items_word(parsed.stories.len())
        );
        return Ok(ExitCode::SUCCESS);
    }
    let html = kkachi::charset::decode_page(&bytes, content_type.as_deref()).text;
    let mut candidates = discover::advertised(&html, &page);
    let guesses = discover::guesses(&page, &candidates);
    candidates.extend(guesses);
    let results = rt.block_on(futures_util::future::join_all(
        candidates.iter().map(|c| try_feed(c.url.clone())),
    ));
    let mut found = 0;
    let mut guessed_misses = Vec::new();
    for (candidate, (url, result)) in candidates.iter().zip(results) {
        let origin = match candidate.origin {
            Origin::Advertised => "advertised",
            Origin::Guessed => "usual path",
        };
        match result {
            Ok(parsed) => {
                found += 1;
                let title = parsed
                    .title
                    .or_else(|| candidate.title.clone())
                    .unwrap_or_else(|| "(no title)".into());
                println!(
                    "{url}\t{title}\t{}\t({origin})",
                    items_word(parsed.stories.len())
                );
            }
            Err(e) if candidate.origin == Origin::Advertised => {
                eprintln!("{url}: advertised by the page, but not a readable feed: {e}");
            }
            Err(e) => guessed_misses.push(format!("{}: {e}", url.path())),
        }
    }
    if !guessed_misses.is_empty() {
        eprintln!(
            "tried {} usual paths on {} that are not feeds: {}",
            guessed_misses.len(),
            page.host_str().unwrap_or_default(),
            guessed_misses.join("; ")
        );
    }
    if found == 0 {
        eprintln!("no feed found for {page}");
        return Ok(ExitCode::from(1));
    }
    eprintln!(
        "add one to the config as [[feeds]] name = \"…\" url = \"…\" (or: kkachi feed test URL)"
    );
    Ok(ExitCode::SUCCESS)
}

fn feed_test(source: &str, format: Format, config: ConfigArg) -> Result<ExitCode> {
    let loaded = optional_config(config);
    let (fetch_cfg, tz) = fetch_and_zone(loaded.as_ref());
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
        story.summary = kkachi::pipeline::summarize_story(
            story,
            None,
            max_chars,
            &kkachi::summary::Terms::new(),
        );
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
    app::widen_stdout_pipe();
    let mut stdout = std::io::stdout().lock();
    // A story's lines are assembled here and written out in blocks of 256 KiB or more (a
    // quarter of the widened pipe: fewer wakeups of the reader than 64 KiB blocks, less of the
    // core's cache flushed by each copy into the kernel than 1 MiB blocks).
    const BLOCK: usize = 1 << 18;
    let mut out: Vec<u8> = Vec::with_capacity(2 * BLOCK);
    let mut bad = 0usize;
    // One matcher for the whole input: it reuses its scratch between stories.
    let mut matcher = loaded.rules.matcher();
    // One line buffer, read as bytes (a line that is not UTF-8 is a bad line, not an IO error).
    let mut line = Vec::new();
    let mut head = Vec::new();
    let pieces = MatchPieces::new(&loaded.rules)?;
    for n in 1.. {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("{input}:{n}: cannot read"))?;
        if read == 0 {
            break;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        // The line's UTF-8 is checked once here (SIMD), and the parser then reads it as a
        // `str` (serde_json's `StrRead` does not check each string again, as `from_slice`
        // does with std's byte-at-a-time check of multi-byte text).
        // A line that is not UTF-8 goes through `from_slice`, for the error message it gave.
        let parsed = match simdutf8::basic::from_utf8(&line) {
            Ok(json) => {
                // Blank but for Unicode whitespace (never in practice): skipped, as
                // `str::trim` did.
                if text[0] >= 0x80 && json.trim().is_empty() {
                    continue;
                }
                serde_json::from_str::<StoryLine>(json)
            }
            Err(_) => serde_json::from_slice::<StoryLine>(&line),
        };
        let story = match parsed {
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
        // the id is escaped once per story, terms and rule names once per run.
        let matches = matcher.match_ids(&doc);
        if matches.is_empty() {
            continue;
        }
        // `{"id":ID,"matched":[`, the same for every match of the story.
        head.clear();
        head.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut head, &*story.id)?;
        head.extend_from_slice(b",\"matched\":[");
        pieces.touch(&matches);
        for m in matches.iter() {
            out.extend_from_slice(&head);
            let ids = m.term_ids();
            if ids.is_empty() {
                // The naive evaluator's matches carry their terms as strings.
                for (i, term) in m.terms().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut out, term)?;
                }
            } else {
                for (i, &t) in ids.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(pieces.term(t));
                }
            }
            out.extend_from_slice(pieces.tail(m.rule_index()));
        }
        if out.len() >= BLOCK {
            stdout.write_all(&out)?;
            out.clear();
        }
    }
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `rules match` writes for each match, escaped once for the whole run: each rule's
/// `],"rule":NAME}` line end and each term's JSON string, each kind in one buffer
/// (`rules::Texts`). A story's hundreds of lines at 100,000 rules then read a few megabytes of
/// two buffers, not a heap allocation per rule and term (whose cache misses were most of the
/// writing's cost).
struct MatchPieces {
    tails: kkachi::rules::Texts,
    terms: kkachi::rules::Texts,
}

impl MatchPieces {
    fn new(rules: &kkachi::rules::RuleSet) -> Result<MatchPieces> {
        let mut p = MatchPieces {
            tails: kkachi::rules::Texts::default(),
            terms: kkachi::rules::Texts::default(),
        };
        for rule in rules.rules() {
            let name = serde_json::to_string(&rule.name)?;
            p.tails.push(&format!("],\"rule\":{name}}}\n"));
        }
        for t in 0..rules.term_count() {
            p.terms
                .push(&serde_json::to_string(rules.term(u32::try_from(t)?))?);
        }
        Ok(p)
    }

    fn tail(&self, rule: usize) -> &[u8] {
        self.tails.get_bytes(rule)
    }

    fn term(&self, t: u32) -> &[u8] {
        self.terms.get_bytes(t as usize)
    }

    /// Prefetches every piece the story's matches will write, first the offsets, then the
    /// bytes, so that their cache misses overlap instead of stalling each write in turn.
    fn touch(&self, matches: &kkachi::rules::Matches<'_>) {
        for m in matches.iter() {
            self.tails.prefetch_offset(m.rule_index());
            if let Some(&t) = m.term_ids().first() {
                self.terms.prefetch_offset(t as usize);
            }
        }
        for m in matches.iter() {
            self.tails.prefetch_text(m.rule_index());
            if let Some(&t) = m.term_ids().first() {
                self.terms.prefetch_text(t as usize);
            }
        }
    }
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
    let store = match store_or_daemon(&loaded)? {
        Held::Here(store) => store,
        Held::Daemon(base) => {
            let mut url = url::Url::parse(&format!("{base}/control/replay"))?;
            url.query_pairs_mut()
                .append_pair("since", &since.as_secs().to_string())
                .append_pair(
                    "format",
                    match format {
                        Format::Json => "json",
                        Format::Text => "text",
                    },
                );
            if let Some(rule) = rule {
                url.query_pairs_mut().append_pair("rule", rule);
            }
            let (_, body) = ask_daemon(reqwest::Method::GET, url, Duration::from_secs(300))?;
            std::io::stdout()
                .write_all(body.as_bytes())
                .context("cannot write to stdout")?;
            tracing::info!("replay done by the running daemon (nothing was sent)");
            return Ok(ExitCode::SUCCESS);
        }
    };
    let count = kkachi::replay::replay(
        &store,
        &loaded.config,
        &loaded.rules,
        kkachi::replay::Query {
            since,
            rule,
            format,
        },
        chrono::Utc::now(),
        &mut std::io::stdout().lock(),
    )?;
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
    query: Option<String>,
    config: ConfigArg,
) -> Result<ExitCode> {
    use kkachi::summary;
    let loaded = optional_config(config);
    if let Some(q) = &query
        && let Err(e) = rules::check_query(q)
    {
        anyhow::bail!("--query: {e}\n{}", e.caret(q));
    }
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
    let terms = match &query {
        Some(q) => query_terms(q, &input, loaded.as_ref())?,
        None => summary::Terms::new(),
    };
    let options = summary::Options {
        terms,
        ..Default::default()
    };
    let explanation = summary::explain_with(&input, max_chars, &options);
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
            let terms = match (&query, s.terms) {
                (Some(_), n) if n > 0 => format!("  [{n} matched]"),
                _ => String::new(),
            };
            writeln!(
                out,
                "  {} {:.3}  {}{terms}",
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

/// The terms `query` matches in the text to summarise, as an alert's rule hits give them; none
/// (with a note) when the query does not match it.
fn query_terms(
    query: &str,
    input: &kkachi::summary::SummaryInput,
    loaded: Option<&config::Loaded>,
) -> Result<kkachi::summary::Terms> {
    let empty;
    let aliases_from = match loaded {
        Some(l) => &l.rules,
        None => {
            empty = rules::RuleSet::empty();
            &empty
        }
    };
    let doc = rules::Doc {
        feed: "",
        title: input.title,
        summary: input.description,
        content: input.article.unwrap_or(""),
    };
    let report = rules::test_query(query, aliases_from, &doc)
        .map_err(|e| anyhow::anyhow!("--query: {e}\n{}", e.caret(query)))?;
    let mut terms = kkachi::summary::Terms::new();
    if !report.matched {
        eprintln!("note: the query does not match this text; summarising without terms");
        return Ok(terms);
    }
    for hit in &report.hits {
        let via = (hit.source != rules::Source::Written).then(|| rules::Via {
            term: hit.term.clone(),
            form: hit.form.clone(),
            source: hit.source,
        });
        terms.add(&hit.term, via.as_ref());
    }
    Ok(terms)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command, and every command under it (`kkachi`, `kkachi rules`, `kkachi rules test`…).
    fn commands(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
        out.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands() {
            commands(sub, format!("{path} {}", sub.get_name()), out);
        }
    }

    /// `--help` explains every argument and ends with examples (issue 17): a new argument or
    /// command without them fails here, naming it.
    #[test]
    fn every_argument_has_a_description_and_every_command_examples() {
        let mut all = Vec::new();
        commands(&Cli::command(), "kkachi".into(), &mut all);
        let mut missing = Vec::new();
        for (path, cmd) in &all {
            if cmd.get_name() == "help" {
                continue;
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path}: argument {id} has no description"));
                }
            }
            let after = cmd
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            if !after.starts_with("Example") {
                missing.push(format!("{path}: no examples after its help"));
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn a_duration_without_a_unit_suggests_days_and_hours() {
        let e = duration("7").expect_err("no unit");
        assert!(e.contains("7d (days)") && e.contains("7h (hours)"), "{e}");
        assert!(!e.contains("sec"), "{e}");
        assert_eq!(duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let text = io.to_string();
        let e = anyhow::Error::new(io).context(format!("cannot listen on 127.0.0.1:9000: {text}"));
        assert_eq!(
            report(&e),
            format!("cannot listen on 127.0.0.1:9000: {text}")
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(report(&e), "outer: inner");
    }
}
