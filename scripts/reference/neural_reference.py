#!/usr/bin/python3
"""Reference solutions for LIF neurons coupled through one NEST bridge (no spikes).

Usage:  /usr/bin/python3 scripts/reference/neural_reference.py [--out DIR] [--only NAME ...] [--list]

For every case in CASES this script writes

  test/fixtures/neural/coupled_<name>.net.json   network file (JSON, version 1; record.every = 1)
  test/fixtures/neural/coupled_<name>.ref.json
      {"network", "times", "v": {i: [...], k: [...]}, "expect": {i: [...], k: [...]},
       "gamma": [...], "z": {i: [...], k: [...]}, "final_rho": [[[re, im], ...], ...],
       "solver", "checks", "model"}

The joint system for y = (V_i, V_k, rho) is integrated as ONE ODE with scipy's solve_ivp
(DOP853, rtol = atol = 1e-12), all quantities continuous in time (no per-step freezing):

  dV_i/dt = -(V_i - V_rest,i)/tau_i + (R_i/tau_i) (I_ext,i + I_q,i),  I_q,i = alpha_i Tr(rho X0)
  dV_k/dt = -(V_k - V_rest,k)/tau_k + (R_k/tau_k) (I_ext,k + I_q,k),  I_q,k = alpha_k Tr(rho X1)
  gamma(t) = gamma0 exp(-beta |V_i - V_k|)
  H0 = omega_i Z0 + omega_k Z1
  coupling "hamiltonian": drho/dt = -i[H0 + gamma X0 X1, rho] + sum_j kappa_j D[sigma-_j] rho
  coupling "cp":          drho/dt = -i[H0, rho] + gamma D[X0 + X1] rho + sum_j kappa_j D[sigma-_j] rho
  D[A] rho = A rho A^+ - 1/2 {A^+ A, rho}

Conventions (QuTiP's, as in docs/model-format.md): qubit 0 (neuron i) is the leftmost tensor
factor, basis 0 is the Z = +1 state, sigma- = [[0, 0], [1, 0]] (|1><0| in this basis), the
two-qubit basis order is |00>, |01>, |10>, |11>.  I_ext is the neuron's i_ext plus its
"constant" inputs.  Units: ms, mV, nA, MOhm; omega and gamma in rad/ms, kappa in 1/ms.

|V_i - V_k| has a kink where the potentials cross; the integration is restarted at every
crossing (solve_ivp event) so that the high-order method never steps over it.  "checks" records
the largest difference to a second solution with rtol = atol = 1e-10 (the error of the
1e-12 solution is far below it) and to one with rtol = atol = 1e-13 (an estimate of the error
of the stored solution itself), the trace / Hermiticity / positivity drift of rho, and the
largest V reached (must stay below V_th: the case is sub-threshold by construction).

The Rust side integrates with a fixed step dt (inputs and gamma piecewise constant per step)
and should converge to these curves as dt -> 0 (first order in dt for that splitting).
"""
import argparse
import json
import os
import sys

import numpy as np
from scipy.integrate import solve_ivp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # repository root
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "neural")
RTOL = ATOL = 1e-12
CHECK_TOLS = (1e-10, 1e-13)   # error estimates: looser and tighter re-solves

# ----------------------------------------------------------------------------- operators
I2 = np.eye(2, dtype=complex)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
SZ = np.array([[1, 0], [0, -1]], dtype=complex)
SM = np.array([[0, 0], [1, 0]], dtype=complex)   # QuTiP sigmam(): |0> (Z=+1) -> |1> (Z=-1)
X0, X1 = np.kron(SX, I2), np.kron(I2, SX)
Z0, Z1 = np.kron(SZ, I2), np.kron(I2, SZ)
SM0, SM1 = np.kron(SM, I2), np.kron(I2, SM)
XX = X0 @ X1


def neuron(nid, i_ext, v0, tau_m=20.0, v_rest=-65.0, v_th=-50.0, r_m=10.0):
    return {"id": nid, "tau_m": tau_m, "v_rest": v_rest, "v_reset": v_rest, "v_th": v_th,
            "r_m": r_m, "t_ref": 2.0, "i_ext": i_ext, "v0": v0}


def case(ni, nk, bridge, dt=0.1, duration=100.0, note=""):
    return {"version": 1, "dt": dt, "duration": duration, "neurons": [ni, nk],
            "synapses": [], "bridges": [bridge], "inputs": [],
            "record": {"v": [ni["id"], nk["id"]], "spikes": True, "bridge_expect": True,
                       "every": 1},
            "description": note}


PLUS = [0.7071067811865476, 0.7071067811865476]

CASES = {
    "hamiltonian": lambda: case(
        neuron("i", 1.0, -65.0), neuron("k", 0.8, -58.0),
        {"neurons": ["i", "k"], "omega": [0.25, 0.3], "gamma0": 0.4, "beta": 0.1,
         "kappa": [0.05, 0.02], "alpha": [0.3, 0.3], "coupling": "hamiltonian", "measure": "X",
         "initial": {"product": [PLUS, [1, 0]]}, "spike_kick": 0},
        note="Hamiltonian XX coupling, beta = 0.1, initial (|0>+|1>)/sqrt2 (x) |0>: <X0> starts "
             "at 1 and drives neuron i; the XX term transfers coherence to qubit k."),
    "hamiltonian_crossing": lambda: case(
        neuron("i", 0.8, -52.0), neuron("k", 1.2, -64.0),
        {"neurons": ["i", "k"], "omega": [0.2, 0.15], "gamma0": 0.6, "beta": 0.5,
         "kappa": [0.03, 0.04], "alpha": [0.3, -0.4], "coupling": "hamiltonian",
         "measure": "X", "initial": {"product": [[0.6, 0.8], [0.8, 0.6]]}, "spike_kick": 0},
        duration=120.0,
        note="Hamiltonian coupling with strong voltage dependence (beta = 0.5); V_i - V_k "
             "changes sign (kink of |V_i - V_k| in gamma); alpha_k < 0; both qubits start "
             "with <X> = 0.96."),
    "cp": lambda: case(
        neuron("i", 1.1, -60.0), neuron("k", 0.9, -65.0),
        {"neurons": ["i", "k"], "omega": [0.3, 0.2], "gamma0": 0.08, "beta": 0.2,
         "kappa": [0.02, 0.02], "alpha": [0.35, 0.25], "coupling": "cp", "measure": "X",
         "initial": {"product": [PLUS, [0.8, 0.6]]}, "spike_kick": 0},
        note="'cp' coupling: gamma(t) D[X0 + X1] replaces the XX Hamiltonian term. Qubit k "
             "starts in a superposition: D[X0 + X1] commutes with X1, so <X1> only feels gamma "
             "through the dephasing of Y1 (D^+(Y1) = -2 Y1) and would stay 0 from |0>."),
}


# ----------------------------------------------------------------------------- model
def initial_rho(ini):
    if "basis" in ini:
        kets = []
        for b in ini["basis"]:
            v = np.zeros(2, dtype=complex)
            v[int(b)] = 1
            kets.append(v)
    elif "product" in ini:
        kets = []
        for amps in ini["product"]:
            v = np.array([complex(*a) if isinstance(a, list) else complex(a) for a in amps])
            kets.append(v / np.linalg.norm(v))
    else:
        raise ValueError(f"unsupported initial state {ini!r}")
    psi = np.kron(kets[0], kets[1])
    return np.outer(psi, psi.conj())


def dissipator(A):
    """Returns f(rho) = A rho A^+ - 1/2 {A^+ A, rho}."""
    Ad = A.conj().T
    AdA = Ad @ A
    return lambda r: A @ r @ Ad - 0.5 * (AdA @ r + r @ AdA)


class Model:
    def __init__(self, net):
        ni, nk = net["neurons"]
        br = net["bridges"][0]
        assert br["neurons"] == [ni["id"], nk["id"]]
        assert br.get("measure", "X") == "X"
        cur = {n["id"]: float(n["i_ext"]) for n in net["neurons"]}
        for inp in net["inputs"]:
            if inp["kind"] != "constant":
                raise ValueError("only constant inputs in coupled cases")
            cur[inp["neuron"]] += float(inp["current"])
        self.ids = (ni["id"], nk["id"])
        self.tau = np.array([ni["tau_m"], nk["tau_m"]], dtype=float)
        self.vrest = np.array([ni["v_rest"], nk["v_rest"]], dtype=float)
        self.rm = np.array([ni["r_m"], nk["r_m"]], dtype=float)
        self.iext = np.array([cur[ni["id"]], cur[nk["id"]]])
        self.vth = np.array([ni["v_th"], nk["v_th"]], dtype=float)
        self.v0 = np.array([ni["v0"], nk["v0"]], dtype=float)
        self.alpha = np.array(br["alpha"], dtype=float)
        self.gamma0, self.beta = float(br["gamma0"]), float(br["beta"])
        w0, w1 = map(float, br["omega"])
        self.H0 = w0 * Z0 + w1 * Z1
        self.coupling = br["coupling"]
        if self.coupling not in ("hamiltonian", "cp"):
            raise ValueError(f"unknown coupling {self.coupling!r}")
        self.decay = [dissipator(np.sqrt(float(k)) * S) for k, S in zip(br["kappa"], (SM0, SM1))]
        self.dcp = dissipator(X0 + X1)
        self.rho0 = initial_rho(br["initial"])

    def gamma(self, V):
        return self.gamma0 * np.exp(-self.beta * abs(V[0] - V[1]))

    def pack(self, V, rho):
        return np.concatenate([V, rho.real.ravel(), rho.imag.ravel()])

    @staticmethod
    def unpack(y):
        return y[:2], (y[2:18] + 1j * y[18:34]).reshape(4, 4)

    def rhs(self, t, y):
        V, rho = self.unpack(y)
        iq = self.alpha * np.array([np.trace(rho @ X0).real, np.trace(rho @ X1).real])
        dV = -(V - self.vrest) / self.tau + self.rm / self.tau * (self.iext + iq)
        g = self.gamma(V)
        if self.coupling == "hamiltonian":
            H = self.H0 + g * XX
            drho = -1j * (H @ rho - rho @ H)
        else:
            drho = -1j * (self.H0 @ rho - rho @ self.H0) + g * self.dcp(rho)
        for D in self.decay:
            drho = drho + D(rho)
        return self.pack(dV, drho)

    def solve(self, times, rtol, atol):
        """Integrates on [0, times[-1]], restarting at every zero of V_i - V_k."""
        y = self.pack(self.v0, self.rho0)
        t0, T = 0.0, float(times[-1])
        out = np.empty((len(times), 34))
        out[0] = y
        filled, crossings = 1, []
        while t0 < T:
            # orient the event so that only a *new* crossing (leaving the current sign) counts
            d = y[0] - y[1]
            if d == 0.0:
                d = (self.rhs(t0, y)[0] - self.rhs(t0, y)[1])
            s = 1.0 if d > 0 else -1.0

            def ev(t, yy, s=s):
                return s * (yy[0] - yy[1])
            ev.terminal, ev.direction = True, -1
            te = times[filled:]
            sol = solve_ivp(self.rhs, (t0, T), y, method="DOP853", rtol=rtol, atol=atol,
                            t_eval=te, events=ev, dense_output=False)
            if sol.status < 0:
                raise RuntimeError(sol.message)
            n = sol.y.shape[1]
            out[filled:filled + n] = sol.y.T
            filled += n
            if sol.status == 1:           # crossing: restart from the event point
                t0 = float(sol.t_events[0][0])
                y = sol.y_events[0][0].copy()
                crossings.append(t0)
            else:
                t0 = T
        assert filled == len(times), (filled, len(times))
        return out, crossings


def generate(name, out_dir, verbose=True):
    net = CASES[name]()
    m = Model(net)
    dt, every = net["dt"], net["record"]["every"]
    n_rec = int(round(net["duration"] / (dt * every)))
    times = np.array([j * dt * every for j in range(n_rec + 1)])
    Y, crossings = m.solve(times, RTOL, ATOL)
    checks = {}
    for tol in CHECK_TOLS:
        Yc, _ = m.solve(times, tol, tol)
        checks[f"max_abs_diff_vs_tol_{tol:g}"] = {"v": float(np.abs(Yc[:, :2] - Y[:, :2]).max()),
                                                  "rho": float(np.abs(Yc[:, 2:] - Y[:, 2:]).max())}
    V = Y[:, :2]
    rhos = [m.unpack(y)[1] for y in Y]
    ex = np.array([[np.trace(r @ X0).real, np.trace(r @ X1).real] for r in rhos])
    ez = np.array([[np.trace(r @ Z0).real, np.trace(r @ Z1).real] for r in rhos])
    gam = np.array([m.gamma(v) for v in V])
    tr_err = max(abs(np.trace(r) - 1) for r in rhos)
    herm_err = max(np.abs(r - r.conj().T).max() for r in rhos)
    min_eig = min(np.linalg.eigvalsh(0.5 * (r + r.conj().T)).min() for r in rhos)
    vmax = V.max(axis=0)
    if np.any(vmax >= m.vth):
        raise RuntimeError(f"{name}: a neuron reaches threshold ({vmax})")
    ids = m.ids
    rf = rhos[-1]
    ref = {
        "network": f"coupled_{name}.net.json",
        "times": [round(float(t), 10) for t in times],
        "v": {ids[0]: V[:, 0].tolist(), ids[1]: V[:, 1].tolist()},
        "expect": {ids[0]: ex[:, 0].tolist(), ids[1]: ex[:, 1].tolist()},
        "gamma": gam.tolist(),
        "z": {ids[0]: ez[:, 0].tolist(), ids[1]: ez[:, 1].tolist()},
        "final_rho": [[[float(x.real), float(x.imag)] for x in row] for row in rf],
        "solver": {"method": "scipy.integrate.solve_ivp DOP853", "rtol": RTOL, "atol": ATOL,
                   "scipy_version": __import__("scipy").__version__,
                   "restarts_at_crossings": crossings},
        "checks": {
            **checks,
            "max_trace_error": float(tr_err), "max_hermiticity_error": float(herm_err),
            "min_eigenvalue": float(min_eig),
            "v_max": {ids[0]: float(vmax[0]), ids[1]: float(vmax[1])},
            "v_th": {ids[0]: float(m.vth[0]), ids[1]: float(m.vth[1])}},
        "model": {
            "v": "dV/dt = -(V - V_rest)/tau_m + (R_m/tau_m)(I_ext + alpha Tr(rho X_site))",
            "gamma": "gamma0 exp(-beta |V_i - V_k|)",
            "hamiltonian": "H = omega_i Z0 + omega_k Z1 [+ gamma X0 X1 if coupling = hamiltonian]",
            "dissipators": "kappa_j D[sigma-_j] on each qubit [+ gamma D[X0 + X1] if coupling = "
                           "cp]; D[A]rho = A rho A^+ - 1/2{A^+A, rho}",
            "conventions": "qubit 0 = neurons[0] leftmost; basis 0 = Z +1; "
                           "sigma- = [[0,0],[1,0]]; basis order |00>,|01>,|10>,|11>",
            "expect": "Tr(rho X0), Tr(rho X1) (measure 'X'); z: Tr(rho Z0), Tr(rho Z1)"},
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"coupled_{name}.net.json"), "w") as f:
        json.dump(net, f, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, f"coupled_{name}.ref.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    if verbose:
        c = ref["checks"]
        diffs = ", ".join(f"{k[-5:]}: v {d['v']:.1e} rho {d['rho']:.1e}"
                          for k, d in c.items() if k.startswith("max_abs_diff"))
        print(f"coupled_{name}: {len(times)} samples, crossings {len(crossings)}, "
              f"diff vs re-solves [{diffs}], trace err {tr_err:.1e}, "
              f"min eig {min_eig:.1e}, V range i [{V[:, 0].min():.3f}, {vmax[0]:.3f}] "
              f"k [{V[:, 1].min():.3f}, {vmax[1]:.3f}], <X> ranges "
              f"[{ex[:, 0].min():.3f}, {ex[:, 0].max():.3f}] [{ex[:, 1].min():.3f}, "
              f"{ex[:, 1].max():.3f}], gamma [{gam.min():.4f}, {gam.max():.4f}]")
    return ref


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT_DIR, help="output directory (default %(default)s)")
    ap.add_argument("--only", nargs="*", metavar="NAME", help="only these cases")
    ap.add_argument("--list", action="store_true", help="list the case names and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(CASES))
        return 0
    names = args.only or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}")
    for name in names:
        generate(name, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
