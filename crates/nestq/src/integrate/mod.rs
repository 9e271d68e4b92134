//! Time integrators for linear ODEs `dy/dt = 𝓛(t) y` on complex vectors (here `y = vec(ρ)`).
//!
//! - [`rk4`]: classical fixed-step Runge–Kutta of order 4.
//! - [`dopri5`]: adaptive Dormand–Prince 5(4) with Hairer's PI step-size control (Hairer,
//!   Nørsett & Wanner, *Solving ODEs I*, §II.4–5 and the `DOPRI5` code); steps are clipped to
//!   land exactly on every requested output time.
//! - [`expm::propagate`]: exact propagator `e^{𝓛Δt}` by Padé scaling-and-squaring (Higham 2005).
//! - [`krylov::propagate`]: Arnoldi approximation of `e^{𝓛t}v` with Expokit's a-posteriori error
//!   estimate and step control (Sidje 1998).
//! - [`cheby::propagate`]: Chebyshev expansion of `e^{𝓛τ}` on an ellipse enclosing the field of
//!   values (Tal-Ezer & Kosloff 1984; Huisinga et al. 1999), for time-independent
//!   Hermiticity-preserving generators: one evaluation per term, no orthogonalisation.
//! - [`trbdf2::propagate`]: TR-BDF2 (Bank et al. 1985; ESDIRK form and error estimate of Hosea &
//!   Shampine 1996), L-stable, for stiff problems, with sparse LU solves.

pub mod cheby;
pub mod dp5;
pub mod expm;
pub mod krylov;
pub mod trbdf2;

use crate::error::{Error, ErrorCode, Result};
use crate::C64;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };

/// A right-hand side `dy/dt = f(t, y)`, linear in `y` for every integrator in this module.
pub trait Rhs {
    /// Length of `y`.
    fn len(&self) -> usize;
    /// `dy = f(t, y)`.
    fn eval(&mut self, t: f64, y: &[C64], dy: &mut [C64]);
    /// Evaluates `f(t, y)` and hands it to `consume(start, part)` in consecutive parts that
    /// cover `0..len()` once (`part` holds entries `start .. start + part.len()`), possibly in
    /// parallel, so that a consumer needing each entry once (an elementwise update) never has
    /// the whole vector stored. `buf` (length `len()`) is work space whose content afterwards is
    /// unspecified. Default: [`Rhs::eval`] into `buf`, then one part.
    fn eval_parts(&mut self, t: f64, y: &[C64], buf: &mut [C64], consume: &(dyn Fn(usize, &[C64]) + Sync)) {
        self.eval(t, y, buf);
        consume(0, buf);
    }
}

impl Rhs for crate::lindblad::MatrixRhs {
    fn len(&self) -> usize {
        self.n() * self.n()
    }
    fn eval(&mut self, t: f64, y: &[C64], dy: &mut [C64]) {
        self.apply(t, y, dy)
    }
    fn eval_parts(&mut self, t: f64, y: &[C64], buf: &mut [C64], consume: &(dyn Fn(usize, &[C64]) + Sync)) {
        self.apply_parts(t, y, buf, consume)
    }
}

/// Receives the solution at each requested output time, and a tick after every step.
pub trait Observer {
    /// Called with the state at output time `times[k]`. An error stops the integration.
    fn output(&mut self, k: usize, t: f64, y: &[C64]) -> Result<()>;
    /// Called after every accepted step (progress reporting, abort checks).
    fn step(&mut self, _t: f64) -> Result<()> {
        Ok(())
    }
}

/// Optional projection applied to the state after every accepted step (exact symmetrisation
/// ρ ← (ρ+ρ†)/2 for the Hermitian fast path, and/or the seed paper's "renormalise"). The flag
/// says whether it can move the state by more than rounding, in which case the first-same-as-
/// last stage of Dormand–Prince is re-evaluated after it.
pub type Projection<'a> = Option<(&'a dyn Fn(&mut [C64]), bool)>;

/// Counters reported by every integrator.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Accepted steps.
    pub steps: u64,
    /// Rejected steps (adaptive methods).
    pub rejected: u64,
    /// Right-hand-side (or matrix–vector) evaluations.
    pub rhs_evals: u64,
    /// Linear-system factorizations (implicit methods, Padé).
    pub factorizations: u64,
    /// Accumulated local error estimate (Krylov: Expokit's bound on ‖error‖₂; others: 0).
    pub error_estimate: f64,
}

/// Tolerances and limits of adaptive methods.
#[derive(Clone, Copy, Debug)]
pub struct Tolerances {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Maximum number of steps (accepted + rejected) in total.
    pub max_steps: u64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances { rtol: 1e-6, atol: 1e-8, max_steps: 10_000_000 }
    }
}

/// Validates that output times are finite and non-decreasing and returns them.
pub fn check_times(times: &[f64]) -> Result<()> {
    if times.is_empty() {
        return Err(Error::model("$.times", "no output times"));
    }
    for (k, w) in times.windows(2).enumerate() {
        if !(w[1] >= w[0]) {
            return Err(Error::model(format!("$.times[{}]", k + 1), format!("times must be non-decreasing ({} follows {})", w[1], w[0])));
        }
    }
    if times.iter().any(|t| !t.is_finite()) {
        return Err(Error::model("$.times", "times must be finite"));
    }
    Ok(())
}

fn check_finite(y: &[C64], t: f64) -> Result<()> {
    if y.iter().any(|v| !v.re.is_finite() || !v.im.is_finite()) {
        return Err(Error::new(ErrorCode::Numerical, format!("the state became non-finite at t = {t} (unstable step or diverging model)")));
    }
    Ok(())
}

/// `out = y + h Σ_j c_j k_j` with real coefficients, fused into one pass over memory and
/// written on the interleaved f64 representation (vectorises; no complex multiplies).
#[inline]
fn combine(out: &mut [C64], y: &[C64], h: f64, terms: &[(f64, &[C64])]) {
    use crate::sparse::{as_f64 as f, as_f64_mut};
    let o = as_f64_mut(out);
    let y = f(y);
    let mut cs = [0.0f64; 8];
    let mut ks: [&[f64]; 8] = [&[]; 8];
    let mut m = 0;
    for &(c, k) in terms {
        if c != 0.0 {
            cs[m] = h * c;
            ks[m] = f(k);
            m += 1;
        }
    }
    let len = o.len();
    match m {
        0 => o.copy_from_slice(y),
        1 => { let (a, k0) = (cs[0], &ks[0][..len]); for i in 0..len { o[i] = y[i] + a * k0[i]; } }
        2 => { let (k0, k1) = (&ks[0][..len], &ks[1][..len]); for i in 0..len { o[i] = y[i] + cs[0] * k0[i] + cs[1] * k1[i]; } }
        3 => { let (k0, k1, k2) = (&ks[0][..len], &ks[1][..len], &ks[2][..len]); for i in 0..len { o[i] = y[i] + cs[0] * k0[i] + cs[1] * k1[i] + cs[2] * k2[i]; } }
        4 => { let (k0, k1, k2, k3) = (&ks[0][..len], &ks[1][..len], &ks[2][..len], &ks[3][..len]); for i in 0..len { o[i] = y[i] + cs[0] * k0[i] + cs[1] * k1[i] + cs[2] * k2[i] + cs[3] * k3[i]; } }
        _ => {
            let (k0, k1, k2, k3) = (&ks[0][..len], &ks[1][..len], &ks[2][..len], &ks[3][..len]);
            for i in 0..len { o[i] = y[i] + cs[0] * k0[i] + cs[1] * k1[i] + cs[2] * k2[i] + cs[3] * k3[i]; }
            let mut j = 4;
            while j < m {
                let (a, kj) = (cs[j], &ks[j][..len]);
                for i in 0..len { o[i] += a * kj[i]; }
                j += 1;
            }
        }
    }
}

/// Classical RK4 with fixed step `dt`; each output interval is split into `⌈Δ/dt⌉` steps, the
/// last one shortened so the output time is hit exactly.
pub fn rk4(f: &mut dyn Rhs, y0: &[C64], times: &[f64], dt: f64, obs: &mut dyn Observer, proj: Projection) -> Result<Stats> {
    check_times(times)?;
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(Error::model("$.solver.dt", format!("rk4 needs a positive finite dt, got {dt}")));
    }
    let n = f.len();
    let mut y = y0.to_vec();
    let (mut k1, mut k2, mut k3, mut k4, mut tmp) = (vec![ZERO; n], vec![ZERO; n], vec![ZERO; n], vec![ZERO; n], vec![ZERO; n]);
    let mut st = Stats::default();
    let mut t = times[0];
    obs.output(0, t, &y)?;
    for (k, &tout) in times.iter().enumerate().skip(1) {
        while t < tout {
            let mut h = dt;
            if t + h >= tout - 1e-12 * dt {
                h = tout - t;
            }
            f.eval(t, &y, &mut k1);
            combine(&mut tmp, &y, 0.5 * h, &[(1.0, &k1)]);
            f.eval(t + 0.5 * h, &tmp, &mut k2);
            combine(&mut tmp, &y, 0.5 * h, &[(1.0, &k2)]);
            f.eval(t + 0.5 * h, &tmp, &mut k3);
            combine(&mut tmp, &y, h, &[(1.0, &k3)]);
            f.eval(t + h, &tmp, &mut k4);
            let y_old = std::mem::take(&mut y);
            y = vec![ZERO; n];
            combine(&mut y, &y_old, h / 6.0, &[(1.0, &k1), (2.0, &k2), (2.0, &k3), (1.0, &k4)]);
            st.rhs_evals += 4;
            st.steps += 1;
            t = if h == tout - t { tout } else { t + h };
            if let Some((p, _)) = proj {
                p(&mut y);
            }
            check_finite(&y, t)?;
            obs.step(t)?;
        }
        obs.output(k, tout, &y)?;
    }
    Ok(st)
}

fn err_norm(e: &[C64], y0: &[C64], y1: &[C64], tol: &Tolerances) -> f64 {
    // |z| via sqrt(re² + im²) (hypot's overflow guard is not needed for states and is slow)
    let mut s = 0.0;
    for i in 0..e.len() {
        let sk = tol.atol + tol.rtol * y0[i].norm_sqr().max(y1[i].norm_sqr()).sqrt();
        s += e[i].norm_sqr() / (sk * sk);
    }
    (s / e.len() as f64).sqrt()
}

/// Adaptive Dormand–Prince 5(4) (`DOPRI5`): 7 stages with FSAL, Hairer's PI controller
/// (β = 0.04, safety 0.9, step ratio in [0.2, 10]) and Hairer's initial-step heuristic.
/// Error norm: RMS over entries of `|e_i| / (atol + rtol·max(|y_i|, |y_new_i|))`.
pub fn dopri5(f: &mut dyn Rhs, y0: &[C64], times: &[f64], tol: Tolerances, obs: &mut dyn Observer, proj: Projection) -> Result<Stats> {
    use dp5::tableau::*;

    check_times(times)?;
    if !(tol.rtol > 0.0 && tol.atol >= 0.0) {
        return Err(Error::model("$.solver.rtol", format!("tolerances must satisfy rtol > 0 and atol ≥ 0 (got rtol {}, atol {})", tol.rtol, tol.atol)));
    }
    let n = f.len();
    let mut y = y0.to_vec();
    let mut ynew = vec![ZERO; n];
    let mut k: Vec<Vec<C64>> = (0..7).map(|_| vec![ZERO; n]).collect();
    let mut tmp = vec![ZERO; n];
    let mut err = vec![ZERO; n];
    let zeros = vec![ZERO; n];
    let mut st = Stats::default();
    let mut t = times[0];
    let t_end = *times.last().unwrap();
    obs.output(0, t, &y)?;
    if t_end == t {
        for (kk, &tt) in times.iter().enumerate().skip(1) {
            obs.output(kk, tt, &y)?;
        }
        return Ok(st);
    }
    f.eval(t, &y, &mut k[0]);
    st.rhs_evals += 1;
    // Hairer's initial step size.
    let mut h = {
        let sk: Vec<f64> = y.iter().map(|v| tol.atol + tol.rtol * v.norm()).collect();
        let rms = |v: &[C64]| (v.iter().zip(&sk).map(|(a, s)| (a.norm() / s).powi(2)).sum::<f64>() / n as f64).sqrt();
        let dnf = rms(&k[0]);
        let dny = rms(&y);
        let mut h0 = if dnf <= 1e-5 || dny <= 1e-5 { 1e-6 } else { 0.01 * dny / dnf };
        h0 = h0.min(t_end - t);
        combine(&mut tmp, &y, h0, &[(1.0, &k[0])]);
        f.eval(t + h0, &tmp, &mut k[1]);
        st.rhs_evals += 1;
        let diff: Vec<C64> = k[1].iter().zip(&k[0]).map(|(a, b)| a - b).collect();
        let der2 = rms(&diff) / h0;
        let der12 = der2.max(dnf);
        let h1 = if der12 <= 1e-15 { (h0 * 1e-3).max(1e-6) } else { (0.01 / der12).powf(1.0 / 5.0) };
        (100.0 * h0).min(h1).min(t_end - t)
    };
    let mut facold: f64 = 1e-4;
    let mut last_rejected = false;
    let mut nattempts: u64 = 0;
    for (kk, &tout) in times.iter().enumerate().skip(1) {
        while t < tout {
            nattempts += 1;
            if nattempts > tol.max_steps {
                return Err(Error::new(ErrorCode::Numerical, format!(
                    "dopri5 exceeded max_steps = {} at t = {t} (raise solver.max_steps, loosen rtol/atol, or use a stiff method such as \"trbdf2\")", tol.max_steps)));
            }
            let h_prop = h;
            let clipped = t + h >= tout - 1e-14 * tout.abs().max(1.0);
            if clipped {
                h = tout - t;
            }
            if h <= 1e-14 * t.abs().max(1.0) {
                return Err(Error::new(ErrorCode::Numerical, format!("dopri5 step size underflow at t = {t} (h = {h:e})")));
            }
            let (k0, rest) = k.split_at_mut(1);
            let k0 = &k0[0];
            combine(&mut tmp, &y, h, &[(A21, k0)]);
            f.eval(t + C2 * h, &tmp, &mut rest[0]);
            combine(&mut tmp, &y, h, &[(A31, k0), (A32, &rest[0])]);
            f.eval(t + C3 * h, &tmp, &mut rest[1]);
            combine(&mut tmp, &y, h, &[(A41, k0), (A42, &rest[0]), (A43, &rest[1])]);
            f.eval(t + C4 * h, &tmp, &mut rest[2]);
            combine(&mut tmp, &y, h, &[(A51, k0), (A52, &rest[0]), (A53, &rest[1]), (A54, &rest[2])]);
            f.eval(t + C5 * h, &tmp, &mut rest[3]);
            combine(&mut tmp, &y, h, &[(A61, k0), (A62, &rest[0]), (A63, &rest[1]), (A64, &rest[2]), (A65, &rest[3])]);
            f.eval(t + h, &tmp, &mut rest[4]);
            combine(&mut ynew, &y, h, &[(A71, k0), (A73, &rest[1]), (A74, &rest[2]), (A75, &rest[3]), (A76, &rest[4])]);
            f.eval(t + h, &ynew, &mut rest[5]);
            st.rhs_evals += 6;
            combine(&mut err, &zeros, h, &[(E1, k0), (E3, &rest[1]), (E4, &rest[2]), (E5, &rest[3]), (E6, &rest[4]), (E7, &rest[5])]);
            let e = err_norm(&err, &y, &ynew, &tol);
            if !e.is_finite() {
                return Err(Error::new(ErrorCode::Numerical, format!("dopri5: non-finite error estimate at t = {t}")));
            }
            let fac11 = e.powf(0.2 - BETA * 0.75);
            let mut fac = fac11 / facold.powf(BETA);
            fac = (1.0 / FAC2).max((1.0 / FAC1).min(fac / SAFE));
            let mut hnew = h / fac;
            if e <= 1.0 {
                facold = e.max(1e-4);
                st.steps += 1;
                t = if clipped { tout } else { t + h };
                std::mem::swap(&mut y, &mut ynew);
                let (a, b) = k.split_at_mut(6);
                std::mem::swap(&mut a[0], &mut b[0]);
                if let Some((p, moves)) = proj {
                    p(&mut y);
                    if moves {
                        // renormalisation moved y by the trace drift: refresh the FSAL stage
                        f.eval(t, &y, &mut k[0]);
                        st.rhs_evals += 1;
                    }
                }
                check_finite(&y, t)?;
                if last_rejected {
                    hnew = hnew.min(h);
                }
                last_rejected = false;
                // A step shortened only to hit an output time does not shrink the next one.
                h = if clipped && hnew >= h { h_prop.max(hnew) } else { hnew };
                obs.step(t)?;
            } else {
                h /= (1.0 / FAC1).min(fac11 / SAFE);
                last_rejected = true;
                st.rejected += 1;
            }
        }
        obs.output(kk, tout, &y)?;
    }
    Ok(st)
}

/// Collects outputs into a vector of states (tests and simple callers).
#[derive(Default)]
pub struct Collect {
    /// States at each output time.
    pub states: Vec<Vec<C64>>,
}

impl Observer for Collect {
    fn output(&mut self, _k: usize, _t: f64, y: &[C64]) -> Result<()> {
        self.states.push(y.to_vec());
        Ok(())
    }
}
