//! Confirmation before the changes that are hard to take back: deactivating
//! a plugin instance, resetting a watermark, and a forced run (End of Day
//! past its safety limit). Without JavaScript: the first POST answers a
//! page naming what will happen, whose own button posts the same form
//! again with `confirmed=yes`, and only that second POST acts (through the
//! page that does it, unchanged).

use axum::Extension;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use maud::html;
use plugin_api::{FieldKind, ScheduleKind};

use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame};
use super::plugins::loaded;
use super::{State, blocking, hand_runs};
use crate::service::admin;

/// The field a confirmation page's button adds to the form.
const CONFIRMED: &str = "confirmed";

/// Whether the form comes from a confirmation page's button.
pub fn confirmed(form: &Form) -> bool {
    form.field(CONFIRMED) == Some("yes")
}

/// What a confirmation page shows and posts.
pub struct Confirmation<'a> {
    pub title: &'a str,
    /// What will happen, in a sentence or two.
    pub consequence: &'a str,
    /// Where the confirmed form goes.
    pub action: &'a str,
    /// The form's fields to post again (besides the CSRF token).
    pub fields: Vec<(&'a str, &'a str)>,
    pub button: &'a str,
    /// Where "Cancel" leads.
    pub back: &'a str,
}

/// The page asking `viewer` to confirm.
pub fn page(viewer: &Viewer, c: &Confirmation<'_>) -> Response {
    let body = html! {
        p class="consequence" id="consequence" { (c.consequence) }
        form method="post" action=(c.action) id="confirmation" {
            (csrf(viewer))
            @for (name, value) in &c.fields { input type="hidden" name=(name) value=(value); }
            input type="hidden" name=(CONFIRMED) value="yes";
            button type="submit" id="confirm" { (c.button) }
            " "
            a href=(c.back) id="cancel" { "Cancel" }
        }
    };
    frame(c.title, Some(viewer), body).into_response()
}

/// A number with thousands separated by commas.
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// What a forced End of Day writes: to how many items, at which store.
fn forced_end_of_day(items: usize, store: Option<&str>) -> String {
    format!(
        "End of Day with force will write the stock counts of up to {} items to {}, even where more than its safety limit of the items would change or be set to zero.",
        count(items),
        store.unwrap_or("the store")
    )
}

/// Runs a job by hand; a forced run (not a dry run) is confirmed first.
pub async fn run_job(
    state: State,
    viewer: Extension<Viewer>,
    Path((id, job)): Path<(String, String)>,
    form: Extension<Form>,
) -> Result<Response, Failure> {
    let forced = form.field("force") == Some("true") && form.field("dry_run") != Some("true");
    if !forced || confirmed(&form) {
        return hand_runs::start(state, viewer, Path((id, job)), form).await;
    }
    let page_state = state.0.clone();
    let plugin = loaded(&page_state.host, &id)?;
    let Some(spec) = plugin.manifest.job(&job).cloned() else {
        return Err(Failure::not_found("The plugin has no such job."));
    };
    let consequence = if spec.schedule == ScheduleKind::EndOfDay {
        let host = page_state.host.clone();
        let instance = id.clone();
        let (items, store) = blocking(move || -> anyhow::Result<_> {
            let plugin = host.plugin(&instance)?;
            let settings = host.settings(plugin)?;
            let store = plugin
                .manifest
                .settings
                .iter()
                .find(|f| f.kind == FieldKind::Url)
                .and_then(|f| settings.get(&f.key))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            let items = host
                .core
                .db
                .items_with_store_refs()?
                .iter()
                .filter(|i| {
                    i.value.active
                        && i.store_refs
                            .iter()
                            .any(|r| r.instance == instance && r.gone_at.is_none())
                })
                .count();
            Ok((items, store))
        })
        .await?
        .map_err(Failure::from_db)?;
        forced_end_of_day(items, store.as_deref())
    } else {
        format!("{} will run with force: {}", spec.title, spec.description)
    };
    let action = format!("/plugins/{id}/jobs/{job}/run");
    let back = format!("/plugins/{id}/jobs");
    let title = format!("Run {} with force?", spec.title);
    Ok(page(
        &viewer,
        &Confirmation {
            title: &title,
            consequence: &consequence,
            action: &action,
            fields: vec![("force", "true")],
            button: "Run with force",
            back: &back,
        },
    ))
}

/// Resets a watermark once confirmed.
pub async fn reset_watermark(
    state: State,
    viewer: Extension<Viewer>,
    Path((id, key)): Path<(String, String)>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    if confirmed(&form) {
        return hand_runs::reset_watermark(state, viewer, Path((id, key))).await;
    }
    loaded(&state.0.host, &id)?;
    let host = state.0.host.clone();
    let instance = id.clone();
    let watermarks = blocking(move || admin::watermarks(&host, &instance))
        .await?
        .map_err(Failure::from_db)?;
    let now = watermarks
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.get(admin::WATERMARK)?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "none".into());
    let consequence = format!(
        "The watermark {key} of {id} (now {now}) will be forgotten: the next run of its import reads every record from the store again instead of only what changed since then."
    );
    let action = format!("/plugins/{id}/watermarks/{key}/reset");
    let back = format!("/plugins/{id}/jobs");
    Ok(page(
        &viewer,
        &Confirmation {
            title: "Reset the watermark?",
            consequence: &consequence,
            action: &action,
            fields: vec![],
            button: "Reset the watermark",
            back: &back,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1268), "1,268");
        assert_eq!(count(1234567), "1,234,567");
    }

    #[test]
    fn a_forced_end_of_day_names_how_many_counts_go_where() {
        let text = forced_end_of_day(1268, Some("https://shop.example.com"));
        assert!(
            text.contains("up to 1,268 items to https://shop.example.com"),
            "{text}"
        );
        assert!(forced_end_of_day(3, None).contains("to the store"));
    }
}
