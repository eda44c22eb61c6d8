//! A plugin in its own process, as the host sees it: a [`PluginFrame`]
//! whose calls cross a pipe to `plugin-host plugin-runner FILE`
//! ([`crate::plugins::plugin_side`]), so the runner, the scheduler and the
//! services cannot tell it from a plugin loaded in the host.
//!
//! The process starts on first use. When it dies (abort, exit, a signal,
//! out of memory) every call waiting on it fails with the reason ("plugin
//! process died: signal 6 (SIGABRT)"), the host services it held are
//! dropped, and it is started again on next use, after a pause that grows
//! with each death. A plugin that was active in the process that died is
//! activated again in the new one, with the same host services, before
//! any other call reaches it (a job never meets a plugin that forgot its
//! activation). After [`DEATHS_TO_FAULT`] deaths within
//! [`DEATH_WINDOW`] the plugin is faulted: nothing starts it until
//! [`PluginProcess::clear_fault`] (an admin's reactivation). The host may
//! end the process on purpose (after deactivation, or killing a job that
//! ignores its deadline); that is not a death.

use std::collections::{HashMap, VecDeque};
use std::io::{BufReader, BufWriter};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RResult, RStr, RString};
use plugin_api::abi::{HostRef, PluginFrame};

use crate::plugins::isolation::Limits;
use crate::plugins::wire::{self, Answer, FromPlugin, PluginCall, ToPlugin};

/// How long a process whose input was closed has to end before it is killed.
const END_GRACE: Duration = Duration::from_secs(5);

/// Deaths within [`DEATH_WINDOW`] that fault a plugin.
pub const DEATHS_TO_FAULT: usize = 3;
pub const DEATH_WINDOW: Duration = Duration::from_secs(600);

/// What the host keeps about a plugin process beyond its pipe.
pub trait ProcessEvents: Send + Sync {
    /// The process started.
    fn started(&self, pid: u32);
    /// The process died (not ended by the host), with the reason.
    fn died(&self, reason: &str);
    /// The plugin died too often and is faulted, with the reason.
    fn faulted(&self, reason: &str);
}

/// One plugin instance's process: started on demand, started again after a
/// death, faulted after repeated deaths.
pub struct PluginProcess {
    file: PathBuf,
    limits: Limits,
    events: Box<dyn ProcessEvents>,
    state: Mutex<State>,
    /// Held while a process is started and, if it must be, activated
    /// again, so that no other call reaches it before that is done. Apart
    /// from `state`, which the process's watcher takes when it ends.
    starting: Mutex<()>,
}

#[derive(Default)]
struct State {
    live: Option<Arc<Connection>>,
    deaths: VecDeque<Instant>,
    faulted: Option<String>,
    /// The services the plugin was last activated with, while it is
    /// active (from a successful `activate` until `deactivate`).
    activation: Option<HostRef>,
}

impl PluginProcess {
    pub fn new(file: PathBuf, limits: Limits, events: Box<dyn ProcessEvents>) -> Arc<Self> {
        Arc::new(Self {
            file,
            limits,
            events,
            state: Mutex::new(State::default()),
            starting: Mutex::new(()),
        })
    }

    /// The pid of the running process, if one runs.
    pub fn pid(&self) -> Option<u32> {
        lock(&self.state).live.as_ref().map(|c| c.pid)
    }

    /// Lets the plugin start again after it was faulted.
    pub fn clear_fault(&self) {
        let mut state = lock(&self.state);
        state.faulted = None;
        state.deaths.clear();
    }

    /// Kills the running process for `why` (a job, an activation or a
    /// deactivation past its time); every call waiting on it fails saying
    /// so, and it is not counted as a death.
    pub fn kill(&self, why: &str) {
        if let Some(conn) = lock(&self.state).live.take() {
            *lock(&conn.ended_by_host) = Some(format!("plugin process was killed: {why}"));
            let _ = lock(&conn.child).kill();
        }
    }

    /// Ends the running process by closing its input, and waits for it
    /// (killing it after [`END_GRACE`]) so that it never outlives the host;
    /// not a death.
    fn stop(&self) {
        if let Some(conn) = lock(&self.state).live.take() {
            *lock(&conn.ended_by_host) = Some("plugin process was ended after deactivation".into());
            lock(&conn.input).take();
            // Its hosts are released now, not when its end is noticed: the
            // host's database closes with the host, whatever the process does.
            lock(&conn.hosts).clear();
            conn.reap(END_GRACE);
        }
    }

    fn call(self: &Arc<Self>, call: PluginCall) -> Answer {
        self.connection()?.call(call)
    }

    /// Calls with a host the plugin may keep until it drops it.
    fn call_with_host(
        self: &Arc<Self>,
        host: HostRef,
        call: impl FnOnce(u64) -> PluginCall,
    ) -> Answer {
        self.connection()?.call_with_host(host, call)
    }

    /// Activates the plugin; while it stays active, a process started
    /// after this one ends is activated again with the same `host`.
    fn activate(self: &Arc<Self>, host: HostRef) -> Answer {
        lock(&self.state).activation = None;
        let answer = self.call_with_host(host.clone(), |host| PluginCall::Activate { host });
        if answer.is_ok() {
            lock(&self.state).activation = Some(host);
        }
        answer
    }

    /// The live process, started if none runs (after the backoff pause
    /// when it died before, and activated again if the plugin was active),
    /// or why it cannot run.
    fn connection(self: &Arc<Self>) -> Result<Arc<Connection>, String> {
        let _starting = lock(&self.starting);
        let (conn, activation) = {
            let mut state = lock(&self.state);
            if let Some(reason) = &state.faulted {
                return Err(format!(
                    "faulted: {reason}; an admin reactivates it with `plugins activate`"
                ));
            }
            if let Some(conn) = &state.live {
                return Ok(conn.clone());
            }
            if let Some(last) = state.deaths.back() {
                std::thread::sleep(backoff(state.deaths.len()).saturating_sub(last.elapsed()));
            }
            let conn = self.start()?;
            state.live = Some(conn.clone());
            (conn, state.activation.clone())
        };
        // Outside the state lock: the watcher takes it if this process ends.
        if let Some(host) = activation {
            conn.call_with_host(host, |host| PluginCall::Activate { host })
                .map_err(|reason| {
                    format!("its process started again, and activating it there failed: {reason}")
                })?;
        }
        Ok(conn)
    }

    fn start(self: &Arc<Self>) -> Result<Arc<Connection>, String> {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find the host executable: {e}"))?;
        let mut command = Command::new(exe);
        command
            .arg("plugin-runner")
            .arg(&self.file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let limits = self.limits;
        // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
        unsafe {
            command.pre_exec(move || limits.apply());
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the plugin process: {e}"))?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err("the plugin process has no pipes".into());
        };
        let conn = Arc::new(Connection {
            pid: child.id(),
            child: Mutex::new(child),
            input: Mutex::new(Some(BufWriter::new(input))),
            pending: Mutex::new(Pending::default()),
            hosts: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            ended_by_host: Mutex::new(None),
        });
        self.events.started(conn.pid);
        let (plugin, reader_conn) = (self.clone(), conn.clone());
        std::thread::Builder::new()
            .name(format!("plugin-process-{}", conn.pid))
            .spawn(move || {
                let status = reader_conn.read_until_end(BufReader::new(output));
                plugin.ended(&reader_conn, status);
            })
            .map_err(|e| format!("cannot watch the plugin process: {e}"))?;
        Ok(conn)
    }

    /// The process's pipe closed: fail what waits on it, and count the
    /// death unless the host ended it.
    fn ended(&self, conn: &Arc<Connection>, status: Option<ExitStatus>) {
        let reason = format!(
            "plugin process died: {}",
            status.map_or_else(|| "its pipe broke".to_string(), describe)
        );
        let mut state = lock(&self.state);
        if state.live.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            state.live = None;
        }
        if let Some(ended) = lock(&conn.ended_by_host).clone() {
            conn.fail_all(&ended);
            return;
        }
        conn.fail_all(&reason);
        tracing::error!(pid = conn.pid, file = %self.file.display(), "{reason}");
        self.events.died(&reason);
        let now = Instant::now();
        state.deaths.push_back(now);
        while state
            .deaths
            .front()
            .is_some_and(|at| now.duration_since(*at) > DEATH_WINDOW)
        {
            state.deaths.pop_front();
        }
        if state.deaths.len() >= DEATHS_TO_FAULT && state.faulted.is_none() {
            let fault = format!(
                "{reason}, {} times within {} minutes",
                state.deaths.len(),
                DEATH_WINDOW.as_secs() / 60
            );
            self.events.faulted(&fault);
            state.faulted = Some(fault);
        }
    }
}

/// The pause before starting a process that died `deaths` times lately.
fn backoff(deaths: usize) -> Duration {
    Duration::from_millis(250u64 << deaths.min(7)).min(Duration::from_secs(30))
}

/// "signal 6 (SIGABRT)", "exit status 3".
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal {signal} ({})", signal_name(signal)),
        (None, None) => status.to_string(),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        _ => "another signal",
    }
}

/// Calls waiting for an answer; once the process is gone, why.
#[derive(Default)]
struct Pending {
    waiting: HashMap<u64, mpsc::Sender<Answer>>,
    gone: Option<String>,
}

/// One running plugin process and its pipe.
struct Connection {
    pid: u32,
    child: Mutex<Child>,
    /// `None` once the host closed it.
    input: Mutex<Option<BufWriter<ChildStdin>>>,
    pending: Mutex<Pending>,
    /// The hosts handed to the plugin, by number, until it drops them.
    hosts: Mutex<HashMap<u64, HostRef>>,
    next: AtomicU64,
    /// Why the host ended the process, if it did.
    ended_by_host: Mutex<Option<String>>,
}

impl Connection {
    fn call_with_host(&self, host: HostRef, call: impl FnOnce(u64) -> PluginCall) -> Answer {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.hosts).insert(number, host);
        self.call(call(number))
    }

    fn call(&self, call: PluginCall) -> Answer {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        {
            let mut pending = lock(&self.pending);
            if let Some(reason) = &pending.gone {
                return Err(reason.clone());
            }
            pending.waiting.insert(id, tx);
        }
        self.send(&ToPlugin::Call { id, call });
        rx.recv().unwrap_or_else(|_| {
            Err(lock(&self.pending)
                .gone
                .clone()
                .unwrap_or_else(|| "plugin process died".into()))
        })
    }

    /// Sends a message; a broken pipe shows as the process's end, which
    /// the reader reports.
    fn send(&self, message: &ToPlugin) {
        if let Some(input) = lock(&self.input).as_mut() {
            let _ = wire::send(input, message);
        }
    }

    /// Serves the process's messages until its pipe closes; its exit status.
    fn read_until_end(
        self: &Arc<Self>,
        mut output: BufReader<std::process::ChildStdout>,
    ) -> Option<ExitStatus> {
        while let Ok(Some(message)) = wire::receive::<FromPlugin>(&mut output) {
            match message {
                FromPlugin::Answer { id, answer } => {
                    if let Some(waiting) = lock(&self.pending).waiting.remove(&id) {
                        let _ = waiting.send(answer);
                    }
                }
                FromPlugin::HostCall {
                    id,
                    host,
                    method,
                    payload,
                } => {
                    let services = lock(&self.hosts).get(&host).cloned();
                    let conn = self.clone();
                    let answered = std::thread::Builder::new()
                        .name("host-service".into())
                        .spawn(move || {
                            let answer = match services {
                                Some(services) => services
                                    .call(RStr::from_str(&method), RStr::from_str(&payload))
                                    .into_result()
                                    .map(RString::into_string)
                                    .map_err(RString::into_string),
                                None => Err(format!("host {host} was already released")),
                            };
                            conn.send(&ToPlugin::HostAnswer { id, answer });
                        });
                    if answered.is_err() {
                        break;
                    }
                }
                FromPlugin::ReleaseHost { host } => {
                    lock(&self.hosts).remove(&host);
                }
            }
        }
        lock(&self.input).take();
        lock(&self.child).wait().ok()
    }

    /// Waits up to `grace` for the process to end, then kills it; either
    /// way the host reaps it (its watcher thread then sees the same status).
    fn reap(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        loop {
            let mut child = lock(&self.child);
            match child.try_wait() {
                Ok(None) if Instant::now() < deadline => {}
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
                Ok(Some(_)) | Err(_) => return,
            }
            drop(child);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn fail_all(&self, reason: &str) {
        let waiting = {
            let mut pending = lock(&self.pending);
            pending.gone = Some(reason.to_owned());
            std::mem::take(&mut pending.waiting)
        };
        for (_, tx) in waiting {
            let _ = tx.send(Err(reason.to_owned()));
        }
        lock(&self.hosts).clear();
    }
}

/// A plugin process as the frozen frame the rest of the host calls.
pub struct ProcessFrame(pub Arc<PluginProcess>);

fn text(answer: Answer) -> RResult<RString, RString> {
    answer.map(RString::from).map_err(RString::from).into()
}

impl PluginFrame for ProcessFrame {
    fn manifest(&self) -> RResult<RString, RString> {
        text(self.0.call(PluginCall::Manifest))
    }

    fn activate(&self, host: HostRef) -> RResult<(), RString> {
        self.0
            .activate(host)
            .map(drop)
            .map_err(RString::from)
            .into()
    }

    fn run_job(&self, job: RStr<'_>, host: HostRef) -> RResult<RString, RString> {
        let job = job.as_str().to_owned();
        text(
            self.0
                .call_with_host(host, |host| PluginCall::RunJob { job, host }),
        )
    }

    /// Deactivates the plugin and ends its process; with no process
    /// running there is nothing to deactivate.
    fn deactivate(&self) -> RResult<(), RString> {
        lock(&self.0.state).activation = None;
        if self.0.pid().is_none() {
            return RResult::ROk(());
        }
        let answer = self.0.call(PluginCall::Deactivate);
        self.0.stop();
        answer.map(drop).map_err(RString::from).into()
    }

    fn call(&self, method: RStr<'_>, payload: RStr<'_>) -> RResult<RString, RString> {
        text(self.0.call(PluginCall::Call {
            method: method.as_str().to_owned(),
            payload: payload.as_str().to_owned(),
        }))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deaths_read_as_their_signal_or_status() {
        assert_eq!(describe(ExitStatus::from_raw(6)), "signal 6 (SIGABRT)");
        assert_eq!(describe(ExitStatus::from_raw(11)), "signal 11 (SIGSEGV)");
        assert_eq!(describe(ExitStatus::from_raw(3 << 8)), "exit status 3");
    }

    #[test]
    fn the_pause_grows_and_is_bounded() {
        assert!(backoff(1) < backoff(2));
        assert_eq!(backoff(50), Duration::from_secs(30));
    }
}
