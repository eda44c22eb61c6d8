//! What the admin page's overview reads at a glance: each job's last ended
//! run and the runs going on, the runs of recent days summed by day, and
//! per plugin instance the orders waiting to ship, the change-feed events
//! it has not read yet and those it parked.

use rusqlite::params;
use serde::Serialize;

use crate::change_feed::VISIBLE_TO_SOURCE;
use crate::runs::{RUN_COLUMNS, RunRow, run_row};
use crate::{Db, Result};

/// The order statuses of an order the warehouse has yet to ship whole.
const WAITING: &str = "('open', 'picking', 'picked', 'partially-shipped')";

/// The runs that started on one day, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunDay {
    /// Days since 1970-01-01 in the caller's time zone.
    pub day: i64,
    pub runs: u64,
    /// Records created or updated.
    pub moved: u64,
    /// Records that failed.
    pub failed_records: u64,
    /// Runs that failed, timed out or were interrupted.
    pub failed_runs: u64,
}

impl Db {
    /// Each job's last run that has ended (of every plugin instance).
    pub fn last_ended_runs(&self) -> Result<Vec<RunRow>> {
        self.select_runs(
            "id IN (SELECT MAX(id) FROM runs WHERE outcome <> 'running' GROUP BY plugin, job)",
        )
    }

    /// The runs going on now.
    pub fn running_runs(&self) -> Result<Vec<RunRow>> {
        self.select_runs("outcome = 'running'")
    }

    fn select_runs(&self, condition: &str) -> Result<Vec<RunRow>> {
        self.read(|tx| {
            let runs = tx
                .prepare_cached(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE {condition} ORDER BY id DESC"
                ))?
                .query_map([], run_row)?
                .collect::<Result<_, _>>()?;
            Ok(runs)
        })
    }

    /// The runs started since `since_ms`, summed by day, a day starting
    /// at midnight `offset_ms` from UTC; oldest first, days without runs left out.
    pub fn run_days(&self, since_ms: i64, offset_ms: i64) -> Result<Vec<RunDay>> {
        self.read(|tx| {
            let days = tx
                .prepare_cached(
                    "SELECT (started_at + ?2) / 86400000 AS day, COUNT(*), SUM(created + updated),
                            SUM(failed), SUM(outcome IN ('failed', 'timed-out', 'interrupted'))
                     FROM runs WHERE started_at >= ?1 GROUP BY day ORDER BY day",
                )?
                .query_map(params![since_ms, offset_ms], |r| {
                    Ok(RunDay {
                        day: r.get(0)?,
                        runs: r.get(1)?,
                        moved: r.get(2)?,
                        failed_records: r.get(3)?,
                        failed_runs: r.get(4)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(days)
        })
    }

    /// How many of `source`'s orders the warehouse has yet to ship whole.
    pub fn orders_waiting(&self, source: &str) -> Result<u64> {
        self.read(|tx| {
            Ok(tx
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM orders WHERE source = ?1 AND status IN {WAITING}"
                ))?
                .query_row([source], |r| r.get(0))?)
        })
    }

    /// How many change-feed events `source` may see after `cursor` (the
    /// events it has yet to read).
    pub fn events_pending(&self, source: &str, cursor: i64) -> Result<u64> {
        self.read(|tx| {
            Ok(tx
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM change_feed f
                     LEFT JOIN orders o ON o.id = f.order_id
                     LEFT JOIN item_refs r ON r.item = f.item AND r.source = :source
                     WHERE f.seq > :cursor AND {VISIBLE_TO_SOURCE}"
                ))?
                .query_row(
                    rusqlite::named_params! {":source": source, ":cursor": cursor},
                    |r| r.get(0),
                )?)
        })
    }

    /// How many of `plugin`'s change-feed events are parked.
    pub fn parked_count(&self, plugin: &str) -> Result<u64> {
        self.read(|tx| {
            Ok(tx
                .prepare_cached("SELECT COUNT(*) FROM parked_changes WHERE plugin = ?1")?
                .query_row([plugin], |r| r.get(0))?)
        })
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::{IssueOutcome, RecordIssue};

    use crate::runs::{NewRun, RunFinish, RunOutcome, RunTrigger};
    use crate::{Db, RunFilter};

    const DAY: i64 = 86_400_000;

    fn run(db: &Db, job: &str, started_ms: i64, outcome: RunOutcome, moved: u64) -> i64 {
        let id = db
            .start_run(
                &NewRun {
                    plugin: "p",
                    job,
                    trigger: RunTrigger::Schedule,
                    user: None,
                    pid: 1,
                    owner: "",
                    started_ms,
                    dry_run: false,
                    forced: false,
                },
                |_, _| true,
            )
            .unwrap();
        if outcome != RunOutcome::Running {
            let issues = [
                RecordIssue::new("product 1", IssueOutcome::Skipped, "virtual"),
                RecordIssue::new("product 2", IssueOutcome::Skipped, "no SKU"),
                RecordIssue::new("product 3", IssueOutcome::Skipped, "no SKU"),
                RecordIssue::new("product 4", IssueOutcome::Failed, "refused"),
            ];
            db.finish_run(
                id,
                &RunFinish {
                    outcome,
                    ended_ms: started_ms + 10,
                    created: moved,
                    updated: 0,
                    skipped: 3,
                    failed: 1,
                    summary: "",
                    error: None,
                    issues: &issues,
                },
            )
            .unwrap();
        }
        id
    }

    #[test]
    fn runs_are_summed_by_day_and_the_last_ended_run_of_each_job_is_found() {
        let (_dir, db) = crate::testing::db();
        run(&db, "a", DAY + 5, RunOutcome::Succeeded, 10);
        let last_a = run(&db, "a", DAY + 9, RunOutcome::Failed, 2);
        let b = run(&db, "b", 3 * DAY, RunOutcome::Succeeded, 7);
        let going = run(&db, "a", 3 * DAY + 1, RunOutcome::Running, 0);
        let days = db.run_days(DAY, 0).unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(
            (
                days[0].day,
                days[0].runs,
                days[0].moved,
                days[0].failed_runs
            ),
            (1, 2, 12, 1)
        );
        assert_eq!(
            (days[1].day, days[1].moved, days[1].failed_records),
            (3, 7, 1)
        );
        let ended: Vec<i64> = db.last_ended_runs().unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ended, vec![b, last_a]);
        assert_eq!(db.running_runs().unwrap()[0].id, going);
    }

    #[test]
    fn the_history_is_filtered_and_paged_and_issues_are_grouped_failures_first() {
        let (_dir, db) = crate::testing::db();
        let ids: Vec<i64> = (0..5)
            .map(|n| {
                let job = if n % 2 == 0 { "a" } else { "b" };
                run(&db, job, n * 1000, RunOutcome::Succeeded, 1)
            })
            .collect();
        run(&db, "b", 9000, RunOutcome::Failed, 0);
        let filter = RunFilter {
            job: Some("a".into()),
            outcome: Some(RunOutcome::Succeeded),
            ..RunFilter::default()
        };
        let page = db.runs_page(&filter, 2, 0).unwrap();
        assert_eq!(page.matching, 3);
        let shown: Vec<i64> = page.runs.iter().map(|r| r.id).collect();
        assert_eq!(shown, vec![ids[4], ids[2]]);
        let next = db.runs_page(&filter, 2, 2).unwrap();
        assert_eq!(next.runs[0].id, ids[0]);
        let groups = db.issue_groups(ids[0]).unwrap();
        let listed: Vec<(&str, &str, u64)> = groups
            .iter()
            .map(|g| (g.outcome.as_str(), g.reason.as_str(), g.count))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("failed", "refused", 1),
                ("skipped", "no SKU", 2),
                ("skipped", "virtual", 1)
            ]
        );
        let no_sku = db
            .run_issues(ids[0], Some("skipped"), Some("no SKU"), 10)
            .unwrap();
        assert_eq!(no_sku.len(), 2);
        assert_eq!(no_sku[0].record, "product 2");
    }
}
