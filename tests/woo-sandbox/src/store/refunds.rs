//! Refunds as WooCommerce makes them: `wc_create_refund` (in
//! `wc-order-functions.php`) after the REST controller
//! (`WC_REST_Order_Refunds_Controller::prepare_object_for_database`) has
//! normalised the request. A refund copies the order items it refunds
//! (quantity and totals negated, `_refunded_item_id` naming the item),
//! leaves the order's own lines alone, asks the payment gateway for the
//! money when `api_refund` is set (`wc_refund_payment`), gives refunded
//! units back to stock when `api_restock` is set
//! (`wc_restock_refunded_items`), sets the order `refunded` once nothing
//! is left to refund, and moves the order's `date_modified`. Setting an
//! order `refunded` by hand refunds what is left (`wc_order_fully_refunded`).

use jiff::Timestamp;

use super::{SortFields, Store};
use crate::error::ApiError;
use crate::listing::CollectionQuery;
use crate::model::{
    LineItem, MetaEntry, Note, Order, REFUNDED_ITEM_ID, RESTOCK_REFUNDED_ITEMS, Refund,
    ShippingLine,
};
use crate::render::{money, order_totals};
use crate::writes::{MetaWrite, RefundLineWrite, RefundRequest};

/// The payment gateway of the sandbox's site that can refund through its
/// API (`supports( 'refunds' )`); an order paid with it takes
/// `api_refund: true`.
pub const REFUNDING_GATEWAY: &str = "sandbox_refunds";

/// WooCommerce's own offline gateways, present on every site; none of
/// them supports refunds.
pub const OFFLINE_GATEWAYS: [&str; 3] = ["bacs", "cheque", "cod"];

/// `wc_refund_payment`'s verdict on an order's `payment_method`: the
/// refunding gateway refunds; an offline one "does not support automatic
/// refunds"; anything else (an empty method too) "does not exist".
pub fn refund_payment(payment_method: &str) -> Result<(), &'static str> {
    if payment_method == REFUNDING_GATEWAY {
        Ok(())
    } else if OFFLINE_GATEWAYS.contains(&payment_method) {
        Err("The payment gateway for this order does not support automatic refunds.")
    } else {
        Err("The payment gateway for this order does not exist.")
    }
}

fn cannot_create(message: &str) -> ApiError {
    ApiError::new(500, "woocommerce_rest_cannot_create_order_refund", message)
}

/// Money with PHP's sign: `0 * -1` shows as "0.00", not "-0.00".
fn signed_money(v: f64) -> String {
    money(if v == 0.0 { 0.0 } else { v })
}

/// `wc_format_decimal( $x, 2 )` of a float, for comparisons.
fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// What `wc_create_refund` is called with.
struct RefundArgs<'a> {
    amount: f64,
    reason: Option<&'a str>,
    lines: &'a [(u64, RefundLineWrite)],
    refund_payment: bool,
    restock_items: bool,
    meta_data: &'a [MetaWrite],
}

impl Store {
    /// A refund and its order.
    pub fn refund(&self, id: u64) -> Option<(&Order, &Refund)> {
        self.orders
            .values()
            .find_map(|o| o.refunds.iter().find(|r| r.id == id).map(|r| (o, r)))
    }

    /// `get_remaining_refund_amount`: the order total less what its
    /// refunds took, to the cent.
    pub fn remaining_refund_amount(o: &Order) -> f64 {
        let refunded: f64 = o.refunds.iter().map(Refund::amount).sum();
        cents(order_totals(o).2 - refunded)
    }

    /// `POST /orders/{id}/refunds`. Returns the new refund's id. A refused
    /// refund changes nothing, except that one the gateway refused used up
    /// a post id (WooCommerce saved the refund, then deleted it).
    pub fn create_refund(
        &mut self,
        order_id: u64,
        req: &RefundRequest,
        now: Timestamp,
    ) -> Result<u64, ApiError> {
        let mut o = self.orders.get(&order_id).cloned().ok_or_else(|| {
            ApiError::new(
                404,
                "woocommerce_rest_invalid_order_id",
                "Invalid order ID.",
            )
        })?;
        let amount = match &req.amount {
            // Computed from the lines when it can be, else null (0).
            None => req.amount_from_lines().unwrap_or(0.0),
            Some(text) => {
                let trimmed = text.trim();
                match trimmed.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    Some(a) if a < 0.0 => None,
                    Some(a) => Some(a),
                    // PHP: `0 > ""` holds; `0 > "abc"` does not, and
                    // wc_create_refund then finds "abc" above any amount.
                    None if trimmed.is_empty() => None,
                    None => return Err(cannot_create("Invalid refund amount.")),
                }
                .ok_or_else(|| {
                    ApiError::new(
                        400,
                        "woocommerce_rest_invalid_order_refund",
                        "Refund amount must be greater than zero.",
                    )
                })?
            }
        };
        let mut notes = Vec::new();
        let args = RefundArgs {
            amount,
            reason: req.reason.as_deref(),
            lines: &req.line_items,
            refund_payment: req.api_refund,
            restock_items: req.api_restock,
            meta_data: &req.meta_data,
        };
        let id = self.add_refund(&mut o, &args, &mut notes, now)?;
        self.put_order(o);
        self.put_notes(order_id, notes, now);
        Ok(id)
    }

    fn put_notes(&mut self, order_id: u64, notes: Vec<String>, now: Timestamp) {
        for text in notes {
            self.put_note(Note {
                id: 0,
                order_id,
                note: text,
                customer_note: false,
                author: "WooCommerce".into(),
                date_created: now,
            });
        }
    }

    /// `wc_create_refund` on an order being saved: on success the refund
    /// is the order's newest, stock and the status have moved and `notes`
    /// holds the notes to add; on failure `o` is as it was.
    fn add_refund(
        &mut self,
        o: &mut Order,
        args: &RefundArgs<'_>,
        notes: &mut Vec<String>,
        now: Timestamp,
    ) -> Result<u64, ApiError> {
        let remaining = Self::remaining_refund_amount(o);
        if args.amount < 0.0 || args.amount - remaining > 1e-9 {
            return Err(cannot_create("Invalid refund amount."));
        }
        let id = self.next_post_id;
        self.next_post_id += 1;
        let entry = |item: u64| {
            args.lines
                .iter()
                .find(|(i, _)| *i == item)
                .map(|(_, l)| l)
                .filter(|l| {
                    l.qty.unwrap_or(0) != 0
                        || l.refund_total.unwrap_or(0.0) != 0.0
                        || !l.refund_tax.is_empty()
                })
        };
        let refunded_meta = |item: u64| {
            vec![MetaEntry {
                id: 0,
                key: REFUNDED_ITEM_ID.into(),
                value: serde_json::Value::String(item.to_string()),
            }]
        };
        let mut refund_item_count = 0;
        let mut line_items = Vec::new();
        for li in &o.line_items {
            let Some(l) = entry(li.id) else { continue };
            let total = signed_money(-l.refund_total.unwrap_or(0.0));
            refund_item_count += l.qty.unwrap_or(0);
            line_items.push(LineItem {
                id: 0,
                name: li.name.clone(),
                product_id: li.product_id,
                variation_id: li.variation_id,
                quantity: -l.qty.unwrap_or(0),
                subtotal: total.clone(),
                total,
                meta_data: refunded_meta(li.id),
            });
        }
        let mut shipping_lines = Vec::new();
        for s in &o.shipping_lines {
            let Some(l) = entry(s.id) else { continue };
            refund_item_count += l.qty.unwrap_or(0);
            shipping_lines.push(ShippingLine {
                id: 0,
                method_title: s.method_title.clone(),
                method_id: s.method_id.clone(),
                instance_id: s.instance_id.clone(),
                total: signed_money(-l.refund_total.unwrap_or(0.0)),
                meta_data: refunded_meta(s.id),
            });
        }
        let mut refund = Refund {
            id,
            reason: args.reason.unwrap_or_default().to_owned(),
            total: format!("-{}", money(args.amount)),
            date_created: Some(now),
            refunded_by: 1,
            refunded_payment: false,
            meta_data: Vec::new(),
            line_items,
            shipping_lines,
        };
        if args.refund_payment {
            // The refund was saved, then deleted: its id stays used.
            refund_payment(&o.payment_method).map_err(cannot_create)?;
            refund.refunded_payment = true;
        }
        if args.restock_items {
            self.restock_refunded_items(o, args.lines, notes, now);
        }
        let partially = remaining - args.amount > 1e-9
            || (!args.lines.is_empty()
                && has_free_item(o)
                && remaining_refund_items(o) - refund_item_count > 0);
        let mut meta = Vec::new();
        self.apply_meta(&mut meta, args.meta_data);
        refund.meta_data = meta;
        o.refunds.insert(0, refund);
        if !partially {
            self.set_order_status(o, "refunded", notes, now);
        }
        o.date_modified = now;
        Ok(id)
    }

    /// `wc_restock_refunded_items`: each order line refunded with a
    /// quantity, that took stock (`_reduced_stock`) and whose product
    /// manages stock gets the units back; the line keeps the rest in
    /// `_reduced_stock` and counts them in `_restock_refunded_items`.
    fn restock_refunded_items(
        &mut self,
        o: &mut Order,
        lines: &[(u64, RefundLineWrite)],
        notes: &mut Vec<String>,
        now: Timestamp,
    ) {
        for line in &mut o.line_items {
            let Some(qty) = lines
                .iter()
                .find(|(i, _)| *i == line.id)
                .and_then(|(_, l)| l.qty)
            else {
                continue;
            };
            let Some(reduced) = line.reduced_stock() else {
                continue;
            };
            if qty == 0 || self.stock_holder(line.sold_id()).is_none() {
                continue;
            }
            let Some((from, to)) = self.move_stock(line.sold_id(), qty, now) else {
                continue;
            };
            line.set_reduced_stock(Some(reduced - qty));
            let restocked = line.meta_int(RESTOCK_REFUNDED_ITEMS).unwrap_or(0);
            line.set_meta_string(RESTOCK_REFUNDED_ITEMS, (restocked + qty).to_string());
            notes.push(format!(
                "Item #{} stock increased from {from} to {to}.",
                line.sold_id()
            ));
        }
    }

    /// `wc_order_fully_refunded`, run as an order turns `refunded`: what
    /// is left to refund is refunded (reason "Order fully refunded.", no
    /// gateway, no restock) and a note says so.
    pub(crate) fn order_fully_refunded(
        &mut self,
        o: &mut Order,
        notes: &mut Vec<String>,
        now: Timestamp,
    ) {
        let max_refund = Self::remaining_refund_amount(o);
        if max_refund == 0.0 {
            return;
        }
        let args = RefundArgs {
            amount: max_refund,
            reason: Some("Order fully refunded."),
            lines: &[],
            refund_payment: false,
            restock_items: false,
            meta_data: &[],
        };
        // A negative remainder (over-refunded) fails in wc_create_refund;
        // the note is written all the same.
        let _ = self.add_refund(o, &args, notes, now);
        notes.push(
            "Order status set to refunded. To return funds to the customer you will need to \
             issue a refund through your payment gateway."
                .into(),
        );
    }

    /// Delete a refund for good (`$refund->delete( true )`): the order
    /// loses it from its `refunds`; stock, status and the order's
    /// `date_modified` stay as they are.
    pub fn delete_refund(&mut self, id: u64) -> Option<Refund> {
        self.orders.values_mut().find_map(|o| {
            let at = o.refunds.iter().position(|r| r.id == id)?;
            Some(o.refunds.remove(at))
        })
    }

    /// `/orders/{id}/refunds` (`order` set) or `/refunds`: one page of
    /// refunds with their orders, and the total.
    pub fn list_refunds(
        &self,
        order: Option<u64>,
        q: &CollectionQuery,
    ) -> (Vec<(&Order, &Refund)>, usize) {
        let orders: Box<dyn Iterator<Item = &Order>> = match order {
            Some(id) => Box::new(self.orders.get(&id).into_iter()),
            None => Box::new(self.orders.values()),
        };
        let matching: Vec<(&Order, &Refund)> = orders
            .flat_map(|o| o.refunds.iter().map(move |r| (o, r)))
            .filter(|(o, r)| {
                let date = r.date_created.unwrap_or(o.date_modified);
                (q.include.is_empty() || q.include.contains(&r.id))
                    && !q.exclude.contains(&r.id)
                    && (q.parent.is_empty() || q.parent.contains(&o.id))
                    && q.modified_after.is_none_or(|t| date > t)
                    && q.modified_before.is_none_or(|t| date < t)
                    && q.after.is_none_or(|t| date > t)
                    && q.before.is_none_or(|t| date < t)
            })
            .collect();
        let total = matching.len();
        let mut sorted = matching;
        fn fields<'a>((o, r): &(&'a Order, &'a Refund)) -> SortFields<'a> {
            let date = r.date_created.unwrap_or(o.date_modified);
            (r.id, date, date, r.reason.as_str(), "", 0.0)
        }
        sorted.sort_by(|a, b| Self::compare(q, fields(a), fields(b)));
        let (window, _) = crate::listing::page_window(total, q.page, q.per_page);
        (sorted[window].to_vec(), total)
    }
}

/// `has_free_item`: a line whose total is zero.
fn has_free_item(o: &Order) -> bool {
    o.line_items
        .iter()
        .any(|l| l.total.trim().parse::<f64>().unwrap_or(0.0) == 0.0)
}

/// `get_remaining_refund_items`: units ordered less units refunded.
fn remaining_refund_items(o: &Order) -> i64 {
    let ordered: i64 = o.line_items.iter().map(|l| l.quantity).sum();
    let refunded: i64 = o
        .refunds
        .iter()
        .flat_map(|r| &r.line_items)
        .map(|l| l.quantity.abs())
        .sum();
    ordered - refunded
}

#[cfg(test)]
mod tests {
    use super::super::testing::{now, query, store};
    use super::*;
    use crate::listing::Collection;
    use crate::model::REDUCED_STOCK;
    use crate::writes::{order_patch, refund_request};
    use serde_json::json;

    fn refund(s: &mut Store, order: u64, body: serde_json::Value) -> Result<u64, ApiError> {
        s.create_refund(order, &refund_request(&body).unwrap(), now())
    }

    fn stock(s: &Store, id: u64) -> Option<i64> {
        s.product(id).and_then(|p| p.stock_quantity)
    }

    fn notes(s: &Store, id: u64) -> Vec<String> {
        s.notes(id).iter().map(|n| n.note.clone()).collect()
    }

    fn meta(line: &LineItem, key: &str) -> Option<serde_json::Value> {
        line.meta_data
            .iter()
            .find(|m| m.key == key)
            .map(|m| m.value.clone())
    }

    #[test]
    fn a_partial_refund_with_restock_keeps_the_order_line_and_gives_the_unit_back() {
        let mut s = store();
        // 176: processing, line 2 = 2 x variation 13 (stock 2), took 2.
        let id = refund(
            &mut s,
            176,
            json!({"api_refund": false, "reason": "Damaged",
                   "line_items": [{"id": 2, "quantity": 1, "refund_total": "15.00"}]}),
        )
        .unwrap();
        let o = s.order(176).unwrap();
        let line = &o.line_items[0];
        assert_eq!(line.quantity, 2, "the order line keeps its quantity");
        assert_eq!(meta(line, REDUCED_STOCK), Some(json!("1")));
        assert_eq!(meta(line, RESTOCK_REFUNDED_ITEMS), Some(json!("1")));
        assert_eq!(stock(&s, 13), Some(3));
        assert_eq!((o.status.as_str(), o.date_modified), ("processing", now()));
        assert_eq!(
            notes(&s, 176).last().unwrap(),
            "Item #13 stock increased from 2 to 3."
        );
        let r = &o.refunds[0];
        assert_eq!(
            (
                r.id,
                r.reason.as_str(),
                r.total.as_str(),
                r.refunded_payment
            ),
            (id, "Damaged", "-15.00", false)
        );
        let rl = &r.line_items[0];
        assert_eq!(
            (
                rl.quantity,
                rl.total.as_str(),
                rl.subtotal.as_str(),
                rl.product_id,
                rl.variation_id
            ),
            (-1, "-15.00", "-15.00", 12, 13)
        );
        assert_eq!(rl.meta_data.len(), 1);
        assert_eq!(meta(rl, REFUNDED_ITEM_ID), Some(json!("2")));
        assert!(rl.id != 0 && rl.id != line.id);
        assert_eq!(r.date_created, Some(now()));

        // The rest, without restock: fully refunded, stock stays.
        refund(
            &mut s,
            176,
            json!({"api_refund": false, "api_restock": false, "amount": "15"}),
        )
        .unwrap();
        let o = s.order(176).unwrap();
        assert_eq!(o.status, "refunded");
        assert_eq!(stock(&s, 13), Some(3));
        assert_eq!(o.line_items[0].reduced_stock(), Some(1));
        assert_eq!(
            o.refunds
                .iter()
                .map(|r| r.total.as_str())
                .collect::<Vec<_>>(),
            ["-15.00", "-15.00"]
        );
        assert_eq!(o.refunds[1].id, id, "newest first");
        assert_eq!(
            notes(&s, 176).last().unwrap(),
            "Order status changed from Processing to Refunded."
        );
        assert!(
            !notes(&s, 176)
                .iter()
                .any(|n| n.starts_with("Order status set to refunded")),
            "nothing was left to refund"
        );
    }

    #[test]
    fn editing_a_line_after_a_restocking_refund_moves_nothing() {
        let mut s = store();
        refund(
            &mut s,
            176,
            json!({"api_refund": false, "line_items": [{"id": 2, "quantity": 1, "refund_total": 15}]}),
        )
        .unwrap();
        s.update_order(
            176,
            &order_patch(&json!({"line_items": [{"id": 2, "quantity": 2}]})).unwrap(),
            now(),
        )
        .unwrap();
        assert_eq!(stock(&s, 13), Some(3));
        s.update_order(
            176,
            &order_patch(&json!({"line_items": [{"id": 2, "quantity": 3}]})).unwrap(),
            now(),
        )
        .unwrap();
        assert_eq!(stock(&s, 13), Some(2));
        assert_eq!(s.order(176).unwrap().line_items[0].reduced_stock(), Some(2));
    }

    #[test]
    fn only_lines_that_took_stock_and_manage_it_are_restocked() {
        let mut s = store();
        // 177: line 3 (11, took 1), line 4 (22, took 3), line 5
        // (unmanaged 23), shipping 6.
        refund(
            &mut s,
            177,
            json!({"api_refund": false, "line_items": [
                {"id": 4, "quantity": 2, "refund_total": "7.00"},
                {"id": 5, "quantity": 1, "refund_total": "12.00"},
                {"id": 6, "refund_total": "5.00"},
                {"id": 3, "refund_total": "1.00"}]}),
        )
        .unwrap();
        let o = s.order(177).unwrap();
        assert_eq!((stock(&s, 11), stock(&s, 22)), (Some(21), Some(9)));
        assert_eq!(o.line_items[1].reduced_stock(), Some(1));
        assert_eq!(
            o.line_items[0].reduced_stock(),
            Some(1),
            "no quantity: no restock"
        );
        let r = &o.refunds[0];
        assert_eq!(r.total, "-25.00", "the amount from the lines");
        assert_eq!(
            r.line_items
                .iter()
                .map(|l| (l.quantity, l.total.as_str()))
                .collect::<Vec<_>>(),
            [(0, "-1.00"), (-2, "-7.00"), (-1, "-12.00")]
        );
        let ship = &r.shipping_lines[0];
        assert_eq!(
            (ship.total.as_str(), ship.meta_data[0].value.clone()),
            ("-5.00", json!("6"))
        );
        assert_eq!(
            notes(&s, 177)
                .iter()
                .filter(|n| n.starts_with("Item #"))
                .collect::<Vec<_>>(),
            ["Item #22 stock increased from 7 to 9."]
        );
        assert_eq!(o.status, "processing", "20.00 left");
    }

    #[test]
    fn a_variation_stocked_at_its_parent_restocks_the_parent() {
        let mut s = store();
        let mut parent = s.product(12).unwrap().clone();
        (parent.manage_stock, parent.stock_quantity) = (true, Some(10));
        s.put_product(parent);
        let mut v = s.product(15).unwrap().clone();
        (v.manage_stock, v.stock_quantity) = (false, None);
        s.put_product(v);
        // 179: on-hold, line 8 = 1 x variation 15, took 1.
        refund(
            &mut s,
            179,
            json!({"api_refund": false, "line_items": [{"id": 8, "quantity": 1, "refund_total": 17}]}),
        )
        .unwrap();
        assert_eq!((stock(&s, 12), stock(&s, 15)), (Some(11), None));
        assert!(notes(&s, 179).contains(&"Item #15 stock increased from 10 to 11.".to_owned()));
    }

    #[test]
    fn the_gateway_decides_api_refunds_and_a_refusal_changes_nothing() {
        let mut s = store();
        let before = s.order(176).unwrap().clone();
        let next = s.next_post_id;
        let e = refund(&mut s, 176, json!({"amount": "1.00"})).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (
                500,
                "woocommerce_rest_cannot_create_order_refund",
                "The payment gateway for this order does not support automatic refunds."
            )
        );
        assert_eq!(s.order(176), Some(&before));
        assert_eq!(s.next_post_id, next + 1, "the deleted refund used an id");

        let mut o = before.clone();
        o.payment_method.clear();
        s.put_order(o);
        let e = refund(
            &mut s,
            176,
            json!({"amount": "1.00", "line_items": [{"id": 2, "quantity": 1}]}),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "The payment gateway for this order does not exist."
        );
        assert_eq!(stock(&s, 13), Some(2), "no restock either");

        let mut o = before;
        o.payment_method = REFUNDING_GATEWAY.into();
        s.put_order(o);
        refund(&mut s, 176, json!({"amount": "1.00"})).unwrap();
        assert!(s.order(176).unwrap().refunds[0].refunded_payment);
    }

    #[test]
    fn amounts_are_checked_as_woocommerce_checks_them() {
        let mut s = store();
        let code = |r: Result<u64, ApiError>| {
            let e = r.unwrap_err();
            (e.status, e.message)
        };
        assert_eq!(
            code(refund(
                &mut s,
                176,
                json!({"amount": "-1", "api_refund": false})
            )),
            (400, "Refund amount must be greater than zero.".into())
        );
        assert_eq!(
            code(refund(
                &mut s,
                176,
                json!({"amount": "", "api_refund": false})
            )),
            (400, "Refund amount must be greater than zero.".into())
        );
        assert_eq!(
            code(refund(
                &mut s,
                176,
                json!({"amount": "30.01", "api_refund": false})
            )),
            (500, "Invalid refund amount.".into())
        );
        assert_eq!(
            code(refund(
                &mut s,
                176,
                json!({"amount": "lots", "api_refund": false})
            )),
            (500, "Invalid refund amount.".into())
        );
        assert_eq!(
            code(refund(&mut s, 999_999, json!({}))),
            (404, "Invalid order ID.".into())
        );
        assert!(s.order(176).unwrap().refunds.is_empty());
        // Neither amount nor computable lines: a refund of nothing.
        refund(&mut s, 176, json!({"api_refund": false})).unwrap();
        let o = s.order(176).unwrap();
        assert_eq!(
            (o.refunds[0].total.as_str(), o.status.as_str()),
            ("-0.00", "processing")
        );
    }

    #[test]
    fn setting_an_order_refunded_refunds_what_is_left() {
        let mut s = store();
        refund(&mut s, 177, json!({"amount": "5.00", "api_refund": false})).unwrap();
        s.update_order(
            177,
            &order_patch(&json!({"status": "refunded"})).unwrap(),
            now(),
        )
        .unwrap();
        let o = s.order(177).unwrap();
        let r = &o.refunds[0];
        assert_eq!(
            (r.reason.as_str(), r.total.as_str(), r.line_items.len()),
            ("Order fully refunded.", "-40.00", 0)
        );
        assert_eq!((stock(&s, 11), stock(&s, 22)), (Some(21), Some(7)));
        let n = notes(&s, 177);
        assert_eq!(
            n[n.len() - 2..],
            [
                "Order status set to refunded. To return funds to the customer you will need to \
                 issue a refund through your payment gateway."
                    .to_owned(),
                "Order status changed from Processing to Refunded.".to_owned()
            ]
        );
        // The seeded refunded order has nothing left: no second refund.
        s.update_order(
            183,
            &order_patch(&json!({"status": "completed"})).unwrap(),
            now(),
        )
        .unwrap();
        s.update_order(
            183,
            &order_patch(&json!({"status": "refunded"})).unwrap(),
            now(),
        )
        .unwrap();
        assert_eq!(s.order(183).unwrap().refunds.len(), 1);
    }

    #[test]
    fn refunds_list_across_orders_and_by_order() {
        let mut s = store();
        let first = refund(&mut s, 176, json!({"amount": "1", "api_refund": false})).unwrap();
        let second = refund(&mut s, 177, json!({"amount": "2", "api_refund": false})).unwrap();
        let ids = |order: Option<u64>, q: &str| -> (Vec<u64>, usize) {
            let (page, total) = s.list_refunds(order, &query(q, Collection::Refunds));
            (page.iter().map(|(_, r)| r.id).collect(), total)
        };
        assert_eq!(
            ids(None, "orderby=id&order=asc"),
            (vec![184, first, second], 3)
        );
        assert_eq!(ids(Some(177), ""), (vec![second], 1));
        assert_eq!(ids(Some(999), ""), (vec![], 0));
        assert_eq!(
            ids(None, "parent=176,183&orderby=id"),
            (vec![first, 184], 2)
        );
        assert_eq!(ids(None, &format!("include={second}")), (vec![second], 1));
        assert_eq!(ids(None, "per_page=1&page=2&orderby=id&order=asc").1, 3);
        let (o, r) = s.refund(184).unwrap();
        assert_eq!((o.id, r.amount()), (183, 32.5));
        assert_eq!(s.delete_refund(first).map(|r| r.id), Some(first));
        assert!(s.refund(first).is_none() && s.order(176).unwrap().refunds.is_empty());
    }
}
