//! Tests of the alias dictionary: the shipped data is valid and big enough, every entry's
//! English and Korean forms find each other, known false friends do not match, and the tricky
//! entries do what the table says.

use super::*;
use crate::rules::{Doc, RuleSet};

fn doc(title: &str) -> Doc<'_> {
    Doc {
        feed: "f",
        title,
        summary: "",
        content: "",
    }
}

fn set(query: &str) -> RuleSet {
    RuleSet::from_queries([("r", query)]).unwrap_or_else(|e| panic!("{query}: {e:?}"))
}

fn matches(query: &str, text: &str) -> bool {
    !set(query).match_doc(&doc(text)).is_empty()
}

/// A subject particle that fits the last letter: 이 after a final consonant, 가 otherwise (and
/// after Latin letters and digits, which the press reads aloud in many ways, 는).
fn particle(word: &str) -> &'static str {
    match word.chars().next_back() {
        Some(c @ '가'..='힣') => {
            if (c as u32 - 0xAC00).is_multiple_of(28) {
                "가"
            } else {
                "이"
            }
        }
        _ => "는",
    }
}

/// The first member without Hangul: the entry's name in Latin script.
fn english(e: &Entry) -> &str {
    e.members
        .iter()
        .find(|m| !m.chars().any(is_hangul))
        .map_or("", String::as_str)
}

#[test]
fn the_dictionary_is_valid() {
    let (entries, errors) = parse_table(SOURCE);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{}", shown.join("\n"));
    assert!(entries.len() >= 1_500, "{} entries", entries.len());
    assert_eq!(builtin_names().count(), entries.len());
    for kind in KINDS {
        assert!(
            entries.iter().any(|e| e.kind == *kind),
            "no entry of kind {kind}"
        );
    }
}

#[test]
fn bad_entries_are_reported_with_their_line() {
    let src = "[company]\n\
               ok = { members = [\"Acme\", \"애크미\"] }\n\
               one = { members = [\"Acme\"] }\n\
               short = { members = [\"X\", \"엑\"] }\n\
               Bad_Name = { members = [\"Foo\", \"푸푸\"], extra = [] }\n\
               dup = { members = [\"Foo\", \"FOO\", \"푸푸\"], compounds = [\"ba*\"] }\n\
               veto = { members = [\"Kia\", \"기아\"], not = [\"굶주림\"] }\n\
               [person]\n\
               ok = { members = [\"Okay\", \"오케이\"] }\n\
               [animal]\n";
    let (entries, errors) = parse_table(src);
    assert_eq!(entries.len(), 1);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "aliases.toml:3: entry `one`: needs at least two members",
            "aliases.toml:3: entry `one`: needs a member in Hangul",
            "aliases.toml:4: entry `short`: member \"X\": one letter matches noise",
            "aliases.toml:4: entry `short`: member \"엑\": needs two Hangul syllables; one matches noise",
            "aliases.toml:5: entry `Bad_Name`: the name must be made of a-z, 0-9 and -",
            "aliases.toml:5: entry `Bad_Name`: unknown key `extra`; expected one of: members, compounds, not",
            "aliases.toml:6: entry `dup`: member \"FOO\" is listed twice",
            "aliases.toml:6: entry `dup`: compound \"ba*\" must be plain text",
            "aliases.toml:7: entry `veto`: `not` phrase \"굶주림\" contains no member",
            "aliases.toml:9: entry `ok` is already defined on line 2",
            "aliases.toml:10: unknown section `animal`; expected one of: company, person, product, org, place",
        ]
    );
    let (_, errors) = parse_table("[company]\nx = { members = [\"a\"\n");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("aliases.toml:2: invalid TOML"),
        "{}",
        errors[0]
    );
}

#[test]
fn builtin_groups_expand_both_ways() {
    let a = Aliases::new(true, &[]);
    assert_eq!(a.expand("openai"), ["openai", "오픈ai", "오픈에이아이"]);
    assert_eq!(a.expand("딥시크"), ["딥시크", "deepseek"]);
    assert_eq!(a.expand("sk hynix")[1], "sk하이닉스");
    assert_eq!(a.expand("기업"), ["기업"]);
    assert!(!a.contains("기업") && a.contains("삼성"));
    // Compounds are reached from the entry only.
    assert!(!a.expand("samsung").contains(&"삼성전자".to_string()));
    assert!(
        a.expand_with_sources("samsung")
            .contains(&("삼성전자".to_string(), Source::Compound { veto: 0 }))
    );
    assert!(!a.expand("삼성전자").contains(&"samsung".to_string()));
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
            e.len() >= 2 && e.iter().any(|m| m.chars().any(is_hangul)),
            "{name}: {e:?}"
        );
    }
    let names = [
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
        "samsung-electronics",
        "sk-hynix",
        "sk-group",
        "lg-electronics",
        "hyundai-motor",
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
    for name in names {
        assert!(builtin_names().any(|n| n == name), "{name}");
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
    assert!(!none.contains("openai"));
    // A user's members keep the usual Hangul rule (any ending): they are the user's words.
    let user = vec![(
        "samsung".to_string(),
        vec!["Samsung".to_string(), "삼성".to_string()],
    )];
    let set = RuleSet::from_queries_with_aliases([("r", "Samsung")], true, &user)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!set.match_doc(&doc("삼성동 코엑스")).is_empty());
}

/// Every entry: its English name finds each Korean form and compound in a sentence with a
/// particle, and each Korean form finds the English name.
#[test]
fn every_entry_matches_across_scripts() {
    let (entries, _) = parse_table(SOURCE);
    let entries = &entries;
    let rule = |q: &str| format!("\"{q}\"");
    let queries: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.name.clone(), rule(english(e))))
        .collect();
    let by_english = RuleSet::from_queries(queries.iter().map(|(n, q)| (n.as_str(), q.as_str())))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for e in entries {
        let en = english(e);
        let korean = e.members.iter().filter(|m| m.chars().any(is_hangul));
        for ko in korean.chain(&e.compounds) {
            let text = format!("{ko}{} 발표했다", particle(ko));
            let hits = by_english.match_doc(&doc(&text));
            if !hits.iter().any(|h| h.rule == e.name) {
                failures.push(format!("line {}: {en:?} does not find {text:?}", e.line));
            }
            checked += 1;
        }
    }
    // The other way: one rule per Korean member, all in one set.
    let queries: Vec<(String, String)> = entries
        .iter()
        .flat_map(|e| {
            e.members
                .iter()
                .filter(|m| m.chars().any(is_hangul))
                .enumerate()
                .map(|(i, m)| (format!("{}#{i}", e.name), rule(m)))
        })
        .collect();
    let by_korean = RuleSet::from_queries(queries.iter().map(|(n, q)| (n.as_str(), q.as_str())))
        .unwrap_or_else(|e| panic!("{e:?}"));
    for (name, query) in &queries {
        let slug = name.split('#').next().unwrap_or("");
        let Some(e) = entries.iter().find(|e| e.name == slug) else {
            continue;
        };
        let text = format!("{} said on Tuesday", english(e));
        if !by_korean
            .match_doc(&doc(&text))
            .iter()
            .any(|h| h.rule == *name)
        {
            failures.push(format!("line {}: {query} does not find {text:?}", e.line));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 3_000, "{checked}");
}

/// Words that start with a member but mean something else, and members used in another sense:
/// none of them may match the entry's English name.
#[test]
fn false_friends_do_not_match() {
    let cases = [
        ("Meta", "메타버스 시장이 커진다"),
        ("Meta", "메타데이터를 분석했다"),
        ("Meta", "메타 분석 결과"),
        ("Apple", "파인애플 가격이 올랐다"),
        ("Apple", "애플리케이션을 설치했다"),
        ("Apple", "애플망고 수확"),
        ("Intel", "인텔리전스 보고서"),
        ("Samsung", "삼성동 코엑스에서 열린"),
        ("Samsung", "삼성산 등산로"),
        ("Kia", "기아에 시달리는 아이들"),
        ("Kia", "빈곤과 기아 문제"),
        ("Kia", "기아 퇴치를 위한"),
        ("Hanwha", "한화로 약 1조원 규모"),
        ("Hanwha", "한화 약 300억원"),
        ("Kakao", "카카오 원두 가격이 급등했다"),
        ("Kakao", "카카오 농가의 소득"),
        ("Amazon", "아마존 열대우림 파괴"),
        ("Amazon", "아마존강 유역"),
        ("Claude", "클로드 모네의 수련"),
        ("Tesla", "니콜라 테슬라의 발명"),
        ("Google", "구글링으로 찾았다"),
        ("Naver", "네이버후드 스토리"),
        ("Netflix", "넷플릭스러운"),
        ("Meta", "메타인지 능력"),
        ("Samsung", "삼성역 사거리"),
        ("Samsung", "삼성초등학교"),
    ];
    let mut wrong = Vec::new();
    for (query, text) in cases {
        if matches(query, text) {
            wrong.push(format!("{query} matched {text:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What each tricky entry must and must not match, with the rule written in English and in
/// Korean.
#[test]
fn tricky_entries() {
    // (query, text, expected)
    let cases = [
        // Samsung: the group, its companies (compounds), particles and name suffixes.
        ("Samsung", "삼성이 발표했다", true),
        ("Samsung", "삼성전자가 발표했다", true),
        ("Samsung", "삼성SDI는 오늘", true),
        ("Samsung", "삼성바이오로직스와의 계약", true),
        ("Samsung", "삼성측은 부인했다", true),
        ("Samsung", "삼성家 상속", true),
        ("Samsung", "삼성동 사옥", false),
        ("삼성", "삼성동 사옥", true),
        ("=삼성", "삼성동 사옥", false),
        ("Samsung*", "삼성동 사옥", true),
        ("=Samsung", "삼성전자가", false),
        ("=Samsung", "삼성이", true),
        ("\"Samsung Electronics\"", "삼성전자의 실적", true),
        ("삼성전자", "Samsung Group said", false),
        // Meta: short and ambiguous.
        ("Meta", "메타가 공개한 모델", true),
        ("Meta", "메타와의 협력", true),
        ("Meta", "메타버스", false),
        ("Meta", "메타플랫폼스는", true),
        ("메타", "메타버스 플랫폼", true),
        ("메타", "Meta said", true),
        // Apple and its products.
        ("Apple", "애플은 아이폰을", true),
        ("Apple", "애플워치 출시", true),
        ("Apple", "애플리케이션", false),
        ("Apple", "파인애플", false),
        ("Apple", "애플사의 신제품", true),
        // Kia: the company, never famine.
        ("Kia", "기아가 발표했다", true),
        ("Kia", "기아차 판매", true),
        ("Kia", "기아의 EV9", true),
        ("Kia", "기아에 시달리는", false),
        ("Kia", "기아와 빈곤", false),
        ("Kia", "만성적인 기아 상태", false),
        ("기아", "Kia Motors said", true),
        // Hanwha: the group, not the Korean won.
        ("Hanwha", "한화가 인수했다", true),
        ("Hanwha", "한화에어로스페이스는", true),
        ("Hanwha", "한화오션의 수주", true),
        ("Hanwha", "한화로 약 1300억원", false),
        ("Hanwha", "한화로 환산하면", false),
        // Intel.
        ("Intel", "인텔은 오늘", true),
        ("Intel", "인텔리전스", false),
        // People: press variants.
        ("\"Sam Altman\"", "샘 올트먼 오픈AI CEO는", true),
        ("\"Sam Altman\"", "알트먼이 말했다", true),
        ("올트먼", "알트먼은", true),
        ("\"Mark Zuckerberg\"", "주커버그는", true),
        ("\"Mark Zuckerberg\"", "저커버그가", true),
        ("\"Elon Musk\"", "일론 머스크가", true),
        ("\"Elon Musk\"", "머스크는", true),
        ("Qualcomm", "퀄콤이", true),
        ("Qualcomm", "퀄컴은", true),
        // Institutions.
        ("Fed", "연준이 금리를", true),
        ("Fed", "연방준비제도는", true),
        ("연준", "the Federal Reserve said", true),
        ("IMF", "국제통화기금은", true),
        // Names the issue found missing.
        ("Netflix", "넷플릭스가", true),
        ("\"Elon Musk\"", "일론 머스크가", true),
        ("Huawei", "화웨이가", true),
        ("Coupang", "쿠팡이", true),
    ];
    let mut wrong = Vec::new();
    for (query, text, want) in cases {
        if matches(query, text) != want {
            wrong.push(format!("{query} on {text:?}: expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_veto_covers_only_its_phrase() {
    // 기아 in a famine phrase is vetoed; elsewhere in the same text it still counts.
    assert!(matches(
        "Kia",
        "기아에 시달리는 나라에 기아가 공장을 짓는다"
    ));
    assert!(!matches("Kia", "기아에 시달리는 나라"));
    // The vetoed phrase at the very start and end of a text.
    assert!(!matches("Kia", "기아 퇴치"));
}
