//! The store's records: products (variations included, as WordPress keeps
//! them), orders with their lines, order notes and shipment trackings.
//! These are also the seed-file format (see the README), so every field a
//! seed may omit has a default.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `type` of a product; variations are products of type `variation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductType {
    /// A plain product.
    #[default]
    Simple,
    /// A parent of variations.
    Variable,
    /// A set of other products.
    Grouped,
    /// An affiliate product sold elsewhere.
    External,
    /// One variation of a variable product.
    Variation,
}

impl ProductType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Variable => "variable",
            Self::Grouped => "grouped",
            Self::External => "external",
            Self::Variation => "variation",
        }
    }

    /// Parse a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Simple,
            Self::Variable,
            Self::Grouped,
            Self::External,
            Self::Variation,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One `meta_data` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaEntry {
    /// Meta id (assigned by the store when 0).
    #[serde(default)]
    pub id: u64,
    /// Meta key.
    pub key: String,
    /// Any JSON value.
    pub value: Value,
}

/// A product attribute: `options` on a parent, `option` on a variation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Attribute {
    /// Display name, e.g. "Size".
    pub name: String,
    /// The parent's options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The variation's chosen option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
}

fn publish() -> String {
    "publish".into()
}
fn instock() -> String {
    "instock".into()
}
fn no() -> String {
    "no".into()
}
fn usd() -> String {
    "USD".into()
}

/// A product or a variation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Post id (shared id space with orders, as in WordPress).
    pub id: u64,
    /// The variable parent of a variation; 0 otherwise.
    #[serde(default)]
    pub parent_id: u64,
    /// Product type.
    #[serde(rename = "type", default)]
    pub kind: ProductType,
    /// Title; for a variation, the option text ("M").
    pub name: String,
    /// URL slug; derived from the name when empty.
    #[serde(default)]
    pub slug: String,
    /// `publish`, `draft`, `pending`, `private` (or `trash` once deleted
    /// without `force`).
    #[serde(default = "publish")]
    pub status: String,
    /// SKU, "" when none.
    #[serde(default)]
    pub sku: String,
    /// Price as a decimal string, "" when unset.
    #[serde(default)]
    pub regular_price: String,
    /// Sale price as a decimal string, "" when not on sale.
    #[serde(default)]
    pub sale_price: String,
    /// Long description (HTML).
    #[serde(default)]
    pub description: String,
    /// Short description (HTML).
    #[serde(default)]
    pub short_description: String,
    /// Virtual (no shipping).
    #[serde(rename = "virtual", default)]
    pub is_virtual: bool,
    /// Downloadable.
    #[serde(default)]
    pub downloadable: bool,
    /// Downloads (`{id,name,file}` objects).
    #[serde(default)]
    pub downloads: Vec<Value>,
    /// Whether stock is tracked.
    #[serde(default)]
    pub manage_stock: bool,
    /// Stock when tracked; rendered null otherwise.
    #[serde(default)]
    pub stock_quantity: Option<i64>,
    /// `instock`, `outofstock` or `onbackorder`.
    #[serde(default = "instock")]
    pub stock_status: String,
    /// `no`, `notify` or `yes`.
    #[serde(default = "no")]
    pub backorders: String,
    /// Weight as a string.
    #[serde(default)]
    pub weight: String,
    /// Creation instant.
    pub date_created: Timestamp,
    /// Last modification instant; every write moves it.
    pub date_modified: Timestamp,
    /// Children of a grouped product.
    #[serde(default)]
    pub grouped_products: Vec<u64>,
    /// Attributes (parents: options; variations: option).
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Native cost of goods sold (defined value), if any.
    #[serde(default)]
    pub cost_of_goods_sold: Option<f64>,
    /// Meta data.
    #[serde(default)]
    pub meta_data: Vec<MetaEntry>,
    /// External product target.
    #[serde(default)]
    pub external_url: String,
    /// External product button text.
    #[serde(default)]
    pub button_text: String,
    /// Units sold.
    #[serde(default)]
    pub total_sales: u64,
}

impl Product {
    /// A published simple product as the store creates it from an empty
    /// body: no name, no SKU, stock not managed, dated `now`.
    pub fn new(id: u64, now: Timestamp) -> Self {
        Self {
            id,
            parent_id: 0,
            kind: ProductType::Simple,
            name: String::new(),
            slug: String::new(),
            status: "publish".into(),
            sku: String::new(),
            regular_price: String::new(),
            sale_price: String::new(),
            description: String::new(),
            short_description: String::new(),
            is_virtual: false,
            downloadable: false,
            downloads: Vec::new(),
            manage_stock: false,
            stock_quantity: None,
            stock_status: "instock".into(),
            backorders: "no".into(),
            weight: String::new(),
            date_created: now,
            date_modified: now,
            grouped_products: Vec::new(),
            attributes: Vec::new(),
            cost_of_goods_sold: None,
            meta_data: Vec::new(),
            external_url: String::new(),
            button_text: String::new(),
            total_sales: 0,
        }
    }
}

/// A billing or shipping address.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    /// Billing only (rendered only on billing).
    pub email: String,
    pub phone: String,
}

/// One product line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    /// Order item id (assigned when 0).
    #[serde(default)]
    pub id: u64,
    /// Product name at purchase.
    pub name: String,
    /// Product (the parent for a variation).
    pub product_id: u64,
    /// Variation, 0 if none.
    #[serde(default)]
    pub variation_id: u64,
    /// Units.
    pub quantity: i64,
    /// Line total after discounts, decimal string.
    pub total: String,
    /// Line subtotal before discounts; defaults to `total`.
    #[serde(default)]
    pub subtotal: String,
    /// Item meta (variation attributes, `_reduced_stock`, ...).
    #[serde(default)]
    pub meta_data: Vec<MetaEntry>,
}

/// One shipping line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingLine {
    /// Order item id (assigned when 0).
    #[serde(default)]
    pub id: u64,
    /// e.g. "Flat rate".
    pub method_title: String,
    /// e.g. "flat_rate".
    pub method_id: String,
    /// Shipping zone method instance, as a string.
    #[serde(default)]
    pub instance_id: String,
    /// Decimal string.
    pub total: String,
    /// Item meta (on a refund's copy: `_refunded_item_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meta_data: Vec<MetaEntry>,
}

fn one() -> u64 {
    1
}

/// A refund of an order (`WC_Order_Refund`, a `shop_order_refund` post
/// whose parent is the order). The order lists it as `{id, reason,
/// total}`; `/orders/{id}/refunds` shows all of it. A seed may give only
/// the summary fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// Refund id (a post id, shared with products and orders).
    pub id: u64,
    /// Reason text.
    #[serde(default)]
    pub reason: String,
    /// The refunded amount negated, as the order's `refunds` summary shows
    /// it: "-5.00".
    pub total: String,
    /// When refunded; a seeded refund without one takes its order's
    /// `date_modified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<Timestamp>,
    /// The user who refunded (the API key's user: 1, the administrator).
    #[serde(default = "one")]
    pub refunded_by: u64,
    /// The payment gateway refunded the money (`api_refund` succeeded).
    #[serde(default)]
    pub refunded_payment: bool,
    /// Refund meta.
    #[serde(default)]
    pub meta_data: Vec<MetaEntry>,
    /// Copies of the refunded order lines: quantity and totals negative,
    /// meta `_refunded_item_id` naming the order line.
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// Copies of refunded shipping lines, likewise.
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
}

impl Refund {
    /// The refunded amount (positive).
    pub fn amount(&self) -> f64 {
        -self.total.trim().parse::<f64>().unwrap_or(0.0)
    }
}

/// An order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Post id.
    pub id: u64,
    /// The order number shown to people, when a plugin (sequential order
    /// numbers and the like) makes it differ from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// `pending`, `processing`, `on-hold`, `completed`, `cancelled`,
    /// `refunded`, `failed`, `checkout-draft` or `trash`.
    pub status: String,
    /// ISO currency.
    #[serde(default = "usd")]
    pub currency: String,
    /// Creation instant.
    pub date_created: Timestamp,
    /// Last modification instant; every write moves it.
    pub date_modified: Timestamp,
    /// When paid.
    #[serde(default)]
    pub date_paid: Option<Timestamp>,
    /// When completed.
    #[serde(default)]
    pub date_completed: Option<Timestamp>,
    /// Customer user id, 0 for guests.
    #[serde(default)]
    pub customer_id: u64,
    /// Order key; derived from the id when empty.
    #[serde(default)]
    pub order_key: String,
    /// Billing address.
    #[serde(default)]
    pub billing: Address,
    /// Shipping address.
    #[serde(default)]
    pub shipping: Address,
    /// Payment gateway id.
    #[serde(default)]
    pub payment_method: String,
    /// Payment gateway title.
    #[serde(default)]
    pub payment_method_title: String,
    /// Gateway transaction id.
    #[serde(default)]
    pub transaction_id: String,
    /// e.g. "checkout", "admin", "rest-api".
    #[serde(default)]
    pub created_via: String,
    /// The shopper's checkout note.
    #[serde(default)]
    pub customer_note: String,
    /// Discount total, decimal string ("" = "0.00").
    #[serde(default)]
    pub discount_total: String,
    /// Meta data.
    #[serde(default)]
    pub meta_data: Vec<MetaEntry>,
    /// Product lines.
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// Shipping lines.
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    /// Refunds.
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// The order data store's "stock reduced" flag: WooCommerce has taken
    /// this order's lines from stock. A seed may leave it out; the store
    /// then sets it when the order is in processing, completed or on-hold
    /// or a line carries `_reduced_stock` (see [`Order::settle_seeded`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_reduced: Option<bool>,
}

impl Order {
    /// A pending order as `new WC_Order()` starts: no lines, guest
    /// customer, dated `now`.
    pub fn new(id: u64, now: Timestamp) -> Self {
        Self {
            id,
            number: None,
            status: "pending".into(),
            currency: usd(),
            date_created: now,
            date_modified: now,
            date_paid: None,
            date_completed: None,
            customer_id: 0,
            order_key: String::new(),
            billing: Address::default(),
            shipping: Address::default(),
            payment_method: String::new(),
            payment_method_title: String::new(),
            transaction_id: String::new(),
            created_via: String::new(),
            customer_note: String::new(),
            discount_total: String::new(),
            meta_data: Vec::new(),
            line_items: Vec::new(),
            shipping_lines: Vec::new(),
            refunds: Vec::new(),
            stock_reduced: Some(false),
        }
    }

    /// Whether WooCommerce has reduced stock for this order.
    pub fn stock_reduced(&self) -> bool {
        self.stock_reduced.unwrap_or(false)
    }

    /// Fill in what a seeded order leaves out about stock, as the real
    /// store holds it: an order that went through processing, completed or
    /// on-hold (or whose lines say so) has its stock reduced, and each of
    /// its lines for a stock-managed product (`manages_stock(product or
    /// variation id)`) carries `_reduced_stock` with the line quantity. The
    /// seed's stock quantities are taken as already reduced.
    pub fn settle_seeded(&mut self, manages_stock: impl Fn(u64) -> bool) {
        if self.stock_reduced.is_some() {
            return;
        }
        let reduced = status_reduces_stock(&self.status)
            || self.line_items.iter().any(|l| l.reduced_stock().is_some());
        if reduced {
            for line in &mut self.line_items {
                if line.reduced_stock().is_none() && manages_stock(line.sold_id()) {
                    line.set_reduced_stock(Some(line.quantity));
                }
            }
        }
        self.stock_reduced = Some(reduced);
    }
}

/// Item meta under which WooCommerce records how much stock a line took
/// (`wc_reduce_stock_levels`); the value is a numeric string.
pub const REDUCED_STOCK: &str = "_reduced_stock";

/// Item meta counting the units of a line a refund gave back to stock
/// (`wc_restock_refunded_items`).
pub const RESTOCK_REFUNDED_ITEMS: &str = "_restock_refunded_items";

/// Meta of a refund's line naming the order line it refunds.
pub const REFUNDED_ITEM_ID: &str = "_refunded_item_id";

/// Statuses whose arrival reduces an order's stock
/// (`wc_maybe_reduce_stock_levels` hooks).
pub fn status_reduces_stock(status: &str) -> bool {
    matches!(status, "processing" | "completed" | "on-hold")
}

/// Statuses whose arrival restores an order's stock
/// (`wc_maybe_increase_stock_levels` hooks).
pub fn status_restores_stock(status: &str) -> bool {
    matches!(status, "cancelled" | "pending")
}

impl LineItem {
    /// The product or variation the line sells.
    pub fn sold_id(&self) -> u64 {
        if self.variation_id != 0 {
            self.variation_id
        } else {
            self.product_id
        }
    }

    /// The `_reduced_stock` meta as a number, if present and non-zero
    /// (PHP treats "0" as absent).
    pub fn reduced_stock(&self) -> Option<i64> {
        self.meta_int(REDUCED_STOCK).filter(|q| *q != 0)
    }

    /// A numeric meta value (`wc_stock_amount` of `get_meta`), if present.
    pub fn meta_int(&self, key: &str) -> Option<i64> {
        self.meta_data
            .iter()
            .find(|m| m.key == key)
            .and_then(|m| match &m.value {
                Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
                Value::Number(n) => n.as_f64().map(|f| f as i64),
                _ => None,
            })
    }

    /// Set a meta value as WordPress stores it (a string), replacing the
    /// first entry under `key` or adding one (id 0: the store assigns it).
    pub fn set_meta_string(&mut self, key: &str, value: String) {
        match self.meta_data.iter_mut().find(|m| m.key == key) {
            Some(m) => m.value = Value::String(value),
            None => self.meta_data.push(MetaEntry {
                id: 0,
                key: key.into(),
                value: Value::String(value),
            }),
        }
    }

    /// Set (`Some`) or delete (`None`) the `_reduced_stock` meta, stored as
    /// a string as WordPress returns meta values.
    pub fn set_reduced_stock(&mut self, qty: Option<i64>) {
        let at = self.meta_data.iter().position(|m| m.key == REDUCED_STOCK);
        match (qty, at) {
            (Some(q), Some(i)) => self.meta_data[i].value = Value::String(q.to_string()),
            (Some(q), None) => self.meta_data.push(MetaEntry {
                id: 0,
                key: REDUCED_STOCK.into(),
                value: Value::String(q.to_string()),
            }),
            (None, Some(i)) => {
                self.meta_data.remove(i);
            }
            (None, None) => {}
        }
    }
}

/// An order note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Comment id.
    #[serde(default)]
    pub id: u64,
    /// The order it belongs to.
    pub order_id: u64,
    /// Text.
    pub note: String,
    /// Shown (and mailed) to the customer.
    #[serde(default)]
    pub customer_note: bool,
    /// "WooCommerce" for system notes, else the API user's name.
    #[serde(default = "woocommerce_author")]
    pub author: String,
    /// When written.
    pub date_created: Timestamp,
}

fn woocommerce_author() -> String {
    "WooCommerce".into()
}

/// A Shipment Tracking extension item, read from the order meta
/// `_wc_shipment_tracking_items` (see [`crate::tracking`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracking {
    /// The 32-hex-digit id ("" when the stored item has none).
    pub tracking_id: String,
    /// The order it belongs to.
    pub order_id: u64,
    /// As stored: a listed provider's slug (`ups`) or name, or "".
    #[serde(default)]
    pub tracking_provider: String,
    /// Custom provider name or "".
    #[serde(default)]
    pub custom_tracking_provider: String,
    /// Custom tracking URL or "".
    #[serde(default)]
    pub custom_tracking_link: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Unix seconds (0 when the stored value is no number).
    pub date_shipped: i64,
}

/// The order statuses WooCommerce registers, with their labels.
pub const ORDER_STATUSES: [(&str, &str); 9] = [
    ("auto-draft", "Draft"),
    ("pending", "Pending payment"),
    ("processing", "Processing"),
    ("on-hold", "On hold"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
    ("failed", "Failed"),
    ("checkout-draft", "Draft"),
];

/// The label of an order status ("on-hold" -> "On hold").
pub fn order_status_label(status: &str) -> &str {
    ORDER_STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(status, |(_, l)| l)
}

/// A slug from a title, as `sanitize_title` roughly does.
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_labels() {
        assert_eq!(slugify("Rig T-Shirt"), "rig-t-shirt");
        assert_eq!(slugify("  Bulk Product 001 "), "bulk-product-001");
        assert_eq!(order_status_label("on-hold"), "On hold");
        assert_eq!(
            ProductType::parse("variation"),
            Some(ProductType::Variation)
        );
    }

    #[test]
    fn minimal_seed_product_gets_defaults() {
        let p: Product = serde_json::from_str(
            r#"{"id":1,"name":"A","date_created":"2026-01-01T00:00:00Z","date_modified":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(p.kind, ProductType::Simple);
        assert_eq!(p.status, "publish");
        assert_eq!(p.stock_status, "instock");
        assert_eq!(p.stock_quantity, None);
    }

    fn line(qty: i64, meta: Vec<MetaEntry>) -> LineItem {
        LineItem {
            id: 1,
            name: "A".into(),
            product_id: 11,
            variation_id: 0,
            quantity: qty,
            total: "1.00".into(),
            subtotal: String::new(),
            meta_data: meta,
        }
    }

    #[test]
    fn reduced_stock_meta_is_a_string_and_zero_counts_as_absent() {
        let mut l = line(2, Vec::new());
        l.set_reduced_stock(Some(2));
        assert_eq!(l.meta_data[0].value, Value::String("2".into()));
        assert_eq!(l.reduced_stock(), Some(2));
        l.set_reduced_stock(Some(0));
        assert_eq!(l.reduced_stock(), None);
        l.set_reduced_stock(None);
        assert!(l.meta_data.is_empty());
    }

    #[test]
    fn seeded_orders_settle_their_stock_flag() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let seeded = |id| Order {
            stock_reduced: None,
            ..Order::new(id, now)
        };
        let mut o = seeded(5);
        o.status = "processing".into();
        o.line_items = vec![line(3, Vec::new())];
        o.settle_seeded(|id| id == 11);
        assert_eq!(
            (o.stock_reduced, o.line_items[0].reduced_stock()),
            (Some(true), Some(3))
        );

        let mut unmanaged = seeded(6);
        unmanaged.status = "on-hold".into();
        unmanaged.line_items = vec![line(3, Vec::new())];
        unmanaged.settle_seeded(|_| false);
        assert_eq!(unmanaged.stock_reduced, Some(true));
        assert!(unmanaged.line_items[0].meta_data.is_empty());

        let mut pending = seeded(7);
        pending.line_items = vec![line(1, Vec::new())];
        pending.settle_seeded(|_| true);
        assert_eq!(pending.stock_reduced, Some(false));

        let mut refunded = seeded(8);
        refunded.status = "refunded".into();
        let mut l = line(1, Vec::new());
        l.set_reduced_stock(Some(1));
        refunded.line_items = vec![l];
        refunded.settle_seeded(|_| true);
        assert_eq!(refunded.stock_reduced, Some(true));
    }
}
