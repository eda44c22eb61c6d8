//! What a job run did, as the host records it (`plugin-host run --json`),
//! and how the quick start shows it. Pure: no I/O.

use serde::Deserialize;

/// One recorded issue: a record skipped or failed, and why.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Issue {
    pub record: String,
    pub outcome: String,
    pub reason: String,
}

/// A job run as `plugin-host run PLUGIN JOB --json` prints it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RunRecord {
    pub job: String,
    pub outcome: String,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    pub summary: String,
    pub error: Option<String>,
    pub issues: Vec<Issue>,
}

impl RunRecord {
    /// `JOB: created C, updated U, skipped S, failed F`.
    pub fn counts(&self) -> String {
        format!(
            "{}: created {}, updated {}, skipped {}, failed {}",
            self.job, self.created, self.updated, self.skipped, self.failed
        )
    }

    /// The counts, the plugin's summary, and every skipped or failed
    /// record with its reason, indented for the step it belongs to.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!("  {}", self.counts())];
        if !self.summary.is_empty() {
            lines.push(format!("    {}", self.summary));
        }
        lines.extend(
            self.issues
                .iter()
                .map(|i| format!("    {} {}: {}", i.outcome, i.record, i.reason)),
        );
        lines
    }
}

/// The closing tally: each direction's runs, one line each.
pub fn flows(inbound: &[RunRecord], outbound: &[RunRecord]) -> Vec<String> {
    let mut lines = vec!["What flowed".to_owned()];
    for (direction, runs) in [
        ("WooCommerce -> IntelliTrack", inbound),
        ("IntelliTrack -> WooCommerce", outbound),
    ] {
        lines.push(format!("  {direction}"));
        lines.extend(runs.iter().map(|r| format!("    {}", r.counts())));
        let skipped: u64 = runs.iter().map(|r| r.skipped).sum();
        let failed: u64 = runs.iter().map(|r| r.failed).sum();
        lines.push(format!(
            "    records skipped {skipped}, failed {failed} (reasons above)"
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(job: &str, created: u64, skipped: u64, issues: Vec<Issue>) -> RunRecord {
        RunRecord {
            job: job.to_owned(),
            outcome: "succeeded".to_owned(),
            created,
            updated: 0,
            skipped,
            failed: 0,
            summary: String::new(),
            error: None,
            issues,
        }
    }

    #[test]
    fn a_run_reads_from_the_hosts_json() {
        let json = r#"{"id": 6, "plugin": "woocommerce", "job": "end-of-day",
            "trigger": "by-hand", "user": "admin", "started_ms": 1, "ended_ms": 2,
            "outcome": "succeeded", "created": 0, "updated": 2, "skipped": 1,
            "failed": 0, "summary": "2 of 12 items' counts differed and were sent",
            "error": null, "tables": [],
            "issues": [{"record": "item RIG-UNMANAGED", "outcome": "skipped",
                        "reason": "WooCommerce does not manage its stock"}]}"#;
        let run: RunRecord = serde_json::from_str(json).unwrap();
        assert_eq!(
            run.describe(),
            [
                "  end-of-day: created 0, updated 2, skipped 1, failed 0",
                "    2 of 12 items' counts differed and were sent",
                "    skipped item RIG-UNMANAGED: WooCommerce does not manage its stock",
            ]
        );
    }

    #[test]
    fn the_tally_sums_skipped_and_failed_per_direction() {
        let issue = Issue {
            record: "product 18".to_owned(),
            outcome: "skipped".to_owned(),
            reason: "grouped".to_owned(),
        };
        let lines = flows(
            &[
                run("import-products", 14, 6, vec![issue]),
                run("import-orders", 2, 1, vec![]),
            ],
            &[run("export-fulfillment", 5, 0, vec![])],
        );
        assert_eq!(
            lines,
            [
                "What flowed",
                "  WooCommerce -> IntelliTrack",
                "    import-products: created 14, updated 0, skipped 6, failed 0",
                "    import-orders: created 2, updated 0, skipped 1, failed 0",
                "    records skipped 7, failed 0 (reasons above)",
                "  IntelliTrack -> WooCommerce",
                "    export-fulfillment: created 5, updated 0, skipped 0, failed 0",
                "    records skipped 0, failed 0 (reasons above)",
            ]
        );
    }
}
