// Turns bench/out/results.jsonl into the markdown tables of bench/RESULTS.md.
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2] ?? 'bench/out/results.jsonl', 'utf8')
  .split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const machine = rows.find((r) => r.bench === 'machine');
if (machine) {
  console.log(`Machine: ${machine.cpu}, ${machine.cores} cores at ${machine.mhz} MHz; QuTiP ${machine.qutip}; ${machine.rustc}; ${machine.date}\n`);
}
const fmt = (x, d = 3) => (x === undefined ? '' : Number(x).toPrecision(d));
const ising = rows.filter((r) => r.bench === 'ising');
if (ising.length) {
  console.log('| N | implementation | threads | method | wall (s) | RHS evals | speed-up vs QuTiP | ⟨Z_{N-1}⟩(10) | Δ vs QuTiP |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const n of [...new Set(ising.map((r) => r.n))]) {
    const q = ising.find((r) => r.n === n && r.impl.startsWith('qutip'));
    for (const r of ising.filter((x) => x.n === n)) {
      const sp = q && !r.impl.startsWith('qutip') ? `${(q.wall_s / r.wall_s).toFixed(1)}×` : '';
      const d = q && !r.impl.startsWith('qutip') ? Math.abs(r.z_last_final - q.z_last_final).toExponential(1) : '';
      console.log(`| ${n} | ${r.impl} | ${r.threads ?? 1} | ${r.method ?? 'adams (zvode)'} | ${fmt(r.wall_s)} | ${r.rhs_evals ?? ''} | ${sp} | ${r.z_last_final.toFixed(8)} | ${d} |`);
    }
  }
  console.log('');
}
const br = rows.filter((r) => r.bench === 'bridges');
if (br.length) {
  const q = br.find((r) => r.impl.startsWith('qutip'));
  console.log('| bridges | implementation | threads | wall (s) | speed-up vs QuTiP | Σ⟨Z0⟩(10) | Δ vs QuTiP |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of br) {
    const sp = q && r !== q ? `${(q.wall_s / r.wall_s).toFixed(0)}×` : '';
    const d = q && r !== q ? Math.abs(r.z0_final_sum - q.z0_final_sum).toExponential(1) : '';
    console.log(`| ${r.count} | ${r.impl} | ${r.threads ?? 1} | ${fmt(r.wall_s)} | ${sp} | ${r.z0_final_sum.toFixed(6)} | ${d} |`);
  }
  console.log('');
}
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
