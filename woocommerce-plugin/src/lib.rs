//! IntelliTrack for WooCommerce: the plugin that keeps IntelliTrack and a
//! WooCommerce store in step.
//!
//! This crate is the plugin: its manifest ([`manifest`]), its settings rules
//! ([`settings`]) and its jobs ([`jobs`]), exported to the host through
//! `plugin-api`. The WooCommerce REST client lives in the `woo-client` crate
//! beside it. The ABI glue is the one `export_plugin!` line below; everything
//! else is ordinary safe Rust.
//!
//! What it must not do: talk SQL (the host's DB handle is the only way to
//! IntelliTrack data), keep secrets anywhere but the host's credential store,
//! or block the host: long work checks cancellation between batches.

pub mod jobs;
pub mod manifest;
pub mod mapping;
pub mod settings;
pub mod store;
#[cfg(test)]
mod tests;
pub mod webhooks;

use std::sync::{Arc, Mutex};

use plugin_api::{
    Context, FeedWake, FieldError, JobReport, Manifest, Plugin, PluginError, Settings, WebhookSpec,
};

/// The plugin object the host holds.
#[derive(Default)]
pub struct WooCommercePlugin {
    /// The store connection while active, shared with running jobs.
    store: Mutex<Option<Arc<store::StoreConnection>>>,
    /// The store's webhooks for orders, while active.
    webhooks: webhooks::Registration,
    /// The change-feed events that wake a job, by the settings activated.
    feed_wakes: Mutex<Vec<FeedWake>>,
}

impl Plugin for WooCommercePlugin {
    fn manifest(&self) -> Manifest {
        manifest::manifest()
    }

    fn activate(&self, ctx: &Context) -> Result<(), PluginError> {
        let settings = ctx.settings()?;
        let errors = settings::check(&settings);
        if !errors.is_empty() {
            return Err(PluginError::Settings(errors));
        }
        let connection = store::StoreConnection::open(&settings, ctx)?;
        self.webhooks.activate(&settings, ctx)?;
        *self.feed_wakes.lock().unwrap_or_else(|p| p.into_inner()) = jobs::feed_wakes(&settings);
        *self.store.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(connection));
        Ok(())
    }

    fn deactivate(&self) {
        let connection = self.store.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(connection) = &connection {
            self.webhooks.remove(connection);
        }
        // A job still holding the connection drops it (and its runtime)
        // when it returns.
        if let Some(connection) = connection.and_then(|c| Arc::try_unwrap(c).ok()) {
            connection
                .runtime
                .shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }

    fn run_job(&self, job: &str, ctx: &Context) -> Result<JobReport, PluginError> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| PluginError::other("the plugin is not active"))?;
        store.run_job(|store| {
            if job != manifest::IMPORT_ORDERS {
                return jobs::run(job, ctx, store);
            }
            let mut checked = JobReport::default();
            if let Err(e) = self.webhooks.check(ctx, store, &mut checked) {
                checked.fail(
                    "webhooks",
                    format!("{e}; orders are still read every Sync Interval"),
                );
            }
            let mut report = jobs::run(job, ctx, store)?;
            report.skipped += checked.skipped;
            report.failed += checked.failed;
            report.issues.extend(checked.issues);
            Ok(report)
        })
    }

    fn validate_settings(&self, settings: &Settings) -> Vec<FieldError> {
        settings::check(settings)
    }

    fn webhooks(&self) -> Option<WebhookSpec> {
        self.webhooks.spec()
    }

    fn feed_wakes(&self) -> Vec<FeedWake> {
        self.feed_wakes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

plugin_api::export_plugin!(WooCommercePlugin::default);
