//! Folding: deciding that two stories are the same story (issue 14). Pure: no IO, no `.await`,
//! no global mutable state (the word lists are read once into a read-only static). The caller
//! assigns ids, stores the [`Print`]s (through [`Print::encode`]) and passes them back to
//! [`Index::decide`]; the index keeps only a print's [`Keys`] (LSH band keys and a 64-byte
//! sketch of the lede), with which it rejects most candidates before asking for their print.
//! The keys lead the encoding, so a start-up rebuild reads them alone
//! ([`Print::decode_keys`]).
//!
//! How a story becomes a [`Print`]:
//! 1. Title and text are cleaned (module `normal`): NFKC, lowercase, bracket tags (`[속보]`,
//!    `[종합2보]`, `【…】`), datelines and bylines, footers, e-mail addresses and photo credits
//!    removed. Of the text, only the first [`LEDE_CHARS`] chars (after cleaning) are used.
//! 2. Shingles: for Korean text, syllable 3-grams over the letters and digits with whitespace
//!    and punctuation removed (particles attach to words, so word tokens change under small
//!    edits; syllable n-grams survive); for Latin text, character 5-grams over the words joined
//!    by single spaces. The title's and the lede's shingles are kept apart as well as together:
//!    the lede is the strong evidence, the title the weak one (outlets rewrite headlines).
//! 3. Number tokens (`14억`, `30일`, `3.5%`) from the title and the cleaned text window, and
//!    word tokens for the events tier (particles and stopwords removed).
//! 4. MinHash of the shingles (one-permutation, densified), 128 × u32, LSH 32 bands × 4 rows;
//!    MinHash of the lede's first [`PREFIX_SHINGLES`] shingles (in text order), 64 × u32, LSH
//!    10 bands × 6 rows; for the events tier, MinHash of the word tokens, 32 × u32, 16 bands ×
//!    2 rows. A story's candidates are the stories sharing a band of any set in use: the
//!    lede-start bands find a short first report inside its roundup, or a lede cut at ~120
//!    chars (containment 1.0, Jaccard 0.2–0.4 of the whole: the 32 × 4 bands rarely offer
//!    them), because the two ledes start alike.
//!
//! All hashing is our own with fixed seeds (module `hash` documents the functions and the
//! seeds), so stored prints survive restarts, platforms and crate upgrades; a golden test pins
//! exact values.
//!
//! Before [`verify`], with the events tier off, [`Index::decide`] drops a candidate whose lede
//! sketch (64 × 8 bits of MinHash over the lede shingles, stored in the print's head) agrees
//! with the new story's far less than any pair the copy rules accept would (`may_copy`, 4
//! standard deviations of margin): most candidates only share a lede's start or a template
//! phrase.
//!
//! [`verify`] decides exactly, on the stored sets:
//! - **copy**: lede Jaccard ≥ 0.5, or lede containment (shared / smaller) ≥ 0.7 with at least
//!   [`MIN_CONTAINED`] shingles on the smaller side (1보 ⊂ 종합). Short items (fewer than
//!   [`SHORT_TEXT`] lede shingles: title-only feeds) and photo items (templated captions) take the
//!   strict path instead: Jaccard of title ∪ lede ≥ [`STRICT_JACCARD`] with at least
//!   [`STRICT_SHARED`] shared shingles, and for photo items the titles' own shingles must agree
//!   too (Jaccard ≥ [`PHOTO_TITLE_JACCARD`]): photos of one event share the caption and differ
//!   in who is in the picture.
//! - **event** (only with [`Settings::events`]): weighted cosine of the word tokens ≥
//!   [`EVENT_COSINE`] with at least [`EVENT_STRONG`] shared strong tokens (names, numbers, long
//!   words), neither side short or a photo.
//! - never, whatever the overlap, when the numbers conflict: fewer than half of the numbers of
//!   the side with fewer numbers appear on the other side (two earnings reports from one
//!   template), or a title number that the other side lacks meets, in the other title, a number
//!   of the same unit that this side lacks (two days' COVID counts: `8만2천2명` / `7만3천589명`).

mod hash;
mod index;
mod normal;

use std::fmt;

pub use index::{Index, MAX_VERIFIED};

/// Goes into the store's tree names: bump when [`Print`] or its encoding changes.
pub const VERSION: u32 = 2;

/// A story's fold id, assigned by the caller (unique, > 0).
pub type Id = u64;

/// How many chars of the cleaned text are shingled.
pub const LEDE_CHARS: usize = 300;
/// Raw chars of the text read before cleaning (datelines and credits come off first).
const TEXT_WINDOW: usize = 700;
/// Fewer lede shingles than this: a short item (strict path).
pub const SHORT_TEXT: usize = 30;
/// Containment counts only with at least this many shingles on the smaller side.
pub const MIN_CONTAINED: usize = 30;
pub const COPY_JACCARD: f32 = 0.5;
pub const COPY_CONTAINMENT: f32 = 0.7;
pub const STRICT_JACCARD: f32 = 0.75;
pub const STRICT_SHARED: usize = 10;
/// Photo items: Jaccard of the title shingles (those not in the lede) they need as well.
pub const PHOTO_TITLE_JACCARD: f32 = 0.5;
pub const EVENT_COSINE: f32 = 0.45;
pub const EVENT_STRONG: usize = 4;
/// How many of the lede's first shingles (in text order) the lede-start bands cover.
pub const PREFIX_SHINGLES: usize = 40;
/// Fewer shingles than this: no band keys (the story is never a candidate: an empty or
/// one-word story would collide with every other one).
const MIN_BANDED: usize = 5;
/// Fewer word tokens than this: no events band keys.
const MIN_TOKENS: usize = 6;
/// Band keys of a print, at most (all three sets).
const MAX_KEYS: usize = hash::BANDS + hash::PREFIX_BANDS + hash::EVENT_BANDS;

const PARTICLES: &str = include_str!("particles.txt");
/// Sorted (bytewise), one per line; a test checks the order.
const STOPWORDS: &str = include_str!("stopwords.txt");

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
    /// Shingle hashes of title ∪ lede, sorted, deduplicated.
    shingles: Vec<u32>,
    /// The lede's shingle hashes (a subset of `shingles`), sorted, deduplicated.
    text: Vec<u32>,
    /// Number token hashes, sorted, deduplicated.
    numbers: Vec<u32>,
    /// The title's number tokens as rounded keys (see `rounded`), sorted, deduplicated.
    title_numbers: Vec<u32>,
    /// All number tokens (title and text) as rounded keys, sorted, deduplicated.
    rounded: Vec<u32>,
    /// Word token hashes for the events tier: the class in the top two bits (0 plain, 1 strong,
    /// 2 number), sorted, deduplicated.
    tokens: Vec<u32>,
    /// What the index keeps: band keys, lede sketch, lede size, strict path.
    keys: Keys,
    short: bool,
    photo: bool,
}

/// What the in-memory index keeps of a [`Print`], and all a start-up rebuild reads of a stored
/// one ([`Print::decode_keys`] reads only the head of the encoding): the band keys (the low 32
/// bits of each, which is what the index compares), the lede sketch, the lede's shingle count
/// and whether the story takes the strict path. No allocation: fixed arrays.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Keys {
    /// 32 copy band keys, when `sets & COPY_SET`.
    bands: [u32; hash::BANDS],
    /// 10 band keys of the lede's first [`PREFIX_SHINGLES`] shingles, when `sets & PREFIX_SET`.
    prefix_bands: [u32; hash::PREFIX_BANDS],
    /// 16 events band keys, when `sets & EVENT_SET`.
    event_bands: [u32; hash::EVENT_BANDS],
    /// Which band sets the print has (too few shingles or tokens: none of that set).
    sets: u8,
    /// The lede sketch (`hash::sketch` of the lede set): the index rejects most candidates
    /// with it before their print is looked up ([`may_copy`]).
    sketch: Sketch,
    /// Lede shingles, saturated.
    text_len: u16,
    /// Short or photo: the strict path, where [`may_copy`] does not apply.
    strict: bool,
}

const COPY_SET: u8 = 1;
const PREFIX_SET: u8 = 2;
const EVENT_SET: u8 = 4;

impl Keys {
    pub(crate) fn bands(&self) -> &[u32] {
        if self.sets & COPY_SET != 0 {
            &self.bands
        } else {
            &[]
        }
    }

    pub(crate) fn prefix_bands(&self) -> &[u32] {
        if self.sets & PREFIX_SET != 0 {
            &self.prefix_bands
        } else {
            &[]
        }
    }

    pub(crate) fn event_bands(&self) -> &[u32] {
        if self.sets & EVENT_SET != 0 {
            &self.event_bands
        } else {
            &[]
        }
    }

    pub(crate) fn sketch(&self) -> &Sketch {
        &self.sketch
    }

    /// Lede shingles (saturated at `u16::MAX`).
    pub(crate) fn text_len(&self) -> usize {
        usize::from(self.text_len)
    }

    /// The story takes the strict path (short or photo), where [`may_copy`] does not apply.
    pub(crate) fn is_strict(&self) -> bool {
        self.strict
    }
}

/// 64 bins of 8 bits of MinHash over a print's lede shingles (see `hash::sketch`). Aligned to
/// a cache line: the index reads one candidate's sketch with one memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(align(64))]
pub(crate) struct Sketch(pub(crate) [u8; hash::SKETCH_BINS]);

impl Default for Sketch {
    fn default() -> Sketch {
        Sketch([u8::MAX; hash::SKETCH_BINS])
    }
}

/// Why [`Print::decode`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fold print: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

const CLASS_PLAIN: u32 = 0;
const CLASS_STRONG: u32 = 1;
const CLASS_NUMBER: u32 = 2;

fn sort_dedup(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The union of two sorted, deduplicated sets, sorted and deduplicated.
fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The chars that are shingled, each with its char index in `s`: for Korean text the letters
/// and digits; for Latin text the letters and digits with one space between words.
fn stream(s: &str, korean: bool) -> Vec<(usize, char)> {
    let mut out = Vec::with_capacity(s.len());
    let mut gap = false;
    for (i, c) in s.chars().enumerate() {
        if normal::is_alnum(c) {
            if gap && !korean && !out.is_empty() {
                out.push((i, ' '));
            }
            gap = false;
            out.push((i, c));
        } else {
            gap = true;
        }
    }
    out
}

fn shingle_width(korean: bool) -> usize {
    if korean { 3 } else { 5 }
}

/// Shingle hashes of a stream, with the stream index each shingle starts at.
fn shingles_of(st: &[(usize, char)], korean: bool) -> Vec<(usize, u32)> {
    let k = shingle_width(korean);
    if st.is_empty() {
        return Vec::new();
    }
    if st.len() < k {
        return vec![(0, hash::hash32(hash::SEED_SHINGLE, st.iter().map(|p| p.1)))];
    }
    st.windows(k)
        .enumerate()
        .map(|(i, w)| (i, hash::hash32(hash::SEED_SHINGLE, w.iter().map(|p| p.1))))
        .collect()
}

/// The shingle hashes of `s` in text order: `shingles_of(&stream(s, korean), korean)` without
/// the positions, into `out`; `buf` is scratch.
fn shingle_hashes(s: &str, korean: bool, buf: &mut Vec<char>, out: &mut Vec<u32>) {
    buf.clear();
    let mut gap = false;
    for c in s.chars() {
        if normal::is_alnum(c) {
            if gap && !korean && !buf.is_empty() {
                buf.push(' ');
            }
            gap = false;
            buf.push(c);
        } else {
            gap = true;
        }
    }
    let k = shingle_width(korean);
    if buf.is_empty() {
        return;
    }
    if buf.len() < k {
        out.push(hash::hash32(hash::SEED_SHINGLE, buf.iter().copied()));
        return;
    }
    out.extend(
        buf.windows(k)
            .map(|w| hash::hash32(hash::SEED_SHINGLE, w.iter().copied())),
    );
}

fn is_korean(title: &str, lede: &str) -> bool {
    let (mut hangul, mut latin) = (0usize, 0usize);
    for s in [title, lede] {
        for c in s.chars() {
            if normal::is_hangul(c) {
                hangul += 1;
            } else if c.is_ascii() {
                latin += usize::from(c.is_ascii_alphabetic());
            } else if c.is_alphabetic() {
                latin += 1;
            }
        }
    }
    hangul > 0 && hangul * 4 >= latin
}

/// `particles`: (last char, particle), sorted by the last char.
fn strip_particle<'w>(word: &'w str, particles: &[(char, &str)]) -> &'w str {
    let Some(last) = word.chars().next_back() else {
        return word;
    };
    let from = particles.partition_point(|(c, _)| *c < last);
    let to = from + particles[from..].partition_point(|(c, _)| *c == last);
    if from == to {
        return word;
    }
    let len = word.chars().count();
    let mut best: Option<&str> = None;
    for &(_, p) in &particles[from..to] {
        if word.ends_with(p)
            && len - p.chars().count() >= 2
            && best.is_none_or(|b| p.len() > b.len())
        {
            best = Some(p);
        }
    }
    best.map_or(word, |p| &word[..word.len() - p.len()])
}

fn class_token(class: u32, h: u32) -> u32 {
    (h & 0x3FFF_FFFF) | (class << 30)
}

fn token(class: u32, s: &str) -> u32 {
    class_token(class, hash::hash32(hash::SEED_TOKEN, s.chars()))
}

/// The word lists in the form `tokens_of` reads them: the stopwords' token hashes (sorted) and
/// the particles as (last char, particle), sorted by the last char. Computed once, read-only
/// after.
struct Lists {
    stop: Vec<u32>,
    /// Bit `h % 1024` set for each stopword hash `h`: most words are looked up no further.
    stop_bits: [u64; 16],
    particles: Vec<(char, &'static str)>,
}

fn stop_bit(h: u32) -> (usize, u64) {
    ((h as usize >> 6) & 15, 1 << (h & 63))
}

static LISTS: std::sync::LazyLock<Lists> = std::sync::LazyLock::new(|| {
    let stop = sort_dedup(
        STOPWORDS
            .lines()
            .map(|w| hash::hash32(hash::SEED_TOKEN, w.chars()))
            .collect(),
    );
    let mut stop_bits = [0u64; 16];
    for &h in &stop {
        let (word, bit) = stop_bit(h);
        stop_bits[word] |= bit;
    }
    Lists {
        stop,
        stop_bits,
        particles: {
            let mut ps: Vec<(char, &str)> = PARTICLES
                .lines()
                .filter_map(|p| Some((p.chars().next_back()?, p)))
                .collect();
            ps.sort_by_key(|(c, _)| *c);
            ps
        },
    }
});

/// The word tokens of the texts (title and lede: as if joined by a space) and the numbers.
fn tokens_of(texts: [&str; 2], numbers: &[String]) -> Vec<u32> {
    let Lists {
        stop,
        stop_bits,
        particles,
    } = &*LISTS;
    let is_stop = |h: u32| {
        let (word, bit) = stop_bit(h);
        stop_bits[word] & bit != 0 && stop.binary_search(&h).is_ok()
    };
    let mut out = Vec::with_capacity(64 + numbers.len());
    let words = texts
        .into_iter()
        .flat_map(|s| s.split(|c: char| !normal::is_alnum(c)));
    for word in words {
        if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let hangul = word.chars().any(normal::is_hangul);
        let stem = if hangul {
            strip_particle(word, particles)
        } else {
            word
        };
        let mut len = 0;
        let h = hash::hash32(hash::SEED_TOKEN, stem.chars().inspect(|_| len += 1));
        if len < 2 || is_stop(h) {
            continue;
        }
        let strong = if hangul { len >= 3 } else { len >= 4 };
        out.push(class_token(
            if strong { CLASS_STRONG } else { CLASS_PLAIN },
            h,
        ));
    }
    out.extend(numbers.iter().map(|n| token(CLASS_NUMBER, n)));
    sort_dedup(out)
}

/// Computes [`Print`]s with scratch buffers reused from one story to the next (the cleaned
/// texts, the chars, the title's and the lede start's shingles, the number tokens):
/// [`Print::of`] with fewer allocations, for a caller that prints many stories. The same
/// prints as [`Print::of`].
#[derive(Debug, Default)]
pub struct Printer {
    chars: Vec<char>,
    drop: Vec<bool>,
    title: String,
    body: String,
    buf: Vec<char>,
    title_sh: Vec<u32>,
    start: Vec<u32>,
    nums: Vec<String>,
}

impl Printer {
    pub fn new() -> Printer {
        Printer::default()
    }

    /// The print of `doc` (what [`Print::of`] returns).
    pub fn print(&mut self, doc: &Doc) -> Print {
        let Printer {
            chars,
            drop,
            title,
            body,
            buf,
            title_sh,
            start,
            nums,
        } = self;
        // The title is counted whole, the text's first LEDE_CHARS chars (the lede).
        let title_marks = normal::clean_into(doc.title, LEDE_CHARS, usize::MAX, chars, drop, title);
        let body_marks = normal::clean_into(doc.text, TEXT_WINDOW, LEDE_CHARS, chars, drop, body);
        let lede = &body[..body_marks.lede_len];
        // `is_korean(title, lede)`, from the counts the cleaning took.
        let hangul = title_marks.hangul + body_marks.hangul;
        let korean = hangul > 0 && hangul * 4 >= title_marks.latin + body_marks.latin;
        let mut lede_sh = Vec::with_capacity(lede.len());
        shingle_hashes(lede, korean, buf, &mut lede_sh);
        start.clear();
        start.extend_from_slice(&lede_sh[..lede_sh.len().min(PREFIX_SHINGLES)]);
        start.sort_unstable();
        start.dedup();
        let text = sort_dedup(lede_sh);
        title_sh.clear();
        shingle_hashes(title, korean, buf, title_sh);
        title_sh.sort_unstable();
        title_sh.dedup();
        let shingles = union(title_sh, &text);
        let mut used = 0;
        normal::numbers_into(title, nums, &mut used);
        let title_numbers = sort_dedup(nums[..used].iter().map(|n| rounded(n)).collect());
        normal::numbers_into(body, nums, &mut used);
        let nums = &nums[..used];
        let rounded = sort_dedup(nums.iter().map(|n| rounded(n)).collect());
        let numbers = sort_dedup(
            nums.iter()
                .map(|n| hash::hash32(hash::SEED_NUMBER, n.chars()))
                .collect(),
        );
        let tokens = tokens_of([title, lede], nums);
        let short = text.len() < SHORT_TEXT;
        let lede_chars = body_marks.lede_chars;
        let dated = nums.iter().any(|n| n.matches('.').count() == 2);
        let photo = title_marks.photo_marker
            || (lede_chars < 200 && (body_marks.photo_marker || (body_marks.mail && dated)));
        let mut keys = Keys {
            sketch: Sketch(hash::sketch(&text)),
            text_len: text.len().min(usize::from(u16::MAX)) as u16,
            strict: short || photo,
            ..Keys::default()
        };
        if shingles.len() >= MIN_BANDED {
            keys.bands = hash::copy_bands(&shingles);
            keys.sets |= COPY_SET;
        }
        if start.len() >= MIN_BANDED {
            keys.prefix_bands = hash::prefix_bands(start);
            keys.sets |= PREFIX_SET;
        }
        if tokens.len() >= MIN_TOKENS {
            keys.event_bands = hash::event_bands(&tokens);
            keys.sets |= EVENT_SET;
        }
        Print {
            shingles,
            text,
            numbers,
            title_numbers,
            rounded,
            tokens,
            keys,
            short,
            photo,
        }
    }
}

impl Print {
    /// The print of `doc` (see the module's steps); [`Printer`] reuses its buffers.
    pub fn of(doc: &Doc) -> Print {
        Printer::new().print(doc)
    }

    /// The head, which is all [`Print::decode_keys`] reads: version byte, flags, the lede
    /// sketch (64 bytes), the lede's shingle count (varint) and the band keys present (u32
    /// little-endian: copy, events, lede-start). Then the sets as delta varints, the lede as a
    /// bitmap over the shingles.
    pub fn encode(&self) -> Vec<u8> {
        let k = &self.keys;
        let mut out = Vec::with_capacity(80 + self.shingles.len() * 3 + 4 * MAX_KEYS);
        out.push(VERSION as u8);
        let flags = u8::from(self.short)
            | u8::from(self.photo) << 1
            | u8::from(k.sets & COPY_SET != 0) << 2
            | u8::from(k.sets & EVENT_SET != 0) << 3
            | u8::from(k.sets & PREFIX_SET != 0) << 4;
        out.push(flags);
        out.extend_from_slice(&k.sketch.0);
        put_varint(&mut out, self.text.len() as u32);
        for key in k
            .bands()
            .iter()
            .chain(k.event_bands())
            .chain(k.prefix_bands())
        {
            out.extend_from_slice(&key.to_le_bytes());
        }
        put_set(&mut out, &self.shingles);
        let mut bits = vec![0u8; self.shingles.len().div_ceil(8)];
        let mut t = self.text.iter().peekable();
        for (i, s) in self.shingles.iter().enumerate() {
            if t.peek() == Some(&s) {
                bits[i / 8] |= 1 << (i % 8);
                t.next();
            }
        }
        out.extend_from_slice(&bits);
        put_set(&mut out, &self.numbers);
        put_set(&mut out, &self.title_numbers);
        put_set(&mut out, &self.rounded);
        put_set(&mut out, &self.tokens);
        out
    }

    /// The [`Keys`] of an encoded print, from its head alone (the sets after it are not read,
    /// so a damaged tail shows only when the whole print is decoded).
    pub fn decode_keys(bytes: &[u8]) -> Result<Keys, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        Ok(Self::head(&mut r)?.0)
    }

    /// Reads the head: the keys, the flags and the lede's shingle count as stored.
    fn head(r: &mut Reader<'_>) -> Result<(Keys, u8, usize), DecodeError> {
        let version = r.byte("version")?;
        if u32::from(version) != VERSION {
            return Err(DecodeError(format!(
                "version {version}, this build reads version {VERSION}"
            )));
        }
        let flags = r.byte("flags")?;
        if flags & !0b1_1111 != 0 {
            return Err(DecodeError(format!("unknown flags {flags:#04x}")));
        }
        let mut keys = Keys {
            strict: flags & 3 != 0,
            ..Keys::default()
        };
        keys.sketch
            .0
            .copy_from_slice(r.take(hash::SKETCH_BINS, "lede sketch")?);
        let text_len = r.varint("lede size")? as usize;
        keys.text_len = text_len.min(usize::from(u16::MAX)) as u16;
        let mut fill = |out: &mut [u32], what: &str| -> Result<(), DecodeError> {
            let b = r.take(4 * out.len(), what)?;
            for (k, b) in out.iter_mut().zip(b.chunks_exact(4)) {
                *k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            Ok(())
        };
        if flags & 4 != 0 {
            fill(&mut keys.bands, "bands")?;
            keys.sets |= COPY_SET;
        }
        if flags & 8 != 0 {
            fill(&mut keys.event_bands, "event bands")?;
            keys.sets |= EVENT_SET;
        }
        if flags & 16 != 0 {
            fill(&mut keys.prefix_bands, "lede-start bands")?;
            keys.sets |= PREFIX_SET;
        }
        Ok((keys, flags, text_len))
    }

    pub fn decode(bytes: &[u8]) -> Result<Print, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        let (keys, flags, text_len) = Self::head(&mut r)?;
        let shingles = r.set("shingles")?;
        let bits = r.take(shingles.len().div_ceil(8), "lede bitmap")?;
        let text: Vec<u32> = shingles
            .iter()
            .enumerate()
            .filter(|(i, _)| bits[i / 8] & (1 << (i % 8)) != 0)
            .map(|(_, s)| *s)
            .collect();
        if text.len() != text_len {
            return Err(DecodeError(format!(
                "lede bitmap: {} shingles, the head says {text_len}",
                text.len()
            )));
        }
        let numbers = r.set("numbers")?;
        let title_numbers = r.set("title numbers")?;
        let rounded = r.set("rounded numbers")?;
        let tokens = r.set("tokens")?;
        if r.at != bytes.len() {
            return Err(DecodeError(format!(
                "{} bytes after the end at offset {}",
                bytes.len() - r.at,
                r.at
            )));
        }
        Ok(Print {
            shingles,
            text,
            numbers,
            title_numbers,
            rounded,
            tokens,
            keys,
            short: flags & 1 != 0,
            photo: flags & 2 != 0,
        })
    }

    /// What the index keeps of this print.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn shingle_count(&self) -> usize {
        self.shingles.len()
    }

    /// The story has too little lede to fold on anything but a near-exact match.
    pub fn is_short(&self) -> bool {
        self.short
    }

    /// The story looks like a photo item (caption template).
    pub fn is_photo(&self) -> bool {
        self.photo
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_set(out: &mut Vec<u8>, set: &[u32]) {
    put_varint(out, set.len() as u32);
    let mut prev = 0u32;
    for (i, &v) in set.iter().enumerate() {
        put_varint(out, if i == 0 { v } else { v - prev });
        prev = v;
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, what: &str, why: &str) -> DecodeError {
        DecodeError(format!("{what} at offset {}: {why}", self.at))
    }
    fn byte(&mut self, what: &str) -> Result<u8, DecodeError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.err(what, "unexpected end"))?;
        self.at += 1;
        Ok(b)
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| self.err(what, "unexpected end"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn varint(&mut self, what: &str) -> Result<u32, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte(what)?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(v).map_err(|_| self.err(what, "varint overflows u32"));
            }
        }
        Err(self.err(what, "varint longer than 5 bytes"))
    }
    fn set(&mut self, what: &str) -> Result<Vec<u32>, DecodeError> {
        let n = self.varint(what)? as usize;
        if n > self.bytes.len() - self.at {
            return Err(self.err(what, &format!("{n} values cannot fit")));
        }
        let mut out = Vec::with_capacity(n);
        let mut prev = 0u32;
        for i in 0..n {
            let d = self.varint(what)?;
            let v = if i == 0 {
                d
            } else if d == 0 {
                return Err(self.err(what, "values not strictly increasing"));
            } else {
                prev.checked_add(d)
                    .ok_or_else(|| self.err(what, "value overflows u32"))?
            };
            out.push(v);
            prev = v;
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// The same text reused (wire copy, repost, 1보 → 종합).
    Copy,
    /// The same event, written up differently (only with [`Settings::events`]).
    Event,
}

/// How much two prints share.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Overlap {
    /// Shingles in both sets.
    pub shared: usize,
    /// Shingles of the new story's set.
    pub a: usize,
    /// Shingles of the old story's set.
    pub b: usize,
    /// shared / |a ∪ b|.
    pub jaccard: f32,
    /// shared / min(a, b).
    pub containment: f32,
    /// Weighted cosine of the word tokens (computed only for the events tier, else 0).
    pub cosine: f32,
    /// Strong word tokens (names, numbers, long words) in both (events tier, else 0).
    pub strong: usize,
}

/// Which set an [`Overlap`] was computed on is implied by the path: the lede for a normal copy,
/// title ∪ lede for the strict path and for events.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub tier: Tier,
    pub overlap: Overlap,
}

impl Verdict {
    /// How strong the match is, for choosing among candidates: a copy beats an event, then the
    /// higher of Jaccard and containment (copies) or the cosine (events).
    fn score(&self) -> (u8, f32) {
        match self.tier {
            Tier::Copy => (1, self.overlap.jaccard.max(self.overlap.containment)),
            Tier::Event => (0, self.overlap.cosine),
        }
    }
}

fn intersect(a: &[u32], b: &[u32]) -> usize {
    // Branch-free steps: which side advances is data, not a jump (a merge of two random sets
    // mispredicts a branch on every other element).
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        n += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    n
}

/// Whether two sorted sets share at least `need` elements (`intersect(a, b) >= need`): the merge
/// stops as soon as the elements left cannot make up the difference (most candidates are far
/// from a copy), checked every 16 steps.
fn can_share(a: &[u32], b: &[u32], need: usize) -> bool {
    let (mut i, mut j, mut n) = (0, 0, 0);
    loop {
        if n >= need {
            return true;
        }
        if n + (a.len() - i).min(b.len() - j) < need {
            return false;
        }
        for _ in 0..16 {
            if i >= a.len() || j >= b.len() {
                return n >= need;
            }
            let (x, y) = (a[i], b[j]);
            n += usize::from(x == y);
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
    }
}

/// `a` without the elements of `b` (both sorted).
fn minus(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            out.push(x);
        }
    }
    out
}

fn overlap(a: &[u32], b: &[u32]) -> Overlap {
    let shared = intersect(a, b);
    let union = a.len() + b.len() - shared;
    let small = a.len().min(b.len());
    Overlap {
        shared,
        a: a.len(),
        b: b.len(),
        jaccard: if union == 0 {
            0.0
        } else {
            shared as f32 / union as f32
        },
        containment: if small == 0 {
            0.0
        } else {
            shared as f32 / small as f32
        },
        cosine: 0.0,
        strong: 0,
    }
}

/// A number token's rounded key, as headlines round: the integer part and the unit, the first
/// char after the digits (`66.1%` and `66%` → `66%`; `8만` of `8만2천`, `282명`; no unit for a
/// bare number). The unit's hash is the top 8 bits, the rest hashes the integer part with it.
fn rounded(n: &str) -> u32 {
    let int = n.chars().take_while(char::is_ascii_digit);
    let unit = n.chars().find(|c| !c.is_ascii_digit() && *c != '.');
    let u = hash::hash32(hash::SEED_NUMBER, unit) >> 24;
    let v = hash::hash32(hash::SEED_NUMBER, int.chain(unit)) >> 8;
    u << 24 | v
}

/// The numbers conflict when fewer than half of the numbers of the side with fewer numbers
/// appear on the other side (two earnings reports from one template), or when a title number
/// missing from the other side meets, in the other title, a number of the same unit missing
/// from this side (compared rounded: `66%` is `66.1%`) (`신규확진 8만2천2명` / `신규확진 7만3천589명`: two days' counts).
fn numbers_conflict(a: &Print, b: &Print) -> bool {
    let fewer = a.numbers.len().min(b.numbers.len());
    if fewer > 0 && intersect(&a.numbers, &b.numbers) * 2 < fewer {
        return true;
    }
    a.title_numbers.iter().any(|&x| {
        b.rounded.binary_search(&x).is_err()
            && b.title_numbers
                .iter()
                .any(|&y| y >> 24 == x >> 24 && a.rounded.binary_search(&y).is_err())
    })
}

fn weight2(t: u32) -> f32 {
    match t >> 30 {
        CLASS_PLAIN => 1.0,
        _ => 4.0,
    }
}

/// Weighted cosine of two token sets, and how many strong tokens they share.
fn cosine(a: &[u32], b: &[u32]) -> (f32, usize) {
    let norm = |s: &[u32]| s.iter().map(|t| weight2(*t)).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        return (0.0, 0);
    }
    let (mut i, mut j, mut dot, mut strong) = (0, 0, 0.0f32, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += weight2(a[i]);
                strong += usize::from(a[i] >> 30 != CLASS_PLAIN);
                i += 1;
                j += 1;
            }
        }
    }
    (dot / (na * nb), strong)
}

/// How far below the expected agreement (in standard deviations) the sketches of a pair that
/// just meets a copy rule may fall before [`may_copy`] rules it out: P(a copy is ruled out)
/// < 10⁻⁴ at the boundary, less above it.
const SKETCH_SIGMAS: f32 = 4.0;

/// How many bins of two sketches are equal: the zero bytes of their xor, 8 at a time (a byte's
/// high bit is set in `z` when the byte is 0: its low 7 bits plus 0x7f carry into bit 7 unless
/// they are 0).
fn agreeing(a: &Sketch, b: &Sketch) -> u32 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    a.0.chunks_exact(8)
        .zip(b.0.chunks_exact(8))
        .map(|(x, y)| {
            let x = u64::from_le_bytes(x.try_into().unwrap_or_default());
            let y = u64::from_le_bytes(y.try_into().unwrap_or_default());
            let d = x ^ y;
            let z = !(((d & LOW) + LOW) | d | LOW);
            z.count_ones()
        })
        .sum()
}

/// Whether two stories on the normal path (neither short nor photo) can be copies by the lede
/// rules of [`verify`], judged from their lede sketches and set sizes alone: false only when the
/// bins that agree are far fewer than a pair with the least Jaccard similarity either rule
/// accepts would show (J ≥ [`COPY_JACCARD`]; containment ≥ [`COPY_CONTAINMENT`] means
/// J ≥ 0.7m / (a + b − 0.7m), m the smaller side). The spread is that of a binomial over at
/// most `min(a, b)` bins (a small set fills fewer bins and densification repeats them), so a
/// pair near a rule is never ruled out, while a candidate that only shares a lede's start or a
/// template phrase (J ≈ 0.1) almost always is. Not for the events tier.
pub(crate) fn may_copy(a: (&Sketch, usize), b: (&Sketch, usize)) -> bool {
    let (na, nb) = (a.1 as f32, b.1 as f32);
    let small = na.min(nb);
    let mut j = COPY_JACCARD;
    if a.1.min(b.1) >= MIN_CONTAINED {
        let s = COPY_CONTAINMENT * small;
        j = j.min(s / (na + nb - s));
    }
    let p = j + (1.0 - j) / 256.0;
    let bins = hash::SKETCH_BINS as f32;
    let spread = (p * (1.0 - p) / small.clamp(1.0, bins)).sqrt();
    let floor = bins * (p - SKETCH_SIGMAS * spread);
    let agree = agreeing(a.0, b.0);
    agree as f32 >= floor
}

/// Exact check of two prints (the new one first). None = not the same story.
pub fn verify(new: &Print, old: &Print, settings: &Settings) -> Option<Verdict> {
    if new.shingles.is_empty() || old.shingles.is_empty() {
        return None;
    }
    if numbers_conflict(new, old) {
        return None;
    }
    let strict = new.short || old.short || new.photo || old.photo;
    if strict {
        // Jaccard ≥ 0.75 needs 3/7 of a + b shared (less one for rounding): below it the exact
        // overlap is not worth computing.
        let need = (3 * (new.shingles.len() + old.shingles.len()) / 7).max(STRICT_SHARED);
        if !can_share(&new.shingles, &old.shingles, need.saturating_sub(1)) {
            return None;
        }
        let all = overlap(&new.shingles, &old.shingles);
        // Photo items of one event share the caption and differ in the title (who is in the
        // picture): their titles must agree too.
        let titles_agree = || {
            !(new.photo || old.photo) || {
                let (ta, tb) = (
                    minus(&new.shingles, &new.text),
                    minus(&old.shingles, &old.text),
                );
                ta.is_empty() || tb.is_empty() || overlap(&ta, &tb).jaccard >= PHOTO_TITLE_JACCARD
            }
        };
        if all.jaccard >= STRICT_JACCARD && all.shared >= STRICT_SHARED && titles_agree() {
            return Some(Verdict {
                tier: Tier::Copy,
                overlap: all,
            });
        }
        return None;
    }
    // The fewest shared lede shingles either copy rule could accept (Jaccard ≥ 0.5 needs a
    // third of a + b; containment 0.7 of the smaller side), less one for rounding: below it
    // the exact overlap is not worth computing.
    let (na, nb) = (new.text.len(), old.text.len());
    let mut need = (na + nb) / 3;
    if na.min(nb) >= MIN_CONTAINED {
        need = need.min(na.min(nb) * 7 / 10);
    }
    let lede = if can_share(&new.text, &old.text, need.saturating_sub(1)) {
        overlap(&new.text, &old.text)
    } else {
        Overlap::default()
    };
    if lede.jaccard >= COPY_JACCARD
        || (lede.containment >= COPY_CONTAINMENT && lede.a.min(lede.b) >= MIN_CONTAINED)
    {
        return Some(Verdict {
            tier: Tier::Copy,
            overlap: lede,
        });
    }
    if settings.events && new.tokens.len() >= MIN_TOKENS && old.tokens.len() >= MIN_TOKENS {
        let (cos, strong) = cosine(&new.tokens, &old.tokens);
        if cos >= EVENT_COSINE && strong >= EVENT_STRONG {
            let mut all = overlap(&new.shingles, &old.shingles);
            all.cosine = cos;
            all.strong = strong;
            return Some(Verdict {
                tier: Tier::Event,
                overlap: all,
            });
        }
    }
    None
}

/// A story the new one folds into.
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    /// The story it matched.
    pub id: Id,
    /// That story's cluster (the id of the cluster's first story).
    pub cluster: Id,
    pub verdict: Verdict,
}

/// For `kkachi cluster --explain`: the verdict, the overlap numbers and the shared shingles of
/// the new story rendered as text (runs of its cleaned title and lede, joined by ` … `).
pub fn explain(new: &Doc, old: &Doc) -> String {
    let (pn, po) = (Print::of(new), Print::of(old));
    let verdict = verify(&pn, &po, &Settings { events: true });
    let all = overlap(&pn.shingles, &po.shingles);
    let lede = overlap(&pn.text, &po.text);
    let (cos, strong) = cosine(&pn.tokens, &po.tokens);
    let mut out = format!(
        "verdict: {}; lede: shared {} of {}/{}, jaccard {:.2}, containment {:.2}; \
         title+lede: shared {} of {}/{}, jaccard {:.2}; numbers: {} of {}/{}{}; \
         tokens: cosine {:.2}, strong shared {}{}{}",
        match &verdict {
            Some(v) if v.tier == Tier::Copy => "copy",
            Some(_) => "same event (only with events = true)",
            None => "different",
        },
        lede.shared,
        lede.a,
        lede.b,
        lede.jaccard,
        lede.containment,
        all.shared,
        all.a,
        all.b,
        all.jaccard,
        intersect(&pn.numbers, &po.numbers),
        pn.numbers.len(),
        po.numbers.len(),
        if numbers_conflict(&pn, &po) {
            " (conflict)"
        } else {
            ""
        },
        cos,
        strong,
        if pn.short || po.short { "; short" } else { "" },
        if pn.photo || po.photo { "; photo" } else { "" },
    );
    let title = normal::clean(new.title, LEDE_CHARS);
    let body = normal::clean(new.text, TEXT_WINDOW);
    let lede_text = normal::prefix(&body.text, LEDE_CHARS);
    let korean = is_korean(&title.text, lede_text);
    let mut runs = Vec::new();
    for s in [title.text.as_str(), lede_text] {
        let chars: Vec<char> = s.chars().collect();
        let st = stream(s, korean);
        let mut covered = vec![false; chars.len()];
        let k = shingle_width(korean).min(st.len());
        for (at, h) in shingles_of(&st, korean) {
            if po.shingles.binary_search(&h).is_ok() {
                for c in &mut covered[st[at].0..=st[at + k - 1].0] {
                    *c = true;
                }
            }
        }
        let mut run = String::new();
        for (c, cov) in chars.iter().zip(&covered) {
            if *cov {
                run.push(*c);
            } else if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
    }
    runs.retain(|r| r.trim().chars().count() >= 3);
    out.push_str("\nshared: ");
    out.push_str(&runs.join(" … "));
    out
}

#[cfg(test)]
mod tests;
