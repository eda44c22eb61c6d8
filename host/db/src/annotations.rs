//! What a store says of an order beyond its lines: why it needs a person's
//! attention, and the units it refunded per line. Kept beside the order for
//! the admin (`orders`, `order N`); it changes no quantity.

use std::collections::HashMap;

use plugin_api::warehouse::OrderAnnotation;
use rusqlite::{OptionalExtension, params};

use crate::{Db, Result, refuse};

/// The longest attention reason kept, in characters.
const ATTENTION_MAX: usize = 500;

/// What the store said of one order, for showing it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderNotes {
    pub attention: Option<String>,
    /// By line number: units refunded in the store.
    pub refunded: HashMap<i64, i64>,
    /// By line number: why a line is kept but not shipped.
    pub descriptions: HashMap<i64, String>,
}

impl Db {
    /// Replaces what `source` said of its orders; orders the warehouse
    /// does not have are passed over. A negative refund is refused.
    pub fn annotate_orders(&self, source: &str, annotations: &[OrderAnnotation]) -> Result<()> {
        self.write(|tx| {
            for annotation in annotations {
                let order: Option<i64> = tx
                    .prepare_cached("SELECT id FROM orders WHERE source = ?1 AND external_id = ?2")?
                    .query_row([source, annotation.external_id.as_str()], |r| r.get(0))
                    .optional()?;
                let Some(order) = order else {
                    continue;
                };
                let attention = annotation
                    .attention
                    .as_deref()
                    .map(|a| a.chars().take(ATTENTION_MAX).collect::<String>());
                tx.prepare_cached("UPDATE orders SET attention = ?2 WHERE id = ?1")?
                    .execute(params![order, attention])?;
                tx.prepare_cached("UPDATE order_lines SET refunded = 0 WHERE order_id = ?1")?
                    .execute([order])?;
                for line in &annotation.refunded {
                    if line.quantity < 0 {
                        return refuse(format!(
                            "order {:?} line {:?}: a refund of {} units",
                            annotation.external_id, line.external_line_id, line.quantity
                        ));
                    }
                    tx.prepare_cached(
                        "UPDATE order_lines SET refunded = ?3
                         WHERE order_id = ?1 AND external_line_id = ?2",
                    )?
                    .execute(params![
                        order,
                        line.external_line_id,
                        line.quantity
                    ])?;
                }
            }
            Ok(())
        })
    }

    /// What the store said of the order with this number.
    pub fn order_notes(&self, number: &str) -> Result<OrderNotes> {
        self.read(|tx| {
            let found: Option<(i64, Option<String>)> = tx
                .query_row(
                    "SELECT id, attention FROM orders WHERE number = ?1",
                    [number],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((order, attention)) = found else {
                return Ok(OrderNotes::default());
            };
            let mut notes = OrderNotes {
                attention,
                ..OrderNotes::default()
            };
            let mut stmt = tx.prepare(
                "SELECT line_no, refunded, description FROM order_lines WHERE order_id = ?1",
            )?;
            let rows = stmt.query_map([order], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (line, refunded, description) = row?;
                if refunded > 0 {
                    notes.refunded.insert(line, refunded);
                }
                if !description.is_empty() {
                    notes.descriptions.insert(line, description);
                }
            }
            Ok(notes)
        })
    }

    /// The orders that need a person's attention, by number, with why.
    pub fn orders_needing_attention(&self) -> Result<HashMap<String, String>> {
        self.read(|tx| {
            let mut stmt =
                tx.prepare("SELECT number, attention FROM orders WHERE attention IS NOT NULL")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::warehouse::{ImportBatch, LineRefund};

    use super::*;
    use crate::testing::{WOO, db, item, order};

    #[test]
    fn annotations_are_kept_replaced_and_shown_by_order() {
        let (_d, db) = db();
        db.apply_batch(
            WOO,
            &ImportBatch {
                item_upserts: vec![item("a", "SKU-A")],
                order_upserts: vec![order("1", "WC-1", &[("11", "a", 2)])],
                ..ImportBatch::default()
            },
            1,
        )
        .unwrap();
        let said = OrderAnnotation {
            external_id: "1".into(),
            attention: Some("line \"Engraving\": a line with no product".into()),
            refunded: vec![LineRefund {
                external_line_id: "11".into(),
                quantity: 1,
            }],
        };
        let unknown = OrderAnnotation {
            external_id: "404".into(),
            attention: Some("x".into()),
            refunded: vec![],
        };
        db.annotate_orders(WOO, &[said, unknown]).unwrap();
        let notes = db.order_notes("WC-1").unwrap();
        assert_eq!(
            notes.attention.as_deref(),
            Some("line \"Engraving\": a line with no product")
        );
        assert_eq!(notes.refunded, HashMap::from([(1, 1)]));
        assert_eq!(db.orders_needing_attention().unwrap().len(), 1);
        // Said again: replaced; another source's word changes nothing.
        let cleared = OrderAnnotation {
            external_id: "1".into(),
            attention: None,
            refunded: vec![],
        };
        db.annotate_orders("erp", std::slice::from_ref(&cleared))
            .unwrap();
        assert!(db.order_notes("WC-1").unwrap().attention.is_some());
        db.annotate_orders(WOO, &[cleared]).unwrap();
        assert_eq!(db.order_notes("WC-1").unwrap(), OrderNotes::default());
        let negative = OrderAnnotation {
            external_id: "1".into(),
            attention: None,
            refunded: vec![LineRefund {
                external_line_id: "11".into(),
                quantity: -1,
            }],
        };
        assert!(db.annotate_orders(WOO, &[negative]).is_err());
    }
}
