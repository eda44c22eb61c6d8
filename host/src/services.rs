//! The host's side of the plugin API: the services a plugin calls, bound to
//! that plugin (and, during a job, to that run).
//!
//! Every message of [`plugin_api::protocol`] is answered here. A plugin
//! reaches only its own settings, credentials and state: the plugin id is
//! bound by the host when it builds the services object, never taken from
//! the plugin's request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RArc, RResult, RStr, RString};
use intellitrack_db::Db;
use plugin_api::abi::{HostFrame, HostFrame_TO, HostRef};
use plugin_api::protocol::{self, HostMethod, LogLevel, LogRecord, Progress};
use plugin_api::warehouse::OrderUpsert;
use plugin_api::{
    API_VERSION, ApiVersion, FieldKind, Manifest, RecordIssue, RunCounts, RunOptions, Settings,
    Table,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Clock;
use crate::credentials::CredentialKey;

/// What every plugin's services share: the database, the credential key, the clock.
pub struct HostCore {
    pub db: Arc<Db>,
    pub key: CredentialKey,
    pub clock: Clock,
}

/// A run the services are bound to.
#[derive(Clone)]
pub struct RunBinding {
    pub run_id: i64,
    pub options: RunOptions,
    pub cancel: Arc<AtomicBool>,
    pub on_progress: Arc<dyn Fn(&Progress) + Send + Sync>,
    /// A table the run shows its user, as it arrives (it is also kept).
    pub on_table: Arc<dyn Fn(&Table) + Send + Sync>,
    /// What the run last said it has done (`run.counts`), kept for a run
    /// that ends without a report.
    pub counts: Arc<Mutex<RunCounts>>,
}

/// The services of one plugin, given to it as its [`HostRef`].
#[derive(Clone)]
pub struct PluginServices {
    core: Arc<HostCore>,
    manifest: Arc<Manifest>,
    run: Option<RunBinding>,
}

impl PluginServices {
    pub fn new(core: Arc<HostCore>, manifest: Arc<Manifest>, run: Option<RunBinding>) -> Self {
        Self {
            core,
            manifest,
            run,
        }
    }

    pub fn into_host_ref(self) -> HostRef {
        HostFrame_TO::from_ptr(RArc::new(self), TD_Opaque)
    }

    /// The plugin instance these services are bound to.
    fn plugin(&self) -> &str {
        &self.manifest.id
    }

    /// An added instance's orders are numbered `NAME-NUMBER` in the
    /// warehouse, so that two stores' order 1043 stay apart; the plugin's
    /// first instance keeps the store's numbers.
    fn number_orders<'a>(&self, orders: impl Iterator<Item = &'a mut OrderUpsert>) {
        if let Some((_, name)) = self.manifest.id.split_once(':') {
            for order in orders {
                order.number = format!("{name}-{}", order.number);
            }
        }
    }

    fn dispatch(&self, method: &str, payload: &str) -> Result<String, String> {
        match method {
            protocol::GetSettings::NAME => {
                answer::<protocol::GetSettings, _>(payload, |()| self.settings())
            }
            protocol::GetCredential::NAME => {
                answer::<protocol::GetCredential, _>(payload, |r| self.credential(&r.key))
            }
            protocol::PutCredential::NAME => answer::<protocol::PutCredential, _>(payload, |r| {
                self.put_credential(&r.key, &r.value)
            }),
            protocol::GetState::NAME => answer::<protocol::GetState, _>(payload, |r| {
                self.core
                    .db
                    .state(self.plugin(), &r.key)
                    .map_err(|e| e.to_string())
            }),
            protocol::PutState::NAME => answer::<protocol::PutState, _>(payload, |r| {
                self.core
                    .db
                    .put_state(self.plugin(), &r.key, r.value.as_ref())
                    .map_err(|e| e.to_string())
            }),
            protocol::Now::NAME => {
                answer::<protocol::Now, String>(payload, |()| Ok(self.core.clock.now_ms()))
            }
            protocol::IsCancelled::NAME => answer::<protocol::IsCancelled, String>(payload, |()| {
                Ok(self
                    .run
                    .as_ref()
                    .is_some_and(|r| r.cancel.load(Ordering::SeqCst)))
            }),
            protocol::ReportProgress::NAME => {
                answer::<protocol::ReportProgress, String>(payload, |p| {
                    if let Some(run) = &self.run {
                        (run.on_progress)(&p);
                    }
                    Ok(())
                })
            }
            protocol::ReportCounts::NAME => {
                answer::<protocol::ReportCounts, String>(payload, |counts| {
                    if let Some(run) = &self.run {
                        *run.counts.lock().unwrap_or_else(PoisonError::into_inner) = counts;
                    }
                    Ok(())
                })
            }
            protocol::Log::NAME => answer::<protocol::Log, String>(payload, |record| {
                log_plugin_record(self.plugin(), &record);
                Ok(())
            }),
            protocol::RecordIssueNow::NAME => {
                answer::<protocol::RecordIssueNow, _>(payload, |issue| self.record_issue(&issue))
            }
            protocol::FindItems::NAME => answer::<protocol::FindItems, _>(payload, |refs| {
                self.core.db.find_items(self.plugin(), &refs)
            }),
            protocol::GetQuantities::NAME => {
                answer::<protocol::GetQuantities, _>(payload, |request| {
                    self.core.db.quantities_for(self.plugin(), &request)
                })
            }
            protocol::FindOrders::NAME => answer::<protocol::FindOrders, _>(payload, |ids| {
                self.core.db.find_orders(self.plugin(), &ids)
            }),
            protocol::ApplyBatch::NAME => {
                answer::<protocol::ApplyBatch, _>(payload, |mut batch| {
                    self.number_orders(batch.order_upserts.iter_mut());
                    let now = self.core.clock.now_ms();
                    self.core.db.apply_batch(self.plugin(), &batch, now)
                })
            }
            protocol::ApplyImport::NAME => {
                answer::<protocol::ApplyImport, _>(payload, |mut import| {
                    self.number_orders(import.batch.order_upserts.iter_mut());
                    let now = self.core.clock.now_ms();
                    self.core.db.apply_import(self.plugin(), &import, now)
                })
            }
            protocol::ChangesAfter::NAME => answer::<protocol::ChangesAfter, _>(payload, |r| {
                self.core.db.changes_after(self.plugin(), r.after, r.limit)
            }),
            protocol::AcknowledgeChanges::NAME => {
                answer::<protocol::AcknowledgeChanges, _>(payload, |ack| {
                    let now = self.core.clock.now_ms();
                    self.core
                        .db
                        .acknowledge_feed(self.plugin(), &ack.consumer, ack.seq, now)
                })
            }
            protocol::ParkChange::NAME => answer::<protocol::ParkChange, _>(payload, |r| {
                let now = self.core.clock.now_ms();
                self.core.db.park(self.plugin(), r.seq, &r.reason, now)?;
                match &self.run {
                    Some(run) => self.core.db.note_run_parked(run.run_id),
                    None => Ok(()),
                }
            }),
            protocol::UnparkChange::NAME => answer::<protocol::UnparkChange, _>(payload, |seq| {
                self.core.db.unpark(self.plugin(), seq)
            }),
            protocol::AnnotateOrders::NAME => answer::<protocol::AnnotateOrders, _>(payload, |a| {
                self.core.db.annotate_orders(self.plugin(), &a)
            }),
            protocol::GetStockBasis::NAME => answer::<protocol::GetStockBasis, _>(payload, |()| {
                self.core.db.stock_basis(self.plugin())
            }),
            protocol::ParkedRetries::NAME => answer::<protocol::ParkedRetries, _>(payload, |()| {
                self.core.db.parked_retries(self.plugin())
            }),
            protocol::GetRunOptions::NAME => {
                answer::<protocol::GetRunOptions, String>(payload, |()| {
                    Ok(self
                        .run
                        .as_ref()
                        .map(|r| r.options.clone())
                        .unwrap_or_default())
                })
            }
            protocol::ShowTable::NAME => {
                answer::<protocol::ShowTable, String>(payload, |table| self.show_table(&table))
            }
            other => Err(protocol::unknown_method_message(other, API_VERSION)),
        }
    }

    fn settings(&self) -> Result<Settings, String> {
        let stored = self
            .core
            .db
            .settings(self.plugin())
            .map_err(|e| e.to_string())?;
        let mut settings = Settings::default();
        for (key, value) in stored {
            settings.insert(&key, value);
        }
        Ok(self.manifest.effective_settings(&settings))
    }

    /// Refuses a key that is not one of the manifest's secret settings.
    fn declared_secret(&self, key: &str) -> Result<(), String> {
        let declared = self
            .manifest
            .field(key)
            .is_some_and(|f| f.kind == FieldKind::Secret);
        if declared {
            Ok(())
        } else {
            Err(format!(
                "{key:?} is not one of this plugin's secret settings"
            ))
        }
    }

    fn credential(&self, key: &str) -> Result<Option<plugin_api::Secret>, String> {
        self.declared_secret(key)?;
        let sealed = self
            .core
            .db
            .sealed_credential(self.plugin(), key)
            .map_err(|e| e.to_string())?;
        sealed
            .map(|s| self.core.key.open(self.plugin(), key, &s))
            .transpose()
            .map_err(|e| e.to_string())
    }

    /// Seals and stores a secret the plugin made; not a settings change, so
    /// the plugin is not activated again for it.
    fn put_credential(&self, key: &str, value: &plugin_api::Secret) -> Result<(), String> {
        self.declared_secret(key)?;
        let sealed = self
            .core
            .key
            .seal(self.plugin(), key, value)
            .map_err(|e| e.to_string())?;
        self.core
            .db
            .put_sealed_credential(self.plugin(), key, &sealed)
            .map_err(|e| e.to_string())
    }

    fn show_table(&self, table: &Table) -> Result<(), String> {
        let Some(run) = &self.run else {
            return Err("show_table is only available during a job run".into());
        };
        self.core
            .db
            .add_run_table(run.run_id, table)
            .map_err(|e| e.to_string())?;
        (run.on_table)(table);
        Ok(())
    }

    fn record_issue(&self, issue: &RecordIssue) -> Result<(), String> {
        let Some(run) = &self.run else {
            return Err("record_issue is only available during a job run".into());
        };
        let outcome = serde_json::to_value(issue.outcome)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        self.core
            .db
            .record_run_issue(run.run_id, &issue.record, &outcome, &issue.reason)
            .map_err(|e| e.to_string())
    }
}

impl HostFrame for PluginServices {
    fn api_version(&self) -> ApiVersion {
        API_VERSION
    }

    fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString> {
        // A panic here would unwind through the plugin's frames and abort the process.
        plugin_api::guard("the host", || {
            self.dispatch(method.as_str(), payload.as_str())
                .map(RString::from)
        })
    }
}

/// Decodes a request of method `M`, runs `handle`, encodes the response.
fn answer<M: HostMethod, E: std::fmt::Display>(
    payload: &str,
    handle: impl FnOnce(M::Request) -> Result<M::Response, E>,
) -> Result<String, String>
where
    M::Request: DeserializeOwned,
    M::Response: Serialize,
{
    let request =
        serde_json::from_str(payload).map_err(|e| format!("bad {} request: {e}", M::NAME))?;
    let response = handle(request).map_err(|e| e.to_string())?;
    serde_json::to_string(&response).map_err(|e| e.to_string())
}

/// Writes a plugin's log record into the host's log, under the plugin's id.
fn log_plugin_record(plugin: &str, record: &LogRecord) {
    let span = tracing::info_span!("plugin", id = plugin);
    let _entered = span.enter();
    let fields = record
        .fields
        .iter()
        .map(|(k, v)| format!(" {k}={v}"))
        .collect::<String>();
    let (target, message) = (&record.target, &record.message);
    match record.level {
        LogLevel::Error => tracing::error!(target: "plugin", "{target}: {message}{fields}"),
        LogLevel::Warn => tracing::warn!(target: "plugin", "{target}: {message}{fields}"),
        LogLevel::Info => tracing::info!(target: "plugin", "{target}: {message}{fields}"),
        LogLevel::Debug => tracing::debug!(target: "plugin", "{target}: {message}{fields}"),
        LogLevel::Trace => tracing::trace!(target: "plugin", "{target}: {message}{fields}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn services_of(plugin: &str, dir: &std::path::Path) -> PluginServices {
        let manifest = Manifest {
            id: plugin.into(),
            name: plugin.into(),
            version: "1".into(),
            description: String::new(),
            feature: plugin.into(),
            api_version: API_VERSION,
            settings: Vec::new(),
            jobs: Vec::new(),
        };
        let core = HostCore {
            db: Arc::new(Db::open(&dir.join("it.db")).unwrap()),
            key: CredentialKey::load_or_create(dir).unwrap(),
            clock: Clock::from_env().unwrap(),
        };
        PluginServices::new(Arc::new(core), Arc::new(manifest), None)
    }

    fn call(
        services: &PluginServices,
        method: &str,
        payload: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        services
            .dispatch(method, &payload.to_string())
            .map(|text| serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn db_messages_are_bound_to_the_calling_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let woo = services_of("woo", dir.path());
        call(
            &woo,
            "db.batch.apply",
            json!({
                "item_upserts": [{"external_id": "10", "number": "MUG"}],
                "order_upserts": [{
                    "external_id": "500", "number": "WC-500",
                    "lines": [{"external_line_id": "1", "item": {"external_id": "10"}, "quantity": 3}]
                }],
                "state_changes": [{"key": "cursor", "value": 0}]
            }),
        )
        .unwrap();
        let found = call(
            &woo,
            "db.items.find",
            json!([{"external_id": "10"}, {"number": "NOPE"}]),
        )
        .unwrap();
        assert_eq!(found[0]["number"], "MUG");
        assert_eq!(found[1], serde_json::Value::Null);
        let orders = call(&woo, "db.orders.find", json!(["500"])).unwrap();
        assert_eq!(orders[0]["lines"][0]["ordered"], 3);
        assert_eq!(
            call(&woo, "db.quantities", json!({})).unwrap()[0]["allocated"],
            3
        );
        assert_eq!(
            call(&woo, "state.get", json!({"key": "cursor"})).unwrap(),
            json!(0)
        );

        let erp = services_of("erp", dir.path());
        assert_eq!(
            call(&erp, "db.orders.find", json!(["500"])).unwrap(),
            json!([null])
        );
        assert_eq!(
            call(&erp, "state.get", json!({"key": "cursor"})).unwrap(),
            json!(null)
        );

        let err = call(
            &woo,
            "db.batch.apply",
            json!({"item_deactivations": ["nope"]}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "item deactivation 1: unknown item (external id \"nope\")"
        );
        let err = call(&woo, "db.changes.after", json!({"after": "x"})).unwrap_err();
        assert!(err.starts_with("bad db.changes.after request:"), "{err}");
        let err = call(&woo, "db.drop_everything", json!(null)).unwrap_err();
        assert_eq!(
            err,
            "unknown host service \"db.drop_everything\": this host offers plugin API 1.6"
        );
    }

    #[test]
    fn a_plugin_stores_its_own_secret_sealed_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut woo = services_of("woo", dir.path());
        woo.manifest = Arc::new(Manifest {
            settings: vec![plugin_api::SettingField::new(
                "webhook_secret",
                "Webhook secret",
                FieldKind::Secret,
            )],
            ..(*woo.manifest).clone()
        });
        call(
            &woo,
            "credential.put",
            json!({"key": "webhook_secret", "value": "whsec_made_here"}),
        )
        .unwrap();
        let sealed = woo
            .core
            .db
            .sealed_credential("woo", "webhook_secret")
            .unwrap()
            .unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"whsec_m"));
        assert_eq!(
            call(&woo, "credential.get", json!({"key": "webhook_secret"})).unwrap(),
            json!("whsec_made_here")
        );
        let err = call(
            &woo,
            "credential.put",
            json!({"key": "consumer_key", "value": "x"}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "\"consumer_key\" is not one of this plugin's secret settings"
        );
    }

    #[test]
    fn a_plugin_reads_only_its_own_declared_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let woo = services_of("woo", dir.path());
        let err = call(&woo, "credential.get", json!({"key": "consumer_secret"})).unwrap_err();
        assert_eq!(
            err,
            "\"consumer_secret\" is not one of this plugin's secret settings"
        );
    }
}
