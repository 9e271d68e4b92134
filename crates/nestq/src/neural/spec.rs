//! Parsing and validation of the network file (version 1, `docs/network-format.md`). Strict:
//! unknown fields are errors (keys starting with `_` are comments, as in model files), and every
//! error names the JSON path of the offending field.

use super::rng::Xoshiro256;
use crate::error::{check_budget, Error, ErrorCode, Result};
use crate::json::{as_arr, as_bool, as_f64, as_obj, as_str, as_u64, check_keys, required};
use crate::model::{parse_complex, parse_matrix, validate_density_matrix};
use crate::C64;
use nalgebra::{DMatrix, DVector};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Parameters of one leaky integrate-and-fire neuron. Units: ms, mV, MΩ, nA (so R·I is in mV).
#[derive(Clone, Debug, PartialEq)]
pub struct LifParams {
    /// Membrane time constant τ_m (ms, > 0, ≥ 2·dt).
    pub tau_m: f64,
    /// Resting potential V_rest (mV).
    pub v_rest: f64,
    /// Reset potential V_reset (mV, < V_th).
    pub v_reset: f64,
    /// Threshold V_th (mV).
    pub v_th: f64,
    /// Membrane resistance R_m (MΩ, ≥ 0).
    pub r_m: f64,
    /// Refractory period t_ref (ms, ≥ 0); counted as `floor(t_ref/dt + 1e-3)` whole steps (Brian2's rule).
    pub t_ref: f64,
    /// Constant external current I_ext (nA).
    pub i_ext: f64,
    /// Initial potential V(0) (mV, < V_th); defaults to V_rest.
    pub v0: f64,
}

/// A delta synapse after expansion of generated connectivity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Synapse {
    /// Presynaptic neuron index.
    pub pre: u32,
    /// Postsynaptic neuron index.
    pub post: u32,
    /// Jump of the postsynaptic V (mV).
    pub weight: f64,
    /// Delay in steps, `round(delay/dt)` (0 = delivered in the spike's own step).
    pub delay_steps: u32,
}

/// How the two qubits of a bridge are coupled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coupling {
    /// `+γ(t) σx⁽⁰⁾σx⁽¹⁾` in the Hamiltonian.
    Hamiltonian,
    /// The NEST paper's modified-Lindblad cross terms `γ(t)(X0ρX1 − ½{X1X0, ρ})` plus the
    /// (1,0) partner; not completely positive (reported once per bridge).
    Paper,
    /// The cross pair plus its CP completion, i.e. `γ(t) D[X0 + X1]`.
    Cp,
}

impl Coupling {
    /// Name in the network file.
    pub fn as_str(self) -> &'static str {
        match self {
            Coupling::Hamiltonian => "hamiltonian",
            Coupling::Paper => "paper",
            Coupling::Cp => "cp",
        }
    }
}

/// Read-out operator M of a bridge qubit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readout {
    /// σx (default).
    X,
    /// σz.
    Z,
}

/// Integrator that advances the bridges over each network step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BridgeMethod {
    /// Exact propagator `e^(𝓛(γ)·dt)` of the 16×16 generator (Padé, `integrate::expm::expm`),
    /// cached while γ is unchanged. Default.
    Expm,
    /// One classical RK4 step of size dt (`integrate::rk4`).
    Rk4,
    /// Strang splitting `e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2)` with each factor exact: `e^(𝓛₀dt/2)` is
    /// the product of two single-qubit channels, and `e^(γ𝓛₁dt)` is diagonal in the σx⊗σx
    /// eigenbasis for all three couplings. Second order in dt (Strang 1968), every factor CPTP for
    /// `hamiltonian` and `cp`; about 20× cheaper than `expm` when γ changes every step.
    Split,
}

impl BridgeMethod {
    /// Name in the network file.
    pub fn as_str(self) -> &'static str {
        match self {
            BridgeMethod::Expm => "expm",
            BridgeMethod::Rk4 => "rk4",
            BridgeMethod::Split => "split",
        }
    }
}

/// A NEST bridge: two qubits attached to neurons `neurons[0]` (qubit 0) and `neurons[1]`
/// (qubit 1). Frequencies in rad/ms, rates in 1/ms, α in nA.
#[derive(Clone, Debug)]
pub struct BridgeSpec {
    /// Neuron indices (i, k), i ≠ k.
    pub neurons: [usize; 2],
    /// ω_i, ω_k (rad/ms): `H = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾ (+ …)`.
    pub omega: [f64; 2],
    /// γ₀ (rad/ms for `hamiltonian`, 1/ms for `paper`/`cp`).
    pub gamma0: f64,
    /// β (1/mV, ≥ 0) of γ(t) = γ₀ e^(−β|V_i − V_k|).
    pub beta: f64,
    /// κ_i, κ_k (1/ms, ≥ 0): jumps `√κ σ−` on each qubit.
    pub kappa: [f64; 2],
    /// α_i, α_k (nA): `I_q = α Tr(ρ M)`.
    pub alpha: [f64; 2],
    /// Coupling form.
    pub coupling: Coupling,
    /// Read-out operator.
    pub measure: Readout,
    /// Initial two-qubit density matrix (4×4, qubit 0 leftmost).
    pub initial: DMatrix<C64>,
    /// Kick angle θ (rad): on a spike of a bridged neuron, `ρ ← UρU†` with `U = e^(−iθσx/2)` on
    /// that neuron's qubit.
    pub spike_kick: f64,
}

/// An external input.
#[derive(Clone, Debug, PartialEq)]
pub enum InputKind {
    /// A constant current (nA) added to I_ext.
    Constant {
        /// Current (nA).
        current: f64,
    },
    /// Poisson spike trains: each step draws a Poisson(rate·dt) count and adds count·weight.
    Poisson {
        /// Rates (Hz = 1/s; the per-step mean is rate_hz·dt/1000): `frames[f][m]` is the rate of
        /// target m (or of every target when the frame has one entry) during frame f.
        rate_hz: Vec<Vec<f64>>,
        /// Steps per frame (`present`/dt, rounded); `None`: a single frame for the whole run.
        /// After the last frame the input is silent.
        present_steps: Option<u64>,
        /// Jump per event (mV).
        weight: f64,
        /// Seed of the xoshiro256** stream (member m of a group uses the stream jumped m times).
        seed: u64,
    },
    /// Given spike times, delivered at step `round(t/dt)`.
    Spikes {
        /// Delivery steps, one per time (duplicates add up).
        steps: Vec<u64>,
        /// Jump per event (mV).
        weight: f64,
    },
}

/// An input and the neurons it drives.
#[derive(Clone, Debug)]
pub struct InputSpec {
    /// Target neuron indices (one neuron or every member of a group).
    pub targets: Vec<usize>,
    /// What it injects.
    pub kind: InputKind,
}

/// What to record.
#[derive(Clone, Debug)]
pub struct RecordSpec {
    /// Neurons whose V is recorded.
    pub v: Vec<usize>,
    /// Record spikes (default true).
    pub spikes: bool,
    /// Record ⟨M⟩, γ and concurrence of every bridge (default true).
    pub bridge_expect: bool,
    /// Sample every `every` steps (≥ 1, default 1).
    pub every: u64,
    /// Synchrony report of every bridge's pair: `(τ, Δ)` in ms of the van Rossum distance and
    /// the coincidence factor (`record.synchrony`; off by default).
    pub synchrony: Option<(f64, f64)>,
}

/// A parsed, validated network file.
#[derive(Clone, Debug)]
pub struct Network {
    /// Step dt (ms).
    pub dt: f64,
    /// Duration (ms).
    pub duration: f64,
    /// Number of steps, `round(duration/dt)`.
    pub steps: u64,
    /// Neuron ids (group members are `g[0]`, `g[1]`, …), in index order.
    pub ids: Vec<String>,
    /// Per-neuron parameters.
    pub params: Vec<LifParams>,
    /// Groups: id and index range.
    pub groups: Vec<(String, std::ops::Range<usize>)>,
    /// Expanded synapses.
    pub synapses: Vec<Synapse>,
    /// Bridges.
    pub bridges: Vec<BridgeSpec>,
    /// Inputs.
    pub inputs: Vec<InputSpec>,
    /// Recording.
    pub record: RecordSpec,
    /// Bridge integrator.
    pub bridge_method: BridgeMethod,
    /// Parse-time warnings (rounding of delays, t_ref, spike times or duration to the grid).
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------- field helpers

fn num(o: &Map<String, Value>, key: &str, path: &str) -> Result<f64> {
    as_f64(required(o, key, path)?, &format!("{path}.{key}"))
}

fn num_or(o: &Map<String, Value>, key: &str, path: &str, default: f64) -> Result<f64> {
    match o.get(key) {
        None => Ok(default),
        Some(v) => as_f64(v, &format!("{path}.{key}")),
    }
}

fn pair(o: &Map<String, Value>, key: &str, path: &str, default: Option<[f64; 2]>) -> Result<[f64; 2]> {
    let p = format!("{path}.{key}");
    let v = match (o.get(key), default) {
        (None, Some(d)) => return Ok(d),
        (None, None) => return Err(Error::model(p, "required field is missing")),
        (Some(v), _) => v,
    };
    if v.is_number() {
        let x = as_f64(v, &p)?;
        return Ok([x, x]);
    }
    let a = as_arr(v, &p)?;
    if a.len() != 2 {
        return Err(Error::model(p, format!("expected two values [for neurons[0], for neurons[1]] (or one number for both), got {}", a.len())));
    }
    Ok([as_f64(&a[0], &format!("{p}[0]"))?, as_f64(&a[1], &format!("{p}[1]"))?])
}

fn nonneg(x: f64, path: &str, what: &str) -> Result<f64> {
    if x < 0.0 {
        return Err(Error::model(path, format!("{what} must be ≥ 0, got {x}")));
    }
    Ok(x)
}

/// `round(x/dt)` as a step count, with a warning when x is not on the grid.
/// How a time is put on the step grid. Brian2 (2.5, checked by
/// scripts/reference/brian2_reference.py) rounds synaptic delays half up (`int(delay/dt + 0.5)`,
/// its compiled spike queue) but truncates refractory periods and spike-generator times
/// (`int(x/dt + 1e-3)`).
#[derive(Clone, Copy)]
pub(crate) enum Grid {
    /// Nearest step (delays, duration).
    Round,
    /// `floor(x/dt + 1e-3)` (t_ref, spike times).
    Truncate,
}

fn to_steps(x: f64, dt: f64, path: &str, warnings: &mut Vec<String>) -> u64 {
    to_steps_with(x, dt, Grid::Round, path, warnings)
}

fn to_steps_with(x: f64, dt: f64, grid: Grid, path: &str, warnings: &mut Vec<String>) -> u64 {
    let r = match grid {
        Grid::Round => (x / dt).round(),
        Grid::Truncate => (x / dt + 1e-3).floor(),
    };
    if (r * dt - x).abs() > 1e-9 * x.abs().max(dt) {
        warnings.push(format!("{path} = {x} ms is not a multiple of dt = {dt} ms; it is rounded to {r} steps = {} ms", r * dt));
    }
    r as u64
}

// ---------------------------------------------------------------- parsing

/// A per-member value of a group field: a number (every member), an array of one number per
/// member, or a seeded distribution `{"uniform": [lo, hi], "seed": s}` /
/// `{"normal": [mean, sd], "seed": s}` (member m takes the m-th draw of the xoshiro256** stream
/// of `s`; normal draws use the Box–Muller transform of two uniforms). Returns the values and
/// whether they vary per member (for error paths `field[m]`).
fn per_member(v: &Value, path: &str, n: usize) -> Result<(Vec<f64>, bool)> {
    match v {
        Value::Number(_) => Ok((vec![as_f64(v, path)?; n], false)),
        Value::Array(a) => {
            if a.len() != n {
                return Err(Error::model(path, format!("{} values given for {n} members (one per member, or one number for all)", a.len())));
            }
            Ok((a.iter().enumerate().map(|(m, x)| as_f64(x, &format!("{path}[{m}]"))).collect::<Result<_>>()?, true))
        }
        Value::Object(o) => Ok((draw_distribution(o, path, n)?, true)),
        _ => Err(Error::model(path, "expected a number, an array with one number per member, or {\"uniform\": [lo, hi], \"seed\": s} / {\"normal\": [mean, sd], \"seed\": s}")),
    }
}

/// A seeded distribution of per-member values or synaptic weights: `Uniform(lo, hi)` or
/// `Normal(mean, sd)` (Box–Muller transform of two uniforms, Box & Muller 1958).
enum Dist {
    Uniform(f64, f64),
    Normal(f64, f64),
}

impl Dist {
    fn sample(&self, r: &mut Xoshiro256) -> f64 {
        match *self {
            Dist::Uniform(lo, hi) => lo + (hi - lo) * r.uniform(),
            Dist::Normal(m, sd) => m + sd * r.normal(),
        }
    }
}

/// Parses `{"uniform": [lo, hi], "seed": s}` or `{"normal": [mean, sd], "seed": s}` into the
/// distribution and the xoshiro256** stream of `s`.
fn parse_dist(o: &Map<String, Value>, path: &str) -> Result<(Dist, Xoshiro256)> {
    check_keys(o, path, &["uniform", "normal", "seed"])?;
    let seed = as_u64(required(o, "seed", path)?, &format!("{path}.seed"))?;
    let two = |key: &str| -> Result<[f64; 2]> {
        let kp = format!("{path}.{key}");
        let a = as_arr(&o[key], &kp)?;
        if a.len() != 2 {
            return Err(Error::model(kp, format!("expected two numbers, got {}", a.len())));
        }
        Ok([as_f64(&a[0], &format!("{kp}[0]"))?, as_f64(&a[1], &format!("{kp}[1]"))?])
    };
    let d = match (o.contains_key("uniform"), o.contains_key("normal")) {
        (true, false) => {
            let [lo, hi] = two("uniform")?;
            if hi < lo {
                return Err(Error::model(format!("{path}.uniform"), format!("upper bound {hi} is below the lower bound {lo}")));
            }
            Dist::Uniform(lo, hi)
        }
        (false, true) => {
            let [mean, sd] = two("normal")?;
            if sd < 0.0 {
                return Err(Error::model(format!("{path}.normal[1]"), format!("a standard deviation must be ≥ 0, got {sd}")));
            }
            Dist::Normal(mean, sd)
        }
        _ => return Err(Error::model(path, "give exactly one of \"uniform\": [lo, hi] or \"normal\": [mean, sd]")),
    };
    Ok((d, Xoshiro256::seed_from_u64(seed)))
}

/// `n` draws of a seeded distribution (see [`parse_dist`]).
fn draw_distribution(o: &Map<String, Value>, path: &str, n: usize) -> Result<Vec<f64>> {
    let (d, mut r) = parse_dist(o, path)?;
    Ok((0..n).map(|_| d.sample(&mut r)).collect())
}

const LIF_KEYS: [&str; 8] = ["tau_m", "v_rest", "v_reset", "v_th", "r_m", "t_ref", "i_ext", "v0"];

/// LIF parameters of `n` members. Single neurons (`per_member = false`) take numbers only;
/// group fields may vary per member (see [`per_member`]). Errors name the member, e.g.
/// `$.groups[0].tau_m[17]`.
fn parse_lif(o: &Map<String, Value>, path: &str, dt: f64, n: usize, allow_per_member: bool) -> Result<Vec<LifParams>> {
    let field = |key: &str, default: Option<f64>| -> Result<(Vec<f64>, bool)> {
        let kp = format!("{path}.{key}");
        match (o.get(key), default) {
            (None, Some(d)) => Ok((vec![d; n], false)),
            (None, None) => Err(Error::model(kp, "required field is missing")),
            (Some(v), _) if allow_per_member => per_member(v, &kp, n),
            (Some(v), _) => Ok((vec![as_f64(v, &kp)?; n], false)),
        }
    };
    let (tau_m, tau_v) = field("tau_m", None)?;
    let (v_rest, rest_v) = field("v_rest", None)?;
    let (v_reset, reset_v) = field("v_reset", None)?;
    let (v_th, th_v) = field("v_th", None)?;
    let (r_m, r_v) = field("r_m", None)?;
    let (t_ref, ref_v) = field("t_ref", Some(0.0))?;
    let (i_ext, _) = field("i_ext", Some(0.0))?;
    let (v0, v0_v) = match o.get("v0") {
        None => (v_rest.clone(), rest_v),
        Some(_) => field("v0", None)?,
    };
    let at = |key: &str, varies: bool, m: usize| if varies { format!("{path}.{key}[{m}]") } else { format!("{path}.{key}") };
    let mut out = Vec::with_capacity(n);
    for m in 0..n {
        let tau = tau_m[m];
        if tau <= 0.0 {
            return Err(Error::model(at("tau_m", tau_v, m), format!("must be positive, got {tau}")));
        }
        if dt > tau / 2.0 {
            return Err(Error::model(at("tau_m", tau_v, m), format!("tau_m = {tau} ms is shorter than 2·dt = {} ms: dt must be ≤ tau_m/2 to resolve the membrane dynamics and spike timing", 2.0 * dt)));
        }
        if v_reset[m] >= v_th[m] {
            let key = if reset_v || !th_v { "v_reset" } else { "v_th" };
            return Err(Error::model(at(key, reset_v || th_v, m), format!("v_reset ({} mV) must be below v_th ({} mV)", v_reset[m], v_th[m])));
        }
        nonneg(r_m[m], &at("r_m", r_v, m), "r_m")?;
        nonneg(t_ref[m], &at("t_ref", ref_v, m), "t_ref")?;
        if v0[m] >= v_th[m] {
            return Err(Error::model(at("v0", v0_v || th_v, m), format!("v0 ({} mV) must be below v_th ({} mV)", v0[m], v_th[m])));
        }
        out.push(LifParams { tau_m: tau, v_rest: v_rest[m], v_reset: v_reset[m], v_th: v_th[m], r_m: r_m[m], t_ref: t_ref[m], i_ext: i_ext[m], v0: v0[m] });
    }
    Ok(out)
}

fn parse_initial(v: Option<&Value>, path: &str) -> Result<DMatrix<C64>> {
    let ket = |a: [f64; 4]| -> DMatrix<C64> {
        let k = DVector::from_iterator(4, a.iter().map(|&x| C64::new(x, 0.0)));
        &k * k.adjoint()
    };
    let Some(v) = v else { return Ok(ket([1.0, 0.0, 0.0, 0.0])) };
    let o = as_obj(v, path)?;
    if o.len() != 1 {
        return Err(Error::model(path, "give exactly one of basis, product, ket, dm, bell"));
    }
    let (k, body) = o.iter().next().unwrap();
    let p = format!("{path}.{k}");
    let normalized = |a: Vec<C64>, p: &str| -> Result<Vec<C64>> {
        let nrm = a.iter().map(|c| c.norm_sqr()).sum::<f64>().sqrt();
        if nrm == 0.0 {
            return Err(Error::model(p, "the state vector is zero and cannot be normalised"));
        }
        Ok(a.into_iter().map(|c| c / nrm).collect())
    };
    let amps: Vec<C64> = match k.as_str() {
        "basis" => {
            let b = as_arr(body, &p)?;
            if b.len() != 2 {
                return Err(Error::model(p, format!("{} basis indices given for 2 qubits", b.len())));
            }
            let mut idx = 0;
            for (s, x) in b.iter().enumerate() {
                let i = as_u64(x, &format!("{p}[{s}]"))?;
                if i > 1 {
                    return Err(Error::model(format!("{p}[{s}]"), format!("basis index {i} is out of range for a qubit (0 or 1)")));
                }
                idx = idx * 2 + i as usize;
            }
            let mut a = vec![C64::new(0.0, 0.0); 4];
            a[idx] = C64::new(1.0, 0.0);
            a
        }
        "product" => {
            let b = as_arr(body, &p)?;
            if b.len() != 2 {
                return Err(Error::model(p, format!("{} site states given for 2 qubits", b.len())));
            }
            let mut out = vec![C64::new(1.0, 0.0)];
            for (s, x) in b.iter().enumerate() {
                let sp = format!("{p}[{s}]");
                let a = as_arr(x, &sp)?;
                if a.len() != 2 {
                    return Err(Error::model(sp, format!("{} amplitudes given for a qubit", a.len())));
                }
                let a: Vec<C64> = a.iter().enumerate().map(|(i, z)| parse_complex(z, &format!("{sp}[{i}]"))).collect::<Result<_>>()?;
                let a = normalized(a, &sp)?;
                out = out.iter().flat_map(|x| a.iter().map(move |y| x * y)).collect();
            }
            out
        }
        "ket" => {
            let b = as_arr(body, &p)?;
            if b.len() != 4 {
                return Err(Error::model(p, format!("ket has {} amplitudes; two qubits need 4", b.len())));
            }
            let a: Vec<C64> = b.iter().enumerate().map(|(i, z)| parse_complex(z, &format!("{p}[{i}]"))).collect::<Result<_>>()?;
            normalized(a, &p)?
        }
        "dm" => {
            let m = parse_matrix(body, &p)?;
            if m.nrows() != 4 {
                return Err(Error::model(p, format!("density matrix is {}×{}; two qubits need 4×4", m.nrows(), m.nrows())));
            }
            validate_density_matrix(&m, &p)?;
            return Ok(m);
        }
        "bell" => {
            let s = std::f64::consts::FRAC_1_SQRT_2;
            let name = match body {
                Value::Bool(true) => "phi+",
                _ => as_str(body, &p)?,
            };
            let a = match name {
                "phi+" => [s, 0.0, 0.0, s],
                "phi-" => [s, 0.0, 0.0, -s],
                "psi+" => [0.0, s, s, 0.0],
                "psi-" => [0.0, s, -s, 0.0],
                other => return Err(Error::model(p, format!("unknown Bell state '{other}' (phi+, phi-, psi+, psi-)"))),
            };
            return Ok(ket(a));
        }
        other => return Err(Error::model(p, format!("unknown initial-state form '{other}' (basis, product, ket, dm, bell)"))),
    };
    let k = DVector::from_vec(amps);
    Ok(&k * k.adjoint())
}

/// Resolves a neuron or group name to neuron indices.
struct Names {
    map: HashMap<String, (Vec<usize>, bool)>,
}

impl Names {
    fn resolve(&self, v: &Value, path: &str) -> Result<(&[usize], bool)> {
        let s = as_str(v, path)?;
        match self.map.get(s) {
            Some((ix, is_group)) => Ok((ix.as_slice(), *is_group)),
            None => Err(Error::model(path, format!("unknown neuron or group id '{s}'"))),
        }
    }
    fn neuron(&self, v: &Value, path: &str) -> Result<usize> {
        let (ix, is_group) = self.resolve(v, path)?;
        if is_group {
            return Err(Error::model(path, format!("'{}' is a group; a single neuron id is required here", v.as_str().unwrap_or(""))));
        }
        Ok(ix[0])
    }
}

/// Synaptic weights of one `synapses` entry: a number, one per explicit pair, or drawn per created
/// synapse (in creation order) from a seeded distribution.
enum Weights {
    Const(f64),
    List(Vec<f64>),
    Dist(Dist, Xoshiro256),
}

impl Weights {
    fn get(&mut self, k: usize) -> f64 {
        match self {
            Weights::Const(w) => *w,
            Weights::List(w) => w[k],
            Weights::Dist(d, r) => d.sample(r),
        }
    }
}

/// Upper bound on the number of stored synapses (16 bytes each), checked against 2 GiB.
const SYNAPSE_BUDGET: u128 = 2048 * 1024 * 1024;

impl Network {
    /// Parses a network from JSON text.
    pub fn from_json_str(text: &str) -> Result<Network> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error { code: ErrorCode::Parse, path: Some("$".into()), message: format!("invalid JSON: {e}") })?;
        Network::from_value(&v)
    }

    /// Parses a network from a JSON value.
    pub fn from_value(v: &Value) -> Result<Network> {
        let root = as_obj(v, "$")?;
        check_keys(root, "$", &[
            "version", "name", "description", "dt", "duration", "neurons", "groups", "synapses", "bridges", "inputs", "record", "bridge_method",
        ])?;
        if let Some(ver) = root.get("version") {
            if ver.as_u64() != Some(1) {
                return Err(Error::model("$.version", format!("unsupported network-file version {ver} (this build reads version 1)")));
            }
        }
        let mut warnings = Vec::new();
        let dt = num(root, "dt", "$")?;
        if dt <= 0.0 {
            return Err(Error::model("$.dt", format!("must be positive, got {dt}")));
        }
        let duration = num(root, "duration", "$")?;
        if duration <= 0.0 {
            return Err(Error::model("$.duration", format!("must be positive, got {duration}")));
        }
        let steps_f = (duration / dt).round();
        if steps_f < 1.0 {
            return Err(Error::model("$.duration", format!("duration {duration} ms is shorter than one step (dt = {dt} ms)")));
        }
        if steps_f > 1e12 {
            return Err(Error::model("$.duration", format!("duration/dt = {steps_f:.3e} steps is more than 10¹²")));
        }
        let steps = to_steps(duration, dt, "$.duration", &mut warnings);
        let bridge_method = match root.get("bridge_method") {
            None => BridgeMethod::Expm,
            Some(m) => match as_str(m, "$.bridge_method")? {
                "expm" => BridgeMethod::Expm,
                "rk4" => BridgeMethod::Rk4,
                "split" => BridgeMethod::Split,
                other => return Err(Error::model("$.bridge_method", format!("unknown bridge method '{other}' (expm, rk4, split)"))),
            },
        };

        // neurons and groups
        let mut ids: Vec<String> = Vec::new();
        let mut params = Vec::new();
        let mut groups = Vec::new();
        let mut names = Names { map: HashMap::new() };
        let add_name = |names: &mut Names, id: &str, ix: Vec<usize>, is_group: bool, path: &str| -> Result<()> {
            if id.is_empty() {
                return Err(Error::model(path, "ids must not be empty"));
            }
            if names.map.insert(id.to_string(), (ix, is_group)).is_some() {
                return Err(Error::model(path, format!("duplicate id '{id}'")));
            }
            Ok(())
        };
        if let Some(ns) = root.get("neurons") {
            for (i, n) in as_arr(ns, "$.neurons")?.iter().enumerate() {
                let p = format!("$.neurons[{i}]");
                let o = as_obj(n, &p)?;
                let mut keys = vec!["id"];
                keys.extend(LIF_KEYS);
                check_keys(o, &p, &keys)?;
                let id = as_str(required(o, "id", &p)?, &format!("{p}.id"))?;
                add_name(&mut names, id, vec![ids.len()], false, &format!("{p}.id"))?;
                params.extend(parse_lif(o, &p, dt, 1, false)?);
                ids.push(id.to_string());
            }
        }
        if let Some(gs) = root.get("groups") {
            for (g, n) in as_arr(gs, "$.groups")?.iter().enumerate() {
                let p = format!("$.groups[{g}]");
                let o = as_obj(n, &p)?;
                let mut keys = vec!["id", "n"];
                keys.extend(LIF_KEYS);
                check_keys(o, &p, &keys)?;
                let id = as_str(required(o, "id", &p)?, &format!("{p}.id"))?;
                let count = as_u64(required(o, "n", &p)?, &format!("{p}.n"))?;
                if count == 0 {
                    return Err(Error::model(format!("{p}.n"), "a group needs at least one neuron"));
                }
                if count > 100_000_000 {
                    return Err(Error::model(format!("{p}.n"), format!("{count} neurons is more than 10⁸")));
                }
                let lif = parse_lif(o, &p, dt, count as usize, true)?;
                let start = ids.len();
                let range = start..start + count as usize;
                add_name(&mut names, id, range.clone().collect(), true, &format!("{p}.id"))?;
                for m in 0..count as usize {
                    let mid = format!("{id}[{m}]");
                    add_name(&mut names, &mid, vec![start + m], false, &format!("{p}.id"))?;
                    ids.push(mid);
                }
                params.extend(lif);
                groups.push((id.to_string(), range));
            }
        }
        if ids.is_empty() {
            return Err(Error::model("$.neurons", "the network needs at least one neuron (neurons or groups)"));
        }
        let mut neuron_warned = std::collections::HashSet::new();
        let mut off_grid = Vec::new();
        for (i, pr) in params.iter().enumerate() {
            if pr.t_ref > 0.0 && neuron_warned.insert(pr.t_ref.to_bits()) {
                to_steps_with(pr.t_ref, dt, Grid::Truncate, &format!("t_ref of {}", ids[i]), &mut off_grid);
            }
        }
        if off_grid.len() > 5 {
            let more = off_grid.len() - 5;
            off_grid.truncate(5);
            off_grid.push(format!("… and {more} more t_ref values off the dt grid (truncated to whole steps)"));
        }
        warnings.extend(off_grid);

        // synapses
        let mut synapses = Vec::new();
        if let Some(ss) = root.get("synapses") {
            for (i, s) in as_arr(ss, "$.synapses")?.iter().enumerate() {
                let p = format!("$.synapses[{i}]");
                let o = as_obj(s, &p)?;
                check_keys(o, &p, &["pre", "post", "weight", "delay", "p", "seed", "i", "j"])?;
                let (pre, _) = names.resolve(required(o, "pre", &p)?, &format!("{p}.pre"))?;
                let (post, _) = names.resolve(required(o, "post", &p)?, &format!("{p}.post"))?;
                let wp = format!("{p}.weight");
                let mut weights = match required(o, "weight", &p)? {
                    Value::Object(d) => {
                        let (dist, rng) = parse_dist(d, &wp)?;
                        Weights::Dist(dist, rng)
                    }
                    Value::Array(a) => {
                        if !o.contains_key("i") {
                            return Err(Error::model(wp, "a weight array needs explicit pairs \"i\" and \"j\" (one weight per pair)"));
                        }
                        Weights::List(a.iter().enumerate().map(|(k, x)| as_f64(x, &format!("{wp}[{k}]"))).collect::<Result<_>>()?)
                    }
                    x => Weights::Const(as_f64(x, &wp)?),
                };
                let delay = nonneg(num(o, "delay", &p)?, &format!("{p}.delay"), "delay")?;
                let d = to_steps(delay, dt, &format!("{p}.delay"), &mut warnings);
                if d > 10_000_000 {
                    return Err(Error::model(format!("{p}.delay"), format!("delay of {d} steps is more than 10⁷")));
                }
                let delay_steps = d as u32;
                if o.contains_key("i") || o.contains_key("j") {
                    // explicit pairs: member indices into pre and post
                    if o.contains_key("p") || o.contains_key("seed") {
                        return Err(Error::model(format!("{p}.p"), "give either explicit pairs (i, j) or a connection probability p with a seed, not both"));
                    }
                    let index_list = |key: &str, of: &[usize]| -> Result<Vec<usize>> {
                        let kp = format!("{p}.{key}");
                        as_arr(required(o, key, &p)?, &kp)?
                            .iter()
                            .enumerate()
                            .map(|(k, x)| {
                                let ix = as_u64(x, &format!("{kp}[{k}]"))? as usize;
                                if ix >= of.len() {
                                    return Err(Error::model(format!("{kp}[{k}]"), format!("member index {ix} is out of range (the group has {} members)", of.len())));
                                }
                                Ok(of[ix])
                            })
                            .collect()
                    };
                    let (ii, jj) = (index_list("i", pre)?, index_list("j", post)?);
                    if ii.len() != jj.len() {
                        return Err(Error::model(format!("{p}.j"), format!("{} post indices for {} pre indices", jj.len(), ii.len())));
                    }
                    if let Weights::List(w) = &weights {
                        if w.len() != ii.len() {
                            return Err(Error::model(wp, format!("{} weights for {} pairs", w.len(), ii.len())));
                        }
                    }
                    check_budget("the synapses", (ii.len() + synapses.len()) as u128 * 16, SYNAPSE_BUDGET).map_err(|e| Error { path: Some(format!("{p}.i")), ..e })?;
                    for (k, (&a, &b)) in ii.iter().zip(&jj).enumerate() {
                        if a == b {
                            return Err(Error::model(format!("{p}.j[{k}]"), format!("self-connection of '{}' is not allowed", ids[a])));
                        }
                        synapses.push(Synapse { pre: a as u32, post: b as u32, weight: weights.get(k), delay_steps });
                    }
                    continue;
                }
                let prob = match o.get("p") {
                    None => 1.0,
                    Some(x) => {
                        let v = as_f64(x, &format!("{p}.p"))?;
                        if !(0.0..=1.0).contains(&v) {
                            return Err(Error::model(format!("{p}.p"), format!("a connection probability must be in [0, 1], got {v}")));
                        }
                        v
                    }
                };
                let seed = match o.get("seed") {
                    None if o.contains_key("p") => return Err(Error::model(format!("{p}.seed"), "generated connectivity (p) needs a seed")),
                    None => 0,
                    Some(x) => as_u64(x, &format!("{p}.seed"))?,
                };
                if pre.len() == 1 && post.len() == 1 && pre[0] == post[0] {
                    return Err(Error::model(format!("{p}.post"), format!("self-connection of '{}' is not allowed", ids[pre[0]])));
                }
                let total = pre.len() as u128 * post.len() as u128;
                let expected = (total as f64 * prob) as u128 + synapses.len() as u128;
                check_budget("the synapses", expected * 16, SYNAPSE_BUDGET).map_err(|e| Error { path: Some(format!("{p}.p")), ..e })?;
                let mut k = 0usize;
                let mut push = |q: u128| {
                    let a = pre[(q / post.len() as u128) as usize];
                    let b = post[(q % post.len() as u128) as usize];
                    if a != b {
                        synapses.push(Synapse { pre: a as u32, post: b as u32, weight: weights.get(k), delay_steps });
                        k += 1;
                    }
                };
                if prob >= 1.0 {
                    (0..total).for_each(&mut push);
                } else if prob > 0.0 {
                    // Bernoulli(p) per ordered pair, sampled by geometric skipping: the gap to
                    // the next connected pair is ⌊ln U / ln(1−p)⌋ (Devroye, Non-Uniform Random
                    // Variate Generation, 1986, §X.2) — same distribution, O(#synapses) work.
                    let mut rng = Xoshiro256::seed_from_u64(seed);
                    let ln1p = (-prob).ln_1p();
                    let mut q: i128 = -1;
                    loop {
                        let u = 1.0 - rng.uniform(); // (0, 1]
                        let skip = (u.ln() / ln1p).floor();
                        if skip >= total as f64 {
                            break;
                        }
                        q += skip as i128 + 1;
                        if q >= total as i128 {
                            break;
                        }
                        push(q as u128);
                    }
                }
            }
        }
        if synapses.len() > u32::MAX as usize {
            return Err(Error::model("$.synapses", "more than 2³² synapses"));
        }

        // bridges
        let mut bridges = Vec::new();
        if let Some(bs) = root.get("bridges") {
            for (i, b) in as_arr(bs, "$.bridges")?.iter().enumerate() {
                let p = format!("$.bridges[{i}]");
                let o = as_obj(b, &p)?;
                check_keys(o, &p, &["neurons", "omega", "gamma0", "beta", "kappa", "alpha", "coupling", "measure", "initial", "spike_kick"])?;
                let np = format!("{p}.neurons");
                let nv = as_arr(required(o, "neurons", &p)?, &np)?;
                if nv.len() != 2 {
                    return Err(Error::model(np, format!("a bridge joins exactly two neurons, got {}", nv.len())));
                }
                let a = names.neuron(&nv[0], &format!("{np}[0]"))?;
                let c = names.neuron(&nv[1], &format!("{np}[1]"))?;
                if a == c {
                    return Err(Error::model(format!("{np}[1]"), format!("a bridge from '{}' to itself is not allowed (the two neurons must differ)", ids[a])));
                }
                let coupling = match o.get("coupling") {
                    None => Coupling::Hamiltonian,
                    Some(x) => match as_str(x, &format!("{p}.coupling"))? {
                        "hamiltonian" => Coupling::Hamiltonian,
                        "paper" => Coupling::Paper,
                        "cp" => Coupling::Cp,
                        other => return Err(Error::model(format!("{p}.coupling"), format!("unknown coupling '{other}' (hamiltonian, paper, cp)"))),
                    },
                };
                let measure = match o.get("measure") {
                    None => Readout::X,
                    Some(x) => match as_str(x, &format!("{p}.measure"))? {
                        "X" => Readout::X,
                        "Z" => Readout::Z,
                        other => return Err(Error::model(format!("{p}.measure"), format!("unknown read-out '{other}' (X, Z)"))),
                    },
                };
                let omega = pair(o, "omega", &p, None)?;
                let gamma0 = num(o, "gamma0", &p)?;
                if coupling != Coupling::Hamiltonian && gamma0 < 0.0 {
                    return Err(Error::model(format!("{p}.gamma0"), format!("with {} coupling γ₀ is a rate and must be ≥ 0, got {gamma0}", coupling.as_str())));
                }
                let beta = nonneg(num_or(o, "beta", &p, 0.0)?, &format!("{p}.beta"), "beta")?;
                let kappa = pair(o, "kappa", &p, Some([0.0, 0.0]))?;
                for (s, k) in kappa.iter().enumerate() {
                    nonneg(*k, &format!("{p}.kappa[{s}]"), "a decay rate kappa")?;
                }
                let alpha = pair(o, "alpha", &p, Some([0.0, 0.0]))?;
                let initial = parse_initial(o.get("initial"), &format!("{p}.initial"))?;
                let spike_kick = num_or(o, "spike_kick", &p, 0.0)?;
                bridges.push(BridgeSpec { neurons: [a, c], omega, gamma0, beta, kappa, alpha, coupling, measure, initial, spike_kick });
            }
        }

        // inputs
        let mut inputs = Vec::new();
        if let Some(is) = root.get("inputs") {
            for (i, x) in as_arr(is, "$.inputs")?.iter().enumerate() {
                let p = format!("$.inputs[{i}]");
                let o = as_obj(x, &p)?;
                let (targets, _) = names.resolve(required(o, "neuron", &p)?, &format!("{p}.neuron"))?;
                let targets = targets.to_vec();
                let k = as_str(required(o, "kind", &p)?, &format!("{p}.kind"))?;
                let kind = match k {
                    "constant" => {
                        check_keys(o, &p, &["neuron", "kind", "current"])?;
                        InputKind::Constant { current: num(o, "current", &p)? }
                    }
                    "poisson" => {
                        check_keys(o, &p, &["neuron", "kind", "rate_hz", "present", "weight", "seed"])?;
                        let rp = format!("{p}.rate_hz");
                        let check_rate = |x: &Value, path: &str| -> Result<f64> {
                            let r = nonneg(as_f64(x, path)?, path, "a rate")?;
                            if r * dt / 1000.0 > 100.0 {
                                return Err(Error::model(path, format!("rate_hz·dt = {} expected events per step is more than 100", r * dt / 1000.0)));
                            }
                            Ok(r)
                        };
                        let frame = |x: &Value, path: &str| -> Result<Vec<f64>> {
                            if x.is_number() {
                                return Ok(vec![check_rate(x, path)?]);
                            }
                            let a = as_arr(x, path)?;
                            if a.len() != targets.len() {
                                return Err(Error::model(path, format!("{} rates given for {} target neurons (one per member of the group, or one number)", a.len(), targets.len())));
                            }
                            a.iter().enumerate().map(|(m, r)| check_rate(r, &format!("{path}[{m}]"))).collect()
                        };
                        let rv = required(o, "rate_hz", &p)?;
                        let framed = matches!(rv, Value::Array(a) if a.first().is_some_and(|x| x.is_array()));
                        let rate_hz = if framed {
                            let fs = as_arr(rv, &rp)?;
                            fs.iter().enumerate().map(|(f, x)| frame(x, &format!("{rp}[{f}]"))).collect::<Result<Vec<_>>>()?
                        } else {
                            vec![frame(rv, &rp)?]
                        };
                        let present_steps = match o.get("present") {
                            None if framed && rate_hz.len() > 1 => return Err(Error::model(format!("{p}.present"), "several rate frames need \"present\" (ms per frame)")),
                            None => None,
                            Some(x) => {
                                let pp = format!("{p}.present");
                                let t = as_f64(x, &pp)?;
                                if t <= 0.0 {
                                    return Err(Error::model(pp, format!("must be positive, got {t}")));
                                }
                                Some(to_steps(t, dt, &pp, &mut warnings).max(1))
                            }
                        };
                        let seed = as_u64(required(o, "seed", &p)?, &format!("{p}.seed"))?;
                        InputKind::Poisson { rate_hz, present_steps, weight: num(o, "weight", &p)?, seed }
                    }
                    "spikes" => {
                        check_keys(o, &p, &["neuron", "kind", "times", "weight"])?;
                        let tp = format!("{p}.times");
                        let mut steps = Vec::new();
                        for (j, t) in as_arr(required(o, "times", &p)?, &tp)?.iter().enumerate() {
                            let jp = format!("{tp}[{j}]");
                            let t = nonneg(as_f64(t, &jp)?, &jp, "a spike time")?;
                            steps.push(to_steps_with(t, dt, Grid::Truncate, &jp, &mut warnings));
                        }
                        InputKind::Spikes { steps, weight: num(o, "weight", &p)? }
                    }
                    other => return Err(Error::model(format!("{p}.kind"), format!("unknown input kind '{other}' (constant, poisson, spikes)"))),
                };
                inputs.push(InputSpec { targets, kind });
            }
        }

        // record
        let mut record = RecordSpec { v: vec![], spikes: true, bridge_expect: true, every: 1, synchrony: None };
        if let Some(r) = root.get("record") {
            let o = as_obj(r, "$.record")?;
            check_keys(o, "$.record", &["v", "spikes", "bridge_expect", "every", "synchrony"])?;
            if let Some(x) = o.get("synchrony") {
                let so = as_obj(x, "$.record.synchrony")?;
                check_keys(so, "$.record.synchrony", &["tau", "delta"])?;
                let tau = num_or(so, "tau", "$.record.synchrony", 10.0)?;
                if tau <= 0.0 {
                    return Err(Error::model("$.record.synchrony.tau", format!("must be positive, got {tau}")));
                }
                let delta = nonneg(num_or(so, "delta", "$.record.synchrony", 2.0)?, "$.record.synchrony.delta", "delta")?;
                record.synchrony = Some((tau, delta));
            }
            if let Some(vs) = o.get("v") {
                for (j, n) in as_arr(vs, "$.record.v")?.iter().enumerate() {
                    let (ix, _) = names.resolve(n, &format!("$.record.v[{j}]"))?;
                    for &x in ix {
                        if !record.v.contains(&x) {
                            record.v.push(x);
                        }
                    }
                }
            }
            if let Some(x) = o.get("spikes") {
                record.spikes = as_bool(x, "$.record.spikes")?;
            }
            if let Some(x) = o.get("bridge_expect") {
                record.bridge_expect = as_bool(x, "$.record.bridge_expect")?;
            }
            if let Some(x) = o.get("every") {
                record.every = as_u64(x, "$.record.every")?;
                if record.every == 0 {
                    return Err(Error::model("$.record.every", "must be at least 1"));
                }
            }
        }
        let samples = (steps / record.every + 1) as u128;
        let series = record.v.len() as u128 + if record.bridge_expect { 4 * bridges.len() as u128 } else { 0 };
        check_budget("the recorded time series", samples * (series + 1) * 8, SYNAPSE_BUDGET).map_err(|e| Error { path: Some("$.record.every".into()), ..e })?;

        Ok(Network { dt, duration, steps, ids, params, groups, synapses, bridges, inputs, record, bridge_method, warnings })
    }
}
