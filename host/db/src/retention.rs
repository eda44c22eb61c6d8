//! Pruning what the retention settings let go, in small transactions, and
//! giving the file's free pages back.
//!
//! Each table is pruned [`PRUNE_BATCH`] rows a transaction, so a writer
//! (a plugin's import, a pick) never waits for more than one batch. What
//! goes, by the cutoffs the host works out from its settings and clock:
//!
//! - a run's issues (kept and counted), once the run ended before the
//!   issues' cutoff; the run is marked `issues_pruned` and keeps its
//!   outcome and counts;
//! - a run with its tables, once it ended before the runs' cutoff (a run
//!   still going never goes);
//! - a change-feed event older than the feed's cutoff, at or below the
//!   feed's horizon ([`crate::feed_horizon`], worked out again for every
//!   batch), and parked by no plugin;
//! - an audit line older than the audit's cutoff.
//!
//! The database is in `auto_vacuum = INCREMENTAL` mode (see [`Db::open`]):
//! after pruning, `PRAGMA incremental_vacuum` hands free pages back a few
//! thousand at a time, and a checkpoint truncates the file.

use rusqlite::{Connection, ToSql};
use serde::Serialize;

use crate::feed_acks::horizon_in;
use crate::feed_horizon::FeedHorizon;
use crate::{Db, Result};

/// Rows deleted in one transaction.
pub const PRUNE_BATCH: u32 = 500;
/// Free pages handed back in one transaction.
const VACUUM_STEP: u64 = 2_000;

/// The times before which things go, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PruneCutoffs {
    /// Runs that ended before this go, with their tables and issues.
    pub runs_ended_before_ms: i64,
    /// The issues of runs that ended before this go.
    pub run_issues_ended_before_ms: i64,
    /// Change-feed events before this may go (acknowledged, not parked).
    pub feed_before_ms: i64,
    /// Audit lines before this go.
    pub audit_before_ms: i64,
}

/// What a prune took (or, dry, would take).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    /// Rows per table, in the order they are pruned.
    pub tables: Vec<TableRows>,
    /// How far the change feed may go, and who holds it.
    pub feed_horizon: FeedHorizon,
    /// Free pages handed back to the file system.
    pub pages_freed: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableRows {
    pub table: &'static str,
    pub rows: u64,
}

impl PruneReport {
    /// Rows taken from every table together.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Which cutoff a step reads.
#[derive(Clone, Copy)]
enum Cutoff {
    Runs,
    RunIssues,
    Feed,
    Audit,
}

/// One table's pruning: the keys that may go (`:cutoff`, and for the
/// feed `:last_seq`), and what deleting one key does (`?1` the key).
struct Step {
    table: &'static str,
    cutoff: Cutoff,
    select: &'static str,
    deletes: &'static [&'static str],
}

const STEPS: &[Step] = &[
    Step {
        table: "run_issues",
        cutoff: Cutoff::RunIssues,
        select: "SELECT i.rowid FROM run_issues i JOIN runs r ON r.id = i.run
                 WHERE r.outcome != 'running' AND r.ended_at < :cutoff",
        deletes: &[
            "UPDATE runs SET issues_pruned = 1 WHERE id = (SELECT run FROM run_issues WHERE rowid = ?1)",
            "DELETE FROM run_issues WHERE rowid = ?1",
        ],
    },
    Step {
        table: "run_issues_not_kept",
        cutoff: Cutoff::RunIssues,
        select: "SELECT n.rowid FROM run_issues_not_kept n JOIN runs r ON r.id = n.run
                 WHERE r.outcome != 'running' AND r.ended_at < :cutoff",
        deletes: &[
            "UPDATE runs SET issues_pruned = 1
             WHERE id = (SELECT run FROM run_issues_not_kept WHERE rowid = ?1)",
            "DELETE FROM run_issues_not_kept WHERE rowid = ?1",
        ],
    },
    Step {
        table: "run_tables",
        cutoff: Cutoff::Runs,
        select: "SELECT t.rowid FROM run_tables t JOIN runs r ON r.id = t.run
                 WHERE r.outcome != 'running' AND r.ended_at < :cutoff",
        deletes: &["DELETE FROM run_tables WHERE rowid = ?1"],
    },
    Step {
        table: "runs",
        cutoff: Cutoff::Runs,
        select: "SELECT id FROM runs WHERE outcome != 'running' AND ended_at < :cutoff",
        deletes: &[
            "DELETE FROM run_issues WHERE run = ?1",
            "DELETE FROM run_issues_not_kept WHERE run = ?1",
            "DELETE FROM run_tables WHERE run = ?1",
            "DELETE FROM runs WHERE id = ?1",
        ],
    },
    Step {
        table: "change_feed",
        cutoff: Cutoff::Feed,
        select: "SELECT f.seq FROM change_feed f
                 WHERE f.seq <= :last_seq AND f.at < :cutoff
                   AND NOT EXISTS (SELECT 1 FROM parked_changes p WHERE p.seq = f.seq)",
        deletes: &["DELETE FROM change_feed WHERE seq = ?1"],
    },
    Step {
        table: "audit_log",
        cutoff: Cutoff::Audit,
        select: "SELECT id FROM audit_log WHERE at < :cutoff",
        deletes: &["DELETE FROM audit_log WHERE id = ?1"],
    },
];

impl PruneCutoffs {
    fn of(&self, cutoff: Cutoff) -> i64 {
        match cutoff {
            Cutoff::Runs => self.runs_ended_before_ms,
            Cutoff::RunIssues => self.run_issues_ended_before_ms,
            Cutoff::Feed => self.feed_before_ms,
            Cutoff::Audit => self.audit_before_ms,
        }
    }
}

impl Db {
    /// Prunes everything `cutoffs` lets go, [`PRUNE_BATCH`] rows a
    /// transaction, then hands the free pages back. With `dry_run`, only
    /// counts what would go and changes nothing.
    pub fn prune(&self, cutoffs: &PruneCutoffs, dry_run: bool) -> Result<PruneReport> {
        let feed_horizon = self.feed_horizon()?;
        let mut tables = Vec::new();
        for step in STEPS {
            let cutoff = cutoffs.of(step.cutoff);
            let rows = if dry_run {
                self.read(|tx| count(tx, step, cutoff))?
            } else {
                let mut rows = 0;
                loop {
                    let batch = self.write(|tx| delete_batch(tx, step, cutoff))?;
                    if batch == 0 {
                        break;
                    }
                    rows += batch;
                }
                rows
            };
            tables.push(TableRows {
                table: step.table,
                rows,
            });
        }
        let pages_freed = if dry_run { 0 } else { self.give_space_back()? };
        Ok(PruneReport {
            dry_run,
            tables,
            feed_horizon,
            pages_freed,
        })
    }

    /// Hands the file's free pages back, 2,000 a transaction,
    /// then checkpoints so the file itself shrinks. Returns the pages freed.
    pub fn give_space_back(&self) -> Result<u64> {
        let mut freed = 0;
        loop {
            let conn = self.conn();
            let free = free_pages(&conn)?;
            if free == 0 {
                break;
            }
            conn.execute_batch(&format!("PRAGMA incremental_vacuum({VACUUM_STEP})"))?;
            let left = free_pages(&conn)?;
            // Not in incremental mode (it could not be switched): nothing moves.
            if left >= free {
                break;
            }
            freed += free - left;
        }
        self.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(freed)
    }
}

fn free_pages(conn: &Connection) -> Result<u64> {
    Ok(conn.pragma_query_value(None, "freelist_count", |r| r.get(0))?)
}

/// The step's arguments: its cutoff, and for the feed the horizon as
/// `conn` sees it now (`None`: nothing of the feed may go).
fn arguments(
    conn: &Connection,
    step: &Step,
    cutoff: i64,
) -> Result<Option<Vec<(&'static str, i64)>>> {
    let mut args = vec![(":cutoff", cutoff)];
    if let Cutoff::Feed = step.cutoff {
        match horizon_in(conn)?.last_prunable() {
            Some(last) => args.push((":last_seq", last)),
            None => return Ok(None),
        }
    }
    Ok(Some(args))
}

fn named<'a>(args: &'a [(&'static str, i64)]) -> Vec<(&'static str, &'a dyn ToSql)> {
    args.iter().map(|(n, v)| (*n, v as &dyn ToSql)).collect()
}

fn count(conn: &Connection, step: &Step, cutoff: i64) -> Result<u64> {
    let Some(args) = arguments(conn, step, cutoff)? else {
        return Ok(0);
    };
    Ok(conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM ({})", step.select))?
        .query_row(named(&args).as_slice(), |r| r.get(0))?)
}

/// Deletes one batch of the step's rows; returns how many.
fn delete_batch(conn: &Connection, step: &Step, cutoff: i64) -> Result<u64> {
    let Some(mut args) = arguments(conn, step, cutoff)? else {
        return Ok(0);
    };
    args.push((":limit", i64::from(PRUNE_BATCH)));
    let keys: Vec<i64> = conn
        .prepare_cached(&format!("{} LIMIT :limit", step.select))?
        .query_map(named(&args).as_slice(), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for sql in step.deletes {
        let mut stmt = conn.prepare_cached(sql)?;
        for key in &keys {
            stmt.execute([key])?;
        }
    }
    Ok(keys.len() as u64)
}

/// Puts the file in `auto_vacuum = INCREMENTAL` mode: a new database
/// before its first table, an existing one by a `VACUUM` (outside any
/// transaction; it rewrites the file once). Returns whether an existing
/// database was switched.
pub(crate) fn ensure_incremental_vacuum(conn: &Connection) -> Result<bool> {
    let mode: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0))?;
    if mode == 2 {
        return Ok(false);
    }
    conn.pragma_update(None, "auto_vacuum", "incremental")?;
    let tables: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?;
    if tables == 0 {
        return Ok(false);
    }
    conn.execute_batch("VACUUM")?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use plugin_api::{IssueOutcome, RecordIssue};
    use rusqlite::Connection;

    use super::*;
    use crate::testing::{WOO, stocked_with_order};
    use crate::{NewRun, RunFinish, RunOutcome, RunTrigger};

    const DAY: i64 = 86_400_000;

    fn cutoffs(at: i64) -> PruneCutoffs {
        PruneCutoffs {
            runs_ended_before_ms: at,
            run_issues_ended_before_ms: at,
            feed_before_ms: at,
            audit_before_ms: at,
        }
    }

    fn rows(report: &PruneReport, table: &str) -> u64 {
        report
            .tables
            .iter()
            .find(|t| t.table == table)
            .unwrap()
            .rows
    }

    fn ended_run(db: &Db, job: &str, ended_ms: i64, issues: usize) -> i64 {
        let run = db
            .start_run(
                &NewRun {
                    plugin: WOO,
                    job,
                    trigger: RunTrigger::Schedule,
                    user: None,
                    pid: 1,
                    owner: "",
                    started_ms: ended_ms - 10,
                    dry_run: false,
                    forced: false,
                },
                |_, _| true,
            )
            .unwrap();
        let issues: Vec<RecordIssue> = (0..issues)
            .map(|n| RecordIssue::new(format!("r{n}"), IssueOutcome::Skipped, "no SKU"))
            .collect();
        db.finish_run(
            run,
            &RunFinish {
                outcome: RunOutcome::Succeeded,
                ended_ms,
                created: 1,
                updated: 0,
                skipped: issues.len() as u64,
                failed: 0,
                summary: "",
                error: None,
                issues: &issues,
            },
        )
        .unwrap();
        run
    }

    #[test]
    fn only_what_is_old_acknowledged_and_not_parked_goes_and_a_dry_run_changes_nothing() {
        let (_d, db) = stocked_with_order();
        // The order's two allocation events and two receipts; a pick and an
        // adjustment later. `seqs` leaves out the allocation events, which
        // come first and go with the acknowledged.
        db.pick("WC-1", 1, 1, None, "ann", 2).unwrap();
        db.adjust("SKU-A", -1, "broken", None, "ann", 3).unwrap();
        let events = db.changes_after(WOO, 0, 100).unwrap().events;
        let seqs: Vec<i64> = events
            .iter()
            .filter(|e| e.kind != plugin_api::warehouse::ChangeKind::Other)
            .map(|e| e.seq)
            .collect();
        let old_run = ended_run(&db, "a", 5, 3);
        let new_run = ended_run(&db, "b", 50 * DAY, 2);
        db.audit("ann", "activated", WOO, "", 5).unwrap();
        db.audit("ann", "activated", WOO, "", 50 * DAY).unwrap();
        let now = 40 * DAY;

        // Read but never acknowledged: the feed stays whole.
        let held = db.prune(&cutoffs(now), true).unwrap();
        assert_eq!(held.feed_horizon, FeedHorizon::Held { plugin: WOO.into() });
        assert_eq!(rows(&held, "change_feed"), 0);
        assert_eq!(
            (
                rows(&held, "runs"),
                rows(&held, "run_issues"),
                rows(&held, "audit_log")
            ),
            (1, 3, 1)
        );

        // Acknowledged up to the third event, the second parked.
        db.acknowledge_feed(WOO, "export", seqs[2], 6).unwrap();
        db.park(WOO, seqs[1], "order gone", 6).unwrap();
        let dry = db.prune(&cutoffs(now), true).unwrap();
        assert_eq!(rows(&dry, "change_feed"), 4, "{dry:?}");
        assert_eq!(
            db.runs(None, 10).unwrap().len(),
            2,
            "a dry run changes nothing"
        );

        let done = db.prune(&cutoffs(now), false).unwrap();
        assert_eq!(done.tables, dry.tables);
        let left: Vec<i64> = db
            .conn()
            .prepare("SELECT seq FROM change_feed ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            left,
            [seqs[1], seqs[3]],
            "the parked and the unacknowledged stay"
        );
        let runs = db.runs(None, 10).unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [new_run]);
        assert!(db.run(old_run).unwrap().is_none());
        assert_eq!(db.audit_log(10).unwrap().len(), 1);
        assert_eq!(db.prune(&cutoffs(now), false).unwrap().rows(), 0);
    }

    #[test]
    fn a_transaction_deletes_at_most_a_batch() {
        let (_d, db) = stocked_with_order();
        for n in 0..1_200 {
            db.audit("ann", "activated", WOO, "", n).unwrap();
        }
        let audit = STEPS.iter().find(|s| s.table == "audit_log").unwrap();
        let batches: Vec<u64> = (0..4)
            .map(|_| db.write(|tx| delete_batch(tx, audit, 10_000)).unwrap())
            .collect();
        assert_eq!(batches, [500, 500, 200, 0]);
    }

    #[test]
    fn a_run_keeps_its_counts_longer_than_its_issues() {
        let (_d, db) = stocked_with_order();
        let run = ended_run(&db, "a", 5, 4);
        let report = db
            .prune(
                &PruneCutoffs {
                    runs_ended_before_ms: 0,
                    ..cutoffs(10)
                },
                false,
            )
            .unwrap();
        assert_eq!((rows(&report, "run_issues"), rows(&report, "runs")), (4, 0));
        let kept = db.run(run).unwrap().unwrap();
        assert_eq!((kept.skipped, kept.issues_pruned), (4, true));
        assert!(db.issue_groups(run).unwrap().is_empty());
    }

    #[test]
    fn an_older_database_is_switched_to_incremental_vacuum_once_and_gives_space_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 0;")
                .unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert!(db.switched_to_incremental_vacuum());
        drop(db);
        let db = Db::open(&path).unwrap();
        assert!(!db.switched_to_incremental_vacuum());
        let mode: i64 = db
            .conn()
            .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, 2);
        for n in 0..2_000 {
            db.audit("ann", "activated", &"x".repeat(500), "", n)
                .unwrap();
        }
        db.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let full = std::fs::metadata(&path).unwrap().len();
        let report = db.prune(&cutoffs(10_000), false).unwrap();
        assert_eq!(rows(&report, "audit_log"), 2_000);
        assert!(report.pages_freed > 100, "{report:?}");
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after * 3 < full, "{after} of {full}");
    }
}
