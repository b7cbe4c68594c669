//! Synonym groups: the built-in table of companies and products with their usual Korean
//! spellings, plus the user's `[aliases]` groups.
//!
//! Owns alias expansion: a term that is a member of a group (compared after normalisation)
//! matches every member of every group it belongs to. Expansion is one step, not transitive.
//! A user group with the same name as a built-in group replaces it. Must not do IO; the table
//! is a `static` of `&str`.

use std::collections::HashMap;

use super::normalize::normalize;

/// Built-in groups, on unless `builtin_aliases = false`. Hangul members also match longer words
/// that start with them (`삼성` matches `삼성전자`), so `Samsung` finds Samsung Electronics too.
pub static BUILTIN: &[(&str, &[&str])] = &[
    ("openai", &["OpenAI", "오픈AI", "오픈에이아이"]),
    ("deepseek", &["DeepSeek", "딥시크"]),
    ("anthropic", &["Anthropic", "앤트로픽", "앤스로픽"]),
    ("google", &["Google", "구글"]),
    ("microsoft", &["Microsoft", "마이크로소프트"]),
    ("apple", &["Apple", "애플"]),
    ("meta", &["Meta", "메타", "Meta Platforms", "메타플랫폼스"]),
    ("amazon", &["Amazon", "아마존"]),
    ("nvidia", &["Nvidia", "엔비디아"]),
    ("tesla", &["Tesla", "테슬라"]),
    ("samsung", &["Samsung", "삼성"]),
    ("samsung-electronics", &["Samsung Electronics", "삼성전자"]),
    (
        "sk-hynix",
        &[
            "SK hynix",
            "SK하이닉스",
            "에스케이하이닉스",
            "Hynix",
            "하이닉스",
        ],
    ),
    ("sk-group", &["SK Group", "SK그룹", "에스케이그룹"]),
    ("lg-electronics", &["LG Electronics", "LG전자", "엘지전자"]),
    ("hyundai-motor", &["Hyundai Motor", "현대차", "현대자동차"]),
    ("kakao", &["Kakao", "카카오"]),
    ("naver", &["Naver", "네이버"]),
    ("krafton", &["Krafton", "크래프톤"]),
    ("softbank", &["SoftBank", "소프트뱅크"]),
    ("arm", &["Arm Holdings", "Arm", "암홀딩스"]),
    ("tsmc", &["TSMC", "티에스엠씨"]),
    ("intel", &["Intel", "인텔"]),
    ("chatgpt", &["ChatGPT", "챗GPT", "챗지피티"]),
    ("gemini", &["Gemini", "제미나이", "제미니"]),
    ("claude", &["Claude", "클로드"]),
];

#[derive(Debug, Clone, Default)]
pub struct Aliases {
    /// Groups of normalised members.
    groups: Vec<Vec<String>>,
    /// Normalised member → the groups it belongs to.
    by_member: HashMap<String, Vec<usize>>,
}

impl Aliases {
    /// `user` groups are (name, members as written); members are normalised here, empty ones
    /// dropped (the file loader reports them).
    pub fn new(builtin: bool, user: &[(String, Vec<String>)]) -> Aliases {
        let mut named: Vec<(String, Vec<String>)> = Vec::new();
        if builtin {
            for (name, members) in BUILTIN {
                if !user.iter().any(|(n, _)| n == name) {
                    named.push((
                        (*name).to_string(),
                        members.iter().map(|m| (*m).to_string()).collect(),
                    ));
                }
            }
        }
        named.extend(user.iter().cloned());
        let mut out = Aliases::default();
        for (_, members) in named {
            let mut group: Vec<String> = Vec::new();
            for m in members {
                let norm = normalize_member(&m);
                if !norm.is_empty() && !group.contains(&norm) {
                    group.push(norm);
                }
            }
            let id = out.groups.len();
            for m in &group {
                out.by_member.entry(m.clone()).or_default().push(id);
            }
            out.groups.push(group);
        }
        out
    }

    /// The normalised texts a normalised term stands for: itself first, then the other members
    /// of its groups, without duplicates.
    pub fn expand(&self, norm: &str) -> Vec<String> {
        let mut out = vec![norm.to_string()];
        if let Some(ids) = self.by_member.get(norm) {
            for &id in ids {
                for m in &self.groups[id] {
                    if !out.contains(m) {
                        out.push(m.clone());
                    }
                }
            }
        }
        out
    }
}

/// Normalised, with surrounding whitespace trimmed (a member is matched like a phrase).
pub fn normalize_member(text: &str) -> String {
    normalize(text).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_groups_expand_both_ways() {
        let a = Aliases::new(true, &[]);
        assert_eq!(a.expand("openai"), ["openai", "오픈ai", "오픈에이아이"]);
        assert_eq!(a.expand("딥시크"), ["딥시크", "deepseek"]);
        assert_eq!(a.expand("sk hynix")[1], "sk하이닉스");
        assert_eq!(a.expand("기업"), ["기업"]);
        let required = [
            "openai",
            "deepseek",
            "anthropic",
            "google",
            "microsoft",
            "apple",
            "meta",
            "amazon",
            "nvidia",
            "tesla",
            "samsung",
            "samsung electronics",
            "sk hynix",
            "sk group",
            "lg electronics",
            "hyundai motor",
            "kakao",
            "naver",
            "krafton",
            "softbank",
            "arm",
            "tsmc",
            "intel",
            "chatgpt",
            "gemini",
            "claude",
        ];
        for name in required {
            let e = a.expand(name);
            assert!(
                e.len() >= 2
                    && e.iter()
                        .any(|m| m.chars().any(super::super::literal::is_hangul)),
                "{name}: {e:?}"
            );
        }
    }

    #[test]
    fn user_groups_replace_builtin_by_name_and_can_be_turned_off() {
        let user = vec![(
            "openai".to_string(),
            vec!["OpenAI".to_string(), "오픈AI".to_string()],
        )];
        let a = Aliases::new(true, &user);
        assert_eq!(a.expand("openai"), ["openai", "오픈ai"]);
        let none = Aliases::new(false, &[]);
        assert_eq!(none.expand("openai"), ["openai"]);
    }
}
