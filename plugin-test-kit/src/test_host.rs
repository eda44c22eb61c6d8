//! [`TestHost`]: one plugin object, the host's services, a temporary
//! warehouse database, a clock that moves when told and a cancellation flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abi_stable::std_types::RStr;
use intellitrack_db::{Db, DbError, NewItem, NewRun, PluginRegistration, RunFinish, RunTrigger};
use plugin_api::abi::{HostRef, PluginBox};
use plugin_api::protocol::{AcceptWebhooks, PluginMethod, Progress, ValidateSettings, WakeOnFeed};
use plugin_api::warehouse::{ChangeEvent, Item, Order, OrderStatus};
use plugin_api::{
    Context, FeedWake, FieldError, Manifest, Plugin, PluginError, RunCounts, RunOptions, Secret,
    Settings, Table, WebhookSpec,
};
use plugin_host::clock::Clock;
use plugin_host::credentials::CredentialKey;
use plugin_host::job_answer::{job_outcome, keep_counts_so_far};
use plugin_host::process_owner;
use plugin_host::services::{HostCore, PluginServices, RunBinding};
use plugin_host::settings_change::{self, SettingsChange};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::job_run::JobRun;
use crate::recorder::{LogBook, Recorder, lock};

/// Where the test clock starts: 2026-01-05 09:00:00 UTC, a Monday morning.
pub const START_MS: i64 = 1_767_603_600_000;

/// The user the kit's warehouse operations are recorded under.
const TEST_USER: &str = "plugin-test-kit";

/// Why the kit could not do what the test asked.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// The plugin refused: its constructor or manifest failed, activation or
    /// settings were refused. The text is the one an admin would read.
    #[error("{0}")]
    Plugin(String),
    /// The warehouse database refused or failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The temporary folder, the key or a value could not be made.
    #[error("{0}")]
    Setup(String),
}

impl KitError {
    fn setup(e: impl std::fmt::Display) -> Self {
        Self::Setup(e.to_string())
    }
}

/// An in-process host for one plugin object. See the crate docs.
pub struct TestHost {
    core: Arc<HostCore>,
    manifest: Arc<Manifest>,
    frame: PluginBox,
    cancel: Arc<AtomicBool>,
    logs: LogBook,
    /// Kept to the end: the database and key live in it.
    _dir: tempfile::TempDir,
}

impl TestHost {
    /// Takes the plugin object, reads and checks its manifest, and opens a
    /// fresh warehouse database in a temporary folder; the clock shows
    /// [`START_MS`].
    pub fn new<P: Plugin>(plugin: P) -> Result<Self, KitError> {
        let frame = plugin_api::export::new_plugin(|| plugin)
            .into_result()
            .map_err(|e| KitError::Plugin(e.into_string()))?;
        let manifest: Manifest = frame
            .manifest()
            .into_result()
            .map_err(|e| KitError::Plugin(e.into_string()))
            .and_then(|json| serde_json::from_str(&json).map_err(KitError::setup))?;
        let dir = tempfile::tempdir().map_err(KitError::setup)?;
        let db = Db::open(&dir.path().join("intellitrack.db"))?;
        let key = CredentialKey::load_or_create(dir.path()).map_err(KitError::setup)?;
        let clock = Clock::manual(START_MS);
        db.register_plugin(
            &PluginRegistration {
                id: manifest.id.clone(),
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                api_version: manifest.api_version.to_string(),
                file: "(in process)".into(),
            },
            clock.now_ms(),
        )?;
        Ok(Self {
            core: Arc::new(HostCore {
                db: Arc::new(db),
                key,
                clock,
            }),
            manifest: Arc::new(manifest),
            frame,
            cancel: Arc::new(AtomicBool::new(false)),
            logs: LogBook::default(),
            _dir: dir,
        })
    }

    /// The plugin's manifest, as the host read it.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Sets settings as an admin types them (`key`, `value` as text), secrets
    /// included: each value is checked against its field, then the plugin's
    /// own rules (`validate_settings`) see the settings as they would be. If
    /// anything is refused, nothing changes and the error lists why.
    pub fn set_settings(&self, assignments: &[(&str, &str)]) -> Result<(), KitError> {
        let mut change = SettingsChange::default();
        for (key, raw) in assignments {
            if !change.add(&self.manifest, key, raw) {
                change
                    .errors
                    .push(FieldError::new(key, "is not one of the plugin's settings"));
            }
        }
        if change.errors.is_empty() {
            change.errors = self.plugin_rules(&change.plain)?;
        }
        if !change.errors.is_empty() {
            return Err(KitError::Plugin(
                PluginError::Settings(change.errors).to_string(),
            ));
        }
        change
            .write(&self.core, &self.manifest.id)
            .map_err(KitError::setup)?;
        Ok(())
    }

    /// The settings the plugin receives (defaults filled in, secrets left out).
    pub fn settings(&self) -> Result<Settings, KitError> {
        let mut stored = Settings::default();
        for (key, value) in self.core.db.settings(&self.manifest.id)? {
            stored.insert(&key, value);
        }
        Ok(self.manifest.effective_settings(&stored))
    }

    fn plugin_rules(
        &self,
        changes: &[(String, serde_json::Value)],
    ) -> Result<Vec<FieldError>, KitError> {
        let mut settings = self.settings()?;
        for (key, value) in changes {
            settings.insert(key, value.clone());
        }
        self.ask::<ValidateSettings>(&settings)
    }

    /// Calls the plugin's method `M` with `request`, as the host does.
    fn ask<M: PluginMethod>(&self, request: &M::Request) -> Result<M::Response, KitError> {
        let payload = serde_json::to_string(request).map_err(KitError::setup)?;
        let answer = self
            .frame
            .call(RStr::from_str(M::NAME), RStr::from_str(&payload))
            .into_result()
            .map_err(|e| KitError::Plugin(e.into_string()))?;
        serde_json::from_str(&answer).map_err(KitError::setup)
    }

    /// Puts a value in the plugin's private state store, as the plugin would.
    pub fn put_state<T: Serialize>(&self, key: &str, value: &T) -> Result<(), KitError> {
        let value = serde_json::to_value(value).map_err(KitError::setup)?;
        Ok(self
            .core
            .db
            .put_state(&self.manifest.id, key, Some(&value))?)
    }

    /// A value from the plugin's private state store.
    pub fn state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, KitError> {
        self.core
            .db
            .state(&self.manifest.id, key)?
            .map(serde_json::from_value)
            .transpose()
            .map_err(KitError::setup)
    }

    /// The warehouse database itself, for anything the helpers below lack
    /// (picks, shipments, adjustments, cancellations; the run history).
    pub fn warehouse(&self) -> &Db {
        &self.core.db
    }

    /// Makes an item by hand and, if `on_hand` > 0, receives that quantity
    /// into the default location.
    pub fn add_item(
        &self,
        number: &str,
        description: &str,
        on_hand: i64,
    ) -> Result<Item, KitError> {
        let now = self.now_ms();
        let item = self.core.db.add_item(
            &NewItem {
                number: number.into(),
                description: description.into(),
                ..NewItem::default()
            },
            TEST_USER,
            now,
        )?;
        if on_hand > 0 {
            self.core
                .db
                .receive(number, on_hand, None, TEST_USER, now)?;
        }
        Ok(item)
    }

    /// The plugin's own view of the host outside a run, as its `activate`
    /// gets it: seed its orders with `ctx.db().apply(&batch)`, read its
    /// change feed, exactly as the plugin would.
    pub fn context(&self) -> Context {
        Context::new(self.host_ref(None))
    }

    /// Every item, by number.
    pub fn items(&self) -> Result<Vec<Item>, KitError> {
        Ok(self.core.db.items()?)
    }

    /// Every order, optionally only those in `status`.
    pub fn orders(&self, status: Option<OrderStatus>) -> Result<Vec<Order>, KitError> {
        Ok(self.core.db.orders(status)?)
    }

    /// The change-feed events after `after` as the plugin sees them (those
    /// of its orders and of the items it has an external id for), up to `limit`.
    pub fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<ChangeEvent>, KitError> {
        Ok(self
            .core
            .db
            .changes_after(&self.manifest.id, after, limit)?
            .events)
    }

    /// The host's clock, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.core.clock.now_ms()
    }

    /// Moves the clock to `ms`.
    pub fn set_now_ms(&self, ms: i64) {
        self.core
            .clock
            .set_ms(ms)
            .expect("the kit's clock is a manual one");
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.set_now_ms(self.now_ms() + by.as_millis() as i64);
    }

    /// The cancellation flag the next runs see (`Context::is_cancelled`).
    /// Set it before a run, or from another thread during one; it stays set
    /// until cleared.
    pub fn cancel_flag(&self) -> &Arc<AtomicBool> {
        &self.cancel
    }

    /// Every log record the plugin wrote so far, activation included.
    pub fn logs(&self) -> Vec<plugin_api::protocol::LogRecord> {
        lock(&self.logs).clone()
    }

    /// Activates the plugin as the host does: refused if a required setting
    /// has no value, else the plugin's own `activate` decides.
    pub fn activate(&self) -> Result<(), KitError> {
        let missing = self.manifest.missing_required(|field| {
            settings_change::is_set(&self.core, &self.manifest.id, field)
        });
        if !missing.is_empty() {
            return Err(KitError::Plugin(PluginError::Settings(missing).to_string()));
        }
        self.frame
            .activate(self.host_ref(None))
            .into_result()
            .map_err(|e| KitError::Plugin(e.into_string()))
    }

    /// The webhooks the plugin accepts now (API 1.4), asked as the host
    /// asks after an activation.
    pub fn webhooks(&self) -> Result<Option<WebhookSpec>, KitError> {
        self.ask::<AcceptWebhooks>(&())
    }

    /// The change-feed events that wake the plugin's jobs now (API 1.6),
    /// asked as the host asks after an activation.
    pub fn feed_wakes(&self) -> Result<Vec<FeedWake>, KitError> {
        self.ask::<WakeOnFeed>(&())
    }

    /// One of the plugin's secrets as the host keeps it (sealed), opened:
    /// what an admin set or the plugin stored with `put_credential`.
    pub fn credential(&self, key: &str) -> Result<Option<Secret>, KitError> {
        let id = &self.manifest.id;
        let sealed = self.core.db.sealed_credential(id, key)?;
        sealed
            .map(|s| self.core.key.open(id, key, &s))
            .transpose()
            .map_err(KitError::setup)
    }

    /// Calls the plugin's `deactivate`.
    pub fn deactivate(&self) -> Result<(), KitError> {
        self.frame
            .deactivate()
            .into_result()
            .map_err(|e| KitError::Plugin(e.into_string()))
    }

    /// Runs a job by hand with the default options, on this thread.
    pub fn run_job(&self, job: &str) -> JobRun {
        self.run_job_with(job, RunOptions::default())
    }

    /// Runs a job by hand with `options` (dry run, force), on this thread,
    /// and records it in the runs table as the host does.
    ///
    /// # Panics
    ///
    /// If the manifest declares no such job, or the run cannot be recorded:
    /// both are mistakes in the test.
    pub fn run_job_with(&self, job: &str, options: RunOptions) -> JobRun {
        assert!(
            self.manifest.job(job).is_some(),
            "{} declares no job {job:?}",
            self.manifest.id
        );
        let run_id = self
            .core
            .db
            .start_run(
                &NewRun {
                    plugin: &self.manifest.id,
                    job,
                    trigger: RunTrigger::ByHand,
                    user: Some(TEST_USER),
                    pid: std::process::id(),
                    owner: process_owner::current(),
                    started_ms: self.now_ms(),
                    dry_run: options.dry_run,
                    forced: options.force,
                },
                process_owner::alive,
            )
            .expect("the run is recorded");
        let progress = Arc::new(Mutex::new(Vec::<Progress>::new()));
        let tables = Arc::new(Mutex::new(Vec::<Table>::new()));
        let counts = Arc::new(Mutex::new(RunCounts::default()));
        let logs_before = lock(&self.logs).len();
        let binding = RunBinding {
            run_id,
            options,
            cancel: self.cancel.clone(),
            on_progress: {
                let progress = progress.clone();
                Arc::new(move |p: &Progress| lock(&progress).push(p.clone()))
            },
            on_table: {
                let tables = tables.clone();
                Arc::new(move |t: &Table| lock(&tables).push(t.clone()))
            },
            counts: counts.clone(),
        };
        let answer = self
            .frame
            .run_job(RStr::from_str(job), self.host_ref(Some(binding)))
            .into_result()
            .map(|json| json.into_string())
            .map_err(|e| e.into_string());
        let (outcome, mut report, error) = job_outcome(answer);
        keep_counts_so_far(outcome, &mut report, *lock(&counts));
        self.core
            .db
            .finish_run(
                run_id,
                &RunFinish {
                    outcome,
                    ended_ms: self.now_ms(),
                    created: report.created,
                    updated: report.updated,
                    skipped: report.skipped,
                    failed: report.failed,
                    summary: &report.summary,
                    error: error.as_deref(),
                    issues: &report.issues,
                },
            )
            .expect("the run is recorded");
        JobRun {
            run_id,
            outcome,
            report,
            error,
            progress: std::mem::take(&mut *lock(&progress)),
            tables: std::mem::take(&mut *lock(&tables)),
            logs: lock(&self.logs)[logs_before..].to_vec(),
        }
    }

    fn host_ref(&self, run: Option<RunBinding>) -> HostRef {
        let services = PluginServices::new(self.core.clone(), self.manifest.clone(), run);
        Recorder::host_ref(services, self.logs.clone())
    }
}

impl Drop for TestHost {
    /// Stops whatever the plugin still runs, as a host does at shutdown.
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        let _ = self.frame.deactivate();
    }
}
