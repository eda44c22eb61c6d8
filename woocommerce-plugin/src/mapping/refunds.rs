//! Refunds -> what the warehouse ships. Pure: an order's refunds in, the
//! planned order's lines out.
//!
//! WooCommerce keeps a refunded order line's `quantity` as it was and
//! lists what was refunded only in the order's refunds (each refund line a
//! negative `quantity` naming the order line in `_refunded_item_id`). The
//! warehouse ships what is left: ordered less refunded. A line refunded
//! whole stays on the order, not to ship, with the reason. What the host
//! does with a line that shrinks after picking (an exception, never a
//! silent change) is the host's rule for every changed line.

use std::collections::HashMap;

use plugin_api::warehouse::{LineRefund, NonStockLine};
use woo_client::model::{Order, OrderRefund};

use super::orders::PlannedOrder;

/// Units refunded, by order line id.
pub type Refunded = HashMap<u64, i64>;

/// What an order's refunds took back, line by line.
pub fn refunded_by_line<'a>(refunds: impl IntoIterator<Item = &'a OrderRefund>) -> Refunded {
    let mut refunded = Refunded::new();
    for line in refunds.into_iter().flat_map(|r| &r.line_items) {
        if let Some((order_line, units)) = line.refunded() {
            *refunded.entry(order_line).or_default() += units;
        }
    }
    refunded
}

/// Takes the refunded units off the planned order's lines; returns the
/// refunds as the host keeps them beside the order.
pub fn apply(planned: &mut PlannedOrder, order: &Order, refunded: &Refunded) -> Vec<LineRefund> {
    let mut kept = Vec::new();
    for line in &mut planned.upsert.lines {
        let Ok(id) = line.external_line_id.parse::<u64>() else {
            continue;
        };
        let Some(&units) = refunded.get(&id).filter(|u| **u > 0) else {
            continue;
        };
        kept.push(LineRefund {
            external_line_id: line.external_line_id.clone(),
            quantity: units,
        });
        if line.not_shipped {
            continue;
        }
        if units < line.quantity {
            line.quantity -= units;
            // A count taken after the store's reduction lacks what the
            // warehouse ships; units refunded without restock stay out.
            for reduction in &mut planned.reductions {
                if reduction.external_line_id == line.external_line_id {
                    reduction.quantity = reduction.quantity.min(line.quantity);
                }
            }
            continue;
        }
        line.not_shipped = true;
        let name = order
            .line_items
            .iter()
            .find(|l| l.id == id)
            .map_or("", |l| l.name.as_str());
        planned.non_stock.push(NonStockLine {
            order_external_id: planned.upsert.external_id.clone(),
            external_line_id: line.external_line_id.clone(),
            description: format!("{name} (refunded: {units} of {})", line.quantity),
        });
        planned
            .reductions
            .retain(|r| r.external_line_id != line.external_line_id);
    }
    kept
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::{ItemRef, OrderLine, OrderUpsert, StoreReduction};
    use serde_json::json;

    use super::*;

    fn refund(lines: &[(u64, i64)]) -> OrderRefund {
        serde_json::from_value(json!({
            "id": 900, "parent_id": 1,
            "line_items": lines.iter().map(|(line, q)| json!({
                "quantity": -q, "meta_data": [{"id": 1, "key": "_refunded_item_id", "value": line.to_string()}]
            })).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    fn planned() -> (PlannedOrder, Order) {
        let line = |id: &str, quantity| OrderLine {
            external_line_id: id.into(),
            item: ItemRef::ExternalId("11".into()),
            quantity,
            not_shipped: false,
        };
        let planned = PlannedOrder {
            upsert: OrderUpsert {
                external_id: "1".into(),
                number: "1".into(),
                customer: String::new(),
                ship_to: Default::default(),
                shipping_method: String::new(),
                customer_note: String::new(),
                ordered_at_ms: None,
                lines: vec![line("36", 2), line("37", 1)],
            },
            reductions: vec![
                StoreReduction {
                    order_external_id: "1".into(),
                    external_line_id: "36".into(),
                    quantity: 2,
                    reduced_at_ms: 0,
                },
                StoreReduction {
                    order_external_id: "1".into(),
                    external_line_id: "37".into(),
                    quantity: 1,
                    reduced_at_ms: 0,
                },
            ],
            non_stock: vec![],
            unshippable: vec![],
        };
        let order = serde_json::from_value(json!({"id": 1, "line_items": [
            {"id": 36, "name": "Rig S 40", "quantity": 2},
            {"id": 37, "name": "Rig Cap", "quantity": 1},
        ]}))
        .unwrap();
        (planned, order)
    }

    #[test]
    fn the_warehouse_ships_what_is_left_and_keeps_a_line_refunded_whole() {
        let refunded = refunded_by_line(&[refund(&[(36, 1)]), refund(&[(37, 1)])]);
        assert_eq!(refunded, Refunded::from([(36, 1), (37, 1)]));
        let (mut planned, order) = planned();
        let kept = apply(&mut planned, &order, &refunded);
        assert_eq!(
            planned
                .upsert
                .lines
                .iter()
                .map(|l| (l.external_line_id.as_str(), l.quantity, l.not_shipped))
                .collect::<Vec<_>>(),
            [("36", 1, false), ("37", 1, true)]
        );
        assert_eq!(
            planned.non_stock[0].description,
            "Rig Cap (refunded: 1 of 1)"
        );
        assert_eq!(
            planned
                .reductions
                .iter()
                .map(|r| (r.external_line_id.as_str(), r.quantity))
                .collect::<Vec<_>>(),
            [("36", 1)],
            "an opening is corrected by what ships; a line not shipped corrects none"
        );
        assert_eq!(
            kept,
            [
                LineRefund {
                    external_line_id: "36".into(),
                    quantity: 1
                },
                LineRefund {
                    external_line_id: "37".into(),
                    quantity: 1
                }
            ]
        );
    }

    #[test]
    fn refunds_without_lines_or_of_other_lines_change_nothing() {
        let (mut planned, order) = planned();
        let before = planned.clone();
        let refunded = refunded_by_line(&[refund(&[]), refund(&[(99, 3)])]);
        assert_eq!(apply(&mut planned, &order, &refunded), []);
        assert_eq!(planned, before);
    }
}
