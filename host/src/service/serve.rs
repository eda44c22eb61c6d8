//! The host running as a service: keeps the admin's activation wishes in
//! force while it runs, and stops cleanly on SIGTERM or Ctrl-C.
//!
//! It polls the database twice a second, so `plugins activate` and
//! `plugins deactivate` from another process take effect within a second,
//! without a restart, and so does `plugins add-instance` (the new instance
//! is loaded, shown on the admin page, activated when asked and scheduled). Activation runs on its own thread, so a plugin whose
//! activation hangs delays no other plugin; one that refuses activation (or
//! outlives its deadline) is recorded as faulted, and tried again when its
//! settings change or a minute later.
//!
//! On every poll the [`Scheduler`] starts the runs that are due for the
//! plugins held active, and once a day (by the host's clock) a prune by
//! the retention settings starts on its own thread ([`DailyPrune`]). On a
//! stepped clock (tests only, see [`crate::clock`]) the pause ends when
//! the clock moves, and a turn that leaves nothing running, activating or
//! owed to a feed wake ([`crate::service::feed_wakes`]) reports its time as
//! settled. Before a plugin is deactivated (the admin's wish,
//! changed settings, or the host stopping) its running jobs are asked to
//! stop and given [`crate::runs::runner::STOP_GRACE`] to return and be recorded.
//!
//! On SIGTERM or Ctrl-C the service stops within a bounded time: at most
//! one poll, then [`crate::runs::runner::STOP_GRACE`] (10 s) for every running job at
//! once, then at most [`crate::runs::runner::STOP_GRACE`] for each active plugin's
//! `deactivate`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::host::{Host, activation_too_slow};
use crate::process_owner;
use crate::service::feed_wakes::{self, FeedWakes};
use crate::service::hooks::{self, Webhooks};
use crate::service::retention::DailyPrune;
use crate::service::scheduler::Scheduler;

const POLL: Duration = Duration::from_millis(500);
const RETRY_FAULTED: Duration = Duration::from_secs(60);
/// The shortest pause between two turns, so a wake-up that is already due
/// never spins the loop.
const MIN_PAUSE: Duration = Duration::from_millis(20);

/// What this process has done with one plugin.
enum Held {
    /// Its `activate` is running, started at `since` for this `changed_at`.
    Activating {
        changed_at: i64,
        since: Instant,
        answer: mpsc::Receiver<Result<(), String>>,
    },
    /// Activated, at this `changed_at` of its record.
    Active { changed_at: i64 },
    /// Refused activation at this `changed_at`, at this time.
    Faulted { changed_at: i64, at: Instant },
}

/// The plugins the service holds active, published after every poll for
/// the admin page (which runs jobs by hand only in a plugin held active).
#[derive(Clone, Default)]
pub struct ActivePlugins(Arc<Mutex<HashSet<String>>>);

impl ActivePlugins {
    pub fn contains(&self, id: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }

    fn publish(&self, held: &HashMap<String, Held>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = held
            .iter()
            .filter(|(_, state)| matches!(state, Held::Active { .. }))
            .map(|(id, _)| id.clone())
            .collect();
    }
}

pub fn serve(
    host: &Host,
    shutdown: &Arc<AtomicBool>,
    published: &ActivePlugins,
    webhooks: &Webhooks,
) -> anyhow::Result<()> {
    tracing::info!(
        loaded = host.plugins.loaded.len(),
        refused = host.plugins.refused.len(),
        "plugin host serving"
    );
    for refused in &host.plugins.refused {
        tracing::warn!("{}", refused.line());
    }
    let mut held: HashMap<String, Held> = HashMap::new();
    let triggers = Triggers {
        webhooks: webhooks.clone(),
        feed_wakes: FeedWakes::default(),
    };
    let mut scheduler = Scheduler::new(host, webhooks.clone(), triggers.feed_wakes.clone());
    let mut daily_prune = DailyPrune::default();
    while !shutdown.load(Ordering::SeqCst) {
        if let Err(e) = daily_prune.tick(&host.core) {
            tracing::error!("cannot start the daily prune: {e:#}");
        }
        if let Err(e) = host.close_orphaned_runs() {
            tracing::error!("cannot close the runs of ended processes: {e:#}");
        }
        if let Err(e) = host.pick_up_instances() {
            tracing::error!("cannot read the plugin instances: {e:#}");
        }
        if let Err(e) = reconcile(host, &mut held, &mut scheduler, &triggers) {
            tracing::error!("cannot read plugin states: {e:#}");
        }
        published.publish(&held);
        triggers.keep_only(&held);
        let turn_at = host.core.clock.now_ms();
        let pause = match scheduler.start_due_runs(host, active_ids(&held)) {
            Ok(next) => next.map_or(POLL, |at| until(host, at).min(POLL)),
            Err(e) => {
                tracing::error!("cannot schedule runs: {e:#}");
                POLL
            }
        };
        // A run the feed woke and not yet started (its instance busy) keeps
        // the turn from settling: the store's count is not yet the truth.
        let busy = scheduler.is_busy()
            || scheduler.owes_runs()
            || held.values().any(|h| matches!(h, Held::Activating { .. }));
        if !busy {
            host.core.clock.report_settled(turn_at);
        }
        host.core.clock.wait(pause, busy);
    }
    published.publish(&HashMap::new());
    triggers.keep_only(&HashMap::new());
    tracing::info!("stopping: asking running jobs to stop, then deactivating plugins");
    scheduler.stop_all(host);
    // What did not stop in time ends with the service: interrupted, not
    // failed by its plugin process ending.
    let interrupted = host.core.db.interrupt_runs_of(
        std::process::id(),
        process_owner::current(),
        "the service stopped",
        host.core.clock.now_ms(),
    )?;
    if interrupted > 0 {
        tracing::warn!(
            runs = interrupted,
            "runs still going are recorded as interrupted"
        );
    }
    for (id, state) in &held {
        if let (Held::Active { .. }, Some(plugin)) = (state, host.find(id))
            && let Err(e) = host.deactivate(plugin)
        {
            tracing::warn!(plugin = %id, "deactivation failed: {e}");
        }
    }
    Ok(())
}

/// Brings the plugins this process holds in line with the admin's wishes.
fn reconcile(
    host: &Host,
    held: &mut HashMap<String, Held>,
    scheduler: &mut Scheduler,
    triggers: &Triggers,
) -> anyhow::Result<()> {
    for record in host.core.db.plugins()? {
        let Some(plugin) = host.find(&record.id) else {
            continue;
        };
        let id = &record.id;
        if let Some(Held::Activating { .. }) = held.get(id) {
            settle_activation(host, id, held, triggers)?;
        }
        let wanted = record.enabled;
        let stale = match held.get(id) {
            // An activation under way is settled first; then it is judged.
            Some(Held::Activating { .. }) => continue,
            // Faulted while active (its process died too often): held no more.
            Some(Held::Active { changed_at }) => {
                *changed_at != record.changed_at || record.fault.is_some()
            }
            Some(Held::Faulted { changed_at, at }) => {
                *changed_at != record.changed_at || at.elapsed() >= RETRY_FAULTED
            }
            None => true,
        };
        if matches!(held.get(id), Some(Held::Active { .. })) && (!wanted || stale) {
            scheduler.stop_plugin(host, id);
            match host.deactivate(plugin) {
                Ok(()) => tracing::info!(plugin = %id, "deactivated"),
                Err(e) => tracing::warn!(plugin = %id, "deactivation failed: {e}"),
            }
            held.remove(id);
        }
        if !wanted {
            held.remove(id);
            continue;
        }
        if !stale && held.contains_key(id) {
            continue;
        }
        let state = match host.start_activation(plugin) {
            Ok(answer) => Held::Activating {
                changed_at: record.changed_at,
                since: Instant::now(),
                answer,
            },
            Err(reason) => fault(host, id, record.changed_at, &reason)?,
        };
        held.insert(id.clone(), state);
        settle_activation(host, id, held, triggers)?;
    }
    Ok(())
}

/// Takes the answer of an activation under way, if it has come or its
/// deadline has passed.
fn settle_activation(
    host: &Host,
    id: &str,
    held: &mut HashMap<String, Held>,
    triggers: &Triggers,
) -> anyhow::Result<()> {
    let Some(Held::Activating {
        changed_at,
        since,
        answer,
    }) = held.get(id)
    else {
        return Ok(());
    };
    let changed_at = *changed_at;
    let deadline = host.job_deadline(id);
    let outcome = match answer.try_recv() {
        Ok(outcome) => outcome,
        Err(mpsc::TryRecvError::Empty) if since.elapsed() < deadline => return Ok(()),
        Err(mpsc::TryRecvError::Empty) => {
            if let Some(process) = host.find(id).and_then(|p| p.process.as_ref()) {
                process.kill("its activation did not finish in time");
            }
            Err(activation_too_slow(deadline))
        }
        Err(mpsc::TryRecvError::Disconnected) => Err("activation ended without an answer".into()),
    };
    let state = match outcome {
        Ok(()) => {
            tracing::info!(plugin = %id, "activated");
            host.core.db.set_plugin_fault(id, None)?;
            triggers.feed_wakes.activated(id, host.core.db.feed_end()?);
            ask_triggers(host, id, triggers);
            Held::Active { changed_at }
        }
        Err(reason) => fault(host, id, changed_at, &reason)?,
    };
    held.insert(id.to_string(), state);
    Ok(())
}

/// The plugins held active.
fn active_ids(held: &HashMap<String, Held>) -> impl Iterator<Item = &str> {
    held.iter()
        .filter(|(_, state)| matches!(state, Held::Active { .. }))
        .map(|(id, _)| id.as_str())
}

/// What may start a run of an active plugin besides its schedule.
struct Triggers {
    webhooks: Webhooks,
    feed_wakes: FeedWakes,
}

impl Triggers {
    /// Forgets the triggers of every plugin not held active.
    fn keep_only(&self, held: &HashMap<String, Held>) {
        self.webhooks.keep_only(active_ids(held));
        self.feed_wakes.keep_only(active_ids(held));
    }
}

/// Asks a plugin just activated which webhooks it accepts and which
/// change-feed events wake its jobs, on its own thread so a slow answer
/// holds up no other plugin; deliveries to it are refused, and the feed
/// wakes nothing of it, until the answers are in (events meanwhile wake
/// it then).
fn ask_triggers(host: &Host, id: &str, triggers: &Triggers) {
    let Some(plugin) = host.plugins.get(id).cloned() else {
        return;
    };
    let instance = id.to_owned();
    let (webhooks, feed_wakes) = (triggers.webhooks.clone(), triggers.feed_wakes.clone());
    let asked = std::thread::Builder::new()
        .name(format!("triggers {id}"))
        .spawn(move || {
            let id = instance;
            match hooks::ask(&plugin) {
                Ok(spec) => {
                    if let Some(spec) = &spec {
                        tracing::info!(plugin = %id, job = %spec.job, "accepting webhooks at /hooks/{id}");
                    }
                    webhooks.accept(&id, spec, Instant::now());
                }
                Err(e) => tracing::warn!(plugin = %id, "webhooks refused: {e}"),
            }
            match feed_wakes::ask(&plugin) {
                Ok(wakes) => {
                    for wake in &wakes {
                        tracing::info!(plugin = %id, job = %wake.job, kinds = ?wake.kinds, "runs the job when the change feed has events of these kinds");
                    }
                    feed_wakes.accept(&id, wakes);
                }
                Err(e) => {
                    tracing::warn!(plugin = %id, "feed wakes refused: {e}");
                    feed_wakes.accept(&id, Vec::new());
                }
            }
        });
    if let Err(e) = asked {
        tracing::error!("cannot start a thread: {e}");
        triggers.feed_wakes.accept(id, Vec::new());
    }
}

/// Records why a plugin could not be activated (unless the admin changed
/// it meanwhile: the next poll acts on that change).
fn fault(host: &Host, id: &str, changed_at: i64, reason: &str) -> anyhow::Result<Held> {
    tracing::error!(plugin = %id, "activation refused: {reason}");
    host.core.db.set_activation_fault(id, reason, changed_at)?;
    Ok(Held::Faulted {
        changed_at,
        at: Instant::now(),
    })
}

/// How long until the host's clock shows `at`, at least [`MIN_PAUSE`].
fn until(host: &Host, at: jiff::Timestamp) -> Duration {
    let ms = at.as_millisecond() - host.core.clock.now_ms();
    Duration::from_millis(u64::try_from(ms).unwrap_or(0)).max(MIN_PAUSE)
}
