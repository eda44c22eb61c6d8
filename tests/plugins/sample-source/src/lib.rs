//! Sample source: a test plugin standing in for a store, through the
//! IntelliTrack DB handle alone.
//!
//! `import` applies one import batch: three items (a variable product with
//! one variation, and a simple product) and one order, with the plugin's
//! import cursor in the same transaction. `feed` reads the change feed after
//! its cursor and acknowledges what it read, reporting each event.
//! `import-bulk` imports `bulk_items` simple items (100,000 unless set) in
//! batches of 1,000, for the isolation benchmark. Tests use it to drive
//! the warehouse end to end; it must never be shipped.

use plugin_api::warehouse::{
    ImportBatch, ItemKind, ItemRef, ItemUpsert, OrderLine, OrderUpsert, StateChange,
};
use plugin_api::{
    Context, FieldKind, JobReport, JobSpec, Manifest, Plugin, PluginError, ScheduleKind,
    SettingField,
};

#[derive(Default)]
pub struct SampleSource;

const FEED_CURSOR: &str = "feed_cursor";
const BULK_ITEMS: &str = "bulk_items";
const BULK_BATCH: usize = 1000;

fn item(external_id: &str, number: &str, kind: ItemKind, parent: Option<&str>) -> ItemUpsert {
    ItemUpsert {
        external_id: external_id.into(),
        number: number.into(),
        description: format!("Sample {number}"),
        unit_cost: Some("4.25".into()),
        unit_of_measure: None,
        kind,
        parent: parent.map(Into::into),
    }
}

fn import(ctx: &Context) -> Result<JobReport, PluginError> {
    let batch = ImportBatch {
        item_upserts: vec![
            item("10", "SHIRT", ItemKind::Variable, None),
            item("11", "SHIRT-RED", ItemKind::Variation, Some("10")),
            item("20", "MUG", ItemKind::Simple, None),
        ],
        order_upserts: vec![OrderUpsert {
            external_id: "500".into(),
            number: "S-500".into(),
            customer: "Ada Lovelace".into(),
            ship_to: Default::default(),
            shipping_method: "Flat rate".into(),
            customer_note: String::new(),
            ordered_at_ms: None,
            lines: vec![
                OrderLine {
                    external_line_id: "1".into(),
                    item: ItemRef::ExternalId("11".into()),
                    quantity: 2,
                    not_shipped: false,
                },
                OrderLine {
                    external_line_id: "2".into(),
                    item: ItemRef::ExternalId("20".into()),
                    quantity: 1,
                    not_shipped: false,
                },
            ],
        }],
        state_changes: vec![StateChange {
            key: "imported_at_ms".into(),
            value: Some(ctx.now_millis()?.into()),
        }],
        ..ImportBatch::default()
    };
    let summary = ctx.db().apply(&batch)?;
    Ok(JobReport {
        created: summary.items_created + summary.orders_created,
        updated: summary.items_updated + summary.orders_updated,
        summary: format!("{summary:?}"),
        ..JobReport::default()
    })
}

fn import_bulk(ctx: &Context) -> Result<JobReport, PluginError> {
    let count = ctx
        .settings()?
        .integer(BULK_ITEMS)
        .unwrap_or(100_000)
        .max(0) as usize;
    let mut report = JobReport::default();
    let numbers: Vec<usize> = (0..count).collect();
    for chunk in numbers.chunks(BULK_BATCH) {
        let batch = ImportBatch {
            item_upserts: chunk
                .iter()
                .map(|n| {
                    item(
                        &format!("b{n}"),
                        &format!("BULK-{n:06}"),
                        ItemKind::Simple,
                        None,
                    )
                })
                .collect(),
            ..ImportBatch::default()
        };
        let summary = ctx.db().apply(&batch)?;
        report.created += summary.items_created;
        report.updated += summary.items_updated;
    }
    Ok(report)
}

fn feed(ctx: &Context) -> Result<JobReport, PluginError> {
    let cursor: i64 = ctx.state(FEED_CURSOR)?.unwrap_or(0);
    let page = ctx.db().changes_after(cursor, 1000)?;
    let lines: Vec<String> = page
        .events
        .iter()
        .map(|e| format!("{} {}", e.seq, e.kind.as_str()))
        .collect();
    ctx.put_state(FEED_CURSOR, &page.cursor)?;
    Ok(JobReport {
        updated: page.events.len() as u64,
        summary: format!("events: {}", lines.join(", ")),
        ..JobReport::default()
    })
}

impl Plugin for SampleSource {
    fn manifest(&self) -> Manifest {
        let job = |id: &str, title: &str| JobSpec {
            id: id.into(),
            title: title.into(),
            description: String::new(),
            schedule: ScheduleKind::ByHand,
        };
        Manifest {
            id: "sample-source".into(),
            name: "Sample source (test)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Imports a fixed sample catalogue and order; reads the change feed."
                .into(),
            feature: "sample-source".into(),
            api_version: plugin_api::API_VERSION,
            settings: vec![
                SettingField::new(
                    BULK_ITEMS,
                    "Items import-bulk imports",
                    FieldKind::Integer {
                        min: Some(0),
                        max: Some(10_000_000),
                    },
                )
                .default_value(100_000),
            ],
            jobs: vec![
                job("import", "Import the sample"),
                job("import-bulk", "Import many simple items"),
                job("feed", "Read the change feed"),
            ],
        }
    }

    fn activate(&self, _ctx: &Context) -> Result<(), PluginError> {
        Ok(())
    }

    fn run_job(&self, job: &str, ctx: &Context) -> Result<JobReport, PluginError> {
        match job {
            "import" => import(ctx),
            "import-bulk" => import_bulk(ctx),
            "feed" => feed(ctx),
            other => Err(PluginError::UnknownJob(other.into())),
        }
    }
}

plugin_api::export_plugin!(SampleSource::default);
