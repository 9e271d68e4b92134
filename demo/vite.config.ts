/**
 * The nestq browser demo: the NEST paper's quantum bridge solved live, in a module Worker, by
 * the threaded SIMD WebAssembly build.
 *
 * Run it (from the repository root, after the package is built: `pkg/dist` and `pkg/wasm/{st,mt}`):
 *
 *     npx vite demo                      # dev server, http://localhost:5173/
 *     npx vite build demo && npx vite preview demo   # production build (out/demo-dist), http://localhost:4173/
 *
 * (`npx vite --config demo/vite.config.ts demo` is the same.) The servers send
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`:
 * without cross-origin isolation there is no SharedArrayBuffer and nestq announces that it fell
 * back to the single-threaded build (shown on the page). The page imports the built facade
 * through the alias `nestq` → `pkg/dist/index.js`. test/browser.test.ts starts this config with
 * Vite's `createServer` and drives the page with headless Chromium.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const demoDir = dirname(fileURLToPath(import.meta.url));
const repoDir = resolve(demoDir, '..');

/** Cross-origin isolation: needed for SharedArrayBuffer, i.e. for the threaded build. */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * wasm-bindgen-rayon's pool worker (`snippets/wasm-bindgen-rayon-<hash>/src/workerHelpers.js`) loads
 * its package with the directory import `import('../../..')`. `pkg/wasm/mt` has no package.json
 * or index.js, so point that import at the generated glue, `pkg/wasm/mt/nestq_wasm.js`.
 */
function rayonDirectoryImport(): Plugin {
  const helper = /[\\/]snippets[\\/]wasm-bindgen-rayon-[^\\/]+[\\/]src[\\/]workerHelpers\.js$/;
  return {
    name: 'nestq-rayon-directory-import',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source !== '../../..' || !importer) return null;
      const file = importer.split('?')[0]!;
      if (!helper.test(file)) return null;
      return resolve(dirname(file), '../../..', 'nestq_wasm.js');
    },
  };
}

/**
 * pkg/dist/raw.js loads its Node-only worker_threads shim with a literal `import('./node/worker-shim.js')`
 * (run only under Node). A production bundle would still pull `node:worker_threads` in and fail,
 * so in the browser that module is empty.
 */
function noNodeWorkerShim(): Plugin {
  const id = '\0nestq-node-worker-shim';
  return {
    name: 'nestq-no-node-worker-shim',
    enforce: 'pre',
    resolveId(source, importer) {
      if (importer && /[\\/]node[\\/]worker-shim\.js$/.test(source) && /[\\/]pkg[\\/]dist[\\/]raw\.js$/.test(importer.split('?')[0]!)) return id;
      return null;
    },
    load(source) {
      return source === id ? 'export {};' : null;
    },
  };
}

export default defineConfig({
  root: demoDir,
  // Keep Vite's dependency cache out of the (shared) node_modules/.vite of other tools.
  cacheDir: resolve(repoDir, 'node_modules/.vite-demo'),
  resolve: {
    alias: { nestq: resolve(repoDir, 'pkg/dist/index.js') },
  },
  plugins: [rayonDirectoryImport(), noNodeWorkerShim()],
  server: {
    headers: isolation,
    // The page imports pkg/ (outside demo/).
    fs: { allow: [repoDir] },
  },
  preview: { headers: isolation },
  worker: { format: 'es', plugins: () => [rayonDirectoryImport(), noNodeWorkerShim()] },
  // Pre-bundle the plotting libraries when the server starts, not on first page load (a late
  // optimisation reloads the page, which a test would see as a flake).
  optimizeDeps: { include: ['vega', 'vega-lite'] },
  build: {
    outDir: resolve(repoDir, 'out/demo-dist'),
    emptyOutDir: true,
    target: 'es2022',
    // vega + vega-lite are ~800 kB minified; one chunk is fine for a demo.
    chunkSizeWarningLimit: 1200,
  },
});
