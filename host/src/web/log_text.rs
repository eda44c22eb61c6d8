//! Untrusted text (a user name typed at the login, a request's path) as it
//! may go into the log: cut to [`LOG_CHARS`] characters (with "…" when
//! cut) and escaped as Rust escapes a string (`\n`, `\u{1b}`, `\"`, `\\`),
//! so that a value can neither forge a log line, drive the terminal, nor
//! fill the disk. Pure.

/// How many characters of an untrusted value the log keeps.
pub const LOG_CHARS: usize = 64;

/// `text` cut and escaped for the log.
pub fn untrusted(text: &str) -> String {
    let mut chars = text.char_indices();
    let cut = chars.nth(LOG_CHARS).map(|(at, _)| at);
    let kept = &text[..cut.unwrap_or(text.len())];
    let mut shown = kept.escape_debug().to_string();
    if cut.is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_values_cut() {
        assert_eq!(untrusted("ann"), "ann");
        assert_eq!(untrusted("Zoë"), "Zoë");
        assert_eq!(
            untrusted("a\nFORGED\r\x1b[31m\0\u{85}\u{202e}\"\\"),
            r#"a\nFORGED\r\u{1b}[31m\0\u{85}\u{202e}\"\\"#
        );
        let long = "x".repeat(2_000_000);
        assert_eq!(untrusted(&long), format!("{}…", "x".repeat(LOG_CHARS)));
        assert_eq!(untrusted(&long[..LOG_CHARS]), "x".repeat(LOG_CHARS));
        let wide = "ü".repeat(LOG_CHARS + 1);
        assert_eq!(untrusted(&wide).chars().count(), LOG_CHARS + 1);
    }
}
