"""QuTiP 5 `mcsolve` reference ensembles for nestq's trajectory solver.

Usage (QuTiP 5 from pip, e.g. the venv of bench/mcsolve.sh):
    bench/.venv/bin/python scripts/reference/gen_mc_fixtures.py [NAME ...]

Reads test/fixtures/mc/NAME.json (time-independent models with constant jump rates; operators
interpreted by gen_fixtures.py's conventions: site 0 leftmost, basis 0 = Z = +1, SM lowers it),
runs qutip.mcsolve with the model's `solver.ntraj` trajectories (seeds=1, QuTiP's default
tolerances) and writes test/fixtures/qutip5_mc/NAME.json:
    {"qutip_version", "ntraj", "times", "expect": {name: [...]}, "std_err": {name: [...]}}
with std_err = std_expect / sqrt(ntraj). crates/nestq/tests/mcsolve.rs compares nestq's ensemble
(another seed) with these means within 4 combined standard errors.
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
    m = json.load(open(os.path.join(ROOT, "test/fixtures/mc", name + ".json")))
    dims = m["dims"]
    params = m.get("parameters", {})
    user = {k: np.array(v, dtype=complex) for k, v in m.get("operators", {}).items()}
    h = 0
    for i, t in enumerate(m["hamiltonian"]):
        h = h + coef_value(t["coef"], params, f"$.hamiltonian[{i}].coef") * expression(t["ops"], dims, user, f"$.hamiltonian[{i}].ops")
    c_ops = [np.sqrt(coef_value(j["rate"], params, f"$.jumps[{i}].rate").real) * expression(j["ops"], dims, user, f"$.jumps[{i}].ops")
             for i, j in enumerate(m["jumps"])]
    names = list(m["observables"])
    e_ops = [expression(m["observables"][k], dims, user, f"$.observables.{k}") for k in names]
    _, ket = initial_state(m["initial"], dims)
    times = times_of(m["times"])
    ntraj = m["solver"]["ntraj"]
    r = qutip.mcsolve(h, ket, times, c_ops, e_ops=e_ops, ntraj=ntraj, seeds=1, options={"progress_bar": False})
    out = {"qutip_version": qutip.__version__, "ntraj": ntraj, "times": list(times),
           "expect": {k: [float(np.real(x)) for x in r.expect[i]] for i, k in enumerate(names)},
           "std_err": {k: [float(np.real(x)) / np.sqrt(ntraj) for x in r.std_expect[i]] for i, k in enumerate(names)}}
    with open(os.path.join(ROOT, "test/fixtures/qutip5_mc", name + ".json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(name, "written")


if __name__ == "__main__":
    for n in sys.argv[1:] or ["qubit", "qutrit", "chain3"]:
        run(n)
