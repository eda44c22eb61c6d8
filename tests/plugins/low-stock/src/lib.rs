//! Low stock: an example third-party plugin, written against `plugin-api`
//! alone.
//!
//! Once a day (and by hand) it reads the available quantity of every item
//! from the IntelliTrack DB handle and reports the items at or below the
//! reorder point. It remembers which items were low last time, in its
//! private state, and logs only the items that newly ran low or recovered,
//! so the host's log reads as a changelog.

use std::collections::BTreeSet;

use plugin_api::warehouse::ItemRef;
use plugin_api::{
    Context, FieldError, FieldKind, JobReport, JobSpec, Manifest, Plugin, PluginError,
    ScheduleKind, SettingField, Settings,
};

#[derive(Default)]
pub struct LowStock;

const REPORT: &str = "report";
const LAST_LOW: &str = "last_low";

impl Plugin for LowStock {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "low-stock".into(),
            name: "Low stock report".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Reports the items whose available quantity is at or below the reorder point."
                    .into(),
            feature: "low-stock".into(),
            api_version: plugin_api::API_VERSION,
            settings: vec![
                SettingField::new(
                    "reorder_point",
                    "Reorder point",
                    FieldKind::Integer {
                        min: Some(0),
                        max: None,
                    },
                )
                .help("An item is low when its available quantity is at or below this")
                .default_value(5),
                SettingField::new("items", "Items to watch", FieldKind::Text)
                    .help("Item numbers separated by commas; empty watches every item"),
            ],
            jobs: vec![JobSpec {
                id: REPORT.into(),
                title: "Low stock report".into(),
                description: "Lists the items at or below the reorder point.".into(),
                schedule: ScheduleKind::EndOfDay,
            }],
        }
    }

    fn activate(&self, ctx: &Context) -> Result<(), PluginError> {
        let errors = self.validate_settings(&ctx.settings()?);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(PluginError::Settings(errors))
        }
    }

    fn run_job(&self, job: &str, ctx: &Context) -> Result<JobReport, PluginError> {
        if job != REPORT {
            return Err(PluginError::UnknownJob(job.into()));
        }
        let settings = ctx.settings()?;
        let reorder_point = settings.integer("reorder_point").unwrap_or(5);
        let watched: Vec<ItemRef> = watched_items(&settings)
            .into_iter()
            .map(ItemRef::Number)
            .collect();
        let filter = (!watched.is_empty()).then_some(watched.as_slice());
        let quantities = ctx.db().quantities(filter)?;
        let low: Vec<_> = quantities
            .iter()
            .filter(|q| q.available <= reorder_point)
            .collect();

        let now_low: BTreeSet<String> = low.iter().map(|q| q.item_number.clone()).collect();
        let was_low: BTreeSet<String> = ctx.state(LAST_LOW)?.unwrap_or_default();
        for item in now_low.difference(&was_low) {
            tracing::warn!(item = %item, "ran low");
        }
        for item in was_low.difference(&now_low) {
            tracing::info!(item = %item, "recovered");
        }
        ctx.put_state(LAST_LOW, &now_low)?;

        let summary = if low.is_empty() {
            format!(
                "all {} items are above the reorder point of {reorder_point}",
                quantities.len()
            )
        } else {
            let listed: Vec<String> = low
                .iter()
                .map(|q| format!("{} ({} available)", q.item_number, q.available))
                .collect();
            format!(
                "{} of {} items at or below the reorder point of {reorder_point}: {}",
                low.len(),
                quantities.len(),
                listed.join(", ")
            )
        };
        Ok(JobReport {
            summary,
            ..JobReport::default()
        })
    }

    fn validate_settings(&self, settings: &Settings) -> Vec<FieldError> {
        let malformed = watched_items(settings)
            .into_iter()
            .find(|item| item.chars().any(char::is_whitespace));
        match malformed {
            Some(item) => vec![FieldError::new(
                "items",
                &format!("{item:?} is not an item number; separate item numbers with commas"),
            )],
            None => Vec::new(),
        }
    }
}

fn watched_items(settings: &Settings) -> Vec<String> {
    settings
        .text("items")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

plugin_api::export_plugin!(LowStock::default);

#[cfg(test)]
mod tests;
