//! The transliteration evaluation, shared by `tests/it/translit.rs` (which asserts the targets)
//! and `examples/translit_eval.rs` (which prints the details): coverage of the labelled names in
//! `tests/data/translit/names.tsv` and false matches on real Korean news
//! (`tests/data/feeds/ko/*.xml`).

use std::path::Path;

use kkachi::rules::{Doc, RuleSet};
use kkachi::story::Story;

/// One labelled name: the English term and its Korean press spellings.
#[derive(Debug, Clone)]
pub struct Name {
    pub english: String,
    pub korean: Vec<String>,
    pub kind: String,
    /// Tuning half (even lines) or held back (odd lines).
    pub held: bool,
}

/// `tests/data/translit/names.tsv`: `english<TAB>korean|variant<TAB>kind`, `#` comments.
pub fn names() -> Vec<Name> {
    let path = data().join("translit/names.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [english, korean, kind] = cols[..] else {
            panic!(
                "{}:{}: want three tab-separated columns",
                path.display(),
                n + 1
            );
        };
        let held = out.len() % 2 == 1;
        out.push(Name {
            english: english.to_string(),
            korean: korean.split('|').map(str::to_string).collect(),
            kind: kind.to_string(),
            held,
        });
    }
    out
}

fn data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

/// The background: the stories of every Korean fixture feed and the 30 articles of
/// `tests/data/summaries/sci-news-sum-kr-50` (IT and science news, the kind that names foreign
/// companies), each with its half: Donga, JoongAng and Kukmin are the tuning half, the rest is
/// held back.
pub fn background() -> Vec<(Story, bool)> {
    let dir = data().join("feeds/ko");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned());
        let held = !["donga", "joongang", "kmib"]
            .iter()
            .any(|t| name.starts_with(t));
        let stories = kkachi::feed::parse_feed(&name, &bytes, None, chrono_tz::Asia::Seoul)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        out.extend(stories.into_iter().map(|s| (s, held)));
    }
    let dir = data().join("summaries/sci-news-sum-kr-50/data");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let sentences: Vec<&str> = v["sentences"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
            .unwrap_or_default();
        let story = Story {
            id: f.display().to_string(),
            feed: "sci-news".into(),
            title: v["title"].as_str().unwrap_or("").into(),
            url: String::new(),
            published: None,
            summary: String::new(),
            authors: Vec::new(),
            categories: Vec::new(),
            content: Some(sentences.join(". ")),
        };
        out.push((story, true));
    }
    out
}

/// The query of a name's rule: the term, quoted when it has several words.
pub fn query(english: &str) -> String {
    if english.contains(' ') {
        format!("\"{english}\"")
    } else {
        english.to_string()
    }
}

/// A sentence of Korean news with the spelling and a particle.
pub fn sentence(korean: &str) -> String {
    format!("지난달 {korean}의 발표 이후 업계가 촉각을 곤두세우고 있다")
}

#[derive(Debug)]
pub struct Report {
    /// (found, total) on the tuning half and on the held-back half.
    pub tune: (usize, usize),
    pub held: (usize, usize),
    /// Names not found: (english, its spellings, held back, kind).
    pub missed: Vec<(String, Vec<String>, bool, String)>,
    /// (rule's English name, story title, held-back half) of each false match on the
    /// background.
    pub false_matches: Vec<(String, String, bool)>,
    /// Labelled sentences that matched another name's rule: (rule, sentence).
    pub cross_matches: Vec<(String, String)>,
    /// Background stories in the (tuning, held-back) half.
    pub stories: (usize, usize),
    pub rules: usize,
}

impl Report {
    /// False matches per 10,000 stories per rule on the held-back (`true`) or tuning half.
    pub fn false_rate(&self, held: bool) -> f64 {
        let n = self.false_matches.iter().filter(|f| f.2 == held).count();
        let stories = if held { self.stories.1 } else { self.stories.0 };
        n as f64 * 10_000.0 / (stories * self.rules).max(1) as f64
    }

    pub fn held_coverage(&self) -> f64 {
        self.held.0 as f64 / self.held.1.max(1) as f64
    }

    pub fn tune_coverage(&self) -> f64 {
        self.tune.0 as f64 / self.tune.1.max(1) as f64
    }
}

/// The names the dictionary already knows (found with transliteration off): not counted, as
/// the set is meant to hold names the dictionary lacks.
pub fn in_dictionary(names: &[Name]) -> Vec<String> {
    let r = evaluate(names, &[], false);
    names
        .iter()
        .filter(|n| !r.missed.iter().any(|m| m.0 == n.english))
        .map(|n| n.english.clone())
        .collect()
}

/// Matches every name's rule against its labelled sentences and against the background.
pub fn evaluate(names: &[Name], stories: &[(Story, bool)], translit: bool) -> Report {
    let queries: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.english.clone(), query(&n.english)))
        .collect();
    let set = RuleSet::from_queries_with(
        queries.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        true,
        &[],
        translit,
    )
    .unwrap_or_else(|e| panic!("the names do not parse: {e:?}"));
    let mut report = Report {
        tune: (0, 0),
        held: (0, 0),
        missed: Vec::new(),
        false_matches: Vec::new(),
        cross_matches: Vec::new(),
        stories: (
            stories.iter().filter(|s| !s.1).count(),
            stories.iter().filter(|s| s.1).count(),
        ),
        rules: names.len(),
    };
    let mut matcher = set.matcher();
    for n in names {
        let mut found = false;
        for k in &n.korean {
            let text = sentence(k);
            let doc = Doc {
                feed: "",
                title: &text,
                summary: "",
                content: "",
            };
            for m in matcher.match_doc(&doc) {
                if m.rule == n.english {
                    found = true;
                } else {
                    report.cross_matches.push((m.rule.clone(), text.clone()));
                }
            }
        }
        let slot = if n.held {
            &mut report.held
        } else {
            &mut report.tune
        };
        slot.1 += 1;
        if found {
            slot.0 += 1;
        } else {
            report.missed.push((
                n.english.clone(),
                kkachi::rules::translit::spellings(&n.english.to_lowercase()),
                n.held,
                n.kind.clone(),
            ));
        }
    }
    for (s, held) in stories {
        let doc = kkachi::pipeline::doc(s);
        let all = format!("{} {} {}", s.title, s.summary, doc.content).to_lowercase();
        for m in matcher.match_doc(&doc) {
            // A story that names it in Latin letters is a true match, not the spellings' doing.
            if all.contains(&m.rule.to_lowercase()) {
                continue;
            }
            report
                .false_matches
                .push((m.rule.clone(), s.title.clone(), *held));
        }
    }
    report
}
