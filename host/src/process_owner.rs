//! Which process owns a run, and whether that process still lives.
//!
//! A run row keeps the pid of the process running it and an owner token:
//! the machine's boot id and the process's start time (clock ticks since
//! boot, from `/proc/PID/stat`). A pid alone is not enough: pids are reused,
//! and a service started at boot gets much the same pid after every power
//! loss. A run whose owner no longer runs (other boot, no such process,
//! another process under that pid, or a zombie) is over. Linux only.

use std::sync::OnceLock;

/// This process's owner token, `BOOT_ID:START_TICKS`.
pub fn current() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| token_of(std::process::id()).unwrap_or_else(|| format!("{}:?", boot_id())))
}

/// Whether the process `pid` that wrote `owner` still runs. An empty
/// owner (a row written before owners were kept) is judged by its pid alone.
pub fn alive(pid: u32, owner: &str) -> bool {
    if pid == std::process::id() && owner == current() {
        return true;
    }
    if owner.is_empty() {
        return std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| parse_stat(&stat))
            .is_some_and(|s| !s.finished);
    }
    token_of(pid).is_some_and(|now| now == owner)
}

/// The owner token of a running process; `None` if it is gone or a zombie.
pub fn token_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let stat = parse_stat(&stat)?;
    (!stat.finished).then(|| format!("{}:{}", boot_id(), stat.start_ticks))
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[derive(Debug, PartialEq, Eq)]
struct Stat {
    /// Exited but not yet reaped (zombie), or dead.
    finished: bool,
    start_ticks: u64,
}

/// Reads state and start time from a `/proc/PID/stat` line. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted
/// from the last `)`.
fn parse_stat(line: &str) -> Option<Stat> {
    let rest = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 (state) is fields[0]; field 22 (starttime) is fields[19].
    let state = fields.first()?;
    let start_ticks = fields.get(19)?.parse().ok()?;
    Some(Stat {
        finished: matches!(*state, "Z" | "X" | "x"),
        start_ticks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_state_and_start_time_past_an_awkward_name() {
        let line = "27554 (a) b (c) R 27549 27549 23758 0 -1 4194304 102 0 0 0 0 0 0 0 20 0 1 0 1032040 3133440 413";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                finished: false,
                start_ticks: 1032040
            })
        );
        let zombie = "9 (x) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0 0";
        assert!(parse_stat(zombie).unwrap().finished);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_lives_and_a_token_of_another_start_does_not() {
        let me = std::process::id();
        assert!(alive(me, current()));
        assert!(!alive(me, &format!("{}:1", boot_id())));
        assert!(!alive(me, "another-boot:1"));
        assert!(!alive(u32::MAX - 1, ""));
    }
}
