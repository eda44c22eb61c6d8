//! Order writes as `WC_REST_Orders_Controller::save_object` does them:
//! fields and lines first (a line edited on an order that already took
//! stock moves stock at once), then the customer check, then the status —
//! whose transition reduces or restores stock, sets the paid and completed
//! dates and adds WooCommerce's notes — and last `set_paid`
//! (`payment_complete`). New orders take the next post id.

use jiff::Timestamp;

use super::{Store, assign};
use crate::error::ApiError;
use crate::faults::PlaceOrder;
use crate::model::{
    LineItem, MetaEntry, Note, Order, Product, ProductType, ShippingLine, order_status_label,
    slugify, status_reduces_stock, status_restores_stock,
};
use crate::render::{effective_price, money, order_totals};
use crate::writes::{AddressWrite, LineItemWrite, OrderPatch, ShippingLineWrite};

fn invalid_item() -> ApiError {
    ApiError::new(
        400,
        "woocommerce_rest_invalid_item_id",
        "Order item ID provided is not associated with order.",
    )
}

fn apply_address(dst: &mut crate::model::Address, w: &AddressWrite, with_email: bool) {
    for (key, value) in w {
        let field = match key.as_str() {
            "first_name" => &mut dst.first_name,
            "last_name" => &mut dst.last_name,
            "company" => &mut dst.company,
            "address_1" => &mut dst.address_1,
            "address_2" => &mut dst.address_2,
            "city" => &mut dst.city,
            "state" => &mut dst.state,
            "postcode" => &mut dst.postcode,
            "country" => &mut dst.country,
            "phone" => &mut dst.phone,
            "email" if with_email => &mut dst.email,
            _ => continue,
        };
        field.clone_from(value);
    }
}

impl Store {
    /// The users a `customer_id` may name: the site's first user (the
    /// administrator) and every customer a seed order belongs to.
    pub fn user_exists(&self, id: u64) -> bool {
        id == 1 || self.users.contains(&id)
    }

    /// `POST /orders`. Returns the new order's id.
    pub fn create_order(&mut self, patch: &OrderPatch, now: Timestamp) -> Result<u64, ApiError> {
        if patch.id.is_some_and(|id| id != 0) {
            return Err(ApiError::new(
                400,
                "woocommerce_rest_shop_order_exists",
                "Cannot create existing shop_order.",
            ));
        }
        let mut o = Order::new(self.next_post_id, now);
        o.created_via = patch
            .created_via
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "rest-api".into());
        self.save_order(o, patch, true, now)
    }

    /// The product or variation a fault's order buys, or why no checkout
    /// could buy it.
    pub fn placeable(&self, p: &PlaceOrder) -> Result<u64, String> {
        let target = if p.variation_id != 0 {
            p.variation_id
        } else {
            p.product_id
        };
        let product = self
            .products
            .get(&target)
            .ok_or_else(|| format!("place_order_before: no product or variation {target}"))?;
        if p.variation_id != 0
            && (product.kind != ProductType::Variation
                || (p.product_id != 0 && product.parent_id != p.product_id))
        {
            return Err(format!(
                "place_order_before: {} is no variation of product {}",
                p.variation_id, p.product_id
            ));
        }
        if matches!(product.kind, ProductType::Variable | ProductType::Grouped) {
            return Err(format!(
                "place_order_before: {target} is a {} product; buy one of its children",
                product.kind.as_str()
            ));
        }
        Ok(target)
    }

    /// A customer's checkout, placed by the `place_order_before` fault: a
    /// new order (`created_via: checkout`, paid by bank transfer) for
    /// `quantity` of the product or variation, created in `status` as
    /// `POST /orders` creates one — so processing, on-hold or completed
    /// take the units from stock (`_reduced_stock` on the line, the "Stock
    /// levels reduced" note). Returns the order's id.
    pub fn place_order(&mut self, p: &PlaceOrder, now: Timestamp) -> Result<u64, String> {
        let target = self.placeable(p)?;
        let patch = OrderPatch {
            status: Some(p.status.clone()),
            created_via: Some("checkout".into()),
            payment_method: Some("bacs".into()),
            payment_method_title: Some("Direct bank transfer".into()),
            billing: Some(vec![
                ("first_name".into(), "Sandbox".into()),
                ("last_name".into(), "Shopper".into()),
                ("email".into(), "shopper@example.test".into()),
            ]),
            line_items: vec![LineItemWrite {
                product_id: Some(target),
                quantity: Some(p.quantity),
                ..LineItemWrite::default()
            }],
            ..OrderPatch::default()
        };
        self.create_order(&patch, now).map_err(|e| e.message)
    }

    /// `PUT /orders/{id}`.
    pub fn update_order(
        &mut self,
        id: u64,
        patch: &OrderPatch,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let o = self.orders.get(&id).cloned().ok_or_else(|| {
            ApiError::new(400, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        })?;
        self.save_order(o, patch, false, now).map(|_| ())
    }

    /// Refuse what WooCommerce would refuse before anything is written.
    fn check_order_write(&self, o: &Order, patch: &OrderPatch) -> Result<(), ApiError> {
        let has_line = |id: u64| id != 0 && o.line_items.iter().any(|l| l.id == id);
        for w in &patch.line_items {
            if w.remove || w.id != 0 {
                if !has_line(w.id) {
                    return Err(invalid_item());
                }
            } else if w.sku.as_deref().unwrap_or("").is_empty()
                && w.product_id.unwrap_or(0) == 0
                && w.variation_id.unwrap_or(0) == 0
            {
                return Err(ApiError::new(
                    400,
                    "woocommerce_rest_required_product_reference",
                    "Product ID or SKU is required.",
                ));
            }
        }
        let has_shipping = |id: u64| id != 0 && o.shipping_lines.iter().any(|s| s.id == id);
        for w in &patch.shipping_lines {
            if w.remove || w.id != 0 {
                if !has_shipping(w.id) {
                    return Err(invalid_item());
                }
            } else if w.method_id.as_deref().unwrap_or("").is_empty() {
                return Err(ApiError::new(
                    400,
                    "woocommerce_rest_invalid_shipping_item",
                    "Shipping method ID is required.",
                ));
            }
        }
        let customer = patch.customer_id.unwrap_or(0);
        if customer != 0 && !self.user_exists(customer) {
            return Err(ApiError::new(
                400,
                "woocommerce_rest_invalid_customer_id",
                "Customer ID is invalid.",
            ));
        }
        Ok(())
    }

    fn save_order(
        &mut self,
        mut o: Order,
        patch: &OrderPatch,
        creating: bool,
        now: Timestamp,
    ) -> Result<u64, ApiError> {
        self.check_order_write(&o, patch)?;
        let mut notes = Vec::new();
        assign(&mut o.currency, &patch.currency);
        if let Some(c) = patch.customer_id {
            o.customer_id = c;
        }
        assign(&mut o.customer_note, &patch.customer_note);
        if let Some(b) = &patch.billing {
            apply_address(&mut o.billing, b, true);
        }
        if let Some(s) = &patch.shipping {
            apply_address(&mut o.shipping, s, false);
        }
        assign(&mut o.payment_method, &patch.payment_method);
        assign(&mut o.payment_method_title, &patch.payment_method_title);
        assign(&mut o.transaction_id, &patch.transaction_id);
        let mut meta = std::mem::take(&mut o.meta_data);
        self.apply_meta(&mut meta, &patch.meta_data);
        o.meta_data = meta;
        for w in &patch.line_items {
            if w.remove {
                self.remove_line(&mut o, w.id, now);
            } else {
                self.set_line(&mut o, w, now, &mut notes);
            }
        }
        for w in &patch.shipping_lines {
            set_shipping_line(&mut o, w);
        }
        if let Some(status) = patch.status.as_deref().filter(|s| !s.is_empty()) {
            self.set_order_status(&mut o, status, &mut notes, now);
        }
        o.date_modified = now;
        if patch.set_paid && (creating || self.needs_payment(&o)) {
            self.payment_complete(&mut o, patch.transaction_id.as_deref(), &mut notes, now);
        }
        let id = o.id;
        self.put_order(o);
        for text in notes {
            self.put_note(Note {
                id: 0,
                order_id: id,
                note: text,
                customer_note: false,
                author: "WooCommerce".into(),
                date_created: now,
            });
        }
        Ok(id)
    }

    /// `WC_Order::set_status` and the transition it causes on save.
    pub(crate) fn set_order_status(
        &mut self,
        o: &mut Order,
        to: &str,
        notes: &mut Vec<String>,
        now: Timestamp,
    ) {
        if o.status == to {
            return;
        }
        let from = if o.status == "auto-draft" {
            "pending".to_owned()
        } else {
            std::mem::take(&mut o.status)
        };
        o.status = to.to_owned();
        self.maybe_set_date_paid(o, now);
        if to == "completed" {
            o.date_completed = Some(now);
        }
        if status_reduces_stock(to) {
            self.maybe_reduce_stock(o, notes, now);
        } else if status_restores_stock(to) {
            self.maybe_increase_stock(o, notes, now);
        } else if to == "refunded" {
            self.order_fully_refunded(o, notes, now);
        }
        notes.push(format!(
            "Order status changed from {} to {}.",
            order_status_label(&from),
            order_status_label(to)
        ));
    }

    /// `WC_Order::maybe_set_date_paid`: paid when the order reaches the
    /// status a payment would give it (processing, or completed for orders
    /// of virtual downloads only), or completed.
    fn maybe_set_date_paid(&self, o: &mut Order, now: Timestamp) {
        if o.date_paid.is_some() {
            return;
        }
        let paid_status = if self.needs_processing(o) {
            "processing"
        } else {
            "completed"
        };
        if o.status == paid_status || (paid_status == "processing" && o.status == "completed") {
            o.date_paid = Some(now);
        }
    }

    /// `WC_Order::payment_complete`.
    fn payment_complete(
        &mut self,
        o: &mut Order,
        transaction_id: Option<&str>,
        notes: &mut Vec<String>,
        now: Timestamp,
    ) {
        if !matches!(
            o.status.as_str(),
            "on-hold" | "pending" | "failed" | "cancelled"
        ) {
            return;
        }
        if let Some(t) = transaction_id.filter(|t| !t.is_empty()) {
            o.transaction_id = t.to_owned();
        }
        o.date_paid.get_or_insert(now);
        let to = if self.needs_processing(o) {
            "processing"
        } else {
            "completed"
        };
        self.set_order_status(o, to, notes, now);
        self.maybe_reduce_stock(o, notes, now);
    }

    /// `WC_Order::needs_processing`: some line's product is not a virtual
    /// download.
    pub fn needs_processing(&self, o: &Order) -> bool {
        o.line_items.iter().any(|l| {
            self.products
                .get(&l.sold_id())
                .is_some_and(|p| !(p.is_virtual && p.downloadable))
        })
    }

    /// `WC_Order::needs_payment`: pending or failed with a total above 0.
    pub fn needs_payment(&self, o: &Order) -> bool {
        matches!(o.status.as_str(), "pending" | "failed") && order_totals(o).2 > 0.0
    }

    /// `remove_item` of the REST controller: give back what the line took.
    fn remove_line(&mut self, o: &mut Order, id: u64, now: Timestamp) {
        if let Some(i) = o.line_items.iter().position(|l| l.id == id) {
            self.adjust_line_stock(o, i, 0, now);
            o.line_items.remove(i);
        }
    }

    /// `set_item` / `prepare_line_items` for one posted line.
    fn set_line(
        &mut self,
        o: &mut Order,
        w: &LineItemWrite,
        now: Timestamp,
        notes: &mut Vec<String>,
    ) {
        let creating = w.id == 0;
        let index = if creating {
            o.line_items.push(LineItem {
                id: 0,
                name: String::new(),
                product_id: 0,
                variation_id: 0,
                quantity: 1,
                total: "0".into(),
                subtotal: "0".into(),
                meta_data: Vec::new(),
            });
            o.line_items.len() - 1
        } else {
            o.line_items
                .iter()
                .position(|l| l.id == w.id)
                .expect("checked before")
        };
        let target = match (&w.sku, w.product_id, w.variation_id) {
            (Some(sku), _, _) if !sku.is_empty() => self.product_by_sku(sku).map(|p| p.id),
            (_, Some(p), None | Some(0)) if p != 0 => Some(p),
            (_, _, Some(v)) if v != 0 => Some(v),
            _ => None,
        };
        if let Some(product) = target.and_then(|id| self.products.get(&id)).cloned() {
            let line = &mut o.line_items[index];
            if creating || line.sold_id() != product.id {
                self.set_line_product(line, &product);
                if creating {
                    let unit: f64 = effective_price(self, &product).parse().unwrap_or(0.0);
                    line.total = money(unit * w.quantity.unwrap_or(1) as f64);
                    line.subtotal = line.total.clone();
                }
            }
        }
        let line = &mut o.line_items[index];
        assign(&mut line.name, &w.name);
        assign(&mut line.total, &w.total);
        assign(&mut line.subtotal, &w.subtotal);
        if let Some(q) = w.quantity {
            line.quantity = q;
        }
        let mut meta = std::mem::take(&mut line.meta_data);
        self.apply_meta(&mut meta, &w.meta_data);
        o.line_items[index].meta_data = meta;
        if status_reduces_stock(&o.status) {
            let quantity = o.line_items[index].quantity;
            if let Some((from, to)) = self.adjust_line_stock(o, index, quantity, now) {
                notes.push(format!(
                    "Adjusted stock: {} ({from}&rarr;{to})",
                    o.line_items[index].name
                ));
            }
        }
    }

    /// `WC_Order_Item_Product::set_product`: ids, name and, for a
    /// variation, its attributes as item meta.
    fn set_line_product(&self, line: &mut LineItem, p: &Product) {
        line.name = self.product_title(p);
        if p.kind == ProductType::Variation {
            line.product_id = p.parent_id;
            line.variation_id = p.id;
            for a in &p.attributes {
                let Some(option) = &a.option else { continue };
                let key = slugify(&a.name);
                line.meta_data.retain(|m| m.key != key);
                line.meta_data.push(MetaEntry {
                    id: 0,
                    key,
                    value: serde_json::Value::String(option.clone()),
                });
            }
        } else {
            line.product_id = p.id;
            line.variation_id = 0;
        }
    }
}

/// `prepare_shipping_lines` for one posted line (checked before).
fn set_shipping_line(o: &mut Order, w: &ShippingLineWrite) {
    if w.remove {
        o.shipping_lines.retain(|s| s.id != w.id);
        return;
    }
    let index = match o
        .shipping_lines
        .iter()
        .position(|s| s.id == w.id && w.id != 0)
    {
        Some(i) => i,
        None => {
            o.shipping_lines.push(ShippingLine {
                id: 0,
                method_title: String::new(),
                method_id: String::new(),
                instance_id: String::new(),
                total: "0".into(),
                meta_data: Vec::new(),
            });
            o.shipping_lines.len() - 1
        }
    };
    let line = &mut o.shipping_lines[index];
    assign(&mut line.method_id, &w.method_id);
    assign(&mut line.method_title, &w.method_title);
    assign(&mut line.instance_id, &w.instance_id);
    assign(&mut line.total, &w.total);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{now, store};
    use super::*;
    use crate::model::REDUCED_STOCK;
    use crate::writes::order_patch;
    use serde_json::json;

    fn stock(s: &Store, id: u64) -> Option<i64> {
        s.product(id).and_then(|p| p.stock_quantity)
    }

    fn notes(s: &Store, id: u64) -> Vec<String> {
        s.notes(id).iter().map(|n| n.note.clone()).collect()
    }

    fn create(s: &mut Store, body: serde_json::Value) -> Result<u64, ApiError> {
        s.create_order(&order_patch(&body).unwrap(), now())
    }

    fn update(s: &mut Store, id: u64, body: serde_json::Value) -> Result<(), ApiError> {
        s.update_order(id, &order_patch(&body).unwrap(), now())
    }

    #[test]
    fn a_processing_order_takes_stock_once_and_gives_it_back_on_cancel() {
        let mut s = store();
        let expected_id = s.next_post_id;
        let id = create(
            &mut s,
            json!({
                "status": "processing",
                "billing": {"first_name": "Ann", "email": "ann@example.test"},
                "line_items": [{"product_id": 11, "quantity": 2}, {"variation_id": 13, "quantity": 1}],
                "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}]
            }),
        )
        .unwrap();
        assert_eq!(id, expected_id);
        let o = s.order(id).unwrap().clone();
        assert_eq!(
            (o.status.as_str(), o.created_via.as_str()),
            ("processing", "rest-api")
        );
        assert_eq!(
            (o.date_paid, o.date_created, o.stock_reduced),
            (Some(now()), now(), Some(true))
        );
        assert_eq!((stock(&s, 11), stock(&s, 13)), (Some(19), Some(1)));
        assert_eq!(
            s.product(12).unwrap().date_modified,
            now(),
            "variation sale touches the parent"
        );
        let lines: Vec<(&str, u64, u64, &str, Option<i64>)> = o
            .line_items
            .iter()
            .map(|l| {
                (
                    l.name.as_str(),
                    l.product_id,
                    l.variation_id,
                    l.total.as_str(),
                    l.reduced_stock(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("Rig Simple Widget", 11, 0, "35.00", Some(2)),
                ("Rig T-Shirt - S", 12, 13, "15.00", Some(1)),
            ]
        );
        let meta = &o.line_items[1].meta_data;
        assert_eq!(
            (meta[0].key.as_str(), &meta[0].value),
            ("size", &json!("S"))
        );
        assert_eq!(meta[1].key, REDUCED_STOCK);
        assert_eq!(meta[1].value, json!("1"));
        assert!(o.line_items.iter().all(|l| l.id != 0) && o.shipping_lines[0].id != 0);
        assert_eq!(
            notes(&s, id),
            [
                "Stock levels reduced: Rig Simple Widget (RIG-SIMPLE-1) 21&rarr;19, \
                 Rig T-Shirt - S (RIG-TSHIRT-S)<span class=\"description\"></span> 2&rarr;1",
                "Order status changed from Pending payment to Processing."
            ]
        );

        update(&mut s, id, json!({"status": "completed"})).unwrap();
        assert_eq!(
            (stock(&s, 11), stock(&s, 13)),
            (Some(19), Some(1)),
            "only once"
        );
        assert_eq!(s.order(id).unwrap().date_completed, Some(now()));

        update(&mut s, id, json!({"status": "cancelled"})).unwrap();
        let o = s.order(id).unwrap();
        assert_eq!((stock(&s, 11), stock(&s, 13)), (Some(21), Some(2)));
        assert_eq!(o.stock_reduced, Some(false));
        assert!(o.line_items.iter().all(|l| l.reduced_stock().is_none()));
        assert!(
            notes(&s, id).contains(
                &"Stock levels increased: Rig Simple Widget (RIG-SIMPLE-1) 19&rarr;21, \
              Rig T-Shirt - S (RIG-TSHIRT-S)<span class=\"description\"></span> 1&rarr;2"
                    .to_owned()
            )
        );

        update(&mut s, id, json!({"status": "on-hold"})).unwrap();
        assert_eq!(
            (stock(&s, 11), stock(&s, 13)),
            (Some(19), Some(1)),
            "taken again"
        );
    }

    #[test]
    fn pending_takes_nothing_and_set_paid_completes_the_payment() {
        let mut s = store();
        let id = create(&mut s, json!({"line_items": [{"sku": "RIG-SIMPLE-1"}]})).unwrap();
        let o = s.order(id).unwrap();
        assert_eq!(
            (o.status.as_str(), o.date_paid, o.line_items[0].quantity),
            ("pending", None, 1)
        );
        assert_eq!(stock(&s, 11), Some(21));
        assert!(notes(&s, id).is_empty());

        update(
            &mut s,
            id,
            json!({"set_paid": true, "transaction_id": "tx-1"}),
        )
        .unwrap();
        let o = s.order(id).unwrap();
        assert_eq!(
            (o.status.as_str(), o.date_paid, o.transaction_id.as_str()),
            ("processing", Some(now()), "tx-1")
        );
        assert_eq!(stock(&s, 11), Some(20));

        let ebook = create(
            &mut s,
            json!({"set_paid": true, "line_items": [{"product_id": 21}]}),
        )
        .unwrap();
        let o = s.order(ebook).unwrap();
        assert_eq!(
            (o.status.as_str(), o.date_completed),
            ("completed", Some(now()))
        );
        assert!(
            !s.needs_processing(o),
            "a virtual download needs no processing"
        );
    }

    #[test]
    fn seeded_orders_count_as_reduced_and_refunds_do_not_restock() {
        let mut s = store();
        assert_eq!(s.order(177).unwrap().stock_reduced, Some(true));
        assert_eq!(s.order(175).unwrap().stock_reduced, Some(false));
        update(&mut s, 176, json!({"status": "cancelled"})).unwrap();
        assert_eq!(stock(&s, 13), Some(4));
        update(&mut s, 177, json!({"status": "refunded"})).unwrap();
        assert_eq!((stock(&s, 11), stock(&s, 22)), (Some(21), Some(7)));
        update(&mut s, 177, json!({"status": "pending"})).unwrap();
        assert_eq!(
            (stock(&s, 11), stock(&s, 22)),
            (Some(22), Some(10)),
            "pending restores"
        );
    }

    #[test]
    fn editing_lines_of_an_order_that_took_stock_moves_the_difference() {
        let mut s = store();
        update(
            &mut s,
            177,
            json!({"line_items": [{"id": 3, "quantity": 3}]}),
        )
        .unwrap();
        let o = s.order(177).unwrap();
        assert_eq!(
            (stock(&s, 11), o.line_items[0].reduced_stock()),
            (Some(19), Some(3))
        );
        assert_eq!(
            o.line_items[0].total, "17.50",
            "the total stays unless sent"
        );
        assert_eq!(
            notes(&s, 177).last().unwrap(),
            "Adjusted stock: Rig Simple Widget (21&rarr;19)"
        );
        update(
            &mut s,
            177,
            json!({"line_items": [{"id": 4, "quantity": 0}, {"product_id": 16, "quantity": 2}]}),
        )
        .unwrap();
        let o = s.order(177).unwrap();
        assert_eq!((stock(&s, 22), stock(&s, 16)), (Some(10), Some(36)));
        assert!(o.line_items.iter().all(|l| l.id != 4));
        assert_eq!(o.line_items.last().unwrap().reduced_stock(), Some(2));

        // A pending order has taken nothing: editing it moves no stock.
        update(
            &mut s,
            175,
            json!({"line_items": [{"id": 1, "quantity": 5}]}),
        )
        .unwrap();
        assert_eq!(stock(&s, 11), Some(19));
    }

    #[test]
    fn parent_managed_variations_draw_on_the_parent() {
        let mut s = store();
        let mut parent = s.product(12).unwrap().clone();
        parent.manage_stock = true;
        parent.stock_quantity = Some(10);
        s.put_product(parent);
        let mut v = s.product(15).unwrap().clone();
        v.manage_stock = false;
        v.stock_quantity = None;
        s.put_product(v);
        assert_eq!(s.stock_holder(15), Some(12));
        create(
            &mut s,
            json!({"status": "processing", "line_items": [{"variation_id": 15, "quantity": 4}]}),
        )
        .unwrap();
        assert_eq!((stock(&s, 12), stock(&s, 15)), (Some(6), None));
    }

    #[test]
    fn a_placed_order_takes_its_stock_as_a_checkout_does() {
        let mut s = store();
        let place = |product_id, variation_id, quantity, status: &str| PlaceOrder {
            product_id,
            variation_id,
            quantity,
            status: status.into(),
        };
        let id = s
            .place_order(&place(11, 0, 2, "processing"), now())
            .unwrap();
        let o = s.order(id).unwrap();
        assert_eq!(
            (o.status.as_str(), o.created_via.as_str(), o.date_created),
            ("processing", "checkout", now())
        );
        assert_eq!(o.line_items[0].reduced_stock(), Some(2));
        assert_eq!(stock(&s, 11), Some(19));
        assert!(notes(&s, id)[0].starts_with("Stock levels reduced: Rig Simple Widget"));

        let id = s.place_order(&place(12, 13, 1, "on-hold"), now()).unwrap();
        let line = &s.order(id).unwrap().line_items[0];
        assert_eq!((line.product_id, line.variation_id), (12, 13));
        assert_eq!(stock(&s, 13), Some(1));

        s.place_order(&place(0, 14, 1, "pending"), now()).unwrap();
        assert_eq!(stock(&s, 14), Some(0), "a pending order takes nothing");

        for bad in [
            place(999_999, 0, 1, "processing"),
            place(11, 13, 1, "processing"),
            place(12, 0, 1, "processing"),
        ] {
            assert!(s.place_order(&bad, now()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refused_writes_change_nothing() {
        let mut s = store();
        let before = s.clone();
        let code = |r: Result<(), ApiError>| r.unwrap_err().code;
        assert_eq!(
            code(update(
                &mut s,
                177,
                json!({"line_items": [{"id": 3, "quantity": 2}, {"id": 999, "quantity": 1}]})
            )),
            "woocommerce_rest_invalid_item_id"
        );
        assert_eq!(
            code(update(
                &mut s,
                177,
                json!({"line_items": [{"quantity": 1}]})
            )),
            "woocommerce_rest_required_product_reference"
        );
        assert_eq!(
            code(update(
                &mut s,
                177,
                json!({"shipping_lines": [{"total": "1.00"}]})
            )),
            "woocommerce_rest_invalid_shipping_item"
        );
        let e = create(
            &mut s,
            json!({"customer_id": 99, "line_items": [{"product_id": 11}]}),
        )
        .unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (400, "Customer ID is invalid.")
        );
        assert_eq!(
            create(&mut s, json!({"id": 5})).unwrap_err().code,
            "woocommerce_rest_shop_order_exists"
        );
        assert_eq!(
            code(update(&mut s, 987_654, json!({}))),
            "woocommerce_rest_shop_order_invalid_id"
        );
        assert_eq!(stock(&s, 11), stock(&before, 11));
        assert_eq!(s.order(177), before.order(177));
        assert!(
            create(&mut s, json!({"customer_id": 2})).is_ok(),
            "a seed customer exists"
        );
    }
}
