//! Hostile store payloads: what a broken, compromised or badly patched
//! store (or something between it and us) may send. Each must give a clear
//! error — for one record (the rest of the page still decodes) or for the
//! call — and never a panic.
//!
//! Records go through the public decoders (`decode_record`,
//! `decode_records`); whole answers, byte for byte, come from a tiny HTTP
//! fixture that answers every request with the same raw bytes, read with
//! the real client.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use woo_client::decode::{decode_record, decode_records};
use woo_client::model::{Order, Product, Variation};
use woo_client::{ClientConfig, Error, RetryPolicy, Scope, WooClient};

fn product(extra: Value) -> Value {
    let mut p = json!({"id": 7, "name": "Mug", "sku": "MUG", "type": "simple",
                       "status": "publish", "manage_stock": true, "stock_quantity": 3,
                       "date_modified_gmt": "2026-11-26T10:00:00"});
    p.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    p
}

/// The error for one record, failing the test if it decoded.
fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(record: Value) -> String {
    match decode_record::<T>(record) {
        Ok(decoded) => panic!("decoded: {decoded:?}"),
        Err(skipped) => skipped.to_string(),
    }
}

#[test]
fn wrong_json_types_are_refused_for_the_record_with_the_field_and_value_named() {
    let cases: &[(Value, &str)] = &[
        (
            json!({"stock_quantity": "lots"}),
            "\"lots\" is not a number",
        ),
        (json!({"stock_quantity": [3]}), "[3] is not a number"),
        (
            json!({"stock_quantity": {"n": 3}}),
            "{\"n\":3} is not a number",
        ),
        (json!({"stock_quantity": true}), "true is not a number"),
        (json!({"sku": ["MUG"]}), "[\"MUG\"] is not text"),
        (json!({"name": {"rendered": "Mug"}}), "is not text"),
        (
            json!({"manage_stock": "sometimes"}),
            "\"sometimes\" is not a manage_stock value",
        ),
        (json!({"manage_stock": 1}), "1 is not a manage_stock value"),
        (
            json!({"virtual": "perhaps"}),
            "\"perhaps\" is not a yes/no value",
        ),
        (
            json!({"regular_price": "12,50"}),
            "\"12,50\" is not a decimal amount",
        ),
        (json!({"regular_price": "1e400"}), "is not a decimal amount"),
        (json!({"regular_price": {"amount": 1}}), "is not an amount"),
        (
            json!({"date_modified_gmt": "yesterday"}),
            "\"yesterday\" is not a date",
        ),
        (
            json!({"date_modified_gmt": 1764150000}),
            "\"1764150000\" is not a date",
        ),
        (
            json!({"variations": "12,13"}),
            "invalid type: string \"12,13\", expected a sequence",
        ),
        (
            json!({"variations": [12, -13]}),
            "invalid value: integer `-13`, expected u64",
        ),
        (json!({"meta_data": {"key": "x"}}), "expected a sequence"),
        (json!({"parent_id": -1}), "-1 is not an id"),
    ];
    for (extra, wanted) in cases {
        let reason = refused::<Product>(product(extra.clone()));
        assert!(
            reason.starts_with("record 7 skipped: ") && reason.contains(wanted),
            "{extra}: {reason}"
        );
    }
}

#[test]
fn ids_that_are_not_ids_and_missing_fields_name_what_is_missing() {
    assert_eq!(
        refused::<Product>(json!({"name": "no id"})),
        "record without an id skipped: missing field `id`"
    );
    assert_eq!(
        refused::<Product>(json!({})),
        "record without an id skipped: missing field `id`"
    );
    for (id, wanted) in [
        (json!("abc"), "\"abc\" is not a number"),
        (json!(-4), "-4 is not an id"),
        (json!(1.5), "1.5 is not a whole number"),
        (json!(1e300), "is not a whole number"),
    ] {
        let mut record = product(json!({}));
        record["id"] = id.clone();
        let reason = refused::<Product>(record);
        assert!(reason.contains(wanted), "{id}: {reason}");
    }
    // null reads as id 0, WooCommerce's "none": the plugin judges it.
    let none = decode_record::<Product>(product(json!({"id": null}))).unwrap();
    assert_eq!(none.id, 0);
    let order = json!({"id": 9, "status": "processing",
                       "line_items": [{"name": "a line without its id", "quantity": 1}]});
    assert_eq!(
        refused::<Order>(order),
        "record 9 skipped: missing field `id`"
    );
    let order = json!({"id": 9, "line_items": "none"});
    assert!(refused::<Order>(order).contains("expected a sequence"));
    let variation = json!({"id": 5, "attributes": [{"name": "Size", "option": ["S", "M"]}]});
    assert!(refused::<Variation>(variation).contains("is not text"));
}

#[test]
fn stock_that_is_negative_decodes_and_stock_that_is_fractional_is_refused() {
    let negative = decode_record::<Product>(product(json!({"stock_quantity": -12}))).unwrap();
    assert_eq!(negative.stock_quantity, Some(-12), "a backorder is data");
    for fractional in [json!(2.5), json!("2.5"), json!(-0.5)] {
        let reason = refused::<Product>(product(json!({"stock_quantity": fractional})));
        assert!(reason.contains("is not a whole number"), "{reason}");
    }
    let order = json!({"id": 3, "line_items": [{"id": 1, "product_id": 7, "quantity": -2}]});
    let order = decode_record::<Order>(order).unwrap();
    assert_eq!(
        order.line_items[0].quantity,
        Some(-2.0),
        "the plugin judges quantities"
    );
}

#[test]
fn html_script_and_huge_text_are_kept_as_text_never_interpreted() {
    let script = "<script>alert('x')</script><b>Mug</b> &amp; \"cup\"";
    let decoded =
        decode_record::<Product>(product(json!({"name": script, "sku": "<img src=x>"}))).unwrap();
    assert_eq!(decoded.name, script);
    assert_eq!(decoded.sku, "<img src=x>");
    let huge = "x".repeat(8 << 20);
    let decoded = decode_record::<Product>(product(json!({"name": huge}))).unwrap();
    assert_eq!(decoded.name.len(), 8 << 20);
    let control = "tab\there\u{0}nul\u{202e}rtl";
    let decoded = decode_record::<Product>(product(json!({"sku": control}))).unwrap();
    assert_eq!(decoded.sku, control);
}

#[test]
fn one_bad_record_never_sinks_its_page_and_duplicates_stay_for_the_plugin_to_judge() {
    let page = vec![
        product(json!({"id": 1, "sku": "A"})),
        product(json!({"id": 2, "stock_quantity": "many"})),
        product(json!({"id": 3, "sku": "A"})),
        product(json!({"id": 3, "sku": "B"})),
        json!("not a record"),
        json!(null),
        product(json!({"id": 4})),
    ];
    let (decoded, skipped) = decode_records::<Product>(page);
    let ids: Vec<u64> = decoded.iter().map(|p| p.id).collect();
    assert_eq!(ids, [1, 3, 3, 4]);
    let reasons: Vec<String> = skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        reasons,
        [
            "record 2 skipped: \"many\" is not a number",
            "record without an id skipped: the record is not a JSON object but a string",
            "record without an id skipped: the record is not a JSON object but null",
        ]
    );
}

/// A one-trick store: every request gets these raw bytes.
struct RawStore {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl RawStore {
    fn answering(answer: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                seen.fetch_add(1, Ordering::SeqCst);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let _ = stream.write_all(&answer);
            }
        });
        Self { url, requests }
    }

    /// `200 OK` with this body and content type (and a one-page total).
    fn ok(content_type: &str, body: &[u8]) -> Self {
        Self::answering(raw("200 OK", content_type, body))
    }

    fn client(&self) -> WooClient {
        let mut config = ClientConfig::new(&self.url, "ck_hostile", "cs_hostile_secret_value");
        config.timeout = Duration::from_secs(5);
        config.retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        };
        WooClient::new(config).unwrap()
    }
}

fn raw(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nX-WP-Total: 1\r\nX-WP-TotalPages: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn listing_error(store: &RawStore) -> String {
    match store.client().list_products(Scope::Full).await {
        Ok(listing) => panic!("listed: {:?}", listing.records),
        Err(error) => {
            let text = error.to_string();
            assert!(!text.contains("cs_hostile"), "the secret leaked: {text}");
            text
        }
    }
}

const JSON: &str = "application/json; charset=UTF-8";

#[tokio::test]
async fn answers_that_are_not_json_fail_the_call_saying_so() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text/html",
            b"<!DOCTYPE html><html><body><h1>Error establishing a database connection</h1></body></html>".to_vec(),
            "not JSON: expected value at line 1 column 1",
        ),
        ("text/plain", b"OK".to_vec(), "not JSON: expected value"),
        (
            JSON,
            b"Warning: Undefined array key in /var/www/wp-content/plugins/x.php\n[{\"id\":1}]".to_vec(),
            "not JSON",
        ),
        (JSON, b"[{\"id\": 1, \"name\": \"M".to_vec(), "not JSON: EOF while parsing a string"),
        (JSON, b"[{\"id\": 1, \"name\": \"bad \\q escape\"}]".to_vec(), "not JSON: invalid escape"),
        (JSON, b"[{\"id\": 1, \"name\": \"\\ud800\"}]".to_vec(), "not JSON: unexpected end of hex escape"),
        (JSON, b"[{\"id\": 1, \"name\": \"\xff\xfe bytes\"}]".to_vec(), "not JSON: invalid unicode code point"),
        (JSON, format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(), "not JSON: recursion limit exceeded"),
        (JSON, b"[{\"id\": 1}] trailing".to_vec(), "not JSON: trailing characters"),
        (JSON, b"[{\"id\": NaN}]".to_vec(), "not JSON: expected value"),
    ];
    for (content_type, body, wanted) in cases {
        let store = RawStore::ok(content_type, &body);
        let error = listing_error(&store).await;
        assert!(
            error.starts_with("GET /wc/v3/products: HTTP 200: unexpected answer: ")
                && error.contains(wanted),
            "{}: {error}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
        assert!(
            error.ends_with("(after 3 attempts)"),
            "a garbled read is tried again: {error}"
        );
        assert_eq!(store.requests.load(Ordering::SeqCst), 3);
    }
}

#[tokio::test]
async fn json_that_is_not_a_page_fails_the_call_saying_what_came() {
    for (body, wanted) in [
        ("", "expected a JSON array, got null"),
        ("null", "expected a JSON array, got null"),
        (
            "{\"code\": \"rest_ok\"}",
            "expected a JSON array, got an object",
        ),
        ("\"<html>\"", "expected a JSON array, got a string"),
        ("42", "expected a JSON array, got a number"),
    ] {
        let store = RawStore::ok(JSON, body.as_bytes());
        let error = listing_error(&store).await;
        assert!(error.contains(wanted), "{body}: {error}");
    }
    // One record read on its own must be the record.
    for (body, wanted) in [
        (
            "\"<html>\"",
            "invalid type: string \"<html>\", expected struct Product",
        ),
        ("[]", "invalid length 0, expected struct Product"),
        (
            "true",
            "invalid type: boolean `true`, expected struct Product",
        ),
    ] {
        let store = RawStore::ok(JSON, body.as_bytes());
        let error = store.client().get_product(7).await.unwrap_err();
        assert!(
            matches!(error, Error::Body { status: 200, .. })
                && error
                    .to_string()
                    .starts_with("GET /wc/v3/products/7: HTTP 200: unexpected answer: ")
                && error.to_string().contains(wanted),
            "{body}: {error}"
        );
    }
}

#[tokio::test]
async fn error_pages_and_short_bodies_fail_the_call_with_the_status() {
    let html = b"<html><head><title>500 Internal Server Error</title></head></html>";
    let store = RawStore::answering(raw("500 Internal Server Error", "text/html", html));
    assert_eq!(
        listing_error(&store).await,
        "GET /wc/v3/products: HTTP 500 (no WooCommerce error in the answer)"
    );
    // A body cut short of its Content-Length: the connection closes early.
    let mut short = raw("200 OK", JSON, b"[{\"id\": 1}, {\"id\": 2}]");
    short.truncate(short.len() - 8);
    let store = RawStore::answering(short);
    let error = listing_error(&store).await;
    assert!(
        error.starts_with("GET /wc/v3/products: connection dropped")
            && error.ends_with("(after 3 attempts)"),
        "{error}"
    );
}

#[tokio::test]
async fn a_page_of_hostile_records_lists_the_good_ones_and_names_each_bad_one() {
    let huge = "Ω".repeat(1 << 20);
    let page = json!([
        product(json!({"id": 1, "name": huge})),
        product(json!({"id": 2, "stock_quantity": 2.5})),
        product(json!({"id": 3, "name": "<script>alert(1)</script>"})),
        {"name": "no id at all"},
        product(json!({"id": 4, "manage_stock": [true]})),
        product(json!({"id": 5, "stock_quantity": -7})),
    ]);
    let store = RawStore::ok(JSON, page.to_string().as_bytes());
    let listing = store.client().list_products(Scope::Full).await.unwrap();
    let ids: Vec<u64> = listing.records.iter().map(|p| p.id).collect();
    assert_eq!(ids, [1, 3, 5]);
    assert_eq!(listing.records[0].name.chars().count(), 1 << 20);
    let reasons: Vec<String> = listing.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        reasons,
        [
            "record 2 skipped: 2.5 is not a whole number",
            "record without an id skipped: missing field `id`",
            "record 4 skipped: [true] is not a manage_stock value",
        ]
    );
}

/// A record that is a JSON array instead of an object must be refused:
/// serde's derived `Deserialize` would read `[7, "Mug", "MUG"]` by position
/// as product 7 named "Mug" with SKU "MUG".
#[test]
fn a_record_that_is_an_array_is_refused_not_read_by_position() {
    let product = decode_record::<Product>(json!([7, "Mug", "MUG"]));
    assert!(product.is_err(), "{product:?}");
    let order = decode_record::<Order>(json!([9, "9", "processing"]));
    assert!(order.is_err(), "{order:?}");
}
