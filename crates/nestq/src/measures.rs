//! Quantum-information measures of density matrices (QuTiP names where they exist).
//!
//! All functions take a density matrix `ρ` as a column-major `nalgebra::DMatrix<C64>` together
//! with the local dimensions `dims` (site 0 leftmost). Logarithms are natural unless the name
//! says otherwise (`log_negativity` is base 2, as in Vidal & Werner, PRA 65, 032314 (2002)).

use crate::error::{Error, Result};
use crate::sparse::Csr;
use crate::C64;
use nalgebra::DMatrix;

/// `Tr(O ρ) = Σ_ij O_ij ρ_ji` (QuTiP `expect`), complex in general.
pub fn expect(op: &Csr, rho: &DMatrix<C64>) -> C64 {
    op.triplets().map(|(i, j, v)| v * rho[(j, i)]).sum()
}

/// `Tr ρ`.
pub fn trace(rho: &DMatrix<C64>) -> C64 {
    rho.trace()
}

/// Purity `Tr ρ²` (real part).
pub fn purity(rho: &DMatrix<C64>) -> f64 {
    let n = rho.nrows();
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            s += (rho[(i, j)] * rho[(j, i)]).re;
        }
    }
    s
}

fn to_faer(m: &DMatrix<C64>) -> faer::Mat<C64> {
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

/// Von Neumann entropy `S = −Tr ρ ln ρ` (natural log, QuTiP `entropy_vn(rho, base=e)`),
/// computed from the eigenvalues of the Hermitian part; eigenvalues ≤ 0 contribute nothing
/// (the limit `x ln x → 0`), as in QuTiP.
pub fn entropy_vn(rho: &DMatrix<C64>) -> f64 {
    // `0.0 +` turns the −0 of a pure state (−1·ln 1) into +0.
    0.0 + hermitian_eigenvalues(rho).into_iter().filter(|&l| l > 0.0).map(|l| -l * l.ln()).sum::<f64>()
}

fn check_sites(dims: &[usize], sel: &[usize], what: &str) -> Result<()> {
    for &s in sel {
        if s >= dims.len() {
            return Err(Error::arg(what, format!("site {s} is out of range (there are {} sites)", dims.len())));
        }
    }
    for (i, a) in sel.iter().enumerate() {
        if sel[i + 1..].contains(a) {
            return Err(Error::arg(what, format!("site {a} is listed twice")));
        }
    }
    Ok(())
}

/// Reduced density matrix of the sites `keep`, **in the order given** (so `ptrace(ρ, [1, 0])`
/// swaps the two factors; QuTiP's `ptrace` always sorts, which equals this for sorted `keep`).
pub fn ptrace(rho: &DMatrix<C64>, dims: &[usize], keep: &[usize]) -> Result<DMatrix<C64>> {
    check_sites(dims, keep, "keep")?;
    let n: usize = dims.iter().product();
    if rho.nrows() != n || rho.ncols() != n {
        return Err(Error::arg("rho", format!("ρ is {}×{} but dims {:?} give {}", rho.nrows(), rho.ncols(), dims, n)));
    }
    let nsites = dims.len();
    let traced: Vec<usize> = (0..nsites).filter(|s| !keep.contains(s)).collect();
    let kd: Vec<usize> = keep.iter().map(|&s| dims[s]).collect();
    let td: Vec<usize> = traced.iter().map(|&s| dims[s]).collect();
    let nk: usize = kd.iter().product();
    let nt: usize = td.iter().product();
    // strides of each site in the global index
    let mut stride = vec![1usize; nsites];
    for s in (0..nsites.saturating_sub(1)).rev() {
        stride[s] = stride[s + 1] * dims[s + 1];
    }
    let index = |sites: &[usize], sd: &[usize], mut k: usize| -> usize {
        let mut g = 0;
        for p in (0..sites.len()).rev() {
            g += (k % sd[p]) * stride[sites[p]];
            k /= sd[p];
        }
        g
    };
    let kidx: Vec<usize> = (0..nk).map(|k| index(keep, &kd, k)).collect();
    let tidx: Vec<usize> = (0..nt).map(|k| index(&traced, &td, k)).collect();
    let mut out = DMatrix::zeros(nk, nk);
    for b in 0..nk {
        for a in 0..nk {
            let mut s = C64::new(0.0, 0.0);
            for &t in &tidx {
                s += rho[(kidx[a] + t, kidx[b] + t)];
            }
            out[(a, b)] = s;
        }
    }
    Ok(out)
}

/// Entropy of the reduced state of `sites`.
pub fn entropy_of(rho: &DMatrix<C64>, dims: &[usize], sites: &[usize]) -> Result<f64> {
    Ok(entropy_vn(&ptrace(rho, dims, sites)?))
}

/// Mutual information `I(A:B) = S(A) + S(B) − S(AB)` between sites `a` and `b` (natural log).
pub fn mutual_information(rho: &DMatrix<C64>, dims: &[usize], a: usize, b: usize) -> Result<f64> {
    check_sites(dims, &[a, b], "sites")?;
    Ok(entropy_of(rho, dims, &[a])? + entropy_of(rho, dims, &[b])? - entropy_of(rho, dims, &[a, b])?)
}

/// Partial transpose of a bipartite `dA·dB` matrix on the second factor.
pub fn partial_transpose_second(rho: &DMatrix<C64>, da: usize, db: usize) -> DMatrix<C64> {
    DMatrix::from_fn(da * db, da * db, |r, c| {
        let (a, b) = (r / db, r % db);
        let (a2, b2) = (c / db, c % db);
        rho[(a * db + b2, a2 * db + b)]
    })
}

/// Trace norm ‖ρ^{T_b}‖₁ of the reduced state of sites (a, b), transposed on `b`.
fn pt_trace_norm(rho: &DMatrix<C64>, dims: &[usize], a: usize, b: usize) -> Result<f64> {
    check_sites(dims, &[a, b], "sites")?;
    let r = ptrace(rho, dims, &[a, b])?;
    let pt = partial_transpose_second(&r, dims[a], dims[b]);
    Ok(hermitian_eigenvalues(&pt).iter().map(|l| l.abs()).sum())
}

/// Negativity `N = (‖ρ_ab^{T_b}‖₁ − 1)/2` of sites (a, b), partial transpose on the second
/// listed site (Vidal & Werner 2002; QuTiP `negativity`).
pub fn negativity(rho: &DMatrix<C64>, dims: &[usize], a: usize, b: usize) -> Result<f64> {
    Ok((pt_trace_norm(rho, dims, a, b)? - 1.0) / 2.0)
}

/// Logarithmic negativity `E_N = log₂ ‖ρ_ab^{T_b}‖₁` (base 2).
pub fn log_negativity(rho: &DMatrix<C64>, dims: &[usize], a: usize, b: usize) -> Result<f64> {
    Ok(pt_trace_norm(rho, dims, a, b)?.log2())
}

/// Wootters concurrence of the two-qubit reduced state of sites (a, b) (Wootters, PRL 80, 2245
/// (1998)): `C = max(0, λ1 − λ2 − λ3 − λ4)` with λ the square roots, in decreasing order, of the
/// eigenvalues of `ρ ρ̃`, `ρ̃ = (σy⊗σy) ρ* (σy⊗σy)` — QuTiP's `concurrence` algorithm.
pub fn concurrence(rho: &DMatrix<C64>, dims: &[usize], a: usize, b: usize) -> Result<f64> {
    check_sites(dims, &[a, b], "sites")?;
    if dims[a] != 2 || dims[b] != 2 {
        return Err(Error::arg("sites", format!("concurrence needs two qubits; sites {a} and {b} have dimensions {} and {}", dims[a], dims[b])));
    }
    let r = ptrace(rho, dims, &[a, b])?;
    let mut m = [C64::new(0.0, 0.0); 16];
    m.copy_from_slice(r.as_slice());
    concurrence_4x4(&m)
}

/// Wootters concurrence of a two-qubit density matrix given as its 16 entries, column-major
/// (qubit 0 leftmost, basis 0 the +1 eigenstate of σz). `C = max(0, λ₁ − λ₂ − λ₃ − λ₄)` with λᵢ
/// the square roots, in decreasing order, of the eigenvalues of `ρρ̃`, `ρ̃ = (σy⊗σy)ρ*(σy⊗σy)`
/// (W. K. Wootters, PRL 80, 2245 (1998)).
///
/// For a positive semidefinite ρ = ΨΨ† (Ψ any 4×r factor), the λᵢ are the singular values of
/// the complex symmetric `τ = Ψᵀ(σy⊗σy)Ψ` (Wootters' `τ_ij = ⟨vᵢ|ṽⱼ⟩`; ρρ̃ =
/// ΨΨ†(σy⊗σy)Ψ*Ψᵀ(σy⊗σy) has the non-zero spectrum of ττ†; another factor ΨV, V unitary, gives
/// VᵀτV with the same singular values), computed without allocation: Ψ from a Cholesky
/// factorisation with diagonal pivoting, `ρ = Σₖ ψₖψₖ†`, stopped when the largest remaining
/// diagonal entry is at most 16·4·ε·max ρᵢᵢ (rank-revealing and backward stable for
/// semidefinite matrices, Higham, *Accuracy and Stability of Numerical Algorithms*, §10.3: the
/// discarded rest is rounding, like eigenvalues of ρ at that level), then one-sided Jacobi
/// singular values of the r×r τ ([`singular_values4`]). About 1 µs (the neural layer calls it
/// once per recorded bridge sample). Singular values come out with absolute error ≈ ε‖ρ‖ — no
/// square root of a rounding-level eigenvalue of ρρ̃ — so a product state gives C ≈ 1e-16, not
/// √ε. A ρ that is not semidefinite beyond that tolerance (a negative pivot, or a remainder with
/// an entry above it; e.g. under the `paper` coupling) goes through the general eigenvalues of
/// ρρ̃ with |λ|, as QuTiP does. An X state (the entries off the diagonal and the anti-diagonal
/// exactly zero — every NEST bridge that starts in a state of definite parity σz⊗σz, since all
/// its generators conserve it) takes the closed form of [`x_state_concurrence`] (≈ 20 flops).
pub fn concurrence_4x4(rho: &[C64; 16]) -> Result<f64> {
    let zero = C64::new(0.0, 0.0);
    let a: [C64; 16] = std::array::from_fn(|k| (rho[k] + rho[(k / 4) + 4 * (k % 4)].conj()) * 0.5);
    if a.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
        return Err(Error::numerical("concurrence: non-finite matrix entries"));
    }
    let scale = (0..4).fold(0.0f64, |m, i| m.max(a[5 * i].re.abs()));
    let tol = 16.0 * 4.0 * f64::EPSILON * scale;
    if X_OFF.iter().all(|&k| a[k] == zero) {
        if let Some(c) = x_state_concurrence(&a, tol) {
            return Ok(c);
        }
    }
    concurrence_factored(rho, a, tol)
}

/// Column-major indices of the entries of a 4×4 matrix outside the diagonal and the
/// anti-diagonal (zero in an X state).
const X_OFF: [usize; 8] = [1, 2, 4, 7, 8, 11, 13, 14];

/// Concurrence of a Hermitian X state `a` (only the diagonal and the anti-diagonal non-zero), in
/// closed form: `C = 2 max(0, |ρ₁₄| − √(ρ₂₂ρ₃₃), |ρ₂₃| − √(ρ₁₁ρ₄₄))` (T. Yu and J. H. Eberly,
/// Quantum Inf. Comput. 7, 459 (2007); the λᵢ of Wootters' formula are `√(ρ₁₁ρ₄₄) ± |ρ₁₄|` and
/// `√(ρ₂₂ρ₃₃) ± |ρ₂₃|`). The state is the direct sum of the blocks {1, 4} and {2, 3}; as in
/// [`concurrence_4x4`], an eigenvalue of a block within `tol` of zero counts as zero (the block is
/// replaced by its rank-1 part, `√(p′q′) = |c′| = ν|c|/(ν − μ)`, or by zero), and a block with an
/// eigenvalue below −tol is not a state: `None`, the caller takes the general route.
fn x_state_concurrence(a: &[C64; 16], tol: f64) -> Option<f64> {
    // (√(pq), |c|) of the block [[p, c], [c̄, q]] after dropping rounding-level eigenvalues
    let block = |p: f64, q: f64, c: f64| -> Option<(f64, f64)> {
        let h = 0.5 * (p + q);
        let g = (0.25 * (p - q) * (p - q) + c * c).sqrt();
        let (nu, mu) = (h + g, h - g);
        if mu < -tol {
            None
        } else if mu > tol {
            Some(((p * q).sqrt(), c))
        } else if nu <= tol {
            Some((0.0, 0.0))
        } else {
            // rank 1, ν vv†: √(p′q′) = |c′| = ν|v₁||v₂| = ν|c|/(ν − μ) ((ν − p)(ν − q) = |c|²)
            let s = nu * c / (2.0 * g);
            Some((s, s))
        }
    };
    let (sa, ca) = block(a[0].re, a[15].re, cabs(a[12]))?;
    let (sb, cb) = block(a[5].re, a[10].re, cabs(a[9]))?;
    Some((2.0 * (ca - sb).max(cb - sa)).max(0.0))
}

/// The general route of [`concurrence_4x4`] for the Hermitian part `a` of `rho`.
fn concurrence_factored(rho: &[C64; 16], mut a: [C64; 16], tol: f64) -> Result<f64> {
    let sgn = [-1.0, 1.0, 1.0, -1.0];
    let zero = C64::new(0.0, 0.0);
    // a ← a − ψψ† for each pivot, ψ = a[:, p]/√a_pp; columns ψ_k of Ψ in `psi`
    let mut psi = [zero; 16];
    let mut left = [true; 4];
    let mut r = 0;
    while r < 4 {
        let mut p = 4;
        for i in 0..4 {
            if left[i] && (p == 4 || a[5 * i].re > a[5 * p].re) {
                p = i;
            }
        }
        if p == 4 || a[5 * p].re <= tol {
            break;
        }
        let d = a[5 * p].re.sqrt();
        left[p] = false;
        for i in 0..4 {
            psi[i + 4 * r] = if i == p { C64::new(d, 0.0) } else if left[i] { a[i + 4 * p] / d } else { zero };
        }
        for j in 0..4 {
            if left[j] {
                let cj = psi[j + 4 * r].conj();
                for i in 0..4 {
                    if left[i] {
                        a[i + 4 * j] -= psi[i + 4 * r] * cj;
                    }
                }
            }
        }
        r += 1;
    }
    let psd = (0..4).all(|j| !left[j] || (a[5 * j].re >= -tol && (0..4).all(|i| i == j || !left[i] || cabs(a[i + 4 * j]) <= tol)));
    let mut l = [0.0f64; 4];
    if psd {
        // τ_ij = Σ_m ψ_i[m] s_m ψ_j[3−m]  ((σy⊗σy)_(m, 3−m) = s_m), r×r, zero-padded
        let mut tau = [zero; 16];
        for j in 0..r {
            for i in 0..=j {
                let mut t = zero;
                for m in 0..4 {
                    t += psi[m + 4 * i] * psi[(3 - m) + 4 * j] * sgn[m];
                }
                tau[i + 4 * j] = t;
                tau[j + 4 * i] = t;
            }
        }
        l = singular_values4(&mut tau)?;
    } else {
        let r = DMatrix::from_column_slice(4, 4, rho);
        // ρ̃_ij = s_i s_j conj(ρ_(3−i)(3−j)), s = (−1, 1, 1, −1): the entries of (Y⊗Y) ρ* (Y⊗Y)
        let m = &r * DMatrix::from_fn(4, 4, |i, j| r[(3 - i, 3 - j)].conj() * (sgn[i] * sgn[j]));
        let ev = to_faer(&m).eigenvalues().map_err(|e| Error::numerical(format!("concurrence: eigenvalue iteration did not converge ({e:?})")))?;
        // |λ| as QuTiP does (ρρ̃ of a non-physical state can have negative eigenvalues)
        let re: Vec<f64> = ev.iter().map(|z| z.re.abs()).collect();
        sqrt_spectrum_into(&re, &mut l);
    }
    l.sort_by(|x, y| y.total_cmp(x));
    Ok((l[0] - l[1] - l[2] - l[3]).max(0.0))
}

/// |z| as √(x² + y²) where that is accurate (x² + y² between 2⁻⁹⁰⁰ and the overflow threshold:
/// a square lost to underflow is then below ε of the sum), else `hypot` — which is several times
/// slower and in the hot loop of the Jacobi solvers.
#[inline]
fn cabs(z: C64) -> f64 {
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
fn sqrt_spectrum(ev: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; ev.len()];
    sqrt_spectrum_into(ev, &mut out);
    out
}

/// [`sqrt_spectrum`] into `out` (same length as `ev`), without allocating.
fn sqrt_spectrum_into(ev: &[f64], out: &mut [f64]) {
    let scale = ev.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    let tol = 16.0 * ev.len() as f64 * f64::EPSILON * scale;
    for (o, &l) in out.iter_mut().zip(ev) {
        *o = if l <= tol { 0.0 } else { l.sqrt() };
    }
}

fn sqrtm_psd(rho: &DMatrix<C64>) -> Result<DMatrix<C64>> {
    let (ev, u) = eigh(rho)?;
    Ok(from_eigh(&sqrt_spectrum(&ev), &u))
}

/// Uhlmann fidelity `F(ρ, σ) = (Tr √(√ρ σ √ρ))²` (squared convention; QuTiP's `fidelity`
/// returns its square root). Negative eigenvalues of the Hermitian parts, and eigenvalues within
/// rounding of 0, are treated as 0. NaN if the eigensolver fails to converge.
pub fn fidelity(rho: &DMatrix<C64>, sigma: &DMatrix<C64>) -> f64 {
    let Ok(s) = sqrtm_psd(rho) else { return f64::NAN };
    let m = &s * sigma * &s;
    let t: f64 = sqrt_spectrum(&hermitian_eigenvalues(&m)).iter().sum();
    t * t
}

#[cfg(test)]
mod tests {
    /// Regression: a two-qubit X state (from `ket_initial_entangled` at t = 0.2) on which
    /// nalgebra's complex `symmetric_eigen` gives wrong eigenvectors.
    fn x_state() -> DMatrix<C64> {
        let c = C64::new(0.4500591773529713, -0.19028196821571197);
        let (z, r) = (C64::new(0.0, 0.0), |x: f64| C64::new(x, 0.0));
        DMatrix::from_row_slice(4, 4, &[r(0.485222766774254), z, z, c, z, r(0.004876569879123565), z, z, z, z, r(0.009802150100329938), z, c.conj(), z, z, r(0.5000985132462924)])
    }

    #[test]
    fn x_state_concurrence_fidelity_and_eigh() {
        let rho = x_state();
        let (ev, u) = super::eigh(&rho).unwrap();
        assert!((super::from_eigh(&ev, &u) - &rho).norm() < 1e-14);
        // QuTiP: 0.9634348527331767 at t = 0.2 (this state carries the solver tolerance, 1e-8)
        let c = super::concurrence(&rho, &[2, 2], 0, 1).unwrap();
        assert!((c - 0.9634348527331767).abs() < 1e-7, "{c}");
        // X-state closed form: C = 2 max(0, |ρ03| − √(ρ11 ρ22), |ρ12| − √(ρ00 ρ33))
        let closed = 2.0 * (rho[(0, 3)].norm() - (rho[(1, 1)].re * rho[(2, 2)].re).sqrt()).max(0.0);
        assert!((c - closed).abs() < 1e-12, "{c} vs {closed}");
        assert!((super::fidelity(&rho, &rho) - 1.0).abs() < 1e-12);
        // a mixed X state (the `mixed_initial` fixture's ρ(0)): C = 2(|ρ03| − √(ρ11ρ22)) = 0.55
        let a = 0.24748737341529164;
        let (z, r) = (C64::new(0.0, 0.0), |x: f64| C64::new(x, 0.0));
        let m = DMatrix::from_row_slice(4, 4, &[r(0.425), z, z, C64::new(a, -a), z, r(0.075), z, z, z, z, r(0.075), z, C64::new(a, a), z, z, r(0.425)]);
        let c = super::concurrence(&m, &[2, 2], 0, 1).unwrap();
        assert!((c - 0.55).abs() < 1e-12, "{c}");
    }

    use super::*;
    use nalgebra::DVector;

    fn c(x: f64) -> C64 {
        C64::new(x, 0.0)
    }

    #[test]
    fn fidelity_and_concurrence_of_pure_states_are_exact() {
        // zero eigenvalues computed as ±1e-17 must not become √ = 3e-9
        let k = DVector::from_vec(vec![c(0.6), C64::new(0.0, 0.8), c(0.0), c(0.0), c(0.0), c(0.0), c(0.0), c(0.0)]);
        let r = &k * k.adjoint();
        assert!((fidelity(&r, &r) - 1.0).abs() < 1e-14, "F = {}", fidelity(&r, &r));
        let p = ptrace(&r, &[2, 2, 2], &[1, 2]).unwrap();
        assert!(concurrence(&p, &[2, 2], 0, 1).unwrap().abs() < 1e-14);
    }

    fn bell_phi_plus() -> DMatrix<C64> {
        let k = DVector::from_vec(vec![c(1.0), c(0.0), c(0.0), c(1.0)]) / c(2f64.sqrt());
        &k * k.adjoint()
    }

    fn werner(p: f64) -> DMatrix<C64> {
        bell_phi_plus() * c(p) + DMatrix::identity(4, 4) * c((1.0 - p) / 4.0)
    }

    #[test]
    fn bell_state_measures() {
        let r = bell_phi_plus();
        let d = [2, 2];
        assert!((concurrence(&r, &d, 0, 1).unwrap() - 1.0).abs() < 1e-12);
        assert!((negativity(&r, &d, 0, 1).unwrap() - 0.5).abs() < 1e-12);
        assert!((log_negativity(&r, &d, 0, 1).unwrap() - 1.0).abs() < 1e-12);
        assert!((mutual_information(&r, &d, 0, 1).unwrap() - 2.0 * 2f64.ln()).abs() < 1e-12);
        assert!(entropy_vn(&r).abs() < 1e-12);
        assert!((purity(&r) - 1.0).abs() < 1e-12);
        assert!((fidelity(&r, &r) - 1.0).abs() < 1e-10);
    }

    #[test]
    fn werner_concurrence_is_max_0_3p_minus_1_over_2() {
        for &p in &[0.0, 0.2, 1.0 / 3.0, 0.5, 0.8, 1.0] {
            let cw = concurrence(&werner(p), &[2, 2], 0, 1).unwrap();
            let expect = ((3.0 * p - 1.0) / 2.0).max(0.0);
            assert!((cw - expect).abs() < 1e-10, "p={p}: {cw} vs {expect}");
        }
    }

    fn random_c(r: &mut crate::neural::rng::Xoshiro256) -> C64 {
        C64::new(2.0 * r.uniform() - 1.0, 2.0 * r.uniform() - 1.0)
    }

    /// Random two-qubit states of every rank (ρ = ΨΨ†/Tr with Ψ 4×rank Gaussian-like), plus
    /// states with exactly degenerate spectra and X states.
    fn test_states() -> Vec<[C64; 16]> {
        let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(7);
        let mut out = Vec::new();
        for k in 0..400 {
            let rank = 1 + k % 4;
            let psi = DMatrix::from_fn(4, rank, |_, _| random_c(&mut r));
            let m = &psi * psi.adjoint();
            let m = &m / m.trace();
            out.push(std::array::from_fn(|i| m[(i % 4, i / 4)]));
        }
        for p in [0.0, 0.2, 1.0 / 3.0, 0.9] {
            let w = werner(p);
            out.push(std::array::from_fn(|i| w[(i % 4, i / 4)]));
        }
        let x = x_state();
        out.push(std::array::from_fn(|i| x[(i % 4, i / 4)]));
        out.push(std::array::from_fn(|i| if i % 5 == 0 { c(0.25) } else { c(0.0) }));
        out
    }

    /// The previous implementation of the PSD branch (faer eigen-decompositions of ρ and of
    /// √ρ ρ̃ √ρ), kept as the reference of the allocation-free one.
    fn concurrence_faer(rho: &[C64; 16]) -> f64 {
        let r = DMatrix::from_column_slice(4, 4, rho);
        let sgn = [-1.0, 1.0, 1.0, -1.0];
        let rt = DMatrix::from_fn(4, 4, |i, j| r[(3 - i, 3 - j)].conj() * (sgn[i] * sgn[j]));
        let (ev, u) = eigh(&r).unwrap();
        let sq = from_eigh(&sqrt_spectrum(&ev), &u);
        let mut l = sqrt_spectrum(&hermitian_eigenvalues(&(&sq * rt * &sq)));
        l.sort_by(|x, y| y.total_cmp(x));
        (l[0] - l[1] - l[2] - l[3]).max(0.0)
    }

    /// The eigen-decomposition version of [`concurrence_4x4`] (Ψ = U√Λ from [`eigh4`]) that the
    /// pivoted Cholesky factor replaced.
    fn concurrence_eigh4(rho: &[C64; 16]) -> f64 {
        let sgn = [-1.0, 1.0, 1.0, -1.0];
        let mut a: [C64; 16] = std::array::from_fn(|k| (rho[k] + rho[(k / 4) + 4 * (k % 4)].conj()) * 0.5);
        let mut u = [c(0.0); 16];
        let ev = eigh4(&mut a, Some(&mut u)).unwrap();
        let mut sq = [0.0f64; 4];
        sqrt_spectrum_into(&ev, &mut sq);
        let psi: [C64; 16] = std::array::from_fn(|k| u[k] * sq[k / 4]);
        let mut tau: [C64; 16] = std::array::from_fn(|k| {
            let (i, j) = (k % 4, k / 4);
            (0..4).map(|m| psi[m + 4 * i] * psi[(3 - m) + 4 * j] * sgn[m]).sum()
        });
        let mut l = singular_values4(&mut tau).unwrap();
        l.sort_by(|x, y| y.total_cmp(x));
        (l[0] - l[1] - l[2] - l[3]).max(0.0)
    }

    #[test]
    fn cholesky_concurrence_matches_the_eigen_version() {
        let mut worst = 0.0f64;
        for rho in test_states() {
            let (new, old) = (concurrence_4x4(&rho).unwrap(), concurrence_eigh4(&rho));
            worst = worst.max((new - old).abs());
        }
        assert!(worst < 1e-13, "{worst:e}");
        // a state that is not PSD (eigenvalue −0.05) takes the general branch, like before
        let mut x = werner(0.9);
        x[(0, 0)] -= c(0.3);
        x[(3, 3)] += c(0.3);
        assert!(hermitian_eigenvalues(&x)[0] < -0.01);
        let m: [C64; 16] = std::array::from_fn(|i| x[(i % 4, i / 4)]);
        let general = {
            let sgn = [-1.0, 1.0, 1.0, -1.0];
            let rt = DMatrix::from_fn(4, 4, |i, j| x[(3 - i, 3 - j)].conj() * (sgn[i] * sgn[j]));
            let ev = to_faer(&(&x * rt)).eigenvalues().unwrap();
            let mut l = sqrt_spectrum(&ev.iter().map(|z| z.re.abs()).collect::<Vec<_>>());
            l.sort_by(|x, y| y.total_cmp(x));
            (l[0] - l[1] - l[2] - l[3]).max(0.0)
        };
        assert!((concurrence_4x4(&m).unwrap() - general).abs() < 1e-12);
        assert!(concurrence_4x4(&[C64::new(f64::NAN, 0.0); 16]).is_err());
        assert_eq!(concurrence_4x4(&[c(0.0); 16]).unwrap(), 0.0);
    }

    /// A bridge steady state (expm path) whose odd-parity coherences are subnormal (~1e-323):
    /// the Jacobi phase `apq/|apq|` of such an entry is not of modulus 1 unless rescaled.
    #[test]
    fn subnormal_coherences_keep_the_jacobi_rotations_unitary() {
        let v = [
            (0.00020832844793453715, -0.0), (2e-323, -8e-323), (-4.4e-323, -8e-323), (-0.01442597282286755, 0.00020608532604095633),
            (2e-323, 8e-323), (0.0002701861191486462, -0.0), (-2.950346589497755e-5, -8.851039768492982e-6), (-3.1e-322, -1.24e-322),
            (-4.4e-323, 8e-323), (-2.950346589497755e-5, 8.851039768492982e-6), (0.00016414439706731983, -0.0), (1e-322, -1e-323),
            (-0.01442597282286755, -0.00020608532604095633), (-3.1e-322, 1.24e-322), (1e-322, 1e-323), (0.9993573410356641, -0.0),
        ];
        let rho: [C64; 16] = std::array::from_fn(|k| C64::new(v[k].0, v[k].1));
        let m = DMatrix::from_column_slice(4, 4, &rho);
        let mut a = rho;
        let mut u = [c(0.0); 16];
        let ev = eigh4(&mut a, Some(&mut u)).unwrap();
        let reference = hermitian_eigenvalues(&m);
        for k in 0..4 {
            assert!((ev[k] - reference[k]).abs() < 1e-15, "{ev:?} vs {reference:?}");
        }
        let uu = DMatrix::from_column_slice(4, 4, &u);
        assert!((uu.adjoint() * &uu - DMatrix::identity(4, 4)).norm() < 1e-14);
        let general = concurrence_faer(&rho);
        assert!((concurrence_4x4(&rho).unwrap() - general).abs() < 1e-13);
        assert!((concurrence_eigh4(&rho) - general).abs() < 1e-13);
        assert!((general - 0.028433702).abs() < 1e-8, "{general}");
    }

    /// X states of every block rank through the closed form against the factored route, and
    /// the exact values of Bell, Werner and product states.
    #[test]
    fn x_state_closed_form_matches_the_general_route() {
        let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(21);
        let mut worst = 0.0f64;
        let mut count = 0;
        for k in 0..2000 {
            // block = u u† + v v† with rank 0, 1 or 2 (ranks of the two blocks cycle)
            let mut blk = |rank: usize| -> [C64; 4] {
                let mut m = [c(0.0); 4];
                for _ in 0..rank {
                    let u = [random_c(&mut r), random_c(&mut r)];
                    for i in 0..2 {
                        for j in 0..2 {
                            m[i + 2 * j] += u[i] * u[j].conj();
                        }
                    }
                }
                m
            };
            let (ba, bb) = (blk(k % 3), blk((k / 3) % 3));
            let mut rho = [c(0.0); 16];
            // block {1,4}: indices 0 and 3, block {2,3}: indices 1 and 2
            for (b, idx) in [(ba, [0, 3]), (bb, [1, 2])] {
                for i in 0..2 {
                    for j in 0..2 {
                        rho[idx[i] + 4 * idx[j]] = b[i + 2 * j];
                    }
                }
            }
            let tr: f64 = (0..4).map(|i| rho[5 * i].re).sum();
            if tr == 0.0 {
                continue;
            }
            rho.iter_mut().for_each(|z| *z /= tr);
            let a: [C64; 16] = std::array::from_fn(|k| (rho[k] + rho[(k / 4) + 4 * (k % 4)].conj()) * 0.5);
            let tol = 64.0 * f64::EPSILON * (0..4).fold(0.0f64, |m, i| m.max(a[5 * i].re));
            let fast = x_state_concurrence(&a, tol).expect("a state");
            let general = concurrence_factored(&rho, a, tol).unwrap();
            assert_eq!(concurrence_4x4(&rho).unwrap(), fast);
            worst = worst.max((fast - general).abs());
            count += 1;
        }
        assert!(count > 1500 && worst < 1e-12, "{count} states, {worst:e}");
        let bell = |s: f64| -> [C64; 16] {
            // (|01⟩ + s|10⟩)/√2 and (|00⟩ + s|11⟩)/√2 (s = ±1)
            let mut m = [c(0.0); 16];
            m[5] = c(0.5);
            m[10] = c(0.5);
            m[9] = c(0.5 * s);
            m[6] = c(0.5 * s);
            m
        };
        assert_eq!(concurrence_4x4(&bell(1.0)).unwrap(), 1.0);
        assert_eq!(concurrence_4x4(&bell(-1.0)).unwrap(), 1.0);
        for &p in &[0.0, 0.2, 1.0 / 3.0, 0.5, 0.8, 1.0] {
            let w = werner(p);
            let m: [C64; 16] = std::array::from_fn(|i| w[(i % 4, i / 4)]);
            assert!((concurrence_4x4(&m).unwrap() - ((3.0 * p - 1.0) / 2.0).max(0.0)).abs() < 1e-15, "{p}");
        }
        let mut z = [c(0.0); 16];
        z[0] = c(1.0);
        assert_eq!(concurrence_4x4(&z).unwrap(), 0.0);
        // an X "state" with a negative eigenvalue goes the general (faer) way
        let mut x = bell(1.0);
        x[0] = c(0.1);
        x[5] = c(0.4);
        x[10] = c(0.5);
        let a: [C64; 16] = x;
        assert!(x_state_concurrence(&a, 1e-14).is_none());
        let xm = DMatrix::from_column_slice(4, 4, &x);
        let sgn = [-1.0, 1.0, 1.0, -1.0];
        let rt = DMatrix::from_fn(4, 4, |i, j| xm[(3 - i, 3 - j)].conj() * (sgn[i] * sgn[j]));
        let ev = to_faer(&(&xm * rt)).eigenvalues().unwrap();
        let mut l = sqrt_spectrum(&ev.iter().map(|z| z.re.abs()).collect::<Vec<_>>());
        l.sort_by(|x, y| y.total_cmp(x));
        assert!((concurrence_4x4(&x).unwrap() - (l[0] - l[1] - l[2] - l[3]).max(0.0)).abs() < 1e-12);
    }

    #[test]
    fn eigh4_matches_faer_and_reconstructs() {
        let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(11);
        let mut mats: Vec<DMatrix<C64>> = (0..300).map(|_| {
            let m = DMatrix::from_fn(4, 4, |_, _| random_c(&mut r));
            &m + m.adjoint()
        }).collect();
        mats.push(DMatrix::identity(4, 4));
        mats.push(DMatrix::from_diagonal(&DVector::from_vec(vec![c(2.0), c(-1.0), c(2.0), c(-1.0)])));
        mats.push(x_state());
        mats.push(DMatrix::zeros(4, 4));
        for m in &mats {
            let mut a: [C64; 16] = std::array::from_fn(|k| m[(k % 4, k / 4)]);
            let mut v = [c(0.0); 16];
            let ev = eigh4(&mut a, Some(&mut v)).unwrap();
            let reference = hermitian_eigenvalues(m);
            let scale = m.norm().max(1e-300);
            for k in 0..4 {
                assert!((ev[k] - reference[k]).abs() <= 1e-14 * scale, "{ev:?} vs {reference:?}");
            }
            assert!(ev.windows(2).all(|w| w[0] <= w[1]));
            let u = DMatrix::from_column_slice(4, 4, &v);
            assert!((u.adjoint() * &u - DMatrix::identity(4, 4)).norm() < 1e-14);
            assert!((from_eigh(&ev, &u) - m).norm() <= 1e-14 * scale);
            let mut b: [C64; 16] = std::array::from_fn(|k| m[(k % 4, k / 4)]);
            assert_eq!(eigh4(&mut b, None).unwrap(), ev, "values do not depend on whether vectors are accumulated");
        }
        let mut bad = [C64::new(f64::NAN, 0.0); 16];
        assert!(eigh4(&mut bad, None).is_err());
    }

    #[test]
    fn singular_values4_converge_on_a_bridge_tau() {
        // τ of a bridge state (network run, expm bridges) on which a tolerance of ε (instead of
        // 16ε) on |a_p†a_q|/(‖a_p‖‖a_q‖) never converged: rounding keeps it at a few ε.
        let z = c(0.0);
        let cc = C64::new;
        let m = [
            cc(0.0024980139849979295, -0.008838052366321203), z, z, cc(-0.0015325872275178199, 0.005422342010134401),
            z, cc(-1.706571397616433e-9, -0.016532590144297043), cc(6.837716059775542e-10, 0.0059064556429629265), z,
            z, cc(4.897953281897566e-10, 0.005906455642962961), cc(1.5783260607439674e-9, 0.016532590144297102), z,
            cc(0.004068521658081924, -0.01439455811039818), z, z, cc(0.00663141635116977, -0.023462160470877305),
        ];
        let mut a = m;
        let mut sv = singular_values4(&mut a).unwrap();
        sv.sort_by(|x, y| x.total_cmp(y));
        let d = DMatrix::from_column_slice(4, 4, &m);
        let reference = hermitian_eigenvalues(&(d.adjoint() * &d));
        for i in 0..4 {
            assert!((sv[i] * sv[i] - reference[i]).abs() < 1e-13 * d.norm_squared(), "{sv:?} vs {reference:?}");
        }
    }

    #[test]
    fn singular_values4_match_faer() {
        let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(5);
        for k in 0..300 {
            let m = DMatrix::from_fn(4, 4, |_, _| random_c(&mut r));
            // rank-deficient cases too: m · diag(1, 1, 0, 0) etc.
            let m = if k % 3 == 0 { &m * DMatrix::from_diagonal(&DVector::from_vec(vec![c(1.0), c(1e-9), c(0.0), c(1.0)])) } else { m };
            let mut a: [C64; 16] = std::array::from_fn(|i| m[(i % 4, i / 4)]);
            let mut sv = singular_values4(&mut a).unwrap();
            sv.sort_by(|x, y| x.total_cmp(y));
            let reference = hermitian_eigenvalues(&(m.adjoint() * &m));
            for i in 0..4 {
                // compare squares: the reference (eigenvalues of m†m) is accurate to ε‖m‖² only
                assert!((sv[i] * sv[i] - reference[i]).abs() < 1e-13 * m.norm_squared(), "{sv:?} vs {reference:?}");
            }
        }
    }

    #[test]
    fn concurrence_4x4_matches_the_faer_reference_and_pure_states() {
        for rho in test_states() {
            let (new, old) = (concurrence_4x4(&rho).unwrap(), concurrence_faer(&rho));
            assert!((new - old).abs() < 1e-10, "{new} vs {old}");
        }
        // pure states α|00⟩ + β|01⟩ + γ|10⟩ + δ|11⟩: C = 2|αδ − βγ|
        let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(3);
        let mut nonzero = 0;
        for k in 0..200 {
            let mut a: [C64; 4] = std::array::from_fn(|_| random_c(&mut r));
            if k % 3 == 0 {
                a[3] = a[1] * a[2] / a[0]; // a product state
            }
            let n = a.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
            let a = a.map(|z| z / n);
            let rho: [C64; 16] = std::array::from_fn(|i| a[i % 4] * a[i / 4].conj());
            let exact = 2.0 * (a[0] * a[3] - a[1] * a[2]).norm();
            let got = concurrence_4x4(&rho).unwrap();
            assert!((got - exact).abs() < 1e-12, "{got} vs {exact}");
            nonzero += (exact > 0.1) as usize;
        }
        assert!(nonzero > 100);
    }

    #[test]
    fn binary_entropy() {
        for &p in &[0.1, 0.25, 0.5, 0.9] {
            let r = DMatrix::from_diagonal(&DVector::from_vec(vec![c(p), c(1.0 - p)]));
            let h = -p * p.ln() - (1.0 - p) * (1.0 - p).ln();
            assert!((entropy_vn(&r) - h).abs() < 1e-14);
        }
    }

    #[test]
    fn ptrace_order_and_product_states() {
        // ρ = ρA ⊗ ρB ⊗ ρC: each reduced state is recovered, and [2, 0] gives ρC ⊗ ρA
        let ra = DMatrix::from_row_slice(2, 2, &[c(0.7), C64::new(0.1, 0.2), C64::new(0.1, -0.2), c(0.3)]);
        let rb = DMatrix::from_diagonal(&DVector::from_vec(vec![c(0.5), c(0.25), c(0.25)]));
        let rc = DMatrix::from_row_slice(2, 2, &[c(0.4), c(0.3), c(0.3), c(0.6)]);
        let r = crate::ops::tensor(&[ra.clone(), rb.clone(), rc.clone()]);
        let d = [2, 3, 2];
        assert!((ptrace(&r, &d, &[0]).unwrap() - &ra).norm() < 1e-14);
        assert!((ptrace(&r, &d, &[1]).unwrap() - &rb).norm() < 1e-14);
        assert!((ptrace(&r, &d, &[2, 0]).unwrap() - crate::ops::tensor(&[rc.clone(), ra.clone()])).norm() < 1e-14);
        assert!(mutual_information(&r, &d, 0, 2).unwrap().abs() < 1e-12);
        assert!(ptrace(&r, &d, &[3]).is_err());
        assert!(concurrence(&r, &d, 0, 1).is_err());
    }
}
