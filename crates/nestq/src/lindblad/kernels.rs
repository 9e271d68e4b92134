//! Column kernels of [`MatrixRhs`](super::MatrixRhs) on column-major `n × n` buffers: the
//! sparse–dense products `X·G†` and `X·R` (CSR rows fused four at a time), the sandwich terms
//! `c·A X B†`, the Hermitian part `(x + x†)/2`, and the column-parallel split over
//! [`crate::par`] (used for `n ≥` [`PAR_MIN_N`]).

use super::rhs::Sandwich;
use super::{ONE, ZERO};
use crate::sparse::{as_f64, as_f64_mut, caxpy, Csr};
use crate::C64;

/// Column-block width of [`MatrixRhs::apply_parts`](super::MatrixRhs::apply_parts) (n = 256: 16 KiB per block, in L1).
pub const PART_COLS: usize = 4;

/// The non-monomial sandwiches `target += scale · Σ c A X B†`, each as `T = X B†` (in `tmp`,
/// n×n) then `target += scale·c·A T`, column-parallel when `par`.
#[allow(clippy::too_many_arguments)]
pub(super) fn general_sandwiches(sandwiches: &[Sandwich], coefs: &[C64], scale: f64, x: &[C64], n: usize, par: bool, tmp: &mut [C64], target: &mut [C64]) {
    for (s, &c) in sandwiches.iter().zip(coefs.iter()) {
        if s.mono.is_some() || c == ZERO {
            continue;
        }
        let b = &s.b;
        for_columns(par, tmp, n, |j0, chunk| {
            chunk.iter_mut().for_each(|v| *v = ZERO);
            right_mul_adj_cols(ONE, x, b, n, j0, chunk);
        });
        let t: &[C64] = tmp;
        let a = &s.a;
        let cs = c * scale;
        for_columns(par, target, n, |j0, chunk| {
            let m = chunk.len() / n;
            for cc in 0..m {
                let j = j0 + cc;
                a.matvec_acc(cs, &t[j * n..(j + 1) * n], &mut chunk[cc * n..(cc + 1) * n]);
            }
        });
    }
}

/// Smallest Hilbert-space dimension for which the right-hand side runs column-parallel.
pub const PAR_MIN_N: usize = 128;

pub(super) fn parallel_ok(n: usize) -> bool {
    n >= PAR_MIN_N && crate::par::threads() > 1
}

/// Runs `f(first_column, chunk)` over column blocks of a column-major `n × n` buffer, in
/// parallel when `par` (on the calling thread's [`crate::par`] team if it leads one, else on
/// rayon's pool), else as one block.
pub(super) fn for_columns<F>(par: bool, buf: &mut [C64], n: usize, f: F)
where
    F: Fn(usize, &mut [C64]) + Sync + Send,
{
    if par {
        let cols = n.div_ceil(crate::par::threads() * 4).max(8).next_multiple_of(PART_COLS);
        crate::par::for_chunks_mut(buf, cols * n, |b, chunk| f(b * cols, chunk));
        return;
    }
    f(0, buf)
}

/// Monomial sandwiches `scale·c·A X B†` restricted to output columns `j0 ..` of `chunk`.
pub(super) fn mono_sandwiches_cols(sandwiches: &[Sandwich], coefs: &[C64], scale: f64, x: &[C64], n: usize, j0: usize, chunk: &mut [C64]) {
    let j1 = j0 + chunk.len() / n;
    for (s, &c) in sandwiches.iter().zip(coefs) {
        if c == ZERO {
            continue;
        }
        let c = c * scale;
        let Some((ra, rb)) = &s.mono else { continue };
        // rb is sorted by row j of B (= output column)
        let lo = rb.partition_point(|e| e.0 < j0);
        let hi = rb.partition_point(|e| e.0 < j1);
        if let Some((ra_re, rb_re)) = &s.mono_real {
            if c.im == 0.0 {
                // real operators and rate (σ±, a, a†, Pauli X/Z strings): real scale factors
                for &(j, pbj, vbj) in &rb_re[lo..hi] {
                    let cj = c.re * vbj;
                    let xc = &x[pbj * n..(pbj + 1) * n];
                    let oc = &mut chunk[(j - j0) * n..(j - j0 + 1) * n];
                    for &(i, pai, vai) in ra_re {
                        oc[i] += xc[pai] * (cj * vai);
                    }
                }
                continue;
            }
        }
        for &(j, pbj, vbj) in &rb[lo..hi] {
            let cj = c * vbj.conj();
            let xc = &x[pbj * n..(pbj + 1) * n];
            let oc = &mut chunk[(j - j0) * n..(j - j0 + 1) * n];
            for &(i, pai, vai) in ra {
                oc[i] += cj * vai * xc[pai];
            }
        }
    }
}

/// `out += α · X · G†` for column-major `n × n` `X`, using `G`'s CSR rows: column `j` of the
/// product is `Σ_k X[:,k] conj(G_jk)`. Up to four nonzeros of a row are fused into one pass
/// over the output column (one store per element instead of one per nonzero).
pub fn right_mul_adj_acc(alpha: C64, x: &[C64], g: &Csr, n: usize, out: &mut [C64]) {
    right_mul_adj_cols(alpha, x, g, n, 0, out)
}

/// [`right_mul_adj_acc`] for the output columns `j0 .. j0 + chunk.len()/n` held in `chunk`.
pub fn right_mul_adj_cols(alpha: C64, x: &[C64], g: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    right_mul_adj_impl::<true>(alpha, x, g, n, j0, chunk)
}

/// `chunk = X · G†` for the output columns `j0 ..` (overwrites, no zeroing pass needed).
pub(super) fn right_mul_adj_cols_into(x: &[C64], g: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    right_mul_adj_impl::<false>(ONE, x, g, n, j0, chunk)
}

fn right_mul_adj_impl<const ACC: bool>(alpha: C64, x: &[C64], g: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    let ncols = chunk.len() / n;
    // Every output column is one pass over whole columns of X. (Blocking the rows to keep a
    // slab of X in L2 was measured slower at n = 256: 46.5 s vs 38 s on the N = 8 Ising chain.)
    for c in 0..ncols {
        let j = j0 + c;
        let oc = as_f64_mut(&mut chunk[c * n..(c + 1) * n]);
        let (start, end) = (g.indptr[j], g.indptr[j + 1]);
        if !ACC && start == end {
            oc.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut p = start;
        while p < end {
            let take = (end - p).min(4);
            let mut cr = [0.0f64; 4];
            let mut ci = [0.0f64; 4];
            let mut xs: [&[f64]; 4] = [&[]; 4];
            for q in 0..take {
                let cc = alpha * g.data[p + q].conj();
                cr[q] = cc.re;
                ci[q] = cc.im;
                let k = g.indices[p + q];
                xs[q] = as_f64(&x[k * n..(k + 1) * n]);
            }
            if ACC || p > start {
                fused_caxpy::<true>(oc, &xs[..take], &cr, &ci);
            } else {
                fused_caxpy::<false>(oc, &xs[..take], &cr, &ci);
            }
            p += take;
        }
    }
}

/// `o += Σ_q (cr_q + i ci_q) · xs_q` (`ACC`) or `o = Σ_q …` for up to four interleaved complex
/// vectors, one pass.
#[inline]
fn fused_caxpy<const ACC: bool>(oc: &mut [f64], xs: &[&[f64]], cr: &[f64; 4], ci: &[f64; 4]) {
    let o2 = oc.chunks_exact_mut(2);
    // the sums are formed first and added to o last, so both variants round alike
    let put = |o: &mut [f64], re: f64, im: f64| {
        if ACC {
            o[0] += re;
            o[1] += im;
        } else {
            o[0] = re;
            o[1] = im;
        }
    };
    match xs.len() {
        1 => {
            for (o, a) in o2.zip(xs[0].chunks_exact(2)) {
                put(o, cr[0] * a[0] - ci[0] * a[1], cr[0] * a[1] + ci[0] * a[0]);
            }
        }
        2 => {
            for ((o, a), b) in o2.zip(xs[0].chunks_exact(2)).zip(xs[1].chunks_exact(2)) {
                put(o, (cr[0] * a[0] - ci[0] * a[1]) + (cr[1] * b[0] - ci[1] * b[1]), (cr[0] * a[1] + ci[0] * a[0]) + (cr[1] * b[1] + ci[1] * b[0]));
            }
        }
        3 => {
            for (((o, a), b), c) in o2.zip(xs[0].chunks_exact(2)).zip(xs[1].chunks_exact(2)).zip(xs[2].chunks_exact(2)) {
                put(
                    o,
                    (cr[0] * a[0] - ci[0] * a[1]) + (cr[1] * b[0] - ci[1] * b[1]) + (cr[2] * c[0] - ci[2] * c[1]),
                    (cr[0] * a[1] + ci[0] * a[0]) + (cr[1] * b[1] + ci[1] * b[0]) + (cr[2] * c[1] + ci[2] * c[0]),
                );
            }
        }
        _ => {
            for ((((o, a), b), c), d) in o2.zip(xs[0].chunks_exact(2)).zip(xs[1].chunks_exact(2)).zip(xs[2].chunks_exact(2)).zip(xs[3].chunks_exact(2)) {
                put(
                    o,
                    (cr[0] * a[0] - ci[0] * a[1]) + (cr[1] * b[0] - ci[1] * b[1]) + (cr[2] * c[0] - ci[2] * c[1]) + (cr[3] * d[0] - ci[3] * d[1]),
                    (cr[0] * a[1] + ci[0] * a[0]) + (cr[1] * b[1] + ci[1] * b[0]) + (cr[2] * c[1] + ci[2] * c[0]) + (cr[3] * d[1] + ci[3] * d[0]),
                );
            }
        }
    }
}

/// Columns `j0 ..` of `scale·(x + x†)` for a column-major `n × n` `x`, written to `chunk`
/// (blocked so the transposed reads stay in cache). `scale = ½` gives the Hermitian part,
/// `scale = 1` the fast path's `K + K†`.
pub(super) fn plus_adjoint_cols(x: &[C64], n: usize, j0: usize, chunk: &mut [C64], scale: f64) {
    const B: usize = 32;
    let m = chunk.len() / n;
    for ib in (0..n).step_by(B) {
        for c in 0..m {
            let j = j0 + c;
            for i in ib..(ib + B).min(n) {
                chunk[i + c * n] = (x[i + j * n] + x[j + i * n].conj()) * scale;
            }
        }
    }
}

/// `out += α · X · R` for the output columns in `chunk`, with `Rᵀ` stored as CSR `rt`.
pub(super) fn right_mul_cols(alpha: C64, x: &[C64], rt: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    let m = chunk.len() / n;
    for c in 0..m {
        let j = j0 + c;
        let oc = &mut chunk[c * n..(c + 1) * n];
        for p in rt.indptr[j]..rt.indptr[j + 1] {
            let k = rt.indices[p];
            caxpy(alpha * rt.data[p], &x[k * n..(k + 1) * n], oc);
        }
    }
}
