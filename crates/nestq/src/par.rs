//! A persistent team of threads for the fine-grained parallel loops of one solve.
//!
//! The matrix-form right-hand side of a large model ([`crate::lindblad::MatrixRhs`]) and the
//! vector updates of the integrators split into a few parallel loops per evaluation, about 0.5 ms
//! of work each at n = 256, 10⁴–10⁵ times per solve. A rayon fork–join per loop costs more than
//! its share of that work whenever the idle workers have gone to sleep, which they do after a
//! few µs natively and almost at once in threaded WebAssembly (no `yield_now`, every wake-up an
//! `Atomics.notify`): on the N = 8 Ising chain two rayon threads ran 1.2× (native) and 1.03×
//! (WebAssembly) faster than one, while two independent one-thread solves ran side by side at
//! full speed each, i.e. the loops were not memory-bound.
//!
//! [`with_team`] therefore spawns `threads − 1` helper jobs once for the whole solve; they spin
//! between loops and claim chunks of each loop from one atomic word, while the solve's own thread
//! (the leader) claims chunks too and then waits for the chunks still running. A helper that has
//! polled [`SPIN_BEFORE_PARK`] times without work parks on a condition variable until the next
//! loop is published, so a team never holds a core that another process (or the leader) needs;
//! chunks a parked or preempted helper did not claim are run by the leader. [`for_each_index`]
//! and [`for_chunks_mut`] use the team of the calling thread when there is one, rayon otherwise
//! (and run serially without the `parallel` feature). Results never depend on which thread ran
//! a chunk.
//!
//! The design is the one of the neural layer's bridge team ([`crate::neural`]), generalised
//! from "advance every bridge" to "run this closure for chunks 0..n".

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Polls without work after which a helper parks: ~20–40 µs of spinning natively (each poll
/// includes a `pause`), ~30 µs in WebAssembly (where `spin_loop` is empty and a poll is one
/// atomic load). The serial work between two loops of a solve is a few µs, so on a quiet machine
/// helpers stay awake for the whole solve.
#[cfg(not(target_arch = "wasm32"))]
pub const SPIN_BEFORE_PARK: u32 = 1 << 10;
/// See the native value.
#[cfg(target_arch = "wasm32")]
pub const SPIN_BEFORE_PARK: u32 = 1 << 14;

/// Layout of a claim word ([`Team::words`]): `epoch << 40 | end << 20 | next`. The end of the
/// range lives in the same word as the claim counter, so a claim that succeeds always refers to
/// the loop it was read from.
const FIELD: u32 = 20;
// (a range's `next` starts at its first chunk, so `end` and `next` are absolute chunk indices)
const MASK: u64 = (1 << FIELD) - 1;
/// Largest chunk count of one loop.
pub const MAX_CHUNKS: usize = MASK as usize;

type Job = *const (dyn Fn(usize) + Sync);

/// A team of threads that run the chunks of one loop at a time (see the module docs).
pub struct Team {
    /// One claim word per thread (rank 0 is the leader): the loop's chunks are split into
    /// `threads` contiguous ranges, and rank r claims from range r first, then from the others.
    /// On a quiet machine every thread thus runs the same columns in every loop, and the data a
    /// thread wrote tends to be in its core's cache for the next loop.
    words: Vec<AtomicU64>,
    /// Ranks handed to helpers as they start.
    ranks: AtomicUsize,
    /// The current loop's body, valid while its chunks run (set by the leader before the loop
    /// is published; read by a helper only after it claimed a chunk of that loop).
    job: UnsafeCell<Option<Job>>,
    done: AtomicUsize,
    stop: AtomicBool,
    parking: Parking,
    /// The first panic payload of a chunk, re-raised on the leader after the loop.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    epoch: Cell<u64>,
    threads: usize,
}

// SAFETY: `job` is written only by the leader between loops (no chunk running) and read by
// helpers under the claim protocol above; `epoch` is touched by the leader only.
unsafe impl Sync for Team {}
unsafe impl Send for Team {}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The spin-then-park protocol of a team's helpers (this module's teams and the neural layer's
/// bridge team): a helper polls for work, spins [`SPIN_BEFORE_PARK`] polls without any, then
/// parks on a condition variable until work is published or the team stops.
pub(crate) struct Parking {
    /// Helpers parked on `wake` (the leader notifies only when there are some).
    parked: AtomicUsize,
    /// Guards the parking (no data).
    park: Mutex<()>,
    wake: Condvar,
}

impl Parking {
    pub(crate) fn new() -> Self {
        Parking { parked: AtomicUsize::new(0), park: Mutex::new(()), wake: Condvar::new() }
    }

    /// A helper's loop until `stopped()`: `claim()` runs whatever work is published and returns
    /// whether there was any; `ready()` tells a parked helper that work is waiting.
    ///
    /// `parked` is raised before the last look at `ready()`, and the leader publishes (SeqCst)
    /// before it reads `parked` in [`Parking::published`]: work published meanwhile is either
    /// seen here or notified. A missed notification would only cost this helper its share of
    /// that work, never a hang: the leader runs what nobody claimed.
    pub(crate) fn help(&self, stopped: impl Fn() -> bool, mut claim: impl FnMut() -> bool, ready: impl Fn() -> bool) {
        let mut idle = 0u32;
        while !stopped() {
            if claim() {
                idle = 0;
            } else if idle < SPIN_BEFORE_PARK {
                idle += 1;
                std::hint::spin_loop();
            } else {
                let mut g = lock(&self.park);
                self.parked.fetch_add(1, Ordering::SeqCst);
                while !stopped() && !ready() {
                    g = self.wake.wait(g).unwrap_or_else(|e| e.into_inner());
                }
                self.parked.fetch_sub(1, Ordering::SeqCst);
                idle = 0;
            }
        }
    }

    /// The leader, after publishing work with a SeqCst store: wakes the parked helpers, if any.
    pub(crate) fn published(&self) {
        if self.parked.load(Ordering::SeqCst) > 0 {
            self.wake_all();
        }
    }

    /// Wakes every parked helper (after the team's stop flag was set).
    pub(crate) fn wake_all(&self) {
        let _g = lock(&self.park);
        self.wake.notify_all();
    }
}

thread_local! {
    static CURRENT: Cell<*const Team> = const { Cell::new(std::ptr::null()) };
    /// Set inside [`without_team`].
    static NO_TEAM: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with [`with_team`] disabled on this thread: for the members of a parallel batch,
/// whose parallelism is across members (a member's team would only wait for helper jobs that
/// the other members keep busy). Parallel loops inside still use rayon.
pub fn without_team<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            NO_TEAM.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(NO_TEAM.with(|c| c.replace(true)));
    f()
}

impl Team {
    fn new(threads: usize) -> Team {
        Team {
            words: (0..threads).map(|_| AtomicU64::new(0)).collect(),
            ranks: AtomicUsize::new(1),
            job: UnsafeCell::new(None),
            done: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            parking: Parking::new(),
            panic: Mutex::new(None),
            epoch: Cell::new(0),
            threads,
        }
    }

    /// Number of threads of the team, the leader included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    fn run_one(&self, f: &(dyn Fn(usize) + Sync), c: usize) {
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(c))) {
            lock(&self.panic).get_or_insert(p);
        }
        self.done.fetch_add(1, Ordering::Release);
    }

    /// Claims and runs chunks of range `r` of the published loop until none is left there.
    fn claim_range(&self, r: usize) -> bool {
        let word = &self.words[r];
        let mut any = false;
        loop {
            let w = word.load(Ordering::Acquire);
            let (end, next) = ((w >> FIELD) & MASK, w & MASK);
            if next >= end {
                return any;
            }
            if word.compare_exchange_weak(w, w + 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                // SAFETY: the claim succeeded on a word of the loop whose job is stored; the
                // leader does not replace the job before this chunk is counted done.
                let f = unsafe { (*self.job.get()).expect("a published loop has a job") };
                self.run_one(unsafe { &*f }, next as usize);
                any = true;
            }
        }
    }

    /// Claims and runs chunks of the published loop, its own range first, until none is left.
    fn claim(&self, rank: usize) -> bool {
        let t = self.words.len();
        let mut any = false;
        for k in 0..t {
            any |= self.claim_range((rank + k) % t);
        }
        any
    }

    fn claimable(&self) -> bool {
        self.words.iter().any(|word| {
            let w = word.load(Ordering::SeqCst);
            w & MASK < (w >> FIELD) & MASK
        })
    }

    /// A helper's job: claim chunks whenever a loop is published, until the team stops.
    fn help(&self) {
        let rank = self.ranks.fetch_add(1, Ordering::Relaxed) % self.words.len();
        self.parking.help(|| self.stop.load(Ordering::SeqCst), || self.claim(rank), || self.claimable());
    }

    /// Runs `f(c)` for `c` in `0..chunks` on the team and returns when all have run. A panic in
    /// a chunk is re-raised here after every chunk has finished.
    pub fn run(&self, chunks: usize, f: &(dyn Fn(usize) + Sync)) {
        assert!(chunks <= MAX_CHUNKS, "at most {MAX_CHUNKS} chunks per loop");
        if chunks <= 1 {
            if chunks == 1 {
                f(0);
            }
            return;
        }
        // SAFETY: no chunk of an earlier loop is running (the previous `run` waited for all of
        // them), so no helper reads `job` now; the lifetime is erased only for the duration of
        // this call, which does not return before every chunk that uses it is done.
        let erased: Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(f) };
        unsafe { *self.job.get() = Some(erased) };
        self.done.store(0, Ordering::Relaxed);
        let e = self.epoch.get() + 1;
        self.epoch.set(e);
        let tag = (e & ((1 << (64 - 2 * FIELD)) - 1)) << (2 * FIELD);
        let t = self.words.len();
        for (r, word) in self.words.iter().enumerate() {
            // range r: chunks [r·chunks/t, (r+1)·chunks/t)
            let (lo, hi) = ((r * chunks / t) as u64, ((r + 1) * chunks / t) as u64);
            word.store(tag | hi << FIELD | lo, Ordering::SeqCst);
        }
        self.parking.published();
        self.claim(0);
        wait_done(&self.done, chunks);
        if let Some(p) = lock(&self.panic).take() {
            std::panic::resume_unwind(p);
        }
    }
}

/// The leader's wait for the chunks helpers claimed: spins until `done` reaches `n`, yielding
/// the core (natively) after 4096 polls in case the helper finishing one was descheduled.
pub(crate) fn wait_done(done: &AtomicUsize, n: usize) {
    let mut idle = 0u32;
    while done.load(Ordering::Acquire) < n {
        idle = idle.saturating_add(1);
        if idle < 1 << 12 {
            std::hint::spin_loop();
        } else {
            #[cfg(not(target_arch = "wasm32"))]
            std::thread::yield_now();
        }
    }
}

/// The team of the calling thread, if it leads one.
fn current() -> Option<&'static Team> {
    let p = CURRENT.with(|c| c.get());
    // SAFETY: set only by `with_team` for the duration of its body, on this thread.
    if p.is_null() {
        None
    } else {
        Some(unsafe { &*p })
    }
}

/// Number of threads the parallel loops of the calling thread use: its team's size, else
/// rayon's pool size (1 without the `parallel` feature).
pub fn threads() -> usize {
    if let Some(t) = current() {
        return t.threads();
    }
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Runs `body` on the calling thread as the leader of a team of `rayon::current_num_threads()`
/// threads (helpers are rayon jobs), so that the parallel loops inside it ([`for_each_index`],
/// [`for_chunks_mut`]) fork and join among spinning threads. The calling thread may be a rayon
/// worker (helpers then go to its deque and are stolen by idle workers) or not (they are
/// injected into the global pool). Without the `parallel` feature, with one thread, inside
/// another team's body or inside [`without_team`], `body` just runs.
pub fn with_team<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(feature = "parallel")]
    {
        let threads = rayon::current_num_threads();
        if threads > 1 && current().is_none() && !NO_TEAM.with(|c| c.get()) {
            let team = Team::new(threads);
            struct Leave<'a>(&'a Team);
            impl Drop for Leave<'_> {
                fn drop(&mut self) {
                    CURRENT.with(|c| c.set(std::ptr::null()));
                    self.0.stop.store(true, Ordering::SeqCst);
                    self.0.parking.wake_all();
                }
            }
            return rayon::in_place_scope(|s| {
                for _ in 1..threads {
                    s.spawn(|_| team.help());
                }
                CURRENT.with(|c| c.set(&team as *const Team));
                let _leave = Leave(&team);
                body()
            });
        }
    }
    body()
}

/// Runs `f(c)` for every `c` in `0..n`, in parallel on the calling thread's team, else on
/// rayon's pool (serially without the `parallel` feature).
pub fn for_each_index(n: usize, f: impl Fn(usize) + Sync + Send) {
    if let Some(t) = current() {
        if n <= MAX_CHUNKS {
            t.run(n, &f);
        } else {
            // group g runs indices g, g + MAX_CHUNKS, …
            t.run(MAX_CHUNKS, &|g| (g..n).step_by(MAX_CHUNKS).for_each(&f));
        }
        return;
    }
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().for_each(f);
    }
    #[cfg(not(feature = "parallel"))]
    (0..n).for_each(f);
}

/// A raw pointer shared by the chunks of one loop, each of which touches a disjoint range.
#[derive(Clone, Copy)]
pub struct SharedMut<T>(*mut T, usize);

// SAFETY: used only to hand disjoint sub-slices to the chunks of one loop.
unsafe impl<T: Send> Send for SharedMut<T> {}
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// Wraps `s` for the duration of one loop.
    pub fn new(s: &mut [T]) -> Self {
        SharedMut(s.as_mut_ptr(), s.len())
    }

    /// The sub-slice `start .. start + len` (clipped to the buffer).
    ///
    /// # Safety
    /// Ranges handed out during one loop must be disjoint, and the buffer must outlive them.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice(&self, start: usize, len: usize) -> &mut [T] {
        let start = start.min(self.1);
        let len = len.min(self.1 - start);
        std::slice::from_raw_parts_mut(self.0.add(start), len)
    }
}

/// Splits `buf` into chunks of `chunk_len` elements (the last may be shorter) and runs
/// `f(index, chunk)` on each, in parallel as in [`for_each_index`].
pub fn for_chunks_mut<T: Send>(buf: &mut [T], chunk_len: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    assert!(chunk_len > 0, "chunk_len must be positive");
    let n = buf.len().div_ceil(chunk_len);
    let p = SharedMut::new(buf);
    // SAFETY: chunk c is the range [c·len, (c+1)·len), disjoint for distinct c.
    for_each_index(n, move |c| f(c, unsafe { p.slice(c * chunk_len, chunk_len) }));
}

#[cfg(test)]
mod tests {
    //! Teams lead from the test's own thread (not a rayon worker) on the global pool, whose
    //! size is the machine's core count; on a one-core machine the loops simply run serially.
    use super::*;

    #[test]
    fn chunks_cover_the_buffer_once_with_and_without_team() {
        let check = |round: u64| {
            let mut v = vec![0u64; 1000 + (round as usize % 7)];
            for_chunks_mut(&mut v, 33, |c, ch| {
                for (k, x) in ch.iter_mut().enumerate() {
                    *x += (c * 33 + k) as u64 + round;
                }
            });
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 + round), "round {round}");
        };
        (0..200).for_each(check);
        with_team(|| {
            assert_eq!(threads(), rayon::current_num_threads());
            (0..2000).for_each(check);
        });
    }

    #[test]
    fn a_panic_in_a_chunk_reaches_the_leader_after_the_loop() {
        let done = AtomicUsize::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_team(|| {
                // a team (more than one thread): every other chunk runs before the re-raise
                let team = current().is_some();
                for_each_index(16, |c| {
                    if c == 5 {
                        panic!("chunk 5 failed");
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                });
                team
            })
        }));
        let msg = r.expect_err("the panic is re-raised");
        assert_eq!(msg.downcast_ref::<&str>().copied(), Some("chunk 5 failed"));
        if rayon::current_num_threads() > 1 {
            assert_eq!(done.load(Ordering::SeqCst), 15, "every other chunk ran before the panic was re-raised");
        }
        // the thread left the team and the helpers returned: a new team works
        assert!(current().is_none());
        assert_eq!(with_team(|| 7), 7);
    }

    #[test]
    fn nested_teams_run_inline_and_parked_helpers_wake() {
        with_team(|| {
            let sum = AtomicUsize::new(0);
            for_each_index(8, |c| {
                sum.fetch_add(c, Ordering::SeqCst);
            });
            // long enough for the helpers to park (> SPIN_BEFORE_PARK polls)
            std::thread::sleep(std::time::Duration::from_millis(20));
            with_team(|| {
                for_each_index(8, |c| {
                    sum.fetch_add(c, Ordering::SeqCst);
                })
            });
            assert_eq!(sum.load(Ordering::SeqCst), 56);
        });
    }

    #[test]
    fn teams_on_workers_but_not_in_batch_members() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(|| {
            with_team(|| assert!(current().is_some(), "a worker leads a team"));
            without_team(|| with_team(|| assert!(current().is_none(), "a batch member does not start a team")));
            with_team(|| {
                let sum = AtomicUsize::new(0);
                for_each_index(64, |c| {
                    sum.fetch_add(c, Ordering::SeqCst);
                });
                assert_eq!(sum.load(Ordering::SeqCst), 64 * 63 / 2);
            });
        });
    }
}
