//! Refunds over HTTP, as WooCommerce 10.0.2 answers them: a partial refund
//! leaves the order's lines as they were and shows only `{id, reason,
//! total}` in the order's `refunds`; the refunded quantities are in
//! `GET /orders/{id}/refunds` (negative, `_refunded_item_id` naming the
//! order line); `GET /refunds` lists every order's refunds with
//! `parent_id`; a gateway that cannot refund refuses `api_refund: true`.

mod common;

use common::{sandbox, send};
use serde_json::{Value, json};
use woo_sandbox::{RunningSandbox, WcVersion};

/// One request with the test key: status, headers, JSON body.
async fn call(
    s: &RunningSandbox,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, hyper::HeaderMap, Value) {
    let (status, headers, bytes) = send(s, method, path, body).await.unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn total(headers: &hyper::HeaderMap) -> &str {
    headers["x-wp-total"].to_str().unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn a_partial_refund_shows_in_the_order_and_in_its_refunds() {
    let s = sandbox().await;
    s.advance_clock(3600);
    let (status, headers, created) = call(
        &s,
        "POST",
        "/wp-json/wc/v3/orders/176/refunds",
        Some(json!({"reason": "Wrong size", "api_refund": false,
                    "line_items": [{"id": 2, "quantity": 1, "refund_total": "15.00"}]})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let rid = created["id"].as_u64().unwrap();
    assert_eq!(
        headers["location"].to_str().unwrap(),
        format!(
            "{}/wp-json/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/{rid}",
            s.home_url()
        )
    );
    assert_eq!(
        keys(&created),
        [
            "id",
            "date_created",
            "date_created_gmt",
            "amount",
            "reason",
            "refunded_by",
            "meta_data",
            "line_items",
            "shipping_lines",
            "tax_lines",
            "fee_lines",
            "cost_of_goods_sold",
            "_links"
        ],
        "the edit context leaves refunded_payment out"
    );
    assert_eq!(
        (
            &created["amount"],
            &created["reason"],
            &created["refunded_by"]
        ),
        (&json!("15.00"), &json!("Wrong size"), &json!(1))
    );
    let line = &created["line_items"][0];
    assert_eq!(
        (
            &line["quantity"],
            &line["total"],
            &line["subtotal"],
            &line["product_id"],
            &line["variation_id"],
            &line["sku"],
            &line["price"]
        ),
        (
            &json!(-1),
            &json!("-15.00"),
            &json!("-15.00"),
            &json!(12),
            &json!(13),
            &json!("RIG-TSHIRT-S"),
            &json!(15)
        )
    );
    assert_eq!(line["meta_data"][0]["key"], "_refunded_item_id");
    assert_eq!(line["meta_data"][0]["value"], "2");

    let (_, _, order) = call(&s, "GET", "/wp-json/wc/v3/orders/176", None).await;
    assert_eq!(
        order["line_items"][0]["quantity"], 2,
        "the line is as it was"
    );
    assert_eq!(
        order["refunds"],
        json!([{"id": rid, "reason": "Wrong size", "total": "-15.00"}])
    );
    assert_eq!(order["status"], "processing");
    assert_eq!(order["date_modified_gmt"], created["date_created_gmt"]);
    let line_meta = &order["line_items"][0]["meta_data"];
    let value = |key: &str| {
        line_meta
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == key)
            .map(|m| m["value"].clone())
    };
    assert_eq!(
        (value("_reduced_stock"), value("_restock_refunded_items")),
        (Some(json!("1")), Some(json!("1")))
    );
    assert_eq!(s.store().stock(13), Some(3), "api_restock defaults to true");

    let (status, headers, listed) =
        call(&s, "GET", "/wp-json/wc/v3/orders/176/refunds", None).await;
    assert_eq!((status, total(&headers)), (200, "1"));
    assert_eq!(listed[0]["refunded_payment"], false);
    assert_eq!(listed[0]["line_items"][0]["quantity"], -1);
    assert_eq!(
        listed[0]["_links"]["self"][0]["href"],
        format!("{}/wp-json/wc/v3/orders/176/refunds/{rid}", s.home_url())
    );
    let (status, _, one) = call(
        &s,
        "GET",
        &format!("/wp-json/wc/v3/orders/176/refunds/{rid}?_fields=id,amount,line_items.quantity"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        one,
        json!({"id": rid, "amount": "15.00", "line_items": [{"quantity": -1}],
               "_links": one["_links"]})
    );
}

#[tokio::test]
async fn every_refund_is_listed_with_its_order() {
    let s = sandbox().await;
    let (status, _, _) = call(
        &s,
        "POST",
        "/wp-json/wc/v3/orders/177/refunds",
        Some(json!({"amount": "5.00", "api_refund": false})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, headers, all) = call(
        &s,
        "GET",
        "/wp-json/wc/v3/refunds?orderby=id&order=asc&_fields=id,parent_id,amount",
        None,
    )
    .await;
    assert_eq!((status, total(&headers)), (200, "2"), "{all}");
    assert_eq!(all[0]["id"], 184);
    assert_eq!(
        (&all[0]["parent_id"], &all[0]["amount"]),
        (&json!(183), &json!("32.50"))
    );
    assert_eq!(
        (&all[1]["parent_id"], &all[1]["amount"]),
        (&json!(177), &json!("5.00"))
    );
    let (_, headers, page) =
        call(&s, "GET", "/wp-json/wc/v3/refunds?per_page=1&page=2", None).await;
    assert_eq!(
        (
            headers["x-wp-totalpages"].to_str().unwrap(),
            page.as_array().unwrap().len()
        ),
        ("2", 1)
    );
    assert_eq!(
        keys(&page[0])[..2],
        ["id", "parent_id"],
        "parent_id right after id"
    );
    let (status, _, bad) = call(&s, "GET", "/wp-json/wc/v3/refunds?per_page=101", None).await;
    assert_eq!((status, &bad["code"]), (400, &json!("rest_invalid_param")));

    let (_, _, index) = call(&s, "GET", "/wp-json/wc/v3", None).await;
    for route in [
        "/wc/v3/refunds",
        "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds",
        "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/(?P<id>[\\d]+)",
    ] {
        assert!(index["routes"].get(route).is_some(), "{route}");
    }
    s.set_wc_version(WcVersion::new(8, 9, 3));
    let (status, _, body) = call(&s, "GET", "/wp-json/wc/v3/refunds", None).await;
    assert_eq!((status, &body["code"]), (404, &json!("rest_no_route")));
}

#[tokio::test]
async fn refusals_carry_woocommerces_codes() {
    let s = sandbox().await;
    let post = |body: Value| {
        let s = &s;
        async move { call(s, "POST", "/wp-json/wc/v3/orders/176/refunds", Some(body)).await }
    };
    let (status, _, body) = post(json!({"amount": "1.00"})).await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"code": "woocommerce_rest_cannot_create_order_refund",
                   "message": "The payment gateway for this order does not support automatic refunds.",
                   "data": {"status": 500}})
        )
    );
    let (status, _, body) = post(json!({"amount": 1})).await;
    assert_eq!(
        (status, &body["data"]["params"]["amount"]),
        (400, &json!("amount is not of type string."))
    );
    let (status, _, body) = post(json!({"amount": "-1", "api_refund": false})).await;
    assert_eq!(
        (status, &body["code"]),
        (400, &json!("woocommerce_rest_invalid_order_refund"))
    );
    let (status, _, body) = post(json!({"id": 5})).await;
    assert_eq!(
        (status, &body["code"]),
        (400, &json!("woocommerce_rest_shop_order_refund_exists"))
    );
    let (status, _, body) = call(
        &s,
        "POST",
        "/wp-json/wc/v3/orders/999999/refunds",
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (404, &json!("woocommerce_rest_invalid_order_id"))
    );
    let (status, _, body) = call(&s, "GET", "/wp-json/wc/v3/orders/176/refunds/184", None).await;
    assert_eq!(
        (status, &body["code"]),
        (404, &json!("woocommerce_rest_invalid_order_refund_id"))
    );
    let (status, _, body) = call(&s, "GET", "/wp-json/wc/v3/orders/183/refunds/11", None).await;
    assert_eq!(
        (status, &body["code"]),
        (404, &json!("woocommerce_rest_shop_order_refund_invalid_id"))
    );
    let (status, _, body) = call(&s, "GET", "/wp-json/wc/v3/orders/999999/refunds", None).await;
    assert_eq!((status, body), (200, json!([])));
    assert!(s.store().order(176).unwrap().refunds.is_empty());
    assert_eq!(s.store().stock(13), Some(2));
}

#[tokio::test]
async fn deleting_a_refund_leaves_stock_and_status() {
    let s = sandbox().await;
    let path = "/wp-json/wc/v3/orders/183/refunds/184";
    let (status, _, body) = call(&s, "DELETE", &format!("{path}?force=false"), None).await;
    assert_eq!(
        (status, &body["code"]),
        (501, &json!("woocommerce_rest_trash_not_supported"))
    );
    let (status, _, body) = call(&s, "DELETE", path, None).await;
    assert_eq!((status, &body["id"]), (200, &json!(184)));
    let order = s.store().order(183).unwrap();
    assert!(order.refunds.is_empty());
    assert_eq!(order.status, "refunded");
    let (status, _, _) = call(&s, "GET", path, None).await;
    assert_eq!(status, 404);
}
