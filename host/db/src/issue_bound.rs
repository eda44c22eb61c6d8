//! How many of a run's issues are kept as rows: the rule, pure.
//!
//! A run of a whole catalogue can leave thousands of records out, mostly
//! for a handful of reasons. Up to [`ISSUES_KEPT`] issues a run keeps
//! every one; past it, each reason keeps its first [`KEPT_PER_REASON`]
//! and the rest are only counted (`run_issues_not_kept`), so the run's
//! page, `plugin-host runs` and the issues CSV can say how many were not
//! kept. While a run goes on, issues past the bound are counted as they
//! come; when it ends past the bound, its list is cut down to the first
//! [`KEPT_PER_REASON`] of each reason.

/// The issues a run keeps every one of.
pub const ISSUES_KEPT: u64 = 1_000;
/// The issues of one outcome and reason a run keeps past [`ISSUES_KEPT`].
pub const KEPT_PER_REASON: u64 = 20;

/// Whether the next issue is kept as a row, given how many the run keeps
/// already and how many of its outcome and reason.
pub fn keeps(kept_in_run: u64, kept_of_reason: u64) -> bool {
    kept_in_run < ISSUES_KEPT || kept_of_reason < KEPT_PER_REASON
}

/// Whether a run that ended with `issues` in all (kept and counted) has
/// its list cut down to the first [`KEPT_PER_REASON`] of each reason.
pub fn cut_at_end(issues: u64) -> bool {
    issues > ISSUES_KEPT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_issue_is_kept_up_to_the_bound_then_the_first_of_each_reason() {
        assert!(keeps(0, 0));
        assert!(keeps(ISSUES_KEPT - 1, 900));
        assert!(!keeps(ISSUES_KEPT, KEPT_PER_REASON));
        assert!(
            keeps(ISSUES_KEPT, KEPT_PER_REASON - 1),
            "a new reason keeps its first"
        );
        assert!(keeps(5_000, 0));
        assert!(!cut_at_end(ISSUES_KEPT));
        assert!(cut_at_end(ISSUES_KEPT + 1));
    }
}
