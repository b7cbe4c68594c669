//! The operations endpoint (`[http] listen`): `GET /metrics`, `GET /healthz`, `GET /readyz`.
//!
//! - `/metrics`: every series of [`Metrics`] in the Prometheus text format.
//! - `/healthz`: 200 `ok` while the process answers and [`Store::health_check`] passes (the
//!   store takes a write through to disk and a new file in its directory); 503 with the error
//!   otherwise. The check runs on a blocking thread, one at a time, and a check that does not
//!   finish within [`HEALTH_TIMEOUT`] (a stalled disk) answers 503 too. When the last check
//!   passed less than [`HEALTH_TIMEOUT`] ago, an answer waits at most [`HEALTH_BUDGET`] for
//!   its own check and otherwise gives the last one's (a flush behind a big write is slow, not
//!   unhealthy); a store that fails, fails its check fast and answers 503 at once.
//! - `/readyz`: 200 `ready` once `app` says so through the [`Readiness`] channel; 503
//!   `starting` or `shutting down` otherwise.
//! - `/control/status` (GET, JSON), `/control/replay?since=SECS[&rule=NAME][&format=json|text]`
//!   (GET) and `/control/feeds/{name}/poll` (POST): what `kkachi status`, `kkachi replay` and
//!   `kkachi feeds poll` ask the running daemon, which holds the store. Loopback peers only,
//!   whatever `listen` is (`control_api`: no accounts, and it reads stored stories).
//!
//! Anything else is 404. Must not: change state (beyond the health check's own heartbeat and
//! the polls the control API asks the scheduler for), or block the runtime's threads on the
//! store.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State as Extract;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::{self, Metrics};
use crate::store::Store;

/// A `/healthz` whose store check takes longer than this answers 503.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `/healthz` waits for its check when the last one passed less than
/// [`HEALTH_TIMEOUT`] ago; past it, the last check's word is the answer.
pub const HEALTH_BUDGET: Duration = Duration::from_millis(50);

/// What `/readyz` says. `app` holds the [`watch::Sender`] and moves it along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// The store is opening or the first schedule is not armed yet.
    Starting,
    Ready,
    ShuttingDown,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "cannot listen on {addr} (the config's [http] listen): {source}{}",
        bind_hint(source)
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the http server on {addr} failed: {source}")]
    Serve {
        addr: String,
        source: std::io::Error,
    },
}

/// What the handlers share.
#[derive(Clone)]
pub struct State {
    pub metrics: Arc<Metrics>,
    pub store: Arc<Store>,
    pub ready: watch::Receiver<Readiness>,
    /// The control API (`/control/…`), the daemon only.
    pub control: Option<ControlApi>,
}

/// What the control API reaches of the running daemon.
#[derive(Clone)]
pub struct ControlApi {
    pub live: Arc<crate::status::Live>,
    /// Polls asked for by `kkachi feeds poll`, answered by the scheduler loop.
    pub polls: tokio::sync::mpsc::UnboundedSender<crate::status::PollNow>,
}

#[derive(Clone)]
struct Shared {
    state: State,
    /// Held while a health check runs: one at a time, so a stalled disk holds one blocking
    /// thread, not one per probe.
    checking: Arc<tokio::sync::Mutex<()>>,
    /// When the last health check passed (`None` after a failed one).
    last_pass: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl Shared {
    /// The last check passed less than [`HEALTH_TIMEOUT`] ago.
    fn recently_passed(&self) -> bool {
        self.last_pass
            .lock()
            .map(|t| t.is_some_and(|t| t.elapsed() < HEALTH_TIMEOUT))
            .unwrap_or(false)
    }
}

/// Binds the listener (before the daemon reports ready, so a taken port fails the start).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, HttpError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })
}

/// What to do about a failed bind, when it is a usual one.
fn bind_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another process holds that port: choose another [http] listen, or set [http] enabled = false"
        }
        std::io::ErrorKind::PermissionDenied => {
            "; ports below 1024 need privileges: choose a port above 1024 in [http] listen"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "; that address is not one of this machine's: use 127.0.0.1 or 0.0.0.0 in [http] listen"
        }
        _ => "",
    }
}

/// The routes, for [`serve`] and for tests that drive them without a socket.
pub fn router(state: State) -> Router {
    let shared = Shared {
        state,
        checking: Arc::new(tokio::sync::Mutex::new(())),
        last_pass: Arc::new(std::sync::Mutex::new(None)),
    };
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/control/status", get(control_status))
        .route("/control/replay", get(control_replay))
        .route(
            "/control/feeds/{name}/poll",
            axum::routing::post(control_poll),
        )
        .fallback(not_found)
        .with_state(shared)
}

/// Serves until `shutdown` resolves, then stops accepting and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: State,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HttpError> {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    tracing::info!(%addr, "serving /metrics, /healthz, /readyz and /control/ (loopback only)");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| HttpError::Serve { addr, source })
}

async fn metrics(Extract(shared): Extract<Shared>) -> Response {
    let State { metrics, store, .. } = shared.state;
    match tokio::task::spawn_blocking(move || metrics.render(&store)).await {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")),
    }
}

async fn healthz(Extract(shared): Extract<Shared>) -> Response {
    let ok = || text(StatusCode::OK, "ok".to_string());
    let guard = match shared.checking.clone().try_lock_owned() {
        Ok(guard) => guard,
        // A check is running (a busy disk, or a stalled one): the last one's word stands for
        // HEALTH_TIMEOUT, then this waits for the running one like any other check.
        Err(_) if shared.recently_passed() => return ok(),
        Err(_) => {
            match tokio::time::timeout(HEALTH_TIMEOUT, shared.checking.clone().lock_owned()).await {
                Ok(guard) => guard,
                Err(_) => return check_timed_out(),
            }
        }
    };
    let store = shared.state.store.clone();
    let last_pass = shared.last_pass.clone();
    // The guard moves into the blocking task: if this request gives up, the next check still
    // finds the stalled one instead of starting another thread.
    let check = tokio::task::spawn_blocking(move || {
        let _guard = guard;
        let result = store.health_check();
        if let Ok(mut last) = last_pass.lock() {
            *last = result.is_ok().then(std::time::Instant::now);
        }
        result
    });
    tokio::pin!(check);
    // Under a heavy write load (a 50,000-item feed being admitted) the check's flush can take
    // a second; /healthz still answers within HEALTH_BUDGET from the last check's word while
    // this one finishes and records its own. A failing check fails fast (its file probe comes
    // first), so a broken store still answers 503 at once.
    if shared.recently_passed() {
        match tokio::time::timeout(HEALTH_BUDGET, &mut check).await {
            Ok(result) => return health_answer(result),
            Err(_) => return ok(),
        }
    }
    match tokio::time::timeout(HEALTH_TIMEOUT, check).await {
        Ok(result) => health_answer(result),
        Err(_) => check_timed_out(),
    }
}

fn health_answer(
    result: Result<Result<(), crate::store::StoreError>, tokio::task::JoinError>,
) -> Response {
    match result {
        Ok(Ok(())) => text(StatusCode::OK, "ok".to_string()),
        Ok(Err(e)) => text(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store health check failed: {e}"),
        ),
    }
}

fn check_timed_out() -> Response {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the store health check did not finish within {}s",
            HEALTH_TIMEOUT.as_secs()
        ),
    )
}

async fn readyz(Extract(shared): Extract<Shared>) -> Response {
    let now = *shared.state.ready.borrow();
    match now {
        Readiness::Ready => text(StatusCode::OK, "ready".to_string()),
        Readiness::Starting => text(StatusCode::SERVICE_UNAVAILABLE, "starting".to_string()),
        Readiness::ShuttingDown => {
            text(StatusCode::SERVICE_UNAVAILABLE, "shutting down".to_string())
        }
    }
}

/// The peer of a request, when the server knows it (always, on a socket).
type Peer = Option<axum::Extension<axum::extract::ConnectInfo<SocketAddr>>>;

/// The control API answers requests from this machine only: it reads stored stories and
/// starts polls, and has no accounts. Someone who may use it remotely can reach it through
/// `ssh -L`. `Err` is the answer to give instead.
fn control_api(shared: &Shared, peer: &Peer) -> Result<ControlApi, (StatusCode, String)> {
    let peer = peer
        .as_ref()
        .map(|axum::Extension(axum::extract::ConnectInfo(addr))| *addr);
    loopback_only(peer).map_err(|why| (StatusCode::FORBIDDEN, why))?;
    shared.state.control.clone().ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            "no control API here (kkachi run --once serves none)".to_string(),
        )
    })
}

/// `Err` (why) unless the peer is on this machine's loopback.
fn loopback_only(peer: Option<SocketAddr>) -> Result<(), String> {
    match peer {
        Some(addr) if addr.ip().is_loopback() => Ok(()),
        Some(addr) => Err(format!(
            "the control API answers only on loopback (this request came from {}); use ssh -L to reach it",
            addr.ip()
        )),
        None => Err("the control API answers only on loopback".to_string()),
    }
}

fn json(body: &impl serde::Serialize) -> Response {
    match serde_json::to_string(body) {
        Ok(s) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            s + "\n",
        )
            .into_response(),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /control/status`: [`crate::status::Status`] as JSON.
async fn control_status(Extract(shared): Extract<Shared>, peer: Peer) -> Response {
    let api = match control_api(&shared, &peer) {
        Ok(api) => api,
        Err((code, why)) => return text(code, why),
    };
    let store = shared.state.store.clone();
    let built = tokio::task::spawn_blocking(move || {
        let (config, rules) = api.live.snapshot();
        crate::status::build(&store, &config, &rules, Some(&api.live), chrono::Utc::now())
    })
    .await;
    match built {
        Ok(Ok(status)) => json(&status),
        Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /control/replay?since=SECS&rule=NAME&format=json|text`: what `kkachi replay` prints.
#[derive(serde::Deserialize)]
struct ReplayQuery {
    since: u64,
    rule: Option<String>,
    format: Option<String>,
}

async fn control_replay(
    Extract(shared): Extract<Shared>,
    peer: Peer,
    query: Result<axum::extract::Query<ReplayQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let api = match control_api(&shared, &peer) {
        Ok(api) => api,
        Err((code, why)) => return text(code, why),
    };
    let Ok(axum::extract::Query(q)) = query else {
        return text(
            StatusCode::BAD_REQUEST,
            "expected ?since=SECONDS[&rule=NAME][&format=json|text]".to_string(),
        );
    };
    let format = match q.format.as_deref() {
        None | Some("text") => crate::deliver::Format::Text,
        Some("json") => crate::deliver::Format::Json,
        Some(other) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("unknown format {other:?}: json or text"),
            );
        }
    };
    let store = shared.state.store.clone();
    let done = tokio::task::spawn_blocking(move || {
        let (config, rules) = api.live.snapshot();
        if let Some(rule) = &q.rule
            && !rules.rules().iter().any(|r| &r.name == rule)
        {
            return Err(format!(
                "no rule named {rule:?} in {}",
                config.rules_path.display()
            ));
        }
        let mut out = Vec::new();
        let query = crate::replay::Query {
            since: Duration::from_secs(q.since),
            rule: q.rule.as_deref(),
            format,
        };
        crate::replay::replay(&store, &config, &rules, query, chrono::Utc::now(), &mut out)
            .map(|n| (n, out))
            .map_err(|e| e.to_string())
    })
    .await;
    match done {
        Ok(Ok((count, body))) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (
                    header::HeaderName::from_static("x-kkachi-alerts"),
                    count.to_string(),
                ),
            ],
            body,
        )
            .into_response(),
        Ok(Err(e)) => text(StatusCode::BAD_REQUEST, e),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// What `POST /control/feeds/{name}/poll` answers (JSON).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PollAnswer {
    pub feed: String,
    /// `polled`, `not_modified`, `skipped` or `failed`.
    pub outcome: String,
    pub items: Option<usize>,
    pub new: Option<usize>,
    pub alerts: Option<usize>,
    pub ms: u64,
    pub error: Option<String>,
    pub next_retry: Option<chrono::DateTime<chrono::Utc>>,
}

async fn control_poll(
    Extract(shared): Extract<Shared>,
    peer: Peer,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let api = match control_api(&shared, &peer) {
        Ok(api) => api,
        Err((code, why)) => return text(code, why),
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    if api
        .polls
        .send(crate::status::PollNow { feed: name, reply })
        .is_err()
    {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "kkachi is shutting down".to_string(),
        );
    }
    match answer.await {
        Ok(Ok(report)) => {
            let (items, new, alerts, error) = match &report.outcome {
                crate::pipeline::Outcome::Polled { items, new, alerts } => {
                    (Some(*items), Some(*new), Some(*alerts), None)
                }
                crate::pipeline::Outcome::Failed { error } => {
                    (None, None, None, Some(error.clone()))
                }
                _ => (None, None, None, None),
            };
            json(&PollAnswer {
                feed: report.feed.clone(),
                outcome: report.outcome.label().to_string(),
                items,
                new,
                alerts,
                ms: report.elapsed.as_millis() as u64,
                error,
                next_retry: report.next_retry,
            })
        }
        Ok(Err(why)) => text(StatusCode::CONFLICT, why),
        Err(_) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the poll was abandoned (kkachi is shutting down)".to_string(),
        ),
    }
}

async fn not_found() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "not found: try /metrics, /healthz, /readyz or /control/status".to_string(),
    )
}

/// A plain-text answer, newline-terminated for people using curl.
fn text(status: StatusCode, mut body: String) -> Response {
    body.push('\n');
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_api_is_for_loopback_peers_only() {
        assert!(loopback_only(Some("127.0.0.1:5000".parse().expect("addr"))).is_ok());
        assert!(loopback_only(Some("[::1]:5000".parse().expect("addr"))).is_ok());
        let far = loopback_only(Some("192.168.0.7:5000".parse().expect("addr")));
        assert!(far.is_err_and(|e| e.contains("192.168.0.7") && e.contains("ssh -L")));
        assert!(loopback_only(None).is_err());
    }
}
