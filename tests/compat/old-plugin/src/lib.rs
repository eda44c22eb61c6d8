//! Heartbeat: a plugin built against plugin API 1.0 and never rebuilt for
//! newer hosts. Its one job records a beat: it counts its runs in the
//! private state store, reads its setting and the host's clock, reports
//! progress and logs. Everything it touches is 1.0.

use plugin_api::{
    Context, FieldKind, JobReport, JobSpec, Manifest, Plugin, PluginError, ScheduleKind,
    SettingField,
};

#[derive(Default)]
pub struct Heartbeat;

impl Plugin for Heartbeat {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "heartbeat".into(),
            name: "Heartbeat (API 1.0)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Counts its beats.".into(),
            feature: "heartbeat".into(),
            api_version: plugin_api::API_VERSION,
            settings: vec![
                SettingField::new("label", "Label", FieldKind::Text).default_value("beat"),
            ],
            jobs: vec![JobSpec {
                id: "beat".into(),
                title: "Beat".into(),
                description: String::new(),
                schedule: ScheduleKind::SyncInterval,
            }],
        }
    }

    fn activate(&self, ctx: &Context) -> Result<(), PluginError> {
        ctx.settings()?;
        Ok(())
    }

    fn run_job(&self, job: &str, ctx: &Context) -> Result<JobReport, PluginError> {
        if job != "beat" {
            return Err(PluginError::UnknownJob(job.into()));
        }
        let label = ctx.settings()?.text("label").unwrap_or("beat").to_string();
        let beats: u64 = ctx.state("beats")?.unwrap_or(0) + 1;
        ctx.put_state("beats", &beats)?;
        ctx.put_state("last_beat_ms", &ctx.now_millis()?)?;
        ctx.progress(1, Some(1), "beating");
        tracing::info!("{label} {beats}");
        Ok(JobReport {
            updated: 1,
            summary: format!("{label} {beats}"),
            ..JobReport::default()
        })
    }
}

plugin_api::export_plugin!(Heartbeat::default);
