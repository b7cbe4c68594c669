//! `kkachi cluster`, end to end through the binary: JSON and text output, the outlet, the 48 h
//! window, `--explain`, and bad input.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::kkachi;
use crate::support::text;

const LEDE: &str = "코로나19 신규 확진자가 30일 0시 기준 8만2천2명 발생했다. 토요일 발표 기준으로 15주 만에 최다 규모다. \
    중앙방역대책본부는 이날 0시 기준 신규 확진자가 8만2천2명 늘어 누적 1천955만5천323명이 됐다고 밝혔다. \
    전날(8만5천320명)보다 3천318명 적지만 1주일 전인 지난 23일(6만8천551명)의 1.2배, 2주일 전인 16일(4만1천295명)의 2배 수준이다. \
    위중증 환자는 282명으로 전날보다 2명 늘었고, 사망자는 20명 발생했다.";

const OTHER: &str = "프로야구 KIA가 나성범의 7타점 활약과 양현종의 호투에 힘입어 천적 SSG에 9점 차 완승을 거뒀다. \
    KIA는 29일 선두 SSG와의 광주 안방경기에서 11-2로 이겼다. 전날까지 올 시즌 상대 전적에서 1승 8패로 절대 열세였던 KIA는 \
    SSG전 4연패에서도 벗어났다. 타점 7개는 나성범의 한 경기 최다 기록이다.";

fn story(feed: &str, url: &str, published: &str, title: &str, text: &str) -> String {
    json!({
        "id": url, "feed": feed, "title": title, "url": url, "published": published,
        "summary": text, "authors": [], "categories": [],
    })
    .to_string()
}

/// The wire story, a repost on another outlet, the wire's own 종합 (another URL, same host,
/// another feed name), an unrelated story, and the repost again three days later.
fn input() -> String {
    let polite = LEDE
        .replace("했다.", "했습니다.")
        .replace("밝혔다.", "밝혔습니다.");
    [
        story(
            "yonhap",
            "https://www.yna.co.kr/view/AKR1",
            "2022-07-30T09:41:00+09:00",
            "신규확진 8만2천2명, 토요일 기준 15주만에 최다",
            &format!("(서울=연합뉴스) 김서연 기자 = {LEDE}"),
        ),
        story(
            "mbn",
            "https://www.mbn.co.kr/news/1",
            "2022-07-30T10:05:00+09:00",
            "오늘 코로나 신규확진 8만2천명…15주 만에 최다",
            &polite,
        ),
        story(
            "yonhap-society",
            "https://m.yna.co.kr/view/AKR2",
            "2022-07-30T11:00:00+09:00",
            "[종합] 신규확진 8만2천2명…위중증 282명",
            &format!("{LEDE} 방역당국은 재유행 정점이 다음 달 중순께 올 것으로 내다봤다."),
        ),
        story(
            "donga",
            "https://www.donga.com/news/1",
            "2022-07-30T12:00:00+09:00",
            "KIA 나성범 7타점… 천적 SSG에 화력쇼",
            OTHER,
        ),
        story(
            "kyeongin",
            "https://www.kyeongin.com/1",
            "2022-08-02T09:00:00+09:00",
            "코로나19 신규확진 8만2천2명",
            &polite,
        ),
    ]
    .join("\n")
        + "\n"
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = kkachi()
        .arg("cluster")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kkachi cluster");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn cluster_prints_one_line_per_story_with_its_lead_and_outlet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("stories.jsonl");
    std::fs::write(&file, input()).expect("write");
    let out = kkachi()
        .args(["cluster", "--input"])
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = lines(&out);
    assert_eq!(got.len(), 5, "{got:?}");
    let wire = "https://www.yna.co.kr/view/AKR1";
    let lead = &got[0];
    assert_eq!(lead["id"], wire);
    assert_eq!(lead["cluster"], 1);
    assert_eq!(lead["lead"], wire);
    assert!(
        lead["similarity"].is_null(),
        "a lead has no similarity: {lead}"
    );
    assert!(lead["outlet"].is_null(), "{lead}");

    let repost = &got[1];
    assert_eq!(
        repost["cluster"], 1,
        "the repost joins the wire story: {repost}"
    );
    assert_eq!(repost["lead"], wire);
    assert_eq!(repost["tier"], "copy");
    assert_eq!(repost["outlet"], "other", "{repost}");
    let sim = repost["similarity"].as_f64().expect("a number");
    assert!(sim > 0.5 && sim <= 1.0, "{repost}");

    let update = &got[2];
    assert_eq!(
        update["cluster"], 1,
        "the wire's own 종합 is the same story: {update}"
    );
    assert_eq!(
        update["outlet"], "same",
        "m.yna.co.kr is yna.co.kr: {update}"
    );

    assert_eq!(
        got[3]["cluster"], 4,
        "an unrelated story leads its own: {}",
        got[3]
    );
    assert_eq!(got[3]["lead"], got[3]["id"]);

    let late = &got[4];
    assert_eq!(
        late["cluster"], 5,
        "more than 48 h after the others, a copy starts a new cluster: {late}"
    );
    assert!(late["similarity"].is_null());
}

#[test]
fn cluster_reads_stdin_and_prints_a_table_or_the_overlap() {
    let table = run(&["--format", "text"], &input());
    assert_eq!(table.status.code(), Some(0), "{}", text(&table.stderr));
    let out = text(&table.stdout);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 6, "a header and one row per story:\n{out}");
    assert!(
        rows[0].contains("cluster") && rows[0].contains("title"),
        "{out}"
    );
    assert!(
        rows[2].contains("copy") && rows[2].contains("other"),
        "{out}"
    );
    assert!(rows[2].contains("오늘 코로나 신규확진"), "{out}");
    assert!(rows[3].contains("same"), "{out}");

    let explained = run(&["--explain"], &input());
    assert_eq!(
        explained.status.code(),
        Some(0),
        "{}",
        text(&explained.stderr)
    );
    let got = lines(&explained);
    assert!(
        got[0].get("explain").is_none(),
        "a lead has nothing to explain"
    );
    let why = got[1]["explain"].as_str().expect("a join is explained");
    assert!(!why.trim().is_empty(), "{}", got[1]);
}

#[test]
fn cluster_bad_line_names_the_line_and_prints_nothing() {
    let mut input = input();
    input.insert_str(
        input.find('\n').expect("a line") + 1,
        "{\"title\": \"no id\"}\n",
    );
    let out = run(&[], &input);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "", "nothing half-printed");
    let err = text(&out.stderr);
    assert!(err.contains("stdin:2:"), "{err}");
    assert!(!err.contains("stdin:1:"), "{err}");

    let missing = kkachi()
        .args(["cluster", "--input", "/nonexistent/stories.jsonl"])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("/nonexistent/stories.jsonl"));
}
