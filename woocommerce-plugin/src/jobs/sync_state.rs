//! How far each import has synced, kept in the plugin's state and moved
//! only in the transaction of the data it covers.

use jiff::{SignedDuration, Timestamp};
use plugin_api::warehouse::StateChange;
use serde::{Deserialize, Serialize};

/// Re-read this much before the watermark: a record WooCommerce stamped
/// just before a listing began but wrote a moment later is still seen.
pub const OVERLAP: SignedDuration = SignedDuration::from_mins(1);

/// How far a listing has been imported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// The store's time when the last complete listing began (its `Date`
    /// header; never the host's clock), else the newest
    /// `date_modified_gmt` imported.
    pub watermark: Option<Timestamp>,
    /// When the last full walk finished (host clock, ms).
    #[serde(default)]
    pub last_full_ms: Option<i64>,
    /// The statuses the watermark covers (orders only).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Records that could not be imported, read again by id on every run
    /// until they are (the watermark has moved past them).
    #[serde(default)]
    pub retry: Vec<u64>,
    /// Orders imported with lines the warehouse cannot ship: read again on
    /// every run (quietly), so a line whose product became an item ships.
    #[serde(default)]
    pub unshippable: Vec<u64>,
    /// The import rules the last walk followed; when the admin changes
    /// them, records left out before are read again (a full walk).
    #[serde(default)]
    pub rules: String,
}

impl SyncState {
    /// Where the next incremental listing starts.
    pub fn modified_after(&self) -> Option<Timestamp> {
        self.watermark.map(|w| w - OVERLAP)
    }

    pub fn change(&self, key: &str) -> StateChange {
        StateChange {
            key: key.to_owned(),
            value: Some(serde_json::to_value(self).expect("sync state serializes")),
        }
    }
}

/// The watermark after a complete listing the store began serving at
/// `started_at` (by its own clock): everything modified before then was
/// read, so the next run asks only for what changed since (a record
/// changed while the pages were read is read again). Without the store's
/// time, the newest record read. Never backwards: after a bulk edit the
/// watermark moves past it, and the next run does not read it again.
pub fn advance(
    previous: Option<Timestamp>,
    newest: Option<Timestamp>,
    started_at: Option<Timestamp>,
) -> Option<Timestamp> {
    let candidate = started_at.or(newest);
    match (previous, candidate) {
        (Some(p), Some(c)) => Some(p.max(c)),
        (p, c) => c.or(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_watermark_is_the_stores_time_when_a_complete_listing_began() {
        let a = t("2026-11-26T10:00:00Z");
        let b = t("2026-11-26T11:00:00Z");
        let start = t("2026-11-26T10:30:00Z");
        // A bulk edit at `a`, read in a listing that began at `start`:
        // the watermark is the listing's start, not the newest record.
        assert_eq!(advance(None, Some(a), Some(start)), Some(start));
        assert_eq!(
            advance(Some(a), None, Some(start)),
            Some(start),
            "nothing changed"
        );
        assert_eq!(
            advance(None, Some(a), None),
            Some(a),
            "no store time: the newest"
        );
        assert_eq!(
            advance(Some(b), Some(a), Some(start)),
            Some(b),
            "never backwards"
        );
        assert_eq!(advance(None, None, None), None);
        let state = SyncState {
            watermark: Some(b),
            ..SyncState::default()
        };
        assert_eq!(state.modified_after(), Some(t("2026-11-26T10:59:00Z")));
    }
}
