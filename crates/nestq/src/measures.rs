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
/// For a positive semidefinite ρ the eigenvalues are those of the Hermitian `√ρ ρ̃ √ρ` (similar
/// to ρρ̃), computed with two Hermitian eigen-decompositions (faer; see `eigh`). A ρ with an
/// eigenvalue below −16·4·ε·‖ρ‖ (not a state, e.g. under the `paper` coupling) goes through the
/// general eigenvalues of ρρ̃ with |λ|, as QuTiP does.
pub fn concurrence_4x4(rho: &[C64; 16]) -> Result<f64> {
    let r = DMatrix::from_column_slice(4, 4, rho);
    // ρ̃_ij = s_i s_j conj(ρ_(3−i)(3−j)), s = (−1, 1, 1, −1): the entries of (Y⊗Y) ρ* (Y⊗Y)
    let sgn = [-1.0, 1.0, 1.0, -1.0];
    let rt = DMatrix::from_fn(4, 4, |i, j| r[(3 - i, 3 - j)].conj() * (sgn[i] * sgn[j]));
    let (ev, u) = eigh(&r)?;
    let scale = ev.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    let tol = 16.0 * 4.0 * f64::EPSILON * scale;
    let mut l: Vec<f64> = if ev.iter().all(|&x| x >= -tol) {
        let sq = from_eigh(&sqrt_spectrum(&ev), &u);
        let s = &sq * rt * &sq;
        sqrt_spectrum(&hermitian_eigenvalues(&s))
    } else {
        let m = &r * rt;
        let ev = to_faer(&m).eigenvalues().map_err(|e| Error::numerical(format!("concurrence: eigenvalue iteration did not converge ({e:?})")))?;
        // |λ| as QuTiP does (ρρ̃ of a non-physical state can have negative eigenvalues)
        let re: Vec<f64> = ev.iter().map(|z| z.re.abs()).collect();
        sqrt_spectrum(&re)
    };
    l.sort_by(|x, y| y.total_cmp(x));
    Ok((l[0] - l[1] - l[2] - l[3]).max(0.0))
}

/// Square roots of a spectrum that is positive semidefinite in exact arithmetic. Eigenvalues
/// within the eigensolver's rounding (|λ| ≤ 16·n·ε·max|λ|) count as 0 — otherwise a zero
/// eigenvalue computed as 1e-17 becomes √ = 3e-9 and, e.g., F(ρ, ρ) of a pure state exceeds 1
/// by 7e-9. Larger negative values (a state that is not PSD) also count as 0, as documented.
fn sqrt_spectrum(ev: &[f64]) -> Vec<f64> {
    let scale = ev.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    let tol = 16.0 * ev.len() as f64 * f64::EPSILON * scale;
    ev.iter().map(|&l| if l <= tol { 0.0 } else { l.sqrt() }).collect()
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
