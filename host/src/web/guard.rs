//! What every request passes before a page sees it: the security headers on
//! every response; with no user defined, only the notice; a session for
//! everything but the login form and static files; the `integrate` feature
//! to see the page; and for every POST the session's CSRF token and the
//! right to change ([`may_change`]). Pages read the [`Viewer`] it leaves.

use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use intellitrack_db::{Access, EVERY_PLUGIN, FeatureGrant, INTEGRATE};

use super::layout::{self, Failure};
use super::session::{self, tokens_match};
use super::{State, blocking};

/// The largest form a POST may carry.
const FORM_LIMIT: usize = 64 * 1024;

/// The logged-in user looking at the page, and what their roles grant.
#[derive(Clone)]
pub struct Viewer {
    pub user: String,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    pub grants: Vec<FeatureGrant>,
}

impl Viewer {
    /// Whether the user may change things (`integrate` with edit access).
    pub fn edits(&self) -> bool {
        self.grants
            .iter()
            .any(|g| g.feature == INTEGRATE && g.access == Access::Edit)
    }

    /// Whether the user's roles grant a plugin's feature (run its jobs by
    /// hand, activate it).
    pub fn has_feature(&self, feature: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.feature == feature || g.feature == EVERY_PLUGIN)
    }

    /// Who the user is in the audit log and run records.
    pub fn actor(&self) -> String {
        format!("web:{}", self.user)
    }
}

/// Whether `viewer` may POST to `path`: edit users anywhere; others only
/// to a plugin's activate, deactivate and run-a-job routes when their roles
/// grant that plugin's feature (`feature_of` finds it from the plugin id).
pub fn may_change(
    path: &str,
    viewer: &Viewer,
    feature_of: impl Fn(&str) -> Option<String>,
) -> bool {
    if viewer.edits() {
        return true;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let plugin = match segments.as_slice() {
        ["plugins", id, "activate" | "deactivate"] => id,
        ["plugins", id, "jobs", _, "run"] => id,
        _ => return false,
    };
    feature_of(plugin).is_some_and(|feature| viewer.has_feature(&feature))
}

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
             form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether cookies get the Secure flag: asked for, or the request came
/// through a TLS proxy.
pub fn secure(page: &super::Page, headers: &HeaderMap) -> bool {
    page.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// The session token the request's cookie carries.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::cookie_value(h, session::COOKIE))
}

/// A form's fields, in order.
pub type FormPairs = Vec<(String, String)>;

/// A form body's fields (the guard has checked its CSRF token already).
pub fn read_form(body: &[u8]) -> Result<FormPairs, Failure> {
    serde_urlencoded::from_bytes(body)
        .map_err(|_| Failure::bad_request("The form could not be read."))
}

/// The value of a form field.
pub fn field<'a>(form: &'a FormPairs, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn guard(
    axum::extract::State(page): State,
    request: Request,
    next: Next,
) -> Result<Response, Failure> {
    let path = request.uri().path().to_owned();
    if path.starts_with("/static/") {
        return Ok(next.run(request).await);
    }
    let host = page.host.clone();
    let has_users = blocking(move || host.core.db.has_users())
        .await?
        .map_err(Failure::from_db)?;
    if !has_users {
        return Ok(layout::no_users_notice());
    }
    if path == "/login" {
        return Ok(next.run(request).await);
    }
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    let session =
        session_token(request.headers()).and_then(|t| page.sessions.find(t, Instant::now()));
    let Some(session) = session else {
        return Ok(if reading {
            Redirect::to("/login").into_response()
        } else {
            Failure::forbidden("Log in first.").into_response()
        });
    };
    let host = page.host.clone();
    let user = session.user.clone();
    let grants = blocking(move || host.core.db.user_features(&user))
        .await?
        .map_err(Failure::from_db)?;
    let viewer = Viewer {
        user: session.user,
        csrf: session.csrf,
        grants,
    };
    let mut request = request;
    if !reading {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| Failure::bad_request("The form is too large."))?;
        let form = read_form(&bytes)?;
        if !tokens_match(&viewer.csrf, field(&form, "csrf").unwrap_or_default()) {
            tracing::warn!(user = %viewer.user, %path, "a form without the session's CSRF token was refused");
            return Err(Failure::forbidden(
                "The form's security token is missing or wrong: nothing was changed. Reload the page and try again.",
            ));
        }
        let feature_of = |id: &str| {
            page.host
                .plugins
                .get(id)
                .map(|p| p.manifest.feature.clone())
        };
        if path != "/logout" && !may_change(&path, &viewer, feature_of) {
            return Err(Failure::forbidden(
                "Your roles let you see this page but not change it: nothing was changed.",
            ));
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let opens_page = viewer.grants.iter().any(|g| g.feature == INTEGRATE);
    if !opens_page && path != "/logout" {
        return Err(Failure::forbidden(
            "None of your roles opens the admin page (the integrate feature).",
        ));
    }
    request.extensions_mut().insert(viewer);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(grants: &[(&str, Access)]) -> Viewer {
        Viewer {
            user: "ann".into(),
            csrf: "t".into(),
            grants: grants
                .iter()
                .map(|(f, a)| FeatureGrant {
                    feature: (*f).into(),
                    access: *a,
                })
                .collect(),
        }
    }

    #[test]
    fn only_edit_users_change_except_a_plugins_own_feature_for_its_jobs_and_activation() {
        let feature_of = |id: &str| (id == "woo").then(|| "Woo".to_string());
        let editor = viewer(&[(INTEGRATE, Access::Edit)]);
        let reader = viewer(&[(INTEGRATE, Access::Read)]);
        let clerk = viewer(&[(INTEGRATE, Access::Read), ("Woo", Access::Edit)]);
        let every = viewer(&[(INTEGRATE, Access::Read), (EVERY_PLUGIN, Access::Edit)]);
        for path in ["/plugins/woo/settings", "/timezone", "/parked/woo/retry"] {
            assert!(may_change(path, &editor, feature_of), "{path}");
            assert!(!may_change(path, &reader, feature_of), "{path}");
            assert!(!may_change(path, &clerk, feature_of), "{path}");
        }
        for path in ["/plugins/woo/activate", "/plugins/woo/jobs/import/run"] {
            assert!(!may_change(path, &reader, feature_of), "{path}");
            assert!(may_change(path, &clerk, feature_of), "{path}");
            assert!(may_change(path, &every, feature_of), "{path}");
        }
        assert!(!may_change("/plugins/other/activate", &clerk, feature_of));
    }
}
