//! Diagnostics: one problem in a user's file, with its position.
//!
//! Every validator (config, rules) collects all its problems as `Diagnostic`s and returns them
//! together, so `kkachi check` can print them one per line as `FILE:LINE:COL: message`.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
    pub severity: Severity,
    /// Lower-case, no trailing period; names the item (rule, feed, key) it is about.
    pub message: String,
    /// Extra lines shown under the message, e.g. a query with a caret under the problem.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(
        file: impl Into<PathBuf>,
        line: usize,
        col: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            col,
            severity: Severity::Error,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    pub fn warning(
        file: impl Into<PathBuf>,
        line: usize,
        col: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, line, col, message)
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COL: message` (warnings say `warning:` before the message); notes follow on
    /// their own lines, indented.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Warning => "warning: ",
            Severity::Error => "",
        };
        write!(
            f,
            "{}:{}:{}: {}{}",
            self.file.display(),
            self.line,
            self.col,
            kind,
            self.message
        )?;
        for note in &self.notes {
            write!(f, "\n    {note}")?;
        }
        Ok(())
    }
}

/// 1-based (line, column) of a byte offset in `src`; the column counts characters.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// [`line_col`] for many offsets in one text: the line starts are found once, so reporting a
/// problem per rule in a 10,000-rule file stays linear.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset where each line starts; `starts[0] == 0`.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The same as [`line_col`]`(src, offset)`; `src` must be the text this index was built on.
    pub fn line_col(&self, src: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(src, offset.min(src.len()));
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        (line, src[start..offset].chars().count() + 1)
    }
}

/// The allowed name closest to `name` (at most two edits away), for "did you mean" hints.
pub fn did_you_mean<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, a)| a)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let src = "a = 1\n한국 = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        // byte 12 is after "한국 " (3 + 3 + 1 bytes): column 4
        assert_eq!(line_col(src, 13), (2, 4));
    }

    #[test]
    fn the_line_index_agrees_with_line_col_everywhere() {
        for src in [
            "",
            "\n",
            "a = 1\n한국 = 2\n",
            "no newline at the end",
            "\n\n첫 줄\r\n둘째 줄 🙂 끝\n\nx",
        ] {
            let index = LineIndex::new(src);
            for offset in 0..=src.len() + 2 {
                assert_eq!(
                    index.line_col(src, offset),
                    line_col(src, offset),
                    "{src:?} at {offset}"
                );
            }
        }
    }

    #[test]
    fn did_you_mean_takes_the_closest_within_two_edits() {
        let keys = ["cron", "timezone", "jitter"];
        assert_eq!(did_you_mean("crn", &keys), Some("cron"));
        assert_eq!(did_you_mean("timzone", &keys), Some("timezone"));
        assert_eq!(did_you_mean("schedule", &keys), None);
    }

    #[test]
    fn display_is_file_line_col_message() {
        let d = Diagnostic::error("config/kkachi.toml", 3, 7, "unknown key `crn`")
            .with_note("crn = \"x\"");
        assert_eq!(
            d.to_string(),
            "config/kkachi.toml:3:7: unknown key `crn`\n    crn = \"x\""
        );
        let w = Diagnostic::warning("r.toml", 1, 1, "short term");
        assert_eq!(w.to_string(), "r.toml:1:1: warning: short term");
    }
}
