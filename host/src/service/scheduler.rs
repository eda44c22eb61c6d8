//! Deciding and starting scheduled runs.
//!
//! On every turn of the service loop the scheduler asks the schedule rules
//! (the `sync-schedule` crate) about each job of each active plugin, with
//! the plugin's stored settings and the job's history read afresh, so a
//! `plugin-host schedule` or `plugin-host timezone` change takes effect on
//! the next turn. Each due run starts on its own thread. One plugin
//! instance's jobs run one after another, in its manifest's order (an
//! import of products before one of orders, End of Day after a sync that
//! is still going): a job that falls due while another job of its instance
//! runs waits for it, and the job that fell due first goes next.
//! Different instances run in parallel; one job never
//! runs twice at once (the database refuses a second running row, such as
//! a run by hand already going on).
//!
//! A job a plugin's webhooks trigger ([`crate::service::hooks`]) starts
//! when its deliveries are due, before the scheduled jobs of its instance
//! (a scheduled run of that same job covers them instead); such a run is
//! not part of the job's schedule history, so the Sync Interval's polling
//! goes on as before, the safety net for a delivery that never came.
//! A job woken by change-feed events ([`crate::service::feed_wakes`]) starts
//! the same way (after a webhook's), once the scheduler has looked at the
//! feed on its turn; a woken run refused at its start is owed again.
//!
//! A job's history is updated when its run returns, with the instant the
//! run started: a run refused at the start leaves it unchanged and is tried
//! again on the next turn, and a run cut short by a crash of the host is
//! caught up at the next start.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use intellitrack_db::RunTrigger;
use jiff::Timestamp;
use plugin_api::{RunOptions, ScheduleKind};
use sync_schedule::{ClockReading, Decision, DueRun, JobKind, Schedule, Trigger, next_wake};

use crate::host::Host;
use crate::runs::runner::{self, JobRequest, JobResult};
use crate::service::feed_wakes::FeedWakes;
use crate::service::hooks::Webhooks;
use crate::service::schedule_store::{self, PluginSchedule};

/// How often a stopping run is checked for having returned.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// A job of a plugin: (plugin id, job id).
type JobKey = (String, String);

/// A scheduled run going on.
struct ScheduledRun {
    /// Its place in the schedule; `None` for a run webhooks or the feed
    /// triggered.
    due: Option<DueRun>,
    trigger: RunTrigger,
    started: Timestamp,
    cancel: Arc<AtomicBool>,
    thread: JoinHandle<anyhow::Result<JobResult>>,
}

pub struct Scheduler {
    host_started: Timestamp,
    running: HashMap<JobKey, ScheduledRun>,
    /// Jobs whose last start was refused, so a refusal is logged once.
    refused: HashSet<JobKey>,
    webhooks: Webhooks,
    feed_wakes: FeedWakes,
}

impl Scheduler {
    pub fn new(host: &Host, webhooks: Webhooks, feed_wakes: FeedWakes) -> Self {
        Self {
            host_started: host.core.clock.now(),
            running: HashMap::new(),
            refused: HashSet::new(),
            webhooks,
            feed_wakes,
        }
    }

    /// Starts every run that is due for the `active` plugins, and returns
    /// when the next one falls due if nothing changes.
    pub fn start_due_runs<'a>(
        &mut self,
        host: &Host,
        active: impl IntoIterator<Item = &'a str>,
    ) -> anyhow::Result<Option<Timestamp>> {
        self.collect_finished(host);
        // After the runs that ended are collected: what they appended is in.
        self.feed_wakes.look(&host.core.db);
        let db = &host.core.db;
        let zone = schedule_store::site_time_zone(db)?;
        let clock = ClockReading {
            now: host.core.clock.now(),
            host_started: self.host_started,
        };
        let mut waiting = Vec::new();
        for id in active {
            let Some(plugin) = host.find(id) else {
                continue;
            };
            let stored = match PluginSchedule::load(db, id) {
                Ok(stored) => stored,
                Err(e) => {
                    tracing::error!(plugin = %id, "cannot read the schedule: {e:#}");
                    continue;
                }
            };
            let schedule = Schedule::new(&stored.settings, &zone);
            // One run of the instance at a time: the next due job starts
            // on a later turn, once this one returned.
            if self.running.keys().any(|(plugin, _)| plugin == id) {
                continue;
            }
            // Of the jobs due, the one that fell due first (a job due
            // while others ran is not passed over again), else the first
            // in the manifest.
            let mut first_due: Option<(DueRun, &str)> = None;
            for job in &plugin.manifest.jobs {
                let history = stored.history(&job.id);
                match schedule.decide(job_kind(job.schedule), &history, clock) {
                    Decision::Due(due) => {
                        if first_due.is_none_or(|(first, _)| due.fell_due < first.fell_due) {
                            first_due = Some((due, &job.id));
                        }
                    }
                    not_due => waiting.push(not_due),
                }
            }
            let hooked = self.webhooks.due_job(id, Instant::now());
            let triggered = hooked
                .clone()
                .map(|job| (job, RunTrigger::Webhook))
                .or_else(|| {
                    self.feed_wakes
                        .due_job(id)
                        .map(|job| (job, RunTrigger::Feed))
                });
            let (due, job, trigger) = match (first_due, triggered) {
                // A scheduled run of the triggered job covers its trigger.
                (Some((due, job)), Some((triggered, _))) if triggered == job => {
                    (Some(due), triggered, run_trigger(due.trigger))
                }
                // Triggers go before the instance's other due jobs.
                (_, Some((job, trigger))) => (None, job, trigger),
                (Some((due, job)), None) => (Some(due), job.to_owned(), run_trigger(due.trigger)),
                (None, None) => continue,
            };
            if hooked.as_ref() == Some(&job) {
                self.webhooks.started(id);
            }
            self.feed_wakes.started(id, &job);
            self.start(host, (id.to_string(), job), due, trigger, clock.now);
        }
        Ok(next_wake(&waiting))
    }

    /// Whether a run it started is going on (or ended and not yet recorded
    /// in the job's history).
    pub fn is_busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// Whether a run the change feed woke is owed and not yet started.
    pub fn owes_runs(&self) -> bool {
        self.feed_wakes.owes_runs()
    }

    fn start(
        &mut self,
        host: &Host,
        key: JobKey,
        due: Option<DueRun>,
        trigger: RunTrigger,
        now: Timestamp,
    ) {
        let Some(plugin) = host.find(&key.0).cloned() else {
            return;
        };
        let core = host.core.clone();
        let live = host.live.clone();
        let deadline = host.job_deadline(&key.0);
        let cancel = Arc::new(AtomicBool::new(false));
        let job = key.1.clone();
        let run_cancel = cancel.clone();
        let label = format!("{}/{}", key.0, key.1);
        let spawned = std::thread::Builder::new()
            .name(format!("schedule {label}"))
            .spawn(move || {
                runner::run_job(
                    &core,
                    &live,
                    &plugin,
                    JobRequest {
                        job: &job,
                        trigger,
                        user: None,
                        deadline,
                        options: RunOptions::default(),
                        cancel: run_cancel,
                        on_progress: Arc::new(move |p| {
                            tracing::debug!(run = %label, done = p.done, "{}", p.message);
                        }),
                        on_table: Arc::new(|_| {}),
                    },
                )
            });
        match spawned {
            Ok(thread) => {
                tracing::info!(plugin = %key.0, job = %key.1, trigger = %trigger.as_str(), "starting");
                self.running.insert(
                    key,
                    ScheduledRun {
                        due,
                        trigger,
                        started: now,
                        cancel,
                        thread,
                    },
                );
            }
            Err(e) => tracing::error!(plugin = %key.0, job = %key.1, "cannot start a thread: {e}"),
        }
    }

    /// Asks the running jobs of `plugin` to stop and waits until they have
    /// returned, at most [`runner::STOP_GRACE`]; a job still going then is
    /// left to its runner, which records it when it ends.
    pub fn stop_plugin(&mut self, host: &Host, plugin: &str) {
        self.stop(host, |key| key.0 == plugin);
    }

    /// Asks every running job to stop and waits as [`Scheduler::stop_plugin`] does.
    pub fn stop_all(&mut self, host: &Host) {
        self.stop(host, |_| true);
    }

    fn stop(&mut self, host: &Host, which: impl Fn(&JobKey) -> bool) {
        let stopping: Vec<JobKey> = self.running.keys().filter(|k| which(k)).cloned().collect();
        if stopping.is_empty() {
            return;
        }
        for key in &stopping {
            tracing::info!(plugin = %key.0, job = %key.1, "asking the run to stop");
            self.running[key].cancel.store(true, Ordering::SeqCst);
        }
        let asked = Instant::now();
        while asked.elapsed() < runner::STOP_GRACE
            && stopping
                .iter()
                .any(|k| !self.running[k].thread.is_finished())
        {
            std::thread::sleep(STOP_CHECK);
        }
        self.collect_finished(host);
        for key in stopping {
            if self.running.remove(&key).is_some() {
                tracing::warn!(
                    plugin = %key.0,
                    job = %key.1,
                    "the run did not stop within {}s; going on without it",
                    runner::STOP_GRACE.as_secs()
                );
            }
        }
    }

    /// Takes in the runs that returned: records each started run in its
    /// job's history and logs how it ended.
    fn collect_finished(&mut self, host: &Host) {
        let finished: Vec<JobKey> = self
            .running
            .iter()
            .filter(|(_, run)| run.thread.is_finished())
            .map(|(key, _)| key.clone())
            .collect();
        let any_finished = !finished.is_empty();
        for key in finished {
            let Some(run) = self.running.remove(&key) else {
                continue;
            };
            let (plugin, job) = (&key.0, &key.1);
            let (due, trigger, started) = (run.due, run.trigger, run.started);
            match run.thread.join() {
                Ok(Ok(result)) => {
                    self.refused.remove(&key);
                    tracing::info!(
                        plugin = %plugin,
                        job = %job,
                        run = result.run_id,
                        outcome = result.outcome.as_str(),
                        "run ended"
                    );
                    if let Some(due) = &due
                        && let Err(e) = record_started(host, plugin, job, due, started)
                    {
                        tracing::error!(plugin = %plugin, job = %job, "cannot record the run in the schedule: {e:#}");
                    }
                }
                Ok(Err(refusal)) => {
                    if trigger == RunTrigger::Feed {
                        self.feed_wakes.owe(plugin, job);
                    }
                    if self.refused.insert(key.clone()) {
                        tracing::warn!(plugin = %plugin, job = %job, "not started: {refusal:#}");
                    }
                }
                Err(_) => {
                    tracing::error!(plugin = %plugin, job = %job, "the run's thread panicked")
                }
            }
        }
        if any_finished {
            crate::heap::release_freed();
        }
    }
}

/// Notes a run that started in its job's stored history.
fn record_started(
    host: &Host,
    plugin: &str,
    job: &str,
    due: &DueRun,
    started: Timestamp,
) -> anyhow::Result<()> {
    let db = &host.core.db;
    let mut history = PluginSchedule::load(db, plugin)?.history(job);
    history.record(due, started);
    schedule_store::put_job_history(db, plugin, job, &history)
}

/// The schedule rules' kind of a job of a manifest.
pub fn job_kind(kind: ScheduleKind) -> JobKind {
    match kind {
        ScheduleKind::SyncInterval => JobKind::SyncInterval,
        ScheduleKind::EndOfDay => JobKind::EndOfDay,
        ScheduleKind::ByHand => JobKind::ByHand,
    }
}

fn run_trigger(trigger: Trigger) -> RunTrigger {
    match trigger {
        Trigger::Schedule => RunTrigger::Schedule,
        Trigger::CatchUp => RunTrigger::CatchUp,
    }
}
