//! WooCommerce's own stock movements for orders (`wc-stock-functions.php`,
//! `wc_maybe_adjust_line_item_product_stock` in
//! `admin/wc-admin-functions.php`): an order takes its lines from stock once
//! (tracked by the order's "stock reduced" flag and each line's
//! `_reduced_stock` meta), gives them back when it is cancelled or set back
//! to pending, and a line edited on an order that already took stock moves
//! stock by the difference. Only lines whose product manages stock count; a
//! variation whose parent manages stock (`manage_stock: "parent"`) draws on
//! the parent.

use jiff::Timestamp;

use super::Store;
use crate::model::{LineItem, Order, Product, ProductType, REDUCED_STOCK, RESTOCK_REFUNDED_ITEMS};
use crate::writes::ProductPatch;

impl Store {
    /// The product whose stock a sale of `id` draws on
    /// (`get_stock_managed_by_id`), if stock is managed at all.
    pub fn stock_holder(&self, id: u64) -> Option<u64> {
        let p = self.products.get(&id)?;
        if p.manage_stock {
            return Some(id);
        }
        let parent = self.products.get(&p.parent_id)?;
        (p.kind == ProductType::Variation && parent.manage_stock).then_some(parent.id)
    }

    /// Move the stock `id` draws on by `delta` (`wc_update_product_stock`):
    /// the holder is saved, so its stock status follows and it (and a
    /// variation's parent) is stamped modified. Returns (from, to), or
    /// `None` when `id` does not manage stock.
    pub(crate) fn move_stock(&mut self, id: u64, delta: i64, now: Timestamp) -> Option<(i64, i64)> {
        let holder = self.stock_holder(id)?;
        let from = self.products.get(&holder)?.stock_quantity.unwrap_or(0);
        let patch = ProductPatch {
            inventory_delta: Some(delta),
            ..ProductPatch::default()
        };
        self.update_product(holder, &patch, false, now).ok()?;
        Some((from, from + delta))
    }

    /// `WC_Product::get_formatted_name`: "Name (SKU)", "Name (#id)" without
    /// a SKU; a variation adds its attributes not already in its name.
    pub fn formatted_name(&self, p: &Product) -> String {
        let identifier = if p.sku.is_empty() {
            format!("#{}", p.id)
        } else {
            p.sku.clone()
        };
        let name = self.product_title(p);
        if p.kind != ProductType::Variation {
            return format!("{name} ({identifier})");
        }
        let listed: Vec<String> = p
            .attributes
            .iter()
            .filter_map(|a| a.option.as_ref().map(|o| (a, o)))
            .filter(|(_, o)| !name.contains(o.as_str()))
            .map(|(a, o)| format!("{}: {o}", a.name))
            .collect();
        format!(
            "{name} ({identifier})<span class=\"description\">{}</span>",
            listed.join(", ")
        )
    }

    /// A product's title; a variation without one gets WooCommerce's
    /// generated "Parent - Option, Option".
    pub fn product_title(&self, p: &Product) -> String {
        if !p.name.is_empty() || p.kind != ProductType::Variation {
            return p.name.clone();
        }
        let parent = self
            .products
            .get(&p.parent_id)
            .map_or("", |pp| pp.name.as_str());
        let options: Vec<&str> = p
            .attributes
            .iter()
            .filter_map(|a| a.option.as_deref())
            .collect();
        if options.is_empty() || options.len() >= 3 {
            parent.to_owned()
        } else {
            format!("{parent} - {}", options.join(", "))
        }
    }

    fn line_product(&self, line: &LineItem) -> Option<&Product> {
        self.products.get(&line.sold_id())
    }

    /// `wc_maybe_reduce_stock_levels`: once per order, take every line not
    /// yet taken from stock; a note lists the changes.
    pub(crate) fn maybe_reduce_stock(
        &mut self,
        o: &mut Order,
        notes: &mut Vec<String>,
        now: Timestamp,
    ) {
        if o.stock_reduced() {
            return;
        }
        let changes = self.move_lines(o, now, |line| match line.reduced_stock() {
            Some(_) => None,
            None => Some((-line.quantity, Some(line.quantity))),
        });
        if !changes.is_empty() {
            notes.push(format!("Stock levels reduced: {}", changes.join(", ")));
        }
        o.stock_reduced = Some(true);
    }

    /// `wc_maybe_increase_stock_levels`: give back what each line took,
    /// drop its `_reduced_stock` and clear the order's flag.
    pub(crate) fn maybe_increase_stock(
        &mut self,
        o: &mut Order,
        notes: &mut Vec<String>,
        now: Timestamp,
    ) {
        if !o.stock_reduced() {
            return;
        }
        let changes = self.move_lines(o, now, |line| line.reduced_stock().map(|q| (q, None)));
        if !changes.is_empty() {
            notes.push(format!("Stock levels increased: {}", changes.join(", ")));
        }
        o.stock_reduced = Some(false);
    }

    /// Move stock for the lines `plan` picks (by how much, and the
    /// `_reduced_stock` the line keeps after), skipping lines whose product
    /// is gone or does not manage stock. Returns "Name (SKU) from&rarr;to"
    /// per line moved.
    fn move_lines(
        &mut self,
        o: &mut Order,
        now: Timestamp,
        plan: impl Fn(&LineItem) -> Option<(i64, Option<i64>)>,
    ) -> Vec<String> {
        let mut changes = Vec::new();
        for line in &mut o.line_items {
            let Some((delta, keep)) = plan(line) else {
                continue;
            };
            let Some(name) = self.line_product(line).map(|p| self.formatted_name(p)) else {
                continue;
            };
            if let Some((from, to)) = self.move_stock(line.sold_id(), delta, now) {
                line.set_reduced_stock(keep);
                changes.push(format!("{name} {from}&rarr;{to}"));
            }
        }
        changes
    }

    /// `wc_maybe_adjust_line_item_product_stock`: bring what a line took
    /// from stock in line with `quantity` (its own quantity, or 0 when the
    /// line is being removed), less the units a refund put back
    /// (`_restock_refunded_items`). Returns (from, to) when stock moved.
    pub(crate) fn adjust_line_stock(
        &mut self,
        o: &mut Order,
        line_index: usize,
        quantity: i64,
        now: Timestamp,
    ) -> Option<(i64, i64)> {
        let line = &o.line_items[line_index];
        self.stock_holder(line.sold_id())?;
        let already = line.meta_int(REDUCED_STOCK).unwrap_or(0);
        let restocked = line.meta_int(RESTOCK_REFUNDED_ITEMS).unwrap_or(0);
        let diff = if quantity == 0 {
            -already
        } else {
            quantity - restocked - already
        };
        if diff == 0 {
            return None;
        }
        let moved = self.move_stock(line.sold_id(), -diff, now)?;
        o.line_items[line_index].set_reduced_stock(Some(quantity - restocked));
        if quantity > 0 {
            o.stock_reduced = Some(true);
        }
        Some(moved)
    }
}
