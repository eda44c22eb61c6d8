//! Refunds, end to end: the real `plugin-host` with the real plugin library
//! against `woo-sandbox` as its own process (seed
//! `tests/e2e/seeds/import.json`), refunds made through the store's REST
//! API as a shop admin makes them. The warehouse never ships a refunded
//! unit, and End of Day writes nothing because of a refund alone.

mod support;

use e2e_tests::{Install, SandboxStore};
use serde_json::json;
use support::{imported_seed_store, run_record};

const MUG: u64 = 101;

/// End of Day writes nothing: only the connection check's empty batch.
fn end_of_day_writes_nothing(store: &SandboxStore, install: &Install) {
    store.control("DELETE", "stats");
    let ran = run_record(install, "end-of-day", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(ran["updated"], 0, "{ran:#}");
    let stats = store.stats();
    assert_eq!(stats["POST /wc/v3/products/batch"], 1, "{stats:#}");
}

/// A processing order for `quantity` mugs; returns (order id, line id).
fn order_mugs(store: &SandboxStore, quantity: i64) -> (u64, u64) {
    let order = store.ok(
        "POST",
        "/wc/v3/orders",
        Some(json!({"status": "processing", "payment_method": "bacs",
                    "line_items": [{"product_id": MUG, "quantity": quantity}]})),
    );
    (
        order["id"].as_u64().unwrap(),
        order["line_items"][0]["id"].as_u64().unwrap(),
    )
}

fn refund(store: &SandboxStore, order: u64, line: u64, quantity: i64, restock: bool) {
    refund_total(store, order, line, quantity, restock, "1.00");
}

fn refund_total(
    store: &SandboxStore,
    order: u64,
    line: u64,
    quantity: i64,
    restock: bool,
    total: &str,
) {
    store.ok(
        "POST",
        &format!("/wc/v3/orders/{order}/refunds"),
        Some(
            json!({"api_refund": false, "api_restock": restock, "reason": "changed mind",
                    "line_items": [{"id": line, "quantity": quantity, "refund_total": total}]}),
        ),
    );
}

fn warehouse_line(install: &Install, order: u64) -> (i64, i64, bool) {
    let o = install.json(&["order", &order.to_string(), "--json"]);
    let l = &o["lines"][0];
    (
        l["ordered"].as_i64().unwrap(),
        l["refunded"].as_i64().unwrap(),
        l["not_shipped"].as_bool().unwrap(),
    )
}

#[test]
fn a_refund_before_the_import_ships_only_what_is_left_and_is_read_only_where_there_is_one() {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    let (refunded, line) = order_mugs(&store, 2);
    order_mugs(&store, 1);
    refund(&store, refunded, line, 1, true);
    store.control("DELETE", "stats");
    let ran = run_record(&install, "import-orders", &[]);
    assert_eq!(ran["created"], 2, "{ran:#}");
    let stats = store.stats();
    assert_eq!(stats["GET /wc/v3/refunds"], 1, "{stats:#}");
    assert!(
        stats.get("GET /wc/v3/orders/{id}/refunds").is_none(),
        "{stats:#}"
    );
    assert_eq!(warehouse_line(&install, refunded), (1, 1, false));
    let text = install
        .run(&["order", &refunded.to_string()])
        .success()
        .stdout();
    assert!(text.contains("REFUNDED"), "{text}");
    end_of_day_writes_nothing(&store, &install);

    // The one unit left ships: the order is complete, the refunded unit
    // counting as done.
    let number = refunded.to_string();
    install.run(&["pick", &number, "1", "1"]).success();
    install
        .run(&[
            "ship",
            &number,
            "--carrier",
            "UPS",
            "--tracking",
            "1Z999AA10123456784",
        ])
        .success();
    let exported = run_record(&install, "export-fulfillment", &[]);
    assert_eq!(exported["outcome"], "succeeded", "{exported:#}");
    let status = store.ok("GET", &format!("/wc/v3/orders/{refunded}"), None)["status"].clone();
    assert_eq!(status, "completed", "{exported:#}");
    end_of_day_writes_nothing(&store, &install);
}

#[test]
fn a_refund_after_the_import_shrinks_the_line_with_or_without_restock() {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    let (restocked, restocked_line) = order_mugs(&store, 2);
    let (kept, kept_line) = order_mugs(&store, 3);
    let (whole_line_order, whole_line) = order_mugs(&store, 1);
    let (ended, ended_line) = order_mugs(&store, 1);
    run_record(&install, "import-orders", &[]);
    end_of_day_writes_nothing(&store, &install);

    refund(&store, restocked, restocked_line, 1, true);
    refund(&store, kept, kept_line, 2, false);
    refund(&store, whole_line_order, whole_line, 1, false);
    let total = store.ok("GET", &format!("/wc/v3/orders/{ended}"), None)["total"]
        .as_str()
        .unwrap()
        .to_owned();
    refund_total(&store, ended, ended_line, 1, true, &total);
    let ran = run_record(&install, "import-orders", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(warehouse_line(&install, restocked), (1, 1, false));
    assert_eq!(warehouse_line(&install, kept), (1, 2, false));
    // A line refunded whole is kept, not to ship, with the reason.
    assert_eq!(warehouse_line(&install, whole_line_order), (1, 1, true));
    let text = install
        .run(&["order", &whole_line_order.to_string()])
        .success()
        .stdout();
    assert!(text.contains("refunded: 1 of 1"), "{text}");
    // Refunded in full: the order ends in the store (refunded) and is
    // cancelled in the warehouse, as a cancellation is.
    let ended = install.json(&["order", &ended.to_string(), "--json"]);
    assert_eq!(ended["status"], "cancelled", "{ended:#}");
    // The units refunded without restock stay out of the store's count:
    // End of Day holds them, and writes nothing.
    end_of_day_writes_nothing(&store, &install);
}

#[test]
fn a_refund_after_picking_keeps_the_order_as_an_exception() {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    let (order, line) = order_mugs(&store, 2);
    run_record(&install, "import-orders", &[]);
    install
        .run(&["pick", &order.to_string(), "1", "2"])
        .success();
    refund(&store, order, line, 1, false);
    let ran = run_record(&install, "import-orders", &[]);
    let issue = ran["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["record"].as_str().unwrap().contains(&order.to_string()))
        .unwrap_or_else(|| panic!("the exception is reported: {ran:#}"));
    assert!(
        issue["reason"].as_str().unwrap().contains("exception"),
        "{issue:#}"
    );
    let o = install.json(&["order", &order.to_string(), "--json"]);
    assert_eq!(o["status"], "exception", "{o:#}");
    assert_eq!(o["lines"][0]["ordered"], 2, "never changed silently");
    end_of_day_writes_nothing(&store, &install);
}

#[test]
fn stores_before_9_0_read_refunds_order_by_order() {
    let (store, install, _) = imported_seed_store(&["--wc-version", "8.9.3"], &[], |_| {});
    let (order, line) = order_mugs(&store, 2);
    refund(&store, order, line, 1, true);
    store.control("DELETE", "stats");
    run_record(&install, "import-orders", &[]);
    let stats = store.stats();
    assert_eq!(stats["GET /wc/v3/orders/{id}/refunds"], 1, "{stats:#}");
    assert_eq!(warehouse_line(&install, order), (1, 1, false));
}

/// A run that ends after writing the orders but before what the store
/// said of them (here the refunded units, refused by a trigger put on the
/// warehouse's file, as a SIGKILL at that point would leave them) does not
/// move the watermark: the next run reads the order again and notes its
/// refund.
#[test]
fn an_import_ended_before_the_refund_notes_reads_the_order_again() {
    let (store, install, _) = imported_seed_store(&[], &[], |_| {});
    let (order, line) = order_mugs(&store, 3);
    refund(&store, order, line, 1, false);
    // The import's listing begins two minutes after the refund: a
    // watermark the failed run moved would pass the order, re-read
    // margin (a minute) included.
    store.control_with("PUT", "clock", Some(json!({"advance_secs": 120})));
    let conn = rusqlite::Connection::open(install.data_dir.join("intellitrack.db")).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refund_notes_refused BEFORE UPDATE OF refunded ON order_lines
         BEGIN SELECT RAISE(ABORT, 'refund notes refused'); END;",
    )
    .unwrap();
    let ended = run_record(&install, "import-orders", &[]);
    assert_eq!(ended["outcome"], "failed", "{ended:#}");
    assert_eq!(warehouse_line(&install, order), (2, 0, false));

    conn.execute_batch("DROP TRIGGER refund_notes_refused")
        .unwrap();
    let ran = run_record(&install, "import-orders", &[]);
    assert_eq!(ran["outcome"], "succeeded", "{ran:#}");
    assert_eq!(warehouse_line(&install, order), (2, 1, false));
}
