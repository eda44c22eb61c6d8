//! How many of a run's issues are kept as rows: the rule, pure.
//!
//! A run of a whole catalogue can leave thousands of records out. Up to
//! [`ISSUES_KEPT`] issues a run keeps every one; past it, each reason keeps
//! its first [`KEPT_PER_REASON`] and the rest are only counted by reason
//! (`run_issues_not_kept`), so the run's page, `plugin-host runs` and the
//! issues CSV can say how many were not kept. A plugin whose reasons name
//! the record (one reason an issue) would make the counts as long as the
//! issues: past [`MAX_REASONS`] reasons in one run, the issues of a
//! further reason are counted together under [`OTHER_REASONS`]. So a run
//! keeps at most `ISSUES_KEPT + MAX_REASONS × KEPT_PER_REASON` rows and
//! `ISSUES_KEPT + MAX_REASONS + 1` counts, however many issues it had.
//!
//! While a run goes on, issues are placed as they come ([`place`]); when it
//! ends past the bound ([`cut_at_end`]), its list is cut down to the first
//! [`KEPT_PER_REASON`] of each reason.

/// The issues a run keeps every one of.
pub const ISSUES_KEPT: u64 = 1_000;
/// The issues of one outcome and reason a run keeps past [`ISSUES_KEPT`].
pub const KEPT_PER_REASON: u64 = 20;
/// The reasons a run counts its issues by past [`ISSUES_KEPT`].
pub const MAX_REASONS: u64 = 100;
/// The reason the issues of further reasons are counted under.
pub const OTHER_REASONS: &str = "other reasons (past 100 reasons in one run: counted together)";

/// What becomes of the next issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Kept as a row.
    Keep,
    /// Counted under its reason, not kept.
    Count,
    /// Counted under [`OTHER_REASONS`], not kept.
    CountAsOther,
}

/// Where the next issue goes, given how many the run keeps already, how
/// many of its outcome and reason, whether the run has its reason already
/// (kept or counted), and how many reasons the run has.
pub fn place(kept_in_run: u64, kept_of_reason: u64, known_reason: bool, reasons: u64) -> Placement {
    let room = known_reason || reasons < MAX_REASONS;
    if kept_in_run < ISSUES_KEPT || (room && kept_of_reason < KEPT_PER_REASON) {
        Placement::Keep
    } else if room {
        Placement::Count
    } else {
        Placement::CountAsOther
    }
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
        assert_eq!(place(0, 0, false, 0), Placement::Keep);
        assert_eq!(place(ISSUES_KEPT - 1, 900, true, 500), Placement::Keep);
        assert_eq!(
            place(ISSUES_KEPT, KEPT_PER_REASON, true, 3),
            Placement::Count
        );
        assert_eq!(
            place(ISSUES_KEPT, KEPT_PER_REASON - 1, true, 3),
            Placement::Keep
        );
        assert_eq!(
            place(5_000, 0, false, 3),
            Placement::Keep,
            "a new reason keeps its first"
        );
        assert!(!cut_at_end(ISSUES_KEPT));
        assert!(cut_at_end(ISSUES_KEPT + 1));
    }

    #[test]
    fn past_the_bound_further_reasons_are_counted_together() {
        assert_eq!(
            place(ISSUES_KEPT, 0, false, MAX_REASONS),
            Placement::CountAsOther
        );
        assert_eq!(
            place(ISSUES_KEPT, 3, true, MAX_REASONS + 40),
            Placement::Keep,
            "a reason the run has keeps its first"
        );
        assert_eq!(
            place(ISSUES_KEPT - 1, 0, false, 5 * MAX_REASONS),
            Placement::Keep,
            "below the bound every issue is kept"
        );
    }
}
