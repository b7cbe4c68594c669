//! HTML → plain text: one walker, with a [`Profile`] for each use. Pure: no IO.
//!
//! Owns how markup, entities and whitespace become text: which elements are hidden, which make
//! paragraphs, which characters are invisible, how whitespace collapses, and the guards against
//! hostile nesting. It must not know what the text is for beyond its profile: feed clean-up
//! (cut-off markers, one-line titles) is `crate::text`'s, sentence splitting `crate::summary`'s.
//!
//! What [`to_text`] does, in order:
//! 1. repairs the entity damage seen in real feeds: a bare `quot;` / `apos;` / `#39;` / `#34;`
//!    (and a few more, [`repair_bare_entities`]) whose `&` was eaten upstream (pressian titles
//!    read `quot;…quot;`);
//! 2. text without `<` or `&` skips the HTML parser (most titles): see [`plain_to_text`];
//! 3. otherwise parses the text as an HTML fragment (html5ever via `dom_query`): tags dropped,
//!    entities decoded once, hidden elements (`<script>`, `<style>`, `<noscript>`,
//!    `<template>`, `<iframe>`, `<head>`, `<title>`, `<select>`) dropped with their text,
//!    `<img alt>` ignored; block elements and `<br>` become paragraph breaks. Input nested
//!    deeper than [`MAX_NESTING`] (estimated) is flattened first: html5ever's tree builder is
//!    quadratic in the depth;
//! 4. when entities are still left after that (the source escaped twice: `&amp;amp;`,
//!    `&amp;#32;`, `&amp;quot;`), decodes one more round, paragraph breaks kept — never more, so
//!    text that talks about entities is damaged at most once;
//! 5. drops zero-width characters and soft hyphens, collapses every whitespace run (control
//!    characters included) to one space and every run of paragraph breaks to one separator,
//!    and trims.
//!
//! The two profiles differ only where their readers do:
//!
//! | | [`Profile::Feed`] (titles, descriptions, contents) | [`Profile::Article`] (sentence splitting) |
//! |---|---|---|
//! | paragraph separator | `"\n"` | `"\n\n"` |
//! | also hidden | — | `<button>`, `<svg>`, `<math>`, `<figcaption>` (photo captions), `<object>`, `<video>`, `<audio>`, `<textarea>` |
//! | `<td>`, `<th>` | separated by a space | paragraphs |
//! | `<figcaption>` | a paragraph | hidden |
//! | C1 controls (U+0080–U+009F) | read as the windows-1252 characters their bytes stand for (`don\u{92}t` → `don’t`) | whitespace |
//! | plain text (step 2) | newlines are whitespace, as in HTML | blank lines are paragraph breaks |

use std::borrow::Cow;

use dom_query::{Document, NodeData, NodeId, NodeRef, TreeNode};

/// What the text is for; see the module doc for what differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Feed text: titles, descriptions and contents that rules match and alerts show.
    Feed,
    /// An article's paragraphs, for sentence splitting and summaries.
    Article,
}

impl Profile {
    /// What separates paragraphs in the output.
    pub fn paragraph_break(self) -> &'static str {
        match self {
            Profile::Feed => "\n",
            Profile::Article => "\n\n",
        }
    }

    /// How an element (lower-case local name) affects the text.
    fn classify(self, name: &str) -> Tag {
        match (self, name) {
            (
                _,
                "script" | "style" | "noscript" | "template" | "iframe" | "head" | "title"
                | "select",
            ) => Tag::Hidden,
            (
                Profile::Article,
                "button" | "svg" | "math" | "figcaption" | "object" | "video" | "audio"
                | "textarea",
            ) => Tag::Hidden,
            (Profile::Feed, "td" | "th") => Tag::Cell,
            (
                _,
                "p" | "div" | "br" | "li" | "ul" | "ol" | "dl" | "dt" | "dd" | "h1" | "h2" | "h3"
                | "h4" | "h5" | "h6" | "table" | "tr" | "td" | "th" | "blockquote" | "center"
                | "section" | "article" | "header" | "footer" | "aside" | "figure" | "figcaption"
                | "hr" | "pre" | "address" | "main" | "nav" | "form",
            ) => Tag::Block,
            _ => Tag::Inline,
        }
    }
}

/// How an element affects the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// Its text is never shown (`<script>`, `<style>`…).
    Hidden,
    /// Starts and ends a paragraph (`<p>`, `<br>`, `<div>`…).
    Block,
    /// A table cell in feed text: separated by a space.
    Cell,
    Inline,
}

/// Plain text of an HTML fragment (or of plain text that may carry entities), as the module
/// doc describes: tags stripped, entities decoded, whitespace collapsed, paragraphs separated
/// by the profile's [`Profile::paragraph_break`].
pub fn to_text(html: &str, profile: Profile) -> String {
    let src = repair_bare_entities(html);
    if !src.contains(['<', '&']) {
        return plain_to_text(&src, profile);
    }
    let first = walk_guarded(&src, profile);
    if has_entity(&first) {
        // Escaped twice upstream: decode one more round, keeping the paragraph breaks.
        walk_guarded(&first.replace(profile.paragraph_break(), "<br>"), profile)
    } else {
        first
    }
}

/// Text that is not parsed as HTML, collapsed as [`to_text`] collapses text: for
/// [`Profile::Feed`] every newline is whitespace; for [`Profile::Article`] a blank line
/// (`"\n\n"` or `"\r\n\r\n"`) is a paragraph break.
pub fn plain_to_text(s: &str, profile: Profile) -> String {
    let mut out = Collector::new(profile);
    match profile {
        Profile::Feed => out.text(s),
        Profile::Article => {
            for (i, para) in s
                .split("\n\n")
                .flat_map(|p| p.split("\r\n\r\n"))
                .enumerate()
            {
                if i > 0 {
                    out.paragraph();
                }
                out.text(para);
            }
        }
    }
    out.finish()
}

/// `s` on one line with whitespace collapsed (newlines included), as the profile collapses it.
pub fn collapse_whitespace(s: &str, profile: Profile) -> String {
    let mut out = Collector::new(profile);
    out.text(s);
    out.finish()
}

/// [`walk`], flattening input too deep for html5ever's tree builder first.
fn walk_guarded(html: &str, profile: Profile) -> String {
    if nests_deeper_than(html, MAX_NESTING) {
        walk(&flatten_tags(html), profile)
    } else {
        walk(html, profile)
    }
}

enum Kind {
    Text(String),
    Element(Tag),
    Other,
}

struct NodeInfo {
    kind: Kind,
    first_child: Option<NodeId>,
    next_sibling: Option<NodeId>,
    parent: Option<NodeId>,
}

/// Parses `html` as a fragment and collects its text.
fn walk(html: &str, profile: Profile) -> String {
    let doc = Document::fragment(html);
    let root = doc.root().id;
    let node_info = |n: &TreeNode| NodeInfo {
        kind: match &n.data {
            NodeData::Text { contents } => Kind::Text(contents.to_string()),
            NodeData::Element(e) => Kind::Element(profile.classify(&e.name.local)),
            _ => Kind::Other,
        },
        first_child: n.first_child,
        next_sibling: n.next_sibling,
        parent: n.parent,
    };
    let info = |id: NodeId| NodeRef::new(id, &doc.tree).query(node_info);
    let mut out = Collector::new(profile);
    let Some(mut cur) = info(root).and_then(|r| r.first_child) else {
        return String::new();
    };
    // Walked without recursion: hostile input can nest deeply.
    'walk: while let Some(node) = info(cur) {
        let descend = match &node.kind {
            Kind::Text(t) => {
                out.text(t);
                true
            }
            Kind::Element(Tag::Hidden) => false,
            Kind::Element(Tag::Block) => {
                out.paragraph();
                true
            }
            Kind::Element(Tag::Cell) => {
                out.text(" ");
                true
            }
            Kind::Element(Tag::Inline) | Kind::Other => true,
        };
        if descend && let Some(child) = node.first_child {
            cur = child;
            continue;
        }
        // Leave `cur`, climbing until an ancestor has a next sibling.
        let mut leaving = node;
        loop {
            if let Kind::Element(Tag::Block) = leaving.kind {
                out.paragraph();
            }
            if let Some(next) = leaving.next_sibling {
                cur = next;
                continue 'walk;
            }
            match leaving.parent.filter(|p| *p != root).and_then(info) {
                Some(parent) => leaving = parent,
                None => break 'walk,
            }
        }
    }
    out.finish()
}

/// Collects text: whitespace runs → one space, paragraph-break runs → one separator, nothing
/// before the first or after the last visible character; control characters count as
/// whitespace, invisible ones are dropped.
struct Collector {
    profile: Profile,
    out: String,
    space: bool,
    paragraph: bool,
}

impl Collector {
    fn new(profile: Profile) -> Collector {
        Collector {
            profile,
            out: String::new(),
            space: false,
            paragraph: false,
        }
    }

    fn text(&mut self, t: &str) {
        for c in t.chars() {
            let c = match self.profile {
                Profile::Feed => c1_as_windows_1252(c),
                Profile::Article => c,
            };
            if c.is_whitespace() || c.is_control() {
                self.space = true;
            } else if !is_invisible(c) {
                if !self.out.is_empty() {
                    if self.paragraph {
                        self.out.push_str(self.profile.paragraph_break());
                    } else if self.space {
                        self.out.push(' ');
                    }
                }
                self.space = false;
                self.paragraph = false;
                self.out.push(c);
            }
        }
    }

    fn paragraph(&mut self) {
        self.paragraph = true;
    }

    fn finish(self) -> String {
        self.out
    }
}

/// Characters dropped from all text: zero-width space, word joiner, BOM, soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// A C1 control character (U+0080–U+009F) as the windows-1252 character its byte stands for:
/// `don\u{0092}t` is cp1252 text that was decoded as Latin-1 upstream (or written as `&#146;`),
/// and means `don’t`, as feedparser reads it. The five bytes windows-1252 leaves undefined stay
/// controls (and so become spaces).
fn c1_as_windows_1252(c: char) -> char {
    const CP1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match c {
        '\u{80}'..='\u{9F}' => CP1252[c as usize - 0x80],
        c => c,
    }
}

// ---------------------------------------------------------------------------------------------
// Entities

/// Entity names seen without their `&` in real feeds (pressian: `quot;…quot;`,
/// `군산middot;익산`, `26.5hellip;김제`), and what they stand for.
const BARE_ENTITIES: [(&str, &str); 11] = [
    ("quot;", "\""),
    ("apos;", "'"),
    ("#39;", "'"),
    ("#34;", "\""),
    ("hellip;", "…"),
    ("middot;", "·"),
    ("nbsp;", " "),
    ("lsquo;", "‘"),
    ("rsquo;", "’"),
    ("ldquo;", "“"),
    ("rdquo;", "”"),
];

/// Replaces `quot;` (and friends) that are not part of a real reference (`&quot;`, `&#39;`)
/// with their character.
pub fn repair_bare_entities(s: &str) -> Cow<'_, str> {
    if !s.contains(';') || !BARE_ENTITIES.iter().any(|(name, _)| s.contains(name)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'scan: while let Some(c) = rest.chars().next() {
        for (name, ch) in BARE_ENTITIES {
            // Not after `&` or `&#`, nor after `&amp;` / `&amp;#` (a doubly escaped
            // reference, `&amp;hellip;`: the second decoding round reads it whole).
            let escaped = ["&", "&#", "&amp;", "&amp;#"]
                .iter()
                .any(|p| out.ends_with(p));
            if rest.starts_with(name) && !escaped {
                out.push_str(ch);
                rest = &rest[name.len()..];
                continue 'scan;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// Whether `s` still holds something that looks like a character reference:
/// `&name;`, `&#123;` or `&#x1F;`.
pub fn has_entity(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        if b != b'&' {
            return false;
        }
        let tail = &bytes[i + 1..];
        let tail = tail.strip_prefix(b"#").unwrap_or(tail);
        let n = tail
            .iter()
            .take(32)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        n > 0 && tail.get(n) == Some(&b';')
    })
}

// ---------------------------------------------------------------------------------------------
// Nesting guard

/// Deeper (estimated) element nesting than this is flattened before parsing: html5ever's tree
/// builder is quadratic in the depth of open elements, and a hostile feed must not stall a poll.
pub const MAX_NESTING: usize = 512;

/// Elements that never have an end tag.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "br" | "img"
            | "hr"
            | "meta"
            | "link"
            | "input"
            | "wbr"
            | "source"
            | "area"
            | "col"
            | "embed"
            | "param"
            | "track"
            | "base"
    )
}

/// Tags in order of appearance: (is an end tag, lower-case name, is self-closing, byte range).
fn tags(html: &str) -> impl Iterator<Item = (bool, String, bool, std::ops::Range<usize>)> + '_ {
    let bytes = html.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while let Some(off) = html[i..].find('<') {
            let at = i + off;
            let close = bytes.get(at + 1) == Some(&b'/');
            let name_start = at + 1 + usize::from(close);
            if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
                i = at + 1;
                continue;
            }
            let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
            let name_len = bytes[name_start..end]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            let name = html[name_start..name_start + name_len].to_ascii_lowercase();
            let self_closing = html[at..end].ends_with("/>");
            i = end;
            return Some((close, name, self_closing, at..end));
        }
        None
    })
}

/// Elements whose start tag closes an open one of the same name (`<p>a<p>b`, list items, table
/// rows and cells), so a run of them does not nest.
fn closes_its_kind(name: &str) -> bool {
    matches!(
        name,
        "p" | "li" | "dt" | "dd" | "tr" | "td" | "th" | "option" | "optgroup" | "rb" | "rt" | "rp"
    )
}

/// Whether `html` may nest elements deeper than `limit`, estimated from its tags alone (linear;
/// it errs on the deep side). An end tag counts only when an element of its name is open: `</b>`
/// with no `<b>` closes nothing, in HTML as here.
pub fn nests_deeper_than(html: &str, limit: usize) -> bool {
    if html.len() < limit.saturating_mul(3) {
        return false; // too short to nest that deep: `<a>` is the shortest start tag
    }
    let mut open: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut depth = 0usize;
    for (close, name, self_closing, _) in tags(html) {
        // HTML ignores `/>` except inside SVG and MathML: `<div/>` opens a div.
        let foreign = ["svg", "math"]
            .iter()
            .any(|f| open.get(*f).is_some_and(|n| *n > 0));
        if is_void(&name) || (self_closing && foreign) {
            continue;
        }
        let implied = closes_its_kind(&name);
        let count = open.entry(name).or_insert(0);
        if close {
            if *count > 0 {
                *count -= 1;
                depth = depth.saturating_sub(1);
            }
        } else if !(implied && *count > 0) {
            *count += 1;
            depth += 1;
            if depth > limit {
                return true;
            }
        }
    }
    false
}

/// `html` with every tag removed (block tags become `<br>`), for input too deep to parse as a
/// tree; entities are left for the parser, which then sees a flat fragment. The blocks are the
/// feed profile's for both profiles (flattening is a last resort: only the breaks matter).
fn flatten_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for (_, name, _, range) in tags(html) {
        out.push_str(&html[last..range.start]);
        if Profile::Feed.classify(&name) == Tag::Block {
            out.push_str("<br>");
        }
        last = range.end;
    }
    out.push_str(&html[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_estimate() {
        let deeper = |html: String| nests_deeper_than(&html, 100);
        assert!(!deeper("<p>a".repeat(1_000)));
        assert!(!deeper("<ul><li>a".repeat(50) + &"<li>b".repeat(1_000)));
        assert!(!deeper("<div>x</div>".repeat(1_000)));
        assert!(!deeper(
            "<svg>".to_string() + &"<path d=\"M0 0\"/>".repeat(1_000) + "</svg>"
        ));
        assert!(!deeper("<br><img src=x><hr>".repeat(1_000)));
        assert!(deeper("<div>".repeat(101)));
        assert!(deeper("<div></b>".repeat(101)));
        assert!(deeper("<div/>".repeat(101)));
        assert!(deeper("<b><p>".repeat(101)));
    }

    /// Both profiles hide the same elements' text and show the same words around them; only
    /// the paragraph separator differs.
    #[test]
    fn invisible_elements_leave_the_same_words_in_both_profiles() {
        let html = "<p>보이는 첫 문단</p><script>var hidden = 1;</script>\
                    <style>p { color: red }</style><noscript>자바스크립트를 켜세요</noscript>\
                    <template><p>틀</p></template><iframe>frame</iframe><select><option>선택\
                    </option></select><p>둘째 <b>문단</b>\u{200B}입니다\u{00AD}.</p>\
                    <head><title>제목</title></head>끝";
        let feed = to_text(html, Profile::Feed);
        let article = to_text(html, Profile::Article);
        assert_eq!(feed, "보이는 첫 문단\n둘째 문단입니다.\n끝");
        assert_eq!(article, feed.replace('\n', "\n\n"));
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(&feed), words(&article));
    }
}
