//! The plugin API version and the rule that decides whether a plugin fits a host.

use std::fmt;

use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

/// A `major.minor` plugin API version.
///
/// The promise: a plugin built against `1.x` loads and runs in every host
/// `1.y` with `y >= x`. A new minor version only ever adds host services and
/// plugin capabilities (named messages, see [`crate::protocol`]); it never
/// changes the frozen ABI frame in [`crate::abi`].
#[repr(C)]
#[derive(
    StableAbi, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ApiVersion {
    pub major: u16,
    pub minor: u16,
}

/// The version of the API this crate describes.
///
/// | version | added |
/// |---|---|
/// | 1.0 | manifest, activate / run job / deactivate, settings, credentials, state, log, clock, cancellation, progress |
/// | 1.1 | host service `run.record_issue`; the DB handle: `db.items.find`, `db.quantities`, `db.orders.find`, `db.batch.apply`, `db.changes.after`; plugin capability `settings.validate` |
/// | 1.2 | host services `db.import.apply` (an import with opening stock, the store's own stock reductions, lines without a warehouse item, and per-record refusals); `db.changes.park`, `db.changes.unpark`, `db.changes.retries` (parked change-feed events); `run.options` (dry run, force) and `run.table` |
/// | 1.3 | host services `db.items.stock_basis` and `db.orders.annotate` |
/// | 1.4 | host services `run.counts` (what a run has done so far) and `credential.put` (a secret the plugin made, sealed); plugin capability `webhooks.accept` ([`crate::WebhookSpec`]: signed deliveries to `POST /hooks/{instance}` trigger a job) |
/// | 1.5 | host service `db.changes.ack` (a consumer's acknowledgement of the change feed, so the host may prune what every reader is done with) |
/// | 1.6 | plugin capability `feed.wakes` ([`crate::FeedWake`]: change-feed events of given kinds run a job soon, outside its schedule) |
pub const API_VERSION: ApiVersion = ApiVersion::new(1, 6);

impl ApiVersion {
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// Packs the version into one `u32` (major in the high half), the form of
    /// the exported `intellitrack_plugin_api_version` symbol.
    pub const fn packed(self) -> u32 {
        ((self.major as u32) << 16) | self.minor as u32
    }

    pub const fn unpack(packed: u32) -> Self {
        Self::new((packed >> 16) as u16, (packed & 0xffff) as u16)
    }

    /// Whether a host offering `self` can run a plugin built against `plugin`.
    pub fn can_host(self, plugin: ApiVersion) -> bool {
        self.major == plugin.major && plugin.minor <= self.minor
    }

    /// Whether something introduced in `since` is available at `self`.
    pub fn offers(self, since: ApiVersion) -> bool {
        self.major == since.major && since.minor <= self.minor
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_minor_hosts_older_plugins_only() {
        let host = ApiVersion::new(1, 3);
        assert!(host.can_host(ApiVersion::new(1, 0)));
        assert!(host.can_host(ApiVersion::new(1, 3)));
        assert!(!host.can_host(ApiVersion::new(1, 4)));
        assert!(!host.can_host(ApiVersion::new(2, 0)));
        assert!(!ApiVersion::new(2, 0).can_host(ApiVersion::new(1, 0)));
    }

    #[test]
    fn packing_round_trips() {
        let v = ApiVersion::new(1, 42);
        assert_eq!(ApiVersion::unpack(v.packed()), v);
        assert_eq!(v.packed(), 0x0001_002a);
    }
}
