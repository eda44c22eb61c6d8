//! The overview's chart of recent days' runs, pure: per day, the records
//! runs moved (created or updated) and their failures (runs that failed,
//! timed out or were interrupted, and records that failed), drawn as SVG
//! markup in the page (no script, no inline style: the CSP stays strict;
//! colours come from the style sheet's classes).

use maud::{Markup, html};

use intellitrack_db::RunDay;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 170;
/// Where the bars' area begins, leaving room for the scale's labels.
const LEFT: u32 = 52;
const TOP: u32 = 14;
const BARS_HEIGHT: u32 = 120;

/// The chart of the `days` days ending with `last_day` (days since
/// 1970-01-01), from the days that had runs; `label(day)` names a day.
pub fn runs_chart(
    runs: &[RunDay],
    last_day: i64,
    days: u32,
    label: impl Fn(i64) -> String,
) -> Markup {
    let first_day = last_day - i64::from(days) + 1;
    let per_day: Vec<RunDay> = (first_day..=last_day)
        .map(|day| {
            runs.iter()
                .find(|r| r.day == day)
                .copied()
                .unwrap_or(RunDay {
                    day,
                    ..RunDay::default()
                })
        })
        .collect();
    let failures = |d: &RunDay| d.failed_runs + d.failed_records;
    let most_moved = per_day.iter().map(|d| d.moved).max().unwrap_or(0).max(1);
    let most_failed = per_day.iter().map(failures).max().unwrap_or(0).max(1);
    let slot = (WIDTH - LEFT) / days.max(1);
    let bar = (slot.saturating_sub(4) / 2).max(1);
    let height = |value: u64, most: u64| {
        (value as f64 / most as f64 * f64::from(BARS_HEIGHT)).round() as u32
    };
    let base = TOP + BARS_HEIGHT;
    html! {
        svg class="runs-chart" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(HEIGHT)
            viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
            aria-label=(format!("Runs of the last {days} days: records moved and failures per day")) {
            line class="axis" x1=(LEFT) y1=(base) x2=(WIDTH) y2=(base) {}
            text class="scale moved" x="0" y=(TOP + 8) { (most_moved) " moved" }
            text class="scale failed" x="0" y=(TOP + 24) { (most_failed) " failed" }
            @for (n, d) in per_day.iter().enumerate() {
                @let x = LEFT + n as u32 * slot + 2;
                @let moved = height(d.moved, most_moved);
                @let failed = height(failures(d), most_failed);
                g class="day" data-day=(label(d.day)) {
                    title {
                        (label(d.day)) ": " (d.runs) " runs, " (d.moved) " records moved, "
                        (d.failed_runs) " runs failed, " (d.failed_records) " records failed"
                    }
                    rect class="moved" x=(x) y=(base - moved) width=(bar) height=(moved) {}
                    rect class="failed" x=(x + bar) y=(base - failed) width=(bar) height=(failed) {}
                }
            }
            @for (n, anchor) in [(0, "start"), (days / 2, "middle"), (days - 1, "end")] {
                text class="day-label" x=(LEFT + n * slot + slot / 2) y=(HEIGHT - 8) text-anchor=(anchor) {
                    (label(first_day + i64::from(n)))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_day_gets_bars_scaled_to_the_busiest_day() {
        let runs = [
            RunDay {
                day: 100,
                runs: 2,
                moved: 50,
                failed_records: 1,
                failed_runs: 0,
            },
            RunDay {
                day: 102,
                runs: 1,
                moved: 100,
                failed_records: 0,
                failed_runs: 2,
            },
        ];
        let svg = runs_chart(&runs, 102, 3, |d| format!("d{d}")).into_string();
        assert_eq!(svg.matches("<g class=\"day\"").count(), 3);
        assert!(svg.contains(
            "<title>d100: 2 runs, 50 records moved, 0 runs failed, 1 records failed</title>"
        ));
        // The busiest day's bar is the whole height, half of it the other.
        assert!(svg.contains(&format!("height=\"{BARS_HEIGHT}\"")));
        assert!(svg.contains(&format!("height=\"{}\"", BARS_HEIGHT / 2)));
        assert!(svg.contains(">100 moved<") && svg.contains(">2 failed<"));
        assert!(!svg.contains("style="), "no inline style: {svg}");
    }
}
