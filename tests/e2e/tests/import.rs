//! Importing products and orders from a WooCommerce store, end to end: the
//! real `plugin-host` loads the real plugin library and imports from
//! `woo-sandbox` running as its own process, seeded with
//! `tests/e2e/seeds/import.json`.

mod support;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e_tests::{Install, SandboxStore, WOOCOMMERCE, build};
use serde_json::{Value, json};
use support::seed_store;

/// Runs a job by hand; returns its run record (counts, summary, issues).
fn run(install: &Install, job: &str) -> Value {
    install.run(&["run", "woocommerce", job]).success();
    let runs = install.json(&["runs", "woocommerce", "--json"]);
    runs.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job"] == job)
        .max_by_key(|r| r["id"].as_i64())
        .cloned()
        .unwrap()
}

fn issues(run: &Value) -> Vec<(String, String, String)> {
    run["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["record"].as_str().unwrap().to_owned(),
                i["outcome"].as_str().unwrap().to_owned(),
                i["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn items(install: &Install) -> HashMap<String, Value> {
    install
        .json(&["items", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["number"].as_str().unwrap().to_owned(), i.clone()))
        .collect()
}

/// (on hand, allocated, available) of an item.
fn stock(install: &Install, number: &str) -> (i64, i64, i64) {
    let q = install.json(&["inventory", number, "--json"]);
    let q = &q[0];
    (
        q["on_hand"].as_i64().unwrap(),
        q["allocated"].as_i64().unwrap(),
        q["available"].as_i64().unwrap(),
    )
}

fn store_stock(store: &SandboxStore, route: &str) -> i64 {
    store.ok("GET", route, None)["stock_quantity"]
        .as_i64()
        .unwrap_or_else(|| panic!("{route} has a managed stock quantity"))
}

#[test]
fn the_catalogue_and_the_orders_are_imported_by_the_rules() {
    let (store, install) = seed_store(&[], &[], |_| {});
    let products = run(&install, "import-products");
    assert_eq!(products["outcome"], "succeeded", "{products:#}");
    let items = items(&install);
    let mut numbers: Vec<&str> = items.keys().map(String::as_str).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        [
            "CAP", "CAP-RED", "HOODIE", "HOODIE-S", "KIT-A", "LAMP", "MUG", "POSTER"
        ]
    );
    let item = |n: &str| &items[n];
    assert_eq!(item("MUG")["unit_cost"], "4.5", "WooCommerce's own cost");
    assert_eq!(item("POSTER")["unit_cost"], "2.75", "the meta field");
    assert_eq!(item("LAMP")["unit_cost"], Value::Null, "no cost anywhere");
    assert_eq!(item("HOODIE")["kind"], "variable");
    assert_eq!(
        (
            item("HOODIE-S")["kind"].as_str(),
            item("HOODIE-S")["parent"].as_str()
        ),
        (Some("variation"), Some("HOODIE"))
    );
    assert_eq!(item("HOODIE-S")["unit_cost"], "20");
    let left_out = issues(&products);
    for (record, reason) in [
        ("variation 112 \"Hoodie - Gift\"", "virtual"),
        ("variation 113 \"Hoodie - Print\"", "downloadable"),
        (
            "product 130 \"Kit\"",
            "grouped product (its children are imported on their own)",
        ),
        (
            "product 132 \"Kit manual (affiliate)\"",
            "external/affiliate product",
        ),
        (
            "product 140 \"Sticker\"",
            "no SKU (setting missing_sku=use_id imports it as WC-140)",
        ),
        (
            "product 160 \"Prototype\"",
            "status \"draft\" is not one of the imported product statuses (publish)",
        ),
    ] {
        assert!(
            left_out.contains(&(record.into(), "skipped".into(), reason.into())),
            "{record}: {reason} not in {left_out:#?}"
        );
    }
    assert_eq!(products["skipped"], 6);
    assert!(
        products["summary"]
            .as_str()
            .unwrap()
            .contains("imported without a unit cost"),
        "{products:#}"
    );

    // Opening stock: WooCommerce's count, where it manages one.
    assert_eq!(stock(&install, "LAMP"), (0, 0, 0), "unmanaged");
    assert_eq!(
        stock(&install, "CAP-RED"),
        (0, 0, 0),
        "its parent manages the count"
    );
    assert_eq!(stock(&install, "POSTER"), (5, 0, 5));

    let orders = run(&install, "import-orders");
    assert_eq!(orders["outcome"], "succeeded", "{orders:#}");
    assert_eq!(orders["created"], 5, "{orders:#}");
    let reported = issues(&orders);
    assert!(reported.contains(&(
        "order 504".into(),
        "skipped".into(),
        "no line to ship".into()
    )));
    // A sequential-number plugin gave two orders one number: the second is
    // refused by the warehouse and reported; the orders around it land.
    assert!(
        reported.contains(&(
            "order 2026-0042 (id 507)".into(),
            "failed".into(),
            "order number 2026-0042 is already used by another order".into()
        )),
        "{reported:#?}"
    );
    assert_eq!(
        install.json(&["order", "2026-0042", "--json"])["customer"],
        "Gil Seq"
    );
    assert_eq!(install.json(&["order", "508", "--json"])["status"], "open");
    let ada = install.json(&["order", "501", "--json"]);
    assert_eq!(ada["customer"], "Ada Lovelace");
    assert_eq!(ada["customer_note"], "Ring twice");
    assert_eq!(ada["shipping_method"], "Flat rate");
    assert_eq!(ada["ship_to"]["city"], "London");
    let bob = install.json(&["order", "502", "--json"]);
    let lines: Vec<(&str, bool)> = bob["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["item_number"].as_str().unwrap(),
                l["not_shipped"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [("HOODIE-S", false), ("", true)],
        "the virtual line stays, not shipped"
    );
    assert!(
        install.run(&["order", "503", "--json"]).0.status.code() != Some(0),
        "on-hold is not an import status"
    );

    // WooCommerce had already taken the paid orders' units out of its count:
    // the opening balances get them back once, so that with nothing done in
    // the warehouse, available equals the store's count.
    assert_eq!(stock(&install, "MUG"), (13, 3, 10));
    assert_eq!(stock(&install, "POSTER"), (6, 1, 5));
    assert_eq!(stock(&install, "HOODIE-S"), (4, 1, 3));
    assert_eq!(stock(&install, "KIT-A"), (5, 1, 4));
    for (number, route) in [
        ("MUG", "/wc/v3/products/101"),
        ("POSTER", "/wc/v3/products/102"),
        ("KIT-A", "/wc/v3/products/131"),
        ("HOODIE-S", "/wc/v3/products/110/variations/111"),
    ] {
        assert_eq!(
            stock(&install, number).2,
            store_stock(&store, route),
            "{number}"
        );
    }

    // Again: nothing new, nothing doubled.
    let again = run(&install, "import-products");
    assert_eq!(again["created"], 0, "{again:#}");
    let again = run(&install, "import-orders");
    assert_eq!(again["created"], 0, "{again:#}");
    assert_eq!(stock(&install, "MUG"), (13, 3, 10));
    assert_eq!(
        install
            .json(&["orders", "--json"])
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // A changed rule reads the catalogue again: the sticker comes in as WC-140.
    install.set("woocommerce", &["missing_sku=use_id"]);
    let wider = run(&install, "import-products");
    assert_eq!(wider["created"], 1, "{wider:#}");
    assert_eq!(stock(&install, "WC-140"), (50, 0, 50));
}

#[test]
fn changes_in_the_store_flow_in_incrementally() {
    // The variations of the two variable products changed in the last ten
    // minutes (the overlap): one listing each.
    // Only the changed variable product's variations (HOODIE's; CAP did not
    // change).
    incremental_run(&[], &[("GET /wc/v3/products/{id}/variations", 1)]);
}

#[test]
fn newer_stores_list_the_changed_products_variations_at_once() {
    // The changed variable product's variations in one `/variations?parent=` listing.
    incremental_run(
        &["--wc-version", "10.3.0"],
        &[
            ("GET /wc/v3/variations", 1),
            ("GET /wc/v3/products/{id}/variations", 0),
        ],
    );
}

/// Imports, changes the store (a rename, a variation-only change, a product
/// drafted, one trashed), imports again and checks what the second run
/// read: `variation_reads` are the variation listings it should make.
fn incremental_run(flags: &[&str], variation_reads: &[(&str, u64)]) {
    let (store, install) = seed_store(flags, &[], |_| {});
    run(&install, "import-products");
    run(&install, "import-orders");
    store.control("DELETE", "stats");

    // A price change, a variation-only change, a product drafted, one trashed.
    store.ok(
        "PUT",
        "/wc/v3/products/102",
        Some(json!({"name": "Poster (A2)"})),
    );
    store.ok(
        "PUT",
        "/wc/v3/products/110/variations/111",
        Some(json!({"cost_of_goods_sold": {"values": [{"defined_value": 21.5}]}})),
    );
    store.ok(
        "PUT",
        "/wc/v3/products/103",
        Some(json!({"status": "draft"})),
    );
    store.ok("DELETE", "/wc/v3/products/131", None);
    // The store's dates have whole seconds: let the changes' second pass.
    std::thread::sleep(Duration::from_millis(1100));
    let products = run(&install, "import-products");
    assert_eq!(products["outcome"], "succeeded", "{products:#}");
    let items = items(&install);
    assert_eq!(items["POSTER"]["description"], "Poster (A2)");
    assert_eq!(items["HOODIE-S"]["unit_cost"], "21.5");
    assert_eq!(items["LAMP"]["active"], false, "drafted");
    assert_eq!(items["KIT-A"]["active"], false, "trashed");
    assert_eq!(items["MUG"]["active"], true);
    assert!(
        products["summary"]
            .as_str()
            .unwrap()
            .contains("2 deactivated"),
        "{products:#}"
    );
    // Only what changed was read: one page of changed products, one of the
    // trash, one of the connection check, and the changed products'
    // variations.
    let requests = store.stats();
    let count = |route: &str| requests[route].as_u64().unwrap_or(0);
    assert_eq!(count("GET /wc/v3/products"), 3, "{requests:#}");
    for (route, expected) in variation_reads {
        assert_eq!(count(route), *expected, "{route}: {requests:#}");
    }

    // The watermark is the store's own time when the listing began: past
    // the newest change imported, never past the store's clock.
    let db = intellitrack_db::Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    let state = db.state("woocommerce", "import_products").unwrap().unwrap();
    let watermark: jiff::Timestamp = state["watermark"].as_str().unwrap().parse().unwrap();
    let newest = store.ok("GET", "/wc/v3/products/131", None)["date_modified_gmt"]
        .as_str()
        .unwrap()
        .to_owned();
    let newest: jiff::Timestamp = format!("{newest}Z").parse().unwrap();
    let store_now: jiff::Timestamp = store.control("GET", "clock")["now"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(newest <= watermark && watermark <= store_now, "{state}");
}

#[test]
fn orders_follow_the_store_after_import() {
    let (store, install) = seed_store(&[], &[], |_| {});
    run(&install, "import-products");
    run(&install, "import-orders");

    // Widening the statuses brings in the on-hold order, older than the watermark.
    install.set("woocommerce", &["import_statuses=processing,on-hold"]);
    let widened = run(&install, "import-orders");
    assert_eq!(widened["created"], 1, "{widened:#}");
    assert_eq!(install.json(&["order", "503", "--json"])["status"], "open");

    // Cancelled in WooCommerce before any pick: cancelled here.
    store.ok(
        "PUT",
        "/wc/v3/orders/505",
        Some(json!({"status": "cancelled"})),
    );
    // Refunded after the warehouse picked from it: kept, as an exception.
    install.run(&["pick", "501", "1", "1"]).success();
    store.ok(
        "PUT",
        "/wc/v3/orders/501",
        Some(json!({"status": "refunded"})),
    );
    let ended = run(&install, "import-orders");
    assert_eq!(
        install.json(&["order", "505", "--json"])["status"],
        "cancelled"
    );
    let ada = install.json(&["order", "501", "--json"]);
    assert_eq!(ada["status"], "exception");
    assert!(
        issues(&ended)
            .iter()
            .any(|(record, outcome, reason)| record == "order 501"
                && outcome == "failed"
                && reason.contains("refunded in WooCommerce")
                && reason.contains("kept in IntelliTrack as an exception")),
        "{ended:#}"
    );

    // A new order for a product IntelliTrack has never seen: the product
    // comes in with the order, in the same run.
    let product = store.ok(
        "POST",
        "/wc/v3/products",
        Some(
            json!({"name": "Tote bag", "type": "simple", "sku": "TOTE", "regular_price": "6.00",
                    "manage_stock": true, "stock_quantity": 8}),
        ),
    );
    let id = product["id"].as_u64().unwrap();
    let order = store.ok(
        "POST",
        "/wc/v3/orders",
        Some(json!({"status": "processing", "set_paid": true,
                    "billing": {"first_name": "Fay", "last_name": "New", "email": "fay@example.test"},
                    "line_items": [{"product_id": id, "quantity": 3}]})),
    );
    let fresh = run(&install, "import-orders");
    assert_eq!(fresh["created"], 1, "{fresh:#}");
    let number = order["number"].as_str().unwrap();
    assert_eq!(
        install.json(&["order", number, "--json"])["lines"][0]["item_number"],
        "TOTE"
    );
    // The order was paid after the count it opened from: no correction.
    assert_eq!(
        stock(&install, "TOTE").2,
        store_stock(&store, &format!("/wc/v3/products/{id}"))
    );
}

#[test]
fn a_killed_import_leaves_no_watermark_ahead_and_imports_each_order_once() {
    let (_store, install) = seed_store(&["--latency-ms", "700"], &[], |_| {});
    run(&install, "import-products");
    // Killed while it reads the orders: nothing is written, the watermark
    // has not moved.
    let mut child = Command::new(build().join("plugin-host"))
        .arg("--data-dir")
        .arg(&install.data_dir)
        .arg("--plugin-dir")
        .arg(&install.plugin_dir)
        .args(["run", "woocommerce", "import-orders"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(900));
    child.kill().unwrap();
    child.wait().unwrap();
    let db = intellitrack_db::Db::open(&install.data_dir.join("intellitrack.db")).unwrap();
    assert_eq!(db.state("woocommerce", "import_orders").unwrap(), None);
    assert!(db.orders(None).unwrap().is_empty());
    // The next run imports every order once.
    let orders = run(&install, "import-orders");
    assert_eq!(orders["created"], 5, "{orders:#}");
    let again = run(&install, "import-orders");
    assert_eq!(again["created"], 0, "{again:#}");
    assert_eq!(db.orders(None).unwrap().len(), 5);
}

#[test]
fn newer_stores_list_variations_at_once_and_shared_skus_are_refused() {
    let seed = tempfile::NamedTempFile::new().unwrap();
    let at = "2026-11-20T10:00:00Z";
    let product = |id: u64, kind: &str, sku: &str, extra: Value| {
        let mut p = json!({"id": id, "type": kind, "name": format!("Thing {id}"), "sku": sku,
                           "manage_stock": true, "stock_quantity": 9, "date_created": at, "date_modified": at});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    std::fs::write(
        seed.path(),
        json!({"products": [
            product(10, "variable", "V", json!({"manage_stock": false, "stock_quantity": null,
                                                "attributes": [{"name": "Size", "options": ["1", "2"]}]})),
            product(11, "variation", "V-1", json!({"parent_id": 10, "attributes": [{"name": "Size", "option": "1"}]})),
            product(12, "variation", "V-2", json!({"parent_id": 10, "attributes": [{"name": "Size", "option": "2"}]})),
            product(20, "simple", "DUP", json!({})),
            product(21, "simple", "DUP", json!({})),
            product(30, "simple", "LINKED", json!({})),
        ], "orders": []})
        .to_string(),
    )
    .unwrap();
    let path = seed.path().display().to_string();
    let store = SandboxStore::start_with(&["--seed", &path, "--wc-version", "10.3.0"]);
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set("woocommerce", &settings);
    install.activate("woocommerce");
    // An item the warehouse already has is linked by its number, and keeps
    // its own stock: no opening balance.
    install
        .run(&["items", "add", "LINKED", "--description", "Made by hand"])
        .success();
    install.run(&["receive", "LINKED", "2"]).success();
    store.control("DELETE", "stats");

    let products = run(&install, "import-products");
    let requests = store.stats();
    assert_eq!(requests["GET /wc/v3/variations"], 1, "{requests:#}");
    assert_eq!(
        requests.get("GET /wc/v3/products/{id}/variations"),
        None,
        "{requests:#}"
    );
    let items = items(&install);
    assert_eq!(items["V-1"]["parent"], "V");
    assert_eq!(items["V-2"]["description"], "Thing 10 - 2");
    assert!(
        !items.contains_key("DUP"),
        "neither record with the shared SKU"
    );
    let failed: Vec<_> = issues(&products)
        .into_iter()
        .filter(|(_, outcome, _)| outcome == "failed")
        .collect();
    assert_eq!(
        failed,
        [
            (
                "product 20 \"Thing 20\"".to_owned(),
                "failed".to_owned(),
                "SKU \"DUP\" is also used by product 21 \"Thing 21\"; neither is imported until the SKUs differ".to_owned()
            ),
            (
                "product 21 \"Thing 21\"".to_owned(),
                "failed".to_owned(),
                "SKU \"DUP\" is also used by product 20 \"Thing 20\"; neither is imported until the SKUs differ".to_owned()
            ),
        ]
    );
    assert_eq!(items["LINKED"]["description"], "Thing 30");
    assert_eq!(stock(&install, "LINKED"), (2, 0, 2), "linked, not opened");
    assert_eq!(stock(&install, "V-1"), (9, 0, 9), "created, opened");
}
