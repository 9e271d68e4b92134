//! Compressed-sparse-row complex matrices and the kernels the master-equation right-hand side
//! is built from.
//!
//! Dense matrices in nestq are **column-major** (`nalgebra::DMatrix` layout), so that the raw
//! buffer of a density matrix *is* its column-stacked vectorisation `vec(ρ)`. The kernels here
//! multiply a sparse operator into such a buffer from the left or from the right.

use crate::error::{Error, Result};
use crate::C64;
use nalgebra::DMatrix;

/// A complex sparse matrix in CSR form with sorted, duplicate-free column indices per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Csr {
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// Row pointers, length `nrows + 1`.
    pub indptr: Vec<usize>,
    /// Column index of each stored entry.
    pub indices: Vec<usize>,
    /// Value of each stored entry.
    pub data: Vec<C64>,
}

impl Csr {
    /// The `nrows × ncols` zero matrix.
    pub fn zeros(nrows: usize, ncols: usize) -> Self {
        Csr { nrows, ncols, indptr: vec![0; nrows + 1], indices: vec![], data: vec![] }
    }

    /// The `n × n` identity.
    pub fn identity(n: usize) -> Self {
        Csr {
            nrows: n,
            ncols: n,
            indptr: (0..=n).collect(),
            indices: (0..n).collect(),
            data: vec![C64::new(1.0, 0.0); n],
        }
    }

    /// Builds from `(row, col, value)` triplets; duplicates are summed, exact zeros dropped.
    pub fn from_triplets(nrows: usize, ncols: usize, mut t: Vec<(usize, usize, C64)>) -> Self {
        t.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut indptr = vec![0usize; nrows + 1];
        let mut indices = Vec::with_capacity(t.len());
        let mut data: Vec<C64> = Vec::with_capacity(t.len());
        let mut last: Option<(usize, usize)> = None;
        for (r, c, v) in t {
            debug_assert!(r < nrows && c < ncols);
            if last == Some((r, c)) {
                *data.last_mut().unwrap() += v;
            } else {
                indices.push(c);
                data.push(v);
                indptr[r + 1] += 1;
                last = Some((r, c));
            }
        }
        for i in 0..nrows {
            indptr[i + 1] += indptr[i];
        }
        let mut m = Csr { nrows, ncols, indptr, indices, data };
        m.prune(0.0);
        m
    }

    /// Converts a dense matrix, keeping entries with `|a_ij| > tol`.
    pub fn from_dense(a: &DMatrix<C64>, tol: f64) -> Self {
        let mut t = Vec::new();
        for i in 0..a.nrows() {
            for j in 0..a.ncols() {
                let v = a[(i, j)];
                if v.norm() > tol {
                    t.push((i, j, v));
                }
            }
        }
        Csr::from_triplets(a.nrows(), a.ncols(), t)
    }

    /// Dense copy (column-major).
    pub fn to_dense(&self) -> DMatrix<C64> {
        let mut a = DMatrix::zeros(self.nrows, self.ncols);
        for i in 0..self.nrows {
            for p in self.indptr[i]..self.indptr[i + 1] {
                a[(i, self.indices[p])] += self.data[p];
            }
        }
        a
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Drops stored entries with `|v| <= tol`.
    pub fn prune(&mut self, tol: f64) {
        let mut indptr = vec![0usize; self.nrows + 1];
        let mut w = 0;
        for i in 0..self.nrows {
            for p in self.indptr[i]..self.indptr[i + 1] {
                if self.data[p].norm() > tol {
                    self.indices[w] = self.indices[p];
                    self.data[w] = self.data[p];
                    w += 1;
                }
            }
            indptr[i + 1] = w;
        }
        self.indices.truncate(w);
        self.data.truncate(w);
        self.indptr = indptr;
    }

    /// Iterator over `(row, col, value)`.
    pub fn triplets(&self) -> impl Iterator<Item = (usize, usize, C64)> + '_ {
        (0..self.nrows).flat_map(move |i| {
            (self.indptr[i]..self.indptr[i + 1]).map(move |p| (i, self.indices[p], self.data[p]))
        })
    }

    /// Entry `(i, j)` (zero if not stored).
    pub fn get(&self, i: usize, j: usize) -> C64 {
        let row = &self.indices[self.indptr[i]..self.indptr[i + 1]];
        match row.binary_search(&j) {
            Ok(k) => self.data[self.indptr[i] + k],
            Err(_) => C64::new(0.0, 0.0),
        }
    }

    /// `α·self`.
    pub fn scale(&self, alpha: C64) -> Self {
        let mut m = self.clone();
        for v in &mut m.data {
            *v *= alpha;
        }
        m
    }

    /// Transpose (no conjugation).
    pub fn transpose(&self) -> Self {
        Csr::from_triplets(self.ncols, self.nrows, self.triplets().map(|(i, j, v)| (j, i, v)).collect())
    }

    /// Conjugate transpose `A†`.
    pub fn adjoint(&self) -> Self {
        Csr::from_triplets(self.ncols, self.nrows, self.triplets().map(|(i, j, v)| (j, i, v.conj())).collect())
    }

    /// Elementwise complex conjugate `Ā`.
    pub fn conj(&self) -> Self {
        let mut m = self.clone();
        for v in &mut m.data {
            *v = v.conj();
        }
        m
    }

    /// `α·A + β·B` (same shape).
    pub fn add(&self, alpha: C64, other: &Csr, beta: C64) -> Self {
        assert_eq!((self.nrows, self.ncols), (other.nrows, other.ncols), "Csr::add shape mismatch");
        let t = self
            .triplets()
            .map(|(i, j, v)| (i, j, alpha * v))
            .chain(other.triplets().map(|(i, j, v)| (i, j, beta * v)))
            .collect();
        Csr::from_triplets(self.nrows, self.ncols, t)
    }

    /// Matrix product `self · other`.
    pub fn matmul(&self, other: &Csr) -> Self {
        assert_eq!(self.ncols, other.nrows, "Csr::matmul shape mismatch");
        let mut indptr = vec![0usize; self.nrows + 1];
        let mut indices = Vec::new();
        let mut data = Vec::new();
        let mut acc = vec![C64::new(0.0, 0.0); other.ncols];
        let mut mark = vec![usize::MAX; other.ncols];
        let mut cols: Vec<usize> = Vec::new();
        for i in 0..self.nrows {
            cols.clear();
            for p in self.indptr[i]..self.indptr[i + 1] {
                let k = self.indices[p];
                let a = self.data[p];
                for q in other.indptr[k]..other.indptr[k + 1] {
                    let j = other.indices[q];
                    if mark[j] != i {
                        mark[j] = i;
                        acc[j] = C64::new(0.0, 0.0);
                        cols.push(j);
                    }
                    acc[j] += a * other.data[q];
                }
            }
            cols.sort_unstable();
            for &j in &cols {
                if acc[j] != C64::new(0.0, 0.0) {
                    indices.push(j);
                    data.push(acc[j]);
                }
            }
            indptr[i + 1] = indices.len();
        }
        Csr { nrows: self.nrows, ncols: other.ncols, indptr, indices, data }
    }

    /// Kronecker product `self ⊗ other` (`self` is the leftmost, slowest-varying factor).
    pub fn kron(&self, other: &Csr) -> Self {
        let nrows = self.nrows * other.nrows;
        let ncols = self.ncols * other.ncols;
        let mut indptr = Vec::with_capacity(nrows + 1);
        indptr.push(0);
        let mut indices = Vec::with_capacity(self.nnz() * other.nnz());
        let mut data = Vec::with_capacity(self.nnz() * other.nnz());
        for i in 0..self.nrows {
            for k in 0..other.nrows {
                for p in self.indptr[i]..self.indptr[i + 1] {
                    let j = self.indices[p];
                    let a = self.data[p];
                    for q in other.indptr[k]..other.indptr[k + 1] {
                        indices.push(j * other.ncols + other.indices[q]);
                        data.push(a * other.data[q]);
                    }
                }
                indptr.push(indices.len());
            }
        }
        Csr { nrows, ncols, indptr, indices, data }
    }

    /// Trace (square matrices).
    pub fn trace(&self) -> C64 {
        (0..self.nrows.min(self.ncols)).map(|i| self.get(i, i)).sum()
    }

    /// Hilbert–Schmidt inner product `Tr(self† · other) = Σ conj(a_ij) b_ij`.
    pub fn hs_inner(&self, other: &Csr) -> C64 {
        let mut s = C64::new(0.0, 0.0);
        for i in 0..self.nrows {
            let (mut p, pe) = (self.indptr[i], self.indptr[i + 1]);
            let (mut q, qe) = (other.indptr[i], other.indptr[i + 1]);
            while p < pe && q < qe {
                match self.indices[p].cmp(&other.indices[q]) {
                    std::cmp::Ordering::Less => p += 1,
                    std::cmp::Ordering::Greater => q += 1,
                    std::cmp::Ordering::Equal => {
                        s += self.data[p].conj() * other.data[q];
                        p += 1;
                        q += 1;
                    }
                }
            }
        }
        s
    }

    /// Largest entry-wise deviation from Hermiticity, `max |a_ij − conj(a_ji)|`.
    pub fn hermiticity_error(&self) -> f64 {
        let d = self.add(C64::new(1.0, 0.0), &self.adjoint(), C64::new(-1.0, 0.0));
        d.data.iter().map(|v| v.norm()).fold(0.0, f64::max)
    }

    /// Largest absolute entry.
    pub fn max_abs(&self) -> f64 {
        self.data.iter().map(|v| v.norm()).fold(0.0, f64::max)
    }

    /// True if every row holds at most one entry and every column is hit at most once
    /// (a "generalised permutation with zeros": σ±, σx, a, a†, and products of them).
    pub fn is_monomial(&self) -> bool {
        if (0..self.nrows).any(|i| self.indptr[i + 1] - self.indptr[i] > 1) {
            return false;
        }
        let mut seen = vec![false; self.ncols];
        for &j in &self.indices {
            if seen[j] {
                return false;
            }
            seen[j] = true;
        }
        true
    }

    /// Checks that every value is finite.
    pub fn check_finite(&self, path: &str) -> Result<()> {
        if self.data.iter().any(|v| !v.re.is_finite() || !v.im.is_finite()) {
            return Err(Error::model(path, "operator has non-finite (NaN or infinite) entries"));
        }
        Ok(())
    }

    /// The 1-norm `max_j Σ_i |a_ij|` (largest absolute column sum).
    pub fn norm1(&self) -> f64 {
        let mut col = vec![0.0; self.ncols];
        for (_, j, v) in self.triplets() {
            col[j] += v.norm();
        }
        col.into_iter().fold(0.0, f64::max)
    }

    /// Sparse matrix–vector product `y += α·A·x`.
    pub fn matvec_acc(&self, alpha: C64, x: &[C64], y: &mut [C64]) {
        for i in 0..self.nrows {
            let mut s = C64::new(0.0, 0.0);
            for p in self.indptr[i]..self.indptr[i + 1] {
                s += self.data[p] * x[self.indices[p]];
            }
            y[i] += alpha * s;
        }
    }
}

/// Views complex numbers as their interleaved `[re, im, re, im, …]` doubles.
#[inline]
pub(crate) fn as_f64(v: &[C64]) -> &[f64] {
    // SAFETY: Complex<f64> is repr(C) {re: f64, im: f64}, so n complex are 2n contiguous f64.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f64, 2 * v.len()) }
}

/// Mutable form of [`as_f64`].
#[inline]
pub(crate) fn as_f64_mut(v: &mut [C64]) -> &mut [f64] {
    // SAFETY: as in `as_f64`; the borrow is exclusive.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut f64, 2 * v.len()) }
}

/// `out += α·x` on complex slices, written on the interleaved f64 representation so that LLVM
/// vectorises it (SSE2/AVX on x86, simd128 on wasm).
#[inline]
pub fn caxpy(alpha: C64, x: &[C64], out: &mut [C64]) {
    debug_assert_eq!(x.len(), out.len());
    let (ar, ai) = (alpha.re, alpha.im);
    for (o, xv) in as_f64_mut(out).chunks_exact_mut(2).zip(as_f64(x).chunks_exact(2)) {
        let (xr, xi) = (xv[0], xv[1]);
        o[0] += ar * xr - ai * xi;
        o[1] += ar * xi + ai * xr;
    }
}

/// `out += α · X · Rᵀ_stored`, i.e. right-multiplication of a column-major `n × n` matrix `X` by
/// the matrix `R` whose **transpose** is stored in CSR form as `rt` (so column `j` of `R` is row
/// `j` of `rt`). Column `j` of the product is `Σ_k X[:,k] R_kj`: contiguous complex axpys.
pub fn right_mul_acc(alpha: C64, x: &[C64], rt: &Csr, n: usize, out: &mut [C64]) {
    for j in 0..rt.nrows {
        let oc = &mut out[j * n..(j + 1) * n];
        for p in rt.indptr[j]..rt.indptr[j + 1] {
            let k = rt.indices[p];
            caxpy(alpha * rt.data[p], &x[k * n..(k + 1) * n], oc);
        }
    }
}

/// `out += α · A · X` for a column-major `n × m` matrix `X` (`m = x.len()/n`): each column is
/// a CSR matrix–vector product.
pub fn left_mul_acc(alpha: C64, a: &Csr, x: &[C64], n: usize, out: &mut [C64]) {
    let m = x.len() / n;
    for j in 0..m {
        a.matvec_acc(alpha, &x[j * n..(j + 1) * n], &mut out[j * a.nrows..(j + 1) * a.nrows]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(re: f64, im: f64) -> C64 {
        C64::new(re, im)
    }

    fn rand_dense(n: usize, m: usize, seed: u64) -> DMatrix<C64> {
        let mut s = seed;
        DMatrix::from_fn(n, m, |_, _| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let a = ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let b = ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
            if a.abs() < 0.2 { c(0.0, 0.0) } else { c(a, b) }
        })
    }

    #[test]
    fn kron_matches_dense() {
        let a = rand_dense(3, 2, 1);
        let b = rand_dense(2, 4, 2);
        let k = Csr::from_dense(&a, 0.0).kron(&Csr::from_dense(&b, 0.0)).to_dense();
        let expect = a.kronecker(&b);
        assert!((k - expect).norm() < 1e-14);
    }

    #[test]
    fn matmul_adjoint_and_kernels_match_dense() {
        let a = rand_dense(5, 5, 3);
        let x = rand_dense(5, 5, 4);
        let s = Csr::from_dense(&a, 0.0);
        assert!((s.matmul(&s).to_dense() - &a * &a).norm() < 1e-13);
        assert!((s.adjoint().to_dense() - a.adjoint()).norm() < 1e-15);
        let mut out = vec![c(0.0, 0.0); 25];
        left_mul_acc(c(0.5, 1.0), &s, x.as_slice(), 5, &mut out);
        let e = (&a * &x) * c(0.5, 1.0);
        assert!((DMatrix::from_column_slice(5, 5, &out) - e).norm() < 1e-13);
        let mut out = vec![c(0.0, 0.0); 25];
        right_mul_acc(c(-1.0, 0.25), x.as_slice(), &s.transpose(), 5, &mut out);
        let e = (&x * &a) * c(-1.0, 0.25);
        assert!((DMatrix::from_column_slice(5, 5, &out) - e).norm() < 1e-13);
        let t = s.hs_inner(&s);
        assert!((t - (a.adjoint() * &a).trace()).norm() < 1e-13);
    }
}
