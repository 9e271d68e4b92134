/**
 * Adjoint gradients of master-equation objectives (`nestq grad`, docs/gradients.md): the exact
 * discrete adjoint of fixed-step RK4 (Sandu 2006), with checkpointing, with respect to every
 * named parameter of a model file.
 * @module
 */
import { Model, withModel } from './model.js';
import { call } from './raw.js';
import type { ModelSpec } from './spec.js';

/** One objective term: weight·⟨observable⟩ at `time` (an output time of the model, or `"final"`). */
export interface ObjectiveTerm {
  observable: string;
  time?: number | 'final';
  weight?: number;
}
/**
 * Objective J = Σ weight·Re⟨O⟩(t). A bare observable name means that observable at the final
 * time; `parameters` limits the gradient to some of the model's parameters (default: all).
 */
export type Objective = string | { terms: (ObjectiveTerm | string)[]; parameters?: string[] };

/** Options of {@link grad}. */
export interface GradOptions {
  /** RK4 step (default: the model's `solver.dt`, else 0.02 / the generator's rate scale). */
  dt?: number;
  /** Stored checkpoints K (default 1 — all RK4 stages kept, nothing recomputed — when those fit in 256 MiB, else ⌈√steps⌉); memory grows with K, not with the step count. */
  checkpoints?: number;
  /** Values overriding some of the model's `parameters`. */
  parameters?: Record<string, number>;
}

/** Result of {@link grad}; the native `nestq grad` result file. */
export interface GradResult {
  /** J. */
  value: number;
  /** Each term's weighted value. */
  terms: number[];
  /** dJ/dθ per parameter name. */
  gradient: Record<string, number>;
  /** Steps, dt, checkpoints, evaluation counts, timings. */
  stats: Record<string, unknown>;
}

/**
 * Value and gradient of `objective` with respect to the model's named parameters.
 * @throws NestqError `invalid_model` naming the field (`$.terms[0].observable`,
 *   `parameters.<name>`, …), `numerical`.
 */
export function grad(model: Model | ModelSpec | string, objective: Objective, options: GradOptions = {}): GradResult {
  const names = Object.keys(options.parameters ?? {});
  const values = Float64Array.from(names.map((n) => options.parameters![n]!));
  return withModel(model, (m) =>
    JSON.parse(call(() => Model.rawOf(m).grad(JSON.stringify(objective), options.dt ?? Number.NaN, options.checkpoints ?? 0, names, values))) as GradResult,
  );
}
