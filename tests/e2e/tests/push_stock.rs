//! Stock with every sync, end to end: the real `plugin-host` with the real
//! plugin library against `woo-sandbox` as its own process.
//!
//! `push-stock` sends the counts of the items whose warehouse quantity
//! changed since its last push, by End of Day's rules (holds, pools), with
//! the fewest requests: none at all when nothing changed. Every run by
//! hand activates the plugin first (the CLI activates its own copy, and
//! activation checks the connection), so a run's own requests are what it
//! made beyond a run that does nothing (`stock_push=end_of_day`); under
//! `serve` the plugin is activated once and a run makes only its own.

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use e2e_tests::{Install, SandboxStore, WOOCOMMERCE, wait_until};
use serde_json::{Value, json};
use support::{
    PLUGIN, imported_seed_store, place_order, plugin_state, run_job, run_record, store_stock,
};

const MUG: u64 = 101;
const HOODIE: u64 = 110;
const CAP: u64 = 120;

/// Request counts by route.
type Requests = BTreeMap<String, u64>;

fn counters(store: &SandboxStore) -> Requests {
    serde_json::from_value(store.stats()).expect("counters by route")
}

/// Runs `push-stock` by hand and returns its record and the requests the
/// store received meanwhile (activation's included).
fn push_counted(store: &SandboxStore, install: &Install) -> (Value, Requests) {
    store.control("DELETE", "stats");
    let ran = run_record(install, "push-stock", &[]);
    (ran, counters(store))
}

/// Runs `push-stock`, which must succeed and send `updated` counts.
fn push(store: &SandboxStore, install: &Install, updated: u64) -> (Value, Requests) {
    let (ran, requests) = push_counted(store, install);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(ran["updated"], updated, "{ran:#}");
    (ran, requests)
}

/// What a run by hand costs before its job does anything: a push with
/// `stock_push=end_of_day` (which reads and sends nothing).
fn activation_requests(store: &SandboxStore, install: &Install) -> Requests {
    install.set(PLUGIN, &["stock_push=end_of_day"]).success();
    let (ran, requests) = push(store, install, 0);
    assert!(
        ran["summary"]
            .as_str()
            .unwrap()
            .contains("stock_push is end_of_day"),
        "{ran:#}"
    );
    install.set(PLUGIN, &["stock_push=every_sync"]).success();
    requests
}

/// The requests of a run beyond its activation's.
fn beyond(requests: &Requests, activation: &Requests) -> Requests {
    requests
        .iter()
        .filter_map(|(route, n)| {
            let extra = n.saturating_sub(activation.get(route).copied().unwrap_or(0));
            (extra > 0).then(|| (route.clone(), extra))
        })
        .collect()
}

fn expected(routes: &[(&str, u64)]) -> Requests {
    routes.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect()
}

fn variation_stock(store: &SandboxStore, product: u64, variation: u64) -> i64 {
    store.ok(
        "GET",
        &format!("/wc/v3/products/{product}/variations/{variation}"),
        None,
    )["stock_quantity"]
        .as_i64()
        .unwrap()
}

fn available(install: &Install, number: &str) -> i64 {
    install.json(&["inventory", number, "--json"])[0]["available"]
        .as_i64()
        .unwrap()
}

/// The seed store imported, and the first push (every item opened since
/// the feed began) done: it writes nothing, the store already agrees.
fn imported_and_pushed() -> (SandboxStore, Install, Requests) {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    push(&store, &install, 0);
    let activation = activation_requests(&store, &install);
    (store, install, activation)
}

/// End of Day, the daily reconciliation of every item, finds nothing left
/// to write after the pushes.
fn end_of_day_agrees(install: &Install) {
    let ran = run_record(install, "end-of-day", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(ran["updated"], 0, "{ran:#}");
}

#[test]
fn a_receipt_reaches_the_store_at_the_next_push_and_nothing_changed_costs_nothing() {
    let (store, install, activation) = imported_and_pushed();

    // Nothing changed: not a single request beyond the activation's.
    let (ran, requests) = push(&store, &install, 0);
    assert_eq!(beyond(&requests, &activation), Requests::new(), "{ran:#}");
    assert!(
        ran["summary"]
            .as_str()
            .unwrap()
            .contains("nothing was read or sent"),
        "{ran:#}"
    );

    let before = store_stock(&store, MUG);
    install.run(&["receive", "MUG", "5"]).success();
    let (ran, requests) = push(&store, &install, 1);
    assert_eq!(store_stock(&store, MUG), before + 5, "{ran:#}");
    assert_eq!(store_stock(&store, MUG), available(&install, "MUG"));
    // The count read by id, the orders that may hold stock, one write.
    assert_eq!(
        beyond(&requests, &activation),
        expected(&[
            ("GET /wc/v3/orders", 1),
            ("GET /wc/v3/products", 1),
            ("POST /wc/v3/products/batch", 1),
        ]),
        "{ran:#}"
    );
    assert_eq!(
        ran["tables"][0]["rows"][0],
        json!([
            "MUG",
            before.to_string(),
            (before + 5).to_string(),
            "0",
            (before + 5).to_string()
        ]),
        "{ran:#}"
    );

    // Passed: the next push has nothing to do again.
    let (_, requests) = push(&store, &install, 0);
    assert_eq!(beyond(&requests, &activation), Requests::new());
    end_of_day_agrees(&install);
}

#[test]
fn ten_changed_items_cost_one_read_and_one_write() {
    let (store, install, _) = imported_generated_store();
    push(&store, &install, 0);
    let activation = activation_requests(&store, &install);
    let managed: Vec<String> = store
        .ok(
            "GET",
            "/wc/v3/products?per_page=100&_fields=sku,manage_stock",
            None,
        )
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["manage_stock"] == true)
        .filter_map(|p| p["sku"].as_str())
        .map(str::to_owned)
        .collect();
    let numbers: Vec<String> = install
        .json(&["items", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "simple" && i["active"] == true)
        .filter_map(|i| i["number"].as_str())
        .filter(|n| managed.iter().any(|m| m == n))
        .take(10)
        .map(str::to_owned)
        .collect();
    assert_eq!(numbers.len(), 10, "ten managed simple items: {managed:?}");
    for number in &numbers {
        install.run(&["receive", number, "3"]).success();
    }
    let (ran, requests) = push(&store, &install, 10);
    assert_eq!(
        beyond(&requests, &activation),
        expected(&[
            ("GET /wc/v3/orders", 1),
            ("GET /wc/v3/products", 1),
            ("POST /wc/v3/products/batch", 1),
        ]),
        "{ran:#}"
    );
    // End of Day, comparing every item, has nothing to send for these ten
    // (the generated store has other counts of its own to correct).
    let planned = run_record(&install, "end-of-day", &["--dry-run"]);
    let differing: Vec<&str> = planned["tables"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row[0].as_str())
        .collect();
    assert!(
        numbers.iter().all(|n| !differing.contains(&n.as_str())),
        "{planned:#}"
    );
}

/// A generated store (simple and variable products, orders in every
/// status) with its products and orders imported.
fn imported_generated_store() -> (SandboxStore, Install, Value) {
    let store =
        SandboxStore::start_with(&["--products", "40", "--variable", "3", "--orders", "30"]);
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install.set(PLUGIN, &settings);
    install.activate(PLUGIN);
    let products = run_record(&install, "import-products", &[]);
    assert_eq!(products["outcome"], "succeeded", "{products:#}");
    let orders = run_record(&install, "import-orders", &[]);
    assert_eq!(orders["outcome"], "succeeded", "{orders:#}");
    (store, install, products)
}

#[test]
fn store_orders_the_warehouse_does_not_have_stay_held() {
    let (store, install, activation) = imported_and_pushed();
    let start = store_stock(&store, MUG);
    // A bank-transfer order, and a paid one not imported yet: the store
    // took their units, the warehouse has neither.
    place_order(&store, MUG, 1, "on-hold");
    place_order(&store, MUG, 2, "processing");
    assert_eq!(store_stock(&store, MUG), start - 3);
    install.run(&["receive", "MUG", "5"]).success();
    let (ran, _) = push(&store, &install, 1);
    let warehouse = available(&install, "MUG");
    assert_eq!(warehouse, start + 5);
    assert_eq!(store_stock(&store, MUG), warehouse - 3, "{ran:#}");
    assert_eq!(ran["tables"][0]["rows"][0][3], "3", "held: {ran:#}");

    // The paid order comes in: the warehouse allocates it, the store
    // already took it; no quantity changed, nothing to push.
    let orders = run_record(&install, "import-orders", &[]);
    assert_eq!(orders["created"], 1, "{orders:#}");
    let (_, requests) = push(&store, &install, 0);
    assert_eq!(beyond(&requests, &activation), Requests::new());
    assert_eq!(store_stock(&store, MUG), available(&install, "MUG") - 1);
    end_of_day_agrees(&install);
}

/// After End of Day, a push reads of the store's orders only those that
/// can still hold stock: the ones changed since End of Day read them and
/// the ones it found open, not the whole history; and it still holds
/// what it must, an old order reopened included.
#[test]
fn after_end_of_day_a_push_reads_only_the_orders_that_can_still_hold() {
    let (store, install, activation) = imported_and_pushed();
    // A history End of Day reads in three pages: 250 orders the store
    // cancelled (settled: they hold nothing whatever the warehouse does),
    // and one on hold (open).
    let cancelled: Vec<u64> = (0..250)
        .map(|_| place_order(&store, MUG, 1, "cancelled"))
        .collect();
    let on_hold = place_order(&store, MUG, 1, "on-hold");
    store.control_with("PUT", "clock", Some(json!({"advance_secs": 300})));
    store.control("DELETE", "stats");
    end_of_day_agrees(&install);
    assert!(counters(&store)["GET /wc/v3/orders"] >= 3);
    let checkpoint = plugin_state(&install.data_dir, "held_orders").expect("a checkpoint");
    assert_eq!(checkpoint["open"], json!([on_hold]), "{checkpoint:#}");

    // Since then: a new order on hold, an old cancelled one reopened (the
    // store takes its unit again), and a receipt to push.
    place_order(&store, MUG, 2, "on-hold");
    store.ok(
        "PUT",
        &format!("/wc/v3/orders/{}", cancelled[0]),
        Some(json!({"status": "on-hold"})),
    );
    install.run(&["receive", "MUG", "5"]).success();
    // The listing is served after the changes' second: a change within
    // the second a listing began makes the client walk it again.
    store.control_with("PUT", "clock", Some(json!({"advance_secs": 5})));
    let (ran, requests) = push(&store, &install, 1);
    // One listing of what changed, one read of the open order by id.
    let made = beyond(&requests, &activation);
    assert_eq!(made.get("GET /wc/v3/orders"), Some(&2), "{made:?} {ran:#}");
    assert_eq!(ran["tables"][0]["rows"][0][3], "4", "held: {ran:#}");
    assert_eq!(store_stock(&store, MUG), available(&install, "MUG") - 4);
    let planned = run_record(&install, "end-of-day", &["--dry-run"]);
    assert!(
        planned["summary"]
            .as_str()
            .unwrap()
            .starts_with("dry run: 0 of "),
        "{planned:#}"
    );
}

#[test]
fn a_pooled_variation_moves_its_parents_count() {
    // CAP keeps one count (7) for its variation CAP-RED ("parent").
    let (store, install, activation) = imported_and_pushed();
    assert_eq!(store_stock(&store, CAP), 7);
    install
        .run(&["adjust", "CAP-RED", "6", "--reason", "counted"])
        .success();
    let (ran, requests) = push(&store, &install, 1);
    assert_eq!(
        store_stock(&store, CAP),
        available(&install, "CAP-RED"),
        "{ran:#}"
    );
    // The product and its variations, and the orders that may hold the
    // pool's units: the warehouse counted them on its shelf, the store's
    // count lacks those of orders the warehouse does not have.
    assert_eq!(
        beyond(&requests, &activation),
        expected(&[
            ("GET /wc/v3/products", 1),
            ("GET /wc/v3/products/{id}/variations", 1),
            ("GET /wc/v3/orders", 1),
            ("POST /wc/v3/products/batch", 1),
        ]),
        "{ran:#}"
    );
    end_of_day_agrees(&install);
}

#[test]
fn a_failed_write_leaves_the_cursor_and_the_next_push_writes_once() {
    let (store, install, _) = imported_and_pushed();
    let variations_batch = format!("/wp-json/wc/v3/products/{HOODIE}/variations/batch");
    let start = variation_stock(&store, HOODIE, 111);
    let cursor = || plugin_state(&install.data_dir, "push_stock").unwrap()["cursor"].clone();
    let passed = cursor();

    // The store fails the write: nothing lands, the cursor stays.
    install.run(&["receive", "HOODIE-S", "5"]).success();
    store.control_with(
        "PUT",
        "faults",
        Some(
            json!([{"prefix": variations_batch, "methods": ["POST"], "times": 1,
                     "error_rate": 1.0, "error_status": 503}]),
        ),
    );
    let failed = run_job(&install, "push-stock", &[]);
    assert_eq!(failed.outcome(), Some("failed"), "{failed:?}");
    assert_eq!(variation_stock(&store, HOODIE, 111), start);
    assert_eq!(cursor(), passed, "the cursor stays before the receipt");
    push(&store, &install, 1);
    assert_eq!(variation_stock(&store, HOODIE, 111), start + 5);

    // The write lands but its answer is a 503: the push fails, and the
    // next one finds the count right and writes nothing (no second +5).
    install
        .run(&["adjust", "HOODIE-S", "-2", "--reason", "damaged"])
        .success();
    store.control_with(
        "PUT",
        "faults",
        Some(
            json!([{"prefix": variations_batch, "methods": ["POST"], "times": 1,
                     "error_after_write_rate": 1.0, "error_status": 503}]),
        ),
    );
    let failed = run_job(&install, "push-stock", &[]);
    assert_eq!(failed.outcome(), Some("failed"), "{failed:?}");
    assert_eq!(variation_stock(&store, HOODIE, 111), start + 3);
    push(&store, &install, 0);
    assert_eq!(variation_stock(&store, HOODIE, 111), start + 3);
    end_of_day_agrees(&install);
}

#[test]
fn with_stock_push_at_end_of_day_only_end_of_day_sends() {
    let (store, install, activation) = imported_and_pushed();
    install.set(PLUGIN, &["stock_push=end_of_day"]).success();
    let before = store_stock(&store, MUG);
    install.run(&["receive", "MUG", "4"]).success();
    let (ran, requests) = push(&store, &install, 0);
    assert_eq!(beyond(&requests, &activation), Requests::new(), "{ran:#}");
    assert_eq!(store_stock(&store, MUG), before);
    let eod = run_record(&install, "end-of-day", &[]);
    assert_eq!(eod["updated"], 1, "{eod:#}");
    assert_eq!(store_stock(&store, MUG), before + 4);

    // Back to every sync: the receipt is read again and found sent.
    install.set(PLUGIN, &["stock_push=every_sync"]).success();
    push(&store, &install, 0);
    assert_eq!(store_stock(&store, MUG), before + 4);
}

#[test]
fn under_the_service_a_push_with_nothing_changed_makes_no_request_at_all() {
    let (store, install, activation) = imported_and_pushed();
    assert!(
        !activation.is_empty(),
        "a run from the CLI checks the connection"
    );
    page::add_users(&install);
    // Nothing scheduled meanwhile (End of Day twelve hours away): the runs
    // are the page's, by hand, in the plugin the service holds active.
    let far = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(12))
        .strftime("%H:%M")
        .to_string();
    install.run(&["timezone", "UTC"]).success();
    install
        .run(&[
            "schedule",
            PLUGIN,
            "--interval",
            "off",
            "--end-of-day",
            &far,
        ])
        .success();
    let service = install.serve();
    let mut admin = page::PageClient::logged_in(&service, page::ADMIN);
    wait_until(Duration::from_secs(30), || {
        admin
            .get("/plugins/woocommerce/jobs")
            .body
            .contains("The service holds")
    })
    .expect("the service activates the plugin");

    store.control("DELETE", "stats");
    page::run_by_hand(&mut admin, "woocommerce", "push-stock", &[]);
    assert_eq!(counters(&store), Requests::new(), "not one request");
    let ran = &install.json(&["runs", "--json"])[0];
    assert_eq!(
        (&ran["job"], &ran["outcome"]),
        (&json!("push-stock"), &json!("succeeded")),
        "{ran:#}"
    );

    let before = store_stock(&store, MUG);
    install.run(&["receive", "MUG", "5"]).success();
    store.control("DELETE", "stats");
    page::run_by_hand(&mut admin, "woocommerce", "push-stock", &[]);
    assert_eq!(
        counters(&store),
        expected(&[
            ("GET /wc/v3/orders", 1),
            ("GET /wc/v3/products", 1),
            ("POST /wc/v3/products/batch", 1),
        ])
    );
    assert_eq!(store_stock(&store, MUG), before + 5);
    drop(service);
}

/// End of Day's dry run (every item compared; nothing imported, nothing
/// written) finds no count to send: every managed count in the store is
/// the warehouse's quantity less what the store holds.
fn assert_invariant(install: &Install, after: &str) {
    let planned = run_record(install, "end-of-day", &["--dry-run"]);
    assert_eq!(
        planned["tables"][0]["rows"],
        json!([]),
        "after {after}: {planned:#}"
    );
}

#[test]
fn after_every_push_each_count_is_the_warehouses_less_the_stores_holds() {
    let (store, install, _) = imported_and_pushed();
    let step = |what: &str, work: &dyn Fn()| {
        work();
        let (ran, _) = push_counted(&store, &install);
        assert_eq!(ran["outcome"], "succeeded", "{what}: {ran:#}");
        assert_invariant(&install, what);
    };
    let cli = |args: &[&str]| {
        install.run(args).success();
    };
    let import_orders = || {
        let ran = run_record(&install, "import-orders", &[]);
        assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    };
    step("a receipt", &|| cli(&["receive", "MUG", "5"]));
    let held = place_order(&store, MUG, 1, "on-hold").to_string();
    step("an on-hold order", &|| {});
    step("damaged units", &|| {
        cli(&["adjust", "POSTER", "-2", "--reason", "damaged"])
    });
    let paid = place_order(&store, MUG, 2, "processing").to_string();
    step("a paid order imported", &import_orders);
    step("its pick", &|| cli(&["pick", &paid, "1", "2"]));
    step("its shipment", &|| {
        cli(&["ship", &paid, "--carrier", "UPS", "--tracking", "1ZPUSH"])
    });
    let cancelled = place_order(&store, 102, 1, "processing").to_string();
    import_orders();
    step("a warehouse cancellation", &|| {
        cli(&["cancel", &cancelled, "--reason", "damaged"])
    });
    step("the on-hold order cancelled in the store", &|| {
        store.ok(
            "PUT",
            &format!("/wc/v3/orders/{held}"),
            Some(json!({"status": "cancelled"})),
        );
    });
    step("a pool counted", &|| {
        cli(&["adjust", "CAP-RED", "3", "--reason", "counted"])
    });
    step("a variation received", &|| {
        cli(&["receive", "HOODIE-S", "2"])
    });
}
