//! What every section's parser shares: the [`Sink`] that collects one file's diagnostics with
//! their `FILE:LINE:COL`, and the checks of single values (durations, positive numbers, cron
//! expressions). Holds no defaults: the caller passes the section's own.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, line_col};
use crate::scheduler::CronSchedule;

/// Collects diagnostics for one file.
pub(super) struct Sink<'a> {
    pub(super) src: &'a str,
    pub(super) path: &'a Path,
    pub(super) diags: Vec<Diagnostic>,
}

impl Sink<'_> {
    pub(super) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, col) = line_col(self.src, span.start);
        self.diags
            .push(Diagnostic::error(self.path, line, col, message));
    }

    pub(super) fn warning(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, col) = line_col(self.src, span.start);
        self.diags
            .push(Diagnostic::warning(self.path, line, col, message));
    }

    pub(super) fn toml_error(
        &mut self,
        err: &toml::de::Error,
        fallback: Range<usize>,
        context: &str,
    ) {
        let span = err.span().unwrap_or(fallback);
        let message = err.message().trim().to_string();
        self.error(span, format!("{context}{message}"));
    }

    /// Deserialises one section, reporting a type error at its position.
    pub(super) fn section<T: for<'de> Deserialize<'de> + Default>(
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
                // Name the key whose value is wrong (`[schedule] jitter: invalid type…`):
                // serde's message names only the type.
                let key = e.span().and_then(|at| {
                    as_table(value)?
                        .iter()
                        .find(|(_, v)| v.span().start <= at.start && at.end <= v.span().end)
                        .map(|(k, _)| k.get_ref().to_string())
                });
                match key {
                    Some(key) => {
                        let context = format!("{} {key}: ", context.trim_end_matches([':', ' ']));
                        self.toml_error(&e, span, &context);
                    }
                    None => self.toml_error(&e, span, context),
                }
                T::default()
            }
        }
    }

    /// Every key of `table` that is not in `allowed` is an error at the key's position.
    pub(super) fn unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], section: &str) {
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

pub(super) fn as_table<'a, 'i>(v: &'a Spanned<DeValue<'i>>) -> Option<&'a DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

pub(super) fn cron_or_report(
    sink: &mut Sink<'_>,
    expr: &Spanned<String>,
    what: &str,
) -> Option<CronSchedule> {
    match CronSchedule::parse(expr.get_ref()) {
        Ok(c) => Some(c),
        Err(e) => {
            sink.error(expr.span(), format!("{what}: {e}"));
            None
        }
    }
}

pub(super) fn duration(
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

pub(super) fn positive<T: TryFrom<i64> + Copy>(
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
