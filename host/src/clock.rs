//! The host's clock, injected everywhere a time is read.
//!
//! `PLUGIN_HOST_CLOCK_OFFSET_SECONDS` shifts it (tests use it to move time
//! without waiting); nothing else in the host calls the system clock.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, Default)]
pub struct Clock {
    offset_ms: i64,
}

impl Clock {
    pub fn from_env() -> anyhow::Result<Self> {
        let offset_ms = match std::env::var("PLUGIN_HOST_CLOCK_OFFSET_SECONDS") {
            Ok(v) => v.trim().parse::<i64>().map_err(|_| {
                anyhow::anyhow!(
                    "PLUGIN_HOST_CLOCK_OFFSET_SECONDS must be a whole number of seconds, not {v:?}"
                )
            })? * 1000,
            Err(_) => 0,
        };
        Ok(Self { offset_ms })
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        system + self.offset_ms
    }
}
