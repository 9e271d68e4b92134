//! The JSON model file, version 1 (specified in `docs/model-format.md`): parsing with errors
//! that name the JSON path of the offending field, and conversion into a [`Lindbladian`].

use crate::coef::{Coef, Modulation};
use crate::error::{check_budget, Error, ErrorCode, Result};
use crate::json::{as_arr, as_f64, as_obj, as_str, as_usize, check_keys, kind, required};
use crate::lindblad::Lindbladian;
use crate::ops::{OpContext, BUILTIN_NAMES};
use crate::sparse::Csr;
use crate::C64;
use nalgebra::{DMatrix, DVector};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

mod sde_options;
mod solver;
use solver::parse_solver;
pub use sde_options::DEFAULT_SDE_DT;
pub use solver::{FromExperiment, McOptions, Method, MpoOptions, ScOp, SdeMethod, SdeOptions, SolverOptions, StoreMeasurement};

/// A number or a parameter name.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A literal (real numbers have zero imaginary part).
    Num(C64),
    /// The name of an entry of `parameters`.
    Param(String),
}

/// Declarative time profile of a model-file term.
#[derive(Clone, Debug, PartialEq)]
pub enum ModSpec {
    /// `f(t) = 1`.
    None,
    /// `f(t) = cos(ω t + φ)`.
    Cos {
        /// ω.
        omega: Scalar,
        /// φ.
        phase: Scalar,
    },
    /// `f(t) = exp(−r t)`.
    Exp {
        /// r.
        rate: Scalar,
    },
}

/// A `hamiltonian` or `jumps` entry.
#[derive(Clone, Debug)]
pub struct TermSpec {
    /// `coef` (Hamiltonian) or `rate` (jumps).
    pub coef: Scalar,
    /// Operator expression.
    pub ops: String,
    /// Its full-space operator.
    pub op: Csr,
    /// Time profile.
    pub modulation: ModSpec,
    /// JSON path of the entry.
    pub path: String,
}

/// A `cross` entry `rate·(AρB† − ½{B†A, ρ})`.
#[derive(Clone, Debug)]
pub struct CrossSpec {
    /// Rate.
    pub rate: Scalar,
    /// Expression of A.
    pub a: String,
    /// Expression of B.
    pub b: String,
    /// Operator A.
    pub op_a: Csr,
    /// Operator B.
    pub op_b: Csr,
    /// Time profile.
    pub modulation: ModSpec,
    /// JSON path of the entry.
    pub path: String,
}

/// A requested measure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Tr ρ².
    Purity,
    /// Tr ρ.
    Trace,
    /// S(ρ) of the whole state.
    Entropy,
    /// S of one site's reduced state.
    EntropyOf(usize),
    /// I(i:j).
    MutualInfo(usize, usize),
    /// Wootters concurrence of (i, j).
    Concurrence(usize, usize),
    /// Negativity of (i, j), transposing j.
    Negativity(usize, usize),
    /// log₂ negativity of (i, j).
    LogNegativity(usize, usize),
    /// Fidelity with the initial state.
    Fidelity,
}

impl Measure {
    /// The measure of `rho` (sites of dimensions `dims`; `rho0` is the initial state, for
    /// [`Measure::Fidelity`]). Definitions and conventions: [`crate::measures`].
    pub fn evaluate(&self, rho: &DMatrix<C64>, rho0: &DMatrix<C64>, dims: &[usize]) -> Result<f64> {
        use crate::measures as ms;
        Ok(match self {
            Measure::Purity => ms::purity(rho),
            Measure::Trace => rho.trace().re,
            Measure::Entropy => ms::entropy_vn(rho),
            Measure::EntropyOf(s) => ms::entropy_of(rho, dims, &[*s])?,
            Measure::MutualInfo(a, b) => ms::mutual_information(rho, dims, *a, *b)?,
            Measure::Concurrence(a, b) => ms::concurrence(rho, dims, *a, *b)?,
            Measure::Negativity(a, b) => ms::negativity(rho, dims, *a, *b)?,
            Measure::LogNegativity(a, b) => ms::log_negativity(rho, dims, *a, *b)?,
            Measure::Fidelity => ms::fidelity(rho0, rho),
        })
    }
}

/// A parsed, validated model file.
#[derive(Clone, Debug)]
pub struct Model {
    /// Local dimensions.
    pub dims: Vec<usize>,
    /// Operator context (dims + user operators).
    pub ctx: OpContext,
    /// Named parameters.
    pub parameters: BTreeMap<String, f64>,
    /// Hamiltonian terms.
    pub hamiltonian: Vec<TermSpec>,
    /// Jumps (`coef` holds the rate).
    pub jumps: Vec<TermSpec>,
    /// Cross terms.
    pub cross: Vec<CrossSpec>,
    /// Apply the CP completion.
    pub cp_completion: bool,
    /// Initial density matrix.
    pub initial: DMatrix<C64>,
    /// Output times.
    pub times: Vec<f64>,
    /// Observables `(name, expression, operator)`.
    pub observables: Vec<(String, String, Csr)>,
    /// Measures `(name as written, measure)`.
    pub measures: Vec<(String, Measure)>,
    /// Solver options.
    pub solver: SolverOptions,
    /// False when the model was parsed for method `mpo` and is too large for dense objects:
    /// then every full-space operator (`TermSpec::op`, observables) is an empty 0×0 placeholder,
    /// `initial` is 0×0 and [`Model::lindbladian`] is an error.
    pub dense: bool,
    /// The initial state as one normalised ket per site when `initial` is `basis` or `product`
    /// (used by method `mpo` to start from an exact bond-dimension-1 MPO).
    pub initial_product: Option<Vec<Vec<C64>>>,
}

/// Parses a complex number: a JSON number or `[re, im]`.
pub fn parse_complex(v: &Value, path: &str) -> Result<C64> {
    match v {
        Value::Number(_) => Ok(C64::new(as_f64(v, path)?, 0.0)),
        Value::Array(a) if a.len() == 2 => Ok(C64::new(as_f64(&a[0], &format!("{path}[0]"))?, as_f64(&a[1], &format!("{path}[1]"))?)),
        _ => Err(Error::model(path, format!("expected a complex number (a number or [re, im]), got {}", kind(v)))),
    }
}

/// Parses a matrix given as an array of rows of complex numbers.
pub fn parse_matrix(v: &Value, path: &str) -> Result<DMatrix<C64>> {
    let rows = as_arr(v, path)?;
    if rows.is_empty() {
        return Err(Error::model(path, "matrix has no rows"));
    }
    let n = rows.len();
    let mut m = DMatrix::zeros(n, n);
    for (i, r) in rows.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        let r = as_arr(r, &rp)?;
        if r.len() != n {
            return Err(Error::model(rp, format!("row has {} entries; a square {n}×{n} matrix is required", r.len())));
        }
        for (j, x) in r.iter().enumerate() {
            m[(i, j)] = parse_complex(x, &format!("{path}[{i}][{j}]"))?;
        }
    }
    Ok(m)
}

// ---------------------------------------------------------------- parsing

impl Model {
    /// Parses a model from JSON text without the method-specific checks (see
    /// [`Model::from_json_str`] in `load.rs`, which adds them).
    pub(crate) fn parse_json_str(text: &str) -> Result<Model> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error {
            code: ErrorCode::Parse,
            path: Some("$".into()),
            message: format!("invalid JSON: {e}"),
        })?;
        Model::parse_value(&v)
    }

    /// Parses a model from a JSON value: every field checked against the model-file
    /// specification and the generator built once (rates, Hermiticity of H, CP-completion
    /// preconditions); the checks of a particular method are added by [`Model::from_value`].
    pub(crate) fn parse_value(v: &Value) -> Result<Model> {
        let root = as_obj(v, "$")?;
        check_keys(root, "$", &[
            "version", "name", "description", "dims", "operators", "parameters", "hamiltonian", "jumps", "cross",
            "cp_completion", "initial", "times", "observables", "measures", "solver",
        ])?;
        if let Some(ver) = root.get("version") {
            if ver.as_u64() != Some(1) {
                return Err(Error::model("$.version", format!("unsupported model-file version {ver} (this build reads version 1)")));
            }
        }
        // dims
        let dv = as_arr(required(root, "dims", "$")?, "$.dims")?;
        if dv.is_empty() {
            return Err(Error::model("$.dims", "at least one site is required"));
        }
        let mut dims = Vec::new();
        for (i, d) in dv.iter().enumerate() {
            let p = format!("$.dims[{i}]");
            let d = as_usize(d, &p)?;
            if d < 2 {
                return Err(Error::model(p, format!("local dimension must be at least 2, got {d}")));
            }
            dims.push(d);
        }
        let n = dims.iter().try_fold(1u128, |a, &d| a.checked_mul(d as u128)).unwrap_or(u128::MAX);
        let solver = parse_solver(root.get("solver"))?;
        // ρ plus ~12 work vectors of the adaptive integrators
        let budget = check_budget("the density matrix and integrator work space", n.saturating_mul(n).saturating_mul(16 * 12), solver.memory_budget);
        // Method mpo never needs the dense objects; it skips them when they do not fit.
        let dense = match budget {
            Ok(()) => true,
            Err(_) if solver.method == Method::Mpo => false,
            Err(e) => return Err(e),
        };
        let mut ctx = OpContext::new(dims.clone());
        if let Some(ops) = root.get("operators") {
            for (name, m) in as_obj(ops, "$.operators")? {
                let p = format!("$.operators.{name}");
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
                    return Err(Error::model(p, "operator names must consist of letters and '_' only (the site index follows the name in expressions)"));
                }
                if BUILTIN_NAMES.contains(&name.as_str()) {
                    return Err(Error::model(p, format!("'{name}' is a built-in operator name")));
                }
                let mat = parse_matrix(m, &p)?;
                if !dims.contains(&mat.nrows()) {
                    return Err(Error::model(p, format!("operator is {}×{} but no site has dimension {} (dims {:?})", mat.nrows(), mat.nrows(), mat.nrows(), dims)));
                }
                ctx.user.insert(name.clone(), mat);
            }
        }
        let mut parameters = BTreeMap::new();
        if let Some(ps) = root.get("parameters") {
            for (name, x) in as_obj(ps, "$.parameters")? {
                parameters.insert(name.clone(), as_f64(x, &format!("$.parameters.{name}"))?);
            }
        }
        let scalar = |v: &Value, path: &str, complex_ok: bool| -> Result<Scalar> {
            match v {
                Value::String(s) => {
                    if parameters.contains_key(s) {
                        Ok(Scalar::Param(s.clone()))
                    } else {
                        Err(Error::model(path, format!("unknown parameter '{s}' (defined: {})", if parameters.is_empty() { "none".into() } else { parameters.keys().cloned().collect::<Vec<_>>().join(", ") })))
                    }
                }
                Value::Array(_) if !complex_ok => Err(Error::model(path, "must be real")),
                _ => Ok(Scalar::Num(parse_complex(v, path)?)),
            }
        };
        let modulation = |o: &Map<String, Value>, path: &str| -> Result<ModSpec> {
            let Some(m) = o.get("modulation") else { return Ok(ModSpec::None) };
            let p = format!("{path}.modulation");
            let mo = as_obj(m, &p)?;
            if mo.len() != 1 {
                return Err(Error::model(p, "give exactly one of {\"cos\": {...}} or {\"exp\": {...}}"));
            }
            let (k, body) = mo.iter().next().unwrap();
            let bp = format!("{p}.{k}");
            let bo = as_obj(body, &bp)?;
            match k.as_str() {
                "cos" => {
                    check_keys(bo, &bp, &["omega", "phase"])?;
                    let omega = scalar(required(bo, "omega", &bp)?, &format!("{bp}.omega"), false)?;
                    let phase = match bo.get("phase") {
                        Some(x) => scalar(x, &format!("{bp}.phase"), false)?,
                        None => Scalar::Num(C64::new(0.0, 0.0)),
                    };
                    Ok(ModSpec::Cos { omega, phase })
                }
                "exp" => {
                    check_keys(bo, &bp, &["rate"])?;
                    Ok(ModSpec::Exp { rate: scalar(required(bo, "rate", &bp)?, &format!("{bp}.rate"), false)? })
                }
                other => Err(Error::model(bp, format!("unknown modulation '{other}' (use cos or exp)"))),
            }
        };
        let mut hamiltonian = Vec::new();
        if let Some(h) = root.get("hamiltonian") {
            for (i, t) in as_arr(h, "$.hamiltonian")?.iter().enumerate() {
                let p = format!("$.hamiltonian[{i}]");
                let o = as_obj(t, &p)?;
                check_keys(o, &p, &["coef", "ops", "modulation"])?;
                let coef = scalar(required(o, "coef", &p)?, &format!("{p}.coef"), true)?;
                let ops = as_str(required(o, "ops", &p)?, &format!("{p}.ops"))?.to_string();
                let op = build_at(&ctx, dense, &ops, &format!("{p}.ops"))?;
                hamiltonian.push(TermSpec { coef, ops, op, modulation: modulation(o, &p)?, path: p });
            }
        }
        let mut jumps = Vec::new();
        if let Some(h) = root.get("jumps") {
            for (i, t) in as_arr(h, "$.jumps")?.iter().enumerate() {
                let p = format!("$.jumps[{i}]");
                let o = as_obj(t, &p)?;
                check_keys(o, &p, &["rate", "ops", "modulation"])?;
                let coef = scalar(required(o, "rate", &p)?, &format!("{p}.rate"), false)?;
                let ops = as_str(required(o, "ops", &p)?, &format!("{p}.ops"))?.to_string();
                let op = build_at(&ctx, dense, &ops, &format!("{p}.ops"))?;
                let m = modulation(o, &p)?;
                if matches!(m, ModSpec::Cos { .. }) {
                    return Err(Error::model(format!("{p}.modulation"), "a jump rate must stay non-negative, so cos modulation is not allowed on jumps (use a cross entry with a = b for a signed rate)"));
                }
                jumps.push(TermSpec { coef, ops, op, modulation: m, path: p });
            }
        }
        let mut cross = Vec::new();
        if let Some(h) = root.get("cross") {
            for (i, t) in as_arr(h, "$.cross")?.iter().enumerate() {
                let p = format!("$.cross[{i}]");
                let o = as_obj(t, &p)?;
                check_keys(o, &p, &["rate", "a", "b", "modulation"])?;
                let rate = scalar(required(o, "rate", &p)?, &format!("{p}.rate"), true)?;
                let a = as_str(required(o, "a", &p)?, &format!("{p}.a"))?.to_string();
                let b = as_str(required(o, "b", &p)?, &format!("{p}.b"))?.to_string();
                let op_a = build_at(&ctx, dense, &a, &format!("{p}.a"))?;
                let op_b = build_at(&ctx, dense, &b, &format!("{p}.b"))?;
                cross.push(CrossSpec { rate, a, b, op_a, op_b, modulation: modulation(o, &p)?, path: p });
            }
        }
        let cp_completion = match root.get("cp_completion") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(Error::model("$.cp_completion", format!("expected a boolean, got {}", kind(v)))),
        };
        let (initial, initial_product) = parse_initial(required(root, "initial", "$")?, &dims, dense)?;
        let mut observables = Vec::new();
        if let Some(obs) = root.get("observables") {
            for (name, e) in as_obj(obs, "$.observables")? {
                let p = format!("$.observables.{name}");
                let expr = as_str(e, &p)?.to_string();
                let op = build_at(&ctx, dense, &expr, &p)?;
                observables.push((name.clone(), expr, op));
            }
        }
        let mut measures = Vec::new();
        if let Some(ms) = root.get("measures") {
            for (i, m) in as_arr(ms, "$.measures")?.iter().enumerate() {
                let p = format!("$.measures[{i}]");
                let s = as_str(m, &p)?;
                measures.push((s.to_string(), parse_measure(s, &dims, &p)?));
            }
        }
        // what one output time costs in the result: its time, one complex value per observable,
        // one real per measure, three physicality reals, and for method mpo the bond dimensions
        let per_output = 8 + 16 * observables.len() as u128 + 8 * measures.len() as u128
            + if solver.physicality { 24 } else { 0 }
            + if solver.method == Method::Mpo { 8 * dims.len() as u128 } else { 0 };
        let times = parse_times(required(root, "times", "$")?, per_output, solver.memory_budget)?;
        let model = Model { dims, ctx, parameters, hamiltonian, jumps, cross, cp_completion, initial, times, observables, measures, solver, dense, initial_product };
        // Validate the generator once (rates, Hermiticity of H, CP completion preconditions).
        if model.dense {
            model.lindbladian()?;
        }
        Ok(model)
    }

    /// Hilbert-space dimension (saturates at `usize::MAX` for chains only method `mpo` can hold).
    pub fn dim(&self) -> usize {
        self.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX)
    }

    /// The generator with the model's parameters.
    pub fn lindbladian(&self) -> Result<Lindbladian> {
        self.lindbladian_with(&BTreeMap::new())
    }

    /// Errors naming the first override that is not a parameter of the model.
    fn check_overrides(&self, overrides: &BTreeMap<String, f64>) -> Result<()> {
        for k in overrides.keys() {
            if !self.parameters.contains_key(k) {
                return Err(Error::arg(format!("parameters.{k}"), format!("unknown parameter '{k}' (the model defines: {})", self.parameters.keys().cloned().collect::<Vec<_>>().join(", "))));
            }
        }
        Ok(())
    }

    /// The same model with some named parameters replaced (unknown names are an error naming
    /// them).
    pub fn with_parameters(&self, overrides: &BTreeMap<String, f64>) -> Result<Model> {
        self.check_overrides(overrides)?;
        let mut m = self.clone();
        m.parameters.extend(overrides.iter().map(|(k, v)| (k.clone(), *v)));
        Ok(m)
    }

    /// The generator with some parameters overridden (unknown names are an error).
    pub fn lindbladian_with(&self, overrides: &BTreeMap<String, f64>) -> Result<Lindbladian> {
        if !self.dense {
            return Err(Error::model("$.dims", format!("{} sites are too many for dense objects within the memory budget; only method mpo applies to this model", self.dims.len())));
        }
        self.check_overrides(overrides)?;
        let val = |s: &Scalar| -> C64 {
            match s {
                Scalar::Num(c) => *c,
                Scalar::Param(p) => C64::new(*overrides.get(p).unwrap_or(&self.parameters[p]), 0.0),
            }
        };
        let modl = |m: &ModSpec| -> Modulation {
            match m {
                ModSpec::None => Modulation::None,
                ModSpec::Cos { omega, phase } => Modulation::Cos { omega: val(omega).re, phase: val(phase).re },
                ModSpec::Exp { rate } => Modulation::Exp { rate: val(rate).re },
            }
        };
        let mut l = Lindbladian::new(self.dims.clone());
        for t in &self.hamiltonian {
            l.add_hamiltonian(Coef { amp: val(&t.coef), modulation: modl(&t.modulation) }, t.op.clone(), format!("{}.coef", t.path));
        }
        for t in &self.jumps {
            let r = val(&t.coef).re;
            if r < 0.0 {
                return Err(Error::model(format!("{}.rate", t.path), format!("negative rate {r} (rates must be ≥ 0; L = √rate·ops)")));
            }
            l.add_jump(Coef { amp: C64::new(r, 0.0), modulation: modl(&t.modulation) }, t.op.clone(), t.path.clone());
        }
        for c in &self.cross {
            l.add_cross(Coef { amp: val(&c.rate), modulation: modl(&c.modulation) }, c.op_a.clone(), c.op_b.clone(), c.path.clone());
        }
        l.check_hamiltonian_hermitian()?;
        if self.cp_completion {
            l.apply_cp_completion()?;
        }
        Ok(l)
    }
}

/// Parses `times`; a `count` whose results (`per_output` bytes each) would not fit `budget` is
/// refused before anything is allocated.
fn parse_times(v: &Value, per_output: u128, budget: u128) -> Result<Vec<f64>> {
    let times = match v {
        Value::Array(a) => {
            let t: Vec<f64> = a.iter().enumerate().map(|(i, x)| as_f64(x, &format!("$.times[{i}]"))).collect::<Result<_>>()?;
            for i in 1..t.len() {
                if t[i] <= t[i - 1] {
                    return Err(Error::model(format!("$.times[{i}]"), format!("times must be strictly increasing ({} follows {})", t[i], t[i - 1])));
                }
            }
            t
        }
        Value::Object(o) => {
            check_keys(o, "$.times", &["start", "stop", "count"])?;
            let start = as_f64(required(o, "start", "$.times")?, "$.times.start")?;
            let stop = as_f64(required(o, "stop", "$.times")?, "$.times.stop")?;
            let count = as_usize(required(o, "count", "$.times")?, "$.times.count")?;
            if count == 0 {
                return Err(Error::model("$.times.count", "must be at least 1"));
            }
            let bytes = (count as u128).saturating_mul(per_output);
            if bytes > budget {
                return Err(Error {
                    code: ErrorCode::MemoryBudget,
                    path: Some("$.times.count".into()),
                    message: format!(
                        "{count} output times would need {:.1} MiB of results ({per_output} bytes each), over the memory budget of {:.1} MiB (fewer output times, fewer observables, physicality off, or a larger solver.memory_budget_mb)",
                        bytes as f64 / 1048576.0,
                        budget as f64 / 1048576.0
                    ),
                });
            }
            if count > 1 && stop <= start {
                return Err(Error::model("$.times.stop", format!("stop ({stop}) must be greater than start ({start})")));
            }
            if count == 1 {
                vec![start]
            } else {
                (0..count).map(|k| if k == count - 1 { stop } else { start + (stop - start) * k as f64 / (count - 1) as f64 }).collect()
            }
        }
        other => return Err(Error::model("$.times", format!("expected {{\"start\", \"stop\", \"count\"}} or an array, got {}", kind(other)))),
    };
    if times.is_empty() {
        return Err(Error::model("$.times", "at least one output time is required"));
    }
    Ok(times)
}

fn normalized(v: Vec<C64>, path: &str) -> Result<Vec<C64>> {
    let nrm = v.iter().map(|c| c.norm_sqr()).sum::<f64>().sqrt();
    if nrm == 0.0 {
        return Err(Error::model(path, "the state vector is zero and cannot be normalised"));
    }
    Ok(v.into_iter().map(|c| c / nrm).collect())
}

/// Builds a full-space operator, or a 0×0 placeholder after checking the expression when the
/// model is not dense (method `mpo` on a large chain).
fn build_at(ctx: &OpContext, dense: bool, expr: &str, path: &str) -> Result<Csr> {
    if dense {
        return ctx.build_at(expr, path);
    }
    for f in crate::ops::parse_expr(expr).map_err(|m| Error::model(path, m))? {
        ctx.local(&f.name, f.site).map_err(|m| Error::model(path, m))?;
    }
    Ok(Csr::zeros(0, 0))
}

type Initial = (DMatrix<C64>, Option<Vec<Vec<C64>>>);

fn parse_initial(v: &Value, dims: &[usize], dense: bool) -> Result<Initial> {
    let o = as_obj(v, "$.initial")?;
    if o.len() != 1 {
        return Err(Error::model("$.initial", "give exactly one of basis, product, ket, dm"));
    }
    let n: usize = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX);
    let (k, body) = o.iter().next().unwrap();
    let p = format!("$.initial.{k}");
    let sites: Vec<Vec<C64>> = match k.as_str() {
        "basis" => {
            let b = as_arr(body, &p)?;
            if b.len() != dims.len() {
                return Err(Error::model(p, format!("{} basis indices given for {} sites", b.len(), dims.len())));
            }
            let mut sites = Vec::new();
            for (s, x) in b.iter().enumerate() {
                let i = as_usize(x, &format!("{p}[{s}]"))?;
                if i >= dims[s] {
                    return Err(Error::model(format!("{p}[{s}]"), format!("basis index {i} is out of range for site {s} of dimension {}", dims[s])));
                }
                let mut k = vec![C64::new(0.0, 0.0); dims[s]];
                k[i] = C64::new(1.0, 0.0);
                sites.push(k);
            }
            sites
        }
        "product" => {
            let b = as_arr(body, &p)?;
            if b.len() != dims.len() {
                return Err(Error::model(p, format!("{} site states given for {} sites", b.len(), dims.len())));
            }
            let mut sites = Vec::new();
            for (s, x) in b.iter().enumerate() {
                let sp = format!("{p}[{s}]");
                let amps = as_arr(x, &sp)?;
                if amps.len() != dims[s] {
                    return Err(Error::model(sp, format!("{} amplitudes given for site {s} of dimension {}", amps.len(), dims[s])));
                }
                let a: Vec<C64> = amps.iter().enumerate().map(|(i, z)| parse_complex(z, &format!("{sp}[{i}]"))).collect::<Result<_>>()?;
                sites.push(normalized(a, &sp)?);
            }
            sites
        }
        "ket" | "dm" if !dense => {
            return Err(Error::model(p, format!("a '{k}' initial state needs the dense state, which exceeds the memory budget for {} sites; method mpo starts from 'basis' or 'product'", dims.len())));
        }
        "ket" => {
            let b = as_arr(body, &p)?;
            if b.len() != n {
                return Err(Error::model(p, format!("ket has {} amplitudes; dims give dimension {n}", b.len())));
            }
            let a: Vec<C64> = b.iter().enumerate().map(|(i, z)| parse_complex(z, &format!("{p}[{i}]"))).collect::<Result<_>>()?;
            let k = DVector::from_vec(normalized(a, &p)?);
            return Ok((&k * k.adjoint(), None));
        }
        "dm" => {
            let m = parse_matrix(body, &p)?;
            if m.nrows() != n {
                return Err(Error::model(p, format!("density matrix is {}×{}; dims give dimension {n}", m.nrows(), m.nrows())));
            }
            validate_density_matrix(&m, &p)?;
            return Ok((m, None));
        }
        other => return Err(Error::model(p, format!("unknown initial-state form '{other}' (basis, product, ket, dm)"))),
    };
    if !dense {
        return Ok((DMatrix::zeros(0, 0), Some(sites)));
    }
    let mut v = vec![C64::new(1.0, 0.0)];
    for a in &sites {
        v = v.iter().flat_map(|x| a.iter().map(move |y| x * y)).collect();
    }
    let k = DVector::from_vec(v);
    Ok((&k * k.adjoint(), Some(sites)))
}

/// Checks Hermiticity (1e-10 relative), unit trace (1e-10) and positivity (smallest eigenvalue
/// ≥ −1e-10) of a density matrix; errors name `path`.
pub fn validate_density_matrix(m: &DMatrix<C64>, path: &str) -> Result<()> {
    if m.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
        return Err(Error::model(path, "density matrix has non-finite entries"));
    }
    let scale = m.iter().map(|z| z.norm()).fold(0.0, f64::max).max(1e-300);
    let herm = (m - m.adjoint()).iter().map(|z| z.norm()).fold(0.0, f64::max);
    if herm > 1e-10 * scale {
        return Err(Error::model(path, format!("not Hermitian (max |ρ − ρ†| = {herm:.3e})")));
    }
    let tr = m.trace();
    if (tr - C64::new(1.0, 0.0)).norm() > 1e-10 {
        return Err(Error::model(path, format!("trace is {:.12} (a density matrix has trace 1)", tr.re)));
    }
    let ev = crate::measures::hermitian_eigenvalues(m);
    if ev[0] < -1e-10 {
        return Err(Error::model(path, format!("not positive semidefinite (smallest eigenvalue {:.3e})", ev[0])));
    }
    Ok(())
}

fn parse_measure(s: &str, dims: &[usize], path: &str) -> Result<Measure> {
    let (name, args) = match s.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let sites = |k: usize| -> Result<Vec<usize>> {
        let a = args.ok_or_else(|| Error::model(path, format!("'{name}' needs {k} site index(es), e.g. '{name}:{}'", if k == 1 { "0" } else { "0,1" })))?;
        let v: Vec<usize> = a
            .split(',')
            .map(|x| x.trim().parse::<usize>().map_err(|_| Error::model(path, format!("'{x}' is not a site index"))))
            .collect::<Result<_>>()?;
        if v.len() != k {
            return Err(Error::model(path, format!("'{name}' takes {k} site index(es), got {}", v.len())));
        }
        for &x in &v {
            if x >= dims.len() {
                return Err(Error::model(path, format!("site index {x} is out of range (the model has {} sites)", dims.len())));
            }
        }
        if k == 2 && v[0] == v[1] {
            return Err(Error::model(path, "the two sites must differ"));
        }
        Ok(v)
    };
    let no_args = |m: Measure| -> Result<Measure> {
        if args.is_some() {
            return Err(Error::model(path, format!("'{name}' takes no site indices")));
        }
        Ok(m)
    };
    match name {
        "purity" => no_args(Measure::Purity),
        "trace" => no_args(Measure::Trace),
        "fidelity" => no_args(Measure::Fidelity),
        "entropy" => match args {
            None => Ok(Measure::Entropy),
            Some(_) => Ok(Measure::EntropyOf(sites(1)?[0])),
        },
        "mutual_info" => {
            let v = sites(2)?;
            Ok(Measure::MutualInfo(v[0], v[1]))
        }
        "concurrence" => {
            let v = sites(2)?;
            if dims[v[0]] != 2 || dims[v[1]] != 2 {
                return Err(Error::model(path, format!("concurrence needs two qubits; sites {} and {} have dimensions {} and {}", v[0], v[1], dims[v[0]], dims[v[1]])));
            }
            Ok(Measure::Concurrence(v[0], v[1]))
        }
        "negativity" => {
            let v = sites(2)?;
            Ok(Measure::Negativity(v[0], v[1]))
        }
        "log_negativity" => {
            let v = sites(2)?;
            Ok(Measure::LogNegativity(v[0], v[1]))
        }
        other => Err(Error::model(path, format!("unknown measure '{other}' (purity, trace, entropy, entropy:i, mutual_info:i,j, concurrence:i,j, negativity:i,j, log_negativity:i,j, fidelity)"))),
    }
}
