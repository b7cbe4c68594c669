//! Folding: deciding that two stories are the same story (issue 14). Pure: no IO, no `.await`,
//! no global state. The caller assigns ids, stores the [`Print`]s and passes them back.
//!
//! API skeleton: the bodies are filled in by the following commits.

use std::fmt;

/// Goes into the store's tree names: bump when [`Print`] or its encoding changes.
pub const VERSION: u32 = 1;

/// A story's fold id, assigned by the caller (unique, > 0).
pub type Id = u64;

/// What folding is allowed to decide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Also fold the same event written up differently (off by default).
    pub events: bool,
}

/// What folding reads of a story.
#[derive(Clone, Copy, Debug)]
pub struct Doc<'a> {
    pub title: &'a str,
    /// Summary, lede or content.
    pub text: &'a str,
}

/// What folding keeps of a story: computed once, stored by the caller.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Print {
    shingles: Vec<u32>,
    bands: Vec<u64>,
    short: bool,
}

/// Why [`Print::decode`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl Print {
    pub fn of(_doc: &Doc) -> Print {
        Print::default()
    }
    pub fn encode(&self) -> Vec<u8> {
        vec![VERSION as u8]
    }
    pub fn decode(bytes: &[u8]) -> Result<Print, DecodeError> {
        match bytes.first() {
            Some(&v) if u32::from(v) == VERSION => Ok(Print::default()),
            _ => Err(DecodeError("not a fold print".into())),
        }
    }
    pub fn shingle_count(&self) -> usize {
        self.shingles.len()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Copy,
    Event,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Overlap {
    pub shared: usize,
    pub a: usize,
    pub b: usize,
    pub jaccard: f32,
    pub containment: f32,
    pub cosine: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub tier: Tier,
    pub overlap: Overlap,
}

/// Exact check of two prints (the new one first). None = not the same story.
pub fn verify(_new: &Print, _old: &Print, _settings: &Settings) -> Option<Verdict> {
    None
}

/// The in-memory LSH index of the stories in the window.
#[derive(Debug, Default)]
pub struct Index {
    settings: Settings,
    len: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub id: Id,
    pub cluster: Id,
    pub verdict: Verdict,
}

impl Index {
    pub fn new(settings: Settings) -> Index {
        Index { settings, len: 0 }
    }
    pub fn decide(&self, _print: &Print, _lookup: impl FnMut(Id) -> Option<Print>) -> Option<Join> {
        let _ = self.settings;
        None
    }
    pub fn candidates(&self, _print: &Print) -> Vec<Id> {
        Vec::new()
    }
    pub fn insert(&mut self, _id: Id, _cluster: Id, _at: i64, _print: &Print) {}
    pub fn cluster_of(&self, _id: Id) -> Option<Id> {
        None
    }
    pub fn prune(&mut self, _before: i64) -> usize {
        0
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn heap_bytes(&self) -> usize {
        0
    }
}

/// For `kkachi cluster --explain`: the shared shingles rendered as text where possible.
pub fn explain(_new: &Doc, _old: &Doc) -> String {
    String::new()
}
