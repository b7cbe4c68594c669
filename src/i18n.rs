//! The languages kkachi speaks to people in Telegram: English and Korean. Every reply, button
//! label, notice and alert label is a message in `locales/{en,ko}/kkachi.ftl` (Fluent), compiled
//! into the binary by `fluent-templates`' `static_loader!` (an immutable static); code names a
//! message by its id and passes its placeables ([`t`]).
//!
//! Which language a chat gets ([`chat_lang`]): its explicit choice in `/settings`
//! (`ChatPrefs::lang`), else, in a private chat, the user's Telegram `language_code` (`ko`,
//! `ko-KR` → Korean, anything else → English; the last one seen is kept in
//! `ChatPrefs::user_lang` so that the sender, which has no user at hand, renders alerts in it),
//! else `[telegram] language` (English by default).
//!
//! Pure: no IO. Placeables are inserted as given: HTML-escape user, rule and feed text before
//! passing it (`telegram::render::escape`). Fluent's bidi isolation marks (U+2068/U+2069 around
//! each placeable) are off, or they would reach Telegram messages.
//!
//! Must not: choose a language from anything but its arguments (the bot and the sender read
//! the chat's preferences from the store and pass them in).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};
use serde::{Deserialize, Serialize};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Bidi isolation marks would end up in Telegram messages.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static KO: LanguageIdentifier = langid!("ko");

/// A language kkachi speaks. Stored in `prefs.v1` as `"en"` / `"ko"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    /// A Telegram `language_code` (IETF tag): `ko`, `ko-KR`, `KO_kr` → Korean; anything else
    /// (including none) → English.
    pub fn from_code(code: &str) -> Lang {
        let primary = code.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("ko") {
            Lang::Ko
        } else {
            Lang::En
        }
    }

    /// The config's and the store's spelling: `"en"`, `"ko"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    /// `"en"` | `"ko"` exactly (the config's `[telegram] language`).
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == s)
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::Ko => &KO,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The language of a chat: its explicit choice, else (private chats) the user's
/// `language_code`, else the operator's default.
pub fn chat_lang(explicit: Option<Lang>, user_code: Option<&str>, default: Lang) -> Lang {
    explicit
        .or_else(|| user_code.map(Lang::from_code))
        .unwrap_or(default)
}

/// A placeable's value: text (already escaped for HTML where it goes into HTML) or a number
/// (which selects plural forms).
pub type Arg = FluentValue<'static>;

/// A text placeable.
pub fn s(text: impl Into<String>) -> Arg {
    FluentValue::from(text.into())
}

/// A number placeable (plural selection: `{ $n -> [one] … *[other] … }`).
pub fn n(count: usize) -> Arg {
    FluentValue::from(count)
}

/// The message `id` in `lang` with its placeables. A message missing from `lang` falls back to
/// English; one missing everywhere (a bug: the tests check every id) comes back as its id.
pub fn t(lang: Lang, id: &str, args: &[(&'static str, Arg)]) -> String {
    let found = if args.is_empty() {
        LOCALES.try_lookup(lang.id(), id)
    } else {
        let map: HashMap<Cow<'static, str>, Arg> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        LOCALES.try_lookup_with_args(lang.id(), id, &map)
    };
    match found {
        Some(text) => text,
        None => {
            debug_assert!(false, "no message {id:?} in {lang}");
            tracing::error!(id, %lang, "no such message in the locales");
            id.to_string()
        }
    }
}

/// A weekday's name as a button or a date shows it (`Mon`, `월`).
pub fn weekday(lang: Lang, day: chrono::Weekday) -> String {
    const IDS: [&str; 7] = [
        "dayname-mon",
        "dayname-tue",
        "dayname-wed",
        "dayname-thu",
        "dayname-fri",
        "dayname-sat",
        "dayname-sun",
    ];
    t(lang, IDS[day.num_days_from_monday() as usize], &[])
}

/// A weekday as a delivery mode names it (`mon` in `weekly mon 09:00`, `월`).
pub fn weekday_in_mode(lang: Lang, day: chrono::Weekday) -> String {
    const IDS: [&str; 7] = [
        "day-mon", "day-tue", "day-wed", "day-thu", "day-fri", "day-sat", "day-sun",
    ];
    t(lang, IDS[day.num_days_from_monday() as usize], &[])
}

/// A delivery mode as the settings screens show it (`daily 09:00`, `매일 09:00`).
pub fn delivery(lang: Lang, mode: crate::digest::schedule::Delivery) -> String {
    use crate::digest::schedule::Delivery;
    let hm = |t: chrono::NaiveTime| t.format("%H:%M").to_string();
    match mode {
        Delivery::Instant => t(lang, "mode-instant", &[]),
        Delivery::Hourly => t(lang, "mode-hourly", &[]),
        Delivery::Off => t(lang, "mode-off", &[]),
        Delivery::Daily(at) => t(lang, "mode-daily", &[("time", s(hm(at)))]),
        Delivery::Weekly(d, at) => t(
            lang,
            "mode-weekly",
            &[("day", s(weekday_in_mode(lang, d))), ("time", s(hm(at)))],
        ),
    }
}

/// The message files, as compiled in (for the tests, which parse them).
#[cfg(test)]
const FILES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../locales/en/kkachi.ftl")),
    (Lang::Ko, include_str!("../locales/ko/kkachi.ftl")),
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_templates::fluent_bundle::FluentResource;
    use fluent_templates::fluent_bundle::types::FluentNumber;
    use fluent_templates::fluent_bundle::{FluentArgs, FluentBundle};

    use super::*;

    /// Every message id with the names of the variables its value and attributes use.
    fn placeables(src: &str) -> BTreeMap<String, BTreeSet<String>> {
        use fluent_syntax::ast;
        let res = fluent_syntax::parser::parse(src).unwrap_or_else(|(_, errs)| {
            panic!("the locale does not parse: {errs:?}");
        });
        fn in_pattern(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
            for el in &p.elements {
                if let ast::PatternElement::Placeable { expression } = el {
                    in_expr(expression, out);
                }
            }
        }
        fn in_inline(e: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
            match e {
                ast::InlineExpression::VariableReference { id } => {
                    out.insert(id.name.to_string());
                }
                ast::InlineExpression::Placeable { expression } => in_expr(expression, out),
                ast::InlineExpression::FunctionReference { arguments, .. } => {
                    for a in &arguments.positional {
                        in_inline(a, out);
                    }
                }
                _ => {}
            }
        }
        fn in_expr(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
            match e {
                ast::Expression::Inline(i) => in_inline(i, out),
                ast::Expression::Select { selector, variants } => {
                    in_inline(selector, out);
                    for v in variants {
                        in_pattern(&v.value, out);
                    }
                }
            }
        }
        let mut out = BTreeMap::new();
        for entry in res.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(v) = &m.value {
                    in_pattern(v, &mut vars);
                }
                for a in &m.attributes {
                    in_pattern(&a.value, &mut vars);
                }
                assert!(
                    out.insert(m.id.name.to_string(), vars).is_none(),
                    "message {} twice",
                    m.id.name
                );
            }
        }
        out
    }

    #[test]
    fn every_message_exists_in_both_languages_with_the_same_placeables() {
        let en = placeables(FILES[0].1);
        let ko = placeables(FILES[1].1);
        assert!(en.len() > 50, "{} messages", en.len());
        let en_ids: BTreeSet<&String> = en.keys().collect();
        let ko_ids: BTreeSet<&String> = ko.keys().collect();
        assert_eq!(
            en_ids.symmetric_difference(&ko_ids).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "ids in one language only"
        );
        for (id, vars) in &en {
            assert_eq!(Some(vars), ko.get(id), "placeables of {id}");
        }
    }

    #[test]
    fn every_message_formats_without_errors_or_isolation_marks() {
        for (lang, src) in FILES {
            for (id, vars) in placeables(src) {
                let args: Vec<(&'static str, Arg)> = vars
                    .iter()
                    .map(|v| {
                        let name: &'static str = Box::leak(v.clone().into_boxed_str());
                        (name, n(2))
                    })
                    .collect();
                let text = t(lang, &id, &args);
                assert!(!text.is_empty(), "{lang} {id}");
                assert!(
                    !text.contains(['\u{2068}', '\u{2069}']),
                    "{lang} {id}: isolation marks in {text:?}"
                );
                assert!(!text.contains("{$"), "{lang} {id}: {text:?}");
            }
            // The bundle itself reports no errors (a missing variable, a bad reference).
            let res = FluentResource::try_new(src.to_string()).expect("parses");
            let mut bundle = FluentBundle::new(vec![lang.id().clone()]);
            bundle.set_use_isolating(false);
            bundle.add_resource(res).expect("no duplicate ids");
            for (id, vars) in placeables(src) {
                let mut args = FluentArgs::new();
                for v in &vars {
                    args.set(v.clone(), FluentValue::Number(FluentNumber::from(1)));
                }
                let msg = bundle.get_message(&id).expect("message");
                let mut errors = Vec::new();
                if let Some(p) = msg.value() {
                    bundle.format_pattern(p, Some(&args), &mut errors);
                }
                assert!(errors.is_empty(), "{lang} {id}: {errors:?}");
            }
        }
    }

    #[test]
    fn placeables_are_inserted_without_marks_and_plurals_follow_the_language() {
        assert_eq!(
            t(Lang::En, "tap-subscribed", &[("name", s("ai"))]),
            "Subscribed to ai"
        );
        assert_eq!(
            t(Lang::Ko, "tap-subscribed", &[("name", s("ai"))]),
            "ai 구독했어요"
        );
        assert_eq!(t(Lang::En, "outlets-more", &[("n", n(1))]), "+1 outlet");
        assert_eq!(t(Lang::En, "outlets-more", &[("n", n(3))]), "+3 outlets");
    }

    #[test]
    fn english_names_of_modes_and_days_are_the_ones_the_code_prints() {
        use crate::digest::schedule::Delivery;
        use chrono::{NaiveTime, Weekday};
        let at = NaiveTime::from_hms_opt(21, 0, 0).expect("time");
        for mode in [
            Delivery::Instant,
            Delivery::Hourly,
            Delivery::Off,
            Delivery::Daily(at),
            Delivery::Weekly(Weekday::Sun, at),
        ] {
            assert_eq!(delivery(Lang::En, mode), mode.to_string());
        }
        assert_eq!(
            delivery(Lang::Ko, Delivery::Weekly(Weekday::Sun, at)),
            "매주 일 21:00"
        );
        for d in [Weekday::Mon, Weekday::Wed, Weekday::Sun] {
            assert_eq!(weekday(Lang::En, d), d.to_string());
        }
    }

    #[test]
    fn the_date_formats_in_the_locales_are_valid_chrono_formats() {
        use chrono::format::{Item, StrftimeItems};
        for lang in Lang::ALL {
            let f = t(lang, "clock-date-format", &[]);
            assert!(
                !StrftimeItems::new(&f).any(|i| matches!(i, Item::Error)),
                "{lang}: {f:?}"
            );
        }
    }

    #[test]
    fn old_prefs_records_decode_without_a_language() {
        let p: crate::store::outbox::ChatPrefs =
            serde_json::from_str(r#"{"tz":"Asia/Seoul","quiet":null}"#).expect("old record");
        assert_eq!((p.lang, p.user_lang.as_deref()), (None, None));
        assert_eq!(p.lang(Lang::Ko), Lang::Ko);
        let p = crate::store::outbox::ChatPrefs {
            user_lang: Some("ko-KR".into()),
            ..Default::default()
        };
        assert_eq!(p.lang(Lang::En), Lang::Ko);
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(json, r#"{"tz":null,"quiet":null,"user_lang":"ko-KR"}"#);
    }

    #[test]
    fn a_language_code_picks_korean_only_for_korean() {
        for (code, want) in [
            ("ko", Lang::Ko),
            ("ko-KR", Lang::Ko),
            ("KO_kr", Lang::Ko),
            ("en", Lang::En),
            ("en-US", Lang::En),
            ("kok", Lang::En),
            ("", Lang::En),
            ("ja", Lang::En),
        ] {
            assert_eq!(Lang::from_code(code), want, "{code}");
        }
        assert_eq!(chat_lang(Some(Lang::En), Some("ko"), Lang::Ko), Lang::En);
        assert_eq!(chat_lang(None, Some("ko-KR"), Lang::En), Lang::Ko);
        assert_eq!(chat_lang(None, Some("de"), Lang::Ko), Lang::En);
        assert_eq!(chat_lang(None, None, Lang::Ko), Lang::Ko);
        assert_eq!(Lang::parse("ko"), Some(Lang::Ko));
        assert_eq!(Lang::parse("KO"), None);
        assert_eq!(serde_json::to_string(&Lang::Ko).expect("json"), "\"ko\"");
    }
}
