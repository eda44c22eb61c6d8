//! The frozen ABI frame: the only types that cross the library boundary.
//!
//! Everything here is frozen for the whole 1.x series: adding, removing or
//! reordering a field or method would make abi_stable's one-way layout check
//! refuse every plugin built before (see `ARCHITECTURE.md`). The API grows
//! instead through named, versioned messages carried by [`HostFrame::call`]
//! and [`PluginFrame::call`]; [`crate::protocol`] lists them.
//!
//! Plugin authors never touch this module: [`crate::export_plugin!`] builds
//! the root module and [`crate::Context`] wraps the host frame.

#![allow(non_local_definitions)]

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RArc, RBox, RResult, RStr, RString},
};

use crate::version::ApiVersion;

/// What a plugin exports: its API version and a constructor.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The plugin API version the plugin was built against.
    pub api_version: ApiVersion,
    /// Creates a plugin object: once per plugin instance the host runs (an
    /// admin may configure one plugin several times, e.g. once per store).
    #[sabi(last_prefix_field)]
    pub new_plugin: extern "C" fn() -> RResult<PluginBox, RString>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "intellitrack_plugin";
    const NAME: &'static str = "intellitrack_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The name of the plain C symbol every plugin exports beside its root
/// module: `extern "C" fn() -> u32`, the packed [`ApiVersion`]. The host reads
/// it before abi_stable's layout check so that a plugin of another major
/// version is refused with one readable line.
pub const API_VERSION_SYMBOL: &str = "intellitrack_plugin_api_version";

/// The plugin object, as the host sees it. Every method returns JSON text
/// or an error message; none may panic (the export glue catches panics).
#[sabi_trait]
pub trait PluginFrame: Send + Sync {
    /// The manifest, as JSON ([`crate::Manifest`]).
    fn manifest(&self) -> RResult<RString, RString>;

    /// Validates settings and checks the connection; an error refuses activation.
    fn activate(&self, host: HostRef) -> RResult<(), RString>;

    /// Runs one job; the result is a JSON [`crate::JobReport`].
    fn run_job(&self, job: RStr<'_>, host: HostRef) -> RResult<RString, RString>;

    /// Stops background work; the host drops the object afterwards.
    fn deactivate(&self) -> RResult<(), RString>;

    /// A named, versioned plugin capability ([`crate::protocol::PluginMethod`]).
    #[sabi(last_prefix_field)]
    fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString>;
}

/// The host's services, as a plugin sees them: bound by the host to one
/// plugin (and, during a job, to one run).
#[sabi_trait]
pub trait HostFrame: Clone + Send + Sync {
    /// The plugin API version the host offers.
    fn api_version(&self) -> ApiVersion;

    /// A named, versioned host service ([`crate::protocol::HostMethod`]).
    #[sabi(last_prefix_field)]
    fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString>;
}

/// An owned plugin object.
pub type PluginBox = PluginFrame_TO<'static, RBox<()>>;

/// A shared handle to the host's services.
pub type HostRef = HostFrame_TO<'static, RArc<()>>;
