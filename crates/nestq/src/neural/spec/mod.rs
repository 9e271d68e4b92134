//! Parsing and validation of the network file (version 1, `docs/network-format.md`). Strict:
//! unknown fields are errors (keys starting with `_` are comments, as in model files), and every
//! error names the JSON path of the offending field.
//!
//! The file is read in one pass by [`Network::from_value`] (here, with the types of inputs and
//! recording; generated connectivity is sampled by geometric skipping, Devroye, *Non-Uniform
//! Random Variate Generation*, 1986, §X.2); the pieces it uses live in submodules by concern:
//! - `fields`: JSON field helpers, checks, rounding of times to the dt grid (Brian2's rules) and
//!   per-member values drawn from seeded distributions (Box–Muller);
//! - `neurons`: LIF parameters (Gerstner et al., *Neuronal Dynamics*, eq. 1.5), neuron and group
//!   names, delta synapses and their weights;
//! - `bridges`: NEST bridge parameters (NEST paper, §II), couplings, read-outs, the bridge
//!   integrator and the initial two-qubit state.

mod bridges;
mod fields;
mod neurons;

pub use bridges::{BridgeMethod, BridgeSpec, Coupling, Readout};
pub use neurons::{LifParams, Synapse};

use super::rng::Xoshiro256;
use crate::error::{check_budget, Error, ErrorCode, Result};
use crate::json::{as_arr, as_bool, as_f64, as_obj, as_str, as_u64, check_keys, required};
use bridges::parse_initial;
pub(crate) use fields::Grid;
use fields::{nonneg, num, num_or, pair, parse_dist, to_steps, to_steps_with};
use neurons::{parse_lif, Names, Weights, LIF_KEYS};
use serde_json::Value;
use std::collections::HashMap;

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
