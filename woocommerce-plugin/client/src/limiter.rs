//! The permits behind [`crate::limit`]: every request to the store waits
//! for one, so a client and all its clones (every job of a plugin instance)
//! share one limit, and every request waits out a `Retry-After`.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::limit::{AdaptiveLimit, Concurrency, Sample, Signal, Usage};

/// The shared limit of one store connection.
pub struct Limiter {
    state: Mutex<State>,
    freed: Notify,
    started: Instant,
}

struct State {
    limit: AdaptiveLimit,
    in_flight: usize,
    watches: Vec<Weak<Mutex<Usage>>>,
}

/// Leave to send one request; hand back how it went with
/// [`Permit::finish`]. Dropped unfinished, it frees its place and teaches
/// nothing.
pub struct Permit<'a> {
    limiter: &'a Limiter,
    kind: String,
    in_flight: usize,
    window: u64,
    sent: Instant,
    /// When the answer's head (status and headers) came.
    head: Option<Instant>,
    finished: bool,
}

/// What the limit did while a watch was held (a job run), read with
/// [`UsageWatch::usage`].
pub struct UsageWatch {
    usage: Arc<Mutex<Usage>>,
    concurrency: Concurrency,
}

impl Limiter {
    /// A limiter; no `Retry-After` pauses requests for longer than
    /// `max_pause`.
    pub fn new(concurrency: Concurrency, max_pause: Duration) -> Self {
        Self {
            state: Mutex::new(State {
                limit: AdaptiveLimit::new(concurrency, max_pause),
                in_flight: 0,
                watches: Vec::new(),
            }),
            freed: Notify::new(),
            started: Instant::now(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The setting the limiter follows.
    pub fn concurrency(&self) -> Concurrency {
        self.state().limit.concurrency()
    }

    /// How many requests may be in flight now.
    pub fn limit(&self) -> usize {
        self.state().limit.limit()
    }

    /// Waits until a request of `kind` (`GET /wc/v3/products`) may be sent:
    /// no `Retry-After` pause is running and fewer than the limit are in
    /// flight.
    pub async fn acquire(&self, kind: String) -> Permit<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let paused_until = {
                let mut state = self.state();
                match state.limit.paused_until(self.started.elapsed()) {
                    Some(until) => Some(until),
                    None if state.in_flight < state.limit.limit() => {
                        state.in_flight += 1;
                        let in_flight = state.in_flight;
                        state.each_watch(|usage| {
                            usage.most_in_flight = usage.most_in_flight.max(in_flight);
                        });
                        return Permit {
                            limiter: self,
                            kind,
                            in_flight,
                            window: state.limit.window(),
                            sent: Instant::now(),
                            head: None,
                            finished: false,
                        };
                    }
                    None => None,
                }
            };
            match paused_until {
                Some(until) => tokio::time::sleep_until(self.started + until).await,
                None => freed.await,
            }
        }
    }

    /// Starts recording what the limit does, for one run's report.
    pub fn watch(&self) -> UsageWatch {
        let usage = Arc::new(Mutex::new(Usage::default()));
        let mut state = self.state();
        state.watches.retain(|w| w.strong_count() > 0);
        state.watches.push(Arc::downgrade(&usage));
        UsageWatch {
            usage,
            concurrency: state.limit.concurrency(),
        }
    }

    fn release(&self, sample: Option<Sample>) {
        {
            let mut state = self.state();
            state.in_flight -= 1;
            if let Some(sample) = sample {
                let now = self.started.elapsed();
                if let Some(change) = state.limit.on_sample(&sample, now) {
                    tracing::debug!(
                        from = change.from,
                        to = change.to,
                        cut = ?change.cut,
                        "store request limit changed"
                    );
                    state.each_watch(|usage| usage.record(&change));
                }
            }
        }
        self.freed.notify_waiters();
    }
}

impl State {
    fn each_watch(&self, mut f: impl FnMut(&mut Usage)) {
        for usage in self.watches.iter().filter_map(Weak::upgrade) {
            f(&mut usage.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }
}

impl Permit<'_> {
    /// Notes that the answer's head has come: its round trip ends here,
    /// before the body is read and parsed (the client's own work, which
    /// says nothing about the store's queue).
    pub fn head_arrived(&mut self) {
        self.head.get_or_insert_with(Instant::now);
    }

    /// Frees the place with how the request went; an answer's round trip
    /// is measured from when the permit was given to when its head came
    /// (or to now, if that was not noted).
    pub fn finish(mut self, signal: Finished) {
        self.finished = true;
        let answered = self.head.unwrap_or_else(Instant::now);
        let signal = match signal {
            Finished::Answered => Signal::Answered(answered - self.sent),
            Finished::Overloaded { retry_after } => Signal::Overloaded { retry_after },
            Finished::Other => Signal::Other,
        };
        self.limiter.release(Some(Sample {
            kind: std::mem::take(&mut self.kind),
            in_flight: self.in_flight,
            window: self.window,
            signal,
        }));
    }
}

/// How a request went, for [`Permit::finish`] (the round trip is the
/// permit's own measure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Answered,
    Overloaded { retry_after: Option<Duration> },
    Other,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.limiter.release(None);
        }
    }
}

impl UsageWatch {
    /// What the limit did since the watch began.
    pub fn usage(&self) -> Usage {
        *self.usage.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One line for the run's report (see [`Usage::describe`]).
    pub fn describe(&self) -> Option<String> {
        self.usage().describe(self.concurrency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: &str = "GET /wc/v3/products";

    #[tokio::test]
    async fn no_more_than_the_limit_are_in_flight() {
        let limiter = Limiter::new(Concurrency::AtMost(2), Duration::from_secs(60));
        let watch = limiter.watch();
        let a = limiter.acquire(KIND.into()).await;
        let b = limiter.acquire(KIND.into()).await;
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.acquire(KIND.into()));
        assert!(third.await.is_err(), "a third permit while two are out");
        drop(a);
        let c = tokio::time::timeout(Duration::from_secs(5), limiter.acquire(KIND.into()))
            .await
            .expect("a freed place is given to the waiter");
        c.finish(Finished::Answered);
        b.finish(Finished::Other);
        assert_eq!(watch.usage().most_in_flight, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn every_request_waits_out_retry_after() {
        let limiter = Limiter::new(Concurrency::Auto, Duration::from_secs(60));
        let watch = limiter.watch();
        let refused = limiter.acquire(KIND.into()).await;
        refused.finish(Finished::Overloaded {
            retry_after: Some(Duration::from_secs(5)),
        });
        let before = Instant::now();
        let next = limiter.acquire(KIND.into()).await;
        assert!(
            before.elapsed() >= Duration::from_secs(5),
            "{:?}",
            before.elapsed()
        );
        next.finish(Finished::Answered);
        let usage = watch.usage();
        assert_eq!(usage.cuts, 1);
        assert_eq!(usage.slowed_to, Some(2));
        assert!(
            watch
                .describe()
                .unwrap()
                .starts_with("store busy: slowed to 2 requests at a time")
        );
    }

    #[tokio::test]
    async fn a_dropped_watch_is_forgotten() {
        let limiter = Limiter::new(Concurrency::Auto, Duration::from_secs(60));
        drop(limiter.watch());
        let kept = limiter.watch();
        assert_eq!(limiter.state().watches.len(), 1);
        limiter
            .acquire(KIND.into())
            .await
            .finish(Finished::Answered);
        assert_eq!(kept.usage().most_in_flight, 1);
    }
}
