//! A plugin's import batch: item upserts and deactivations, order upserts
//! and cancellations, and the plugin's own state (cursor) changes, applied
//! in one transaction so that a cursor never runs ahead of the data.

use plugin_api::warehouse::{BatchSummary, ImportBatch};
use rusqlite::{Connection, params};

use crate::items::{self, Upserted};
use crate::{Db, DbError, Result, orders, refuse};

impl Db {
    /// Applies `source`'s batch: all of it, or (on the first refused
    /// record, named in the error) none of it.
    pub fn apply_batch(
        &self,
        source: &str,
        batch: &ImportBatch,
        now_ms: i64,
    ) -> Result<BatchSummary> {
        self.write(|tx| {
            let mut summary = BatchSummary::default();
            let mut done = 0;
            for (i, item) in batch.item_upserts.iter().enumerate() {
                let what = || format!("item upsert {} (external id {:?})", i + 1, item.external_id);
                match items::upsert(tx, source, item, now_ms).map_err(|e| at(what(), e))? {
                    Upserted::Created => summary.items_created += 1,
                    Upserted::Updated => summary.items_updated += 1,
                }
                done += 1;
                checkpoint(done)?;
            }
            for (i, external_id) in batch.item_deactivations.iter().enumerate() {
                items::deactivate(tx, source, external_id, now_ms)
                    .map_err(|e| at(format!("item deactivation {}", i + 1), e))?;
                summary.items_deactivated += 1;
                done += 1;
                checkpoint(done)?;
            }
            for (i, order) in batch.order_upserts.iter().enumerate() {
                let what = || {
                    format!(
                        "order upsert {} (external id {:?})",
                        i + 1,
                        order.external_id
                    )
                };
                match orders::upsert(tx, source, order, now_ms).map_err(|e| at(what(), e))? {
                    Upserted::Created => summary.orders_created += 1,
                    Upserted::Updated => summary.orders_updated += 1,
                }
                done += 1;
                checkpoint(done)?;
            }
            for (i, cancellation) in batch.order_cancellations.iter().enumerate() {
                let what = || format!("order cancellation {}", i + 1);
                if orders::cancel_from_source(tx, source, cancellation, now_ms)
                    .map_err(|e| at(what(), e))?
                {
                    summary.orders_cancelled += 1;
                }
                done += 1;
                checkpoint(done)?;
            }
            for (i, change) in batch.state_changes.iter().enumerate() {
                put_state(tx, source, &change.key, change.value.as_ref())
                    .map_err(|e| at(format!("state change {}", i + 1), e))?;
                summary.state_changes += 1;
                done += 1;
                checkpoint(done)?;
            }
            Ok(summary)
        })
    }
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

    use plugin_api::warehouse::{OrderCancellation, StateChange};
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
        assert_refused(
            &db,
            "line 1: 2 already picked; the line cannot change its item or go below that",
            |db| apply(db, order("1", "WC-1", &[("11", "a", 1), ("12", "b", 2)])),
        );
        assert_refused(
            &db,
            "line 1: 2 already picked; the line cannot be removed",
            |db| apply(db, order("1", "WC-1", &[("12", "b", 2)])),
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
    fn a_store_cancellation_returns_picked_stock_and_is_idempotent() {
        let (_d, db) = stocked_with_order();
        db.pick("WC-1", 1, 3, None, "ann", 2).unwrap();
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
        assert_eq!(db.inventory(Some("SKU-A")).unwrap()[0].on_hand, 10);
        assert_eq!(db.inventory(Some("SKU-A")).unwrap()[0].allocated, 0);
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
