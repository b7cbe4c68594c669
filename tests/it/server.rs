//! A fake feed server on 127.0.0.1 for tests: fixed routes, some of them hostile.
//! Every route is bounded in size and time, and the server stops when dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone)]
pub enum Route {
    /// 200 with this body; answers 304 when the request's If-None-Match equals `etag`.
    Feed {
        body: Vec<u8>,
        content_type: String,
        etag: Option<String>,
    },
    /// Any status with extra headers and a short body.
    Status {
        code: u16,
        headers: Vec<(String, String)>,
    },
    /// 200 with `len` bytes streamed without a Content-Length.
    Huge { len: usize },
    /// 200 whose body trickles forever (until the client goes away, or 60 s).
    Endless,
    /// 200 with a JSON body, whatever the method.
    Json { body: String },
    /// 200 with the body gzip-compressed (`Content-Encoding: gzip`).
    Gzip { body: Vec<u8> },
    /// 302 to another path.
    Redirect { to: String },
    /// 200 after a delay; the server tracks how many of these are in flight at once.
    Slow { body: Vec<u8>, delay: Duration },
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Hit {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

pub struct Server {
    pub addr: SocketAddr,
    /// (in flight now, most ever in flight) over `Route::Slow` requests.
    slow: Arc<Mutex<(usize, usize)>>,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts on its own thread and runtime, so both sync and async tests can use it.
    pub fn start() -> Server {
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (r, h) = (routes.clone(), hits.clone());
        let slow: Arc<Mutex<(usize, usize)>> = Arc::default();
        let sl = slow.clone();
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
                            tokio::spawn(serve(sock, r.clone(), h.clone(), sl.clone()));
                        }
                    }
                }
            });
        });
        let addr = addr_rx.recv().expect("server address");
        Server {
            addr,
            slow,
            routes,
            hits,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), route);
    }

    pub fn feed(&self, path: &str, body: impl Into<Vec<u8>>, content_type: &str) {
        self.route(
            path,
            Route::Feed {
                body: body.into(),
                content_type: content_type.to_string(),
                etag: None,
            },
        );
    }

    /// The most `Route::Slow` requests ever in flight at once.
    pub fn max_slow_in_flight(&self) -> usize {
        self.slow.lock().expect("slow").1
    }

    pub fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    mut sock: TcpStream,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    slow: Arc<Mutex<(usize, usize)>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    }
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(buf.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    let method = request_line.first().copied().unwrap_or("GET").to_string();
    let path = request_line.get(1).copied().unwrap_or("/").to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    // Read a request body (bounded) so the client sees a clean response, and keep it.
    let want = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = buf[head_end..].to_vec();
    while body.len() < want {
        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => body.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    hits.lock().expect("hits").push(Hit {
        method,
        path: path.clone(),
        headers: headers.clone(),
        body,
    });
    let route = routes.lock().expect("routes").get(&path).cloned();
    let _ = match route {
        None => respond(&mut sock, 404, &[], b"not found").await,
        Some(Route::Feed {
            body,
            content_type,
            etag,
        }) => {
            if etag.is_some() && headers.get("if-none-match") == etag.as_ref() {
                respond(&mut sock, 304, &[], b"").await
            } else {
                let mut extra = vec![("Content-Type".to_string(), content_type)];
                if let Some(e) = etag {
                    extra.push(("ETag".to_string(), e));
                }
                respond(&mut sock, 200, &extra, &body).await
            }
        }
        Some(Route::Status { code, headers }) => respond(&mut sock, code, &headers, b"error").await,
        Some(Route::Huge { len }) => stream(&mut sock, len, Duration::ZERO).await,
        Some(Route::Endless) => stream(&mut sock, usize::MAX, Duration::from_millis(100)).await,
        Some(Route::Gzip { body }) => {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = enc.write_all(&body);
            let gz = enc.finish().unwrap_or_default();
            let headers = [
                (
                    "Content-Type".to_string(),
                    "application/rss+xml".to_string(),
                ),
                ("Content-Encoding".to_string(), "gzip".to_string()),
            ];
            respond(&mut sock, 200, &headers, &gz).await
        }
        Some(Route::Redirect { to }) => {
            respond(&mut sock, 302, &[("Location".to_string(), to)], b"").await
        }
        Some(Route::Slow { body, delay }) => {
            {
                let mut s = slow.lock().expect("slow");
                s.0 += 1;
                s.1 = s.1.max(s.0);
            }
            tokio::time::sleep(delay).await;
            slow.lock().expect("slow").0 -= 1;
            respond(
                &mut sock,
                200,
                &[(
                    "Content-Type".to_string(),
                    "application/rss+xml".to_string(),
                )],
                &body,
            )
            .await
        }
        Some(Route::Json { body }) => {
            respond(
                &mut sock,
                200,
                &[("Content-Type".to_string(), "application/json".to_string())],
                body.as_bytes(),
            )
            .await
        }
    };
}

async fn respond(
    sock: &mut TcpStream,
    code: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.shutdown().await
}

/// Streams `len` bytes of XML-ish filler without a Content-Length, pausing `pause` per chunk;
/// stops when the client goes away or after 60 s.
async fn stream(sock: &mut TcpStream, len: usize, pause: Duration) -> std::io::Result<()> {
    sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n<rss><channel>")
        .await?;
    let chunk = vec![b' '; 64 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut sent = 0usize;
    while sent < len && tokio::time::Instant::now() < deadline {
        let n = chunk.len().min(len - sent);
        sock.write_all(&chunk[..n]).await?;
        sent += n;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    sock.shutdown().await
}
