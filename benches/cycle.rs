//! One full `kkachi run --once` cycle over 1,000 feeds served from 127.0.0.1, measured from
//! outside: wall time and the process's peak RSS (getrusage of the child). Then the idle RSS
//! of a daemon after its first cycle.
//!
//! Run: `cargo bench --bench cycle` (builds the release binary). Loopback only, bounded: 1,000
//! feeds, two cycles, one daemon stopped after a few seconds.

#[path = "../tests/it/server.rs"]
#[allow(dead_code)]
mod server;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FEEDS: usize = 1000;
const ITEMS: usize = 20;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_kkachi");
    let server = server::Server::start();
    let mut bytes = 0usize;
    for f in 0..FEEDS {
        let body = feed(f);
        bytes += body.len();
        server.feed(
            &format!("/feed/{f}.xml"),
            body,
            "application/rss+xml; charset=utf-8",
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = String::from(
        "rules = \"rules.toml\"\n[store]\npath = \"store\"\n[schedule]\ncron = \"0 0 1 1 *\"\njitter = \"0s\"\n\
         [fetch]\nconcurrency = 32\nper_host_concurrency = 32\n",
    );
    for f in 0..FEEDS {
        let _ = write!(
            config,
            "[[feeds]]\nname = \"f{f}\"\nurl = \"{}\"\nbackfill = 2\n",
            server.url(&format!("/feed/{f}.xml"))
        );
    }
    std::fs::write(dir.path().join("kkachi.toml"), config).expect("config");
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[rules]]\nname = \"chips\"\nquery = '(Nvidia OR 삼성전자 OR \"SK hynix\") AND (HBM OR 반도체)'\n\n\
         [[rules]]\nname = \"deepseek\"\nquery = 'DeepSeek'\n\n[[rules]]\nname = \"openai-korea\"\nquery = 'OpenAI AND \"한국 기업\"'\n",
    )
    .expect("rules");
    let cfg = dir.path().join("kkachi.toml");
    println!(
        "{FEEDS} feeds x {ITEMS} items, {:.1} MB of feed XML, served from 127.0.0.1",
        bytes as f64 / 1e6
    );
    for (label, cycle) in [
        ("first cycle (empty store, backfill 2)", 1),
        ("second cycle (all seen)", 2),
    ] {
        let started = Instant::now();
        let child = Command::new(bin)
            .args(["run", "--once", "--format", "json", "--config"])
            .arg(&cfg)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kkachi");
        let (out, rss_kb) = wait_with_rusage(child);
        let wall = started.elapsed();
        let alerts = String::from_utf8_lossy(&out.0).lines().count();
        let errors = String::from_utf8_lossy(&out.1)
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .count();
        println!(
            "cycle {cycle}: {label}: wall {:.2} s, peak RSS {:.1} MB, {alerts} alerts, {errors} warnings",
            wall.as_secs_f64(),
            rss_kb as f64 / 1024.0
        );
    }
    // Idle daemons: after their first cycle on a fully seen store, with all 1,000 feeds and
    // with a typical personal set of 10.
    println!(
        "idle daemon with {FEEDS} feeds, 8 s after start (first cycle done): RSS {:.1} MB",
        idle_rss_kb(bin, &cfg) as f64 / 1024.0
    );
    // Its own store: a personal set of 10 feeds does not carry 1,000 feeds' history.
    let small = dir.path().join("small.toml");
    let text = std::fs::read_to_string(&cfg)
        .expect("config")
        .replace("path = \"store\"", "path = \"small-store\"");
    let cut = text
        .match_indices("[[feeds]]")
        .nth(10)
        .map_or(text.len(), |(i, _)| i);
    std::fs::write(&small, &text[..cut]).expect("small config");
    println!(
        "idle daemon with 10 feeds, 8 s after start (first cycle done): RSS {:.1} MB",
        idle_rss_kb(bin, &small) as f64 / 1024.0
    );
}

/// Starts the daemon, waits 8 s, reads its RSS, stops it with SIGTERM.
fn idle_rss_kb(bin: &str, cfg: &std::path::Path) -> u64 {
    let mut daemon = Command::new(bin)
        .args(["run", "--config"])
        .arg(cfg)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn daemon");
    std::thread::sleep(Duration::from_secs(8));
    let rss = vm_rss_kb(daemon.id());
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    let _ = daemon.wait();
    rss
}

fn feed(f: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>bench</title>",
    );
    for i in 0..ITEMS {
        let (title, desc) = if (f + i) % 5 < 3 {
            (
                format!("삼성전자, HBM 반도체 {f}-{i}번째 공급 계약 체결"),
                "(서울=연합뉴스) 홍길동 기자 = 삼성전자가 엔비디아에 고대역폭메모리(HBM)를 공급하는 계약을 체결했다고 밝혔다. 업계에서는 이번 계약이 반도체 업황 회복의 신호라는 분석이 나온다.",
            )
        } else {
            (
                format!("Markets rally as chipmakers report earnings {f}-{i}"),
                "Shares of Nvidia and SK hynix rose on Tuesday after strong quarterly results, while analysts said demand for AI accelerators shows no sign of slowing.",
            )
        };
        let _ = write!(
            s,
            "<item><guid>https://news.example.kr/{f}/{i}</guid><title>{title}</title><link>https://news.example.kr/{f}/{i}?utm_source=rss</link>\
             <description>{desc}</description><pubDate>Fri, 27 Nov 2026 09:{:02}:00 +0900</pubDate></item>",
            i % 60
        );
    }
    s.push_str("</channel></rss>");
    s
}

/// Waits for the child, collecting its output, and returns its peak RSS in KiB.
fn wait_with_rusage(child: std::process::Child) -> ((Vec<u8>, Vec<u8>), i64) {
    let pid = child.id() as libc::pid_t;
    let out = child.wait_with_output().expect("wait");
    // wait_with_output reaped the child; RUSAGE_CHILDREN holds the largest child's maxrss.
    let _ = pid;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
    }
    ((out.stdout, out.stderr), usage.ru_maxrss)
}

fn vm_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}
