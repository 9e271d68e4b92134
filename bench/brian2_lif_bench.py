#!/usr/bin/python3
"""Brian2 LIF benchmark (variant of ../shared/refs/brian2_lif_bench.py) + nestq network dump.

Usage:  /usr/bin/python3 bench/brian2_lif_bench.py [N] [TARGET] [--json PATH] [--explicit PATH]
                                                   [--repeat K] [--no-run]

Simulates exactly the reference benchmark (same equations, same statement order, same seed, so
the same random draws and the same spike count for a given N and target):

  N LIF neurons, dv/dt = (-(v - v_rest) + RI)/tau_m  (unless refractory), method 'exact',
  tau_m = 20 ms, v_rest = -65 mV, threshold 'v > -50*mV' (strict), reset 'v = -65*mV',
  refractory 2 ms, v(0) = v_rest, RI = (10 + 15*rand()) mV per neuron (constant drive,
  no noise), Synapses(G, G, on_pre='v += 0.5*mV') connected with p = 0.02 (autapses allowed,
  i == j is not excluded by connect(p=...)), delay 0, dt = 0.1 ms, run 1 s, seed(3) before
  any random draw (numpy's global RandomState: RI is drawn first, then the connectivity).

and prints the reference line "N=... brian2_<target>_s=... spikes=..." followed by extra
statistics (synapse count, spikes per neuron, population-burst structure).

--json PATH      writes the network in nestq's network-file form with a neuron group and
                 generated connectivity (i_ext ~ U(1.0, 2.5) nA with r_m = 10 MOhm, i.e.
                 R*I ~ U(10, 25) mV -- a proposed extension of the version-1 format, see
                 group_json(); synapses p = 0.02, weight 0.5 mV, delay 0).  The Rust side
                 draws its own random numbers from "seed", so only the statistics match Brian2.
--explicit PATH  also writes the exact Brian2 draws (per-neuron RI in mV and synapse pre/post
                 index arrays, ~20 MB for N = 10000) so the identical network can be replayed.
--summary PATH   writes the run's figures as JSON (spike count, spikes per neuron, burst
                 structure, wall time; appended per repeat).
--no-run         only build (and dump); skip the simulation.
--replay         after the Brian2 run, re-simulate the identical network (Brian2's own draws)
                 with a plain numpy stepper implementing the step semantics documented in
                 scripts/reference/brian2_reference.py (update, strict threshold, delay-0 kicks
                 after the threshold test and dropped on refractory / spiking neurons, reset,
                 T = 20 refractory steps) and compare the spike trains.
"""
import argparse
import json
import sys
import time
import warnings


def group_json(N, seed):
    """nestq network file (version 1) with a group description and generated connectivity.

    The group's i_ext is heterogeneous (R*I ~ U(10, 25) mV per neuron in the reference), which
    the version-1 parser (crates/nestq/src/neural/spec.rs, numbers only) cannot express yet:
    "i_ext" is written in the PROPOSED form {"uniform": [lo, hi], "seed": s} (member m draws
    lo + (hi - lo) * u_m from the seeded stream). Keys starting with "_" are comments.
    """
    return {
        "version": 1, "name": f"brian2_lif_bench_{N}", "dt": 0.1, "duration": 1000.0,
        "groups": [{"id": "h", "n": N, "tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0,
                    "v_th": -50.0, "r_m": 10.0, "t_ref": 2.0,
                    "i_ext": {"uniform": [1.0, 2.5], "seed": seed}, "v0": -65.0,
                    "_threshold": "Brian2 tests v > v_th (strict); immaterial for these "
                                  "continuous random drives",
                    "_i_ext": "proposed extension: per-member U(1.0, 2.5) nA, i.e. R*I ~ "
                              "U(10, 25) mV as Brian2's RI = (10 + 15*rand())*mV"}],
        "synapses": [{"pre": "h", "post": "h", "p": 0.02, "weight": 0.5, "delay": 0.0,
                      "seed": seed,
                      "_autapses": "Brian2's connect(p=0.02) includes i == j (about N*p "
                                   "autapses); with delay 0 an autapse kick lands in the "
                                   "spike step and is dropped, so excluding them changes "
                                   "nothing but the synapse count"}],
        "record": {"v": [], "spikes": True, "bridge_expect": False, "every": 1000},
        "description": "Brian2 reference benchmark (../shared/refs/brian2_lif_bench.py): "
                       "delay 0 (a kick lands in the emitting step after the threshold test), "
                       "kicks to refractory or spiking neurons are dropped. Random draws are "
                       "nestq's own (same distributions, not Brian2's numpy stream); Brian2 "
                       "gives 490000 spikes (49 per neuron, population bursts) for every seed "
                       "tried at N = 10000.",
    }


def explicit_json(N, seed, RI_mV, pre, post):
    """The identical network in nestq's network-file form: Brian2's own draws, RI (mV) as
    per-member i_ext = RI / r_m (nA, r_m = 10 MOhm) and the synapses as explicit (i, j) pairs.
    Autapses (i == j, which Brian2's connect(p) allows) are left out: nestq refuses
    self-connections, and with delay 0 an autapse kick lands in the spiking step, when the
    neuron is refractory, so it never acts. Spike counts must then equal Brian2's."""
    import numpy as np
    pre, post = np.asarray(pre), np.asarray(post)
    keep = pre != post
    return {
        "version": 1, "name": f"brian2_lif_bench_{N}_explicit", "dt": 0.1, "duration": 1000.0,
        "description": f"Brian2's exact draws (seed {seed}); {int((~keep).sum())} autapses dropped",
        "groups": [{"id": "h", "n": N, "tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0,
                    "v_th": -50.0, "r_m": 10.0, "t_ref": 2.0, "v0": -65.0,
                    "i_ext": [float(x) / 10.0 for x in RI_mV]}],
        "synapses": [{"pre": "h", "post": "h", "i": pre[keep].tolist(), "j": post[keep].tolist(),
                      "weight": 0.5, "delay": 0.0}],
        "record": {"v": [], "spikes": True, "bridge_expect": False, "every": 1000},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("N", nargs="?", type=int, default=1000, help="neurons (default 1000)")
    ap.add_argument("target", nargs="?", default="numpy", help="codegen target (numpy, cython)")
    ap.add_argument("--seed", type=int, default=3, help="brian2 seed() (reference: 3)")
    ap.add_argument("--json", metavar="PATH", help="write the nestq group network file")
    ap.add_argument("--explicit", metavar="PATH", help="write Brian2's exact RI and synapses")
    ap.add_argument("--nestq-explicit", metavar="PATH",
                    help="write a nestq network file of the identical network (Brian2's RI as "
                         "per-member i_ext, its synapses as explicit pairs minus autapses)")
    ap.add_argument("--repeat", type=int, default=1, help="run K times (fresh network each)")
    ap.add_argument("--summary", metavar="PATH", help="write the figures as JSON")
    ap.add_argument("--no-run", action="store_true", help="build/dump only")
    ap.add_argument("--replay", action="store_true",
                    help="check the spike trains against a plain numpy stepper")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)

    import numpy as np
    import brian2 as b2
    from brian2 import ms, mV, second

    if args.json:
        with open(args.json, "w") as f:
            json.dump(group_json(args.N, args.seed), f, indent=1)
            f.write("\n")

    summaries = []
    for rep in range(max(1, args.repeat)):
        b2.start_scope()
        b2.prefs.codegen.target = args.target
        b2.defaultclock.dt = 0.1 * ms
        b2.seed(args.seed)
        eqs = 'dv/dt = (-(v - v_rest) + RI)/tau_m : volt (unless refractory)\nRI : volt'
        ns = {"v_rest": -65 * mV, "tau_m": 20 * ms}
        t_build = time.perf_counter()
        G = b2.NeuronGroup(args.N, eqs, threshold='v>-50*mV', reset='v=-65*mV',
                           refractory=2 * ms, method='exact', namespace=ns)
        G.v = ns["v_rest"]
        G.RI = '(10 + 15*rand())*mV'
        S = b2.Synapses(G, G, on_pre='v += 0.5*mV')
        S.connect(p=0.02)
        M = b2.SpikeMonitor(G)
        net = b2.Network(G, S, M)
        t_build = time.perf_counter() - t_build
        if args.nestq_explicit and rep == 0:
            with open(args.nestq_explicit, "w") as f:
                json.dump(explicit_json(args.N, args.seed, np.asarray(G.RI / mV), S.i[:], S.j[:]), f,
                          separators=(",", ":"))
        if args.explicit and rep == 0:
            with open(args.explicit, "w") as f:
                json.dump({"N": args.N, "seed": args.seed, "RI_mV": (G.RI / mV).tolist(),
                           "pre": S.i[:].tolist(), "post": S.j[:].tolist()}, f,
                          separators=(",", ":"))
        if args.no_run:
            print(f"N={args.N} synapses={len(S)} build_s={t_build:.3f}")
            return 0
        t0 = time.perf_counter()
        net.run(1 * second)
        wall = time.perf_counter() - t0
        print(f"N={args.N} brian2_{args.target}_s={wall:.3f} spikes={M.num_spikes}")
        counts = np.bincount(np.asarray(M.i), minlength=args.N)
        steps = np.round(np.asarray(M.t / second) / 1e-4).astype(int)
        burst_steps, per_step = np.unique(steps, return_counts=True)
        RI = np.asarray(G.RI / mV)
        print(f"  build_s={t_build:.3f} synapses={len(S)} (mean out-degree "
              f"{len(S) / args.N:.1f}) spikes/neuron min {counts.min()} max {counts.max()} "
              f"mean {counts.mean():.2f}; neurons with RI>15 mV: {(RI > 15).sum()}; "
              f"distinct spike steps {len(burst_steps)}, largest step {per_step.max()} spikes, "
              f"first spike step {steps.min() if len(steps) else None}")
        summaries.append({
            "N": args.N, "target": args.target, "seed": args.seed, "brian2_version": b2.__version__,
            "wall_s_run_1s": round(wall, 3), "build_s": round(t_build, 3),
            "spikes": int(M.num_spikes), "synapses": int(len(S)),
            "spikes_per_neuron": {"min": int(counts.min()), "max": int(counts.max()),
                                  "mean": float(counts.mean())},
            "distinct_spike_steps": int(len(burst_steps)),
            "first_spike_step": int(steps.min()) if len(steps) else None,
            "neurons_RI_above_15mV": int((RI > 15).sum())})
        if args.replay and rep == 0:
            t0 = time.perf_counter()
            ref_steps, ref_idx = replay(RI, np.asarray(S.i[:]), np.asarray(S.j[:]), args.N)
            same = (len(ref_steps) == len(steps)
                    and set(zip(ref_steps.tolist(), ref_idx.tolist()))
                    == set(zip(steps.tolist(), np.asarray(M.i).tolist())))
            print(f"  replay: {len(ref_steps)} spikes, identical to Brian2: {same} "
                  f"({time.perf_counter() - t0:.2f} s)")
            summaries[-1]["replay_identical"] = bool(same)
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump({"reference": "../shared/refs/brian2_lif_bench.py", "runs": summaries}, f,
                      indent=1)
            f.write("\n")
    return 0


def replay(RI, pre, post, N, n_steps=10000, dt=0.1, tau=20.0, T=20):
    """Plain numpy stepper (mV, ms) for the benchmark network; returns (steps, indices)."""
    import numpy as np
    import scipy.sparse as sp
    W = sp.csr_matrix((np.full(len(pre), 0.5), (pre, post)), shape=(N, N))
    E = np.exp(-dt / tau)
    v_inf = -65.0 + RI
    v = np.full(N, -65.0)
    last = np.full(N, -10**9)
    out_s, out_i = [], []
    for n in range(n_steps):
        active = (n - last) >= T
        v = np.where(active, v_inf + (v - v_inf) * E, v)
        fired = np.nonzero(active & (v > -50.0))[0]
        if len(fired):
            last[fired] = n
            kick = np.asarray(W[fired].sum(axis=0)).ravel()
            ok = (n - last) >= T          # spiking neurons (last == n) are excluded too
            v[ok] += kick[ok]
            v[fired] = -65.0
            out_s.append(np.full(len(fired), n))
            out_i.append(fired)
    if not out_s:
        return np.array([], int), np.array([], int)
    return np.concatenate(out_s), np.concatenate(out_i)


if __name__ == "__main__":
    sys.exit(main())
