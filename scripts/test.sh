#!/usr/bin/env bash
# `npm test`: every Rust test of the workspace (engine unit + golden-fixture + property tests,
# CLI tests against the native binary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "[nestq] cargo test --workspace --release"
cargo test --workspace --release
