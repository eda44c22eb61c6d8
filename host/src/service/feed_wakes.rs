//! Feed wakes as triggers (plugin API 1.6): which active plugin instances
//! have a job woken by change-feed events (the [`FeedWake`]s each answered
//! after its activation), where each last looked at the feed, and the
//! runs the events seen since owe.
//!
//! Two stores sharing warehouse items share their stock: an order one
//! store imports takes units the other store offers too. The other store's
//! stock push reads that from the feed, but its schedule runs it only every
//! Sync Interval inside the Sync Time Range, and an import after its End of
//! Day would leave it offering sold units until the next morning. So on
//! every turn of the service loop the host looks, with one query per
//! instance that has wakes ([`intellitrack_db::Db::kinds_woken_after`]),
//! at the events appended since it last looked that the instance sees and
//! that are not of its own orders; a wake whose kinds are among them owes
//! one run of its job. The scheduler starts it like a webhook's run: not
//! part of the job's schedule history, one run of the instance at a time
//! (events during a run owe one more run afterwards), and whatever the
//! Sync Time Range, because it answers a sale that already happened
//! elsewhere, and a job that follows the feed writes only what differs.
//! No debounce: the import that appended the events has committed.
//!
//! An instance starts looking from where the feed ended at its activation:
//! older events wake nothing (the schedule's catch-up covers them). The
//! rules ([`check`], [`woken_jobs`]) are pure; the registry is shared
//! between the service loop and the thread asking a plugin for its wakes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use intellitrack_db::{Db, is_feed_kind};
use plugin_api::protocol::WakeOnFeed;
use plugin_api::{FeedWake, Manifest};

use crate::plugins::loader::LoadedPlugin;

/// One active instance's wakes and where it last looked.
#[derive(Default)]
struct Watch {
    /// `None` until the plugin's answer is in.
    wakes: Option<Vec<FeedWake>>,
    /// Every event up to this sequence number has been looked at.
    seen: i64,
    /// Jobs owed a run, in the order they were woken.
    owed: Vec<String>,
}

/// The instances with feed wakes, shared by the service loop and the
/// threads asking plugins after their activation.
#[derive(Clone, Default)]
pub struct FeedWakes(Arc<Mutex<HashMap<String, Watch>>>);

impl FeedWakes {
    fn watches(&self) -> MutexGuard<'_, HashMap<String, Watch>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `instance` was activated when the feed ended at `feed_end`: it looks
    /// from there, with no wakes until its answer is in.
    pub fn activated(&self, instance: &str, feed_end: i64) {
        self.watches().insert(
            instance.to_owned(),
            Watch {
                seen: feed_end,
                ..Watch::default()
            },
        );
    }

    /// Records what `instance` answered after its activation (none when
    /// its answer was refused).
    pub fn accept(&self, instance: &str, wakes: Vec<FeedWake>) {
        if let Some(watch) = self.watches().get_mut(instance) {
            watch.wakes = Some(wakes);
        }
    }

    /// Forgets every instance not in `active` (deactivated, faulted), and
    /// the runs it was owed.
    pub fn keep_only<'a>(&self, active: impl IntoIterator<Item = &'a str>) {
        let active: HashSet<&str> = active.into_iter().collect();
        self.watches().retain(|id, _| active.contains(id.as_str()));
    }

    /// Looks at the feed for every instance with wakes: the jobs the events
    /// since its last look wake are owed a run.
    pub fn look(&self, db: &Db) {
        let asks: Vec<(String, i64, Vec<String>)> = self
            .watches()
            .iter()
            .filter_map(|(id, w)| {
                let wakes = w.wakes.as_deref().filter(|wakes| !wakes.is_empty())?;
                Some((id.clone(), w.seen, kinds_of(wakes)))
            })
            .collect();
        for (id, seen, kinds) in asks {
            let glance = match db.kinds_woken_after(&id, seen, &kinds) {
                Ok(glance) => glance,
                Err(e) => {
                    tracing::error!(plugin = %id, "cannot look at the change feed: {e:#}");
                    continue;
                }
            };
            let mut watches = self.watches();
            // Activated again meanwhile: it looks from its new start.
            let Some(watch) = watches.get_mut(&id).filter(|w| w.seen == seen) else {
                continue;
            };
            watch.seen = glance.end;
            let wakes = watch.wakes.as_deref().unwrap_or_default();
            for job in woken_jobs(wakes, &glance.woken) {
                if !watch.owed.iter().any(|owed| owed == job) {
                    tracing::debug!(plugin = %id, job, "woken by the change feed");
                    watch.owed.push(job.to_owned());
                }
            }
        }
    }

    /// The job owed a run for `instance` first, if any; it stays owed until
    /// [`FeedWakes::started`].
    pub fn due_job(&self, instance: &str) -> Option<String> {
        self.watches().get(instance)?.owed.first().cloned()
    }

    /// A run of `instance`'s `job` started (whatever started it): the
    /// events so far are its to read.
    pub fn started(&self, instance: &str, job: &str) {
        if let Some(watch) = self.watches().get_mut(instance) {
            watch.owed.retain(|owed| owed != job);
        }
    }

    /// A woken run of `instance`'s `job` was refused at its start: it is
    /// owed again, and tried on the next turn.
    pub fn owe(&self, instance: &str, job: &str) {
        if let Some(watch) = self.watches().get_mut(instance)
            && !watch.owed.iter().any(|owed| owed == job)
        {
            watch.owed.push(job.to_owned());
        }
    }

    /// Whether some instance is owed a run not yet started, or may be: its
    /// answer is not in yet, so the feed since its activation is unread.
    pub fn owes_runs(&self) -> bool {
        self.watches()
            .values()
            .any(|w| !w.owed.is_empty() || w.wakes.is_none())
    }
}

/// Every kind any of `wakes` names, once.
fn kinds_of(wakes: &[FeedWake]) -> Vec<String> {
    let kinds: BTreeSet<&String> = wakes.iter().flat_map(|w| &w.kinds).collect();
    kinds.into_iter().cloned().collect()
}

/// The jobs of `wakes` that events of the kinds `woken` wake, in the
/// wakes' order.
pub fn woken_jobs<'a>(wakes: &'a [FeedWake], woken: &BTreeSet<String>) -> Vec<&'a str> {
    wakes
        .iter()
        .filter(|w| w.kinds.iter().any(|k| woken.contains(k)))
        .map(|w| w.job.as_str())
        .collect()
}

/// Checks a plugin's wakes against its manifest: each wakes one of its
/// jobs, on at least one kind, each a kind the feed carries.
pub fn check(manifest: &Manifest, wakes: &[FeedWake]) -> Result<(), String> {
    for wake in wakes {
        if manifest.job(&wake.job).is_none() {
            return Err(format!(
                "its feed wakes run job {:?}, which it does not declare",
                wake.job
            ));
        }
        if wake.kinds.is_empty() {
            return Err(format!(
                "its feed wake of job {:?} names no event kind",
                wake.job
            ));
        }
        if let Some(kind) = wake.kinds.iter().find(|k| !is_feed_kind(k)) {
            return Err(format!(
                "its feed wake of job {:?} names {kind:?}, which is not a kind of change-feed event",
                wake.job
            ));
        }
    }
    Ok(())
}

/// Asks an active plugin of API 1.6 or later which change-feed events wake
/// its jobs, checked by [`check`]; none for an older plugin.
pub fn ask(plugin: &LoadedPlugin) -> Result<Vec<FeedWake>, String> {
    let wakes = plugin
        .ask::<WakeOnFeed>("which change-feed events wake its jobs")?
        .unwrap_or_default();
    check(&plugin.manifest, &wakes)?;
    Ok(wakes)
}

#[cfg(test)]
mod tests {
    use plugin_api::{JobSpec, ScheduleKind};

    use super::*;

    fn push_on_allocation() -> FeedWake {
        FeedWake::new("push-stock", &["order-allocation"])
    }

    fn manifest() -> Manifest {
        let job = |id: &str| JobSpec {
            id: id.into(),
            title: id.into(),
            description: String::new(),
            schedule: ScheduleKind::SyncInterval,
        };
        Manifest {
            id: "shop".into(),
            name: "Shop".into(),
            version: "1.0.0".into(),
            description: String::new(),
            feature: "shop".into(),
            api_version: plugin_api::API_VERSION,
            settings: Vec::new(),
            jobs: vec![job("import-orders"), job("push-stock")],
        }
    }

    #[test]
    fn a_wake_owes_its_job_when_one_of_its_kinds_was_seen() {
        let wakes = [
            push_on_allocation(),
            FeedWake::new("import-orders", &["order-cancelled", "pick-recorded"]),
        ];
        let seen = |kinds: &[&str]| kinds.iter().map(|k| (*k).to_owned()).collect();
        assert_eq!(
            woken_jobs(&wakes, &seen(&["order-allocation"])),
            ["push-stock"]
        );
        assert_eq!(
            woken_jobs(&wakes, &seen(&["pick-recorded", "order-allocation"])),
            ["push-stock", "import-orders"]
        );
        assert!(woken_jobs(&wakes, &seen(&[])).is_empty());
        assert_eq!(
            kinds_of(&wakes),
            ["order-allocation", "order-cancelled", "pick-recorded"]
        );
    }

    #[test]
    fn a_plugin_wakes_only_its_own_jobs_on_kinds_the_feed_carries() {
        let manifest = manifest();
        assert_eq!(check(&manifest, &[push_on_allocation()]), Ok(()));
        assert_eq!(check(&manifest, &[]), Ok(()));
        assert_eq!(
            check(
                &manifest,
                &[FeedWake::new("end-of-day", &["order-allocation"])]
            ),
            Err("its feed wakes run job \"end-of-day\", which it does not declare".to_owned())
        );
        assert_eq!(
            check(&manifest, &[FeedWake::new("push-stock", &[])]),
            Err("its feed wake of job \"push-stock\" names no event kind".to_owned())
        );
        let unknown = check(&manifest, &[FeedWake::new("push-stock", &["order-placed"])]);
        assert!(
            unknown
                .as_ref()
                .is_err_and(|e| e.contains("\"order-placed\"")),
            "{unknown:?}"
        );
    }

    #[test]
    fn an_owed_run_stays_until_a_run_of_its_job_starts() {
        let feed = FeedWakes::default();
        feed.activated("shop", 10);
        // Until its answer is in, it may owe runs.
        assert!(feed.owes_runs());
        feed.accept("shop", vec![push_on_allocation()]);
        assert!(!feed.owes_runs());
        feed.owe("shop", "push-stock");
        feed.owe("shop", "push-stock");
        assert_eq!(feed.due_job("shop").as_deref(), Some("push-stock"));
        assert!(feed.owes_runs());
        // Another job starting covers nothing.
        feed.started("shop", "import-orders");
        assert_eq!(feed.due_job("shop").as_deref(), Some("push-stock"));
        feed.started("shop", "push-stock");
        assert_eq!(feed.due_job("shop"), None);
        assert!(!feed.owes_runs());
        // Owed, then deactivated: forgotten with the instance.
        feed.owe("shop", "push-stock");
        feed.keep_only(["other"]);
        assert_eq!(feed.due_job("shop"), None);
        assert!(!feed.owes_runs());
        // An instance not activated here is owed nothing.
        feed.owe("shop", "push-stock");
        assert!(!feed.owes_runs());
    }
}
