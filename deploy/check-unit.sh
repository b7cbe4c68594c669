#!/usr/bin/env bash
# Checks systemd/kkachi.service: no unknown or malformed settings, and an overall exposure of
# at most 2.0 (override with MAX_EXPOSURE=N) from `systemd-analyze security --offline=true`.
# Prints the settings that still cost exposure and the overall score.
#
# The analysis runs against a throwaway root (--root) holding only the unit and a stub
# /usr/bin/kkachi, so it neither needs kkachi installed nor picks up the host's drop-ins.
# Installs systemd (for systemd-analyze) with apt-get when missing and running as root.
# Usage: deploy/check-unit.sh [UNIT_FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
unit=${1:-systemd/kkachi.service}
max=${MAX_EXPOSURE:-2.0}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "systemd-analyze not found: installing systemd with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
    else
        echo "error: systemd-analyze not found; install systemd (apt-get install systemd) and re-run" >&2
        exit 2
    fi
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/bin"
cp "$unit" "$root/etc/systemd/system/kkachi.service"
printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/kkachi"
chmod 0755 "$root/usr/bin/kkachi"

if ! systemd-analyze security --offline=true --root="$root" kkachi.service \
    >"$root/out" 2>"$root/err"; then
    cat "$root/out" "$root/err" >&2
    echo "error: systemd-analyze security failed on $unit" >&2
    exit 1
fi
# Parse warnings (an unknown key, a bad value) would make the score a lie: systemd ignores
# the line, so the protection it names is not there.
if [ -s "$root/err" ]; then
    sed "s|$root/etc/systemd/system/kkachi.service|$unit|" "$root/err" >&2
    echo "error: systemd-analyze warned about $unit (above)" >&2
    exit 1
fi

grep '✗' "$root/out" || true
score=$(sed -n 's/.*Overall exposure level for kkachi\.service: \([0-9][0-9.]*\).*/\1/p' "$root/out")
if [ -z "$score" ]; then
    cat "$root/out" >&2
    echo "error: no overall exposure level in the output above" >&2
    exit 1
fi
grep 'Overall exposure level' "$root/out"
if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s + 0 > m + 0) }'; then
    echo "FAIL: $unit exposure $score is above $max" >&2
    exit 1
fi
echo "ok: $unit exposure $score (limit $max)"
