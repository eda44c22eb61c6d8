//! [`Plugin`]: the trait a plugin author implements.

use crate::context::{Context, HostError};
use crate::feed_wake::FeedWake;
use crate::manifest::Manifest;
use crate::report::JobReport;
use crate::settings::{FieldError, Settings};
use crate::webhook::WebhookSpec;

/// Why a plugin call failed, in words for the warehouse admin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// Settings are missing or wrong; activation is refused.
    #[error("invalid settings: {}", join(.0))]
    Settings(Vec<FieldError>),
    /// The job id is not one the manifest declares.
    #[error("unknown job {0:?}")]
    UnknownJob(String),
    #[error(transparent)]
    Host(#[from] HostError),
    /// Anything else, as one readable sentence.
    #[error("{0}")]
    Other(String),
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl PluginError {
    pub fn other(message: impl std::fmt::Display) -> Self {
        Self::Other(message.to_string())
    }
}

/// A plugin. Implement it, then export it with [`crate::export_plugin!`].
///
/// The host may call `run_job` for different jobs at the same time (it never
/// runs two runs of one job at once), so the type is `Sync`; keep mutable
/// state behind a `Mutex` or in the host's state store.
///
/// A panic in any of these methods is caught by the export glue and becomes
/// an error for that call; it never reaches the host.
pub trait Plugin: Send + Sync + 'static {
    /// Describes the plugin. Called once, right after loading.
    fn manifest(&self) -> Manifest;

    /// Validates settings, checks connections and starts whatever the plugin
    /// needs (a runtime, a client). An error refuses activation; its text is
    /// shown to the admin, so say what to fix.
    fn activate(&self, ctx: &Context) -> Result<(), PluginError>;

    /// Runs one of the jobs the manifest declares.
    fn run_job(&self, job: &str, ctx: &Context) -> Result<JobReport, PluginError>;

    /// Stops background work. The object is dropped afterwards.
    fn deactivate(&self) {}

    /// (API 1.1) Checks settings beyond their declared types before the host
    /// stores them, e.g. rules between fields. The default accepts them.
    fn validate_settings(&self, settings: &Settings) -> Vec<FieldError> {
        let _ = settings;
        Vec::new()
    }

    /// (API 1.4) The webhooks the plugin accepts now ([`WebhookSpec`]):
    /// asked after each successful `activate`, so the answer may follow the
    /// settings (e.g. none while no webhook address is set). The host then
    /// runs `job` a few seconds after a burst of signed deliveries to
    /// `POST /hooks/{instance}`. The default accepts none.
    fn webhooks(&self) -> Option<WebhookSpec> {
        None
    }

    /// (API 1.6) The change-feed events that wake a job ([`FeedWake`]):
    /// asked after each successful `activate`, so the answer may follow the
    /// settings. The host then runs the job soon after such an event is
    /// appended, outside its schedule. The default wakes nothing.
    fn feed_wakes(&self) -> Vec<FeedWake> {
        Vec::new()
    }
}
