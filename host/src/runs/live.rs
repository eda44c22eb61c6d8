//! The runs going on in this process, by their recorded run id: when each
//! started, how far it has got (every step its plugin reported, such as
//! listing pages read and records imported, each with its own count and a
//! total only when the plugin knew one), and its cancellation flag with who
//! set it. The runner enters a run when its job starts and takes it out
//! once the run is recorded; the admin page reads it to show progress and
//! to cancel a run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use plugin_api::protocol::Progress;

/// The most steps kept of one run (a plugin naming a new step with every
/// report keeps its latest ones only).
const MAX_STEPS: usize = 8;

/// The runs going on in this process; cheap to clone, shared.
#[derive(Clone, Default)]
pub struct LiveRuns(Arc<Mutex<HashMap<i64, Live>>>);

struct Live {
    started: Instant,
    steps: Vec<Step>,
    cancel: Arc<AtomicBool>,
    cancelled_by: Option<String>,
}

/// One step of a run as its plugin last reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub message: String,
    pub done: u64,
    pub total: Option<u64>,
    /// How long after the run's start the step was first reported.
    pub began: Duration,
}

/// A run going on, as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveView {
    pub elapsed: Duration,
    /// Oldest first; the last is the step under way.
    pub steps: Vec<Step>,
    /// Who asked it to stop, if someone did.
    pub cancelled_by: Option<String>,
}

/// Why a run could not be cancelled.
#[derive(Debug, PartialEq, Eq)]
pub enum NotCancelled {
    /// It is not going on in this process (ended, or run by another one).
    NotHere,
    /// Someone asked already.
    Already(String),
}

impl LiveRuns {
    fn runs(&self) -> MutexGuard<'_, HashMap<i64, Live>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enters run `run_id`, stopped through `cancel`, until the returned
    /// guard is dropped.
    pub fn enter(&self, run_id: i64, cancel: Arc<AtomicBool>) -> Entered {
        self.runs().insert(
            run_id,
            Live {
                started: Instant::now(),
                steps: Vec::new(),
                cancel,
                cancelled_by: None,
            },
        );
        Entered {
            runs: self.clone(),
            run_id,
        }
    }

    /// Notes what the run reported.
    pub fn progress(&self, run_id: i64, progress: &Progress) {
        if let Some(live) = self.runs().get_mut(&run_id) {
            let at = live.started.elapsed();
            note_step(&mut live.steps, progress, at);
        }
    }

    pub fn view(&self, run_id: i64) -> Option<LiveView> {
        self.runs().get(&run_id).map(|live| LiveView {
            elapsed: live.started.elapsed(),
            steps: live.steps.clone(),
            cancelled_by: live.cancelled_by.clone(),
        })
    }

    /// Sets the run's cancellation flag, noting `by` as who asked.
    pub fn cancel(&self, run_id: i64, by: &str) -> Result<(), NotCancelled> {
        let mut runs = self.runs();
        let live = runs.get_mut(&run_id).ok_or(NotCancelled::NotHere)?;
        if let Some(earlier) = &live.cancelled_by {
            return Err(NotCancelled::Already(earlier.clone()));
        }
        live.cancelled_by = Some(by.to_owned());
        live.cancel.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// A run entered in [`LiveRuns`]; dropping it takes the run out.
pub struct Entered {
    runs: LiveRuns,
    run_id: i64,
}

impl Entered {
    /// Who cancelled the run, if someone did.
    pub fn cancelled_by(&self) -> Option<String> {
        self.runs
            .runs()
            .get(&self.run_id)
            .and_then(|live| live.cancelled_by.clone())
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        self.runs.runs().remove(&self.run_id);
    }
}

/// Updates the step `progress` names, or adds it as the step under way,
/// `at` after the run's start.
fn note_step(steps: &mut Vec<Step>, progress: &Progress, at: Duration) {
    match steps.iter_mut().find(|s| s.message == progress.message) {
        Some(known) => {
            known.done = progress.done;
            known.total = progress.total;
        }
        None => {
            let step = Step {
                message: progress.message.clone(),
                done: progress.done,
                total: progress.total,
                began: at,
            };
            if steps.len() == MAX_STEPS {
                steps.remove(0);
            }
            steps.push(step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(message: &str, done: u64, total: Option<u64>) -> Progress {
        Progress {
            done,
            total,
            message: message.into(),
        }
    }

    #[test]
    fn each_step_keeps_its_own_count_and_a_cancel_sets_the_flag_once() {
        let live = LiveRuns::default();
        let flag = Arc::new(AtomicBool::new(false));
        let entered = live.enter(7, flag.clone());
        live.progress(7, &progress("pages read", 1, Some(4)));
        live.progress(7, &progress("pages read", 4, Some(4)));
        live.progress(7, &progress("products imported", 100, None));
        let view = live.view(7).unwrap();
        let steps: Vec<(&str, u64, Option<u64>)> = view
            .steps
            .iter()
            .map(|s| (s.message.as_str(), s.done, s.total))
            .collect();
        assert_eq!(
            steps,
            vec![("pages read", 4, Some(4)), ("products imported", 100, None)]
        );
        assert!(view.steps[0].began <= view.steps[1].began);
        assert_eq!(live.cancel(8, "web:ann"), Err(NotCancelled::NotHere));
        assert_eq!(live.cancel(7, "web:ann"), Ok(()));
        assert!(flag.load(Ordering::SeqCst));
        assert_eq!(
            live.cancel(7, "web:bob"),
            Err(NotCancelled::Already("web:ann".into()))
        );
        assert_eq!(entered.cancelled_by().as_deref(), Some("web:ann"));
        drop(entered);
        assert!(live.view(7).is_none());
    }

    #[test]
    fn only_the_latest_steps_are_kept() {
        let mut steps = Vec::new();
        for n in 0..20 {
            note_step(
                &mut steps,
                &progress(&format!("step {n}"), n, None),
                Duration::from_secs(n),
            );
        }
        assert_eq!(steps.len(), MAX_STEPS);
        assert_eq!(steps[MAX_STEPS - 1].message, "step 19");
    }
}
