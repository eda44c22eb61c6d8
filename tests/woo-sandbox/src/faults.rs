//! Misbehaviour on demand: latency, 5xx, 429 with Retry-After, dropped
//! connections, truncated or invalid JSON, slow bodies — each with a
//! probability, optionally only under a route prefix. Decisions are drawn
//! from a seeded generator so a run is repeatable.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One fault rule. Rates are probabilities in 0..=1 drawn per request in
/// the order: drop, 429, 5xx, truncate, invalid JSON, slow body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    /// Only requests whose path (or `/wp-json` + `rest_route`) starts with
    /// this; `None` = every REST request.
    pub prefix: Option<String>,
    /// Added before answering, in milliseconds.
    pub latency_ms: u64,
    /// Rate of 500/502/503 answers (the status cycles between them).
    pub error_rate: f64,
    /// Rate of 429 answers.
    pub rate_limit_rate: f64,
    /// `Retry-After` seconds on 429 answers.
    pub retry_after_secs: u64,
    /// Rate of connections closed without an answer.
    pub drop_rate: f64,
    /// Rate of bodies cut in half.
    pub truncate_rate: f64,
    /// Rate of bodies replaced by invalid JSON.
    pub invalid_json_rate: f64,
    /// Rate of bodies sent slowly.
    pub slow_body_rate: f64,
    /// Delay between the chunks of a slow body, in milliseconds.
    pub slow_body_chunk_delay_ms: u64,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without answering.
    Drop,
    /// Answer 429 with this `Retry-After`.
    RateLimited(u64),
    /// Answer this 5xx status.
    ServerError(u16),
    /// Send half the body.
    Truncate,
    /// Send a body that is not JSON.
    InvalidJson,
    /// Send the body in small chunks with this delay between them (ms).
    SlowBody(u64),
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    /// Delay before answering (ms).
    pub latency_ms: u64,
    /// The fault, if any.
    pub fault: Option<Fault>,
}

/// The active rules and the generator.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<(Vec<FaultRule>, u64, u64)>,
}

impl Faults {
    /// Rules in force, drawing from `seed`.
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        Self {
            state: Mutex::new((rules, seed | 1, 0)),
        }
    }

    /// Replace the rules.
    pub fn set(&self, rules: Vec<FaultRule>) {
        self.state.lock().expect("faults lock").0 = rules;
    }

    /// The rules in force.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.state.lock().expect("faults lock").0.clone()
    }

    /// Decide for a request to `path`. The first matching rule applies.
    pub fn decide(&self, path: &str) -> Decision {
        let mut guard = self.state.lock().expect("faults lock");
        let (rules, rng, errors) = &mut *guard;
        let Some(rule) = rules
            .iter()
            .find(|r| r.prefix.as_deref().is_none_or(|p| path.starts_with(p)))
            .cloned()
        else {
            return Decision::default();
        };
        let mut roll = |rate: f64| rate > 0.0 && next_unit(rng) < rate;
        let fault = if roll(rule.drop_rate) {
            Some(Fault::Drop)
        } else if roll(rule.rate_limit_rate) {
            Some(Fault::RateLimited(rule.retry_after_secs))
        } else if roll(rule.error_rate) {
            let status = [500, 502, 503][(*errors % 3) as usize];
            *errors += 1;
            Some(Fault::ServerError(status))
        } else if roll(rule.truncate_rate) {
            Some(Fault::Truncate)
        } else if roll(rule.invalid_json_rate) {
            Some(Fault::InvalidJson)
        } else if roll(rule.slow_body_rate) {
            Some(Fault::SlowBody(rule.slow_body_chunk_delay_ms.max(1)))
        } else {
            None
        };
        Decision {
            latency_ms: rule.latency_ms,
            fault,
        }
    }
}

/// xorshift64* mapped to [0, 1).
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rules_no_faults() {
        assert_eq!(
            Faults::new(Vec::new(), 1).decide("/wp-json/wc/v3/products"),
            Decision::default()
        );
    }

    #[test]
    fn certain_faults_apply_under_their_prefix_only() {
        let f = Faults::new(
            vec![FaultRule {
                prefix: Some("/wp-json/wc/v3/orders".into()),
                error_rate: 1.0,
                latency_ms: 5,
                ..Default::default()
            }],
            7,
        );
        let d = f.decide("/wp-json/wc/v3/orders/1");
        assert_eq!(
            d,
            Decision {
                latency_ms: 5,
                fault: Some(Fault::ServerError(500))
            }
        );
        assert_eq!(
            f.decide("/wp-json/wc/v3/orders").fault,
            Some(Fault::ServerError(502))
        );
        assert_eq!(f.decide("/wp-json/wc/v3/products"), Decision::default());
    }

    #[test]
    fn rates_are_roughly_honoured_and_repeatable() {
        let rule = vec![FaultRule {
            rate_limit_rate: 0.25,
            retry_after_secs: 3,
            ..Default::default()
        }];
        let count = |seed| {
            let f = Faults::new(rule.clone(), seed);
            (0..4000)
                .filter(|_| f.decide("/x").fault == Some(Fault::RateLimited(3)))
                .count()
        };
        let n = count(42);
        assert!((800..1200).contains(&n), "{n}");
        assert_eq!(n, count(42));
    }
}
