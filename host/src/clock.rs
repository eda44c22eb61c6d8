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
//! * `PLUGIN_HOST_CLOCK_FILE` (tests only: the soak benchmark) names a file
//!   holding the time in milliseconds since the Unix epoch, which a driver
//!   steps; the clock shows what the file says (an offset is added). The
//!   service then waits on the file instead of its half-second poll (a step
//!   is seen within milliseconds, [`Clock::wait`]), and each time it has
//!   started and finished everything due at the file's time it writes that
//!   time to `FILE.settled` ([`Clock::report_settled`]), so the driver knows
//!   when to act next.
//!
//! A [`Clock::manual`] clock stands still until it is set; plugin tests
//! (`plugin-test-kit`) use it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const OFFSET_VAR: &str = "PLUGIN_HOST_CLOCK_OFFSET_SECONDS";
const SPEED_VAR: &str = "PLUGIN_HOST_CLOCK_SPEED";
const FILE_VAR: &str = "PLUGIN_HOST_CLOCK_FILE";
/// How often the service looks at a stepped clock's file, or at runs going on.
const FILE_POLL: Duration = Duration::from_millis(3);

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
    /// The time a driver writes into a file (tests only), shifted.
    File { path: PathBuf, offset_ms: i64 },
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
        if let Some(path) = std::env::var_os(FILE_VAR) {
            return Self::stepped(PathBuf::from(path), offset_ms);
        }
        Ok(Self(Source::System {
            offset_ms,
            speed,
            anchor_ms: system_ms(),
        }))
    }

    /// The clock `PLUGIN_HOST_CLOCK_FILE` names: the time in `path`, shifted
    /// by `offset_ms`; refused unless the file holds a time now.
    fn stepped(path: PathBuf, offset_ms: i64) -> anyhow::Result<Self> {
        read_ms(&path).map_err(|e| anyhow::anyhow!("{FILE_VAR} {}: {e}", path.display()))?;
        Ok(Self(Source::File { path, offset_ms }))
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
            Source::System { .. } | Source::File { .. } => {
                anyhow::bail!("only a manual clock can be set")
            }
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
            // A file being rewritten may read empty: a later read has it.
            Source::File { path, offset_ms } => {
                let mut tries = 0;
                loop {
                    match read_ms(path) {
                        Ok(ms) => break ms + offset_ms,
                        Err(e) if tries == 1000 => panic!("{FILE_VAR}: {e:#}"),
                        Err(_) => tries += 1,
                    }
                    std::thread::sleep(FILE_POLL);
                }
            }
        }
    }

    /// The service's pause between two turns: `pause` in real time, except
    /// on a stepped clock's file, where it ends as soon as the file's time
    /// moves, and after a few milliseconds while runs go on (`busy`), so
    /// a run's end is seen at once.
    pub fn wait(&self, pause: Duration, busy: bool) {
        let Source::File { path, .. } = &self.0 else {
            std::thread::sleep(pause);
            return;
        };
        if busy {
            std::thread::sleep(FILE_POLL);
            return;
        }
        let since = read_ms(path).ok();
        let started = Instant::now();
        while started.elapsed() < pause && read_ms(path).ok() == since {
            std::thread::sleep(FILE_POLL);
        }
    }

    /// On a stepped clock, tells its driver that everything due at `at_ms`
    /// has run: writes it to `FILE.settled` (under a temporary name, then
    /// renamed, so it is never read half written). Nothing otherwise.
    pub fn report_settled(&self, at_ms: i64) {
        let Source::File { path, offset_ms } = &self.0 else {
            return;
        };
        let mut settled = path.clone().into_os_string();
        settled.push(".settled");
        let mut partial = settled.clone();
        partial.push(".partial");
        let written = std::fs::write(&partial, (at_ms - offset_ms).to_string())
            .and_then(|()| std::fs::rename(&partial, &settled));
        if let Err(e) = written {
            tracing::error!("cannot report the clock settled: {e}");
        }
    }

    /// The current instant.
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// The milliseconds a stepped clock's file holds.
fn read_ms(path: &std::path::Path) -> anyhow::Result<i64> {
    let text = std::fs::read_to_string(path)?;
    text.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("not a time in milliseconds: {text:?}"))
}

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stepped_clock_shows_its_file_and_reports_when_it_settled() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("clock");
        std::fs::write(&file, "nonsense").unwrap();
        let refused = Clock::stepped(file.clone(), 0).unwrap_err().to_string();
        assert!(refused.contains("not a time in milliseconds"), "{refused}");

        std::fs::write(&file, "1000000\n").unwrap();
        let clock = Clock::stepped(file.clone(), 500).unwrap();
        assert_eq!(clock.now_ms(), 1_000_500);
        assert!(clock.set_ms(5).is_err(), "only the file moves it");

        // Its wait ends once the file's time moves, long before the pause.
        let stepper = {
            let file = file.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                std::fs::write(&file, "2000000").unwrap();
            })
        };
        let started = Instant::now();
        clock.wait(Duration::from_secs(30), false);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(clock.now_ms(), 2_000_500);
        stepper.join().unwrap();

        clock.report_settled(2_000_500);
        let settled = std::fs::read_to_string(dir.path().join("clock.settled")).unwrap();
        assert_eq!(settled, "2000000");
    }

    #[test]
    fn other_clocks_report_nothing_and_wait_the_whole_pause() {
        let clock = Clock::manual(7);
        let started = Instant::now();
        clock.wait(Duration::from_millis(30), true);
        assert!(started.elapsed() >= Duration::from_millis(30));
        clock.report_settled(7);
    }
}
