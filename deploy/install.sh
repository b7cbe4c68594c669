#!/usr/bin/env bash
# Installs kkachi as a systemd service: binary, config in /etc/kkachi, store in /var/lib/kkachi.
# Run from the repository root as root after `cargo build --release --locked`.
set -euo pipefail
install -m 0755 target/release/kkachi /usr/local/bin/kkachi
id kkachi >/dev/null 2>&1 || useradd --system --home /var/lib/kkachi --shell /usr/sbin/nologin kkachi
install -d -m 0755 /etc/kkachi
[ -e /etc/kkachi/kkachi.toml ] || sed 's|^path = "../kkachi-data"|path = "/var/lib/kkachi/store"|' config/kkachi.toml > /etc/kkachi/kkachi.toml
[ -e /etc/kkachi/rules.toml ] || install -m 0644 config/rules.toml /etc/kkachi/rules.toml
install -m 0644 systemd/kkachi.service /etc/systemd/system/kkachi.service
/usr/local/bin/kkachi check --config /etc/kkachi/kkachi.toml
systemctl daemon-reload
echo "installed; start with: systemctl enable --now kkachi"
