"""Parameter sweep of two-qubit NEST bridges shared by the nestq and QuTiP benchmarks.

Bridge k: H = w1 Z0 + w2 Z1 + g X0 X1, decay sqrt(kappa) SM on both qubits, rho(0) = |00><00|,
51 output times on [0, 10], default tolerances; observable <Z0> (<X0> vanishes identically by parity symmetry).
"""
import json
import sys


def bridge_params(count):
    out = []
    for k in range(count):
        f = k / max(count - 1, 1)
        out.append({"omega1": 1.0 + 0.5 * f, "omega2": 1.0 - 0.3 * f, "gamma12": 0.05 + 0.2 * f, "kappa": 0.02 + 0.08 * f})
    return out


def bridge_model():
    return {
        "name": "NEST bridge sweep template",
        "dims": [2, 2],
        "parameters": {"omega1": 1.0, "omega2": 1.0, "gamma12": 0.1, "kappa": 0.05},
        "hamiltonian": [{"coef": "omega1", "ops": "Z0"}, {"coef": "omega2", "ops": "Z1"}, {"coef": "gamma12", "ops": "X0 X1"}],
        "jumps": [{"rate": "kappa", "ops": "SM0"}, {"rate": "kappa", "ops": "SM1"}],
        "initial": {"basis": [0, 0]},
        "times": {"start": 0, "stop": 10, "count": 51},
        "observables": {"Z0": "Z0"},
        "solver": {"physicality": False},
    }


if __name__ == "__main__":
    count = int(sys.argv[1])
    json.dump({"model": bridge_model(), "sets": bridge_params(count)}, sys.stdout)
