//! What the write operations send and what the store answers.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient;

/// WooCommerce's own batch limit: create + update + delete together.
pub const BATCH_LIMIT: usize = 100;

/// Sets the absolute stock quantity of one product or variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StockUpdate {
    pub id: u64,
    pub stock_quantity: i64,
}

/// Moves the stock quantity of one product or variation by a difference
/// (`inventory_delta`, which WooCommerce adds to the count it has when it
/// handles the request: an order's reduction made after the client read
/// the count is kept). Not safe to repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StockMove {
    pub id: u64,
    pub inventory_delta: i64,
}

/// One order's update in `orders/batch`: meta entries set by key and,
/// when given, the status (WooCommerce applies the status after the other
/// fields). Absolute: sending it again changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderUpdate {
    pub id: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub meta_data: Vec<MetaWrite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A meta entry to set by key (it replaces the entry with that key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaWrite {
    pub key: String,
    pub value: Value,
}

/// The outcome of one item of a batch: WooCommerce answers 200 even when
/// items failed, with an `error` object in the failed item's slot.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchItem {
    Updated {
        id: u64,
        stock_quantity: Option<i64>,
    },
    Failed {
        id: u64,
        failure: ItemFailure,
    },
}

impl BatchItem {
    pub fn id(&self) -> u64 {
        match self {
            Self::Updated { id, .. } | Self::Failed { id, .. } => *id,
        }
    }
}

/// WooCommerce's reason for refusing one batch item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFailure {
    pub code: String,
    pub message: String,
    pub status: Option<u16>,
}

impl std::fmt::Display for ItemFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(status) = self.status {
            write!(f, " (status {status})")?;
        }
        Ok(())
    }
}

/// Reads one entry of a batch answer's `update` list.
pub fn batch_item(entry: &Value) -> BatchItem {
    let id = entry.get("id").and_then(Value::as_u64).unwrap_or(0);
    match entry.get("error") {
        Some(error) => BatchItem::Failed {
            id,
            failure: ItemFailure {
                code: error["code"].as_str().unwrap_or("unknown").to_owned(),
                message: unescape_html(error["message"].as_str().unwrap_or_default()),
                status: error["data"]["status"].as_u64().map(|s| s as u16),
            },
        },
        None => BatchItem::Updated {
            id,
            stock_quantity: entry.get("stock_quantity").and_then(Value::as_i64),
        },
    }
}

/// WooCommerce HTML-escapes some messages (`&lt;product_id&gt;`).
pub fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&amp;", "&")
}

/// Who sees an order note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteVisibility {
    /// Shown to the customer, who is emailed.
    Customer,
    /// For shop staff only.
    Private,
}

/// An order note as the store returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderNote {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub note: String,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub customer_note: bool,
    #[serde(default, deserialize_with = "lenient::gmt_date")]
    pub date_created_gmt: Option<Timestamp>,
}

/// The carrier of a shipment: one the Shipment Tracking extension knows by
/// name, or a custom one with its own tracking link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carrier {
    Known(String),
    Custom { name: String, tracking_link: String },
}

/// A shipment to record on an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShipment {
    pub carrier: Carrier,
    pub tracking_number: String,
    pub date_shipped: Timestamp,
}

impl NewShipment {
    /// The body the Shipment Tracking routes expect. The extension reads
    /// `date_shipped` with PHP's `strtotime`, which takes a date
    /// (`2026-11-30`) but not a bare Unix time: that would be dropped and
    /// the request's time recorded instead.
    pub fn body(&self) -> Value {
        let mut body = serde_json::json!({
            "tracking_number": self.tracking_number,
            "date_shipped": self.date_shipped.strftime("%Y-%m-%d").to_string(),
        });
        match &self.carrier {
            Carrier::Known(slug) => body["tracking_provider"] = slug.clone().into(),
            Carrier::Custom {
                name,
                tracking_link,
            } => {
                body["custom_tracking_provider"] = name.clone().into();
                body["custom_tracking_link"] = tracking_link.clone().into();
            }
        }
        body
    }
}

/// A tracking entry as the extension returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShipmentTracking {
    #[serde(default, deserialize_with = "lenient::text")]
    pub tracking_id: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub tracking_number: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub tracking_provider: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub tracking_link: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn batch_items_tell_success_from_failure() {
        let ok = batch_item(&json!({"id": 22, "stock_quantity": 11}));
        assert_eq!(
            ok,
            BatchItem::Updated {
                id: 22,
                stock_quantity: Some(11)
            }
        );
        let failed = batch_item(&json!({"id": 15, "error": {
            "code": "woocommerce_rest_invalid_product_id",
            "message": "use the /products/&lt;product_id&gt;/variations endpoint",
            "data": {"status": 404}}}));
        let BatchItem::Failed { id, failure } = failed else {
            panic!("expected a failure");
        };
        assert_eq!(id, 15);
        assert_eq!(failure.status, Some(404));
        assert!(
            failure
                .message
                .contains("/products/<product_id>/variations")
        );
    }

    #[test]
    fn shipment_body_names_known_or_custom_carriers() {
        let shipped = Timestamp::from_second(1_795_703_730).unwrap();
        let known = NewShipment {
            carrier: Carrier::Known("ups".into()),
            tracking_number: "1Z999".into(),
            date_shipped: shipped,
        };
        assert_eq!(
            known.body(),
            json!({"tracking_provider": "ups", "tracking_number": "1Z999", "date_shipped": "2026-11-26"})
        );
        let custom = NewShipment {
            carrier: Carrier::Custom {
                name: "Rig Post".into(),
                tracking_link: "https://rig.example/t/1".into(),
            },
            ..known
        };
        assert_eq!(custom.body()["custom_tracking_provider"], "Rig Post");
        assert!(custom.body().get("tracking_provider").is_none());
    }
}
