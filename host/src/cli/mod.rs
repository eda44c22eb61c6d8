//! The admin CLI's commands, each module one command group. They call the
//! host ([`crate::host`]) and the database; the service itself lives
//! outside this folder.

/// `println!` that hands a failed write back as an error instead of
/// panicking, so output into a pipe closed early (`| head`) ends the
/// command quietly (see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}
pub(crate) use outln;

pub mod backup;
pub mod columns;
pub mod new_plugin;
pub mod plugins;
pub mod retention;
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
/// records: `cli:` and the operating-system user the process runs as (its
/// real user id's name, or the number when it has none). Whoever runs the
/// CLI can read the data dir, so the CLI is the machine's admin: it names
/// no user of the admin page.
pub fn cli_actor() -> String {
    format!("cli:{}", os_user())
}

/// The name of the process's real user, or its number.
pub fn os_user() -> String {
    // SAFETY: getuid cannot fail; getpwuid_r writes only into `entry` and
    // `buffer` (whose length it is given) and sets `found` to `entry` or
    // null; the name is read only when it found one, while `buffer` lives.
    unsafe {
        let uid = libc::getuid();
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut buffer = vec![0 as libc::c_char; 4096];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let status = libc::getpwuid_r(
            uid,
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        );
        if status == 0 && !found.is_null() && !entry.pw_name.is_null() {
            return std::ffi::CStr::from_ptr(entry.pw_name)
                .to_string_lossy()
                .into_owned();
        }
        uid.to_string()
    }
}
