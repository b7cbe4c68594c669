//! `rules.toml`: reading the text the caller loaded into rules, with every problem reported at
//! its line and column.
//!
//! Owns the file format (`builtin_aliases`, `[aliases]`, `[[rules]]` with `name`, `query`,
//! `description`, `feeds`, `chats` (chat ids, or `{ id = .., delivery = ".." }` tables naming a
//! delivery mode); unknown keys are errors) and the mapping from a position in
//! a query to a position in the file, through TOML escapes. Collects every problem instead of
//! stopping at the first. Must not read files itself.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::aliases::{Aliases, normalize_member};
use super::parser::{self, Expr};
use super::{Loaded, QueryError, RuleInfo, RuleSet, caret_line};
use crate::diag::{Diagnostic, LineIndex};

const TOP_KEYS: &[&str] = &["builtin_aliases", "transliterate", "aliases", "rules"];
const RULE_KEYS: &[&str] = &["name", "query", "description", "feeds", "chats"];
const CHAT_KEYS: &[&str] = &["id", "delivery"];

struct Sink<'a> {
    src: &'a str,
    lines: LineIndex,
    file: &'a Path,
    diags: Vec<Diagnostic>,
}

impl Sink<'_> {
    fn at(&self, offset: usize) -> (usize, usize) {
        self.lines.line_col(self.src, offset)
    }

    fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let (line, col) = self.at(span.start);
        self.diags
            .push(Diagnostic::error(self.file, line, col, message));
    }

    fn warning(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let (line, col) = self.at(span.start);
        self.diags
            .push(Diagnostic::warning(self.file, line, col, message));
    }

    fn unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], what: &str) {
        for key in table.keys() {
            let name: &str = key.get_ref();
            if !allowed.contains(&name) {
                let hint = crate::diag::did_you_mean(name, allowed)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                self.error(
                    &key.span(),
                    format!(
                        "unknown key `{name}` in {what}{hint}; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Parses and validates a rules file. `Ok` when nothing in it is an error (warnings ride
/// along); `Err` holds every problem, errors and warnings, sorted by position.
pub fn load(src: &str, file: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let mut sink = Sink {
        src,
        lines: LineIndex::new(src),
        file,
        diags: Vec::new(),
    };
    let root = match DeTable::parse(src) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            sink.error(&span, format!("invalid TOML: {}", e.message().trim()));
            return Err(sink.diags);
        }
    };
    sink.unknown_keys(&root, TOP_KEYS, "the rules file");

    let builtin = flag(&mut sink, &root, "builtin_aliases");
    // Transliterated spellings for Latin names without an alias (on by default). They make a
    // rule set with many Latin names several times larger to build and hold (BENCHMARKS.md,
    // "Rules"), so a deployment with thousands of rules may turn them off.
    let transliterate = flag(&mut sink, &root, "transliterate");
    let groups = aliases(&mut sink, root.get("aliases"));
    let rules = rules(&mut sink, root.get("rules"));

    if sink.diags.iter().any(Diagnostic::is_error) {
        return Err(sorted(sink.diags));
    }
    let rules = RuleSet::build_with(rules, Aliases::new(builtin, &groups), transliterate);
    Ok(Loaded {
        rules,
        warnings: sorted(sink.diags),
    })
}

fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| (a.line, a.col, b.severity).cmp(&(b.line, b.col, a.severity)));
    diags
}

fn string_array<'a>(
    sink: &mut Sink<'_>,
    v: &'a Spanned<DeValue<'_>>,
    what: &str,
) -> Option<Vec<(&'a str, Range<usize>)>> {
    let DeValue::Array(items) = v.get_ref() else {
        sink.error(&v.span(), format!("{what} must be an array of strings"));
        return None;
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref() {
            DeValue::String(s) => out.push((s.as_ref(), item.span())),
            _ => sink.error(&item.span(), format!("{what} must be an array of strings")),
        }
    }
    Some(out)
}

/// A top-level `key = true|false` that defaults to true; anything else is an error naming it.
fn flag(sink: &mut Sink<'_>, root: &DeTable<'_>, key: &str) -> bool {
    match root.get(key) {
        None => true,
        Some(v) => match v.get_ref() {
            DeValue::Boolean(b) => *b,
            _ => {
                sink.error(&v.span(), format!("{key} must be true or false"));
                true
            }
        },
    }
}

fn aliases(sink: &mut Sink<'_>, v: Option<&Spanned<DeValue<'_>>>) -> Vec<(String, Vec<String>)> {
    let Some(v) = v else { return Vec::new() };
    let DeValue::Table(t) = v.get_ref() else {
        sink.error(
            &v.span(),
            "aliases must be a table of name = [\"member\", ...]",
        );
        return Vec::new();
    };
    let mut groups = Vec::new();
    for (key, value) in t.iter() {
        let name: &str = key.get_ref();
        let what = format!("alias group `{name}`");
        let Some(members) = string_array(sink, value, &what) else {
            continue;
        };
        let mut kept = Vec::new();
        for (m, span) in members {
            if normalize_member(m).is_empty() {
                sink.error(&span, format!("{what}: empty member"));
            } else if m.contains(['"', '“', '”', '‘', '’', '(', ')', '*']) {
                sink.error(
                    &span,
                    format!(
                        "{what}: member {m:?} must be plain text (no quotes, parentheses or *)"
                    ),
                );
            } else {
                kept.push(m.to_string());
            }
        }
        if kept.len() < 2 {
            sink.warning(
                &key.span(),
                format!("{what} has fewer than two members and changes nothing"),
            );
        }
        groups.push((name.to_string(), kept));
    }
    groups
}

fn rules(sink: &mut Sink<'_>, v: Option<&Spanned<DeValue<'_>>>) -> Vec<(RuleInfo, Expr)> {
    let Some(v) = v else { return Vec::new() };
    let DeValue::Array(items) = v.get_ref() else {
        sink.error(&v.span(), "rules must be an array of tables ([[rules]])");
        return Vec::new();
    };
    let mut out = Vec::new();
    // Rule name → byte offset of its first definition.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in items.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            sink.error(&item.span(), "each rule must be a table ([[rules]])");
            continue;
        };
        if let Some(r) = rule(sink, t, &item.span(), &mut seen) {
            out.push(r);
        }
    }
    out
}

fn rule(
    sink: &mut Sink<'_>,
    t: &DeTable<'_>,
    span: &Range<usize>,
    seen: &mut HashMap<String, usize>,
) -> Option<(RuleInfo, Expr)> {
    let string = |sink: &mut Sink<'_>,
                  key: &str,
                  label: &str|
     -> Option<(String, Range<usize>, Range<usize>)> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span(), v.span())),
            _ => {
                sink.error(&v.span(), format!("{label}{key} must be a string"));
                None
            }
        }
    };
    let name = match string(sink, "name", "rule: ") {
        Some((name, nspan, _)) => {
            if !is_valid_name(&name) {
                sink.error(
                    &nspan,
                    format!("rule name {name:?} must use only a-z, 0-9, _ and -"),
                );
            } else if let Some(&first) = seen.get(&name) {
                // The line is worked out only here: counting lines for every rule would make
                // loading quadratic in the file's size.
                let first = sink.at(first).0;
                sink.error(
                    &nspan,
                    format!("duplicate rule name {name:?} (first defined on line {first})"),
                );
            } else {
                seen.insert(name.clone(), nspan.start);
            }
            Some(name)
        }
        None => {
            if t.get("name").is_none() {
                sink.error(
                    span,
                    "rule without a name: every [[rules]] needs name = \"...\"",
                );
            }
            None
        }
    };
    let label = name
        .as_ref()
        .map_or_else(|| "rule: ".to_string(), |n| format!("rule {n:?}: "));
    let what = name
        .as_ref()
        .map_or_else(|| "[[rules]]".to_string(), |n| format!("rule {n:?}"));
    sink.unknown_keys(t, RULE_KEYS, &what);

    let description = string(sink, "description", &label)
        .map(|d| d.0)
        .unwrap_or_default();
    let feeds = t
        .get("feeds")
        .and_then(|v| string_array(sink, v, &format!("{label}feeds")))
        .map(|f| f.into_iter().map(|(s, _)| s.to_string()).collect())
        .unwrap_or_default();
    let (chats, delivery) = t
        .get("chats")
        .map(|v| chats(sink, v, &label))
        .unwrap_or_default();

    let query_value = t.get("query");
    let at = query_value.map_or((0, 0), |v| sink.at(v.span().start));
    let query = string(sink, "query", &label);
    let expr = match (query, query_value) {
        (Some((q, qspan, _)), Some(raw)) => {
            if q.trim().is_empty() {
                sink.error(&qspan, format!("{label}empty query"));
                None
            } else {
                query_expr(sink, &q, raw, &label)
            }
        }
        (None, None) => {
            sink.error(span, format!("{label}missing query"));
            None
        }
        _ => None,
    };
    let info = RuleInfo {
        name: name?,
        query: t
            .get("query")
            .and_then(|v| v.get_ref().as_str())
            .unwrap_or_default()
            .to_string(),
        description,
        feeds,
        chats,
        delivery,
        feed_terms: expr
            .as_ref()
            .map(super::parser::feed_names)
            .unwrap_or_default(),
        at,
    };
    Some((info, expr?))
}

/// The rule's static chats, and the delivery mode of those that name one (a chat not in the
/// map is instant): `chats = [-100123, { id = -100456, delivery = "daily 09:00" }]`.
fn chats(
    sink: &mut Sink<'_>,
    v: &Spanned<DeValue<'_>>,
    label: &str,
) -> (
    Vec<i64>,
    std::collections::BTreeMap<i64, crate::digest::schedule::Delivery>,
) {
    let mut out = Vec::new();
    let mut modes = std::collections::BTreeMap::new();
    let DeValue::Array(items) = v.get_ref() else {
        sink.error(
            &v.span(),
            format!("{label}chats must be an array of chat ids"),
        );
        return (out, modes);
    };
    let integer = |v: &Spanned<DeValue<'_>>| match v.get_ref() {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    };
    for item in items.iter() {
        if let DeValue::Table(t) = item.get_ref() {
            let what = format!("a chats table ({})", label.trim_end_matches(": "));
            sink.unknown_keys(t, CHAT_KEYS, &what);
            let id = match t.get("id") {
                Some(v) => {
                    let id = integer(v);
                    if id.is_none() {
                        sink.error(
                            &v.span(),
                            format!("{label}chats: id must be a chat id (an integer)"),
                        );
                    }
                    id
                }
                None => {
                    sink.error(
                        &item.span(),
                        format!("{label}chats: a table needs id = <chat id>"),
                    );
                    None
                }
            };
            let mode = match t.get("delivery") {
                Some(v) => {
                    match v.get_ref().as_str() {
                        Some(text) => match text.parse::<crate::digest::schedule::Delivery>() {
                            Ok(mode) => Some(mode),
                            Err(e) => {
                                sink.error(&v.span(), format!("{label}chats: {e}"));
                                None
                            }
                        },
                        None => {
                            sink.error(
                            &v.span(),
                            format!("{label}chats: delivery must be a string such as \"daily 09:00\""),
                        );
                            None
                        }
                    }
                }
                None => None,
            };
            if let Some(id) = id {
                out.push(id);
                if let Some(mode) = mode {
                    modes.insert(id, mode);
                }
            }
            continue;
        }
        match integer(item) {
            Some(id) => out.push(id),
            None => sink.error(
                &item.span(),
                format!("{label}chats must be an array of chat ids (integers)"),
            ),
        }
    }
    (out, modes)
}

/// Parses the query and reports errors and warnings at their place in the file.
fn query_expr(
    sink: &mut Sink<'_>,
    query: &str,
    raw: &Spanned<DeValue<'_>>,
    label: &str,
) -> Option<Expr> {
    let span = raw.span();
    let offsets = char_offsets(&sink.src[span.clone()], query);
    let position = |sink: &Sink<'_>, column: usize| -> (usize, usize) {
        let rel = offsets
            .as_ref()
            .and_then(|o| o.get(column.saturating_sub(1)).copied())
            .unwrap_or(0);
        sink.at(span.start + rel)
    };
    let notes = |column: usize| [query.to_string(), caret_line(query, column)];
    match parser::parse(query) {
        Ok(parsed) => {
            for w in parsed.warnings {
                let (line, col) = position(sink, w.column);
                let [q, c] = notes(w.column);
                sink.diags.push(
                    Diagnostic::warning(sink.file, line, col, format!("{label}{}", w.message))
                        .with_note(q)
                        .with_note(c),
                );
            }
            Some(parsed.expr)
        }
        Err(QueryError { column, message }) => {
            let (line, col) = position(sink, column);
            let [q, c] = notes(column);
            sink.diags.push(
                Diagnostic::error(sink.file, line, col, format!("{label}{message}"))
                    .with_note(q)
                    .with_note(c),
            );
            None
        }
    }
}

/// For a TOML string as written (`raw`, quotes included) whose value is `value`: the byte offset
/// in `raw` of each character of `value`, plus one for the end. `None` when `raw` is not
/// understood (then positions fall back to the string's start).
fn char_offsets(raw: &str, value: &str) -> Option<Vec<usize>> {
    let (delim, multi) = if raw.starts_with("'''") {
        ("'''", true)
    } else if raw.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if raw.starts_with('\'') {
        ("'", false)
    } else if raw.starts_with('"') {
        ("\"", false)
    } else {
        return None;
    };
    let literal = delim.starts_with('\'');
    let body_end = raw.len().checked_sub(delim.len())?;
    let mut i = delim.len();
    if multi {
        if raw[i..].starts_with("\r\n") {
            i += 2;
        } else if raw[i..].starts_with('\n') {
            i += 1;
        }
    }
    let mut out: Vec<(char, usize)> = Vec::new();
    while i < body_end {
        let c = raw[i..].chars().next()?;
        if literal || c != '\\' {
            out.push((c, i));
            i += c.len_utf8();
            continue;
        }
        let esc = raw[i + 1..].chars().next()?;
        let simple = match esc {
            'b' => Some('\u{8}'),
            't' => Some('\t'),
            'n' => Some('\n'),
            'f' => Some('\u{c}'),
            'r' => Some('\r'),
            'e' => Some('\u{1b}'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push((s, i));
            i += 2;
            continue;
        }
        let hex = match esc {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if hex > 0 {
            let digits = raw.get(i + 2..i + 2 + hex)?;
            out.push((char::from_u32(u32::from_str_radix(digits, 16).ok()?)?, i));
            i += 2 + hex;
            continue;
        }
        if multi && esc.is_whitespace() {
            // line-ending backslash: skip all whitespace and newlines
            i += 1;
            while let Some(w) = raw[i..].chars().next().filter(|w| w.is_whitespace()) {
                i += w.len_utf8();
            }
            continue;
        }
        return None;
    }
    let decoded: String = out.iter().map(|(c, _)| c).collect();
    if decoded != value {
        return None;
    }
    let mut offsets: Vec<usize> = out.into_iter().map(|(_, o)| o).collect();
    offsets.push(body_end);
    Some(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_through_escapes() {
        let o = char_offsets(r#""a\"b\u00e9c""#, "a\"béc").unwrap_or_default();
        assert_eq!(o, vec![1, 2, 4, 5, 11, 12]);
        let o = char_offsets("'한국 기업'", "한국 기업").unwrap_or_default();
        assert_eq!(o, vec![1, 4, 7, 8, 11, 14]);
        let o = char_offsets("'''\nab'''", "ab").unwrap_or_default();
        assert_eq!(o, vec![4, 5, 6]);
        assert_eq!(char_offsets("\"x\"", "y"), None);
    }
    #[test]
    fn chats_tables_name_a_delivery_mode_and_errors_name_the_place() {
        use crate::digest::schedule::Delivery;
        let src = "[[rules]]\nname = \"ai\"\nquery = \"AI\"\n\
                   chats = [-100123, { id = -100456, delivery = \"daily 09:00\" }]\n";
        let loaded = crate::rules::load(src, Path::new("rules.toml")).expect("rules");
        let rule = &loaded.rules.rules()[0];
        assert_eq!(rule.chats, vec![-100123, -100456]);
        assert_eq!(
            rule.delivery
                .get(&-100456)
                .map(ToString::to_string)
                .as_deref(),
            Some("daily 09:00")
        );
        assert!(!rule.delivery.contains_key(&-100123));
        assert_eq!(
            rule.delivery.get(&-100456),
            Some(&"daily 09:00".parse::<Delivery>().expect("mode"))
        );

        let bad = "[[rules]]\nname = \"ai\"\nquery = \"AI\"\n\
                   chats = [{ id = 5, delivery = \"daily noon\" }, { delivery = \"hourly\" }, { id = 6, mode = \"x\" }]\n";
        let e = crate::rules::load(bad, Path::new("rules.toml"))
            .expect_err("bad chats")
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(e.contains("rules.toml:4:31"), "{e}");
        assert!(e.contains("invalid delivery mode \"daily noon\""), "{e}");
        assert!(e.contains("a table needs id"), "{e}");
        assert!(
            e.contains("rules.toml:4:82: unknown key `mode` in a chats table (rule \"ai\")"),
            "{e}"
        );
    }
}
