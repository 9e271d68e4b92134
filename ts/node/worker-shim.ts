/**
 * Node only: a minimal Web `Worker` over `node:worker_threads`, installed as `globalThis.Worker`
 * before the threaded build starts its pool, so that wasm-bindgen-rayon (written for browsers)
 * starts real threads in Node too. Workers are unref'd while nobody listens, so they never keep
 * the process alive. See docs/toolchain.md.
 * @module
 */
import { Worker as NodeWorker } from 'node:worker_threads';

const BOOT = new URL('./worker-boot.js', import.meta.url);

/** The subset of the Web Worker API that wasm-bindgen-rayon uses. */
export class WorkerShim extends EventTarget {
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  readonly #w: NodeWorker;
  #listeners = 0;

  constructor(url: string | URL, options: { name?: string } = {}) {
    super();
    this.#w = new NodeWorker(BOOT, { workerData: { url: String(url) }, name: options.name });
    this.#w.on('message', (data: unknown) => {
      const ev = new MessageEvent('message', { data });
      this.onmessage?.(ev);
      this.dispatchEvent(ev);
    });
    this.#w.on('error', (error: Error) => {
      const ev = Object.assign(new Event('error'), { error, message: String(error?.message ?? error) });
      this.onerror?.(ev);
      this.dispatchEvent(ev);
      if (!this.onerror) console.error('[nestq worker error]', error);
    });
    this.#w.unref();
  }

  override addEventListener(type: string, fn: EventListenerOrEventListenerObject | null, opts?: AddEventListenerOptions | boolean): void {
    if (type === 'message' && this.#listeners++ === 0) this.#w.ref();
    super.addEventListener(type, fn, opts);
  }

  override removeEventListener(type: string, fn: EventListenerOrEventListenerObject | null, opts?: EventListenerOptions | boolean): void {
    super.removeEventListener(type, fn, opts);
    if (type === 'message' && --this.#listeners === 0) this.#w.unref();
  }

  postMessage(data: unknown, transfer?: readonly Transferable[]): void {
    this.#w.postMessage(data, transfer as never);
  }

  terminate(): Promise<number> {
    return this.#w.terminate();
  }
}

const g = globalThis as Record<string, unknown>;
if (typeof g.Worker === 'undefined') g.Worker = WorkerShim;
// wasm-bindgen-rayon's worker script is also imported on the main thread (for startWorkers) and
// registers a `message` listener on `self` at top level: give the main thread an inert one.
if (typeof g.self === 'undefined') {
  const inert = new EventTarget();
  g.self = globalThis;
  g.addEventListener ??= inert.addEventListener.bind(inert);
  g.removeEventListener ??= inert.removeEventListener.bind(inert);
}
