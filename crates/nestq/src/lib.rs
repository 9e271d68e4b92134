//! # nestq — open quantum systems and the quantum-inspired neurons built on them
//!
//! The engine crate: density matrices under Lindblad/GKSL master equations, verified against
//! QuTiP.
//!
//! - [`ops`]: local operators (QuTiP conventions), tensor products, operator expressions.
//! - [`lindblad`]: the generator (Hamiltonian, jumps, Kossakowski cross terms), its matrix-form
//!   right-hand side, the sparse superoperator (`spre`, `spost`, `liouvillian`) and the
//!   complete-positivity check.
//! - [`integrate`]: RK4, Dormand–Prince 5(4), Padé `expm`, Krylov, TR-BDF2.
//! - [`measures`]: `expect`, `ptrace`, `purity`, `entropy_vn`, mutual information,
//!   `concurrence`, `negativity`, log-negativity, fidelity.
//! - [`mpo`]: density matrices as vectorised matrix-product operators and their TEBD time
//!   evolution (method `"mpo"`, long chains).
//! - [`model`]: the JSON model file (see `docs/model-format.md`), [`solve`]: `mesolve`,
//!   [`steady`]: `steadystate`, [`batch`]: parallel batches.
//! - [`grad`]: adjoint-method gradients of objectives over observables with respect to the
//!   model's named parameters (`docs/gradients.md`).
//! - [`neural`]: LIF spiking networks coupled through NEST bridges (the network file, see
//!   `docs/network-format.md`).
//!
//! Conventions: site 0 is the leftmost tensor factor; qubit basis 0 is the +1 eigenstate of Z;
//! dense matrices are column-major and superoperators act on column-stacked `vec(ρ)`;
//! entropies use the natural log, log-negativity base 2; ħ = 1.
//!
//! ```
//! let model = nestq::Model::from_json_str(r#"{
//!   "dims": [2, 2],
//!   "hamiltonian": [{"coef": 1, "ops": "Z0"}, {"coef": 1, "ops": "Z1"}, {"coef": 0.1, "ops": "X0 X1"}],
//!   "jumps": [{"rate": 0.05, "ops": "SM0"}, {"rate": 0.05, "ops": "SM1"}],
//!   "initial": {"basis": [0, 0]},
//!   "times": {"start": 0, "stop": 10, "count": 11},
//!   "observables": {"Z0": "Z0"},
//!   "measures": ["concurrence:0,1"]
//! }"#).unwrap();
//! let res = nestq::mesolve(&model, None).unwrap();
//! assert_eq!(res.times.len(), 11);
//! ```

#![warn(missing_docs)]

pub mod batch;
pub mod clock;
pub mod coef;
pub mod ensemble;
pub mod error;
pub mod grad;
pub(crate) mod guard;
pub mod integrate;
pub(crate) mod json;
pub mod lindblad;
pub mod mcsolve;
pub mod measures;
mod load;
pub mod model;
pub mod mpo;
pub mod neural;
pub mod ops;
pub mod par;
pub mod result;
pub mod rng;
pub mod solve;
pub mod sparse;
pub mod steady;
pub mod stochastic;
pub mod train;

/// Complex double, the scalar type of every operator and state.
pub type C64 = num_complex::Complex<f64>;

pub use batch::{mesolve_batch, mesolve_sweep};
pub use coef::{Coef, Modulation};
pub use error::{Error, ErrorCode, Result};
pub use grad::{mesolve_grad, objective_terms, objective_value, GradOptions, GradResult, GradStats, Objective, ObjectiveTerm, ObjectiveTime};
pub use lindblad::{lindblad_dissipator, spost, spre, sprepost, Lindbladian, MatrixRhs, SuperOp};
pub use mcsolve::{mcsolve, mcsolve_lindbladian};
pub use stochastic::{sdesolve_lindbladian, smesolve};
pub use model::{McOptions, Measure, Method, Model, SolverOptions};
pub use mpo::{mesolve_mpo, Mpo, MpoOptions, MpoStats};
pub use solve::{mesolve, mesolve_lindbladian, mesolve_with, Evolver, SolveResult};
pub use sparse::Csr;
pub use steady::{steadystate, SteadyState};
