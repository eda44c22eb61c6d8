//! The admin CLI for the schedule: `plugin-host schedule` shows or changes
//! a plugin's Sync Interval, Sync Time Range and End of Day time, and
//! `plugin-host timezone` the site's time zone.
//!
//! Values are parsed by the `sync-schedule` crate's types, so a bad value
//! is refused with its message before anything is stored. A running
//! service reads the schedule afresh on every poll: a change takes effect
//! within a second, without re-activating the plugin or stopping its runs.

use super::cli_actor;
use sync_schedule::{IntervalChoice, SiteTimeZone, TimeOfDay, TimeRange};

use crate::host::Host;
use crate::service::admin::{self, ScheduleChange};
use crate::service::schedule_store::{self, PluginSchedule};

#[derive(clap::Args)]
pub struct ScheduleArgs {
    /// The plugin whose schedule to show or change.
    plugin: String,
    /// Run its sync-interval jobs every so many minutes (1 to 1440), or `off`.
    #[arg(long, value_name = "MINUTES|off")]
    interval: Option<IntervalChoice>,
    /// When sync-interval jobs may run, in the site's time zone; may wrap past midnight.
    #[arg(long, value_name = "HH:MM-HH:MM|all-day")]
    time_range: Option<TimeRange>,
    /// When its end-of-day jobs run, in the site's time zone.
    #[arg(long, value_name = "HH:MM")]
    end_of_day: Option<TimeOfDay>,
}

#[derive(clap::Args)]
pub struct TimezoneArgs {
    /// An IANA time zone name such as Europe/Berlin; shows the current one when left out.
    zone: Option<SiteTimeZone>,
}

/// `plugin-host schedule PLUGIN [--interval ..] [--time-range ..] [--end-of-day ..]`.
pub fn schedule(host: &Host, args: ScheduleArgs) -> anyhow::Result<()> {
    let plugin = host.plugin(&args.plugin)?;
    let id = &plugin.manifest.id;
    let db = &host.core.db;
    let mut stored = PluginSchedule::load(db, id)?;
    let change = ScheduleChange {
        interval: args.interval,
        time_range: args.time_range,
        end_of_day: args.end_of_day,
    };
    if !change.is_empty() {
        stored.settings = admin::change_schedule(host, id, change, &cli_actor())?;
    }
    let zone = schedule_store::site_time_zone(db)?;
    let settings = &stored.settings;
    outln!("{id} schedule (times in {zone}):");
    outln!("  interval   = {}", settings.interval);
    outln!("  time-range = {}", settings.time_range);
    outln!("  end-of-day = {}", settings.end_of_day);
    if !plugin.manifest.jobs.is_empty() {
        outln!("jobs:");
    }
    for job in &plugin.manifest.jobs {
        let last = stored
            .history(&job.id)
            .last_start
            .map(|at| {
                format!(
                    ", last scheduled run {}",
                    zone.zone().to_datetime(at).strftime("%Y-%m-%d %H:%M")
                )
            })
            .unwrap_or_default();
        outln!("  {:<20} {}{last}", job.id, job.schedule.label());
    }
    Ok(())
}

/// `plugin-host timezone [IANA]`.
pub fn timezone(host: &Host, args: TimezoneArgs) -> anyhow::Result<()> {
    let db = &host.core.db;
    if let Some(zone) = &args.zone {
        admin::change_time_zone(host, zone, &cli_actor())?;
    }
    match schedule_store::chosen_time_zone(db)? {
        Some(zone) => outln!("site time zone: {zone}"),
        None => outln!(
            "site time zone: {} (the system's; none chosen)",
            schedule_store::site_time_zone(db)?
        ),
    }
    Ok(())
}
