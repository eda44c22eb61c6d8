//! The plugin process: `plugin-host plugin-runner FILE` (a hidden command
//! the host starts) loads one plugin file and serves the frozen frame's
//! calls over its standard input and output ([`crate::plugins::wire`]).
//!
//! The plugin sees an ordinary [`HostRef`]: each of its service calls
//! becomes a message to the host and waits for the answer. Calls run on
//! their own threads both ways, so a job asking whether it is cancelled is
//! never stuck behind another call. This process must never open the
//! database, the credential key or the plugin folder: the host holds them
//! and answers for them. It ends as soon as the host closes its input.
//!
//! `plugin-runner --probe FILE` only loads the file, answers what it found
//! ([`ProbeAnswer`]: the manifest, or why the file is refused) and ends:
//! the host's look at a file before it trusts it ([`crate::plugins::probe`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::os::fd::FromRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RArc, RResult, RStr, RString};
use plugin_api::abi::{HostFrame, HostFrame_TO, HostRef, PluginBox};
use plugin_api::{API_VERSION, ApiVersion};

use crate::plugins::loader;
use crate::plugins::wire::{self, Answer, FromPlugin, PluginCall, ProbeAnswer, ToPlugin};

/// Loads `file` and serves the host's calls until the host closes the pipe.
pub fn run(file: &Path) -> anyhow::Result<()> {
    let messages = take_stdout()?;
    let (frame, _) = loader::load_file(file).map_err(|refused| anyhow::anyhow!(refused.line()))?;
    let frame = Arc::new(frame);
    let link = Arc::new(Link {
        out: Mutex::new(BufWriter::new(messages)),
        pending: Mutex::new(HashMap::new()),
        next: AtomicU64::new(1),
    });
    let mut input = BufReader::new(std::io::stdin().lock());
    while let Ok(Some(message)) = wire::receive::<ToPlugin>(&mut input) {
        match message {
            ToPlugin::Call { id, call } => {
                let frame = frame.clone();
                let link = link.clone();
                std::thread::Builder::new()
                    .name("plugin-call".into())
                    .spawn(move || {
                        let job = matches!(call, PluginCall::RunJob { .. });
                        let answer = perform(&frame, call, &link);
                        link.send(&FromPlugin::Answer { id, answer });
                        if job {
                            crate::heap::release_freed();
                        }
                    })?;
            }
            ToPlugin::HostAnswer { id, answer } => {
                if let Some(waiting) = lock(&link.pending).remove(&id) {
                    let _ = waiting.send(answer);
                }
            }
        }
    }
    // The host is gone or done with this process: nothing may outlive it.
    std::process::exit(0)
}

/// Loads `file`, answers the host what it found and ends.
pub fn probe(file: &Path) -> anyhow::Result<()> {
    let mut answer_to = take_stdout()?;
    let answer = match loader::load_file(file) {
        Ok((_, manifest)) => ProbeAnswer::Plugin {
            manifest: serde_json::to_string(&manifest)?,
        },
        Err(refused) => ProbeAnswer::Refused {
            api_version: refused.api_version,
            reason: refused.reason,
        },
    };
    wire::send(&mut answer_to, &answer)?;
    // Nothing of the plugin's may run on after its answer.
    std::process::exit(0)
}

/// Keeps the pipe to the host for messages and points this process's
/// standard output at its standard error, so a plugin that prints cannot
/// garble the messages.
fn take_stdout() -> anyhow::Result<File> {
    std::io::stdout().flush()?;
    // SAFETY: plain descriptor calls on descriptors this process owns; the
    // duplicate is owned by the returned File alone.
    unsafe {
        let fd = libc::dup(libc::STDOUT_FILENO);
        if fd < 0 || libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) < 0 {
            anyhow::bail!(
                "cannot set up the pipe to the host: {}",
                std::io::Error::last_os_error()
            );
        }
        Ok(File::from_raw_fd(fd))
    }
}

fn perform(frame: &PluginBox, call: PluginCall, link: &Arc<Link>) -> Answer {
    let text = |r: RResult<RString, RString>| {
        r.into_result()
            .map(RString::into_string)
            .map_err(RString::into_string)
    };
    let unit = |r: RResult<(), RString>| {
        r.into_result()
            .map(|()| String::new())
            .map_err(RString::into_string)
    };
    match call {
        PluginCall::Manifest => text(frame.manifest()),
        PluginCall::Activate { host } => unit(frame.activate(RemoteHost::bind(link, host))),
        PluginCall::RunJob { job, host } => {
            text(frame.run_job(RStr::from_str(&job), RemoteHost::bind(link, host)))
        }
        PluginCall::Deactivate => unit(frame.deactivate()),
        PluginCall::Call { method, payload } => {
            text(frame.call(RStr::from_str(&method), RStr::from_str(&payload)))
        }
    }
}

/// The pipe to the host and the host calls waiting for their answers.
struct Link {
    out: Mutex<BufWriter<File>>,
    pending: Mutex<HashMap<u64, mpsc::Sender<Answer>>>,
    next: AtomicU64,
}

impl Link {
    fn send(&self, message: &FromPlugin) {
        if wire::send(&mut *lock(&self.out), message).is_err() {
            // The host is gone: so is the reason to run.
            std::process::exit(0);
        }
    }

    fn host_call(&self, host: u64, method: &str, payload: &str) -> Answer {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        lock(&self.pending).insert(id, tx);
        self.send(&FromPlugin::HostCall {
            id,
            host,
            method: method.to_owned(),
            payload: payload.to_owned(),
        });
        rx.recv()
            .unwrap_or_else(|_| Err("the host did not answer".into()))
    }
}

/// A host given to the plugin, known to the host by a number; the host
/// forgets it when the plugin drops its last copy.
struct Binding {
    link: Arc<Link>,
    host: u64,
}

impl Drop for Binding {
    fn drop(&mut self) {
        self.link.send(&FromPlugin::ReleaseHost { host: self.host });
    }
}

#[derive(Clone)]
struct RemoteHost(Arc<Binding>);

impl RemoteHost {
    fn bind(link: &Arc<Link>, host: u64) -> HostRef {
        let remote = RemoteHost(Arc::new(Binding {
            link: link.clone(),
            host,
        }));
        HostFrame_TO::from_ptr(RArc::new(remote), TD_Opaque)
    }
}

impl HostFrame for RemoteHost {
    fn api_version(&self) -> ApiVersion {
        API_VERSION
    }

    fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString> {
        self.0
            .link
            .host_call(self.0.host, method.as_str(), payload.as_str())
            .map(RString::from)
            .map_err(RString::from)
            .into()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
