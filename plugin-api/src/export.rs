//! The glue between a [`Plugin`] and the frozen frame: JSON in and out, and
//! no panic ever crossing the boundary.
//!
//! [`crate::export_plugin!`] uses this; plugin code does not call it directly,
//! except [`guard`] for any other function it hands across the boundary.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RString};

use crate::abi::{HostRef, PluginBox, PluginFrame, PluginFrame_TO};
use crate::context::Context;
use crate::log_bridge;
use crate::plugin::Plugin;
use crate::protocol::{AcceptWebhooks, PluginMethod, ValidateSettings, WakeOnFeed};
use crate::version::API_VERSION;

/// Runs `f`, turning a panic into an error naming `call` and the panic's
/// message, so nothing unwinds across the library boundary (a panic that did
/// would abort the whole host process).
pub fn guard<T>(call: &str, f: impl FnOnce() -> Result<T, String>) -> RResult<T, RString> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => RResult::ROk(value),
        Ok(Err(message)) => RResult::RErr(message.into()),
        Err(payload) => {
            RResult::RErr(format!("plugin panicked in {call}: {}", panic_message(&*payload)).into())
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)")
}

/// Builds the plugin object the host receives; used by [`crate::export_plugin!`].
pub fn new_plugin<P: Plugin>(construct: impl FnOnce() -> P) -> RResult<PluginBox, RString> {
    guard("the plugin's constructor", || {
        Ok(PluginFrame_TO::from_value(Exported(construct()), TD_Opaque))
    })
}

struct Exported<P>(P);

fn to_json<T: serde::Serialize>(value: &T) -> Result<RString, String> {
    serde_json::to_string(value)
        .map(RString::from)
        .map_err(|e| format!("cannot encode the reply: {e}"))
}

impl<P: Plugin> PluginFrame for Exported<P> {
    fn manifest(&self) -> RResult<RString, RString> {
        guard("manifest", || {
            let mut manifest = self.0.manifest();
            manifest.api_version = API_VERSION;
            manifest.check().map_err(|e| e.to_string())?;
            to_json(&manifest)
        })
    }

    fn activate(&self, host: HostRef) -> RResult<(), RString> {
        guard("activate", || {
            log_bridge::attach(host.clone());
            let result = log_bridge::during(&host, || self.0.activate(&Context::new(host.clone())));
            if result.is_err() {
                log_bridge::detach();
            }
            result.map_err(|e| e.to_string())
        })
    }

    fn run_job(&self, job: RStr<'_>, host: HostRef) -> RResult<RString, RString> {
        guard(&format!("job {}", job.as_str()), || {
            let report = log_bridge::during(&host, || {
                self.0.run_job(job.as_str(), &Context::new(host.clone()))
            })
            .map_err(|e| e.to_string())?;
            to_json(&report)
        })
    }

    fn deactivate(&self) -> RResult<(), RString> {
        let result = guard("deactivate", || {
            self.0.deactivate();
            Ok(())
        });
        log_bridge::detach();
        result
    }

    fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString> {
        guard(method.as_str(), || match method.as_str() {
            ValidateSettings::NAME => {
                let settings = serde_json::from_str(payload.as_str())
                    .map_err(|e| format!("bad {} request: {e}", ValidateSettings::NAME))?;
                to_json(&self.0.validate_settings(&settings))
            }
            AcceptWebhooks::NAME => to_json(&self.0.webhooks()),
            WakeOnFeed::NAME => to_json(&self.0.feed_wakes()),
            other => Err(format!(
                "unknown plugin capability {other:?}: this plugin was built against plugin API {API_VERSION}"
            )),
        })
    }
}

/// Exports a [`Plugin`] from a `cdylib` crate: the root module the host
/// loads, and the API version symbol it reads first.
///
/// ```ignore
/// plugin_api::export_plugin!(LowStock::default);
/// ```
///
/// The argument is a path to a function (or constructor) returning the
/// plugin value. Use it once, at the crate root.
#[macro_export]
macro_rules! export_plugin {
    ($constructor:path) => {
        /// The plugin API version this library was built against (packed).
        #[unsafe(no_mangle)]
        pub extern "C" fn intellitrack_plugin_api_version() -> u32 {
            $crate::API_VERSION.packed()
        }

        /// abi_stable's library header, under the name its loader looks up.
        #[unsafe(no_mangle)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__private::LibHeader = {
            extern "C" fn new_plugin()
            -> $crate::__private::RResult<$crate::abi::PluginBox, $crate::__private::RString> {
                $crate::export::new_plugin($constructor)
            }
            fn root_module() -> $crate::abi::PluginModRef {
                $crate::__private::PrefixTypeTrait::leak_into_prefix($crate::abi::PluginMod {
                    api_version: $crate::API_VERSION,
                    new_plugin,
                })
            }
            extern "C" fn erased_root_module() -> $crate::__private::RootModuleResult {
                $crate::__private::__call_root_module_loader(root_module)
            }
            // SAFETY: the constructor returns the `PluginModRef` declared here.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::abi::PluginModRef>(
                    erased_root_module,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exported_header_name_is_the_one_abi_stable_looks_up() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }

    #[test]
    fn guard_turns_a_panic_into_an_error() {
        let r: RResult<(), RString> = guard("job x", || panic!("boom {}", 42));
        assert_eq!(
            r.into_result().unwrap_err().as_str(),
            "plugin panicked in job x: boom 42"
        );
        let r: RResult<u8, RString> = guard("job x", || Err("plain".into()));
        assert_eq!(r.into_result().unwrap_err().as_str(), "plain");
    }
}
