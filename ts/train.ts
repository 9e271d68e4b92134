/**
 * Training spiking networks with NEST bridges end to end (`nestq train`, docs/training.md):
 * surrogate gradients for spikes (SuperSpike fast sigmoid), the exact discrete adjoint of the
 * bridges' RK4 substeps, Adam with separate classical/quantum parameter groups, L2, projection of
 * constrained parameters (κ, β ≥ 0, 0 ≤ γ₀ ≤ gamma_max). Units ms, mV, nA, MΩ; ω in rad/ms.
 * @module
 */
import { NestqError } from './errors.js';
import { call } from './raw.js';
import type { Links, TrainingFile } from './generated/spec-types.js';

// The training-config types are generated from schema/training.schema.json
// (ts/generated/spec-types.ts, scripts/build/gen-spec-types.mjs); these are the names this API has always used.
/** Links between distant hidden neurons (docs/training.md, "network.links"). */
export type LinksConfig = Links;
/** The training config, version 1 (every field and default: docs/training.md). */
export type TrainConfig = TrainingFile;

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
