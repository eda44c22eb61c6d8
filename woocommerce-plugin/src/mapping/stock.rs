//! End of Day: the warehouse's quantities against the store's counts.
//! Pure: both sides in, the writes (only what differs) out.
//!
//! - what a store count should be is the warehouse's quantity (`available`,
//!   on hand less what open orders hold, or `on_hand`) less what the store
//!   holds for orders the warehouse does not have ([`super::holds`]) and
//!   what a negative opening count still owes;
//! - below zero it is sent as it is where the store allows backorders for
//!   that product or variation, else 0 (and reported);
//! - variations whose variable product keeps one count for all of them
//!   (`manage_stock: "parent"`) are a pool: the parent gets the sum, and
//!   only once every variation of the pool is an item the warehouse has
//!   counted; until then the pool is left alone and reported;
//! - an item WooCommerce does not count (`manage_stock` false) is
//!   reported, not written;
//! - a safety limit stops the whole run when too large a share of the
//!   items would change, or drop to zero: a warehouse with no counts yet
//!   never wipes a store's stock by accident.

use std::collections::{BTreeMap, HashMap};

use plugin_api::Table;
use woo_client::model::{ManageStock, ProductType, StockRecord};

use super::holds::Holds;

/// One of the plugin's items, as the warehouse counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarehouseCount {
    /// The store's id for it (the item's external id).
    pub store_id: u64,
    pub number: String,
    pub on_hand: i64,
    pub available: i64,
    /// What a negative opening count still owes to store orders the
    /// warehouse does not have.
    pub owed: i64,
    /// The warehouse has received or adjusted it at least once.
    pub counted: bool,
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
    /// The product or variation written (a pool's parent product).
    pub store_id: u64,
    /// The item, or a pool's items joined.
    pub number: String,
    pub route: Route,
    /// The store's count as read.
    pub store: Option<i64>,
    /// The warehouse's quantity (available or on hand).
    pub warehouse: i64,
    /// What the store holds for orders the warehouse does not have.
    pub held: i64,
    pub send: i64,
}

impl StockWrite {
    /// What to add to the store's count as read.
    pub fn delta(&self) -> i64 {
        self.send - self.store.unwrap_or(0)
    }
}

/// What End of Day would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockPlan {
    /// Counts that differ, to write.
    pub writes: Vec<StockWrite>,
    /// Items the store keeps no count of, or pools not sent: `(number, why)`.
    pub unmanaged: Vec<(String, String)>,
    /// Items below zero sent as 0 because the store allows no backorders:
    /// `(number, what it would have been)`.
    pub clamped: Vec<(String, i64)>,
    /// Items the store no longer has.
    pub missing: Vec<String>,
    /// Counts compared (the base of the safety limit); a pool counts once.
    pub compared: usize,
}

/// What the warehouse says one item's (or pool's) store count should be.
struct Wanted {
    warehouse: i64,
    held: i64,
}

impl Wanted {
    fn of(count: &WarehouseCount, holds: &Holds, send_on_hand: bool) -> Self {
        Self {
            warehouse: if send_on_hand {
                count.on_hand
            } else {
                count.available
            },
            held: holds.get(&count.store_id).copied().unwrap_or(0) + count.owed,
        }
    }

    fn quantity(&self) -> i64 {
        self.warehouse - self.held
    }
}

/// Compares each warehouse count with the store's record of that id.
pub fn plan(
    store: &[StockRecord],
    warehouse: &[WarehouseCount],
    holds: &Holds,
    send_on_hand: bool,
) -> StockPlan {
    let by_id: HashMap<u64, &StockRecord> = store.iter().map(|r| (r.id, r)).collect();
    let mut plan = StockPlan::default();
    let mut pools: BTreeMap<u64, Vec<(&WarehouseCount, Wanted)>> = BTreeMap::new();
    for count in warehouse {
        let Some(record) = by_id.get(&count.store_id) else {
            plan.missing.push(count.number.clone());
            continue;
        };
        let wanted = Wanted::of(count, holds, send_on_hand);
        match record.manage_stock {
            ManageStock::Yes => {
                let route = if record.kind == ProductType::Variation && record.parent_id != 0 {
                    Route::Variations {
                        parent: record.parent_id,
                    }
                } else {
                    Route::Products
                };
                plan.compare(record, count.number.clone(), route, wanted);
            }
            ManageStock::No => plan.unmanaged.push((
                count.number.clone(),
                "WooCommerce does not manage its stock".into(),
            )),
            ManageStock::Parent => pools
                .entry(record.parent_id)
                .or_default()
                .push((count, wanted)),
        }
    }
    for (parent, members) in pools {
        plan.pool(store, by_id.get(&parent).copied(), members);
    }
    plan
}

impl StockPlan {
    fn compare(&mut self, record: &StockRecord, number: String, route: Route, wanted: Wanted) {
        self.compared += 1;
        let quantity = wanted.quantity();
        let send = if quantity < 0 && !record.allows_backorders() {
            self.clamped.push((number.clone(), quantity));
            0
        } else {
            quantity
        };
        if record.stock_quantity == Some(send) {
            return;
        }
        self.writes.push(StockWrite {
            store_id: record.id,
            number,
            route,
            store: record.stock_quantity,
            warehouse: wanted.warehouse,
            held: wanted.held,
            send,
        });
    }

    /// A pool: the parent's count is the sum of its variations', sent only
    /// when every variation sharing it is an item the warehouse counted.
    fn pool(
        &mut self,
        store: &[StockRecord],
        parent: Option<&StockRecord>,
        members: Vec<(&WarehouseCount, Wanted)>,
    ) {
        let mut numbers: Vec<&str> = members.iter().map(|(c, _)| c.number.as_str()).collect();
        numbers.sort_unstable();
        let name = numbers.join(", ");
        let Some(parent) = parent.filter(|p| p.manage_stock == ManageStock::Yes) else {
            for (count, _) in &members {
                self.unmanaged.push((
                    count.number.clone(),
                    "its variable product keeps the stock count, and WooCommerce no longer lists that count".into(),
                ));
            }
            return;
        };
        let sharing = store
            .iter()
            .filter(|r| r.parent_id == parent.id && r.manage_stock == ManageStock::Parent)
            .count();
        let uncounted: Vec<&str> = members
            .iter()
            .filter(|(c, _)| !c.counted)
            .map(|(c, _)| c.number.as_str())
            .collect();
        let why = if sharing > members.len() {
            Some(format!(
                "{} of the {sharing} variations sharing it are items",
                members.len()
            ))
        } else if !uncounted.is_empty() {
            Some(format!(
                "{} not counted in the warehouse yet",
                uncounted.join(", ")
            ))
        } else {
            None
        };
        if let Some(why) = why {
            self.unmanaged.push((
                name,
                format!(
                    "they share the store's count of {}; it is left alone until every variation is counted in the warehouse ({why})",
                    shown(parent.stock_quantity)
                ),
            ));
            return;
        }
        let wanted = members.iter().fold(
            Wanted {
                warehouse: 0,
                held: 0,
            },
            |sum, (_, w)| Wanted {
                warehouse: sum.warehouse + w.warehouse,
                held: sum.held + w.held,
            },
        );
        self.compare(parent, name, Route::Products, wanted);
    }
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
         (e.g. {sample}); check the warehouse's counts, then run it with force to go ahead \
         (the force box on the admin page's jobs page, or --force from the command line)"
    ))
}

fn shown(quantity: Option<i64>) -> String {
    quantity.map_or_else(|| "-".into(), |q| q.to_string())
}

/// The drift table: item, WooCommerce's count, IntelliTrack's, what the
/// store holds for orders IntelliTrack does not have, what is sent.
pub fn drift_table(plan: &StockPlan, send_on_hand: bool) -> Table {
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
            "held by the store",
            "sent",
        ],
    );
    for write in &plan.writes {
        table.row(vec![
            write.number.clone(),
            shown(write.store),
            write.warehouse.to_string(),
            write.held.to_string(),
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

    fn backordered(mut r: StockRecord) -> StockRecord {
        r.backorders = "notify".into();
        r
    }

    fn count(id: u64, number: &str, on_hand: i64, available: i64) -> WarehouseCount {
        WarehouseCount {
            store_id: id,
            number: number.into(),
            on_hand,
            available,
            owed: 0,
            counted: true,
        }
    }

    fn sent(p: &StockPlan) -> Vec<(&str, Route, Option<i64>, i64)> {
        p.writes
            .iter()
            .map(|w| (w.number.as_str(), w.route, w.store, w.send))
            .collect()
    }

    #[test]
    fn only_differing_managed_counts_are_written_to_their_route() {
        let store = [
            record(1, "simple", 0, json!(true), Some(5)),
            record(2, "simple", 0, json!(true), Some(4)),
            record(3, "simple", 0, json!(false), None),
            record(11, "variation", 10, json!(true), Some(0)),
        ];
        let warehouse = [
            count(1, "SAME", 7, 5),
            count(2, "DIFF", 6, -2),
            count(3, "UNMANAGED", 1, 1),
            count(11, "VAR", 3, 3),
            count(99, "GONE", 1, 1),
        ];
        let p = plan(&store, &warehouse, &Holds::new(), false);
        assert_eq!(
            sent(&p),
            [
                ("DIFF", Route::Products, Some(4), 0),
                ("VAR", Route::Variations { parent: 10 }, Some(0), 3)
            ],
            "never below zero without backorders"
        );
        assert_eq!(p.clamped, [("DIFF".to_owned(), -2)]);
        assert_eq!(p.compared, 3);
        assert_eq!(p.missing, ["GONE"]);
        assert_eq!(p.unmanaged[0].0, "UNMANAGED");
        let on_hand = plan(&store, &warehouse, &Holds::new(), true);
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
    fn what_the_store_holds_and_owes_is_taken_off_and_backorders_stay_negative() {
        let store = [
            record(1, "simple", 0, json!(true), Some(3)),
            backordered(record(2, "simple", 0, json!(true), Some(-5))),
            record(3, "simple", 0, json!(true), Some(0)),
        ];
        let mut owing = count(2, "BACK", 0, -3);
        owing.owed = 2;
        let warehouse = [count(1, "HELD", 4, 4), owing, count(3, "SHORT", 0, -1)];
        // One unit of HELD is on an on-hold order the warehouse does not have.
        let holds = Holds::from([(1, 1)]);
        let p = plan(&store, &warehouse, &holds, false);
        assert_eq!(p.writes, [], "every count already agrees: {p:?}");
        assert_eq!(p.clamped, [("SHORT".to_owned(), -1)]);
        // Without the hold, the store would be told 4 and sell a promised unit.
        let p = plan(&store, &warehouse, &Holds::new(), false);
        assert_eq!(sent(&p), [("HELD", Route::Products, Some(3), 4)]);
        assert_eq!((p.writes[0].held, p.writes[0].delta()), (0, 1));
        // The backordered product follows the warehouse below zero.
        let mut fewer = warehouse.clone();
        fewer[1].available = -4;
        let p = plan(&store, &fewer, &holds, false);
        assert_eq!(sent(&p), [("BACK", Route::Products, Some(-5), -6)]);
        assert_eq!((p.writes[0].warehouse, p.writes[0].held), (-4, 2));
    }

    #[test]
    fn a_pool_gets_the_sum_once_every_variation_is_counted() {
        let store = [
            record(10, "variable", 0, json!(true), Some(17)),
            record(11, "variation", 10, json!("parent"), Some(17)),
            record(12, "variation", 10, json!("parent"), Some(17)),
        ];
        let mut red = count(11, "RED", 0, 0);
        red.counted = false;
        let blue = count(12, "BLUE", 0, 0);
        let p = plan(&store, &[red.clone(), blue.clone()], &Holds::new(), false);
        assert_eq!(p.writes, [], "never 0 to a pool because it was not counted");
        assert_eq!(p.unmanaged.len(), 1);
        assert!(
            p.unmanaged[0].1.contains("share the store's count of 17")
                && p.unmanaged[0].1.contains("RED not counted"),
            "{:?}",
            p.unmanaged
        );
        let p = plan(&store, std::slice::from_ref(&blue), &Holds::new(), false);
        assert!(p.unmanaged[0].1.contains("1 of the 2 variations"), "{p:?}");

        let (mut red, mut blue) = (red, blue);
        red.counted = true;
        (red.on_hand, red.available) = (10, 9);
        (blue.on_hand, blue.available) = (8, 8);
        let holds = Holds::from([(12, 1)]);
        let p = plan(&store, &[red, blue], &holds, false);
        assert_eq!(sent(&p), [("BLUE, RED", Route::Products, Some(17), 16)]);
        assert_eq!(p.compared, 1);
    }

    #[test]
    fn the_safety_limit_stops_large_changes_and_wipes() {
        let store: Vec<StockRecord> = (1..=10)
            .map(|id| record(id, "simple", 0, json!(true), Some(5)))
            .collect();
        let unchanged: Vec<WarehouseCount> = (1..=10)
            .map(|id| count(id, &format!("I{id}"), 5, 5))
            .collect();
        let none = Holds::new();
        let mut four_changed = unchanged.clone();
        for c in &mut four_changed[..4] {
            c.available = 6;
        }
        assert_eq!(
            safety_stop(&plan(&store, &four_changed, &none, false), 50),
            None
        );
        let mut six_changed = unchanged.clone();
        for c in &mut six_changed[..6] {
            c.available = 6;
        }
        let stop = safety_stop(&plan(&store, &six_changed, &none, false), 50).unwrap();
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
            safety_stop(&plan(&store, &wiped, &none, false), 25)
                .unwrap()
                .contains("set 3 of 10 items to zero")
        );
        assert_eq!(safety_stop(&plan(&store, &wiped, &none, false), 50), None);
    }
}
