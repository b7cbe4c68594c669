//! Where a literal may match: the word-boundary rules for Hangul and Latin terms, wildcards,
//! the whole-word (`=term`) particle list, and the whole-name rule of built-in alias members
//! (particles plus a few name suffixes, and the dictionary's `not` phrases).
//!
//! Owns the answer to "does this occurrence of a normalised literal count?" for both the indexed
//! matcher and the naive evaluator, so the two cannot disagree on it. Works on normalised text
//! only; knows nothing about queries or rules.

/// What may precede a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Left {
    /// Not a Latin letter or digit (the literal starts with one).
    Latin,
    /// Not a letter or digit of any script (the literal starts with Hangul or another script):
    /// the literal starts a word.
    Word,
    /// Anything (`*term`, or the literal starts with punctuation).
    Free,
}

/// What may follow a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Right {
    /// Not a Latin letter or digit (the literal ends with one).
    Latin,
    /// Anything: Hangul words take particles and suffixes (`기업` matches `기업들과의`), and
    /// `term*` takes any ending. Not for the built-in alias members a term brings in: they are
    /// names ([`Right::Name`]).
    Free,
    /// The rest of the word is empty or a chain of up to three particles ([`PARTICLES`]).
    Particles,
    /// A built-in alias member or compound: the rest of the word is empty or a chain of up to
    /// three particles or name suffixes ([`PARTICLES`], [`NAME_SUFFIXES`]): 삼성이, 삼성측은,
    /// 엔비디아발, not 삼성동.
    Name,
}

/// A normalised literal plus its boundary rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bounds {
    pub left: Left,
    pub right: Right,
    /// The built-in dictionary's `not` phrases for this literal (0: none): an occurrence
    /// inside one of them does not count ([`super::aliases::vetoed`]).
    pub veto: u16,
}

/// Latin letters (ASCII and the Latin-1/Extended blocks) and ASCII digits.
pub fn is_latin(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || (matches!(c as u32, 0xC0..=0x24F | 0x1E00..=0x1EFF) && c.is_alphabetic())
}

pub fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F)
}

/// Particles and endings that may follow a whole-word term (`=메타` matches 메타가, 메타와의, not
/// 메타버스). Up to three chain: 들+과+의, 에서+는.
pub const PARTICLES: &[&str] = &[
    "이",
    "가",
    "은",
    "는",
    "을",
    "를",
    "의",
    "와",
    "과",
    "도",
    "에",
    "에서",
    "에게",
    "께",
    "께서",
    "한테",
    "로",
    "으로",
    "로서",
    "으로서",
    "로써",
    "으로써",
    "만",
    "까지",
    "부터",
    "처럼",
    "보다",
    "같이",
    "라고",
    "이라고",
    "이나",
    "나",
    "랑",
    "이랑",
    "하고",
    "마저",
    "조차",
    "밖에",
    "야",
    "이야",
    "며",
    "이며",
    "고",
    "이고",
    "다",
    "이다",
    "였다",
    "이었다",
    "입니다",
    "라는",
    "이라는",
    "란",
    "이란",
    "든",
    "이든",
    "든지",
    "이든지",
    "지만",
    "이지만",
    "요",
    "이요",
    "들",
];

/// What else may follow a built-in alias member or compound, besides [`PARTICLES`]: the suffixes
/// the press glues to names (삼성측, 엔비디아발, 애플사, 삼성家, 머스크씨, 애플식) and a few more
/// endings (애플이라면, 애플엔, 엔비디아만큼). Not 산 (삼성산), 동 (삼성동), 향 (애플향).
pub const NAME_SUFFIXES: &[&str] = &[
    "측",
    "발",
    "사",
    "社",
    "家",
    "그룹",
    "계열",
    "식",
    "씨",
    "라면",
    "이라면",
    "인데",
    "라며",
    "이라며",
    "엔",
    "만큼",
    "뿐",
    "이자",
];

impl Bounds {
    /// The boundary rules for a normalised literal written with these modifiers.
    pub fn for_literal(
        text: &str,
        prefix_wild: bool,
        suffix_wild: bool,
        whole_word: bool,
    ) -> Bounds {
        let first = text.chars().next().unwrap_or(' ');
        let last = text.chars().next_back().unwrap_or(' ');
        let left = if prefix_wild {
            Left::Free
        } else if is_latin(first) {
            Left::Latin
        } else if first.is_alphanumeric() {
            Left::Word
        } else {
            Left::Free
        };
        let right = if suffix_wild {
            Right::Free
        } else if is_latin(last) {
            Right::Latin
        } else if whole_word && last.is_alphanumeric() {
            Right::Particles
        } else {
            Right::Free
        };
        Bounds {
            left,
            right,
            veto: 0,
        }
    }

    /// The boundary rules for a member (or compound) of a built-in alias entry: like
    /// [`Bounds::for_literal`], except that a member ending in Hangul (or another non-Latin
    /// letter) is a whole name ([`Right::Name`]) instead of taking any ending; `=` still
    /// means particles only, and `*` any ending.
    pub fn for_member(
        text: &str,
        prefix_wild: bool,
        suffix_wild: bool,
        whole_word: bool,
    ) -> Bounds {
        let mut b = Bounds::for_literal(text, prefix_wild, suffix_wild, whole_word);
        let last = text.chars().next_back().unwrap_or(' ');
        if !suffix_wild && !whole_word && b.right == Right::Free && last.is_alphanumeric() {
            b.right = Right::Name;
        }
        b
    }

    /// The same rules with the dictionary's `not` phrases of list `veto` (0: none).
    pub fn with_veto(self, veto: u16) -> Bounds {
        Bounds { veto, ..self }
    }

    /// Whether the occurrence `text[start..end]` counts.
    pub fn accepts(self, text: &str, start: usize, end: usize) -> bool {
        let left_ok = match self.left {
            Left::Free => true,
            Left::Latin => text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !is_latin(c)),
            Left::Word => text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !alphanumeric(c)),
        };
        let right_ok = || match self.right {
            Right::Free => true,
            Right::Latin => text[end..].chars().next().is_none_or(|c| !is_latin(c)),
            Right::Particles => particles_only(rest_of_word(text, end), 3, false),
            Right::Name => particles_only(rest_of_word(text, end), 3, true),
        };
        left_ok
            && right_ok()
            && (self.veto == 0 || !super::aliases::vetoed(self.veto, text, start, end))
    }
}

/// The rest of the word that `text[..end]` stops inside.
fn rest_of_word(text: &str, end: usize) -> &str {
    let rest = &text[end..];
    let word_end = rest.find(|c: char| !alphanumeric(c)).unwrap_or(rest.len());
    &rest[..word_end]
}

/// `char::is_alphanumeric`, answered without the Unicode tables for ASCII and Hangul
/// syllables (the text of Korean news is mostly both).
#[inline]
fn alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        matches!(c as u32, 0xAC00..=0xD7A3) || c.is_alphanumeric()
    }
}

/// Whether `s` is a chain of at most `depth` particles (and name suffixes, when `names`).
fn particles_only(s: &str, depth: usize, names: bool) -> bool {
    if s.is_empty() {
        return true;
    }
    let extra: &[&str] = if names { NAME_SUFFIXES } else { &[] };
    depth > 0
        && PARTICLES.iter().chain(extra).any(|p| {
            s.strip_prefix(p)
                .is_some_and(|rest| particles_only(rest, depth - 1, names))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(lit: &str, text: &str, prefix: bool, suffix: bool, whole: bool) -> bool {
        let b = Bounds::for_literal(lit, prefix, suffix, whole);
        text.match_indices(lit)
            .any(|(i, m)| b.accepts(text, i, i + m.len()))
    }

    #[test]
    fn boundaries() {
        let cases = [
            // (literal, text, prefix*, suffix*, =, expected)
            ("기업", "기업들과의 협력", false, false, false, true),
            ("애플", "파인애플 가격", false, false, false, false),
            ("애플", "‘애플’이", false, false, false, true),
            ("ai", "ai가 바꾼", false, false, false, true),
            ("ai", "(ai)", false, false, false, true),
            ("ai", "fair", false, false, false, false),
            ("sk", "ask", false, false, false, false),
            ("오픈ai", "오픈ai는", false, false, false, true),
            ("오픈ai", "오픈aix", false, false, false, false),
            ("기업", "중소기업", true, false, false, true),
            ("regul", "regulation", false, true, false, true),
            ("regul", "regulation", false, false, false, false),
            ("메타", "메타버스", false, false, true, false),
            ("메타", "메타가", false, false, true, true),
            ("메타", "메타와의", false, false, true, true),
            ("메타", "메타, 구글", false, false, true, true),
            ("메타", "메타ai", false, false, true, false),
            ("메타", "메타버스", false, false, false, true),
        ];
        for (lit, text, p, s, w, want) in cases {
            assert_eq!(
                hit(lit, text, p, s, w),
                want,
                "{lit:?} in {text:?} (prefix {p}, suffix {s}, whole {w})"
            );
        }
    }

    #[test]
    fn member_boundaries() {
        let member = |lit: &str, text: &str, prefix: bool, suffix: bool, whole: bool| {
            let b = Bounds::for_member(lit, prefix, suffix, whole);
            text.match_indices(lit)
                .any(|(i, m)| b.accepts(text, i, i + m.len()))
        };
        let cases = [
            // (literal, text, prefix*, suffix*, =, expected)
            ("삼성", "삼성이 발표", false, false, false, true),
            ("삼성", "삼성측은", false, false, false, true),
            ("삼성", "삼성家의", false, false, false, true),
            ("삼성", "삼성그룹과의", false, false, false, true),
            ("삼성", "삼성동", false, false, false, false),
            ("삼성", "삼성산", false, false, false, false),
            ("삼성", "삼성동", false, true, false, true),
            ("삼성", "삼성측은", false, false, true, false),
            ("삼성", "삼성이", false, false, true, true),
            ("엔비디아", "엔비디아발 훈풍", false, false, false, true),
            ("애플", "애플리케이션", false, false, false, false),
            ("애플", "파인애플", false, false, false, false),
            ("애플", "파인애플", true, false, false, true),
            ("samsung", "samsung's", false, false, false, true),
            ("samsung", "samsungs", false, false, false, false),
        ];
        for (lit, text, p, s, w, want) in cases {
            assert_eq!(
                member(lit, text, p, s, w),
                want,
                "{lit:?} in {text:?} (prefix {p}, suffix {s}, whole {w})"
            );
        }
    }
}
