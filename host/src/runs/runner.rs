//! Running a plugin call under a deadline, and a job run from start to record.
//!
//! Every call into a plugin runs on its own thread: a plugin that hangs
//! costs that thread, never the caller. A job past its deadline is asked to
//! stop through its cancellation flag; if it still has not returned after a
//! grace period it is recorded as timed out, and its process killed (a
//! plugin in its own process) or its thread abandoned (one in the host).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use abi_stable::std_types::RStr;
use intellitrack_db::{NewRun, RunFinish, RunOutcome, RunTrigger};
use plugin_api::protocol::Progress;
use plugin_api::{JobReport, RunCounts, RunOptions, Table};

use crate::job_answer::{job_outcome, keep_counts_so_far};
use crate::plugins::loader::LoadedPlugin;
use crate::process_owner;
use crate::runs::live::LiveRuns;
use crate::services::{HostCore, PluginServices, RunBinding};

/// How long a job may take to stop after it was asked to.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Runs `call` on its own thread; its result arrives on the returned channel
/// (which reports a disconnect if the thread could not start).
pub fn spawn_call<T: Send + 'static>(
    call: impl FnOnce() -> T + Send + 'static,
) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    let _ = std::thread::Builder::new()
        .name("plugin-call".into())
        .spawn(move || {
            let _ = tx.send(call());
        });
    rx
}

/// Runs `call` on its own thread and waits at most `deadline` for it.
/// `None` means it did not return in time; the thread is left to finish
/// (or hang) on its own.
pub fn within<T: Send + 'static>(
    deadline: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    spawn_call(call).recv_timeout(deadline).ok()
}

/// A job run to perform.
pub struct JobRequest<'a> {
    pub job: &'a str,
    pub trigger: RunTrigger,
    pub user: Option<&'a str>,
    pub deadline: Duration,
    /// Dry run, force: what the user asked of a run by hand.
    pub options: RunOptions,
    /// Set by whoever wants the run to stop (deactivation, shutdown, a
    /// user cancelling it through [`LiveRuns::cancel`]).
    pub cancel: Arc<AtomicBool>,
    pub on_progress: Arc<dyn Fn(&Progress) + Send + Sync>,
    pub on_table: Arc<dyn Fn(&Table) + Send + Sync>,
}

/// How a run ended, as recorded.
#[derive(Debug)]
pub struct JobResult {
    pub run_id: i64,
    pub outcome: RunOutcome,
    pub report: JobReport,
    pub error: Option<String>,
}

/// Runs one job of `plugin` and records it, followed in `live` while it
/// runs. Refused (an `Err`) only when the job cannot start: unknown job,
/// or a run of it already going on.
pub fn run_job(
    core: &Arc<HostCore>,
    live: &LiveRuns,
    plugin: &LoadedPlugin,
    request: JobRequest<'_>,
) -> anyhow::Result<JobResult> {
    let run_id = start_run(core, plugin, &request)?;
    run_started(core, live, plugin, request, run_id)
}

/// Records the run as started, before anything else happens for it (a
/// host killed from now on leaves it to be closed as interrupted).
/// Refused for an unknown job or a run of it already going on.
pub fn start_run(
    core: &Arc<HostCore>,
    plugin: &LoadedPlugin,
    request: &JobRequest<'_>,
) -> anyhow::Result<i64> {
    let manifest = &plugin.manifest;
    if manifest.job(request.job).is_none() {
        let known: Vec<&str> = manifest.jobs.iter().map(|j| j.id.as_str()).collect();
        anyhow::bail!(
            "{} has no job {:?}; its jobs are: {}",
            manifest.id,
            request.job,
            known.join(", ")
        );
    }
    let run_id = core.db.start_run(
        &NewRun {
            plugin: &manifest.id,
            job: request.job,
            trigger: request.trigger,
            user: request.user,
            pid: std::process::id(),
            owner: process_owner::current(),
            started_ms: core.clock.now_ms(),
            dry_run: request.options.dry_run,
            forced: request.options.force,
        },
        process_owner::alive,
    )?;
    Ok(run_id)
}

/// Records a started run as failed before its job ran (the plugin could
/// not be made ready for it), with why.
pub fn fail_started(core: &Arc<HostCore>, run_id: i64, error: &str) -> anyhow::Result<()> {
    core.db.finish_run(
        run_id,
        &RunFinish {
            outcome: RunOutcome::Failed,
            ended_ms: core.clock.now_ms(),
            created: 0,
            updated: 0,
            skipped: 0,
            failed: 0,
            summary: "",
            error: Some(error),
            issues: &[],
        },
    )?;
    Ok(())
}

/// Runs the job of a run [`start_run`] recorded, followed in `live` until
/// it is recorded, and records how it ended: a run a user cancelled that
/// stopped as `cancelled`, with who did.
pub fn run_started(
    core: &Arc<HostCore>,
    live: &LiveRuns,
    plugin: &LoadedPlugin,
    request: JobRequest<'_>,
    run_id: i64,
) -> anyhow::Result<JobResult> {
    let manifest = &plugin.manifest;
    let counts = Arc::new(Mutex::new(RunCounts::default()));
    let entered = live.enter(run_id, request.cancel.clone());
    let followed = live.clone();
    let on_progress = request.on_progress.clone();
    let services = PluginServices::new(
        core.clone(),
        Arc::new(manifest.clone()),
        Some(RunBinding {
            run_id,
            options: request.options.clone(),
            cancel: request.cancel.clone(),
            on_progress: Arc::new(move |p: &Progress| {
                followed.progress(run_id, p);
                on_progress(p);
            }),
            on_table: request.on_table.clone(),
            counts: counts.clone(),
        }),
    );
    let frame = plugin.frame.clone();
    let job = request.job.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("{}/{}", manifest.id, job))
        .spawn(move || {
            let result = frame.run_job(RStr::from_str(&job), services.into_host_ref());
            let _ = tx.send(
                result
                    .into_result()
                    .map(|s| s.into_string())
                    .map_err(|e| e.into_string()),
            );
        })?;

    let ending = match rx.recv_timeout(request.deadline) {
        Ok(answer) => Ending::InTime(answer),
        Err(_) => {
            request.cancel.store(true, Ordering::SeqCst);
            match (rx.recv_timeout(STOP_GRACE), &plugin.process) {
                (Ok(answer), _) => Ending::AfterDeadline(answer),
                (Err(_), Some(process)) => {
                    process.kill(&format!(
                        "{}/{} ran past its deadline and did not stop",
                        manifest.id, request.job
                    ));
                    Ending::Killed
                }
                (Err(_), None) => Ending::Abandoned,
            }
        }
    };
    let (mut outcome, mut report, mut error) = ending.classify(request.deadline);
    if let (RunOutcome::Stopped, Some(by)) = (outcome, entered.cancelled_by()) {
        outcome = RunOutcome::Cancelled;
        error = Some(format!("cancelled by {by}; stopped"));
    }
    let so_far = *counts.lock().unwrap_or_else(PoisonError::into_inner);
    keep_counts_so_far(outcome, &mut report, so_far);
    let summary = report.summary.clone();
    core.db.finish_run(
        run_id,
        &RunFinish {
            outcome,
            ended_ms: core.clock.now_ms(),
            created: report.created,
            updated: report.updated,
            skipped: report.skipped,
            failed: report.failed,
            summary: &summary,
            error: error.as_deref(),
            issues: &report.issues,
        },
    )?;
    Ok(JobResult {
        run_id,
        outcome,
        report,
        error,
    })
}

/// How the plugin's answer arrived.
enum Ending {
    InTime(Result<String, String>),
    AfterDeadline(Result<String, String>),
    /// Did not stop when asked: its thread is left to it.
    Abandoned,
    /// Did not stop when asked: its process was killed.
    Killed,
}

impl Ending {
    fn classify(self, deadline: Duration) -> (RunOutcome, JobReport, Option<String>) {
        let late = format!(
            "ran past its deadline of {}s and was asked to stop",
            deadline.as_secs()
        );
        match self {
            Self::InTime(answer) => job_outcome(answer),
            Self::AfterDeadline(answer) => {
                let report = answer
                    .ok()
                    .and_then(|json| serde_json::from_str(&json).ok())
                    .unwrap_or_default();
                (RunOutcome::TimedOut, report, Some(late))
            }
            Self::Abandoned | Self::Killed => (
                RunOutcome::TimedOut,
                JobReport::default(),
                Some(format!(
                    "{late}, and did not stop within {}s; {}",
                    STOP_GRACE.as_secs(),
                    if matches!(self, Self::Killed) {
                        "its process was killed"
                    } else {
                        "abandoned"
                    }
                )),
            ),
        }
    }
}
