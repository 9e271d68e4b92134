// Times only the Rust-side solve of a 1000-bridge parameter sweep in the threaded WebAssembly
// build (raw bindings, no result conversion), with a pool of N threads:
//   node bench/sweep_raw.mjs [THREADS] [COUNT] [REPS] [METHOD]
// Prints one JSON line: best wall time of `RawModel.sweep` (the parallel part), and of taking
// one ⟨Z0⟩ out of every result (serial JS work, for comparison with the facade's full conversion).
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

const [threads = 2, count = 1000, reps = 7] = process.argv.slice(2, 5).map(Number);
const method = process.argv[5] ?? 'auto';
await import('../pkg/dist/node/worker-shim.js');
const m = await import('../pkg/wasm/mt/nestq_wasm.js');
await m.default({ module_or_path: await readFile(new URL('../pkg/wasm/mt/nestq_wasm_bg.wasm', import.meta.url)) });
await m.initThreadPool(threads);
const spec = {
  dims: [2, 2],
  parameters: { omega1: 1, omega2: 1, gamma12: 0.1, kappa: 0.05 },
  hamiltonian: [{ coef: 'omega1', ops: 'Z0' }, { coef: 'omega2', ops: 'Z1' }, { coef: 'gamma12', ops: 'X0 X1' }],
  jumps: [{ rate: 'kappa', ops: 'SM0' }, { rate: 'kappa', ops: 'SM1' }],
  initial: { basis: [0, 0] },
  times: { start: 0, stop: 10, count: 51 },
  observables: { Z0: 'Z0' },
  solver: { method, physicality: false },
};
// the sweep of bench/bridges_models.py
const names = ['omega1', 'omega2', 'gamma12', 'kappa'];
const values = new Float64Array(count * 4);
for (let k = 0; k < count; k++) {
  const f = k / (Math.max(count, 2) - 1);
  values.set([1 + 0.5 * f, 1 - 0.3 * f, 0.05 + 0.2 * f, 0.02 + 0.08 * f], 4 * k);
}
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
