//! The model file, version 1 (`docs/model-format.md`; read by `nestq::Model::from_value`).
//!
//! Conventions: site 0 is the leftmost tensor factor (QuTiP's `tensor` order); qubit basis
//! state 0 is the +1 eigenstate of Z; ħ = 1 and no units are imposed (times are in the inverse
//! unit of the coefficients and rates).

use crate::{some, Comments, Complex, Matrix, Version1};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A nestq model file, version 1: a Lindblad (GKSL) master equation on a chain of sites, its
/// initial state, output times, observables, measures and solver options
/// (docs/model-format.md).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(title = "ModelFile")]
#[schemars(extend("additionalProperties" = false))]
pub struct ModelFile {
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
    /// Local dimension of each site (integers ≥ 2; at least one site), e.g. `[2, 2]`. Site 0 is
    /// the leftmost tensor factor: the global basis index of |i0 i1 … i(N-1)⟩ is
    /// ((i0·d1 + i1)·d2 + …).
    #[schemars(length(min = 1), inner(range(min = 2)))]
    pub dims: Vec<u64>,
    /// Extra local operators by name, each a square matrix (array of rows of complex numbers),
    /// used in operator expressions as NAME<site>, e.g. `{"LAM": [[0,1,0],[0,0,1],[0,0,0]]}` is
    /// `LAM0`. A name consists of letters and `_` only and must not be a built-in name; the
    /// matrix size must equal the dimension of every site it is used on.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "BTreeMap<OperatorName, Matrix>")]
    #[schemars(extend("propertyNames" = operator_name_schema()))]
    pub operators: Option<BTreeMap<OperatorName, Matrix>>,
    /// Named real parameters; any `coef`, `rate`, `omega` or `phase` may give a parameter name
    /// instead of a number (gradients and sweeps vary parameters by name).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "BTreeMap<String, f64>")]
    pub parameters: Option<BTreeMap<String, f64>>,
    /// Hamiltonian terms: H(t) = Σ coef·f(t)·ops.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<HamiltonianTerm>")]
    pub hamiltonian: Option<Vec<HamiltonianTerm>>,
    /// Jump operators: each term is L = √(rate·f(t))·ops, i.e. rate·f(t)·D[ops]ρ with
    /// D[L]ρ = LρL† − ½{L†L, ρ}.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<Jump>")]
    pub jumps: Option<Vec<Jump>>,
    /// Kossakowski cross terms rate·f(t)·(AρB† − ½{B†A, ρ}) (the NEST paper's "modified
    /// Lindblad" terms).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<CrossTerm>")]
    pub cross: Option<Vec<CrossTerm>>,
    /// Add Σ_{b≠a} |Γ_ab| to every diagonal entry Γ_aa of the Kossakowski matrix (Gershgorin
    /// completion), which makes the generator completely positive (default `false`; requires a
    /// Hermitian Γ; not supported by method `mpo`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub cp_completion: Option<bool>,
    /// The initial state.
    pub initial: InitialState,
    /// Output times (model time unit).
    pub times: Times,
    /// Observables by name: an operator expression O whose expectation Tr(ρ(t)·O) is recorded
    /// (complex observables give `[re, im]` pairs in the result).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "BTreeMap<String, OperatorExpr>")]
    pub observables: Option<BTreeMap<String, OperatorExpr>>,
    /// Measures of the state recorded at every output time.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<Measure>")]
    pub measures: Option<Vec<Measure>>,
    /// Solver options.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Solver")]
    pub solver: Option<Solver>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

impl ModelFile {
    /// Reads a model file (keys and types only; the engine checks values).
    pub fn from_json_str(text: &str) -> serde_json::Result<ModelFile> {
        serde_json::from_str(text)
    }
}

/// A real number or the name of an entry of `parameters`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RealOrParam {
    /// A literal.
    Number(f64),
    /// The name of a parameter (an entry of `parameters`).
    Param(String),
}

/// A complex number (a number or `[re, im]`) or the name of an entry of `parameters` (real).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ComplexOrParam {
    /// A literal: a number or `[re, im]`.
    Number(Complex),
    /// The name of a parameter (an entry of `parameters`).
    Param(String),
}

/// A Hamiltonian term coef·f(t)·ops.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct HamiltonianTerm {
    /// Coefficient (energy, ħ = 1): a complex number or a parameter name. The Hamiltonian must
    /// be Hermitian as a whole (a non-Hermitian sum is an error).
    pub coef: ComplexOrParam,
    /// Operator expression, e.g. `"X0 X1"`.
    pub ops: OperatorExpr,
    /// Time profile f(t) (default f = 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Modulation")]
    pub modulation: Option<Modulation>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// A jump L = √(rate·f(t))·ops.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Jump {
    /// Rate (inverse time unit, ≥ 0): a real number or a parameter name.
    pub rate: RealOrParam,
    /// Operator expression, e.g. `"SM0"`.
    pub ops: OperatorExpr,
    /// Time profile f(t) (default f = 1). Only `exp`: a jump rate must stay non-negative, so
    /// `cos` is refused (use a `cross` entry with a = b for a signed rate).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "JumpModulation")]
    pub modulation: Option<JumpModulation>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// A Kossakowski cross term rate·f(t)·(AρB† − ½{B†A, ρ}).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct CrossTerm {
    /// Rate Γ_ab (inverse time unit): a complex number or a parameter name. A cross term without
    /// its conjugate partner (b, a) with rate conj(Γ_ab) does not preserve Hermiticity.
    pub rate: ComplexOrParam,
    /// Operator expression of A.
    pub a: OperatorExpr,
    /// Operator expression of B.
    pub b: OperatorExpr,
    /// Time profile f(t) (default f = 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Modulation")]
    pub modulation: Option<Modulation>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Time profile f(t) multiplying a coefficient or rate: exactly one of `cos` or `exp`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Modulation {
    /// f(t) = cos(omega·t + phase).
    Cos(CosModulation),
    /// f(t) = exp(−rate·t).
    Exp(ExpModulation),
}

/// Time profile f(t) of a jump rate: only `exp` (a jump rate must stay ≥ 0).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JumpModulation {
    /// f(t) = exp(−rate·t).
    Exp(ExpModulation),
}

/// f(t) = cos(omega·t + phase).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct CosModulation {
    /// Angular frequency ω (radians per time unit): a real number or a parameter name.
    pub omega: RealOrParam,
    /// Phase φ (radians, default 0): a real number or a parameter name.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "RealOrParam")]
    pub phase: Option<RealOrParam>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// f(t) = exp(−rate·t).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct ExpModulation {
    /// Decay rate r (inverse time unit): a real number or a parameter name.
    pub rate: RealOrParam,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Initial state: an object with exactly one of `basis`, `product`, `ket`, `dm`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InitialState {
    /// Product of basis states: one basis index per site (0 ≤ index < that site's dimension).
    Basis(Vec<u64>),
    /// Product state: per site, its amplitudes (one complex number per basis state), each
    /// site's vector normalised.
    Product(Vec<Vec<Complex>>),
    /// The full state vector (dimension Π dims; normalised; a zero vector is an error). Needs
    /// the dense state (not with method `mpo` beyond the memory budget).
    Ket(Vec<Complex>),
    /// A density matrix (Π dims square): Hermitian to 1e-10 relative, trace 1 to 1e-10,
    /// smallest eigenvalue ≥ −1e-10. Needs the dense state.
    Dm(Matrix),
}

/// Output times: evenly spaced `{start, stop, count}` (inclusive) or an explicit array.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Times {
    /// Evenly spaced, inclusive.
    Range(TimeRange),
    /// Explicit output times, strictly increasing (at least one).
    #[schemars(extend("minItems" = 1))]
    List(Vec<f64>),
}

/// `count` evenly spaced times from `start` to `stop` inclusive.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct TimeRange {
    /// First output time.
    pub start: f64,
    /// Last output time (> start when count > 1).
    pub stop: f64,
    /// Number of output times (≥ 1; with 1 only `start`).
    #[schemars(range(min = 1))]
    pub count: u64,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Integration method (docs/model-format.md, "Solver").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Pick automatically (default): `dopri5` for time-dependent generators; `expm` for
    /// time-independent ones whose superoperator is at most 256×256 and fits the memory budget;
    /// `cheby` for larger time-independent, Hermiticity-preserving, oscillation-dominated ones
    /// (field of values at least 8× longer along the imaginary axis than along the real one);
    /// `dopri5` otherwise. The choice and its reason are reported in `stats.method` and
    /// `stats.method_reason`.
    Auto,
    /// Classical fixed-step RK4 (needs `dt`).
    Rk4,
    /// Adaptive Dormand–Prince 5(4) with PI step control and dense output.
    Dopri5,
    /// Exact propagator by Padé scaling-and-squaring (time-independent and small only).
    Expm,
    /// Arnoldi exp(𝓛t)v with an a-posteriori error estimate (time-independent only).
    Krylov,
    /// Chebyshev expansion of e^(𝓛τ) on an ellipse enclosing the field of values of 𝓛
    /// (time-independent and Hermiticity-preserving only).
    Cheby,
    /// Alias of `cheby`.
    Chebyshev,
    /// TR-BDF2 (L-stable ESDIRK with a sparse LU of the superoperator) for stiff problems.
    Trbdf2,
    /// Alias of `trbdf2`.
    Stiff,
    /// TEBD on a vectorised matrix-product operator, for long chains (needs `dt`; see
    /// "MPO solver" in docs/model-format.md).
    Mpo,
    /// Quantum-jump (Monte Carlo wave-function) trajectories with QuTiP 5 `mcsolve` semantics
    /// (see "Trajectories: mcsolve" in docs/model-format.md); needs a completely positive
    /// generator.
    Mcsolve,
    /// Diffusive pure-state trajectories (stochastic Schrödinger equation of homodyne or
    /// heterodyne detection of every collapse operator; QuTiP 5 `ssesolve`; see "Diffusive
    /// trajectories" in docs/model-format.md); needs a completely positive generator.
    Ssesolve,
    /// Diffusive density-matrix trajectories (stochastic master equation of homodyne or
    /// heterodyne detection of chosen jumps, `sc_ops`; QuTiP 5 `smesolve`); needs a completely
    /// positive generator.
    Smesolve,
}

/// Solver options. Times are in the model's time unit. The MPO keys (`chi_max`, `chi_min`,
/// `cutoff`, `order`, `trotter_check`) are refused with any method other than `mpo`; the
/// ensemble keys (`ntraj`, `seed`, `target_tol`, `keep_runs_results`) with any method but the
/// trajectory methods `mcsolve`, `ssesolve`, `smesolve`; `improved_sampling` and `norm_tol` with
/// any but `mcsolve`; the diffusive keys (`sc_ops`, `heterodyne`, `sde_method`,
/// `store_measurement`, `from_experiment`) with any but `ssesolve`/`smesolve` (`sc_ops`:
/// `smesolve` only); `rk4` and `mpo` need `dt`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("allOf" = solver_rules()))]
#[schemars(extend("additionalProperties" = false))]
pub struct Solver {
    /// Integration method (default `auto`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Method")]
    pub method: Option<Method>,
    /// Relative tolerance of the adaptive methods (0 < rtol < 1, default 1e-6, QuTiP's).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub rtol: Option<f64>,
    /// Absolute tolerance of the adaptive methods (0 ≤ atol < 1: ρ's entries are at most 1 in
    /// modulus; default 1e-8, QuTiP's).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0), extend("exclusiveMaximum" = 1))]
    pub atol: Option<f64>,
    /// Wall-clock limit of one solve in seconds (> 0; default none). Reaching it fails with
    /// error code `timeout` at `$.solver.timeout`, naming the time reached.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub timeout: Option<f64>,
    /// Fixed step (> 0, model time unit): the step of `rk4` (the last step of each output
    /// interval is shortened to land on the output time), the Trotter step of `mpo` and the
    /// step of `ssesolve`/`smesolve` (default 0.001, QuTiP's; each output interval is divided
    /// into ⌈Δt/dt⌉ equal steps, so the steps taken are ≤ dt).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub dt: Option<f64>,
    /// Largest number of steps in total (default 10⁷).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub max_steps: Option<u64>,
    /// After every step replace ρ by (ρ+ρ†)/(2 Tr ρ) (`mpo`: divide by the trace); default
    /// `false`: it hides integration error, and is reported as a warning.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub renormalize: Option<bool>,
    /// Largest dense object in MiB (> 0, default 2048); larger ones are refused before they are
    /// allocated.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0))]
    pub memory_budget_mb: Option<f64>,
    /// Arnoldi subspace dimension of `krylov` (≥ 2, default 16).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 2))]
    pub krylov_dim: Option<u64>,
    /// Compute trace drift, Hermiticity error and the smallest eigenvalue of ρ at every output
    /// time (default `true`; an O(n³) eigenvalue problem per output; `mpo`: trace drift only).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub physicality: Option<bool>,
    /// `mpo` only: largest bond dimension χ kept after every SVD (≥ 1, default 64).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub chi_max: Option<u64>,
    /// `mpo` only: smallest bond dimension kept when that many singular values exist
    /// (1 ≤ chi_min ≤ chi_max, default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub chi_min: Option<u64>,
    /// `mpo` only: largest discarded weight per SVD, Σ_discarded s²/Σ s² of the singular values
    /// of the vectorised ρ (relative, Frobenius norm; ≥ 0, default 1e-10; TeNPy's `trunc_cut`).
    /// Not a bound on an observable's error, which can be ‖O‖_F times larger.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0))]
    pub cutoff: Option<f64>,
    /// `mpo` only: Trotter order, 2 (Strang, default) or 4 (Suzuki's fourth-order composition
    /// of Strang steps).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "TrotterOrder")]
    pub order: Option<TrotterOrder>,
    /// `mpo` only: estimate the Trotter error by step doubling at up to 4 checkpoints (default
    /// `true`; reported in `stats.trotter_error`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub trotter_check: Option<bool>,
    /// Trajectory methods: number of trajectories (≥ 1, default 500; the most run with
    /// `target_tol`). With `improved_sampling` it counts the no-jump trajectory (≥ 2).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64", range(min = 1))]
    pub ntraj: Option<u64>,
    /// Trajectory methods: seed of the ensemble (a non-negative integer; trajectory k uses its own
    /// stream derived from it, so results do not depend on the thread count). Default: drawn
    /// from the clock and reported in `trajectories.seed`.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "u64")]
    pub seed: Option<u64>,
    /// Trajectory methods: stop once every observable's standard error is at most `atol` (a number)
    /// or `atol + rtol·|mean|` (`[atol, rtol]`), checked every 16 trajectories; needs at least
    /// one observable.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "TargetTol")]
    pub target_tol: Option<TargetTol>,
    /// `mcsolve` only: compute the no-jump trajectory once and weight it by its probability;
    /// sample the others conditioned on a jump (Abdelhafez et al. 2019; default `false`; needs a
    /// pure initial state).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub improved_sampling: Option<bool>,
    /// Trajectory methods: return every trajectory's expectation values in
    /// `trajectories.runs_expect` (default `false`).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub keep_runs_results: Option<bool>,
    /// `mcsolve` only: relative accuracy of the located jump times, on the squared norm
    /// (0 < norm_tol < 1, default 1e-4).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub norm_tol: Option<f64>,
    /// `smesolve` only: the monitored jumps, each an index into `jumps` (efficiency 1) or
    /// `{"jump": index, "efficiency": η}` (0 ≤ η ≤ 1: the jump is split into a monitored
    /// √η part and an unmonitored √(1−η) part). Default: every collapse operator, η = 1. A
    /// monitored jump must have a non-zero rate and an operator no cross term uses.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "Vec<ScOp>")]
    pub sc_ops: Option<Vec<ScOp>>,
    /// `ssesolve`/`smesolve` only: heterodyne detection (each monitored operator C gives two
    /// channels, C/√2 and −iC/√2, whose currents measure C + C† and −i(C − C†) with noise
    /// factor √2; QuTiP 5's convention). Default `false` (homodyne).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "bool")]
    pub heterodyne: Option<bool>,
    /// `ssesolve`/`smesolve` only: the scheme, `rouchon` (default; positivity-preserving,
    /// strong order 1), `milstein` (strong order 1) or `euler` (Euler–Maruyama, order ½).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "SdeMethod")]
    pub sde_method: Option<SdeMethod>,
    /// `ssesolve`/`smesolve` only: return every trajectory's measurement record and Wiener
    /// increments per output interval (`trajectories.measurement`, `trajectories.dW`), with the
    /// expectation value taken at the interval's end (`true`, `"end"`), start (`"start"`) or
    /// their mean (`"middle"`). Default `false`.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "StoreMeasurement")]
    pub store_measurement: Option<StoreMeasurement>,
    /// `ssesolve`/`smesolve` only: filter one measured record instead of sampling
    /// (QuTiP 5's `run_from_experiment`): `{"dW": [[…], …]}` (Wiener increments) or
    /// `{"measurement": [[…], …]}` (currents, expectation at the interval's start), one array
    /// per channel with one value per output interval; the output times must be evenly spaced
    /// (one step per interval; `dt` is not given) and `ntraj` is 1.
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "FromExperiment")]
    pub from_experiment: Option<FromExperiment>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// `target_tol` of method `mcsolve`: an absolute tolerance, or `[atol, rtol]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TargetTol {
    /// Absolute tolerance on the standard error (≥ 0).
    Abs(#[schemars(range(min = 0))] f64),
    /// `[atol, rtol]` (each ≥ 0, not both 0).
    AbsRel(#[schemars(length(min = 2, max = 2))] Vec<f64>),
}

/// One monitored jump of `smesolve`: an index into `jumps`, or the index with an efficiency.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ScOp {
    /// Index into `jumps` (efficiency 1).
    Index(u64),
    /// Index and detection efficiency.
    WithEfficiency(ScOpEfficiency),
}

/// `{"jump": index, "efficiency": η}`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct ScOpEfficiency {
    /// Index into `jumps`.
    pub jump: u64,
    /// Detection efficiency, 0 ≤ η ≤ 1 (default 1).
    #[serde(default, deserialize_with = "some")]
    #[schemars(with = "f64", range(min = 0, max = 1))]
    pub efficiency: Option<f64>,
    /// Keys beginning with `_` (comments).
    #[serde(flatten)]
    pub comments: Comments,
}

/// Scheme of `ssesolve`/`smesolve`.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SdeMethod {
    /// Euler–Maruyama (strong order ½).
    Euler,
    /// Milstein for commutative noise (strong order 1).
    Milstein,
    /// Rouchon & Ralph 2015: a completely positive map per step (strong order 1).
    Rouchon,
}

/// `store_measurement`: `true` (= `"end"`), `false`, `"start"`, `"middle"` or `"end"`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StoreMeasurement {
    /// `true`: store, expectation at the interval's end; `false`: do not store.
    Flag(bool),
    /// Where in the interval the expectation value is taken.
    At(MeasurementPoint),
}

/// Where in an output interval a stored current takes its expectation value.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MeasurementPoint {
    /// At the start.
    Start,
    /// The mean of start and end.
    Middle,
    /// At the end.
    End,
}

/// A measured record for `from_experiment`: exactly one key, `dW` or `measurement`, each one
/// array of finite numbers per channel with one value per output interval.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub enum FromExperiment {
    /// Wiener increments `dW[channel][interval]`.
    #[serde(rename = "dW")]
    Dw(Vec<Vec<f64>>),
    /// Measured currents `measurement[channel][interval]` (expectation at the interval's start).
    #[serde(rename = "measurement")]
    Measurement(Vec<Vec<f64>>),
}

/// The ensemble keys every trajectory method reads.
pub const ENSEMBLE_KEYS: [&str; 4] = ["ntraj", "seed", "target_tol", "keep_runs_results"];

/// The keys only method `mcsolve` reads.
pub const MC_KEYS: [&str; 2] = ["improved_sampling", "norm_tol"];

/// The keys only methods `ssesolve` and `smesolve` read.
pub const SDE_KEYS: [&str; 5] = ["sc_ops", "heterodyne", "sde_method", "store_measurement", "from_experiment"];

/// The keys only method `mpo` reads.
pub const MPO_KEYS: [&str; 5] = ["chi_max", "chi_min", "cutoff", "order", "trotter_check"];

/// Cross-field rules of `solver` (JSON Schema only; the engine checks them too): `rk4` and
/// `mpo` need `dt`; the MPO keys need `mpo`.
fn solver_rules() -> serde_json::Value {
    let method_is = |m: &str| serde_json::json!({"properties": {"method": {"const": m}}, "required": ["method"]});
    let any_mpo_key: Vec<_> = MPO_KEYS.iter().map(|k| serde_json::json!({"required": [k]})).collect();
    let any_of = |keys: &[&str]| -> Vec<serde_json::Value> { keys.iter().map(|k| serde_json::json!({"required": [k]})).collect() };
    let method_in = |ms: &[&str]| serde_json::json!({"properties": {"method": {"enum": ms}}, "required": ["method"]});
    serde_json::json!([
        {"if": method_is("rk4"), "then": {"required": ["dt"]}},
        {"if": method_is("mpo"), "then": {"required": ["dt"]}, "else": {"not": {"anyOf": any_mpo_key}}},
        {"if": method_in(&["mcsolve", "ssesolve", "smesolve"]), "else": {"not": {"anyOf": any_of(&ENSEMBLE_KEYS)}}},
        {"if": method_is("mcsolve"), "else": {"not": {"anyOf": any_of(&MC_KEYS)}}},
        {"if": method_in(&["ssesolve", "smesolve"]), "else": {"not": {"anyOf": any_of(&SDE_KEYS)}}},
        {"if": method_is("ssesolve"), "then": {"not": {"required": ["sc_ops"]}}}
    ])
}

/// Trotter order of method `mpo`: 2 or 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrotterOrder {
    /// Strang splitting.
    Two,
    /// Suzuki's fourth-order composition.
    Four,
}

impl<'de> Deserialize<'de> for TrotterOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u64::deserialize(d)? {
            2 => Ok(TrotterOrder::Two),
            4 => Ok(TrotterOrder::Four),
            v => Err(de::Error::custom(format!("order must be 2 or 4, got {v}"))),
        }
    }
}

impl JsonSchema for TrotterOrder {
    fn schema_name() -> Cow<'static, str> {
        "TrotterOrder".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "Trotter order of method mpo: 2 (Strang) or 4 (Suzuki).", "type": "integer", "enum": [2, 4] })
    }
}

// ---------------------------------------------------------------- strings with a syntax

/// Built-in local operator names (`nestq::ops::BUILTIN_NAMES`; a test keeps them equal).
pub const BUILTIN_OPERATORS: [&str; 14] = ["I", "X", "Y", "Z", "SP", "SM", "A", "AD", "N", "JX", "JY", "JZ", "JP", "JM"];

fn operator_name_schema() -> serde_json::Value {
    serde_json::json!({ "pattern": OperatorName::PATTERN, "not": { "enum": BUILTIN_OPERATORS } })
}

/// The name of a user operator: letters and `_` only (the site index follows the name in
/// expressions), not a built-in name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OperatorName(pub String);

impl OperatorName {
    /// The schema's pattern.
    pub const PATTERN: &'static str = "^[A-Za-z_]+$";
    /// Whether `s` is a valid user operator name.
    pub fn is_valid(s: &str) -> bool {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic() || c == '_') && !BUILTIN_OPERATORS.contains(&s)
    }
}

impl<'de> Deserialize<'de> for OperatorName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !OperatorName::is_valid(&s) {
            return Err(de::Error::custom(format!("invalid operator name '{s}' (letters and '_' only, not a built-in name)")));
        }
        Ok(OperatorName(s))
    }
}

impl JsonSchema for OperatorName {
    fn schema_name() -> Cow<'static, str> {
        "OperatorName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut s = json_schema!({ "type": "string" });
        for (k, v) in operator_name_schema().as_object().unwrap() {
            s.insert(k.clone(), v.clone());
        }
        s
    }
}

/// An operator expression (see [`OperatorExpr::DESCRIPTION`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorExpr(pub String);

impl OperatorExpr {
    /// The schema's description.
    pub const DESCRIPTION: &'static str = "An operator expression: factors NAME<site> separated by whitespace, multiplied left to right, e.g. \"X0 X1\", \"SM2\", \"AD0 SM1\"; \"\" is the identity. NAME is a built-in operator (I, X, Y, Z, SP, SM: qubits; A, AD, N, JX, JY, JZ, JP, JM: any dimension) or an entry of `operators`; the site index is 0-based.";
    /// The schema's pattern (the syntax of `nestq::ops::parse_expr`).
    pub const PATTERN: &'static str = r"^\s*([A-Za-z_]+[0-9]+(\s+[A-Za-z_]+[0-9]+)*)?\s*$";
    /// Whether `s` is a syntactically valid expression (names and sites are checked by the engine).
    pub fn is_valid(s: &str) -> bool {
        s.split_whitespace().all(|tok| match tok.find(|c: char| c.is_ascii_digit()) {
            Some(i) => {
                let (name, site) = tok.split_at(i);
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic() || c == '_') && site.chars().all(|c| c.is_ascii_digit())
            }
            None => false,
        })
    }
}

impl<'de> Deserialize<'de> for OperatorExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !OperatorExpr::is_valid(&s) {
            return Err(de::Error::custom(format!("invalid operator expression '{s}' (factors NAME<site> separated by spaces)")));
        }
        Ok(OperatorExpr(s))
    }
}

impl JsonSchema for OperatorExpr {
    fn schema_name() -> Cow<'static, str> {
        "OperatorExpr".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": OperatorExpr::DESCRIPTION,
            "type": "string",
            "pattern": OperatorExpr::PATTERN
        })
    }
}

/// A measure (see [`Measure::DESCRIPTION`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measure(pub String);

impl Measure {
    /// The schema's description.
    pub const DESCRIPTION: &'static str = "A measure recorded at every output time: `purity` (Tr ρ²), `trace` (Tr ρ), `entropy` (von Neumann, natural log, whole state), `entropy:i` (of site i's reduced state), `mutual_info:i,j` (S(i)+S(j)−S(ij), natural log), `concurrence:i,j` (Wootters; both sites qubits), `negativity:i,j` ((‖ρ^{T_j}‖₁−1)/2, partial transpose on the second site listed), `log_negativity:i,j` (log₂‖ρ^{T_j}‖₁), `fidelity` (Uhlmann fidelity (Tr√(√ρ₀ρ√ρ₀))² with the initial state). Site indices are 0-based and the two sites of a pair differ. Method `mpo` refuses `entropy` (whole state) and `fidelity`.";
    /// The schema's pattern (the syntax of the engine's measure parser; indices may carry
    /// spaces and a `+`, as Rust's integer parser allows).
    pub const PATTERN: &'static str = r"^(purity|trace|fidelity|entropy|entropy:\s*\+?[0-9]+\s*|(mutual_info|concurrence|negativity|log_negativity):\s*\+?[0-9]+\s*,\s*\+?[0-9]+\s*)$";
    /// Whether `s` is a syntactically valid measure (site ranges are checked by the engine).
    pub fn is_valid(s: &str) -> bool {
        let index = |x: &str| {
            let x = x.trim();
            let digits = x.strip_prefix('+').unwrap_or(x);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        };
        let (name, args) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let sites = |k: usize| args.is_some_and(|a| a.split(',').count() == k && a.split(',').all(index));
        match name {
            "purity" | "trace" | "fidelity" => args.is_none(),
            "entropy" => args.is_none() || sites(1),
            "mutual_info" | "concurrence" | "negativity" | "log_negativity" => sites(2),
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !Measure::is_valid(&s) {
            return Err(de::Error::custom(format!("invalid measure '{s}'")));
        }
        Ok(Measure(s))
    }
}

impl JsonSchema for Measure {
    fn schema_name() -> Cow<'static, str> {
        "Measure".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": Measure::DESCRIPTION,
            "type": "string",
            "pattern": Measure::PATTERN
        })
    }
}
