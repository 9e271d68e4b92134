//! The per-step bridge phase of a network run, shared among a persistent team of threads.
//!
//! Each step every bridge reads the potentials of its two neurons, records, and advances by dt
//! (phases 0–3 of the step order in the module docs). The leader publishes the step
//! ([`Team::start`]), updates the neurons while the helpers advance bridges (the neuron update
//! needs only the read-out currents of ρ(t_n), taken before the step is published, and the
//! bridges need only V(t_n), copied at publication), then joins in ([`Team::finish`]) before the
//! spike kicks, which act on ρ(t_{n+1}). Forking and joining a rayon parallel loop
//! for this 10⁴ times a second costs as much as the work in threaded WebAssembly, where idle
//! rayon workers go to sleep almost at once (no `yield_now`) and every step has to wake them
//! through `Atomics.notify`. Instead, the run spawns `threads − 1` helper jobs once; they spin
//! between steps and claim chunks of bridges from an atomic counter while the run's own thread
//! (the leader) claims chunks too, then waits until all chunks of the step are done. A helper
//! that has spun for [`crate::par::SPIN_BEFORE_PARK`] polls without work (the machine is busy and the
//! leader lags, or the run is between phases for long) parks on a condition variable until the
//! next step is published, so that it does not take a core the leader needs.
//!
//! Bridges live in chunks behind (uncontended) mutexes for the whole run, so the leader's serial
//! work between steps (read-out currents, spike kicks) reaches them safely. A bridge's update
//! does not depend on which thread runs it, so results are identical for every thread count;
//! a helper that never gets a thread (busy pool) only means the leader claims every chunk.

use super::bridge::BridgeState;
use crate::error::{Error, Result};
use crate::par::Parking;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Bits of [`Team::word`] holding the next unclaimed chunk; the step (+1) is above them.
const CHUNK_BITS: u32 = 16;

/// What one step does to every bridge.
#[derive(Clone, Copy)]
struct Phase {
    t: f64,
    record: bool,
    advance: bool,
}

/// A chunk of bridges and their records.
pub(crate) struct Chunk {
    pub bridges: Vec<BridgeState>,
    /// `[⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩, γ, concurrence]` of every bridge of the chunk at every recorded step,
    /// step-major: the samples of one step are written next to each other (not into four
    /// growing vectors per bridge, whose cache misses cost more than the rest of a record).
    rec: Vec<[f64; 4]>,
}

/// Bridges in chunks, the potentials they read, and the claim counters of the current step.
pub(crate) struct Team {
    chunks: Vec<Mutex<Chunk>>,
    /// Bridges per chunk (the last may hold fewer).
    size: usize,
    /// Potential of every neuron (`f64::to_bits`), published by the leader before each step.
    v: Vec<AtomicU64>,
    /// `(step + 1) << CHUNK_BITS | next unclaimed chunk`; 0 before the first step.
    word: AtomicU64,
    /// Chunks of the current step finished.
    done: AtomicUsize,
    /// Set when the run ends (or fails): helpers return.
    stop: AtomicBool,
    /// Where idle helpers park (notified when a step is published or at the end).
    parking: Parking,
    /// Step size, steps of the run, recording interval and whether bridges are recorded: what
    /// a step does follows from its number.
    dt: f64,
    every: u64,
    steps: u64,
    record: bool,
    /// First error of the step, with its bridge index (the lowest index wins).
    error: Mutex<Option<(usize, Error)>>,
}

/// Sets [`Team::stop`] when dropped, so helpers return even if the leader leaves early.
pub(crate) struct StopGuard<'a>(pub &'a Team);

impl Drop for StopGuard<'_> {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::SeqCst);
        self.0.parking.wake_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a poisoned chunk can only come from a panic in a bridge update; its data is still valid
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Team {
    /// Splits `bridges` into `chunks` chunks (at least one) for a run of `steps` steps of `dt`
    /// over `neurons` neurons, recording bridges every `every` steps if `record`.
    pub fn new(bridges: Vec<BridgeState>, chunks: usize, neurons: usize, dt: f64, steps: u64, every: u64, record: bool) -> Team {
        let size = bridges.len().div_ceil(chunks.max(1)).max(1);
        let samples = if record { (steps / every.max(1) + 1) as usize } else { 0 };
        let mut it = bridges.into_iter();
        let mut out = Vec::new();
        loop {
            let c: Vec<BridgeState> = it.by_ref().take(size).collect();
            if c.is_empty() {
                break;
            }
            out.push(Mutex::new(Chunk { rec: Vec::with_capacity(samples * c.len()), bridges: c }));
        }
        Team {
            chunks: out,
            size,
            v: (0..neurons).map(|_| AtomicU64::new(0)).collect(),
            word: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            parking: Parking::new(),
            dt,
            every,
            steps,
            record,
            error: Mutex::new(None),
        }
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Chunk `c` (locked).
    pub fn chunk(&self, c: usize) -> MutexGuard<'_, Chunk> {
        lock(&self.chunks[c])
    }

    /// Applies `f` to bridge `i` (locks its chunk).
    pub fn with_bridge<R>(&self, i: usize, f: impl FnOnce(&mut BridgeState) -> R) -> R {
        f(&mut lock(&self.chunks[i / self.size]).bridges[i % self.size])
    }

    /// The bridges in order with their recorded series `[⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩, γ, concurrence]` (ends
    /// the team).
    pub fn into_bridges(self) -> Vec<(BridgeState, [Vec<f64>; 4])> {
        let mut out = Vec::new();
        for m in self.chunks {
            let Chunk { bridges, rec } = m.into_inner().unwrap_or_else(|e| e.into_inner());
            let n = bridges.len();
            for (i, b) in bridges.into_iter().enumerate() {
                let series: [Vec<f64>; 4] = std::array::from_fn(|q| rec.iter().skip(i).step_by(n).map(|r| r[q]).collect());
                out.push((b, series));
            }
        }
        out
    }

    fn phase(&self, step: u64) -> Phase {
        Phase { t: step as f64 * self.dt, record: self.record && step % self.every == 0, advance: step < self.steps }
    }

    /// Runs chunk `c` of step `step`.
    fn run_chunk(&self, c: usize, step: u64) {
        let ph = self.phase(step);
        let v = |j: usize| f64::from_bits(self.v[j].load(Ordering::Relaxed));
        let mut guard = lock(&self.chunks[c]);
        let Chunk { bridges, rec } = &mut *guard;
        for (k, b) in bridges.iter_mut().enumerate() {
            b.couple(v(b.neurons[0]), v(b.neurons[1]));
            let r = (|| {
                if ph.record {
                    rec.push(b.record()?);
                }
                if ph.advance {
                    b.advance(ph.t)?;
                }
                Ok(())
            })();
            if let Err(e) = r {
                let i = c * self.size + k;
                let mut slot = lock(&self.error);
                if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                    *slot = Some((i, e));
                }
                return;
            }
        }
    }

    /// Claims and runs chunks of the published step until none is left. Returns whether it ran any.
    fn claim(&self) -> bool {
        let n = self.chunks.len() as u64;
        let mut any = false;
        loop {
            let w = self.word.load(Ordering::Acquire);
            let (step1, next) = (w >> CHUNK_BITS, w & ((1 << CHUNK_BITS) - 1));
            if step1 == 0 || next >= n {
                return any;
            }
            if self.word.compare_exchange_weak(w, w + 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                self.run_chunk(next as usize, step1 - 1);
                self.done.fetch_add(1, Ordering::Release);
                any = true;
            }
        }
    }

    /// Whether the published step has a chunk left to claim.
    fn claimable(&self) -> bool {
        let w = self.word.load(Ordering::SeqCst);
        w >> CHUNK_BITS != 0 && (w & ((1 << CHUNK_BITS) - 1)) < self.chunks.len() as u64
    }

    /// A helper's job: claim chunks whenever a step is published, until [`Team::stop`].
    pub fn help(&self) {
        self.parking.help(|| self.stop.load(Ordering::SeqCst), || self.claim(), || self.claimable());
    }

    /// Starts the bridge phase of `step`: publishes the potentials `v` (copied: the caller may
    /// change its `v` at once) and wakes the helpers, which begin claiming chunks while the
    /// leader does other work (the neuron update). [`Team::finish`] completes the phase.
    pub fn start(&self, step: u64, v: &[f64]) {
        for (a, &x) in self.v.iter().zip(v) {
            a.store(x.to_bits(), Ordering::Relaxed);
        }
        self.done.store(0, Ordering::Relaxed);
        self.word.store((step + 1) << CHUNK_BITS, Ordering::SeqCst);
        self.parking.published();
    }

    /// Completes the phase begun by [`Team::start`]: the leader claims the chunks left and waits
    /// until every chunk is done; returns the error of the lowest-indexed failing bridge, if any.
    pub fn finish(&self) -> Result<()> {
        self.claim();
        let n = self.chunks.len();
        crate::par::wait_done(&self.done, n);
        match lock(&self.error).take() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}
