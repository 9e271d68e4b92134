/// <reference lib="webworker" />
/**
 * Start-up and message loop shared by the demo's workers: loads nestq's threaded build (a rayon
 * pool of two more workers; possible inside a Worker of a cross-origin isolated page), announces
 * the result, and serves the page's requests.
 */
import { init, mesolve, type MesolveResult, type ModelSpec } from 'nestq';
import type { InitMessage, ProgressMessage } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

/** Starts the engine; posts `ready` with the start-up time, or the init error. Resolves to whether it started. */
export function startEngine(post: (m: InitMessage) => void): Promise<boolean> {
  const t0 = performance.now();
  return init({ threads: 2 }).then(
    (runtime) => {
      post({ type: 'ready', runtime, initMs: performance.now() - t0 });
      return true;
    },
    (e: unknown) => {
      post({ type: 'error', id: null, message: `init failed: ${String(e instanceof Error ? e.message : e)}` });
      return false;
    },
  );
}

/** `mesolve(spec)` posting its progress as solve `id`; returns the result and its wall time (ms). */
export function solveWithProgress(spec: ModelSpec, id: number, post: (m: ProgressMessage) => void): { r: MesolveResult; solveMs: number } {
  const t = performance.now();
  const r = mesolve(spec, { onProgress: progressReporter(id, post) });
  return { r, solveMs: performance.now() - t };
}

/**
 * An `onProgress` callback for `mesolve` that posts the fraction done of solve `id` at most
 * every `everyMs` milliseconds (the page only shows it; a Worker message per step would flood it).
 */
export function progressReporter(id: number, post: (m: ProgressMessage) => void, everyMs = 50): (fraction: number) => void {
  let last = 0;
  return (fraction) => {
    const now = performance.now();
    if (now - last > everyMs) {
      last = now;
      post({ type: 'progress', id, fraction });
    }
  };
}

/**
 * A worker's message loop: starts the engine ({@link startEngine}), then runs `handle` for every
 * message of kind `type` once the engine is ready, and posts what it throws as
 * `{type: 'error', id, message}`.
 */
export function serve<M extends { type: string; id: number }>(post: (m: InitMessage) => void, type: M['type'], handle: (msg: M) => void | Promise<void>): void {
  const ready = startEngine(post);
  self.onmessage = async (ev: MessageEvent<M>) => {
    const msg = ev.data;
    if (msg.type !== type || !(await ready)) return;
    try {
      await handle(msg);
    } catch (e) {
      post({ type: 'error', id: msg.id, message: String(e instanceof Error ? `${e.name}: ${e.message}` : e) });
    }
  };
}
