//! wasm-bindgen bindings of the nestq engine.
//!
//! Thin by design (the rapier.js / loro split): every export wraps one engine call, converts
//! errors to a JS `Error` carrying `code` and `path`, and copies bulk data out as `Float64Array`s.
//! Users never see these `Raw*` objects: the hand-written TypeScript facade in `ts/` owns them,
//! frees them, and turns the errors into its typed `NestqError`.
//!
//! Conventions crossing the boundary:
//! - complex matrices are interleaved `[re, im, re, im, …]` in **row-major** order (entry (i, j)
//!   at `2·(i·n + j)`), so `data[2*(i*n+j)]` reads like the printed matrix;
//! - dims are `Uint32Array`s, site 0 is the leftmost tensor factor (QuTiP's convention);
//! - a Rust panic aborts the instance (panic = "abort"); the hook below stores its message first,
//!   and the facade reads it with [`last_panic`] to throw `NestqError{code: "panic"}` instead of
//!   an opaque `RuntimeError: unreachable`.

use nalgebra::DMatrix;
use nestq::measures;
use nestq::ops::OpContext;
use nestq::{Csr, Error as NqError, Evolver, Model, SolveResult, C64};
use std::sync::Mutex;
use wasm_bindgen::prelude::*;

#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

#[cfg(any(test, all(feature = "threads", target_arch = "wasm32")))]
mod alloc;
mod bulk;

/// Threaded build: per-thread caches of small blocks in front of dlmalloc's single lock
/// (see `alloc.rs`).
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
#[global_allocator]
static ALLOC: alloc::ThreadCached = alloc::ThreadCached;

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

fn now_s() -> f64 {
    performance_now() * 1e-3
}

/// Installs the panic hook and the wall clock. Called by the generated start function.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        if let Ok(mut g) = LAST_PANIC.lock() {
            *g = Some(msg);
        }
    }));
    #[cfg(target_arch = "wasm32")]
    nestq::clock::set_clock(now_s);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = now_s;
}

/// The message of the last Rust panic (set just before the instance traps), if any.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|g| g.clone())
}

/// Engine version (the crate version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Whether this module was compiled with the threads feature (wasm-bindgen-rayon).
#[wasm_bindgen(js_name = hasThreads)]
pub fn has_threads() -> bool {
    cfg!(feature = "threads")
}

/// Whether this module was compiled with `+simd128`.
#[wasm_bindgen(js_name = hasSimd)]
pub fn has_simd() -> bool {
    cfg!(target_feature = "simd128")
}

/// Size of rayon's pool (1 in the single-threaded build).
#[wasm_bindgen(js_name = numThreads)]
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}

/// How many distinct pool threads took part in a parallel loop of `n` items (proof that the
/// threaded build really runs on several workers).
#[wasm_bindgen(js_name = threadsUsed)]
pub fn threads_used(n: u32) -> u32 {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    let seen = AtomicU64::new(0);
    (0..n).into_par_iter().for_each(|i| {
        std::hint::black_box((i as f64).sqrt().sin());
        let t = rayon::current_thread_index().unwrap_or(63);
        seen.fetch_or(1 << (t % 64), Ordering::Relaxed);
    });
    seen.load(Ordering::Relaxed).count_ones()
}

/// Aborts the instance with a Rust panic (used by the facade's tests of panic reporting).
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic(message: &str) {
    panic!("{message}");
}

// ------------------------------------------------------------------------------------ errors

fn js_error(e: NqError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("NestqError");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code.as_str().into());
    if let Some(p) = &e.path {
        let _ = js_sys::Reflect::set(&err, &"path".into(), &p.as_str().into());
    }
    err.into()
}

fn arg_error(name: &str, message: impl Into<String>) -> JsValue {
    js_error(NqError::arg(name, message))
}

type JsResult<T> = Result<T, JsValue>;

fn to_usize_dims(dims: &[u32], field: &str) -> JsResult<Vec<usize>> {
    if dims.is_empty() {
        return Err(arg_error(field, "at least one site is required"));
    }
    if let Some(d) = dims.iter().find(|&&d| d < 2) {
        return Err(arg_error(field, format!("every site dimension must be ≥ 2, got {d}")));
    }
    let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d as usize));
    match n {
        Some(n) if n <= 1 << 14 => Ok(dims.iter().map(|&d| d as usize).collect()),
        _ => Err(arg_error(field, "total dimension exceeds 16384 (dense density matrices only)")),
    }
}

/// Row-major interleaved re/im copy of a complex matrix.
fn interleave(m: &DMatrix<C64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(2 * m.len());
    interleave_into(m, &mut out);
    out
}

/// Appends the row-major interleaved re/im entries of `m` to `out`.
fn interleave_into(m: &DMatrix<C64>, out: &mut Vec<f64>) {
    let (r, c) = m.shape();
    out.reserve(2 * r * c);
    for i in 0..r {
        for j in 0..c {
            let z = m[(i, j)];
            out.push(z.re);
            out.push(z.im);
        }
    }
}

fn deinterleave(data: &[f64], n: usize, field: &str) -> JsResult<DMatrix<C64>> {
    if data.len() != 2 * n * n {
        return Err(arg_error(field, format!("expected {} numbers (n = {n}, interleaved re/im, row-major), got {}", 2 * n * n, data.len())));
    }
    if data.iter().any(|x| !x.is_finite()) {
        return Err(arg_error(field, "contains non-finite numbers"));
    }
    Ok(DMatrix::from_fn(n, n, |i, j| C64::new(data[2 * (i * n + j)], data[2 * (i * n + j) + 1])))
}

fn pair(z: C64) -> Vec<f64> {
    vec![z.re, z.im]
}

// -------------------------------------------------------------------------------- operators

/// A sparse operator on a tensor-product space (wraps the engine's `Csr`).
#[wasm_bindgen]
pub struct RawOperator {
    dims: Vec<usize>,
    op: Csr,
}

#[wasm_bindgen]
impl RawOperator {
    /// Builds an operator from the model file's expression syntax (`"X0 X1"`, `"AD0 SM1"`) on
    /// sites of dimensions `dims`.
    #[wasm_bindgen(js_name = fromExpr)]
    pub fn from_expr(dims: &[u32], expr: &str) -> JsResult<RawOperator> {
        let dims = to_usize_dims(dims, "dims")?;
        let ctx = OpContext::new(dims.clone());
        let op = ctx.build_at(expr, "expr").map_err(js_error)?;
        Ok(RawOperator { dims, op })
    }

    /// An operator from a dense row-major interleaved matrix.
    #[wasm_bindgen(js_name = fromDense)]
    pub fn from_dense(dims: &[u32], data: &[f64]) -> JsResult<RawOperator> {
        let dims = to_usize_dims(dims, "dims")?;
        let n = dims.iter().product();
        let m = deinterleave(data, n, "data")?;
        Ok(RawOperator { dims, op: Csr::from_dense(&m, 0.0) })
    }

    /// Site dimensions.
    pub fn dims(&self) -> Vec<u32> {
        self.dims.iter().map(|&d| d as u32).collect()
    }

    /// Dense row-major interleaved copy.
    pub fn dense(&self) -> Vec<f64> {
        interleave(&self.op.to_dense())
    }

    /// Tensor product `self ⊗ other` (QuTiP's `tensor`, self on the left).
    pub fn tensor(&self, other: &RawOperator) -> RawOperator {
        let mut dims = self.dims.clone();
        dims.extend_from_slice(&other.dims);
        RawOperator { dims, op: self.op.kron(&other.op) }
    }

    /// `a·self + b·other` with complex a = (a_re, a_im), b likewise.
    pub fn add(&self, a_re: f64, a_im: f64, other: &RawOperator, b_re: f64, b_im: f64) -> JsResult<RawOperator> {
        if self.dims != other.dims {
            return Err(arg_error("other", format!("dims {:?} differ from {:?}", other.dims, self.dims)));
        }
        Ok(RawOperator { dims: self.dims.clone(), op: self.op.add(C64::new(a_re, a_im), &other.op, C64::new(b_re, b_im)) })
    }

    /// Operator product `self · other`.
    pub fn matmul(&self, other: &RawOperator) -> JsResult<RawOperator> {
        if self.dims != other.dims {
            return Err(arg_error("other", format!("dims {:?} differ from {:?}", other.dims, self.dims)));
        }
        Ok(RawOperator { dims: self.dims.clone(), op: self.op.matmul(&other.op) })
    }

    /// Hermitian conjugate.
    pub fn dag(&self) -> RawOperator {
        RawOperator { dims: self.dims.clone(), op: self.op.adjoint() }
    }
}

// --------------------------------------------------------------------------- density matrix

/// A density matrix with its site dimensions.
#[wasm_bindgen]
pub struct RawDensityMatrix {
    dims: Vec<usize>,
    rho: DMatrix<C64>,
}

fn dm(dims: Vec<usize>, rho: DMatrix<C64>) -> RawDensityMatrix {
    RawDensityMatrix { dims, rho }
}

#[wasm_bindgen]
impl RawDensityMatrix {
    /// From row-major interleaved data; validated (Hermitian, unit trace, positive
    /// semidefinite) unless `validate` is false.
    #[wasm_bindgen(js_name = fromData)]
    pub fn from_data(dims: &[u32], data: &[f64], validate: bool) -> JsResult<RawDensityMatrix> {
        let dims = to_usize_dims(dims, "dims")?;
        let n = dims.iter().product();
        let rho = deinterleave(data, n, "data")?;
        if validate {
            // an argument here, not a model-file field
            nestq::model::validate_density_matrix(&rho, "data").map_err(|e| js_error(NqError { code: nestq::ErrorCode::InvalidArgument, ..e }))?;
        }
        Ok(dm(dims, rho))
    }

    /// |ψ⟩⟨ψ| from an interleaved ket (normalised; zero vectors are an error).
    #[wasm_bindgen(js_name = fromKet)]
    pub fn from_ket(dims: &[u32], ket: &[f64]) -> JsResult<RawDensityMatrix> {
        let dims = to_usize_dims(dims, "dims")?;
        let n: usize = dims.iter().product();
        if ket.len() != 2 * n {
            return Err(arg_error("ket", format!("expected {} numbers (interleaved re/im of {n} amplitudes), got {}", 2 * n, ket.len())));
        }
        if ket.iter().any(|x| !x.is_finite()) {
            return Err(arg_error("ket", "contains non-finite numbers"));
        }
        let v = nalgebra::DVector::from_fn(n, |i, _| C64::new(ket[2 * i], ket[2 * i + 1]));
        let nrm = v.norm();
        if nrm == 0.0 {
            return Err(arg_error("ket", "the zero vector cannot be normalised"));
        }
        let v = v / C64::new(nrm, 0.0);
        Ok(dm(dims, &v * v.adjoint()))
    }

    /// Site dimensions.
    pub fn dims(&self) -> Vec<u32> {
        self.dims.iter().map(|&d| d as u32).collect()
    }

    /// Row-major interleaved copy.
    pub fn data(&self) -> Vec<f64> {
        interleave(&self.rho)
    }

    /// Tr ρ as [re, im].
    pub fn trace(&self) -> Vec<f64> {
        pair(measures::trace(&self.rho))
    }

    /// Tr(O ρ) as [re, im].
    pub fn expect(&self, op: &RawOperator) -> JsResult<Vec<f64>> {
        if op.dims != self.dims {
            return Err(arg_error("op", format!("operator dims {:?} differ from state dims {:?}", op.dims, self.dims)));
        }
        Ok(pair(measures::expect(&op.op, &self.rho)))
    }

    /// Tr ρ².
    pub fn purity(&self) -> f64 {
        measures::purity(&self.rho)
    }

    /// Von Neumann entropy −Tr ρ ln ρ (nats).
    #[wasm_bindgen(js_name = entropyVN)]
    pub fn entropy_vn(&self) -> f64 {
        measures::entropy_vn(&self.rho)
    }

    /// Eigenvalues (ascending) of the Hermitian part.
    pub fn eigenvalues(&self) -> Vec<f64> {
        measures::hermitian_eigenvalues(&self.rho)
    }

    /// Reduced state on `keep` (in the given order).
    pub fn ptrace(&self, keep: &[u32]) -> JsResult<RawDensityMatrix> {
        let keep: Vec<usize> = keep.iter().map(|&k| k as usize).collect();
        let r = measures::ptrace(&self.rho, &self.dims, &keep).map_err(js_error)?;
        Ok(dm(keep.iter().map(|&k| self.dims[k]).collect(), r))
    }

    /// ρ ⊗ σ.
    pub fn tensor(&self, other: &RawDensityMatrix) -> RawDensityMatrix {
        let mut dims = self.dims.clone();
        dims.extend_from_slice(&other.dims);
        dm(dims, self.rho.kronecker(&other.rho))
    }

    /// S(A) + S(B) − S(AB) of sites a and b (nats).
    #[wasm_bindgen(js_name = mutualInformation)]
    pub fn mutual_information(&self, a: u32, b: u32) -> JsResult<f64> {
        measures::mutual_information(&self.rho, &self.dims, a as usize, b as usize).map_err(js_error)
    }

    /// Wootters concurrence of qubits a and b.
    pub fn concurrence(&self, a: u32, b: u32) -> JsResult<f64> {
        measures::concurrence(&self.rho, &self.dims, a as usize, b as usize).map_err(js_error)
    }

    /// Negativity (‖ρ^{T_b}‖₁ − 1)/2 of sites a and b.
    pub fn negativity(&self, a: u32, b: u32) -> JsResult<f64> {
        measures::negativity(&self.rho, &self.dims, a as usize, b as usize).map_err(js_error)
    }

    /// log₂ ‖ρ^{T_b}‖₁.
    #[wasm_bindgen(js_name = logNegativity)]
    pub fn log_negativity(&self, a: u32, b: u32) -> JsResult<f64> {
        measures::log_negativity(&self.rho, &self.dims, a as usize, b as usize).map_err(js_error)
    }

    /// Uhlmann fidelity (squared convention, F(ρ,ρ) = 1).
    pub fn fidelity(&self, other: &RawDensityMatrix) -> JsResult<f64> {
        if other.dims != self.dims {
            return Err(arg_error("other", format!("dims {:?} differ from {:?}", other.dims, self.dims)));
        }
        Ok(measures::fidelity(&self.rho, &other.rho))
    }
}

// ------------------------------------------------------------------------------------ model

/// A parsed model file (docs/model-format.md).
#[wasm_bindgen]
pub struct RawModel {
    model: Model,
}

fn progress_fn(f: &js_sys::Function) -> impl FnMut(f64) -> bool + '_ {
    move |frac: f64| match f.call1(&JsValue::NULL, &frac.into()) {
        // `false` aborts; anything else (undefined, true) continues. A throwing callback aborts too.
        Ok(v) => v.as_bool() != Some(false),
        Err(_) => false,
    }
}

#[wasm_bindgen]
impl RawModel {
    /// Parses and validates a model file (JSON text). Errors carry the JSON path.
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str) -> JsResult<RawModel> {
        Model::from_json_str(text).map(|model| RawModel { model }).map_err(js_error)
    }

    /// Site dimensions.
    pub fn dims(&self) -> Vec<u32> {
        self.model.dims.iter().map(|&d| d as u32).collect()
    }

    /// Output times.
    pub fn times(&self) -> Vec<f64> {
        self.model.times.clone()
    }

    /// Names of the model's parameters (sorted).
    #[wasm_bindgen(js_name = parameterNames)]
    pub fn parameter_names(&self) -> Vec<String> {
        self.model.parameters.keys().cloned().collect()
    }

    /// Value of a named parameter.
    pub fn parameter(&self, name: &str) -> JsResult<f64> {
        self.model.parameters.get(name).copied().ok_or_else(|| arg_error(&format!("parameters.{name}"), format!("unknown parameter '{name}'")))
    }

    /// The initial state.
    pub fn initial(&self) -> RawDensityMatrix {
        dm(self.model.dims.clone(), self.model.initial.clone())
    }

    /// `nestq check`'s report as JSON text.
    pub fn check(&self) -> JsResult<String> {
        nestq::solve::check_report(&self.model).map(|v| v.to_string()).map_err(js_error)
    }

    /// Adjoint gradient (`nestq::mesolve_grad`): `objective` is the objective's JSON text (an
    /// observable name as a JSON string, or `{"terms": [...], "parameters": [...]}`,
    /// docs/gradients.md); `dt`, `checkpoints` as in `GradOptions` (NaN / 0 = default);
    /// `names[i] = values[i]` override parameters. Returns the result file as JSON text
    /// (`{"value", "terms", "gradient", "stats"}`, the native `nestq grad` output).
    pub fn grad(&self, objective: &str, dt: f64, checkpoints: u32, names: Vec<String>, values: &[f64]) -> JsResult<String> {
        let obj = nestq::Objective::from_json_str(objective).map_err(js_error)?;
        let opts = nestq::GradOptions {
            dt: if dt.is_nan() { None } else { Some(dt) },
            checkpoints: if checkpoints == 0 { None } else { Some(checkpoints as usize) },
            overrides: overrides(&names, values)?,
        };
        in_pool(|| nestq::mesolve_grad(&self.model, &obj, &opts)).map(|r| r.to_json().to_string()).map_err(js_error)
    }

    /// Each objective term's weighted value on the gradient's RK4 grid
    /// (`nestq::objective_terms`), as a `Float64Array`; arguments as in [`RawModel::grad`].
    #[wasm_bindgen(js_name = objectiveTerms)]
    pub fn objective_terms(&self, objective: &str, dt: f64, names: Vec<String>, values: &[f64]) -> JsResult<Vec<f64>> {
        let obj = nestq::Objective::from_json_str(objective).map_err(js_error)?;
        let opts = nestq::GradOptions { dt: if dt.is_nan() { None } else { Some(dt) }, checkpoints: None, overrides: overrides(&names, values)? };
        in_pool(|| nestq::objective_terms(&self.model, &obj, &opts)).map_err(js_error)
    }

    /// Integrates the model. `progress(fraction)` is called after output times and steps;
    /// returning `false` (or throwing) aborts with code `aborted`.
    pub fn mesolve(&self, progress: Option<js_sys::Function>) -> JsResult<RawResult> {
        let r = match &progress {
            Some(f) => {
                let mut p = progress_fn(f);
                nestq::mesolve(&self.model, Some(&mut p))
            }
            None => in_pool(|| nestq::mesolve(&self.model, None)),
        };
        r.map(|result| RawResult { dims: self.model.dims.clone(), result }).map_err(js_error)
    }

    /// Integrates with some parameters overridden: `names[i] = values[i]`.
    #[wasm_bindgen(js_name = mesolveWith)]
    pub fn mesolve_with(&self, names: Vec<String>, values: &[f64], progress: Option<js_sys::Function>) -> JsResult<RawResult> {
        let ov = overrides(&names, values)?;
        let m = &self.model;
        let r = match &progress {
            Some(f) => {
                let mut p = progress_fn(f);
                nestq::solve::mesolve_with(m, &ov, Some(&mut p))
            }
            None => in_pool(|| nestq::solve::mesolve_with(m, &ov, None)),
        };
        r.map(|result| RawResult { dims: m.dims.clone(), result }).map_err(js_error)
    }

    /// Solves for many parameter sets in parallel (rayon): `values` is row-major
    /// `sets × names.length`. Returns a batch whose entries are results or errors.
    #[wasm_bindgen(js_name = sweep)]
    pub fn sweep(&self, names: Vec<String>, values: &[f64]) -> JsResult<RawBatch> {
        let k = names.len();
        if k == 0 {
            return Err(arg_error("names", "at least one parameter name is required"));
        }
        if values.len() % k != 0 {
            return Err(arg_error("values", format!("length {} is not a multiple of {k} parameter names", values.len())));
        }
        let sets = values.chunks(k).map(|row| overrides(&names, row)).collect::<JsResult<Vec<_>>>()?;
        let out = nestq::mesolve_sweep(&self.model, &sets);
        Ok(RawBatch { entries: out.into_iter().map(|r| Some((self.model.dims.clone(), r))).collect() })
    }

    /// Steady state (`nestq steadystate`'s JSON text).
    pub fn steadystate(&self) -> JsResult<String> {
        nestq::steady::steadystate_json(&self.model).map(|v| v.to_string()).map_err(js_error)
    }
}

/// Runs `f` on a rayon pool worker (threaded build), so that the parallel kernels inside it fork
/// and join among hot workers instead of waking the pool from the calling thread at every
/// right-hand-side evaluation. Only for work that does not call back into JavaScript.
pub(crate) fn in_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if rayon::current_num_threads() > 1 && rayon::current_thread_index().is_none() {
        let mut out = None;
        rayon::scope(|s| s.spawn(|_| out = Some(f())));
        out.expect("the pool ran the job")
    } else {
        f()
    }
}

fn overrides(names: &[String], values: &[f64]) -> JsResult<std::collections::BTreeMap<String, f64>> {
    if names.len() != values.len() {
        return Err(arg_error("values", format!("{} values for {} names", values.len(), names.len())));
    }
    let mut m = std::collections::BTreeMap::new();
    for (n, &v) in names.iter().zip(values) {
        if !v.is_finite() {
            return Err(arg_error(&format!("parameters.{n}"), format!("value must be finite, got {v}")));
        }
        m.insert(n.clone(), v);
    }
    Ok(m)
}

/// Solves many model files (JSON texts) in parallel (rayon; worker threads in the threaded
/// build). The texts are parsed in parallel too; a parse error fails the whole call with the
/// path `models[i].…` of the first faulty text (lowest `i`); solver errors are per entry.
#[wasm_bindgen(js_name = mesolveBatch)]
pub fn mesolve_batch(texts: Vec<String>) -> JsResult<RawBatch> {
    use rayon::prelude::*;
    // parsed on the pool; the errors become JS objects here, on the calling thread
    let parsed: Vec<nestq::Result<Model>> = texts.par_iter().map(|t| Model::from_json_str(t)).collect();
    let models = parsed
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            m.map_err(|e| {
                let inner = e.path.as_deref().map(|p| p.trim_start_matches('$').to_string()).unwrap_or_default();
                js_error(NqError { path: Some(format!("models[{i}]{inner}")), ..e })
            })
        })
        .collect::<JsResult<Vec<_>>>()?;
    let results = nestq::mesolve_batch(&models);
    Ok(RawBatch { entries: models.into_iter().map(|m| m.dims).zip(results).map(Some).collect() })
}

/// Results of a batch or sweep, in input order. Read all entries at once with
/// [`RawBatch::bulk_layout`] + [`RawBatch::bulk_data`] (what the facade does), or move single
/// entries out with [`RawBatch::take`] (each once).
#[wasm_bindgen]
pub struct RawBatch {
    entries: Vec<bulk::Entry>,
}

#[wasm_bindgen]
impl RawBatch {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the batch is empty.
    #[wasm_bindgen(js_name = isEmpty)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Moves entry `i` out: its result, or throws its error.
    pub fn take(&mut self, i: usize) -> JsResult<RawResult> {
        let n = self.entries.len();
        let slot = self.entries.get_mut(i).ok_or_else(|| arg_error("i", format!("index {i} out of range (batch of {n})")))?;
        match slot.take() {
            None => Err(js_error(bulk::taken_error(i))),
            Some((dims, Ok(result))) => Ok(RawResult { dims, result }),
            Some((_, Err(e))) => Err(js_error(e)),
        }
    }

    /// Bulk read, part 1: the layout of every entry, as JSON text — an array with one object
    /// per entry, in input order:
    ///
    /// - a result: `{"ok": true, "offset", "dims", "expect", "real", "measures", "lengths",
    ///   "stats"}`, and for method `mcsolve` also the result file's `"std_expect"` and
    ///   `"trajectories"`. Its numbers are `bulkData()[offset .. offset + Σ lengths]`, series after
    ///   series, `lengths[k]` numbers each, in this order: the output times; for each observable
    ///   (names in `expect`, model order) its real parts Re Tr(O ρ(t)) and, only when `real[i]`
    ///   is `false`, its imaginary parts; each measure (names in `measures`); |Tr ρ − 1|,
    ///   max |ρ − ρ†| and the smallest eigenvalue of ρ at each output time (empty when
    ///   physicality checks are off); the final state, row-major interleaved re/im (2·n²
    ///   numbers, n = Π dims; none when method `mpo` omitted it). `dims` are the model's site
    ///   dimensions, `stats` the result file's `stats` object (`RawResult.statsJson`).
    /// - an error: `{"ok": false, "code", "message", "path"?}` — the fields of the error that
    ///   [`RawBatch::take`] would throw for that entry (`path` only when the error has one).
    ///   An entry already moved out by `take` reads as the `invalid_argument` error
    ///   `entry i was already taken` (path `i`).
    ///
    /// Entries are contiguous in input order (an entry's `offset` is the previous result's
    /// offset plus its lengths; errors take no numbers). Does not consume the batch: `take` and
    /// the bulk read may still follow.
    #[wasm_bindgen(js_name = bulkLayout)]
    pub fn bulk_layout(&self) -> String {
        bulk::layout(&self.entries)
    }

    /// Bulk read, part 2: every number of every successful entry in one `Float64Array` (a copy),
    /// laid out as described by [`RawBatch::bulk_layout`]. Does not consume the batch.
    #[wasm_bindgen(js_name = bulkData)]
    pub fn bulk_data(&self) -> Vec<f64> {
        bulk::data(&self.entries)
    }
}

// ----------------------------------------------------------------------------------- result

/// The result of one solve. Bulk series come out as `Float64Array` copies.
#[wasm_bindgen]
pub struct RawResult {
    dims: Vec<usize>,
    result: SolveResult,
}

#[wasm_bindgen]
impl RawResult {
    /// Output times.
    pub fn times(&self) -> Vec<f64> {
        self.result.times.clone()
    }

    /// Observable names, in model order.
    #[wasm_bindgen(js_name = expectNames)]
    pub fn expect_names(&self) -> Vec<String> {
        self.result.expect.iter().map(|e| e.name.clone()).collect()
    }

    /// Whether observable `i` is real by construction (then `expectIm` is all zeros and the
    /// result file stores plain numbers).
    #[wasm_bindgen(js_name = expectIsReal)]
    pub fn expect_is_real(&self, i: usize) -> JsResult<bool> {
        self.series(i).map(|e| e.real)
    }

    /// Real parts of observable `i` over time.
    #[wasm_bindgen(js_name = expectRe)]
    pub fn expect_re(&self, i: usize) -> JsResult<Vec<f64>> {
        self.series(i).map(|e| e.values.iter().map(|z| z.re).collect())
    }

    /// Imaginary parts of observable `i` over time.
    #[wasm_bindgen(js_name = expectIm)]
    pub fn expect_im(&self, i: usize) -> JsResult<Vec<f64>> {
        self.series(i).map(|e| e.values.iter().map(|z| z.im).collect())
    }

    /// Measure names (`"concurrence:0,1"`, …), in model order.
    #[wasm_bindgen(js_name = measureNames)]
    pub fn measure_names(&self) -> Vec<String> {
        self.result.measures.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Values of measure `i` over time.
    pub fn measure(&self, i: usize) -> JsResult<Vec<f64>> {
        self.result.measures.get(i).map(|(_, v)| v.clone()).ok_or_else(|| arg_error("i", format!("measure index {i} out of range")))
    }

    /// |Tr ρ − 1| at each output time (empty when physicality checks are off).
    #[wasm_bindgen(js_name = traceDrift)]
    pub fn trace_drift(&self) -> Vec<f64> {
        self.result.physicality.trace_drift.clone()
    }

    /// max |ρ − ρ†| at each output time.
    #[wasm_bindgen(js_name = hermiticityError)]
    pub fn hermiticity_error(&self) -> Vec<f64> {
        self.result.physicality.hermiticity_error.clone()
    }

    /// Smallest eigenvalue of ρ at each output time.
    #[wasm_bindgen(js_name = minEigenvalue)]
    pub fn min_eigenvalue(&self) -> Vec<f64> {
        self.result.physicality.min_eigenvalue.clone()
    }

    /// The state at the last output time.
    #[wasm_bindgen(js_name = finalState)]
    pub fn final_state(&self) -> RawDensityMatrix {
        dm(self.dims.clone(), self.result.final_state.clone())
    }

    /// `stats` of the result file as JSON text (serialised alone, not cut out of the whole file).
    #[wasm_bindgen(js_name = statsJson)]
    pub fn stats_json(&self) -> String {
        bulk::stats_value(&self.result).to_string()
    }

    /// Method `mcsolve`: `{"std_expect": {…}, "trajectories": {…}}` of the result file as JSON
    /// text (docs/model-format.md, *Trajectories*); `undefined` for other methods.
    #[wasm_bindgen(js_name = trajectoriesJson)]
    pub fn trajectories_json(&self) -> Option<String> {
        self.result.trajectories_json().map(|(se, t)| serde_json::json!({"std_expect": se, "trajectories": t}).to_string())
    }

    /// The whole result file (same shape and numbers as the native `nestq run`) as JSON text.
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.result.to_json().to_string()
    }
}

impl RawResult {
    fn series(&self, i: usize) -> JsResult<&nestq::solve::ExpectSeries> {
        self.result.expect.get(i).ok_or_else(|| arg_error("i", format!("observable index {i} out of range")))
    }
}

// ---------------------------------------------------------------------------------- network

/// Runs a spiking network file (docs/network-format.md) and returns its result file as JSON
/// text (the same as the native `nestq network`). `progress(fraction)` may return `false` to
/// abort (code `aborted`).
#[wasm_bindgen(js_name = runNetwork)]
pub fn run_network(text: &str, progress: Option<js_sys::Function>) -> JsResult<String> {
    let r = match &progress {
        Some(f) => {
            let mut p = progress_fn(f);
            nestq::neural::run_network_json(text, Some(&mut p))
        }
        None => in_pool(|| nestq::neural::run_network_json(text, None)),
    };
    r.map(|res| res.to_json().to_string()).map_err(js_error)
}

// ---------------------------------------------------------------------------------- evolver

/// A state carried forward step by step with parameters changed in between (the NEST paper's
/// `NESTBridge.evolve`).
#[wasm_bindgen]
pub struct RawEvolver {
    ev: Evolver,
}

#[wasm_bindgen]
impl RawEvolver {
    /// Starts at the model's initial state and first output time.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &RawModel) -> JsResult<RawEvolver> {
        Evolver::new(&model.model).map(|ev| RawEvolver { ev }).map_err(js_error)
    }

    /// Current time.
    pub fn time(&self) -> f64 {
        self.ev.time()
    }

    /// Integrates from t to t + dt.
    pub fn evolve(&mut self, dt: f64) -> JsResult<()> {
        self.ev.evolve(dt).map_err(js_error)
    }

    /// Sets a named model parameter from the next step on.
    #[wasm_bindgen(js_name = setParameter)]
    pub fn set_parameter(&mut self, name: &str, value: f64) -> JsResult<()> {
        self.ev.set_parameter(name, value).map_err(js_error)
    }

    /// Current value of a named parameter.
    pub fn parameter(&self, name: &str) -> JsResult<f64> {
        self.ev.parameter(name).map_err(js_error)
    }

    /// Tr(O ρ) of the current state as [re, im].
    pub fn expect(&self, op: &RawOperator) -> JsResult<Vec<f64>> {
        self.ev.expect(&op.op).map(pair).map_err(js_error)
    }

    /// Copy of the current state.
    pub fn state(&self) -> RawDensityMatrix {
        dm(self.ev.model().dims.clone(), self.ev.state().clone())
    }

    /// Replaces the current state (validated).
    #[wasm_bindgen(js_name = setState)]
    pub fn set_state(&mut self, rho: &RawDensityMatrix) -> JsResult<()> {
        self.ev.set_state(rho.rho.clone()).map_err(js_error)
    }
}


// ---------------------------------------------------------------------------------- training

/// Trains a spiking network with NEST bridges from a training config (JSON text,
/// docs/training.md) and returns the result file as JSON text (the native `nestq train`
/// `result.json`). For `mnist_rows` tasks, `images`/`labels` give the training then the test
/// split concatenated (`train_count` of them training examples; images 784 bytes each, 0..255).
/// `progress(fraction, epoch)` is called after every mini-batch; `epoch` is `undefined` except
/// after an epoch, when it is the JSON text `{"epoch", "record", "params"}` (a checkpoint).
/// Returning `false` aborts (code `aborted`).
#[wasm_bindgen(js_name = trainNetwork)]
pub fn train_network(config: &str, images: Option<Vec<u8>>, labels: Option<Vec<u8>>, train_count: u32, progress: Option<js_sys::Function>) -> JsResult<String> {
    use nestq::train;
    let cfg = train::TrainConfig::from_json_str(config).map_err(js_error)?;
    let data = match (images, labels) {
        (Some(im), Some(lb)) => {
            let n = train_count as usize;
            if n > lb.len() || im.len() != lb.len() * 784 {
                return Err(arg_error("images", format!("expected 784 bytes per label ({} labels, {} bytes) and train_count ≤ labels ({n})", lb.len(), im.len())));
            }
            Some(train::MnistData { train_images: im[..n * 784].to_vec(), train_labels: lb[..n].to_vec(), test_images: im[n * 784..].to_vec(), test_labels: lb[n..].to_vec() })
        }
        (None, None) => None,
        _ => return Err(arg_error("labels", "images and labels must be given together")),
    };
    let (train_set, test_set) = train::datasets(&cfg, data.as_ref()).map_err(js_error)?;
    let layout = train::Net::new(cfg.net.clone()).layout;
    let res = match &progress {
        Some(f) => {
            let mut cb = |p: &train::TrainProgress| -> bool {
                let epoch: JsValue = match p.epoch {
                    Some(r) => serde_json::json!({"epoch": r.epoch, "record": r.to_json(), "params": train::params_to_json(&layout, p.params)}).to_string().into(),
                    None => JsValue::UNDEFINED,
                };
                match f.call2(&JsValue::NULL, &p.fraction.into(), &epoch) {
                    Ok(v) => v.as_bool() != Some(false),
                    Err(_) => false,
                }
            };
            train::train(&cfg, &train_set, &test_set, Some(&mut cb))
        }
        None => in_pool(|| train::train(&cfg, &train_set, &test_set, None)),
    };
    res.map(|r| r.to_json().to_string()).map_err(js_error)
}
