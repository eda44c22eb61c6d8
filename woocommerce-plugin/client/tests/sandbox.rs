//! The client against the project's sandbox store (woo-sandbox), which
//! follows the real store's rules: OAuth verification, paging headers,
//! batch answers, Shipment Tracking, COGS and fault injection.

use std::time::Duration;

use jiff::Timestamp;
use woo_client::connection::Severity;
use woo_client::model::{
    BatchItem, Carrier, NewShipment, NoteVisibility, ProductType, StockUpdate,
};
use woo_client::{ApiPath, AuthMode, ClientConfig, RetryPolicy, Scope, WooClient};
use woo_sandbox::{
    ApiKey, FaultRule, GenerateSpec, Permissions, RunningSandbox, Sandbox, generate,
};

const KEY: &str = "ck_sandbox_key";
const SECRET: &str = "cs_sandbox_secret_value";

fn spec(products: u64, orders: u64) -> GenerateSpec {
    GenerateSpec {
        products,
        variable: products / 10,
        orders,
        random_seed: 7,
        now: Timestamp::now(),
    }
}

async fn sandbox(products: u64, orders: u64) -> RunningSandbox {
    Sandbox::builder()
        .consumer(KEY, SECRET)
        .seed(generate(&spec(products, orders)))
        .start()
        .await
        .unwrap()
}

fn config(url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(url, KEY, SECRET);
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(2),
    };
    config
}

fn client(sandbox: &RunningSandbox) -> WooClient {
    WooClient::new(config(sandbox.url())).unwrap()
}

#[tokio::test]
async fn oauth_listing_reads_every_product_with_one_request_per_page() {
    let sandbox = sandbox(450, 0).await;
    let listing = client(&sandbox).list_products(Scope::Full).await.unwrap();
    let expected = sandbox
        .store()
        .read(|s| s.products().filter(|p| p.parent_id == 0).count());
    assert_eq!(listing.records.len(), expected);
    assert!(listing.skipped.is_empty(), "{:?}", listing.skipped);
    let ids: Vec<u64> = listing.records.iter().map(|p| p.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    assert_eq!(
        sandbox.count("GET /wc/v3/products"),
        u64::from(listing.pages),
        "{:?}",
        sandbox.stats()
    );
    assert!(
        listing
            .records
            .iter()
            .any(|p| p.kind == ProductType::Variable)
    );
}

#[tokio::test]
async fn variations_and_orders_by_status() {
    let sandbox = sandbox(40, 60).await;
    let client = client(&sandbox);
    let products = client.list_products(Scope::Full).await.unwrap();
    let variable = products
        .records
        .iter()
        .find(|p| p.kind == ProductType::Variable)
        .unwrap();
    let variations = client.list_variations(variable.id).await.unwrap();
    assert_eq!(variations.records.len(), variable.variations.len());
    assert!(
        variations
            .records
            .iter()
            .all(|v| v.parent_id == variable.id)
    );

    let orders = client
        .list_orders(&["processing", "on-hold"], Scope::Full)
        .await
        .unwrap();
    let expected = sandbox.store().read(|s| {
        s.orders()
            .filter(|o| o.status == "processing" || o.status == "on-hold")
            .count()
    });
    assert_eq!(orders.records.len(), expected);
    assert!(
        orders
            .records
            .iter()
            .all(|o| o.status == "processing" || o.status == "on-hold")
    );
}

#[tokio::test]
async fn incremental_listing_sees_only_what_changed() {
    let sandbox = sandbox(120, 30).await;
    let client = client(&sandbox);
    // The store's dates have whole seconds: the change lands two seconds on.
    let mark = Timestamp::now() + jiff::SignedDuration::from_secs(1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let order_id = sandbox.store().read(|s| s.orders().next().unwrap().id);
    sandbox
        .store()
        .modify_order(order_id, |o| o.customer_note = "changed".into());
    let changed = client
        .list_orders(&[], Scope::ModifiedAfter(mark))
        .await
        .unwrap();
    assert_eq!(
        changed.records.iter().map(|o| o.id).collect::<Vec<_>>(),
        [order_id]
    );
    let none = client
        .list_products(Scope::ModifiedAfter(mark))
        .await
        .unwrap();
    assert!(none.records.is_empty());
}

#[tokio::test]
async fn writes_reach_the_store() {
    let sandbox = sandbox(30, 10).await;
    let client = client(&sandbox);
    let order_id = sandbox.store().read(|s| s.orders().next().unwrap().id);

    let order = client
        .update_order_status(order_id, "completed")
        .await
        .unwrap();
    assert_eq!(order.status, "completed");
    assert_eq!(sandbox.store().order(order_id).unwrap().status, "completed");

    client
        .add_order_note(order_id, "Packed", NoteVisibility::Private)
        .await
        .unwrap();
    let notes = sandbox.store().notes(order_id);
    assert!(notes.iter().any(|n| n.note == "Packed" && !n.customer_note));

    let shipment = NewShipment {
        carrier: Carrier::Custom {
            name: "Rig Post".into(),
            tracking_link: "https://rig.example/t/RIG123".into(),
        },
        tracking_number: "RIG123".into(),
        date_shipped: Timestamp::now(),
    };
    let tracking = client
        .add_shipment_tracking(order_id, &shipment)
        .await
        .unwrap();
    assert_eq!(tracking.tracking_number, "RIG123");
    assert_eq!(sandbox.store().trackings(order_id).len(), 1);

    let simple: Vec<u64> = sandbox.store().read(|s| {
        s.products()
            .filter(|p| p.manage_stock && p.parent_id == 0 && p.grouped_products.is_empty())
            .map(|p| p.id)
            .take(3)
            .collect()
    });
    let mut updates: Vec<StockUpdate> = simple
        .iter()
        .map(|&id| StockUpdate {
            id,
            stock_quantity: 17,
        })
        .collect();
    updates.push(StockUpdate {
        id: 987_654,
        stock_quantity: 1,
    });
    let outcomes = client.update_products_stock(&updates).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    assert!(matches!(outcomes[3], BatchItem::Failed { id: 987_654, .. }));
    for id in &simple {
        assert_eq!(sandbox.store().stock(*id), Some(17));
    }

    let product = client.update_product_stock(simple[0], 5).await.unwrap();
    assert_eq!(product.stock_quantity, Some(5));
}

#[tokio::test]
async fn variation_stock_goes_through_the_variations_batch() {
    let sandbox = sandbox(20, 0).await;
    let client = client(&sandbox);
    let (parent, variation) = sandbox.store().read(|s| {
        let v = s.products().find(|p| p.parent_id != 0).unwrap();
        (v.parent_id, v.id)
    });
    let outcomes = client
        .update_variations_stock(
            parent,
            &[StockUpdate {
                id: variation,
                stock_quantity: 9,
            }],
        )
        .await
        .unwrap();
    assert!(
        matches!(outcomes[0], BatchItem::Updated { .. }),
        "{outcomes:?}"
    );
    assert_eq!(sandbox.store().stock(variation), Some(9));
    assert_eq!(
        sandbox.count("POST /wc/v3/products/{id}/variations/batch"),
        1
    );
}

#[tokio::test]
async fn a_listing_completes_through_a_storm_of_faults() {
    let sandbox = sandbox(600, 0).await;
    sandbox.set_faults(vec![FaultRule {
        latency_ms: 5,
        rate_limit_rate: 0.15,
        retry_after_secs: 0,
        drop_rate: 0.15,
        truncate_rate: 0.1,
        invalid_json_rate: 0.1,
        ..FaultRule::default()
    }]);
    let listing = client(&sandbox).list_products(Scope::Full).await.unwrap();
    let expected = sandbox
        .store()
        .read(|s| s.products().filter(|p| p.parent_id == 0).count());
    assert_eq!(listing.records.len(), expected);
    assert!(sandbox.count("GET /wc/v3/products") > u64::from(listing.pages));
}

#[tokio::test]
async fn plain_permalinks_work_through_rest_route() {
    let sandbox = sandbox(15, 0).await;
    let mut cfg = config(sandbox.url());
    cfg.api_path = ApiPath::RestRoute;
    let listing = WooClient::new(cfg)
        .unwrap()
        .list_products(Scope::Full)
        .await
        .unwrap();
    assert_eq!(listing.total, Some(listing.records.len() as u64));
}

#[tokio::test]
async fn the_connection_check_on_a_healthy_store() {
    let sandbox = sandbox(5, 0).await;
    let report = client(&sandbox).check_connection().await;
    assert!(report.is_usable(), "{report:?}");
    assert!(report.woocommerce_version.is_some());
    assert_eq!(report.shipment_tracking, Some(true));
    assert_eq!(report.native_cost_of_goods, Some(true));
    let product_writes: u64 = sandbox
        .stats()
        .iter()
        .filter(|(k, _)| k.starts_with("PUT") || k.contains("POST /wc/v3/products/{id}"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(product_writes, 0, "the write check changes nothing");
}

#[tokio::test]
async fn the_connection_check_without_tracking_or_cost() {
    let sandbox = Sandbox::builder()
        .consumer(KEY, SECRET)
        .seed(generate(&spec(5, 0)))
        .shipment_tracking(false)
        .cogs(false)
        .start()
        .await
        .unwrap();
    let report = client(&sandbox).check_connection().await;
    assert!(report.is_usable(), "{report:?}");
    assert_eq!(report.shipment_tracking, Some(false));
    assert_eq!(report.native_cost_of_goods, Some(false));
}

#[tokio::test]
async fn the_connection_check_explains_read_only_keys() {
    let sandbox = Sandbox::builder()
        .key(ApiKey {
            consumer_key: KEY.into(),
            consumer_secret: SECRET.into(),
            permissions: Permissions::Read,
        })
        .start()
        .await
        .unwrap();
    let report = client(&sandbox).check_connection().await;
    assert!(report.can_read && !report.can_write, "{report:?}");
    let problem = report.problems().next().unwrap();
    assert!(
        problem.explanation.starts_with("These keys are read-only"),
        "{problem:?}"
    );
}

#[tokio::test]
async fn the_connection_check_explains_wrong_secrets_and_basic_over_http() {
    let sandbox = sandbox(1, 0).await;
    let wrong = WooClient::new(ClientConfig::new(sandbox.url(), KEY, "cs_wrong"))
        .unwrap()
        .check_connection()
        .await;
    assert!(wrong.store_answers && !wrong.can_read);
    let problem = wrong.problems().next().unwrap();
    assert!(
        problem
            .explanation
            .contains("refused the request signature"),
        "{problem:?}"
    );

    let mut basic = config(sandbox.url());
    basic.auth = AuthMode::Basic;
    let report = WooClient::new(basic).unwrap().check_connection().await;
    assert!(!report.can_read);
    assert!(report.findings.iter().any(|f| {
        f.severity == Severity::Problem
            && f.explanation
                .starts_with("Basic auth is ignored over plain HTTP")
    }));
}

#[tokio::test]
async fn a_server_error_that_is_not_transient_is_not_retried() {
    let sandbox = sandbox(5, 0).await;
    sandbox.set_faults(vec![FaultRule {
        error_rate: 1.0,
        ..FaultRule::default()
    }]);
    let error = client(&sandbox)
        .list_products(Scope::Full)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(500), "{error}");
    assert_eq!(sandbox.count("GET /wc/v3/products"), 1);
}
