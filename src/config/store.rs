//! `[store]`: where the sled store lives and how long it remembers stories.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::sink::{Sink, positive};

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Relative paths resolve against the config file's directory (`$KKACHI_STORE` overrides
    /// it, see [`super::STORE_ENV`]).
    pub path: PathBuf,
    pub retention_days: u32,
}

impl Default for StoreConfig {
    /// The only home of `[store]`'s defaults (`path` still relative: the parser resolves it).
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("kkachi-data"),
            retention_days: 30,
        }
    }
}

pub(super) const KEYS: &[&str] = &["path", "retention_days"];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) path: Option<Spanned<String>>,
    pub(super) retention_days: Option<Spanned<i64>>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw, base: &Path) -> StoreConfig {
    let d = StoreConfig::default();
    StoreConfig {
        path: base.join(
            raw.path
                .as_ref()
                .map_or(d.path.as_path(), |p| Path::new(p.get_ref())),
        ),
        retention_days: positive(
            sink,
            raw.retention_days.as_ref(),
            d.retention_days,
            "[store] retention_days",
        ),
    }
}
