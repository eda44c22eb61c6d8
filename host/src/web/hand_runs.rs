//! A plugin's jobs page (its jobs, how far each has synced, with a reset
//! for edit users), running a job by hand from it, and the run's own page:
//! its progress while it runs (polled by `/static/admin.js` from a small
//! JSON endpoint), then its report.
//!
//! The run goes through [`admin::run_by_hand`] on a thread of its own, in
//! the plugin the service holds active, recorded as `web:NAME`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::html;
use plugin_api::{ApiVersion, RunOptions};

use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::plugins::loaded;
use super::runs::runs_table;
use super::{State, blocking};
use crate::service::admin::{self, HandRun, Holder};

/// The plugin API version that lets a run be asked for a dry run or force.
const RUN_OPTIONS_SINCE: ApiVersion = ApiVersion::new(1, 2);
/// How many of a plugin's runs its jobs page shows.
const RECENT: u32 = 10;

/// The runs by hand started from this page since the service started.
#[derive(Default)]
pub struct HandRuns {
    next: AtomicU64,
    runs: Mutex<HashMap<u64, Arc<Mutex<Tracked>>>>,
}

/// One run by hand as the page follows it.
#[derive(Clone, serde::Serialize)]
struct Tracked {
    plugin: String,
    job: String,
    done: u64,
    total: Option<u64>,
    message: String,
    finished: bool,
    /// The recorded run, once it has ended.
    #[serde(skip)]
    run_id: Option<i64>,
    /// Why it could not start.
    #[serde(skip)]
    refused: Option<String>,
}

impl HandRuns {
    fn get(&self, n: u64) -> Option<Tracked> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let tracked = runs.get(&n)?;
        Some(tracked.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

pub async fn jobs(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    jobs_page(page, viewer, id, None).await
}

/// A note above the jobs page: a refusal, or what was done.
enum Note {
    Refused(String),
    Done(String),
}

async fn jobs_page(
    page: Arc<super::Page>,
    viewer: Viewer,
    id: String,
    note: Option<Note>,
) -> Result<Response, Failure> {
    let plugin = loaded(&page.host, &id)?;
    let manifest = plugin.manifest.clone();
    let held = page.active.contains(&id);
    let host = page.host.clone();
    let plugin_id = id.clone();
    let (runs, watermarks) = blocking(move || -> anyhow::Result<_> {
        Ok((
            host.core.db.runs(Some(&plugin_id), RECENT)?,
            admin::watermarks(&host, &plugin_id)?,
        ))
    })
    .await?
    .map_err(Failure::from_db)?;
    let may_run = viewer.may_use(&manifest);
    let options = manifest.api_version >= RUN_OPTIONS_SINCE;
    let status = match note {
        Some(Note::Refused(_)) => StatusCode::CONFLICT,
        _ => StatusCode::OK,
    };
    let body = html! {
        @match &note {
            Some(Note::Refused(text)) => (message(text, false)),
            Some(Note::Done(text)) => (message(text, true)),
            None => {}
        }
        p {
            @if held { "The service holds " (id) " active." }
            @else { (id) " is not active in the service: activate it on the plugins page to run its jobs." }
        }
        table id="jobs" {
            thead { tr { th { "Job" } th { "Schedule" } th { "What it does" } th {} } }
            tbody {
                @for job in &manifest.jobs {
                    tr {
                        td { (job.title) br; code { (job.id) } }
                        td { (job.schedule.label()) }
                        td { (job.description) }
                        td {
                            @if may_run {
                                form method="post" action=(format!("/plugins/{id}/jobs/{}/run", job.id)) {
                                    (csrf(&viewer))
                                    @if options {
                                        label { input type="checkbox" name="dry_run" value="true"; " dry run" }
                                        label { input type="checkbox" name="force" value="true"; " force" }
                                    }
                                    button type="submit" id=(format!("run-{}", job.id)) { "Run now" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "How far each import has synced" }
        @if watermarks.is_empty() { p { "No watermark yet." } }
        @else {
            table id="watermarks" {
                thead { tr { th { "State" } th { "Watermark" } th {} } }
                tbody {
                    @for (key, value) in &watermarks {
                        tr {
                            td { code { (key) } }
                            td { (value.get(admin::WATERMARK).and_then(|w| w.as_str()).unwrap_or("none")) }
                            td {
                                @if viewer.edits() {
                                    form method="post" action=(format!("/plugins/{id}/watermarks/{key}/reset")) {
                                        (csrf(&viewer))
                                        button type="submit" id=(format!("reset-{key}")) { "Reset (read everything again)" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Recent runs" }
        @if runs.is_empty() { p { "No runs yet." } }
        (runs_table(&runs))
    };
    let title = format!("{} jobs", manifest.name);
    Ok((status, frame(&title, Some(&viewer), body)).into_response())
}

pub async fn start(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path((id, job)): Path<(String, String)>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let manifest = &loaded(&page.host, &id)?.manifest;
    if manifest.job(&job).is_none() {
        return Err(Failure::not_found("The plugin has no such job."));
    }
    if !page.active.contains(&id) {
        let why = format!(
            "{id} is not active in the service yet: activate it (or wait a second after activating) and run the job again."
        );
        return jobs_page(page, viewer, id, Some(Note::Refused(why))).await;
    }
    let options = RunOptions::new(
        form.field("dry_run") == Some("true"),
        form.field("force") == Some("true"),
    );
    let tracked = Arc::new(Mutex::new(Tracked {
        plugin: id.clone(),
        job: job.clone(),
        done: 0,
        total: None,
        message: "starting".into(),
        finished: false,
        run_id: None,
        refused: None,
    }));
    let n = page.hand_runs.next.fetch_add(1, Ordering::SeqCst) + 1;
    page.hand_runs
        .runs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(n, tracked.clone());
    let host = page.host.clone();
    std::thread::Builder::new()
        .name(format!("hand-run-{n}"))
        .spawn(move || {
            let progress = tracked.clone();
            let on_progress = Arc::new(move |p: &plugin_api::protocol::Progress| {
                let mut t = progress.lock().unwrap_or_else(|e| e.into_inner());
                t.done = p.done;
                t.total = p.total;
                t.message = p.message.clone();
            });
            let actor = viewer.actor();
            let result = admin::run_by_hand(
                &host,
                HandRun {
                    plugin: &id,
                    job: &job,
                    user: Some(&viewer.user),
                    recorded_as: &actor,
                    options,
                    on_progress,
                },
                Holder::Service,
            );
            let mut t = tracked.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(done) => t.run_id = Some(done.run_id),
                Err(e) => t.refused = Some(format!("{e:#}")),
            }
            t.finished = true;
        })
        .map_err(|_| Failure::internal("The run could not be started."))?;
    Ok(Redirect::to(&format!("/hand-runs/{n}")).into_response())
}

pub async fn reset_watermark(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, Failure> {
    loaded(&page.host, &id)?;
    let host = page.host.clone();
    let (plugin, state, actor) = (id.clone(), key.clone(), viewer.actor());
    let note =
        match blocking(move || admin::reset_watermark(&host, &plugin, &state, &actor)).await? {
            Ok(()) => Note::Done(format!(
                "The watermark {key} is reset: the next run reads everything again."
            )),
            Err(e) => Note::Refused(format!("{e:#}")),
        };
    jobs_page(page, viewer, id, Some(note)).await
}

pub async fn show(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(n): Path<u64>,
) -> Result<Response, Failure> {
    let tracked = page
        .hand_runs
        .get(n)
        .ok_or_else(|| Failure::not_found("No such run by hand."))?;
    let recorded = match tracked.run_id {
        Some(run_id) => {
            let host = page.host.clone();
            let plugin = tracked.plugin.clone();
            blocking(move || host.core.db.runs(Some(&plugin), RECENT))
                .await?
                .map_err(Failure::from_db)?
                .into_iter()
                .find(|r| r.id == run_id)
        }
        None => None,
    };
    let body = html! {
        @if let Some(why) = &tracked.refused { (message(why, false)) }
        @if !tracked.finished {
            p id="progress" data-poll=(format!("/hand-runs/{n}/progress")) { (progress_text(&tracked)) }
            noscript { p { "Reload this page to see the progress." } }
        }
        @if let Some(run) = &recorded {
            p id="outcome" { "Run #" (run.id) ": " strong { (run.outcome.as_str()) } }
            (runs_table(std::slice::from_ref(run)))
        }
        p { a href=(format!("/plugins/{}/jobs", tracked.plugin)) { "Back to the jobs" } }
    };
    let title = format!("{} / {}", tracked.plugin, tracked.job);
    Ok(frame(&title, Some(&viewer), body).into_response())
}

fn progress_text(t: &Tracked) -> String {
    let total = t.total.map(|n| format!(" of {n}")).unwrap_or_default();
    format!("Running: {}{total} — {}", t.done, t.message)
}

pub async fn progress(
    axum::extract::State(page): State,
    Path(n): Path<u64>,
) -> Result<Response, Failure> {
    let tracked = page
        .hand_runs
        .get(n)
        .ok_or_else(|| Failure::not_found("No such run by hand."))?;
    Ok(Json(tracked).into_response())
}
