// Prints a short table of a nestq result file (times, observables, measures).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/build/summarize.mjs RESULT.json');
  process.exit(2);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const cols = [...Object.keys(r.expect).map((k) => ['expect', k]), ...Object.keys(r.measures).map((k) => ['measures', k])];
const pick = (v) => (Array.isArray(v) ? v[0] : v);
const header = ['t', ...cols.map(([, k]) => k)];
const widths = header.map((h) => Math.max(11, h.length + 2));
console.log(header.map((h, i) => h.padStart(widths[i])).join(''));
const step = Math.max(1, Math.floor(r.times.length / 10));
for (let i = 0; i < r.times.length; i += step) {
  const row = [r.times[i], ...cols.map(([g, k]) => pick(r[g][k][i]))];
  console.log(row.map((x, c) => x.toFixed(6).padStart(widths[c])).join(''));
}
console.log(`method: ${r.stats.method} (${r.stats.method_reason}); ${r.stats.steps} steps; ${r.stats.wall_s.toFixed(4)} s`);
for (const w of r.stats.warnings) console.log(`warning: ${w}`);
console.log(`result written to ${file}`);
