//! A library that says it was built against plugin API 1.99, newer than any
//! host of this repository offers: the host must refuse it with one line
//! naming both versions, before touching anything else in it.

/// The version symbol the host reads first (see `plugin_api::abi::API_VERSION_SYMBOL`).
#[unsafe(no_mangle)]
pub extern "C" fn intellitrack_plugin_api_version() -> u32 {
    plugin_api::ApiVersion::new(1, 99).packed()
}
