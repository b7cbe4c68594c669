//! kkachi: a media-monitoring alert daemon.
//!
//! ```text
//! scheduler ─▶ fetch ─▶ feed (decode, parse, normalise) ─▶ store (dedup) ─▶ rules (match)
//!           ─▶ deliver (console)
//! config (load, validate) ─▶ all
//! ```
//!
//! Modules in reading order. `diag`, `story`, `feed` and `rules` are pure (no IO, no `.await`).

pub mod diag;
pub mod story;
pub mod text;
pub mod feed;
pub mod rules;
pub mod config;
pub mod scheduler;
pub mod fetch;
pub mod store;
pub mod telegram;
pub mod deliver;
pub mod pipeline;
pub mod app;
pub mod summary;
