//! A large store generated deterministically (same `random_seed`, same
//! store): simple products with a few of every other kind, variable
//! products with variations, and orders in every status.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::model::{
    Address, Attribute, LineItem, MetaEntry, Order, Product, ProductType, ShippingLine,
};
use crate::seed::Seed;

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSpec {
    /// Top-level products in total (variable ones included).
    pub products: u64,
    /// How many of them are variable (3 variations each).
    pub variable: u64,
    /// Orders.
    pub orders: u64,
    /// Seed of the generator.
    pub random_seed: u64,
    /// The instant the newest record is modified at.
    pub now: Timestamp,
}

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
}

const SIZES: [&str; 3] = ["S", "M", "L"];
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

/// Generate a store.
pub fn generate(spec: &GenerateSpec) -> Seed {
    let mut rng = Rng(spec.random_seed);
    let mut products = Vec::with_capacity((spec.products + spec.variable * 3) as usize);
    let start = spec.now - SignedDuration::from_hours(24 * 90);
    let span = 24 * 90 * 3600;
    let mut id = 10;
    let mut sellable = Vec::new();
    let variable_every = spec
        .products
        .checked_div(spec.variable)
        .map_or(u64::MAX, |d| d.max(1));
    let mut variable_left = spec.variable;
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
        p.cost_of_goods_sold = Some((rng.below(500) as f64) / 20.0);
        if variable_left > 0 && n % variable_every == 0 {
            variable_left -= 1;
            p.kind = ProductType::Variable;
            p.name = format!("Variable Product {n:06}");
            p.regular_price.clear();
            p.manage_stock = false;
            p.stock_quantity = None;
            p.attributes = vec![Attribute {
                name: "Size".into(),
                options: SIZES.iter().map(|s| (*s).to_owned()).collect(),
                option: None,
            }];
            let parent = p.id;
            let parent_name = p.name.clone();
            products.push(p);
            for size in SIZES {
                id += 1;
                let mut v = base_product(
                    id,
                    format!("{parent_name} - {size}"),
                    format!("SKU-{n:06}-{size}"),
                    created,
                    modified,
                );
                v.kind = ProductType::Variation;
                v.parent_id = parent;
                v.regular_price = price(&mut rng);
                v.stock_quantity = Some(rng.below(50) as i64);
                v.cost_of_goods_sold = Some((rng.below(300) as f64) / 20.0);
                v.attributes = vec![Attribute {
                    name: "Size".into(),
                    options: Vec::new(),
                    option: Some(size.into()),
                }];
                sellable.push((parent, v.id, v.name.clone(), v.regular_price.clone()));
                products.push(v);
            }
            continue;
        }
        match rng.below(100) {
            0 => p.status = "draft".into(),
            1 => p.sku.clear(),
            2 | 3 => {
                p.manage_stock = false;
                p.stock_quantity = None;
            }
            4 => {
                p.is_virtual = true;
                p.manage_stock = false;
                p.stock_quantity = None;
            }
            5 => {
                p.is_virtual = true;
                p.downloadable = true;
                p.manage_stock = false;
                p.stock_quantity = None;
                p.downloads = vec![
                    json!({ "id": "", "name": "file.pdf", "file": "https://example.test/file.pdf" }),
                ];
            }
            6 => {
                p.kind = ProductType::External;
                p.manage_stock = false;
                p.stock_quantity = None;
                p.external_url = "https://example.test/elsewhere".into();
                p.button_text = "Buy elsewhere".into();
            }
            7 if products.len() > 2 => {
                p.kind = ProductType::Grouped;
                p.manage_stock = false;
                p.stock_quantity = None;
                p.regular_price.clear();
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
            sellable.push((p.id, 0, p.name.clone(), p.regular_price.clone()));
        }
        products.push(p);
    }
    let mut item_id = 1;
    let mut orders = Vec::with_capacity(spec.orders as usize);
    for n in 0..spec.orders {
        id += 1;
        let created = start + SignedDuration::from_secs(rng.below(span) as i64);
        let modified =
            (created + SignedDuration::from_secs(rng.below(86_400 * 3) as i64)).min(spec.now);
        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
        let mut line_items = Vec::new();
        for _ in 0..(1 + rng.below(3)) {
            if sellable.is_empty() {
                break;
            }
            let (product_id, variation_id, name, unit) =
                sellable[rng.below(sellable.len() as u64) as usize].clone();
            let quantity = 1 + rng.below(3) as i64;
            let total = format!(
                "{:.2}",
                unit.parse::<f64>().unwrap_or(0.0) * quantity as f64
            );
            let meta_data = if variation_id != 0 {
                vec![MetaEntry {
                    id: 0,
                    key: "size".into(),
                    value: json!(name.rsplit(' ').next().unwrap_or("")),
                }]
            } else {
                Vec::new()
            };
            line_items.push(LineItem {
                id: item_id,
                name,
                product_id,
                variation_id,
                quantity,
                subtotal: total.clone(),
                total,
                meta_data,
            });
            item_id += 1;
        }
        let shipping_lines = vec![ShippingLine {
            id: item_id,
            method_title: "Flat rate".into(),
            method_id: "flat_rate".into(),
            instance_id: "1".into(),
            total: "5.00".into(),
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
        orders.push(Order {
            id,
            status: status.into(),
            currency: "USD".into(),
            date_created: created,
            date_modified: modified,
            date_paid: matches!(status, "processing" | "completed" | "refunded").then_some(created),
            date_completed: (status == "completed").then_some(modified),
            customer_id: 0,
            order_key: String::new(),
            billing: address.clone(),
            shipping: Address {
                email: String::new(),
                phone: String::new(),
                ..address
            },
            payment_method: "bacs".into(),
            payment_method_title: "Direct bank transfer".into(),
            transaction_id: String::new(),
            created_via: "checkout".into(),
            customer_note: String::new(),
            discount_total: String::new(),
            meta_data: Vec::new(),
            line_items,
            shipping_lines,
            refunds: Vec::new(),
        });
    }
    Seed {
        products,
        orders,
        notes: Vec::new(),
    }
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

    #[test]
    fn deterministic_and_sized() {
        let a = generate(&spec(1));
        assert_eq!(a, generate(&spec(1)));
        assert_ne!(a, generate(&spec(2)));
        let top = a
            .products
            .iter()
            .filter(|p| p.kind != ProductType::Variation)
            .count();
        let variable = a
            .products
            .iter()
            .filter(|p| p.kind == ProductType::Variable)
            .count();
        let variations = a
            .products
            .iter()
            .filter(|p| p.kind == ProductType::Variation)
            .count();
        assert_eq!(
            (top, variable, variations, a.orders.len()),
            (1000, 100, 300, 200)
        );
        assert!(a.orders.iter().all(|o| !o.line_items.is_empty()));
    }
}
