//! A small WooCommerce look-alike for the client's HTTP tests: it pages
//! like wc/v3, records every request, counts concurrent requests and plays
//! scripted faults (error statuses, Retry-After, dropped connections, slow
//! or malformed answers).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

pub const KEY: &str = "ck_test_key";
pub const SECRET: &str = "cs_very_secret_value_1234567890";

/// What the store does to the next request instead of answering it.
#[derive(Debug, Clone)]
pub enum Fault {
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// Closes the connection in the middle of the answer.
    Drop,
    /// Waits this long before answering.
    Slow(Duration),
    /// Answers 200 with a body that is not JSON.
    BadJson,
    /// Redirects to a URL that echoes the request's query.
    RedirectEchoingQuery,
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
}

impl Seen {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub struct State {
    pub products: Mutex<Vec<Value>>,
    pub orders: Mutex<Vec<Value>>,
    pub faults: Mutex<VecDeque<Fault>>,
    pub seen: Mutex<Vec<Seen>>,
    pub delay: Mutex<Duration>,
    pub read_only: Mutex<bool>,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

pub struct FakeStore {
    pub url: String,
    pub state: Arc<State>,
}

impl FakeStore {
    pub async fn start() -> Self {
        let state = Arc::new(State::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::clone(&state);
        let base = url.clone();
        let app = axum::Router::new().fallback(move |method, uri, headers, body| {
            handle(
                Arc::clone(&shared),
                base.clone(),
                method,
                uri,
                headers,
                body,
            )
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    pub fn with_products(self, count: u64) -> Self {
        *self.state.products.lock().unwrap() = (1..=count).map(product).collect();
        self
    }

    pub fn fault(&self, fault: Fault) {
        self.state.faults.lock().unwrap().push_back(fault);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

pub fn product(id: u64) -> Value {
    json!({
        "id": id, "name": format!("Product {id}"), "sku": format!("SKU-{id}"),
        "type": "simple", "status": "publish", "manage_stock": true,
        "stock_quantity": id % 50, "regular_price": "10.00", "sale_price": "",
        "date_modified_gmt": format!("2026-11-26T10:{:02}:{:02}", (id / 60) % 60, id % 60),
        "meta_data": [], "cost_of_goods_sold": {"values": [], "total_value": 1.5}
    })
}

pub fn order(id: u64, status: &str, modified: &str) -> Value {
    json!({"id": id, "number": id.to_string(), "status": status,
           "date_modified_gmt": modified, "line_items": []})
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn woo_error(status: u16, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"code": code, "message": message, "data": {"status": status}}),
    )
}

struct InFlight<'a>(&'a State);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    state: Arc<State>,
    base: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(&state);
    let query = parse_query(uri.query().unwrap_or_default());
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: query.clone(),
        authorization: headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned()),
    };
    state.seen.lock().unwrap().push(seen.clone());
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let fault = state.faults.lock().unwrap().pop_front();
    match fault {
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut response = woo_error(status, "fault", "scripted fault");
            if let Some(value) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", value.parse().unwrap());
            }
            return response;
        }
        Some(Fault::Drop) => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"[{\"id\":")),
                Err(std::io::Error::other(
                    "connection dropped by the fake store",
                )),
            ];
            return Response::builder()
                .status(200)
                .header("content-length", "1000")
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap();
        }
        Some(Fault::Slow(wait)) => tokio::time::sleep(wait).await,
        Some(Fault::BadJson) => {
            return Response::builder()
                .status(200)
                .body(Body::from("[{\"id\": 1,"))
                .unwrap();
        }
        Some(Fault::RedirectEchoingQuery) => {
            return Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(
                    "location",
                    format!(
                        "https://elsewhere.example/?{}",
                        uri.query().unwrap_or_default()
                    ),
                )
                .body(Body::empty())
                .unwrap();
        }
        None => {}
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().trim_start_matches("/wp-json");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["wc", "v3", "products"]) => {
            let records = state.products.lock().unwrap().clone();
            collection(&base, &seen, records)
        }
        ("GET", ["wc", "v3", "orders"]) => {
            let wanted: Vec<String> = seen
                .param("status")
                .map(|s| s.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            let records: Vec<Value> = state
                .orders
                .lock()
                .unwrap()
                .iter()
                .filter(|o| wanted.is_empty() || wanted.iter().any(|w| o["status"] == w.as_str()))
                .cloned()
                .collect();
            collection(&base, &seen, records)
        }
        ("GET", ["wc", "v3", "system_status"]) => json_response(
            200,
            &json!({"environment": {"version": "10.0.2", "home_url": base}}),
        ),
        ("POST", ["wc", "v3", "products", "batch"]) => {
            if *state.read_only.lock().unwrap() {
                return woo_error(
                    401,
                    "woocommerce_rest_authentication_error",
                    "The API key provided does not have write permissions.",
                );
            }
            let updates = body["update"].as_array().cloned().unwrap_or_default();
            let answered: Vec<Value> = updates
                .iter()
                .map(|u| {
                    if u["id"] == 999_999 {
                        json!({"id": 999_999, "error": {"code": "woocommerce_rest_product_invalid_id",
                                "message": "Invalid ID.", "data": {"status": 400}}})
                    } else {
                        json!({"id": u["id"], "stock_quantity": u["stock_quantity"]})
                    }
                })
                .collect();
            if updates.is_empty() {
                json_response(200, &json!({}))
            } else {
                json_response(200, &json!({"update": answered}))
            }
        }
        ("POST", ["wc", "v3", "orders", id, "notes"]) => json_response(
            201,
            &json!({"id": 18, "note": body["note"], "customer_note": body["customer_note"],
                    "order": id, "date_created_gmt": "2026-11-26T14:35:39"}),
        ),
        _ => woo_error(
            404,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        ),
    }
}

fn collection(base: &str, seen: &Seen, records: Vec<Value>) -> Response {
    let per_page: usize = seen
        .param("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let page: usize = seen.param("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let total = records.len();
    let pages = total.div_ceil(per_page);
    let slice: Vec<Value> = records
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = json_response(200, &Value::Array(slice));
    let headers = response.headers_mut();
    headers.insert("x-wp-total", total.to_string().parse().unwrap());
    headers.insert("x-wp-totalpages", pages.to_string().parse().unwrap());
    if page < pages {
        let link = format!("<{base}/link-followed?page={}>; rel=\"next\"", page + 1);
        headers.insert("link", link.parse().unwrap());
    }
    response
}
