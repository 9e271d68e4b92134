//! Per-thread caches of small blocks in front of the system allocator, for the threaded build.
//!
//! Rust's allocator on `wasm32-unknown-unknown` is dlmalloc behind **one global spin lock**
//! (`library/std/src/sys/alloc/wasm.rs`). A batch of small independent solves (1000 two-qubit
//! bridges, each a few hundred small allocations for its generator, its CP analysis and its
//! result) then spends its time bouncing that lock between the workers: two threads ran such a
//! batch no faster than one (bench/history/diary.md, sessions 3–5). This wrapper keeps, per thread,
//! LIFO free lists of blocks in nine power-of-two size classes (16 B … 4 KiB, at most 64 blocks
//! each); only cache misses, overflows and larger blocks reach dlmalloc.
//!
//! Invariants: a block of class `k` always has size `16·2^k` and alignment 16 in dlmalloc's
//! eyes, whichever thread allocates or frees it (memory is shared, so a block freed by another
//! thread simply joins that thread's cache). The caches are `const`-initialised thread-locals of a
//! type without destructor, so touching them never allocates (no re-entry). Blocks cached by a
//! thread that exits are not returned (pool workers live as long as the instance).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;

const CLASSES: usize = 9;
const MIN: usize = 16;
const MAX_PER_CLASS: u32 = 64;

struct Cache {
    heads: [Cell<*mut u8>; CLASSES],
    counts: [Cell<u32>; CLASSES],
}

thread_local! {
    static CACHE: Cache = const {
        Cache { heads: [const { Cell::new(null_mut()) }; CLASSES], counts: [const { Cell::new(0) }; CLASSES] }
    };
}

/// The size class of a request, or None if it goes straight to the system allocator.
#[inline]
fn class(layout: &Layout) -> Option<usize> {
    if layout.align() > MIN || layout.size() > MIN << (CLASSES - 1) {
        return None;
    }
    let size = layout.size().max(MIN).next_power_of_two();
    Some((size / MIN).trailing_zeros() as usize)
}

#[inline]
fn class_layout(k: usize) -> Layout {
    // SAFETY: MIN << k is a non-zero power of two ≤ 4096 and 16 is a power of two
    unsafe { Layout::from_size_align_unchecked(MIN << k, MIN) }
}

/// The allocator: thread caches over [`System`].
pub struct ThreadCached;

unsafe impl GlobalAlloc for ThreadCached {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(k) = class(&layout) else { return System.alloc(layout) };
        let hit = CACHE.with(|c| {
            let p = c.heads[k].get();
            if !p.is_null() {
                // the first word of a cached block links to the next one
                c.heads[k].set(*(p as *mut *mut u8));
                c.counts[k].set(c.counts[k].get() - 1);
            }
            p
        });
        if hit.is_null() {
            System.alloc(class_layout(k))
        } else {
            hit
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(k) = class(&layout) else { return System.dealloc(ptr, layout) };
        let kept = CACHE.with(|c| {
            if c.counts[k].get() >= MAX_PER_CLASS {
                return false;
            }
            *(ptr as *mut *mut u8) = c.heads[k].get();
            c.heads[k].set(ptr);
            c.counts[k].set(c.counts[k].get() + 1);
            true
        });
        if !kept {
            System.dealloc(ptr, class_layout(k));
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees new_size is valid for layout.align()
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        match (class(&layout), class(&new_layout)) {
            // same class: the block already has room
            (Some(a), Some(b)) if a == b => ptr,
            // both large: let dlmalloc grow in place when it can
            (None, None) => System.realloc(ptr, layout, new_size),
            _ => {
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_small_aligned_requests_only() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(class(&l(1, 1)), Some(0));
        assert_eq!(class(&l(16, 8)), Some(0));
        assert_eq!(class(&l(17, 8)), Some(1));
        assert_eq!(class(&l(4096, 16)), Some(8));
        assert_eq!(class(&l(4097, 8)), None);
        assert_eq!(class(&l(64, 32)), None);
    }

    /// Blocks keep their contents, are reused, move between threads and survive every realloc
    /// transition (within a class, across classes, small ↔ large).
    #[test]
    fn blocks_round_trip_across_threads_and_reallocs() {
        let a = ThreadCached;
        unsafe {
            let mut kept = Vec::new();
            for round in 0..3 {
                for size in [1usize, 8, 24, 100, 1000, 4096, 5000, 70_000] {
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    let p = a.alloc(layout);
                    assert!(!p.is_null() && p as usize % 8 == 0);
                    std::ptr::write_bytes(p, (size % 251) as u8, size);
                    if round == 0 {
                        kept.push((p as usize, layout));
                    } else {
                        a.dealloc(p, layout);
                    }
                }
            }
            // free round-0 blocks on another thread: they join that thread's cache or dlmalloc
            let handle = std::thread::spawn(move || {
                let a = ThreadCached;
                for (p, layout) in kept {
                    let p = p as *mut u8;
                    for i in 0..layout.size() {
                        assert_eq!(*p.add(i), (layout.size() % 251) as u8);
                    }
                    a.dealloc(p, layout);
                }
            });
            handle.join().unwrap();
            // realloc chain 10 → 20 (same class? no: 16 → 32) → 30 (same class) → 5000 → 12
            let mut layout = Layout::from_size_align(10, 8).unwrap();
            let mut p = a.alloc(layout);
            for i in 0..10 {
                *p.add(i) = i as u8;
            }
            for new_size in [20usize, 30, 5000, 12] {
                p = a.realloc(p, layout, new_size);
                for i in 0..10 {
                    assert_eq!(*p.add(i), i as u8, "byte {i} after realloc to {new_size}");
                }
                layout = Layout::from_size_align(new_size, 8).unwrap();
            }
            a.dealloc(p, layout);
        }
    }

    #[test]
    fn many_threads_hammering_the_caches() {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    let a = ThreadCached;
                    let mut live: Vec<(usize, Layout, u8)> = Vec::new();
                    let mut x: u64 = 0x9E37_79B9 + t;
                    for _ in 0..20_000 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        if live.len() > 200 || (x & 1 == 1 && !live.is_empty()) {
                            let (p, l, v) = live.swap_remove((x as usize >> 1) % live.len());
                            unsafe {
                                assert!((0..l.size()).all(|i| *(p as *mut u8).add(i) == v));
                                a.dealloc(p as *mut u8, l);
                            }
                        } else {
                            let size = 1 + (x as usize >> 8) % 3000;
                            let l = Layout::from_size_align(size, 8).unwrap();
                            let v = (x >> 20) as u8;
                            unsafe {
                                let p = a.alloc(l);
                                std::ptr::write_bytes(p, v, size);
                                live.push((p as usize, l, v));
                            }
                        }
                    }
                    for (p, l, _) in live {
                        unsafe { a.dealloc(p as *mut u8, l) };
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
