//! The in-memory store: products (variations included), orders and notes,
//! with the listing and write rules of WooCommerce (SKU uniqueness among
//! records not in the trash, stock status derived from managed stock,
//! `date_modified` moved by every write, a variation write touching its
//! parent). Shipment trackings live where the extension keeps them, in the
//! order meta `_wc_shipment_tracking_items`. Meta writes
//! (`store/meta.rs`), order writes (`store/orders.rs`), refunds
//! (`store/refunds.rs`), WooCommerce's stock movements for orders
//! (`store/stock.rs`) and deletion (`store/trash.rs`) are further
//! `impl Store` blocks.

mod meta;
mod orders;
mod refunds;
mod stock;
mod trash;

pub use meta::stored_value;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;

use crate::error::ApiError;
use crate::listing::{CollectionQuery, SortKey, SortOrder, matches_search};
use crate::model::{
    LineItem, MetaEntry, Note, Order, Product, ProductType, ShippingLine, Tracking, slugify,
};
use crate::seed::Seed;
use crate::tracking::{self, NewTracking};
use crate::writes::{MetaWrite, ProductPatch};

/// All records of the sandbox store.
#[derive(Debug, Default, Clone)]
pub struct Store {
    products: BTreeMap<u64, Product>,
    orders: BTreeMap<u64, Order>,
    notes: BTreeMap<u64, Vec<Note>>,
    variations: HashMap<u64, Vec<u64>>,
    /// SKU -> product, for products not in the trash (WooCommerce's SKU
    /// lookups and uniqueness check skip trashed posts).
    skus: HashMap<String, u64>,
    /// Customer ids seed orders name (the users the site has).
    users: BTreeSet<u64>,
    next_post_id: u64,
    next_item_id: u64,
    next_note_id: u64,
    next_meta_id: u64,
    /// Tracking items added (part of each new tracking id).
    tracking_seq: u64,
}

/// What records sort by: id, created, modified, title, slug, price.
type SortFields<'a> = (u64, Timestamp, Timestamp, &'a str, &'a str, f64);

/// Which product route a write came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductRoute {
    /// `/products/{id}`: variations are reachable too.
    Products,
    /// `/products/batch`: a variation id is refused.
    ProductsBatch,
    /// `/products/{parent}/variations/{id}`.
    Variations {
        /// The parent in the URL.
        parent: u64,
    },
}

/// Set `dst` when a value was sent.
pub(crate) fn assign(dst: &mut String, src: &Option<String>) {
    if let Some(v) = src {
        dst.clone_from(v);
    }
}

fn product_not_found(route: ProductRoute, status: u16) -> ApiError {
    match route {
        ProductRoute::Variations { .. } => ApiError::new(
            status,
            "woocommerce_rest_product_variation_invalid_id",
            "Invalid ID.",
        ),
        _ => ApiError::new(status, "woocommerce_rest_product_invalid_id", "Invalid ID."),
    }
}

fn stock_status_for(p: &Product) -> String {
    let q = p.stock_quantity.unwrap_or(0);
    if q > 0 {
        "instock".into()
    } else if p.backorders != "no" {
        "onbackorder".into()
    } else {
        "outofstock".into()
    }
}

impl Store {
    /// A store holding the seed's records. Missing slugs, order keys and
    /// item/meta ids are filled in.
    pub fn from_seed(seed: Seed) -> Self {
        let mut store = Self {
            next_post_id: 1,
            next_item_id: 1,
            next_note_id: 1,
            next_meta_id: 1,
            ..Self::default()
        };
        let max_meta = |m: &[MetaEntry]| m.iter().map(|e| e.id).max().unwrap_or(0);
        for p in &seed.products {
            store.next_meta_id = store.next_meta_id.max(max_meta(&p.meta_data) + 1);
        }
        for o in &seed.orders {
            store.next_meta_id = store.next_meta_id.max(max_meta(&o.meta_data) + 1);
            for li in &o.line_items {
                store.next_item_id = store.next_item_id.max(li.id + 1);
                store.next_meta_id = store.next_meta_id.max(max_meta(&li.meta_data) + 1);
            }
            for s in &o.shipping_lines {
                store.next_item_id = store.next_item_id.max(s.id + 1);
            }
            for r in &o.refunds {
                store.next_post_id = store.next_post_id.max(r.id + 1);
                store.next_meta_id = store.next_meta_id.max(max_meta(&r.meta_data) + 1);
                for li in &r.line_items {
                    store.next_item_id = store.next_item_id.max(li.id + 1);
                    store.next_meta_id = store.next_meta_id.max(max_meta(&li.meta_data) + 1);
                }
                for s in &r.shipping_lines {
                    store.next_item_id = store.next_item_id.max(s.id + 1);
                    store.next_meta_id = store.next_meta_id.max(max_meta(&s.meta_data) + 1);
                }
            }
        }
        for n in &seed.notes {
            store.next_note_id = store.next_note_id.max(n.id + 1);
        }
        for p in seed.products {
            store.put_product(p);
        }
        store.users = seed
            .orders
            .iter()
            .map(|o| o.customer_id)
            .filter(|c| *c != 0)
            .collect();
        for o in seed.orders {
            store.put_order(o);
        }
        for n in seed.notes {
            store.put_note(n);
        }
        store
    }

    /// Insert or replace a product as given (ids, dates and all).
    pub fn put_product(&mut self, mut p: Product) {
        if p.slug.is_empty() {
            p.slug = slugify(&p.name);
        }
        for m in &mut p.meta_data {
            if m.id == 0 {
                m.id = self.next_meta_id;
                self.next_meta_id += 1;
            }
        }
        self.next_post_id = self.next_post_id.max(p.id + 1);
        if let Some(old) = self.products.remove(&p.id) {
            self.unindex(&old);
        }
        if !p.sku.is_empty() && p.status != "trash" {
            self.skus.insert(p.sku.clone(), p.id);
        }
        if p.kind == ProductType::Variation {
            let kids = self.variations.entry(p.parent_id).or_default();
            if let Err(at) = kids.binary_search(&p.id) {
                kids.insert(at, p.id);
            }
        }
        self.products.insert(p.id, p);
    }

    fn unindex(&mut self, old: &Product) {
        if self.skus.get(&old.sku) == Some(&old.id) {
            self.skus.remove(&old.sku);
        }
        if old.kind == ProductType::Variation
            && let Some(kids) = self.variations.get_mut(&old.parent_id)
        {
            kids.retain(|id| *id != old.id);
        }
    }

    /// Remove a product; its variations go with it.
    pub fn remove_product(&mut self, id: u64) -> Option<Product> {
        let p = self.products.remove(&id)?;
        self.unindex(&p);
        for kid in self.variations.remove(&id).unwrap_or_default() {
            if let Some(v) = self.products.remove(&kid) {
                self.unindex(&v);
            }
        }
        Some(p)
    }

    /// Insert or replace an order as given. An order without a
    /// `stock_reduced` flag is settled as a seeded one
    /// ([`Order::settle_seeded`]); a refund without a date takes the
    /// order's `date_modified`.
    pub fn put_order(&mut self, mut o: Order) {
        o.settle_seeded(|id| self.stock_holder(id).is_some());
        if o.order_key.is_empty() {
            o.order_key = format!("wc_order_sandbox{}", o.id);
        }
        self.number_items(&mut o.line_items, &mut o.shipping_lines);
        for r in &mut o.refunds {
            r.date_created.get_or_insert(o.date_modified);
            self.number_meta(&mut r.meta_data);
            self.number_items(&mut r.line_items, &mut r.shipping_lines);
            self.next_post_id = self.next_post_id.max(r.id + 1);
        }
        self.next_post_id = self.next_post_id.max(o.id + 1);
        self.orders.insert(o.id, o);
    }

    /// Give new lines (id 0) and their new meta (id 0) the next ids.
    fn number_items(&mut self, lines: &mut [LineItem], shipping: &mut [ShippingLine]) {
        for li in lines {
            if li.id == 0 {
                li.id = self.next_item_id;
                self.next_item_id += 1;
            }
            self.number_meta(&mut li.meta_data);
        }
        for s in shipping {
            if s.id == 0 {
                s.id = self.next_item_id;
                self.next_item_id += 1;
            }
            self.number_meta(&mut s.meta_data);
        }
    }

    fn number_meta(&mut self, meta: &mut [MetaEntry]) {
        for m in meta {
            if m.id == 0 {
                m.id = self.next_meta_id;
                self.next_meta_id += 1;
            }
        }
    }

    /// Add a note as given (id 0: assign one).
    pub fn put_note(&mut self, mut n: Note) -> Note {
        if n.id == 0 {
            n.id = self.next_note_id;
        }
        self.next_note_id = self.next_note_id.max(n.id + 1);
        self.notes.entry(n.order_id).or_default().push(n.clone());
        n
    }

    /// A product or variation.
    pub fn product(&self, id: u64) -> Option<&Product> {
        self.products.get(&id)
    }

    /// The product holding a SKU.
    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        self.skus.get(sku).and_then(|id| self.products.get(id))
    }

    /// Every product and variation, by id.
    pub fn products(&self) -> impl Iterator<Item = &Product> {
        self.products.values()
    }

    /// Variation ids of a variable product, ascending, whatever their
    /// status.
    pub fn variation_ids(&self, parent: u64) -> &[u64] {
        self.variations.get(&parent).map_or(&[], Vec::as_slice)
    }

    /// The variations a variable product counts as its children
    /// (`read_children`: published or private ones), ascending.
    pub fn child_variation_ids(&self, parent: u64) -> Vec<u64> {
        self.variation_ids(parent)
            .iter()
            .copied()
            .filter(|id| {
                self.products
                    .get(id)
                    .is_some_and(|v| matches!(v.status.as_str(), "publish" | "private"))
            })
            .collect()
    }

    /// An order.
    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// Every order, by id.
    pub fn orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    /// Notes of an order, oldest first.
    pub fn notes(&self, order_id: u64) -> &[Note] {
        self.notes.get(&order_id).map_or(&[], Vec::as_slice)
    }

    /// The Shipment Tracking items of an order as the extension reads them
    /// from its meta (`get_tracking_items`), in the order stored.
    pub fn tracking_items(&self, order_id: u64) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let meta = self.orders.get(&order_id).and_then(|o| {
            o.meta_data
                .iter()
                .find(|m| m.key == tracking::META_KEY)
                .map(|m| &m.value)
        });
        tracking::items(meta)
    }

    /// Shipment trackings of an order, in the order stored.
    pub fn trackings(&self, order_id: u64) -> Vec<Tracking> {
        self.tracking_items(order_id)
            .iter()
            .map(|item| Tracking::from_item(order_id, item))
            .collect()
    }

    /// Product and variation counts.
    pub fn product_count(&self) -> usize {
        self.products.len()
    }

    fn sorted<'a, T>(
        mut items: Vec<&'a T>,
        q: &CollectionQuery,
        key: impl Fn(&'a T) -> SortFields<'a>,
    ) -> Vec<&'a T> {
        items.sort_by(|a, b| Self::compare(q, key(a), key(b)));
        items
    }

    /// The order `q` asks for between two records, by their sort fields;
    /// ties go by id.
    fn compare(q: &CollectionQuery, a: SortFields<'_>, b: SortFields<'_>) -> std::cmp::Ordering {
        let (ia, ca, ma, ta, sa, pa) = a;
        let (ib, cb, mb, tb, sb, pb) = b;
        let primary = match q.orderby {
            SortKey::Id => ia.cmp(&ib),
            SortKey::Include => {
                let pos = |id| {
                    q.include
                        .iter()
                        .position(|x| *x == id)
                        .unwrap_or(usize::MAX)
                };
                pos(ia).cmp(&pos(ib))
            }
            SortKey::Title => ta.cmp(tb),
            SortKey::Slug => sa.cmp(sb),
            SortKey::Modified => ma.cmp(&mb),
            SortKey::Price => pa.total_cmp(&pb),
            SortKey::Date | SortKey::Other => ca.cmp(&cb),
        }
        .then(ia.cmp(&ib));
        match (q.order, q.orderby) {
            (_, SortKey::Include) => primary,
            (SortOrder::Asc, _) => primary,
            (SortOrder::Desc, _) => primary.reverse(),
        }
    }

    fn product_matches(&self, p: &Product, q: &CollectionQuery) -> bool {
        let status_ok = match &q.statuses {
            Some(list) => list.contains(&p.status),
            // WP_Query's `any` leaves out trash and auto-drafts.
            None => !matches!(p.status.as_str(), "trash" | "auto-draft"),
        };
        status_ok
            && q.include.is_empty() | q.include.contains(&p.id)
            && !q.exclude.contains(&p.id)
            && q.kind.is_none_or(|k| p.kind == k)
            && q.stock_status.as_ref().is_none_or(|s| *s == p.stock_status)
            && q.parent.is_empty() | q.parent.contains(&p.parent_id)
            && q.modified_after.is_none_or(|t| p.date_modified > t)
            && q.modified_before.is_none_or(|t| p.date_modified < t)
            && q.after.is_none_or(|t| p.date_created > t)
            && q.before.is_none_or(|t| p.date_created < t)
            && q.search
                .as_ref()
                .is_none_or(|s| matches_search(s, &[&p.name, &p.short_description, &p.description]))
    }

    /// `/products`: top-level products, or (with `sku`) products and
    /// variations holding one of the SKUs. Returns one page and the total.
    pub fn list_products(&self, q: &CollectionQuery) -> (Vec<&Product>, usize) {
        self.list_kind(q, |p| p.kind != ProductType::Variation)
    }

    /// A page of the products `kind` admits (all of them holding one of
    /// the SKUs when `sku` is asked for), and the total.
    fn list_kind(
        &self,
        q: &CollectionQuery,
        kind: impl Fn(&Product) -> bool,
    ) -> (Vec<&Product>, usize) {
        let candidates: Vec<&Product> = match &q.sku {
            Some(skus) => self.by_skus(skus, q),
            None => self.products.values().filter(|p| kind(p)).collect(),
        };
        let matching: Vec<&Product> = candidates
            .into_iter()
            .filter(|p| self.product_matches(p, q))
            .collect();
        self.page(matching, q)
    }

    /// Products and variations holding one of the SKUs; trashed ones only
    /// when the trash is asked for.
    fn by_skus(&self, skus: &[String], q: &CollectionQuery) -> Vec<&Product> {
        let mut v: Vec<&Product> = skus.iter().filter_map(|s| self.product_by_sku(s)).collect();
        if q.statuses
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s == "trash"))
        {
            v.extend(
                self.products
                    .values()
                    .filter(|p| p.status == "trash" && skus.contains(&p.sku)),
            );
        }
        v.sort_by_key(|p| p.id);
        v.dedup_by_key(|p| p.id);
        v
    }

    /// `/variations` (WooCommerce 10.3+): variations of every product; with
    /// `sku`, whatever holds the SKUs, as the route's query widens to
    /// products too.
    pub fn list_all_variations(&self, q: &CollectionQuery) -> (Vec<&Product>, usize) {
        self.list_kind(q, |p| p.kind == ProductType::Variation)
    }

    /// `/products/{parent}/variations`.
    pub fn list_variations(&self, parent: u64, q: &CollectionQuery) -> (Vec<&Product>, usize) {
        let matching: Vec<&Product> = self
            .variation_ids(parent)
            .iter()
            .filter_map(|id| self.products.get(id))
            .filter(|p| self.product_matches(p, q))
            .collect();
        self.page(matching, q)
    }

    fn page<'a>(
        &self,
        matching: Vec<&'a Product>,
        q: &CollectionQuery,
    ) -> (Vec<&'a Product>, usize) {
        let total = matching.len();
        let sorted = Self::sorted(matching, q, |p| {
            let price = if p.sale_price.is_empty() {
                &p.regular_price
            } else {
                &p.sale_price
            };
            (
                p.id,
                p.date_created,
                p.date_modified,
                p.name.as_str(),
                p.slug.as_str(),
                price.parse().unwrap_or(0.0),
            )
        });
        let (window, _) = crate::listing::page_window(total, q.page, q.per_page);
        (sorted[window].to_vec(), total)
    }

    /// `/orders`. Returns one page and the total.
    pub fn list_orders(&self, q: &CollectionQuery) -> (Vec<&Order>, usize) {
        let matching: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| match &q.statuses {
                Some(list) => list.contains(&o.status),
                None => o.status != "trash",
            })
            .filter(|o| q.include.is_empty() | q.include.contains(&o.id))
            .filter(|o| !q.exclude.contains(&o.id))
            .filter(|o| q.modified_after.is_none_or(|t| o.date_modified > t))
            .filter(|o| q.modified_before.is_none_or(|t| o.date_modified < t))
            .filter(|o| q.after.is_none_or(|t| o.date_created > t))
            .filter(|o| q.before.is_none_or(|t| o.date_created < t))
            .filter(|o| {
                q.search.as_ref().is_none_or(|s| {
                    matches_search(
                        s,
                        &[
                            &o.billing.first_name,
                            &o.billing.last_name,
                            &o.billing.email,
                        ],
                    )
                })
            })
            .collect();
        let total = matching.len();
        let sorted = Self::sorted(matching, q, |o| {
            (o.id, o.date_created, o.date_modified, "", "", 0.0)
        });
        let (window, _) = crate::listing::page_window(total, q.page, q.per_page);
        (sorted[window].to_vec(), total)
    }

    /// Find the product a write addresses, refusing ids the route cannot
    /// reach. `missing_status` is 404 for single routes, 400 in batches.
    pub fn resolve_product(
        &self,
        id: u64,
        route: ProductRoute,
        missing_status: u16,
    ) -> Result<u64, ApiError> {
        let p = self
            .products
            .get(&id)
            .ok_or_else(|| product_not_found(route, missing_status))?;
        match route {
            ProductRoute::ProductsBatch if p.kind == ProductType::Variation => Err(ApiError::new(
                404,
                "woocommerce_rest_invalid_product_id",
                "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
            )),
            ProductRoute::Variations { parent }
                if p.parent_id != parent || p.kind != ProductType::Variation =>
            {
                Err(product_not_found(route, missing_status))
            }
            _ => Ok(id),
        }
    }

    fn check_sku(&self, sku: &str, own_id: u64) -> Result<(), ApiError> {
        match self.skus.get(sku) {
            Some(holder) if *holder != own_id && !sku.is_empty() => {
                let unique = (1..)
                    .map(|n| format!("{sku}-{n}"))
                    .find(|c| !self.skus.contains_key(c))
                    .expect("an unused suffix exists");
                Err(
                    ApiError::new(400, "product_invalid_sku", "Invalid or duplicated SKU.")
                        .with("resource_id", serde_json::json!(holder))
                        .with("unique_sku", serde_json::json!(unique)),
                )
            }
            _ => Ok(()),
        }
    }

    /// Apply a validated write to an existing product and stamp it
    /// modified at `now`; a variation's parent is stamped too.
    pub fn update_product(
        &mut self,
        id: u64,
        patch: &ProductPatch,
        cogs: bool,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        if let Some(sku) = &patch.sku {
            self.check_sku(sku, id)?;
        }
        let Some(mut p) = self.products.get(&id).cloned() else {
            return Err(product_not_found(ProductRoute::Products, 404));
        };
        let mut meta = std::mem::take(&mut p.meta_data);
        self.apply_meta(&mut meta, &patch.meta_data);
        p.meta_data = meta;
        apply_fields(&mut p, patch, cogs);
        p.date_modified = now;
        let parent = (p.kind == ProductType::Variation).then_some(p.parent_id);
        self.put_product(p);
        if let Some(parent) = parent {
            self.refresh_parent(parent, now);
        }
        Ok(())
    }

    fn refresh_parent(&mut self, parent: u64, now: Timestamp) {
        let statuses: Vec<String> = self
            .child_variation_ids(parent)
            .iter()
            .filter_map(|id| self.products.get(id))
            .map(|v| v.stock_status.clone())
            .collect();
        if let Some(pp) = self.products.get_mut(&parent) {
            pp.date_modified = now;
            pp.stock_status = ["instock", "onbackorder"]
                .into_iter()
                .find(|s| statuses.iter().any(|v| v == s))
                .unwrap_or("outofstock")
                .to_owned();
        }
    }

    /// Create a product (or, with `parent`, a variation) from a validated
    /// body; returns its id.
    pub fn create_product(
        &mut self,
        patch: &ProductPatch,
        parent: Option<u64>,
        cogs: bool,
        now: Timestamp,
    ) -> Result<u64, ApiError> {
        if let Some(sku) = &patch.sku {
            self.check_sku(sku, 0)?;
        }
        let id = self.next_post_id;
        let mut p = Product::new(id, now);
        if let Some(parent) = parent {
            p.parent_id = parent;
            p.kind = ProductType::Variation;
        }
        let mut meta = Vec::new();
        self.apply_meta(&mut meta, &patch.meta_data);
        p.meta_data = meta;
        apply_fields(&mut p, patch, cogs);
        if p.name.is_empty() && parent.is_none() {
            p.name = "Product".into();
        }
        p.slug = slugify(&p.name);
        self.put_product(p);
        if let Some(parent) = parent {
            self.refresh_parent(parent, now);
        }
        Ok(id)
    }

    /// Add an order note written through the API and stamp the order.
    pub fn add_note(
        &mut self,
        order_id: u64,
        text: &str,
        customer_note: bool,
        now: Timestamp,
    ) -> Note {
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.date_modified = now;
        }
        self.put_note(Note {
            id: 0,
            order_id,
            note: text.to_owned(),
            customer_note,
            author: "WooCommerce".into(),
            date_created: now,
        })
    }

    /// `add_tracking_item`: append an item to the order's
    /// `_wc_shipment_tracking_items` and save the order. Returns the item;
    /// `None` for an unknown order.
    pub fn add_tracking(
        &mut self,
        order_id: u64,
        new: NewTracking,
        now: Timestamp,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.orders.get(&order_id)?;
        self.tracking_seq += 1;
        let provider = if new.custom_tracking_provider.is_empty() {
            new.tracking_provider.clone()
        } else {
            new.custom_tracking_provider.clone()
        };
        // md5( "{provider}-{number}" . microtime() ) in the extension.
        let id = tracking_id(&format!(
            "{provider}-{}{}-{}",
            new.tracking_number,
            now.as_nanosecond(),
            self.tracking_seq
        ));
        let item = new.into_item(now, id);
        let mut items = self.tracking_items(order_id);
        items.push(item.clone());
        self.save_tracking_items(order_id, items, now);
        Some(item)
    }

    /// `delete_tracking_item`: remove the first item with this id and save
    /// the order; false when there is none.
    pub fn delete_tracking(&mut self, order_id: u64, tracking_id: &str, now: Timestamp) -> bool {
        let mut items = self.tracking_items(order_id);
        let Some(at) = items.iter().position(|i| {
            i.get("tracking_id").and_then(serde_json::Value::as_str) == Some(tracking_id)
        }) else {
            return false;
        };
        items.remove(at);
        self.save_tracking_items(order_id, items, now);
        true
    }

    /// `save_tracking_items`: `update_meta_data` of the list, then
    /// `$order->save()`.
    fn save_tracking_items(
        &mut self,
        order_id: u64,
        items: Vec<serde_json::Map<String, serde_json::Value>>,
        now: Timestamp,
    ) {
        let Some(mut o) = self.orders.get(&order_id).cloned() else {
            return;
        };
        let list =
            serde_json::Value::Array(items.into_iter().map(serde_json::Value::Object).collect());
        let mut meta = std::mem::take(&mut o.meta_data);
        self.apply_meta(
            &mut meta,
            &[MetaWrite {
                id: None,
                key: tracking::META_KEY.into(),
                value: list,
            }],
        );
        o.meta_data = meta;
        o.date_modified = now;
        self.orders.insert(order_id, o);
    }
}

/// A 32-hex-digit id, as the extension's md5-based ids look.
fn tracking_id(seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Field rules of `WC_REST_Products_Controller::prepare_object_for_database`.
fn apply_fields(p: &mut Product, patch: &ProductPatch, cogs: bool) {
    assign(&mut p.name, &patch.name);
    assign(&mut p.status, &patch.status);
    assign(&mut p.sku, &patch.sku);
    assign(&mut p.regular_price, &patch.regular_price);
    assign(&mut p.sale_price, &patch.sale_price);
    assign(&mut p.description, &patch.description);
    assign(&mut p.short_description, &patch.short_description);
    assign(&mut p.weight, &patch.weight);
    assign(&mut p.backorders, &patch.backorders);
    if let Some(k) = patch.kind
        && p.kind != ProductType::Variation
    {
        p.kind = k;
    }
    if let Some(v) = patch.is_virtual {
        p.is_virtual = v;
    }
    if let Some(v) = patch.downloadable {
        p.downloadable = v;
    }
    if cogs && let Some(c) = patch.cost_of_goods_sold {
        p.cost_of_goods_sold = Some(c);
    }
    if let Some(m) = patch.manage_stock {
        p.manage_stock = m;
    }
    if matches!(p.kind, ProductType::Grouped | ProductType::External) {
        p.manage_stock = false;
    }
    if p.manage_stock {
        // `stock_quantity` wins; `inventory_delta` adds to the count the
        // store holds as the request is handled.
        if let Some(q) = patch.stock_quantity {
            p.stock_quantity = Some(q);
        } else if let Some(d) = patch.inventory_delta {
            p.stock_quantity = Some(p.stock_quantity.unwrap_or(0) + d);
        }
        p.stock_quantity.get_or_insert(0);
        p.stock_status = stock_status_for(p);
    } else {
        p.stock_quantity = None;
        if let Some(s) = &patch.stock_status
            && p.kind != ProductType::Variable
        {
            p.stock_status.clone_from(s);
        }
    }
    if p.kind == ProductType::External {
        p.stock_status = "instock".into();
    }
}

/// What the store's tests share: the quick-start store, a fixed "now" and
/// parsed collection queries.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::listing::{Collection, parse_collection};
    use crate::php_query::PhpParams;

    pub fn now() -> Timestamp {
        "2030-01-01T00:00:00Z".parse().unwrap()
    }

    pub fn store() -> Store {
        Store::from_seed(Seed::quickstart())
    }

    pub fn query(q: &str, c: Collection) -> CollectionQuery {
        parse_collection(&PhpParams::parse(q), c, &jiff::tz::TimeZone::UTC).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{query, store};
    use super::*;
    use crate::listing::Collection;
    use crate::writes::OrderPatch;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn products_list_excludes_variations_but_sku_finds_them() {
        let s = store();
        let (_, total) = s.list_products(&query("per_page=100", Collection::Products));
        let top = s
            .products()
            .filter(|p| p.kind != ProductType::Variation)
            .count();
        assert_eq!(total, top);
        let (found, total) = s.list_products(&query("sku=RIG-TSHIRT-M", Collection::Products));
        assert_eq!(total, 1);
        assert_eq!(found[0].kind, ProductType::Variation);
    }

    #[test]
    fn all_variations_list_pages_and_filters_by_parent() {
        let mut s = store();
        let mut shirt = s.product(12).unwrap().clone();
        shirt.id = 40;
        shirt.sku = "OTHER".into();
        s.put_product(shirt);
        let mut v = s.product(13).unwrap().clone();
        (v.id, v.parent_id, v.sku) = (41, 40, "OTHER-S".into());
        s.put_product(v);
        let ids = |q: &str| -> (Vec<u64>, usize) {
            let (page, total) = s.list_all_variations(&query(q, Collection::Variations));
            (page.iter().map(|p| p.id).collect(), total)
        };
        assert_eq!(ids("orderby=id&order=asc"), (vec![13, 14, 15, 41], 4));
        assert_eq!(
            ids("orderby=id&order=asc&per_page=2&page=2"),
            (vec![15, 41], 4)
        );
        assert_eq!(ids("parent=40"), (vec![41], 1));
        assert_eq!(ids("include=14,41&orderby=include"), (vec![14, 41], 2));
        assert_eq!(ids("sku=OTHER-S"), (vec![41], 1));
    }

    #[test]
    fn drafts_are_listed_unless_status_publish() {
        let s = store();
        let (_, all) = s.list_products(&query("", Collection::Products));
        let (_, published) = s.list_products(&query("status=publish", Collection::Products));
        assert_eq!(all, published + 1);
    }

    #[test]
    fn stock_writes_follow_woocommerce_rules() {
        let mut s = store();
        let now = ts("2030-01-01T00:00:00Z");
        let simple = s.product_by_sku("RIG-SIMPLE-1").unwrap().id;
        s.update_product(
            simple,
            &ProductPatch {
                stock_quantity: Some(-2),
                ..Default::default()
            },
            true,
            now,
        )
        .unwrap();
        let p = s.product(simple).unwrap();
        assert_eq!(
            (p.stock_quantity, p.stock_status.as_str(), p.date_modified),
            (Some(-2), "outofstock", now)
        );

        let unmanaged = s.product_by_sku("RIG-UNMANAGED").unwrap().id;
        s.update_product(
            unmanaged,
            &ProductPatch {
                stock_quantity: Some(7),
                ..Default::default()
            },
            true,
            now,
        )
        .unwrap();
        assert_eq!(s.product(unmanaged).unwrap().stock_quantity, None);
    }

    #[test]
    fn variation_write_touches_parent() {
        let mut s = store();
        let now = ts("2030-01-01T00:00:00Z");
        let v = s.product_by_sku("RIG-TSHIRT-M").unwrap().clone();
        s.update_product(
            v.id,
            &ProductPatch {
                stock_quantity: Some(5),
                ..Default::default()
            },
            true,
            now,
        )
        .unwrap();
        assert_eq!(s.product(v.parent_id).unwrap().date_modified, now);
    }

    #[test]
    fn duplicate_sku_names_the_holder() {
        let mut s = store();
        let holder = s.product_by_sku("RIG-SIMPLE-1").unwrap().id;
        let e = s
            .create_product(
                &ProductPatch {
                    sku: Some("RIG-SIMPLE-1".into()),
                    ..Default::default()
                },
                None,
                true,
                ts("2030-01-01T00:00:00Z"),
            )
            .unwrap_err();
        assert_eq!(e.code, "product_invalid_sku");
        assert_eq!(e.extra("resource_id").unwrap(), holder);
        assert_eq!(e.extra("unique_sku").unwrap(), "RIG-SIMPLE-1-1");
    }

    #[test]
    fn status_change_adds_note_and_stamps() {
        let mut s = store();
        let now = ts("2030-01-01T00:00:00Z");
        let id = s.orders().find(|o| o.status == "processing").unwrap().id;
        s.update_order(
            id,
            &OrderPatch {
                status: Some("completed".into()),
                ..Default::default()
            },
            now,
        )
        .unwrap();
        let o = s.order(id).unwrap();
        assert_eq!(
            (o.status.as_str(), o.date_completed, o.date_modified),
            ("completed", Some(now), now)
        );
        assert_eq!(
            s.notes(id).last().unwrap().note,
            "Order status changed from Processing to Completed."
        );
    }

    #[test]
    fn batch_route_refuses_variation_ids() {
        let s = store();
        let v = s.product_by_sku("RIG-TSHIRT-M").unwrap().id;
        let e = s
            .resolve_product(v, ProductRoute::ProductsBatch, 400)
            .unwrap_err();
        assert_eq!(e.code, "woocommerce_rest_invalid_product_id");
        assert_eq!(
            s.resolve_product(999_999, ProductRoute::ProductsBatch, 400)
                .unwrap_err()
                .status,
            400
        );
    }
}
