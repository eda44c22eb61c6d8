//! The store's stock counts made to differ from the warehouse's before an
//! End of Day run, and the writes that run should need. Pure: the store's
//! records in, the changes and the targets out.
//!
//! Only records End of Day compares are chosen: published simple products
//! and variations with a SKU, that manage their own stock and are neither
//! virtual nor downloadable (the ones the import made stocked items of).
//! Each chosen count goes up by [`DRIFT`], which no warehouse count in the
//! generated store reaches, so every chosen item differs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::requests::{PER_PAGE, Requests, pages};

/// Added to a chosen record's stock count in the store.
pub const DRIFT: i64 = 1000;

/// The fields read to choose records.
pub const FIELDS: &str =
    "id,parent_id,type,status,sku,manage_stock,stock_quantity,virtual,downloadable";

/// A record End of Day compares: its id, parent (0 for a product) and count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub id: u64,
    pub parent: u64,
    pub stock: i64,
}

/// The record as End of Day would compare it, or `None` for one it leaves out.
pub fn counted(record: &Value) -> Option<Counted> {
    let kind = record["type"].as_str()?;
    let compared = matches!(kind, "simple" | "variation")
        && record["status"] == "publish"
        && record["manage_stock"] == true
        && record["virtual"] != true
        && record["downloadable"] != true
        && record["sku"].as_str().is_some_and(|s| !s.is_empty());
    compared.then_some(Counted {
        id: record["id"].as_u64()?,
        parent: match kind {
            "variation" => record["parent_id"].as_u64()?,
            _ => 0,
        },
        stock: record["stock_quantity"].as_i64()?,
    })
}

/// The counts to change, by the batch route that writes them back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// `(id, new count)` of products (`products/batch`).
    pub products: Vec<(u64, i64)>,
    /// `(id, new count)` of variations by parent (`products/{parent}/variations/batch`).
    pub variations: BTreeMap<u64, Vec<(u64, i64)>>,
}

impl Drift {
    /// Every `every`-th counted record (1: all of them), spread over the
    /// catalogue in the order given.
    pub fn choose(records: &[Counted], every: usize) -> Self {
        let mut drift = Drift::default();
        for record in records.iter().step_by(every.max(1)) {
            let change = (record.id, record.stock + DRIFT);
            if record.parent == 0 {
                drift.products.push(change);
            } else {
                drift
                    .variations
                    .entry(record.parent)
                    .or_default()
                    .push(change);
            }
        }
        drift
    }

    /// Records changed.
    pub fn len(&self) -> u64 {
        (self.products.len() + self.variations.values().map(Vec::len).sum::<usize>()) as u64
    }

    /// The counts as they were before the drift, as End of Day sends them
    /// back: batches of 100 by route, `[{"route", "update": [{"id",
    /// "stock_quantity"}]}]` (what a plain script posts).
    pub fn batches_back(&self) -> Value {
        let routes = std::iter::once(("products/batch".to_owned(), &self.products)).chain(
            self.variations
                .iter()
                .map(|(parent, changes)| (format!("products/{parent}/variations/batch"), changes)),
        );
        let batches: Vec<Value> = routes
            .flat_map(|(route, changes)| {
                changes
                    .chunks(PER_PAGE as usize)
                    .map(|chunk| {
                        let update: Vec<Value> = chunk
                            .iter()
                            .map(|(id, stock)| json!({"id": id, "stock_quantity": stock - DRIFT}))
                            .collect();
                        json!({"route": route, "update": update})
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        Value::Array(batches)
    }

    /// The fewest write requests that send these counts back: per route,
    /// `ceil(changed / 100)`.
    pub fn writes(&self) -> Writes {
        Writes {
            products: self.products.len().div_ceil(PER_PAGE as usize) as u64,
            variations: self
                .variations
                .values()
                .map(|v| v.len().div_ceil(PER_PAGE as usize) as u64)
                .sum(),
        }
    }
}

/// Write requests by batch route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Writes {
    /// `POST /wc/v3/products/batch`.
    pub products: u64,
    /// `POST /wc/v3/products/{id}/variations/batch`, all parents together.
    pub variations: u64,
}

impl Writes {
    /// The batch writes the store counted.
    pub fn counted(requests: &Requests) -> Self {
        let mut writes = Writes::default();
        for (route, n) in &requests.0 {
            if !route.ends_with("/batch") || route.starts_with("GET ") {
                continue;
            }
            if route.contains("/variations/") {
                writes.variations += n;
            } else {
                writes.products += n;
            }
        }
        writes
    }

    pub fn total(&self) -> u64 {
        self.products + self.variations
    }
}

/// The fewest read requests of End of Day: every product page and every
/// variation (a page of `GET /wc/v3/variations` from 10.3, else one
/// listing per variable product), then the orders' one page at least.
pub fn reads_minimum(products: u64, variable: u64, variations: u64, route: bool) -> u64 {
    let variation_reads = if route { pages(variations) } else { variable };
    pages(products) + variation_reads + 1
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_records_end_of_day_compares_are_counted() {
        let simple = json!({"id": 5, "parent_id": 0, "type": "simple", "status": "publish",
            "sku": "A", "manage_stock": true, "stock_quantity": 7, "virtual": false, "downloadable": false});
        assert_eq!(
            counted(&simple),
            Some(Counted {
                id: 5,
                parent: 0,
                stock: 7
            })
        );
        let variation = json!({"id": 9, "parent_id": 8, "type": "variation", "status": "publish",
            "sku": "A-S", "manage_stock": true, "stock_quantity": 0});
        assert_eq!(counted(&variation).map(|c| c.parent), Some(8));
        for (field, value) in [
            ("manage_stock", json!("parent")),
            ("manage_stock", json!(false)),
            ("type", json!("variable")),
            ("type", json!("external")),
            ("status", json!("draft")),
            ("sku", json!("")),
            ("virtual", json!(true)),
            ("downloadable", json!(true)),
            ("stock_quantity", json!(null)),
        ] {
            let mut record = simple.clone();
            record[field] = value.clone();
            assert_eq!(counted(&record), None, "{field} = {value}");
        }
    }

    #[test]
    fn writes_are_a_batch_per_hundred_per_route() {
        let mut records: Vec<Counted> = (1..=250)
            .map(|id| Counted {
                id,
                parent: 0,
                stock: 1,
            })
            .collect();
        records.extend((1..=3).flat_map(|parent| {
            (0..5).map(move |i| Counted {
                id: 1000 + parent * 10 + i,
                parent,
                stock: 2,
            })
        }));
        let all = Drift::choose(&records, 1);
        assert_eq!(all.len(), 265);
        assert_eq!(all.products[0], (1, 1 + DRIFT));
        assert_eq!(
            all.writes(),
            Writes {
                products: 3,
                variations: 3
            }
        );
        let one_in_100 = Drift::choose(&records, 100);
        assert_eq!(one_in_100.len(), 3);
        assert_eq!(one_in_100.writes().total(), 1);
        assert_eq!(Drift::choose(&[], 100).writes().total(), 0);
    }

    #[test]
    fn the_counts_go_back_in_batches_of_a_hundred_by_route() {
        let records: Vec<Counted> = (1..=150)
            .map(|id| Counted {
                id,
                parent: if id > 140 { 7 } else { 0 },
                stock: 3,
            })
            .collect();
        let back = Drift::choose(&records, 1).batches_back();
        let batches = back.as_array().unwrap();
        let routes: Vec<(&str, usize)> = batches
            .iter()
            .map(|b| {
                (
                    b["route"].as_str().unwrap(),
                    b["update"].as_array().unwrap().len(),
                )
            })
            .collect();
        assert_eq!(
            routes,
            [
                ("products/batch", 100),
                ("products/batch", 40),
                ("products/7/variations/batch", 10)
            ]
        );
        assert_eq!(
            batches[0]["update"][0],
            json!({"id": 1, "stock_quantity": 3})
        );
        assert_eq!(Drift::default().batches_back(), json!([]));
    }

    #[test]
    fn counted_writes_split_by_route() {
        let requests = Requests(
            [
                ("POST /wc/v3/products/batch", 2),
                ("POST /wc/v3/products/{id}/variations/batch", 7),
                ("GET /wc/v3/products", 11),
            ]
            .map(|(r, n)| (r.to_owned(), n))
            .into(),
        );
        assert_eq!(
            Writes::counted(&requests),
            Writes {
                products: 2,
                variations: 7
            }
        );
    }

    #[test]
    fn reads_follow_the_version() {
        assert_eq!(reads_minimum(100_000, 10_000, 50_000, true), 1000 + 500 + 1);
        assert_eq!(
            reads_minimum(100_000, 10_000, 50_000, false),
            1000 + 10_000 + 1
        );
    }
}
