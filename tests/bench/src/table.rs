//! The printed result: one table of runs per store setting, then the
//! targets as PASS / MISS with their numbers. A MISS is a finding, not an
//! error: the program still exits 0.

use std::fmt::Write as _;

/// One measured run.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    /// Records created/updated (plugin) or read (readers).
    pub records: u64,
    pub wall: f64,
    /// Requests the store counted for the run.
    pub requests: u64,
    pub minimum: u64,
    /// User + system CPU seconds of the measured process.
    pub cpu: f64,
    /// CPU seconds the store spent meanwhile (it shares the machine).
    pub store_cpu: f64,
    pub peak_rss_mib: f64,
}

impl Row {
    pub fn rate(&self) -> f64 {
        if self.wall > 0.0 {
            self.records as f64 / self.wall
        } else {
            0.0
        }
    }
}

/// Column titles and widths; the first is left-aligned, the rest right.
const COLUMNS: [(&str, usize); 9] = [
    ("run", 34),
    ("records", 8),
    ("wall s", 8),
    ("records/s", 9),
    ("requests", 8),
    ("minimum", 8),
    ("CPU s", 7),
    ("store CPU s", 11),
    ("peak RSS MiB", 12),
];

/// One table line; the first column is `first` wide.
fn line(cells: &[String], first: usize) -> String {
    let mut out = String::from("|");
    for (i, (cell, (_, width))) in cells.iter().zip(COLUMNS).enumerate() {
        if i == 0 {
            let _ = write!(out, " {cell:<first$} |");
        } else {
            let _ = write!(out, " {cell:>width$} |");
        }
    }
    out
}

/// A Markdown table (also readable as plain text); the first column is as
/// wide as its longest name.
pub fn render(title: &str, rows: &[Row]) -> String {
    let first = rows
        .iter()
        .map(|r| r.name.chars().count())
        .fold(COLUMNS[0].1, usize::max);
    let mut out = format!("{title}\n\n");
    out += &line(&COLUMNS.map(|(title, _)| title.to_owned()), first);
    out += "\n|";
    for (i, (_, width)) in COLUMNS.iter().enumerate() {
        out += &if i == 0 {
            "-".repeat(first + 2)
        } else {
            "-".repeat(width + 1) + ":"
        };
        out += "|";
    }
    out += "\n";
    for row in rows {
        out += &line(
            &[
                row.name.clone(),
                row.records.to_string(),
                format!("{:.2}", row.wall),
                format!("{:.0}", row.rate()),
                row.requests.to_string(),
                row.minimum.to_string(),
                format!("{:.2}", row.cpu),
                format!("{:.2}", row.store_cpu),
                format!("{:.1}", row.peak_rss_mib),
            ],
            first,
        );
        out += "\n";
    }
    out
}

/// One target and how the run fared against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub target: String,
    /// `None`: the target does not apply to this setting (shown for information).
    pub pass: Option<bool>,
    pub detail: String,
}

impl Check {
    pub fn render(&self) -> String {
        let verdict = match self.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a ",
        };
        format!("{verdict}  {}: {}", self.target, self.detail)
    }
}

/// Full import wall (products + orders) at most 1.2 × the raw fetch.
pub fn import_vs_floor(import_wall: f64, floor_wall: f64) -> Check {
    let ratio = import_wall / floor_wall;
    Check {
        target: "full import wall <= 1.2 x raw fetch".into(),
        pass: Some(ratio <= 1.2),
        detail: format!("{import_wall:.2} s vs {floor_wall:.2} s = {ratio:.3} x"),
    }
}

/// At least 3 × faster than the Python script; judged at 100 ms latency.
pub fn import_vs_python(import_wall: f64, python_wall: Option<f64>, latency_ms: u64) -> Check {
    let target = "full import >= 3 x faster than the Python client (at 100 ms)".to_owned();
    let Some(python_wall) = python_wall else {
        return Check {
            target,
            pass: None,
            detail: "the Python client was not run".into(),
        };
    };
    let speedup = python_wall / import_wall;
    Check {
        target,
        pass: (latency_ms == 100).then_some(speedup >= 3.0),
        detail: format!(
            "{import_wall:.2} s vs {python_wall:.2} s = {speedup:.3} x faster{}",
            if latency_ms == 100 {
                String::new()
            } else {
                format!(" (at {latency_ms} ms; the target is for 100 ms)")
            }
        ),
    }
}

/// 150 MB, in MiB.
pub const RSS_LIMIT_MIB: f64 = 150e6 / (1024.0 * 1024.0);

/// The plugin's peak RSS (largest of its runs) at most 150 MB.
pub fn peak_rss(runs: &[(&str, f64)]) -> Check {
    let (name, mib) = runs
        .iter()
        .copied()
        .fold(("none", 0.0), |a, b| if b.1 > a.1 { b } else { a });
    Check {
        target: "plugin peak RSS <= 150 MB".into(),
        pass: Some(mib <= RSS_LIMIT_MIB),
        detail: format!(
            "{:.1} MB ({mib:.1} MiB) in {name}",
            mib * 1024.0 * 1024.0 / 1e6
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_pass_and_miss_with_their_numbers() {
        assert_eq!(import_vs_floor(12.0, 10.0).pass, Some(true));
        let miss = import_vs_floor(13.0, 10.0);
        assert_eq!(miss.pass, Some(false));
        assert_eq!(miss.detail, "13.00 s vs 10.00 s = 1.300 x");
        assert!(miss.render().starts_with("MISS"));
        assert_eq!(import_vs_python(10.0, Some(31.0), 100).pass, Some(true));
        assert_eq!(import_vs_python(10.0, Some(29.0), 100).pass, Some(false));
        assert_eq!(import_vs_python(10.0, Some(29.0), 0).pass, None);
        assert_eq!(import_vs_python(10.0, None, 100).pass, None);
        let rss = peak_rss(&[("a", 100.0), ("b", 150.0)]);
        assert_eq!(rss.pass, Some(false));
        assert!(rss.detail.ends_with("in b"), "{}", rss.detail);
        assert_eq!(peak_rss(&[("a", 143.0)]).pass, Some(true));
    }

    #[test]
    fn a_table_has_a_line_per_run() {
        let row = Row {
            name: "plugin import-products".into(),
            records: 1000,
            wall: 2.0,
            requests: 11,
            minimum: 10,
            cpu: 1.5,
            store_cpu: 0.5,
            peak_rss_mib: 40.0,
        };
        assert_eq!(row.rate(), 500.0);
        let text = render("title", &[row.clone(), row]);
        assert_eq!(text.lines().count(), 6);
        assert!(text.contains("plugin import-products"));
    }
}
