//! The pure page-side inputs of a summary: bytes → text (`decode_html`), page → main text
//! (`extract_article`), and HTML fragment → plain text with paragraph breaks (`html_to_text`).
//!
//! Owns the choice of readability port (charset detection is `crate::charset`'s). It must not fetch
//! anything (the caller hands it bytes and the response's `Content-Type`), and it never fails:
//! a page it cannot make sense of yields `None` or lossy text, never an error.
//!
//! ## Why dom_smoothie
//!
//! Two maintained-looking Rust readability ports exist. `dom_smoothie` (0.19) follows Mozilla's
//! readability.js (the algorithm behind Firefox Reader View, still developed), is released
//! often, and parses with `dom_query` 0.29, the HTML parser kkachi already uses, so it adds no
//! second html5ever. `readability` (kumabook, 0.3) ports the 2010 arc90 script, pins
//! html5ever 0.26 (a second copy of the parser), and its default feature pulls in reqwest 0.11
//! (blocking) to fetch pages itself, which would break the rule that only `fetch` does IO. We
//! take dom_smoothie's cleaned article HTML and convert it with our own `html_to_text`, because
//! its `text_content` glues block elements together (its README says so) and we need paragraph
//! breaks.

use dom_query::{Document, NodeRef};

use crate::text::{MAX_NESTING, flatten_tags, has_entity, nests_deeper_than, repair_bare_entities};

/// The main text of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub title: String,
    /// Paragraphs separated by `"\n\n"`, whitespace collapsed, no markup or entities.
    pub text: String,
}

/// Main text of an HTML page (readability.js's algorithm via dom_smoothie), or `None` when the
/// page has no readable body. `url` only resolves relative links; an invalid one is ignored.
pub fn extract_article(html: &str, url: Option<&str>) -> Option<Article> {
    // html5ever's tree builder is quadratic in the depth: a page far too deep is not parsed.
    if nests_deeper_than(html, MAX_NESTING) {
        return None;
    }
    let doc = Document::from(html);
    if deeper_than(&doc, MAX_ARTICLE_DEPTH) {
        return None;
    }
    let parse = |doc: Document, url: Option<&str>| {
        let mut readability = dom_smoothie::Readability::with_document(doc, url, None).ok()?;
        readability.parse().ok()
    };
    let article =
        parse(doc, url).or_else(|| url.and_then(|_| parse(Document::from(html), None)))?;
    let text = html_to_text(&article.content);
    if text.is_empty() {
        return None;
    }
    Some(Article {
        title: collapse_spaces(&article.title),
        text,
    })
}

/// Pages nested deeper than this have no article for us: readability's scoring is quadratic in
/// the depth (and recursive: deep enough, it overflows the stack). News pages nest a few dozen
/// levels.
const MAX_ARTICLE_DEPTH: usize = 256;

/// Whether some node of `doc` is more than `limit` levels below the root (walked without
/// recursion).
fn deeper_than(doc: &Document, limit: usize) -> bool {
    let root = doc.root();
    let mut depth = 0usize;
    let mut cur: Option<NodeRef> = root.first_child();
    'walk: while let Some(node) = cur {
        depth += 1;
        if depth > limit {
            return true;
        }
        if let Some(child) = node.first_child() {
            cur = Some(child);
            continue;
        }
        let mut leaving = node;
        loop {
            depth -= 1;
            if let Some(next) = leaving.next_sibling() {
                cur = Some(next);
                continue 'walk;
            }
            match leaving.parent().filter(|p| p.id != root.id) {
                Some(parent) => leaving = parent,
                None => break 'walk,
            }
        }
    }
    false
}

/// Decodes a page to text: [`crate::charset::decode_page`] (a byte-order mark; valid UTF-8 with
/// non-ASCII content; the HTTP `Content-Type` charset; a `<meta charset>` or
/// `<meta http-equiv content="…charset=…">` in the first 4 KiB; otherwise EUC-KR). Malformed
/// sequences become U+FFFD.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    crate::charset::decode_page(bytes, content_type)
        .text
        .into_owned()
}

/// How an element affects the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// Never shown: scripts, styles, forms, and photo captions (`<figcaption>`).
    Hidden,
    /// Starts and ends a paragraph.
    Block,
    Inline,
}

fn classify(name: &str) -> Tag {
    match name {
        "script" | "style" | "noscript" | "template" | "iframe" | "head" | "title" | "select"
        | "button" | "svg" | "math" | "figcaption" | "object" | "video" | "audio" | "textarea" => {
            Tag::Hidden
        }
        "p" | "div" | "br" | "li" | "ul" | "ol" | "dl" | "dt" | "dd" | "h1" | "h2" | "h3"
        | "h4" | "h5" | "h6" | "table" | "tr" | "td" | "th" | "blockquote" | "center"
        | "section" | "article" | "header" | "footer" | "aside" | "figure" | "hr" | "pre"
        | "address" | "main" | "nav" | "form" => Tag::Block,
        _ => Tag::Inline,
    }
}

/// Plain text of an HTML fragment: tags dropped, entities decoded (twice when the source
/// escaped them twice, never more), whitespace collapsed, paragraphs separated by `"\n\n"`.
/// Bare `quot;`/`apos;`/`#39;` whose `&` was lost upstream are repaired first.
pub fn html_to_text(html: &str) -> String {
    let html = repair_bare_entities(html);
    if !html.contains(['<', '&']) {
        return collapse_paragraphs(&html);
    }
    let first = walk_guarded(&html);
    if has_entity(&first) {
        walk(&first.replace("\n\n", "<br>"))
    } else {
        first
    }
}

/// Plain text, as [`html_to_text`] makes it, from text that is either HTML or plain text. Plain
/// text keeps its blank-line paragraph breaks; single newlines are spaces.
pub fn to_text(s: &str) -> String {
    if looks_like_html(s) {
        html_to_text(s)
    } else {
        collapse_paragraphs(&repair_bare_entities(s))
    }
}

/// Text that is plain already (a story's title): paragraphs collapsed, nothing parsed.
pub fn plain_to_text(s: &str) -> String {
    collapse_paragraphs(s)
}

fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        || has_entity(s)
}

/// [`walk`], flattening input too deep for html5ever's tree builder (quadratic in the depth)
/// first, as `text::html_to_text` does.
fn walk_guarded(html: &str) -> String {
    if nests_deeper_than(html, MAX_NESTING) {
        walk(&flatten_tags(html))
    } else {
        walk(html)
    }
}

/// Walks the fragment without recursion (hostile input nests deeply) and collects its text.
fn walk(html: &str) -> String {
    let doc = Document::fragment(html);
    let root = doc.root();
    let mut out = Collector::default();
    let mut cur: Option<NodeRef> = root.first_child();
    'walk: while let Some(node) = cur {
        let tag = if node.is_element() {
            node.node_name().map_or(Tag::Inline, |n| classify(&n))
        } else {
            Tag::Inline
        };
        if node.is_text() {
            out.text(&node.text());
        }
        if tag == Tag::Block {
            out.block();
        }
        if tag != Tag::Hidden
            && let Some(child) = node.first_child()
        {
            cur = Some(child);
            continue;
        }
        let mut leaving = node;
        loop {
            if leaving.is_element()
                && leaving
                    .node_name()
                    .is_some_and(|n| classify(&n) == Tag::Block)
            {
                out.block();
            }
            if let Some(next) = leaving.next_sibling() {
                cur = Some(next);
                continue 'walk;
            }
            match leaving.parent().filter(|p| p.id != root.id) {
                Some(parent) => leaving = parent,
                None => break 'walk,
            }
        }
    }
    out.out
}

#[derive(Default)]
struct Collector {
    out: String,
    space: bool,
    block: bool,
}

impl Collector {
    fn text(&mut self, t: &str) {
        for c in t.chars() {
            if c.is_whitespace() || c.is_control() {
                self.space = true;
            } else if !is_invisible(c) {
                if !self.out.is_empty() {
                    if self.block {
                        self.out.push_str("\n\n");
                    } else if self.space {
                        self.out.push(' ');
                    }
                }
                self.space = false;
                self.block = false;
                self.out.push(c);
            }
        }
    }

    fn block(&mut self) {
        self.block = true;
    }
}

/// Zero-width space, word joiner, BOM, soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// Plain text with whitespace collapsed; blank lines become `"\n\n"`.
fn collapse_paragraphs(s: &str) -> String {
    let mut out = Collector::default();
    for (i, para) in s
        .split("\n\n")
        .flat_map(|p| p.split("\r\n\r\n"))
        .enumerate()
    {
        if i > 0 {
            out.block();
        }
        out.text(para);
    }
    out.out
}

pub(crate) fn collapse_spaces(s: &str) -> String {
    let mut out = Collector::default();
    out.text(s);
    out.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text_table() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("<p>one</p><p>two</p>", "one\n\ntwo"),
            ("a<br>b", "a\n\nb"),
            ("<b>bold</b> and <i>it</i>", "bold and it"),
            ("AT&amp;T &lt;tag&gt; &#39;s&#39;", "AT&T <tag> 's'"),
            ("AT&amp;amp;T", "AT&T"),
            ("&amp;#32; submitted by &amp;#32; x", "submitted by x"),
            ("quot;민족경제quot;", "\"민족경제\""),
            ("<script>x()</script>visible", "visible"),
            (
                "<figure><img src=x><figcaption>사진 설명</figcaption></figure>본문",
                "본문",
            ),
            (
                "<center><img src=\"x\"></center><br>이재명 후보는<br><br>말했다.",
                "이재명 후보는\n\n말했다.",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(html_to_text(input), *want, "input: {input:?}");
        }
    }

    #[test]
    fn to_text_keeps_plain_paragraphs() {
        assert_eq!(to_text("a\nb\n\nc"), "a b\n\nc");
        assert_eq!(to_text("3 < 5 and R&D"), "3 < 5 and R&D");
    }

    #[test]
    fn decode_html_charsets() {
        let (euc, _, _) = encoding_rs::EUC_KR.encode("똠방각하 뷁");
        let page = |meta: &str| {
            [
                format!("<html><head>{meta}</head><body>").as_bytes(),
                &euc,
                b"</body></html>",
            ]
            .concat()
        };
        let cases: &[(Vec<u8>, Option<&str>)] = &[
            (page(""), Some("text/html; charset=EUC-KR")),
            (page(""), Some("text/html; charset=cp949")),
            (page(""), Some("text/html; charset=\"ks_c_5601-1987\"")),
            (page("<meta charset=\"euc-kr\">"), None),
            (
                page(
                    "<META http-equiv=\"Content-Type\" content=\"text/html; charset=x-windows-949\">",
                ),
                None,
            ),
            (page(""), None),
            // a wrong HTTP charset does not beat a true meta declaration only when it is unknown
            (
                page("<meta charset='euc-kr'>"),
                Some("text/html; charset=bogus"),
            ),
        ];
        for (bytes, ct) in cases {
            let text = decode_html(bytes, *ct);
            assert!(text.contains("똠방각하 뷁"), "{ct:?}: {text}");
        }
        // valid UTF-8 wins over a stale declaration
        let utf8 = "<meta charset=euc-kr><p>안녕하세요</p>".as_bytes();
        assert!(decode_html(utf8, Some("text/html; charset=euc-kr")).contains("안녕하세요"));
        // BOM
        let bom = [&[0xEF, 0xBB, 0xBF][..], "<p>한글</p>".as_bytes()].concat();
        assert!(decode_html(&bom, Some("text/html; charset=euc-kr")).starts_with("<p>한글"));
    }
}
