/**
 * Typed errors of nestq.
 *
 * Every failure of the engine reaches JavaScript as a {@link NestqError} with a stable `code`
 * and, for model-file and argument errors, the JSON path of the offending field. A Rust panic
 * (a bug in nestq) is reported as `code: "panic"` with the panic message, never as an opaque
 * `RuntimeError: unreachable`.
 * @module
 */

/** Stable error codes (the engine's `ErrorCode::as_str`, plus the facade's own). */
export type NestqErrorCode =
  | 'parse' // the input is not valid JSON
  | 'invalid_model' // a model-file field violates docs/model-format.md (see `path`)
  | 'memory_budget' // a dense object would exceed solver.memory_budget_mb
  | 'numerical' // an integrator failed (step underflow, too many steps, non-finite values)
  | 'aborted' // the caller aborted (AbortSignal, or onProgress returned false)
  | 'timeout' // the solve reached solver.timeout (wall-clock seconds)
  | 'io' // reading or writing a file failed
  | 'invalid_argument' // an API argument is invalid (see `path` for its name)
  | 'not_initialized' // the wasm module was not loaded: `await init()` first
  | 'freed' // the object was already freed
  | 'panic' // a Rust panic (a nestq bug); the instance is reset on the next init()
  | 'poisoned'; // the instance panicked earlier: call `await init()` again

/** An error from nestq: `code` says what kind, `path` names the field, `message` the reason. */
export class NestqError extends Error {
  override name = 'NestqError';
  /** Machine-readable kind of failure. */
  readonly code: NestqErrorCode;
  /** JSON path (`$.jumps[0].rate`) or argument name of the offending input, if any. */
  readonly path: string | undefined;

  constructor(code: NestqErrorCode, message: string, path?: string) {
    super(path ? `${path}: ${message}` : message);
    this.code = code;
    this.path = path;
  }
}
