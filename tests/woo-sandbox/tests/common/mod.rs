//! Shared pieces of the sandbox's HTTP tests (`after_write`,
//! `order_before_write`, `refunds`): a quick-start sandbox behind a TLS
//! proxy with one test key, and one request with that key. Each file
//! includes this with `mod common;`.

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use woo_sandbox::{RunningSandbox, Sandbox, Seed};

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

const KEY: &str = "ck_test";
const SECRET: &str = "cs_test";

/// The quick-start seed, the test key, playing a store behind a TLS proxy.
pub async fn sandbox() -> RunningSandbox {
    Sandbox::builder()
        .consumer(KEY, SECRET)
        .behind_tls(true)
        .seed(Seed::quickstart())
        .start()
        .await
        .unwrap()
}

/// One request with the test key (Basic auth: the sandbox plays a store
/// behind a TLS proxy): status, headers and body; `Err` when the
/// connection ends without an answer.
pub async fn send(
    s: &RunningSandbox,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, hyper::HeaderMap, bytes::Bytes), hyper_util::client::legacy::Error> {
    use base64::Engine as _;
    let c: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"));
    let req = hyper::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.url()))
        .header("authorization", format!("Basic {auth}"))
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    let resp = c.request(req).await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Ok((status, headers, bytes))
}
