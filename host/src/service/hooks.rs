//! Webhooks as triggers: which active plugin instances accept deliveries
//! (the [`WebhookSpec`] each answered after its activation), and the
//! deliveries waiting to become one run.
//!
//! A store sends a burst of deliveries for one change (an order created,
//! then updated twice by its payment). Each accepted delivery only marks
//! its instance as triggered; the scheduler starts the spec's job once the
//! deliveries have been quiet for [`QUIET`], or [`MAX_WAIT`] after the
//! first one while they keep coming, so a burst costs one run. The
//! scheduler still runs one run of an instance at a time: a delivery that
//! arrives while the job runs leaves a trigger for one more run afterwards
//! (the running one may have read the store before the change).
//!
//! The rule ([`Pending::is_due`]) takes the time as an argument; the
//! registry is shared between the web endpoint and the service loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plugin_api::protocol::AcceptWebhooks;
use plugin_api::{FieldKind, WebhookSpec};

use crate::plugins::loader::LoadedPlugin;

/// How long deliveries must be quiet before their run starts.
pub const QUIET: Duration = Duration::from_secs(2);
/// The longest a delivery waits for its run while more keep coming.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

/// Deliveries of one instance not yet covered by a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    first: Instant,
    last: Instant,
}

impl Pending {
    fn new(at: Instant) -> Self {
        Self {
            first: at,
            last: at,
        }
    }

    /// Whether the run for these deliveries should start at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last) >= QUIET
            || now.saturating_duration_since(self.first) >= MAX_WAIT
    }
}

#[derive(Default)]
struct Registry {
    specs: HashMap<String, WebhookSpec>,
    pending: HashMap<String, Pending>,
}

/// The instances accepting webhooks and their pending triggers, shared by
/// the web endpoint and the service loop.
#[derive(Clone, Default)]
pub struct Webhooks(Arc<Mutex<Registry>>);

impl Webhooks {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `instance` accepts, if it is active and accepts webhooks.
    pub fn spec(&self, instance: &str) -> Option<WebhookSpec> {
        self.registry().specs.get(instance).cloned()
    }

    /// Records what `instance` answered after its activation at `at`. An
    /// instance that accepts webhooks gets one run of its job as if a
    /// delivery had come: it sets up its webhooks there, and catches up
    /// with what changed while nothing listened.
    pub fn accept(&self, instance: &str, spec: Option<WebhookSpec>, at: Instant) {
        let accepting = spec.is_some();
        {
            let mut registry = self.registry();
            match spec {
                Some(spec) => registry.specs.insert(instance.to_owned(), spec),
                None => registry.specs.remove(instance),
            };
        }
        if accepting {
            self.delivered(instance, at);
        }
    }

    /// Forgets every instance not in `active` (deactivated, faulted), and
    /// its pending deliveries.
    pub fn keep_only<'a>(&self, active: impl IntoIterator<Item = &'a str>) {
        let active: std::collections::HashSet<&str> = active.into_iter().collect();
        let mut registry = self.registry();
        registry.specs.retain(|id, _| active.contains(id.as_str()));
        registry
            .pending
            .retain(|id, _| active.contains(id.as_str()));
    }

    /// Notes an accepted delivery for `instance` at `at`.
    pub fn delivered(&self, instance: &str, at: Instant) {
        self.registry()
            .pending
            .entry(instance.to_owned())
            .and_modify(|p| p.last = at)
            .or_insert_with(|| Pending::new(at));
    }

    /// The job whose run is due for `instance`'s deliveries at `now`; the
    /// trigger stays until [`Webhooks::started`].
    pub fn due_job(&self, instance: &str, now: Instant) -> Option<String> {
        let registry = self.registry();
        let pending = registry.pending.get(instance)?;
        if !pending.is_due(now) {
            return None;
        }
        registry.specs.get(instance).map(|s| s.job.clone())
    }

    /// A run of `instance`'s webhook job started: the deliveries so far are
    /// covered.
    pub fn started(&self, instance: &str) {
        self.registry().pending.remove(instance);
    }
}

/// Asks an active plugin of API 1.4 or later which webhooks it accepts,
/// and checks the answer against its manifest: the job must be one of its
/// jobs and the secret one of its secret settings.
pub fn ask(plugin: &LoadedPlugin) -> Result<Option<WebhookSpec>, String> {
    let manifest = &plugin.manifest;
    let spec = plugin
        .ask::<AcceptWebhooks>("which webhooks it accepts")?
        .flatten();
    if let Some(spec) = &spec {
        if manifest.job(&spec.job).is_none() {
            return Err(format!(
                "its webhooks trigger job {:?}, which it does not declare",
                spec.job
            ));
        }
        if manifest
            .field(&spec.secret_key)
            .is_none_or(|f| f.kind != FieldKind::Secret)
        {
            return Err(format!(
                "its webhooks are verified with {:?}, which is not one of its secret settings",
                spec.secret_key
            ));
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> WebhookSpec {
        WebhookSpec::new("import-orders", "webhook_secret", "X-Sig")
    }

    #[test]
    fn a_burst_becomes_due_once_quiet_or_after_the_longest_wait() {
        let t0 = Instant::now();
        let hooks = Webhooks::default();
        // Accepting is itself a trigger: the job runs once after activation.
        hooks.accept("shop", Some(spec()), t0);
        assert_eq!(
            hooks.due_job("shop", t0 + Duration::from_millis(1900)),
            None
        );
        // Deliveries keep coming every second: quiet never comes...
        for s in 1..10 {
            hooks.delivered("shop", t0 + Duration::from_secs(s));
            assert_eq!(hooks.due_job("shop", t0 + Duration::from_secs(s)), None);
        }
        // ... but the first has waited long enough.
        assert_eq!(
            hooks.due_job("shop", t0 + MAX_WAIT).as_deref(),
            Some("import-orders")
        );
        hooks.started("shop");
        assert_eq!(hooks.due_job("shop", t0 + Duration::from_secs(60)), None);

        hooks.delivered("shop", t0 + Duration::from_secs(60));
        assert_eq!(
            hooks
                .due_job("shop", t0 + Duration::from_secs(62))
                .as_deref(),
            Some("import-orders")
        );
    }

    #[test]
    fn an_instance_no_longer_active_or_accepting_has_no_due_run() {
        let t0 = Instant::now();
        let hooks = Webhooks::default();
        hooks.accept("shop", Some(spec()), t0);
        hooks.accept("other", Some(spec()), t0);
        hooks.keep_only(["other"]);
        assert_eq!(hooks.spec("shop"), None);
        assert_eq!(hooks.due_job("shop", t0 + QUIET), None);
        hooks.accept("other", None, t0);
        assert_eq!(hooks.due_job("other", t0 + QUIET), None);
    }
}
