//! The kit's own promises, with a small plugin written here: the clock and
//! the cancellation flag are the test's, secrets arrive sealed and opened
//! by the host's code, and a run's progress, tables and logs come back.

use std::sync::atomic::Ordering;
use std::time::Duration;

use plugin_api::warehouse::{ChangeKind, ImportBatch, ItemKind, ItemUpsert};
use plugin_api::{
    Context, FieldKind, JobReport, JobSpec, Manifest, Plugin, PluginError, ScheduleKind,
    SettingField, Table,
};
use plugin_test_kit::{LogLevel, RunOutcome, START_MS, TestHost};

struct Counter;

impl Plugin for Counter {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "counter".into(),
            name: "Counter".into(),
            version: "1.0.0".into(),
            description: String::new(),
            feature: "counter".into(),
            api_version: plugin_api::API_VERSION,
            settings: vec![SettingField::new("token", "Token", FieldKind::Secret).required()],
            jobs: vec![JobSpec {
                id: "count".into(),
                title: "Count".into(),
                description: String::new(),
                schedule: ScheduleKind::ByHand,
            }],
        }
    }

    fn activate(&self, ctx: &Context) -> Result<(), PluginError> {
        match ctx.credential("token")? {
            Some(token) if token.expose() == "t0ken" => Ok(()),
            _ => Err(PluginError::other("the token is wrong")),
        }
    }

    fn run_job(&self, _job: &str, ctx: &Context) -> Result<JobReport, PluginError> {
        let mut report = JobReport::default();
        for step in 1..=3u64 {
            if ctx.is_cancelled() {
                report.stopped = true;
                return Ok(report);
            }
            ctx.progress(step, Some(3), "counting");
            report.updated += 1;
        }
        let mut table = Table::new("Time", &["now"]);
        table.row(vec![ctx.now_millis()?.to_string()]);
        ctx.show_table(&table)?;
        tracing::info!(token = ?ctx.credential("token")?, "counted");
        Ok(report)
    }
}

#[test]
fn a_run_sees_the_tests_clock_and_returns_progress_tables_and_logs() {
    let host = TestHost::new(Counter).unwrap();
    let err = host.activate().unwrap_err().to_string();
    assert_eq!(err, "invalid settings: token: is required");
    host.set_settings(&[("token", "t0ken")]).unwrap();
    host.activate().unwrap();

    host.advance(Duration::from_secs(60));
    let run = host.run_job("count");
    assert_eq!(run.outcome, RunOutcome::Succeeded);
    assert_eq!(run.report().unwrap().updated, 3);
    assert_eq!(run.progress.len(), 3);
    assert_eq!(run.progress[2].done, 3);
    assert_eq!(run.tables[0].rows, [[(START_MS + 60_000).to_string()]]);
    assert!(run.logged(LogLevel::Info, "counted"));
    let logged = format!("{:?}", run.logs);
    assert!(
        !logged.contains("t0ken"),
        "the secret stays out of logs: {logged}"
    );

    let recorded = host.warehouse().runs(Some("counter"), 1).unwrap();
    assert_eq!(recorded[0].updated, 3);
}

#[test]
fn the_warehouses_changes_reach_the_plugins_change_feed_at_the_tests_time() {
    let host = TestHost::new(Counter).unwrap();
    // The plugin sees the stock events of the items it imported.
    host.context()
        .db()
        .apply(&ImportBatch {
            item_upserts: vec![ItemUpsert {
                external_id: "10".into(),
                number: "MUG".into(),
                description: "Mug".into(),
                unit_cost: None,
                unit_of_measure: None,
                kind: ItemKind::default(),
                parent: None,
            }],
            ..ImportBatch::default()
        })
        .unwrap();
    host.add_item("CUP", "Cup", 3).unwrap();
    host.advance(Duration::from_secs(5));
    host.warehouse()
        .receive("MUG", 4, None, "clerk", host.now_ms())
        .unwrap();

    let events = host.changes_after(0, 10).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, ChangeKind::InventoryReceived);
    assert_eq!(events[0].item_external_id.as_deref(), Some("10"));
    assert_eq!(events[0].at_ms, START_MS + 5_000);
    let numbers: Vec<_> = host
        .items()
        .unwrap()
        .into_iter()
        .map(|i| i.number)
        .collect();
    assert_eq!(numbers, ["CUP", "MUG"]);
}

#[test]
fn a_set_cancellation_flag_stops_the_run() {
    let host = TestHost::new(Counter).unwrap();
    host.set_settings(&[("token", "t0ken")]).unwrap();
    host.cancel_flag().store(true, Ordering::SeqCst);
    let run = host.run_job("count");
    assert_eq!(run.outcome, RunOutcome::Stopped);
    assert!(run.progress.is_empty());
}

#[test]
fn a_refused_setting_changes_nothing() {
    let host = TestHost::new(Counter).unwrap();
    let err = host
        .set_settings(&[("token", "t0ken"), ("colour", "red")])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid settings: colour: is not one of the plugin's settings"
    );
    assert!(host.activate().is_err(), "the token was not stored either");
}
