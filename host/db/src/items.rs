//! Items (the warehouse's SKUs) and their external references: each plugin
//! names an item by its own external id, unique per plugin.
//!
//! Several stores may sell one item, each through its own reference.
//! Deactivation is per reference: a store that stops selling the item marks
//! its own reference gone (kept, so its old orders' lines still resolve),
//! and the item itself becomes inactive only when no reference is live. A
//! plugin sees the item inactive once its own reference is gone, however
//! many other stores still sell it; its next import of the item brings the
//! reference back and makes the item active again.

use std::collections::HashMap;

use plugin_api::warehouse::{Item, ItemKind, ItemRef, ItemUpsert};
use rusqlite::{Connection, OptionalExtension, named_params, params};
use serde::Serialize;

use crate::{Db, Result, refuse};

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Upserted {
    Created,
    Updated,
    /// Sent again as it was: nothing changed.
    Unchanged,
}

pub(crate) const DEFAULT_UNIT_OF_MEASURE: &str = "EA";

/// One of an item's references in a store: a plugin instance's external id
/// for it (a row of `item_refs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreRef {
    /// The plugin instance's id (`woocommerce`, `woocommerce:shop-at`), as
    /// the reference was stored; the instance may since have been removed.
    pub instance: String,
    /// That instance's external id for the item.
    pub external_id: String,
    /// When that instance's store stopped selling the item (ms), if it did:
    /// it deactivated the item for itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gone_at: Option<i64>,
}

/// A row of a warehouse listing (an [`Item`], a
/// [`Quantities`](plugin_api::warehouse::Quantities)) read as the warehouse
/// sees it (its `external_id` is `None`), with every store reference of its
/// item.
#[derive(Clone, Debug, PartialEq)]
pub struct WithStoreRefs<T> {
    pub value: T,
    /// Every instance's reference to the item, by instance id.
    pub store_refs: Vec<StoreRef>,
}

/// The columns [`item_row`] reads, of `items i`; the external id is
/// `:source`'s, and the item is inactive for a `:source` whose reference
/// is gone (for none, the warehouse's view, as the item is). (Correlated
/// subqueries, not a `LEFT JOIN ... AND r.source = :source`: SQLite
/// prepares such a join again every time the source is bound, which made a
/// lookup five times slower.)
const ITEM_COLUMNS: &str = "i.number, i.description, i.unit_cost, i.unit_of_measure,
     i.active AND (SELECT r.gone_at FROM item_refs r
                   WHERE r.item = i.id AND r.source = :source) IS NULL,
     i.kind,
     (SELECT p.number FROM items p WHERE p.id = i.parent),
     (SELECT r.external_id FROM item_refs r WHERE r.item = i.id AND r.source = :source)";

impl Db {
    /// Items by reference, in the order asked; `source`'s external ids. An
    /// item `source`'s store no longer sells (its reference gone) is found
    /// by that reference still, and is inactive.
    pub fn find_items(&self, source: &str, refs: &[ItemRef]) -> Result<Vec<Option<Item>>> {
        self.read(|tx| {
            refs.iter()
                .map(|r| match resolve(tx, source, r)? {
                    Some(id) => item_by_id(tx, Some(source), id).map(Some),
                    None => Ok(None),
                })
                .collect()
        })
    }

    /// One item by number, as the warehouse sees it.
    pub fn item(&self, number: &str) -> Result<Option<Item>> {
        self.read(|tx| match id_by_number(tx, number)? {
            Some(id) => item_by_id(tx, None, id).map(Some),
            None => Ok(None),
        })
    }

    /// Every item, by number, as the warehouse sees it (no external id).
    pub fn items(&self) -> Result<Vec<Item>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM items i ORDER BY i.number"
        ))?;
        let rows = stmt.query_map(named_params! {":source": None::<&str>}, item_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every item, by number, as the warehouse sees it, each with every
    /// store reference; read in one transaction.
    pub fn items_with_store_refs(&self) -> Result<Vec<WithStoreRefs<Item>>> {
        self.read(|tx| {
            let mut refs = all_store_refs(tx)?;
            let mut stmt = tx.prepare(&format!(
                "SELECT {ITEM_COLUMNS}, i.id FROM items i ORDER BY i.number"
            ))?;
            let rows = stmt.query_map(named_params! {":source": None::<&str>}, |r| {
                Ok((item_row(r)?, r.get::<_, i64>(8)?))
            })?;
            rows.map(|row| {
                let (value, id) = row?;
                Ok(WithStoreRefs {
                    value,
                    store_refs: refs.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
        })
    }
}

/// Every item's store references, by item id; each item's by instance id.
pub(crate) fn all_store_refs(conn: &Connection) -> Result<HashMap<i64, Vec<StoreRef>>> {
    let mut stmt = conn.prepare(
        "SELECT item, source, external_id, gone_at FROM item_refs ORDER BY item, source",
    )?;
    let mut refs: HashMap<i64, Vec<StoreRef>> = HashMap::new();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            StoreRef {
                instance: r.get(1)?,
                external_id: r.get(2)?,
                gone_at: r.get(3)?,
            },
        ))
    })?;
    for row in rows {
        let (item, store_ref) = row?;
        refs.entry(item).or_default().push(store_ref);
    }
    Ok(refs)
}

/// One item's store references, by instance id.
pub(crate) fn store_refs(conn: &Connection, item: i64) -> Result<Vec<StoreRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, external_id, gone_at FROM item_refs WHERE item = ?1 ORDER BY source",
    )?;
    let rows = stmt.query_map([item], |r| {
        Ok(StoreRef {
            instance: r.get(0)?,
            external_id: r.get(1)?,
            gone_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn item_by_id(conn: &Connection, source: Option<&str>, id: i64) -> Result<Item> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items i WHERE i.id = :id"
        ))?
        .query_row(named_params! {":id": id, ":source": source}, item_row)?)
}

fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let kind: String = r.get(5)?;
    Ok(Item {
        number: r.get(0)?,
        description: r.get(1)?,
        unit_cost: r.get(2)?,
        unit_of_measure: r.get(3)?,
        active: r.get(4)?,
        kind: parse_kind(&kind),
        parent: r.get(6)?,
        external_id: r.get(7)?,
    })
}

fn parse_kind(s: &str) -> ItemKind {
    [ItemKind::Simple, ItemKind::Variable, ItemKind::Variation]
        .into_iter()
        .find(|k| k.as_str() == s)
        .unwrap_or(ItemKind::Other)
}

pub(crate) fn id_by_number(conn: &Connection, number: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM items WHERE number = ?1")?
        .query_row([number], |r| r.get(0))
        .optional()?)
}

pub(crate) fn id_by_ref(conn: &Connection, source: &str, external_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT item FROM item_refs WHERE source = ?1 AND external_id = ?2")?
        .query_row([source, external_id], |r| r.get(0))
        .optional()?)
}

/// The item a plugin's reference names, if any.
pub(crate) fn resolve(conn: &Connection, source: &str, item: &ItemRef) -> Result<Option<i64>> {
    match item {
        ItemRef::ExternalId(id) => id_by_ref(conn, source, id),
        ItemRef::Number(number) => id_by_number(conn, number),
    }
}

/// An item's number.
pub(crate) fn number_of(conn: &Connection, item: i64) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT number FROM items WHERE id = ?1")?
        .query_row([item], |r| r.get(0))?)
}

/// The item with this number, or a refusal naming it.
pub(crate) fn require_by_number(conn: &Connection, number: &str) -> Result<i64> {
    match id_by_number(conn, number)? {
        Some(id) => Ok(id),
        None => refuse(format!("unknown item {number:?}")),
    }
}

/// Refuses an item number (SKU) that is empty or holds control characters
/// (a line break would split it in every listing, and nobody can type it).
pub(crate) fn check_number(number: &str) -> Result<()> {
    if number.is_empty() {
        return refuse("the item number (SKU) is empty");
    }
    if number.chars().any(char::is_control) {
        return refuse(format!(
            "the item number (SKU) {number:?} holds control characters"
        ));
    }
    Ok(())
}

/// Refuses a unit cost that is not a plain non-negative decimal (`"12.50"`).
pub(crate) fn check_unit_cost(cost: &str) -> Result<()> {
    let (whole, fraction) = cost.split_once('.').unwrap_or((cost, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return refuse(format!(
            "unit cost {cost:?} is not a decimal number like \"12.50\""
        ));
    }
    Ok(())
}

/// Creates or updates `source`'s item: matched by its external id, then by
/// item number (an existing item is linked, not doubled). The item is
/// active afterwards and `source`'s reference live (its store sells it);
/// making either so is a change. Returns what it did and the item's id.
pub(crate) fn upsert(
    conn: &Connection,
    source: &str,
    item: &ItemUpsert,
    now_ms: i64,
) -> Result<(Upserted, i64)> {
    let number = item.number.trim();
    if item.external_id.is_empty() {
        return refuse("the external id is empty");
    }
    check_number(number)?;
    if let Some(cost) = &item.unit_cost {
        check_unit_cost(cost)?;
    }
    let unit = match item.unit_of_measure.as_deref().map(str::trim) {
        None => DEFAULT_UNIT_OF_MEASURE,
        Some("") => return refuse("the unit of measure is empty"),
        Some(unit) => unit,
    };
    if item.kind == ItemKind::Other {
        return refuse("the item kind is not one of simple, variable, variation");
    }
    let parent = match &item.parent {
        None => None,
        Some(p) if p == &item.external_id => return refuse("an item cannot be its own parent"),
        Some(p) => match id_by_ref(conn, source, p)? {
            Some(id) => Some(id),
            None => return refuse(format!("parent item (external id {p:?}) is unknown")),
        },
    };
    let by_ref = id_by_ref(conn, source, &item.external_id)?;
    let by_number = id_by_number(conn, number)?;
    // Whether `source`'s reference was gone and is live again.
    let mut back = false;
    let id = match (by_ref, by_number) {
        (Some(mine), Some(other)) if mine != other => {
            return refuse(format!(
                "item number {number:?} already belongs to another item"
            ));
        }
        (Some(id), _) => {
            back = conn
                .prepare_cached(
                    "UPDATE item_refs SET gone_at = NULL
                     WHERE source = ?1 AND item = ?2 AND gone_at IS NOT NULL",
                )?
                .execute(params![source, id])?
                > 0;
            id
        }
        (None, Some(id)) => {
            let linked: Option<String> = conn
                .prepare_cached(
                    "SELECT external_id FROM item_refs WHERE item = ?1 AND source = ?2",
                )?
                .query_row(params![id, source], |r| r.get(0))
                .optional()?;
            if let Some(other) = linked {
                return refuse(format!(
                    "item number {number:?} is already linked to external id {other:?}"
                ));
            }
            link(conn, source, &item.external_id, id)?;
            id
        }
        (None, None) => {
            conn.prepare_cached(
                "INSERT INTO items (number, description, unit_cost, unit_of_measure, kind, parent,
                                    created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![
                number,
                item.description,
                item.unit_cost,
                unit,
                item.kind.as_str(),
                parent,
                now_ms
            ])?;
            let id = conn.last_insert_rowid();
            link(conn, source, &item.external_id, id)?;
            return Ok((Upserted::Created, id));
        }
    };
    let changed =
        conn.prepare_cached(
            "UPDATE items SET number = ?2, description = ?3, unit_cost = ?4, unit_of_measure = ?5,
                              kind = ?6, parent = ?7, active = 1, updated_at = ?8
             WHERE id = ?1
               AND (number IS NOT ?2 OR description IS NOT ?3 OR unit_cost IS NOT ?4
                    OR unit_of_measure IS NOT ?5 OR kind IS NOT ?6 OR parent IS NOT ?7
                    OR active = 0)",
        )?
        .execute(params![
            id,
            number,
            item.description,
            item.unit_cost,
            unit,
            item.kind.as_str(),
            parent,
            now_ms
        ])? > 0;
    // Linking an existing item to this source, or its reference coming
    // back, is a change too.
    let upserted = if changed || back || by_ref.is_none() {
        Upserted::Updated
    } else {
        Upserted::Unchanged
    };
    Ok((upserted, id))
}

fn link(conn: &Connection, source: &str, external_id: &str, item: i64) -> Result<()> {
    conn.prepare_cached("INSERT INTO item_refs (source, external_id, item) VALUES (?1, ?2, ?3)")?
        .execute(params![source, external_id, item])?;
    Ok(())
}

/// Marks `source`'s reference to the item gone (its store no longer sells
/// it; the first time is kept), and the item inactive once no store's
/// reference is live. Returns whether the reference was live until now:
/// what a batch's `items_deactivated` counts, so a repeat counts nothing.
pub(crate) fn deactivate(
    conn: &Connection,
    source: &str,
    external_id: &str,
    now_ms: i64,
) -> Result<bool> {
    let Some(id) = id_by_ref(conn, source, external_id)? else {
        return refuse(format!("unknown item (external id {external_id:?})"));
    };
    let went = conn
        .prepare_cached(
            "UPDATE item_refs SET gone_at = ?3
             WHERE source = ?1 AND external_id = ?2 AND gone_at IS NULL",
        )?
        .execute(params![source, external_id, now_ms])?
        > 0;
    conn.prepare_cached(
        "UPDATE items SET active = 0, updated_at = ?2
         WHERE id = ?1 AND active = 1
           AND NOT EXISTS (SELECT 1 FROM item_refs r WHERE r.item = ?1 AND r.gone_at IS NULL)",
    )?
    .execute(params![id, now_ms])?;
    Ok(went)
}

/// Records that a new item's stock was opened at `location` from
/// `source`'s count taken at `counted_at_ms` (see [`crate::import_batch`]);
/// `owed`: the units a negative count lacks.
pub(crate) fn mark_opened(
    conn: &Connection,
    item: i64,
    source: &str,
    counted_at_ms: i64,
    location: &str,
    owed: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE items SET opening_source = ?2, opening_counted_at = ?3, opening_location = ?4,
                          opening_owed = ?5
         WHERE id = ?1",
    )?
    .execute(params![item, source, counted_at_ms, location, owed])?;
    Ok(())
}

/// Takes up to `units` off what the item's opening still owes; returns
/// how many were taken.
pub(crate) fn pay_owed(conn: &Connection, item: i64, units: i64) -> Result<i64> {
    let owed: i64 = conn
        .prepare_cached("SELECT opening_owed FROM items WHERE id = ?1")?
        .query_row([item], |r| r.get(0))?;
    let paid = owed.min(units).max(0);
    if paid > 0 {
        conn.prepare_cached("UPDATE items SET opening_owed = opening_owed - ?2 WHERE id = ?1")?
            .execute(params![item, paid])?;
    }
    Ok(paid)
}

/// When and where `source`'s count opened this item's stock, if it did.
pub(crate) fn opened_by(
    conn: &Connection,
    item: i64,
    source: &str,
) -> Result<Option<(i64, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT opening_counted_at, opening_location FROM items
             WHERE id = ?1 AND opening_source = ?2",
        )?
        .query_row(params![item, source], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::ImportBatch;

    use super::*;
    use crate::testing::{WOO, assert_refused, db, item};

    fn upsert_one(
        db: &Db,
        source: &str,
        item: ItemUpsert,
    ) -> Result<plugin_api::warehouse::BatchSummary> {
        db.apply_batch(
            source,
            &ImportBatch {
                item_upserts: vec![item],
                ..ImportBatch::default()
            },
            1,
        )
    }

    #[test]
    fn upserts_create_then_update_and_link_by_number() {
        let (_d, db) = db();
        assert_eq!(
            upsert_one(&db, WOO, item("7", "SKU-1"))
                .unwrap()
                .items_created,
            1
        );
        let mut changed = item("7", "SKU-1");
        changed.description = "Blue mug".into();
        assert_eq!(upsert_one(&db, WOO, changed).unwrap().items_updated, 1);
        assert_eq!(db.item("SKU-1").unwrap().unwrap().description, "Blue mug");
        // Another source selling the same SKU links to the same item.
        assert_eq!(
            upsert_one(&db, "erp", item("X-1", "SKU-1"))
                .unwrap()
                .items_updated,
            1
        );
        assert_eq!(db.items().unwrap().len(), 1);
        let found = db
            .find_items(
                WOO,
                &[
                    ItemRef::ExternalId("7".into()),
                    ItemRef::Number("SKU-1".into()),
                    ItemRef::ExternalId("X-1".into()),
                ],
            )
            .unwrap();
        assert_eq!(found[0].as_ref().unwrap().external_id.as_deref(), Some("7"));
        assert_eq!(found[1], found[0]);
        assert_eq!(
            found[2], None,
            "another plugin's external id is not visible"
        );
        assert_eq!(
            db.find_items("erp", &[ItemRef::Number("SKU-1".into())])
                .unwrap()[0]
                .as_ref()
                .unwrap()
                .external_id
                .as_deref(),
            Some("X-1")
        );
    }

    #[test]
    fn listings_show_every_store_reference_by_instance() {
        let (_d, db) = db();
        upsert_one(&db, WOO, item("7", "SKU-1")).unwrap();
        upsert_one(&db, "erp", item("X-1", "SKU-1")).unwrap();
        upsert_one(&db, "woo:shop-at", item("70", "SKU-1")).unwrap();
        upsert_one(&db, WOO, item("8", "SKU-2")).unwrap();
        db.add_item(
            &crate::NewItem {
                number: "BOLT".into(),
                description: "Bolt".into(),
                unit_cost: None,
                unit_of_measure: None,
            },
            "ann",
            2,
        )
        .unwrap();
        let store_ref = |instance: &str, external_id: &str| StoreRef {
            instance: instance.into(),
            external_id: external_id.into(),
            gone_at: None,
        };
        let listed = db.items_with_store_refs().unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|l| (l.value.number.as_str(), l.store_refs.clone()))
                .collect::<Vec<_>>(),
            [
                ("BOLT", vec![]),
                (
                    "SKU-1",
                    vec![
                        store_ref("erp", "X-1"),
                        store_ref(WOO, "7"),
                        store_ref("woo:shop-at", "70")
                    ]
                ),
                ("SKU-2", vec![store_ref(WOO, "8")]),
            ]
        );
        assert_eq!(
            listed.into_iter().map(|l| l.value).collect::<Vec<_>>(),
            db.items().unwrap(),
            "the items as the warehouse sees them, no single external id"
        );
    }

    #[test]
    fn variations_name_their_parent_and_deactivation_is_per_reference() {
        let (_d, db) = db();
        let mut parent = item("p", "MUG");
        parent.kind = ItemKind::Variable;
        let mut variation = item("v", "MUG-RED");
        variation.kind = ItemKind::Variation;
        variation.parent = Some("p".into());
        db.apply_batch(
            WOO,
            &ImportBatch {
                item_upserts: vec![parent, variation],
                item_deactivations: vec!["p".into()],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        let red = db.item("MUG-RED").unwrap().unwrap();
        assert_eq!(
            (red.kind, red.parent.as_deref(), red.active),
            (ItemKind::Variation, Some("MUG"), true)
        );
        assert!(!db.item("MUG").unwrap().unwrap().active);
    }

    const SHOP_B: &str = "woo:shop-b";

    fn deactivate_one(db: &Db, source: &str, external_id: &str, now_ms: i64) -> u64 {
        db.apply_batch(
            source,
            &ImportBatch {
                item_deactivations: vec![external_id.into()],
                ..ImportBatch::default()
            },
            now_ms,
        )
        .unwrap()
        .items_deactivated
    }

    /// The item `source` names `external_id`, as `source` sees it.
    fn seen_by(db: &Db, source: &str, external_id: &str) -> Item {
        db.find_items(source, &[ItemRef::ExternalId(external_id.into())])
            .unwrap()
            .remove(0)
            .unwrap()
    }

    /// Every item's number and `source`'s external id, as its listing of
    /// every item's quantities gives them.
    fn listed_for(db: &Db, source: &str) -> Vec<(String, Option<String>)> {
        db.quantities_for(source, &plugin_api::warehouse::QuantitiesRequest::default())
            .unwrap()
            .into_iter()
            .map(|q| (q.item_number, q.external_id))
            .collect()
    }

    /// Each reference to the item numbered `number`: instance and when it
    /// went.
    fn refs_of(db: &Db, number: &str) -> Vec<(String, Option<i64>)> {
        db.items_with_store_refs()
            .unwrap()
            .into_iter()
            .find(|i| i.value.number == number)
            .unwrap()
            .store_refs
            .into_iter()
            .map(|r| (r.instance, r.gone_at))
            .collect()
    }

    #[test]
    fn a_store_that_stops_selling_a_shared_item_lets_go_of_its_own_reference_only() {
        let (_d, db) = db();
        upsert_one(&db, WOO, item("101", "MUG")).unwrap();
        upsert_one(&db, SHOP_B, item("901", "MUG")).unwrap();
        let mug = |external_id: &str| Some(external_id.to_owned());

        // Store A drafts its mug: the item stays active for store B.
        assert_eq!(deactivate_one(&db, WOO, "101", 5), 1);
        assert!(db.item("MUG").unwrap().unwrap().active, "B still sells it");
        let a_view = seen_by(&db, WOO, "101");
        assert_eq!(
            (a_view.active, a_view.external_id.clone()),
            (false, mug("101")),
            "A's reference still resolves, inactive for A"
        );
        assert!(seen_by(&db, SHOP_B, "901").active);
        assert!(
            db.find_items(WOO, &[ItemRef::Number("MUG".into())])
                .unwrap()[0]
                .as_ref()
                .is_some_and(|i| !i.active),
            "by number too, A sees it inactive"
        );
        assert_eq!(listed_for(&db, SHOP_B), [("MUG".into(), mug("901"))]);
        assert_eq!(
            listed_for(&db, WOO),
            [("MUG".into(), None)],
            "A's listing of every item no longer names it A's"
        );
        let asked = db
            .quantities_for(
                WOO,
                &plugin_api::warehouse::QuantitiesRequest {
                    items: Some(vec![ItemRef::ExternalId("101".into())]),
                },
            )
            .unwrap();
        assert_eq!(asked[0].external_id, mug("101"), "asked by its id");

        // Again: nothing more is counted, and the first time is kept.
        assert_eq!(deactivate_one(&db, WOO, "101", 6), 0);
        assert_eq!(
            refs_of(&db, "MUG"),
            [(WOO.into(), Some(5)), (SHOP_B.into(), None)]
        );

        // Store B lets go too: no store sells it, the item is inactive.
        assert_eq!(deactivate_one(&db, SHOP_B, "901", 7), 1);
        assert!(!db.item("MUG").unwrap().unwrap().active);
        assert!(!seen_by(&db, SHOP_B, "901").active);

        // Store A sells it again: its import brings its reference back.
        assert_eq!(
            upsert_one(&db, WOO, item("101", "MUG"))
                .unwrap()
                .items_updated,
            1
        );
        assert!(db.item("MUG").unwrap().unwrap().active);
        assert!(seen_by(&db, WOO, "101").active);
        assert!(!seen_by(&db, SHOP_B, "901").active, "B's stays gone");
        assert_eq!(
            refs_of(&db, "MUG"),
            [(WOO.into(), None), (SHOP_B.into(), Some(7))]
        );
        assert_eq!(listed_for(&db, WOO), [("MUG".into(), mug("101"))]);
        assert_eq!(
            upsert_one(&db, WOO, item("101", "MUG"))
                .unwrap()
                .items_updated,
            0,
            "sent again as it is: unchanged"
        );
        // B's own import brings B's back, a change although the item was
        // active.
        assert_eq!(
            upsert_one(&db, SHOP_B, item("901", "MUG"))
                .unwrap()
                .items_updated,
            1
        );
        assert!(seen_by(&db, SHOP_B, "901").active);
    }

    #[test]
    fn a_store_that_let_go_of_a_shared_item_no_longer_hears_of_its_stock() {
        let (_d, db) = db();
        upsert_one(&db, WOO, item("101", "MUG")).unwrap();
        upsert_one(&db, SHOP_B, item("901", "MUG")).unwrap();
        deactivate_one(&db, WOO, "101", 5);
        db.receive("MUG", 4, None, "ann", 6).unwrap();
        let heard = |source: &str| {
            db.changes_after(source, 0, 10)
                .unwrap()
                .events
                .into_iter()
                .map(|e| e.item_external_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(heard(SHOP_B), [Some("901".to_owned())]);
        assert_eq!(heard(WOO), [], "A no longer sells it");
        assert_eq!(db.events_pending(WOO, 0).unwrap(), 0);
    }

    #[test]
    fn bad_items_are_refused_and_change_nothing() {
        let (_d, db) = db();
        upsert_one(&db, WOO, item("1", "SKU-1")).unwrap();
        upsert_one(&db, WOO, item("2", "SKU-2")).unwrap();
        assert_refused(
            &db,
            "item upsert 1 (external id \"3\"): the item number (SKU) is empty",
            |db| upsert_one(db, WOO, item("3", " ")),
        );
        assert_refused(&db, "unit cost \"1,50\" is not a decimal number", |db| {
            let mut i = item("3", "SKU-3");
            i.unit_cost = Some("1,50".into());
            upsert_one(db, WOO, i)
        });
        assert_refused(
            &db,
            "item number \"SKU-2\" already belongs to another item",
            |db| upsert_one(db, WOO, item("1", "SKU-2")),
        );
        assert_refused(
            &db,
            "item number \"SKU-1\" is already linked to external id \"1\"",
            |db| upsert_one(db, WOO, item("9", "SKU-1")),
        );
        assert_refused(&db, "parent item (external id \"nope\") is unknown", |db| {
            let mut i = item("3", "SKU-3");
            i.parent = Some("nope".into());
            upsert_one(db, WOO, i)
        });
        assert_refused(
            &db,
            "item deactivation 1: unknown item (external id \"1\")",
            |db| {
                db.apply_batch(
                    "erp",
                    &ImportBatch {
                        item_deactivations: vec!["1".into()],
                        ..ImportBatch::default()
                    },
                    2,
                )
            },
        );
    }
}
