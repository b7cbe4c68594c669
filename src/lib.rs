//! kkachi: a media-monitoring alert daemon.
//!
//! ```text
//! scheduler ─▶ fetch ─▶ feed (decode, parse, normalise) ─▶ store (dedup) ─▶ rules (match)
//!           ─▶ deliver (console)
//! config (load, validate) ─▶ all
//! ```
//!
//! Modules in reading order. `diag`, `story`, `feed` and `rules` are pure (no IO, no `.await`).

pub mod app;
pub mod config;
pub mod deliver;
pub mod diag;
pub mod feed;
pub mod fetch;
pub mod pipeline;
pub mod rules;
pub mod scheduler;
pub mod store;
pub mod story;
pub mod summary;
pub mod telegram;
pub mod text;
