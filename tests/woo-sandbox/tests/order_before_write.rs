//! The `place_order_before` fault over HTTP: a customer's order lands
//! between the client's read and its stock write. The store creates the
//! order (taking its units from stock, as WooCommerce does when it creates
//! a processing or on-hold order) just before it applies the next matching
//! write, so an absolute `stock_quantity` overwrites the order's reduction
//! and an `inventory_delta` keeps it — on all four stock routes: products
//! and variations, single and batch.

mod common;

use common::{sandbox, send};
use serde_json::{Value, json};
use woo_sandbox::RunningSandbox;

/// One request with the test key: status and JSON body.
async fn call(s: &RunningSandbox, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, _, bytes) = send(s, method, path, body).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Have the next POST/PUT under `prefix` meet an order for `order`.
async fn order_before_next_write(s: &RunningSandbox, prefix: &str, order: Value) {
    let (status, body) = call(
        s,
        "PUT",
        "/__sandbox/faults",
        Some(
            json!({"prefix": prefix, "methods": ["POST", "PUT"], "times": 1,
                    "place_order_before": order}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// The stock a GET shows (what the client reads before writing).
async fn read_stock(s: &RunningSandbox, path: &str) -> i64 {
    let (status, body) = call(s, "GET", path, None).await;
    assert_eq!(status, 200, "{body}");
    body["stock_quantity"].as_i64().unwrap()
}

/// The newest order: the one the fault placed.
async fn placed_order(s: &RunningSandbox) -> Value {
    let (_, orders) = call(
        s,
        "GET",
        "/wp-json/wc/v3/orders?orderby=id&per_page=1",
        None,
    )
    .await;
    orders[0].clone()
}

#[tokio::test]
async fn a_batch_stock_quantity_overwrites_the_orders_reduction() {
    let s = sandbox().await;
    let read = read_stock(&s, "/wp-json/wc/v3/products/11").await;
    assert_eq!(read, 21);
    order_before_next_write(
        &s,
        "/wp-json/wc/v3/products/batch",
        json!({"product_id": 11, "quantity": 2, "status": "processing"}),
    )
    .await;
    let (status, body) = call(
        &s,
        "POST",
        "/wp-json/wc/v3/products/batch",
        Some(json!({"update": [{"id": 11, "stock_quantity": read + 4}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["update"][0]["stock_quantity"], 25);
    assert_eq!(
        s.store().stock(11),
        Some(25),
        "the order's 2 are lost: the write was absolute"
    );
    let order = placed_order(&s).await;
    assert_eq!(
        (&order["status"], &order["created_via"]),
        (&json!("processing"), &json!("checkout"))
    );
    assert_eq!(order["line_items"][0]["product_id"], 11);
    assert_eq!(
        order["line_items"][0]["meta_data"][0]["key"],
        "_reduced_stock"
    );
    assert_eq!(order["line_items"][0]["meta_data"][0]["value"], "2");

    let (_, rules) = call(&s, "GET", "/__sandbox/faults", None).await;
    assert_eq!(rules[0]["times"], 0, "spent");
    let before = s.store().read(|st| st.orders().count());
    let (status, _) = call(
        &s,
        "POST",
        "/wp-json/wc/v3/products/batch",
        Some(json!({"update": [{"id": 11, "stock_quantity": 25}]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        s.store().read(|st| st.orders().count()),
        before,
        "only the first write met an order"
    );
}

#[tokio::test]
async fn a_batch_inventory_delta_keeps_the_orders_reduction() {
    let s = sandbox().await;
    let read = read_stock(&s, "/wp-json/wc/v3/products/11").await;
    order_before_next_write(
        &s,
        "/wp-json/wc/v3/products/batch",
        json!({"product_id": 11, "quantity": 2}),
    )
    .await;
    let (status, body) = call(
        &s,
        "POST",
        "/wp-json/wc/v3/products/batch",
        Some(json!({"update": [{"id": 11, "inventory_delta": 4}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        s.store().stock(11),
        Some(read - 2 + 4),
        "the delta lands on the reduced count"
    );
    assert_eq!(body["update"][0]["stock_quantity"], read - 2 + 4);
}

#[tokio::test]
async fn a_variations_batch_meets_an_on_hold_order() {
    let s = sandbox().await;
    let path = "/wp-json/wc/v3/products/12/variations";
    let read = read_stock(&s, &format!("{path}/13")).await;
    assert_eq!(read, 2);
    let variation_order = json!({"product_id": 12, "variation_id": 13, "quantity": 1,
                                 "status": "on-hold"});
    order_before_next_write(&s, &format!("{path}/batch"), variation_order.clone()).await;
    let (status, body) = call(
        &s,
        "POST",
        &format!("{path}/batch"),
        Some(json!({"update": [{"id": 13, "stock_quantity": read + 3}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.store().stock(13), Some(5), "absolute: the order is lost");
    let order = placed_order(&s).await;
    assert_eq!(
        (&order["status"], &order["line_items"][0]["variation_id"]),
        (&json!("on-hold"), &json!(13))
    );

    order_before_next_write(&s, &format!("{path}/batch"), variation_order).await;
    let (status, _) = call(
        &s,
        "POST",
        &format!("{path}/batch"),
        Some(json!({"update": [{"id": 13, "inventory_delta": 3}]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(s.store().stock(13), Some(5 - 1 + 3), "the delta keeps it");
}

#[tokio::test]
async fn single_writes_add_their_delta_to_the_count_the_store_has() {
    let s = sandbox().await;
    for (path, product, variation) in [
        ("/wp-json/wc/v3/products/16", 16, 0),
        ("/wp-json/wc/v3/products/12/variations/15", 12, 15),
    ] {
        let id = if variation == 0 { product } else { variation };
        let read = read_stock(&s, path).await;
        order_before_next_write(
            &s,
            path,
            json!({"product_id": product, "variation_id": variation, "quantity": 3}),
        )
        .await;
        let (status, body) = call(&s, "PUT", path, Some(json!({"inventory_delta": -1}))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["stock_quantity"], read - 3 - 1, "{path}");
        assert_eq!(s.store().stock(id), Some(read - 3 - 1));

        order_before_next_write(
            &s,
            path,
            json!({"product_id": product, "variation_id": variation, "quantity": 3}),
        )
        .await;
        let (_, body) = call(&s, "PUT", path, Some(json!({"stock_quantity": read}))).await;
        assert_eq!(body["stock_quantity"], read, "{path}: absolute");
    }
}

#[tokio::test]
async fn rules_naming_what_no_checkout_can_buy_are_refused() {
    let s = sandbox().await;
    for order in [
        json!({"product_id": 999999}),
        json!({"product_id": 12}),
        json!({"product_id": 11, "variation_id": 13}),
        json!({"product_id": 11, "quantity": 0}),
        json!({"product_id": 11, "status": "shipped"}),
    ] {
        let (status, body) = call(
            &s,
            "PUT",
            "/__sandbox/faults",
            Some(json!({"place_order_before": order})),
        )
        .await;
        assert_eq!(status, 400, "{order}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("place_order_before")
        );
    }
    let (_, rules) = call(&s, "GET", "/__sandbox/faults", None).await;
    assert_eq!(rules, json!([]));
}
