//! Quantum-information measures of density matrices (QuTiP names where they exist).
//!
//! All functions take a density matrix `ρ` as a column-major `nalgebra::DMatrix<C64>` together
//! with the local dimensions `dims` (site 0 leftmost). Logarithms are natural unless the name
//! says otherwise (`log_negativity` is base 2, as in Vidal & Werner, PRA 65, 032314 (2002)).
//!
//! Files: this one holds `expect`, `trace`, `purity` and `ptrace`; `entropy.rs` the entropies,
//! the mutual information and the fidelity; `entanglement.rs` the partial transpose, the
//! negativities and the concurrence; `eigen.rs` the Hermitian eigensolvers (faer's, and the
//! allocation-free 4×4 Jacobi routines) and the spectral functions they serve.

mod eigen;
mod entanglement;
mod entropy;

pub use eigen::hermitian_eigenvalues;
pub(crate) use eigen::{eigh, from_eigh};
pub use entanglement::{concurrence, concurrence_4x4, log_negativity, negativity, partial_transpose_second};
pub use entropy::{entropy_of, entropy_vn, fidelity, mutual_information};

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
    use super::{eigen::*, entanglement::*};
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
