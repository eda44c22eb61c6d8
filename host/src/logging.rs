//! Where the host's log goes and in what shape: standard error, as human
//! text (the default; coloured only on a terminal without `NO_COLOR`) or as
//! one JSON object a line for log shippers (`--log-format json`). The level
//! filter comes from `RUST_LOG` (default `info`). Secrets never reach a log
//! line in either shape: they are typed `Secret` and print as `********`.

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The shape of log lines on standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human text.
    #[default]
    Text,
    /// One JSON object a line (timestamp, level, target, fields, spans).
    Json,
}

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(log_colours(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR"),
            ))
            .init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Whether log lines are coloured: only on a terminal, and never when
/// `NO_COLOR` is set to anything but the empty string (no-color.org).
fn log_colours(stderr_is_terminal: bool, no_color: Option<OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(log_colours(true, None));
        assert!(
            log_colours(true, Some("".into())),
            "an empty NO_COLOR is unset"
        );
        assert!(!log_colours(true, Some("1".into())));
        assert!(
            !log_colours(true, Some("false".into())),
            "any value disables"
        );
        assert!(!log_colours(false, None));
    }
}
