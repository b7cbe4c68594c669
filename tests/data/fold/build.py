#!/usr/bin/env python3
"""Builds the fold evaluation set (see README.md): stories.jsonl and pairs.tsv.

Run from the repository root after `cargo build --locked`:

    python3 tests/data/fold/build.py /path/to/shared/fixtures/feeds

1. Writes the hand-written outlets' feeds (synthetic/*.xml) from the items below.
2. Runs `./target/debug/kkachi feed test FILE --format json` on the real fixture feeds and on
   synthetic/*.xml, so every story is in exactly the shape the CLI prints.
3. Sorts all stories by `published` (ties: feed, then feed order) into stories.jsonl.
4. Expands the groups below into labelled pairs (pairs.tsv): every pair inside a copy group is
   `copy`; every pair across two copy groups of one event group is `event`; every pair across
   two event groups of one hard-negative family is `different`. Pairs not listed are different.
"""

import html
import itertools
import json
import re
import subprocess
from datetime import datetime
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KKACHI = ROOT / "target" / "debug" / "kkachi"

# Synthetic outlets: feed name -> (channel title, link pattern; {n} is a per-item number).
OUTLETS = {
    "yonhap": ("연합뉴스", "https://www.yna.co.kr/view/AKR20220730{n:06d}"),
    "newsis": ("뉴시스", "https://newsis.com/view/?id=NISX20220730_0001{n:06d}"),
    "news1": ("뉴스1", "https://www.news1.kr/articles/?47{n:05d}"),
    "kyeongin": ("경인일보", "https://www.kyeongin.com/main/view.php?key=2022073001{n:06d}"),
    "busanilbo": ("부산일보", "https://www.busan.com/view/busan/view.php?code=20220730{n:06d}"),
    "hankyung": ("한국경제", "https://www.hankyung.com/article/20220730{n:06d}"),
    "asiae": ("아시아경제", "https://view.asiae.co.kr/article/2022073010{n:06d}"),
    "edaily": ("이데일리", "https://m.edaily.co.kr/news/read?newsId=01{n:06d}"),
    "mbn": ("MBN", "https://www.mbn.co.kr/news/society/4{n:06d}"),
    "sisa-agg": ("시사 모아보기", "https://www.newsagg.kr/go?id={n:06d}"),
    "ap": ("AP News", "https://apnews.com/article/{n:06d}"),
    "yahoo-news": ("Yahoo News", "https://news.yahoo.com/story-{n:06d}.html"),
}

POLITE = [
    ("했다.", "했습니다."), ("밝혔다.", "밝혔습니다."), ("말했다.", "말했습니다."),
    ("됐다.", "됐습니다."), ("있다.", "있습니다."), ("없다.", "없습니다."),
    ("이다.", "입니다."), ("였다.", "였습니다."), ("한다.", "합니다."), ("된다.", "됩니다."),
    ("났다.", "났습니다."), ("졌다.", "졌습니다."), ("렸다.", "렸습니다."), ("왔다.", "왔습니다."),
    ("겠다.", "겠습니다."), ("았다.", "았습니다."), ("었다.", "었습니다."), ("갔다.", "갔습니다."),
    ("혔다.", "혔습니다."), ("전했다.", "전했습니다."),
]


def polite(text):
    """했다 → 했습니다: the broadcast register local TV sites repost wire copy in."""
    for a, b in POLITE:
        text = text.replace(a, b)
    return text


def sentences(text):
    return [s for s in re.split(r"(?<=다\.)\s+|(?<=요\.)\s+", text.strip()) if s]


def drop(text, k):
    """The text without its k-th sentence."""
    s = sentences(text)
    return " ".join(s[:k] + s[k + 1:])


def drop_en(text, k):
    """An English text without its k-th sentence."""
    s = re.split(r"(?<=\.)\s+", text.strip())
    return " ".join(s[:k] + s[k + 1:])


def cut(text, n=120):
    """The lede cut at ~n characters, as many feeds carry it."""
    return text[:n].rstrip() + "…"


# ---------------------------------------------------------------------------------------------
# The hand-written items. Each: (key, feed, KST time "MM-DD HH:MM", title, text, full) where
# full=True puts the text in content:encoded as well (a feed carrying the article), else only in
# the description. Keys name the story in the groups below.
# ---------------------------------------------------------------------------------------------

COVID_0730 = ("코로나19 신규 확진자가 30일 0시 기준 8만2천2명 발생했다. 토요일 발표 기준으로 15주 만에 최다 규모다. "
              "중앙방역대책본부는 이날 0시 기준 신규 확진자가 8만2천2명 늘어 누적 1천955만5천323명이 됐다고 밝혔다. "
              "전날(8만5천320명)보다 3천318명 적지만 1주일 전인 지난 23일(6만8천551명)의 1.2배, 2주일 전인 16일(4만1천295명)의 2배 수준이다. "
              "위중증 환자는 282명으로 전날보다 2명 늘었고, 사망자는 20명 발생했다.")
COVID_0731 = ("코로나19 신규 확진자가 31일 0시 기준 7만3천589명 발생했다. 일요일 발표 기준으로 15주 만에 최다 규모다. "
              "중앙방역대책본부는 이날 0시 기준 신규 확진자가 7만3천589명 늘어 누적 1천962만8천912명이 됐다고 밝혔다. "
              "전날(8만2천2명)보다 8천413명 적지만 1주일 전인 지난 24일(6만5천433명)의 1.1배 수준이다. "
              "위중증 환자는 287명으로 전날보다 5명 늘었고, 사망자는 24명 발생했다.")
COVID_0801 = ("코로나19 신규 확진자가 1일 0시 기준 4만4천689명 발생했다. 주말 검사 건수가 줄어든 영향으로 전날보다 2만8천900명 적다. "
              "중앙방역대책본부는 이날 0시 기준 신규 확진자가 4만4천689명 늘어 누적 1천967만3천601명이 됐다고 밝혔다. "
              "1주일 전인 지난 25일(3만5천864명)의 1.2배 수준이다. "
              "위중증 환자는 297명으로 전날보다 10명 늘었고, 사망자는 17명 발생했다.")

FIRE1 = "30일 오후 2시 10분께 서울 강남구 개포동의 한 아파트 12층에서 불이 나 주민 30여명이 대피했다."
FIRE2 = (FIRE1 + " 불은 집 내부와 가재도구를 태우고 1시간여 만에 꺼졌다. 이 불로 주민 1명이 연기를 들이마셔 병원으로 옮겨졌다. "
         "소방당국은 인력 80여명과 장비 25대를 투입해 진화 작업을 벌였다.")
FIRE3 = (FIRE2 + " 소방당국은 베란다에 설치된 에어컨 실외기 부근에서 불이 시작됐다는 주민 진술을 토대로 정확한 화재 원인과 재산 피해 규모를 조사하고 있다. "
         "불이 난 집에는 거주자가 외출 중이어서 추가 인명 피해는 없었다.")
FIRE_BUSAN = ("31일 오전 11시 40분께 부산 해운대구 우동의 한 아파트 23층에서 불이 나 주민 50여명이 대피했다. "
              "불은 집 내부를 태우고 40여분 만에 꺼졌다. 이 불로 70대 주민 1명이 얼굴에 화상을 입어 병원으로 옮겨졌다. "
              "소방당국은 주방 가스레인지 주변에서 불이 시작됐다는 주민 진술을 토대로 정확한 화재 원인을 조사하고 있다.")

BNK = ("BNK부산은행에서 한 직원이 10억원이 넘는 거액을 빼돌린 정황이 적발돼 은행 측이 자체 감사에 나섰다. "
       "30일 BNK부산은행에 따르면 한 영업점에서 근무하는 외환 담당 직원이 14억8000만원(잠정)을 횡령했다. "
       "대리급 직원으로 알려진 A씨는 지난 6월9일부터 이달 25일까지 해외에서 들어온 돈을 고객 계좌로 입금하지 않고 여러 차례 지인 계좌에 넣는 방식으로 돈을 가로챈 것으로 전해졌다. "
       "A씨의 범행은 준법감시부의 상시감시 특이사항 보고를 통해 적발됐다.")
BNK_KN = ("BNK경남은행에서 한 직원이 5억원이 넘는 고객 예금을 빼돌린 정황이 적발돼 은행 측이 자체 감사에 나섰다. "
          "31일 BNK경남은행에 따르면 창원의 한 영업점에서 근무하는 여신 담당 직원이 5억3000만원을 횡령했다. "
          "과장급 직원으로 알려진 B씨는 지난 3월부터 이달 초까지 대출 상환금을 여러 차례 자신의 계좌로 옮기는 방식으로 돈을 가로챈 것으로 전해졌다. "
          "B씨의 범행은 내부 감사 과정에서 적발됐다.")

SAMSUNG = ("삼성전자가 올해 2분기 매출 77조2천억원, 영업이익 14조1천억원을 기록했다고 28일 밝혔다. "
           "매출은 분기 기준 역대 두 번째로 많았고, 영업이익은 지난해 같은 기간보다 12.2% 늘었다. "
           "반도체 부문 영업이익은 9조9천800억원으로 전체의 70%를 차지했다. "
           "삼성전자는 하반기 글로벌 경기 둔화로 메모리 수요가 약해질 수 있다고 전망했다.")
LGE = ("LG전자가 올해 2분기 매출 19조4천억원, 영업이익 7천922억원을 기록했다고 29일 밝혔다. "
       "매출은 2분기 기준 역대 최대였지만, 영업이익은 지난해 같은 기간보다 12.0% 줄었다. "
       "생활가전 부문 영업이익은 2천619억원으로 전년보다 66.1% 감소했다. "
       "LG전자는 하반기 물류비와 원자재 가격 부담이 이어질 수 있다고 전망했다.")
SKHYNIX = ("SK하이닉스가 올해 2분기 매출 13조8천110억원, 영업이익 4조1천926억원을 기록했다고 27일 밝혔다. "
           "매출은 분기 기준 역대 최대였고, 영업이익은 지난해 같은 기간보다 55.6% 늘었다. "
           "D램과 낸드플래시 판매량이 모두 늘어난 영향이다. "
           "SK하이닉스는 하반기 메모리 수요 둔화에 대비해 내년 투자 규모를 줄이겠다고 전망했다.")

COURT_TAXI = ("서울중앙지법 형사9단독 조승우 판사는 29일 특정범죄가중처벌법상 운전자폭행 혐의로 기소된 A씨(52)에게 징역 1년에 집행유예 2년을 선고했다. "
              "A씨는 지난해 11월 서울 서초구의 한 도로에서 택시를 타고 가다 목적지를 묻는 운전기사의 멱살을 잡고 폭행한 혐의를 받았다. "
              "재판부는 \"운행 중인 차량 운전자를 폭행해 다른 사람의 안전까지 위협했다\"면서도 \"피해자와 합의한 점을 고려했다\"고 양형 이유를 밝혔다.")
COURT_SCHOOL = ("서울중앙지법 형사5단독 김수연 판사는 29일 특정범죄가중처벌법상 어린이보호구역 치사 혐의로 기소된 B씨(41)에게 징역 2년을 선고했다. "
                "B씨는 지난 3월 서울 강서구의 한 초등학교 앞 어린이보호구역에서 제한속도를 넘겨 달리다 길을 건너던 9살 어린이를 치어 숨지게 한 혐의를 받았다. "
                "재판부는 \"어린이보호구역에서 주의 의무를 소홀히 해 어린 생명을 잃게 했다\"며 \"유족이 엄벌을 원하고 있다\"고 양형 이유를 밝혔다.")

OBIT_SINGER = ("'추풍령', '고향의 강' 등을 부른 원로가수 남상규 씨가 29일 별세했다. 향년 83세. "
               "고인은 충북 청주에서 태어나 1960년 부산KBS 노래자랑에 출연한 인연으로 전속 가수가 됐고, 1965년 '추풍령'을 히트시키며 스타 반열에 올랐다. "
               "빈소는 서울 한양대병원 장례식장에 마련됐으며 발인은 31일 오전이다.")
OBIT_A = "▲김영수씨 별세, 김민준(한국일보 논설위원)씨 부친상 = 29일 서울 삼성서울병원 장례식장 12호실, 발인 31일 오전 8시. ☎ 02-3410-6912"
OBIT_B = "▲이순자씨 별세, 박지훈(서울대 경제학부 교수)씨 모친상 = 30일 서울 세브란스병원 장례식장 7호실, 발인 8월 1일 오전 7시. ☎ 02-2227-7500"
OBIT_C = "▲정말순씨 별세, 최동욱(연합뉴스 사회부 부장)씨 장모상 = 30일 경기 분당서울대병원 장례식장 3호실, 발인 8월 1일 오전 9시 30분. ☎ 031-787-1500"

WEATHER_0730 = ("토요일인 30일은 전국이 대체로 맑은 가운데 폭염특보가 내려진 곳이 많겠다. "
                "제5호 태풍 '송다'의 영향으로 제주도와 남해안에는 비가 오겠다. "
                "아침 최저기온은 23∼27도, 낮 최고기온은 29∼35도로 예보됐다. "
                "기상청은 \"낮 동안 체감온도가 35도 안팎까지 오르겠으니 온열질환에 유의해야 한다\"고 당부했다.")
WEATHER_0731 = ("일요일인 31일은 전국이 흐리고 곳곳에 비가 오겠다. "
                "제5호 태풍 '송다'에서 약화한 열대저압부의 영향으로 남부지방과 제주도에는 많은 비가 내리겠다. "
                "아침 최저기온은 22∼26도, 낮 최고기온은 27∼33도로 예보됐다. "
                "기상청은 \"비가 그친 뒤에도 습도가 높아 무덥겠으니 건강관리에 유의해야 한다\"고 당부했다.")

POLL_GALLUP = ("윤석열 대통령의 직무 수행에 대한 긍정 평가가 28%로 취임 후 처음 20%대로 떨어졌다는 여론조사 결과가 29일 나왔다. "
               "한국갤럽이 지난 26∼28일 전국 18세 이상 1천명을 대상으로 조사한 결과 윤 대통령이 직무를 잘 수행하고 있다는 응답은 28%, 잘못하고 있다는 응답은 62%였다. "
               "부정 평가 이유로는 인사(23%)가 가장 많이 꼽혔다. "
               "자세한 내용은 중앙선거여론조사심의위원회 홈페이지를 참조하면 된다.")
POLL_REALMETER = ("윤석열 대통령의 국정 수행에 대한 긍정 평가가 32.8%로 2주 연속 하락했다는 여론조사 결과가 1일 나왔다. "
                  "리얼미터가 에너지경제신문 의뢰로 지난 25∼29일 전국 18세 이상 2천519명을 대상으로 조사한 결과 윤 대통령이 국정을 잘 수행하고 있다는 응답은 32.8%, 잘못하고 있다는 응답은 64.1%였다. "
                  "부정 평가는 지난주보다 3.1%포인트 올랐다. "
                  "자세한 내용은 중앙선거여론조사심의위원회 홈페이지를 참조하면 된다.")

# Written apart from Donga's and Kukmin's own articles on the same announcements (event pairs):
# the same facts, not their sentences.
PUBLIC = ("정부가 350개 공공기관의 내년도 정원을 감축하고 하반기 경상경비와 업무추진비를 10% 넘게 줄이기로 했다. "
          "기획재정부는 29일 추경호 부총리 주재로 열린 공공기관운영위원회에서 '새 정부 공공기관 혁신 가이드라인'이 의결됐다고 밝혔다. "
          "각 기관은 기능 조정과 조직·인력 효율화 방안을 담은 혁신 계획을 다음 달 말까지 기재부에 내야 한다. "
          "기재부는 인위적인 구조조정이나 민영화는 추진하지 않는다고 설명했다.")
SCHOOL = ("교육부가 초등학교 입학 연령을 만 6세에서 만 5세로 낮추는 학제 개편을 2025년부터 단계적으로 추진한다. "
          "교육부는 29일 이런 내용을 담은 새 정부 업무계획을 윤석열 대통령에게 보고했다고 밝혔다. "
          "박순애 부총리 겸 교육부 장관은 사전 브리핑에서 \"출발선 단계의 교육 격차를 줄이기 위한 것\"이라고 말했다. "
          "교육부는 한 해에 입학 대상이 몰리지 않도록 4년에 걸쳐 입학 시기를 3개월씩 앞당기는 방안을 검토하고 있다.")
PEPSI = ("롯데칠성음료의 '펩시 제로슈거 라임'에서 악취가 난다는 민원과 관련해 식품의약품안전처가 제품 자체에는 문제가 없다고 결론 내렸다. "
         "식약처는 29일 \"이취 발생 제품과 같은 제품을 수거해 검사한 결과 탄산음료와 포장 재질의 기준·규격에 적합했다\"고 밝혔다. "
         "식약처는 높은 기온 탓에 병 입구에 미세한 변형이 생겼고, 그 틈으로 새어 나온 성분이 산소와 반응해 냄새가 난 것으로 판단했다. "
         "해당 성분은 식품첨가물로 허가된 물질이어서 안전상 문제는 없다고 식약처는 설명했다.")
LEE = ("이재명 더불어민주당 당대표 후보가 29일 \"저학력·저소득층이 국민의힘 지지가 많다\"고 말해 논란이 일었다. "
       "이 후보는 이날 유튜브 라이브 방송에서 \"안타까운 현실인데, 언론 때문에 그렇다. 언론 환경 때문에 그렇다\"고 말했다. "
       "경쟁 후보인 박용진 후보는 페이스북에 \"노골적인 선민의식이고 국민 갈라치기\"라고 비판했다. "
       "강훈식 후보도 \"민주당의 가치와 맞지 않는 발언\"이라고 지적했다.")

PHOTO_A = ("폭염특보가 내려진 30일 오후 서울 종로구 광화문광장 분수대에서 어린이들이 물놀이를 하며 더위를 식히고 있다. 2022.07.30.")
PHOTO_B = ("폭염특보가 내려진 31일 오후 서울 영등포구 여의도 한강공원 물빛광장에서 시민들이 물놀이를 하며 더위를 식히고 있다. 2022.07.31.")
PHOTO_C = ("비가 내린 1일 오전 서울 중구 시청역 인근에서 우산을 쓴 시민들이 출근길 발걸음을 재촉하고 있다. 2022.08.01.")
PHOTO_D = ("비가 내린 31일 오전 서울 종로구 광화문 네거리에서 우산을 쓴 시민들이 발걸음을 재촉하고 있다. 2022.07.31.")

# The English copies reuse TechCrunch's own first paragraphs (fixtures/feeds/en/techcrunch-2011.xml).
GMAIL = ("Google is launching a new native Gmail application for the iPhone, iPad and iPod Touch today, which is now available in the iTunes App Store. "
         "As recently revealed by TechCrunch writer MG Siegler on his personal blog, one of the app's most important features is its ability to do push notifications. "
         "The app will also include search, autocomplete, support for attachments, priority inbox access, labels and other standard email features like archiving, deleting and reporting spam.")
AOL = ("AOL reported third-quarter earnings this morning. Revenue was down 6 percent to $531.7 million. "
       "The company swung to a loss in terms of net income, losing $2.6 million, or $0.02 per share. "
       "Analysts expected a loss of loss of 7 cents per share. "
       "But AOL was able to grow global advertising by 8%, driven by 28% and 15% growth in third party network and global display advertising revenue.")
YAHOO_Q = ("Yahoo reported third-quarter earnings this afternoon. Revenue was down 4 percent to $1.22 billion. "
           "The company grew its net income to $293 million, or $0.23 per share. "
           "Analysts expected earnings of 19 cents per share. "
           "But Yahoo was able to grow display advertising by 3%, while search revenue declined 8% as the company kept reviewing its strategic options.")
BIOPLASTIC = ("A bioplastic made of organic fish waste that would otherwise end up in landfill, with the potential to replace plastic in food and drink packaging, "
              "has landed its UK designer a prestigious international award. Lucy Hughes, 24, won the UK leg of the James Dyson Award for MarinaTex, "
              "a translucent and flexible sheet material made from fish skin and scales bound with red algae.")

YH = "(서울=연합뉴스) 김서연 기자 = "
NS = "[서울=뉴시스]이승주 기자 = "
N1 = "(서울=뉴스1) 박정환 기자 = "
YH_FOOT = " <저작권자(c) 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>"
NS_FOOT = " *재판매 및 DB 금지"
KI_FOOT = " ⓒ 경인일보 무단전재 및 재배포 금지"

ITEMS = [
    # COVID counts: three days, each a wire story and its reposts (hard negatives across days).
    ("covid30-yh", "yonhap", "07-30 09:41", "신규확진 8만2천2명, 토요일 기준 15주만에 최다…위중증 282명", YH + COVID_0730 + YH_FOOT, False),
    ("covid30-mbn", "mbn", "07-30 10:05", "오늘 코로나 신규확진 8만2천명…15주 만에 최다", polite(COVID_0730), False),
    ("covid30-ki", "kyeongin", "07-30 10:20", "[속보] 코로나19 신규확진 8만2천2명…위중증 282명", YH + COVID_0730 + KI_FOOT, True),
    ("covid30-ed", "edaily", "07-30 10:31", "코로나 확진 8만명대 이어져…토요일 기준 15주만 최다", cut(COVID_0730), False),
    ("covid30-bs", "busanilbo", "07-30 11:02", "전국 신규확진 8만2천2명…사망자 20명", drop(COVID_0730, 2), False),
    ("covid31-yh", "yonhap", "07-31 09:38", "신규확진 7만3천589명, 일요일 기준 15주만에 최다…위중증 287명", YH + COVID_0731 + YH_FOOT, False),
    ("covid31-mbn", "mbn", "07-31 10:02", "오늘 코로나 신규확진 7만3천명…일요일 기준 최다", polite(COVID_0731), False),
    ("covid31-bs", "busanilbo", "07-31 11:00", "전국 신규확진 7만3천589명…사망자 24명", drop(COVID_0731, 1), False),
    ("covid31-ki", "kyeongin", "07-31 10:25", "[속보] 코로나19 신규확진 7만3천589명…위중증 287명", YH + COVID_0731 + KI_FOOT, True),
    ("covid01-yh", "yonhap", "08-01 09:40", "신규확진 4만4천689명, 주말 영향 감소…위중증 297명", YH + COVID_0801 + YH_FOOT, False),
    ("covid01-bs", "busanilbo", "08-01 10:11", "전국 신규확진 4만4천689명…위중증 297명", drop(COVID_0801, 1), False),
    # One outlet's growing versions (1보 → 2보 → 종합) and reposts; a template twin in Busan.
    ("fire-1", "yonhap", "07-30 14:21", "[1보] 서울 강남 아파트서 불…주민 30여명 대피", YH + FIRE1, False),
    ("fire-2", "yonhap", "07-30 15:02", "[2보] 강남 아파트 화재 1시간 만에 진화…1명 연기흡입", YH + FIRE2 + YH_FOOT, False),
    ("fire-3", "yonhap", "07-30 16:45", "[종합] 강남 아파트 화재로 1명 부상·30여명 대피…\"실외기서 발화\" 추정", YH + FIRE3 + YH_FOOT, True),
    ("fire-bs1", "busanilbo", "07-30 14:40", "[속보] 서울 강남 아파트 화재…주민 대피", FIRE1, False),
    ("fire-mbn", "mbn", "07-30 17:10", "강남 아파트 12층 화재…\"에어컨 실외기 부근서 시작\"", polite(FIRE3), False),
    ("fire-as", "asiae", "07-30 17:30", "개포동 아파트 불, 1시간여 만에 꺼져…주민 1명 병원行", cut(FIRE3, 140), False),
    ("fireb-yh", "yonhap", "07-31 12:30", "[종합] 부산 해운대 아파트 화재로 1명 화상·50여명 대피", "(부산=연합뉴스) 박성제 기자 = " + FIRE_BUSAN + YH_FOOT, True),
    ("fireb-bs", "busanilbo", "07-31 13:05", "해운대 아파트 23층 불…70대 주민 화상", FIRE_BUSAN, False),
    # Wire copy of a story Donga carried (BNK), and the same template at another bank.
    ("bnk-yh", "yonhap", "07-30 17:20", "부산은행 직원 14억8천만원 횡령…은행 자체 감사", "(부산=연합뉴스) 김선호 기자 = " + BNK + YH_FOOT, False),
    ("bnk-bs", "busanilbo", "07-30 18:40", "BNK부산은행 외환 담당 직원 14억 횡령 적발", polite(drop(BNK, 3)), False),
    ("bnk-as", "asiae", "07-30 19:02", "[단독] 부산은행서 14억 횡령…\"지인 계좌로 빼돌려\"", cut(BNK, 125), False),
    ("bnkkn-yh", "yonhap", "07-31 15:10", "경남은행 직원 5억3천만원 횡령…은행 자체 감사", "(창원=연합뉴스) 이준영 기자 = " + BNK_KN + YH_FOOT, False),
    ("bnkkn-ki", "kyeongin", "07-31 16:00", "경남은행서도 직원 횡령…대출 상환금 5억 빼돌려", BNK_KN + KI_FOOT, True),
    # Earnings from one template, three companies.
    ("sam-yh", "yonhap", "07-30 08:10", "삼성전자 2분기 영업익 14조1천억원…12.2% 증가", YH + SAMSUNG + YH_FOOT, False),
    ("sam-hk", "hankyung", "07-30 08:40", "삼성전자, 2분기 매출 77조 역대 두번째…반도체가 70% 벌었다", SAMSUNG, True),
    ("sam-as", "asiae", "07-30 09:30", "삼성전자 영업익 14조…반도체 9조9800억", drop(SAMSUNG, 1), False),
    ("sam-ed", "edaily", "07-30 09:05", "[속보] 삼성전자 2분기 영업이익 14조1천억원", cut(SAMSUNG), False),
    ("lge-yh", "yonhap", "07-30 08:30", "LG전자 2분기 영업익 7천922억원…12.0% 감소", YH + LGE + YH_FOOT, False),
    ("lge-hk", "hankyung", "07-30 09:00", "LG전자, 2분기 매출 역대 최대에도 이익은 12% 줄었다", LGE, True),
    ("lge-as", "asiae", "07-30 09:20", "LG전자 영업익 7922억…가전 이익 66% 급감", drop(LGE, 1), False),
    ("skh-yh", "yonhap", "07-30 07:50", "SK하이닉스 2분기 영업익 4조1천926억원…55.6% 증가", YH + SKHYNIX + YH_FOOT, False),
    ("skh-ed", "edaily", "07-30 08:15", "SK하이닉스, 2분기 매출 13조8천억 역대 최대", SKHYNIX, False),
    # Two court rulings from one template.
    ("court1-ns", "newsis", "07-30 11:00", "'택시기사 폭행' 50대 1심 집행유예…\"합의 고려\"", NS + COURT_TAXI + NS_FOOT, False),
    ("court1-ki", "kyeongin", "07-30 11:40", "운행 중 택시기사 멱살잡고 폭행한 50대, 징역형 집유", COURT_TAXI + KI_FOOT, True),
    ("court1-mbn", "mbn", "07-30 12:10", "택시기사 폭행 50대 징역 1년·집유 2년", polite(COURT_TAXI), False),
    ("court2-ns", "newsis", "07-30 11:20", "'스쿨존 사망사고' 40대 운전자 1심 징역 2년", NS + COURT_SCHOOL + NS_FOOT, False),
    ("court2-as", "asiae", "07-30 12:30", "스쿨존서 9살 치어 숨지게 한 운전자 실형", cut(COURT_SCHOOL, 130), False),
    # Obituaries: a wire obituary of the singer Donga also covered (same event), and templated
    # family obituaries (different people).
    ("obit-yh", "yonhap", "07-30 10:50", "'추풍령' 부른 원로가수 남상규 별세…향년 83세", YH + OBIT_SINGER + YH_FOOT, False),
    ("obit-ki", "kyeongin", "07-30 11:30", "원로가수 남상규 별세…'추풍령' '고향의 강' 불러", OBIT_SINGER + KI_FOOT, True),
    ("obit-mbn", "mbn", "07-30 12:00", "'추풍령' 가수 남상규 별세", polite(OBIT_SINGER), False),
    ("obitA-yh", "yonhap", "07-30 09:00", "[부고] 김민준(한국일보 논설위원)씨 부친상", OBIT_A, False),
    ("obitA-ns", "newsis", "07-30 09:30", "[부고]김민준(한국일보 논설위원)씨 부친상", OBIT_A + NS_FOOT, False),
    ("obitB-yh", "yonhap", "07-30 15:00", "[부고] 박지훈(서울대 경제학부 교수)씨 모친상", OBIT_B, False),
    ("obitC-yh", "yonhap", "07-30 16:00", "[부고] 최동욱(연합뉴스 사회부 부장)씨 장모상", OBIT_C, False),
    # Weather of two days, each with a repost.
    ("wx30-yh", "yonhap", "07-30 05:00", "[날씨] 전국 폭염 속 제주·남해안 비…낮 최고 35도", YH + WEATHER_0730 + YH_FOOT, False),
    ("wx30-mbn", "mbn", "07-30 06:00", "[날씨] 오늘 전국 무더위…체감온도 35도 안팎", polite(WEATHER_0730), False),
    ("wx31-yh", "yonhap", "07-31 05:00", "[날씨] 전국 흐리고 곳곳 비…낮 최고 33도", YH + WEATHER_0731 + YH_FOOT, False),
    ("wx31-mbn", "mbn", "07-31 06:00", "[날씨] 오늘 전국 흐리고 비…습도 높아 무더위", polite(WEATHER_0731), False),
    # Polls: the Gallup poll Donga and Kukmin wrote up, as wire copy; another pollster's later
    # poll from the same template.
    ("gallup-yh", "yonhap", "07-30 10:30", "尹대통령 지지율 28%…취임 후 첫 20%대[한국갤럽]", YH + POLL_GALLUP + YH_FOOT, False),
    ("gallup-ki", "kyeongin", "07-30 11:15", "윤 대통령 지지율 28%로 추락…부정평가 62%", POLL_GALLUP + KI_FOOT, True),
    ("gallup-ed", "edaily", "07-30 12:00", "[속보] 尹 지지율 28%…첫 20%대", cut(POLL_GALLUP, 125), False),
    ("gallup-mbn", "mbn", "07-30 11:45", "윤 대통령 지지율 20%대로…취임 80일 만", polite(drop(POLL_GALLUP, 3)), False),
    ("realm-yh", "yonhap", "08-01 08:30", "尹대통령 지지율 32.8%…2주 연속 하락[리얼미터]", YH + POLL_REALMETER + YH_FOOT, False),
    ("realm-ns", "newsis", "08-01 09:00", "윤 대통령 국정 지지율 32.8%…부정평가 64.1%", NS + POLL_REALMETER + NS_FOOT, False),
    # Wire copies of stories Donga and Kukmin wrote up themselves.
    ("public-yh", "yonhap", "07-30 07:30", "공공기관 내년 정원 줄인다…경상경비 10% 이상 삭감", YH + PUBLIC + YH_FOOT, False),
    ("public-hk", "hankyung", "07-30 08:00", "공공기관 정원 14년 만에 감축…350곳 혁신계획 낸다", PUBLIC, True),
    ("public-as", "asiae", "07-30 09:10", "공공기관 허리띠 졸라맨다…경상비 10% 삭감", polite(PUBLIC), False),
    ("public-ed", "edaily", "07-30 08:20", "[종합] 350개 공공기관 내년 정원 감축", cut(PUBLIC, 130), False),
    ("school-yh", "yonhap", "07-30 06:40", "초등학교 입학 만5세로 1년 앞당긴다…2025년부터 단계적", YH + SCHOOL + YH_FOOT, False),
    ("school-ns", "newsis", "07-30 07:10", "2025년부터 초등 입학 만 5세로…학제 개편 추진", NS + drop(SCHOOL, 2) + NS_FOOT, False),
    ("school-mbn", "mbn", "07-30 08:30", "[단독] 초등 입학 1년 당긴다…만 5세부터", polite(drop(SCHOOL, 3)), False),
    ("school-ki", "kyeongin", "07-30 08:05", "초등 취학연령 1년 빨라진다", polite(SCHOOL), True),
    ("pepsi-n1", "news1", "07-30 09:50", "펩시 제로 악취 원인은 '고온'…식약처 \"유통 중 발생\"", N1 + PEPSI, False),
    ("pepsi-as", "asiae", "07-30 10:40", "[단독] 펩시 제로슈거 '악취' 이유 있었다", cut(PEPSI, 120), False),
    ("pepsi-mbn", "mbn", "07-30 11:20", "펩시 제로 냄새 원인은 더위…\"안전엔 문제 없어\"", polite(PEPSI), False),
    ("lee-yh", "yonhap", "07-30 09:10", "이재명 \"저학력·저소득층 국힘 지지 많아\"…당내 \"선민의식\" 비판", YH + LEE + YH_FOOT, False),
    ("lee-n1", "news1", "07-30 09:45", "박용진, 이재명 '저소득층' 발언에 \"노골적 선민의식\"", N1 + LEE, False),
    ("lee-mbn", "mbn", "07-30 11:00", "이재명 \"저소득층 국힘 지지\" 발언 후폭풍", polite(LEE), False),
    ("lee-bs", "busanilbo", "07-30 10:30", "이재명 '저학력·저소득층' 발언 논란", drop(LEE, 3), False),
    # Photo items: two pairs of different photos from one caption template, each reposted.
    ("photoA-ns", "newsis", "07-30 15:10", "[포토] 폭염 속 분수대 물놀이", "[서울=뉴시스]김근수 기자 = " + PHOTO_A + " kgb@newsis.com" + NS_FOOT, False),
    ("photoA-ki", "kyeongin", "07-30 15:40", "[포토] 광화문광장 분수대서 더위 식히는 어린이들", PHOTO_A + " kgb@newsis.com" + KI_FOOT, False),
    ("photoB-ns", "newsis", "07-31 15:05", "[포토] 한강공원 물빛광장서 더위 식히기", "[서울=뉴시스]조성우 기자 = " + PHOTO_B + " xconfind@newsis.com" + NS_FOOT, False),
    ("photoB-sa", "sisa-agg", "07-31 15:30", "[사진] 여의도 물빛광장 물놀이", PHOTO_B + " xconfind@newsis.com", False),
    ("photoC-ns", "newsis", "08-01 08:20", "[포토] 출근길 우산 행렬", "[서울=뉴시스]홍효식 기자 = " + PHOTO_C + " yesphoto@newsis.com" + NS_FOOT, False),
    ("photoD-ns", "newsis", "07-31 09:10", "[포토] 빗속 발걸음 재촉하는 시민들", "[서울=뉴시스]김명원 기자 = " + PHOTO_D + " kmx1105@newsis.com" + NS_FOOT, False),
    ("photoD-ki", "kyeongin", "07-31 09:40", "[포토] 광화문 네거리 우산 쓴 시민들", PHOTO_D + " kmx1105@newsis.com" + KI_FOOT, False),
    # English: syndicated copies of TechCrunch and Reddit-linked stories, an earnings twin.
    ("gmail-yahoo", "yahoo-news", "11-03 02:40", "Google's new Gmail app for iPhone and iPad can do push notifications", drop_en(GMAIL, 1), False),
    ("gmail-ap", "ap", "11-03 03:10", "Google launches native Gmail app for iPhone and iPad", "MOUNTAIN VIEW, Calif. (AP) — " + cut(GMAIL, 160), False),
    ("aol-ap", "ap", "11-03 05:00", "AOL third-quarter revenue falls 6 percent", "NEW YORK (AP) — " + AOL, False),
    ("aol-yahoo", "yahoo-news", "11-03 05:30", "AOL swings to a loss as revenue slips 6%", AOL + " Disclosure: AOL is the parent company of TechCrunch.", False),
    ("yq-ap", "ap", "11-02 05:00", "Yahoo third-quarter revenue falls 4 percent", "SUNNYVALE, Calif. (AP) — " + YAHOO_Q, False),
    ("bio-yahoo", "yahoo-news", "11-14 20:30", "Fish-waste bioplastic wins UK designer the James Dyson Award", BIOPLASTIC, False),
]

YEAR = {"11-03": "2011", "11-02": "2011", "11-14": "2019"}


def rfc822(when):
    month_day, hm = when.split(" ")
    year = YEAR.get(month_day, "2022")
    m, d = month_day.split("-")
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{int(d):02d} {months[int(m) - 1]} {year} {hm}:00 +0900"


def write_feeds():
    out = HERE / "synthetic"
    out.mkdir(exist_ok=True)
    by_feed = {}
    for n, (key, feed, when, title, text, full) in enumerate(ITEMS, start=1):
        # The wire services' feeds carry the article (dateline, footer and all).
        full = full or feed in ("yonhap", "newsis", "news1")
        by_feed.setdefault(feed, []).append((n, key, when, title, text, full))
    keys = {}
    for feed, items in by_feed.items():
        name, pattern = OUTLETS[feed]
        site = pattern.split("/")[0] + "//" + pattern.split("/")[2] + "/"
        rows = []
        for n, key, when, title, text, full in items:
            link = pattern.format(n=n)
            keys[key] = link
            content = (f"\n      <content:encoded><![CDATA[<p>{html.escape(text)}</p>]]></content:encoded>"
                       if full else "")
            rows.append(f"""    <item>
      <title>{html.escape(title)}</title>
      <link>{html.escape(link)}</link>
      <guid isPermaLink="true">{html.escape(link)}</guid>
      <pubDate>{rfc822(when)}</pubDate>
      <description>{html.escape(text)}</description>{content}
    </item>""")
        xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>{html.escape(name)}</title>
    <link>{html.escape(site)}</link>
    <description>{html.escape(name)} (hand-written for the fold evaluation set)</description>
{chr(10).join(rows)}
  </channel>
</rss>
"""
        (out / f"{feed}.xml").write_text(xml, encoding="utf-8")
    return keys


def feed_test(path):
    res = subprocess.run([str(KKACHI), "feed", "test", str(path), "--format", "json"],
                         capture_output=True, text=True, check=True)
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


# Real fixture stories by feed file and a title fragment; keys name them in the groups.
REAL = {
    "d-pepsi": ("donga", "펩시 제로 ‘악취’"),
    "k-pepsi": ("kmib", "펩시 제로 ‘암내’"),
    "d-lee": ("donga", "저학력-저소득층"),
    "k-lee": ("kmib", "저소득층, 與지지"),
    "d-ref": ("donga", "사망한 참고인"),
    "k-ref": ("kmib", "숨진 ‘법카 의혹’"),
    "d-school": ("donga", "초등학교 1년 빨리"),
    "k-school": ("kmib", "초등학교 입학 연령"),
    "d-public": ("donga", "공기관 내년 정원"),
    "k-public": ("kmib", "350개 공공기관"),
    "d-poll3040": ("donga", "3040세대"),
    "k-poll30": ("kmib", "30% 지지율도"),
    "k-editorial": ("kmib", "[사설] 지지율"),
    "n-uspress": ("nocut", "미언론 尹지지율"),
    "d-kia": ("donga", "KIA 나성범"),
    "n-kia": ("nocut", "KIA 양현종"),
    "d-drill": ("donga", "한미, 연합연습"),
    "d-austin": ("donga", "美국방"),
    "n-drill": ("nocut", "한미 합동군사훈련"),
    "d-detain": ("donga", "라브로프에"),
    "n-detain": ("nocut", "억류자 2:1"),
    "d-blinken": ("donga", "美국무, 내주"),
    "n-blinken": ("nocut", "블링컨-최선희"),
    "d-audit": ("donga", "감사원장"),
    "n-audit": ("nocut", "공수처 감사 착수"),
    "d-ljs": ("donga", "TK 간 이준석"),
    "n-ljs": ("nocut", "영남대行"),
    "k-ljs": ("kmib", "인기 역주행"),
    "k-autism": ("kmib", "자폐 아들"),
    "n-autism": ("nocut", "자폐 성인 아들"),
    "p-fire-photo": ("pressian", "[포토] 횟집에"),
    "p-fire": ("pressian", "고창 횟집에"),
    "d-bnk": ("donga", "부산은행서도"),
    "d-obit-singer": ("donga", "[부고]‘추풍령’"),
    "d-obit-list": ("donga", "[부고]도춘도"),
    "n-obit": ("nocut", "[부고]김교태"),
    "d-ppl1": ("donga", "[인사]디지털플랫폼"),
    "d-ppl2": ("donga", "[인사]헌법재판소"),
    "d-wx": ("donga", "[날씨]태풍"),
    "k-wx": ("kmib", "오늘의 날씨"),
    "d-ppp-poll": ("donga", "지지율 30% 무너진 날"),
    "d-ppp-kwon": ("donga", "권성동 잇단 논란"),
    "d-ppp-key": ("donga", "비대위 전환 ‘키’"),
    "k-ppp-bae": ("kmib", "배현진 최고위원 사퇴"),
    "n-ppp-kwon": ("nocut", "전방위 압박에 권성동"),
    "n-ppp-rules": ("nocut", "당헌당규 개정"),
    "n-covid": ("nocut", "오후 9시까지 코로나19"),
    "d-nk-covid": ("donga", "北, 코로나 발병"),
    "p-covid-jb": ("pressian", "7월의 전북 금요일"),
    "d-fake-id": ("donga", "가짜신분으로"),
    "d-kwak": ("donga", "곽상도 아들"),
    "k-police": ("kmib", "경찰국장"),
    "d-police": ("donga", "경찰국 파견"),
    "n-police": ("nocut", "경찰국 신설"),
    "p-heat": ("pressian", "'열대야', 군산"),
    "p-heat-photo": ("pressian", "[포토] 오늘 밤도"),
    "p-weather-jb": ("pressian", "전북 7월 마지막 주말"),
    "j-beomgyu1": ("joongang", "[포토] 범규, 분위기를"),
    "j-beomgyu2": ("joongang", "[포토] 범규, 빠져드는"),
    "j-beomgyu3": ("joongang", "[포토] 범규, 완벽한"),
    "j-hueningkai1": ("joongang", "[포토] 휴닝카이, 여심녹이는"),
    "j-hueningkai2": ("joongang", "[포토] 휴닝카이, 파워풀한"),
    "j-txt1": ("joongang", "[포토] TXT, 더욱"),
    "j-txt2": ("joongang", "[포토] TXT가 돌아왔다"),
    "j-taehyun": ("joongang", "[포토] 태현, 목소리도"),
    "j-kim": ("joongang", "김서연"),
    "j-deathnote": ("joongang", "데스노트"),
    "r-vaxx1": ("reddit-worldnews-atom", "t3_dw73pe"),
    "r-vaxx2": ("reddit-worldnews-atom", "t3_dw5y2f"),
    "r-syria1": ("reddit-worldnews-atom", "t3_dw01fv"),
    "r-syria2": ("reddit-worldnews-atom", "t3_dw3776"),
    "r-bio": ("reddit-worldnews-atom", "A bioplastic"),
    "r-hk-schools": ("reddit-worldnews-atom", "Hong Kong to close"),
    "r-hk-uk": ("reddit-worldnews-atom", "UK ministers threaten"),
    "r-hk-tsai": ("reddit-worldnews-atom", "Tsai Ing-wen"),
    "t-gmail": ("techcrunch", "Native Gmail App"),
    "t-aol": ("techcrunch", "Tim Armstrong"),
    "t-bbm1": ("techcrunch", "Maybe BBM Music"),
    "t-bbm2": ("techcrunch", "BBM Music App Goes Live"),
}

# The joongang fixture is 30 photo items of one showcase; the set keeps a sample of it.
JOONGANG_KEEP = {k for k in REAL if k.startswith("j-")}

# Copy groups: the same text reused (wire reposts, growing versions, section re-posts).
COPY = [
    ["covid30-yh", "covid30-mbn", "covid30-ki", "covid30-ed", "covid30-bs"],
    ["covid31-yh", "covid31-mbn", "covid31-ki", "covid31-bs"],
    ["covid01-yh", "covid01-bs"],
    ["fire-1", "fire-2", "fire-3", "fire-bs1", "fire-mbn", "fire-as"],
    ["fireb-yh", "fireb-bs"],
    ["bnk-yh", "bnk-bs", "bnk-as", "d-bnk"],
    ["bnkkn-yh", "bnkkn-ki"],
    ["sam-yh", "sam-hk", "sam-ed", "sam-as"],
    ["lge-yh", "lge-hk", "lge-as"],
    ["skh-yh", "skh-ed"],
    ["court1-ns", "court1-ki", "court1-mbn"],
    ["court2-ns", "court2-as"],
    ["obit-yh", "obit-ki", "obit-mbn"],
    ["obitA-yh", "obitA-ns"],
    ["wx30-yh", "wx30-mbn"],
    ["wx31-yh", "wx31-mbn"],
    ["gallup-yh", "gallup-ki", "gallup-mbn", "gallup-ed"],
    ["realm-yh", "realm-ns"],
    ["public-yh", "public-hk", "public-ed", "public-as"],
    ["school-yh", "school-ns", "school-ki", "school-mbn"],
    ["pepsi-n1", "pepsi-as", "pepsi-mbn"],
    ["lee-yh", "lee-n1", "lee-bs", "lee-mbn"],
    ["photoA-ns", "photoA-ki"],
    ["photoB-ns", "photoB-sa"],
    ["photoD-ns", "photoD-ki"],
    ["d-ppp-poll", "d-ppp-kwon"],
    ["r-vaxx1", "r-vaxx2"],
    ["r-syria1", "r-syria2"],
    ["t-gmail", "gmail-yahoo", "gmail-ap"],
    ["t-aol", "aol-ap", "aol-yahoo"],
    ["r-bio", "bio-yahoo"],
]

# Event groups: the same event written up separately (members are copy groups or stories).
EVENT = [
    ["pepsi-n1", "d-pepsi", "k-pepsi"],
    ["lee-yh", "d-lee", "k-lee"],
    ["d-ref", "k-ref"],
    ["school-yh", "d-school", "k-school"],
    ["public-yh", "d-public", "k-public"],
    ["gallup-yh", "d-poll3040", "k-poll30"],
    ["d-kia", "n-kia"],
    ["d-drill", "d-austin", "n-drill"],
    ["d-detain", "n-detain"],
    ["d-blinken", "n-blinken"],
    ["d-audit", "n-audit"],
    ["d-ljs", "n-ljs"],
    ["k-autism", "n-autism"],
    ["p-fire-photo", "p-fire"],
    ["obit-yh", "d-obit-singer"],
    ["wx30-yh", "d-wx", "k-wx"],
    ["d-ppp-poll", "d-ppp-key", "k-ppp-bae", "n-ppp-kwon"],
    ["j-beomgyu1", "j-beomgyu2", "j-beomgyu3", "j-hueningkai1", "j-hueningkai2", "j-txt1",
     "j-txt2", "j-taehyun"],
]

# Hard-negative families: same template or same person, different incident. Every pair across
# two different events of a family is labelled `different`.
DIFFERENT = [
    ["covid30-yh", "covid31-yh", "covid01-yh", "n-covid", "d-nk-covid", "p-covid-jb"],
    ["fire-1", "fireb-yh", "p-fire"],
    ["bnk-yh", "bnkkn-yh"],
    ["sam-yh", "lge-yh", "skh-yh"],
    ["court1-ns", "court2-ns", "d-fake-id", "d-kwak"],
    ["obit-yh", "obitA-yh", "obitB-yh", "obitC-yh", "d-obit-list", "n-obit"],
    ["d-ppl1", "d-ppl2"],
    ["wx30-yh", "wx31-yh", "p-weather-jb", "p-heat"],
    ["gallup-yh", "realm-yh", "k-editorial", "n-uspress"],
    ["photoA-ns", "photoB-ns", "photoC-ns", "photoD-ns", "p-heat-photo", "p-fire-photo"],
    ["lee-yh", "d-ref"],
    ["d-ljs", "k-ljs"],
    ["d-ppp-poll", "n-ppp-rules", "k-editorial"],
    ["k-police", "d-police", "n-police"],
    ["d-drill", "d-blinken", "d-detain"],
    ["j-beomgyu1", "j-kim", "j-deathnote"],
    ["r-hk-schools", "r-hk-uk", "r-hk-tsai"],
    ["t-bbm1", "t-bbm2"],
    ["aol-ap", "yq-ap"],
    ["t-gmail", "t-bbm2"],
]


def main():
    fixtures = Path(sys.argv[1])
    synth_keys = write_feeds()
    stories = []
    key_of = {}
    real_files = sorted((fixtures / "ko").glob("*-2022-07-30.xml")) + sorted((fixtures / "en").glob("*.xml"))
    for path in real_files:
        parsed = feed_test(path)
        short = re.sub(r"-\d{4}(-\d\d-\d\d)?$", "", path.stem)
        picked = []
        for key, (feed, needle) in REAL.items():
            if feed != short:
                continue
            hits = [s for s in parsed if needle in s["title"] or needle == s["id"]]
            if len(hits) != 1:
                raise SystemExit(f"{key}: {len(hits)} stories match {needle!r} in {path.name}")
            key_of[key] = hits[0]["id"]
            picked.append(hits[0]["id"])
        if short.startswith("joongang"):
            parsed = [s for s in parsed if s["id"] in picked]
        stories.extend(parsed)
    for path in sorted((HERE / "synthetic").glob("*.xml")):
        stories.extend(feed_test(path))
    for key, link in synth_keys.items():
        key_of[key] = link
    ids = [s["id"] for s in stories]
    if len(ids) != len(set(ids)):
        raise SystemExit("story ids are not unique")
    known = set(ids)
    for key, sid in key_of.items():
        if sid not in known:
            raise SystemExit(f"{key}: {sid} not among the stories")
    # Published order; ties keep feed order (a stable sort).
    stories.sort(key=lambda s: datetime.fromisoformat(s["published"]).timestamp() if s["published"] else 0)
    with open(HERE / "stories.jsonl", "w", encoding="utf-8") as f:
        for s in stories:
            f.write(json.dumps(s, ensure_ascii=False, separators=(",", ":")) + "\n")

    # Expand groups into story-id clusters.
    copy_of = {}
    for g, members in enumerate(COPY):
        for k in members:
            if k in copy_of:
                raise SystemExit(f"{k} is in two copy groups")
            copy_of[k] = g

    def copy_group(k):
        return [m for m in COPY[copy_of[k]]] if k in copy_of else [k]

    event_of = {}
    events = []
    for members in EVENT:
        keys = sorted({m for k in members for m in copy_group(k)})
        for k in keys:
            if k in event_of:
                raise SystemExit(f"{k} is in two event groups")
            event_of[k] = len(events)
        events.append(keys)

    def event_group(k):
        return events[event_of[k]] if k in event_of else copy_group(k)

    labels = {}

    def put(a, b, label):
        pa, pb = key_of[a], key_of[b]
        pair = tuple(sorted((pa, pb)))
        old = labels.get(pair)
        if old and old != label:
            raise SystemExit(f"{a} / {b}: labelled {old} and {label}")
        labels[pair] = label

    for members in COPY:
        for a, b in itertools.combinations(members, 2):
            put(a, b, "copy")
    for keys in events:
        for a, b in itertools.combinations(keys, 2):
            if a in copy_of and copy_of.get(a) == copy_of.get(b):
                continue
            put(a, b, "event")
    for family in DIFFERENT:
        for x, y in itertools.combinations(family, 2):
            ex, ey = event_group(x), event_group(y)
            if set(ex) & set(ey):
                raise SystemExit(f"{x} / {y}: one event in a hard-negative family")
            for a in ex:
                for b in ey:
                    put(a, b, "different")
    key_by_id = {v: k for k, v in key_of.items()}
    with open(HERE / "pairs.tsv", "w", encoding="utf-8") as f:
        f.write("a\tb\tlabel\tkeys\n")
        for (a, b), label in sorted(labels.items(), key=lambda kv: (kv[1], kv[0])):
            f.write(f"{a}\t{b}\t{label}\t{key_by_id[a]} / {key_by_id[b]}\n")
    counts = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    print(f"{len(stories)} stories, {len(labels)} pairs: {counts}")


if __name__ == "__main__":
    main()
