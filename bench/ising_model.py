"""Writes the dissipative Ising chain of the QuantumToolbox.jl paper as a nestq model file.

H = 50 Σ Z_i + 25 Σ X_i X_{i+1} (open chain), L = σ− on every site (rate 1), ρ(0) = |0…0⟩,
100 output times on [0, 10], QuTiP's default tolerances (rtol 1e-6, atol 1e-8).
Usage: python3 bench/ising_model.py N [method] > model.json
"""
import json
import sys


def ising(n, method="auto"):
    return {
        "name": f"dissipative Ising chain N={n}",
        "dims": [2] * n,
        "hamiltonian": [{"coef": 50.0, "ops": f"Z{i}"} for i in range(n)]
        + [{"coef": 25.0, "ops": f"X{i} X{i+1}"} for i in range(n - 1)],
        "jumps": [{"rate": 1.0, "ops": f"SM{i}"} for i in range(n)],
        "initial": {"basis": [0] * n},
        "times": {"start": 0.0, "stop": 10.0, "count": 100},
        "observables": {f"Z{n-1}": f"Z{n-1}"},
        "solver": {"method": method, "rtol": 1e-6, "atol": 1e-8, "physicality": False},
    }


if __name__ == "__main__":
    n = int(sys.argv[1])
    method = sys.argv[2] if len(sys.argv) > 2 else "auto"
    json.dump(ising(n, method), sys.stdout)
