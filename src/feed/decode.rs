//! Feed bytes → UTF-8 text with a true XML declaration ([`decode()`]), and the warning when bytes
//! had to be replaced. Pure.
//!
//! Raw bytes in, never pre-decoded text. The charset is chosen by [`crate::charset`], the one
//! decoding path for feeds and article pages (its module doc gives the order of evidence: BOM,
//! UTF-8, HTTP `charset=`, the XML declaration, EUC-KR, then UTF-8 or EUC-KR with replacement).
//! Here, the feed's side of it: bytes replaced while decoding become a warning that counts them
//! (every story is kept, and [`parse`](super::parse()) returns it); a body that is none of
//! those is [`FeedError::Undecodable`], a declared encoding we cannot read
//! [`FeedError::UnsupportedEncoding`].
//!
//! The text handed to feed-rs has no BOM and a true declaration: its `encoding=` says `UTF-8`
//! (padded to the old length), or it has none, which means UTF-8 (feed-rs decodes by the
//! declaration: a stale `euc-kr` on UTF-8 text silently empties titles). Whitespace before the
//! declaration is moved after it, keeping line numbers.

use std::borrow::Cow;

use encoding_rs::Encoding;

use super::FeedError;
use super::repair::find_attr;
use crate::charset::{self, CharsetError};

/// The bytes as UTF-8 with a true declaration, and the encoding they were decoded from.
/// Exposed for tests and diagnostics; see the module doc for the order of evidence.
pub fn decode(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<(String, &'static Encoding), FeedError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedError::Empty);
    }
    let (decoded, encoding, _) = decode_text(body, content_type)?;
    Ok((with_true_declaration(&decoded), encoding))
}

/// The text, its encoding, and a warning when bytes had to be replaced.
pub(super) fn decode_text<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
) -> Result<(Cow<'a, str>, &'static Encoding, Option<String>), FeedError> {
    let decoded = charset::decode_feed(body, content_type).map_err(|e| match e {
        CharsetError::Unsupported { label } => FeedError::UnsupportedEncoding { label },
        CharsetError::Undecodable => FeedError::Undecodable,
    })?;
    let note = (decoded.replaced > 0).then(|| replaced_note(decoded.replaced, decoded.encoding));
    Ok((decoded.text, decoded.encoding, note))
}

fn replaced_note(n: usize, encoding: &'static Encoding) -> String {
    format!(
        "{n} byte sequence(s) are not valid {} and were replaced with U+FFFD; every story is kept",
        encoding.name()
    )
}

/// `text` without a BOM, its XML declaration (if any) first and saying UTF-8. The declaration
/// keeps its length where it can (the new label is padded), so error columns stay the feed's.
pub(super) fn with_true_declaration(text: &str) -> String {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let ws = text.len() - text.trim_start().len();
    let (lead, rest) = text.split_at(ws);
    let decl_len = match rest.strip_prefix("<?xml") {
        Some(after) if after.starts_with(|c: char| c.is_whitespace() || c == '?') => {
            after.find("?>").map(|end| "<?xml".len() + end + 2)
        }
        _ => None,
    };
    let Some(decl_len) = decl_len else {
        return text.to_string(); // no declaration means UTF-8: already true
    };
    let (decl, body) = rest.split_at(decl_len);
    let mut out = String::with_capacity(text.len() + 8);
    match find_attr(decl, "encoding") {
        Some((v_start, v_end)) => {
            out.push_str(&decl[..v_start]);
            out.push_str("UTF-8");
            out.push_str(&decl[v_end..=v_end]); // the closing quote
            let padding = (v_end - v_start).saturating_sub("UTF-8".len());
            out.extend(std::iter::repeat_n(' ', padding));
            out.push_str(&decl[v_end + 1..]);
        }
        None => out.push_str(decl),
    }
    out.push_str(lead);
    out.push_str(body);
    out
}

#[cfg(test)]
mod tests {
    use encoding_rs::{EUC_KR, UTF_8};

    use super::decode;
    use crate::feed::test_support::{FIXTURES, SEOUL, error, euc_kr_feed, parse};
    use crate::feed::{self, parse_feed};

    // ---- decoding -----------------------------------------------------------------------

    #[test]
    fn euc_kr_fixture_decodes_to_hangul() {
        let (text, encoding) = decode(FIXTURES[5].1, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(encoding, EUC_KR);
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>"),
            "{text}"
        );
        assert!(text.contains("<description>년</description>"), "{text}");
        let stories = parse(FIXTURES[5].0, FIXTURES[5].1);
        assert_eq!(stories.len(), 1);
        assert_eq!(stories[0].summary, "년");
        assert_eq!(stories[0].id, "text:년");
    }

    #[test]
    fn euc_kr_under_every_label_and_none() {
        let decl = |label: &str| format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n");
        let mut cases: Vec<(Vec<u8>, Option<&str>)> = [
            "euc-kr",
            "EUC-KR",
            "cp949",
            "x-windows-949",
            "ks_c_5601-1987",
        ]
        .iter()
        .map(|l| (euc_kr_feed(&decl(l)), None))
        .collect();
        cases.push((euc_kr_feed(""), Some("application/rss+xml; charset=euc-kr")));
        cases.push((euc_kr_feed(""), Some("text/xml; charset=\"CP949\"")));
        cases.push((euc_kr_feed(""), None));
        // The HTTP charset wins over a wrong declaration; a declared UTF-8 that is not is ignored.
        cases.push((
            euc_kr_feed(&decl("iso-8859-1")),
            Some("text/xml;charset=ks_c_5601-1987"),
        ));
        cases.push((euc_kr_feed(&decl("utf-8")), None));
        cases.push((euc_kr_feed(""), Some("text/xml; charset=utf-8")));
        for (i, (bytes, content_type)) in cases.iter().enumerate() {
            let (text, encoding) =
                decode(bytes, *content_type).unwrap_or_else(|e| panic!("case {i}: {e}"));
            assert_eq!(encoding, EUC_KR, "case {i}");
            assert!(
                text.starts_with("<rss") || text.contains("encoding=\"UTF-8\""),
                "case {i}: {text}"
            );
            let stories = parse_feed("kr", bytes, *content_type, SEOUL)
                .unwrap_or_else(|e| panic!("case {i}: {e}"));
            assert_eq!(stories.len(), 1, "case {i}");
            assert_eq!(stories[0].title, "똠방각하 뷁 한국어 제목", "case {i}");
            assert_eq!(stories[0].summary, "본문입니다", "case {i}");
        }
    }

    #[test]
    fn utf8_wins_over_a_wrong_declaration_and_charset() {
        let xml = "<?xml version=\"1.0\" encoding=\"euc-kr\"?><rss version=\"2.0\"><channel>\
                   <item><title>한국어 제목</title><link>https://example.kr/1</link></item></channel></rss>";
        let stories = parse_feed(
            "kr",
            xml.as_bytes(),
            Some("text/xml; charset=euc-kr"),
            SEOUL,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].title, "한국어 제목");
        let (text, encoding) = decode(xml.as_bytes(), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(encoding, UTF_8);
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" ?><rss"),
            "{text}"
        );
    }

    #[test]
    fn bom_newline_and_versionless_rss_parse() {
        let body = "<rss><channel><item><title>제목 하나</title><link>https://e.kr/1</link></item></channel></rss>";
        let variants = [
            body.to_string(),
            format!("\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
            format!("\u{FEFF}<?xml version=\"1.0\"?>{body}"),
            format!("\u{FEFF}\r\n  <?xml version='1.0' encoding='utf-8' ?>{body}"),
            body.replace(
                "<rss>",
                "<rss version=\"2.00\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">",
            ),
            body.replace(
                "<rss>",
                "<rss\n  xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">",
            ),
            format!("<!-- generated -->\n<!DOCTYPE rss>\n{body}"),
        ];
        for v in &variants {
            let stories =
                parse_feed("f", v.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{v:?}: {e}"));
            assert_eq!(stories.len(), 1, "{v:?}");
            assert_eq!(stories[0].title, "제목 하나");
        }
        // UTF-16 with a BOM.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(body.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            parse_feed("f", &utf16, None, SEOUL).map(|s| s.len()).ok(),
            Some(1)
        );
    }

    #[test]
    fn declarations_become_true_and_keep_positions() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"\n<?xml version=\"1.0\"?>\n<rss/>",
                "<?xml version=\"1.0\"?>\n\n<rss/>",
            ),
            (
                b"<?xml version=\"1.0\" encoding=\"euc-kr\"?><rss/>",
                "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><rss/>",
            ),
            (
                b"\xef\xbb\xbf<?xml version='1.0' encoding='ks_c_5601-1987' ?>\n<rss/>",
                "<?xml version='1.0' encoding='UTF-8'          ?>\n<rss/>",
            ),
            (b"<rss/>", "<rss/>"),
        ];
        for (body, want) in cases {
            let (text, _) = decode(body, None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(text, *want);
        }
    }

    /// Regression (issue 13): one invalid byte rejected a whole UTF-8 feed ("cannot decode").
    #[test]
    fn a_few_invalid_bytes_are_replaced_and_every_story_kept() {
        let utf8 = "<rss version=\"2.0\"><channel><item><title>딥시크 새 모델</title><guid>1</guid>\
                    <description>설명이 바이트 수로 잘린 기</description></item>\
                    <item><title>둘째 기사</title><guid>2</guid></item></channel></rss>";
        // A description cut inside 기 (3 bytes) in the middle of the feed: 2 of them remain.
        let cut = utf8.find("기</description>").expect("cut point") + 2;
        let mut body = utf8.as_bytes()[..cut].to_vec();
        body.extend_from_slice(&utf8.as_bytes()[cut + 1..]);
        assert!(std::str::from_utf8(&body).is_err());
        let parsed = feed::parse("f", &body, None, chrono_tz::Asia::Seoul).expect("kept");
        assert_eq!(parsed.stories.len(), 2);
        assert_eq!(parsed.stories[0].title, "딥시크 새 모델");
        assert_eq!(
            parsed.warnings,
            vec!["1 byte sequence(s) are not valid UTF-8 and were replaced with U+FFFD; every story is kept".to_string()]
        );
        // The same in EUC-KR with a stray byte.
        let plain = utf8.replace("<description>설명이 바이트 수로 잘린 기</description>", "");
        let mut euc = EUC_KR.encode(&plain).0.into_owned();
        let marker = EUC_KR.encode("둘째").0.into_owned();
        let at = euc
            .windows(marker.len())
            .position(|w| w == marker.as_slice())
            .expect("second title");
        euc.insert(at + marker.len(), 0xff);
        let parsed = feed::parse("f", &euc, None, chrono_tz::Asia::Seoul).expect("kept");
        assert_eq!(parsed.stories.len(), 2, "{:?}", parsed.warnings);
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert!(
            parsed.warnings[0].contains("not valid EUC-KR"),
            "{:?}",
            parsed.warnings
        );
    }

    /// Regression (issue 13): UTF-16 without a BOM passed as UTF-8 and failed as XML.
    #[test]
    fn utf16_without_a_bom_is_read() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel>\
                   <item><title>유티에프 십육</title><guid>1</guid></item></channel></rss>";
        let le: Vec<u8> = xml.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = xml.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for body in [le, be] {
            let parsed = feed::parse("f", &body, Some("application/xml"), chrono_tz::Asia::Seoul)
                .expect("utf-16 without BOM");
            assert_eq!(parsed.stories.len(), 1);
            assert_eq!(parsed.stories[0].title, "유티에프 십육");
            assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        }
    }

    /// Issue 10: a download cut inside a multibyte character is truncated XML, not a charset
    /// problem. The incomplete character at the very end is replaced, as a lossy decoder would.
    #[test]
    fn truncated_inside_a_character_is_truncated_xml() {
        // pressian (UTF-8, declared), cut in the middle of a Hangul syllable of a <title>.
        let full = FIXTURES[4].1;
        let title = full
            .windows(7)
            .enumerate()
            .skip(full.len() / 2)
            .find_map(|(i, w)| (w == b"<title>").then_some(i + 7))
            .unwrap_or(0);
        let cut = title + 1 + (title..full.len()).take_while(|&i| full[i] < 0x80).count();
        assert!(full[cut] & 0xC0 == 0x80, "not inside a character");
        let want = "not valid XML at line 102, column 16: the document ends inside <title>";
        for content_type in [
            None,
            Some("text/xml; charset=utf-8"),
            Some("text/xml; charset=euc-kr"),
        ] {
            let got = match parse_feed("cut", &full[..cut], content_type, SEOUL) {
                Ok(s) => format!("{} stories", s.len()),
                Err(e) => e.to_string(),
            };
            assert_eq!(got, want, "{content_type:?}");
        }
        // Both bytes of a three-byte character present, the third missing.
        let got = error(&full[..cut + 1]);
        assert_eq!(got, want);
        // Undeclared EUC-KR cut after the lead byte of a syllable.
        let euc = euc_kr_feed("");
        let lead = euc.iter().rposition(|&b| b >= 0x80).unwrap_or(0) - 1;
        assert!(error(&euc[..lead + 1]).starts_with("not valid XML at line 1, column "));
        assert!(error(&euc[..lead + 1]).ends_with("the document ends inside <description>"));
        // A lone incomplete character after the end of the document costs nothing.
        let mut tail = full.to_vec();
        tail.extend_from_slice(b"\n\xea\xb0");
        assert_eq!(parse("tail", &tail).len(), 25);
    }
}
