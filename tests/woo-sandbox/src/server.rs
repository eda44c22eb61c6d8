//! HTTP plumbing: the accept loop (plain or TLS), the worker pool and fault
//! injection around every REST request, the WordPress-style entry points
//! (`/wp-json/...` and `?rest_route=`), and the `/__sandbox` control routes
//! (which bypass the pool); webhook deliveries after the order requests
//! that fire them ([`webhooks`]).

use std::convert::Infallible;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use futures_util::StreamExt as _;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::api::{self, ApiRequest, Features};
use crate::auth::{self, Authenticator, Credentials};
use crate::capacity::{Pool, RETRY_AFTER_SECS};
use crate::clock::Clock;
use crate::faults::{AfterWrite, Fault, FaultRule, Faults, parse_rules};
use crate::php_query::PhpParams;
use crate::render::Site;
use crate::stats::Stats;
use crate::store::Store;
use crate::version::WcVersion;
use crate::webhooks;

/// Everything the request handlers share.
pub struct Shared {
    /// The records.
    pub store: RwLock<Store>,
    /// Home URL, time zone.
    pub site: Site,
    /// Switchable features.
    pub features: Mutex<Features>,
    /// Keys and nonces.
    pub auth: Authenticator,
    /// Now (see [`Shared::now`]).
    pub clock: Arc<dyn Clock>,
    /// Seconds added to the clock (`/__sandbox/clock`).
    pub clock_offset: AtomicI64,
    /// The WooCommerce version the store plays.
    pub wc_version: Mutex<WcVersion>,
    /// Fault rules.
    pub faults: Faults,
    /// Request counts.
    pub stats: Stats,
    /// The workers that serve REST requests (`--workers`).
    pub pool: Pool,
    /// Treat plain-HTTP requests as HTTPS (a TLS proxy in front).
    pub behind_tls: bool,
    /// Webhooks and their deliveries.
    pub webhooks: Mutex<crate::webhooks::Webhooks>,
}

impl Shared {
    /// The store's "now": the clock plus the offset, in whole seconds as
    /// WordPress stores dates (two writes in the same second get the same
    /// `date_modified`).
    pub fn now(&self) -> Timestamp {
        let secs = (self.clock.now().as_second())
            .saturating_add(self.clock_offset.load(Ordering::Relaxed));
        Timestamp::from_second(secs).unwrap_or(if secs > 0 {
            Timestamp::MAX
        } else {
            Timestamp::MIN
        })
    }

    /// The version currently played.
    pub fn wc_version(&self) -> WcVersion {
        *self.wc_version.lock().expect("version lock")
    }
}

/// Whether a connection came in over TLS.
#[derive(Debug, Clone, Copy)]
struct ConnTls(bool);

/// Where a request lands in WordPress terms.
struct RestTarget {
    /// e.g. `/wc/v3/products/11`.
    route: String,
    /// The path WooCommerce signs (`/wp-json/...`, or `/` for `rest_route`).
    signed_path: String,
    /// Base for `Link` URLs.
    link_base: String,
}

fn rest_target(path: &str, params: &PhpParams, home: &str) -> Option<RestTarget> {
    if let Some(route) = path.strip_prefix("/wp-json") {
        let route = if route.is_empty() {
            "/".to_owned()
        } else {
            route.trim_end_matches('/').to_owned()
        };
        let route = if route.is_empty() {
            "/".to_owned()
        } else {
            route
        };
        return Some(RestTarget {
            link_base: format!("{home}/wp-json{route}"),
            route,
            signed_path: path.to_owned(),
        });
    }
    if path == "/" || path == "/index.php" {
        let route = params
            .scalar("rest_route")?
            .trim_end_matches('/')
            .to_owned();
        return Some(RestTarget {
            link_base: format!("{home}{path}"),
            route,
            signed_path: path.to_owned(),
        });
    }
    None
}

/// The path faults match on: the request path, or `/wp-json` + `rest_route`.
fn fault_path(uri: &Uri) -> String {
    let params = PhpParams::parse(uri.query().unwrap_or(""));
    match params.scalar("rest_route") {
        Some(r) if matches!(uri.path(), "/" | "/index.php") => format!("/wp-json{r}"),
        _ => uri.path().to_owned(),
    }
}

fn json_response(status: u16, headers: &[(&str, String)], body: &Value) -> Response<Body> {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("X-WP-Total, X-WP-TotalPages, Link"),
    );
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(*k),
            HeaderValue::from_str(v),
        ) {
            h.insert(name, value);
        }
    }
    resp
}

async fn wp_entry(
    State(shared): State<Arc<Shared>>,
    Extension(ConnTls(tls)): Extension<ConnTls>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let params = PhpParams::parse(uri.query().unwrap_or(""));
    let site = &shared.site;
    let Some(target) = rest_target(uri.path(), &params, &site.home) else {
        return json_response(
            404,
            &[],
            &api::ApiResponse::from(crate::error::ApiError::no_route()).body,
        );
    };
    let now = shared.now();
    let signature_base_url = format!("{}{}", site.home, target.signed_path);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let method_str = method.as_str().to_owned();
    let creds = Credentials {
        method: &method_str,
        signature_base_url: &signature_base_url,
        query: &params,
        authorization,
        is_ssl: tls || shared.behind_tls,
        now: now.as_second(),
    };
    let caller = match shared
        .auth
        .authenticate(&creds)
        .and_then(|c| auth::check_method(&method_str, &c).map(|()| c))
    {
        Ok(c) => c,
        Err(e) => return json_response(e.status, &[], &e.body()),
    };
    let body = (!body.is_empty()).then(|| serde_json::from_slice::<Value>(&body).map_err(|_| ()));
    let features = *shared.features.lock().expect("features lock");
    let site = &Site {
        cogs: features.cogs,
        wc_version: shared.wc_version(),
        ..site.clone()
    };
    let request = ApiRequest {
        method: method_str,
        route: target.route,
        params,
        body,
        link_base: target.link_base,
        caller,
        now,
    };
    if let Some(answer) = webhooks::route(&shared, &request) {
        return match answer {
            Ok((resp, ping)) => {
                if let Some(ping) = ping {
                    webhooks::ping(ping).await;
                }
                json_response(resp.status, &resp.headers, &resp.body)
            }
            Err(e) => {
                let resp = api::ApiResponse::from(e);
                json_response(resp.status, &resp.headers, &resp.body)
            }
        };
    }
    let resp = api::handle(&request, &shared.store, site, features);
    if let Some((topic, order)) = webhooks::order_event(&request, &resp) {
        webhooks::deliver(&shared, topic, &order);
    }
    json_response(resp.status, &resp.headers, &resp.body)
}

async fn get_webhooks(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(
        shared
            .webhooks
            .lock()
            .expect("webhooks lock")
            .control_body(),
    )
}

/// `{"drop_deliveries": true}` drops every delivery from now on (each
/// counted as failed), `false` delivers again.
async fn put_webhooks(State(shared): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    with_json(&body, |v| {
        match v.get("drop_deliveries").and_then(Value::as_bool) {
            Some(drop) => {
                let mut hooks = shared.webhooks.lock().expect("webhooks lock");
                hooks.set_drop_deliveries(drop);
                (StatusCode::OK, axum::Json(hooks.control_body())).into_response()
            }
            None => (
                StatusCode::BAD_REQUEST,
                "expected {\"drop_deliveries\": true|false}",
            )
                .into_response(),
        }
    })
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(json!(shared.faults.rules()))
}

/// Parse rules and check the products their `place_order_before` buys.
fn checked_rules(shared: &Shared, body: &[u8]) -> Result<Vec<FaultRule>, String> {
    let rules = parse_rules(body)?;
    let store = shared.store.read().expect("store lock");
    for order in rules.iter().filter_map(|r| r.place_order_before.as_ref()) {
        store.placeable(order)?;
    }
    Ok(rules)
}

async fn put_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    match checked_rules(&shared, &body) {
        Ok(rules) => {
            shared.faults.set(rules);
            json_response(200, &[], &json!(shared.faults.rules()))
        }
        Err(e) => json_response(400, &[], &json!({ "error": e })),
    }
}

async fn delete_faults(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.faults.set(Vec::new());
    StatusCode::NO_CONTENT
}

async fn get_stats(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(json!(shared.stats.snapshot()))
}

async fn delete_stats(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.stats.reset();
    StatusCode::NO_CONTENT
}

async fn get_capacity(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(json!(shared.pool.stats()))
}

async fn delete_capacity(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.pool.reset();
    StatusCode::NO_CONTENT
}

fn features_body(shared: &Shared) -> Value {
    let f = *shared.features.lock().expect("features lock");
    json!({
        "cogs": f.cogs,
        "shipment_tracking": f.shipment_tracking,
        "wc_version": shared.wc_version().to_string(),
    })
}

async fn get_features(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(features_body(&shared))
}

/// Answer a control route's JSON body (any content type, as for the
/// faults) with `f`; 400 when it is not JSON.
fn with_json(body: &Bytes, f: impl FnOnce(Value) -> Response<Body>) -> Response<Body> {
    match serde_json::from_slice(body) {
        Ok(v) => f(v),
        Err(e) => json_response(400, &[], &json!({ "error": e.to_string() })),
    }
}

async fn put_features(State(shared): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    with_json(&body, |v| set_features(&shared, &v))
}

fn set_features(shared: &Shared, v: &Value) -> Response<Body> {
    if let Some(text) = v.get("wc_version").and_then(Value::as_str) {
        match text.parse::<WcVersion>() {
            Ok(version) => *shared.wc_version.lock().expect("version lock") = version,
            Err(e) => return json_response(400, &[], &json!({ "error": e })),
        }
    }
    {
        let mut f = shared.features.lock().expect("features lock");
        if let Some(b) = v.get("cogs").and_then(Value::as_bool) {
            f.cogs = b;
        }
        if let Some(b) = v.get("shipment_tracking").and_then(Value::as_bool) {
            f.shipment_tracking = b;
        }
    }
    json_response(200, &[], &features_body(shared))
}

fn clock_body(shared: &Shared) -> Value {
    json!({
        "now": shared.now().to_string(),
        "offset_secs": shared.clock_offset.load(Ordering::Relaxed),
    })
}

async fn get_clock(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(clock_body(&shared))
}

/// `{"advance_secs": N}` moves the clock on by N seconds; `{"offset_secs":
/// N}` sets the offset from the underlying clock.
async fn put_clock(State(shared): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    with_json(&body, |v| set_clock(&shared, &v))
}

fn set_clock(shared: &Shared, v: &Value) -> Response<Body> {
    match (
        v.get("advance_secs").and_then(Value::as_i64),
        v.get("offset_secs").and_then(Value::as_i64),
    ) {
        (Some(by), None) => {
            shared.clock_offset.fetch_add(by, Ordering::Relaxed);
        }
        (None, Some(to)) => shared.clock_offset.store(to, Ordering::Relaxed),
        _ => {
            return json_response(
                400,
                &[],
                &json!({ "error": "send {\"advance_secs\": N} or {\"offset_secs\": N}" }),
            );
        }
    }
    json_response(200, &[], &clock_body(shared))
}

async fn delete_clock(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.clock_offset.store(0, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

/// The axum application: control routes plus the WordPress entry points.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/__sandbox/faults",
            get(get_faults).put(put_faults).delete(delete_faults),
        )
        .route("/__sandbox/stats", get(get_stats).delete(delete_stats))
        .route("/__sandbox/webhooks", get(get_webhooks).put(put_webhooks))
        .route(
            "/__sandbox/capacity",
            get(get_capacity).delete(delete_capacity),
        )
        .route("/__sandbox/features", get(get_features).put(put_features))
        .route(
            "/__sandbox/clock",
            get(get_clock).put(put_clock).delete(delete_clock),
        )
        .fallback(wp_entry)
        .with_state(shared)
}

/// The `Date` header by the store's clock (a test that moves the clock
/// moves it too), as a web server stamps every answer.
fn stamp_date(resp: &mut Response<Body>, now: jiff::Timestamp) {
    let date = now.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(value) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert("date", value);
    }
}

/// The bare 5xx page a proxy or PHP-FPM in front of WordPress answers.
fn server_error(status: u16) -> Response<Body> {
    let mut resp = Response::new(Body::from(format!(
        "<html><body><h1>{status}</h1>sandbox fault</body></html>"
    )));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/html"));
    resp
}

/// What nginx answers when PHP-FPM's backlog is full.
fn pool_full() -> Response<Body> {
    let mut resp = server_error(503);
    resp.headers_mut().insert(
        "retry-after",
        HeaderValue::from_str(&RETRY_AFTER_SECS.to_string()).expect("digits"),
    );
    resp
}

/// Run one request through the worker pool (waiting for a worker, or
/// refused when the backlog is full), the fault rules (latency is spent on
/// the worker, as PHP spends it), then the application, then (for a
/// successful write) the after-write faults.
async fn with_faults(
    req: Request<hyper::body::Incoming>,
    app: Router,
    shared: Arc<Shared>,
    tls: bool,
) -> Result<Response<Body>, std::io::Error> {
    let mut req = req.map(Body::new);
    req.extensions_mut().insert(ConnTls(tls));
    if req.uri().path().starts_with("/__sandbox") {
        return Ok(app
            .oneshot(req)
            .await
            .unwrap_or_else(|e: Infallible| match e {}));
    }
    let path = fault_path(req.uri());
    let route = path.strip_prefix("/wp-json").unwrap_or(&path);
    shared
        .stats
        .record(req.method().as_str(), &api::route_pattern(route));
    let Some(_worker) = shared.pool.enter().await else {
        return Ok(pool_full());
    };
    let decision = shared.faults.decide(req.method().as_str(), &path);
    if decision.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.latency_ms)).await;
    }
    match decision.fault {
        Some(Fault::Drop) => {
            return Err(std::io::Error::other("sandbox fault: connection dropped"));
        }
        Some(Fault::RateLimited(secs)) => {
            return Ok(json_response(
                429,
                &[("Retry-After", secs.to_string())],
                &json!({ "code": "too_many_requests", "message": "Too Many Requests", "data": { "status": 429 } }),
            ));
        }
        Some(Fault::ServerError(status)) => return Ok(server_error(status)),
        _ => {}
    }
    // A customer's order lands between the client's read and this write.
    if let Some(order) = &decision.place_order {
        let placed = shared
            .store
            .write()
            .expect("store lock")
            .place_order(order, shared.now());
        match placed {
            Ok(id) => tracing::debug!("sandbox fault: order {id} placed before {path}"),
            Err(e) => tracing::warn!("sandbox fault: {e}"),
        }
    }
    let mut resp = app
        .oneshot(req)
        .await
        .unwrap_or_else(|e: Infallible| match e {});
    stamp_date(&mut resp, shared.now());
    // The handler has run: a write has landed in the store. Only now may
    // the answer to a successful one be lost, replaced or held back.
    if let Some(ticket) = decision.after_write
        && resp.status().is_success()
    {
        match shared.faults.after_write(ticket) {
            Some(AfterWrite::Lost) => {
                return Err(std::io::Error::other(
                    "sandbox fault: the write landed, its answer was lost",
                ));
            }
            Some(AfterWrite::ServerError(status)) => return Ok(server_error(status)),
            Some(AfterWrite::Held(ms)) => tokio::time::sleep(Duration::from_millis(ms)).await,
            None => {}
        }
    }
    let Some(fault) = decision.fault else {
        return Ok(resp);
    };
    let (mut parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    parts.headers.remove("content-length");
    let body = match fault {
        Fault::Truncate => Body::from(bytes.slice(..bytes.len() / 2)),
        Fault::InvalidJson => Body::from("{\"id\": 1, \"name\": <b>Fatal error</b>"),
        Fault::SlowBody(delay_ms) => {
            let chunks: Vec<Bytes> = bytes.chunks(256).map(Bytes::copy_from_slice).collect();
            let stream = futures_util::stream::iter(chunks.into_iter().enumerate()).then(
                move |(i, chunk)| async move {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    }
                    Ok::<Bytes, std::io::Error>(chunk)
                },
            );
            Body::from_stream(stream)
        }
        Fault::Drop | Fault::RateLimited(_) | Fault::ServerError(_) => Body::from(bytes),
    };
    Ok(Response::from_parts(parts, body))
}

/// Accept connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router(shared.clone());
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, shared, tls) = (app.clone(), shared.clone(), tls.clone());
        tokio::spawn(async move {
            let is_tls = tls.is_some();
            let service = hyper::service::service_fn(move |req| {
                with_faults(req, app.clone(), shared.clone(), is_tls)
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let outcome = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => builder.serve_connection(TokioIo::new(s), service).await,
                    Err(e) => {
                        tracing::debug!("TLS handshake failed: {e}");
                        return;
                    }
                },
                None => {
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                }
            };
            if let Err(e) = outcome {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
}
