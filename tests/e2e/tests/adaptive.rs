//! Adaptive concurrency, end to end: the real plugin with `concurrency=auto`
//! (the default) imports products from `woo-sandbox` running with a PHP-FPM
//! pool's capacity (`--workers`, a backlog, 503 past it): on a small pool
//! it keeps within what the store takes (the run succeeds, next to nothing
//! refused), on a large one it goes well past the old fixed 4, and the run
//! report names the concurrency it used.

mod support;

use e2e_tests::SandboxStore;
use serde_json::Value;
use support::{install_for, run_record};

/// A generated store of `products` simple products, each REST request
/// taking `latency_ms` on one of `workers`.
fn pool_store(products: u32, workers: u32, latency_ms: u32) -> SandboxStore {
    SandboxStore::start_with(&[
        "--products",
        &products.to_string(),
        "--workers",
        &workers.to_string(),
        "--latency-ms",
        &latency_ms.to_string(),
    ])
}

/// Imports the products with the default concurrency; the run record and
/// the pool's counts over the run.
fn import(store: &SandboxStore) -> (Value, Value) {
    let install = install_for(&store.url, &[]);
    store.control("DELETE", "capacity");
    let run = run_record(&install, "import-products", &[]);
    (run, store.control("GET", "capacity"))
}

fn count(capacity: &Value, key: &str) -> u64 {
    capacity[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {capacity}"))
}

/// Every generated product became an item or was left out by the rules.
fn all_read(run: &Value, products: u64) {
    assert_eq!(run["outcome"], "succeeded", "{run:#}");
    assert_eq!(run["failed"], 0, "{run:#}");
    let created = run["created"].as_u64().unwrap();
    let skipped = run["skipped"].as_u64().unwrap();
    assert!(created > 0, "{run:#}");
    assert_eq!(created + skipped, products, "{run:#}");
}

#[test]
fn a_small_pool_is_not_overrun() {
    let store = pool_store(3000, 2, 200);
    let (run, capacity) = import(&store);
    all_read(&run, 3000);
    let refused = count(&capacity, "refused");
    let served = count(&capacity, "served");
    assert!(served >= 30, "{capacity}");
    assert!(
        refused * 100 <= served + refused,
        "more than 1 % refused: {capacity}"
    );
    let summary = run["summary"].as_str().unwrap();
    assert!(
        summary.contains("at a time") && summary.contains("concurrency auto"),
        "the report names the concurrency used: {summary}"
    );
}

#[test]
fn a_large_pool_gets_more_than_the_old_fixed_four() {
    let store = pool_store(3000, 16, 200);
    let (run, capacity) = import(&store);
    all_read(&run, 3000);
    assert!(
        count(&capacity, "peak_in_flight") > 4,
        "no more than 4 in flight: {capacity}"
    );
    assert_eq!(count(&capacity, "refused"), 0, "{capacity}");
    let summary = run["summary"].as_str().unwrap();
    assert!(
        summary.contains("at a time") && summary.contains("concurrency auto"),
        "the report names the concurrency used: {summary}"
    );
}

#[test]
fn a_fixed_number_is_a_ceiling() {
    let store = pool_store(1000, 16, 20);
    let install = install_for(&store.url, &["concurrency=3"]);
    store.control("DELETE", "capacity");
    let run = run_record(&install, "import-products", &[]);
    all_read(&run, 1000);
    let capacity = store.control("GET", "capacity");
    assert_eq!(count(&capacity, "peak_in_flight"), 3, "{capacity}");
    let summary = run["summary"].as_str().unwrap();
    assert!(
        summary.contains("up to 3 at a time (concurrency at most 3)"),
        "{summary}"
    );
}
