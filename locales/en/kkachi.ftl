# kkachi's messages in English (the default). Every id here exists in ../ko/kkachi.ftl with the
# same placeables (a unit test in src/i18n.rs checks). Messages are Telegram HTML: placeables
# come in escaped; write &amp; &lt; &gt; for a literal & < >.

## Command descriptions (/help and setMyCommands)

cmd-start = welcome, and what kkachi watches
cmd-help = every command
cmd-topics = the topics you can follow, with buttons to subscribe or unsubscribe
cmd-subscribe = NAME [NAME…]: get alerts for these topics
cmd-unsubscribe = NAME [NAME…] or all: stop alerts for these topics
cmd-list = this chat's subscriptions
cmd-pause = stop alerts to this chat, keeping its subscriptions
cmd-resume = alerts again after /pause
cmd-status = feeds, queue and subscribers (kkachi admins only)
cmd-settings = delivery per topic (instant, digests, off), time zone, quiet hours, language; tz NAME sets the zone
cmd-watch = QUERY (or NAME: QUERY): alerts for your own query, e.g. /watch DeepSeek
cmd-rules = your own rules (/watch), with buttons to pause, delete or test each
cmd-unwatch = NAME: stop one of your own rules
cmd-search = QUERY (a window such as 7d at the end): the newest stored stories that match
help-head = kkachi understands these commands:
help-groups = In a group, add @ and the bot's name to a command; only the group's administrators can change its subscriptions.

## Replies to commands

welcome =
    <b>kkachi</b> watches { $feeds } { $feeds ->
        [one] news feed
       *[other] news feeds
    } for { $topics } { $topics ->
        [one] topic
       *[other] topics
    } and sends an alert, once, when a new story matches a topic this chat follows.

    /topics shows them with buttons to subscribe in one tap, or send <code>/subscribe NAME</code>. /help lists every command.
welcome-back = Welcome back: your earlier subscriptions are active again.
status-admins-only = Only kkachi's admins can use /status.
settings-usage = Send /settings for the settings buttons, or <code>/settings tz CITY</code> to set this chat's time zone.
store-failed = Sorry, kkachi could not do that just now. Please try again later.
sub-which =
    Which topics? Send <code>/subscribe NAME</code> with one or more of: { $names }.
    Or pick them with buttons: /topics
sub-done = Subscribed to { $names }.
sub-already = Already subscribed to { $names }.
paused-note = Alerts to this chat are paused: /resume to get them.
unsub-which = Which topics? Send <code>/unsubscribe NAME</code> or <code>/unsubscribe all</code>; /list shows yours.
unsub-none = This chat has no subscriptions.
unsub-all = Unsubscribed from all { $n } { $n ->
        [one] topic
       *[other] topics
    }. /topics to pick again.
unsub-done = Unsubscribed from { $names }.
unsub-not = This chat was not subscribed to { $names }.
pause-already = Alerts to this chat were already paused. /resume to get them again.
pause-done = Paused: no alerts to this chat until /resume. Your subscriptions are kept.
resume-done = Resumed: alerts to this chat start again with the next new story.
resume-not = Alerts to this chat are not paused.
names-none = (none yet: kkachi has no rules)
unknown-topic = There is no topic named <code>{ $name }</code>.
unknown-topic-hint = There is no topic named <code>{ $name }</code> (did you mean <code>{ $hint }</code>?).
topics-all = Topics: { $names }.
unknown-command = I don't know the command <code>{ $name }</code>.
unknown-command-hint = I don't know the command <code>{ $name }</code>. Did you mean { $hint }?
not-a-command = I only understand commands.
recent-head = <b>Recent matches</b> (last { $hours } h):
recent-head-some = <b>Recent matches</b> (last { $hours } h, newest { $shown } of { $total }):
list-none = This chat has no subscriptions. /topics to pick some.
list-head = <b>This chat's subscriptions</b>
list-gone = gone from rules.toml: kept, and alerts resume if it comes back
list-fixed = Always sent here by rules.toml: { $names }.

## Who may change what

refuse-not-allowed = Sorry, this kkachi only sends alerts to chats its operator has allowed. If you think this chat should get them, ask the operator to add chat id <code>{ $chat }</code>.
refuse-not-admin = Only this group's administrators can change its subscriptions.
tap-not-admin-settings = Only this group's administrators can change its settings.
tap-not-allowed = Sorry, this chat is not allowed to subscribe.
tap-failed = Sorry, kkachi could not do that just now.

## /topics

topics-none = kkachi has no topics yet: its operator has not written any rules.
topics-head = <b>Topics</b> (✅ = this chat gets its alerts)
topics-fixed = (always sent here by rules.toml)
topics-more = …and { $n } more: <code>/subscribe NAME</code> works for every topic.
topics-tap = Tap a button to subscribe or unsubscribe.
topics-outdated = This button is out of date: send /topics again.
tap-gone = The topic { $name } is gone from the rules.
tap-subscribed = Subscribed to { $name }
tap-unsubscribed = Unsubscribed from { $name }

## /settings

settings-head = <b>Settings</b>
settings-no-topics = This chat follows no topics yet: /topics to pick some.
settings-delivery = <b>Delivery</b> (tap a topic to change it)
settings-personal = <b>Your rules</b> (/watch; tap one to change how it is delivered)
settings-first-buttons = (buttons for the first { $n } topics)
settings-zone = <b>Time zone</b>: { $zone }
settings-zone-default = <b>Time zone</b>: { $zone } (kkachi's default)
settings-zone-hint = Or type <code>/settings tz CITY</code> (a city or an IANA name).
settings-quiet = <b>Quiet hours</b>: { $quiet }
settings-language = <b>Language</b>: { $lang }
settings-outdated = This button is out of date: send /settings again.
settings-rule =
    <b>Settings · { $name }</b>

    Delivery: <b>{ $mode }</b>

    instant: each match at once · hourly, daily, weekly: one digest message · off: nothing.
settings-back = « all settings
quiet-off = off
quiet-hold = hold (alerts wait and come as one catch-up when they end)
quiet-silent = silent (alerts come without a sound)
quiet-range = { $from }–{ $to }, { $mode }
button-hold = hold
button-silent = silent
tap-not-subscribed = This topic is not subscribed here any more.
tap-mode = { $name }: { $mode }
tap-zone = Time zone: { $zone }
tap-quiet = Quiet hours: { $quiet }
tap-quiet-off = Quiet hours are off.
tap-language = Language: English
zone-set = Time zone set to <b>{ $zone }</b>.
zone-bad =
    { $error }

    Send <code>/settings tz CITY</code>, e.g. <code>/settings tz Seoul</code>.
# A language's own name, the same in every file (the buttons show each in its own language).
lang-en = English
lang-ko = 한국어

## Delivery modes (the settings screens and buttons)

mode-instant = instant
mode-hourly = hourly
mode-daily = daily { $time }
mode-weekly = weekly { $day } { $time }
mode-off = off
button-daily = daily
button-weekly = weekly
day-mon = mon
day-tue = tue
day-wed = wed
day-thu = thu
day-fri = fri
day-sat = sat
day-sun = sun
# The weekday buttons of a weekly digest.
dayname-mon = Mon
dayname-tue = Tue
dayname-wed = Wed
dayname-thu = Thu
dayname-fri = Fri
dayname-sat = Sat
dayname-sun = Sun

## /status (kkachi admins)

status-head = <b>kkachi status</b>
status-feeds = <b>Feeds</b> ({ $n })
status-last-success = last success { $at }
status-no-success = no success yet
status-failing = ⚠️ failing ({ $n } in a row): { $error }
status-unknown-error = unknown error
status-outbox = <b>Outbox</b>: { $queued } queued for { $chats } { $chats ->
        [one] chat
       *[other] chats
    }
status-sent-today = <b>Sent today</b>: { $n }
status-subscribers = <b>Subscribers per rule</b>
status-inactive = (+{ $n } paused or ended)
status-static = + { $n } static { $n ->
        [one] chat
       *[other] chats
    }
status-gone = (gone from rules.toml)

## Alerts

alert-time-unknown = time unknown
alert-untitled = (untitled)
via-written = as written
via-dictionary = dictionary
via-transliteration = transliteration

## Digests

digest-hourly = { $time } hourly digest
digest-daily = { $time } daily digest
digest-weekly = { $day } { $time } weekly digest
digest-catch-up = { $time } catch-up after quiet hours
digest-counts = { $rules } { $rules ->
        [one] rule
       *[other] rules
    } · { $stories } { $stories ->
        [one] story
       *[other] stories
    }
digest-more = +{ $n } more
outlets-more = +{ $n } { $n ->
        [one] outlet
       *[other] outlets
    }
# A story's time in a digest line: within the week (DAY is dayname-*), and earlier (a chrono
# format: %b month, %-d day).
clock-weekday = { $day } { $time }
clock-date-format = %b %-d %H:%M

## Notices to kkachi's admins (plain text, in the operator's [telegram] language)

notice-feed-down =
    ⚠️ Feed { $feed } has been failing since { $since } ({ $duration } so far): { $error }
    kkachi keeps retrying; you will get one more notice when it recovers.
notice-feed-up = ✅ Feed { $feed } works again after failing for { $duration }.
notice-config-rejected = ⚠️ kkachi rejected the edited configuration ({ $why }); the previous one keeps running.
notice-config-more = … and { $n } more (see `kkachi check`)
notice-chat-gone = kkachi: chat { $chat } no longer receives alerts ({ $reason }). Its subscriptions are ended; { $dropped } queued message(s) dropped.

## Personal rules (/watch, /rules, /unwatch, /search)

watch-usage = Send <code>/watch QUERY</code> to get alerts for your own query, e.g. <code>/watch DeepSeek</code> or <code>/watch ai: OpenAI AND "한국 기업"</code> (<code>NAME:</code> in front names it). The same language as rules.toml: AND, OR, NOT, "phrases", prefix*, title:, NEAR/5.
watch-off = Personal rules are turned off on this kkachi; /topics lists what it watches.
watch-query-problem = That query has a problem:
watch-limit = This chat has { $count } personal rules, the most this kkachi allows. /rules lists them; delete one to add another.
watch-name-taken = This chat already watches a rule named <b>{ $name }</b>: /unwatch { $name } first, or pick another name.
watch-button-save = ✅ Watch
watch-button-cancel = ✖ Cancel
watch-ask = Watch it? Alerts start with the next poll.
watch-looking = Looking through the last { $days } days…
watch-preview-none = No story of the last { $days } days would have matched.
watch-preview-all = { $count ->
        [one] 1 story
       *[other] { $count } stories
    } of the last { $days } days would have matched:
watch-preview-newest = { $count } stories of the last { $days } days would have matched; the newest { $shown }:
watch-saved-answer = Watching { $name }
watch-saved =
    ✅ Watching <b>{ $name }</b>: <code>{ $query }</code>
    Alerts start with the next poll. /rules lists this chat's rules.
watch-exists-answer = { $name } exists already
watch-exists = This chat already watches a rule named <b>{ $name }</b>: nothing changed.
watch-limit-answer = Too many rules
watch-limit-tap = This chat has { $limit } personal rules, the most this kkachi allows: nothing changed. /rules lists them.
watch-cancel-answer = Cancelled
watch-cancelled = Not watched: nothing changed.
watch-tap-outdated = This button is out of date: send the command again.
watch-tap-not-admin = Only this group's administrators can change its rules.
rules-none = This chat has no personal rules yet.
rules-head = <b>Your rules</b> ({ $count } of { $limit }):
rules-paused = (paused)
rules-button-delete = 🗑 Delete
rules-button-test = 🔎 Test
rules-legend = ⏸ pauses a rule, ▶ resumes it, 🔎 shows its last 7 days.
rules-gone-answer = That rule is gone
rules-paused-answer = Paused { $name }
rules-resumed-answer = Resumed { $name }
rules-deleted-answer = Deleted { $name }
rules-testing-answer = Testing { $name }
unwatch-usage = Send <code>/unwatch NAME</code>; /rules lists this chat's rules.
unwatch-done = Stopped watching <b>{ $name }</b>.
unwatch-unknown-none = This chat has no rule named <b>{ $name }</b> (it has no personal rules).
unwatch-unknown = This chat has no rule named <b>{ $name }</b>; its rules: { $names }.
search-usage = Send <code>/search QUERY</code> (and a window such as <code>3d</code> or <code>24h</code> at the end; 7 days by default) to see the newest matching stories kkachi has kept.
search-window-range = The window <code>{ $window }</code> is out of range: use 1h to 365d.
search-days = { $count ->
        [one] 1 day
       *[other] { $count } days
    }
search-hours = { $count ->
        [one] 1 hour
       *[other] { $count } hours
    }
search-head = 🔎 <code>{ $query }</code> · last { $window }:
search-none = no stories.
search-found = { $count ->
        [one] 1 story
       *[other] { $count } stories
    } (newest first, { $from }–{ $to })
search-newer = ◀ Newer
search-older = Older ▶
search-page-answer = Page { $page }

## Time zone buttons in /settings (the cities of digest::zone::COMMON)

city-seoul = Seoul
city-tokyo = Tokyo
city-shanghai = Shanghai
city-singapore = Singapore
city-london = London
city-berlin = Berlin
city-new-york = New York
city-los-angeles = Los Angeles
