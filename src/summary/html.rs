//! The pure page-side inputs of a summary: bytes → text (`decode_html`), page → main text
//! (`extract_article`), and HTML fragment → plain text with paragraph breaks (`html_to_text`:
//! [`crate::html`]'s walker with [`Profile::Article`], paragraphs separated by `"\n\n"` for
//! sentence splitting, photo captions and form controls hidden).
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

use crate::html::{
    self, MAX_NESTING, Profile, has_entity, nests_deeper_than, repair_bare_entities,
};

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

/// Plain text of an HTML fragment: tags dropped, entities decoded (twice when the source
/// escaped them twice, never more), whitespace collapsed, paragraphs separated by `"\n\n"`.
/// Bare `quot;`/`apos;`/`#39;` whose `&` was lost upstream are repaired first.
pub fn html_to_text(html: &str) -> String {
    html::to_text(html, Profile::Article)
}

/// Plain text, as [`html_to_text`] makes it, from text that is either HTML or plain text. Plain
/// text keeps its blank-line paragraph breaks; single newlines are spaces.
pub fn to_text(s: &str) -> String {
    if looks_like_html(s) {
        html_to_text(s)
    } else {
        html::plain_to_text(&repair_bare_entities(s), Profile::Article)
    }
}

/// Text that is plain already (a story's title): paragraphs collapsed, nothing parsed.
pub fn plain_to_text(s: &str) -> String {
    html::plain_to_text(s, Profile::Article)
}

fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        || has_entity(s)
}

/// `s` on one line, whitespace collapsed (an article's title).
pub(crate) fn collapse_spaces(s: &str) -> String {
    html::collapse_whitespace(s, Profile::Article)
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
