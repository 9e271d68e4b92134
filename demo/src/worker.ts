/// <reference lib="webworker" />
/**
 * The solver: a dedicated module Worker. Inside a Worker of a cross-origin isolated page nestq
 * may load its threaded build (the pool threads block on Atomics.wait, which the main thread may
 * not), so `init({threads: 2})` starts a rayon pool of two more workers here.
 */
import { serve, solveWithProgress } from './worker-init';
import { demoModel } from './model';
import type { FromWorker, ToWorker } from './protocol';

declare const self: DedicatedWorkerGlobalScope;
const post = (m: FromWorker) => self.postMessage(m);

serve<ToWorker>(post, 'solve', ({ id, params }) => {
  const { r, solveMs } = solveWithProgress(demoModel(params), id, post);
  const plain = (o: Record<string, Float64Array>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.from(v)]));
  post({
    type: 'result',
    result: {
      id,
      params,
      times: Array.from(r.times),
      expect: plain(r.expect),
      measures: plain(r.measures),
      minEigenvalue: Array.from(r.physicality.minEigenvalue),
      finalState: { dims: r.finalState.dims, data: Array.from(r.finalState.data) },
      stats: r.stats,
      solveMs,
    },
  });
});
