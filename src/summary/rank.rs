//! Sentence ranking: a LexRank-style centrality (TF-IDF cosine similarity, PageRank) whose
//! random jumps favour early sentences and sentences close to the title. Pure and
//! deterministic.
//!
//! Owns tokenisation for ranking and the scores. It must not choose sentences or know about
//! the length budget (that is `mod.rs`).

/// How sentences become tokens for similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tokens {
    /// Hangul words as character bigrams (`지카바이러스가` → 지카, 카바, …, 스가); other words
    /// whole, lower-cased. No dictionary, robust to particles and compounds.
    #[default]
    Bigrams,
    /// Whole words (eojeol) with common Korean particles stripped from the end
    /// (`기업들과의` → `기업`); other words lower-cased.
    Eojeol,
}

/// Ranking parameters; [`Default`] is what kkachi uses (chosen on sci-news-sum-kr-50, see
/// BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rank {
    pub tokens: Tokens,
    /// Weight of position in the random jump: sentence `i` gets `1 / (i + 1)^lead`. 0 = none.
    pub lead: f64,
    /// Weight of similarity to the title in the random jump.
    pub title: f64,
    /// PageRank damping (probability of following a similarity edge).
    pub damping: f64,
}

impl Default for Rank {
    fn default() -> Self {
        Self {
            tokens: Tokens::Bigrams,
            lead: 1.0,
            title: 1.0,
            damping: 0.85,
        }
    }
}

/// A sparse token vector: sorted by token, weights already TF-IDF and L2-normalised.
type Vector = Vec<(u64, f64)>;

/// Scores of `sentences` (higher is more central), one per sentence, summing to 1.
pub fn scores(sentences: &[&str], title: &str, rank: &Rank) -> Vec<f64> {
    let n = sentences.len();
    if n == 0 {
        return Vec::new();
    }
    let mut counts: Vec<Vec<(u64, f64)>> = sentences
        .iter()
        .map(|s| term_counts(s, rank.tokens))
        .collect();
    let title_counts = term_counts(title, rank.tokens);
    // Document frequency over the sentences.
    let mut df: Vec<u64> = counts
        .iter()
        .flat_map(|c| c.iter().map(|&(t, _)| t))
        .collect();
    df.sort_unstable();
    let idf = |t: u64| {
        let lo = df.partition_point(|&x| x < t);
        let hi = df.partition_point(|&x| x <= t);
        let d = (hi - lo).max(1) as f64;
        (1.0 + n as f64 / d).ln()
    };
    let vectors: Vec<Vector> = counts.iter_mut().map(|c| weigh(c, &idf)).collect();
    let title_vec = weigh(&mut title_counts.clone(), &idf);

    // Jump distribution: lead bias × (1 + title similarity).
    let mut jump: Vec<f64> = (0..n)
        .map(|i| {
            let lead = 1.0 / ((i + 1) as f64).powf(rank.lead);
            lead * (1.0 + rank.title * cosine(&vectors[i], &title_vec))
        })
        .collect();
    normalise(&mut jump);

    // Row-normalised similarity matrix (no self-loops).
    let mut sim = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let s = cosine(&vectors[i], &vectors[j]);
            sim[i * n + j] = s;
            sim[j * n + i] = s;
        }
    }
    let row_sums: Vec<f64> = (0..n)
        .map(|i| sim[i * n..(i + 1) * n].iter().sum())
        .collect();

    let mut r = jump.clone();
    let mut next = vec![0.0; n];
    for _ in 0..50 {
        for (j, slot) in next.iter_mut().enumerate() {
            *slot = (1.0 - rank.damping) * jump[j];
        }
        for i in 0..n {
            if row_sums[i] > 0.0 {
                let share = rank.damping * r[i] / row_sums[i];
                for j in 0..n {
                    next[j] += share * sim[i * n + j];
                }
            } else {
                // A sentence sharing nothing with the others jumps.
                for j in 0..n {
                    next[j] += rank.damping * r[i] * jump[j];
                }
            }
        }
        let delta: f64 = r.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut r, &mut next);
        if delta < 1e-9 {
            break;
        }
    }
    r
}

/// Cosine similarity of two sentences under `tokens` (for redundancy checks).
pub fn similarity(a: &str, b: &str, tokens: Tokens) -> f64 {
    let one = |_: u64| 1.0;
    let va = weigh(&mut term_counts(a, tokens), &one);
    let vb = weigh(&mut term_counts(b, tokens), &one);
    cosine(&va, &vb)
}

fn normalise(v: &mut [f64]) {
    let sum: f64 = v.iter().sum();
    if sum > 0.0 {
        v.iter_mut().for_each(|x| *x /= sum);
    }
}

/// Log-scaled TF × IDF, L2-normalised.
fn weigh(counts: &mut [(u64, f64)], idf: &dyn Fn(u64) -> f64) -> Vector {
    let mut v: Vector = counts
        .iter()
        .map(|&(t, c)| (t, (1.0 + c.ln()) * idf(t)))
        .collect();
    let norm = v.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, w)| *w /= norm);
    }
    v
}

fn cosine(a: &Vector, b: &Vector) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

/// Sorted (token, count) pairs of `s`.
fn term_counts(s: &str, tokens: Tokens) -> Vec<(u64, f64)> {
    let mut ids = Vec::new();
    for word in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let hangul = word.chars().any(super::split::is_hangul);
        match (hangul, tokens) {
            (true, Tokens::Bigrams) => {
                let mut prev: Option<char> = None;
                let mut count = 0;
                for c in word.chars() {
                    if let Some(p) = prev {
                        ids.push(((p as u64) << 32) | c as u64);
                    }
                    prev = Some(c);
                    count += 1;
                }
                if count == 1
                    && let Some(c) = prev
                {
                    ids.push(c as u64);
                }
            }
            (true, Tokens::Eojeol) => {
                let stem = strip_particle(word);
                if !STOPWORDS.contains(&stem) {
                    ids.push(hash(stem) | 1 << 63);
                }
            }
            (false, _) => {
                if word.chars().count() >= 2 || word.chars().all(|c| c.is_ascii_digit()) {
                    ids.push(hash(&word.to_lowercase()) | 1 << 63);
                }
            }
        }
    }
    ids.sort_unstable();
    let mut out: Vec<(u64, f64)> = Vec::with_capacity(ids.len());
    for id in ids {
        match out.last_mut() {
            Some((t, c)) if *t == id => *c += 1.0,
            _ => out.push((id, 1.0)),
        }
    }
    out
}

/// Korean particles and endings stripped from the end of a word, longest first.
const PARTICLES: &[&str] = &[
    "으로부터",
    "에서부터",
    "에게서",
    "으로서",
    "으로써",
    "에서는",
    "에서도",
    "에게는",
    "이라는",
    "이라고",
    "라는",
    "라고",
    "으로",
    "에서",
    "에게",
    "까지",
    "부터",
    "보다",
    "처럼",
    "만큼",
    "과의",
    "와의",
    "에는",
    "에도",
    "이나",
    "이며",
    "이다",
    "들의",
    "들은",
    "들이",
    "들을",
    "들과",
    "로서",
    "로써",
    "하고",
    "의",
    "가",
    "이",
    "은",
    "는",
    "을",
    "를",
    "에",
    "와",
    "과",
    "도",
    "로",
    "만",
    "께",
    "들",
];

/// Words that carry no topic (after particle stripping).
const STOPWORDS: &[&str] = &[
    "것",
    "수",
    "등",
    "및",
    "또",
    "더",
    "그",
    "이",
    "저",
    "있다",
    "했다",
    "밝혔다",
    "말했다",
    "위해",
    "대한",
    "통해",
];

fn strip_particle(word: &str) -> &str {
    for p in PARTICLES {
        if let Some(stem) = word.strip_suffix(p)
            && stem.chars().count() >= 1
        {
            return stem;
        }
    }
    word
}

/// FNV-1a: stable, fast, good enough for in-memory token ids (never persisted).
fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_sum_to_one_and_favour_the_centre() {
        let s = [
            "애플이 새 아이폰을 공개했다.",
            "새 아이폰은 카메라가 좋아졌다.",
            "날씨가 맑았다.",
            "애플 아이폰 가격은 올랐다.",
        ];
        let r = scores(&s, "애플, 새 아이폰 공개", &Rank::default());
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        assert!(r[2] < r[0] && r[2] < r[3], "{r:?}");
    }

    #[test]
    fn particles() {
        assert_eq!(strip_particle("기업들과의"), "기업들");
        assert_eq!(strip_particle("기업이"), "기업");
        assert_eq!(strip_particle("연구진은"), "연구진");
    }

    #[test]
    fn empty() {
        assert!(scores(&[], "", &Rank::default()).is_empty());
        assert_eq!(scores(&["..."], "", &Rank::default()), [1.0]);
    }
}
