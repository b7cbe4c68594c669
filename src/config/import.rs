//! `kkachi feeds import`: which feeds of an OPML file to add to a config, under which names,
//! and the config text with them appended. The text is edited with `toml_edit`, so the file's
//! comments, order and layout stay as they were; what is added is `[[feeds]]` tables at the end
//! (or inline tables, when the file writes `feeds = [...]`). Pure: the caller reads and writes.

use std::collections::HashSet;

use super::{Config, FeedSource};
use crate::opml::Entry;

/// A feed to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub name: String,
    pub url: String,
    /// The OPML title, written as a comment above the table.
    pub title: Option<String>,
}

/// What importing an OPML file into a config would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub add: Vec<Planned>,
    /// Entries whose address the config (or an earlier entry) already has: (line, url, name).
    pub existing: Vec<(usize, String, String)>,
    /// Entries that cannot be a feed: (line, why).
    pub invalid: Vec<(usize, String)>,
}

/// The feeds of `entries` not in `config` yet, with names derived from their addresses and
/// made unique against the config's and each other's.
pub fn plan(config: &Config, entries: &[Entry]) -> Plan {
    let mut plan = Plan::default();
    let mut names: HashSet<String> = config.feeds.iter().map(|f| f.name.clone()).collect();
    let mut urls: Vec<(String, String)> = config
        .feeds
        .iter()
        .filter_map(|f| match &f.source {
            FeedSource::Http(u) => Some((same_key(u), f.name.clone())),
            FeedSource::File(_) => None,
        })
        .collect();
    for e in entries {
        let url = match url::Url::parse(&e.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
            Ok(u) => {
                plan.invalid.push((
                    e.line,
                    format!("{}: not an http(s) address (scheme {})", e.url, u.scheme()),
                ));
                continue;
            }
            Err(err) => {
                plan.invalid
                    .push((e.line, format!("{}: not a URL ({err})", e.url)));
                continue;
            }
        };
        let key = same_key(&url);
        if let Some((_, name)) = urls.iter().find(|(k, _)| *k == key) {
            plan.existing.push((e.line, e.url.clone(), name.clone()));
            continue;
        }
        let name = unique_name(&url, &names);
        names.insert(name.clone());
        urls.push((key, name.clone()));
        plan.add.push(Planned {
            name,
            url: url.to_string(),
            title: e.title.clone(),
        });
    }
    plan
}

/// Two addresses of one feed compare equal: the scheme (http/https), `www.`, a trailing slash
/// and the case of the host do not make a second feed.
fn same_key(u: &url::Url) -> String {
    let host = u.host_str().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let path = u.path().trim_end_matches('/');
    match u.query() {
        Some(q) => format!("{host}{path}?{q}"),
        None => format!("{host}{path}"),
    }
}

/// `yna` for `https://www.yna.co.kr/rss/news.xml`; `khan-politic_news` when `khan` is taken;
/// then `-2`, `-3`.
fn unique_name(url: &url::Url, taken: &HashSet<String>) -> String {
    let host = url.host_str().unwrap_or("feed").to_ascii_lowercase();
    let mut labels: Vec<&str> = host.split('.').collect();
    while labels.len() > 2 && matches!(labels[0], "www" | "rss" | "feeds" | "feed" | "m" | "news") {
        labels.remove(0);
    }
    let base = slug(labels.first().copied().unwrap_or("feed"));
    let base = if base.is_empty() {
        "feed".to_string()
    } else {
        base
    };
    if !taken.contains(&base) {
        return base;
    }
    let last = url
        .path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        .map(|p| p.rsplit_once('.').map_or(p, |(stem, _)| stem))
        .map(slug)
        .unwrap_or_default();
    if !last.is_empty() {
        let name = format!("{base}-{last}");
        if !taken.contains(&name) {
            return name;
        }
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| !taken.contains(n))
        .unwrap_or(base)
}

/// Letters, digits, `_`, `-` and `.` (a feed name's alphabet), lowercased; others dropped.
fn slug(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The feeds to add as TOML (what a dry run prints, and what `apply` appends).
pub fn snippet(add: &[Planned]) -> String {
    let mut doc = toml_edit::DocumentMut::new();
    let mut tables = toml_edit::ArrayOfTables::new();
    for p in add {
        tables.push(table(p));
    }
    doc.insert("feeds", toml_edit::Item::ArrayOfTables(tables));
    doc.to_string()
}

fn table(p: &Planned) -> toml_edit::Table {
    let mut t = toml_edit::Table::new();
    t.insert("name", toml_edit::value(p.name.as_str()));
    t.insert("url", toml_edit::value(p.url.as_str()));
    let comment = match &p.title {
        Some(title) => format!("\n# {} (imported from OPML)\n", one_line(title)),
        None => "\n# (imported from OPML)\n".to_string(),
    };
    t.decor_mut().set_prefix(comment);
    t
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `src` (a config file's text) with `add` appended as feeds, everything else unchanged.
/// `Err` when `src` is not TOML or its `feeds` is neither tables nor an array.
pub fn apply(src: &str, add: &[Planned]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = src
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string().trim().to_string())?;
    // New tables go after everything the file has, in order.
    let mut position = doc
        .as_table()
        .iter()
        .map(|(_, item)| last_position(item))
        .max()
        .unwrap_or(0);
    match doc.get_mut("feeds") {
        None => {
            let mut tables = toml_edit::ArrayOfTables::new();
            for p in add {
                position += 1;
                let mut t = table(p);
                t.set_position(Some(position));
                tables.push(t);
            }
            doc.insert("feeds", toml_edit::Item::ArrayOfTables(tables));
        }
        Some(toml_edit::Item::ArrayOfTables(tables)) => {
            for p in add {
                position += 1;
                let mut t = table(p);
                t.set_position(Some(position));
                tables.push(t);
            }
        }
        Some(toml_edit::Item::Value(toml_edit::Value::Array(array))) => {
            for p in add {
                let mut t = toml_edit::InlineTable::new();
                t.insert("name", p.name.as_str().into());
                t.insert("url", p.url.as_str().into());
                array.push(t);
            }
        }
        Some(_) => return Err("`feeds` is neither [[feeds]] tables nor an array".into()),
    }
    Ok(doc.to_string())
}

/// The largest table position under `item` (tables keep their place in the file by it).
fn last_position(item: &toml_edit::Item) -> isize {
    let table = |t: &toml_edit::Table| {
        t.iter()
            .map(|(_, i)| last_position(i))
            .chain(t.position())
            .max()
            .unwrap_or(0)
    };
    match item {
        toml_edit::Item::Table(t) => table(t),
        toml_edit::Item::ArrayOfTables(a) => a.iter().map(table).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(src: &str) -> Config {
        let (c, _, d) = super::super::parse(src, std::path::Path::new("/x/kkachi.toml"));
        c.unwrap_or_else(|| panic!("{d:?}"))
    }

    fn entry(line: usize, url: &str, title: Option<&str>) -> Entry {
        Entry {
            title: title.map(str::to_string),
            url: url.to_string(),
            html_url: None,
            folders: vec![],
            line,
        }
    }

    const SRC: &str = "# my config\nrules = \"rules.toml\"\n\n[[feeds]]\nname = \"yna\"  # Yonhap\nurl = \"https://www.yna.co.kr/rss/news.xml\"\n\n[http]\n# metrics\nenabled = false\n";

    #[test]
    fn names_from_hosts_unique_existing_skipped_invalid_said() {
        let c = config(SRC);
        let plan = plan(
            &c,
            &[
                entry(3, "http://yna.co.kr/rss/news.xml/", Some("연합")),
                entry(4, "https://www.khan.co.kr/rss/rssdata/total_news.xml", None),
                entry(
                    5,
                    "https://www.khan.co.kr/rss/rssdata/politic_news.xml",
                    None,
                ),
                entry(6, "https://rss.donga.com/total.xml", Some("동아")),
                entry(7, "https://www.yna.co.kr/rss/economy.xml", None),
                entry(8, "ftp://x.org/feed", None),
                entry(9, "khan.co.kr/rss", None),
                entry(
                    10,
                    "https://www.khan.co.kr/rss/rssdata/total_news.xml",
                    None,
                ),
            ],
        );
        let names: Vec<&str> = plan.add.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["khan", "khan-politic_news", "donga", "yna-economy"]
        );
        assert_eq!(
            plan.existing,
            vec![
                (
                    3,
                    "http://yna.co.kr/rss/news.xml/".to_string(),
                    "yna".to_string()
                ),
                (
                    10,
                    "https://www.khan.co.kr/rss/rssdata/total_news.xml".to_string(),
                    "khan".to_string()
                ),
            ]
        );
        assert_eq!(
            plan.invalid.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![8, 9]
        );
    }

    #[test]
    fn apply_keeps_comments_and_layout_and_the_result_loads() {
        let add = vec![
            Planned {
                name: "khan".into(),
                url: "https://www.khan.co.kr/rss/rssdata/total_news.xml".into(),
                title: Some("경향신문 전체\n뉴스".into()),
            },
            Planned {
                name: "donga".into(),
                url: "https://rss.donga.com/total.xml".into(),
                title: None,
            },
        ];
        let out = apply(SRC, &add).expect("apply");
        assert!(
            out.starts_with(SRC),
            "the file's text is kept as it was:\n{out}"
        );
        assert!(
            out.contains("# 경향신문 전체 뉴스 (imported from OPML)\n[[feeds]]\nname = \"khan\""),
            "{out}"
        );
        let c = config(&out);
        let names: Vec<&str> = c.feeds.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["yna", "khan", "donga"]);
        assert!(c.http.listen.is_none(), "[http] still applies");

        // No feeds yet, and the inline-array form.
        let out = apply("rules = \"r.toml\"\n", &add[..1]).expect("apply");
        assert_eq!(config(&out).feeds.len(), 1, "{out}");
        let inline =
            "rules = \"r.toml\"\nfeeds = [{ name = \"a\", url = \"https://a.com/rss\" }]\n";
        let out = apply(inline, &add[..1]).expect("apply");
        assert_eq!(config(&out).feeds.len(), 2, "{out}");
        assert!(apply("feeds = 3\n", &add).is_err());
    }

    #[test]
    fn the_snippet_is_the_tables_that_would_be_added() {
        let s = snippet(&[Planned {
            name: "khan".into(),
            url: "https://www.khan.co.kr/rss/".into(),
            title: Some("경향".into()),
        }]);
        assert_eq!(
            s,
            "\n# 경향 (imported from OPML)\n[[feeds]]\nname = \"khan\"\nurl = \"https://www.khan.co.kr/rss/\"\n"
        );
    }
}
