//! Every successful body recorded from the real store decodes, record by
//! record, with nothing skipped; and the awkward values come out right.

mod recordings;

use serde_json::Value;
use woo_client::decode::decode_records;
use woo_client::model::{
    BatchItem, ManageStock, Order, OrderNote, Product, ProductType, Variation, batch_item,
};

enum Shape {
    Products,
    Variations,
    Orders,
    Notes,
    Batch,
    Other,
}

fn shape(path: &str) -> Shape {
    let parts: Vec<&str> = path
        .trim_start_matches("/wp-json/wc/v3/")
        .split('/')
        .collect();
    match parts.as_slice() {
        [_, "batch"] | [_, _, _, "batch"] => Shape::Batch,
        ["products"] | ["products", _] => Shape::Products,
        ["products", _, "variations"] | ["products", _, "variations", _] => Shape::Variations,
        ["orders"] | ["orders", _] => Shape::Orders,
        ["orders", _, "notes"] => Shape::Notes,
        _ => Shape::Other,
    }
}

fn records(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    }
}

fn assert_all_decode<T: serde::de::DeserializeOwned>(name: &str, body: &Value) -> usize {
    let items = records(body);
    let count = items.len();
    let (decoded, skipped) = decode_records::<T>(items);
    assert!(skipped.is_empty(), "{name}: {skipped:?}");
    assert_eq!(decoded.len(), count, "{name}");
    count
}

#[test]
fn every_recorded_success_body_decodes() {
    let mut decoded = 0;
    for (name, recording) in recordings::all() {
        let status = recording["response"]["status"].as_u64().unwrap();
        if !(200..300).contains(&status) {
            continue;
        }
        let body = &recording["response"]["body"];
        let path = recording["request"]["path"].as_str().unwrap();
        decoded += match shape(path) {
            Shape::Products => assert_all_decode::<Product>(&name, body),
            Shape::Variations => assert_all_decode::<Variation>(&name, body),
            Shape::Orders => assert_all_decode::<Order>(&name, body),
            Shape::Notes => assert_all_decode::<OrderNote>(&name, body),
            Shape::Batch => {
                let items = body["update"].as_array().unwrap();
                items.iter().map(batch_item).count()
            }
            Shape::Other => 0,
        };
    }
    assert!(decoded > 250, "only {decoded} records decoded");
}

fn product(prefix: &str) -> Product {
    serde_json::from_value(recordings::one(prefix)["response"]["body"].clone()).unwrap()
}

fn order(prefix: &str) -> Order {
    serde_json::from_value(recordings::one(prefix)["response"]["body"].clone()).unwrap()
}

#[test]
fn simple_product_prices_stock_cost_and_dates() {
    let p = product("09-");
    assert_eq!(p.kind, ProductType::Simple);
    assert_eq!(p.sku, "RIG-SIMPLE-1");
    assert_eq!(p.regular_price.unwrap().as_str(), "19.99");
    assert_eq!(p.sale_price.unwrap().as_str(), "17.50");
    assert_eq!(p.manage_stock, ManageStock::Yes);
    assert_eq!(p.stock_quantity, Some(21));
    assert_eq!(p.cost_of_goods_sold.unwrap().unit_cost(), Some(8.25));
    assert_eq!(
        p.date_modified_gmt.unwrap().to_string(),
        "2026-11-26T14:34:36Z"
    );
    assert_eq!(p.date_modified.unwrap().to_string(), "2026-11-26T15:34:36");
    assert_eq!(p.meta_data[0].key, "_wc_cogs_cost");
}

#[test]
fn variable_parent_has_no_stock_and_empty_regular_price() {
    let p = product("10-");
    assert_eq!(p.kind, ProductType::Variable);
    assert_eq!(p.manage_stock, ManageStock::No);
    assert_eq!(p.stock_quantity, None);
    assert_eq!(p.regular_price, None);
    assert!(!p.variations.is_empty());
}

#[test]
fn cost_field_is_absent_when_the_feature_is_off() {
    assert!(product("79-").cost_of_goods_sold.is_none());
    assert!(order("80-").cost_of_goods_sold.is_none());
}

#[test]
fn product_kinds_and_flags() {
    assert_eq!(product("11-").kind, ProductType::Grouped);
    assert_eq!(product("12-").kind, ProductType::External);
    assert!(product("13-").is_virtual);
    assert!(product("14-").downloadable);
    assert_eq!(product("15-").sku, "");
    assert_eq!(product("16-").stock_quantity, None);
    assert_eq!(product("17-").status, "draft");
    let via_products = product("19-");
    assert_eq!(via_products.kind, ProductType::Variation);
    assert_ne!(via_products.parent_id, 0);
}

#[test]
fn variation_cost_and_attributes() {
    let body = recordings::one("21-")["response"]["body"].clone();
    let v: Variation = serde_json::from_value(body).unwrap();
    assert_eq!(v.parent_id, 12);
    assert_eq!(v.attributes[0].name, "Size");
    assert_eq!(v.attributes[0].option, "M");
    let cost = v.cost_of_goods_sold.unwrap();
    assert_eq!(cost.unit_cost(), Some(6.0));
    assert!(!cost.defined_value_is_additive);
}

#[test]
fn order_lines_price_as_number_and_line_cost() {
    let o = order("26-");
    assert_eq!(o.number, "177");
    assert_eq!(o.total.unwrap().as_str(), "45.00");
    assert_eq!(o.line_items.len(), 3);
    assert_eq!(o.line_items[0].price, Some(17.5));
    assert_eq!(o.line_items[0].sku.as_deref(), Some("RIG-SIMPLE-1"));
    assert_eq!(
        o.line_items[0].cost_of_goods_sold.as_ref().unwrap().value,
        Some(8.25)
    );
    assert_eq!(o.line_items[1].quantity, Some(3.0));
    assert_eq!(o.shipping_lines[0].instance_id, "1");
    assert_eq!(o.cost_of_goods_sold.unwrap().total_value, Some(8.25));
    assert!(o.date_completed_gmt.is_none());
}

#[test]
fn refunds_are_negative_amounts() {
    let o = order("28-");
    assert_eq!(o.refunds[0].total.as_ref().unwrap().to_f64(), -32.5);
}

#[test]
fn batch_answers_surface_each_failed_item() {
    let body = recordings::one("44-")["response"]["body"].clone();
    let items: Vec<BatchItem> = body["update"]
        .as_array()
        .unwrap()
        .iter()
        .map(batch_item)
        .collect();
    assert!(matches!(
        items[0],
        BatchItem::Updated {
            id: 22,
            stock_quantity: Some(11)
        }
    ));
    let BatchItem::Failed { id, failure } = &items[1] else {
        panic!("999999 failed in the store");
    };
    assert_eq!(*id, 999_999);
    assert_eq!(failure.code, "woocommerce_rest_product_invalid_id");
    assert!(matches!(items[2], BatchItem::Updated { id: 16, .. }));
}

#[test]
fn manage_stock_parent_and_odd_values_decode() {
    let mut body = recordings::one("21-")["response"]["body"].clone();
    body["manage_stock"] = "parent".into();
    body["stock_quantity"] = "7".into();
    body["meta_data"] = serde_json::json!([
        {"id": 1, "key": "n", "value": 3},
        {"id": 2, "key": "o", "value": {"a": [1, true, null]}},
        {"id": 3, "key": "b", "value": false}
    ]);
    body["unknown_plugin_field"] = serde_json::json!({"x": 1});
    let v: Variation = serde_json::from_value(body).unwrap();
    assert_eq!(v.manage_stock, ManageStock::Parent);
    assert_eq!(v.stock_quantity, Some(7));
    assert_eq!(v.meta_data[1].value["a"][1], true);
}

#[test]
fn one_malformed_record_in_a_real_page_is_skipped_not_fatal() {
    let mut page = recordings::one("01-")["response"]["body"]
        .as_array()
        .unwrap()
        .clone();
    let total = page.len();
    let bad_id = page[3]["id"].as_u64().unwrap();
    page[3]["date_modified_gmt"] = "not a date".into();
    let (products, skipped) = decode_records::<Product>(page);
    assert_eq!(products.len(), total - 1);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].id, Some(bad_id));
    assert!(skipped[0].reason.contains("not a date"));
}
