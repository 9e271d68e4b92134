//! Spiking networks of leaky integrate-and-fire (LIF) neurons coupled through NEST bridges
//! (two-qubit open quantum systems), read from the JSON network file (`docs/network-format.md`).
//!
//! Units: time ms, potential mV, current nA, resistance MΩ (so R·I is in mV), frequencies ω in
//! rad/ms, rates (κ, γ for dissipative couplings) in 1/ms, Poisson rates in Hz.
//!
//! # Neurons
//! Between spikes (Gerstner, Kistler, Naud & Paninski, *Neuronal Dynamics*, 2014, eq. 1.5):
//!
//! ```text
//! dV/dt = −(V − V_rest)/τ_m + (R_m/τ_m)·(I_ext + I_in + I_q)
//! ```
//!
//! integrated exactly over each step with the input held constant over the step (exact
//! integration, Rotter & Diesmann, Biol. Cybern. 81, 381 (1999)):
//! `V ← V∞ + (V − V∞)·e^(−dt/τ_m)`, `V∞ = V_rest + R_m·(I_ext + I_in + I_q)`.
//! After the update, `V ≥ V_th` is a spike: V is set to V_reset and held there (no integration,
//! incoming jumps ignored) for `R = max(1, floor(t_ref/dt + 1e-3))` steps (Brian2's truncation) counted from the spiking step, the
//! Brian2 `(unless refractory)` convention. A spike is stamped with the time t_n of the step in
//! which the threshold was crossed (the crossing lies in (t_n, t_n + dt]), as Brian2 does.
//!
//! # Bridges
//! Two qubits (qubit 0 ↔ neuron i, qubit 1 ↔ neuron k), ħ = 1, the GKSL equation of
//! [`crate::lindblad`] with `H = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾`, jumps `√κ_i σ−⁽⁰⁾`, `√κ_k σ−⁽¹⁾` and the
//! coupling (NEST paper, §II):
//! - `hamiltonian`: `+γ(t) σx⁽⁰⁾σx⁽¹⁾` in H;
//! - `paper`: the modified-Lindblad cross terms `γ(t)(X0ρX1 − ½{X1X0, ρ}) + (0↔1)` (not
//!   completely positive; the engine's CP report is added to the warnings once per bridge);
//! - `cp`: the cross pair plus the engine's CP completion, i.e. `γ(t)·D[X0 + X1]`.
//!
//! Adaptive coupling `γ(t) = γ₀·e^(−β|V_i(t) − V_k(t)|)`, held constant over each step.
//! Read-out currents `I_q,i = α_i Tr(ρ M⁽⁰⁾)`, `I_q,k = α_k Tr(ρ M⁽¹⁾)` (M = σx or σz); a neuron
//! in several bridges receives the sum. Spike kick (qLIF): when a bridged neuron spikes,
//! `ρ ← UρU†` with `U = e^(−iθσx/2)` on its qubit.
//!
//! The bridge advance is exact by default (`"bridge_method": "expm"`): `vec ρ ← e^((𝓛₀+γ𝓛₁)dt) vec ρ`
//! with the 16×16 Padé exponential of [`crate::integrate::expm`], cached while γ is unchanged.
//! For piecewise-constant γ this has no time-discretisation error at all, and costs about as
//! much as a handful of RK4 steps; `"rk4"` takes one classical RK4 step of size dt. `"split"`
//! (the method for large networks) is Strang splitting `e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2)` with
//! exact factors, second order, carried in the half-step frame σ = e^(𝓛₀dt/2)ρ in real Pauli
//! coordinates (one product with e^(𝓛₀dt) per step; see `bridge::SplitStep`).
//!
//! # Step order (step n advances t_n = n·dt to t_{n+1})
//! 0. record at t_n if `n % every == 0` (V, and ⟨M⟩, γ, concurrence of each bridge);
//! 1. I_q of every neuron from the bridge states ρ(t_n);
//! 2. γ of every bridge from V(t_n);
//! 3. every bridge advanced by dt (by a team of threads when there are ≥ 8 bridges, see
//!    [`team`]; this thread joins in after phase 4, which needs only the I_q of phase 1 and so
//!    runs alongside);
//! 4. every neuron advanced exactly with I_ext + constant inputs + I_q → spikes (stamped t_n),
//!    reset, refractory start; spike kicks applied to ρ(t_{n+1});
//! 5. delta jumps due at step n are added to V(t_{n+1}) of non-refractory neurons: synaptic
//!    events from spikes of step n − round(delay/dt) (delay 0 = this step's spikes), Poisson
//!    counts drawn for step n, and given spike times with `round(t/dt) = n`.
//!
//! Phases 4–5 are Brian2's default schedule (groups → thresholds → synapses → resets) with
//! `on_pre: v_post += w*int(not_refractory_post)`, so spike times match a Brian2 run with the
//! same dt when delays and t_ref are multiples of dt.

mod bridge;
/// The deterministic generator moved to the foundation layer ([`crate::rng`]); this path stays.
pub use crate::rng;
pub mod spec;
pub mod sync;
mod team;

pub use spec::{BridgeMethod, BridgeSpec, Coupling, InputKind, InputSpec, LifParams, Network, Readout, RecordSpec, Synapse};

use crate::error::{Error, ErrorCode, Result};
use bridge::BridgeState;
use team::Team;
use nalgebra::DMatrix;
use rng::Xoshiro256;
use serde_json::{json, Value};

/// Number of bridges from which the bridge phase runs in parallel (rayon, feature `parallel`).
pub const PARALLEL_MIN_BRIDGES: usize = 8;

/// Progress callback: receives the fraction of the steps done (0..1); return `false` to abort
/// (the run then fails with [`ErrorCode::Aborted`]).
pub type Progress<'a> = &'a mut (dyn FnMut(f64) -> bool + 'a);

/// Time series of one bridge, sampled at [`NetworkResult::times`].
#[derive(Clone, Debug)]
pub struct BridgeRecord {
    /// Ids of the neurons of qubit 0 and qubit 1.
    pub neurons: [String; 2],
    /// Coupling form.
    pub coupling: Coupling,
    /// Read-out operator.
    pub measure: Readout,
    /// ⟨M⁽⁰⁾⟩ and ⟨M⁽¹⁾⟩ (dimensionless, without α); empty unless `record.bridge_expect`.
    pub expect: [Vec<f64>; 2],
    /// γ(t_n) used over step n (units of γ₀).
    pub gamma: Vec<f64>,
    /// Wootters concurrence of ρ(t_n).
    pub concurrence: Vec<f64>,
    /// ρ at the end of the run (4×4, qubit 0 leftmost).
    pub final_state: DMatrix<crate::C64>,
}

/// Counters of a run.
#[derive(Clone, Debug, Default)]
pub struct NetworkStats {
    /// Steps taken.
    pub steps: u64,
    /// Neurons.
    pub neurons: usize,
    /// Synapses after expansion of generated connectivity.
    pub synapses: usize,
    /// Bridges.
    pub bridges: usize,
    /// Spikes emitted (all neurons, recorded or not).
    pub spikes: u64,
    /// Events generated per input (Poisson counts summed over steps and targets; given spike
    /// times within the run; 0 for constant inputs), including events a refractory target ignored.
    pub input_events: Vec<u64>,
    /// Bridge integrator.
    pub bridge_method: String,
    /// Padé exponentials evaluated (expm).
    pub propagators: u64,
    /// Right-hand-side evaluations (rk4).
    pub rhs_evals: u64,
    /// Wall time, seconds.
    pub wall_s: f64,
}

/// Result of [`Network::run`].
#[derive(Clone, Debug)]
pub struct NetworkResult {
    /// Sample times t_n = n·dt for n = 0, every, 2·every, … ≤ steps (ms).
    pub times: Vec<f64>,
    /// Recorded V (mV) by neuron id, in the order of `record.v`.
    pub v: Vec<(String, Vec<f64>)>,
    /// Spikes `(neuron id, t_n)` in time order (ms); empty unless `record.spikes`.
    pub spikes: Vec<(String, f64)>,
    /// One record per bridge.
    pub bridges: Vec<BridgeRecord>,
    /// Synchrony of each bridge's two neurons (only with `record.synchrony`).
    pub synchrony: Vec<PairSynchrony>,
    /// Warnings (non-CP couplings, rounding to the time grid, RK4 stability).
    pub warnings: Vec<String>,
    /// Counters.
    pub stats: NetworkStats,
}

/// How strongly the two neurons of a bridge fire together over the whole run
/// ([`sync::van_rossum`], [`sync::coincidence_factor`]).
#[derive(Clone, Debug)]
pub struct PairSynchrony {
    /// Neuron ids (qubit 0, qubit 1).
    pub neurons: [String; 2],
    /// Spike counts of the two neurons.
    pub spikes: [usize; 2],
    /// Van Rossum distance with time constant `tau` (dimensionless).
    pub van_rossum: f64,
    /// Kistler's coincidence factor of the first neuron's train against the second's at
    /// precision `delta`; `None` if a train is empty.
    pub coincidence: Option<f64>,
    /// τ (ms) and Δ (ms) used.
    pub tau: f64,
    /// Δ (ms).
    pub delta: f64,
}

impl NetworkResult {
    /// The result file (see `docs/network-format.md`).
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::Map::new();
        for (id, s) in &self.v {
            v.insert(id.clone(), json!(s));
        }
        let spikes: Vec<Value> = self.spikes.iter().map(|(id, t)| json!({"neuron": id, "t": t})).collect();
        let bridges: Vec<Value> = self
            .bridges
            .iter()
            .map(|b| {
                let mut e = serde_json::Map::new();
                e.insert(b.neurons[0].clone(), json!(b.expect[0]));
                e.insert(b.neurons[1].clone(), json!(b.expect[1]));
                let fs: Vec<Value> = (0..4).map(|i| Value::Array((0..4).map(|j| json!([b.final_state[(i, j)].re, b.final_state[(i, j)].im])).collect())).collect();
                json!({
                    "neurons": b.neurons,
                    "coupling": b.coupling.as_str(),
                    "measure": match b.measure { Readout::X => "X", Readout::Z => "Z" },
                    "expect": e,
                    "gamma": b.gamma,
                    "concurrence": b.concurrence,
                    "final_state": fs,
                })
            })
            .collect();
        let s = &self.stats;
        let mut out = json!({
            "times": self.times,
            "v": v,
            "spikes": spikes,
            "bridges": bridges,
            "warnings": self.warnings,
            "stats": {
                "steps": s.steps,
                "neurons": s.neurons,
                "synapses": s.synapses,
                "bridges": s.bridges,
                "spikes": s.spikes,
                "input_events": s.input_events,
                "bridge_method": s.bridge_method,
                "propagators": s.propagators,
                "rhs_evals": s.rhs_evals,
                "wall_s": s.wall_s,
            }
        });
        if !self.synchrony.is_empty() {
            out["synchrony"] = Value::Array(
                self.synchrony
                    .iter()
                    .map(|p| json!({"neurons": p.neurons, "spikes": p.spikes, "van_rossum": p.van_rossum, "coincidence": p.coincidence, "tau": p.tau, "delta": p.delta}))
                    .collect(),
            );
        }
        out
    }
}

/// Static warnings of the bridges: the CP report of every `paper` bridge at γ = γ₀ (its largest
/// coupling) and RK4 steps beyond the stability bound.
fn bridge_warnings(net: &Network) -> Result<Vec<String>> {
    let mut w = Vec::new();
    for (i, b) in net.bridges.iter().enumerate() {
        let (_, full) = bridge::generators(b, b.gamma0)?;
        let who = format!("$.bridges[{i}] ({}–{})", net.ids[b.neurons[0]], net.ids[b.neurons[1]]);
        if b.coupling == Coupling::Paper {
            let rep = full.cp_report();
            if !rep.warnings.is_empty() {
                w.push(format!("{who}, paper coupling at γ = γ₀ = {}: {}", b.gamma0, rep.warnings.join("; ")));
            }
        }
        if net.bridge_method == BridgeMethod::Rk4 {
            let x = crate::solve::generator_norm_estimate(&full) * net.dt;
            if x > 2.5 {
                w.push(format!("{who}: ‖𝓛‖·dt ≈ {x:.3} exceeds RK4's stability bound (≈ 2.8 on the imaginary axis); use \"bridge_method\": \"expm\" or a smaller dt"));
            }
        }
    }
    Ok(w)
}

impl Network {
    /// Runs the network for `steps` steps (see the module docs for the step order) and returns
    /// the recorded series.
    ///
    /// With the `parallel` feature, more than one rayon thread and at least
    /// [`PARALLEL_MIN_BRIDGES`] bridges, the run itself executes on a rayon worker (progress
    /// reports are relayed to the calling thread through a channel), so that the per-step
    /// parallel bridge phase forks among awake workers instead of waking the pool from outside
    /// 10⁴ times a second. Results do not depend on the thread count.
    pub fn run(&self, progress: Option<Progress>) -> Result<NetworkResult> {
        #[cfg(all(feature = "parallel", not(target_arch = "wasm32")))]
        if self.bridges.len() >= PARALLEL_MIN_BRIDGES && rayon::current_num_threads() > 1 && rayon::current_thread_index().is_none() {
            return match progress {
                None => rayon::scope(|_| self.run_here(None)),
                Some(p) => {
                    use std::sync::atomic::{AtomicBool, Ordering};
                    let abort = AtomicBool::new(false);
                    let (tx, rx) = std::sync::mpsc::channel::<f64>();
                    std::thread::scope(|s| {
                        let abort = &abort;
                        let job = s.spawn(move || {
                            rayon::scope(|_| {
                                let mut relay = |x: f64| tx.send(x).is_ok() && !abort.load(Ordering::Relaxed);
                                self.run_here(Some(&mut relay))
                            })
                        });
                        for x in rx {
                            if !p(x) {
                                abort.store(true, Ordering::Relaxed);
                            }
                        }
                        job.join().unwrap_or_else(|_| Err(Error::numerical("internal: the network run panicked")))
                    })
                }
            };
        }
        self.run_here(progress)
    }

    /// The run on the current thread, with a team of helper jobs on the other rayon workers for
    /// the bridge phase ([`team`]) when there are enough bridges and threads.
    fn run_here(&self, progress: Option<Progress>) -> Result<NetworkResult> {
        let start = crate::clock::now_s();
        let mut splits = bridge::SplitCache::new();
        let bridges: Vec<BridgeState> = self.bridges.iter().map(|b| BridgeState::new(b, self.bridge_method, self.dt, &mut splits)).collect::<Result<_>>()?;
        #[cfg(feature = "parallel")]
        let threads = if self.bridges.len() >= PARALLEL_MIN_BRIDGES { rayon::current_num_threads() } else { 1 };
        #[cfg(not(feature = "parallel"))]
        let threads = 1usize;
        // a few chunks per thread, so that the leader can take over the chunks of a helper that
        // lost its core to another process
        let chunks = if threads > 1 { (4 * threads).min(self.bridges.len() / 2).max(1) } else { 1 };
        let team = Team::new(bridges, chunks, self.ids.len(), self.dt, self.steps, self.record.every, self.record.bridge_expect);
        #[cfg(feature = "parallel")]
        if threads > 1 {
            return rayon::in_place_scope(|s| {
                for _ in 1..threads {
                    s.spawn(|_| team.help());
                }
                let _stop = team::StopGuard(&team);
                self.steps_with(&team, start, progress)
            })
            .and_then(|r| self.finish(team, r));
        }
        let r = self.steps_with(&team, start, progress)?;
        self.finish(team, r)
    }

    /// The step loop of [`Network::run_here`].
    fn steps_with(&self, team: &Team, start: f64, mut progress: Option<Progress>) -> Result<NetworkResult> {
        let n = self.ids.len();
        let dt = self.dt;
        let mut warnings = self.warnings.clone();
        warnings.extend(bridge_warnings(self)?);

        // neurons (structure of arrays)
        let decay: Vec<f64> = self.params.iter().map(|p| (-dt / p.tau_m).exp()).collect();
        let mut i_const: Vec<f64> = self.params.iter().map(|p| p.i_ext).collect();
        let ref_steps: Vec<u64> = self.params.iter().map(|p| ((p.t_ref / dt + 1e-3).floor() as u64).max(1)).collect();
        let mut v: Vec<f64> = self.params.iter().map(|p| p.v0).collect();
        let mut ref_until = vec![0u64; n];

        // synapses by presynaptic neuron (CSR)
        let mut offsets = vec![0usize; n + 1];
        for s in &self.synapses {
            offsets[s.pre as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut out = vec![(0u32, 0.0f64, 0u32); self.synapses.len()];
        let mut fill = offsets.clone();
        for s in &self.synapses {
            out[fill[s.pre as usize]] = (s.post, s.weight, s.delay_steps);
            fill[s.pre as usize] += 1;
        }
        let slots = self.synapses.iter().map(|s| s.delay_steps as usize).max().unwrap_or(0) + 1;
        let mut ring: Vec<Vec<(u32, f64)>> = vec![Vec::new(); slots];

        // inputs
        let mut poisson: Vec<(usize, usize, usize, f64, Xoshiro256)> = Vec::new(); // (input, target, member, w, rng)
        // per input: λ = rate·dt per frame and member (one entry: all members), steps per frame
        let mut lambdas: Vec<(Vec<Vec<f64>>, Option<u64>)> = vec![(vec![], None); self.inputs.len()];
        let mut timed: Vec<(u64, usize, usize, f64)> = Vec::new(); // (step, input, target, w)
        for (k, inp) in self.inputs.iter().enumerate() {
            match &inp.kind {
                InputKind::Constant { current } => {
                    for &t in &inp.targets {
                        i_const[t] += current;
                    }
                }
                InputKind::Poisson { rate_hz, present_steps, weight, seed } => {
                    lambdas[k] = (rate_hz.iter().map(|f| f.iter().map(|r| r * dt / 1000.0).collect()).collect(), *present_steps);
                    let mut r = Xoshiro256::seed_from_u64(*seed);
                    for (m, &t) in inp.targets.iter().enumerate() {
                        poisson.push((k, t, m, *weight, r.clone()));
                        r.jump();
                    }
                }
                InputKind::Spikes { steps, weight } => {
                    for &s in steps {
                        if s < self.steps {
                            for &t in &inp.targets {
                                timed.push((s, k, t, *weight));
                            }
                        }
                    }
                }
            }
        }
        timed.sort_by_key(|e| e.0);
        let mut input_events = vec![0u64; self.inputs.len()];
        let mut next_timed = 0usize;

        // bridges
        let mut kicks: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n]; // neuron → (bridge, qubit)
        let mut bridged: Vec<usize> = Vec::new();
        for (bi, b) in self.bridges.iter().enumerate() {
            for q in 0..2 {
                if b.spike_kick != 0.0 {
                    kicks[b.neurons[q]].push((bi, q));
                }
                if !bridged.contains(&b.neurons[q]) {
                    bridged.push(b.neurons[q]);
                }
            }
        }
        let mut iq = vec![0.0f64; n];

        let every = self.record.every;
        let mut times = Vec::with_capacity((self.steps / every + 1) as usize);
        let mut vrec: Vec<Vec<f64>> = vec![Vec::with_capacity(times.capacity()); self.record.v.len()];
        let mut spikes: Vec<(usize, u64)> = Vec::new();
        // spike times of bridged neurons, for the synchrony report
        let mut trains: Vec<Vec<f64>> = vec![Vec::new(); if self.record.synchrony.is_some() { n } else { 0 }];
        let mut n_spikes = 0u64;
        let mut spiked: Vec<usize> = Vec::new();

        for step in 0..=self.steps {
            let rec = step % every == 0;
            let last = step == self.steps;
            let t = step as f64 * dt;
            // (1) I_q from ⟨M⟩ of ρ(t_n) (kept current by every advance and kick), before the
            // bridges move on
            if !last {
                for &j in &bridged {
                    iq[j] = 0.0;
                }
                for c in 0..team.chunk_count() {
                    for b in team.chunk(c).bridges.iter() {
                        iq[b.neurons[0]] += b.alpha[0] * b.m[0];
                        iq[b.neurons[1]] += b.alpha[1] * b.m[1];
                    }
                }
            }
            // (0), (2), (3): the team records at t_n, takes γ from V(t_n) and advances the bridges
            // by dt while this thread updates the neurons
            let bridges = !self.bridges.is_empty();
            if bridges {
                team.start(step, &v);
            }
            if rec {
                times.push(t);
                for (s, &j) in vrec.iter_mut().zip(&self.record.v) {
                    s.push(v[j]);
                }
            }
            if last {
                if bridges {
                    team.finish()?;
                }
                break;
            }
            // (4) neurons
            spiked.clear();
            for j in 0..n {
                let p = &self.params[j];
                if step < ref_until[j] {
                    v[j] = p.v_reset;
                    continue;
                }
                let vinf = p.v_rest + p.r_m * (i_const[j] + iq[j]);
                let x = vinf + (v[j] - vinf) * decay[j];
                if x >= p.v_th {
                    spiked.push(j);
                    v[j] = p.v_reset;
                    ref_until[j] = step + ref_steps[j];
                } else {
                    v[j] = x;
                }
            }
            n_spikes += spiked.len() as u64;
            // every bridge at t_{n+1} before the kicks
            if bridges {
                team.finish()?;
            }
            for &j in &spiked {
                for &(bi, q) in &kicks[j] {
                    team.with_bridge(bi, |b| b.kick(q));
                }
                if self.record.spikes {
                    spikes.push((j, step));
                }
                if let Some(tr) = trains.get_mut(j) {
                    tr.push(step as f64 * dt);
                }
                for &(post, w, d) in &out[offsets[j]..offsets[j + 1]] {
                    ring[(step as usize + d as usize) % slots].push((post, w));
                }
            }
            // (5) deliveries due at this step
            let slot = step as usize % slots;
            for (post, w) in ring[slot].drain(..) {
                if step >= ref_until[post as usize] {
                    v[post as usize] += w;
                }
            }
            for (k, t, m, w, r) in poisson.iter_mut() {
                let (frames, per) = &lambdas[*k];
                let f = per.map_or(0, |p| (step / p) as usize);
                let lambda = match frames.get(f) {
                    Some(l) if l.len() == 1 => l[0],
                    Some(l) => l[*m],
                    None => 0.0,
                };
                let c = r.poisson(lambda);
                if c > 0 {
                    input_events[*k] += c as u64;
                    if step >= ref_until[*t] {
                        v[*t] += c as f64 * *w;
                    }
                }
            }
            while next_timed < timed.len() && timed[next_timed].0 == step {
                let (_, k, t, w) = timed[next_timed];
                input_events[k] += 1;
                if step >= ref_until[t] {
                    v[t] += w;
                }
                next_timed += 1;
            }
            if let Some(p) = progress.as_mut() {
                if step % 1024 == 0 && !p(step as f64 / self.steps as f64) {
                    return Err(Error::new(ErrorCode::Aborted, format!("aborted by the caller at t = {t} ms")));
                }
            }
        }
        if let Some(p) = progress.as_mut() {
            p(1.0);
        }
        let (mut propagators, mut rhs_evals) = (0, 0);
        for c in 0..team.chunk_count() {
            for b in team.chunk(c).bridges.iter() {
                propagators += b.cold.propagators;
                rhs_evals += b.cold.rhs_evals;
            }
        }
        let stats = NetworkStats {
            steps: self.steps,
            neurons: n,
            synapses: self.synapses.len(),
            bridges: self.bridges.len(),
            spikes: n_spikes,
            input_events,
            bridge_method: self.bridge_method.as_str().into(),
            propagators,
            rhs_evals,
            wall_s: crate::clock::now_s() - start,
        };
        let synchrony = match self.record.synchrony {
            None => Vec::new(),
            Some((tau, delta)) => self
                .bridges
                .iter()
                .map(|b| {
                    let (a, c) = (&trains[b.neurons[0]], &trains[b.neurons[1]]);
                    PairSynchrony {
                        neurons: [self.ids[b.neurons[0]].clone(), self.ids[b.neurons[1]].clone()],
                        spikes: [a.len(), c.len()],
                        van_rossum: sync::van_rossum(a, c, tau),
                        coincidence: sync::coincidence_factor(a, c, self.steps as f64 * dt, delta),
                        tau,
                        delta,
                    }
                })
                .collect(),
        };
        Ok(NetworkResult {
            synchrony,
            times,
            v: self.record.v.iter().map(|&j| self.ids[j].clone()).zip(vrec).collect(),
            spikes: spikes.into_iter().map(|(j, s)| (self.ids[j].clone(), s as f64 * dt)).collect(),
            bridges: Vec::new(),
            warnings,
            stats,
        })
    }

    /// Moves the bridges' records and final states out of the team into the result.
    fn finish(&self, team: Team, mut r: NetworkResult) -> Result<NetworkResult> {
        r.bridges = team
            .into_bridges()
            .into_iter()
            .zip(&self.bridges)
            .map(|((b, [m0, m1, gamma, concurrence]), s)| BridgeRecord {
                neurons: [self.ids[s.neurons[0]].clone(), self.ids[s.neurons[1]].clone()],
                coupling: s.coupling,
                measure: s.measure,
                final_state: b.density_matrix(),
                expect: [m0, m1],
                gamma,
                concurrence,
            })
            .collect();
        Ok(r)
    }
}

/// Parses a network file and runs it (the CLI's `nestq network`).
pub fn run_network_json(text: &str, progress: Option<Progress>) -> Result<NetworkResult> {
    Network::from_json_str(text)?.run(progress)
}
