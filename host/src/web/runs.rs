//! The run history (counts, per-record issues, errors, the tables a run
//! showed such as End of Day's drift table).

use axum::Extension;
use axum::response::{IntoResponse, Response};
use intellitrack_db::RunRow;
use maud::{Markup, html};

use super::guard::Viewer;
use super::layout::{Failure, frame};
use super::{State, blocking};
use crate::cli::format_time;

/// How many runs the history shows.
const HISTORY: u32 = 50;

pub async fn history(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let runs = blocking(move || host.core.db.runs(None, HISTORY))
        .await?
        .map_err(Failure::from_db)?;
    let body = html! {
        @if runs.is_empty() { p { "No runs yet." } }
        (runs_table(&runs))
    };
    Ok(frame("Run history", Some(&viewer), body).into_response())
}

/// Runs as a table, each with its issues, error and tables below it.
pub fn runs_table(runs: &[RunRow]) -> Markup {
    html! {
        @if !runs.is_empty() {
            table class="runs" {
                thead { tr {
                    th { "Run" } th { "Plugin" } th { "Job" } th { "Trigger" } th { "By" } th { "Started" }
                    th { "Outcome" } th { "Created" } th { "Updated" } th { "Skipped" } th { "Failed" }
                } }
                tbody {
                    @for run in runs {
                        tr class="run" id=(format!("run-{}", run.id)) {
                            td { "#" (run.id) }
                            td { (run.plugin) }
                            td { (run.job) }
                            td { (run.trigger.as_str()) }
                            td { (run.user.as_deref().unwrap_or("-")) }
                            td { (format_time(run.started_ms)) }
                            td class="outcome" { (run.outcome.as_str()) }
                            td { (run.created) } td { (run.updated) } td { (run.skipped) } td { (run.failed) }
                        }
                        @if has_detail(run) {
                            tr class="detail" { td colspan="11" { (run_detail(run)) } }
                        }
                    }
                }
            }
        }
    }
}

fn has_detail(run: &RunRow) -> bool {
    !run.summary.is_empty()
        || run.error.is_some()
        || !run.issues.is_empty()
        || !run.tables.is_empty()
}

/// A run's summary, error, per-record issues and tables.
fn run_detail(run: &RunRow) -> Markup {
    html! {
        @if !run.summary.is_empty() { p class="summary" { (run.summary) } }
        @if let Some(e) = &run.error { p class="run-error" { "Error: " (e) } }
        @if !run.issues.is_empty() {
            ul class="issues" {
                @for i in &run.issues { li { (i.outcome) " " code { (i.record) } ": " (i.reason) } }
            }
        }
        @for t in &run.tables {
            table class="run-table" {
                caption { (t.title) }
                thead { tr { @for c in &t.columns { th { (c) } } } }
                tbody { @for r in &t.rows { tr { @for cell in r { td { (cell) } } } } }
            }
        }
    }
}
