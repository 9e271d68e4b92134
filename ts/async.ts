/**
 * {@link mesolveAsync}: `mesolve` in a dedicated worker thread, so the caller's thread stays
 * responsive, progress arrives as events and an `AbortSignal` stops the solve at once (the
 * worker is terminated). In Node the worker is a `worker_threads` Worker; in a browser a module
 * Web Worker.
 * @module
 */
import { NestqError, type NestqErrorCode } from './errors.js';
import { resultToJSON, type MesolveResult } from './solve.js';
import type { ModelSpec } from './spec.js';

/** @internal message to the worker */
export interface WorkerRequest {
  model: string;
  parameters?: Record<string, number>;
  threads: 'auto' | number | false;
  progressIntervalMs: number;
}
/** @internal message from the worker */
export type WorkerReply =
  | { type: 'progress'; fraction: number }
  | { type: 'result'; result: Omit<MesolveResult, 'toJSON'> }
  | { type: 'error'; code: NestqErrorCode; message: string; path?: string };

/** Options of {@link mesolveAsync}. */
export interface MesolveAsyncOptions {
  /** Progress (0…1), at most every `progressIntervalMs` (default 100 ms) and at the end. */
  onProgress?: (fraction: number) => void;
  /** Aborting terminates the worker; the promise rejects with `NestqError{code: "aborted"}`. */
  signal?: AbortSignal;
  /** Values overriding some of the model's `parameters`. */
  parameters?: Record<string, number>;
  /**
   * Threads of the worker's own nestq instance (default `false`: single-threaded; in a browser
   * the threaded build needs cross-origin isolation).
   */
  threads?: 'auto' | number | false;
  /** Minimum interval between progress events, ms (default 100). */
  progressIntervalMs?: number;
}

interface AnyWorker {
  post(m: WorkerRequest): void;
  on(f: (m: WorkerReply) => void, fail: (e: unknown) => void): void;
  terminate(): void;
}

async function spawn(): Promise<AnyWorker> {
  const url = new URL('./solve-worker.js', import.meta.url);
  if (typeof process !== 'undefined' && !!process.versions?.node) {
    const wtName = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
    const w = new Worker(url);
    return {
      post: (m) => w.postMessage(m),
      on: (f, fail) => {
        w.on('message', f);
        w.on('error', fail);
        w.on('exit', (code) => code !== 0 && fail(new NestqError('numerical', `the solver worker exited with code ${code}`)));
      },
      terminate: () => void w.terminate(),
    };
  }
  const w = new Worker(url, { type: 'module' });
  return {
    post: (m) => w.postMessage(m),
    on: (f, fail) => {
      w.onmessage = (e) => f(e.data as WorkerReply);
      w.onerror = (e) => fail(new NestqError('numerical', `the solver worker failed: ${e.message}`));
    },
    terminate: () => w.terminate(),
  };
}

/**
 * Integrates a model like {@link mesolve}, in a worker thread. Needs no prior `init()` in the
 * calling thread. Rejects with a {@link NestqError} (`aborted` when the signal fires).
 */
export async function mesolveAsync(model: ModelSpec | string, options: MesolveAsyncOptions = {}): Promise<MesolveResult> {
  const { signal } = options;
  const aborted = () => new NestqError('aborted', `aborted by the caller: ${String(signal?.reason ?? 'AbortSignal')}`);
  if (signal?.aborted) throw aborted();
  const text = typeof model === 'string' ? model : JSON.stringify(model);
  const w = await spawn();
  return new Promise<MesolveResult>((resolve, reject) => {
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      w.terminate();
      f();
    };
    const onAbort = () => finish(() => reject(aborted()));
    signal?.addEventListener('abort', onAbort, { once: true });
    w.on(
      (m) => {
        if (m.type === 'progress') options.onProgress?.(m.fraction);
        else if (m.type === 'error') finish(() => reject(new NestqError(m.code, m.message, m.path)));
        else {
          const res = { ...m.result } as MesolveResult;
          res.toJSON = () => resultToJSON(res);
          finish(() => resolve(res));
        }
      },
      (e) => finish(() => reject(e)),
    );
    w.post({
      model: text,
      ...(options.parameters ? { parameters: options.parameters } : {}),
      threads: options.threads ?? false,
      progressIntervalMs: options.progressIntervalMs ?? 100,
    });
  });
}
