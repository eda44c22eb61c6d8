//! The soak's invariants, each returning what broke (empty: held):
//!
//! - every store order in the import statuses is in the warehouse exactly
//!   once, or refused by the last order import with its reason, and the
//!   warehouse's lines are the store's less what the store refunded
//!   ([`orders_imported`], checked right after the day's first sync);
//! - every pick, shipment and warehouse cancellation reached its store
//!   exactly once, in order per order ([`deliveries`]);
//! - after End of Day the store's counts are the stock truth: End of Day
//!   itself, run again as a dry run, finds nothing to write
//!   ([`stock_truth`]: the plugin's own rules, `mapping/holds.rs`, as
//!   `tests/e2e/tests/stock_truth.rs` holds them);
//! - no run left running, no parked event without its reason
//!   ([`runs_and_parked`]); every item a store still sells is active
//!   ([`sold_items_active`]);
//! - End of Day ran once a local day and every sync run started inside the
//!   Sync Time Range, summer time changes included ([`schedule_kept`]).
//!
//! The warehouse is read through a read-only SQLite connection beside
//! `serve`; the stores through their REST API.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use reqwest::Method;
use rusqlite::{Connection, OpenFlags, params};
use serde_json::Value;
use sync_schedule::TimeRange;

use crate::IMPORT_STATUSES;
use crate::sandbox::Sandbox;

/// The warehouse database, read-only.
pub fn open(db: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

/// Every order of `store` in the import statuses has one warehouse order
/// of `instance` with its id, unless the instance's last successful order
/// import refused it with its reason (an order the warehouse cannot take
/// as it is: a line of a product without a SKU; tried again every run);
/// that order's lines are the store's less its refunds
/// ([`lines_as_refunded`]).
pub fn orders_imported(
    conn: &Connection,
    store: &Sandbox,
    instance: &str,
) -> anyhow::Result<Vec<String>> {
    let mut refused = conn.prepare_cached(
        "SELECT record FROM run_issues WHERE outcome = 'failed' AND run = (
             SELECT MAX(id) FROM runs WHERE plugin = ?1 AND job = 'import-orders'
             AND outcome = 'succeeded')",
    )?;
    let refused: Vec<String> = refused
        .query_map(params![instance], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let statuses = IMPORT_STATUSES.join(",");
    let mut broken = Vec::new();
    let mut count =
        conn.prepare_cached("SELECT COUNT(*) FROM orders WHERE source = ?1 AND external_id = ?2")?;
    for order in store.list(
        "wc/v3/orders",
        &format!("status={statuses}&_fields=id,number,line_items,refunds"),
    )? {
        let id = order["id"].as_u64().context("order id")?.to_string();
        let number = order["number"].as_str().unwrap_or_default();
        let found: i64 = count.query_row(params![instance, id], |r| r.get(0))?;
        let explained = found == 0 && refused.contains(&format!("order {number}"));
        if found != 1 && !explained {
            broken.push(format!(
                "{instance}: store order {id} is in the warehouse {found} times"
            ));
        }
        if found == 1 {
            broken.extend(lines_as_refunded(conn, store, instance, &order)?);
        }
    }
    Ok(broken)
}

/// A warehouse line as [`lines_as_refunded`] compares it.
struct WarehouseLine {
    ordered: i64,
    refunded: i64,
    not_shipped: bool,
}

/// The warehouse's lines of store `order` (one it holds) are the store's
/// less what the store refunded (`GET /orders/{id}/refunds`, read only for
/// an order with refunds): a line refunded in part is to ship the rest, a
/// line refunded whole stays on the order not to ship, and each notes its
/// units refunded. An order the warehouse shipped, cancelled or made an
/// exception is not compared: a refund after picking makes an order an
/// exception (never a silent change), one after shipping changes nothing.
fn lines_as_refunded(
    conn: &Connection,
    store: &Sandbox,
    instance: &str,
    order: &Value,
) -> anyhow::Result<Vec<String>> {
    let id = order["id"].as_u64().context("order id")?;
    let mut stmt = conn.prepare_cached(
        "SELECT o.status, l.external_line_id, l.ordered, l.refunded, l.not_shipped
         FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.source = ?1 AND o.external_id = ?2",
    )?;
    let mut status = String::new();
    let mut lines = BTreeMap::new();
    for row in stmt.query_map(params![instance, id.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            WarehouseLine {
                ordered: r.get(2)?,
                refunded: r.get(3)?,
                not_shipped: r.get(4)?,
            },
        ))
    })? {
        let (of_order, external_line, line) = row?;
        status = of_order;
        lines.insert(external_line.unwrap_or_default(), line);
    }
    if matches!(status.as_str(), "shipped" | "cancelled" | "exception") {
        return Ok(Vec::new());
    }
    let refunded = if order["refunds"].as_array().is_some_and(|r| !r.is_empty()) {
        let refunds = store.rest(Method::GET, &format!("wc/v3/orders/{id}/refunds"), None)?;
        super::actions::refunded_by_line(&refunds)
    } else {
        Default::default()
    };
    let mut broken = Vec::new();
    let store_lines = order["line_items"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if store_lines.len() != lines.len() {
        broken.push(format!(
            "{instance}: store order {id} has {} lines, the warehouse's {}",
            store_lines.len(),
            lines.len()
        ));
    }
    for line in store_lines {
        let line_id = line["id"].as_u64().context("line id")?;
        let quantity = line["quantity"].as_i64().context("line quantity")?;
        let units = refunded.get(&line_id).map_or(0, |r| r.0);
        let Some(kept) = lines.get(&line_id.to_string()) else {
            broken.push(format!(
                "{instance}: store order {id}'s line {line_id} is not in the warehouse"
            ));
            continue;
        };
        // A line not to ship keeps its quantity; one to ship is what is
        // left, and a line refunded whole is not to ship.
        let wanted = if kept.not_shipped {
            quantity
        } else {
            quantity - units
        };
        if kept.ordered != wanted
            || kept.refunded != units
            || (units >= quantity && !kept.not_shipped)
        {
            broken.push(format!(
                "{instance}: store order {id}'s line {line_id} ({quantity} ordered, {units} refunded) \
                 is in the warehouse as {} to ship, {} refunded{}",
                kept.ordered,
                kept.refunded,
                if kept.not_shipped { ", not to ship" } else { "" }
            ));
        }
    }
    Ok(broken)
}

/// A warehouse event the store must get.
struct Event {
    seq: i64,
    kind: String,
    tracking: Option<String>,
    parked: bool,
}

/// The picks, shipments and cancellations of `instance`'s orders with a
/// sequence number above `after`: none reached the store twice; those
/// recorded before the start of the instance's last successful export
/// (and not parked) reached it once; the marked note lines of an order
/// stand in the order of its events. Returns the breaks and the highest
/// sequence number checked as delivered (the next check's `after`).
pub fn deliveries(
    conn: &Connection,
    store: &Sandbox,
    instance: &str,
    after: i64,
) -> anyhow::Result<(Vec<String>, i64)> {
    let exported: Option<i64> = conn
        .query_row(
            "SELECT MAX(started_at) FROM runs WHERE plugin = ?1 AND job = 'export-fulfillment'
             AND outcome = 'succeeded'",
            params![instance],
            |r| r.get(0),
        )
        .unwrap_or(None);
    let Some(exported) = exported else {
        return Ok((Vec::new(), after));
    };
    let mut stmt = conn.prepare_cached(
        "SELECT f.seq, f.kind, o.external_id, f.payload,
                EXISTS (SELECT 1 FROM parked_changes p WHERE p.plugin = ?1 AND p.seq = f.seq)
         FROM change_feed f JOIN orders o ON o.id = f.order_id
         WHERE o.source = ?1 AND f.seq > ?2 AND f.at < ?3
           AND f.kind IN ('pick-recorded', 'shipment-recorded', 'order-cancelled')
         ORDER BY f.seq",
    )?;
    let mut by_order: BTreeMap<u64, Vec<Event>> = BTreeMap::new();
    let rows = stmt.query_map(params![instance, after, exported], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    let mut checked = after;
    for row in rows {
        let (seq, kind, external, payload, parked) = row?;
        let Some(order) = external.and_then(|e| e.parse().ok()) else {
            continue;
        };
        let payload: Value = serde_json::from_str(&payload)?;
        let tracking = payload["shipment"]["tracking"].as_str().map(str::to_owned);
        by_order.entry(order).or_default().push(Event {
            seq,
            kind,
            tracking,
            parked,
        });
        checked = checked.max(seq);
    }
    let mut broken = Vec::new();
    for (order, events) in &by_order {
        broken.extend(order_deliveries(store, instance, *order, events)?);
    }
    Ok((broken, checked))
}

fn order_deliveries(
    store: &Sandbox,
    instance: &str,
    order: u64,
    events: &[Event],
) -> anyhow::Result<Vec<String>> {
    let mut notes = store.list(&format!("wc/v3/orders/{order}/notes"), "_fields=id,note")?;
    notes.sort_by_key(|n| n["id"].as_u64());
    let text: Vec<&str> = notes.iter().filter_map(|n| n["note"].as_str()).collect();
    let trackings: Vec<String> = store
        .rest(
            Method::GET,
            &format!("wc-shipment-tracking/v3/orders/{order}/shipment-trackings"),
            None,
        )?
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|e| e["tracking_number"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut broken = Vec::new();
    let mut last_mark_at = None;
    for event in events {
        let mark = format!("[IntelliTrack event {}]", event.seq);
        let found = match &event.tracking {
            Some(number) if event.kind == "shipment-recorded" => {
                trackings.iter().filter(|t| *t == number).count()
            }
            _ => text.iter().map(|t| t.matches(&mark).count()).sum(),
        };
        let wanted = if event.parked { 0..=1 } else { 1..=1 };
        if !wanted.contains(&found) {
            broken.push(format!(
                "{instance}: event {} ({}) reached store order {order} {found} times{}",
                event.seq,
                event.kind,
                if event.parked { " (parked)" } else { "" }
            ));
        }
        if let Some(at) = text.iter().position(|t| t.contains(&mark)) {
            if last_mark_at.is_some_and(|last| at < last) {
                broken.push(format!(
                    "{instance}: store order {order}: event {} was noted before an earlier one",
                    event.seq
                ));
            }
            last_mark_at = Some(at);
        }
    }
    Ok(broken)
}

/// End of Day, run again as a dry run right after `serve`'s, would write
/// nothing: its summary says `dry run: 0 of N items differ`.
pub fn stock_truth(instance: &str, dry_run: &Value) -> Vec<String> {
    let summary = dry_run["summary"].as_str().unwrap_or_default();
    if dry_run["outcome"] == "succeeded" && summary.starts_with("dry run: 0 of ") {
        return Vec::new();
    }
    vec![format!(
        "{instance}: after End of Day the store's counts are not the stock truth: {} {summary}\n{:#}",
        dry_run["outcome"], dry_run["tables"]
    )]
}

/// No run is recorded running while `serve` is settled; every parked event
/// has its reason.
pub fn runs_and_parked(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let mut broken = Vec::new();
    let mut running = conn
        .prepare_cached("SELECT id, plugin, job FROM runs WHERE outcome = 'running' ORDER BY id")?;
    for row in running.query_map([], |r| {
        Ok(format!(
            "run {} ({} {}) left running",
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?
        ))
    })? {
        broken.push(row?);
    }
    let unexplained: i64 = conn.query_row(
        "SELECT COUNT(*) FROM parked_changes WHERE TRIM(reason) = ''",
        [],
        |r| r.get(0),
    )?;
    if unexplained > 0 {
        broken.push(format!("{unexplained} parked events without a reason"));
    }
    Ok(broken)
}

/// Every item a store still sells (its reference not gone) is active: a
/// store that drafts or deletes a product both stores sell lets go of its
/// own reference only, and the other store's End of Day keeps counting
/// the item. A database from before per-store references (an earlier
/// host's, before `--upgrade-from` upgrades it) has nothing to check.
pub fn sold_items_active(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let per_store: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('item_refs') WHERE name = 'gone_at')",
        [],
        |r| r.get(0),
    )?;
    if !per_store {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT i.number, r.source FROM items i JOIN item_refs r ON r.item = i.id
         WHERE i.active = 0 AND r.gone_at IS NULL ORDER BY i.number, r.source",
    )?;
    let broken = stmt
        .query_map([], |r| {
            Ok(format!(
                "item {} is inactive while {} still sells it",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(broken)
}

/// On local `date` (a whole day of the simulation), `instance` ran End of
/// Day once (runs the service's end interrupted are not counted: their
/// catch-up is the day's run) and every scheduled sync run started inside
/// the Sync Time Range. Runs by hand and runs the change feed woke (a
/// push answering the other store's import, whenever it lands) follow no
/// schedule and are left out.
pub fn schedule_kept(
    conn: &Connection,
    instance: &str,
    date: Date,
    zone: &TimeZone,
    range: &str,
) -> anyhow::Result<Vec<String>> {
    let range: TimeRange = range.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let from = date
        .to_zoned_datetime(zone.clone())?
        .timestamp()
        .as_millisecond();
    let to = date
        .tomorrow()?
        .to_zoned_datetime(zone.clone())?
        .timestamp()
        .as_millisecond();
    let mut stmt = conn.prepare_cached(
        "SELECT job, started_at, outcome FROM runs WHERE plugin = ?1
         AND trigger NOT IN ('by-hand', 'feed')
         AND started_at >= ?2 AND started_at < ?3 ORDER BY id",
    )?;
    let runs = stmt
        .query_map(params![instance, from, to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut broken = Vec::new();
    let end_of_day = runs
        .iter()
        .filter(|(job, _, outcome)| job == "end-of-day" && outcome != "interrupted")
        .count();
    if end_of_day != 1 {
        broken.push(format!(
            "{instance}: End of Day ran {end_of_day} times on {date}"
        ));
    }
    for (job, started, _) in runs.iter().filter(|(job, ..)| job != "end-of-day") {
        let at = Timestamp::from_millisecond(*started)?.to_zoned_datetime(zone.clone());
        if !range.contains(at.time()) {
            broken.push(format!(
                "{instance}: {job} started at {at} outside the Sync Time Range {range}"
            ));
        }
    }
    Ok(broken)
}

/// Rows in each table the soak follows, by table name.
pub const TABLES: [&str; 9] = [
    "runs",
    "run_issues",
    "run_tables",
    "change_feed",
    "parked_changes",
    "audit_log",
    "orders",
    "order_lines",
    "inventory_transactions",
];

/// The warehouse's own records (IntelliTrack's items, stock, orders and
/// their fulfilment): kept as long as the warehouse keeps them, so they
/// grow with the orders taken; no retention setting of the host's prunes
/// them. Every other table is the host's (runs and their issues, the
/// change feed, the audit, plugins and users).
const WAREHOUSE_TABLES: [&str; 11] = [
    "sites",
    "locations",
    "items",
    "item_refs",
    "on_hand",
    "inventory_transactions",
    "orders",
    "order_lines",
    "picks",
    "shipments",
    "shipment_lines",
];

/// The bytes the host's own records take and the warehouse's (tables with
/// their indexes, SQLite's `dbstat`), in that order. Free pages, waiting
/// for reuse, are neither's.
pub fn bytes_by_owner(conn: &Connection) -> anyhow::Result<(u64, u64)> {
    let mut stmt = conn.prepare(
        "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat s
         JOIN sqlite_schema m ON m.name = s.name GROUP BY m.tbl_name",
    )?;
    let (mut host, mut warehouse) = (0, 0);
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (table, bytes) = row?;
        let bytes = u64::try_from(bytes)?;
        if WAREHOUSE_TABLES.contains(&table.as_str()) {
            warehouse += bytes;
        } else {
            host += bytes;
        }
    }
    Ok((host, warehouse))
}

/// Rows of each of [`TABLES`].
pub fn rows(conn: &Connection) -> anyhow::Result<Vec<u64>> {
    TABLES
        .iter()
        .map(|t| {
            let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?;
            Ok(u64::try_from(n)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_stock_truth_holds_only_when_end_of_day_would_write_nothing() {
        let clean = json!({"outcome": "succeeded", "summary": "dry run: 0 of 161 items differ; nothing was written"});
        assert!(stock_truth("woocommerce", &clean).is_empty());
        let drift = json!({"outcome": "succeeded", "summary": "dry run: 3 of 161 items differ; nothing was written", "tables": []});
        assert_eq!(stock_truth("woocommerce", &drift).len(), 1);
        let failed = json!({"outcome": "failed", "summary": ""});
        assert_eq!(stock_truth("woocommerce", &failed).len(), 1);
    }

    /// Runs on the day summer time starts in Berlin (31 March 2027 is
    /// after it; 28 March is the day): 07:00 local is 05:00 UTC then.
    #[test]
    fn the_schedule_is_judged_in_local_time_across_the_summer_time_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("intellitrack.db");
        drop(intellitrack_db::Db::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let insert = |job: &str, trigger: &str, at: &str, outcome: &str| {
            let ms = at.parse::<Timestamp>().unwrap().as_millisecond();
            conn.execute(
                "INSERT INTO runs (plugin, job, trigger, pid, started_at, ended_at, outcome)
                 VALUES ('woocommerce', ?1, ?2, 1, ?3, ?3, ?4)",
                params![job, trigger, ms, outcome],
            )
            .unwrap();
        };
        let date: Date = "2027-03-28".parse().unwrap();
        insert(
            "import-orders",
            "schedule",
            "2027-03-28T05:00:00Z",
            "succeeded",
        );
        insert(
            "end-of-day",
            "schedule",
            "2027-03-28T19:00:00Z",
            "interrupted",
        );
        insert(
            "end-of-day",
            "catch-up",
            "2027-03-28T19:00:05Z",
            "succeeded",
        );
        insert("end-of-day", "by-hand", "2027-03-28T19:01:00Z", "succeeded");
        let conn = open(&path).unwrap();
        let kept = schedule_kept(&conn, "woocommerce", date, &zone, "07:00-20:00").unwrap();
        assert_eq!(kept, Vec::<String>::new());

        // 04:30 UTC is 06:30 local after the change: outside the range; a
        // second End of Day the same local day is one too many.
        let conn = Connection::open(&path).unwrap();
        for (job, at) in [
            ("push-stock", "2027-03-28T04:30:00Z"),
            ("end-of-day", "2027-03-28T21:30:00Z"),
        ] {
            let ms = at.parse::<Timestamp>().unwrap().as_millisecond();
            conn.execute(
                "INSERT INTO runs (plugin, job, trigger, pid, started_at, ended_at, outcome)
                 VALUES ('woocommerce', ?1, 'schedule', 1, ?2, ?2, 'succeeded')",
                params![job, ms],
            )
            .unwrap();
        }
        let conn = open(&path).unwrap();
        let broken = schedule_kept(&conn, "woocommerce", date, &zone, "07:00-20:00").unwrap();
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(
            broken[0].contains("ran 2 times on 2027-03-28"),
            "{broken:?}"
        );
        assert!(
            broken[1].contains("push-stock started at 2027-03-28T06:30:00+02:00"),
            "{broken:?}"
        );
    }
}
