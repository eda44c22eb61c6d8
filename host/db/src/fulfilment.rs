//! Picking and shipping orders: the warehouse's side of fulfilment. Each
//! pick takes stock out of a location; each shipment ships picked units.
//! Both are told to the order's source through the change feed.

use std::collections::HashSet;

use plugin_api::warehouse::{ChangeKind, PickRecorded, Shipment, ShipmentRecorded};
use rusqlite::{Connection, OptionalExtension, params};

use crate::inventory::{DEFAULT_LOCATION, Movement};
use crate::orders::{self, OrderHead};
use crate::{Db, Result, change_feed, refuse, require_positive};

/// A shipment to record.
#[derive(Clone, Debug, Default)]
pub struct ShipRequest {
    pub carrier: String,
    pub service: String,
    pub tracking: String,
    /// `(line, quantity)` pairs; empty: everything picked and not yet shipped.
    pub lines: Vec<(i64, i64)>,
}

struct Line {
    id: i64,
    /// `None` only on a not-shipped line kept without a warehouse item.
    item: Option<i64>,
    ordered: i64,
    picked: i64,
    shipped: i64,
    not_shipped: bool,
}

impl Db {
    /// Picks `quantity` of an order line (numbered from 1) from a location
    /// (default [`DEFAULT_LOCATION`]).
    pub fn pick(
        &self,
        order_number: &str,
        line: i64,
        quantity: i64,
        location: Option<&str>,
        user: &str,
        now_ms: i64,
    ) -> Result<PickRecorded> {
        require_positive(quantity, "the quantity picked")?;
        self.write(|tx| {
            let order = orders::require_open(tx, order_number)?;
            let l = require_line(tx, &order, line)?;
            let (false, Some(item)) = (l.not_shipped, l.item) else {
                return refuse(format!(
                    "order {order_number} line {line} is marked not to be shipped"
                ));
            };
            if l.picked + quantity > l.ordered {
                return refuse(format!(
                    "order {order_number} line {line}: {} ordered, {} already picked; cannot pick {quantity} more",
                    l.ordered, l.picked
                ));
            }
            let location = location.unwrap_or(DEFAULT_LOCATION);
            Movement {
                kind: "pick",
                item,
                location,
                quantity: -quantity,
                reason: "",
                order_line: Some(l.id),
                user,
                now_ms,
            }
            .record(tx)?;
            tx.prepare_cached(
                "INSERT INTO picks (order_line, location, quantity, user, at)
                 SELECT ?1, id, ?3, ?4, ?5 FROM locations WHERE code = ?2",
            )?
            .execute(params![l.id, location, quantity, user, now_ms])?;
            tx.prepare_cached("UPDATE order_lines SET picked = picked + ?2 WHERE id = ?1")?
                .execute(params![l.id, quantity])?;
            let order_status = orders::refresh_status(tx, order.id, now_ms)?;
            let external_line_id: Option<String> = tx
                .query_row(
                    "SELECT external_line_id FROM order_lines WHERE id = ?1",
                    [l.id],
                    |r| r.get(0),
                )?;
            let pick = PickRecorded {
                line,
                external_line_id,
                quantity,
                location: location.to_owned(),
                picked: l.picked + quantity,
                ordered: l.ordered,
                order_status,
            };
            change_feed::append(
                tx,
                ChangeKind::PickRecorded,
                Some(order.id),
                Some(item),
                &pick,
                now_ms,
            )?;
            Ok(pick)
        })
    }

    /// Ships picked units of an order: the lines asked, or everything picked
    /// and not yet shipped.
    pub fn ship(
        &self,
        order_number: &str,
        request: &ShipRequest,
        user: &str,
        now_ms: i64,
    ) -> Result<ShipmentRecorded> {
        if request.carrier.trim().is_empty() {
            return refuse("a shipment needs a carrier");
        }
        if request.tracking.trim().is_empty() {
            return refuse("a shipment needs a tracking number");
        }
        self.write(|tx| {
            let order = orders::require_open(tx, order_number)?;
            let lines = if request.lines.is_empty() {
                let mut stmt = tx.prepare_cached(
                    "SELECT line_no, picked - shipped FROM order_lines
                     WHERE order_id = ?1 AND picked > shipped ORDER BY line_no",
                )?;
                let all = stmt
                    .query_map([order.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<(i64, i64)>, _>>()?;
                if all.is_empty() {
                    return refuse(format!(
                        "order {order_number} has nothing picked and not yet shipped"
                    ));
                }
                all
            } else {
                request.lines.clone()
            };
            let mut seen = HashSet::new();
            let mut checked = Vec::with_capacity(lines.len());
            for &(line, quantity) in &lines {
                if !seen.insert(line) {
                    return refuse(format!("line {line} is given twice"));
                }
                require_positive(quantity, &format!("line {line}: the quantity shipped"))?;
                let l = require_line(tx, &order, line)?;
                if l.shipped + quantity > l.picked {
                    return refuse(format!(
                        "order {order_number} line {line}: {} picked, {} already shipped; cannot ship {quantity} more",
                        l.picked, l.shipped
                    ));
                }
                checked.push((l, quantity));
            }
            tx.prepare_cached(
                "INSERT INTO shipments (order_id, carrier, service, tracking, shipped_at, user)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                order.id,
                request.carrier.trim(),
                request.service.trim(),
                request.tracking.trim(),
                now_ms,
                user
            ])?;
            let shipment_id = tx.last_insert_rowid();
            for (l, quantity) in &checked {
                tx.prepare_cached(
                    "INSERT INTO shipment_lines (shipment, order_line, quantity) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![shipment_id, l.id, quantity])?;
                tx.prepare_cached("UPDATE order_lines SET shipped = shipped + ?2 WHERE id = ?1")?
                    .execute(params![l.id, quantity])?;
                tx.prepare_cached(
                    "INSERT INTO inventory_transactions (kind, item, quantity, order_line, user, at)
                     VALUES ('ship', ?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![l.item, quantity, l.id, user, now_ms])?;
            }
            let order_status = orders::refresh_status(tx, order.id, now_ms)?;
            let shipped = ShipmentRecorded {
                shipment: Shipment {
                    carrier: request.carrier.trim().to_owned(),
                    service: request.service.trim().to_owned(),
                    tracking: request.tracking.trim().to_owned(),
                    shipped_at_ms: now_ms,
                    lines: orders::shipped_lines(tx, shipment_id)?,
                },
                order_status,
            };
            change_feed::append(
                tx,
                ChangeKind::ShipmentRecorded,
                Some(order.id),
                None,
                &shipped,
                now_ms,
            )?;
            Ok(shipped)
        })
    }
}

fn require_line(conn: &Connection, order: &OrderHead, line: i64) -> Result<Line> {
    let row = conn
        .prepare_cached(
            "SELECT id, item, ordered, picked, shipped, not_shipped FROM order_lines
             WHERE order_id = ?1 AND line_no = ?2",
        )?
        .query_row(params![order.id, line], |r| {
            Ok(Line {
                id: r.get(0)?,
                item: r.get(1)?,
                ordered: r.get(2)?,
                picked: r.get(3)?,
                shipped: r.get(4)?,
                not_shipped: r.get(5)?,
            })
        })
        .optional()?;
    match row {
        Some(l) => Ok(l),
        None => refuse(format!("order {} has no line {line}", order.number)),
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::{ChangeKind, ImportBatch, OrderStatus};

    use super::*;
    use crate::testing::{WOO, assert_refused, order, stocked_with_order};

    fn ship_lines(lines: &[(i64, i64)]) -> ShipRequest {
        ShipRequest {
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking: "1Z999".into(),
            lines: lines.to_vec(),
        }
    }

    #[test]
    fn picks_and_shipments_move_the_order_through_its_statuses() {
        let (_d, db) = stocked_with_order();
        let status = |db: &Db| db.order("WC-1").unwrap().unwrap().status;
        assert_eq!(status(&db), OrderStatus::Open);
        let pick = db.pick("WC-1", 1, 2, None, "ann", 20).unwrap();
        assert_eq!((pick.picked, pick.order_status), (2, OrderStatus::Picking));
        db.pick("WC-1", 1, 1, None, "ann", 21).unwrap();
        db.pick("WC-1", 2, 2, None, "ann", 22).unwrap();
        assert_eq!(status(&db), OrderStatus::Picked);
        let first = db.ship("WC-1", &ship_lines(&[(2, 1)]), "ann", 23).unwrap();
        assert_eq!(first.order_status, OrderStatus::PartiallyShipped);
        let rest = db.ship("WC-1", &ship_lines(&[]), "ann", 24).unwrap();
        assert_eq!(rest.order_status, OrderStatus::Shipped);
        let shipped: Vec<_> = rest
            .shipment
            .lines
            .iter()
            .map(|l| (l.line, l.quantity))
            .collect();
        assert_eq!(shipped, [(1, 3), (2, 1)]);
        let order = db.order("WC-1").unwrap().unwrap();
        let lines: Vec<_> = order
            .lines
            .iter()
            .map(|l| (l.ordered, l.picked, l.shipped))
            .collect();
        assert_eq!(lines, [(3, 3, 3), (2, 2, 2)]);
        assert_eq!(order.shipments.len(), 2);
        assert_eq!(db.inventory(Some("SKU-A")).unwrap()[0].on_hand, 7);
        let kinds: Vec<_> = db
            .changes_after(WOO, 0, 100)
            .unwrap()
            .events
            .iter()
            .filter(|e| e.order_number.is_some() && e.kind != ChangeKind::Other)
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::PickRecorded,
                ChangeKind::PickRecorded,
                ChangeKind::PickRecorded,
                ChangeKind::ShipmentRecorded,
                ChangeKind::ShipmentRecorded
            ]
        );
    }

    #[test]
    fn picks_that_make_no_sense_are_refused() {
        let (_d, db) = stocked_with_order();
        assert_refused(&db, "unknown order \"WC-9\"", |db| {
            db.pick("WC-9", 1, 1, None, "u", 1)
        });
        assert_refused(&db, "order WC-1 has no line 3", |db| {
            db.pick("WC-1", 3, 1, None, "u", 1)
        });
        assert_refused(
            &db,
            "the quantity picked must be greater than zero (got 0)",
            |db| db.pick("WC-1", 1, 0, None, "u", 1),
        );
        assert_refused(
            &db,
            "the quantity picked must be greater than zero (got -1)",
            |db| db.pick("WC-1", 1, -1, None, "u", 1),
        );
        assert_refused(
            &db,
            "order WC-1 line 1: 3 ordered, 0 already picked; cannot pick 4 more",
            |db| db.pick("WC-1", 1, 4, None, "u", 1),
        );
        db.adjust("SKU-B", -9, "count", None, "u", 1).unwrap();
        assert_refused(&db, "only 1 on hand at MAIN; cannot take out 2", |db| {
            db.pick("WC-1", 2, 2, None, "u", 1)
        });
        assert_refused(&db, "unknown location \"DOCK\"", |db| {
            db.pick("WC-1", 1, 1, Some("DOCK"), "u", 1)
        });
        db.cancel_order("WC-1", "fraud", "u", 2).unwrap();
        assert_refused(&db, "order WC-1 is cancelled", |db| {
            db.pick("WC-1", 1, 1, None, "u", 3)
        });
        assert_refused(&db, "order WC-1 is cancelled", |db| {
            db.ship("WC-1", &ship_lines(&[]), "u", 3)
        });
        assert_refused(&db, "order WC-1 is cancelled", |db| {
            db.cancel_order("WC-1", "again", "u", 3)
        });
    }

    #[test]
    fn a_line_not_to_be_shipped_is_neither_picked_nor_waited_for() {
        let (_d, db) = stocked_with_order();
        let mut o = order("2", "WC-2", &[("21", "a", 1), ("22", "b", 1)]);
        o.lines[1].not_shipped = true;
        db.apply_batch(
            WOO,
            &ImportBatch {
                order_upserts: vec![o],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        assert_refused(&db, "order WC-2 line 2 is marked not to be shipped", |db| {
            db.pick("WC-2", 2, 1, None, "u", 2)
        });
        db.pick("WC-2", 1, 1, None, "u", 2).unwrap();
        assert_eq!(
            db.ship("WC-2", &ship_lines(&[]), "u", 3)
                .unwrap()
                .order_status,
            OrderStatus::Shipped
        );
    }

    #[test]
    fn shipments_that_make_no_sense_are_refused() {
        let (_d, db) = stocked_with_order();
        assert_refused(
            &db,
            "order WC-1 has nothing picked and not yet shipped",
            |db| db.ship("WC-1", &ship_lines(&[]), "u", 1),
        );
        db.pick("WC-1", 1, 2, None, "u", 1).unwrap();
        assert_refused(
            &db,
            "order WC-1 line 1: 2 picked, 0 already shipped; cannot ship 3 more",
            |db| db.ship("WC-1", &ship_lines(&[(1, 3)]), "u", 2),
        );
        assert_refused(
            &db,
            "order WC-1 line 2: 0 picked, 0 already shipped; cannot ship 1 more",
            |db| db.ship("WC-1", &ship_lines(&[(1, 1), (2, 1)]), "u", 2),
        );
        assert_refused(
            &db,
            "line 1: the quantity shipped must be greater than zero (got 0)",
            |db| db.ship("WC-1", &ship_lines(&[(1, 0)]), "u", 2),
        );
        assert_refused(&db, "line 1 is given twice", |db| {
            db.ship("WC-1", &ship_lines(&[(1, 1), (1, 1)]), "u", 2)
        });
        assert_refused(&db, "order WC-1 has no line 7", |db| {
            db.ship("WC-1", &ship_lines(&[(7, 1)]), "u", 2)
        });
        assert_refused(&db, "a shipment needs a carrier", |db| {
            db.ship(
                "WC-1",
                &ShipRequest {
                    carrier: " ".into(),
                    ..ship_lines(&[])
                },
                "u",
                2,
            )
        });
        assert_refused(&db, "a shipment needs a tracking number", |db| {
            db.ship(
                "WC-1",
                &ShipRequest {
                    tracking: String::new(),
                    ..ship_lines(&[])
                },
                "u",
                2,
            )
        });
        assert_refused(&db, "unknown order \"WC-9\"", |db| {
            db.ship("WC-9", &ship_lines(&[]), "u", 2)
        });
        db.pick("WC-1", 1, 1, None, "u", 3).unwrap();
        db.pick("WC-1", 2, 2, None, "u", 3).unwrap();
        db.ship("WC-1", &ship_lines(&[]), "u", 4).unwrap();
        assert_refused(&db, "order WC-1 is already shipped", |db| {
            db.ship("WC-1", &ship_lines(&[]), "u", 5)
        });
        assert_refused(&db, "order WC-1 is already shipped", |db| {
            db.cancel_order("WC-1", "late", "u", 5)
        });
    }
}
