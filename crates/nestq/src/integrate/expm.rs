//! Matrix exponential by Padé(13) scaling-and-squaring (Higham, "The scaling and squaring
//! method for the matrix exponential revisited", SIAM J. Matrix Anal. Appl. 26 (2005)), and the
//! exact propagation `|ρ(t)⟩ = e^{𝓛t}|ρ(0)⟩` of the lecture slides for small time-independent
//! generators.

use super::{check_times, Observer, Stats};
use crate::error::{check_budget, Error, Result};
use crate::sparse::Csr;
use crate::C64;
use faer::linalg::matmul::matmul;
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, Par};

const B13: [f64; 14] = [
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
];
const THETA13: f64 = 5.371920351148152;
const ONE: C64 = C64 { re: 1.0, im: 0.0 };

fn one_norm(a: &Mat<C64>) -> f64 {
    (0..a.ncols()).map(|j| (0..a.nrows()).map(|i| a[(i, j)].norm()).sum::<f64>()).fold(0.0, f64::max)
}

fn mul(a: &Mat<C64>, b: &Mat<C64>) -> Mat<C64> {
    let mut c = Mat::zeros(a.nrows(), b.ncols());
    matmul(&mut c, Accum::Replace, a, b, ONE, Par::Seq);
    c
}

/// `Σ c_k M_k` (+ `c_id · I`).
fn lincomb(n: usize, terms: &[(f64, &Mat<C64>)], c_id: f64) -> Mat<C64> {
    Mat::from_fn(n, n, |i, j| {
        let mut s = if i == j { C64::new(c_id, 0.0) } else { C64::new(0.0, 0.0) };
        for (c, m) in terms {
            s += m[(i, j)] * *c;
        }
        s
    })
}

/// `e^{A}` for a square dense matrix, accurate to double precision in the sense of Higham's
/// backward-error analysis. Cost ≈ (6 + s) matrix products plus one LU solve, where
/// `s = max(0, ⌈log₂(‖A‖₁/θ₁₃)⌉)`.
pub fn expm(a: &Mat<C64>) -> Mat<C64> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "expm needs a square matrix");
    let norm = one_norm(a);
    let s = if norm > THETA13 { (norm / THETA13).log2().ceil() as i32 } else { 0 };
    let scale = 0.5f64.powi(s);
    let a = Mat::from_fn(n, n, |i, j| a[(i, j)] * scale);
    let a2 = mul(&a, &a);
    let a4 = mul(&a2, &a2);
    let a6 = mul(&a4, &a2);
    let b = &B13;
    let u_inner = mul(&a6, &lincomb(n, &[(b[13], &a6), (b[11], &a4), (b[9], &a2)], 0.0));
    let u_inner = lincomb(n, &[(1.0, &u_inner), (b[7], &a6), (b[5], &a4), (b[3], &a2)], b[1]);
    let u = mul(&a, &u_inner);
    let v_inner = mul(&a6, &lincomb(n, &[(b[12], &a6), (b[10], &a4), (b[8], &a2)], 0.0));
    let v = lincomb(n, &[(1.0, &v_inner), (b[6], &a6), (b[4], &a4), (b[2], &a2)], b[0]);
    let p = lincomb(n, &[(1.0, &v), (1.0, &u)], 0.0);
    let q = lincomb(n, &[(1.0, &v), (-1.0, &u)], 0.0);
    let mut r = p;
    q.partial_piv_lu().solve_in_place(&mut r);
    for _ in 0..s {
        r = mul(&r, &r);
    }
    r
}

/// Exact propagation with the dense propagator `e^{𝓛Δt}` (one Padé evaluation per distinct
/// output interval Δt). `l` is the sparse superoperator; the dense copies are checked against
/// `budget_bytes` before allocation.
pub fn propagate(l: &Csr, y0: &[C64], times: &[f64], budget_bytes: u128, obs: &mut dyn Observer) -> Result<Stats> {
    check_times(times)?;
    let m = l.nrows;
    // A, A², A⁴, A⁶, U, V, P, Q, the propagator and temporaries: about 10 dense m×m matrices.
    check_budget("the dense propagator e^{𝓛Δt} (Padé needs ~10 dense copies of the superoperator)", (m as u128) * (m as u128) * 16 * 10, budget_bytes)?;
    let dense = {
        let mut d = Mat::<C64>::zeros(m, m);
        for (i, j, v) in l.triplets() {
            d[(i, j)] += v;
        }
        d
    };
    let mut st = Stats::default();
    let mut y = Mat::from_fn(m, 1, |i, _| y0[i]);
    obs.output(0, times[0], y0)?;
    let mut cache: Option<(f64, Mat<C64>)> = None;
    for k in 1..times.len() {
        let dt = times[k] - times[k - 1];
        if dt != 0.0 {
            // Evenly spaced grids differ in the last bits of Δt; reuse the propagator when the
            // intervals agree to 1e-13 relative (an error of ~1e-13·‖𝓛Δt‖, far below tolerances).
            let hit = matches!(&cache, Some((cdt, _)) if (*cdt - dt).abs() <= 1e-13 * dt.abs());
            if !hit {
                let a = Mat::from_fn(m, m, |i, j| dense[(i, j)] * dt);
                let p = expm(&a);
                st.factorizations += 1;
                cache = Some((dt, p));
            }
            let p = &cache.as_ref().unwrap().1;
            y = mul(p, &y);
            st.steps += 1;
            st.rhs_evals += 1;
        }
        let v: Vec<C64> = (0..m).map(|i| y[(i, 0)]).collect();
        if v.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
            return Err(Error::numerical(format!("expm: non-finite state at t = {}", times[k])));
        }
        obs.output(k, times[k], &v)?;
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expm_of_rotation_generator() {
        // exp(θ [[0, -1],[1, 0]]) = [[cos, -sin],[sin, cos]] for a large θ (exercises squaring)
        let th = 37.3;
        let a = Mat::from_fn(2, 2, |i, j| match (i, j) {
            (0, 1) => C64::new(-th, 0.0),
            (1, 0) => C64::new(th, 0.0),
            _ => C64::new(0.0, 0.0),
        });
        let e = expm(&a);
        assert!((e[(0, 0)] - C64::new(th.cos(), 0.0)).norm() < 1e-12);
        assert!((e[(1, 0)] - C64::new(th.sin(), 0.0)).norm() < 1e-12);
        // non-normal nilpotent: exp([[0,1],[0,0]]·x) = [[1,x],[0,1]]
        let b = Mat::from_fn(2, 2, |i, j| if (i, j) == (0, 1) { C64::new(3.5, 1.0) } else { C64::new(0.0, 0.0) });
        let e = expm(&b);
        assert!((e[(0, 1)] - C64::new(3.5, 1.0)).norm() < 1e-13);
        assert!((e[(0, 0)] - ONE).norm() < 1e-14);
    }
}
