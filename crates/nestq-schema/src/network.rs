//! The network file, version 1 (`docs/network-format.md`; read by
//! `nestq::neural::Network::from_value`): LIF neurons, delta synapses, external inputs and NEST
//! bridges. Units: ms, mV, nA, MΩ (so R·I is in mV); ω in rad/ms; rates in 1/ms; β in 1/mV;
//! Poisson rates in Hz.

use crate::{some, Comments, Complex, Matrix, Version1};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::borrow::Cow;

/// A nestq network file, version 1: leaky integrate-and-fire neurons, delta synapses, external
/// inputs and NEST bridges (two-qubit open quantum systems coupling pairs of neurons)
/// (docs/network-format.md). Units: ms, mV, nA, MΩ; ω in rad/ms; rates in 1/ms. At least one
/// neuron (in `neurons` or `groups`) is required.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(title = "NetworkFile")]
#[schemars(extend("additionalProperties" = false))]
pub struct NetworkFile {
    /// Format version; optional, and `1` is the only value accepted.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Version1")]
    pub version: Option<Version1>,
    /// Free text (not read by the engine).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "String")]
    pub name: Option<String>,
    /// Free text (not read by the engine).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "String")]
    pub description: Option<String>,
    /// Time step dt (ms, > 0, ≤ τ_m/2 of every neuron).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub dt: f64,
    /// Run length (ms, > 0); the run takes round(duration/dt) steps (a warning if duration is not
    /// a multiple of dt).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub duration: f64,
    /// Single neurons.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<Neuron>")]
    pub neurons: Option<Vec<Neuron>>,
    /// Neuron groups (members `id[0]`, `id[1]`, …).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<Group>")]
    pub groups: Option<Vec<Group>>,
    /// Delta synapses, explicit or generated.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<Synapse>")]
    pub synapses: Option<Vec<Synapse>>,
    /// NEST bridges.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<Bridge>")]
    pub bridges: Option<Vec<Bridge>>,
    /// External inputs.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<Input>")]
    pub inputs: Option<Vec<Input>>,
    /// What to record.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Recording")]
    pub record: Option<Recording>,
    /// Integrator of the bridges (default `expm`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "BridgeMethod")]
    pub bridge_method: Option<BridgeMethod>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

impl NetworkFile {
    /// Reads a network file (keys and types only; the engine checks values).
    pub fn from_json_str(text: &str) -> serde_json::Result<NetworkFile> {
        serde_json::from_str(text)
    }
}

/// Integrator that advances the bridges over each network step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BridgeMethod {
    /// Exact propagator e^(𝓛(γ)·dt) of the 16×16 generator (Padé), re-used while γ is unchanged
    /// (default).
    Expm,
    /// Strang splitting e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2) with every factor exact: second order in
    /// dt, completely positive for `hamiltonian` and `cp`; the fast method for large networks.
    Split,
    /// One classical RK4 step of size dt (a warning when ‖𝓛‖·dt > 2.5).
    Rk4,
}

/// The parameters of a leaky integrate-and-fire neuron (ms, mV, MΩ, nA). `T` is a number for a
/// single neuron and a per-member value for a group.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(bound = "T: Deserialize<'de>")]
pub struct LifParams<T> {
    /// Membrane time constant τ_m (ms, > 0, ≥ 2·dt).
    pub tau_m: T,
    /// Resting potential V_rest (mV).
    pub v_rest: T,
    /// Reset potential V_reset (mV, < v_th).
    pub v_reset: T,
    /// Threshold V_th (mV); V ≥ V_th after an update is a spike.
    pub v_th: T,
    /// Membrane resistance R_m (MΩ, ≥ 0).
    pub r_m: T,
    /// Refractory period t_ref (ms, ≥ 0, default 0), counted as floor(t_ref/dt + 1e-3) whole
    /// steps (Brian2's rule; a warning if off the grid).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "T")]
    pub t_ref: Option<T>,
    /// Constant external current I_ext (nA, default 0).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "T")]
    pub i_ext: Option<T>,
    /// Initial potential V(0) (mV, < v_th, default v_rest).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "T")]
    pub v0: Option<T>,
}

/// A single LIF neuron.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Neuron {
    /// Unique, non-empty id (used by synapses, bridges, inputs and record).
    pub id: String,
    /// LIF parameters (numbers).
    #[serde(flatten)]
    pub lif: LifParams<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// A group of `n` LIF neurons with ids `id[0]` … `id[n−1]`; every LIF parameter may vary per
/// member. A group id stands for all its members in synapses, inputs and record.v.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Group {
    /// Unique, non-empty id.
    pub id: String,
    /// Number of members (1 ≤ n ≤ 10⁸).
    #[schemars(range(min = 1, max = 100_000_000))]
    pub n: u64,
    /// LIF parameters (each a number, one number per member, or a seeded distribution).
    #[serde(flatten)]
    pub lif: LifParams<PerMember>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// A per-member value of a group field: a number (every member), an array with one number per
/// member, or a seeded distribution.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PerMember {
    /// The same value for every member.
    Number(f64),
    /// One value per member (length n).
    List(Vec<f64>),
    /// Member m takes the m-th draw of the distribution.
    Dist(Distribution),
}

/// A seeded distribution: value m (member m of a group, or the m-th synapse created) is the
/// m-th draw of the xoshiro256** stream seeded with `seed` (through SplitMix64).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Distribution {
    /// Uniform on [lo, hi].
    Uniform(UniformDist),
    /// Normal with mean and standard deviation (Box–Muller transform of two uniforms).
    Normal(NormalDist),
}

/// `{"uniform": [lo, hi], "seed": s}`: Uniform(lo, hi).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct UniformDist {
    /// `[lo, hi]`, hi ≥ lo.
    pub uniform: [f64; 2],
    /// Seed of the xoshiro256** stream.
    pub seed: u64,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// `{"normal": [mean, sd], "seed": s}`: Normal(mean, sd²).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct NormalDist {
    /// `[mean, sd]`, sd ≥ 0.
    pub normal: [f64; 2],
    /// Seed of the xoshiro256** stream.
    pub seed: u64,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Delta synapses from `pre` to `post`: all pairs, pairs drawn with probability `p`, or explicit
/// member pairs `i`, `j`. Self-connections are never made (an explicit one is an error).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("dependentRequired" = serde_json::json!({"p": ["seed"], "i": ["j"], "j": ["i"]})))]
#[schemars(extend("additionalProperties" = false))]
pub struct Synapse {
    /// Presynaptic neuron or group id.
    pub pre: String,
    /// Postsynaptic neuron or group id.
    pub post: String,
    /// Jump of the postsynaptic V (mV, any sign).
    pub weight: SynapseWeight,
    /// Delay (ms, ≥ 0), counted as round(delay/dt) steps (0: delivered in the spike's own step).
    #[schemars(range(min = 0))]
    pub delay: f64,
    /// Connection probability per ordered pair (in [0, 1], default 1: all pairs); needs `seed`.
    /// Not with `i`/`j`.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0, max = 1))]
    pub p: Option<f64>,
    /// Seed of the xoshiro256** stream that draws the connections (required with `p`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub seed: Option<u64>,
    /// Explicit pairs: member indices into `pre` (0-based; a single neuron is a group of one),
    /// paired with `j`.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<u64>")]
    pub i: Option<Vec<u64>>,
    /// Explicit pairs: member indices into `post`, one per entry of `i`.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<u64>")]
    pub j: Option<Vec<u64>>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Synaptic weight (mV): a number, one number per explicit pair (needs `i`, `j`), or a seeded
/// distribution drawn once per created synapse in creation order.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SynapseWeight {
    /// Every synapse.
    Number(f64),
    /// One weight per explicit pair.
    List(Vec<f64>),
    /// Drawn per created synapse.
    Dist(Distribution),
}

/// A value for both qubits of a bridge, or `[for neurons[0], for neurons[1]]`.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Pair {
    /// The same value for both.
    Both(f64),
    /// One value per qubit.
    Each([f64; 2]),
}

/// A NEST bridge: two qubits attached to `neurons[0]` (qubit 0, leftmost tensor factor) and
/// `neurons[1]` (qubit 1), with dρ/dt = −i[H, ρ] + κ_i D[σ−⁽⁰⁾]ρ + κ_k D[σ−⁽¹⁾]ρ + (coupling),
/// H = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾, γ(t) = γ₀ exp(−β|V_i − V_k|), and read-out currents
/// I_q = α Tr(ρ M) into each neuron.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Bridge {
    /// The two single neurons `[i, k]` (ids, different; a group member is `"h[3]"`).
    pub neurons: [String; 2],
    /// ω_i, ω_k (rad/ms): H = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾.
    pub omega: Pair,
    /// γ₀: rad/ms for `hamiltonian` coupling, a rate (1/ms, ≥ 0) for `paper` and `cp`.
    pub gamma0: f64,
    /// β (1/mV, ≥ 0, default 0: constant γ = γ₀).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub beta: Option<f64>,
    /// κ_i, κ_k (1/ms, ≥ 0, default 0): jumps √κ σ− on each qubit.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Pair")]
    pub kappa: Option<Pair>,
    /// α_i, α_k (nA, default 0: no read-out current): I_q = α Tr(ρ M).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Pair")]
    pub alpha: Option<Pair>,
    /// Coupling form (default `hamiltonian`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Coupling")]
    pub coupling: Option<Coupling>,
    /// Read-out operator M (default `X`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Readout")]
    pub measure: Option<Readout>,
    /// Initial two-qubit state (default `{"basis": [0, 0]}`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "BridgeInitial")]
    pub initial: Option<BridgeInitial>,
    /// Kick angle θ (rad, default 0): when a bridged neuron spikes, ρ ← UρU† with
    /// U = exp(−iθσx/2) on its qubit (θ = π maps |0⟩ to |1⟩).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64")]
    pub spike_kick: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// How the two qubits of a bridge are coupled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Coupling {
    /// H += γ(t) σx⁽⁰⁾σx⁽¹⁾ (γ₀ in rad/ms; default).
    Hamiltonian,
    /// The NEST paper's modified-Lindblad cross terms γ(t)(X0ρX1 − ½{X1X0, ρ}) + (1,0) partner;
    /// not completely positive (reported in the result's warnings).
    Paper,
    /// `paper` plus its CP completion: γ(t) D[X0 + X1].
    Cp,
}

/// Read-out operator M of the bridge qubits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Readout {
    /// σx.
    X,
    /// σz.
    Z,
}

/// Initial two-qubit state of a bridge: an object with exactly one of `basis`, `product`, `ket`,
/// `dm`, `bell` (qubit 0 leftmost; complex numbers as a number or `[re, im]`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BridgeInitial {
    /// Basis indices `[b0, b1]`, each 0 or 1 (0 is the +1 eigenstate of σz).
    Basis([u64; 2]),
    /// Product state `[[a0, a1], [c0, c1]]`, each qubit's amplitudes normalised.
    Product([[Complex; 2]; 2]),
    /// Two-qubit state vector (4 amplitudes, normalised).
    Ket([Complex; 4]),
    /// 4×4 density matrix (Hermitian, trace 1, positive semidefinite to 1e-10).
    Dm(Matrix),
    /// A Bell state.
    Bell(BellState),
}

/// A Bell state: Φ± = (|00⟩ ± |11⟩)/√2, Ψ± = (|01⟩ ± |10⟩)/√2; `true` means Φ⁺.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BellState {
    /// By name.
    Name(BellName),
    /// `true`: Φ⁺.
    True(True),
}

/// The name of a Bell state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum BellName {
    /// Φ⁺ = (|00⟩ + |11⟩)/√2.
    #[serde(rename = "phi+")]
    PhiPlus,
    /// Φ⁻ = (|00⟩ − |11⟩)/√2.
    #[serde(rename = "phi-")]
    PhiMinus,
    /// Ψ⁺ = (|01⟩ + |10⟩)/√2.
    #[serde(rename = "psi+")]
    PsiPlus,
    /// Ψ⁻ = (|01⟩ − |10⟩)/√2.
    #[serde(rename = "psi-")]
    PsiMinus,
}

/// The JSON value `true` (and nothing else).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct True;

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if bool::deserialize(d)? {
            Ok(True)
        } else {
            Err(de::Error::custom("expected true"))
        }
    }
}

impl JsonSchema for True {
    fn schema_name() -> Cow<'static, str> {
        "True".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "boolean", "const": true })
    }
}

/// An external input, by `kind`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Input {
    /// A constant current added to I_ext.
    Constant(ConstantInput),
    /// Poisson spike trains: each step draws a Poisson(rate_hz·dt/1000) count c and adds
    /// c·weight to V.
    Poisson(PoissonInput),
    /// Given spike times.
    Spikes(SpikesInput),
}

/// `{"kind": "constant"}`: a constant current (nA) added to I_ext of every target.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct ConstantInput {
    /// Target neuron or group id (a group input drives every member).
    pub neuron: String,
    /// Current (nA).
    pub current: f64,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// `{"kind": "poisson"}`: independent Poisson spike trains, one xoshiro256** stream per target
/// (member m of a group uses the stream of `seed` jumped m times).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct PoissonInput {
    /// Target neuron or group id (a group input drives every member).
    pub neuron: String,
    /// Rates (Hz; per-step mean rate_hz·dt/1000 ≤ 100).
    pub rate_hz: PoissonRates,
    /// Time each rate frame is presented (ms, > 0; required with more than one frame): frame f
    /// during steps [f·P, (f+1)·P), P = round(present/dt); after the last frame the input is
    /// silent.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub present: Option<f64>,
    /// Jump of V per event (mV).
    pub weight: f64,
    /// Seed of the xoshiro256** streams.
    pub seed: u64,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Poisson rates (Hz, ≥ 0): a number (every target), an array with one rate per target, or an
/// array of frames (each a number or one rate per target; the first frame an array) presented in
/// turn for `present` ms each.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PoissonRates {
    /// One rate for every target, for the whole run.
    Number(f64),
    /// One rate per target, for the whole run.
    PerTarget(Vec<f64>),
    /// Frames presented in turn.
    Frames(RateFrames),
}

/// Rate frames: an array whose first entry is an array (this is how the engine tells frames from
/// a per-target array); each frame is a number (every target) or one rate per target.
#[derive(Clone, Debug)]
pub struct RateFrames(pub Vec<RateFrame>);

/// One rate frame: a number (every target) or one rate per target (Hz).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RateFrame {
    /// Every target.
    Number(f64),
    /// One rate per target.
    PerTarget(Vec<f64>),
}

impl<'de> Deserialize<'de> for RateFrames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let frames = Vec::<RateFrame>::deserialize(d)?;
        match frames.first() {
            Some(RateFrame::PerTarget(_)) => Ok(RateFrames(frames)),
            _ => Err(de::Error::custom("rate frames: the first frame must be an array")),
        }
    }
}

impl JsonSchema for RateFrames {
    fn schema_name() -> Cow<'static, str> {
        "RateFrames".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Rate frames presented in turn: an array whose first entry is an array (one rate per target); later frames are a number (every target) or one rate per target.",
            "type": "array",
            "prefixItems": [g.subschema_for::<Vec<f64>>()],
            "items": g.subschema_for::<RateFrame>(),
            "minItems": 1
        })
    }
}

/// `{"kind": "spikes"}`: given spike times; time t delivers `weight` at step
/// floor(t/dt + 1e-3) (Brian2's SpikeGeneratorGroup rule); times at or after the end of the run
/// are not delivered.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct SpikesInput {
    /// Target neuron or group id (a group input drives every member).
    pub neuron: String,
    /// Spike times (ms, ≥ 0; duplicates add up).
    pub times: Vec<f64>,
    /// Jump of V per event (mV).
    pub weight: f64,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// What to record.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Recording {
    /// Neuron or group ids whose V is recorded (default none).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<String>")]
    pub v: Option<Vec<String>>,
    /// Record the spike list (default `true`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub spikes: Option<bool>,
    /// Record ⟨M⟩ of both qubits, γ and the concurrence of every bridge (default `true`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub bridge_expect: Option<bool>,
    /// Sample every `every` steps (≥ 1, default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub every: Option<u64>,
    /// Synchrony report of every bridge's two neurons (off when absent).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Synchrony")]
    pub synchrony: Option<Synchrony>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Synchrony of every bridge's pair over the run: the van Rossum distance at `tau` and Kistler's
/// coincidence factor at precision `delta`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Synchrony {
    /// Time constant τ of the van Rossum distance (ms, > 0, default 10).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub tau: Option<f64>,
    /// Coincidence window Δ (ms, ≥ 0, default 2).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub delta: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}
