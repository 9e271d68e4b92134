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
    // ⟨a, b⟩ = Σ conj(a_i) b_i
    let mut re = 0.0;
    let mut im = 0.0;
    for (x, y) in a.iter().zip(b) {
        re += x.re * y.re + x.im * y.im;
        im += x.re * y.im - x.im * y.re;
    }
    C64::new(re, im)
}

fn norm2(a: &[C64]) -> f64 {
    a.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt()
}

fn round_step(x: f64) -> f64 {
    let s = 10f64.powf(x.log10().floor() - 1.0);
    (x / s).ceil() * s
}

/// Propagates `y0` through the output `times` with `e^{𝓛Δt}` computed by Arnoldi of dimension
/// `m`. `tol` bounds the local error per unit time (Expokit's criterion
/// `err_loc ≤ 1.2·Δt·tol` in the 2-norm of `vec(ρ)`); the accumulated bound is returned in
/// `Stats::error_estimate`. `anorm` is an estimate of ‖𝓛‖ used only for the first step size.
pub fn propagate(f: &mut dyn Rhs, y0: &[C64], times: &[f64], m: usize, tol: f64, anorm: f64, max_steps: u64, obs: &mut dyn Observer) -> Result<Stats> {
    check_times(times)?;
    if m < 2 {
        return Err(Error::model("$.solver.krylov_dim", format!("krylov_dim must be at least 2, got {m}")));
    }
    let n = f.len();
    let m = m.min(n.max(2));
    let anorm = anorm.max(1e-300);
    let mut st = Stats::default();
    let mut w = y0.to_vec();
    obs.output(0, times[0], &w)?;
    let gamma = 0.9;
    let delta = 1.2;
    let mxrej = 10;
    let btol = 1e-14 * anorm.max(1.0);
    let fact = (((m + 1) as f64) / std::f64::consts::E).powi(m as i32 + 1) * (2.0 * std::f64::consts::PI * (m + 1) as f64).sqrt();
    let mut v: Vec<Vec<C64>> = (0..=m).map(|_| vec![ZERO; n]).collect();
    let mut p = vec![ZERO; n];
    let mut t_new = {
        let beta = norm2(&w).max(1e-300);
        round_step((1.0 / anorm) * ((fact * tol) / (4.0 * beta * anorm)).powf(1.0 / m as f64))
    };
    let rndoff = anorm * f64::EPSILON;
    for k in 1..times.len() {
        let t_out = times[k] - times[k - 1];
        let mut t_now = 0.0;
        while t_now < t_out {
            if st.steps >= max_steps {
                return Err(Error::new(ErrorCode::Numerical, format!("krylov exceeded max_steps = {max_steps}")));
            }
            let beta = norm2(&w);
            if beta == 0.0 {
                break;
            }
            let mut t_step = (t_out - t_now).min(t_new);
            // Arnoldi
            let mut h = vec![vec![ZERO; m + 2]; m + 2]; // h[i][j]
            for (a, b) in v[0].iter_mut().zip(&w) {
                *a = b / beta;
            }
            let mut mb = m;
            let mut k1 = 2usize;
            for j in 0..m {
                f.eval(0.0, &v[j], &mut p);
                st.rhs_evals += 1;
                for i in 0..=j {
                    let hij = dot(&v[i], &p);
                    h[i][j] = hij;
                    caxpy(-hij, &v[i], &mut p);
                }
                let s = norm2(&p);
                if s < btol {
                    k1 = 0;
                    mb = j + 1;
                    t_step = t_out - t_now;
                    break;
                }
                h[j + 1][j] = C64::new(s, 0.0);
                for (a, b) in v[j + 1].iter_mut().zip(&p) {
                    *a = b / s;
                }
            }
            let mut avnorm = 0.0;
            if k1 != 0 {
                h[m + 1][m] = C64::new(1.0, 0.0);
                f.eval(0.0, &v[m], &mut p);
                st.rhs_evals += 1;
                avnorm = norm2(&p);
            }
            let mut ireject = 0;
            let mut xm = 1.0 / m as f64;
            let (mut fm, mut err_loc);
            loop {
                let mx = mb + k1;
                let hm = Mat::from_fn(mx, mx, |i, j| h[i][j] * t_step);
                fm = expm(&hm);
                if k1 == 0 {
                    err_loc = btol;
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
                if err_loc <= delta * t_step * tol {
                    break;
                }
                ireject += 1;
                st.rejected += 1;
                if ireject > mxrej {
                    return Err(Error::new(ErrorCode::Numerical, format!(
                        "krylov: requested tolerance too tight for krylov_dim = {m} at t = {} (raise krylov_dim or loosen rtol)", times[k - 1] + t_now)));
                }
                t_step = round_step(gamma * t_step * (t_step * tol / err_loc).powf(xm)).min(t_out - t_now);
            }
            let mx = mb + if k1 > 0 { k1 - 1 } else { 0 };
            w.iter_mut().for_each(|x| *x = ZERO);
            for i in 0..mx {
                caxpy(fm[(i, 0)] * beta, &v[i], &mut w);
            }
            t_now = if t_step >= t_out - t_now { t_out } else { t_now + t_step };
            st.steps += 1;
            if k1 != 0 {
                t_new = round_step(gamma * t_step * (t_step * tol / err_loc).powf(xm));
            }
            st.error_estimate += err_loc.max(rndoff);
            if w.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
                return Err(Error::numerical(format!("krylov: non-finite state at t = {}", times[k - 1] + t_now)));
            }
            obs.step(times[k - 1] + t_now)?;
        }
        obs.output(k, times[k], &w)?;
    }
    Ok(st)
}
