//! Personal rules: the queries a chat watches from the bot (`/watch`), beside the operator's
//! `rules.toml`. Pure: names, their checks, and the one rule set they compile into.
//!
//! A personal rule is an ordinary rule of its own [`RuleSet`] (built with the rules file's
//! alias settings, so it matches exactly like a file rule: aliases, particles, fields,
//! transliteration). Inside that set, and in every `RuleHit` and outbox entry it makes, its
//! name is [`internal`]: `@CHAT/NAME`. File rule names are `a-z`, `0-9`, `_` and `-` only, so
//! the two never collide, and the owner chat is read back from the name ([`owner`]) where a
//! hit is routed. People see [`display`]: the name they gave.

use super::{QueryError, RuleSet, Warning};

/// The longest personal rule name, in characters.
pub const NAME_MAX: usize = 32;

/// `@CHAT/NAME`: the rule's name inside the personal set and in alerts.
pub fn internal(chat: i64, name: &str) -> String {
    format!("@{chat}/{name}")
}

/// The owner chat and the name of a personal rule's internal name; `None` for a file rule.
pub fn split(rule: &str) -> Option<(i64, &str)> {
    let rest = rule.strip_prefix('@')?;
    let (chat, name) = rest.split_once('/')?;
    Some((chat.parse().ok()?, name))
}

/// The chat that owns a personal rule (by its internal name); `None` for a file rule.
pub fn owner(rule: &str) -> Option<i64> {
    split(rule).map(|(chat, _)| chat)
}

/// What people see for a rule: a personal rule's own name, a file rule's name as it is.
pub fn display(rule: &str) -> &str {
    split(rule).map_or(rule, |(_, name)| name)
}

/// Why a personal rule name is refused.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a rule name cannot be empty".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("a rule name has at most {NAME_MAX} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "a rule name uses letters, digits, _, - and . only (not {c:?})"
        ));
    }
    Ok(())
}

/// A name for a query given without one: its words joined by `-` (letters and digits only,
/// at most [`NAME_MAX`] characters), made unique among `taken` with `-2`, `-3`, …
pub fn derive_name(query: &str, taken: &[&str]) -> String {
    let mut base = String::new();
    for word in query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !matches!(*w, "AND" | "OR" | "NOT" | "NEAR"))
    {
        let sep = usize::from(!base.is_empty());
        if base.chars().count() + sep + word.chars().count() > NAME_MAX {
            if base.is_empty() {
                base = word.chars().take(NAME_MAX).collect();
            }
            break;
        }
        if sep == 1 {
            base.push('-');
        }
        base.push_str(&word.to_lowercase());
    }
    if base.is_empty() {
        base = "rule".into();
    }
    if !taken.contains(&base.as_str()) {
        return base;
    }
    (2..)
        .map(|n| {
            let suffix = format!("-{n}");
            let keep = NAME_MAX - suffix.chars().count();
            format!("{}{suffix}", base.chars().take(keep).collect::<String>())
        })
        .find(|name| !taken.contains(&name.as_str()))
        .expect("an unused name")
}

/// Splits `/watch`'s argument into an optional name and the query: `name: QUERY` names it
/// (the name is what comes before the first `:` when that is a valid name and a query
/// follows), otherwise the whole text is the query (`feed:연합뉴스` stays a query).
pub fn split_named(args: &str) -> (Option<&str>, &str) {
    let args = args.trim();
    if let Some((name, query)) = args.split_once(':') {
        let (name, query) = (name.trim(), query.trim());
        let field = super::Field::from_name(name).is_some();
        if !field && !query.is_empty() && check_name(name).is_ok() {
            return (Some(name), query);
        }
    }
    (None, args)
}

/// A query checked for `/watch`: its warnings, or the error `kkachi rules test` prints.
pub fn check_query(query: &str, max_chars: usize) -> Result<Vec<Warning>, QueryError> {
    let len = query.chars().count();
    if len > max_chars {
        return Err(QueryError {
            column: max_chars + 1,
            message: format!(
                "the query is {len} characters long; at most {max_chars} are allowed \
                 ([telegram] max_query_chars)"
            ),
        });
    }
    super::check_query(query)
}

/// One personal rule to compile: its owner, name and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source<'a> {
    pub chat: i64,
    pub name: &'a str,
    pub query: &'a str,
}

/// Compiles personal rules into one rule set with `base`'s alias settings (the rules file's
/// `builtin_aliases`, `[aliases]` and `transliterate`). A stored query that no longer parses
/// (a later version's grammar refused it) is left out and returned with its error, so the
/// caller can say so; the others still compile.
pub fn compile<'a>(
    base: &RuleSet,
    rules: impl IntoIterator<Item = Source<'a>>,
) -> (RuleSet, Vec<(String, QueryError)>) {
    base.sibling(
        rules
            .into_iter()
            .map(|r| (internal(r.chat, r.name), r.query.to_string())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_names_round_trip_and_never_look_like_file_rules() {
        let name = internal(-1001234567890, "딥시크");
        assert_eq!(name, "@-1001234567890/딥시크");
        assert_eq!(split(&name), Some((-1001234567890, "딥시크")));
        assert_eq!(owner(&name), Some(-1001234567890));
        assert_eq!(display(&name), "딥시크");
        assert_eq!(display("ai-chips"), "ai-chips");
        assert_eq!(owner("ai-chips"), None);
        assert_eq!(split("@x/y"), None);
        // A name with a slash keeps it: the chat is what comes before the first one.
        assert_eq!(split("@5/a/b"), Some((5, "a/b")));
    }

    #[test]
    fn names_are_checked_and_derived() {
        assert!(check_name("딥시크-ai_2.0").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("two words").unwrap_err().contains("' '"));
        assert!(check_name(&"가".repeat(NAME_MAX + 1)).is_err());
        assert_eq!(
            derive_name("OpenAI AND \"한국 기업\"", &[]),
            "openai-한국-기업"
        );
        assert_eq!(derive_name("DeepSeek", &["deepseek"]), "deepseek-2");
        assert_eq!(
            derive_name("DeepSeek", &["deepseek", "deepseek-2"]),
            "deepseek-3"
        );
        assert_eq!(derive_name("\"…\"", &[]), "rule");
        let long = derive_name(&"가나다라마바사아자차카타파하 ".repeat(4), &[]);
        assert!(long.chars().count() <= NAME_MAX, "{long}");
        let taken = [long.as_str()];
        let again = derive_name(&"가나다라마바사아자차카타파하 ".repeat(4), &taken);
        assert!(again.ends_with("-2") && again.chars().count() <= NAME_MAX);
    }

    #[test]
    fn a_name_before_a_colon_unless_it_is_a_field() {
        assert_eq!(
            split_named("ai: OpenAI OR 오픈AI"),
            (Some("ai"), "OpenAI OR 오픈AI")
        );
        assert_eq!(split_named("  DeepSeek "), (None, "DeepSeek"));
        assert_eq!(split_named("title:DeepSeek"), (None, "title:DeepSeek"));
        assert_eq!(split_named("feed:연합뉴스"), (None, "feed:연합뉴스"));
        assert_eq!(split_named("two words: x"), (None, "two words: x"));
        assert_eq!(split_named("ai:"), (None, "ai:"));
    }

    #[test]
    fn long_queries_are_refused_with_the_key_to_raise() {
        let e = check_query(&"a".repeat(301), 300).unwrap_err();
        assert_eq!(e.column, 301);
        assert!(e.message.contains("max_query_chars"), "{}", e.message);
        assert!(check_query("DeepSeek", 300).unwrap().is_empty());
        assert!(check_query("DeepSeek AND", 300).is_err());
    }

    #[test]
    fn personal_rules_match_like_file_rules_with_the_files_aliases() {
        let base = crate::rules::load(
            "[aliases]\nkbank = [\"케이뱅크\", \"K뱅크\"]\n[[rules]]\nname = \"x\"\nquery = \"x\"\n",
            std::path::Path::new("rules.toml"),
        )
        .expect("rules")
        .rules;
        let (set, errors) = compile(
            &base,
            [
                Source {
                    chat: 7,
                    name: "openai",
                    query: "OpenAI AND \"한국 기업\"",
                },
                Source {
                    chat: 8,
                    name: "bank",
                    query: "케이뱅크",
                },
                Source {
                    chat: 9,
                    name: "broken",
                    query: "a AND",
                },
            ],
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "@9/broken");
        assert_eq!(set.len(), 2);
        let doc = |title: &'static str| crate::rules::Doc {
            feed: "",
            title,
            summary: "",
            content: "",
        };
        let names = |title| -> Vec<String> {
            set.match_doc(&doc(title))
                .into_iter()
                .map(|m| m.rule)
                .collect()
        };
        assert_eq!(names("오픈AI, 한국 기업들과의 협력 확대"), ["@7/openai"]);
        assert_eq!(names("K뱅크 상장"), ["@8/bank"]);
        assert!(names("파인애플").is_empty());
    }
}
