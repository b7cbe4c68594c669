//! `[delivery]`: how new subscriptions receive their matches (issue 15). `default` is the mode
//! `/subscribe` stores for a new subscription (`instant` unless set); subscriptions that exist
//! keep theirs, and a rule a subscription names no mode for is instant.

use serde::Deserialize;
use toml::Spanned;

use super::sink::Sink;
use crate::digest::schedule::Delivery;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryConfig {
    /// `instant`, `hourly`, `daily HH:MM`, `weekly DAY HH:MM` or `off`.
    pub default: Delivery,
}

pub(super) const KEYS: &[&str] = &["default"];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) default: Option<Spanned<String>>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw) -> DeliveryConfig {
    let mut config = DeliveryConfig::default();
    if let Some(d) = &raw.default {
        match d.get_ref().parse::<Delivery>() {
            Ok(mode) => config.default = mode,
            Err(e) => sink.error(d.span(), format!("[delivery] default: {e}")),
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn parse(src: &str) -> (Option<super::super::Config>, Vec<String>) {
        let (config, _, diags) = super::super::parse(src, Path::new("kkachi.toml"));
        (config, diags.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_default_mode_is_instant_unless_set_and_a_bad_one_names_its_place() {
        let (config, diags) = parse("");
        assert_eq!(
            config.expect("config").delivery.default.to_string(),
            "instant",
            "{diags:?}"
        );
        let (config, _) = parse("[delivery]\ndefault = \"daily 09:00\"\n");
        assert_eq!(
            config.expect("config").delivery.default.to_string(),
            "daily 09:00"
        );
        let (config, diags) = parse("[delivery]\ndefault = \"sometimes\"\nwhen = 1\n");
        assert!(config.is_none());
        assert!(
            diags.iter().any(|d| d.starts_with(
                "kkachi.toml:2:11: [delivery] default: invalid delivery mode \"sometimes\""
            )),
            "{diags:?}"
        );
        assert!(
            diags
                .iter()
                .any(|d| d.starts_with("kkachi.toml:3:1: unknown key `when` in [delivery]")),
            "{diags:?}"
        );
    }
}
