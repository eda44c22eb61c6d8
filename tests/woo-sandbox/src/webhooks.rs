//! Webhooks as WooCommerce keeps and delivers them: the `/wc/v3/webhooks`
//! routes (`WC_REST_Webhooks_Controller`), the ping to a new webhook's
//! address (`WC_Webhook::deliver_ping`: `webhook_id=N`, form-encoded,
//! unsigned), and the deliveries of `order.created` and `order.updated`
//! (`WC_Webhook::deliver`): a POST of the order's JSON with the
//! `X-WC-Webhook-*` headers, signed with the base64 of the HMAC-SHA256 of
//! the body under the webhook's secret, sent in the background (WooCommerce
//! queues them to Action Scheduler), never retried. A delivery answered
//! 200-302 clears the webhook's failure count; any other answer (or none)
//! counts one failure, and the failure after the count passed 5 disables
//! the webhook (`WC_Webhook::failed_delivery`).
//!
//! `/__sandbox/webhooks` shows the webhooks with their secrets and the
//! deliveries made (with their bodies and signatures, so a test can replay
//! one) and switches the fault that drops
//! them (a delivery lost on the way, counted as failed).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::api::{ApiRequest, ApiResponse};
use crate::error::ApiError;
use crate::server::Shared;

/// Failures a webhook may have before the next one disables it.
const MAX_FAILURES: u32 = 5;
/// Deliveries kept for `/__sandbox/webhooks`.
const KEPT_DELIVERIES: usize = 200;
/// How long a delivery waits for its answer (WooCommerce: 60 s).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The topics WooCommerce accepts for orders (others are refused here).
const TOPICS: [&str; 4] = [
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
];

/// One webhook.
#[derive(Clone, Debug)]
struct Webhook {
    id: u64,
    name: String,
    status: String,
    topic: String,
    delivery_url: String,
    secret: String,
    failure_count: u32,
    created: Timestamp,
    modified: Timestamp,
}

/// One delivery made (or dropped).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Delivery {
    pub delivery_id: u64,
    pub webhook_id: u64,
    pub topic: String,
    pub body: String,
    pub signature: String,
    /// The answer's status; 0 for none (refused, dropped, timed out).
    pub response_code: u16,
}

/// The store's webhooks and the deliveries made.
#[derive(Default)]
pub struct Webhooks {
    next_id: u64,
    next_delivery: u64,
    hooks: BTreeMap<u64, Webhook>,
    deliveries: VecDeque<Delivery>,
    drop_deliveries: bool,
}

impl Webhooks {
    /// `/__sandbox/webhooks`: the fault's state and the deliveries kept.
    pub fn control_body(&self) -> Value {
        json!({
            "drop_deliveries": self.drop_deliveries,
            "deliveries": self.deliveries,
            "webhooks": self.hooks.values().map(|h| json!({
                "id": h.id, "status": h.status, "topic": h.topic,
                "delivery_url": h.delivery_url, "failure_count": h.failure_count,
                "secret": h.secret,
            })).collect::<Vec<_>>(),
        })
    }

    /// Switches the fault that drops deliveries.
    pub fn set_drop_deliveries(&mut self, drop: bool) {
        self.drop_deliveries = drop;
    }

    fn render(&self, hook: &Webhook) -> Value {
        let (resource, event) = hook.topic.split_once('.').unwrap_or(("", ""));
        json!({
            "id": hook.id,
            "name": hook.name,
            "status": hook.status,
            "topic": hook.topic,
            "resource": resource,
            "event": event,
            "hooks": [format!("woocommerce_{event}_{resource}")],
            "delivery_url": hook.delivery_url,
            "date_created": wp_date(hook.created),
            "date_created_gmt": wp_date(hook.created),
            "date_modified": wp_date(hook.modified),
            "date_modified_gmt": wp_date(hook.modified),
        })
    }
}

fn wp_date(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A ping to send once the webhook is created.
pub struct Ping {
    url: String,
    webhook_id: u64,
}

fn invalid_id() -> ApiError {
    ApiError::new(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
}

fn answer(status: u16, body: Value) -> ApiResponse {
    ApiResponse {
        status,
        headers: Vec::new(),
        body,
    }
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// Answers a `/wc/v3/webhooks` route; `None` for any other route.
pub fn route(
    shared: &Shared,
    req: &ApiRequest,
) -> Option<Result<(ApiResponse, Option<Ping>), ApiError>> {
    let segs: Vec<&str> = req.route.trim_matches('/').split('/').collect();
    let ["wc", "v3", "webhooks", rest @ ..] = segs.as_slice() else {
        return None;
    };
    let body = match &req.body {
        Some(Ok(v)) => v.clone(),
        Some(Err(())) => {
            return Some(Err(ApiError::new(
                400,
                "rest_invalid_json",
                "Invalid JSON body passed.",
            )));
        }
        None => json!({}),
    };
    let mut hooks = shared.webhooks.lock().expect("webhooks lock");
    let now = req.now;
    let id = rest.first().and_then(|s| s.parse::<u64>().ok());
    Some(match (req.method.as_str(), rest, id) {
        ("GET", [], _) => {
            let status = req.params.scalar("status").unwrap_or("all");
            let listed: Vec<Value> = hooks
                .hooks
                .values()
                .filter(|h| status == "all" || h.status == status)
                .map(|h| hooks.render(h))
                .collect();
            let per_page: usize = req
                .params
                .scalar("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(10)
                .clamp(1, 100);
            let page: usize = req
                .params
                .scalar("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            let total = listed.len();
            let pages = total.div_ceil(per_page);
            let slice: Vec<Value> = listed
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            let mut resp = answer(200, Value::Array(slice));
            resp.headers = vec![
                ("X-WP-Total", total.to_string()),
                ("X-WP-TotalPages", pages.to_string()),
            ];
            Ok((with_fields(req, resp), None))
        }
        ("POST", [], _) => {
            let Some(topic) = text(&body, "topic").filter(|t| TOPICS.contains(t)) else {
                return Some(Err(ApiError::new(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): topic",
                )));
            };
            let Some(url) = text(&body, "delivery_url").filter(|u| !u.is_empty()) else {
                return Some(Err(ApiError::new(
                    400,
                    "rest_missing_callback_param",
                    "Missing parameter(s): delivery_url",
                )));
            };
            hooks.next_id += 1;
            let hook = Webhook {
                id: hooks.next_id,
                name: text(&body, "name")
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("Webhook created on {}", wp_date(now))),
                status: text(&body, "status").unwrap_or("active").to_owned(),
                topic: topic.to_owned(),
                delivery_url: url.to_owned(),
                secret: text(&body, "secret")
                    .unwrap_or("sandbox-default")
                    .to_owned(),
                failure_count: 0,
                created: now,
                modified: now,
            };
            let ping = Ping {
                url: hook.delivery_url.clone(),
                webhook_id: hook.id,
            };
            let rendered = hooks.render(&hook);
            hooks.hooks.insert(hook.id, hook);
            Ok((answer(201, rendered), Some(ping)))
        }
        ("GET", [_], Some(id)) => match hooks.hooks.get(&id) {
            Some(h) => Ok((with_fields(req, answer(200, hooks.render(h))), None)),
            None => Err(invalid_id()),
        },
        ("PUT" | "PATCH" | "POST", [_], Some(id)) => {
            let Some(hook) = hooks.hooks.get_mut(&id) else {
                return Some(Err(invalid_id()));
            };
            for (key, field) in [
                ("name", &mut hook.name),
                ("delivery_url", &mut hook.delivery_url),
                ("secret", &mut hook.secret),
            ] {
                if let Some(v) = text(&body, key) {
                    *field = v.to_owned();
                }
            }
            if let Some(status) = text(&body, "status") {
                if status == "active" {
                    hook.failure_count = 0;
                }
                hook.status = status.to_owned();
            }
            hook.modified = now;
            let hook = hook.clone();
            Ok((answer(200, hooks.render(&hook)), None))
        }
        ("DELETE", [_], Some(id)) => {
            if req.params.scalar("force") != Some("true") {
                return Some(Err(ApiError::new(
                    501,
                    "woocommerce_rest_trash_not_supported",
                    "Webhooks do not support trashing.",
                )));
            }
            match hooks.hooks.remove(&id) {
                Some(h) => Ok((answer(200, hooks.render(&h)), None)),
                None => Err(invalid_id()),
            }
        }
        _ => Err(ApiError::no_route()),
    })
}

fn with_fields(req: &ApiRequest, mut resp: ApiResponse) -> ApiResponse {
    if let Some(fields) = req.params.list("_fields").filter(|f| !f.is_empty()) {
        resp.body = crate::render::filter_fields(resp.body, &fields);
    }
    resp
}

/// The topic an answered order request fires, with the order's JSON:
/// `order.created` for a new order, `order.updated` for a change.
pub fn order_event(req: &ApiRequest, resp: &ApiResponse) -> Option<(&'static str, Value)> {
    if resp.status >= 300 || !resp.body.is_object() {
        return None;
    }
    let segs: Vec<&str> = req.route.trim_matches('/').split('/').collect();
    let topic = match (req.method.as_str(), segs.as_slice()) {
        ("POST", ["wc", "v3", "orders"]) => "order.created",
        ("PUT" | "PATCH" | "POST", ["wc", "v3", "orders", id]) if id.parse::<u64>().is_ok() => {
            "order.updated"
        }
        _ => return None,
    };
    Some((topic, resp.body.clone()))
}

/// `base64(HMAC-SHA256(body, secret))`, WooCommerce's
/// `WC_Webhook::generate_signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// POSTs `body` to `url` with `headers`; the answer's status, 0 for none.
async fn post(url: &str, headers: &[(&str, String)], content_type: &str, body: Vec<u8>) -> u16 {
    let mut request = hyper::Request::post(url).header("Content-Type", content_type);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let Ok(request) = request.body(Full::new(bytes::Bytes::from(body))) else {
        return 0;
    };
    match tokio::time::timeout(DELIVERY_TIMEOUT, client().request(request)).await {
        Ok(Ok(response)) => response.status().as_u16(),
        _ => 0,
    }
}

/// Sends the ping to a new webhook's address, as `create_item` does before
/// it answers (the outcome does not change the answer).
pub async fn ping(ping: Ping) {
    let body = format!("webhook_id={}", ping.webhook_id).into_bytes();
    let code = post(
        &ping.url,
        &[("User-Agent", user_agent())],
        "application/x-www-form-urlencoded",
        body,
    )
    .await;
    tracing::debug!(webhook = ping.webhook_id, code, "webhook ping");
}

fn user_agent() -> String {
    "WooCommerce/10.0.2 Hookshot (WordPress/6.8.2)".into()
}

/// Queues a delivery of `order` to every active webhook of `topic`, each
/// sent on its own task.
pub fn deliver(shared: &Arc<Shared>, topic: &str, order: &Value) {
    let body = order.to_string();
    let mut hooks = shared.webhooks.lock().expect("webhooks lock");
    let targets: Vec<Webhook> = hooks
        .hooks
        .values()
        .filter(|h| h.status == "active" && h.topic == topic)
        .cloned()
        .collect();
    for hook in targets {
        hooks.next_delivery += 1;
        let delivery = Delivery {
            delivery_id: hooks.next_delivery,
            webhook_id: hook.id,
            topic: topic.to_owned(),
            signature: signature(&hook.secret, body.as_bytes()),
            body: body.clone(),
            response_code: 0,
        };
        let dropped = hooks.drop_deliveries;
        let shared = shared.clone();
        let source = format!("{}/", shared.site.home);
        tokio::spawn(async move {
            let code = if dropped {
                0
            } else {
                let (resource, event) = topic_parts(&delivery.topic);
                let headers = [
                    ("User-Agent", user_agent()),
                    ("X-WC-Webhook-Source", source),
                    ("X-WC-Webhook-Topic", delivery.topic.clone()),
                    ("X-WC-Webhook-Resource", resource),
                    ("X-WC-Webhook-Event", event),
                    ("X-WC-Webhook-Signature", delivery.signature.clone()),
                    ("X-WC-Webhook-ID", delivery.webhook_id.to_string()),
                    ("X-WC-Webhook-Delivery-ID", delivery.delivery_id.to_string()),
                ];
                post(
                    &hook.delivery_url,
                    &headers,
                    "application/json",
                    delivery.body.clone().into_bytes(),
                )
                .await
            };
            record(
                &shared,
                Delivery {
                    response_code: code,
                    ..delivery
                },
            );
        });
    }
}

fn topic_parts(topic: &str) -> (String, String) {
    let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
    (resource.to_owned(), event.to_owned())
}

/// Keeps a delivery's outcome and counts it for its webhook.
fn record(shared: &Shared, delivery: Delivery) {
    let mut hooks = shared.webhooks.lock().expect("webhooks lock");
    if let Some(hook) = hooks.hooks.get_mut(&delivery.webhook_id) {
        if (200..=302).contains(&delivery.response_code) {
            hook.failure_count = 0;
        } else if hook.failure_count > MAX_FAILURES {
            hook.status = "disabled".into();
        } else {
            hook.failure_count += 1;
        }
    }
    hooks.deliveries.push_back(delivery);
    if hooks.deliveries.len() > KEPT_DELIVERIES {
        hooks.deliveries.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_base64_of_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            base64::engine::general_purpose::STANDARD.encode([
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
                0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
                0x64, 0xec, 0x38, 0x43
            ])
        );
    }
}
