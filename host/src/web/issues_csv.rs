//! A run's issues as a CSV file (record, outcome, reason), and a line for
//! each reason's issues past the run's bound that were counted, not kept
//! (`(N more not kept)`), pure: quoted as
//! RFC 4180 wants by the `csv` crate, and safe to open in a spreadsheet: a
//! cell that would start a formula (`=`, `+`, `-`, `@`, a tab or a carriage
//! return first) gets a leading `'`, so it is read as text.

use std::borrow::Cow;

use intellitrack_db::{IssueGroup, RunIssueRow};

/// The CSV file of `issues`, with a header line, then a line for each of
/// the `not_kept` groups saying how many of its issues were not kept.
pub fn issues_csv(issues: &[RunIssueRow], not_kept: &[IssueGroup]) -> Vec<u8> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let rows = std::iter::once(["record", "outcome", "reason"].map(Cow::Borrowed)).chain(
        issues
            .iter()
            .map(|i| [as_text(&i.record), as_text(&i.outcome), as_text(&i.reason)])
            .chain(not_kept.iter().map(|g| {
                [
                    Cow::Owned(format!("({} more not kept)", g.not_kept)),
                    as_text(&g.outcome),
                    as_text(&g.reason),
                ]
            })),
    );
    for row in rows {
        out.write_record(row.iter().map(|c| c.as_bytes()))
            .expect("writing to memory does not fail");
    }
    out.into_inner().expect("writing to memory does not fail")
}

/// The cell as a spreadsheet reads it as text.
fn as_text(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(record: &str, reason: &str) -> RunIssueRow {
        RunIssueRow {
            record: record.into(),
            outcome: "skipped".into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn cells_are_quoted_and_formulas_are_kept_as_text() {
        let csv = issues_csv(
            &[
                issue("product 7 \"Mug, blue\"", "no SKU"),
                issue("=HYPERLINK(\"http://x\")", "-1 in stock\nsecond line"),
                issue("@SUM(A1)", "+ sign"),
            ],
            &[],
        );
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "record,outcome,reason\r\n\
             \"product 7 \"\"Mug, blue\"\"\",skipped,no SKU\r\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",skipped,\"'-1 in stock\nsecond line\"\r\n\
             '@SUM(A1),skipped,'+ sign\r\n"
        );
    }

    #[test]
    fn issues_not_kept_are_counted_on_a_line_of_their_own() {
        let not_kept = IssueGroup {
            outcome: "skipped".into(),
            reason: "no SKU".into(),
            count: 1_500,
            not_kept: 1_480,
        };
        let csv = issues_csv(&[issue("product 1", "no SKU")], &[not_kept]);
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "record,outcome,reason\r\n\
             product 1,skipped,no SKU\r\n\
             (1480 more not kept),skipped,no SKU\r\n"
        );
    }
}
