//! Runtime state of a NEST bridge: the two-qubit density matrix, its generator split as
//! `𝓛(γ) = 𝓛₀ + γ·𝓛₁` (exact, since every coupling form is linear in γ), the per-step advance
//! and the spike kick. `expm` and `rk4` bridges carry vec ρ (complex, column stacking); `split`
//! bridges carry `σ = e^(𝓛₀dt/2)ρ` in real Pauli coordinates ([`SplitStep`]).
//!
//! The equations are those of the NEST paper (§II; summarised in `neural/mod.rs`, "Bridges"),
//! integrated as described in `docs/network-format.md` ("Bridge integrator"). Submodules:
//! - `dense`: the generators `𝓛₀`, `𝓛₁` built with the engine's GKSL [`Lindbladian`]
//!   (`crate::lindblad`), their dense 16×16 superoperators (the `expm` and `rk4` paths) and the
//!   read-out `Tr(M ρ)`;
//! - `pauli`: real Pauli coordinates of two-qubit states and superoperators, and the
//!   phase-covariant single-qubit channels in them;
//! - `split`: the precomputed factors and the step of the `split` method (Strang splitting,
//!   G. Strang, SIAM J. Numer. Anal. 5, 506 (1968)), carried in the half-step frame.
//!
//! [`Lindbladian`]: crate::lindblad::Lindbladian

mod dense;
mod pauli;
mod split;
#[cfg(test)]
mod tests;

pub(crate) use dense::generators;
pub(crate) use split::SplitStep;

use super::spec::{BridgeMethod, BridgeSpec, Coupling, Readout};
use crate::error::{Error, Result};
use crate::integrate::{self, Collect};
use crate::measures;
use crate::C64;
use dense::{dense4, readout, readout_terms, superop, DenseRhs};
use faer::Mat;
use nalgebra::DMatrix;
use pauli::{pauli_to_rho, rho_to_pauli};
use std::sync::Arc;

const Z: C64 = C64 { re: 0.0, im: 0.0 };

/// One bridge while the network runs. `repr(C)` keeps the fields a `split` step touches in the
/// first four cache lines.
#[repr(C)]
pub(crate) struct BridgeState {
    pub neurons: [usize; 2],
    gamma0: f64,
    beta: f64,
    /// ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩ at the current time.
    pub m: [f64; 2],
    /// γ over the current step.
    pub gamma: f64,
    dt: f64,
    /// `split`: `σ = e^(𝓛₀dt/2) ρ` in Pauli coordinates (see [`SplitStep`]).
    sigma: [f64; 16],
    /// Split factors, shared by all bridges with the same ω, κ and coupling.
    split: Option<Arc<SplitStep>>,
    /// `split`: read-out operator (0: σx, 1: σz), see [`SplitStep::readout`].
    read: u8,
    method: BridgeMethod,
    pub alpha: [f64; 2],
    /// Everything a `split` step does not touch, out of line so that the bridges of a chunk
    /// lie close together.
    pub cold: Box<Cold>,
}

/// The rarely used part of a [`BridgeState`].
pub(crate) struct Cold {
    /// `expm`, `rk4`: vec(ρ), column stacking (= ρ column-major).
    rho: [C64; 16],
    /// `U = e^(−iθσx/2)` on qubit 0 and on qubit 1 (None when θ = 0).
    kick: Option<[DMatrix<C64>; 2]>,
    l0: Vec<C64>,
    l1: Vec<C64>,
    m_ops: [Vec<(u8, C64)>; 2],
    cache: Option<(u64, Mat<C64>)>,
    pub propagators: u64,
    pub rhs_evals: u64,
}

/// Split factors already built in a run, keyed by the bits of (ω_i, ω_k, κ_i, κ_k) and the
/// coupling — everything `𝓛₀` and `𝓛₁` depend on.
pub(crate) type SplitCache = Vec<(([u64; 4], Coupling), Arc<SplitStep>)>;

impl BridgeState {
    /// The state of bridge `b` at t = 0; `split` collects the split factors of the run's bridges
    /// so that bridges with equal generators share one copy.
    pub fn new(b: &BridgeSpec, method: BridgeMethod, dt: f64, splits: &mut SplitCache) -> Result<BridgeState> {
        let (g, _) = generators(b, b.gamma0)?;
        let (m_local, read) = match b.measure {
            Readout::X => (crate::ops::sigmax(), 0u8),
            Readout::Z => (crate::ops::sigmaz(), 1u8),
        };
        let id = crate::ops::qeye(2);
        let m_ops = [readout_terms(&dense4(&crate::ops::tensor(&[m_local.clone(), id.clone()]))), readout_terms(&dense4(&crate::ops::tensor(&[id.clone(), m_local])))];
        let kick = if b.spike_kick != 0.0 {
            let (c, s) = ((b.spike_kick / 2.0).cos(), (b.spike_kick / 2.0).sin());
            // e^(−iθσx/2) = cos(θ/2) I − i sin(θ/2) σx
            let u = DMatrix::from_row_slice(2, 2, &[C64::new(c, 0.0), C64::new(0.0, -s), C64::new(0.0, -s), C64::new(c, 0.0)]);
            Some([crate::ops::tensor(&[u.clone(), id.clone()]), crate::ops::tensor(&[id, u])])
        } else {
            None
        };
        let l1 = superop(&g.l1)?;
        let l0 = superop(&g.l0)?;
        let split = if method == BridgeMethod::Split {
            let key = ([b.omega[0].to_bits(), b.omega[1].to_bits(), b.kappa[0].to_bits(), b.kappa[1].to_bits()], b.coupling);
            match splits.iter().find(|(k, _)| *k == key) {
                Some((_, sp)) => Some(Arc::clone(sp)),
                None => {
                    let sp = Arc::new(SplitStep::new(b, &l0, &l1, dt)?);
                    splits.push((key, Arc::clone(&sp)));
                    Some(sp)
                }
            }
        } else {
            None
        };
        let rho = dense4(&b.initial);
        let sigma = match &split {
            Some(sp) => sp.half.apply(&rho_to_pauli(&rho)),
            None => [0.0; 16],
        };
        let mut state = BridgeState {
            neurons: b.neurons,
            gamma0: b.gamma0,
            beta: b.beta,
            m: [0.0; 2],
            gamma: b.gamma0,
            dt,
            sigma,
            split,
            read,
            method,
            alpha: b.alpha,
            cold: Box::new(Cold {
                rho,
                kick,
                l0,
                l1,
                m_ops,
                cache: None,
                propagators: 0,
                rhs_evals: 0,
            }),
        };
        state.read_out();
        Ok(state)
    }

    /// ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩ of the current state into `m` (after construction, every advance and every
    /// kick, so that step phase (1) reads them without touching the state).
    #[inline]
    fn read_out(&mut self) {
        self.m = match &self.split {
            Some(sp) => [sp.readout(self.read as usize, 0, &self.sigma), sp.readout(self.read as usize, 1, &self.sigma)],
            None => [readout(&self.cold.m_ops[0], &self.cold.rho), readout(&self.cold.m_ops[1], &self.cold.rho)],
        };
    }

    /// Step phase (2): γ from the potentials `vi`, `vk` of the bridge's two neurons at t_n.
    #[inline]
    pub fn couple(&mut self, vi: f64, vk: f64) {
        let dv = (vi - vk).abs();
        self.gamma = if self.beta == 0.0 { self.gamma0 } else { self.gamma0 * (-self.beta * dv).exp() };
    }

    /// ρ at the current time, column-major (unfolded from the half-step frame for `split`).
    fn rho_now(&self) -> [C64; 16] {
        match &self.split {
            Some(sp) => pauli_to_rho(&sp.unhalf.apply(&self.sigma)),
            None => self.cold.rho,
        }
    }

    pub fn density_matrix(&self) -> DMatrix<C64> {
        DMatrix::from_column_slice(4, 4, &self.rho_now())
    }

    /// The recorded sample at the current time: ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩, γ (set by [`BridgeState::couple`])
    /// and the concurrence.
    pub fn record(&self) -> Result<[f64; 4]> {
        Ok([self.m[0], self.m[1], self.gamma, measures::concurrence_4x4(&self.rho_now())?])
    }

    /// Step phase (3): ρ(t_n) → ρ(t_n + dt) with γ held at `self.gamma`, and ⟨M⟩ of the new state.
    #[inline]
    pub fn advance(&mut self, t: f64) -> Result<()> {
        let g = self.gamma;
        let dt = self.dt;
        if let Some(sp) = &self.split {
            sp.step(&mut self.sigma, g, dt);
            if self.sigma.iter().any(|x| !x.is_finite()) {
                return Err(self.non_finite(t));
            }
            self.read_out();
            return Ok(());
        }
        match self.method {
            BridgeMethod::Split => return Err(Error::numerical("internal: split bridge without precomputed factors")),
            BridgeMethod::Expm => {
                let hit = matches!(&self.cold.cache, Some((bits, _)) if *bits == g.to_bits());
                if !hit {
                    // into the bridge's propagator buffer, with the thread's Padé scratch: no allocation
                    let mut p = match self.cold.cache.take() {
                        Some((_, p)) => p,
                        None => Mat::zeros(16, 16),
                    };
                    let (l0, l1) = (&self.cold.l0, &self.cold.l1);
                    integrate::expm::with_scratch(16, |s| {
                        let a = &mut s.mats[0];
                        for j in 0..16 {
                            for i in 0..16 {
                                a[(i, j)] = (l0[i + 16 * j] + l1[i + 16 * j] * g) * dt;
                            }
                        }
                        integrate::expm::expm_into(a.as_ref(), &mut s.work, &mut p);
                    });
                    self.cold.cache = Some((g.to_bits(), p));
                    self.cold.propagators += 1;
                }
                let p = &self.cold.cache.as_ref().expect("cached").1;
                let rho = self.cold.rho;
                self.cold.rho = std::array::from_fn(|i| (0..16).map(|j| p[(i, j)] * rho[j]).sum());
            }
            BridgeMethod::Rk4 => {
                let a: Vec<C64> = (0..256).map(|k| self.cold.l0[k] + self.cold.l1[k] * g).collect();
                let mut rhs = DenseRhs { a: &a };
                let mut out = Collect::default();
                let st = integrate::rk4(&mut rhs, &self.cold.rho, &[0.0, dt], dt, &mut out, None)?;
                self.cold.rhs_evals += st.rhs_evals;
                self.cold.rho.copy_from_slice(&out.states.pop().expect("rk4 output"));
            }
        }
        if self.cold.rho.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
            return Err(self.non_finite(t));
        }
        self.symmetrize();
        self.read_out();
        Ok(())
    }

    fn non_finite(&self, t: f64) -> Error {
        Error::numerical(format!("bridge between neurons {} and {}: non-finite state at t = {}", self.neurons[0], self.neurons[1], t + self.dt))
    }

    /// ρ ← (ρ + ρ†)/2 (removes rounding-level anti-Hermitian parts; exact for the generators here,
    /// which all preserve Hermiticity). Not needed for `split`, whose state is real Pauli
    /// coordinates.
    fn symmetrize(&mut self) {
        for j in 0..4 {
            for i in 0..=j {
                let h = (self.cold.rho[i + 4 * j] + self.cold.rho[j + 4 * i].conj()) * 0.5;
                self.cold.rho[i + 4 * j] = h;
                self.cold.rho[j + 4 * i] = h.conj();
            }
        }
    }

    /// Spike kick on qubit `q` (0 or 1): ρ ← UρU† (`split`: unfolded from and folded back into
    /// the half-step frame, σ ← A U(A⁻¹σ)U†).
    pub fn kick(&mut self, q: usize) {
        if let Some(k) = &self.cold.kick {
            let r = &k[q] * self.density_matrix() * k[q].adjoint();
            match &self.split {
                Some(sp) => {
                    let mut rho = [Z; 16];
                    rho.copy_from_slice(r.as_slice());
                    self.sigma = sp.half.apply(&rho_to_pauli(&rho));
                }
                None => self.cold.rho.copy_from_slice(r.as_slice()),
            }
            self.read_out();
        }
    }
}
