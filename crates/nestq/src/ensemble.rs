//! What every trajectory ensemble shares (`mcsolve`, `ssesolve`, `smesolve`): the fixed batch
//! size, the initial state as an ensemble of pure states, running moments of the sampled
//! expectations, parallel batches summed in index order, and the averaged density matrix.
//!
//! Results of an ensemble do not depend on the thread count: trajectory k draws from its own
//! stream [`crate::rng::stream_seed`]`(seed, k)`, batches of [`BATCH`] run in parallel and are
//! reduced in index order.

use crate::error::Result;
use crate::measures;
use crate::model::Measure;
use crate::rng::Xoshiro256;
use crate::C64;
use nalgebra::DMatrix;

#[cfg(feature = "parallel")]
use rayon::prelude::*;

/// Trajectories run (in parallel) between checks of `target_tol`, progress and the timeout.
/// Fixed, so that where `target_tol` stops does not depend on the thread count.
pub const BATCH: usize = 16;

/// The initial state as an ensemble of normalised pure states with weights (one state when
/// `rho0` is pure: purity within 1e-10 of 1).
pub(crate) fn initial_ensemble(rho0: &DMatrix<C64>) -> Result<Vec<(f64, Vec<C64>)>> {
    let n = rho0.nrows();
    let purity: f64 = rho0.iter().map(|v| v.norm_sqr()).sum();
    if (purity - 1.0).abs() <= 1e-10 {
        let j = (0..n).max_by(|&a, &b| rho0[(a, a)].re.total_cmp(&rho0[(b, b)].re)).unwrap_or(0);
        let c = 1.0 / rho0[(j, j)].re.sqrt();
        let psi: Vec<C64> = (0..n).map(|i| rho0[(i, j)] * c).collect();
        let nrm: f64 = psi.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
        return Ok(vec![(1.0, psi.into_iter().map(|v| v / nrm).collect())]);
    }
    let (ev, u) = measures::eigh(rho0)?;
    let total: f64 = ev.iter().filter(|&&l| l > 1e-14).sum();
    Ok(ev
        .iter()
        .enumerate()
        .filter(|(_, &l)| l > 1e-14)
        .map(|(j, &l)| (l / total, u.column(j).iter().cloned().collect()))
        .collect())
}

/// The pure state trajectory draws its initial state from: one uniform draw of `rng` when the
/// ensemble has more than one member (none otherwise).
pub(crate) fn pick<'a>(init: &'a [(f64, Vec<C64>)], rng: &mut Xoshiro256) -> &'a [C64] {
    if init.len() == 1 {
        return &init[0].1;
    }
    let u = rng.uniform();
    let mut acc = 0.0;
    for (w, psi) in init {
        acc += w;
        if u < acc {
            return psi;
        }
    }
    &init[init.len() - 1].1
}

/// Running mean and sum of squared deviations of complex samples (Welford 1962), per
/// observable and output time.
pub(crate) struct Moments {
    pub m: usize,
    pub mean: Vec<Vec<C64>>,
    m2: Vec<Vec<f64>>,
}

impl Moments {
    pub fn new(nobs: usize, ntimes: usize) -> Self {
        Moments { m: 0, mean: vec![vec![C64::new(0.0, 0.0); ntimes]; nobs], m2: vec![vec![0.0; ntimes]; nobs] }
    }
    pub fn push(&mut self, x: &[Vec<C64>]) {
        self.m += 1;
        let m = self.m as f64;
        for (i, xi) in x.iter().enumerate() {
            for (k, &z) in xi.iter().enumerate() {
                let d = z - self.mean[i][k];
                self.mean[i][k] += d / m;
                self.m2[i][k] += (d.conj() * (z - self.mean[i][k])).re;
            }
        }
    }
    /// Standard error of the mean, `s/√m` with the unbiased sample variance s².
    pub fn std_err(&self, i: usize, k: usize) -> f64 {
        if self.m < 2 {
            return f64::INFINITY;
        }
        let m = self.m as f64;
        (self.m2[i][k].max(0.0) / (m - 1.0) / m).sqrt()
    }
}

/// Runs trajectories `lo..hi` (in parallel with the `parallel` feature), in index order.
pub(crate) fn run_batch<T: Send>(lo: usize, hi: usize, one: &(dyn Fn(usize) -> Result<T> + Sync)) -> Vec<Result<T>> {
    #[cfg(feature = "parallel")]
    {
        (lo..hi).into_par_iter().map(|k| crate::par::without_team(|| one(k))).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (lo..hi).map(one).collect()
    }
}

/// `rho += w Σ_k |ψ_k⟩⟨ψ_k|` over the given normalised states, column by column (in parallel
/// with the `parallel` feature; each column sums in the order of `states`).
pub(crate) fn accumulate(rho: &mut DMatrix<C64>, w: f64, states: &[&[C64]]) {
    let n = rho.nrows();
    let col = |j: usize, c: &mut [C64]| {
        for psi in states {
            let a = psi[j].conj() * w;
            for (ci, p) in c.iter_mut().zip(psi.iter()) {
                *ci += p * a;
            }
        }
    };
    #[cfg(feature = "parallel")]
    rho.as_mut_slice().par_chunks_mut(n).enumerate().for_each(|(j, c)| col(j, c));
    #[cfg(not(feature = "parallel"))]
    rho.as_mut_slice().chunks_mut(n).enumerate().for_each(|(j, c)| col(j, c));
}

/// The outputs of an ensemble's averaged states (`rho_avg`: at every output time, at the last
/// one, or none when they exceed the memory budget): the `measures` evaluated on each averaged ρ,
/// and the final state (empty when omitted, with a warning pushed to `warnings`).
pub(crate) fn averaged_outputs(
    measures_req: &[(String, Measure)],
    rho_avg: &[DMatrix<C64>],
    rho0: &DMatrix<C64>,
    dims: &[usize],
    warnings: &mut Vec<String>,
) -> Result<(Vec<(String, Vec<f64>)>, DMatrix<C64>)> {
    let mut meas = Vec::with_capacity(measures_req.len());
    for (name, mreq) in measures_req {
        let v = rho_avg.iter().map(|rho| mreq.evaluate(rho, rho0, dims)).collect::<Result<Vec<f64>>>()?;
        meas.push((name.clone(), v));
    }
    let n = rho0.nrows();
    let final_state = match rho_avg.last() {
        Some(r) => r.clone(),
        None => {
            warnings.push(format!("the averaged final state ({n}×{n}) exceeds the memory budget and is omitted"));
            DMatrix::zeros(0, 0)
        }
    };
    Ok((meas, final_state))
}
