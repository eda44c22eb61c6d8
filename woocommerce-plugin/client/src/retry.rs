//! When to try a failed request again, and how long to wait first.
//!
//! Pure decisions: the caller says what went wrong, how many attempts were
//! made, whether the call may safely be repeated, and supplies the jitter.

use std::time::Duration;

use jiff::Timestamp;

/// Retry limits (a setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// The wait before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// The longest backoff wait.
    pub max_delay: Duration,
    /// The longest `Retry-After` the client will honour; a store asking for
    /// a longer pause gets an error instead of a stalled job.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection could be made: the request never reached the store.
    Connect,
    /// The store did not answer in time.
    Timeout,
    /// The connection broke before the whole answer arrived.
    Dropped,
    /// A success status with a body that is not JSON (cut short by a proxy,
    /// or PHP output mixed into it).
    MalformedBody,
    /// The store answered with this HTTP status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// Anything else (a bad certificate, a malformed URL, ...).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// Decides after `attempts_made` attempts (1 after the first failure).
    ///
    /// A request that may have reached the store (timeout, dropped
    /// connection, 502, 503, 504, a garbled body) is repeated only if
    /// `idempotent`: a proxy answers 503 as readily after WordPress saved a
    /// note as before. Connect errors and 429 (a rate limit, decided before
    /// the request is handled) mean the store did not act on it. A 4xx other
    /// than 429 says the request itself is wrong and is never repeated.
    /// `jitter` is a random number in `[0, 1)`.
    pub fn decide(
        &self,
        attempts_made: u32,
        failure: &Failure,
        idempotent: bool,
        jitter: f64,
    ) -> Decision {
        if attempts_made >= self.max_attempts {
            return Decision::GiveUp;
        }
        let retryable = match failure {
            Failure::Connect => true,
            Failure::Timeout | Failure::Dropped | Failure::MalformedBody => idempotent,
            Failure::Status { status, .. } => match status {
                429 => true,
                502..=504 => idempotent,
                _ => false,
            },
            Failure::Other => false,
        };
        if !retryable {
            return Decision::GiveUp;
        }
        let backoff = self.backoff(attempts_made, jitter);
        match failure {
            Failure::Status {
                retry_after: Some(asked),
                ..
            } => {
                if *asked > self.max_retry_after {
                    Decision::GiveUp
                } else {
                    Decision::RetryAfter(backoff.max(*asked))
                }
            }
            _ => Decision::RetryAfter(backoff),
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    pub fn backoff(&self, attempts_made: u32, jitter: f64) -> Duration {
        let exponent = attempts_made.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Reads a `Retry-After` header: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = when.as_second() - now.as_second();
    Some(Duration::from_secs(wait.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
        }
    }

    fn status(status: u16) -> Failure {
        Failure::Status {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn transient_failures_are_retried() {
        for failure in [
            Failure::Connect,
            Failure::Timeout,
            Failure::Dropped,
            status(429),
            status(502),
            status(503),
            status(504),
        ] {
            assert!(
                matches!(
                    policy().decide(1, &failure, true, 0.0),
                    Decision::RetryAfter(_)
                ),
                "{failure:?}"
            );
        }
    }

    #[test]
    fn requests_that_are_wrong_are_never_retried() {
        for code in [400, 401, 403, 404, 409, 413, 500, 501] {
            assert_eq!(
                policy().decide(1, &status(code), true, 0.5),
                Decision::GiveUp,
                "{code}"
            );
        }
        assert_eq!(
            policy().decide(1, &Failure::Other, true, 0.5),
            Decision::GiveUp
        );
    }

    #[test]
    fn a_call_that_may_have_been_applied_is_repeated_only_if_idempotent() {
        for failure in [
            Failure::Timeout,
            Failure::Dropped,
            Failure::MalformedBody,
            status(502),
            status(503),
            status(504),
        ] {
            assert_eq!(
                policy().decide(1, &failure, false, 0.5),
                Decision::GiveUp,
                "{failure:?}"
            );
        }
        for failure in [Failure::Connect, status(429)] {
            assert!(matches!(
                policy().decide(1, &failure, false, 0.5),
                Decision::RetryAfter(_)
            ));
        }
    }

    #[test]
    fn attempts_are_limited() {
        assert!(matches!(
            policy().decide(3, &Failure::Connect, true, 0.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            policy().decide(4, &Failure::Connect, true, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = policy();
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(1));
        let a = p.backoff(2, 0.1);
        let b = p.backoff(2, 0.9);
        assert!(a < b);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_limit() {
        let asked = Failure::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            policy().decide(1, &asked, true, 0.0),
            Decision::RetryAfter(Duration::from_secs(7))
        );
        let too_long = Failure::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(policy().decide(1, &too_long, true, 0.0), Decision::GiveUp);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: Timestamp = "2026-11-26T14:35:31Z".parse().unwrap();
        assert_eq!(parse_retry_after("12", now), Some(Duration::from_secs(12)));
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 14:35:41 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 14:35:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
