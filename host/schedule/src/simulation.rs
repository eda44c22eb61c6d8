//! Property-style tests: a simulated host runs the rules over a whole year
//! with daylight-saving changes, on an injected clock.

use std::collections::BTreeMap;

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};

use crate::{
    ClockReading, Decision, JobHistory, JobKind, Schedule, ScheduleSettings, SiteTimeZone, Trigger,
};

const KINDS: [JobKind; 3] = [JobKind::SyncInterval, JobKind::EndOfDay, JobKind::ByHand];

/// A site and settings whose End of Day time and Sync Time Range meet the
/// year's daylight-saving changes.
struct Case {
    zone: &'static str,
    interval: &'static str,
    range: &'static str,
    end_of_day: &'static str,
}

const CASES: [Case; 3] = [
    // 02:30 is skipped in March and repeated in October.
    Case {
        zone: "Europe/Berlin",
        interval: "45",
        range: "22:00-06:00",
        end_of_day: "02:30",
    },
    // 02:30 is skipped in March.
    Case {
        zone: "America/New_York",
        interval: "15",
        range: "all-day",
        end_of_day: "02:30",
    },
    // 01:30 is repeated in November; the range spans both changes.
    Case {
        zone: "America/New_York",
        interval: "7",
        range: "01:00-03:00",
        end_of_day: "01:30",
    },
];

impl Case {
    fn site(&self) -> SiteTimeZone {
        SiteTimeZone::named(self.zone).unwrap()
    }

    fn settings(&self) -> ScheduleSettings {
        let mut settings = ScheduleSettings::default();
        settings.interval.apply(self.interval.parse().unwrap());
        settings.time_range = self.range.parse().unwrap();
        settings.end_of_day = self.end_of_day.parse().unwrap();
        settings
    }
}

/// One run the simulated host started.
#[derive(Debug)]
struct Run {
    kind: JobKind,
    started: Timestamp,
    fell_due: Timestamp,
    trigger: Trigger,
    end_of_day: Option<Date>,
    host_started: Timestamp,
}

fn year_start(site: &SiteTimeZone) -> Timestamp {
    date(2024, 1, 1)
        .to_zoned_datetime(site.zone().clone())
        .unwrap()
        .timestamp()
}

fn year_end(site: &SiteTimeZone) -> Timestamp {
    date(2025, 1, 1)
        .to_zoned_datetime(site.zone().clone())
        .unwrap()
        .timestamp()
}

fn every_date_of_2024() -> Vec<Date> {
    date(2024, 1, 1)
        .series(jiff::Span::new().days(1))
        .take_while(|day| day.year() == 2024)
        .collect()
}

fn assert_sync_runs_keep_interval_and_range(case: &Case, runs: &[Run]) {
    let settings = case.settings();
    let site = case.site();
    let interval = SignedDuration::from_mins(i64::from(settings.interval.minutes.get()));
    let syncs: Vec<&Run> = runs
        .iter()
        .filter(|run| run.kind == JobKind::SyncInterval)
        .collect();
    assert!(
        syncs.len() > 300,
        "{}: only {} sync runs",
        case.zone,
        syncs.len()
    );
    for run in &syncs {
        let local = site.zone().to_datetime(run.started).time();
        assert!(
            settings.time_range.contains(local),
            "{}: run at {local} outside {}",
            case.zone,
            case.range
        );
    }
    for pair in syncs.windows(2) {
        let gap = pair[1].started.duration_since(pair[0].started);
        assert!(
            gap >= interval,
            "{}: runs {} and {} only {gap} apart",
            case.zone,
            pair[0].started,
            pair[1].started
        );
    }
}

#[test]
fn minute_by_minute_for_a_year_every_date_gets_one_end_of_day_and_syncs_keep_their_interval() {
    for case in &CASES {
        let site = case.site();
        let settings = case.settings();
        let schedule = Schedule::new(&settings, &site);
        let host_started = year_start(&site);
        let end = year_end(&site);
        let mut histories = [JobHistory::default(); 3];
        let mut wakes: [Option<Timestamp>; 3] = [None; 3];
        let mut runs = Vec::new();
        let mut now = host_started;
        while now < end {
            let clock = ClockReading { now, host_started };
            for (index, kind) in KINDS.into_iter().enumerate() {
                match schedule.decide(kind, &histories[index], clock) {
                    Decision::Due(run) => {
                        if now > host_started {
                            assert_eq!(
                                wakes[index],
                                Some(now),
                                "{}: {kind:?} due at {now} without a wake-up",
                                case.zone
                            );
                        }
                        histories[index].record(&run, now);
                        runs.push(Run {
                            kind,
                            started: now,
                            fell_due: run.fell_due,
                            trigger: run.trigger,
                            end_of_day: run.end_of_day,
                            host_started,
                        });
                    }
                    Decision::NotDue { wake_at } => wakes[index] = wake_at,
                }
            }
            now += SignedDuration::from_mins(1);
        }

        assert!(runs.iter().all(|run| run.kind != JobKind::ByHand));
        assert!(
            runs.iter()
                .all(|run| run.trigger == Trigger::Schedule && run.fell_due == run.started)
        );
        let mut per_date: BTreeMap<Date, usize> = BTreeMap::new();
        for run in runs.iter().filter(|run| run.kind == JobKind::EndOfDay) {
            let date = run.end_of_day.unwrap();
            assert_eq!(
                site.zone().to_datetime(run.started).date(),
                date,
                "{}",
                case.zone
            );
            *per_date.entry(date).or_default() += 1;
        }
        let expected: BTreeMap<Date, usize> = every_date_of_2024()
            .into_iter()
            .map(|day| (day, 1))
            .collect();
        assert_eq!(per_date, expected, "{}", case.zone);
        assert_sync_runs_keep_interval_and_range(case, &runs);
    }
}

/// The stretches of 2024 the simulated host is stopped: short and long,
/// spread over the year and over the daylight-saving changes.
fn outages(site: &SiteTimeZone) -> Vec<(Timestamp, Timestamp)> {
    let mut outages = Vec::new();
    let mut start = year_start(site) + SignedDuration::from_hours(50);
    let lengths_in_minutes = [37, 6 * 60, 26 * 60, 3 * 24 * 60 + 5, 90, 11 * 60 + 30];
    for index in 0.. {
        let length =
            SignedDuration::from_mins(lengths_in_minutes[index % lengths_in_minutes.len()]);
        if start + length >= year_end(site) {
            break;
        }
        outages.push((start, start + length));
        start += length + SignedDuration::from_hours(97 + 13 * (index as i64 % 7));
    }
    outages
}

#[test]
fn a_host_driven_by_wake_ups_with_outages_never_doubles_and_catches_up_once() {
    for case in &CASES {
        let site = case.site();
        let settings = case.settings();
        let schedule = Schedule::new(&settings, &site);
        let end = year_end(&site);
        let outages = outages(&site);
        let mut next_outage = outages.iter().peekable();
        let mut histories = [JobHistory::default(); 3];
        let mut runs = Vec::new();
        let mut host_started = year_start(&site);
        let mut now = host_started;
        let mut steps = 0;
        while now < end {
            steps += 1;
            assert!(steps < 200_000, "{}: the loop does not advance", case.zone);
            let clock = ClockReading { now, host_started };
            let mut decisions = Vec::new();
            for (index, kind) in KINDS.into_iter().enumerate() {
                let decision = schedule.decide(kind, &histories[index], clock);
                if let Decision::Due(run) = decision {
                    histories[index].record(&run, now);
                    runs.push(Run {
                        kind,
                        started: now,
                        fell_due: run.fell_due,
                        trigger: run.trigger,
                        end_of_day: run.end_of_day,
                        host_started,
                    });
                }
                decisions.push(decision);
            }
            if decisions
                .iter()
                .any(|decision| matches!(decision, Decision::Due(_)))
            {
                continue;
            }
            let wake = crate::next_wake(&decisions).expect("sync and End of Day always wake");
            assert!(
                wake > now,
                "{}: wake-up {wake} is not after {now}",
                case.zone
            );
            now = wake;
            if let Some(&&(down, up)) = next_outage.peek()
                && now >= down
            {
                next_outage.next();
                now = up;
                host_started = up;
            }
        }

        for (index, run) in runs.iter().enumerate() {
            match run.trigger {
                Trigger::CatchUp => {
                    assert!(run.fell_due < run.host_started);
                    let earlier_since_start = runs[..index].iter().any(|other| {
                        other.kind == run.kind && other.host_started == run.host_started
                    });
                    assert!(
                        !earlier_since_start,
                        "{}: {:?} catch-up is not the first run after start",
                        case.zone, run.kind
                    );
                    if run.kind == JobKind::EndOfDay {
                        assert_eq!(
                            run.started, run.host_started,
                            "{}: End of Day catch-up later than start",
                            case.zone
                        );
                    }
                }
                Trigger::Schedule => assert!(run.fell_due >= run.host_started),
            }
        }
        let end_of_day_dates: Vec<Date> = runs.iter().filter_map(|run| run.end_of_day).collect();
        assert!(
            end_of_day_dates.windows(2).all(|pair| pair[0] < pair[1]),
            "{}: an End of Day date ran twice",
            case.zone
        );
        for day in every_date_of_2024() {
            let at = day.to_datetime(settings.end_of_day.time());
            let at = site.zone().to_ambiguous_timestamp(at).earlier().unwrap();
            let stopped = outages.iter().any(|&(down, up)| down <= at && at < up);
            if !stopped {
                assert!(
                    end_of_day_dates.contains(&day),
                    "{}: End of Day for {day} never ran",
                    case.zone
                );
            }
        }
        for kind in [JobKind::SyncInterval, JobKind::EndOfDay] {
            assert!(
                runs.iter()
                    .any(|run| run.trigger == Trigger::CatchUp && run.kind == kind),
                "{}: the outages caused no {kind:?} catch-up",
                case.zone
            );
        }
        assert_sync_runs_keep_interval_and_range(case, &runs);
    }
}
