//! Transliteration (`rules::translit`): coverage of the labelled names and false matches on
//! real Korean news, against the targets of issue 18; and `kkachi aliases suggest` through the
//! binary.

mod eval;

#[test]
fn transliteration_meets_the_coverage_and_precision_targets_on_held_back_names() {
    let mut names = eval::names();
    let known = eval::in_dictionary(&names);
    println!("in the dictionary, not counted: {known:?}");
    names.retain(|n| !known.contains(&n.english));
    assert!(names.len() >= 200, "{} names", names.len());
    let stories = eval::background();
    let r = eval::evaluate(&names, &stories, true);
    println!(
        "coverage: tuning {}/{} ({:.1}%), held back {}/{} ({:.1}%)",
        r.tune.0,
        r.tune.1,
        100.0 * r.tune_coverage(),
        r.held.0,
        r.held.1,
        100.0 * r.held_coverage()
    );
    println!(
        "false matches per 10,000 stories per rule: tuning half {:.2}, held back {:.2} ({} + {} stories, {} rules)",
        r.false_rate(false),
        r.false_rate(true),
        r.stories.0,
        r.stories.1,
        r.rules
    );
    for (rule, title, held) in &r.false_matches {
        println!("false match (held back: {held}): {rule}: {title}");
    }
    assert!(
        r.held_coverage() >= 0.60,
        "held-back coverage {:.3}",
        r.held_coverage()
    );
    assert!(
        r.false_rate(true) <= 1.0,
        "held-back false rate {:.2}",
        r.false_rate(true)
    );
}

fn story(id: &str, title: &str, summary: &str) -> kkachi::story::Story {
    kkachi::story::Story {
        id: id.into(),
        feed: "yna".into(),
        title: title.into(),
        url: format!("https://e.com/{id}"),
        published: None,
        summary: summary.into(),
        authors: Vec::new(),
        categories: Vec::new(),
        content: None,
    }
}

#[test]
fn aliases_suggest_prints_counts_contexts_and_the_line_to_paste() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("stories.jsonl");
    let lines: Vec<String> = [
        story(
            "1",
            "잘란도가 한국 진출 검토",
            "유럽 최대 패션 플랫폼 잘란도는 27일",
        ),
        story("2", "잘란도의 3분기 실적", "잘란도 주가가 급등했다"),
        story("3", "패션 플랫폼 경쟁", "독일 잘란두와 영국 아소스가"),
        story("4", "정부 예산안 발표", "잘 안 된다는 평가"),
    ]
    .iter()
    .map(|s| serde_json::to_string(s).expect("json"))
    .collect();
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");

    let out = crate::kkachi()
        .args(["aliases", "suggest", "Zalando", "--input"])
        .arg(&input)
        .output()
        .expect("run");
    let stdout = crate::support::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&out)
    );
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        rows[0], "     4  잘란도  (matched already)  [잘란도]가 한국 진출 검토",
        "{stdout}"
    );
    assert!(
        rows[1].starts_with("     1  잘란두  (") && rows[1].contains("[잘란두]와"),
        "{stdout}"
    );
    assert_eq!(rows.len(), 5, "{stdout}");
    assert_eq!(rows[3], "[aliases]", "{stdout}");
    assert_eq!(
        rows[4], r#"zalando = ["Zalando", "잘란도", "잘란두"]"#,
        "{stdout}"
    );

    let none = crate::kkachi()
        .args(["aliases", "suggest", "Klaviyo", "--input"])
        .arg(&input)
        .output()
        .expect("run");
    assert_eq!(none.status.code(), Some(1));
    assert!(crate::support::stdout(&none).is_empty());
    assert!(
        crate::support::stderr(&none)
            .contains("no Korean spelling of \"Klaviyo\" found in 4 stories"),
        "{}",
        crate::support::stderr(&none)
    );

    let acronym = crate::kkachi()
        .args(["aliases", "suggest", "NASA", "--input"])
        .arg(&input)
        .output()
        .expect("run");
    assert_eq!(acronym.status.code(), Some(1));
    assert!(
        crate::support::stderr(&acronym).contains("only Latin names"),
        "{}",
        crate::support::stderr(&acronym)
    );
}
