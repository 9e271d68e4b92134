//! Hermitian eigensolvers and spectral functions: faer's self-adjoint solver ([`eigh`],
//! [`hermitian_eigenvalues`]); the allocation-free 4×4 routines of the concurrence, the cyclic
//! complex Jacobi eigensolver [`eigh4`] (Golub & Van Loan, *Matrix Computations*, §8.5) and the
//! one-sided Jacobi singular values [`singular_values4`] (Demmel & Veselić, SIAM J. Matrix Anal.
//! Appl. 13, 1204 (1992)); square roots of positive semidefinite spectra and matrices.

use crate::error::{Error, Result};
use crate::C64;
use nalgebra::DMatrix;

pub(super) fn to_faer(m: &DMatrix<C64>) -> faer::Mat<C64> {
    faer::Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
}

/// Eigen-decomposition of the Hermitian part `(h + h†)/2`: eigenvalues ascending and the
/// unitary of eigenvectors (columns), by faer's self-adjoint solver. (nalgebra 0.33's complex
/// `symmetric_eigen` returns wrong eigenvectors for some matrices with zero blocks — a
/// reconstruction error of 7·10⁻³ on a two-qubit X state — so the engine does not use it.)
pub(crate) fn eigh(h: &DMatrix<C64>) -> Result<(Vec<f64>, DMatrix<C64>)> {
    let n = h.nrows();
    let m = faer::Mat::from_fn(n, n, |i, j| (h[(i, j)] + h[(j, i)].conj()) * 0.5);
    let e = m.self_adjoint_eigen(faer::Side::Lower).map_err(|e| Error::numerical(format!("Hermitian eigensolver did not converge ({e:?})")))?;
    let s = e.S().column_vector();
    let u = e.U();
    Ok(((0..n).map(|i| s[i].re).collect(), DMatrix::from_fn(n, n, |i, j| u[(i, j)])))
}

/// `U diag(f(λ)) U†` for the decomposition of [`eigh`].
pub(crate) fn from_eigh(ev: &[f64], u: &DMatrix<C64>) -> DMatrix<C64> {
    let d = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(ev.len(), ev.iter().map(|&r| C64::new(r, 0.0))));
    u * d * u.adjoint()
}

/// Eigenvalues of the Hermitian part `(ρ + ρ†)/2`, ascending (faer's self-adjoint solver).
pub fn hermitian_eigenvalues(rho: &DMatrix<C64>) -> Vec<f64> {
    let n = rho.nrows();
    let h = faer::Mat::from_fn(n, n, |i, j| (rho[(i, j)] + rho[(j, i)].conj()) * 0.5);
    match h.self_adjoint_eigenvalues(faer::Side::Lower) {
        Ok(mut ev) => {
            ev.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            ev
        }
        Err(_) => vec![f64::NAN; n],
    }
}

/// |z| as √(x² + y²) where that is accurate (x² + y² between 2⁻⁹⁰⁰ and the overflow threshold:
/// a square lost to underflow is then below ε of the sum), else `hypot` — which is several times
/// slower and in the hot loop of the Jacobi solvers.
#[inline]
pub(super) fn cabs(z: C64) -> f64 {
    let n2 = z.re * z.re + z.im * z.im;
    if n2 > 1.2e-271 && n2 <= f64::MAX {
        n2.sqrt()
    } else {
        z.norm()
    }
}

/// The complex Jacobi rotation `U = diag(1, ē)·[[c, s], [−s, c]]` on the index pair (p, q) that
/// diagonalises the Hermitian 2×2 block `[[app, apq], [āpq, aqq]]` (`apq = r·e`, |e| = 1): the
/// phase makes the pivot real, then the real symmetric rotation of Golub & Van Loan, *Matrix
/// Computations*, Algorithm 8.5.1 (the smaller of the two angles).
struct Rotation {
    c: f64,
    s: f64,
    /// `U_qp = −s·ē`.
    uqp: C64,
    /// `U_qq = c·ē`.
    uqq: C64,
}

impl Rotation {
    /// For `apq ≠ 0`.
    fn new(app: f64, aqq: f64, apq: C64) -> Rotation {
        let r = cabs(apq);
        // the phase of a subnormal apq from a rescaled copy (exact: a power of two): apq/r
        // itself keeps only the few significant bits of a subnormal, |e| ≠ 1, and the
        // rotation would not be unitary (eigenvalues of a state with 1e-323 coherences came
        // out 25 % off)
        let e = if r < f64::MIN_POSITIVE {
            let z = apq * 2f64.powi(600);
            z / z.norm()
        } else {
            apq / r
        };
        let tau = (aqq - app) / (2.0 * r);
        let t = if tau >= 0.0 { 1.0 / (tau + (1.0 + tau * tau).sqrt()) } else { -1.0 / (-tau + (1.0 + tau * tau).sqrt()) };
        let c = 1.0 / (1.0 + t * t).sqrt();
        let s = t * c;
        Rotation { c, s, uqp: -e.conj() * s, uqq: e.conj() * c }
    }

    /// Columns p and q of the 4×4 column-major `x` ← those of `x U`.
    fn apply_columns(&self, x: &mut [C64; 16], p: usize, q: usize) {
        for k in 0..4 {
            let (xp, xq) = (x[k + 4 * p], x[k + 4 * q]);
            x[k + 4 * p] = xp * self.c + xq * self.uqp;
            x[k + 4 * q] = xp * self.s + xq * self.uqq;
        }
    }
}

/// Eigenvalues of a 4×4 Hermitian matrix `a` (column-major; only its Hermitian part counts), in
/// ascending order, by the cyclic complex Jacobi method (Golub & Van Loan, *Matrix
/// Computations*, §8.5, with a phase factor per rotation that makes the pivot real). `a` is
/// overwritten (its diagonal ends up holding the unsorted eigenvalues); with `vectors`, the
/// unitary of eigenvectors is written there, column k for eigenvalue k. Absolute accuracy
/// ≈ ε‖a‖, like any backward-stable Hermitian solver. No allocation.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn eigh4(a: &mut [C64; 16], mut vectors: Option<&mut [C64; 16]>) -> Result<[f64; 4]> {
    const N: usize = 4;
    let zero = C64::new(0.0, 0.0);
    for j in 0..N {
        a[j + N * j].im = 0.0;
        for i in 0..j {
            let h = (a[i + N * j] + a[j + N * i].conj()) * 0.5;
            a[i + N * j] = h;
            a[j + N * i] = h.conj();
        }
    }
    if let Some(v) = vectors.as_deref_mut() {
        *v = std::array::from_fn(|k| if k % N == k / N { C64::new(1.0, 0.0) } else { zero });
    }
    let frob2: f64 = a.iter().map(|z| z.norm_sqr()).sum();
    if !frob2.is_finite() {
        return Err(Error::numerical("Hermitian eigensolver: non-finite matrix entries"));
    }
    let mut converged = false;
    for _sweep in 0..32 {
        let off2: f64 = (0..N).flat_map(|j| (0..j).map(move |i| (i, j))).map(|(i, j)| a[i + N * j].norm_sqr()).sum();
        if off2 <= (f64::EPSILON * f64::EPSILON * 1e-2) * frob2 {
            converged = true;
            break;
        }
        for q in 1..N {
            for p in 0..q {
                let apq = a[p + N * q];
                let r = apq.norm();
                if r == 0.0 {
                    continue;
                }
                let rot = Rotation::new(a[p + N * p].re, a[q + N * q].re, apq);
                // a ← U† a U: columns, then rows
                rot.apply_columns(a, p, q);
                let (c, s, uqp, uqq) = (rot.c, rot.s, rot.uqp, rot.uqq);
                let upq = C64::new(s, 0.0);
                for k in 0..N {
                    let (xp, xq) = (a[p + N * k], a[q + N * k]);
                    a[p + N * k] = xp * c + xq * uqp.conj();
                    a[q + N * k] = xp * upq + xq * uqq.conj();
                }
                a[p + N * q] = zero;
                a[q + N * p] = zero;
                a[p + N * p].im = 0.0;
                a[q + N * q].im = 0.0;
                if let Some(v) = vectors.as_deref_mut() {
                    rot.apply_columns(v, p, q);
                }
            }
        }
    }
    if !converged {
        return Err(Error::numerical("Hermitian eigensolver (4×4 Jacobi) did not converge"));
    }
    // ascending order (insertion sort of the diagonal, vectors alongside)
    let mut ev: [f64; 4] = std::array::from_fn(|k| a[k + N * k].re);
    for k in 1..N {
        let mut m = k;
        while m > 0 && ev[m - 1] > ev[m] {
            ev.swap(m - 1, m);
            if let Some(v) = vectors.as_deref_mut() {
                for i in 0..N {
                    v.swap(i + N * (m - 1), i + N * m);
                }
            }
            m -= 1;
        }
    }
    Ok(ev)
}

/// Singular values of a 4×4 complex matrix (column-major), in no particular order, by one-sided
/// (Hestenes) Jacobi: column pairs are rotated until every pair is orthogonal to working
/// precision (|a_p†a_q| ≤ 16ε‖a_p‖‖a_q‖), and the singular values are the column norms (Demmel & Veselić, SIAM J. Matrix
/// Anal. Appl. 13, 1204 (1992)). `a` is overwritten; absolute accuracy ≈ ε‖a‖. No allocation.
pub(crate) fn singular_values4(a: &mut [C64; 16]) -> Result<[f64; 4]> {
    const N: usize = 4;
    // (explicit real loops: `Sum` for complex numbers is an out-of-line call per use)
    let col = |a: &[C64; 16], p: usize, q: usize| -> C64 {
        let (mut re, mut im) = (0.0, 0.0);
        for k in 0..N {
            let (x, y) = (a[k + N * p], a[k + N * q]);
            re += x.re * y.re + x.im * y.im;
            im += x.re * y.im - x.im * y.re;
        }
        C64::new(re, im)
    };
    let norm2 = |a: &[C64; 16], p: usize| -> f64 {
        let mut s = 0.0;
        for k in 0..N {
            s += a[k + N * p].re * a[k + N * p].re + a[k + N * p].im * a[k + N * p].im;
        }
        s
    };
    if a.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
        return Err(Error::numerical("singular values: non-finite matrix entries"));
    }
    for _sweep in 0..32 {
        let mut rotated = false;
        for q in 1..N {
            for p in 0..q {
                let (alpha, beta, g) = (norm2(a, p), norm2(a, q), col(a, p, q));
                let r = cabs(g);
                // rounding leaves |γ| ~ N·ε·√(αβ) between columns orthogonal in exact arithmetic
                if r == 0.0 || r <= 4.0 * N as f64 * f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                // the rotation that diagonalises the Gram block [[α, γ], [γ̄, β]], applied to columns
                Rotation::new(alpha, beta, g).apply_columns(a, p, q);
            }
        }
        if !rotated {
            return Ok(std::array::from_fn(|p| norm2(a, p).sqrt()));
        }
    }
    Err(Error::numerical("singular values (4×4 one-sided Jacobi) did not converge"))
}

/// Square roots of a spectrum that is positive semidefinite in exact arithmetic. Eigenvalues
/// within the eigensolver's rounding (|λ| ≤ 16·n·ε·max|λ|) count as 0 — otherwise a zero
/// eigenvalue computed as 1e-17 becomes √ = 3e-9 and, e.g., F(ρ, ρ) of a pure state exceeds 1
/// by 7e-9. Larger negative values (a state that is not PSD) also count as 0, as documented.
pub(super) fn sqrt_spectrum(ev: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; ev.len()];
    sqrt_spectrum_into(ev, &mut out);
    out
}

/// [`sqrt_spectrum`] into `out` (same length as `ev`), without allocating.
pub(super) fn sqrt_spectrum_into(ev: &[f64], out: &mut [f64]) {
    let scale = ev.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    let tol = 16.0 * ev.len() as f64 * f64::EPSILON * scale;
    for (o, &l) in out.iter_mut().zip(ev) {
        *o = if l <= tol { 0.0 } else { l.sqrt() };
    }
}

pub(super) fn sqrtm_psd(rho: &DMatrix<C64>) -> Result<DMatrix<C64>> {
    let (ev, u) = eigh(rho)?;
    Ok(from_eigh(&sqrt_spectrum(&ev), &u))
}
