/**
 * Node only: the entry of every pool thread started by {@link WorkerShim}. It gives the thread
 * the Web-worker globals wasm-bindgen-rayon's worker script expects (`self`, `postMessage`,
 * `addEventListener('message')`), then imports that script.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'node:module';

register('./dir-import-hooks.js', import.meta.url);
const port = parentPort!;
const target = new EventTarget();
let listening = false;
const g = globalThis as Record<string, unknown>;
g.self = globalThis;
g.postMessage = (data: unknown, transfer?: readonly Transferable[]) => port.postMessage(data, transfer as never);
g.addEventListener = (type: string, fn: EventListenerOrEventListenerObject, opts?: AddEventListenerOptions | boolean) => {
  if (type === 'message' && !listening) {
    listening = true;
    port.on('message', (data: unknown) => {
      const ev = new MessageEvent('message', { data });
      (g.onmessage as ((e: MessageEvent) => void) | undefined)?.(ev);
      target.dispatchEvent(ev);
    });
  }
  target.addEventListener(type, fn, opts);
};
g.removeEventListener = (type: string, fn: EventListenerOrEventListenerObject, opts?: EventListenerOptions | boolean) =>
  target.removeEventListener(type, fn, opts);
await import((workerData as { url: string }).url);
