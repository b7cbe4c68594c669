//! Rendering alerts for Telegram: HTML parse mode, a plain-text fallback, and splitting into
//! messages within Telegram's limit. Pure: no IO, no `.await`.
//!
//! Every piece of feed text is escaped (`&`, `<`, `>` and `"`, so the same function is safe in
//! text and inside `href="…"`); the only tags are the template's own `b`, `i`, `a href` and
//! `code`, all in Telegram's allowed set. In an alert's summary, the terms its rules matched
//! (and the forms they hit through) are bold: found in the unescaped text with the rules' own
//! normalisation and word boundaries (`summary::Terms`), then each piece escaped on its own, so
//! a `<b>` never lands inside an entity or a tag. The title is bold and a link already, so
//! nothing is marked in it.
//!
//! Lengths are counted in UTF-16 code units over the *raw* message (markup and entities
//! included). Telegram counts the text after parsing, which is never longer, so a chunk within
//! the limit here is within Telegram's. [`split`] never cuts inside a tag, an entity or a
//! surrogate pair; it closes the tags open at a cut and reopens them in the next chunk.
//!
//! A queued [`OutboxEntry`] keeps its rendered messages (`parts`); the rewrites the sender makes
//! after Telegram's complaints (plain text, smaller pieces) are pure methods here
//! ([`OutboxEntry::render_parts`], [`OutboxEntry::make_plain_from`],
//! [`OutboxEntry::split_part`]); the sender keeps the IO and the decisions.

use chrono_tz::Tz;

use crate::deliver::Alert;
use crate::store::fold::Outlet;
use crate::store::outbox::{Body, Fold, OutboxEntry, Part};
use crate::summary::Terms;

/// Telegram's message length limit in UTF-16 code units.
pub const MESSAGE_LIMIT: usize = 4096;

/// A summary longer than this (in characters) is trimmed at a word boundary: the alert is a
/// pointer to the story, not the story.
pub const SUMMARY_MAX_CHARS: usize = 600;

/// Escapes feed text for HTML parse mode, in text and in attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The message for a queued body, in HTML.
pub fn html(body: &Body, tz: Tz) -> String {
    match body {
        Body::Alert(a) => alert_html(a, tz),
        Body::Notice { text } => escape(text),
        Body::Fold(f) => fold_html(f, tz),
        Body::Digest(d) => crate::digest::render::html(&d.digest(tz)).join("\n\n"),
    }
}

/// The message for a queued body, in plain text (no parse mode).
pub fn plain(body: &Body, tz: Tz) -> String {
    match body {
        Body::Alert(a) => alert_plain(a, tz),
        Body::Notice { text } => text.clone(),
        Body::Fold(f) => fold_plain(f, tz),
        Body::Digest(d) => crate::digest::render::text(&d.digest(tz)),
    }
}

pub(crate) fn linkable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && url.len() <= 2048
}

fn when(a: &Alert, tz: Tz) -> String {
    a.published
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|| "time unknown".to_string())
}

pub(crate) fn title(a: &Alert) -> &str {
    if a.title.trim().is_empty() {
        "(untitled)"
    } else {
        a.title.trim()
    }
}

/// ```text
/// <b><a href="URL">TITLE</a></b>
/// <i>FEED · 2026-11-27 09:00 KST</i>
///
/// SUMMARY
///
/// 🔎 <b>RULE</b>: <code>TERM</code>, <code>TERM</code>
/// ```
///
/// In SUMMARY, every occurrence of a matched term is `<b>…</b>`.
pub fn alert_html(a: &Alert, tz: Tz) -> String {
    let mut s = String::new();
    if linkable(&a.url) {
        s.push_str(&format!(
            "<b><a href=\"{}\">{}</a></b>\n",
            escape(&a.url),
            escape(title(a))
        ));
    } else {
        s.push_str(&format!("<b>{}</b>\n", escape(title(a))));
    }
    s.push_str(&format!(
        "<i>{} · {}</i>\n",
        escape(&a.feed),
        escape(&when(a, tz))
    ));
    let summary = trim_words(a.summary.trim(), SUMMARY_MAX_CHARS);
    if !summary.is_empty() {
        let terms = Terms::of_hits(a.rules.iter().map(|h| (&h.matched[..], &h.via[..])));
        s.push('\n');
        s.push_str(&bold_terms(&summary, &terms));
        s.push('\n');
    }
    if !a.rules.is_empty() {
        s.push('\n');
    }
    for hit in &a.rules {
        s.push_str(&format!("🔎 <b>{}</b>", escape(&hit.rule)));
        if !hit.matched.is_empty() {
            let terms: Vec<String> = hit
                .matched
                .iter()
                .map(|t| match hit.via_of(t) {
                    Some(via) => format!(
                        "<code>{}</code> ({}, {})",
                        escape(t),
                        escape(&via.form),
                        via.source
                    ),
                    None => format!("<code>{}</code>", escape(t)),
                })
                .collect();
            s.push_str(": ");
            s.push_str(&terms.join(", "));
        }
        s.push('\n');
    }
    s.truncate(s.trim_end().len());
    s
}

/// `text` escaped, with `<b>…</b>` around each occurrence of a term (overlapping ones merged).
fn bold_terms(text: &str, terms: &Terms) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for r in terms.find(text) {
        out.push_str(&escape(&text[at..r.start]));
        out.push_str("<b>");
        out.push_str(&escape(&text[r.clone()]));
        out.push_str("</b>");
        at = r.end;
    }
    out.push_str(&escape(&text[at..]));
    out
}

/// An edited message: the last part of the message as it was sent (an alert split in several
/// messages is edited in its last one) and a line naming the other outlets that carry the
/// story, each linked to its copy:
///
/// ```text
/// …the message as sent…
///
/// ➕ 3 · <a href="URL">chosun</a> · <a href="URL">hani</a> · <a href="URL">newsis</a>
/// ```
///
/// Outlets that do not fit within [`MESSAGE_LIMIT`] are counted, not named (`… +2`).
pub fn fold_html(f: &Fold, tz: Tz) -> String {
    let name = |o: &Outlet| {
        let label = escape(o.label(&f.more, &f.alert.feed));
        if linkable(&o.url) {
            format!("<a href=\"{}\">{label}</a>", escape(&o.url))
        } else {
            label
        }
    };
    fold_text(&alert_html(&f.alert, tz), &f.more, Markup::Html, name)
}

/// [`fold_html`] without markup (the outlets' names only).
pub fn fold_plain(f: &Fold, tz: Tz) -> String {
    fold_text(&alert_plain(&f.alert, tz), &f.more, Markup::Plain, |o| {
        o.label(&f.more, &f.alert.feed).to_string()
    })
}

fn fold_text(
    message: &str,
    more: &[Outlet],
    markup: Markup,
    name: impl Fn(&Outlet) -> String,
) -> String {
    let last = split(message, MESSAGE_LIMIT, markup)
        .pop()
        .unwrap_or_default();
    if more.is_empty() {
        return last;
    }
    let head = format!("{last}\n\n➕ {}", more.len());
    if utf16_len(&head) + 8 > MESSAGE_LIMIT {
        // A message at the limit already: it stays as it is.
        return last;
    }
    let mut line = head;
    for (i, o) in more.iter().enumerate() {
        let next = format!("{line} · {}", name(o));
        let rest = more.len() - i - 1;
        let tail = if rest > 0 {
            format!(" · +{rest}")
        } else {
            String::new()
        };
        if utf16_len(&next) + utf16_len(&tail) > MESSAGE_LIMIT {
            let left = more.len() - i;
            return format!("{line} · +{left}");
        }
        line = next;
    }
    line
}

/// The same content without markup; the URL on its own line.
pub fn alert_plain(a: &Alert, tz: Tz) -> String {
    let mut s = format!("{}\n{}\n{} · {}\n", title(a), a.url, a.feed, when(a, tz));
    let summary = trim_words(a.summary.trim(), SUMMARY_MAX_CHARS);
    if !summary.is_empty() {
        s.push('\n');
        s.push_str(&summary);
        s.push('\n');
    }
    if !a.rules.is_empty() {
        s.push('\n');
    }
    for hit in &a.rules {
        s.push_str(&format!("🔎 {}", hit.rule));
        if !hit.matched.is_empty() {
            s.push_str(&format!(": {}", hit.terms_why().join(", ")));
        }
        s.push('\n');
    }
    s.truncate(s.trim_end().len());
    s
}

/// At most `max` characters, cut after a sentence end or at a space when one is in the last
/// third, with `…` when something was cut.
pub(crate) fn trim_words(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max.saturating_sub(1)).collect();
    let floor = head.len() * 2 / 3;
    let sentence = head
        .rfind(['.', '?', '!', '。'])
        .filter(|&i| i >= floor)
        .map(|i| i + 1);
    if let Some(end) = sentence {
        return head[..end].to_string();
    }
    let cut = head
        .rfind(char::is_whitespace)
        .filter(|&i| i >= floor)
        .unwrap_or(head.len());
    format!("{}…", head[..cut].trim_end())
}

/// Whether `text` is HTML (tags and entities are atomic) or plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    Html,
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Open {
        name: &'a str,
        raw: &'a str,
    },
    Close {
        raw: &'a str,
    },
    /// A character or an entity: visible text, never cut.
    Text {
        raw: &'a str,
        space: bool,
    },
}

fn tokenize(text: &str, markup: Markup) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        let len = match (markup, c) {
            (Markup::Html, '<') => match rest.find('>') {
                Some(end) => {
                    let raw = &rest[..=end];
                    if raw.starts_with("</") {
                        toks.push(Tok::Close { raw });
                    } else {
                        let inner = &raw[1..raw.len() - 1];
                        let name = inner
                            .split(|c: char| c.is_whitespace())
                            .next()
                            .unwrap_or(inner);
                        toks.push(Tok::Open { name, raw });
                    }
                    end + 1
                }
                None => push_char(&mut toks, rest, c),
            },
            (Markup::Html, '&') => {
                let end = rest
                    .char_indices()
                    .take(12)
                    .find(|&(_, c)| c == ';')
                    .map(|(i, _)| i);
                match end {
                    Some(end)
                        if end > 1
                            && rest[1..end]
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '#') =>
                    {
                        toks.push(Tok::Text {
                            raw: &rest[..=end],
                            space: false,
                        });
                        end + 1
                    }
                    _ => push_char(&mut toks, rest, c),
                }
            }
            _ => push_char(&mut toks, rest, c),
        };
        i += len;
    }
    toks
}

fn push_char<'a>(toks: &mut Vec<Tok<'a>>, rest: &'a str, c: char) -> usize {
    let n = c.len_utf8();
    toks.push(Tok::Text {
        raw: &rest[..n],
        space: c.is_whitespace(),
    });
    n
}

fn closing(stack: &[(&str, &str)]) -> String {
    stack
        .iter()
        .rev()
        .map(|(name, _)| format!("</{name}>"))
        .collect()
}

/// A place to cut: right after a whitespace character.
#[derive(Debug, Clone)]
struct Break<'a> {
    /// Byte length of the chunk so far.
    bytes: usize,
    /// Its length in UTF-16 units.
    units: usize,
    /// The tags open there.
    stack: Vec<(&'a str, &'a str)>,
    /// The token after the whitespace.
    next: usize,
}

/// Splits `text` into chunks of at most `limit` UTF-16 units, preferring a line break, then a
/// space, in the second half of a chunk. With [`Markup::Html`], tags open at a cut are closed
/// at the end of the chunk and reopened at the start of the next, and tags and entities are
/// never cut. No visible text is lost or reordered. `limit` must leave room for the template's
/// tags (a few dozen units) and one character.
pub fn split(text: &str, limit: usize, markup: Markup) -> Vec<String> {
    if utf16_len(text) <= limit {
        return vec![text.to_string()];
    }
    let toks = tokenize(text, markup);
    let mut chunks = Vec::new();
    let mut stack: Vec<(&str, &str)> = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0usize;
    let mut has_text = false;
    let mut brk: Option<Break<'_>> = None;
    let mut line_brk: Option<Break<'_>> = None;
    let mut i = 0;
    while i < toks.len() {
        let tok = toks[i];
        let mut next_stack = stack.clone();
        let raw = match tok {
            Tok::Open { name, raw } => {
                next_stack.push((name, raw));
                raw
            }
            Tok::Close { raw } => {
                next_stack.pop();
                raw
            }
            Tok::Text { raw, .. } => raw,
        };
        let cost = utf16_len(raw);
        let close_len = utf16_len(&closing(&next_stack));
        // A chunk takes at least one token, so a degenerate limit cannot loop forever.
        if cur_len + cost + close_len <= limit || !has_text {
            cur.push_str(raw);
            cur_len += cost;
            stack = next_stack;
            if let Tok::Text { raw, space } = tok {
                if space && has_text {
                    let point = Some(Break {
                        bytes: cur.len(),
                        units: cur_len,
                        stack: stack.clone(),
                        next: i + 1,
                    });
                    if raw == "\n" {
                        line_brk = point.clone();
                    }
                    brk = point;
                }
                has_text = true;
            }
            i += 1;
            continue;
        }
        // Cut: at the last line break, else the last space, if it keeps at least half a chunk.
        let half = limit / 2;
        let point = line_brk
            .take()
            .filter(|p| p.units >= half)
            .or_else(|| brk.take().filter(|p| p.units >= half));
        if let Some(p) = point {
            cur.truncate(p.bytes);
            stack = p.stack;
            i = p.next;
        }
        cur.push_str(&closing(&stack));
        chunks.push(std::mem::take(&mut cur));
        for (_, raw) in &stack {
            cur.push_str(raw);
        }
        cur_len = utf16_len(&cur);
        has_text = false;
        brk = None;
        line_brk = None;
    }
    if has_text || chunks.is_empty() {
        cur.push_str(&closing(&stack));
        chunks.push(cur);
    }
    chunks
}

/// One HTML chunk as plain text: tags dropped, entities decoded. For a later part of a long
/// message that Telegram could not parse (the first part is re-rendered with [`plain`]).
pub fn html_to_plain(chunk: &str) -> String {
    let mut out = String::with_capacity(chunk.len());
    for tok in tokenize(chunk, Markup::Html) {
        if let Tok::Text { raw, .. } = tok {
            match raw {
                "&amp;" => out.push('&'),
                "&lt;" => out.push('<'),
                "&gt;" => out.push('>'),
                "&quot;" => out.push('"'),
                _ => {
                    let num = raw.strip_prefix("&#").and_then(|r| r.strip_suffix(';'));
                    let decoded = num
                        .and_then(|n| match n.strip_prefix(['x', 'X']) {
                            Some(hex) => u32::from_str_radix(hex, 16).ok(),
                            None => n.parse().ok(),
                        })
                        .and_then(char::from_u32);
                    match decoded {
                        Some(c) => out.push(c),
                        None => out.push_str(raw),
                    }
                }
            }
        }
    }
    out
}

/// What [`OutboxEntry::split_part`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The part, `len` UTF-16 units long, was replaced by `pieces` smaller ones.
    Done { len: usize, pieces: usize },
    /// The part is shorter than [`SPLIT_FLOOR`]: splitting it cannot be the fix. Unchanged.
    Tiny { len: usize },
}

/// Under this many UTF-16 units, "message is too long" is not believed: nothing is split.
pub const SPLIT_FLOOR: usize = 64;

impl OutboxEntry {
    /// The entry's messages, rendered as HTML and split within [`MESSAGE_LIMIT`], if it has
    /// none yet (the sender's first attempt); an entry that has them keeps them.
    pub fn render_parts(&mut self, tz: Tz) {
        if self.parts.is_empty() {
            self.parts = split(&html(&self.body, tz), MESSAGE_LIMIT, Markup::Html)
                .into_iter()
                .map(|text| Part { text, plain: false })
                .collect();
        }
    }

    /// After "can't parse entities" on part `k`: with nothing sent yet (`k == 0`) the whole
    /// entry is rendered again from its body as plain text (the template's plain form, split
    /// anew); otherwise the parts already sent stay, and each unsent HTML part from `k` on
    /// becomes its plain text.
    pub fn make_plain_from(&mut self, k: usize, tz: Tz) {
        if k == 0 {
            self.parts = split(&plain(&self.body, tz), MESSAGE_LIMIT, Markup::Plain)
                .into_iter()
                .map(|text| Part { text, plain: true })
                .collect();
            return;
        }
        for p in self.parts.iter_mut().skip(k) {
            if !p.plain {
                *p = Part {
                    text: html_to_plain(&p.text),
                    plain: true,
                };
            }
        }
    }

    /// After "message is too long" on part `k` (`k < parts.len()`, the part just sent): the
    /// part is replaced, in place, by pieces of at most half its length (plus a margin for
    /// reopened tags), in the same markup. A part under [`SPLIT_FLOOR`] is left alone.
    pub fn split_part(&mut self, k: usize) -> Split {
        let part = &self.parts[k];
        let len = utf16_len(&part.text);
        if len < SPLIT_FLOOR {
            return Split::Tiny { len };
        }
        let markup = if part.plain {
            Markup::Plain
        } else {
            Markup::Html
        };
        let plain = part.plain;
        let pieces: Vec<Part> = split(&part.text, len / 2 + 32, markup)
            .into_iter()
            .map(|text| Part { text, plain })
            .collect();
        let n = pieces.len();
        self.parts.splice(k..=k, pieces);
        Split::Done { len, pieces: n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::RuleHit;
    use chrono::DateTime;
    use proptest::prelude::*;

    fn record() -> Alert {
        Alert {
            title: "<script> & \"quotes\" 삼성전자 실적".into(),
            url: "https://e.com/a?x=1&y=\"2\"".into(),
            feed: "yna".into(),
            published: DateTime::parse_from_rfc3339("2026-11-27T00:30:00+00:00").ok(),
            summary: "요약 <b>not bold</b> & more".into(),
            rules: vec![
                RuleHit {
                    rule: "samsung".into(),
                    matched: vec!["삼성전자".into(), "\"실적 발표\"".into()],
                    via: vec![],
                },
                RuleHit {
                    rule: "all<>".into(),
                    matched: vec![],
                    via: vec![],
                },
            ],
            cluster: None,
        }
    }

    fn outlet(i: usize) -> Outlet {
        Outlet {
            feed: format!("outlet-{i}"),
            host: format!("news{i}.example.kr"),
            title: format!("copy {i}"),
            url: format!("https://news{i}.example.kr/a?x={i}&y=1"),
            story: format!("{i:064x}"),
        }
    }

    fn fold(more: Vec<Outlet>) -> Fold {
        Fold {
            cluster: 1,
            target: "00".into(),
            alert: record(),
            more,
            own: None,
            message_id: None,
        }
    }

    #[test]
    fn why_it_matched_names_the_form_that_hit_and_its_source() {
        let mut a = record();
        a.rules = vec![RuleHit {
            rule: "ott".into(),
            matched: vec!["Netflix".into(), "Zalando".into(), "OTT".into()],
            via: vec![
                crate::rules::Via {
                    term: "Netflix".into(),
                    form: "넷플릭스".into(),
                    source: crate::rules::Source::Dictionary,
                },
                crate::rules::Via {
                    term: "Zalando".into(),
                    form: "잘란도".into(),
                    source: crate::rules::Source::Transliteration,
                },
            ],
        }];
        let tz = chrono_tz::Asia::Seoul;
        assert!(
            alert_html(&a, tz).ends_with(
                "🔎 <b>ott</b>: <code>Netflix</code> (넷플릭스, dictionary), \
                 <code>Zalando</code> (잘란도, transliteration), <code>OTT</code>"
            ),
            "{}",
            alert_html(&a, tz)
        );
        assert!(
            alert_plain(&a, tz).ends_with(
                "🔎 ott: Netflix (넷플릭스, dictionary), Zalando (잘란도, transliteration), OTT"
            ),
            "{}",
            alert_plain(&a, tz)
        );
        let text = crate::deliver::render_text(&a, tz);
        assert!(
            text.contains("matched: Netflix (넷플릭스, dictionary)"),
            "{text}"
        );
    }

    #[test]
    fn an_edit_is_the_message_and_a_line_of_linked_outlets_within_the_limit() {
        let tz = chrono_tz::Asia::Seoul;
        let got = fold_html(&fold(vec![outlet(1), outlet(2)]), tz);
        assert_eq!(
            got,
            format!(
                "{}\n\n➕ 2 · <a href=\"https://news1.example.kr/a?x=1&amp;y=1\">outlet-1</a> · \
                 <a href=\"https://news2.example.kr/a?x=2&amp;y=1\">outlet-2</a>",
                alert_html(&record(), tz)
            )
        );
        assert!(fold_plain(&fold(vec![outlet(1)]), tz).ends_with("\n\n➕ 1 · outlet-1"));
        // Too many to name: as many as fit, then the rest counted; never over the limit.
        let many = fold_html(&fold((0..400).map(outlet).collect()), tz);
        assert!(utf16_len(&many) <= MESSAGE_LIMIT, "{}", utf16_len(&many));
        let rest: usize = many
            .rsplit(" · +")
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a count of the rest");
        let named = many.matches("<a href=\"https://news").count();
        assert_eq!(named + rest, 400, "{many}");
        // An aggregator's two sites from one feed are named by host.
        let mut a = outlet(1);
        let mut b = outlet(2);
        a.feed = "google-news".into();
        b.feed = "google-news".into();
        let line = fold_html(&fold(vec![a, b]), tz);
        assert!(
            line.contains(">news1.example.kr</a>") && line.contains(">news2.example.kr</a>"),
            "{line}"
        );
    }

    #[test]
    fn alert_html_escapes_everything_and_shows_local_time() {
        let got = alert_html(&record(), chrono_tz::Asia::Seoul);
        let want = "<b><a href=\"https://e.com/a?x=1&amp;y=&quot;2&quot;\">&lt;script&gt; &amp; &quot;quotes&quot; 삼성전자 실적</a></b>\n\
                    <i>yna · 2026-11-27 09:30 KST</i>\n\
                    \n\
                    요약 &lt;b&gt;not bold&lt;/b&gt; &amp; more\n\
                    \n\
                    🔎 <b>samsung</b>: <code>삼성전자</code>, <code>&quot;실적 발표&quot;</code>\n\
                    🔎 <b>all&lt;&gt;</b>";
        assert_eq!(got, want);
        let plain = alert_plain(&record(), chrono_tz::Asia::Seoul);
        assert!(plain.starts_with("<script> & \"quotes\" 삼성전자 실적\nhttps://e.com/a?x=1&y=\"2\"\nyna · 2026-11-27 09:30 KST"), "{plain}");
        assert!(plain.ends_with("🔎 all<>"), "{plain}");
    }

    #[test]
    fn only_allowed_tags_are_used() {
        let html = alert_html(&record(), chrono_tz::UTC);
        for tok in tokenize(&html, Markup::Html) {
            if let Tok::Open { name, .. } = tok {
                assert!(["b", "i", "a", "code"].contains(&name), "tag {name}");
            }
        }
    }

    /// The summary line of an alert whose one rule matched `terms` (`via`: the forms they hit
    /// through).
    fn summary_line(summary: &str, terms: &[&str], via: Vec<crate::rules::Via>) -> String {
        let mut a = record();
        a.summary = summary.into();
        a.rules = vec![RuleHit {
            rule: "r".into(),
            matched: terms.iter().map(|t| t.to_string()).collect(),
            via,
        }];
        let html = alert_html(&a, chrono_tz::UTC);
        html.lines().nth(3).unwrap_or_default().to_string()
    }

    #[test]
    fn matched_terms_are_bold_in_the_summary() {
        let cases: &[(&str, &[&str], &str)] = &[
            // Korean: the term, not its particles; a phrase across a space
            (
                "딥시크가 한국 기업들과의 협력을 늘린다.",
                &["\"한국 기업\"", "딥시크"],
                "<b>딥시크</b>가 <b>한국 기업</b>들과의 협력을 늘린다.",
            ),
            // not inside another word
            ("파인애플과 애플이", &["애플"], "파인애플과 <b>애플</b>이"),
            // English, case-insensitive, as written in the text
            (
                "OpenAI and OPENAI, not OpenAIX.",
                &["openai"],
                "<b>OpenAI</b> and <b>OPENAI</b>, not OpenAIX.",
            ),
            // a term with `&` and `<`: escaped inside the bold, never split
            (
                "AT&T buys <Foo> & more",
                &["AT&T", "<foo>"],
                "<b>AT&amp;T</b> buys <b>&lt;Foo&gt;</b> &amp; more",
            ),
            // overlapping terms: one bold run
            (
                "한국 기업들이 온다",
                &["한국", "\"한국 기업\"", "기업"],
                "<b>한국 기업</b>들이 온다",
            ),
            // a term that is absent, and a feed term: nothing marked, text escaped
            ("맑음 <3", &["태풍", "feed:yna"], "맑음 &lt;3"),
        ];
        for (summary, terms, want) in cases {
            assert_eq!(summary_line(summary, terms, vec![]), *want, "{terms:?}");
        }
        // a term that hit through an alias: the form in the text is bold
        let via = vec![crate::rules::Via {
            term: "OpenAI".into(),
            form: "오픈ai".into(),
            source: crate::rules::Source::Dictionary,
        }];
        assert_eq!(
            summary_line("오픈AI는 말했다.", &["OpenAI"], via),
            "<b>오픈AI</b>는 말했다."
        );
    }

    #[test]
    fn plain_text_and_the_title_carry_no_marks() {
        let mut a = record();
        a.summary = "삼성전자가 실적을 냈다.".into();
        let html = alert_html(&a, chrono_tz::UTC);
        assert!(
            html.contains("\n<b>삼성전자</b>가 실적을 냈다.\n"),
            "{html}"
        );
        assert!(
            html.contains("&quot;quotes&quot; 삼성전자 실적</a></b>"),
            "{html}"
        );
        let plain = alert_plain(&a, chrono_tz::UTC);
        assert!(plain.contains("\n삼성전자가 실적을 냈다.\n"), "{plain}");
    }

    #[test]
    fn a_long_summary_with_bold_terms_splits_balanced() {
        let mut a = record();
        a.summary = "삼성전자가 실적을 냈다. ".repeat(40);
        let html = alert_html(&a, chrono_tz::UTC);
        let chunks = split(&html, 300, Markup::Html);
        assert!(chunks.len() > 1);
        for c in &chunks {
            assert!(utf16_len(c) <= 300 && balanced(c), "{c:?}");
        }
        assert_eq!(visible(&chunks.concat()), visible(&html));
    }

    #[test]
    fn no_link_for_odd_urls_and_long_summaries_are_trimmed() {
        let mut r = record();
        r.url = "javascript:alert(1)".into();
        r.summary = "첫 문장입니다. ".repeat(200);
        let html = alert_html(&r, chrono_tz::UTC);
        assert!(html.starts_with("<b>&lt;script&gt;"), "{html}");
        let summary = html.lines().nth(3).expect("summary line");
        assert!(
            summary.chars().count() <= SUMMARY_MAX_CHARS,
            "{}",
            summary.chars().count()
        );
        assert!(summary.ends_with('.'), "{summary}");
    }

    #[test]
    fn short_text_is_one_chunk_and_a_long_one_is_cut_at_lines() {
        assert_eq!(split("hello", 10, Markup::Html), vec!["hello"]);
        let text = "<b>aaaa bbbb\ncccc</b> dddd";
        let chunks = split(text, 17, Markup::Html);
        assert_eq!(chunks, vec!["<b>aaaa bbbb\n</b>", "<b>cccc</b> dddd"]);
        // Entities and surrogate pairs are atomic.
        let chunks = split("&amp;&amp;&amp;😀😀😀", 6, Markup::Html);
        assert_eq!(chunks, vec!["&amp;", "&amp;", "&amp;", "😀😀😀"]);
        let chunks = split("😀😀😀", 3, Markup::Plain);
        assert_eq!(chunks, vec!["😀", "😀", "😀"]);
    }

    #[test]
    fn html_chunks_become_plain_text() {
        assert_eq!(
            html_to_plain("<b><a href=\"x\">a &amp; &lt;b&gt; &quot;c&quot; &#44032;</a></b>"),
            "a & <b> \"c\" 가"
        );
    }

    /// Visible text of HTML: tags removed, entities kept as written.
    fn visible(s: &str) -> String {
        tokenize(s, Markup::Html)
            .into_iter()
            .filter_map(|t| match t {
                Tok::Text { raw, .. } => Some(raw),
                _ => None,
            })
            .collect()
    }

    fn balanced(chunk: &str) -> bool {
        let mut stack = Vec::new();
        for t in tokenize(chunk, Markup::Html) {
            match t {
                Tok::Open { name, .. } => stack.push(name.to_string()),
                Tok::Close { raw } => {
                    if stack.pop().as_deref() != Some(&raw[2..raw.len() - 1]) {
                        return false;
                    }
                }
                Tok::Text { .. } => {}
            }
        }
        stack.is_empty()
    }

    fn feed_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a".to_string()),
                Just(" ".to_string()),
                Just("\n".to_string()),
                Just("&<>\"".to_string()),
                Just("한".to_string()),
                Just("😀".to_string()),
                Just("e\u{301}".to_string()),
                "[a-z가-힣 ]{1,12}",
            ],
            0..400,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn split_keeps_limits_text_and_balance(
            title in feed_text(), summary in feed_text(), feed in "[a-z]{1,8}",
            terms in proptest::collection::vec(feed_text(), 0..4), limit in 120usize..600,
        ) {
            let a = Alert {
                title, url: "https://e.com/x?a=1&b=2".into(), feed, published: None,
                summary: summary.repeat(3),
                rules: vec![RuleHit { rule: "r".into(), matched: terms, via: vec![] }],
                cluster: None,
            };
            let html = alert_html(&a, chrono_tz::UTC);
            let chunks = split(&html, limit, Markup::Html);
            for c in &chunks {
                prop_assert!(utf16_len(c) <= limit, "chunk of {} > {limit}: {c:?}", utf16_len(c));
                prop_assert!(balanced(c), "unbalanced: {c:?}");
                prop_assert!(!visible(c).is_empty());
            }
            prop_assert_eq!(visible(&chunks.concat()), visible(&html));

            let plain = alert_plain(&a, chrono_tz::UTC);
            let chunks = split(&plain, limit, Markup::Plain);
            for c in &chunks {
                prop_assert!(utf16_len(c) <= limit);
            }
            prop_assert_eq!(chunks.concat(), plain);
        }

        #[test]
        fn the_real_limit_holds_for_huge_titles(n in 1usize..3000) {
            let a = Alert {
                title: "😀<&".repeat(n), url: "https://e.com/".into(), feed: "f".into(), published: None,
                summary: String::new(), rules: vec![],
                cluster: None,
            };
            let html = alert_html(&a, chrono_tz::UTC);
            for c in split(&html, MESSAGE_LIMIT, Markup::Html) {
                prop_assert!(utf16_len(&c) <= MESSAGE_LIMIT);
                prop_assert!(balanced(&c));
            }
        }
    }

    fn entry() -> OutboxEntry {
        let now = chrono::Utc::now();
        let key = [7u8; 32];
        OutboxEntry::alert(1, &key, record(), now)
    }

    #[test]
    fn parts_are_rendered_once() {
        let mut e = entry();
        e.render_parts(Tz::Asia__Seoul);
        assert_eq!(e.parts.len(), 1);
        assert!(!e.parts[0].plain);
        assert_eq!(e.parts[0].text, html(&e.body, Tz::Asia__Seoul));
        e.parts[0].text = "kept".into();
        e.render_parts(Tz::Asia__Seoul);
        assert_eq!(
            e.parts[0].text, "kept",
            "rendered parts are not rendered again"
        );
    }

    #[test]
    fn plain_from_the_start_renders_the_body_again_and_later_keeps_what_was_sent() {
        let mut e = entry();
        e.parts = vec![Part {
            text: "<b>broken".into(),
            plain: false,
        }];
        e.make_plain_from(0, Tz::UTC);
        assert_eq!(
            e.parts,
            vec![Part {
                text: plain(&e.body, Tz::UTC),
                plain: true
            }]
        );

        let sent = Part {
            text: "<b>sent</b>".into(),
            plain: false,
        };
        let already_plain = Part {
            text: "<i>as is</i>".into(),
            plain: true,
        };
        e.parts = vec![
            sent.clone(),
            Part {
                text: "<b>a &amp; b</b>".into(),
                plain: false,
            },
            already_plain.clone(),
        ];
        e.make_plain_from(1, Tz::UTC);
        assert_eq!(
            e.parts,
            vec![
                sent,
                Part {
                    text: html_to_plain("<b>a &amp; b</b>"),
                    plain: true
                },
                already_plain
            ]
        );
    }

    #[test]
    fn a_too_long_part_is_split_in_place_and_a_tiny_one_is_not() {
        let mut e = entry();
        let long = "가나다라 ".repeat(100);
        let (first, last) = (
            Part {
                text: "first".into(),
                plain: false,
            },
            Part {
                text: "last".into(),
                plain: false,
            },
        );
        e.parts = vec![
            first.clone(),
            Part {
                text: long.clone(),
                plain: true,
            },
            last.clone(),
        ];
        let len = utf16_len(&long);
        let Split::Done { len: got, pieces } = e.split_part(1) else {
            panic!("split: {:?}", e.parts);
        };
        assert_eq!(got, len);
        assert!(pieces >= 2, "{pieces}");
        assert_eq!(e.parts.len(), pieces + 2);
        assert_eq!((&e.parts[0], &e.parts[pieces + 1]), (&first, &last));
        for p in &e.parts[1..=pieces] {
            assert!(p.plain);
            assert!(utf16_len(&p.text) <= len / 2 + 32, "{}", p.text);
        }

        let before = e.parts.clone();
        assert_eq!(e.split_part(0), Split::Tiny { len: 5 });
        assert_eq!(e.parts, before);
    }
}
