//! Logging in and out. Passwords are checked against the users' Argon2
//! hashes (an unknown user costs the same check, against a hash of nothing
//! anyone knows); failures are throttled per user and address
//! ([`super::throttle`]). The login form's CSRF token rides in a cookie of
//! its own until a session exists.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use maud::html;

use super::guard::{self, Viewer, field};
use super::layout::{self, Failure, frame};
use super::session::{self, LOGIN_COOKIE, random_token, tokens_match};
use super::{Page, State, blocking};
use crate::cli::users::{hash_password, password_matches};

/// How long a login form may stay open before it must be reloaded.
const LOGIN_FORM_SECS: u64 = 3600;

pub async fn form(axum::extract::State(page): State, headers: HeaderMap) -> Response {
    let logged_in = guard::session_token(&headers)
        .and_then(|t| page.sessions.find(t, Instant::now()))
        .is_some();
    if logged_in {
        return Redirect::to("/plugins").into_response();
    }
    login_page(&page, &headers, StatusCode::OK, None)
}

fn login_page(
    page_state: &Page,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    // The token the browser holds already, if any: another request (a
    // favicon, a second tab) must not change the token under an open form.
    let token = login_cookie(headers)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(random_token, str::to_owned);
    let cookie = session::cookie(
        LOGIN_COOKIE,
        &token,
        guard::secure(page_state, headers),
        Some(LOGIN_FORM_SECS),
    );
    let body = frame(
        "Log in",
        None,
        html! {
            @if let Some(e) = error { (layout::message(e, false)) }
            form method="post" action="/login" class="login" {
                input type="hidden" name="csrf" value=(token);
                label { "User name" input type="text" name="user" id="user" autocomplete="username" required; }
                label { "Password" input type="password" name="password" id="password" autocomplete="current-password" required; }
                button type="submit" id="login" { "Log in" }
            }
        },
    );
    (status, [(header::SET_COOKIE, cookie)], body).into_response()
}

pub async fn submit(
    axum::extract::State(page): State,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let form = guard::read_form(&body)?;
    let expected = login_cookie(&headers).unwrap_or_default();
    if !tokens_match(expected, field(&form, "csrf").unwrap_or_default()) {
        return Err(Failure::forbidden(
            "The login form's security token is missing or wrong. Reload the login page and try again.",
        ));
    }
    let user = field(&form, "user").unwrap_or_default().trim().to_owned();
    let password = field(&form, "password").unwrap_or_default().to_owned();
    let addr = peer.ip();
    let locked = page
        .throttle
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .locked(&user, addr, Instant::now());
    if let Some(wait) = locked {
        let secs = wait.as_secs().max(1);
        let mut response = login_page(
            &page,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed logins for this user from this address. Try again in {secs} seconds."
            )),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            secs.to_string().parse().expect("digits"),
        );
        return Ok(response);
    }
    let host = page.host.clone();
    let name = user.clone();
    let matches = blocking(move || {
        let hash = host.core.db.password_hash(&name)?;
        Ok::<_, intellitrack_db::DbError>(
            password_matches(
                hash.as_deref().unwrap_or_else(|| unknown_user_hash()),
                &password,
            ) && hash.is_some(),
        )
    })
    .await?
    .map_err(Failure::from_db)?;
    let mut throttle = page.throttle.lock().unwrap_or_else(|e| e.into_inner());
    if !matches {
        throttle.failed(&user, addr, Instant::now());
        drop(throttle);
        tracing::warn!(user = %user, %addr, "failed login to the admin page");
        return Ok(login_page(
            &page,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("Wrong user name or password."),
        ));
    }
    throttle.succeeded(&user, addr);
    drop(throttle);
    tracing::info!(user = %user, %addr, "logged in to the admin page");
    let token = page.sessions.start(&user, Instant::now());
    let secure = guard::secure(&page, &headers);
    Ok((
        AppendHeaders([
            (
                header::SET_COOKIE,
                session::cookie(session::COOKIE, &token, secure, None),
            ),
            (
                header::SET_COOKIE,
                session::cookie(LOGIN_COOKIE, "", secure, Some(0)),
            ),
        ]),
        Redirect::to("/plugins"),
    )
        .into_response())
}

pub async fn logout(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = guard::session_token(&headers) {
        page.sessions.end(token);
    }
    tracing::info!(user = %viewer.user, "logged out of the admin page");
    let cookie = session::cookie(session::COOKIE, "", guard::secure(&page, &headers), Some(0));
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

/// The login form's token the request's cookie carries.
fn login_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::cookie_value(h, LOGIN_COOKIE))
}

/// A hash no password is known for, checked when the user does not exist so
/// that an unknown name takes as long as a wrong password.
fn unknown_user_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        hash_password("nobody", &random_token()).expect("a random 64-character password is strong")
    })
}
