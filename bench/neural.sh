#!/usr/bin/env bash
# Neural-layer benchmarks, side by side in one run on the same machine (targets and latest
# figures: bench/RESULTS.md):
#  1. Brian2's LIF benchmark (../shared/refs/brian2_lif_bench.py: 10,000 LIF neurons, τ_m 20 ms,
#     t_ref 2 ms, RI ~ U(10, 25) mV, synapses p = 0.02, w = 0.5 mV, 1 s at dt 0.1 ms) with Brian2's
#     numpy target, then the *identical* network (Brian2's own draws, written by
#     bench/brian2_lif_bench.py --nestq-explicit) in nestq natively (1 and 2 threads) and in
#     WebAssembly (st; mt with 2 threads). Spike counts must agree.
#  2. 1000 LIF neurons + 500 NEST bridges (bench/networks/lif1000_bridges500.json, bridge_method
#     split, generated here by bench/make_networks.mjs), natively (1, 2 threads) and in WebAssembly (st, mt 2 threads).
#     Each bridge case runs twice: as written (recording ⟨M⟩, γ and the concurrence of every
#     bridge every 10 steps) and without bridge recording (bench "bridges-norec").
# Writes bench/out/neural.jsonl and prints a markdown table (every run with its load average).
#   bash bench/neural.sh            BENCH_NEURAL_N=1000 bash bench/neural.sh   (smaller Brian2 case)
#   BENCH_NEURAL_ONLY=bridges …     only the bridge cases (lif: only the Brian2 case)
#   BENCH_REPEAT=3 …                every nestq run 3 times (the table lists all; report best-of)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
out=bench/out/neural.jsonl
: > "$out"
N="${BENCH_NEURAL_N:-10000}"
ONLY="${BENCH_NEURAL_ONLY:-}"
REPEAT="${BENCH_REPEAT:-1}"
if ! /usr/bin/python3 -c "import brian2" 2>/dev/null; then
  echo "[bench] installing Brian2 from Debian (python3-brian)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq python3-brian >/dev/null
fi
bash scripts/build/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p nestq-cli
bin="${CARGO_TARGET_DIR:-target}/release/nestq"
[ -f pkg/dist/index.js ] || { echo "[bench] pkg/dist missing: run scripts/build/build.sh" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ','; }
echo "{\"bench\": \"machine\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"node\": \"$(node --version)\", \"rustc\": \"$(rustc --version)\", \"date\": \"$(date -u '+%F %T UTC')\", \"load\": [$(load)]}" | tee -a "$out"

explicit=$(mktemp --suffix=.json)
norec=$(mktemp --suffix=.json)
trap 'rm -f "$explicit" "$norec"' EXIT
if [ "$ONLY" != bridges ]; then
summary=$(mktemp --suffix=.json)
/usr/bin/python3 bench/brian2_lif_bench.py "$N" numpy --nestq-explicit "$explicit" --summary "$summary" >&2
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const r = (s.runs ?? [s]).at(-1);
console.log(JSON.stringify({bench: "lif", n: r.N, impl: "brian2-numpy", threads: 1, wall_s: r.wall_s_run_1s, build_s: r.build_s, spikes: r.spikes, load: process.argv[2].split(",").map(Number)}));
' "$summary" "$(load)" | tee -a "$out"
rm -f "$summary"
fi

native() { # FILE BENCH N THREADS
  local o; o=$(mktemp --suffix=.json); local l; l=$(load)
  local t0; t0=$(date +%s.%N)
  "$bin" network "$1" --out "$o" --quiet --threads "$4"
  local t1; t1=$(date +%s.%N)
  node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stats;
console.log(JSON.stringify({bench: process.argv[2], n: Number(process.argv[3]), impl: "native", threads: Number(process.argv[4]), wall_s: r.wall_s, total_s: Number(process.argv[5]), spikes: r.spikes, bridges: r.bridges, bridge_method: r.bridge_method, load: process.argv[6].split(",").map(Number)}));
' "$o" "$2" "$3" "$4" "$(echo "$t1 - $t0" | bc)" "$l" | tee -a "$out"
  rm -f "$o"
}
wasm() { # FILE BENCH N THREADS
  local l; l=$(load)
  node bench/neural_bench.mjs "$1" --threads "$4" | node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const r = JSON.parse(s);
  console.log(JSON.stringify({bench: process.argv[1], n: Number(process.argv[2]), impl: r.impl, threads: r.threads, wall_s: r.engine_wall_s, total_s: r.wall_s, spikes: r.spikes, bridge_method: r.bridge_method, load: process.argv[3].split(",").map(Number)}));
});' "$2" "$3" "$l" | tee -a "$out"
}
for _ in $(seq "$REPEAT"); do
  if [ "$ONLY" != bridges ]; then
    for t in 1 2; do native "$explicit" lif "$N" "$t"; done
    wasm "$explicit" lif "$N" 1
    wasm "$explicit" lif "$N" 2
  fi
  if [ "$ONLY" != lif ]; then
    node bench/make_networks.mjs
    net=bench/networks/lif1000_bridges500.json
    node -e 'const f = require("fs"); const n = JSON.parse(f.readFileSync(process.argv[1], "utf8")); n.record.bridge_expect = false; f.writeFileSync(process.argv[2], JSON.stringify(n));' "$net" "$norec"
    for b in bridges bridges-norec; do
      f=$net; [ "$b" = bridges-norec ] && f=$norec
      for t in 1 2; do native "$f" "$b" 1000 "$t"; done
      wasm "$f" "$b" 1000 1
      wasm "$f" "$b" 1000 2
    done
  fi
done

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse).filter((r) => r.bench !== "machine");
console.log("\n| case | impl | threads | run (s) | incl. parse/build (s) | spikes | load |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
const name = (r) => (r.bench === "lif" ? `${r.n} LIF (Brian2 benchmark)` : r.bench === "bridges" ? "1000 LIF + 500 bridges" : "1000 LIF + 500 bridges, no bridge recording");
for (const r of rows) console.log(`| ${name(r)} | ${r.impl} | ${r.threads} | ${r.wall_s.toFixed(3)} | ${(r.total_s ?? r.wall_s + (r.build_s ?? 0)).toFixed(3)} | ${r.spikes} | ${r.load.join(" ")} |`);
' "$out"
