//! A plugin that misbehaves on demand, so tests can prove the host survives it.
//!
//! Its `activate_as` setting makes activation succeed, fail, panic, hang
//! or end its process (abort, exit(3), a write through a null pointer,
//! allocating without bound); its by-hand jobs each misbehave one way.
//! Three jobs follow the host's schedule, for its scheduling tests: `tick`
//! and `long` the Sync Interval, `eod` the End of Day; `tick_as` makes
//! `tick` misbehave like a by-hand job, and the environment variable
//! `MISBEHAVING_LONG_MS` makes `long` end by itself after that many
//! milliseconds. It must never be shipped.

use std::time::Duration;

use plugin_api::{
    ChoiceOption, Context, FieldKind, JobReport, JobSpec, Manifest, Plugin, PluginError,
    ScheduleKind, SettingField,
};

#[derive(Default)]
pub struct Misbehaving;

const JOBS: &[(&str, &str, ScheduleKind)] = &[
    (
        "ok",
        "Succeed with one record updated",
        ScheduleKind::ByHand,
    ),
    ("panic", "Panic", ScheduleKind::ByHand),
    ("error", "Return an error", ScheduleKind::ByHand),
    (
        "hang",
        "Block forever, ignoring cancellation",
        ScheduleKind::ByHand,
    ),
    (
        "slow",
        "Work until asked to stop, then stop cleanly",
        ScheduleKind::ByHand,
    ),
    ("log", "Log at every level", ScheduleKind::ByHand),
    ("abort", "Abort the process", ScheduleKind::ByHand),
    (
        "exit",
        "Exit the process with status 3",
        ScheduleKind::ByHand,
    ),
    (
        "segfault",
        "Write through a null pointer",
        ScheduleKind::ByHand,
    ),
    (
        "allocate",
        "Allocate memory without bound",
        ScheduleKind::ByHand,
    ),
    (
        "tick",
        "Work a fifth of a second, one record updated",
        ScheduleKind::SyncInterval,
    ),
    (
        "long",
        "Work until asked to stop, then stop cleanly",
        ScheduleKind::SyncInterval,
    ),
    (
        "eod",
        "Succeed with one record updated",
        ScheduleKind::EndOfDay,
    ),
];

/// What activation and the `tick` job can be set to do.
const MISDEEDS: [&str; 8] = [
    "ok", "panic", "error", "hang", "abort", "exit", "segfault", "allocate",
];

fn misbehave(how: &str, ctx: &Context) -> Result<JobReport, PluginError> {
    match how {
        "ok" | "eod" => Ok(JobReport {
            updated: 1,
            ..JobReport::default()
        }),
        "panic" => panic!("misbehaving plugin panicked on purpose"),
        "error" => Err(PluginError::other("failed on purpose")),
        "hang" => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        "abort" => std::process::abort(),
        "exit" => std::process::exit(3),
        // SAFETY: none; this is the misbehaviour under test.
        "segfault" => unsafe {
            std::ptr::write_volatile(std::ptr::null_mut::<u64>(), 1);
            unreachable!("the write faults")
        },
        "allocate" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 64 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "tick" => {
            let tick_as = ctx.settings()?.text("tick_as").unwrap_or("ok").to_string();
            if tick_as != "ok" {
                return misbehave(&tick_as, ctx);
            }
            std::thread::sleep(Duration::from_millis(200));
            Ok(JobReport {
                updated: 1,
                ..JobReport::default()
            })
        }
        "slow" | "long" => {
            // `MISBEHAVING_LONG_MS`: stop by itself after that long, so a
            // schedule test sees the jobs queued behind it run.
            let until = std::env::var("MISBEHAVING_LONG_MS")
                .ok()
                .and_then(|ms| ms.parse().ok())
                .map(|ms| std::time::Instant::now() + Duration::from_millis(ms));
            let mut report = JobReport::default();
            while !ctx.is_cancelled() && until.is_none_or(|t| std::time::Instant::now() < t) {
                report.updated += 1;
                ctx.progress(report.updated, None, "working");
                std::thread::sleep(Duration::from_millis(100));
            }
            report.stopped = ctx.is_cancelled();
            Ok(report)
        }
        "log" => {
            tracing::error!(code = 7, "an error from the plugin");
            tracing::warn!("a warning from the plugin");
            tracing::info!(order = "176", "an info line from the plugin");
            tracing::debug!("a debug line from the plugin");
            Ok(JobReport::default())
        }
        other => Err(PluginError::UnknownJob(other.into())),
    }
}

impl Plugin for Misbehaving {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "misbehaving".into(),
            name: "Misbehaving test plugin".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Panics, hangs and fails on demand, for the host's tests.".into(),
            feature: "misbehaving".into(),
            api_version: plugin_api::API_VERSION,
            settings: vec![
                SettingField::new(
                    "activate_as",
                    "What activation does",
                    FieldKind::Choice {
                        options: MISDEEDS.map(|v| ChoiceOption::new(v, v)).to_vec(),
                    },
                )
                .default_value("ok"),
                SettingField::new(
                    "tick_as",
                    "What the scheduled tick job does",
                    FieldKind::Choice {
                        options: MISDEEDS.map(|v| ChoiceOption::new(v, v)).to_vec(),
                    },
                )
                .default_value("ok"),
            ],
            jobs: JOBS
                .iter()
                .map(|(id, title, schedule)| JobSpec {
                    id: (*id).into(),
                    title: (*title).into(),
                    description: String::new(),
                    schedule: *schedule,
                })
                .collect(),
        }
    }

    fn activate(&self, ctx: &Context) -> Result<(), PluginError> {
        let how = ctx
            .settings()?
            .text("activate_as")
            .unwrap_or("ok")
            .to_string();
        misbehave(&how, ctx).map(drop)
    }

    fn run_job(&self, job: &str, ctx: &Context) -> Result<JobReport, PluginError> {
        misbehave(job, ctx)
    }
}

plugin_api::export_plugin!(Misbehaving::default);
