//! The run history (one line per run, filtered by plugin instance, job
//! and outcome and paged in the database), each run's page (its counts,
//! error and tables; its issues grouped by reason, failures first, each
//! group listed and downloadable as CSV; while it runs, its progress,
//! polled by `/static/admin.js`, and a Cancel button).

use std::fmt::Write as _;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use intellitrack_db::issue_bound::{ISSUES_KEPT, KEPT_PER_REASON};
use intellitrack_db::{IssueGroup, RunFilter, RunOutcome, RunRow};
use maud::{Markup, html};
use serde::Serialize;

use super::form::Form;
use super::guard::Viewer;
use super::issues_csv::issues_csv;
use super::layout::{Failure, csrf, frame};
use super::run_progress::{ProgressText, duration_text, progress_text};
use super::{State, blocking};
use crate::cli::format_time;
use crate::host::Host;
use crate::service::admin;

/// How many runs one page of the history shows.
const PAGE_SIZE: u32 = 50;
/// How many issue groups of a run list their records on its page (the
/// others give their count and CSV).
const GROUPS_LISTED: usize = 20;
/// How many records of a group its page lists (the CSV has them all).
const RECORDS_LISTED: u32 = 100;

/// What the history's address asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct HistoryQuery {
    filter: RunFilter,
    /// From 1.
    page: u64,
}

/// Reads `?plugin=ID&job=ID&outcome=OUTCOME&page=N` (each optional, empty
/// is any); anything else in the query is passed over.
fn history_query(raw: Option<&str>) -> Result<HistoryQuery, String> {
    let form = Form::read(raw.unwrap_or_default().as_bytes());
    if !form.refused.is_empty() {
        return Err(format!("The address's {}.", form.refusals()));
    }
    let given = |name| form.field(name).filter(|v| !v.is_empty());
    let outcome = match given("outcome") {
        None => None,
        Some(word) => Some(RunOutcome::named(word).ok_or_else(|| {
            let known: Vec<&str> = RunOutcome::ALL.iter().map(|o| o.as_str()).collect();
            format!(
                "There is no run outcome {word:?}; the outcomes are {}.",
                known.join(", ")
            )
        })?),
    };
    let page = match given("page") {
        None => 1,
        Some(n) => n
            .parse::<u64>()
            .ok()
            .filter(|&n| (1..=u64::from(u32::MAX)).contains(&n))
            .ok_or_else(|| format!("The page must be a whole number from 1, not {n:?}."))?,
    };
    Ok(HistoryQuery {
        filter: RunFilter {
            plugin: given("plugin").map(String::from),
            job: given("job").map(String::from),
            outcome,
        },
        page,
    })
}

/// The history's address for a filter and page.
fn history_href(filter: &RunFilter, page: u64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(plugin) = &filter.plugin {
        pairs.push(("plugin", plugin.clone()));
    }
    if let Some(job) = &filter.job {
        pairs.push(("job", job.clone()));
    }
    if let Some(outcome) = filter.outcome {
        pairs.push(("outcome", outcome.as_str().to_owned()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() {
        "/runs".to_owned()
    } else {
        format!("/runs?{query}")
    }
}

/// A run's own page.
pub fn run_href(id: i64) -> String {
    format!("/runs/{id}")
}

/// The CSV of a run's issues of one outcome and reason (all with `None`).
fn issues_href(run: i64, group: Option<&IssueGroup>) -> String {
    let mut href = format!("/runs/{run}/issues.csv");
    if let Some(g) = group {
        let query = serde_urlencoded::to_string([("outcome", &g.outcome), ("reason", &g.reason)])
            .unwrap_or_default();
        let _ = write!(href, "?{query}");
    }
    href
}

pub async fn history(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let asked = history_query(query.as_deref())
        .map_err(|why| Failure::new(StatusCode::BAD_REQUEST, why))?;
    let host = page.host.clone();
    let filter = asked.filter.clone();
    let offset = (asked.page - 1) * u64::from(PAGE_SIZE);
    let shown = blocking(move || host.core.db.runs_page(&filter, PAGE_SIZE, offset))
        .await?
        .map_err(Failure::from_db)?;
    let pages = shown.matching.div_ceil(u64::from(PAGE_SIZE)).max(1);
    if asked.page > pages {
        return Err(Failure::not_found(&format!(
            "There is no page {} of these runs: the last is {pages}.",
            asked.page
        )));
    }
    let now_ms = page.host.core.clock.now_ms();
    let filter = &asked.filter;
    let body = html! {
        (filter_form(&page.host, filter))
        p id="matching" { (shown.matching) " runs" @if *filter != RunFilter::default() { " match" } "." }
        (runs_table(&shown.runs, now_ms))
        @if pages > 1 {
            p class="pager" {
                @if asked.page > 1 { a rel="prev" href=(history_href(filter, asked.page - 1)) { "Newer" } " · " }
                "Page " (asked.page) " of " (pages)
                @if asked.page < pages { " · " a rel="next" href=(history_href(filter, asked.page + 1)) { "Older" } }
            }
        }
    };
    Ok(frame("Run history", Some(&viewer), body).into_response())
}

/// The history's filters: a GET form, so its address can be kept.
fn filter_form(host: &Host, filter: &RunFilter) -> Markup {
    let mut jobs: Vec<&str> = host
        .plugins
        .loaded
        .iter()
        .flat_map(|p| p.manifest.jobs.iter().map(|j| j.id.as_str()))
        .collect();
    jobs.sort_unstable();
    jobs.dedup();
    let chosen = |value: Option<&str>, option: &str| value == Some(option);
    html! {
        form method="get" action="/runs" class="filters" id="filters" {
            label { "Plugin instance "
                select name="plugin" id="filter-plugin" {
                    option value="" { "any" }
                    @for p in &host.plugins.loaded {
                        option value=(p.manifest.id) selected[chosen(filter.plugin.as_deref(), &p.manifest.id)] { (p.manifest.id) }
                    }
                }
            }
            label { " Job "
                select name="job" id="filter-job" {
                    option value="" { "any" }
                    @for job in &jobs {
                        option value=(job) selected[chosen(filter.job.as_deref(), job)] { (job) }
                    }
                }
            }
            label { " Outcome "
                select name="outcome" id="filter-outcome" {
                    option value="" { "any" }
                    @for o in RunOutcome::ALL {
                        option value=(o.as_str()) selected[filter.outcome == Some(o)] { (o.as_str()) }
                    }
                }
            }
            " " button type="submit" id="filter" { "Show" }
        }
    }
}

/// A run's outcome as one phrase: "succeeded, dry run, 2 events parked".
pub fn outcome_text(run: &RunRow) -> String {
    let mut text = run.outcome.as_str().to_owned();
    if run.dry_run {
        text.push_str(", dry run");
    }
    if run.forced {
        text.push_str(", forced");
    }
    if run.parked > 0 {
        let _ = write!(
            text,
            ", {} event{} parked",
            run.parked,
            if run.parked == 1 { "" } else { "s" }
        );
    }
    text
}

/// How long a run took, or has been going at `now_ms`.
pub fn run_duration(run: &RunRow, now_ms: i64) -> String {
    let end = run.ended_ms.unwrap_or(now_ms);
    let took = duration_text(std::time::Duration::from_millis(
        u64::try_from(end - run.started_ms).unwrap_or(0),
    ));
    match run.ended_ms {
        Some(_) => took,
        None => format!("{took} so far"),
    }
}

/// Runs as a table, one line each, each linking to its page.
pub fn runs_table(runs: &[RunRow], now_ms: i64) -> Markup {
    html! {
        @if runs.is_empty() { p { "No runs." } }
        @else {
            table class="runs" {
                thead { tr {
                    th { "Run" } th { "Plugin" } th { "Job" } th { "Trigger" } th { "By" } th { "Started" }
                    th { "Took" } th { "Outcome" } th { "Created" } th { "Updated" } th { "Skipped" } th { "Failed" }
                } }
                tbody {
                    @for run in runs {
                        tr class=(format!("run {}", run.outcome.as_str())) id=(format!("run-{}", run.id)) {
                            td { a href=(run_href(run.id)) { "#" (run.id) } }
                            td { (run.plugin) }
                            td { (run.job) }
                            td { (run.trigger.as_str()) }
                            td { (run.user.as_deref().unwrap_or("-")) }
                            td { (format_time(run.started_ms)) }
                            td { (run_duration(run, now_ms)) }
                            td class="outcome" { a href=(run_href(run.id)) { (outcome_text(run)) } }
                            td { (run.created) } td { (run.updated) } td { (run.skipped) } td { (run.failed) }
                        }
                    }
                }
            }
        }
    }
}

/// "277 skipped: 120 no SKU, 80 virtual, ..." for each outcome, failures first.
fn issues_line(groups: &[IssueGroup]) -> Vec<String> {
    let mut lines: Vec<(String, u64, Vec<String>)> = Vec::new();
    for g in groups {
        let part = format!("{} {}", g.count, g.reason);
        match lines
            .iter_mut()
            .find(|(outcome, _, _)| *outcome == g.outcome)
        {
            Some((_, total, parts)) => {
                *total += g.count;
                parts.push(part);
            }
            None => lines.push((g.outcome.clone(), g.count, vec![part])),
        }
    }
    lines
        .into_iter()
        .map(|(outcome, total, parts)| format!("{total} {outcome}: {}", parts.join(", ")))
        .collect()
}

/// A run and what its page shows beside it.
struct RunShown {
    run: RunRow,
    groups: Vec<(IssueGroup, Vec<intellitrack_db::RunIssueRow>)>,
}

fn read_run(host: &Host, id: i64) -> Result<Option<RunShown>, intellitrack_db::DbError> {
    let db = &host.core.db;
    let Some(run) = db.run(id)? else {
        return Ok(None);
    };
    let mut groups = Vec::new();
    for (n, group) in db.issue_groups(id)?.into_iter().enumerate() {
        let records = if n < GROUPS_LISTED {
            db.run_issues(
                id,
                Some(&group.outcome),
                Some(&group.reason),
                RECORDS_LISTED,
            )?
        } else {
            Vec::new()
        };
        groups.push((group, records));
    }
    Ok(Some(RunShown { run, groups }))
}

pub async fn show(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let RunShown { run, groups } = blocking(move || read_run(&host, id))
        .await?
        .map_err(Failure::from_db)?
        .ok_or_else(|| Failure::not_found("There is no such run."))?;
    let live = page.host.live.view(id);
    let now_ms = page.host.core.clock.now_ms();
    let running = run.outcome == RunOutcome::Running;
    let group_lines = issues_line(&groups.iter().map(|(g, _)| g.clone()).collect::<Vec<_>>());
    let body = html! {
        p id="outcome" { "Run #" (run.id) ": " strong { (outcome_text(&run)) } }
        @if running {
            @let text = running_text(live.as_ref());
            div id="progress" data-poll=(format!("/runs/{id}/progress")) {
                p class="progress-head" { (text.head) }
                ul class="progress-steps" { @for line in &text.lines { li { (line) } } }
            }
            noscript { p { "Reload this page to see the progress." } }
            @if live.is_some() && viewer.edits() {
                form method="post" action=(format!("/runs/{id}/cancel")) {
                    (csrf(&viewer))
                    button type="submit" id="cancel" { "Cancel this run" }
                }
            }
        }
        table id="run-facts" {
            tbody {
                tr { th { "Plugin" } td { a href=(format!("/plugins/{}/jobs", run.plugin)) { (run.plugin) } } }
                tr { th { "Job" } td { (run.job) } }
                tr { th { "Trigger" } td { (run.trigger.as_str()) } }
                tr { th { "By" } td { (run.user.as_deref().unwrap_or("-")) } }
                tr { th { "Started" } td { (format_time(run.started_ms)) } }
                tr { th { "Ended" } td { @if let Some(end) = run.ended_ms { (format_time(end)) } @else { "-" } } }
                tr { th { "Took" } td { (run_duration(&run, now_ms)) } }
                tr { th { "Records" } td id="counts" {
                    (run.created) " created, " (run.updated) " updated, " (run.skipped) " skipped, " (run.failed) " failed"
                } }
            }
        }
        @if !run.summary.is_empty() { p class="summary" { (run.summary) } }
        @if let Some(e) = &run.error { p class="run-error" { "Error: " (e) } }
        @if run.issues_pruned {
            p id="issues-pruned" { "This run's issue list was pruned by the retention settings; its counts stay." }
        }
        @if !groups.is_empty() {
            h2 { "Issues" }
            ul id="issue-summary" { @for line in &group_lines { li { (line) } } }
            p { a href=(issues_href(id, None)) id="issues-csv" { "All issues as CSV" } }
            @for (n, (group, records)) in groups.iter().enumerate() {
                details class=(format!("issue-group {}", group.outcome)) id=(format!("group-{n}")) {
                    summary {
                        span class="group-count" { (group.count) } " " (group.outcome) ": "
                        span class="group-reason" { (group.reason) }
                    }
                    @let kept = group.count - group.not_kept;
                    @if group.not_kept > 0 {
                        p class="not-kept" {
                            (group.not_kept) " of these were counted, not kept: past " (ISSUES_KEPT) " issues a run keeps the first " (KEPT_PER_REASON) " of each reason."
                        }
                    }
                    p { a class="group-csv" href=(issues_href(id, Some(group))) { "Download the " (kept) " kept as CSV" } }
                    @if !records.is_empty() {
                        ul class="issues" { @for r in records { li { code { (r.record) } } } }
                        @if kept > records.len() as u64 {
                            p { "… and " (kept - records.len() as u64) " more in the CSV." }
                        }
                    }
                }
            }
        }
        @for t in &run.tables {
            table class="run-table" {
                caption { (t.title) }
                thead { tr { @for c in &t.columns { th { (c) } } } }
                tbody { @for r in &t.rows { tr { @for cell in r { td { (cell) } } } } }
            }
        }
        p { a href="/runs" { "Back to the run history" } }
    };
    let title = format!("Run #{}: {} / {}", run.id, run.plugin, run.job);
    Ok(frame(&title, Some(&viewer), body).into_response())
}

/// The progress of a running run: what this process follows of it, or,
/// for a run of another process (a CLI run), that it is going on there.
fn running_text(live: Option<&crate::runs::live::LiveView>) -> ProgressText {
    live.map_or_else(
        || ProgressText {
            head: "Running in another process (such as a run from the command line); its progress shows there.".into(),
            lines: Vec::new(),
        },
        progress_text,
    )
}

/// What `/static/admin.js` reads while a run's page is open.
#[derive(Serialize)]
struct ProgressAnswer {
    finished: bool,
    outcome: &'static str,
    #[serde(flatten)]
    text: ProgressText,
}

pub async fn progress(
    axum::extract::State(page): State,
    Path(id): Path<i64>,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let run = blocking(move || host.core.db.run(id))
        .await?
        .map_err(Failure::from_db)?
        .ok_or_else(|| Failure::not_found("There is no such run."))?;
    let live = page.host.live.view(id);
    Ok(Json(ProgressAnswer {
        finished: run.outcome != RunOutcome::Running,
        outcome: run.outcome.as_str(),
        text: running_text(live.as_ref()),
    })
    .into_response())
}

pub async fn cancel(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let actor = viewer.actor();
    match blocking(move || admin::cancel_run(&host, id, &actor)).await? {
        // Its page says who cancelled it while it stops, and reloads
        // (a GET) once it has.
        Ok(()) => Ok(Redirect::to(&run_href(id)).into_response()),
        Err(e) => Err(Failure::new(StatusCode::CONFLICT, format!("{e:#}"))),
    }
}

pub async fn issues(
    axum::extract::State(page): State,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let form = Form::read(query.unwrap_or_default().as_bytes());
    if !form.refused.is_empty() {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            format!("The address's {}.", form.refusals()),
        ));
    }
    let outcome = form.field("outcome").map(String::from);
    let reason = form.field("reason").map(String::from);
    let host = page.host.clone();
    let issues = blocking(move || -> Result<_, intellitrack_db::DbError> {
        let db = &host.core.db;
        if db.run(id)?.is_none() {
            return Ok(None);
        }
        let not_kept: Vec<IssueGroup> = db
            .issue_groups(id)?
            .into_iter()
            .filter(|g| {
                g.not_kept > 0
                    && outcome.as_ref().is_none_or(|o| *o == g.outcome)
                    && reason.as_ref().is_none_or(|r| *r == g.reason)
            })
            .collect();
        let issues = db.run_issues(id, outcome.as_deref(), reason.as_deref(), u32::MAX)?;
        Ok(Some((issues, not_kept)))
    })
    .await?
    .map_err(Failure::from_db)?
    .ok_or_else(|| Failure::not_found("There is no such run."))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"run-{id}-issues.csv\""),
            ),
        ],
        issues_csv(&issues.0, &issues.1),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_address_is_read_strictly_and_written_back() {
        let asked = history_query(Some("plugin=woo%3Ashop&job=&outcome=cancelled&page=2")).unwrap();
        assert_eq!(
            asked,
            HistoryQuery {
                filter: RunFilter {
                    plugin: Some("woo:shop".into()),
                    job: None,
                    outcome: Some(RunOutcome::Cancelled),
                },
                page: 2,
            }
        );
        assert_eq!(
            history_href(&asked.filter, 3),
            "/runs?plugin=woo%3Ashop&outcome=cancelled&page=3"
        );
        assert_eq!(history_href(&RunFilter::default(), 1), "/runs");
        assert!(
            history_query(Some("outcome=won"))
                .unwrap_err()
                .contains("cancelled")
        );
        for page in ["0", "-1", "x", "99999999999"] {
            assert!(
                history_query(Some(&format!("page={page}"))).is_err(),
                "{page}"
            );
        }
    }

    #[test]
    fn issues_are_summed_by_outcome_failures_first() {
        let group = |outcome: &str, reason: &str, count| IssueGroup {
            outcome: outcome.into(),
            reason: reason.into(),
            count,
            not_kept: 0,
        };
        assert_eq!(
            issues_line(&[
                group("failed", "refused", 2),
                group("skipped", "no SKU", 120),
                group("skipped", "virtual", 80),
            ]),
            vec!["2 failed: 2 refused", "200 skipped: 120 no SKU, 80 virtual"]
        );
    }
}
