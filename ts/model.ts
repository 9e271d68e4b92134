/**
 * A parsed, validated model file (docs/model-format.md) held in wasm memory.
 * @module
 */
import { Owned } from './memory.js';
import { call, type RawModule } from './raw.js';
import type { CheckReport, ModelSpec } from './spec.js';
import { DensityMatrix } from './state.js';

type RawModel = RawModule['RawModel']['prototype'];

/** A model file parsed by the engine. Errors name the JSON path (`$.jumps[0].rate`). */
export class Model extends Owned<RawModel> {
  /** Parses a model given as an object ({@link ModelSpec}) or JSON text. */
  constructor(spec: ModelSpec | string) {
    const text = typeof spec === 'string' ? spec : JSON.stringify(spec);
    super(call((m) => new m.RawModel(text)));
  }

  /** @internal */
  static rawOf(model: Model): RawModel {
    return model.raw;
  }

  /** Site dimensions. */
  get dims(): number[] {
    return Array.from(call(() => this.raw.dims()));
  }

  /** Output times. */
  get times(): Float64Array {
    return call(() => this.raw.times());
  }

  /** Names of the model's `parameters`, sorted. */
  get parameterNames(): string[] {
    return call(() => this.raw.parameterNames());
  }

  /** Value of a named parameter. */
  parameter(name: string): number {
    return call(() => this.raw.parameter(name));
  }

  /** The initial state (a new object to free). */
  initial(): DensityMatrix {
    return new DensityMatrix(call(() => this.raw.initial()));
  }

  /** Static analysis: complete positivity, Hermiticity preservation, the method `auto` picks. */
  check(): CheckReport {
    return JSON.parse(call(() => this.raw.check())) as CheckReport;
  }
}

/** Runs `f` with a {@link Model} for `model`, freeing it afterwards if it was created here. */
export function withModel<T>(model: Model | ModelSpec | string, f: (m: Model) => T): T {
  if (model instanceof Model) return f(model);
  const m = new Model(model);
  let ok = false;
  try {
    const r = f(m);
    ok = true;
    return r;
  } finally {
    if (ok) m.free();
    else {
      // after a failed call (possibly a trap that left the object borrowed, or a re-initialised
      // module) freeing may throw: the original error is the one to report
      try {
        m.free();
      } catch {
        /* ignored: see above */
      }
    }
  }
}
