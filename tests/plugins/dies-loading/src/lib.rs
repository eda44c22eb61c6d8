//! A plugin that cannot even be loaded: its constructor or its `manifest()`
//! ends the process that loads it, or never returns, so tests can prove the
//! host survives a plugin file like it. It must never be shipped.
//!
//! `DIES_LOADING_AS` says how: `abort` (the default), `exit` (status 3),
//! `segfault` (a write through a null pointer) or `hang`.
//! `DIES_LOADING_IN` says where: `manifest` (the default) or `new` (the
//! constructor).

use std::time::Duration;

use plugin_api::{Context, JobReport, Manifest, Plugin, PluginError};

pub struct DiesLoading;

fn die_if(place: &str) {
    let here = std::env::var("DIES_LOADING_IN").unwrap_or_else(|_| "manifest".into());
    if here != place {
        return;
    }
    match std::env::var("DIES_LOADING_AS").as_deref() {
        Ok("exit") => std::process::exit(3),
        // SAFETY: none; this is the misbehaviour under test.
        Ok("segfault") => unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u64>(), 1) },
        Ok("hang") => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        _ => std::process::abort(),
    }
}

impl DiesLoading {
    fn new() -> Self {
        die_if("new");
        Self
    }
}

impl Plugin for DiesLoading {
    fn manifest(&self) -> Manifest {
        die_if("manifest");
        Manifest {
            id: "dies-loading".into(),
            name: "Dies while loading".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Ends the process that loads it, for the host's tests.".into(),
            feature: "dies-loading".into(),
            api_version: plugin_api::API_VERSION,
            settings: Vec::new(),
            jobs: Vec::new(),
        }
    }

    fn activate(&self, _ctx: &Context) -> Result<(), PluginError> {
        Ok(())
    }

    fn run_job(&self, job: &str, _ctx: &Context) -> Result<JobReport, PluginError> {
        Err(PluginError::UnknownJob(job.into()))
    }
}

plugin_api::export_plugin!(DiesLoading::new);
