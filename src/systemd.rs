//! The service manager: readiness, reload and stop notices, STATUS lines and watchdog
//! keep-alives over `$NOTIFY_SOCKET` (systemd `Type=notify`).
//!
//! Everything here is a no-op when kkachi is not started by systemd (no `$NOTIFY_SOCKET`), and
//! a failed notice is only logged: the service manager being away never stops the daemon.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "cannot notify the service manager");
    }
}

/// Start-up is done (the store is open and the first schedule armed), or a reload finished.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A reload began; [`ready`] ends it.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// Shutdown began.
pub fn stopping(status: &str) {
    send(&[NotifyState::Stopping, NotifyState::Status(status)]);
}

/// What the daemon is doing, for `systemctl status`. The line is only built when a service
/// manager listens (it may cost a walk over the outbox).
pub fn status(status: impl FnOnce() -> String) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        send(&[NotifyState::Status(&status())]);
    }
}

/// How often to send [`watchdog`] keep-alives: half of `WatchdogSec`, when it is set.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| d / 2)
}

/// A keep-alive: the scheduler loop is turning.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}
