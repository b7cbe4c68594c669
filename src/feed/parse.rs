//! The whole path from body to stories ([`parse()`]): decode, repair and check, feed-rs with our
//! date parser and id rule, entries → [`Story`]s, and the warnings. Pure.
//!
//! # Stories
//! In feed order; items with no title, link, id, description or content are skipped. `id` = the GUID /
//! Atom id as given (trimmed); without one, the canonical URL; without that, `title:` + the
//! normalised title (feed-rs's own generated ids are never used: its generator is replaced by one
//! that returns nothing). `url` = the canonical URL of the item's link (resolved against the feed's
//! own link when relative; the GUID when there is no link and the GUID is an http(s) URL); empty
//! when there is no http(s) URL (`javascript:` links are dropped). `published` = `pubDate` /
//! `dc:date` / Atom `published`, else Atom `updated`, else `None` (the pipeline fills in
//! first-seen). `title` is one line; `summary` (the description / Atom summary, empty when the item
//! has none) and `content` (`content:encoded` / Atom content) keep paragraph breaks as single
//! `'\n'`; all three lose trailing cut-off markers (see [`crate::text`]). Authors and categories
//! are one-line plain strings, deduplicated in order.

use chrono::Utc;
use chrono_tz::Tz;

use super::date::{Zones, is_impossible, parse_date_noting};
use super::decode::{decode_text, with_true_declaration};
use super::repair::{
    NO_LINK, Survey, check_xml, escape_bare_ampersands, is_json, locate_xml_error, lower_first,
    repair_root, rewrite_elements, root_element, undo_edits,
};
use super::{FeedError, Parsed};
use crate::story::{Story, canonical_url, normalise_title};
use crate::text::{clean_summary, one_line};

/// Parses a fetched feed body into stories, in feed order (the warnings dropped: use
/// [`parse`] where a user or the log should hear them).
pub fn parse_feed(
    feed_name: &str,
    body: &[u8],
    content_type: Option<&str>,
    tz: Tz,
) -> Result<Vec<Story>, FeedError> {
    parse(feed_name, body, content_type, tz).map(|p| p.stories)
}

/// Parses a fetched feed body into stories and warnings.
///
/// `content_type`: the HTTP Content-Type header when fetched over HTTP (may carry charset=).
/// `tz`: the configured time zone, for dates without a zone and for the stories' offsets.
///
/// Invariant: nothing is lost without a word. Bytes that do not decode are replaced (U+FFFD)
/// and counted in a warning, never a reason to drop the feed; an item that cannot become a
/// story is counted in a warning; a document that holds `<item>`/`<entry>` elements but yields
/// no story says so.
pub fn parse(
    feed_name: &str,
    body: &[u8],
    content_type: Option<&str>,
    tz: Tz,
) -> Result<Parsed, FeedError> {
    parse_at(feed_name, body, content_type, tz, None)
}

/// [`parse`], knowing the address the feed was fetched from (`feed_url`): a link relative to
/// neither `xml:base` nor the channel's own link is resolved against it (RSS allows relative
/// links; without a base they would be no URL at all).
pub fn parse_at(
    feed_name: &str,
    body: &[u8],
    content_type: Option<&str>,
    tz: Tz,
    feed_url: Option<&url::Url>,
) -> Result<Parsed, FeedError> {
    let mut warnings = Vec::new();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedError::Empty);
    }
    let (decoded, _, replaced) = decode_text(body, content_type)?;
    if let Some(note) = replaced {
        warnings.push(note);
    }
    let text = with_true_declaration(&decoded);
    drop(decoded);
    let (rooted, root_edit) = repair_root(&text)?;
    let (repaired, amp_edits) = escape_bare_ampersands(&rooted);
    // feed-rs skips what follows some XML errors and returns fewer items (a mismatched end tag
    // inside an item yields `Ok` with no items): check well-formedness first.
    let (error, survey) = if is_json(&repaired) {
        (None, Survey::default())
    } else {
        check_xml(&repaired)
    };
    if let Some((offset, message)) = error {
        let offset = undo_edits(undo_edits(offset, &amp_edits), root_edit.as_slice());
        return Err(FeedError::Xml {
            position: Some(crate::diag::line_col(&text, offset)),
            message,
        });
    }
    // Zone names the dates used that no table knows: one warning per feed, not a guess.
    let unknown_zones =
        std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let seen_zones = unknown_zones.clone();
    // Dates that name no real instant: how many, and the first.
    let impossible = std::sync::Arc::new(std::sync::Mutex::new((0usize, String::new())));
    let seen_impossible = impossible.clone();
    let zones = Zones::load();
    let parser = feed_rs::parser::Builder::new()
        .timestamp_parser(move |s| {
            let (date, unknown) = parse_date_noting(s, tz, &zones);
            if let Some(zone) = unknown
                && let Ok(mut set) = seen_zones.lock()
            {
                set.insert(zone);
            }
            if date.is_none()
                && is_impossible(s, &zones)
                && let Ok(mut seen) = seen_impossible.lock()
            {
                if seen.0 == 0 {
                    seen.1 = s.trim().chars().take(80).collect();
                }
                seen.0 += 1;
            }
            date.map(|d| d.with_timezone(&Utc))
        })
        // An empty id means "none given": we choose the fallback ourselves, stably.
        .id_generator(|_, _, _| String::new())
        .build();
    // Well-formed: now what feed-rs would drop or refuse becomes what it reads.
    let rewritten = rewrite_elements(&repaired, &survey);
    let feed = parser
        .parse(rewritten.as_bytes())
        .map_err(|e| feed_error(e, &repaired))?;
    drop(rewritten);
    let atom = feed.feed_type == feed_rs::model::FeedType::Atom;
    if let Ok(set) = unknown_zones.lock()
        && !set.is_empty()
    {
        let names: Vec<&str> = set.iter().map(String::as_str).collect();
        warnings.push(format!(
            "dates with unknown zone name(s) {} were read as {tz} time (the zone is missing, not guessed)",
            names.join(", ")
        ));
    }
    if let Ok(seen) = impossible.lock()
        && seen.0 > 0
    {
        warnings.push(format!(
            "{} impossible date(s) rejected (such as `{}`): those stories have no date",
            seen.0, seen.1
        ));
    }
    let base = feed
        .links
        .iter()
        .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .find_map(|l| url::Url::parse(l.href.trim()).ok())
        .or_else(|| feed_url.cloned());
    let total = feed.entries.len();
    let stories: Vec<Story> = feed
        .entries
        .into_iter()
        .filter_map(|entry| story(feed_name, entry, base.as_ref(), tz, atom))
        .collect();
    if stories.len() < total {
        warnings.push(format!(
            "{} of {total} items skipped: they have no title, link, id or text",
            total - stories.len()
        ));
    }
    if stories.is_empty() && !is_json(&repaired) {
        let items = count_items(&repaired);
        if items > 0 {
            warnings.push(format!(
                "no story read although the document holds {items} <item>/<entry> element(s): its format or namespace ({}) is not understood",
                root_description(&repaired)
            ));
        }
    }
    Ok(Parsed {
        title: feed
            .title
            .map(|t| crate::html::collapse_whitespace(&t.content, crate::html::Profile::Feed))
            .filter(|t| !t.is_empty()),
        stories,
        warnings,
    })
}

/// `<item>` and `<entry>` start tags, with or without a prefix.
fn count_items(text: &str) -> usize {
    let mut n = 0;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                let name = e.local_name();
                n += usize::from(matches!(name.as_ref(), b"item" | b"entry"));
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return n,
            Ok(_) => {}
        }
    }
}

/// The root element's name and attributes (its version and namespaces), for a warning.
fn root_description(text: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                let tag = String::from_utf8_lossy(&e).into_owned();
                let tag: String = tag.chars().take(200).collect();
                return format!("<{tag}>");
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return "no root element".into(),
            Ok(_) => {}
        }
    }
}

fn feed_error(e: feed_rs::parser::ParseFeedError, text: &str) -> FeedError {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => FeedError::NotAFeed {
            root: root_element(text).map(|(lt, end)| text[lt + 1..end].to_string()),
        },
        ParseFeedError::XmlReader(x) => match locate_xml_error(text) {
            Some((offset, message)) => FeedError::Xml {
                position: Some(crate::diag::line_col(text, offset)),
                message,
            },
            None => FeedError::Xml {
                position: None,
                message: lower_first(&x.to_string()),
            },
        },
        other => FeedError::Invalid(lower_first(&other.to_string())),
    }
}

/// One entry → one story, or `None` when it has no title, link, id or text.
fn story(
    feed_name: &str,
    entry: feed_rs::model::Entry,
    base: Option<&url::Url>,
    tz: Tz,
    atom: bool,
) -> Option<Story> {
    // An Atom `type="text"` title or summary is text: its `<blink>` is literal, not a tag to
    // drop (RSS titles get the same treatment in `rewrite_elements`, where escaping is still
    // visible).
    let title = entry
        .title
        .as_ref()
        .map(|t| one_line(&as_text(t, atom)))
        .unwrap_or_default();
    let given_id = entry.id.trim();
    let href = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .map(|l| l.href.trim())
        .filter(|h| !h.is_empty() && *h != NO_LINK);
    // A relative link is resolved against the feed's own link; a GUID that is an http(s) URL
    // stands in for a missing link (RSS GUIDs are permalinks by default).
    let url = href
        .and_then(|h| canonical_url(h).or_else(|| canonical_url(base?.join(h).ok()?.as_str())))
        .or_else(|| href.is_none().then(|| canonical_url(given_id)).flatten());
    let summary = entry
        .summary
        .as_ref()
        .map(|t| clean_summary(&as_text(t, atom)))
        .unwrap_or_default();
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(clean_summary)
        .filter(|c| !c.is_empty());
    // RSS 2.0 allows an item with only a description, or only a GUID: it is still a story.
    if title.is_empty()
        && url.is_none()
        && given_id.is_empty()
        && summary.is_empty()
        && content.is_none()
    {
        return None;
    }
    let url = url.unwrap_or_default();
    let id = if !given_id.is_empty() {
        given_id.to_string()
    } else if !url.is_empty() {
        url.clone()
    } else if !title.is_empty() {
        format!("title:{}", normalise_title(&title))
    } else {
        let text = normalise_title(content.as_deref().unwrap_or(&summary));
        format!("text:{}", text.chars().take(200).collect::<String>())
    };
    let authors = unique(
        entry
            .authors
            .iter()
            .map(|p| match (&p.email, p.name.as_str()) {
                // feed-rs names an RSS <author> "author" and puts its text in `email`.
                (Some(email), "author") => one_line(email),
                _ => one_line(&p.name),
            }),
    );
    let categories = unique(entry.categories.iter().map(|c| one_line(&c.term)));
    Some(Story {
        id,
        feed: feed_name.to_string(),
        title,
        url,
        published: entry
            .published
            .or(entry.updated)
            .map(|t| t.with_timezone(&tz).fixed_offset()),
        summary,
        authors,
        categories,
        content,
    })
}

/// An element's text as HTML for [`one_line`] / [`clean_summary`]: Atom's `type="text"` is
/// escaped first, so that its `<blink>` reads back as text.
fn as_text(t: &feed_rs::model::Text, atom: bool) -> std::borrow::Cow<'_, str> {
    if atom && t.content_type.ty() == "text" && t.content_type.subty() == "plain" {
        escape_markup(&t.content).into()
    } else {
        t.content.as_str().into()
    }
}

/// Text as HTML that reads back as the same text.
fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Non-empty strings, first occurrence kept.
fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::feed::test_support::{FIXTURES, SEOUL, error, parse};
    use crate::feed::{self, parse_feed};

    #[test]
    fn every_fixture_parses_with_its_item_count() {
        // Counted with `grep -c '<item[ >]'` / `grep -c '<entry[ >]'`. The EUC-KR fixture's one
        // item has only a description (checked below).
        let want = [50, 30, 30, 50, 25, 1, 20, 2, 25];
        for ((name, bytes), want) in FIXTURES.iter().zip(want) {
            let stories = parse(name, bytes);
            assert_eq!(stories.len(), want, "{name}");
            // The tiny EUC-KR item has only a description: no title, link or date.
            let complete = !name.contains("euc-kr-declared-tiny");
            for s in &stories {
                assert_eq!(s.feed, *name);
                assert!(!s.id.is_empty(), "{name}: {s:?}");
                if complete {
                    assert!(!s.title.is_empty() && !s.url.is_empty(), "{name}: {s:?}");
                    assert!(s.url.starts_with("http"), "{name}: {}", s.url);
                    assert!(s.published.is_some(), "{name}: {}", s.title);
                }
                assert!(!s.title.contains('\n'), "{name}: {}", s.title);
                for bad in ["<", ">"] {
                    assert!(
                        !s.title.contains(bad) && !s.summary.contains(bad),
                        "{name}: {bad:?} in {s:?}"
                    );
                }
                for text in [
                    &s.title,
                    &s.summary,
                    s.content.as_ref().unwrap_or(&String::new()),
                ] {
                    // Content may quote `<뉴스1>` (double-escaped upstream: it is text),
                    // never a tag.
                    let tag_like = text.match_indices('<').any(|(i, _)| {
                        text[i + 1..]
                            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!')
                    });
                    assert!(!tag_like, "{name}: tag in {text:?}");
                    for bad in [
                        "&amp;", "&quot;", "quot;", "&#", "&lt;", "&gt;", "&nbsp;", "&apos;",
                        "middot;", "hellip;",
                    ] {
                        assert!(!text.contains(bad), "{name}: {bad:?} in {text:?}");
                    }
                    assert_eq!(text.trim(), text, "{name}: untrimmed {text:?}");
                    assert!(!text.contains("  "), "{name}: double space in {text:?}");
                    assert!(
                        !text.ends_with("..") && !text.ends_with('…'),
                        "{name}: cut-off marker in {text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn korean_fixtures_read_right() {
        let [donga, joongang, kmib, nocut, pressian, ..] =
            FIXTURES.map(|(name, bytes)| parse(name, bytes));
        assert_eq!(
            donga[0].title,
            "부산은행서도 직원 횡령…해외서 들어온 14억여원 빼돌려"
        );
        assert_eq!(
            donga[0].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2022-07-30T18:00:00+09:00")
        );
        let content = donga[0].content.as_deref().unwrap_or_default();
        assert!(
            content.starts_with("BNK부산은행에서 한 직원이"),
            "{content}"
        );
        assert_eq!(donga[0].summary, "", "the Donga items have no description");

        assert_eq!(joongang[0].title, "[포토] TXT, 더욱 성장된 모습으로 컴백!");
        assert_eq!(joongang[0].url, "https://news.joins.com/article/24232833");
        assert_eq!(
            joongang[0].id,
            "https://news.joins.com/article/24232833?cloc=rss-news-total_list"
        );

        assert_eq!(
            kmib[0].title,
            "이재명 “저소득층, 與지지”… 野내부서 “선민의식” 비판"
        );
        assert_eq!(
            kmib[0].url,
            "https://news.kmib.co.kr/article/view.asp?arcid=0017326476&code=61111111&sid1=pol"
        );
        let content = kmib[0].content.as_deref().unwrap_or_default();
        assert!(
            content.starts_with("이재명 더불어민주당 당대표 후보가 29일"),
            "{content}"
        );
        assert!(
            content.contains("견제에 나섰다.\n이 후보는"),
            "<br> is a paragraph break"
        );
        assert!(
            content.ends_with("구자창 기자 critic@kmib.co.kr"),
            "{content}"
        );

        assert_eq!(nocut[0].title, "블링컨-최선희 다음주 '랑데부' 가능성");
        assert_eq!(
            nocut[1].title,
            "[노컷체크]모든 아파트 신축 현장에는 '똥방'이 있다?"
        );
        let content = nocut[0].content.as_deref().unwrap_or_default();
        assert!(
            content.starts_with("토니 블링컨 미국 국무장관이"),
            "{content}"
        );

        assert_eq!(
            pressian[0].title,
            "김관영 전북도지사직 인수위원회 활동 담은 '백서(白書)', 내달 4일 발간"
        );
        assert_eq!(pressian[1].title, "\"민족경제는 민주화된 경제라야 한다\"");
        assert_eq!(
            pressian[0].url,
            "https://www.pressian.com/pages/articles/2022073002525916549"
        );
        assert!(pressian.iter().all(|s| !s.title.contains("quot;")));
    }

    #[test]
    fn english_fixtures_read_right() {
        let [.., techcrunch, huffpost, reddit] = FIXTURES.map(|(name, bytes)| parse(name, bytes));
        let tc = &techcrunch[0];
        assert_eq!(
            tc.title,
            "Angie’s List Sets Price Range IPO At $11 To $13 Per Share; Valued At Over $600M"
        );
        assert_eq!(tc.id, "http://techcrunch.com/?p=446154");
        assert_eq!(tc.authors, ["Leena Rao"]);
        assert_eq!(tc.categories.first().map(String::as_str), Some("TC"));
        assert!(
            tc.summary
                .starts_with("Angie's List, which offers consumers"),
            "{}",
            tc.summary
        );
        assert!(
            tc.content
                .as_ref()
                .is_some_and(|c| c.len() > tc.summary.len())
        );
        assert_eq!(
            tc.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2011-11-03T02:25:27+09:00")
        );

        assert_eq!(
            huffpost[0].title,
            "Winnipeg High School Orders Custom Hijabs For Muslim Athletes"
        );
        // The second item has no guid: its id is its canonical URL.
        assert_eq!(huffpost[1].id, huffpost[1].url);
        assert_eq!(
            huffpost[1].url,
            "http://www.huffingtonpost.ca/adrian-sutherland/the-once-in-a-lifetime-thrill-of-opening-for-tom-petty_a_23234370/"
        );

        let r = &reddit[0];
        assert_eq!(r.id, "t3_dw6yqu");
        assert_eq!(
            r.title,
            "UK ministers threaten sanctions on Hong Kong officials"
        );
        // Atom `updated` only: it is the published time.
        assert_eq!(
            r.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2019-11-14T18:08:29+09:00")
        );
        assert_eq!(
            r.content.as_deref(),
            Some("submitted by /u/yozyi\n[link] [comments]")
        );
        assert_eq!(r.authors, ["/u/yozyi"]);
        assert_eq!(r.categories, ["worldnews"]);
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty document"),
            (b"  \n ", "empty document"),
            (
                b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n<channel>\n<item><title>a</titel></item>\n</channel></rss>",
                "not valid XML at line 4, column ",
            ),
            (
                b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Not found</title></head><body><p>404</body></html>",
                "not an RSS or Atom feed (the root element is <html>)",
            ),
            (b"<html><body>hello</body></html>", "not an RSS or Atom feed (the root element is <html>)"),
            (b"<note><to>you</to></note>", "not an RSS or Atom feed (the root element is <note>)"),
            (b"hello, world", "not an RSS or Atom feed"),
            (b"<?xml version=\"1.0\" encoding=\"iso-2022-kr\"?><rss>\x0e\x80</rss>", "unsupported encoding `iso-2022-kr`"),
            (&[0x80u8, 0xff, 0x81, 0xfe].repeat(40)[..], "cannot decode"),
        ];
        for (body, want) in cases {
            let got = error(body);
            assert!(
                got.starts_with(want),
                "{:?}: got {got:?}, want {want:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    /// Regression (issue 13): a feed that yielded no story while holding items passed silently.
    #[test]
    fn no_story_from_a_document_with_items_is_a_warning() {
        let atom03 = "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>t</title>\
                      <entry><title>첫 기사</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>";
        let parsed =
            feed::parse("f", atom03.as_bytes(), None, chrono_tz::Asia::Seoul).expect("parsed");
        if parsed.stories.is_empty() {
            assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
            assert!(
                parsed.warnings[0].starts_with("no story read although the document holds 1 <item>/<entry> element(s): its format or namespace (<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">) is not understood"),
                "{:?}",
                parsed.warnings
            );
        }
    }

    #[test]
    fn json_feed_is_read() {
        let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "t",
            "items": [{"id": "1", "title": "json item", "url": "https://e.kr/1", "date_published": "2022-07-16T22:01:07+09:00"}]}"#;
        let stories =
            parse_feed("f", json.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].title, "json item");
        assert_eq!(stories[0].id, "1");
    }

    // ---- ids and skipping ---------------------------------------------------------------

    #[test]
    fn ids_fall_back_to_url_then_title_and_empty_items_are_skipped() {
        let xml = "<rss version=\"2.0\"><channel><link>https://www.e.kr/home/</link>\
            <item><title>GUID given</title><link>https://e.kr/1?utm_source=rss</link><guid isPermaLink=\"false\"> abc-1 </guid></item>\
            <item><title>No guid</title><link>https://E.kr/2#top</link></item>\
            <item><title>[속보] 링크도 GUID도 없음</title></item>\
            <item><description>neither title nor link</description></item>\
            <item><guid>https://e.kr/5</guid><description>permalink guid only</description></item>\
            <item><title>Relative link</title><link>/news/6?utm_medium=rss</link></item>\
            <item><title>Script link</title><link>javascript:alert(1)</link></item>\
            <item><link>javascript:alert(1)</link></item>\
            </channel></rss>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, &str)> = stories
            .iter()
            .map(|s| (s.id.as_str(), s.url.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("abc-1", "https://e.kr/1"),
                ("https://e.kr/2", "https://e.kr/2"),
                ("title:속보 링크도 guid도 없음", ""),
                ("text:neither title nor link", ""),
                ("https://e.kr/5", "https://e.kr/5"),
                ("https://www.e.kr/news/6", "https://www.e.kr/news/6"),
                ("title:script link", ""),
            ]
        );
    }

    #[test]
    fn atom_without_ids_uses_no_generated_id() {
        let xml = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>\
            <entry><title type=\"html\">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; more</title><link href=\"https://e.kr/a\"/>\
            <published>2022-07-16T22:01:07+09:00</published><updated>2022-07-17T00:00:00Z</updated>\
            <summary type=\"html\">&lt;p&gt;Para one&lt;/p&gt;&lt;p&gt;Para two...&lt;/p&gt;</summary></entry></feed>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].id, "https://e.kr/a");
        assert_eq!(stories[0].title, "Bold & more");
        assert_eq!(stories[0].summary, "Para one\nPara two");
        assert_eq!(
            stories[0].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2022-07-16T22:01:07+09:00")
        );
    }
}

/// Issue 13's feed classes, one fixture each (`tests/data/feeds/issue13/`, README there).
#[cfg(test)]
mod issue13 {
    use crate::feed::test_support::SEOUL;
    use crate::feed::{Parsed, parse};
    use crate::story::Story;

    macro_rules! issue13 {
        ($file:literal) => {
            read(
                $file,
                include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/data/feeds/issue13/",
                    $file
                )),
            )
        };
    }

    fn read(name: &str, bytes: &[u8]) -> Parsed {
        parse(name, bytes, None, SEOUL).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn titles(stories: &[Story]) -> Vec<&str> {
        stories.iter().map(|s| s.title.as_str()).collect()
    }

    fn urls(stories: &[Story]) -> Vec<&str> {
        stories.iter().map(|s| s.url.as_str()).collect()
    }

    fn dates(stories: &[Story]) -> Vec<Option<String>> {
        stories
            .iter()
            .map(|s| s.published.map(|d| d.to_rfc3339()))
            .collect()
    }

    /// Class 2: Atom 0.3 is read (namespace, issued/modified, mode="escaped").
    #[test]
    fn atom_0_3_is_read() {
        let p = issue13!("atom03.xml");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            titles(&p.stories),
            [
                "Atom-Powered Robots Run Amok",
                "Second entry, modified only"
            ]
        );
        assert_eq!(
            urls(&p.stories),
            [
                "http://atom03.example.org/2003/12/13/atom03",
                "http://atom03.example.org/2003/12/14/second"
            ]
        );
        assert_eq!(
            dates(&p.stories),
            [
                Some("2003-12-13T21:29:29+09:00".into()),
                Some("2003-12-14T19:00:00+09:00".into())
            ]
        );
        assert_eq!(p.stories[0].id, "tag:atom03.example.org,2003:3.2397");
        assert_eq!(p.stories[0].content.as_deref(), Some("Some escaped text."));
        assert_eq!(p.stories[1].summary, "A summary.");
    }

    /// Class 2 / 6: items whose only title or text is dc:/itunes: are stories.
    #[test]
    fn items_with_only_extension_text_are_read() {
        let p = issue13!("skipped-items.xml");
        assert_eq!(
            titles(&p.stories),
            ["kept", "", "Only a dc:title", ""],
            "{:?}",
            p.warnings
        );
        // A GUID alone is a story (issue 13: one of title, link or GUID is enough).
        assert_eq!(p.stories[1].id, "guid-only-2");
        assert_eq!(p.stories[2].summary, "and a dc:description");
        assert_eq!(p.stories[3].summary, "Only an itunes:summary");
        assert_eq!(p.stories[3].id, "itunes-6");
        assert_eq!(
            p.warnings,
            ["2 of 6 items skipped: they have no title, link, id or text"]
        );
    }

    /// Class 3: odd `type=` values are text, base64 is decoded, no element costs the feed.
    #[test]
    fn odd_atom_types_are_read_as_text() {
        let p = issue13!("atom-odd-types.xml");
        assert_eq!(
            titles(&p.stories),
            [
                "Empty type",
                "Upper-case TEXT",
                "XHTML title",
                "Base64 content",
                "Nonsense type"
            ]
        );
        assert_eq!(p.stories[0].summary, "Plain <summary>");
        assert_eq!(p.stories[3].content.as_deref(), Some("Base64 content 본문"));
        assert_eq!(p.stories[4].content.as_deref(), Some("opaque"));
        // Empty content of a media type, base64 that is no text: the entries stay.
        let xml = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>\
            <entry><id>1</id><title>empty</title><content type=\"application/octet-stream\"></content></entry>\
            <entry><id>2</id><title>image</title><content type=\"image/png\" mode=\"base64\">iVBORw0KGgo=</content></entry>\
            </feed>";
        let p = read("inline", xml.as_bytes());
        assert_eq!(titles(&p.stories), ["empty", "image"]);
        assert_eq!(p.stories[1].content, None);
    }

    /// Class 4: RSS under UserLand's namespace, and `<rss>` without `<channel>`.
    #[test]
    fn rss_under_a_foreign_namespace_or_without_channel_is_read() {
        let p = issue13!("rss-userland-ns.xml");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            titles(&p.stories),
            ["First under a default namespace", "Second"]
        );
        assert_eq!(
            dates(&p.stories)[0].as_deref(),
            Some("2003-01-06T18:00:00+09:00")
        );
        let p = issue13!("rss-no-channel.xml");
        assert_eq!(titles(&p.stories), ["Item straight under rss"]);
        assert_eq!(urls(&p.stories), ["https://nochannel.example.com/1"]);
    }

    /// Class 6: RSS 1.0 items without `<link>`, with only dc:, itunes: or media: text.
    #[test]
    fn rdf_items_without_link_are_read() {
        let p = issue13!("rdf-no-link.xml");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            titles(&p.stories),
            [
                "RDF item without link",
                "RDF item, no link, no about",
                "Only a dc:title",
                "",
                "Only a media:title"
            ]
        );
        assert_eq!(
            urls(&p.stories),
            ["https://rdf.example.org/a", "", "", "", ""]
        );
        assert_eq!(
            dates(&p.stories)[0].as_deref(),
            Some("2004-02-03T10:00:00+09:00")
        );
        let summaries: Vec<&str> = p.stories.iter().map(|s| s.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "",
                "text only",
                "and a dc:description",
                "Only an itunes:summary",
                "and a media:description"
            ]
        );
    }

    /// Class 7: asctime, `2003`, `2003-12`, dcterms/atom dates in RSS, impossible dates.
    #[test]
    fn the_rest_of_the_dates_are_read() {
        let p = issue13!("dates.xml");
        let got: Vec<(&str, Option<String>)> = p
            .stories
            .iter()
            .map(|s| {
                (
                    s.title.as_str(),
                    s.published
                        .map(|d| d.with_timezone(&chrono::Utc).to_rfc3339()),
                )
            })
            .collect();
        let want = [
            ("MET", Some("2003-02-04T07:57:00+00:00")),
            ("PT", Some("2003-02-04T16:57:00+00:00")),
            ("ET", Some("2003-02-04T13:57:00+00:00")),
            ("asctime", Some("2004-01-04T07:29:06+00:00")),
            ("year only", Some("2002-12-31T15:00:00+00:00")),
            ("year and month", Some("2003-11-30T15:00:00+00:00")),
            ("dcterms:modified", Some("2003-12-31T10:14:55+00:00")),
            ("dcterms:issued", Some("2003-12-31T10:14:55+00:00")),
            ("atom:published", Some("2003-12-31T18:14:55+00:00")),
            ("impossible", None),
            ("unknown zone", Some("2003-02-03T23:57:00+00:00")),
        ];
        let want: Vec<(&str, Option<String>)> = want
            .into_iter()
            .map(|(t, d)| (t, d.map(String::from)))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            p.warnings,
            [
                "dates with unknown zone name(s) XYZ were read as Asia/Seoul time (the zone is missing, not guessed)",
                "1 impossible date(s) rejected (such as `9999-12-31T23:59:59-99:99`): those stories have no date"
            ]
        );
    }

    /// Class 8: escaped markup in a plain title is text.
    #[test]
    fn plain_titles_keep_literal_markup() {
        let p = issue13!("plain-titles.xml");
        assert_eq!(
            titles(&p.stories),
            [
                "Use <script> tags & more",
                "영화 <기생충>과 〈올드보이〉 재개봉",
                "<b>Bold</b> headline",
                "CDATA with markup"
            ]
        );
        let p = issue13!("atom-text-title.xml");
        assert_eq!(
            titles(&p.stories),
            [
                "History of the <blink> tag",
                "Untyped <marquee> is text too"
            ]
        );
    }

    /// Class 10: categories and authors from the extensions; links.
    #[test]
    fn extension_categories_authors_and_links() {
        let p = issue13!("rss-extras.xml");
        let s = &p.stories[0];
        assert_eq!(
            s.categories,
            ["Economy", "Markets", "Business", "Investing"]
        );
        assert_eq!(s.authors, ["홍길동", "Jane Roe", "John Doe"]);
        assert_eq!(
            urls(&p.stories),
            [
                "https://extras.example.com/1",
                "https://cdn.example.net/base/story/2",
                "https://extras.example.com/news/3.html",
                "https://extras.example.com/4",
                ""
            ]
        );
    }

    /// The rewrite pass hands back the text itself when there is nothing to rewrite.
    #[test]
    fn nothing_to_rewrite_is_no_copy() {
        use std::borrow::Cow;
        for text in [
            "<rss version=\"2.0\"><channel><item><title>a &amp; b</title><link>https://e.kr/1</link>\
             <description>&lt;p&gt;x&lt;/p&gt;</description></item></channel></rss>",
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title type=\"html\">a</title>\
             <link rel=\"self\" type=\"application/atom+xml\" href=\"https://e.kr/f\"/></entry></feed>",
        ] {
            assert!(!crate::feed::repair::needs_rewrite(text), "{text}");
            let survey = crate::feed::repair::check_xml(text).1;
            let out = crate::feed::repair::rewrite_elements(text, &survey);
            assert!(matches!(out, Cow::Borrowed(_)), "{text}");
        }
        // The benchmarked fixtures (`benches/feeds.rs`) are not even read: TechCrunch and
        // HuffPost carry media:title / media:description beside every title and description.
        for (name, bytes) in crate::feed::test_support::FIXTURES {
            let Ok(text) = std::str::from_utf8(bytes) else {
                continue; // EUC-KR: decoded first in `parse`
            };
            assert!(!crate::feed::repair::needs_rewrite(text), "{name}");
        }
    }
}
