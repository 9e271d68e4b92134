#!/usr/bin/env bash
# Build the nestq WebAssembly modules into pkg/wasm/{st,mt} with wasm-pack + wasm-bindgen:
#   st: single-threaded, +simd128                         (wasm-bindgen --target web)
#   mt: threaded, +atomics,+bulk-memory,+simd128, rebuilt std, wasm-bindgen-rayon (--target web)
# then wasm-opt -O2 (npm binaryen 132; see docs/toolchain.md for why not Debian's or -O3), checks
# that both contain SIMD opcodes and that mt imports a shared memory, and records sizes (raw and
# gzipped) in pkg/wasm/sizes.json.
#
# Usage: scripts/build/build-wasm.sh [st|mt|all]   (default all). Installs the toolchain if missing.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."   # the repository root
ROOT="$PWD"
WHICH="${1:-all}"
log() { printf '[build-wasm] %s\n' "$*" >&2; }
die() { printf '[build-wasm] ERROR: %s\n' "$*" >&2; exit 1; }

TOOLS_DIR="${NESTQ_WASM_TOOLS_DIR:-$HOME/.local/share/nestq-wasm-tools}"
WB_VERSION="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)"
[ -n "$WB_VERSION" ] || die "cannot read the wasm-bindgen version from Cargo.lock"
bash scripts/build/setup-wasm-toolchain.sh --wasm-bindgen-version "$WB_VERSION"
# shellcheck disable=SC1091
. "$TOOLS_DIR/env.sh"
[ "$(command -v cargo)" = "$TOOLS_DIR/bin/cargo" ] || die "cargo on PATH is $(command -v cargo), not Debian's via $TOOLS_DIR/bin"

ST_FLAGS="-C target-feature=+simd128"
MT_FLAGS="-C target-feature=+atomics,+bulk-memory,+simd128 -C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
export RUSTC_BOOTSTRAP=1 CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

build() { # variant flags [cargo args...]
  local v="$1" flags="$2"; shift 2
  local out="$ROOT/pkg/wasm/$v" t0; t0=$(date +%s)
  log "building $v ($flags)"
  rm -rf "$out"
  env CARGO_TARGET_DIR="$ROOT/target/wasm-$v" RUSTFLAGS="$flags" \
    wasm-pack --log-level warn build crates/nestq-wasm --mode force --target web --profile wasm --no-pack --no-opt \
      --out-dir "$out" --out-name nestq_wasm -- -Z build-std=std,panic_abort "$@"
  rm -f "$out/.gitignore"
  # wasm-bindgen-rayon's worker imports its package as a directory (`import('../../..')`):
  # a package.json lets bundlers and Node's resolver find the glue module.
  printf '{"name": "nestq-wasm-%s", "private": true, "type": "module", "main": "nestq_wasm.js", "module": "nestq_wasm.js"}\n' "$v" > "$out/package.json"
  # -O2 on the threaded module hangs initThreadPool (measured on this module with binaryen 132;
  # -O1 is safe and takes most of the size gain), so mt gets -O1.
  local level=-O2
  [ "$v" = mt ] && level=-O1
  local opt_flags=("$level" --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals)
  [ "$v" = mt ] && opt_flags+=(--enable-threads)
  wasm-opt "${opt_flags[@]}" "$out/nestq_wasm_bg.wasm" -o "$out/nestq_wasm_bg.opt.wasm"
  mv "$out/nestq_wasm_bg.opt.wasm" "$out/nestq_wasm_bg.wasm"
  local n; n=$(wasm-objdump -d "$out/nestq_wasm_bg.wasm" | grep -cE '\b(v128|f64x2|i64x2|f32x4|i32x4|i16x8|i8x16)\.' || true)
  [ "$n" -gt 0 ] || die "$v: no SIMD opcodes in $out/nestq_wasm_bg.wasm"
  log "$v: $n SIMD instructions"
  if [ "$v" = mt ]; then
    wasm-objdump -x -j Import "$out/nestq_wasm_bg.wasm" | grep -q 'memory\[0\].*shared' || die "mt: no imported shared memory"
  fi
  printf '%s\n' "$n" > "$out/simd-count"
  log "$v built in $(( $(date +%s) - t0 )) s"
}

case "$WHICH" in
  st) build st "$ST_FLAGS" ;;
  mt) build mt "$MT_FLAGS" --features threads ;;
  all) build st "$ST_FLAGS"; build mt "$MT_FLAGS" --features threads ;;
  *) die "unknown variant '$WHICH' (st, mt, all)" ;;
esac

node -e '
const fs = require("fs"), zlib = require("zlib");
const out = {};
for (const v of ["st", "mt"]) {
  const f = `pkg/wasm/${v}/nestq_wasm_bg.wasm`;
  if (!fs.existsSync(f)) continue;
  const b = fs.readFileSync(f);
  out[v] = { bytes: b.length, gzip_bytes: zlib.gzipSync(b, { level: 9 }).length, simd_instructions: Number(fs.readFileSync(`pkg/wasm/${v}/simd-count`, "utf8")) };
}
fs.writeFileSync("pkg/wasm/sizes.json", JSON.stringify(out, null, 1) + "\n");
console.error("[build-wasm] sizes:", JSON.stringify(out));
'
