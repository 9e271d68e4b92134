#!/usr/bin/env node
// Writes the benchmark networks into bench/networks/ (not committed: bench/neural.sh runs this
// before it uses them; takes ~0.1 s):
//   lif1000_bridges500.json — the neural layer's bridge benchmark (bench/RESULTS.md, *1000 LIF
//     neurons + 500 NEST bridges*): 1000 LIF neurons (τ_m 20 ms, t_ref 2 ms,
//     R·I_ext ~ U(10, 25) mV as in Brian2's benchmark, random synapses p = 0.02, w = 0.5 mV) with
//     500 NEST bridges between neuron pairs at least 250 indices apart (adaptive coupling
//     γ₀ = 0.1 rad/ms, β = 0.1/mV, κ = 0.05/ms, α = 0.3 nA, read-out σx), dt = 0.1 ms, 1 s.
//     Recorded: spikes, ⟨M⟩, γ and concurrence of every bridge every 10 steps (1 ms).
//   lif1000_bridges500_expm.json — the same network with bridge_method "expm" (the exact
//     propagator per step instead of the split step; one line differs).
// The bridge pairs come from a fixed linear congruential sequence, so the files are reproducible
// byte for byte (they are the files the benchmark history in bench/history/ was measured on).
//   node bench/make_networks.mjs
import { mkdirSync, writeFileSync } from 'node:fs';

function lcg(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 11n) / 2 ** 53;
  };
}

function bridgeNetwork(n, nb, method, seed) {
  const rand = lcg(seed);
  const bridges = [];
  while (bridges.length < nb) {
    const i = Math.floor(rand() * n);
    const k = Math.floor(rand() * n);
    if (Math.abs(i - k) < n / 4) continue;
    bridges.push({ neurons: [`h[${i}]`, `h[${k}]`], omega: [1.0, 1.0], gamma0: 0.1, beta: 0.1, kappa: [0.05, 0.05], alpha: [0.3, 0.3], coupling: 'hamiltonian', measure: 'X' });
  }
  return {
    version: 1,
    name: `lif${n}_bridges${nb}`,
    description: `${n} LIF neurons (Brian2 benchmark parameters) with ${nb} NEST bridges between distant pairs; bench/make_networks.mjs`,
    dt: 0.1,
    duration: 1000,
    bridge_method: method,
    groups: [{ id: 'h', n, tau_m: 20, v_rest: -65, v_reset: -65, v_th: -50, r_m: 10, t_ref: 2, i_ext: { uniform: [1.0, 2.5], seed: 3 } }],
    synapses: [{ pre: 'h', post: 'h', p: 0.02, weight: 0.5, delay: 0, seed: 3 }],
    bridges,
    record: { v: [], spikes: true, bridge_expect: true, every: 10 },
  };
}

const dir = new URL('./networks/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('lif1000_bridges500.json', dir), JSON.stringify(bridgeNetwork(1000, 500, 'split', 1), null, 1) + '\n');
writeFileSync(new URL('lif1000_bridges500_expm.json', dir), JSON.stringify(bridgeNetwork(1000, 500, 'expm', 1), null, 1) + '\n');
console.error('[make_networks] wrote bench/networks/lif1000_bridges500{,_expm}.json');
