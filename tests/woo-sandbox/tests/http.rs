//! The sandbox over HTTP: faults set at runtime (handle and control route),
//! request counts, the plain-permalink form, Basic auth behind TLS, writes
//! visible through the store handle, and the blocking handle.

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use woo_sandbox::oauth::{Consumer, SignatureMethod, sign_query};
use woo_sandbox::{FaultRule, RunningSandbox, Sandbox, Seed};

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

#[tokio::test]
async fn basic_auth_only_behind_tls() {
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
    );
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
