//! The host's clock, injected everywhere a time is read.
//!
//! Two environment variables move the system clock, so tests can see hours pass without
//! waiting; nothing else in the host calls the system clock:
//!
//! * `PLUGIN_HOST_CLOCK_OFFSET_SECONDS` shifts it by a whole number of
//!   seconds (negative to go back).
//! * `PLUGIN_HOST_CLOCK_SPEED` (tests only) makes it run this many times
//!   faster than real time from the moment the process started, so a
//!   one-minute Sync Interval passes in a second at speed 60. Deadlines,
//!   grace periods and the service's poll stay in real time.
//!
//! A [`Clock::manual`] clock stands still until it is set; plugin tests
//! (`plugin-test-kit`) use it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const OFFSET_VAR: &str = "PLUGIN_HOST_CLOCK_OFFSET_SECONDS";
const SPEED_VAR: &str = "PLUGIN_HOST_CLOCK_SPEED";

#[derive(Clone, Debug)]
pub struct Clock(Source);

#[derive(Clone, Debug)]
enum Source {
    /// The system clock, shifted and sped up as the environment says.
    System {
        offset_ms: i64,
        speed: i64,
        /// The system time the clock started running fast from.
        anchor_ms: i64,
    },
    /// A time that moves only when told (the test kit's clock).
    Manual(Arc<AtomicI64>),
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
        Ok(Self(Source::System {
            offset_ms,
            speed,
            anchor_ms: system_ms(),
        }))
    }

    /// A clock that shows `start_ms` until [`Clock::set_ms`] moves it; every
    /// clone shows the same time.
    pub fn manual(start_ms: i64) -> Self {
        Self(Source::Manual(Arc::new(AtomicI64::new(start_ms))))
    }

    /// Moves a [`Clock::manual`] clock to `ms`. The system clock cannot be
    /// moved: an error says so.
    pub fn set_ms(&self, ms: i64) -> anyhow::Result<()> {
        match &self.0 {
            Source::Manual(now) => {
                now.store(ms, Ordering::SeqCst);
                Ok(())
            }
            Source::System { .. } => anyhow::bail!("the system clock cannot be set"),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Source::System {
                offset_ms,
                speed,
                anchor_ms,
            } => {
                let elapsed = system_ms() - anchor_ms;
                anchor_ms + elapsed * speed + offset_ms
            }
            Source::Manual(now) => now.load(Ordering::SeqCst),
        }
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
