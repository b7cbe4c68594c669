//! Issue 10, "never lose, never stall": one `kkachi run` daemon polls a good feed beside ~30
//! hostile ones, all at once, from a loopback server that controls every byte (dribbled
//! headers, dripped and endless bodies, compression bombs, resets, redirect loops, broken
//! encodings, XML entity tricks, 50,000 items, a 5 MB title).
//!
//! The daemon must stay up (and `/healthz` answer) through several poll cycles, alert the good
//! feed's new story, log every failing feed with the right kind of reason, lose no story of the
//! odd-but-valid feeds (counted from the `polled` log line and the alerts on stdout), never let
//! a local file's content out, and keep its peak RSS under [`PEAK_RSS_KB`].
//!
//! Every check is collected and reported together at the end, so one run shows everything that
//! is wrong. Every load is bounded: the server's slow routes stop by themselves (at most 60 s)
//! and when the server is dropped; the daemon is killed by its guard even when the test panics.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Daemon, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `[fetch] timeout`: every slow route outlasts it many times over.
const FETCH_TIMEOUT: &str = "3s";
/// `[fetch] max_body_bytes`: the 50,000-item feed and the 5 MB title fit, the bombs do not.
const MAX_BODY: usize = 8_000_000;
/// What each compression bomb inflates to (twice the cap; ~1000:1 for gzip and deflate, far
/// more for brotli).
const BOMB_BYTES: usize = 16 * 1024 * 1024;
const BULK_ITEMS: usize = 50_000;
/// Peak RSS (VmHWM) bound for the whole daemon: 300 MB. Measured on this suite (debug build,
/// 2 cores): with `BULK_ITEMS = 10`, 121 MB (the daemon with ~30 small feeds, the 5 MB title's
/// body, text and story, and the size-capped bodies of the bombs and the endless body in
/// flight, two feeds processed at once on the blocking pool); with 50,000 items, 245 MB, so the
/// first poll of the 50,000-item feed adds ~124 MB, 2.5 KB a story, nearly all of it parsing
/// (feed-rs's model and the stories; `cargo bench --bench bigfeed` measures the same on the
/// release binary: 2.3 KB a story, < 150 MB for that feed alone). Before issue 10's fix the
/// same run peaked at 1,060–1,084 MB (one sled transaction of ~20 KB a story): the bound
/// leaves ~20% for scheduling noise (which bodies happen to be in flight together) and still
/// fails at a quarter of that old cost.
const PEAK_RSS_KB: u64 = 300 * 1024;
/// Liveness bound: the good feed's new story reaches stdout this soon after it is added.
/// Generous, so a slow CI machine never flakes; it is not a speed assertion.
const ALERT_WITHIN: Duration = Duration::from_secs(30);
/// Liveness bound for the whole run to reach its end state (every feed polled, several cycles).
const SETTLE_WITHIN: Duration = Duration::from_secs(90);
/// Poll cycles of the good feed after its new story, with every hostile feed being retried.
const CYCLES: usize = 3;

// ---------------------------------------------------------------------------------------------
// The loopback server: byte-level control, one route per behaviour.

#[derive(Clone)]
enum Serve {
    /// 200 with this body; with an ETag, a request that already has it gets 304 (so the heavy
    /// feeds are parsed once, on their first poll).
    Body {
        body: Arc<[u8]>,
        content_type: &'static str,
        content_encoding: Option<&'static str>,
        etag: Option<&'static str>,
    },
    /// The status line, then one header byte every 500 ms (for 30 s at most).
    SlowHeaders,
    /// Headers at once (Content-Length: 60), then one body byte a second.
    DripBody,
    /// No Content-Length, filler as fast as the client reads (for 60 s at most).
    Endless,
    /// An honest Content-Length of 64 MB, then the filler.
    Huge,
    Status {
        code: u16,
        retry_after: Option<&'static str>,
    },
    Redirect {
        to: String,
    },
    /// Content-Length: 100000, 2000 bytes of a feed, then a TCP reset.
    ResetMidBody,
}

struct HostileServer {
    addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Serve>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileServer {
    /// Starts on its own thread and runtime; dropping it ends every connection.
    fn start(routes: HashMap<String, Serve>) -> HostileServer {
        let routes = Arc::new(Mutex::new(routes));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let r = routes.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                tokio::pin!(stop_rx);
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((sock, _)) = accepted else { continue };
                            tokio::spawn(handle(sock, r.clone()));
                        }
                    }
                }
            });
            // Dropping the runtime cancels every connection still being served.
        });
        let addr = addr_rx.recv().expect("server address");
        HostileServer {
            addr,
            routes,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn set(&self, path: &str, serve: Serve) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), serve);
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads the request head (bounded in size and time): the path and the lower-cased headers.
async fn read_request(sock: &mut TcpStream) -> Option<(String, HashMap<String, String>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split_whitespace().nth(1)?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((path, headers))
}

async fn handle(mut sock: TcpStream, routes: Arc<Mutex<HashMap<String, Serve>>>) {
    let Some((path, headers)) = read_request(&mut sock).await else {
        return;
    };
    let serve = routes.lock().expect("routes").get(&path).cloned();
    let Some(serve) = serve else {
        let _ = respond(&mut sock, 404, &[], b"not found").await;
        return;
    };
    let _ = serve_one(&mut sock, serve, &headers).await;
}

async fn serve_one(
    sock: &mut TcpStream,
    serve: Serve,
    headers: &HashMap<String, String>,
) -> std::io::Result<()> {
    match serve {
        Serve::Body {
            body,
            content_type,
            content_encoding,
            etag,
        } => {
            if etag.is_some() && headers.get("if-none-match").map(String::as_str) == etag {
                return respond(sock, 304, &[], b"").await;
            }
            let mut extra = vec![("Content-Type", content_type.to_string())];
            if let Some(e) = content_encoding {
                extra.push(("Content-Encoding", e.to_string()));
            }
            if let Some(e) = etag {
                extra.push(("ETag", e.to_string()));
            }
            respond(sock, 200, &extra, &body).await
        }
        Serve::SlowHeaders => {
            sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n")
                .await?;
            for &b in b"X-Dribble: ".iter().chain([b'a'; 50].iter()) {
                sock.write_all(&[b]).await?;
                sock.flush().await?;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            sock.shutdown().await
        }
        Serve::DripBody => {
            let body = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel></channel></rss>";
            let body = &body[..60];
            sock.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\
                  Content-Length: 60\r\nConnection: close\r\n\r\n",
            )
            .await?;
            for &b in body {
                sock.write_all(&[b]).await?;
                sock.flush().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            sock.shutdown().await
        }
        Serve::Endless => {
            sock.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n\
                  <?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>",
            )
            .await?;
            filler(sock, usize::MAX).await
        }
        Serve::Huge => {
            sock.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\
                  Content-Length: 64000000\r\nConnection: close\r\n\r\n",
            )
            .await?;
            filler(sock, 64_000_000).await
        }
        Serve::Status { code, retry_after } => {
            let extra: Vec<(&str, String)> = retry_after
                .map(|r| ("Retry-After", r.to_string()))
                .into_iter()
                .collect();
            respond(sock, code, &extra, b"<html><body>error</body></html>").await
        }
        Serve::Redirect { to } => respond(sock, 302, &[("Location", to)], b"").await,
        Serve::ResetMidBody => {
            let feed = korean_feed("reset", "UTF-8");
            sock.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\
                  Content-Length: 100000\r\nConnection: close\r\n\r\n",
            )
            .await?;
            sock.write_all(&feed.as_bytes()[..feed.len().min(2000)])
                .await?;
            sock.flush().await?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            // SO_LINGER 0: closing sends RST instead of FIN.
            sock.set_zero_linger()?;
            Ok(())
        }
    }
}

async fn respond(
    sock: &mut TcpStream,
    code: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.shutdown().await
}

/// Up to `len` bytes of spaces in 64 KiB writes, for 60 s at most or until the client goes.
async fn filler(sock: &mut TcpStream, len: usize) -> std::io::Result<()> {
    let chunk = vec![b' '; 64 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut sent = 0usize;
    while sent < len && tokio::time::Instant::now() < deadline {
        let n = chunk.len().min(len - sent);
        sock.write_all(&chunk[..n]).await?;
        sent += n;
    }
    sock.shutdown().await
}

// ---------------------------------------------------------------------------------------------
// The feeds.

const KO_TITLES: [&str; 3] = [
    "한국은행, 기준금리 3.25%로 동결",
    "서울 아파트값 3주 연속 상승",
    "반도체 수출 두 달째 증가세",
];

/// A three-item Korean RSS feed whose declaration says `encoding`.
fn korean_feed(prefix: &str, encoding: &str) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n<rss version=\"2.0\"><channel>\
         <title>{prefix}</title><link>https://{prefix}.example.kr/</link>\n"
    );
    for (i, title) in KO_TITLES.iter().enumerate() {
        let _ = writeln!(
            s,
            "<item><guid>{prefix}-{i}</guid><title>{title}</title>\
             <link>https://{prefix}.example.kr/news/{i}</link>\
             <description>회사는 27일 이같이 밝혔다. 업계는 이번 발표에 주목하고 있다.</description>\
             <pubDate>Fri, 27 Nov 2026 0{i}:00:00 +0900</pubDate></item>"
        );
    }
    s.push_str("</channel></rss>\n");
    s
}

/// RSS around pre-rendered items.
fn rss_of(title: &str, items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>{title}</title><link>https://{title}.example.com/</link>\n{items}</channel></rss>\n"
    )
}

fn good_feed(n: usize) -> Vec<u8> {
    let mut items = String::new();
    for i in 1..=n {
        let _ = writeln!(
            items,
            "<item><guid>good-{i}</guid><title>까치 특종 {i}호: 반도체 수출 급증</title>\
             <link>https://good.example.kr/news/{i}</link>\
             <description>회사는 27일 이같이 밝혔다. 업계는 이번 발표에 주목하고 있다.</description>\
             <pubDate>Fri, 27 Nov 2026 1{i}:00:00 +0900</pubDate></item>"
        );
    }
    rss_of("good", &items).into_bytes()
}

fn bulk_feed() -> Vec<u8> {
    let mut items = String::with_capacity(BULK_ITEMS * 100);
    for i in 0..BULK_ITEMS {
        let _ = writeln!(
            items,
            "<item><guid>bulk-{i}</guid><title>Bulk story {i}</title>\
             <link>https://bulk.example.com/{i}</link></item>"
        );
    }
    rss_of("bulk", &items).into_bytes()
}

fn big_title_feed() -> Vec<u8> {
    let title = "큰제목 ".repeat(500_000); // 5,000,000 bytes
    rss_of(
        "bigtitle",
        &format!(
            "<item><guid>big-1</guid><title>{title}</title><link>https://bigtitle.example.com/1</link></item>\n\
             <item><guid>big-2</guid><title>평범한 제목</title><link>https://bigtitle.example.com/2</link></item>\n"
        ),
    )
    .into_bytes()
}

fn bomb(encoding: &str) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(&mut out, flate2::Compression::best());
            for _ in 0..BOMB_BYTES >> 20 {
                e.write_all(&zeros).expect("gzip");
            }
            e.finish().expect("gzip");
        }
        "deflate" => {
            // HTTP's "deflate" is the zlib format.
            let mut e = flate2::write::ZlibEncoder::new(&mut out, flate2::Compression::best());
            for _ in 0..BOMB_BYTES >> 20 {
                e.write_all(&zeros).expect("deflate");
            }
            e.finish().expect("deflate");
        }
        _ => {
            let mut e = brotli::CompressorWriter::new(&mut out, 1 << 16, 1, 22);
            for _ in 0..BOMB_BYTES >> 20 {
                e.write_all(&zeros).expect("brotli");
            }
            e.flush().expect("brotli");
        }
    }
    out
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// Deterministic noise (xorshift), not valid UTF-8 nor EUC-KR.
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// What a feed's polls must show in the log.
enum Expect {
    /// Every poll succeeds (the first one with these counts from its `polled` line; `new` is
    /// what alerts, so for a watched feed it is also the number of its alerts on stdout).
    Polled { items: usize, new: usize },
    /// Every poll fails, with a `poll failed` warning whose error passes `reason`.
    Fails {
        why: &'static str,
        reason: fn(&str) -> bool,
    },
    /// Being decided elsewhere: either polled as [`Expect::Polled`], or failing with a clear
    /// reason.
    Either {
        items: usize,
        why: &'static str,
        reason: fn(&str) -> bool,
    },
}

struct Case {
    name: &'static str,
    serve: Serve,
    expect: Expect,
    /// A rule `feed:<name>` and backfill 10: its stories alert on the first poll, so stdout
    /// shows exactly what was read.
    watched: bool,
    /// Titles that must reach stdout exactly (no mojibake) when the feed is polled.
    titles: Vec<String>,
}

fn body(bytes: impl Into<Vec<u8>>, content_type: &'static str) -> Serve {
    Serve::Body {
        body: bytes.into().into(),
        content_type,
        content_encoding: None,
        etag: None,
    }
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn cases(secret_file: &Path) -> Vec<Case> {
    let ko = |name| korean_feed(name, "UTF-8");
    let (gzip, deflate, br) = std::thread::scope(|s| {
        let g = s.spawn(|| bomb("gzip"));
        let d = s.spawn(|| bomb("deflate"));
        let b = bomb("br");
        (
            g.join().expect("gzip bomb"),
            d.join().expect("deflate bomb"),
            b,
        )
    });
    let compressed = |bytes: Vec<u8>, encoding| Serve::Body {
        body: bytes.into(),
        content_type: "application/rss+xml",
        content_encoding: Some(encoding),
        etag: None,
    };
    let donga = crate::fixture("feeds/ko/donga-2022-07-30.xml");
    let donga = String::from_utf8(donga).expect("the donga fixture is UTF-8");
    let mut cut = donga.len() * 3 / 5;
    while !donga.is_char_boundary(cut) {
        cut -= 1;
    }
    let truncated = donga[..cut].to_string();

    let mut invalid_utf8 = ko("invalidutf").into_bytes();
    let at = invalid_utf8
        .windows("서울 ".len())
        .position(|w| w == "서울 ".as_bytes())
        .expect("second title")
        + "서울 ".len();
    invalid_utf8.insert(at, 0xFF);

    let euc_kr = encoding_rs::EUC_KR.encode(&ko("euckrbody")).0.into_owned();
    let laughs = {
        let mut dtd = String::from("<!ENTITY lol \"lol\">\n");
        for i in 1..=9 {
            let prev = if i == 1 {
                "lol".to_string()
            } else {
                format!("lol{}", i - 1)
            };
            let _ = writeln!(
                dtd,
                "<!ENTITY lol{i} \"{}\">",
                format!("&{prev};").repeat(10)
            );
        }
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n{dtd}]>\n<rss version=\"2.0\"><channel>\
             <title>laughs</title><item><guid>laughs-1</guid><title>웃음 &lol9;</title>\
             <link>https://laughs.example.com/1</link><description>&lol9;</description></item>\
             </channel></rss>\n"
        )
    };
    let xxe = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://{}\">]>\n\
         <rss version=\"2.0\"><channel><title>xxe</title><item><guid>xxe-1</guid>\
         <title>유출 &xxe; 시도</title><link>https://xxe.example.com/1</link>\
         <description>본문 &xxe;</description></item></channel></rss>\n",
        secret_file.display()
    );
    let no_ids = rss_of(
        "noids",
        "<item><title>제목만 있는 기사</title></item>\n\
         <item><link>https://noids.example.com/only-link</link></item>\n\
         <item><description>설명만 있는 기사입니다. 제목도 링크도 없다.</description></item>\n\
         <item><title>guid 없는 기사</title><link>https://noids.example.com/2</link></item>\n",
    );
    let dup_guids: String = (1..=4)
        .map(|i| {
            format!(
                "<item><guid>same-guid</guid><title>같은 GUID 기사 {i}</title>\
                 <link>https://dup.example.com/{i}</link></item>\n"
            )
        })
        .collect();
    let dated = |name: &str, dates: &[&str]| {
        let items: String = dates
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!(
                    "<item><guid>{name}-{i}</guid><title>{name} 기사 {i}</title>\
                     <link>https://{name}.example.com/{i}</link><pubDate>{d}</pubDate></item>\n"
                )
            })
            .collect();
        rss_of(name, &items)
    };
    let y2099 = dated(
        "y2099",
        &[
            "Thu, 01 Jan 2099 00:00:00 +0000",
            "2099-12-31T23:59:59+09:00",
            "Fri, 31 Dec 2099 12:00:00 GMT",
        ],
    );
    let bad_dates = dated(
        "baddates",
        &[
            "not a date",
            "32 Foo 2026 25:61:99",
            "",
            "2026-13-45T99:99:99Z",
        ],
    );
    let ko_titles = &KO_TITLES[..];

    vec![
        fail("slowheaders", Serve::SlowHeaders, "timeout", |e| {
            e.contains("fetch failed: timed out")
        }),
        fail("dripbody", Serve::DripBody, "timeout", |e| {
            e.contains("fetch failed: timed out")
        }),
        fail("endless", Serve::Endless, "too large (or timeout)", |e| {
            e.contains("fetch failed: body larger than") || e.contains("fetch failed: timed out")
        }),
        fail("huge", Serve::Huge, "too large", |e| {
            e.contains("fetch failed: body larger than the 8000000-byte limit")
        }),
        fail("gzipbomb", compressed(gzip, "gzip"), "too large", |e| {
            e.contains("fetch failed: body larger than")
        }),
        fail(
            "deflatebomb",
            compressed(deflate, "deflate"),
            "too large",
            |e| e.contains("fetch failed: body larger than"),
        ),
        fail("brotlibomb", compressed(br, "br"), "too large", |e| {
            e.contains("fetch failed: body larger than")
        }),
        fail(
            "redirectloop",
            Serve::Redirect {
                to: "/redirectloop".into(),
            },
            "redirects",
            |e| e.contains("fetch failed: too many redirects"),
        ),
        fail(
            "redirectchain",
            Serve::Redirect {
                to: "/redirectchain/1".into(),
            },
            "redirects",
            |e| e.contains("fetch failed: too many redirects"),
        ),
        // A redirect to the local secret: only http(s) may be followed.
        fail(
            "redirectfile",
            Serve::Redirect {
                to: format!("file://{}", secret_file.display()),
            },
            "the 302 itself, not followed",
            // reqwest hands back the 3xx it will not follow; the reason names it and says why.
            |e| e.contains("fetch failed: http 302") && e.contains("which is not followed"),
        ),
        // Says gzip, is not.
        fail(
            "badgzip",
            compressed(ko("badgzip").into_bytes(), "gzip"),
            "decoding error",
            |e| e.contains("fetch failed: request failed") && e.contains("decod"),
        ),
        fail(
            "status429",
            Serve::Status {
                code: 429,
                retry_after: Some("120"),
            },
            "HTTP 429 with its Retry-After",
            |e| e.contains("http 429") && e.contains("retry after 120s"),
        ),
        fail(
            "status503",
            Serve::Status {
                code: 503,
                retry_after: Some("7"),
            },
            "HTTP 503 with its Retry-After",
            |e| e.contains("http 503") && e.contains("retry after 7s"),
        ),
        fail(
            "status500",
            Serve::Status {
                code: 500,
                retry_after: None,
            },
            "HTTP 500",
            |e| e.contains("fetch failed: http 500"),
        ),
        fail(
            "reset",
            Serve::ResetMidBody,
            "connection reset / cut body",
            |e| {
                e.contains("fetch failed: request failed")
                    && (e.contains("reset") || e.contains("body"))
            },
        ),
        fail(
            "truncated",
            body(truncated, "application/rss+xml"),
            "XML error",
            |e| e.contains("cannot parse feed: not valid xml"),
        ),
        fail(
            "html",
            body(
                "<!DOCTYPE html>\n<html><head><title>Not Found</title></head>\
                 <body><h1>404</h1><p>Nothing here.</p></body></html>\n",
                "text/html; charset=utf-8",
            ),
            "not a feed",
            |e| e.contains("cannot parse feed: not an rss or atom feed") && e.contains("<html>"),
        ),
        fail(
            "garbage",
            body(garbage(4096), "application/octet-stream"),
            "parse / decode",
            |e| e.contains("cannot parse feed"),
        ),
        fail(
            "empty",
            body(Vec::new(), "application/rss+xml"),
            "empty",
            |e| e.contains("cannot parse feed: empty document"),
        ),
        Case {
            name: "bulk",
            serve: Serve::Body {
                body: bulk_feed().into(),
                content_type: "application/rss+xml",
                content_encoding: None,
                etag: Some("\"bulk-v1\""),
            },
            expect: Expect::Polled {
                items: BULK_ITEMS,
                new: 0,
            },
            watched: false,
            titles: Vec::new(),
        },
        Case {
            name: "bigtitle",
            serve: Serve::Body {
                body: big_title_feed().into(),
                content_type: "application/rss+xml",
                content_encoding: None,
                etag: Some("\"big-v1\""),
            },
            expect: Expect::Polled { items: 2, new: 0 },
            watched: false,
            titles: Vec::new(),
        },
        Case {
            name: "laughs",
            serve: body(laughs, "application/rss+xml"),
            expect: Expect::Either {
                items: 1,
                why: "parse error",
                reason: |e| e.contains("cannot parse feed"),
            },
            watched: true,
            titles: Vec::new(),
        },
        Case {
            name: "xxe",
            serve: body(xxe, "application/rss+xml"),
            expect: Expect::Either {
                items: 1,
                why: "parse error",
                reason: |e| e.contains("cannot parse feed"),
            },
            watched: true,
            titles: Vec::new(),
        },
        Case {
            name: "invalidutf",
            serve: body(invalid_utf8, "application/rss+xml"),
            expect: Expect::Either {
                items: 3,
                why: "decode error naming the encoding",
                reason: |e| {
                    e.contains("cannot parse feed") && (e.contains("utf-8") || e.contains("decode"))
                },
            },
            watched: true,
            titles: vec![KO_TITLES[0].to_string(), KO_TITLES[2].to_string()],
        },
        polled(
            "utf16bom",
            body(
                utf16le(&korean_feed("utf16bom", "UTF-16"), true),
                "application/rss+xml",
            ),
            3,
            3,
            ko_titles,
        ),
        Case {
            name: "utf16nobom",
            serve: body(
                utf16le(&korean_feed("utf16nobom", "UTF-16"), false),
                "application/rss+xml; charset=utf-16",
            ),
            expect: Expect::Either {
                items: 3,
                why: "decode error naming the encoding",
                reason: |e| {
                    e.contains("cannot parse feed")
                        && (e.contains("utf-16") || e.contains("encoding") || e.contains("decode"))
                },
            },
            watched: true,
            titles: ko_titles.iter().map(|t| t.to_string()).collect(),
        },
        // The HTTP label says EUC-KR, the bytes (and the declaration) are UTF-8.
        polled(
            "labeleuckr",
            body(ko("labeleuckr"), "application/rss+xml; charset=euc-kr"),
            3,
            3,
            ko_titles,
        ),
        // The HTTP label and the declaration say UTF-8, the bytes are EUC-KR.
        polled(
            "euckrbody",
            body(euc_kr, "application/rss+xml; charset=utf-8"),
            3,
            3,
            ko_titles,
        ),
        polled(
            "noids",
            body(no_ids, "application/rss+xml"),
            4,
            4,
            &["제목만 있는 기사", "guid 없는 기사"],
        ),
        // One GUID is one story (the dedup invariant): all four are read, the first alerts.
        polled(
            "dupguids",
            body(rss_of("dupguids", &dup_guids), "application/rss+xml"),
            4,
            1,
            &["같은 GUID 기사 1"],
        ),
        polled(
            "y2099",
            body(y2099, "application/rss+xml"),
            3,
            3,
            &["y2099 기사 0", "y2099 기사 1", "y2099 기사 2"],
        ),
        polled(
            "baddates",
            body(bad_dates, "application/rss+xml"),
            4,
            4,
            &["baddates 기사 0", "baddates 기사 3"],
        ),
    ]
}

/// A feed whose every poll must fail with a reason that passes `reason` (given lower-cased).
fn fail(name: &'static str, serve: Serve, why: &'static str, reason: fn(&str) -> bool) -> Case {
    Case {
        name,
        serve,
        expect: Expect::Fails { why, reason },
        watched: false,
        titles: Vec::new(),
    }
}

/// An odd but valid feed, watched: all its `new` stories alert, these titles among them.
fn polled(name: &'static str, serve: Serve, items: usize, new: usize, titles: &[&str]) -> Case {
    Case {
        name,
        serve,
        expect: Expect::Polled { items, new },
        watched: true,
        titles: titles.iter().map(|t| t.to_string()).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// The daemon and what it wrote.

/// `kkachi run` in `dir` (which holds `kkachi.toml`), logging JSON, printing alerts as JSON,
/// with a 5 s shutdown deadline.
fn spawn(dir: tempfile::TempDir) -> Daemon {
    let mut daemon = Daemon::in_dir(dir);
    daemon.spawn(
        &[
            "--log-format",
            "json",
            "--format",
            "json",
            "--shutdown-deadline",
            "5s",
        ],
        &[],
    );
    daemon
}

/// The alerts the daemon printed so far.
fn alerts(daemon: &Daemon) -> Vec<Value> {
    daemon
        .stdout()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// `VmHWM` (peak resident set) of process `pid` in kB, from /proc.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Polled { items: u64, new: u64, alerts: u64 },
    NotModified,
    Failed(String),
}

/// The daemon's JSON log: each feed's poll outcomes in order, and when each poll ended and how
/// long it took.
struct Log {
    outcomes: HashMap<String, Vec<Outcome>>,
    times: HashMap<String, Vec<(chrono::DateTime<chrono::Utc>, u64)>>,
}

impl Log {
    fn parse(text: &str) -> Log {
        let mut outcomes: HashMap<String, Vec<Outcome>> = HashMap::new();
        let mut times: HashMap<String, Vec<_>> = HashMap::new();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue; // a line being written
            };
            let f = &v["fields"];
            let Some(feed) = f["feed"].as_str() else {
                continue;
            };
            let n = |k: &str| f[k].as_u64().unwrap_or(u64::MAX);
            let outcome = match f["message"].as_str() {
                Some("polled") => Outcome::Polled {
                    items: n("items"),
                    new: n("new"),
                    alerts: n("alerts"),
                },
                Some("not modified") => Outcome::NotModified,
                Some("poll failed") => Outcome::Failed(f["error"].as_str().unwrap_or("").into()),
                _ => continue,
            };
            let at = v["timestamp"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map_or_else(chrono::Utc::now, |t| t.to_utc());
            outcomes.entry(feed.to_string()).or_default().push(outcome);
            times
                .entry(feed.to_string())
                .or_default()
                .push((at, f["ms"].as_u64().unwrap_or(0)));
        }
        Log { outcomes, times }
    }

    /// When the `i`th poll of `feed` ended, and where that falls in the bulk feed's first
    /// (heavy) poll: the diagnosis of a timeout caused by work that blocks the runtime.
    fn when(&self, feed: &str, i: usize) -> String {
        let Some(&(at, ms)) = self.times.get(feed).and_then(|t| t.get(i)) else {
            return String::new();
        };
        let mut note = format!(" (ended {} after {ms} ms", at.format("%H:%M:%S%.3f"));
        if let Some((start, end)) = self.bulk_window() {
            let began = at - chrono::Duration::milliseconds(ms as i64);
            if began < end && at > start {
                note.push_str(", during the 50,000-item feed's first poll");
            }
        }
        note.push(')');
        note
    }

    /// When the bulk feed's first successful poll began and ended.
    fn bulk_window(
        &self,
    ) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
        let j = self
            .of("bulk")
            .iter()
            .position(|o| matches!(o, Outcome::Polled { .. }))?;
        let &(end, ms) = self.times.get("bulk")?.get(j)?;
        Some((end - chrono::Duration::milliseconds(ms as i64), end))
    }

    fn of(&self, feed: &str) -> &[Outcome] {
        self.outcomes.get(feed).map_or(&[], Vec::as_slice)
    }

    fn polls(&self, feed: &str) -> usize {
        self.of(feed).len()
    }

    fn polled(&self, feed: &str) -> usize {
        self.of(feed)
            .iter()
            .filter(|o| matches!(o, Outcome::Polled { .. }))
            .count()
    }
}

async fn wait_for(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Files under `dir` (recursively) whose bytes contain one of `needles`, and how many bytes
/// were read.
fn files_containing(dir: &Path, needles: &[&[u8]]) -> (Vec<PathBuf>, u64) {
    let finder = aho_corasick::AhoCorasick::new(needles).expect("needles");
    let (mut found, mut read) = (Vec::new(), 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                read += bytes.len() as u64;
                if finder.is_match(&bytes) {
                    found.push(p);
                }
            }
        }
    }
    (found, read)
}

/// Probes `/healthz` once a second until stopped: (answers, failures with the time they came).
fn probe_health(
    url: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let started = Instant::now();
        let (mut ok, mut failures) = (0, Vec::new());
        while !stop.load(Ordering::Relaxed) {
            match client.get(&url).send().await {
                Ok(r) if r.status() == 200 => ok += 1,
                Ok(r) => failures.push(format!("{:?}: HTTP {}", started.elapsed(), r.status())),
                // Before the daemon listens, connections are refused: not a failure.
                Err(e) if e.is_connect() && ok == 0 => {}
                Err(e) if e.is_timeout() => failures.push(format!(
                    "no answer within 10 s (asked {:?} after the start)",
                    started.elapsed() - Duration::from_secs(10)
                )),
                Err(e) => failures.push(format!("{:?}: {e:?}", started.elapsed())),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        (ok, failures)
    })
}

// ---------------------------------------------------------------------------------------------

/// Checks one feed's polls against its [`Expect`] and its alerts (`printed`, from stdout).
fn check_case(c: &Case, log: &Log, printed: &[&Value], problems: &mut Vec<String>) {
    let outcomes = log.of(c.name);
    let failures: Vec<(usize, &str)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Outcome::Failed(e) => Some((i, e.as_str())),
            _ => None,
        })
        .collect();
    let listed = |failures: &[&(usize, &str)]| -> String {
        failures
            .iter()
            .map(|(i, e)| format!("poll {} {e:?}{}", i + 1, log.when(c.name, *i)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match &c.expect {
        Expect::Polled { items, new } => {
            check_first_poll(c, outcomes.first(), *items, Some(*new), printed, problems);
            if !failures.is_empty() {
                problems.push(format!(
                    "{}: a healthy feed failed {} of {} polls: {}",
                    c.name,
                    failures.len(),
                    outcomes.len(),
                    listed(&failures.iter().collect::<Vec<_>>())
                ));
            }
        }
        Expect::Fails { why, reason } => {
            let wrong: Vec<&(usize, &str)> = failures
                .iter()
                .filter(|(_, e)| !reason(&lower(e)))
                .collect();
            if failures.is_empty() {
                problems.push(format!(
                    "{}: expected `poll failed` ({why}), got {outcomes:?}",
                    c.name
                ));
            } else if !wrong.is_empty() {
                problems.push(format!(
                    "{}: expected {why}, but {} of {} polls logged otherwise: {}",
                    c.name,
                    wrong.len(),
                    outcomes.len(),
                    listed(&wrong)
                ));
            }
            if failures.len() != outcomes.len() {
                problems.push(format!(
                    "{}: a hostile feed was polled successfully: {outcomes:?}",
                    c.name
                ));
            }
        }
        Expect::Either { items, why, reason } => match outcomes.first() {
            Some(Outcome::Failed(e)) if !reason(&lower(e)) => problems.push(format!(
                "{}: expected {why}, logged {}",
                c.name,
                listed(&[&(0, e.as_str())])
            )),
            Some(Outcome::Failed(_)) => {}
            first => check_first_poll(c, first, *items, None, printed, problems),
        },
    }
}

/// A successful first poll with `items` read (and `new` alerting, when given); for a watched
/// feed, as many alerts on stdout as new stories, the expected titles among them, intact.
fn check_first_poll(
    c: &Case,
    first: Option<&Outcome>,
    items: usize,
    new: Option<usize>,
    printed: &[&Value],
    problems: &mut Vec<String>,
) {
    let Some(&Outcome::Polled {
        items: got,
        new: got_new,
        alerts,
    }) = first
    else {
        problems.push(format!(
            "{}: expected a successful first poll with {items} items, got {first:?}",
            c.name
        ));
        return;
    };
    if got != items as u64 || new.is_some_and(|n| got_new != n as u64) {
        problems.push(format!(
            "{}: the first poll read {got} items ({got_new} new), expected {items} ({new:?} new)",
            c.name
        ));
    }
    if c.watched && (alerts != got_new || printed.len() as u64 != got_new) {
        problems.push(format!(
            "{}: {got_new} new stories, but {alerts} alerts logged and {} on stdout",
            c.name,
            printed.len()
        ));
    }
    for t in &c.titles {
        if !printed.iter().any(|a| a["title"] == t.as_str()) {
            problems.push(format!(
                "{}: no alert titled {t:?} (mojibake or lost); titles: {:?}",
                c.name,
                printed.iter().map(|a| &a["title"]).collect::<Vec<_>>()
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_feeds_beside_a_good_one_never_stall_leak_or_lose_a_story() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = format!(
        "KKACHI-SECRET-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, format!("{marker}\n")).expect("secret file");

    let cases = cases(&secret_file);
    let mut routes: HashMap<String, Serve> = cases
        .iter()
        .map(|c| (format!("/{}", c.name), c.serve.clone()))
        .collect();
    // A chain of 12 redirects that would end at a feed.
    for i in 1..12 {
        routes.insert(
            format!("/redirectchain/{i}"),
            Serve::Redirect {
                to: format!("/redirectchain/{}", i + 1),
            },
        );
    }
    routes.insert(
        "/redirectchain/12".into(),
        body(korean_feed("chain", "UTF-8"), "application/rss+xml"),
    );
    routes.insert("/good".into(), body(good_feed(3), "application/rss+xml"));
    let server = HostileServer::start(routes);
    let built = started.elapsed();

    // Every feed shares one host (127.0.0.1) here, where in production each has its own: the
    // per-host limit (tested in poll.rs) is lifted so that it does not serialise them.
    // max_backoff 1 s: failing feeds are retried every cycle, so hostility is repeated.
    let port = free_port();
    let mut toml = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n\
         [schedule]\ncron = \"*/2 * * * * *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"{FETCH_TIMEOUT}\"\nconnect_timeout = \"2s\"\nmax_body_bytes = {MAX_BODY}\n\
         concurrency = 64\nper_host_concurrency = 64\nmax_backoff = \"1s\"\n\
         [http]\nlisten = \"127.0.0.1:{port}\"\n\
         [[feeds]]\nname = \"good\"\nurl = \"{}\"\nbackfill = 0\n",
        server.url("/good")
    );
    let mut rules = String::from("[[rules]]\nname = \"scoop\"\nquery = '특종'\n\n");
    for c in &cases {
        let backfill = if c.watched { 10 } else { 0 };
        let _ = write!(
            toml,
            "[[feeds]]\nname = \"{}\"\nurl = \"{}\"\nbackfill = {backfill}\n",
            c.name,
            server.url(&format!("/{}", c.name))
        );
        if c.watched {
            let _ = write!(
                rules,
                "[[rules]]\nname = \"watch-{0}\"\nquery = 'feed:{0}'\n\n",
                c.name
            );
        }
    }
    std::fs::write(dir.path().join("kkachi.toml"), toml).expect("config");
    std::fs::write(dir.path().join("rules.toml"), rules).expect("rules");

    let mut daemon = spawn(dir);
    let stop = Arc::new(AtomicBool::new(false));
    let health = probe_health(format!("http://127.0.0.1:{port}/healthz"), stop.clone());
    let mut problems: Vec<String> = Vec::new();

    // The good feed's first poll backfills (nothing alerts); then it gets a new story.
    let first_poll = wait_for(SETTLE_WITHIN, || {
        Log::parse(&daemon.log()).polled("good") >= 1
    })
    .await;
    if !first_poll {
        problems.push(format!(
            "the good feed was never polled successfully within {SETTLE_WITHIN:?}: {:?}",
            Log::parse(&daemon.log()).of("good")
        ));
    }
    let polls_before = Log::parse(&daemon.log()).polls("good");
    server.set("/good", body(good_feed(4), "application/rss+xml"));
    let added = Instant::now();
    let is_new_story =
        |a: &Value| a["feed"] == "good" && a["url"] == "https://good.example.kr/news/4";
    let alerted = wait_for(ALERT_WITHIN, || alerts(&daemon).iter().any(is_new_story)).await;
    let alert_latency = added.elapsed();
    if !alerted {
        problems.push(format!(
            "the good feed's new story was not alerted within {ALERT_WITHIN:?}; its polls: {:?}",
            Log::parse(&daemon.log()).of("good")
        ));
    }

    // Several cycles: every feed has an outcome and the good one was polled CYCLES more times.
    let settled = wait_for(SETTLE_WITHIN.saturating_sub(started.elapsed()), || {
        let log = Log::parse(&daemon.log());
        log.polls("good") >= polls_before + CYCLES && cases.iter().all(|c| log.polls(c.name) >= 1)
    })
    .await;
    let log = Log::parse(&daemon.log());
    if !settled {
        let missing: Vec<&str> = cases
            .iter()
            .filter(|c| log.polls(c.name) == 0)
            .map(|c| c.name)
            .collect();
        problems.push(format!(
            "not settled within {SETTLE_WITHIN:?}: good polled {}× ({} before its new story), \
             feeds with no outcome yet: {missing:?}",
            log.polls("good"),
            polls_before
        ));
    }

    // Still up, still healthy, and how much memory it ever held.
    if !daemon.running() {
        problems.push(format!("the daemon died:\n{}", daemon.log()));
    }
    let peak_rss = peak_rss_kb(daemon.pid());
    match peak_rss {
        Some(kb) if kb <= PEAK_RSS_KB => {}
        Some(kb) => problems.push(format!(
            "peak RSS (VmHWM) {kb} kB = {} MB is over the {} MB bound",
            kb / 1024,
            PEAK_RSS_KB / 1024
        )),
        None => problems.push("cannot read VmHWM of the daemon".into()),
    }
    stop.store(true, Ordering::Relaxed);
    let (health_ok, health_failures) = health.await.expect("health probe");
    if health_ok == 0 || !health_failures.is_empty() {
        problems.push(format!(
            "/healthz answered {health_ok}× but failed: {health_failures:?}"
        ));
    }
    daemon.signal(libc::SIGTERM);
    let exit = daemon
        .try_wait_exit(Duration::from_secs(15))
        .map(|(code, _)| code);
    if exit != Some(Some(0)) {
        problems.push(format!(
            "SIGTERM: expected a clean exit within 15 s, got {exit:?}"
        ));
    }

    // What the log and stdout say about each feed.
    let log = Log::parse(&daemon.log());
    let alerts = alerts(&daemon);
    let alerts_of =
        |feed: &str| -> Vec<&Value> { alerts.iter().filter(|a| a["feed"] == feed).collect() };
    let good_alerts = alerts_of("good");
    if good_alerts.len() != 1 || !good_alerts.iter().all(|a| is_new_story(a)) {
        problems.push(format!(
            "the good feed must alert once, for its new story only (the first poll backfills): {good_alerts:?}"
        ));
    }
    for (i, o) in log.of("good").iter().enumerate() {
        if let Outcome::Failed(e) = o {
            problems.push(format!(
                "the good feed's poll {} failed: {e:?}{}",
                i + 1,
                log.when("good", i)
            ));
        }
    }
    let mut table = String::new();
    for c in &cases {
        let outcomes = log.of(c.name);
        let _ = writeln!(
            table,
            "  {:<14} {} polls, first: {:?}",
            c.name,
            outcomes.len(),
            outcomes.first()
        );
        check_case(c, &log, &alerts_of(c.name), &mut problems);
    }

    // Nothing of the local file, nor of the expanded entities, ever leaves.
    let (stdout, stderr) = (daemon.stdout(), daemon.log());
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        if text.contains(&marker) {
            problems.push(format!("the local file's content is in {what}"));
        }
        if text.contains("lollollol") {
            problems.push(format!("an expanded entity is in {what}"));
        }
    }
    let scan = Instant::now();
    let (leaked, store_bytes) =
        files_containing(&daemon.path("store"), &[marker.as_bytes(), b"lollollol"]);
    if !leaked.is_empty() {
        problems.push(format!(
            "the local file's content or an expanded entity is in the store: {leaked:?}"
        ));
    }
    let scanned = scan.elapsed();

    let entity_titles: Vec<&Value> = ["xxe", "laughs"]
        .iter()
        .flat_map(|f| alerts_of(f))
        .map(|a| &a["title"])
        .collect();
    eprintln!(
        "hostile feeds: {} cases; bodies built in {built:?}; new story alerted after \
         {alert_latency:?}; the 50,000-item feed's first poll{}; peak RSS {:?} kB; /healthz \
         answered {health_ok}×; entity feeds alerted as {entity_titles:?}; store ({} MB) \
         scanned in {scanned:?}; {:?} in all\n{table}",
        cases.len(),
        log.bulk_window()
            .map(|(a, b)| format!(
                " ran {} – {} ({} ms)",
                a.format("%H:%M:%S%.3f"),
                b.format("%H:%M:%S%.3f"),
                (b - a).num_milliseconds()
            ))
            .unwrap_or_else(|| " did not succeed".into()),
        peak_rss,
        store_bytes >> 20,
        started.elapsed()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n- {}\n\nfeeds:\n{table}",
        problems.len(),
        problems.join("\n- ")
    );
}
