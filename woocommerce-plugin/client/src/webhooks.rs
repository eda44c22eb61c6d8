//! The store's webhooks (`/wc/v3/webhooks`): listing, creating, re-enabling
//! and deleting them. A webhook's secret is write-only in WooCommerce (no
//! answer carries it) and here it is a [`ConsumerSecret`], which never
//! prints.

use serde::Deserialize;
use serde_json::json;

use crate::client::{WooClient, decode_body};
use crate::error::Error;
use crate::listing::{Collection, Listing, as_is, list};
use crate::paging::Scope;
use crate::request::Call;
use crate::secret::ConsumerSecret;

/// A webhook as the store lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Webhook {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    /// `active`, `paused` or `disabled` (the store disabled it after
    /// failed deliveries).
    #[serde(default)]
    pub status: String,
    /// e.g. `order.created`.
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub delivery_url: String,
}

impl Webhook {
    const FIELDS: &'static str = "id,name,status,topic,delivery_url";
}

/// A webhook to create: deliveries of `topic` to `delivery_url`, signed
/// with `secret`.
pub struct NewWebhook<'a> {
    pub name: &'a str,
    pub topic: &'a str,
    pub delivery_url: &'a str,
    pub secret: &'a ConsumerSecret,
}

impl WooClient {
    /// Every webhook of the store, whatever its status.
    pub async fn list_webhooks(&self) -> Result<Listing<Webhook>, Error> {
        list(
            self.transport(),
            Collection {
                route: "/wc/v3/webhooks".into(),
                filters: vec![("status".into(), "all".into())],
                fields: Webhook::FIELDS,
                scope: Scope::Full,
            },
            as_is(),
        )
        .await
    }

    /// Creates an active webhook; the store pings its address first. Not
    /// repeated after an ambiguous failure (it would exist twice): list the
    /// webhooks to find it.
    pub async fn create_webhook(&self, webhook: &NewWebhook<'_>) -> Result<Webhook, Error> {
        let body = json!({
            "name": webhook.name,
            "topic": webhook.topic,
            "delivery_url": webhook.delivery_url,
            "secret": webhook.secret.expose(),
            "status": "active",
        });
        let call = Call::post("/wc/v3/webhooks", body, false);
        let answer = self.send(&call).await?;
        decode_body(&call, answer)
    }

    /// Makes a webhook deliver to `delivery_url`, signed with `secret`, and
    /// sets it `active` (which re-enables one the store disabled after
    /// failed deliveries and clears its failure count); safe to repeat.
    pub async fn set_webhook_active(
        &self,
        id: u64,
        delivery_url: &str,
        secret: &ConsumerSecret,
    ) -> Result<Webhook, Error> {
        let body = json!({
            "status": "active",
            "delivery_url": delivery_url,
            "secret": secret.expose(),
        });
        let call = Call::put(format!("/wc/v3/webhooks/{id}"), body);
        let answer = self.send(&call).await?;
        decode_body(&call, answer)
    }

    /// Deletes a webhook for good. One already gone counts as deleted.
    pub async fn delete_webhook(&self, id: u64) -> Result<(), Error> {
        let call = Call::delete(
            format!("/wc/v3/webhooks/{id}"),
            vec![("force".into(), "true".into())],
        );
        match self.send(&call).await {
            Ok(_) => Ok(()),
            Err(Error::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
