//! kkachi's integration tests: real code, a fake feed server on 127.0.0.1, temporary stores.
//! Nothing here touches the internet. What the tests share (config directories, builders,
//! the daemon as a child process, the waits) lives in `support/`.

mod cli;
mod control;
mod cluster_cli;
mod crash_loop;
mod digest;
mod fake_telegram;
mod feed_classes;
mod fold;
mod fold_eval;
mod fuzz;
mod hostile;
mod metrics;
mod opml;
mod poll;
mod rules_cli;
mod server;
mod service;
mod summary_cli;
mod summary_golden;
mod support;
mod telegram_bot;
mod telegram_send;
mod translit;

pub use support::{Env, FeedSpec, fixture, kkachi, rss, rules};
