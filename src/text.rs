//! Feed text: HTML → plain text, and the clean-up every feed text goes through. Pure: no IO.
//!
//! Owns how titles, summaries and contents become the plain text that rules match and alerts
//! show. It must not know about feeds, stories or dedup (that is `feed` and `story`).
//!
//! HTML → text is [`crate::html`]'s walker with [`Profile::Feed`]: paragraph breaks are single
//! `'\n'`, newlines in the source are ordinary whitespace (as in HTML: only markup makes
//! paragraph breaks), C1 controls are read as windows-1252. This module adds what feed text
//! needs on top: trailing cut-off markers removed ([`clean_summary`]) and one-line titles and
//! names ([`one_line`]).

use crate::html::{self, Profile};

/// Plain text of an HTML fragment (or of plain text that may carry entities): tags stripped,
/// entities decoded, whitespace collapsed, paragraph breaks kept as single `'\n'`.
pub fn html_to_text(html: &str) -> String {
    html::to_text(html, Profile::Feed)
}

/// [`html_to_text`], then the trailing cut-off markers (`..`, `...`, `···`, `…`, `⋯`) that feeds
/// put on truncated text are removed.
pub fn clean_summary(s: &str) -> String {
    let mut text = html_to_text(s);
    let kept = strip_cutoff(&text).len();
    text.truncate(kept);
    text
}

/// At most `max` characters: cut ones end with `…` (counted).
pub fn trim_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
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
