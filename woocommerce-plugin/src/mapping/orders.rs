//! Store orders -> warehouse orders. Pure: the order and what each of its
//! lines maps to in, the decision out.
//!
//! - an order whose status is one of the import statuses is imported (or
//!   updated); its number in IntelliTrack is WooCommerce's order number,
//!   its external id WooCommerce's id;
//! - a line maps to the item of its variation, else its product, else its
//!   SKU; a line for a virtual or downloadable product stays on the order,
//!   flagged not to ship; an order with no line to ship is left out;
//! - units WooCommerce already took out of its stock for a line (line meta
//!   `_reduced_stock`) travel with the line, dated by when the order was
//!   paid (else placed), so the host can correct an opening balance once;
//! - a line the warehouse cannot ship (a product deleted since, a custom
//!   line with no product, a product that is not an item) stays on the
//!   order, flagged not to ship with the reason, and the order comes in
//!   with every line it can ship, flagged for attention; an order with no
//!   line it can ship fails and is tried again;
//! - an imported order the store cancels, refunds or fails is cancelled in
//!   IntelliTrack (the host keeps it as an exception if already picked).

use plugin_api::warehouse::{
    Address, ItemRef, NonStockLine, OrderCancellation, OrderLine, OrderUpsert, StoreReduction,
};
use serde_json::Value;
use woo_client::model::{LineItem, Order, meta_value};

/// WooCommerce statuses that end an order without shipping it.
pub const ENDING_STATUSES: &[&str] = &["cancelled", "refunded", "failed", "trash"];

/// What a line of the order is in the warehouse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineTarget {
    Item(ItemRef),
    /// A virtual or downloadable product: kept, never shipped.
    NotShipped {
        description: String,
    },
    /// No item, and none can be made; the reason in an admin's words.
    Unknown(String),
}

/// An order to import, with what the host needs beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedOrder {
    pub upsert: OrderUpsert,
    pub reductions: Vec<StoreReduction>,
    pub non_stock: Vec<NonStockLine>,
    /// The lines kept but not shipped because the warehouse cannot ship
    /// them, each with why: the order needs a person's attention.
    pub unshippable: Vec<String>,
}

/// What becomes of one order.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderVerdict {
    Import(Box<PlannedOrder>),
    /// An order IntelliTrack has, which the store ended.
    Cancel(OrderCancellation),
    /// Not the warehouse's business (another status, never imported).
    Ignore,
    /// Left out, reported with the reason.
    LeftOut(String),
    /// Cannot be imported as it is, reported with the reason.
    Failed(String),
}

/// The order in an admin's words: its number, and its id where they differ.
pub fn order_record(order: &Order) -> String {
    let number = display_number(order);
    if number == order.id.to_string() {
        format!("order {number}")
    } else {
        format!("order {number} (id {})", order.id)
    }
}

fn display_number(order: &Order) -> String {
    match order.number.trim() {
        "" => order.id.to_string(),
        number => number.to_owned(),
    }
}

/// Decides an order. `known`: IntelliTrack has it already. `target` maps
/// each line to its item.
pub fn judge(
    order: &Order,
    import_statuses: &[String],
    known: bool,
    target: impl Fn(&LineItem) -> LineTarget,
) -> OrderVerdict {
    if !import_statuses.contains(&order.status) {
        if known && ENDING_STATUSES.contains(&order.status.as_str()) {
            return OrderVerdict::Cancel(OrderCancellation {
                external_id: order.id.to_string(),
                reason: format!("{} in WooCommerce", ended_word(&order.status)),
            });
        }
        return OrderVerdict::Ignore;
    }
    let mut lines = Vec::with_capacity(order.line_items.len());
    let mut non_stock = Vec::new();
    let mut reductions = Vec::new();
    let mut unshippable = Vec::new();
    for line in &order.line_items {
        let quantity = match line.quantity {
            Some(q) if q > 0.0 && q.fract() == 0.0 && q <= i64::MAX as f64 => q as i64,
            other => {
                return OrderVerdict::Failed(format!(
                    "line {:?}: quantity {} is not a whole number above zero",
                    line.name,
                    other.map_or("missing".to_owned(), |q| q.to_string())
                ));
            }
        };
        let external_line_id = line.id.to_string();
        let (item, not_shipped) = match target(line) {
            LineTarget::Item(item) => (item, false),
            LineTarget::NotShipped { description } => {
                non_stock.push(NonStockLine {
                    order_external_id: order.id.to_string(),
                    external_line_id: external_line_id.clone(),
                    description,
                });
                (ItemRef::ExternalId(product_id(line).to_string()), true)
            }
            LineTarget::Unknown(reason) => {
                let why = format!("line {:?}: {reason}", line.name);
                non_stock.push(NonStockLine {
                    order_external_id: order.id.to_string(),
                    external_line_id: external_line_id.clone(),
                    description: format!("{} (cannot be shipped: {reason})", line.name),
                });
                unshippable.push(why);
                (ItemRef::ExternalId(product_id(line).to_string()), true)
            }
        };
        if let Some(reduced) = reduced_stock(line).filter(|_| !not_shipped) {
            reductions.push(StoreReduction {
                order_external_id: order.id.to_string(),
                external_line_id: external_line_id.clone(),
                quantity: reduced,
                reduced_at_ms: order
                    .date_paid_gmt
                    .or(order.date_created_gmt)
                    .map_or(0, |t| t.as_millisecond()),
            });
        }
        lines.push(OrderLine {
            external_line_id,
            item,
            quantity,
            not_shipped,
        });
    }
    if lines.iter().all(|l| l.not_shipped) {
        return match unshippable.is_empty() {
            true => OrderVerdict::LeftOut("no line to ship".into()),
            false => OrderVerdict::Failed(unshippable.join("; ")),
        };
    }
    OrderVerdict::Import(Box::new(PlannedOrder {
        upsert: OrderUpsert {
            external_id: order.id.to_string(),
            number: display_number(order),
            customer: customer(order),
            ship_to: ship_to(order),
            shipping_method: order
                .shipping_lines
                .iter()
                .map(|s| s.method_title.as_str())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            customer_note: order.customer_note.clone(),
            ordered_at_ms: order.date_created_gmt.map(|t| t.as_millisecond()),
            lines,
        },
        reductions,
        non_stock,
        unshippable,
    }))
}

/// The id a line's item is known by: its variation's, else its product's.
pub fn product_id(line: &LineItem) -> u64 {
    line_key(line.product_id, line.variation_id)
}

/// The id a line's product is known by: its variation's, else its own.
pub fn line_key(product_id: u64, variation_id: u64) -> u64 {
    if variation_id != 0 {
        variation_id
    } else {
        product_id
    }
}

fn ended_word(status: &str) -> &str {
    match status {
        "trash" => "trashed",
        other => other,
    }
}

/// `_reduced_stock`: what WooCommerce took out of its count for the line.
pub fn reduced_stock(line: &LineItem) -> Option<i64> {
    let value = meta_value(&line.meta_data, "_reduced_stock")?;
    let reduced = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (reduced > 0.0 && reduced.fract() == 0.0).then_some(reduced as i64)
}

fn customer(order: &Order) -> String {
    let b = &order.billing;
    let name = format!("{} {}", b.first_name.trim(), b.last_name.trim());
    match (name.trim(), b.company.trim()) {
        ("", "") => b.email.clone(),
        ("", company) => company.to_owned(),
        (name, _) => name.to_owned(),
    }
}

fn ship_to(order: &Order) -> Address {
    let s = &order.shipping;
    let b = &order.billing;
    // Orders without a shipping address (a pickup, a store without
    // shipping) ship to the billing address.
    let a = if s.address_1.trim().is_empty() && s.city.trim().is_empty() {
        b
    } else {
        s
    };
    let name = format!("{} {}", a.first_name.trim(), a.last_name.trim());
    Address {
        name: name.trim().to_owned(),
        company: a.company.clone(),
        line1: a.address_1.clone(),
        line2: a.address_2.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        postcode: a.postcode.clone(),
        country: a.country.clone(),
        phone: [&s.phone, &b.phone]
            .into_iter()
            .find(|p| !p.trim().is_empty())
            .cloned()
            .unwrap_or_default(),
        email: b.email.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn order(fields: Value) -> Order {
        let mut base = json!({
            "id": 176, "number": "176", "status": "processing",
            "date_created_gmt": "2026-11-17T14:34:33", "date_paid_gmt": "2026-11-26T14:34:33",
            "date_modified_gmt": "2026-11-26T14:34:33",
            "customer_note": "leave at the door",
            "billing": {"first_name": "Jane", "last_name": "Buyer", "email": "jane@example.test", "phone": "555-0100",
                        "address_1": "1 Bill St", "city": "Billtown", "country": "US"},
            "shipping": {"first_name": "Jane", "last_name": "Buyer", "address_1": "10 Loop Road",
                         "city": "Testville", "state": "CA", "postcode": "94016", "country": "US", "phone": ""},
            "shipping_lines": [{"id": 9, "method_title": "Flat rate", "method_id": "flat_rate", "total": "5.00"}],
            "line_items": [
                {"id": 2, "name": "Shirt - S", "product_id": 12, "variation_id": 13, "quantity": 2,
                 "sku": "SHIRT-S", "meta_data": [{"id": 22, "key": "_reduced_stock", "value": "2"}]},
                {"id": 3, "name": "Gift card", "product_id": 20, "variation_id": 0, "quantity": 1, "sku": "GIFT"},
            ],
        });
        base.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn targets(line: &LineItem) -> LineTarget {
        match product_id(line) {
            13 => LineTarget::Item(ItemRef::ExternalId("13".into())),
            20 => LineTarget::NotShipped {
                description: "Gift card (virtual, not shipped)".into(),
            },
            other => LineTarget::Unknown(format!("product {other} is not an item")),
        }
    }

    fn statuses() -> Vec<String> {
        vec!["processing".into()]
    }

    #[test]
    fn an_order_in_the_import_statuses_is_imported_with_its_details() {
        let OrderVerdict::Import(planned) = judge(
            &order(json!({"number": "WC-1043"})),
            &statuses(),
            false,
            targets,
        ) else {
            panic!("imported");
        };
        let o = &planned.upsert;
        assert_eq!(
            (o.external_id.as_str(), o.number.as_str()),
            ("176", "WC-1043")
        );
        assert_eq!(o.customer, "Jane Buyer");
        assert_eq!(
            (
                o.ship_to.line1.as_str(),
                o.ship_to.city.as_str(),
                o.ship_to.phone.as_str(),
                o.ship_to.email.as_str()
            ),
            ("10 Loop Road", "Testville", "555-0100", "jane@example.test")
        );
        assert_eq!(
            (o.shipping_method.as_str(), o.customer_note.as_str()),
            ("Flat rate", "leave at the door")
        );
        assert_eq!(
            o.lines
                .iter()
                .map(|l| (l.external_line_id.as_str(), l.quantity, l.not_shipped))
                .collect::<Vec<_>>(),
            [("2", 2, false), ("3", 1, true)]
        );
        assert_eq!(
            planned.non_stock,
            [NonStockLine {
                order_external_id: "176".into(),
                external_line_id: "3".into(),
                description: "Gift card (virtual, not shipped)".into(),
            }]
        );
        let paid: jiff::Timestamp = "2026-11-26T14:34:33Z".parse().unwrap();
        assert_eq!(
            planned.reductions,
            [StoreReduction {
                order_external_id: "176".into(),
                external_line_id: "2".into(),
                quantity: 2,
                reduced_at_ms: paid.as_millisecond(),
            }]
        );
    }

    #[test]
    fn orders_outside_the_statuses_are_ignored_or_cancelled() {
        let on_hold = order(json!({"status": "on-hold"}));
        assert_eq!(
            judge(&on_hold, &statuses(), true, targets),
            OrderVerdict::Ignore
        );
        for status in ["cancelled", "refunded", "failed"] {
            let ended = order(json!({"status": status}));
            assert_eq!(
                judge(&ended, &statuses(), false, targets),
                OrderVerdict::Ignore
            );
            assert_eq!(
                judge(&ended, &statuses(), true, targets),
                OrderVerdict::Cancel(OrderCancellation {
                    external_id: "176".into(),
                    reason: format!("{status} in WooCommerce"),
                })
            );
        }
        let wider = vec!["processing".into(), "on-hold".into()];
        assert!(matches!(
            judge(&on_hold, &wider, false, targets),
            OrderVerdict::Import(_)
        ));
    }

    #[test]
    fn orders_with_nothing_to_ship_or_unmappable_lines_are_reported() {
        let virtual_only = order(json!({"line_items": [
            {"id": 3, "name": "Gift card", "product_id": 20, "variation_id": 0, "quantity": 1}
        ]}));
        assert_eq!(
            judge(&virtual_only, &statuses(), false, targets),
            OrderVerdict::LeftOut("no line to ship".into())
        );
        let unknown = order(json!({"line_items": [
            {"id": 4, "name": "Lamp", "product_id": 99, "variation_id": 0, "quantity": 1}
        ]}));
        assert_eq!(
            judge(&unknown, &statuses(), false, targets),
            OrderVerdict::Failed("line \"Lamp\": product 99 is not an item".into())
        );
        // Beside a line it can ship, the odd line is kept, not to ship.
        let mixed = order(json!({"line_items": [
            {"id": 2, "name": "Shirt - S", "product_id": 12, "variation_id": 13, "quantity": 1},
            {"id": 4, "name": "Engraving", "product_id": 0, "variation_id": 0, "quantity": 1}
        ]}));
        let OrderVerdict::Import(planned) =
            judge(&mixed, &statuses(), false, |line| match product_id(line) {
                0 => LineTarget::Unknown("a line with no product".into()),
                _ => targets(line),
            })
        else {
            panic!("imported with the line it can ship");
        };
        assert_eq!(
            planned
                .upsert
                .lines
                .iter()
                .map(|l| (l.external_line_id.as_str(), l.not_shipped))
                .collect::<Vec<_>>(),
            [("2", false), ("4", true)]
        );
        assert_eq!(
            planned.non_stock[0].description,
            "Engraving (cannot be shipped: a line with no product)"
        );
        assert_eq!(
            planned.unshippable,
            ["line \"Engraving\": a line with no product"]
        );
        let fractional = order(json!({"line_items": [
            {"id": 4, "name": "Rope", "product_id": 13, "variation_id": 0, "quantity": 1.5}
        ]}));
        assert!(matches!(
            judge(&fractional, &statuses(), false, |_| LineTarget::Item(ItemRef::ExternalId("13".into()))),
            OrderVerdict::Failed(reason) if reason.contains("not a whole number")
        ));
        assert_eq!(
            order_record(&order(json!({"number": "WC-1043"}))),
            "order WC-1043 (id 176)"
        );
        assert_eq!(order_record(&order(json!({}))), "order 176");
    }
}
