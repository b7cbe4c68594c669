//! The services a running kkachi keeps beside its polls (the control channel's pump, the
//! Telegram delivery task, the bot, the HTTP server) and the one way they stop.
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
use std::time::Duration;

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
}
