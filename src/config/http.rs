//! `[http]`: the metrics and health endpoints.

use std::net::SocketAddr;

use serde::Deserialize;
use toml::Spanned;

use super::sink::Sink;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Where `/metrics`, `/healthz` and `/readyz` listen; `None` when `enabled = false`.
    pub listen: Option<SocketAddr>,
}

impl Default for HttpConfig {
    /// Enabled, on loopback only.
    fn default() -> Self {
        HttpConfig {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

pub(super) const KEYS: &[&str] = &["listen", "enabled"];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) listen: Option<Spanned<String>>,
    pub(super) enabled: Option<bool>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw) -> HttpConfig {
    let d = HttpConfig::default();
    let enabled = raw.enabled.unwrap_or(d.listen.is_some());
    HttpConfig {
        listen: match (&raw.listen, enabled) {
            (_, false) => None,
            (None, true) => d.listen,
            (Some(l), true) => match l.get_ref().parse::<SocketAddr>() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    sink.error(
                        l.span(),
                        format!(
                            "[http] listen: {:?} is not an address:port such as \"127.0.0.1:9464\"",
                            l.get_ref()
                        ),
                    );
                    None
                }
            },
        },
    }
}
