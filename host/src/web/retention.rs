//! The retention page, for admins alone (the guard refuses everyone else):
//! how long run history, run issues, acknowledged change-feed events and
//! the audit log are kept, changed through [`admin::change_retention`]
//! (all or nothing, audited); and how far the change feed may be pruned:
//! each reader's consumers and their acknowledgements, and who holds it.

use axum::Extension;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use intellitrack_db::{FeedAck, FeedHorizon};
use maud::html;

use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::{State, blocking};
use crate::cli::format_time;
use crate::service::admin;
use crate::service::retention::{self, RetentionSettings, SETTINGS};

/// What the page shows besides the stored settings.
struct Shown {
    note: Option<(String, bool)>,
    /// A refused form's values, as typed.
    typed: Vec<(String, String)>,
    status: StatusCode,
}

pub async fn show(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, Failure> {
    let shown = Shown {
        note: None,
        typed: Vec::new(),
        status: StatusCode::OK,
    };
    retention_page(page, viewer, shown).await
}

async fn retention_page(
    page: std::sync::Arc<super::Page>,
    viewer: Viewer,
    shown: Shown,
) -> Result<Response, Failure> {
    let host = page.host.clone();
    let (settings, acks, horizon) = blocking(move || -> anyhow::Result<_> {
        let db = &host.core.db;
        Ok((retention::load(db)?, db.feed_acks()?, db.feed_horizon()?))
    })
    .await?
    .map_err(Failure::from_db)?;
    let body = body(&viewer, &settings, &acks, &horizon, &shown);
    Ok((shown.status, frame("Retention", Some(&viewer), body)).into_response())
}

fn body(
    viewer: &Viewer,
    settings: &RetentionSettings,
    acks: &[FeedAck],
    horizon: &FeedHorizon,
    shown: &Shown,
) -> maud::Markup {
    let value = |name: &str| {
        shown
            .typed
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| settings.get(name).unwrap_or_default().to_string())
    };
    html! {
        @if let Some((text, ok)) = &shown.note { (message(text, *ok)) }
        p { "How long the host keeps what grows, in days. Once a day the service prunes what is older (also by hand: " code { "plugin-host prune --dry-run" } "), a few hundred rows a transaction, and gives the space back." }
        form method="post" action="/retention" id="retention" {
            (csrf(viewer))
            @for (name, what) in SETTINGS {
                div class="field" {
                    label for=(name) { (what) " (" code { (name) } ")" }
                    input type="text" id=(name) name=(name) value=(value(name));
                }
            }
            p { "A run's outcome and counts may be kept longer than its issue list, never the other way round. A change-feed event goes only once every plugin reading the feed has acknowledged it, and never while it is parked." }
            button type="submit" id="save-retention" { "Save retention" }
        }
        h2 { "Change feed" }
        p id="feed-horizon" { (capitalised(&horizon.to_string())) }
        @if !acks.is_empty() {
            table id="feed-acks" {
                thead { tr { th { "Plugin instance" } th { "Consumer" } th { "Acknowledged up to" } th { "At" } } }
                tbody {
                    @for ack in acks {
                        tr { td { (ack.plugin) } td { (ack.consumer) } td { "#" (ack.seq) } td { (format_time(ack.at_ms)) } }
                    }
                }
            }
        }
    }
}

pub async fn save(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let changes: Vec<(String, String)> = SETTINGS
        .iter()
        .filter_map(|(name, _)| {
            form.field(name)
                .map(|v| ((*name).to_owned(), v.trim().to_owned()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let refused_form = (!form.refused.is_empty()).then(|| form.refusals());
    let host = page.host.clone();
    let actor = viewer.actor();
    let outcome = match refused_form {
        Some(refusal) => Err(format!("nothing was changed: {refusal}")),
        None => blocking(move || admin::change_retention(&host, &changes, &actor))
            .await?
            .map_err(|e| format!("{e:#}")),
    };
    let shown = match outcome {
        Ok((_, changed)) => Shown {
            note: Some((
                if changed {
                    "Retention saved."
                } else {
                    "Nothing changed."
                }
                .into(),
                true,
            )),
            typed: Vec::new(),
            status: StatusCode::OK,
        },
        Err(e) => Shown {
            note: Some((capitalised(&e), false)),
            typed: form.pairs.clone(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        },
    };
    retention_page(page, viewer, shown).await
}

/// `text` with its first letter in capitals, as the page's notes are.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
