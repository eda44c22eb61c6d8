//! The host frame the plugin under test receives: the host's services, with
//! the plugin's log records kept for the test instead of written to a log.

use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RArc, RResult, RStr, RString};
use plugin_api::abi::{HostFrame, HostFrame_TO, HostRef};
use plugin_api::protocol::{HostMethod, Log, LogRecord};
use plugin_api::{API_VERSION, ApiVersion};
use plugin_host::services::PluginServices;

/// Log records, in the order they arrived.
pub type LogBook = Arc<Mutex<Vec<LogRecord>>>;

#[derive(Clone)]
pub struct Recorder {
    services: PluginServices,
    logs: LogBook,
}

impl Recorder {
    pub fn host_ref(services: PluginServices, logs: LogBook) -> HostRef {
        HostFrame_TO::from_ptr(RArc::new(Self { services, logs }), TD_Opaque)
    }
}

impl HostFrame for Recorder {
    fn api_version(&self) -> ApiVersion {
        API_VERSION
    }

    fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString> {
        if method.as_str() != Log::NAME {
            return self.services.call(method, payload);
        }
        match serde_json::from_str::<LogRecord>(payload.as_str()) {
            Ok(record) => {
                lock(&self.logs).push(record);
                RResult::ROk("null".into())
            }
            Err(e) => RResult::RErr(format!("bad {} request: {e}", Log::NAME).into()),
        }
    }
}

/// The log book, even if a panicking test thread poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
