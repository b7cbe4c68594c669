//! The summaries `feed test --format json` prints for every fixture feed stay byte for byte
//! what `tests/data/summaries/golden/` holds (written before the summariser was made faster).

use crate::kkachi;
use crate::support::text;

#[test]
fn feed_test_summaries_match_the_golden_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let dir = tempfile::tempdir().expect("tempdir");
    // A config that does not exist: the defaults, whatever the working directory holds.
    let config = dir.path().join("none.toml");
    let mut checked = 0;
    for lang in ["ko", "en"] {
        let mut feeds: Vec<_> = std::fs::read_dir(root.join("feeds").join(lang))
            .expect("feeds")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        feeds.sort();
        for feed in feeds {
            let name = feed.file_stem().map(|s| s.to_string_lossy().into_owned());
            let golden = root.join(format!(
                "summaries/golden/{}.jsonl",
                name.unwrap_or_default()
            ));
            let want = std::fs::read_to_string(&golden)
                .unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
            let out = kkachi()
                .args(["feed", "test", "--format", "json", "--config"])
                .arg(&config)
                .arg(&feed)
                .output()
                .expect("run");
            assert!(out.status.success(), "{}", text(&out.stderr));
            let got: Vec<(String, String)> = text(&out.stdout)
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).expect("json line");
                    (v["id"].to_string(), v["summary"].to_string())
                })
                .collect();
            let want: Vec<(String, String)> = want
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).expect("golden line");
                    (v["id"].to_string(), v["summary"].to_string())
                })
                .collect();
            assert_eq!(got.len(), want.len(), "{}", feed.display());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{}", feed.display());
            }
            checked += got.len();
        }
    }
    assert!(checked >= 200, "only {checked} stories checked");
}
