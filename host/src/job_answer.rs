//! What a job's answer, returned in time, makes of its run: the outcome
//! recorded, the report, and the error shown. Shared by the host's runner
//! and `plugin-test-kit`, so a test sees a run recorded as the host would.

use intellitrack_db::RunOutcome;
use plugin_api::{JobReport, RunCounts};

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

/// A run that ended without a report of its own (it failed, or ran out of
/// time and was killed) keeps the counts it reported on the way
/// (`run.counts`), so "7 events sent" in its error is not contradicted by
/// zeros in its record.
pub fn keep_counts_so_far(outcome: RunOutcome, report: &mut JobReport, so_far: RunCounts) {
    let counted = report.created + report.updated + report.skipped + report.failed > 0;
    if outcome != RunOutcome::Succeeded && !counted {
        report.created = so_far.created;
        report.updated = so_far.updated;
        report.skipped = so_far.skipped;
        report.failed = so_far.failed;
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

    #[test]
    fn a_run_without_a_report_keeps_the_counts_it_reported_on_the_way() {
        let so_far = RunCounts::from(&JobReport {
            created: 7,
            failed: 1,
            ..JobReport::default()
        });
        let (outcome, mut report, _) = job_outcome(Err("the store closed the connection".into()));
        keep_counts_so_far(outcome, &mut report, so_far);
        assert_eq!((report.created, report.failed), (7, 1));

        let mut own = JobReport {
            created: 9,
            ..JobReport::default()
        };
        keep_counts_so_far(RunOutcome::TimedOut, &mut own, so_far);
        assert_eq!(
            (own.created, own.failed),
            (9, 0),
            "a report of its own wins"
        );

        let mut nothing = JobReport::default();
        keep_counts_so_far(RunOutcome::Succeeded, &mut nothing, so_far);
        assert_eq!(nothing.created, 0, "a succeeded run's report is the truth");
    }
}
