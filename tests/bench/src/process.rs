//! Running one child process and measuring it alone: wall time from spawn
//! to exit, and the user + system CPU time and peak RSS of that child as
//! the kernel accounted them (`wait4`), never the benchmark's own. Its
//! stdout is kept whole; its stderr lines are kept with the time each
//! arrived, and its resident set is sampled every 50 ms, so the phases of
//! a run can be told apart afterwards.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// One stderr line and when it arrived, in seconds after the spawn.
#[derive(Debug, Clone)]
pub struct Line {
    pub at: f64,
    pub text: String,
}

/// What one finished child cost.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Spawn to exit, seconds.
    pub wall: f64,
    /// User + system CPU seconds of the child.
    pub cpu: f64,
    /// Peak resident set, KiB: the child's own (`ru_maxrss`, which takes
    /// in the processes it started and waited for) or, when larger, the
    /// largest sample of the child and the processes under it together
    /// (a host and its plugin processes).
    pub peak_rss_kib: u64,
    /// Exit code, or `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: Vec<Line>,
    /// `(seconds after the spawn, resident set in KiB)` of the child and
    /// the processes under it together, every 50 ms.
    pub rss: Vec<(f64, u64)>,
}

impl Measured {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }

    /// The largest resident set sampled in `[from, to)` seconds, MiB.
    pub fn sampled_peak_mib(&self, from: f64, to: f64) -> Option<f64> {
        self.rss
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, kib)| *kib as f64 / 1024.0)
            .reduce(f64::max)
    }

    /// The last `n` stderr lines, for an error message.
    pub fn stderr_tail(&self, n: usize) -> String {
        let start = self.stderr.len().saturating_sub(n);
        self.stderr[start..]
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Fails with the command's output unless it exited 0.
    pub fn require_success(self, what: &str) -> anyhow::Result<Self> {
        if !self.success() {
            bail!(
                "{what} failed ({}):\nstdout:\n{}\nstderr (last lines):\n{}",
                match self.code {
                    Some(code) => format!("exit {code}"),
                    None => "killed by a signal".to_owned(),
                },
                tail(&self.stdout, 20),
                self.stderr_tail(20)
            );
        }
        Ok(self)
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `command` to completion (stdin empty, stdout and stderr captured)
/// and measures it.
pub fn run(mut command: Command) -> anyhow::Result<Measured> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", command.get_program().display()))?;
    let mut stdout = child.stdout.take().context("piped stdout")?;
    let stderr = child.stderr.take().context("piped stderr")?;
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .map(|text| Line {
                at: started.elapsed().as_secs_f64(),
                text,
            })
            .collect::<Vec<_>>()
    });
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        let pid = child.id();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = tree_resident_kib(pid) {
                    samples.push((started.elapsed().as_secs_f64(), kib));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            samples
        })
    };
    // The child is reaped here, by pid, so that its own rusage comes back;
    // `child` is not waited on afterwards.
    let waited = wait4(child.id());
    let wall = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let (status, usage) = waited?;
    let rss = sampler.join().unwrap_or_default();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Measured {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_kib: rss
            .iter()
            .map(|(_, kib)| *kib)
            .fold(u64::try_from(usage.ru_maxrss).unwrap_or(0), u64::max),
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout,
        stderr,
        rss,
    })
}

/// This program's own peak resident set (`VmHWM`), MiB. Linux counts it
/// into the peak RSS of every child spawned after it (`ru_maxrss` takes
/// the spawning process's at the exec), so it is the floor of that column.
pub fn own_peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// The resident set of a running process and every process under it
/// (a host and its plugin processes), KiB; `None` once it has exited.
pub fn tree_resident_kib(pid: u32) -> Option<u64> {
    let own = resident_kib(pid)?;
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((child, parent_of(child)?))
        })
        .collect();
    let mut tree = vec![pid];
    let mut at = 0;
    while let Some(&parent) = tree.get(at) {
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        at += 1;
    }
    Some(
        own + tree[1..]
            .iter()
            .filter_map(|c| resident_kib(*c))
            .sum::<u64>(),
    )
}

/// A running process's parent (`/proc/PID/stat`, field 4).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The resident set of a running process (`/proc/PID/statm`), KiB; `None`
/// once it has exited.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page_size = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    (pages > 0).then(|| pages * page_size / 1024)
}

/// Waits for this child and returns its wait status and resource usage.
fn wait4(pid: u32) -> anyhow::Result<(libc::c_int, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).context("pid out of range")?;
    let mut status: libc::c_int = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: `status` and `usage` are valid for writes; `pid` is our
        // own child, not yet reaped.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error).context("wait4");
        }
    }
    // SAFETY: wait4 returned the child, so it filled `usage`.
    Ok((status, unsafe { usage.assume_init() }))
}

/// User + system CPU seconds a running process has used so far
/// (`/proc/PID/stat`), for processes that are not our measured children.
pub fn cpu_so_far(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields are counted after its ')'.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 here.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| ticks / per_second as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_measured_alone() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo out; echo err >&2; exit 3"]);
        let measured = run(command).unwrap();
        assert_eq!(measured.code, Some(3));
        assert_eq!(measured.stdout, "out\n");
        assert_eq!(measured.stderr.len(), 1);
        assert_eq!(measured.stderr[0].text, "err");
        assert!(measured.peak_rss_kib > 0);
        assert!(measured.wall > 0.0);
        assert!(
            measured
                .sampled_peak_mib(0.0, 1.0)
                .is_none_or(|mib| mib > 0.0)
        );
        assert!(measured.require_success("sh").is_err());
    }

    #[test]
    fn a_longer_child_has_its_resident_set_sampled() {
        let mut command = Command::new("sleep");
        command.arg("0.3");
        let measured = run(command).unwrap();
        assert!(measured.rss.len() >= 2, "{:?}", measured.rss);
        assert!(measured.sampled_peak_mib(0.0, 1.0).unwrap() > 0.0);
    }

    #[test]
    fn the_processes_under_a_child_count_into_its_resident_set() {
        // A shell holding ~64 MiB in a child of its own, then waiting for it
        // (`ru_maxrss` would take it in only after the wait).
        let mut command = Command::new("sh");
        command.args(["-c", "perl -e '$held = \"x\" x (64 << 20); sleep 1'; :"]);
        let measured = run(command).unwrap();
        assert!(measured.success(), "{}", measured.stderr_tail(5));
        let sampled = measured.sampled_peak_mib(0.0, f64::INFINITY).unwrap();
        assert!(sampled > 64.0, "{sampled} MiB sampled");
        assert!(measured.peak_rss_mib() > 64.0);
    }

    #[test]
    fn cpu_of_a_running_process_is_read_from_proc() {
        assert!(cpu_so_far(std::process::id()).is_some());
        assert!(cpu_so_far(u32::MAX).is_none());
        assert!(resident_kib(std::process::id()).unwrap() > 0);
    }
}
