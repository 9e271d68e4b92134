//! The dense form of a bridge: its generators `𝓛(γ) = 𝓛₀ + γ·𝓛₁` for the three couplings of
//! the NEST paper (§II: `H₀ = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾`, jumps `√κ σ−`; `+γσx⁽⁰⁾σx⁽¹⁾` in H, the
//! paper's modified-Lindblad cross terms, or those plus their CP completion), built with the
//! engine's GKSL [`Lindbladian`] (`crate::lindblad`); their dense 16×16 superoperators on
//! column-stacked vec ρ (the `expm` and `rk4` paths); and the read-out `Tr(M ρ)` over the
//! non-zeros of M.

use super::Z;
use crate::coef::Coef;
use crate::error::{Error, Result};
use crate::integrate::Rhs;
use crate::lindblad::Lindbladian;
use crate::neural::spec::{BridgeSpec, Coupling};
use crate::ops::OpContext;
use crate::C64;
use nalgebra::DMatrix;

/// Memory budget passed to `Lindbladian::liouvillian` (a 16×16 superoperator needs a few KiB).
const BUDGET: u128 = 1 << 30;

/// Non-zeros of a 4×4 column-major read-out operator as `(index of ρ_ji, O_ij)`, so that
/// `Tr(O ρ) = Σ O_ij ρ_ji` runs over them only (σx⊗1 and σz⊗1 have 4 non-zeros each).
pub(super) fn readout_terms(o: &[C64; 16]) -> Vec<(u8, C64)> {
    let mut t = Vec::new();
    for i in 0..4 {
        for j in 0..4 {
            let v = o[i + 4 * j];
            if v != Z {
                t.push(((j + 4 * i) as u8, v));
            }
        }
    }
    t
}

/// `Re Tr(O ρ)` from [`readout_terms`].
#[inline]
pub(super) fn readout(terms: &[(u8, C64)], rho: &[C64; 16]) -> f64 {
    terms.iter().map(|&(k, v)| (v * rho[(k & 15) as usize]).re).sum()
}

pub(super) fn dense4(m: &DMatrix<C64>) -> [C64; 16] {
    let mut a = [Z; 16];
    a.copy_from_slice(m.as_slice());
    a
}

/// Dense `n² × n²` superoperator of a generator, column-major, from the engine's sparse
/// Liouvillian (column stacking, `lindblad/`).
pub(super) fn superop(l: &Lindbladian) -> Result<Vec<C64>> {
    let s = l.liouvillian(0.0, BUDGET)?;
    let m = s.nrows;
    let mut d = vec![Z; m * m];
    for (i, j, v) in s.triplets() {
        d[i + m * j] += v;
    }
    Ok(d)
}

/// `dy/dt = A y` for a dense 16×16 A (the RK4 path).
pub(super) struct DenseRhs<'a> {
    pub(super) a: &'a [C64],
}

impl Rhs for DenseRhs<'_> {
    fn len(&self) -> usize {
        16
    }
    fn eval(&mut self, _t: f64, y: &[C64], dy: &mut [C64]) {
        for (i, d) in dy.iter_mut().enumerate() {
            let mut s = Z;
            for j in 0..16 {
                s += self.a[i + 16 * j] * y[j];
            }
            *d = s;
        }
    }
}

/// The generators of a bridge for a given coupling, built with the engine's [`Lindbladian`].
pub(crate) struct Generators {
    /// γ-independent part: `H₀ = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾`, jumps `√κ σ−` on both qubits.
    pub l0: Lindbladian,
    /// Coupling part at γ = 1.
    pub l1: Lindbladian,
}

/// Builds `𝓛₀` and `𝓛₁` (and the full generator at γ = γ₀ for the CP report).
pub(crate) fn generators(b: &BridgeSpec, gamma: f64) -> Result<(Generators, Lindbladian)> {
    let ctx = OpContext::new(vec![2, 2]);
    let op = |e: &str| ctx.build(e).map_err(|m| Error::numerical(format!("internal: operator {e}: {m}")));
    let (z0, z1, x0, x1, sm0, sm1) = (op("Z0")?, op("Z1")?, op("X0")?, op("X1")?, op("SM0")?, op("SM1")?);
    let mut l0 = Lindbladian::new(vec![2, 2]);
    l0.add_hamiltonian(Coef::real(b.omega[0]), z0, "omega[0]");
    l0.add_hamiltonian(Coef::real(b.omega[1]), z1, "omega[1]");
    l0.add_jump(Coef::real(b.kappa[0]), sm0, "kappa[0]");
    l0.add_jump(Coef::real(b.kappa[1]), sm1, "kappa[1]");
    let coupling = |g: f64| -> Result<Lindbladian> {
        let mut l = Lindbladian::new(vec![2, 2]);
        match b.coupling {
            Coupling::Hamiltonian => l.add_hamiltonian(Coef::real(g), x0.matmul(&x1), "gamma X0 X1"),
            Coupling::Paper | Coupling::Cp => {
                l.add_cross(Coef::real(g), x0.clone(), x1.clone(), "gamma (X0, X1)");
                l.add_cross(Coef::real(g), x1.clone(), x0.clone(), "gamma (X1, X0)");
                if b.coupling == Coupling::Cp {
                    l.apply_cp_completion()?;
                }
            }
        }
        Ok(l)
    };
    let l1 = coupling(1.0)?;
    let lc = coupling(gamma)?;
    let mut full = l0.clone();
    full.hamiltonian.extend(lc.hamiltonian);
    full.dissipators.extend(lc.dissipators);
    Ok((Generators { l0, l1 }, full))
}
