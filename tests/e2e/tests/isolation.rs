//! What no plugin and no killed process may do to the host, end to end
//! through the real binary.
//!
//! - A run left `running` by a process killed with SIGKILL (a `run` by
//!   hand, or `serve` itself) is shown as `interrupted` by the next command
//!   that reads runs, and never blocks a new run of that job.

use std::process::Stdio;
use std::time::Duration;

use e2e_tests::{Install, MISBEHAVING, wait_until};
use serde_json::Value;

const PLUGIN: &str = "misbehaving";

/// Every run of the plugin, newest first.
fn runs(install: &Install) -> Vec<Value> {
    install
        .json(&["runs", PLUGIN, "--limit", "1000", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn outcomes_of(install: &Install, job: &str) -> Vec<String> {
    runs(install)
        .iter()
        .filter(|r| r["job"] == job)
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect()
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
        .command(&["run", PLUGIN, "slow", "--as", "tester"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_running(&install, "slow", String::new);
    by_hand.kill().unwrap();
    by_hand.wait().unwrap();

    let after_kill = runs(&install);
    assert_eq!(after_kill[0]["outcome"], "interrupted", "{after_kill:#?}");
    assert_eq!(
        after_kill[0]["error"], "the process running it ended first",
        "{after_kill:#?}"
    );

    // The next run of the job starts; past its deadline it stops when asked.
    let ran = install.run(&["run", PLUGIN, "slow", "--as", "tester"]);
    assert!(
        ran.stdout().contains("timed-out"),
        "{}\n{}",
        ran.stdout(),
        ran.stderr()
    );
    assert_eq!(outcomes_of(&install, "slow"), ["timed-out", "interrupted"]);
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
