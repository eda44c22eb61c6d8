//! The webhook endpoint, `POST /hooks/{instance}`: a store tells the host
//! that something changed, and the instance's job runs a few seconds later
//! ([`crate::service::hooks`] coalesces a burst into one run).
//!
//! It is outside the admin page's guard (a store has no session), so it
//! trusts nothing: a delivery counts only with a valid signature, the
//! base64 of the HMAC-SHA256 of the raw body keyed with the instance's
//! webhook secret (sealed in the host's credentials), compared in constant
//! time. Anything else (an unknown or inactive instance, an instance
//! accepting no webhooks, a missing, malformed or wrong signature, a body
//! over [`MAX_BODY`]) gets 401 with no body, whatever the reason, and
//! triggers nothing. The store's unsigned ping (`webhook_id=N`, sent when a
//! webhook is created) is answered 200 and triggers nothing either. The
//! body is never read beyond its signature: the run reads the store itself.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use plugin_api::{Secret, WebhookSpec};
use sha2::Sha256;

use super::{Page, blocking, log_text};

/// The largest delivery read; a WooCommerce order is a few kilobytes.
pub const MAX_BODY: usize = 1 << 20;

/// What a request to the endpoint is.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Signed with the instance's secret: triggers its job.
    Delivery,
    /// The store's unsigned ping: answered, triggers nothing.
    Ping,
    Refused,
}

/// Judges a request from its signature header's value, its raw body and
/// the instance's secret (`None` while it has none).
pub fn judge(
    spec: &WebhookSpec,
    secret: Option<&Secret>,
    signature: Option<&[u8]>,
    body: &[u8],
) -> Verdict {
    let Some(signature) = signature else {
        return match &spec.ping_field {
            Some(field) if is_ping(field, body) => Verdict::Ping,
            _ => Verdict::Refused,
        };
    };
    match secret {
        Some(secret) if signed_by(secret, body, signature) => Verdict::Delivery,
        _ => Verdict::Refused,
    }
}

/// Whether `signature` is the base64 of the HMAC-SHA256 of `body` under
/// `secret`; the comparison takes the same time wherever they differ.
fn signed_by(secret: &Secret, body: &[u8], signature: &[u8]) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim_ascii())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Whether `body` is exactly `FIELD=DIGITS`.
fn is_ping(field: &str, body: &[u8]) -> bool {
    body.strip_prefix(field.as_bytes())
        .and_then(|rest| rest.strip_prefix(b"="))
        .is_some_and(|id| !id.is_empty() && id.len() <= 20 && id.iter().all(u8::is_ascii_digit))
}

/// The endpoint's route, outside the admin page's guard.
pub fn routes(page: Arc<Page>) -> Router {
    Router::new()
        .route("/hooks/{instance}", post(deliver))
        .with_state(page)
}

async fn deliver(
    State(page): State<Arc<Page>>,
    Path(instance): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> StatusCode {
    let Some(spec) = page.webhooks.spec(&instance) else {
        return refused(&instance);
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refused(&instance);
    };
    let signature = headers
        .get(spec.signature_header.as_str())
        .map(|v| Bytes::copy_from_slice(v.as_bytes()));
    let host = page.host.clone();
    let owner = instance.clone();
    let verdict = blocking(move || {
        let secret = host
            .core
            .db
            .sealed_credential(&owner, &spec.secret_key)
            .ok()
            .flatten()
            .and_then(|sealed| host.core.key.open(&owner, &spec.secret_key, &sealed).ok());
        judge(&spec, secret.as_ref(), signature.as_deref(), &body)
    })
    .await;
    match verdict {
        Ok(Verdict::Delivery) => {
            page.webhooks.delivered(&instance, Instant::now());
            tracing::debug!(plugin = %instance, "webhook delivery accepted");
            StatusCode::OK
        }
        Ok(Verdict::Ping) => {
            tracing::info!(plugin = %instance, "webhook ping answered");
            StatusCode::OK
        }
        Ok(Verdict::Refused) | Err(_) => refused(&instance),
    }
}

fn refused(instance: &str) -> StatusCode {
    tracing::info!(
        plugin = %log_text::untrusted(instance),
        "webhook delivery refused"
    );
    StatusCode::UNAUTHORIZED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> WebhookSpec {
        WebhookSpec::new("import-orders", "webhook_secret", "x-wc-webhook-signature")
            .with_ping_field("webhook_id")
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn only_a_body_signed_with_the_secret_is_a_delivery() {
        let secret = Secret::new("s3cret");
        let body = br#"{"id":42,"status":"processing"}"#;
        let good = sign("s3cret", body);
        let judged = |secret: Option<&Secret>, sig: Option<&str>, body: &[u8]| -> Verdict {
            judge(&spec(), secret, sig.map(str::as_bytes), body)
        };
        assert_eq!(judged(Some(&secret), Some(&good), body), Verdict::Delivery);
        assert_eq!(
            judged(Some(&secret), Some(&sign("other", body)), body),
            Verdict::Refused
        );
        assert_eq!(
            judged(
                Some(&secret),
                Some(&good),
                br#"{"id":43,"status":"processing"}"#
            ),
            Verdict::Refused
        );
        assert_eq!(judged(Some(&secret), None, body), Verdict::Refused);
        assert_eq!(
            judged(Some(&secret), Some("not base64!"), body),
            Verdict::Refused
        );
        assert_eq!(judged(Some(&secret), Some(""), body), Verdict::Refused);
        assert_eq!(judged(None, Some(&good), body), Verdict::Refused);
    }

    #[test]
    fn the_unsigned_ping_is_answered_and_nothing_else_unsigned() {
        let secret = Secret::new("s3cret");
        let judged = |body: &[u8]| judge(&spec(), Some(&secret), None, body);
        assert_eq!(judged(b"webhook_id=17"), Verdict::Ping);
        assert_eq!(judged(b"webhook_id="), Verdict::Refused);
        assert_eq!(judged(b"webhook_id=17&x=1"), Verdict::Refused);
        assert_eq!(judged(b"webhook_idx=17"), Verdict::Refused);
        assert_eq!(judged(br#"{"id":17}"#), Verdict::Refused);
        let no_ping = WebhookSpec::new("import-orders", "webhook_secret", "x-sig");
        assert_eq!(
            judge(&no_ping, Some(&secret), None, b"webhook_id=17"),
            Verdict::Refused
        );
    }
}
