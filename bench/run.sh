#!/usr/bin/env bash
# Side-by-side benchmarks: QuTiP 4.7 (Debian) and nestq (native) on the same machine in one run.
# Writes bench/out/results.jsonl and prints a markdown table (bench/report.mjs).
#   bash bench/run.sh            # Ising N = 4 6 8, 1000 bridges, RHS GFLOP/s, GEMM
#   BENCH_QUICK=1 bash bench/run.sh   # N = 4 6 and 100 bridges only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
if ! /usr/bin/python3 -c "import qutip" 2>/dev/null; then
  echo "[bench] installing QuTiP 4.7 from Debian (python3-qutip)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq python3-qutip >/dev/null
fi
mkdir -p bench/out
out=bench/out/results.jsonl
: > "$out"
if [ -n "${BENCH_QUICK:-}" ]; then NS="4 6"; BRIDGES=100; else NS="4 6 8"; BRIDGES=1000; fi
cargo bench -p nestq --bench engine --no-run >/dev/null 2>&1 || cargo bench -p nestq --bench engine --no-run
run_nestq() { cargo bench -q -p nestq --bench engine -- "$@" 2>/dev/null | grep '^{' | tee -a "$out"; }
{
  echo "{\"bench\": \"machine\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"mhz\": $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2 | xargs), \"qutip\": \"$(/usr/bin/python3 -c 'import qutip; print(qutip.__version__)')\", \"rustc\": \"$(rustc --version)\", \"date\": \"$(date -u +%F)\"}"
} | tee -a "$out"
for n in $NS; do
  /usr/bin/python3 bench/qutip_bench.py ising "$n" | tee -a "$out"
  RAYON_NUM_THREADS=1 run_nestq ising "$n"
  RAYON_NUM_THREADS=2 run_nestq ising "$n"
done
/usr/bin/python3 bench/qutip_bench.py bridges "$BRIDGES" | tee -a "$out"
RAYON_NUM_THREADS=1 run_nestq bridges "$BRIDGES"
RAYON_NUM_THREADS=2 run_nestq bridges "$BRIDGES"
RAYON_NUM_THREADS=1 run_nestq rhs $NS
RAYON_NUM_THREADS=1 run_nestq gemm 64 256
node bench/report.mjs "$out"
