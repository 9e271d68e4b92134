//! Matrix exponential by Padé(13) scaling-and-squaring (Higham, "The scaling and squaring
//! method for the matrix exponential revisited", SIAM J. Matrix Anal. Appl. 26 (2005)), and the
//! exact propagation `|ρ(t)⟩ = e^{𝓛t}|ρ(0)⟩` of the lecture slides for small time-independent
//! generators.

use super::{check_times, Observer, Stats};
use crate::error::{check_budget, Error, Result};
use crate::sparse::Csr;
use crate::C64;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::factor::{lu_in_place, lu_in_place_scratch};
use faer::linalg::lu::partial_pivoting::solve::{solve_in_place_scratch, solve_in_place_with_conj};
use faer::linalg::matmul::matmul;
use faer::{Accum, Conj, Mat, MatRef, Par};

const B13: [f64; 14] = [
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
];
const THETA13: f64 = 5.371920351148152;
const ONE: C64 = C64 { re: 1.0, im: 0.0 };

fn one_norm(a: MatRef<'_, C64>) -> f64 {
    // |z| as √(re² + im²): hypot's overflow guard is not needed here and is a slow software
    // routine in WebAssembly; the norm only picks the scaling power
    (0..a.ncols()).map(|j| (0..a.nrows()).map(|i| a[(i, j)].norm_sqr().sqrt()).sum::<f64>()).fold(0.0, f64::max)
}

/// `c ← a b` (c preallocated).
fn mul_into(c: &mut Mat<C64>, a: &Mat<C64>, b: &Mat<C64>) {
    #[cfg(target_arch = "wasm32")]
    if a.nrows() <= SMALL {
        let n = a.nrows();
        for j in 0..n {
            let cj = c.col_mut(j).try_as_col_major_mut().expect("contiguous column").as_slice_mut();
            small_matvec(a.as_ref(), b.col(j).try_as_col_major().expect("contiguous column").as_slice(), cj);
        }
        return;
    }
    matmul(c, Accum::Replace, a, b, ONE, Par::Seq);
}

/// Matrices up to this size use [`small_matvec`] in WebAssembly: faer's small-matrix kernels
/// (nano-gemm) have no wasm SIMD path, and plain column loops compile to simd128 there.
#[cfg(target_arch = "wasm32")]
const SMALL: usize = 64;

/// `y ← A x` by columns (`y = Σ_k x_k A[:,k]`) on interleaved re/im data, for small square `A`.
#[cfg(target_arch = "wasm32")]
fn small_matvec(a: MatRef<'_, C64>, x: &[C64], y: &mut [C64]) {
    let n = a.nrows();
    let yf = crate::sparse::as_f64_mut(y);
    yf.iter_mut().for_each(|v| *v = 0.0);
    for (k, xk) in x.iter().enumerate() {
        if *xk == C64::new(0.0, 0.0) {
            continue;
        }
        let col = crate::sparse::as_f64(a.col(k).try_as_col_major().expect("contiguous column").as_slice());
        let (xr, xi) = (xk.re, xk.im);
        for (o, c) in yf[..2 * n].chunks_exact_mut(2).zip(col.chunks_exact(2)) {
            o[0] += xr * c[0] - xi * c[1];
            o[1] += xr * c[1] + xi * c[0];
        }
    }
}

/// `out ← Σ c_k M_k` (+ `c_id · I`).
fn lincomb_into(out: &mut Mat<C64>, terms: &[(f64, &Mat<C64>)], c_id: f64) {
    let n = out.nrows();
    for j in 0..n {
        for i in 0..n {
            let mut s = if i == j { C64::new(c_id, 0.0) } else { C64::new(0.0, 0.0) };
            for (c, m) in terms {
                s += m[(i, j)] * *c;
            }
            out[(i, j)] = s;
        }
    }
}

/// The buffers of one Padé(13) evaluation of an n×n exponential ([`expm_into`]): reused from
/// call to call, so that many small exponentials (one per bridge of a batch, per thread) do not
/// allocate — in the threaded WebAssembly build every allocation takes the one global
/// allocator lock.
pub struct ExpmWork {
    n: usize,
    a: Mat<C64>,
    a2: Mat<C64>,
    a4: Mat<C64>,
    a6: Mat<C64>,
    t1: Mat<C64>,
    t2: Mat<C64>,
    u: Mat<C64>,
    v: Mat<C64>,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
    stack: MemBuffer,
}

impl ExpmWork {
    /// Buffers for n×n matrices.
    pub fn new(n: usize) -> ExpmWork {
        let z = || Mat::<C64>::zeros(n, n);
        let req = lu_in_place_scratch::<usize, C64>(n, n, Par::Seq, Default::default()).or(solve_in_place_scratch::<usize, C64>(n, n, Par::Seq));
        ExpmWork { n, a: z(), a2: z(), a4: z(), a6: z(), t1: z(), t2: z(), u: z(), v: z(), perm: vec![0; n], perm_inv: vec![0; n], stack: MemBuffer::new(req) }
    }

    /// Matrix size.
    pub fn n(&self) -> usize {
        self.n
    }
}

/// `e^{A}` for a square dense matrix, accurate to double precision in the sense of Higham's
/// backward-error analysis. Cost ≈ (6 + s) matrix products plus one LU solve, where
/// `s = max(0, ⌈log₂(‖A‖₁/θ₁₃)⌉)`. Allocates its buffers; see [`expm_into`] to reuse them.
pub fn expm(a: &Mat<C64>) -> Mat<C64> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "expm needs a square matrix");
    let mut w = ExpmWork::new(n);
    let mut out = Mat::zeros(n, n);
    expm_into(a.as_ref(), &mut w, &mut out);
    out
}

/// [`expm`] into `out` (n×n) with the buffers `w` (made for n): no allocation, and the same
/// floating-point operations as `expm`.
pub fn expm_into(a: MatRef<'_, C64>, w: &mut ExpmWork, out: &mut Mat<C64>) {
    let n = w.n;
    assert!(a.nrows() == n && a.ncols() == n && out.nrows() == n && out.ncols() == n, "expm_into: sizes differ from the workspace");
    let norm = one_norm(a);
    if !norm.is_finite() {
        // a non-finite input has no exponential; NaN out (callers check finiteness) instead of
        // an unbounded number of squarings
        for j in 0..n {
            for i in 0..n {
                out[(i, j)] = C64::new(f64::NAN, f64::NAN);
            }
        }
        return;
    }
    let s = if norm > THETA13 { (norm / THETA13).log2().ceil() as i32 } else { 0 };
    let scale = 0.5f64.powi(s);
    for j in 0..n {
        for i in 0..n {
            w.a[(i, j)] = a[(i, j)] * scale;
        }
    }
    let b = &B13;
    mul_into(&mut w.a2, &w.a, &w.a);
    mul_into(&mut w.a4, &w.a2, &w.a2);
    mul_into(&mut w.a6, &w.a4, &w.a2);
    // U = A (A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I)
    lincomb_into(&mut w.t1, &[(b[13], &w.a6), (b[11], &w.a4), (b[9], &w.a2)], 0.0);
    mul_into(&mut w.t2, &w.a6, &w.t1);
    lincomb_into(&mut w.t1, &[(1.0, &w.t2), (b[7], &w.a6), (b[5], &w.a4), (b[3], &w.a2)], b[1]);
    mul_into(&mut w.u, &w.a, &w.t1);
    // V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I
    lincomb_into(&mut w.t1, &[(b[12], &w.a6), (b[10], &w.a4), (b[8], &w.a2)], 0.0);
    mul_into(&mut w.t2, &w.a6, &w.t1);
    lincomb_into(&mut w.v, &[(1.0, &w.t2), (b[6], &w.a6), (b[4], &w.a4), (b[2], &w.a2)], b[0]);
    // r = (V − U)⁻¹ (V + U)
    lincomb_into(out, &[(1.0, &w.v), (1.0, &w.u)], 0.0);
    lincomb_into(&mut w.t1, &[(1.0, &w.v), (-1.0, &w.u)], 0.0);
    let stack = MemStack::new(&mut w.stack);
    let (_, perm) = lu_in_place(w.t1.as_mut(), &mut w.perm, &mut w.perm_inv, Par::Seq, stack, Default::default());
    solve_in_place_with_conj(w.t1.as_ref(), w.t1.as_ref(), perm, Conj::No, out.as_mut(), Par::Seq, stack);
    for _ in 0..s {
        mul_into(&mut w.t2, out, out);
        std::mem::swap(out, &mut w.t2);
    }
}

/// An [`ExpmWork`] and three more n×n matrices for the caller ([`with_scratch`]).
pub struct Scratch {
    /// Padé buffers.
    pub work: ExpmWork,
    /// Caller's matrices (e.g. the generator, `𝓛Δt`, the propagator).
    pub mats: [Mat<C64>; 3],
}

thread_local! {
    /// Per-thread [`Scratch`] of the last small size used.
    static SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
}

/// Largest matrix size whose [`Scratch`] is kept per thread (11 matrices of 16 KiB at 32, so a
/// two-qubit superoperator (16) fits); larger sizes allocate per call, which their cost dwarfs.
const KEEP_MAX: usize = 32;

/// Runs `f` with n×n scratch matrices: for n ≤ 32 the calling thread's cached ones (allocated
/// on first use; contents left over from earlier calls), otherwise fresh ones. Many small
/// exponentials — one per bridge of a batch, or per step of a network bridge — then allocate
/// nothing, which matters in the threaded WebAssembly build, where every allocation takes the
/// one global allocator lock. Reentrant calls get fresh buffers.
pub fn with_scratch<R>(n: usize, f: impl FnOnce(&mut Scratch) -> R) -> R {
    let fresh = || Scratch { work: ExpmWork::new(n), mats: [Mat::zeros(n, n), Mat::zeros(n, n), Mat::zeros(n, n)] };
    if n > KEEP_MAX {
        return f(&mut fresh());
    }
    let mut s = SCRATCH.with(|c| c.borrow_mut().take()).filter(|s| s.work.n() == n).unwrap_or_else(fresh);
    let r = f(&mut s);
    SCRATCH.with(|c| *c.borrow_mut() = Some(s));
    r
}

/// Exact propagation with the dense propagator `e^{𝓛Δt}` (one Padé evaluation per distinct
/// output interval Δt). `l` is the sparse superoperator; the dense copies are checked against
/// `budget_bytes` before allocation.
pub fn propagate(l: &Csr, y0: &[C64], times: &[f64], budget_bytes: u128, obs: &mut dyn Observer) -> Result<Stats> {
    check_times(times)?;
    let m = l.nrows;
    // the generator, 𝓛Δt, the propagator and the Padé buffers (A, A², A⁴, A⁶, U, V and two
    // temporaries): 11 dense m×m matrices
    check_budget("the dense propagator e^{𝓛Δt} (Padé needs ~11 dense copies of the superoperator)", (m as u128) * (m as u128) * 16 * 11, budget_bytes)?;
    // The dense generator, `𝓛Δt`, the propagator and the Padé buffers are per-thread scratch
    // for small generators (a batch of bridges); nothing is allocated per output time.
    with_scratch(m, |s| {
        let [dense, scaled, prop] = &mut s.mats;
        dense.fill(C64::new(0.0, 0.0));
        for (i, j, v) in l.triplets() {
            dense[(i, j)] += v;
        }
        propagate_with(dense, y0, times, obs, &mut s.work, scaled, prop)
    })
}

/// [`propagate`] with the dense `m × m` generator written by `fill` into a zeroed matrix (so no
/// sparse superoperator is built): the path of `mesolve`'s `expm` method.
pub fn propagate_with_generator(m: usize, fill: impl FnOnce(&mut Mat<C64>), y0: &[C64], times: &[f64], budget_bytes: u128, obs: &mut dyn Observer) -> Result<Stats> {
    check_times(times)?;
    check_budget("the dense propagator e^{𝓛Δt} (Padé needs ~11 dense copies of the superoperator)", (m as u128) * (m as u128) * 16 * 11, budget_bytes)?;
    with_scratch(m, |s| {
        let [dense, scaled, prop] = &mut s.mats;
        dense.fill(C64::new(0.0, 0.0));
        fill(dense);
        propagate_with(dense, y0, times, obs, &mut s.work, scaled, prop)
    })
}

/// The time loop of [`propagate`] with its buffers: `scaled` and `prop` are m×m.
fn propagate_with(dense: &Mat<C64>, y0: &[C64], times: &[f64], obs: &mut dyn Observer, work: &mut ExpmWork, scaled: &mut Mat<C64>, prop: &mut Mat<C64>) -> Result<Stats> {
    let m = dense.nrows();
    let mut st = Stats::default();
    let mut y = y0.to_vec();
    let mut y_next = vec![C64::new(0.0, 0.0); m];
    obs.output(0, times[0], y0)?;
    let mut cached: Option<f64> = None;
    for k in 1..times.len() {
        let dt = times[k] - times[k - 1];
        if dt != 0.0 {
            // Evenly spaced grids differ in the last bits of Δt; reuse the propagator when the
            // intervals agree to 1e-13 relative (an error of ~1e-13·‖𝓛Δt‖, far below tolerances).
            let hit = matches!(cached, Some(cdt) if (cdt - dt).abs() <= 1e-13 * dt.abs());
            if !hit {
                for j in 0..m {
                    for i in 0..m {
                        scaled[(i, j)] = dense[(i, j)] * dt;
                    }
                }
                expm_into(scaled.as_ref(), work, prop);
                st.factorizations += 1;
                cached = Some(dt);
            }
            #[cfg(target_arch = "wasm32")]
            let small = m <= SMALL;
            #[cfg(not(target_arch = "wasm32"))]
            let small = false;
            if small {
                #[cfg(target_arch = "wasm32")]
                small_matvec(prop.as_ref(), &y, &mut y_next);
            } else {
                matmul(
                    faer::MatMut::from_column_major_slice_mut(&mut y_next, m, 1),
                    Accum::Replace,
                    prop.as_ref(),
                    faer::MatRef::from_column_major_slice(&y, m, 1),
                    ONE,
                    Par::Seq,
                );
            }
            std::mem::swap(&mut y, &mut y_next);
            st.steps += 1;
            st.rhs_evals += 1;
        }
        if y.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
            return Err(Error::numerical(format!("expm: non-finite state at t = {}", times[k])));
        }
        obs.output(k, times[k], &y)?;
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: an infinite norm made the squaring count `i32::MAX` (a hang); the result is
    /// now NaN at once, which every caller reports as a non-finite state.
    #[test]
    fn expm_of_a_non_finite_matrix_is_nan_at_once() {
        let a = Mat::from_fn(2, 2, |i, j| if i == j { C64::new(f64::INFINITY, 0.0) } else { C64::new(0.0, 0.0) });
        let e = expm(&a);
        assert!(e[(0, 0)].re.is_nan() && e[(1, 1)].im.is_nan());
    }

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
