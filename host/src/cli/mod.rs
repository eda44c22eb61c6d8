//! The admin CLI's commands, each module one command group. They call the
//! host ([`crate::host`]) and the database; the service itself lives
//! outside this folder.

pub mod backup;
pub mod new_plugin;
pub mod plugins;
pub mod runs;
pub mod schedule;
pub mod settings;
pub mod users;
pub mod warehouse;

/// A UTC time from epoch milliseconds, for people.
pub fn format_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Who a command run on this machine acts as, for the audit log and run
/// records: `local:` and the operating-system user.
pub fn local_user() -> String {
    format!(
        "local:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}
