//! Scheduling, end to end: the real `plugin-host serve` runs the real
//! misbehaving plugin's scheduled jobs (`tick` and `long` follow the Sync
//! Interval, `eod` the End of Day), one after another in the manifest's
//! order: `long` works for [`LONG_MS`] unless asked to stop, and what falls
//! due meanwhile waits for it.
//!
//! The service runs with its clock sixty times faster than real time
//! (`PLUGIN_HOST_CLOCK_SPEED=60`), so a one-minute Sync Interval passes
//! every second, and is restarted with its clock moved three days and an
//! hour on (`PLUGIN_HOST_CLOCK_OFFSET_SECONDS`), as if it had been down
//! that long.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use e2e_tests::{Install, MISBEHAVING, Service, wait_until};
use serde_json::Value;

const PLUGIN: &str = "misbehaving";
/// The service's documented bound for stopping on SIGTERM with one active
/// plugin: a poll, the stop grace for running jobs and the deactivation's
/// grace (0.5 + 10 + 10 s).
const STOP_BOUND: Duration = Duration::from_millis(20_500);
const FAST: &str = "60";
/// How long the `long` job works (real time) before it ends by itself.
const LONG_MS: &str = "2500";

#[derive(Debug, Clone)]
struct Run {
    job: String,
    trigger: String,
    outcome: String,
    started_ms: i64,
    ended_ms: Option<i64>,
}

/// Every run of the plugin, oldest first.
fn runs(install: &Install) -> Vec<Run> {
    let json = install.json(&["runs", PLUGIN, "--limit", "10000", "--json"]);
    let mut runs: Vec<Run> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|v: &Value| Run {
            job: v["job"].as_str().unwrap().into(),
            trigger: v["trigger"].as_str().unwrap().into(),
            outcome: v["outcome"].as_str().unwrap().into(),
            started_ms: v["started_ms"].as_i64().unwrap(),
            ended_ms: v["ended_ms"].as_i64(),
        })
        .collect();
    runs.reverse();
    runs
}

/// Waits until `ready` holds for the runs, failing the test after `limit`.
fn wait_for_runs(
    install: &Install,
    service: &Service,
    what: &str,
    ready: impl Fn(&[Run]) -> bool,
) -> Vec<Run> {
    let limit = Duration::from_secs(40);
    let mut last = Vec::new();
    let ok = wait_until(limit, || {
        last = runs(install);
        ready(&last)
    });
    assert!(
        ok.is_some(),
        "waited {limit:?} for {what}; runs: {last:#?}\nservice log:\n{}",
        service.log()
    );
    last
}

fn of<'a>(runs: &'a [Run], job: &str) -> Vec<&'a Run> {
    runs.iter().filter(|r| r.job == job).collect()
}

fn triggers(runs: &[Run], job: &str) -> Vec<String> {
    of(runs, job).iter().map(|r| r.trigger.clone()).collect()
}

fn succeeded(runs: &[Run], job: &str) -> usize {
    of(runs, job)
        .iter()
        .filter(|r| r.outcome == "succeeded")
        .count()
}

fn running(runs: &[Run], job: &str) -> bool {
    of(runs, job).iter().any(|r| r.outcome == "running")
}

/// No two scheduled runs of the instance at once: each starts after the
/// one before it ended.
fn assert_no_overlaps(runs: &[Run]) {
    let mut scheduled: Vec<&Run> = runs.iter().filter(|r| r.trigger != "by-hand").collect();
    scheduled.sort_by_key(|r| r.started_ms);
    for pair in scheduled.windows(2) {
        let ended = pair[0].ended_ms.expect("an earlier run still running");
        assert!(
            pair[1].started_ms >= ended,
            "two runs of the instance at once: {pair:#?}"
        );
    }
}

/// Waits until `job` is running, then does `then` straight away.
fn while_running<T>(
    install: &Install,
    service: &Service,
    job: &str,
    then: impl FnOnce() -> T,
) -> T {
    wait_for_runs(install, service, &format!("{job} to run"), |r| {
        running(r, job)
    });
    then()
}

/// Sends SIGTERM and checks the service exits cleanly within the bound.
fn stop_within_bound(service: Service) {
    let asked = Instant::now();
    let status = service.stop();
    assert!(status.success(), "serve exited with {status}");
    assert!(asked.elapsed() < STOP_BOUND, "took {:?}", asked.elapsed());
}

/// `HH:MM` in UTC, `minutes` whole minutes after the current one.
fn utc_time_of_day_in(minutes: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = (now / 60 + minutes) * 60;
    format!("{:02}:{:02}", at / 3600 % 24, at / 60 % 60)
}

#[test]
fn schedule_settings_refuse_bad_values_and_change_nothing() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    let shown = install.run(&["schedule", PLUGIN]).success().stdout();
    assert!(
        shown.contains("interval   = off"),
        "a new plugin syncs nothing:\n{shown}"
    );
    assert!(shown.contains("time-range = all-day"), "{shown}");
    assert!(
        shown.contains("tick                 sync interval"),
        "{shown}"
    );
    assert!(shown.contains("eod                  end of day"), "{shown}");

    // Each bad value comes with a good one: neither is stored.
    for (bad, good) in [
        (["--interval", "0"], ["--end-of-day", "21:15"]),
        (["--time-range", "09:00-09:00"], ["--interval", "30"]),
        (["--end-of-day", "25:00"], ["--interval", "30"]),
    ] {
        let ran = install.run(&["schedule", PLUGIN, good[0], good[1], bad[0], bad[1]]);
        assert!(!ran.0.status.success(), "{bad:?} was accepted");
        let message = match bad[0] {
            "--interval" => "interval must be a whole number of minutes from 1 to 1440, or off",
            "--time-range" => "time range starts and ends at 09:00; use all-day",
            _ => "time of day must be HH:MM on a 24-hour clock",
        };
        assert!(ran.stderr().contains(message), "{}", ran.stderr());
    }
    let after = install.run(&["schedule", PLUGIN]).success().stdout();
    assert_eq!(after, shown, "a refused change changed something");

    let set = install
        .run(&[
            "schedule",
            PLUGIN,
            "--interval",
            "30",
            "--time-range",
            "22:00-06:00",
            "--end-of-day",
            "21:15",
        ])
        .success()
        .stdout();
    assert!(set.contains("interval   = 30"), "{set}");
    assert!(set.contains("time-range = 22:00-06:00"), "{set}");
    assert!(set.contains("end-of-day = 21:15"), "{set}");
    let off = install
        .run(&["schedule", PLUGIN, "--interval", "off"])
        .success()
        .stdout();
    assert!(
        off.contains("interval   = off") && off.contains("22:00-06:00"),
        "{off}"
    );
    let again = install
        .run(&["schedule", PLUGIN, "--interval", "30"])
        .success()
        .stdout();
    assert!(again.contains("interval   = 30"), "{again}");

    let ran = install.run(&["timezone", "Mars/Olympus"]);
    assert!(!ran.0.status.success());
    assert!(
        ran.stderr().contains("unknown time zone \"Mars/Olympus\""),
        "{}",
        ran.stderr()
    );
    assert!(
        install
            .run(&["timezone"])
            .success()
            .stdout()
            .contains("(the system's; none chosen)")
    );
    install.run(&["timezone", "europe/berlin"]).success();
    let zone = install.run(&["timezone"]).success().stdout();
    assert_eq!(zone.trim(), "site time zone: Europe/Berlin");
    let ran = install.run(&["schedule", "nonesuch"]).refused();
    assert!(
        ran.stderr().contains("no plugin \"nonesuch\" is loaded"),
        "{}",
        ran.stderr()
    );
}

#[test]
fn the_service_runs_jobs_on_schedule_catches_up_once_and_stops_them() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.run(&["timezone", "UTC"]).success();
    // The End of Day comes two to three fast minutes after the service starts.
    let end_of_day = utc_time_of_day_in(3);
    install
        .run(&["schedule", PLUGIN, "--end-of-day", &end_of_day])
        .success();

    // Activated while the service runs; the interval is off, then turned on.
    let first = install.serve_with_env(&[
        ("PLUGIN_HOST_CLOCK_SPEED", FAST),
        ("MISBEHAVING_LONG_MS", LONG_MS),
    ]);
    install.activate(PLUGIN);
    std::thread::sleep(Duration::from_millis(1500));
    let before = runs(&install);
    assert!(
        of(&before, "tick").is_empty() && of(&before, "long").is_empty(),
        "sync-interval jobs ran with the interval off: {before:#?}"
    );
    install
        .run(&["schedule", PLUGIN, "--interval", "1"])
        .success();
    let runs_a = wait_for_runs(
        &install,
        &first,
        "ticks, the End of Day and the long job",
        |r| succeeded(r, "tick") >= 3 && succeeded(r, "eod") >= 1 && succeeded(r, "long") >= 1,
    );
    assert!(triggers(&runs_a, "tick").iter().all(|t| t == "schedule"));
    assert_eq!(triggers(&runs_a, "eod"), ["schedule"]);
    // Each interval's jobs in the manifest's order: tick, then long.
    let order: Vec<&str> = runs_a
        .iter()
        .filter(|r| r.job != "eod")
        .map(|r| r.job.as_str())
        .take(4)
        .collect();
    assert_eq!(order, ["tick", "long", "tick", "long"], "{runs_a:#?}");
    assert_no_overlaps(&runs_a);

    // A run by hand of the job the schedule is running is refused, saying so.
    let ran = while_running(&install, &first, "long", || {
        install.run(&["run", PLUGIN, "long"])
    })
    .refused();
    assert!(
        ran.stderr().contains("misbehaving long is already running"),
        "{}",
        ran.stderr()
    );

    // Deactivating stops the schedule; the long job records that it stopped.
    while_running(&install, &first, "long", || {
        install.run(&["plugins", "deactivate", PLUGIN]).success()
    });
    let runs_a = wait_for_runs(&install, &first, "the long job to stop", |r| {
        r.iter().all(|run| run.outcome != "running")
    });
    let long = of(&runs_a, "long");
    let last = long.last().unwrap();
    assert_eq!(
        (last.trigger.as_str(), last.outcome.as_str()),
        ("schedule", "stopped"),
        "{long:#?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        runs(&install).len(),
        runs_a.len(),
        "runs started after deactivation"
    );
    stop_within_bound(first);

    // Three days and an hour later: each missed job runs once, as a
    // catch-up, then the interval goes on as scheduled.
    install.activate(PLUGIN);
    let offset = (3 * 86_400 + 3_600).to_string();
    let second = install.serve_with_env(&[
        ("PLUGIN_HOST_CLOCK_SPEED", FAST),
        ("PLUGIN_HOST_CLOCK_OFFSET_SECONDS", &offset),
        ("MISBEHAVING_LONG_MS", LONG_MS),
    ]);
    let since_restart = |r: &[Run]| r[runs_a.len()..].to_vec();
    let all = wait_for_runs(&install, &second, "runs after the restart", |r| {
        let new = since_restart(r);
        succeeded(&new, "tick") >= 2 && succeeded(&new, "eod") >= 1 && succeeded(&new, "long") >= 1
    });
    let new = since_restart(&all);
    let ticks = triggers(&new, "tick");
    assert_eq!(ticks[0], "catch-up", "{ticks:?}");
    assert!(ticks[1..].iter().all(|t| t == "schedule"), "{ticks:?}");
    assert_eq!(triggers(&new, "long")[0], "catch-up");
    // The End of Day waited for the sync of its instance, then caught up.
    assert_eq!(
        new.iter()
            .take(3)
            .map(|r| r.job.as_str())
            .collect::<Vec<_>>(),
        ["tick", "long", "eod"],
        "{new:#?}"
    );

    // SIGTERM asks the long job to stop; it is recorded as stopped.
    wait_for_runs(&install, &second, "long to run", |r| running(r, "long"));
    stop_within_bound(second);
    let all = runs(&install);
    assert!(all.iter().all(|r| r.outcome != "running"), "{all:#?}");
    let new = since_restart(&all);
    let long = of(&new, "long");
    assert_eq!(long.last().unwrap().outcome, "stopped", "{long:#?}");
    assert_eq!(
        triggers(&new, "eod"),
        ["catch-up"],
        "one End of Day for the days missed"
    );
    assert_no_overlaps(&all);
    assert!(all.iter().all(|r| r.trigger != "by-hand"));
}
