//! Where the host keeps its schedule: each plugin's schedule settings and
//! the history of each of its jobs, stored as host-owned settings of the
//! plugin, and the site's time zone, a host-wide setting.

use anyhow::Context as _;
use intellitrack_db::Db;
use sync_schedule::{JobHistory, ScheduleSettings, SiteTimeZone};

/// The host setting holding a plugin's [`ScheduleSettings`].
const SCHEDULE: &str = "host.schedule";
/// The host settings holding each job's [`JobHistory`]: this prefix and the job id.
const HISTORY_PREFIX: &str = "host.history.";
/// Host-wide settings are kept beside the per-plugin ones, under an id no
/// plugin can have (a plugin id starts with a letter).
pub(crate) const SITE: &str = "";
const TIME_ZONE: &str = "host.time_zone";

/// One plugin's stored schedule: its settings and its jobs' histories.
pub struct PluginSchedule {
    pub settings: ScheduleSettings,
    histories: Vec<(String, JobHistory)>,
}

impl PluginSchedule {
    /// Reads a plugin's schedule; a plugin never scheduled gets the
    /// defaults (automatic syncing off) and empty histories.
    pub fn load(db: &Db, plugin: &str) -> anyhow::Result<Self> {
        let mut schedule = Self {
            settings: ScheduleSettings::default(),
            histories: Vec::new(),
        };
        for (key, value) in db.host_settings(plugin)? {
            if key == SCHEDULE {
                schedule.settings = serde_json::from_value(value)
                    .with_context(|| format!("the stored schedule of {plugin} is unreadable"))?;
            } else if let Some(job) = key.strip_prefix(HISTORY_PREFIX) {
                let history = serde_json::from_value(value).with_context(|| {
                    format!("the stored history of {plugin} job {job} is unreadable")
                })?;
                schedule.histories.push((job.to_string(), history));
            }
        }
        Ok(schedule)
    }

    /// The scheduled and catch-up runs of `job` so far.
    pub fn history(&self, job: &str) -> JobHistory {
        self.histories
            .iter()
            .find(|(id, _)| id == job)
            .map(|(_, history)| *history)
            .unwrap_or_default()
    }
}

pub fn put_schedule_settings(
    db: &Db,
    plugin: &str,
    settings: &ScheduleSettings,
) -> anyhow::Result<()> {
    db.put_host_setting(plugin, SCHEDULE, &serde_json::to_value(settings)?)?;
    Ok(())
}

pub fn put_job_history(
    db: &Db,
    plugin: &str,
    job: &str,
    history: &JobHistory,
) -> anyhow::Result<()> {
    db.put_host_setting(
        plugin,
        &format!("{HISTORY_PREFIX}{job}"),
        &serde_json::to_value(history)?,
    )?;
    Ok(())
}

/// The time zone the admin chose for the site, if any.
pub fn chosen_time_zone(db: &Db) -> anyhow::Result<Option<SiteTimeZone>> {
    db.host_settings(SITE)?
        .into_iter()
        .find(|(key, _)| key == TIME_ZONE)
        .map(|(_, value)| {
            serde_json::from_value(value).context("the stored site time zone is unreadable")
        })
        .transpose()
}

/// The site's time zone: the admin's choice, else the system's, else UTC
/// when the system's has no IANA name.
pub fn site_time_zone(db: &Db) -> anyhow::Result<SiteTimeZone> {
    Ok(match chosen_time_zone(db)? {
        Some(zone) => zone,
        None => SiteTimeZone::system().unwrap_or_else(|_| SiteTimeZone::utc()),
    })
}

pub fn put_site_time_zone(db: &Db, zone: &SiteTimeZone) -> anyhow::Result<()> {
    db.put_host_setting(SITE, TIME_ZONE, &serde_json::to_value(zone)?)?;
    Ok(())
}
