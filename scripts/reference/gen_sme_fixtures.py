"""QuTiP 5 `smesolve`/`ssesolve` reference ensembles for nestq's diffusive trajectories.

Usage (QuTiP 5 from pip, e.g. the venv of bench/mcsolve.sh):
    bench/.venv/bin/python scripts/reference/gen_sme_fixtures.py [NAME ...]

Reads test/fixtures/sme/NAME.json (time-independent models with constant rates; operators as in
gen_fixtures.py: site 0 leftmost, basis 0 = Z = +1, SM lowers it). The monitored jumps follow
nestq's `solver.sc_ops` (default: every jump at efficiency 1): a jump √κ·L monitored at
efficiency η becomes the sc_op √(ηκ)·L and the c_op √((1 − η)κ)·L, as docs/model-format.md
says. Runs qutip.smesolve (or ssesolve) with the model's `ntraj`, `dt` and `heterodyne`, QuTiP's
default scheme ("platen"), seeds=1, and writes test/fixtures/qutip5_sme/NAME.json:
    {"qutip_version", "ntraj", "times", "expect": {name: [...]}, "std_err": {name: [...]}}
with std_err = std_expect / sqrt(ntraj). crates/nestq/tests/stochastic.rs compares nestq's
ensemble (its own seed and scheme) with these means within 4 combined standard errors.
"""
import json
import os
import sys

import numpy as np
import qutip

sys.path.insert(0, os.path.dirname(__file__))
from gen_fixtures import coef_value, expression, initial_state, times_of  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def run(name):
    m = json.load(open(os.path.join(ROOT, "test/fixtures/sme", name + ".json")))
    dims = m["dims"]
    params = m.get("parameters", {})
    user = {k: np.array(v, dtype=complex) for k, v in m.get("operators", {}).items()}
    h = 0
    for i, t in enumerate(m["hamiltonian"]):
        h = h + coef_value(t["coef"], params, f"$.hamiltonian[{i}].coef") * expression(t["ops"], dims, user, f"$.hamiltonian[{i}].ops")
    jumps = [(coef_value(j["rate"], params, f"$.jumps[{i}].rate").real, expression(j["ops"], dims, user, f"$.jumps[{i}].ops"))
             for i, j in enumerate(m["jumps"])]
    s = m["solver"]
    eff = {i: 1.0 for i in range(len(jumps))}
    if "sc_ops" in s:
        eff = {}
        for e in s["sc_ops"]:
            if isinstance(e, int):
                eff[e] = 1.0
            else:
                eff[e["jump"]] = e.get("efficiency", 1.0)
    sc_ops, c_ops = [], []
    for i, (rate, op) in enumerate(jumps):
        eta = eff.get(i, 0.0)
        if eta > 0:
            sc_ops.append(np.sqrt(eta * rate) * op)
        if eta < 1:
            c_ops.append(np.sqrt((1 - eta) * rate) * op)
    names = list(m["observables"])
    e_ops = [expression(m["observables"][k], dims, user, f"$.observables.{k}") for k in names]
    rho0, ket = initial_state(m["initial"], dims)
    times = times_of(m["times"])
    ntraj = s["ntraj"]
    opts = {"progress_bar": False, "dt": s.get("dt", 0.001)}
    het = s.get("heterodyne", False)
    if s["method"] == "ssesolve":
        r = qutip.ssesolve(h, ket, times, sc_ops, heterodyne=het, e_ops=e_ops, ntraj=ntraj, seeds=1, options=opts)
    else:
        r = qutip.smesolve(h, rho0, times, c_ops=c_ops, sc_ops=sc_ops, heterodyne=het, e_ops=e_ops, ntraj=ntraj, seeds=1, options=opts)
    out = {"qutip_version": qutip.__version__, "ntraj": ntraj, "times": list(times),
           "expect": {k: [float(np.real(x)) for x in r.expect[i]] for i, k in enumerate(names)},
           "std_err": {k: [float(np.real(x)) / np.sqrt(ntraj) for x in r.std_expect[i]] for i, k in enumerate(names)}}
    with open(os.path.join(ROOT, "test/fixtures/qutip5_sme", name + ".json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(name, "written")


if __name__ == "__main__":
    for n in sys.argv[1:] or ["qubit_homodyne", "cavity_heterodyne", "pair_sse"]:
        run(n)
