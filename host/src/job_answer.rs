//! What a job's answer, returned in time, makes of its run: the outcome
//! recorded, the report, and the error shown. Shared by the host's runner
//! and `plugin-test-kit`, so a test sees a run recorded as the host would.

use intellitrack_db::RunOutcome;
use plugin_api::JobReport;

/// `answer`: the plugin's report as JSON, or its error message.
pub fn job_outcome(answer: Result<String, String>) -> (RunOutcome, JobReport, Option<String>) {
    match answer {
        Ok(json) => match serde_json::from_str::<JobReport>(&json) {
            Ok(report) if report.stopped => (
                RunOutcome::Stopped,
                report,
                Some("asked to stop; stopped".into()),
            ),
            Ok(report) => (RunOutcome::Succeeded, report, None),
            Err(e) => (
                RunOutcome::Failed,
                JobReport::default(),
                Some(format!("the plugin's report is not readable: {e}")),
            ),
        },
        Err(message) => (RunOutcome::Failed, JobReport::default(), Some(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(report: &JobReport) -> Result<String, String> {
        Ok(serde_json::to_string(report).unwrap())
    }

    #[test]
    fn reports_errors_and_stops() {
        let done = JobReport {
            created: 2,
            ..JobReport::default()
        };
        let (outcome, report, error) = job_outcome(answer(&done));
        assert_eq!(
            (outcome, report.created, error),
            (RunOutcome::Succeeded, 2, None)
        );
        let stopped = job_outcome(answer(&JobReport {
            stopped: true,
            ..JobReport::default()
        }));
        assert_eq!(stopped.0, RunOutcome::Stopped);
        let (outcome, _, error) = job_outcome(Ok("not json".into()));
        assert_eq!(outcome, RunOutcome::Failed);
        assert!(
            error
                .unwrap()
                .starts_with("the plugin's report is not readable")
        );
        let failed = job_outcome(Err("store down".into()));
        assert_eq!(
            (failed.0, failed.2.as_deref()),
            (RunOutcome::Failed, Some("store down"))
        );
    }
}
