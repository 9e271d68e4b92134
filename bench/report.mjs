// Turns bench/out/results.jsonl into the markdown tables of bench/RESULTS.md.
// With repeated runs (BENCH_REPEAT) the tables show the best (smallest) wall time of each
// configuration; the WASM comparison also lists every run with the load average at its start.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
const rows = (files.length ? files : ['bench/out/results.jsonl'])
  .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
const machine = rows.find((r) => r.bench === 'machine');
if (machine) {
  const load = machine.load_start ? `; load average at start ${machine.load_start.join(', ')}` : '';
  const node = machine.node ? `; Node ${machine.node}` : '';
  console.log(`Machine: ${machine.cpu}, ${machine.cores} cores at ${machine.mhz} MHz; QuTiP ${machine.qutip || '(not run)'}; ${machine.rustc}${node}; ${machine.date}${load}\n`);
}
const fmt = (x, d = 3) => (x === undefined || x === null || Number.isNaN(x) ? '' : Number(x).toPrecision(d));
const isQ = (r) => r.impl.startsWith('qutip');

/** Best (smallest wall) row per key, with all walls/loads of that key in `runs`. */
function best(list, key) {
  const m = new Map();
  for (const r of list) {
    const k = key(r);
    const run = { wall_s: r.wall_s, load: r.load };
    const cur = m.get(k);
    if (!cur) m.set(k, { ...r, runs: [run] });
    else {
      const runs = [...cur.runs, run];
      m.set(k, r.wall_s < cur.wall_s ? { ...r, runs } : { ...cur, runs });
    }
  }
  return [...m.values()];
}

const ising = best(rows.filter((r) => r.bench === 'ising'), (r) => `${r.n}|${r.impl}|${r.threads ?? 1}`);
if (ising.length) {
  console.log('| N | implementation | threads | method | wall (s) | RHS evals | speed-up vs QuTiP | ⟨Z_{N-1}⟩(10) | Δ vs QuTiP |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const n of [...new Set(ising.map((r) => r.n))]) {
    const q = ising.find((r) => r.n === n && isQ(r));
    for (const r of ising.filter((x) => x.n === n)) {
      const sp = q && !isQ(r) ? `${(q.wall_s / r.wall_s).toFixed(1)}×` : '';
      const d = q && !isQ(r) ? Math.abs(r.z_last_final - q.z_last_final).toExponential(1) : '';
      console.log(`| ${n} | ${r.impl} | ${r.threads ?? 1} | ${r.method ?? 'adams (zvode)'} | ${fmt(r.wall_s)} | ${r.rhs_evals ?? ''} | ${sp} | ${r.z_last_final.toFixed(8)} | ${d} |`);
    }
  }
  console.log('');
}
const br = best(rows.filter((r) => r.bench === 'bridges'), (r) => `${r.count}|${r.impl}|${r.threads ?? 1}`);
if (br.length) {
  console.log('| bridges | implementation | threads | wall (s) | speed-up vs QuTiP | Σ⟨Z0⟩(10) | Δ vs QuTiP |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of br) {
    const q = br.find((x) => x.count === r.count && isQ(x));
    const sp = q && r !== q ? `${(q.wall_s / r.wall_s).toFixed(0)}×` : '';
    const d = q && r !== q ? Math.abs(r.z0_final_sum - q.z0_final_sum).toExponential(1) : '';
    console.log(`| ${r.count} | ${r.impl} | ${r.threads ?? 1} | ${fmt(r.wall_s)} | ${sp} | ${r.z0_final_sum.toFixed(6)} | ${d} |`);
  }
  console.log('');
}

// ------------------------------------------------------------------ native vs WebAssembly
// One line per case and method label (the part of `impl` after the implementation name):
// native 1/2 threads, wasm st, wasm mt with a pool of 1 and of 2, QuTiP, ratios, and the
// largest difference of the observable between any two implementations.
const wasmRows = [...ising, ...br].filter((r) => r.impl.startsWith('nestq-wasm'));
if (wasmRows.length) {
  const all = [...ising, ...br];
  const caseOf = (r) => (r.bench === 'ising' ? `Ising N=${r.n}` : `${r.count} bridges`);
  const obs = (r) => (r.bench === 'ising' ? r.z_last_final : r.z0_final_sum);
  const label = (r) => r.impl.split('/').slice(1).join('/');
  const cases = [...new Set(wasmRows.map((r) => `${caseOf(r)}|${label(r)}`))];
  const ratio = (a, b) => (a && b ? `${(a.wall_s / b.wall_s).toFixed(2)}` : '');
  console.log('| case | method | native-1 (s) | native-2 (s) | native 1→2 speed-up | wasm-st (s) | wasm-mt-1 (s) | wasm-mt-2 (s) | QuTiP (s) | wasm-st / native-1 | wasm-mt-2 speed-up over wasm-st | over wasm-mt-1 | max Δ observable, nestq only | max Δ incl. QuTiP |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    const [name, lab] = c.split('|');
    const same = all.filter((r) => caseOf(r) === name);
    const pick = (prefix, t) => same.find((r) => r.impl === `${prefix}/${lab}` && (r.threads ?? 1) === t);
    const n1 = pick('nestq-native', 1) ?? same.find((r) => r.impl === `nestq-native/${lab.split('/')[0]}` && r.threads === 1);
    const n2 = pick('nestq-native', 2) ?? same.find((r) => r.impl === `nestq-native/${lab.split('/')[0]}` && r.threads === 2);
    const st = pick('nestq-wasm-st', 1);
    const m1 = pick('nestq-wasm-mt', 1);
    const m2 = pick('nestq-wasm-mt', 2);
    const q = same.find(isQ);
    const vals = [n1, n2, st, m1, m2, q].filter(Boolean).map(obs);
    const spread = vals.length > 1 ? (Math.max(...vals) - Math.min(...vals)).toExponential(1) : '';
    const nv = [n1, n2, st, m1, m2].filter(Boolean).map(obs);
    const nspread = nv.length > 1 ? (Math.max(...nv) - Math.min(...nv)).toExponential(1) : '';
    const w = (r) => fmt(r?.wall_s);
    console.log(`| ${name} | ${lab}${st?.method ? ` (${st.method})` : ''} | ${w(n1)} | ${w(n2)} | ${ratio(n1, n2)} | ${w(st)} | ${w(m1)} | ${w(m2)} | ${w(q)} | ${ratio(st, n1)} | ${ratio(st, m2)} | ${ratio(m1, m2)} | ${nspread} | ${q ? spread : ''} |`);
  }
  console.log('');
  console.log('Every run (wall s @ 1-min load average at its start):\n');
  console.log('| case | implementation | threads | runs |');
  console.log('|---|---|---|---|');
  for (const r of all.filter((x) => !isQ(x) && x.runs)) {
    if (!cases.some((c) => c.startsWith(`${caseOf(r)}|`))) continue;
    const runs = r.runs.map((x) => `${fmt(x.wall_s)} @ ${x.load ? x.load[0] : '?'}`).join('; ');
    console.log(`| ${caseOf(r)} | ${r.impl} | ${r.threads ?? 1} | ${runs} |`);
  }
  console.log('');
}
const size = rows.find((r) => r.bench === 'wasm_size');
if (size) {
  console.log('| wasm build | bytes | gzip bytes | SIMD instructions |');
  console.log('|---|---|---|---|');
  for (const v of ['st', 'mt']) {
    if (size[v]) console.log(`| ${v} | ${size[v].bytes} (${(size[v].bytes / 1024).toFixed(0)} KiB) | ${size[v].gzip_bytes} (${(size[v].gzip_bytes / 1024).toFixed(0)} KiB) | ${size[v].simd_instructions ?? ''} |`);
  }
  console.log('');
}
const loadEnd = rows.find((r) => r.bench === 'load_end');
if (loadEnd) console.log(`Load average at the end of the run: ${loadEnd.load.join(', ')}\n`);

const rhs = rows.filter((r) => r.bench === 'rhs');
if (rhs.length) {
  const peak = machine ? (machine.mhz / 1000) * 16 : undefined;
  console.log(`| RHS kernel | dim | µs per evaluation | GFLOP/s | peak (1 core, AVX2 FMA: 16 flop/cycle) |`);
  console.log('|---|---|---|---|---|');
  for (const r of rhs) console.log(`| Ising N=${r.n_qubits} | ${r.dim} | ${(r.seconds_per_eval * 1e6).toFixed(1)} | ${r.gflops.toFixed(2)} | ${peak ? peak.toFixed(1) : ''} |`);
  console.log('');
}
const gemm = rows.filter((r) => r.bench === 'gemm');
if (gemm.length) {
  console.log('| complex GEMM n | nalgebra (s) | faer (s) | nalgebra GFLOP/s | faer GFLOP/s |');
  console.log('|---|---|---|---|---|');
  for (const r of gemm) console.log(`| ${r.n} | ${fmt(r.nalgebra_s)} | ${fmt(r.faer_s)} | ${r.nalgebra_gflops.toFixed(2)} | ${r.faer_gflops.toFixed(2)} |`);
}
