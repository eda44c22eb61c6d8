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
//!
//! The stock push applies the same rules to the items whose quantity
//! changed: [`moves_the_count`] tells which warehouse events can change
//! what is sent, [`pooled_with`] the variations a changed one shares its
//! count with, [`items_written`] the items behind a plan's writes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use plugin_api::Table;
use plugin_api::warehouse::{ChangeEvent, ChangeKind};
use serde::Deserialize;
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
    safety_stop_among(plan, plan.compared, limit_percent)
}

/// [`safety_stop`] for a plan that compared only some of the `items`
/// counts the store keeps (the stock push compares those that changed):
/// the share is taken of them all.
pub fn safety_stop_among(plan: &StockPlan, items: usize, limit_percent: u8) -> Option<String> {
    let limit = usize::from(limit_percent);
    let base = items.max(1);
    let zeros = plan
        .writes
        .iter()
        .filter(|w| w.send == 0 && w.store.is_some_and(|s| s > 0))
        .count();
    let share = |n: usize| n * 100 / base;
    // Zeros are changes too; a wipe is named as such, being the worse case.
    let reason = if zeros * 100 > limit * base {
        format!(
            "it would set {zeros} of {items} items to zero ({}%)",
            share(zeros)
        )
    } else if plan.writes.len() * 100 > limit * base {
        format!(
            "it would change {} of {items} items ({}%)",
            plan.writes.len(),
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

/// Whether a warehouse event can change the count sent for its item:
/// receipts and adjustments always; a pick only when on hand is sent (it
/// takes stock and its allocation together, so available stays); a
/// cancellation, which gives back picked stock and what was allocated;
/// another source's order allocating the shared item, when available is
/// sent ([`another_sources_allocation`]). Shipments move nothing (the
/// stock left at the pick), nor do this store's own orders (the store
/// took their units off when they were placed).
pub fn moves_the_count(event: &ChangeEvent, send_on_hand: bool) -> bool {
    match event.kind {
        ChangeKind::InventoryReceived
        | ChangeKind::InventoryAdjusted
        | ChangeKind::OrderCancelled => true,
        ChangeKind::PickRecorded => send_on_hand,
        ChangeKind::Other => !send_on_hand && another_sources_allocation(event),
        ChangeKind::ShipmentRecorded => false,
    }
}

/// The wire name of the host's events of an import changing what an order
/// allocates of an item ([`another_sources_allocation`]).
pub const ORDER_ALLOCATION: &str = "order-allocation";

/// The payload of the host's `order-allocation` events (an import changed
/// what an order allocates of an item), which this plugin's API version
/// reads as [`ChangeKind::Other`].
#[derive(Deserialize)]
struct OrderAllocation {
    allocated_before: i64,
    allocated: i64,
}

/// Whether `event` is an order of another source (another store selling
/// the same item) allocating more or less of this store's item: the
/// host's `order-allocation` event, which names no order of this store.
pub fn another_sources_allocation(event: &ChangeEvent) -> bool {
    event.kind == ChangeKind::Other
        && event.order_external_id.is_none()
        && event.item_external_id.is_some()
        && event
            .details::<OrderAllocation>()
            .is_ok_and(|a| a.allocated != a.allocated_before)
}

/// The variations that share a count with one of `changed` (their parent
/// keeps it, `manage_stock: "parent"`), `changed` among them: a pool is
/// compared whole.
pub fn pooled_with(store: &[StockRecord], changed: &BTreeSet<u64>) -> BTreeSet<u64> {
    let pooled = |r: &&StockRecord| r.manage_stock == ManageStock::Parent && r.parent_id != 0;
    let parents: BTreeSet<u64> = store
        .iter()
        .filter(pooled)
        .filter(|r| changed.contains(&r.id))
        .map(|r| r.parent_id)
        .collect();
    store
        .iter()
        .filter(pooled)
        .filter(|r| parents.contains(&r.parent_id))
        .map(|r| r.id)
        .collect()
}

/// The items behind the plan's writes: the item written, or for a pool's
/// parent the variations sharing its count.
pub fn items_written(plan: &StockPlan, store: &[StockRecord]) -> BTreeSet<u64> {
    plan.writes
        .iter()
        .flat_map(|w| {
            let pool: Vec<u64> = store
                .iter()
                .filter(|r| r.parent_id == w.store_id && r.manage_stock == ManageStock::Parent)
                .map(|r| r.id)
                .collect();
            if pool.is_empty() {
                vec![w.store_id]
            } else {
                pool
            }
        })
        .collect()
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
    fn event(kind: ChangeKind, order: Option<&str>, payload: serde_json::Value) -> ChangeEvent {
        ChangeEvent {
            seq: 1,
            at_ms: 0,
            kind,
            order_number: order.map(|o| format!("WC-{o}")),
            order_external_id: order.map(str::to_owned),
            item_number: Some("SKU-A".into()),
            item_external_id: Some("11".into()),
            payload,
        }
    }

    #[test]
    fn receipts_adjustments_cancellations_and_other_stores_orders_move_what_is_sent() {
        use ChangeKind::*;
        let allocation = json!({"allocated_before": 0, "allocated": 2});
        let events = [
            ("received", event(InventoryReceived, None, json!({}))),
            ("adjusted", event(InventoryAdjusted, None, json!({}))),
            ("picked", event(PickRecorded, Some("1"), json!({}))),
            ("shipped", event(ShipmentRecorded, Some("1"), json!({}))),
            ("cancelled", event(OrderCancelled, Some("1"), json!({}))),
            (
                "other store's order",
                event(Other, None, allocation.clone()),
            ),
            ("own order", event(Other, Some("1"), allocation)),
            (
                "allocation unchanged",
                event(Other, None, json!({"allocated_before": 2, "allocated": 2})),
            ),
            (
                "item made by hand",
                event(Other, None, json!({"by": "ann"})),
            ),
        ];
        let moving = |send_on_hand| {
            events
                .iter()
                .filter(|(_, e)| moves_the_count(e, send_on_hand))
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            moving(false),
            ["received", "adjusted", "cancelled", "other store's order"],
            "a pick leaves available as it was; the store took its own orders off"
        );
        assert_eq!(
            moving(true),
            ["received", "adjusted", "picked", "cancelled"],
            "an allocation leaves on hand as it was"
        );
    }

    #[test]
    fn a_changed_variation_brings_its_pool_and_a_pools_write_its_items() {
        let store = [
            record(1, "simple", 0, json!(true), Some(5)),
            record(10, "variable", 0, json!(true), Some(17)),
            record(11, "variation", 10, json!("parent"), Some(17)),
            record(12, "variation", 10, json!("parent"), Some(17)),
            record(20, "variable", 0, json!(false), None),
            record(21, "variation", 20, json!(true), Some(2)),
            record(22, "variation", 20, json!(true), Some(3)),
        ];
        let changed = BTreeSet::from([1, 12, 21]);
        assert_eq!(pooled_with(&store, &changed), BTreeSet::from([11, 12]));
        assert_eq!(
            pooled_with(&store, &BTreeSet::from([1, 22])),
            BTreeSet::new()
        );
        let write = |store_id, route| StockWrite {
            store_id,
            number: String::new(),
            route,
            store: None,
            warehouse: 0,
            held: 0,
            send: 0,
        };
        let plan = StockPlan {
            writes: vec![
                write(1, Route::Products),
                write(10, Route::Products),
                write(21, Route::Variations { parent: 20 }),
            ],
            ..StockPlan::default()
        };
        assert_eq!(
            items_written(&plan, &store),
            BTreeSet::from([1, 11, 12, 21])
        );
    }

    #[test]
    fn the_pushs_safety_limit_is_a_share_of_every_item() {
        let store: Vec<StockRecord> = (1..=3)
            .map(|id| record(id, "simple", 0, json!(true), Some(5)))
            .collect();
        let changed: Vec<WarehouseCount> = (1..=3)
            .map(|id| count(id, &format!("I{id}"), 0, 0))
            .collect();
        let p = plan(&store, &changed, &Holds::new(), false);
        assert!(safety_stop(&p, 50).is_some(), "3 of the 3 compared");
        assert_eq!(safety_stop_among(&p, 10, 50), None, "3 of 10 items");
        let stop = safety_stop_among(&p, 5, 50).unwrap();
        assert!(stop.contains("set 3 of 5 items to zero (60%)"), "{stop}");
    }
}
