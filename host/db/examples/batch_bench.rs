//! Prints throughput figures for the DB handle's heavy paths:
//!
//! - import batches totalling 100,000 items, then 20,000 orders (3 lines each);
//! - imports of 500 new items with opening stock, record by record (what
//!   the WooCommerce plugin's product import sends), 100,000 items in all;
//! - 100,000 warehouse transactions (receipts), each its own transaction;
//! - reading those 100,000 events back from the change feed.
//!
//! Run with `cargo run --release -p intellitrack-db --example batch_bench`.
//! The database is a fresh file in a temporary folder.

use std::time::Instant;

use intellitrack_db::Db;
use plugin_api::warehouse::{
    Import, ImportBatch, ItemKind, ItemRef, ItemUpsert, OpeningStock, OrderLine, OrderUpsert,
    StateChange,
};

const ITEMS: usize = 100_000;
const ORDERS: usize = 20_000;
const LINES_PER_ORDER: usize = 3;
const BATCH: usize = 1_000;
const IMPORT_CHUNK: usize = 500;
const EVENTS: usize = 100_000;
const PAGE: u32 = 1_000;
const SOURCE: &str = "bench";

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = Db::open(&dir.path().join("it.db")).expect("the database opens");
    let now = 1_700_000_000_000;

    let started = Instant::now();
    for (n, chunk) in (0..ITEMS).collect::<Vec<_>>().chunks(BATCH).enumerate() {
        let batch = ImportBatch {
            item_upserts: chunk.iter().map(|&i| item(i)).collect(),
            state_changes: vec![cursor(n)],
            ..ImportBatch::default()
        };
        db.apply_batch(SOURCE, &batch, now)
            .expect("an item batch applies");
    }
    let items_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for (n, chunk) in (0..ORDERS).collect::<Vec<_>>().chunks(BATCH).enumerate() {
        let batch = ImportBatch {
            order_upserts: chunk.iter().map(|&o| order(o)).collect(),
            state_changes: vec![cursor(n)],
            ..ImportBatch::default()
        };
        db.apply_batch(SOURCE, &batch, now)
            .expect("an order batch applies");
    }
    let orders_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for i in 0..EVENTS {
        db.receive(&format!("SKU-{:06}", i % ITEMS), 1, None, "bench", now)
            .expect("a receipt");
    }
    let receipts_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let (mut after, mut read) = (0, 0);
    loop {
        let page = db.changes_after(SOURCE, after, PAGE).expect("a page");
        if page.events.is_empty() {
            break;
        }
        read += page.events.len();
        after = page.cursor;
    }
    let feed_secs = started.elapsed().as_secs_f64();
    assert_eq!(read, EVENTS);

    let started = Instant::now();
    for chunk in (0..ITEMS).collect::<Vec<_>>().chunks(IMPORT_CHUNK) {
        let mut import = Import {
            record_by_record: true,
            opening_stock: chunk.iter().map(|&i| opening(i)).collect(),
            ..Import::default()
        };
        import.batch.item_upserts = chunk.iter().map(|&i| opened_item(i)).collect();
        db.apply_import(SOURCE, &import, now)
            .expect("an item import applies");
    }
    let opened_secs = started.elapsed().as_secs_f64();

    println!("import batches of {BATCH} records, one transaction each, with a cursor change:");
    println!(
        "  {ITEMS} items:  {:>7.2} s  {:>9.0} items/s",
        items_secs,
        ITEMS as f64 / items_secs
    );
    println!(
        "  {ORDERS} orders ({LINES_PER_ORDER} lines each): {:>7.2} s  {:>9.0} orders/s",
        orders_secs,
        ORDERS as f64 / orders_secs
    );
    println!(
        "imports of {IMPORT_CHUNK} new items with opening stock, record by record: {ITEMS} in {:.2} s, {:.1} us an item",
        opened_secs,
        opened_secs * 1e6 / ITEMS as f64
    );
    println!(
        "warehouse receipts, one transaction each: {EVENTS} in {:.2} s, {:.0}/s",
        receipts_secs,
        EVENTS as f64 / receipts_secs
    );
    println!(
        "change feed, pages of {PAGE}: {read} events in {:.2} s, {:.0} events/s",
        feed_secs,
        read as f64 / feed_secs
    );
    println!("peak RSS: {}", peak_rss());
}

fn item(i: usize) -> ItemUpsert {
    ItemUpsert {
        external_id: i.to_string(),
        number: format!("SKU-{i:06}"),
        description: format!("Benchmark item {i}"),
        unit_cost: Some(format!("{}.{:02}", i % 100, i % 97)),
        unit_of_measure: None,
        kind: ItemKind::Simple,
        parent: None,
    }
}

/// An item of the second catalogue, opened from a store count.
fn opened_item(i: usize) -> ItemUpsert {
    ItemUpsert {
        external_id: format!("open-{i}"),
        number: format!("OPEN-{i:06}"),
        ..item(i)
    }
}

fn opening(i: usize) -> OpeningStock {
    OpeningStock {
        item_external_id: format!("open-{i}"),
        quantity: (i % 50) as i64,
        counted_at_ms: 1_700_000_000_000,
        location: None,
        reason: "opening balance from WooCommerce".into(),
    }
}

fn order(o: usize) -> OrderUpsert {
    OrderUpsert {
        external_id: o.to_string(),
        number: format!("BENCH-{o:06}"),
        customer: format!("Customer {o}"),
        ship_to: Default::default(),
        shipping_method: "flat_rate".into(),
        customer_note: String::new(),
        ordered_at_ms: Some(1_700_000_000_000),
        lines: (0..LINES_PER_ORDER)
            .map(|l| OrderLine {
                external_line_id: format!("{o}-{l}"),
                item: ItemRef::ExternalId(((o * 7 + l * 13) % ITEMS).to_string()),
                quantity: 1 + l as i64,
                not_shipped: false,
            })
            .collect(),
    }
}

fn cursor(n: usize) -> StateChange {
    StateChange {
        key: "cursor".into(),
        value: Some(serde_json::json!(n)),
    }
}

/// The process's peak resident set size, from /proc/self/status.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".into())
}
