//! What the page says of a run going on, pure: each step its plugin
//! reported with its count ("products imported: 200 of 1268"; a total only
//! when the plugin knew one, else "total unknown"), how long the run has
//! been going and, when the step under way has a known total, about how
//! long that step has left.

use std::time::Duration;

use serde::Serialize;

use crate::runs::live::{LiveView, Step};

/// A run's progress as the page shows it and its script receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProgressText {
    /// "Running: 12 s so far, about 30 s left for this step".
    pub head: String,
    /// One line per step, oldest first.
    pub lines: Vec<String>,
}

/// The page's words for `view`.
pub fn progress_text(view: &LiveView) -> ProgressText {
    let mut head = format!("Running: {} so far", duration_text(view.elapsed));
    if let Some(left) = view.steps.last().and_then(|s| left_of(s, view.elapsed)) {
        head.push_str(&format!(
            ", about {} left for this step",
            duration_text(left)
        ));
    }
    if let Some(by) = &view.cancelled_by {
        head.push_str(&format!("; {by} cancelled it, it stops at its next check"));
    }
    let lines = if view.steps.is_empty() {
        vec!["starting".to_owned()]
    } else {
        view.steps.iter().map(step_line).collect()
    };
    ProgressText { head, lines }
}

/// "products imported: 200 of 1268", or "...: 200, total unknown".
pub fn step_line(step: &Step) -> String {
    match step.total {
        Some(total) => format!("{}: {} of {total}", step.message, step.done),
        None => format!("{}: {}, total unknown", step.message, step.done),
    }
}

/// What is left of `step` at the pace it has gone since it began, `now`
/// after the run's start; `None` without a total or a first count.
fn left_of(step: &Step, now: Duration) -> Option<Duration> {
    let total = step.total?;
    if step.done == 0 || step.done >= total {
        return None;
    }
    let spent = now.saturating_sub(step.began).as_secs_f64();
    let per_unit = spent / step.done as f64;
    Some(Duration::from_secs_f64(
        per_unit * (total - step.done) as f64,
    ))
}

/// "0.4 s", "45 s", "3 min 05 s", "2 h 07 min".
pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..10 => format!("{:.1} s", d.as_secs_f64()),
        10..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(message: &str, done: u64, total: Option<u64>, began: u64) -> Step {
        Step {
            message: message.into(),
            done,
            total,
            began: Duration::from_secs(began),
        }
    }

    #[test]
    fn a_step_shows_its_total_only_when_known_and_the_estimate_follows_its_pace() {
        let view = LiveView {
            elapsed: Duration::from_secs(30),
            steps: vec![
                step("pages read", 12, None, 0),
                step("products imported", 100, Some(400), 10),
            ],
            cancelled_by: None,
        };
        let text = progress_text(&view);
        assert_eq!(
            text.lines,
            vec![
                "pages read: 12, total unknown",
                "products imported: 100 of 400"
            ]
        );
        // 100 in 20 s: 300 left take 60 s.
        assert_eq!(
            text.head,
            "Running: 30 s so far, about 1 min 00 s left for this step"
        );
    }

    #[test]
    fn no_estimate_without_a_total_or_a_count_and_a_cancel_is_said() {
        let view = LiveView {
            elapsed: Duration::from_secs(3725),
            steps: vec![step("reading", 0, Some(10), 0)],
            cancelled_by: Some("web:ann".into()),
        };
        assert_eq!(
            progress_text(&view).head,
            "Running: 1 h 02 min so far; web:ann cancelled it, it stops at its next check"
        );
        let starting = LiveView {
            steps: Vec::new(),
            ..view
        };
        assert_eq!(progress_text(&starting).lines, vec!["starting"]);
        assert_eq!(duration_text(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(duration_text(Duration::from_millis(431)), "0.4 s");
    }
}
