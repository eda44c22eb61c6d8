//! [`JobRun`]: what one job run left for the test to check.

use intellitrack_db::RunOutcome;
use plugin_api::protocol::{LogLevel, LogRecord, Progress};
use plugin_api::{JobReport, Table};

/// One job run as the host recorded it, with everything the plugin sent
/// while it ran.
#[derive(Debug)]
pub struct JobRun {
    /// The run's id in the runs table.
    pub run_id: i64,
    /// Succeeded, stopped (the report says `stopped`) or failed.
    pub outcome: RunOutcome,
    /// The plugin's report; the default one when the run failed.
    pub report: JobReport,
    /// Why the run failed (or that it stopped when asked), as the admin reads it.
    pub error: Option<String>,
    /// Progress events, in order.
    pub progress: Vec<Progress>,
    /// Tables shown to the user, in order.
    pub tables: Vec<Table>,
    /// Log records the plugin wrote during the run, in order.
    pub logs: Vec<LogRecord>,
}

impl JobRun {
    /// The report of a run that succeeded; otherwise the run's error.
    pub fn report(&self) -> Result<&JobReport, String> {
        match self.outcome {
            RunOutcome::Succeeded => Ok(&self.report),
            other => Err(format!(
                "the run {}: {}",
                other.as_str(),
                self.error.as_deref().unwrap_or("no error given")
            )),
        }
    }

    /// Whether a record at `level` whose message contains `text` was logged.
    pub fn logged(&self, level: LogLevel, text: &str) -> bool {
        self.logs
            .iter()
            .any(|r| r.level == level && r.message.contains(text))
    }

    /// The value of field `key` on each record logged at `level`, in order.
    pub fn logged_field(&self, level: LogLevel, key: &str) -> Vec<&str> {
        self.logs
            .iter()
            .filter(|r| r.level == level)
            .flat_map(|r| r.fields.iter())
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
