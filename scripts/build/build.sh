#!/usr/bin/env bash
# Build the npm package: both WebAssembly modules (scripts/build/build-wasm.sh) and the TypeScript
# facade (tsc → pkg/dist). Skips the wasm build when pkg/wasm is newer than every Rust source
# (set NESTQ_REBUILD=1 to force).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."   # the repository root
[ -d node_modules/typescript ] || npm install --no-audit --no-fund
stale=0
for v in st mt; do
  f="pkg/wasm/$v/nestq_wasm_bg.wasm"
  if [ ! -f "$f" ] || [ -n "$(find crates Cargo.toml Cargo.lock -newer "$f" -type f -print -quit)" ]; then stale=1; fi
done
if [ "${NESTQ_REBUILD:-0}" = 1 ] || [ "$stale" = 1 ]; then
  bash scripts/build/build-wasm.sh all
else
  echo "[build] pkg/wasm is up to date with crates/ (NESTQ_REBUILD=1 to force)" >&2
fi
rm -rf pkg/dist
npx tsc -p tsconfig.json
chmod +x pkg/dist/cli.js 2>/dev/null || true
timeout 120 node scripts/build/check-threads.mjs || { echo "[build] ERROR: the threaded build did not start its pool (exit 124 = hung)" >&2; exit 1; }
echo "[build] pkg/dist ready" >&2
