//! The repairs and checks between decoding and feed-rs. Pure.
//!
//! `<rss>` without a `version` (or with one feed-rs does not know, e.g. `2.00`) is read as 2.0.
//! A `&` that starts no reference (`AT&T`) is escaped. A document whose root is `<html>` is not
//! a feed, whatever feed-rs would make of it. The text must then be well-formed XML (checked
//! with quick-xml, because feed-rs returns `Ok` with items missing after some errors), nested
//! at most 1024 elements deep (feed-rs's namespace reader counts levels in a `u16`); errors
//! give the line and column in the feed as fetched (edits above are undone for the position).
//!
//! Every edit is recorded as an [`Edit`], so that an error position found in the repaired text
//! is mapped back to the feed as fetched ([`undo_edits`]).

use std::borrow::Cow;

use super::FeedError;

/// Where the root element's start tag is: byte offsets of `<` and of the end of its name.
pub(super) fn root_element(text: &str) -> Option<(usize, usize)> {
    let mut i = 0;
    let b = text.as_bytes();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let rest = &text[i..];
        let skip = if rest.starts_with("<?") {
            rest.find("?>").map(|e| e + 2)?
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|e| e + 3)?
        } else if rest.starts_with("<!") {
            // DOCTYPE, possibly with an internal subset in brackets. `[` is looked for only
            // before the first `>`: searching the whole rest at every `<!` was quadratic.
            let gt = rest.find('>')?;
            let close = match rest[..gt].find('[') {
                Some(open) => rest[open..].find(']').map(|c| open + c)?,
                None => 0,
            };
            rest[close..].find('>').map(|e| close + e + 1)?
        } else if let Some(tag) = rest.strip_prefix('<') {
            let name_len = tag
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(tag.len());
            return (name_len > 0).then_some((i, i + 1 + name_len));
        } else {
            return None;
        };
        i += skip;
    }
}

/// `&` that starts no entity or character reference (`AT&T`, `?a=1&b=2`) becomes `&amp;`:
/// feeds are full of them and no reader rejects a feed for it. CDATA sections and comments are
/// left alone.
pub(super) fn escape_bare_ampersands(text: &str) -> (Cow<'_, str>, Vec<Edit>) {
    let is_reference = |rest: &str| {
        let body = rest
            .strip_prefix('#')
            .map_or(rest, |r| r.strip_prefix(['x', 'X']).unwrap_or(r));
        let n = body
            .bytes()
            .take(32)
            .take_while(u8::is_ascii_alphanumeric)
            .count();
        n > 0 && body.as_bytes().get(n) == Some(&b';')
    };
    let needs_fix = text
        .match_indices('&')
        .any(|(i, _)| !is_reference(&text[i + 1..]));
    if !needs_fix || is_json(text) {
        return (text.into(), Vec::new());
    }
    let mut edits = Vec::new();
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let skip_to = if rest.starts_with("<![CDATA[") {
            rest.find("]]>").map_or(rest.len(), |e| e + 3)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map_or(rest.len(), |e| e + 3)
        } else if rest.starts_with('&') && !is_reference(&rest[1..]) {
            edits.push(Edit {
                at: out.len(),
                old_len: 1,
                new_len: "&amp;".len(),
            });
            out.push_str("&amp;");
            rest = &rest[1..];
            continue;
        } else {
            1
        };
        out.push_str(&rest[..skip_to]);
        rest = &rest[skip_to..];
    }
    out.push_str(rest);
    (out.into(), edits)
}

/// A JSON Feed: feed-rs reads those too.
pub(super) fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// RSS versions feed-rs dispatches on.
const KNOWN_RSS_VERSIONS: [&str; 3] = ["2.0", "0.91", "0.92"];

/// One replacement made to the decoded text: at byte `at`, `old_len` bytes became `new_len`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Edit {
    at: usize,
    old_len: usize,
    new_len: usize,
}

/// Maps an offset in edited text back to the text before `edits` (sorted by `at`, made in one
/// pass), so error positions are the feed's own.
pub(super) fn undo_edits(offset: usize, edits: &[Edit]) -> usize {
    let mut original = offset;
    for e in edits.iter().take_while(|e| e.at < offset) {
        if offset >= e.at + e.new_len {
            original = original + e.old_len - e.new_len;
        } else {
            return original - (offset - e.at);
        }
    }
    original
}

/// Rejects HTML; gives `<rss>` a version feed-rs knows.
pub(super) fn repair_root(text: &str) -> Result<(Cow<'_, str>, Option<Edit>), FeedError> {
    let Some((lt, name_end)) = root_element(text) else {
        return if is_json(text) {
            Ok((text.into(), None)) // JSON Feed: feed-rs reads it
        } else {
            Err(FeedError::NotAFeed { root: None })
        };
    };
    let name = &text[lt + 1..name_end];
    let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
    if local == "html" || local == "body" {
        return Err(FeedError::NotAFeed {
            root: Some(name.to_string()),
        });
    }
    if name != "rss" {
        return Ok((text.into(), None));
    }
    let tag_end = start_tag_end(text, name_end);
    let (at, old_len, new) = match find_attr(&text[name_end..tag_end], "version") {
        Some((v_start, v_end))
            if KNOWN_RSS_VERSIONS.contains(&text[name_end + v_start..name_end + v_end].trim()) =>
        {
            return Ok((text.into(), None));
        }
        Some((v_start, v_end)) => (name_end + v_start, v_end - v_start, "2.0"),
        None => (name_end, 0, " version=\"2.0\""),
    };
    let repaired = format!("{}{new}{}", &text[..at], &text[at + old_len..]);
    Ok((
        repaired.into(),
        Some(Edit {
            at,
            old_len,
            new_len: new.len(),
        }),
    ))
}

/// Offset of the `>` (or end of text) closing the start tag whose attributes begin at `from`.
fn start_tag_end(text: &str, from: usize) -> usize {
    let mut quote = None;
    for (i, c) in text[from..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return from + i,
            _ => {}
        }
    }
    text.len()
}

/// Byte range of the value of attribute `name` in the attribute text of a start tag.
pub(super) fn find_attr(attrs: &str, name: &str) -> Option<(usize, usize)> {
    let mut rest = 0;
    while let Some(at) = attrs[rest..].find(name).map(|i| rest + i) {
        rest = at + name.len();
        let before_ok = attrs[..at].ends_with(char::is_whitespace);
        let after = &attrs[rest..];
        let trimmed = after.trim_start();
        if before_ok && let Some(eq) = trimmed.strip_prefix('=') {
            let value = eq.trim_start();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let v_start = attrs.len() - value.len() + 1;
            let v_len = attrs[v_start..].find(quote)?;
            return Some((v_start, v_start + v_len));
        }
    }
    None
}

/// Feeds nest a handful of elements (XHTML content a few dozen more). Far deeper nesting is
/// refused before feed-rs sees it: its namespace reader counts levels in a `u16`.
const MAX_XML_DEPTH: usize = 1024;

/// Reads `text` with quick-xml to find where it stops being XML (or nests deeper than
/// [`MAX_XML_DEPTH`]): (byte offset, reason).
pub(super) fn locate_xml_error(text: &str) -> Option<(usize, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    loop {
        let before = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Eof) => {
                return open
                    .last()
                    .map(|tag| (text.len(), format!("the document ends inside <{tag}>")));
            }
            Ok(Event::Start(_)) if open.len() == MAX_XML_DEPTH => {
                let offset = usize::try_from(before).unwrap_or(text.len());
                return Some((
                    offset,
                    format!("elements nested more than {MAX_XML_DEPTH} deep"),
                ));
            }
            Ok(Event::Start(e)) => {
                open.push(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            Ok(Event::End(_)) => {
                open.pop();
            }
            Ok(_) => {}
            Err(e) => {
                let offset = usize::try_from(reader.error_position()).unwrap_or(text.len());
                return Some((offset, lower_first(&e.to_string())));
            }
        }
    }
}

pub(super) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::feed::parse_feed;
    use crate::feed::test_support::{FIXTURES, SEOUL, error};

    #[test]
    fn error_positions_are_the_feeds_own() {
        // One line, no version (an attribute is inserted) and bare `&` (escaped) before the error.
        let got = error(
            b"<rss><channel><item><title>A&B & C</title><link>x</lnk></item></channel></rss>",
        );
        assert_eq!(
            got,
            "not valid XML at line 1, column 50: ill-formed document: expected `</link>`, but `</lnk>` was found"
        );
        let got = error(b"<?xml version=\"1.0\" encoding=\"euc-kr\"?><rss version=\"2.0\"><channel></item></channel></rss>");
        assert!(
            got.starts_with("not valid XML at line 1, column 68: "),
            "{got}"
        );
    }

    #[test]
    fn truncated_feed_is_an_error() {
        let full = FIXTURES[4].1;
        let got = error(&full[..full.len() / 2]);
        assert_eq!(
            got,
            "not valid XML at line 96, column 22: the document ends inside <link>"
        );
        let got = error(b"<rss version=\"2.0\"><channel><item><title>a</title></item>");
        assert_eq!(
            got,
            "not valid XML at line 1, column 58: the document ends inside <channel>"
        );
    }

    #[test]
    fn bare_ampersands_and_undeclared_entities_are_tolerated() {
        let xml = "<rss version=\"2.0\"><channel><item><title>AT&T &nbsp;&amp; R&D &#39;x&#39;</title>\
                   <link>https://e.kr/a?x=1&utm_source=rss&y=2</link>\
                   <description><![CDATA[<p>a &amp; b & c</p>]]></description></item></channel></rss>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].title, "AT&T & R&D 'x'");
        assert_eq!(stories[0].url, "https://e.kr/a?x=1&y=2");
        assert_eq!(stories[0].summary, "a & b & c");
    }
}
