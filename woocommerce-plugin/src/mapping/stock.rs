//! End of Day: the warehouse's quantities against the store's counts.
//! Pure: both sides in, the writes (only what differs) out.
//!
//! - the quantity sent is `available` (on hand less what open orders hold)
//!   or `on_hand`, never below zero;
//! - an item WooCommerce does not count (`manage_stock` false, or a
//!   variation counted by its parent: `"parent"`) is reported, not written;
//! - a safety limit stops the whole run when too large a share of the
//!   items would change, or drop to zero: a warehouse with no counts yet
//!   never wipes a store's stock by accident.

use plugin_api::Table;
use woo_client::model::{ManageStock, ProductType, StockRecord};

/// One of the plugin's items, as the warehouse counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarehouseCount {
    /// The store's id for it (the item's external id).
    pub store_id: u64,
    pub number: String,
    pub on_hand: i64,
    pub available: i64,
}

/// Where a count is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    /// `products/batch`.
    Products,
    /// `products/{parent}/variations/batch`.
    Variations { parent: u64 },
}

/// One count to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockWrite {
    pub store_id: u64,
    pub number: String,
    pub route: Route,
    pub store: Option<i64>,
    pub send: i64,
}

/// What End of Day would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockPlan {
    /// Counts that differ, to write.
    pub writes: Vec<StockWrite>,
    /// Items the store keeps no count of: `(number, why)`.
    pub unmanaged: Vec<(String, String)>,
    /// Items the store no longer has.
    pub missing: Vec<String>,
    /// Items whose counts were compared (the base of the safety limit).
    pub compared: usize,
}

/// Compares each warehouse count with the store's record of that id.
pub fn plan(store: &[StockRecord], warehouse: &[WarehouseCount], send_on_hand: bool) -> StockPlan {
    let by_id: std::collections::HashMap<u64, &StockRecord> =
        store.iter().map(|r| (r.id, r)).collect();
    let mut plan = StockPlan::default();
    for count in warehouse {
        let Some(record) = by_id.get(&count.store_id) else {
            plan.missing.push(count.number.clone());
            continue;
        };
        match record.manage_stock {
            ManageStock::Yes => {}
            ManageStock::No => {
                plan.unmanaged.push((
                    count.number.clone(),
                    "WooCommerce does not manage its stock".into(),
                ));
                continue;
            }
            ManageStock::Parent => {
                plan.unmanaged.push((
                    count.number.clone(),
                    "its variable product keeps the stock count for all its variations".into(),
                ));
                continue;
            }
        }
        plan.compared += 1;
        let send = if send_on_hand {
            count.on_hand
        } else {
            count.available
        }
        .max(0);
        if record.stock_quantity == Some(send) {
            continue;
        }
        let route = if record.kind == ProductType::Variation && record.parent_id != 0 {
            Route::Variations {
                parent: record.parent_id,
            }
        } else {
            Route::Products
        };
        plan.writes.push(StockWrite {
            store_id: count.store_id,
            number: count.number.clone(),
            route,
            store: record.stock_quantity,
            send,
        });
    }
    plan
}

/// Why the plan must not be written without `--force`, if it must not.
pub fn safety_stop(plan: &StockPlan, limit_percent: u8) -> Option<String> {
    let limit = usize::from(limit_percent);
    let base = plan.compared.max(1);
    let zeros = plan
        .writes
        .iter()
        .filter(|w| w.send == 0 && w.store.is_some_and(|s| s > 0))
        .count();
    let share = |n: usize| n * 100 / base;
    // Zeros are changes too; a wipe is named as such, being the worse case.
    let reason = if zeros * 100 > limit * base {
        format!(
            "it would set {zeros} of {} items to zero ({}%)",
            plan.compared,
            share(zeros)
        )
    } else if plan.writes.len() * 100 > limit * base {
        format!(
            "it would change {} of {} items ({}%)",
            plan.writes.len(),
            plan.compared,
            share(plan.writes.len())
        )
    } else {
        return None;
    };
    let sample = plan
        .writes
        .iter()
        .take(5)
        .map(|w| format!("{} {} -> {}", w.number, shown(w.store), w.send))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "nothing was written: {reason}, more than the safety limit of {limit_percent}% \
         (e.g. {sample}); check the warehouse's counts, then run it with --force to go ahead"
    ))
}

fn shown(quantity: Option<i64>) -> String {
    quantity.map_or_else(|| "-".into(), |q| q.to_string())
}

/// The drift table: item, WooCommerce's count, IntelliTrack's, what is sent.
pub fn drift_table(plan: &StockPlan, warehouse: &[WarehouseCount], send_on_hand: bool) -> Table {
    let mut table = Table::new(
        format!(
            "End of Day: {} of {} items differ",
            plan.writes.len(),
            plan.compared
        ),
        &[
            "item",
            "WooCommerce",
            if send_on_hand {
                "IntelliTrack on hand"
            } else {
                "IntelliTrack available"
            },
            "sent",
        ],
    );
    let counts: std::collections::HashMap<&str, &WarehouseCount> =
        warehouse.iter().map(|c| (c.number.as_str(), c)).collect();
    for write in &plan.writes {
        let ours = counts
            .get(write.number.as_str())
            .map_or(0, |c| if send_on_hand { c.on_hand } else { c.available });
        table.row(vec![
            write.number.clone(),
            shown(write.store),
            ours.to_string(),
            write.send.to_string(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(
        id: u64,
        kind: &str,
        parent: u64,
        manage: serde_json::Value,
        qty: Option<i64>,
    ) -> StockRecord {
        serde_json::from_value(json!({"id": id, "type": kind, "parent_id": parent,
                                      "manage_stock": manage, "stock_quantity": qty}))
        .unwrap()
    }

    fn count(id: u64, number: &str, on_hand: i64, available: i64) -> WarehouseCount {
        WarehouseCount {
            store_id: id,
            number: number.into(),
            on_hand,
            available,
        }
    }

    #[test]
    fn only_differing_managed_counts_are_written_to_their_route() {
        let store = [
            record(1, "simple", 0, json!(true), Some(5)),
            record(2, "simple", 0, json!(true), Some(4)),
            record(3, "simple", 0, json!(false), None),
            record(11, "variation", 10, json!(true), Some(0)),
            record(12, "variation", 10, json!("parent"), Some(9)),
        ];
        let warehouse = [
            count(1, "SAME", 7, 5),
            count(2, "DIFF", 6, -2),
            count(3, "UNMANAGED", 1, 1),
            count(11, "VAR", 3, 3),
            count(12, "PARENT", 2, 2),
            count(99, "GONE", 1, 1),
        ];
        let p = plan(&store, &warehouse, false);
        assert_eq!(
            p.writes
                .iter()
                .map(|w| (w.number.as_str(), w.route, w.send))
                .collect::<Vec<_>>(),
            [
                ("DIFF", Route::Products, 0),
                ("VAR", Route::Variations { parent: 10 }, 3)
            ],
            "never negative"
        );
        assert_eq!(p.compared, 3);
        assert_eq!(p.missing, ["GONE"]);
        assert_eq!(
            p.unmanaged
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            ["UNMANAGED", "PARENT"]
        );
        let on_hand = plan(&store, &warehouse, true);
        assert_eq!(
            on_hand
                .writes
                .iter()
                .map(|w| (w.number.as_str(), w.send))
                .collect::<Vec<_>>(),
            [("SAME", 7), ("DIFF", 6), ("VAR", 3)]
        );
    }

    #[test]
    fn the_safety_limit_stops_large_changes_and_wipes() {
        let store: Vec<StockRecord> = (1..=10)
            .map(|id| record(id, "simple", 0, json!(true), Some(5)))
            .collect();
        let unchanged: Vec<WarehouseCount> = (1..=10)
            .map(|id| count(id, &format!("I{id}"), 5, 5))
            .collect();
        let mut four_changed = unchanged.clone();
        for c in &mut four_changed[..4] {
            c.available = 6;
        }
        assert_eq!(safety_stop(&plan(&store, &four_changed, false), 50), None);
        let mut six_changed = unchanged.clone();
        for c in &mut six_changed[..6] {
            c.available = 6;
        }
        let stop = safety_stop(&plan(&store, &six_changed, false), 50).unwrap();
        assert!(
            stop.starts_with("nothing was written: it would change 6 of 10 items (60%)"),
            "{stop}"
        );
        assert!(stop.contains("I1 5 -> 6"), "{stop}");
        let mut wiped = unchanged.clone();
        for c in &mut wiped[..3] {
            c.available = 0;
        }
        assert!(
            safety_stop(&plan(&store, &wiped, false), 25)
                .unwrap()
                .contains("set 3 of 10 items to zero")
        );
        assert_eq!(safety_stop(&plan(&store, &wiped, false), 50), None);
    }
}
