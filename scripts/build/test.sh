#!/usr/bin/env bash
# `npm test`: every Rust and TypeScript test, on a fresh machine too (installs what is missing).
#  1. cargo test --workspace --release          engine unit, golden-fixture and property tests,
#                                                native CLI
#  2. npm install (if needed),                   wasm toolchain, st + mt WebAssembly builds (SIMD
#     scripts/build/build.sh                     checked), TypeScript facade, thread-pool check
#  3. scripts/build/ensure-chromium.sh           Debian's chromium for the browser test
#  4. vitest run                                 fixtures through WASM (st and mt), API, memory,
#                                                package, npm CLI vs native, browser demo in
#                                                headless Chromium
set -euo pipefail
cd "$(dirname "$0")/../.."   # the repository root
t0=$(date +%s)
stamp() { echo "[nestq test] $* ($(( $(date +%s) - t0 )) s)"; }
bash scripts/build/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
# the benchmark networks are generated, not committed; the schema tests read them too
node bench/make_networks.mjs
stamp "cargo test --workspace --release"
cargo test --workspace --release
# `npm install`, not `npm ci`: this registry's npm 11 writes lock files that its own `npm ci`
# rejects (foreign-platform optional packages of rollup are left out of the lock).
if [ ! -d node_modules/vitest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  stamp "npm install"
  npm install --no-audit --no-fund
fi
stamp "build (wasm + TypeScript)"
bash scripts/build/build.sh
bash scripts/build/ensure-chromium.sh
stamp "vitest"
npx vitest run
stamp "all tests passed"
