//! What no plugin and no killed process may do to the host, end to end
//! through the real binary.
//!
//! - A run left `running` by a process killed with SIGKILL (a `run` by
//!   hand, or `serve` itself) is shown as `interrupted` by the next command
//!   that reads runs, and never blocks a new run of that job.
//! - A plugin in its own process (the default) that aborts, exits,
//!   segfaults or allocates without bound, during a run by hand, during
//!   activation or during a scheduled run inside `serve`, fails that call
//!   with the reason; the service and the other plugins go on; repeated
//!   deaths fault it until an admin reactivates it. A job that ignores its
//!   deadline has its process killed.
//! - A plugin file whose constructor or manifest aborts, exits, segfaults
//!   or hangs while the host looks at it is refused with the reason: every
//!   command and `serve` go on with the other plugins, in either mode.
//! - The 1.0 compat plugin runs unchanged in both modes.

mod support;

use std::process::Stdio;
use std::time::Duration;

use e2e_tests::{DIES_LOADING, Install, LOW_STOCK, MISBEHAVING, OLD_PLUGIN, Service, wait_until};
use serde_json::Value;

const PLUGIN: &str = "misbehaving";
/// An added instance of the misbehaving plugin that behaves: the other
/// plugin whose schedule must go on.
const GOOD: &str = "misbehaving:good";
/// Each way a plugin process dies, and the reason recorded.
const DEATHS: [(&str, &str); 4] = [
    ("abort", "plugin process died: signal 6 (SIGABRT)"),
    ("exit", "plugin process died: exit status 3"),
    ("segfault", "plugin process died: signal 11 (SIGSEGV)"),
    ("allocate", "plugin process died: signal 6 (SIGABRT)"),
];
/// The memory a misbehaving process may take (its unbounded allocation
/// ends there).
const MEMORY_LIMIT: &str = "host.memory_limit=256M";

/// Every run of plugin `id`, newest first.
fn runs_of(install: &Install, id: &str) -> Vec<Value> {
    install
        .json(&["runs", id, "--limit", "1000", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn runs(install: &Install) -> Vec<Value> {
    runs_of(install, PLUGIN)
}

fn outcomes_of(install: &Install, job: &str) -> Vec<String> {
    runs(install)
        .iter()
        .filter(|r| r["job"] == job)
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// The `plugins list --json` line of plugin `id`.
fn listed(install: &Install, id: &str) -> Value {
    install
        .json(&["plugins", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed"))
        .clone()
}

/// Waits up to `secs` for `ready`, failing the test with `what` and the log.
fn wait_for(secs: u64, what: &str, service: &Service, mut ready: impl FnMut() -> bool) {
    assert!(
        wait_until(Duration::from_secs(secs), &mut ready).is_some(),
        "waited {secs}s for {what}; service log:\n{}",
        service.log()
    );
}

/// Succeeded scheduled ticks of plugin `id`.
fn ticks(install: &Install, id: &str) -> usize {
    runs_of(install, id)
        .iter()
        .filter(|r| r["job"] == "tick" && r["outcome"] == "succeeded")
        .count()
}

/// Waits until `job` has a `running` run, failing the test after 20 s.
fn wait_running(install: &Install, job: &str, context: impl Fn() -> String) {
    let ok = wait_until(Duration::from_secs(20), || {
        outcomes_of(install, job).first().map(String::as_str) == Some("running")
    });
    assert!(
        ok.is_some(),
        "{job} never ran: {:#?}\n{}",
        runs(install),
        context()
    );
}

#[test]
fn a_run_by_hand_killed_with_sigkill_is_interrupted_and_blocks_nothing() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate(PLUGIN);
    install.set(PLUGIN, &["host.job_deadline=1s"]);
    let mut by_hand = install
        .command(&["run", PLUGIN, "slow"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_running(&install, "slow", String::new);
    by_hand.kill().unwrap();
    by_hand.wait().unwrap();

    let after_kill = runs(&install);
    assert!(!after_kill.is_empty());
    assert_eq!(after_kill[0]["outcome"], "interrupted", "{after_kill:#?}");
    assert_eq!(
        after_kill[0]["error"], "the process running it ended first",
        "{after_kill:#?}"
    );

    // The next run of the job starts; past its deadline it stops when asked.
    let ran = install.run(&["run", PLUGIN, "slow"]);
    assert!(
        ran.stdout().contains("timed-out"),
        "{}\n{}",
        ran.stdout(),
        ran.stderr()
    );
    assert_eq!(outcomes_of(&install, "slow"), ["timed-out", "interrupted"]);
}

#[test]
fn a_run_by_hand_ends_and_reaps_its_plugin_process_before_the_host_exits() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate(PLUGIN);
    install.run(&["run", PLUGIN, "ok"]).success();
    let db = intellitrack_db::Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    let (pid, _) = db
        .plugin_process(PLUGIN)
        .unwrap()
        .expect("the run recorded its plugin process");
    // Gone, not running on and not a zombie left for init to reap.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    assert!(
        stat.is_err(),
        "plugin process {pid} outlived the host: {stat:?}"
    );
}

#[test]
fn a_run_of_a_service_killed_with_sigkill_is_interrupted_and_runs_again() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate(PLUGIN);
    install
        .run(&["schedule", PLUGIN, "--interval", "1"])
        .success();
    let env = [("PLUGIN_HOST_CLOCK_SPEED", "60")];
    let service = install.serve_with_env(&env);
    wait_running(&install, "long", || service.log());
    service.kill();

    let long = outcomes_of(&install, "long");
    assert_eq!(long, ["interrupted"], "{:#?}", runs(&install));

    // A new service runs the job again.
    let again = install.serve_with_env(&env);
    wait_running(&install, "long", || again.log());
    assert_eq!(outcomes_of(&install, "long"), ["running", "interrupted"]);
    drop(again);
    assert_eq!(outcomes_of(&install, "long"), ["stopped", "interrupted"]);
}

#[test]
fn a_dying_job_run_by_hand_fails_with_the_reason_and_the_next_run_works() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate(PLUGIN);
    install.set(PLUGIN, &[MEMORY_LIMIT]);
    for (job, reason) in DEATHS {
        let ran = install.run(&["run", PLUGIN, job]).refused();
        assert!(
            ran.stdout().contains(&format!("{PLUGIN}/{job}: failed")),
            "{job}: {}",
            ran.stdout()
        );
        assert_eq!(runs(&install)[0]["error"], reason, "{job}");
        install.run(&["run", PLUGIN, "ok"]).success();
    }
    // In the host's own process the same abort takes the command with it.
    install.set(PLUGIN, &["host.isolation=in-process"]);
    let ran = install.run(&["run", PLUGIN, "abort"]);
    assert_eq!(ran.0.status.code(), None, "killed by its signal");
    assert_eq!(listed(&install, PLUGIN)["isolation"], "in-process");
    assert_eq!(runs(&install)[0]["outcome"], "interrupted");
}

#[test]
fn a_job_that_ignores_its_deadline_has_its_process_killed() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate(PLUGIN);
    install.set(PLUGIN, &["host.job_deadline=1s"]);
    let hanging = install
        .command(&["run", PLUGIN, "hang"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut pid = None;
    wait_until(Duration::from_secs(10), || {
        pid = listed(&install, PLUGIN)["pid"].as_u64();
        pid.is_some()
    });
    let pid = pid.expect("the plugin process is listed with its pid");
    let started = stat_field(pid, 19);
    let ran = hanging.wait_with_output().unwrap();
    assert!(
        String::from_utf8_lossy(&ran.stdout).contains(
            "ran past its deadline of 1s and was asked to stop, and did not stop within 10s; its process was killed"
        ),
        "{}",
        String::from_utf8_lossy(&ran.stdout)
    );
    // Gone, or a zombie waiting to be reaped: its memory is given back. (A
    // process with another start time has the pid again: pids are reused.)
    let state = stat_field(pid, 0);
    assert!(
        matches!(state.as_deref(), None | Some("Z")) || stat_field(pid, 19) != started,
        "the hung process {pid} still runs: {state:?}"
    );
    assert_eq!(listed(&install, PLUGIN)["pid"], Value::Null);
}

/// Field `n` of `/proc/PID/stat` after the command name (0: the state,
/// 19: the start time), if the process exists.
fn stat_field(pid: u64, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(n)
        .map(str::to_owned)
}

/// An install with the misbehaving plugin, a well-behaved instance of it
/// and low-stock, all active, the misbehaving ones ticking every (fast)
/// minute.
fn serving_install() -> Install {
    let install = Install::with_plugins(&[MISBEHAVING, LOW_STOCK]);
    install
        .run(&["plugins", "add-instance", PLUGIN, "good"])
        .success();
    for id in [PLUGIN, GOOD, "low-stock"] {
        install.activate(id);
    }
    install.set(PLUGIN, &[MEMORY_LIMIT]);
    for id in [PLUGIN, GOOD] {
        install.run(&["schedule", id, "--interval", "1"]).success();
    }
    install
}

/// `serve` with a fast clock; `long` ends by itself after a fifth of a
/// second, so an instance's jobs, which run one after another, tick on.
fn fast_serve(install: &Install) -> Service {
    install.serve_with_env(&[
        ("PLUGIN_HOST_CLOCK_SPEED", "60"),
        ("MISBEHAVING_LONG_MS", "200"),
    ])
}

#[test]
fn scheduled_runs_that_die_are_recorded_and_repeated_deaths_fault_the_plugin() {
    for (how, reason) in DEATHS {
        let install = serving_install();
        install.set(PLUGIN, &[&format!("tick_as={how}")]);
        let mut service = fast_serve(&install);
        wait_for(30, &format!("{how}: faulted"), &service, || {
            listed(&install, PLUGIN)["state"] == "faulted"
        });
        let fault = listed(&install, PLUGIN)["reason"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            fault.contains(&format!("{reason}, 3 times within 10 minutes")),
            "{how}: {fault}"
        );
        let died: Vec<Value> = runs(&install)
            .into_iter()
            .filter(|r| r["job"] == "tick")
            .collect();
        assert!(died.len() >= 3, "{how}: {died:#?}");
        assert!(
            died.iter()
                .all(|r| r["outcome"] == "failed" && r["error"] == reason),
            "{how}: {died:#?}"
        );
        // The other plugin keeps its schedule, the service stays up.
        let before = ticks(&install, GOOD);
        wait_for(15, "the good instance to tick on", &service, || {
            ticks(&install, GOOD) >= before + 2
        });
        assert!(service.is_running(), "{how}: the service is up");
        assert_eq!(listed(&install, GOOD)["state"], "active");
        assert!(listed(&install, GOOD)["pid"].as_u64().is_some());
        install.run(&["run", "low-stock", "report"]).success();
        // Faulted, it runs no more until an admin reactivates it.
        let count = runs(&install).len();
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(runs(&install).len(), count, "{how}: a faulted plugin ran");
        install.set(PLUGIN, &["tick_as=ok"]);
        install.activate(PLUGIN);
        wait_for(15, "the reactivated plugin to tick", &service, || {
            ticks(&install, PLUGIN) >= 1
        });
        assert!(service.stop().success());
    }
}

#[test]
fn activations_that_die_are_refused_with_the_reason_and_the_service_goes_on() {
    let install = serving_install();
    let mut service = fast_serve(&install);
    service.wait_for_log(
        ": activated plugin=misbehaving:good",
        Duration::from_secs(10),
    );
    for (how, reason) in &DEATHS[..2] {
        install.set(PLUGIN, &[&format!("activate_as={how}")]);
        service.wait_for_log(
            &format!("activation refused: {reason}"),
            Duration::from_secs(15),
        );
        assert!(
            listed(&install, PLUGIN)["reason"]
                .as_str()
                .is_some_and(|r| r.contains(reason)),
            "{how}"
        );
    }
    // The third death in a row faults the plugin's process.
    install.set(PLUGIN, &["activate_as=segfault"]);
    service.wait_for_log(
        "plugin process died: signal 11 (SIGSEGV), 3 times within 10 minutes",
        Duration::from_secs(15),
    );
    let before = ticks(&install, GOOD);
    wait_for(15, "the good instance to tick on", &service, || {
        ticks(&install, GOOD) >= before + 2
    });
    assert!(service.is_running());
    // Set right and reactivated by the admin, it is active again.
    install.set(PLUGIN, &["activate_as=ok"]);
    install.activate(PLUGIN);
    wait_for(15, "reactivation", &service, || {
        listed(&install, PLUGIN)["state"] == "active"
            && listed(&install, PLUGIN)["pid"].as_u64().is_some()
    });
    assert!(service.stop().success());
}

#[test]
fn the_1_0_plugin_runs_unchanged_in_both_modes() {
    for mode in ["process", "in-process"] {
        let install = Install::with_plugins(&[OLD_PLUGIN]);
        install.set(
            "heartbeat",
            &["label=tick", &format!("host.isolation={mode}")],
        );
        install.activate("heartbeat");
        assert_eq!(listed(&install, "heartbeat")["isolation"], mode);
        for n in 1..=2 {
            let ran = install.run(&["run", "heartbeat", "beat"]).success();
            assert!(
                ran.stdout().contains(&format!("tick {n}")),
                "{mode}: {}",
                ran.stdout()
            );
            assert!(
                ran.stderr().contains("plugin{id=\"heartbeat\"}"),
                "{mode}: its log is bridged"
            );
        }
    }
}

#[test]
fn a_scheduled_job_that_ignores_its_deadline_is_killed_and_the_others_go_on() {
    let install = serving_install();
    install.set(PLUGIN, &["tick_as=hang", "host.job_deadline=1s"]);
    let service = fast_serve(&install);
    wait_for(30, "the hung tick to be killed", &service, || {
        runs(&install)
            .iter()
            .any(|r| r["job"] == "tick" && r["outcome"] == "timed-out")
    });
    let killed = runs(&install)
        .into_iter()
        .find(|r| r["job"] == "tick" && r["outcome"] == "timed-out")
        .unwrap();
    assert_eq!(
        killed["error"],
        "ran past its deadline of 1s and was asked to stop, and did not stop within 10s; its process was killed"
    );
    assert!(
        ticks(&install, GOOD) >= 5,
        "the good instance ticked on meanwhile"
    );
    // A kill by the host is no death: the plugin is not faulted.
    assert_eq!(listed(&install, PLUGIN)["state"], "active");
    assert!(service.stop().success());
}

#[test]
fn bad_isolation_settings_are_refused_and_change_nothing() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    let before = install.json(&["plugins", "settings", PLUGIN, "--json"]);
    for bad in [
        "host.isolation=thread",
        "host.memory_limit=1M",
        "host.memory_limit=lots",
        "host.open_files=3",
    ] {
        let ran = install
            .run(&[
                "plugins",
                "settings",
                PLUGIN,
                "--set",
                "host.isolation=in-process",
                "--set",
                bad,
            ])
            .refused();
        let key = bad.split('=').next().unwrap();
        assert!(ran.stderr().contains(key), "{bad}: {}", ran.stderr());
    }
    assert_eq!(
        install.json(&["plugins", "settings", PLUGIN, "--json"]),
        before
    );
    assert_eq!(before["host.isolation"]["value"], "process");
    install.set(PLUGIN, &["host.memory_limit=512M", "host.open_files=256"]);
    let after = install.json(&["plugins", "settings", PLUGIN, "--json"]);
    assert_eq!(after["host.memory_limit"]["value"], 512u64 << 20);
    assert_eq!(after["host.open_files"]["value"], 256);
}

/// The `plugins list --json` line of the refused file `file`.
fn refused_file(install: &Install, env: &[(&str, &str)], file: &str) -> Value {
    let ran = install
        .run_with_env(&["plugins", "list", "--json"], env)
        .success();
    let lines: Value = serde_json::from_str(&ran.stdout()).unwrap();
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["file"].as_str().is_some_and(|f| f.ends_with(file)))
        .unwrap_or_else(|| panic!("{file} is not listed: {lines:#}"))
        .clone()
}

const DIES_LOADING_FILE: &str = "libdies_loading_plugin.so";

#[test]
fn a_plugin_file_that_dies_while_loading_is_refused_and_every_command_goes_on() {
    let install = Install::with_plugins(&[MISBEHAVING, LOW_STOCK, DIES_LOADING]);
    install.set("low-stock", &["host.isolation=in-process"]);
    install.activate(PLUGIN);
    install.activate("low-stock");
    let ways = [
        ("abort", "manifest", "signal 6 (SIGABRT)"),
        ("exit", "new", "exit status 3"),
        ("segfault", "new", "signal 11 (SIGSEGV)"),
        ("segfault", "manifest", "signal 11 (SIGSEGV)"),
    ];
    for (how, place, death) in ways {
        let env = [("DIES_LOADING_AS", how), ("DIES_LOADING_IN", place)];
        let refused = refused_file(&install, &env, DIES_LOADING_FILE);
        assert_eq!(refused["state"], "refused", "{how} in {place}");
        assert_eq!(
            refused["reason"],
            format!("plugin process died while loading: {death}"),
            "{how} in {place}"
        );
        // Both modes of the other plugins work beside it.
        let ran = install.run_with_env(&["run", PLUGIN, "ok"], &env).success();
        assert!(ran.stdout().contains("misbehaving/ok: succeeded"), "{how}");
        install
            .run_with_env(&["run", "low-stock", "report"], &env)
            .success();
    }
    assert_eq!(listed(&install, PLUGIN)["isolation"], "process");
    assert_eq!(listed(&install, "low-stock")["isolation"], "in-process");
    let human = install.run(&["plugins", "list"]).success();
    assert!(
        human
            .stdout()
            .contains("plugin process died while loading: signal 6 (SIGABRT)"),
        "{}",
        human.stdout()
    );
}

#[test]
fn serve_goes_on_beside_a_plugin_file_that_hangs_or_dies_while_loading() {
    for (how, reason) in [
        (
            "abort",
            "plugin process died while loading: signal 6 (SIGABRT)",
        ),
        (
            "hang",
            "plugin process did not finish loading within 10s; it was killed",
        ),
    ] {
        let install = serving_install();
        install.add_plugin(DIES_LOADING);
        let env = [
            ("PLUGIN_HOST_CLOCK_SPEED", "60"),
            ("MISBEHAVING_LONG_MS", "200"),
            ("DIES_LOADING_AS", how),
        ];
        let mut service = install.serve_with_env(&env);
        service.wait_for_log(reason, Duration::from_secs(30));
        wait_for(
            30,
            &format!("{how}: the good instance to tick"),
            &service,
            || ticks(&install, GOOD) >= 2,
        );
        assert!(service.is_running(), "{how}: the service is up");
        assert_eq!(listed(&install, GOOD)["state"], "active");
        // Every instance runs in its own process: no plugin file was ever
        // loaded into the service itself.
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", service.pid())).unwrap();
        for file in [
            DIES_LOADING_FILE,
            "libmisbehaving_plugin.so",
            "liblow_stock_plugin.so",
        ] {
            assert!(
                !maps.contains(file),
                "{how}: {file} is loaded in the service"
            );
        }
        assert!(service.stop().success(), "{how}");
    }
}

#[test]
fn a_plugin_whose_process_died_is_activated_again_before_its_next_run() {
    let (_store, install) = support::seed_store(&[], &[], |_| {});
    install
        .run(&["schedule", support::PLUGIN, "--interval", "1"])
        .success();
    let service = install.serve_with_env(&[("PLUGIN_HOST_CLOCK_SPEED", "60")]);
    let succeeded = |install: &Install| {
        runs_of(install, support::PLUGIN)
            .iter()
            .filter(|r| r["outcome"] == "succeeded")
            .count()
    };
    wait_for(60, "a scheduled run to succeed", &service, || {
        succeeded(&install) >= 1
    });
    let pid = listed(&install, support::PLUGIN)["pid"].as_u64().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let before = runs_of(&install, support::PLUGIN).len();
    wait_for(60, "three more runs to end", &service, || {
        runs_of(&install, support::PLUGIN)
            .iter()
            .take_while(|r| r["outcome"] != "running")
            .count()
            >= 3
            && runs_of(&install, support::PLUGIN).len() >= before + 3
    });
    let after = runs_of(&install, support::PLUGIN);
    let later = &after[..after.len() - before];
    assert!(
        later
            .iter()
            .all(|r| !r["error"].as_str().unwrap_or("").contains("not active")),
        "a run met a plugin that was not activated again: {later:#?}"
    );
    assert!(
        later.iter().filter(|r| r["outcome"] == "succeeded").count() >= 2,
        "{later:#?}\n{}",
        service.log()
    );
    assert_ne!(
        listed(&install, support::PLUGIN)["pid"].as_u64(),
        Some(pid),
        "a new process"
    );
}
