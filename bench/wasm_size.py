#!/usr/bin/env python3
"""Where the bytes of the WebAssembly module go: code size by crate and by nestq module.

    python3 bench/wasm_size.py [st|mt] [--json] [--top K]

Reads the module that rustc links before wasm-bindgen and wasm-opt run
(target/wasm-<variant>/wasm32-unknown-unknown/wasm/nestq_wasm.wasm, written by
scripts/build/build-wasm.sh), because that one still has its "name" section; the shipped
pkg/wasm/<variant>/nestq_wasm_bg.wasm has none. The shipped module is smaller (wasm-bindgen drops
its `__wbindgen_describe_*` functions and wasm-opt shrinks the rest; the report gives the shipped
code size next to this one), so the shares here are those of the code before those passes; the
totals of pkg/wasm/sizes.json are the shipped ones.

A function is counted under the first crate named in its (v0- or legacy-mangled) symbol: a
generic function of faer instantiated for nestq counts as faer, a closure of nestq passed to
rayon counts as nestq. nestq's own functions are split further by their top-level module.
Parses the binary format itself (WebAssembly core spec §5.5: sections, imports, code, and the
"name" custom section's function-name subsection), so it needs nothing beyond Python 3.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path


def leb(buf, pos):
    """Unsigned LEB128 at `pos`: (value, next position)."""
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def name_at(buf, pos):
    n, pos = leb(buf, pos)
    return buf[pos:pos + n].decode('utf-8', 'replace'), pos + n


def sections(buf):
    if buf[:4] != b'\0asm':
        raise SystemExit('not a WebAssembly module')
    pos = 8
    while pos < len(buf):
        sid = buf[pos]
        size, pos = leb(buf, pos + 1)
        yield sid, buf[pos:pos + size]
        pos += size


def skip_limits(buf, pos):
    """Skips table or memory limits: flags (bit 0: a maximum follows), minimum, [maximum]."""
    flags, pos = leb(buf, pos)
    _, pos = leb(buf, pos)
    if flags & 1:
        _, pos = leb(buf, pos)
    return pos


def imported_functions(sec):
    count, pos = leb(sec, 0)
    funcs = 0
    for _ in range(count):
        _, pos = name_at(sec, pos)  # module
        _, pos = name_at(sec, pos)  # field
        kind = sec[pos]
        pos += 1
        if kind == 0:  # function: type index
            _, pos = leb(sec, pos)
            funcs += 1
        elif kind == 1:  # table: reftype, limits
            pos = skip_limits(sec, pos + 1)
        elif kind == 2:  # memory: limits
            pos = skip_limits(sec, pos)
        elif kind == 3:  # global: valtype, mutability
            pos += 2
        elif kind == 4:  # tag: attribute, type index
            _, pos = leb(sec, pos + 1)
        else:
            raise SystemExit(f'unknown import kind {kind}')
    return funcs


def code_sizes(sec):
    count, pos = leb(sec, 0)
    sizes = []
    for _ in range(count):
        size, pos = leb(sec, pos)
        sizes.append(size)
        pos += size
    return sizes


def function_names(sec):
    name, pos = name_at(sec, 0)
    if name != 'name':
        return None
    names = {}
    while pos < len(sec):
        sub = sec[pos]
        size, pos = leb(sec, pos + 1)
        if sub == 1:
            p = pos
            count, p = leb(sec, p)
            for _ in range(count):
                idx, p = leb(sec, p)
                names[idx], p = name_at(sec, p)
        pos += size
    return names


# v0 mangling: crate roots are `C` + optional disambiguator `s<base62>_` + <len><ident>
V0_CRATE = re.compile(r'C(?:s[0-9A-Za-z]*_)?(\d+)([A-Za-z_][A-Za-z0-9_]*)')
# legacy mangling / demangled paths: `_ZN<len><ident>…` or `crate::…`
LEGACY = re.compile(r'_ZN(\d+)([A-Za-z_][A-Za-z0-9_]*)')


def crate_and_module(sym):
    m = V0_CRATE.search(sym) if sym.startswith('_R') else None
    if m:
        crate = m.group(2)[:int(m.group(1))]
        rest = sym[m.start(2) + int(m.group(1)):]
    else:
        m = LEGACY.match(sym)
        if m:
            crate = m.group(2)[:int(m.group(1))]
            rest = sym[m.start(2) + int(m.group(1)):]
        elif '::' in sym:
            crate, rest = sym.split('::', 1)
            crate = crate.lstrip('<&')
        elif sym.startswith('__wbindgen_describe'):
            return '(wbindgen descriptors)', None
        else:
            return '(other unmangled)', None
    module = None
    if crate == 'nestq':
        # the next path segment of the symbol (`<len><ident>`), skipping namespace tags
        mm = re.match(r'[^0-9]*?(\d+)([A-Za-z_][A-Za-z0-9_]*)', rest)
        if mm:
            module = mm.group(2)[:int(mm.group(1))]
    return crate, module


def main():
    args = sys.argv[1:]
    variant = next((a for a in args if a in ('st', 'mt')), 'st')
    top = int(args[args.index('--top') + 1]) if '--top' in args else 20
    root = Path(__file__).resolve().parent.parent
    path = root / f'target/wasm-{variant}/wasm32-unknown-unknown/wasm/nestq_wasm.wasm'
    if not path.exists():
        raise SystemExit(f'{path} is missing: run `bash scripts/build/build-wasm.sh {variant}` first')
    buf = path.read_bytes()
    n_imported, sizes, names = 0, [], None
    for sid, sec in sections(buf):
        if sid == 2:
            n_imported = imported_functions(sec)
        elif sid == 10:
            sizes = code_sizes(sec)
        elif sid == 0:
            names = function_names(sec) or names
    if names is None:
        raise SystemExit(f'{path} has no "name" section')
    by_crate, by_module = Counter(), Counter()
    for k, size in enumerate(sizes):
        crate, module = crate_and_module(names.get(n_imported + k, f'func{k}'))
        by_crate[crate] += size
        if module:
            by_module[module] += size
    total = sum(sizes)
    shipped = root / f'pkg/wasm/{variant}/nestq_wasm_bg.wasm'
    shipped_code = None
    if shipped.exists():
        shipped_code = next((sum(code_sizes(sec)) for sid, sec in sections(shipped.read_bytes()) if sid == 10), None)
    report = {
        'variant': variant,
        'module': str(path.relative_to(root)),
        'file_bytes': len(buf),
        'code_bytes': total,
        'functions': len(sizes),
        'shipped_code_bytes': shipped_code,
        'by_crate': dict(by_crate.most_common()),
        'by_nestq_module': dict(by_module.most_common()),
    }
    if '--json' in args:
        print(json.dumps(report))
        return
    print(f'{report["module"]}: {len(buf):,} bytes, code {total:,} bytes in {len(sizes):,} functions')
    if shipped_code:
        print(f'shipped {shipped.relative_to(root)}: code {shipped_code:,} bytes ({100 * shipped_code / total:.0f} % of the above)')
    print(f'\n{"crate":<24}{"bytes":>10}{"share":>8}')
    for crate, b in by_crate.most_common(top):
        print(f'{crate:<24}{b:>10,}{100 * b / total:>7.1f}%')
    print(f'\n{"nestq module":<24}{"bytes":>10}{"share":>8}')
    for mod, b in by_module.most_common(top):
        print(f'{mod:<24}{b:>10,}{100 * b / total:>7.1f}%')


if __name__ == '__main__':
    main()
