//! The `items` and `inventory` listings as text, pure: their tables and
//! the rows their `--json` prints, each item with its store references
//! (every plugin instance's external id for it).
//!
//! The JSON rows carry no single `external_id`: an item has one per plugin
//! instance, all of them in `store_refs`
//! (`[{"instance": "woocommerce", "external_id": "101"}, ...]`, by
//! instance id; `"gone_at"` when that store no longer sells the item).

use std::fmt::Write as _;

use intellitrack_db::{StoreRef, WithStoreRefs};
use plugin_api::warehouse::{Item, ItemKind, LocationQuantity, Quantities};
use serde::Serialize;

/// An item as `items --json` prints it.
#[derive(Debug, Serialize)]
pub(super) struct ItemRow<'a> {
    number: &'a str,
    description: &'a str,
    unit_cost: Option<&'a str>,
    unit_of_measure: &'a str,
    active: bool,
    kind: ItemKind,
    parent: Option<&'a str>,
    store_refs: &'a [StoreRef],
}

/// An item's quantities as `inventory --json` prints them.
#[derive(Debug, Serialize)]
pub(super) struct QuantitiesRow<'a> {
    item_number: &'a str,
    on_hand: i64,
    allocated: i64,
    available: i64,
    locations: &'a [LocationQuantity],
    store_refs: &'a [StoreRef],
}

/// The rows of `items --json`.
pub(super) fn items_json(items: &[WithStoreRefs<Item>]) -> Vec<ItemRow<'_>> {
    items
        .iter()
        .map(|listed| {
            // Every field named, so a field added to `Item` is decided here.
            let Item {
                number,
                description,
                unit_cost,
                unit_of_measure,
                active,
                kind,
                parent,
                external_id: _,
            } = &listed.value;
            ItemRow {
                number,
                description,
                unit_cost: unit_cost.as_deref(),
                unit_of_measure,
                active: *active,
                kind: *kind,
                parent: parent.as_deref(),
                store_refs: &listed.store_refs,
            }
        })
        .collect()
}

/// The rows of `inventory --json`.
pub(super) fn inventory_json(quantities: &[WithStoreRefs<Quantities>]) -> Vec<QuantitiesRow<'_>> {
    quantities
        .iter()
        .map(|listed| {
            let Quantities {
                item_number,
                external_id: _,
                on_hand,
                allocated,
                available,
                locations,
            } = &listed.value;
            QuantitiesRow {
                item_number,
                on_hand: *on_hand,
                allocated: *allocated,
                available: *available,
                locations,
                store_refs: &listed.store_refs,
            }
        })
        .collect()
}

/// The `items` table: one line an item, the store references as wide as
/// the widest, the description last.
pub(super) fn items_table(items: &[WithStoreRefs<Item>]) -> String {
    let refs: Vec<String> = items
        .iter()
        .map(|i| store_refs_cell(&i.store_refs))
        .collect();
    let width = column_width(STORE_REFS, &refs);
    let mut table = format!(
        "{:<20} {:<9} {:<6} {:>3} {:>10} {:<20} {STORE_REFS:<width$} DESCRIPTION\n",
        "ITEM", "KIND", "ACTIVE", "UOM", "UNIT COST", "PARENT"
    );
    for (listed, refs) in items.iter().zip(&refs) {
        let i = &listed.value;
        // Writing to a String cannot fail.
        let _ = writeln!(
            table,
            "{:<20} {:<9} {:<6} {:>3} {:>10} {:<20} {refs:<width$} {}",
            i.number,
            i.kind.as_str(),
            if i.active { "yes" } else { "no" },
            i.unit_of_measure,
            i.unit_cost.as_deref().unwrap_or("-"),
            i.parent.as_deref().unwrap_or("-"),
            i.description
        );
    }
    table
}

/// The `inventory` table: one line an item, the store references as wide
/// as the widest, the locations last.
pub(super) fn inventory_table(quantities: &[WithStoreRefs<Quantities>]) -> String {
    let refs: Vec<String> = quantities
        .iter()
        .map(|q| store_refs_cell(&q.store_refs))
        .collect();
    let width = column_width(STORE_REFS, &refs);
    let mut table = format!(
        "{:<20} {:>8} {:>9} {:>9}  {STORE_REFS:<width$}  LOCATIONS\n",
        "ITEM", "ON HAND", "ALLOCATED", "AVAILABLE"
    );
    for (listed, refs) in quantities.iter().zip(&refs) {
        let q = &listed.value;
        let locations = q
            .locations
            .iter()
            .map(|l| format!("{}={}", l.location, l.on_hand))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(
            table,
            "{:<20} {:>8} {:>9} {:>9}  {refs:<width$}  {locations}",
            q.item_number, q.on_hand, q.allocated, q.available
        );
    }
    table
}

const STORE_REFS: &str = "STORE REFS";

/// An item's store references in a table cell: `woocommerce=101,
/// woocommerce:shop-at=7`, one whose store no longer sells the item marked
/// `(gone)`, or `-` when it has none.
pub(super) fn store_refs_cell(refs: &[StoreRef]) -> String {
    if refs.is_empty() {
        return "-".to_owned();
    }
    refs.iter()
        .map(|r| match r.gone_at {
            None => format!("{}={}", r.instance, r.external_id),
            Some(_) => format!("{}={} (gone)", r.instance, r.external_id),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The width of a column: its header's or its widest cell's, in characters.
fn column_width(header: &str, cells: &[String]) -> usize {
    cells
        .iter()
        .map(|c| c.chars().count())
        .chain([header.chars().count()])
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn store_ref(instance: &str, external_id: &str) -> StoreRef {
        StoreRef {
            instance: instance.into(),
            external_id: external_id.into(),
            gone_at: None,
        }
    }

    fn item(number: &str, store_refs: Vec<StoreRef>) -> WithStoreRefs<Item> {
        WithStoreRefs {
            value: Item {
                number: number.into(),
                description: format!("{number} description"),
                unit_cost: Some("2.50".into()),
                unit_of_measure: "EA".into(),
                active: true,
                kind: ItemKind::Simple,
                parent: None,
                external_id: None,
            },
            store_refs,
        }
    }

    fn quantities(number: &str, store_refs: Vec<StoreRef>) -> WithStoreRefs<Quantities> {
        WithStoreRefs {
            value: Quantities {
                item_number: number.into(),
                external_id: None,
                on_hand: 5,
                allocated: 2,
                available: 3,
                locations: vec![LocationQuantity {
                    location: "MAIN".into(),
                    on_hand: 5,
                }],
            },
            store_refs,
        }
    }

    fn two_stores() -> Vec<StoreRef> {
        vec![
            store_ref("woocommerce", "101"),
            store_ref("woocommerce:shop-at", "7"),
        ]
    }

    #[test]
    fn a_cell_names_each_instance_with_its_id_marks_a_gone_one_or_is_a_dash() {
        assert_eq!(store_refs_cell(&[]), "-");
        assert_eq!(
            store_refs_cell(&[store_ref("woocommerce", "101")]),
            "woocommerce=101"
        );
        assert_eq!(
            store_refs_cell(&two_stores()),
            "woocommerce=101, woocommerce:shop-at=7"
        );
        let mut one_gone = two_stores();
        one_gone[0].gone_at = Some(5);
        assert_eq!(
            store_refs_cell(&one_gone),
            "woocommerce=101 (gone), woocommerce:shop-at=7"
        );
        assert_eq!(
            serde_json::to_value(&one_gone).unwrap(),
            json!([{"instance": "woocommerce", "external_id": "101", "gone_at": 5},
                   {"instance": "woocommerce:shop-at", "external_id": "7"}])
        );
    }

    #[test]
    fn the_json_rows_list_every_reference_and_no_single_external_id() {
        let items = [item("MUG", two_stores()), item("BOLT", vec![])];
        assert_eq!(
            serde_json::to_value(items_json(&items)).unwrap(),
            json!([
                {"number": "MUG", "description": "MUG description", "unit_cost": "2.50",
                 "unit_of_measure": "EA", "active": true, "kind": "simple", "parent": null,
                 "store_refs": [{"instance": "woocommerce", "external_id": "101"},
                                {"instance": "woocommerce:shop-at", "external_id": "7"}]},
                {"number": "BOLT", "description": "BOLT description", "unit_cost": "2.50",
                 "unit_of_measure": "EA", "active": true, "kind": "simple", "parent": null,
                 "store_refs": []}
            ])
        );
        let quantities = [quantities("MUG", two_stores())];
        assert_eq!(
            serde_json::to_value(inventory_json(&quantities)).unwrap(),
            json!([
                {"item_number": "MUG", "on_hand": 5, "allocated": 2, "available": 3,
                 "locations": [{"location": "MAIN", "on_hand": 5}],
                 "store_refs": [{"instance": "woocommerce", "external_id": "101"},
                                {"instance": "woocommerce:shop-at", "external_id": "7"}]}
            ])
        );
    }

    #[test]
    fn the_tables_show_the_references_as_wide_as_the_widest() {
        let items = [item("BOLT", vec![]), item("MUG", two_stores())];
        assert_eq!(
            items_table(&items),
            "\
ITEM                 KIND      ACTIVE UOM  UNIT COST PARENT               STORE REFS                             DESCRIPTION
BOLT                 simple    yes     EA       2.50 -                    -                                      BOLT description
MUG                  simple    yes     EA       2.50 -                    woocommerce=101, woocommerce:shop-at=7 MUG description
"
        );
        let quantities = [quantities("BOLT", vec![])];
        assert_eq!(
            inventory_table(&quantities),
            "\
ITEM                  ON HAND ALLOCATED AVAILABLE  STORE REFS  LOCATIONS
BOLT                        5         2         3  -           MAIN=5
"
        );
    }
}
