//! What the world does in a simulated hour, drawn from the seeded
//! generator: customers ordering in each store (processing, on-hold,
//! pending and paid later, cancelled, refunded; several lines, some of
//! products whose stock the store does not manage or that have no SKU),
//! the shop's admin adding, changing, costing, drafting, trashing and
//! deleting products (new SKUs sometimes in both stores) and giving a
//! product without a SKU, once ordered, a SKU the next morning (the
//! warehouse refuses such an order until then), and the warehouse picking,
//! shipping (part or all), receiving, counting and cancelling, through
//! `intellitrack-db` as the `plugin-host` warehouse commands do.

use anyhow::Context;
use intellitrack_db::{Db, ShipRequest};
use jiff::Timestamp;
use plugin_api::warehouse::OrderStatus;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::sandbox::Sandbox;

/// The warehouse user the driver acts as.
const USER: &str = "cli:soak";

/// What the driver knows of one store: the products a customer can buy
/// and the orders it may still change.
#[derive(Default)]
pub struct Shop {
    /// Published products with managed stock and a SKU.
    pub managed: Vec<u64>,
    /// Published products with managed stock and no SKU (odd lines).
    pub no_sku: Vec<u64>,
    /// Of those, the ones ordered: the admin gives them a SKU.
    pub ordered_without_sku: Vec<u64>,
    /// Products whose stock the store does not manage (odd lines).
    pub unmanaged: Vec<u64>,
    /// Orders waiting for payment (pending, on-hold).
    pub unpaid: Vec<u64>,
    /// Paid orders (processing) a customer may still cancel or refund.
    pub paid: Vec<u64>,
}

/// Counts of what the driver did, for the daily line.
#[derive(Default, Debug, Clone, Copy)]
pub struct Done {
    pub orders: u64,
    pub order_changes: u64,
    pub product_changes: u64,
    pub picks: u64,
    pub shipments: u64,
    pub receipts: u64,
    pub counts: u64,
    pub cancellations: u64,
    /// Warehouse actions the database refused (not enough on hand, ...),
    /// as it would refuse a person.
    pub refused: u64,
}

impl Shop {
    /// Reads the store's published simple products.
    pub fn read(store: &Sandbox) -> anyhow::Result<Self> {
        let mut shop = Shop::default();
        for product in store.list(
            "wc/v3/products",
            "type=simple&status=publish&orderby=id&order=asc",
        )? {
            let id = product["id"].as_u64().context("product id")?;
            let has_sku = product["sku"].as_str().is_some_and(|s| !s.is_empty());
            if product["manage_stock"] == true && has_sku {
                shop.managed.push(id);
            } else if product["manage_stock"] == true {
                shop.no_sku.push(id);
            } else {
                shop.unmanaged.push(id);
            }
        }
        Ok(shop)
    }
}

/// Customers' activity by local hour: none at night, most in the evening.
fn busy(hour: i8) -> u32 {
    match hour {
        0..=6 => 0,
        7..=11 => 1,
        12..=17 => 2,
        _ => 3,
    }
}

/// The customers and the shop's admin of one store for an hour.
pub fn store_hour(
    rng: &mut ChaCha8Rng,
    store: &Sandbox,
    shop: &mut Shop,
    other: Option<(&Sandbox, &mut Shop)>,
    next_sku: &mut u64,
    local_hour: i8,
    done: &mut Done,
) -> anyhow::Result<()> {
    for _ in 0..rng.random_range(0..=busy(local_hour)) {
        place_order(rng, store, shop)?;
        done.orders += 1;
    }
    if !shop.unpaid.is_empty() && rng.random_bool(0.3) {
        let id = shop
            .unpaid
            .swap_remove(rng.random_range(0..shop.unpaid.len()));
        let status = if rng.random_bool(0.7) {
            "processing"
        } else {
            "cancelled"
        };
        set_status(store, id, status)?;
        if status == "processing" {
            shop.paid.push(id);
        }
        done.order_changes += 1;
    }
    if !shop.paid.is_empty() && rng.random_bool(0.05) {
        let id = shop.paid.swap_remove(rng.random_range(0..shop.paid.len()));
        set_status(
            store,
            id,
            if rng.random_bool(0.5) {
                "cancelled"
            } else {
                "refunded"
            },
        )?;
        done.order_changes += 1;
    }
    if local_hour == 10 {
        change_catalogue(rng, store, shop, other, next_sku)?;
        for id in std::mem::take(&mut shop.ordered_without_sku) {
            let sku = json!({ "sku": format!("FIXED-{id}") });
            store.rest(Method::PUT, &format!("wc/v3/products/{id}"), Some(&sku))?;
            done.product_changes += 1;
        }
        done.product_changes += 1;
    }
    Ok(())
}

fn place_order(rng: &mut ChaCha8Rng, store: &Sandbox, shop: &mut Shop) -> anyhow::Result<()> {
    if shop.managed.is_empty() {
        return Ok(());
    }
    let mut lines = Vec::new();
    for _ in 0..rng.random_range(1..=3) {
        let product = shop.managed[rng.random_range(0..shop.managed.len())];
        lines.push(json!({"product_id": product, "quantity": rng.random_range(1..=3)}));
    }
    if !shop.unmanaged.is_empty() && rng.random_bool(0.1) {
        let product = shop.unmanaged[rng.random_range(0..shop.unmanaged.len())];
        lines.push(json!({"product_id": product, "quantity": 1}));
    }
    if !shop.no_sku.is_empty() && rng.random_bool(0.02) {
        let product = shop
            .no_sku
            .swap_remove(rng.random_range(0..shop.no_sku.len()));
        lines.push(json!({"product_id": product, "quantity": 1}));
        shop.ordered_without_sku.push(product);
    }
    let (status, paid) = match rng.random_range(0..100) {
        0..=69 => ("processing", true),
        70..=84 => ("on-hold", false),
        _ => ("pending", false),
    };
    let order = store.rest(
        Method::POST,
        "wc/v3/orders",
        Some(&json!({
            "status": status,
            "set_paid": paid,
            "billing": {"first_name": "Soak", "last_name": "Buyer", "email": "buyer@example.test",
                        "address_1": "1 Loop Road", "city": "Testville", "country": "DE"},
            "line_items": lines,
        })),
    )?;
    let id = order["id"].as_u64().context("order id")?;
    if paid {
        shop.paid.push(id);
    } else {
        shop.unpaid.push(id);
    }
    Ok(())
}

fn set_status(store: &Sandbox, id: u64, status: &str) -> anyhow::Result<()> {
    store.rest(
        Method::PUT,
        &format!("wc/v3/orders/{id}"),
        Some(&json!({ "status": status })),
    )?;
    Ok(())
}

/// One change of the catalogue: a product added (half the time in the
/// other store too, same SKU), renamed, priced, costed, drafted, trashed
/// or deleted.
fn change_catalogue(
    rng: &mut ChaCha8Rng,
    store: &Sandbox,
    shop: &mut Shop,
    other: Option<(&Sandbox, &mut Shop)>,
    next_sku: &mut u64,
) -> anyhow::Result<()> {
    let choice = rng.random_range(0..7);
    if choice == 0 || shop.managed.len() < 20 {
        *next_sku += 1;
        let body = json!({"name": format!("Soak product {next_sku}"), "type": "simple",
            "sku": format!("SOAK-{next_sku}"), "regular_price": "12.50",
            "manage_stock": true, "stock_quantity": rng.random_range(0..40)});
        shop.managed.push(created(store, &body)?);
        if let Some((other, other_shop)) = other
            && rng.random_bool(0.5)
        {
            other_shop.managed.push(created(other, &body)?);
        }
        return Ok(());
    }
    let at = rng.random_range(0..shop.managed.len());
    let id = shop.managed[at];
    let route = format!("wc/v3/products/{id}");
    match choice {
        1 => {
            store.rest(
                Method::PUT,
                &route,
                Some(&json!({"name": format!("Renamed {id}")})),
            )?;
        }
        2 => {
            let price = format!("{}.99", rng.random_range(1..90));
            store.rest(
                Method::PUT,
                &route,
                Some(&json!({ "regular_price": price })),
            )?;
        }
        3 => {
            let cost = f64::from(rng.random_range(100..5000)) / 100.0;
            let body = json!({"cost_of_goods_sold": {"values": [{"defined_value": cost}]}});
            store.rest(Method::PUT, &route, Some(&body))?;
        }
        4 => {
            store.rest(Method::PUT, &route, Some(&json!({"status": "draft"})))?;
            shop.managed.swap_remove(at);
        }
        5 => {
            store.rest(Method::DELETE, &route, None)?;
            shop.managed.swap_remove(at);
        }
        _ => {
            store.rest(Method::DELETE, &format!("{route}?force=true"), None)?;
            shop.managed.swap_remove(at);
        }
    }
    Ok(())
}

fn created(store: &Sandbox, body: &Value) -> anyhow::Result<u64> {
    store.rest(Method::POST, "wc/v3/products", Some(body))?["id"]
        .as_u64()
        .context("product id")
}

/// The warehouse's work for an hour of its shift (07:00 to 18:00 local):
/// picks, shipments (part or all of what is picked), receipts, counts and
/// now and then a cancellation.
pub fn warehouse_hour(
    rng: &mut ChaCha8Rng,
    db: &Db,
    now: Timestamp,
    local_hour: i8,
    done: &mut Done,
) -> anyhow::Result<()> {
    if !(7..18).contains(&local_hour) {
        return Ok(());
    }
    let now_ms = now.as_millisecond();
    // The open orders only: reading every order ever placed each hour
    // would make the driver, not the system, the cost that grows.
    let mut open = Vec::new();
    for status in [
        OrderStatus::Open,
        OrderStatus::Picking,
        OrderStatus::Picked,
        OrderStatus::PartiallyShipped,
    ] {
        open.extend(db.orders(Some(status))?);
    }
    // First come, first served: the oldest orders are picked (whole
    // lines, now and then part of one) and what is picked is shipped (all
    // of it, now and then part).
    open.sort_by(|a, b| (a.created_at_ms, &a.number).cmp(&(b.created_at_ms, &b.number)));
    for order in open
        .iter()
        .filter(|o| o.lines.iter().any(|l| l.picked < l.ordered))
        .take(rng.random_range(1..=5))
    {
        for line in order
            .lines
            .iter()
            .filter(|l| !l.not_shipped && l.picked < l.ordered)
        {
            let left = line.ordered - line.picked;
            let qty = if rng.random_bool(0.9) {
                left
            } else {
                rng.random_range(1..=left)
            };
            count(
                db.pick(&order.number, line.line, qty, None, USER, now_ms),
                &mut done.picks,
                &mut done.refused,
            );
        }
    }
    for order in open.iter().take(rng.random_range(2..=6)) {
        let Some(order) = db.order(&order.number)? else {
            continue;
        };
        let ready: Vec<(i64, i64)> = order
            .lines
            .iter()
            .filter(|l| l.picked > l.shipped)
            .map(|l| (l.line, rng.random_range(1..=l.picked - l.shipped)))
            .collect();
        if ready.is_empty() {
            continue;
        }
        // Mostly everything picked, else part of it.
        let lines = if rng.random_bool(0.8) {
            Vec::new()
        } else {
            ready
        };
        let request = ShipRequest {
            carrier: "DHL".into(),
            service: String::new(),
            tracking: format!("SOAK{now_ms}{}", rng.random_range(0..1_000_000)),
            lines,
        };
        count(
            db.ship(&order.number, &request, USER, now_ms),
            &mut done.shipments,
            &mut done.refused,
        );
    }
    // Receipts replenish what runs short; counts correct a unit or two.
    let items = db.inventory_with_store_refs(None)?;
    let short: Vec<_> = items.iter().filter(|i| i.value.available < 10).collect();
    for _ in 0..rng.random_range(0..=3) {
        let Some(item) = pick_one(rng, &short) else {
            break;
        };
        let qty = rng.random_range(20..=40);
        let received = db.receive(&item.value.item_number, qty, None, USER, now_ms);
        count(received, &mut done.receipts, &mut done.refused);
    }
    if let Some(item) = pick_one(rng, &items)
        && rng.random_bool(0.3)
    {
        let by = rng.random_range(-2..=2);
        if by != 0 {
            let adjusted = db.adjust(
                &item.value.item_number,
                by,
                "cycle count",
                None,
                USER,
                now_ms,
            );
            count(adjusted, &mut done.counts, &mut done.refused);
        }
    }
    if let Some(order) = pick_one(rng, &open)
        && rng.random_bool(0.03)
    {
        let cancelled =
            db.cancel_order(&order.number, "customer called the warehouse", USER, now_ms);
        count(cancelled, &mut done.cancellations, &mut done.refused);
    }
    Ok(())
}

fn pick_one<'a, T>(rng: &mut ChaCha8Rng, from: &'a [T]) -> Option<&'a T> {
    (!from.is_empty()).then(|| &from[rng.random_range(0..from.len())])
}

/// Counts a warehouse action: done, or refused as a person would be.
fn count<T, E>(result: Result<T, E>, counter: &mut u64, refused: &mut u64) {
    match result {
        Ok(_) => *counter += 1,
        Err(_) => *refused += 1,
    }
}
