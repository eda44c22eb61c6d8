//! The record of every job run: trigger, times, outcome, counts, and each
//! record that was skipped or failed.
//!
//! At most one run of a job is `running` at a time, across processes: a
//! unique index enforces it, so a second start is refused, not doubled.

use plugin_api::{IssueOutcome, RecordIssue};
use rusqlite::{ErrorCode, OptionalExtension, params};
use serde::Serialize;

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
}

impl RunTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::CatchUp => "catch-up",
            Self::ByHand => "by-hand",
            Self::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "schedule" => Self::Schedule,
            "catch-up" => Self::CatchUp,
            "webhook" => Self::Webhook,
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
            Self::TimedOut => "timed-out",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "stopped" => Self::Stopped,
            "timed-out" => Self::TimedOut,
            "interrupted" => Self::Interrupted,
            _ => Self::Failed,
        }
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
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    pub summary: String,
    pub error: Option<String>,
    pub issues: Vec<RunIssueRow>,
    /// Tables the run showed its user (a dry run's drift table, ...).
    pub tables: Vec<plugin_api::Table>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunIssueRow {
    pub record: String,
    pub outcome: String,
    pub reason: String,
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
            "INSERT INTO runs (plugin, job, trigger, user, pid, owner, started_at, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running')",
            params![
                run.plugin,
                run.job,
                run.trigger.as_str(),
                run.user,
                run.pid,
                run.owner,
                run.started_ms
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

    pub fn record_run_issue(
        &self,
        run: i64,
        record: &str,
        outcome: &str,
        reason: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO run_issues (run, record, outcome, reason) VALUES (?1, ?2, ?3, ?4)",
            params![run, record, outcome, reason],
        )?;
        Ok(())
    }

    /// Records how a run ended, with its issues, in one transaction (a run
    /// of a whole catalogue can leave thousands of records out).
    pub fn finish_run(&self, run: i64, finish: &RunFinish<'_>) -> Result<()> {
        self.write(|tx| {
            let mut issue = tx.prepare_cached(
                "INSERT INTO run_issues (run, record, outcome, reason) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for i in finish.issues {
                let outcome = match i.outcome {
                    IssueOutcome::Skipped => "skipped",
                    IssueOutcome::Failed => "failed",
                };
                issue.execute(params![run, i.record, outcome, i.reason])?;
            }
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

    /// Runs newest first, optionally of one plugin, with their issues.
    pub fn runs(&self, plugin: Option<&str>, limit: u32) -> Result<Vec<RunRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, plugin, job, trigger, user, started_at, ended_at, outcome,
                    created, updated, skipped, failed, summary, error
             FROM runs WHERE ?1 IS NULL OR plugin = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![plugin, limit], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                plugin: r.get(1)?,
                job: r.get(2)?,
                trigger: RunTrigger::parse(&r.get::<_, String>(3)?),
                user: r.get(4)?,
                started_ms: r.get(5)?,
                ended_ms: r.get(6)?,
                outcome: RunOutcome::parse(&r.get::<_, String>(7)?),
                created: r.get(8)?,
                updated: r.get(9)?,
                skipped: r.get(10)?,
                failed: r.get(11)?,
                summary: r.get(12)?,
                error: r.get(13)?,
                issues: Vec::new(),
                tables: Vec::new(),
            })
        })?;
        let mut runs: Vec<RunRow> = rows.collect::<Result<_, _>>()?;
        let mut issues = conn.prepare(
            "SELECT record, outcome, reason FROM run_issues WHERE run = ?1 ORDER BY rowid",
        )?;
        for run in &mut runs {
            run.issues = issues
                .query_map([run.id], |r| {
                    Ok(RunIssueRow {
                        record: r.get(0)?,
                        outcome: r.get(1)?,
                        reason: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
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
