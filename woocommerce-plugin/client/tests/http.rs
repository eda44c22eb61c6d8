//! The client against a local WooCommerce look-alike: paging, auth on the
//! wire, retries under each kind of fault, batches, the connection check and
//! the secret never leaking.

mod fake_store;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fake_store::{FakeStore, Fault, KEY, SECRET, order};
use woo_client::connection::Severity;
use woo_client::error::TransportKind;
use woo_client::model::{BatchItem, NoteVisibility, StockUpdate};
use woo_client::{AuthMode, ClientConfig, Concurrency, Error, RetryPolicy, Scope, WooClient};

fn config(url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(url, KEY, SECRET);
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    };
    config
}

fn client(store: &FakeStore) -> WooClient {
    WooClient::new(config(&store.url)).unwrap()
}

fn assert_secret_hidden(error: &Error) {
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
        assert!(!text.contains("very_secret"), "secret leaked: {text}");
    }
}

#[tokio::test]
async fn a_full_listing_fetches_every_page_concurrently_in_id_order() {
    let store = FakeStore::start().await.with_products(1050);
    *store.state.delay.lock().unwrap() = Duration::from_millis(40);
    // A fixed ceiling of 4: the pages go out at most 4 at a time.
    let mut config = config(&store.url);
    config.concurrency = Concurrency::AtMost(4);
    let listing = WooClient::new(config)
        .unwrap()
        .list_products(Scope::Full)
        .await
        .unwrap();

    let ids: Vec<u64> = listing.records.iter().map(|p| p.id).collect();
    assert_eq!(ids, (1..=1050).collect::<Vec<_>>());
    assert!(listing.skipped.is_empty());
    assert_eq!(listing.total, Some(1050));
    assert_eq!(listing.pages, 11);

    let seen = store.seen();
    assert_eq!(seen.len(), 11, "one request per page");
    let max = store.state.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&max), "{max} requests at once");
    for request in &seen {
        assert_eq!(request.path, "/wp-json/wc/v3/products");
        assert_eq!(request.param("orderby"), Some("id"));
        assert_eq!(request.param("order"), Some("asc"));
        assert_eq!(request.param("per_page"), Some("100"));
        assert!(request.param("_fields").unwrap().contains("stock_quantity"));
    }
    let mut pages: Vec<u32> = seen
        .iter()
        .map(|r| r.param("page").unwrap().parse().unwrap())
        .collect();
    pages.sort();
    assert_eq!(pages, (1..=11).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_link_header_is_never_followed_and_each_page_is_signed_afresh() {
    let store = FakeStore::start().await.with_products(250);
    let listing = client(&store).list_products(Scope::Full).await.unwrap();
    assert_eq!(listing.records.len(), 250);
    let seen = store.seen();
    assert!(seen.iter().all(|r| r.path != "/link-followed"));
    let nonces: std::collections::HashSet<&str> = seen
        .iter()
        .map(|r| r.param("oauth_nonce").unwrap())
        .collect();
    assert_eq!(nonces.len(), seen.len(), "a fresh nonce for every page");
    for request in &seen {
        assert_eq!(request.param("oauth_consumer_key"), Some(KEY));
        assert_eq!(request.param("oauth_signature_method"), Some("HMAC-SHA256"));
        let unsigned: Vec<(String, String)> = request
            .query
            .iter()
            .filter(|(k, _)| k != "oauth_signature")
            .cloned()
            .collect();
        let expected = woo_client::oauth::signature(
            "GET",
            &format!("{}{}", store.url, request.path),
            &unsigned,
            SECRET,
        );
        assert_eq!(request.param("oauth_signature"), Some(expected.as_str()));
        assert!(request.authorization.is_none());
    }
}

#[tokio::test]
async fn concurrency_is_a_setting() {
    let store = FakeStore::start().await.with_products(800);
    *store.state.delay.lock().unwrap() = Duration::from_millis(30);
    let mut cfg = config(&store.url);
    cfg.concurrency = woo_client::Concurrency::AtMost(1);
    WooClient::new(cfg)
        .unwrap()
        .list_products(Scope::Full)
        .await
        .unwrap();
    assert_eq!(store.state.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn every_clone_of_a_client_shares_one_limit() {
    let store = FakeStore::start().await.with_products(800);
    *store.state.delay.lock().unwrap() = Duration::from_millis(30);
    let mut cfg = config(&store.url);
    cfg.concurrency = woo_client::Concurrency::AtMost(3);
    let client = WooClient::new(cfg).unwrap();
    let watch = client.limiter().watch();
    let (first, second) = (client.clone(), client.clone());
    let (a, b, c) = tokio::join!(
        first.list_products(Scope::Full),
        second.list_products(Scope::Full),
        client.list_products(Scope::Full),
    );
    for listing in [a, b, c] {
        assert_eq!(listing.unwrap().records.len(), 800);
    }
    assert_eq!(store.state.max_in_flight.load(Ordering::SeqCst), 3);
    assert_eq!(watch.usage().most_in_flight, 3);
}

#[tokio::test]
async fn incremental_order_listings_ask_by_modification_in_gmt_for_the_chosen_statuses() {
    let store = FakeStore::start().await;
    *store.state.orders.lock().unwrap() = vec![
        order(5, "processing", "2026-11-26T10:00:01"),
        order(6, "completed", "2026-11-26T10:00:02"),
        order(7, "on-hold", "2026-11-26T10:00:03"),
    ];
    let after: jiff::Timestamp = "2026-11-26T09:00:00Z".parse().unwrap();
    let listing = client(&store)
        .list_orders(&["processing", "on-hold"], Scope::ModifiedAfter(after))
        .await
        .unwrap();
    assert_eq!(
        listing.records.iter().map(|o| o.id).collect::<Vec<_>>(),
        [5, 7]
    );
    let request = &store.seen()[0];
    assert_eq!(request.param("status"), Some("processing,on-hold"));
    assert_eq!(request.param("modified_after"), Some("2026-11-26T09:00:00"));
    assert_eq!(request.param("dates_are_gmt"), Some("true"));
    assert_eq!(request.param("orderby"), Some("modified"));
    assert_eq!(request.param("order"), Some("asc"));
}

#[tokio::test]
async fn a_malformed_record_is_skipped_and_reported_with_its_id() {
    let store = FakeStore::start().await.with_products(120);
    store.state.products.lock().unwrap()[110]["stock_quantity"] = "lots".into();
    let listing = client(&store).list_products(Scope::Full).await.unwrap();
    assert_eq!(listing.records.len(), 119);
    assert_eq!(listing.skipped.len(), 1);
    assert_eq!(listing.skipped[0].id, Some(111));
}

#[tokio::test]
async fn transient_statuses_are_retried() {
    for fault in [
        Fault::Status {
            status: 503,
            retry_after: None,
        },
        Fault::Status {
            status: 502,
            retry_after: None,
        },
        Fault::Status {
            status: 504,
            retry_after: None,
        },
        Fault::Status {
            status: 429,
            retry_after: None,
        },
        Fault::Drop,
    ] {
        let store = FakeStore::start().await.with_products(3);
        store.fault(fault.clone());
        store.fault(fault.clone());
        let listing = client(&store).list_products(Scope::Full).await;
        assert_eq!(listing.unwrap().records.len(), 3, "{fault:?}");
        assert_eq!(
            store.seen().len(),
            3,
            "{fault:?}: two failures, then success"
        );
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let store = FakeStore::start().await.with_products(3);
    store.fault(Fault::Status {
        status: 429,
        retry_after: Some("1".into()),
    });
    let started = Instant::now();
    client(&store).list_products(Scope::Full).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(store.seen().len(), 2);
}

#[tokio::test]
async fn a_slow_store_times_out_and_the_request_is_retried() {
    let store = FakeStore::start().await.with_products(3);
    store.fault(Fault::Slow(Duration::from_secs(3)));
    let mut cfg = config(&store.url);
    cfg.timeout = Duration::from_millis(300);
    let listing = WooClient::new(cfg)
        .unwrap()
        .list_products(Scope::Full)
        .await
        .unwrap();
    assert_eq!(listing.records.len(), 3);
    assert_eq!(store.seen().len(), 2);
}

#[tokio::test]
async fn retries_stop_at_the_limit_and_the_error_says_so() {
    let store = FakeStore::start().await;
    for _ in 0..10 {
        store.fault(Fault::Status {
            status: 503,
            retry_after: None,
        });
    }
    let error = client(&store).get_order(176).await.unwrap_err();
    assert_eq!(store.seen().len(), 4);
    assert_eq!(
        error.to_string(),
        "GET /wc/v3/orders/176: HTTP 503 fault: scripted fault (after 4 attempts)"
    );
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn a_wrong_request_is_not_retried_and_the_error_names_everything() {
    let store = FakeStore::start().await;
    store.fault(Fault::Status {
        status: 400,
        retry_after: None,
    });
    let error = client(&store)
        .update_order_status(176, "bogus")
        .await
        .unwrap_err();
    assert_eq!(store.seen().len(), 1);
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.code(), Some("fault"));
    assert_eq!(
        error.to_string(),
        "PUT /wc/v3/orders/176: HTTP 400 fault: scripted fault"
    );
}

#[tokio::test]
async fn a_note_is_not_sent_twice_after_an_ambiguous_failure() {
    let store = FakeStore::start().await;
    store.fault(Fault::Status {
        status: 502,
        retry_after: None,
    });
    let error = client(&store)
        .add_order_note(176, "Shipped", NoteVisibility::Customer)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(502));
    assert_eq!(store.seen().len(), 1);

    // A proxy answers 503 as readily after WordPress saved the note as
    // before: not repeated either (the caller checks before writing again).
    store.fault(Fault::Status {
        status: 503,
        retry_after: None,
    });
    let error = client(&store)
        .add_order_note(176, "Shipped", NoteVisibility::Private)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(store.seen().len(), 2);

    // A 429 is decided before the request is handled: repeated.
    store.fault(Fault::Status {
        status: 429,
        retry_after: None,
    });
    let note = client(&store)
        .add_order_note(176, "Shipped", NoteVisibility::Private)
        .await
        .unwrap();
    assert!(!note.customer_note);
    assert_eq!(store.seen().len(), 4, "429: retried once");
}

#[tokio::test]
async fn a_garbled_page_is_fetched_again_and_a_garbled_note_answer_is_not() {
    let store = FakeStore::start().await.with_products(3);
    store.fault(Fault::BadJson);
    let listing = client(&store).list_products(Scope::Full).await.unwrap();
    assert_eq!(listing.records.len(), 3);
    assert_eq!(store.seen().len(), 2);

    store.fault(Fault::BadJson);
    let error = client(&store)
        .add_order_note(1, "n", NoteVisibility::Private)
        .await
        .unwrap_err();
    assert_eq!(store.seen().len(), 3);
    let text = error.to_string();
    assert!(
        text.starts_with("POST /wc/v3/orders/1/notes: HTTP 200: unexpected answer: not JSON"),
        "{text}"
    );
}

#[tokio::test]
async fn a_store_that_keeps_sending_garbage_gets_a_clear_error() {
    let store = FakeStore::start().await.with_products(3);
    for _ in 0..4 {
        store.fault(Fault::BadJson);
    }
    let error = client(&store).list_products(Scope::Full).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("GET /wc/v3/products: HTTP 200: unexpected answer: not JSON"),
        "{text}"
    );
    assert!(text.ends_with("(after 4 attempts)"), "{text}");
}

#[tokio::test]
async fn an_unreachable_store_is_a_connect_error_without_the_secret() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut cfg = config(&url);
    cfg.auth = AuthMode::QueryString;
    let error = WooClient::new(cfg)
        .unwrap()
        .list_products(Scope::Full)
        .await
        .unwrap_err();
    assert_eq!(error.transport_kind(), Some(TransportKind::Connect));
    assert!(
        error
            .to_string()
            .starts_with("GET /wc/v3/products: could not connect"),
        "{error}"
    );
    assert!(error.to_string().ends_with("(after 4 attempts)"), "{error}");
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn the_secret_never_appears_in_any_error() {
    let faults = [
        Fault::Status {
            status: 401,
            retry_after: None,
        },
        Fault::Status {
            status: 503,
            retry_after: None,
        },
        Fault::Drop,
        Fault::BadJson,
        Fault::RedirectEchoingQuery,
        Fault::Slow(Duration::from_secs(2)),
    ];
    for auth in [AuthMode::QueryString, AuthMode::Basic, AuthMode::OAuth] {
        for fault in &faults {
            let store = FakeStore::start().await.with_products(2);
            for _ in 0..4 {
                store.fault(fault.clone());
            }
            let mut cfg = config(&store.url);
            cfg.auth = auth;
            cfg.timeout = Duration::from_millis(300);
            let error = WooClient::new(cfg.clone())
                .unwrap()
                .list_products(Scope::Full)
                .await
                .unwrap_err();
            assert_secret_hidden(&error);
            let text = format!("{cfg:?}");
            assert!(!text.contains(SECRET), "config Debug leaks: {text}");
        }
    }
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    let store = FakeStore::start().await;
    store.fault(Fault::RedirectEchoingQuery);
    let error = client(&store).get_order(1).await.unwrap_err();
    assert_eq!(error.status(), Some(301));
    assert!(
        error
            .to_string()
            .contains("redirected to https://elsewhere.example/"),
        "{error}"
    );
    assert_eq!(store.seen().len(), 1);
}

#[tokio::test]
async fn stock_batches_hold_at_most_100_items_and_surface_failed_items() {
    let store = FakeStore::start().await;
    let mut updates: Vec<StockUpdate> = (1..=150)
        .map(|id| StockUpdate {
            id,
            stock_quantity: id as i64,
        })
        .collect();
    updates[120].id = 999_999;
    let outcomes = client(&store)
        .update_products_stock(&updates)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 150);
    let batches: Vec<_> = store
        .seen()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(batches.len(), 2);
    let failed: Vec<&BatchItem> = outcomes
        .iter()
        .filter(|o| matches!(o, BatchItem::Failed { .. }))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id(), 999_999);
    assert!(matches!(
        outcomes[0],
        BatchItem::Updated {
            id: 1,
            stock_quantity: Some(1)
        }
    ));
}

#[tokio::test]
async fn basic_auth_goes_in_the_header_on_https_settings() {
    let store = FakeStore::start().await.with_products(1);
    let mut cfg = config(&store.url);
    cfg.auth = AuthMode::Basic;
    WooClient::new(cfg)
        .unwrap()
        .list_products(Scope::Full)
        .await
        .unwrap();
    let request = &store.seen()[0];
    assert!(
        request
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(request.param("oauth_signature").is_none());
}

#[tokio::test]
async fn plain_permalinks_go_through_rest_route() {
    let store = FakeStore::start().await;
    let mut cfg = config(&store.url);
    cfg.api_path = woo_client::ApiPath::RestRoute;
    let error = WooClient::new(cfg).unwrap().get_order(9).await.unwrap_err();
    assert_eq!(error.code(), Some("rest_no_route"));
    let request = &store.seen()[0];
    assert_eq!(request.path, "/");
    assert_eq!(request.param("rest_route"), Some("/wc/v3/orders/9"));
}

#[tokio::test]
async fn the_connection_check_reports_a_working_store() {
    let store = FakeStore::start().await.with_products(2);
    let report = client(&store).check_connection().await;
    assert!(report.is_usable(), "{report:?}");
    assert_eq!(report.woocommerce_version.as_deref(), Some("10.0.2"));
    assert_eq!(report.shipment_tracking, Some(false));
    assert_eq!(report.native_cost_of_goods, Some(true));
    assert_eq!(report.problems().count(), 0);
    let write = store
        .seen()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(write.path, "/wp-json/wc/v3/products/batch");
}

#[tokio::test]
async fn the_connection_check_explains_read_only_keys() {
    let store = FakeStore::start().await.with_products(2);
    *store.state.read_only.lock().unwrap() = true;
    let report = client(&store).check_connection().await;
    assert!(report.can_read);
    assert!(!report.can_write);
    assert!(!report.is_usable());
    let problems: Vec<_> = report.problems().collect();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .explanation
            .starts_with("These keys are read-only")
    );
}

#[tokio::test]
async fn the_connection_check_explains_an_unreachable_store() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let report = WooClient::new(config(&url))
        .unwrap()
        .check_connection()
        .await;
    assert!(!report.store_answers);
    let problem = report.problems().next().unwrap();
    assert!(
        problem
            .explanation
            .starts_with("The store URL does not answer"),
        "{problem:?}"
    );
}

#[tokio::test]
async fn the_connection_check_warns_about_basic_auth_over_plain_http() {
    let store = FakeStore::start().await;
    store.fault(fake_store::Fault::Status {
        status: 401,
        retry_after: None,
    });
    let mut cfg = config(&store.url);
    cfg.auth = AuthMode::Basic;
    let report = WooClient::new(cfg).unwrap().check_connection().await;
    assert!(report.findings.iter().any(|f| {
        f.severity == Severity::Warning
            && f.explanation
                .starts_with("Basic auth is ignored over plain HTTP")
    }));
}

#[tokio::test]
async fn an_incremental_listing_disturbed_by_changes_is_walked_again_a_bounded_number_of_times() {
    let store = FakeStore::start().await;
    *store.state.orders.lock().unwrap() = vec![
        order(1, "processing", "2026-11-26T10:00:01"),
        order(2, "processing", "2099-01-01T00:00:00"),
    ];
    let after: jiff::Timestamp = "2026-11-26T09:00:00Z".parse().unwrap();
    let listing = client(&store)
        .list_orders(&["processing"], Scope::ModifiedAfter(after))
        .await
        .unwrap();
    assert_eq!(
        listing.records.iter().map(|o| o.id).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        listing.pages, 3,
        "an order modified after page 1 was served forces re-walks"
    );

    let undisturbed = FakeStore::start().await;
    *undisturbed.state.orders.lock().unwrap() = vec![order(1, "processing", "2026-11-26T10:00:01")];
    let listing = client(&undisturbed)
        .list_orders(&["processing"], Scope::ModifiedAfter(after))
        .await
        .unwrap();
    assert_eq!(listing.pages, 1);
}
