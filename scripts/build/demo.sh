#!/usr/bin/env bash
# `npm run demo`: installs whatever is missing, builds the package (WebAssembly + TypeScript) and
# runs the main job on the NEST paper's worked two-qubit bridge with the npm CLI, writing
# out/nest_bridge.result.json, out/nest_bridge.csv and the plot out/nest_bridge.svg.
# The browser demo: `npm run demo:browser` (then open the printed URL).
set -euo pipefail
cd "$(dirname "$0")/../.."   # the repository root
bash scripts/build/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
[ -d node_modules/vitest ] || npm install --no-audit --no-fund
bash scripts/build/build.sh
mkdir -p out
node pkg/dist/cli.js run examples/nest_bridge.json --out out/nest_bridge.result.json \
  --csv out/nest_bridge.csv --plot out/nest_bridge.svg
node scripts/build/summarize.mjs out/nest_bridge.result.json
echo "plot: out/nest_bridge.svg   table: out/nest_bridge.csv   result: out/nest_bridge.result.json"
