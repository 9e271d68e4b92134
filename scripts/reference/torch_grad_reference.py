#!/usr/bin/python3
"""Golden gradients for nestq's adjoint method, by PyTorch autograd through an unrolled RK4.

For every `test/fixtures/grad/<name>.json` model with a `<name>.objective.json` objective this
script rebuilds the model independently of nestq (operators, parameters, modulations, jumps,
Kossakowski cross terms, CP completion), integrates the master equation

    dρ/dt = −i[H(t), ρ] + Σ_k c_k(t) (A_k ρ B_k† − ½{B_k† A_k, ρ})

with classical RK4 on nestq's step grid (each output interval split into steps of dt, the last
shortened to land on the output time — `integrate::rk4`), in complex128, evaluates the
objective J = Σ w_k Re Tr(O_k ρ(t_k)) and differentiates it with `torch.autograd` with respect
to every model parameter. It writes `test/fixtures/grad/<name>.torch.json`:

    {"model": "<name>.json", "objective": {...}, "value": J, "gradient": {param: dJ/dparam},
     "generator": "scripts/reference/torch_grad_reference.py", "torch": "<version>"}

which `crates/nestq/tests/grad.rs` checks nestq against (1e-6 relative).

Usage: /usr/bin/python3 scripts/reference/torch_grad_reference.py   (Debian python3-torch)
"""

import json
import math
import os
import sys

import torch

torch.set_default_dtype(torch.float64)
CD = torch.complex128
HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "test", "fixtures", "grad")


def local_op(name, d):
    m = torch.zeros((d, d), dtype=CD)
    if name == "I":
        return torch.eye(d, dtype=CD)
    if d == 2 and name in ("X", "Y", "Z", "SP", "SM"):
        return {
            "X": torch.tensor([[0, 1], [1, 0]], dtype=CD),
            "Y": torch.tensor([[0, -1j], [1j, 0]], dtype=CD),
            "Z": torch.tensor([[1, 0], [0, -1]], dtype=CD),
            "SP": torch.tensor([[0, 1], [0, 0]], dtype=CD),
            "SM": torch.tensor([[0, 0], [1, 0]], dtype=CD),
        }[name]
    if name in ("A", "AD", "N"):
        for k in range(1, d):
            m[k - 1, k] = math.sqrt(k)
        return {"A": m, "AD": m.conj().T, "N": m.conj().T @ m}[name]
    raise ValueError(f"operator {name} (dim {d}) not supported by this reference script")


def build(expr, dims):
    """Product of the factors of an expression, left to right (nestq's OpContext::build)."""
    n = math.prod(dims)
    out = torch.eye(n, dtype=CD)
    for tok in expr.split():
        i = next(k for k, ch in enumerate(tok) if ch.isdigit())
        name, site = tok[:i], int(tok[i:])
        full = torch.ones((1, 1), dtype=CD)
        for s, d in enumerate(dims):
            full = torch.kron(full, local_op(name, d) if s == site else torch.eye(d, dtype=CD))
        out = out @ full
    return out


def times_of(v):
    if isinstance(v, list):
        return [float(x) for x in v]
    start, stop, count = float(v["start"]), float(v["stop"]), int(v["count"])
    if count == 1:
        return [start]
    return [stop if k == count - 1 else start + (stop - start) * k / (count - 1) for k in range(count)]


def step_grid(times, dt):
    steps, at, t = [], [0], times[0]
    for tout in times[1:]:
        while t < tout:
            h = dt
            if t + h >= tout - 1e-12 * dt:
                h = tout - t
            steps.append((t, h))
            t = tout if h == tout - t else t + h
        at.append(len(steps))
    return steps, at


def initial_state(v, dims):
    (kind, body), = v.items()
    if kind == "basis":
        idx = 0
        for s, i in enumerate(body):
            idx = idx * dims[s] + i
        psi = torch.zeros(math.prod(dims), dtype=CD)
        psi[idx] = 1
    elif kind == "product":
        psi = torch.ones(1, dtype=CD)
        for amps in body:
            a = torch.tensor([complex(*z) if isinstance(z, list) else complex(z) for z in amps], dtype=CD)
            psi = torch.kron(psi, a / torch.linalg.vector_norm(a))
    elif kind == "ket":
        psi = torch.tensor([complex(*z) if isinstance(z, list) else complex(z) for z in body], dtype=CD)
        psi = psi / torch.linalg.vector_norm(psi)
    else:
        raise ValueError(f"initial state {kind} not supported by this reference script")
    return torch.outer(psi, psi.conj())


def reference(name):
    model = json.load(open(os.path.join(FIX, f"{name}.json")))
    obj = json.load(open(os.path.join(FIX, f"{name}.objective.json")))
    dims = model["dims"]
    params = {k: torch.tensor(float(v), requires_grad=True) for k, v in model.get("parameters", {}).items()}

    def scalar(x):
        if isinstance(x, str):
            return params[x].to(CD)
        if isinstance(x, list):
            return torch.tensor(complex(x[0], x[1]), dtype=CD)
        return torch.tensor(complex(x), dtype=CD)

    def profile(entry):
        """f(t) as a function returning a real torch scalar (differentiable in its parameters)."""
        m = entry.get("modulation")
        if m is None:
            return lambda t: torch.tensor(1.0)
        (k, b), = m.items()
        if k == "cos":
            om = scalar(b["omega"]).real
            ph = scalar(b.get("phase", 0)).real
            return lambda t: torch.cos(om * t + ph)
        r = scalar(b["rate"]).real
        return lambda t: torch.exp(-r * t)

    ham = [(scalar(e["coef"]), profile(e), build(e["ops"], dims)) for e in model.get("hamiltonian", [])]
    diss = []  # (amplitude, profile, A, B)
    for e in model.get("jumps", []):
        o = build(e["ops"], dims)
        diss.append((scalar(e["rate"]), profile(e), o, o))
    cross = model.get("cross", [])
    for e in cross:
        diss.append((scalar(e["rate"]), profile(e), build(e["a"], dims), build(e["b"], dims)))
    if model.get("cp_completion", False):
        for e in cross:
            if e["a"] == e["b"]:
                continue
            half = torch.abs(scalar(e["rate"])).to(CD) / 2
            for op in (e["a"], e["b"]):
                o = build(op, dims)
                diss.append((half, profile(e), o, o))
    diss = [(c, f, a, b, b.conj().T @ a) for (c, f, a, b) in diss]

    def rhs(t, rho):
        h = sum(c * f(t) * o for (c, f, o) in ham)
        out = -1j * (h @ rho - rho @ h)
        for (c, f, a, b, bda) in diss:
            out = out + (c * f(t)) * (a @ rho @ b.conj().T - 0.5 * (bda @ rho + rho @ bda))
        return out

    times = times_of(model["times"])
    dt = float(model["solver"]["dt"])
    steps, at = step_grid(times, dt)
    obs = model["observables"]
    terms = []
    for t in obj["terms"]:
        tt = t.get("time", "final")
        k = len(times) - 1 if tt == "final" else next(i for i, x in enumerate(times) if abs(x - tt) <= 1e-9 * max(1.0, abs(tt)))
        terms.append((build(obs[t["observable"]], dims), at[k], float(t.get("weight", 1.0))))

    rho = initial_state(model["initial"], dims)
    value = torch.tensor(0.0)
    for (o, idx, w) in terms:
        if idx == 0:
            value = value + w * torch.trace(o @ rho).real
    for j, (t, h) in enumerate(steps):
        k1 = rhs(t, rho)
        k2 = rhs(t + 0.5 * h, rho + 0.5 * h * k1)
        k3 = rhs(t + 0.5 * h, rho + 0.5 * h * k2)
        k4 = rhs(t + h, rho + h * k3)
        rho = rho + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        for (o, idx, w) in terms:
            if idx == j + 1:
                value = value + w * torch.trace(o @ rho).real
    names = sorted(params)
    grads = torch.autograd.grad(value, [params[p] for p in names], allow_unused=True)
    gradient = {p: (0.0 if g is None else float(g)) for p, g in zip(names, grads)}
    out = {
        "model": f"{name}.json",
        "objective": obj,
        "value": float(value),
        "gradient": gradient,
        "steps": len(steps),
        "generator": "scripts/reference/torch_grad_reference.py (RK4 unrolled in PyTorch complex128, autograd)",
        "torch": torch.__version__,
    }
    with open(os.path.join(FIX, f"{name}.torch.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"{name}: value {out['value']:.12f}, {len(steps)} steps, gradient {gradient}")


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(f[: -len(".objective.json")] for f in os.listdir(FIX) if f.endswith(".objective.json"))
    for n in names:
        reference(n)
