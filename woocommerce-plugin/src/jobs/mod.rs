//! The plugin's jobs: the I/O around the mapping rules. Each reads the
//! store through the plugin's connection, plans with [`crate::mapping`] and
//! writes through the host's DB handle, the sync state (watermarks) in the
//! same transaction as the data it covers.

mod end_of_day;
mod export_fulfillment;
mod held_orders;
mod import_orders;
mod import_products;
mod push_stock;
mod sync_state;

use std::future::Future;

pub use push_stock::feed_wakes;

use plugin_api::warehouse::{Import, ImportOutcome};
use plugin_api::{Context, JobReport, PluginError};
use woo_client::{Error, ID_FILTER_MAX, WooClient};

use crate::manifest::{END_OF_DAY, EXPORT_FULFILLMENT, IMPORT_ORDERS, IMPORT_PRODUCTS, PUSH_STOCK};
use crate::store::StoreConnection;

pub fn run(job: &str, ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    match job {
        IMPORT_PRODUCTS => import_products::run(ctx, store),
        IMPORT_ORDERS => import_orders::run(ctx, store),
        EXPORT_FULFILLMENT => export_fulfillment::run(ctx, store),
        PUSH_STOCK => push_stock::run(ctx, store),
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

/// `ids` in lists short enough for one id filter ([`ID_FILTER_MAX`]).
fn id_filters(ids: &[u64]) -> Vec<Vec<u64>> {
    ids.chunks(ID_FILTER_MAX).map(<[u64]>::to_vec).collect()
}

/// Runs `read` for each id (or set of ids), as many at once as the
/// client's limit may let through (a task is started only when one ends,
/// so ten thousand ids are never ten thousand waiting tasks); the results
/// in no particular order.
async fn concurrently<I, T, F>(
    client: &WooClient,
    ids: Vec<I>,
    read: impl Fn(WooClient, I) -> F,
) -> Result<Vec<T>, PluginError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let limit = client.max_in_flight();
    let mut ids = ids.into_iter();
    let mut tasks = tokio::task::JoinSet::new();
    let mut all = Vec::new();
    loop {
        while tasks.len() < limit {
            let Some(id) = ids.next() else { break };
            tasks.spawn(read(client.clone(), id));
        }
        let Some(joined) = tasks.join_next().await else {
            return Ok(all);
        };
        let read = joined
            .map_err(|e| PluginError::other(format!("a store read ended abnormally: {e}")))?;
        all.push(read.map_err(PluginError::other)?);
    }
}
