//! Several stores, one warehouse: two instances of the WooCommerce plugin,
//! each against its own `woo-sandbox` process, through the real host; and
//! a data dir made by the release before instances, opened by today's host.

mod support;

use std::path::Path;
use std::time::Duration;

use e2e_tests::{Install, SAMPLE_SOURCE, SandboxStore, WOOCOMMERCE, wait_until};
use intellitrack_db::Db;
use plugin_api::warehouse::ItemRef;
use serde_json::{Value, json};
use support::{place_order, store_stock};

const A: &str = "woocommerce";
const B: &str = "woocommerce:shop-b";

fn seed_a() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds/import.json")
        .display()
        .to_string()
}

/// Store B sells the same mug under its own id, a product of its own, and
/// has an order numbered 501 like one of store A's.
fn seed_b(dir: &Path) -> String {
    let at = "2026-11-20T10:00:00Z";
    let path = dir.join("seed-b.json");
    std::fs::write(
        &path,
        json!({
            "products": [
                {"id": 901, "type": "simple", "name": "Mug (B)", "sku": "MUG", "manage_stock": true,
                 "stock_quantity": 7, "date_created": at, "date_modified": at},
                {"id": 902, "type": "simple", "name": "B only", "sku": "B-ONLY", "manage_stock": true,
                 "stock_quantity": 3, "date_created": at, "date_modified": at}
            ],
            "orders": [
                {"id": 501, "status": "processing", "date_created": "2026-11-21T08:00:00Z",
                 "date_modified": "2026-11-21T08:00:00Z", "date_paid": "2026-11-21T08:00:00Z",
                 "billing": {"first_name": "Bea", "last_name": "Bee", "address_1": "9 Hive Rd", "city": "Graz",
                             "country": "AT", "email": "bea@example.test"},
                 "line_items": [{"id": 7001, "name": "Mug (B)", "product_id": 901, "variation_id": 0,
                                 "quantity": 1, "total": "9.00"}]}
            ]
        })
        .to_string(),
    )
    .unwrap();
    path.display().to_string()
}

fn configure(install: &Install, id: &str, store: &SandboxStore) {
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set(id, &settings);
    install.activate(id);
}

fn run(install: &Install, id: &str, job: &str, flags: &[&str]) -> Value {
    let mut args = vec!["run", id, job, "--json"];
    args.extend_from_slice(flags);
    let ran = install.run(&args);
    serde_json::from_str(&ran.stdout()).unwrap_or_else(|e| {
        panic!(
            "{id} {job}: not JSON ({e}): {}\n{}",
            ran.stdout(),
            ran.stderr()
        )
    })
}

fn stock(install: &Install, number: &str) -> (i64, i64, i64) {
    let q = &install.json(&["inventory", number, "--json"])[0];
    (
        q["on_hand"].as_i64().unwrap(),
        q["allocated"].as_i64().unwrap(),
        q["available"].as_i64().unwrap(),
    )
}

fn notes(store: &SandboxStore, order: u64) -> Vec<String> {
    store
        .ok("GET", &format!("/wc/v3/orders/{order}/notes"), None)
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["note"].as_str().unwrap().to_owned())
        .collect()
}

/// A host with the plugin's first instance on store A and instance
/// `shop-b` on store B, both active.
fn two_stores() -> (Install, SandboxStore, SandboxStore) {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let seed_a = seed_a();
    let seed_b = seed_b(install.data_dir.parent().unwrap());
    let store_a = SandboxStore::start_with(&["--seed", &seed_a]);
    let store_b = SandboxStore::start_with(&["--seed", &seed_b]);
    install
        .run(&["plugins", "add-instance", A, "shop-b"])
        .success();
    configure(&install, A, &store_a);
    configure(&install, B, &store_b);
    (install, store_a, store_b)
}

#[test]
fn two_stores_share_one_warehouse_and_each_gets_only_its_own() {
    let (install, store_a, store_b) = two_stores();
    let refused = install
        .run(&["plugins", "add-instance", A, "shop-b"])
        .refused();
    assert!(
        refused.stderr().contains("exists already"),
        "{}",
        refused.stderr()
    );
    let list = install.json(&["plugins", "list", "--json"]);
    let ids: Vec<(&str, &str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap(),
                p["plugin"].as_str().unwrap(),
                p["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(ids, [(A, A, "active"), (B, A, "active")]);

    for id in [A, B] {
        assert_eq!(
            run(&install, id, "import-products", &[])["outcome"],
            "succeeded"
        );
    }
    // The same SKU in both stores is one item with two references, and its
    // opening stock came once, from the first store that created it.
    let db = Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    let number = |source: &str, id: &str| {
        db.find_items(source, &[ItemRef::ExternalId(id.into())])
            .unwrap()[0]
            .as_ref()
            .map(|i| i.number.clone())
    };
    assert_eq!(number(A, "101").as_deref(), Some("MUG"));
    assert_eq!(number(B, "901").as_deref(), Some("MUG"));
    assert_eq!(
        number(A, "901"),
        None,
        "each instance sees its own references only"
    );
    assert_eq!(stock(&install, "MUG"), (10, 0, 10));
    assert_eq!(stock(&install, "B-ONLY"), (3, 0, 3));

    for id in [A, B] {
        assert_eq!(
            run(&install, id, "import-orders", &[])["outcome"],
            "succeeded"
        );
    }
    // Store B's order 501 is shop-b-501 in the warehouse; both stores'
    // orders hold the one stock of mugs.
    let bea = install.json(&["order", "shop-b-501", "--json"]);
    assert_eq!(
        (bea["customer"].as_str(), bea["source"].as_str()),
        (Some("Bea Bee"), Some(B))
    );
    assert_eq!(
        install.json(&["order", "501", "--json"])["customer"],
        "Ada Lovelace"
    );
    assert_eq!(
        stock(&install, "MUG"),
        (13, 4, 9),
        "A's 2 + 1 and B's 1 allocated"
    );

    // Each store's picks and shipments reach that store only.
    install.run(&["pick", "501", "1", "2"]).success();
    install.run(&["pick", "shop-b-501", "1", "1"]).success();
    install
        .run(&[
            "ship",
            "shop-b-501",
            "--carrier",
            "DHL",
            "--tracking",
            "B-TRACK",
        ])
        .success();
    for id in [A, B] {
        assert_eq!(
            run(&install, id, "export-fulfillment", &[])["outcome"],
            "succeeded"
        );
    }
    let a_notes = notes(&store_a, 501);
    let b_notes = notes(&store_b, 501);
    assert!(
        a_notes.iter().any(|n| n.contains("Picked 2 × MUG")),
        "{a_notes:#?}"
    );
    assert!(
        !a_notes.iter().any(|n| n.contains("Picked 1 × MUG")),
        "{a_notes:#?}"
    );
    assert!(
        b_notes.iter().any(|n| n.contains("Picked 1 × MUG")),
        "{b_notes:#?}"
    );
    assert!(
        !b_notes.iter().any(|n| n.contains("Picked 2 × MUG")),
        "{b_notes:#?}"
    );
    assert_eq!(
        store_b.ok("GET", "/wc/v3/orders/501", None)["status"],
        "completed"
    );
    assert_eq!(
        store_a.ok("GET", "/wc/v3/orders/501", None)["status"],
        "processing"
    );

    // End of Day sends both stores the same available mugs.
    for id in [A, B] {
        let eod = run(&install, id, "end-of-day", &["--force"]);
        assert_eq!(eod["outcome"], "succeeded", "{eod:#}");
    }
    let available = stock(&install, "MUG").2;
    assert_eq!(
        store_a.ok("GET", "/wc/v3/products/101", None)["stock_quantity"],
        available
    );
    assert_eq!(
        store_b.ok("GET", "/wc/v3/products/901", None)["stock_quantity"],
        available
    );

    // One store down: its run fails, the other's goes on.
    store_b.control_with(
        "PUT",
        "faults",
        Some(json!([{"error_rate": 1, "error_status": 503}])),
    );
    let down = install.run(&["run", B, "import-orders"]).refused();
    assert!(down.stderr().contains("HTTP 503"), "{}", down.stderr());
    assert_eq!(
        run(&install, A, "import-orders", &[])["outcome"],
        "succeeded"
    );
    store_b.control("DELETE", "faults");

    // Removing an instance is refused while it is active.
    let refused = install.run(&["plugins", "remove-instance", B]).refused();
    assert!(
        refused.stderr().contains("deactivate it first"),
        "{}",
        refused.stderr()
    );
}

/// Both stores' products and orders imported, and each store's counts
/// sent by its End of Day and its push's cursor past them.
fn two_stores_at_their_truth() -> (Install, SandboxStore, SandboxStore) {
    let (install, store_a, store_b) = two_stores();
    for job in ["import-products", "import-orders"] {
        for id in [A, B] {
            assert_eq!(run(&install, id, job, &[])["outcome"], "succeeded");
        }
    }
    for id in [A, B] {
        let eod = run(&install, id, "end-of-day", &["--force"]);
        assert_eq!(eod["outcome"], "succeeded", "{eod:#}");
        let push = run(&install, id, "push-stock", &[]);
        assert_eq!(
            (&push["outcome"], &push["updated"]),
            (&json!("succeeded"), &json!(0)),
            "{push:#}"
        );
    }
    let available = stock(&install, "MUG").2;
    assert_eq!(
        (store_stock(&store_a, 101), store_stock(&store_b, 901)),
        (available, available)
    );
    (install, store_a, store_b)
}

#[test]
fn an_order_in_one_store_lowers_the_other_stores_count_at_its_next_push() {
    let (install, store_a, store_b) = two_stores_at_their_truth();
    let before = store_stock(&store_a, 101);
    // Store B sells 2 of the shared mugs; the warehouse imports the order.
    place_order(&store_b, 901, 2, "processing");
    assert_eq!(
        run(&install, B, "import-orders", &[])["outcome"],
        "succeeded"
    );
    let available = stock(&install, "MUG").2;

    // Store A's push hears of it and sends A's count 2 lower.
    let push = run(&install, A, "push-stock", &[]);
    assert_eq!(
        (&push["outcome"], &push["updated"]),
        (&json!("succeeded"), &json!(1)),
        "{push:#}"
    );
    assert_eq!(store_stock(&store_a, 101), before - 2);
    assert_eq!(store_stock(&store_a, 101), available);
    // Store B took its own order's units off when it was placed: its push
    // has nothing to send.
    let push = run(&install, B, "push-stock", &[]);
    assert_eq!(
        (&push["outcome"], &push["updated"]),
        (&json!("succeeded"), &json!(0)),
        "{push:#}"
    );
    assert_eq!(store_stock(&store_b, 901), available);
}

#[test]
fn two_stores_end_of_day_side_by_side_each_end_at_their_truth() {
    let (install, store_a, store_b) = two_stores_at_their_truth();
    // Store A's count drifted, so its End of Day writes; store B sells 2
    // of the shared mugs, which its End of Day imports.
    let drifted = store_stock(&store_a, 101) + 5;
    store_a.ok(
        "PUT",
        "/wc/v3/products/101",
        Some(json!({"stock_quantity": drifted})),
    );
    place_order(&store_b, 901, 2, "processing");
    // A's batch (and the connection check's before it) is held in its
    // store while B's End of Day runs: A read the warehouse's counts before
    // B's order was in.
    store_a.control_with(
        "PUT",
        "faults",
        Some(json!([{"prefix": "/wp-json/wc/v3/products/batch", "methods": ["POST"], "latency_ms": 15000, "times": 2}])),
    );
    store_a.control("DELETE", "stats");
    let a = install
        .command(&["run", A, "end-of-day", "--force", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The connection check's empty batch, then End of Day's.
    wait_until(Duration::from_secs(60), || {
        store_a.stats()["POST /wc/v3/products/batch"].as_u64() >= Some(2)
    })
    .expect("A's End of Day sends its batch");
    let b = run(&install, B, "end-of-day", &["--force"]);
    assert_eq!(b["outcome"], "succeeded", "{b:#}");
    let a = a.wait_with_output().unwrap();
    let a: Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(a["outcome"], "succeeded", "{a:#}");
    store_a.control("DELETE", "faults");

    let available = stock(&install, "MUG").2;
    assert_eq!(
        (store_stock(&store_a, 101), store_stock(&store_b, 901)),
        (available, available),
        "A's End of Day heard of B's order after its writes; A: {a:#}"
    );
}

/// Whether `ran` (a run's JSON) has an issue of item `number` for this
/// reason.
fn has_issue(ran: &Value, number: &str, reason: &str) -> bool {
    ran["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["record"] == format!("item {number}") && i["reason"].as_str() == Some(reason))
}

/// The item store `source` names `id`, active as `source` sees it.
fn active_for(install: &Install, source: &str, id: &str) -> Option<bool> {
    Db::open(&install.data_dir.join("intellitrack.db"))
        .unwrap()
        .find_items(source, &[ItemRef::ExternalId(id.into())])
        .unwrap()[0]
        .as_ref()
        .map(|i| i.active)
}

/// Both stores at their truth; then store A stops selling the shared mug
/// (`stop`: in its store, and its product import after), store B renames
/// its own (B's import used to make the item active for both again), and
/// the warehouse receives 5 mugs. Store B's push and End of Day bring B's
/// count to the truth; A's push and End of Day leave A's product alone and
/// report nothing of it. Returns the mugs available.
fn store_a_stops_selling_the_mug(
    stop: impl FnOnce(&Install, &SandboxStore),
) -> (Install, SandboxStore, SandboxStore, i64) {
    let (install, store_a, store_b) = two_stores_at_their_truth();
    let a_count = store_stock(&store_a, 101);
    stop(&install, &store_a);
    assert_eq!(
        (
            active_for(&install, A, "101"),
            active_for(&install, B, "901")
        ),
        (Some(false), Some(true)),
        "inactive for A only"
    );
    let items = install.json(&["items", "--json"]);
    let mug = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == "MUG")
        .unwrap();
    assert_eq!(mug["active"], true, "store B still sells it: {mug:#}");
    let refs = mug["store_refs"].as_array().unwrap();
    assert!(
        refs.iter()
            .any(|r| r["instance"] == A && r["gone_at"].is_i64())
            && refs
                .iter()
                .any(|r| r["instance"] == B && r.get("gone_at").is_none()),
        "{mug:#}"
    );

    store_b.ok(
        "PUT",
        "/wc/v3/products/901",
        Some(json!({"name": "Mug, blue (B)"})),
    );
    let imported = run(&install, B, "import-products", &[]);
    assert_eq!(imported["outcome"], "succeeded", "{imported:#}");
    assert_eq!(active_for(&install, A, "101"), Some(false));

    install.run(&["receive", "MUG", "5"]).success();
    let available = stock(&install, "MUG").2;
    let push = run(&install, B, "push-stock", &[]);
    assert_eq!(
        (&push["outcome"], &push["updated"]),
        (&json!("succeeded"), &json!(1)),
        "{push:#}"
    );
    assert_eq!(store_stock(&store_b, 901), available);
    let eod = run(&install, B, "end-of-day", &["--force"]);
    assert_eq!(
        (&eod["outcome"], &eod["updated"]),
        (&json!("succeeded"), &json!(0)),
        "{eod:#}"
    );
    assert_eq!(store_stock(&store_b, 901), available);

    let push = run(&install, A, "push-stock", &[]);
    assert_eq!(
        (&push["outcome"], &push["updated"]),
        (&json!("succeeded"), &json!(0)),
        "{push:#}"
    );
    for _ in 0..2 {
        let eod = run(&install, A, "end-of-day", &["--force"]);
        assert_eq!(
            (&eod["outcome"], &eod["updated"]),
            (&json!("succeeded"), &json!(0)),
            "{eod:#}"
        );
        assert!(
            !has_issue(&eod, "MUG", "no longer in WooCommerce"),
            "{eod:#}"
        );
    }
    let (status, product) = store_a.rest("GET", "/wc/v3/products/101", None);
    if status == 200 {
        assert_eq!(product["stock_quantity"], a_count, "A's product unwritten");
    }
    (install, store_a, store_b, available)
}

#[test]
fn a_store_that_drafts_a_shared_item_leaves_it_to_the_other_store_until_it_sells_it_again() {
    let (install, store_a, _store_b, available) =
        store_a_stops_selling_the_mug(|install, store_a| {
            store_a.ok(
                "PUT",
                "/wc/v3/products/101",
                Some(json!({"status": "draft"})),
            );
            let imported = run(install, A, "import-products", &[]);
            assert_eq!(imported["outcome"], "succeeded", "{imported:#}");
        });

    // Store A publishes its mug again: its import brings A's reference
    // back, and A's End of Day sends A's count.
    store_a.ok(
        "PUT",
        "/wc/v3/products/101",
        Some(json!({"status": "publish"})),
    );
    let imported = run(&install, A, "import-products", &[]);
    assert_eq!(imported["outcome"], "succeeded", "{imported:#}");
    assert_eq!(active_for(&install, A, "101"), Some(true));
    let eod = run(&install, A, "end-of-day", &["--force"]);
    assert_eq!(eod["outcome"], "succeeded", "{eod:#}");
    assert_eq!(store_stock(&store_a, 101), available);
}

#[test]
fn a_store_that_deletes_a_shared_item_leaves_it_to_the_other_store() {
    store_a_stops_selling_the_mug(|install, store_a| {
        store_a.ok("DELETE", "/wc/v3/products/101?force=true", None);
        // Only a full walk finds a deleted product: the next one, as after
        // the admin page's watermark reset.
        Db::open(&install.data_dir.join("intellitrack.db"))
            .unwrap()
            .put_state(A, "import_products", None)
            .unwrap();
        let imported = run(install, A, "import-products", &[]);
        assert_eq!(imported["outcome"], "succeeded", "{imported:#}");
        assert!(
            imported["summary"]
                .as_str()
                .unwrap()
                .contains("1 deactivated"),
            "{imported:#}"
        );
    });
}

/// The runs of `id` the change feed woke (trigger `feed`), oldest first.
fn woken_runs(install: &Install, id: &str) -> Vec<Value> {
    let mut runs: Vec<Value> = install
        .json(&["runs", id, "--limit", "1000", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["trigger"] == "feed")
        .cloned()
        .collect();
    runs.reverse();
    runs
}

/// No request reached `store` since its counters were cleared.
fn no_requests(store: &SandboxStore) -> bool {
    store
        .stats()
        .as_object()
        .is_some_and(|m| m.values().all(|n| n.as_u64() == Some(0)))
}

#[test]
fn one_stores_import_after_the_others_end_of_day_brings_the_others_count_to_the_truth_within_seconds()
 {
    let (install, store_a, store_b) = two_stores_at_their_truth();
    // No schedule runs a job of either store: the Sync Interval is off,
    // and End of Day (run by hand) has no missed day to catch up.
    for id in [A, B] {
        install
            .run(&["schedule", id, "--interval", "off"])
            .success();
    }
    let service = install.serve();
    let waking = wait_until(Duration::from_secs(30), || {
        service
            .log()
            .matches("runs the job when the change feed has events")
            .count()
            == 2
    });
    assert!(
        waking.is_some(),
        "both instances' push wakes on the feed; log:\n{}",
        service.log()
    );

    // Store B sells 2 of the shared mugs, and B's import (by hand, in
    // another process, when A's day is over) lowers the warehouse's count.
    place_order(&store_b, 901, 2, "processing");
    let before = store_stock(&store_a, 101);
    assert_eq!(
        run(&install, B, "import-orders", &[])["outcome"],
        "succeeded"
    );
    let available = stock(&install, "MUG").2;
    assert_eq!(available, before - 2);
    let pushed = wait_until(Duration::from_secs(10), || {
        woken_runs(&install, A)
            .first()
            .is_some_and(|r| r["outcome"] != "running")
    });
    assert!(
        pushed.is_some(),
        "A's push ran without A's schedule; log:\n{}",
        service.log()
    );
    let woken = woken_runs(&install, A);
    assert_eq!(woken.len(), 1, "{woken:#?}");
    assert_eq!(
        (&woken[0]["job"], &woken[0]["outcome"], &woken[0]["updated"]),
        (&json!("push-stock"), &json!("succeeded"), &json!(1)),
        "{:#}",
        woken[0]
    );
    assert_eq!(store_stock(&store_a, 101), available);
    // B's own order woke nothing of B's: its store took the units itself.
    assert!(woken_runs(&install, B).is_empty());
    assert_eq!(store_stock(&store_b, 901), available);

    // Idle turns: nothing wakes, and store A hears nothing.
    store_a.control("DELETE", "stats");
    std::thread::sleep(Duration::from_secs(2));
    assert!(no_requests(&store_a), "{:#}", store_a.stats());
    assert_eq!(woken_runs(&install, A).len(), 1);

    // The other way round: A's own import wakes B's push, not A's.
    place_order(&store_a, 101, 1, "processing");
    assert_eq!(
        run(&install, A, "import-orders", &[])["outcome"],
        "succeeded"
    );
    let available = stock(&install, "MUG").2;
    let pushed = wait_until(Duration::from_secs(10), || {
        woken_runs(&install, B)
            .first()
            .is_some_and(|r| r["outcome"] != "running")
    });
    assert!(pushed.is_some(), "B's push ran; log:\n{}", service.log());
    assert_eq!(store_stock(&store_b, 901), available);
    assert_eq!(store_stock(&store_a, 101), available);
    assert_eq!(woken_runs(&install, A).len(), 1);
}

#[test]
fn on_schedules_deactivating_one_instance_leaves_the_other_running() {
    let (install, _store_a, _store_b) = two_stores();
    for id in [A, B] {
        install.run(&["schedule", id, "--interval", "1"]).success();
    }
    let service = install.serve_with_env(&[("PLUGIN_HOST_CLOCK_SPEED", "60")]);
    let imported = |id: &str| {
        install
            .json(&["runs", id, "--limit", "1000", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["job"] == "import-orders" && r["outcome"] == "succeeded")
            .count()
    };
    let both = wait_until(Duration::from_secs(30), || {
        imported(A) >= 1 && imported(B) >= 1
    });
    assert!(
        both.is_some(),
        "both instances import on their schedules; log:\n{}",
        service.log()
    );
    assert_eq!(
        install.json(&["order", "shop-b-501", "--json"])["number"],
        "shop-b-501"
    );
    // Each instance logs under its own id.
    let log = service.log();
    for id in [A, B] {
        let own = format!("plugin{{id=\"{id}\"}}");
        assert!(
            log.lines()
                .any(|l| l.contains(&own) && l.contains("connected to the store")),
            "{own} in:\n{log}"
        );
    }

    install.run(&["plugins", "deactivate", B]).success();
    std::thread::sleep(Duration::from_secs(2));
    let b_after = imported(B);
    let a_before = imported(A);
    let a_goes_on = wait_until(Duration::from_secs(30), || imported(A) >= a_before + 2);
    assert!(
        a_goes_on.is_some(),
        "A keeps running; log:\n{}",
        service.log()
    );
    assert_eq!(imported(B), b_after, "B stopped");
    drop(service);
    install.run(&["plugins", "remove-instance", B]).success();
    let list = install.json(&["plugins", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    assert!(
        !install
            .json(&["runs", B, "--json"])
            .as_array()
            .unwrap()
            .is_empty(),
        "its history stays"
    );
}

#[test]
fn a_data_dir_from_before_instances_opens_and_works() {
    let install = Install::with_plugins(&[WOOCOMMERCE, SAMPLE_SOURCE]);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/data-dir-before-instances");
    std::fs::create_dir_all(&install.data_dir).unwrap();
    for file in ["intellitrack.db", "secret.key"] {
        std::fs::copy(fixture.join(file), install.data_dir.join(file)).unwrap();
    }
    let list = install.json(&["plugins", "list", "--json"]);
    let states: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [(A, "active"), ("sample-source", "active")]);
    let settings = install.json(&["plugins", "settings", A, "--json"]);
    assert_eq!(
        settings["import_statuses"]["value"],
        json!(["processing", "on-hold"])
    );
    assert_eq!(settings["consumer_secret"]["value"], "********");
    let schedule = install.run(&["schedule", A]).success().stdout();
    assert!(schedule.contains("15"), "{schedule}");
    assert_eq!(
        install.json(&["runs", "--json"]).as_array().unwrap().len(),
        2
    );
    let order = install.json(&["order", "S-500", "--json"]);
    assert_eq!(order["lines"][0]["picked"], 1);
    assert_eq!(stock(&install, "MUG").0, 20);

    // Pointed at a store that takes its old key, the plugin works with the
    // secret sealed by the old release.
    let store =
        SandboxStore::start_with(&["--seed", &seed_a(), "--extra-key", "ck_a:cs_a:read_write"]);
    install.set(A, &[&format!("store_url={}", store.url)]);
    install.activate(A);
    let products = run(&install, A, "import-products", &[]);
    assert_eq!(products["outcome"], "succeeded", "{products:#}");
    // MUG was the sample source's item: linked by number, no opening stock.
    assert_eq!(stock(&install, "MUG").0, 20);
    assert_eq!(
        run(&install, A, "import-orders", &[])["outcome"],
        "succeeded"
    );
}

#[test]
fn a_plugin_built_against_api_1_0_runs_as_instances_unchanged() {
    let install = Install::with_plugins(&[e2e_tests::OLD_PLUGIN]);
    install
        .run(&["plugins", "add-instance", "heartbeat", "second"])
        .success();
    for id in ["heartbeat", "heartbeat:second"] {
        install.activate(id);
    }
    for (id, times) in [("heartbeat", 2), ("heartbeat:second", 1)] {
        for _ in 0..times {
            assert_eq!(run(&install, id, "beat", &[])["outcome"], "succeeded");
        }
    }
    // Each instance keeps its own state.
    let db = Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    assert_eq!(db.state("heartbeat", "beats").unwrap(), Some(json!(2)));
    assert_eq!(
        db.state("heartbeat:second", "beats").unwrap(),
        Some(json!(1))
    );
}
