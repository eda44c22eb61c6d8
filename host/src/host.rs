//! The host as one process sees it: its data dir, database, credential key,
//! clock and the plugins found at start-up, with the operations an admin
//! performs on them (activate, deactivate, settings).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::RStr;
use anyhow::bail;
use intellitrack_db::{Access, Db, EVERY_PLUGIN, FeatureGrant, PluginRegistration};
use plugin_api::abi::PluginFrame_TO;
use plugin_api::protocol::{PluginMethod, ValidateSettings};
use plugin_api::{FieldError, FieldKind, Manifest, Settings};

use crate::clock::Clock;
use crate::credentials::CredentialKey;
use crate::data_dir;
use crate::plugins::isolation::{self, Isolation, Limits};
use crate::plugins::loader::{self, Frame, LoadedPlugin, PluginLibrary, PluginSet};
use crate::plugins::process::{PluginProcess, ProcessEvents, ProcessFrame};
use crate::process_owner;
use crate::runs::live::LiveRuns;
use crate::runs::runner;
use crate::services::{HostCore, PluginServices};
use crate::settings_change::{self, SettingsChange};

/// The host-owned setting that bounds how long one job may run.
pub const JOB_DEADLINE: &str = "host.job_deadline";
const DEFAULT_JOB_DEADLINE: Duration = Duration::from_secs(3600);
/// The longest deadline an admin may set: a week.
const MAX_JOB_DEADLINE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The state of a plugin as shown to the admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginState {
    Active,
    Inactive,
    Refused,
    Faulted,
}

pub struct Host {
    pub core: Arc<HostCore>,
    /// The plugin instances found at start, and the files refused.
    pub plugins: PluginSet,
    /// The runs going on in this process.
    pub live: LiveRuns,
    /// The instances added since (by `plugins add-instance` from another
    /// process while `serve` runs), picked up by [`Host::pick_up_instances`].
    added: Mutex<Added>,
}

/// Instances picked up after the start: each kept for the process's life,
/// as those found at start are, so a reference to one stays good.
#[derive(Default)]
struct Added {
    loaded: Vec<&'static LoadedPlugin>,
    /// Ids that could not be loaded, so each is tried (and warned of) once.
    refused: HashSet<String>,
}

impl Host {
    /// Opens the data dir (creating it), the database and the key, and loads
    /// every plugin in `plugin_dir`.
    pub fn start(data_dir: &Path, plugin_dir: &Path) -> anyhow::Result<Self> {
        let db = Db::open(&data_dir::prepare(data_dir)?)?;
        if db.switched_to_incremental_vacuum() {
            tracing::info!(
                "the database was switched to incremental auto-vacuum (a one-time VACUUM), so pruning gives space back"
            );
        }
        let key = CredentialKey::load_or_create(data_dir)?;
        data_dir::warn_if_open(data_dir);
        let clock = Clock::from_env()?;
        let found = loader::find(plugin_dir)?;
        let db = Arc::new(db);
        let mut libraries = HashMap::new();
        let plugins = PluginSet::assemble(found, &db.instances()?, |file, manifest| {
            frame_for(&db, &mut libraries, file, manifest)
        });
        for plugin in &plugins.loaded {
            register(&db, plugin, clock.now_ms())?;
        }
        let host = Self {
            core: Arc::new(HostCore { db, key, clock }),
            plugins,
            live: LiveRuns::default(),
            added: Mutex::default(),
        };
        host.close_orphaned_runs()?;
        Ok(host)
    }

    /// Closes as interrupted the runs left `running` by a process that
    /// died (killed, or the machine lost power): every command does it
    /// first, so no command shows such a run as running, and `serve` does
    /// it on every poll.
    pub fn close_orphaned_runs(&self) -> anyhow::Result<()> {
        let closed = self
            .core
            .db
            .close_orphaned_runs(process_owner::alive, self.core.clock.now_ms())?;
        for run in closed {
            tracing::warn!(
                run,
                "run #{run} was left running by a process that ended; recorded as interrupted"
            );
        }
        Ok(())
    }

    /// Adds instance `name` of the plugin `plugin` (a running `serve` picks
    /// it up within a second; other commands know it from their start).
    pub fn add_instance(&self, plugin: &str, name: &str) -> anyhow::Result<String> {
        let base = self.plugin(plugin)?;
        if base.instance.is_some() {
            bail!(
                "{plugin} is an instance; add instances to its plugin, {}",
                base.plugin_id
            );
        }
        Ok(self
            .core
            .db
            .add_instance(plugin, name, self.core.clock.now_ms())?
            .id)
    }

    fn added(&self) -> std::sync::MutexGuard<'_, Added> {
        self.added.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The plugin instance with this id, found at start or picked up since.
    pub fn find(&self, id: &str) -> Option<&LoadedPlugin> {
        self.plugins.get(id).or_else(|| {
            let added = self.added();
            let found: Option<&'static LoadedPlugin> =
                added.loaded.iter().copied().find(|p| p.manifest.id == id);
            found
        })
    }

    /// Every plugin instance: those found at start, then those picked up.
    pub fn instances(&self) -> Vec<&LoadedPlugin> {
        let mut all: Vec<&LoadedPlugin> = self.plugins.loaded.iter().collect();
        all.extend(self.added().loaded.iter().copied());
        all
    }

    /// Loads the instances added to the database since this process
    /// started, of the plugins it found; returns their ids. `serve` calls
    /// it on every poll, so a new instance shows on the admin page and
    /// follows the schedule without a restart.
    pub fn pick_up_instances(&self) -> anyhow::Result<Vec<String>> {
        let mut picked = Vec::new();
        for row in self.core.db.instances()? {
            if self.find(&row.id).is_some() || self.added().refused.contains(&row.id) {
                continue;
            }
            let Some(base) = self
                .plugins
                .get(&row.plugin)
                .filter(|p| p.instance.is_none())
            else {
                continue;
            };
            let manifest = loader::instance_manifest(&base.manifest, &row);
            let frame = match frame_for(&self.core.db, &mut HashMap::new(), &base.file, &manifest) {
                Ok(frame) => frame,
                Err(reason) => {
                    tracing::warn!(instance = %row.id, "not loaded: {reason}");
                    self.added().refused.insert(row.id);
                    continue;
                }
            };
            let plugin = LoadedPlugin {
                file: base.file.clone(),
                manifest,
                frame: frame.frame,
                plugin_id: base.plugin_id.clone(),
                instance: Some(row.name),
                process: frame.process,
            };
            register(&self.core.db, &plugin, self.core.clock.now_ms())?;
            tracing::info!(instance = %row.id, "added instance picked up");
            picked.push(row.id);
            self.added().loaded.push(Box::leak(Box::new(plugin)));
        }
        Ok(picked)
    }

    /// The plugin instance with this id (a plugin's own id is its first instance).
    pub fn plugin(&self, id: &str) -> anyhow::Result<&LoadedPlugin> {
        if let Some(p) = self.find(id) {
            return Ok(p);
        }
        let instances = self.instances();
        let known: Vec<&str> = instances.iter().map(|p| p.manifest.id.as_str()).collect();
        bail!(
            "no plugin {id:?} is loaded; loaded plugins: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    }

    pub fn state_of(&self, id: &str) -> anyhow::Result<PluginState> {
        let record = self.core.db.plugin(id)?;
        Ok(match record {
            Some(r) if r.enabled && r.fault.is_some() => PluginState::Faulted,
            Some(r) if r.enabled => PluginState::Active,
            _ => PluginState::Inactive,
        })
    }

    pub fn services(&self, plugin: &LoadedPlugin) -> PluginServices {
        PluginServices::new(self.core.clone(), Arc::new(plugin.manifest.clone()), None)
    }

    /// Calls the plugin's `activate` (settings check, connection check) under
    /// the job deadline. The reason for a refusal is returned as the error.
    pub fn try_activate(&self, plugin: &LoadedPlugin) -> Result<(), String> {
        let deadline = self.job_deadline(&plugin.manifest.id);
        self.start_activation(plugin)?
            .recv_timeout(deadline)
            .unwrap_or_else(|_| Err(activation_too_slow(deadline)))
    }

    /// Starts the plugin's `activate` on its own thread, after checking that
    /// every required setting has a value; the answer arrives on the channel.
    pub fn start_activation(
        &self,
        plugin: &LoadedPlugin,
    ) -> Result<mpsc::Receiver<Result<(), String>>, String> {
        let missing = plugin.manifest.missing_required(|field| {
            settings_change::is_set(&self.core, &plugin.manifest.id, field)
        });
        if !missing.is_empty() {
            return Err(settings_refusal(&missing));
        }
        if let Some(process) = &plugin.process
            && matches!(self.core.db.plugin(&plugin.manifest.id), Ok(Some(r)) if r.fault.is_none())
        {
            process.clear_fault();
        }
        let frame = plugin.frame.clone();
        let host = self.services(plugin).into_host_ref();
        Ok(runner::spawn_call(move || {
            frame
                .activate(host)
                .into_result()
                .map_err(|e| e.into_string())
        }))
    }

    /// Calls the plugin's `deactivate`, waiting at most the stop grace
    /// period; a plugin in its own process that has not finished by then is
    /// killed.
    pub fn deactivate(&self, plugin: &LoadedPlugin) -> Result<(), String> {
        let frame = plugin.frame.clone();
        match runner::within(runner::STOP_GRACE, move || frame.deactivate().into_result()) {
            Some(Ok(())) => Ok(()),
            Some(Err(reason)) => Err(reason.into_string()),
            None => {
                if let Some(process) = &plugin.process {
                    process.kill("its deactivation did not finish in time");
                }
                Err("deactivation did not finish in time".into())
            }
        }
    }

    /// The stored settings of a plugin (defaults filled in, secrets left out).
    pub fn settings(&self, plugin: &LoadedPlugin) -> anyhow::Result<Settings> {
        let mut stored = Settings::default();
        for (key, value) in self.core.db.settings(&plugin.manifest.id)? {
            stored.insert(&key, value);
        }
        Ok(plugin.manifest.effective_settings(&stored))
    }

    /// Which secrets have a value.
    pub fn secrets_set(&self, plugin: &LoadedPlugin) -> anyhow::Result<Vec<(String, bool)>> {
        let id = &plugin.manifest.id;
        plugin
            .manifest
            .settings
            .iter()
            .filter(|f| f.kind == FieldKind::Secret)
            .map(|f| {
                Ok((
                    f.key.clone(),
                    self.core.db.sealed_credential(id, &f.key)?.is_some(),
                ))
            })
            .collect()
    }

    /// Applies `key=value` assignments: every one is checked first (field
    /// type, then the plugin's own rules); if any is refused, nothing changes.
    pub fn set_settings(
        &self,
        plugin: &LoadedPlugin,
        assignments: &[String],
    ) -> anyhow::Result<()> {
        let manifest = &plugin.manifest;
        let mut change = SettingsChange::default();
        let mut host_level = Vec::new();
        for assignment in assignments {
            let Some((key, raw)) = assignment.split_once('=') else {
                change
                    .errors
                    .push(FieldError::new(assignment, "expected key=value"));
                continue;
            };
            let key = key.trim();
            if let Some(parsed) = parse_host_setting(key, raw) {
                match parsed {
                    Ok(value) => host_level.push((key, value)),
                    Err(reason) => change.errors.push(FieldError::new(key, &reason)),
                }
                continue;
            }
            if !change.add(manifest, key, raw) {
                let mut keys: Vec<&str> =
                    manifest.settings.iter().map(|f| f.key.as_str()).collect();
                keys.extend(HOST_SETTINGS.iter().map(|s| s.key));
                change.errors.push(FieldError::new(
                    key,
                    &format!(
                        "is not a setting of {}; settings: {}",
                        manifest.id,
                        keys.join(", ")
                    ),
                ));
            }
        }
        if change.errors.is_empty() {
            change.errors = self.plugin_rules(plugin, &change.plain)?;
        }
        if !change.errors.is_empty() {
            // Typed, so that a form can show each field's error beside it.
            return Err(plugin_api::PluginError::Settings(change.errors).into());
        }
        let id = &manifest.id;
        change.write(&self.core, id)?;
        self.core.db.touch_plugin(id, self.core.clock.now_ms())?;
        for (key, value) in host_level {
            self.core.db.put_host_setting(id, key, &value)?;
        }
        Ok(())
    }

    /// Asks a plugin of API 1.1 or later to check the settings as they would be.
    fn plugin_rules(
        &self,
        plugin: &LoadedPlugin,
        changes: &[(String, serde_json::Value)],
    ) -> anyhow::Result<Vec<FieldError>> {
        if !plugin.manifest.api_version.offers(ValidateSettings::SINCE) {
            return Ok(Vec::new());
        }
        let mut settings = self.settings(plugin)?;
        for (key, value) in changes {
            settings.insert(key, value.clone());
        }
        let payload = serde_json::to_string(&settings)?;
        let frame = plugin.frame.clone();
        let answer = runner::within(runner::STOP_GRACE, move || {
            frame
                .call(
                    RStr::from_str(ValidateSettings::NAME),
                    RStr::from_str(&payload),
                )
                .into_result()
                .map(|s| s.into_string())
                .map_err(|e| e.into_string())
        });
        match answer {
            Some(Ok(json)) => Ok(serde_json::from_str(&json)?),
            Some(Err(e)) => bail!("the plugin could not check the settings: {e}"),
            None => bail!("the plugin did not check the settings in time"),
        }
    }

    /// How long one job of `plugin` may run.
    pub fn job_deadline(&self, plugin: &str) -> Duration {
        self.core
            .db
            .host_settings(plugin)
            .ok()
            .and_then(|s| s.into_iter().find(|(k, _)| k == JOB_DEADLINE))
            .and_then(|(_, v)| v.as_u64())
            .map_or(DEFAULT_JOB_DEADLINE, Duration::from_secs)
    }
}

/// A setting the host keeps for every plugin instance, beside the
/// plugin's own, as the admin sees it (the CLI's listing, the page's form).
pub struct HostSetting {
    pub key: &'static str,
    pub label: &'static str,
    /// The kind of value, as the CLI's listing names it.
    pub kind: &'static str,
    pub help: &'static str,
}

/// The settings the host keeps for every plugin, beside the plugin's own.
pub const HOST_SETTINGS: [HostSetting; 4] = [
    HostSetting {
        key: JOB_DEADLINE,
        label: "Job deadline",
        kind: "duration",
        help: "How long one job may run before it is asked to stop (seconds; set as e.g. 90s, 30m, 2h)",
    },
    HostSetting {
        key: isolation::ISOLATION,
        label: "Isolation",
        kind: "choice",
        help: "process (its own process: nothing it does can stop the host; the default) or in-process (loaded into the host), from the host's next start",
    },
    HostSetting {
        key: isolation::MEMORY_LIMIT,
        label: "Memory limit",
        kind: "size",
        help: "The most memory its process may take, in bytes (set as e.g. 512M or 2G); none by default; from the host's next start",
    },
    HostSetting {
        key: isolation::OPEN_FILES,
        label: "Open files",
        kind: "integer",
        help: "The most files its process may hold open; the system's limit by default; from the host's next start",
    },
];

/// Reads an admin's value for a host-level setting; `None` when `key` is
/// not one (it is then the plugin's own).
pub fn parse_host_setting(key: &str, raw: &str) -> Option<Result<serde_json::Value, String>> {
    if key == JOB_DEADLINE {
        return Some(parse_duration(raw).map(|d| serde_json::json!(d.as_secs())));
    }
    isolation::parse_setting(key, raw)
}

/// Records a plugin instance the host can call (its name, version, file).
fn register(db: &Db, plugin: &LoadedPlugin, now_ms: i64) -> anyhow::Result<()> {
    let m = &plugin.manifest;
    db.register_plugin(
        &PluginRegistration {
            id: m.id.clone(),
            name: m.name.clone(),
            version: m.version.clone(),
            api_version: m.api_version.to_string(),
            file: plugin.file.display().to_string(),
        },
        now_ms,
    )?;
    Ok(())
}

/// Where a plugin instance's calls go: to a process of its own, unless its
/// settings ask for it to run in the host (`host.isolation = in-process`);
/// only then is its file loaded into the host (once, whatever the number
/// of such instances).
fn frame_for(
    db: &Arc<Db>,
    libraries: &mut HashMap<PathBuf, PluginLibrary>,
    file: &Path,
    manifest: &Manifest,
) -> Result<Frame, String> {
    let settings = db
        .host_settings(&manifest.id)
        .map_err(|e| format!("cannot read its host settings: {e}"))?;
    if Isolation::of(&settings) == Isolation::InProcess {
        let library = match libraries.get(file) {
            Some(library) => *library,
            None => {
                let library = PluginLibrary::open(file).map_err(|refused| refused.reason)?;
                *libraries.entry(file.to_path_buf()).or_insert(library)
            }
        };
        return Ok(Frame {
            frame: Arc::new(library.new_plugin()?),
            process: None,
        });
    }
    let events = RecordedEvents {
        db: db.clone(),
        plugin: manifest.id.clone(),
    };
    let process = PluginProcess::new(file.to_path_buf(), Limits::of(&settings), Box::new(events));
    Ok(Frame {
        frame: Arc::new(PluginFrame_TO::from_value(
            ProcessFrame(process.clone()),
            TD_Opaque,
        )),
        process: Some(process),
    })
}

/// Keeps in the database what an admin sees of a plugin process: its pid,
/// and the fault after repeated deaths.
struct RecordedEvents {
    db: Arc<Db>,
    plugin: String,
}

impl ProcessEvents for RecordedEvents {
    fn started(&self, pid: u32) {
        let owner = process_owner::token_of(pid).unwrap_or_default();
        if let Err(e) = self.db.put_plugin_process(&self.plugin, pid, &owner) {
            tracing::warn!(plugin = %self.plugin, "cannot record the plugin process: {e}");
        }
    }

    fn died(&self, reason: &str) {
        tracing::warn!(plugin = %self.plugin, "{reason}; started again on next use");
    }

    fn faulted(&self, reason: &str) {
        tracing::error!(plugin = %self.plugin, "faulted: {reason}");
        if let Err(e) = self.db.set_plugin_fault(&self.plugin, Some(reason)) {
            tracing::warn!(plugin = %self.plugin, "cannot record the fault: {e}");
        }
    }
}

/// Why an activation that outlived its deadline is refused.
pub fn activation_too_slow(deadline: Duration) -> String {
    format!("activation did not finish within {}s", deadline.as_secs())
}

/// Refused fields as one line.
fn settings_refusal(errors: &[FieldError]) -> String {
    plugin_api::PluginError::Settings(errors.to_vec()).to_string()
}

/// Whether `grants` let their holder use a plugin instance (activate,
/// deactivate, run its jobs by hand): its feature with edit access, granted
/// for every instance of the plugin (`FEATURE`), for this instance alone
/// (`FEATURE@INSTANCE`, e.g. `intellitrack-for-woocommerce@woocommerce:shop-at`),
/// or as every plugin's (`*`). Read-only access lets them use none of it.
pub fn grants_plugin(grants: &[FeatureGrant], manifest: &Manifest) -> bool {
    let this_instance = (manifest.feature.as_str(), manifest.id.as_str());
    grants
        .iter()
        .filter(|grant| grant.access == Access::Edit)
        .any(|grant| {
            grant.feature == EVERY_PLUGIN
                || grant.feature == manifest.feature
                || grant.feature.split_once('@') == Some(this_instance)
        })
}

/// Refuses a run by hand unless `user`'s roles grant the plugin instance
/// ([`grants_plugin`]). Until the admin defines any user, everyone may (a
/// fresh install has no users, and someone has to set them up).
pub fn may_run_by_hand(db: &Db, user: &str, manifest: &Manifest) -> anyhow::Result<()> {
    if !db.has_users()? {
        return Ok(());
    }
    if !grants_plugin(&db.user_features(user)?, manifest) {
        bail!(
            "{user} may not run {} jobs by hand: none of their roles grants the feature {:?} (or {:?}) with edit access",
            manifest.id,
            manifest.feature,
            format!("{}@{}", manifest.feature, manifest.id)
        );
    }
    Ok(())
}

/// `90s`, `30m`, `2h` or a number of seconds.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| "must be a duration such as 90s, 30m or 2h".to_string())?;
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err("must be a duration such as 90s, 30m or 2h".into()),
    };
    let secs = n.saturating_mul(unit_secs);
    if secs == 0 {
        return Err("must be longer than zero".into());
    }
    if secs > MAX_JOB_DEADLINE.as_secs() {
        return Err(format!(
            "must be at most {}h (a job past it is asked to stop)",
            MAX_JOB_DEADLINE.as_secs() / 3600
        ));
    }
    Ok(Duration::from_secs(secs))
}

/// The default plugin folder: the folder holding the host executable.
pub fn default_plugin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("169h").is_err(), "past a week");
        assert!(parse_duration("5124095576030432h").is_err(), "no overflow");
    }

    #[test]
    fn a_plugin_instance_is_used_with_its_feature_with_edit_access_only() {
        let manifest = |id: &str| Manifest {
            id: id.into(),
            name: "Woo".into(),
            version: "1".into(),
            description: String::new(),
            feature: "woo-feature".into(),
            api_version: plugin_api::API_VERSION,
            settings: vec![],
            jobs: vec![],
        };
        let grants = |list: &[(&str, Access)]| -> Vec<FeatureGrant> {
            list.iter()
                .map(|(feature, access)| FeatureGrant {
                    feature: (*feature).into(),
                    access: *access,
                })
                .collect()
        };
        let (first, second) = (manifest("woo"), manifest("woo:shop-at"));
        for every in [
            grants(&[("woo-feature", Access::Edit)]),
            grants(&[(EVERY_PLUGIN, Access::Edit)]),
        ] {
            assert!(grants_plugin(&every, &first) && grants_plugin(&every, &second));
        }
        for none in [
            grants(&[]),
            grants(&[("integrate", Access::Edit)]),
            grants(&[("woo-feature", Access::Read)]),
            grants(&[(EVERY_PLUGIN, Access::Read)]),
            grants(&[("woo-feature@woo:shop-at", Access::Read)]),
            grants(&[("other@woo:shop-at", Access::Edit)]),
        ] {
            assert!(!grants_plugin(&none, &first) && !grants_plugin(&none, &second));
        }
        let one = grants(&[("woo-feature@woo:shop-at", Access::Edit)]);
        assert!(grants_plugin(&one, &second));
        assert!(!grants_plugin(&one, &first));
        let first_only = grants(&[("woo-feature@woo", Access::Edit)]);
        assert!(grants_plugin(&first_only, &first));
        assert!(!grants_plugin(&first_only, &second));
    }
}
