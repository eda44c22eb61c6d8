//! Orders as the plugin reads them.

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde::Deserialize;

use super::common::Meta;
use super::lenient::{self, Amount};

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Address {
    #[serde(default, deserialize_with = "lenient::text")]
    pub first_name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub last_name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub company: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub address_1: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub address_2: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub city: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub state: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub postcode: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub country: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub email: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub phone: String,
}

/// The native COGS value of one line (`{"value": 8.25}`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct LineCost {
    #[serde(default, deserialize_with = "lenient::number")]
    pub value: Option<f64>,
}

/// The native COGS total of an order.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct OrderCost {
    #[serde(default, deserialize_with = "lenient::number")]
    pub total_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LineItem {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub product_id: u64,
    /// 0 when the line is not a variation.
    #[serde(default, deserialize_with = "lenient::id")]
    pub variation_id: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub quantity: Option<f64>,
    /// The product's current SKU (not a snapshot); `None` if it was deleted.
    #[serde(default, deserialize_with = "lenient::optional_text")]
    pub sku: Option<String>,
    /// A JSON number in WooCommerce: total / quantity, after discounts.
    #[serde(default, deserialize_with = "lenient::number")]
    pub price: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub subtotal: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub total: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub total_tax: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub meta_data: Vec<Meta>,
    #[serde(default)]
    pub cost_of_goods_sold: Option<LineCost>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShippingLine {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub method_title: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub method_id: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub instance_id: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub total: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Refund {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub reason: String,
    /// Negative, e.g. `-5.00`.
    #[serde(default, deserialize_with = "lenient::amount")]
    pub total: Option<Amount>,
}

/// A refund as its own record (`GET /orders/{id}/refunds`, `GET /refunds`):
/// which order it belongs to and the units it took back, line by line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderRefund {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    /// The order (on `GET /refunds`; 0 on an order's own listing).
    #[serde(default, deserialize_with = "lenient::id")]
    pub parent_id: u64,
    #[serde(default, deserialize_with = "lenient::list")]
    pub line_items: Vec<RefundLine>,
}

impl OrderRefund {
    /// The `_fields` the client asks for.
    pub const FIELDS: &'static str = "id,parent_id,line_items";
}

/// One line of a refund: a negative `quantity`, and the order line it
/// refunds in meta `_refunded_item_id`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RefundLine {
    #[serde(default, deserialize_with = "lenient::number")]
    pub quantity: Option<f64>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub meta_data: Vec<Meta>,
}

impl RefundLine {
    /// The order line this refunds, and how many of its units (> 0).
    pub fn refunded(&self) -> Option<(u64, i64)> {
        let line = match super::meta_value(&self.meta_data, "_refunded_item_id")? {
            serde_json::Value::Number(n) => n.as_u64()?,
            serde_json::Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        let units = -self.quantity?;
        (units > 0.0 && units.fract() == 0.0).then_some((line, units as i64))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    /// The order number shown to people; plugins may make it differ from `id`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub number: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub currency: String,
    #[serde(default, deserialize_with = "lenient::gmt_date")]
    pub date_created_gmt: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::local_date")]
    pub date_modified: Option<DateTime>,
    #[serde(default, deserialize_with = "lenient::gmt_date")]
    pub date_modified_gmt: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::gmt_date")]
    pub date_paid_gmt: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::gmt_date")]
    pub date_completed_gmt: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub customer_id: u64,
    /// The shopper's note at checkout.
    #[serde(default, deserialize_with = "lenient::text")]
    pub customer_note: String,
    #[serde(default)]
    pub billing: Address,
    #[serde(default)]
    pub shipping: Address,
    #[serde(default, deserialize_with = "lenient::text")]
    pub payment_method: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub payment_method_title: String,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub discount_total: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub shipping_total: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub total_tax: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub total: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub line_items: Vec<LineItem>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub refunds: Vec<Refund>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub meta_data: Vec<Meta>,
    #[serde(default)]
    pub cost_of_goods_sold: Option<OrderCost>,
}

impl Order {
    /// The `_fields` the client asks for, so only these travel.
    pub const FIELDS: &'static str = "id,number,status,currency,date_created_gmt,date_modified,\
date_modified_gmt,date_paid_gmt,date_completed_gmt,customer_id,customer_note,billing,shipping,\
payment_method,payment_method_title,discount_total,shipping_total,total_tax,total,line_items,\
shipping_lines,refunds,meta_data,cost_of_goods_sold";

    /// The `_fields` of the stock the store holds for an order: its status,
    /// when it was placed and its lines (with their `_reduced_stock`).
    pub const HOLD_FIELDS: &'static str = "id,status,date_created_gmt,date_modified_gmt,line_items";
}
