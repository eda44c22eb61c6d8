//! The admin web page served by `plugin-host serve`: the overview (its
//! landing page), login, plugins, their settings, schedules, jobs run by
//! hand, run history and each run's page, parked events, the retention
//! settings (admins), and the
//! warehouse's orders (read-only). Server-rendered HTML
//! (maud, which escapes every value), a small static script for progress,
//! no inline script.
//!
//! It runs on its own thread with its own tokio runtime beside the service
//! loop, sharing the [`Host`]. Every changing action goes through
//! [`crate::service::admin`], as the CLI's do. Security lives in [`connections`]
//! (bounded connections, a deadline for each request's head), [`guard`]
//! (headers, forms, sessions, CSRF, who may change what), [`form`] (fields
//! read strictly), [`login`] (passwords, throttle) with
//! [`password_check`] (bounded Argon2 checks), and [`log_text`] (untrusted
//! values in the log); a page module never checks access itself, so a new
//! route cannot forget to.
//!
//! It must not render a secret, or serve anything without a login (with no
//! user at all it serves only how to create the first admin).

mod audit;
mod confirm;
mod connections;
mod form;
mod guard;
mod hand_runs;
mod hooks;
mod issues_csv;
mod layout;
mod log_text;
mod login;
mod orders;
mod overview;
mod parked;
mod password_check;
mod plugins;
mod retention;
mod run_chart;
mod run_progress;
mod runs;
mod schedule;
mod session;
mod settings_form;
mod throttle;
mod users;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::{get, post};

use crate::host::Host;
use crate::service::hooks::Webhooks;
use crate::service::serve::ActivePlugins;

/// `serve`'s options for the admin page.
#[derive(clap::Args)]
pub struct WebArgs {
    /// Where the admin page listens. A non-loopback address needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8089")]
    listen: SocketAddr,
    /// Allow a non-loopback --listen address (put a TLS proxy in front).
    #[arg(long)]
    allow_remote: bool,
    /// Mark cookies Secure even without `X-Forwarded-Proto: https` from a proxy.
    #[arg(long)]
    secure_cookies: bool,
}

/// What every request handler shares.
pub struct Page {
    host: Arc<Host>,
    active: ActivePlugins,
    sessions: session::Sessions,
    throttle: Mutex<throttle::Throttle>,
    password_checks: password_check::PasswordChecks,
    webhooks: Webhooks,
    secure_cookies: bool,
    /// The data dir `serve` was started with, absolute, for the notice.
    data_dir: PathBuf,
}

type State = axum::extract::State<Arc<Page>>;

/// Refuses a non-loopback address unless the admin allowed it.
fn check_listen(addr: SocketAddr, allow_remote: bool) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() && !allow_remote {
        anyhow::bail!(
            "--listen {addr} is not a loopback address; the admin page would be reachable from other machines. \
             Put a TLS proxy in front and pass --allow-remote, or listen on 127.0.0.1"
        );
    }
    Ok(())
}

/// Binds the admin page's address and serves it on its own thread until
/// `shutdown` is set. A bad or busy address is refused here, before the
/// service starts.
pub fn start(
    host: Arc<Host>,
    active: ActivePlugins,
    webhooks: Webhooks,
    args: &WebArgs,
    data_dir: &Path,
    shutdown: Arc<AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    check_listen(args.listen, args.allow_remote)?;
    let listener = std::net::TcpListener::bind(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let page = Arc::new(Page {
        host,
        active,
        sessions: session::Sessions::default(),
        throttle: Mutex::default(),
        password_checks: password_check::PasswordChecks::start()
            .context("cannot start the admin page's password checks")?,
        webhooks,
        secure_cookies: args.secure_cookies,
        data_dir: std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf()),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("admin-page")
        .enable_all()
        .build()
        .context("cannot start the admin page's runtime")?;
    tracing::info!("admin page listening on http://{local}");
    Ok(std::thread::Builder::new()
        .name("admin-page".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => return tracing::error!("the admin page stopped: {e}"),
                };
                connections::serve(listener, router(page), async move {
                    while !shutdown.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                })
                .await;
            });
        })?)
}

/// Every route. The guard runs before each: a POST here is refused without
/// the session's CSRF token, and without edit rights unless
/// [`guard::may_change`] lets a plugin's feature do it. The one exception,
/// merged after the guard, is the stores' webhook endpoint ([`hooks`]),
/// which admits only signed deliveries.
fn router(page: Arc<Page>) -> Router {
    Router::new()
        .route("/", get(overview::show))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/plugins", get(plugins::list))
        .route("/plugins/{id}/activate", post(plugins::activate))
        .route("/plugins/{id}/deactivate", post(plugins::deactivate))
        .route(
            "/plugins/{id}/settings",
            get(plugins::settings).post(plugins::save_settings),
        )
        .route("/plugins/{id}/test", post(plugins::test_connection))
        .route(
            "/plugins/{id}/schedule",
            get(schedule::show).post(schedule::save),
        )
        .route("/timezone", post(schedule::save_time_zone))
        .route("/plugins/{id}/jobs", get(hand_runs::jobs))
        .route("/plugins/{id}/jobs/{job}/run", post(confirm::run_job))
        .route(
            "/plugins/{id}/watermarks/{key}/reset",
            post(confirm::reset_watermark),
        )
        .route("/orders", get(orders::list))
        .route("/orders/{number}", get(orders::show))
        .route("/runs", get(runs::history))
        .route("/runs/{id}", get(runs::show))
        .route("/runs/{id}/progress", get(runs::progress))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/runs/{id}/issues.csv", get(runs::issues))
        .route("/parked", get(parked::list))
        .route("/parked/{id}/retry", post(parked::retry))
        .route("/parked/{id}/discard", post(parked::discard))
        .route("/users", get(users::list).post(users::add))
        .route("/users/{name}/role", post(users::change_role))
        .route("/users/{name}/password", post(users::reset_password))
        .route("/users/{name}/remove", post(users::remove))
        .route("/audit", get(audit::log))
        .route("/retention", get(retention::show).post(retention::save))
        .route("/static/admin.js", get(layout::script))
        .route("/static/admin.css", get(layout::style))
        .fallback(layout::not_found)
        .layer(axum::middleware::from_fn_with_state(
            page.clone(),
            guard::guard,
        ))
        .with_state(page.clone())
        .merge(hooks::routes(page))
        .layer(axum::middleware::from_fn(guard::security_headers))
}

/// Runs blocking work (the database, a plugin call) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, layout::Failure> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| layout::Failure::internal("the request's work stopped unexpectedly"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served_without_allow_remote() {
        assert!(check_listen("127.0.0.1:8089".parse().unwrap(), false).is_ok());
        assert!(check_listen("[::1]:8089".parse().unwrap(), false).is_ok());
        let refused = check_listen("0.0.0.0:8089".parse().unwrap(), false).unwrap_err();
        assert!(refused.to_string().contains("--allow-remote"), "{refused}");
        assert!(check_listen("0.0.0.0:8089".parse().unwrap(), true).is_ok());
    }
}
