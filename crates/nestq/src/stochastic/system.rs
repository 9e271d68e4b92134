//! The operators of a diffusive unravelling, built from a GKSL generator through the same
//! collapse operators as the jump unravelling ([`crate::mcsolve::McSystem`]): `G(t) = −iH(t) −
//! ½Σ_j C_j†C_j(t)` over all collapse operators, the monitored channels `s_i(t)` (homodyne: one
//! per monitored jump, `√η·C`; heterodyne: two, `√η·C/√2` and `−i√η·C/√2`) and the unmonitored
//! remainder (`C` of the unmonitored jumps, `√(1 − η)·C` of the monitored ones).
//!
//! Conventions (QuTiP 5 `smesolve`/`ssesolve`; Wiseman & Milburn, *Quantum Measurement and
//! Control*, §4.5): the record of channel `i` over a step `h` is `dY_i = ⟨s_i + s_i†⟩h + dW_i`
//! with `dW_i ~ N(0, h)` independent; the current reported is `f_i·dY_i/h` with the noise
//! factor `f_i` = 1 (homodyne) or √2 (heterodyne), whose mean is `⟨C + C†⟩√η` (homodyne) or
//! `√η⟨C + C†⟩`, `√η⟨−i(C − C†)⟩` (heterodyne), for a jump `C = √κ·L` of the model.

use crate::coef::Modulation;
use crate::error::{Error, Result};
use crate::lindblad::Lindbladian;
use crate::mcsolve::McSystem;
use crate::model::ScOp;
use crate::sparse::Csr;
use crate::C64;

/// One monitored channel `s(t) = √f(t)·op`.
#[derive(Clone, Debug)]
pub struct Channel {
    /// `op` (efficiency, rate amplitude and heterodyne factor folded in).
    pub op: Csr,
    /// `conj(op)`: the transpose of `op†`, the form [`crate::sparse::right_mul_acc`] reads.
    pub op_conj: Csr,
    /// Rate profile `f(t)` (the collapse operator's).
    pub modulation: Modulation,
    /// Noise factor of the reported current: 1 (homodyne), √2 (heterodyne).
    pub factor: f64,
    /// What it measures, e.g. `$.jumps[0]` or `$.jumps[0] (heterodyne, x)`.
    pub label: String,
}

/// One unmonitored collapse operator `√(w·f(t))·op`.
#[derive(Clone, Debug)]
pub struct Unmonitored {
    /// `op`.
    pub op: Csr,
    /// `conj(op)`.
    pub op_conj: Csr,
    /// Index of its collapse operator (for the rate profile).
    pub collapse: usize,
    /// Weight `w` (1, or `1 − η` for the unmonitored part of a monitored jump).
    pub weight: f64,
}

/// `G`, the collapse operators, the monitored channels and the unmonitored remainder.
#[derive(Clone, Debug)]
pub struct SdeSystem {
    /// `G(t)` and the collapse operators (the jump unravelling's system).
    pub mc: McSystem,
    /// `conj(C_j)` of every collapse operator.
    pub col_conj: Vec<Csr>,
    /// `conj(G₀)` and `conj` of the time-dependent parts of `G` (products `X·G†` are
    /// right-multiplications, [`crate::sparse::right_mul_acc`], which run as contiguous column
    /// updates).
    pub g0_conj: Csr,
    /// `conj` of each `mc.td` operator.
    pub td_conj: Vec<Csr>,
    /// Monitored channels.
    pub channels: Vec<Channel>,
    /// `s_i s_j` for `j ≤ i` (`pairs[i][j]`), the second-order terms of the Rouchon and
    /// Milstein schemes.
    pub pairs: Vec<Vec<Csr>>,
    /// `conj` of each `pairs` entry.
    pub pairs_conj: Vec<Vec<Csr>>,
    /// Unmonitored collapse operators (weight > 0).
    pub unmonitored: Vec<Unmonitored>,
    /// Number of jumps in the model (`$.jumps`), for error messages.
    pub njumps: usize,
}

impl SdeSystem {
    /// Builds the system. `sc_ops`: the monitored jumps (`None`: every collapse operator at
    /// efficiency 1). Errors: a generator that is not completely positive (as `mcsolve`), a
    /// monitored jump index beyond `$.jumps`, a monitored jump of rate 0, or one whose operator
    /// also appears in a cross term (its channel is then mixed with the cross term's, and is not
    /// a record of that jump alone).
    pub fn build(l: &Lindbladian, sc_ops: Option<&[ScOp]>, heterodyne: bool) -> Result<SdeSystem> {
        let mc = McSystem::build(l)?;
        let njumps = l.dissipators.iter().filter(|d| d.label.starts_with("$.jumps[")).count();
        let ncol = mc.collapses.len();
        // (collapse index, efficiency) of the monitored channels
        let monitored: Vec<(usize, f64)> = match sc_ops {
            None => (0..ncol).map(|j| (j, 1.0)).collect(),
            Some(list) => {
                let mut v = Vec::with_capacity(list.len());
                for (i, s) in list.iter().enumerate() {
                    let path = format!("$.solver.sc_ops[{i}]");
                    if s.jump >= njumps {
                        return Err(Error::model(path, format!("there is no jump {} (the model has {njumps} jumps in $.jumps)", s.jump)));
                    }
                    let label = format!("$.jumps[{}]", s.jump);
                    match mc.collapses.iter().position(|c| c.label == label) {
                        Some(j) => v.push((j, s.efficiency)),
                        None => {
                            let d = l.dissipators.iter().find(|d| d.label == label);
                            let why = if d.is_some_and(|d| d.rate.amp.norm() == 0.0) {
                                "its rate is 0, so there is nothing to measure".to_string()
                            } else {
                                "its operator also appears in a cross term ($.cross), so its channel is mixed with the cross term's eigenmodes and is not the record of this jump alone; monitor every channel (leave out sc_ops) or use mcsolve".to_string()
                            };
                            return Err(Error::model(format!("{path}.jump"), format!("{label} cannot be monitored: {why}")));
                        }
                    }
                }
                v
            }
        };
        let minus_i = C64::new(0.0, -1.0);
        let r2 = std::f64::consts::FRAC_1_SQRT_2;
        let mut channels = Vec::new();
        for &(j, eta) in &monitored {
            let c = &mc.collapses[j];
            let base = c.op.scale(C64::new(eta.sqrt(), 0.0));
            let parts: Vec<(Csr, f64, String)> = if heterodyne {
                vec![
                    (base.scale(C64::new(r2, 0.0)), std::f64::consts::SQRT_2, format!("{} (heterodyne, C + C†)", c.label)),
                    (base.scale(minus_i * r2), std::f64::consts::SQRT_2, format!("{} (heterodyne, −i(C − C†))", c.label)),
                ]
            } else {
                vec![(base, 1.0, c.label.clone())]
            };
            for (op, factor, label) in parts {
                channels.push(Channel { op_conj: op.conj(), op, modulation: c.modulation.clone(), factor, label });
            }
        }
        let mut unmonitored = Vec::new();
        for (j, c) in mc.collapses.iter().enumerate() {
            let eta = monitored.iter().find(|m| m.0 == j).map_or(0.0, |m| m.1);
            if eta < 1.0 {
                unmonitored.push(Unmonitored { op: c.op.clone(), op_conj: c.op.conj(), collapse: j, weight: 1.0 - eta });
            }
        }
        let pairs: Vec<Vec<Csr>> = (0..channels.len()).map(|i| (0..=i).map(|j| channels[i].op.matmul(&channels[j].op)).collect()).collect();
        let pairs_conj = pairs.iter().map(|row| row.iter().map(Csr::conj).collect()).collect();
        let col_conj = mc.collapses.iter().map(|c| c.op.conj()).collect();
        let g0_conj = mc.g0.conj();
        let td_conj = mc.td.iter().map(|(_, op)| op.conj()).collect();
        Ok(SdeSystem { mc, col_conj, g0_conj, td_conj, channels, pairs, pairs_conj, unmonitored, njumps })
    }

    /// `√f_i(t)` of every channel, checked finite and non-negative.
    pub fn amplitudes(&self, t: f64, out: &mut [f64]) -> Result<()> {
        for (o, c) in out.iter_mut().zip(&self.channels) {
            let f = c.modulation.at(t);
            if !(f >= 0.0) || !f.is_finite() {
                return Err(Error::model(c.label.clone(), format!("the rate profile of this monitored channel is {f} at t = {t}: the diffusive unravelling needs finite non-negative rates")));
            }
            *o = f.sqrt();
        }
        Ok(())
    }

    /// True when every collapse operator is monitored at efficiency 1 (the conditional state of
    /// a pure initial state stays pure: the stochastic Schrödinger equation applies).
    pub fn all_monitored(&self) -> bool {
        self.unmonitored.is_empty()
    }
}
