//! Finding and loading plugin files.
//!
//! Each file in the plugin folder with the platform's library suffix is
//! checked in three steps, each refusing with one readable line and never
//! stopping the others: it must load as a library; its exported API version
//! must be one this host can run; abi_stable's layout check must pass. Each
//! file is loaded through its own library header: abi_stable's by-path
//! root-module loader caches by type and would hand back the first plugin
//! for every file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use abi_stable::library::{LibHeader, RawLibrary, lib_header_from_raw_library};
use plugin_api::abi::{API_VERSION_SYMBOL, PluginBox, PluginModRef};
use plugin_api::{API_VERSION, ApiVersion, Manifest};

use crate::plugin_process::PluginProcess;

/// A plugin instance that loaded: its file, manifest and object. The first
/// instance of a plugin is the plugin itself; an added one has its own
/// object, made by the same library, and a manifest whose `id` is the
/// instance id (`PLUGIN:NAME`), so that everything the host keeps by id is
/// the instance's own.
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
    module: PluginModRef,
}

impl LoadedPlugin {
    /// A further instance of this plugin: a new object from the library,
    /// known by `instance_id`.
    pub fn instance(&self, instance_id: &str, name: &str) -> Result<LoadedPlugin, String> {
        let frame = self.module.new_plugin()()
            .into_result()
            .map_err(|e| format!("the plugin's constructor failed: {e}"))?;
        let mut manifest = self.manifest.clone();
        manifest.id = instance_id.to_owned();
        manifest.name = format!("{} ({name})", self.manifest.name);
        Ok(LoadedPlugin {
            file: self.file.clone(),
            manifest,
            frame: Arc::new(frame),
            plugin_id: self.plugin_id.clone(),
            instance: Some(name.to_owned()),
            process: None,
            module: self.module,
        })
    }
}

/// A file that is not a plugin this host can run, and why.
#[derive(Clone, Debug)]
pub struct RefusedFile {
    pub file: PathBuf,
    pub api_version: Option<ApiVersion>,
    pub reason: String,
}

impl RefusedFile {
    /// The one line shown to the admin.
    pub fn line(&self) -> String {
        let version = self
            .api_version
            .map_or_else(|| "unknown".to_string(), |v| v.to_string());
        format!(
            "refused {} (plugin API {version}; this host offers {API_VERSION}): {}",
            self.file.display(),
            self.reason
        )
    }
}

/// Everything found in the plugin folder.
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

    /// Makes the added instances of the loaded plugins, each after its
    /// plugin; an instance whose plugin file is gone, or whose object
    /// cannot be made, is left out with a warning.
    pub fn add_instances(&mut self, instances: &[intellitrack_db::InstanceRow]) {
        for row in instances {
            let Some(base) = self
                .loaded
                .iter()
                .position(|p| p.manifest.id == row.plugin && p.instance.is_none())
            else {
                tracing::warn!(instance = %row.id, "its plugin {} is not in the plugin folder", row.plugin);
                continue;
            };
            match self.loaded[base].instance(&row.id, &row.name) {
                Ok(instance) => {
                    let after = self.loaded[base..]
                        .iter()
                        .take_while(|p| p.plugin_id == row.plugin)
                        .count();
                    self.loaded.insert(base + after, instance);
                }
                Err(reason) => tracing::warn!(instance = %row.id, "not loaded: {reason}"),
            }
        }
    }
}

/// Loads every plugin file in `dir` (sorted by name, so results are stable).
pub fn load_folder(dir: &Path) -> anyhow::Result<PluginSet> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the plugin folder {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_library(p))
        .collect();
    files.sort();
    let mut set = PluginSet::default();
    for file in files {
        match load_file(&file) {
            Ok(plugin) => {
                if let Some(first) = set.get(&plugin.manifest.id) {
                    let reason = format!(
                        "plugin id {:?} is already provided by {}",
                        plugin.manifest.id,
                        first.file.display()
                    );
                    set.refused.push(RefusedFile {
                        file,
                        api_version: Some(plugin.manifest.api_version),
                        reason,
                    });
                } else {
                    set.loaded.push(plugin);
                }
            }
            Err(refused) => {
                tracing::debug!("{}", refused.line());
                set.refused.push(refused);
            }
        }
    }
    Ok(set)
}

fn is_library(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == std::env::consts::DLL_EXTENSION)
}

pub fn load_file(file: &Path) -> Result<LoadedPlugin, RefusedFile> {
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
    let packed = unsafe { library.get::<extern "C" fn() -> u32>(API_VERSION_SYMBOL.as_bytes()) }
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
    let frame = module.new_plugin()()
        .into_result()
        .map_err(|e| refuse(Some(version), format!("its constructor failed: {e}")))?;
    let manifest_json = frame
        .manifest()
        .into_result()
        .map_err(|e| refuse(Some(version), format!("no manifest: {e}")))?;
    let manifest: Manifest = serde_json::from_str(&manifest_json)
        .map_err(|e| refuse(Some(version), format!("its manifest is not readable: {e}")))?;
    manifest
        .check()
        .map_err(|e| refuse(Some(version), e.to_string()))?;
    Ok(LoadedPlugin {
        file: file.to_path_buf(),
        plugin_id: manifest.id.clone(),
        manifest,
        frame: Arc::new(frame),
        instance: None,
        process: None,
        module,
    })
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
