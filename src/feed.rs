//! Feed bytes → normalised [`Story`]s: decoding, repair, parsing (feed-rs), dates. Pure: no IO,
//! no `.await`, no global state.
//!
//! Owns everything between the fetched body and the story list. It must not fetch, store or
//! match: `fetch` hands it raw bytes and the HTTP `Content-Type`; `store` decides what is new.
//!
//! # Decoding ([`decode`])
//! Raw bytes in, never pre-decoded text. The encoding is chosen in this order:
//! 1. a byte-order mark (UTF-8, UTF-16LE/BE), or UTF-16 without one, known by its `<?xml` in
//!    16-bit units (its NUL bytes would otherwise pass as UTF-8);
//! 2. valid UTF-8 wins, also when only a character cut off at the very end is incomplete (a
//!    truncated download: the stub becomes U+FFFD, and the XML check reports where the document
//!    ends, with its line and column, not a charset problem);
//! 3. the HTTP `charset=`, then the XML declaration's `encoding=` (`cp949`, `x-windows-949`,
//!    `ms949`, `uhc`, `ks_c_5601-1987` and `euc-kr` all mean Windows-949, which is what
//!    encoding_rs calls EUC-KR). A declared UTF-8 that is not valid UTF-8 is ignored (servers
//!    say UTF-8 by default); an encoding the outlet names is decoded with replacement characters
//!    for the odd malformed byte, rather than losing the feed;
//! 4. otherwise a strict EUC-KR attempt (a character cut off at the very end is again
//!    truncation, not a reason to fail);
//! 5. otherwise UTF-8 or EUC-KR with replacement, whichever replaces fewer sequences, as long
//!    as they are few (a Korean outlet cutting a description at a byte count, a stray byte):
//!    every story is kept and [`parse`] returns a warning that counts them. Only a body that
//!    is neither (binary, another charset throughout) is [`FeedError::Undecodable`].
//!
//! The text handed to feed-rs has no BOM and a true declaration: its `encoding=` says `UTF-8`
//! (padded to the old length), or it has none, which means UTF-8 (feed-rs decodes by the
//! declaration: a stale `euc-kr` on UTF-8 text silently empties titles). Whitespace before the
//! declaration is moved after it, keeping line numbers.
//!
//! # Repairs and checks before feed-rs
//! `<rss>` without a `version` (or with one feed-rs does not know, e.g. `2.00`) is read as 2.0.
//! A `&` that starts no reference (`AT&T`) is escaped. A document whose root is `<html>` is not
//! a feed, whatever feed-rs would make of it. The text must then be well-formed XML (checked
//! with quick-xml, because feed-rs returns `Ok` with items missing after some errors), nested
//! at most 1024 elements deep (feed-rs's namespace reader counts levels in a `u16`); errors
//! give the line and column in the feed as fetched (edits above are undone for the position).
//!
//! # Dates ([`parse_date`])
//! RFC 3339 / ISO 8601, RFC 2822 (lenient: any weekday or none, long month names, one-digit
//! day and hour, no seconds, `GMT`/`UTC`/`Z`/US zone names, `KST`), and the Korean forms
//! `Sat, 16 07 2022 22:01:07 +0900`, `2022-07-16 22:01:07`, `2022.07.16 22:01`, `… KST`,
//! `2004-05-25 오후 11:23:17`, `2004년 05월 28일 01:31:15`. No zone means the configured time
//! zone. Stories carry their time in the configured zone's offset (feed-rs keeps only UTC).
//!
//! # Stories
//! In feed order; items with no title, link, description or content are skipped. `id` = the GUID / Atom id
//! as given (trimmed); without one, the canonical URL; without that, `title:` + the normalised
//! title (feed-rs's own generated ids are never used: its generator is replaced by one that
//! returns nothing). `url` = the canonical URL of the item's link (resolved against the feed's
//! own link when relative; the GUID when there is no link and the GUID is an http(s) URL);
//! empty when there is no http(s) URL (`javascript:` links are dropped).
//! `published` = `pubDate` / `dc:date` / Atom `published`, else Atom `updated`, else `None`
//! (the pipeline fills in first-seen). `title` is one line; `summary` (the description / Atom
//! summary, empty when the item has none) and `content` (`content:encoded` / Atom content) keep
//! paragraph breaks as single `'\n'`; all three lose trailing cut-off markers (see
//! [`crate::text`]). Authors and categories are one-line plain strings, deduplicated in order.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use encoding_rs::{EUC_KR, Encoding, UTF_8};

use crate::story::{Story, canonical_url, normalise_title};
use crate::text::{clean_summary, one_line};

/// Why a feed body could not become stories. Messages name the reason, lower-case; the caller
/// adds which feed it was.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("empty document")]
    Empty,
    #[error("cannot decode: not utf-8, no usable charset given, and not euc-kr either")]
    Undecodable,
    #[error("unsupported encoding `{label}`")]
    UnsupportedEncoding { label: String },
    #[error("{}", xml_message(*.position, .message))]
    Xml {
        /// 1-based line and column (characters) when the XML reader could say where.
        position: Option<(usize, usize)>,
        message: String,
    },
    #[error("not an RSS or Atom feed{}", root_note(root.as_deref()))]
    NotAFeed { root: Option<String> },
    #[error("invalid feed: {0}")]
    Invalid(String),
}

fn root_note(root: Option<&str>) -> String {
    root.map(|r| format!(" (the root element is <{r}>)"))
        .unwrap_or_default()
}

fn xml_message(position: Option<(usize, usize)>, message: &str) -> String {
    match position {
        Some((line, col)) => format!("not valid XML at line {line}, column {col}: {message}"),
        None => format!("not valid XML: {message}"),
    }
}

/// A parsed feed: its stories, in feed order, and what the user should hear about it (bytes
/// replaced while decoding, items that could not become stories). The daemon logs every
/// warning with the feed's name; `feed test` prints them.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub stories: Vec<Story>,
    pub warnings: Vec<String>,
}

/// Parses a fetched feed body into stories, in feed order (the warnings dropped: use
/// [`parse`] where a user or the log should hear them).
pub fn parse_feed(
    feed_name: &str,
    body: &[u8],
    content_type: Option<&str>,
    tz: Tz,
) -> Result<Vec<Story>, FeedError> {
    parse(feed_name, body, content_type, tz).map(|p| p.stories)
}

/// Parses a fetched feed body into stories and warnings.
///
/// `content_type`: the HTTP Content-Type header when fetched over HTTP (may carry charset=).
/// `tz`: the configured time zone, for dates without a zone and for the stories' offsets.
///
/// Invariant: nothing is lost without a word. Bytes that do not decode are replaced (U+FFFD)
/// and counted in a warning, never a reason to drop the feed; an item that cannot become a
/// story is counted in a warning; a document that holds `<item>`/`<entry>` elements but yields
/// no story says so.
pub fn parse(
    feed_name: &str,
    body: &[u8],
    content_type: Option<&str>,
    tz: Tz,
) -> Result<Parsed, FeedError> {
    let mut warnings = Vec::new();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedError::Empty);
    }
    let (decoded, _, replaced) = decode_text(body, content_type)?;
    if let Some(note) = replaced {
        warnings.push(note);
    }
    let text = with_true_declaration(&decoded);
    drop(decoded);
    let (rooted, root_edit) = repair_root(&text)?;
    let (repaired, amp_edits) = escape_bare_ampersands(&rooted);
    // feed-rs skips what follows some XML errors and returns fewer items (a mismatched end tag
    // inside an item yields `Ok` with no items): check well-formedness first.
    if !is_json(&repaired)
        && let Some((offset, message)) = locate_xml_error(&repaired)
    {
        let offset = undo_edits(undo_edits(offset, &amp_edits), root_edit.as_slice());
        return Err(FeedError::Xml {
            position: Some(crate::diag::line_col(&text, offset)),
            message,
        });
    }
    // Zone names the dates used that no table knows: one warning per feed, not a guess.
    let unknown_zones =
        std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let seen_zones = unknown_zones.clone();
    let zones = Zones::load();
    let parser = feed_rs::parser::Builder::new()
        .timestamp_parser(move |s| {
            let (date, unknown) = parse_date_noting(s, tz, &zones);
            if let Some(zone) = unknown
                && let Ok(mut set) = seen_zones.lock()
            {
                set.insert(zone);
            }
            date.map(|d| d.with_timezone(&Utc))
        })
        // An empty id means "none given": we choose the fallback ourselves, stably.
        .id_generator(|_, _, _| String::new())
        .build();
    let feed = parser
        .parse(repaired.as_bytes())
        .map_err(|e| feed_error(e, &repaired))?;
    if let Ok(set) = unknown_zones.lock()
        && !set.is_empty()
    {
        let names: Vec<&str> = set.iter().map(String::as_str).collect();
        warnings.push(format!(
            "dates with unknown zone name(s) {} were read as {tz} time (the zone is missing, not guessed)",
            names.join(", ")
        ));
    }
    let base = feed
        .links
        .iter()
        .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .find_map(|l| url::Url::parse(l.href.trim()).ok());
    let total = feed.entries.len();
    let stories: Vec<Story> = feed
        .entries
        .into_iter()
        .filter_map(|entry| story(feed_name, entry, base.as_ref(), tz))
        .collect();
    if stories.len() < total {
        warnings.push(format!(
            "{} of {total} items skipped: they have no title, link, id or text",
            total - stories.len()
        ));
    }
    if stories.is_empty() && !is_json(&repaired) {
        let items = count_items(&repaired);
        if items > 0 {
            warnings.push(format!(
                "no story read although the document holds {items} <item>/<entry> element(s): its format or namespace ({}) is not understood",
                root_description(&repaired)
            ));
        }
    }
    Ok(Parsed { stories, warnings })
}

/// `<item>` and `<entry>` start tags, with or without a prefix.
fn count_items(text: &str) -> usize {
    let mut n = 0;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                let name = e.local_name();
                n += usize::from(matches!(name.as_ref(), b"item" | b"entry"));
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return n,
            Ok(_) => {}
        }
    }
}

/// The root element's name and attributes (its version and namespaces), for a warning.
fn root_description(text: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                let tag = String::from_utf8_lossy(&e).into_owned();
                let tag: String = tag.chars().take(200).collect();
                return format!("<{tag}>");
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return "no root element".into(),
            Ok(_) => {}
        }
    }
}

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

/// Invalid byte sequences a feed may have and still be read as a charset with replacement:
/// a few (a description cut at a byte count, a stray byte), never a page in another charset.
fn tolerable(errors: usize, len: usize) -> bool {
    errors <= 16.max(len / 1000)
}

/// `body` in `encoding` with U+FFFD for what does not decode, and how many were replaced.
fn decode_lossy(encoding: &'static Encoding, body: &[u8]) -> (String, usize) {
    let (text, _) = encoding.decode_without_bom_handling(body);
    let n = replaced(&text);
    (text.into_owned(), n)
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
        [b'<', 0, b'?' | b'r' | b'f' | b'!', 0] => Some(encoding_rs::UTF_16LE),
        [0, b'<', 0, b'?' | b'r' | b'f' | b'!'] => Some(encoding_rs::UTF_16BE),
        _ => None,
    }
}

fn replaced_note(n: usize, encoding: &'static Encoding) -> String {
    format!(
        "{n} byte sequence(s) are not valid {} and were replaced with U+FFFD; every story is kept",
        encoding.name()
    )
}

/// The text, its encoding, and a warning when bytes had to be replaced.
fn decode_text<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
) -> Result<(Cow<'a, str>, &'static Encoding, Option<String>), FeedError> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let (text, errors) = encoding.decode_without_bom_handling(&body[bom_len..]);
        let note = errors.then(|| replaced_note(replaced(&text), encoding));
        return Ok((text, encoding, note));
    }
    if let Some(encoding) = utf16_without_bom(body) {
        let (text, errors) = encoding.decode_without_bom_handling(body);
        let note = errors.then(|| replaced_note(replaced(&text), encoding));
        return Ok((text, encoding, note));
    }
    // `Some` when the body is UTF-8 but for an incomplete character at its very end.
    let utf8_cut = match std::str::from_utf8(body) {
        Ok(text) => return Ok((text.into(), UTF_8, None)),
        Err(e) if e.error_len().is_none() => {
            // A download cut short inside a character, not another charset: the stub becomes
            // U+FFFD and the XML check says where the document ends. An ASCII prefix is no
            // evidence of UTF-8, so then the hints below still get their say.
            if !body[..e.valid_up_to()].is_ascii() {
                return Ok((String::from_utf8_lossy(body), UTF_8, None));
            }
            Some(())
        }
        Err(_) => None,
    };
    let hints = [
        content_type.and_then(http_charset),
        xml_declared_encoding(body),
    ];
    for label in hints.into_iter().flatten() {
        let Some(encoding) = encoding_for_label(label) else {
            continue;
        };
        if encoding == UTF_8 {
            continue; // we already know it is not valid UTF-8: decided below
        }
        if encoding == encoding_rs::REPLACEMENT || !encoding.is_ascii_compatible() {
            return Err(FeedError::UnsupportedEncoding {
                label: label.to_string(),
            });
        }
        let (text, errors) = encoding.decode_without_bom_handling(body);
        let note = errors.then(|| replaced_note(replaced(&text), encoding));
        return Ok((text, encoding, note));
    }
    if let Some(text) = decode_strict_but_cut(EUC_KR, body) {
        return Ok((text.into(), EUC_KR, None));
    }
    if utf8_cut.is_some() {
        return Ok((String::from_utf8_lossy(body), UTF_8, None));
    }
    // A few bad bytes in an otherwise UTF-8 (or EUC-KR) feed: replace them, keep every story.
    // Whichever reads with fewer replacements is the feed's charset (a label was wrong before).
    let (utf8, utf8_errors) = decode_lossy(UTF_8, body);
    let (euc, euc_errors) = decode_lossy(EUC_KR, body);
    let (text, errors, encoding) = if utf8_errors <= euc_errors {
        (utf8, utf8_errors, UTF_8)
    } else {
        (euc, euc_errors, EUC_KR)
    };
    if tolerable(errors, body.len()) {
        return Ok((text.into(), encoding, Some(replaced_note(errors, encoding))));
    }
    Err(FeedError::Undecodable)
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

/// The encoding a label names, with the Korean labels that are not WHATWG labels.
fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().to_ascii_lowercase();
    match label.as_str() {
        "cp949" | "x-windows-949" | "windows-949" | "ms949" | "uhc" | "euc_kr" | "ksc5601"
        | "ks_c_5601" => Some(EUC_KR),
        _ => Encoding::for_label(label.as_bytes()),
    }
}

/// `charset` of a Content-Type header value.
fn http_charset(content_type: &str) -> Option<&str> {
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

/// `text` without a BOM, its XML declaration (if any) first and saying UTF-8. The declaration
/// keeps its length where it can (the new label is padded), so error columns stay the feed's.
fn with_true_declaration(text: &str) -> String {
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

/// Where the root element's start tag is: byte offsets of `<` and of the end of its name.
fn root_element(text: &str) -> Option<(usize, usize)> {
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
fn escape_bare_ampersands(text: &str) -> (Cow<'_, str>, Vec<Edit>) {
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
fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// RSS versions feed-rs dispatches on.
const KNOWN_RSS_VERSIONS: [&str; 3] = ["2.0", "0.91", "0.92"];

/// One replacement made to the decoded text: at byte `at`, `old_len` bytes became `new_len`.
#[derive(Debug, Clone, Copy)]
struct Edit {
    at: usize,
    old_len: usize,
    new_len: usize,
}

/// Maps an offset in edited text back to the text before `edits` (sorted by `at`, made in one
/// pass), so error positions are the feed's own.
fn undo_edits(offset: usize, edits: &[Edit]) -> usize {
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
fn repair_root(text: &str) -> Result<(Cow<'_, str>, Option<Edit>), FeedError> {
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
fn find_attr(attrs: &str, name: &str) -> Option<(usize, usize)> {
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

fn feed_error(e: feed_rs::parser::ParseFeedError, text: &str) -> FeedError {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => FeedError::NotAFeed {
            root: root_element(text).map(|(lt, end)| text[lt + 1..end].to_string()),
        },
        ParseFeedError::XmlReader(x) => match locate_xml_error(text) {
            Some((offset, message)) => FeedError::Xml {
                position: Some(crate::diag::line_col(text, offset)),
                message,
            },
            None => FeedError::Xml {
                position: None,
                message: lower_first(&x.to_string()),
            },
        },
        other => FeedError::Invalid(lower_first(&other.to_string())),
    }
}

/// Feeds nest a handful of elements (XHTML content a few dozen more). Far deeper nesting is
/// refused before feed-rs sees it: its namespace reader counts levels in a `u16`.
const MAX_XML_DEPTH: usize = 1024;

/// Reads `text` with quick-xml to find where it stops being XML (or nests deeper than
/// [`MAX_XML_DEPTH`]): (byte offset, reason).
fn locate_xml_error(text: &str) -> Option<(usize, String)> {
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

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One entry → one story, or `None` when it has neither a title nor a link.
fn story(
    feed_name: &str,
    entry: feed_rs::model::Entry,
    base: Option<&url::Url>,
    tz: Tz,
) -> Option<Story> {
    let title = entry
        .title
        .as_ref()
        .map(|t| one_line(&t.content))
        .unwrap_or_default();
    let given_id = entry.id.trim();
    let href = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .map(|l| l.href.trim())
        .filter(|h| !h.is_empty());
    // A relative link is resolved against the feed's own link; a GUID that is an http(s) URL
    // stands in for a missing link (RSS GUIDs are permalinks by default).
    let url = href
        .and_then(|h| canonical_url(h).or_else(|| canonical_url(base?.join(h).ok()?.as_str())))
        .or_else(|| href.is_none().then(|| canonical_url(given_id)).flatten());
    let summary = entry
        .summary
        .as_ref()
        .map(|t| clean_summary(&t.content))
        .unwrap_or_default();
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(clean_summary)
        .filter(|c| !c.is_empty());
    // RSS 2.0 allows an item with only a description: it is still a story.
    if title.is_empty() && url.is_none() && summary.is_empty() && content.is_none() {
        return None;
    }
    let url = url.unwrap_or_default();
    let id = if !given_id.is_empty() {
        given_id.to_string()
    } else if !url.is_empty() {
        url.clone()
    } else if !title.is_empty() {
        format!("title:{}", normalise_title(&title))
    } else {
        let text = normalise_title(content.as_deref().unwrap_or(&summary));
        format!("text:{}", text.chars().take(200).collect::<String>())
    };
    let authors = unique(
        entry
            .authors
            .iter()
            .map(|p| match (&p.email, p.name.as_str()) {
                // feed-rs names an RSS <author> "author" and puts its text in `email`.
                (Some(email), "author") => one_line(email),
                _ => one_line(&p.name),
            }),
    );
    let categories = unique(entry.categories.iter().map(|c| one_line(&c.term)));
    Some(Story {
        id,
        feed: feed_name.to_string(),
        title,
        url,
        published: entry
            .published
            .or(entry.updated)
            .map(|t| t.with_timezone(&tz).fixed_offset()),
        summary,
        authors,
        categories,
        content,
    })
}

/// Non-empty strings, first occurrence kept.
fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Dates

/// Parses the date formats feeds use (see the module doc); no zone means `tz`.
pub fn parse_date(s: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    parse_date_noting(s, tz, &Zones::load()).0
}

/// [`parse_date`], and the zone name it did not know (the date is then in `tz`).
fn parse_date_noting(
    s: &str,
    tz: Tz,
    zones: &Zones,
) -> (Option<DateTime<FixedOffset>>, Option<String>) {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return (Some(d), None);
    }
    let toks = tokenize(s);
    let Some(parts) = DateParts::read(&toks, zones) else {
        return (None, None);
    };
    let date = parts.resolve(tz);
    let unknown = date.and(parts.unknown_zone.clone());
    (date, unknown)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
    Sym(char),
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            toks.push(Tok::Num(&s[i..end]));
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_alphabetic() {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            toks.push(Tok::Word(&s[i..end]));
        } else if !c.is_whitespace() {
            toks.push(Tok::Sym(c));
        }
    }
    toks
}

#[derive(Debug, Default)]
struct DateParts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    /// Numbers of the date part not yet placed, with their digit counts.
    loose: Vec<(u32, usize)>,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// `Some(true)` for PM / 오후, `Some(false)` for AM / 오전.
    pm: Option<bool>,
    offset: Option<i32>,
    /// A zone name that is in no table: the date is read in the configured zone, and the
    /// feed's warnings say so.
    unknown_zone: Option<String>,
    /// An explicit offset out of range (`-99:99`): no date.
    bad_offset: bool,
}

fn month_from_name(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&w))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// The zone names feeds use (`src/zones.txt`), read once per feed, not once per date word.
struct Zones(Vec<(&'static str, i32)>);

impl Zones {
    /// Lines that do not parse are skipped here and fail the test that checks the file.
    fn load() -> Zones {
        Zones(
            include_str!("zones.txt")
                .lines()
                .filter_map(zone_line)
                .collect(),
        )
    }

    /// Offset in seconds east of UTC.
    fn offset(&self, word: &str) -> Option<i32> {
        self.0
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(_, secs)| *secs)
    }

    /// A word in a date that reads like a zone abbreviation (2–5 capitals) but is in no table.
    fn unknown(&self, word: &str) -> bool {
        (2..=5).contains(&word.len())
            && word.bytes().all(|b| b.is_ascii_uppercase())
            && self.offset(word).is_none()
            && month_from_name(word).is_none()
            && !matches!(
                word.to_ascii_lowercase().as_str(),
                "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun" | "am" | "pm"
            )
    }
}

fn zone_line(line: &str) -> Option<(&str, i32)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, offset) = line.split_once(char::is_whitespace)?;
    let offset = offset.trim();
    let sign = match offset.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = offset[1..].split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some((name, sign * (h * 3600 + m * 60)))
}

fn num(t: Option<&Tok<'_>>) -> Option<(u32, usize)> {
    match t {
        Some(Tok::Num(n)) if n.len() <= 9 => n.parse().ok().map(|v| (v, n.len())),
        _ => None,
    }
}

impl DateParts {
    fn read(toks: &[Tok<'_>], zones: &Zones) -> Option<DateParts> {
        let mut p = DateParts::default();
        // The time: H:MM[:SS[.frac]] — the first number followed by ':'.
        let time_at = (0..toks.len()).find(|&i| {
            num(toks.get(i)).is_some_and(|(_, d)| d <= 2)
                && toks.get(i + 1) == Some(&Tok::Sym(':'))
                && num(toks.get(i + 2)).is_some()
        });
        let (date_toks, after_time) = match time_at {
            Some(i) => {
                p.hour = num(toks.get(i))?.0;
                p.minute = num(toks.get(i + 2))?.0;
                let mut k = i + 3;
                if toks.get(k) == Some(&Tok::Sym(':'))
                    && let Some((sec, _)) = num(toks.get(k + 1))
                {
                    p.second = sec;
                    k += 2;
                    if matches!(toks.get(k), Some(Tok::Sym('.' | ',')))
                        && let Some(Tok::Num(frac)) = toks.get(k + 1)
                    {
                        let digits: String =
                            frac.chars().chain(std::iter::repeat('0')).take(9).collect();
                        p.nanos = digits.parse().ok()?;
                        k += 2;
                    }
                }
                (&toks[..i], &toks[k..])
            }
            None => (toks, &toks[toks.len()..]),
        };
        p.read_date(date_toks)?;
        p.read_zone(after_time, zones);
        Some(p)
    }

    fn read_date(&mut self, toks: &[Tok<'_>]) -> Option<()> {
        let mut i = 0;
        while i < toks.len() {
            match toks[i] {
                Tok::Num(_) => {
                    let (v, digits) = num(toks.get(i))?;
                    match toks.get(i + 1) {
                        Some(Tok::Word("년")) => self.year = i32::try_from(v).ok(),
                        Some(Tok::Word("월")) => self.month = Some(v),
                        Some(Tok::Word("일")) => self.day = Some(v),
                        _ => self.loose.push((v, digits)),
                    }
                }
                Tok::Word(w) => self.meridiem_or_month(w),
                Tok::Sym(_) => {}
            }
            i += 1;
        }
        Some(())
    }

    fn meridiem_or_month(&mut self, w: &str) {
        match w.to_ascii_lowercase().as_str() {
            "오후" | "pm" => self.pm = Some(true),
            "오전" | "am" => self.pm = Some(false),
            _ => {
                if self.month.is_none() {
                    self.month = month_from_name(w);
                }
            }
        }
    }

    fn read_zone(&mut self, toks: &[Tok<'_>], zones: &Zones) {
        let mut i = 0;
        while i < toks.len() {
            match toks[i] {
                Tok::Sym(sign @ ('+' | '-')) => {
                    if let Some((v, digits)) = num(toks.get(i + 1)) {
                        let (h, m, used) = match (digits, toks.get(i + 2), num(toks.get(i + 3))) {
                            (1 | 2, Some(Tok::Sym(':')), Some((m, 2))) => (v, m, 4),
                            (1 | 2, _, _) => (v, 0, 2),
                            (4, _, _) => (v / 100, v % 100, 2),
                            _ => {
                                i += 1;
                                continue;
                            }
                        };
                        if h <= 14 && m < 60 {
                            let secs = i32::try_from(h * 3600 + m * 60).unwrap_or(0);
                            self.offset = Some(if sign == '-' { -secs } else { secs });
                        } else {
                            // `-99:99`: an offset no place has; the date is not trusted.
                            self.bad_offset = true;
                        }
                        i += used;
                        continue;
                    }
                }
                Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                    "오후" | "pm" => self.pm = Some(true),
                    "오전" | "am" => self.pm = Some(false),
                    _ => {
                        if let Some(z) = zones.offset(w)
                            && self.offset.is_none()
                        {
                            self.offset = Some(z);
                        } else if self.offset.is_none() && zones.unknown(w) {
                            self.unknown_zone = Some(w.to_string());
                        }
                    }
                },
                _ => {}
            }
            i += 1;
        }
    }

    /// Places the loose numbers into year, month and day.
    fn ymd(&self) -> Option<(i32, u32, u32)> {
        let loose = &self.loose;
        let year_of = |(v, digits): (u32, usize)| -> Option<i32> {
            let v = i32::try_from(v).ok()?;
            Some(match digits {
                4 => v,
                1 | 2 if v < 70 => 2000 + v,
                1 | 2 => 1900 + v,
                _ => return None,
            })
        };
        match (self.year, self.month, self.day) {
            (Some(y), Some(m), Some(d)) => Some((y, m, d)),
            // Month named: "16 Jul 2022", "Jul 16, 2022", "2022 Jul 16".
            (None, Some(m), None) => match loose.as_slice() {
                [a, b] if a.1 == 4 => Some((year_of(*a)?, m, b.0)),
                [a, b] => Some((year_of(*b)?, m, a.0)),
                _ => None,
            },
            (None, None, None) => match loose.as_slice() {
                [(v, 8)] => Some((i32::try_from(v / 10000).ok()?, v / 100 % 100, v % 100)),
                [a, b, c] if a.1 == 4 => Some((year_of(*a)?, b.0, c.0)),
                // "16 07 2022" (RFC 2822 order, numeric month);
                // "07 16 2022" when it can only be US order.
                [a, b, c] if c.1 == 4 && b.0 > 12 => Some((year_of(*c)?, a.0, b.0)),
                [a, b, c] if c.1 == 4 => Some((year_of(*c)?, b.0, a.0)),
                _ => None,
            },
            _ => None,
        }
    }

    fn resolve(&self, tz: Tz) -> Option<DateTime<FixedOffset>> {
        if self.bad_offset {
            return None;
        }
        let (y, m, d) = self.ymd()?;
        let date = NaiveDate::from_ymd_opt(y, m, d)?;
        let mut hour = self.hour;
        match self.pm {
            Some(true) if hour < 12 => hour += 12,
            Some(false) if hour == 12 => hour = 0,
            _ => {}
        }
        let (date, hour) = if hour == 24 {
            (date.succ_opt()?, 0)
        } else {
            (date, hour)
        };
        let time =
            NaiveTime::from_hms_nano_opt(hour, self.minute, self.second.min(59), self.nanos)?;
        let naive = NaiveDateTime::new(date, time);
        if !(1900..=9999).contains(&naive.year()) {
            return None;
        }
        match self.offset {
            Some(secs) => FixedOffset::east_opt(secs)?
                .from_local_datetime(&naive)
                .single(),
            None => tz
                .from_local_datetime(&naive)
                .earliest()
                // In a DST gap: the wall-clock time an hour later exists.
                .or_else(|| {
                    tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                        .earliest()
                })
                .map(|d| d.fixed_offset()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($path:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/feeds/",
                $path
            ))
        };
    }

    const FIXTURES: [(&str, &[u8]); 9] = [
        (
            "ko/donga-2022-07-30.xml",
            fixture!("ko/donga-2022-07-30.xml"),
        ),
        (
            "ko/joongang-2022-07-30.xml",
            fixture!("ko/joongang-2022-07-30.xml"),
        ),
        ("ko/kmib-2022-07-30.xml", fixture!("ko/kmib-2022-07-30.xml")),
        (
            "ko/nocut-2022-07-30.xml",
            fixture!("ko/nocut-2022-07-30.xml"),
        ),
        (
            "ko/pressian-2022-07-30.xml",
            fixture!("ko/pressian-2022-07-30.xml"),
        ),
        (
            "ko/euc-kr-declared-tiny.xml",
            fixture!("ko/euc-kr-declared-tiny.xml"),
        ),
        ("en/techcrunch-2011.xml", fixture!("en/techcrunch-2011.xml")),
        (
            "en/huffpost-canada-2017.xml",
            fixture!("en/huffpost-canada-2017.xml"),
        ),
        (
            "en/reddit-worldnews-atom-2019.xml",
            fixture!("en/reddit-worldnews-atom-2019.xml"),
        ),
    ];

    const SEOUL: Tz = chrono_tz::Asia::Seoul;

    fn parse(name: &str, bytes: &[u8]) -> Vec<Story> {
        match parse_feed(name, bytes, None, SEOUL) {
            Ok(stories) => stories,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    #[test]
    fn every_fixture_parses_with_its_item_count() {
        // Counted with `grep -c '<item[ >]'` / `grep -c '<entry[ >]'`. The EUC-KR fixture's one
        // item has only a description (checked below).
        let want = [50, 30, 30, 50, 25, 1, 20, 2, 25];
        for ((name, bytes), want) in FIXTURES.iter().zip(want) {
            let stories = parse(name, bytes);
            assert_eq!(stories.len(), want, "{name}");
            // The tiny EUC-KR item has only a description: no title, link or date.
            let complete = !name.contains("euc-kr-declared-tiny");
            for s in &stories {
                assert_eq!(s.feed, *name);
                assert!(!s.id.is_empty(), "{name}: {s:?}");
                if complete {
                    assert!(!s.title.is_empty() && !s.url.is_empty(), "{name}: {s:?}");
                    assert!(s.url.starts_with("http"), "{name}: {}", s.url);
                    assert!(s.published.is_some(), "{name}: {}", s.title);
                }
                assert!(!s.title.contains('\n'), "{name}: {}", s.title);
                for bad in ["<", ">"] {
                    assert!(
                        !s.title.contains(bad) && !s.summary.contains(bad),
                        "{name}: {bad:?} in {s:?}"
                    );
                }
                for text in [
                    &s.title,
                    &s.summary,
                    s.content.as_ref().unwrap_or(&String::new()),
                ] {
                    // Content may quote `<뉴스1>` (double-escaped upstream: it is text),
                    // never a tag.
                    let tag_like = text.match_indices('<').any(|(i, _)| {
                        text[i + 1..]
                            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!')
                    });
                    assert!(!tag_like, "{name}: tag in {text:?}");
                    for bad in [
                        "&amp;", "&quot;", "quot;", "&#", "&lt;", "&gt;", "&nbsp;", "&apos;",
                        "middot;", "hellip;",
                    ] {
                        assert!(!text.contains(bad), "{name}: {bad:?} in {text:?}");
                    }
                    assert_eq!(text.trim(), text, "{name}: untrimmed {text:?}");
                    assert!(!text.contains("  "), "{name}: double space in {text:?}");
                    assert!(
                        !text.ends_with("..") && !text.ends_with('…'),
                        "{name}: cut-off marker in {text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn korean_fixtures_read_right() {
        let [donga, joongang, kmib, nocut, pressian, ..] =
            FIXTURES.map(|(name, bytes)| parse(name, bytes));
        assert_eq!(
            donga[0].title,
            "부산은행서도 직원 횡령…해외서 들어온 14억여원 빼돌려"
        );
        assert_eq!(
            donga[0].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2022-07-30T18:00:00+09:00")
        );
        let content = donga[0].content.as_deref().unwrap_or_default();
        assert!(
            content.starts_with("BNK부산은행에서 한 직원이"),
            "{content}"
        );
        assert_eq!(donga[0].summary, "", "the Donga items have no description");

        assert_eq!(joongang[0].title, "[포토] TXT, 더욱 성장된 모습으로 컴백!");
        assert_eq!(joongang[0].url, "https://news.joins.com/article/24232833");
        assert_eq!(
            joongang[0].id,
            "https://news.joins.com/article/24232833?cloc=rss-news-total_list"
        );

        assert_eq!(
            kmib[0].title,
            "이재명 “저소득층, 與지지”… 野내부서 “선민의식” 비판"
        );
        assert_eq!(
            kmib[0].url,
            "https://news.kmib.co.kr/article/view.asp?arcid=0017326476&code=61111111&sid1=pol"
        );
        let content = kmib[0].content.as_deref().unwrap_or_default();
        assert!(
            content.starts_with("이재명 더불어민주당 당대표 후보가 29일"),
            "{content}"
        );
        assert!(
            content.contains("견제에 나섰다.\n이 후보는"),
            "<br> is a paragraph break"
        );
        assert!(
            content.ends_with("구자창 기자 critic@kmib.co.kr"),
            "{content}"
        );

        assert_eq!(nocut[0].title, "블링컨-최선희 다음주 '랑데부' 가능성");
        assert_eq!(
            nocut[1].title,
            "[노컷체크]모든 아파트 신축 현장에는 '똥방'이 있다?"
        );
        let content = nocut[0].content.as_deref().unwrap_or_default();
        assert!(
            content.starts_with("토니 블링컨 미국 국무장관이"),
            "{content}"
        );

        assert_eq!(
            pressian[0].title,
            "김관영 전북도지사직 인수위원회 활동 담은 '백서(白書)', 내달 4일 발간"
        );
        assert_eq!(pressian[1].title, "\"민족경제는 민주화된 경제라야 한다\"");
        assert_eq!(
            pressian[0].url,
            "https://www.pressian.com/pages/articles/2022073002525916549"
        );
        assert!(pressian.iter().all(|s| !s.title.contains("quot;")));
    }

    #[test]
    fn english_fixtures_read_right() {
        let [.., techcrunch, huffpost, reddit] = FIXTURES.map(|(name, bytes)| parse(name, bytes));
        let tc = &techcrunch[0];
        assert_eq!(
            tc.title,
            "Angie’s List Sets Price Range IPO At $11 To $13 Per Share; Valued At Over $600M"
        );
        assert_eq!(tc.id, "http://techcrunch.com/?p=446154");
        assert_eq!(tc.authors, ["Leena Rao"]);
        assert_eq!(tc.categories.first().map(String::as_str), Some("TC"));
        assert!(
            tc.summary
                .starts_with("Angie's List, which offers consumers"),
            "{}",
            tc.summary
        );
        assert!(
            tc.content
                .as_ref()
                .is_some_and(|c| c.len() > tc.summary.len())
        );
        assert_eq!(
            tc.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2011-11-03T02:25:27+09:00")
        );

        assert_eq!(
            huffpost[0].title,
            "Winnipeg High School Orders Custom Hijabs For Muslim Athletes"
        );
        // The second item has no guid: its id is its canonical URL.
        assert_eq!(huffpost[1].id, huffpost[1].url);
        assert_eq!(
            huffpost[1].url,
            "http://www.huffingtonpost.ca/adrian-sutherland/the-once-in-a-lifetime-thrill-of-opening-for-tom-petty_a_23234370/"
        );

        let r = &reddit[0];
        assert_eq!(r.id, "t3_dw6yqu");
        assert_eq!(
            r.title,
            "UK ministers threaten sanctions on Hong Kong officials"
        );
        // Atom `updated` only: it is the published time.
        assert_eq!(
            r.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2019-11-14T18:08:29+09:00")
        );
        assert_eq!(
            r.content.as_deref(),
            Some("submitted by /u/yozyi\n[link] [comments]")
        );
        assert_eq!(r.authors, ["/u/yozyi"]);
        assert_eq!(r.categories, ["worldnews"]);
    }

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

    /// A synthetic EUC-KR feed, including 똠 and 뷁 (CP949 extension syllables).
    fn euc_kr_feed(declaration: &str) -> Vec<u8> {
        let xml = format!(
            "{declaration}<rss version=\"2.0\"><channel><title>한글</title>\
             <item><title>똠방각하 뷁 한국어 제목</title><link>https://example.kr/1</link>\
             <description>본문입니다…</description></item></channel></rss>"
        );
        let (bytes, _, unmappable) = EUC_KR.encode(&xml);
        assert!(!unmappable);
        bytes.into_owned()
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

    // ---- errors -------------------------------------------------------------------------

    fn error(body: &[u8]) -> String {
        match parse_feed("bad", body, None, SEOUL) {
            Ok(stories) => panic!(
                "{:?}: expected an error, got {} stories",
                String::from_utf8_lossy(body),
                stories.len()
            ),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty document"),
            (b"  \n ", "empty document"),
            (
                b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n<channel>\n<item><title>a</titel></item>\n</channel></rss>",
                "not valid XML at line 4, column ",
            ),
            (
                b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Not found</title></head><body><p>404</body></html>",
                "not an RSS or Atom feed (the root element is <html>)",
            ),
            (b"<html><body>hello</body></html>", "not an RSS or Atom feed (the root element is <html>)"),
            (b"<note><to>you</to></note>", "not an RSS or Atom feed (the root element is <note>)"),
            (b"hello, world", "not an RSS or Atom feed"),
            (b"<?xml version=\"1.0\" encoding=\"iso-2022-kr\"?><rss>\x0e\x80</rss>", "unsupported encoding `iso-2022-kr`"),
            (&[0x80u8, 0xff, 0x81, 0xfe].repeat(40)[..], "cannot decode"),
        ];
        for (body, want) in cases {
            let got = error(body);
            assert!(
                got.starts_with(want),
                "{:?}: got {got:?}, want {want:?}",
                String::from_utf8_lossy(body)
            );
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
        let parsed = super::parse("f", &body, None, chrono_tz::Asia::Seoul).expect("kept");
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
        let parsed = super::parse("f", &euc, None, chrono_tz::Asia::Seoul).expect("kept");
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
            let parsed = super::parse("f", &body, Some("application/xml"), chrono_tz::Asia::Seoul)
                .expect("utf-16 without BOM");
            assert_eq!(parsed.stories.len(), 1);
            assert_eq!(parsed.stories[0].title, "유티에프 십육");
            assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        }
    }

    /// Regression (issue 13): a feed that yielded no story while holding items passed silently.
    #[test]
    fn no_story_from_a_document_with_items_is_a_warning() {
        let atom03 = "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>t</title>\
                      <entry><title>첫 기사</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>";
        let parsed =
            super::parse("f", atom03.as_bytes(), None, chrono_tz::Asia::Seoul).expect("parsed");
        if parsed.stories.is_empty() {
            assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
            assert!(
                parsed.warnings[0].starts_with("no story read although the document holds 1 <item>/<entry> element(s): its format or namespace (<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">) is not understood"),
                "{:?}",
                parsed.warnings
            );
        }
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

    #[test]
    fn json_feed_is_read() {
        let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "t",
            "items": [{"id": "1", "title": "json item", "url": "https://e.kr/1", "date_published": "2022-07-16T22:01:07+09:00"}]}"#;
        let stories =
            parse_feed("f", json.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].title, "json item");
        assert_eq!(stories[0].id, "1");
    }

    // ---- dates --------------------------------------------------------------------------

    #[test]
    fn date_formats() {
        let cases: &[(&str, &str)] = &[
            // RFC 3339 / ISO 8601
            ("2022-07-30T09:00:00.000Z", "2022-07-30T09:00:00+00:00"),
            ("2019-11-14T09:08:29+00:00", "2019-11-14T09:08:29+00:00"),
            ("2022-07-16T22:01:07+0900", "2022-07-16T22:01:07+09:00"),
            ("2022-07-16T22:01:07", "2022-07-16T22:01:07+09:00"),
            ("2022-07-16", "2022-07-16T00:00:00+09:00"),
            (
                "2022-07-16T22:01:07.123456-05:00",
                "2022-07-16T22:01:07.123456-05:00",
            ),
            // RFC 2822 and its usual damage
            (
                "Wed, 02 Nov 2011 17:25:27 +0000",
                "2011-11-02T17:25:27+00:00",
            ),
            ("Tue, 17 Oct 2017 22:17:00 GMT", "2017-10-17T22:17:00+00:00"),
            (
                "Tue, 17 Oct 2017 22:17:00 -0000",
                "2017-10-17T22:17:00+00:00",
            ),
            ("17 Oct 2017 22:17 EST", "2017-10-17T22:17:00-05:00"),
            (
                "Thursday, 13 July 2011 7:38:00 UTC",
                "2011-07-13T07:38:00+00:00",
            ),
            ("Sat, 2 Jul 22 09:05:00 +0900", "2022-07-02T09:05:00+09:00"),
            (
                "Fri, 16 Jul 2022 22:01:07 +0900",
                "2022-07-16T22:01:07+09:00",
            ),
            // Korean feeds
            (
                "Sat, 16 07 2022 22:01:07 +0900",
                "2022-07-16T22:01:07+09:00",
            ),
            ("2022-07-16 22:01:07", "2022-07-16T22:01:07+09:00"),
            ("2022.07.16 22:01", "2022-07-16T22:01:00+09:00"),
            ("2022-07-16 22:01:07 KST", "2022-07-16T22:01:07+09:00"),
            ("Sat, 16 Jul 2022 22:01:07 KST", "2022-07-16T22:01:07+09:00"),
            ("2004-05-25 오후 11:23:17", "2004-05-25T23:23:17+09:00"),
            ("2004-05-25 오전 12:03:17", "2004-05-25T00:03:17+09:00"),
            ("2004-05-25 오전 9:03:17", "2004-05-25T09:03:17+09:00"),
            ("2004년 05월 28일 01:31:15", "2004-05-28T01:31:15+09:00"),
            ("2004년 5월 28일 오후 1:31", "2004-05-28T13:31:00+09:00"),
            ("  2022/07/16 22:01:07 +09:00 ", "2022-07-16T22:01:07+09:00"),
        ];
        for (input, want) in cases {
            let got = parse_date(input, SEOUL).map(|d| d.to_rfc3339());
            assert_eq!(got.as_deref(), Some(*want), "input: {input:?}");
        }
    }

    #[test]
    fn no_zone_means_the_configured_zone() {
        let ny =
            parse_date("2022-07-16 22:01:07", chrono_tz::America::New_York).map(|d| d.to_rfc3339());
        assert_eq!(ny.as_deref(), Some("2022-07-16T22:01:07-04:00"));
        let utc = parse_date("2004년 05월 28일 01:31:15", chrono_tz::UTC).map(|d| d.to_rfc3339());
        assert_eq!(utc.as_deref(), Some("2004-05-28T01:31:15+00:00"));
    }

    #[test]
    fn nonsense_dates_are_none() {
        for input in [
            "",
            "yesterday",
            "2022-13-45 10:00",
            "Sat, 31 Feb 2022 10:00:00 +0900",
            "12:30",
            "99:99:99",
        ] {
            assert_eq!(parse_date(input, SEOUL), None, "input: {input:?}");
        }
    }

    /// Regression (issue 13): `08:57:00 MET` came out as 08:57+09:00.
    #[test]
    fn zone_abbreviations_are_honoured_and_unknown_ones_reported() {
        let utc = |s: &str| parse_date(s, SEOUL).map(|d| d.with_timezone(&Utc).to_rfc3339());
        for (input, want) in [
            ("Tue, 10 Jun 2003 08:57:00 MET", "2003-06-10T07:57:00+00:00"),
            ("Tue, 10 Jun 2003 08:57:00 PT", "2003-06-10T16:57:00+00:00"),
            ("Tue, 10 Jun 2003 08:57:00 ET", "2003-06-10T13:57:00+00:00"),
            (
                "Tue, 10 Jun 2003 08:57:00 CEST",
                "2003-06-10T06:57:00+00:00",
            ),
            ("Tue, 10 Jun 2003 08:57:00 IST", "2003-06-10T03:27:00+00:00"),
            (
                "Tue, 10 Jun 2003 08:57:00 AEST",
                "2003-06-09T22:57:00+00:00",
            ),
            ("Tue, 10 Jun 2003 08:57:00 KST", "2003-06-09T23:57:00+00:00"),
        ] {
            assert_eq!(utc(input).as_deref(), Some(want), "{input}");
        }
        // Unknown: the configured zone, and a note, never a guessed offset without a word.
        let (d, zone) = parse_date_noting("Tue, 10 Jun 2003 08:57:00 XYZ", SEOUL, &Zones::load());
        assert_eq!(
            d.map(|d| d.to_rfc3339()).as_deref(),
            Some("2003-06-10T08:57:00+09:00")
        );
        assert_eq!(zone.as_deref(), Some("XYZ"));
        let xml = "<rss version=\"2.0\"><channel>\
                   <item><title>하나</title><guid>1</guid><pubDate>Tue, 10 Jun 2003 08:57:00 XYZ</pubDate></item>\
                   <item><title>둘</title><guid>2</guid><pubDate>Wed, 11 Jun 2003 08:57:00 XYZ</pubDate></item>\
                   </channel></rss>";
        let parsed = super::parse("f", xml.as_bytes(), None, SEOUL).expect("parsed");
        assert_eq!(parsed.stories.len(), 2);
        assert_eq!(
            parsed.warnings,
            [
                "dates with unknown zone name(s) XYZ were read as Asia/Seoul time (the zone is missing, not guessed)"
            ]
        );
        // Impossible offsets and years are no dates.
        assert_eq!(parse_date("9999-12-31T23:59:59-99:99", SEOUL), None);
    }

    #[test]
    fn the_zone_table_parses_and_names_each_zone_once() {
        let mut names = std::collections::BTreeSet::new();
        for line in include_str!("zones.txt").lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let (name, _) = zone_line(t).unwrap_or_else(|| panic!("bad line {line:?}"));
            assert!(names.insert(name), "{name} twice");
        }
        assert!(names.len() >= 50, "{}", names.len());
    }

    #[test]
    fn unparseable_date_leaves_published_empty() {
        let xml = "<rss version=\"2.0\"><channel><item><title>제목입니다</title><link>https://e.kr/1</link>\
                   <pubDate>언젠가</pubDate></item></channel></rss>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].published, None);
    }

    // ---- ids and skipping ---------------------------------------------------------------

    #[test]
    fn ids_fall_back_to_url_then_title_and_empty_items_are_skipped() {
        let xml = "<rss version=\"2.0\"><channel><link>https://www.e.kr/home/</link>\
            <item><title>GUID given</title><link>https://e.kr/1?utm_source=rss</link><guid isPermaLink=\"false\"> abc-1 </guid></item>\
            <item><title>No guid</title><link>https://E.kr/2#top</link></item>\
            <item><title>[속보] 링크도 GUID도 없음</title></item>\
            <item><description>neither title nor link</description></item>\
            <item><guid>https://e.kr/5</guid><description>permalink guid only</description></item>\
            <item><title>Relative link</title><link>/news/6?utm_medium=rss</link></item>\
            <item><title>Script link</title><link>javascript:alert(1)</link></item>\
            <item><link>javascript:alert(1)</link></item>\
            </channel></rss>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, &str)> = stories
            .iter()
            .map(|s| (s.id.as_str(), s.url.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("abc-1", "https://e.kr/1"),
                ("https://e.kr/2", "https://e.kr/2"),
                ("title:속보 링크도 guid도 없음", ""),
                ("text:neither title nor link", ""),
                ("https://e.kr/5", "https://e.kr/5"),
                ("https://www.e.kr/news/6", "https://www.e.kr/news/6"),
                ("title:script link", ""),
            ]
        );
    }

    #[test]
    fn atom_without_ids_uses_no_generated_id() {
        let xml = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>\
            <entry><title type=\"html\">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; more</title><link href=\"https://e.kr/a\"/>\
            <published>2022-07-16T22:01:07+09:00</published><updated>2022-07-17T00:00:00Z</updated>\
            <summary type=\"html\">&lt;p&gt;Para one&lt;/p&gt;&lt;p&gt;Para two...&lt;/p&gt;</summary></entry></feed>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].id, "https://e.kr/a");
        assert_eq!(stories[0].title, "Bold & more");
        assert_eq!(stories[0].summary, "Para one\nPara two");
        assert_eq!(
            stories[0].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2022-07-16T22:01:07+09:00")
        );
    }
}
