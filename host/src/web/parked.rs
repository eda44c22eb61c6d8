//! The parked events page: every change-feed event a plugin instance could
//! not deliver, with its reason and the order it belongs to (linked to the
//! order's page), and for edit users a retry (sent again on the plugin's
//! next export run) or a discard (never sent), of one event or all of an
//! instance's. Both go through [`admin`], as `plugin-host parked retry` and
//! `parked discard` do.

use std::sync::Arc;

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::plugins::loaded;
use super::{Page, State, blocking};
use crate::cli::format_time;
use crate::service::admin;

pub async fn list(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, Failure> {
    parked_page(page, viewer, None).await
}

async fn parked_page(
    page: Arc<Page>,
    viewer: Viewer,
    note: Option<(String, bool)>,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let rows = blocking(move || host.core.db.parked(None))
        .await?
        .map_err(Failure::from_db)?;
    let mut plugins: Vec<&str> = rows.iter().map(|r| r.plugin.as_str()).collect();
    plugins.dedup();
    let status = match &note {
        Some((_, false)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let body = html! {
        @if let Some((text, ok)) = &note { (message(text, *ok)) }
        p { "Events a plugin could not deliver and will not try again by itself. Retry sends one again on the plugin's next export run; discard drops it for good." }
        @if rows.is_empty() { p id="no-parked" { "No parked events." } }
        @else {
            table id="parked" {
                thead { tr {
                    th { "Plugin" } th { "Event" } th { "Kind" } th { "Order" } th { "Parked" } th { "Reason" } th { "Retry" }
                    @if viewer.edits() { th {} }
                } }
                tbody {
                    @for r in &rows {
                        tr id=(format!("parked-{}", r.seq)) {
                            td { (r.plugin) } td { "#" (r.seq) } td { (r.kind) }
                            td class="order" {
                                @match &r.order_number {
                                    Some(number) => a href=(format!("/orders/{number}")) { (number) },
                                    None => "-",
                                }
                            }
                            td { (format_time(r.parked_ms)) }
                            td class="reason" { (r.reason) }
                            td class="retry" { @if r.retry_requested { "asked" } }
                            @if viewer.edits() {
                                td class="actions" {
                                    (event_form(&viewer, &r.plugin, Some(r.seq), "retry", "Retry"))
                                    (event_form(&viewer, &r.plugin, Some(r.seq), "discard", "Discard"))
                                }
                            }
                        }
                    }
                }
            }
            @if viewer.edits() {
                @for p in &plugins {
                    div class="all-parked" {
                        (event_form(&viewer, p, None, "retry", &format!("Retry all of {p}")))
                        (event_form(&viewer, p, None, "discard", &format!("Discard all of {p}")))
                    }
                }
            }
        }
    };
    Ok((status, frame("Parked events", Some(&viewer), body)).into_response())
}

/// A button that retries or discards one event (`seq`) or all of a plugin's.
fn event_form(
    viewer: &Viewer,
    plugin: &str,
    seq: Option<i64>,
    action: &str,
    label: &str,
) -> maud::Markup {
    let id = match seq {
        Some(seq) => format!("{action}-{seq}"),
        None => format!("{action}-all-{plugin}"),
    };
    html! {
        form method="post" action=(format!("/parked/{plugin}/{action}")) {
            (csrf(viewer))
            @if let Some(seq) = seq { input type="hidden" name="seq" value=(seq); }
            button type="submit" id=(id) { (label) }
        }
    }
}

/// The event a form names (`seq`), or `None` for all of them.
fn chosen_event(form: &Form) -> Result<Option<i64>, String> {
    match form.field("seq").map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| format!("{raw:?} is not an event number")),
    }
}

pub async fn retry(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    change(page, viewer, id, form, Change::Retry).await
}

pub async fn discard(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    change(page, viewer, id, form, Change::Discard).await
}

#[derive(Clone, Copy)]
enum Change {
    Retry,
    Discard,
}

async fn change(
    page: Arc<Page>,
    viewer: Viewer,
    id: String,
    form: Form,
    change: Change,
) -> Result<Response, Failure> {
    loaded(&page.host, &id)?;
    let seq = match chosen_event(&form) {
        Ok(seq) => seq,
        Err(why) => return parked_page(page, viewer, Some((why, false))).await,
    };
    let host = page.host.clone();
    let (plugin, actor) = (id.clone(), viewer.actor());
    let done = blocking(move || match change {
        Change::Retry => admin::retry_parked(&host, &plugin, seq, &actor),
        Change::Discard => admin::discard_parked(&host, &plugin, seq, &actor),
    })
    .await?;
    let note = match (done, change) {
        (Ok(n), Change::Retry) => (
            format!("{n} parked event(s) of {id} will be sent again on its next export run."),
            true,
        ),
        (Ok(n), Change::Discard) => (
            format!("{n} parked event(s) of {id} discarded; they will never be sent."),
            true,
        ),
        (Err(e), _) => (format!("Nothing was changed: {e:#}"), false),
    };
    parked_page(page, viewer, Some(note)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_names_one_event_or_all() {
        let form = |body: &str| Form::read(body.as_bytes());
        assert_eq!(chosen_event(&form("csrf=t")), Ok(None));
        assert_eq!(chosen_event(&form("seq=")), Ok(None));
        assert_eq!(chosen_event(&form("seq=+42+")), Ok(Some(42)));
        assert!(chosen_event(&form("seq=4x")).is_err());
    }
}
