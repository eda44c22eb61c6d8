//! Which of the store's webhooks are this instance's, and what to do with
//! them: keep one per topic, create what is missing, remove extras and
//! those pointing at an old address, re-enable one the store disabled.
//! Pure: the listing and the stored ids come in, the plan goes out.
//!
//! A webhook is ours when its id is one we stored, or when its name is
//! ours ([`NAME_PREFIX`]) and it delivers to our address, so webhooks left
//! by a run that crashed before storing their ids are found again.

use woo_client::Webhook;

/// The topics registered: every new order and every change of one.
pub const TOPICS: [&str; 2] = ["order.created", "order.updated"];
/// How our webhooks' names begin, in the store's webhook list.
pub const NAME_PREFIX: &str = "IntelliTrack";

/// A webhook's name in the store.
pub fn name(topic: &str) -> String {
    format!("{NAME_PREFIX} {topic}")
}

/// What to do with the store's webhooks.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Topics without a webhook of ours.
    pub create: Vec<&'static str>,
    /// Ours to set active with the current secret and address: every one
    /// kept, on the first check after an activation (the secret may have
    /// changed), else only one the store disabled.
    pub refresh: Vec<u64>,
    /// Ours the store disabled after failed deliveries (to report).
    pub disabled: Vec<Webhook>,
    /// Ours no longer wanted: a second one for a topic, or one delivering
    /// to an old address.
    pub delete: Vec<u64>,
    /// The id kept for each topic.
    pub kept: Vec<(&'static str, u64)>,
}

/// Plans the store's webhooks for deliveries to `url`. `stored` are the ids
/// kept from earlier runs; `first_check` says whether this is the first
/// check since the plugin was activated.
pub fn plan(listed: &[Webhook], url: &str, stored: &[u64], first_check: bool) -> Plan {
    let mut plan = Plan::default();
    let named_ours = |w: &Webhook| w.name.starts_with(NAME_PREFIX) && w.delivery_url == url;
    let ours: Vec<&Webhook> = listed
        .iter()
        .filter(|w| stored.contains(&w.id) || named_ours(w))
        .collect();
    for webhook in &ours {
        if webhook.delivery_url != url || !TOPICS.contains(&webhook.topic.as_str()) {
            plan.delete.push(webhook.id);
        }
    }
    for topic in TOPICS {
        let mut of_topic = ours
            .iter()
            .filter(|w| w.topic == topic && w.delivery_url == url);
        let Some(kept) = of_topic.next() else {
            plan.create.push(topic);
            continue;
        };
        plan.delete.extend(of_topic.map(|w| w.id));
        plan.kept.push((topic, kept.id));
        if kept.status == "disabled" {
            plan.disabled.push((*kept).clone());
        }
        if first_check || kept.status == "disabled" {
            plan.refresh.push(kept.id);
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://host.example.com/hooks/woocommerce";

    fn hook(id: u64, topic: &str, url: &str, status: &str) -> Webhook {
        Webhook {
            id,
            name: name(topic),
            status: status.into(),
            topic: topic.into(),
            delivery_url: url.into(),
        }
    }

    #[test]
    fn nothing_there_creates_both_topics() {
        let plan = plan(&[], URL, &[], true);
        assert_eq!(plan.create, TOPICS);
        assert!(plan.refresh.is_empty() && plan.delete.is_empty());
    }

    #[test]
    fn ours_are_reused_and_refreshed_only_on_the_first_check() {
        let listed = [
            hook(5, "order.created", URL, "active"),
            hook(6, "order.updated", URL, "active"),
            // Someone else's webhook to another address is left alone.
            Webhook {
                name: "ERP".into(),
                ..hook(7, "order.created", "https://erp.example.com/in", "active")
            },
        ];
        let first = plan(&listed, URL, &[], true);
        assert!(first.create.is_empty());
        assert_eq!(first.kept, [("order.created", 5), ("order.updated", 6)]);
        assert_eq!(first.refresh, [5, 6]);
        assert!(first.delete.is_empty());
        let later = plan(&listed, URL, &[5, 6], false);
        assert!(later.refresh.is_empty() && later.create.is_empty());
    }

    #[test]
    fn a_disabled_one_is_reported_and_enabled_again() {
        let listed = [
            hook(5, "order.created", URL, "disabled"),
            hook(6, "order.updated", URL, "active"),
        ];
        let plan = plan(&listed, URL, &[5, 6], false);
        assert_eq!(plan.disabled, [listed[0].clone()]);
        assert_eq!(plan.refresh, [5]);
    }

    #[test]
    fn duplicates_and_old_addresses_are_removed() {
        let listed = [
            hook(5, "order.created", URL, "active"),
            hook(8, "order.created", URL, "active"),
            hook(
                3,
                "order.updated",
                "https://old.example.com/hooks/woocommerce",
                "active",
            ),
        ];
        let plan = plan(&listed, URL, &[3], false);
        assert_eq!(plan.kept, [("order.created", 5)]);
        assert_eq!(plan.create, ["order.updated"]);
        let mut deleted = plan.delete.clone();
        deleted.sort();
        assert_eq!(deleted, [3, 8]);
    }
}
