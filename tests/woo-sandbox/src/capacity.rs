//! The store's capacity, as a PHP-FPM pool behind nginx has it: `workers`
//! requests are served at once, the next ones wait in the listen backlog
//! (their latency grows), and past `queue` waiting a request is refused at
//! once with 503 and `Retry-After` (nginx's answer when PHP-FPM's backlog is
//! full). Without workers the pool is unbounded. It counts what it served
//! and refused, and the most requests it held at once.
//!
//! [`Capacity::admit`] decides from the counts alone (pure); [`Pool::enter`]
//! is the async glue around a semaphore.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a refused request is asked to wait.
pub const RETRY_AFTER_SECS: u64 = 1;

/// The backlog of a pool whose size is not given: four requests waiting
/// per worker.
pub fn default_queue(workers: usize) -> usize {
    workers * 4
}

/// What becomes of a request arriving at the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A worker is free, or the backlog has room: it is served, perhaps
    /// after waiting.
    Served,
    /// The backlog is full: 503.
    Refused,
}

/// The pool's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub workers: usize,
    /// Requests that may wait for a worker.
    pub queue: usize,
}

impl Capacity {
    /// Whether a request arriving while `held` are in the pool (served or
    /// waiting) gets in.
    pub fn admit(&self, held: usize) -> Admission {
        if held < self.workers + self.queue {
            Admission::Served
        } else {
            Admission::Refused
        }
    }
}

/// What the pool has seen, as `GET /__sandbox/capacity` shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityStats {
    /// `null` when the pool is unbounded.
    pub workers: Option<usize>,
    pub queue: Option<usize>,
    pub served: u64,
    pub refused: u64,
    /// The most requests in the pool at once, served or waiting.
    pub peak_in_flight: usize,
    /// The most requests being worked on at once.
    pub peak_busy: usize,
}

/// The pool: counts and the workers.
pub struct Pool {
    capacity: Option<Capacity>,
    workers: Option<std::sync::Arc<Semaphore>>,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    held: usize,
    busy: usize,
    stats: CapacityStats,
}

/// A request's place in the pool; the worker (and the place) are given
/// back when it is dropped.
pub struct Slot<'a> {
    pool: &'a Pool,
    worker: Option<OwnedSemaphorePermit>,
    /// Being worked on (not waiting for a worker any more).
    busy: bool,
}

impl Pool {
    /// A pool of `capacity`, or an unbounded one.
    pub fn new(capacity: Option<Capacity>) -> Self {
        Self {
            capacity,
            workers: capacity.map(|c| std::sync::Arc::new(Semaphore::new(c.workers))),
            counts: Mutex::new(Counts {
                stats: CapacityStats {
                    workers: capacity.map(|c| c.workers),
                    queue: capacity.map(|c| c.queue),
                    ..CapacityStats::default()
                },
                ..Counts::default()
            }),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a worker; `None` when the backlog is full (answer 503).
    pub async fn enter(&self) -> Option<Slot<'_>> {
        {
            let mut counts = self.counts();
            let admission = self
                .capacity
                .map_or(Admission::Served, |c| c.admit(counts.held));
            if admission == Admission::Refused {
                counts.stats.refused += 1;
                return None;
            }
            counts.held += 1;
            counts.stats.peak_in_flight = counts.stats.peak_in_flight.max(counts.held);
        }
        // The slot frees its place even if the wait is abandoned.
        let mut slot = Slot {
            pool: self,
            worker: None,
            busy: false,
        };
        if let Some(workers) = &self.workers {
            slot.worker = Some(
                workers
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the pool's semaphore is never closed"),
            );
        }
        let mut counts = self.counts();
        slot.busy = true;
        counts.busy += 1;
        counts.stats.served += 1;
        counts.stats.peak_busy = counts.stats.peak_busy.max(counts.busy);
        Some(slot)
    }

    pub fn stats(&self) -> CapacityStats {
        self.counts().stats
    }

    /// Forgets the counts and peaks (the size stays).
    pub fn reset(&self) {
        let mut counts = self.counts();
        counts.stats = CapacityStats {
            workers: counts.stats.workers,
            queue: counts.stats.queue,
            ..CapacityStats::default()
        };
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut counts = self.pool.counts();
        counts.held -= 1;
        if self.busy {
            counts.busy -= 1;
        }
        // The worker goes back to the pool after the counts are right.
        drop(counts);
        self.worker.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_takes_requests_up_to_its_length() {
        let capacity = Capacity {
            workers: 2,
            queue: 8,
        };
        assert_eq!(capacity.admit(0), Admission::Served);
        assert_eq!(capacity.admit(9), Admission::Served);
        assert_eq!(capacity.admit(10), Admission::Refused);
        assert_eq!(default_queue(2), 8);
    }

    #[tokio::test]
    async fn workers_serve_the_queue_waits_and_the_rest_is_refused() {
        let pool = Pool::new(Some(Capacity {
            workers: 1,
            queue: 1,
        }));
        let first = pool.enter().await.expect("a free worker");
        let second = pool.enter();
        tokio::pin!(second);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), &mut second).await;
        assert!(waited.is_err(), "the second request waits for the worker");
        assert!(pool.enter().await.is_none(), "the backlog is full");
        drop(first);
        let second = second.await.expect("served once the worker is free");
        drop(second);
        let stats = pool.stats();
        assert_eq!(
            (
                stats.served,
                stats.refused,
                stats.peak_in_flight,
                stats.peak_busy
            ),
            (2, 1, 2, 1)
        );
        pool.reset();
        assert_eq!(pool.stats().refused, 0);
        assert_eq!(pool.stats().workers, Some(1));
    }

    #[tokio::test]
    async fn an_unbounded_pool_refuses_nothing_and_counts_the_peak() {
        let pool = Pool::new(None);
        let a = pool.enter().await.unwrap();
        let b = pool.enter().await.unwrap();
        drop(a);
        drop(b);
        let stats = pool.stats();
        assert_eq!(
            (stats.peak_in_flight, stats.refused, stats.workers),
            (2, 0, None)
        );
    }
}
