//! Issue 14 through the binary: one story carried by two outlets is one message, edited to name
//! the second outlet; the edit survives a kill; a copy that matches another rule alerts that
//! rule's subscriber once; the console prints fold lines; `replay` groups by cluster.

use serde_json::Value;

use crate::fake_telegram::{FakeTelegram, Fault, Request};
use crate::support::{Daemon, WAIT};

/// Yonhap's story (with its dateline) and Newsis's copy of it: a new headline, a dateline and
/// a footer of its own, 했다 → 했습니다.
const LEAD_TITLE: &str = "딥시크, 새 추론 모델 공개…\"오픈AI 절반 비용\"";
const LEAD_TEXT: &str = "(서울=연합뉴스) 홍길동 기자 = 중국 인공지능(AI) 스타트업 딥시크가 새 추론 모델 \
     'R2'를 공개했다. 딥시크는 1일 홈페이지를 통해 새 모델이 수학과 코딩 평가에서 오픈AI의 최신 모델과 \
     비슷한 점수를 냈으며, 학습 비용은 절반 수준이라고 밝혔다. 업계에서는 미국의 수출 통제 속에서도 중국 \
     AI 기업들의 추격이 빨라지고 있다는 평가가 나온다.";
const COPY_TITLE: &str = "[속보] 中 딥시크, 새 추론모델 'R2' 공개";
const COPY_TEXT: &str = "[서울=뉴시스]김철수 기자 = 중국 인공지능(AI) 스타트업 딥시크가 새 추론 모델 \
     'R2'를 공개했습니다. 딥시크는 1일 홈페이지를 통해 새 모델이 수학과 코딩 평가에서 오픈AI의 최신 모델과 \
     비슷한 점수를 냈으며, 학습 비용은 절반 수준이라고 밝혔습니다. 업계에서는 미국의 수출 통제 속에서도 \
     중국 AI 기업들의 추격이 빨라지고 있다는 평가가 나온다. *재판매 및 DB 금지";
/// A sentence only the copy carries (it names another rule's term).
const COPY_EXTRA: &str = " 엔비디아 주가는 이날 뉴욕 증시에서 3% 하락했습니다.";
/// A different story about the same company, from the second outlet: its own alert.
const OTHER_TITLE: &str = "딥시크 창업자 량원펑, 베이징 포럼서 첫 공개 연설";
const OTHER_TEXT: &str = "[베이징=뉴시스]이영희 특파원 = 량원펑 딥시크 창업자가 30일 베이징에서 열린 \
     과학기술 포럼에 참석해 처음으로 공개 연설을 했다. 그는 청년 연구자들에게 기초 연구에 투자해 달라고 \
     당부했으며, 회사의 상장 계획에 대해서는 말을 아꼈다.";

fn item(guid: &str, title: &str, link: &str, text: &str) -> String {
    format!(
        "<item><guid>{guid}</guid><title><![CDATA[{title}]]></title><link>{link}</link>\
         <description><![CDATA[{text}]]></description>\
         <pubDate>Tue, 01 Dec 2026 09:00:00 +0900</pubDate></item>\n"
    )
}

fn rss(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n{}</channel></rss>\n",
        items.concat()
    )
}

/// A daemon with two file feeds, `yna` (the lead) and `newsis` (`copy_items`), and `rules`.
fn daemon(copy_items: &[String], rules: &str, extra: &str) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let yna = dir.path().join("yna.xml");
    let newsis = dir.path().join("newsis.xml");
    std::fs::write(
        &yna,
        rss(&[item(
            "yna-1",
            LEAD_TITLE,
            "https://www.yna.co.kr/view/AKR1",
            LEAD_TEXT,
        )]),
    )
    .expect("feed");
    std::fs::write(&newsis, rss(copy_items)).expect("feed");
    let config = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"2s\"\nconnect_timeout = \"1s\"\n[http]\nenabled = false\n{extra}\n\
         [[feeds]]\nname = \"yna\"\nurl = \"{}\"\nbackfill = 10\n\
         [[feeds]]\nname = \"newsis\"\nurl = \"{}\"\nbackfill = 10\n",
        yna.display(),
        newsis.display()
    );
    std::fs::write(dir.path().join("kkachi.toml"), config).expect("config");
    std::fs::write(dir.path().join("rules.toml"), rules).expect("rules");
    Daemon::in_dir(dir)
}

fn copy() -> String {
    item(
        "newsis-1",
        COPY_TITLE,
        "https://www.newsis.com/view/NISX1",
        COPY_TEXT,
    )
}

const ONE_RULE: &str = "[[rules]]\nname = \"deepseek\"\nquery = '딥시크'\nchats = [1]\n";

fn to_chat(reqs: &[Request], chat: i64, method: &str) -> Vec<Request> {
    reqs.iter()
        .filter(|r| r.chat() == Some(chat) && r.method == method && r.accepted)
        .cloned()
        .collect()
}

#[test]
fn two_outlets_one_story_is_one_message_and_one_edit() {
    let fake = FakeTelegram::start();
    let other = item(
        "newsis-2",
        OTHER_TITLE,
        "https://www.newsis.com/view/NISX2",
        OTHER_TEXT,
    );
    let mut d = daemon(&[copy(), other], ONE_RULE, "");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let reqs = fake.requests();
    let sent = to_chat(&reqs, 1, "sendmessage");
    let edits = to_chat(&reqs, 1, "editmessagetext");
    // The story once, the other story once; the copy is an edit of the first message.
    assert_eq!(sent.len(), 2, "{reqs:#?}\n{}", d.log());
    assert_eq!(edits.len(), 1, "{reqs:#?}\n{}", d.log());
    let lead = sent
        .iter()
        .position(|r| r.text().contains("딥시크, 새 추론") || r.text().contains("[속보]"))
        .expect("the story's message");
    let edit = &edits[0];
    assert_eq!(
        edit.body["message_id"].as_i64(),
        Some(lead as i64 + 1),
        "the edit targets the story's message: {edit:?}"
    );
    let text = edit.text();
    assert!(text.starts_with(sent[lead].text()), "{text}");
    assert!(text.contains("➕ 1 · <a href="), "{text}");
    assert!(
        text.contains(">newsis</a>") || text.contains(">yna</a>"),
        "{text}"
    );
    assert!(d.log().contains("folded: the same story"), "{}", d.log());
    assert_eq!(d.store().outbox_len(), 0);
}

#[test]
fn an_edit_queued_before_a_kill_is_made_once_after_the_restart() {
    let fake = FakeTelegram::start();
    // The lead goes out; the edit meets server errors until the daemon is killed.
    for _ in 0..50 {
        fake.edit_fault(Some(1), Fault::ServerError(502));
    }
    let mut d = daemon(&[copy()], ONE_RULE, "");
    d.spawn_with_telegram(&fake, &[]);
    d.wait_log("telegram server error; this chat backs off", 1);
    d.kill();
    assert_eq!(to_chat(&fake.requests(), 1, "sendmessage").len(), 1);
    assert!(fake.edits().is_empty());
    // Telegram is well again (a fresh fake: no faults, an empty request log).
    let fake2 = FakeTelegram::start();
    d.spawn_with_telegram(&fake2, &[]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let edited = rt.block_on(fake2.wait_for(WAIT, |r| {
        r.iter()
            .any(|r| r.method == "editmessagetext" && r.accepted)
    }));
    assert!(edited, "no edit after the restart:\n{}", d.log());
    d.terminate();
    assert_eq!(d.store().outbox_len(), 0, "{}", d.log());
    // Once: nothing else went to the chat, and a third start sends nothing.
    let reqs = fake2.requests();
    assert_eq!(to_chat(&reqs, 1, "editmessagetext").len(), 1, "{reqs:#?}");
    assert_eq!(to_chat(&reqs, 1, "sendmessage").len(), 0, "{reqs:#?}");
    d.spawn_with_telegram(&fake2, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    assert_eq!(to_chat(&fake2.requests(), 1, "editmessagetext").len(), 1);
}

#[test]
fn a_message_that_cannot_be_edited_is_left_alone_once() {
    let fake = FakeTelegram::start();
    fake.edit_fault(Some(1), Fault::EditGone);
    let mut d = daemon(&[copy()], ONE_RULE, "");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let edits: Vec<Request> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "editmessagetext")
        .collect();
    assert_eq!(edits.len(), 1, "one attempt, no retry loop: {edits:#?}");
    assert!(d.log().contains("left as it was"), "{}", d.log());
    assert_eq!(d.store().outbox_len(), 0);
}

#[test]
fn a_copy_that_matches_another_rule_alerts_that_rules_subscriber_once() {
    let fake = FakeTelegram::start();
    let rules = "[[rules]]\nname = \"deepseek\"\nquery = '딥시크'\nchats = [1]\n\n\
                 [[rules]]\nname = \"nvidia\"\nquery = '엔비디아'\nchats = [2]\n";
    let longer = item(
        "newsis-1",
        COPY_TITLE,
        "https://www.newsis.com/view/NISX1",
        &format!("{COPY_TEXT}{COPY_EXTRA}"),
    );
    // The lead first (the copy's feed is empty then), the copy at the next poll.
    let mut d = daemon(&[], rules, "");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    std::fs::write(d.path("newsis.xml"), rss(&[longer])).expect("feed");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let reqs = fake.requests();
    // The deepseek chat: its message, edited to name the copy's outlet.
    let edits = to_chat(&reqs, 1, "editmessagetext");
    assert_eq!(edits.len(), 1, "{reqs:#?}");
    assert!(edits[0].text().contains(">newsis</a>"), "{reqs:#?}");
    assert_eq!(to_chat(&reqs, 1, "sendmessage").len(), 1, "{reqs:#?}");
    assert_eq!(to_chat(&reqs, 2, "sendmessage").len(), 1, "{reqs:#?}");
    assert!(
        to_chat(&reqs, 2, "sendmessage")[0]
            .text()
            .contains("엔비디아"),
        "{reqs:#?}"
    );
    assert!(to_chat(&reqs, 2, "editmessagetext").is_empty(), "{reqs:#?}");
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn the_console_prints_an_alert_with_its_cluster_and_a_fold_line_and_replay_groups_them() {
    let other = item(
        "newsis-2",
        OTHER_TITLE,
        "https://www.newsis.com/view/NISX2",
        OTHER_TEXT,
    );
    let mut d = daemon(&[copy(), other], ONE_RULE, "");
    d.spawn(&["--once", "--dry-run", "--format", "json"], &[]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let lines = json_lines(&d.stdout());
    let alerts: Vec<&Value> = lines.iter().filter(|l| l.get("kind").is_none()).collect();
    let folds: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "fold").collect();
    assert_eq!((alerts.len(), folds.len()), (2, 1), "{lines:#?}");
    let cluster = folds[0]["cluster"].as_str().expect("cluster");
    assert_eq!(cluster.len(), 16);
    assert!(alerts.iter().any(|a| a["cluster"] == cluster), "{lines:#?}");
    assert!(
        alerts.iter().all(|a| a["cluster"].is_string()),
        "{lines:#?}"
    );
    assert_eq!(folds[0]["same_outlet"], false);
    assert_eq!(folds[0]["outlets"], 2);

    // replay: the cluster's alert, then its member; the other story on its own.
    let out = crate::kkachi()
        .args(["replay", "--since", "30d", "--format", "json", "--config"])
        .arg(d.config())
        .output()
        .expect("replay");
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let lines = json_lines(&crate::support::stdout(&out));
    let pos = |want: &dyn Fn(&Value) -> bool| lines.iter().position(want);
    let first = pos(&|l| l.get("kind").is_none() && l["cluster"] == cluster).expect("lead");
    let member = pos(&|l| l["kind"] == "fold").expect("member");
    assert_eq!(member, first + 1, "{lines:#?}");
    assert_eq!(lines.len(), 3, "{lines:#?}");
}

#[test]
fn fold_off_sends_every_copy() {
    let fake = FakeTelegram::start();
    let mut d = daemon(&[copy()], ONE_RULE, "[fold]\nenabled = false\n");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let reqs = fake.requests();
    assert_eq!(to_chat(&reqs, 1, "sendmessage").len(), 2, "{reqs:#?}");
    assert!(to_chat(&reqs, 1, "editmessagetext").is_empty());
}

#[test]
fn the_same_outlets_later_version_is_the_same_story_no_new_message() {
    let fake = FakeTelegram::start();
    let mut d = daemon(&[], ONE_RULE, "");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    // 1보 → 종합: the same outlet, a new GUID and URL, a headline tag, more text.
    let grown = item(
        "yna-2",
        &format!("[종합] {LEAD_TITLE}"),
        "https://m.yna.co.kr/view/AKR2",
        &format!(
            "{LEAD_TEXT} 딥시크는 이번 모델을 오픈소스로 공개할 계획이라고 덧붙였다. 앞서 딥시크가 지난해 \
             내놓은 모델은 미국 기술주 급락을 부르기도 했다."
        ),
    );
    let lead = item(
        "yna-1",
        LEAD_TITLE,
        "https://www.yna.co.kr/view/AKR1",
        LEAD_TEXT,
    );
    std::fs::write(d.path("yna.xml"), rss(&[grown, lead])).expect("feed");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let reqs = fake.requests();
    assert_eq!(to_chat(&reqs, 1, "sendmessage").len(), 1, "{reqs:#?}");
    assert!(to_chat(&reqs, 1, "editmessagetext").is_empty(), "{reqs:#?}");
    let log = d.log();
    assert!(
        log.contains("folded: the same story") && log.contains("same_outlet=true"),
        "{log}"
    );
}

#[test]
fn two_copies_from_an_aggregator_in_one_poll_are_one_edit_naming_both_sites() {
    let fake = FakeTelegram::start();
    let mut d = daemon(&[], ONE_RULE, "");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let news1 = item(
        "agg-2",
        "딥시크, 추론 모델 R2 공개",
        "https://www.news1.kr/world/1",
        &COPY_TEXT.replace("[서울=뉴시스]김철수 기자 =", "(서울=뉴스1) 박민수 기자 ="),
    );
    std::fs::write(d.path("newsis.xml"), rss(&[copy(), news1])).expect("feed");
    d.spawn_with_telegram(&fake, &["--once"]);
    assert_eq!(d.wait_exit().0, Some(0), "{}", d.log());
    let reqs = fake.requests();
    assert_eq!(to_chat(&reqs, 1, "sendmessage").len(), 1, "{reqs:#?}");
    let edits = to_chat(&reqs, 1, "editmessagetext");
    assert_eq!(edits.len(), 1, "one edit for both copies: {reqs:#?}");
    let text = edits[0].text();
    // One feed, two sites: the line names the sites.
    assert!(text.contains("➕ 2 · "), "{text}");
    assert!(
        text.contains(">newsis.com</a>") && text.contains(">news1.kr</a>"),
        "{text}"
    );
}
