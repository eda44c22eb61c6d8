//! The run history (counts, per-record issues, errors, the tables a run
//! showed such as End of Day's drift table) and the parked events, with a
//! retry for edit users.

use axum::Extension;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use intellitrack_db::RunRow;
use maud::{Markup, html};

use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::plugins::loaded;
use super::{State, blocking};
use crate::cli::format_time;
use crate::service::admin;

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

pub async fn parked(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, Failure> {
    parked_page(page, viewer, None).await
}

async fn parked_page(
    page: std::sync::Arc<super::Page>,
    viewer: Viewer,
    note: Option<String>,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let rows = blocking(move || host.core.db.parked(None))
        .await?
        .map_err(Failure::from_db)?;
    let mut plugins: Vec<&str> = rows.iter().map(|r| r.plugin.as_str()).collect();
    plugins.dedup();
    let body = html! {
        @if let Some(text) = &note { (message(text, true)) }
        @if rows.is_empty() { p { "No parked events." } }
        @else {
            table id="parked" {
                thead { tr { th { "Plugin" } th { "Event" } th { "Kind" } th { "Order" } th { "Parked" } th { "Reason" } th { "Retry" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.plugin) } td { "#" (r.seq) } td { (r.kind) }
                            td { (r.order_number.as_deref().unwrap_or("-")) }
                            td { (format_time(r.parked_ms)) } td { (r.reason) }
                            td { @if r.retry_requested { "asked" } }
                        }
                    }
                }
            }
            @if viewer.edits() {
                @for p in &plugins {
                    form method="post" action=(format!("/parked/{p}/retry")) {
                        (csrf(&viewer))
                        button type="submit" { "Send " (p) "'s parked events again" }
                    }
                }
            }
        }
    };
    Ok(frame("Parked events", Some(&viewer), body).into_response())
}

pub async fn retry_parked(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    loaded(&page.host, &id)?;
    let host = page.host.clone();
    let (plugin, actor) = (id.clone(), viewer.actor());
    let asked = blocking(move || admin::retry_parked(&host, &plugin, None, &actor))
        .await?
        .map_err(Failure::from_db)?;
    let note =
        format!("{asked} parked event(s) of {id} will be sent again on its next export run.");
    parked_page(page, viewer, Some(note)).await
}
