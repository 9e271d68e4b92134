#!/usr/bin/env bash
# Makes sure a Rust toolchain (cargo + rustc ≥ 1.85) is available. The machine image has rustup's
# in ~/.cargo/bin; otherwise install Debian's `rustc-web`/`cargo-web` (1.96, the same packages
# the wasm toolchain uses; Debian 12's plain `rustc` 1.63 is too old for the dependencies).
set -euo pipefail
if command -v cargo >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/cargo" ]; then
  exit 0
fi
echo "[nestq] no cargo found: installing Debian's rustc-web + cargo-web" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq rustc-web cargo-web >/dev/null
