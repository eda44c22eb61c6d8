//! Orders through webhooks: with `webhook_url` set, the store calls the
//! host at every order created or updated, and the host runs
//! `import-orders` seconds later instead of at the next Sync Interval.
//! Polling goes on as before: a lost delivery costs only time.
//!
//! At activation the plugin makes sure it has a signing secret (generated
//! once, sealed by the host like any credential: the `webhook_secret`
//! setting). The host then asks which webhooks the plugin accepts
//! ([`Registration::spec`]); only the copy the service runs is asked, so a
//! run from the command line never registers or removes anything. That
//! copy checks the store's webhooks at the start of every `import-orders`
//! run ([`Registration::check`], planned by [`crate::mapping::webhooks`]):
//! it creates the missing ones, reuses its own (their ids are kept in the
//! plugin state, and found again by name and address after a crash), and
//! reports one the store disabled after failed deliveries, enabling it
//! again: the host is evidently up, polling covered the gap, and a store
//! that still cannot reach the address will disable it again and the
//! report will say so again. Deactivation (by the admin, for changed
//! settings, or when the service stops) removes them, so a store never
//! delivers to a host that is not listening.

use std::sync::Mutex;
use std::time::Duration;

use plugin_api::{Context, JobReport, PluginError, Secret, Settings, WebhookSpec};
use woo_client::{ConsumerSecret, NewWebhook};

use crate::manifest::IMPORT_ORDERS;
use crate::mapping::webhooks::{name, plan};
use crate::store::StoreConnection;

/// The setting with the address the store delivers to; empty: no webhooks.
pub const URL_SETTING: &str = "webhook_url";
/// The secret setting the deliveries are signed with.
pub const SECRET_SETTING: &str = "webhook_secret";
/// WooCommerce's signature header.
pub const SIGNATURE_HEADER: &str = "X-WC-Webhook-Signature";
/// The form field of WooCommerce's ping when a webhook is created.
pub const PING_FIELD: &str = "webhook_id";
/// The plugin state key of the registered webhooks.
pub const STATE_KEY: &str = "webhooks";
/// How long deactivation waits for the store to remove them.
const REMOVAL_DEADLINE: Duration = Duration::from_secs(5);

/// What the plugin state keeps of the registered webhooks.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Stored {
    ids: Vec<u64>,
}

#[derive(Default)]
struct Active {
    /// The address deliveries go to; `None`: webhooks are off.
    url: Option<String>,
    /// The host asked for the spec: this copy receives the deliveries.
    serving: bool,
    /// A check ran since the activation.
    checked: bool,
    /// The webhooks this copy keeps registered.
    ids: Vec<u64>,
}

/// The webhooks of one activation of the plugin.
#[derive(Default)]
pub struct Registration(Mutex<Active>);

impl Registration {
    fn active(&self) -> std::sync::MutexGuard<'_, Active> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts an activation: reads the address and, with one set, makes
    /// sure a signing secret is stored.
    pub fn activate(&self, settings: &Settings, ctx: &Context) -> Result<(), PluginError> {
        let url = settings
            .text(URL_SETTING)
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
        if url.is_some() && ctx.credential(SECRET_SETTING)?.is_none() {
            ctx.put_credential(SECRET_SETTING, &generate_secret())?;
        }
        *self.active() = Active {
            url,
            ..Active::default()
        };
        Ok(())
    }

    /// The webhooks accepted, as the host asks after the activation.
    pub fn spec(&self) -> Option<WebhookSpec> {
        let mut active = self.active();
        active.serving = true;
        active.url.as_ref().map(|_| {
            WebhookSpec::new(IMPORT_ORDERS, SECRET_SETTING, SIGNATURE_HEADER)
                .with_ping_field(PING_FIELD)
        })
    }

    /// Brings the store's webhooks in line (see the module's doc); what
    /// needs the admin's eye goes into `report`. Only in the copy the
    /// service runs.
    pub fn check(
        &self,
        ctx: &Context,
        store: &StoreConnection,
        report: &mut JobReport,
    ) -> Result<(), PluginError> {
        let (url, first_check) = {
            let active = self.active();
            if !active.serving {
                return Ok(());
            }
            (active.url.clone(), !active.checked)
        };
        let stored: Stored = ctx.state(STATE_KEY)?.unwrap_or_default();
        let Some(url) = url else {
            // Turned off: what an earlier activation left goes.
            if !stored.ids.is_empty() {
                store
                    .read(ctx, "webhooks", delete_all(store, &stored.ids))
                    .map_err(PluginError::other)?;
                ctx.remove_state(STATE_KEY)?;
            }
            return Ok(());
        };
        let secret = ctx
            .credential(SECRET_SETTING)?
            .map(|s| ConsumerSecret::new(s.expose()))
            .ok_or_else(|| {
                PluginError::other("the webhook secret is missing; activate the plugin again")
            })?;
        let listed = store
            .read(ctx, "webhooks", store.client.list_webhooks())
            .map_err(PluginError::other)?;
        let plan = plan(&listed.records, &url, &stored.ids, first_check);
        for webhook in &plan.disabled {
            tracing::warn!(id = webhook.id, topic = %webhook.topic, "the store had disabled a webhook");
            report.skip(
                format!("webhook {} ({})", webhook.id, webhook.topic),
                format!(
                    "the store disabled it after failed deliveries to {url}; enabled it again (orders were still read every Sync Interval). If this comes back, check that the store can reach that address"
                ),
            );
        }
        let client = &store.client;
        let created = store.read(ctx, "webhooks", async {
            delete_all(store, &plan.delete).await?;
            for id in &plan.refresh {
                client.set_webhook_active(*id, &url, &secret).await?;
            }
            let mut created = Vec::new();
            for topic in &plan.create {
                let webhook = NewWebhook {
                    name: &name(topic),
                    topic,
                    delivery_url: &url,
                    secret: &secret,
                };
                created.push(client.create_webhook(&webhook).await?.id);
            }
            Ok::<_, woo_client::Error>(created)
        });
        let mut ids: Vec<u64> = plan.kept.iter().map(|(_, id)| *id).collect();
        let result = created.map(|created| ids.extend(created));
        // What exists is kept even when a later write failed.
        ctx.put_state(STATE_KEY, &Stored { ids: ids.clone() })?;
        let mut active = self.active();
        active.ids = ids;
        active.checked = result.is_ok();
        result.map_err(|e| PluginError::other(format!("the store's webhooks: {e}")))
    }

    /// Removes the webhooks this copy registered (deactivation).
    pub fn remove(&self, store: &StoreConnection) {
        let ids = std::mem::take(&mut self.active().ids);
        if ids.is_empty() {
            return;
        }
        let removal = store.runtime.block_on(async {
            tokio::time::timeout(REMOVAL_DEADLINE, delete_all(store, &ids)).await
        });
        match removal {
            Ok(Ok(())) => tracing::info!(webhooks = ids.len(), "removed the store's webhooks"),
            Ok(Err(e)) => tracing::warn!("could not remove the store's webhooks: {e}"),
            Err(_) => tracing::warn!("the store did not remove its webhooks in time"),
        }
    }
}

async fn delete_all(store: &StoreConnection, ids: &[u64]) -> Result<(), woo_client::Error> {
    for id in ids {
        store.client.delete_webhook(*id).await?;
    }
    Ok(())
}

/// 32 random bytes as hex: only characters WooCommerce keeps as they are.
fn generate_secret() -> Secret {
    let bytes: [u8; 32] = rand::random();
    Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}
