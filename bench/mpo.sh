#!/usr/bin/env bash
# MPO/TEBD benchmark (target and latest figures: bench/RESULTS.md, *MPO/TEBD chains*): one model
# file (default bench/mpo_chain32.json: 32 qubits, χ 64, t = 4) natively
# (crates/nestq/benches/mpo.rs, rayon on all cores) and through the npm package's WebAssembly,
# single-threaded (st) and threaded with a pool of 2 (mt), one process each.
# Records wall time, memory (native VmHWM; wasm heap size, RSS and peak RSS), max bond,
# truncation error, gate count, and the agreement of every observable with the native result;
# each row carries the 1-minute load average before and after it (the machine is shared).
# Writes bench/out/mpo.jsonl (+ the result files bench/out/mpo.{native,st,mt}.result.json) and
# prints a markdown table.
#   bash bench/mpo.sh [MODEL.json]          (needs the built package: bash scripts/build/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
model="$(realpath "${1:-bench/mpo_chain32.json}")"
[ -f pkg/dist/index.js ] || { echo "[bench] pkg/dist missing: run scripts/build/build.sh" >&2; exit 1; }
bash scripts/build/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p bench/out
jsonl=bench/out/mpo.jsonl
: > "$jsonl"
load1() { cut -d' ' -f1 /proc/loadavg; }
echo "{\"bench\": \"machine\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"node\": \"$(node --version)\", \"rustc\": \"$(rustc --version)\", \"date\": \"$(date -u '+%F %T UTC')\", \"model\": \"${model#"$PWD"/}\"}" | tee -a "$jsonl"

# Appends a row (the last JSON line on stdin) with the load before ($1) and after the run.
row() { node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const r = JSON.parse(s.trim().split("\n").filter((l) => l.startsWith("{\"bench\"")).at(-1));
  const after = Number(require("fs").readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  console.log(JSON.stringify({ ...r, load_before: Number(process.argv[1]), load_after: after }));
});' "$1" | tee -a "$jsonl"; }

cargo bench -q -p nestq --bench mpo --no-run
l=$(load1); cargo bench -q -p nestq --bench mpo -- "$model" --out="$PWD/bench/out/mpo.native" | tee >(grep -v '^{' >&2) | row "$l"
for t in 1 2; do
  v=$([ "$t" = 1 ] && echo st || echo mt)
  l=$(load1); node bench/mpo_bench.mjs "$model" --threads "$t" --out "bench/out/mpo.$v" --compare bench/out/mpo.native.result.json | row "$l"
done

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const native = JSON.parse(require("fs").readFileSync("bench/out/mpo.native.result.json", "utf8"));
const last = (v) => v[v.length - 1];
const f = (x, d = 2) => (x == null ? "—" : x.toFixed(d));
console.log("\n| impl | threads | wall (s) | memory | max bond | truncation error | gates | max abs Δ⟨O⟩ vs native (at t_end) | load 1 min (before → after) |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows.filter((r) => r.bench === "mpo")) {
  const isNative = r.impl === "native";
  const st = isNative ? native.stats : r;
  const mem = isNative ? `VmHWM ${f(r.vm_hwm_mib, 1)} MiB` : `wasm ${f(r.wasm_memory_mib, 0)} MiB, RSS ${f(r.rss_mib, 0)} MiB (peak ${f(r.peak_rss_mib, 0)})`;
  const d = r.vs_native ? `${Math.max(...Object.values(r.vs_native.max_abs_diff)).toExponential(1)} (${Math.max(...Object.values(r.vs_native.final_abs_diff)).toExponential(1)})${r.vs_native.bond_dims_equal ? ", same bonds" : ", bonds differ"}` : "—";
  console.log(`| ${r.impl} | ${r.threads} | ${f(r.wall_s)} | ${mem} | ${st.max_bond} | ${st.truncation_error.toExponential(3)} | ${st.rhs_evals} | ${d} | ${r.load_before} → ${r.load_after} |`);
}
console.log(`\nnative final: ${Object.entries(native.expect).map(([k, v]) => `${k} = ${last(v).toFixed(6)}`).join(", ")}, Tr ρ = ${native.measures.trace ? last(native.measures.trace).toFixed(6) : "—"}, Trotter estimate ${native.stats.trotter_error?.toExponential(2)}`);
' "$jsonl"
