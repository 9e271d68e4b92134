// WebAssembly side of the neural benchmarks (bench/neural.sh): runs a network file through the
// npm package's runNetwork and prints one JSON line
//   {"bench": "network", "name", "impl": "wasm-st" | "wasm-mt", "threads", "wall_s", "engine_wall_s", "spikes", "steps"}
// wall_s includes parsing the file and building the network; engine_wall_s is the run's own
// stats.wall_s (performance.now inside the engine).
//   node bench/neural_bench.mjs bench/networks/lif1000_bridges500.json --threads 2
// (bench/networks/ is generated: node bench/make_networks.mjs)
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { startWasmBench } from './wasm_start.mjs';

const { file, values, threads, nq } = await startWasmBench('node bench/neural_bench.mjs NET.json [--threads 1|2] [--reps K]', { reps: { type: 'string', default: '1' } });
const text = await readFile(file, 'utf8');
let best = null;
for (let r = 0; r < Number(values.reps); r++) {
  const t0 = performance.now();
  const res = nq.runNetwork(text);
  const wall = (performance.now() - t0) / 1000;
  const s = res.stats;
  if (!best || wall < best.wall_s) {
    best = { bench: 'network', name: JSON.parse(text).name ?? file, impl: threads === 1 ? 'wasm-st' : 'wasm-mt', threads: nq.runtimeInfo().threads ?? threads, wall_s: wall, engine_wall_s: s.wall_s, spikes: s.spikes, steps: s.steps, bridge_method: s.bridge_method };
  }
}
console.log(JSON.stringify(best));
