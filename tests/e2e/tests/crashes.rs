//! `plugin-host run woocommerce import-products | import-orders |
//! export-fulfillment` killed with SIGKILL at seeded random points, over and
//! over, while the store and the warehouse keep changing.
//!
//! The store answers every request after some latency, so a kill lands
//! while the job reads, writes the database, or writes the store. After
//! every kill the test checks, before anything else runs:
//!
//! - the database passes `PRAGMA integrity_check`;
//! - no watermark is ahead of its data: every record the store served
//!   before the run that belongs in the warehouse and was modified before
//!   the import's watermark (the store's time when its last complete
//!   listing began) is in the warehouse;
//! - the export's cursor is not ahead of the store: every pick and shipment
//!   event at or below it has its note (pick) or tracking (shipment) in the
//!   store, and no event's note or tracking is there twice;
//! - no order is in the warehouse twice.
//!
//! Then the job is started again (sometimes killed once more) and run to
//! completion, and the test checks nothing was lost: every store order is
//! imported once, every product is an item, every pick and shipment is in
//! the store exactly once.
//!
//! `CRASH_ROUNDS=200` runs more rounds (default 24, one kill or two each);
//! `CRASH_SEED=N` draws other points and changes.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Child, Stdio};
use std::time::Duration;

use e2e_tests::{Install, SandboxStore};
use plugin_api::warehouse::{ChangeKind, ShipmentRecorded};
use serde_json::{Value, json};
use support::{
    Rng, env_number, gmt_seconds, install_for, integrity, items_by_number, notes, plugin_state,
    run_job, store_list, trackings, work_orders,
};

const PRODUCTS: u64 = 40;
const ORDERS: u64 = 50;
const LATENCY_MS: u64 = 100;
const KILLED: [&str; 3] = ["import-products", "import-orders", "export-fulfillment"];

/// A store of simple stocked products and paid orders, dated two days ago.
fn seed_file() -> tempfile::NamedTempFile {
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48);
    let at = |s: u64| {
        (start + jiff::SignedDuration::from_secs(s as i64))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let products: Vec<Value> = (0..PRODUCTS)
        .map(|i| {
            json!({"id": 100 + i, "type": "simple", "name": format!("Part {i}"),
                   "sku": format!("P-{i:03}"), "regular_price": "5.00", "manage_stock": true,
                   "stock_quantity": 500, "date_created": at(i), "date_modified": at(i)})
        })
        .collect();
    let orders: Vec<Value> = (0..ORDERS)
        .map(|k| {
            let date = at(100 + k * 7);
            let lines: Vec<Value> = (0..1 + k % 2)
                .map(|j| {
                    let product = 100 + (k * 3 + j * 11) % PRODUCTS;
                    json!({"id": 5000 + k * 2 + j, "name": format!("Part {}", product - 100),
                           "product_id": product, "variation_id": 0,
                           "quantity": 1 + (k + j) % 3, "total": "5.00"})
                })
                .collect();
            json!({"id": 1000 + k, "status": "processing", "date_created": date,
                   "date_modified": date, "date_paid": date,
                   "billing": {"first_name": "Buyer", "last_name": format!("{k}")},
                   "shipping": {"first_name": "Buyer", "last_name": format!("{k}"), "city": "Bath", "country": "GB"},
                   "line_items": lines})
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        json!({"products": products, "orders": orders}).to_string(),
    )
    .unwrap();
    file
}

struct Bench {
    store: SandboxStore,
    install: Install,
    rng: Rng,
    kills: u32,
    finished_before_the_kill: u32,
    kills_by_job: BTreeMap<&'static str, u32>,
    /// Every pick and shipment event up to here was found in the store
    /// exactly once after a completed export; later checks look past it.
    verified_upto: i64,
}

impl Bench {
    fn latency(&self, on: bool) {
        if on {
            self.store.control_with(
                "PUT",
                "faults",
                Some(json!({"prefix": "/wp-json", "latency_ms": LATENCY_MS})),
            );
        } else {
            self.store.control("DELETE", "faults");
        }
    }

    /// The store goes on selling and the warehouse on working.
    fn change_both_sides(&mut self, round: u64) {
        for _ in 0..self.rng.between(1, 3) {
            let lines: Vec<Value> = (0..self.rng.between(1, 3))
                .map(|_| {
                    json!({"product_id": 100 + self.rng.below(PRODUCTS),
                           "quantity": self.rng.between(1, 4)})
                })
                .collect();
            self.store.ok(
                "POST",
                "/wc/v3/orders",
                Some(json!({"status": "processing", "set_paid": true,
                            "billing": {"first_name": "Round", "last_name": format!("{round}")},
                            "line_items": lines})),
            );
        }
        if round.is_multiple_of(3) {
            let id = 100 + self.rng.below(PRODUCTS);
            self.store.ok(
                "PUT",
                &format!("/wc/v3/products/{id}"),
                Some(json!({"name": format!("Part {} (round {round})", id - 100)})),
            );
        }
        let count = self.rng.between(1, 4) as usize;
        work_orders(&self.install, count, &format!("CR{round}-"));
    }

    /// Starts the job with the store slow, kills it after a random delay.
    fn kill_during(&mut self, job: &'static str) {
        self.latency(true);
        let mut child: Child = self
            .install
            .command(&["run", support::PLUGIN, job])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("plugin-host starts");
        std::thread::sleep(Duration::from_millis(self.rng.between(20, 900)));
        if matches!(child.try_wait(), Ok(Some(_))) {
            self.finished_before_the_kill += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        self.kills += 1;
        *self.kills_by_job.entry(job).or_default() += 1;
        self.latency(false);
    }

    fn state(&self, key: &str) -> Option<Value> {
        plugin_state(&self.install.data_dir, key)
    }
}

/// `date_modified_gmt` of every record of a listing that `belongs` in the
/// warehouse, by id.
fn modified(
    store: &SandboxStore,
    route: &str,
    belongs: impl Fn(&Value) -> bool,
) -> HashMap<String, i64> {
    store_list(store, route)
        .into_iter()
        .filter(|r| belongs(r))
        .map(|r| {
            (
                r["id"].as_u64().unwrap().to_string(),
                gmt_seconds(r["date_modified_gmt"].as_str().unwrap()),
            )
        })
        .collect()
}

/// What the store served before a run: the modification time of each
/// record that belongs in the warehouse (orders in the imported statuses,
/// every product).
struct Served {
    orders: HashMap<String, i64>,
    products: HashMap<String, i64>,
}

impl Served {
    fn read(store: &SandboxStore) -> Self {
        Self {
            orders: modified(store, "/wc/v3/orders?status=any", |o| {
                o["status"] == "processing" || o["status"] == "completed"
            }),
            products: modified(store, "/wc/v3/products", |_| true),
        }
    }
}

/// The warehouse's orders from the store, by store id; none twice.
fn warehouse_orders(bench: &Bench) -> BTreeMap<String, Value> {
    let orders = bench.install.json(&["orders", "--json"]);
    let mut by_id = BTreeMap::new();
    let mut numbers = BTreeSet::new();
    for order in orders.as_array().unwrap() {
        let id = order["external_id"].as_str().unwrap().to_owned();
        assert!(
            numbers.insert(order["number"].as_str().unwrap().to_owned()),
            "order number twice: {order}"
        );
        assert!(
            by_id.insert(id.clone(), order.clone()).is_none(),
            "store order {id} imported twice"
        );
    }
    by_id
}

/// Product ids (by SKU `P-nnn`) of the items the warehouse has.
fn imported_products(bench: &Bench) -> Vec<String> {
    items_by_number(&bench.install)
        .keys()
        .filter_map(|n| n.strip_prefix("P-")?.parse::<u64>().ok())
        .map(|n| (100 + n).to_string())
        .collect()
}

/// An import's watermark never passes a record it did not import: every
/// record served before the run that belongs in the warehouse and was
/// modified before the watermark (the second of the watermark excluded:
/// the store dates to the second) is in the warehouse.
fn assert_watermark_not_ahead(
    bench: &Bench,
    key: &str,
    served: &HashMap<String, i64>,
    imported: &[String],
    when: &str,
) {
    let Some(state) = bench.state(key) else {
        return;
    };
    let Some(watermark) = state["watermark"].as_str() else {
        return;
    };
    let watermark = gmt_seconds(watermark);
    let imported: BTreeSet<&String> = imported.iter().collect();
    let passed: Vec<&String> = served
        .iter()
        .filter(|(id, modified)| **modified < watermark && !imported.contains(id))
        .map(|(id, _)| id)
        .collect();
    assert!(
        passed.is_empty(),
        "{when}: {key} watermark {watermark} is past records not in the warehouse {passed:?}; state {state}"
    );
}

/// Each pick and shipment event after `from` is in the store (its note,
/// its tracking) at most once, and exactly once when it is at or below the
/// export's cursor or `complete` holds. Returns the last event's number.
fn assert_export_exactly_once(bench: &Bench, from: i64, complete: bool, when: &str) -> i64 {
    let db = intellitrack_db::Db::open(&bench.install.data_dir.join("intellitrack.db")).unwrap();
    let events = db
        .changes_after(support::PLUGIN, 0, intellitrack_db::MAX_CHANGES_PAGE)
        .unwrap()
        .events;
    let cursor = bench
        .state("export_fulfillment")
        .and_then(|s| s["cursor"].as_i64())
        .unwrap_or(0);
    let mut notes_of: HashMap<u64, Vec<(bool, String)>> = HashMap::new();
    let mut trackings_of: HashMap<u64, Vec<String>> = HashMap::new();
    for event in events.iter().filter(|e| e.seq > from) {
        let Some(order) = event.order_external_id.as_deref() else {
            continue;
        };
        let order: u64 = order.parse().unwrap();
        let times = match event.kind {
            ChangeKind::PickRecorded => {
                let mark = format!("[IntelliTrack event {}]", event.seq);
                notes_of
                    .entry(order)
                    .or_insert_with(|| notes(&bench.store, order))
                    .iter()
                    .filter(|(_, n)| n.contains(&mark))
                    .count()
            }
            ChangeKind::ShipmentRecorded => {
                let number = event
                    .details::<ShipmentRecorded>()
                    .unwrap()
                    .shipment
                    .tracking;
                trackings_of
                    .entry(order)
                    .or_insert_with(|| trackings(&bench.store, order))
                    .iter()
                    .filter(|t| **t == number)
                    .count()
            }
            _ => continue,
        };
        let wanted = if complete || event.seq <= cursor {
            1..=1
        } else {
            0..=1
        };
        assert!(
            wanted.contains(&times),
            "{when}: {} event {} of order {order} is in the store {times} times (cursor {cursor})",
            event.kind.as_str(),
            event.seq
        );
    }
    events.last().map_or(from, |e| e.seq)
}

/// The checks that hold at any point, a crash included.
fn assert_consistent(bench: &Bench, served: &Served, when: &str) {
    assert_eq!(integrity(&bench.install.data_dir), "ok", "{when}");
    let orders: Vec<String> = warehouse_orders(bench).into_keys().collect();
    assert_watermark_not_ahead(bench, "import_orders", &served.orders, &orders, when);
    let products = imported_products(bench);
    assert_watermark_not_ahead(bench, "import_products", &served.products, &products, when);
    assert_export_exactly_once(bench, bench.verified_upto, false, when);
}

/// After a run to completion: nothing the job covers is missing.
fn assert_caught_up(bench: &mut Bench, job: &str, when: &str) {
    match job {
        "import-orders" => {
            let store: BTreeSet<String> = store_list(&bench.store, "/wc/v3/orders?status=any")
                .iter()
                .filter(|o| o["status"] == "processing" || o["status"] == "completed")
                .map(|o| o["id"].as_u64().unwrap().to_string())
                .collect();
            let warehouse: BTreeSet<String> = warehouse_orders(bench).into_keys().collect();
            assert_eq!(warehouse, store, "{when}: orders imported");
        }
        "import-products" => {
            let items = items_by_number(&bench.install);
            for product in store_list(&bench.store, "/wc/v3/products") {
                let sku = product["sku"].as_str().unwrap();
                assert_eq!(
                    items.get(sku).map(|i| &i["description"]),
                    Some(&product["name"]),
                    "{when}: item {sku}"
                );
            }
        }
        _ => {
            bench.verified_upto = assert_export_exactly_once(bench, bench.verified_upto, true, when)
        }
    }
}

#[test]
fn jobs_killed_at_random_points_lose_nothing_and_double_nothing() {
    let rounds = env_number("CRASH_ROUNDS", 24);
    let seed = env_number("CRASH_SEED", 7);
    let seed_file = seed_file();
    let path = seed_file.path().display().to_string();
    let store = SandboxStore::start_with(&["--seed", &path]);
    let install = install_for(&store.url, &[]);
    let mut bench = Bench {
        store,
        install,
        rng: Rng::new(seed),
        kills: 0,
        finished_before_the_kill: 0,
        kills_by_job: BTreeMap::new(),
        verified_upto: 0,
    };
    let started = std::time::Instant::now();
    for job in ["import-products", "import-orders"] {
        assert!(run_job(&bench.install, job, &[]).succeeded(), "{job}");
    }
    for round in 0..rounds {
        bench.change_both_sides(round);
        let job = KILLED[(round % 3) as usize];
        let served = Served::read(&bench.store);
        bench.kill_during(job);
        assert_consistent(&bench, &served, &format!("round {round}, {job} killed"));
        if bench.rng.below(3) == 0 {
            bench.kill_during(job);
            assert_consistent(
                &bench,
                &served,
                &format!("round {round}, {job} killed again"),
            );
        }
        let restarted = run_job(&bench.install, job, &[]);
        assert!(
            restarted.succeeded(),
            "round {round}: {job} after the kill: {}",
            restarted.reason()
        );
        let when = format!("round {round}, {job} restarted");
        assert_consistent(&bench, &served, &when);
        assert_caught_up(&mut bench, job, &when);
    }
    // The last word: every job once more, everything in place, every
    // event since the first checked again.
    let served = Served::read(&bench.store);
    bench.verified_upto = 0;
    for job in KILLED {
        assert!(run_job(&bench.install, job, &[]).succeeded(), "{job}");
        assert_caught_up(&mut bench, job, "at the end");
    }
    assert_consistent(&bench, &served, "at the end");
    let runs = bench.install.json(&["runs", "--limit", "10000", "--json"]);
    let interrupted = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "interrupted")
        .count();
    eprintln!(
        "seed {seed}: {} kills in {rounds} rounds ({:?}), {} of them after the run had ended; \
         {interrupted} runs recorded as interrupted; {} orders, {} pick/ship events; {:?}",
        bench.kills,
        bench.kills_by_job,
        bench.finished_before_the_kill,
        warehouse_orders(&bench).len(),
        intellitrack_db::Db::open(&bench.install.data_dir.join("intellitrack.db"))
            .unwrap()
            .changes_after(support::PLUGIN, 0, intellitrack_db::MAX_CHANGES_PAGE)
            .unwrap()
            .events
            .iter()
            .filter(|e| matches!(
                e.kind,
                ChangeKind::PickRecorded | ChangeKind::ShipmentRecorded
            ))
            .count(),
        started.elapsed()
    );
    assert!(bench.kills >= 20 || rounds < 20, "{} kills", bench.kills);
    assert!(
        bench.kills - bench.finished_before_the_kill >= bench.kills / 2,
        "most kills land mid-run: {} of {} runs had already ended",
        bench.finished_before_the_kill,
        bench.kills
    );
}
