//! Issue 10's memory and isolation targets, measured from outside on the release binary.
//!
//! 1. Peak RSS and wall time of `kkachi run --once` on one feed of 5,000 / 20,000 / 50,000
//!    short items: the first poll (everything new: marked seen, kept, backfill 0) and the second
//!    (everything seen). Goal: peak RSS grows by at most ~2 KB per new story.
//! 2. One 50,000-item feed beside 30 ordinary feeds whose server answers in 50–500 ms, polled
//!    every 2 s, all with a 4 s timeout, on a daemon: how long the ordinary polls took while the
//!    big feed was being parsed and admitted (and 4 s after), whether any timed out, and the slowest `/healthz` answer meanwhile (polled
//!    every 20 ms). Goal: no ordinary feed fails; `/healthz` always within 100 ms.
//!
//! Run: `cargo bench --bench bigfeed` (builds the release binary; `KKACHI_BIN=path` measures
//! another build). Loopback only, bounded: four
//! `--once` runs per size and one daemon stopped as soon as every feed has reported.

#[path = "../tests/it/server.rs"]
#[allow(dead_code)]
mod server;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ORDINARY: usize = 30;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // KKACHI_BIN: measure another build (e.g. the code before a change) with the same bench.
    let bin_owned =
        std::env::var("KKACHI_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kkachi").into());
    let bin = bin_owned.as_str();
    let server = server::Server::start();
    println!(
        "| items | feed size | first poll: wall | first poll: peak RSS | per new story | second poll: wall | second poll: peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let baseline_kb = {
        let dir = tempfile::tempdir().expect("tempdir");
        server.feed("/empty.xml", feed(0, "e"), "application/rss+xml");
        write_config(dir.path(), &server.url("/empty.xml"), "", "");
        run_once(bin, dir.path()).1
    };
    for n in [5_000, 20_000, 50_000] {
        let body = feed(n, "big");
        let size = body.len();
        let path = format!("/big-{n}.xml");
        server.feed(&path, body, "application/rss+xml; charset=utf-8");
        let dir = tempfile::tempdir().expect("tempdir");
        write_config(dir.path(), &server.url(&path), "", "");
        let (first, first_kb) = run_once(bin, dir.path());
        let (second, second_kb) = run_once(bin, dir.path());
        println!(
            "| {n} | {:.1} MB | {:.2} s | {:.0} MB | {:.2} KB | {:.2} s | {:.0} MB |",
            size as f64 / 1e6,
            first.as_secs_f64(),
            first_kb as f64 / 1024.0,
            (first_kb.saturating_sub(baseline_kb)) as f64 / n as f64,
            second.as_secs_f64(),
            second_kb as f64 / 1024.0,
        );
    }
    println!(
        "(an empty feed's run peaks at {:.0} MB: the per-story figure is over that)",
        baseline_kb as f64 / 1024.0
    );
    isolation(bin, &server);
}

/// Scenario 2: the big feed beside 30 slow-answering ordinary feeds, on a daemon.
fn isolation(bin: &str, server: &server::Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    server.feed(
        "/iso-big.xml",
        feed(50_000, "iso"),
        "application/rss+xml; charset=utf-8",
    );
    let mut extra = String::new();
    for f in 0..ORDINARY {
        // 50..500 ms, spread evenly: what news sites answer in from Korea.
        let delay = Duration::from_millis(50 + (450 * f as u64) / (ORDINARY as u64 - 1));
        let path = format!("/ordinary-{f}.xml");
        server.route(
            &path,
            server::Route::Slow {
                body: feed(20, &format!("o{f}")).into_bytes(),
                delay,
            },
        );
        // Polled every 2 s, so that many polls run while the big feed is being admitted.
        let _ = write!(
            extra,
            "[[feeds]]\nname = \"ordinary-{f}\"\nurl = \"{}\"\ncron = \"*/2 * * * * *\"\n",
            server.url(&path)
        );
    }
    let port = free_port();
    let http = format!("[http]\nlisten = \"127.0.0.1:{port}\"\n");
    write_config(dir.path(), &server.url("/iso-big.xml"), &http, &extra);
    let mut daemon = Command::new(bin)
        .args(["run", "--format", "json", "--config"])
        .arg(dir.path().join("kkachi.toml"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn daemon");
    let stop = Arc::new(AtomicBool::new(false));
    let worst = Arc::new(Mutex::new((Duration::ZERO, 0usize, 0usize)));
    let prober = {
        let (stop, worst) = (stop.clone(), worst.clone());
        std::thread::spawn(move || {
            let mut up = false;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = healthz(port);
                let took = t.elapsed();
                // Failures count once the server answered (before that it is still binding).
                up |= ok;
                let mut w = worst.lock().expect("lock");
                if ok {
                    w.0 = w.0.max(took);
                    w.1 += 1;
                } else if up {
                    w.2 += 1;
                }
                drop(w);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let stderr = daemon.stderr.take().expect("stderr");
    let started = Instant::now();
    let mut ordinary_ms = Vec::new();
    let mut failed = Vec::new();
    let mut big = None;
    let mut slow = Vec::new();
    let mut big_done: Option<Instant> = None;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let name = field(&line, "feed");
        if line.contains("poll failed") {
            failed.push(line.clone());
        }
        if line.contains("polled") || line.contains("poll failed") {
            let ms: u64 = field(&line, "ms").and_then(|m| m.parse().ok()).unwrap_or(0);
            match name.as_deref() {
                Some("big") => big = Some(ms),
                Some(n) if n.starts_with("ordinary-") => {
                    ordinary_ms.push(ms);
                    if ms > 1500 {
                        slow.push(format!(
                            "{n}: {ms} ms, ended {:.1} s after start{}",
                            started.elapsed().as_secs_f64(),
                            if big.is_none() {
                                " (big feed still in its poll)"
                            } else {
                                ""
                            }
                        ));
                    }
                }
                _ => {}
            }
        }
        // Until the big feed is done and every ordinary feed polled a few more times.
        if big_done.is_none() && big.is_some() {
            big_done = Some(Instant::now());
        }
        if big_done.is_some_and(|t| t.elapsed() > Duration::from_secs(4))
            || started.elapsed() > Duration::from_secs(120)
        {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = prober.join();
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    let _ = daemon.wait();
    ordinary_ms.sort_unstable();
    let (worst_health, answered, unanswered) = *worst.lock().expect("lock");
    println!();
    println!(
        "one 50,000-item feed (first poll {} ms) beside {ORDINARY} feeds answering in 50-500 ms, timeout 4 s:",
        big.map_or("?".to_string(), |b| b.to_string())
    );
    println!(
        "ordinary polls: {} done, {} failed; poll time min {} ms, median {} ms, max {} ms",
        ordinary_ms.len(),
        failed.len(),
        ordinary_ms.first().copied().unwrap_or(0),
        ordinary_ms.get(ordinary_ms.len() / 2).copied().unwrap_or(0),
        ordinary_ms.last().copied().unwrap_or(0),
    );
    for f in &failed {
        println!("  failed: {f}");
    }
    for s in &slow {
        println!("  slow: {s}");
    }
    println!(
        "/healthz meanwhile: {answered} answers, slowest {:.1} ms, {unanswered} failed or unanswered within 1 s after the first answer",
        worst_health.as_secs_f64() * 1e3
    );
}

fn field(line: &str, key: &str) -> Option<String> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[at..];
    let end = rest.find(' ').unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"').to_string())
}

fn healthz(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 200")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A config with the feed `big` at `url`, then `feeds` (more `[[feeds]]`); `http` is the
/// `[http]` section (disabled when empty).
fn write_config(dir: &std::path::Path, url: &str, http: &str, feeds: &str) {
    let http = if http.is_empty() {
        "[http]\nenabled = false\n"
    } else {
        http
    };
    let config = format!(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\ntimeout = \"4s\"\nconnect_timeout = \"2s\"\nmax_body_bytes = 100000000\nconcurrency = 64\nper_host_concurrency = 64\n\
         {http}[[feeds]]\nname = \"big\"\nurl = \"{url}\"\n{feeds}"
    );
    std::fs::write(dir.join("kkachi.toml"), config).expect("config");
    std::fs::write(
        dir.join("rules.toml"),
        "[[rules]]\nname = \"chips\"\nquery = '삼성전자 AND 반도체'\n",
    )
    .expect("rules");
}

/// One `kkachi run --once`: wall time and this child's own peak RSS (KiB, from wait4).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4 below, which also returns its rusage"
)]
fn run_once(bin: &str, dir: &std::path::Path) -> (Duration, u64) {
    let started = Instant::now();
    let child = Command::new(bin)
        .args(["run", "--once", "--format", "json", "--config"])
        .arg(dir.join("kkachi.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kkachi");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid out-pointers.
    unsafe {
        libc::wait4(pid, &mut status, 0, &mut usage);
    }
    (started.elapsed(), usage.ru_maxrss as u64)
}

/// An RSS 2.0 feed of `n` short items (about 150 bytes each, like the 7.4 MB / 50,000),
/// one in five about 삼성전자 반도체 (the rule matches those).
fn feed(n: usize, tag: &str) -> String {
    let mut s = String::with_capacity(n * 160 + 200);
    s.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>bench</title>",
    );
    for i in 0..n {
        let title = if i % 5 == 0 {
            format!("삼성전자 반도체 소식 {i}")
        } else {
            format!("Item {i} of {tag}")
        };
        let _ = write!(
            s,
            "<item><title>{title}</title><link>https://n.example.kr/{tag}/{i}</link><description>short text {i}</description></item>"
        );
    }
    s.push_str("</channel></rss>");
    s
}
