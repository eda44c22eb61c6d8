//! Request bodies of the write routes, validated against the REST schema
//! the way WordPress does it: a wrong JSON type is a 400 `rest_invalid_param`
//! naming the field, an integer sent as a numeric string is coerced, unknown
//! fields are ignored.

use serde_json::{Map, Value};

use crate::error::{ApiError, InvalidParam};
use crate::model::{ORDER_STATUSES, ProductType};

/// A meta write: update by id, else by key, else add (see
/// `store/meta.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetaWrite {
    /// Target entry id.
    pub id: Option<u64>,
    /// Key.
    pub key: String,
    /// Value as sent; `null` (or left out) deletes.
    pub value: Value,
}

/// The product (or variation) fields a write may change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub kind: Option<ProductType>,
    pub status: Option<String>,
    pub sku: Option<String>,
    pub regular_price: Option<String>,
    pub sale_price: Option<String>,
    pub description: Option<String>,
    pub short_description: Option<String>,
    pub weight: Option<String>,
    pub manage_stock: Option<bool>,
    pub stock_quantity: Option<i64>,
    /// `inventory_delta`: added to the current quantity.
    pub inventory_delta: Option<i64>,
    pub stock_status: Option<String>,
    pub backorders: Option<String>,
    pub is_virtual: Option<bool>,
    pub downloadable: Option<bool>,
    /// Sum of `cost_of_goods_sold.values[].defined_value`.
    pub cost_of_goods_sold: Option<f64>,
    pub meta_data: Vec<MetaWrite>,
}

/// The order fields a write may change (create or update).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderPatch {
    /// `id` in a create body (refused by WooCommerce).
    pub id: Option<u64>,
    pub status: Option<String>,
    pub currency: Option<String>,
    pub customer_id: Option<u64>,
    pub customer_note: Option<String>,
    pub billing: Option<AddressWrite>,
    pub shipping: Option<AddressWrite>,
    pub payment_method: Option<String>,
    pub payment_method_title: Option<String>,
    pub transaction_id: Option<String>,
    /// Only on creation (default `rest-api`).
    pub created_via: Option<String>,
    pub set_paid: bool,
    pub meta_data: Vec<MetaWrite>,
    pub line_items: Vec<LineItemWrite>,
    pub shipping_lines: Vec<ShippingLineWrite>,
}

/// Posted address fields, in the order sent.
pub type AddressWrite = Vec<(String, String)>;

/// One posted `line_items` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineItemWrite {
    /// The line to update, 0 for a new line.
    pub id: u64,
    pub product_id: Option<u64>,
    pub variation_id: Option<u64>,
    pub sku: Option<String>,
    pub quantity: Option<i64>,
    pub name: Option<String>,
    pub total: Option<String>,
    pub subtotal: Option<String>,
    pub meta_data: Vec<MetaWrite>,
    /// `product_id`/`name` sent as null or `quantity` 0: WooCommerce
    /// removes the line.
    pub remove: bool,
}

/// One posted `shipping_lines` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShippingLineWrite {
    /// The line to update, 0 for a new line.
    pub id: u64,
    pub method_id: Option<String>,
    pub method_title: Option<String>,
    pub instance_id: Option<String>,
    pub total: Option<String>,
    /// `method_id`/`method_title` sent as null: the line is removed.
    pub remove: bool,
}

/// `get_post_statuses()`: what a variation's `status` may be set to.
const VARIATION_STATUSES: [&str; 4] = ["draft", "pending", "private", "publish"];
const PRODUCT_STATUSES: [&str; 7] = [
    "draft",
    "pending",
    "private",
    "publish",
    "future",
    "auto-draft",
    "trash",
];
const STOCK_STATUSES: [&str; 3] = ["instock", "outofstock", "onbackorder"];
const BACKORDERS: [&str; 3] = ["no", "notify", "yes"];
const TYPES: [&str; 4] = ["simple", "grouped", "external", "variable"];

struct Reader<'a> {
    body: &'a Map<String, Value>,
    bad: Vec<InvalidParam>,
}

impl Reader<'_> {
    fn nested(&mut self, top: &str, path: &str, ty: &str) {
        self.bad.push(InvalidParam {
            param: top.into(),
            code: "rest_invalid_type",
            message: format!("{path} is not of type {ty}."),
            data: serde_json::json!({ "param": path }),
        });
    }

    /// An array of objects under `key`, each read by `item` (given the
    /// object and its `key[i]` path).
    fn objects<T>(
        &mut self,
        key: &str,
        mut item: impl FnMut(&mut Self, &Map<String, Value>, &str) -> T,
    ) -> Vec<T> {
        let Some(v) = self.body.get(key) else {
            return Vec::new();
        };
        let Some(items) = v.as_array() else {
            self.bad.push(InvalidParam::wrong_type(key, "array"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, entry) in items.iter().enumerate() {
            let path = format!("{key}[{i}]");
            match entry.as_object() {
                Some(obj) => out.push(item(self, obj, &path)),
                None => self.nested(key, &path, "object"),
            }
        }
        out
    }

    /// A nested integer (`null` and absence give `None`).
    fn nested_int(
        &mut self,
        top: &str,
        obj: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<i64> {
        match obj.get(key)? {
            Value::Null => None,
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            _ => {
                self.nested(top, &format!("{path}[{key}]"), "integer");
                None
            }
        }
    }

    /// A nested string (`null` and absence give `None`).
    fn nested_str(
        &mut self,
        top: &str,
        obj: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<String> {
        match obj.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => {
                self.nested(top, &format!("{path}[{key}]"), "string");
                None
            }
        }
    }

    fn address(&mut self, key: &str) -> Option<AddressWrite> {
        let v = self.body.get(key)?;
        let Some(obj) = v.as_object() else {
            self.bad.push(InvalidParam::wrong_type(key, "object"));
            return None;
        };
        let mut out = Vec::new();
        for (field, value) in obj {
            match value {
                Value::String(s) => out.push((field.clone(), s.clone())),
                Value::Null if field == "email" => out.push((field.clone(), String::new())),
                _ => self.nested(key, &format!("{key}[{field}]"), "string"),
            }
        }
        Some(out)
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.body.get(key)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.bad.push(InvalidParam::wrong_type(key, "string"));
                None
            }
        }
    }

    fn enumerated(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let v = self.string(key)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.bad.push(InvalidParam::not_in_enum(key, key, allowed));
            None
        }
    }

    fn integer(&mut self, key: &str) -> Option<i64> {
        let v = self.body.get(key)?;
        let n = match v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        if n.is_none() {
            self.bad.push(InvalidParam::wrong_type(key, "integer"));
        }
        n
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        let v = self.body.get(key)?;
        let b = match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) if n.as_i64() == Some(1) => Some(true),
            Value::Number(n) if n.as_i64() == Some(0) => Some(false),
            Value::String(s) => match s.as_str() {
                "true" | "1" => Some(true),
                "false" | "0" | "" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if b.is_none() {
            self.bad.push(InvalidParam::wrong_type(key, "boolean"));
        }
        b
    }

    fn meta(&mut self) -> Vec<MetaWrite> {
        let Some(v) = self.body.get("meta_data") else {
            return Vec::new();
        };
        if !v.is_array() {
            self.bad
                .push(InvalidParam::wrong_type("meta_data", "array"));
            return Vec::new();
        }
        meta_writes(v).unwrap_or_else(|| {
            self.bad
                .push(InvalidParam::wrong_type("meta_data[0]", "object"));
            Vec::new()
        })
    }

    fn cogs(&mut self) -> Option<f64> {
        let v = self.body.get("cost_of_goods_sold")?;
        let values = v.get("values").and_then(Value::as_array);
        match values {
            Some(values) => values
                .iter()
                .map(|e| match e.get("defined_value") {
                    None | Some(Value::Null) => Some(0.0),
                    Some(d) => d.as_f64(),
                })
                .sum::<Option<f64>>()
                .or_else(|| {
                    self.bad.push(InvalidParam::wrong_type(
                        "cost_of_goods_sold[values][0][defined_value]",
                        "number",
                    ));
                    None
                }),
            None => {
                self.bad
                    .push(InvalidParam::wrong_type("cost_of_goods_sold", "object"));
                None
            }
        }
    }

    fn finish<T>(self, value: T) -> Result<T, ApiError> {
        if self.bad.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::invalid_params(self.bad))
        }
    }
}

/// A `meta_data` array: `[{key, value, id?}]`; `None` when malformed.
fn meta_writes(v: &Value) -> Option<Vec<MetaWrite>> {
    v.as_array()?
        .iter()
        .map(|item| {
            let key = item.get("key").and_then(Value::as_str)?;
            Some(MetaWrite {
                id: item.get("id").and_then(Value::as_u64).filter(|id| *id != 0),
                key: key.to_owned(),
                // `$meta['value']` of an entry without one is null.
                value: item.get("value").cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::new(400, "rest_invalid_json", "Invalid JSON body passed."))
}

/// Validate a product write body.
pub fn product_patch(body: &Value) -> Result<ProductPatch, ApiError> {
    patch_for(body, &PRODUCT_STATUSES)
}

/// Validate a variation write body (its `status` enum is narrower).
pub fn variation_patch(body: &Value) -> Result<ProductPatch, ApiError> {
    patch_for(body, &VARIATION_STATUSES)
}

fn patch_for(body: &Value, statuses: &[&str]) -> Result<ProductPatch, ApiError> {
    let mut r = Reader {
        body: object(body)?,
        bad: Vec::new(),
    };
    let patch = ProductPatch {
        name: r.string("name"),
        kind: r
            .enumerated("type", &TYPES)
            .as_deref()
            .and_then(ProductType::parse),
        status: r.enumerated("status", statuses),
        sku: r.string("sku"),
        regular_price: r.string("regular_price"),
        sale_price: r.string("sale_price"),
        description: r.string("description"),
        short_description: r.string("short_description"),
        weight: r.string("weight"),
        manage_stock: r.boolean("manage_stock"),
        stock_quantity: r.integer("stock_quantity"),
        inventory_delta: r.integer("inventory_delta"),
        stock_status: r.enumerated("stock_status", &STOCK_STATUSES),
        backorders: r.enumerated("backorders", &BACKORDERS),
        is_virtual: r.boolean("virtual"),
        downloadable: r.boolean("downloadable"),
        cost_of_goods_sold: r.cogs(),
        meta_data: r.meta(),
    };
    r.finish(patch)
}

/// Validate an order write body.
pub fn order_patch(body: &Value) -> Result<OrderPatch, ApiError> {
    let mut r = Reader {
        body: object(body)?,
        bad: Vec::new(),
    };
    let statuses: Vec<&str> = ORDER_STATUSES.iter().map(|(s, _)| *s).collect();
    let patch = OrderPatch {
        id: r.integer("id").map(|i| i.max(0) as u64),
        status: r.enumerated("status", &statuses),
        currency: r.string("currency"),
        customer_id: r.integer("customer_id").map(|i| i.max(0) as u64),
        customer_note: r.string("customer_note"),
        billing: r.address("billing"),
        shipping: r.address("shipping"),
        payment_method: r.string("payment_method"),
        payment_method_title: r.string("payment_method_title"),
        transaction_id: r.string("transaction_id"),
        created_via: r.string("created_via"),
        set_paid: r.boolean("set_paid").unwrap_or(false),
        meta_data: r.meta(),
        line_items: r.objects("line_items", |r, obj, path| {
            let top = "line_items";
            let meta_data = match obj.get("meta_data").map(meta_writes) {
                Some(None) => {
                    r.nested(top, &format!("{path}[meta_data]"), "array");
                    Vec::new()
                }
                Some(Some(m)) => m,
                None => Vec::new(),
            };
            let quantity = r.nested_int(top, obj, path, "quantity");
            LineItemWrite {
                id: r.nested_int(top, obj, path, "id").unwrap_or(0).max(0) as u64,
                product_id: r
                    .nested_int(top, obj, path, "product_id")
                    .map(|i| i.max(0) as u64),
                variation_id: r
                    .nested_int(top, obj, path, "variation_id")
                    .map(|i| i.max(0) as u64),
                sku: r.nested_str(top, obj, path, "sku"),
                name: r.nested_str(top, obj, path, "name"),
                total: r.nested_str(top, obj, path, "total"),
                subtotal: r.nested_str(top, obj, path, "subtotal"),
                remove: is_null(obj, &["product_id", "name"]) || quantity == Some(0),
                quantity,
                meta_data,
            }
        }),
        shipping_lines: r.objects("shipping_lines", |r, obj, path| {
            let top = "shipping_lines";
            ShippingLineWrite {
                id: r.nested_int(top, obj, path, "id").unwrap_or(0).max(0) as u64,
                method_id: r.nested_str(top, obj, path, "method_id"),
                method_title: r.nested_str(top, obj, path, "method_title"),
                instance_id: r.nested_str(top, obj, path, "instance_id"),
                total: r.nested_str(top, obj, path, "total"),
                remove: is_null(obj, &["method_id", "method_title", "name"]),
            }
        }),
    };
    r.finish(patch)
}

/// `item_is_null`: one of the keys sent as `null`.
fn is_null(obj: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().any(|k| obj.get(*k).is_some_and(Value::is_null))
}

/// The `force` argument of a DELETE route (query or body), validated as
/// WordPress validates a boolean argument (`rest_is_boolean`).
pub fn force_param(query: Option<&str>, body: Option<&Value>) -> Result<bool, ApiError> {
    let bad = || ApiError::invalid_params(vec![InvalidParam::wrong_type("force", "boolean")]);
    let from_str = |s: &str| match s.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(bad()),
    };
    match body.and_then(|b| b.get("force")) {
        Some(Value::Bool(b)) => return Ok(*b),
        Some(Value::Number(n)) => {
            return match n.as_i64() {
                Some(1) => Ok(true),
                Some(0) => Ok(false),
                _ => Err(bad()),
            };
        }
        Some(Value::String(s)) => return from_str(s),
        Some(Value::Null) | None => {}
        Some(_) => return Err(bad()),
    }
    query.map_or(Ok(false), from_str)
}

/// An order note body: `note` (required: WordPress refuses only a missing
/// or null one, so an empty note is written) and `customer_note`. The
/// required check comes before the type checks, as in
/// `WP_REST_Request::has_valid_params`.
pub fn note_body(body: &Value) -> Result<(String, bool), ApiError> {
    let obj = object(body)?;
    if obj.get("note").is_none_or(Value::is_null) {
        return Err(ApiError::new(
            400,
            "rest_missing_callback_param",
            "Missing parameter(s): note",
        )
        .with("params", serde_json::json!(["note"])));
    }
    let mut r = Reader {
        body: obj,
        bad: Vec::new(),
    };
    let note = r.string("note").unwrap_or_default();
    let customer = r.boolean("customer_note").unwrap_or(false);
    r.finish((note, customer))
}

/// One refunded order item of a refund request, as
/// `RestApiUtil::adjust_create_refund_request_parameters` hands it to
/// `wc_create_refund` (`quantity` renamed `qty`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefundLineWrite {
    /// Units refunded (`quantity`, or `qty`); `None` when not sent.
    pub qty: Option<i64>,
    /// `refund_total`; `None` when missing or not numeric.
    pub refund_total: Option<f64>,
    /// Whether `refund_total` was sent at all.
    pub refund_total_sent: bool,
    /// `refund_tax` amounts (`[{id, refund_total}]` or `{rate: amount}`);
    /// `None` for an amount that is not numeric.
    pub refund_tax: Vec<Option<f64>>,
}

/// A `POST /orders/{id}/refunds` body after WordPress validated it
/// against the schema and `adjust_create_refund_request_parameters`
/// normalised it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefundRequest {
    /// A non-empty `id` (create_item refuses it).
    pub has_id: bool,
    /// `amount` as sent (a string by the schema); `None` when left out.
    pub amount: Option<String>,
    /// `reason`; empty counts as none.
    pub reason: Option<String>,
    /// `api_refund` (default true): ask the gateway to refund the money.
    pub api_refund: bool,
    /// `api_restock` (default true): give refunded units back to stock.
    pub api_restock: bool,
    /// Meta for the refund.
    pub meta_data: Vec<MetaWrite>,
    /// Refunded order items by item id (the last entry for an id wins, as
    /// in the PHP array the list becomes).
    pub line_items: Vec<(u64, RefundLineWrite)>,
}

impl RefundRequest {
    /// `calculate_refund_amount_from_line_items`: the sum of every line's
    /// `refund_total` and taxes, when there are lines and all of those are
    /// numeric.
    pub fn amount_from_lines(&self) -> Option<f64> {
        if self.line_items.is_empty() {
            return None;
        }
        let mut sum = 0.0;
        for (_, l) in &self.line_items {
            sum += l.refund_total?;
            for t in &l.refund_tax {
                sum += (*t)?;
            }
        }
        Some(sum)
    }
}

/// PHP's `is_numeric` on a JSON value, as a number.
fn php_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim_start().trim_end();
            t.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && !t.is_empty())
        }
        _ => None,
    }
}

fn refund_line(obj: &Map<String, Value>) -> RefundLineWrite {
    let qty = obj
        .get("qty")
        .or_else(|| obj.get("quantity"))
        .filter(|v| !v.is_null())
        .map(|v| php_number(v).map_or(0, |f| f as i64));
    let taxes = match obj.get("refund_tax") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|t| t.get("id").and(t.get("refund_total")).and_then(php_number))
            .collect(),
        Some(Value::Object(map)) => map.values().map(php_number).collect(),
        _ => Vec::new(),
    };
    let total = obj.get("refund_total").filter(|v| !v.is_null());
    RefundLineWrite {
        qty,
        refund_total: total.and_then(php_number),
        refund_total_sent: total.is_some(),
        refund_tax: taxes,
    }
}

/// The `line_items` of a refund request, keyed by order item id: a list
/// of `{id, quantity, refund_total, refund_tax}` or (the internal format)
/// an object keyed by item id. A list with an entry lacking `id` is
/// passed on unconverted by WooCommerce and matches no item here.
fn refund_lines(v: Option<&Value>) -> Vec<(u64, RefundLineWrite)> {
    let mut out: Vec<(u64, RefundLineWrite)> = Vec::new();
    let mut put = |id: u64, line: RefundLineWrite| match out.iter_mut().find(|(i, _)| *i == id) {
        Some(slot) => slot.1 = line,
        None => out.push((id, line)),
    };
    match v {
        Some(Value::Array(items)) => {
            let ids: Option<Vec<u64>> = items
                .iter()
                .map(|i| i.get("id").and_then(php_number).map(|f| f as u64))
                .collect();
            for (id, item) in ids.unwrap_or_default().into_iter().zip(items) {
                if let Some(obj) = item.as_object() {
                    put(id, refund_line(obj));
                }
            }
        }
        Some(Value::Object(map)) => {
            for (key, item) in map {
                if let (Ok(id), Some(obj)) = (key.parse::<u64>(), item.as_object()) {
                    put(id, refund_line(obj));
                }
            }
        }
        _ => {}
    }
    out
}

/// Validate a refund creation body (`POST /orders/{id}/refunds`): the
/// schema's writable fields are type-checked (`amount` and `reason`
/// strings, `refunded_by` an integer, `meta_data`, `shipping_lines` and
/// `fee_lines` arrays, `api_refund` and `api_restock` booleans); the
/// read-only `line_items` pass unchecked, as WordPress leaves them.
pub fn refund_request(body: &Value) -> Result<RefundRequest, ApiError> {
    let obj = object(body)?;
    let mut r = Reader {
        body: obj,
        bad: Vec::new(),
    };
    let amount = r.string("amount");
    let reason = r.string("reason").filter(|s| !s.is_empty() && s != "0");
    let _refunded_by = r.integer("refunded_by");
    let meta_data = r.meta();
    for key in ["shipping_lines", "fee_lines"] {
        if obj.get(key).is_some_and(|v| !v.is_array()) {
            r.bad.push(InvalidParam::wrong_type(key, "array"));
        }
    }
    let api_refund = r.boolean("api_refund").unwrap_or(true);
    let api_restock = r.boolean("api_restock").unwrap_or(true);
    let request = RefundRequest {
        has_id: obj.get("id").is_some_and(crate::api::php_truthy),
        amount,
        reason,
        api_refund,
        api_restock,
        meta_data,
        line_items: refund_lines(obj.get("line_items")),
    };
    r.finish(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stock_quantity_string_is_coerced_float_refused() {
        assert_eq!(
            product_patch(&json!({"stock_quantity": "43"}))
                .unwrap()
                .stock_quantity,
            Some(43)
        );
        assert_eq!(
            product_patch(&json!({"stock_quantity": -2}))
                .unwrap()
                .stock_quantity,
            Some(-2)
        );
        let e = product_patch(&json!({"stock_quantity": 2.7})).unwrap_err();
        assert_eq!(
            e.body()["data"]["params"]["stock_quantity"],
            "stock_quantity is not of type integer."
        );
    }

    #[test]
    fn price_as_number_is_refused() {
        let e = product_patch(&json!({"regular_price": 12.5})).unwrap_err();
        assert_eq!(e.message, "Invalid parameter(s): regular_price");
        assert_eq!(
            e.body()["data"]["details"]["regular_price"]["data"]["param"],
            "regular_price"
        );
    }

    #[test]
    fn cogs_values_are_summed() {
        let p = product_patch(&json!({"cost_of_goods_sold": {"values": [{"defined_value": 9.5}, {"defined_value": 0.5}]}})).unwrap();
        assert_eq!(p.cost_of_goods_sold, Some(10.0));
    }

    #[test]
    fn order_status_enum_message() {
        let e = order_patch(&json!({"status": "not-a-status"})).unwrap_err();
        assert_eq!(
            e.body()["data"]["params"]["status"],
            "status is not one of auto-draft, pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft."
        );
    }

    #[test]
    fn order_bodies_read_lines_and_removals() {
        let p = order_patch(&json!({
            "status": "processing", "customer_id": "2", "set_paid": true,
            "billing": {"first_name": "Ann", "email": null},
            "line_items": [
                {"product_id": 11, "quantity": 2},
                {"id": 5, "quantity": 0},
                {"id": 6, "product_id": null},
                {"sku": "RIG-TSHIRT-M", "meta_data": [{"key": "gift", "value": "yes"}]}
            ],
            "shipping_lines": [{"method_id": "flat_rate", "total": "5.00"}, {"id": 9, "method_id": null}]
        }))
        .unwrap();
        assert_eq!(p.customer_id, Some(2));
        assert_eq!(
            p.billing.unwrap(),
            [
                ("first_name".into(), "Ann".into()),
                ("email".into(), String::new())
            ]
        );
        let removed: Vec<bool> = p.line_items.iter().map(|l| l.remove).collect();
        assert_eq!(removed, [false, true, true, false]);
        assert_eq!(p.line_items[3].meta_data[0].key, "gift");
        assert_eq!(
            (p.shipping_lines[0].remove, p.shipping_lines[1].remove),
            (false, true)
        );
    }

    #[test]
    fn nested_type_errors_name_the_path() {
        let e = order_patch(&json!({"line_items": [{"product_id": 11, "quantity": "two"}]}))
            .unwrap_err();
        assert_eq!(e.message, "Invalid parameter(s): line_items");
        assert_eq!(
            e.body()["data"]["params"]["line_items"],
            "line_items[0][quantity] is not of type integer."
        );
        assert_eq!(
            e.body()["data"]["details"]["line_items"]["data"]["param"],
            "line_items[0][quantity]"
        );
    }

    #[test]
    fn force_is_a_strict_boolean() {
        assert!(!force_param(None, None).unwrap());
        assert!(force_param(Some("true"), None).unwrap());
        assert!(!force_param(Some("0"), None).unwrap());
        assert!(force_param(Some("false"), Some(&json!({"force": true}))).unwrap());
        let e = force_param(Some("yes"), None).unwrap_err();
        assert_eq!(
            e.body()["data"]["params"]["force"],
            "force is not of type boolean."
        );
        assert!(force_param(Some(""), None).is_err());
    }

    #[test]
    fn variation_status_enum_is_the_post_statuses() {
        assert!(variation_patch(&json!({"status": "private"})).is_ok());
        let e = variation_patch(&json!({"status": "trash"})).unwrap_err();
        assert_eq!(
            e.body()["data"]["params"]["status"],
            "status is not one of draft, pending, private, and publish."
        );
        assert!(product_patch(&json!({"status": "trash"})).is_ok());
    }

    #[test]
    fn note_needs_text() {
        assert_eq!(
            note_body(&json!({"note": "hi", "customer_note": true})).unwrap(),
            ("hi".to_owned(), true)
        );
        assert_eq!(note_body(&json!({})).unwrap_err().status, 400);
        assert_eq!(
            note_body(&json!({"note": null, "customer_note": "maybe"}))
                .unwrap_err()
                .code,
            "rest_missing_callback_param",
            "missing before mistyped"
        );
        assert_eq!(
            note_body(&json!({"note": ""})).unwrap(),
            (String::new(), false)
        );
        assert_eq!(
            note_body(&json!({"note": "x", "customer_note": "maybe"}))
                .unwrap_err()
                .body()["data"]["params"]["customer_note"],
            "customer_note is not of type boolean."
        );
    }
}
