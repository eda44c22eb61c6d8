//! Orders and their lines: imported by plugins (keyed by the plugin's
//! external id), read by number, cancelled from either side. The status
//! follows from the lines: open, picking, picked, partially shipped, shipped.

use std::collections::{HashMap, HashSet};

use plugin_api::warehouse::{
    Address, ChangeKind, Order, OrderCancellation, OrderCancelled, OrderLine, OrderLineView,
    OrderStatus, OrderUpsert, Shipment, ShippedLine,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::inventory::{DEFAULT_LOCATION, Movement};
use crate::items::{self, Upserted};
use crate::{Db, Result, change_feed, refuse, require_positive};

/// An order's id and status, as a transaction starts working on it.
pub(crate) struct OrderHead {
    pub id: i64,
    pub number: String,
    pub status: OrderStatus,
}

impl Db {
    /// `source`'s orders by external id, in the order asked.
    pub fn find_orders(&self, source: &str, external_ids: &[String]) -> Result<Vec<Option<Order>>> {
        self.read(|tx| {
            external_ids
                .iter()
                .map(|ext| {
                    let id: Option<i64> = tx
                        .prepare_cached(
                            "SELECT id FROM orders WHERE source = ?1 AND external_id = ?2",
                        )?
                        .query_row([source, ext], |r| r.get(0))
                        .optional()?;
                    id.map(|id| load(tx, id)).transpose()
                })
                .collect()
        })
    }

    /// One order by number.
    pub fn order(&self, number: &str) -> Result<Option<Order>> {
        self.read(|tx| {
            let id: Option<i64> = tx
                .query_row("SELECT id FROM orders WHERE number = ?1", [number], |r| {
                    r.get(0)
                })
                .optional()?;
            id.map(|id| load(tx, id)).transpose()
        })
    }

    /// Every order (or those with one status), by number.
    pub fn orders(&self, status: Option<OrderStatus>) -> Result<Vec<Order>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare("SELECT id FROM orders WHERE ?1 IS NULL OR status = ?1 ORDER BY number")?;
            let ids = stmt
                .query_map([status.map(OrderStatus::as_str)], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            ids.into_iter().map(|id| load(tx, id)).collect()
        })
    }

    /// Cancels an order in the warehouse: picked stock goes back to
    /// [`DEFAULT_LOCATION`], and the order's source hears of it through the
    /// change feed. A shipped or cancelled order is refused.
    pub fn cancel_order(&self, number: &str, reason: &str, user: &str, now_ms: i64) -> Result<()> {
        self.write(|tx| {
            let order = require_open(tx, number)?;
            cancel(tx, &order, reason, user, now_ms)?;
            let payload = OrderCancelled {
                reason: reason.to_owned(),
            };
            change_feed::append(
                tx,
                ChangeKind::OrderCancelled,
                Some(order.id),
                None,
                &payload,
                now_ms,
            )
        })
    }
}

/// The order with this number, refused if unknown.
pub(crate) fn require(conn: &Connection, number: &str) -> Result<OrderHead> {
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT id, status FROM orders WHERE number = ?1")?
        .query_row([number], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((id, status)) => Ok(OrderHead {
            id,
            number: number.to_owned(),
            status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Other),
        }),
        None => refuse(format!("unknown order {number:?}")),
    }
}

/// The order with this number, refused if unknown, cancelled or shipped.
pub(crate) fn require_open(conn: &Connection, number: &str) -> Result<OrderHead> {
    let order = require(conn, number)?;
    match order.status {
        OrderStatus::Cancelled => refuse(format!("order {number} is cancelled")),
        OrderStatus::Shipped => refuse(format!("order {number} is already shipped")),
        _ => Ok(order),
    }
}

/// Sets the status that follows from the lines (an exception stays one).
pub(crate) fn refresh_status(conn: &Connection, order: i64, now_ms: i64) -> Result<OrderStatus> {
    let (lines, picked_any, picked_all, shipped_any, shipped_all, current): (
        i64,
        bool,
        bool,
        bool,
        bool,
        String,
    ) = conn
        .prepare_cached(
            "SELECT COUNT(l.id),
                    COALESCE(MAX(l.picked > 0), 0),
                    COALESCE(MIN(l.picked >= l.ordered), 1),
                    COALESCE(MAX(l.shipped > 0), 0),
                    COALESCE(MIN(l.shipped >= l.ordered), 1),
                    o.status
             FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id AND l.not_shipped = 0
             WHERE o.id = ?1",
        )?
        .query_row([order], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
    if current == OrderStatus::Exception.as_str() || current == OrderStatus::Cancelled.as_str() {
        return Ok(OrderStatus::parse(&current).unwrap_or(OrderStatus::Other));
    }
    let status = if lines > 0 && shipped_all {
        OrderStatus::Shipped
    } else if shipped_any {
        OrderStatus::PartiallyShipped
    } else if lines > 0 && picked_all {
        OrderStatus::Picked
    } else if picked_any {
        OrderStatus::Picking
    } else {
        OrderStatus::Open
    };
    conn.prepare_cached(
        "UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1 AND status <> ?2",
    )?
    .execute(params![order, status.as_str(), now_ms])?;
    Ok(status)
}

/// Cancels an order; picked, unshipped stock returns to the default location.
fn cancel(
    conn: &Connection,
    order: &OrderHead,
    reason: &str,
    user: &str,
    now_ms: i64,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, item, picked - shipped FROM order_lines WHERE order_id = ?1 AND picked > shipped",
    )?;
    let returns = stmt
        .query_map([order.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<(i64, i64, i64)>, _>>()?;
    let why = format!("order {} cancelled: picked stock returned", order.number);
    for (line, item, quantity) in returns {
        Movement {
            kind: "adjust",
            item,
            location: DEFAULT_LOCATION,
            quantity,
            reason: &why,
            order_line: Some(line),
            user,
            now_ms,
        }
        .record(conn)?;
    }
    conn.prepare_cached(
        "UPDATE orders SET status = 'cancelled', cancel_reason = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![order.id, reason, now_ms])?;
    Ok(())
}

/// What the store's cancellation did to an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StoreCancel {
    Cancelled,
    /// Cancelled or put in exception before: nothing changed.
    AlreadyDone,
    /// The warehouse had picked or shipped from it: kept, now an exception
    /// with this reason.
    Exception(String),
}

/// Cancels `source`'s order because the store did. One the warehouse has
/// picked or shipped from is kept and becomes an exception instead.
pub(crate) fn cancel_from_source(
    conn: &Connection,
    source: &str,
    cancellation: &OrderCancellation,
    now_ms: i64,
) -> Result<StoreCancel> {
    let Some(order) = by_external_id(conn, source, &cancellation.external_id)? else {
        return refuse(format!(
            "unknown order (external id {:?})",
            cancellation.external_id
        ));
    };
    match order.status {
        OrderStatus::Cancelled | OrderStatus::Exception => return Ok(StoreCancel::AlreadyDone),
        _ => {}
    }
    if picked_total(conn, order.id)? > 0 {
        let why = if cancellation.reason.is_empty() {
            "cancelled by the store".to_owned()
        } else {
            cancellation.reason.clone()
        };
        let reason = format!("{why}, after the warehouse had picked or shipped from it");
        mark_exception(conn, order.id, &reason, now_ms)?;
        return Ok(StoreCancel::Exception(reason));
    }
    cancel(conn, &order, &cancellation.reason, source, now_ms)?;
    Ok(StoreCancel::Cancelled)
}

fn by_external_id(conn: &Connection, source: &str, external_id: &str) -> Result<Option<OrderHead>> {
    let row: Option<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT id, number, status FROM orders WHERE source = ?1 AND external_id = ?2",
        )?
        .query_row([source, external_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.map(|(id, number, status)| OrderHead {
        id,
        number,
        status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Other),
    }))
}

fn picked_total(conn: &Connection, order: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(SUM(picked), 0) FROM order_lines WHERE order_id = ?1")?
        .query_row([order], |r| r.get(0))?)
}

fn mark_exception(conn: &Connection, order: i64, reason: &str, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE orders SET status = 'exception', cancel_reason = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![order, reason, now_ms])?;
    Ok(())
}

/// What an order upsert did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderUpserted {
    pub upserted: Upserted,
    /// The order's id in the warehouse.
    pub id: i64,
    pub number: String,
    /// Set when the upsert put the order in exception, with the reason.
    pub exception: Option<String>,
}

/// A line of an upsert, resolved: its warehouse item (`None` for a kept
/// non-stock line) and description.
struct ResolvedLine<'a> {
    line: &'a OrderLine,
    item: Option<i64>,
    description: &'a str,
}

/// Creates or updates `source`'s order (see [`OrderUpsert`] for the rules).
/// `non_stock` names the not-shipped lines, by external line id, that may
/// be kept without a warehouse item, with their descriptions.
pub(crate) fn upsert(
    conn: &Connection,
    source: &str,
    order: &OrderUpsert,
    non_stock: &HashMap<&str, &str>,
    now_ms: i64,
) -> Result<OrderUpserted> {
    let number = order.number.trim();
    if order.external_id.is_empty() {
        return refuse("the external id is empty");
    }
    if number.is_empty() {
        return refuse("the order number is empty");
    }
    if order.lines.is_empty() {
        return refuse("the order has no lines");
    }
    let mut seen = HashSet::new();
    let mut lines = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let at = format!("line {} (external id {:?})", i + 1, line.external_line_id);
        if !seen.insert(line.external_line_id.as_str()) {
            return refuse(format!("{at}: the external line id appears twice"));
        }
        require_positive(line.quantity, &format!("{at}: the quantity"))?;
        let kept = line
            .not_shipped
            .then(|| non_stock.get(line.external_line_id.as_str()).copied())
            .flatten();
        match (items::resolve(conn, source, &line.item)?, kept) {
            (Some(item), description) => lines.push(ResolvedLine {
                line,
                item: Some(item),
                description: description.unwrap_or(""),
            }),
            (None, Some(description)) => lines.push(ResolvedLine {
                line,
                item: None,
                description,
            }),
            (None, None) => return refuse(format!("{at}: unknown item {:?}", line.item)),
        }
    }
    let taken: Option<i64> = conn
        .prepare_cached("SELECT id FROM orders WHERE number = ?1")?
        .query_row([number], |r| r.get(0))
        .optional()?;
    let existing = by_external_id(conn, source, &order.external_id)?;
    if let Some(taken_id) = taken
        && existing.as_ref().is_none_or(|o| o.id != taken_id)
    {
        return refuse(format!(
            "order number {number} is already used by another order"
        ));
    }
    let ship_to = serde_json::to_string(&order.ship_to)?;
    let Some(existing) = existing else {
        conn.prepare_cached(
            "INSERT INTO orders (number, source, external_id, status, customer, ship_to,
                                 shipping_method, customer_note, ordered_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?
        .execute(params![
            number,
            source,
            order.external_id,
            order.customer,
            ship_to,
            order.shipping_method,
            order.customer_note,
            order.ordered_at_ms,
            now_ms
        ])?;
        let id = conn.last_insert_rowid();
        for (n, line) in lines.iter().enumerate() {
            insert_line(conn, id, n as i64 + 1, line)?;
        }
        return Ok(OrderUpserted {
            upserted: Upserted::Created,
            id,
            number: number.to_owned(),
            exception: None,
        });
    };
    let header_changed =
        conn.prepare_cached(
            "UPDATE orders SET number = ?2, customer = ?3, ship_to = ?4, shipping_method = ?5,
                               customer_note = ?6, ordered_at = ?7, updated_at = ?8
             WHERE id = ?1
               AND (number IS NOT ?2 OR customer IS NOT ?3 OR ship_to IS NOT ?4
                    OR shipping_method IS NOT ?5 OR customer_note IS NOT ?6
                    OR ordered_at IS NOT ?7)",
        )?
        .execute(params![
            existing.id,
            number,
            order.customer,
            ship_to,
            order.shipping_method,
            order.customer_note,
            order.ordered_at_ms,
            now_ms
        ])? > 0;
    let mut upserted = OrderUpserted {
        upserted: if header_changed {
            Upserted::Updated
        } else {
            Upserted::Unchanged
        },
        id: existing.id,
        number: number.to_owned(),
        exception: None,
    };
    if matches!(
        existing.status,
        OrderStatus::Cancelled | OrderStatus::Shipped | OrderStatus::Exception
    ) {
        return Ok(upserted);
    }
    if picked_total(conn, existing.id)? > 0 {
        if let Some(change) = first_line_change(conn, existing.id, &lines)? {
            let reason = format!(
                "changed in the store after the warehouse had picked from it ({change}); the change was not applied"
            );
            mark_exception(conn, existing.id, &reason, now_ms)?;
            upserted.exception = Some(reason);
        }
        return Ok(upserted);
    }
    if first_line_change(conn, existing.id, &lines)?.is_some() {
        upserted.upserted = Upserted::Updated;
    }
    replace_lines(conn, existing.id, &lines)?;
    refresh_status(conn, existing.id, now_ms)?;
    Ok(upserted)
}

/// A stored line, as the sent lines are compared with it.
struct StoredLine {
    id: i64,
    line_no: i64,
    item: Option<i64>,
    ordered: i64,
    not_shipped: bool,
}

fn stored_lines(conn: &Connection, order: i64) -> Result<HashMap<String, StoredLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT external_line_id, id, line_no, item, ordered, not_shipped
         FROM order_lines WHERE order_id = ?1",
    )?;
    let stored = stmt
        .query_map([order], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                StoredLine {
                    id: r.get(1)?,
                    line_no: r.get(2)?,
                    item: r.get(3)?,
                    ordered: r.get(4)?,
                    not_shipped: r.get(5)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(stored)
}

/// How the sent lines differ from the stored ones, in words (the first
/// difference), or `None` when they are the same.
fn first_line_change(
    conn: &Connection,
    order: i64,
    lines: &[ResolvedLine<'_>],
) -> Result<Option<String>> {
    let mut stored = stored_lines(conn, order)?;
    for sent in lines {
        let id = &sent.line.external_line_id;
        match stored.remove(id.as_str()) {
            None => return Ok(Some(format!("a line (external id {id:?}) was added"))),
            Some(s) if s.item != sent.item => {
                return Ok(Some(format!("line {} changed its item", s.line_no)));
            }
            Some(s) if s.ordered != sent.line.quantity => {
                return Ok(Some(format!(
                    "line {} quantity {} -> {}",
                    s.line_no, s.ordered, sent.line.quantity
                )));
            }
            Some(s) if s.not_shipped != sent.line.not_shipped => {
                return Ok(Some(format!("line {} changed whether it ships", s.line_no)));
            }
            Some(_) => {}
        }
    }
    Ok(stored
        .values()
        .map(|s| s.line_no)
        .min()
        .map(|line_no| format!("line {line_no} was removed")))
}

/// Matches the sent lines to the stored ones by external line id; nothing
/// of the order is picked yet.
fn replace_lines(conn: &Connection, order: i64, lines: &[ResolvedLine<'_>]) -> Result<()> {
    let mut stored = stored_lines(conn, order)?;
    let mut next_line = stored.values().map(|s| s.line_no).max().unwrap_or(0) + 1;
    for sent in lines {
        match stored.remove(sent.line.external_line_id.as_str()) {
            Some(s) => {
                conn.prepare_cached(
                    "UPDATE order_lines SET item = ?2, ordered = ?3, not_shipped = ?4, description = ?5
                     WHERE id = ?1",
                )?
                .execute(params![
                    s.id,
                    sent.item,
                    sent.line.quantity,
                    sent.line.not_shipped,
                    sent.description
                ])?;
            }
            None => {
                insert_line(conn, order, next_line, sent)?;
                next_line += 1;
            }
        }
    }
    for s in stored.values() {
        conn.prepare_cached("DELETE FROM order_lines WHERE id = ?1")?
            .execute([s.id])?;
    }
    Ok(())
}

fn insert_line(conn: &Connection, order: i64, line_no: i64, sent: &ResolvedLine<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO order_lines (order_id, line_no, item, description, ordered, external_line_id, not_shipped)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        order,
        line_no,
        sent.item,
        sent.description,
        sent.line.quantity,
        sent.line.external_line_id,
        sent.line.not_shipped
    ])?;
    Ok(())
}

/// The whole order: header, lines and shipments.
pub(crate) fn load(conn: &Connection, id: i64) -> Result<Order> {
    let (mut order, ship_to): (Order, String) = conn
        .prepare_cached(
            "SELECT number, source, external_id, status, customer, ship_to, shipping_method,
                    customer_note, ordered_at, created_at, updated_at, cancel_reason
             FROM orders WHERE id = ?1",
        )?
        .query_row([id], |r| {
            let status: String = r.get(3)?;
            Ok((
                Order {
                    number: r.get(0)?,
                    source: r.get(1)?,
                    external_id: r.get(2)?,
                    status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Other),
                    customer: r.get(4)?,
                    ship_to: Address::default(),
                    shipping_method: r.get(6)?,
                    customer_note: r.get(7)?,
                    ordered_at_ms: r.get(8)?,
                    created_at_ms: r.get(9)?,
                    updated_at_ms: r.get(10)?,
                    cancel_reason: r.get(11)?,
                    lines: Vec::new(),
                    shipments: Vec::new(),
                },
                r.get(5)?,
            ))
        })?;
    order.ship_to = serde_json::from_str(&ship_to)?;
    let mut stmt = conn.prepare_cached(
        "SELECT l.line_no, COALESCE(i.number, ''), l.ordered, l.picked, l.shipped,
                l.external_line_id, l.not_shipped
         FROM order_lines l LEFT JOIN items i ON i.id = l.item
         WHERE l.order_id = ?1 ORDER BY l.line_no",
    )?;
    order.lines = stmt
        .query_map([id], |r| {
            Ok(OrderLineView {
                line: r.get(0)?,
                item_number: r.get(1)?,
                ordered: r.get(2)?,
                picked: r.get(3)?,
                shipped: r.get(4)?,
                external_line_id: r.get(5)?,
                not_shipped: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, carrier, service, tracking, shipped_at FROM shipments
         WHERE order_id = ?1 ORDER BY id",
    )?;
    let shipments = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Shipment {
                    carrier: r.get(1)?,
                    service: r.get(2)?,
                    tracking: r.get(3)?,
                    shipped_at_ms: r.get(4)?,
                    lines: Vec::new(),
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (shipment_id, mut shipment) in shipments {
        shipment.lines = shipped_lines(conn, shipment_id)?;
        order.shipments.push(shipment);
    }
    Ok(order)
}

/// The lines of one shipment.
pub(crate) fn shipped_lines(conn: &Connection, shipment: i64) -> Result<Vec<ShippedLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.line_no, i.number, l.external_line_id, s.quantity
         FROM shipment_lines s JOIN order_lines l ON l.id = s.order_line JOIN items i ON i.id = l.item
         WHERE s.shipment = ?1 ORDER BY l.line_no",
    )?;
    let lines = stmt
        .query_map([shipment], |r| {
            Ok(ShippedLine {
                line: r.get(0)?,
                item_number: r.get(1)?,
                external_line_id: r.get(2)?,
                quantity: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(lines)
}
