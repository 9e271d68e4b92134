//! Chebyshev propagator `y(t) = e^{𝓛t} y(0)` for time-independent, Hermiticity-preserving
//! generators: a polynomial expansion on an ellipse that encloses the field of values of 𝓛,
//! evaluated with a three-term recurrence (one right-hand-side evaluation per term, no
//! orthogonalisation and no stored basis).
//!
//! References: H. Tal-Ezer & R. Kosloff, *J. Chem. Phys.* 81, 3967 (1984) (Chebyshev
//! propagator, Bessel coefficients); W. Huisinga, L. Pesce, R. Kosloff & P. Saalfrank, *J. Chem.
//! Phys.* 110, 5538 (1999) (polynomial propagators for dissipative Liouvillians on an ellipse
//! that encloses the spectrum); M. Crouzeix, *J. Funct. Anal.* 244, 668 (2007) and Crouzeix &
//! Palencia (2017), `‖p(A)‖ ≤ (1+√2)·max_{W(A)} |p|` (why the field of values `W`, not the
//! spectrum, must be enclosed for a non-normal 𝓛).
//!
//! ## The expansion
//! The field of values of 𝓛 in the Hilbert–Schmidt inner product lies in a box
//! `Re W ⊂ [re_lo, re_hi]`, `Im W ⊂ [−Ω, Ω]` ([`FieldBox`]; `W` is symmetric about the real
//! axis because 𝓛 commutes with `X ↦ X†`). With `a` the box centre and an ellipse of foci
//! `a ± c` (dissipation-dominated, "real" orientation) or `a ± ic` (oscillation-dominated,
//! "imaginary" orientation) that contains the box, `B = (𝓛 − a)/c` and `x = cτ`:
//!
//! ```text
//! imaginary: e^{τ𝓛} = e^{aτ} Σ_k ε_k J_k(x) R_k(B),  R_0 = 1, R_1 = B, R_{k+1} = 2B R_k + R_{k−1}
//! real:      e^{τ𝓛} = e^{(a+c)τ} Σ_k ε_k e^{−x}I_k(x) T_k(B),  T_{k+1} = 2B T_k − T_{k−1}
//! ```
//!
//! with `ε_0 = 1`, `ε_k = 2`. The first is the Jacobi–Anger expansion `e^{ix cos θ} = Σ ε_k i^k
//! J_k(x) cos kθ` with `R_k(B) = i^k T_k(−iB)`, which has real coefficients; so every vector of
//! the recurrence is Hermitian when `y(0)` is, and the right-hand side's Hermitian fast path
//! applies. `J_k` and `e^{−x}I_k` are computed together by Miller's backward recurrence.
//!
//! Transcendental functions come from `libm`, so native and WebAssembly builds cut the series
//! after the same number of terms.
//!
//! ## Accuracy and safety
//! - Each output interval is cut into equal sub-steps with `x ≤` [`X_MAX`] and `r^x` bounded,
//!   where `r > 1` is the ellipse parameter (`‖R_k(B)‖ ≤ (1+√2) r^k` by Crouzeix's theorem).
//! - The series is cut when two consecutive terms (past `k > x`, where the coefficients decay
//!   super-exponentially) are below `10⁻³·(atol + rtol·max|y|)` entrywise; the sum of the
//!   neglected first terms is reported in [`Stats::error_estimate`].
//! - If a recurrence vector ever grows beyond `4(1+√2) r^k ‖y‖₂`, the box was too small (the
//!   Hamiltonian's spectral estimate is a Lanczos estimate): the box grows by 1.5× and the
//!   sub-step is redone (counted in [`Stats::rejected`]).

use super::{check_times, Observer, Rhs, Stats};
use crate::error::{Error, ErrorCode, Result};
use crate::lindblad::Lindbladian;
use crate::sparse::{as_f64, as_f64_mut, Csr};
use crate::C64;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };
const ONE: C64 = C64 { re: 1.0, im: 0.0 };

/// Largest `x = cτ` of one sub-step (longer expansions accumulate rounding and growth).
pub const X_MAX: f64 = 400.0;

/// An enclosing box of the field of values `W(𝓛) = {⟨X, 𝓛X⟩ / ⟨X, X⟩}` (Hilbert–Schmidt inner
/// product): `Re W ⊂ [re_lo, re_hi]`, `Im W ⊂ [−im_half, im_half]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldBox {
    /// Lower bound of `Re W`.
    pub re_lo: f64,
    /// Upper bound of `Re W`.
    pub re_hi: f64,
    /// Bound of `|Im W|`.
    pub im_half: f64,
}

impl FieldBox {
    /// Ratio of the imaginary to the real half-extent (large = oscillation-dominated).
    pub fn aspect(&self) -> f64 {
        self.im_half / (0.5 * (self.re_hi - self.re_lo)).max(1e-300)
    }
}

/// `‖A‖₂ ≤ √(‖A‖₁‖A‖_∞)` (max column sum times max row sum).
fn norm2_bound(a: &Csr) -> f64 {
    let mut col = vec![0.0; a.ncols];
    let mut row = vec![0.0; a.nrows];
    for (i, j, v) in a.triplets() {
        col[j] += v.norm();
        row[i] += v.norm();
    }
    let c = col.into_iter().fold(0.0, f64::max);
    let r = row.into_iter().fold(0.0, f64::max);
    (c * r).sqrt()
}

/// Extreme eigenvalues `(λ_min, λ_max)` of a Hermitian sparse matrix: Lanczos with full
/// reorthogonalisation (at most 80 steps, deterministic start vector), widened by the Ritz
/// residuals and 0.1 % of the spread, and clipped to the Gershgorin interval (a rigorous bound).
pub fn hermitian_extremes(h: &Csr) -> (f64, f64) {
    let n = h.nrows;
    // Gershgorin
    let mut g_lo = f64::INFINITY;
    let mut g_hi = f64::NEG_INFINITY;
    {
        let mut d = vec![0.0; n];
        let mut rad = vec![0.0; n];
        for (i, j, v) in h.triplets() {
            if i == j {
                d[i] += v.re;
            } else {
                rad[i] += v.norm();
            }
        }
        for i in 0..n {
            g_lo = g_lo.min(d[i] - rad[i]);
            g_hi = g_hi.max(d[i] + rad[i]);
        }
    }
    if n == 0 || h.nnz() == 0 {
        return (0.0, 0.0);
    }
    let m = n.min(80);
    // deterministic pseudo-random start (xorshift), normalised
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut q0: Vec<C64> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let a = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let b = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            C64::new(a, b)
        })
        .collect();
    let nrm = q0.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
    q0.iter_mut().for_each(|v| *v /= nrm);
    let mut qs: Vec<Vec<C64>> = vec![q0];
    let mut alpha: Vec<f64> = Vec::new();
    let mut beta: Vec<f64> = Vec::new();
    let mut w = vec![ZERO; n];
    for k in 0..m {
        w.iter_mut().for_each(|v| *v = ZERO);
        h.matvec_acc(ONE, &qs[k], &mut w);
        // full reorthogonalisation (twice is enough)
        for _ in 0..2 {
            for q in &qs {
                let d: C64 = q.iter().zip(&w).map(|(a, b)| a.conj() * b).sum();
                w.iter_mut().zip(q).for_each(|(x, y)| *x -= d * y);
            }
        }
        let a: C64 = {
            let mut hq = vec![ZERO; n];
            h.matvec_acc(ONE, &qs[k], &mut hq);
            qs[k].iter().zip(&hq).map(|(x, y)| x.conj() * y).sum()
        };
        alpha.push(a.re);
        let b = w.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
        beta.push(b);
        if k + 1 == m || b <= 1e-12 * (g_hi - g_lo).abs().max(1e-300) {
            break;
        }
        qs.push(w.iter().map(|v| v / b).collect());
    }
    let k = alpha.len();
    let t = nalgebra::DMatrix::<f64>::from_fn(k, k, |i, j| {
        if i == j {
            alpha[i]
        } else if i + 1 == j {
            beta[i]
        } else if j + 1 == i {
            beta[j]
        } else {
            0.0
        }
    });
    let eig = nalgebra::SymmetricEigen::new(t);
    let bk = beta[k - 1];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut res_lo, mut res_hi) = (0.0, 0.0);
    for (i, &th) in eig.eigenvalues.iter().enumerate() {
        let res = (bk * eig.eigenvectors[(k - 1, i)]).abs();
        if th < lo {
            lo = th;
            res_lo = res;
        }
        if th > hi {
            hi = th;
            res_hi = res;
        }
    }
    let margin = 1e-3 * (hi - lo).abs();
    ((lo - res_lo - margin).max(g_lo), (hi + res_hi + margin).min(g_hi))
}

/// The [`FieldBox`] of a time-independent generator: `Im W` from the spread of the
/// Hamiltonian's spectrum (the commutator `−i[H,·]` has eigenvalues `−i(E_a − E_b)`) plus the
/// norm of each dissipator's anti-Hermitian part; `Re W` from the dissipators alone (a jump
/// `r·D[L]` contributes `[−2r‖L‖², r‖L‖²]`, any other term `±|c|(‖A‖‖B‖ + ‖B†A‖)`), with the
/// operator norms bounded by `√(‖·‖₁‖·‖_∞)`.
pub fn field_box(l: &Lindbladian) -> Result<FieldBox> {
    if !l.is_time_independent() {
        return Err(Error::model("$.solver.method", "cheby needs a time-independent generator (use dopri5 or trbdf2)"));
    }
    let n = l.dim();
    let mut h = Csr::zeros(n, n);
    for t in &l.hamiltonian {
        h = h.add(ONE, &t.op, t.coef.amp);
    }
    let (e_lo, e_hi) = hermitian_extremes(&h);
    let mut im = (e_hi - e_lo).max(0.0);
    let (mut re_lo, mut re_hi) = (0.0f64, 0.0f64);
    for d in &l.dissipators {
        let c = d.rate.amp;
        let na = norm2_bound(&d.a);
        let nb = norm2_bound(&d.b);
        let same = d.a.nrows == d.b.nrows && d.a.nnz() == d.b.nnz() && d.a.triplets().zip(d.b.triplets()).all(|(x, y)| x == y);
        if same && c.im == 0.0 && c.re >= 0.0 {
            let s = c.re * na * na;
            re_lo -= 2.0 * s;
            re_hi += s;
            im += s;
        } else {
            let nba = norm2_bound(&d.b.adjoint().matmul(&d.a));
            let s = c.norm() * (na * nb + nba);
            re_lo -= s;
            re_hi += s;
            im += s;
        }
    }
    Ok(FieldBox { re_lo, re_hi, im_half: im })
}

/// `J_k(x)` (imaginary orientation) or `e^{−x} I_k(x)` (real orientation) for `k = 0..=kmax`,
/// `x ≥ 0`, by Miller's backward recurrence normalised with `J_0 + 2ΣJ_{2k} = 1` resp.
/// `e^{−x}(I_0 + 2ΣI_k) = 1` (Abramowitz & Stegun 9.1.46, 9.6.37; Numerical Recipes §6.5).
pub fn bessel_coefficients(x: f64, kmax: usize, modified: bool) -> Vec<f64> {
    let mut out = vec![0.0; kmax + 1];
    if x == 0.0 {
        out[0] = 1.0;
        return out;
    }
    let top = (kmax as f64).max(x);
    let mut m = (top + 20.0 + (40.0 * top).sqrt()).ceil() as usize;
    m += m % 2;
    let (mut bjp, mut bj) = (0.0f64, 1e-280f64);
    let mut norm = 0.0f64;
    // J_{j−1} = (2j/x)J_j − J_{j+1};  I_{j−1} = (2j/x)I_j + I_{j+1}
    let sgn = if modified { 1.0 } else { -1.0 };
    // bj holds the value at index j; step to j − 1
    for j in (1..=m).rev() {
        if j <= kmax {
            out[j] = bj;
        }
        if modified {
            norm += 2.0 * bj;
        } else if j % 2 == 0 {
            norm += 2.0 * bj;
        }
        let bjm = (2.0 * j as f64 / x) * bj + sgn * bjp;
        bjp = bj;
        bj = bjm;
        if bj.abs() > 1e250 {
            bj *= 1e-250;
            bjp *= 1e-250;
            norm *= 1e-250;
            out.iter_mut().for_each(|v| *v *= 1e-250);
        }
    }
    out[0] = bj;
    norm += bj;
    out.iter_mut().for_each(|v| *v /= norm);
    out
}

/// The expansion of one sub-step length.
struct Expansion {
    tau: f64,
    /// `ε_k·J_k(x)` resp. `ε_k·e^{−x}I_k(x)`, times the prefactor `p`.
    coef: Vec<f64>,
}

/// Ellipse geometry for a box.
#[derive(Clone, Copy, Debug)]
struct Ellipse {
    a: f64,
    c: f64,
    /// `ln r`, `r = (α + β)/c`.
    ln_r: f64,
    imaginary: bool,
}

fn ellipse(b: &FieldBox) -> Ellipse {
    let a = 0.5 * (b.re_lo + b.re_hi);
    let half_re = (0.5 * (b.re_hi - b.re_lo)).max(0.0);
    let half_im = b.im_half.max(0.0);
    let imaginary = half_im >= half_re;
    let (p, q) = if imaginary { (half_im, half_re) } else { (half_re, half_im) };
    let p = p.max(1e-300);
    // semi-axes α = p(1+η) along the long side, β chosen so the corner (p, q) lies on the
    // ellipse; η grows with q/p so that β < α
    let eta = (2.0 * q / p).max(0.15);
    let alpha = p * (1.0 + eta);
    let beta = q / (1.0 - 1.0 / ((1.0 + eta) * (1.0 + eta))).sqrt();
    let c = (alpha * alpha - beta * beta).max(0.0).sqrt().max(1e-300);
    let ln_r = libm::log((alpha + beta) / c);
    Ellipse { a, c, ln_r, imaginary }
}

/// Sub-step length for an interval `dt`: `x = cτ ≤ X_MAX` and `r^x ≤ 20`.
fn substeps(e: &Ellipse, dt: f64) -> usize {
    let xmax = X_MAX.min((0.8 * libm::log(20.0) / e.ln_r.max(1e-12)).max(4.0));
    ((e.c * dt / xmax).ceil() as usize).max(1)
}

fn expansion(e: &Ellipse, tau: f64) -> Expansion {
    let x = e.c * tau;
    let kmax = (x + 20.0 * libm::cbrt(x) + 60.0).ceil() as usize;
    let mut coef = bessel_coefficients(x, kmax, !e.imaginary);
    let p = if e.imaginary { libm::exp(e.a * tau) } else { libm::exp((e.a + e.c) * tau) };
    for (k, v) in coef.iter_mut().enumerate() {
        *v *= if k == 0 { p } else { 2.0 * p };
    }
    Expansion { tau, coef }
}

/// One recurrence step on interleaved f64 data: `w0 ← two_c·(lw − a·w1) + s·w0` (the new
/// vector), `sum += coef·w0`; returns `(‖w0‖₂², max|w0|)`. Elementwise with real
/// coefficients, so Hermitian inputs give a Hermitian result bit for bit.
#[allow(clippy::too_many_arguments)]
#[inline]
fn recur(lw: &[f64], w1: &[f64], w0: &mut [f64], sum: &mut [f64], two_c: f64, a: f64, s: f64, coef: f64) -> (f64, f64) {
    // eight independent accumulators so the reductions vectorise (a single running sum is a
    // latency-bound dependency chain that cost as much as the rest of the step)
    const L: usize = 8;
    let len = w0.len();
    let (lw, w1, sum) = (&lw[..len], &w1[..len], &mut sum[..len]);
    let mut n2 = [0.0f64; L];
    let mut mx = [0.0f64; L];
    let body = len - len % L;
    for (((o, l), w), sm) in w0[..body].chunks_exact_mut(L).zip(lw[..body].chunks_exact(L)).zip(w1[..body].chunks_exact(L)).zip(sum[..body].chunks_exact_mut(L)) {
        for q in 0..L {
            let v = two_c * (l[q] - a * w[q]) + s * o[q];
            o[q] = v;
            sm[q] += coef * v;
            n2[q] += v * v;
            let av = v.abs();
            mx[q] = if av > mx[q] { av } else { mx[q] };
        }
    }
    let mut tn2 = n2.iter().sum::<f64>();
    let mut tmx = mx.iter().cloned().fold(0.0f64, f64::max);
    for i in body..len {
        let v = two_c * (lw[i] - a * w1[i]) + s * w0[i];
        w0[i] = v;
        sum[i] += coef * v;
        tn2 += v * v;
        tmx = tmx.max(v.abs());
    }
    if tn2.is_nan() {
        tmx = f64::NAN;
    }
    (tn2, tmx)
}

/// `y ← (y + y†)/2` for a column-major `n × n` buffer.
fn symmetrize(y: &mut [C64], n: usize) {
    for j in 0..n {
        y[j + j * n].im = 0.0;
        for i in j + 1..n {
            let h = (y[i + j * n] + y[j + i * n].conj()) * 0.5;
            y[i + j * n] = h;
            y[j + i * n] = h.conj();
        }
    }
}

/// Propagates `y0` (a Hermitian `vec(ρ)`) through the output `times` with the Chebyshev
/// expansion of the module docs. `f` must apply a time-independent, Hermiticity-preserving 𝓛
/// whose output is exactly Hermitian for exactly Hermitian input (the fast path of
/// [`crate::lindblad::MatrixRhs`] guarantees it, so its input projection can be off); `fov` must
/// enclose its field of values.
pub fn propagate(f: &mut dyn Rhs, y0: &[C64], times: &[f64], fov: FieldBox, rtol: f64, atol: f64, max_steps: u64, obs: &mut dyn Observer) -> Result<Stats> {
    check_times(times)?;
    if !(fov.re_lo <= fov.re_hi && fov.im_half >= 0.0 && fov.re_lo.is_finite() && fov.re_hi.is_finite() && fov.im_half.is_finite()) {
        return Err(Error::new(ErrorCode::Numerical, format!("cheby: invalid field-of-values box {fov:?}")));
    }
    let n = f.len();
    let nd = (n as f64).sqrt().round() as usize;
    if nd * nd != n {
        return Err(Error::new(ErrorCode::Numerical, format!("cheby: state length {n} is not the square of a dimension")));
    }
    let mut st = Stats::default();
    let mut fov = fov;
    let mut ell = ellipse(&fov);
    let mut y = y0.to_vec();
    obs.output(0, times[0], &y)?;
    // every vector of the recurrence stays exactly Hermitian (see `recur`) if 𝓛's output is
    symmetrize(&mut y, nd);
    let (mut w0, mut w1, mut lw, mut sum) = (vec![ZERO; n], vec![ZERO; n], vec![ZERO; n], vec![ZERO; n]);
    let mut cache: Option<Expansion> = None;
    let crouzeix = 1.0 + std::f64::consts::SQRT_2;
    for k in 1..times.len() {
        let dt = times[k] - times[k - 1];
        if dt > 0.0 {
            let mut t_done = 0.0;
            let mut left = substeps(&ell, dt);
            let mut tau = dt / left as f64;
            while left > 0 {
                st.steps += 1;
                if st.steps + st.rejected > max_steps {
                    return Err(Error::new(ErrorCode::Numerical, format!("cheby exceeded max_steps = {max_steps}")));
                }
                if cache.as_ref().map_or(true, |c| c.tau != tau) {
                    cache = Some(expansion(&ell, tau));
                }
                let ex = cache.as_ref().expect("expansion");
                let ymax = y.iter().fold(0.0f64, |m, v| m.max(v.re.abs()).max(v.im.abs()));
                let ynorm = y.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
                let tail_tol = 1e-3 * (atol + rtol * ymax);
                let (a, two_c, s) = (ell.a, 2.0 / ell.c, if ell.imaginary { 1.0 } else { -1.0 });
                let x = ell.c * tau;
                // w0 = y, w1 = B y = (𝓛y − a y)/c, sum = coef₀ y + coef₁ w1
                f.eval(0.0, &y, &mut lw);
                st.rhs_evals += 1;
                w0.iter_mut().for_each(|v| *v = ZERO);
                sum.iter_mut().zip(&y).for_each(|(o, v)| *o = v * ex.coef[0]);
                recur(as_f64(&lw), as_f64(&y), as_f64_mut(&mut w0), as_f64_mut(&mut sum), 0.5 * two_c, a, 0.0, ex.coef[1]);
                std::mem::swap(&mut w0, &mut w1);
                w0.copy_from_slice(&y);
                let mut small = 0;
                let mut kk = 1usize;
                let mut grew = false;
                let mut tail = 0.0;
                loop {
                    kk += 1;
                    if kk >= ex.coef.len() {
                        return Err(Error::new(ErrorCode::Numerical, format!(
                            "cheby: the expansion did not converge in {} terms at t = {} (x = {x:.1}); use dopri5", ex.coef.len(), times[k - 1] + t_done)));
                    }
                    // 𝓛w1 arrives in parts and enters the recurrence at once (never stored whole)
                    let coef = ex.coef[kk];
                    let (w0p, sump) = (crate::par::SharedMut::new(&mut w0), crate::par::SharedMut::new(&mut sum));
                    let w1r: &[C64] = &w1;
                    let partial = std::sync::Mutex::new(Vec::<(usize, f64, f64)>::new());
                    f.eval_parts(0.0, &w1, &mut lw, &|start, part| {
                        let len = part.len();
                        // SAFETY: the parts cover 0..n once, so these ranges are disjoint.
                        let (o, sm) = unsafe { (w0p.slice(start, len), sump.slice(start, len)) };
                        let (n2, mx) = recur(as_f64(part), as_f64(&w1r[start..start + len]), as_f64_mut(o), as_f64_mut(sm), two_c, a, s, coef);
                        partial.lock().unwrap_or_else(|e| e.into_inner()).push((start, n2, mx));
                    });
                    st.rhs_evals += 1;
                    // reduced in order of position: independent of the thread count
                    let mut partial = partial.into_inner().unwrap_or_else(|e| e.into_inner());
                    partial.sort_unstable_by_key(|p| p.0);
                    let (n2, mx) = partial.iter().fold((0.0, 0.0), |x: (f64, f64), y| (x.0 + y.1, if x.1.is_nan() || y.2.is_nan() { f64::NAN } else { x.1.max(y.2) }));
                    std::mem::swap(&mut w0, &mut w1);
                    if !n2.is_finite() || n2.sqrt() > 4.0 * crouzeix * libm::exp(ell.ln_r * kk as f64) * ynorm.max(1e-300) {
                        grew = true;
                        break;
                    }
                    let term = ex.coef[kk].abs() * mx;
                    if kk as f64 > x && term <= tail_tol {
                        small += 1;
                        tail += term;
                        if small >= 2 {
                            break;
                        }
                    } else {
                        small = 0;
                        tail = 0.0;
                    }
                }
                if grew {
                    // the box missed part of W(𝓛): widen it and redo the rest of the interval
                    st.rejected += 1;
                    if st.rejected > 20 {
                        return Err(Error::new(ErrorCode::Numerical, "cheby: the recurrence keeps growing (the generator's field of values could not be enclosed); use dopri5".to_string()));
                    }
                    let w = 0.5 * (fov.re_hi - fov.re_lo);
                    fov = FieldBox { re_lo: fov.re_lo - 0.25 * w - 1e-12, re_hi: fov.re_hi + 0.25 * w + 1e-12, im_half: fov.im_half * 1.5 + 1e-12 };
                    ell = ellipse(&fov);
                    cache = None;
                    let rem = dt - t_done;
                    left = substeps(&ell, rem);
                    tau = rem / left as f64;
                    continue;
                }
                st.error_estimate += tail;
                std::mem::swap(&mut y, &mut sum);
                t_done += tau;
                left -= 1;
                super::check_finite(&y, times[k - 1] + t_done)?;
                obs.step(if left == 0 { times[k] } else { times[k - 1] + t_done })?;
            }
        }
        obs.output(k, times[k], &y)?;
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_j_matches_libm() {
        for &x in &[0.3, 1.0, 7.5, 42.0, 150.0, 399.0] {
            let kmax = (x + 20.0 * f64::cbrt(x) + 60.0) as usize;
            let j = bessel_coefficients(x, kmax, false);
            for k in (0..=kmax).step_by(7) {
                let r = libm::jn(k as i32, x);
                assert!((j[k] - r).abs() <= 1e-13 + 1e-10 * r.abs(), "J_{k}({x}) = {} vs libm {r}", j[k]);
            }
        }
    }

    #[test]
    fn modified_bessel_sum_rule_and_values() {
        // e^{-x} I_k(x): Σ ε_k e^{-x} I_k = 1, and I_0(1) = 1.2660658777520084 (A&S table 9.8)
        let v = bessel_coefficients(1.0, 40, true);
        assert!((v[0] * 1f64.exp() - 1.2660658777520084).abs() < 1e-14);
        assert!((v[1] * 1f64.exp() - 0.5651591039924851).abs() < 1e-14);
        for &x in &[0.5, 20.0, 300.0] {
            let kmax = (x + 20.0 * f64::cbrt(x) + 60.0) as usize;
            let v = bessel_coefficients(x, kmax, true);
            let s: f64 = v[0] + 2.0 * v[1..].iter().sum::<f64>();
            assert!((s - 1.0).abs() < 1e-13, "sum rule at x = {x}: {s}");
        }
    }
}
