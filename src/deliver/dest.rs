//! [`Dest`]: where a message goes, a Telegram chat or one forum topic of it.
//!
//! A forum topic is named by its `message_thread_id` (the `/17` of a topic's message link
//! `t.me/c/1234567890/17/…`). Telegram limits chats, not topics, so rate limits, the per-chat
//! order, migrations and "chat gone" stay per chat; subscriptions, sent records, outbox
//! entries and pending digest items name the destination.
//!
//! Must not: know sled or teloxide (the store encodes it into keys, the sender into
//! `message_thread_id`).

use std::fmt;
use std::str::FromStr;

/// A chat, or one forum topic of a chat (`thread`: the topic's `message_thread_id`).
/// Orders by chat first, the whole chat before its topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dest {
    pub chat: i64,
    pub thread: Option<i32>,
}

impl Dest {
    /// The whole chat (no topic).
    pub const fn chat(chat: i64) -> Dest {
        Dest { chat, thread: None }
    }

    /// One forum topic of `chat`.
    pub const fn topic(chat: i64, thread: i32) -> Dest {
        Dest {
            chat,
            thread: Some(thread),
        }
    }
}

impl From<i64> for Dest {
    fn from(chat: i64) -> Dest {
        Dest::chat(chat)
    }
}

/// `-1001234567890` for a chat, `-1001234567890/17` for a topic (the form `rules.toml` takes).
impl fmt::Display for Dest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.thread {
            None => write!(f, "{}", self.chat),
            Some(t) => write!(f, "{}/{t}", self.chat),
        }
    }
}

/// Why a string is not a destination; the message names the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a chat: expected CHAT_ID or CHAT_ID/TOPIC_ID, such as \"-1001234567890/17\"{why}"
)]
pub struct DestError {
    pub text: String,
    why: &'static str,
}

impl FromStr for Dest {
    type Err = DestError;

    fn from_str(s: &str) -> Result<Dest, DestError> {
        let err = |why| DestError {
            text: s.to_string(),
            why,
        };
        let (chat, thread) = match s.trim().split_once('/') {
            None => (s.trim(), None),
            Some((c, t)) => (c, Some(t)),
        };
        let chat = chat.parse::<i64>().map_err(|_| err(""))?;
        match thread {
            None => Ok(Dest::chat(chat)),
            Some(t) => match t.parse::<i32>() {
                Ok(t) if t > 0 => Ok(Dest::topic(chat, t)),
                Ok(_) => Err(err(" (a topic id is positive)")),
                Err(_) => Err(err("")),
            },
        }
    }
}

/// As its text (`"-100123"`, `"-100123/17"`): a map keyed by chat ids in JSON (keys are
/// strings) keeps its encoding when its keys become destinations.
impl serde::Serialize for Dest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// From its text, or from a bare chat id (an integer).
impl<'de> serde::Deserialize<'de> for Dest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Dest, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Dest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a chat id or \"CHAT_ID/TOPIC_ID\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dest, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dest, E> {
                Ok(Dest::chat(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Dest, E> {
                i64::try_from(v).map(Dest::chat).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_chats_and_topics() {
        for (text, dest) in [
            ("-1001234567890", Dest::chat(-1_001_234_567_890)),
            ("42", Dest::chat(42)),
            ("-1001234567890/17", Dest::topic(-1_001_234_567_890, 17)),
        ] {
            assert_eq!(text.parse::<Dest>(), Ok(dest), "{text}");
            assert_eq!(dest.to_string(), text);
        }
        for bad in [
            "",
            "x",
            "-100/",
            "-100/x",
            "/17",
            "-100/0",
            "-100/-3",
            "-100/17/2",
        ] {
            let e = bad.parse::<Dest>().expect_err(bad).to_string();
            assert!(
                e.contains("expected CHAT_ID or CHAT_ID/TOPIC_ID"),
                "{bad}: {e}"
            );
        }
        assert!(Dest::chat(-5) < Dest::topic(-5, 1), "the whole chat first");
    }

    #[test]
    fn a_map_keyed_by_chat_ids_decodes_and_encodes_the_same() {
        use std::collections::BTreeMap;
        let old = r#"{"-100123":1,"42":2}"#;
        let map: BTreeMap<Dest, u8> = serde_json::from_str(old).expect("old map");
        assert_eq!(map.get(&Dest::chat(-100_123)), Some(&1));
        assert_eq!(serde_json::to_string(&map).expect("json"), old);
        let with_topic: BTreeMap<Dest, u8> =
            serde_json::from_str(r#"{"-100123/17":3}"#).expect("topic key");
        assert_eq!(with_topic.get(&Dest::topic(-100_123, 17)), Some(&3));
        assert_eq!(
            serde_json::from_str::<Dest>("-5").expect("int"),
            Dest::chat(-5)
        );
    }
}
