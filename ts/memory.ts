/**
 * Ownership of wasm-backed objects.
 *
 * Each facade object owns one raw wasm-bindgen object. `free()` releases it at once and is
 * idempotent; `[Symbol.dispose]` does the same for `using` declarations. Objects that are never
 * freed are released by a `FinalizationRegistry` when they are garbage-collected (a fallback:
 * the collector gives no guarantee of when, so free explicitly in loops).
 * @module
 */
import { NestqError } from './errors.js';
import { generation } from './raw.js';

interface Freeable {
  free(): void;
}

const registry = new FinalizationRegistry<{ raw: Freeable; gen: number }>((held) => {
  // An instance that was replaced after a panic has no live objects to free.
  if (held.gen === generation()) {
    try {
      held.raw.free();
    } catch {
      /* already freed */
    }
  }
});

/** Base class of every wasm-backed facade object. */
export abstract class Owned<R extends Freeable> {
  #raw: R | undefined;
  readonly #gen: number;
  readonly #token = {};

  protected constructor(raw: R) {
    this.#raw = raw;
    this.#gen = generation();
    registry.register(this, { raw, gen: this.#gen }, this.#token);
  }

  /** The raw object; throws `freed` after {@link free}, `poisoned` after an instance reset. */
  protected get raw(): R {
    if (this.#raw === undefined) throw new NestqError('freed', `${this.constructor.name} was already freed`);
    if (this.#gen !== generation()) {
      throw new NestqError('poisoned', `${this.constructor.name} belongs to a wasm instance that was reset after a panic`);
    }
    return this.#raw;
  }

  /** Whether {@link free} was called. */
  get freed(): boolean {
    return this.#raw === undefined;
  }

  /** Releases the wasm memory now. Safe to call more than once. */
  free(): void {
    const raw = this.#raw;
    if (raw === undefined) return;
    this.#raw = undefined;
    registry.unregister(this.#token);
    if (this.#gen === generation()) raw.free();
  }

  /** Same as {@link free}, for `using x = ...`. */
  [Symbol.dispose](): void {
    this.free();
  }
}
