#!/usr/bin/env bash
# Installs the Debian packages that edgeward's tests start as real
# processes (redis-server for the fleet tests, chromium for the status
# page's browser test). Idempotent; needs root (CI runs as root).
set -euo pipefail
pkgs=(redis-server chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-tools: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
