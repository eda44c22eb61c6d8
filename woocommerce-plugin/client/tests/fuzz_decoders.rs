//! Property tests (a fuzz target that runs in `cargo test`): arbitrary JSON
//! — and arbitrary bytes — through the client's public decoders. Nothing
//! may panic; every refusal must be one readable line that names the
//! record.
//!
//! 256 cases per property by default; `PROPTEST_CASES=100000 cargo test -p
//! woo-client --test fuzz_decoders` runs longer.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use woo_client::decode::{SkippedRecord, decode_record, decode_records, page_records};
use woo_client::model::lenient::{Amount, parse_gmt};
use woo_client::model::{Order, OrderNote, Product, StockRecord, Variation, batch_item};

/// Field names the decoders know (and some they do not), so that
/// generated objects reach the field decoders, not only "missing id".
const KEYS: &[&str] = &[
    "id",
    "name",
    "sku",
    "type",
    "status",
    "parent_id",
    "virtual",
    "downloadable",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "price",
    "regular_price",
    "sale_price",
    "date_modified",
    "date_modified_gmt",
    "date_created_gmt",
    "date_paid_gmt",
    "variations",
    "grouped_products",
    "meta_data",
    "cost_of_goods_sold",
    "values",
    "total_value",
    "defined_value",
    "effective_value",
    "attributes",
    "option",
    "number",
    "currency",
    "billing",
    "shipping",
    "line_items",
    "shipping_lines",
    "refunds",
    "quantity",
    "product_id",
    "variation_id",
    "total",
    "subtotal",
    "key",
    "value",
    "note",
    "customer_note",
    "error",
    "code",
    "message",
    "unknown_field",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        // Numbers as WooCommerce sends them: text, often.
        "-?[0-9]{1,20}(\\.[0-9]{0,4})?".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z?".prop_map(Value::String),
        prop_oneof![
            Just("yes"),
            Just("no"),
            Just("parent"),
            Just("true"),
            Just(""),
            Just("simple"),
            Just("variation"),
            Just("1e400"),
            Just("NaN"),
            Just("-0"),
            Just("\u{0}")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
        any::<String>().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..10)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// An object with an id-like `id` and known fields holding anything.
fn record() -> impl Strategy<Value = Value> {
    (
        prop_oneof![leaf(), (0u64..100_000).prop_map(Value::from)],
        prop::collection::vec((prop::sample::select(KEYS), json_value()), 0..14),
    )
        .prop_map(|(id, fields)| {
            let mut map: Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            map.insert("id".into(), id);
            Value::Object(map)
        })
}

/// A refusal names its record and says why, on one line.
fn assert_readable(skipped: &SkippedRecord, record: &Value) {
    let text = skipped.to_string();
    let lead = match record.get("id").and_then(Value::as_u64) {
        Some(id) => format!("record {id} skipped: "),
        None => "record without an id skipped: ".to_owned(),
    };
    assert!(text.starts_with(&lead), "{text}");
    assert!(!skipped.reason.trim().is_empty(), "no reason for {record}");
    assert!(
        !text.contains('\n') || record.to_string().contains("\\n"),
        "{text}"
    );
}

fn decode_all_kinds(value: &Value) {
    macro_rules! each {
        ($($t:ty),*) => {$(
            if let Err(skipped) = decode_record::<$t>(value.clone()) {
                assert_readable(&skipped, value);
            }
        )*};
    }
    each!(Product, Variation, Order, StockRecord, OrderNote);
    let _ = batch_item(value);
}

proptest! {
    #[test]
    fn any_json_decodes_or_is_refused_readably(value in json_value()) {
        decode_all_kinds(&value);
    }

    #[test]
    fn record_shaped_json_decodes_or_is_refused_readably(value in record()) {
        decode_all_kinds(&value);
    }

    #[test]
    fn a_page_of_anything_splits_into_decoded_and_skipped(records in prop::collection::vec(record(), 0..12)) {
        let count = records.len();
        let page = Value::Array(records.clone());
        let items = page_records(page).expect("an array is a page");
        let (decoded, skipped) = decode_records::<Product>(items);
        prop_assert_eq!(decoded.len() + skipped.len(), count);
        let (orders, skipped_orders) = decode_records::<Order>(records);
        prop_assert_eq!(orders.len() + skipped_orders.len(), count);
    }

    #[test]
    fn any_bytes_are_json_or_an_error_and_a_non_array_is_no_page(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let is_array = value.is_array();
            match page_records(value) {
                Ok(_) => prop_assert!(is_array),
                Err(reason) => prop_assert!(reason.starts_with("expected a JSON array, got ")),
            }
        }
    }

    #[test]
    fn amounts_and_dates_parse_or_decline_without_panicking(text in any::<String>(), digits in "-?[0-9]{1,400}(\\.[0-9]{1,400})?") {
        if let Some(amount) = Amount::parse(&text) {
            let _ = amount.to_f64();
        }
        let amount = Amount::parse(&digits).expect("a decimal");
        prop_assert_eq!(amount.as_str(), digits.as_str());
        let _ = amount.to_f64();
        let _ = parse_gmt(&text);
    }
}
