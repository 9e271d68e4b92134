/// <reference lib="webworker" />
/**
 * The network runner of the demo's MNIST view: a second module Worker (started when the view is
 * first opened) with its own nestq instance (threaded build, `init({threads: 2})`).
 *
 * The engine runs a network file from t = 0 to its end and keeps no resumable state, so "live"
 * progress is made of prefix runs: the same network with duration chunk, 2·chunk, … . The runs are
 * deterministic from the seeds (every random draw is made every step, whatever happens), so a
 * prefix run's spikes are exactly the first spikes of every longer run; the worker posts only the
 * new ones and checks that the earlier ones are unchanged. The last run is the full network file,
 * unchanged, and its result is what the page reports.
 */
import { runNetwork, type NetworkSpec } from 'nestq';
import { serve } from './worker-init';
import type { FromNetworkWorker, ToNetworkWorker } from './protocol';

declare const self: DedicatedWorkerGlobalScope;
const post = (m: FromNetworkWorker) => self.postMessage(m);

let current = 0;

serve<ToNetworkWorker>(post, 'run', async ({ id, spec, chunkMs }) => {
  current = id;
  const steps = Math.round(spec.duration / spec.dt);
  const chunkSteps = Math.max(1, Math.round(chunkMs / spec.dt));
  let sent: { neuron: string; t: number }[] = [];
  let computeMs = 0;
  let chunks = 0;
  let prefixOk = true;
  for (let end = Math.min(chunkSteps, steps); ; end = Math.min(end + chunkSteps, steps)) {
    // Yield between chunks so a newer request (another digit) can cancel this one.
    await new Promise((r) => setTimeout(r, 0));
    if (current !== id) return;
    const last = end === steps;
    const part: NetworkSpec = last ? spec : { ...spec, duration: end * spec.dt, record: { ...spec.record, v: [], bridge_expect: false } };
    const t = performance.now();
    const r = runNetwork(part);
    computeMs += performance.now() - t;
    chunks += 1;
    const spikes = r.spikes;
    for (let i = 0; i < sent.length; i++) {
      if (spikes[i]?.neuron !== sent[i]!.neuron || spikes[i]?.t !== sent[i]!.t) {
        prefixOk = false;
        break;
      }
    }
    post({ type: 'spikes', id, t: end * spec.dt, spikes: spikes.slice(sent.length) });
    sent = spikes;
    if (last) {
      const j = r.toJSON() as { stats: Record<string, unknown>; bridges: { concurrence: number[] }[]; times: number[] };
      post({
        type: 'done',
        id,
        spikes: r.spikes,
        stats: j.stats,
        times: j.times,
        concurrence: j.bridges.map((b) => b.concurrence),
        chunks,
        computeMs,
        fullRunMs: Number(j.stats.wall_s) * 1000,
        prefixOk,
      });
      return;
    }
  }
});
