//! Table-driven tests for every semantic line of issue 3 and the Korean traps, the rules file
//! loader, `test_query`, and the two properties (indexed == naive, print → parse round trip).

use std::path::Path;

use proptest::prelude::*;

use super::*;

fn doc<'a>(title: &'a str, summary: &'a str) -> Doc<'a> {
    Doc {
        feed: "yna",
        title,
        summary,
        content: "",
    }
}

/// Runs one query through both matchers; they must agree.
fn matches_with(set: &RuleSet, d: &Doc) -> bool {
    let fast = set.match_doc(d);
    let slow = set.match_doc_naive(d);
    assert_eq!(fast, slow, "indexed and naive disagree on {d:?}");
    !fast.is_empty()
}

fn one(query: &str) -> RuleSet {
    match RuleSet::from_queries([("r", query)]) {
        Ok(set) => set,
        Err(e) => panic!("{query}: {e:?}"),
    }
}

#[test]
fn semantics_table() {
    // (query, title, summary, expected)
    let cases: &[(&str, &str, &str, bool)] = &[
        // operators in capitals only; lower-case and/or are words
        ("삼성 AND 애플", "삼성과 애플", "", true),
        ("삼성 AND 애플", "삼성", "", false),
        ("삼성 and 애플", "삼성 애플", "", false),
        ("삼성 and 애플", "삼성 and 애플", "", true),
        ("삼성 or 애플", "삼성", "", false),
        ("삼성 OR 애플", "애플 신제품", "", true),
        ("삼성 OR 애플", "구글", "", false),
        ("반도체 NOT 주가", "반도체 수출", "", true),
        ("반도체 NOT 주가", "반도체 주가 급등", "", false),
        ("반도체 -주가", "반도체 주가 급등", "", false),
        ("반도체 -주가", "반도체 수출", "", true),
        ("반도체 AND NOT 주가", "반도체 주가", "", false),
        // side-by-side is AND
        ("반도체 수출", "반도체 수출 호조", "", true),
        ("반도체 수출", "반도체 호조", "", false),
        // parentheses group; AND binds tighter than OR
        ("(삼성 OR 애플) AND 반도체", "애플 반도체", "", true),
        ("(삼성 OR 애플) AND 반도체", "애플 아이폰", "", false),
        ("삼성 OR 애플 AND 반도체", "삼성", "", true),
        ("삼성 OR 애플 AND 반도체", "애플 아이폰", "", false),
        ("NOT 주가 반도체", "반도체", "", true),
        // phrases, straight and curly quotes
        ("\"한국 기업\"", "한국 기업들과의 협력", "", true),
        ("\"한국 기업\"", "한국의 기업", "", false),
        ("“한국 기업”", "한국 기업", "", true),
        ("‘한국 기업’", "한국  기업", "", true),
        (
            "OpenAI AND \"한국 기업\"",
            "오픈AI, 한국 기업들과의 협력 확대",
            "",
            true,
        ),
        // NEAR
        ("AI NEAR/3 규제", "AI 관련 국내 규제 논의", "", true),
        ("AI NEAR/2 규제", "AI 관련 국내 규제 논의", "", false),
        (
            "AI NEAR 규제",
            "규제 당국이 오늘 새로운 AI 법안을",
            "",
            true,
        ),
        (
            "AI NEAR 규제",
            "AI 는 하나 둘 셋 넷 다섯 여섯 규제",
            "",
            false,
        ),
        (
            "(AI OR 인공지능) NEAR/5 (규제 OR 기본법)",
            "인공지능 기본법 시행",
            "",
            true,
        ),
        ("AI NEAR/3 규제", "AI 이야기", "규제 이야기", false),
        (
            "\"한국 기업\" NEAR/1 투자",
            "한국 기업들 투자 확대",
            "",
            true,
        ),
        // fields
        ("title:딥시크", "딥시크 새 모델", "", true),
        ("title:딥시크", "새 모델", "딥시크가 공개", false),
        ("summary:딥시크", "새 모델", "딥시크가 공개", true),
        ("title:(삼성 OR 애플)", "애플", "", true),
        ("title:(삼성 OR 애플)", "구글", "애플", false),
        ("feed:yna 삼성", "삼성", "", true),
        ("feed:YNA 삼성", "삼성", "", true),
        ("feed:hani 삼성", "삼성", "", false),
        ("feed:yna", "아무 기사", "", true),
        // wildcards
        ("반도체*", "반도체업계", "", true),
        ("regul*", "New regulation", "", true),
        ("regul*", "irregular", "", false),
        ("regulation", "regulations", "", false),
        ("*기업", "중소기업 지원", "", true),
        ("기업", "중소기업 지원", "", false),
        ("*기업", "중소기업들과", "", true),
        // case-insensitive; normalisation on both sides
        ("openai", "OPENAI 발표", "", true),
        ("OpenAI", "ＯｐｅｎＡＩ 발표", "", true),
        ("오픈AI", "오픈\u{200B}AI가", "", true),
        ("삼성전자", "삼성\u{00AD}전자", "", true),
        // Hangul: start of a word, any suffix
        ("기업", "기업들과의 협력", "", true),
        ("오픈AI", "오픈AI는 밝혔다", "", true),
        ("애플", "파인애플 가격 급등", "", false),
        ("애플", "‘애플’ 신제품", "", true),
        // Latin: boundaries on Latin letters and digits only
        ("AI", "AI가 바꾼 세상", "", true),
        ("AI", "생성형 (AI) 도입", "", true),
        ("sk", "ask me", "", false),
        ("AI", "FAIR 보고서", "", false),
        ("AI", "AI2 보고서", "", false),
        // aliases, built-in
        ("OpenAI", "오픈에이아이 발표", "", true),
        ("DeepSeek", "딥시크 새 모델 공개", "", true),
        ("딥시크", "DeepSeek releases", "", true),
        ("\"SK hynix\"", "SK하이닉스 HBM 증산", "", true),
        ("Samsung", "삼성전자 실적", "", true),
        ("Nvidia", "엔비디아 주가", "", true),
        // content counts
        ("기본법", "제목", "요약", false),
        // the Korean note's traps
        ("메타", "메타버스 플랫폼", "", true),
        ("=메타", "메타버스 플랫폼", "", false),
        ("=메타", "메타가 공개한 모델", "", true),
        ("=메타", "메타와의 협력", "", true),
        ("=메타", "메타, 구글", "", true),
        ("=Meta", "메타는 오늘", "", true),
        ("=Meta", "메타버스", "", false),
        ("=AI", "AI가", "", true),
        ("주가", "이번 주가 고비", "", true),
        (
            "주가 AND (증시 OR 코스피 OR 주식)",
            "이번 주가 고비",
            "",
            false,
        ),
        (
            "주가 AND (증시 OR 코스피 OR 주식)",
            "삼성전자 주가 급등에 코스피 상승",
            "",
            true,
        ),
        ("현대", "현대 미술관", "", true),
    ];
    for &(query, title, summary, want) in cases {
        let set = one(query);
        assert_eq!(
            matches_with(&set, &doc(title, summary)),
            want,
            "{query:?} on {title:?} / {summary:?}"
        );
    }
}

#[test]
fn content_is_matched_when_present() {
    let set = one("기본법");
    let d = Doc {
        feed: "f",
        title: "제목",
        summary: "요약",
        content: "인공지능 기본법이 시행된다",
    };
    assert!(matches_with(&set, &d));
    let set = one("content:기본법 NOT title:기본법");
    assert!(matches_with(&set, &d));
}

#[test]
fn user_aliases_and_switching_builtins_off() {
    let groups = vec![(
        "kkachi".to_string(),
        vec!["까치".to_string(), "magpie".to_string()],
    )];
    let set = RuleSet::from_queries_with_aliases([("r", "magpie")], true, &groups)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(matches_with(&set, &doc("까치가 울면", "")));
    let off = RuleSet::from_queries_with_aliases([("r", "OpenAI")], false, &[])
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!matches_with(&off, &doc("오픈AI 발표", "")));
    assert!(matches_with(&off, &doc("OpenAI 발표", "")));
}

#[test]
fn matched_lists_positive_terms_as_written_in_query_order() {
    let set = RuleSet::from_queries([
        ("deepseek", "DeepSeek"),
        ("chips", "(Nvidia OR 삼성전자) AND 반도체 NOT 주가"),
        ("openai", "OpenAI"),
        ("dup", "반도체 OR (반도체 AND 공급) OR \"반도체 공급\""),
    ])
    .unwrap_or_else(|e| panic!("{e:?}"));
    let d = doc("엔비디아 반도체 공급", "삼성전자도 참여");
    let got = set.match_doc(&d);
    assert_eq!(got, set.match_doc_naive(&d));
    assert_eq!(
        got,
        vec![
            RuleMatch {
                rule: "chips".into(),
                matched: vec!["Nvidia".into(), "삼성전자".into(), "반도체".into()],
                via: vec![Via {
                    term: "Nvidia".into(),
                    form: "엔비디아".into(),
                    source: Source::Dictionary
                }],
            },
            RuleMatch {
                rule: "dup".into(),
                matched: vec!["반도체".into(), "공급".into(), "\"반도체 공급\"".into()],
                via: vec![],
            },
        ]
    );
}

#[test]
fn rule_feeds_restrict_the_feed() {
    let src = "[[rules]]\nname = \"a\"\nquery = '삼성'\nfeeds = [\"hani\"]\n";
    let loaded = load(src, Path::new("rules.toml")).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!matches_with(&loaded.rules, &doc("삼성", "")));
    let d = Doc {
        feed: "hani",
        title: "삼성",
        summary: "",
        content: "",
    };
    assert!(matches_with(&loaded.rules, &d));
}

const ISSUE_FILE: &str = r#"builtin_aliases = true
[aliases]
openai = ["OpenAI", "오픈AI", "오픈에이아이"]

[[rules]]
name = "openai-korea"            # unique; [a-z0-9_-]; what users /subscribe to
query = 'OpenAI AND "한국 기업"'
description = "OpenAI's business with Korean companies"   # shown in the bot's topic list
feeds = []                        # optional: only these feeds
chats = [-1001234567890, 42]
"#;

#[test]
fn transliterate_false_turns_the_generated_spellings_off() {
    let rule = "[[rules]]\nname = \"z\"\nquery = 'Zalando'\n";
    let text = doc("잘란도가 상장했다", "");
    let on = load(rule, Path::new("rules.toml")).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(on.rules.match_doc(&text).len(), 1);
    let off = load(
        &format!("transliterate = false\n{rule}"),
        Path::new("rules.toml"),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(off.rules.match_doc(&text).is_empty());
    let Err(bad) = load(
        &format!("transliterate = 1\n{rule}"),
        Path::new("rules.toml"),
    ) else {
        panic!("transliterate = 1 loads");
    };
    assert!(
        bad[0]
            .to_string()
            .contains("rules.toml:1:17: transliterate must be true or false"),
        "{}",
        bad[0]
    );
}

#[test]
fn loads_the_issue_example() {
    let loaded =
        load(ISSUE_FILE, Path::new("config/rules.toml")).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let info = &loaded.rules.rules()[0];
    assert_eq!(info.name, "openai-korea");
    assert_eq!(info.query, "OpenAI AND \"한국 기업\"");
    assert_eq!(info.description, "OpenAI's business with Korean companies");
    assert!(info.feeds.is_empty());
    assert_eq!(
        info.chats,
        vec![
            crate::deliver::Dest::chat(-1_001_234_567_890),
            crate::deliver::Dest::chat(42)
        ]
    );
    let hits = loaded
        .rules
        .match_doc(&doc("오픈에이아이, 한국 기업들과 협력", ""));
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].matched,
        vec!["OpenAI".to_string(), "\"한국 기업\"".to_string()]
    );
}

#[test]
fn the_shipped_rules_file_loads() {
    // config/rules.toml as the lead wrote it; read here only as test data.
    let src = include_str!("../../config/rules.toml");
    if let Err(e) = load(src, Path::new("config/rules.toml")) {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn errors(src: &str) -> Vec<String> {
    match load(src, Path::new("rules.toml")) {
        Ok(l) => panic!("expected errors, got {} rules", l.rules.len()),
        Err(diags) => diags.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn syntax_error_names_file_line_column_rule_and_shows_a_caret() {
    let src = "[[rules]]\nname = \"openai-korea\"\nquery = 'OpenAI AND'\n";
    assert_eq!(
        errors(src),
        vec![
            "rules.toml:3:20: rule \"openai-korea\": expected a term after AND\n    OpenAI AND\n              ^"
        ]
    );
    // Hangul before the problem: columns count characters, the caret counts terminal cells.
    let src = "[[rules]]\nname = \"x1\"\nquery = '한국 AND (삼성 OR'\n";
    assert_eq!(
        errors(src),
        vec![
            "rules.toml:3:23: rule \"x1\": expected a term after OR\n    한국 AND (삼성 OR\n                     ^"
        ]
    );
    // A basic string with escapes: the column is where the character sits in the file.
    let src = "[[rules]]\nname = \"x2\"\nquery = \"\\\"한국\\\" titel:삼성\"\n";
    assert_eq!(
        errors(src),
        vec![
            "rules.toml:3:17: rule \"x2\": unknown field titel: (fields are title:, summary:, content:, feed:)\n    \"한국\" titel:삼성\n           ^"
        ]
    );
    // Multi-line literal string.
    let src = "[[rules]]\nname = \"x3\"\nquery = '''\n삼성 AND\n  (애플'''\n";
    let e = errors(src);
    assert!(
        e[0].starts_with("rules.toml:5:3: rule \"x3\": unclosed ( : missing )"),
        "{e:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let src = r#"
buitin_aliases = true

[aliases]
bad = ["", "x"]

[[rules]]
name = "ok"
query = '반도체 NOT 주가'

[[rules]]
name = "ok"
query = '삼성'

[[rules]]
name = "Bad Name"
query = '삼성'

[[rules]]
name = "empty"
query = '  '

[[rules]]
name = "neg"
query = 'NOT 주가'

[[rules]]
name = "typo"
quer = '삼성'

[[rules]]
query = '삼성'

[[rules]]
name = "chats"
query = '삼성'
chats = ["me"]
"#;
    let e = errors(src);
    let expected = [
        "rules.toml:2:1: unknown key `buitin_aliases` in the rules file (did you mean `builtin_aliases`?); expected one of: builtin_aliases, transliterate, aliases, rules",
        "rules.toml:5:1: warning: alias group `bad` has fewer than two members and changes nothing",
        "rules.toml:5:8: alias group `bad`: empty member",
        "rules.toml:12:8: duplicate rule name \"ok\" (first defined on line 8)",
        "rules.toml:16:8: rule name \"Bad Name\" must use only a-z, 0-9, _ and -",
        "rules.toml:21:9: rule \"empty\": empty query",
        "rules.toml:25:10: rule \"neg\": the query can match through negation alone; add a term the story must contain (e.g. 반도체 NOT 주가)",
        "rules.toml:29:1: unknown key `quer` in rule \"typo\" (did you mean `query`?); expected one of: name, query, description, feeds, chats",
        "rules.toml:31:1: rule without a name: every [[rules]] needs name = \"...\"",
        "rules.toml:37:10: rule \"chats\": chats: \"me\" is not a chat: expected CHAT_ID or CHAT_ID/TOPIC_ID, such as \"-1001234567890/17\"",
    ];
    let firsts: Vec<&str> = e
        .iter()
        .map(|d| d.lines().next().unwrap_or_default())
        .collect();
    for want in expected {
        assert!(
            firsts.contains(&want),
            "missing {want:?} in\n{}",
            firsts.join("\n")
        );
    }
}

/// Each diagnostic's first line (its position and message, without the notes under it).
fn first_lines(diags: &[crate::diag::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d.to_string().lines().next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn warnings_for_mixing_and_short_terms() {
    let src = "[[rules]]\nname = \"w\"\nquery = 'AI AND 반도체 OR 책'\n";
    let loaded = load(src, Path::new("rules.toml")).unwrap_or_else(|e| panic!("{e:?}"));
    let w = first_lines(&loaded.warnings);
    assert_eq!(
        w,
        vec![
            "rules.toml:3:10: warning: rule \"w\": short term AI (one syllable, or one or two letters) matches a lot of noise",
            "rules.toml:3:21: warning: rule \"w\": AND and OR mixed without parentheses; this reads as (AI AND 반도체) OR 책",
            "rules.toml:3:24: warning: rule \"w\": short term 책 (one syllable, or one or two letters) matches a lot of noise",
        ]
    );
}

/// Regression (issue 13): `DeepSeek and OpenAI` searched for the word "and" without a word.
#[test]
fn lowercase_operators_are_a_warning_and_phrases_stay_silent() {
    let src = "[[rules]]\nname = \"w\"\nquery = 'DeepSeek and OpenAI or Nvidia'\n\n\
               [[rules]]\nname = \"p\"\nquery = '\"research and development\" AND 삼성전자'\n";
    let loaded = load(src, Path::new("rules.toml")).unwrap_or_else(|e| panic!("{e:?}"));
    let w = first_lines(&loaded.warnings);
    assert_eq!(
        w,
        vec![
            "rules.toml:3:19: warning: rule \"w\": lowercase \"and\" is a search word here, not an operator: write AND to combine terms (or \"and\" to search for the word)",
            "rules.toml:3:30: warning: rule \"w\": lowercase \"or\" is a search word here, not an operator: write OR to combine terms (or \"or\" to search for the word)",
        ]
    );
    // `rules test` and `check_query` see the same warning.
    let w = crate::rules::check_query("DeepSeek and OpenAI").expect("valid");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].column, 10);
}

#[test]
fn feed_terms_are_listed_with_the_rule_position() {
    let src = "[[rules]]\nname = \"w\"\nquery = 'feed:yonhap AND (AI OR feed:hani)'\n";
    let loaded = load(src, Path::new("rules.toml")).unwrap_or_else(|e| panic!("{e:?}"));
    let info = &loaded.rules.rules()[0];
    assert_eq!(info.feed_terms, ["yonhap", "hani"]);
    assert_eq!(info.at, (3, 9));
}

#[test]
fn invalid_toml_is_one_error() {
    let e = errors("[[rules]\nname = 1\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("rules.toml:1:"), "{e:?}");
    assert!(e[0].contains("invalid TOML"), "{e:?}");
}

#[test]
fn query_error_display_and_caret() {
    let e = RuleSet::from_queries([("r", "OpenAI AND (")])
        .err()
        .unwrap_or_default();
    let (name, err) = &e[0];
    assert_eq!(name, "r");
    assert_eq!(err.to_string(), "column 13: expected a term after (");
    assert_eq!(err.caret("OpenAI AND ("), "OpenAI AND (\n            ^");
}

#[test]
fn test_query_shows_hits_in_context() {
    let set = RuleSet::empty();
    let d = doc("오픈AI, 한국 기업들과의 협력 확대", "");
    let r =
        test_query("OpenAI AND \"한국 기업\" NOT 주가", &set, &d).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.matched);
    assert_eq!(
        r.hits,
        vec![
            Hit {
                term: "OpenAI".into(),
                form: "오픈ai".into(),
                source: Source::Dictionary,
                field: "title",
                found: "오픈AI".into(),
                context: "[오픈AI], 한국 기업들과의 협력 확대".into()
            },
            Hit {
                term: "\"한국 기업\"".into(),
                form: "한국 기업".into(),
                source: Source::Written,
                field: "title",
                found: "한국 기업".into(),
                context: "오픈AI, [한국 기업]들과의 협력 확대".into()
            },
        ]
    );
    let r = test_query("애플", &set, &doc("파인애플 가격 급등", "과일 시장"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!r.matched && r.hits.is_empty());
    let r = test_query("OpenAI", &set, &doc("", "ＯｐｅｎＡＩ는 오늘"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.hits[0].found, "ＯｐｅｎＡＩ");
    assert_eq!(r.hits[0].field, "summary");
    let r = test_query("반도체 NOT 주가", &set, &doc("반도체 주가", ""))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!r.matched);
    assert_eq!(r.excluded[0].term, "주가");
    let long = format!("{}삼성{}", "가".repeat(40), "나".repeat(40));
    let r = test_query("*삼성", &set, &doc(&long, "")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.hits[0].context,
        format!("…{}[삼성]{}…", "가".repeat(30), "나".repeat(30))
    );
    assert!(test_query("OpenAI AND (", &set, &d).is_err());
}

#[test]
fn empty_rule_set_matches_nothing() {
    let set = RuleSet::empty();
    assert!(set.match_doc(&doc("삼성", "")).is_empty());
    assert!(set.rules().is_empty());
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RuleSet>();
}

// ---- properties ---------------------------------------------------------------------------------

const WORDS: &[&str] = &[
    "기업",
    "한국",
    "삼성",
    "삼성전자",
    "애플",
    "파인애플",
    "메타",
    "메타버스",
    "오픈AI",
    "OpenAI",
    "AI",
    "FAIR",
    "sk",
    "ask",
    "주가",
    "반도체",
    "중소기업",
    "규제",
    "딥시크",
    "DeepSeek",
    "regulation",
];
const PARTICLE_SUFFIXES: &[&str] = &["", "", "", "가", "는", "들과의", "의", "버스", "s", "2"];
const PUNCT: &[&str] = &["", "", "", ",", "(", ")", "·", "“", "”", "."];

fn term_strategy() -> impl Strategy<Value = Expr> {
    let word = prop::sample::select(WORDS);
    (word, 0..6u8, prop::sample::select(WORDS), any::<bool>()).prop_map(|(w, m, w2, phrase)| {
        let chars = w.chars().count();
        let hangul = w.chars().filter(|c| literal::is_hangul(*c)).count();
        let can_suffix = hangul >= 2 || chars >= 3;
        let t = |text: String, phrase, prefix, suffix, whole| {
            Expr::Term(Term {
                text,
                phrase,
                prefix,
                suffix,
                whole,
            })
        };
        match m {
            _ if phrase && m < 2 => t(format!("{w} {w2}"), true, false, false, false),
            1 => t(w.to_string(), false, true, false, false),
            2 if can_suffix => t(w.to_string(), false, false, true, false),
            3 => t(w.to_string(), false, false, false, true),
            4 => t(w.to_string(), true, false, false, false),
            _ => t(w.to_string(), false, false, false, false),
        }
    })
}

fn positional_strategy() -> impl Strategy<Value = Expr> {
    prop_oneof![
        3 => term_strategy(),
        1 => prop::collection::vec(term_strategy(), 2..3).prop_map(Expr::Or),
        1 => term_strategy().prop_map(|t| Expr::Field(Field::Title, Box::new(t))),
    ]
}

fn expr_strategy() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        6 => term_strategy(),
        1 => (positional_strategy(), positional_strategy(), 0..4u32).prop_map(|(a, b, n)| Expr::Near(Box::new(a), Box::new(b), n)),
        1 => prop::sample::select(&["yna", "hani"][..]).prop_map(|f| Expr::Field(Field::Feed, Box::new(Expr::Term(Term { text: f.to_string(), phrase: false, prefix: false, suffix: false, whole: false })))),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            (
                prop::sample::select(&[Field::Title, Field::Summary, Field::Content][..]),
                term_strategy()
            )
                .prop_map(|(f, t)| Expr::Field(f, Box::new(t))),
        ]
    })
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(PUNCT),
            prop::sample::select(WORDS),
            prop::sample::select(PARTICLE_SUFFIXES),
            0..8u8,
        ),
        0..14,
    )
    .prop_map(|parts| {
        let mut s = String::new();
        for (p, w, suffix, sep) in parts {
            let w = match sep {
                0 => w.to_uppercase(),
                1 => w.replace('A', "Ａ"),
                _ => w.to_string(),
            };
            s.push_str(p);
            s.push_str(&w);
            s.push_str(suffix);
            s.push_str(match sep {
                2 => "",
                3 => "\u{200B}",
                4 => "  ",
                _ => " ",
            });
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn printing_and_parsing_again_gives_the_same_rule(e in expr_strategy()) {
        let printed = e.to_string();
        let first = parser::parse(&printed);
        if let Ok(first) = first {
            let again = first.expr.to_string();
            let second = parser::parse(&again).map(|p| p.expr);
            prop_assert_eq!(second.as_ref().ok(), Some(&first.expr), "{} -> {}", printed, again);
        } else {
            // Only rules the checker rejects (negation alone) may fail to parse.
            prop_assert!(!parser::needs_positive(&e), "{printed}: {first:?}");
        }
    }

    #[test]
    fn indexed_matcher_agrees_with_naive(
        rules in prop::collection::vec(expr_strategy(), 1..8),
        docs in prop::collection::vec((text_strategy(), text_strategy(), text_strategy(), any::<bool>()), 1..6),
    ) {
        let queries: Vec<(String, String)> = rules
            .iter()
            .enumerate()
            .filter(|(_, e)| parser::needs_positive(e))
            .map(|(i, e)| (format!("r{i}"), e.to_string()))
            .collect();
        let set = RuleSet::from_queries(queries.iter().map(|(n, q)| (n.as_str(), q.as_str())));
        let set = match set { Ok(s) => s, Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))) };
        let mut matcher = set.matcher();
        for (title, summary, content, hani) in &docs {
            let d = Doc { feed: if *hani { "hani" } else { "yna" }, title, summary, content };
            let naive = set.match_doc_naive(&d);
            prop_assert_eq!(&set.match_doc(&d), &naive, "{:?} on {:?}", queries, d);
            // The reusing matcher, with buffers left over from the previous stories.
            prop_assert_eq!(matcher.match_doc(&d), &naive[..], "matcher: {:?} on {:?}", queries, d);
            let ids = matcher.match_ids(&d);
            prop_assert_eq!(ids.len(), naive.len());
            prop_assert_eq!(ids.to_vec(), naive.clone(), "match_ids: {:?} on {:?}", queries, d);
            for (m, want) in ids.iter().zip(&naive) {
                prop_assert_eq!(&set.rules()[m.rule_index()].name, &want.rule);
            }
        }
    }

    #[test]
    fn random_query_text_round_trips_when_it_parses(q in "[ ()\"“”삼성기업AIai*=:-]{0,6}( (AND|OR|NOT|NEAR/2) )?[ ()\"삼성애플AIsk*=-]{0,6}") {
        if let Ok(p) = parser::parse(&q) {
            let printed = p.expr.to_string();
            let again = parser::parse(&printed).map(|p| p.expr);
            prop_assert_eq!(again.as_ref().ok(), Some(&p.expr), "{} -> {}", q, printed);
        }
    }

    #[test]
    fn normalising_into_a_buffer_gives_the_same_text(s in "[ \t\n\u{0b}\u{0c}\r\u{7f}AbZz9@\\[`{가삼힣\u{d7a4}\u{d7b0}\u{abff}Ｏ\u{200B}]{0,40}") {
        // The full path is the reference for the fast checks (eight ASCII bytes at a time,
        // Hangul by lead byte).
        let want = normalize::normalize_mapped(&s).0;
        let cow = normalize(&s).into_owned();
        prop_assert_eq!(cow.as_str(), want.as_str());
        let mut buf = String::from("left over");
        prop_assert_eq!(normalize::normalize_into(&s, &mut buf), want.as_str());
    }

    #[test]
    fn normalisation_is_idempotent(s in "\\PC{0,20}") {
        let once = normalize(&s).into_owned();
        prop_assert_eq!(normalize(&once).into_owned(), once.clone());
        let mut buf = String::from("left over");
        prop_assert_eq!(normalize::normalize_into(&s, &mut buf), once.as_str());
        prop_assert_eq!(normalize::normalize_mapped(&s).0, once);
    }
}

#[test]
fn a_transliterated_hit_says_which_spelling_matched_and_where_it_came_from() {
    let set =
        RuleSet::from_queries([("stream", "Zalando AND 요금")]).unwrap_or_else(|e| panic!("{e:?}"));
    let d = doc("잘란도가 요금을 올린다", "");
    let got = set.match_doc(&d);
    assert_eq!(got, set.match_doc_naive(&d));
    assert_eq!(set.matcher().match_doc(&d), &got[..]);
    assert_eq!(set.matcher().match_ids(&d).to_vec(), got);
    assert_eq!(
        got,
        vec![RuleMatch {
            rule: "stream".into(),
            matched: vec!["Zalando".into(), "요금".into()],
            via: vec![Via {
                term: "Zalando".into(),
                form: "잘란도".into(),
                source: Source::Transliteration,
            }],
        }]
    );
    // A matcher reuses its buffers: the next story's hit as written has no `via`.
    let mut m = set.matcher();
    assert_eq!(m.match_doc(&d), &got[..]);
    let written = doc("Zalando 요금 인상", "");
    assert!(m.match_doc(&written)[0].via.is_empty());
    assert_eq!(m.match_doc(&written), &set.match_doc_naive(&written)[..]);
    // Whole word with particles only, not the start of a longer word.
    assert!(set.match_doc(&doc("잘란도코리아 요금", "")).is_empty());
    // Off: the spelling is not tried.
    let off = RuleSet::from_queries_with([("stream", "Zalando AND 요금")], true, &[], false)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(off.match_doc(&d).is_empty());
    let r = test_query("Zalando", &set, &d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (r.hits[0].form.as_str(), r.hits[0].source),
        ("잘란도", Source::Transliteration)
    );
}
