//! How many requests may be in flight to a store at once: the adaptive
//! limit as a pure state machine, fed one sample per finished request.
//!
//! `auto` follows the rate the store answers at, as TCP BBR does for a
//! link: by Little's law, a round's requests in flight over their mean
//! round trip is that rate, measured here in requests per unloaded round
//! trip (a request's round trip against the quickest one seen for its kind
//! of request, so that slow batch writes and quick page reads add up).
//! Once per round (as many answers as the limit, each sent under that
//! limit with at least half of it in flight):
//!
//! - at first ("startup") the limit doubles each round for as long as the
//!   rate grows with it (by a quarter or more) and fewer than two thirds of
//!   the requests wait. Latency that rises while the rate still grows (a
//!   store whose CPU, not its workers, is busy) does not stop it; a store
//!   that only queues the extra requests does, within the places of a
//!   PHP-FPM pool with a backlog of four requests per worker.
//! - then the limit is twice the best recent rate: the store is never idle
//!   while the client works between answers, and at most half of ours
//!   wait in its queue. The best rate is forgotten a little each round, and
//!   at once when more than half of ours waited, so a store that slows
//!   down lowers the limit.
//!
//! Independently of latency, and in both modes, a refusal (429, 502, 503,
//! 504) or a timeout halves the limit once per window (answers to requests
//! sent before the last cut do not cut again), ends the startup, and from
//! then on the limit climbs back by at most one a round; a `Retry-After`
//! pauses every request until it has passed. A fixed number is a ceiling:
//! the limit starts there, halves on refusals and climbs back by one a
//! round, and ignores latency.
//!
//! Time is passed in as the offset from the limiter's start, so the rules
//! are tested without a clock; [`crate::limiter`] is the async glue.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The `concurrency` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concurrency {
    /// As many as the store answers without slowing down, up to
    /// [`AUTO_CEILING`], starting at [`AUTO_START`].
    #[default]
    Auto,
    /// At most this many; fewer while the store refuses requests.
    AtMost(usize),
}

/// Where `auto` starts: the old fixed default.
pub const AUTO_START: usize = 4;
/// The most requests `auto` ever has in flight, and the largest fixed
/// ceiling the settings accept.
pub const AUTO_CEILING: usize = 64;

impl Concurrency {
    /// Reads the setting: `auto`, or a whole number from 1 to
    /// [`AUTO_CEILING`]; the refusal says what is allowed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        match text.parse::<usize>() {
            Ok(n) if (1..=AUTO_CEILING).contains(&n) => Ok(Self::AtMost(n)),
            _ => Err(format!(
                "must be auto or a whole number from 1 to {AUTO_CEILING}"
            )),
        }
    }

    /// The most requests ever in flight at once.
    pub fn ceiling(self) -> usize {
        match self {
            Self::Auto => AUTO_CEILING,
            Self::AtMost(n) => n.clamp(1, AUTO_CEILING),
        }
    }
}

impl fmt::Display for Concurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::AtMost(n) => write!(f, "{n}"),
        }
    }
}

/// How a request ended, as far as the store's load goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The store answered (any 2xx) after this round trip.
    Answered(Duration),
    /// The store refused the request for load (429, 502, 503, 504) or did
    /// not answer in time; with the `Retry-After` it asked for.
    Overloaded { retry_after: Option<Duration> },
    /// Anything that says nothing about load (a 404, a bad certificate).
    Other,
}

/// One finished request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// What kind of request it was (`GET /wc/v3/products`): each kind has
    /// its own unloaded latency (a batch of 100 writes is slower than a
    /// page read).
    pub kind: String,
    /// Requests in flight when it was sent, itself included.
    pub in_flight: usize,
    /// [`AdaptiveLimit::window`] when it was sent.
    pub window: u64,
    pub signal: Signal,
}

/// Why the limit went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Requests waited longer in the store's queue.
    Latency,
    /// The store refused a request or did not answer in time.
    Refused,
}

/// A change of the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub from: usize,
    pub to: usize,
    /// `None` when it went up.
    pub cut: Option<Cause>,
}

/// The limit and what it has learned of the store.
#[derive(Debug, Clone)]
pub struct AdaptiveLimit {
    concurrency: Concurrency,
    limit: f64,
    /// The best recent rate the store answered at, in requests per
    /// unloaded round trip (a round's busiest in flight over its mean
    /// latency ratio).
    delivered: f64,
    /// The limit doubles each round while the rate grows with it.
    startup: bool,
    /// The store has refused a request: from then on the limit climbs by
    /// at most one a round.
    refused: bool,
    /// The unloaded round trip of each kind of request.
    baselines: HashMap<String, Duration>,
    round: Round,
    /// Bumped at each change of the limit: a round counts only answers to
    /// requests sent under the limit it judges.
    window: u64,
    /// The window the last cut opened: a refusal of a request sent before
    /// it does not cut again.
    cut_window: u64,
    paused_until: Duration,
    max_pause: Duration,
}

#[derive(Debug, Clone, Default)]
struct Round {
    answers: usize,
    ratio_sum: f64,
    busiest: usize,
}

/// How much weight a lone request's round trip gets in its kind's
/// baseline when it is slower than the baseline: a request alone in
/// flight queued behind none of ours, so its round trip is the store's own
/// (a store that got slower for everyone raises the baseline with it).
const LONE_WEIGHT: f64 = 0.1;

/// `auto`'s limit over the rate the store delivers (in requests per
/// unloaded round trip): twice as many in flight as it answers in one, so
/// it is never idle while the client works between answers, and at most
/// half of ours wait in its queue once it is full.
const HEADROOM: f64 = 2.0;

/// Startup goes on while each doubling of the limit raises the rate by at
/// least this factor (BBR's): on a pool that only queues the extra
/// requests, the rate stays flat and startup ends.
const STARTUP_GROWTH: f64 = 1.25;

/// Nor does startup go on past a round whose mean latency ratio is above
/// this (two thirds of the requests waiting): on a pool with a backlog of
/// four requests per worker, the doubled limit stays within it.
const STARTUP_MOST_RATIO: f64 = 3.0;

/// The share of the best rate seen forgotten each round.
const FORGET: f64 = 0.2;

impl AdaptiveLimit {
    /// A new limit; no `Retry-After` pause is ever longer than `max_pause`.
    pub fn new(concurrency: Concurrency, max_pause: Duration) -> Self {
        let start = match concurrency {
            Concurrency::Auto => AUTO_START,
            Concurrency::AtMost(n) => n,
        };
        Self {
            concurrency,
            limit: start.clamp(1, concurrency.ceiling()) as f64,
            delivered: 0.0,
            refused: false,
            startup: true,
            baselines: HashMap::new(),
            round: Round::default(),
            window: 0,
            cut_window: 0,
            paused_until: Duration::ZERO,
            max_pause,
        }
    }

    pub fn concurrency(&self) -> Concurrency {
        self.concurrency
    }

    /// How many requests may be in flight now (at least 1).
    pub fn limit(&self) -> usize {
        (self.limit.floor() as usize).max(1)
    }

    /// The current window, to be recorded with each request sent.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// Until when no request may be sent (the store's `Retry-After`), if
    /// that is later than `now`.
    pub fn paused_until(&self, now: Duration) -> Option<Duration> {
        (self.paused_until > now).then_some(self.paused_until)
    }

    /// Learns from a finished request; says how the limit changed.
    pub fn on_sample(&mut self, sample: &Sample, now: Duration) -> Option<Change> {
        match sample.signal {
            Signal::Answered(rtt) => self.on_answer(sample, rtt),
            Signal::Overloaded { retry_after } => {
                if let Some(wait) = retry_after {
                    self.paused_until = self.paused_until.max(now + wait.min(self.max_pause));
                }
                if sample.window < self.cut_window {
                    return None;
                }
                let from = self.limit();
                self.limit = (self.limit / 2.0).floor().max(1.0);
                self.delivered = self.delivered.min(self.limit / HEADROOM);
                self.refused = true;
                self.startup = false;
                Some(self.cut(from, Cause::Refused))
            }
            Signal::Other => None,
        }
    }

    fn on_answer(&mut self, sample: &Sample, rtt: Duration) -> Option<Change> {
        let rtt = rtt.max(Duration::from_micros(1));
        let baseline = self.baselines.entry(sample.kind.clone()).or_insert(rtt);
        if rtt < *baseline {
            *baseline = rtt;
        } else if sample.in_flight <= 1 {
            *baseline = baseline.mul_f64(1.0 - LONE_WEIGHT) + rtt.mul_f64(LONE_WEIGHT);
        }
        let ratio = rtt.as_secs_f64() / baseline.as_secs_f64();
        if sample.window < self.window {
            // Sent under another limit: it says how things were.
            return None;
        }
        if sample.in_flight * 2 < self.limit() {
            // Sent with under half the limit in flight: it tells nothing
            // about whether the store would take more.
            return None;
        }
        self.round.answers += 1;
        self.round.ratio_sum += ratio.max(1.0);
        self.round.busiest = self.round.busiest.max(sample.in_flight);
        if self.round.answers < self.limit() {
            return None;
        }
        let round = std::mem::take(&mut self.round);
        let from = self.limit();
        let ceiling = self.concurrency.ceiling() as f64;
        if let Concurrency::AtMost(_) = self.concurrency {
            if self.limit < ceiling {
                self.limit = (self.limit + 1.0).min(ceiling);
            }
            return self.changed(from);
        }
        // Little's law: the requests in flight over their round trip is the
        // rate the store answers at (here in requests per unloaded round
        // trip, so kinds of different speed add up).
        let mean_ratio = round.ratio_sum / round.answers as f64;
        let delivered = round.busiest as f64 / mean_ratio;
        if delivered < self.delivered * STARTUP_GROWTH || mean_ratio > STARTUP_MOST_RATIO {
            self.startup = false;
        }
        self.delivered = if mean_ratio > HEADROOM {
            // More than half of ours waited: the store is slower now.
            delivered
        } else {
            delivered.max(self.delivered * (1.0 - FORGET))
        };
        let target = if self.startup {
            self.limit * 2.0
        } else {
            HEADROOM * self.delivered
        }
        .clamp(1.0, ceiling);
        self.limit = if self.refused && target > self.limit {
            (self.limit + 1.0).min(target)
        } else {
            target
        };
        if self.limit() < from {
            return Some(self.cut(from, Cause::Latency));
        }
        self.changed(from)
    }

    fn cut(&mut self, from: usize, cause: Cause) -> Change {
        self.window += 1;
        self.cut_window = self.window;
        self.round = Round::default();
        Change {
            from,
            to: self.limit(),
            cut: Some(cause),
        }
    }

    fn changed(&mut self, from: usize) -> Option<Change> {
        let to = self.limit();
        if to != from {
            self.window += 1;
        }
        (to != from).then_some(Change {
            from,
            to,
            cut: None,
        })
    }
}

/// What one run saw of the limit, for its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// The most requests in flight at once.
    pub most_in_flight: usize,
    /// How often the limit was cut.
    pub cuts: u32,
    /// The limit after the last cut, if there was one.
    pub slowed_to: Option<usize>,
    /// Whether a cut was for refusals (else for latency alone).
    pub refused: bool,
}

impl Usage {
    /// Counts a change of the limit.
    pub fn record(&mut self, change: &Change) {
        if let Some(cause) = change.cut {
            self.cuts += 1;
            self.slowed_to = Some(change.to);
            self.refused |= cause == Cause::Refused;
        }
    }

    /// One line for a run's report; `None` when no request was made.
    pub fn describe(&self, concurrency: Concurrency) -> Option<String> {
        if self.most_in_flight == 0 {
            return None;
        }
        let most = self.most_in_flight;
        let setting = match concurrency {
            Concurrency::Auto => "auto".to_owned(),
            Concurrency::AtMost(n) => format!("at most {n}"),
        };
        Some(match self.slowed_to {
            None => format!("store requests: up to {most} at a time (concurrency {setting})"),
            Some(to) => format!(
                "store busy: slowed to {to} request{} at a time ({}; up to {most} at once, \
                 concurrency {setting})",
                if to == 1 { "" } else { "s" },
                if self.refused {
                    "it refused requests"
                } else {
                    "its answers slowed down"
                }
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const PAUSE_CAP: Duration = Duration::from_secs(120);

    fn answered(limit: &AdaptiveLimit, rtt: Duration, in_flight: usize) -> Sample {
        Sample {
            kind: "GET /wc/v3/products".into(),
            in_flight,
            window: limit.window(),
            signal: Signal::Answered(rtt),
        }
    }

    fn refused(window: u64, retry_after: Option<Duration>) -> Sample {
        Sample {
            kind: "GET /wc/v3/products".into(),
            in_flight: 1,
            window,
            signal: Signal::Overloaded { retry_after },
        }
    }

    /// One full round at the current limit, every request in flight
    /// taking `rtt`.
    fn round(limit: &mut AdaptiveLimit, rtt: Duration) {
        for _ in 0..limit.limit() {
            let sample = answered(limit, rtt, limit.limit());
            limit.on_sample(&sample, Duration::ZERO);
        }
    }

    #[test]
    fn the_setting_reads_auto_or_a_ceiling() {
        assert_eq!(Concurrency::parse("auto"), Ok(Concurrency::Auto));
        assert_eq!(Concurrency::parse(" AUTO "), Ok(Concurrency::Auto));
        assert_eq!(Concurrency::parse("4"), Ok(Concurrency::AtMost(4)));
        assert_eq!(Concurrency::parse("64"), Ok(Concurrency::AtMost(64)));
        for bad in ["0", "65", "-1", "four", "", "1.5"] {
            let error = Concurrency::parse(bad).unwrap_err();
            assert_eq!(
                error, "must be auto or a whole number from 1 to 64",
                "{bad}"
            );
        }
        assert_eq!(Concurrency::AtMost(8).to_string(), "8");
        assert_eq!(Concurrency::Auto.to_string(), "auto");
    }

    #[test]
    fn flat_latency_raises_the_limit_to_the_ceiling_and_no_further() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        assert_eq!(limit.limit(), AUTO_START);
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 8, "slow start doubles");
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 16);
        for _ in 0..10 {
            round(&mut limit, 100 * MS);
        }
        assert_eq!(limit.limit(), AUTO_CEILING);
    }

    #[test]
    fn a_limit_the_callers_do_not_fill_does_not_grow() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        for _ in 0..20 {
            let sample = answered(&limit, 100 * MS, 1);
            limit.on_sample(&sample, Duration::ZERO);
        }
        assert_eq!(limit.limit(), AUTO_START);
    }

    #[test]
    fn answers_to_requests_sent_under_another_limit_do_not_count() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        let before = limit.window();
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 8);
        // Quick answers to the requests sent at 4 would double it again.
        for _ in 0..8 {
            let stale = Sample {
                window: before,
                ..answered(&limit, 100 * MS, 8)
            };
            assert_eq!(limit.on_sample(&stale, Duration::ZERO), None);
        }
        assert_eq!(limit.limit(), 8);
    }

    #[test]
    fn rising_latency_lowers_the_limit() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        for _ in 0..3 {
            round(&mut limit, 100 * MS);
        }
        assert_eq!(limit.limit(), 32);
        // Four times the unloaded latency: three quarters of the requests
        // in flight are waiting.
        let cut = (0..32)
            .filter_map(|_| {
                let sample = answered(&limit, 400 * MS, 32);
                limit.on_sample(&sample, Duration::ZERO)
            })
            .next_back()
            .unwrap();
        assert_eq!(cut.cut, Some(Cause::Latency));
        assert_eq!(cut.from, 32);
        assert!(cut.to < 32 && cut.to >= 1, "{cut:?}");
    }

    #[test]
    fn each_kind_of_request_has_its_own_unloaded_latency() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        for n in 0..limit.limit() {
            // Batch writes take 2.3 s, page reads 0.3 s: neither is queueing.
            let (kind, rtt) = if n % 2 == 0 {
                ("POST /wc/v3/products/batch", 2300 * MS)
            } else {
                ("GET /wc/v3/products", 300 * MS)
            };
            let sample = Sample {
                kind: kind.into(),
                in_flight: 4,
                window: 0,
                signal: Signal::Answered(rtt),
            };
            limit.on_sample(&sample, Duration::ZERO);
        }
        assert_eq!(limit.limit(), 8);
    }

    /// A store with `workers` that each take 100 ms and a FIFO queue in
    /// front, fed by a client that keeps `limit` requests in flight: past
    /// the workers, every request waits for the ones ahead of it (a round
    /// trip of `limit / workers` × 100 ms). The limit settles a little
    /// above the workers (the store always busy, a short queue).
    #[test]
    fn a_pool_of_workers_is_kept_busy_with_a_short_queue() {
        for workers in [2usize, 8, 32] {
            let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
            // A listing's first page goes alone: the unloaded round trip.
            let first = answered(&limit, 100 * MS, 1);
            limit.on_sample(&first, Duration::ZERO);
            let mut seen = Vec::new();
            for _ in 0..60 {
                let in_flight = limit.limit();
                let rtt = (100 * MS).mul_f64((in_flight as f64 / workers as f64).max(1.0));
                for _ in 0..in_flight {
                    let sample = answered(&limit, rtt, in_flight);
                    limit.on_sample(&sample, Duration::ZERO);
                }
                seen.push(limit.limit());
            }
            let settled = &seen[40..];
            assert!(
                settled.iter().all(|&l| l >= workers && l <= workers * 3),
                "{workers} workers: {seen:?}"
            );
        }
    }

    #[test]
    fn refusals_and_timeouts_halve_the_limit_once_per_window() {
        let mut limit = AdaptiveLimit::new(Concurrency::AtMost(16), PAUSE_CAP);
        let sent_in = limit.window();
        let change = limit.on_sample(&refused(sent_in, None), Duration::ZERO);
        assert_eq!(
            change,
            Some(Change {
                from: 16,
                to: 8,
                cut: Some(Cause::Refused)
            })
        );
        // The other requests of that window come back refused too: one cut.
        assert_eq!(
            limit.on_sample(&refused(sent_in, None), Duration::ZERO),
            None
        );
        assert_eq!(limit.limit(), 8);
        let change = limit.on_sample(&refused(limit.window(), None), Duration::ZERO);
        assert_eq!(change.map(|c| c.to), Some(4));
    }

    #[test]
    fn the_limit_never_goes_below_one() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        for _ in 0..10 {
            limit.on_sample(&refused(limit.window(), None), Duration::ZERO);
        }
        assert_eq!(limit.limit(), 1);
        let change = limit.on_sample(&refused(limit.window(), None), Duration::ZERO);
        assert_eq!(change.map(|c| c.to), Some(1));
    }

    #[test]
    fn a_fixed_ceiling_ignores_latency_and_climbs_back_after_a_refusal() {
        let mut limit = AdaptiveLimit::new(Concurrency::AtMost(4), PAUSE_CAP);
        assert_eq!(limit.limit(), 4);
        round(&mut limit, 100 * MS);
        round(&mut limit, 900 * MS);
        assert_eq!(limit.limit(), 4, "neither above the ceiling nor cut");
        limit.on_sample(&refused(limit.window(), None), Duration::ZERO);
        assert_eq!(limit.limit(), 2);
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 3);
        round(&mut limit, 100 * MS);
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 4);
    }

    #[test]
    fn retry_after_pauses_every_request_up_to_the_cap() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        let now = Duration::from_secs(10);
        assert_eq!(limit.paused_until(now), None);
        let asked = refused(limit.window(), Some(Duration::from_secs(3)));
        limit.on_sample(&asked, now);
        assert_eq!(limit.paused_until(now), Some(Duration::from_secs(13)));
        assert_eq!(
            limit.paused_until(Duration::from_secs(12)),
            Some(Duration::from_secs(13))
        );
        assert_eq!(limit.paused_until(Duration::from_secs(13)), None);
        // A refusal from an older window still extends the pause, and a
        // shorter one does not shorten it.
        limit.on_sample(&refused(0, Some(Duration::from_secs(1))), now);
        assert_eq!(limit.paused_until(now), Some(Duration::from_secs(13)));
        limit.on_sample(&refused(0, Some(Duration::from_secs(3600))), now);
        assert_eq!(limit.paused_until(now), Some(now + PAUSE_CAP));
    }

    #[test]
    fn usage_names_the_concurrency_and_any_back_off() {
        let mut usage = Usage::default();
        assert_eq!(usage.describe(Concurrency::Auto), None);
        usage.most_in_flight = 12;
        assert_eq!(
            usage.describe(Concurrency::Auto).unwrap(),
            "store requests: up to 12 at a time (concurrency auto)"
        );
        usage.record(&Change {
            from: 12,
            to: 6,
            cut: Some(Cause::Latency),
        });
        usage.record(&Change {
            from: 6,
            to: 2,
            cut: Some(Cause::Refused),
        });
        usage.record(&Change {
            from: 2,
            to: 3,
            cut: None,
        });
        assert_eq!(usage.cuts, 2);
        assert_eq!(
            usage.describe(Concurrency::AtMost(16)).unwrap(),
            "store busy: slowed to 2 requests at a time (it refused requests; up to 12 at \
             once, concurrency at most 16)"
        );
    }

    /// A store in simulated time, like `woo-sandbox --workers`: `workers`
    /// that each spend `service` on a request, a FIFO backlog of 4 per
    /// worker, and past it a 503 at once with `Retry-After: 1`. `load` is
    /// added to a round trip for each other request in flight when it was
    /// sent (the CPU that client and store share on a small machine).
    struct SimStore {
        workers: usize,
        service: Duration,
        load: Duration,
    }

    /// What a simulated listing took.
    #[derive(Debug)]
    struct SimRun {
        wall: Duration,
        refused: usize,
        sent: usize,
        most_in_flight: usize,
    }

    /// A listing of `pages` under `concurrency`: page 1 alone, then the
    /// rest as concurrently as the limit lets them, each refused page sent
    /// again.
    fn simulate(concurrency: Concurrency, store: &SimStore, pages: usize) -> SimRun {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut limit = AdaptiveLimit::new(concurrency, PAUSE_CAP);
        let mut free_at: BinaryHeap<Reverse<Duration>> = (0..store.workers)
            .map(|_| Reverse(Duration::ZERO))
            .collect();
        let mut admitted: Vec<Duration> = Vec::new();
        // (finish, sequence) -> sample
        let mut pending: BinaryHeap<Reverse<(Duration, usize)>> = BinaryHeap::new();
        let mut samples: HashMap<usize, Sample> = HashMap::new();
        let (mut now, mut left, mut answered_first) = (Duration::ZERO, pages, false);
        let mut run = SimRun {
            wall: Duration::ZERO,
            refused: 0,
            sent: 0,
            most_in_flight: 0,
        };
        loop {
            let paused = limit.paused_until(now).is_some();
            while !paused
                && left > 0
                && pending.len() < limit.limit()
                && (answered_first || pending.is_empty())
            {
                let in_flight = pending.len() + 1;
                run.most_in_flight = run.most_in_flight.max(in_flight);
                admitted.retain(|&finish| finish > now);
                let (finish, signal) = if admitted.len() >= store.workers * 5 {
                    run.refused += 1;
                    let retry_after = Some(Duration::from_secs(1));
                    (now + MS, Signal::Overloaded { retry_after })
                } else {
                    let Reverse(free) = free_at.pop().unwrap();
                    let done = now.max(free) + store.service;
                    free_at.push(Reverse(done));
                    admitted.push(done);
                    let finish = done + store.load * (in_flight as u32 - 1);
                    (finish, Signal::Answered(finish - now))
                };
                left -= 1;
                run.sent += 1;
                samples.insert(
                    run.sent,
                    Sample {
                        kind: "GET /wc/v3/products".into(),
                        in_flight,
                        window: limit.window(),
                        signal,
                    },
                );
                pending.push(Reverse((finish, run.sent)));
            }
            let Some(Reverse((finish, id))) = pending.pop() else {
                match limit.paused_until(now) {
                    Some(until) => {
                        now = until;
                        continue;
                    }
                    None => break,
                }
            };
            now = finish;
            let sample = samples.remove(&id).unwrap();
            if let Signal::Overloaded { .. } = sample.signal {
                left += 1;
            } else {
                answered_first = true;
            }
            limit.on_sample(&sample, now);
        }
        run.wall = now;
        run
    }

    /// The best fixed setting's wall for a listing, and `auto`'s run.
    fn auto_against_best_fixed(store: &SimStore, pages: usize) -> (Duration, SimRun) {
        let best = [1, 2, 4, 8, 16, 32, 64]
            .into_iter()
            .map(|n| simulate(Concurrency::AtMost(n), store, pages).wall)
            .min()
            .unwrap();
        (best, simulate(Concurrency::Auto, store, pages))
    }

    #[test]
    fn a_long_listing_keeps_any_pool_busy_without_a_refusal() {
        for workers in [1, 2, 3, 4, 5, 7, 8, 12, 20, 32] {
            let store = SimStore {
                workers,
                service: 100 * MS,
                load: Duration::ZERO,
            };
            let (best, auto) = auto_against_best_fixed(&store, 1000);
            let share = best.as_secs_f64() / auto.wall.as_secs_f64();
            assert!(
                share >= 0.9,
                "{workers} workers: {share:.2} of {best:?}: {auto:?}"
            );
            assert_eq!(auto.refused, 0, "{workers} workers: {auto:?}");
            assert!(auto.most_in_flight < 5 * workers, "{auto:?}");
        }
    }

    #[test]
    fn a_big_pool_is_reached_in_a_few_rounds() {
        let store = SimStore {
            workers: 32,
            service: 100 * MS,
            load: Duration::ZERO,
        };
        // 100 pages: page 1, then 4, 8, 16, 32 and 64 at once.
        let (best, auto) = auto_against_best_fixed(&store, 100);
        assert_eq!(auto.most_in_flight, 32, "{auto:?}");
        assert!(auto.wall <= best + 300 * MS, "{best:?}: {auto:?}");
    }

    /// A store that shares its CPU with the client: every request in
    /// flight adds to everyone's round trip, yet more at once still get
    /// more done (the rate grows by more than a quarter with each doubling
    /// up to 32, where the old rule, judging the latency alone, stopped at
    /// 16).
    #[test]
    fn latency_that_rises_while_the_rate_grows_does_not_stop_the_climb() {
        let store = SimStore {
            workers: 32,
            service: 100 * MS,
            load: 2 * MS,
        };
        let auto = simulate(Concurrency::Auto, &store, 1000);
        assert!(auto.most_in_flight >= 32, "{auto:?}");
        assert_eq!(auto.refused, 0);
    }

    #[test]
    fn after_a_refusal_auto_climbs_back_by_one_a_round() {
        let mut limit = AdaptiveLimit::new(Concurrency::Auto, PAUSE_CAP);
        round(&mut limit, 100 * MS);
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 16);
        limit.on_sample(&refused(limit.window(), None), Duration::ZERO);
        assert_eq!(limit.limit(), 8);
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 9, "no more doubling");
        round(&mut limit, 100 * MS);
        assert_eq!(limit.limit(), 10);
    }
}
