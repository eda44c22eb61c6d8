//! A plugin's schedule page: Sync Interval (or off), Sync Time Range, End
//! of Day, and the site's time zone they are read in. Values are parsed by
//! the `sync-schedule` types, all before anything is stored.

use std::str::FromStr;

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use sync_schedule::{IntervalChoice, SiteTimeZone, TimeOfDay, TimeRange};

use super::form::{Form, FormPairs, field};
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::plugins::loaded;
use super::{State, blocking};
use crate::service::admin::{self, ScheduleChange};
use crate::service::schedule_store::{self, PluginSchedule};

pub async fn show(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    schedule_page(page, viewer, id, None, StatusCode::OK).await
}

async fn schedule_page(
    page: std::sync::Arc<super::Page>,
    viewer: Viewer,
    id: String,
    note: Option<(String, bool)>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let name = loaded(&page.host, &id)?.manifest.name.clone();
    let host = page.host.clone();
    let plugin = id.clone();
    let (stored, zone) = blocking(move || -> anyhow::Result<_> {
        let db = &host.core.db;
        Ok((
            PluginSchedule::load(db, &plugin)?.settings,
            schedule_store::site_time_zone(db)?,
        ))
    })
    .await?
    .map_err(Failure::from_db)?;
    let disabled = !viewer.edits();
    let body = html! {
        @if let Some((text, ok)) = &note { (message(text, *ok)) }
        form method="post" action=(format!("/plugins/{id}/schedule")) id="schedule" {
            (csrf(&viewer))
            div class="field" {
                label for="interval" { "Sync Interval (minutes, or off)" }
                input type="text" id="interval" name="interval" value=(stored.interval.to_string()) disabled[disabled];
            }
            div class="field" {
                label for="time_range" { "Sync Time Range (HH:MM-HH:MM or all-day)" }
                input type="text" id="time_range" name="time_range" value=(stored.time_range.to_string()) disabled[disabled];
            }
            div class="field" {
                label for="end_of_day" { "End of Day" }
                input type="time" id="end_of_day" name="end_of_day" value=(stored.end_of_day.to_string()) disabled[disabled];
            }
            p { "Times are in the site's time zone, " (zone.to_string()) "." }
            @if !disabled { button type="submit" id="save-schedule" { "Save schedule" } }
        }
        form method="post" action="/timezone" id="timezone" {
            (csrf(&viewer))
            input type="hidden" name="back" value=(id);
            div class="field" {
                label for="zone" { "Site time zone (IANA name, e.g. Europe/Berlin)" }
                input type="text" id="zone" name="zone" value=(zone.to_string()) disabled[disabled];
            }
            @if !disabled { button type="submit" id="save-zone" { "Save time zone" } }
        }
        p { a href="/plugins" { "Back to the plugins" } }
    };
    let title = format!("{name} schedule");
    Ok((status, frame(&title, Some(&viewer), body)).into_response())
}

/// The form's refused fields, if any, as reasons.
fn refused(form: &Form) -> Result<(), Vec<String>> {
    if form.refused.is_empty() {
        Ok(())
    } else {
        Err(vec![form.refusals()])
    }
}

/// The schedule change a form asks for, or every field's refusal.
fn parse_change(form: &FormPairs) -> Result<ScheduleChange, Vec<String>> {
    let mut errors = Vec::new();
    fn parse<T: FromStr<Err: std::fmt::Display>>(
        form: &FormPairs,
        name: &str,
        errors: &mut Vec<String>,
    ) -> Option<T> {
        let raw = field(form, name)?.trim();
        if raw.is_empty() {
            return None;
        }
        T::from_str(raw)
            .map_err(|e| errors.push(e.to_string()))
            .ok()
    }
    let change = ScheduleChange {
        interval: parse::<IntervalChoice>(form, "interval", &mut errors),
        time_range: parse::<TimeRange>(form, "time_range", &mut errors),
        end_of_day: parse::<TimeOfDay>(form, "end_of_day", &mut errors),
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
    let change = match refused(&form).and_then(|()| parse_change(&form.pairs)) {
        Ok(change) => change,
        Err(errors) => {
            let note = format!("Nothing was saved: {}", errors.join("; "));
            return schedule_page(
                page,
                viewer,
                id,
                Some((note, false)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let host = page.host.clone();
    let (plugin, actor) = (id.clone(), viewer.actor());
    blocking(move || admin::change_schedule(&host, &plugin, change, &actor))
        .await?
        .map_err(Failure::from_db)?;
    schedule_page(
        page,
        viewer,
        id,
        Some(("Schedule saved.".into(), true)),
        StatusCode::OK,
    )
    .await
}

pub async fn save_time_zone(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let back = form.field("back").unwrap_or_default().to_owned();
    loaded(&page.host, &back)?;
    let zone = refused(&form).and_then(|()| {
        SiteTimeZone::from_str(form.field("zone").unwrap_or_default().trim())
            .map_err(|e| vec![e.to_string()])
    });
    let zone = match zone {
        Ok(zone) => zone,
        Err(errors) => {
            let note = format!("Nothing was saved: {}", errors.join("; "));
            return schedule_page(
                page,
                viewer,
                back,
                Some((note, false)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let host = page.host.clone();
    let actor = viewer.actor();
    blocking(move || admin::change_time_zone(&host, &zone, &actor))
        .await?
        .map_err(Failure::from_db)?;
    schedule_page(
        page,
        viewer,
        back,
        Some(("Time zone saved.".into(), true)),
        StatusCode::OK,
    )
    .await
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
        assert!(parse_change(&form(&[])).unwrap().is_empty());
    }
}
