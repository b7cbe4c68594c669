//! The benchmarks' deterministic workload: a splitmix64 generator, company/topic word lists,
//! synthetic entity names and the watch-rule mix. Shared by `benches/rules.rs` and
//! `benches/service.rs` through `#[path]`, so both measure the same rules.

#![allow(dead_code)]

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    /// Skewed towards the front of a list: a rough Zipf.
    pub fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b).min(self.below(n))
    }
}

pub const KO_COMPANIES: &[&str] = &[
    "삼성전자",
    "SK하이닉스",
    "LG전자",
    "현대차",
    "카카오",
    "네이버",
    "크래프톤",
    "엔비디아",
    "오픈AI",
    "딥시크",
    "구글",
    "애플",
    "메타",
    "아마존",
    "테슬라",
    "인텔",
    "소프트뱅크",
    "셀트리온",
    "포스코",
    "한화에어로스페이스",
    "두산에너빌리티",
    "롯데케미칼",
    "쿠팡",
    "하이브",
    "기아",
    "대한항공",
    "앤트로픽",
    "마이크로소프트",
    "TSMC",
    "삼성바이오로직스",
    "KT",
    "LG에너지솔루션",
    "카카오뱅크",
    "엔씨소프트",
];

pub const EN_COMPANIES: &[&str] = &[
    "Samsung Electronics",
    "SK hynix",
    "Nvidia",
    "OpenAI",
    "DeepSeek",
    "Google",
    "Apple",
    "Meta",
    "Amazon",
    "Tesla",
    "Intel",
    "SoftBank",
    "Microsoft",
    "Anthropic",
    "TSMC",
    "Arm",
    "Kakao",
    "Naver",
    "Hyundai Motor",
    "LG Electronics",
    "Krafton",
    "Qualcomm",
    "Broadcom",
    "Micron",
    "Oracle",
];

pub const KO_TOPICS: &[&str] = &[
    "반도체",
    "인공지능",
    "규제",
    "투자",
    "실적",
    "증시",
    "주가",
    "발표",
    "협력",
    "시장",
    "정부",
    "기업",
    "한국",
    "미국",
    "중국",
    "수출",
    "공급",
    "메모리",
    "데이터센터",
    "클라우드",
    "전기차",
    "배터리",
    "플랫폼",
    "서비스",
    "출시",
    "개발",
    "연구",
    "인수",
    "합병",
    "소송",
    "특허",
    "보안",
    "해킹",
    "개인정보",
    "노조",
    "파업",
    "금리",
    "환율",
    "물가",
    "부동산",
    "코스피",
    "코스닥",
    "스타트업",
    "벤처",
    "펀드",
    "매출",
    "영업이익",
    "적자",
    "흑자",
    "계약",
    "수주",
    "공장",
    "생산",
    "설비",
    "고용",
    "채용",
    "구조조정",
    "경영",
    "이사회",
    "주주",
    "배당",
    "자사주",
    "상장",
    "공시",
    "감사",
    "검찰",
    "법원",
    "공정위",
    "과징금",
    "관세",
    "무역",
    "제재",
    "외교",
    "정상회담",
    "국회",
    "법안",
    "기본법",
    "시행",
    "가이드라인",
    "위원회",
    "장관",
    "대통령",
    "총리",
    "선거",
    "여론조사",
    "지방",
    "서울",
    "부산",
    "세종",
    "경기",
    "대학",
    "교육",
    "의료",
    "병원",
    "바이오",
    "신약",
    "임상",
    "백신",
    "에너지",
    "원전",
    "태양광",
    "풍력",
    "수소",
    "탄소",
    "기후",
    "날씨",
    "폭염",
    "태풍",
    "지진",
    "스마트폰",
    "노트북",
    "게임",
    "콘텐츠",
    "드라마",
    "영화",
    "음악",
    "공연",
    "스포츠",
    "야구",
    "축구",
    "자동차",
    "항공",
    "조선",
    "철강",
    "화학",
    "건설",
    "유통",
    "물류",
    "배송",
    "통신",
    "5G",
    "위성",
    "로봇",
    "자율주행",
    "드론",
    "모델",
    "챗봇",
    "생성형",
    "오픈소스",
    "칩",
    "파운드리",
    "HBM",
];

pub const EN_TOPICS: &[&str] = &[
    "chips",
    "semiconductor",
    "AI",
    "artificial intelligence",
    "regulation",
    "investment",
    "earnings",
    "shares",
    "stock",
    "market",
    "government",
    "company",
    "Korea",
    "United States",
    "China",
    "exports",
    "supply",
    "memory",
    "data center",
    "cloud",
    "electric vehicle",
    "battery",
    "platform",
    "service",
    "launch",
    "research",
    "acquisition",
    "merger",
    "lawsuit",
    "patent",
    "security",
    "breach",
    "privacy",
    "union",
    "strike",
    "interest rates",
    "inflation",
    "startup",
    "fund",
    "revenue",
    "profit",
    "loss",
    "contract",
    "factory",
    "production",
    "hiring",
    "layoffs",
    "board",
    "dividend",
    "listing",
    "antitrust",
    "tariff",
    "trade",
    "sanctions",
    "summit",
    "parliament",
    "bill",
    "law",
    "guidelines",
    "minister",
    "president",
    "election",
    "university",
    "hospital",
    "vaccine",
    "energy",
    "nuclear",
    "solar",
    "hydrogen",
    "climate",
    "smartphone",
    "laptop",
    "game",
    "drama",
    "film",
    "music",
    "baseball",
    "football",
    "car",
    "airline",
    "shipbuilding",
    "steel",
    "logistics",
    "telecom",
    "satellite",
    "robot",
    "self-driving",
    "drone",
    "model",
    "chatbot",
    "open source",
    "foundry",
    "HBM",
    "GPU",
    "smart glasses",
];

pub const KO_SYL1: &[&str] = &[
    "한빛",
    "누리",
    "미래",
    "새봄",
    "가온",
    "다온",
    "하늘",
    "바다",
    "푸른",
    "별빛",
    "온누리",
    "세움",
    "이음",
    "든든",
    "나래",
    "라온",
    "아름",
    "으뜸",
    "해솔",
    "도담",
    "보람",
    "마루",
    "초록",
    "빛나",
    "한결",
    "새힘",
    "큰별",
    "늘봄",
    "단비",
    "여울",
    "슬기",
    "소망",
    "아라",
    "모두",
    "우리",
    "한울",
];

pub const KO_SYL2: &[&str] = &[
    "테크",
    "바이오",
    "전자",
    "제약",
    "소프트",
    "모빌리티",
    "에너지",
    "화학",
    "증권",
    "건설",
    "로보틱스",
    "반도체",
    "네트웍스",
    "헬스케어",
    "푸드",
    "게임즈",
    "엔터",
    "랩스",
    "시스템",
    "메디칼",
    "정밀",
    "물산",
    "해운",
    "항공",
    "캐피탈",
    "자산운용",
    "인베스트",
    "솔루션",
    "디자인",
];

pub const EN_SYL: &[&str] = &[
    "zen", "tri", "vo", "lu", "max", "nex", "or", "ka", "vi", "sol", "ter", "quo", "ra", "mi",
    "dex", "lon", "fi", "gra", "tek", "sy", "bri", "ko", "nu", "pax", "ze", "ly", "xo", "val",
    "cor", "ion",
];

pub const EN_SUFFIX: &[&str] = &[
    "",
    " Labs",
    " Systems",
    " Bio",
    " Robotics",
    " Capital",
    " Networks",
    " AI",
];

/// Synthetic company and product names: 60% Korean, 40% Latin.
pub fn entities(n: usize) -> Vec<String> {
    let mut rng = Rng(7);
    let mut out = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    while out.len() < n {
        let name = if rng.chance(60) {
            let mid = if rng.chance(50) {
                rng.pick(KO_SYL1).to_string()
            } else {
                String::new()
            };
            format!("{}{mid}{}", rng.pick(KO_SYL1), rng.pick(KO_SYL2))
        } else {
            let mut s = String::new();
            for _ in 0..2 + rng.below(2) {
                s.push_str(rng.pick::<&str>(EN_SYL));
            }
            let mut c = s.chars();
            let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or('X');
            format!("{first}{}{}", c.as_str(), rng.pick(EN_SUFFIX))
        };
        if seen.insert(name.clone()) {
            out.push(name);
        }
    }
    out
}

/// Realistic watch rules: mostly about one named entity, with context, aliases (English names
/// of Korean-written companies and back), phrases, NEAR, wildcards, fields and NOT.
///
/// `famous_permille` of the entities are one of the 59 well-known companies (80 = 8%, the
/// default mix; the draw sequence for a multiple of 10 is the one of the original 8% mix).
pub fn rules(n: usize, pool: &[String], famous_permille: u64) -> Vec<(String, String)> {
    let mut rng = Rng(99);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let korean = rng.chance(60);
        let ent = |rng: &mut Rng| -> String {
            let famous = if famous_permille.is_multiple_of(10) {
                rng.chance(famous_permille / 10)
            } else {
                rng.next() % 1000 < famous_permille
            };
            let e = if famous {
                if rng.chance(50) {
                    rng.pick(KO_COMPANIES).to_string()
                } else {
                    rng.pick(EN_COMPANIES).to_string()
                }
            } else {
                pool[rng.below(pool.len())].clone()
            };
            if e.contains(' ') {
                format!("\"{e}\"")
            } else {
                e
            }
        };
        let topic = |rng: &mut Rng| -> String {
            let t = if korean {
                rng.pick(KO_TOPICS).to_string()
            } else {
                rng.pick(EN_TOPICS).to_string()
            };
            if t.contains(' ') {
                format!("\"{t}\"")
            } else {
                t
            }
        };
        let q = match rng.below(100) {
            0..=29 => ent(&mut rng),
            30..=54 => format!(
                "{} AND ({} OR {})",
                ent(&mut rng),
                topic(&mut rng),
                topic(&mut rng)
            ),
            55..=64 => format!(
                "({} OR {}) AND {} NOT {}",
                ent(&mut rng),
                ent(&mut rng),
                topic(&mut rng),
                topic(&mut rng)
            ),
            65..=71 => {
                let e = ent(&mut rng);
                let t = topic(&mut rng);
                format!("\"{} {}\"", e.trim_matches('"'), t.trim_matches('"'))
            }
            72..=78 => format!("{} NEAR/5 {}", ent(&mut rng), topic(&mut rng)),
            79..=83 => format!("title:{}", ent(&mut rng)),
            84..=88 => format!(
                "{} AND {}*",
                ent(&mut rng),
                if korean { "반도체" } else { "regul" }
            ),
            89..=91 => format!("*기업 AND {}", ent(&mut rng)),
            92..=94 => format!("={}", ent(&mut rng)),
            95..=96 => format!(
                "{} AND {} AND {}",
                topic(&mut rng),
                topic(&mut rng),
                topic(&mut rng)
            ),
            _ => format!("feed:yna AND {} -{}", ent(&mut rng), topic(&mut rng)),
        };
        out.push((format!("rule-{i}"), q));
    }
    out
}
