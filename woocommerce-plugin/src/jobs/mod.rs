//! The plugin's jobs: the I/O around the mapping rules. Each reads the
//! store through the plugin's connection, plans with [`crate::mapping`] and
//! writes through the host's DB handle, the sync state (watermarks) in the
//! same transaction as the data it covers.

mod end_of_day;
mod export_fulfillment;
mod import_orders;
mod import_products;
mod sync_state;

use std::future::Future;
use std::sync::Arc;

use plugin_api::warehouse::{Import, ImportOutcome};
use plugin_api::{Context, JobReport, PluginError};
use woo_client::{Error, WooClient};

use crate::manifest::{END_OF_DAY, EXPORT_FULFILLMENT, IMPORT_ORDERS, IMPORT_PRODUCTS};
use crate::store::StoreConnection;

pub fn run(job: &str, ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    match job {
        IMPORT_PRODUCTS => import_products::run(ctx, store),
        IMPORT_ORDERS => import_orders::run(ctx, store),
        EXPORT_FULFILLMENT => export_fulfillment::run(ctx, store),
        END_OF_DAY => end_of_day::run(ctx, store),
        other => Err(PluginError::UnknownJob(other.into())),
    }
}

/// Applies one import record by record and folds what the host did into
/// the report: its counts, and each record it refused with its reason.
fn apply(
    ctx: &Context,
    import: &Import,
    records: &dyn Fn(&str) -> String,
    report: &mut JobReport,
) -> Result<ImportOutcome, PluginError> {
    let outcome = ctx.db().apply_import(import)?;
    for refused in &outcome.refused {
        report.fail(records(&refused.external_id), refused.reason.clone());
    }
    Ok(outcome)
}

/// Runs `read` for each id, as many at once as the client's concurrency
/// setting allows; the results in no particular order.
async fn concurrently<T, F>(
    client: &WooClient,
    ids: Vec<u64>,
    read: impl Fn(WooClient, u64) -> F,
) -> Result<Vec<T>, PluginError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let limit = Arc::new(tokio::sync::Semaphore::new(client.config().concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let limit = Arc::clone(&limit);
        let task = read(client.clone(), id);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            task.await
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let read = joined
            .map_err(|e| PluginError::other(format!("a store read ended abnormally: {e}")))?;
        all.push(read.map_err(PluginError::other)?);
    }
    Ok(all)
}
