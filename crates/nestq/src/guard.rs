//! Guards every solver runs before and during its work: the scale of the generator (terms
//! whose coefficient overflows, norm–time products beyond double precision, explicit methods
//! whose step count would exceed `max_steps`) and the wall-clock `timeout`
//! (`docs/model-format.md`, *Scale guards*).

use crate::error::{Error, ErrorCode, Result};
use crate::model::{Method, SolverOptions};

/// Largest `‖𝓛‖·(t_end − t_start)` accepted: beyond it double precision resolves the phases of
/// ρ(t) no better than `‖𝓛‖·T·2⁻⁵³ ≈ 1e-3` rad, so no method can return a meaningful result.
pub const MAX_NORM_TIME: f64 = 1e13;

/// Magnitude of one generator term for [`check_scale`]: its path in the model file and a bound
/// on its contribution to ‖𝓛‖ over the solve's time span.
pub(crate) struct TermScale<'a> {
    /// JSON path (or label) of the term.
    pub path: &'a str,
    /// Bound of the term's contribution to ‖𝓛(t)‖ over the span (may be non-finite: refused).
    pub norm: f64,
}

/// Largest `|f(t)|` of a modulation over `[t0, t1]` (callbacks are not inspected: 1).
pub(crate) fn modulation_max(m: &crate::coef::Modulation, t0: f64, t1: f64) -> f64 {
    use crate::coef::Modulation;
    match m {
        Modulation::Exp { rate } => (-rate * t0).exp().max((-rate * t1).exp()),
        _ => 1.0,
    }
}

/// The term scales of a dense generator over `[t0, t1]`: for each term its label and
/// `2|c|·max|f|·‖A‖₁‖B‖₁` (Hamiltonian terms `2|c|·max|f|·‖H‖₁`), the 1-norm bounds of
/// [`crate::solve::generator_norm_estimate`].
pub(crate) fn term_scales(l: &crate::lindblad::Lindbladian, t0: f64, t1: f64) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for h in &l.hamiltonian {
        out.push((h.label.clone(), 2.0 * h.coef.amp.norm() * modulation_max(&h.coef.modulation, t0, t1) * h.op.norm1()));
    }
    for d in &l.dissipators {
        out.push((d.label.clone(), 2.0 * d.rate.amp.norm() * modulation_max(&d.rate.modulation, t0, t1) * d.a.norm1() * d.b.norm1()));
    }
    out
}

/// Refuses generators whose scale no method can integrate, before any work: a term whose
/// coefficient times its operator norm overflows (error at the term's path) and a norm–time
/// product beyond [`MAX_NORM_TIME`] (error at the largest term). Returns the norm bound and the
/// path of the largest term.
pub(crate) fn check_scale<'a>(terms: &[TermScale<'a>], times: &[f64]) -> Result<(f64, &'a str)> {
    for t in terms {
        if !t.norm.is_finite() {
            return Err(Error::model(t.path, "this term's coefficient times its operator's norm is not a finite number (overflow): no integration is possible"));
        }
    }
    let norm: f64 = terms.iter().map(|t| t.norm).sum();
    let span = times[times.len() - 1] - times[0];
    let largest = terms.iter().max_by(|a, b| a.norm.total_cmp(&b.norm)).map_or("$", |t| t.path);
    if !norm.is_finite() || norm * span > MAX_NORM_TIME {
        return Err(Error::model(largest, format!(
            "the generator's norm bound ‖𝓛‖ ≈ {norm:.3e} times the time span {span} is {:.3e}, over {MAX_NORM_TIME:e}: double precision cannot resolve ρ(t)'s phases there; rescale the unit of time or check this term (the largest)",
            norm * span)));
    }
    Ok((norm, largest))
}

/// Refuses a fixed-step run whose step count `span/dt` exceeds `max_steps` (method `rk4`), at
/// `$.solver.max_steps`. Adaptive methods are not refused on an estimate: the norm bound can
/// overstate the spectral radius many times, so they run until `max_steps` or `timeout` stops
/// them, with an error saying how far they got.
pub(crate) fn check_steps(norm: f64, largest: &str, times: &[f64], method: Method, solver: &SolverOptions) -> Result<()> {
    let span = times[times.len() - 1] - times[0];
    if let (Method::Rk4, Some(dt)) = (method, solver.dt) {
        let steps = span / dt;
        if steps > solver.max_steps as f64 {
            return Err(Error::model("$.solver.max_steps", format!(
                "method rk4 needs {steps:.3e} steps of dt = {dt} over the span {span}, more than max_steps = {} (‖𝓛‖ ≈ {norm:.3e}; the largest term is {largest})",
                solver.max_steps)));
        }
    }
    Ok(())
}

/// A wall-clock limit (`solver.timeout`) checked after every step and output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    limit: Option<(f64, f64)>,
}

impl Deadline {
    /// Starts the clock for `timeout` seconds (`None`: no limit). A limit on a host without a
    /// clock (WebAssembly before the bindings install one) is an error, not silently ignored.
    pub(crate) fn start(timeout: Option<f64>) -> Result<Deadline> {
        let Some(secs) = timeout else { return Ok(Deadline { limit: None }) };
        let now = crate::clock::now_s();
        if !now.is_finite() {
            return Err(Error::model("$.solver.timeout", "this host has no clock, so a timeout cannot be kept"));
        }
        Ok(Deadline { limit: Some((now + secs, secs)) })
    }

    /// Errors with [`ErrorCode::Timeout`] once the limit has passed; `at` says how far the solve got.
    pub(crate) fn check(&self, at: impl FnOnce() -> String) -> Result<()> {
        if self.passed() {
            return Err(self.error(&at()));
        }
        Ok(())
    }

    /// True once the limit has passed.
    pub(crate) fn passed(&self) -> bool {
        self.limit.is_some_and(|(end, _)| crate::clock::now_s() > end)
    }

    /// The timeout error; `at` says how far the solve got.
    pub(crate) fn error(&self, at: &str) -> Error {
        let secs = self.limit.map_or(0.0, |(_, s)| s);
        Error { code: ErrorCode::Timeout, path: Some("$.solver.timeout".into()), message: format!("the solve reached its timeout of {secs} s {at}") }
    }
}

