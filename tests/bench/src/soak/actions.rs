//! What the world does in a simulated hour, drawn from the seeded
//! generator: customers ordering in each store (processing, on-hold,
//! pending and paid later, cancelled, refunded; several lines, some of
//! variations, some of products whose stock the store does not manage or
//! that have no SKU), the shop's admin adding, changing, costing,
//! drafting (a draft, in time, published again or deleted), trashing and
//! deleting products (new SKUs, some odd, sometimes
//! in both stores), giving a product without a SKU, once ordered, a SKU the next
//! morning (the warehouse refuses such an order until then) and refunding
//! part of a paid order (a line or some of its units, restocked or not),
//! and the warehouse picking, shipping (part or all), receiving, counting
//! and cancelling, through `intellitrack-db` as the `plugin-host`
//! warehouse commands do.
//!
//! The decisions made since the first version draw from their own streams
//! of the seed ([`Streams`]), so the main stream's draws stay where they
//! were: the first N days of `--days M` are those of `--days N` either way.

use std::collections::HashMap;

use anyhow::Context;
use intellitrack_db::{Db, ShipRequest};
use jiff::Timestamp;
use plugin_api::warehouse::OrderStatus;
use rand::{Rng, SeedableRng};
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
    /// Published variations with a SKU whose stock the store manages
    /// (theirs, or their parent's: `manage_stock: "parent"`), as
    /// (parent, variation).
    pub variations: Vec<(u64, u64)>,
    /// Orders waiting for payment (pending, on-hold).
    pub unpaid: Vec<u64>,
    /// Paid orders (processing) a customer may still cancel or refund.
    pub paid: Vec<u64>,
    /// Products the admin drafted: each is, in time, published again or
    /// deleted, so the catalogue holds a steady size.
    pub drafts: Vec<u64>,
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
    /// Part refunds the shop's admin made.
    pub refunds: u64,
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
        for parent in store.list(
            "wc/v3/products",
            "type=variable&status=publish&orderby=id&order=asc",
        )? {
            let parent = parent["id"].as_u64().context("product id")?;
            for variation in store.list(
                &format!("wc/v3/products/{parent}/variations"),
                "status=publish&orderby=id&order=asc",
            )? {
                let id = variation["id"].as_u64().context("variation id")?;
                let has_sku = variation["sku"].as_str().is_some_and(|s| !s.is_empty());
                let managed =
                    variation["manage_stock"] == true || variation["manage_stock"] == "parent";
                if managed && has_sku {
                    shop.variations.push((parent, id));
                }
            }
        }
        Ok(shop)
    }
}

/// The random streams of the decisions added after the first version of
/// the driver, one a kind, each from the seed: a kind drawing from its own
/// stream leaves the draws of the others as they were.
pub struct Streams {
    /// Variation lines in customers' orders.
    pub variations: ChaCha8Rng,
    /// The shop admin's part refunds.
    pub refunds: ChaCha8Rng,
    /// The SKUs of the products the shop's admin adds.
    pub skus: ChaCha8Rng,
    /// What becomes of the drafts.
    pub drafts: ChaCha8Rng,
}

impl Streams {
    pub fn new(seed: u64) -> Self {
        let stream = |n| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(n);
            rng
        };
        Self {
            variations: stream(1),
            refunds: stream(2),
            skus: stream(3),
            drafts: stream(4),
        }
    }
}

/// The paid orders a part refund is drawn from: the latest ones (the
/// paid list grows by its end).
const RECENT_ORDERS: usize = 8;

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
#[allow(clippy::too_many_arguments)]
pub fn store_hour(
    rng: &mut ChaCha8Rng,
    streams: &mut Streams,
    store: &Sandbox,
    shop: &mut Shop,
    other: Option<(&Sandbox, &mut Shop)>,
    next_sku: &mut u64,
    local_hour: i8,
    done: &mut Done,
) -> anyhow::Result<()> {
    for _ in 0..rng.random_range(0..=busy(local_hour)) {
        place_order(rng, &mut streams.variations, store, shop)?;
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
    // The shop's admin, in office hours, refunds part of a recent paid
    // order now and then (an item could not be had, a customer changed
    // their mind or sent a unit back), whether the warehouse has picked
    // or shipped from it yet or not.
    if (8..20).contains(&local_hour) && !shop.paid.is_empty() && streams.refunds.random_bool(0.08) {
        let recent = shop.paid.len().saturating_sub(RECENT_ORDERS);
        let at = streams.refunds.random_range(recent..shop.paid.len());
        match refund_part(&mut streams.refunds, store, shop.paid[at])? {
            Refunded::Part => done.refunds += 1,
            Refunded::Whole => {
                // The last units: WooCommerce sets the order refunded.
                shop.paid.swap_remove(at);
                done.refunds += 1;
            }
            Refunded::Nothing => {}
        }
    }
    if local_hour == 10 {
        change_catalogue(rng, &mut streams.skus, store, shop, other, next_sku)?;
        done.product_changes += settle_drafts(&mut streams.drafts, store, shop)?;
        for id in std::mem::take(&mut shop.ordered_without_sku) {
            let sku = json!({ "sku": format!("FIXED-{id}") });
            store.rest(Method::PUT, &format!("wc/v3/products/{id}"), Some(&sku))?;
            done.product_changes += 1;
        }
        done.product_changes += 1;
    }
    Ok(())
}

fn place_order(
    rng: &mut ChaCha8Rng,
    variations: &mut ChaCha8Rng,
    store: &Sandbox,
    shop: &mut Shop,
) -> anyhow::Result<()> {
    if shop.managed.is_empty() {
        return Ok(());
    }
    let mut lines = Vec::new();
    for _ in 0..rng.random_range(1..=3) {
        let product = shop.managed[rng.random_range(0..shop.managed.len())];
        lines.push(json!({"product_id": product, "quantity": rng.random_range(1..=3)}));
    }
    if !shop.variations.is_empty() && variations.random_bool(0.4) {
        for _ in 0..variations.random_range(1..=2) {
            let (parent, variation) =
                shop.variations[variations.random_range(0..shop.variations.len())];
            lines.push(json!({"product_id": parent, "variation_id": variation,
                              "quantity": variations.random_range(1..=2)}));
        }
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

/// What a part refund did.
enum Refunded {
    /// Some units refunded; some are left.
    Part,
    /// The order's last units refunded: the order is refunded.
    Whole,
    /// The order is no longer paid (cancelled, refunded) or has nothing
    /// left to refund.
    Nothing,
}

/// Refunds part of paid order `id` as the shop's admin does in
/// WooCommerce: one line, all of what is left of it or some units, the
/// money of those units, restocked or not (`api_restock`). The store keeps
/// the order's lines and status (unless nothing is left) and lists the
/// refunded units in the order's refunds.
fn refund_part(rng: &mut ChaCha8Rng, store: &Sandbox, id: u64) -> anyhow::Result<Refunded> {
    let order = store.rest(Method::GET, &format!("wc/v3/orders/{id}"), None)?;
    if !matches!(order["status"].as_str(), Some("processing" | "completed")) {
        return Ok(Refunded::Nothing);
    }
    let refunds = store.rest(Method::GET, &format!("wc/v3/orders/{id}/refunds"), None)?;
    let refunded = refunded_by_line(&refunds);
    // (line, units left, cents left, cents a unit)
    let mut open = Vec::new();
    for line in order["line_items"].as_array().into_iter().flatten() {
        let line_id = line["id"].as_u64().context("line id")?;
        let quantity = line["quantity"].as_i64().context("line quantity")?;
        let cents = cents(line["total"].as_str().unwrap_or("0"));
        let (units, paid_back) = refunded.get(&line_id).copied().unwrap_or_default();
        if units < quantity {
            open.push((
                line_id,
                quantity - units,
                cents - paid_back,
                cents / quantity,
            ));
        }
    }
    let Some(&(line, left, cents_left, unit_cents)) =
        open.get(rng.random_range(0..open.len().max(1)))
    else {
        return Ok(Refunded::Nothing);
    };
    let units = if rng.random_bool(0.5) {
        left
    } else {
        rng.random_range(1..=left)
    };
    // What is left of the line's money when its last units go, so that
    // the refunds add up to the order's total.
    let amount = if units == left {
        cents_left
    } else {
        (unit_cents * units).min(cents_left)
    };
    store.rest(
        Method::POST,
        &format!("wc/v3/orders/{id}/refunds"),
        Some(&json!({
            "api_refund": false,
            "api_restock": rng.random_bool(0.5),
            "reason": "sent back by the customer",
            "line_items": [{"id": line, "quantity": units,
                            "refund_total": format!("{}.{:02}", amount / 100, amount % 100)}],
        })),
    )?;
    Ok(if open.len() == 1 && units == left {
        Refunded::Whole
    } else {
        Refunded::Part
    })
}

/// Units and cents refunded, by order line, from an order's refunds (each
/// refund line a negative quantity and total naming its order line in
/// `_refunded_item_id`).
pub fn refunded_by_line(refunds: &Value) -> HashMap<u64, (i64, i64)> {
    let mut by_line: HashMap<u64, (i64, i64)> = HashMap::new();
    for line in refunds
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["line_items"].as_array().into_iter().flatten())
    {
        let Some(order_line) = line["meta_data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["key"] == "_refunded_item_id")
            .and_then(|m| match &m["value"] {
                Value::String(s) => s.parse().ok(),
                v => v.as_u64(),
            })
        else {
            continue;
        };
        let entry = by_line.entry(order_line).or_default();
        entry.0 -= line["quantity"].as_i64().unwrap_or(0);
        entry.1 -= cents(line["total"].as_str().unwrap_or("0"));
    }
    by_line
}

/// A money amount in WooCommerce's text ("12.50", "-1.99") in cents.
fn cents(text: &str) -> i64 {
    let value: f64 = text.trim().parse().unwrap_or(0.0);
    (value * 100.0).round() as i64
}

/// One change of the catalogue: a product added (half the time in the
/// other store too, same SKU), renamed, priced, costed, drafted, trashed
/// or deleted.
fn change_catalogue(
    rng: &mut ChaCha8Rng,
    skus: &mut ChaCha8Rng,
    store: &Sandbox,
    shop: &mut Shop,
    other: Option<(&Sandbox, &mut Shop)>,
    next_sku: &mut u64,
) -> anyhow::Result<()> {
    let choice = rng.random_range(0..7);
    if choice == 0 || shop.managed.len() < 20 {
        *next_sku += 1;
        let body = json!({"name": format!("Soak product {next_sku}"), "type": "simple",
            "sku": new_sku(skus, *next_sku), "regular_price": "12.50",
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
            shop.drafts.push(shop.managed.swap_remove(at));
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

/// A draft's chance a day of being settled.
const DRAFT_SETTLED_A_DAY: f64 = 0.05;

/// The admin settles some drafts: each, with [`DRAFT_SETTLED_A_DAY`],
/// is published again or deleted for good (half and half). Drafts last
/// some 20 days, so a store holds a few at a time, as a shop does, rather
/// than one more every week for ever (each is an issue of every product
/// walk). Returns the products changed.
fn settle_drafts(rng: &mut ChaCha8Rng, store: &Sandbox, shop: &mut Shop) -> anyhow::Result<u64> {
    let mut changed = 0;
    let mut kept = Vec::new();
    for id in std::mem::take(&mut shop.drafts) {
        if !rng.random_bool(DRAFT_SETTLED_A_DAY) {
            kept.push(id);
            continue;
        }
        let route = format!("wc/v3/products/{id}");
        if rng.random_bool(0.5) {
            store.rest(Method::PUT, &route, Some(&json!({"status": "publish"})))?;
            shop.managed.push(id);
        } else {
            store.rest(Method::DELETE, &format!("{route}?force=true"), None)?;
        }
        changed += 1;
    }
    shop.drafts = kept;
    Ok(changed)
}

/// A new product's SKU: mostly `SOAK-N`, now and then as odd as shops make
/// them (lower case, a space, a slash and a hash, non-ASCII letters).
fn new_sku(skus: &mut ChaCha8Rng, n: u64) -> String {
    match skus.random_range(0..8) {
        0 => format!("soak-{n}"),
        1 => format!("SOAK {n} XL"),
        2 => format!("SOAK/{n}#B"),
        3 => format!("SOAK-{n}-Größe"),
        _ => format!("SOAK-{n}"),
    }
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
        .filter(|o| {
            o.lines
                .iter()
                .any(|l| !l.not_shipped && l.picked < l.ordered)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Refunds as `GET /orders/{id}/refunds` lists them: two of line 36
    /// (the line id as text, as WooCommerce stores meta), one of line 37
    /// (as a number), and a refund of money alone.
    #[test]
    fn refunded_units_and_money_add_up_by_order_line() {
        let refunds = json!([
            {"id": 3, "line_items": [
                {"quantity": -1, "total": "-4.99",
                 "meta_data": [{"key": "_refunded_item_id", "value": "36"}]}]},
            {"id": 2, "line_items": [
                {"quantity": -2, "total": "-9.98",
                 "meta_data": [{"key": "_refunded_item_id", "value": "36"}]},
                {"quantity": -1, "total": "-12.50",
                 "meta_data": [{"key": "_refunded_item_id", "value": 37}]}]},
            {"id": 1, "line_items": []}
        ]);
        assert_eq!(
            refunded_by_line(&refunds),
            HashMap::from([(36, (3, 1497)), (37, (1, 1250))])
        );
        assert!(refunded_by_line(&json!([])).is_empty());
    }

    #[test]
    fn money_is_read_in_cents() {
        assert_eq!(cents("12.50"), 1250);
        assert_eq!(cents("-1.99"), -199);
        assert_eq!(cents("0.29"), 29);
        assert_eq!(cents(""), 0);
    }
}
