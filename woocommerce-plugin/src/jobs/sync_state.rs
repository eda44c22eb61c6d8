//! How far each import has synced, kept in the plugin's state and moved
//! only in the transaction of the data it covers.

use jiff::{SignedDuration, Timestamp};
use plugin_api::warehouse::StateChange;
use serde::{Deserialize, Serialize};

/// Re-read this much before the watermark: a record WooCommerce saved
/// with an earlier time but committed later is still seen.
pub const OVERLAP: SignedDuration = SignedDuration::from_mins(10);

/// How far a listing has been imported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// The newest `date_modified_gmt` imported (never "now").
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

/// The watermark after reading records up to `newest` in a listing the
/// store began serving at `started_at`: the newest record, but never past
/// the listing's start (a record changed while the pages were read is
/// read again next time), and never backwards.
pub fn advance(
    previous: Option<Timestamp>,
    newest: Option<Timestamp>,
    started_at: Option<Timestamp>,
) -> Option<Timestamp> {
    let candidate = match (newest, started_at) {
        (Some(n), Some(s)) => Some(n.min(s)),
        (n, _) => n,
    };
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
    fn the_watermark_follows_committed_records_never_the_clock() {
        let a = t("2026-11-26T10:00:00Z");
        let b = t("2026-11-26T11:00:00Z");
        let start = t("2026-11-26T10:30:00Z");
        assert_eq!(advance(None, Some(a), Some(start)), Some(a));
        assert_eq!(advance(None, Some(b), Some(start)), Some(start));
        assert_eq!(advance(Some(b), Some(a), None), Some(b), "never backwards");
        assert_eq!(advance(Some(a), None, Some(start)), Some(a), "nothing read");
        assert_eq!(advance(None, None, Some(start)), None);
        let state = SyncState {
            watermark: Some(b),
            ..SyncState::default()
        };
        assert_eq!(state.modified_after(), Some(t("2026-11-26T10:50:00Z")));
    }
}
