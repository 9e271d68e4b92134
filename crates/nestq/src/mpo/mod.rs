//! Matrix-product-operator (MPO) density matrices and their time evolution by TEBD on the
//! vectorised MPO — method `"mpo"` of the model file (see `docs/model-format.md`, *MPO solver*).
//!
//! # Representation
//! ρ over sites `0..N` (site 0 leftmost, local dimensions `d_s`) is stored as a *vectorised*
//! MPO, i.e. a matrix-product state in Liouville space: one tensor per site
//! `B[s]` of shape `(χ_{s}, d_s², χ_{s+1})` (χ₀ = χ_N = 1) with
//!
//! ```text
//! ρ_{(i_0…i_{N−1}),(j_0…j_{N−1})} = B[0]_{p_0} B[1]_{p_1} ⋯ B[N−1]_{p_{N−1}},   p_s = i_s + d_s·j_s
//! ```
//!
//! so the physical index is the column-stacked local operator index, matching the engine's
//! `vec(ρ)` convention site by site. Tensor data is column-major in `(l, p, r)` (l fastest):
//! `data[l + χ_l·(p + d²·r)]`.
//!
//! The MPO is kept in the *B form* of TEBD (Vidal 2004; TeNPy's `MPS` "B" form with the
//! Hastings update, Hastings J. Math. Phys. 50, 095207 (2009)): `B[1..N]` right-orthonormal in
//! the vectorised (Hilbert–Schmidt) inner product, `B[0]` carrying the norm, and the bond
//! weights `S[b]` (normalised Schmidt values of bond b, left of site b) used to weight the
//! two-site SVDs. Dissipative gates are not unitary, so after a gate layer the B's are only
//! approximately orthonormal; [`Mpo::canonicalize`] (a QR sweep and an SVD sweep) restores the
//! exact form, and the solver calls it before every Trotter step so that every truncation
//! happens in a (nearly) exact mixed-canonical gauge.
//!
//! # Truncation
//! Singular values are truncated as in TeNPy's `truncation.truncate`: keep the smallest number
//! χ of values such that the discarded weight `Σ_{k≥χ} s_k² / Σ_k s_k²` is at most `cutoff`
//! (TeNPy's `trunc_cut`), then clamp to `chi_min ≤ χ ≤ chi_max`. The discarded weight is
//! measured in the Frobenius (Hilbert–Schmidt) norm of ρ — the standard practice of TEBD for
//! Lindblad equations (Zwolak & Vidal, PRL 93, 207205 (2004)); it is not a trace-norm bound.
//! The reported `truncation_error` is the sum of the discarded weights of all truncations
//! (TeNPy's `TruncationError.eps` accumulated by addition); `truncation_norm_error` is the sum
//! of their square roots, a bound on the accumulated relative Frobenius-norm error, which is
//! the one comparable with observable errors.
//!
//! Every truncation keeps the trace: the kept right space of each SVD contains the trace
//! contraction of the sites right of the cut (see [`truncate_right`](trunc::truncate_right)), so `Tr ρ` stays 1 to
//! rounding for a trace-preserving generator. A plain Frobenius truncation lost 7e-4 of the
//! trace on an 8-site dissipative chain and 1.5 % on a 32-site one while its summed discarded
//! weight was 2e-8 and 3e-6 (`crates/nestq/tests/mpo.rs`, `mpo_truncation_keeps_the_trace`).
//!
//! # Time evolution
//! The generator `𝓛 = Σ_b 𝓛_b` is split into local Liouvillians on nearest-neighbour bonds:
//! two-site terms on sites (i, i+1) go to bond i; a one-site term on site s is shared equally by
//! the bonds touching it (½ each in the bulk, all of it at the chain ends). Each
//! `e^{τ𝓛_b}` is computed exactly (Padé, [`crate::integrate::expm::expm`]) as a
//! `d_i²d_{i+1}² × d_i²d_{i+1}²` matrix. A Trotter step is the symmetric (Strang) product over
//! the layers `even bonds, odd bonds, long-range term 1, …, long-range term m`:
//! `S₂(τ) = L₁(τ/2)⋯L_{k−1}(τ/2) L_k(τ) L_{k−1}(τ/2)⋯L₁(τ/2)` (second order), and with
//! `order: 4` Suzuki's fourth-order composition
//! `S₄(τ) = S₂(pτ)² S₂((1−4p)τ) S₂(pτ)²`, `p = 1/(4 − 4^{1/3})` (Suzuki, Phys. Lett. A 146, 319
//! (1990); TeNPy's `TEBDEngine.suzuki_trotter_decomposition`). Gates within the even or the odd
//! layer act on disjoint bonds and are applied in parallel (rayon, feature `parallel`).
//! A two-site term on non-neighbouring sites (i, j) is applied by moving site j next to site i
//! with swap gates, applying its gate and swapping back (each swap is an exact permutation
//! followed by the same SVD truncation).
//!
//! Time-dependent coefficients (`modulation`) are evaluated at the midpoint of each `S₂`
//! sub-step; this keeps second order (fourth order is then not guaranteed).
//!
//! Errors reported: the accumulated truncation error (above) and, separately, a Trotter error
//! estimate by step doubling: at up to 4 checkpoints the state is advanced once by τ and twice
//! by τ/2 from the same MPO; for a method of order q the local error of the τ step is
//! `‖ρ_τ − ρ_{τ/2,τ/2}‖_F / (1 − 2^{−q})`, which is multiplied by the number of steps the
//! checkpoint stands for and summed (an estimate of the global error in Frobenius norm; it has a
//! floor of about 1e−8·‖ρ‖_F from the inner products it is computed with).

mod generator;
mod solve;
mod state;
mod tebd;
mod tensor;
mod trunc;

pub use crate::model::MpoOptions;
pub use crate::result::MpoStats;
use crate::C64;
pub(crate) use solve::validate_model;
pub use solve::mesolve_mpo;
pub use state::{initial_mpo, Mpo};
pub use tebd::Tebd;
pub use tensor::SiteTensor;
pub use trunc::{Discarded, Trunc};

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };
const ONE: C64 = C64 { re: 1.0, im: 0.0 };
