//! Krylov-subspace propagation `w(t) = e^{𝓛t} v` for time-independent generators: Arnoldi
//! with the step control and a-posteriori error estimate of Expokit's `expv` (R. B. Sidje,
//! "Expokit: a software package for computing matrix exponentials", ACM TOMS 24 (1998)).
//! Only matrix–vector products with 𝓛 are needed, so the superoperator is never built.

use super::expm::expm;
use super::{check_times, Observer, Rhs, Stats};
use crate::error::{Error, ErrorCode, Result};
use crate::sparse::caxpy;
use crate::C64;
use faer::Mat;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };

fn dot(a: &[C64], b: &[C64]) -> C64 {
    // ⟨a, b⟩ = Σ conj(a_i) b_i on the interleaved doubles, four entries a round in independent
    // accumulators so that it vectorises (Arnoldi's Gram–Schmidt is this and caxpy)
    use crate::sparse::as_f64;
    let (x, y) = (as_f64(a), as_f64(b));
    let mut re = [0.0f64; 8];
    let mut im = [0.0f64; 4];
    let mut cx = x.chunks_exact(8);
    let mut cy = y.chunks_exact(8);
    for (p, q) in (&mut cx).zip(&mut cy) {
        for k in 0..8 {
            re[k] += p[k] * q[k];
        }
        for k in 0..4 {
            im[k] += p[2 * k] * q[2 * k + 1] - p[2 * k + 1] * q[2 * k];
        }
    }
    let (mut r, mut i) = (re.iter().sum::<f64>(), im.iter().sum::<f64>());
    for (p, q) in cx.remainder().chunks_exact(2).zip(cy.remainder().chunks_exact(2)) {
        r += p[0] * q[0] + p[1] * q[1];
        i += p[0] * q[1] - p[1] * q[0];
    }
    C64::new(r, i)
}

fn norm2(a: &[C64]) -> f64 {
    a.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt()
}

fn round_step(x: f64) -> f64 {
    let s = 10f64.powf(x.log10().floor() - 1.0);
    (x / s).ceil() * s
}

/// Expokit's `expv` one step at a time: [`ArnoldiStepper::step`] builds the Krylov space
/// `K_m(𝓛, y)` by Arnoldi and chooses the step `τ` by Expokit's error control; then
/// [`ArnoldiStepper::coeffs`] gives `e^{s𝓛}y ≈ V (β e^{sH̃} e₁)` at any `0 ≤ s ≤ τ` from the
/// small augmented Hessenberg matrix `H̃` alone, so values inside the step (output times, the
/// time a trajectory's norm reaches its jump target) cost an `(m+2)×(m+2)` exponential, not a
/// new Arnoldi process. [`propagate`] is this stepper clipped to the output times.
pub struct ArnoldiStepper {
    m: usize,
    tol: f64,
    anorm: f64,
    max_steps: u64,
    fact: f64,
    btol: f64,
    rndoff: f64,
    v: Vec<Vec<C64>>,
    p: Vec<C64>,
    /// `H̃` of the current step (`mx × mx`, unscaled).
    h: Vec<Vec<C64>>,
    /// Size of the exponentiated block (`mb + k1`).
    mx: usize,
    /// Number of basis vectors the solution combines (`mb + max(k1 − 1, 0)`).
    mcomb: usize,
    beta: f64,
    /// `β e^{τH̃} e₁` at the end of the current step.
    end: Vec<C64>,
    /// Proposed length of the next step.
    t_new: f64,
    /// Rejections allowed in one step, and the largest factor a rejected step keeps (1: only
    /// Expokit's formula).
    max_reject: u32,
    reject_shrink: f64,
    /// Counters (steps, rejections, matrix–vector products, accumulated error estimate).
    pub stats: Stats,
}

impl ArnoldiStepper {
    /// A stepper for vectors of length `n` with Arnoldi dimension `m` (≥ 2; at most `n`),
    /// local error tolerance `tol` per unit time (Expokit's `err_loc ≤ 1.2·τ·tol` in the 2-norm),
    /// `anorm` an estimate of ‖𝓛‖ (first step size only) and a limit of `max_steps` steps.
    pub fn new(n: usize, m: usize, tol: f64, anorm: f64, max_steps: u64) -> Result<Self> {
        if m < 2 {
            return Err(Error::model("$.solver.krylov_dim", format!("krylov_dim must be at least 2, got {m}")));
        }
        let m = m.min(n.max(2));
        let anorm = anorm.max(1e-300);
        let fact = (((m + 1) as f64) / std::f64::consts::E).powi(m as i32 + 1) * (2.0 * std::f64::consts::PI * (m + 1) as f64).sqrt();
        Ok(ArnoldiStepper {
            m,
            tol,
            anorm,
            max_steps,
            fact,
            btol: 1e-14 * anorm.max(1.0),
            rndoff: anorm * f64::EPSILON,
            v: (0..=m).map(|_| vec![ZERO; n]).collect(),
            p: vec![ZERO; n],
            h: vec![vec![ZERO; m + 2]; m + 2],
            mx: 0,
            mcomb: 0,
            beta: 0.0,
            end: Vec::new(),
            t_new: 0.0,
            max_reject: 10,
            reject_shrink: 1.0,
            stats: Stats::default(),
        })
    }

    /// Allows `max_reject` rejections per step instead of Expokit's 10, each shrinking the step
    /// at least to `shrink` times its length (the trajectory solver restarts from states whose
    /// last step size says little about the next: after a jump, the phases change abruptly).
    pub fn with_rejections(mut self, max_reject: u32, shrink: f64) -> Self {
        self.max_reject = max_reject;
        self.reject_shrink = shrink;
        self
    }

    /// Builds the Krylov space at `w` and takes one step of length `τ ≤ max_tau` (returned;
    /// 0 when `w = 0`). `at` is the current time, for messages.
    pub fn step(&mut self, f: &mut dyn Rhs, w: &[C64], max_tau: f64, at: f64) -> Result<f64> {
        let m = self.m;
        let gamma = 0.9;
        let delta = 1.2;
        if self.stats.steps >= self.max_steps {
            return Err(Error::new(ErrorCode::Numerical, format!("krylov exceeded max_steps = {}", self.max_steps)));
        }
        let beta = norm2(w);
        self.beta = beta;
        if beta == 0.0 {
            self.mx = 0;
            self.mcomb = 0;
            self.end.clear();
            return Ok(0.0);
        }
        if self.t_new == 0.0 {
            self.t_new = round_step((1.0 / self.anorm) * ((self.fact * self.tol) / (4.0 * beta * self.anorm)).powf(1.0 / m as f64));
        }
        let mut t_step = max_tau.min(self.t_new);
        // Arnoldi
        let h = &mut self.h;
        for row in h.iter_mut() {
            row.iter_mut().for_each(|x| *x = ZERO);
        }
        let v = &mut self.v;
        let p = &mut self.p;
        for (a, b) in v[0].iter_mut().zip(w) {
            *a = b / beta;
        }
        let mut mb = m;
        let mut k1 = 2usize;
        for j in 0..m {
            f.eval(0.0, &v[j], p);
            self.stats.rhs_evals += 1;
            for i in 0..=j {
                let hij = dot(&v[i], p);
                h[i][j] = hij;
                caxpy(-hij, &v[i], p);
            }
            let s = norm2(p);
            if s < self.btol {
                k1 = 0;
                mb = j + 1;
                t_step = max_tau;
                break;
            }
            h[j + 1][j] = C64::new(s, 0.0);
            for (a, b) in v[j + 1].iter_mut().zip(p.iter()) {
                *a = b / s;
            }
        }
        let mut avnorm = 0.0;
        if k1 != 0 {
            h[m + 1][m] = C64::new(1.0, 0.0);
            f.eval(0.0, &v[m], p);
            self.stats.rhs_evals += 1;
            avnorm = norm2(p);
        }
        let mut ireject = 0;
        let mut xm = 1.0 / m as f64;
        let (mut fm, mut err_loc);
        loop {
            let mx = mb + k1;
            let hm = Mat::from_fn(mx, mx, |i, j| h[i][j] * t_step);
            fm = expm(&hm);
            if k1 == 0 {
                err_loc = self.btol;
                break;
            }
            let phi1 = (beta * fm[(m, 0)]).norm();
            let phi2 = (beta * fm[(m + 1, 0)] * avnorm).norm();
            if phi1 > 10.0 * phi2 {
                err_loc = phi2;
                xm = 1.0 / m as f64;
            } else if phi1 > phi2 {
                err_loc = (phi1 * phi2) / (phi1 - phi2);
                xm = 1.0 / m as f64;
            } else {
                err_loc = phi1;
                xm = 1.0 / (m as f64 - 1.0);
            }
            if err_loc <= delta * t_step * self.tol {
                break;
            }
            ireject += 1;
            self.stats.rejected += 1;
            if ireject > self.max_reject {
                return Err(Error::new(ErrorCode::Numerical, format!(
                    "krylov: requested tolerance too tight for krylov_dim = {m} at t = {at} (raise krylov_dim or loosen rtol)")));
            }
            let proposed = round_step(gamma * t_step * (t_step * self.tol / err_loc).powf(xm));
            t_step = if self.reject_shrink < 1.0 { proposed.min(self.reject_shrink * t_step) } else { proposed }.min(max_tau);
        }
        self.mx = mb + k1;
        self.mcomb = mb + if k1 > 0 { k1 - 1 } else { 0 };
        self.end = (0..self.mcomb).map(|i| fm[(i, 0)] * beta).collect();
        self.stats.steps += 1;
        if k1 != 0 {
            self.t_new = round_step(gamma * t_step * (t_step * self.tol / err_loc).powf(xm));
        }
        self.stats.error_estimate += err_loc.max(self.rndoff);
        Ok(t_step)
    }

    /// `β e^{sH̃} e₁` of the current step at `0 ≤ s ≤ τ` (the coefficients of the state in the
    /// Krylov basis; their 2-norm is the state's, the basis being orthonormal).
    pub fn coeffs(&self, s: f64) -> Vec<C64> {
        if self.mx == 0 {
            return Vec::new();
        }
        let fm = expm(&Mat::from_fn(self.mx, self.mx, |i, j| self.h[i][j] * s));
        (0..self.mcomb).map(|i| fm[(i, 0)] * self.beta).collect()
    }

    /// The coefficients at the end of the current step.
    pub fn end_coeffs(&self) -> &[C64] {
        &self.end
    }

    /// `out = Σ_i c_i v_i` (the state of coefficients `c`).
    pub fn state(&self, c: &[C64], out: &mut [C64]) {
        out.iter_mut().for_each(|x| *x = ZERO);
        for (i, &ci) in c.iter().enumerate() {
            caxpy(ci, &self.v[i], out);
        }
    }
}

/// Propagates `y0` through the output `times` with `e^{𝓛Δt}` computed by Arnoldi of dimension
/// `m`. `tol` bounds the local error per unit time (Expokit's criterion
/// `err_loc ≤ 1.2·Δt·tol` in the 2-norm of `vec(ρ)`); the accumulated bound is returned in
/// `Stats::error_estimate`. `anorm` is an estimate of ‖𝓛‖ used only for the first step size.
pub fn propagate(f: &mut dyn Rhs, y0: &[C64], times: &[f64], m: usize, tol: f64, anorm: f64, max_steps: u64, obs: &mut dyn Observer) -> Result<Stats> {
    check_times(times)?;
    let mut st = ArnoldiStepper::new(f.len(), m, tol, anorm, max_steps)?;
    let mut w = y0.to_vec();
    obs.output(0, times[0], &w)?;
    for k in 1..times.len() {
        let t_out = times[k] - times[k - 1];
        let mut t_now = 0.0;
        while t_now < t_out {
            let t_step = st.step(f, &w, t_out - t_now, times[k - 1] + t_now)?;
            if st.beta == 0.0 {
                break;
            }
            st.state(&st.end, &mut w);
            t_now = if t_step >= t_out - t_now { t_out } else { t_now + t_step };
            if w.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
                return Err(Error::numerical(format!("krylov: non-finite state at t = {}", times[k - 1] + t_now)));
            }
            obs.step(times[k - 1] + t_now)?;
        }
        obs.output(k, times[k], &w)?;
    }
    Ok(st.stats)
}
