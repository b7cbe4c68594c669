# kkachi의 한국어 메시지. ../en/kkachi.ftl의 모든 id가 같은 자리표시자로 여기에도 있어야 해요
# (src/i18n.rs의 단위 테스트가 확인해요). 메시지는 Telegram HTML이에요: 자리표시자는 이스케이프된
# 채로 들어오고, & < > 자체를 쓰려면 &amp; &lt; &gt;로 써요. 말투는 해요체.

## 명령 설명 (/help와 setMyCommands)

cmd-start = 시작하기, kkachi가 지켜보는 것
cmd-help = 모든 명령
cmd-topics = 구독할 수 있는 주제와 구독·해지 버튼
cmd-subscribe = 이름 [이름…]: 이 주제들의 알림 받기
cmd-unsubscribe = 이름 [이름…] 또는 all: 이 주제들의 알림 끊기
cmd-list = 이 대화방의 구독 목록
cmd-pause = 구독은 그대로 두고 이 대화방 알림 멈추기
cmd-resume = /pause 뒤에 알림 다시 받기
cmd-status = 피드, 대기열, 구독자 (kkachi 관리자 전용)
cmd-settings = 주제별 전달 방식(즉시, 요약, 끔), 시간대, 방해 금지 시간, 언어; tz 이름으로 시간대 설정
cmd-watch = 검색식 (또는 이름: 검색식): 나만의 검색식으로 알림 받기, 예: /watch DeepSeek
cmd-rules = 내 규칙(/watch) 목록과 일시 중지·삭제·테스트 버튼
cmd-unwatch = 이름: 내 규칙 하나 그만 보기
cmd-search = 검색식 (끝에 7d 같은 기간): 저장된 기사 중 최근 일치하는 것 보기(저장하지 않음)
help-head = kkachi가 알아듣는 명령이에요:
help-groups = 그룹에서는 명령 뒤에 @와 봇 이름을 붙여 주세요. 그룹의 구독은 그룹 관리자만 바꿀 수 있어요.

## 명령에 대한 답

welcome =
    <b>kkachi</b>는 뉴스 피드 { $feeds }개에서 주제 { $topics }개를 지켜보다가, 이 대화방이 구독한 주제에 맞는 새 기사가 나오면 한 번 알려 드려요.

    /topics에서 버튼 한 번으로 구독하거나 <code>/subscribe 이름</code>을 보내세요. /help에 모든 명령이 있어요.
welcome-back = 다시 오셨네요. 예전 구독이 다시 켜졌어요.
status-admins-only = /status는 kkachi 관리자만 쓸 수 있어요.
settings-usage = 설정 버튼은 /settings를 보내고, 이 대화방의 시간대를 정하려면 <code>/settings tz 도시</code>를 보내세요.
store-failed = 죄송해요, 지금은 처리하지 못했어요. 잠시 뒤에 다시 해 주세요.
sub-which =
    어떤 주제인가요? <code>/subscribe 이름</code>에 다음 중 하나 이상을 붙여 보내세요: { $names }.
    버튼으로 고를 수도 있어요: /topics
sub-done = { $names } 구독했어요.
sub-already = { $names }은(는) 이미 구독 중이에요.
paused-note = 이 대화방의 알림은 일시 중지 중이에요. 다시 받으려면 /resume을 보내세요.
unsub-which = 어떤 주제인가요? <code>/unsubscribe 이름</code>이나 <code>/unsubscribe all</code>을 보내세요. 구독 목록은 /list에 있어요.
unsub-none = 이 대화방은 구독한 주제가 없어요.
unsub-all = 주제 { $n }개를 모두 구독 해지했어요. 다시 고르려면 /topics를 보내세요.
unsub-done = { $names } 구독을 해지했어요.
unsub-not = 이 대화방은 { $names }을(를) 구독하지 않았어요.
pause-already = 이 대화방의 알림은 이미 일시 중지 중이에요. 다시 받으려면 /resume을 보내세요.
pause-done = 일시 중지했어요. /resume 전까지 이 대화방에 알림을 보내지 않아요. 구독은 그대로 있어요.
resume-done = 다시 시작했어요. 다음 새 기사부터 이 대화방에 알림이 가요.
resume-not = 이 대화방의 알림은 일시 중지 상태가 아니에요.
names-none = (아직 없어요: kkachi에 규칙이 없어요)
unknown-topic = <code>{ $name }</code>이라는 주제는 없어요.
unknown-topic-hint = <code>{ $name }</code>이라는 주제는 없어요 (<code>{ $hint }</code>을(를) 찾으셨나요?).
topics-all = 주제: { $names }.
unknown-command = <code>{ $name }</code>은(는) 모르는 명령이에요.
unknown-command-hint = <code>{ $name }</code>은(는) 모르는 명령이에요. { $hint }을(를) 찾으셨나요?
not-a-command = 명령만 알아들어요.
recent-head = <b>최근 일치 기사</b> (최근 { $hours }시간):
recent-head-some = <b>최근 일치 기사</b> (최근 { $hours }시간, { $total }건 중 최신 { $shown }건):
list-none = 이 대화방은 구독한 주제가 없어요. /topics에서 골라 보세요.
list-head = <b>이 대화방의 구독</b>
list-gone = rules.toml에서 사라졌어요: 구독은 남겨 두고, 규칙이 돌아오면 알림도 다시 가요
list-fixed = rules.toml 설정으로 항상 여기로 보내요: { $names }.

## 누가 무엇을 바꿀 수 있는지

refuse-not-allowed = 죄송해요, 이 kkachi는 운영자가 허용한 대화방에만 알림을 보내요. 이 대화방도 받아야 한다면 운영자에게 대화방 id <code>{ $chat }</code>을(를) 추가해 달라고 해 주세요.
refuse-not-admin = 이 그룹의 구독은 그룹 관리자만 바꿀 수 있어요.
tap-not-admin-settings = 이 그룹의 설정은 그룹 관리자만 바꿀 수 있어요.
tap-not-allowed = 죄송해요, 이 대화방은 구독할 수 없어요.
tap-failed = 죄송해요, 지금은 처리하지 못했어요.

## /topics

topics-none = 아직 주제가 없어요: 운영자가 규칙을 쓰지 않았어요.
topics-head = <b>주제</b> (✅ = 이 대화방이 알림을 받는 주제)
topics-fixed = (rules.toml 설정으로 항상 여기로 보내요)
topics-more = …외 { $n }개: 모든 주제는 <code>/subscribe 이름</code>으로 구독할 수 있어요.
topics-tap = 버튼을 눌러 구독하거나 해지하세요.
topics-outdated = 오래된 버튼이에요. /topics를 다시 보내 주세요.
tap-gone = { $name } 주제는 규칙에서 사라졌어요.
tap-subscribed = { $name } 구독했어요
tap-unsubscribed = { $name } 구독을 해지했어요

## /settings

settings-head = <b>설정</b>
settings-no-topics = 이 대화방은 아직 구독한 주제가 없어요. /topics에서 골라 보세요.
settings-delivery = <b>전달 방식</b> (주제를 눌러 바꿔요)
settings-personal = <b>내 규칙</b> (/watch, 눌러서 전달 방식을 바꿔요)
settings-first-buttons = (처음 { $n }개 주제만 버튼이 있어요)
settings-zone = <b>시간대</b>: { $zone }
settings-zone-default = <b>시간대</b>: { $zone } (kkachi 기본값)
settings-zone-hint = 또는 <code>/settings tz 도시</code>를 입력하세요 (도시 이름이나 IANA 이름).
settings-quiet = <b>방해 금지 시간</b>: { $quiet }
settings-language = <b>언어</b>: { $lang }
settings-outdated = 오래된 버튼이에요. /settings를 다시 보내 주세요.
settings-rule =
    <b>설정 · { $name }</b>

    전달 방식: <b>{ $mode }</b>

    즉시: 일치할 때마다 바로 · 매시간, 매일, 매주: 요약 메시지 한 통 · 끔: 보내지 않아요.
settings-back = « 전체 설정
quiet-off = 끔
quiet-hold = 모아 두기 (알림을 모았다가 끝나면 한 번에 보내요)
quiet-silent = 무음 (알림이 소리 없이 가요)
quiet-range = { $from }–{ $to }, { $mode }
button-hold = 모아 두기
button-silent = 무음
tap-not-subscribed = 이 주제는 이제 여기서 구독하지 않아요.
tap-mode = { $name }: { $mode }
tap-zone = 시간대: { $zone }
tap-quiet = 방해 금지 시간: { $quiet }
tap-quiet-off = 방해 금지 시간이 꺼져 있어요.
tap-language = 언어: 한국어
zone-set = 시간대를 <b>{ $zone }</b>(으)로 정했어요.
zone-bad =
    { $error }

    <code>/settings tz 도시</code>를 보내 주세요. 예: <code>/settings tz Seoul</code>
# 언어 이름은 모든 파일에서 같아요 (버튼은 각 언어를 그 언어로 보여 줘요).
lang-en = English
lang-ko = 한국어

## 전달 방식 (설정 화면과 버튼)

mode-instant = 즉시
mode-hourly = 매시간
mode-daily = 매일 { $time }
mode-weekly = 매주 { $day } { $time }
mode-off = 끔
button-daily = 매일
button-weekly = 매주
day-mon = 월
day-tue = 화
day-wed = 수
day-thu = 목
day-fri = 금
day-sat = 토
day-sun = 일
# 주간 요약의 요일 버튼.
dayname-mon = 월
dayname-tue = 화
dayname-wed = 수
dayname-thu = 목
dayname-fri = 금
dayname-sat = 토
dayname-sun = 일

## /status (kkachi 관리자)

status-head = <b>kkachi 상태</b>
status-feeds = <b>피드</b> ({ $n })
status-last-success = 마지막 성공 { $at }
status-no-success = 아직 성공 없음
status-failing = ⚠️ 실패 중 ({ $n }회 연속): { $error }
status-unknown-error = 알 수 없는 오류
status-outbox = <b>대기열</b>: 대화방 { $chats }곳에 { $queued }건
status-sent-today = <b>오늘 보낸 알림</b>: { $n }
status-subscribers = <b>규칙별 구독자</b>
status-inactive = (+{ $n } 일시 중지 또는 종료)
status-static = + 고정 대화방 { $n }곳
status-gone = (rules.toml에서 사라짐)

## 알림

alert-time-unknown = 시각 모름
alert-untitled = (제목 없음)
via-written = 입력한 그대로
via-dictionary = 사전
via-transliteration = 음역

## 요약

digest-hourly = { $time } 시간별 요약
digest-daily = { $time } 일간 요약
digest-weekly = { $day } { $time } 주간 요약
digest-catch-up = { $time } 방해 금지 시간 뒤 모아 보기
digest-counts = 규칙 { $rules }개 · 기사 { $stories }건
digest-more = +{ $n }건 더
outlets-more = +언론사 { $n }곳
clock-weekday = { $day } { $time }
clock-date-format = %-m월 %-d일 %H:%M

## kkachi 관리자에게 보내는 알림 (일반 텍스트, 운영자의 [telegram] language)

notice-feed-down =
    ⚠️ 피드 { $feed }이(가) { $since }부터 실패하고 있어요 (지금까지 { $duration }): { $error }
    kkachi가 계속 다시 시도해요. 복구되면 한 번 더 알려 드려요.
notice-feed-up = ✅ 피드 { $feed }이(가) { $duration } 동안 실패한 뒤 다시 작동해요.
notice-config-rejected = ⚠️ 수정된 설정을 kkachi가 거부했어요 ({ $why }). 이전 설정으로 계속 돌아가요.
notice-config-more = … 외 { $n }개 (`kkachi check`로 확인하세요)
notice-chat-gone = kkachi: 대화방 { $chat }은(는) 이제 알림을 받지 않아요 ({ $reason }). 구독을 끝냈고, 대기 중이던 메시지 { $dropped }건을 버렸어요.

## Personal rules (/watch, /rules, /unwatch, /search)

watch-usage = <code>/watch 검색식</code>을 보내면 나만의 검색식으로 알림을 받아요. 예: <code>/watch DeepSeek</code>, <code>/watch ai: OpenAI AND "한국 기업"</code> (앞에 <code>이름:</code>을 붙이면 이름이 돼요). rules.toml과 같은 문법이에요: AND, OR, NOT, "구절", 접두어*, title:, NEAR/5.
watch-off = 이 kkachi에서는 개인 규칙을 쓸 수 없어요. /topics에서 지켜보는 주제를 볼 수 있어요.
watch-query-problem = 검색식에 문제가 있어요:
watch-limit = 이 채팅에는 개인 규칙이 { $count }개 있어서 더 만들 수 없어요. /rules에서 하나를 지우면 새로 만들 수 있어요.
watch-name-taken = 이 채팅에 <b>{ $name }</b> 규칙이 이미 있어요. 먼저 /unwatch { $name } 하거나 다른 이름을 정해 주세요.
watch-button-save = ✅ 지켜보기
watch-button-cancel = ✖ 취소
watch-ask = 이 규칙을 지켜볼까요? 다음 수집부터 알림을 보내요.
watch-looking = 최근 { $days }일 기사를 찾아보고 있어요…
watch-preview-none = 최근 { $days }일 기사 중 일치하는 기사가 없어요.
watch-preview-all = 최근 { $days }일 기사 중 { $count }건이 일치했을 거예요:
watch-preview-newest = 최근 { $days }일 기사 중 { $count }건이 일치했을 거예요. 최신 { $shown }건:
watch-saved-answer = { $name } 지켜보는 중
watch-saved =
    ✅ <b>{ $name }</b> 지켜보는 중: <code>{ $query }</code>
    다음 수집부터 알림을 보내요. /rules에서 이 채팅의 규칙을 볼 수 있어요.
watch-exists-answer = { $name } 규칙이 이미 있어요
watch-exists = 이 채팅에 <b>{ $name }</b> 규칙이 이미 있어서 바뀐 게 없어요.
watch-limit-answer = 규칙이 너무 많아요
watch-limit-tap = 이 채팅에는 개인 규칙이 { $limit }개 있어서 더 만들 수 없어요. 바뀐 게 없어요. /rules에서 볼 수 있어요.
watch-cancel-answer = 취소했어요
watch-cancelled = 저장하지 않았어요. 바뀐 게 없어요.
watch-tap-outdated = 오래된 버튼이에요. 명령을 다시 보내 주세요.
watch-tap-not-admin = 이 그룹의 관리자만 규칙을 바꿀 수 있어요.
rules-none = 이 채팅에는 아직 개인 규칙이 없어요.
rules-head = <b>내 규칙</b> ({ $limit }개 중 { $count }개):
rules-paused = (일시 중지)
rules-button-delete = 🗑 삭제
rules-button-test = 🔎 테스트
rules-legend = ⏸ 일시 중지, ▶ 다시 시작, 🔎 최근 7일 기사 보기.
rules-gone-answer = 이미 없는 규칙이에요
rules-paused-answer = { $name } 일시 중지했어요
rules-resumed-answer = { $name } 다시 시작했어요
rules-deleted-answer = { $name } 삭제했어요
rules-testing-answer = { $name } 테스트 중
unwatch-usage = <code>/unwatch 이름</code>을 보내 주세요. /rules에서 이 채팅의 규칙을 볼 수 있어요.
unwatch-done = 이제 <b>{ $name }</b> 규칙을 지켜보지 않아요.
unwatch-unknown-none = 이 채팅에는 <b>{ $name }</b> 규칙이 없어요 (개인 규칙이 하나도 없어요).
unwatch-unknown = 이 채팅에는 <b>{ $name }</b> 규칙이 없어요. 있는 규칙: { $names }.
search-usage = <code>/search 검색식</code>을 보내면 kkachi가 저장한 기사 중 일치하는 최신 기사를 보여 드려요 (끝에 <code>3d</code>, <code>24h</code> 같은 기간을 붙일 수 있어요. 기본은 7일).
search-window-range = 기간 <code>{ $window }</code>은 쓸 수 없어요. 1h부터 365d까지 쓸 수 있어요.
search-days = { $count }일
search-hours = { $count }시간
search-head = 🔎 <code>{ $query }</code> · 최근 { $window }:
search-none = 기사가 없어요.
search-found = { $count }건 (최신순, { $from }–{ $to })
search-newer = ◀ 최신
search-older = 이전 ▶
search-page-answer = { $page }쪽

## Time zone buttons in /settings (the cities of digest::zone::COMMON)

city-seoul = 서울
city-tokyo = 도쿄
city-shanghai = 상하이
city-singapore = 싱가포르
city-london = 런던
city-berlin = 베를린
city-new-york = 뉴욕
city-los-angeles = 로스앤젤레스
