//! Rendering a [`Digest`]: the Telegram messages ([`html()`]), the console's text block
//! ([`text()`]) and its JSON line ([`json()`]). Pure: no IO, no `.await`, no teloxide.
//!
//! Owns the digest's layout: which stories are listed, under which rule, in what order, and
//! what is cut to stay within Telegram's limit. Must not: send, store or decide when a digest
//! is due (the digest task's), or escape and count in its own way (`telegram::render`'s
//! [`escape`] and [`utf16_len`] are the only ones).
//!
//! ```text
//! 🗞 <b>09:00 daily digest</b> · 2 rules · 7 stories
//!
//! <b>samsung</b> · 6
//! 1. <a href="URL">TITLE</a> — yna · 08:14 · +2 outlets
//! …                                       (the first VISIBLE_LINES lines)
//! <blockquote expandable>6. …</blockquote> (the rest, folded)
//! +1 more                                  (past RULE_MAX_STORIES, or what did not fit)
//!
//! <b>hbm</b> · 1
//! 1. <a href="URL">TITLE</a> — hankyung · Mon 17:40
//! ```
//!
//! Grouping: a story is listed once, under the first of its rules in the order the rules first
//! appear among the items (items are in queue order). Items that share an `alert.cluster` are
//! one story: the first queued is shown, with the count of the other distinct outlets (an
//! outlet is a link host, or the feed without one: `cluster::same_outlet_parts`); its rules are
//! all its items' rules.
//!
//! Limits: every message is at most [`MESSAGE_LIMIT`] UTF-16 units of raw HTML (an upper bound
//! of what Telegram counts after parsing entities). Messages are cut between rules only: a rule
//! that does not fit in what is left of a message starts the next one (each repeats the header,
//! with ` · 2/3`), and one that does not fit in an empty message shows as many lines as fit and
//! `+N more`. Titles are
//! trimmed to [`TITLE_MAX_CHARS`], names to [`NAME_MAX_CHARS`], and a line whose link alone
//! would make it longer than [`LINE_MAX`] is shown without it, so one line always fits.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::{Digest, Item, Kind};
use crate::cluster::same_outlet_parts;
use crate::deliver::cluster_hex;
use crate::store::fold::outlet_host;
use crate::telegram::render::{
    MESSAGE_LIMIT, escape, linkable, title as alert_title, trim_words, utf16_len,
};

/// Lines of a rule shown before the rest is folded into an expandable blockquote.
pub const VISIBLE_LINES: usize = 5;

/// At most this many stories are listed per rule in a Telegram message (the rest are counted,
/// `+N more`): a digest is there to stop the flood, not to re-send it in one piece (Cision's
/// alert mails list 10 by default); with typical titles and links two rules of 10 share a
/// message. The console lists every story.
pub const RULE_MAX_STORIES: usize = 10;

/// Titles are trimmed (at a word, with `…`) to this many characters in a Telegram message.
pub const TITLE_MAX_CHARS: usize = 160;

/// Rule and feed names are trimmed to this many characters in a Telegram message.
pub const NAME_MAX_CHARS: usize = 64;

/// A line longer than this (UTF-16 units of HTML) with its link is shown without the link.
pub const LINE_MAX: usize = 1024;

/// Room kept after each message's header for ` · 2/3` when the digest takes several messages.
const PART_ROOM: usize = 16;

/// The rule name of items that carry no rule (not expected; shown rather than dropped).
const NO_RULE: &str = "(no rule)";

/// One story of a digest: its first item and how many distinct outlets carry it.
#[derive(Debug)]
struct Story<'a> {
    lead: &'a Item,
    outlets: usize,
}

impl Story<'_> {
    /// The story's time: its published time, else when it was queued.
    fn at(&self) -> DateTime<Utc> {
        self.lead
            .alert
            .published
            .map_or(self.lead.at, |t| t.with_timezone(&Utc))
    }

    fn source(&self) -> String {
        let a = &self.lead.alert;
        if a.feed.trim().is_empty() {
            outlet_host(&a.url)
        } else {
            a.feed.trim().to_string()
        }
    }
}

/// A rule and the stories listed under it, in queue order.
#[derive(Debug)]
struct Section<'a> {
    rule: &'a str,
    stories: Vec<Story<'a>>,
}

fn rules_of(item: &Item) -> impl Iterator<Item = &str> {
    let hits = &item.alert.rules;
    let none = hits.is_empty().then_some(NO_RULE);
    hits.iter().map(|h| h.rule.as_str()).chain(none)
}

/// The digest's stories grouped by rule (see the module doc), rules in order of first
/// appearance; rules left without a story are not listed.
fn sections(d: &Digest) -> Vec<Section<'_>> {
    let mut rank: HashMap<&str, usize> = HashMap::new();
    let mut rules: Vec<&str> = Vec::new();
    for item in &d.items {
        for r in rules_of(item) {
            rank.entry(r).or_insert_with(|| {
                rules.push(r);
                rules.len() - 1
            });
        }
    }
    // Stories in queue order: members (indices into items) and the first rule among them.
    let mut stories: Vec<(Vec<usize>, usize)> = Vec::new();
    let mut by_cluster: HashMap<u64, usize> = HashMap::new();
    for (i, item) in d.items.iter().enumerate() {
        let first = rules_of(item).filter_map(|r| rank.get(r).copied()).min();
        let first = first.unwrap_or(usize::MAX);
        let slot = match item.alert.cluster {
            Some(c) => *by_cluster.entry(c).or_insert_with(|| {
                stories.push((Vec::new(), usize::MAX));
                stories.len() - 1
            }),
            None => {
                stories.push((Vec::new(), usize::MAX));
                stories.len() - 1
            }
        };
        let (members, min) = &mut stories[slot];
        members.push(i);
        *min = (*min).min(first);
    }
    let mut out: Vec<Section<'_>> = rules
        .iter()
        .map(|&rule| Section {
            rule,
            stories: Vec::new(),
        })
        .collect();
    for (members, first) in stories {
        let Some(section) = out.get_mut(first) else {
            continue; // unreachable: every item has a rule or NO_RULE, all ranked
        };
        let lead = &d.items[members[0]];
        let outlets = match members.len() {
            1 => 1,
            _ => outlets(members.iter().map(|&i| &d.items[i])),
        };
        section.stories.push(Story { lead, outlets });
    }
    out.retain(|s| !s.stories.is_empty());
    out
}

/// Distinct outlets among a story's items.
fn outlets<'a>(items: impl Iterator<Item = &'a Item>) -> usize {
    let mut seen: Vec<(&str, String)> = Vec::new();
    for item in items {
        let feed = item.alert.feed.as_str();
        let host = outlet_host(&item.alert.url);
        let known = seen
            .iter()
            .any(|(f, h)| same_outlet_parts(f, Some(h), feed, Some(&host)));
        if !known {
            seen.push((feed, host));
        }
    }
    seen.len().max(1)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `09:00 daily digest`, `Mon 09:00 weekly digest`, … (the due time in the chat's zone).
fn title_of(d: &Digest) -> String {
    let due = d.due.with_timezone(&d.tz);
    match d.kind {
        Kind::Hourly => format!("{} hourly digest", due.format("%H:%M")),
        Kind::Daily => format!("{} daily digest", due.format("%H:%M")),
        Kind::Weekly => format!("{} weekly digest", due.format("%a %H:%M")),
        Kind::CatchUp => format!("{} catch-up after quiet hours", due.format("%H:%M")),
    }
}

/// The kind's name as serde writes it (`catch_up`), for the JSON line.
fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Hourly => "hourly",
        Kind::Daily => "daily",
        Kind::Weekly => "weekly",
        Kind::CatchUp => "catch_up",
    }
}

/// A story's time as a line shows it, in `tz`: `08:14` on the due day, `Mon 17:40` in the six
/// days before it, `Nov 24 08:14` earlier (or later: a feed's date in the future).
fn clock(t: DateTime<Utc>, due: DateTime<Utc>, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    let days = (due.with_timezone(&tz).date_naive() - local.date_naive()).num_days();
    match days {
        0 => local.format("%H:%M").to_string(),
        1..=6 => local.format("%a %H:%M").to_string(),
        _ => local.format("%b %-d %H:%M").to_string(),
    }
}

fn outlets_note(outlets: usize) -> String {
    match outlets.saturating_sub(1) {
        0 => String::new(),
        1 => " · +1 outlet".to_string(),
        n => format!(" · +{n} outlets"),
    }
}

/// One line of feed text: its whitespace (line breaks included) collapsed to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn short(s: &str, max: usize) -> String {
    trim_words(&one_line(s), max)
}

/// One numbered line, in HTML.
fn line_html(n: usize, s: &Story<'_>, d: &Digest) -> String {
    let a = &s.lead.alert;
    let title = escape(&short(alert_title(a), TITLE_MAX_CHARS));
    let rest = format!(
        " — {} · {}{}",
        escape(&short(&s.source(), NAME_MAX_CHARS)),
        clock(s.at(), d.due, d.tz),
        outlets_note(s.outlets)
    );
    if linkable(&a.url) {
        let linked = format!("{n}. <a href=\"{}\">{title}</a>{rest}", escape(&a.url));
        if utf16_len(&linked) <= LINE_MAX {
            return linked;
        }
    }
    format!("{n}. {title}{rest}")
}

const QUOTE_OPEN: &str = "<blockquote expandable>";
const QUOTE_CLOSE: &str = "</blockquote>";

/// A rule's part of a message, with its lines rendered once and measured.
struct Block {
    head: String,
    lines: Vec<String>,
    /// UTF-16 lengths of `lines`.
    lens: Vec<usize>,
    /// Stories under the rule (listed or not).
    total: usize,
}

impl Block {
    fn new(s: &Section<'_>, d: &Digest) -> Block {
        let rule = escape(&short(s.rule, NAME_MAX_CHARS));
        let lines: Vec<String> = s
            .stories
            .iter()
            .take(RULE_MAX_STORIES)
            .enumerate()
            .map(|(i, st)| line_html(i + 1, st, d))
            .collect();
        Block {
            head: format!("<b>{rule}</b> · {}", s.stories.len()),
            lens: lines.iter().map(|l| utf16_len(l)).collect(),
            lines,
            total: s.stories.len(),
        }
    }

    fn more(&self, k: usize) -> Option<String> {
        let n = self.total - k;
        (n > 0).then(|| format!("+{n} more"))
    }

    /// The length of the block with its first `k` lines, without building it.
    fn len(&self, k: usize) -> usize {
        let lines: usize = self.lens[..k].iter().map(|l| l + 1).sum();
        let quote = if k > VISIBLE_LINES {
            QUOTE_OPEN.len() + QUOTE_CLOSE.len()
        } else {
            0
        };
        let more = self.more(k).map_or(0, |m| 1 + m.len());
        utf16_len(&self.head) + lines + quote + more
    }

    /// The most lines that fit in `room` units (none when not even the head and `+N more` do).
    fn fit(&self, room: usize) -> Option<usize> {
        (0..=self.lines.len()).rev().find(|&k| self.len(k) <= room)
    }

    fn render(&self, k: usize) -> String {
        let mut s = self.head.clone();
        for (i, line) in self.lines[..k].iter().enumerate() {
            s.push('\n');
            if i == VISIBLE_LINES {
                s.push_str(QUOTE_OPEN);
            }
            s.push_str(line);
        }
        if k > VISIBLE_LINES {
            s.push_str(QUOTE_CLOSE);
        }
        if let Some(more) = self.more(k) {
            s.push('\n');
            s.push_str(&more);
        }
        s
    }
}

fn counts(sections: &[Section<'_>]) -> String {
    let stories: usize = sections.iter().map(|s| s.stories.len()).sum();
    format!(
        "{} · {}",
        plural(sections.len(), "rule", "rules"),
        plural(stories, "story", "stories")
    )
}

/// The digest as Telegram HTML messages, in order; none for a digest without items. Each is
/// within [`MESSAGE_LIMIT`] and uses only `b`, `a href` and `blockquote expandable`. Send with
/// link previews off.
pub fn html(d: &Digest) -> Vec<String> {
    let sections = sections(d);
    if sections.is_empty() {
        return Vec::new();
    }
    let header = format!("🗞 <b>{}</b> · {}", escape(&title_of(d)), counts(&sections));
    // What a message has room for after its header, the part number and the blank line.
    let budget = MESSAGE_LIMIT.saturating_sub(utf16_len(&header) + PART_ROOM + 2);
    let mut messages: Vec<Vec<String>> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut used = 0usize;
    for s in &sections {
        let block = Block::new(s, d);
        let sep = if cur.is_empty() { 0 } else { 2 };
        let all = block.lines.len();
        if !cur.is_empty() && used + sep + block.len(all) > budget {
            messages.push(std::mem::take(&mut cur));
            used = 0;
        }
        let sep = if cur.is_empty() { 0 } else { 2 };
        // In an empty message a block always fits with no lines (head and `+N more` are
        // short: the name is trimmed), so `fit` finds at least 0.
        let k = block.fit(budget - used - sep).unwrap_or(0);
        used += sep + block.len(k);
        cur.push(block.render(k));
    }
    messages.push(cur);
    let n = messages.len();
    messages
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| {
            let part = if n > 1 {
                format!(" · {}/{n}", i + 1)
            } else {
                String::new()
            };
            format!("{header}{part}\n\n{}", blocks.join("\n\n"))
        })
        .collect()
}

/// The digest as console text: the header, then per rule its name and count and every story
/// (numbered, title, source, time, other outlets; the link on the next line). Empty for a
/// digest without items.
///
/// ```text
/// 🗞 09:00 daily digest · 2 rules · 7 stories · Asia/Seoul
///
/// samsung · 6
///  1. TITLE — yna · 08:14 · +2 outlets
///     https://…
/// ```
pub fn text(d: &Digest) -> String {
    let sections = sections(d);
    if sections.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "🗞 {} · {} · {}\n",
        title_of(d),
        counts(&sections),
        d.tz.name()
    );
    for sec in &sections {
        s.push_str(&format!(
            "\n{} · {}\n",
            one_line(sec.rule),
            sec.stories.len()
        ));
        let width = sec.stories.len().to_string().len();
        for (i, st) in sec.stories.iter().enumerate() {
            s.push_str(&format!(
                "{:>width$}. {} — {} · {}{}\n",
                i + 1,
                one_line(alert_title(&st.lead.alert)),
                one_line(&st.source()),
                clock(st.at(), d.due, d.tz),
                outlets_note(st.outlets),
                width = width + 1,
            ));
            if !st.lead.alert.url.is_empty() {
                s.push_str(&format!(
                    "{:width$}{}\n",
                    "",
                    st.lead.alert.url,
                    width = width + 3
                ));
            }
        }
    }
    s
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The digest as one console JSON value (printed as one line):
///
/// ```text
/// {"kind":"digest","delivery":"daily","due":"2026-12-01T00:00:00Z","tz":"Asia/Seoul",
///  "stories":7,"rules":[{"rule":"samsung","stories":[{"title","url","source",
///  "at":"2026-11-30T23:14:00Z","outlets":3,"cluster":"00000000000000ff"|null}, …]}, …]}
/// ```
///
/// Every story is listed (no cut); `outlets` counts the story's distinct outlets, its own
/// included; `at` is its published time, else when it was queued. Fields may be added, never
/// renamed.
pub fn json(d: &Digest) -> Value {
    let sections = sections(d);
    let rules: Vec<Value> = sections
        .iter()
        .map(|sec| {
            let stories: Vec<Value> = sec
                .stories
                .iter()
                .map(|st| {
                    let a = &st.lead.alert;
                    json!({
                        "title": alert_title(a),
                        "url": a.url,
                        "source": st.source(),
                        "at": rfc3339(st.at()),
                        "outlets": st.outlets,
                        "cluster": a.cluster.map(cluster_hex),
                    })
                })
                .collect();
            json!({ "rule": sec.rule, "stories": stories })
        })
        .collect();
    let stories: usize = sections.iter().map(|s| s.stories.len()).sum();
    json!({
        "kind": "digest",
        "delivery": kind_name(d.kind),
        "due": rfc3339(d.due),
        "tz": d.tz.name(),
        "stories": stories,
        "rules": rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::{Alert, RuleHit};
    use chrono::TimeZone;
    use proptest::prelude::*;

    const SEOUL: Tz = chrono_tz::Asia::Seoul;

    /// 2026-12-01 09:00 KST.
    fn due() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    }

    fn item(title: &str, url: &str, feed: &str, rules: &[&str], cluster: Option<u64>) -> Item {
        Item {
            alert: Alert {
                title: title.into(),
                url: url.into(),
                feed: feed.into(),
                published: None,
                summary: "요약".into(),
                rules: rules
                    .iter()
                    .map(|r| RuleHit {
                        rule: r.to_string(),
                        matched: vec!["term".into()],
                        via: vec![],
                    })
                    .collect(),
                cluster,
            },
            // 08:14 KST on the due day.
            at: Utc.with_ymd_and_hms(2026, 11, 30, 23, 14, 0).unwrap(),
        }
    }

    fn digest(kind: Kind, items: Vec<Item>) -> Digest {
        Digest {
            kind,
            due: due(),
            tz: SEOUL,
            items,
        }
    }

    /// Checks a message the way Telegram's HTML parser would reject it: only the allowed tags
    /// (`b`, `i`, `a href="…"`, `code`, `blockquote` / `blockquote expandable`), properly
    /// nested, no `a` inside `a`; only the four entities we write; no bare `<`, `>` or `&`.
    fn telegram_html(s: &str) -> Result<(), String> {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = s;
        while let Some(i) = rest.find(['<', '>', '&']) {
            let tail = &rest[i..];
            if tail.starts_with('>') {
                return Err(format!("bare > at {:?}", &tail[..tail.len().min(20)]));
            }
            if tail.starts_with('&') {
                let ok = ["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .find(|e| tail.starts_with(*e));
                let Some(e) = ok else {
                    return Err(format!("bare & at {:?}", &tail[..tail.len().min(20)]));
                };
                rest = &tail[e.len()..];
                continue;
            }
            let end = tail.find('>').ok_or("unclosed tag")?;
            let tag = &tail[1..end];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop() != Some(name) {
                    return Err(format!("</{name}> does not close the open tag"));
                }
            } else {
                let name = match tag {
                    "b" | "i" | "code" | "blockquote" => tag,
                    "blockquote expandable" => "blockquote",
                    t if t.starts_with("a href=\"")
                        && t.ends_with('"')
                        && !t[8..t.len() - 1].contains('"') =>
                    {
                        "a"
                    }
                    t => return Err(format!("tag <{t}> not allowed")),
                };
                if name == "a" && stack.contains(&"a") {
                    return Err("a inside a".into());
                }
                if name == "blockquote" && stack.contains(&"blockquote") {
                    return Err("blockquote inside blockquote".into());
                }
                stack.push(name);
            }
            rest = &tail[end + 1..];
        }
        if stack.is_empty() {
            Ok(())
        } else {
            Err(format!("left open: {stack:?}"))
        }
    }

    fn check(messages: &[String]) {
        assert!(!messages.is_empty());
        for m in messages {
            assert!(utf16_len(m) <= MESSAGE_LIMIT, "{} units", utf16_len(m));
            if let Err(e) = telegram_html(m) {
                panic!("{e}: {m}");
            }
        }
    }

    /// Story lines listed and stories counted by `+N more`, per rule name, over all messages.
    fn listed(messages: &[String]) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        for m in messages {
            for block in m.split("\n\n").skip(1) {
                let mut lines = block.lines();
                let head = lines.next().expect("a rule head");
                let (name, count) = head
                    .strip_prefix("<b>")
                    .and_then(|h| h.split_once("</b> · "))
                    .expect("<b>rule</b> · count");
                let mut shown = 0;
                let mut more = 0;
                for l in lines {
                    if let Some(n) = l.strip_prefix('+').and_then(|l| l.strip_suffix(" more")) {
                        more = n.parse().expect("a count");
                    } else {
                        shown += 1;
                    }
                }
                out.push((name.to_string(), count.parse().expect("n"), shown, more));
            }
        }
        out
    }

    #[test]
    fn a_small_digest_is_one_message_as_designed() {
        let mut late = item(
            "HBM 수출 급증",
            "https://www.hankyung.com/a/2",
            "hankyung",
            &["hbm"],
            None,
        );
        late.alert.published =
            chrono::DateTime::parse_from_rfc3339("2026-11-30T17:40:00+09:00").ok();
        let d = digest(
            Kind::Daily,
            vec![
                item(
                    "삼성전자 실적",
                    "https://www.yna.co.kr/view/1",
                    "yna",
                    &["samsung"],
                    Some(7),
                ),
                late,
                item(
                    "삼성 실적 발표",
                    "https://news.chosun.com/1",
                    "chosun",
                    &["samsung", "hbm"],
                    Some(7),
                ),
                item(
                    "Samsung earnings",
                    "https://www.hani.co.kr/1",
                    "hani",
                    &["samsung"],
                    Some(7),
                ),
                item(
                    "삼성 HBM",
                    "https://m.yna.co.kr/view/9",
                    "yna-mobile",
                    &["hbm", "samsung"],
                    None,
                ),
            ],
        );
        let got = html(&d);
        assert_eq!(
            got,
            vec![
                "🗞 <b>09:00 daily digest</b> · 2 rules · 3 stories\n\
                 \n\
                 <b>samsung</b> · 2\n\
                 1. <a href=\"https://www.yna.co.kr/view/1\">삼성전자 실적</a> — yna · 08:14 · +2 outlets\n\
                 2. <a href=\"https://m.yna.co.kr/view/9\">삼성 HBM</a> — yna-mobile · 08:14\n\
                 \n\
                 <b>hbm</b> · 1\n\
                 1. <a href=\"https://www.hankyung.com/a/2\">HBM 수출 급증</a> — hankyung · Mon 17:40"
                    .to_string()
            ]
        );
        check(&got);
        assert_eq!(
            text(&d),
            "🗞 09:00 daily digest · 2 rules · 3 stories · Asia/Seoul\n\
             \n\
             samsung · 2\n \
             1. 삼성전자 실적 — yna · 08:14 · +2 outlets\n    \
             https://www.yna.co.kr/view/1\n \
             2. 삼성 HBM — yna-mobile · 08:14\n    \
             https://m.yna.co.kr/view/9\n\
             \n\
             hbm · 1\n \
             1. HBM 수출 급증 — hankyung · Mon 17:40\n    \
             https://www.hankyung.com/a/2\n"
        );
        assert_eq!(
            json(&d),
            json!({
                "kind": "digest", "delivery": "daily", "due": "2026-12-01T00:00:00Z",
                "tz": "Asia/Seoul", "stories": 3,
                "rules": [
                    {"rule": "samsung", "stories": [
                        {"title": "삼성전자 실적", "url": "https://www.yna.co.kr/view/1", "source": "yna",
                         "at": "2026-11-30T23:14:00Z", "outlets": 3, "cluster": "0000000000000007"},
                        {"title": "삼성 HBM", "url": "https://m.yna.co.kr/view/9", "source": "yna-mobile",
                         "at": "2026-11-30T23:14:00Z", "outlets": 1, "cluster": null}]},
                    {"rule": "hbm", "stories": [
                        {"title": "HBM 수출 급증", "url": "https://www.hankyung.com/a/2", "source": "hankyung",
                         "at": "2026-11-30T08:40:00Z", "outlets": 1, "cluster": null}]}
                ]
            })
        );
    }

    #[test]
    fn the_kind_and_zone_make_the_header() {
        let one = || vec![item("t", "https://e.com/1", "f", &["r"], None)];
        let head = |kind, tz| {
            let mut d = digest(kind, one());
            d.tz = tz;
            html(&d)[0].lines().next().unwrap_or_default().to_string()
        };
        assert_eq!(
            head(Kind::Hourly, SEOUL),
            "🗞 <b>09:00 hourly digest</b> · 1 rule · 1 story"
        );
        assert_eq!(
            head(Kind::Weekly, SEOUL),
            "🗞 <b>Tue 09:00 weekly digest</b> · 1 rule · 1 story"
        );
        assert_eq!(
            head(Kind::CatchUp, chrono_tz::Europe::London),
            "🗞 <b>00:00 catch-up after quiet hours</b> · 1 rule · 1 story"
        );
        assert_eq!(json(&digest(Kind::CatchUp, one()))["delivery"], "catch_up");
        assert_eq!(
            serde_json::to_value(Kind::CatchUp).ok(),
            Some(Value::from(kind_name(Kind::CatchUp)))
        );
        // A story's time is in the chat's zone; long ago it carries its date.
        let mut d = digest(Kind::Weekly, one());
        d.items[0].alert.published =
            chrono::DateTime::parse_from_rfc3339("2026-11-20T12:05:00+00:00").ok();
        d.tz = chrono_tz::America::New_York;
        assert!(
            html(&d)[0].ends_with(" — f · Nov 20 07:05"),
            "{}",
            html(&d)[0]
        );
    }

    #[test]
    fn empty_digests_render_nothing() {
        let d = digest(Kind::Daily, vec![]);
        assert!(html(&d).is_empty());
        assert_eq!(text(&d), "");
        assert_eq!(json(&d)["rules"], json!([]));
    }

    #[test]
    fn feed_text_is_escaped_and_odd_links_are_not_linked() {
        let d = digest(
            Kind::Daily,
            vec![
                item(
                    "<script> & \"q\" 😀🇰🇷",
                    "https://e.com/a?x=1&y=\"2\"",
                    "f<&>",
                    &["r&d <x>"],
                    None,
                ),
                item("no\nlink", "javascript:alert(1)", "f", &["r&d <x>"], None),
            ],
        );
        let got = html(&d);
        check(&got);
        assert!(got[0].contains(
            "<b>r&amp;d &lt;x&gt;</b> · 2\n\
             1. <a href=\"https://e.com/a?x=1&amp;y=&quot;2&quot;\">&lt;script&gt; &amp; &quot;q&quot; 😀🇰🇷</a> — f&lt;&amp;&gt; · 08:14\n\
             2. no link — f · 08:14"
        ), "{}", got[0]);
        assert!(
            text(&d).contains("1. <script> & \"q\" 😀🇰🇷 — f<&> · 08:14"),
            "{}",
            text(&d)
        );
    }

    #[test]
    fn very_long_titles_are_trimmed_and_huge_links_dropped() {
        let long = "가나다라마바사 ".repeat(100);
        let huge_url = format!("https://e.com/{}", "&".repeat(1500));
        let d = digest(
            Kind::Daily,
            vec![
                item(&long, "https://e.com/1", "f", &["r"], None),
                item("short", &huge_url, "f", &["r"], None),
            ],
        );
        let got = html(&d);
        check(&got);
        let lines: Vec<&str> = got[0].lines().collect();
        let title = lines[3]
            .strip_prefix("1. <a href=\"https://e.com/1\">")
            .and_then(|l| l.split_once("</a>"))
            .map(|(t, _)| t)
            .expect("a linked title");
        assert!(
            title.chars().count() <= TITLE_MAX_CHARS,
            "{}",
            title.chars().count()
        );
        assert!(title.ends_with('…'), "{title}");
        assert_eq!(lines[4], "2. short — f · 08:14");
        // The console keeps the whole title.
        assert!(text(&d).contains(long.trim()));
    }

    #[test]
    fn the_tail_is_folded_and_the_rest_counted() {
        let items = (0..30)
            .map(|i| {
                item(
                    &format!("story {i}"),
                    &format!("https://e.com/{i}"),
                    "f",
                    &["r"],
                    None,
                )
            })
            .collect();
        let got = html(&digest(Kind::Daily, items));
        check(&got);
        let m = &got[0];
        assert!(
            m.contains(
                "5. <a href=\"https://e.com/4\">story 4</a> — f · 08:14\n<blockquote expandable>6. "
            ),
            "{m}"
        );
        let last = RULE_MAX_STORIES - 1;
        let rest = 30 - RULE_MAX_STORIES;
        assert!(
            m.ends_with(&format!(
                "{RULE_MAX_STORIES}. <a href=\"https://e.com/{last}\">story {last}</a> — f · \
                 08:14</blockquote>\n+{rest} more"
            )),
            "{m}"
        );
        // Five or fewer: no blockquote.
        let items = (0..5)
            .map(|i| {
                item(
                    &format!("story {i}"),
                    &format!("https://e.com/{i}"),
                    "f",
                    &["r"],
                    None,
                )
            })
            .collect();
        assert!(!html(&digest(Kind::Daily, items))[0].contains("blockquote"));
    }

    /// Real-looking lines: long Korean titles and long links, so a rule of 20 does not fit.
    fn heavy(rule: &str, i: usize) -> Item {
        item(
            &format!(
                "[단독] 삼성전자, 엔비디아에 HBM3E 12단 공급 계약… 업계 \"반도체 업황 회복 신호\" {i}"
            ),
            &format!(
                "https://www.example-news.co.kr/news/articleView.html?idxno={i}&utm_source=rss&utm_medium=feed&section=economy"
            ),
            "example-news",
            &[rule],
            None,
        )
    }

    #[test]
    fn a_block_is_measured_exactly_before_it_is_built() {
        let items = (0..30).map(|i| heavy("r&<", i)).collect();
        let d = digest(Kind::Daily, items);
        let secs = sections(&d);
        let block = Block::new(&secs[0], &d);
        for k in 0..=block.lines.len() {
            assert_eq!(block.len(k), utf16_len(&block.render(k)), "{k} lines");
        }
        assert_eq!(block.fit(0), None);
        assert_eq!(block.fit(block.len(7)), Some(7));
        assert_eq!(block.fit(block.len(7) - 1), Some(6));
    }

    #[test]
    fn five_hundred_items_in_one_rule_are_one_message_with_the_rest_counted() {
        let items = (0..500).map(|i| heavy("r", i)).collect();
        let got = html(&digest(Kind::Daily, items));
        check(&got);
        assert_eq!(got.len(), 1);
        let l = listed(&got);
        assert_eq!(l.len(), 1);
        let (_, count, shown, more) = &l[0];
        assert_eq!(*count, 500);
        assert_eq!(*shown, RULE_MAX_STORIES);
        assert_eq!(shown + more, 500);
    }

    #[test]
    fn a_rule_too_large_for_a_message_is_cut_to_what_fits() {
        // Titles of escapes: every line near LINE_MAX, so the rule's ten do not fit.
        let big = |i: usize| {
            let title = format!("{i} {}", "<&> ".repeat(39));
            item(&title, &format!("https://e.com/{i}"), "f", &["big"], None)
        };
        let small = |i: usize| {
            item(
                &format!("small {i}"),
                "https://e.com/s",
                "f",
                &["small"],
                None,
            )
        };
        let items: Vec<Item> = (0..40).map(big).chain((0..3).map(small)).collect();
        let got = html(&digest(Kind::Daily, items));
        check(&got);
        let l = listed(&got);
        assert_eq!(l.len(), 2, "{l:?}");
        let (name, count, shown, more) = &l[0];
        assert_eq!((name.as_str(), *count), ("big", 40));
        assert!(
            *shown > VISIBLE_LINES && *shown < RULE_MAX_STORIES,
            "{shown}"
        );
        assert_eq!(shown + more, 40);
        assert_eq!(l[1], ("small".to_string(), 3, 3, 0));
        // The small rule still fits in what the cut left.
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains(&format!("+{more} more\n\n<b>small</b> · 3\n")),
            "{}",
            got[0]
        );
    }

    #[test]
    fn thirty_rules_split_at_rule_boundaries() {
        let items: Vec<Item> = (0..300)
            .map(|i| heavy(&format!("rule-{}", i % 30), i))
            .collect();
        let got = html(&digest(Kind::Daily, items));
        check(&got);
        assert!(got.len() > 1);
        for (i, m) in got.iter().enumerate() {
            let head = m.lines().next().unwrap_or_default();
            assert!(
                head.ends_with(&format!(
                    " · 30 rules · 300 stories · {}/{}",
                    i + 1,
                    got.len()
                )),
                "{head}"
            );
        }
        let l = listed(&got);
        let names: Vec<String> = l.iter().map(|x| x.0.clone()).collect();
        let want: Vec<String> = (0..30).map(|i| format!("rule-{i}")).collect();
        assert_eq!(names, want, "each rule once, in order of first appearance");
        for (name, count, shown, more) in l {
            assert_eq!(
                (count, shown + more),
                (10, 10),
                "{name}: every story listed or counted"
            );
        }
    }

    #[test]
    fn one_rule_of_one_story_and_stories_are_listed_once() {
        let d = digest(
            Kind::Hourly,
            vec![item("only", "https://e.com/1", "f", &["a", "b"], None)],
        );
        let l = listed(&html(&d));
        assert_eq!(l, vec![("a".to_string(), 1, 1, 0)]);
        // Under the first of its rules in the order rules first appear, not its own order.
        let d = digest(
            Kind::Daily,
            vec![
                item("one", "https://e.com/1", "f", &["b"], None),
                item("two", "https://e.com/2", "f", &["a", "b"], None),
            ],
        );
        let l = listed(&html(&d));
        assert_eq!(l, vec![("b".to_string(), 2, 2, 0)]);
    }

    #[test]
    fn outlets_are_counted_once_each() {
        let d = digest(
            Kind::Daily,
            vec![
                item("a", "https://www.yna.co.kr/1", "yna", &["r"], Some(1)),
                item(
                    "a 종합",
                    "https://yna.co.kr/2",
                    "yna-economy",
                    &["r"],
                    Some(1),
                ),
                item(
                    "a",
                    "https://news.google.com/x",
                    "google-news",
                    &["r"],
                    Some(1),
                ),
                item(
                    "a",
                    "https://www.chosun.com/y",
                    "google-news",
                    &["r"],
                    Some(1),
                ),
                item("other", "https://e.com/", "f", &["r"], Some(2)),
            ],
        );
        let got = html(&d);
        assert!(
            got[0].contains("— yna · 08:14 · +2 outlets\n"),
            "{}",
            got[0]
        );
        assert!(got[0].contains("— f · 08:14"), "{}", got[0]);
        assert_eq!(json(&d)["rules"][0]["stories"][0]["outlets"], 3);
        assert_eq!(json(&d)["stories"], 2);
    }

    fn title_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("&<>\"".to_string()),
                Just("😀".to_string()),
                Just(" ".to_string()),
                "[a-z가-힣 ]{1,30}",
            ],
            0..40,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn every_message_is_valid_and_every_story_accounted_for(
            titles in proptest::collection::vec(title_text(), 1..160),
            rules in 1usize..40,
            clusters in 1u64..400,
        ) {
            let items: Vec<Item> = titles.iter().enumerate().map(|(i, t)| {
                let cluster = (i % 3 == 0).then_some(i as u64 % clusters);
                item(t, &format!("https://h{}.example.com/{i}?a=1&b=2", i % 7), "feed",
                     &[&format!("rule {}", i % rules)], cluster)
            }).collect();
            let d = digest(Kind::Daily, items);
            let got = html(&d);
            for m in &got {
                prop_assert!(utf16_len(m) <= MESSAGE_LIMIT);
                prop_assert!(telegram_html(m).is_ok(), "{:?}: {m}", telegram_html(m));
            }
            let total: usize = listed(&got).iter().map(|(_, _, s, m)| s + m).sum();
            prop_assert_eq!(Some(total as u64), json(&d)["stories"].as_u64());
        }
    }
}
