//! `kkachi run` as a child process in its own config directory: the one way the integration
//! tests start the daemon. Each run's stderr (the log, at info unless the caller says
//! otherwise) and stdout go to their own files, so a test reads them while the daemon runs and
//! after it exits. Every wait is bounded; the child is killed when the `Daemon` is dropped,
//! so a panicking test leaves nothing behind.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use kkachi::store::Store;

use crate::fake_telegram::{FakeTelegram, TOKEN};

/// How long the waits that panic wait for an event.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Daemon {
    dir: tempfile::TempDir,
    child: Option<Child>,
    runs: usize,
}

impl Daemon {
    /// A config directory holding `kkachi.toml` (`config`, written as given) and `rules.toml`.
    pub fn new(config: &str, rules: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("kkachi.toml"), config).expect("config");
        std::fs::write(dir.path().join("rules.toml"), rules).expect("rules");
        Daemon::in_dir(dir)
    }

    /// A config directory the caller filled (it holds `kkachi.toml`).
    pub fn in_dir(dir: tempfile::TempDir) -> Daemon {
        Daemon {
            dir,
            child: None,
            runs: 0,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config(&self) -> PathBuf {
        self.path("kkachi.toml")
    }

    fn log_path(&self, run: usize) -> PathBuf {
        self.path(&format!("stderr.{run}.log"))
    }

    /// Starts `kkachi run --config <dir>/kkachi.toml` with `args`, `RUST_LOG=info` and `env`
    /// (which may set `RUST_LOG` too).
    pub fn spawn(&mut self, args: &[&str], env: &[(&str, &str)]) {
        assert!(self.child.is_none(), "the previous run is still going");
        self.runs += 1;
        let stderr = std::fs::File::create(self.log_path(self.runs)).expect("log file");
        let stdout = std::fs::File::create(self.path(&format!("stdout.{}.log", self.runs)))
            .expect("stdout file");
        let mut cmd = crate::kkachi();
        cmd.args(["run", "--config"])
            .arg(self.config())
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr));
        for (k, v) in env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("spawn kkachi run"));
    }

    /// [`Daemon::spawn`] with `TELOXIDE_TOKEN` and `TELOXIDE_API_URL` pointing at `fake`.
    pub fn spawn_with_telegram(&mut self, fake: &FakeTelegram, args: &[&str]) {
        let url = fake.url().to_string();
        self.spawn(
            args,
            &[
                ("TELOXIDE_TOKEN", TOKEN),
                ("TELOXIDE_API_URL", url.as_str()),
            ],
        );
    }

    /// The log of the current (or last) run.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path(self.runs)).unwrap_or_default()
    }

    /// Every run's log, in order.
    pub fn logs(&self) -> String {
        (1..=self.runs)
            .map(|n| std::fs::read_to_string(self.log_path(n)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What the current (or last) run printed on stdout.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.path(&format!("stdout.{}.log", self.runs))).unwrap_or_default()
    }

    /// Waits (at most `limit`) until the current run's log has `needle` `n` times.
    pub fn wait_log_within(&self, needle: &str, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.log().matches(needle).count() < n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Waits until the current run's log has `needle` `n` times; panics with the log after
    /// [`WAIT`].
    pub fn wait_log(&self, needle: &str, n: usize) {
        assert!(
            self.wait_log_within(needle, n, WAIT),
            "no {n}× {needle:?} in the log:\n{}",
            self.log()
        );
    }

    /// The running child's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Whether the child is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid() as i32, sig);
        }
    }

    /// Waits (at most `limit`) for the child to exit; its exit code and how long that took.
    /// `None` when it is still running (it is killed when the `Daemon` is dropped).
    pub fn try_wait_exit(&mut self, limit: Duration) -> Option<(Option<i32>, Duration)> {
        let child = self.child.as_mut().expect("running");
        let t = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                self.child = None;
                return Some((status.code(), t.elapsed()));
            }
            if t.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most 40 s) for the child to exit by itself: its exit code and how long that
    /// took. Panics with the log when it does not.
    pub fn wait_exit(&mut self) -> (Option<i32>, Duration) {
        match self.try_wait_exit(Duration::from_secs(40)) {
            Some(exit) => exit,
            None => {
                self.kill();
                panic!("kkachi did not exit within 40 s:\n{}", self.log());
            }
        }
    }

    /// SIGTERM, then the exit code (panics with the log when it does not come within 40 s).
    pub fn terminate(&mut self) -> Option<i32> {
        self.signal(libc::SIGTERM);
        self.wait_exit().0
    }

    /// SIGKILL (when running) and the reaping of the child.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Opens the store (between runs: sled allows one process at a time).
    pub fn store(&self) -> Store {
        match Store::open(&self.path("store")) {
            Ok(s) => s,
            Err(e) => panic!("the store does not open: {e}\n{}", self.logs()),
        }
    }

    /// Replaces `rel` the way editors save: a new file renamed over the old one.
    pub fn replace_file(&self, rel: &str, content: &str) {
        let tmp = self.path(&format!(".{rel}.tmp"));
        std::fs::write(&tmp, content).expect("write");
        std::fs::rename(&tmp, self.path(rel)).expect("rename");
    }

    /// The address `[http]` listens on, from the current run's log (so a config may listen on
    /// `127.0.0.1:0`).
    pub fn http_addr(&self) -> String {
        self.wait_log("serving /metrics", 1);
        let log = self.log();
        let line = log
            .lines()
            .find(|l| l.contains("serving /metrics"))
            .expect("the line just waited for");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .unwrap_or_else(|| panic!("no addr= in {line:?}"))
            .to_string()
    }

    /// `GET /metrics` (the config must enable `[http]`).
    pub fn metrics(&self) -> String {
        crate::support::http_get(&self.http_addr(), "/metrics")
    }

    /// Waits until the value of `series` (a whole series name with its labels, as `/metrics`
    /// prints it) satisfies `done`; panics with the metrics and the log after [`WAIT`].
    pub fn wait_metric(&self, series: &str, done: impl Fn(f64) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let metrics = self.metrics();
            if crate::support::metric(&metrics, series).is_some_and(&done) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{series} does not get there:\n{metrics}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `/metrics` says the outbox is empty: every alert queued so far was sent,
    /// or dropped by the sender (e.g. for a paused chat); nothing more is on its way.
    pub fn wait_outbox_empty(&self) {
        self.wait_metric("kkachi_outbox_depth", |v| v == 0.0);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
