//! Entanglement measures of two sites: the partial transpose, the negativity and the
//! logarithmic negativity (Vidal & Werner, PRA 65, 032314 (2002)), and the Wootters
//! concurrence (W. K. Wootters, PRL 80, 2245 (1998); the X-state closed form of T. Yu and
//! J. H. Eberly, Quantum Inf. Comput. 7, 459 (2007)).

use super::eigen::{cabs, hermitian_eigenvalues, singular_values4, sqrt_spectrum_into, to_faer};
use super::{check_sites, ptrace};
use crate::error::{Error, Result};
use crate::C64;
use nalgebra::DMatrix;

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
pub(super) fn x_state_concurrence(a: &[C64; 16], tol: f64) -> Option<f64> {
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
pub(super) fn concurrence_factored(rho: &[C64; 16], mut a: [C64; 16], tol: f64) -> Result<f64> {
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
