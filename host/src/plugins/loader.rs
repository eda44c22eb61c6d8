//! Finding and loading plugin files.
//!
//! Each file in the plugin folder with the platform's library suffix is
//! checked in three steps, each refusing with one readable line and never
//! stopping the others: it must load as a library; its exported API version
//! must be one this host can run; abi_stable's layout check must pass. Then
//! its constructor and `manifest()` run. The host never does any of this
//! itself first: [`find`] has each file probed in a child process
//! ([`crate::plugins::probe`]), so a file whose loading aborts, exits, crashes or
//! hangs is refused and the host goes on. Only a plugin instance the admin
//! runs `in-process` is then loaded into the host ([`PluginLibrary`]).
//! Each file is loaded through its own library header: abi_stable's
//! by-path root-module loader caches by type and would hand back the first
//! plugin for every file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use abi_stable::library::{LibHeader, RawLibrary, lib_header_from_raw_library};
use abi_stable::std_types::RStr;
use plugin_api::abi::{API_VERSION_SYMBOL, PluginBox, PluginModRef};
use plugin_api::protocol::PluginMethod;
use plugin_api::{API_VERSION, ApiVersion, Manifest};

use crate::plugins::probe;
use crate::plugins::process::PluginProcess;
use crate::plugins::verdict::{RefusedFile, read_manifest};
use crate::runs::runner;

/// A plugin instance the host can call: its file, manifest and frame. The
/// first instance of a plugin is the plugin itself; an added one has its
/// own object (or process) and a manifest whose `id` is the instance id
/// (`PLUGIN:NAME`), so that everything the host keeps by id is the
/// instance's own.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub file: PathBuf,
    pub manifest: Manifest,
    pub frame: Arc<PluginBox>,
    /// The plugin's own id (its manifest's, for every instance).
    pub plugin_id: String,
    /// The added instance's name; `None` for the plugin itself.
    pub instance: Option<String>,
    /// The process the instance runs in, when it is isolated; `frame`
    /// then carries its calls there.
    pub process: Option<Arc<PluginProcess>>,
}

impl LoadedPlugin {
    /// Asks the plugin for a capability `M` that takes no request (what it
    /// accepts, what wakes it), waiting at most [`runner::STOP_GRACE`]:
    /// `None` when its API version predates `M`. `what` names the answer
    /// in errors ("which webhooks it accepts").
    pub fn ask<M: PluginMethod<Request = ()>>(
        &self,
        what: &str,
    ) -> Result<Option<M::Response>, String> {
        if !self.manifest.api_version.offers(M::SINCE) {
            return Ok(None);
        }
        let frame = self.frame.clone();
        let answer = runner::within(runner::STOP_GRACE, move || {
            frame
                .call(RStr::from_str(M::NAME), RStr::from_str("null"))
                .into_result()
                .map(|s| s.into_string())
                .map_err(|e| e.into_string())
        })
        .ok_or_else(|| format!("the plugin did not say in time {what}"))??;
        serde_json::from_str(&answer)
            .map(Some)
            .map_err(|e| format!("the plugin's answer of {what} is not understood: {e}"))
    }
}

/// Where an instance's calls go: a plugin object loaded into the host, or
/// a plugin process.
pub struct Frame {
    pub frame: Arc<PluginBox>,
    pub process: Option<Arc<PluginProcess>>,
}

/// A plugin file that passed its probe, with the manifest it answered.
pub struct FoundPlugin {
    pub file: PathBuf,
    pub manifest: Manifest,
}

/// What the plugin folder holds, as the probes found it.
#[derive(Default)]
pub struct Found {
    pub plugins: Vec<FoundPlugin>,
    pub refused: Vec<RefusedFile>,
}

/// Every plugin instance the host can call, and the files it refused.
#[derive(Default)]
pub struct PluginSet {
    pub loaded: Vec<LoadedPlugin>,
    pub refused: Vec<RefusedFile>,
}

impl PluginSet {
    /// The plugin instance with this id.
    pub fn get(&self, id: &str) -> Option<&LoadedPlugin> {
        self.loaded.iter().find(|p| p.manifest.id == id)
    }

    /// Every found plugin followed by its added instances, each given its
    /// frame by `frame_for` (from the plugin's file and the instance's
    /// manifest). A plugin whose frame cannot be made is refused; an
    /// instance whose plugin file is gone, or whose frame cannot be made,
    /// is left out with a warning.
    pub fn assemble(
        found: Found,
        instances: &[intellitrack_db::InstanceRow],
        mut frame_for: impl FnMut(&Path, &Manifest) -> Result<Frame, String>,
    ) -> Self {
        let mut set = PluginSet {
            loaded: Vec::new(),
            refused: found.refused,
        };
        for row in instances {
            if !found.plugins.iter().any(|p| p.manifest.id == row.plugin) {
                tracing::warn!(instance = %row.id, "its plugin {} is not in the plugin folder", row.plugin);
            }
        }
        for plugin in found.plugins {
            let frame = match frame_for(&plugin.file, &plugin.manifest) {
                Ok(frame) => frame,
                Err(reason) => {
                    set.refused.push(RefusedFile {
                        file: plugin.file,
                        api_version: Some(plugin.manifest.api_version),
                        reason,
                    });
                    continue;
                }
            };
            set.loaded
                .push(plugin.instance(plugin.manifest.clone(), None, frame));
            for row in instances.iter().filter(|r| r.plugin == plugin.manifest.id) {
                let manifest = instance_manifest(&plugin.manifest, row);
                match frame_for(&plugin.file, &manifest) {
                    Ok(frame) => {
                        set.loaded
                            .push(plugin.instance(manifest, Some(row.name.clone()), frame));
                    }
                    Err(reason) => tracing::warn!(instance = %row.id, "not loaded: {reason}"),
                }
            }
        }
        set
    }
}

/// The manifest of an added instance: its plugin's, with the instance's id
/// and a name that tells it from its plugin.
pub fn instance_manifest(plugin: &Manifest, row: &intellitrack_db::InstanceRow) -> Manifest {
    let mut manifest = plugin.clone();
    manifest.id = row.id.clone();
    manifest.name = format!("{} ({})", plugin.name, row.name);
    manifest
}

impl FoundPlugin {
    fn instance(&self, manifest: Manifest, name: Option<String>, frame: Frame) -> LoadedPlugin {
        LoadedPlugin {
            file: self.file.clone(),
            manifest,
            frame: frame.frame,
            plugin_id: self.manifest.id.clone(),
            instance: name,
            process: frame.process,
        }
    }
}

/// Probes every plugin file in `dir` (sorted by name, so results are
/// stable), each in a child process; a second file with an id already
/// found is refused.
pub fn find(dir: &Path) -> anyhow::Result<Found> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the plugin folder {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_library(p))
        .collect();
    files.sort();
    let mut found = Found::default();
    for (file, probed) in files.iter().zip(probe::probe_files(&files)) {
        let refused = match probed {
            Ok(manifest) => match found.plugins.iter().find(|p| p.manifest.id == manifest.id) {
                Some(first) => RefusedFile {
                    file: file.clone(),
                    api_version: Some(manifest.api_version),
                    reason: format!(
                        "plugin id {:?} is already provided by {}",
                        manifest.id,
                        first.file.display()
                    ),
                },
                None => {
                    found.plugins.push(FoundPlugin {
                        file: file.clone(),
                        manifest,
                    });
                    continue;
                }
            },
            Err(refused) => refused,
        };
        tracing::debug!("{}", refused.line());
        found.refused.push(refused);
    }
    Ok(found)
}

fn is_library(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == std::env::consts::DLL_EXTENSION)
}

/// A plugin library loaded into this process, its checks passed: it makes
/// plugin objects.
#[derive(Clone, Copy)]
pub struct PluginLibrary {
    module: PluginModRef,
    version: ApiVersion,
}

impl PluginLibrary {
    /// Loads `file` into this process and checks it: a library, an API
    /// version this host can run, a matching layout. The library stays
    /// loaded for the life of the process.
    pub fn open(file: &Path) -> Result<Self, RefusedFile> {
        let refuse = |api_version: Option<ApiVersion>, reason: String| RefusedFile {
            file: file.to_path_buf(),
            api_version,
            reason,
        };
        let library = RawLibrary::load_at(file).map_err(|e| {
            refuse(
                None,
                format!("not a loadable library: {}", one_line(&e.to_string())),
            )
        })?;
        // SAFETY: the symbol is declared by `export_plugin!` as `extern "C" fn() -> u32`.
        let packed =
            unsafe { library.get::<extern "C" fn() -> u32>(API_VERSION_SYMBOL.as_bytes()) }
                .map(|f| f())
                .map_err(|_| {
                    refuse(
                        None,
                        format!("not a plugin (it exports no {API_VERSION_SYMBOL})"),
                    )
                })?;
        let version = ApiVersion::unpack(packed);
        if !API_VERSION.can_host(version) {
            let reason = if version.major != API_VERSION.major {
                format!(
                    "built for plugin API {version}, a different major version; rebuild it against {API_VERSION}"
                )
            } else {
                format!(
                    "needs plugin API {version}, newer than this host's {API_VERSION}; upgrade the host"
                )
            };
            return Err(refuse(Some(version), reason));
        }
        // SAFETY: the library stays loaded for the life of the process (forgotten below).
        let header: &'static LibHeader = unsafe { lib_header_from_raw_library(&library) }
            .map_err(|e| refuse(Some(version), layout_reason(&e.to_string())))?;
        std::mem::forget(library);
        let module = header
            .init_root_module::<PluginModRef>()
            .map_err(|e| refuse(Some(version), layout_reason(&e.to_string())))?;
        Ok(Self { module, version })
    }

    /// A new plugin object, from the plugin's constructor.
    pub fn new_plugin(&self) -> Result<PluginBox, String> {
        self.module.new_plugin()()
            .into_result()
            .map_err(|e| format!("its constructor failed: {e}"))
    }
}

/// Loads `file` into this process, makes its plugin object and reads its
/// manifest: what a plugin process does first, and what a probe answers.
pub fn load_file(file: &Path) -> Result<(PluginBox, Manifest), RefusedFile> {
    let library = PluginLibrary::open(file)?;
    let refuse = |reason: String| RefusedFile {
        file: file.to_path_buf(),
        api_version: Some(library.version),
        reason,
    };
    let frame = library.new_plugin().map_err(refuse)?;
    let manifest_json = frame
        .manifest()
        .into_result()
        .map_err(|e| refuse(format!("no manifest: {e}")))?;
    let manifest = read_manifest(&manifest_json).map_err(refuse)?;
    Ok((frame, manifest))
}

/// abi_stable's layout errors run to thousands of lines: keep the first
/// `Error:` line for the admin and the whole text for the debug log.
fn layout_reason(full: &str) -> String {
    tracing::debug!("layout check failed:\n{full}");
    let line = full
        .lines()
        .find(|l| l.trim_start().starts_with("Error:"))
        .unwrap_or(full);
    format!("its ABI does not match this host: {}", one_line(line))
}

/// A possibly multi-line message as one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
