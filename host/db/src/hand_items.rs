//! Items made and deactivated by hand in the warehouse (`plugin-host items
//! add` / `items deactivate`), not imported by a plugin.
//!
//! Each is one transaction that writes its change-feed event
//! ([`ITEM_CREATED`] / [`ITEM_DEACTIVATED`]) with the change; a refusal
//! changes nothing. An item made by hand is a simple item with no external
//! reference; a plugin that later imports the same item number links to it.
//!
//! A deactivated item can no longer be received. What it still has on hand
//! stays and can be adjusted (counted out), and the open orders for it can
//! still be picked and shipped. A plugin's import of the item makes it
//! active again.

use plugin_api::warehouse::{Item, ItemKind};
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::change_feed::{self, ITEM_CREATED, ITEM_DEACTIVATED};
use crate::items::{self, DEFAULT_UNIT_OF_MEASURE};
use crate::{Db, Result, refuse};

/// An item to make by hand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewItem {
    /// The item number (SKU); unique.
    pub number: String,
    pub description: String,
    /// A plain non-negative decimal such as `"12.50"`, kept as given.
    pub unit_cost: Option<String>,
    /// `EA` when `None`.
    pub unit_of_measure: Option<String>,
}

/// The payload of [`ITEM_CREATED`] and [`ITEM_DEACTIVATED`]: the item's
/// fields after the change, and who made it.
#[derive(Serialize)]
struct ItemChanged<'a> {
    description: &'a str,
    unit_cost: Option<&'a str>,
    unit_of_measure: &'a str,
    active: bool,
    user: &'a str,
}

impl Db {
    /// Makes an item by hand. Refused: an empty number or description, a
    /// unit cost that is not a plain decimal, an empty unit of measure, a
    /// number that already exists (active or not).
    pub fn add_item(&self, item: &NewItem, user: &str, now_ms: i64) -> Result<Item> {
        let number = item.number.trim();
        let description = item.description.trim();
        items::check_number(number)?;
        if description.is_empty() {
            return refuse("the description is empty");
        }
        let unit_cost = item.unit_cost.as_deref().map(str::trim);
        if let Some(cost) = unit_cost {
            items::check_unit_cost(cost)?;
        }
        let unit = match item.unit_of_measure.as_deref().map(str::trim) {
            None => DEFAULT_UNIT_OF_MEASURE,
            Some("") => return refuse("the unit of measure is empty"),
            Some(unit) => unit,
        };
        self.write(|tx| {
            if let Some(id) = items::id_by_number(tx, number)? {
                let state = if is_active(tx, id)? {
                    "active"
                } else {
                    "inactive"
                };
                return refuse(format!("item {number:?} already exists ({state})"));
            }
            tx.prepare_cached(
                "INSERT INTO items (number, description, unit_cost, unit_of_measure, kind,
                                    created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?
            .execute(params![
                number,
                description,
                unit_cost,
                unit,
                ItemKind::Simple.as_str(),
                now_ms
            ])?;
            let id = tx.last_insert_rowid();
            record(tx, ITEM_CREATED, id, user, now_ms)
        })
    }

    /// Deactivates an item by hand, so it can no longer be received.
    /// Refused for an unknown item or one already inactive.
    pub fn deactivate_item(&self, number: &str, user: &str, now_ms: i64) -> Result<Item> {
        self.write(|tx| {
            let id = items::require_by_number(tx, number)?;
            if !is_active(tx, id)? {
                return refuse(format!("item {number:?} is already inactive"));
            }
            tx.prepare_cached("UPDATE items SET active = 0, updated_at = ?2 WHERE id = ?1")?
                .execute(params![id, now_ms])?;
            record(tx, ITEM_DEACTIVATED, id, user, now_ms)
        })
    }
}

/// Refuses a receipt of an inactive item.
pub(crate) fn require_active(conn: &Connection, id: i64, number: &str) -> Result<()> {
    if !is_active(conn, id)? {
        return refuse(format!(
            "item {number:?} is inactive and cannot be received"
        ));
    }
    Ok(())
}

fn is_active(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT active FROM items WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?)
}

/// Writes the item's change-feed event; the item as it now is.
fn record(conn: &Connection, kind: &str, id: i64, user: &str, now_ms: i64) -> Result<Item> {
    let item = items::item_by_id(conn, None, id)?;
    let payload = ItemChanged {
        description: &item.description,
        unit_cost: item.unit_cost.as_deref(),
        unit_of_measure: &item.unit_of_measure,
        active: item.active,
        user,
    };
    change_feed::append_kind(conn, kind, None, Some(id), &payload, now_ms)?;
    Ok(item)
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::{ChangeKind, ImportBatch};

    use super::*;
    use crate::testing::{WOO, assert_refused, db, item};

    fn new_item(number: &str, description: &str) -> NewItem {
        NewItem {
            number: number.into(),
            description: description.into(),
            ..NewItem::default()
        }
    }

    /// Every event in the feed, whoever may see it: (kind, item number, payload).
    fn feed(db: &Db) -> Vec<(String, String, serde_json::Value)> {
        let conn = db.conn();
        let mut stmt = conn
            .prepare(
                "SELECT f.kind, i.number, f.payload FROM change_feed f
                 JOIN items i ON i.id = f.item ORDER BY f.seq",
            )
            .unwrap();
        stmt.query_map([], |r| {
            let payload: String = r.get(2)?;
            Ok((
                r.get(0)?,
                r.get(1)?,
                serde_json::from_str(&payload).unwrap(),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    #[test]
    fn an_item_made_by_hand_is_received_then_deactivated_with_feed_events() {
        let (_d, db) = db();
        let made = db
            .add_item(
                &NewItem {
                    number: " BOLT-M6 ".into(),
                    description: " Bolt M6 ".into(),
                    unit_cost: Some("0.15".into()),
                    unit_of_measure: Some("BOX".into()),
                },
                "ann",
                100,
            )
            .unwrap();
        assert_eq!(
            made,
            Item {
                number: "BOLT-M6".into(),
                description: "Bolt M6".into(),
                unit_cost: Some("0.15".into()),
                unit_of_measure: "BOX".into(),
                active: true,
                kind: ItemKind::Simple,
                parent: None,
                external_id: None,
            }
        );
        assert_eq!(db.item("BOLT-M6").unwrap(), Some(made));
        let plain = db.add_item(&new_item("NUT", "Nut"), "ann", 101).unwrap();
        assert_eq!(
            (plain.unit_cost, plain.unit_of_measure.as_str()),
            (None, "EA")
        );

        db.receive("BOLT-M6", 40, None, "ann", 102).unwrap();
        let gone = db.deactivate_item("BOLT-M6", "bob", 103).unwrap();
        assert!(!gone.active);
        assert_eq!(db.inventory(Some("BOLT-M6")).unwrap()[0].on_hand, 40);
        // What is left can still be counted out.
        db.adjust("BOLT-M6", -40, "scrapped", None, "bob", 104)
            .unwrap();

        let kinds: Vec<_> = feed(&db)
            .into_iter()
            .map(|(kind, number, _)| format!("{kind} {number}"))
            .collect();
        assert_eq!(
            kinds,
            [
                "item-created BOLT-M6",
                "item-created NUT",
                "inventory-received BOLT-M6",
                "item-deactivated BOLT-M6",
                "inventory-adjusted BOLT-M6"
            ]
        );
        assert_eq!(
            feed(&db)[3].2,
            serde_json::json!({
                "description": "Bolt M6", "unit_cost": "0.15", "unit_of_measure": "BOX",
                "active": false, "user": "bob"
            })
        );
    }

    #[test]
    fn refusals_say_why_and_change_nothing() {
        let (_d, db) = db();
        db.add_item(&new_item("BOLT", "Bolt"), "ann", 1).unwrap();
        db.add_item(&new_item("OLD", "Old part"), "ann", 2).unwrap();
        db.deactivate_item("OLD", "ann", 3).unwrap();
        for (item, expected) in [
            (
                new_item("BOLT", "Another"),
                "item \"BOLT\" already exists (active)",
            ),
            (
                new_item(" OLD", "Again"),
                "item \"OLD\" already exists (inactive)",
            ),
            (new_item(" ", "Bolt"), "the item number (SKU) is empty"),
            (new_item("NUT", "  "), "the description is empty"),
            (
                NewItem {
                    unit_of_measure: Some(" ".into()),
                    ..new_item("NUT", "Nut")
                },
                "the unit of measure is empty",
            ),
        ] {
            assert_refused(&db, expected, |db| db.add_item(&item, "ann", 9));
        }
        for cost in ["abc", "-1", "1e5", "1,50", "", ".5", "2."] {
            let item = NewItem {
                unit_cost: Some(cost.into()),
                ..new_item("NUT", "Nut")
            };
            assert_refused(&db, "is not a decimal number like \"12.50\"", |db| {
                db.add_item(&item, "ann", 9)
            });
        }
        assert_refused(&db, "unknown item \"NUT\"", |db| {
            db.deactivate_item("NUT", "ann", 9)
        });
        assert_refused(&db, "item \"OLD\" is already inactive", |db| {
            db.deactivate_item("OLD", "ann", 9)
        });
        assert_refused(
            &db,
            "item \"OLD\" is inactive and cannot be received",
            |db| db.receive("OLD", 1, None, "ann", 9),
        );
    }

    #[test]
    fn a_plugin_links_a_hand_made_item_and_reads_its_events_as_other() {
        let (_d, db) = db();
        db.add_item(&new_item("SKU-1", "Mug"), "ann", 1).unwrap();
        assert!(db.changes_after(WOO, 0, 10).unwrap().events.is_empty());
        db.apply_batch(
            WOO,
            &ImportBatch {
                item_upserts: vec![item("7", "SKU-1")],
                ..ImportBatch::default()
            },
            2,
        )
        .unwrap();
        db.deactivate_item("SKU-1", "ann", 3).unwrap();
        let page = db.changes_after(WOO, 0, 10).unwrap();
        let seen: Vec<_> = page
            .events
            .iter()
            .map(|e| (e.kind, e.item_external_id.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                (ChangeKind::Other, Some("7")),
                (ChangeKind::Other, Some("7"))
            ]
        );
    }
}
