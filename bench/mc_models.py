"""Model files of the trajectory benchmarks (bench/mcsolve.sh), the same systems as
bench/qutip5_mcsolve.py.

  python3 bench/mc_models.py ising N NTRAJ SEED > model.json
  python3 bench/mc_models.py kerr NTRAJ SEED > model.json

ising: bench/ising_model.py's dissipative chain (H = 50 ΣZ + 25 ΣXX, σ− at rate 1, |0…0⟩, 100
times on [0, 10], observable Z_{N−1}). kerr: the QuantumToolbox.jl paper's driven Kerr
oscillator (N = 50, H = Δa†a − U/2 a†²a² + F(a + a†), C = √(γ(1+n_th)) a, √(γ n_th) a†, |0⟩,
100 times on [0, 10], observable H as a user operator, as the paper's e_ops = [H]).
Both with QuTiP's default tolerances (rtol 1e-6, atol 1e-8).
"""
import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ising_model import ising  # noqa: E402


def mc_solver(ntraj, seed):
    return {"method": "mcsolve", "ntraj": ntraj, "seed": seed, "rtol": 1e-6, "atol": 1e-8}


def ising_mc(n, ntraj, seed):
    m = ising(n)
    m["solver"] = mc_solver(ntraj, seed)
    return m


def kerr_mc(ntraj, seed, n=50, delta=0.1, u=-0.05, f=2.0, nth=0.2, gamma=1.0):
    # H in the Fock basis: Δ k − U/2 k(k−1) on the diagonal, F√k off it
    h = [[0.0] * n for _ in range(n)]
    for k in range(n):
        h[k][k] = delta * k - u / 2 * k * (k - 1)
        if k + 1 < n:
            h[k][k + 1] = f * (k + 1) ** 0.5
            h[k + 1][k] = f * (k + 1) ** 0.5
    return {
        "name": "driven Kerr oscillator (QuantumToolbox.jl paper benchmark)",
        "dims": [n],
        "operators": {"HK": h},
        "hamiltonian": [{"coef": 1.0, "ops": "HK0"}],
        "jumps": [{"rate": gamma * (1 + nth), "ops": "A0"}, {"rate": gamma * nth, "ops": "AD0"}],
        "initial": {"basis": [0]},
        "times": {"start": 0.0, "stop": 10.0, "count": 100},
        "observables": {"H": "HK0"},
        "solver": mc_solver(ntraj, seed),
    }


if __name__ == "__main__":
    if sys.argv[1] == "ising":
        json.dump(ising_mc(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])), sys.stdout)
    elif sys.argv[1] == "kerr":
        json.dump(kerr_mc(int(sys.argv[2]), int(sys.argv[3])), sys.stdout)
    else:
        sys.exit(__doc__)
