#!/usr/bin/env node
// qLIF pair synchrony experiment (results: docs/experiments/qlif-sync.md): do two LIF neurons
// that share a bridge fire together more than two independent neurons do? Runs
// examples/network_qlif_pair.json-style pairs with independent Poisson drive on each neuron, over
// several seeds and four conditions, with the native binary (target/release/nestq, or
// $NESTQ_NATIVE), and writes docs/experiments/qlif-sync.md and out/qlif-sync.json.
//   node scripts/experiments/qlif_sync.mjs [--seeds 10] [--duration 10000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { seeds: { type: 'string', default: '10' }, duration: { type: 'string', default: '10000' }, 'report-only': { type: 'boolean', default: false } } });
// --report-only rewrites the markdown from out/qlif-sync.json without running anything
const saved = args['report-only'] ? JSON.parse(readFileSync('out/qlif-sync.json', 'utf8')) : null;
const seeds = saved ? saved.seeds : Number(args.seeds);
const duration = saved ? saved.duration : Number(args.duration);
const bin = process.env.NESTQ_NATIVE ?? (process.env.CARGO_TARGET_DIR ? join(process.env.CARGO_TARGET_DIR, 'release/nestq') : 'target/release/nestq');
if (!saved && !existsSync(bin)) throw new Error(`native binary ${bin} not found: cargo build --release -p nestq-cli`);

const HALF_PI = Math.PI / 2;
// The conditions: what the neurons share.
const conditions = {
  'entangled + kicks': { initial: { bell: 'phi+' }, alpha: 0.5, kick: HALF_PI },
  'entangled + kicks, α = 2 nA': { initial: { bell: 'phi+' }, alpha: 2, kick: HALF_PI },
  'product + kicks': { initial: { basis: [0, 0] }, alpha: 0.5, kick: HALF_PI },
  'entangled, no kicks': { initial: { bell: 'phi+' }, alpha: 0.5, kick: 0 },
  'no read-out (independent)': { initial: { bell: 'phi+' }, alpha: 0, kick: HALF_PI },
  // positive control: the measures must see synchrony where there is some
  'control: classical synapses 8 mV': { initial: { bell: 'phi+' }, alpha: 0, kick: 0, synapse: 8 },
};

function network(c, seed) {
  return {
    version: 1,
    dt: 0.1,
    duration,
    neurons: [
      { id: 'left', tau_m: 20, v_rest: -65, v_reset: -68, v_th: -50, r_m: 10, t_ref: 2, i_ext: 1.2 },
      { id: 'right', tau_m: 20, v_rest: -65, v_reset: -68, v_th: -50, r_m: 10, t_ref: 2, i_ext: 1.2 },
    ],
    synapses: c.synapse ? [{ pre: 'left', post: 'right', weight: c.synapse, delay: 0.5 }, { pre: 'right', post: 'left', weight: c.synapse, delay: 0.5 }] : [],
    bridges: [{ neurons: ['left', 'right'], omega: [0.5, 0.5], gamma0: 0.02, beta: 0.05, kappa: [0.02, 0.02], alpha: [c.alpha, c.alpha], coupling: 'cp', measure: 'Z', initial: c.initial, spike_kick: c.kick }],
    inputs: [
      { neuron: 'left', kind: 'poisson', rate_hz: 400, weight: 1.0, seed: 2 * seed + 1 },
      { neuron: 'right', kind: 'poisson', rate_hz: 400, weight: 1.0, seed: 2 * seed + 2 },
    ],
    record: { spikes: true, bridge_expect: false, every: 1000, synchrony: { tau: 10, delta: 2 } },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'qlif-sync-'));
const mean = (x) => x.reduce((a, b) => a + b, 0) / x.length;
const std = (x) => Math.sqrt(x.reduce((a, b) => a + (b - mean(x)) ** 2, 0) / Math.max(1, x.length - 1));
const rows = saved ? saved.rows : [];
for (const [name, c] of saved ? [] : Object.entries(conditions)) {
  const g = [], d = [], rate = [];
  for (let s = 0; s < seeds; s++) {
    const f = join(dir, 'net.json'), o = join(dir, 'out.json');
    writeFileSync(f, JSON.stringify(network(c, s)));
    execFileSync(bin, ['network', f, '--out', o, '--quiet']);
    const r = JSON.parse(readFileSync(o, 'utf8')).synchrony[0];
    g.push(r.coincidence);
    d.push(r.van_rossum / Math.sqrt((r.spikes[0] + r.spikes[1]) / 2));
    rate.push((1000 * (r.spikes[0] + r.spikes[1])) / 2 / duration);
  }
  rows.push({ name, gamma: [mean(g), std(g)], vr: [mean(d), std(d)], rate: [mean(rate), std(rate)], raw: { g, d, rate } });
  console.error(`${name}: Γ = ${mean(g).toFixed(4)} ± ${std(g).toFixed(4)}, D/√N = ${mean(d).toFixed(4)} ± ${std(d).toFixed(4)}, rate ${mean(rate).toFixed(1)} Hz`);
}
mkdirSync('out', { recursive: true });
writeFileSync('out/qlif-sync.json', JSON.stringify({ seeds, duration, conditions, rows }, null, 1));
const f = (m) => `${m[0].toFixed(4)} ± ${m[1].toFixed(4)}`;
const base = rows.find((r) => r.name.startsWith('no read-out'));
const control = rows.find((r) => r.name.startsWith('control'));
const se = (r) => r.gamma[1] / Math.sqrt(seeds);
const lines = rows.map((r) => `| ${r.name} | ${f(r.gamma)} | ${((r.gamma[0] - base.gamma[0]) / Math.hypot(se(r), se(base))).toFixed(1)} | ${f(r.vr)} | ${f(r.rate)} |`);
writeFileSync('docs/experiments/qlif-sync.md', `# qLIF pair synchrony: does a shared (entangled) bridge make two neurons fire together?

Generated by \`node scripts/experiments/qlif_sync.mjs --seeds ${seeds} --duration ${duration}\` (native binary; ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}).
Raw numbers: \`out/qlif-sync.json\`.

**Setup.** Two identical LIF neurons (τ_m 20 ms, V_rest −65 mV, V_reset −68 mV, V_th −50 mV, R_m 10 MΩ,
t_ref 2 ms, I_ext 1.2 nA) each receive their *own* Poisson input (400 Hz, 1 mV per event, independent
seeds), so any synchrony beyond chance comes through the bridge. The bridge: ω = 0.5 rad/ms on both
qubits, \`cp\` coupling γ(t) = 0.02·e^(−0.05|V_l − V_r|) /ms, decay κ = 0.02 /ms, read-out M = σz with
I_q = α⟨σz⟩, spike kick θ: a spike rotates the spiking neuron's qubit by exp(−iθσx/2). ${duration / 1000} s of model
time per run, dt = 0.1 ms, ${seeds} seeds per condition.

**Measures** (\`nestq::neural::sync\`, reported by \`record.synchrony\`): Kistler's coincidence factor Γ at
Δ = 2 ms (1 = identical trains, 0 = chance level for Poisson trains), and the van Rossum distance at
τ = 10 ms divided by √(mean spike count) (0 for identical trains, larger = less alike). The last row is a
positive control: no quantum read-out, but excitatory synapses of 8 mV (delay 0.5 ms) both ways, which
must raise Γ if the measure works.

| condition | Γ (mean ± sd) | Γ vs independent (z) | van Rossum D/√N | rate (Hz) |
| --- | --- | --- | --- | --- |
${lines.join('\n')}

z = (Γ − Γ_independent) / standard error of the difference (${seeds} seeds each).

**What the data say.** ${verdict()}
`);

function verdict() {
  const ent = rows[0];
  const zc = (control.gamma[0] - base.gamma[0]) / Math.hypot(se(control), se(base));
  return `${core()} The positive control (classical synapses) moves Γ by ${(control.gamma[0] - base.gamma[0]).toFixed(4)} (z = ${zc.toFixed(1)}), so the measure does detect synchrony of that size.`;
}

function core() {
  const ent = rows[0];
  const prod = rows.find((r) => r.name.startsWith('product'));
  const z = (ent.gamma[0] - base.gamma[0]) / Math.hypot(se(ent), se(base));
  const zp = (ent.gamma[0] - prod.gamma[0]) / Math.hypot(se(ent), se(prod));
  const d = (ent.gamma[0] - base.gamma[0]).toFixed(4);
  const head =
    Math.abs(z) < 2
      ? `The entangled, kicked pair is not measurably more synchronous than two independent neurons: Γ differs by ${d} (z = ${z.toFixed(1)}), within seed-to-seed noise.`
      : z < 0
        ? `The entangled, kicked pair fires slightly *less* in coincidence than two independent neurons (ΔΓ = ${d}, z = ${z.toFixed(1)}): no synchronisation.`
        : `The entangled, kicked pair is more synchronous than two independent neurons (ΔΓ = ${d}, z = ${z.toFixed(1)}).`;
  const ent_vs_prod =
    Math.abs(zp) < 2
      ? ` The pair that starts in the product state |00⟩ behaves the same (Γ = ${prod.gamma[0].toFixed(4)}, z = ${zp.toFixed(1)} against the entangled pair), so whatever the bridge does here does not depend on entanglement; it acts through the classical read-out current I_q = α⟨σz⟩, which also changes the firing rate (${ent.rate[0].toFixed(1)} Hz against ${base.rate[0].toFixed(1)} Hz without read-out).`
      : ` The product-state pair differs from the entangled one (Γ = ${prod.gamma[0].toFixed(4)}, z = ${zp.toFixed(1)}).`;
  const claim = z >= 2 && Math.abs(zp) >= 2 ? '' : " The qLIF paper's claim that the shared entangled state synchronises the pair is not supported by these runs.";
  return head + ent_vs_prod + claim;
}
console.error('wrote docs/experiments/qlif-sync.md, out/qlif-sync.json');
