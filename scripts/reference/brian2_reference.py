#!/usr/bin/python3
"""Brian2 golden fixtures for nestq's spiking-neuron layer (deterministic LIF networks).

Usage:  /usr/bin/python3 scripts/reference/brian2_reference.py [--out DIR] [--only NAME ...] [--list]

For every network in NETWORKS below this script

  1. writes the network file   test/fixtures/neural/<name>.net.json   (network JSON, version 1),
  2. builds the Brian2 equivalent (numpy target, method='exact', defaultclock.dt = file dt,
     threshold 'v >= v_th', reset 'v = v_reset', refractory 't_ref' with '(unless refractory)'),
     runs it and writes            test/fixtures/neural/<name>.brian2.json
         {"network", "brian2_version", "dt", "duration", "n_steps", "every",
          "spike_counts": {id: n}, "spikes": [{"neuron", "t", "step"}],
          "times": [...], "v": {id: [...]},
          "crosscheck", "semantics"}
  3. re-runs the same network with an independent plain-Python stepper (step_reference()
     below, written from the step semantics in SEMANTICS) and requires the spike trains to be
     identical step for step; the largest |v_brian2 - v_python| and the smallest distance of a
     post-update V to V_th ("threshold margin", a measure of how robust the spike counts are to
     rounding) are stored in "crosscheck".

Only deterministic inputs are used: neuron constant currents (i_ext, plus any "constant"
inputs), explicit spike-time inputs ("kind": "spikes", {"times", "weight"}: a
SpikeGeneratorGroup source with a delta synapse of that weight and delay 0), delta synapses with
delays, refractoriness.

Units of the network file: ms, mV, nA, MOhm (R_m * I is in mV).  Brian2 itself runs in SI.

The Brian2 step semantics the Rust side must reproduce are summarised in SEMANTICS (also written
into every .brian2.json); they were taken from the Brian2 2.5 sources (groups/neurongroup.py,
equations/refractory.py, core/functions.py:timestep, synapses/cspikequeue.cpp (the compiled
spike queue Brian2 uses when importable; spikequeue.py is the fallback),
input/spikegeneratorgroup.py, the numpy templates) and are verified by the cross-check.

Kicks and refractoriness: Brian2 marks a variable whose equation has '(unless refractory)' as
"conditionally written" on not_refractory, so EVERY write to v outside the reset (including a
synapse's plain on_pre 'v_post += w') is dropped while the neuron is refractory.  The script
uses the plain on_pre; it also runs the explicitly gated on_pre
'v_post += w*int(not_refractory_post)' and checks that both give the same spike trains.
"""
import argparse
import json
import math
import os
import sys
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # repository root
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "neural")

SEMANTICS = [
    "Step n (n = 0..n_steps-1, t_n = n*dt; n_steps = round(duration/dt)) runs Brian2's default "
    "schedule: start (StateMonitor records V(t_n)) -> groups (state update) -> thresholds "
    "(neuron spikes detected, spike-time inputs emitted) -> synapses (queued kicks delivered) "
    "-> resets.",
    "State update (exact): for a non-refractory neuron V <- V_inf + (V - V_inf)*exp(-dt/tau_m) "
    "with V_inf = V_rest + R_m*I_ext (Brian2 evaluates ((I*R + V*E) + V_rest) + (-I*R - V_rest)*E "
    "in SI units). A refractory neuron's V is not updated at all (I_ext ignored).",
    "Refractoriness (Brian2 >= 2.1.3 timing): refractory steps T = timestep(t_ref) = "
    "int(t_ref/dt + 1e-3) (truncation, e.g. t_ref 1.25 ms at dt 0.1 -> 12 steps); "
    "a neuron that spiked in step s is refractory in step m iff m - s < T (never-spiked neurons "
    "have lastspike = -1e4 s, i.e. never refractory). So it is frozen during steps s+1..s+T-1 and "
    "integrates again in step s+T; the shortest possible inter-spike interval is T steps "
    "(= t_ref when t_ref is a multiple of dt). T = 0 means no refractoriness.",
    "Threshold: after the update of step n, a non-refractory neuron with V >= V_th spikes; the "
    "spike is recorded with t = t_n = n*dt (the START of the step whose update crossed; "
    "physically the crossing is at t_{n+1}). The initial V0 is never tested before an update "
    "(V0 >= V_th spikes in step 0 only if V is still >= V_th after the first update).",
    "Reset: V <- V_reset at the end of step n (after synaptic delivery, so a kick landing on a "
    "neuron in the step in which it spikes is lost). The neuron then stays at V_reset until step "
    "s+T.",
    "Delays: delay steps D = (int)(delay/dt + 0.5) (Brian2's compiled Cython spike queue, "
    "cspikequeue.cpp, used whenever it is importable, as here; i.e. round half up: 0.25 ms at "
    "dt 0.1 -> 3 steps; the pure-Python fallback spikequeue.py would use numpy.round, half to "
    "even -> 2). A spike emitted in "
    "step n (by a neuron or a spike-time input) lands in step n+D in the synapses slot, i.e. "
    "AFTER the post neuron's update and threshold test of step n+D: it changes V(t_{n+D+1}) and "
    "can make the post neuron spike at the earliest in step n+D+1 (with D = 0: one step later). "
    "Several kicks in the same step add up.",
    "Kicks are delta jumps V_post += weight [mV], dropped when the post neuron is refractory in "
    "step n+D or spiked in step n+D (Brian2: v has '(unless refractory)', which makes every "
    "write to v except the reset conditional on not_refractory; not_refractory is computed in "
    "the state update of the same step and cleared by the threshold). A dropped kick is lost "
    "for good (not stored until refractoriness ends).",
    "Spike-time inputs ('kind': 'spikes'): an input time t is emitted in step int(t/dt + 1e-3) "
    "(SpikeGeneratorGroup binning, 'thresholds' slot) and its kick lands in that same step "
    "(delay 0) after the threshold test: input at t = n*dt changes V(t_{n+1}).",
    "Recording: v[id][j] = V(t_{j*every}) for j*every <= n_steps, i.e. the value at the START "
    "of step j*every (after the previous step's kicks and reset, before this step's update); "
    "v[id][0] = V0. Brian2's StateMonitor stops at step n_steps-1; the sample at t = duration "
    "(when n_steps is a multiple of every) is the group's state after the run.",
]


# ----------------------------------------------------------------------------- networks
def neuron(nid, i_ext, v0=-65.0, tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_th=-50.0,
           r_m=10.0, t_ref=2.0):
    return {"id": nid, "tau_m": tau_m, "v_rest": v_rest, "v_reset": v_reset, "v_th": v_th,
            "r_m": r_m, "t_ref": t_ref, "i_ext": i_ext, "v0": v0}


def network(neurons, synapses=(), inputs=(), dt=0.1, duration=1000.0, every=10, note=""):
    net = {"version": 1, "dt": dt, "duration": duration, "neurons": list(neurons),
           "synapses": list(synapses), "bridges": [], "inputs": list(inputs),
           "record": {"v": [n["id"] for n in neurons], "spikes": True, "bridge_expect": False,
                      "every": every}}
    if note:
        net["description"] = note
    return net


def net_single_regular():
    return network([neuron("a", 2.0)], note=(
        "One LIF neuron driven above threshold (R_m*I_ext = 20 mV > V_th - V_rest = 15 mV): "
        "regular firing, ISI = t_ref + ln(20/5)*tau_m rounded to whole steps."))


def net_chain3():
    neurons = [neuron("a", 1.8), neuron("b", 1.2, v0=-60.0), neuron("c", 1.45, v0=-55.0)]
    synapses = [{"pre": "a", "post": "b", "weight": 4.5, "delay": 1.5},
                {"pre": "b", "post": "c", "weight": 6.0, "delay": 0.3},
                {"pre": "a", "post": "c", "weight": -2.0, "delay": 4.0}]
    return network(neurons, synapses, note=(
        "3-neuron chain a -> b -> c with delays 1.5 and 0.3 ms (0.3/0.1 = 2.9999999999999996, "
        "rounds to 3 steps) and an inhibitory a -> c shortcut; b and c are sub-threshold on their "
        "own (R*I = 12 and 14.5 mV)."))


def net_random20(seed=20240611, n=20, p=0.2):
    rng = np.random.default_rng(seed)
    ids = [f"n{i:02d}" for i in range(n)]
    neurons = []
    for nid in ids:
        i_ext = round(float(rng.uniform(1.2, 2.0)), 3)
        v0 = round(float(rng.uniform(-65.0, -52.0)), 3)
        t_ref = float(rng.choice([1.0, 2.0, 2.5, 3.0]))
        neurons.append(neuron(nid, i_ext, v0=v0, t_ref=t_ref))
    synapses = []
    for i in range(n):
        for k in range(n):
            if i == k or rng.random() >= p:
                continue
            w = round(float(rng.uniform(0.5, 3.0)), 3)
            if rng.random() < 0.25:
                w = -w
            delay = round(0.1 * int(rng.integers(0, 51)), 1)   # 0..5 ms in whole steps
            synapses.append({"pre": ids[i], "post": ids[k], "weight": w, "delay": delay})
    inputs = []
    for nid in ids[:4]:
        times = sorted({round(0.1 * int(x), 1) for x in rng.integers(0, 10000, size=15)})
        inputs.append({"neuron": nid, "kind": "spikes", "times": times,
                       "weight": round(float(rng.uniform(2.0, 6.0)), 3)})
    return network(neurons, synapses, inputs, note=(
        f"20 neurons, connectivity drawn once with numpy default_rng({seed}) (p = {p}, "
        "weights U(0.5, 3) mV, 25% inhibitory, delays 0..5 ms in whole steps, t_ref from "
        "{1, 2, 2.5, 3} ms) and written out explicitly; 4 neurons also get spike-time inputs."))


def net_refractory_edges():
    neurons = [
        # r0: huge drive, one update jumps 20 mV: fires in step 0 and then in the first
        #     integrating step after each refractory period, ISI = T = 20 steps exactly.
        neuron("r0", 400.0),
        # r1: at rest (I = 0), driven only by spike-time inputs, see inputs below.
        neuron("r1", 0.0),
        # r2: kicked by r3 through a delayed synapse plus spike-time probes.
        neuron("r2", 0.0),
        # r3: pacemaker for r2 (fires like r0), t_ref 2 ms.
        neuron("r3", 400.0),
        # r4: starts just below threshold (v0 = -50.5, V_inf = -49): crosses in step 81.
        neuron("r4", 1.6, v0=-50.5),
        # r7: constant drive is ignored while refractory: moderate drive, t_ref 5 ms, plus
        #     small kicks some of which fall into refractory periods.
        neuron("r7", 2.5, t_ref=5.0),
    ]
    synapses = [
        # r3 spikes at steps 0, 20, 40, ...; delay 21 steps: its kicks land in steps 21, 41, ...
        {"pre": "r3", "post": "r2", "weight": 7.0, "delay": 2.1},
    ]
    inputs = [
        # r1: 16 mV landing in step 100 -> V(t_101) = -49 -> spikes in step 101;
        #     refractory steps 102..120, integrates again in step 121.
        {"neuron": "r1", "kind": "spikes", "times": [10.0], "weight": 16.0},
        #     kicks landing in steps 105 and 120 (refractory: dropped) ...
        {"neuron": "r1", "kind": "spikes", "times": [10.5, 12.0], "weight": 16.0},
        #     ... and one landing in step 121 (first integrating step: applied) -> spike in 122
        {"neuron": "r1", "kind": "spikes", "times": [12.1], "weight": 16.0},
        #     a kick landing in the very step the neuron spikes (step 122): dropped
        {"neuron": "r1", "kind": "spikes", "times": [12.2], "weight": 3.0},
        #     later: two kicks in the same step add up (9 + 7 = 16 mV -> spike in step 301)
        {"neuron": "r1", "kind": "spikes", "times": [30.0], "weight": 9.0},
        {"neuron": "r1", "kind": "spikes", "times": [30.0], "weight": 7.0},
        # r2: r3's 7 mV kicks (steps 21, 41, 61, ...) summate; a 14 mV input at t=5.0 on top
        #     makes r2 fire in step 51; r3's kick in step 61 then falls in r2's refractory
        #     period (steps 52..70) and is dropped; later probes at 40, 41, 42.1 ms likewise
        #     land inside/at the edge of refractory periods.  (Trains: see the .brian2.json.)
        {"neuron": "r2", "kind": "spikes", "times": [5.0, 6.0, 40.0, 41.0, 42.1],
         "weight": 14.0},
        # r7: 1.5 mV kicks, some during r7's refractory periods.
        {"neuron": "r7", "kind": "spikes", "times": [35.0, 36.0, 37.0, 38.0, 39.0],
         "weight": 1.5},
    ]
    return network(neurons, synapses, inputs, duration=60.0, every=1, note=(
        "Refractory edge cases (all times on the dt grid, t_ref > 0): minimal ISI = T steps "
        "(r0, r3), V0 just below threshold (r4), kicks during refractoriness dropped, a kick in "
        "the first integrating step applied, a kick in the spike step dropped, two kicks in one "
        "step summed (r1), delayed synaptic kicks into a refractory neuron (r2), constant drive "
        "ignored while refractory (r7). Recorded every step."))


def net_refractory_zero():
    neurons = [
        # z0: t_ref 0, huge drive: spikes in every step.
        neuron("z0", 400.0, t_ref=0.0),
        # z1: t_ref 0 at rest; 16 mV lands in step 100 -> spike in step 101; a second 16 mV
        #     lands in step 101, the spike step: Brian2 drops it (the threshold clears
        #     not_refractory even for t_ref = 0), so there is no spike in step 102.
        neuron("z1", 0.0, t_ref=0.0),
        # z2: same probes with t_ref 2 (reference behaviour).
        neuron("z2", 0.0),
    ]
    inputs = [
        {"neuron": "z1", "kind": "spikes", "times": [10.0, 10.1, 20.0], "weight": 16.0},
        {"neuron": "z2", "kind": "spikes", "times": [10.0, 10.1, 20.0], "weight": 16.0},
        # z0 also receives kicks: they land in its spike steps and are dropped.
        {"neuron": "z0", "kind": "spikes", "times": [1.0, 2.0], "weight": 5.0},
    ]
    return network(neurons, [], inputs, duration=30.0, every=1, note=(
        "t_ref = 0: no refractory steps, but a kick landing in the step in which the neuron "
        "spikes is still dropped (Brian2's thresholder sets not_refractory = False for the "
        "spiking neuron, and the reset follows the synaptic delivery). z1 must spike once "
        "(step 101) plus once for the kick at t = 20, not in step 102."))


def net_refractory_offgrid():
    neurons = [
        # o1: t_ref 1.25 ms = 12.5 steps: Brian2 T = int(12.5 + 1e-3) = 12 (truncation, not
        #     rounding), ISI 12 steps.
        neuron("o1", 400.0, t_ref=1.25),
        # o2: t_ref 0.19 ms = 1.9 steps: T = 1, i.e. no refractory step at all (fires every step).
        neuron("o2", 400.0, t_ref=0.19),
        # o3: kicked by o1 with delay 0.25 ms = 2.5 steps: Brian2's compiled spike queue
        #     computes (int)(2.5 + 0.5) = 3 steps.
        neuron("o3", 0.0, t_ref=3.0),
    ]
    synapses = [{"pre": "o1", "post": "o3", "weight": 9.0, "delay": 0.25}]
    return network(neurons, synapses, [], duration=30.0, every=1, note=(
        "Off-grid t_ref and delay: Brian2 counts t_ref as int(t_ref/dt + 1e-3) steps "
        "(truncation: 1.25 ms -> 12, 0.19 ms -> 1) and delays as (int)(delay/dt + 0.5) (half "
        "up: 0.25 ms -> 3). Spike inputs are binned as int(t/dt + 1e-3)."))


def net_dt_coarse():
    neurons = [neuron("a", 1.7), neuron("b", 1.55, v0=-58.0, t_ref=3.0)]
    synapses = [{"pre": "a", "post": "b", "weight": 2.0, "delay": 0.75},
                {"pre": "b", "post": "a", "weight": 1.0, "delay": 0.0}]
    inputs = [{"neuron": "b", "kind": "constant", "current": 0.1}]
    return network(neurons, synapses, inputs, dt=0.25, duration=500.0, every=4, note=(
        "dt = 0.25 ms: delay 0.75 -> 3 steps, delay 0 (kick lands in the emitting step, after "
        "the threshold test), t_ref 3 ms -> 12 steps; b's total drive is i_ext 1.55 + a "
        "constant input of 0.1 nA (constant inputs add to i_ext)."))


NETWORKS = {
    "single_regular": net_single_regular,
    "chain3": net_chain3,
    "random20": net_random20,
    "refractory_edges": net_refractory_edges,
    "refractory_zero": net_refractory_zero,
    "refractory_offgrid": net_refractory_offgrid,
    "dt_coarse": net_dt_coarse,
}


# ----------------------------------------------------------------------------- helpers
def n_steps_of(net):
    return int(round(net["duration"] / net["dt"]))


def total_current(net):
    """I_ext per neuron: neuron i_ext plus every 'constant' input to it (nA)."""
    cur = {n["id"]: float(n["i_ext"]) for n in net["neurons"]}
    for inp in net["inputs"]:
        if inp["kind"] == "constant":
            cur[inp["neuron"]] += float(inp["current"])
        elif inp["kind"] != "spikes":
            raise ValueError(f"unsupported input kind {inp['kind']!r}")
    return cur


def timestep(t, dt):
    """Brian2's core.functions.timestep (used for refractoriness and input binning)."""
    return int((t + 1e-3 * dt) / dt)


def delay_steps(delay, dt):
    """Brian2's compiled spike queue (cspikequeue.cpp): (int)(delay/dt + 0.5), half up."""
    return int(delay / dt + 0.5)


# ----------------------------------------------------------------------------- Brian2
def run_brian2(net, gated=False):
    """Simulate NET with Brian2 (numpy target). Returns (spikes [(idx, step)], v [N, S + 1]).

    gated=True uses the explicitly gated on_pre (same result, see the module docstring)."""
    import brian2 as b2
    from brian2 import ms, mV, nA, Mohm, second

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.prefs.logging.console_log_level = "ERROR"
    dt = net["dt"]
    b2.defaultclock.dt = dt * ms
    ids = [n["id"] for n in net["neurons"]]
    index = {nid: i for i, nid in enumerate(ids)}
    N = len(ids)
    cur = total_current(net)
    eqs = """
    dv/dt = (-(v - v_rest) + r_m*i_ext)/tau_m : volt (unless refractory)
    tau_m : second (constant)
    v_rest : volt (constant)
    v_reset : volt (constant)
    v_th : volt (constant)
    r_m : ohm (constant)
    i_ext : amp (constant)
    t_ref : second (constant)
    """
    G = b2.NeuronGroup(N, eqs, threshold="v >= v_th", reset="v = v_reset",
                       refractory="t_ref", method="exact", name="lif")
    col = lambda key: np.array([float(n[key]) for n in net["neurons"]])
    G.tau_m = col("tau_m") * ms
    G.v_rest = col("v_rest") * mV
    G.v_reset = col("v_reset") * mV
    G.v_th = col("v_th") * mV
    G.r_m = col("r_m") * Mohm
    G.i_ext = np.array([cur[i] for i in ids]) * nA
    G.t_ref = col("t_ref") * ms
    G.v = col("v0") * mV
    on_pre = "v_post += w*int(not_refractory_post)" if gated else "v_post += w"
    objs = [G]
    if net["synapses"]:
        S = b2.Synapses(G, G, "w : volt (constant)", on_pre=on_pre, name="syn")
        S.connect(i=np.array([index[s["pre"]] for s in net["synapses"]]),
                  j=np.array([index[s["post"]] for s in net["synapses"]]))
        S.w = np.array([float(s["weight"]) for s in net["synapses"]]) * mV
        S.delay = np.array([float(s["delay"]) for s in net["synapses"]]) * ms
        objs.append(S)
    spk_inputs = [x for x in net["inputs"] if x["kind"] == "spikes"]
    if spk_inputs:
        gi, gt = [], []
        for k, inp in enumerate(spk_inputs):
            for t in inp["times"]:
                gi.append(k)
                gt.append(float(t))
        order = np.argsort(np.array(gt), kind="stable")
        gen = b2.SpikeGeneratorGroup(len(spk_inputs), np.array(gi)[order],
                                     np.array(gt)[order] * ms, name="gen")
        SI = b2.Synapses(gen, G, "w : volt (constant)", on_pre=on_pre, name="insyn")
        SI.connect(i=np.arange(len(spk_inputs)),
                   j=np.array([index[x["neuron"]] for x in spk_inputs]))
        SI.w = np.array([float(x["weight"]) for x in spk_inputs]) * mV
        objs += [gen, SI]
    sm = b2.SpikeMonitor(G, name="spikes")
    vm = b2.StateMonitor(G, "v", record=True, name="vmon")   # 'start' slot, every step
    objs += [sm, vm]
    b2net = b2.Network(*objs)
    n_steps = n_steps_of(net)
    b2net.run(n_steps * dt * ms)
    assert len(vm.t) == n_steps, (len(vm.t), n_steps)
    steps = np.array(np.round(np.asarray(sm.t / second) / (dt * 1e-3)), dtype=int)
    spikes = sorted(zip(steps.tolist(), np.asarray(sm.i).tolist()))
    v = np.concatenate([np.asarray(vm.v / mV), np.asarray(G.v / mV)[:, None]], axis=1)
    return [(i, s) for s, i in spikes], v   # v: [N, n_steps + 1], last column = final state


# ----------------------------------------------------------------------------- plain stepper
def step_reference(net):
    """Independent implementation of SEMANTICS (mV, ms). Returns (spikes, v [N, S+1], margin)."""
    dt = net["dt"]
    ids = [n["id"] for n in net["neurons"]]
    index = {nid: i for i, nid in enumerate(ids)}
    N, n_steps = len(ids), n_steps_of(net)
    cur = total_current(net)
    p = {k: np.array([float(n[k]) for n in net["neurons"]])
         for k in ("tau_m", "v_rest", "v_reset", "v_th", "r_m", "t_ref", "v0")}
    v_inf = p["v_rest"] + p["r_m"] * np.array([cur[i] for i in ids])
    decay = np.exp(-dt / p["tau_m"])
    T = np.array([timestep(t, dt) for t in p["t_ref"]])
    out = {}
    for s in net["synapses"]:
        out.setdefault(index[s["pre"]], []).append(
            (index[s["post"]], float(s["weight"]), delay_steps(float(s["delay"]), dt)))
    pending = {}   # step -> list of (post, weight)
    for inp in net["inputs"]:
        if inp["kind"] != "spikes":
            continue
        for t in inp["times"]:
            pending.setdefault(timestep(float(t), dt), []).append(
                (index[inp["neuron"]], float(inp["weight"])))
    v = p["v0"].copy()
    last = np.full(N, -10**9)
    rec = np.empty((N, n_steps + 1))
    spikes = []
    margin = math.inf
    for n in range(n_steps):
        rec[:, n] = v
        active = (n - last) >= T
        v = np.where(active, v_inf + (v - v_inf) * decay, v)
        margin = min(margin, float(np.min(np.abs(v[active] - p["v_th"][active]), initial=math.inf)))
        fired = np.nonzero(active & (v >= p["v_th"]))[0]
        for i in fired:
            spikes.append((int(i), n))
            last[i] = n
            for post, w, d in out.get(int(i), []):
                pending.setdefault(n + d, []).append((post, w))
        for post, w in pending.pop(n, []):
            if (n - last[post]) >= T[post] and last[post] != n:   # else dropped
                v[post] += w
        v[fired] = p["v_reset"][fired]
    rec[:, n_steps] = v
    return spikes, rec, margin


# ----------------------------------------------------------------------------- output
def summarise(net, spikes):
    ids = [n["id"] for n in net["neurons"]]
    counts = {i: 0 for i in ids}
    for i, _ in spikes:
        counts[ids[i]] += 1
    return counts


def generate(name, out_dir, verbose=True):
    import brian2
    net = NETWORKS[name]()
    dt, every, n_steps = net["dt"], net["record"]["every"], n_steps_of(net)
    ids = [n["id"] for n in net["neurons"]]
    spikes, v = run_brian2(net)
    spikes_gated, _ = run_brian2(net, gated=True)
    ref_spikes, ref_v, margin = step_reference(net)
    if spikes_gated != spikes:
        raise RuntimeError(f"{name}: gated and plain on_pre differ in Brian2")
    if ref_spikes != spikes:
        raise RuntimeError(f"{name}: python stepper disagrees with Brian2 "
                           f"({len(ref_spikes)} vs {len(spikes)} spikes)")
    v_err = float(np.max(np.abs(ref_v - v)))
    sel = np.arange(0, n_steps + 1, every)   # includes the final state if on the grid
    rec_ids = net["record"]["v"]
    fixture = {
        "network": f"{name}.net.json",
        "brian2_version": brian2.__version__,
        "brian2_setup": {
            "codegen_target": "numpy", "method": "exact",
            "equations": "dv/dt = (-(v - v_rest) + r_m*i_ext)/tau_m : volt (unless refractory)",
            "threshold": "v >= v_th", "reset": "v = v_reset", "refractory": "t_ref",
            "on_pre": "v_post += w",
            "inputs": "SpikeGeneratorGroup -> Synapses(on_pre as above, own weight/delay)",
            "monitors": "SpikeMonitor; StateMonitor('v', when='start') every step, subsampled; "
                        "final sample (t = duration) = NeuronGroup.v after the run"},
        "dt": dt, "duration": net["duration"], "n_steps": n_steps, "every": every,
        "spike_counts": summarise(net, spikes),
        "n_spikes": len(spikes),
        "spikes": [{"neuron": ids[i], "t": round(s * dt, 10), "step": s} for i, s in spikes],
        "times": [round(float(k) * dt, 10) for k in sel],
        "v": {nid: [float(x) for x in v[ids.index(nid), sel]] for nid in rec_ids},
        "crosscheck": {
            "python_stepper_spikes_identical": True,
            "gated_on_pre_spikes_identical": True,
            "max_abs_v_diff_mV": v_err,
            "min_threshold_margin_mV": margin,
            "note": "min over all non-refractory post-update V of |V - V_th|; spike counts are "
                    "robust to rounding differences far below this margin",
        },
        "semantics": SEMANTICS,
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{name}.net.json"), "w") as f:
        json.dump(net, f, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, f"{name}.brian2.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    if verbose:
        print(f"{name}: {len(spikes)} spikes {fixture['spike_counts'] if len(ids) <= 8 else ''}"
              f" | max|dv| {v_err:.2e} mV"
              f" | margin {margin:.3g} mV")
    return fixture


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(SEMANTICS))
    ap.add_argument("--out", default=OUT_DIR, help="output directory (default %(default)s)")
    ap.add_argument("--only", nargs="*", metavar="NAME", help="only these networks")
    ap.add_argument("--list", action="store_true", help="list the network names and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(NETWORKS))
        return 0
    names = args.only or list(NETWORKS)
    unknown = [n for n in names if n not in NETWORKS]
    if unknown:
        ap.error(f"unknown network(s): {', '.join(unknown)}")
    warnings.filterwarnings("ignore", category=FutureWarning)
    for name in names:
        generate(name, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
