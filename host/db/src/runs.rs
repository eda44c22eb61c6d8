//! The record of every job run: trigger, times, what it was asked to be
//! (a dry run, forced), outcome, counts, the change-feed events it parked,
//! and each record that was skipped or failed. Read back as a page of the
//! history (filtered and paged in SQL), one run, or a run's issues grouped
//! by reason.
//!
//! At most one run of a job is `running` at a time, across processes: a
//! unique index enforces it, so a second start is refused, not doubled.
//!
//! A run's issue list is bounded ([`crate::issue_bound`]): past the bound,
//! issues are counted by reason and only the first of each reason kept.

use std::collections::HashMap;

use plugin_api::{IssueOutcome, RecordIssue};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use serde::Serialize;

use crate::issue_bound::{self, KEPT_PER_REASON, OTHER_REASONS, Placement};
use crate::{Db, DbError, Result};

/// What started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunTrigger {
    Schedule,
    CatchUp,
    ByHand,
    /// A burst of signed webhook deliveries.
    Webhook,
    /// Change-feed events the plugin's feed wakes name (another store's
    /// order taking shared stock).
    Feed,
}

impl RunTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::CatchUp => "catch-up",
            Self::ByHand => "by-hand",
            Self::Webhook => "webhook",
            Self::Feed => "feed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "schedule" => Self::Schedule,
            "catch-up" => Self::CatchUp,
            "webhook" => Self::Webhook,
            "feed" => Self::Feed,
            _ => Self::ByHand,
        }
    }
}

/// How a run ended (or that it has not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    Running,
    Succeeded,
    Failed,
    /// Asked to stop (deactivation, shutdown) and stopped.
    Stopped,
    /// Cancelled by a user, and stopped.
    Cancelled,
    /// Outlived its deadline.
    TimedOut,
    /// The process running it ended before it did.
    Interrupted,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed-out",
            Self::Interrupted => "interrupted",
        }
    }

    /// Every outcome, in the order a filter lists them.
    pub const ALL: [Self; 7] = [
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Stopped,
        Self::Cancelled,
        Self::TimedOut,
        Self::Interrupted,
    ];

    /// The outcome named `name` (as [`RunOutcome::as_str`] writes it).
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Whether the run ended without doing what it was for.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::Interrupted)
    }

    fn parse(s: &str) -> Self {
        Self::named(s).unwrap_or(Self::Failed)
    }
}

pub struct NewRun<'a> {
    pub plugin: &'a str,
    pub job: &'a str,
    pub trigger: RunTrigger,
    pub user: Option<&'a str>,
    pub pid: u32,
    /// Who the process is beyond its pid (boot and start time), so that a
    /// reused pid is not taken for the run's process.
    pub owner: &'a str,
    pub started_ms: i64,
    /// Asked to write nothing.
    pub dry_run: bool,
    /// Asked to go on where a safety limit would stop it.
    pub forced: bool,
}

pub struct RunFinish<'a> {
    pub outcome: RunOutcome,
    pub ended_ms: i64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    pub summary: &'a str,
    pub error: Option<&'a str>,
    /// The records the run left out or could not apply.
    pub issues: &'a [RecordIssue],
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub plugin: String,
    pub job: String,
    pub trigger: RunTrigger,
    pub user: Option<String>,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub outcome: RunOutcome,
    pub dry_run: bool,
    pub forced: bool,
    /// Change-feed events the run parked.
    pub parked: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    pub summary: String,
    pub error: Option<String>,
    pub issues: Vec<RunIssueRow>,
    /// The issues past the bound that were counted, not kept, by outcome
    /// and reason (`count`: all of them, `not_kept`: those not kept).
    pub issues_not_kept: Vec<IssueGroup>,
    /// Its issue list went when the retention's time for issues passed
    /// (its counts and outcome stay).
    pub issues_pruned: bool,
    /// Tables the run showed its user (a dry run's drift table, ...).
    pub tables: Vec<plugin_api::Table>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunIssueRow {
    pub record: String,
    pub outcome: String,
    pub reason: String,
}

/// Which runs a page of the history shows; `None` is any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub plugin: Option<String>,
    pub job: Option<String>,
    pub outcome: Option<RunOutcome>,
}

/// One page of the history: its runs, newest first, and how many runs the
/// filter matches in all.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunRow>,
    pub matching: u64,
}

/// A run's issues with one outcome and reason, and how many there are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssueGroup {
    pub outcome: String,
    pub reason: String,
    /// Every issue of the group, kept or not.
    pub count: u64,
    /// Those past the run's bound, counted but not kept.
    pub not_kept: u64,
}

/// The columns [`run_row`] reads, in its order.
pub(crate) const RUN_COLUMNS: &str =
    "id, plugin, job, trigger, user, started_at, ended_at, outcome,
    dry_run, forced, parked, created, updated, skipped, failed, summary, error, issues_pruned";

/// A `runs` row selected with [`RUN_COLUMNS`], without its issues and tables.
pub(crate) fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        plugin: r.get(1)?,
        job: r.get(2)?,
        trigger: RunTrigger::parse(&r.get::<_, String>(3)?),
        user: r.get(4)?,
        started_ms: r.get(5)?,
        ended_ms: r.get(6)?,
        outcome: RunOutcome::parse(&r.get::<_, String>(7)?),
        dry_run: r.get(8)?,
        forced: r.get(9)?,
        parked: r.get(10)?,
        created: r.get(11)?,
        updated: r.get(12)?,
        skipped: r.get(13)?,
        failed: r.get(14)?,
        summary: r.get(15)?,
        error: r.get(16)?,
        issues: Vec::new(),
        issues_not_kept: Vec::new(),
        issues_pruned: r.get(17)?,
        tables: Vec::new(),
    })
}

impl Db {
    /// Starts a run, or refuses if the job is already running. A `running`
    /// row whose process is gone (`alive(pid, owner)` false) is first closed
    /// as interrupted.
    pub fn start_run(&self, run: &NewRun<'_>, alive: impl Fn(u32, &str) -> bool) -> Result<i64> {
        self.close_orphaned_runs(&alive, run.started_ms)?;
        let conn = self.conn();
        let existing: Option<i64> = conn
            .query_row(
                "SELECT id FROM runs WHERE plugin = ?1 AND job = ?2 AND outcome = 'running'",
                [run.plugin, run.job],
                |r| r.get(0),
            )
            .optional()?;
        let inserted = conn.execute(
            "INSERT INTO runs (plugin, job, trigger, user, pid, owner, started_at, outcome, dry_run, forced)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?9)",
            params![
                run.plugin,
                run.job,
                run.trigger.as_str(),
                run.user,
                run.pid,
                run.owner,
                run.started_ms,
                run.dry_run,
                run.forced
            ],
        );
        match inserted {
            Ok(_) => Ok(conn.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                Err(DbError::Refused(format!(
                    "{} {} is already running (run #{}); try again when it has finished",
                    run.plugin,
                    run.job,
                    existing.unwrap_or(0)
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Closes as interrupted every `running` row whose process is gone
    /// (`alive(pid, owner)` false), at `now_ms`; returns their ids.
    pub fn close_orphaned_runs(
        &self,
        alive: impl Fn(u32, &str) -> bool,
        now_ms: i64,
    ) -> Result<Vec<i64>> {
        let conn = self.conn();
        let running = conn
            .prepare_cached("SELECT id, pid, owner FROM runs WHERE outcome = 'running'")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<(i64, u32, String)>, _>>()?;
        let orphaned: Vec<i64> = running
            .into_iter()
            .filter(|(_, pid, owner)| !alive(*pid, owner))
            .map(|(id, _, _)| id)
            .collect();
        for id in &orphaned {
            conn.execute(
                "UPDATE runs SET outcome = 'interrupted', ended_at = ?2,
                 error = 'the process running it ended first' WHERE id = ?1 AND outcome = 'running'",
                params![id, now_ms],
            )?;
        }
        Ok(orphaned)
    }

    /// Closes as interrupted, with `reason`, every run still going in the
    /// process `pid` with `owner` (the service stopping without waiting for
    /// them); their later ending changes nothing. Returns how many.
    pub fn interrupt_runs_of(
        &self,
        pid: u32,
        owner: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE runs SET outcome = 'interrupted', ended_at = ?3, error = ?4
             WHERE outcome = 'running' AND pid = ?1 AND owner = ?2",
            params![pid, owner, now_ms, reason],
        )?)
    }

    /// Records one of a running run's issues, kept or (past the bound) counted.
    pub fn record_run_issue(
        &self,
        run: i64,
        record: &str,
        outcome: &str,
        reason: &str,
    ) -> Result<()> {
        self.write(|tx| {
            let kept: u64 = tx
                .prepare_cached("SELECT COUNT(*) FROM run_issues WHERE run = ?1")?
                .query_row([run], |r| r.get(0))?;
            let of_reason: u64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM run_issues WHERE run = ?1 AND outcome = ?2 AND reason = ?3",
                )?
                .query_row(params![run, outcome, reason], |r| r.get(0))?;
            let counted: u64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM run_issues_not_kept WHERE run = ?1 AND outcome = ?2 AND reason = ?3",
                )?
                .query_row(params![run, outcome, reason], |r| r.get(0))?;
            let reasons: u64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM (SELECT outcome, reason FROM run_issues WHERE run = ?1
                     UNION SELECT outcome, reason FROM run_issues_not_kept WHERE run = ?1)",
                )?
                .query_row([run], |r| r.get(0))?;
            let placement = issue_bound::place(kept, of_reason, of_reason + counted > 0, reasons);
            write_issue(tx, run, record, outcome, reason, placement)
        })
    }

    /// Records how a run ended, with its issues, in one transaction (a run
    /// of a whole catalogue can leave thousands of records out): kept
    /// within the bound, and a run past it cut down to the first issues of
    /// each reason.
    pub fn finish_run(&self, run: i64, finish: &RunFinish<'_>) -> Result<()> {
        self.write(|tx| {
            let mut of_reason: HashMap<(String, String), u64> = HashMap::new();
            let mut kept = 0;
            for group in issue_groups_of(tx, run)? {
                let group_kept = group.count - group.not_kept;
                kept += group_kept;
                of_reason.insert((group.outcome, group.reason), group_kept);
            }
            for i in finish.issues {
                let outcome = match i.outcome {
                    IssueOutcome::Skipped => "skipped",
                    IssueOutcome::Failed => "failed",
                };
                let key = (outcome.to_owned(), i.reason.clone());
                let known = of_reason.get(&key).copied();
                let reasons = of_reason.len() as u64;
                let placement =
                    issue_bound::place(kept, known.unwrap_or(0), known.is_some(), reasons);
                write_issue(tx, run, &i.record, outcome, &i.reason, placement)?;
                match placement {
                    Placement::Keep => {
                        kept += 1;
                        *of_reason.entry(key).or_default() += 1;
                    }
                    Placement::Count => {
                        of_reason.entry(key).or_default();
                    }
                    Placement::CountAsOther => {
                        of_reason
                            .entry((outcome.to_owned(), OTHER_REASONS.to_owned()))
                            .or_default();
                    }
                }
            }
            cut_to_first_of_each_reason(tx, run)?;
            // A run closed meanwhile (its service stopped) stays as closed.
            tx.execute(
                "UPDATE runs SET outcome = ?2, ended_at = ?3, created = ?4, updated = ?5,
                 skipped = ?6, failed = ?7, summary = ?8, error = ?9
                 WHERE id = ?1 AND outcome = 'running'",
                params![
                    run,
                    finish.outcome.as_str(),
                    finish.ended_ms,
                    finish.created,
                    finish.updated,
                    finish.skipped,
                    finish.failed,
                    finish.summary,
                    finish.error
                ],
            )?;
            Ok(())
        })
    }

    /// Notes that run `run` parked a change-feed event.
    pub fn note_run_parked(&self, run: i64) -> Result<()> {
        self.conn()
            .execute("UPDATE runs SET parked = parked + 1 WHERE id = ?1", [run])?;
        Ok(())
    }

    /// A page of the history: at most `limit` runs the filter matches,
    /// newest first, after skipping `offset`; without issues or tables.
    pub fn runs_page(&self, filter: &RunFilter, limit: u32, offset: u64) -> Result<RunPage> {
        self.read(|tx| {
            const MATCHING: &str = "(?1 IS NULL OR plugin = ?1) AND (?2 IS NULL OR job = ?2)
                 AND (?3 IS NULL OR outcome = ?3)";
            let args = params![
                filter.plugin,
                filter.job,
                filter.outcome.map(RunOutcome::as_str)
            ];
            let matching = tx
                .prepare_cached(&format!("SELECT COUNT(*) FROM runs WHERE {MATCHING}"))?
                .query_row(args, |r| r.get(0))?;
            let runs = tx
                .prepare_cached(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE {MATCHING}
                     ORDER BY id DESC LIMIT ?4 OFFSET ?5"
                ))?
                .query_map(
                    params![
                        filter.plugin,
                        filter.job,
                        filter.outcome.map(RunOutcome::as_str),
                        limit,
                        i64::try_from(offset).unwrap_or(i64::MAX)
                    ],
                    run_row,
                )?
                .collect::<Result<_, _>>()?;
            Ok(RunPage { runs, matching })
        })
    }

    /// One run with its tables (its issues are read by group:
    /// [`Db::issue_groups`], [`Db::run_issues`]).
    pub fn run(&self, id: i64) -> Result<Option<RunRow>> {
        self.read(|tx| {
            let run = tx
                .prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"))?
                .query_row([id], run_row)
                .optional()?;
            let Some(mut run) = run else {
                return Ok(None);
            };
            run.tables = tables_of(tx, id)?;
            Ok(Some(run))
        })
    }

    /// A run's issues counted by outcome and reason, those not kept
    /// included: failures first, then the largest groups.
    pub fn issue_groups(&self, run: i64) -> Result<Vec<IssueGroup>> {
        self.read(|tx| issue_groups_of(tx, run))
    }

    /// A run's issues with this outcome and reason (`None`: any), in the
    /// order they were recorded, at most `limit`.
    pub fn run_issues(
        &self,
        run: i64,
        outcome: Option<&str>,
        reason: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunIssueRow>> {
        self.read(|tx| {
            let issues = tx
                .prepare_cached(
                    "SELECT record, outcome, reason FROM run_issues
                     WHERE run = ?1 AND (?2 IS NULL OR outcome = ?2) AND (?3 IS NULL OR reason = ?3)
                     ORDER BY rowid LIMIT ?4",
                )?
                .query_map(params![run, outcome, reason, limit], issue_row)?
                .collect::<Result<_, _>>()?;
            Ok(issues)
        })
    }

    /// Runs newest first, optionally of one plugin, with their issues.
    pub fn runs(&self, plugin: Option<&str>, limit: u32) -> Result<Vec<RunRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR plugin = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let mut runs: Vec<RunRow> = stmt
            .query_map(params![plugin, limit], run_row)?
            .collect::<Result<_, _>>()?;
        let mut issues = conn.prepare(
            "SELECT record, outcome, reason FROM run_issues WHERE run = ?1 ORDER BY rowid",
        )?;
        for run in &mut runs {
            run.issues = issues
                .query_map([run.id], issue_row)?
                .collect::<Result<_, _>>()?;
            run.issues_not_kept = issue_groups_of(&conn, run.id)?
                .into_iter()
                .filter(|g| g.not_kept > 0)
                .collect();
            run.tables = tables_of(&conn, run.id)?;
        }
        Ok(runs)
    }

    /// Keeps a table the run showed its user, after the ones before it.
    pub fn add_run_table(&self, run: i64, table: &plugin_api::Table) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO run_tables (run, position, tab)
                 VALUES (?1, (SELECT COUNT(*) FROM run_tables WHERE run = ?1), ?2)",
            )?
            .execute(params![run, serde_json::to_string(table)?])?;
            Ok(())
        })
    }
}

/// Keeps one issue as a row, or counts it as not kept (under its reason
/// or the other reasons).
fn write_issue(
    conn: &Connection,
    run: i64,
    record: &str,
    outcome: &str,
    reason: &str,
    placement: Placement,
) -> Result<()> {
    if placement == Placement::Keep {
        conn.prepare_cached(
            "INSERT INTO run_issues (run, record, outcome, reason) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![run, record, outcome, reason])?;
    } else {
        let reason = match placement {
            Placement::CountAsOther => OTHER_REASONS,
            _ => reason,
        };
        conn.prepare_cached(
            "INSERT INTO run_issues_not_kept (run, outcome, reason, count) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (run, outcome, reason) DO UPDATE SET count = count + 1",
        )?
        .execute(params![run, outcome, reason])?;
    }
    Ok(())
}

/// A run past the bound keeps only the first issues of each reason; the
/// others become counts.
fn cut_to_first_of_each_reason(conn: &Connection, run: i64) -> Result<()> {
    let total: u64 = issue_groups_of(conn, run)?.iter().map(|g| g.count).sum();
    if !issue_bound::cut_at_end(total) {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO run_issues_not_kept (run, outcome, reason, count)
         SELECT run, outcome, reason, COUNT(*) - ?2 FROM run_issues WHERE run = ?1
         GROUP BY outcome, reason HAVING COUNT(*) > ?2
         ON CONFLICT (run, outcome, reason) DO UPDATE SET count = count + excluded.count",
    )?
    .execute(params![run, KEPT_PER_REASON])?;
    conn.prepare_cached(
        "DELETE FROM run_issues WHERE rowid IN (
             SELECT id FROM (
                 SELECT rowid AS id,
                        ROW_NUMBER() OVER (PARTITION BY outcome, reason ORDER BY rowid) AS n
                 FROM run_issues WHERE run = ?1)
             WHERE n > ?2)",
    )?
    .execute(params![run, KEPT_PER_REASON])?;
    Ok(())
}

/// A run's issue groups, kept and counted together.
fn issue_groups_of(conn: &Connection, run: i64) -> Result<Vec<IssueGroup>> {
    let groups = conn
        .prepare_cached(
            "SELECT outcome, reason, SUM(kept) + SUM(not_kept) AS n, SUM(not_kept) FROM (
                 SELECT outcome, reason, COUNT(*) AS kept, 0 AS not_kept
                 FROM run_issues WHERE run = ?1 GROUP BY outcome, reason
                 UNION ALL
                 SELECT outcome, reason, 0, count FROM run_issues_not_kept WHERE run = ?1)
             GROUP BY outcome, reason
             ORDER BY outcome = 'failed' DESC, n DESC, reason",
        )?
        .query_map([run], |r| {
            Ok(IssueGroup {
                outcome: r.get(0)?,
                reason: r.get(1)?,
                count: r.get(2)?,
                not_kept: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(groups)
}

fn issue_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunIssueRow> {
    Ok(RunIssueRow {
        record: r.get(0)?,
        outcome: r.get(1)?,
        reason: r.get(2)?,
    })
}

fn tables_of(conn: &rusqlite::Connection, run: i64) -> Result<Vec<plugin_api::Table>> {
    let mut stmt =
        conn.prepare_cached("SELECT tab FROM run_tables WHERE run = ?1 ORDER BY position")?;
    let texts = stmt
        .query_map([run], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    texts
        .iter()
        .map(|t| serde_json::from_str(t).map_err(Into::into))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_run(pid: u32) -> NewRun<'static> {
        NewRun {
            plugin: "p",
            job: "j",
            trigger: RunTrigger::ByHand,
            user: Some("admin"),
            pid,
            owner: "",
            started_ms: 1000,
            dry_run: false,
            forced: false,
        }
    }

    #[test]
    fn a_second_run_of_a_running_job_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("it.db")).unwrap();
        let first = db.start_run(&new_run(1), |_, _| true).unwrap();
        let err = db
            .start_run(&new_run(2), |_, _| true)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("p j is already running (run #{first}); try again when it has finished")
        );
        db.finish_run(
            first,
            &RunFinish {
                outcome: RunOutcome::Succeeded,
                ended_ms: 2000,
                created: 1,
                updated: 0,
                skipped: 0,
                failed: 1,
                summary: "",
                error: None,
                issues: &[RecordIssue::new("order 9", IssueOutcome::Failed, "no SKU")],
            },
        )
        .unwrap();
        let second = db.start_run(&new_run(2), |_, _| true).unwrap();
        let runs = db.runs(Some("p"), 10).unwrap();
        assert_eq!(runs[0].id, second);
        assert_eq!(runs[1].issues[0].reason, "no SKU");
    }

    #[test]
    fn a_runs_issues_past_the_bound_are_counted_by_reason_and_the_first_of_each_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("it.db")).unwrap();
        let run = db.start_run(&new_run(1), |_, _| true).unwrap();
        // 30 recorded as they came, then 1,500 more with the report.
        for n in 0..30 {
            db.record_run_issue(run, &format!("early {n}"), "failed", "refused")
                .unwrap();
        }
        let issues: Vec<RecordIssue> = (0..1_500)
            .map(|n| {
                let reason = if n % 3 == 0 { "virtual" } else { "no SKU" };
                RecordIssue::new(format!("product {n}"), IssueOutcome::Skipped, reason)
            })
            .collect();
        let finish = RunFinish {
            outcome: RunOutcome::Succeeded,
            ended_ms: 2000,
            created: 0,
            updated: 0,
            skipped: 1_500,
            failed: 30,
            summary: "",
            error: None,
            issues: &issues,
        };
        db.finish_run(run, &finish).unwrap();
        let groups = db.issue_groups(run).unwrap();
        let shown: Vec<_> = groups
            .iter()
            .map(|g| (g.outcome.as_str(), g.reason.as_str(), g.count, g.not_kept))
            .collect();
        assert_eq!(
            shown,
            [
                ("failed", "refused", 30, 10),
                ("skipped", "no SKU", 1_000, 980),
                ("skipped", "virtual", 500, 480),
            ]
        );
        let kept = db.run_issues(run, None, None, u32::MAX).unwrap();
        assert_eq!(kept.len(), 60);
        let first: Vec<_> = kept.iter().take(2).map(|i| i.record.as_str()).collect();
        assert_eq!(
            first,
            ["early 0", "early 1"],
            "the first of each reason are kept"
        );
        let listed = &db.runs(Some("p"), 1).unwrap()[0];
        assert_eq!(listed.issues.len(), 60);
        assert_eq!(listed.issues_not_kept.len(), 3);
    }

    #[test]
    fn a_run_left_by_a_dead_process_is_closed_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("it.db")).unwrap();
        let first = db.start_run(&new_run(1), |_, _| true).unwrap();
        db.start_run(&new_run(2), |pid, _| pid != 1).unwrap();
        let runs = db.runs(None, 10).unwrap();
        let old = runs.iter().find(|r| r.id == first).unwrap();
        assert_eq!(old.outcome, RunOutcome::Interrupted);
    }

    #[test]
    fn only_runs_whose_process_is_gone_are_closed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("it.db")).unwrap();
        let gone = db.start_run(&new_run(1), |_, _| true).unwrap();
        let mut other = new_run(2);
        other.job = "k";
        let live = db.start_run(&other, |_, _| true).unwrap();
        assert_eq!(
            db.close_orphaned_runs(|pid, _| pid == 2, 5000).unwrap(),
            vec![gone]
        );
        let runs = db.runs(None, 10).unwrap();
        let outcome = |id| runs.iter().find(|r| r.id == id).unwrap().outcome;
        assert_eq!(outcome(gone), RunOutcome::Interrupted);
        assert_eq!(outcome(live), RunOutcome::Running);
        assert!(
            db.close_orphaned_runs(|pid, _| pid == 2, 6000)
                .unwrap()
                .is_empty()
        );
    }
}
