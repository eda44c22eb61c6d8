//! Locations and stock: on-hand quantity per item per location, what is
//! allocated to open orders, and the receipts and adjustments that change it.

use plugin_api::warehouse::{
    ChangeKind, InventoryChanged, LocationQuantity, Quantities, QuantitiesRequest, StockBasis,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::items::WithStoreRefs;
use crate::{Db, Result, change_feed, hand_items, items, refuse, require_positive};

/// The location receipts, adjustments and picks use when none is given.
pub const DEFAULT_LOCATION: &str = "MAIN";

impl Db {
    /// Receives `quantity` (> 0) of an item into a location (default [`DEFAULT_LOCATION`]).
    pub fn receive(
        &self,
        item_number: &str,
        quantity: i64,
        location: Option<&str>,
        user: &str,
        now_ms: i64,
    ) -> Result<InventoryChanged> {
        require_positive(quantity, "the quantity received")?;
        self.change_stock(ChangeKind::InventoryReceived, item_number, |item| {
            Movement {
                kind: "receive",
                item,
                location: location.unwrap_or(DEFAULT_LOCATION),
                quantity,
                reason: "",
                order_line: None,
                user,
                now_ms,
            }
        })
    }

    /// Adjusts an item's stock at a location by `quantity` (either sign,
    /// not zero) for a stated reason. Stock never goes below zero.
    pub fn adjust(
        &self,
        item_number: &str,
        quantity: i64,
        reason: &str,
        location: Option<&str>,
        user: &str,
        now_ms: i64,
    ) -> Result<InventoryChanged> {
        if quantity == 0 {
            return refuse("an adjustment of zero changes nothing");
        }
        if reason.trim().is_empty() {
            return refuse("an adjustment needs a reason");
        }
        self.change_stock(ChangeKind::InventoryAdjusted, item_number, |item| {
            Movement {
                kind: "adjust",
                item,
                location: location.unwrap_or(DEFAULT_LOCATION),
                quantity,
                reason: reason.trim(),
                order_line: None,
                user,
                now_ms,
            }
        })
    }

    /// Applies the movement of the item numbered `item_number` and writes
    /// its change-feed event, in one transaction. A receipt needs an active
    /// item; an adjustment may still count an inactive item's stock.
    fn change_stock<'a>(
        &self,
        event: ChangeKind,
        item_number: &str,
        movement: impl FnOnce(i64) -> Movement<'a>,
    ) -> Result<InventoryChanged> {
        self.write(|tx| {
            let item = items::require_by_number(tx, item_number)?;
            if event == ChangeKind::InventoryReceived {
                hand_items::require_active(tx, item, item_number)?;
            }
            movement(item).record_with_event(tx, event)
        })
    }

    /// Quantities for a plugin: of the items asked (unknown ones left out;
    /// `source`'s external id on each it has one for), or of every item,
    /// with `source`'s external id on those its store still sells (a
    /// reference it deactivated, [`crate::StoreRef::gone_at`], is left out).
    pub fn quantities_for(
        &self,
        source: &str,
        request: &QuantitiesRequest,
    ) -> Result<Vec<Quantities>> {
        self.read(|tx| {
            let (ids, refs) = match &request.items {
                Some(refs) => (
                    refs.iter()
                        .filter_map(|r| items::resolve(tx, source, r).transpose())
                        .collect::<Result<Vec<_>>>()?,
                    Refs::Any,
                ),
                None => (all_item_ids(tx)?, Refs::Live),
            };
            ids.into_iter()
                .map(|id| quantities(tx, Some((source, refs)), id))
                .collect()
        })
    }

    /// How each of `source`'s items was opened from its store (when, what
    /// a negative count still owes) and whether the warehouse counted it.
    pub fn stock_basis(&self, source: &str) -> Result<Vec<StockBasis>> {
        self.read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT r.external_id,
                        CASE WHEN i.opening_source = ?1 THEN i.opening_counted_at END,
                        CASE WHEN i.opening_source = ?1 THEN i.opening_owed ELSE 0 END,
                        EXISTS (SELECT 1 FROM inventory_transactions t
                                WHERE t.item = i.id AND t.kind IN ('receive', 'adjust'))
                 FROM item_refs r JOIN items i ON i.id = r.item
                 WHERE r.source = ?1
                 ORDER BY r.external_id",
            )?;
            let rows = stmt.query_map([source], |r| {
                Ok(StockBasis {
                    external_id: r.get(0)?,
                    opened_at_ms: r.get(1)?,
                    owed: r.get(2)?,
                    counted: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Quantities of one item (by number) or of every item, as the warehouse sees them.
    pub fn inventory(&self, item_number: Option<&str>) -> Result<Vec<Quantities>> {
        self.read(|tx| {
            inventory_ids(tx, item_number)?
                .into_iter()
                .map(|id| quantities(tx, None, id))
                .collect()
        })
    }

    /// [`Db::inventory`], each item with every store reference; read in one
    /// transaction.
    pub fn inventory_with_store_refs(
        &self,
        item_number: Option<&str>,
    ) -> Result<Vec<WithStoreRefs<Quantities>>> {
        self.read(|tx| {
            inventory_ids(tx, item_number)?
                .into_iter()
                .map(|id| {
                    Ok(WithStoreRefs {
                        value: quantities(tx, None, id)?,
                        store_refs: items::store_refs(tx, id)?,
                    })
                })
                .collect()
        })
    }
}

/// The item numbered `item_number` (refused if unknown), or every item by number.
fn inventory_ids(tx: &rusqlite::Transaction<'_>, item_number: Option<&str>) -> Result<Vec<i64>> {
    match item_number {
        Some(number) => Ok(vec![items::require_by_number(tx, number)?]),
        None => all_item_ids(tx),
    }
}

fn all_item_ids(tx: &rusqlite::Transaction<'_>) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare("SELECT id FROM items ORDER BY number")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Which of a source's references give an item's quantities their
/// external id.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refs {
    /// Whether or not its store still sells the item.
    Any,
    /// Only one its store still sells (not gone).
    Live,
}

/// One item's quantities; with a source, that source's external id for it
/// (the warehouse's view without).
fn quantities(conn: &Connection, source: Option<(&str, Refs)>, item: i64) -> Result<Quantities> {
    let (source, refs) = source.unzip();
    let (item_number, external_id, allocated): (String, Option<String>, i64) = conn
        .prepare_cached(
            // The external id by a subquery, not a join on the bound source
            // (see `items::ITEM_COLUMNS`).
            "SELECT i.number,
                    (SELECT r.external_id FROM item_refs r
                     WHERE r.item = i.id AND r.source = ?2 AND (r.gone_at IS NULL OR NOT ?3)),
                    (SELECT COALESCE(SUM(l.ordered - l.picked), 0)
                     FROM order_lines l JOIN orders o ON o.id = l.order_id
                     WHERE l.item = i.id AND l.not_shipped = 0
                       AND o.status NOT IN ('shipped', 'cancelled'))
             FROM items i WHERE i.id = ?1",
        )?
        .query_row(params![item, source, refs == Some(Refs::Live)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let mut stmt = conn.prepare_cached(
        "SELECT l.code, h.quantity FROM on_hand h JOIN locations l ON l.id = h.location
         WHERE h.item = ?1 AND h.quantity <> 0 ORDER BY l.code",
    )?;
    let locations = stmt
        .query_map([item], |r| {
            Ok(LocationQuantity {
                location: r.get(0)?,
                on_hand: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let on_hand = locations.iter().map(|l| l.on_hand).sum();
    Ok(Quantities {
        item_number,
        external_id,
        on_hand,
        allocated,
        available: on_hand - allocated,
        locations,
    })
}

/// The location with this code, or a refusal naming it.
pub(crate) fn require_location(conn: &Connection, code: &str) -> Result<i64> {
    let id = conn
        .prepare_cached("SELECT id FROM locations WHERE code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => Ok(id),
        None => refuse(format!("unknown location {code:?}")),
    }
}

/// One change of on-hand stock, recorded as an inventory transaction.
pub(crate) struct Movement<'a> {
    /// `receive`, `adjust` or `pick`.
    pub kind: &'static str,
    pub item: i64,
    pub location: &'a str,
    /// Signed: negative takes stock out.
    pub quantity: i64,
    pub reason: &'a str,
    pub order_line: Option<i64>,
    pub user: &'a str,
    pub now_ms: i64,
}

impl Movement<'_> {
    /// Applies the change and writes its change-feed event (of `kind`), in
    /// the caller's transaction.
    pub(crate) fn record_with_event(
        &self,
        conn: &Connection,
        kind: ChangeKind,
    ) -> Result<InventoryChanged> {
        let change = self.record(conn)?;
        change_feed::append(conn, kind, None, Some(self.item), &change, self.now_ms)?;
        Ok(change)
    }

    /// Applies the change; refuses one that would take the location below zero.
    pub(crate) fn record(&self, conn: &Connection) -> Result<InventoryChanged> {
        let location = require_location(conn, self.location)?;
        let before: i64 = conn
            .prepare_cached("SELECT quantity FROM on_hand WHERE item = ?1 AND location = ?2")?
            .query_row(params![self.item, location], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let Some(after) = before.checked_add(self.quantity) else {
            return refuse(format!(
                "{} more of {} at {} is past the largest quantity the warehouse can count",
                self.quantity,
                items::number_of(conn, self.item)?,
                self.location
            ));
        };
        if after < 0 {
            return refuse(format!(
                "only {before} on hand at {}; cannot take out {}",
                self.location, -self.quantity
            ));
        }
        conn.prepare_cached(
            "INSERT INTO on_hand (item, location, quantity) VALUES (?1, ?2, ?3)
             ON CONFLICT (item, location) DO UPDATE SET quantity = ?3",
        )?
        .execute(params![self.item, location, after])?;
        conn.prepare_cached(
            "INSERT INTO inventory_transactions (kind, item, location, quantity, reason, order_line, user, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            self.kind,
            self.item,
            location,
            self.quantity,
            self.reason,
            self.order_line,
            self.user,
            self.now_ms
        ])?;
        Ok(InventoryChanged {
            location: self.location.to_owned(),
            quantity: self.quantity,
            on_hand_at_location: after,
            reason: self.reason.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::ItemRef;

    use super::*;
    use crate::StoreRef;
    use crate::testing::{WOO, assert_refused, stocked_with_order};

    #[test]
    fn quantities_count_on_hand_allocated_and_available() {
        let (_d, db) = stocked_with_order();
        db.adjust("SKU-A", -4, "damaged", None, "ann", 20).unwrap();
        let q = db
            .quantities_for(
                WOO,
                &QuantitiesRequest {
                    items: Some(vec![
                        ItemRef::ExternalId("a".into()),
                        ItemRef::Number("NOPE".into()),
                    ]),
                },
            )
            .unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].on_hand, q[0].allocated, q[0].available), (6, 3, 3));
        assert_eq!(q[0].external_id.as_deref(), Some("a"));
        db.pick("WC-1", 1, 2, None, "ann", 21).unwrap();
        let a = &db.inventory(Some("SKU-A")).unwrap()[0];
        assert_eq!((a.on_hand, a.allocated, a.available), (4, 1, 3));
        assert_eq!(
            a.locations,
            [LocationQuantity {
                location: DEFAULT_LOCATION.into(),
                on_hand: 4
            }]
        );
        let all = db
            .quantities_for(WOO, &QuantitiesRequest::default())
            .unwrap();
        assert_eq!(
            all.iter()
                .map(|q| q.item_number.as_str())
                .collect::<Vec<_>>(),
            ["SKU-A", "SKU-B"]
        );
        let other = db
            .quantities_for("erp", &QuantitiesRequest::default())
            .unwrap();
        assert_eq!(other.len(), 2, "every item, whoever asks");
        assert!(
            other.iter().all(|q| q.external_id.is_none()),
            "another plugin's external ids stay hidden"
        );
    }

    #[test]
    fn the_inventory_with_store_refs_is_the_inventory_and_each_items_references() {
        let (_d, db) = stocked_with_order();
        let store_ref = |instance: &str, external_id: &str| StoreRef {
            instance: instance.into(),
            external_id: external_id.into(),
            gone_at: None,
        };
        db.apply_batch(
            "woo:shop-at",
            &plugin_api::warehouse::ImportBatch {
                item_upserts: vec![crate::testing::item("17", "SKU-B")],
                ..Default::default()
            },
            30,
        )
        .unwrap();
        let all = db.inventory_with_store_refs(None).unwrap();
        assert_eq!(
            all.iter().map(|q| q.value.clone()).collect::<Vec<_>>(),
            db.inventory(None).unwrap()
        );
        assert_eq!(
            all.iter().map(|q| q.store_refs.clone()).collect::<Vec<_>>(),
            [
                vec![store_ref(WOO, "a")],
                vec![store_ref(WOO, "b"), store_ref("woo:shop-at", "17")]
            ]
        );
        let one = db.inventory_with_store_refs(Some("SKU-B")).unwrap();
        assert_eq!(one, all[1..]);
        assert_refused(&db, "unknown item \"NOPE\"", |db| {
            db.inventory_with_store_refs(Some("NOPE"))
        });
    }

    #[test]
    fn receipts_and_adjustments_are_refused_when_they_make_no_sense() {
        let (_d, db) = stocked_with_order();
        assert_refused(&db, "unknown item \"NOPE\"", |db| {
            db.receive("NOPE", 1, None, "u", 1)
        });
        assert_refused(
            &db,
            "the quantity received must be greater than zero (got 0)",
            |db| db.receive("SKU-A", 0, None, "u", 1),
        );
        assert_refused(
            &db,
            "the quantity received must be greater than zero (got -2)",
            |db| db.receive("SKU-A", -2, None, "u", 1),
        );
        assert_refused(&db, "unknown location \"DOCK\"", |db| {
            db.receive("SKU-A", 1, Some("DOCK"), "u", 1)
        });
        assert_refused(&db, "an adjustment of zero changes nothing", |db| {
            db.adjust("SKU-A", 0, "count", None, "u", 1)
        });
        assert_refused(&db, "an adjustment needs a reason", |db| {
            db.adjust("SKU-A", 1, " ", None, "u", 1)
        });
        assert_refused(&db, "only 10 on hand at MAIN; cannot take out 11", |db| {
            db.adjust("SKU-A", -11, "count", None, "u", 1)
        });
        assert_refused(&db, "unknown item \"NOPE\"", |db| {
            db.inventory(Some("NOPE"))
        });
    }
}
