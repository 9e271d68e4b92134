#!/usr/bin/python3
"""Regenerate the QuTiP golden fixtures for nestq.

Usage:  /usr/bin/python3 scripts/reference/gen_fixtures.py [NAME ...]

Reads every model in test/fixtures/models/*.json (or only the NAMEs given), interprets it with
QuTiP (4.7) following docs/model-format.md, integrates it with qutip.mesolve and writes
test/fixtures/qutip/NAME.json in the result-file shape:

  {"model", "qutip_version", "qutip_options", "times", "expect", "measures", "physicality",
   "final_state", "reference_check", ["complex_expect"]}

Conventions (see also docs/model-format.md):
  * site 0 is the leftmost tensor factor; operator expressions are multiplied left to right;
  * every term is turned into a superoperator and summed into one Liouvillian (or a QuTiP 4.7
    list [L0, [L1, f1], ...] with callable coefficients f(t, args) when modulated), so mesolve
    is always called with c_ops=[] and returns states;
  * cross {rate, a, b}:  rate*(A rho B^+ - 1/2 {B^+ A, rho});
  * expectation values are Tr(rho O), computed from the stored states.  They are written as real
    arrays when O is Hermitian, as [re, im] pairs when O is not Hermitian or when the model
    contains a cross entry without its conjugate partner (non-Hermiticity-preserving dynamics;
    the result file then carries "complex_expect": true).
  * measures: see measure() below.  Where QuTiP's own routine is numerically noisy
    (qutip.fidelity on rank-deficient states has ~1e-8 noise from sqrt of ~1e-17 eigenvalues)
    an exact equivalent is recorded and QuTiP's value is only used as a cross-check.

Each fixture also gets "reference_check": the max |rho_mesolve - rho_ref| over all times, with
rho_ref from the exact propagator expm(L t) (time-independent models) or from a second mesolve
with rtol=1e-12, atol=1e-14 (time-dependent models).  Tests should use tolerances well above it.
"""
import glob
import json
import math
import os
import re
import sys
import time

import numpy as np
import qutip
import scipy.linalg

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # repository root
MODEL_DIR = os.path.join(ROOT, "test", "fixtures", "models")
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "qutip")

RTOL, ATOL, NSTEPS = 1e-8, 1e-10, 10**7
BUILTINS = {"I", "X", "Y", "Z", "SP", "SM", "A", "AD", "N", "JX", "JY", "JZ", "JP", "JM"}


# ----------------------------------------------------------------------------- parsing helpers
def cnum(v, path):
    """JSON complex number: a number or [re, im]."""
    if isinstance(v, bool):
        raise ValueError(f"{path}: boolean is not a number")
    if isinstance(v, (int, float)):
        return complex(float(v), 0.0)
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return complex(float(v[0]), float(v[1]))
    raise ValueError(f"{path}: not a complex number: {v!r}")


def cmatrix(m, path):
    return np.array([[cnum(x, f"{path}[{i}][{j}]") for j, x in enumerate(row)]
                     for i, row in enumerate(m)], dtype=complex)


def real_param(v, params, path):
    """A real number or a parameter name."""
    if isinstance(v, str):
        if v not in params:
            raise ValueError(f"{path}: unknown parameter {v!r}")
        return float(params[v])
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{path}: expected a real number or parameter name")
    return float(v)


def coef_value(v, params, path):
    """coef: number, [re, im] or parameter name."""
    if isinstance(v, str):
        return complex(real_param(v, params, path), 0.0)
    return cnum(v, path)


def local_op(name, d, user_ops, path):
    if name in user_ops:
        m = user_ops[name]
        if m.shape != (d, d):
            raise ValueError(f"{path}: operator {name} has shape {m.shape}, site dimension {d}")
        return qutip.Qobj(m)
    if name == "I":
        return qutip.qeye(d)
    if name in ("X", "Y", "Z", "SP", "SM"):
        if d != 2:
            raise ValueError(f"{path}: {name} needs a qubit site, dimension is {d}")
        return {"X": qutip.sigmax, "Y": qutip.sigmay, "Z": qutip.sigmaz,
                "SP": qutip.sigmap, "SM": qutip.sigmam}[name]()
    if name == "A":
        return qutip.destroy(d)
    if name == "AD":
        return qutip.create(d)
    if name == "N":
        return qutip.num(d)
    if name in ("JX", "JY", "JZ", "JP", "JM"):
        return qutip.jmat((d - 1) / 2.0, {"JX": "x", "JY": "y", "JZ": "z", "JP": "+", "JM": "-"}[name])
    raise ValueError(f"{path}: unknown operator {name!r}")


FACTOR = re.compile(r"^([A-Za-z_]+)([0-9]+)$")


def expression(expr, dims, user_ops, path):
    """Operator expression -> full-space Qobj (factors multiplied left to right)."""
    if not isinstance(expr, str):
        raise ValueError(f"{path}: expression must be a string")
    result = qutip.qeye(dims)
    for tok in expr.split():
        m = FACTOR.match(tok)
        if not m:
            raise ValueError(f"{path}: bad factor {tok!r}")
        name, site = m.group(1), int(m.group(2))
        if site >= len(dims):
            raise ValueError(f"{path}: site {site} out of range")
        op = local_op(name, dims[site], user_ops, path)
        full = qutip.tensor([op if k == site else qutip.qeye(d) for k, d in enumerate(dims)])
        result = result * full
    return result


def modulation_fn(mod, params, path, allow_cos=True):
    """Returns f(t) (plain python float function) or None."""
    if mod is None:
        return None
    if not isinstance(mod, dict) or len(mod) != 1:
        raise ValueError(f"{path}: modulation must have exactly one of cos/exp")
    (kind, spec), = mod.items()
    if kind == "cos":
        if not allow_cos:
            raise ValueError(f"{path}: cos modulation is refused on jumps")
        w = real_param(spec["omega"], params, path + ".cos.omega")
        p = real_param(spec.get("phase", 0.0), params, path + ".cos.phase")
        return lambda t, w=w, p=p: math.cos(w * t + p)
    if kind == "exp":
        r = real_param(spec["rate"], params, path + ".exp.rate")
        return lambda t, r=r: math.exp(-r * t)
    raise ValueError(f"{path}: unknown modulation {kind!r}")


def times_of(tm):
    if isinstance(tm, list):
        t = np.array([float(x) for x in tm])
        if np.any(np.diff(t) <= 0):
            raise ValueError("$.times: must be increasing")
        return t
    return np.linspace(float(tm["start"]), float(tm["stop"]), int(tm["count"]))


def initial_state(ini, dims):
    """Returns (rho0 Qobj, pure ket or None)."""
    n = len(dims)
    if "basis" in ini:
        ket = qutip.tensor([qutip.basis(d, int(i)) for d, i in zip(dims, ini["basis"])])
    elif "product" in ini:
        kets = []
        for k, (d, amps) in enumerate(zip(dims, ini["product"])):
            v = np.array([cnum(a, f"$.initial.product[{k}]") for a in amps])
            if len(v) != d or np.linalg.norm(v) == 0:
                raise ValueError(f"$.initial.product[{k}]: bad amplitudes")
            kets.append(qutip.Qobj(v / np.linalg.norm(v)))
        ket = qutip.tensor(kets)
    elif "ket" in ini:
        v = np.array([cnum(a, "$.initial.ket") for a in ini["ket"]])
        if len(v) != int(np.prod(dims)) or np.linalg.norm(v) == 0:
            raise ValueError("$.initial.ket: bad vector")
        ket = qutip.Qobj(v / np.linalg.norm(v), dims=[list(dims), [1] * n])
    elif "dm" in ini:
        m = cmatrix(ini["dm"], "$.initial.dm")
        if not np.allclose(m, m.conj().T, atol=1e-10 * max(1.0, np.abs(m).max())):
            raise ValueError("$.initial.dm: not Hermitian")
        if abs(np.trace(m) - 1) > 1e-10:
            raise ValueError("$.initial.dm: trace != 1")
        if np.linalg.eigvalsh(0.5 * (m + m.conj().T)).min() < -1e-10:
            raise ValueError("$.initial.dm: not positive semidefinite")
        return qutip.Qobj(m, dims=[list(dims), list(dims)]), None
    else:
        raise ValueError("$.initial: unknown kind")
    return qutip.ket2dm(ket), ket


# ----------------------------------------------------------------------------- superoperators
def s_comm(H):
    """rho -> -i[H, rho] (linear in H, valid term by term)."""
    return -1j * (qutip.spre(H) - qutip.spost(H))


def s_cross(A, B):
    """rho -> A rho B^+ - 1/2 {B^+ A, rho}."""
    BdA = B.dag() * A
    return qutip.spre(A) * qutip.spost(B.dag()) - 0.5 * qutip.spre(BdA) - 0.5 * qutip.spost(BdA)


def build(model):
    dims = [int(d) for d in model["dims"]]
    if model.get("version", 1) != 1:
        raise ValueError("$.version: unsupported")
    params = model.get("parameters", {})
    user_ops = {k: cmatrix(v, f"$.operators.{k}") for k, v in model.get("operators", {}).items()}
    for k in user_ops:
        if k in BUILTINS or not re.match(r"^[A-Za-z_]+$", k):
            raise ValueError(f"$.operators.{k}: bad or clashing name")
    ex = lambda e, p: expression(e, dims, user_ops, p)

    const = 0
    td = []  # list of (superop, f(t))

    def add(sop, f):
        nonlocal const
        if f is None:
            const = const + sop
        else:
            td.append((sop, f))

    for k, term in enumerate(model.get("hamiltonian", [])):
        p = f"$.hamiltonian[{k}]"
        c = coef_value(term["coef"], params, p + ".coef")
        add(c * s_comm(ex(term["ops"], p + ".ops")), modulation_fn(term.get("modulation"), params, p + ".modulation"))

    # Kossakowski bookkeeping for cp_completion: operators identified by their matrix.
    kops, gamma = [], {}

    def kindex(op):
        for i, o in enumerate(kops):
            if o.shape == op.shape and np.allclose(o.full(), op.full(), atol=1e-14, rtol=0):
                return i
        kops.append(op)
        return len(kops) - 1

    for k, term in enumerate(model.get("jumps", [])):
        p = f"$.jumps[{k}]"
        r = real_param(term["rate"], params, p + ".rate")
        if r < 0:
            raise ValueError(f"{p}.rate: negative rate {r} (rates must be >= 0)")
        L = ex(term["ops"], p + ".ops")
        f = modulation_fn(term.get("modulation"), params, p + ".modulation", allow_cos=False)
        add(r * s_cross(L, L), f)
        if f is None:
            i = kindex(L)
            gamma[(i, i)] = gamma.get((i, i), 0) + r

    cross = model.get("cross", [])
    hermitian_cross = True
    pairs = {}
    for k, term in enumerate(cross):
        p = f"$.cross[{k}]"
        r = real_param(term["rate"], params, p + ".rate")
        A, B = ex(term["a"], p + ".a"), ex(term["b"], p + ".b")
        f = modulation_fn(term.get("modulation"), params, p + ".modulation")
        add(r * s_cross(A, B), f)
        ia, ib = kindex(A), kindex(B)
        key = (ia, ib, json.dumps(term.get("modulation"), sort_keys=True))
        pairs[key] = pairs.get(key, 0) + r
        if f is None:
            gamma[(ia, ib)] = gamma.get((ia, ib), 0) + r
        elif model.get("cp_completion"):
            raise ValueError(f"{p}: cp_completion with modulated cross entries is not supported here")
    for (ia, ib, m), r in pairs.items():
        if ia != ib and abs(pairs.get((ib, ia, m), 0) - np.conj(r)) > 1e-14:
            hermitian_cross = False

    if model.get("cp_completion"):
        if not hermitian_cross:
            raise ValueError("$.cp_completion: requires a Hermitian Kossakowski matrix")
        for a in range(len(kops)):
            extra = sum(abs(g) for (i, j), g in gamma.items() if i == a and j != a)
            if extra:
                add(extra * s_cross(kops[a], kops[a]), None)

    if isinstance(const, int):  # no constant term at all
        const = 0 * qutip.spre(qutip.qeye(dims))
    rho0, ket0 = initial_state(model["initial"], dims)
    observables = {name: ex(e, f"$.observables.{name}") for name, e in model.get("observables", {}).items()}
    return dict(dims=dims, L0=const, td=td, rho0=rho0, ket0=ket0, tlist=times_of(model["times"]),
                observables=observables, measures=model.get("measures", []),
                hermitian_cross=hermitian_cross)


def liouvillian_arg(b):
    if not b["td"]:
        return b["L0"]
    return [b["L0"]] + [[s, (lambda t, args, f=f: f(t))] for s, f in b["td"]]


def solve(b, rtol=RTOL, atol=ATOL):
    opts = qutip.Options(atol=atol, rtol=rtol, nsteps=NSTEPS, store_states=True,
                         use_openmp=False)  # serial sparse products: bit-for-bit reproducible
    res = qutip.mesolve(liouvillian_arg(b), b["rho0"], b["tlist"], c_ops=[], e_ops=[], options=opts)
    return [s.full() for s in res.states]


def reference_states(b):
    if b["td"]:
        return solve(b, rtol=1e-12, atol=1e-14), "mesolve rtol=1e-12 atol=1e-14"
    L = b["L0"].full()
    v0 = b["rho0"].full().reshape(-1, order="F")  # QuTiP: column stacking
    D = b["rho0"].shape[0]
    t0 = b["tlist"][0]
    out = [scipy.linalg.expm(L * (t - t0)).dot(v0).reshape((D, D), order="F") for t in b["tlist"]]
    return out, "expm(L t) (scipy Pade)"


# ----------------------------------------------------------------------------- measures
def herm(m):
    return 0.5 * (m + m.conj().T)


def entropy_of(m):
    """von Neumann entropy (natural log) of the Hermitian part; eigenvalues <= 0 contribute 0."""
    ev = np.linalg.eigvalsh(herm(m))
    ev = ev[ev > 0]
    return float(-np.sum(ev * np.log(ev)))


def qobj(m, dims):
    return qutip.Qobj(m, dims=[list(dims), list(dims)])


def ptr(rho, sites):
    return rho.ptrace(sites)  # QuTiP keeps the kept sites in sorted order


def check_close(a, b, tol, what):
    if not (abs(a - b) <= tol):
        raise AssertionError(f"cross-check failed for {what}: {a} vs {b}")


def measure(name, rho_m, b):
    dims = b["dims"]
    rho = qobj(rho_m, dims)
    if name == "purity":
        return float(np.real(np.trace(rho_m @ rho_m)))
    if name == "trace":
        return float(np.real(np.trace(rho_m)))
    if name == "entropy":
        s = entropy_of(rho_m)
        return s
    kind, _, arg = name.partition(":")
    sites = [int(x) for x in arg.split(",")] if arg else []
    if kind == "entropy" and len(sites) == 1:
        red = ptr(rho, sites[0])
        s = entropy_of(red.full())
        if np.linalg.eigvalsh(herm(red.full())).min() > 1e-12:
            check_close(s, qutip.entropy_vn(qutip.Qobj(herm(red.full()))), 1e-10, name)
        return s
    if len(sites) != 2 or sites[0] == sites[1]:
        raise ValueError(f"$.measures: bad measure {name!r}")
    i, j = sites
    pair = ptr(rho, sorted([i, j]))
    if kind == "mutual_info":
        return (entropy_of(ptr(rho, i).full()) + entropy_of(ptr(rho, j).full()) - entropy_of(pair.full()))
    if kind == "concurrence":
        if dims[i] != 2 or dims[j] != 2:
            raise ValueError(f"$.measures: {name}: sites must be qubits")
        c = float(qutip.concurrence(pair))
        # own Wootters evaluation as a cross-check
        yy = np.kron(qutip.sigmay().full(), qutip.sigmay().full())
        p = pair.full()
        R = p @ yy @ p.conj() @ yy
        lam = np.sort(np.sqrt(np.abs(np.real(np.linalg.eigvals(R)))))[::-1]
        check_close(c, max(0.0, lam[0] - lam[1] - lam[2] - lam[3]), 1e-7, name)
        return c
    if kind in ("negativity", "log_negativity"):
        pos = 0 if j < i else 1  # position of site j inside the sorted reduced state
        mask = [k == pos for k in range(2)]
        pt = qutip.partial_transpose(pair, mask).full()
        tn = float(np.sum(np.linalg.svd(pt, compute_uv=False)))  # trace norm
        if kind == "negativity":
            neg = (tn - 1) / 2
            tr = float(np.real(np.trace(pair.full())))
            ev = np.linalg.eigvalsh(herm(pt))
            check_close(neg, float(np.sum(np.abs(ev) - ev) / 2) + (tr - 1) / 2, 1e-9, name)
            check_close(neg, qutip.negativity(qutip.Qobj(herm(pair.full()), dims=pair.dims), pos,
                                              method="eigenvalues") + (tr - 1) / 2, 1e-9, name + " (qutip)")
            return neg
        return float(np.log2(tn))
    raise ValueError(f"$.measures: unknown measure {name!r}")


def fidelity(rho_m, b):
    """Squared Uhlmann fidelity (Tr sqrt(sqrt(rho0) rho sqrt(rho0)))^2 with the initial state."""
    dims = b["dims"]
    if b["ket0"] is not None:
        psi = b["ket0"].full().ravel()
        f = float(np.real(psi.conj() @ rho_m @ psi))
        qf = qutip.fidelity(b["ket0"], qobj(herm(rho_m), dims)) ** 2
        if f > 1e-6:
            check_close(f, qf, 1e-6, "fidelity (qutip, pure)")
        return f
    r0 = b["rho0"].full()
    w, V = np.linalg.eigh(herm(r0))
    s = (V * np.sqrt(np.clip(w, 0, None))) @ V.conj().T
    ev = np.linalg.eigvalsh(herm(s @ herm(rho_m) @ s))
    f = float(np.sum(np.sqrt(np.clip(ev, 0, None))) ** 2)
    qf = qutip.fidelity(b["rho0"], qobj(herm(rho_m), dims)) ** 2
    check_close(f, qf, 1e-6, "fidelity (qutip, mixed)")
    return f


# ----------------------------------------------------------------------------- output
def no_negative_zero(x):
    """-0.0 -> 0.0 everywhere (cosmetic; keeps the JSON stable and readable)."""
    if isinstance(x, float):
        return x + 0.0
    if isinstance(x, list):
        return [no_negative_zero(v) for v in x]
    if isinstance(x, dict):
        return {k: no_negative_zero(v) for k, v in x.items()}
    return x


def cpair(z):
    return [float(z.real), float(z.imag)]


def run(path):
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path) as fh:
        model = json.load(fh)
    t0 = time.time()
    b = build(model)
    states = solve(b)
    wall = time.time() - t0
    complex_expect = not b["hermitian_cross"]

    expect = {}
    for oname, O in b["observables"].items():
        Om = O.full()
        vals = [np.trace(Om @ s) for s in states]  # Tr(O rho) = Tr(rho O)
        is_herm = np.allclose(Om, Om.conj().T, atol=0, rtol=0)
        if complex_expect or not is_herm:
            expect[oname] = [cpair(v) for v in vals]
        else:
            im = max(abs(v.imag) for v in vals)
            if im > 1e-8:
                raise AssertionError(f"{name}: Hermitian observable {oname} has imag part {im}")
            expect[oname] = [float(v.real) for v in vals]

    measures = {}
    for m in b["measures"]:
        if m == "fidelity":
            measures[m] = [fidelity(s, b) for s in states]
        else:
            measures[m] = [measure(m, s, b) for s in states]

    phys = {"trace_drift": [], "hermiticity_error": [], "min_eigenvalue": []}
    for s in states:
        phys["trace_drift"].append(float(abs(np.trace(s) - 1)))
        phys["hermiticity_error"].append(float(np.abs(s - s.conj().T).max()))
        phys["min_eigenvalue"].append(float(np.linalg.eigvalsh(herm(s)).min()))

    ref, how = reference_states(b)
    dev = max(float(np.abs(a - r).max()) for a, r in zip(states, ref))

    out = {
        "model": f"test/fixtures/models/{name}.json",
        "qutip_version": qutip.__version__,
        "qutip_options": {"rtol": RTOL, "atol": ATOL, "nsteps": NSTEPS, "method": "adams (zvode)",
                         "use_openmp": False},
        "times": [float(t) for t in b["tlist"]],
        "expect": expect,
        "measures": measures,
        "physicality": phys,
        "final_state": [[cpair(z) for z in row] for row in states[-1]],
        "reference_check": {"method": how, "max_abs_state_deviation": dev},
    }
    if complex_expect:
        out["complex_expect"] = True
    text = json.dumps(no_negative_zero(out), separators=(",", ":"), allow_nan=False)
    with open(os.path.join(OUT_DIR, name + ".json"), "w") as fh:
        fh.write(text + "\n")
    total = time.time() - t0
    print(f"{name:28s} mesolve {wall:7.2f} s   total {total:7.2f} s   "
          f"{len(text) / 1024:6.1f} KiB   ref-dev {dev:.1e}", flush=True)


def main(argv):
    os.makedirs(OUT_DIR, exist_ok=True)
    paths = sorted(glob.glob(os.path.join(MODEL_DIR, "*.json")))
    if argv:
        paths = [p for p in paths if os.path.splitext(os.path.basename(p))[0] in argv]
    for p in paths:
        run(p)


if __name__ == "__main__":
    main(sys.argv[1:])
