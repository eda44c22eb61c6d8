//! A plugin's jobs page (its jobs, how far each has synced, with a reset
//! for edit users, its recent runs) and running a job by hand from it.
//!
//! The run goes through [`admin::run_by_hand`] on a thread of its own, in
//! the plugin the service holds active, recorded as `web:NAME`; once it is
//! recorded the browser is sent to the run's page (`/runs/{id}`, by the
//! run's id in the database, which is never used again, so the page and
//! its progress outlive a restart of the service).

use std::sync::{Arc, mpsc};
use std::time::Duration;

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use intellitrack_db::RunFilter;
use maud::html;
use plugin_api::{ApiVersion, RunOptions};

use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::plugins::loaded;
use super::runs::{run_href, runs_table};
use super::{State, blocking};
use crate::service::admin::{self, HandRun, Holder};

/// The plugin API version that lets a run be asked for a dry run or force.
const RUN_OPTIONS_SINCE: ApiVersion = ApiVersion::new(1, 2);
/// How many of a plugin's runs its jobs page shows.
const RECENT: u32 = 10;

/// How long a run by hand may take to be recorded (its checks, a busy
/// database) before the page stops waiting for its id.
const RECORDING: Duration = Duration::from_secs(30);

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
    let (runs, watermarks, running) = blocking(move || -> anyhow::Result<_> {
        let mut running = host.core.db.running_runs()?;
        running.retain(|r| r.plugin == plugin_id);
        Ok((
            host.core.db.runs_page(
                &RunFilter {
                    plugin: Some(plugin_id.clone()),
                    ..RunFilter::default()
                },
                RECENT,
                0,
            )?,
            admin::watermarks(&host, &plugin_id)?,
            running,
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
                        td {
                            (job.description)
                            @for run in running.iter().filter(|r| r.job == job.id) {
                                br; a class="running" href=(run_href(run.id)) { "running now (#" (run.id) ")" }
                            }
                        }
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
        (runs_table(&runs.runs, page.host.core.clock.now_ms()))
        p { a href=(format!("/runs?plugin={id}")) { "All runs of " (id) } }
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
    let host = page.host.clone();
    let (recorded, answer) = mpsc::channel::<Result<i64, String>>();
    let (plugin, job_id) = (id.clone(), job.clone());
    let run_viewer = viewer.clone();
    std::thread::Builder::new()
        .name(format!("hand-run {id}/{job}"))
        .spawn(move || {
            let told = recorded.clone();
            let actor = run_viewer.actor();
            let result = admin::run_by_hand(
                &host,
                HandRun {
                    plugin: &plugin,
                    job: &job_id,
                    user: Some(&run_viewer.user),
                    recorded_as: &actor,
                    options,
                    on_progress: Arc::new(|_| {}),
                    on_recorded: Box::new(move |run_id| {
                        let _ = told.send(Ok(run_id));
                    }),
                },
                Holder::Service,
            );
            // A refusal before the run was recorded; after, the page that
            // waited has its id and no longer listens.
            if let Err(e) = result {
                let _ = recorded.send(Err(format!("{e:#}")));
            }
        })
        .map_err(|_| Failure::internal("The run could not be started."))?;
    let started = blocking(move || answer.recv_timeout(RECORDING)).await?;
    match started {
        Ok(Ok(run_id)) => Ok(Redirect::to(&run_href(run_id)).into_response()),
        Ok(Err(why)) => jobs_page(page, viewer, id, Some(Note::Refused(why))).await,
        Err(_) => Err(Failure::internal(
            "The run was not recorded in time; see the run history and the service's log.",
        )),
    }
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
