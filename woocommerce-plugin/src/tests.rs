//! The product import, the stock push and the webhooks run by the test
//! kit (the host's own services over a temporary warehouse) against a
//! sandbox store serving real HTTP.

use std::time::Duration;

use plugin_test_kit::{RunOutcome, TestHost};
use woo_sandbox::{BlockingSandbox, Sandbox, Seed};

use crate::WooCommercePlugin;
use crate::manifest::{IMPORT_ORDERS, IMPORT_PRODUCTS, PUSH_STOCK};

const KEY: &str = "ck_kit_key";
const SECRET: &str = "cs_kit_secret_never_shown";

fn store() -> BlockingSandbox {
    Sandbox::builder()
        .consumer(KEY, SECRET)
        .seed(Seed::quickstart())
        .timestamp_window(None)
        .start_blocking()
        .expect("the sandbox starts")
}

fn plugin_for(store: &BlockingSandbox) -> TestHost {
    let host = TestHost::new(WooCommercePlugin::default()).unwrap();
    host.set_settings(&[
        ("store_url", store.url()),
        ("consumer_key", KEY),
        ("consumer_secret", SECRET),
    ])
    .unwrap();
    host
}

#[test]
fn the_product_import_creates_items_with_opening_stock_and_moves_its_watermark() {
    let store = store();
    let host = plugin_for(&store);
    host.activate().unwrap();

    let run = host.run_job(IMPORT_PRODUCTS);
    let report = run.report().unwrap();
    assert!(report.created > 0, "{report:?}");
    let simple = host
        .items()
        .unwrap()
        .into_iter()
        .find(|i| i.number == "RIG-SIMPLE-1")
        .expect("the simple product became an item");
    assert_eq!(simple.unit_cost.as_deref(), Some("8.25"));
    let stock = host.warehouse().inventory(Some("RIG-SIMPLE-1")).unwrap();
    assert_eq!(stock[0].on_hand, 21, "opening stock is the store's count");
    assert!(!run.progress.is_empty(), "the import reports progress");
    let state: serde_json::Value = host.state("import_products").unwrap().unwrap();
    assert!(state["watermark"].is_string(), "{state}");
    assert_eq!(state["last_full_ms"], plugin_test_kit::START_MS);

    // An hour later nothing changed in the store: nothing is created again,
    // and the opening stock is not taken twice.
    host.advance(Duration::from_secs(3600));
    let again = host.run_job(IMPORT_PRODUCTS);
    assert_eq!(again.report().unwrap().created, 0);
    let stock = host.warehouse().inventory(Some("RIG-SIMPLE-1")).unwrap();
    assert_eq!(stock[0].on_hand, 21);
}

#[test]
fn a_wrong_secret_refuses_activation_without_showing_it() {
    let store = store();
    let host = plugin_for(&store);
    host.set_settings(&[("consumer_secret", "cs_wrong_and_secret")])
        .unwrap();
    let err = host.activate().unwrap_err().to_string();
    assert!(!err.contains("cs_wrong_and_secret"), "{err}");
    assert!(!err.is_empty());
    let run = host.run_job(IMPORT_PRODUCTS);
    assert_eq!(run.outcome, RunOutcome::Failed);
    assert!(host.items().unwrap().is_empty(), "nothing was imported");
}

#[test]
fn the_stock_push_makes_no_request_when_nothing_changed_and_one_read_and_write_for_a_receipt() {
    let store = store();
    let host = plugin_for(&store);
    // Activated once, as the service does: no run checks the connection.
    host.activate().unwrap();
    host.run_job(IMPORT_PRODUCTS).report().unwrap();
    let first = host.run_job(PUSH_STOCK);
    assert_eq!(
        first.report().unwrap().updated,
        0,
        "the store already agrees"
    );

    store.reset_stats();
    let idle = host.run_job(PUSH_STOCK);
    assert_eq!(idle.report().unwrap().updated, 0);
    assert_eq!(store.stats(), Default::default(), "no request at all");

    let id = store.store().product_by_sku("RIG-SIMPLE-1").unwrap().id;
    let before = store.store().stock(id).unwrap();
    host.warehouse()
        .receive("RIG-SIMPLE-1", 4, None, "ann", host.now_ms())
        .unwrap();
    let pushed = host.run_job(PUSH_STOCK);
    assert_eq!(pushed.report().unwrap().updated, 1, "{pushed:?}");
    let requests: Vec<(String, u64)> = store.stats().into_iter().collect();
    assert_eq!(
        requests,
        [
            ("GET /wc/v3/orders".to_owned(), 1),
            ("GET /wc/v3/products".to_owned(), 1),
            ("POST /wc/v3/products/batch".to_owned(), 1),
        ]
    );
    assert_eq!(store.store().stock(id), Some(before + 4));
}

/// The store's webhooks delivering to `url`: (id, topic, status).
fn webhooks_to(store: &BlockingSandbox, url: &str) -> Vec<(u64, String, String)> {
    let mut hooks: Vec<(u64, String, String)> = store.webhooks()["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["delivery_url"] == url)
        .map(|h| {
            (
                h["id"].as_u64().unwrap(),
                h["topic"].as_str().unwrap().to_owned(),
                h["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    hooks.sort();
    hooks
}

#[test]
fn the_served_copy_registers_its_webhooks_once_and_removes_them() {
    let store = store();
    let url = "http://127.0.0.1:9/hooks/woocommerce";
    let host = plugin_for(&store);
    host.set_settings(&[("webhook_url", url)]).unwrap();
    host.activate().unwrap();
    let secret = host
        .credential("webhook_secret")
        .unwrap()
        .expect("generated");
    assert_eq!(secret.expose().len(), 64);
    let spec = host.webhooks().unwrap().expect("webhooks accepted");
    assert_eq!(spec.job, IMPORT_ORDERS);
    assert_eq!(spec.secret_key, "webhook_secret");
    assert_eq!(spec.signature_header, "X-WC-Webhook-Signature");
    assert_eq!(spec.ping_field.as_deref(), Some("webhook_id"));

    assert_eq!(host.run_job(IMPORT_ORDERS).outcome, RunOutcome::Succeeded);
    let registered = webhooks_to(&store, url);
    let topics: Vec<&str> = registered.iter().map(|h| h.1.as_str()).collect();
    assert_eq!(topics, ["order.created", "order.updated"]);
    let ids: Vec<u64> = registered.iter().map(|h| h.0).collect();
    let state: serde_json::Value = host.state("webhooks").unwrap().unwrap();
    assert_eq!(state["ids"], serde_json::json!(ids));

    // Again, and after a second activation: the same two, and the secret kept.
    assert_eq!(host.run_job(IMPORT_ORDERS).outcome, RunOutcome::Succeeded);
    host.activate().unwrap();
    host.webhooks().unwrap();
    assert_eq!(host.run_job(IMPORT_ORDERS).outcome, RunOutcome::Succeeded);
    assert_eq!(webhooks_to(&store, url), registered);
    assert_eq!(host.credential("webhook_secret").unwrap(), Some(secret));

    host.deactivate().unwrap();
    assert!(webhooks_to(&store, url).is_empty());
}

#[test]
fn a_copy_the_host_never_asked_leaves_the_stores_webhooks_alone() {
    let store = store();
    let url = "http://127.0.0.1:9/hooks/woocommerce";
    let host = plugin_for(&store);
    host.set_settings(&[("webhook_url", url)]).unwrap();
    host.activate().unwrap();
    assert_eq!(host.run_job(IMPORT_ORDERS).outcome, RunOutcome::Succeeded);
    assert!(webhooks_to(&store, url).is_empty());

    let off = plugin_for(&store);
    off.activate().unwrap();
    assert_eq!(off.webhooks().unwrap(), None);
    assert_eq!(off.credential("webhook_secret").unwrap(), None);
}
