//! The contract between the plugin host and its plugins: the only crate a
//! plugin depends on.
//!
//! A plugin is a `cdylib` that implements [`Plugin`] and exports it with
//! [`export_plugin!`]. The host finds the library in its plugin folder at
//! start-up, checks that it fits, reads its [`Manifest`], builds settings
//! forms, CLI commands and schedules from it, and calls
//! [`Plugin::activate`], [`Plugin::run_job`] and [`Plugin::deactivate`].
//! Each call receives a [`Context`]: the plugin's settings and credentials,
//! a private key/value store, the IntelliTrack DB handle ([`warehouse`]),
//! the host's clock, cancellation and progress.
//! Logging is plain [`tracing`]; the events reach the host's log under the
//! plugin's id.
//!
//! # Compatibility
//!
//! This crate is plugin API [`API_VERSION`]. A plugin built against `1.x`
//! loads and runs, unchanged and not rebuilt, in every host offering `1.y`
//! with `y >= x`. A plugin built against a newer minor version than the host
//! offers is refused at load with one line naming both versions. The ABI
//! frame ([`abi`]) is frozen for all of 1.x; the API grows through named,
//! versioned messages ([`protocol`]).
//!
//! # What this crate must not do
//!
//! Hold host logic or I/O, or let anything cross the boundary that is not
//! ABI-stable: no `std::String`, no panics, no runtime handles, no
//! connections. Only the frozen frame crosses; everything else is JSON.
//!
//! # A worked example
//!
//! A plugin with one setting and one job that counts its own runs in the
//! private state store:
//!
//! ```
//! use plugin_api::{
//!     Context, FieldKind, JobReport, JobSpec, Manifest, Plugin, PluginError,
//!     ScheduleKind, SettingField,
//! };
//!
//! #[derive(Default)]
//! pub struct Greeter;
//!
//! impl Plugin for Greeter {
//!     fn manifest(&self) -> Manifest {
//!         Manifest {
//!             id: "greeter".into(),
//!             name: "Greeter".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             description: "Says hello on a schedule.".into(),
//!             feature: "greeter".into(),
//!             api_version: plugin_api::API_VERSION,
//!             settings: vec![SettingField::new("name", "Who to greet", FieldKind::Text)
//!                 .default_value("warehouse")],
//!             jobs: vec![JobSpec {
//!                 id: "greet".into(),
//!                 title: "Greet".into(),
//!                 description: String::new(),
//!                 schedule: ScheduleKind::SyncInterval,
//!             }],
//!         }
//!     }
//!
//!     fn activate(&self, ctx: &Context) -> Result<(), PluginError> {
//!         ctx.settings()?; // refuse activation if the host cannot give them
//!         Ok(())
//!     }
//!
//!     fn run_job(&self, job: &str, ctx: &Context) -> Result<JobReport, PluginError> {
//!         if job != "greet" {
//!             return Err(PluginError::UnknownJob(job.into()));
//!         }
//!         let settings = ctx.settings()?;
//!         let runs: u64 = ctx.state("runs")?.unwrap_or(0) + 1;
//!         ctx.put_state("runs", &runs)?;
//!         tracing::info!("hello, {} (run {runs})", settings.text("name").unwrap_or("?"));
//!         Ok(JobReport { updated: 1, ..JobReport::default() })
//!     }
//! }
//!
//! plugin_api::export_plugin!(Greeter::default);
//! ```
//!
//! with, in the plugin's `Cargo.toml`:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! plugin-api = "1.6"
//! tracing = "0.1"
//! ```
//!
//! and a profile that keeps unwinding (the default): `panic = "abort"` would
//! turn every panic into a crash of the host instead of a failed call.
//!
//! # Writing jobs that behave
//!
//! - **Long work** checks [`Context::is_cancelled`] between batches and, when
//!   set, returns its report with `stopped: true`: the host sets it when the
//!   plugin is deactivated, the host stops, or the job passes its deadline.
//!   It reports [`Context::progress`] so the user who runs it sees how far it is.
//! - **Records it leaves out** go into the report with [`JobReport::skip`] and
//!   [`JobReport::fail`], with a reason a warehouse admin understands; a
//!   long job may also keep each one at once with [`Context::record_issue`]
//!   (then not again in the report).
//! - **Writes to IntelliTrack** go through `ctx.db().apply(&batch)`
//!   ([`warehouse::ImportBatch`]): the batch and the plugin's cursor land in
//!   one transaction, so a crash never leaves a cursor ahead of the data.
//!   Changes made in the warehouse arrive through
//!   `ctx.db().changes_after(cursor, limit)`; store the returned cursor in
//!   your state to keep your place.
//! - **Acknowledge the change feed** (API 1.5): each time a cursor moves,
//!   after storing it, call `ctx.db().acknowledge_changes(consumer, cursor)`
//!   with one name per cursor you keep (the WooCommerce plugin has two:
//!   its export and its stock push). The host prunes feed events only when
//!   every consumer of every plugin that reads the feed has acknowledged
//!   past them (and none has them parked); a plugin that reads the feed and
//!   never acknowledges holds the whole feed, so the database grows.
//! - **Store integrations** (API 1.2) import with
//!   `ctx.db().apply_import(&import)` ([`warehouse::Import`]): opening stock
//!   for the items the import creates, the store's own earlier stock
//!   reductions (corrected once), order lines without a warehouse item, and
//!   a record-by-record mode in which one refused record is reported while
//!   the rest lands. An event the plugin can never deliver is parked with
//!   `ctx.db().park(seq, reason)`; the admin sees it (`plugin-host parked`)
//!   and may ask for it again ([`warehouse::WarehouseDb::parked_retries`]).
//! - **Runs by hand** (API 1.2) may be a dry run or forced past a safety
//!   limit: read [`Context::run_options`]. A job that cannot honour a dry
//!   run must refuse it, never write. [`Context::show_table`] shows the user
//!   a table (kept with the run).
//! - **Secrets** come from [`Context::credential`] as a [`Secret`], which
//!   prints as `********`; call [`Secret::expose`] only where the value is
//!   sent.
//! - **Errors** are [`PluginError`]s whose text is shown to the admin as is:
//!   say what is wrong and what to do.
//!
//! # Webhooks (API 1.4)
//!
//! A store that calls back when something changes saves the wait for the
//! next Sync Interval. Answer [`Plugin::webhooks`] with a [`WebhookSpec`]
//! (asked after every activation, so it may follow the settings): which
//! job a delivery triggers, which secret setting verifies it and in which
//! header the signature comes (the base64 HMAC-SHA256 of the raw body,
//! WooCommerce's and Shopify's scheme), and the field of an unsigned ping
//! the host should answer. Tell the store to deliver to the host's
//! `POST /hooks/{instance}` (the admin gives its public address in a
//! setting); the host refuses with 401 whatever is not signed with the
//! secret and runs the job a couple of seconds after a burst of deliveries,
//! once, never beside another run of the instance. The job reads what
//! changed from the store as always (it never sees a delivery): so keep the
//! job idempotent, and keep polling on the schedule for deliveries that are
//! lost. A secret the plugin generates itself is stored sealed with
//! [`Context::put_credential`] into a secret setting it declares. Right
//! after an activation that accepts webhooks the job runs once: the place
//! to create or check the store's webhooks, and to catch up.
//!
//! # Feed wakes (API 1.6)
//!
//! A job that follows the warehouse's change feed runs on its schedule,
//! but some events should not wait for it: when another store's order
//! takes stock this store sells too, this store offers units that are gone
//! until it sends its counts again. Answer [`Plugin::feed_wakes`] with a
//! [`FeedWake`] per job that such events should run soon: the job (one of
//! the manifest's) and the event kinds (the feed's wire names, e.g.
//! `order-allocation`). It is asked after every activation, so it may
//! follow the settings (the WooCommerce plugin's `push-stock` wakes on
//! `order-allocation` only while it pushes available counts every Sync
//! Interval). On every turn of its service loop (about twice a second) the
//! host looks for events of those kinds appended since it last looked that
//! the instance may see and that are not of its own orders, and runs the
//! job once for all of them, never beside another run of the instance (an
//! event during a run leaves one more run afterwards). Events from before
//! the activation wake nothing: the schedule's catch-up covers them. Such a
//! run is recorded with the trigger `feed`, is not part of the job's
//! schedule history, and may run outside the Sync Time Range: it answers a
//! change in the shared warehouse, so keep the job cheap when nothing
//! moved for this instance (read the feed after your cursor, write only
//! what differs).
//!
//! # Instances
//!
//! An admin may configure one plugin several times (`plugin-host plugins
//! add-instance`), e.g. once per store. The host then makes one plugin
//! object per instance with the constructor given to [`export_plugin!`],
//! and binds each to its own settings, credentials, state, schedule and
//! runs: an instance never sees another's. A plugin needs to do nothing for
//! this, but must keep per-instance data in its object or the host's state
//! store, never in statics (the library is loaded once for all instances).
//! In the warehouse, items are shared (each instance has its own external
//! ids for them); orders belong to the instance that imported them.
//!
//! # Schedules
//!
//! A job's [`ScheduleKind`] says which of the host's per-plugin schedules it
//! follows: every Sync Interval inside the Sync Time Range, once a day at the
//! End of Day time, or by hand only. The admin sets the times; the host never
//! runs two runs of one job at once, but may run different jobs of one plugin
//! at the same time.

//!
//! # Testing with `plugin-test-kit`
//!
//! Add `plugin-test-kit` (same minor version as `plugin-api`) as a
//! dev-dependency and test the plugin object itself, in-process. The kit
//! is not on crates.io yet (it builds on the host's own, unpublished
//! crates): take it by path from a checkout of the host's sources, as
//! `plugin-host new-plugin NAME --api-path CHECKOUT` writes it. Its
//! `TestHost` wraps the object in the glue [`export_plugin!`] uses and
//! answers it with the host's own services over a real IntelliTrack
//! database in a temporary folder, so settings, secrets, state and the DB
//! handle (its refusals included) behave exactly as in `plugin-host`.
//!
//! ```ignore
//! use plugin_test_kit::{LogLevel, TestHost};
//!
//! #[test]
//! fn greets_and_counts_runs() {
//!     let host = TestHost::new(Greeter).unwrap();
//!     host.set_settings(&[("name", "dock 4")]).unwrap(); // as an admin types it
//!     host.add_item("MUG", "Mug", 12).unwrap();           // an item with 12 on hand
//!     host.activate().unwrap();
//!
//!     let run = host.run_job("greet");
//!     assert_eq!(run.report().unwrap().updated, 1);
//!     assert!(run.logged(LogLevel::Info, "hello, dock 4"));
//!     assert_eq!(host.state::<u64>("runs").unwrap(), Some(1));
//! }
//! ```
//!
//! - **Settings** go through the same checks as `plugin-host plugins
//!   settings --set`: each field's type, then [`Plugin::validate_settings`];
//!   a refusal changes nothing. Secrets are sealed as the host seals them.
//! - **The warehouse**: `add_item` makes an item and receives stock;
//!   `warehouse()` is the database itself (picks, shipments, adjustments,
//!   cancellations: the warehouse's side of the change feed);
//!   `context().db().apply(&batch)` writes as the plugin would (its orders).
//!   Afterwards `items()`, `orders()`, `changes_after()` and `state()` show
//!   what the run left.
//! - **Time and cancellation**: the clock starts at `START_MS` and moves only
//!   with `set_now_ms` / `advance`; `cancel_flag()` is what
//!   [`Context::is_cancelled`] reads, so a test can check that a job stops
//!   with `stopped: true`.
//! - **A run** (`run_job`, `run_job_with` for a dry run or force) returns a
//!   `JobRun`: outcome, report, error, progress events, tables and the log
//!   records of that run.
//!
//! The kit calls the plugin on the test's thread and without deadlines;
//! what only the loaded library shows (the file loads, the version check, a
//! hung call) is for an end-to-end test with the real host.
//!
//! # Upgrading a plugin to a newer minor version
//!
//! A plugin keeps working in newer hosts without being touched; upgrade it
//! when it wants something a newer minor version added (`CHANGELOG.md`
//! lists them with their `SINCE`):
//!
//! 1. Raise the requirement: `plugin-api = "1.6"` (and the test kit with it).
//!    Nothing that compiled before stops compiling: within 1.x nothing
//!    public is removed or changed (CI runs `cargo-semver-checks`).
//! 2. Rebuild. The library now declares the new version, so a host older
//!    than it refuses it at load with one line naming both versions. If it
//!    must still run in older hosts, stay on the older version instead; a
//!    plugin cannot use a newer service in an older host anyway (the
//!    [`Context`] refuses it with [`HostError::TooOld`] without calling it).
//! 3. Use the new services and types. Exhaustive public structs never gain
//!    fields within 1.x (that would break struct literals); types that may
//!    grow are `#[non_exhaustive]` and come with a constructor (e.g.
//!    [`RunOptions::new`]): use it, and match such enums with a `_` arm.
//! 4. Read the minor version's notes on behaviour: e.g. 1.2 offers
//!    [`Context::run_options`], and a job that cannot honour a dry run must
//!    now refuse it rather than write.

pub mod abi;
mod context;
#[doc(hidden)]
pub mod export;
mod feed_wake;
mod log_bridge;
mod manifest;
mod plugin;
pub mod protocol;
mod report;
mod settings;
mod version;
pub mod warehouse;
mod webhook;

pub use context::{Context, HostError};
pub use export::guard;
pub use feed_wake::FeedWake;
pub use manifest::{
    ChoiceOption, FieldKind, JobSpec, Manifest, ManifestError, ScheduleKind, SettingField,
    parse_time_of_day,
};
pub use plugin::{Plugin, PluginError};
pub use report::{IssueOutcome, JobReport, RecordIssue, RunCounts, RunOptions, Table};
pub use settings::{FieldError, Secret, Settings};
pub use version::{API_VERSION, ApiVersion};
pub use webhook::WebhookSpec;

/// Re-exports the export macro needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use abi_stable::library::{
        __call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
    };
    pub use abi_stable::prefix_type::PrefixTypeTrait;
    pub use abi_stable::std_types::{RResult, RString};
}
