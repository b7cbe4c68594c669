//! `kkachi rules test`, `rules match` and `replay`, end to end through the binary.

use std::io::Write;
use std::process::Stdio;

use crate::server::Server;
use crate::support::text;
use crate::{Env, FeedSpec, kkachi, rss, rules};

#[test]
fn rules_test_exit_codes_and_hits_in_context() {
    let env = Env::new(&[], &rules(&[("x", "x")]));
    let run = |args: &[&str]| {
        kkachi()
            .args(["rules", "test"])
            .args(args)
            .arg("--config")
            .arg(env.config())
            .output()
            .expect("run")
    };
    let hit = run(&[
        "OpenAI AND \"한국 기업\"",
        "--text",
        "오픈AI, 한국 기업들과의 협력 확대",
    ]);
    assert_eq!(hit.status.code(), Some(0), "{}", text(&hit.stderr));
    let out = text(&hit.stdout);
    assert!(out.starts_with("matched"), "{out}");
    assert!(out.contains("OpenAI"), "{out}");
    assert!(
        out.contains("[오픈AI]"),
        "the hit is shown in context: {out}"
    );
    assert!(
        out.contains("[한국 기업들과의]") || out.contains("[한국 기업]"),
        "{out}"
    );

    let miss = run(&[
        "애플",
        "--title",
        "파인애플 가격 급등",
        "--summary",
        "과일 시장",
    ]);
    assert_eq!(miss.status.code(), Some(1), "{}", text(&miss.stdout));
    assert!(text(&miss.stdout).starts_with("no match"));

    let bad = run(&["OpenAI AND (", "--text", "x"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = text(&bad.stderr);
    assert!(err.contains("OpenAI AND ("), "the query is shown: {err}");
    assert!(err.contains('^'), "with a caret: {err}");

    let nothing = kkachi()
        .args(["rules", "test", "x"])
        .arg("--config")
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn rules_test_uses_the_configured_aliases() {
    let env = Env::new(
        &[],
        "[aliases]\nkkachi = [\"까치\", \"magpie\"]\n\n[[rules]]\nname = \"x\"\nquery = 'x'\n",
    );
    let out = kkachi()
        .args([
            "rules",
            "test",
            "magpie",
            "--text",
            "까치가 울면 반가운 손님이 온다",
            "--config",
        ])
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn rules_match_reads_story_json_lines() {
    let env = Env::new(
        &[],
        &rules(&[
            ("deepseek", "DeepSeek"),
            ("chips", "(Nvidia OR 삼성전자) AND 반도체"),
            ("openai", "OpenAI"),
        ]),
    );
    let input = [
        r#"{"id":"1","feed":"yna","title":"딥시크 새 모델 공개","url":"https://e.kr/1","published":null,"summary":"","authors":[],"categories":[]}"#,
        r#"{"id":"2","feed":"yna","title":"엔비디아 반도체 공급","url":"https://e.kr/2","published":null,"summary":"삼성전자도 참여","authors":[],"categories":[]}"#,
        r#"{"id":"3","feed":"yna","title":"날씨","url":"https://e.kr/3","published":null,"summary":"맑음","authors":[],"categories":[]}"#,
    ]
    .join("\n");
    let mut child = kkachi()
        .args(["rules", "match", "--input", "-", "--config"])
        .arg(env.config())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["id"], "1");
    assert_eq!(lines[0]["rule"], "deepseek");
    assert_eq!(lines[1]["id"], "2");
    assert_eq!(lines[1]["rule"], "chips");
    assert!(
        lines[1]["matched"].as_array().is_some_and(|m| m.len() >= 2),
        "{}",
        lines[1]
    );

    // A broken line is reported with its line number; the others still match. A line that
    // is not UTF-8 gets the parser's message with its column, as when the parser checked it.
    let env_file = env.path("stories.jsonl");
    let mut broken = format!("{}\nnot json\n", input.lines().next().unwrap_or_default());
    broken.push_str(r#"{"id":"3","feed":"f","title":"a"#);
    let mut broken = broken.into_bytes();
    broken.extend_from_slice(b"\xffb\",\"url\":\"u\"}\n");
    std::fs::write(&env_file, broken).expect("write");
    let out = kkachi()
        .args(["rules", "match", "--input"])
        .arg(&env_file)
        .arg("--config")
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().count(), 1);
    assert!(
        text(&out.stderr).contains("stories.jsonl:2: not a story JSON line"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains(
            "stories.jsonl:3: not a story JSON line: invalid unicode code point at line 1 column 32"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn replay_runs_new_rules_over_kept_stories_without_sending() {
    let server = Server::start();
    server.feed(
        "/f.xml",
        rss(&[
            ("g1", "딥시크 새 모델 공개", "https://e.kr/1"),
            ("g2", "SK하이닉스 HBM 증산", "https://e.kr/2"),
            ("g3", "날씨 맑음", "https://e.kr/3"),
        ]),
        "application/rss+xml",
    );
    let env = Env::new(
        &[FeedSpec::new("f", server.url("/f.xml")).backfill(0)],
        &rules(&[("none", "존재하지않는단어")]),
    );
    let out = kkachi()
        .args(["run", "--once", "--config"])
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "",
        "first poll with backfill 0 alerts nothing"
    );

    // The user writes new rules and asks what they would have caught.
    std::fs::write(
        env.path("rules.toml"),
        rules(&[("deepseek", "DeepSeek"), ("hynix", "\"SK hynix\"")]),
    )
    .expect("write");
    let out = kkachi()
        .args(["replay", "--since", "1d", "--format", "json", "--config"])
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rules_hit: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["rule"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(rules_hit, vec!["deepseek".to_string(), "hynix".to_string()]);

    let out = kkachi()
        .args(["replay", "--rule", "hynix", "--config"])
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(
        t.contains("[hynix] SK하이닉스 HBM 증산") && !t.contains("딥시크"),
        "{t}"
    );

    let out = kkachi()
        .args(["replay", "--rule", "nope", "--config"])
        .arg(env.config())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no rule named \"nope\""));
}
