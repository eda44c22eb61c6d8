//! What a job run returns: counts and one entry per record skipped or failed.

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
