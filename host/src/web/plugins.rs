//! The plugins page (every plugin file, loaded or refused, with its state
//! and reasons; activate, deactivate) and each plugin's settings page (the
//! form built from its manifest, and the connection test).

use std::collections::HashMap;

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::confirm;
use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::settings_form::{self, Shown};
use super::{State, blocking};
use crate::host::{HOST_SETTINGS, Host, PluginState};
use crate::plugins::loader::LoadedPlugin;
use crate::service::admin;

pub async fn list(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, Failure> {
    plugins_page(page.host.clone(), viewer, None, StatusCode::OK).await
}

/// The plugin with this id, or 404.
pub fn loaded<'a>(host: &'a Host, id: &str) -> Result<&'a LoadedPlugin, Failure> {
    host.find(id)
        .ok_or_else(|| Failure::not_found("No such plugin is loaded."))
}

async fn plugins_page(
    host: std::sync::Arc<Host>,
    viewer: Viewer,
    note: Option<(String, bool)>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let shown_to = viewer.clone();
    let body = blocking(move || -> Result<Markup, Failure> {
        let viewer = shown_to;
        let db = &host.core.db;
        let mut rows = Vec::new();
        for p in host.instances() {
            let id = &p.manifest.id;
            let state = host.state_of(id).map_err(Failure::from_db)?;
            let fault = db.plugin(id).map_err(Failure::from_db)?.and_then(|r| r.fault);
            rows.push((p, state, fault));
        }
        Ok(html! {
            @if let Some((text, ok)) = &note { (message(text, *ok)) }
            table id="plugins" {
                thead { tr { th { "Plugin" } th { "Id" } th { "Version" } th { "API" } th { "State" } th { "Reason" } th {} } }
                tbody {
                    @for (p, state, fault) in &rows {
                        @let m = &p.manifest;
                        tr data-plugin=(m.id) {
                            td { (m.name) }
                            td { code { (m.id) } }
                            td { (m.version) }
                            td { (m.api_version.to_string()) }
                            td class="state" { (state_name(*state)) }
                            td class="reason" { @if let Some(f) = fault { (f) } }
                            td class="actions" {
                                a href=(format!("/plugins/{}/settings", m.id)) { "Settings" }
                                a href=(format!("/plugins/{}/schedule", m.id)) { "Schedule" }
                                a href=(format!("/plugins/{}/jobs", m.id)) { "Jobs" }
                                @if viewer.edits() || viewer.may_use(m) {
                                    @let (action, label) = if *state == PluginState::Inactive { ("activate", "Activate") } else { ("deactivate", "Deactivate") };
                                    form method="post" action=(format!("/plugins/{}/{action}", m.id)) {
                                        (csrf(&viewer))
                                        button type="submit" id=(format!("{action}-{}", m.id)) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    @for r in &host.plugins.refused {
                        tr class="refused" {
                            td { (r.file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()) }
                            td {} td {}
                            td { @if let Some(v) = r.api_version { (v.to_string()) } }
                            td class="state" { "refused" }
                            td class="reason" { (r.reason) }
                            td {}
                        }
                    }
                }
            }
            @if rows.is_empty() && host.plugins.refused.is_empty() { p { "No plugin file was found in the plugin folder." } }
        })
    })
    .await??;
    Ok((status, frame("Plugins", Some(&viewer), body)).into_response())
}

pub fn state_name(state: PluginState) -> &'static str {
    match state {
        PluginState::Active => "active",
        PluginState::Inactive => "inactive",
        PluginState::Refused => "refused",
        PluginState::Faulted => "faulted",
    }
}

pub async fn activate(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    loaded(&page.host, &id)?;
    let host = page.host.clone();
    let (plugin, actor) = (id.clone(), viewer.actor());
    let done = blocking(move || admin::activate(&host, &plugin, &actor)).await?;
    let (note, status) = match done {
        Ok(()) => (
            format!("{id} is active; the service starts it within a second."),
            StatusCode::OK,
        ),
        Err(e) => (format!("{e:#}"), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let ok = status == StatusCode::OK;
    plugins_page(page.host.clone(), viewer, Some((note, ok)), status).await
}

/// Deactivates a plugin instance once confirmed; before, a page naming
/// what stops.
pub async fn deactivate(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let manifest = &loaded(&page.host, &id)?.manifest;
    if !confirm::confirmed(&form) {
        let scheduled: Vec<&str> = manifest
            .jobs
            .iter()
            .filter(|j| j.schedule != plugin_api::ScheduleKind::ByHand)
            .map(|j| j.title.as_str())
            .collect();
        let consequence = format!(
            "{} ({id}) will stop: {}; running jobs are asked to stop, and nothing runs by hand until it is activated again. Its settings, state and history are kept.",
            manifest.name,
            if scheduled.is_empty() {
                "it has no scheduled jobs".to_string()
            } else {
                format!(
                    "its scheduled jobs ({}) no longer run",
                    scheduled.join(", ")
                )
            }
        );
        let action = format!("/plugins/{id}/deactivate");
        let title = format!("Deactivate {}?", manifest.name);
        return Ok(confirm::page(
            &viewer,
            &confirm::Confirmation {
                title: &title,
                consequence: &consequence,
                action: &action,
                fields: vec![],
                button: "Deactivate",
                back: "/plugins",
            },
        ));
    }
    let host = page.host.clone();
    let (plugin, actor) = (id.clone(), viewer.actor());
    blocking(move || admin::deactivate(&host, &plugin, &actor))
        .await?
        .map_err(Failure::from_db)?;
    let note = format!("{id} is inactive.");
    plugins_page(
        page.host.clone(),
        viewer,
        Some((note, true)),
        StatusCode::OK,
    )
    .await
}

/// What a settings page shows besides the form.
struct SettingsView {
    note: Option<(String, bool)>,
    /// The values to show: the stored ones, or a refused form's.
    values: Option<plugin_api::Settings>,
    errors: HashMap<String, String>,
    status: StatusCode,
}

pub async fn settings(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let view = SettingsView {
        note: None,
        values: None,
        errors: HashMap::new(),
        status: StatusCode::OK,
    };
    settings_page(page.host.clone(), viewer, id, view).await
}

async fn settings_page(
    host: std::sync::Arc<Host>,
    viewer: Viewer,
    id: String,
    view: SettingsView,
) -> Result<Response, Failure> {
    let shown_to = viewer.clone();
    let (title, body) = blocking(move || -> Result<(String, Markup), Failure> {
        let viewer = shown_to;
        let plugin = loaded(&host, &id)?;
        let m = &plugin.manifest;
        let db = &host.core.db;
        let mut in_force = host.settings(plugin).map_err(Failure::from_db)?;
        let secrets = host.secrets_set(plugin).map_err(Failure::from_db)?;
        let state = host.state_of(&id).map_err(Failure::from_db)?;
        let own = db.settings(&id).map_err(Failure::from_db)?;
        let host_level: Vec<_> = db
            .host_settings(&id)
            .map_err(Failure::from_db)?
            .into_iter()
            .filter(|(k, _)| HOST_SETTINGS.iter().any(|s| s.key == k))
            .collect();
        let stored: Vec<String> = own
            .iter()
            .chain(&host_level)
            .map(|(k, _)| k.clone())
            .collect();
        for (key, value) in &host_level {
            in_force.insert(key, settings_form::host_text(key, value).into());
        }
        let values = view.values.unwrap_or(in_force);
        let shown = Shown {
            values: &values,
            stored: &stored,
            secrets: &secrets,
            errors: &view.errors,
            editable: viewer.edits(),
        };
        let body = html! {
            @if let Some((text, ok)) = &view.note { (message(text, *ok)) }
            p { (m.description) }
            p { "State: " span id="state" { (state_name(state)) } }
            // The server checks every field and shows every error at once.
            form method="post" action=(format!("/plugins/{id}/settings")) id="settings" novalidate {
                (csrf(&viewer))
                (settings_form::fields(m, &shown))
                @if viewer.edits() { button type="submit" id="save" { "Save settings" } }
            }
            @if viewer.edits() {
                form method="post" action=(format!("/plugins/{id}/test")) {
                    (csrf(&viewer))
                    button type="submit" id="test" { "Test connection" }
                }
            }
            p { a href="/plugins" { "Back to the plugins" } }
        };
        Ok((format!("{} settings", m.name), body))
    })
    .await??;
    Ok((view.status, frame(&title, Some(&viewer), body)).into_response())
}

pub async fn save_settings(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let manifest = loaded(&page.host, &id)?.manifest.clone();
    let assignments = settings_form::assignments(&manifest, &form.pairs);
    let refused = |errors: HashMap<String, String>, why: String| SettingsView {
        note: Some((format!("Nothing was saved: {why}"), false)),
        values: Some(settings_form::submitted(&manifest, &form.pairs)),
        errors,
        status: StatusCode::UNPROCESSABLE_ENTITY,
    };
    if !form.refused.is_empty() {
        // Every error at once: the fields refused as sent, and the others' types.
        let mut errors = settings_form::type_errors(&manifest, &assignments);
        errors.extend(
            form.refused
                .iter()
                .map(|r| (r.field.clone(), r.reason.clone())),
        );
        let view = refused(errors, form.refusals());
        return settings_page(page.host.clone(), viewer, id, view).await;
    }
    let clear = settings_form::cleared(&form.pairs);
    let host = page.host.clone();
    let (plugin, actor) = (id.clone(), viewer.actor());
    let saved =
        blocking(move || admin::change_settings(&host, &plugin, &assignments, &clear, &actor))
            .await?;
    let view = match saved {
        Ok(changed) => SettingsView {
            note: Some((
                if changed {
                    "Settings saved."
                } else {
                    "Nothing changed."
                }
                .into(),
                true,
            )),
            values: None,
            errors: HashMap::new(),
            status: StatusCode::OK,
        },
        Err(e) => {
            let errors = match e.downcast_ref::<plugin_api::PluginError>() {
                Some(plugin_api::PluginError::Settings(fields)) => fields
                    .iter()
                    .map(|f| (f.field.clone(), f.reason.clone()))
                    .collect(),
                _ => HashMap::new(),
            };
            refused(errors, format!("{e:#}"))
        }
    };
    settings_page(page.host.clone(), viewer, id, view).await
}

pub async fn test_connection(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    loaded(&page.host, &id)?;
    let host = page.host.clone();
    let plugin = id.clone();
    let found = blocking(move || -> anyhow::Result<Result<(), String>> {
        if host.state_of(&plugin)? != PluginState::Inactive {
            return Ok(Err(format!(
                "{plugin} is active, and its connection was checked when it was activated; deactivate it to test other settings"
            )));
        }
        Ok(admin::check_connection(&host, host.plugin(&plugin)?))
    })
    .await?
    .map_err(Failure::from_db)?;
    let (note, status) = match found {
        Ok(()) => ("The connection check passed.".to_string(), StatusCode::OK),
        Err(reason) => (
            format!("The connection check failed: {reason}"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let ok = status == StatusCode::OK;
    let view = SettingsView {
        note: Some((note, ok)),
        values: None,
        errors: HashMap::new(),
        status,
    };
    settings_page(page.host.clone(), viewer, id, view).await
}
