//! What a plugin tells the host about the webhooks it accepts (API 1.4).
//!
//! A store that can call the host when something changes (an order placed)
//! saves a run's wait for the next Sync Interval. The host serves one
//! endpoint per plugin instance, `POST /hooks/{instance}`; the plugin says,
//! after each activation, whether it wants deliveries there
//! ([`crate::Plugin::webhooks`]), which of its secret settings verifies
//! them and which job a delivery triggers. The host checks each delivery's
//! signature and runs the job a few seconds after a burst of deliveries
//! ends, once for the whole burst; the plugin never sees a delivery's body.
//! So a delivery is only a trigger: the job reads what changed from the
//! store as it always does, and a forged or replayed body cannot inject
//! data.

use serde::{Deserialize, Serialize};

/// The webhooks a plugin instance accepts while it is active.
///
/// A delivery is accepted when its `signature_header` holds the base64 of
/// the HMAC-SHA256 of the raw body keyed with the secret setting
/// `secret_key` (WooCommerce's `X-WC-Webhook-Signature`; Shopify's
/// `X-Shopify-Hmac-Sha256` is the same scheme). Everything else is refused
/// with 401, except a store's unsigned ping when `ping_field` is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookSpec {
    /// The job a delivery triggers (one of the manifest's jobs).
    pub job: String,
    /// The secret setting holding the signing secret (a
    /// [`crate::FieldKind::Secret`] field of the manifest); the plugin may
    /// generate it and store it with [`crate::Context::put_credential`].
    pub secret_key: String,
    /// The request header carrying the signature.
    pub signature_header: String,
    /// An unsigned form body `FIELD=DIGITS` and nothing else is the store's
    /// check that the address answers (WooCommerce's `webhook_id=N` when a
    /// webhook is created): it is answered 200 and triggers nothing.
    #[serde(default)]
    pub ping_field: Option<String>,
}

impl WebhookSpec {
    /// Deliveries signed in `signature_header` with the secret setting
    /// `secret_key` trigger `job`.
    pub fn new(job: &str, secret_key: &str, signature_header: &str) -> Self {
        Self {
            job: job.into(),
            secret_key: secret_key.into(),
            signature_header: signature_header.into(),
            ping_field: None,
        }
    }

    /// Answers the store's unsigned ping `FIELD=DIGITS` with 200.
    pub fn with_ping_field(mut self, field: &str) -> Self {
        self.ping_field = Some(field.into());
        self
    }
}
