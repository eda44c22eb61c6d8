//! What a benchmark prints as its result on standard output, kept as well,
//! so that `--doc FILE` writes exactly that into the benchmarks document:
//! the figures there are the program's own output and cannot drift from it.
//!
//! Progress goes to standard error (`say`) and is not kept. Each benchmark
//! owns one section of the document, between the lines
//! `<!-- bench NAME begin -->` and `<!-- bench NAME end -->`; the text
//! around the sections (how to read the tables) is written by hand.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;

static KEPT: Mutex<String> = Mutex::new(String::new());

/// Prints a result line and keeps it for `--doc`.
macro_rules! outln {
    () => { $crate::transcript::line(String::new()) };
    ($($arg:tt)*) => { $crate::transcript::line(format!($($arg)*)) };
}
pub(crate) use outln;

pub(crate) fn line(text: String) {
    println!("{text}");
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    kept.push_str(&text);
    kept.push('\n');
}

/// Writes what was printed into `doc`'s section `name`, headed by the
/// command that printed it.
pub(crate) fn write_section(doc: &Path, name: &str, command: &str) -> anyhow::Result<()> {
    let printed = KEPT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let text = match std::fs::read_to_string(doc) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error).with_context(|| format!("reading {}", doc.display())),
    };
    let context = format!(
        "on {}, load average at the end {}",
        crate::machine::describe(),
        crate::machine::load_average()
    );
    let body = section_body(command, &context, &printed);
    std::fs::write(doc, replace_section(&text, name, &body))
        .with_context(|| format!("writing {}", doc.display()))?;
    eprintln!(
        "[bench] wrote its figures into {} (section {name})",
        doc.display()
    );
    Ok(())
}

fn section_body(command: &str, context: &str, printed: &str) -> String {
    format!(
        "Printed by `{command}` ({context}):\n\n```text\n{}\n```\n",
        printed.trim_end()
    )
}

fn markers(name: &str) -> (String, String) {
    (
        format!("<!-- bench {name} begin -->"),
        format!("<!-- bench {name} end -->"),
    )
}

/// `text` with the section `name` replaced by `body`, or, when it has no
/// such section, with the section added at its end.
fn replace_section(text: &str, name: &str, body: &str) -> String {
    let (begin, end) = markers(name);
    let section = format!("{begin}\n{body}{end}");
    if let Some(start) = text.find(&begin)
        && let Some(stop) = text[start..].find(&end)
    {
        let stop = start + stop + end.len();
        return format!("{}{section}{}", &text[..start], &text[stop..]);
    }
    let mut out = text.trim_end().to_owned();
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&section);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_and_the_text_around_it_kept() {
        let doc = "# Benchmarks\n\nhow to read it\n\n<!-- bench import begin -->\nold\n<!-- bench import end -->\n\nafter\n";
        let new = replace_section(
            doc,
            "import",
            &section_body("bench import", "on m", "table\n"),
        );
        assert_eq!(
            new,
            "# Benchmarks\n\nhow to read it\n\n<!-- bench import begin -->\nPrinted by `bench import` (on m):\n\n```text\ntable\n```\n<!-- bench import end -->\n\nafter\n"
        );
        assert_eq!(
            replace_section(&new, "import", "x\n")
                .matches("bench import begin")
                .count(),
            1
        );
    }

    #[test]
    fn a_missing_section_is_added_at_the_end_and_others_are_left_alone() {
        let doc = "intro\n<!-- bench import begin -->\nkept\n<!-- bench import end -->\n";
        let new = replace_section(doc, "outbound", "figures\n");
        assert!(new.starts_with(doc.trim_end()), "{new}");
        assert!(
            new.ends_with("<!-- bench outbound begin -->\nfigures\n<!-- bench outbound end -->\n")
        );
        assert_eq!(
            replace_section("", "all", "f\n"),
            "<!-- bench all begin -->\nf\n<!-- bench all end -->\n"
        );
    }
}
