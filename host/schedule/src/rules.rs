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

use crate::settings::ScheduleSettings;
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

    /// The next `count` instants a job of `kind` with `history` falls due
    /// at or after `now`, if the settings stay as they are and each run
    /// starts when it falls due (a run already due counts as `now`). Fewer
    /// when the job does not run on schedule.
    pub fn upcoming(
        &self,
        kind: JobKind,
        history: &JobHistory,
        now: Timestamp,
        count: usize,
    ) -> Vec<Timestamp> {
        let mut history = *history;
        let mut clock = ClockReading {
            now,
            host_started: now,
        };
        let mut times = Vec::with_capacity(count);
        // Each turn either starts a run or moves the clock to the next one.
        for _ in 0..=count * 2 {
            if times.len() == count {
                break;
            }
            match self.decide(kind, &history, clock) {
                Decision::Due(run) => {
                    let at = run.fell_due.max(clock.now);
                    times.push(at);
                    history.record(&run, at);
                }
                Decision::NotDue { wake_at: Some(at) } => clock.now = at,
                Decision::NotDue { wake_at: None } => break,
            }
        }
        times
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
        let Some(start) = self.settings.time_range.start() else {
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

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use jiff::{SignedDuration, ZonedDateTime};

    use super::*;

    const NEW_YORK: &str = "America/New_York";
    const BERLIN: &str = "Europe/Berlin";

    fn zone(name: &str) -> SiteTimeZone {
        SiteTimeZone::named(name).unwrap()
    }

    fn settings(interval: &str, range: &str, end_of_day: &str) -> ScheduleSettings {
        let mut settings = ScheduleSettings::default();
        settings.interval.apply(interval.parse().unwrap());
        settings.time_range = range.parse().unwrap();
        settings.end_of_day = end_of_day.parse().unwrap();
        settings
    }

    /// An unambiguous local wall-clock time, `YYYY-MM-DD HH:MM`, in `zone`.
    fn local(zone: &SiteTimeZone, text: &str) -> Timestamp {
        let civil: jiff::civil::DateTime = text.parse().unwrap();
        let ambiguous = zone.zone().to_ambiguous_timestamp(civil);
        assert!(
            matches!(ambiguous.offset(), AmbiguousOffset::Unambiguous { .. }),
            "{text} is ambiguous in {zone}"
        );
        ambiguous.compatible().unwrap()
    }

    /// An instant written with its offset and zone, for times a
    /// daylight-saving change makes ambiguous.
    fn exact(text: &str) -> Timestamp {
        text.parse::<ZonedDateTime>().unwrap().timestamp()
    }

    fn clock(now: Timestamp, host_started: Timestamp) -> ClockReading {
        ClockReading { now, host_started }
    }

    fn mins(minutes: i64) -> SignedDuration {
        SignedDuration::from_mins(minutes)
    }

    #[test]
    fn upcoming_runs_follow_the_interval_inside_the_range_and_end_of_day_daily() {
        let berlin = zone(BERLIN);
        let s = settings("30", "08:00-18:00", "22:00");
        let schedule = Schedule::new(&s, &berlin);
        let now = local(&berlin, "2026-03-02 17:10");
        let last = JobHistory {
            last_start: Some(local(&berlin, "2026-03-02 17:00")),
            last_end_of_day: Some(date(2026, 3, 1)),
        };
        assert_eq!(
            schedule.upcoming(JobKind::SyncInterval, &last, now, 3),
            [
                local(&berlin, "2026-03-02 17:30"),
                local(&berlin, "2026-03-03 08:00"),
                local(&berlin, "2026-03-03 08:30"),
            ]
        );
        assert_eq!(
            schedule.upcoming(JobKind::EndOfDay, &last, now, 3),
            [
                local(&berlin, "2026-03-02 22:00"),
                local(&berlin, "2026-03-03 22:00"),
                local(&berlin, "2026-03-04 22:00"),
            ]
        );
        let never = JobHistory::default();
        assert_eq!(
            schedule.upcoming(JobKind::SyncInterval, &never, now, 1),
            [now]
        );
        assert!(schedule.upcoming(JobKind::ByHand, &last, now, 3).is_empty());
        let off = settings("off", "all-day", "22:00");
        let schedule = Schedule::new(&off, &berlin);
        assert!(
            schedule
                .upcoming(JobKind::SyncInterval, &last, now, 3)
                .is_empty()
        );
    }

    fn history(last_start: Option<Timestamp>, last_end_of_day: Option<Date>) -> JobHistory {
        JobHistory {
            last_start,
            last_end_of_day,
        }
    }

    #[track_caller]
    fn expect_due(decision: Decision) -> DueRun {
        match decision {
            Decision::Due(run) => run,
            Decision::NotDue { wake_at } => {
                panic!("expected a due run, got NotDue until {wake_at:?}")
            }
        }
    }

    #[track_caller]
    fn expect_wait(decision: Decision) -> Option<Timestamp> {
        match decision {
            Decision::Due(run) => panic!("expected no run, got {run:?}"),
            Decision::NotDue { wake_at } => wake_at,
        }
    }

    // Sync Interval

    #[test]
    fn sync_never_runs_while_the_interval_is_off() {
        let berlin = zone(BERLIN);
        let settings = ScheduleSettings::default();
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-03 08:00");
        let long_ago = history(Some(local(&berlin, "2024-01-01 08:00")), None);
        for past in [JobHistory::default(), long_ago] {
            let decision = schedule.decide(
                JobKind::SyncInterval,
                &past,
                clock(started + SignedDuration::from_hours(30), started),
            );
            assert_eq!(decision, Decision::NotDue { wake_at: None });
        }
    }

    #[test]
    fn sync_that_never_ran_starts_once_the_host_is_up() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "all-day", "23:00");
        let started = local(&berlin, "2024-06-03 10:07");
        let run = expect_due(Schedule::new(&settings, &berlin).decide(
            JobKind::SyncInterval,
            &JobHistory::default(),
            clock(started, started),
        ));
        assert_eq!(run.trigger, Trigger::Schedule);
        assert_eq!(run.fell_due, started);
        assert_eq!(run.end_of_day, None);
    }

    #[test]
    fn sync_falls_due_one_interval_after_the_last_start() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "all-day", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-03 08:00");
        let last = local(&berlin, "2024-06-03 10:00");
        let past = history(Some(last), None);

        let early = schedule.decide(
            JobKind::SyncInterval,
            &past,
            clock(last + mins(14), started),
        );
        assert_eq!(expect_wait(early), Some(last + mins(15)));

        let run = expect_due(schedule.decide(
            JobKind::SyncInterval,
            &past,
            clock(last + mins(15), started),
        ));
        assert_eq!(run.trigger, Trigger::Schedule);
        assert_eq!(run.fell_due, last + mins(15));
    }

    #[test]
    fn a_late_wake_up_runs_once_and_counts_the_next_interval_from_it() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "all-day", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-03 08:00");
        let mut past = history(Some(local(&berlin, "2024-06-03 10:00")), None);
        let late = local(&berlin, "2024-06-03 10:40");

        let run = expect_due(schedule.decide(JobKind::SyncInterval, &past, clock(late, started)));
        assert_eq!(run.trigger, Trigger::Schedule);
        past.record(&run, late);

        let next = schedule.decide(JobKind::SyncInterval, &past, clock(late, started));
        assert_eq!(expect_wait(next), Some(late + mins(15)));
    }

    #[test]
    fn sync_outside_the_range_waits_for_the_range_to_open() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "08:00-18:00", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-03 07:00");
        let past = history(Some(local(&berlin, "2024-06-03 17:50")), None);

        let evening = schedule.decide(
            JobKind::SyncInterval,
            &past,
            clock(local(&berlin, "2024-06-03 18:05"), started),
        );
        let opening = local(&berlin, "2024-06-04 08:00");
        assert_eq!(expect_wait(evening), Some(opening));

        let run =
            expect_due(schedule.decide(JobKind::SyncInterval, &past, clock(opening, started)));
        assert_eq!(run.trigger, Trigger::Schedule);
        assert_eq!(run.fell_due, opening);
    }

    #[test]
    fn range_start_is_inside_and_range_end_is_outside() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "08:00-18:00", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-03 07:00");
        let past = history(Some(local(&berlin, "2024-06-03 17:40")), None);

        let at_end = schedule.decide(
            JobKind::SyncInterval,
            &past,
            clock(local(&berlin, "2024-06-03 18:00"), started),
        );
        assert_eq!(
            expect_wait(at_end),
            Some(local(&berlin, "2024-06-04 08:00"))
        );

        let last_minute = local(&berlin, "2024-06-03 17:59");
        let run =
            expect_due(schedule.decide(JobKind::SyncInterval, &past, clock(last_minute, started)));
        assert_eq!(run.fell_due, local(&berlin, "2024-06-03 17:55"));

        let ran_last_minute = history(Some(last_minute), None);
        let at_start = local(&berlin, "2024-06-04 08:00");
        let run = expect_due(schedule.decide(
            JobKind::SyncInterval,
            &ran_last_minute,
            clock(at_start, started),
        ));
        assert_eq!(run.fell_due, at_start);
    }

    #[test]
    fn wrapping_range_runs_through_midnight_and_rests_by_day() {
        let berlin = zone(BERLIN);
        let settings = settings("60", "22:00-06:00", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-03 12:00");

        let before_midnight = history(Some(local(&berlin, "2024-06-03 22:00")), None);
        let run = expect_due(schedule.decide(
            JobKind::SyncInterval,
            &before_midnight,
            clock(local(&berlin, "2024-06-03 23:00"), started),
        ));
        assert_eq!(run.fell_due, local(&berlin, "2024-06-03 23:00"));

        let after_midnight = history(Some(local(&berlin, "2024-06-04 04:30")), None);
        let run = expect_due(schedule.decide(
            JobKind::SyncInterval,
            &after_midnight,
            clock(local(&berlin, "2024-06-04 05:30"), started),
        ));
        assert_eq!(run.fell_due, local(&berlin, "2024-06-04 05:30"));

        let last_of_night = history(Some(local(&berlin, "2024-06-04 05:30")), None);
        for now in [
            "2024-06-04 06:00",
            "2024-06-04 06:30",
            "2024-06-04 12:00",
            "2024-06-04 21:59",
        ] {
            let decision = schedule.decide(
                JobKind::SyncInterval,
                &last_of_night,
                clock(local(&berlin, now), started),
            );
            assert_eq!(
                expect_wait(decision),
                Some(local(&berlin, "2024-06-04 22:00")),
                "at {now}"
            );
        }
    }

    #[test]
    fn sync_missed_for_hours_catches_up_once() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "all-day", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let mut past = history(Some(local(&berlin, "2024-06-03 10:15")), None);
        let started = local(&berlin, "2024-06-03 14:00");

        let run =
            expect_due(schedule.decide(JobKind::SyncInterval, &past, clock(started, started)));
        assert_eq!(run.trigger, Trigger::CatchUp);
        assert_eq!(run.fell_due, local(&berlin, "2024-06-03 10:30"));
        past.record(&run, started);

        let after = schedule.decide(JobKind::SyncInterval, &past, clock(started, started));
        assert_eq!(expect_wait(after), Some(started + mins(15)));
        let run = expect_due(schedule.decide(
            JobKind::SyncInterval,
            &past,
            clock(started + mins(15), started),
        ));
        assert_eq!(run.trigger, Trigger::Schedule);
    }

    #[test]
    fn sync_missed_for_days_catches_up_once_when_the_range_opens() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "08:00-18:00", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let past = history(Some(local(&berlin, "2024-06-03 17:50")), None);
        let started = local(&berlin, "2024-06-06 20:00");

        let at_start = schedule.decide(JobKind::SyncInterval, &past, clock(started, started));
        let opening = local(&berlin, "2024-06-07 08:00");
        assert_eq!(expect_wait(at_start), Some(opening));

        let run =
            expect_due(schedule.decide(JobKind::SyncInterval, &past, clock(opening, started)));
        assert_eq!(run.trigger, Trigger::CatchUp);
        assert_eq!(run.fell_due, local(&berlin, "2024-06-04 08:00"));
    }

    #[test]
    fn sync_due_at_a_range_opening_while_the_host_ran_is_scheduled() {
        let berlin = zone(BERLIN);
        let settings = settings("15", "08:00-18:00", "23:00");
        let started = local(&berlin, "2024-06-03 12:00");
        let past = history(Some(local(&berlin, "2024-06-03 17:50")), None);
        let opening = local(&berlin, "2024-06-04 08:00");
        let run = expect_due(Schedule::new(&settings, &berlin).decide(
            JobKind::SyncInterval,
            &past,
            clock(opening, started),
        ));
        assert_eq!(run.trigger, Trigger::Schedule);
    }

    #[test]
    fn sync_interval_is_elapsed_time_across_spring_forward() {
        let new_york = zone(NEW_YORK);
        let settings = settings("60", "all-day", "23:00");
        let last = exact("2024-03-10T01:30-05:00[America/New_York]");
        let started = exact("2024-03-10T00:00-05:00[America/New_York]");
        let decision = Schedule::new(&settings, &new_york).decide(
            JobKind::SyncInterval,
            &history(Some(last), None),
            clock(last + mins(1), started),
        );
        assert_eq!(
            expect_wait(decision),
            Some(exact("2024-03-10T03:30-04:00[America/New_York]"))
        );
    }

    #[test]
    fn range_opening_inside_a_spring_forward_gap_opens_when_the_gap_ends() {
        let new_york = zone(NEW_YORK);
        let settings = settings("15", "02:30-08:00", "23:00");
        let started = exact("2024-03-09T12:00-05:00[America/New_York]");
        let past = history(
            Some(exact("2024-03-09T07:50-05:00[America/New_York]")),
            None,
        );
        let decision = Schedule::new(&settings, &new_york).decide(
            JobKind::SyncInterval,
            &past,
            clock(exact("2024-03-10T01:59-05:00[America/New_York]"), started),
        );
        assert_eq!(
            expect_wait(decision),
            Some(exact("2024-03-10T03:00-04:00[America/New_York]"))
        );
    }

    #[test]
    fn range_swallowed_by_a_spring_forward_gap_opens_the_next_day() {
        let new_york = zone(NEW_YORK);
        let settings = settings("15", "02:00-02:45", "23:00");
        let started = exact("2024-03-09T12:00-05:00[America/New_York]");
        let past = history(
            Some(exact("2024-03-09T02:40-05:00[America/New_York]")),
            None,
        );
        let decision = Schedule::new(&settings, &new_york).decide(
            JobKind::SyncInterval,
            &past,
            clock(exact("2024-03-10T01:00-05:00[America/New_York]"), started),
        );
        assert_eq!(
            expect_wait(decision),
            Some(exact("2024-03-11T02:00-04:00[America/New_York]"))
        );
    }

    // End of Day

    #[test]
    fn end_of_day_runs_once_a_day_at_its_time() {
        let berlin = zone(BERLIN);
        let settings = settings("off", "08:00-18:00", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-03 08:00");
        let mut past = history(None, Some(date(2024, 6, 2)));
        let end_of_day = local(&berlin, "2024-06-03 23:00");

        let before = schedule.decide(
            JobKind::EndOfDay,
            &past,
            clock(end_of_day - mins(1), started),
        );
        assert_eq!(expect_wait(before), Some(end_of_day));

        let run = expect_due(schedule.decide(JobKind::EndOfDay, &past, clock(end_of_day, started)));
        assert_eq!(run.trigger, Trigger::Schedule);
        assert_eq!(run.fell_due, end_of_day);
        assert_eq!(run.end_of_day, Some(date(2024, 6, 3)));
        past.record(&run, end_of_day);
        assert_eq!(past.last_end_of_day, Some(date(2024, 6, 3)));

        for minutes in [0, 30, 61] {
            let after = schedule.decide(
                JobKind::EndOfDay,
                &past,
                clock(end_of_day + mins(minutes), started),
            );
            assert_eq!(expect_wait(after), Some(local(&berlin, "2024-06-04 23:00")));
        }
    }

    #[test]
    fn end_of_day_missed_for_hours_catches_up_at_start() {
        let berlin = zone(BERLIN);
        let settings = settings("off", "all-day", "23:00");
        let started = local(&berlin, "2024-06-04 07:30");
        let past = history(None, Some(date(2024, 6, 2)));
        let run = expect_due(Schedule::new(&settings, &berlin).decide(
            JobKind::EndOfDay,
            &past,
            clock(started, started),
        ));
        assert_eq!(run.trigger, Trigger::CatchUp);
        assert_eq!(run.end_of_day, Some(date(2024, 6, 3)));
        assert_eq!(run.fell_due, local(&berlin, "2024-06-03 23:00"));
    }

    #[test]
    fn end_of_day_missed_for_days_runs_once_then_keeps_its_time() {
        let berlin = zone(BERLIN);
        let settings = settings("off", "all-day", "23:00");
        let schedule = Schedule::new(&settings, &berlin);
        let started = local(&berlin, "2024-06-06 09:00");
        let mut past = history(None, Some(date(2024, 6, 2)));

        let run = expect_due(schedule.decide(JobKind::EndOfDay, &past, clock(started, started)));
        assert_eq!(run.trigger, Trigger::CatchUp);
        assert_eq!(run.end_of_day, Some(date(2024, 6, 5)));
        past.record(&run, started);

        let later = schedule.decide(JobKind::EndOfDay, &past, clock(started + mins(1), started));
        let tonight = local(&berlin, "2024-06-06 23:00");
        assert_eq!(expect_wait(later), Some(tonight));
        let run = expect_due(schedule.decide(JobKind::EndOfDay, &past, clock(tonight, started)));
        assert_eq!(run.trigger, Trigger::Schedule);
        assert_eq!(run.end_of_day, Some(date(2024, 6, 6)));
    }

    #[test]
    fn end_of_day_that_never_ran_starts_with_the_first_one_after_host_start() {
        let berlin = zone(BERLIN);
        let settings = settings("off", "all-day", "23:00");
        let schedule = Schedule::new(&settings, &berlin);

        let started_late = local(&berlin, "2024-06-03 23:30");
        let decision = schedule.decide(
            JobKind::EndOfDay,
            &JobHistory::default(),
            clock(started_late, started_late),
        );
        assert_eq!(
            expect_wait(decision),
            Some(local(&berlin, "2024-06-04 23:00"))
        );

        let started_early = local(&berlin, "2024-06-03 14:00");
        let tonight = local(&berlin, "2024-06-03 23:00");
        let before = schedule.decide(
            JobKind::EndOfDay,
            &JobHistory::default(),
            clock(started_early, started_early),
        );
        assert_eq!(expect_wait(before), Some(tonight));
        let run = expect_due(schedule.decide(
            JobKind::EndOfDay,
            &JobHistory::default(),
            clock(tonight, started_early),
        ));
        assert_eq!(run.trigger, Trigger::Schedule);
        assert_eq!(run.end_of_day, Some(date(2024, 6, 3)));
    }

    #[test]
    fn end_of_day_ignores_the_interval_switch_and_the_time_range() {
        let berlin = zone(BERLIN);
        let settings = settings("off", "08:00-18:00", "23:00");
        let started = local(&berlin, "2024-06-03 08:00");
        let tonight = local(&berlin, "2024-06-03 23:00");
        let run = expect_due(Schedule::new(&settings, &berlin).decide(
            JobKind::EndOfDay,
            &history(None, Some(date(2024, 6, 2))),
            clock(tonight, started),
        ));
        assert_eq!(run.end_of_day, Some(date(2024, 6, 3)));
    }

    #[test]
    fn end_of_day_moved_earlier_past_now_runs_now_and_moved_later_does_not_repeat() {
        let berlin = zone(BERLIN);
        let started = local(&berlin, "2024-06-03 08:00");
        let now = local(&berlin, "2024-06-03 21:00");

        let moved_earlier = settings("off", "all-day", "20:00");
        let run = expect_due(Schedule::new(&moved_earlier, &berlin).decide(
            JobKind::EndOfDay,
            &history(None, Some(date(2024, 6, 2))),
            clock(now, started),
        ));
        assert_eq!(run.end_of_day, Some(date(2024, 6, 3)));
        assert_eq!(run.fell_due, local(&berlin, "2024-06-03 20:00"));

        let moved_later = settings("off", "all-day", "23:30");
        let done_today = history(None, Some(date(2024, 6, 3)));
        let decision = Schedule::new(&moved_later, &berlin).decide(
            JobKind::EndOfDay,
            &done_today,
            clock(local(&berlin, "2024-06-03 23:45"), started),
        );
        assert_eq!(
            expect_wait(decision),
            Some(local(&berlin, "2024-06-04 23:30"))
        );
    }

    #[test]
    fn end_of_day_in_a_spring_forward_gap_runs_when_the_gap_ends() {
        let cases = [
            (
                NEW_YORK,
                date(2024, 3, 10),
                "2024-03-10T01:59-05:00[America/New_York]",
                "2024-03-10T03:00-04:00[America/New_York]",
            ),
            (
                BERLIN,
                date(2024, 3, 31),
                "2024-03-31T01:59+01:00[Europe/Berlin]",
                "2024-03-31T03:00+02:00[Europe/Berlin]",
            ),
        ];
        for (name, day, before_gap, gap_end) in cases {
            let site = zone(name);
            let settings = settings("off", "all-day", "02:30");
            let schedule = Schedule::new(&settings, &site);
            let started = exact(before_gap) - SignedDuration::from_hours(12);
            let mut past = history(None, day.yesterday().ok());

            let before =
                schedule.decide(JobKind::EndOfDay, &past, clock(exact(before_gap), started));
            assert_eq!(expect_wait(before), Some(exact(gap_end)), "{name}");

            let run = expect_due(schedule.decide(
                JobKind::EndOfDay,
                &past,
                clock(exact(gap_end), started),
            ));
            assert_eq!(
                (run.trigger, run.end_of_day),
                (Trigger::Schedule, Some(day)),
                "{name}"
            );
            past.record(&run, exact(gap_end));

            let after = schedule.decide(
                JobKind::EndOfDay,
                &past,
                clock(exact(gap_end) + mins(90), started),
            );
            let next_day = day.tomorrow().unwrap().at(2, 30, 0, 0);
            assert_eq!(
                expect_wait(after),
                Some(local(&site, &next_day.to_string())),
                "{name}"
            );
        }
    }

    #[test]
    fn end_of_day_in_a_fall_back_overlap_runs_once_at_the_earlier_instant() {
        let cases = [
            (
                NEW_YORK,
                "01:30",
                date(2024, 11, 3),
                "2024-11-03T01:30-04:00[America/New_York]",
                "2024-11-03T01:30-05:00[America/New_York]",
            ),
            (
                BERLIN,
                "02:30",
                date(2024, 10, 27),
                "2024-10-27T02:30+02:00[Europe/Berlin]",
                "2024-10-27T02:30+01:00[Europe/Berlin]",
            ),
        ];
        for (name, time, day, first_pass, second_pass) in cases {
            let site = zone(name);
            let settings = settings("off", "all-day", time);
            let schedule = Schedule::new(&settings, &site);
            let started = exact(first_pass) - SignedDuration::from_hours(12);
            let mut past = history(None, day.yesterday().ok());

            let before = schedule.decide(
                JobKind::EndOfDay,
                &past,
                clock(exact(first_pass) - mins(1), started),
            );
            assert_eq!(expect_wait(before), Some(exact(first_pass)), "{name}");

            let run = expect_due(schedule.decide(
                JobKind::EndOfDay,
                &past,
                clock(exact(first_pass), started),
            ));
            assert_eq!(
                (run.fell_due, run.end_of_day),
                (exact(first_pass), Some(day)),
                "{name}"
            );
            past.record(&run, exact(first_pass));

            let repeated =
                schedule.decide(JobKind::EndOfDay, &past, clock(exact(second_pass), started));
            let next_day = day
                .tomorrow()
                .unwrap()
                .to_datetime(time.parse::<crate::TimeOfDay>().unwrap().time());
            assert_eq!(
                expect_wait(repeated),
                Some(local(&site, &next_day.to_string())),
                "{name}"
            );
        }
    }

    #[test]
    fn changing_the_zone_westward_does_not_repeat_a_date() {
        let berlin = zone(BERLIN);
        let new_york = zone(NEW_YORK);
        let settings = settings("off", "all-day", "23:00");
        let ran = local(&berlin, "2024-06-03 23:00");
        let mut past = JobHistory::default();
        let run = expect_due(Schedule::new(&settings, &berlin).decide(
            JobKind::EndOfDay,
            &history(None, Some(date(2024, 6, 2))),
            clock(ran, ran - mins(60)),
        ));
        past.record(&run, ran);

        let in_new_york = Schedule::new(&settings, &new_york);
        let now = ran + mins(5);
        assert_eq!(
            in_new_york.zone.to_datetime(now).date(),
            date(2024, 6, 3),
            "still the 3rd in New York"
        );
        let decision = in_new_york.decide(JobKind::EndOfDay, &past, clock(now, ran - mins(60)));
        assert_eq!(
            expect_wait(decision),
            Some(local(&new_york, "2024-06-04 23:00"))
        );
    }

    #[test]
    fn changing_the_zone_eastward_does_not_skip_a_date() {
        let berlin = zone(BERLIN);
        let new_york = zone(NEW_YORK);
        let settings = settings("off", "all-day", "23:00");
        let started = local(&new_york, "2024-06-03 08:00");
        let ran = local(&new_york, "2024-06-03 23:00");
        let past = history(Some(ran), Some(date(2024, 6, 3)));

        let in_berlin = Schedule::new(&settings, &berlin);
        let now = ran + mins(5);
        assert_eq!(in_berlin.zone.to_datetime(now).date(), date(2024, 6, 4));
        let decision = in_berlin.decide(JobKind::EndOfDay, &past, clock(now, started));
        let tonight = local(&berlin, "2024-06-04 23:00");
        assert_eq!(expect_wait(decision), Some(tonight));
        let run = expect_due(in_berlin.decide(JobKind::EndOfDay, &past, clock(tonight, started)));
        assert_eq!(run.end_of_day, Some(date(2024, 6, 4)));
    }

    // By hand, and the host's wake-up

    #[test]
    fn by_hand_jobs_never_run_on_schedule() {
        let berlin = zone(BERLIN);
        let settings = settings("1", "all-day", "00:00");
        let started = local(&berlin, "2024-06-03 08:00");
        for past in [
            JobHistory::default(),
            history(Some(started - mins(600)), Some(date(2024, 1, 1))),
        ] {
            let decision = Schedule::new(&settings, &berlin).decide(
                JobKind::ByHand,
                &past,
                clock(started + mins(5), started),
            );
            assert_eq!(decision, Decision::NotDue { wake_at: None });
        }
    }

    #[test]
    fn next_wake_is_the_earliest_wake_of_jobs_not_due() {
        let soon = exact("2024-06-03T10:00+02:00[Europe/Berlin]");
        let later = soon + mins(30);
        let decisions = [
            Decision::NotDue {
                wake_at: Some(later),
            },
            Decision::NotDue { wake_at: None },
            Decision::Due(DueRun {
                trigger: Trigger::Schedule,
                fell_due: soon - mins(60),
                end_of_day: None,
            }),
            Decision::NotDue {
                wake_at: Some(soon),
            },
        ];
        assert_eq!(next_wake(&decisions), Some(soon));
        assert_eq!(next_wake(&[Decision::NotDue { wake_at: None }]), None);
    }

    #[test]
    fn triggers_and_kinds_have_stable_names() {
        assert_eq!(Trigger::Schedule.to_string(), "schedule");
        assert_eq!(Trigger::CatchUp.to_string(), "catch-up");
        assert_eq!(
            serde_json::to_string(&Trigger::CatchUp).unwrap(),
            r#""catch-up""#
        );
        assert_eq!(
            serde_json::to_string(&JobKind::SyncInterval).unwrap(),
            r#""sync-interval""#
        );
        assert_eq!(
            serde_json::to_string(&JobKind::EndOfDay).unwrap(),
            r#""end-of-day""#
        );
        assert_eq!(
            serde_json::to_string(&JobKind::ByHand).unwrap(),
            r#""by-hand""#
        );
    }

    #[test]
    fn job_history_round_trips_through_json() {
        let past = history(
            Some(exact("2024-06-03T10:00+02:00[Europe/Berlin]")),
            Some(date(2024, 6, 2)),
        );
        let json = serde_json::to_string(&past).unwrap();
        assert_eq!(
            json,
            r#"{"last_start":"2024-06-03T08:00:00Z","last_end_of_day":"2024-06-02"}"#
        );
        assert_eq!(serde_json::from_str::<JobHistory>(&json).unwrap(), past);
    }
}
