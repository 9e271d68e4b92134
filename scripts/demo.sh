#!/usr/bin/env bash
# `npm run demo`: builds the native binary and runs the NEST paper's worked bridge example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p out
cargo build --release -p nestq-cli
./target/release/nestq run examples/nest_bridge.json --out out/nest_bridge.result.json
node scripts/summarize.mjs out/nest_bridge.result.json
