//! Many independent solves in parallel (rayon), e.g. 1000 two-qubit NEST bridges with different
//! parameters.

use crate::error::Result;
use crate::model::Model;
use crate::solve::{mesolve, mesolve_with, SolveResult};
use std::collections::BTreeMap;

#[cfg(feature = "parallel")]
use rayon::prelude::*;

/// Solves every model; results in input order. Runs in parallel with the `parallel` feature.
pub fn mesolve_batch(models: &[Model]) -> Vec<Result<SolveResult>> {
    #[cfg(feature = "parallel")]
    {
        models.par_iter().map(|m| crate::par::without_team(|| mesolve(m, None))).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        models.iter().map(|m| mesolve(m, None)).collect()
    }
}

/// Solves one model for many parameter sets (each overriding some of `parameters`).
pub fn mesolve_sweep(model: &Model, sets: &[BTreeMap<String, f64>]) -> Vec<Result<SolveResult>> {
    let run = |p: &BTreeMap<String, f64>| -> Result<SolveResult> { mesolve_with(model, p, None) };
    #[cfg(feature = "parallel")]
    {
        sets.par_iter().map(|p| crate::par::without_team(|| run(p))).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        sets.iter().map(run).collect()
    }
}
