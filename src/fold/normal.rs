//! What folding reads of a text: NFKC, lowercase, then the parts outlets change when they
//! repost a story removed — bracket tags (`[속보]`, `[종합2보]`, `【…】`), datelines and bylines
//! (`(서울=연합뉴스) 홍길동 기자 =`, `홍길동 기자`), footers (`*재판매 및 DB 금지`,
//! `ⓒ … 무단전재 …`, `<저작권자 …>`, Reddit's `submitted by /u/… [link] [comments]`), e-mail
//! addresses and photo credits (`사진=연합뉴스`).
//! Hand-written scans over chars (no regex: nothing to compile, no global state).

use unicode_normalization::UnicodeNormalization;

/// Tags that are removed when they stand alone in brackets (one per line; digits are ignored
/// when matching, so `2보` and `종합3보` match `보` and `종합보`).
const TAGS: &str = include_str!("tags.txt");

/// A cleaned text and what the cleaning saw.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cleaned {
    /// Words separated by single spaces.
    pub text: String,
    /// A photo tag (`[포토]`, `[사진]`, `[화보]`) or a photo credit (`사진=…`) was removed.
    pub photo_marker: bool,
    /// An e-mail address was removed.
    pub mail: bool,
}

pub fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// `char::is_alphanumeric` with the common cases first (its table lookup is slow for Hangul).
pub fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_hangul(c) || (!c.is_ascii() && c.is_alphanumeric())
}

fn lower(c: char, out: &mut Vec<char>) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if is_hangul(c) {
        out.push(c);
    } else {
        out.extend(c.to_lowercase());
    }
}

/// ASCII, a Hangul syllable, or a curly quote or middle dot: NFKC leaves the char as it is, and
/// none of them combines with a neighbour (a test checks the list against the normaliser).
fn is_nfkc_plain(c: char) -> bool {
    c.is_ascii() || is_hangul(c) || matches!(c, '‘' | '’' | '“' | '”' | '·')
}

/// NFKC, then lowercase, into `out`. Most feed text is NFKC already (Hangul syllables, ASCII):
/// only the runs of other chars go through the normaliser, each with the plain char before it
/// (a plain char starts a segment that normalises on its own: it is a starter that NFKC leaves
/// as it is, UAX #15's boundary; a combining mark or jamo after it joins its segment), so one
/// `…` in a title does not send the whole text through it. A test checks this against NFKC of
/// the whole text.
fn nfkc_lower(s: &str, out: &mut Vec<char>) {
    // The last plain char, not yet written (it may compose with what follows), and the run
    // of other chars after it (with it in front).
    let mut last: Option<char> = None;
    let mut run = String::new();
    fn flush(last: &mut Option<char>, run: &mut String, out: &mut Vec<char>) {
        if run.is_empty() {
            if let Some(p) = last.take() {
                lower(p, out);
            }
        } else {
            run.nfkc().for_each(|c| lower(c, out));
            run.clear();
        }
    }
    for c in s.chars() {
        if is_nfkc_plain(c) {
            flush(&mut last, &mut run, out);
            last = Some(c);
        } else {
            if run.is_empty()
                && let Some(p) = last.take()
            {
                run.push(p);
            }
            run.push(c);
        }
    }
    flush(&mut last, &mut run, out);
}

fn is_name_char(c: char) -> bool {
    is_hangul(c) || c == '○' || c == '◯'
}

fn close_of(c: char) -> Option<char> {
    Some(match c {
        '[' => ']',
        '(' => ')',
        '<' => '>',
        '【' => '】',
        '〔' => '〕',
        '「' => '」',
        '『' => '』',
        '《' => '》',
        '〈' => '〉',
        _ => return None,
    })
}

fn is_tag(content: &[char]) -> bool {
    let key = || {
        content
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_digit() && !c.is_whitespace() && *c != '·')
    };
    key().next().is_some() && TAGS.lines().any(|t| t.trim().chars().eq(key()))
}

fn starts_with(cs: &[char], at: usize, word: &str) -> bool {
    (at..).zip(word.chars()).all(|(i, w)| cs.get(i) == Some(&w))
}

fn find(cs: &[char], from: usize, to: usize, word: &str) -> Option<usize> {
    (from..to.min(cs.len())).find(|&i| starts_with(cs, i, word))
}

fn skip_spaces(cs: &[char], mut i: usize) -> usize {
    while i < cs.len() && cs[i].is_whitespace() {
        i += 1;
    }
    i
}

/// A byline starting at `at` (`홍길동 기자 =`, `홍길동·김철수 기자`, `홍길동 특파원`): where it
/// ends. `loose`: right after a dateline, where no space before `기자` is needed.
fn byline(cs: &[char], at: usize, loose: bool) -> Option<usize> {
    let mut i = skip_spaces(cs, at);
    let mut names = 0;
    loop {
        let start = i;
        while i < cs.len() && is_name_char(cs[i]) && i - start < 5 {
            i += 1;
        }
        let len = i - start;
        // `홍길동기자`: the name run swallowed the title; give it back.
        let glued = [&['기', '자'][..], &['특', '파', '원'], &['통', '신', '원']]
            .into_iter()
            .find(|w| len > 2 && cs[start..i].ends_with(w));
        if let Some(w) = glued {
            let wl = w.len();
            if len - wl < 2 || len - wl > 4 || !(loose || cs.get(i).is_some_and(|c| *c == '=')) {
                return None;
            }
            return Some(i);
        }
        if !(2..=4).contains(&len) {
            return None;
        }
        names += 1;
        let j = skip_spaces(cs, i);
        if j < cs.len() && matches!(cs[j], '·' | 'ㆍ' | ',' | '・') && names < 4 {
            i = skip_spaces(cs, j + 1);
            continue;
        }
        i = j;
        break;
    }
    for w in ["기자", "특파원", "통신원"] {
        if starts_with(cs, i, w) {
            let end = i + w.chars().count();
            let after = cs.get(end).copied();
            if after.is_some_and(is_hangul) {
                return None;
            }
            let spaced = i > 0 && cs[i - 1].is_whitespace();
            if !(spaced || loose) {
                return None;
            }
            let k = skip_spaces(cs, end);
            return Some(if cs.get(k) == Some(&'=') { k + 1 } else { end });
        }
    }
    None
}

fn is_mail_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

/// What [`clean_into`] saw.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Marks {
    /// See [`Cleaned::photo_marker`].
    pub photo_marker: bool,
    /// See [`Cleaned::mail`].
    pub mail: bool,
    /// Of the first `lede` chars of the text (`clean_into`'s argument): their length in
    /// bytes (`prefix(text, lede).len()`), how many there are, and how many are Hangul
    /// syllables and other letters.
    pub lede_len: usize,
    pub lede_chars: usize,
    pub hangul: usize,
    pub latin: usize,
}

/// NFKC, lowercase and the removals, on at most `limit` chars of `s`.
pub fn clean(s: &str, limit: usize) -> Cleaned {
    let mut text = String::new();
    let m = clean_into(s, limit, 0, &mut Vec::new(), &mut Vec::new(), &mut text);
    Cleaned {
        text,
        photo_marker: m.photo_marker,
        mail: m.mail,
    }
}

/// [`clean`] into `text` (cleared first), with `cs` and `drop` as scratch: a caller that
/// cleans many texts reuses the three buffers. The [`Marks`] also measure the text's first
/// `lede` chars.
pub fn clean_into(
    s: &str,
    limit: usize,
    lede: usize,
    cs: &mut Vec<char>,
    drop: &mut Vec<bool>,
    text: &mut String,
) -> Marks {
    let cut = prefix(s, limit);
    cs.clear();
    cs.reserve(cut.len());
    nfkc_lower(cut, cs);
    let n = cs.len();
    drop.clear();
    drop.resize(n, false);
    // A byline holds `기자`, `특파원` or `통신원` (`byline` finds none without): a text
    // without their first two chars is not searched for one.
    let titled = cs
        .windows(2)
        .any(|w| matches!(w, ['기', '자'] | ['특', '파'] | ['통', '신']));
    let mut photo_marker = false;
    let mut mail = false;
    let mark = |drop: &mut Vec<bool>, from: usize, to: usize| {
        for d in &mut drop[from..to.min(n)] {
            *d = true;
        }
    };
    let mut i = 0;
    while i < n {
        let c = cs[i];
        // Most chars start none of the patterns below (a bracket, a byline at a word start,
        // one of the chars the footers, credits and addresses start with): step over them.
        let plain = if is_hangul(c) {
            !matches!(c, '재' | '무' | '사') && !(titled && (i == 0 || !is_alnum(cs[i - 1])))
        } else {
            (c.is_ascii_alphanumeric() && c != 's') || c == ' '
        };
        if plain {
            i += 1;
            continue;
        }
        // Brackets: tags, datelines, photo credits, copyright notices.
        if let Some(close) = close_of(c) {
            let reach = if c == '<' { 80 } else { 40 };
            if let Some(j) = (i + 1..n.min(i + reach)).find(|&j| cs[j] == close) {
                let content = &cs[i + 1..j];
                let inner: String = content.iter().filter(|c| !c.is_whitespace()).collect();
                let photo = inner.starts_with("사진")
                    || inner.starts_with("자료사진")
                    || inner.starts_with("포토")
                    || inner == "화보";
                let dateline = !photo && content.contains(&'=') && content.len() <= 30;
                let drop_it = c == '【'
                    || is_tag(content)
                    || photo
                    || dateline
                    || inner.starts_with("그래픽")
                    || inner.starts_with("저작권자");
                if drop_it {
                    photo_marker |= photo;
                    let mut end = j + 1;
                    if dateline && let Some(e) = byline(cs, end, true) {
                        end = e;
                    }
                    mark(&mut *drop, i, end);
                    i = end;
                    continue;
                }
            }
        }
        // A byline standing alone (`홍길동 기자 =`, `○○○ 기자`), at a word start.
        if titled
            && is_name_char(c)
            && (i == 0 || !is_alnum(cs[i - 1]))
            && let Some(end) = byline(cs, i, false)
        {
            mark(&mut *drop, i, end);
            i = end;
            continue;
        }
        // The patterns below each start with one of these chars.
        if !matches!(c, '재' | '무' | 's' | '@' | '사') {
            i += 1;
            continue;
        }
        // `*재판매 및 DB 금지`
        if starts_with(cs, i, "재판매")
            && let Some(k) = find(cs, i + 3, i + 16, "금지")
        {
            let from = if i > 0 && cs[i - 1] == '*' { i - 1 } else { i };
            mark(&mut *drop, from, k + 2);
            i = k + 2;
            continue;
        }
        // `ⓒ 경향신문 & 경향닷컴, 무단전재 및 재배포 금지` (NFKC turns ⓒ into `c`).
        if starts_with(cs, i, "무단") {
            let k = skip_spaces(cs, i + 2);
            if ["전재", "복제", "배포", "수집", "사용"]
                .iter()
                .any(|w| starts_with(cs, k, w))
            {
                let back = i.saturating_sub(60);
                let from = (back..i)
                    .rev()
                    .find(|&q| {
                        let lone_c = cs[q] == 'c'
                            && (q == 0 || !is_alnum(cs[q - 1]))
                            && cs.get(q + 1).is_none_or(|c| !c.is_ascii_alphanumeric());
                        cs[q] == '©'
                            || lone_c
                            || starts_with(cs, q, "저작권")
                            || starts_with(cs, q, "copyright")
                    })
                    .unwrap_or(i);
                let to = find(cs, k, k + 30, "금지").map_or(k + 2, |e| e + 2);
                mark(&mut *drop, from, to);
                i = to;
                continue;
            }
        }
        // Reddit's item footer: `submitted by /u/name [link] [comments]`.
        if starts_with(cs, i, "submitted by")
            && let Some(k) = find(cs, i + 12, i + 80, "[comments]")
        {
            mark(&mut *drop, i, k + 10);
            i = k + 10;
            continue;
        }
        // E-mail addresses.
        if c == '@' {
            let mut l = i;
            while l > 0 && is_mail_char(cs[l - 1]) {
                l -= 1;
            }
            let mut r = i + 1;
            while r < n && (cs[r].is_ascii_alphanumeric() || matches!(cs[r], '.' | '-')) {
                r += 1;
            }
            if l < i && cs[i + 1..r].contains(&'.') {
                mail = true;
                mark(&mut *drop, l, r);
                i = r;
                continue;
            }
        }
        // Photo credits outside brackets: `/사진=연합뉴스`, `▲사진 = 뉴시스`.
        if starts_with(cs, i, "사진") {
            let k = skip_spaces(cs, i + 2);
            if cs.get(k).is_some_and(|c| matches!(c, '=' | ':')) {
                let mut end = skip_spaces(cs, k + 1);
                while end < n && !cs[end].is_whitespace() && cs[end] != ')' && cs[end] != ']' {
                    end += 1;
                }
                photo_marker = true;
                let from = if i > 0 && matches!(cs[i - 1], '/' | '▲' | '△') {
                    i - 1
                } else {
                    i
                };
                mark(&mut *drop, from, end);
                i = end;
                continue;
            }
        }
        i += 1;
    }
    text.clear();
    text.reserve(n * 3);
    let mut space = false;
    let mut m = Marks {
        photo_marker,
        mail,
        ..Marks::default()
    };
    let mut count = |c: char, text: &String| {
        if m.lede_chars < lede {
            m.lede_chars += 1;
            m.lede_len = text.len();
            if is_hangul(c) {
                m.hangul += 1;
            } else if c.is_ascii() {
                m.latin += usize::from(c.is_ascii_alphabetic());
            } else if c.is_alphabetic() {
                m.latin += 1;
            }
        }
    };
    for (c, d) in cs.iter().zip(drop.iter()) {
        if *d || c.is_whitespace() {
            space = !text.is_empty();
            continue;
        }
        if space {
            text.push(' ');
            count(' ', text);
            space = false;
        }
        text.push(*c);
        count(*c, text);
    }
    m
}

/// The first `max` chars of `s` (at a char boundary).
pub fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    // Counts char starts (bytes that are not UTF-8 continuation bytes, 0b10xx_xxxx).
    let mut n = 0;
    for (at, &b) in s.as_bytes().iter().enumerate() {
        if (b as i8) >= -0x40 {
            if n == max {
                return &s[..at];
            }
            n += 1;
        }
    }
    s
}

/// The number tokens of `s` (see [`numbers_into`]), for the tests.
#[cfg(test)]
pub fn numbers(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut used = 0;
    numbers_into(s, &mut out, &mut used);
    out.truncate(used);
    out
}

/// Number tokens: a run of digits (with `.`/`,` between digits; commas dropped) and up to two
/// Hangul syllables or a `%` right after it (`14억`, `8000만원`, `30일`, `3.5%`), into
/// `out[*used..]` (`*used` advanced past them), reusing the strings already there (cleared
/// first) before adding new ones.
pub fn numbers_into(s: &str, out: &mut Vec<String>, used: &mut usize) {
    // Digits, `.` and `,` are ASCII: the scan is over bytes (a byte of a multi-byte char is
    // never one of them, nor ASCII alphanumeric), the unit is read as chars.
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        if *used == out.len() {
            out.push(String::with_capacity(16));
        }
        let tok = &mut out[*used];
        tok.clear();
        *used += 1;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_digit() {
                tok.push(char::from(c));
            } else if matches!(c, b'.' | b',')
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && b[i - 1].is_ascii_digit()
            {
                if c == b'.' {
                    tok.push('.');
                }
            } else {
                break;
            }
            i += 1;
        }
        for (unit, c) in s[i..].chars().take(2).enumerate() {
            if !(is_hangul(c) || (unit == 0 && c == '%')) {
                break;
            }
            tok.push(c);
            i += c.len_utf8();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_listed_pattern_is_removed() {
        // (input, what must remain)
        let table = [
            ("[속보] 윤 대통령 휴가", "윤 대통령 휴가"),
            ("[단독] 삼성 인수", "삼성 인수"),
            ("[1보] 지진 발생", "지진 발생"),
            ("[2보] 지진 발생", "지진 발생"),
            ("[종합] 지진 발생", "지진 발생"),
            ("지진 발생(종합2보)", "지진 발생"),
            ("[포토] 폭염 속 시민", "폭염 속 시민"),
            ("[사진] 폭염 속 시민", "폭염 속 시민"),
            ("[영상] 폭염 속 시민", "폭염 속 시민"),
            ("【서울】 폭염 속 시민", "폭염 속 시민"),
            ("(서울=연합뉴스) 홍길동 기자 = 30일 폭염이", "30일 폭염이"),
            ("[서울=뉴시스]홍길동 기자 = 30일 폭염이", "30일 폭염이"),
            ("(서울=뉴스1) 홍길동 기자 = 30일 폭염이", "30일 폭염이"),
            (
                "(세종=뉴스1) 홍길동·김철수 기자 = 30일 폭염이",
                "30일 폭염이",
            ),
            ("홍길동 기자 = 30일 폭염이", "30일 폭염이"),
            ("30일 폭염이 이어졌다. 홍길동 기자", "30일 폭염이 이어졌다."),
            ("30일 폭염이 이어졌다. ○○○ 기자", "30일 폭염이 이어졌다."),
            ("폭염이 이어졌다. *재판매 및 DB 금지", "폭염이 이어졌다."),
            (
                "폭염이 이어졌다. ⓒ 경향신문 & 경향닷컴(www.khan.co.kr), 무단전재 및 재배포 금지",
                "폭염이 이어졌다.",
            ),
            (
                "폭염이 이어졌다. <저작권자(c) 연합뉴스, 무단 전재-재배포 금지>",
                "폭염이 이어졌다.",
            ),
            ("폭염이 이어졌다. hong@yna.co.kr", "폭염이 이어졌다."),
            ("시민들이 걷고 있다. (사진=연합뉴스)", "시민들이 걷고 있다."),
            ("시민들이 걷고 있다. /사진=뉴시스", "시민들이 걷고 있다."),
            ("ＡＢＣ Ｎｅｗｓ", "abc news"),
            (
                "Trump says troops stay submitted by /u/some_user\n[link] [comments]",
                "trump says troops stay",
            ),
        ];
        for (input, want) in table {
            assert_eq!(clean(input, 700).text, want, "input: {input}");
        }
    }

    #[test]
    fn content_that_looks_like_a_pattern_stays() {
        for s in [
            "기자회견을 열었다",
            "(서울) 30일",
            "여기자들이 모였다",
            "[뉴욕증시] 상승",
        ] {
            assert_eq!(clean(s, 700).text, s);
        }
    }

    #[test]
    fn plain_chars_are_nfkc_alone_and_together() {
        use unicode_normalization::UnicodeNormalization;
        let plain: String = (0..128u8)
            .map(char::from)
            .chain(['‘', '’', '“', '”', '·', '가', '각', '힣', '한'])
            .collect();
        assert!(plain.chars().all(is_nfkc_plain));
        assert_eq!(plain.nfkc().collect::<String>(), plain);
        for c in plain.chars() {
            for d in plain.chars() {
                let pair: String = [c, d].into_iter().collect();
                assert_eq!(pair.nfkc().collect::<String>(), pair);
            }
        }
        assert!(!is_nfkc_plain('…') && !is_nfkc_plain('\u{a0}') && !is_nfkc_plain('ㄱ'));
    }

    #[test]
    fn nfkc_by_runs_is_nfkc_of_the_whole() {
        use unicode_normalization::UnicodeNormalization;
        // Plain chars next to ones that compose with them or change under NFKC.
        let parts = [
            "가", "각", "a", "e", "Z", " ", "·", "’", "\u{301}", "\u{11a8}", "\u{1161}",
            "\u{1100}", "…", "ＡＢ", "①", "ﬁ", "\u{a0}", "㈜", "ㄱ", "\u{327}", "Å", "ǅ",
            "\u{3099}", "か", "\u{fb01}",
        ];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let mut s = String::new();
            for _ in 0..6 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                s.push_str(parts[(rng % parts.len() as u64) as usize]);
            }
            let mut got = Vec::new();
            nfkc_lower(&s, &mut got);
            let mut want = Vec::new();
            s.nfkc().for_each(|c| lower(c, &mut want));
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn photo_markers_are_seen() {
        assert!(clean("[포토] 폭염", 700).photo_marker);
        assert!(clean("걷고 있다. /사진=뉴시스", 700).photo_marker);
        assert!(!clean("[속보] 폭염", 700).photo_marker);
    }

    #[test]
    fn numbers_carry_their_unit() {
        assert_eq!(
            numbers("매출 77조2,000억원, 영업이익 3.5% 증가 30일 2022.07.29. x1"),
            ["77조", "2000억원", "3.5%", "30일", "2022.07.29"]
        );
    }
}
