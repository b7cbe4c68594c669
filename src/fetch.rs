//! Fetching feed bytes: the only module that knows reqwest.
//!
//! rustls; connect and total timeouts (the total covers the body too, so a body that never
//! ends fails); the body is streamed and capped (past `max_body_bytes` the fetch fails and
//! nothing is parsed; the cap applies after decompression); gzip/deflate/brotli; at most 5
//! redirects; conditional GET with the validators the caller kept; bounded concurrency overall
//! and per host. Files (`url = "path/to/feed.xml"`) are read with the same size cap.
//!
//! Invariant: this module returns raw bytes and the Content-Type header; it never decodes text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{FeedSource, FetchConfig, LlmConfig};

pub const MAX_REDIRECTS: usize = 5;

/// Conditional-GET validators from the previous successful fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug)]
pub enum Fetched {
    /// 304: the feed did not change; nothing to parse.
    NotModified,
    Body {
        bytes: Vec<u8>,
        content_type: Option<String>,
        validators: Validators,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?} ([fetch] timeout: the whole request, body included)")]
    Timeout(Duration),
    #[error("cannot connect within {0:?} ([fetch] connect_timeout)")]
    ConnectTimeout(Duration),
    #[error("body larger than the {limit}-byte limit ([fetch] max_body_bytes); nothing was parsed")]
    TooLarge { limit: u64 },
    #[error("HTTP {status}{}", retry_after.map(|d| format!(" (server asks to retry after {}s)", d.as_secs())).unwrap_or_default())]
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("too many redirects (more than {MAX_REDIRECTS})")]
    Redirects,
    #[error(
        "HTTP {status} redirects to {location:?}, which is not followed (feeds follow http and https redirects only)"
    )]
    RedirectNotFollowed {
        status: StatusCode,
        location: String,
    },
    #[error("request failed: {0}")]
    Request(String),
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("refused: {0}")]
    Refused(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// The wait the server asked for (Retry-After on 429/503).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A short, fixed name for the kind of failure (a metrics label: the set is closed).
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Timeout(_) => "timeout",
            FetchError::ConnectTimeout(_) => "connect_timeout",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Status { status, .. } => match status.as_u16() {
                429 => "http_429",
                400..=499 => "http_4xx",
                500..=599 => "http_5xx",
                _ => "http_other",
            },
            FetchError::Connect(_) => "connect",
            FetchError::Redirects | FetchError::RedirectNotFollowed { .. } => "redirects",
            FetchError::File { .. } => "file",
            FetchError::Refused(_) => "refused",
            FetchError::Request(_) | FetchError::Client(_) => "other",
        }
    }
}

pub struct Fetcher {
    client: reqwest::Client,
    /// For article pages: refuses loopback and private addresses unless allowed.
    page_client: reqwest::Client,
    allow_private_pages: bool,
    timeout: Duration,
    connect_timeout: Duration,
    max_body: u64,
    global: Arc<Semaphore>,
    per_host_limit: usize,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Fetcher {
    /// `allow_private_pages`: article pages may be fetched from loopback and private ranges
    /// (feeds themselves always may: the user configured them).
    pub fn new(cfg: &FetchConfig, allow_private_pages: bool) -> Result<Fetcher, FetchError> {
        let builder = || {
            reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .connect_timeout(cfg.connect_timeout)
                .timeout(cfg.timeout)
                .pool_max_idle_per_host(cfg.per_host_concurrency)
                .pool_idle_timeout(Duration::from_secs(30))
        };
        let client = builder()
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        let mut page = builder().redirect(page_redirect_policy(allow_private_pages));
        if !allow_private_pages {
            page = page.dns_resolver(Arc::new(PublicOnly));
        }
        let page_client = page
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            page_client,
            allow_private_pages,
            timeout: cfg.timeout,
            connect_timeout: cfg.connect_timeout,
            max_body: cfg.max_body_bytes,
            global: Arc::new(Semaphore::new(cfg.concurrency)),
            per_host_limit: cfg.per_host_concurrency,
            per_host: Mutex::new(HashMap::new()),
        })
    }

    fn host_semaphore(&self, host: &str) -> Arc<Semaphore> {
        // A poisoned lock only means another task panicked while inserting; the map is still
        // usable.
        let mut map = self.per_host.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host_limit)))
            .clone()
    }

    /// Fetches one feed (HTTP fetches wait for their host's and a global slot first).
    pub async fn fetch(
        &self,
        source: &FeedSource,
        validators: &Validators,
    ) -> Result<Fetched, FetchError> {
        match source {
            FeedSource::File(path) => self.read_file(path).await,
            FeedSource::Http(url) => {
                let _slots = self.slots(url).await?;
                self.get(url.clone(), validators).await
            }
        }
    }

    /// Waits for a slot on the URL's host, then a global one, so a slow host holds at most
    /// `per_host_concurrency` of the global slots. The slots are released when dropped.
    async fn slots(
        &self,
        url: &url::Url,
    ) -> Result<(OwnedSemaphorePermit, OwnedSemaphorePermit), FetchError> {
        let closed = |e: tokio::sync::AcquireError| FetchError::Request(e.to_string());
        let host = self
            .host_semaphore(url.host_str().unwrap_or(""))
            .acquire_owned()
            .await
            .map_err(closed)?;
        let global = self.global.clone().acquire_owned().await.map_err(closed)?;
        Ok((host, global))
    }

    /// Fetches an article page (http/https only; public addresses only unless allowed) with
    /// the same timeouts and size cap as feeds. Returns the raw bytes and the Content-Type.
    pub async fn fetch_page(
        &self,
        url: &url::Url,
    ) -> Result<(Vec<u8>, Option<String>), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Refused(format!(
                "{url}: only http and https pages are fetched"
            )));
        }
        if !self.allow_private_pages {
            check_public_host(url)?;
        }
        let _slots = self.slots(url).await?;
        let resp = self
            .page_client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let resp = success(resp)?;
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = self.read_body(resp).await?;
        Ok((bytes, content_type))
    }

    /// Asks an OpenAI-compatible chat endpoint for a summary of `text`. The caller checks the
    /// answer against its own limits and falls back to the extractive summary on any error.
    pub async fn chat_summary(
        &self,
        llm: &LlmConfig,
        api_key: &str,
        title: &str,
        text: &str,
        max_chars: usize,
    ) -> Result<String, FetchError> {
        let endpoint = format!(
            "{}/chat/completions",
            llm.base_url.as_str().trim_end_matches('/')
        );
        let system = format!(
            "You summarise news articles for an alert service. Answer with two or three factual \
             sentences in the article's own language, at most {max_chars} characters in all, with \
             no preamble, no markdown and nothing that is not in the article."
        );
        let body = serde_json::json!({
            "model": llm.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": format!("{title}\n\n{text}")},
            ],
        });
        let resp = self
            .client
            .post(&endpoint)
            .timeout(llm.timeout)
            .bearer_auth(api_key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let resp = success(resp)?;
        let bytes = self.read_body(resp).await?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| FetchError::Request(format!("not a chat completion: {e}")))?;
        answer["choices"][0]["message"]["content"]
            .as_str()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                FetchError::Request("the chat completion has no message content".to_string())
            })
    }

    async fn read_file(&self, path: &std::path::Path) -> Result<Fetched, FetchError> {
        let file_err = |source| FetchError::File {
            path: path.display().to_string(),
            source,
        };
        let meta = tokio::fs::metadata(path).await.map_err(file_err)?;
        if meta.len() > self.max_body {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let bytes = tokio::fs::read(path).await.map_err(file_err)?;
        Ok(Fetched::Body {
            bytes,
            content_type: None,
            validators: Validators::default(),
        })
    }

    async fn get(&self, url: url::Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let mut req = self.client.get(url);
        if let Some(etag) = &validators.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let resp = req.send().await.map_err(|e| self.classify(e))?;
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status.is_redirection()
            && let Some(location) = resp.headers().get(header::LOCATION)
        {
            // reqwest hands back a redirect it will not follow (another scheme): say so.
            return Err(FetchError::RedirectNotFollowed {
                status,
                location: String::from_utf8_lossy(location.as_bytes()).into_owned(),
            });
        }
        if !status.is_success() {
            let retry_after = match status {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    retry_after(resp.headers())
                }
                _ => None,
            };
            return Err(FetchError::Status {
                status,
                retry_after,
            });
        }
        let headers = resp.headers();
        let text = |h: header::HeaderName| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = text(header::CONTENT_TYPE);
        let validators = Validators {
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
        };
        let bytes = self.read_body(resp).await?;
        Ok(Fetched::Body {
            bytes,
            content_type,
            validators,
        })
    }

    /// Streams the body, failing as soon as it passes the cap.
    async fn read_body(&self, resp: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        if resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let mut bytes = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.classify(e))?;
            if bytes.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(FetchError::TooLarge {
                    limit: self.max_body,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        // reqwest reports a connect timeout as both a timeout and a connect error.
        if e.is_timeout() && e.is_connect() {
            FetchError::ConnectTimeout(self.connect_timeout)
        } else if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_redirect() {
            FetchError::Redirects
        } else if e.is_connect() {
            FetchError::Connect(error_chain(&e))
        } else {
            FetchError::Request(error_chain(&e))
        }
    }
}

/// A non-2xx answer as an error (for pages and the LLM endpoint: only feeds honour
/// Retry-After, through their backoff).
fn success(resp: reqwest::Response) -> Result<reqwest::Response, FetchError> {
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(FetchError::Status {
            status: resp.status(),
            retry_after: None,
        })
    }
}

/// reqwest's top-level message is often just "error sending request"; the cause says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

/// Loopback, private, link-local, unspecified and other non-public addresses.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80)
        }
    }
}

fn check_public_host(url: &url::Url) -> Result<(), FetchError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        Some(url::Host::Domain(d))
            if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") =>
        {
            return Err(FetchError::Refused(format!("{url}: not a public address")));
        }
        _ => None,
    };
    match ip {
        Some(ip) if !is_public(ip) => Err(FetchError::Refused(format!(
            "{url}: {ip} is not a public address"
        ))),
        _ => Ok(()),
    }
}

fn page_redirect_policy(allow_private: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if !matches!(attempt.url().scheme(), "http" | "https") {
            attempt.error("redirect to a non-http(s) URL")
        } else if !allow_private && check_public_host(attempt.url()).is_err() {
            attempt.error("redirect to a non-public address")
        } else {
            attempt.follow()
        }
    })
}

/// A DNS resolver that drops non-public addresses, so a public name that resolves to
/// 127.0.0.1 or 10.x (or is re-pointed there later) is refused at connect time.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.max(0).unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn error_kinds_are_a_closed_set() {
        let status = |code| FetchError::Status {
            status: StatusCode::from_u16(code).expect("status"),
            retry_after: None,
        };
        for (e, kind) in [
            (FetchError::Timeout(Duration::from_secs(1)), "timeout"),
            (
                FetchError::ConnectTimeout(Duration::from_secs(1)),
                "connect_timeout",
            ),
            (FetchError::TooLarge { limit: 1 }, "too_large"),
            (status(429), "http_429"),
            (status(404), "http_4xx"),
            (status(503), "http_5xx"),
            (status(302), "http_other"),
            (FetchError::Connect("refused".into()), "connect"),
            (FetchError::Redirects, "redirects"),
            (
                FetchError::RedirectNotFollowed {
                    status: StatusCode::FOUND,
                    location: "file:///etc/passwd".into(),
                },
                "redirects",
            ),
            (FetchError::Refused("private".into()), "refused"),
            (FetchError::Request("reset".into()), "other"),
        ] {
            assert_eq!(e.kind(), kind, "{e}");
        }
    }

    /// Regression (issue 10): a connect timeout was reported as the total timeout.
    #[tokio::test]
    async fn a_connect_timeout_is_reported_as_one() {
        // A listening socket whose accept queue is full: the kernel drops further SYNs, so a
        // connect to it hangs (loopback only; nothing is ever accepted).
        // SAFETY: plain socket calls on a descriptor we own and close below.
        let (fd, port) = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, (&raw const addr).cast(), len), 0);
            assert_eq!(libc::listen(fd, 0), 0);
            let mut bound: libc::sockaddr_in = std::mem::zeroed();
            let mut blen = len;
            libc::getsockname(fd, (&raw mut bound).cast(), &mut blen);
            (fd, u16::from_be(bound.sin_port))
        };
        // Fill the queue: these connect (or hang) in the background and are never accepted.
        let fillers: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(move || std::net::TcpStream::connect(("127.0.0.1", port))))
            .collect();
        let cfg = FetchConfig {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_millis(500),
            max_body_bytes: 1_000_000,
            concurrency: 4,
            per_host_concurrency: 4,
            user_agent: "kkachi-test".into(),
            max_backoff: Duration::from_secs(60),
        };
        let fetcher = Fetcher::new(&cfg, false).expect("fetcher");
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/feed.xml")).expect("url");
        let mut err = None;
        // The first requests may still land in the queue (it holds one or two): the queue is
        // full once those are taken, and then the connect must time out.
        for _ in 0..4 {
            match fetcher.get(url.clone(), &Validators::default()).await {
                Err(e @ FetchError::ConnectTimeout(_)) => {
                    err = Some(e);
                    break;
                }
                _ => continue,
            }
        }
        // SAFETY: closing our own descriptor (the fillers then fail or finish).
        unsafe { libc::close(fd) };
        drop(fillers);
        let err = err.expect("a connect timeout");
        assert_eq!(
            err.to_string(),
            "cannot connect within 500ms ([fetch] connect_timeout)"
        );
        assert_eq!(err.kind(), "connect_timeout");
    }

    #[test]
    fn public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["1.1.1.1", "211.234.10.1", "2001:4860:4860::8888"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
        let refused = check_public_host(&url::Url::parse("http://127.0.0.1:8080/a").expect("url"));
        assert!(refused.is_err());
        assert!(check_public_host(&url::Url::parse("http://localhost/a").expect("url")).is_err());
        assert!(
            check_public_host(&url::Url::parse("https://www.yna.co.kr/a").expect("url")).is_ok()
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
