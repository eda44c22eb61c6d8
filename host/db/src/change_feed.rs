//! The change feed: what happened on the IntelliTrack side (picks,
//! shipments, inventory changes, cancellations), in commit order, with a
//! sequence number that only grows.
//!
//! Kinds: those of [`ChangeKind`] (`pick-recorded`, `shipment-recorded`,
//! `inventory-adjusted`, `inventory-received`, `order-cancelled`), and three
//! the plugin API does not name yet: [`ITEM_CREATED`] and
//! [`ITEM_DEACTIVATED`], written by the warehouse's own item commands, and
//! [`ORDER_ALLOCATION`], written by an import that changes what an order
//! allocates. A plugin reads those as [`ChangeKind::Other`], and only for an
//! item it has an external id for, which an item made by hand has not until
//! a plugin links it by number.
//!
//! A source sees the events of its own orders, the inventory events of its
//! items, and the [`ORDER_ALLOCATION`] events of its items whatever order
//! they come from: another source's order takes the same shared stock. Its
//! items are those its store still sells: once it deactivated its reference
//! to an item (see [`crate::items`]), that item's events are no longer its
//! own, though other stores still sell the item. For
//! another source's order the event names the item only (its order fields
//! are empty), so a reader tells its own orders from the others'.
//!
//! Events are appended in the same transaction as the change they describe,
//! and SQLite has one writer at a time, so sequence order is commit order: a
//! reader never sees event `n + 1` before event `n`. Readers keep their own
//! cursor (a plugin keeps it in its state) and, since plugin API 1.5,
//! acknowledge it to the host ([`crate::feed_acks`]), so that events every
//! reader is done with can be pruned.

use std::collections::BTreeSet;

use plugin_api::warehouse::{ChangeEvent, ChangeKind, ChangePage};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::{Db, Result};

/// The most events one read returns.
pub const MAX_CHANGES_PAGE: u32 = 10_000;

/// An item was made by hand (`plugin-host items add`). Payload: the item's
/// fields after the change and who made it (`ItemChanged`).
pub const ITEM_CREATED: &str = "item-created";
/// An item was deactivated by hand (`plugin-host items deactivate`); it can
/// no longer be received. Payload as for [`ITEM_CREATED`].
pub const ITEM_DEACTIVATED: &str = "item-deactivated";
/// An import changed what an order allocates of an item (a new order, its
/// lines changed, cancelled or refunded by the store): the item's available
/// quantity moved. One event per item whose allocation changed. Payload:
/// [`OrderAllocation`].
pub const ORDER_ALLOCATION: &str = "order-allocation";

/// The payload of [`ORDER_ALLOCATION`]: what the order allocated of the
/// item before the import and after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAllocation {
    pub allocated_before: i64,
    pub allocated: i64,
}

impl Db {
    /// Up to `limit` (at most [`MAX_CHANGES_PAGE`]) of `source`'s events after
    /// `after`, oldest first. `source` sees the events of the orders it sent,
    /// and the inventory and [`ORDER_ALLOCATION`] events of the items it has
    /// a live external id for (another source's order left out of the event);
    /// the page's cursor moves past the others too.
    /// Reading makes `source` one of the feed's readers, whose
    /// acknowledgements pruning waits for ([`crate::feed_horizon`]).
    pub fn changes_after(&self, source: &str, after: i64, limit: u32) -> Result<ChangePage> {
        self.note_feed_reader(source)?;
        let limit = limit.min(MAX_CHANGES_PAGE);
        self.read(|tx| {
            let events = visible(tx, source, "f.seq > :after", &[(":after", &after)], limit)?;
            let cursor = if events.len() as u32 == limit {
                events.last().map_or(after, |e| e.seq)
            } else {
                last_seq(tx)?.max(after)
            };
            Ok(ChangePage { events, cursor })
        })
    }

    /// The feed's last sequence number (0 while it is empty).
    pub fn feed_end(&self) -> Result<i64> {
        self.read(|tx| last_seq(tx))
    }

    /// The kinds among `kinds` of the events after `after` that `source`
    /// sees ([`Db::changes_after`]) and that are not of its own orders (a
    /// source made those changes itself), and where the feed ends: what
    /// decides whether a plugin's feed wakes are due. One range of the
    /// feed's key from `after`, so cheap when `after` is recent; it does
    /// not make `source` a reader of the feed.
    pub fn kinds_woken_after(&self, source: &str, after: i64, kinds: &[String]) -> Result<Glance> {
        self.read(|tx| {
            let end = last_seq(tx)?;
            let kinds_json = serde_json::to_string(kinds)?;
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT DISTINCT f.kind
                 FROM change_feed f
                 LEFT JOIN orders o ON o.id = f.order_id
                 LEFT JOIN item_refs r ON r.item = f.item AND r.source = :source
                 WHERE f.seq > :after AND f.seq <= :end
                   AND f.kind IN (SELECT value FROM json_each(:kinds))
                   AND {VISIBLE_TO_SOURCE} AND o.source IS NOT :source"
            ))?;
            let woken = stmt
                .query_map(
                    rusqlite::named_params! {
                        ":source": source,
                        ":after": after,
                        ":end": end,
                        ":kinds": kinds_json,
                    },
                    |r| r.get(0),
                )?
                .collect::<rusqlite::Result<BTreeSet<String>>>()?;
            Ok(Glance { end, woken })
        })
    }
}

/// What [`Db::kinds_woken_after`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glance {
    /// The feed's last sequence number: the next look starts after it.
    pub end: i64,
    /// The kinds asked for that the source sees among the events looked at.
    pub woken: BTreeSet<String>,
}

/// Whether the feed carries events of `kind` (a wire name): those of
/// [`ChangeKind`] and the host's own [`ITEM_CREATED`], [`ITEM_DEACTIVATED`]
/// and [`ORDER_ALLOCATION`].
pub fn is_feed_kind(kind: &str) -> bool {
    [ITEM_CREATED, ITEM_DEACTIVATED, ORDER_ALLOCATION].contains(&kind)
        || serde_json::from_value::<ChangeKind>(serde_json::Value::String(kind.to_owned()))
            .is_ok_and(|k| k != ChangeKind::Other)
}

fn last_seq(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM change_feed", [], |r| {
            r.get(0)
        })?,
    )
}

/// Whether `source` may see the feed row `f` (joined as [`visible`] joins
/// it: its order `o`, its item's reference `r` for `:source`, which counts
/// while not gone).
pub(crate) const VISIBLE_TO_SOURCE: &str = "(o.source = :source OR (r.external_id IS NOT NULL \
     AND r.gone_at IS NULL AND (f.order_id IS NULL OR f.kind = 'order-allocation')))";

/// The events `source` may see among those `condition` (SQL on the feed
/// row `f`, with its own named arguments) selects, oldest first, at most
/// `limit`: those of the orders it sent, and the inventory events of the
/// items it has a live external id for, and the [`ORDER_ALLOCATION`] events of
/// those items, another source's order left out.
pub(crate) fn visible(
    conn: &Connection,
    source: &str,
    condition: &str,
    args: &[(&str, &dyn rusqlite::ToSql)],
    limit: u32,
) -> Result<Vec<ChangeEvent>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT f.seq, f.at, f.kind,
                CASE WHEN o.source = :source THEN o.number END,
                CASE WHEN o.source = :source THEN o.external_id END,
                i.number, r.external_id, f.payload
         FROM change_feed f
         LEFT JOIN orders o ON o.id = f.order_id
         LEFT JOIN items i ON i.id = f.item
         LEFT JOIN item_refs r ON r.item = f.item AND r.source = :source
         WHERE ({condition}) AND {VISIBLE_TO_SOURCE}
         ORDER BY f.seq
         LIMIT :limit"
    ))?;
    let mut all: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":source", &source), (":limit", &limit)];
    all.extend_from_slice(args);
    let rows = stmt.query_map(all.as_slice(), |r| {
        let kind: String = r.get(2)?;
        let payload: String = r.get(7)?;
        Ok((
            ChangeEvent {
                seq: r.get(0)?,
                at_ms: r.get(1)?,
                kind: serde_json::from_value(serde_json::Value::String(kind))
                    .unwrap_or(ChangeKind::Other),
                order_number: r.get(3)?,
                order_external_id: r.get(4)?,
                item_number: r.get(5)?,
                item_external_id: r.get(6)?,
                payload: serde_json::Value::Null,
            },
            payload,
        ))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (mut event, payload) = row?;
        event.payload = serde_json::from_str(&payload)?;
        events.push(event);
    }
    Ok(events)
}

/// Appends one event.
pub(crate) fn append(
    conn: &Connection,
    kind: ChangeKind,
    order: Option<i64>,
    item: Option<i64>,
    payload: &impl Serialize,
    now_ms: i64,
) -> Result<()> {
    append_kind(conn, kind.as_str(), order, item, payload, now_ms)
}

/// Appends one event of a kind the plugin API has no [`ChangeKind`] for
/// (yet): [`ITEM_CREATED`], [`ITEM_DEACTIVATED`], [`ORDER_ALLOCATION`].
pub(crate) fn append_kind(
    conn: &Connection,
    kind: &str,
    order: Option<i64>,
    item: Option<i64>,
    payload: &impl Serialize,
    now_ms: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO change_feed (at, kind, order_id, item, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        now_ms,
        kind,
        order,
        item,
        serde_json::to_string(payload)?
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::{ImportBatch, InventoryChanged, OrderCancelled, PickRecorded};

    use super::*;
    use crate::testing::{WOO, item, order, stocked_with_order};

    #[test]
    fn events_come_in_order_after_the_cursor() {
        let (_d, db) = stocked_with_order();
        let page = db.changes_after(WOO, 0, 100).unwrap();
        let kinds: Vec<_> = page.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::Other,
                ChangeKind::Other,
                ChangeKind::InventoryReceived,
                ChangeKind::InventoryReceived
            ]
        );
        // The order's import: one allocation event per item, with its order.
        let allocated: OrderAllocation = page.events[0].details().unwrap();
        assert_eq!((allocated.allocated_before, allocated.allocated), (0, 3));
        assert_eq!(page.events[0].order_external_id.as_deref(), Some("1"));
        assert_eq!(page.events[1].item_external_id.as_deref(), Some("b"));
        let received: InventoryChanged = page.events[2].details().unwrap();
        assert_eq!((received.quantity, received.on_hand_at_location), (10, 10));
        assert_eq!(page.events[2].item_external_id.as_deref(), Some("a"));
        assert_eq!(page.cursor, page.events[3].seq);
        assert!(page.events[2].seq < page.events[3].seq);

        db.pick("WC-1", 2, 1, None, "ann", 30).unwrap();
        db.adjust("SKU-A", -1, "broken", None, "ann", 31).unwrap();
        db.cancel_order("WC-1", "out of stock", "ann", 32).unwrap();
        let next = db.changes_after(WOO, page.cursor, 100).unwrap();
        let kinds: Vec<_> = next.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::PickRecorded,
                ChangeKind::InventoryAdjusted,
                ChangeKind::OrderCancelled
            ]
        );
        let pick: PickRecorded = next.events[0].details().unwrap();
        assert_eq!(
            (pick.line, pick.external_line_id.as_deref(), pick.quantity),
            (2, Some("12"), 1)
        );
        assert_eq!(next.events[0].order_external_id.as_deref(), Some("1"));
        let cancelled: OrderCancelled = next.events[2].details().unwrap();
        assert_eq!(cancelled.reason, "out of stock");

        // Paging: one at a time, each cursor past the event returned.
        let first = db.changes_after(WOO, page.cursor, 1).unwrap();
        assert_eq!(first.events, next.events[..1]);
        let second = db.changes_after(WOO, first.cursor, 1).unwrap();
        assert_eq!(second.events, next.events[1..2]);
        // Nothing new: the cursor stays.
        let empty = db.changes_after(WOO, next.cursor, 100).unwrap();
        assert_eq!((empty.events.len(), empty.cursor), (0, next.cursor));
    }

    #[test]
    fn a_plugin_sees_only_its_orders_and_items_but_its_cursor_passes_the_rest() {
        let (_d, db) = stocked_with_order();
        db.apply_batch(
            "erp",
            &ImportBatch {
                item_upserts: vec![item("e1", "SKU-E")],
                order_upserts: vec![order("100", "ERP-100", &[("1", "e1", 1)])],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        db.receive("SKU-E", 5, None, "ann", 2).unwrap();
        db.pick("ERP-100", 1, 1, None, "ann", 3).unwrap();
        let woo_start = db.changes_after(WOO, 0, 100).unwrap().cursor;
        let woo = db.changes_after(WOO, woo_start - 2, 100).unwrap();
        assert!(woo.events.is_empty(), "{:?}", woo.events);
        assert_eq!(woo.cursor, woo_start);
        let erp = db.changes_after("erp", 0, 100).unwrap();
        let kinds: Vec<_> = erp.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::Other,
                ChangeKind::InventoryReceived,
                ChangeKind::PickRecorded
            ]
        );
        assert_eq!(erp.cursor, woo_start);
    }

    #[test]
    fn another_sources_order_is_seen_as_an_allocation_of_the_shared_item_only() {
        let (_d, db) = stocked_with_order();
        let woo_start = db.changes_after(WOO, 0, 100).unwrap().cursor;
        // Another store sells SKU-A too: its order takes 2 of the shared item.
        db.apply_batch(
            "other",
            &ImportBatch {
                item_upserts: vec![item("x", "SKU-A")],
                order_upserts: vec![order("7", "OT-7", &[("71", "x", 2)])],
                ..ImportBatch::default()
            },
            40,
        )
        .unwrap();
        let woo = db.changes_after(WOO, woo_start, 100).unwrap();
        assert_eq!(woo.events.len(), 1, "{:?}", woo.events);
        let event = &woo.events[0];
        assert_eq!(event.kind, ChangeKind::Other);
        assert_eq!(event.item_external_id.as_deref(), Some("a"));
        assert_eq!(
            (
                event.order_number.as_deref(),
                event.order_external_id.as_deref()
            ),
            (None, None)
        );
        let allocated: OrderAllocation = event.details().unwrap();
        assert_eq!((allocated.allocated_before, allocated.allocated), (0, 2));
        let own = db.changes_after("other", 0, 100).unwrap().events;
        let own: Vec<_> = own
            .iter()
            .filter(|e| e.kind == ChangeKind::Other)
            .map(|e| {
                (
                    e.order_external_id.as_deref(),
                    e.item_external_id.as_deref(),
                )
            })
            .collect();
        // The first store's order of the now shared item, then its own.
        assert_eq!(own, [(None, Some("x")), (Some("7"), Some("x"))]);

        // The same order sent again unchanged moves nothing; cancelled, it
        // gives its 2 back.
        db.apply_batch(
            "other",
            &ImportBatch {
                order_upserts: vec![order("7", "OT-7", &[("71", "x", 2)])],
                ..ImportBatch::default()
            },
            41,
        )
        .unwrap();
        assert!(
            db.changes_after(WOO, woo.cursor, 100)
                .unwrap()
                .events
                .is_empty()
        );
        db.apply_batch(
            "other",
            &ImportBatch {
                order_cancellations: vec![plugin_api::warehouse::OrderCancellation {
                    external_id: "7".into(),
                    reason: String::new(),
                }],
                ..ImportBatch::default()
            },
            42,
        )
        .unwrap();
        let after = db.changes_after(WOO, woo.cursor, 100).unwrap().events;
        assert_eq!(after.len(), 1, "{after:?}");
        let given_back: OrderAllocation = after[0].details().unwrap();
        assert_eq!((given_back.allocated_before, given_back.allocated), (2, 0));
    }

    #[test]
    fn a_source_is_woken_by_the_kinds_it_sees_but_not_by_its_own_orders() {
        let (_d, db) = stocked_with_order();
        let kinds = vec![ORDER_ALLOCATION.to_owned()];
        let start = db.feed_end().unwrap();
        // Its own order's allocation and a receipt of another kind: nothing.
        db.apply_batch(
            WOO,
            &ImportBatch {
                order_upserts: vec![order("2", "WC-2", &[("21", "a", 1)])],
                ..ImportBatch::default()
            },
            20,
        )
        .unwrap();
        db.receive("SKU-A", 1, None, "ann", 21).unwrap();
        let own = db.kinds_woken_after(WOO, start, &kinds).unwrap();
        assert_eq!(own.end, db.feed_end().unwrap());
        assert!(own.end > start);
        assert!(own.woken.is_empty(), "{own:?}");
        // Another source's order of an item it has and of one it has not.
        db.apply_batch(
            "other",
            &ImportBatch {
                item_upserts: vec![item("x", "SKU-A"), item("y", "SKU-Y")],
                order_upserts: vec![
                    order("7", "OT-7", &[("71", "x", 2)]),
                    order("8", "OT-8", &[("81", "y", 1)]),
                ],
                ..ImportBatch::default()
            },
            22,
        )
        .unwrap();
        let other = db.kinds_woken_after(WOO, own.end, &kinds).unwrap();
        assert_eq!(other.woken, BTreeSet::from([ORDER_ALLOCATION.to_owned()]));
        // Once looked at, the same events wake nothing again.
        let again = db.kinds_woken_after(WOO, other.end, &kinds).unwrap();
        assert_eq!((again.end, again.woken.len()), (other.end, 0));
        // The other source sees its own orders' events, but they wake
        // nothing of its own.
        let theirs = db
            .kinds_woken_after("other", own.end, &kinds)
            .unwrap()
            .woken;
        assert!(theirs.is_empty(), "{theirs:?}");
        // Looking is not reading: the source did not become a reader.
        assert_eq!(db.feed_horizon().unwrap(), crate::FeedHorizon::Unread);
    }

    #[test]
    fn the_feed_kinds_are_its_change_kinds_and_the_hosts_own() {
        for kind in [
            "pick-recorded",
            "inventory-received",
            "order-cancelled",
            ORDER_ALLOCATION,
            ITEM_CREATED,
        ] {
            assert!(is_feed_kind(kind), "{kind}");
        }
        for kind in ["other", "order-allocations", "", "ORDER-ALLOCATION"] {
            assert!(!is_feed_kind(kind), "{kind}");
        }
    }
}
