//! OPML in and out: the feed lists other readers export (Feedly, Inoreader, Miniflux,
//! NetNewsWire, …) read into feeds, and kkachi's own feeds written as OPML 2.0. Pure: no IO
//! (the caller reads and writes files; `config::import` edits the config text).
//!
//! Readers differ: feeds nested in folders (any depth) or flat; the address in `xmlUrl` (the
//! spec), `xmlurl`, or `url` (older exporters); the name in `title`, `text`, both or neither.
//! An outline with an address is a feed unless its `type` says it is a link to a page or to
//! another OPML file (`link`, `include`); those, and outlines without any address that are not
//! folders, are listed as skipped with their line, never dropped unsaid.

use quick_xml::events::{BytesStart, Event};

/// One feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `title`, else `text`, trimmed; `None` when neither is there.
    pub title: Option<String>,
    /// The feed's address, as written.
    pub url: String,
    /// The site's address (`htmlUrl`), when given.
    pub html_url: Option<String>,
    /// The folders it is in, outermost first (Feedly's and Inoreader's categories).
    pub folders: Vec<String>,
    /// The line of its `<outline>` in the file (1-based).
    pub line: usize,
}

/// An outline that looked like an entry but is not a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub reason: String,
}

/// What an OPML file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opml {
    /// `<head><title>`, when present.
    pub title: Option<String>,
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
}

/// Why a file is not readable OPML: the position and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct OpmlError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Reads an OPML document (already decoded to text).
pub fn parse(text: &str) -> Result<Opml, OpmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Opml::default();
    let mut saw_root = false;
    // Open `<outline>` elements: `Some(name)` for a folder, `None` for a feed or an unnamed one.
    let mut open: Vec<Option<String>> = Vec::new();
    let mut in_head_title = false;
    let error = |offset: usize, message: String| {
        let (line, col) = crate::diag::line_col(text, offset);
        OpmlError { line, col, message }
    };
    loop {
        let at = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| error(reader.error_position() as usize, e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if !saw_root => {
                if e.local_name().as_ref() != b"opml" {
                    return Err(error(
                        at,
                        format!(
                            "not an OPML file: the root element is <{}>, not <opml>",
                            String::from_utf8_lossy(e.name().as_ref())
                        ),
                    ));
                }
                saw_root = true;
            }
            Event::Start(e) if e.local_name().as_ref() == b"outline" => {
                let line = crate::diag::line_col(text, at).0;
                let folder = outline(&e, line, &open, &mut out).map_err(|m| error(at, m))?;
                open.push(folder);
            }
            Event::Empty(e) if e.local_name().as_ref() == b"outline" => {
                let line = crate::diag::line_col(text, at).0;
                outline(&e, line, &open, &mut out).map_err(|m| error(at, m))?;
            }
            Event::End(e) if e.local_name().as_ref() == b"outline" => {
                open.pop();
            }
            Event::Start(e) if e.local_name().as_ref() == b"title" && open.is_empty() => {
                in_head_title = true;
            }
            Event::Text(t) if in_head_title => {
                let title = t
                    .decode()
                    .map_err(|e| error(at, e.to_string()))
                    .and_then(|s| {
                        quick_xml::escape::unescape(&s)
                            .map(|u| u.trim().to_string())
                            .map_err(|e| error(at, e.to_string()))
                    })?;
                if !title.is_empty() {
                    out.title = Some(title);
                }
            }
            Event::End(e) if e.local_name().as_ref() == b"title" => in_head_title = false,
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(error(0, "not an OPML file: no <opml> element".into()));
    }
    Ok(out)
}

/// One `<outline>`: records it as an entry or a skip; returns its name when it is a folder.
fn outline(
    e: &BytesStart<'_>,
    line: usize,
    open: &[Option<String>],
    out: &mut Opml,
) -> Result<Option<String>, String> {
    let mut title = None;
    let mut text = None;
    let mut xml_url = None;
    let mut url = None;
    let mut html_url = None;
    let mut kind = None;
    for attr in e.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute in <outline>: {e}"))?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value in <outline>: {e}"))?
            .trim()
            .to_string();
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).to_ascii_lowercase();
        let slot = match key.as_str() {
            "title" => &mut title,
            "text" => &mut text,
            "xmlurl" => &mut xml_url,
            "url" => &mut url,
            "htmlurl" => &mut html_url,
            "type" => &mut kind,
            _ => continue,
        };
        if !value.is_empty() {
            *slot = Some(value);
        }
    }
    let name = title.clone().or(text.clone());
    let kind = kind.map(|k| k.to_ascii_lowercase());
    let address = match (xml_url, url) {
        (Some(x), _) => Some(x),
        (None, Some(_)) if matches!(kind.as_deref(), Some("link" | "include")) => {
            let what = match kind.as_deref() {
                Some("include") => "a link to another OPML file",
                _ => "a link to a page",
            };
            out.skipped.push(Skipped {
                line,
                reason: format!(
                    "{}: type=\"{}\" is {what}, not a feed",
                    name.as_deref().unwrap_or("an outline"),
                    kind.as_deref().unwrap_or_default()
                ),
            });
            return Ok(None);
        }
        (None, u) => u,
    };
    match address {
        Some(url) => {
            out.entries.push(Entry {
                title: name,
                url,
                html_url,
                folders: open.iter().flatten().cloned().collect(),
                line,
            });
            Ok(None)
        }
        // An outline without an address is a folder (its children are the feeds).
        None => Ok(name),
    }
}

/// One feed as `export` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed<'a> {
    pub name: &'a str,
    pub url: &'a str,
}

/// The feeds as an OPML 2.0 document (`text` and `title` = the feed's name, `type="rss"`).
pub fn export(title: &str, feeds: &[Feed<'_>]) -> String {
    use quick_xml::escape::escape;
    let mut s =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    s.push_str(&format!(
        "  <head>\n    <title>{}</title>\n  </head>\n  <body>\n",
        escape(title)
    ));
    for f in feeds {
        s.push_str(&format!(
            "    <outline type=\"rss\" text=\"{0}\" title=\"{0}\" xmlUrl=\"{1}\"/>\n",
            escape(f.name),
            escape(f.url)
        ));
    }
    s.push_str("  </body>\n</opml>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_folders_attribute_spellings_and_missing_titles() {
        let src = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="News" title="News">
      <outline text="Korea">
        <outline type="rss" text="연합뉴스" title="연합뉴스 &amp; 속보" xmlUrl="https://www.yna.co.kr/rss/news.xml" htmlUrl="https://www.yna.co.kr"/>
      </outline>
      <outline xmlurl="https://www.hani.co.kr/rss/"/>
    </outline>
    <outline text="Old" url="https://techcrunch.com/feed/"/>
    <outline text="A page" type="link" url="https://example.com/"/>
  </body>
</opml>"#;
        let o = parse(src).expect("parse");
        assert_eq!(o.title.as_deref(), Some("My feeds"));
        let got: Vec<(Option<&str>, &str, Vec<&str>, usize)> = o
            .entries
            .iter()
            .map(|e| {
                (
                    e.title.as_deref(),
                    e.url.as_str(),
                    e.folders.iter().map(String::as_str).collect(),
                    e.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some("연합뉴스 & 속보"),
                    "https://www.yna.co.kr/rss/news.xml",
                    vec!["News", "Korea"],
                    7
                ),
                (None, "https://www.hani.co.kr/rss/", vec!["News"], 9),
                (Some("Old"), "https://techcrunch.com/feed/", vec![], 11),
            ]
        );
        assert_eq!(o.skipped.len(), 1);
        assert_eq!(o.skipped[0].line, 12);
        assert!(o.skipped[0].reason.contains("A page"), "{:?}", o.skipped);
    }

    #[test]
    fn not_opml_or_broken_xml_says_where() {
        let e = parse("<rss version=\"2.0\"><channel/></rss>").expect_err("rss");
        assert!(e.to_string().contains("root element is <rss>"), "{e}");
        let e = parse("<opml>\n<body>\n<outline text=\"a\" xmlUrl=\"x\">\n</body></opml>")
            .expect_err("unclosed");
        assert_eq!(e.line, 4, "{e}");
        assert!(parse("").is_err());
    }

    #[test]
    fn export_round_trips_and_escapes() {
        let feeds = [
            Feed {
                name: "yna",
                url: "https://www.yna.co.kr/rss/news.xml",
            },
            Feed {
                name: "g&n",
                url: "https://news.google.com/rss?hl=ko&gl=KR",
            },
        ];
        let xml = export("kkachi feeds", &feeds);
        assert!(xml.contains("hl=ko&amp;gl=KR"), "{xml}");
        let back = parse(&xml).expect("parse");
        assert_eq!(back.title.as_deref(), Some("kkachi feeds"));
        let urls: Vec<(&str, &str)> = back
            .entries
            .iter()
            .map(|e| (e.title.as_deref().unwrap_or(""), e.url.as_str()))
            .collect();
        assert_eq!(
            urls,
            vec![
                ("yna", "https://www.yna.co.kr/rss/news.xml"),
                ("g&n", "https://news.google.com/rss?hl=ko&gl=KR")
            ]
        );
    }
}
