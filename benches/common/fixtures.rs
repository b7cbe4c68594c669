//! The real fixture feeds the benches read (`tests/data/feeds`), compiled in: every bench
//! measures the same texts. `REAL` are the full outlet feeds; `feeds.rs` adds a tiny EUC-KR one.

macro_rules! fixture {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/feeds/",
                $path
            )) as &[u8],
        )
    };
}

/// (path under tests/data/feeds, bytes): five Korean outlets of 2022-07-30 and three English.
pub const REAL: [(&str, &[u8]); 8] = [
    fixture!("ko/donga-2022-07-30.xml"),
    fixture!("ko/joongang-2022-07-30.xml"),
    fixture!("ko/kmib-2022-07-30.xml"),
    fixture!("ko/nocut-2022-07-30.xml"),
    fixture!("ko/pressian-2022-07-30.xml"),
    fixture!("en/techcrunch-2011.xml"),
    fixture!("en/huffpost-canada-2017.xml"),
    fixture!("en/reddit-worldnews-atom-2019.xml"),
];

/// A tiny EUC-KR feed with its charset declared (the decoder's odd case).
#[allow(dead_code)]
pub const EUC_KR_TINY: (&str, &[u8]) = fixture!("ko/euc-kr-declared-tiny.xml");
