//! The methods of the dense driver ([`super::mesolve_lindbladian`]) behind one interface: each
//! takes its own typed options from the model's `solver` object, checks its own preconditions
//! on the generator, and integrates. Adding a dense method means one implementation of
//! [`DenseIntegrator`] and one arm in [`integrator_for`] (see `docs/architecture.md`).

use crate::error::{Error, Result};
use crate::integrate::{self, Observer, Projection, Stats, Tolerances};
use crate::lindblad::{Lindbladian, MatrixRhs, SuperOp};
use crate::model::{Method, SolverOptions};
use crate::C64;

/// What the driver hands a method: the generator, its compiled matrix-form right-hand side
/// (present exactly when [`DenseIntegrator::uses_rhs`]), `vec(ρ₀)` (column-major), the output
/// times and the projection applied after every step (symmetrisation and the optional
/// renormalisation; only methods that take steps of their own use it).
pub(crate) struct DenseProblem<'a> {
    pub l: &'a Lindbladian,
    pub rhs: Option<&'a mut MatrixRhs>,
    pub y0: &'a [C64],
    pub times: &'a [f64],
    pub proj: Projection<'a>,
}

impl DenseProblem<'_> {
    fn take_rhs(&mut self) -> &mut MatrixRhs {
        self.rhs.as_deref_mut().expect("the driver compiles the right-hand side for a method that uses it")
    }
}

/// One method of the dense driver.
pub(crate) trait DenseIntegrator {
    /// True when it evaluates the compiled matrix-form right-hand side (the driver then
    /// compiles one, and runs large ones on a thread team).
    fn uses_rhs(&self) -> bool;
    /// True when it is a Runge–Kutta method whose steps are followed by the exact
    /// symmetrisation (so the right-hand side may skip its own input projection).
    fn symmetrises_steps(&self) -> bool {
        false
    }
    /// Its preconditions on the generator (`herm`: Hermiticity-preserving); errors name the
    /// model-file field.
    fn check(&self, l: &Lindbladian, herm: bool) -> Result<()>;
    /// Integrates, reporting every output and step to `obs`.
    fn integrate(&self, p: DenseProblem<'_>, obs: &mut dyn Observer) -> Result<Stats>;
}

/// The registry: the method's implementation with its options read from `solver` (`Auto` must
/// have been resolved; `Mpo` is not a dense method).
pub(crate) fn integrator_for(method: Method, solver: &SolverOptions) -> Result<Box<dyn DenseIntegrator>> {
    let tol = Tolerances { rtol: solver.rtol, atol: solver.atol, max_steps: solver.max_steps };
    Ok(match method {
        Method::Rk4 => Box::new(Rk4 { dt: solver.dt.ok_or_else(|| Error::model("$.solver.dt", "method rk4 needs a step size dt"))? }),
        Method::Dopri5 | Method::Auto => Box::new(Dopri5 { tol }),
        Method::Expm => Box::new(Expm { memory_budget: solver.memory_budget, renormalize: solver.renormalize }),
        Method::Krylov => Box::new(Krylov { dim: solver.krylov_dim, rtol: solver.rtol, max_steps: solver.max_steps, renormalize: solver.renormalize }),
        Method::Cheby => Box::new(Cheby { rtol: solver.rtol, atol: solver.atol, max_steps: solver.max_steps, renormalize: solver.renormalize }),
        Method::Trbdf2 => Box::new(Trbdf2 { tol, memory_budget: solver.memory_budget }),
        Method::Mpo => return Err(Error::model("$.solver.method", "method mpo works from the model file (use mesolve with the Model), not from a dense generator")),
        Method::Mcsolve => return Err(Error::model("$.solver.method", "method mcsolve integrates trajectories, not ρ (use mesolve_with or mcsolve_lindbladian)")),
        Method::Ssesolve | Method::Smesolve => return Err(Error::model("$.solver.method", "methods ssesolve and smesolve integrate stochastic trajectories, not ρ (use mesolve_with or sdesolve_lindbladian)")),
    })
}

fn time_independent(l: &Lindbladian, name: &str) -> Result<()> {
    if !l.is_time_independent() {
        return Err(Error::model("$.solver.method", format!("{name} needs a time-independent generator (use dopri5 or trbdf2)")));
    }
    Ok(())
}

/// Classic fixed-step RK4 (`integrate::rk4`).
struct Rk4 {
    dt: f64,
}

impl DenseIntegrator for Rk4 {
    fn uses_rhs(&self) -> bool {
        true
    }
    fn symmetrises_steps(&self) -> bool {
        true
    }
    fn check(&self, _: &Lindbladian, _: bool) -> Result<()> {
        Ok(())
    }
    fn integrate(&self, mut p: DenseProblem<'_>, obs: &mut dyn Observer) -> Result<Stats> {
        let (y0, times, proj) = (p.y0, p.times, p.proj);
        integrate::rk4(p.take_rhs(), y0, times, self.dt, obs, proj)
    }
}

/// Adaptive Dormand–Prince 5(4) (`integrate::dopri5`).
struct Dopri5 {
    tol: Tolerances,
}

impl DenseIntegrator for Dopri5 {
    fn uses_rhs(&self) -> bool {
        true
    }
    fn symmetrises_steps(&self) -> bool {
        true
    }
    fn check(&self, _: &Lindbladian, _: bool) -> Result<()> {
        Ok(())
    }
    fn integrate(&self, mut p: DenseProblem<'_>, obs: &mut dyn Observer) -> Result<Stats> {
        let (y0, times, proj) = (p.y0, p.times, p.proj);
        integrate::dopri5(p.take_rhs(), y0, times, self.tol, obs, proj)
    }
}

/// The exact propagator e^(𝓛Δt) by Padé (`integrate::expm`).
struct Expm {
    memory_budget: u128,
    renormalize: bool,
}

impl DenseIntegrator for Expm {
    fn uses_rhs(&self) -> bool {
        false
    }
    fn check(&self, l: &Lindbladian, _: bool) -> Result<()> {
        time_independent(l, "expm")?;
        if self.renormalize {
            return Err(Error::model("$.solver.renormalize", "renormalize applies after integrator steps; expm has none (use dopri5 or rk4)"));
        }
        Ok(())
    }
    fn integrate(&self, p: DenseProblem<'_>, obs: &mut dyn Observer) -> Result<Stats> {
        let n = p.l.dim();
        let l = p.l;
        integrate::expm::propagate_with_generator(n * n, |dense| l.superop_entries(0.0, |i, j, v| dense[(i, j)] += v), p.y0, p.times, self.memory_budget, obs)
    }
}

/// Krylov exp(𝓛t)v with Expokit's error estimate (`integrate::krylov`).
struct Krylov {
    dim: usize,
    rtol: f64,
    max_steps: u64,
    renormalize: bool,
}

impl DenseIntegrator for Krylov {
    fn uses_rhs(&self) -> bool {
        true
    }
    fn check(&self, l: &Lindbladian, _: bool) -> Result<()> {
        time_independent(l, "krylov")?;
        if self.renormalize {
            return Err(Error::model("$.solver.renormalize", "renormalize is not available with krylov (use dopri5 or rk4)"));
        }
        Ok(())
    }
    fn integrate(&self, mut p: DenseProblem<'_>, obs: &mut dyn Observer) -> Result<Stats> {
        let anorm = super::generator_norm_estimate(p.l);
        let (y0, times) = (p.y0, p.times);
        integrate::krylov::propagate(p.take_rhs(), y0, times, self.dim, self.rtol, anorm, self.max_steps, obs)
    }
}

/// Chebyshev expansion of e^(𝓛τ) on the field of values (`integrate::cheby`).
struct Cheby {
    rtol: f64,
    atol: f64,
    max_steps: u64,
    renormalize: bool,
}

impl DenseIntegrator for Cheby {
    fn uses_rhs(&self) -> bool {
        true
    }
    fn check(&self, _: &Lindbladian, herm: bool) -> Result<()> {
        if self.renormalize {
            return Err(Error::model("$.solver.renormalize", "renormalize is not available with cheby (use dopri5 or rk4)"));
        }
        if !herm {
            return Err(Error::model("$.solver.method", "cheby needs a Hermiticity-preserving generator (Hermitian H and a Hermitian coefficient matrix); use dopri5 or krylov"));
        }
        Ok(())
    }
    fn integrate(&self, mut p: DenseProblem<'_>, obs: &mut dyn Observer) -> Result<Stats> {
        let fov = integrate::cheby::field_box(p.l)?;
        let (y0, times) = (p.y0, p.times);
        let r = p.take_rhs();
        r.set_input_projection(false);
        integrate::cheby::propagate(r, y0, times, fov, self.rtol, self.atol, self.max_steps, obs)
    }
}

/// TR-BDF2 with a sparse LU of the superoperator (`integrate::trbdf2`), for stiff problems.
struct Trbdf2 {
    tol: Tolerances,
    memory_budget: u128,
}

impl DenseIntegrator for Trbdf2 {
    fn uses_rhs(&self) -> bool {
        false
    }
    fn check(&self, _: &Lindbladian, _: bool) -> Result<()> {
        Ok(())
    }
    fn integrate(&self, p: DenseProblem<'_>, obs: &mut dyn Observer) -> Result<Stats> {
        let mut sup = SuperOp::new(p.l, self.memory_budget)?;
        integrate::trbdf2::propagate(&mut sup, p.y0, p.times, self.tol, obs, p.proj)
    }
}
