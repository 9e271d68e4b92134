#!/usr/bin/env bash
# Makes sure a Rust toolchain (cargo + rustc) is available; installs Debian's if none is.
set -euo pipefail
if command -v cargo >/dev/null 2>&1; then
  exit 0
fi
if [ -x "$HOME/.cargo/bin/cargo" ]; then
  exit 0
fi
echo "[nestq] no cargo found: installing Debian's Rust toolchain" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq cargo rustc >/dev/null
