//! Maximal documents: valid files that use every key of the formats between them.

use serde_json::{json, Value};

pub fn model_dense() -> Value {
    json!({
        "version": 1, "name": "maximal dense model", "description": "every key a dense model can have",
        "dims": [2, 3],
        "operators": {"LAM": [[0, 1, 0], [0, 0, 1], [0, 0, 0]]},
        "parameters": {"w": 1.0, "g": 0.1},
        "hamiltonian": [
            {"coef": [0.5, 0], "ops": "Z0", "modulation": {"cos": {"omega": "w", "phase": 0.1}}},
            {"coef": "g", "ops": "N1"}
        ],
        "jumps": [{"rate": "g", "ops": "SM0", "modulation": {"exp": {"rate": 0.1}}}],
        "cross": [{"rate": 0.05, "a": "LAM1", "b": "LAM1", "modulation": {"exp": {"rate": "g"}}}],
        "cp_completion": true,
        "initial": {"basis": [0, 0]},
        "times": {"start": 0, "stop": 1, "count": 3},
        "observables": {"z": "Z0"},
        "measures": ["purity", "entropy:1"],
        "solver": {"method": "dopri5", "rtol": 1e-6, "atol": 1e-8, "dt": 0.1, "max_steps": 100000, "renormalize": false,
                   "memory_budget_mb": 100, "krylov_dim": 4, "physicality": true, "timeout": 60}
    })
}

pub fn model_mpo() -> Value {
    json!({
        "dims": [2, 2, 2],
        "hamiltonian": [{"coef": 1, "ops": "X0 X1"}, {"coef": 1, "ops": "Z2"}],
        "jumps": [{"rate": 0.1, "ops": "SM1"}],
        "initial": {"product": [[1, 0], [0, 1], [1, [0, 1]]]},
        "times": [0, 0.5],
        "solver": {"method": "mpo", "dt": 0.1, "chi_max": 8, "chi_min": 1, "cutoff": 1e-10, "order": 4, "trotter_check": false,
                   "rtol": 1e-6, "atol": 1e-8, "max_steps": 1000, "renormalize": true, "memory_budget_mb": 10, "krylov_dim": 4, "physicality": true}
    })
}

pub fn model_mc() -> Value {
    json!({
        "dims": [2],
        "hamiltonian": [{"coef": 0.5, "ops": "X0"}],
        "jumps": [{"rate": 0.1, "ops": "SM0"}],
        "initial": {"basis": [0]},
        "times": [0, 0.5, 1],
        "observables": {"Z0": "Z0"},
        "solver": {"method": "mcsolve", "ntraj": 8, "seed": 1, "target_tol": [0.01, 0.001], "improved_sampling": true, "keep_runs_results": true,
                   "norm_tol": 1e-5, "rtol": 1e-6, "atol": 1e-8, "max_steps": 1000, "memory_budget_mb": 10, "timeout": 60}
    })
}

pub fn model_sme() -> Value {
    json!({
        "dims": [2],
        "hamiltonian": [{"coef": 0.5, "ops": "X0"}],
        "jumps": [{"rate": 0.1, "ops": "SM0"}, {"rate": 0.05, "ops": "Z0"}],
        "initial": {"basis": [0]},
        "times": [0, 0.5, 1],
        "observables": {"Z0": "Z0"},
        "solver": {"method": "smesolve", "ntraj": 8, "seed": 1, "target_tol": 0.01, "keep_runs_results": true,
                   "sc_ops": [{"jump": 0, "efficiency": 0.5}, 1], "heterodyne": true, "sde_method": "milstein", "store_measurement": "middle",
                   "dt": 0.01, "rtol": 1e-6, "atol": 1e-8, "max_steps": 1000, "memory_budget_mb": 10, "timeout": 60, "physicality": true}
    })
}

pub fn model_sme_experiment() -> Value {
    json!({
        "dims": [2],
        "hamiltonian": [{"coef": 0.5, "ops": "X0"}],
        "jumps": [{"rate": 0.1, "ops": "SM0"}],
        "initial": {"basis": [0]},
        "times": [0, 0.5, 1],
        "observables": {"Z0": "Z0"},
        "solver": {"method": "ssesolve", "ntraj": 1, "from_experiment": {"dW": [[0.1, -0.2]]}, "sde_method": "euler"}
    })
}

pub fn network_full() -> Value {
    json!({
        "version": 1, "name": "maximal network", "description": "every key a network can have",
        "dt": 0.1, "duration": 5,
        "neurons": [
            {"id": "a", "tau_m": 20, "v_rest": -65, "v_reset": -70, "v_th": -50, "r_m": 10, "t_ref": 2, "i_ext": 0.5, "v0": -60},
            {"id": "b", "tau_m": 20, "v_rest": -65, "v_reset": -70, "v_th": -50, "r_m": 10}
        ],
        "groups": [{"id": "g", "n": 3, "tau_m": [20, 20, 20], "v_rest": -65, "v_reset": -70, "v_th": -50, "r_m": 10, "t_ref": 0,
                    "i_ext": {"uniform": [0.1, 0.2], "seed": 1}, "v0": {"normal": [-65, 1], "seed": 2}}],
        "synapses": [
            {"pre": "a", "post": "b", "weight": 0.5, "delay": 1},
            {"pre": "g", "post": "g", "p": 0.5, "seed": 3, "weight": {"normal": [0.5, 0.1], "seed": 4}, "delay": 0.5},
            {"pre": "g", "post": "a", "i": [0, 1], "j": [0, 0], "weight": [0.1, 0.2], "delay": 0},
            {"pre": "a", "post": "g", "weight": {"uniform": [0.1, 0.2], "seed": 6}, "delay": 1}
        ],
        "bridges": [{"neurons": ["a", "b"], "omega": [1, 1], "gamma0": 0.1, "beta": 0.1, "kappa": 0.05, "alpha": [0.3, 0.3],
                     "coupling": "cp", "measure": "Z", "initial": {"bell": "psi+"}, "spike_kick": 0.5}],
        "inputs": [
            {"neuron": "a", "kind": "constant", "current": 1.0},
            {"neuron": "g", "kind": "poisson", "rate_hz": [[10, 20, 30], 5], "present": 1, "weight": 1, "seed": 5},
            {"neuron": "b", "kind": "spikes", "times": [1, 2.5], "weight": 2}
        ],
        "record": {"v": ["a", "g"], "spikes": true, "bridge_expect": true, "every": 2, "synchrony": {"tau": 10, "delta": 2}},
        "bridge_method": "split"
    })
}

pub fn training_recall() -> Value {
    json!({
        "version": 1, "seed": 1,
        "task": {"kind": "delayed_recall", "symbols": 2, "cue_steps": 2, "delay_steps": 2, "recall_steps": 2, "noise": 0, "train": 4, "test": 2},
        "network": {
            "n_hidden": 8, "dt": 1,
            "neuron": {"tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10, "t_ref": 0},
            "recurrent": {"radius": 1},
            "links": {"kind": "bridge", "pairs": "antipodal", "count": 2, "coupling": "hamiltonian", "measure": "Z", "initial": "00",
                      "substeps": 2, "gamma_max": 1, "init": {"omega": 1, "kappa": 0.05, "gamma0": 0.1, "beta": 0.1, "alpha": 0.3}},
            "readout": {"tau": 20, "from_step": 5},
            "surrogate": {"kind": "fast_sigmoid", "slope": 10},
            "init": {"w_in": 4, "w_rec": 2, "w_out": 1, "bias": 1.2}
        },
        "optimizer": {"kind": "adam", "lr_classical": 0.01, "lr_quantum": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                      "weight_decay_classical": 0, "weight_decay_quantum": 0, "clip_norm": 1},
        "epochs": 1, "batch_size": 2, "early_stopping": {"patience": 3, "min_delta": 0}, "mi_every": 5
    })
}

pub fn training_mnist() -> Value {
    json!({
        "task": {"kind": "mnist_rows", "steps_per_row": 1, "gain": 1, "train": 10, "test": 10, "data": "mnist.json"},
        "network": {"links": {"kind": "skip", "pairs": [[0, 16]]}},
        "optimizer": {"clip_norm": false},
        "early_stopping": null
    })
}

