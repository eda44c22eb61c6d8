//! A test kit for plugin authors: run a plugin's `activate` and jobs inside
//! a unit test, with no host installed and no library built.
//!
//! [`TestHost`] takes the plugin object itself (not its `.so`), wraps it in
//! the same export glue [`plugin_api::export_plugin!`] uses, and answers its
//! calls with the host's own services (`plugin_host::services`) over a real
//! IntelliTrack database (`intellitrack-db`) in a temporary folder. So the
//! settings, secrets, state store and DB handle behave as they do in
//! `plugin-host`, refusals included. The test controls the clock and the
//! cancellation flag, seeds the warehouse, and reads back the report,
//! progress events, tables, log records, state and the warehouse.
//!
//! ```ignore
//! use plugin_test_kit::TestHost;
//!
//! let host = TestHost::new(LowStock)?;
//! host.set_settings(&[("reorder_point", "3")])?;
//! host.add_item("MUG", "Mug", 2)?;
//! host.activate()?;
//! let run = host.run_job("report");
//! assert!(run.report()?.summary.contains("MUG (2 available)"));
//! ```
//!
//! It must not hold rules of its own: anything a real host decides (what a
//! service answers, what the warehouse refuses) comes from the host's code.
//! What it does not do: load plugin files, run calls on their own thread
//! under a deadline, or schedule runs; `plugin-host` and its end-to-end
//! tests cover those.

mod job_run;
mod recorder;
mod test_host;

pub use intellitrack_db::{Db, NewItem, RunOutcome};
pub use job_run::JobRun;
pub use plugin_api::protocol::{LogLevel, LogRecord, Progress};
pub use test_host::{KitError, START_MS, TestHost};
