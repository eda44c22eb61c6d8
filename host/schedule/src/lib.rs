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
