//! The host's clock, injected everywhere a time is read.
//!
//! Two environment variables move it, so tests can see hours pass without
//! waiting; nothing else in the host calls the system clock:
//!
//! * `PLUGIN_HOST_CLOCK_OFFSET_SECONDS` shifts it by a whole number of
//!   seconds (negative to go back).
//! * `PLUGIN_HOST_CLOCK_SPEED` (tests only) makes it run this many times
//!   faster than real time from the moment the process started, so a
//!   one-minute Sync Interval passes in a second at speed 60. Deadlines,
//!   grace periods and the service's poll stay in real time.

use std::time::{SystemTime, UNIX_EPOCH};

const OFFSET_VAR: &str = "PLUGIN_HOST_CLOCK_OFFSET_SECONDS";
const SPEED_VAR: &str = "PLUGIN_HOST_CLOCK_SPEED";

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    offset_ms: i64,
    speed: i64,
    /// The system time the clock started running fast from.
    anchor_ms: i64,
}

impl Clock {
    pub fn from_env() -> anyhow::Result<Self> {
        let offset_ms = match std::env::var(OFFSET_VAR) {
            Ok(v) => {
                v.trim().parse::<i64>().map_err(|_| {
                    anyhow::anyhow!("{OFFSET_VAR} must be a whole number of seconds, not {v:?}")
                })? * 1000
            }
            Err(_) => 0,
        };
        let speed = match std::env::var(SPEED_VAR) {
            Ok(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|s| (1..=3600).contains(s))
                .ok_or_else(|| {
                    anyhow::anyhow!("{SPEED_VAR} must be a whole number from 1 to 3600, not {v:?}")
                })?,
            Err(_) => 1,
        };
        Ok(Self {
            offset_ms,
            speed,
            anchor_ms: system_ms(),
        })
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let elapsed = system_ms() - self.anchor_ms;
        self.anchor_ms + elapsed * self.speed + self.offset_ms
    }

    /// The current instant.
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
