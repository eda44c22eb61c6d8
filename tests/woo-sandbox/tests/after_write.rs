//! Faults that strike after the write landed, over HTTP: the store has the
//! note, stock or tracking while the client sees a 502, a dropped
//! connection or no answer before its timeout — what an exactly-once
//! client has to cope with. Rules are set through `PUT /__sandbox/faults`
//! as a test would, limited with `times` and `methods`.

use std::time::Duration;

mod common;

use common::{sandbox, send};
use serde_json::{Value, json};
use woo_sandbox::RunningSandbox;

/// One request with the test key; `Err` when the connection ends without
/// an answer.
async fn call(
    s: &RunningSandbox,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, String), hyper_util::client::legacy::Error> {
    let (status, _, bytes) = send(s, method, path, body).await?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

async fn set_faults(s: &RunningSandbox, rules: Value) {
    let (status, body) = call(s, "PUT", "/__sandbox/faults", Some(rules))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
}

async fn faults(s: &RunningSandbox) -> Value {
    let (_, body) = call(s, "GET", "/__sandbox/faults", None).await.unwrap();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_note_lands_but_its_answer_is_a_502_once() {
    let s = sandbox().await;
    let notes = "/wp-json/wc/v3/orders/176/notes";
    set_faults(
        &s,
        json!({"prefix": notes, "methods": ["POST"], "error_after_write_rate": 1,
               "error_status": 502, "times": 1}),
    )
    .await;

    assert_eq!(
        call(&s, "GET", notes, None).await.unwrap().0,
        200,
        "reads pass"
    );
    let (status, _) = call(&s, "POST", notes, Some(json!({"customer_note": true})))
        .await
        .unwrap();
    assert_eq!(status, 400, "a refused write has its real answer");
    assert_eq!(
        faults(&s).await[0]["times"],
        1,
        "and leaves the rule unused"
    );

    let (status, body) = call(&s, "POST", notes, Some(json!({"note": "Shipped"})))
        .await
        .unwrap();
    assert_eq!(status, 502);
    assert!(body.contains("<h1>502</h1>"), "{body}");
    let landed = |text: &str| {
        s.store()
            .notes(176)
            .iter()
            .filter(|n| n.note == text)
            .count()
    };
    assert_eq!(landed("Shipped"), 1, "the note landed");
    assert_eq!(faults(&s).await[0]["times"], 0, "spent");

    let (status, _) = call(&s, "POST", notes, Some(json!({"note": "Shipped"})))
        .await
        .unwrap();
    assert_eq!(status, 201, "once only");
    assert_eq!(landed("Shipped"), 2, "a blind retry writes it twice");
}

#[tokio::test]
async fn a_stock_write_lands_but_the_connection_drops() {
    let s = sandbox().await;
    set_faults(
        &s,
        json!([{"prefix": "/wp-json/wc/v3/products/11", "methods": ["PUT"],
                "lost_response_rate": 1, "times": 1}]),
    )
    .await;
    let put = |qty: i64| {
        call(
            &s,
            "PUT",
            "/wp-json/wc/v3/products/11",
            Some(json!({"stock_quantity": qty})),
        )
    };
    assert!(put(5).await.is_err(), "no answer");
    assert_eq!(s.store().stock(11), Some(5), "the write landed");
    assert_eq!(put(6).await.unwrap().0, 200);
    assert_eq!(s.store().stock(11), Some(6));
}

#[tokio::test]
async fn a_tracking_lands_but_the_answer_comes_after_the_client_gave_up() {
    let s = sandbox().await;
    let route = "/wp-json/wc-shipment-tracking/v3/orders/176/shipment-trackings";
    set_faults(
        &s,
        json!({"prefix": route, "timeout_after_write_ms": 3000, "times": 1}),
    )
    .await;
    let post = || {
        call(
            &s,
            "POST",
            route,
            Some(json!({"tracking_provider": "UPS", "tracking_number": "1Z999"})),
        )
    };
    let gave_up = tokio::time::timeout(Duration::from_millis(300), post()).await;
    assert!(gave_up.is_err(), "the client's timeout fired first");
    assert_eq!(s.store().trackings(176).len(), 1, "the tracking landed");

    let (status, body) = tokio::time::timeout(Duration::from_millis(2000), post())
        .await
        .expect("only the first answer is held")
        .unwrap();
    assert_eq!(status, 201, "{body}");
    let ids: Vec<String> = s
        .store()
        .trackings(176)
        .into_iter()
        .map(|t| t.tracking_id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "a retry is a second tracking");
}

#[tokio::test]
async fn bad_rules_are_refused() {
    let s = sandbox().await;
    for rule in [
        json!({"error_status": 404}),
        json!({"lost_response_rate": 1.5}),
        json!({"times": -1}),
    ] {
        let (status, body) = call(&s, "PUT", "/__sandbox/faults", Some(rule))
            .await
            .unwrap();
        assert_eq!(status, 400, "{body}");
    }
}
