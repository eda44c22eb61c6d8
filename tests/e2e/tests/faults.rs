//! A full cycle against a store that misbehaves, compared with the same
//! cycle against a store that does not.
//!
//! Two sandboxes generate the same store (`--random-seed`). One answers a
//! seeded share of requests with 5xx pages, 429 with `Retry-After`, dropped
//! connections, truncated bodies and invalid JSON, all after some latency,
//! and for writes also loses or replaces the answer after the write landed.
//! The same hands work both: import products and orders, pick, ship and
//! cancel by hand, export fulfilment, End of Day; then the store changes
//! (a new order, a renamed product, an order cancelled in the store) and
//! the cycle runs again. A job that fails is run again (a bounded number of
//! times). At the end the warehouse (items, stock, orders, parked events,
//! through the CLI's `--json`) and the store (every order's status, notes,
//! picked meta and trackings; every product's and variation's stock) must
//! be the same on both sides.
//!
//! `FAULT_SEED=N` draws other faults (and generates another store).

mod support;

use e2e_tests::{Install, SandboxStore};
use serde_json::{Value, json};
use support::{
    JobRun, Proxy, differences, env_number, install_for, run_until_succeeded, store_list,
    store_snapshot, warehouse_snapshot, work_orders,
};

/// Runs of one job before the test gives up on it.
const RERUNS: usize = 15;

/// The faults: reads meet 500/502/503 in turn; writes meet 502 only,
/// before or after they land (a 503 after a note or tracking landed makes
/// the client send it again: see
/// `a_503_after_a_note_or_tracking_landed_writes_it_once`). The activation's
/// probe for the Shipment Tracking extension gets no garbled answers (one
/// makes the plugin take the extension for missing: see
/// `a_garbled_answer_to_the_tracking_probe_keeps_the_extension_in_use`).
/// Both are ignored tests until those are fixed.
fn rules() -> Value {
    let common = json!({
        "prefix": "/wp-json",
        "latency_ms": 10,
        "error_rate": 0.03,
        "rate_limit_rate": 0.03,
        "retry_after_secs": 1,
        "drop_rate": 0.03,
        "truncate_rate": 0.03,
        "invalid_json_rate": 0.03
    });
    let with = |extra: Value| {
        let mut rule = common.clone();
        rule.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        rule
    };
    json!([
        with(json!({"prefix": TRACKING_PROBE, "truncate_rate": 0, "invalid_json_rate": 0})),
        with(json!({"methods": ["POST", "PUT"], "error_status": 502,
                    "error_after_write_rate": 0.05, "lost_response_rate": 0.04})),
        common
    ])
}

/// What the activation asks to learn whether Shipment Tracking is there.
const TRACKING_PROBE: &str = "/wp-json/wc-shipment-tracking/v3/orders/0/";

/// One side of the comparison: a store behind a proxy (which counts what
/// the store answered) and a host pointed at the proxy.
struct Side {
    store: SandboxStore,
    proxy: Proxy,
    install: Install,
    faulty: bool,
    /// Runs that failed and were run again, by job.
    failed_runs: Vec<(String, String)>,
}

impl Side {
    fn start(seed: u64, faulty: bool) -> Self {
        let proxy = Proxy::bind();
        let seed = seed.to_string();
        let store = SandboxStore::start_with(&[
            "--products",
            "240",
            "--variable",
            "8",
            "--variations",
            "3",
            "--orders",
            "150",
            "--random-seed",
            &seed,
            "--home-url",
            &proxy.url,
        ]);
        proxy.forward_to(&store.url);
        let install = install_for(&proxy.url, &[]);
        let side = Self {
            store,
            proxy,
            install,
            faulty,
            failed_runs: Vec::new(),
        };
        side.faults(true);
        side
    }

    /// Turns the faults on or off (off while the test itself reads or
    /// changes the store).
    fn faults(&self, on: bool) {
        if !self.faulty {
            return;
        }
        if on {
            let set = self.store.control_with("PUT", "faults", Some(rules()));
            assert!(set.is_array(), "faults not set: {set}");
        } else {
            self.store.control("DELETE", "faults");
        }
    }

    fn run(&mut self, job: &str) {
        let failed = run_until_succeeded(&self.install, job, RERUNS);
        if !self.faulty {
            let reasons: Vec<String> = failed.iter().map(JobRun::reason).collect();
            assert!(
                reasons.is_empty(),
                "{job} failed without faults: {reasons:#?}"
            );
        }
        self.failed_runs.extend(
            failed
                .into_iter()
                .map(|r| (job.to_owned(), first_line(&r.reason()))),
        );
    }

    /// Imports, works orders by hand, exports, End of Day.
    fn cycle(&mut self, orders_to_work: usize, tracking_prefix: &str) -> Vec<String> {
        self.run("import-products");
        self.run("import-orders");
        let worked = work_orders(&self.install, orders_to_work, tracking_prefix);
        self.run("export-fulfillment");
        self.run("end-of-day");
        worked
    }

    /// The same changes to either store, as its admin would make them
    /// (faults off meanwhile): a new paid order for two products, a product
    /// renamed, and an imported order nobody worked cancelled.
    fn change_the_store(&self, worked: &[String]) {
        self.faults(false);
        let products: Vec<Value> = store_list(&self.store, "/wc/v3/products?type=simple")
            .into_iter()
            .filter(|p| {
                p["type"] == "simple"
                    && p["status"] == "publish"
                    && p["manage_stock"] == true
                    && p["virtual"] == false
                    && p["downloadable"] == false
                    && !p["sku"].as_str().unwrap_or("").is_empty()
            })
            .collect();
        let (a, b, c) = (&products[0], &products[1], &products[2]);
        self.store.ok(
            "POST",
            "/wc/v3/orders",
            Some(json!({"status": "processing", "set_paid": true,
                "billing": {"first_name": "Nia", "last_name": "New", "email": "nia@example.test"},
                "shipping": {"first_name": "Nia", "last_name": "New", "city": "Leeds", "country": "GB"},
                "line_items": [{"product_id": a["id"], "quantity": 2}, {"product_id": b["id"], "quantity": 1}]})),
        );
        self.store.ok(
            "PUT",
            &format!("/wc/v3/products/{}", c["id"]),
            Some(json!({"name": "Renamed in the store"})),
        );
        let untouched = self
            .install
            .json(&["orders", "--status", "open", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["external_id"].as_str().unwrap().to_owned())
            .filter(|id| !worked.contains(id))
            .max()
            .expect("an open order nobody worked");
        self.store.ok(
            "PUT",
            &format!("/wc/v3/orders/{untouched}"),
            Some(json!({"status": "cancelled"})),
        );
        self.faults(true);
    }

    /// Both sides' final state, read with the faults off.
    fn snapshot(&self) -> Value {
        self.faults(false);
        json!({"warehouse": warehouse_snapshot(&self.install), "store": store_snapshot(&self.store)})
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(160)
        .collect()
}

fn full_cycle_twice(side: &mut Side) {
    let worked = side.cycle(10, "TRK-");
    side.change_the_store(&worked);
    side.cycle(14, "TRK-B-");
}

#[test]
fn a_full_cycle_under_store_faults_ends_as_it_does_without_them() {
    let seed = env_number("FAULT_SEED", 11);
    let started = std::time::Instant::now();
    let mut clean = Side::start(seed, false);
    full_cycle_twice(&mut clean);
    let expected = clean.snapshot();

    let mut faulty = Side::start(seed, true);
    full_cycle_twice(&mut faulty);
    let actual = faulty.snapshot();

    let answers = faulty.proxy.answers.lock().unwrap().clone();
    let faults: u64 = answers
        .iter()
        .filter(|(kind, _)| !matches!(**kind, "ok" | "4xx"))
        .map(|(_, n)| n)
        .sum();
    eprintln!(
        "fault seed {seed}: the faulty store answered {} requests ({answers:?}): {faults} faults; \
         {} runs failed and were run again: {:#?}; both sides took {:?}",
        faulty
            .proxy
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        faulty.failed_runs.len(),
        faulty.failed_runs,
        started.elapsed()
    );
    assert!(
        answers.contains_key("429")
            && answers.contains_key("5xx")
            && answers.contains_key("dropped")
            && answers.contains_key("garbled"),
        "every kind of fault struck: {answers:?}"
    );
    assert!(
        !faulty.failed_runs.is_empty(),
        "some run failed under the faults (else they were too gentle)"
    );

    // The cycle did something worth comparing.
    let orders = expected["warehouse"]["orders"].as_array().unwrap();
    let shipped = orders
        .iter()
        .filter(|o| !o["shipments"].as_array().unwrap().is_empty())
        .count();
    let cancelled = orders.iter().filter(|o| o["status"] == "cancelled").count();
    assert!(
        orders.len() > 20 && shipped >= 10 && cancelled >= 3,
        "{orders:#?}"
    );
    let notes: usize = expected["store"]["orders"]
        .as_object()
        .unwrap()
        .values()
        .map(|o| o["notes"].as_array().unwrap().len())
        .sum();
    assert!(notes > 40, "{notes} notes");

    let mut diffs = Vec::new();
    differences(&expected, &actual, "", &mut diffs, 40);
    assert!(
        diffs.is_empty(),
        "the faulty side ended differently ({} differences shown): {diffs:#?}",
        diffs.len()
    );
}

/// The e2e seed store with its products and orders imported, and order
/// 501 picked and shipped (tracking `1ZTWICE`), not yet exported.
fn imported_seed_store() -> (SandboxStore, Install) {
    let store = SandboxStore::start_with(&["--seed", &support::seed_path()]);
    let install = install_for(&store.url, &[]);
    for job in ["import-products", "import-orders"] {
        assert!(support::run_job(&install, job, &[]).succeeded());
    }
    install.run(&["pick", "501", "1", "2"]).success();
    install
        .run(&["ship", "501", "--carrier", "UPS", "--tracking", "1ZTWICE"])
        .success();
    (store, install)
}

/// A store (or the proxy in front of it) that answers 503 after the note
/// or the tracking landed: each must still be in the store once (the
/// client does not repeat a write that may have landed; the export checks
/// before writing again).
#[test]
fn a_503_after_a_note_or_tracking_landed_writes_it_once() {
    let (store, install) = imported_seed_store();
    let after_write_503 = |route: &str| {
        json!({"prefix": format!("/wp-json{route}"), "methods": ["POST"],
               "error_after_write_rate": 1, "error_status": 503, "times": 1})
    };
    store.control_with(
        "PUT",
        "faults",
        Some(json!([
            after_write_503("/wc/v3/orders/501/notes"),
            after_write_503("/wc-shipment-tracking/v3/orders/501/shipment-trackings"),
        ])),
    );
    // Each 503 fails its run (the events stay pending); the next run
    // checks the order before writing again.
    let mut ran = support::run_job(&install, "export-fulfillment", &[]);
    for _ in 0..3 {
        if ran
            .record
            .as_ref()
            .is_some_and(|r| r["outcome"] == "succeeded")
        {
            break;
        }
        ran = support::run_job(&install, "export-fulfillment", &[]);
    }
    store.control("DELETE", "faults");
    let picked = support::notes(&store, 501)
        .into_iter()
        .filter(|(_, n)| n.starts_with("Picked 2 × MUG"))
        .count();
    assert_eq!(
        (picked, support::trackings(&store, 501)),
        (1, vec!["1ZTWICE".to_owned()]),
        "{ran:#?}"
    );
}

/// One truncated answer to the activation's Shipment Tracking probe (its
/// 404 for order 0, cut in half) must not make the plugin take the
/// installed extension for missing.
///
/// Only WordPress' own "no route" means the extension is missing; a half
/// body tells nothing, and the export asks again rather than writing the
/// tracking into the order's meta with a note to the customer (an e-mail to
/// the shopper), which it never does with the extension.
#[test]
fn a_garbled_answer_to_the_tracking_probe_keeps_the_extension_in_use() {
    let (store, install) = imported_seed_store();
    store.control_with(
        "PUT",
        "faults",
        Some(json!({"prefix": TRACKING_PROBE, "truncate_rate": 1, "times": 1})),
    );
    let ran = support::run_job(&install, "export-fulfillment", &[]);
    let to_customer: Vec<String> = support::notes(&store, 501)
        .into_iter()
        .filter(|(customer, _)| *customer)
        .map(|(_, n)| n)
        .collect();
    assert_eq!(to_customer, Vec::<String>::new(), "{ran:#?}");
    assert_eq!(support::trackings(&store, 501), ["1ZTWICE"]);
}
