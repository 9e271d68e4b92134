/**
 * Training spiking networks with NEST bridges end to end (`nestq train`, docs/training.md):
 * surrogate gradients for spikes (SuperSpike fast sigmoid), the exact discrete adjoint of the
 * bridges' RK4 substeps, Adam with separate classical/quantum parameter groups, L2, projection of
 * constrained parameters (κ, β ≥ 0, 0 ≤ γ₀ ≤ gamma_max). Units ms, mV, nA, MΩ; ω in rad/ms.
 * @module
 */
import { NestqError } from './errors.js';
import { call } from './raw.js';

/** Links between distant hidden neurons (docs/training.md, "network.links"). */
export interface LinksConfig {
  /** `bridge` (NEST bridges), `skip` (classical adaptive spike-trace links, 8 parameters each like a bridge) or `none`. */
  kind?: 'none' | 'bridge' | 'skip';
  /** `"antipodal"` (default: i and i + n_hidden/2 on the ring) or explicit `[i, k]` pairs. */
  pairs?: 'antipodal' | [number, number][];
  /** Number of antipodal pairs. */
  count?: number;
  /** Bridge coupling: `hamiltonian` (default), `paper` (not CP), `cp`. */
  coupling?: 'hamiltonian' | 'paper' | 'cp';
  /** Measurement operator M of the read-out current α Tr(ρ M): `Z` (default) or `X` (vanishes for parity-even states). */
  measure?: 'X' | 'Z';
  /** Initial bridge state: `"00"` (default) or `"bell"` (Φ⁺). */
  initial?: '00' | 'bell';
  /** Minimum RK4 substeps per step (default 2; more when dt·(2|ω_i|+2|ω_k|+4γ+κ_i+κ_k) > 1). */
  substeps?: number;
  /** Upper bound of γ₀ (1/ms, default 1). */
  gamma_max?: number;
  /** Initial link parameters (ω rad/ms, κ 1/ms, γ₀ 1/ms, β 1/mV, α nA). */
  init?: { omega?: number; kappa?: number; gamma0?: number; beta?: number; alpha?: number };
}

/** The training config, version 1 (every field and default: docs/training.md). */
export interface TrainConfig {
  version?: 1;
  /** Seed of the data, initial weights and batch order. */
  seed?: number;
  task:
    | { kind: 'delayed_recall'; symbols?: number; cue_steps?: number; delay_steps?: number; recall_steps?: number; noise?: number; train?: number; test?: number }
    | { kind: 'mnist_rows'; steps_per_row?: number; gain?: number; train?: number; test?: number; data?: string };
  network?: {
    n_hidden?: number;
    dt?: number;
    neuron?: { tau_m?: number; v_rest?: number; v_reset?: number; v_th?: number; r_m?: number; t_ref?: number };
    recurrent?: { radius?: number };
    links?: LinksConfig;
    readout?: { tau?: number; from_step?: number };
    /** SuperSpike fast sigmoid on (V − v_th)/(v_th − v_reset); `slope` dimensionless (default 10). */
    surrogate?: { kind?: 'fast_sigmoid'; slope?: number };
    init?: { w_in?: number; w_rec?: number; w_out?: number; bias?: number };
  };
  /** Adam with classical/quantum groups; `clip_norm`: global gradient-norm clipping (default 1, `false` off). */
  optimizer?: { kind?: 'adam'; lr_classical?: number; lr_quantum?: number; beta1?: number; beta2?: number; eps?: number; weight_decay_classical?: number; weight_decay_quantum?: number; clip_norm?: number | false };
  epochs?: number;
  batch_size?: number;
  early_stopping?: { patience?: number; min_delta?: number } | null;
  /** Steps between the bridge-state samples of the final mutual-information analysis (0: off). */
  mi_every?: number;
}

/** One epoch of the history (epoch 0 = before training). */
export interface EpochRecord {
  epoch: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  /** Mean gradient 2-norm per group over the epoch's mini-batches (before clipping). */
  grad_norm: { classical: number; quantum: number };
  /** Mini-batches whose gradient was clipped. */
  clipped: number;
  /** Parameter entries projected onto their bounds during the epoch. */
  projections: number;
  wall_s: number;
}

/** A checkpoint: the parameters after an epoch. */
export interface Checkpoint {
  epoch: number;
  record: EpochRecord;
  /** Parameter values by segment name (`w_in`, `omega`, `gamma0`, …). */
  params: Record<string, number[]>;
}

/** Result of {@link train}; the native `nestq train` result.json. */
export interface TrainResult {
  param_count: number;
  layout: { name: string; len: number; group: 'classical' | 'quantum' }[];
  history: EpochRecord[];
  best_epoch: number;
  stopped_early: boolean;
  best: EpochRecord;
  /** Measured on the test set with the best parameters (nats). */
  analysis: { pairs: [number, number][]; quantum_mi: number[]; concurrence: number[]; spike_count_mi: number[] };
  /** Best parameters by segment name. */
  params: Record<string, number[]>;
  stats: { wall_s: number };
}

/** MNIST images for `mnist_rows` tasks: `count × 784` bytes (0..255, row-major 28×28), labels 0..9. */
export interface MnistSplits {
  train: { images: Uint8Array; labels: Uint8Array };
  test: { images: Uint8Array; labels: Uint8Array };
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Data of an `mnist_rows` task (see `loadMnist` in `nestq/node`). */
  data?: MnistSplits;
  /** Called after every mini-batch with the fraction done; return `false` to abort. */
  onProgress?: (fraction: number) => boolean | void;
  /** Called after every epoch with its checkpoint; return `false` to stop (aborts with `aborted`). */
  onEpoch?: (checkpoint: Checkpoint) => boolean | void;
  /** Checked at every progress report. */
  signal?: AbortSignal;
}

/**
 * Trains synchronously (in a Worker in browsers). Requires `await init()`. Early stopping is
 * part of the config (`early_stopping: {patience, min_delta}` on the test loss).
 * @throws NestqError `invalid_model` with the JSON path of a bad config field, `invalid_argument`
 *   for bad data, `aborted`, `numerical` (non-finite gradient: lower the learning rates).
 */
export function train(config: TrainConfig | string, options: TrainOptions = {}): TrainResult {
  const { data, onProgress, onEpoch, signal } = options;
  if (signal?.aborted) throw new NestqError('aborted', `aborted by the caller: ${String(signal.reason ?? 'AbortSignal')}`);
  const text = typeof config === 'string' ? config : JSON.stringify(config);
  let images: Uint8Array | undefined;
  let labels: Uint8Array | undefined;
  let trainCount = 0;
  if (data) {
    images = new Uint8Array(data.train.images.length + data.test.images.length);
    images.set(data.train.images, 0);
    images.set(data.test.images, data.train.images.length);
    labels = new Uint8Array(data.train.labels.length + data.test.labels.length);
    labels.set(data.train.labels, 0);
    labels.set(data.test.labels, data.train.labels.length);
    trainCount = data.train.labels.length;
  }
  const progress =
    onProgress || onEpoch || signal
      ? (f: number, epoch?: string) => {
          if (signal?.aborted) return false;
          if (onProgress?.(f) === false) return false;
          if (epoch !== undefined && onEpoch?.(JSON.parse(epoch) as Checkpoint) === false) return false;
          return !signal?.aborted;
        }
      : undefined;
  return JSON.parse(call((m) => m.trainNetwork(text, images, labels, trainCount, progress))) as TrainResult;
}
