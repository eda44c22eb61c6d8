//! The login throttle, a pure rule over (user, address) and the time given:
//! after [`FREE_FAILURES`] failed logins in a row, each further attempt is
//! refused without checking the password until a lockout has passed, and
//! each failure after a lockout doubles it (30 s, 60 s, ... at most 15 min).
//! A success clears the record. No clock, no I/O.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failed logins allowed in a row before the first lockout.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
const LONGEST_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Records older than this (and not locked) are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

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
        let record = self.records.entry(key(user, addr)).or_insert(Record {
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

/// User names are matched without case, as a login may be typed either way.
fn key(user: &str, addr: IpAddr) -> (String, IpAddr) {
    (user.trim().to_lowercase(), addr)
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
