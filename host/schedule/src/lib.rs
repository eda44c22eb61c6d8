//! The plugin host's schedule rules: when each plugin job is due.
//!
//! The host owns, per plugin, a Sync Interval (on/off and minutes), a Sync
//! Time Range and an End of Day time, all read in the site's time zone. This
//! crate holds those settings as validated types (parsed from and displayed
//! in the CLI's value forms, stored as JSON through serde) and the rules that
//! turn them into decisions: given the settings, a job's history and the
//! current instant, is the job due now, with which trigger, and when should
//! the host ask again?
//!
//! It must stay a pure function of its inputs: no I/O, no threads, no sleeps
//! and no reading of the system clock. The host passes the clock in
//! ([`ClockReading`]), so every rule is tested with an injected time. The
//! only exception is [`SiteTimeZone::system`], which reads the machine's
//! zone once to give a new site its default.
//!
//! The host's loop: for every active plugin job ask
//! [`Schedule::decide`]; start each [`Decision::Due`] run and record it in
//! the job's [`JobHistory`] with [`JobHistory::record`]; then sleep until
//! the earliest [`Decision::wake_at`] (see [`next_wake`]) or a signal
//! (settings changed, a run finished, shutdown), and ask again.
//!
//! ```
//! use jiff::Timestamp;
//! use sync_schedule::{
//!     ClockReading, Decision, IntervalChoice, JobHistory, JobKind, Schedule, ScheduleSettings,
//!     SiteTimeZone, TimeOfDay, TimeRange, next_wake,
//! };
//!
//! // `plugin-host schedule PLUGIN --interval 30 --time-range 22:00-06:00 --end-of-day 21:00`
//! let mut settings = ScheduleSettings::default();
//! settings.interval.apply("30".parse::<IntervalChoice>()?);
//! settings.time_range = "22:00-06:00".parse::<TimeRange>()?;
//! settings.end_of_day = "21:00".parse::<TimeOfDay>()?;
//! assert_eq!(settings.interval.to_string(), "30");
//! assert_eq!(
//!     "0".parse::<IntervalChoice>().unwrap_err().to_string(),
//!     "interval must be a whole number of minutes from 1 to 1440, or off (got \"0\")",
//! );
//!
//! // One turn of the scheduler loop, with the clock passed in.
//! let zone: SiteTimeZone = "Europe/Berlin".parse()?;
//! let schedule = Schedule::new(&settings, &zone);
//! let host_started: Timestamp = "2024-06-03T19:55:00Z".parse()?;
//! let clock = ClockReading { now: "2024-06-03T20:00:00Z".parse()?, host_started };
//! let mut jobs = [
//!     (JobKind::SyncInterval, JobHistory::default()),
//!     (JobKind::EndOfDay, JobHistory::default()),
//! ];
//! let mut decisions = Vec::new();
//! let mut started = Vec::new();
//! for (kind, history) in &mut jobs {
//!     if let Decision::Due(run) = schedule.decide(*kind, history, clock) {
//!         // Start the job, record `run.trigger` with it, then:
//!         history.record(&run, clock.now);
//!         started.push(*kind);
//!     }
//!     decisions.push(schedule.decide(*kind, history, clock));
//! }
//! // 22:00 in Berlin: the range is open, so the sync runs; the End of Day
//! // (21:00) passed before this new plugin's host started and waits a day.
//! assert_eq!(started, [JobKind::SyncInterval]);
//! assert_eq!(decisions[1].wake_at(), Some("2024-06-04T19:00:00Z".parse()?));
//! // Sleep until the next sync, 30 minutes on, or a signal.
//! assert_eq!(next_wake(&decisions), Some("2024-06-03T20:30:00Z".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod rules;
mod settings;
#[cfg(test)]
mod simulation;
mod zone;

pub use rules::{
    ClockReading, Decision, DueRun, JobHistory, JobKind, Schedule, Trigger, next_wake,
};
pub use settings::{
    IntervalChoice, IntervalMinutes, MAX_INTERVAL_MINUTES, ScheduleSettings, SyncInterval,
    TimeOfDay, TimeRange,
};
pub use zone::SiteTimeZone;

/// A setting that cannot be used, with the reason in words a user can act
/// on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The Sync Interval is not `off` nor a number of minutes in range.
    #[error("interval must be a whole number of minutes from 1 to 1440, or off (got {0:?})")]
    Interval(String),
    /// A time of day is not `HH:MM` on a 24-hour clock.
    #[error("time of day must be HH:MM on a 24-hour clock, from 00:00 to 23:59 (got {0:?})")]
    TimeOfDay(String),
    /// The Sync Time Range is not `HH:MM-HH:MM` nor `all-day`.
    #[error(
        "time range must be HH:MM-HH:MM (a start before the end, or wrapping past midnight \
         like 22:00-06:00), or all-day (got {0:?})"
    )]
    TimeRange(String),
    /// The Sync Time Range starts and ends at the same time.
    #[error("time range starts and ends at {0}; use all-day for the whole day")]
    EmptyTimeRange(TimeOfDay),
    /// The time zone name is not in the IANA database.
    #[error(
        "unknown time zone {0:?}: expected an IANA name such as Europe/Berlin or America/New_York"
    )]
    UnknownTimeZone(String),
    /// The machine's own time zone could not be determined.
    #[error("cannot determine the system time zone: {0}")]
    SystemTimeZone(String),
}
