/**
 * The worker behind {@link mesolveAsync}: loads nestq in its own thread (Node `worker_threads`
 * or a browser module Worker), runs one `mesolve`, posts throttled progress and the result
 * (typed arrays transferred, not copied), then exits.
 * @module
 */
import { NestqError } from './errors.js';
import { init } from './raw.js';
import { mesolve, type MesolveResult } from './solve.js';
import type { WorkerRequest, WorkerReply } from './async.js';

interface Port {
  post(msg: WorkerReply, transfer?: ArrayBuffer[]): void;
  onMessage(f: (msg: WorkerRequest) => void): void;
}

async function port(): Promise<Port> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (isNode) {
    const wtName = 'node:worker_threads';
    const { parentPort } = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
    return {
      post: (m, t) => parentPort!.postMessage(m, t ?? []),
      onMessage: (f) => parentPort!.once('message', f),
    };
  }
  const scope = globalThis as unknown as { postMessage(m: unknown, t?: Transferable[]): void; addEventListener(t: 'message', f: (e: MessageEvent) => void): void };
  return { post: (m, t) => scope.postMessage(m, t ?? []), onMessage: (f) => scope.addEventListener('message', (e) => f(e.data as WorkerRequest)) };
}

function buffers(r: MesolveResult): ArrayBuffer[] {
  const arrays = [r.times, ...Object.values(r.expect), ...Object.values(r.expectImag), ...Object.values(r.measures), r.physicality.traceDrift, r.physicality.hermiticityError, r.physicality.minEigenvalue, r.finalState.data];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

const p = await port();
p.onMessage(async (req) => {
  try {
    await init({ threads: req.threads, quiet: true });
    let last = 0;
    const res = mesolve(req.model, {
      ...(req.parameters ? { parameters: req.parameters } : {}),
      onProgress: (f) => {
        const now = Date.now();
        if (now - last >= req.progressIntervalMs || f === 1) {
          last = now;
          p.post({ type: 'progress', fraction: f });
        }
      },
    });
    const { toJSON: _omit, ...plain } = res;
    p.post({ type: 'result', result: plain }, buffers(res));
  } catch (e) {
    const err = e instanceof NestqError ? e : new NestqError('numerical', String((e as Error)?.message ?? e));
    const message = err.path && err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message;
    p.post({ type: 'error', code: err.code, message, ...(err.path !== undefined ? { path: err.path } : {}) });
  }
});
