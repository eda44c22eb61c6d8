//! How far the change feed may be pruned: the rule, pure.
//!
//! Every plugin instance that has ever read the feed (`db.changes.after`)
//! is a reader; each reader names its consumers as it acknowledges them
//! (`db.changes.ack`, plugin API 1.5: the WooCommerce plugin's export and
//! stock push are two consumers of one instance). An event may go only
//! when every consumer of every reader has acknowledged past it; a reader
//! that never acknowledged (a plugin built on an API before 1.5 keeps its
//! cursor to itself) holds the whole feed. Age and parked events are the
//! pruning's other conditions, applied beside this one.

use serde::Serialize;

/// One plugin instance that has read the feed, with its consumers'
/// acknowledgements: (consumer, every event up to this sequence number done).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedReader {
    pub plugin: String,
    pub acks: Vec<(String, i64)>,
}

/// How far the feed may go, and who decides it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum FeedHorizon {
    /// No plugin instance has read the feed: age alone decides.
    Unread,
    /// Every consumer has acknowledged the events up to `seq`; `plugin`'s
    /// `consumer` is the one furthest behind.
    Acknowledged {
        seq: i64,
        plugin: String,
        consumer: String,
    },
    /// `plugin` reads the feed but has never acknowledged it: nothing goes.
    Held { plugin: String },
}

impl FeedHorizon {
    /// The rule: the least acknowledgement of every reader's consumers, or
    /// nothing at all while a reader has acknowledged none.
    pub fn of(readers: &[FeedReader]) -> Self {
        if let Some(silent) = readers.iter().find(|r| r.acks.is_empty()) {
            return Self::Held {
                plugin: silent.plugin.clone(),
            };
        }
        readers
            .iter()
            .flat_map(|r| r.acks.iter().map(move |(c, seq)| (*seq, &r.plugin, c)))
            .min()
            .map_or(Self::Unread, |(seq, plugin, consumer)| Self::Acknowledged {
                seq,
                plugin: plugin.clone(),
                consumer: consumer.clone(),
            })
    }

    /// The last sequence number that may go (age and parking permitting);
    /// `None`: none may.
    pub fn last_prunable(&self) -> Option<i64> {
        match self {
            Self::Unread => Some(i64::MAX),
            Self::Acknowledged { seq, .. } => Some(*seq),
            Self::Held { .. } => None,
        }
    }
}

impl std::fmt::Display for FeedHorizon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unread => write!(
                f,
                "no plugin instance has read the change feed: events older than the retention may go"
            ),
            Self::Acknowledged {
                seq,
                plugin,
                consumer,
            } => write!(
                f,
                "events up to #{seq} are acknowledged by every consumer; {plugin} ({consumer}) is furthest behind and holds the rest"
            ),
            Self::Held { plugin } => write!(
                f,
                "{plugin} reads the change feed but has never acknowledged it (a plugin built on plugin API before 1.5 keeps its cursor to itself): it holds the whole feed, no event goes"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(plugin: &str, acks: &[(&str, i64)]) -> FeedReader {
        FeedReader {
            plugin: plugin.into(),
            acks: acks.iter().map(|(c, s)| ((*c).into(), *s)).collect(),
        }
    }

    #[test]
    fn nobody_reading_leaves_age_alone_to_decide() {
        assert_eq!(FeedHorizon::of(&[]), FeedHorizon::Unread);
        assert_eq!(FeedHorizon::Unread.last_prunable(), Some(i64::MAX));
    }

    #[test]
    fn the_consumer_furthest_behind_sets_the_horizon() {
        let horizon = FeedHorizon::of(&[
            reader("woocommerce", &[("export", 40), ("push_stock", 95)]),
            reader("woocommerce:at", &[("export", 70), ("push_stock", 12)]),
        ]);
        assert_eq!(
            horizon,
            FeedHorizon::Acknowledged {
                seq: 12,
                plugin: "woocommerce:at".into(),
                consumer: "push_stock".into()
            }
        );
        assert_eq!(horizon.last_prunable(), Some(12));
        assert!(horizon.to_string().contains("woocommerce:at (push_stock)"));
    }

    #[test]
    fn a_reader_that_never_acknowledged_holds_everything() {
        let horizon = FeedHorizon::of(&[
            reader("woocommerce", &[("export", 500)]),
            reader("sample-source", &[]),
        ]);
        assert_eq!(
            horizon,
            FeedHorizon::Held {
                plugin: "sample-source".into()
            }
        );
        assert_eq!(horizon.last_prunable(), None);
        assert!(
            horizon
                .to_string()
                .contains("sample-source reads the change feed but has never acknowledged it")
        );
    }
}
