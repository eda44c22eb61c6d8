//! The sandbox over HTTP: faults set at runtime (handle and control route),
//! request counts, the plain-permalink form, Basic auth behind TLS, writes
//! visible through the store handle, the blocking handle, deletes, order
//! creation, the version-gated `/variations` route and the clock control.

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use woo_sandbox::oauth::{Consumer, SignatureMethod, sign_query};
use woo_sandbox::{FaultRule, ManualClock, RunningSandbox, Sandbox, Seed, WcVersion};

const KEY: &str = "ck_test";
const SECRET: &str = "cs_test";

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn call(
    c: &HttpClient,
    method: &str,
    url: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, hyper::HeaderMap, String), hyper_util::client::legacy::Error> {
    let mut b = hyper::Request::builder().method(method).uri(url);
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let payload = body.map(|v| v.to_string()).unwrap_or_default();
    let resp = c
        .request(b.body(Full::new(bytes::Bytes::from(payload))).unwrap())
        .await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    Ok((status, headers, text))
}

fn signed_url(
    s: &RunningSandbox,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    nonce: &str,
) -> String {
    let consumer = Consumer {
        key: KEY,
        secret: SECRET,
        method: SignatureMethod::HmacSha1,
    };
    let q = sign_query(
        method,
        &format!("{}{path}", s.home_url()),
        params,
        &consumer,
        jiff::Timestamp::now().as_second(),
        nonce,
    );
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(q)
        .finish();
    format!("{}{path}?{query}", s.url())
}

async fn sandbox() -> RunningSandbox {
    Sandbox::builder()
        .consumer(KEY, SECRET)
        .seed(Seed::quickstart())
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn oauth_write_is_visible_in_the_store_and_counted() {
    let s = sandbox().await;
    let c = client();
    let id = s.store().product_by_sku("RIG-SIMPLE-1").unwrap().id;
    let path = format!("/wp-json/wc/v3/products/{id}");
    let url = signed_url(&s, "PUT", &path, &[], "n-put");
    let (status, _, body) = call(&c, "PUT", &url, None, Some(json!({ "stock_quantity": 5 })))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.store().stock(id), Some(5));
    let url = signed_url(&s, "POST", "/wp-json/wc/v3/orders/176/notes", &[], "n-note");
    let (status, _, _) = call(
        &c,
        "POST",
        &url,
        None,
        Some(json!({ "note": "Shipped", "customer_note": true })),
    )
    .await
    .unwrap();
    assert_eq!(status, 201);
    assert!(
        s.store()
            .notes(176)
            .iter()
            .any(|n| n.note == "Shipped" && n.customer_note)
    );
    let url = signed_url(
        &s,
        "POST",
        "/wp-json/wc-shipment-tracking/v3/orders/176/shipment-trackings",
        &[],
        "n-trk",
    );
    let (status, _, _) = call(
        &c,
        "POST",
        &url,
        None,
        Some(json!({ "tracking_provider": "UPS", "tracking_number": "1Z9" })),
    )
    .await
    .unwrap();
    assert_eq!(status, 201);
    assert_eq!(s.store().trackings(176)[0].tracking_number, "1Z9");
    assert_eq!(s.count("PUT /wc/v3/products/{id}"), 1);
    assert_eq!(s.count("POST /wc/v3/orders/{id}/notes"), 1);
    let (_, _, stats) = call(
        &c,
        "GET",
        &format!("{}/__sandbox/stats", s.url()),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stats).unwrap()["PUT /wc/v3/products/{id}"],
        1
    );
}

#[tokio::test]
async fn faults_set_through_the_handle_and_the_control_route() {
    let s = sandbox().await;
    let c = client();
    s.set_faults(vec![FaultRule {
        rate_limit_rate: 1.0,
        retry_after_secs: 7,
        ..FaultRule::default()
    }]);
    let url = signed_url(&s, "GET", "/wp-json/wc/v3/products", &[], "f1");
    let (status, headers, _) = call(&c, "GET", &url, None, None).await.unwrap();
    assert_eq!(
        (status, headers["retry-after"].to_str().unwrap()),
        (429, "7")
    );

    let rule = json!({ "prefix": "/wp-json/wc/v3/orders", "drop_rate": 1.0 });
    let (status, _, _) = call(
        &c,
        "PUT",
        &format!("{}/__sandbox/faults", s.url()),
        None,
        Some(rule),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let url = signed_url(&s, "GET", "/wp-json/wc/v3/orders", &[], "f2");
    assert!(
        call(&c, "GET", &url, None, None).await.is_err(),
        "connection should drop"
    );
    let url = signed_url(&s, "GET", "/wp-json/wc/v3/products", &[], "f3");
    assert_eq!(
        call(&c, "GET", &url, None, None).await.unwrap().0,
        200,
        "prefix limits the fault"
    );

    s.set_faults(vec![FaultRule {
        truncate_rate: 1.0,
        ..FaultRule::default()
    }]);
    let url = signed_url(&s, "GET", "/wp-json/wc/v3/products", &[], "f4");
    let (_, _, body) = call(&c, "GET", &url, None, None).await.unwrap();
    assert!(serde_json::from_str::<Value>(&body).is_err());
    assert_eq!(
        s.count("GET /wc/v3/orders"),
        1,
        "faulted requests are counted"
    );
}

#[tokio::test]
async fn plain_permalinks_and_paging_headers() {
    let s = sandbox().await;
    let c = client();
    let url = signed_url(
        &s,
        "GET",
        "/",
        &[("rest_route", "/wc/v3/products"), ("per_page", "5")],
        "p1",
    );
    let (status, headers, body) = call(&c, "GET", &url, None, None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let total: usize = headers["x-wp-total"].to_str().unwrap().parse().unwrap();
    assert_eq!(
        headers["x-wp-totalpages"].to_str().unwrap(),
        total.div_ceil(5).to_string()
    );
    assert!(
        headers["link"]
            .to_str()
            .unwrap()
            .contains("?rest_route=%2Fwc%2Fv3%2Fproducts")
    );
    let (status, _, body) = call(
        &c,
        "GET",
        &format!("{}/?rest_route=/wc/v3/products/11", s.url()),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["message"],
        "Sorry, you cannot view this resource."
    );
}

fn basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
    )
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn basic_auth_only_behind_tls() {
    let basic = basic();
    let plain = sandbox().await;
    let proxied = Sandbox::builder()
        .consumer(KEY, SECRET)
        .behind_tls(true)
        .start()
        .await
        .unwrap();
    let c = client();
    let (status, _, _) = call(
        &c,
        "GET",
        &format!("{}/wp-json/wc/v3/products", plain.url()),
        Some(&basic),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 401);
    let (status, _, _) = call(
        &c,
        "GET",
        &format!("{}/wp-json/wc/v3/products", proxied.url()),
        Some(&basic),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
}

#[test]
fn blocking_handle_serves_synchronous_tests() {
    let s = Sandbox::builder()
        .consumer(KEY, SECRET)
        .seed(Seed::quickstart())
        .start_blocking()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, _, _) = rt
        .block_on(call(
            &client_in(&rt),
            "GET",
            &format!("{}/wp-json/wc/v3", s.url()),
            None,
            None,
        ))
        .unwrap();
    assert_eq!(status, 200);
    assert!(s.store().order(176).is_some());
}

fn client_in(rt: &tokio::runtime::Runtime) -> HttpClient {
    let _guard = rt.enter();
    client()
}

#[tokio::test]
async fn deletes_trash_then_remove_as_woocommerce_does() {
    let s = sandbox().await;
    let c = client();
    let path = "/wp-json/wc/v3/products/11";
    let url = signed_url(&s, "DELETE", path, &[], "d1");
    let (status, _, body) = call(&c, "DELETE", &url, None, None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["status"], "publish", "the product as it was");
    let url = signed_url(&s, "GET", path, &[], "d2");
    let (status, _, body) = call(&c, "GET", &url, None, None).await.unwrap();
    assert_eq!(
        (status, json_of(&body)["status"].clone()),
        (200, json!("trash"))
    );
    let url = signed_url(&s, "DELETE", path, &[], "d3");
    let (status, _, body) = call(&c, "DELETE", &url, None, None).await.unwrap();
    assert_eq!(status, 410);
    assert_eq!(
        json_of(&body),
        json!({"code": "woocommerce_rest_already_trashed", "message": "The product has already been deleted.", "data": {"status": 410}})
    );
    let url = signed_url(&s, "DELETE", path, &[("force", "true")], "d4");
    assert_eq!(call(&c, "DELETE", &url, None, None).await.unwrap().0, 200);
    let url = signed_url(&s, "GET", path, &[], "d5");
    let (status, _, body) = call(&c, "GET", &url, None, None).await.unwrap();
    assert_eq!(
        (status, json_of(&body)["code"].clone()),
        (404, json!("woocommerce_rest_product_invalid_id"))
    );

    let vpath = "/wp-json/wc/v3/products/12/variations/14";
    let url = signed_url(&s, "DELETE", vpath, &[("force", "maybe")], "d6");
    let (status, _, body) = call(&c, "DELETE", &url, None, None).await.unwrap();
    assert_eq!(
        (status, json_of(&body)["code"].clone()),
        (400, json!("rest_invalid_param"))
    );
    let url = signed_url(&s, "DELETE", vpath, &[], "d7");
    assert_eq!(call(&c, "DELETE", &url, None, None).await.unwrap().0, 200);
    assert_eq!(s.store().product(14).unwrap().status, "trash");

    let url = signed_url(&s, "DELETE", "/wp-json/wc/v3/orders/175", &[], "d8");
    assert_eq!(call(&c, "DELETE", &url, None, None).await.unwrap().0, 200);
    let url = signed_url(
        &s,
        "GET",
        "/wp-json/wc/v3/orders",
        &[("status", "trash")],
        "d9",
    );
    let (_, headers, body) = call(&c, "GET", &url, None, None).await.unwrap();
    assert_eq!(headers["x-wp-total"], "1");
    assert_eq!(json_of(&body)[0]["id"], 175);

    let (status, _, body) = call(
        &c,
        "DELETE",
        &format!("{}/wp-json/wc/v3/products/16", s.url()),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (status, json_of(&body)["code"].clone()),
        (401, json!("woocommerce_rest_cannot_delete"))
    );
}

#[tokio::test]
async fn orders_created_over_http_take_their_stock() {
    let s = sandbox().await;
    let c = client();
    let url = signed_url(&s, "POST", "/wp-json/wc/v3/orders", &[], "o1");
    let order = json!({
        "status": "processing",
        "billing": {"first_name": "Ann", "email": "ann@example.test"},
        "line_items": [{"product_id": 11, "quantity": 2}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}]
    });
    let (status, headers, body) = call(&c, "POST", &url, None, Some(order)).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let o = json_of(&body);
    let id = o["id"].as_u64().unwrap();
    assert_eq!(
        headers["location"].to_str().unwrap(),
        format!("{}/wp-json/wc/v3/orders/{id}", s.home_url())
    );
    assert_eq!(
        (o["number"].clone(), o["total"].clone()),
        (json!(id.to_string()), json!("40.00"))
    );
    assert_eq!(
        o["line_items"][0]["meta_data"][0],
        json!({"id": o["line_items"][0]["meta_data"][0]["id"], "key": "_reduced_stock", "value": "2", "display_key": "_reduced_stock", "display_value": "2"})
    );
    assert_eq!(s.store().stock(11), Some(19));
    let url = signed_url(&s, "PUT", &format!("/wp-json/wc/v3/orders/{id}"), &[], "o2");
    let (status, _, _) = call(&c, "PUT", &url, None, Some(json!({"status": "cancelled"})))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(s.store().stock(11), Some(21));
}

#[tokio::test]
async fn the_variations_route_arrives_with_woocommerce_10_3() {
    let s = sandbox().await;
    let c = client();
    let get = |nonce: &'static str,
               path: &'static str,
               params: &'static [(&'static str, &'static str)]| {
        let url = signed_url(&s, "GET", path, params, nonce);
        let c = c.clone();
        async move { call(&c, "GET", &url, None, None).await.unwrap() }
    };
    let (status, _, body) = get("v1", "/wp-json/wc/v3/variations", &[]).await;
    assert_eq!(
        (status, json_of(&body)["code"].clone()),
        (404, json!("rest_no_route"))
    );

    s.set_wc_version(WcVersion::new(10, 3, 0));
    let fields = &[
        ("_fields", "id,parent_id"),
        ("orderby", "id"),
        ("order", "asc"),
    ];
    let (status, headers, body) = get("v2", "/wp-json/wc/v3/variations", fields).await;
    assert_eq!(
        (status, headers["x-wp-total"].to_str().unwrap()),
        (200, "3"),
        "{body}"
    );
    let listed = json_of(&body);
    assert_eq!(listed[0]["id"], 13);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["parent_id"] == 12)
    );
    let (_, _, body) = get(
        "v3",
        "/wp-json/wc/v3/system_status",
        &[("_fields", "environment")],
    )
    .await;
    assert_eq!(json_of(&body)["environment"]["version"], "10.3.0");

    let features = format!("{}/__sandbox/features", s.url());
    let (status, _, body) = call(
        &c,
        "PUT",
        &features,
        None,
        Some(json!({"wc_version": "10.0.2"})),
    )
    .await
    .unwrap();
    assert_eq!(
        (status, json_of(&body)["wc_version"].clone()),
        (200, json!("10.0.2"))
    );
    assert_eq!(get("v4", "/wp-json/wc/v3/variations", &[]).await.0, 404);
    let (status, _, _) = call(
        &c,
        "PUT",
        &features,
        None,
        Some(json!({"wc_version": "ten"})),
    )
    .await
    .unwrap();
    assert_eq!(status, 400);

    let built = Sandbox::builder()
        .consumer(KEY, SECRET)
        .wc_version("10.3.1".parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(built.wc_version().to_string(), "10.3.1");
}

#[tokio::test]
async fn the_clock_control_moves_date_modified_in_whole_seconds() {
    let clock = ManualClock::new("2030-01-01T10:00:00.700Z".parse().unwrap());
    let s = Sandbox::builder()
        .consumer(KEY, SECRET)
        .behind_tls(true)
        .clock(clock.clone())
        .seed(Seed::quickstart())
        .start()
        .await
        .unwrap();
    let c = client();
    let auth = basic();
    let put = |id: u64, qty: i64| {
        let (c, auth, url) = (
            c.clone(),
            auth.clone(),
            format!("{}/wp-json/wc/v3/products/{id}", s.url()),
        );
        async move {
            let (status, _, body) = call(
                &c,
                "PUT",
                &url,
                Some(&auth),
                Some(json!({"stock_quantity": qty})),
            )
            .await
            .unwrap();
            assert_eq!(status, 200, "{body}");
            json_of(&body)["date_modified_gmt"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = put(11, 5).await;
    clock.advance(jiff::SignedDuration::from_millis(200));
    let second = put(16, 5).await;
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("2030-01-01T10:00:00", "2030-01-01T10:00:00")
    );
    let listed = format!(
        "{}/wp-json/wc/v3/products?modified_after=2030-01-01T10:00:00&dates_are_gmt=true",
        s.url()
    );
    let (_, headers, _) = call(&c, "GET", &listed, Some(&auth), None).await.unwrap();
    assert_eq!(
        headers["x-wp-total"], "0",
        "second resolution, as WordPress stores dates"
    );

    let control = format!("{}/__sandbox/clock", s.url());
    let (status, _, body) = call(&c, "PUT", &control, None, Some(json!({"advance_secs": 90})))
        .await
        .unwrap();
    assert_eq!(
        (status, json_of(&body)),
        (
            200,
            json!({"now": "2030-01-01T10:01:30Z", "offset_secs": 90})
        )
    );
    assert_eq!(put(11, 6).await, "2030-01-01T10:01:30");
    let (_, headers, body) = call(&c, "GET", &listed, Some(&auth), None).await.unwrap();
    assert_eq!(headers["x-wp-total"], "1");
    assert_eq!(json_of(&body)[0]["id"], 11);
    let (status, _, _) = call(&c, "DELETE", &control, None, None).await.unwrap();
    assert_eq!(status, 204);
    assert_eq!(s.now().to_string(), "2030-01-01T10:00:00Z");
    s.advance_clock(5);
    assert_eq!(s.now().to_string(), "2030-01-01T10:00:05Z");
}
