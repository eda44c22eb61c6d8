//! A plugin's import: item upserts and deactivations, order upserts and
//! cancellations, and the plugin's own state (cursor) changes, applied in
//! one transaction so that a cursor never runs ahead of the data.
//!
//! An [`Import`] (API 1.2) adds opening stock for the items it creates, the
//! store's own stock reductions (corrected once into an opening balance),
//! order lines kept without an item, and a record-by-record mode: each
//! record runs inside a savepoint, and a refused one is rolled back alone.
//!
//! An order upsert or cancellation that changes what the order allocates
//! appends one [`ORDER_ALLOCATION`] event per item it moved, in the same
//! transaction: the item's available quantity changed, which every store
//! selling the item must hear of.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use plugin_api::warehouse::{
    BatchSummary, ChangeKind, Import, ImportBatch, ImportOutcome, OpeningStock, OrderException,
    RecordKind, RefusedRecord, StoreReduction,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::change_feed::{self, ORDER_ALLOCATION, OrderAllocation};
use crate::inventory::{DEFAULT_LOCATION, Movement, require_location};
use crate::items::{self, Upserted};
use crate::orders::{self, OrderUpserted, StoreCancel};
use crate::{Db, DbError, Result, refuse, require_positive};

impl Db {
    /// Applies `source`'s batch: all of it, or (on the first refused
    /// record, named in the error) none of it.
    pub fn apply_batch(
        &self,
        source: &str,
        batch: &ImportBatch,
        now_ms: i64,
    ) -> Result<BatchSummary> {
        let extras = Extras::default();
        self.write(|tx| Ok(apply(tx, source, batch, &extras, false, now_ms)?.summary))
    }

    /// Applies `source`'s import (see [`Import`]).
    ///
    /// Record by record, it first tries the whole import in one go: a
    /// savepoint journals every page its record touches, which costs more
    /// than the record itself. Only when a record is refused is the import
    /// rolled back and applied again, each record in its own savepoint. The
    /// outcome is the same either way.
    pub fn apply_import(
        &self,
        source: &str,
        import: &Import,
        now_ms: i64,
    ) -> Result<ImportOutcome> {
        let extras = Extras::of(import);
        let apply = |record_by_record| {
            self.write(|tx| apply(tx, source, &import.batch, &extras, record_by_record, now_ms))
        };
        match apply(false) {
            Err(DbError::Refused(_)) if import.record_by_record => apply(true),
            outcome => outcome,
        }
    }
}

/// An [`Import`]'s additions to its batch, by the record they belong to.
#[derive(Default)]
struct Extras<'a> {
    /// By item external id.
    openings: HashMap<&'a str, &'a OpeningStock>,
    /// By order external id.
    reductions: HashMap<&'a str, Vec<&'a StoreReduction>>,
    /// By order external id, then external line id: the description.
    non_stock: HashMap<&'a str, HashMap<&'a str, &'a str>>,
}

impl<'a> Extras<'a> {
    fn of(import: &'a Import) -> Self {
        let mut extras = Self::default();
        for opening in &import.opening_stock {
            extras
                .openings
                .insert(opening.item_external_id.as_str(), opening);
        }
        for reduction in &import.store_reductions {
            extras
                .reductions
                .entry(reduction.order_external_id.as_str())
                .or_default()
                .push(reduction);
        }
        for line in &import.non_stock_lines {
            extras
                .non_stock
                .entry(line.order_external_id.as_str())
                .or_default()
                .insert(line.external_line_id.as_str(), line.description.as_str());
        }
        extras
    }
}

/// Runs one record: as it is (a refusal refuses the batch, naming the
/// record), or record by record inside a savepoint (a refusal rolls back
/// this record alone and is listed).
struct Records<'t> {
    tx: &'t Connection,
    record_by_record: bool,
    refused: Vec<RefusedRecord>,
    done: usize,
}

impl Records<'_> {
    fn run<T>(
        &mut self,
        kind: RecordKind,
        external_id: &str,
        what: impl FnOnce() -> String,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<Option<T>> {
        let out = if self.record_by_record {
            self.tx.execute_batch("SAVEPOINT import_record")?;
            match f(self.tx) {
                Ok(value) => {
                    self.tx.execute_batch("RELEASE import_record")?;
                    Some(value)
                }
                Err(DbError::Refused(reason)) => {
                    self.tx
                        .execute_batch("ROLLBACK TO import_record; RELEASE import_record")?;
                    self.refused.push(RefusedRecord {
                        kind,
                        external_id: external_id.to_owned(),
                        reason,
                    });
                    None
                }
                Err(other) => return Err(other),
            }
        } else {
            Some(f(self.tx).map_err(|e| at(what(), e))?)
        };
        self.done += 1;
        checkpoint(self.done)?;
        Ok(out)
    }
}

fn apply(
    tx: &Connection,
    source: &str,
    batch: &ImportBatch,
    extras: &Extras<'_>,
    record_by_record: bool,
    now_ms: i64,
) -> Result<ImportOutcome> {
    let mut outcome = ImportOutcome::default();
    let mut records = Records {
        tx,
        record_by_record,
        refused: Vec::new(),
        done: 0,
    };
    for (i, item) in batch.item_upserts.iter().enumerate() {
        let what = || format!("item upsert {} (external id {:?})", i + 1, item.external_id);
        let opening = extras.openings.get(item.external_id.as_str());
        let applied = records.run(RecordKind::ItemUpsert, &item.external_id, what, |tx| {
            let (upserted, id) = items::upsert(tx, source, item, now_ms)?;
            let opened = match (upserted, opening) {
                (Upserted::Created, Some(opening)) => {
                    open_stock(tx, source, id, opening, now_ms)?;
                    true
                }
                _ => false,
            };
            Ok((upserted, opened))
        })?;
        match applied {
            Some((Upserted::Created, opened)) => {
                outcome.summary.items_created += 1;
                outcome.opening_balances += u64::from(opened);
            }
            Some((Upserted::Updated, _)) => outcome.summary.items_updated += 1,
            Some((Upserted::Unchanged, _)) | None => {}
        }
    }
    for (i, external_id) in batch.item_deactivations.iter().enumerate() {
        let what = || format!("item deactivation {}", i + 1);
        let applied = records.run(RecordKind::ItemDeactivation, external_id, what, |tx| {
            items::deactivate(tx, source, external_id, now_ms)
        })?;
        outcome.summary.items_deactivated += u64::from(applied == Some(true));
    }
    let no_lines = HashMap::new();
    for (i, order) in batch.order_upserts.iter().enumerate() {
        let what = || {
            format!(
                "order upsert {} (external id {:?})",
                i + 1,
                order.external_id
            )
        };
        let ext = order.external_id.as_str();
        let non_stock = extras.non_stock.get(ext).unwrap_or(&no_lines);
        let reductions = extras.reductions.get(ext).map(Vec::as_slice).unwrap_or(&[]);
        let applied = records.run(RecordKind::OrderUpsert, ext, what, |tx| {
            let before = allocations(tx, source, ext)?;
            let upserted = orders::upsert(tx, source, order, non_stock, now_ms)?;
            let corrected = correct_openings(tx, source, &upserted, reductions, now_ms)?;
            record_allocations(tx, source, ext, &before, now_ms)?;
            Ok((upserted, corrected))
        })?;
        let Some((upserted, corrected)) = applied else {
            continue;
        };
        outcome.opening_corrections += corrected;
        match upserted.upserted {
            Upserted::Created => outcome.summary.orders_created += 1,
            Upserted::Updated => outcome.summary.orders_updated += 1,
            Upserted::Unchanged => {}
        }
        if let Some(reason) = upserted.exception {
            outcome.exceptions.push(OrderException {
                external_id: order.external_id.clone(),
                number: upserted.number,
                reason,
            });
        }
    }
    for (i, cancellation) in batch.order_cancellations.iter().enumerate() {
        let what = || format!("order cancellation {}", i + 1);
        let ext = cancellation.external_id.as_str();
        let applied = records.run(RecordKind::OrderCancellation, ext, what, |tx| {
            let number: Option<String> = tx
                .prepare_cached("SELECT number FROM orders WHERE source = ?1 AND external_id = ?2")?
                .query_row([source, ext], |r| r.get(0))
                .optional()?;
            let before = allocations(tx, source, ext)?;
            let cancelled = orders::cancel_from_source(tx, source, cancellation, now_ms)?;
            record_allocations(tx, source, ext, &before, now_ms)?;
            Ok((cancelled, number.unwrap_or_default()))
        })?;
        match applied {
            Some((StoreCancel::Cancelled, _)) => outcome.summary.orders_cancelled += 1,
            Some((StoreCancel::Exception(reason), number)) => {
                outcome.exceptions.push(OrderException {
                    external_id: cancellation.external_id.clone(),
                    number,
                    reason,
                });
            }
            Some((StoreCancel::AlreadyDone, _)) | None => {}
        }
    }
    for (i, change) in batch.state_changes.iter().enumerate() {
        put_state(tx, source, &change.key, change.value.as_ref())
            .map_err(|e| at(format!("state change {}", i + 1), e))?;
        outcome.summary.state_changes += 1;
        records.done += 1;
        checkpoint(records.done)?;
    }
    outcome.refused = records.refused;
    Ok(outcome)
}

/// What `source`'s order `external_id` allocates, by item (inventory's
/// rule: ordered less picked on the lines kept for shipping, while the
/// order is neither shipped nor cancelled); empty for an order not (yet)
/// there.
fn allocations(tx: &Connection, source: &str, external_id: &str) -> Result<BTreeMap<i64, i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT l.item, SUM(l.ordered - l.picked)
         FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.source = ?1 AND o.external_id = ?2 AND l.item IS NOT NULL
           AND l.not_shipped = 0 AND o.status NOT IN ('shipped', 'cancelled')
         GROUP BY l.item",
    )?;
    let rows = stmt.query_map([source, external_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Appends an [`ORDER_ALLOCATION`] event for each item whose allocation by
/// the order differs from `before` ([`allocations`] before the change).
fn record_allocations(
    tx: &Connection,
    source: &str,
    external_id: &str,
    before: &BTreeMap<i64, i64>,
    now_ms: i64,
) -> Result<()> {
    let after = allocations(tx, source, external_id)?;
    let order: Option<i64> = tx
        .prepare_cached("SELECT id FROM orders WHERE source = ?1 AND external_id = ?2")?
        .query_row([source, external_id], |r| r.get(0))
        .optional()?;
    for (item, allocated_before, allocated) in allocation_changes(before, &after) {
        let payload = OrderAllocation {
            allocated_before,
            allocated,
        };
        change_feed::append_kind(tx, ORDER_ALLOCATION, order, Some(item), &payload, now_ms)?;
    }
    Ok(())
}

/// The items whose allocation moved between `before` and `after`, with
/// both quantities (an item missing on one side allocates nothing there).
fn allocation_changes(
    before: &BTreeMap<i64, i64>,
    after: &BTreeMap<i64, i64>,
) -> Vec<(i64, i64, i64)> {
    let items: BTreeSet<i64> = before.keys().chain(after.keys()).copied().collect();
    items
        .into_iter()
        .map(|item| {
            let of = |m: &BTreeMap<i64, i64>| m.get(&item).copied().unwrap_or(0);
            (item, of(before), of(after))
        })
        .filter(|(_, was, is)| was != is)
        .collect()
}

/// Opens a new item's stock from the store's count: an adjustment with the
/// count's reason (a negative count opens at zero) and its change-feed event.
fn open_stock(
    tx: &Connection,
    source: &str,
    item: i64,
    opening: &OpeningStock,
    now_ms: i64,
) -> Result<()> {
    let location = opening.location.as_deref().unwrap_or(DEFAULT_LOCATION);
    require_location(tx, location)?;
    let owed = (-opening.quantity).max(0);
    items::mark_opened(tx, item, source, opening.counted_at_ms, location, owed)?;
    if opening.quantity > 0 {
        Movement {
            kind: "adjust",
            item,
            location,
            quantity: opening.quantity,
            reason: &opening.reason,
            order_line: None,
            user: source,
            now_ms,
        }
        .record_with_event(tx, ChangeKind::InventoryAdjusted)?;
    }
    Ok(())
}

/// Adds to on hand, once per order line, the units the store had already
/// taken out of the count an item's stock was opened from. Returns how many
/// lines were corrected.
fn correct_openings(
    tx: &Connection,
    source: &str,
    order: &OrderUpserted,
    reductions: &[&StoreReduction],
    now_ms: i64,
) -> Result<u64> {
    let mut corrected = 0;
    for reduction in reductions {
        let what = format!(
            "the store's reduction of line (external id {:?})",
            reduction.external_line_id
        );
        require_positive(reduction.quantity, &format!("{what}: the quantity"))?;
        let line: Option<(i64, i64, Option<i64>, bool)> = tx
            .prepare_cached(
                "SELECT id, line_no, item, opening_corrected FROM order_lines
                 WHERE order_id = ?1 AND external_line_id = ?2",
            )?
            .query_row(params![order.id, reduction.external_line_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((line_id, line_no, item, done)) = line else {
            return refuse(format!("{what}: the order has no such line"));
        };
        let Some(item) = item.filter(|_| !done) else {
            continue;
        };
        let Some((counted_at, location)) = items::opened_by(tx, item, source)? else {
            continue;
        };
        if reduction.reduced_at_ms >= counted_at {
            continue;
        }
        // A negative opening count already lacked these units for orders
        // the warehouse did not have: they pay that debt off first.
        let added = reduction.quantity - items::pay_owed(tx, item, reduction.quantity)?;
        if added > 0 {
            let reason = format!(
                "opening balance correction: order {} line {line_no} had already taken {} out of the store's count",
                order.number, reduction.quantity
            );
            Movement {
                kind: "adjust",
                item,
                location: &location,
                quantity: added,
                reason: &reason,
                order_line: Some(line_id),
                user: source,
                now_ms,
            }
            .record_with_event(tx, ChangeKind::InventoryAdjusted)?;
        }
        tx.prepare_cached("UPDATE order_lines SET opening_corrected = 1 WHERE id = ?1")?
            .execute([line_id])?;
        corrected += 1;
    }
    Ok(corrected)
}

/// Names the record a refusal is about.
fn at(record: String, e: DbError) -> DbError {
    match e {
        DbError::Refused(reason) => DbError::Refused(format!("{record}: {reason}")),
        other => other,
    }
}

fn put_state(
    conn: &Connection,
    plugin: &str,
    key: &str,
    value: Option<&serde_json::Value>,
) -> Result<()> {
    if key.is_empty() {
        return refuse("the state key is empty");
    }
    match value {
        Some(v) => conn
            .prepare_cached(
                "INSERT INTO plugin_state (plugin, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (plugin, key) DO UPDATE SET value = ?3",
            )?
            .execute(params![plugin, key, v.to_string()])?,
        None => conn
            .prepare_cached("DELETE FROM plugin_state WHERE plugin = ?1 AND key = ?2")?
            .execute(params![plugin, key])?,
    };
    Ok(())
}

/// Called after each applied record. Tests inject a failure here
/// ([`fault::fail_after`]) to prove that a batch lands whole or not at all.
#[cfg(not(test))]
fn checkpoint(_done: usize) -> Result<()> {
    Ok(())
}

#[cfg(test)]
fn checkpoint(done: usize) -> Result<()> {
    fault::check(done)
}

#[cfg(test)]
pub(crate) mod fault {
    use std::cell::Cell;

    use crate::{Result, refuse};

    thread_local! {
        static FAIL_AFTER: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// Makes this thread's next batches fail once `records` records are applied.
    pub(crate) fn fail_after(records: Option<usize>) {
        FAIL_AFTER.set(records);
    }

    pub(super) fn check(done: usize) -> Result<()> {
        match FAIL_AFTER.get() {
            Some(n) if done >= n => refuse(format!("injected fault after {done} records")),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use plugin_api::warehouse::{NonStockLine, OrderCancellation, StateChange};
    use serde_json::json;

    use super::*;
    use crate::testing::{WOO, assert_refused, db, item, order, snapshot, stocked_with_order};

    fn batch_with_cursor(cursor: i64) -> ImportBatch {
        ImportBatch {
            item_upserts: vec![item("c", "SKU-C"), item("d", "SKU-D")],
            order_upserts: vec![
                order("2", "WC-2", &[("21", "c", 1)]),
                order("3", "WC-3", &[("31", "d", 2)]),
            ],
            state_changes: vec![StateChange {
                key: "cursor".into(),
                value: Some(json!(cursor)),
            }],
            ..ImportBatch::default()
        }
    }

    #[test]
    fn a_batch_lands_with_its_cursor() {
        let (_d, db) = stocked_with_order();
        let summary = db.apply_batch(WOO, &batch_with_cursor(7), 50).unwrap();
        assert_eq!(
            summary,
            BatchSummary {
                items_created: 2,
                orders_created: 2,
                state_changes: 1,
                ..BatchSummary::default()
            }
        );
        assert_eq!(db.state(WOO, "cursor").unwrap(), Some(json!(7)));
        assert_eq!(
            db.order("WC-3").unwrap().unwrap().lines[0].item_number,
            "SKU-D"
        );
    }

    #[test]
    fn an_injected_fault_mid_batch_leaves_nothing_and_the_cursor_unchanged() {
        let (_d, db) = stocked_with_order();
        db.put_state(WOO, "cursor", Some(&json!(3))).unwrap();
        // 2 items, 2 orders, 1 state change: fail after each of them in turn,
        // including after the cursor itself was written.
        for records in 1..=5 {
            fault::fail_after(Some(records));
            assert_refused(
                &db,
                &format!("injected fault after {records} records"),
                |db| db.apply_batch(WOO, &batch_with_cursor(9), 50),
            );
        }
        fault::fail_after(None);
        assert_eq!(db.state(WOO, "cursor").unwrap(), Some(json!(3)));
        assert!(db.item("SKU-C").unwrap().is_none());
        db.apply_batch(WOO, &batch_with_cursor(9), 50).unwrap();
        assert_eq!(db.state(WOO, "cursor").unwrap(), Some(json!(9)));
    }

    #[test]
    fn a_refused_record_mid_batch_names_itself_and_leaves_nothing() {
        let (_d, db) = stocked_with_order();
        db.put_state(WOO, "cursor", Some(&json!(3))).unwrap();
        let mut batch = batch_with_cursor(9);
        batch.order_upserts[1].lines[0].item =
            plugin_api::warehouse::ItemRef::ExternalId("zz".into());
        assert_refused(
            &db,
            "order upsert 2 (external id \"3\"): line 1 (external id \"31\"): unknown item ExternalId(\"zz\")",
            |db| db.apply_batch(WOO, &batch, 50),
        );
        assert_eq!(db.state(WOO, "cursor").unwrap(), Some(json!(3)));
    }

    #[test]
    fn orders_are_refused_when_they_break_the_rules() {
        let (_d, db) = stocked_with_order();
        let apply = |db: &Db, o| {
            db.apply_batch(
                WOO,
                &ImportBatch {
                    order_upserts: vec![o],
                    ..ImportBatch::default()
                },
                1,
            )
        };
        assert_refused(&db, "the order has no lines", |db| {
            apply(db, order("5", "WC-5", &[]))
        });
        assert_refused(
            &db,
            "line 1 (external id \"51\"): the quantity must be greater than zero (got 0)",
            |db| apply(db, order("5", "WC-5", &[("51", "a", 0)])),
        );
        assert_refused(&db, "the external line id appears twice", |db| {
            apply(db, order("5", "WC-5", &[("51", "a", 1), ("51", "b", 1)]))
        });
        assert_refused(
            &db,
            "order number WC-1 is already used by another order",
            |db| apply(db, order("5", "WC-1", &[("51", "a", 1)])),
        );
        db.pick("WC-1", 1, 2, None, "ann", 2).unwrap();
        // Once picked from, a changed order is not applied: it becomes an
        // exception for a person to decide.
        let before = db.order("WC-1").unwrap().unwrap().lines;
        apply(&db, order("1", "WC-1", &[("11", "a", 1), ("12", "b", 2)])).unwrap();
        let after = db.order("WC-1").unwrap().unwrap();
        assert_eq!(after.lines, before);
        assert_eq!(after.status, plugin_api::warehouse::OrderStatus::Exception);
        assert_eq!(
            after.cancel_reason.as_deref(),
            Some(
                "changed in the store after the warehouse had picked from it (line 1 quantity 3 -> 1); the change was not applied"
            )
        );
        assert_refused(
            &db,
            "order cancellation 1: unknown order (external id \"404\")",
            |db| {
                db.apply_batch(
                    WOO,
                    &ImportBatch {
                        order_cancellations: vec![OrderCancellation {
                            external_id: "404".into(),
                            reason: String::new(),
                        }],
                        ..ImportBatch::default()
                    },
                    1,
                )
            },
        );
        // Another plugin cannot reach this plugin's order by its external id.
        assert_refused(&db, "unknown order (external id \"1\")", |db| {
            db.apply_batch(
                "erp",
                &ImportBatch {
                    order_cancellations: vec![OrderCancellation {
                        external_id: "1".into(),
                        reason: String::new(),
                    }],
                    ..ImportBatch::default()
                },
                1,
            )
        });
    }

    #[test]
    fn re_sending_an_order_reconciles_its_lines() {
        let (_d, db) = stocked_with_order();
        let before = snapshot(&db);
        db.apply_batch(
            WOO,
            &ImportBatch {
                order_upserts: vec![order("1", "WC-1", &[("11", "a", 3), ("12", "b", 2)])],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        assert_eq!(
            snapshot(&db)["orders"][0]["lines"],
            before["orders"][0]["lines"]
        );
        db.apply_batch(
            WOO,
            &ImportBatch {
                order_upserts: vec![order("1", "WC-1", &[("12", "b", 5), ("13", "a", 1)])],
                ..ImportBatch::default()
            },
            2,
        )
        .unwrap();
        let lines: Vec<_> = db
            .order("WC-1")
            .unwrap()
            .unwrap()
            .lines
            .into_iter()
            .map(|l| (l.line, l.item_number, l.ordered))
            .collect();
        assert_eq!(lines, [(2, "SKU-B".into(), 5), (3, "SKU-A".into(), 1)]);
    }

    #[test]
    fn a_store_cancellation_cancels_an_unpicked_order_once() {
        let (_d, db) = stocked_with_order();
        let cancel = ImportBatch {
            order_cancellations: vec![OrderCancellation {
                external_id: "1".into(),
                reason: "customer changed mind".into(),
            }],
            ..ImportBatch::default()
        };
        assert_eq!(db.apply_batch(WOO, &cancel, 3).unwrap().orders_cancelled, 1);
        assert_eq!(db.apply_batch(WOO, &cancel, 4).unwrap().orders_cancelled, 0);
        let order = db.order("WC-1").unwrap().unwrap();
        assert_eq!(order.status, plugin_api::warehouse::OrderStatus::Cancelled);
        assert_eq!(
            order.cancel_reason.as_deref(),
            Some("customer changed mind")
        );
        assert_eq!(db.inventory(Some("SKU-A")).unwrap()[0].allocated, 0);
    }

    #[test]
    fn a_store_cancellation_after_picking_is_an_exception_not_a_cancel() {
        let (_d, db) = stocked_with_order();
        db.pick("WC-1", 1, 3, None, "ann", 2).unwrap();
        let import = Import {
            batch: ImportBatch {
                order_cancellations: vec![OrderCancellation {
                    external_id: "1".into(),
                    reason: "refunded in the store".into(),
                }],
                ..ImportBatch::default()
            },
            ..Import::default()
        };
        let outcome = db.apply_import(WOO, &import, 3).unwrap();
        assert_eq!(outcome.summary.orders_cancelled, 0);
        assert_eq!(
            outcome.exceptions,
            [OrderException {
                external_id: "1".into(),
                number: "WC-1".into(),
                reason: "refunded in the store, after the warehouse had picked or shipped from it"
                    .into(),
            }]
        );
        let order = db.order("WC-1").unwrap().unwrap();
        assert_eq!(order.status, plugin_api::warehouse::OrderStatus::Exception);
        assert_eq!(db.inventory(Some("SKU-A")).unwrap()[0].on_hand, 7);
        // Told once: the same cancellation again changes and reports nothing.
        assert_eq!(db.apply_import(WOO, &import, 4).unwrap().exceptions, []);
    }

    fn opening(item: &str, quantity: i64, counted_at_ms: i64) -> OpeningStock {
        OpeningStock {
            item_external_id: item.into(),
            quantity,
            counted_at_ms,
            location: None,
            reason: "opening balance from the store".into(),
        }
    }

    #[test]
    fn opening_stock_is_given_to_created_items_only() {
        let (_d, db) = db();
        db.apply_batch(
            WOO,
            &ImportBatch {
                item_upserts: vec![item("old", "SKU-OLD")],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        db.apply_batch(
            "erp",
            &ImportBatch {
                item_upserts: vec![item("e1", "SKU-LINKED")],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        let import = Import {
            batch: ImportBatch {
                item_upserts: vec![
                    item("new", "SKU-NEW"),
                    item("old", "SKU-OLD"),
                    item("linked", "SKU-LINKED"),
                    item("backorder", "SKU-NEG"),
                ],
                ..ImportBatch::default()
            },
            opening_stock: vec![
                opening("new", 7, 100),
                opening("old", 5, 100),
                opening("linked", 5, 100),
                opening("backorder", -2, 100),
            ],
            ..Import::default()
        };
        let outcome = db.apply_import(WOO, &import, 2).unwrap();
        assert_eq!(outcome.opening_balances, 2, "new and backorder");
        let on_hand = |n: &str| db.inventory(Some(n)).unwrap()[0].on_hand;
        assert_eq!(
            [
                on_hand("SKU-NEW"),
                on_hand("SKU-OLD"),
                on_hand("SKU-LINKED"),
                on_hand("SKU-NEG")
            ],
            [7, 0, 0, 0]
        );
        let feed = db.changes_after(WOO, 0, 100).unwrap().events;
        assert_eq!(feed.len(), 1);
        assert_eq!(feed[0].item_number.as_deref(), Some("SKU-NEW"));
        assert_eq!(
            feed[0]
                .details::<plugin_api::warehouse::InventoryChanged>()
                .unwrap()
                .reason,
            "opening balance from the store"
        );
        // Sent again, nothing is opened twice.
        assert_eq!(
            db.apply_import(WOO, &import, 3).unwrap().opening_balances,
            0
        );
        assert_eq!(on_hand("SKU-NEW"), 7);
    }

    fn reduced(order: &str, line: &str, quantity: i64, at: i64) -> StoreReduction {
        StoreReduction {
            order_external_id: order.into(),
            external_line_id: line.into(),
            quantity,
            reduced_at_ms: at,
        }
    }

    #[test]
    fn a_reduction_before_the_opening_count_is_added_back_once() {
        let (_d, db) = db();
        let products = Import {
            batch: ImportBatch {
                item_upserts: vec![item("a", "SKU-A"), item("b", "SKU-B")],
                ..ImportBatch::default()
            },
            opening_stock: vec![opening("a", 8, 1_000), opening("b", 4, 1_000)],
            ..Import::default()
        };
        db.apply_import(WOO, &products, 1).unwrap();
        let orders = Import {
            batch: ImportBatch {
                order_upserts: vec![
                    order("1", "WC-1", &[("11", "a", 2), ("12", "b", 1)]),
                    order("2", "WC-2", &[("21", "a", 3)]),
                ],
                ..ImportBatch::default()
            },
            // WC-1 was paid before the count (the count lacks its units);
            // WC-2 after it (the count still had them).
            store_reductions: vec![
                reduced("1", "11", 2, 900),
                reduced("1", "12", 1, 900),
                reduced("2", "21", 3, 1_500),
            ],
            ..Import::default()
        };
        assert_eq!(
            db.apply_import(WOO, &orders, 2)
                .unwrap()
                .opening_corrections,
            2
        );
        assert_eq!(
            db.apply_import(WOO, &orders, 3)
                .unwrap()
                .opening_corrections,
            0
        );
        let a = &db.inventory(Some("SKU-A")).unwrap()[0];
        // The store shows 8 - 3 = 5 now; so does the warehouse's available.
        assert_eq!((a.on_hand, a.allocated, a.available), (10, 5, 5));
        let b = &db.inventory(Some("SKU-B")).unwrap()[0];
        assert_eq!((b.on_hand, b.allocated, b.available), (5, 1, 4));
    }

    #[test]
    fn a_record_sent_again_unchanged_is_not_counted_as_updated() {
        let (_d, db) = db();
        let batch = ImportBatch {
            item_upserts: vec![item("a", "SKU-A")],
            order_upserts: vec![order("1", "WC-1", &[("11", "a", 2)])],
            ..ImportBatch::default()
        };
        db.apply_batch(WOO, &batch, 1).unwrap();
        let again = db.apply_batch(WOO, &batch, 2).unwrap();
        assert_eq!((again.items_updated, again.orders_updated), (0, 0));
        let mut changed = batch.clone();
        changed.item_upserts[0].description = "Renamed".into();
        changed.order_upserts[0].lines[0].quantity = 3;
        let changed = db.apply_batch(WOO, &changed, 3).unwrap();
        assert_eq!((changed.items_updated, changed.orders_updated), (1, 1));
    }

    #[test]
    fn a_negative_opening_count_is_owed_until_its_orders_come_in() {
        let (_d, db) = db();
        let products = Import {
            batch: ImportBatch {
                item_upserts: vec![item("a", "SKU-A"), item("b", "SKU-B")],
                ..ImportBatch::default()
            },
            opening_stock: vec![opening("a", -5, 1_000), opening("b", 4, 1_000)],
            ..Import::default()
        };
        db.apply_import(WOO, &products, 1).unwrap();
        let basis = db.stock_basis(WOO).unwrap();
        assert_eq!(
            basis
                .iter()
                .map(|b| (b.external_id.as_str(), b.opened_at_ms, b.owed, b.counted))
                .collect::<Vec<_>>(),
            [("a", Some(1_000), 5, false), ("b", Some(1_000), 0, true)]
        );
        let on_hand = |n: &str| db.inventory(Some(n)).unwrap()[0].on_hand;
        let first = Import {
            batch: ImportBatch {
                order_upserts: vec![order("1", "WC-1", &[("11", "a", 3)])],
                ..ImportBatch::default()
            },
            store_reductions: vec![reduced("1", "11", 3, 900)],
            ..Import::default()
        };
        db.apply_import(WOO, &first, 2).unwrap();
        // -5 + 3 is still below zero: no stock is invented, 2 stay owed.
        assert_eq!(on_hand("SKU-A"), 0);
        assert_eq!(db.stock_basis(WOO).unwrap()[0].owed, 2);
        let second = Import {
            batch: ImportBatch {
                order_upserts: vec![order("2", "WC-2", &[("21", "a", 4)])],
                ..ImportBatch::default()
            },
            store_reductions: vec![reduced("2", "21", 4, 900)],
            ..Import::default()
        };
        db.apply_import(WOO, &second, 3).unwrap();
        // -5 + 3 + 4 = 2 on hand, nothing owed any more.
        assert_eq!(on_hand("SKU-A"), 2);
        let a = &db.stock_basis(WOO).unwrap()[0];
        assert_eq!((a.owed, a.counted), (0, true));
    }

    #[test]
    fn lines_without_an_item_are_kept_not_shipped() {
        let (_d, db) = stocked_with_order();
        let mut o = order("9", "WC-9", &[("91", "a", 1), ("92", "gift-card", 1)]);
        o.lines[1].not_shipped = true;
        let import = Import {
            batch: ImportBatch {
                order_upserts: vec![o.clone()],
                ..ImportBatch::default()
            },
            non_stock_lines: vec![NonStockLine {
                order_external_id: "9".into(),
                external_line_id: "92".into(),
                description: "Gift card (virtual)".into(),
            }],
            ..Import::default()
        };
        db.apply_import(WOO, &import, 2).unwrap();
        let lines = db.order("WC-9").unwrap().unwrap().lines;
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.item_number.as_str(), l.not_shipped))
                .collect::<Vec<_>>(),
            [("SKU-A", false), ("", true)]
        );
        assert_refused(&db, "marked not to be shipped", |db| {
            db.pick("WC-9", 2, 1, None, "ann", 3)
        });
        // Without its description the unknown item is refused as before.
        assert_refused(&db, "unknown item ExternalId(\"gift-card\")", |db| {
            let mut o = o.clone();
            o.external_id = "10".into();
            o.number = "WC-10".into();
            db.apply_batch(
                WOO,
                &ImportBatch {
                    order_upserts: vec![o],
                    ..ImportBatch::default()
                },
                3,
            )
        });
    }

    #[test]
    fn record_by_record_leaves_out_the_refused_and_lands_the_rest() {
        let (_d, db) = db();
        let import = Import {
            batch: ImportBatch {
                item_upserts: vec![item("1", "SKU-1"), item("2", " "), item("3", "SKU-3")],
                order_upserts: vec![
                    order("7", "WC-7", &[("71", "2", 1)]),
                    order("8", "WC-8", &[("81", "3", 1)]),
                ],
                state_changes: vec![StateChange {
                    key: "cursor".into(),
                    value: Some(json!(5)),
                }],
                ..ImportBatch::default()
            },
            record_by_record: true,
            opening_stock: vec![opening("2", 3, 1)],
            ..Import::default()
        };
        let outcome = db.apply_import(WOO, &import, 1).unwrap();
        assert_eq!(
            outcome.refused,
            [
                RefusedRecord {
                    kind: RecordKind::ItemUpsert,
                    external_id: "2".into(),
                    reason: "the item number (SKU) is empty".into(),
                },
                RefusedRecord {
                    kind: RecordKind::OrderUpsert,
                    external_id: "7".into(),
                    reason: "line 1 (external id \"71\"): unknown item ExternalId(\"2\")".into(),
                },
            ]
        );
        assert_eq!(
            (
                outcome.summary.items_created,
                outcome.summary.orders_created
            ),
            (2, 1)
        );
        assert_eq!(db.state(WOO, "cursor").unwrap(), Some(json!(5)));
        assert!(db.order("WC-8").unwrap().is_some());
        assert!(db.order("WC-7").unwrap().is_none());
    }

    #[test]
    fn a_cli_transaction_while_a_plugin_batch_is_applied_both_land() {
        let (dir, db) = db();
        db.apply_batch(
            WOO,
            &ImportBatch {
                item_upserts: vec![item("a", "SKU-A")],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        let path = dir.path().join("it.db");
        let plugin = Arc::new(Db::open(&path).unwrap());
        let cli = Db::open(&path).unwrap();
        let batch = ImportBatch {
            item_upserts: (0..20_000)
                .map(|i| item(&format!("x{i}"), &format!("SKU-X{i}")))
                .collect(),
            state_changes: vec![StateChange {
                key: "cursor".into(),
                value: Some(json!(1)),
            }],
            ..ImportBatch::default()
        };
        let worker = {
            let plugin = Arc::clone(&plugin);
            std::thread::spawn(move || plugin.apply_batch(WOO, &batch, 2))
        };
        let mut received = 0;
        while !worker.is_finished() || received < 20 {
            cli.receive("SKU-A", 1, None, "ann", 3).unwrap();
            received += 1;
        }
        assert_eq!(worker.join().unwrap().unwrap().items_created, 20_000);
        assert_eq!(cli.items().unwrap().len(), 20_001);
        assert_eq!(cli.inventory(Some("SKU-A")).unwrap()[0].on_hand, received);
        assert_eq!(cli.state(WOO, "cursor").unwrap(), Some(json!(1)));
    }
}
