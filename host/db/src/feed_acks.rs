//! Who has read the change feed, and how far each of its consumers has
//! acknowledged it: what pruning the feed waits for
//! ([`crate::feed_horizon`]).
//!
//! Reading the feed makes a plugin instance a reader for good (until the
//! instance is removed). Each acknowledgement (`db.changes.ack`, plugin
//! API 1.5) names a consumer of the instance and says every event up to
//! its sequence number is done with; the latest one of each consumer is
//! kept.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::feed_horizon::{FeedHorizon, FeedReader};
use crate::{Db, Result, refuse};

/// The longest consumer name.
const CONSUMER_MAX: usize = 64;

/// One consumer's acknowledgement, as the admin sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedAck {
    pub plugin: String,
    pub consumer: String,
    pub seq: i64,
    pub at_ms: i64,
}

impl Db {
    /// Records that `source`'s `consumer` is done with every event up to
    /// `seq`. Refuses an empty or overlong name and a sequence number the
    /// feed has not reached; a refusal changes nothing.
    pub fn acknowledge_feed(
        &self,
        source: &str,
        consumer: &str,
        seq: i64,
        now_ms: i64,
    ) -> Result<()> {
        if consumer.trim().is_empty() || consumer.len() > CONSUMER_MAX {
            return refuse(format!(
                "a change-feed consumer needs a name of 1 to {CONSUMER_MAX} bytes (got {consumer:?})"
            ));
        }
        self.write(|tx| {
            let last: i64 = tx
                .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'change_feed'")?
                .query_row([], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            if !(0..=last).contains(&seq) {
                return refuse(format!(
                    "cannot acknowledge change-feed event {seq}: the feed runs from 0 to {last}"
                ));
            }
            tx.prepare_cached("INSERT OR IGNORE INTO feed_readers (plugin) VALUES (?1)")?
                .execute([source])?;
            tx.prepare_cached(
                "INSERT INTO feed_acks (plugin, consumer, seq, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (plugin, consumer) DO UPDATE SET seq = ?3, at = ?4",
            )?
            .execute(params![source, consumer, seq, now_ms])?;
            Ok(())
        })
    }

    /// Notes that `source` reads the feed (once: a reader stays one).
    pub(crate) fn note_feed_reader(&self, source: &str) -> Result<()> {
        let known = self
            .conn()
            .prepare_cached("SELECT 1 FROM feed_readers WHERE plugin = ?1")?
            .query_row([source], |_| Ok(()))
            .optional()?
            .is_some();
        if !known {
            self.write(|tx| {
                tx.prepare_cached("INSERT OR IGNORE INTO feed_readers (plugin) VALUES (?1)")?
                    .execute([source])?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Every consumer's latest acknowledgement, by instance and consumer.
    pub fn feed_acks(&self) -> Result<Vec<FeedAck>> {
        self.read(|tx| {
            let rows = tx
                .prepare_cached(
                    "SELECT plugin, consumer, seq, at FROM feed_acks ORDER BY plugin, consumer",
                )?
                .query_map([], |r| {
                    Ok(FeedAck {
                        plugin: r.get(0)?,
                        consumer: r.get(1)?,
                        seq: r.get(2)?,
                        at_ms: r.get(3)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// How far the feed may be pruned now, by [`FeedHorizon::of`].
    pub fn feed_horizon(&self) -> Result<FeedHorizon> {
        self.read(|tx| horizon_in(tx))
    }
}

/// The horizon as `conn` sees the readers and their acknowledgements.
pub(crate) fn horizon_in(conn: &rusqlite::Connection) -> Result<FeedHorizon> {
    let mut readers: Vec<FeedReader> = conn
        .prepare_cached("SELECT plugin FROM feed_readers ORDER BY plugin")?
        .query_map([], |r| {
            Ok(FeedReader {
                plugin: r.get(0)?,
                acks: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut acks = conn.prepare_cached("SELECT plugin, consumer, seq FROM feed_acks")?;
    let acks = acks.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    for ack in acks {
        let (plugin, consumer, seq) = ack?;
        if let Some(reader) = readers.iter_mut().find(|r| r.plugin == plugin) {
            reader.acks.push((consumer, seq));
        }
    }
    Ok(FeedHorizon::of(&readers))
}

#[cfg(test)]
mod tests {
    use crate::feed_horizon::FeedHorizon;
    use crate::testing::{WOO, assert_refused, stocked_with_order};

    #[test]
    fn a_reader_holds_the_feed_until_it_acknowledges_and_its_slowest_consumer_sets_the_horizon() {
        let (_d, db) = stocked_with_order();
        assert_eq!(db.feed_horizon().unwrap(), FeedHorizon::Unread);
        let page = db.changes_after(WOO, 0, 100).unwrap();
        assert_eq!(
            db.feed_horizon().unwrap(),
            FeedHorizon::Held { plugin: WOO.into() }
        );
        db.acknowledge_feed(WOO, "export", page.cursor, 10).unwrap();
        db.acknowledge_feed(WOO, "push_stock", 1, 10).unwrap();
        assert_eq!(db.feed_horizon().unwrap().last_prunable(), Some(1));
        db.acknowledge_feed(WOO, "push_stock", page.cursor, 11)
            .unwrap();
        assert_eq!(
            db.feed_horizon().unwrap().last_prunable(),
            Some(page.cursor)
        );
        assert_eq!(db.feed_acks().unwrap().len(), 2);
        assert_refused(&db, "the feed runs from 0 to", |db| {
            db.acknowledge_feed(WOO, "export", page.cursor + 1, 12)
        });
        assert_refused(&db, "needs a name of 1 to 64 bytes", |db| {
            db.acknowledge_feed(WOO, " ", 1, 12)
        });
        assert_eq!(db.feed_acks().unwrap()[1].seq, page.cursor);
    }
}
