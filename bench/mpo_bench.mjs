// WebAssembly side of the MPO benchmark (bench/mpo.sh): solves a model file with method mpo
// through the npm package's mesolve (no progress callback, as the native bench) and prints one
// JSON line
//   {"bench": "mpo", "impl": "wasm-st" | "wasm-mt", "threads", "wall_s", "engine_wall_s",
//    "wasm_memory_mib", "rss_mib", "peak_rss_mib", "steps", "rhs_evals", "max_bond",
//    "truncation_error", "trotter_error", "trace_final", "final": {observable: value at t_end},
//    "vs_native": {...}}
// wasm_memory_mib is the size of the instance's WebAssembly.Memory after the solve (it only
// grows, so it is the peak of the wasm heap); peak_rss_mib is the process's maxRSS (V8, the wasm
// memory and, for mt, the pool's worker threads). With --compare NATIVE.result.json, vs_native
// holds the largest |Δ| of every observable over all output times and at t_end, the relative
// difference of truncation_error, and whether the per-time bond dimensions are identical.
//   node bench/mpo_bench.mjs bench/mpo_chain32.json --threads 2 --out bench/out/mpo.mt --compare bench/out/mpo.native.result.json
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { startWasmBench } from './wasm_start.mjs';

const { file, values, threads, nq, info } = await startWasmBench('node bench/mpo_bench.mjs MODEL.json [--threads 1|2] [--out PREFIX] [--compare NATIVE.result.json]', { out: { type: 'string' }, compare: { type: 'string' } });
const { raw } = await import('../pkg/dist/raw.js');
// The generated init returns the existing instance's exports (the facade does not keep them).
const { memory } = await raw().default();
const text = await readFile(file, 'utf8');

const t0 = performance.now();
const res = nq.mesolve(text);
const wall = (performance.now() - t0) / 1000;
const json = res.toJSON();
const s = json.stats;
const last = (v) => v[v.length - 1];
const mib = (bytes) => bytes / 2 ** 20;
const row = {
  bench: 'mpo',
  name: JSON.parse(text).name ?? file,
  impl: threads === 1 ? 'wasm-st' : 'wasm-mt',
  threads: info.threads,
  wall_s: wall,
  engine_wall_s: s.wall_s,
  wasm_memory_mib: mib(memory.buffer.byteLength),
  rss_mib: mib(process.memoryUsage().rss),
  peak_rss_mib: process.resourceUsage().maxRSS / 1024,
  steps: s.steps,
  rhs_evals: s.rhs_evals,
  max_bond: s.max_bond,
  truncation_error: s.truncation_error,
  trotter_error: s.trotter_error,
  // Tr ρ(t_end) if the model measures `trace` (bench/mpo_chain32.json does)
  trace_final: json.measures.trace ? last(json.measures.trace) : null,
  final: Object.fromEntries(Object.entries(json.expect).map(([k, v]) => [k, last(v)])),
};
if (values.compare) {
  const native = JSON.parse(await readFile(values.compare, 'utf8'));
  const maxAbs = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
  row.vs_native = {
    max_abs_diff: Object.fromEntries(Object.keys(native.expect).map((k) => [k, maxAbs(json.expect[k], native.expect[k])])),
    final_abs_diff: Object.fromEntries(Object.keys(native.expect).map((k) => [k, Math.abs(last(json.expect[k]) - last(native.expect[k]))])),
    truncation_error_rel_diff: Math.abs(s.truncation_error - native.stats.truncation_error) / native.stats.truncation_error,
    rhs_evals_equal: s.rhs_evals === native.stats.rhs_evals,
    bond_dims_equal: JSON.stringify(s.mpo.bond_dims) === JSON.stringify(native.stats.mpo.bond_dims),
  };
}
if (values.out) await writeFile(`${values.out}.result.json`, JSON.stringify(json));
console.log(JSON.stringify(row));
// the threaded build's pool keeps the event loop alive
process.exit(0);
