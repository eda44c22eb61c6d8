//! Request bodies of the write routes, validated against the REST schema
//! the way WordPress does it: a wrong JSON type is a 400 `rest_invalid_param`
//! naming the field, an integer sent as a numeric string is coerced, unknown
//! fields are ignored.

use serde_json::{Map, Value};

use crate::error::{ApiError, InvalidParam};
use crate::model::{ORDER_STATUSES, ProductType};

/// A meta write: update by id, else by key, else add.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaWrite {
    /// Target entry id.
    pub id: Option<u64>,
    /// Key.
    pub key: String,
    /// Value.
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

/// The order fields a write may change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderPatch {
    pub status: Option<String>,
    pub customer_note: Option<String>,
    pub transaction_id: Option<String>,
    pub set_paid: bool,
    pub meta_data: Vec<MetaWrite>,
}

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
        let Some(items) = v.as_array() else {
            self.bad
                .push(InvalidParam::wrong_type("meta_data", "array"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match (item.get("key").and_then(Value::as_str), item.get("value")) {
                (Some(key), Some(value)) => out.push(MetaWrite {
                    id: item.get("id").and_then(Value::as_u64).filter(|id| *id != 0),
                    key: key.to_owned(),
                    value: value.clone(),
                }),
                _ => {
                    self.bad
                        .push(InvalidParam::wrong_type("meta_data[0]", "object"));
                    return Vec::new();
                }
            }
        }
        out
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

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::new(400, "rest_invalid_json", "Invalid JSON body passed."))
}

/// Validate a product or variation write body.
pub fn product_patch(body: &Value) -> Result<ProductPatch, ApiError> {
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
        status: r.enumerated("status", &PRODUCT_STATUSES),
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
        status: r.enumerated("status", &statuses),
        customer_note: r.string("customer_note"),
        transaction_id: r.string("transaction_id"),
        set_paid: r.boolean("set_paid").unwrap_or(false),
        meta_data: r.meta(),
    };
    r.finish(patch)
}

/// An order note body: `note` (required) and `customer_note`.
pub fn note_body(body: &Value) -> Result<(String, bool), ApiError> {
    let mut r = Reader {
        body: object(body)?,
        bad: Vec::new(),
    };
    let note = r.string("note");
    let customer = r.boolean("customer_note").unwrap_or(false);
    let parsed = r.finish((note, customer))?;
    match parsed {
        (Some(note), customer) if !note.is_empty() => Ok((note, customer)),
        _ => Err(ApiError::new(
            400,
            "rest_missing_callback_param",
            "Missing parameter(s): note",
        )
        .with("params", serde_json::json!(["note"]))),
    }
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
    fn note_needs_text() {
        assert_eq!(
            note_body(&json!({"note": "hi", "customer_note": true})).unwrap(),
            ("hi".to_owned(), true)
        );
        assert_eq!(note_body(&json!({})).unwrap_err().status, 400);
    }
}
