//! Record-by-record decoding: one malformed record is reported and skipped,
//! it never aborts a run.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A record the client could not decode, with the store's id for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    pub id: Option<u64>,
    pub reason: String,
}

impl std::fmt::Display for SkippedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "record {id} skipped: {}", self.reason),
            None => write!(f, "record without an id skipped: {}", self.reason),
        }
    }
}

/// Decodes one record; a failure names the record's id.
pub fn decode_record<T: DeserializeOwned>(record: Value) -> Result<T, SkippedRecord> {
    // serde reads a struct from an array by position too; WooCommerce's
    // records are objects, so anything else is refused, not guessed at.
    if !record.is_object() {
        return Err(SkippedRecord {
            id: None,
            reason: format!("the record is not a JSON object but {}", kind_of(&record)),
        });
    }
    let id = record.get("id").and_then(Value::as_u64);
    serde_json::from_value::<T>(record).map_err(|error| SkippedRecord {
        id,
        reason: error.to_string(),
    })
}

/// Decodes each record separately.
pub fn decode_records<T: DeserializeOwned>(records: Vec<Value>) -> (Vec<T>, Vec<SkippedRecord>) {
    let mut decoded = Vec::with_capacity(records.len());
    let mut skipped = Vec::new();
    for record in records {
        match decode_record(record) {
            Ok(value) => decoded.push(value),
            Err(reason) => skipped.push(reason),
        }
    }
    (decoded, skipped)
}

/// A collection page must be a JSON array; its items are decoded later, one
/// by one.
pub fn page_records(body: Value) -> Result<Vec<Value>, String> {
    match body {
        Value::Array(items) => Ok(items),
        other => Err(format!("expected a JSON array, got {}", kind_of(&other))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Product;
    use serde_json::json;

    #[test]
    fn a_malformed_record_is_skipped_with_its_id() {
        let records = vec![
            json!({"id": 1, "stock_quantity": 3}),
            json!({"id": 2, "stock_quantity": 2.5}),
            json!({"id": 3, "regular_price": "12.00"}),
        ];
        let (products, skipped) = decode_records::<Product>(records);
        assert_eq!(products.iter().map(|p| p.id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].id, Some(2));
        assert!(skipped[0].reason.contains("2.5"), "{}", skipped[0].reason);
    }

    #[test]
    fn a_page_must_be_an_array() {
        assert_eq!(page_records(json!([1, 2])).unwrap().len(), 2);
        assert!(
            page_records(json!({"code": "x"}))
                .unwrap_err()
                .contains("an object")
        );
    }
}
