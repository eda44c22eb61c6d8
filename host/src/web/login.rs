//! Logging in and out. Passwords are checked against the users' Argon2
//! hashes by [`super::password_check`] (bounded: a flood of logins is
//! answered "busy"); failures are throttled per user and address
//! ([`super::throttle`]) and logged with the name escaped and cut
//! ([`super::log_text`]). The login form's CSRF token rides in a cookie of
//! its own until a session exists; the session holds the hash the user
//! logged in with. While no user exists, every page is the notice how to
//! add the first admin.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use axum::Extension;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use maud::html;

use super::form::Form;
use super::guard::{self, Viewer};
use super::layout::{self, Failure, frame};
use super::log_text::untrusted;
use super::password_check::Busy;
use super::session::{self, LOGIN_COOKIE, random_token, tokens_match};
use super::{Page, State, blocking};

/// The only page served while no user exists: how to add the first admin,
/// as the service's user and with its data dir, so the command works
/// whatever the layout (a systemd service's state directory, say).
pub fn no_users_notice(data_dir: &Path) -> Response {
    let command = format!(
        "sudo -u {} plugin-host users add NAME --role admin --password-stdin --data-dir {}",
        crate::cli::os_user(),
        shell_word(&data_dir.display().to_string())
    );
    let body = frame(
        "Set up the first admin",
        None,
        html! {
            p { "No user exists yet, so the admin page is closed. Create the first admin on this machine, as the service's user and with its data dir:" }
            pre id="first-admin" { (command) }
            p { "Type the password on standard input (at least 12 characters), then reload this page." }
        },
    );
    (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
}

/// `word` as one word of a shell command: as it is when that is safe,
/// else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// How long a login form may stay open before it must be reloaded.
const LOGIN_FORM_SECS: u64 = 3600;
/// How long a login answered "busy" is asked to wait.
const BUSY_RETRY_SECS: u64 = 2;

pub async fn form(
    axum::extract::State(page): State,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    if guard::viewer(&page, &headers).await?.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(login_page(&page, &headers, StatusCode::OK, None))
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

/// The login page again with `error`, asking to wait `retry_after` seconds.
fn wait_page(page: &Page, headers: &HeaderMap, error: &str, retry_after: u64) -> Response {
    let mut response = login_page(page, headers, StatusCode::TOO_MANY_REQUESTS, Some(error));
    response.headers_mut().insert(
        header::RETRY_AFTER,
        retry_after.to_string().parse().expect("digits"),
    );
    response
}

pub async fn submit(
    axum::extract::State(page): State,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let expected = login_cookie(&headers).unwrap_or_default();
    if !tokens_match(expected, form.field("csrf").unwrap_or_default()) {
        return Err(Failure::forbidden(
            "The login form's security token is missing or wrong. Reload the login page and try again.",
        ));
    }
    if !form.refused.is_empty() {
        return Ok(login_page(
            &page,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("The user name and password are one line each, without control characters."),
        ));
    }
    let user = form.field("user").unwrap_or_default().trim().to_owned();
    let password = form.field("password").unwrap_or_default().to_owned();
    let addr = peer.ip();
    let locked = page
        .throttle
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .locked(&user, addr, Instant::now());
    if let Some(wait) = locked {
        let secs = wait.as_secs().max(1);
        return Ok(wait_page(
            &page,
            &headers,
            &format!(
                "Too many failed logins for this user from this address. Try again in {secs} seconds."
            ),
            secs,
        ));
    }
    let host = page.host.clone();
    let name = user.clone();
    let hash = blocking(move || host.core.db.password_hash(&name))
        .await?
        .map_err(Failure::from_db)?;
    let credential = hash.clone();
    let matches = match page.password_checks.check(hash, password).await {
        Ok(matches) => matches,
        Err(Busy) => {
            tracing::debug!(%addr, "a login was answered busy");
            return Ok(wait_page(
                &page,
                &headers,
                "Many logins are being checked just now. Try again in a few seconds.",
                BUSY_RETRY_SECS,
            ));
        }
    };
    let mut throttle = page.throttle.lock().unwrap_or_else(|e| e.into_inner());
    let Some(credential) = credential.filter(|_| matches) else {
        throttle.failed(&user, addr, Instant::now());
        drop(throttle);
        tracing::warn!(user = %untrusted(&user), %addr, "failed login to the admin page");
        return Ok(login_page(
            &page,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("Wrong user name or password."),
        ));
    };
    throttle.succeeded(&user, addr);
    drop(throttle);
    tracing::info!(user = %untrusted(&user), %addr, "logged in to the admin page");
    let token = page.sessions.start(&user, &credential, Instant::now());
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
        Redirect::to("/"),
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
    tracing::info!(user = %untrusted(&viewer.user), "logged out of the admin page");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notices_data_dir_is_one_shell_word() {
        assert_eq!(shell_word("/var/lib/plugin-host"), "/var/lib/plugin-host");
        assert_eq!(shell_word("/srv/my data"), "'/srv/my data'");
        assert_eq!(shell_word("/srv/it's"), r"'/srv/it'\''s'");
    }
}
