//! NEST bridges in the network file (`docs/network-format.md`, "Bridges", "Bridge integrator"):
//! the two-qubit bridge parameters of the NEST paper (§II: `H = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾`, decay
//! `√κ σ−`, coupling γ(t) = γ₀e^(−β|V_i − V_k|) in the Hamiltonian, the paper's modified-Lindblad
//! cross terms or their CP completion, read-out `I_q = α Tr(ρ M)`), the bridge integrator
//! (exact Padé propagator, RK4, or Strang splitting, Strang 1968) and the parsing of the initial
//! two-qubit state.

use crate::error::{Error, Result};
use crate::json::{as_arr, as_obj, as_str, as_u64};
use crate::model::{parse_complex, parse_matrix, validate_density_matrix};
use crate::C64;
use nalgebra::{DMatrix, DVector};
use serde_json::Value;

/// How the two qubits of a bridge are coupled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coupling {
    /// `+γ(t) σx⁽⁰⁾σx⁽¹⁾` in the Hamiltonian.
    Hamiltonian,
    /// The NEST paper's modified-Lindblad cross terms `γ(t)(X0ρX1 − ½{X1X0, ρ})` plus the
    /// (1,0) partner; not completely positive (reported once per bridge).
    Paper,
    /// The cross pair plus its CP completion, i.e. `γ(t) D[X0 + X1]`.
    Cp,
}

impl Coupling {
    /// Name in the network file.
    pub fn as_str(self) -> &'static str {
        match self {
            Coupling::Hamiltonian => "hamiltonian",
            Coupling::Paper => "paper",
            Coupling::Cp => "cp",
        }
    }
}

/// Read-out operator M of a bridge qubit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readout {
    /// σx (default).
    X,
    /// σz.
    Z,
}

/// Integrator that advances the bridges over each network step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BridgeMethod {
    /// Exact propagator `e^(𝓛(γ)·dt)` of the 16×16 generator (Padé, `integrate::expm::expm`),
    /// cached while γ is unchanged. Default.
    Expm,
    /// One classical RK4 step of size dt (`integrate::rk4`).
    Rk4,
    /// Strang splitting `e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2)` with each factor exact: `e^(𝓛₀dt/2)` is
    /// the product of two single-qubit channels, and `e^(γ𝓛₁dt)` is diagonal in the σx⊗σx
    /// eigenbasis for all three couplings. Second order in dt (Strang 1968), every factor CPTP for
    /// `hamiltonian` and `cp`; about 20× cheaper than `expm` when γ changes every step.
    Split,
}

impl BridgeMethod {
    /// Name in the network file.
    pub fn as_str(self) -> &'static str {
        match self {
            BridgeMethod::Expm => "expm",
            BridgeMethod::Rk4 => "rk4",
            BridgeMethod::Split => "split",
        }
    }
}

/// A NEST bridge: two qubits attached to neurons `neurons[0]` (qubit 0) and `neurons[1]`
/// (qubit 1). Frequencies in rad/ms, rates in 1/ms, α in nA.
#[derive(Clone, Debug)]
pub struct BridgeSpec {
    /// Neuron indices (i, k), i ≠ k.
    pub neurons: [usize; 2],
    /// ω_i, ω_k (rad/ms): `H = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾ (+ …)`.
    pub omega: [f64; 2],
    /// γ₀ (rad/ms for `hamiltonian`, 1/ms for `paper`/`cp`).
    pub gamma0: f64,
    /// β (1/mV, ≥ 0) of γ(t) = γ₀ e^(−β|V_i − V_k|).
    pub beta: f64,
    /// κ_i, κ_k (1/ms, ≥ 0): jumps `√κ σ−` on each qubit.
    pub kappa: [f64; 2],
    /// α_i, α_k (nA): `I_q = α Tr(ρ M)`.
    pub alpha: [f64; 2],
    /// Coupling form.
    pub coupling: Coupling,
    /// Read-out operator.
    pub measure: Readout,
    /// Initial two-qubit density matrix (4×4, qubit 0 leftmost).
    pub initial: DMatrix<C64>,
    /// Kick angle θ (rad): on a spike of a bridged neuron, `ρ ← UρU†` with `U = e^(−iθσx/2)` on
    /// that neuron's qubit.
    pub spike_kick: f64,
}

pub(super) fn parse_initial(v: Option<&Value>, path: &str) -> Result<DMatrix<C64>> {
    let ket = |a: [f64; 4]| -> DMatrix<C64> {
        let k = DVector::from_iterator(4, a.iter().map(|&x| C64::new(x, 0.0)));
        &k * k.adjoint()
    };
    let Some(v) = v else { return Ok(ket([1.0, 0.0, 0.0, 0.0])) };
    let o = as_obj(v, path)?;
    if o.len() != 1 {
        return Err(Error::model(path, "give exactly one of basis, product, ket, dm, bell"));
    }
    let (k, body) = o.iter().next().unwrap();
    let p = format!("{path}.{k}");
    let normalized = |a: Vec<C64>, p: &str| -> Result<Vec<C64>> {
        let nrm = a.iter().map(|c| c.norm_sqr()).sum::<f64>().sqrt();
        if nrm == 0.0 {
            return Err(Error::model(p, "the state vector is zero and cannot be normalised"));
        }
        Ok(a.into_iter().map(|c| c / nrm).collect())
    };
    let amps: Vec<C64> = match k.as_str() {
        "basis" => {
            let b = as_arr(body, &p)?;
            if b.len() != 2 {
                return Err(Error::model(p, format!("{} basis indices given for 2 qubits", b.len())));
            }
            let mut idx = 0;
            for (s, x) in b.iter().enumerate() {
                let i = as_u64(x, &format!("{p}[{s}]"))?;
                if i > 1 {
                    return Err(Error::model(format!("{p}[{s}]"), format!("basis index {i} is out of range for a qubit (0 or 1)")));
                }
                idx = idx * 2 + i as usize;
            }
            let mut a = vec![C64::new(0.0, 0.0); 4];
            a[idx] = C64::new(1.0, 0.0);
            a
        }
        "product" => {
            let b = as_arr(body, &p)?;
            if b.len() != 2 {
                return Err(Error::model(p, format!("{} site states given for 2 qubits", b.len())));
            }
            let mut out = vec![C64::new(1.0, 0.0)];
            for (s, x) in b.iter().enumerate() {
                let sp = format!("{p}[{s}]");
                let a = as_arr(x, &sp)?;
                if a.len() != 2 {
                    return Err(Error::model(sp, format!("{} amplitudes given for a qubit", a.len())));
                }
                let a: Vec<C64> = a.iter().enumerate().map(|(i, z)| parse_complex(z, &format!("{sp}[{i}]"))).collect::<Result<_>>()?;
                let a = normalized(a, &sp)?;
                out = out.iter().flat_map(|x| a.iter().map(move |y| x * y)).collect();
            }
            out
        }
        "ket" => {
            let b = as_arr(body, &p)?;
            if b.len() != 4 {
                return Err(Error::model(p, format!("ket has {} amplitudes; two qubits need 4", b.len())));
            }
            let a: Vec<C64> = b.iter().enumerate().map(|(i, z)| parse_complex(z, &format!("{p}[{i}]"))).collect::<Result<_>>()?;
            normalized(a, &p)?
        }
        "dm" => {
            let m = parse_matrix(body, &p)?;
            if m.nrows() != 4 {
                return Err(Error::model(p, format!("density matrix is {}×{}; two qubits need 4×4", m.nrows(), m.nrows())));
            }
            validate_density_matrix(&m, &p)?;
            return Ok(m);
        }
        "bell" => {
            let s = std::f64::consts::FRAC_1_SQRT_2;
            let name = match body {
                Value::Bool(true) => "phi+",
                _ => as_str(body, &p)?,
            };
            let a = match name {
                "phi+" => [s, 0.0, 0.0, s],
                "phi-" => [s, 0.0, 0.0, -s],
                "psi+" => [0.0, s, s, 0.0],
                "psi-" => [0.0, s, -s, 0.0],
                other => return Err(Error::model(p, format!("unknown Bell state '{other}' (phi+, phi-, psi+, psi-)"))),
            };
            return Ok(ket(a));
        }
        other => return Err(Error::model(p, format!("unknown initial-state form '{other}' (basis, product, ket, dm, bell)"))),
    };
    let k = DVector::from_vec(amps);
    Ok(&k * k.adjoint())
}
