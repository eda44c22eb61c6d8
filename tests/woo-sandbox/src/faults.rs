//! Misbehaviour on demand: latency, 5xx, 429 with Retry-After, dropped
//! connections, truncated or invalid JSON, slow bodies — and, for writes,
//! faults that strike after the write landed (a 5xx instead of the real
//! answer, the answer lost, the answer held back past a client's timeout).
//! Each with a probability, optionally only under a route prefix, for some
//! methods, a limited number of times. Decisions are drawn from a seeded
//! generator so a run is repeatable. One fault is no misbehaviour of the
//! server but of the world: `place_order_before` has a customer place an
//! order (taking stock as WooCommerce does) just before a write is applied,
//! so the write meets a count that moved since the client read it.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::model::ORDER_STATUSES;

fn one() -> i64 {
    1
}

fn processing() -> String {
    "processing".into()
}

/// An order a customer places just before a write is applied (see
/// [`FaultRule::place_order_before`]): `quantity` of `product_id` (or of
/// `variation_id`, a variation of it), created in `status` as a checkout
/// creates it. `processing`, `on-hold` and `completed` take the units from
/// stock, as WooCommerce does when such an order is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    /// The product bought (for a variation: its parent, or 0).
    #[serde(default)]
    pub product_id: u64,
    /// The variation bought, 0 for none.
    #[serde(default)]
    pub variation_id: u64,
    /// Units (default 1).
    #[serde(default = "one")]
    pub quantity: i64,
    /// The new order's status (default `processing`).
    #[serde(default = "processing")]
    pub status: String,
}

impl PlaceOrder {
    /// Refuse an order no checkout could place.
    pub fn check(&self) -> Result<(), String> {
        if self.product_id == 0 && self.variation_id == 0 {
            return Err("place_order_before needs a product_id or a variation_id".into());
        }
        if self.quantity < 1 {
            return Err(format!(
                "place_order_before.quantity must be at least 1, got {}",
                self.quantity
            ));
        }
        if !ORDER_STATUSES.iter().any(|(s, _)| *s == self.status) {
            return Err(format!(
                "place_order_before.status must be an order status, got {:?}",
                self.status
            ));
        }
        Ok(())
    }
}

/// One fault rule. Rates are probabilities in 0..=1. Before the request
/// reaches the store they are drawn in the order: drop, 429, 5xx, truncate,
/// invalid JSON, slow body; a successful write (2xx) that none of those
/// struck then draws: lost response, 5xx after the write, held response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    /// Only requests whose path (or `/wp-json` + `rest_route`) starts with
    /// this; `None` = every REST request.
    pub prefix: Option<String>,
    /// Only requests with one of these methods (`["POST"]`); empty = all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// The rule strikes at most this many times (a strike: a request it
    /// delayed or faulted), counting down; at 0 it is spent and the next
    /// matching rule applies. `None` = no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Added before answering, in milliseconds.
    pub latency_ms: u64,
    /// Rate of 500/502/503 answers instead of handling the request (the
    /// status cycles between them unless `error_status` pins it).
    pub error_rate: f64,
    /// The status of this rule's 5xx answers (500..=599), both kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_status: Option<u16>,
    /// Rate of 429 answers.
    pub rate_limit_rate: f64,
    /// `Retry-After` seconds on 429 answers.
    pub retry_after_secs: u64,
    /// Rate of connections closed without an answer (nothing applied).
    pub drop_rate: f64,
    /// Rate of bodies cut in half.
    pub truncate_rate: f64,
    /// Rate of bodies replaced by invalid JSON.
    pub invalid_json_rate: f64,
    /// Rate of bodies sent slowly.
    pub slow_body_rate: f64,
    /// Delay between the chunks of a slow body, in milliseconds.
    pub slow_body_chunk_delay_ms: u64,
    /// Writes (POST, PUT, PATCH, DELETE) only: rate of successful writes
    /// that are fully applied, then answered 500/502/503 instead of the
    /// real answer.
    pub error_after_write_rate: f64,
    /// Writes only: rate of successful writes that are fully applied, then
    /// the connection is closed without an answer.
    pub lost_response_rate: f64,
    /// Writes only: successful writes are fully applied, then the real
    /// answer is held back this many milliseconds (a client with a shorter
    /// timeout gives up although the write landed).
    pub timeout_after_write_ms: u64,
    /// The rate of `timeout_after_write_ms`; `None` = every successful
    /// write the rule matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_after_write_rate: Option<f64>,
    /// Writes only: just before the request is applied, the store creates
    /// this order (a customer's checkout between the client's read and its
    /// write), so the write meets the reduced stock. Placed for every
    /// matching write the request reaches the store with (not when a drop,
    /// 429 or 5xx of the rule stopped it), whether the write then succeeds
    /// or is refused; each placement is a strike (`times: 1`: once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_order_before: Option<PlaceOrder>,
}

impl FaultRule {
    /// Refuse settings that cannot be honoured.
    pub fn check(&self) -> Result<(), String> {
        if let Some(s) = self.error_status
            && !(500..=599).contains(&s)
        {
            return Err(format!("error_status must be 500..=599, got {s}"));
        }
        let rates = [
            ("error_after_write_rate", Some(self.error_after_write_rate)),
            ("lost_response_rate", Some(self.lost_response_rate)),
            ("timeout_after_write_rate", self.timeout_after_write_rate),
        ];
        for (name, rate) in rates {
            if let Some(r) = rate
                && !(0.0..=1.0).contains(&r)
            {
                return Err(format!("{name} must be within 0..=1, got {r}"));
            }
        }
        self.place_order_before
            .as_ref()
            .map_or(Ok(()), PlaceOrder::check)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times != Some(0)
            && self.prefix.as_deref().is_none_or(|p| path.starts_with(p))
            && (self.methods.is_empty()
                || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
    }

    fn strikes_after_write(&self) -> bool {
        self.error_after_write_rate > 0.0
            || self.lost_response_rate > 0.0
            || self.timeout_after_write_ms > 0
    }

    fn use_once(&mut self) {
        if let Some(t) = &mut self.times {
            *t = t.saturating_sub(1);
        }
    }
}

/// Parse rules as `PUT /__sandbox/faults` and `--faults` take them: one
/// rule object or a list.
pub fn parse_rules(json: &[u8]) -> Result<Vec<FaultRule>, String> {
    let rules = serde_json::from_slice::<Vec<FaultRule>>(json)
        .or_else(|_| serde_json::from_slice::<FaultRule>(json).map(|r| vec![r]))
        .map_err(|e| e.to_string())?;
    for r in &rules {
        r.check()?;
    }
    Ok(rules)
}

/// Whether a method writes (the after-write faults apply only to these).
pub fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// What to do with one request before (or instead of) handling it.
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

/// What to do with the answer to a write that landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterWrite {
    /// Answer this 5xx status instead.
    ServerError(u16),
    /// Close the connection without answering.
    Lost,
    /// Send the answer after this many milliseconds.
    Held(u64),
}

/// Where to ask, once a write succeeded, whether an after-write fault
/// strikes: the rule that matched the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterWriteTicket {
    generation: u64,
    index: usize,
    /// The request already counted as one of the rule's `times`.
    counted: bool,
}

/// The decision for one request before it is handled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// Delay before answering (ms).
    pub latency_ms: u64,
    /// The fault, if any.
    pub fault: Option<Fault>,
    /// For a write whose rule has after-write faults and that no fault
    /// above struck: ask [`Faults::after_write`] once it succeeded.
    pub after_write: Option<AfterWriteTicket>,
    /// For a write that will reach the store: the order to place just
    /// before it is applied.
    pub place_order: Option<PlaceOrder>,
}

#[derive(Debug)]
struct State {
    rules: Vec<FaultRule>,
    rng: u64,
    /// Count of cycled 5xx answers (500, 502, 503, 500, ...).
    errors: u64,
    /// Bumped whenever the rules are replaced (stale tickets are ignored).
    generation: u64,
}

impl State {
    fn cycled_status(&mut self, pinned: Option<u16>) -> u16 {
        pinned.unwrap_or_else(|| {
            let status = [500, 502, 503][(self.errors % 3) as usize];
            self.errors += 1;
            status
        })
    }

    fn roll(&mut self, rate: f64) -> bool {
        rate > 0.0 && next_unit(&mut self.rng) < rate
    }
}

/// The active rules and the generator.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<State>,
}

impl Faults {
    /// Rules in force, drawing from `seed`.
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        Self {
            state: Mutex::new(State {
                rules,
                rng: seed | 1,
                errors: 0,
                generation: 0,
            }),
        }
    }

    /// Replace the rules.
    pub fn set(&self, rules: Vec<FaultRule>) {
        let mut s = self.state.lock().expect("faults lock");
        s.rules = rules;
        s.generation += 1;
    }

    /// The rules in force (`times` counted down as they struck).
    pub fn rules(&self) -> Vec<FaultRule> {
        self.state.lock().expect("faults lock").rules.clone()
    }

    /// Decide for a `method` request to `path`, before it is handled. The
    /// first matching rule that is not spent applies.
    pub fn decide(&self, method: &str, path: &str) -> Decision {
        let mut s = self.state.lock().expect("faults lock");
        let Some(index) = s.rules.iter().position(|r| r.matches(method, path)) else {
            return Decision::default();
        };
        let rule = s.rules[index].clone();
        let fault = if s.roll(rule.drop_rate) {
            Some(Fault::Drop)
        } else if s.roll(rule.rate_limit_rate) {
            Some(Fault::RateLimited(rule.retry_after_secs))
        } else if s.roll(rule.error_rate) {
            Some(Fault::ServerError(s.cycled_status(rule.error_status)))
        } else if s.roll(rule.truncate_rate) {
            Some(Fault::Truncate)
        } else if s.roll(rule.invalid_json_rate) {
            Some(Fault::InvalidJson)
        } else if s.roll(rule.slow_body_rate) {
            Some(Fault::SlowBody(rule.slow_body_chunk_delay_ms.max(1)))
        } else {
            None
        };
        let reaches_store = !matches!(
            fault,
            Some(Fault::Drop | Fault::RateLimited(_) | Fault::ServerError(_))
        );
        let place_order = rule
            .place_order_before
            .clone()
            .filter(|_| reaches_store && is_write(method));
        let counted = rule.latency_ms > 0 || fault.is_some() || place_order.is_some();
        if counted {
            s.rules[index].use_once();
        }
        let after_write = (fault.is_none() && is_write(method) && rule.strikes_after_write())
            .then_some(AfterWriteTicket {
                generation: s.generation,
                index,
                counted,
            });
        Decision {
            latency_ms: rule.latency_ms,
            fault,
            after_write,
            place_order,
        }
    }

    /// Decide, for a write that succeeded, whether an after-write fault of
    /// its rule strikes. `None` when the rules were replaced meanwhile or
    /// the rule is spent.
    pub fn after_write(&self, ticket: AfterWriteTicket) -> Option<AfterWrite> {
        let mut s = self.state.lock().expect("faults lock");
        if s.generation != ticket.generation {
            return None;
        }
        let rule = s.rules.get(ticket.index)?.clone();
        if !ticket.counted && rule.times == Some(0) {
            return None;
        }
        let struck = if s.roll(rule.lost_response_rate) {
            Some(AfterWrite::Lost)
        } else if s.roll(rule.error_after_write_rate) {
            Some(AfterWrite::ServerError(s.cycled_status(rule.error_status)))
        } else if rule.timeout_after_write_ms > 0
            && rule.timeout_after_write_rate.is_none_or(|r| s.roll(r))
        {
            Some(AfterWrite::Held(rule.timeout_after_write_ms))
        } else {
            None
        };
        if struck.is_some() && !ticket.counted {
            s.rules[ticket.index].use_once();
        }
        struck
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
            Faults::new(Vec::new(), 1).decide("GET", "/wp-json/wc/v3/products"),
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
        let d = f.decide("GET", "/wp-json/wc/v3/orders/1");
        assert_eq!((d.latency_ms, d.fault), (5, Some(Fault::ServerError(500))));
        assert_eq!(
            f.decide("GET", "/wp-json/wc/v3/orders").fault,
            Some(Fault::ServerError(502))
        );
        assert_eq!(
            f.decide("GET", "/wp-json/wc/v3/products"),
            Decision::default()
        );
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
                .filter(|_| f.decide("GET", "/x").fault == Some(Fault::RateLimited(3)))
                .count()
        };
        let n = count(42);
        assert!((800..1200).contains(&n), "{n}");
        assert_eq!(n, count(42));
    }

    fn once_502() -> FaultRule {
        FaultRule {
            prefix: Some("/wp-json/wc/v3/orders/176/notes".into()),
            methods: vec!["POST".into()],
            error_after_write_rate: 1.0,
            error_status: Some(502),
            times: Some(1),
            ..Default::default()
        }
    }

    #[test]
    fn after_write_faults_strike_writes_only_and_are_used_up() {
        let f = Faults::new(vec![once_502()], 1);
        let path = "/wp-json/wc/v3/orders/176/notes";
        assert_eq!(f.decide("GET", path), Decision::default(), "not a POST");
        let d = f.decide("POST", path);
        assert_eq!(
            (d.latency_ms, d.fault),
            (0, None),
            "nothing before the write"
        );
        let ticket = d.after_write.expect("a write under the rule");
        assert_eq!(f.after_write(ticket), Some(AfterWrite::ServerError(502)));
        assert_eq!(f.rules()[0].times, Some(0), "spent");
        assert_eq!(f.decide("POST", path), Decision::default());
    }

    #[test]
    fn a_write_that_failed_leaves_the_rule_unused() {
        let f = Faults::new(vec![once_502()], 1);
        let path = "/wp-json/wc/v3/orders/176/notes";
        // The server asks only for writes that succeeded: the first one
        // here was refused, so it never asks; the rule still strikes next.
        let _refused = f.decide("POST", path);
        assert_eq!(f.rules()[0].times, Some(1));
        let ticket = f.decide("POST", path).after_write.unwrap();
        assert_eq!(f.after_write(ticket), Some(AfterWrite::ServerError(502)));
    }

    #[test]
    fn a_spent_rule_lets_the_next_one_apply() {
        let f = Faults::new(
            vec![
                FaultRule {
                    times: Some(2),
                    error_rate: 1.0,
                    error_status: Some(503),
                    ..Default::default()
                },
                FaultRule {
                    rate_limit_rate: 1.0,
                    ..Default::default()
                },
            ],
            1,
        );
        let faults: Vec<_> = (0..3).map(|_| f.decide("GET", "/x").fault).collect();
        assert_eq!(
            faults,
            [
                Some(Fault::ServerError(503)),
                Some(Fault::ServerError(503)),
                Some(Fault::RateLimited(0))
            ]
        );
    }

    #[test]
    fn held_and_lost_answers_and_stale_tickets() {
        let f = Faults::new(
            vec![FaultRule {
                timeout_after_write_ms: 1500,
                ..Default::default()
            }],
            1,
        );
        let ticket = f
            .decide("PUT", "/wp-json/wc/v3/products/11")
            .after_write
            .unwrap();
        assert_eq!(f.after_write(ticket), Some(AfterWrite::Held(1500)));
        f.set(vec![FaultRule {
            lost_response_rate: 1.0,
            ..Default::default()
        }]);
        assert_eq!(f.after_write(ticket), None, "the rules were replaced");
        let ticket = f.decide("DELETE", "/x").after_write.unwrap();
        assert_eq!(f.after_write(ticket), Some(AfterWrite::Lost));
    }

    #[test]
    fn after_write_draws_follow_the_seed() {
        let rule = vec![FaultRule {
            error_after_write_rate: 0.5,
            ..Default::default()
        }];
        let run = |seed| {
            let f = Faults::new(rule.clone(), seed);
            (0..64)
                .map(|_| {
                    let t = f.decide("POST", "/x").after_write.unwrap();
                    f.after_write(t).is_some()
                })
                .collect::<Vec<_>>()
        };
        let a = run(9);
        assert_eq!(a, run(9));
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
        assert_ne!(a, run(10));
    }

    #[test]
    fn an_order_is_placed_before_the_first_matching_write_only() {
        let rules = parse_rules(
            br#"{"prefix": "/wp-json/wc/v3/products/batch", "methods": ["POST"], "times": 1,
                 "place_order_before": {"product_id": 11, "quantity": 2}}"#,
        )
        .unwrap();
        let order = PlaceOrder {
            product_id: 11,
            variation_id: 0,
            quantity: 2,
            status: "processing".into(),
        };
        assert_eq!(rules[0].place_order_before, Some(order.clone()));
        let f = Faults::new(rules, 1);
        let path = "/wp-json/wc/v3/products/batch";
        assert_eq!(f.decide("GET", "/wp-json/wc/v3/products").place_order, None);
        assert_eq!(f.decide("POST", path).place_order, Some(order));
        assert_eq!(f.rules()[0].times, Some(0), "spent");
        assert_eq!(f.decide("POST", path), Decision::default());
    }

    #[test]
    fn no_order_is_placed_for_a_request_a_fault_stopped_or_a_read() {
        let f = Faults::new(
            vec![FaultRule {
                error_rate: 1.0,
                place_order_before: Some(PlaceOrder {
                    product_id: 11,
                    variation_id: 0,
                    quantity: 1,
                    status: "on-hold".into(),
                }),
                ..Default::default()
            }],
            1,
        );
        let d = f.decide("PUT", "/wp-json/wc/v3/products/11");
        assert_eq!(
            (d.fault, d.place_order),
            (Some(Fault::ServerError(500)), None)
        );
        f.set(vec![FaultRule {
            place_order_before: Some(PlaceOrder {
                product_id: 11,
                variation_id: 0,
                quantity: 1,
                status: "on-hold".into(),
            }),
            times: Some(1),
            ..Default::default()
        }]);
        assert_eq!(
            f.decide("GET", "/wp-json/wc/v3/products/11").place_order,
            None
        );
        assert_eq!(f.rules()[0].times, Some(1), "a read is no strike");
    }

    #[test]
    fn placed_orders_are_checked() {
        let bad = |json: &str| parse_rules(json.as_bytes()).unwrap_err();
        assert!(bad(r#"{"place_order_before": {"quantity": 1}}"#).contains("product_id"));
        assert!(
            bad(r#"{"place_order_before": {"product_id": 11, "quantity": 0}}"#)
                .contains("quantity")
        );
        assert!(
            bad(r#"{"place_order_before": {"product_id": 11, "status": "shipped"}}"#)
                .contains("status")
        );
        assert!(bad(r#"{"place_order_before": {"product_id": 11, "sku": "X"}}"#).contains("sku"));
    }

    #[test]
    fn rules_parse_from_one_object_or_a_list_and_are_checked() {
        let one = parse_rules(
            br#"{"prefix": "/wp-json/wc/v3/orders/176/notes", "methods": ["POST"],
                 "error_after_write_rate": 1, "error_status": 502, "times": 1}"#,
        )
        .unwrap();
        assert_eq!(one, vec![once_502()]);
        let list = parse_rules(br#"[{"lost_response_rate": 1}, {"latency_ms": 5}]"#).unwrap();
        assert_eq!(list.len(), 2);
        assert!(parse_rules(br#"{"error_status": 404}"#).is_err());
        assert!(parse_rules(br#"{"lost_response_rate": 2}"#).is_err());
        assert!(parse_rules(br#"{"no_such_field": 1}"#).is_err());
    }
}
