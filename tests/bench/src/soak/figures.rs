//! What the soak measures each simulated day, the targets it holds the
//! whole run to, and the plot of the curves (hand-written SVG). Pure.

use std::fmt::Write;

/// One simulated day's figures, taken at its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub day: u32,
    /// `serve`'s resident set.
    pub rss_mib: f64,
    /// Its plugin processes' resident sets together.
    pub plugins_rss_mib: f64,
    /// The database file with its write-ahead log.
    pub db_mib: f64,
    /// Of the file, the host's own records (runs, their issues, the change
    /// feed, the audit, ...): what the retention settings hold.
    pub host_mib: f64,
    /// Of the file, the warehouse's records (items, stock, orders, picks,
    /// shipments): kept as the warehouse keeps them, growing with orders.
    pub warehouse_mib: f64,
    /// Requests both stores answered that day: `serve`'s, the driver's
    /// and its checks'.
    pub requests: u64,
    /// Rows of each table, in the order of `checks::TABLES`.
    pub rows: Vec<u64>,
    /// Real seconds the day took.
    pub wall_s: f64,
}

/// A target, PASS or MISS.
pub struct Target {
    pub pass: Option<bool>,
    pub text: String,
}

impl Target {
    pub fn render(&self) -> String {
        let verdict = match self.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a ",
        };
        format!("{verdict}  {}", self.text)
    }
}

/// The days a figure's level is taken over: a week, the period of
/// `serve`'s restarts (its RSS starts low after each).
const WEEK: u32 = 7;

/// A figure flat after the first retention period: its highest value over
/// the last week of the run at most 10 % above its highest over the week
/// that period ended (a week each, so the two are taken alike whatever
/// day of the restarts' week each falls on). `None` (n/a) when the run is
/// not longer than the period.
pub fn flat_after(days: &[Day], retention_days: u32, name: &str, value: fn(&Day) -> f64) -> Target {
    let level = |last: u32| {
        days.iter()
            .filter(|d| d.day <= last && d.day + WEEK > last)
            .map(value)
            .fold(f64::NAN, f64::max)
    };
    match days.last() {
        Some(last) if last.day > retention_days && days.iter().any(|d| d.day == retention_days) => {
            let (from, to) = (level(retention_days), level(last.day));
            Target {
                pass: Some(to <= from * 1.10),
                text: format!(
                    "{name} flat after the first retention period (highest in the week to day \
                     {retention_days}: {from:.1}, in the last week to day {}: {to:.1}; at most +10 %)",
                    last.day
                ),
            }
        }
        _ => Target {
            pass: None,
            text: format!(
                "{name} flat after the first retention period: the run is not longer than \
                 {retention_days} days"
            ),
        },
    }
}

/// A named curve: a value a day.
type Curve = (String, Vec<f64>);

/// The plot: one panel a curve (RSS, database size, requests a day, rows
/// of each table), day on the x axis.
pub fn svg(days: &[Day], tables: &[&str], title: &str) -> String {
    const W: f64 = 900.0;
    const PANEL_H: f64 = 170.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 180.0;
    let colours = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22",
    ];
    let mut panels: Vec<(&str, Vec<Curve>)> = vec![
        (
            "RSS (MiB)",
            vec![
                ("serve".into(), days.iter().map(|d| d.rss_mib).collect()),
                (
                    "plugin processes".into(),
                    days.iter().map(|d| d.plugins_rss_mib).collect(),
                ),
            ],
        ),
        (
            "database (MiB)",
            vec![
                ("file + wal".into(), days.iter().map(|d| d.db_mib).collect()),
                ("host's".into(), days.iter().map(|d| d.host_mib).collect()),
                (
                    "warehouse's".into(),
                    days.iter().map(|d| d.warehouse_mib).collect(),
                ),
            ],
        ),
        (
            "store requests per day",
            vec![(
                "requests".into(),
                days.iter().map(|d| d.requests as f64).collect(),
            )],
        ),
    ];
    panels.push((
        "rows per table",
        tables
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    (*t).to_owned(),
                    days.iter()
                        .map(|d| d.rows.get(i).copied().unwrap_or(0) as f64)
                        .collect(),
                )
            })
            .collect(),
    ));
    let height = 40.0 + PANEL_H * panels.len() as f64 + 30.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="22" font-size="14">{}</text>"#,
        escape(title)
    );
    let last_day = days.last().map_or(1, |d| d.day.max(1)) as f64;
    for (p, (name, series)) in panels.iter().enumerate() {
        let top = 40.0 + PANEL_H * p as f64;
        let plot_h = PANEL_H - 40.0;
        let plot_w = W - LEFT - RIGHT;
        let max = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0_f64, f64::max)
            .max(1.0);
        let _ = writeln!(
            out,
            r##"<text x="{LEFT}" y="{}" font-weight="bold">{}</text><rect x="{LEFT}" y="{}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>"##,
            top + 12.0,
            escape(name),
            top + 18.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>"#,
            LEFT - 4.0,
            top + 26.0,
            short(max),
            LEFT - 4.0,
            top + 18.0 + plot_h
        );
        for (s, (label, values)) in series.iter().enumerate() {
            let colour = colours[s % colours.len()];
            let points: Vec<String> = days
                .iter()
                .zip(values)
                .map(|(d, v)| {
                    format!(
                        "{:.1},{:.1}",
                        LEFT + plot_w * f64::from(d.day) / last_day,
                        top + 18.0 + plot_h * (1.0 - v / max)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/><text x="{}" y="{}" fill="{colour}">{}</text>"#,
                points.join(" "),
                W - RIGHT + 8.0,
                top + 30.0 + 12.0 * s as f64,
                escape(label)
            );
        }
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">simulated day (last: {})</text></svg>"#,
        LEFT + (W - LEFT - RIGHT) / 2.0,
        height - 10.0,
        last_day
    );
    out
}

fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: u32, rss_mib: f64) -> Day {
        Day {
            day,
            rss_mib,
            plugins_rss_mib: 2.0,
            db_mib: 1.0,
            host_mib: 0.5,
            warehouse_mib: 0.4,
            requests: 100,
            rows: vec![day.into(), 2],
            wall_s: 1.0,
        }
    }

    #[test]
    fn flatness_is_judged_from_the_end_of_the_first_retention_period() {
        let rss = |d: &Day| d.rss_mib;
        // Growing a unit a day: the week to day 10 peaks at 20, the last
        // week's at 30, more than 10 % above.
        let growing: Vec<Day> = (1..=20).map(|d| day(d, 10.0 + f64::from(d))).collect();
        assert_eq!(flat_after(&growing, 10, "RSS", rss).pass, Some(false));
        // Restarted every week (low after each, rising through the week):
        // each week peaks alike, whichever day the periods end on.
        let weekly: Vec<Day> = (1..=30).map(|d| day(d, 10.0 + f64::from(d % 7))).collect();
        assert_eq!(flat_after(&weekly, 10, "RSS", rss).pass, Some(true));
        assert_eq!(flat_after(&weekly, 30, "RSS", rss).pass, None);
    }

    #[test]
    fn the_plot_has_a_curve_per_figure_and_table() {
        let days: Vec<Day> = (1..=3).map(|d| day(d, 10.0)).collect();
        let svg = svg(&days, &["runs", "audit_log"], "soak <seed 1>");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 8);
        assert!(svg.contains("soak &lt;seed 1&gt;"));
        assert!(svg.contains(">audit_log</text>"));
    }
}
