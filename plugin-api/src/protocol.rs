//! The named, versioned messages that carry everything beyond the frozen frame.
//!
//! Each message is a type implementing [`HostMethod`] (a service the host
//! offers a plugin) or [`PluginMethod`] (a capability a plugin offers the
//! host), with its wire name, the API version that introduced it, and its
//! JSON request and response types. The host dispatches on the name; a
//! plugin asks only for what the host's version offers and the host asks a
//! plugin only for what the plugin's version offers, so a plugin built
//! against an older minor version never meets a message it does not know.
//!
//! To grow the API: add a message type here with `SINCE` set to the new
//! minor version, bump [`crate::API_VERSION`], implement it in the host and
//! add a typed wrapper in [`crate::Context`] or [`crate::Plugin`].

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::feed_wake::FeedWake;
use crate::report::{RecordIssue, RunCounts, RunOptions, Table};
use crate::settings::{FieldError, Secret, Settings};
use crate::version::ApiVersion;
use crate::warehouse::{
    BatchSummary, ChangeEvent, ChangePage, ChangesAck, ChangesRequest, Import, ImportBatch,
    ImportOutcome, Item, ItemRef, Order, OrderAnnotation, ParkRequest, Quantities,
    QuantitiesRequest, StockBasis,
};
use crate::webhook::WebhookSpec;

/// A service the host offers a plugin.
pub trait HostMethod {
    const NAME: &'static str;
    const SINCE: ApiVersion;
    type Request: Serialize + DeserializeOwned;
    type Response: Serialize + DeserializeOwned;
}

/// A capability a plugin offers the host.
pub trait PluginMethod {
    const NAME: &'static str;
    const SINCE: ApiVersion;
    type Request: Serialize + DeserializeOwned;
    type Response: Serialize + DeserializeOwned;
}

macro_rules! host_method {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $since:expr, $req:ty => $resp:ty) => {
        $(#[$doc])*
        pub enum $ty {}
        impl HostMethod for $ty {
            const NAME: &'static str = $name;
            const SINCE: ApiVersion = $since;
            type Request = $req;
            type Response = $resp;
        }
    };
}

const V1_0: ApiVersion = ApiVersion::new(1, 0);
const V1_1: ApiVersion = ApiVersion::new(1, 1);
const V1_2: ApiVersion = ApiVersion::new(1, 2);
const V1_3: ApiVersion = ApiVersion::new(1, 3);
const V1_4: ApiVersion = ApiVersion::new(1, 4);
const V1_5: ApiVersion = ApiVersion::new(1, 5);
const V1_6: ApiVersion = ApiVersion::new(1, 6);

host_method!(
    /// The plugin's settings, defaults filled in, secrets left out.
    GetSettings, "settings.get", V1_0, () => Settings
);
host_method!(
    /// One of the plugin's own secrets, by setting key.
    GetCredential, "credential.get", V1_0, KeyRequest => Option<Secret>
);
host_method!(
    /// A value from the plugin's private key/value store.
    GetState, "state.get", V1_0, KeyRequest => Option<serde_json::Value>
);
host_method!(
    /// Stores (or, with `null`, removes) a value in the private store.
    PutState, "state.put", V1_0, PutStateRequest => ()
);
host_method!(
    /// The host's clock, in milliseconds since the Unix epoch. Tests move it.
    Now, "clock.now", V1_0, () => i64
);
host_method!(
    /// Whether the current run has been asked to stop.
    IsCancelled, "run.cancelled", V1_0, () => bool
);
host_method!(
    /// Progress of the current run.
    ReportProgress, "run.progress", V1_0, Progress => ()
);
host_method!(
    /// One log record, shown in the host's log under the plugin's id.
    Log, "log", V1_0, LogRecord => ()
);
host_method!(
    /// Records a skipped or failed record as soon as it is known, so it is
    /// kept even if the run is later cancelled or the plugin dies.
    RecordIssueNow, "run.record_issue", V1_1, RecordIssue => ()
);
host_method!(
    /// Items by reference, in the order asked; `None` for an unknown one.
    FindItems, "db.items.find", V1_1, Vec<ItemRef> => Vec<Option<Item>>
);
host_method!(
    /// Quantities on hand, allocated and available.
    GetQuantities, "db.quantities", V1_1, QuantitiesRequest => Vec<Quantities>
);
host_method!(
    /// The plugin's orders by external id, in the order asked.
    FindOrders, "db.orders.find", V1_1, Vec<String> => Vec<Option<Order>>
);
host_method!(
    /// Applies an import batch and the plugin's state changes in one transaction.
    ApplyBatch, "db.batch.apply", V1_1, ImportBatch => BatchSummary
);
host_method!(
    /// Applies an [`Import`]: a batch with opening stock, the store's own
    /// stock reductions and lines without a warehouse item, all-or-nothing
    /// or record by record.
    ApplyImport, "db.import.apply", V1_2, Import => ImportOutcome
);
host_method!(
    /// How each of the plugin's items was opened from its store and
    /// whether the warehouse counted it since.
    GetStockBasis, "db.items.stock_basis", V1_3, () => Vec<StockBasis>
);
host_method!(
    /// What the store says of the plugin's orders beyond their lines: a
    /// reason for a person's attention, refunded units per line.
    AnnotateOrders, "db.orders.annotate", V1_3, Vec<OrderAnnotation> => ()
);
host_method!(
    /// The change feed after a cursor.
    ChangesAfter, "db.changes.after", V1_1, ChangesRequest => ChangePage
);
host_method!(
    /// Parks one of the plugin's change-feed events that cannot succeed,
    /// with the reason (again: the reason is updated and a retry asked for
    /// is cleared). Parked events are listed by `plugin-host parked`.
    ParkChange, "db.changes.park", V1_2, ParkRequest => ()
);
host_method!(
    /// Takes a parked event off the parked list (it went through).
    UnparkChange, "db.changes.unpark", V1_2, i64 => ()
);
host_method!(
    /// The parked events an admin asked to send again
    /// (`plugin-host parked retry`), oldest first.
    ParkedRetries, "db.changes.retries", V1_2, () => Vec<ChangeEvent>
);
host_method!(
    /// How the current run was asked to behave (dry run, force).
    GetRunOptions, "run.options", V1_2, () => RunOptions
);
host_method!(
    /// Shows a table to the user of the current run and keeps it with the run.
    ShowTable, "run.table", V1_2, Table => ()
);
host_method!(
    /// What the current run has done so far; a run that then fails, runs
    /// out of time or dies is recorded with these counts.
    ReportCounts, "run.counts", V1_4, RunCounts => ()
);

// API 1.4: webhooks.

host_method!(
    /// Stores one of the plugin's own secret settings, sealed as an admin's
    /// value is: a secret the plugin made itself, such as the one a store
    /// signs webhooks with.
    PutCredential, "credential.put", V1_4, PutCredentialRequest => ()
);

// API 1.5: retention.

host_method!(
    /// One of the plugin's change-feed consumers is done with every event
    /// up to a sequence number (its cursor): the host prunes only events
    /// every consumer of every plugin reading the feed has acknowledged.
    AcknowledgeChanges, "db.changes.ack", V1_5, ChangesAck => ()
);

/// Plugin capability (1.4): the webhooks the plugin accepts now, asked
/// after each activation; `None` (the default) for none.
pub enum AcceptWebhooks {}
impl PluginMethod for AcceptWebhooks {
    const NAME: &'static str = "webhooks.accept";
    const SINCE: ApiVersion = V1_4;
    type Request = ();
    type Response = Option<WebhookSpec>;
}

/// Plugin capability (1.6): the change-feed events that wake one of the
/// plugin's jobs ([`FeedWake`]), asked after each activation; none (the
/// default) for none.
pub enum WakeOnFeed {}
impl PluginMethod for WakeOnFeed {
    const NAME: &'static str = "feed.wakes";
    const SINCE: ApiVersion = V1_6;
    type Request = ();
    type Response = Vec<FeedWake>;
}

/// A secret setting's new value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutCredentialRequest {
    pub key: String,
    pub value: Secret,
}

/// Plugin capability (1.1): checks settings beyond their declared types
/// before the host stores them. The response lists the refused fields.
pub enum ValidateSettings {}
impl PluginMethod for ValidateSettings {
    const NAME: &'static str = "settings.validate";
    const SINCE: ApiVersion = V1_1;
    type Request = Settings;
    type Response = Vec<FieldError>;
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRequest {
    pub key: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutStateRequest {
    pub key: String,
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub done: u64,
    pub total: Option<u64>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    pub level: LogLevel,
    /// The module path that logged it, inside the plugin.
    pub target: String,
    pub message: String,
    /// Structured fields as `key=value` pairs.
    #[serde(default)]
    pub fields: Vec<(String, String)>,
}

/// The message a host returns for a method it does not know.
pub fn unknown_method_message(method: &str, host: ApiVersion) -> String {
    format!("unknown host service {method:?}: this host offers plugin API {host}")
}
