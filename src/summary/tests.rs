//! Summaries of hand-made inputs and of every item of the real feed fixtures.

use super::*;

fn input<'a>(title: &'a str, description: &'a str) -> SummaryInput<'a> {
    SummaryInput {
        title,
        description,
        content: None,
        article: None,
    }
}

#[test]
fn whole_sentences_in_order_within_budget() {
    let text = "(서울=연합뉴스) 홍길동 기자 = 삼성전자가 3.5% 오른 주가로 마감했다. \
        회사는 “반도체가 살아났다. 그래야 산다”며 투자를 늘리겠다고 말했다. \
        날씨는 맑았다. 삼성전자 주가는 반도체 업황 회복 기대로 올랐다. \
        홍길동 기자 hong@yna.co.kr ⓒ 연합뉴스, 무단 전재 및 재배포 금지";
    let ex = explain(&input("삼성전자 주가 상승", text), 120);
    assert_eq!(ex.source, "description");
    assert!(ex.summary.chars().count() <= 120, "{}", ex.summary);
    assert!(
        ex.summary.starts_with("삼성전자가 3.5% 오른"),
        "{}",
        ex.summary
    );
    assert!(
        !ex.summary.contains("연합뉴스") && !ex.summary.contains('@'),
        "{}",
        ex.summary
    );
    let reasons: Vec<&str> = ex.removed.iter().map(|r| r.reason).collect();
    assert!(
        reasons.contains(&"dateline") && reasons.contains(&"copyright"),
        "{reasons:?}"
    );
    // chosen sentences appear in source order
    let chosen: Vec<&str> = ex
        .sentences
        .iter()
        .filter(|s| s.chosen)
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(ex.summary, chosen.join(" "));
}

#[test]
fn sources_best_first() {
    let mut i = input("제목이다", "설명 문장이다.");
    i.content = Some("<p>본문 문장이다.</p>");
    assert_eq!(explain(&i, 280).source, "content");
    i.article = Some("기사 본문이다.\n\n둘째 문단이다.");
    let ex = explain(&i, 280);
    assert_eq!(
        (ex.source, ex.summary.as_str()),
        ("article", "기사 본문이다. 둘째 문단이다.")
    );
    // a content that is only a cut-off fragment falls through to the description
    i.article = None;
    i.content = Some("잘린 본문이...");
    assert_eq!(explain(&i, 280).source, "description");
    assert_eq!(summarize(&input("제목만 있다", ""), 280), "제목만 있다");
    assert_eq!(summarize(&input("", "  "), 280), "");
}

#[test]
fn fallback_cuts_at_a_word_boundary() {
    let long = "아주 긴 문장이 하나뿐이라서 예산에 들어가지 않는 경우에는 단어 경계에서 자른다.";
    let s = summarize(&input(long, long), 20);
    assert!(
        s.chars().count() <= 20 && long.starts_with(&s) && !s.ends_with(' '),
        "{s:?}"
    );
    assert!(long[s.len()..].starts_with(' '), "{s:?}");
    // a later source's fitting sentence beats cutting
    let mut i = input("짧은 제목", long);
    i.content = Some(long);
    let ex = explain(&i, 20);
    assert_eq!(
        (ex.summary.as_str(), ex.fallback),
        ("짧은 제목", Some("title"))
    );
}

#[test]
fn korean_quotes_and_numbers_stay_whole() {
    let text = "그는 “기업은 변해야 한다. 그래야 산다”며 변화를 주문했다고 말했다. 금리는 2025.02.04 기준 3.5%다.";
    let ex = explain(&input("t", text), 280);
    let texts: Vec<&str> = ex.sentences.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "그는 “기업은 변해야 한다. 그래야 산다”며 변화를 주문했다고 말했다.",
            "금리는 2025.02.04 기준 3.5%다."
        ]
    );
}

/// Items of a fixture feed as summary inputs (title, description, content).
fn feed_items(bytes: &[u8]) -> Vec<(String, String, Option<String>)> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let feed = feed_rs::parser::parse(&bytes[start..]).expect("fixture feeds parse");
    feed.entries
        .into_iter()
        .map(|e| {
            (
                e.title.map(|t| t.content).unwrap_or_default(),
                e.summary.map(|t| t.content).unwrap_or_default(),
                e.content.and_then(|c| c.body),
            )
        })
        .collect()
}

const FEEDS: &[(&str, &[u8])] = &[
    (
        "donga",
        include_bytes!("../../tests/data/feeds/ko/donga-2022-07-30.xml"),
    ),
    (
        "joongang",
        include_bytes!("../../tests/data/feeds/ko/joongang-2022-07-30.xml"),
    ),
    (
        "kmib",
        include_bytes!("../../tests/data/feeds/ko/kmib-2022-07-30.xml"),
    ),
    (
        "nocut",
        include_bytes!("../../tests/data/feeds/ko/nocut-2022-07-30.xml"),
    ),
    (
        "pressian",
        include_bytes!("../../tests/data/feeds/ko/pressian-2022-07-30.xml"),
    ),
    (
        "euc-kr",
        include_bytes!("../../tests/data/feeds/ko/euc-kr-declared-tiny.xml"),
    ),
    (
        "techcrunch",
        include_bytes!("../../tests/data/feeds/en/techcrunch-2011.xml"),
    ),
    (
        "huffpost",
        include_bytes!("../../tests/data/feeds/en/huffpost-canada-2017.xml"),
    ),
    (
        "reddit",
        include_bytes!("../../tests/data/feeds/en/reddit-worldnews-atom-2019.xml"),
    ),
];

/// What no summary may contain, and whether it is whole sentences.
fn problems(ex: &Explanation, max_chars: usize) -> Vec<String> {
    let (summary, sentences, source) = (ex.summary.as_str(), &ex.sentences, ex.source);
    let mut out = Vec::new();
    if summary.chars().count() > max_chars {
        out.push("over the limit".to_owned());
    }
    let b = summary.as_bytes();
    if b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/'))
    {
        out.push("html".to_owned());
    }
    if crate::html::has_entity(summary) {
        out.push("entity".to_owned());
    }
    if summary.contains('@') {
        out.push("e-mail".to_owned());
    }
    if summary.contains("기자 =")
        || summary.contains("=연합뉴스")
        || summary.contains("=뉴스1")
        || summary.contains("(Reuters)")
    {
        out.push("dateline".to_owned());
    }
    if summary.contains("무단") || summary.contains('ⓒ') || summary.contains('©') {
        out.push("copyright".to_owned());
    }
    let t = summary.trim_end();
    if t.ends_with("..") || t.ends_with('…') || t.ends_with("···") {
        out.push("cut-off".to_owned());
    }
    if source != "title" && ex.fallback.is_none() {
        let chosen: Vec<&str> = sentences
            .iter()
            .filter(|s| s.chosen)
            .map(|s| s.text.as_str())
            .collect();
        if chosen.is_empty() || chosen.join(" ") != summary {
            out.push("not whole sentences".to_owned());
        }
        if !chosen.iter().all(|s| clean::is_terminated(s)) {
            out.push("unterminated sentence".to_owned());
        }
    }
    out
}

#[test]
fn real_feeds_give_clean_summaries() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, bytes) in FEEDS {
        for (title, description, content) in feed_items(bytes) {
            let i = SummaryInput {
                title: &title,
                description: &description,
                content: content.as_deref(),
                article: None,
            };
            for max in [280, 120] {
                let ex = explain(&i, max);
                count += 1;
                if ex.summary.is_empty() {
                    failures.push(format!("{name}: empty summary for {title:?}"));
                }
                let p = problems(&ex, max);
                if !p.is_empty() {
                    failures.push(format!("{name} [{max}] {p:?}: {:?}", ex.summary));
                }
            }
        }
    }
    assert!(count > 400, "{count}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kmib_full_text_drops_the_byline_and_keeps_quotes() {
    let items = feed_items(FEEDS[2].1);
    let (title, description, content) = &items[0];
    let i = SummaryInput {
        title,
        description,
        content: content.as_deref(),
        article: None,
    };
    let ex = explain(&i, 280);
    assert_eq!(ex.source, "content");
    assert!(
        ex.removed
            .iter()
            .any(|r| r.reason == "byline" && r.text.contains("critic@kmib.co.kr")),
        "{:?}",
        ex.removed
    );
    assert!(
        ex.sentences
            .iter()
            .any(|s| s.text.starts_with("이 후보는 이날") && s.text.ends_with("이같이 말했다.")),
        "a quote holding `부자는 적인가.` stays one sentence: {:#?}",
        ex.sentences
    );
}

#[test]
fn extract_article_from_a_page() {
    let page = include_str!("../../tests/data/summaries/pages/article-ko.html");
    let a =
        extract_article(page, Some("https://news.example.kr/article/1")).expect("readable page");
    assert!(a.title.contains("지카바이러스"), "{}", a.title);
    assert!(a.text.contains("\n\n"), "paragraphs kept: {}", a.text);
    assert!(
        !a.text.contains("많이 본 뉴스") && !a.text.contains("<"),
        "{}",
        a.text
    );
    let s = summarize(
        &SummaryInput {
            title: &a.title,
            description: "",
            content: None,
            article: Some(&a.text),
        },
        280,
    );
    assert!(
        s.starts_with("소두증을") && !s.contains('@') && !s.contains("무단"),
        "{s}"
    );
    let euc = decode_html(
        include_bytes!("../../tests/data/summaries/pages/article-euc-kr.html"),
        None,
    );
    assert!(
        extract_article(&euc, None).is_some_and(|a| a.text.contains("똠방각하")),
        "{euc}"
    );
}

/// Issue 13: a story's title is plain text; the summary must not parse it as HTML again.
#[test]
fn a_plain_title_with_angle_brackets_survives_as_the_summary() {
    let got = summarize(&input("Use <script> tags & more", ""), 280);
    assert_eq!(got, "Use <script> tags & more");
    let got = summarize(&input("History of the <blink> tag", ""), 280);
    assert_eq!(got, "History of the <blink> tag");
}

/// The seed story (`tests/data/summaries/seed/`): its title and text.
fn seed_story() -> (&'static str, &'static str) {
    let raw = include_str!("../../tests/data/summaries/seed/openai-korea.txt");
    raw.split_once("\n\n").expect("title, blank line, text")
}

/// The terms `query` matched on a story, as the pipeline passes them.
fn matched_terms(query: &str, title: &str, text: &str) -> Terms {
    let rules = crate::rules::RuleSet::from_queries([("r", query)]).expect("query parses");
    let doc = crate::rules::Doc {
        feed: "yna",
        title,
        summary: text,
        content: "",
    };
    let matches = rules.match_doc(&doc);
    assert!(!matches.is_empty(), "{query} must match {title}");
    Terms::of_hits(matches.iter().map(|m| (&m.matched[..], &m.via[..])))
}

const DEEPSEEK_SENTENCE: &str = "중국 딥시크가 저가 모델로 추격하는 가운데 업계는 한국 기업들과의 제휴가 승부를 가를 것으로 본다.";

/// Issue 15: under `OpenAI AND "한국 기업"` the summary dropped the one sentence that says why
/// the story matched (딥시크 … 한국 기업들과의).
#[test]
fn the_seed_story_keeps_the_sentence_with_the_matched_terms() {
    let (title, text) = seed_story();
    let i = input(title, text);
    let plain = explain(&i, 280);
    assert!(
        !plain.summary.contains("딥시크"),
        "the seed no longer shows the problem: {}",
        plain.summary
    );
    let options = Options {
        terms: matched_terms("OpenAI AND \"한국 기업\"", title, text),
        ..Options::default()
    };
    let ex = explain_with(&i, 280, &options);
    assert!(ex.summary.contains(DEEPSEEK_SENTENCE), "{}", ex.summary);
    assert!(
        ex.summary.starts_with("미국 인공지능(AI) 기업 오픈AI가"),
        "{}",
        ex.summary
    );
    assert_eq!(problems(&ex, 280), Vec::<String>::new(), "{}", ex.summary);
    let carried: Vec<(usize, &str)> = ex
        .sentences
        .iter()
        .filter(|s| s.terms > 0)
        .map(|s| (s.terms, s.text.as_str()))
        .collect();
    assert_eq!(
        carried.len(),
        6,
        "five 오픈AI sentences and the 딥시크 one: {carried:?}"
    );
    // A budget for two sentences: each term still shown, by its best-ranked sentence.
    let budget = DEEPSEEK_SENTENCE.chars().count() + 60;
    let ex = explain_with(&i, budget, &options);
    assert_eq!(
        ex.summary,
        format!(
            "미국 인공지능(AI) 기업 오픈AI가 서울에 아시아 첫 사무소를 열고 국내 시장 공략에 \
             본격적으로 나섰다. {DEEPSEEK_SENTENCE}"
        )
    );
}

#[test]
fn the_sentence_with_most_distinct_terms_wins() {
    let text = "삼성전자가 새 칩을 공개했다. 애플도 새 칩을 공개했다. \
                날씨는 맑았다. 삼성전자와 애플이 나란히 칩을 내놓아 경쟁이 붙었다.";
    let mut terms = Terms::new();
    terms.add("삼성전자", None);
    terms.add("애플", None);
    let options = Options {
        terms,
        ..Options::default()
    };
    let both = "삼성전자와 애플이 나란히 칩을 내놓아 경쟁이 붙었다.";
    let ex = explain_with(&input("칩 공개", text), both.chars().count(), &options);
    assert_eq!(ex.summary, both);
}

/// A hit in the title only needs nothing: no sentence carries the term, the summary is the
/// plain one. And terms the ranking shows anyway change nothing.
#[test]
fn title_only_hits_and_terms_already_shown_change_nothing() {
    let (title, text) = seed_story();
    let i = input(title, text);
    for (query, budget) in [
        ("title:\"아시아 첫 사무소\"", 280),
        ("오픈AI", 280),
        ("오픈AI", 120),
    ] {
        let terms = matched_terms(query, title, text);
        let ex = explain_with(
            &i,
            budget,
            &Options {
                terms,
                ..Options::default()
            },
        );
        assert_eq!(ex.summary, explain(&i, budget).summary, "{query}");
    }
}

/// Every item of the real feeds under a rule drawn from its title (its longest word): clean
/// summaries, and a sentence carrying the term whenever one fits.
#[test]
fn real_feeds_with_title_rules_give_clean_summaries_that_show_the_term() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, bytes) in FEEDS {
        for (title, description, content) in feed_items(bytes) {
            let Some(word) = title
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_alphanumeric))
                .max_by_key(|w| w.chars().count())
            else {
                continue;
            };
            let query = format!("\"{word}\"");
            let rules = crate::rules::RuleSet::from_queries([("r", query.as_str())])
                .expect("a quoted word parses");
            let doc = crate::rules::Doc {
                feed: name,
                title: &title,
                summary: &description,
                content: content.as_deref().unwrap_or(""),
            };
            let matches = rules.match_doc(&doc);
            let options = Options {
                terms: Terms::of_hits(matches.iter().map(|m| (&m.matched[..], &m.via[..]))),
                ..Options::default()
            };
            let i = SummaryInput {
                title: &title,
                description: &description,
                content: content.as_deref(),
                article: None,
            };
            for max in [280, 120] {
                let ex = explain_with(&i, max, &options);
                checked += 1;
                let p = problems(&ex, max);
                if !p.is_empty() {
                    failures.push(format!("{name} [{max}] {p:?}: {:?}", ex.summary));
                }
                let fits = ex
                    .sentences
                    .iter()
                    .any(|s| s.terms > 0 && s.text.chars().count() <= max);
                let shown = ex.sentences.iter().any(|s| s.terms > 0 && s.chosen);
                if ex.fallback.is_none() && fits && !shown {
                    failures.push(format!(
                        "{name} [{max}] {word:?} not shown: {:?}",
                        ex.summary
                    ));
                }
            }
        }
    }
    assert!(checked > 400, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
