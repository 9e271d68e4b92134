"""QuTiP 5 side of the trajectory benchmarks (run with bench/.venv/bin/python, see bench/mcsolve.sh).

  ising N NTRAJ [CPUS]   mcsolve on the dissipative Ising chain of bench/ising_model.py
                         (H = 50 ΣZ + 25 ΣXX, L = σ− at rate 1, |0…0⟩, 100 times on [0, 10])
  kerr NTRAJ [CPUS]      mcsolve on the driven Kerr oscillator of the QuantumToolbox.jl paper
                         (albertomercurio/QuantumToolbox.jl-Paper-Figures, src/benchmarks:
                         N = 50, Δ = 0.1, U = −0.05, F = 2, n_th = 0.2, γ = 1, e_ops = [H])
Options as the paper's script: map "parallel" over CPUS processes (default 2; 1 = serial map),
QuTiP's default tolerances. Prints one JSON object per line: the best of REPEAT runs (env, default
1) after a warm-up, the final expectation and its standard error.
"""
import json
import os
import sys
import time

import numpy as np
import qutip as qt


def local(o, i, n):
    ops = [qt.qeye(2)] * n
    ops[i] = o
    return qt.tensor(ops)


def ising(n):
    h = 50.0 * sum(local(qt.sigmaz(), i, n) for i in range(n)) + 25.0 * sum(local(qt.sigmax(), i, n) * local(qt.sigmax(), i + 1, n) for i in range(n - 1))
    c_ops = [local(qt.sigmam(), i, n) for i in range(n)]
    return h, c_ops, [local(qt.sigmaz(), n - 1, n)], qt.tensor([qt.basis(2, 0)] * n)


def kerr(n=50, delta=0.1, u=-0.05, f=2.0, nth=0.2, gamma=1.0):
    a = qt.destroy(n)
    h = delta * a.dag() * a - u / 2 * a.dag() ** 2 * a**2 + f * (a + a.dag())
    c_ops = [np.sqrt(gamma * (1 + nth)) * a, np.sqrt(gamma * nth) * a.dag()]
    return h, c_ops, [h], qt.fock(n, 0)


def run(case, h, c_ops, e_ops, psi0, ntraj, cpus):
    tl = np.linspace(0, 10, 100)
    opts = {"progress_bar": False, "store_final_state": False}
    if cpus > 1:
        opts.update({"map": "parallel", "num_cpus": cpus})
    qt.mcsolve(h, psi0, tl[:2], c_ops, e_ops=e_ops, ntraj=min(ntraj, 4), options=opts, seeds=1)  # warm-up
    best, r = float("inf"), None
    for rep in range(int(os.environ.get("REPEAT", "1"))):
        t0 = time.perf_counter()
        r = qt.mcsolve(h, psi0, tl, c_ops, e_ops=e_ops, ntraj=ntraj, options=opts, seeds=rep + 1)
        best = min(best, time.perf_counter() - t0)
    return {"bench": f"mcsolve_{case}", "impl": f"qutip-{qt.__version__}", "cpus": cpus, "ntraj": ntraj, "wall_s": best,
            "final": float(np.real(r.expect[0][-1])), "final_se": float(np.real(r.std_expect[0][-1])) / np.sqrt(ntraj) if r.std_expect is not None else None}


if __name__ == "__main__":
    case = sys.argv[1]
    if case == "ising":
        n, ntraj = int(sys.argv[2]), int(sys.argv[3])
        cpus = int(sys.argv[4]) if len(sys.argv) > 4 else 2
        out = run("ising", *ising(n), ntraj, cpus)
        out["n"] = n
    elif case == "kerr":
        ntraj = int(sys.argv[2])
        cpus = int(sys.argv[3]) if len(sys.argv) > 3 else 2
        out = run("kerr", *kerr(), ntraj, cpus)
        out["n"] = 50
    else:
        sys.exit(__doc__)
    print(json.dumps(out), flush=True)
