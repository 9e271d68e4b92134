/**
 * Node only: a module resolve hook for the pool threads. wasm-bindgen-rayon's worker script
 * imports its package as a directory (`import('../../..')`), which bundlers resolve but Node's
 * ESM loader refuses; this hook resolves such a directory to its `package.json` entry, or to its
 * single non-`_bg` `.js` file (the wasm-bindgen glue).
 * @module
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, nextResolve: Next): Promise<{ url: string }> {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const e = err as { code?: string; url?: string };
    if (e?.code !== 'ERR_UNSUPPORTED_DIR_IMPORT' || !e.url) throw err;
    const dir = new URL(e.url.endsWith('/') ? e.url : e.url + '/');
    let entry: string | undefined;
    try {
      const pj = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { module?: string; main?: string };
      entry = pj.module ?? pj.main;
    } catch {
      /* no package.json */
    }
    if (!entry) {
      const js = readdirSync(fileURLToPath(dir)).filter((f) => f.endsWith('.js') && !f.endsWith('_bg.js'));
      if (js.length !== 1) throw err;
      entry = js[0];
    }
    return nextResolve(new URL(entry!, dir).href, context);
  }
}
