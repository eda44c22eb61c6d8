//! What every request passes before a page sees it: the security headers on
//! every response; with no user defined, only the notice; a POST's form
//! read whole, bounded in size and time; a live session for everything but
//! the login form and static files (its user's credential still the one it
//! started with); the `integrate` feature to see the page; and for every
//! POST the session's CSRF token and the right to change ([`may_change`]).
//! Pages read the [`Viewer`] and the [`Form`] it leaves. A refusal from
//! here or from a page is shown in the viewer's frame, so that even a user
//! refused everything can log out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use intellitrack_db::{Access, FeatureGrant, INTEGRATE};
use plugin_api::Manifest;

use super::form::Form;
use super::layout::Failure;
use super::log_text::untrusted;
use super::login;
use super::session::{self, tokens_match};
use super::{Page, State, blocking};
use crate::host::grants_plugin;

/// The largest form a POST may carry.
const FORM_LIMIT: usize = 64 * 1024;
/// How long a POST's form may take to arrive once its head has.
const FORM_TIME_LIMIT: Duration = Duration::from_secs(10);

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

    /// Whether the user's roles let them activate, deactivate and run the
    /// jobs of a plugin instance ([`grants_plugin`]: its feature with edit
    /// access).
    pub fn may_use(&self, plugin: &Manifest) -> bool {
        grants_plugin(&self.grants, plugin)
    }

    /// Who the user is in the audit log and run records.
    pub fn actor(&self) -> String {
        format!("web:{}", self.user)
    }
}

/// Whether `viewer` may POST to `path`: edit users anywhere; others only
/// to a plugin instance's activate, deactivate and run-a-job routes when
/// their roles let them use it (`plugin` finds its manifest by id).
pub fn may_change<'a>(
    path: &str,
    viewer: &Viewer,
    plugin: impl Fn(&str) -> Option<&'a Manifest>,
) -> bool {
    if viewer.edits() {
        return true;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let id = match segments.as_slice() {
        ["plugins", id, "activate" | "deactivate"] => id,
        ["plugins", id, "jobs", _, "run"] => id,
        _ => return false,
    };
    plugin(id).is_some_and(|manifest| viewer.may_use(manifest))
}

/// The pages only admins (edit users) may even see: users, the audit log
/// and the retention settings.
fn admin_only(path: &str) -> bool {
    let first = path.trim_matches('/').split('/').next().unwrap_or_default();
    matches!(first, "users" | "audit" | "retention")
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
pub fn secure(page: &Page, headers: &HeaderMap) -> bool {
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

/// The viewer of the live session the request's cookie names. A session
/// whose user's credential (password hash) is no longer the one it
/// started with, or whose user is gone or inactive, is ended here.
pub async fn viewer(page: &Arc<Page>, headers: &HeaderMap) -> Result<Option<Viewer>, Failure> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let Some(session) = page.sessions.find(token, Instant::now()) else {
        return Ok(None);
    };
    let host = page.host.clone();
    let user = session.user.clone();
    let (credential, grants) = blocking(move || {
        let db = &host.core.db;
        Ok::<_, intellitrack_db::DbError>((db.password_hash(&user)?, db.user_features(&user)?))
    })
    .await?
    .map_err(Failure::from_db)?;
    if !credential.is_some_and(|c| session.credential_is(&c)) {
        page.sessions.end(token);
        return Ok(None);
    }
    Ok(Some(Viewer {
        user: session.user,
        csrf: session.csrf,
        grants,
    }))
}

/// A POST's form body, read whole within [`FORM_LIMIT`] and [`FORM_TIME_LIMIT`].
async fn read_body(body: Body) -> Result<Form, Failure> {
    let read = tokio::time::timeout(FORM_TIME_LIMIT, axum::body::to_bytes(body, FORM_LIMIT))
        .await
        .map_err(|_| {
            Failure::new(
                StatusCode::REQUEST_TIMEOUT,
                "The form took too long to arrive.",
            )
        })?
        .map_err(|_| Failure::new(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
    Ok(Form::read(&read))
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
        return Ok(login::no_users_notice(&page.data_dir));
    }
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    let (parts, body) = request.into_parts();
    let form = if reading {
        None
    } else {
        Some(read_body(body).await?)
    };
    let mut request = Request::from_parts(parts, Body::empty());
    if let Some(form) = &form {
        request.extensions_mut().insert(form.clone());
    }
    if path == "/login" {
        return Ok(next.run(request).await);
    }
    let Some(viewer) = viewer(&page, request.headers()).await? else {
        return Ok(if reading {
            Redirect::to("/login").into_response()
        } else {
            Failure::forbidden("Log in first.").into_response()
        });
    };
    if let Some(refused) = refusal(&page, &path, &viewer, form.as_ref()) {
        return Ok(refused.page(Some(&viewer)));
    }
    request.extensions_mut().insert(viewer.clone());
    let mut response = next.run(request).await;
    Ok(match response.extensions_mut().remove::<Failure>() {
        Some(failure) => failure.page(Some(&viewer)),
        None => response,
    })
}

/// Why the guard refuses `viewer` the request, if it does: a POST without
/// the session's CSRF token or the right to change; any page but the
/// logout without `integrate`.
fn refusal(page: &Page, path: &str, viewer: &Viewer, form: Option<&Form>) -> Option<Failure> {
    if let Some(form) = form {
        if !tokens_match(&viewer.csrf, form.field("csrf").unwrap_or_default()) {
            tracing::warn!(
                user = %untrusted(&viewer.user),
                path = %untrusted(path),
                "a form without the session's CSRF token was refused"
            );
            return Some(Failure::forbidden(
                "The form's security token is missing or wrong: nothing was changed. Reload the page and try again.",
            ));
        }
        let plugin = |id: &str| page.host.find(id).map(|p| &p.manifest);
        if path != "/logout" && !may_change(path, viewer, plugin) {
            return Some(Failure::forbidden(
                "Your roles let you see this page but not change it: nothing was changed.",
            ));
        }
    }
    if admin_only(path) && !viewer.edits() {
        return Some(Failure::forbidden(
            "Only admins (the integrate feature with edit access) see the users and the audit log.",
        ));
    }
    let opens_page = viewer.grants.iter().any(|g| g.feature == INTEGRATE);
    (!opens_page && path != "/logout").then(|| {
        Failure::forbidden("None of your roles opens the admin page (the integrate feature).")
    })
}

#[cfg(test)]
mod tests {
    use intellitrack_db::EVERY_PLUGIN;

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
        let woo = Manifest {
            id: "woo".into(),
            name: "Woo".into(),
            version: "1".into(),
            description: String::new(),
            feature: "Woo".into(),
            api_version: plugin_api::API_VERSION,
            settings: vec![],
            jobs: vec![],
        };
        let plugin = |id: &str| (id == "woo").then_some(&woo);
        let editor = viewer(&[(INTEGRATE, Access::Edit)]);
        let reader = viewer(&[(INTEGRATE, Access::Read)]);
        let clerk = viewer(&[(INTEGRATE, Access::Read), ("Woo", Access::Edit)]);
        let every = viewer(&[(INTEGRATE, Access::Read), (EVERY_PLUGIN, Access::Edit)]);
        let looker = viewer(&[(INTEGRATE, Access::Read), ("Woo", Access::Read)]);
        for path in ["/plugins/woo/settings", "/timezone", "/parked/woo/retry"] {
            assert!(may_change(path, &editor, plugin), "{path}");
            assert!(!may_change(path, &reader, plugin), "{path}");
            assert!(!may_change(path, &clerk, plugin), "{path}");
        }
        for path in [
            "/plugins/woo/activate",
            "/plugins/woo/deactivate",
            "/plugins/woo/jobs/import/run",
        ] {
            assert!(!may_change(path, &reader, plugin), "{path}");
            assert!(!may_change(path, &looker, plugin), "{path}: read-only");
            assert!(may_change(path, &clerk, plugin), "{path}");
            assert!(may_change(path, &every, plugin), "{path}");
        }
        assert!(!may_change("/plugins/other/activate", &clerk, plugin));
    }

    #[test]
    fn users_and_the_audit_log_are_for_admins_alone() {
        for path in ["/users", "/users/ann/remove", "/audit", "/audit/"] {
            assert!(admin_only(path), "{path}");
        }
        for path in ["/plugins", "/parked", "/usersx", "/orders/users"] {
            assert!(!admin_only(path), "{path}");
        }
    }
}
