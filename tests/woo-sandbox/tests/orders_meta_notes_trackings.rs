//! Order meta, notes and Shipment Tracking over HTTP, as WooCommerce 10.x
//! and the Shipment Tracking extension answer them: meta written by key or
//! id with arrays kept, notes newest first, and trackings living in the
//! order meta `_wc_shipment_tracking_items` that the extension's routes read
//! and write.

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use woo_sandbox::{ManualClock, RunningSandbox, Sandbox, Seed};

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

const TRACKINGS: &str = "/wp-json/wc-shipment-tracking/v3/orders/176/shipment-trackings";

async fn sandbox(tracking: bool) -> RunningSandbox {
    Sandbox::builder()
        .consumer("ck_t", "cs_t")
        .behind_tls(true)
        .clock(ManualClock::new("2026-11-30T12:00:00Z".parse().unwrap()))
        .shipment_tracking(tracking)
        .seed(Seed::quickstart())
        .start()
        .await
        .unwrap()
}

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: Value,
}

/// One request, with the test key unless `anonymous`.
async fn send(
    s: &RunningSandbox,
    method: &str,
    path: &str,
    body: Option<Value>,
    anonymous: bool,
) -> Answer {
    use base64::Engine as _;
    let c: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.url()))
        .header("content-type", "application/json");
    if !anonymous {
        let auth = base64::engine::general_purpose::STANDARD.encode("ck_t:cs_t");
        req = req.header("authorization", format!("Basic {auth}"));
    }
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let resp = c
        .request(req.body(Full::new(bytes::Bytes::from(payload))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn call(s: &RunningSandbox, method: &str, path: &str, body: Option<Value>) -> Answer {
    send(s, method, path, body, false).await
}

fn meta<'a>(order: &'a Value, key: &str) -> Option<&'a Value> {
    order["meta_data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == key)
}

#[tokio::test]
async fn order_meta_is_written_by_key_or_id_and_moves_date_modified() {
    let s = sandbox(true).await;
    s.advance_clock(3600);
    let put = |body: Value| call(&s, "PUT", "/wp-json/wc/v3/orders/177", Some(body));
    let a = put(json!({"meta_data": [
        {"key": "_picking", "value": {"boxes": [1, 2], "by": "rig", "done": false}},
        {"key": "n", "value": 5},
        {"key": "empty", "value": {}}
    ]}))
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["date_modified_gmt"], "2026-11-30T13:00:00");
    let picking = meta(&a.body, "_picking").unwrap().clone();
    assert_eq!(
        picking["value"],
        json!({"boxes": [1, 2], "by": "rig", "done": false}),
        "arrays and objects are kept"
    );
    assert_eq!(
        meta(&a.body, "n").unwrap()["value"],
        "5",
        "scalars come back as strings"
    );
    assert_eq!(
        meta(&a.body, "empty").unwrap()["value"],
        json!([]),
        "PHP's empty array"
    );
    let n_id = meta(&a.body, "n").unwrap()["id"].clone();

    s.advance_clock(60);
    let b = put(json!({"meta_data": [
        {"key": "_picking", "value": {"boxes": [3]}},
        {"id": n_id, "key": "n", "value": "6"}
    ]}))
    .await;
    assert_eq!(b.body["date_modified_gmt"], "2026-11-30T13:01:00");
    let picking_now = meta(&b.body, "_picking").unwrap();
    assert_eq!(
        (&picking_now["id"], &picking_now["value"]),
        (&picking["id"], &json!({"boxes": [3]})),
        "updated in place"
    );
    assert_eq!(meta(&b.body, "n").unwrap()["value"], "6");

    let c = put(json!({"meta_data": [{"key": "n", "value": null}, {"key": "empty"}]})).await;
    assert!(
        meta(&c.body, "n").is_none() && meta(&c.body, "empty").is_none(),
        "null deletes"
    );
    let got = call(&s, "GET", "/wp-json/wc/v3/orders/177", None).await;
    assert_eq!(got.body["meta_data"], c.body["meta_data"]);
}

#[tokio::test]
async fn notes_list_newest_first_and_by_type() {
    let s = sandbox(true).await;
    let notes = "/wp-json/wc/v3/orders/176/notes";
    let post = |note: &'static str, customer: bool| {
        call(
            &s,
            "POST",
            notes,
            Some(json!({"note": note, "customer_note": customer})),
        )
    };
    let first = post("Packed", false).await;
    assert_eq!(
        (first.status, &first.body["customer_note"]),
        (201, &json!(false))
    );
    let second = post("Your order is on its way!", true).await;
    assert_eq!(second.body["customer_note"], true);
    s.advance_clock(60);
    post("Delivered", false).await;

    let list = |q: &'static str| {
        call(
            &s,
            "GET",
            Box::leak(format!("{notes}{q}").into_boxed_str()),
            None,
        )
    };
    let texts = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| n["note"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = list("").await;
    assert_eq!(
        texts(&all.body)[..3],
        ["Delivered", "Packed", "Your order is on its way!"],
        "newest first; the same second in the order written (recorded 39)"
    );
    assert_eq!(
        texts(&list("?type=customer").await.body),
        ["Your order is on its way!"]
    );
    assert!(
        !texts(&list("?type=internal").await.body)
            .contains(&"Your order is on its way!".to_owned())
    );
    let bad = list("?type=Customer").await;
    assert_eq!(
        (bad.status, &bad.body["data"]["params"]["type"]),
        (
            400,
            &json!("type is not one of any, customer, and internal.")
        )
    );

    let missing = call(&s, "GET", "/wp-json/wc/v3/orders/999999/notes", None).await;
    assert_eq!(
        (
            missing.status,
            &missing.body["code"],
            &missing.body["message"]
        ),
        (
            404,
            &json!("woocommerce_rest_shop_order_invalid_id"),
            &json!("Invalid order ID.")
        )
    );
    let missing = call(
        &s,
        "POST",
        "/wp-json/wc/v3/orders/999999/notes",
        Some(json!({"note": "x"})),
    )
    .await;
    assert_eq!(missing.body["code"], "woocommerce_rest_order_invalid_id");
    let existing = call(&s, "POST", notes, Some(json!({"note": "x", "id": 5}))).await;
    assert_eq!(
        (existing.status, &existing.body["code"]),
        (400, &json!("woocommerce_rest_shop_order_exists"))
    );
}

#[tokio::test]
async fn trackings_written_into_the_meta_show_once_the_extension_is_on() {
    let s = sandbox(false).await;
    let off = call(&s, "GET", TRACKINGS, None).await;
    assert_eq!(
        (off.status, &off.body["code"]),
        (404, &json!("rest_no_route"))
    );

    let item = json!({"tracking_provider": "ups", "custom_tracking_provider": "",
        "custom_tracking_link": "", "tracking_number": "1Z999", "date_shipped": "1795651200",
        "tracking_id": "0123456789abcdef0123456789abcdef"});
    let put = call(
        &s,
        "PUT",
        "/wp-json/wc/v3/orders/176",
        Some(json!({"meta_data": [{"key": "_wc_shipment_tracking_items", "value": [item]}]})),
    )
    .await;
    assert_eq!(
        meta(&put.body, "_wc_shipment_tracking_items").unwrap()["value"],
        json!([item])
    );

    let on = call(
        &s,
        "PUT",
        "/__sandbox/features",
        Some(json!({"shipment_tracking": true})),
    )
    .await;
    assert_eq!(on.body["shipment_tracking"], true);
    let listed = call(&s, "GET", TRACKINGS, None).await;
    assert_eq!(listed.status, 200);
    let base = format!("{}{TRACKINGS}", s.home_url());
    assert_eq!(
        listed.body,
        json!([{
            "tracking_id": "0123456789abcdef0123456789abcdef",
            "tracking_provider": "UPS",
            "tracking_link": "https://www.ups.com/track?loc=en_US&tracknum=1Z999",
            "tracking_number": "1Z999",
            "date_shipped": "2026-11-26",
            "_links": {
                "self": [{"href": format!("{base}/0123456789abcdef0123456789abcdef"),
                          "targetHints": {"allow": ["GET", "DELETE"]}}],
                "collection": [{"href": base}],
                "up": [{"href": format!("{}/wp-json/wc-shipment-tracking/v3/orders/176", s.home_url())}],
            },
        }])
    );
    let one = call(
        &s,
        "GET",
        &format!("{TRACKINGS}/0123456789abcdef0123456789abcdef"),
        None,
    )
    .await;
    assert_eq!(one.body, listed.body[0]);
    assert_eq!(s.store().trackings(176)[0].tracking_number, "1Z999");
}

#[tokio::test]
async fn trackings_posted_through_the_route_land_in_the_order_meta() {
    let s = sandbox(true).await;
    let empty = call(&s, "GET", TRACKINGS, None).await;
    assert_eq!((empty.status, &empty.body), (200, &json!([])));

    s.advance_clock(600);
    let posted = call(
        &s,
        "POST",
        TRACKINGS,
        Some(json!({"tracking_provider": "USPS", "tracking_number": " 9400 1000 ", "date_shipped": "2026-11-27"})),
    )
    .await;
    assert_eq!(posted.status, 201);
    let id = posted.body["tracking_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(
        (
            &posted.body["tracking_provider"],
            &posted.body["tracking_link"],
            &posted.body["tracking_number"],
            &posted.body["date_shipped"]
        ),
        (
            &json!("USPS"),
            &json!("https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=9400 1000"),
            &json!("9400 1000"),
            &json!("2026-11-27")
        )
    );
    let digits: String = id.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(
        posted.headers["location"].to_str().unwrap(),
        format!(
            "{}{TRACKINGS}/{}",
            s.home_url(),
            digits.parse::<u64>().unwrap_or(0)
        ),
        "create_item formats the md5 id with %d"
    );

    let order = call(&s, "GET", "/wp-json/wc/v3/orders/176", None).await;
    assert_eq!(
        order.body["date_modified_gmt"], "2026-11-30T12:10:00",
        "the order was saved"
    );
    assert_eq!(
        meta(&order.body, "_wc_shipment_tracking_items").unwrap()["value"],
        json!([{"tracking_provider": "usps", "custom_tracking_provider": "",
                "custom_tracking_link": "", "tracking_number": "9400 1000",
                "date_shipped": "1795737600", "tracking_id": id}]),
        "stored as the extension stores it: the slug, strtotime's seconds as a string"
    );

    let unknown = call(
        &s,
        "POST",
        TRACKINGS,
        Some(json!({"tracking_provider": "Acme Freight", "tracking_number": "A1", "date_shipped": "1795703730"})),
    )
    .await;
    assert_eq!(unknown.status, 201);
    assert_eq!(
        (
            &unknown.body["tracking_provider"],
            &unknown.body["tracking_link"]
        ),
        (&json!(""), &json!("")),
        "an unlisted provider without a custom name shows neither"
    );
    assert_eq!(
        unknown.body["date_shipped"], "2026-11-30",
        "strtotime does not read a bare unix timestamp: the extension records now"
    );
    let stored = s.store().read(|st| st.tracking_items(176));
    assert_eq!(stored[1]["tracking_provider"], "acme-freight");
    assert_eq!(stored[1]["date_shipped"], json!(s.now().as_second()));

    let custom = call(
        &s,
        "POST",
        TRACKINGS,
        Some(json!({"custom_tracking_provider": "Rig Post", "custom_tracking_link": "https://rig.example/t/%1$s",
                    "tracking_provider": "UPS", "tracking_number": "RIG123"})),
    )
    .await;
    assert_eq!(
        (
            &custom.body["tracking_provider"],
            &custom.body["tracking_link"]
        ),
        (&json!("Rig Post"), &json!("https://rig.example/t/RIG123")),
        "a custom name wins over a listed provider"
    );
    assert_eq!(s.store().trackings(176).len(), 3);

    let gone = call(&s, "DELETE", &format!("{TRACKINGS}/{id}"), None).await;
    assert_eq!(
        (gone.status, &gone.body["tracking_number"]),
        (200, &json!("9400 1000"))
    );
    let again = call(&s, "DELETE", &format!("{TRACKINGS}/{id}"), None).await;
    assert_eq!(
        (again.status, &again.body["code"], &again.body["message"]),
        (
            404,
            &json!("woocommerce_rest_order_shipment_tracking_invalid_id"),
            &json!("Invalid shipment tracking ID.")
        )
    );
    assert_eq!(s.store().trackings(176).len(), 2);
    let not_hex = call(&s, "GET", &format!("{TRACKINGS}/not-an-id"), None).await;
    assert_eq!(not_hex.body["code"], "rest_no_route");
}

#[tokio::test]
async fn tracking_route_errors_and_the_provider_list() {
    let s = sandbox(true).await;
    let missing = call(
        &s,
        "GET",
        "/wp-json/wc-shipment-tracking/v3/orders/999999/shipment-trackings",
        None,
    )
    .await;
    assert_eq!(
        (
            missing.status,
            &missing.body["code"],
            &missing.body["message"]
        ),
        (
            404,
            &json!("woocommerce_rest_order_invalid_id"),
            &json!("Invalid order ID.")
        )
    );
    let no_number = call(
        &s,
        "POST",
        TRACKINGS,
        Some(json!({"tracking_provider": "UPS"})),
    )
    .await;
    assert_eq!(
        (
            no_number.status,
            &no_number.body["message"],
            &no_number.body["data"]["params"]
        ),
        (
            400,
            &json!("Missing parameter(s): tracking_number"),
            &json!(["tracking_number"])
        )
    );
    let typed = call(
        &s,
        "POST",
        TRACKINGS,
        Some(json!({"tracking_provider": 5, "tracking_number": "1"})),
    )
    .await;
    assert_eq!(
        typed.body["data"]["params"]["tracking_provider"],
        "tracking_provider is not of type string."
    );
    let existing = call(
        &s,
        "POST",
        TRACKINGS,
        Some(json!({"tracking_number": "1", "tracking_id": "abc"})),
    )
    .await;
    assert_eq!(
        (existing.status, &existing.body["code"]),
        (
            400,
            &json!("woocommerce_rest_shop_order_shipment_tracking_exists")
        )
    );
    let anonymous = send(&s, "GET", TRACKINGS, None, true).await;
    assert_eq!(
        (anonymous.status, &anonymous.body["code"]),
        (401, &json!("woocommerce_rest_cannot_view"))
    );
    assert!(
        s.store().trackings(176).is_empty(),
        "nothing refused was written"
    );

    for path in [
        "/wp-json/wc-shipment-tracking/v3/shipment-trackings/providers",
        "/wp-json/wc-shipment-tracking/v3/orders/1/shipment-trackings/providers",
    ] {
        let p = send(&s, "GET", path, None, true).await;
        assert_eq!(p.status, 200, "no permission check: {path}");
        assert_eq!(
            p.body["United States"]["UPS"],
            "https://www.ups.com/track?loc=en_US&tracknum=%1$s"
        );
        assert_eq!(
            p.body["United Kingdom"]["DPD Local"],
            "https://apis.track.dpdlocal.co.uk/v1/track?postcode=%2$s&parcel=%1$s"
        );
    }
}

/// `orders/batch` as `batch_items` runs it: each update is a `PUT
/// /orders/{id}` (meta by key, then the status), an unknown id is refused in
/// its slot under a 200 while the others land, and more than 100 items are
/// refused whole.
#[tokio::test]
async fn orders_batch_updates_each_order_and_refuses_an_unknown_one_in_its_slot() {
    let s = sandbox(true).await;
    let answer = call(
        &s,
        "POST",
        "/wp-json/wc/v3/orders/batch",
        Some(json!({"update": [
            {"id": 176, "meta_data": [{"key": "_intellitrack_picked", "value": {"9001": 2}}],
             "status": "completed"},
            {"id": 999999, "status": "completed"},
        ]})),
    )
    .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    let items = answer.body["update"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{:#}", answer.body);
    assert_eq!(items[0]["id"], 176);
    assert_eq!(items[0]["status"], "completed");
    assert_eq!(
        items[1],
        json!({"id": 999999, "error": {"code": "woocommerce_rest_shop_order_invalid_id",
            "message": "Invalid ID.", "data": {"status": 400}}})
    );
    let order = call(&s, "GET", "/wp-json/wc/v3/orders/176", None)
        .await
        .body;
    assert_eq!(order["status"], "completed");
    assert_eq!(
        meta(&order, "_intellitrack_picked").map(|m| &m["value"]),
        Some(&json!({"9001": 2}))
    );

    let too_many: Vec<Value> = (0..101).map(|_| json!({"id": 176})).collect();
    let refused = call(
        &s,
        "POST",
        "/wp-json/wc/v3/orders/batch",
        Some(json!({ "update": too_many })),
    )
    .await;
    assert_eq!(refused.status, 413, "{:#}", refused.body);
    assert_eq!(
        refused.body["code"],
        "woocommerce_rest_request_entity_too_large"
    );
}
