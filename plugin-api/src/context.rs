//! [`Context`]: the host's services, typed, as a plugin author uses them.

use abi_stable::std_types::{RResult, RStr};

use crate::abi::HostRef;
use crate::protocol::{self, HostMethod};
use crate::report::{JobReport, RecordIssue, RunCounts, RunOptions, Table};
use crate::settings::{Secret, Settings};
use crate::version::ApiVersion;
use crate::warehouse::WarehouseDb;

/// A host service that failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The host is older than the service needs.
    #[error(
        "this plugin needs host service {method:?} from plugin API {since}; the host offers {host}"
    )]
    TooOld {
        method: &'static str,
        since: ApiVersion,
        host: ApiVersion,
    },
    #[error("host service {method:?} failed: {message}")]
    Failed {
        method: &'static str,
        message: String,
    },
}

/// What the host hands a plugin for one activation or one job run: its
/// settings, its credentials, its private state, the IntelliTrack DB handle,
/// the clock, cancellation and progress. Logging needs no context: use `tracing` as usual.
#[derive(Clone)]
pub struct Context {
    host: HostRef,
    host_version: ApiVersion,
}

impl Context {
    /// Wraps the host frame. The export glue does this; plugin code receives
    /// a ready `&Context`.
    pub fn new(host: HostRef) -> Self {
        let host_version = host.api_version();
        Self { host, host_version }
    }

    /// The plugin API version the host offers.
    pub fn host_api_version(&self) -> ApiVersion {
        self.host_version
    }

    /// Calls a host service by its message type. Prefer the typed methods below.
    pub fn call<M: HostMethod>(&self, request: &M::Request) -> Result<M::Response, HostError> {
        if !self.host_version.offers(M::SINCE) {
            return Err(HostError::TooOld {
                method: M::NAME,
                since: M::SINCE,
                host: self.host_version,
            });
        }
        let failed = |message: String| HostError::Failed {
            method: M::NAME,
            message,
        };
        let payload = serde_json::to_string(request).map_err(|e| failed(e.to_string()))?;
        match self
            .host
            .call(RStr::from_str(M::NAME), RStr::from_str(&payload))
        {
            RResult::ROk(text) => serde_json::from_str(&text).map_err(|e| failed(e.to_string())),
            RResult::RErr(message) => Err(failed(message.into_string())),
        }
    }

    /// The plugin's settings, defaults filled in, secrets left out.
    pub fn settings(&self) -> Result<Settings, HostError> {
        self.call::<protocol::GetSettings>(&())
    }

    /// The value of one of the plugin's secret settings, if set.
    pub fn credential(&self, key: &str) -> Result<Option<Secret>, HostError> {
        self.call::<protocol::GetCredential>(&protocol::KeyRequest { key: key.into() })
    }

    /// Stores one of the plugin's secret settings (API 1.4), sealed as the
    /// host seals an admin's value, e.g. a secret the plugin generated for a
    /// store to sign webhooks with. The key must be a
    /// [`crate::FieldKind::Secret`] field of the manifest. Storing it does
    /// not count as a settings change (the plugin is not activated again).
    pub fn put_credential(&self, key: &str, value: &Secret) -> Result<(), HostError> {
        self.call::<protocol::PutCredential>(&protocol::PutCredentialRequest {
            key: key.into(),
            value: value.clone(),
        })
    }

    /// A value from the plugin's private key/value store (cursors and the like).
    pub fn state<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, HostError> {
        let value = self.call::<protocol::GetState>(&protocol::KeyRequest { key: key.into() })?;
        value
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| HostError::Failed {
                method: protocol::GetState::NAME,
                message: format!("state {key:?} has an unexpected shape: {e}"),
            })
    }

    /// Stores a value in the private key/value store.
    pub fn put_state<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<(), HostError> {
        let value = serde_json::to_value(value).map_err(|e| HostError::Failed {
            method: protocol::PutState::NAME,
            message: e.to_string(),
        })?;
        self.call::<protocol::PutState>(&protocol::PutStateRequest {
            key: key.into(),
            value: Some(value),
        })
    }

    /// Removes a value from the private key/value store.
    pub fn remove_state(&self, key: &str) -> Result<(), HostError> {
        self.call::<protocol::PutState>(&protocol::PutStateRequest {
            key: key.into(),
            value: None,
        })
    }

    /// The IntelliTrack DB handle (API 1.1): items, quantities, orders,
    /// import batches and the change feed.
    pub fn db(&self) -> WarehouseDb<'_> {
        WarehouseDb::new(self)
    }

    /// The host's clock, in milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> Result<i64, HostError> {
        self.call::<protocol::Now>(&())
    }

    /// Whether the run has been asked to stop (deactivation, shutdown, its
    /// deadline). A job checks it between batches and returns a report with
    /// `stopped: true`. Outside a run it is always false.
    pub fn is_cancelled(&self) -> bool {
        self.call::<protocol::IsCancelled>(&()).unwrap_or(false)
    }

    /// Tells the host how far the run is; shown to the user who runs it.
    pub fn progress(&self, done: u64, total: Option<u64>, message: &str) {
        let progress = protocol::Progress {
            done,
            total,
            message: message.into(),
        };
        if let Err(e) = self.call::<protocol::ReportProgress>(&progress) {
            tracing::debug!("progress not delivered: {e}");
        }
    }

    /// Tells the host what the run has done so far (API 1.4): call it where
    /// you report progress. A run that then fails, runs past its deadline
    /// or whose process dies is recorded with these counts instead of
    /// zeros; a run that returns its [`JobReport`] is recorded with the
    /// report's. Best effort, like [`Context::progress`]: a host older than
    /// 1.4 does not keep them.
    pub fn report_counts(&self, report: &JobReport) {
        if let Err(e) = self.call::<protocol::ReportCounts>(&RunCounts::from(report)) {
            tracing::debug!("counts not delivered: {e}");
        }
    }

    /// How this run was asked to behave (API 1.2): a dry run, forced past a
    /// safety limit. Outside a run, and from a host older than 1.2 (which
    /// cannot be asked for either), the defaults.
    pub fn run_options(&self) -> RunOptions {
        self.call::<protocol::GetRunOptions>(&())
            .unwrap_or_default()
    }

    /// Shows a table to the user who runs the job, kept with the run (API 1.2).
    pub fn show_table(&self, table: &Table) -> Result<(), HostError> {
        self.call::<protocol::ShowTable>(table)
    }

    /// Records a skipped or failed record at once (API 1.1), so it survives a
    /// cancelled or crashed run. Also add it to the returned report's counts.
    pub fn record_issue(&self, issue: &RecordIssue) -> Result<(), HostError> {
        self.call::<protocol::RecordIssueNow>(issue)
    }
}
