#!/usr/bin/env bash
# Install the toolchain for nestq's WebAssembly builds (single-threaded +simd128
# and threaded +atomics,+bulk-memory,+simd128 with wasm-bindgen-rayon) on a
# fresh Debian 12 machine of this workplace. Idempotent: every step checks
# first and skips what is already there. See docs/toolchain.md.
#
# Usage: scripts/build/setup-wasm-toolchain.sh [options] [WASM_BINDGEN_VERSION]
#   --wasm-bindgen-version V  wasm-bindgen-cli version; MUST equal the `wasm-bindgen`
#                             crate version in the project's Cargo.lock
#                             (default: $WASM_BINDGEN_VERSION or 0.2.129)
#   --wasm-pack-version V     (default: $WASM_PACK_VERSION or 0.15.1)
#   --binaryen-version V      npm `binaryen` version for wasm-opt
#                             (default: $BINARYEN_NPM_VERSION or 132.0.0)
#   --no-wasm-pack            skip installing wasm-pack
#   --no-binaryen-npm         skip the npm binaryen (wasm-opt) install
#   --self-test               afterwards, build a scratch crate both ways and run it
#                             in Node (about 10 min on 2 busy cores)
#   -h, --help
# Environment: NESTQ_WASM_TOOLS_DIR (default ~/.local/share/nestq-wasm-tools),
#   CARGO_BUILD_JOBS (default 1), CARGO_HOME / CARGO_INSTALL_ROOT (cargo's own).
set -Eeuo pipefail

WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.129}"
WASM_PACK_VERSION="${WASM_PACK_VERSION:-0.15.1}"
BINARYEN_NPM_VERSION="${BINARYEN_NPM_VERSION:-132.0.0}"
TOOLS_DIR="${NESTQ_WASM_TOOLS_DIR:-$HOME/.local/share/nestq-wasm-tools}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
WITH_WASM_PACK=1
WITH_BINARYEN_NPM=1
SELF_TEST=0

APT_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 binaryen wabt)
DEB_RUSTC=/usr/bin/rustc
DEB_CARGO=/usr/bin/cargo
DEB_RUSTDOC=/usr/bin/rustdoc

STEP="start"
log() { printf '[setup-wasm] %s\n' "$*" >&2; }
die() { printf '[setup-wasm] ERROR: %s\n' "$*" >&2; exit 1; }
run() { log "+ $*"; "$@"; }
trap 'rc=$?; printf "[setup-wasm] ERROR: step \"%s\" failed (exit %s)\n" "$STEP" "$rc" >&2; exit "$rc"' ERR

while [ $# -gt 0 ]; do
  case "$1" in
    --wasm-bindgen-version) WASM_BINDGEN_VERSION="${2:?}"; shift 2 ;;
    --wasm-bindgen-version=*) WASM_BINDGEN_VERSION="${1#*=}"; shift ;;
    --wasm-pack-version) WASM_PACK_VERSION="${2:?}"; shift 2 ;;
    --wasm-pack-version=*) WASM_PACK_VERSION="${1#*=}"; shift ;;
    --binaryen-version) BINARYEN_NPM_VERSION="${2:?}"; shift 2 ;;
    --binaryen-version=*) BINARYEN_NPM_VERSION="${1#*=}"; shift ;;
    --no-wasm-pack) WITH_WASM_PACK=0; shift ;;
    --no-binaryen-npm) WITH_BINARYEN_NPM=0; shift ;;
    --self-test) SELF_TEST=1; shift ;;
    -h|--help) sed -n '2,/^set -Eeuo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) WASM_BINDGEN_VERSION="$1"; shift ;;
  esac
done
[[ "$WASM_BINDGEN_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "bad wasm-bindgen version: $WASM_BINDGEN_VERSION"

CARGO_BIN_DIR="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# Second word of `tool --version` ("wasm-bindgen 0.2.129" -> 0.2.129), or empty.
tool_version() { [ -x "$1" ] && "$1" --version 2>/dev/null | awk 'NR==1{print $2}' || true; }

# ---------------------------------------------------------------- 1. apt
STEP="apt packages"
if [ -r /etc/os-release ]; then
  . /etc/os-release
  [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ] || log "warning: written for Debian 12, this is ${PRETTY_NAME:-unknown}"
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  log "apt: already installed: ${APT_PACKAGES[*]}"
else
  [ -z "$SUDO" ] || command -v sudo >/dev/null || die "not root and no sudo: cannot apt-get install ${missing[*]}"
  log "apt: installing ${missing[*]}"
  run $SUDO apt-get update
  run $SUDO env DEBIAN_FRONTEND=noninteractive nice -n 19 apt-get install -y "${missing[@]}"
fi

STEP="verify apt tools"
for f in "$DEB_RUSTC" "$DEB_CARGO" "$DEB_RUSTDOC"; do [ -x "$f" ] || die "$f missing (rustc-web/cargo-web)"; done
log "Debian rustc: $("$DEB_RUSTC" --version)"
log "Debian cargo: $("$DEB_CARGO" --version)"
SYSROOT="$("$DEB_RUSTC" --print sysroot)"
[ -f "$SYSROOT/lib/rustlib/src/rust/library/std/Cargo.toml" ] \
  || die "std sources not found under $SYSROOT/lib/rustlib/src/rust/library (rust-web-src)"
log "std sources: $(readlink -f "$SYSROOT/lib/rustlib/src/rust")/library"
command -v rust-lld >/dev/null || die "rust-lld not on PATH (lld-22)"
readlink -e "$(command -v rust-lld)" >/dev/null || die "rust-lld is a dangling link: install lld-22"
log "rust-lld: $(rust-lld -flavor wasm --version 2>&1 | head -n1)"
command -v wasm-objdump >/dev/null || die "wasm-objdump missing (wabt)"
log "wasm-objdump (wabt): $(wasm-objdump --version)"
command -v wasm-opt >/dev/null || die "wasm-opt missing (binaryen)"
log "Debian wasm-opt: $(wasm-opt --version)  (NOT usable on wasm-bindgen output, see docs/toolchain.md)"

# ------------------------------------------------ 2. tools dir: Debian rust first
# $TOOLS_DIR/bin holds cargo/rustc/rustdoc -> Debian's 1.96 (rustup's cargo 1.95
# must not drive Debian's rustc) and wasm-opt -> npm binaryen. Builds put it
# first in PATH: `. "$TOOLS_DIR/env.sh"` (needed for wasm-pack, which runs
# `cargo` and `wasm-opt` from PATH).
STEP="tools dir"
mkdir -p "$TOOLS_DIR/bin"
for t in cargo rustc rustdoc; do
  if [ "$(readlink "$TOOLS_DIR/bin/$t" 2>/dev/null)" != "/usr/bin/$t" ]; then
    run ln -sfn "/usr/bin/$t" "$TOOLS_DIR/bin/$t"
  fi
done
cat > "$TOOLS_DIR/env.sh.tmp" <<EOF
# Source before nestq wasm builds: Debian's Rust 1.96 and wasm-opt $BINARYEN_NPM_VERSION first in PATH.
export PATH="$TOOLS_DIR/bin:$CARGO_BIN_DIR:\$PATH"
EOF
mv "$TOOLS_DIR/env.sh.tmp" "$TOOLS_DIR/env.sh"
log "tools dir: $TOOLS_DIR (source $TOOLS_DIR/env.sh)"

# cargo used for `cargo install`: Debian's, with Debian's rustc, so the script
# needs nothing from rustup (rustup's 1.95 would work too: MSRVs are <= 1.86).
deb_cargo_install() {
  run env RUSTC="$DEB_RUSTC" RUSTDOC="$DEB_RUSTDOC" CARGO_BUILD_JOBS="$CARGO_BUILD_JOBS" \
    nice -n 19 "$DEB_CARGO" install --locked --force "$@"
}

# ensure_cargo_tool BIN CRATE VERSION MINUTES FAILURE_HINT: installs CRATE =VERSION unless
# $CARGO_BIN_DIR/BIN already reports VERSION, then checks the installed version.
ensure_cargo_tool() {
  local bin="$1" crate="$2" version="$3" minutes="$4" hint="$5" have
  have="$(tool_version "$CARGO_BIN_DIR/$bin")"
  if [ "$have" = "$version" ]; then
    log "$bin $have already installed in $CARGO_BIN_DIR"
    return
  fi
  log "$bin: installed '${have:-none}', want $version: cargo install ($minutes min with 1 job)"
  deb_cargo_install "$crate" --version "=$version" || die "cargo install $crate =$version --locked failed.$hint"
  have="$(tool_version "$CARGO_BIN_DIR/$bin")"
  [ "$have" = "$version" ] || die "$bin --version says '$have' after install"
}

# ------------------------------------------------------- 3. wasm-bindgen-cli
STEP="wasm-bindgen-cli $WASM_BINDGEN_VERSION"
ensure_cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION" 10-14 " If it says \
'failed to select a version ... (locked to X)', the registry reachable here lacks a crate that \
release's Cargo.lock pins (0.2.130 fails so, on webpki-roots 1.0.11): pick another version and pin \
the same \`wasm-bindgen\` crate version in Cargo.lock."
onpath="$(command -v wasm-bindgen || true)"
[ "$onpath" = "$CARGO_BIN_DIR/wasm-bindgen" ] || log "warning: 'wasm-bindgen' on PATH is '${onpath:-none}', not $CARGO_BIN_DIR/wasm-bindgen (source $TOOLS_DIR/env.sh)"

# ---------------------------------------------------------------- 4. wasm-pack
if [ "$WITH_WASM_PACK" = 1 ]; then
  STEP="wasm-pack $WASM_PACK_VERSION"
  ensure_cargo_tool wasm-pack wasm-pack "$WASM_PACK_VERSION" 15-21 ""
else
  log "wasm-pack: skipped (--no-wasm-pack)"
fi

# -------------------------------------------------- 5. wasm-opt from npm binaryen
if [ "$WITH_BINARYEN_NPM" = 1 ]; then
  STEP="npm binaryen $BINARYEN_NPM_VERSION"
  WASM_OPT_NPM="$TOOLS_DIR/binaryen/node_modules/.bin/wasm-opt"
  want_major="${BINARYEN_NPM_VERSION%%.*}"
  if [ -x "$WASM_OPT_NPM" ] && grep -q "version $want_major\b" <<<"$("$WASM_OPT_NPM" --version 2>/dev/null)"; then
    log "npm binaryen: $("$WASM_OPT_NPM" --version) already in $TOOLS_DIR/binaryen"
  else
    command -v npm >/dev/null || die "npm not found (Node 20 is needed for the npm binaryen package)"
    run mkdir -p "$TOOLS_DIR/binaryen"
    run npm install --prefix "$TOOLS_DIR/binaryen" --no-audit --no-fund "binaryen@$BINARYEN_NPM_VERSION"
    grep -q "version $want_major\b" <<<"$("$WASM_OPT_NPM" --version)" || die "npm binaryen's wasm-opt does not report version $want_major"
  fi
  [ "$(readlink "$TOOLS_DIR/bin/wasm-opt" 2>/dev/null)" = "$WASM_OPT_NPM" ] || run ln -sfn "$WASM_OPT_NPM" "$TOOLS_DIR/bin/wasm-opt"
  log "wasm-opt for builds: $TOOLS_DIR/bin/wasm-opt ($("$TOOLS_DIR/bin/wasm-opt" --version))"
else
  log "npm binaryen: skipped (--no-binaryen-npm)"
fi

log "toolchain ready: Debian rustc $("$DEB_RUSTC" --version | awk '{print $2}'), wasm-bindgen $WASM_BINDGEN_VERSION$([ "$WITH_WASM_PACK" = 1 ] && echo ", wasm-pack $WASM_PACK_VERSION")$([ "$WITH_BINARYEN_NPM" = 1 ] && echo ", wasm-opt $BINARYEN_NPM_VERSION (npm)")"
[ "$SELF_TEST" = 1 ] || exit 0

# =============================================================== self-test
# Scratch crate: wasm-bindgen + rayon + wasm-bindgen-rayon; build single-threaded
# (+simd128, --target nodejs) and threaded (+atomics,+bulk-memory,+simd128,
# --target web), check SIMD opcodes / shared memory, run both in Node.
STEP="self-test setup"
command -v node >/dev/null || die "self-test needs node (20+)"
ST_DIR="$TOOLS_DIR/selftest"
mkdir -p "$ST_DIR/crate/src" "$ST_DIR/node"
# shellcheck disable=SC1091
. "$TOOLS_DIR/env.sh"
cat > "$ST_DIR/crate/Cargo.toml" <<EOF
[package]
name = "nestq-wasm-scratch"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[features]
default = []
threads = ["dep:wasm-bindgen-rayon"]

[dependencies]
wasm-bindgen = "=$WASM_BINDGEN_VERSION"
rayon = "1.10"
wasm-bindgen-rayon = { version = "1.3.0", optional = true }

[profile.release]
opt-level = 3
lto = true
codegen-units = 1
panic = "abort"

EOF
# wasm-pack runs the first wasm-opt on PATH. Debian's 108 breaks wasm-bindgen
# output and binaryen 132 at -O/-Os/-O3 hangs initThreadPool: use -O2 or none.
if [ "$WITH_BINARYEN_NPM" = 1 ]; then
  WASM_PACK_OPT='["-O2", "--enable-simd", "--enable-threads", "--enable-bulk-memory"]'
else
  WASM_PACK_OPT=false
fi
printf '\n[package.metadata.wasm-pack.profile.release]\nwasm-opt = %s\n' "$WASM_PACK_OPT" >> "$ST_DIR/crate/Cargo.toml"
cat > "$ST_DIR/crate/src/lib.rs" <<'EOF'
use rayon::prelude::*;
use wasm_bindgen::prelude::*;

#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

#[wasm_bindgen]
pub fn par_sum(xs: &[f64]) -> f64 {
    xs.par_iter().sum()
}

/// 4 independent lanes so LLVM emits f64x2 SIMD.
#[wasm_bindgen]
pub fn simd_sum(xs: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = xs.chunks_exact(4);
    let rem = chunks.remainder();
    for c in chunks {
        for i in 0..4 {
            acc[i] += c[i];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for x in rem {
        s += x;
    }
    s
}

#[wasm_bindgen]
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}

/// How many distinct rayon worker threads took part in a parallel loop.
#[wasm_bindgen]
pub fn threads_used(n: u32) -> usize {
    use std::sync::atomic::{AtomicU64, Ordering};
    let seen = AtomicU64::new(0);
    (0..n).into_par_iter().for_each(|i| {
        std::hint::black_box((i as f64).sqrt().sin());
        if let Some(t) = rayon::current_thread_index() {
            seen.fetch_or(1 << (t % 64), Ordering::Relaxed);
        }
    });
    seen.load(Ordering::Relaxed).count_ones() as usize
}
EOF
cat > "$ST_DIR/node/run-st.cjs" <<'EOF'
const pkg = require(process.argv[2]);
const n = 1_000_000, xs = new Float64Array(n);
for (let i = 0; i < n; i++) xs[i] = i % 1000;
const want = xs.reduce((a, b) => a + b, 0);
for (const f of ['par_sum', 'simd_sum']) {
  const got = pkg[f](xs);
  console.log(`${f} = ${got} (want ${want})`);
  if (got !== want) process.exit(1);
}
EOF
# Web Worker shim over node:worker_threads (main-thread side) -- see docs/toolchain.md.
cat > "$ST_DIR/node/node-worker-shim.mjs" <<'EOF'
import { Worker as NodeWorker } from 'node:worker_threads';
const BOOT = new URL('./node-worker-boot.mjs', import.meta.url);
class WorkerShim extends EventTarget {
  #w; #listeners = 0;
  constructor(url, options = {}) {
    super();
    this.onmessage = null; this.onerror = null;
    this.#w = new NodeWorker(BOOT, { workerData: { url: String(url) }, name: options.name });
    this.#w.on('message', (data) => {
      const ev = new MessageEvent('message', { data });
      this.onmessage?.(ev); this.dispatchEvent(ev);
    });
    this.#w.on('error', (error) => {
      const ev = new Event('error'); ev.error = error; ev.message = String(error?.message ?? error);
      this.onerror?.(ev); this.dispatchEvent(ev);
      if (!this.onerror) console.error('[worker error]', error);
    });
    this.#w.unref(); // ref'd only while someone listens (see addEventListener)
  }
  addEventListener(type, fn, opts) {
    if (type === 'message' && this.#listeners++ === 0) this.#w.ref();
    super.addEventListener(type, fn, opts);
  }
  removeEventListener(type, fn, opts) {
    super.removeEventListener(type, fn, opts);
    if (type === 'message' && --this.#listeners === 0) this.#w.unref();
  }
  postMessage(data, transfer) { this.#w.postMessage(data, transfer); }
  terminate() { return this.#w.terminate(); }
}
if (typeof globalThis.Worker === 'undefined') globalThis.Worker = WorkerShim;
if (typeof globalThis.self === 'undefined') {
  const inert = new EventTarget();
  globalThis.self = globalThis;
  globalThis.addEventListener ??= inert.addEventListener.bind(inert);
  globalThis.removeEventListener ??= inert.removeEventListener.bind(inert);
}
export { WorkerShim };
EOF
# Worker side: Web worker globals, then the real worker module.
cat > "$ST_DIR/node/node-worker-boot.mjs" <<'EOF'
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'node:module';
register('./node-dir-import-hooks.mjs', import.meta.url);
const target = new EventTarget();
let listening = false;
globalThis.self = globalThis;
globalThis.postMessage = (data, transfer) => parentPort.postMessage(data, transfer);
globalThis.addEventListener = (type, fn, opts) => {
  if (type === 'message' && !listening) {
    listening = true;
    parentPort.on('message', (data) => {
      const ev = new MessageEvent('message', { data });
      globalThis.onmessage?.(ev); target.dispatchEvent(ev);
    });
  }
  target.addEventListener(type, fn, opts);
};
globalThis.removeEventListener = (type, fn, opts) => target.removeEventListener(type, fn, opts);
await import(workerData.url);
EOF
# Resolve hook: wasm-bindgen-rayon's worker does import('../../..') (a directory).
cat > "$ST_DIR/node/node-dir-import-hooks.mjs" <<'EOF'
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_UNSUPPORTED_DIR_IMPORT' || !err.url) throw err;
    const dir = new URL(err.url.endsWith('/') ? err.url : err.url + '/');
    let entry;
    try { const pj = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')); entry = pj.module ?? pj.main; } catch {}
    if (!entry) {
      const js = readdirSync(fileURLToPath(dir)).filter((f) => f.endsWith('.js') && !f.endsWith('_bg.js'));
      if (js.length !== 1) throw err;
      entry = js[0];
    }
    return nextResolve(new URL(entry, dir).href, context);
  }
}
EOF
cat > "$ST_DIR/node/run-mt.mjs" <<'EOF'
import './node-worker-shim.mjs';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const dir = pathToFileURL(process.argv[2] + '/');
const pkg = await import(new URL('nestq_wasm_scratch.js', dir));
await pkg.default({ module_or_path: readFileSync(new URL('nestq_wasm_scratch_bg.wasm', dir)) });
await pkg.initThreadPool(2);
const n = 1_000_000, xs = new Float64Array(n);
for (let i = 0; i < n; i++) xs[i] = i % 1000;
const want = xs.reduce((a, b) => a + b, 0), got = pkg.par_sum(xs);
const used = pkg.threads_used(10_000_000);
console.log(`pool ${pkg.num_threads()} threads; par_sum = ${got} (want ${want}); workers used: ${used}`);
if (got !== want || pkg.num_threads() !== 2 || used < 1) process.exit(1);
EOF

ST_FLAGS="-C target-feature=+simd128"
MT_FLAGS="-C target-feature=+atomics,+bulk-memory,+simd128 -C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
wasm_build() { # $1 = target dir name, $2 = RUSTFLAGS, rest = extra cargo args
  local tdir="$1" flags="$2"; shift 2
  local t0; t0=$(date +%s)
  (cd "$ST_DIR/crate" && run env CARGO_TARGET_DIR="$ST_DIR/$tdir" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" \
     nice -n 19 cargo build --release --lib --target wasm32-unknown-unknown -Z build-std=std,panic_abort "$@")
  log "build $tdir took $(( $(date +%s) - t0 )) s"
}
check_simd() {
  local n; n=$(wasm-objdump -d "$1" | grep -cE '(v128|f64x2)\.' || true)
  log "SIMD instructions (v128.*/f64x2.*) in $(basename "$(dirname "$1")")/$(basename "$1"): $n"
  [ "$n" -gt 0 ] || die "no SIMD opcodes in $1"
}

STEP="self-test: single-threaded build"
[ "$(command -v cargo)" = "$TOOLS_DIR/bin/cargo" ] || die "cargo on PATH is $(command -v cargo), not Debian's via $TOOLS_DIR/bin"
wasm_build target-st "$ST_FLAGS"
run wasm-bindgen --target nodejs --out-dir "$ST_DIR/out/st-node" "$ST_DIR/target-st/wasm32-unknown-unknown/release/nestq_wasm_scratch.wasm"
check_simd "$ST_DIR/out/st-node/nestq_wasm_scratch_bg.wasm"
STEP="self-test: single-threaded run in Node"
run node "$ST_DIR/node/run-st.cjs" "$ST_DIR/out/st-node/nestq_wasm_scratch.js"

STEP="self-test: threaded build"
wasm_build target-mt "$MT_FLAGS" --features threads
run wasm-bindgen --target web --out-dir "$ST_DIR/out/mt-web" "$ST_DIR/target-mt/wasm32-unknown-unknown/release/nestq_wasm_scratch.wasm"
check_simd "$ST_DIR/out/mt-web/nestq_wasm_scratch_bg.wasm"
imports="$(wasm-objdump -x -j Import "$ST_DIR/out/mt-web/nestq_wasm_scratch_bg.wasm")"
grep -q 'memory\[0\].*shared' <<<"$imports" || die "threaded module has no imported shared memory (link args missing?)"
log "threaded module imports a shared memory: ok"
STEP="self-test: threaded run in Node (worker_threads shim)"
run node "$ST_DIR/node/run-mt.mjs" "$ST_DIR/out/mt-web"

if [ "$WITH_BINARYEN_NPM" = 1 ]; then
  STEP="self-test: wasm-opt -O2 on the threaded module"
  rm -rf "$ST_DIR/out/mt-web-opt" && cp -r "$ST_DIR/out/mt-web" "$ST_DIR/out/mt-web-opt"
  run nice -n 19 "$TOOLS_DIR/bin/wasm-opt" -O2 --enable-simd --enable-threads --enable-bulk-memory \
    "$ST_DIR/out/mt-web/nestq_wasm_scratch_bg.wasm" -o "$ST_DIR/out/mt-web-opt/nestq_wasm_scratch_bg.wasm"
  run timeout 120 node "$ST_DIR/node/run-mt.mjs" "$ST_DIR/out/mt-web-opt"
fi

if [ "$WITH_WASM_PACK" = 1 ]; then
  STEP="self-test: wasm-pack build (threaded, --mode force)"
  t0=$(date +%s)
  (cd "$ST_DIR/crate" && run env CARGO_TARGET_DIR="$ST_DIR/target-mt" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$MT_FLAGS" \
     nice -n 19 wasm-pack build --mode force --target web --release --out-dir "$ST_DIR/out/mt-pack" \
     -- --features threads -Z build-std=panic_abort,std)
  log "wasm-pack build took $(( $(date +%s) - t0 )) s"
  run node "$ST_DIR/node/run-mt.mjs" "$ST_DIR/out/mt-pack"
fi
log "self-test passed"
