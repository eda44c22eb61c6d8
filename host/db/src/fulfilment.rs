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
    item: i64,
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
            if l.not_shipped {
                return refuse(format!(
                    "order {order_number} line {line} is marked not to be shipped"
                ));
            }
            if l.picked + quantity > l.ordered {
                return refuse(format!(
                    "order {order_number} line {line}: {} ordered, {} already picked; cannot pick {quantity} more",
                    l.ordered, l.picked
                ));
            }
            let location = location.unwrap_or(DEFAULT_LOCATION);
            Movement {
                kind: "pick",
                item: l.item,
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
                Some(l.item),
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
