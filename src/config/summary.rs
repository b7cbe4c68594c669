//! `[summary]` and `[summary.llm]`: how alerts are summarised.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::sink::{Sink, duration, positive};

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryConfig {
    /// Longest summary, in characters.
    pub max_chars: usize,
    /// Article pages (`full_text = true` feeds) may be fetched from loopback and private
    /// addresses. Off by default: a feed could otherwise point kkachi at the local network.
    pub allow_private: bool,
    pub llm: Option<LlmConfig>,
}

impl Default for SummaryConfig {
    /// The only home of `[summary]`'s defaults; `kkachi summarize` and `feed test` use them
    /// when no config loads.
    fn default() -> Self {
        SummaryConfig {
            max_chars: 280,
            allow_private: false,
            llm: None,
        }
    }
}

/// `[summary.llm]`: an OpenAI-compatible chat endpoint for abstractive summaries, with the
/// extractive summary as the fallback.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: url::Url,
    pub model: String,
    /// The environment variable that holds the API key (never the key itself).
    pub api_key_env: String,
    pub timeout: Duration,
}

impl LlmConfig {
    /// `api_key_env` when not set. (`base_url` and `model` have no default: the section
    /// needs them.)
    pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";
    /// `timeout` when not set.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
}

pub(super) const KEYS: &[&str] = &["max_chars", "allow_private", "llm"];
pub(super) const LLM_KEYS: &[&str] = &["base_url", "model", "api_key_env", "timeout"];

#[derive(Deserialize, Default)]
pub(super) struct Raw {
    pub(super) max_chars: Option<Spanned<i64>>,
    pub(super) allow_private: Option<bool>,
    pub(super) llm: Option<Spanned<RawLlm>>,
}

#[derive(Deserialize)]
pub(super) struct RawLlm {
    pub(super) base_url: Spanned<String>,
    pub(super) model: String,
    pub(super) api_key_env: Option<String>,
    pub(super) timeout: Option<Spanned<String>>,
}

pub(super) fn build(sink: &mut Sink<'_>, raw: Raw) -> SummaryConfig {
    let d = SummaryConfig::default();
    SummaryConfig {
        max_chars: positive(
            sink,
            raw.max_chars.as_ref(),
            d.max_chars,
            "[summary] max_chars",
        ),
        allow_private: raw.allow_private.unwrap_or(d.allow_private),
        llm: match raw.llm {
            None => d.llm,
            Some(llm) => build_llm(sink, llm),
        },
    }
}

fn build_llm(sink: &mut Sink<'_>, raw: Spanned<RawLlm>) -> Option<LlmConfig> {
    let span = raw.span();
    let raw = raw.into_inner();
    let base_url = match url::Url::parse(raw.base_url.get_ref()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            sink.error(
                raw.base_url.span(),
                format!(
                    "[summary.llm] base_url: {:?} is not an http(s) URL",
                    raw.base_url.get_ref()
                ),
            );
            return None;
        }
    };
    if raw.model.trim().is_empty() {
        sink.error(span, "[summary.llm] model must not be empty");
        return None;
    }
    Some(LlmConfig {
        base_url,
        model: raw.model,
        api_key_env: raw
            .api_key_env
            .unwrap_or_else(|| LlmConfig::DEFAULT_API_KEY_ENV.to_string()),
        timeout: duration(
            sink,
            raw.timeout.as_ref(),
            LlmConfig::DEFAULT_TIMEOUT,
            "[summary.llm] timeout",
        ),
    })
}
