//! Where a literal may match: the word-boundary rules for Hangul and Latin terms, wildcards and
//! the whole-word (`=term`) particle list.
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
    /// `term*` takes any ending.
    Free,
    /// The rest of the word is empty or a chain of up to three particles ([`PARTICLES`]).
    Particles,
}

/// A normalised literal plus its boundary rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bounds {
    pub left: Left,
    pub right: Right,
}

/// Latin letters (ASCII and the Latin-1/Extended blocks) and ASCII digits.
pub fn is_latin(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || (c.is_alphabetic() && matches!(c as u32, 0xC0..=0x24F | 0x1E00..=0x1EFF))
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
        Bounds { left, right }
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
                .is_none_or(|c| !c.is_alphanumeric()),
        };
        left_ok
            && match self.right {
                Right::Free => true,
                Right::Latin => text[end..].chars().next().is_none_or(|c| !is_latin(c)),
                Right::Particles => {
                    let rest = &text[end..];
                    let word_end = rest
                        .find(|c: char| !c.is_alphanumeric())
                        .unwrap_or(rest.len());
                    particles_only(&rest[..word_end], 3)
                }
            }
    }
}

fn particles_only(s: &str, depth: usize) -> bool {
    if s.is_empty() {
        return true;
    }
    depth > 0
        && PARTICLES.iter().any(|p| {
            s.strip_prefix(p)
                .is_some_and(|rest| particles_only(rest, depth - 1))
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
}
