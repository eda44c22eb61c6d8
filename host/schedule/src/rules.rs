//! The decision: is a job due now, and when should the host ask again?
//!
//! # The rules
//!
//! * **Sync-interval jobs** run while the Sync Interval is on, only when the
//!   local time is inside the Sync Time Range. A run falls due one interval
//!   after the start of the job's last scheduled or catch-up run, or, if that
//!   instant is outside the range, when the range next opens. The interval is
//!   counted from the last run rather than aligned to the range start: it
//!   guarantees that two automatic runs are never closer than the interval,
//!   even after a catch-up run or a settings change, and it needs no slot
//!   arithmetic across daylight-saving shifts. In practice the first run of a
//!   day starts when the range opens and the rest follow every interval.
//!   A job that has never run falls due as soon as the host is up and inside
//!   the range.
//! * **End-of-day jobs** run once per local calendar date, at the End of Day
//!   time on that date in the site's current zone. The End of Day runs
//!   whether or not the Sync Interval is on and whatever the Sync Time Range.
//!   The history keeps the date each End of Day was for, so a changed zone
//!   or a changed End of Day time can neither repeat a date nor skip one. An
//!   End of Day time that falls in a spring-forward gap runs at the first
//!   instant after the gap; one that falls in a fall-back overlap runs once,
//!   at the earlier instant. A job that has never run starts with the first
//!   End of Day after the host started.
//! * **By-hand jobs** never run on schedule.
//! * **Catch-up**: when a run fell due before the host started (it was
//!   missed while the host was stopped), it runs once, with
//!   [`Trigger::CatchUp`]; however many slots or dates were missed, there is
//!   one run. A missed End of Day runs at start, for the latest missed date.
//!   A missed sync respects the Sync Time Range: started outside the range,
//!   the host catches up when the range opens, as the settings ask. (The
//!   rules keep no history of settings: a sync that fell due while the
//!   interval was off and is turned on later counts as a catch-up too.)
//! * Runs by hand do not move the schedule: the host records only scheduled
//!   and catch-up runs in [`JobHistory`].

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Serialize};

use crate::settings::{ScheduleSettings, TimeRange};
use crate::zone::SiteTimeZone;

/// How many local dates to look ahead for the next opening of the Sync Time
/// Range. A range is open on every date except where a time-zone transition
/// swallows it whole, which never lasts more than a day or two.
const RANGE_SEARCH_DAYS: usize = 7;

/// The kind of schedule a job follows, as its plugin's manifest declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Every Sync Interval, inside the Sync Time Range.
    SyncInterval,
    /// Once a day at the End of Day time.
    EndOfDay,
    /// Never on schedule; only when a user runs it.
    ByHand,
}

/// Why the schedule starts a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// The run fell due while the host was running.
    Schedule,
    /// The run fell due while the host was stopped and runs once now.
    CatchUp,
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch-up",
        })
    }
}

/// What the rules need to know about a job's past: its scheduled and
/// catch-up runs only (runs by hand are left out). The host stores it per
/// job and updates it with [`JobHistory::record`] when it starts a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobHistory {
    /// When the last scheduled or catch-up run started.
    pub last_start: Option<Timestamp>,
    /// The local date the last End of Day run was for.
    pub last_end_of_day: Option<Date>,
}

impl JobHistory {
    /// Notes that `run` was started at `started`.
    pub fn record(&mut self, run: &DueRun, started: Timestamp) {
        self.last_start = Some(started);
        if let Some(date) = run.end_of_day {
            self.last_end_of_day = Some(date);
        }
    }
}

/// The two instants the rules read; the host takes both from its clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockReading {
    /// The current instant.
    pub now: Timestamp,
    /// When this host process started: a run that fell due earlier was
    /// missed while the host was stopped and is a catch-up.
    pub host_started: Timestamp,
}

/// A run the schedule asks for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueRun {
    /// Why it runs; the host records it with the run.
    pub trigger: Trigger,
    /// The instant the run fell due (earlier than now for a catch-up).
    pub fell_due: Timestamp,
    /// For an End of Day run, the local date it is for.
    pub end_of_day: Option<Date>,
}

/// The answer for one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start a run now.
    Due(DueRun),
    /// Nothing to run; ask again at `wake_at`, or only after a signal when
    /// it is `None` (the job does not run on schedule with these settings).
    NotDue {
        /// When the job next falls due, if the settings stay as they are.
        wake_at: Option<Timestamp>,
    },
}

impl Decision {
    /// When to ask again about a job that is not due.
    pub fn wake_at(&self) -> Option<Timestamp> {
        match self {
            Decision::Due(_) => None,
            Decision::NotDue { wake_at } => *wake_at,
        }
    }
}

/// The earliest instant any of `decisions` asks to be woken at.
pub fn next_wake<'a>(decisions: impl IntoIterator<Item = &'a Decision>) -> Option<Timestamp> {
    decisions.into_iter().filter_map(Decision::wake_at).min()
}

/// One plugin's settings read in the site's time zone.
#[derive(Clone, Copy, Debug)]
pub struct Schedule<'a> {
    settings: &'a ScheduleSettings,
    zone: &'a TimeZone,
}

impl<'a> Schedule<'a> {
    /// The schedule of a plugin with `settings` on a site in `zone`.
    pub fn new(settings: &'a ScheduleSettings, zone: &'a SiteTimeZone) -> Self {
        Schedule {
            settings,
            zone: zone.zone(),
        }
    }

    /// Whether a job of `kind` with `history` is due at `clock.now`.
    pub fn decide(&self, kind: JobKind, history: &JobHistory, clock: ClockReading) -> Decision {
        match kind {
            JobKind::SyncInterval => self.decide_sync(history, clock),
            JobKind::EndOfDay => self.decide_end_of_day(history, clock),
            JobKind::ByHand => Decision::NotDue { wake_at: None },
        }
    }

    fn decide_sync(&self, history: &JobHistory, clock: ClockReading) -> Decision {
        let Some(interval) = self.settings.interval.active() else {
            return Decision::NotDue { wake_at: None };
        };
        let earliest = match history.last_start {
            Some(last) => match last.checked_add(interval.duration()) {
                Ok(earliest) => earliest,
                Err(_) => return Decision::NotDue { wake_at: None },
            },
            None => clock.host_started,
        };
        let now_in_range = self.in_range(clock.now);
        match self.next_in_range(earliest) {
            Some(fell_due) if fell_due <= clock.now && now_in_range => Decision::Due(DueRun {
                trigger: trigger(fell_due, clock),
                fell_due,
                end_of_day: None,
            }),
            _ => Decision::NotDue {
                wake_at: self.next_in_range(earliest.max(clock.now)),
            },
        }
    }

    fn decide_end_of_day(&self, history: &JobHistory, clock: ClockReading) -> Decision {
        let latest = self.latest_end_of_day(clock.now);
        let due = latest.filter(|&(date, at)| match history.last_end_of_day {
            Some(done) => done < date,
            None => at >= clock.host_started,
        });
        if let Some((date, fell_due)) = due {
            return Decision::Due(DueRun {
                trigger: trigger(fell_due, clock),
                fell_due,
                end_of_day: Some(date),
            });
        }
        let covered = match (history.last_end_of_day, latest) {
            (Some(done), Some((date, _))) => Some(done.max(date)),
            (done, latest) => done.or(latest.map(|(date, _)| date)),
        };
        let next_date = match covered {
            Some(date) => date.tomorrow().ok(),
            None => Some(self.zone.to_datetime(clock.now).date()),
        };
        Decision::NotDue {
            wake_at: next_date.and_then(|date| self.end_of_day_at(date)),
        }
    }

    /// The latest local date whose End of Day has come by `now`, with the
    /// instant it came.
    fn latest_end_of_day(&self, now: Timestamp) -> Option<(Date, Timestamp)> {
        let mut date = self.zone.to_datetime(now).date();
        for _ in 0..RANGE_SEARCH_DAYS {
            if let Some(at) = self.end_of_day_at(date).filter(|&at| at <= now) {
                return Some((date, at));
            }
            date = date.yesterday().ok()?;
        }
        None
    }

    fn end_of_day_at(&self, date: Date) -> Option<Timestamp> {
        local_instant(self.zone, date, self.settings.end_of_day.time())
    }

    fn in_range(&self, at: Timestamp) -> bool {
        self.settings
            .time_range
            .contains(self.zone.to_datetime(at).time())
    }

    /// The first instant at or after `from` inside the Sync Time Range.
    fn next_in_range(&self, from: Timestamp) -> Option<Timestamp> {
        let range = self.settings.time_range;
        let TimeRange::Between { start, .. } = range else {
            return Some(from);
        };
        if self.in_range(from) {
            return Some(from);
        }
        let mut date = self.zone.to_datetime(from).date();
        for _ in 0..RANGE_SEARCH_DAYS {
            let opening = local_instant(self.zone, date, start.time())?;
            if opening > from && self.in_range(opening) {
                return Some(opening);
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

fn trigger(fell_due: Timestamp, clock: ClockReading) -> Trigger {
    if fell_due < clock.host_started {
        Trigger::CatchUp
    } else {
        Trigger::Schedule
    }
}

/// The instant the local clock in `zone` shows `time` on `date`. A time
/// skipped by a spring-forward gap maps to the first instant after the gap;
/// a time repeated by a fall-back overlap maps to its earlier instant.
fn local_instant(zone: &TimeZone, date: Date, time: Time) -> Option<Timestamp> {
    let local = date.to_datetime(time);
    match zone.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } | AmbiguousOffset::Fold { before: offset, .. } => {
            offset.to_timestamp(local).ok()
        }
        AmbiguousOffset::Gap { after, .. } => {
            let inside_gap = after.to_timestamp(local).ok()?;
            zone.following(inside_gap)
                .next()
                .map(|transition| transition.timestamp())
        }
    }
}
