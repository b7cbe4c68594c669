//! Signals → [`Control`]s: SIGHUP is a reload, SIGTERM and SIGINT a shutdown.
//!
//! Owns the one place that reads signals and the "second signal exits at once" rule. Must not:
//! stop anything itself (it sends a [`Control`]; `app` stops the services), except the second
//! stop signal, which exits the process on the spot by design.
//!
//! Invariant: the same signal sent to the process and to its group in one instant (`timeout`,
//! a terminal's Ctrl-C) is one request to stop: only a stop signal at least
//! [`SECOND_SIGNAL_AFTER`] after the first exits at once.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use super::Control;

/// A second SIGTERM/SIGINT exits at once only when it comes at least this long after the
/// first: `timeout 60 kkachi run`, a terminal's Ctrl-C or a service manager may signal the
/// process and its group in the same instant, and that is one request to stop, not two.
pub const SECOND_SIGNAL_AFTER: Duration = Duration::from_secs(1);

/// Whether a stop signal at `now` is a second, deliberate one (exit at once), given when the
/// first came.
fn exits_at_once(first: Option<std::time::Instant>, now: std::time::Instant) -> bool {
    first.is_some_and(|t| now.saturating_duration_since(t) >= SECOND_SIGNAL_AFTER)
}

/// Turns signals into [`Control`]s: SIGHUP reloads; SIGTERM or SIGINT shuts down, and a second
/// one ([`SECOND_SIGNAL_AFTER`] or more later) exits at once (status 128 + the signal's
/// number). The outbox keeps every alert not yet accepted by Telegram, so even that loses none.
pub fn forward_signals(tx: mpsc::UnboundedSender<Control>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).with_context(|| format!("cannot listen for {name}"))
    };
    let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut int = listen(SignalKind::interrupt(), "SIGINT")?;
    let mut hup = listen(SignalKind::hangup(), "SIGHUP")?;
    tokio::spawn(async move {
        let mut first_stop: Option<std::time::Instant> = None;
        loop {
            let (name, number) = tokio::select! {
                _ = term.recv() => ("SIGTERM", 15),
                _ = int.recv() => ("SIGINT", 2),
                _ = hup.recv() => ("SIGHUP", 1),
            };
            let now = std::time::Instant::now();
            if number == 1 {
                let _ = tx.send(Control::Reload {
                    why: "SIGHUP".to_string(),
                });
            } else if exits_at_once(first_stop, now) {
                tracing::warn!("{name} again: exiting now; unsent alerts stay in the outbox");
                std::process::exit(128 + number);
            } else if first_stop.is_some() {
                tracing::info!(
                    "{name} again within {SECOND_SIGNAL_AFTER:?} of the first (one request, sent to the process and its group?): still shutting down gracefully"
                );
            } else {
                first_stop = Some(now);
                tracing::info!("{name}: shutting down (send it again to exit at once)");
                let _ = tx.send(Control::Shutdown);
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_stop_signal_counts_only_a_moment_after_the_first() {
        let t0 = std::time::Instant::now();
        assert!(!exits_at_once(None, t0));
        // The same signal to the process and to its group: one request.
        assert!(!exits_at_once(Some(t0), t0));
        assert!(!exits_at_once(Some(t0), t0 + Duration::from_millis(900)));
        assert!(exits_at_once(Some(t0), t0 + SECOND_SIGNAL_AFTER));
        assert!(exits_at_once(Some(t0), t0 + Duration::from_secs(5)));
    }
}
