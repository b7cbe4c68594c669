//! Text normalisation shared by rule terms and story text: NFKC, lower-case, zero-width
//! characters and soft hyphens removed, every whitespace run collapsed to one ASCII space.
//!
//! Owns the one definition of "the same text" for matching; must not know about rules or
//! queries. Text and terms always go through [`normalize`], so a full-width `ＯｐｅｎＡＩ` in a
//! story finds the rule `OpenAI`. Korean news text is mostly Hangul syllables and ASCII, which
//! are checked byte by byte: text that is already normal is borrowed, not copied.

use std::borrow::Cow;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Characters that are deleted: zero-width space, non-joiner, joiner, word joiner, BOM, soft
/// hyphen, Mongolian vowel separator. Text copied from web pages carries them inside words.
pub fn is_removed(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Work {
    /// Already normal.
    None,
    /// Only ASCII upper-case letters need changing.
    Lower,
    /// ASCII upper-case letters or whitespace need changing.
    Ascii,
    /// Anything else: the full NFKC path.
    Full,
}

/// Normalises `text`; borrows it when nothing changes.
pub fn normalize(text: &str) -> Cow<'_, str> {
    match work_needed(text) {
        Work::None => Cow::Borrowed(text),
        Work::Lower => Cow::Owned(text.to_ascii_lowercase()),
        Work::Ascii => Cow::Owned(ascii_only(text)),
        Work::Full => Cow::Owned(full(text, None)),
    }
}

/// Like [`normalize`], writing into `buf` (reused between calls) when the text changes.
pub fn normalize_into<'a>(text: &'a str, buf: &'a mut String) -> &'a str {
    match work_needed(text) {
        Work::None => text,
        Work::Lower => {
            buf.clear();
            buf.push_str(text);
            buf.make_ascii_lowercase();
            buf
        }
        Work::Ascii => {
            buf.clear();
            ascii_into(text, buf);
            buf
        }
        Work::Full => {
            buf.clear();
            full_into(text, None, buf);
            buf
        }
    }
}

/// Normalises `text` and maps every byte of the result back to the byte range of `text` it came
/// from, for showing a hit in the original text. Gives the same string as [`normalize`].
pub fn normalize_mapped(text: &str) -> (String, Vec<(usize, usize)>) {
    let mut map = Vec::with_capacity(text.len());
    let out = full(text, Some(&mut map));
    (out, map)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// For 8 ASCII bytes: the high bit of each byte that is zero.
fn zero_bytes(x: u64) -> u64 {
    !(((x & !HIGH).wrapping_add(!HIGH)) | x | !HIGH)
}

fn work_needed(text: &str) -> Work {
    let bytes = text.as_bytes();
    let mut work = Work::None;
    let mut prev_space = false;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while they are ASCII without control characters, UTF-8
        // continuation bytes, or lead bytes of Hangul syllables: note upper case and double
        // spaces. Any other byte takes the path below.
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let w = u64::from_le_bytes(w);
            let high = w & HIGH;
            let ascii = !high & HIGH;
            // Low seven bits only, so these additions carry into no other byte.
            let low = w & !HIGH;
            let control = !low.wrapping_add(0x60 * ONES) & ascii;
            let continuation = high & !(w << 1);
            let lead = high & !continuation;
            // EA needs a next byte from B0 (U+AC00..), ED one below 9E (..U+D77F); a lead in
            // the last byte, or ED 9E, takes the path below.
            let next_from_b0 = ((w << 3) & (w << 2) & HIGH) >> 8;
            let next_below_9e = (!(w & (0x3F * ONES)).wrapping_add(0x62 * ONES) & HIGH) >> 8;
            let hangul_lead = zero_bytes(w ^ (0xEB * ONES))
                | zero_bytes(w ^ (0xEC * ONES))
                | (zero_bytes(w ^ (0xEA * ONES)) & next_from_b0)
                | (zero_bytes(w ^ (0xED * ONES)) & next_below_9e);
            if control == 0 && lead & !hangul_lead == 0 {
                let upper = low.wrapping_add(0x3F * ONES) & !low.wrapping_add(0x25 * ONES) & ascii;
                if upper != 0 {
                    work = work.max(Work::Lower);
                }
                let spaces = zero_bytes(w ^ (0x20 * ONES));
                if spaces & (spaces << 8) != 0 || (prev_space && spaces & 0x80 != 0) {
                    work = Work::Ascii;
                }
                prev_space = spaces >> 63 != 0;
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        if b < 0x80 {
            if b == b' ' {
                if prev_space {
                    work = Work::Ascii;
                }
                prev_space = true;
            } else {
                prev_space = false;
                if b.is_ascii_uppercase() {
                    work = work.max(Work::Lower);
                } else if b.is_ascii_whitespace() || b == 0x0b {
                    work = Work::Ascii;
                }
            }
            i += 1;
            continue;
        }
        prev_space = false;
        // The rest of a character whose lead byte a chunk above accepted.
        if b & 0xC0 == 0x80 {
            i += 1;
            continue;
        }
        // Hangul syllables U+AC00..=U+D7A3 are three bytes, EA B0 80 ..= ED 9E A3.
        let hangul = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (0xEB | 0xEC, _, _) => true,
            (0xEA, Some(&b1), _) => b1 >= 0xB0,
            (0xED, Some(&b1), Some(&b2)) => b1 < 0x9E || (b1 == 0x9E && b2 <= 0xA3),
            _ => false,
        };
        if hangul {
            i += 3;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        if !is_stable(c) {
            return Work::Full;
        }
        i += c.len_utf8();
    }
    work
}

/// A non-ASCII character that is its own normal form whatever surrounds it: a starter that
/// NFKC keeps and that has no lower-case mapping.
fn is_stable(c: char) -> bool {
    // Hangul syllables (most of Korean text) without the table look-ups.
    if is_hangul_syllable(c) {
        return true;
    }
    if c.is_whitespace() || is_removed(c) || canonical_combining_class(c) != 0 {
        return false;
    }
    if is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes {
        return false;
    }
    let mut lower = c.to_lowercase();
    lower.next() == Some(c) && lower.next().is_none()
}

/// U+AC00..=U+D7A3: starters of canonical combining class 0, NFKC quick-check yes, no case.
fn is_hangul_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

fn push_collapsed(out: &mut String, c: char) -> bool {
    if c.is_whitespace() {
        if out.ends_with(' ') {
            return false;
        }
        out.push(' ');
    } else {
        out.push(c);
    }
    true
}

/// Only ASCII bytes change (upper-case letters, whitespace), so the result stays UTF-8.
fn ascii_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    ascii_into(text, &mut out);
    out
}

/// [`ascii_only`] into `out`: copies runs of unchanged characters, folds ASCII upper case and
/// collapses ASCII whitespace runs to one space.
fn ascii_into(text: &str, out: &mut String) {
    for (i, piece) in text
        .split(|c: char| c.is_ascii_whitespace() || c == '\u{0b}')
        .enumerate()
    {
        if i > 0 && !out.ends_with(' ') {
            out.push(' ');
        }
        let from = out.len();
        out.push_str(piece);
        out[from..].make_ascii_lowercase();
    }
}

/// A chunk starts at a character that cannot combine with what precedes it, so normalising
/// chunk by chunk gives the same result as normalising the whole text, and each output byte
/// knows its chunk.
fn starts_chunk(c: char) -> bool {
    // ASCII and Hangul syllables are starters that NFKC keeps: no table look-ups for them. (A
    // syllable still takes a following conjoining jamo into its chunk: that jamo does not
    // start one.)
    if c.is_ascii() || is_hangul_syllable(c) {
        return true;
    }
    canonical_combining_class(c) == 0 && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
}

fn full(text: &str, map: Option<&mut Vec<(usize, usize)>>) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    full_into(text, map, &mut out);
    out
}

/// [`full`], appending to `out` (a [`normalize_into`] buffer, reused between stories).
fn full_into(text: &str, mut map: Option<&mut Vec<(usize, usize)>>, out: &mut String) {
    out.reserve(text.len() + text.len() / 8);
    let mut start = 0;
    // Reused between chunks: the chunk normalised and lower-cased, then normalised again.
    let (mut folded, mut chunk) = (String::new(), String::new());
    let mut emit = |from: usize, to: usize, out: &mut String| {
        let piece = &text[from..to];
        let mut chars = piece.chars();
        // A chunk of one character that is its own normal form (most of any text): pushed
        // as it is, with no normalisation, lower-casing or copy in between.
        if let (Some(c), None) = (chars.next(), chars.next())
            && (c.is_ascii() || (!c.is_whitespace() && is_stable(c)))
        {
            let before = out.len();
            if push_collapsed(out, c.to_ascii_lowercase())
                && let Some(map) = map.as_deref_mut()
            {
                map.extend(std::iter::repeat_n((from, to), out.len() - before));
            }
            return;
        }
        folded.clear();
        folded.extend(
            piece
                .chars()
                .filter(|c| !is_removed(*c))
                .nfkc()
                .flat_map(char::to_lowercase),
        );
        // Lower-casing can leave text that is not NFKC (rare): normalise once more.
        chunk.clear();
        if is_nfkc_quick(folded.chars()) == IsNormalized::Yes {
            chunk.push_str(&folded);
        } else {
            chunk.extend(folded.nfkc());
        }
        for c in chunk.chars() {
            let before = out.len();
            if push_collapsed(out, c)
                && let Some(map) = map.as_deref_mut()
            {
                map.extend(std::iter::repeat_n((from, to), out.len() - before));
            }
        }
    };
    for (i, c) in text.char_indices() {
        if i > start && starts_chunk(c) {
            emit(start, i, out);
            start = i;
        }
    }
    if start < text.len() {
        emit(start, text.len(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("OpenAI", "openai"),
            ("ＯｐｅｎＡＩ", "openai"),
            ("㈜삼성", "(주)삼성"),
            ("삼성\u{200B}전자", "삼성전자"),
            ("soft\u{00AD}ware", "software"),
            ("한국   기업\n\t들", "한국 기업 들"),
            ("한국\u{3000}기업", "한국 기업"),
            ("ÉCOLE", "école"),
            // conjoining jamo compose to the syllable
            ("\u{1100}\u{1161}\u{11A8}", "각"),
            ("이미 정규화된 텍스트", "이미 정규화된 텍스트"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "{input:?}");
            assert_eq!(normalize_mapped(input).0, want, "mapped {input:?}");
        }
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(
            normalize("삼성전자, 한국 기업들과의 협력 “확대”"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(normalize("OpenAI"), Cow::Owned(_)));
    }

    #[test]
    fn map_points_back_to_the_original() {
        let text = "ＯｐｅｎＡＩ는  한국";
        let (norm, map) = normalize_mapped(text);
        assert_eq!(norm, "openai는 한국");
        assert_eq!(map.len(), norm.len());
        let start = norm.find('는').unwrap_or_default();
        let (s, e) = map[start];
        assert_eq!(&text[s..e], "는");
        let (s, _) = map[0];
        let (_, e) = map[5];
        assert_eq!(&text[s..e], "ＯｐｅｎＡＩ");
    }

    /// The definition [`full`] implements, without its shortcuts: each chunk normalised,
    /// lower-cased and normalised again, through fresh strings.
    fn reference(text: &str) -> String {
        let mut out = String::new();
        let mut chunks: Vec<&str> = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if i > start && starts_chunk(c) {
                chunks.push(&text[start..i]);
                start = i;
            }
        }
        chunks.push(&text[start..]);
        for piece in chunks {
            let folded: String = piece
                .chars()
                .filter(|c| !is_removed(*c))
                .nfkc()
                .flat_map(char::to_lowercase)
                .collect();
            let chunk: String = if is_nfkc_quick(folded.chars()) == IsNormalized::Yes {
                folded
            } else {
                folded.nfkc().collect()
            };
            for c in chunk.chars() {
                push_collapsed(&mut out, c);
            }
        }
        out
    }

    proptest::proptest! {
        /// Every shortcut (borrowed text, ASCII-only work, one-character chunks) gives what
        /// the full definition gives: Hangul syllables and conjoining jamo, full-width forms,
        /// combining marks, compatibility characters, removed characters and whitespace.
        #[test]
        fn fast_paths_are_the_definition(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    "[a-zA-Z0-9 .,]{0,8}",
                    "[가-힣]{0,4}",
                    "[\u{1100}-\u{1112}][\u{1161}-\u{1175}][\u{11A8}-\u{11C2}]?",
                    "[\u{3131}-\u{318E}]{1,3}",
                    "[\u{FF01}-\u{FF5E}]{1,4}",
                    "[a-zA-Zİı][\u{0300}-\u{036F}]{0,3}",
                    "[\u{2000}-\u{206F}\u{3000}\u{00A0}\u{00AD}\u{FEFF}\t\n\r\u{0B}]{1,3}",
                    "[“”‘’…·ㆍ㈜①Ⅻﬁ№㎏ǄΣσς]{1,3}",
                    "\\PC{0,4}",
                ],
                0..8,
            )
        ) {
            let s: String = parts.concat();
            let want = reference(&s);
            let fast = normalize(&s);
            proptest::prop_assert_eq!(fast.as_ref(), want.as_str(), "{:?}", s);
            let mut buf = String::from("stale");
            proptest::prop_assert_eq!(normalize_into(&s, &mut buf), want.as_str(), "{:?}", s);
            let (mapped, map) = normalize_mapped(&s);
            proptest::prop_assert_eq!(&mapped, &want, "{:?}", s);
            proptest::prop_assert_eq!(map.len(), mapped.len());
        }
    }

    /// The look-up-free answers for ASCII and Hangul syllables are the tables' answers.
    #[test]
    fn shortcut_characters_are_what_the_tables_say() {
        let tables = |c: char| {
            canonical_combining_class(c) == 0
                && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
        };
        for c in ('\0'..='\u{7F}').chain('\u{AC00}'..='\u{D7A3}') {
            assert_eq!(starts_chunk(c), tables(c), "{c:?}");
        }
        for c in '\u{AC00}'..='\u{D7A3}' {
            let mut lower = c.to_lowercase();
            let table = !c.is_whitespace()
                && !is_removed(c)
                && tables(c)
                && lower.next() == Some(c)
                && lower.next().is_none();
            assert!(is_stable(c) && table, "{c:?}");
        }
    }

    #[test]
    fn idempotent() {
        for s in ["İstanbul", "Ǆ", "ﬁ", "Ⅻ", "ḀḁĀ", "ㄱㄴ", "…"] {
            let once = normalize(s).into_owned();
            assert_eq!(normalize(&once), once.as_str(), "{s:?}");
        }
    }
}
