//! Tests of the bridge state: Pauli coordinates, the fast sine/cosine, the exact coupling factor
//! of the `split` step and the merged half-step frame against the plain Strang step (dense Padé
//! factors, G. Strang 1968), and a timing of the per-step kernels.

use super::*;
use super::pauli::{pauli_string, pauli_superop};
use super::split::{sin_cos, ExpPlan};

fn spec(coupling: Coupling) -> BridgeSpec {
    BridgeSpec {
        neurons: [0, 1],
        omega: [1.0, 1.1],
        gamma0: 0.1,
        beta: 0.1,
        kappa: [0.05, 0.07],
        alpha: [0.3, 0.3],
        coupling,
        measure: Readout::X,
        initial: crate::ops::tensor(&[
            DMatrix::from_row_slice(2, 2, &[C64::new(0.5, 0.0), C64::new(0.5, 0.0), C64::new(0.5, 0.0), C64::new(0.5, 0.0)]),
            DMatrix::from_row_slice(2, 2, &[C64::new(1.0, 0.0), Z, Z, Z]),
        ]),
        spike_kick: 0.0,
    }
}

fn random_rho(r: &mut crate::neural::rng::Xoshiro256) -> [C64; 16] {
    // Ψ Ψ† / Tr for a random 4×4 Ψ
    let psi: Vec<C64> = (0..16).map(|_| C64::new(r.uniform() - 0.5, r.uniform() - 0.5)).collect();
    let mut rho: [C64; 16] = std::array::from_fn(|k| (0..4).map(|m| psi[k % 4 + 4 * m] * psi[k / 4 + 4 * m].conj()).sum());
    let tr: f64 = (0..4).map(|i| rho[5 * i].re).sum();
    rho.iter_mut().for_each(|z| *z /= tr);
    rho
}

#[test]
fn pauli_coordinates_round_trip() {
    let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(9);
    for _ in 0..50 {
        let rho = random_rho(&mut r);
        let p = rho_to_pauli(&rho);
        assert!((p[0] - 1.0).abs() < 1e-15);
        let back = pauli_to_rho(&p);
        // against the definition ¼ Σ r_p P_p
        let naive: Vec<C64> = (0..16).map(|k| (0..16).map(|q| pauli_string(q)[k] * (0.25 * p[q])).sum()).collect();
        for k in 0..16 {
            assert!((back[k] - rho[k]).norm() < 1e-15 && (back[k] - naive[k]).norm() < 1e-15, "{k}");
        }
    }
    // σx⊗1 is coordinate 4, 1⊗σz coordinate 3 (the read-out indices)
    let x0 = dense4(&crate::ops::tensor(&[crate::ops::sigmax(), crate::ops::qeye(2)]));
    let z1 = dense4(&crate::ops::tensor(&[crate::ops::qeye(2), crate::ops::sigmaz()]));
    assert_eq!(x0, pauli_string(4));
    assert_eq!(z1, pauli_string(3));
}

#[test]
fn sin_cos_within_an_ulp_of_libm() {
    let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(4);
    let mut worst = 0.0f64;
    for k in 0..200_000 {
        // uniform on [−1/8, 1/8], and log-uniform small arguments
        let x = if k % 2 == 0 { (r.uniform() - 0.5) * 0.25 } else { 0.125 * (-(r.uniform() * 40.0)).exp2() };
        let (s, c) = sin_cos(x);
        for (got, want) in [(s, x.sin()), (c, x.cos())] {
            let ulp = f64::EPSILON * want.abs();
            worst = worst.max((got - want).abs() / ulp);
        }
    }
    // each within 1 ulp of the true value, so within 2 of libm's (≤ 1 ulp) result
    assert!(worst <= 2.0, "{worst} ulp");
    assert_eq!(sin_cos(0.5), (0.5f64.sin(), 0.5f64.cos()));
    assert_eq!(sin_cos(0.0), (0.0, 1.0));
}

/// The coupling factor assembled from `reps`, `crows`, `cent` equals the Padé exponential
/// of z𝓛₁ (Pauli coordinates) for small and large z.
#[test]
fn coupling_factor_is_the_exact_exponential() {
    for coupling in [Coupling::Hamiltonian, Coupling::Paper, Coupling::Cp] {
        let (g, _) = generators(&spec(coupling), 0.1).unwrap();
        let (l0, l1) = (superop(&g.l0).unwrap(), superop(&g.l1).unwrap());
        let sp = SplitStep::new(&spec(coupling), &l0, &l1, 0.1).unwrap();
        let plans: Vec<ExpPlan> = sp.reps.iter().map(|r| r.1).collect();
        match coupling {
            Coupling::Hamiltonian => assert_eq!(plans, [ExpPlan::Direct]),
            Coupling::Paper => assert_eq!(plans, [ExpPlan::Direct, ExpPlan::Recip(0)]),
            Coupling::Cp => assert_eq!(plans, [ExpPlan::Direct, ExpPlan::Square(0, 2)]),
        }
        for z in [1e-5, 0.01, 0.124, 0.3, 3.0] {
            let mut c = [0.0; 256];
            for j in 0..16 {
                let mut col = [0.0; 16];
                col[j] = 1.0;
                sp.couple(&mut col, z);
                for i in 0..16 {
                    c[16 * i + j] = col[i];
                }
            }
            let e = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l1[i + 16 * j] * z));
            let d: Vec<C64> = (0..256).map(|k| e[(k % 16, k / 16)]).collect();
            let want = pauli_superop(&d, "test").unwrap();
            let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let err = c.iter().zip(&want).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
            assert!(err < 1e-13, "{coupling:?} z = {z}: {err:e}");
        }
        if coupling == Coupling::Hamiltonian {
            // 8 coordinates commute with σx⊗σx, 4 pairs rotate
            assert_eq!((sp.pairs.len(), sp.singles.len()), (4, 0));
            assert!(sp.pairs.iter().all(|(_, _, e)| e.iter().all(|x| x.c[1] == 0.0)), "one term per entry");
        }
    }
}

/// The merged half-step frame gives the states and read-outs of the plain Strang step
/// `ρ ← A C(γ) A ρ` (dense Padé factors), with γ changing every step and spike kicks.
#[test]
fn merged_frame_matches_the_unmerged_strang_step() {
    let dt = 0.1;
    for coupling in [Coupling::Hamiltonian, Coupling::Paper, Coupling::Cp] {
        for measure in [Readout::X, Readout::Z] {
            let mut s = spec(coupling);
            s.measure = measure;
            s.spike_kick = 0.7;
            s.beta = 0.2;
            let mut splits = SplitCache::new();
            let mut b = BridgeState::new(&s, BridgeMethod::Split, dt, &mut splits).unwrap();
            let (g, _) = generators(&s, s.gamma0).unwrap();
            let (l0, l1) = (superop(&g.l0).unwrap(), superop(&g.l1).unwrap());
            let a = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l0[i + 16 * j] * (0.5 * dt)));
            let mo = dense4(&crate::ops::tensor(&[if measure == Readout::X { crate::ops::sigmax() } else { crate::ops::sigmaz() }, crate::ops::qeye(2)]));
            let mut rho = dense4(&s.initial);
            let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(1);
            let (mut worst, mut worst_c) = (0.0f64, 0.0f64);
            // `paper` is not CP and amplifies a coherence as e^(4γt): a shorter run
            let steps = if coupling == Coupling::Paper { 400 } else { 3000 };
            for n in 0..steps {
                let (vi, vk) = (-65.0 + 15.0 * r.uniform(), -65.0 + 15.0 * r.uniform());
                b.couple(vi, vk);
                // the plain scheme's dense Padé factors let its trace drift by ~1e-16 per
                // step (the merged one keeps it, see `local_channel`): compare ρ/Tr ρ
                let tr_ref: f64 = (0..4).map(|i| rho[5 * i].re).sum();
                let m_ref = (0..16).map(|k| (mo[(k / 4) + 4 * (k % 4)] * rho[k]).re).sum::<f64>() / tr_ref;
                worst = worst.max((b.m[0] - m_ref).abs());
                if n % 100 == 0 {
                    let rec = b.record().unwrap();
                    let c_ref = measures::concurrence_4x4(&rho).unwrap();
                    worst_c = worst_c.max((rec[3] - c_ref).abs());
                }
                let gamma = s.gamma0 * (-s.beta * (vi - vk).abs()).exp();
                assert_eq!(b.gamma, gamma);
                let c = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l1[i + 16 * j] * (gamma * dt)));
                let step = |m: &Mat<C64>, x: [C64; 16]| -> [C64; 16] { std::array::from_fn(|i| (0..16).map(|j| m[(i, j)] * x[j]).sum()) };
                rho = step(&a, step(&c, step(&a, rho)));
                b.advance(n as f64 * dt).unwrap();
                if n % 37 == 5 {
                    let q = n % 2;
                    b.kick(q);
                    let u = &b.cold.kick.as_ref().unwrap()[q];
                    let k = u * DMatrix::from_column_slice(4, 4, &rho) * u.adjoint();
                    rho.copy_from_slice(k.as_slice());
                }
                if n % 250 == 0 {
                    let scale = rho.iter().fold(0.0f64, |m, z| m.max(z.norm()));
                    let got = b.rho_now();
                    worst = worst.max(rho.iter().zip(&got).fold(0.0f64, |m, (x, y)| m.max((x / tr_ref - y).norm())) / scale);
                }
            }
            let got = b.rho_now();
            let tr = |r: &[C64; 16]| (0..4).map(|i| r[5 * i].re).sum::<f64>() - 1.0;
            eprintln!("{coupling:?} {measure:?}: largest difference of ⟨M⟩ and ρ {worst:e}, of the concurrence {worst_c:e}; trace − 1: {:e} (merged), {:e} (plain)", tr(&got), tr(&rho));
            assert!(worst < 1e-13 && worst_c < 1e-10 && tr(&got).abs() < 1e-13, "{coupling:?} {measure:?}: {worst:e}, {worst_c:e}");
        }
    }
}

/// Timing of the per-step kernels (not a check): `cargo test --release -p nestq --lib
/// bridge_kernel_timing -- --ignored --nocapture`. Best of many short repetitions, so that
/// other processes on the machine inflate it little.
#[test]
#[ignore]
fn bridge_kernel_timing() {
    let mut splits = SplitCache::new();
    let mut b = BridgeState::new(&spec(Coupling::Hamiltonian), BridgeMethod::Split, 0.1, &mut splits).unwrap();
    let v = [-60.0, -55.0];
    let reps = 2000;
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let t0 = crate::clock::now_s();
        for k in 0..reps {
            b.couple(v[0], v[1]);
            b.advance(k as f64).unwrap();
        }
        best = best.min(crate::clock::now_s() - t0);
    }
    println!("split couple+advance (with the read-out): {:.1} ns", best / reps as f64 * 1e9);
    let mut best = f64::INFINITY;
    let mut acc = 0.0;
    for _ in 0..200 {
        let t0 = crate::clock::now_s();
        for _ in 0..200 {
            acc += measures::concurrence_4x4(std::hint::black_box(&b.rho_now())).unwrap();
        }
        best = best.min(crate::clock::now_s() - t0);
    }
    println!("concurrence_4x4: {:.1} ns ({acc})", best / 200.0 * 1e9);
}
