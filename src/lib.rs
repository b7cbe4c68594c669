//! kkachi: a media-monitoring alert daemon.
//!
//! ```text
//! scheduler ─▶ fetch ─▶ feed (decode, parse, normalise) ─▶ store (dedup) ─▶ rules (match)
//!           ─▶ summary ─▶ store (outbox) ─▶ telegram (send) | deliver (console)
//! telegram (bot: commands, subscriptions) ─▶ store
//! config (load, validate) ─▶ all
//! ```
//!
//! Modules in reading order (see ARCHITECTURE.md). `diag`, `charset`, `html`, `text`, `story`,
//! `feed`, `rules`, `fold` and `summary` are pure (no IO, no `.await`); `fetch` is the only user of
//! reqwest, `store` of sled, `telegram` of teloxide.

pub mod diag;
pub mod charset;
pub mod html;
pub mod text;
pub mod story;
pub mod feed;
pub mod opml;
pub mod rules;
pub mod summary;
pub mod fold;
pub mod cluster;
pub mod config;
pub mod scheduler;
pub mod fetch;
pub mod store;
pub mod deliver;
pub mod digest;
pub mod metrics;
pub mod http;
pub mod telegram;
pub mod systemd;
pub mod watch;
pub mod pipeline;
pub mod replay;
pub mod status;
pub mod app;
