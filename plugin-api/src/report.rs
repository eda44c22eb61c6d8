//! What a job run returns: counts and one entry per record skipped or
//! failed; and (API 1.2) what a run is asked to do ([`RunOptions`]) and the
//! tables it shows ([`Table`]).

use serde::{Deserialize, Serialize};

/// The outcome of one job run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobReport {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    /// One entry per record skipped or failed, with its reason.
    #[serde(default)]
    pub issues: Vec<RecordIssue>,
    /// The job saw the cancellation flag and stopped early, after finishing
    /// its current batch.
    #[serde(default)]
    pub stopped: bool,
    /// A one-line summary for people, e.g. "3 items below their reorder point".
    #[serde(default)]
    pub summary: String,
}

/// What a run has done so far (API 1.4; see
/// [`crate::Context::report_counts`]): the counts of its [`JobReport`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RunCounts {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
}

impl From<&JobReport> for RunCounts {
    fn from(report: &JobReport) -> Self {
        Self {
            created: report.created,
            updated: report.updated,
            skipped: report.skipped,
            failed: report.failed,
        }
    }
}

/// A record a job did not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordIssue {
    /// What the record is, e.g. `product 812` or `order 176 line 3`.
    pub record: String,
    pub outcome: IssueOutcome,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueOutcome {
    /// Left out on purpose (e.g. an external product).
    Skipped,
    /// Could not be applied (e.g. a malformed record).
    Failed,
}

impl JobReport {
    /// Counts a skipped record and keeps its reason.
    pub fn skip(&mut self, record: impl Into<String>, reason: impl Into<String>) {
        self.skipped += 1;
        self.issues
            .push(RecordIssue::new(record, IssueOutcome::Skipped, reason));
    }

    /// Counts a failed record and keeps its reason.
    pub fn fail(&mut self, record: impl Into<String>, reason: impl Into<String>) {
        self.failed += 1;
        self.issues
            .push(RecordIssue::new(record, IssueOutcome::Failed, reason));
    }
}

impl RecordIssue {
    pub fn new(
        record: impl Into<String>,
        outcome: IssueOutcome,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            record: record.into(),
            outcome,
            reason: reason.into(),
        }
    }
}

/// How a run by hand was asked to behave (API 1.2; see
/// [`crate::Context::run_options`]). A scheduled run has the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RunOptions {
    /// Show what the job would do and change nothing, anywhere. A job that
    /// cannot honour this must refuse the run with an error, never write.
    pub dry_run: bool,
    /// Go ahead past a safety limit the job would otherwise stop at.
    pub force: bool,
}

impl RunOptions {
    pub fn new(dry_run: bool, force: bool) -> Self {
        Self { dry_run, force }
    }
}

/// A table a run shows its user (API 1.2; see [`crate::Context::show_table`]),
/// e.g. a dry run's "what would be sent". Kept with the run; printed by
/// `plugin-host run`, given as data with `--json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Self {
        Self {
            title: title.into(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (one cell per column).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}
