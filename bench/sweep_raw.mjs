// Times only the Rust-side solve of a 1000-bridge parameter sweep in the threaded WebAssembly
// build (raw bindings, no result conversion), with a pool of N threads:
//   node bench/sweep_raw.mjs [THREADS] [COUNT] [REPS] [METHOD]
// Prints one JSON line: best wall time of `RawModel.sweep` (the parallel part), and of taking
// one ⟨Z0⟩ out of every result (serial JS work, for comparison with the facade's full conversion).
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { BRIDGE_PARAMETERS, bridgeSpec, bridgeValues } from './bridges_sweep.mjs';

const [threads = 2, count = 1000, reps = 7] = process.argv.slice(2, 5).map(Number);
const method = process.argv[5] ?? 'auto';
await import('../pkg/dist/node/worker-shim.js');
const m = await import('../pkg/wasm/mt/nestq_wasm.js');
await m.default({ module_or_path: await readFile(new URL('../pkg/wasm/mt/nestq_wasm_bg.wasm', import.meta.url)) });
await m.initThreadPool(threads);
// the bridge template and the sweep of bench/wasm_bench.mjs (= bench/bridges_models.py)
const spec = bridgeSpec(method);
const names = BRIDGE_PARAMETERS;
const values = bridgeValues(count);
const model = new m.RawModel(JSON.stringify(spec));
let solve = Infinity;
let take = Infinity;
let sum = 0;
for (let r = 0; r < reps + 1; r++) {
  const t0 = performance.now();
  const b = model.sweep(names, values);
  const t1 = performance.now();
  sum = 0;
  for (let i = 0; i < b.len(); i++) {
    const res = b.take(i);
    const v = res.expectRe(0);
    sum += v[v.length - 1];
    res.free();
  }
  b.free();
  const t2 = performance.now();
  if (r > 0) {
    solve = Math.min(solve, (t1 - t0) / 1e3);
    take = Math.min(take, (t2 - t1) / 1e3);
  }
}
model.free();
console.log(JSON.stringify({ bench: 'bridges-raw-sweep', count, threads: m.numThreads(), method, solve_s: solve, take_s: take, z0_final_sum: sum }));
process.exit(0);
