//! The change feed: what happened on the IntelliTrack side (picks,
//! shipments, inventory changes, cancellations), in commit order, with a
//! sequence number that only grows.
//!
//! Events are appended in the same transaction as the change they describe,
//! and SQLite has one writer at a time, so sequence order is commit order: a
//! reader never sees event `n + 1` before event `n`. Readers keep their own
//! cursor (a plugin keeps it in its state).

use plugin_api::warehouse::{ChangeEvent, ChangeKind, ChangePage};
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::{Db, Result};

/// The most events one read returns.
pub const MAX_PAGE: u32 = 10_000;

impl Db {
    /// Up to `limit` (at most [`MAX_PAGE`]) of `source`'s events after
    /// `after`, oldest first. `source` sees the events of the orders it sent
    /// and the inventory events of the items it has an external id for; the
    /// page's cursor moves past the others too.
    pub fn changes_after(&self, source: &str, after: i64, limit: u32) -> Result<ChangePage> {
        let limit = limit.min(MAX_PAGE);
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT f.seq, f.at, f.kind, o.number, o.external_id, i.number, r.external_id,
                        f.payload
                 FROM change_feed f
                 LEFT JOIN orders o ON o.id = f.order_id
                 LEFT JOIN items i ON i.id = f.item
                 LEFT JOIN item_refs r ON r.item = f.item AND r.source = ?2
                 WHERE f.seq > ?1
                   AND (o.source = ?2 OR (f.order_id IS NULL AND r.external_id IS NOT NULL))
                 ORDER BY f.seq
                 LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![after, source, limit], |r| {
                let kind: String = r.get(2)?;
                let payload: String = r.get(7)?;
                Ok((
                    ChangeEvent {
                        seq: r.get(0)?,
                        at_ms: r.get(1)?,
                        kind: serde_json::from_value(serde_json::Value::String(kind))
                            .unwrap_or(ChangeKind::Other),
                        order_number: r.get(3)?,
                        order_external_id: r.get(4)?,
                        item_number: r.get(5)?,
                        item_external_id: r.get(6)?,
                        payload: serde_json::Value::Null,
                    },
                    payload,
                ))
            })?;
            let mut events = Vec::new();
            for row in rows {
                let (mut event, payload) = row?;
                event.payload = serde_json::from_str(&payload)?;
                events.push(event);
            }
            let cursor = if events.len() as u32 == limit {
                events.last().map_or(after, |e| e.seq)
            } else {
                let last: i64 =
                    tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM change_feed", [], |r| {
                        r.get(0)
                    })?;
                last.max(after)
            };
            Ok(ChangePage { events, cursor })
        })
    }
}

/// Appends one event.
pub(crate) fn append(
    conn: &Connection,
    kind: ChangeKind,
    order: Option<i64>,
    item: Option<i64>,
    payload: &impl Serialize,
    now_ms: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO change_feed (at, kind, order_id, item, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        now_ms,
        kind.as_str(),
        order,
        item,
        serde_json::to_string(payload)?
    ])?;
    Ok(())
}
