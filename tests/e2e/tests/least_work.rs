//! Scheduled syncs do the least work the store allows, end to end: the real
//! `plugin-host` with the real plugin library against `woo-sandbox` as its
//! own process, the store's clock moved by the test.
//!
//! After a bulk edit of the whole catalogue (or of many orders) is
//! imported, later runs with nothing changed read no more than a page and
//! report nothing updated; a few changes are read and counted exactly.

use e2e_tests::{Install, SandboxStore, WOOCOMMERCE};
use serde_json::{Value, json};

const PRODUCTS: u64 = 2_000;
const ORDERS: u64 = 300;

fn run(install: &Install, job: &str) -> Value {
    let ran = install.run(&["run", "woocommerce", job, "--json"]);
    let record: Value = serde_json::from_str(&ran.stdout())
        .unwrap_or_else(|e| panic!("{job}: not JSON ({e}): {}\n{}", ran.stdout(), ran.stderr()));
    assert_eq!(record["outcome"], "succeeded", "{record:#}");
    record
}

/// Every id of a collection, 100 a page.
fn ids(store: &SandboxStore, route: &str) -> Vec<u64> {
    let mut all = Vec::new();
    for page in 1.. {
        let listed = store.ok(
            "GET",
            &format!("{route}?per_page=100&page={page}&_fields=id&status=any"),
            None,
        );
        let listed = listed.as_array().unwrap();
        if listed.is_empty() {
            return all;
        }
        all.extend(listed.iter().map(|r| r["id"].as_u64().unwrap()));
    }
    unreachable!()
}

/// Requests of `route` since the counters were cleared.
fn requests(store: &SandboxStore, route: &str) -> u64 {
    store.stats()[route].as_u64().unwrap_or(0)
}

fn advance_clock(store: &SandboxStore, secs: i64) {
    store.control_with("PUT", "clock", Some(json!({"advance_secs": secs})));
}

#[test]
fn a_bulk_edit_is_read_once_and_later_runs_read_only_what_changed() {
    let store = SandboxStore::start_with(&[
        "--products",
        &PRODUCTS.to_string(),
        "--orders",
        &ORDERS.to_string(),
    ]);
    // The whole catalogue changed within a minute (a CSV import, a price
    // change), and every order was touched.
    for chunk in ids(&store, "/wc/v3/products").chunks(100) {
        let update: Vec<Value> = chunk
            .iter()
            .map(|id| json!({"id": id, "regular_price": "9.99"}))
            .collect();
        store.ok(
            "POST",
            "/wc/v3/products/batch",
            Some(json!({"update": update})),
        );
    }
    let orders = ids(&store, "/wc/v3/orders");
    for id in &orders {
        store.ok(
            "PUT",
            &format!("/wc/v3/orders/{id}"),
            Some(json!({"customer_note": "bulk touch"})),
        );
    }
    advance_clock(&store, 300);

    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set("woocommerce", &settings);
    install.set(
        "woocommerce",
        &["import_statuses=processing,on-hold,completed"],
    );
    install.activate("woocommerce");
    let first = run(&install, "import-products");
    assert!(first["created"].as_u64().unwrap() > 1_000, "{first:#}");
    run(&install, "import-orders");

    for round in 1..=2 {
        advance_clock(&store, 120);
        // A page of changed products, one of the trash and the connection
        // check's; one page of changed orders and one of those read again
        // by id (lines it could not ship yet).
        store.control("DELETE", "stats");
        let products = run(&install, "import-products");
        assert_eq!(products["updated"], 0, "round {round}: {products:#}");
        let stats = store.stats();
        assert!(
            requests(&store, "GET /wc/v3/products") <= 3,
            "round {round}: {stats:#}"
        );
        store.control("DELETE", "stats");
        let orders = run(&install, "import-orders");
        assert_eq!(orders["updated"], 0, "round {round}: {orders:#}");
        let stats = store.stats();
        assert!(
            requests(&store, "GET /wc/v3/orders") <= 2,
            "round {round}: {stats:#}"
        );
    }

    // Five items' products and five orders change: exactly those are read
    // and updated.
    let items = install.json(&["items", "--json"]);
    let changed: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "simple")
        .filter_map(|i| i["store_refs"][0]["external_id"].as_str())
        .take(5)
        .collect();
    for id in &changed {
        store.ok(
            "PUT",
            &format!("/wc/v3/products/{id}"),
            Some(json!({"name": format!("Renamed {id}")})),
        );
    }
    for id in &orders[..5] {
        store.ok(
            "PUT",
            &format!("/wc/v3/orders/{id}"),
            Some(json!({"customer_note": "leave at the door"})),
        );
    }
    advance_clock(&store, 120);
    store.control("DELETE", "stats");
    let products = run(&install, "import-products");
    assert_eq!(products["updated"], 5, "{products:#}");
    assert!(requests(&store, "GET /wc/v3/products") <= 3);
    store.control("DELETE", "stats");
    let orders_run = run(&install, "import-orders");
    // The five in the import statuses are updated; the rest are not the
    // warehouse's business. Nothing else is counted.
    let touched = orders[..5]
        .iter()
        .filter(|id| {
            let status = store.ok("GET", &format!("/wc/v3/orders/{id}"), None)["status"].clone();
            ["processing", "on-hold", "completed"].contains(&status.as_str().unwrap())
        })
        .count() as u64;
    assert_eq!(orders_run["updated"], touched, "{orders_run:#}");
    assert!(requests(&store, "GET /wc/v3/orders") <= 2);
}
