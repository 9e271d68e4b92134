// nestq's WebAssembly side of the benchmarks in bench/ (run through bench/run.sh next to the
// native harness crates/nestq/benches/engine.rs and QuTiP). Prints one JSON object per line, in
// the native harness's schema (bench, n / count, impl, method, threads, wall_s, steps,
// rhs_evals, z_last_final / z0_final_*), plus `build` (st | mt) and `reps`.
//
//   node bench/wasm_bench.mjs ising 6 --threads 1            # single-threaded SIMD build (st)
//   node bench/wasm_bench.mjs ising 8 --threads 2            # threaded build (mt), pool of 2
//   node bench/wasm_bench.mjs bridges 1000 --threads 2
//   node bench/wasm_bench.mjs ising 6 --build mt --threads 1 # threaded build, pool of 1
//   options: --methods auto,dopri5,krylov (ising default: auto; bridges default: auto,dopri5)
//            --reps K (default: 3 for ising N ≤ 6 and bridges, 1 for ising N ≥ 7; best of K)
//
// The models are the native harness's, character for character in content: the Ising chain of
// ising_json() (= bench/ising_model.py) and the bridge template + parameter sweep of
// bridge_model()/bridge_sets() (= bench/bridges_models.py; shared with bench/sweep_raw.mjs in
// bench/bridges_sweep.mjs). Bridges are solved as the native
// harness does (one model, `mesolveSweep` over the 1000 parameter sets) and, as a second row
// (`…/batch`), as 1000 separate model specs through `mesolveBatch`.
//
// `init` is once per process, so every configuration runs in its own `node` process. The
// threaded build with a pool of 1 is not reachable through `init` (threads: 1 loads st), so
// `--build mt --threads 1` loads the generated mt module directly and calls the raw API, with the
// facade's converters of raw results (so that it does the same work as the facade rows).
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { bridgeSets, bridgeSpec } from './bridges_sweep.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--')));
const [kind, argStr] = positional;
if (!kind || !argStr) {
  console.error('usage: node bench/wasm_bench.mjs (ising N | bridges COUNT) [--threads 1|2] [--build st|mt] [--methods a,b] [--reps K]');
  process.exit(2);
}
const arg = Number(argStr);
const threads = Number(opt('threads', '1'));
const build = opt('build', threads > 1 ? 'mt' : 'st');
if (build === 'st' && threads !== 1) throw new Error('the st build has one thread');

// ---------------------------------------------------------------- models (= engine.rs)
function isingSpec(n, method) {
  const h = [];
  for (let i = 0; i < n; i++) h.push({ coef: 50, ops: `Z${i}` });
  for (let i = 0; i < n - 1; i++) h.push({ coef: 25, ops: `X${i} X${i + 1}` });
  return {
    dims: Array(n).fill(2),
    hamiltonian: h,
    jumps: Array.from({ length: n }, (_, i) => ({ rate: 1, ops: `SM${i}` })),
    initial: { basis: Array(n).fill(0) },
    times: { start: 0, stop: 10, count: 100 },
    observables: { z: `Z${n - 1}` },
    solver: { method, rtol: 1e-6, atol: 1e-8, physicality: false },
  };
}

// the bridge template and sweep: bench/bridges_sweep.mjs

// ---------------------------------------------------------------- engine adapters
// Each adapter: solve(spec) → {z (last value of the first observable), stats},
// sweep(spec, sets) → finals[], batch(specs) → finals[], info. Both convert every result into
// the facade's `MesolveResult` (all series, final state, stats), so their rows are comparable.
const first = (res) => {
  const v = Object.values(res.expect)[0];
  return v[v.length - 1];
};
const finals = (entries) =>
  entries.map((e) => {
    if (!e.ok) throw e.error;
    return first(e.result);
  });

async function facadeAdapter() {
  const nq = await import('../pkg/dist/index.js');
  await nq.init({ threads: build === 'st' ? false : threads });
  const info = nq.runtimeInfo();
  return {
    info,
    solve: (spec) => {
      const r = nq.mesolve(spec);
      return { z: first(r), stats: r.stats };
    },
    sweep: (spec, sets) => finals(nq.mesolveSweep(spec, sets)),
    batch: (specs) => finals(nq.mesolveBatch(specs)),
  };
}

// The threaded module with a pool of 1, driven through the raw bindings plus the facade's own
// converters (`readResult`, `readBatch` of pkg/dist/solve.js), i.e. the work of `mesolve`,
// `mesolveSweep` and `mesolveBatch` without `init`.
async function rawMtAdapter() {
  await import('../pkg/dist/node/worker-shim.js');
  const { readBatch, readResult } = await import('../pkg/dist/solve.js');
  const m = await import('../pkg/wasm/mt/nestq_wasm.js');
  const bytes = await readFile(new URL('../pkg/wasm/mt/nestq_wasm_bg.wasm', import.meta.url));
  await m.default({ module_or_path: bytes });
  await m.initThreadPool(threads);
  const info = { version: m.version(), threaded: true, threads: m.numThreads(), simd: m.hasSimd(), platform: 'node', raw: true };
  const withModel = (spec, f) => {
    const model = new m.RawModel(JSON.stringify(spec));
    try {
      return f(model);
    } finally {
      model.free();
    }
  };
  return {
    info,
    solve: (spec) =>
      withModel(spec, (model) => {
        const r = readResult(model.mesolve(null));
        return { z: first(r), stats: r.stats };
      }),
    sweep: (spec, sets) => {
      const names = Object.keys(sets[0]);
      const values = Float64Array.from(sets.flatMap((s) => names.map((n) => s[n])));
      return withModel(spec, (model) => finals(readBatch(model.sweep(names, values))));
    },
    batch: (specs) => finals(readBatch(m.mesolveBatch(specs.map((s) => (typeof s === 'string' ? s : JSON.stringify(s)))))),
  };
}

const eng = build === 'mt' && threads === 1 ? await rawMtAdapter() : await facadeAdapter();
if (eng.info.threaded !== (build === 'mt') || eng.info.threads !== threads) {
  throw new Error(`asked for build ${build} with ${threads} thread(s), got ${JSON.stringify(eng.info)}`);
}

function best(reps, f) {
  let wall = Infinity;
  let out;
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    out = f();
    wall = Math.min(wall, (performance.now() - t0) / 1e3);
  }
  return { wall, out };
}

const implOf = (label) => `nestq-wasm-${build}/${label}`;
const common = { threads, build, node: process.version };

if (kind === 'ising') {
  const n = arg;
  const reps = Number(opt('reps', n <= 6 ? 3 : 1));
  for (const method of opt('methods', 'auto').split(',')) {
    const spec = isingSpec(n, method);
    // warm-up: the same model on a tenth of the time span (compiles/tiers up the wasm, fills the
    // allocator, starts the pool)
    eng.solve({ ...spec, times: { start: 0, stop: 1, count: 10 } });
    const { wall, out } = best(reps, () => eng.solve(spec));
    console.log(JSON.stringify({
      bench: 'ising', n, impl: implOf(method), method: out.stats.method, ...common, wall_s: wall, reps,
      steps: out.stats.steps, rhs_evals: out.stats.rhs_evals, z_last_final: out.z,
    }));
  }
} else if (kind === 'bridges') {
  const count = arg;
  const reps = Number(opt('reps', 3));
  const sets = bridgeSets(count);
  const summary = (finals) => ({
    z0_final_first: finals[0], z0_final_last: finals[count - 1], z0_final_sum: finals.reduce((a, b) => a + b, 0),
  });
  for (const method of opt('methods', 'auto,dopri5').split(',')) {
    const tmpl = bridgeSpec(method);
    eng.sweep(tmpl, sets.slice(0, Math.min(count, 50))); // warm-up
    const sw = best(reps, () => eng.sweep(tmpl, sets));
    console.log(JSON.stringify({ bench: 'bridges', count, impl: implOf(method), api: 'mesolveSweep', ...common, wall_s: sw.wall, reps, ...summary(sw.out) }));
    if (method === 'auto') {
      // the same 1000 models as separate specs (JSON texts built outside the timed region)
      const specs = sets.map((p) => JSON.stringify(bridgeSpec(method, p)));
      eng.batch(specs.slice(0, Math.min(count, 50)));
      const bt = best(reps, () => eng.batch(specs));
      console.log(JSON.stringify({ bench: 'bridges', count, impl: implOf(`${method}/batch`), api: 'mesolveBatch', ...common, wall_s: bt.wall, reps, ...summary(bt.out) }));
    }
  }
} else {
  console.error(`unknown benchmark ${kind}`);
  process.exit(2);
}
// the threaded build's pool keeps the event loop alive
process.exit(0);
