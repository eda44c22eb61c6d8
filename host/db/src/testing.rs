//! Fixtures shared by the unit tests.

use plugin_api::warehouse::{
    ImportBatch, ItemKind, ItemRef, ItemUpsert, OrderLine, OrderUpsert, QuantitiesRequest,
};

use crate::Db;

pub(crate) const WOO: &str = "woo";

pub(crate) fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("it.db")).unwrap();
    (dir, db)
}

pub(crate) fn item(external_id: &str, number: &str) -> ItemUpsert {
    ItemUpsert {
        external_id: external_id.into(),
        number: number.into(),
        description: format!("Item {number}"),
        unit_cost: Some("2.50".into()),
        unit_of_measure: None,
        kind: ItemKind::Simple,
        parent: None,
    }
}

/// An order whose lines are `(external line id, item external id, quantity)`.
pub(crate) fn order(external_id: &str, number: &str, lines: &[(&str, &str, i64)]) -> OrderUpsert {
    OrderUpsert {
        external_id: external_id.into(),
        number: number.into(),
        customer: "Ada".into(),
        ship_to: Default::default(),
        shipping_method: "flat".into(),
        customer_note: String::new(),
        ordered_at_ms: Some(5),
        lines: lines
            .iter()
            .map(|(line, item, quantity)| OrderLine {
                external_line_id: (*line).into(),
                item: ItemRef::ExternalId((*item).into()),
                quantity: *quantity,
                not_shipped: false,
            })
            .collect(),
    }
}

/// Items A (SKU-A) and B (SKU-B) from "woo", 10 of each received, and
/// order WC-1 (external 1): line 1 = 3 A, line 2 = 2 B.
pub(crate) fn stocked_with_order() -> (tempfile::TempDir, Db) {
    let (dir, db) = db();
    db.apply_batch(
        WOO,
        &ImportBatch {
            item_upserts: vec![item("a", "SKU-A"), item("b", "SKU-B")],
            order_upserts: vec![order("1", "WC-1", &[("11", "a", 3), ("12", "b", 2)])],
            ..ImportBatch::default()
        },
        10,
    )
    .unwrap();
    db.receive("SKU-A", 10, None, "tester", 11).unwrap();
    db.receive("SKU-B", 10, None, "tester", 12).unwrap();
    (dir, db)
}

/// Everything a refusal must leave unchanged, as one comparable value.
pub(crate) fn snapshot(db: &Db) -> serde_json::Value {
    serde_json::json!({
        "items": serde_json::to_value(db.items().unwrap()).unwrap(),
        "inventory": serde_json::to_value(db.inventory(None).unwrap()).unwrap(),
        "woo": serde_json::to_value(db.quantities_for(WOO, &QuantitiesRequest::default()).unwrap()).unwrap(),
        "orders": serde_json::to_value(db.orders(None).unwrap()).unwrap(),
        "feed": serde_json::to_value(db.changes_after(WOO, 0, 1000).unwrap()).unwrap(),
        "state": serde_json::to_value(db.state(WOO, "cursor").unwrap()).unwrap(),
        "every_event": feed_rows(db),
    })
}

/// How many events the feed holds, whoever may see them.
pub(crate) fn feed_rows(db: &Db) -> i64 {
    db.conn()
        .query_row("SELECT COUNT(*) FROM change_feed", [], |r| r.get(0))
        .unwrap()
}

/// Asserts that `f` is refused with a message containing `expected` and changes nothing.
pub(crate) fn assert_refused<T: std::fmt::Debug>(
    db: &Db,
    expected: &str,
    f: impl FnOnce(&Db) -> crate::Result<T>,
) {
    let before = snapshot(db);
    match f(db) {
        Err(crate::DbError::Refused(message)) => {
            assert!(
                message.contains(expected),
                "{message:?} does not say {expected:?}"
            )
        }
        other => panic!("expected a refusal saying {expected:?}, got {other:?}"),
    }
    assert_eq!(snapshot(db), before, "a refusal changed something");
}
