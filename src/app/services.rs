//! The services a running kkachi keeps beside its polls (the control channel's pump, the
//! Telegram delivery task, the digest task ([`digests`]), the bot, the HTTP server) and the
//! one way they stop.
//!
//! Every service is spawned on one [`TaskTracker`] and handed the cancellation of a child of
//! one [`CancellationToken`] as its "stop now" future. [`Services::stop`] cancels the token,
//! closes the tracker and waits for it until the shutdown deadline; a service still running
//! then is named in the log and aborted.
//!
//! Invariant: a service stops because the shutdown token was cancelled, never another way
//! (no oneshot channels, no per-service stop methods); the one forced stop is the abort of
//! what is still running at the deadline.
//! Invariant: nothing a service spawned here outlives [`Services::stop`].
//! Must not: hold the polls. They belong to the daemon's schedule (`daemon::Sched`), which
//! drains them first, so the delivery task keeps sending what they queue while they finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;

/// However late the stop comes, a service gets at least this long after the token is
/// cancelled: a Telegram send in flight finishes, so its outcome is recorded.
pub const STOP_GRACE: Duration = Duration::from_millis(500);

/// The running services and the token that stops them.
#[derive(Default)]
pub struct Services {
    shutdown: CancellationToken,
    tracker: TaskTracker,
    running: Vec<Running>,
}

/// One spawned service: its name, and what to say if it has to be abandoned.
struct Running {
    name: &'static str,
    abort: AbortHandle,
    abandoned: Box<dyn FnOnce() + Send>,
}

impl Services {
    pub fn new() -> Services {
        Services::default()
    }

    /// Spawns a service; `service` gets the future that resolves when it must stop.
    /// `abandoned` logs what is lost if it is still running at the deadline.
    pub fn spawn<F>(
        &mut self,
        name: &'static str,
        service: impl FnOnce(WaitForCancellationFutureOwned) -> F,
        abandoned: impl FnOnce() + Send + 'static,
    ) where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.shutdown.child_token().cancelled_owned();
        let handle = self.tracker.spawn(service(stop));
        self.running.push(Running {
            name,
            abort: handle.abort_handle(),
            abandoned: Box::new(abandoned),
        });
    }

    /// Cancels the shutdown token and waits for every service until `until` (at least
    /// [`STOP_GRACE`] from now); what is still running then is abandoned.
    pub async fn stop(self, until: Instant) {
        self.shutdown.cancel();
        self.tracker.close();
        let until = until.max(Instant::now() + STOP_GRACE);
        if tokio::time::timeout_at(until, self.tracker.wait())
            .await
            .is_ok()
        {
            return;
        }
        for service in self.running {
            if !service.abort.is_finished() {
                tracing::debug!(service = service.name, "abandoned at the shutdown deadline");
                (service.abandoned)();
                service.abort.abort();
            }
        }
    }
}

/// The longest the digest task sleeps without looking at the store again: a wall clock that
/// jumped (suspend, NTP) is noticed within it.
pub const DIGEST_NAP: Duration = Duration::from_secs(60);

/// After a store error the digest task waits this long before it tries again.
const DIGEST_RETRY: Duration = Duration::from_secs(10);

/// Where the digest task puts a due digest.
#[derive(Debug, Clone)]
pub enum DigestSink {
    /// Telegram: queued in the outbox; the delivery task is woken through this.
    Outbox(Arc<tokio::sync::Notify>),
    /// No Telegram: printed on stdout (text or a JSON line).
    Console(crate::deliver::Console),
}

/// A due digest: what the log says of it, and (console only) its body to print.
type Due = (
    crate::store::digest::Released,
    Option<crate::store::outbox::DigestBody>,
);

/// Hands every due group to the sink's store call (off the async threads): queued in the
/// outbox, or taken for printing. Also returns the next due time.
fn release_due(
    store: &crate::store::Store,
    at: DateTime<Utc>,
    queue: bool,
) -> Result<(Vec<Due>, Option<DateTime<Utc>>), crate::store::StoreError> {
    let tz_of = |chat| store.chat_prefs(chat).ok().and_then(|p| p.tz);
    let released = if queue {
        store
            .release_digests(at, tz_of)?
            .into_iter()
            .map(|r| (r, None))
            .collect()
    } else {
        store
            .take_digests(at, tz_of)?
            .into_iter()
            .map(|(chat, body)| {
                let r = crate::store::digest::Released {
                    chat,
                    due: body.due,
                    kind: body.kind,
                    items: body.items.len(),
                };
                (r, Some(body))
            })
            .collect()
    };
    Ok((released, store.next_digest_due()?))
}

/// The digest task: sleeps until the earliest pending digest is due (woken earlier by the
/// store when an admission writes one, see `Store::digest_waker`), then hands every due
/// (due, chat) group to `sink`: on Telegram one outbox entry per group
/// (`Store::release_digests`, one transaction per group) and a wake-up of the delivery task;
/// on the console a printed digest (`Store::take_digests`). A restart after a missed due time
/// releases it at once, and once: the items leave `digest.v1` in the transaction that queues
/// the digest. `now` is the wall clock (`Utc::now`; tests pass one that follows tokio's
/// paused clock). Stops when `stop` resolves.
pub async fn digests(
    store: Arc<crate::store::Store>,
    sink: DigestSink,
    now: impl Fn() -> DateTime<Utc>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let wake = store.digest_waker();
    let queue = matches!(sink, DigestSink::Outbox(_));
    loop {
        let (s, at) = (store.clone(), now());
        let released = tokio::task::spawn_blocking(move || release_due(&s, at, queue)).await;
        let nap = match released {
            Ok(Ok((released, next))) => {
                for (d, body) in &released {
                    tracing::info!(chat = d.chat, due = %d.due, kind = ?d.kind, items = d.items, "digest queued");
                    if let (DigestSink::Console(console), Some(body)) = (&sink, body)
                        && let Err(e) = console.deliver_digest(&body.digest(console.timezone))
                    {
                        tracing::error!(error = %e, chat = d.chat, "cannot write a digest to stdout");
                    }
                }
                if let DigestSink::Outbox(outbox) = &sink
                    && !released.is_empty()
                {
                    outbox.notify_one();
                }
                next.map_or(DIGEST_NAP, |due| {
                    (due - now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(DIGEST_NAP)
                })
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, retry_in = ?DIGEST_RETRY, "cannot release due digests");
                DIGEST_RETRY
            }
            Err(e) => {
                tracing::error!(error = %e, retry_in = ?DIGEST_RETRY, "the digest task's store job failed");
                DIGEST_RETRY
            }
        };
        tokio::select! {
            () = &mut stop => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(nap) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_service_stops_on_the_token_and_a_stuck_one_is_aborted_at_the_deadline() {
        let mut services = Services::new();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        services.spawn(
            "polite",
            |stop| async move {
                stop.await;
                let _ = done_tx.send(());
            },
            || {},
        );
        let abandoned = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = abandoned.clone();
        services.spawn(
            "stuck",
            |_stop| std::future::pending(),
            move || flag.store(true, std::sync::atomic::Ordering::SeqCst),
        );
        let t0 = Instant::now();
        services.stop(t0 + Duration::from_secs(2)).await;
        assert!(done_rx.await.is_ok(), "the polite service saw the token");
        assert!(abandoned.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(Instant::now() - t0, Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_stop_still_grants_the_grace() {
        let mut services = Services::new();
        services.spawn(
            "slow",
            |stop| async move {
                stop.await;
                tokio::time::sleep(STOP_GRACE / 2).await;
            },
            || panic!("finished within the grace"),
        );
        // The deadline has passed already.
        services.stop(Instant::now()).await;
    }

    fn pending(due: DateTime<Utc>, n: u32) -> crate::store::Pending {
        let s =
            crate::story::test_story("f", &n.to_string(), &format!("제목 {n}"), "https://e.com/x");
        crate::store::Pending {
            chat: 5,
            due,
            kind: crate::digest::Kind::Daily,
            item: crate::digest::Item {
                alert: crate::deliver::Alert::new(&s, Vec::new()),
                at: due,
            },
        }
    }

    /// Paused clock: the task sleeps until the due time, queues one digest then, and an
    /// earlier item written while it sleeps wakes it for that earlier time.
    #[tokio::test(start_paused = true)]
    async fn the_digest_task_queues_each_digest_at_its_due_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(crate::store::Store::open(dir.path()).expect("open"));
        let (base, t0) = (Utc::now(), Instant::now());
        let clock = move || base + chrono::Duration::from_std(Instant::now() - t0).expect("span");
        let hour = base + chrono::Duration::hours(1);
        store
            .enqueue_pending(&[pending(hour, 1), pending(hour, 2)])
            .expect("pending");
        let outbox = Arc::new(tokio::sync::Notify::new());
        let stop = CancellationToken::new();
        let task = tokio::spawn(digests(
            store.clone(),
            DigestSink::Outbox(outbox.clone()),
            clock,
            stop.clone().cancelled_owned(),
        ));
        // Nothing is due for an hour: the first wake-up of the sender is at the due time.
        outbox.notified().await;
        assert!(clock() >= hour, "released at {} before {hour}", clock());
        assert!(clock() < hour + chrono::Duration::seconds(1));
        assert_eq!((store.outbox_len(), store.pending_len()), (1, 0));

        // An item due in five minutes, written while the task sleeps (up to its nap).
        let soon = clock() + chrono::Duration::minutes(5);
        store.enqueue_pending(&[pending(soon, 3)]).expect("pending");
        outbox.notified().await;
        assert!(clock() >= soon && clock() < soon + chrono::Duration::seconds(1));
        assert_eq!((store.outbox_len(), store.pending_len()), (2, 0));

        // A due time already passed (a restart after it): released at once.
        let past = clock() - chrono::Duration::hours(3);
        let before = clock();
        store.enqueue_pending(&[pending(past, 4)]).expect("pending");
        outbox.notified().await;
        assert!(clock() - before < chrono::Duration::seconds(1));
        assert_eq!(store.outbox_len(), 3);
        stop.cancel();
        task.await.expect("the task stops on the token");
    }
}
