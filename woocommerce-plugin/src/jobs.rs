//! The plugin's four jobs. Each arrives with its own issue (product import,
//! order import, fulfilment export, end-of-day stock); until then running one
//! fails with a clear "not available yet".

use plugin_api::{Context, JobReport, PluginError};

use crate::manifest::{END_OF_DAY, EXPORT_FULFILLMENT, IMPORT_ORDERS, IMPORT_PRODUCTS};

pub fn run(job: &str, _ctx: &Context) -> Result<JobReport, PluginError> {
    match job {
        IMPORT_PRODUCTS | IMPORT_ORDERS | EXPORT_FULFILLMENT | END_OF_DAY => {
            Err(PluginError::other(format!(
                "the job {job:?} is not available yet in this version of the plugin"
            )))
        }
        other => Err(PluginError::UnknownJob(other.into())),
    }
}
