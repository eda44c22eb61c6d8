//! Parked change-feed events: events a plugin could not deliver and will
//! never deliver by trying again (the order was deleted in the store, say).
//! The plugin parks them with the reason and moves on; an admin sees them
//! (`plugin-host parked`) and asks for them to be sent again, which the
//! plugin does on its next run, unparking each one that goes through.

use plugin_api::warehouse::ChangeEvent;
use rusqlite::params;
use serde::Serialize;

use crate::change_feed::visible;
use crate::{Db, Result, refuse};

/// A parked event as the admin sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParkedRow {
    pub plugin: String,
    pub seq: i64,
    pub kind: String,
    pub order_number: Option<String>,
    pub reason: String,
    pub parked_ms: i64,
    /// An admin asked for it to be sent again; the plugin has not yet.
    pub retry_requested: bool,
}

impl Db {
    /// Parks `source`'s event `seq` with the reason; parking it again
    /// updates the reason and clears a retry request.
    pub fn park(&self, source: &str, seq: i64, reason: &str, now_ms: i64) -> Result<()> {
        self.write(|tx| {
            if visible(tx, source, "f.seq = :seq", &[(":seq", &seq)], 1)?.is_empty() {
                return refuse(format!("change-feed event {seq} is not one of {source}'s"));
            }
            tx.prepare_cached(
                "INSERT INTO parked_changes (plugin, seq, reason, parked_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (plugin, seq) DO UPDATE SET reason = ?3, parked_at = ?4, retry_requested = 0",
            )?
            .execute(params![source, seq, reason, now_ms])?;
            Ok(())
        })
    }

    /// Takes `source`'s event `seq` off the parked list (no-op if not parked).
    pub fn unpark(&self, source: &str, seq: i64) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM parked_changes WHERE plugin = ?1 AND seq = ?2")?
                .execute(params![source, seq])?;
            Ok(())
        })
    }

    /// The parked events (of one plugin, or of all), oldest first.
    pub fn parked(&self, plugin: Option<&str>) -> Result<Vec<ParkedRow>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT p.plugin, p.seq, f.kind, o.number, p.reason, p.parked_at, p.retry_requested
                 FROM parked_changes p
                 JOIN change_feed f ON f.seq = p.seq
                 LEFT JOIN orders o ON o.id = f.order_id
                 WHERE ?1 IS NULL OR p.plugin = ?1
                 ORDER BY p.plugin, p.seq",
            )?;
            let rows = stmt
                .query_map([plugin], |r| {
                    Ok(ParkedRow {
                        plugin: r.get(0)?,
                        seq: r.get(1)?,
                        kind: r.get(2)?,
                        order_number: r.get(3)?,
                        reason: r.get(4)?,
                        parked_ms: r.get(5)?,
                        retry_requested: r.get(6)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// Asks for `plugin`'s parked event `seq` (or, with `None`, all of
    /// them) to be sent again. Returns how many were asked for.
    pub fn retry_parked(&self, plugin: &str, seq: Option<i64>) -> Result<usize> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE parked_changes SET retry_requested = 1
                     WHERE plugin = ?1 AND (?2 IS NULL OR seq = ?2)",
                )?
                .execute(params![plugin, seq])?;
            match (changed, seq) {
                (0, Some(seq)) => refuse(format!("{plugin} has no parked event {seq}")),
                (n, _) => Ok(n),
            }
        })
    }

    /// Drops `plugin`'s parked event `seq` (or, with `None`, all of them)
    /// for good: the plugin's cursor is past them already, so they are
    /// never sent. Returns how many were dropped.
    pub fn discard_parked(&self, plugin: &str, seq: Option<i64>) -> Result<usize> {
        self.write(|tx| {
            let dropped = tx
                .prepare_cached(
                    "DELETE FROM parked_changes WHERE plugin = ?1 AND (?2 IS NULL OR seq = ?2)",
                )?
                .execute(params![plugin, seq])?;
            match (dropped, seq) {
                (0, Some(seq)) => refuse(format!("{plugin} has no parked event {seq}")),
                (n, _) => Ok(n),
            }
        })
    }

    /// `source`'s parked events an admin asked to send again, oldest first.
    pub fn parked_retries(&self, source: &str) -> Result<Vec<ChangeEvent>> {
        self.read(|tx| {
            visible(
                tx,
                source,
                "f.seq IN (SELECT seq FROM parked_changes WHERE plugin = :source AND retry_requested = 1)",
                &[],
                u32::MAX,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{WOO, assert_refused, stocked_with_order};

    #[test]
    fn a_parked_event_is_listed_retried_and_unparked() {
        let (_d, db) = stocked_with_order();
        db.pick("WC-1", 1, 1, None, "ann", 2).unwrap();
        let seq = db
            .changes_after(WOO, 0, 100)
            .unwrap()
            .events
            .last()
            .unwrap()
            .seq;
        assert_refused(&db, "is not one of erp's", |db| {
            db.park("erp", seq, "no", 3)
        });
        db.park(WOO, seq, "order deleted in the store", 3).unwrap();
        db.park(WOO, seq, "order 1 was deleted in the store", 4)
            .unwrap();
        let parked = db.parked(None).unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!(
            (
                parked[0].reason.as_str(),
                parked[0].order_number.as_deref(),
                parked[0].retry_requested
            ),
            ("order 1 was deleted in the store", Some("WC-1"), false)
        );
        assert!(db.parked_retries(WOO).unwrap().is_empty());
        assert_refused(&db, "woo has no parked event 999", |db| {
            db.retry_parked(WOO, Some(999))
        });
        assert_eq!(db.retry_parked(WOO, None).unwrap(), 1);
        assert_eq!(db.parked_retries(WOO).unwrap()[0].seq, seq);
        db.unpark(WOO, seq).unwrap();
        assert!(db.parked(Some(WOO)).unwrap().is_empty());
        db.park(WOO, seq, "order deleted", 5).unwrap();
        assert_refused(&db, "woo has no parked event 999", |db| {
            db.discard_parked(WOO, Some(999))
        });
        assert_eq!(db.discard_parked(WOO, Some(seq)).unwrap(), 1);
        assert!(db.parked(None).unwrap().is_empty());
        assert!(db.parked_retries(WOO).unwrap().is_empty());
        assert_eq!(db.discard_parked(WOO, None).unwrap(), 0);
    }
}
