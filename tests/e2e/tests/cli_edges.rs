//! The CLI's rough edges, as a newcomer meets them, end to end through the
//! real `plugin-host` binary.

mod support;

use std::process::Stdio;

use e2e_tests::{Install, WOOCOMMERCE};

/// Runs `args` with its output going into a pipe whose reader has already
/// gone (as `| head` does once it has its lines); returns the exit code
/// and what the command said on stderr.
fn into_a_closed_pipe(install: &Install, args: &[&str]) -> (Option<i32>, String) {
    let mut child = install
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_every_command_quietly_with_success() {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    // Something to list: an audit line, an item, a user.
    install
        .run(&["items", "add", "BOLT", "--description", "a bolt"])
        .success();
    for args in [
        &["audit"][..],
        &["audit", "--json"],
        &["items"],
        &["items", "--json"],
        &["inventory", "--json"],
        &["plugins", "list"],
        &["runs", "--json"],
        &["schedule", "woocommerce"],
    ] {
        let (code, stderr) = into_a_closed_pipe(&install, args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn plugins_list_keeps_its_columns_in_line_with_long_instance_names() {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    install
        .run(&[
            "plugins",
            "add-instance",
            "woocommerce",
            "the-second-store-long-name",
        ])
        .success();
    let listed = install.run(&["plugins", "list"]).success().stdout();
    let lines: Vec<&str> = listed.lines().collect();
    let state = lines[0].find("STATE").unwrap();
    for line in &lines[1..] {
        let at = line.find("inactive").unwrap_or_else(|| panic!("{listed}"));
        assert_eq!(at, state, "{listed}");
    }
}

#[test]
fn a_run_killed_while_its_plugin_gets_ready_is_recorded_as_interrupted() {
    let store = e2e_tests::SandboxStore::start();
    // The connection check before the run hangs on a slow store.
    store.control_with(
        "PUT",
        "faults",
        Some(serde_json::json!([{"prefix": "/wp-json/wc/v3/system_status", "latency_ms": 5000}])),
    );
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set("woocommerce", &settings);
    install.run(&["plugins", "activate", "woocommerce"]);
    let mut run = install
        .command(&["run", "woocommerce", "import-products"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    run.kill().unwrap();
    run.wait().unwrap();
    let runs = install.json(&["runs", "--json"]);
    let run = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["job"] == "import-products")
        .unwrap_or_else(|| panic!("the killed run is recorded: {runs:#}"));
    assert_eq!(run["outcome"], "interrupted", "{run:#}");
}

#[test]
fn a_run_going_on_when_the_service_stops_is_interrupted_by_the_stop() {
    let install = Install::with_plugins(&[e2e_tests::MISBEHAVING]);
    install.set("misbehaving", &["tick_as=hang"]);
    install.activate("misbehaving");
    install
        .run(&["schedule", "misbehaving", "--interval", "1"])
        .success();
    let service = install.serve_with_env(&[("PLUGIN_HOST_CLOCK_SPEED", "60")]);
    let running = e2e_tests::wait_until(std::time::Duration::from_secs(20), || {
        install
            .json(&["runs", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["job"] == "tick" && r["outcome"] == "running")
    });
    assert!(running.is_some(), "{}", service.log());
    assert!(service.stop().success());
    let runs = install.json(&["runs", "--json"]);
    let tick = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["job"] == "tick")
        .unwrap();
    assert_eq!(
        (tick["outcome"].as_str(), tick["error"].as_str()),
        (Some("interrupted"), Some("the service stopped")),
        "{tick:#}"
    );
}

#[test]
fn a_run_that_fails_part_way_keeps_the_counts_of_what_it_did() {
    let (store, install, _) = support::imported_seed_store(&[], &[], |_| {});
    for order in ["501", "502", "505"] {
        install.run(&["pick", order, "1", "1"]).success();
    }
    store.control_with(
        "PUT",
        "faults",
        Some(serde_json::json!([
            {"prefix": "/wp-json/wc/v3/orders/505", "error_rate": 1, "error_status": 503}
        ])),
    );
    let run = support::run_record(&install, "export-fulfillment", &[]);
    assert_eq!(run["outcome"], "failed", "{run:#}");
    let error = run["error"].as_str().unwrap();
    let sent: u64 = error
        .split(" events sent")
        .next()
        .and_then(|n| n.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no count of events sent in {error:?}"));
    assert!(sent > 0, "{run:#}");
    assert_eq!(
        run["created"], sent,
        "the record agrees with its error: {run:#}"
    );
    let history = install.json(&["runs", "--json"]);
    let recorded = history
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == run["id"])
        .unwrap();
    assert_eq!(recorded["created"], sent, "{recorded:#}");
}
