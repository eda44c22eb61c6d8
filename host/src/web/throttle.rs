//! The login throttle's rules, pure over the time given. Per (user,
//! address): after [`FREE_FAILURES`] failed logins in a row, each further
//! attempt is refused without checking the password until a lockout has
//! passed, and each failure after a lockout doubles it (30 s, 60 s, ... at
//! most 15 min); a success clears the record. The records are bounded: a
//! user name counts by its first [`KEY_CHARS`] characters, and past
//! [`MAX_RECORDS`] the oldest is forgotten. For everyone at once,
//! [`CheckRate`]: how many password checks may start. No clock, no I/O.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failed logins allowed in a row before the first lockout.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
const LONGEST_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Records older than this (and not locked) are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// How many characters of a user name its record is kept under.
pub const KEY_CHARS: usize = 64;
/// How many (user, address) records are kept at most.
pub const MAX_RECORDS: usize = 10_000;

#[derive(Default)]
pub struct Throttle {
    records: HashMap<(String, IpAddr), Record>,
}

struct Record {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

impl Throttle {
    /// How long this user at this address must still wait, if locked out.
    pub fn locked(&self, user: &str, addr: IpAddr, now: Instant) -> Option<Duration> {
        let record = self.records.get(&key(user, addr))?;
        record
            .locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Records a failed login.
    pub fn failed(&mut self, user: &str, addr: IpAddr, now: Instant) {
        self.records
            .retain(|_, r| now.duration_since(r.last) < FORGET_AFTER || r.locked_until > Some(now));
        let key = key(user, addr);
        if self.records.len() >= MAX_RECORDS && !self.records.contains_key(&key) {
            let oldest = self
                .records
                .iter()
                .min_by_key(|(_, r)| r.last)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.records.remove(&oldest);
            }
        }
        let record = self.records.entry(key).or_insert(Record {
            failures: 0,
            last: now,
            locked_until: None,
        });
        record.failures += 1;
        record.last = now;
        if record.failures >= FREE_FAILURES {
            record.locked_until = Some(now + lockout(record.failures - FREE_FAILURES));
        }
    }

    /// Records a successful login: the user starts afresh.
    pub fn succeeded(&mut self, user: &str, addr: IpAddr) {
        self.records.remove(&key(user, addr));
    }
}

/// The lockout after the `n`th failure past the free ones (0-based).
fn lockout(n: u32) -> Duration {
    FIRST_LOCKOUT
        .saturating_mul(2u32.saturating_pow(n.min(16)))
        .min(LONGEST_LOCKOUT)
}

/// User names are matched without case, as a login may be typed either
/// way, by their first [`KEY_CHARS`] characters (no user name is longer).
fn key(user: &str, addr: IpAddr) -> (String, IpAddr) {
    let name: String = user.trim().chars().take(KEY_CHARS).collect();
    (name.to_lowercase(), addr)
}

/// How many password checks may start, for every user and address
/// together: a bucket of [`CHECK_BURST`] that refills [`CHECKS_PER_SECOND`]
/// a second. It bounds the CPU a flood of logins may take.
pub struct CheckRate {
    available: f64,
    last: Option<Instant>,
}

/// Password checks that may start at once after a quiet spell.
pub const CHECK_BURST: f64 = 10.0;
/// Password checks that may start a second, on average.
pub const CHECKS_PER_SECOND: f64 = 5.0;

impl Default for CheckRate {
    fn default() -> Self {
        Self {
            available: CHECK_BURST,
            last: None,
        }
    }
}

impl CheckRate {
    /// Whether a password check may start now (taking its place if so).
    pub fn take(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * CHECKS_PER_SECOND;
            self.available = (self.available + refill).min(CHECK_BURST);
        }
        self.last = Some(now);
        if self.available >= 1.0 {
            self.available -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const THERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));

    #[test]
    fn five_failures_lock_out_that_user_at_that_address_with_doubling_waits() {
        let mut t = Throttle::default();
        let start = Instant::now();
        for _ in 0..4 {
            t.failed("ann", HERE, start);
            assert_eq!(t.locked("ann", HERE, start), None);
        }
        t.failed("Ann", HERE, start);
        assert_eq!(t.locked("ann", HERE, start), Some(Duration::from_secs(30)));
        assert_eq!(t.locked("ann", THERE, start), None, "another address");
        assert_eq!(t.locked("bob", HERE, start), None, "another user");
        let later = start + Duration::from_secs(31);
        assert_eq!(t.locked("ann", HERE, later), None, "the lockout passes");
        t.failed("ann", HERE, later);
        assert_eq!(t.locked("ann", HERE, later), Some(Duration::from_secs(60)));
        assert_eq!(lockout(10), LONGEST_LOCKOUT);
        assert_eq!(lockout(u32::MAX), LONGEST_LOCKOUT);
    }

    #[test]
    fn records_are_bounded_in_key_length_and_number() {
        let mut t = Throttle::default();
        let now = Instant::now();
        let long = "x".repeat(1_000_000);
        for _ in 0..FREE_FAILURES {
            t.failed(&long, HERE, now);
        }
        assert!(t.locked(&long[..KEY_CHARS], HERE, now).is_some());
        assert!(t.records.keys().all(|(name, _)| name.len() == KEY_CHARS));
        for n in 0..MAX_RECORDS + 50 {
            t.failed(
                &format!("user-{n}"),
                HERE,
                now + Duration::from_millis(n as u64),
            );
        }
        assert_eq!(t.records.len(), MAX_RECORDS);
        assert!(
            t.records
                .contains_key(&key(&format!("user-{}", MAX_RECORDS + 49), HERE))
        );
        assert!(
            !t.records.contains_key(&key("user-0", HERE)),
            "the oldest went first"
        );
    }

    #[test]
    fn password_checks_start_at_a_bounded_rate_for_everyone() {
        let mut rate = CheckRate::default();
        let t0 = Instant::now();
        let burst = (0..100).filter(|_| rate.take(t0)).count();
        assert_eq!(burst, CHECK_BURST as usize);
        assert!(!rate.take(t0 + Duration::from_millis(100)));
        assert!(rate.take(t0 + Duration::from_millis(200)), "one a 200 ms");
        let later = t0 + Duration::from_secs(60);
        let refilled = (0..100).filter(|_| rate.take(later)).count();
        assert_eq!(refilled, CHECK_BURST as usize, "never more than the burst");
    }

    #[test]
    fn a_success_clears_the_record() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.failed("ann", HERE, now);
        }
        t.succeeded("ann", HERE);
        t.failed("ann", HERE, now);
        assert_eq!(t.locked("ann", HERE, now), None);
    }
}
