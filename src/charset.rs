//! Bytes → text: which charset a fetched body is in, and decoding it. Pure: no IO.
//!
//! Owns the one charset label table and the one decoding path, used by feed decoding
//! ([`decode_feed`], through `feed::decode`) and by article page decoding ([`decode_page`],
//! through `summary::decode_html`). It must not know about XML repairs, feeds or articles: it
//! hands back text, the encoding it chose and how many byte sequences it replaced.
//!
//! # Labels ([`for_label`])
//! The WHATWG table (encoding_rs's [`Encoding::for_label`]: `iso-8859-1` is windows-1252,
//! `ks_c_5601-1987` is EUC-KR, …), plus the Korean labels outlets use that WHATWG does not know
//! ([`KOREAN_ALIASES`]: `cp949`, `x-windows-949`, `ms949`, `uhc`, …). All of them mean
//! Windows-949, which is what encoding_rs calls EUC-KR. Surrounding quotes and whitespace are
//! ignored, case does not matter.
//!
//! # Evidence, in order
//! Both sources:
//! 1. a byte-order mark (UTF-8, UTF-16LE/BE) decides; for a feed, also UTF-16 without one, known
//!    by its `<?xml` in 16-bit units (its NUL bytes would otherwise pass as UTF-8);
//! 2. bytes that are valid UTF-8 are UTF-8. A feed: always, and also when only a character cut
//!    off at the very end is incomplete (a truncated download: the stub becomes U+FFFD, and the
//!    XML check reports where the document ends). A page: when it has non-ASCII content (an
//!    ASCII page lets its declaration speak);
//! 3. the declarations: the HTTP `charset=`, then the document's own (a feed's XML declaration
//!    `encoding=`, a page's first `<meta charset>` or `<meta http-equiv content="…charset=…">`
//!    in its first 4 KiB). A feed skips a declared UTF-8 (we know by now it is not) and refuses
//!    an encoding that is not ASCII-compatible ([`CharsetError::Unsupported`]); a page ignores a
//!    declared UTF-16 (it cannot be declared from inside an ASCII-compatible document). The
//!    declared encoding is decoded with replacement characters for the odd malformed byte;
//! 4. otherwise: a page is EUC-KR (with replacement), the common undeclared legacy encoding of
//!    Korean pages. A feed is EUC-KR if it decodes strictly (but for a character cut off at the
//!    very end), else UTF-8 or EUC-KR with replacement, whichever replaces fewer sequences, as
//!    long as they are few ([`CharsetError::Undecodable`] otherwise).

use std::borrow::Cow;

use encoding_rs::{EUC_KR, Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// Korean labels outlets use that are not WHATWG labels, all Windows-949 (encoding_rs's
/// EUC-KR). The WHATWG ones (`euc-kr`, `ks_c_5601-1987`, `windows-949`, `ksc5601`, …) come
/// from [`Encoding::for_label`].
pub const KOREAN_ALIASES: [&str; 7] = [
    "cp949",
    "x-windows-949",
    "ms949",
    "uhc",
    "x-uhc",
    "euc_kr",
    "ks_c_5601",
];

/// The encoding a charset label names (see the module doc), or `None` for a label no table
/// knows.
pub fn for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(['"', '\'']).trim();
    if KOREAN_ALIASES
        .iter()
        .any(|alias| alias.eq_ignore_ascii_case(label))
    {
        return Some(EUC_KR);
    }
    Encoding::for_label(label.as_bytes())
}

/// Which kind of document is decoded: the evidence differs (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A feed: XML, declared by `<?xml … encoding=…?>`; refuses what it cannot read.
    Feed,
    /// An article page: HTML, declared by `<meta>`; never fails.
    Page,
}

/// A decoded body.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// The encoding the text was decoded from.
    pub encoding: &'static Encoding,
    /// How many characters decoding replaced with U+FFFD; 0 when a download cut short inside
    /// its last character is the only damage (that is truncation, reported by the XML check).
    pub replaced: usize,
}

/// Why a feed body has no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CharsetError {
    /// Declared in an encoding we cannot read (not ASCII-compatible, or WHATWG's replacement
    /// encoding: `iso-2022-kr`, `hz-gb-2312`, …).
    Unsupported { label: String },
    /// Not UTF-8, no usable charset given, and not EUC-KR either.
    Undecodable,
}

/// A feed body as text (see the module doc for the order of evidence).
pub fn decode_feed<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
) -> Result<Decoded<'a>, CharsetError> {
    decode(body, content_type, Source::Feed)
}

/// A page as text; malformed sequences become U+FFFD, nothing fails.
pub fn decode_page<'a>(body: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    match decode(body, content_type, Source::Page) {
        Ok(decoded) => decoded,
        // `Source::Page` has no error path; this only keeps the signature honest.
        Err(_) => lossy(EUC_KR, body),
    }
}

/// The one decoding path: BOM, UTF-8, the declarations, the fallback (see the module doc).
pub fn decode<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
    source: Source,
) -> Result<Decoded<'a>, CharsetError> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        return Ok(lossy(encoding, &body[bom_len..]));
    }
    if source == Source::Feed
        && let Some(encoding) = utf16_without_bom(body)
    {
        return Ok(lossy(encoding, body));
    }
    // Whether UTF-8 is still the fallback below. A page: the body is ASCII (valid UTF-8 either
    // way). A feed: the body is UTF-8 but for an incomplete character at its very end, after
    // an ASCII prefix.
    let utf8_fallback = match (std::str::from_utf8(body), source) {
        (Ok(text), Source::Feed) => return Ok(exact(text.into(), UTF_8)),
        (Ok(text), Source::Page) if !text.is_ascii() => return Ok(exact(text.into(), UTF_8)),
        (Ok(_), Source::Page) => true,
        (Err(e), Source::Feed) if e.error_len().is_none() => {
            // A download cut short inside a character, not another charset: the stub becomes
            // U+FFFD and the XML check says where the document ends. An ASCII prefix is no
            // evidence of UTF-8, so then the declarations still get their say.
            if !body[..e.valid_up_to()].is_ascii() {
                return Ok(exact(String::from_utf8_lossy(body), UTF_8));
            }
            true
        }
        (Err(_), _) => false,
    };
    let http = content_type.and_then(http_charset).map(Cow::Borrowed);
    let declared = match source {
        Source::Feed => [http, xml_declared_encoding(body).map(Cow::Borrowed)],
        // The document is searched only when the header names no known charset.
        Source::Page => match http.filter(|l| for_label(l).is_some()) {
            Some(label) => [Some(label), None],
            None => [
                None,
                meta_charset(&body[..body.len().min(4096)]).map(Cow::Owned),
            ],
        },
    };
    for label in declared.iter().flatten() {
        let Some(encoding) = for_label(label) else {
            continue;
        };
        match source {
            // We already know it is not valid UTF-8: decided below.
            Source::Feed if encoding == UTF_8 => continue,
            Source::Feed
                if encoding == encoding_rs::REPLACEMENT || !encoding.is_ascii_compatible() =>
            {
                return Err(CharsetError::Unsupported {
                    label: label.to_string(),
                });
            }
            Source::Page if encoding == UTF_16LE || encoding == UTF_16BE => break,
            _ => return Ok(lossy(encoding, body)),
        }
    }
    match source {
        Source::Page if utf8_fallback => Ok(exact(String::from_utf8_lossy(body), UTF_8)),
        Source::Page => Ok(lossy(EUC_KR, body)),
        Source::Feed => feed_fallback(body, utf8_fallback),
    }
}

/// A feed with no usable declaration that is not UTF-8: strict EUC-KR, a UTF-8 download cut
/// inside its last character, or whichever of UTF-8 and EUC-KR replaces fewer sequences, if
/// they are few.
fn feed_fallback(body: &[u8], utf8_cut: bool) -> Result<Decoded<'_>, CharsetError> {
    if let Some(text) = decode_strict_but_cut(EUC_KR, body) {
        return Ok(exact(text.into(), EUC_KR));
    }
    if utf8_cut {
        return Ok(exact(String::from_utf8_lossy(body), UTF_8));
    }
    // A few bad bytes in an otherwise UTF-8 (or EUC-KR) feed: replace them, keep every story.
    // Whichever reads with fewer replacements is the feed's charset (a label was wrong before).
    let utf8 = lossy(UTF_8, body);
    let euc = lossy(EUC_KR, body);
    let best = if utf8.replaced <= euc.replaced {
        utf8
    } else {
        euc
    };
    if tolerable(best.replaced, body.len()) {
        Ok(best)
    } else {
        Err(CharsetError::Undecodable)
    }
}

/// Invalid byte sequences a feed may have and still be read as a charset with replacement:
/// a few (a description cut at a byte count, a stray byte), never a page in another charset.
fn tolerable(errors: usize, len: usize) -> bool {
    errors <= 16.max(len / 1000)
}

/// Text decoded without any replacement worth reporting.
fn exact<'a>(text: Cow<'a, str>, encoding: &'static Encoding) -> Decoded<'a> {
    Decoded {
        text,
        encoding,
        replaced: 0,
    }
}

/// `body` in `encoding` with U+FFFD for what does not decode, and how many were replaced.
fn lossy<'a>(encoding: &'static Encoding, body: &'a [u8]) -> Decoded<'a> {
    let (text, errors) = encoding.decode_without_bom_handling(body);
    let replaced = if errors { replaced(&text) } else { 0 };
    Decoded {
        text,
        encoding,
        replaced,
    }
}

/// How many characters decoding replaced (U+FFFD in its output).
fn replaced(text: &str) -> usize {
    text.chars().filter(|&c| c == '\u{FFFD}').count()
}

/// UTF-16 without a byte-order mark, known by its `<?xml` (or `<`) in 16-bit units: its NUL
/// bytes are valid UTF-8, so it would otherwise pass as UTF-8 and fail as XML.
fn utf16_without_bom(body: &[u8]) -> Option<&'static Encoding> {
    let start = body.get(..4)?;
    match start {
        [b'<', 0, b'?' | b'r' | b'f' | b'!', 0] => Some(UTF_16LE),
        [0, b'<', 0, b'?' | b'r' | b'f' | b'!'] => Some(UTF_16BE),
        _ => None,
    }
}

/// `body` decoded without replacement, except that an incomplete sequence at the very end (a
/// download cut short) becomes U+FFFD; `None` when any other byte is malformed.
fn decode_strict_but_cut(encoding: &'static Encoding, body: &[u8]) -> Option<String> {
    use encoding_rs::DecoderResult;
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out =
        String::with_capacity(decoder.max_utf8_buffer_length_without_replacement(body.len())?);
    let (result, _) = decoder.decode_to_string_without_replacement(body, &mut out, false);
    if !matches!(result, DecoderResult::InputEmpty) {
        return None;
    }
    match decoder
        .decode_to_string_without_replacement(b"", &mut out, true)
        .0
    {
        DecoderResult::InputEmpty => {}
        DecoderResult::Malformed(..) => out.push('\u{FFFD}'),
        DecoderResult::OutputFull => return None,
    }
    Some(out)
}

/// The `charset` parameter of a Content-Type header value (after the media type), unquoted.
pub fn http_charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']))
    })
}

/// `encoding` of the XML declaration, read as ASCII from the raw bytes.
fn xml_declared_encoding(body: &[u8]) -> Option<&str> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &body[start..body.len().min(start + 1024)];
    let head = head.strip_prefix(b"<?xml")?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    rest.find(quote).map(|e| &rest[..e])
}

/// The label (lower-cased) of the first `<meta>` tag in `head` that declares a known one
/// (`<meta charset>` or `<meta http-equiv content="…; charset=…">`).
fn meta_charset(head: &[u8]) -> Option<String> {
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut at = 0;
    while let Some(pos) = find(&lower[at..], b"<meta") {
        let start = at + pos + 5;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = String::from_utf8_lossy(&lower[start..end]);
        if let Some(i) = tag.find("charset") {
            let rest = tag[i + 7..].trim_start();
            if let Some(rest) = rest.strip_prefix('=') {
                let value: String = rest
                    .trim_start()
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(|c| {
                        !matches!(c, '"' | '\'' | ';' | '/' | '>') && !c.is_whitespace()
                    })
                    .collect();
                if for_label(&value).is_some() {
                    return Some(value);
                }
            }
        }
        at = end;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_aliases_are_the_labels_whatwg_lacks() {
        for alias in KOREAN_ALIASES {
            assert_eq!(Encoding::for_label(alias.as_bytes()), None, "{alias}");
            assert_eq!(for_label(alias), Some(EUC_KR), "{alias}");
            assert_eq!(for_label(&alias.to_ascii_uppercase()), Some(EUC_KR));
        }
        for (label, want) in [
            ("euc-kr", EUC_KR),
            (" \"KS_C_5601-1987\" ", EUC_KR),
            ("'windows-949'", EUC_KR),
            ("iso-8859-1", encoding_rs::WINDOWS_1252),
            ("UTF-8", UTF_8),
        ] {
            assert_eq!(for_label(label), Some(want), "{label}");
        }
        assert_eq!(for_label("bogus"), None);
    }

    /// The feed and the page path name the same encoding for every label both can see, from
    /// the HTTP header and from the document's own declaration.
    #[test]
    fn feeds_and_pages_agree_on_labels() {
        let euc = EUC_KR.encode("똠방각하 뷁").0.into_owned();
        let latin = b"caf\xe9".to_vec();
        let utf8 = "한국어".as_bytes().to_vec();
        let cases: [(&str, &[u8], &Encoding); 8] = [
            ("euc-kr", &euc, EUC_KR),
            ("ks_c_5601-1987", &euc, EUC_KR),
            ("cp949", &euc, EUC_KR),
            ("x-windows-949", &euc, EUC_KR),
            ("ms949", &euc, EUC_KR),
            ("uhc", &euc, EUC_KR),
            ("utf-8", &utf8, UTF_8),
            ("iso-8859-1", &latin, encoding_rs::WINDOWS_1252),
        ];
        for (label, text, want) in cases {
            let feed = [
                b"<rss version=\"2.0\"><channel><title>".as_slice(),
                text,
                b"</title></channel></rss>",
            ]
            .concat();
            let page = [b"<html><body><p>".as_slice(), text, b"</p></body></html>"].concat();
            let ct = format!("text/html; charset={label}");
            let from_header = (
                crate::feed::decode(&feed, Some(&ct)).map(|(_, e)| e).ok(),
                decode_page(&page, Some(&ct)).encoding,
            );
            assert_eq!(from_header, (Some(want), want), "header {label}");
            let feed = [
                format!("<?xml version=\"1.0\" encoding=\"{label}\"?>").as_bytes(),
                &feed,
            ]
            .concat();
            let page = [format!("<meta charset=\"{label}\">").as_bytes(), &page].concat();
            let from_document = (
                crate::feed::decode(&feed, None).map(|(_, e)| e).ok(),
                decode_page(&page, None).encoding,
            );
            assert_eq!(from_document, (Some(want), want), "declared {label}");
        }
    }

    #[test]
    fn replacements_are_counted_and_truncation_is_not() {
        let cut = "한국어".as_bytes();
        let cut = &cut[..cut.len() - 1];
        let got = decode_feed(cut, None).expect("cut utf-8");
        assert_eq!((got.encoding, got.replaced), (UTF_8, 0));
        let mut stray = "<p>한국어 본문</p>".repeat(4).into_bytes();
        stray.insert(3, 0xff);
        let got = decode_feed(&stray, None).expect("one stray byte");
        assert_eq!((got.encoding, got.replaced), (UTF_8, 1));
        let page = decode_page(&stray, Some("text/html; charset=utf-8"));
        assert_eq!((page.encoding, page.replaced), (UTF_8, 1));
    }
}
