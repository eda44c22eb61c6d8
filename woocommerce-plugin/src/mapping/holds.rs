//! What the store holds for orders the warehouse does not have. Pure: the
//! store's orders and the warehouse's copies of them in, units per item out.
//!
//! WooCommerce takes an order's lines out of its own count when the order
//! goes on-hold, processing or completed (each line's `_reduced_stock`),
//! gives them back when it is cancelled, and lowers `_reduced_stock` when a
//! refund puts units back. The store's count therefore lacks, beside what
//! the warehouse ships, the units of every order the warehouse does not
//! ship: on-hold orders, orders in statuses that are not imported, orders
//! that failed to import, and units refunded without being put back. For
//! one order line that is:
//!
//! - `_reduced_stock` less what the warehouse ships or shipped of the line
//!   (nothing when the warehouse does not have the order or cancelled it),
//!   never below zero;
//! - nothing for an order the store ended (cancelled, refunded, failed,
//!   trashed), whatever its lines still say;
//! - nothing for an order placed before the item's stock was opened: the
//!   count the opening was taken from already lacked it (the host adds an
//!   imported one's units back once, see `opening_corrected`). The store
//!   dates orders to the second, so one placed in the second of the count
//!   counts as placed after it;
//! - for an item the warehouse counted itself, without an opening from this
//!   store's count (a variation whose parent keeps the stock, an item
//!   another store opened, one made by hand): every order since the first
//!   count this store's stock was opened from, or every order at all when
//!   there is none. The warehouse's count has the units of the orders it
//!   does not have on its shelf, while the store's count lacks them.

use std::collections::HashMap;

use plugin_api::warehouse::{Order as WarehouseOrder, OrderStatus, StockBasis};
use woo_client::model::Order;

use super::orders::{ENDING_STATUSES, product_id, reduced_stock};

/// Units the store holds, by the store id of the item (its variation's
/// id, else its product's).
pub type Holds = HashMap<u64, i64>;

/// Since when the store's orders hold an item's units (`i64::MIN`: every
/// order), by the module's rules; `None` for an item whose count is not
/// sent (neither opened from this store nor counted by the warehouse).
/// `first_opening`: the earliest `opened_at_ms` of the plugin's items.
pub fn holding_since(basis: &StockBasis, first_opening: Option<i64>) -> Option<i64> {
    match basis.opened_at_ms {
        Some(opened) => Some(opened),
        None if basis.counted => Some(first_opening.unwrap_or(i64::MIN)),
        None => None,
    }
}

/// The earliest `opened_at_ms` of `bases`.
pub fn first_opening<'a>(bases: impl IntoIterator<Item = &'a StockBasis>) -> Option<i64> {
    bases.into_iter().filter_map(|b| b.opened_at_ms).min()
}

/// The `after` of the listing of the orders that may hold the stock of
/// the items of `bases`: `None` when none can; `Some(None)` for every
/// order. `after` is exclusive and to the second, so it is a second
/// before the earliest time, keeping an order placed in that second.
pub fn orders_after<'a>(
    bases: impl IntoIterator<Item = &'a StockBasis>,
    first_opening: Option<i64>,
) -> Option<Option<i64>> {
    bases
        .into_iter()
        .filter_map(|b| holding_since(b, first_opening))
        .min()
        .map(|since| (since != i64::MIN).then(|| since - 1000))
}

/// The units each item's store count lacks for orders the warehouse does
/// not ship. `warehouse`: the warehouse's copy of a store order, by the
/// store's order id. `opened_at_ms`: when the item's stock was opened from
/// the store's count (`None`: not an item of this store).
pub fn store_holds<'a>(
    orders: impl IntoIterator<Item = &'a Order>,
    warehouse: &HashMap<u64, WarehouseOrder>,
    opened_at_ms: impl Fn(u64) -> Option<i64>,
) -> Holds {
    let mut holds = Holds::new();
    for order in orders {
        if ENDING_STATUSES.contains(&order.status.as_str()) {
            continue;
        }
        let placed = order.date_created_gmt.map(|t| t.as_millisecond());
        let copy = warehouse
            .get(&order.id)
            .filter(|o| o.status != OrderStatus::Cancelled);
        for line in &order.line_items {
            let Some(reduced) = reduced_stock(line) else {
                continue;
            };
            let item = product_id(line);
            let Some(opened) = opened_at_ms(item) else {
                continue;
            };
            // The store dates orders to the second: one placed in the
            // second the count was taken is held (the safe side).
            // `i64::MIN` (every order) has no second before it.
            let from = opened
                .checked_sub(opened.rem_euclid(1000))
                .unwrap_or(i64::MIN);
            if placed.is_some_and(|placed| placed < from) {
                continue;
            }
            let line_id = line.id.to_string();
            let shipped_by_warehouse = copy
                .and_then(|o| {
                    o.lines
                        .iter()
                        .find(|l| l.external_line_id.as_deref() == Some(line_id.as_str()))
                })
                .filter(|l| !l.not_shipped)
                .map_or(0, |l| l.ordered);
            let held = (reduced - shipped_by_warehouse).max(0);
            if held > 0 {
                *holds.entry(item).or_default() += held;
            }
        }
    }
    holds
}

#[cfg(test)]
mod holding_since_tests {
    use super::*;

    fn basis(opened_at_ms: Option<i64>, counted: bool) -> StockBasis {
        serde_json::from_value(serde_json::json!({
            "external_id": "1", "opened_at_ms": opened_at_ms, "counted": counted,
        }))
        .unwrap()
    }

    #[test]
    fn an_item_the_warehouse_counted_without_an_opening_is_held_since_the_first_opening() {
        let opened = basis(Some(5_000), true);
        let pooled = basis(None, true);
        let never = basis(None, false);
        assert_eq!(holding_since(&opened, Some(2_000)), Some(5_000));
        assert_eq!(holding_since(&pooled, Some(2_000)), Some(2_000));
        assert_eq!(holding_since(&pooled, None), Some(i64::MIN));
        assert_eq!(holding_since(&never, Some(2_000)), None);
        let all = [opened.clone(), pooled.clone(), never.clone()];
        let first = first_opening(&all);
        assert_eq!(first, Some(5_000));
        assert_eq!(orders_after(&all, first), Some(Some(4_000)));
        assert_eq!(orders_after([&pooled], None), Some(None), "every order");
        assert_eq!(orders_after([&never], None), None, "nothing holds");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use plugin_api::warehouse::{Address, OrderLineView};
    use serde_json::{Value, json};

    use super::*;

    /// A store order as the held orders' listing returns it.
    pub(crate) fn store_order(id: u64, status: &str, created: &str, lines: Value) -> Order {
        serde_json::from_value(json!({
            "id": id, "status": status, "date_created_gmt": created, "line_items": lines,
        }))
        .unwrap()
    }

    /// A store order line; `reduced`: its `_reduced_stock`.
    pub(crate) fn line(
        id: u64,
        product: u64,
        variation: u64,
        quantity: i64,
        reduced: Option<i64>,
    ) -> Value {
        let meta = reduced.map_or(
            json!([]),
            |r| json!([{"id": 1, "key": "_reduced_stock", "value": r.to_string()}]),
        );
        json!({"id": id, "product_id": product, "variation_id": variation,
               "quantity": quantity, "meta_data": meta})
    }

    /// The warehouse's copy of store order `id`: lines of (store line id,
    /// ordered, not shipped).
    pub(crate) fn warehouse_order(
        id: u64,
        status: OrderStatus,
        lines: &[(u64, i64, bool)],
    ) -> WarehouseOrder {
        WarehouseOrder {
            number: id.to_string(),
            source: Some("woocommerce".into()),
            external_id: Some(id.to_string()),
            status,
            customer: String::new(),
            ship_to: Address::default(),
            shipping_method: String::new(),
            customer_note: String::new(),
            ordered_at_ms: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            cancel_reason: None,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, &(line, ordered, not_shipped))| OrderLineView {
                    line: i as i64 + 1,
                    item_number: "X".into(),
                    ordered,
                    picked: 0,
                    shipped: 0,
                    external_line_id: Some(line.to_string()),
                    not_shipped,
                })
                .collect(),
            shipments: vec![],
        }
    }

    const OPENED: &str = "2026-12-01T00:00:00Z";

    fn opened(item: u64) -> Option<i64> {
        let at: jiff::Timestamp = OPENED.parse().unwrap();
        (item != 99).then_some(at.as_millisecond())
    }

    #[test]
    fn an_item_held_since_every_order_holds_even_the_oldest() {
        // A second store whose items were all opened by the first: no
        // opening of its own, so its orders hold them since ever.
        let orders = [store_order(
            1,
            "on-hold",
            "2001-01-01T00:00:00",
            json!([line(1, 11, 0, 2, Some(2))]),
        )];
        // `holding_since` of such an item: `i64::MIN`.
        let holds = store_holds(&orders, &HashMap::new(), |_| Some(i64::MIN));
        assert_eq!(holds, HashMap::from([(11, 2)]));
    }

    #[test]
    fn orders_the_warehouse_does_not_have_hold_what_the_store_took() {
        let orders = [
            // On hold: not imported, took 1 of product 11.
            store_order(
                1,
                "on-hold",
                "2026-12-02T10:00:00",
                json!([line(1, 11, 0, 1, Some(1))]),
            ),
            // Processing and imported: the warehouse ships both.
            store_order(
                2,
                "processing",
                "2026-12-02T10:00:00",
                json!([line(2, 11, 0, 2, Some(2))]),
            ),
            // Completed without ever reaching the warehouse.
            store_order(
                3,
                "completed",
                "2026-12-02T10:00:00",
                json!([line(3, 20, 21, 3, Some(3))]),
            ),
            // Pending: the store took nothing.
            store_order(
                4,
                "pending",
                "2026-12-02T10:00:00",
                json!([line(4, 11, 0, 5, None)]),
            ),
            // Cancelled: whatever a line still says, nothing is held.
            store_order(
                5,
                "cancelled",
                "2026-12-02T10:00:00",
                json!([line(5, 11, 0, 4, Some(4))]),
            ),
            // Placed before the item was opened: its count already lacked it.
            store_order(
                6,
                "on-hold",
                "2026-11-30T10:00:00",
                json!([line(6, 11, 0, 7, Some(7))]),
            ),
            // Not an item of this store.
            store_order(
                7,
                "on-hold",
                "2026-12-02T10:00:00",
                json!([line(7, 99, 0, 1, Some(1))]),
            ),
        ];
        let warehouse =
            HashMap::from([(2, warehouse_order(2, OrderStatus::Open, &[(2, 2, false)]))]);
        let holds = store_holds(&orders, &warehouse, opened);
        assert_eq!(holds, Holds::from([(11, 1), (21, 3)]));
    }

    #[test]
    fn units_refunded_without_restock_stay_held_and_cancelled_copies_ship_nothing() {
        // Ordered 2, one refunded: the warehouse ships 1, the store still
        // lacks 2 (no restock) or 1 (restocked: `_reduced_stock` lowered).
        let no_restock = store_order(
            1,
            "processing",
            "2026-12-02T10:00:00",
            json!([line(1, 11, 0, 2, Some(2))]),
        );
        let restocked = store_order(
            2,
            "processing",
            "2026-12-02T10:00:00",
            json!([line(2, 12, 0, 2, Some(1))]),
        );
        let cancelled_in_warehouse = store_order(
            3,
            "processing",
            "2026-12-02T10:00:00",
            json!([line(3, 13, 0, 1, Some(1))]),
        );
        let not_shipped = store_order(
            4,
            "processing",
            "2026-12-02T10:00:00",
            json!([line(4, 14, 0, 1, Some(1))]),
        );
        let warehouse = HashMap::from([
            (1, warehouse_order(1, OrderStatus::Open, &[(1, 1, false)])),
            (
                2,
                warehouse_order(2, OrderStatus::Shipped, &[(2, 1, false)]),
            ),
            (
                3,
                warehouse_order(3, OrderStatus::Cancelled, &[(3, 1, false)]),
            ),
            (4, warehouse_order(4, OrderStatus::Open, &[(4, 1, true)])),
        ]);
        let holds = store_holds(
            &[no_restock, restocked, cancelled_in_warehouse, not_shipped],
            &warehouse,
            opened,
        );
        assert_eq!(holds, Holds::from([(11, 1), (13, 1), (14, 1)]));
    }
}
