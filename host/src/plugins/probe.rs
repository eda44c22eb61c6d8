//! Probing plugin files, each in a child process, before the host trusts
//! them: `plugin-host plugin-runner --probe FILE` loads the file, runs its
//! checks, its constructor and its `manifest()`, answers one
//! [`ProbeAnswer`] and ends. A probe that dies (abort, exit, a signal)
//! refuses its file with the reason ("plugin process died while loading:
//! signal 6 (SIGABRT)"); one still loading after [`PROBE_DEADLINE`] is
//! killed and its file refused the same way. The host goes on with the
//! other files either way.
//!
//! Every file is probed at once, so the cost at start-up is about one
//! probe's whatever the number of plugins.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use plugin_api::Manifest;

use crate::plugins::process::describe;
use crate::plugins::verdict::{RefusedFile, read_manifest};
use crate::plugins::wire::{self, ProbeAnswer};

/// How long a probe may take before it is killed.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(10);

/// Probes every file, each in its own process, all at once: per file, its
/// plugin's manifest or why it is refused.
pub fn probe_files(files: &[PathBuf]) -> Vec<Result<Manifest, RefusedFile>> {
    let deadline = Instant::now() + PROBE_DEADLINE;
    let started: Vec<_> = files.iter().map(|file| Probe::start(file)).collect();
    files
        .iter()
        .zip(started)
        .map(|(file, probe)| {
            let answer = probe.and_then(|probe| probe.finish(deadline));
            read(file, answer)
        })
        .collect()
}

/// The host's reading of one probe's answer: the manifest is held to the
/// manifest's rules here too, whatever the probe said of it.
fn read(file: &Path, answer: Result<ProbeAnswer, String>) -> Result<Manifest, RefusedFile> {
    let refuse = |api_version, reason| RefusedFile {
        file: file.to_path_buf(),
        api_version,
        reason,
    };
    match answer {
        Ok(ProbeAnswer::Plugin { manifest }) => {
            read_manifest(&manifest).map_err(|reason| refuse(None, reason))
        }
        Ok(ProbeAnswer::Refused {
            api_version,
            reason,
        }) => Err(refuse(api_version, reason)),
        Err(reason) => Err(refuse(None, reason)),
    }
}

/// One probe under way: its process, and its answer when it comes (`None`
/// when its pipe closed without one).
struct Probe {
    child: Child,
    answer: mpsc::Receiver<Option<ProbeAnswer>>,
}

impl Probe {
    fn start(file: &Path) -> Result<Self, String> {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find the host executable: {e}"))?;
        let mut child = Command::new(exe)
            .args(["plugin-runner", "--probe"])
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a process to load it: {e}"))?;
        let Some(output) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the process loading it has no pipe".into());
        };
        let (tx, answer) = mpsc::channel();
        std::thread::Builder::new()
            .name("plugin-probe".into())
            .spawn(move || {
                let answer = wire::receive::<ProbeAnswer>(&mut BufReader::new(output));
                let _ = tx.send(answer.ok().flatten());
            })
            .map_err(|e| format!("cannot watch the process loading it: {e}"))?;
        Ok(Self { child, answer })
    }

    /// Waits for the answer until `deadline`; the process is ended either
    /// way (its work is done once it has answered).
    fn finish(mut self, deadline: Instant) -> Result<ProbeAnswer, String> {
        let answer = self
            .answer
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let died = match answer {
            Ok(Some(answer)) => {
                self.end();
                return Ok(answer);
            }
            Ok(None) => self.exit_status(deadline),
            Err(_) => None,
        };
        match died {
            Some(status) => Err(format!(
                "plugin process died while loading: {}",
                describe(status)
            )),
            None => {
                self.end();
                Err(format!(
                    "plugin process did not finish loading within {}s; it was killed",
                    PROBE_DEADLINE.as_secs()
                ))
            }
        }
    }

    /// How the process ended, once it has, waiting no later than `deadline`.
    fn exit_status(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => return None,
            }
        }
    }

    fn end(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: &str) -> String {
        serde_json::json!({
            "id": id,
            "name": "N",
            "version": "1.0.0",
            "description": "",
            "feature": "f",
            "api_version": plugin_api::API_VERSION,
            "settings": [],
            "jobs": [],
        })
        .to_string()
    }

    #[test]
    fn the_host_holds_a_probed_manifest_to_the_rules_itself() {
        let file = Path::new("/plugins/libx.so");
        let good = read(
            file,
            Ok(ProbeAnswer::Plugin {
                manifest: manifest("good-one"),
            }),
        );
        assert_eq!(good.unwrap().id, "good-one");
        let bad = read(
            file,
            Ok(ProbeAnswer::Plugin {
                manifest: manifest("Bad Id"),
            }),
        )
        .unwrap_err();
        assert!(
            bad.reason.contains("plugin id \"Bad Id\""),
            "{}",
            bad.reason
        );
        let garbled = read(
            file,
            Ok(ProbeAnswer::Plugin {
                manifest: "{".into(),
            }),
        )
        .unwrap_err();
        assert!(garbled.reason.starts_with("its manifest is not readable"));
    }

    #[test]
    fn a_refusal_or_a_death_keeps_its_reason_and_version() {
        let file = Path::new("/plugins/libx.so");
        let version = plugin_api::ApiVersion::new(1, 99);
        let refused = read(
            file,
            Ok(ProbeAnswer::Refused {
                api_version: Some(version),
                reason: "needs a newer host".into(),
            }),
        )
        .unwrap_err();
        assert_eq!(
            (refused.api_version, refused.reason.as_str()),
            (Some(version), "needs a newer host")
        );
        let died = read(
            file,
            Err("plugin process died while loading: exit status 3".into()),
        )
        .unwrap_err();
        assert_eq!(died.api_version, None);
        assert_eq!(died.file, file);
    }
}
