//! The page frame (head, navigation, logout form), error pages, and the
//! static script and style sheet.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::guard::Viewer;

/// A whole page: the frame around `body`.
pub fn frame(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Plugin Host" }
                link rel="stylesheet" href="/static/admin.css";
                script src="/static/admin.js" defer {}
            }
            body {
                header {
                    strong { "Plugin Host" }
                    @if let Some(v) = viewer {
                        nav {
                            a href="/" { "Overview" }
                            a href="/plugins" { "Plugins" }
                            a href="/orders" { "Orders" }
                            a href="/runs" { "Run history" }
                            a href="/parked" { "Parked events" }
                            @if v.edits() {
                                a href="/users" id="users-link" { "Users" }
                                a href="/audit" { "Audit log" }
                                a href="/retention" id="retention-link" { "Retention" }
                            }
                        }
                        form method="post" action="/logout" class="logout" {
                            (csrf(v))
                            span { (v.user) @if !v.edits() { " (read-only)" } }
                            button type="submit" id="logout" { "Log out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every form of a session carries.
pub fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}

/// A message above a page's content: `ok` or an error.
pub fn message(text: &str, ok: bool) -> Markup {
    html! { p class=(if ok { "message ok" } else { "message error" }) role="status" { (text) } }
}

/// A refused or failed request, shown as a page with its status. The page
/// a handler's failure becomes carries the failure along, for the guard to
/// show it again in the viewer's frame (navigation, Log out).
#[derive(Clone, Debug)]
pub struct Failure {
    status: StatusCode,
    text: String,
}

impl Failure {
    pub fn new(status: StatusCode, text: impl Into<String>) -> Self {
        Self {
            status,
            text: text.into(),
        }
    }

    pub fn forbidden(text: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, text)
    }

    pub fn not_found(text: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, text)
    }

    pub fn internal(text: &str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, text)
    }

    /// A database error: logged in full, shown in general terms.
    pub fn from_db(e: impl std::fmt::Display) -> Self {
        tracing::error!("admin page: {e}");
        Self::internal("The database could not be read or written; see the service's log.")
    }

    /// The failure's page in the frame `viewer` sees.
    pub fn page(&self, viewer: Option<&Viewer>) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = frame(
            title,
            viewer,
            html! {
                (message(&self.text, false))
                p { a href="/plugins" { "Back to the plugins" } }
            },
        );
        (self.status, body).into_response()
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = self.page(None);
        response.extensions_mut().insert(self);
        response
    }
}

pub async fn not_found() -> Failure {
    Failure::not_found("There is no such page.")
}

pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin.js"),
    )
}

pub async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/admin.css"),
    )
}
