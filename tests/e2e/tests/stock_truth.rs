//! The stock truth, end to end: the real `plugin-host` with the real plugin
//! library against `woo-sandbox` as its own process (seed
//! `tests/e2e/seeds/import.json`), the store taking and giving back stock
//! for its orders as WooCommerce does.
//!
//! The invariant every test holds End of Day to: right after the imports it
//! writes nothing, and after any mix of store orders and warehouse work one
//! End of Day leaves each managed product's store count equal to the
//! warehouse's quantity less what the store holds for orders the warehouse
//! does not have.

mod support;

use e2e_tests::{Install, SandboxStore};
use serde_json::{Value, json};
use support::{imported_seed_store, place_order, run_record, store_stock};

/// The store's stock writes since the counters were last cleared.
fn stock_writes(store: &SandboxStore) -> u64 {
    let stats = store.stats();
    [
        "POST /wc/v3/products/batch",
        "POST /wc/v3/products/{id}/variations/batch",
        "PUT /wc/v3/products/{id}",
    ]
    .iter()
    .filter_map(|route| stats[*route].as_u64())
    .sum()
}

/// Runs End of Day and asserts it succeeded and wrote `updated` counts.
fn end_of_day(store: &SandboxStore, install: &Install, updated: u64) -> Value {
    let planned = run_record(install, "end-of-day", &["--dry-run"]);
    store.control("DELETE", "stats");
    let ran = run_record(install, "end-of-day", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(
        ran["updated"], updated,
        "{ran:#}\nplanned: {:#}",
        planned["tables"]
    );
    if updated == 0 {
        // The connection check writes one empty batch on every run.
        assert_eq!(
            stock_writes(store),
            1,
            "nothing written: {:#}",
            store.stats()
        );
    }
    ran
}

fn available(install: &Install, number: &str) -> (i64, i64) {
    let q = &install.json(&["inventory", number, "--json"])[0];
    (
        q["on_hand"].as_i64().unwrap(),
        q["available"].as_i64().unwrap(),
    )
}

fn set_status(store: &SandboxStore, order: u64, status: &str) {
    store.ok(
        "PUT",
        &format!("/wc/v3/orders/{order}"),
        Some(json!({"status": status})),
    );
}

const MUG: u64 = 101;

#[test]
fn on_hold_orders_are_held_until_paid_and_cancelled_ones_are_given_back() {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    end_of_day(&store, &install, 0);
    let start = store_stock(&store, MUG);
    assert_eq!(available(&install, "MUG").1, start);

    // A bank-transfer order: the store takes the unit, the warehouse does
    // not have the order; End of Day leaves the store's count as it is.
    let held = place_order(&store, MUG, 1, "on-hold");
    assert_eq!(store_stock(&store, MUG), start - 1);
    let ran = end_of_day(&store, &install, 0);
    assert_eq!(store_stock(&store, MUG), start - 1, "{ran:#}");
    let dry = run_record(&install, "end-of-day", &["--dry-run"]);
    assert_eq!(
        dry["tables"][0]["columns"],
        json!([
            "item",
            "WooCommerce",
            "IntelliTrack available",
            "held by the store",
            "sent"
        ]),
        "{dry:#}"
    );

    // Paid: imported, allocated in the warehouse; nothing to write.
    set_status(&store, held, "processing");
    end_of_day(&store, &install, 0);
    assert_eq!(store_stock(&store, MUG), start - 1);
    assert_eq!(available(&install, "MUG").1, start - 1);

    // Another on-hold order, cancelled: the store puts the units back.
    let cancelled = place_order(&store, MUG, 2, "on-hold");
    end_of_day(&store, &install, 0);
    set_status(&store, cancelled, "cancelled");
    assert_eq!(store_stock(&store, MUG), start - 1);
    end_of_day(&store, &install, 0);

    // A receipt in the warehouse reaches the store, the hold kept.
    let again = place_order(&store, MUG, 1, "on-hold");
    install.run(&["receive", "MUG", "5"]).success();
    let ran = end_of_day(&store, &install, 1);
    let (_, warehouse) = available(&install, "MUG");
    assert_eq!(store_stock(&store, MUG), warehouse - 1, "{ran:#}");
    // The run keeps its drift table, the store's hold in its own column.
    assert_eq!(
        ran["tables"][0]["rows"][0],
        json!([
            "MUG",
            (start - 2).to_string(),
            warehouse.to_string(),
            "1",
            (warehouse - 1).to_string()
        ]),
        "{ran:#}"
    );
    assert_eq!(store_stock(&store, MUG), start - 2 + 5);
    set_status(&store, again, "cancelled");
    end_of_day(&store, &install, 0);
}

#[test]
fn a_backordered_count_opens_no_stock_and_stays_negative() {
    // POSTER: 5 in the store, but sold past zero with backorders allowed.
    let (store, install, _) = imported_seed_store(&[], &[], |store| {
        store.ok(
            "PUT",
            "/wc/v3/products/102",
            Some(json!({"backorders": "yes", "stock_quantity": -3})),
        );
    });
    let (on_hand, _) = available(&install, "POSTER");
    assert_eq!(on_hand, 0, "no stock is invented from a negative count");
    end_of_day(&store, &install, 0);
    assert_eq!(store_stock(&store, 102), -3);

    // Five come in: the store owes three, so two can be sold.
    install.run(&["receive", "POSTER", "5"]).success();
    end_of_day(&store, &install, 1);
    assert_eq!(store_stock(&store, 102), 2);
    end_of_day(&store, &install, 0);

    // Without backorders, a count below zero is sent as 0 and reported.
    store.ok(
        "PUT",
        "/wc/v3/products/102",
        Some(json!({"backorders": "no"})),
    );
    install
        .run(&["adjust", "POSTER", "-5", "--reason", "damaged"])
        .success();
    let ran = end_of_day(&store, &install, 1);
    assert_eq!(store_stock(&store, 102), 0);
    assert!(
        ran["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["record"] == "item POSTER"
                && i["reason"].as_str().unwrap().contains("sent as 0")),
        "{ran:#}"
    );
}

#[test]
fn a_pool_the_parent_keeps_gets_its_variations_sum_once_counted() {
    // CAP keeps one count (7) for its variation CAP-RED ("parent").
    let (store, install, products) = imported_seed_store(&[], &[], |_| {});
    assert!(
        products["summary"]
            .as_str()
            .unwrap()
            .contains("CAP-RED share the store's count of 7: count them in the warehouse"),
        "the import names the pool to count: {products:#}"
    );
    let ran = end_of_day(&store, &install, 0);
    let pool = ran["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["record"] == "item CAP-RED")
        .unwrap_or_else(|| panic!("the pool is reported: {ran:#}"));
    assert!(
        pool["reason"]
            .as_str()
            .unwrap()
            .contains("share the store's count of 7"),
        "{pool:#}"
    );
    assert_eq!(store_stock(&store, 120), 7, "never 0 to a pool not counted");

    install
        .run(&["adjust", "CAP-RED", "6", "--reason", "counted"])
        .success();
    let ran = end_of_day(&store, &install, 1);
    assert_eq!(
        store_stock(&store, 120),
        available(&install, "CAP-RED").1,
        "{ran:#}"
    );
    end_of_day(&store, &install, 0);

    // A customer buys from the pool: the parent's count drops, the order
    // comes in, and End of Day agrees.
    let before = store_stock(&store, 120);
    store.ok(
        "POST",
        "/wc/v3/orders",
        Some(json!({"status": "processing",
                    "line_items": [{"product_id": 120, "variation_id": 121, "quantity": 2}]})),
    );
    assert_eq!(store_stock(&store, 120), before - 2);
    end_of_day(&store, &install, 0);

    // An on-hold order for the pool: the store took its unit; the
    // warehouse has the unit on its shelf but not the order (on-hold is
    // not imported), so the store's count keeps lacking it.
    let before = store_stock(&store, 120);
    store.ok(
        "POST",
        "/wc/v3/orders",
        Some(json!({"status": "on-hold",
                    "line_items": [{"product_id": 120, "variation_id": 121, "quantity": 1}]})),
    );
    assert_eq!(store_stock(&store, 120), before - 1);
    end_of_day(&store, &install, 0);
    assert_eq!(
        store_stock(&store, 120),
        available(&install, "CAP-RED").1 - 1,
        "the pool's on-hold unit stays held"
    );
}

#[test]
fn an_order_with_a_line_it_cannot_ship_comes_in_with_the_others_flagged_once() {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    let order = store.ok(
        "POST",
        "/wc/v3/orders",
        Some(json!({"status": "processing",
                    "line_items": [{"product_id": MUG, "quantity": 1},
                                   {"product_id": 131, "quantity": 1}]})),
    )["id"]
        .as_u64()
        .unwrap();
    // KIT-A is deleted from the store after it was ordered: its line now
    // shows product 0.
    store.ok("DELETE", "/wc/v3/products/131?force=true", None);
    let ran = run_record(&install, "import-orders", &[]);
    let flagged: Vec<&Value> = ran["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["record"].as_str().unwrap().contains(&order.to_string()))
        .collect();
    assert_eq!(flagged.len(), 1, "{ran:#}");
    assert!(
        flagged[0]["reason"]
            .as_str()
            .unwrap()
            .contains("needs attention"),
        "{ran:#}"
    );
    let imported = install.json(&["order", &order.to_string(), "--json"]);
    let lines: Vec<(bool, i64)> = imported["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["not_shipped"].as_bool().unwrap(),
                l["ordered"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [(false, 1), (true, 1)], "{imported:#}");
    // Flagged for attention where an admin looks: the order and the list.
    assert!(
        imported["attention"]
            .as_str()
            .is_some_and(|a| a.contains("no longer exists")),
        "{imported:#}"
    );
    let listed = install.run(&["orders"]).success().stdout();
    assert!(listed.contains("! needs attention"), "{listed}");
    // Told once: the next run reads it again quietly.
    let again = run_record(&install, "import-orders", &[]);
    assert!(
        !again["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["record"].as_str().unwrap().contains(&order.to_string())),
        "{again:#}"
    );
    end_of_day(&store, &install, 0);
}

#[test]
fn an_order_placed_while_end_of_day_writes_keeps_its_units() {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    install.run(&["receive", "MUG", "5"]).success();
    let before = store_stock(&store, MUG);
    // A customer buys 2 mugs between End of Day's read and its write.
    store.control_with(
        "PUT",
        "faults",
        Some(json!([{"prefix": "/wp-json/wc/v3/products/batch", "methods": ["POST"], "times": 1,
                     "place_order_before": {"product_id": MUG, "quantity": 2, "status": "processing"}}])),
    );
    let planned = run_record(&install, "end-of-day", &["--dry-run"]);
    let ran = run_record(&install, "end-of-day", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}\n{planned:#}");
    // Written as a difference: the order's two units stay taken, and the
    // order came in, so the warehouse agrees with the store.
    assert_eq!(store_stock(&store, MUG), before + 5 - 2, "{ran:#}");
    assert_eq!(
        available(&install, "MUG").1,
        store_stock(&store, MUG),
        "{ran:#}"
    );
    store.control("DELETE", "faults");
    end_of_day(&store, &install, 0);
}

const HOODIE_S: u64 = 111;
const CAP: u64 = 120;

#[test]
fn a_variation_batch_sent_while_reading_is_right_when_a_later_listing_fails() {
    // WooCommerce 10.0.2 (the seed's): one variation listing a variable product.
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    end_of_day(&store, &install, 0);
    install.run(&["receive", "HOODIE-S", "5"]).success();
    install.run(&["receive", "MUG", "5"]).success();
    let (hoodie, mug) = (store_stock(&store, HOODIE_S), store_stock(&store, MUG));
    // The cap's variations cannot be listed: the forced run has the hoodie's
    // variations read (and their batch sent) long before it gives up.
    store.control_with(
        "PUT",
        "faults",
        Some(
            json!([{"prefix": format!("/wp-json/wc/v3/products/{CAP}/variations"),
                     "methods": ["GET"], "latency_ms": 1000, "error_rate": 1.0}]),
        ),
    );
    let failed = run_record(&install, "end-of-day", &["--force"]);
    assert_eq!(failed["outcome"], "failed", "{failed:#}");
    assert_eq!(
        store_stock(&store, HOODIE_S),
        hoodie + 5,
        "the variation's batch went as soon as its variations were read: {failed:#}"
    );
    assert_eq!(
        store_stock(&store, MUG),
        mug,
        "a product batch short of 100 waits for the end of the reads: {failed:#}"
    );
    store.control("DELETE", "faults");
    store.control("DELETE", "stats");
    let ran = run_record(&install, "end-of-day", &["--force"]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(ran["updated"], 1, "only the mug still differed: {ran:#}");
    assert_eq!(store_stock(&store, HOODIE_S), hoodie + 5, "{ran:#}");
    assert_eq!(store_stock(&store, MUG), mug + 5, "{ran:#}");
    end_of_day(&store, &install, 0);
}

/// A store order of mugs as the test knows it.
struct Placed {
    id: u64,
    line: u64,
    quantity: i64,
    status: &'static str,
    /// Units refunded without being put back in the store's count.
    kept_by_store: i64,
    shipped: bool,
}

#[test]
fn after_any_mix_of_store_orders_and_warehouse_work_end_of_day_leaves_the_invariant() {
    let seed = support::env_number("STOCK_SEED", 7);
    let steps = support::env_number("STOCK_STEPS", 14);
    let mut rng = support::Rng::new(seed);
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    end_of_day(&store, &install, 0);
    let mut orders: Vec<Placed> = Vec::new();
    // What the store holds for orders the warehouse does not ship.
    let mut held = 0;
    for step in 0..steps {
        let open = |status: &str, orders: &[Placed]| -> Vec<usize> {
            (0..orders.len())
                .filter(|&i| orders[i].status == status && !orders[i].shipped)
                .collect()
        };
        let did = match rng.below(8) {
            0 | 1 => {
                let status = if rng.below(2) == 0 {
                    "on-hold"
                } else {
                    "processing"
                };
                let quantity = rng.between(1, 3) as i64;
                let order = store.ok(
                    "POST",
                    "/wc/v3/orders",
                    Some(json!({"status": status, "payment_method": "bacs",
                                "line_items": [{"product_id": MUG, "quantity": quantity}]})),
                );
                if status == "on-hold" {
                    held += quantity;
                }
                orders.push(Placed {
                    id: order["id"].as_u64().unwrap(),
                    line: order["line_items"][0]["id"].as_u64().unwrap(),
                    quantity,
                    status,
                    kept_by_store: 0,
                    shipped: false,
                });
                format!("placed {status} x{quantity}")
            }
            2 => match open("on-hold", &orders).first() {
                Some(&i) => {
                    let (status, o) = if rng.below(2) == 0 {
                        ("processing", &mut orders[i])
                    } else {
                        ("cancelled", &mut orders[i])
                    };
                    set_status(&store, o.id, status);
                    held -= o.quantity;
                    o.status = status;
                    format!("{status} on-hold order {}", o.id)
                }
                None => "nothing on hold".into(),
            },
            3 => match open("processing", &orders)
                .into_iter()
                .find(|&i| orders[i].quantity - orders[i].kept_by_store >= 2)
            {
                Some(i) => {
                    let o = &mut orders[i];
                    let restock = rng.below(2) == 0;
                    store.ok(
                        "POST",
                        &format!("/wc/v3/orders/{}/refunds", o.id),
                        Some(json!({"api_refund": false, "api_restock": restock,
                                    "line_items": [{"id": o.line, "quantity": 1, "refund_total": "0.50"}]})),
                    );
                    if !restock {
                        held += 1;
                        o.kept_by_store += 1;
                    }
                    o.quantity -= 1;
                    format!("refunded 1 of order {} (restock {restock})", o.id)
                }
                None => "nothing to refund".into(),
            },
            4 => match open("processing", &orders).first() {
                Some(&i) => {
                    let o = &mut orders[i];
                    set_status(&store, o.id, "cancelled");
                    held -= o.kept_by_store;
                    o.status = "cancelled";
                    format!("cancelled order {}", o.id)
                }
                None => "nothing to cancel".into(),
            },
            5 => {
                let n = rng.between(1, 6);
                install.run(&["receive", "MUG", &n.to_string()]).success();
                format!("received {n}")
            }
            6 => {
                install
                    .run(&["adjust", "MUG", "-1", "--reason", "damaged"])
                    .success();
                "adjusted -1".into()
            }
            _ => match open("processing", &orders).first() {
                Some(&i) => {
                    // End of Day imported it; the warehouse picks and ships it.
                    let o = &mut orders[i];
                    let number = o.id.to_string();
                    install
                        .run(&["pick", &number, "1", &o.quantity.to_string()])
                        .success();
                    install
                        .run(&[
                            "ship",
                            &number,
                            "--carrier",
                            "UPS",
                            "--tracking",
                            &format!("1Z{number}"),
                        ])
                        .success();
                    o.shipped = true;
                    format!("shipped order {number}")
                }
                None => "nothing to ship".into(),
            },
        };
        let ran = run_record(&install, "end-of-day", &[]);
        assert_eq!(
            ran["outcome"], "succeeded",
            "step {step} ({did}), seed {seed}: {ran:#}"
        );
        let (_, available) = available(&install, "MUG");
        assert_eq!(
            store_stock(&store, MUG),
            available - held,
            "step {step} ({did}), seed {seed}: the store's count is the warehouse's less its holds: {ran:#}"
        );
    }
    end_of_day(&store, &install, 0);
}
