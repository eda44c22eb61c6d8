//! What a plugin tells the host about change-feed events that should run
//! one of its jobs soon (API 1.6).
//!
//! A job that follows the warehouse (a push of stock counts to a store)
//! reads the change feed when its schedule runs it. Some events cannot
//! wait for that: another store's order taking shared stock leaves this
//! store offering units that are gone until the job runs. The plugin says,
//! after each activation ([`crate::Plugin::feed_wakes`]), which events wake
//! which job; the host then looks at the feed on every turn of its service
//! loop and runs the job soon after such an event is appended, whatever
//! its schedule says. As with webhooks, a wake is only a trigger: the job
//! reads the feed after its own cursor as it always does.

use serde::{Deserialize, Serialize};

/// "Run `job` soon when change-feed events of these `kinds`, visible to
/// this instance and not of its own orders, are appended."
///
/// The kinds are the feed's wire names: those of
/// [`crate::warehouse::ChangeKind`] (`pick-recorded`, `shipment-recorded`,
/// `inventory-adjusted`, `inventory-received`, `order-cancelled`) and the
/// host's own (`item-created`, `item-deactivated`, `order-allocation`; see
/// [`crate::warehouse::ChangeKind::Other`]). An event counts when the
/// instance would read it with `db.changes.after`, except an event of one
/// of the instance's own orders: the instance made that change itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedWake {
    /// The job to run (one of the manifest's jobs).
    pub job: String,
    /// The event kinds that wake it (at least one).
    pub kinds: Vec<String>,
}

impl FeedWake {
    /// Events of any of `kinds` wake `job`.
    pub fn new(job: &str, kinds: &[&str]) -> Self {
        Self {
            job: job.into(),
            kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        }
    }
}
