"""QuTiP 4.7 side of the nestq benchmarks (run with Debian's /usr/bin/python3).

  ising N [N ...]       dissipative Ising chain (same model as bench/ising_model.py and
                        ../shared/refs/qutip_ising_bench.py): best wall time of mesolve and the
                        final <Z_{N-1}>
  bridges COUNT         COUNT independent two-qubit NEST bridges (bench/bridges_models.py's
                        parameter sweep) solved in a Python loop of mesolve calls
Prints one JSON object per line.
"""
import json
import sys
import time

import numpy as np
import qutip as qt

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bridges_models import bridge_params  # noqa: E402


def ising(n, jx=25.0, hz=50.0, g=1.0):
    eye = qt.qeye(2)

    def op(o, i):
        ops = [eye] * n
        ops[i] = o
        return qt.tensor(ops)

    h = hz * sum(op(qt.sigmaz(), i) for i in range(n)) + jx * sum(op(qt.sigmax(), i) * op(qt.sigmax(), i + 1) for i in range(n - 1))
    c_ops = [np.sqrt(g) * op(qt.sigmam(), i) for i in range(n)]
    return h, c_ops, [op(qt.sigmaz(), n - 1)], qt.tensor([qt.basis(2, 0)] * n)


def bench_ising(n):
    h, c_ops, e_ops, psi0 = ising(n)
    tl = np.linspace(0, 10, 100)
    qt.mesolve(h, psi0, tl[:2], c_ops, e_ops)  # warm-up
    best = float("inf")
    for _ in range(3 if n <= 6 else 1):
        t0 = time.perf_counter()
        r = qt.mesolve(h, psi0, tl, c_ops, e_ops)
        best = min(best, time.perf_counter() - t0)
    return {"bench": "ising", "n": n, "impl": "qutip-4.7", "wall_s": best, "z_last_final": float(r.expect[0][-1])}


def bench_bridges(count):
    sz, sx, sm = qt.sigmaz(), qt.sigmax(), qt.sigmam()
    eye = qt.qeye(2)
    z0, z1 = qt.tensor(sz, eye), qt.tensor(eye, sz)
    xx = qt.tensor(sx, sx)
    m0, m1 = qt.tensor(sm, eye), qt.tensor(eye, sm)
    psi0 = qt.tensor(qt.basis(2, 0), qt.basis(2, 0))
    tl = np.linspace(0, 10, 51)
    out = []
    t0 = time.perf_counter()
    for p in bridge_params(count):
        h = p["omega1"] * z0 + p["omega2"] * z1 + p["gamma12"] * xx
        r = qt.mesolve(h, psi0, tl, [np.sqrt(p["kappa"]) * m0, np.sqrt(p["kappa"]) * m1], [z0])
        out.append(float(r.expect[0][-1]))
    wall = time.perf_counter() - t0
    return {"bench": "bridges", "count": count, "impl": "qutip-4.7", "wall_s": wall, "z0_final_first": out[0], "z0_final_last": out[-1], "z0_final_sum": float(np.sum(out))}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "ising":
        for a in sys.argv[2:]:
            print(json.dumps(bench_ising(int(a))), flush=True)
    elif kind == "bridges":
        print(json.dumps(bench_bridges(int(sys.argv[2]))), flush=True)
    else:
        sys.exit(f"unknown benchmark {kind}")
