//! Which of the store's orders can be left unread by a stock push. Pure:
//! a full read's orders and the warehouse's copies in, a checkpoint out.
//!
//! The holds ([`super::holds`]) are taken over every order placed since the
//! first opening, and a store's order history only grows: reading it all
//! on every Sync Interval costs a request per 100 orders ever placed. Yet
//! most of those orders can never hold anything again:
//!
//! - the store ended it (cancelled, refunded, failed, trashed): it holds
//!   nothing, whatever the warehouse does;
//! - no line has stock taken out (`_reduced_stock`): it holds nothing until
//!   the store takes some;
//! - the warehouse shipped it (a shipped order is never cancelled or
//!   changed in the warehouse again), with at least each line's taken
//!   units: what the store took is what the warehouse shipped.
//!
//! Such an order is *settled*: only a change in the store (paid, reopened,
//! edited, refunded) can make it hold, and every such change moves its
//! `date_modified`. So after a full read (End of Day's), a push reads the
//! orders modified since that read began and, by id, the ones that were
//! not settled ([`HeldOrdersCheckpoint`]). Nothing in the warehouse can
//! make a settled order hold again, so a checkpoint never goes stale: an
//! older one only means a longer listing of modified orders.
//!
//! An order deleted for good is in no listing: the checkpoint's reads and
//! a full read agree on it (it holds nothing).

use std::collections::HashMap;

use plugin_api::warehouse::{Order as WarehouseOrder, OrderStatus};
use serde::{Deserialize, Serialize};
use woo_client::model::Order;

use super::orders::{ENDING_STATUSES, reduced_stock};

/// Whether `order` holds nothing now and can only come to hold something
/// by a change in the store; `copy`: the warehouse's copy of it.
pub fn is_settled(order: &Order, copy: Option<&WarehouseOrder>) -> bool {
    if ENDING_STATUSES.contains(&order.status.as_str()) {
        return true;
    }
    let shipped = copy.filter(|c| c.status == OrderStatus::Shipped);
    order.line_items.iter().all(|line| {
        let Some(reduced) = reduced_stock(line) else {
            return true;
        };
        let id = line.id.to_string();
        shipped.is_some_and(|c| {
            c.lines.iter().any(|l| {
                l.external_line_id.as_deref() == Some(id.as_str())
                    && !l.not_shipped
                    && l.ordered >= reduced
            })
        })
    })
}

/// What a full read of the orders that may hold stock leaves to read: the
/// orders modified since the read began, and those it found not settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldOrdersCheckpoint {
    /// The read's `after` (store time, ms, exclusive): `None` read every
    /// order. A read with a later `after` may use the checkpoint; one with
    /// an earlier one may not.
    pub since_ms: Option<i64>,
    /// Store time (ms) a little before the read began: an order changed
    /// after it may be news.
    pub modified_after_ms: i64,
    /// The orders of the read that were not settled, read again by id.
    pub open: Vec<u64>,
}

impl HeldOrdersCheckpoint {
    /// The checkpoint of a full read of `orders` placed after `since_ms`
    /// that began at `modified_after_ms` (store time, a margin taken off),
    /// against the warehouse's `copies` by store order id.
    pub fn after_full_read<'a>(
        since_ms: Option<i64>,
        modified_after_ms: i64,
        orders: impl IntoIterator<Item = &'a Order>,
        copies: &HashMap<u64, WarehouseOrder>,
    ) -> Self {
        let mut open: Vec<u64> = orders
            .into_iter()
            .filter(|o| !is_settled(o, copies.get(&o.id)))
            .map(|o| o.id)
            .collect();
        open.sort_unstable();
        Self {
            since_ms,
            modified_after_ms,
            open,
        }
    }

    /// Whether a read of the orders placed after `since_ms` (`None`: every
    /// order) may take this checkpoint's place.
    pub fn covers(&self, since_ms: Option<i64>) -> bool {
        match (self.since_ms, since_ms) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(checkpoint), Some(wanted)) => checkpoint <= wanted,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::mapping::holds::tests::{line as order_line, warehouse_order as copy};

    fn store_order(id: u64, status: &str, lines: Value) -> Order {
        crate::mapping::holds::tests::store_order(id, status, "2026-12-02T10:00:00", lines)
    }

    fn line(id: u64, quantity: i64, reduced: Option<i64>) -> Value {
        order_line(id, 11, 0, quantity, reduced)
    }

    #[test]
    fn ended_untaken_and_shipped_orders_are_settled_whatever_the_warehouse_holds() {
        let taken = json!([line(1, 2, Some(2))]);
        // Ended by the store, even with stock still marked taken.
        assert!(is_settled(
            &store_order(1, "cancelled", taken.clone()),
            None
        ));
        assert!(is_settled(&store_order(1, "refunded", taken.clone()), None));
        // Nothing taken yet (a pending order).
        assert!(is_settled(
            &store_order(1, "pending", json!([line(1, 2, None)])),
            None
        ));
        // Shipped by the warehouse, every taken unit.
        let shipped = copy(1, OrderStatus::Shipped, &[(1, 2, false)]);
        assert!(is_settled(
            &store_order(1, "completed", taken.clone()),
            Some(&shipped)
        ));
    }

    #[test]
    fn an_order_the_warehouse_may_still_change_or_never_had_is_open() {
        let taken = json!([line(1, 2, Some(2))]);
        // Completed in the store, never in the warehouse: it holds forever.
        assert!(!is_settled(
            &store_order(1, "completed", taken.clone()),
            None
        ));
        // On hold: not imported.
        assert!(!is_settled(&store_order(1, "on-hold", taken.clone()), None));
        // Imported, not shipped: the warehouse may cancel it.
        for status in [
            OrderStatus::Open,
            OrderStatus::Picked,
            OrderStatus::PartiallyShipped,
            OrderStatus::Cancelled,
        ] {
            let c = copy(1, status, &[(1, 2, false)]);
            assert!(
                !is_settled(&store_order(1, "processing", taken.clone()), Some(&c)),
                "{status:?}"
            );
        }
        // Shipped, but fewer units than the store took, a line it does not
        // ship, or a line it does not have.
        for lines in [
            &[(1, 1, false)][..],
            &[(1, 2, true)][..],
            &[(9, 2, false)][..],
        ] {
            let c = copy(1, OrderStatus::Shipped, lines);
            assert!(
                !is_settled(&store_order(1, "completed", taken.clone()), Some(&c)),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn the_checkpoint_keeps_the_open_orders_and_covers_only_later_reads() {
        let orders = [
            store_order(7, "on-hold", json!([line(1, 1, Some(1))])),
            store_order(3, "cancelled", json!([line(2, 1, Some(1))])),
            store_order(5, "completed", json!([line(3, 1, Some(1))])),
        ];
        let checkpoint =
            HeldOrdersCheckpoint::after_full_read(Some(1_000), 50_000, &orders, &HashMap::new());
        assert_eq!(checkpoint.open, vec![5, 7]);
        assert!(checkpoint.covers(Some(1_000)));
        assert!(checkpoint.covers(Some(9_000)));
        assert!(!checkpoint.covers(Some(999)));
        assert!(!checkpoint.covers(None), "every order is more than it read");
        let every = HeldOrdersCheckpoint::after_full_read(None, 50_000, &orders, &HashMap::new());
        assert!(every.covers(None));
    }
}
