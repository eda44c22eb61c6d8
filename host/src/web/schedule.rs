//! A plugin's schedule page: Sync Interval (or off), Sync Time Range, End
//! of Day, the site's time zone they are read in, and the next times each
//! job falls due by the schedule rules. Values are parsed by the
//! `sync-schedule` types, all before anything is stored; a refused form is
//! shown again as typed, each error beside its field.

use std::collections::HashMap;
use std::str::FromStr;

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use sync_schedule::{IntervalChoice, Schedule, SiteTimeZone, TimeOfDay, TimeRange};

use super::form::{Form, FormPairs, field};
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::plugins::loaded;
use super::{State, blocking};
use crate::service::admin::{self, ScheduleChange};
use crate::service::schedule_store::{self, PluginSchedule};
use crate::service::scheduler::job_kind;

/// How many of each job's next times the page shows.
const UPCOMING: usize = 3;
/// The schedule form's fields.
const FIELDS: [&str; 3] = ["interval", "time_range", "end_of_day"];

/// What a schedule page shows besides the stored values.
struct ScheduleView {
    note: Option<(String, bool)>,
    /// A refused form's values, as typed, by field.
    typed: HashMap<String, String>,
    /// Why each field was refused.
    errors: HashMap<String, String>,
    status: StatusCode,
}

impl ScheduleView {
    fn noted(text: &str) -> Self {
        Self {
            note: Some((text.into(), true)),
            typed: HashMap::new(),
            errors: HashMap::new(),
            status: StatusCode::OK,
        }
    }

    /// A refused form: every error, and the values as they were typed.
    fn refused(form: &Form, errors: HashMap<String, String>) -> Self {
        let mut typed: HashMap<String, String> = form.pairs.iter().cloned().collect();
        for r in &form.refused {
            typed.remove(&r.field);
        }
        let mut reasons: Vec<String> = errors.iter().map(|(f, e)| format!("{f}: {e}")).collect();
        reasons.sort();
        Self {
            note: Some((format!("Nothing was saved: {}", reasons.join("; ")), false)),
            typed,
            errors,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

pub async fn show(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let view = ScheduleView {
        note: None,
        typed: HashMap::new(),
        errors: HashMap::new(),
        status: StatusCode::OK,
    };
    schedule_page(page, viewer, id, view).await
}

async fn schedule_page(
    page: std::sync::Arc<super::Page>,
    viewer: Viewer,
    id: String,
    view: ScheduleView,
) -> Result<Response, Failure> {
    let manifest = loaded(&page.host, &id)?.manifest.clone();
    let host = page.host.clone();
    let plugin = id.clone();
    let (stored, zone, now) = blocking(move || -> anyhow::Result<_> {
        let db = &host.core.db;
        Ok((
            PluginSchedule::load(db, &plugin)?,
            schedule_store::site_time_zone(db)?,
            host.core.clock.now(),
        ))
    })
    .await?
    .map_err(Failure::from_db)?;
    let settings = &stored.settings;
    let disabled = !viewer.edits();
    let value = |field: &str, stored: String| view.typed.get(field).cloned().unwrap_or(stored);
    let error = |field: &str| -> Markup {
        html! {
            @if let Some(e) = view.errors.get(field) {
                strong class="field-error" id=(format!("error-{field}")) { (e) }
            }
        }
    };
    let schedule = Schedule::new(settings, &zone);
    let upcoming: Vec<(String, Vec<String>)> = manifest
        .jobs
        .iter()
        .map(|job| {
            let times = schedule
                .upcoming(
                    job_kind(job.schedule),
                    &stored.history(&job.id),
                    now,
                    UPCOMING,
                )
                .into_iter()
                .map(|at| {
                    zone.zone()
                        .to_datetime(at)
                        .strftime("%a %Y-%m-%d %H:%M")
                        .to_string()
                })
                .collect();
            (job.title.clone(), times)
        })
        .collect();
    let body = html! {
        @if let Some((text, ok)) = &view.note { (message(text, *ok)) }
        form method="post" action=(format!("/plugins/{id}/schedule")) id="schedule" {
            (csrf(&viewer))
            div class="field" {
                label for="interval" { "Sync Interval (minutes, or off)" }
                input type="text" id="interval" name="interval" value=(value("interval", settings.interval.to_string())) disabled[disabled];
                (error("interval"))
            }
            div class="field" {
                label for="time_range" { "Sync Time Range (HH:MM-HH:MM or all-day)" }
                input type="text" id="time_range" name="time_range" value=(value("time_range", settings.time_range.to_string())) disabled[disabled];
                (error("time_range"))
            }
            div class="field" {
                label for="end_of_day" { "End of Day (HH:MM)" }
                input type="text" id="end_of_day" name="end_of_day" value=(value("end_of_day", settings.end_of_day.to_string())) disabled[disabled];
                (error("end_of_day"))
            }
            p { "Times are in the site's time zone, " (zone.to_string()) ". An empty field is left as it is." }
            @if !disabled { button type="submit" id="save-schedule" { "Save schedule" } }
        }
        h2 { "Next scheduled runs" }
        p { "By the schedule above, in " (zone.to_string()) ", if the instance is active:" }
        table id="upcoming" {
            thead { tr { th { "Job" } th { "Next times" } } }
            tbody {
                @for (title, times) in &upcoming {
                    tr {
                        td { (title) }
                        td class="times" {
                            @if times.is_empty() { "not on schedule" } @else { (times.join(", ")) }
                        }
                    }
                }
            }
        }
        form method="post" action="/timezone" id="timezone" {
            (csrf(&viewer))
            input type="hidden" name="back" value=(id);
            div class="field" {
                label for="zone" { "Site time zone (IANA name, e.g. Europe/Berlin)" }
                input type="text" id="zone" name="zone" value=(value("zone", zone.to_string())) disabled[disabled];
                (error("zone"))
            }
            @if !disabled { button type="submit" id="save-zone" { "Save time zone" } }
        }
        p { a href="/plugins" { "Back to the plugins" } }
    };
    let title = format!("{} schedule", manifest.name);
    Ok((view.status, frame(&title, Some(&viewer), body)).into_response())
}

/// The form's refused fields, by field.
fn refusals(form: &Form) -> HashMap<String, String> {
    form.refused
        .iter()
        .map(|r| (r.field.clone(), r.reason.clone()))
        .collect()
}

/// The schedule change a form asks for, or every field's refusal.
fn parse_change(form: &FormPairs) -> Result<ScheduleChange, HashMap<String, String>> {
    let mut errors = HashMap::new();
    fn parse<T: FromStr<Err: std::fmt::Display>>(
        form: &FormPairs,
        name: &str,
        errors: &mut HashMap<String, String>,
    ) -> Option<T> {
        let raw = field(form, name)?.trim();
        if raw.is_empty() {
            return None;
        }
        T::from_str(raw)
            .map_err(|e| errors.insert(name.to_owned(), e.to_string()))
            .ok()
    }
    let change = ScheduleChange {
        interval: parse::<IntervalChoice>(form, FIELDS[0], &mut errors),
        time_range: parse::<TimeRange>(form, FIELDS[1], &mut errors),
        end_of_day: parse::<TimeOfDay>(form, FIELDS[2], &mut errors),
    };
    if errors.is_empty() {
        Ok(change)
    } else {
        Err(errors)
    }
}

pub async fn save(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    loaded(&page.host, &id)?;
    let change = match parse_change(&form.pairs) {
        Ok(change) if form.refused.is_empty() => change,
        parsed => {
            let mut errors = parsed.err().unwrap_or_default();
            errors.extend(refusals(&form));
            let view = ScheduleView::refused(&form, errors);
            return schedule_page(page, viewer, id, view).await;
        }
    };
    let host = page.host.clone();
    let (plugin, actor) = (id.clone(), viewer.actor());
    let changed = blocking(move || -> anyhow::Result<bool> {
        let before = PluginSchedule::load(&host.core.db, &plugin)?.settings;
        Ok(admin::change_schedule(&host, &plugin, change, &actor)? != before)
    })
    .await?
    .map_err(Failure::from_db)?;
    let note = if changed {
        "Schedule saved."
    } else {
        "Nothing changed."
    };
    schedule_page(page, viewer, id, ScheduleView::noted(note)).await
}

pub async fn save_time_zone(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let back = form.field("back").unwrap_or_default().to_owned();
    loaded(&page.host, &back)?;
    let mut errors = refusals(&form);
    let zone = SiteTimeZone::from_str(form.field("zone").unwrap_or_default().trim())
        .map_err(|e| errors.insert("zone".into(), e.to_string()))
        .ok();
    let Some(zone) = zone.filter(|_| errors.is_empty()) else {
        let view = ScheduleView::refused(&form, errors);
        return schedule_page(page, viewer, back, view).await;
    };
    let host = page.host.clone();
    let actor = viewer.actor();
    let changed = blocking(move || -> anyhow::Result<bool> {
        let db = &host.core.db;
        if schedule_store::chosen_time_zone(db)?.as_ref() == Some(&zone) {
            return Ok(false);
        }
        admin::change_time_zone(&host, &zone, &actor)?;
        Ok(true)
    })
    .await?
    .map_err(Failure::from_db)?;
    let note = if changed {
        "Time zone saved."
    } else {
        "Nothing changed."
    };
    schedule_page(page, viewer, back, ScheduleView::noted(note)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormPairs {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn a_schedule_form_is_parsed_whole_or_refused_with_every_reason() {
        let change = parse_change(&form(&[
            ("interval", "off"),
            ("time_range", "all-day"),
            ("end_of_day", "23:30"),
        ]))
        .unwrap();
        assert_eq!(change.interval, Some(IntervalChoice::Off));
        assert!(change.time_range.is_some());
        assert_eq!(
            change.end_of_day.map(|t| t.to_string()).as_deref(),
            Some("23:30")
        );
        let errors = parse_change(&form(&[("interval", "0"), ("time_range", "25:00-26:00")]))
            .err()
            .unwrap();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.contains_key("interval") && errors.contains_key("time_range"));
        assert!(parse_change(&form(&[])).unwrap().is_empty());
    }
}
