//! Entropies and the fidelity: the von Neumann entropy `S = −Tr ρ ln ρ` of a state and of a
//! reduced state, the mutual information `I(A:B) = S(A) + S(B) − S(AB)` (natural log, QuTiP
//! conventions), and the Uhlmann fidelity `F(ρ, σ) = (Tr √(√ρ σ √ρ))²`.

use super::eigen::{hermitian_eigenvalues, sqrt_spectrum, sqrtm_psd};
use super::{check_sites, ptrace};
use crate::error::Result;
use crate::C64;
use nalgebra::DMatrix;

/// Von Neumann entropy `S = −Tr ρ ln ρ` (natural log, QuTiP `entropy_vn(rho, base=e)`),
/// computed from the eigenvalues of the Hermitian part; eigenvalues ≤ 0 contribute nothing
/// (the limit `x ln x → 0`), as in QuTiP.
pub fn entropy_vn(rho: &DMatrix<C64>) -> f64 {
    // `0.0 +` turns the −0 of a pure state (−1·ln 1) into +0.
    0.0 + hermitian_eigenvalues(rho).into_iter().filter(|&l| l > 0.0).map(|l| -l * l.ln()).sum::<f64>()
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

/// Uhlmann fidelity `F(ρ, σ) = (Tr √(√ρ σ √ρ))²` (squared convention; QuTiP's `fidelity`
/// returns its square root). Negative eigenvalues of the Hermitian parts, and eigenvalues within
/// rounding of 0, are treated as 0. NaN if the eigensolver fails to converge.
pub fn fidelity(rho: &DMatrix<C64>, sigma: &DMatrix<C64>) -> f64 {
    let Ok(s) = sqrtm_psd(rho) else { return f64::NAN };
    let m = &s * sigma * &s;
    let t: f64 = sqrt_spectrum(&hermitian_eigenvalues(&m)).iter().sum();
    t * t
}
