//! Scheduled syncs do the least work the store allows, end to end: the real
//! `plugin-host` with the real plugin library against `woo-sandbox` as its
//! own process, the store's clock moved by the test.
//!
//! After a bulk edit of the whole catalogue (or of many orders) is
//! imported, later runs with nothing changed read no more than a page and
//! report nothing updated; a few changes are read and counted exactly.

use e2e_tests::{Install, SandboxStore, WOOCOMMERCE};
use serde_json::{Value, json};

const PRODUCTS: u64 = 10_000;
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

/// A run as `plugin-host runs --json` lists it.
struct Run {
    job: String,
    started_ms: i64,
    ended_ms: Option<i64>,
    issues: Vec<String>,
}

fn runs(install: &Install) -> Vec<Run> {
    let listed = install.json(&["runs", "woocommerce", "--limit", "1000", "--json"]);
    let mut runs: Vec<Run> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Run {
            job: r["job"].as_str().unwrap().into(),
            started_ms: r["started_ms"].as_i64().unwrap(),
            ended_ms: r["ended_ms"].as_i64(),
            issues: r["issues"]
                .as_array()
                .map(|i| {
                    i.iter()
                        .map(|i| i["record"].as_str().unwrap_or("").to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    runs.sort_by_key(|r| r.started_ms);
    runs
}

#[test]
fn an_instances_scheduled_jobs_run_one_after_another_in_order() {
    let store = SandboxStore::start_with(&["--seed", &support_seed()]);
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set("woocommerce", &settings);
    install
        .run(&["schedule", "woocommerce", "--interval", "1"])
        .success();
    let service = install.serve_with_env(&[("PLUGIN_HOST_CLOCK_SPEED", "60")]);
    install.activate("woocommerce");
    let done = e2e_tests::wait_until(std::time::Duration::from_secs(60), || {
        let runs = runs(&install);
        ["import-products", "import-orders", "export-fulfillment"]
            .iter()
            .all(|job| {
                runs.iter()
                    .filter(|r| r.job == *job && r.ended_ms.is_some())
                    .count()
                    >= 2
            })
    });
    assert!(done.is_some(), "two intervals ran:\n{}", service.log());
    drop(service);
    let runs = runs(&install);
    // The first interval: products, then orders, then the export.
    let first: Vec<&str> = runs.iter().take(3).map(|r| r.job.as_str()).collect();
    assert_eq!(
        first,
        ["import-products", "import-orders", "export-fulfillment"]
    );
    // No two runs of the instance at once.
    for pair in runs.windows(2) {
        let ended = pair[0].ended_ms.expect("an earlier run still running");
        assert!(
            pair[1].started_ms >= ended,
            "{} overlapped {}",
            pair[1].job,
            pair[0].job
        );
    }
    // What the first order import failed, no later run imported: it did
    // not fail for racing the product import.
    let imported: Vec<String> = install
        .json(&["orders", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let (number, id) = (
                o["number"].as_str().unwrap(),
                o["external_id"].as_str().unwrap(),
            );
            if number == id {
                format!("order {number}")
            } else {
                format!("order {number} (id {id})")
            }
        })
        .collect();
    let first_orders = runs.iter().find(|r| r.job == "import-orders").unwrap();
    for failed in &first_orders.issues {
        assert!(
            !imported.contains(failed),
            "{failed} failed at first, then came in"
        );
    }
}

fn support_seed() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds/import.json")
        .display()
        .to_string()
}
