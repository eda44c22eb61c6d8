//! Exporting picks, shipments and End of Day stock to a WooCommerce store,
//! end to end: the real `plugin-host` with the real plugin library against
//! `woo-sandbox` as its own process (seed `tests/e2e/seeds/import.json`).

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use e2e_tests::{Install, SandboxStore, build, wait_until};
use serde_json::{Value, json};
use support::{run_record, seed_store};

/// The sandbox with the seed, a host with the plugin active on it, and the
/// products and orders imported.
fn imported(flags: &[&str], settings: &[&str]) -> (SandboxStore, Install) {
    let (store, install) = seed_store(flags, settings, |_| {});
    run_record(&install, "import-products", &[]);
    run_record(&install, "import-orders", &[]);
    (store, install)
}

fn notes(store: &SandboxStore, order: u64) -> Vec<(bool, String)> {
    store
        .ok("GET", &format!("/wc/v3/orders/{order}/notes"), None)
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["customer_note"].as_bool().unwrap(),
                n["note"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn meta(store: &SandboxStore, order: u64, key: &str) -> Value {
    store.ok("GET", &format!("/wc/v3/orders/{order}"), None)["meta_data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == key)
        .map(|m| m["value"].clone())
        .unwrap_or(Value::Null)
}

fn status(store: &SandboxStore, order: u64) -> String {
    store.ok("GET", &format!("/wc/v3/orders/{order}"), None)["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn count(notes: &[(bool, String)], needle: &str) -> usize {
    notes.iter().filter(|(_, n)| n.contains(needle)).count()
}

#[test]
fn picks_and_shipments_reach_the_store_once_partial_then_complete() {
    let (store, install) = imported(&[], &[]);
    // Order 505: line 1 kit part (1), line 2 lamp (1). Pick and ship in two parts.
    install.run(&["pick", "505", "1", "1"]).success();
    install
        .run(&[
            "ship",
            "505",
            "--carrier",
            "UPS",
            "--tracking",
            "1ZPART",
            "1=1",
        ])
        .success();
    let first = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(first["outcome"], "succeeded", "{first:#}");
    assert_eq!(first["created"], 2, "{first:#}");
    let n = notes(&store, 505);
    assert_eq!(count(&n, "Picked 1 × KIT-A from MAIN"), 1, "{n:#?}");
    assert_eq!(count(&n, "the rest is still to ship"), 1, "{n:#?}");
    assert_eq!(
        status(&store, 505),
        "processing",
        "a partial shipment leaves the status"
    );
    assert_eq!(
        meta(&store, 505, "_intellitrack_picked"),
        json!({"9006": 1})
    );
    let trackings = store.ok(
        "GET",
        "/wc-shipment-tracking/v3/orders/505/shipment-trackings",
        None,
    );
    assert_eq!(trackings.as_array().unwrap().len(), 1, "{trackings:#}");
    assert_eq!(trackings[0]["tracking_number"], "1ZPART");

    // A re-run writes nothing again.
    let again = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(again["created"], 0, "{again:#}");
    assert_eq!(notes(&store, 505).len(), n.len());

    // The lamp's stock is not counted by WooCommerce: the warehouse receives it.
    install.run(&["receive", "LAMP", "1"]).success();
    install.run(&["pick", "505", "2", "1"]).success();
    install
        .run(&["ship", "505", "--carrier", "FedEx", "--tracking", "FX-2"])
        .success();
    let second = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(second["created"], 2, "{second:#}");
    assert_eq!(status(&store, 505), "completed", "everything shipped");
    assert_eq!(
        meta(&store, 505, "_intellitrack_picked"),
        json!({"9006": 1, "9007": 1})
    );
    let trackings = store.ok(
        "GET",
        "/wc-shipment-tracking/v3/orders/505/shipment-trackings",
        None,
    );
    assert_eq!(trackings.as_array().unwrap().len(), 2, "{trackings:#}");
}

#[test]
fn without_the_tracking_extension_the_entry_goes_in_its_meta_and_a_note_tells_the_customer() {
    let (store, install) = imported(&["--no-shipment-tracking"], &["status_when_shipped=leave"]);
    install.run(&["pick", "501", "1", "2"]).success();
    install
        .run(&[
            "ship",
            "501",
            "--carrier",
            "Rig Freight",
            "--tracking",
            "RF-77",
        ])
        .success();
    let ran = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    let items = meta(&store, 501, "_wc_shipment_tracking_items");
    assert_eq!(items.as_array().unwrap().len(), 1, "{items:#}");
    assert_eq!(items[0]["tracking_number"], "RF-77");
    assert_eq!(items[0]["custom_tracking_provider"], "Rig Freight");
    let n = notes(&store, 501);
    assert!(
        n.iter()
            .any(|(customer, note)| *customer && note.contains("RF-77")),
        "{n:#?}"
    );
    assert_eq!(
        status(&store, 501),
        "processing",
        "status_when_shipped=leave"
    );
    assert_eq!(count(&n, "everything has shipped"), 1, "{n:#?}");
    // Installing the extension later shows the entry.
    store.control_with("PUT", "features", Some(json!({"shipment_tracking": true})));
    let trackings = store.ok(
        "GET",
        "/wc-shipment-tracking/v3/orders/501/shipment-trackings",
        None,
    );
    assert_eq!(trackings[0]["tracking_number"], "RF-77", "{trackings:#}");
}

#[test]
fn an_event_for_a_deleted_order_is_parked_and_others_flow_past_it() {
    let (store, install) = imported(&[], &["warehouse_cancel=cancel"]);
    install.run(&["pick", "501", "1", "1"]).success();
    install.run(&["pick", "502", "1", "1"]).success();
    install
        .run(&["cancel", "505", "--reason", "damaged in the warehouse"])
        .success();
    store.ok("DELETE", "/wc/v3/orders/501?force=true", None);
    let ran = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(
        (ran["created"].as_u64(), ran["failed"].as_u64()),
        (Some(2), Some(1)),
        "{ran:#}"
    );
    assert!(
        ran["issues"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("order 501 no longer exists in WooCommerce"),
        "{ran:#}"
    );
    assert_eq!(status(&store, 505), "cancelled", "warehouse_cancel=cancel");
    assert_eq!(
        count(
            &notes(&store, 505),
            "Cancelled in the warehouse: damaged in the warehouse"
        ),
        1
    );
    let parked = install.json(&["parked", "woocommerce", "--json"]);
    assert_eq!(parked.as_array().unwrap().len(), 1, "{parked:#}");
    assert_eq!(parked[0]["order_number"], "501");
    let seq = parked[0]["seq"].as_i64().unwrap().to_string();

    // Sent again by hand: it fails the same way and stays parked, once.
    install
        .run(&["parked", "retry", "woocommerce", &seq])
        .success();
    let retried = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(retried["failed"], 1, "{retried:#}");
    let parked = install.json(&["parked", "--json"]);
    assert_eq!(parked.as_array().unwrap().len(), 1, "{parked:#}");
    assert_eq!(parked[0]["retry_requested"], false);
}

#[test]
fn end_of_day_writes_only_what_differs_within_the_safety_limit() {
    let (store, install) = imported(&[], &[]);
    store.control("DELETE", "stats");
    let nothing = run_record(&install, "end-of-day", &[]);
    assert_eq!(nothing["outcome"], "succeeded", "{nothing:#}");
    assert_eq!(
        nothing["updated"], 0,
        "right after the imports, nothing differs: {nothing:#}"
    );
    let writes = |stats: &Value| {
        stats
            .as_object()
            .unwrap()
            .iter()
            .filter(|(route, _)| route.starts_with("POST") || route.starts_with("PUT"))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum::<u64>()
    };
    // The connection check writes an empty batch; End of Day wrote nothing.
    assert_eq!(writes(&store.stats()), 1, "{:#}", store.stats());
    let skipped: Vec<&str> = nothing["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["record"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        ["item LAMP", "item CAP-RED"],
        "not counted by WooCommerce"
    );

    // The warehouse counts: received mugs, hoodies damaged.
    install.run(&["receive", "MUG", "5"]).success();
    install
        .run(&["adjust", "HOODIE-S", "-1", "--reason", "damaged"])
        .success();
    let dry = run_record(&install, "end-of-day", &["--dry-run"]);
    let table = &dry["tables"][0];
    assert_eq!(
        table["rows"],
        json!([
            ["HOODIE-S", "3", "2", "0", "2"],
            ["MUG", "10", "15", "0", "15"]
        ]),
        "{dry:#}"
    );
    assert_eq!(
        store.ok("GET", "/wc/v3/products/101", None)["stock_quantity"],
        10,
        "a dry run writes nothing"
    );

    store.control("DELETE", "stats");
    let sent = run_record(&install, "end-of-day", &[]);
    assert_eq!(sent["updated"], 2, "{sent:#}");
    let stats = store.stats();
    assert_eq!(
        stats["POST /wc/v3/products/batch"], 2,
        "the check's empty batch and one write: {stats:#}"
    );
    assert_eq!(
        stats["POST /wc/v3/products/{id}/variations/batch"], 1,
        "{stats:#}"
    );
    assert_eq!(
        store.ok("GET", "/wc/v3/products/101", None)["stock_quantity"],
        15
    );
    assert_eq!(
        store.ok("GET", "/wc/v3/products/110/variations/111", None)["stock_quantity"],
        2
    );
    store.control("DELETE", "stats");
    let again = run_record(&install, "end-of-day", &[]);
    assert_eq!(again["updated"], 0, "{again:#}");
    assert_eq!(writes(&store.stats()), 1, "{:#}", store.stats());

    // A warehouse that lost its counts does not wipe the store without --force.
    for number in ["MUG", "POSTER", "KIT-A"] {
        let on_hand = install.json(&["inventory", number, "--json"])[0]["on_hand"]
            .as_i64()
            .unwrap();
        install
            .run(&[
                "adjust",
                number,
                &format!("-{on_hand}"),
                "--reason",
                "count lost",
            ])
            .success();
    }
    let stopped = run_record(&install, "end-of-day", &[]);
    assert_eq!(stopped["outcome"], "failed", "{stopped:#}");
    assert!(
        stopped["error"]
            .as_str()
            .unwrap()
            .contains("nothing was written: it would set 3 of 4 items to zero"),
        "{stopped:#}"
    );
    assert_eq!(
        store.ok("GET", "/wc/v3/products/101", None)["stock_quantity"],
        15
    );
    let forced = run_record(&install, "end-of-day", &["--force"]);
    assert_eq!(forced["updated"], 3, "{forced:#}");
    assert_eq!(
        store.ok("GET", "/wc/v3/products/101", None)["stock_quantity"],
        0
    );

    // On hand instead of available: the mugs' open orders are no longer netted.
    install.run(&["receive", "MUG", "4"]).success();
    install.set("woocommerce", &["stock_sent=on_hand"]);
    let on_hand = run_record(&install, "end-of-day", &["--dry-run"]);
    let rows = on_hand["tables"][0]["rows"].as_array().unwrap();
    assert!(
        rows.contains(&json!(["MUG", "0", "4", "0", "4"])),
        "{on_hand:#}"
    );
}

fn trackings(store: &SandboxStore, order: u64) -> Vec<String> {
    store
        .ok(
            "GET",
            &format!("/wc-shipment-tracking/v3/orders/{order}/shipment-trackings"),
            None,
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tracking_number"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn writes_that_landed_before_a_failure_are_never_written_twice() {
    let (store, install) = imported(&[], &["request_timeout_seconds=2"]);
    install.run(&["pick", "501", "1", "2"]).success();
    install
        .run(&["ship", "501", "--carrier", "UPS", "--tracking", "1ZONCE"])
        .success();
    // The pick's note lands but the store answers 502; the run fails, the
    // events stay pending.
    store.control_with(
        "PUT",
        "faults",
        Some(
            json!([{"prefix": "/wp-json/wc/v3/orders/501/notes", "methods": ["POST"],
                     "error_after_write_rate": 1, "error_status": 502, "times": 1}]),
        ),
    );
    let failed = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(failed["outcome"], "failed", "{failed:#}");
    assert!(
        failed["error"].as_str().unwrap().contains("stay pending"),
        "{failed:#}"
    );
    // Then the tracking lands but its answer comes too late.
    store.control_with(
        "PUT",
        "faults",
        Some(
            json!([{"prefix": "/wp-json/wc-shipment-tracking/v3/orders/501/shipment-trackings",
                     "methods": ["POST"], "timeout_after_write_ms": 5000, "times": 1}]),
        ),
    );
    let timed_out = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(timed_out["outcome"], "failed", "{timed_out:#}");
    let done = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(done["outcome"], "succeeded", "{done:#}");
    let n = notes(&store, 501);
    assert_eq!(count(&n, "Picked 2 × MUG"), 1, "{n:#?}");
    assert_eq!(trackings(&store, 501), ["1ZONCE"]);
    assert_eq!(status(&store, 501), "completed");
    assert_eq!(
        run_record(&install, "export-fulfillment", &[])["created"],
        0
    );
}

#[test]
fn a_crash_between_the_write_and_the_acknowledgement_doubles_nothing() {
    let (store, install) = imported(&[], &[]);
    install.run(&["pick", "501", "1", "2"]).success();
    install
        .run(&["ship", "501", "--carrier", "UPS", "--tracking", "1ZCRASH"])
        .success();
    // The order's meta and status update (`orders/batch`) lands but its
    // answer is held long enough to kill the host after the note landed,
    // before anything is acknowledged.
    store.control_with(
        "PUT",
        "faults",
        Some(
            json!([{"prefix": "/wp-json/wc/v3/orders/batch", "methods": ["POST"],
                     "timeout_after_write_ms": 20000, "times": 1}]),
        ),
    );
    let mut child = Command::new(build().join("plugin-host"))
        .arg("--data-dir")
        .arg(&install.data_dir)
        .arg("--plugin-dir")
        .arg(&install.plugin_dir)
        .args(["run", "woocommerce", "export-fulfillment"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(15), || {
        count(&notes(&store, 501), "Picked 2 × MUG") == 1
            && meta(&store, 501, "_intellitrack_picked") != Value::Null
    })
    .expect("the note and the meta landed");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    store.control("DELETE", "faults");
    let after = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(after["outcome"], "succeeded", "{after:#}");
    let n = notes(&store, 501);
    assert_eq!(count(&n, "Picked 2 × MUG"), 1, "{n:#?}");
    assert_eq!(trackings(&store, 501), ["1ZCRASH"]);
    assert_eq!(status(&store, 501), "completed");
}

/// The `[IntelliTrack event N]` marks in an order's notes, each as often
/// as it appears.
fn marks(store: &SandboxStore, order: u64) -> Vec<String> {
    notes(store, order)
        .iter()
        .flat_map(|(_, n)| {
            n.match_indices("[IntelliTrack event ")
                .map(|(at, _)| &n[at..])
        })
        .filter_map(|tail| Some(tail[..=tail.find(']')?].to_owned()))
        .collect()
}

/// Requests the store counted on routes matching `method` and `route`
/// (a pattern as `/__sandbox/stats` keys them).
fn counted(stats: &Value, method: &str, route: &str) -> u64 {
    stats[format!("{method} {route}")].as_u64().unwrap_or(0)
}

#[test]
fn coalesced_events_under_a_crash_between_the_batch_write_and_the_acknowledgement_double_nothing() {
    let (store, install) = imported(&[], &[]);
    // Order 501 (MUG × 2): pick, partial shipment, pick, last shipment;
    // order 508 (MUG × 1): pick and shipment; order 502 (HOODIE-S): a pick.
    for args in [
        &["pick", "501", "1", "1"][..],
        &[
            "ship",
            "501",
            "--carrier",
            "UPS",
            "--tracking",
            "1ZA",
            "1=1",
        ],
        &["pick", "501", "1", "1"],
        &["ship", "501", "--carrier", "UPS", "--tracking", "1ZB"],
        &["pick", "508", "1", "1"],
        &["ship", "508", "--carrier", "DHL", "--tracking", "JD08"],
        &["pick", "502", "1", "1"],
    ] {
        install.run(args).success();
    }
    // The orders' meta and status go out in one `orders/batch`, which
    // lands but answers only after the host is killed.
    store.control_with(
        "PUT",
        "faults",
        Some(
            json!([{"prefix": "/wp-json/wc/v3/orders/batch", "methods": ["POST"],
                     "timeout_after_write_ms": 20000, "times": 1}]),
        ),
    );
    store.control("DELETE", "stats");
    let mut child = Command::new(build().join("plugin-host"))
        .arg("--data-dir")
        .arg(&install.data_dir)
        .arg("--plugin-dir")
        .arg(&install.plugin_dir)
        .args(["run", "woocommerce", "export-fulfillment"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(15), || {
        status(&store, 501) == "completed"
            && status(&store, 508) == "completed"
            && meta(&store, 502, "_intellitrack_picked") != Value::Null
    })
    .expect("the batch landed");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    store.control("DELETE", "faults");
    // Coalesced: one private note an order, one batch for the three.
    let crashed = store.stats();
    assert_eq!(
        counted(&crashed, "POST", "/wc/v3/orders/{id}/notes"),
        3,
        "{crashed:#}"
    );
    assert_eq!(
        counted(&crashed, "POST", "/wc/v3/orders/batch"),
        1,
        "{crashed:#}"
    );
    let noted = notes(&store, 501);
    assert_eq!(
        noted
            .iter()
            .filter(|(_, n)| n.contains("IntelliTrack event"))
            .count(),
        1,
        "{noted:#?}"
    );
    let before = [501, 508, 502].map(|order| marks(&store, order));
    assert_eq!(before.each_ref().map(Vec::len), [3, 1, 1], "{before:#?}");

    store.control("DELETE", "stats");
    let after = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(after["outcome"], "succeeded", "{after:#}");
    let rerun = store.stats();
    assert!(
        counted(&rerun, "GET", "/wc/v3/orders/{id}/notes") >= 1,
        "the events in doubt were checked against the store: {rerun:#}"
    );
    assert_eq!(
        counted(&rerun, "POST", "/wc/v3/orders/{id}/notes"),
        0,
        "{rerun:#}"
    );
    assert_eq!(
        counted(
            &rerun,
            "POST",
            "/wc-shipment-tracking/v3/orders/{id}/shipment-trackings"
        ),
        0,
        "{rerun:#}"
    );
    for (order, marked) in [501, 508, 502].into_iter().zip(before) {
        assert_eq!(marks(&store, order), marked, "order {order}");
    }
    assert_eq!(trackings(&store, 501), ["1ZA", "1ZB"]);
    assert_eq!(trackings(&store, 508), ["JD08"]);
    assert_eq!(
        meta(&store, 501, "_intellitrack_picked"),
        json!({"9001": 2})
    );
    assert_eq!(status(&store, 502), "processing");
    assert_eq!(
        run_record(&install, "export-fulfillment", &[])["created"],
        0
    );
}

#[test]
fn while_the_store_is_down_events_wait_and_go_out_later() {
    let (store, install) = imported(&[], &[]);
    install.run(&["pick", "502", "1", "1"]).success();
    install
        .run(&["ship", "502", "--carrier", "DHL", "--tracking", "JD01"])
        .success();
    store.control_with(
        "PUT",
        "faults",
        Some(json!([{"prefix": "/wp-json/wc/v3/orders", "error_rate": 1, "error_status": 503}])),
    );
    let down = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(down["outcome"], "failed", "{down:#}");
    assert!(down["error"].as_str().unwrap().contains("503"), "{down:#}");
    store.control("DELETE", "faults");
    let back = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(back["outcome"], "succeeded", "{back:#}");
    assert_eq!(back["created"], 2, "{back:#}");
    let n = notes(&store, 502);
    assert_eq!(count(&n, "Picked 1 × HOODIE-S"), 1, "{n:#?}");
    assert_eq!(trackings(&store, 502), ["JD01"]);
    // Order 502 keeps a line that never ships (the gift card): it is
    // complete once everything shippable shipped.
    assert_eq!(status(&store, 502), "completed");
}

#[test]
fn a_count_the_store_refuses_in_a_batch_is_reported_and_the_rest_lands() {
    a_refused_count_is_reported(&[]);
}

/// A forced run writes each page's differences while it reads the next:
/// a refused item is reported the same way.
#[test]
fn a_count_refused_while_a_forced_end_of_day_still_reads_is_reported_and_the_rest_lands() {
    a_refused_count_is_reported(&["--force"]);
}

fn a_refused_count_is_reported(flags: &[&str]) {
    let (store, install) = imported(&[], &[]);
    install.run(&["receive", "MUG", "5"]).success();
    install.run(&["receive", "POSTER", "3"]).success();
    // The stock batch is held a moment; meanwhile the mug is deleted in
    // the store, so WooCommerce refuses that one item of the batch.
    store.control_with(
        "PUT",
        "faults",
        Some(json!([{"prefix": "/wp-json/wc/v3/products/batch", "methods": ["POST"], "latency_ms": 1500}])),
    );
    store.control("DELETE", "stats");
    let child = Command::new(build().join("plugin-host"))
        .arg("--data-dir")
        .arg(&install.data_dir)
        .arg("--plugin-dir")
        .arg(&install.plugin_dir)
        .args(["run", "woocommerce", "end-of-day", "--json"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The connection check's empty batch, then End of Day's.
    wait_until(Duration::from_secs(30), || {
        store.stats()["POST /wc/v3/products/batch"].as_u64() >= Some(2)
    })
    .expect("End of Day sends its batch");
    store.ok("DELETE", "/wc/v3/products/101?force=true", None);
    let out = child.wait_with_output().unwrap();
    let ran: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ran["updated"], 1, "{ran:#}");
    assert_eq!(ran["failed"], 1, "{ran:#}");
    let failure = ran["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["outcome"] == "failed")
        .unwrap();
    assert_eq!(failure["record"], "item MUG", "{ran:#}");
    assert!(
        failure["reason"]
            .as_str()
            .unwrap()
            .contains("woocommerce_rest_product_invalid_id"),
        "{ran:#}"
    );
    assert_eq!(
        store.ok("GET", "/wc/v3/products/102", None)["stock_quantity"],
        8
    );
    store.control("DELETE", "faults");
    let next = run_record(&install, "end-of-day", &[]);
    assert_eq!(next["updated"], 0, "{next:#}");
    assert!(
        next["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["record"] == "item MUG" && i["reason"] == "no longer in WooCommerce"),
        "{next:#}"
    );
}

#[test]
fn a_newer_store_gives_end_of_day_every_variation_in_one_listing() {
    let (store, install) = imported(&["--wc-version", "10.3.0"], &[]);
    install.run(&["receive", "HOODIE-S", "2"]).success();
    store.control("DELETE", "stats");
    let sent = run_record(&install, "end-of-day", &[]);
    assert_eq!(sent["updated"], 1, "{sent:#}");
    let stats = store.stats();
    assert_eq!(stats["GET /wc/v3/variations"], 1, "{stats:#}");
    assert_eq!(
        stats.get("GET /wc/v3/products/{id}/variations"),
        None,
        "{stats:#}"
    );
    assert_eq!(
        stats["POST /wc/v3/products/{id}/variations/batch"], 1,
        "{stats:#}"
    );
    assert_eq!(
        store.ok("GET", "/wc/v3/products/110/variations/111", None)["stock_quantity"],
        5
    );
}
