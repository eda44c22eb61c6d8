//! A large store generated deterministically (same `random_seed`, same
//! store) and shaped like a real catalogue for import tests: mostly simple
//! products with managed stock, a few percent without SKU, unmanaged,
//! virtual, downloadable, external, grouped (with children) or draft;
//! variable products with their variations (a few of them managing stock
//! at the parent, so their variations show `manage_stock: "parent"`); cost
//! of goods on products and variations; and orders in every status, those
//! that took stock (processing, on-hold, completed, refunded) carrying
//! `_reduced_stock` on their stock-managed lines as WooCommerce leaves them.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::model::{
    Address, Attribute, LineItem, MetaEntry, Order, Product, ProductType, ShippingLine,
    status_reduces_stock,
};
use crate::seed::Seed;

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSpec {
    /// Top-level products in total (variable ones included).
    pub products: u64,
    /// How many of them are variable (each with
    /// [`DEFAULT_VARIATIONS`] variations, or as many as
    /// [`generate_with`] is given).
    pub variable: u64,
    /// Orders.
    pub orders: u64,
    /// Seed of the generator.
    pub random_seed: u64,
    /// The instant the newest record is modified at.
    pub now: Timestamp,
}

/// Variations per variable product unless told otherwise.
pub const DEFAULT_VARIATIONS: u64 = 5;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn cogs(&mut self, max_cents: u64) -> f64 {
        (self.below(max_cents) as f64) / 20.0
    }
}

const SIZES: [&str; 9] = ["XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL", "5XL"];
const STATUSES: [&str; 8] = [
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "processing",
];

/// The `n`-th size option.
fn size(n: u64) -> String {
    SIZES
        .get(n as usize)
        .map_or_else(|| format!("Size {}", n + 1), |s| (*s).to_owned())
}

/// A published simple product with managed stock (0 on hand).
fn base_product(
    id: u64,
    name: String,
    sku: String,
    created: Timestamp,
    modified: Timestamp,
) -> Product {
    let mut p = Product::new(id, modified);
    p.name = name;
    p.sku = sku;
    p.manage_stock = true;
    p.stock_quantity = Some(0);
    p.date_created = created;
    p
}

fn price(rng: &mut Rng) -> String {
    format!("{}.{:02}", 1 + rng.below(200), rng.below(100))
}

fn unmanaged(p: &mut Product) {
    p.manage_stock = false;
    p.stock_quantity = None;
}

/// Something an order line can sell.
#[derive(Clone)]
struct Sellable {
    product_id: u64,
    variation_id: u64,
    name: String,
    price: String,
    /// Its stock is managed (itself or, for a variation, its parent).
    managed: bool,
    /// The variation's option, for the line's `size` meta.
    option: Option<String>,
}

/// Generate a store with [`DEFAULT_VARIATIONS`] variations per variable
/// product.
pub fn generate(spec: &GenerateSpec) -> Seed {
    generate_with(spec, DEFAULT_VARIATIONS)
}

/// Generate a store with `variations` variations per variable product.
pub fn generate_with(spec: &GenerateSpec, variations: u64) -> Seed {
    let mut rng = Rng(spec.random_seed);
    let mut products = Vec::with_capacity((spec.products + spec.variable * variations) as usize);
    let start = spec.now - SignedDuration::from_hours(24 * 90);
    let span = 24 * 90 * 3600;
    let mut id = 10;
    let mut sellable: Vec<Sellable> = Vec::new();
    let variable_every = spec
        .products
        .checked_div(spec.variable)
        .map_or(u64::MAX, |d| d.max(1));
    let mut variable_made = 0;
    for n in 0..spec.products {
        id += 1;
        let created = start + SignedDuration::from_secs((rng.below(span / 2)) as i64);
        let modified = created + SignedDuration::from_secs(rng.below(span / 2) as i64);
        let mut p = base_product(
            id,
            format!("Product {n:06}"),
            format!("SKU-{n:06}"),
            created,
            modified,
        );
        p.regular_price = price(&mut rng);
        p.cost_of_goods_sold = Some(rng.cogs(500));
        if variable_made < spec.variable && n % variable_every == 0 {
            // Every 20th variable product (never the first) keeps its stock
            // at the parent; its variations then draw on it.
            let parent_stock = variable_made % 20 == 19;
            variable_made += 1;
            p.kind = ProductType::Variable;
            p.name = format!("Variable Product {n:06}");
            p.regular_price.clear();
            if parent_stock {
                p.stock_quantity = Some(rng.below(200) as i64);
            } else {
                unmanaged(&mut p);
            }
            let options: Vec<String> = (0..variations).map(size).collect();
            p.attributes = vec![Attribute {
                name: "Size".into(),
                options: options.clone(),
                option: None,
            }];
            let (parent, parent_name) = (p.id, p.name.clone());
            products.push(p);
            for option in options {
                id += 1;
                let mut v = base_product(
                    id,
                    format!("{parent_name} - {option}"),
                    format!("SKU-{n:06}-{option}").replace(' ', ""),
                    created,
                    modified,
                );
                v.kind = ProductType::Variation;
                v.parent_id = parent;
                v.regular_price = price(&mut rng);
                v.cost_of_goods_sold = Some(rng.cogs(300));
                if parent_stock {
                    unmanaged(&mut v);
                } else {
                    v.stock_quantity = Some(rng.below(50) as i64);
                }
                v.attributes = vec![Attribute {
                    name: "Size".into(),
                    options: Vec::new(),
                    option: Some(option.clone()),
                }];
                sellable.push(Sellable {
                    product_id: parent,
                    variation_id: v.id,
                    name: v.name.clone(),
                    price: v.regular_price.clone(),
                    managed: true,
                    option: Some(option),
                });
                products.push(v);
            }
            continue;
        }
        match rng.below(100) {
            0 => p.status = "draft".into(),
            1..=3 => p.sku.clear(),
            4 | 5 => unmanaged(&mut p),
            6 | 7 => {
                p.is_virtual = true;
                unmanaged(&mut p);
            }
            8 | 9 => {
                p.is_virtual = true;
                p.downloadable = true;
                unmanaged(&mut p);
                p.downloads = vec![
                    json!({ "id": "", "name": "file.pdf", "file": "https://example.test/file.pdf" }),
                ];
            }
            10 => {
                p.kind = ProductType::External;
                unmanaged(&mut p);
                p.external_url = "https://example.test/elsewhere".into();
                p.button_text = "Buy elsewhere".into();
            }
            11 if sellable.len() > 3 => {
                p.kind = ProductType::Grouped;
                unmanaged(&mut p);
                p.regular_price.clear();
                p.cost_of_goods_sold = None;
                let simple: Vec<u64> = sellable
                    .iter()
                    .rev()
                    .filter(|s| s.variation_id == 0)
                    .take(2 + rng.below(2) as usize)
                    .map(|s| s.product_id)
                    .collect();
                p.grouped_products = simple;
            }
            _ => {
                let q = rng.below(120) as i64 - 10;
                p.stock_quantity = Some(q);
                if q <= 0 {
                    p.stock_status = "outofstock".into();
                }
            }
        }
        if p.kind == ProductType::Simple && p.status == "publish" {
            sellable.push(Sellable {
                product_id: p.id,
                variation_id: 0,
                name: p.name.clone(),
                price: p.regular_price.clone(),
                managed: p.manage_stock,
                option: None,
            });
        }
        products.push(p);
    }
    let orders = generate_orders(spec, &mut rng, &sellable, id, start, span);
    Seed {
        products,
        orders,
        notes: Vec::new(),
    }
}

fn generate_orders(
    spec: &GenerateSpec,
    rng: &mut Rng,
    sellable: &[Sellable],
    mut id: u64,
    start: Timestamp,
    span: u64,
) -> Vec<Order> {
    let mut item_id = 1;
    let mut orders = Vec::with_capacity(spec.orders as usize);
    for n in 0..spec.orders {
        id += 1;
        let created = start + SignedDuration::from_secs(rng.below(span) as i64);
        let modified =
            (created + SignedDuration::from_secs(rng.below(86_400 * 3) as i64)).min(spec.now);
        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
        // Refunded orders went through processing and were refunded
        // without restocking, so they keep their reduction.
        let took_stock = status_reduces_stock(status) || status == "refunded";
        let mut line_items = Vec::new();
        for _ in 0..(1 + rng.below(3)) {
            if sellable.is_empty() {
                break;
            }
            let s = &sellable[rng.below(sellable.len() as u64) as usize];
            let quantity = 1 + rng.below(3) as i64;
            let total = format!(
                "{:.2}",
                s.price.parse::<f64>().unwrap_or(0.0) * quantity as f64
            );
            let mut line = LineItem {
                id: item_id,
                name: s.name.clone(),
                product_id: s.product_id,
                variation_id: s.variation_id,
                quantity,
                subtotal: total.clone(),
                total,
                meta_data: s
                    .option
                    .iter()
                    .map(|o| MetaEntry {
                        id: 0,
                        key: "size".into(),
                        value: json!(o),
                    })
                    .collect(),
            };
            if took_stock && s.managed {
                line.set_reduced_stock(Some(quantity));
            }
            line_items.push(line);
            item_id += 1;
        }
        let shipping_lines = vec![ShippingLine {
            id: item_id,
            method_title: "Flat rate".into(),
            method_id: "flat_rate".into(),
            instance_id: "1".into(),
            total: "5.00".into(),
            meta_data: Vec::new(),
        }];
        item_id += 1;
        let address = Address {
            first_name: format!("Customer{n}"),
            last_name: "Test".into(),
            address_1: format!("{} Main Street", 1 + n % 500),
            city: "Testville".into(),
            postcode: format!("{:05}", n % 100_000),
            country: "US".into(),
            email: format!("customer{n}@example.test"),
            phone: "555-0100".into(),
            ..Address::default()
        };
        let mut o = Order::new(id, modified);
        o.status = status.into();
        o.date_created = created;
        o.date_paid = matches!(status, "processing" | "completed" | "refunded").then_some(created);
        o.date_completed = (status == "completed").then_some(modified);
        o.billing = address.clone();
        o.shipping = Address {
            email: String::new(),
            phone: String::new(),
            ..address
        };
        o.payment_method = "bacs".into();
        o.payment_method_title = "Direct bank transfer".into();
        o.created_via = "checkout".into();
        o.line_items = line_items;
        o.shipping_lines = shipping_lines;
        o.stock_reduced = Some(took_stock);
        orders.push(o);
    }
    orders
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> GenerateSpec {
        GenerateSpec {
            products: 1000,
            variable: 100,
            orders: 200,
            random_seed: seed,
            now: "2030-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    fn count(seed: &Seed, f: impl Fn(&Product) -> bool) -> usize {
        seed.products.iter().filter(|p| f(p)).count()
    }

    #[test]
    fn deterministic_and_sized() {
        let a = generate(&spec(1));
        assert_eq!(a, generate(&spec(1)));
        assert_ne!(a, generate(&spec(2)));
        let top = count(&a, |p| p.kind != ProductType::Variation);
        let variable = count(&a, |p| p.kind == ProductType::Variable);
        let variations = count(&a, |p| p.kind == ProductType::Variation);
        assert_eq!(
            (top, variable, variations, a.orders.len()),
            (1000, 100, 500, 200)
        );
        assert!(a.orders.iter().all(|o| !o.line_items.is_empty()));
        let seven = generate_with(&spec(1), 7);
        assert_eq!(count(&seven, |p| p.kind == ProductType::Variation), 700);
    }

    #[test]
    fn shaped_like_a_real_catalogue() {
        let s = generate(&spec(3));
        let pct = |n: usize| n * 100 / 1000;
        let no_sku = count(&s, |p| p.sku.is_empty() && p.parent_id == 0);
        assert!((1..=6).contains(&pct(no_sku)), "{no_sku} without SKU");
        assert!(count(&s, |p| p.is_virtual && !p.downloadable) > 0);
        assert!(count(&s, |p| p.downloadable) > 0);
        assert!(count(&s, |p| p.kind == ProductType::External) > 0);
        let grouped: Vec<&Product> = s
            .products
            .iter()
            .filter(|p| p.kind == ProductType::Grouped)
            .collect();
        assert!(!grouped.is_empty() && grouped.iter().all(|g| g.grouped_products.len() >= 2));
        assert!(
            count(&s, |p| p.kind == ProductType::Variation
                && p.cost_of_goods_sold.is_some())
                > 0
        );
        let parent_managed = count(&s, |p| p.kind == ProductType::Variable && p.manage_stock);
        assert_eq!(parent_managed, 5);
    }

    #[test]
    fn orders_that_took_stock_carry_reduced_stock() {
        let s = generate(&spec(4));
        for o in &s.orders {
            let took = matches!(
                o.status.as_str(),
                "processing" | "on-hold" | "completed" | "refunded"
            );
            assert_eq!(o.stock_reduced, Some(took), "order {}", o.id);
            for l in &o.line_items {
                if !took {
                    assert_eq!(l.reduced_stock(), None);
                }
            }
        }
        let reduced_lines = s
            .orders
            .iter()
            .flat_map(|o| &o.line_items)
            .filter(|l| l.reduced_stock() == Some(l.quantity))
            .count();
        assert!(reduced_lines > 0);
    }
}
