/// <reference lib="webworker" />
/**
 * The solver of the demo's "Long chain (MPO)" view: a module Worker (started when the view is
 * first opened) with its own nestq instance, threaded build (`init({threads: 2})`): the gates
 * of each even/odd TEBD layer act on disjoint bonds and run in parallel on the rayon pool.
 */
import { chainModel } from './chain-model';
import { serve, solveWithProgress } from './worker-init';
import type { FromChainWorker, ToChainWorker } from './protocol';

declare const self: DedicatedWorkerGlobalScope;
const post = (m: FromChainWorker) => self.postMessage(m);

serve<ToChainWorker>(post, 'run', ({ id, params }) => {
  const { r, solveMs } = solveWithProgress(chainModel(params), id, post);
  const mpo = r.stats.mpo;
  if (!mpo) throw new Error(`expected an MPO result, got method ${r.stats.method}`);
  post({
    type: 'chain',
    result: {
      id,
      params,
      times: Array.from(r.times),
      z: Array.from({ length: params.sites }, (_, i) => Array.from(r.expect[`Z${i}`]!)),
      bondDims: mpo.bond_dims,
      cumulativeTruncationError: mpo.cumulative_truncation_error,
      traceDrift: Array.from(r.physicality.traceDrift),
      stats: r.stats,
      solveMs,
    },
  });
});
