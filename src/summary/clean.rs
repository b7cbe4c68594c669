//! Boilerplate removal: decides, sentence by sentence, what is story and what is furniture.
//! Pure.
//!
//! Owns the lists of datelines, bylines, captions, copyright lines and page furniture, and the
//! reason recorded for each removal. It must not split or rank sentences.
//!
//! Parts stripped from a sentence (the rest is kept): a leading dateline
//! `(서울=연합뉴스) 홍길동 기자 =`, `[서울=뉴시스]`, `SEOUL (Reuters) -`; a leading `[이데일리
//! 홍길동 기자]`; photo captions and credits in brackets anywhere (`[사진=…]`, `(사진 제공=…)`,
//! `(부산=뉴스1)`, `(연합뉴스)`); leading bullets and interview speaker marks (`▲`, `◇ 조태임 >`).
//! Sentences dropped whole: copyright lines, bylines and anything with an e-mail address or a
//! URL, page furniture ("subscribe to our newsletter", `기사제보`), cut-off fragments ending in
//! `..`, `...`, `···`, `…`, and sentences without a letter.

/// A cleaned sentence, or why it was dropped.
pub(crate) enum Cleaned {
    Keep(String),
    Drop(&'static str),
}

/// Cleans one sentence; parts stripped from it are pushed to `stripped` with their reason.
pub(crate) fn clean_sentence(
    sentence: &str,
    stripped: &mut Vec<(String, &'static str)>,
) -> Cleaned {
    if let Some(reason) = drop_reason(sentence) {
        return Cleaned::Drop(reason);
    }
    let mut s = sentence.trim().to_owned();
    strip_leading_marks(&mut s, stripped);
    strip_dateline(&mut s, stripped);
    strip_bracket_groups(&mut s, stripped);
    strip_leading_marks(&mut s, stripped);
    let s = s.trim();
    if !has_alphanumeric(s) {
        return Cleaned::Drop("no text");
    }
    // A sentence that was only a byline once its dateline is gone.
    if let Some(reason) = drop_reason(s) {
        return Cleaned::Drop(reason);
    }
    Cleaned::Keep(s.to_owned())
}

/// Why a whole sentence is boilerplate, if it is.
fn drop_reason(s: &str) -> Option<&'static str> {
    let phrase = phrase_class(s);
    match phrase {
        Some(Phrase::Copyright) => return Some("copyright"),
        Some(Phrase::Furniture) => return Some("page furniture"),
        _ => {}
    }
    // Every e-mail address has an `@`.
    if s.contains('@') && has_email(s) {
        return Some(if is_byline(&without_emails(s)) {
            "byline"
        } else {
            "e-mail"
        });
    }
    if phrase == Some(Phrase::Link) {
        return Some("link");
    }
    if is_byline(s) {
        return Some("byline");
    }
    if is_cut_off(s) {
        return Some("cut-off");
    }
    if !has_alphanumeric(s) {
        return Some("no text");
    }
    None
}

/// What a phrase of [`COPYRIGHT`], [`FURNITURE`] or [`LINKS`] marks; ordered by precedence.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phrase {
    Copyright,
    Furniture,
    Link,
}

const LINKS: &[&str] = &["http://", "https://", "www."];

/// One automaton over every phrase, matched ASCII-case-insensitively on the sentence as it
/// is: the same as looking for each phrase in `s.to_lowercase()`, because the phrases are
/// lower case and the only other characters whose lower case is in a phrase are `Ⓒ` (→ `ⓒ`,
/// added as a phrase) and the Kelvin sign `K` (→ `k`, such sentences take the slow path).
/// `İ` lower-cases to `i` plus a combining dot, which no phrase has after an `i`.
struct Phrases {
    automaton: aho_corasick::AhoCorasick,
    /// Phrase → its class.
    class: Vec<Phrase>,
}

static PHRASES: std::sync::LazyLock<Option<Phrases>> = std::sync::LazyLock::new(|| {
    let mut class = Vec::new();
    let mut patterns: Vec<&str> = Vec::new();
    for (list, c) in [
        (COPYRIGHT, Phrase::Copyright),
        (&["Ⓒ"][..], Phrase::Copyright),
        (FURNITURE, Phrase::Furniture),
        (LINKS, Phrase::Link),
    ] {
        patterns.extend(list.iter().copied());
        class.extend(std::iter::repeat_n(c, list.len()));
    }
    let automaton = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&patterns)
        .ok()?;
    Some(Phrases { automaton, class })
});

/// The first class (by precedence) of the phrases `s.to_lowercase()` contains.
fn phrase_class(s: &str) -> Option<Phrase> {
    match &*PHRASES {
        Some(p) if !s.contains('\u{212A}') => p
            .automaton
            .find_overlapping_iter(s)
            .filter_map(|m| p.class.get(m.pattern().as_usize()).copied())
            .min(),
        _ => phrase_class_lowercased(s),
    }
}

/// [`phrase_class`] by definition: each phrase looked for in the lower-cased sentence.
fn phrase_class_lowercased(s: &str) -> Option<Phrase> {
    let lower = s.to_lowercase();
    [
        (COPYRIGHT, Phrase::Copyright),
        (FURNITURE, Phrase::Furniture),
        (LINKS, Phrase::Link),
    ]
    .into_iter()
    .find(|(list, _)| list.iter().any(|p| lower.contains(p)))
    .map(|(_, c)| c)
}

/// Whether `s` has a letter or digit (`char::is_alphanumeric`), with ASCII and Hangul
/// syllables decided without the Unicode tables.
fn has_alphanumeric(s: &str) -> bool {
    s.chars().any(|c| {
        if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            ('\u{AC00}'..='\u{D7A3}').contains(&c) || c.is_alphanumeric()
        }
    })
}

const COPYRIGHT: &[&str] = &[
    "ⓒ",
    "©",
    "무단 전재",
    "무단전재",
    "재배포 금지",
    "재배포금지",
    "저작권자",
    "all rights reserved",
    "copyright ",
];

const FURNITURE: &[&str] = &[
    "subscribe to our",
    "sign up for our",
    "sign up for the",
    "newsletter",
    "click here",
    "read more:",
    "follow us on",
    "share this article",
    "share on facebook",
    "related articles",
    "advertisement",
    "this article originally appeared",
    "appeared first on",
    "기사제보",
    "기사 제보",
    "제보하기",
    "카카오톡 제보",
    "구독하기",
    "구독해 주세요",
    "구독 부탁",
    "채널 추가",
    "관련기사",
    "관련 기사",
    "많이 본 뉴스",
    "네이버 메인에서",
    "뉴스스탠드",
    "좋아요 누르기",
    "앱 다운로드",
    "앱 설치",
    "기자 구독",
    "기자페이지",
    "바로가기",
];

/// Korean and English byline shapes: `홍길동 기자`, `세종=심희정 기자`, `홍길동·김철수 기자`,
/// `글·사진=홍길동 기자`, `By Jane Doe`.
fn is_byline(s: &str) -> bool {
    let s = s.trim().trim_end_matches(['.', ')', ']', '】']).trim();
    // Most sentences are longer than any byline: no word list for them.
    if s.split_whitespace().nth(6).is_some() {
        return false;
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() {
        return false;
    }
    let last = words[words.len() - 1];
    let role = [
        "기자",
        "특파원",
        "통신원",
        "논설위원",
        "선임기자",
        "객원기자",
        "기자입니다",
        "에디터",
        "PD",
    ];
    if role
        .iter()
        .any(|r| last == *r || (last.ends_with(r) && last.contains('=')))
    {
        return true;
    }
    if words.len() >= 3 && words.iter().rev().skip(1).any(|w| role.contains(w)) && words.len() <= 4
    {
        return true; // `홍길동 기자 = 정리`
    }
    words[0] == "By"
        && words.len() <= 5
        && words[1..].iter().all(|w| w.starts_with(char::is_uppercase))
}

fn has_email(s: &str) -> bool {
    s.split(|c: char| c.is_whitespace() || "()[]<>,;:\"'“”".contains(c))
        .any(is_email)
}

fn is_email(w: &str) -> bool {
    let w = w.trim_end_matches('.');
    let Some((user, domain)) = w.split_once('@') else {
        return false;
    };
    // The domain may have a Korean particle glued on: `help@example.com으로`.
    let domain: &str = domain
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .map_or(domain, |end| &domain[..end]);
    let domain = domain.trim_end_matches('.');
    !user.is_empty()
        && !domain.starts_with('.')
        && domain
            .rsplit_once('.')
            .is_some_and(|(_, tld)| tld.len() >= 2)
}

fn without_emails(s: &str) -> String {
    s.split_whitespace()
        .filter(|w| !is_email(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Trailing `..`, `...`, `···`, `…` (a feed cut the text there).
fn is_cut_off(s: &str) -> bool {
    let t = s.trim_end();
    if t.ends_with(['…', '⋯', '‥']) {
        return true;
    }
    let dots = t
        .chars()
        .rev()
        .take_while(|c| matches!(c, '.' | '·' | 'ㆍ' | '∙' | '・'))
        .count();
    dots >= 2
}

/// Leading bullets, a stray `?` (a character lost upstream: nocut has `?'북 테이스팅'은`),
/// and the speaker mark of an interview transcript (`◇ 조태임 >`).
fn strip_leading_marks(s: &mut String, stripped: &mut Vec<(String, &'static str)>) {
    let bullets = [
        '▲', '△', '▶', '►', '■', '□', '◆', '◇', '●', '○', '•', '-', '–', '—', '*', '☞', '※', '?',
        '？',
    ];
    let trimmed = s.trim_start_matches(|c: char| bullets.contains(&c) || c.is_whitespace());
    if trimmed.len() == s.len() {
        return;
    }
    let mut cut = s.len() - trimmed.len();
    let rest = &s[cut..];
    if let Some(gt) = rest.find('>')
        && rest[..gt].chars().count() <= 12
        && !rest[..gt].trim().contains(' ')
    {
        cut += gt + 1;
    }
    let (head, tail) = s.split_at(cut);
    if head.trim().chars().count() > 1 {
        stripped.push((head.trim().to_owned(), "bullet"));
    }
    *s = tail.trim_start().to_owned();
}

/// News agencies whose credit appears in datelines: `(서울=연합뉴스)`, `(부산=뉴스1)`.
const AGENCIES: &[&str] = &[
    "연합뉴스",
    "뉴스1",
    "뉴시스",
    "뉴스핌",
    "이데일리",
    "머니투데이",
    "아시아경제",
    "헤럴드경제",
    "노컷뉴스",
    "CBS노컷뉴스",
    "연합",
    "AP",
    "AFP",
    "로이터",
    "Reuters",
    "Yonhap",
    "Bloomberg",
    "블룸버그",
    "신화",
    "교도",
    "EPA",
];

/// Words that open a photo caption or credit in brackets.
const CAPTION: &[&str] = &[
    "사진",
    "그래픽",
    "자료",
    "영상",
    "출처",
    "이미지",
    "일러스트",
    "Photo",
    "photo",
    "Getty",
    "AP Photo",
];

/// `(서울=연합뉴스) 홍길동 기자 =`, `[서울=뉴시스]홍길동 기자 =`, `【서울=뉴시스】`,
/// `[이데일리 홍길동 기자]`, `홍길동 기자 =`, `SEOUL (Reuters) -` at the start.
fn strip_dateline(s: &mut String, stripped: &mut Vec<(String, &'static str)>) {
    let mut cut = 0;
    let rest = s.as_str();
    if let Some(close) = leading_group(rest) {
        let inner = &rest[rest[..close].chars().next().map_or(0, char::len_utf8)
            ..close - closer_len(rest, close)];
        if inner.contains('=') || AGENCIES.iter().any(|a| inner.trim() == *a) || is_byline(inner) {
            cut = close;
        }
    }
    // `홍길동 기자 =` / `홍길동·김철수 기자 =` / `워싱턴=홍길동 특파원 =` after the group (or alone).
    let after = &s[cut..];
    if let Some(eq) = after.find('=') {
        let head = after[..eq].trim();
        if !head.is_empty() && head.chars().count() <= 30 && is_byline(head) {
            cut += eq + 1;
        }
    }
    // English: `SEOUL (Reuters) -`, `SEOUL, July 30 (Reuters) —`.
    if cut == 0
        && let Some(p) = s.find(") ")
        && p < 60
        && let Some(open) = s[..p].rfind('(')
        && AGENCIES.contains(&&s[open + 1..p])
    {
        let tail = s[p + 2..].trim_start();
        if let Some(t) = tail.strip_prefix(['-', '–', '—']) {
            cut = s.len() - t.len();
        }
    }
    if cut > 0 {
        stripped.push((s[..cut].trim().to_owned(), "dateline"));
        *s = s[cut..].trim_start().to_owned();
    }
}

/// Byte offset just past a bracket group that opens `s`, if it does.
fn leading_group(s: &str) -> Option<usize> {
    let open = s.chars().next()?;
    let close = match open {
        '(' => ')',
        '[' => ']',
        '【' => '】',
        '<' => '>',
        '〈' => '〉',
        _ => return None,
    };
    let end = s.find(close)?;
    (s[..end].chars().count() <= 40).then(|| end + close.len_utf8())
}

fn closer_len(s: &str, end: usize) -> usize {
    s[..end].chars().next_back().map_or(0, char::len_utf8)
}

/// Removes bracket groups that are captions or credits: `[사진=…]`, `(사진 제공=…)`,
/// `(부산=뉴스1)`, `(연합뉴스)`, `(AP=연합뉴스)`.
fn strip_bracket_groups(s: &mut String, stripped: &mut Vec<(String, &'static str)>) {
    let pairs = [
        ('[', ']'),
        ('(', ')'),
        ('【', '】'),
        ('〈', '〉'),
        ('<', '>'),
    ];
    let mut search_from = 0;
    while search_from < s.len() {
        let Some((open_at, close)) = s[search_from..].char_indices().find_map(|(i, c)| {
            pairs
                .iter()
                .find(|(o, _)| *o == c)
                .map(|(_, cl)| (search_from + i, *cl))
        }) else {
            break;
        };
        let inner_start = open_at + 1 + s[open_at..].chars().next().map_or(0, |c| c.len_utf8() - 1);
        let Some(close_rel) = s[inner_start..].find(close) else {
            break;
        };
        let close_at = inner_start + close_rel;
        let inner = s[inner_start..close_at].trim();
        let reason = if CAPTION.iter().any(|c| inner.starts_with(c))
            && (inner.contains('=') || inner.contains("제공") || inner.chars().count() <= 12)
        {
            Some("photo caption")
        } else if AGENCIES
            .iter()
            .any(|a| inner == *a || inner.ends_with(&format!("={a}")))
        {
            Some("credit")
        } else {
            None
        };
        let end = close_at + close.len_utf8();
        match reason {
            Some(reason) => {
                stripped.push((s[open_at..end].to_owned(), reason));
                let mut joined = s[..open_at].trim_end().to_owned();
                let tail = &s[end..];
                if !joined.is_empty()
                    && !tail.starts_with(|c: char| c.is_whitespace() || ".,?!".contains(c))
                    && !tail.is_empty()
                {
                    joined.push(' ');
                }
                let new_from = joined.len();
                joined.push_str(tail);
                *s = joined;
                search_from = new_from;
            }
            None => search_from = end,
        }
    }
}

/// Whether a sentence ends like one: `.`/`?`/`!` (before closing quotes or brackets), or
/// a Korean final ending (`다`, `요`, `죠`, `음`, `함`, `임`, `됨`).
pub(crate) fn is_terminated(s: &str) -> bool {
    let t = s
        .trim_end()
        .trim_end_matches(['”', '’', '"', '\'', ')', ']', '」', '』', '》', '〉']);
    t.ends_with([
        '.', '?', '!', '。', '？', '！', '다', '요', '죠', '음', '함', '임', '됨',
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn clean(s: &str) -> Result<String, &'static str> {
        match clean_sentence(s, &mut Vec::new()) {
            Cleaned::Keep(k) => Ok(k),
            Cleaned::Drop(r) => Err(r),
        }
    }

    #[test]
    fn strips_and_drops() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "(서울=연합뉴스) 홍길동 기자 = 정부가 발표했다.",
                Ok("정부가 발표했다."),
            ),
            (
                "[서울=뉴시스]홍길동 기자 = 정부가 발표했다.",
                Ok("정부가 발표했다."),
            ),
            ("【서울=뉴시스】 정부가 발표했다.", Ok("정부가 발표했다.")),
            (
                "(워싱턴=연합뉴스) 홍길동 특파원 = 미국이 발표했다.",
                Ok("미국이 발표했다."),
            ),
            (
                "[이데일리 홍길동 기자] 정부가 발표했다.",
                Ok("정부가 발표했다."),
            ),
            (
                "홍길동·김철수 기자 = 정부가 발표했다.",
                Ok("정부가 발표했다."),
            ),
            (
                "SEOUL (Reuters) - Samsung said on Friday it would.",
                Ok("Samsung said on Friday it would."),
            ),
            ("[사진=연합뉴스] 시민들이 모였다.", Ok("시민들이 모였다.")),
            ("시민들이 모였다(사진 제공=서울시).", Ok("시민들이 모였다.")),
            (
                "횡령을 고소 조치할 방침이다. (부산=뉴스1)",
                Ok("횡령을 고소 조치할 방침이다."),
            ),
            ("(부산=뉴스1)", Err("no text")),
            (
                "◇ 조태임 > 오늘의 주제는 무엇인가요?",
                Ok("오늘의 주제는 무엇인가요?"),
            ),
            ("▲ 첫째 안건이 통과됐다.", Ok("첫째 안건이 통과됐다.")),
            (
                "?'북 테이스팅'은 8월에 운영한다.",
                Ok("'북 테이스팅'은 8월에 운영한다."),
            ),
            ("구자창 기자 critic@kmib.co.kr", Err("byline")),
            ("세종=심희정 기자 simcity@kmib.co.kr", Err("byline")),
            ("문의는 help@example.com으로 하면 된다.", Err("e-mail")),
            ("홍길동 기자", Err("byline")),
            ("By Jane Doe", Err("byline")),
            ("ⓒ 연합뉴스, 무단 전재 및 재배포 금지", Err("copyright")),
            (
                "<저작권자 ⓒ 뉴스1코리아, 무단전재 및 재배포 금지>",
                Err("copyright"),
            ),
            (
                "Subscribe to our newsletter for more.",
                Err("page furniture"),
            ),
            ("기사가 여기서 잘렸..", Err("cut-off")),
            ("기사가 여기서 잘렸...", Err("cut-off")),
            ("기사가 여기서 잘렸 ···", Err("cut-off")),
            ("기사가 여기서 잘렸…", Err("cut-off")),
            ("?", Err("no text")),
            (
                "삼성전자(005930)가 3.5% 올랐다.",
                Ok("삼성전자(005930)가 3.5% 올랐다."),
            ),
            (
                "기자들은 (사진) 설명을 들었다.",
                Ok("기자들은 설명을 들었다."),
            ),
        ];
        for (input, want) in cases {
            let got = clean(input);
            assert_eq!(
                got.as_deref().map_err(|e| *e),
                want.map_err(|e| e),
                "input: {input:?}"
            );
        }
    }

    proptest::proptest! {
        /// The automaton finds what looking for each phrase in the lower-cased text finds.
        #[test]
        fn phrases_as_if_lowercased(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(
                        COPYRIGHT.iter().chain(FURNITURE).chain(LINKS).copied().collect::<Vec<_>>()
                    ).prop_map(str::to_uppercase),
                    proptest::sample::select(
                        COPYRIGHT.iter().chain(FURNITURE).chain(LINKS).copied().collect::<Vec<_>>()
                    ).prop_map(str::to_string),
                    proptest::sample::select(vec![
                        "Ⓒ", "\u{212A}", "İ", "ı", "ẞ", "ＣＯＰＹ", " ", "기사", "제보", "http", "://",
                    ]).prop_map(str::to_string),
                    "\\PC{0,6}",
                ],
                0..6,
            )
        ) {
            let s: String = parts.concat();
            proptest::prop_assert!(phrase_class(&s) == phrase_class_lowercased(&s), "{:?}", s);
            let alnum = s.chars().any(char::is_alphanumeric);
            proptest::prop_assert_eq!(has_alphanumeric(&s), alnum, "{:?}", s);
        }
    }

    #[test]
    fn terminated() {
        for s in ["말했다.", "맞나?", "“가자.”", "발표했다", "했어요", "(끝.)"] {
            assert!(is_terminated(s), "{s}");
        }
        for s in ["휩싸이게 되는", "위원회는 위", "Headline"] {
            assert!(!is_terminated(s), "{s}");
        }
    }
}
