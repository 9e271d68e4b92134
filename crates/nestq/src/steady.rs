//! Steady state of a time-independent generator: the normalised null vector of 𝓛, found by a
//! sparse LU solve of 𝓛 augmented with the trace condition (QuTiP 4.7 `steadystate`,
//! `method='direct'`: `𝓛 + w·e₀·vec(I)ᵀ`, right-hand side `w·e₀`).

use crate::error::{Error, ErrorCode, Result};
use crate::lindblad::{Lindbladian, SuperOp};
use crate::sparse::Csr;
use crate::C64;
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::Lu;
use faer::sparse::linalg::solvers::SymbolicLu;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use nalgebra::DMatrix;

/// The steady state and the residual ‖𝓛ρ‖_F of the returned (Hermitised, unit-trace) ρ.
#[derive(Clone, Debug)]
pub struct SteadyState {
    /// ρ_ss.
    pub rho: DMatrix<C64>,
    /// ‖𝓛 ρ_ss‖ (Frobenius).
    pub residual: f64,
}

/// Computes the steady state. Errors for time-dependent generators, over-budget problems and
/// singular systems (no unique steady state).
pub fn steadystate(l: &Lindbladian, budget_bytes: u128) -> Result<SteadyState> {
    if !l.is_time_independent() {
        return Err(Error::new(ErrorCode::InvalidModel, "steadystate needs a time-independent generator"));
    }
    let n = l.dim();
    let sup = SuperOp::new(l, budget_bytes)?;
    let lm = sup.to_csr();
    let w = lm.data.iter().map(|v| v.norm()).sum::<f64>() / lm.nnz().max(1) as f64;
    let mut trip: Vec<(usize, usize, C64)> = lm.triplets().collect();
    for k in 0..n {
        trip.push((0, k * (n + 1), C64::new(w, 0.0)));
    }
    // CSC of A = CSR of Aᵀ
    let at = Csr::from_triplets(n * n, n * n, trip.into_iter().map(|(i, j, v)| (j, i, v)).collect());
    let m = n * n;
    let sym = SymbolicSparseColMatRef::new_checked(m, m, &at.indptr, None, &at.indices);
    let mat = SparseColMatRef::new(sym, &at.data);
    let slu = SymbolicLu::try_new(sym).map_err(|e| Error::numerical(format!("steadystate: symbolic LU failed ({e:?})")))?;
    let lu = Lu::try_new_with_symbolic(slu, mat).map_err(|e| Error::numerical(format!("steadystate: LU failed, the steady state may not be unique ({e:?})")))?;
    let mut b = vec![C64::new(0.0, 0.0); m];
    b[0] = C64::new(w, 0.0);
    lu.solve_in_place(faer::MatMut::from_column_major_slice_mut(&mut b, m, 1));
    if b.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
        return Err(Error::numerical("steadystate: singular system (no unique steady state)"));
    }
    let r = DMatrix::from_column_slice(n, n, &b);
    let r = (&r + r.adjoint()) * C64::new(0.5, 0.0);
    let tr = r.trace();
    let rho = r / tr;
    let mut out = vec![C64::new(0.0, 0.0); m];
    lm.matvec_acc(C64::new(1.0, 0.0), rho.as_slice(), &mut out);
    let residual = out.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    Ok(SteadyState { rho, residual })
}

/// Steady state of a model file as the result JSON of `nestq steadystate`:
/// `{"rho": [[[re, im], …], …] (row-major), "residual": ‖𝓛ρ‖, "expect": {name: [re, im]}}`.
pub fn steadystate_json(model: &crate::model::Model) -> Result<serde_json::Value> {
    let l = model.lindbladian()?;
    let ss = steadystate(&l, model.solver.memory_budget)?;
    let n = ss.rho.nrows();
    let rho: Vec<Vec<[f64; 2]>> = (0..n).map(|i| (0..n).map(|j| [ss.rho[(i, j)].re, ss.rho[(i, j)].im]).collect()).collect();
    let mut expect = serde_json::Map::new();
    for (name, _, op) in &model.observables {
        let v = crate::measures::expect(op, &ss.rho);
        expect.insert(name.clone(), serde_json::json!([v.re, v.im]));
    }
    Ok(serde_json::json!({"rho": rho, "residual": ss.residual, "expect": expect}))
}
