//! The fold's own hashing: every value a [`super::Print`] stores comes from here, with the fixed
//! seeds below, so stored prints stay valid across restarts, platforms and crate upgrades.
//! Changing anything in this file changes stored prints: bump [`super::VERSION`] and update the
//! golden test.
//!
//! - `hash_chars(seed, cs)`: FNV-1a (64-bit offset basis xor `seed`, prime `0x100000001b3`) over
//!   the Unicode scalar values of `cs` (one step per `char`, not per byte), then the splitmix64
//!   finaliser ([`fmix64`]).
//! - MinHash: one-permutation MinHash with optimal densification over the 32-bit element
//!   hashes (see `minhash` below for the exact steps), 128 bins for copies, 64 for the lede's
//!   start and 32 for events.
//! - The lede sketch (stored in the print's head since version 2): the same MinHash, 64 bins
//!   with [`SEED_SKETCH`], each value cut to its low 8 bits (b-bit MinHash).
//! - A band key is the low 32 bits of `fmix64` chained over the band's rows:
//!   `h = fmix64(SEED_BAND ^ band)`, then for each row value `v`:
//!   `h = fmix64(h.wrapping_mul(FNV_PRIME) ^ v)` (version 1 stored all 64 bits; the index only
//!   ever compared the low 32).

/// Seed of the shingle hashes ("kkachi" + 01).
pub const SEED_SHINGLE: u64 = 0x6b6b_6163_6869_0001;
/// Seed of the number hashes.
pub const SEED_NUMBER: u64 = 0x6b6b_6163_6869_0002;
/// Seed of the word-token hashes (events tier).
pub const SEED_TOKEN: u64 = 0x6b6b_6163_6869_0003;
/// Seed of the copy MinHash (128 bins).
pub const SEED_MINHASH: u64 = 0x6b6b_6163_6869_0004;
/// Seed of the events MinHash (32 bins).
pub const SEED_EVENT_MINHASH: u64 = 0x6b6b_6163_6869_0005;
/// Seed of the copy band keys.
pub const SEED_BAND: u64 = 0x6b6b_6163_6869_0006;
/// Seed of the events band keys.
pub const SEED_EVENT_BAND: u64 = 0x6b6b_6163_6869_0007;
/// Seed of the lede-start MinHash (64 bins).
pub const SEED_PREFIX_MINHASH: u64 = 0x6b6b_6163_6869_0008;
/// Seed of the lede-start band keys.
pub const SEED_PREFIX_BAND: u64 = 0x6b6b_6163_6869_0009;

/// Seed of the lede sketch (64 bins of 8 bits).
pub const SEED_SKETCH: u64 = 0x6b6b_6163_6869_000a;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// MinHash bins of the copy tier, and its LSH layout: 32 bands of 4 rows.
pub const HASHES: usize = 128;
pub const BANDS: usize = 32;
pub const ROWS: usize = HASHES / BANDS;
/// MinHash bins of the events tier: 16 bands of 2 rows (looser: different write-ups share
/// fewer tokens than copies share shingles).
pub const EVENT_HASHES: usize = 32;
pub const EVENT_BANDS: usize = 16;
pub const EVENT_ROWS: usize = EVENT_HASHES / EVENT_BANDS;
/// MinHash bins over the first shingles of the lede (`super::PREFIX_SHINGLES`), and their
/// layout: 10 bands of 6 rows (the last 4 bins unused). Two ledes that start alike (a first
/// report and its roundup, a lede cut at ~120 chars) have a near-equal start however much one
/// adds: P(candidate) ≈ 0.95 at J = 0.8 of the starts, 0.08 at 0.45.
pub const PREFIX_HASHES: usize = 64;
pub const PREFIX_BANDS: usize = 10;
pub const PREFIX_ROWS: usize = 6;

/// Bins of the lede sketch ([`sketch`]).
pub const SKETCH_BINS: usize = 64;

/// The splitmix64 finaliser (Stafford's mix 13, as in `SplitMix64`).
pub const fn fmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over the chars' scalar values, seeded, then [`fmix64`].
pub fn hash_chars(seed: u64, cs: impl IntoIterator<Item = char>) -> u64 {
    let mut h = FNV_OFFSET ^ seed;
    for c in cs {
        h ^= u64::from(u32::from(c));
        h = h.wrapping_mul(FNV_PRIME);
    }
    fmix64(h)
}

/// The 32-bit hash of a shingle, number or token: the top half of [`hash_chars`].
pub fn hash32(seed: u64, cs: impl IntoIterator<Item = char>) -> u32 {
    (hash_chars(seed, cs) >> 32) as u32
}

/// One-permutation MinHash with optimal densification (Shrivastava, ICML 2017): each element
/// `x` is hashed once, `h = fmix64(seed ^ x)`; its bin is the top `log2 N` bits of `h`, its value
/// the low 32 bits, and each bin keeps its smallest value. An empty bin `i` takes the value of
/// the first non-empty bin `fmix64(seed ^ (i << 32 | attempt)) % N`, attempt = 1, 2, … Two sets
/// agree on a bin with probability equal to their Jaccard similarity, as with `N` independent
/// permutations, for one hash per element instead of `N`. An empty set gives all `u32::MAX`.
fn minhash<const N: usize>(seed: u64, set: &[u32]) -> [u32; N] {
    let shift = 64 - N.trailing_zeros();
    let mut mins = [u32::MAX; N];
    let mut filled = [false; N];
    for &x in set {
        let h = fmix64(seed ^ u64::from(x));
        let bin = (h >> shift) as usize;
        mins[bin] = mins[bin].min(h as u32);
        filled[bin] = true;
    }
    if set.is_empty() {
        return mins;
    }
    let mut out = mins;
    for i in 0..N {
        if filled[i] {
            continue;
        }
        let mut attempt = 1u64;
        loop {
            let j = (fmix64(seed ^ ((i as u64) << 32 | attempt)) % N as u64) as usize;
            if filled[j] {
                out[i] = mins[j];
                break;
            }
            attempt += 1;
        }
    }
    out
}

/// The first `B` band keys of `mins` (`rows` values each), each cut to its low 32 bits.
fn band_keys<const N: usize, const B: usize>(seed: u64, mins: &[u32; N], rows: usize) -> [u32; B] {
    let mut out = [0u32; B];
    for (band, (key, values)) in out.iter_mut().zip(mins.chunks(rows)).enumerate() {
        let mut h = fmix64(seed ^ band as u64);
        for &v in values {
            h = fmix64(h.wrapping_mul(FNV_PRIME) ^ u64::from(v));
        }
        *key = h as u32;
    }
    out
}

/// The copy tier's 32 band keys of a shingle set.
pub fn copy_bands(set: &[u32]) -> [u32; BANDS] {
    band_keys(SEED_BAND, &minhash::<HASHES>(SEED_MINHASH, set), ROWS)
}

/// The 10 lede-start band keys of the set of a lede's first shingles.
pub fn prefix_bands(set: &[u32]) -> [u32; PREFIX_BANDS] {
    band_keys(
        SEED_PREFIX_BAND,
        &minhash::<PREFIX_HASHES>(SEED_PREFIX_MINHASH, set),
        PREFIX_ROWS,
    )
}

/// The events tier's 16 band keys of a token set.
pub fn event_bands(set: &[u32]) -> [u32; EVENT_BANDS] {
    band_keys(
        SEED_EVENT_BAND,
        &minhash::<EVENT_HASHES>(SEED_EVENT_MINHASH, set),
        EVENT_ROWS,
    )
}

/// The lede sketch: 64 bins of one-permutation MinHash over `set`, each cut to its low 8 bits.
/// Two sets agree on a bin with probability J + (1 − J)/256 (J their Jaccard similarity).
pub fn sketch(set: &[u32]) -> [u8; SKETCH_BINS] {
    minhash::<SKETCH_BINS>(SEED_SKETCH, set).map(|v| v as u8)
}
