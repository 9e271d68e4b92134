/**
 * Spiking networks: LIF neurons, delta synapses, inputs and NEST bridges (network file v1,
 * docs/network-format.md; units ms, mV, nA, MΩ, ω in rad/ms, rates in 1/ms). Runs the engine's
 * `nestq::neural` in wasm; the result file is the native `nestq network` one.
 * @module
 */
import { NestqError } from './errors.js';
import { call } from './raw.js';
import type { Distribution as DistributionSchema, Group, NetworkFile, Neuron, PerMember as PerMemberSchema } from './generated/spec-types.js';

// The network-file types are generated from schema/network.schema.json (ts/generated/spec-types.ts,
// scripts/build/gen-spec-types.mjs); these are the names this API has always used.
/** A seeded distribution: member (or synapse) m takes the m-th draw of the stream of `seed`. */
export type Distribution = DistributionSchema;
/** A group field: one number, one number per member, or a seeded distribution. */
export type PerMember = PerMemberSchema;
/** A LIF neuron of the network file (ms, mV, MΩ, nA), without its `id`. */
export type LifSpec = Omit<Neuron, 'id'>;
/** A neuron group: every LIF field may vary per member. */
export type GroupSpec = Group;
/** The network file, version 1 (see docs/network-format.md for every field and default). */
export type NetworkSpec = NetworkFile;

/** One bridge's recorded series. */
export interface BridgeRecord {
  /** The two neuron ids (qubit 0, qubit 1). */
  neurons: [string, string];
  coupling: 'hamiltonian' | 'paper' | 'cp';
  measure: string;
  /** Tr(ρ M⁽ⁱ⁾) per neuron id over the recorded times. */
  expect: Record<string, Float64Array>;
  /** γ(t) = γ₀ e^(−β|V_i − V_k|). */
  gamma: Float64Array;
  /** Concurrence of ρ(t). */
  concurrence: Float64Array;
}

/** Result of {@link runNetwork}. */
export interface NetworkResult {
  /** Recorded times (ms), every `record.every` steps from 0. */
  times: Float64Array;
  /** Membrane potential (mV) of each recorded neuron. */
  v: Record<string, Float64Array>;
  /** Every spike: neuron id and time (ms, the start of the step in which V crossed V_th). */
  spikes: { neuron: string; t: number }[];
  bridges: BridgeRecord[];
  /**
   * With `record.synchrony`: per bridge, the van Rossum distance (τ, ms) and Kistler's
   * coincidence factor (Δ, ms; null if a train is empty) of its two neurons' spike trains.
   */
  synchrony?: { neurons: [string, string]; spikes: [number, number]; van_rossum: number; coincidence: number | null; tau: number; delta: number }[];
  /** CP warnings of `paper` bridges, grid roundings, … */
  warnings: string[];
  stats: Record<string, unknown>;
  /** The result file, identical to the native `nestq network` output. */
  toJSON(): Record<string, unknown>;
}

/** Options of {@link runNetwork}. */
export interface RunNetworkOptions {
  /** Fraction done (0…1); return `false` to abort (`NestqError{code: "aborted"}`). */
  onProgress?: (fraction: number) => boolean | void;
  /** Checked before the run and at every progress report. */
  signal?: AbortSignal;
}

const f64 = (a: unknown): Float64Array => Float64Array.from(a as number[]);

/**
 * Runs a network file (object or JSON text) synchronously. Requires `await init()`.
 * @throws NestqError `invalid_model` with the JSON path of a bad field, `aborted`, `numerical`.
 */
export function runNetwork(spec: NetworkSpec | string, options: RunNetworkOptions = {}): NetworkResult {
  const { onProgress, signal } = options;
  if (signal?.aborted) throw new NestqError('aborted', `aborted by the caller: ${String(signal.reason ?? 'AbortSignal')}`);
  const text = typeof spec === 'string' ? spec : JSON.stringify(spec);
  const progress =
    onProgress || signal
      ? (f: number) => {
          if (signal?.aborted) return false;
          return onProgress?.(f) !== false && !signal?.aborted;
        }
      : undefined;
  const json = JSON.parse(call((m) => m.runNetwork(text, progress))) as {
    times: number[];
    v: Record<string, number[]>;
    spikes: { neuron: string; t: number }[];
    bridges: { neurons: [string, string]; coupling: BridgeRecord['coupling']; measure: string; expect: Record<string, number[]>; gamma: number[]; concurrence: number[] }[];
    synchrony?: NetworkResult['synchrony'];
    warnings: string[];
    stats: Record<string, unknown>;
  };
  const v: Record<string, Float64Array> = {};
  for (const [k, s] of Object.entries(json.v)) v[k] = f64(s);
  return {
    times: f64(json.times),
    v,
    spikes: json.spikes,
    bridges: json.bridges.map((b) => ({
      neurons: b.neurons,
      coupling: b.coupling,
      measure: b.measure,
      expect: Object.fromEntries(Object.entries(b.expect).map(([k, s]) => [k, f64(s)])),
      gamma: f64(b.gamma),
      concurrence: f64(b.concurrence),
    })),
    ...(json.synchrony ? { synchrony: json.synchrony } : {}),
    warnings: json.warnings,
    stats: json.stats,
    toJSON: () => json,
  };
}
