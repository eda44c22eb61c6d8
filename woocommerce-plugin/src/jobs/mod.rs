//! The plugin's jobs: the I/O around the mapping rules. Each reads the
//! store through the plugin's connection, plans with [`crate::mapping`] and
//! writes through the host's DB handle, the sync state (watermarks) in the
//! same transaction as the data it covers.

mod import_orders;
mod import_products;
mod sync_state;

use plugin_api::warehouse::{Import, ImportOutcome};
use plugin_api::{Context, JobReport, PluginError};

use crate::manifest::{END_OF_DAY, EXPORT_FULFILLMENT, IMPORT_ORDERS, IMPORT_PRODUCTS};
use crate::store::StoreConnection;

pub fn run(job: &str, ctx: &Context, store: &StoreConnection) -> Result<JobReport, PluginError> {
    match job {
        IMPORT_PRODUCTS => import_products::run(ctx, store),
        IMPORT_ORDERS => import_orders::run(ctx, store),
        EXPORT_FULFILLMENT | END_OF_DAY => Err(PluginError::other(format!(
            "the job {job:?} is not available yet in this version of the plugin"
        ))),
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
