#!/usr/bin/env bash
# Side-by-side benchmarks in one run on the same machine: QuTiP 4.7 (Debian), nestq native
# (crates/nestq/benches/engine.rs) and nestq WebAssembly (bench/wasm_bench.mjs: the single-threaded
# SIMD build `st`, the threaded build `mt` with a pool of 1 and of 2).
# Writes bench/out/results.jsonl (every line tagged with the 1-minute load average at its start
# and its repetition) and prints markdown tables (bench/report.mjs).
#   bash bench/run.sh                      # Ising N = 4 6 8, 1000 bridges, RHS GFLOP/s, GEMM
#   BENCH_QUICK=1 bash bench/run.sh        # N = 4 6 and 100 bridges only
#   BENCH_SKIP_QUTIP_N8=1 bash bench/run.sh   # no QuTiP at N = 8 (~3 min)
#   BENCH_WASM_ONLY=1 bash bench/run.sh    # native vs WASM only: Ising 6 8, 1000 bridges; no QuTiP, RHS, GEMM
#   BENCH_REPEAT=3 …                       # run the native and WASM cases 3 times (report: best, with loads)
#   BENCH_NO_WASM=1 …                      # skip the WASM runs
#   NESTQ_ENGINE_BIN=target/release/deps/engine-<hash> …   # run this prebuilt bench binary, no cargo
#   BENCH_WASM_METHODS=auto,dopri5,krylov …   # Ising methods for WASM (default auto; native runs all three)
#   BENCH_NS="6 8" BENCH_BRIDGES=1000 …    # override the Ising sizes / bridge count
#   BENCH_ISING_METHODS=auto,dopri5 …      # native Ising methods (default auto,dopri5,cheby,krylov)
#   BENCH_BRIDGE_METHODS=auto …            # native bridge methods (default auto,dopri5)
# The WASM runs need the built package (pkg/wasm/{st,mt}, pkg/dist: scripts/build/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
out=bench/out/results.jsonl
: > "$out"
WASM_ONLY="${BENCH_WASM_ONLY:-}"
REPEAT="${BENCH_REPEAT:-1}"
WASM_METHODS="${BENCH_WASM_METHODS:-auto}"
if [ -n "$WASM_ONLY" ]; then NS="6 8"; BRIDGES=1000
elif [ -n "${BENCH_QUICK:-}" ]; then NS="4 6"; BRIDGES=100
else NS="4 6 8"; BRIDGES=1000; fi
NS="${BENCH_NS:-$NS}"; BRIDGES="${BENCH_BRIDGES:-$BRIDGES}"
qutip_on() { [ -z "$WASM_ONLY" ]; }
wasm_on() { [ -z "${BENCH_NO_WASM:-}" ]; }

if qutip_on && ! /usr/bin/python3 -c "import qutip" 2>/dev/null; then
  echo "[bench] installing QuTiP 4.7 from Debian (python3-qutip)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq python3-qutip >/dev/null
fi
if [ -n "${NESTQ_ENGINE_BIN:-}" ]; then
  engine() { "$NESTQ_ENGINE_BIN" "$@"; }
  rustc_v="prebuilt $(basename "$NESTQ_ENGINE_BIN") ($(date -u -r "$NESTQ_ENGINE_BIN" '+%F %T UTC'))"
else
  bash scripts/build/ensure-rust.sh
  export PATH="$HOME/.cargo/bin:$PATH"
  cargo bench -p nestq --bench engine --no-run >/dev/null 2>&1 || cargo bench -p nestq --bench engine --no-run
  engine() { cargo bench -q -p nestq --bench engine -- "$@" 2>/dev/null; }
  rustc_v="$(rustc --version)"
fi
if wasm_on && [ ! -f pkg/dist/index.js ]; then echo "[bench] pkg/dist missing: run scripts/build/build.sh (or BENCH_NO_WASM=1)" >&2; exit 1; fi

# tag: appends the load average at the start of the command and the repetition to each JSON line
rep=0
tagged() {
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')
  "$@" | grep '^{' | sed "s/}\$/, \"load\": [$load], \"rep\": $rep}/" | tee -a "$out"
}
native() { local t=$1; shift; RAYON_NUM_THREADS=$t tagged engine "$@"; }
wasm() { # wasm BUILD THREADS CASE ARG
  wasm_on || return 0
  tagged node bench/wasm_bench.mjs "$3" "$4" --build "$1" --threads "$2" --methods "$( [ "$3" = ising ] && echo "$WASM_METHODS" || echo auto,dopri5)"
}
all_impls() { # CASE ARG: native 1/2 threads, wasm st, mt-1, mt-2
  native 1 "$1" "$2"; native 2 "$1" "$2"
  wasm st 1 "$1" "$2"; wasm mt 1 "$1" "$2"; wasm mt 2 "$1" "$2"
}

qv=""; qutip_on && qv="$(/usr/bin/python3 -c 'import qutip; print(qutip.__version__)')"
{
  echo "{\"bench\": \"machine\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"mhz\": $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2 | xargs), \"qutip\": \"$qv\", \"rustc\": \"$rustc_v\", \"node\": \"$(node --version)\", \"date\": \"$(date -u '+%F %T UTC')\", \"load_start\": [$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')]}"
  if wasm_on && [ -f pkg/wasm/sizes.json ]; then
    node -e 'const s=require("./pkg/wasm/sizes.json"); console.log(JSON.stringify({bench: "wasm_size", ...s}))'
  fi
} | tee -a "$out"

if qutip_on; then
  for n in $NS; do
    if [ "$n" -ge 8 ] && [ -n "${BENCH_SKIP_QUTIP_N8:-}" ]; then continue; fi
    tagged /usr/bin/python3 bench/qutip_bench.py ising "$n"
  done
  tagged /usr/bin/python3 bench/qutip_bench.py bridges "$BRIDGES"
fi
for rep in $(seq 1 "$REPEAT"); do
  for n in $NS; do all_impls ising "$n"; done
  all_impls bridges "$BRIDGES"
  # the Rust-side sweep alone in the threaded build (no conversion of results to JS objects)
  if wasm_on; then for t in 1 2; do tagged node bench/sweep_raw.mjs "$t" "$BRIDGES" 7; done; fi
done
rep=1
if [ -z "$WASM_ONLY" ]; then
  native 1 rhs $NS
  native 1 gemm 64 256
fi
echo "{\"bench\": \"load_end\", \"load\": [$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')]}" | tee -a "$out"
node bench/report.mjs "$out"
