//! WooCommerce off the network for a while: the store sits behind a proxy
//! whose port is closed (connections refused, as for a host that is down)
//! and opened again, while the store and the warehouse go on working.
//!
//! Runs in the meantime fail cleanly, saying why, and change nothing; the
//! first runs after the store returns catch up with nothing lost and
//! nothing doubled: by hand, and on the service's schedule.

mod support;

use std::time::Duration;

use e2e_tests::{Install, SandboxStore, wait_until};
use serde_json::{Value, json};
use support::{
    JOBS, Proxy, notes, plugin_state, run_job, seed_store_behind_a_proxy, trackings,
    warehouse_snapshot,
};

/// The e2e seed store behind a proxy, a host pointed at the proxy, the
/// catalogue and orders imported.
fn behind_a_proxy() -> (SandboxStore, Proxy, Install) {
    let (store, proxy, install) = seed_store_behind_a_proxy();
    for job in ["import-products", "import-orders"] {
        let ran = run_job(&install, job, &[]);
        assert!(ran.succeeded(), "{job}: {}", ran.reason());
    }
    (store, proxy, install)
}

/// While the store is away: a new order comes in and the warehouse picks
/// and ships order 501. Returns the new order's id.
fn business_goes_on(store: &SandboxStore, install: &Install) -> u64 {
    let order = store.ok(
        "POST",
        "/wc/v3/orders",
        Some(json!({"status": "processing", "set_paid": true,
                    "billing": {"first_name": "Ola", "last_name": "Offline"},
                    "line_items": [{"product_id": 102, "quantity": 1}]})),
    );
    install.run(&["pick", "501", "1", "2"]).success();
    install
        .run(&["ship", "501", "--carrier", "UPS", "--tracking", "1ZAWAY"])
        .success();
    order["id"].as_u64().unwrap()
}

/// The store has the pick and the shipment of order 501 once each, and
/// the warehouse has the new order once.
fn assert_caught_up(store: &SandboxStore, install: &Install, new_order: u64) {
    let picked = notes(store, 501)
        .iter()
        .filter(|(_, n)| n.starts_with("Picked 2 × MUG"))
        .count();
    assert_eq!(picked, 1, "{:#?}", notes(store, 501));
    assert_eq!(trackings(store, 501), ["1ZAWAY"]);
    let orders = install.json(&["orders", "--json"]);
    let new = new_order.to_string();
    let copies = orders
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["external_id"] == new.as_str())
        .count();
    assert_eq!(copies, 1, "order {new} imported once");
}

fn states(install: &Install) -> Vec<Option<Value>> {
    ["import_products", "import_orders", "export_fulfillment"]
        .iter()
        .map(|key| plugin_state(&install.data_dir, key))
        .collect()
}

#[test]
fn runs_by_hand_while_the_store_is_off_fail_saying_why_and_the_next_ones_catch_up() {
    let (store, mut proxy, install) = behind_a_proxy();
    proxy.down();
    let new_order = business_goes_on(&store, &install);
    let warehouse = warehouse_snapshot(&install);
    let state = states(&install);
    let runs_before = install.json(&["runs", "--json"]).as_array().unwrap().len();

    for job in JOBS {
        let ran = run_job(&install, job, &[]);
        assert_eq!(ran.code, Some(1), "{job}: {ran:#?}");
        let reason = ran.reason();
        assert!(
            reason.contains("could not get ready for the run")
                && reason.contains("nothing accepted a connection at http://127.0.0.1")
                && reason.contains("Connection refused"),
            "{job}: {reason}"
        );
        assert!(
            !reason.contains(SandboxStore::SECRET),
            "{job}: the secret in {reason}"
        );
    }
    assert_eq!(warehouse_snapshot(&install), warehouse, "nothing changed");
    assert_eq!(states(&install), state, "no cursor or watermark moved");
    // What the run history says of the attempts: none succeeded, none is
    // left running, any recorded one failed with its reason.
    let runs = install.json(&["runs", "--json"]);
    for run in &runs.as_array().unwrap()[..runs.as_array().unwrap().len() - runs_before] {
        assert_eq!(run["outcome"], "failed", "{run:#}");
        assert!(!run["error"].as_str().unwrap_or("").is_empty(), "{run:#}");
    }
    assert_eq!(
        install.json(&["plugins", "list", "--json"])[0]["state"],
        "active",
        "a store that is away does not turn the plugin off"
    );

    proxy.up();
    for job in JOBS {
        let ran = run_job(&install, job, &[]);
        assert!(
            ran.succeeded(),
            "{job} after the store returned: {}",
            ran.reason()
        );
    }
    assert_caught_up(&store, &install, new_order);
    let again = run_job(&install, "export-fulfillment", &[]);
    assert_eq!(again.record.unwrap()["created"], 0, "nothing left to send");
}

fn runs_of(install: &Install) -> Vec<Value> {
    let runs = install.json(&["runs", "woocommerce", "--limit", "10000", "--json"]);
    let mut runs = runs.as_array().unwrap().clone();
    runs.reverse();
    runs
}

#[test]
fn scheduled_runs_while_the_store_is_off_fail_with_the_reason_and_resume_when_it_returns() {
    let (store, mut proxy, install) = behind_a_proxy();
    install
        .run(&["schedule", "woocommerce", "--interval", "1"])
        .success();
    // The host's clock runs sixty times fast: a one-minute interval passes
    // every second.
    let service = install.serve_with_env(&[("PLUGIN_HOST_CLOCK_SPEED", "60")]);
    let limit = Duration::from_secs(30);
    let scheduled_ok = |runs: &[Value], job: &str, after: usize| {
        runs[after..]
            .iter()
            .any(|r| r["job"] == job && r["trigger"] == "schedule" && r["outcome"] == "succeeded")
    };
    wait_until(limit, || {
        let runs = runs_of(&install);
        ["import-orders", "export-fulfillment"]
            .iter()
            .all(|job| scheduled_ok(&runs, job, 0))
    })
    .unwrap_or_else(|| panic!("no scheduled runs: {}", service.log()));

    proxy.down();
    let new_order = business_goes_on(&store, &install);
    let down_from = runs_of(&install).len();
    wait_until(limit, || {
        let runs = runs_of(&install);
        ["import-orders", "export-fulfillment"].iter().all(|job| {
            runs[down_from..]
                .iter()
                .any(|r| r["job"] == *job && r["outcome"] == "failed")
        })
    })
    .unwrap_or_else(|| panic!("no failed runs: {:#?}", &runs_of(&install)[down_from..]));
    let failed: Vec<Value> = runs_of(&install)[down_from..]
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .cloned()
        .collect();
    for run in &failed {
        let error = run["error"].as_str().unwrap_or("");
        assert!(
            error.contains("could not connect") && error.contains("Connection refused"),
            "{run:#}"
        );
    }
    // The stock push had nothing to send (no quantity changed): it asked
    // the store nothing, and succeeded.
    assert!(
        runs_of(&install)[down_from..].iter().all(|r| {
            r["outcome"] != "succeeded"
                || r["job"] == "end-of-day"
                || (r["job"] == "push-stock"
                    && r["summary"]
                        .as_str()
                        .is_some_and(|s| s.contains("nothing was read or sent")))
        }),
        "nothing reached the store, nothing succeeded"
    );

    proxy.up();
    let up_from = runs_of(&install).len();
    wait_until(limit, || {
        let runs = runs_of(&install);
        ["import-orders", "export-fulfillment"]
            .iter()
            .all(|job| scheduled_ok(&runs, job, up_from))
    })
    .unwrap_or_else(|| panic!("no runs after the store returned: {}", service.log()));
    drop(service);
    assert_caught_up(&store, &install, new_order);
    eprintln!(
        "{} scheduled runs failed while the store was away, e.g. {}",
        failed.len(),
        failed[0]["error"]
    );
}
