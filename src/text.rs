//! HTML → plain text, and the clean-up every feed text goes through. Pure: no IO.
//!
//! Owns how titles, summaries and contents become the plain text that rules match and alerts
//! show. It must not know about feeds, stories or dedup (that is `feed` and `story`).
//!
//! What [`html_to_text`] does, in order:
//! 1. repairs the entity damage seen in real feeds: a bare `quot;` / `apos;` / `#39;` / `#34;`
//!    whose `&` was eaten upstream (pressian titles read `quot;…quot;`);
//! 2. parses the text as an HTML fragment (html5ever via `dom_query`): tags dropped, entities
//!    decoded once, `<script>`/`<style>` dropped, `<img alt>` ignored; block elements and `<br>`
//!    become paragraph breaks;
//! 3. when entities are still left after that (the source escaped twice: `&amp;amp;`,
//!    `&amp;#32;`, `&amp;quot;`), decodes one more round — never more, so text that talks about
//!    entities is damaged at most once;
//! 4. drops zero-width characters and soft hyphens, collapses every whitespace run to one space
//!    and every run of paragraph breaks to a single `'\n'`, and trims.
//!
//! Text without `<` or `&` skips the HTML parser (most titles). Newlines in the source are
//! ordinary whitespace, as in HTML: only markup makes paragraph breaks.

use std::borrow::Cow;

use dom_query::{Document, NodeData, NodeId, NodeRef, TreeNode};

/// Plain text of an HTML fragment (or of plain text that may carry entities): tags stripped,
/// entities decoded, whitespace collapsed, paragraph breaks kept as single `'\n'`.
pub fn html_to_text(html: &str) -> String {
    let repaired = repair_bare_entities(html);
    let src: &str = &repaired;
    if !src.contains(['<', '&']) {
        return collapse(std::iter::once(Piece::Text(Cow::Borrowed(src))));
    }
    let first = extract_guarded(src);
    if has_entity(&first) {
        // Escaped twice upstream: decode one more round, keeping the paragraph breaks.
        extract_guarded(&first.replace('\n', "<br>"))
    } else {
        first
    }
}

fn extract_guarded(html: &str) -> String {
    if nests_deeper_than(html, MAX_NESTING) {
        extract(&flatten_tags(html))
    } else {
        extract(html)
    }
}

/// [`html_to_text`], then the trailing cut-off markers (`..`, `...`, `···`, `…`, `⋯`) that feeds
/// put on truncated text are removed.
pub fn clean_summary(s: &str) -> String {
    let mut text = html_to_text(s);
    let kept = strip_cutoff(&text).len();
    text.truncate(kept);
    text
}

/// One line: [`clean_summary`] with paragraph breaks turned into spaces (for titles, names).
pub fn one_line(s: &str) -> String {
    let text = clean_summary(s);
    if text.contains('\n') {
        text.replace('\n', " ")
    } else {
        text
    }
}

/// `s` without trailing cut-off markers (and the whitespace before them). A single final `.` is
/// a sentence end and stays.
pub fn strip_cutoff(s: &str) -> &str {
    let mut rest = s.trim_end();
    loop {
        let before = rest;
        if let Some(r) = rest.strip_suffix(['…', '⋯', '‥']) {
            rest = r;
        } else {
            let dots = rest.chars().rev().take_while(|c| is_cutoff_dot(*c)).count();
            if dots >= 2 {
                let cut: usize = rest.chars().rev().take(dots).map(char::len_utf8).sum();
                rest = &rest[..rest.len() - cut];
            }
        }
        rest = rest.trim_end();
        if rest.len() == before.len() {
            return rest;
        }
    }
}

fn is_cutoff_dot(c: char) -> bool {
    matches!(c, '.' | '·' | '‧' | '・' | 'ㆍ' | '∙' | '…' | '⋯' | '‥')
}

/// Deeper (estimated) element nesting than this is flattened before parsing: html5ever's tree
/// builder is quadratic in the depth of open elements, and a hostile feed must not stall a poll.
pub(crate) const MAX_NESTING: usize = 512;

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
pub(crate) fn nests_deeper_than(html: &str, limit: usize) -> bool {
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
/// tree; entities are left for the parser, which then sees a flat fragment.
pub(crate) fn flatten_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for (_, name, _, range) in tags(html) {
        out.push_str(&html[last..range.start]);
        if classify(&name) == Tag::Block {
            out.push_str("<br>");
        }
        last = range.end;
    }
    out.push_str(&html[last..]);
    out
}

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
pub(crate) fn repair_bare_entities(s: &str) -> Cow<'_, str> {
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
pub(crate) fn has_entity(s: &str) -> bool {
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

/// A piece of extracted text: literal text or a paragraph break.
enum Piece<'a> {
    Text(Cow<'a, str>),
    Break,
}

/// How an element affects the text.
#[derive(Clone, Copy, PartialEq)]
enum Tag {
    /// Its text is never shown (`<script>`, `<style>`…).
    Hidden,
    /// Starts and ends a paragraph (`<p>`, `<br>`, `<div>`…).
    Block,
    /// A table cell: separated by a space.
    Cell,
    Inline,
}

fn classify(name: &str) -> Tag {
    match name {
        "script" | "style" | "noscript" | "template" | "iframe" | "head" | "title" | "select" => {
            Tag::Hidden
        }
        "p" | "div" | "br" | "li" | "ul" | "ol" | "dl" | "dt" | "dd" | "h1" | "h2" | "h3"
        | "h4" | "h5" | "h6" | "table" | "tr" | "blockquote" | "center" | "section" | "article"
        | "header" | "footer" | "aside" | "figure" | "figcaption" | "hr" | "pre" | "address"
        | "main" | "nav" | "form" => Tag::Block,
        "td" | "th" => Tag::Cell,
        _ => Tag::Inline,
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

fn node_info(n: &TreeNode) -> NodeInfo {
    let kind = match &n.data {
        NodeData::Text { contents } => Kind::Text(contents.to_string()),
        NodeData::Element(e) => Kind::Element(classify(&e.name.local)),
        _ => Kind::Other,
    };
    NodeInfo {
        kind,
        first_child: n.first_child,
        next_sibling: n.next_sibling,
        parent: n.parent,
    }
}

/// Parses `html` as a fragment and returns its collapsed text.
fn extract(html: &str) -> String {
    let doc = Document::fragment(html);
    let root = doc.root().id;
    let info = |id: NodeId| NodeRef::new(id, &doc.tree).query(node_info);
    let mut pieces: Vec<Piece<'static>> = Vec::new();
    let Some(mut cur) = info(root).and_then(|r| r.first_child) else {
        return String::new();
    };
    // Walked without recursion: hostile input can nest deeply.
    'walk: while let Some(node) = info(cur) {
        let descend = match &node.kind {
            Kind::Text(t) => {
                pieces.push(Piece::Text(Cow::Owned(t.clone())));
                true
            }
            Kind::Element(Tag::Hidden) => false,
            Kind::Element(Tag::Block) => {
                pieces.push(Piece::Break);
                true
            }
            Kind::Element(Tag::Cell) => {
                pieces.push(Piece::Text(Cow::Borrowed(" ")));
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
                pieces.push(Piece::Break);
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
    collapse(pieces.into_iter())
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

/// Characters dropped from all text: zero-width space, word joiner, BOM, soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// Joins pieces: whitespace runs → one space, break runs → one `'\n'`, trimmed; control
/// characters count as whitespace.
fn collapse<'a>(pieces: impl Iterator<Item = Piece<'a>>) -> String {
    #[derive(PartialEq)]
    enum Pending {
        None,
        Space,
        Break,
    }
    let mut out = String::new();
    let mut pending = Pending::None;
    for piece in pieces {
        match piece {
            Piece::Break => pending = Pending::Break,
            Piece::Text(t) => {
                for c in t.chars().map(c1_as_windows_1252) {
                    if c.is_whitespace() || c.is_control() {
                        if pending == Pending::None {
                            pending = Pending::Space;
                        }
                    } else if !is_invisible(c) {
                        if !out.is_empty() {
                            match pending {
                                Pending::Break => out.push('\n'),
                                Pending::Space => out.push(' '),
                                Pending::None => {}
                            }
                        }
                        pending = Pending::None;
                        out.push(c);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: double-encoded entities are decoded whatever their name, once.
    #[test]
    fn double_encoded_entities_of_any_name_are_decoded_once() {
        assert_eq!(
            html_to_text("a &amp;hellip; b &amp;rarr; c &amp;#8230; d &amp;eacute; e &amp;amp;lt;"),
            "a … b → c … d é e &lt;"
        );
    }

    /// Regression (issue 13): `don\u{0092}t` became `don t`.
    #[test]
    fn c1_controls_are_read_as_windows_1252() {
        assert_eq!(
            one_line("don\u{92}t \u{93}quoted\u{94} \u{85} 2\u{96}3 \u{97}"),
            "don’t “quoted” … 2–3 —"
        );
        assert_eq!(
            html_to_text("<p>it\u{92}s &#146;here&#146;</p>"),
            "it’s ’here’"
        );
        assert_eq!(
            one_line("a\u{81}b"),
            "a b",
            "undefined in windows-1252: a control"
        );
        assert_eq!(one_line("삼성\u{80}"), "삼성€");
    }

    #[test]
    fn html_to_text_table() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("  plain   text \n here ", "plain text here"),
            ("<p>one</p><p>two</p>", "one\ntwo"),
            ("a<br>b<br/><br>c", "a\nb\nc"),
            ("<b>bold</b> and <i>it</i>", "bold and it"),
            (
                "AT&amp;T &lt;tag&gt; &quot;q&quot; &#39;s&#39; &#x41;",
                "AT&T <tag> \"q\" 's' A",
            ),
            ("AT&amp;amp;T", "AT&T"),
            ("&amp;#32; submitted by &amp;#32; x", "submitted by x"),
            (
                "quot;민족경제는 민주화된 경제라야 한다quot;",
                "\"민족경제는 민주화된 경제라야 한다\"",
            ),
            ("it&apos;s apos;ok#39;", "it's 'ok'"),
            (
                "<script>alert(1)</script><style>p{}</style>visible",
                "visible",
            ),
            ("<img src='x' alt='caption'>본문", "본문"),
            (
                "<center><img src=\"x\"></center><br>이재명 후보는<br><br>말했다.",
                "이재명 후보는\n말했다.",
            ),
            ("a&nbsp;b\u{200B}c\u{00AD}d", "a bcd"),
            ("R&D and 3 < 5", "R&D and 3 < 5"),
            ("<table><tr><td>a</td><td>b</td></tr></table>", "a b"),
            ("<div><div><p>deep</p></div></div>tail", "deep\ntail"),
        ];
        for (input, want) in cases {
            assert_eq!(html_to_text(input), *want, "input: {input:?}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(50_000) + "x" + &"</div>".repeat(50_000);
        assert_eq!(html_to_text(&html), "x");
        let html = "<b>".repeat(100_000) + "y";
        assert_eq!(html_to_text(&html), "y");
        // Escaped twice: the second round decodes entities only, so this is text, not markup.
        let html = "&amp;lt;div&amp;gt;".repeat(50_000) + "z";
        let text = html_to_text(&html);
        assert!(
            text.starts_with("<div><div>") && text.ends_with("<div>z"),
            "len {}",
            text.len()
        );
        let html = "<p>a".repeat(2_000);
        assert_eq!(html_to_text(&html).lines().count(), 2_000);
    }

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

    #[test]
    fn clean_summary_drops_cutoff_markers() {
        let cases: &[(&str, &str)] = &[
            ("기사 본문이 잘렸습니다..", "기사 본문이 잘렸습니다"),
            ("기사 본문이 잘렸습니다...", "기사 본문이 잘렸습니다"),
            ("기사 본문이 잘렸습니다 ···", "기사 본문이 잘렸습니다"),
            ("기사 본문이 잘렸습니다…", "기사 본문이 잘렸습니다"),
            ("cut here… ", "cut here"),
            ("<p>cut here ...</p>", "cut here"),
            ("A sentence.", "A sentence."),
            (
                "부산은행서도 직원 횡령…해외서",
                "부산은행서도 직원 횡령…해외서",
            ),
            ("...", ""),
        ];
        for (input, want) in cases {
            assert_eq!(clean_summary(input), *want, "input: {input:?}");
        }
    }

    #[test]
    fn one_line_joins_paragraphs() {
        assert_eq!(one_line("<p>a</p><p>b…</p>"), "a b");
    }
}
