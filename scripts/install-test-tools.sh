#!/usr/bin/env bash
# Installs the tools CI runs: staticcheck (pinned: v0.8.2, release
# 2026.2.2, which checks Go 1.26 code) and the Debian packages that
# edgeward's tests start as real processes (redis-server for the fleet
# tests, chromium for the status page's browser test). Idempotent; the
# Debian packages need root (CI runs as root).
set -euo pipefail

staticcheck_version=v0.8.2
if ! "$(go env GOPATH)/bin/staticcheck" -version 2>/dev/null | grep -q "(${staticcheck_version#v})"; then
  GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@${staticcheck_version}"
fi
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
