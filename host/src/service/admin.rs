//! The admin's changing actions, each with its audit record: activating and
//! deactivating a plugin, changing its settings or schedule, the site's time
//! zone, the retention settings, asking for parked events to be sent
//! again or dropping them,
//! resetting a watermark, running a job by hand, cancelling a run, and
//! adding, changing and removing users. The CLI and the web page both call
//! these, so a rule or an audit line cannot differ between the two.
//!
//! Who acts is passed in (`cli:OSUSER` from the CLI, `web:NAME` from the
//! page); nothing here prints or renders.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::anyhow;
use intellitrack_db::{Db, RunTrigger};
use plugin_api::protocol::Progress;
use plugin_api::{ApiVersion, FieldError, FieldKind, RunOptions};
use sync_schedule::{IntervalChoice, ScheduleSettings, SiteTimeZone, TimeOfDay, TimeRange};

use crate::cli::users::hash_password;
use crate::host::{self, Host, PluginState};
use crate::plugins::loader::LoadedPlugin;
use crate::runs::live::NotCancelled;
use crate::runs::runner::{self, JobRequest, JobResult};
use crate::service::retention::{self, RetentionSettings};
use crate::service::schedule_store::{self, PluginSchedule};

/// The plugin API version that lets a run be asked for a dry run or force.
const RUN_OPTIONS_SINCE: ApiVersion = ApiVersion::new(1, 2);

/// Checks the plugin's settings and connection by activating it and
/// releasing it again; the plugin's reason is the error.
pub fn check_connection(host: &Host, plugin: &LoadedPlugin) -> Result<(), String> {
    host.try_activate(plugin)?;
    if let Err(e) = host.deactivate(plugin) {
        tracing::warn!(plugin = %plugin.manifest.id, "releasing the check's activation failed: {e}");
    }
    Ok(())
}

/// Marks a plugin active after its check passes (a running service then
/// activates it); refused with the plugin's reason.
pub fn activate(host: &Host, id: &str, actor: &str) -> anyhow::Result<()> {
    let plugin = host.plugin(id)?;
    check_connection(host, plugin).map_err(|reason| anyhow!("{id} was not activated: {reason}"))?;
    let now = host.core.clock.now_ms();
    host.core.db.set_plugin_enabled(id, true, now)?;
    host.core.db.audit(actor, "activated", id, "", now)?;
    Ok(())
}

pub fn deactivate(host: &Host, id: &str, actor: &str) -> anyhow::Result<()> {
    host.plugin(id)?;
    let now = host.core.clock.now_ms();
    host.core.db.set_plugin_enabled(id, false, now)?;
    host.core.db.audit(actor, "deactivated", id, "", now)?;
    Ok(())
}

/// Applies `key=value` assignments all or nothing (see
/// [`Host::set_settings`]) and removes the stored values of the keys in
/// `clear` (a plugin's optional setting falls back to its default, a host
/// setting to the host's). What would change nothing is left out: an
/// assignment of the value in force, clearing a key with no stored value.
/// Returns whether anything changed; only then is a line audited, naming
/// the keys only, as values may be secrets.
pub fn change_settings(
    host: &Host,
    id: &str,
    assignments: &[String],
    clear: &[String],
    actor: &str,
) -> anyhow::Result<bool> {
    let plugin = host.plugin(id)?;
    let manifest = &plugin.manifest;
    let db = &host.core.db;
    let stored = db.settings(id)?;
    let stored_host = db.host_settings(id)?;
    let in_force = host.settings(plugin)?;
    let is_stored =
        |list: &[(String, serde_json::Value)], key: &str| list.iter().any(|(k, _)| k == key);
    let mut errors = Vec::new();
    let mut clearing = Vec::new();
    for key in clear {
        let host_level = host::HOST_SETTINGS.iter().any(|s| s.key == key);
        match manifest.field(key) {
            _ if host_level => {
                if is_stored(&stored_host, key) {
                    clearing.push((key.as_str(), true));
                }
            }
            Some(f) if f.required || f.kind == FieldKind::Secret => errors.push(FieldError::new(
                key,
                "cannot be cleared (it is required, or a secret: give it a new value instead)",
            )),
            Some(_) => {
                if is_stored(&stored, key) {
                    clearing.push((key.as_str(), false));
                }
            }
            None => errors.push(FieldError::new(key, &format!("is not a setting of {id}"))),
        }
    }
    if !errors.is_empty() {
        return Err(plugin_api::PluginError::Settings(errors).into());
    }
    let changes = |key: &str, raw: &str| -> bool {
        if let Some(parsed) = host::parse_host_setting(key, raw) {
            return parsed.is_err()
                || stored_host.iter().find(|(k, _)| k == key).map(|(_, v)| v)
                    != parsed.as_ref().ok();
        }
        match manifest.field(key) {
            Some(f) if f.kind != FieldKind::Secret => match f.parse_input(raw) {
                Ok(value) => in_force.get(key) != Some(&value),
                Err(_) => true,
            },
            // A secret given is a new one; an unknown key is refused below.
            _ => true,
        }
    };
    let assigning: Vec<String> = assignments
        .iter()
        .filter(|a| {
            let (key, raw) = a
                .split_once('=')
                .map_or((a.as_str(), ""), |(k, v)| (k.trim(), v));
            !clearing.iter().any(|(k, _)| *k == key) && changes(key, raw)
        })
        .cloned()
        .collect();
    if assigning.is_empty() && clearing.is_empty() {
        return Ok(false);
    }
    if !assigning.is_empty() {
        host.set_settings(plugin, &assigning)?;
    }
    let now = host.core.clock.now_ms();
    for (key, host_level) in &clearing {
        if *host_level {
            db.remove_host_setting(id, key)?;
        } else {
            db.remove_setting(id, key)?;
        }
    }
    if !clearing.is_empty() {
        db.touch_plugin(id, now)?;
    }
    let mut keys: Vec<String> = assigning
        .iter()
        .map(|a| {
            a.split_once('=')
                .map_or(a.as_str(), |(k, _)| k.trim())
                .to_owned()
        })
        .collect();
    keys.extend(clearing.iter().map(|(key, _)| format!("{key} cleared")));
    db.audit(actor, "settings changed", id, &keys.join(", "), now)?;
    Ok(true)
}

/// A change to a plugin's schedule; a field left `None` stays as it is.
#[derive(Default)]
pub struct ScheduleChange {
    pub interval: Option<IntervalChoice>,
    pub time_range: Option<TimeRange>,
    pub end_of_day: Option<TimeOfDay>,
}

impl ScheduleChange {
    pub fn is_empty(&self) -> bool {
        self.interval.is_none() && self.time_range.is_none() && self.end_of_day.is_none()
    }
}

/// Stores a schedule change (audited) and returns the plugin's schedule; a
/// change to what is stored already is neither stored nor audited.
pub fn change_schedule(
    host: &Host,
    id: &str,
    change: ScheduleChange,
    actor: &str,
) -> anyhow::Result<ScheduleSettings> {
    let db = &host.core.db;
    let mut stored = PluginSchedule::load(db, id)?;
    let before = stored.settings;
    let settings = &mut stored.settings;
    if let Some(choice) = change.interval {
        settings.interval.apply(choice);
    }
    if let Some(range) = change.time_range {
        settings.time_range = range;
    }
    if let Some(time) = change.end_of_day {
        settings.end_of_day = time;
    }
    if *settings == before {
        return Ok(before);
    }
    schedule_store::put_schedule_settings(db, id, settings)?;
    let detail = format!(
        "interval {}, time range {}, end of day {}",
        settings.interval, settings.time_range, settings.end_of_day
    );
    db.audit(
        actor,
        "schedule changed",
        id,
        &detail,
        host.core.clock.now_ms(),
    )?;
    Ok(stored.settings)
}

pub fn change_time_zone(host: &Host, zone: &SiteTimeZone, actor: &str) -> anyhow::Result<()> {
    let db = &host.core.db;
    schedule_store::put_site_time_zone(db, zone)?;
    db.audit(
        actor,
        "time zone changed",
        "site",
        &zone.to_string(),
        host.core.clock.now_ms(),
    )?;
    Ok(())
}

/// Applies retention setting changes (setting name, value as typed): all
/// or none, every refusal named in the error. Returns the settings and
/// whether anything changed (only then stored and audited).
pub fn change_retention(
    host: &Host,
    changes: &[(String, String)],
    actor: &str,
) -> anyhow::Result<(RetentionSettings, bool)> {
    let db = &host.core.db;
    let before = retention::load(db)?;
    let after = before
        .with(changes)
        .map_err(|refused| anyhow!("nothing was changed: {}", refused.join("; ")))?;
    if after == before {
        return Ok((after, false));
    }
    retention::put(db, &after)?;
    db.audit(
        actor,
        "retention changed",
        "site",
        &after.to_string(),
        host.core.clock.now_ms(),
    )?;
    Ok((after, true))
}

/// Asks a plugin to send its parked event `seq` (or all of them) again on
/// its next export run; returns how many were asked for.
pub fn retry_parked(host: &Host, id: &str, seq: Option<i64>, actor: &str) -> anyhow::Result<usize> {
    host.plugin(id)?;
    let asked = host.core.db.retry_parked(id, seq)?;
    let detail = seq.map_or_else(|| "all".to_string(), |s| format!("event {s}"));
    host.core.db.audit(
        actor,
        "parked retry asked",
        id,
        &detail,
        host.core.clock.now_ms(),
    )?;
    Ok(asked)
}

/// Drops a plugin's parked event `seq` (or all of them) for good; returns
/// how many were dropped.
pub fn discard_parked(
    host: &Host,
    id: &str,
    seq: Option<i64>,
    actor: &str,
) -> anyhow::Result<usize> {
    host.plugin(id)?;
    let dropped = host.core.db.discard_parked(id, seq)?;
    let detail = seq.map_or_else(|| "all".to_string(), |s| format!("event {s}"));
    host.core.db.audit(
        actor,
        "parked discarded",
        id,
        &detail,
        host.core.clock.now_ms(),
    )?;
    Ok(dropped)
}

/// Adds a user with a role and a password (refused if weak).
pub fn add_user(
    db: &Db,
    name: &str,
    role: &str,
    password: &str,
    actor: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let hash = hash_password(name, password)?;
    db.add_user(name, role, &hash, now_ms)?;
    db.audit(actor, "user added", name, &format!("role {role}"), now_ms)?;
    Ok(())
}

/// Replaces a user's password (refused if weak); the sessions that user
/// started end, as they were started with the old one.
pub fn change_password(
    db: &Db,
    name: &str,
    password: &str,
    actor: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let hash = hash_password(name, password)?;
    db.set_password(name, &hash)?;
    db.audit(actor, "password changed", name, "", now_ms)?;
    Ok(())
}

/// Gives a user one role in place of theirs; never the last admin's away.
pub fn change_role(
    db: &Db,
    name: &str,
    role: &str,
    actor: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    db.set_user_role(name, role)?;
    db.audit(actor, "role changed", name, &format!("role {role}"), now_ms)?;
    Ok(())
}

/// Removes a user (their sessions end with them); never the last admin.
pub fn remove_user(db: &Db, name: &str, actor: &str, now_ms: i64) -> anyhow::Result<()> {
    db.remove_user(name)?;
    db.audit(actor, "user removed", name, "", now_ms)?;
    Ok(())
}

/// The field of a plugin's state value that says how far a job has
/// synced (the WooCommerce imports' `watermark`).
pub const WATERMARK: &str = "watermark";

/// The state values of a plugin that carry a watermark, by key.
pub fn watermarks(host: &Host, id: &str) -> anyhow::Result<Vec<(String, serde_json::Value)>> {
    Ok(host
        .core
        .db
        .states(id)?
        .into_iter()
        .filter(|(_, value)| value.get(WATERMARK).is_some())
        .collect())
}

/// Forgets how far a job has synced (its state value `key`, which must
/// carry a watermark): its next run reads everything again.
pub fn reset_watermark(host: &Host, id: &str, key: &str, actor: &str) -> anyhow::Result<()> {
    host.plugin(id)?;
    if !watermarks(host, id)?.iter().any(|(k, _)| k == key) {
        anyhow::bail!("{id} has no watermark {key:?}");
    }
    host.core.db.put_state(id, key, None)?;
    host.core
        .db
        .audit(actor, "watermark reset", id, key, host.core.clock.now_ms())?;
    Ok(())
}

/// Who keeps the plugin activated around a run by hand.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// This call activates it for the run and releases it after (the CLI,
    /// a process of its own).
    ThisRun,
    /// The service in this process holds it active already (the web page).
    Service,
}

/// A run by hand that the user asked for.
pub struct HandRun<'a> {
    pub plugin: &'a str,
    pub job: &'a str,
    /// The page's user, whose roles must let them use the plugin instance;
    /// `None` from the CLI, the machine's admin.
    pub user: Option<&'a str>,
    /// Who the run is recorded as (`web:NAME` from the page, `cli:OSUSER`
    /// from the CLI).
    pub recorded_as: &'a str,
    pub options: RunOptions,
    pub on_progress: Arc<dyn Fn(&Progress) + Send + Sync>,
    /// Told the run's id once it is recorded, before the job starts.
    pub on_recorded: Box<dyn FnOnce(i64) + Send>,
}

/// Runs a job by hand, refused unless the page's user may use the plugin
/// instance and it is active. The run is recorded as `recorded_as`.
pub fn run_by_hand(host: &Host, run: HandRun<'_>, holder: Holder) -> anyhow::Result<JobResult> {
    let id = run.plugin;
    let plugin = host.plugin(id)?;
    if let Some(user) = run.user {
        host::may_run_by_hand(&host.core.db, user, &plugin.manifest)?;
    }
    if (run.options.dry_run || run.options.force) && plugin.manifest.api_version < RUN_OPTIONS_SINCE
    {
        anyhow::bail!(
            "{id} is built for plugin API {}, which cannot be asked for a dry run or force (they need {RUN_OPTIONS_SINCE})",
            plugin.manifest.api_version
        );
    }
    if host.state_of(id)? != PluginState::Active {
        anyhow::bail!("{id} is not active; activate it first");
    }
    let request = JobRequest {
        job: run.job,
        trigger: RunTrigger::ByHand,
        user: Some(run.recorded_as),
        deadline: host.job_deadline(id),
        options: run.options,
        cancel: Arc::new(AtomicBool::new(false)),
        on_progress: run.on_progress,
        on_table: Arc::new(|_| {}),
    };
    // Recorded before anything is done for it, so a run killed while its
    // plugin gets ready still shows, as interrupted.
    let run_id = runner::start_run(&host.core, plugin, &request)?;
    (run.on_recorded)(run_id);
    if holder == Holder::ThisRun
        && let Err(reason) = host.try_activate(plugin)
    {
        let why = format!("the plugin could not get ready for the run: {reason}");
        runner::fail_started(&host.core, run_id, &why)?;
        anyhow::bail!("{id} {job}: {why}", job = run.job);
    }
    let result = runner::run_started(&host.core, &host.live, plugin, request, run_id);
    if holder == Holder::ThisRun
        && let Err(e) = host.deactivate(plugin)
    {
        tracing::warn!(plugin = %id, "deactivation after the run failed: {e}");
    }
    result
}

/// Cancels run `run_id`, going on in this process: sets its job's
/// cancellation flag (the job stops at its next check and is recorded as
/// cancelled by `actor`).
pub fn cancel_run(host: &Host, run_id: i64, actor: &str) -> anyhow::Result<()> {
    match host.live.cancel(run_id, actor) {
        Ok(()) => {}
        Err(NotCancelled::NotHere) => {
            anyhow::bail!("run #{run_id} is not going on in this service; nothing to cancel")
        }
        Err(NotCancelled::Already(by)) => {
            anyhow::bail!("run #{run_id} is stopping already: {by} cancelled it")
        }
    }
    let (target, detail) = match host.core.db.run(run_id)? {
        Some(run) => (run.plugin, format!("run #{run_id} of {}", run.job)),
        None => (String::new(), format!("run #{run_id}")),
    };
    host.core.db.audit(
        actor,
        "run cancelled",
        &target,
        &detail,
        host.core.clock.now_ms(),
    )?;
    Ok(())
}
