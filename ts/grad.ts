/**
 * Adjoint gradients of master-equation objectives (`nestq grad`, docs/gradients.md): the exact
 * discrete adjoint of fixed-step RK4 (Sandu 2006), with checkpointing, with respect to every
 * named parameter of a model file.
 * @module
 */
import { NestqError } from './errors.js';
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

/** One input of a {@link LossObjective}: an observable of the model at an output time (default: the final time). */
export type LossInput = string | { observable: string; time?: number | 'final' };

/**
 * A loss defined by a callback, L(v₁, …, v_m) with v_k = Re⟨O_k⟩(t_k): any differentiable
 * function of observables at output times (e.g. a squared error against targets).
 */
export interface LossObjective {
  /** The observables (and times) the loss reads, in the order of `loss`'s argument. */
  inputs: LossInput[];
  /** L(values). */
  loss: (values: number[]) => number;
  /**
   * ∂L/∂values. Default: central finite differences of `loss` with step 1e-6·max(1, |v_k|)
   * (2m extra calls of `loss`, which is cheap next to the solve).
   */
  lossGrad?: (values: number[]) => number[];
  /** Limit the gradient to these model parameters (default: all). */
  parameters?: string[];
}

/** Result of {@link gradLoss}. */
export interface LossGradResult {
  /** L(values). */
  value: number;
  /** The inputs v_k on the RK4 grid of the gradient. */
  inputs: number[];
  /** ∂L/∂v_k used in the chain rule. */
  dLdInputs: number[];
  /** dL/dθ per parameter name. */
  gradient: Record<string, number>;
  /** Stats of the adjoint solve. */
  stats: Record<string, unknown>;
}

/**
 * Value and gradient of a callback-defined loss by the chain rule: one forward sweep gives the
 * inputs v_k (`objectiveTerms`, on the same RK4 grid as the adjoint), the callback gives
 * w_k = ∂L/∂v_k, and one adjoint solve of the linear objective Σ w_k ⟨O_k⟩(t_k) gives
 * dL/dθ = Σ w_k dv_k/dθ. Cost: one forward sweep plus one {@link grad}.
 * @throws NestqError `invalid_argument` if the callback returns a non-finite value or gradient
 *   or a gradient of the wrong length (path `loss`/`lossGrad`); the errors of {@link grad}.
 */
export function gradLoss(model: Model | ModelSpec | string, objective: LossObjective, options: GradOptions = {}): LossGradResult {
  const terms = objective.inputs.map((i) => (typeof i === 'string' ? { observable: i, time: 'final' as const } : { observable: i.observable, time: i.time ?? ('final' as const) }));
  const names = Object.keys(options.parameters ?? {});
  const values = Float64Array.from(names.map((n) => options.parameters![n]!));
  const base = { terms: terms.map((t) => ({ ...t, weight: 1 })), ...(objective.parameters ? { parameters: objective.parameters } : {}) };
  return withModel(model, (m) => {
    const raw = Model.rawOf(m);
    const inputs = Array.from(call(() => raw.objectiveTerms(JSON.stringify(base), options.dt ?? Number.NaN, names, values)));
    const value = objective.loss(inputs);
    if (!Number.isFinite(value)) throw new NestqError('invalid_argument', `the loss callback returned ${value}`, 'loss');
    let w: number[];
    if (objective.lossGrad) {
      w = objective.lossGrad(inputs);
      if (!Array.isArray(w) || w.length !== inputs.length) throw new NestqError('invalid_argument', `must return ${inputs.length} numbers (one per input)`, 'lossGrad');
    } else {
      w = inputs.map((v, k) => {
        const h = 1e-6 * Math.max(1, Math.abs(v));
        const at = (x: number) => objective.loss(inputs.map((u, j) => (j === k ? x : u)));
        return (at(v + h) - at(v - h)) / (2 * h);
      });
    }
    const bad = w.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new NestqError('invalid_argument', `∂L/∂input[${bad}] is ${w[bad]}`, objective.lossGrad ? 'lossGrad' : 'loss');
    const weighted = { ...base, terms: terms.map((t, k) => ({ ...t, weight: w[k]! })) };
    const res = JSON.parse(call(() => raw.grad(JSON.stringify(weighted), options.dt ?? Number.NaN, options.checkpoints ?? 0, names, values))) as GradResult;
    return { value, inputs, dLdInputs: w, gradient: res.gradient, stats: res.stats };
  });
}
