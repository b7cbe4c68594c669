#!/usr/bin/env bash
# Checks that the system calls kkachi makes fit the unit's filter: runs the daemon under strace
# (start, polls of a file feed and of an HTTP feed, /readyz, /healthz, /metrics, a reload from a
# file edit, SIGHUP, SIGTERM), then compares every call seen with what
# `SystemCallFilter=@system-service` allows minus `~@privileged @resources`.
#
#   deploy/check-syscalls.sh [BINARY]      (default: target/release/kkachi)
#
# Loopback only, bounded (about 10 s), and it cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/kkachi}")
[ -x "$bin" ] || { echo "error: no kkachi binary at $bin (cargo build --release)" >&2; exit 1; }

need() {
    command -v "$1" >/dev/null && return
    [ "$(id -u)" = 0 ] || { echo "error: $1 is needed (apt-get install $2)" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need strace strace
need systemd-analyze systemd

# The filter as in systemd/kkachi.service, expanded to system call names.
unit_filter() { grep -E '^SystemCallFilter=' systemd/kkachi.service; }
unit_filter | grep -qx 'SystemCallFilter=@system-service' \
    && unit_filter | grep -qx 'SystemCallFilter=~@privileged @resources' \
    || { echo "error: the unit's SystemCallFilter changed; update this script" >&2; exit 1; }
expand() {
    systemd-analyze syscall-filter "$1" | sed 1d | sed 's/^ *//' | grep -v '^#' | grep -v '^$' |
        while read -r x; do case $x in @*) expand "$x" ;; *) echo "$x" ;; esac; done
}

tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

expand @system-service | sort -u >"$tmp/allowed"
{ expand @privileged; expand @resources; } | sort -u >"$tmp/denied"

cp -r config/demo-rules.toml config/demo-feeds "$tmp/"
port=$((20000 + RANDOM % 20000))
feed=$(ls config/demo-feeds/*.xml | head -n 1)
cat >"$tmp/kkachi.toml" <<EOF
rules = "demo-rules.toml"
[store]
path = "store"
[schedule]
cron = "* * * * * *"
jitter = "0s"
[http]
listen = "127.0.0.1:$port"
[[feeds]]
name = "file"
url = "demo-feeds/$(basename "$feed")"
backfill = 2
# kkachi's own /metrics, through the resolver and the HTTP client (it is not a feed: the poll
# fails, which is fine here).
[[feeds]]
name = "http"
url = "http://localhost:$port/metrics"
EOF

get() { # GET a path from the daemon with bash's /dev/tcp; prints the status line.
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&3
    head -n 1 <&3
    exec 3<&-
}

strace -f -qq -o "$tmp/trace" "$bin" run --config "$tmp/kkachi.toml" >"$tmp/out" 2>"$tmp/err" &
tracer=$!
# Signals go to kkachi itself (strace's child), not to strace.
for _ in $(seq 50); do
    pid=$(pgrep -P "$tracer" || true)
    [ -n "$pid" ] && break
    sleep 0.1
done
[ -n "$pid" ] || { echo "error: kkachi did not start under strace" >&2; exit 1; }
# The daemon must still be running at each step; if it is not, say why (its log) and stop.
alive() {
    kill -0 "$pid" 2>/dev/null && return
    echo "error: kkachi exited before $1; its log:" >&2
    cat "$tmp/err" >&2
    pid=
    exit 1
}
for _ in $(seq 100); do
    get /readyz 2>/dev/null | grep -q 200 && break
    alive "it was ready"
    sleep 0.1
done
alive "/readyz"
for path in /readyz /healthz /metrics; do echo "GET $path: $(get $path | tr -d '\r')"; done
sleep 1.5
echo >>"$tmp/demo-rules.toml"
sleep 1.5
alive "SIGHUP"
kill -HUP "$pid"
sleep 1
alive "SIGTERM"
kill -TERM "$pid"
wait "$tracer" || { echo "error: kkachi exited with $?" >&2; cat "$tmp/err" >&2; exit 1; }
pid=
grep -q 'configuration reloaded' "$tmp/err" || { echo "error: no reload happened" >&2; cat "$tmp/err" >&2; exit 1; }

sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z_0-9]+) resumed>.*/\1(/' "$tmp/trace" |
    grep -oE '^[a-z_0-9]+\(' | tr -d '(' | sort -u >"$tmp/used"
outside=$(comm -23 "$tmp/used" "$tmp/allowed")
denied=$(comm -12 "$tmp/used" "$tmp/denied")
echo "$(wc -l <"$tmp/used") distinct system calls:" $(cat "$tmp/used")
if [ -n "$outside$denied" ]; then
    echo "error: outside @system-service: ${outside:-none}; in ~@privileged @resources: ${denied:-none}" >&2
    exit 1
fi
echo "ok: every system call is allowed by the unit's SystemCallFilter"
