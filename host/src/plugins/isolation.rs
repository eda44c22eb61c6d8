//! How a plugin is isolated from the host: the host-level settings
//! `host.isolation` (`process`, the default, or `in-process`),
//! `host.memory_limit` and `host.open_files`, and the limits they set on a
//! plugin process. Pure rules and the one system call that applies them.

use serde_json::Value;

pub const ISOLATION: &str = "host.isolation";
pub const MEMORY_LIMIT: &str = "host.memory_limit";
pub const OPEN_FILES: &str = "host.open_files";

/// Where a plugin's code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// In a process of its own: whatever it does, the host goes on.
    Process,
    /// Loaded into the host: no pipe, but a crash takes the host with it.
    InProcess,
}

impl Isolation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Process => "process",
            Self::InProcess => "in-process",
        }
    }

    /// The mode a plugin's stored host settings ask for.
    pub fn of(settings: &[(String, Value)]) -> Self {
        match stored(settings, ISOLATION).and_then(Value::as_str) {
            Some("in-process") => Self::InProcess,
            _ => Self::Process,
        }
    }
}

/// Resource limits set on a plugin process before it loads the plugin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of address space (RLIMIT_AS).
    pub memory: Option<u64>,
    /// Open file descriptors (RLIMIT_NOFILE).
    pub open_files: Option<u64>,
}

impl Limits {
    /// The limits a plugin's stored host settings ask for.
    pub fn of(settings: &[(String, Value)]) -> Self {
        Self {
            memory: stored(settings, MEMORY_LIMIT).and_then(Value::as_u64),
            open_files: stored(settings, OPEN_FILES).and_then(Value::as_u64),
        }
    }

    /// Sets the limits on the calling process (the plugin process, between
    /// fork and exec: only async-signal-safe calls).
    pub fn apply(&self) -> std::io::Result<()> {
        let set = |resource, value: u64| {
            let limit = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            // SAFETY: setrlimit reads the struct it is given and nothing else.
            if unsafe { libc::setrlimit(resource, &limit) } == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        };
        if let Some(bytes) = self.memory {
            set(libc::RLIMIT_AS, bytes)?;
        }
        if let Some(files) = self.open_files {
            set(libc::RLIMIT_NOFILE, files)?;
        }
        Ok(())
    }
}

fn stored<'a>(settings: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    settings.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Reads an admin's value for one of the isolation settings; `None` when
/// `key` is not one of them.
pub fn parse_setting(key: &str, raw: &str) -> Option<Result<Value, String>> {
    let raw = raw.trim();
    Some(match key {
        ISOLATION => match raw {
            "process" | "in-process" => Ok(Value::from(raw)),
            _ => Err("must be process or in-process".into()),
        },
        MEMORY_LIMIT => parse_bytes(raw).map(Value::from),
        OPEN_FILES => match raw.parse::<u64>() {
            Ok(n) if (16..=1 << 20).contains(&n) => Ok(Value::from(n)),
            _ => Err("must be a number of files from 16 to 1048576".into()),
        },
        _ => return None,
    })
}

/// `512M`, `2G`, `65536K` or a number of bytes; at least 64 MiB (the
/// plugin process needs some to start).
fn parse_bytes(raw: &str) -> Result<u64, String> {
    let refuse = || "must be a size such as 512M or 2G, at least 64M".to_string();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits.parse().map_err(|_| refuse())?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(refuse()),
    };
    n.checked_mul(1 << shift)
        .filter(|bytes| *bytes >= 64 << 20)
        .ok_or_else(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_are_read_and_bad_values_refused() {
        assert_eq!(
            parse_setting(ISOLATION, "in-process"),
            Some(Ok(Value::from("in-process")))
        );
        assert!(matches!(parse_setting(ISOLATION, "thread"), Some(Err(_))));
        assert_eq!(
            parse_setting(MEMORY_LIMIT, "512M"),
            Some(Ok(Value::from(512u64 << 20)))
        );
        assert_eq!(
            parse_setting(MEMORY_LIMIT, "2g"),
            Some(Ok(Value::from(2u64 << 30)))
        );
        for bad in ["1M", "lots", "9999999999999G", ""] {
            assert!(
                matches!(parse_setting(MEMORY_LIMIT, bad), Some(Err(_))),
                "{bad}"
            );
        }
        assert!(matches!(parse_setting(OPEN_FILES, "3"), Some(Err(_))));
        assert_eq!(parse_setting("host.job_deadline", "1s"), None);
    }

    #[test]
    fn process_is_the_default_and_limits_come_from_the_settings() {
        assert_eq!(Isolation::of(&[]), Isolation::Process);
        let settings = vec![
            (ISOLATION.to_string(), Value::from("in-process")),
            (MEMORY_LIMIT.to_string(), Value::from(1u64 << 29)),
        ];
        assert_eq!(Isolation::of(&settings), Isolation::InProcess);
        assert_eq!(
            Limits::of(&settings),
            Limits {
                memory: Some(1 << 29),
                open_files: None
            }
        );
    }
}
