//! Sending calls over HTTP: TLS, timeouts, retries as [`RetryPolicy`]
//! decides, and every attempt under a permit of the client's [`Limiter`].
//! The only module that touches the network.
//!
//! [`RetryPolicy`]: crate::retry::RetryPolicy

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, DATE, LOCATION, RETRY_AFTER};

use crate::config::ClientConfig;
use crate::error::{Endpoint, Error, TransportKind, WooErrorBody};
use crate::limiter::{Finished, Limiter, Permit};
use crate::oauth::OAuthStamp;
use crate::paging::PageInfo;
use crate::request::{Call, Verb, prepare};
use crate::retry::{Decision, Failure, parse_retry_after};

/// A successful (2xx) answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub page: PageInfo,
    /// The store's clock when it answered (`Date` header).
    pub date: Option<Timestamp>,
    /// The parsed JSON body (`null` when empty).
    pub body: serde_json::Value,
}

/// One failed attempt, before the retry decision.
struct AttemptError {
    failure: Failure,
    error: Error,
}

pub struct Transport {
    http: reqwest::Client,
    config: ClientConfig,
    pages: crate::listing::PageProgress,
    limiter: Limiter,
}

impl Transport {
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        config.validate().map_err(Error::Config)?;
        // reqwest is built without a default crypto provider; ring is the
        // one this project uses. Installing fails harmlessly if the process
        // already has one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(15)))
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.extra_ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Config(format!(
                    "cannot read the extra CA file {}: {e}",
                    path.display()
                ))
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::Config(format!(
                    "the extra CA file {} holds no usable PEM certificate: {e}",
                    path.display()
                ))
            })?;
            if certificates.is_empty() {
                return Err(Error::Config(format!(
                    "the extra CA file {} holds no certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTPS: {}", chain(&e))))?;
        let limiter = Limiter::new(config.concurrency, config.retry.max_retry_after);
        Ok(Self {
            http,
            config,
            pages: Default::default(),
            limiter,
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The limit every request of this client waits under.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// Pages of listings read so far, and known to read, by this client.
    pub fn pages(&self) -> &crate::listing::PageProgress {
        &self.pages
    }

    /// Sends `call`, retrying transient failures; a 2xx answer or the last
    /// error comes back.
    pub async fn send(&self, call: &Call) -> Result<Answer, Error> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failed = match self.attempt(call).await {
                Ok(answer) => return Ok(answer),
                Err(failed) => failed,
            };
            let decision = self.config.retry.decide(
                attempts,
                &failed.failure,
                call.idempotent,
                rand::random::<f64>(),
            );
            match decision {
                Decision::RetryAfter(wait) => {
                    tracing::debug!(
                        error = %failed.error,
                        wait_ms = wait.as_millis() as u64,
                        "retrying WooCommerce call"
                    );
                    tokio::time::sleep(wait).await;
                }
                Decision::GiveUp => return Err(with_attempts(failed.error, attempts)),
            }
        }
    }

    /// One attempt under a permit of the limiter, telling it how the store
    /// coped.
    async fn attempt(&self, call: &Call) -> Result<Answer, AttemptError> {
        let mut permit = self.limiter.acquire(request_kind(call)).await;
        let outcome = self.attempt_now(call, &mut permit).await;
        permit.finish(match &outcome {
            Ok(_) => Finished::Answered,
            Err(failed) => load_signal(&failed.failure),
        });
        outcome
    }

    async fn attempt_now(
        &self,
        call: &Call,
        permit: &mut Permit<'_>,
    ) -> Result<Answer, AttemptError> {
        let endpoint = Endpoint {
            method: call.verb.as_str(),
            path: call.route.clone(),
        };
        let prepared = prepare(&self.config, call, &OAuthStamp::fresh(unix_now()));
        let url = reqwest::Url::parse(&prepared.url).map_err(|e| AttemptError {
            failure: Failure::Other,
            error: Error::Config(format!("the store URL does not form a valid address: {e}")),
        })?;
        let method = match call.verb {
            Verb::Get => reqwest::Method::GET,
            Verb::Post => reqwest::Method::POST,
            Verb::Put => reqwest::Method::PUT,
            Verb::Delete => reqwest::Method::DELETE,
        };
        let mut request = self
            .http
            .request(method, url)
            .header(ACCEPT, "application/json");
        if let Some(value) = &prepared.authorization {
            request = request.header(AUTHORIZATION, value);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&endpoint, &e))?;
        permit.head_arrived();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&endpoint, &e))?
            .to_vec();
        if (200..300).contains(&status) {
            let parsed = if body.is_empty() {
                Ok(serde_json::Value::Null)
            } else {
                serde_json::from_slice(&body)
            };
            return match parsed {
                Ok(body) => Ok(Answer {
                    status,
                    page: PageInfo::from_headers(header("x-wp-total"), header("x-wp-totalpages")),
                    date: header(DATE.as_str())
                        .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
                        .map(|z| z.timestamp()),
                    body,
                }),
                Err(e) => Err(AttemptError {
                    failure: Failure::MalformedBody,
                    error: Error::Body {
                        endpoint,
                        status,
                        detail: format!("not JSON: {e}"),
                    },
                }),
            };
        }
        let mut woo = WooErrorBody::parse(&body);
        if (300..400).contains(&status) && woo.message.is_none() {
            let target = header(LOCATION.as_str()).unwrap_or("an unnamed address");
            woo.message = Some(format!("redirected to {}", strip_query(target)));
        }
        let retry_after = header(RETRY_AFTER.as_str())
            .and_then(|value| parse_retry_after(value, Timestamp::now()));
        Err(AttemptError {
            failure: Failure::Status {
                status,
                retry_after,
            },
            error: Error::Status {
                endpoint,
                status,
                body: WooErrorBody {
                    code: woo.code,
                    message: woo.message.map(|m| self.config.consumer_secret.scrub(&m)),
                },
                attempts: 1,
            },
        })
    }

    fn transport_error(&self, endpoint: &Endpoint, error: &reqwest::Error) -> AttemptError {
        let detail = chain(error);
        let kind = if error.is_timeout() {
            TransportKind::Timeout
        } else if detail.to_ascii_lowercase().contains("certificate") {
            TransportKind::Certificate
        } else if self.config.is_https() && answered_in_plain_http(&detail) {
            TransportKind::PlainHttp
        } else if error.is_connect() {
            TransportKind::Connect
        } else if error.is_body() || error.is_request() || error.is_decode() {
            TransportKind::Dropped
        } else {
            TransportKind::Other
        };
        let failure = match kind {
            TransportKind::Connect => Failure::Connect,
            TransportKind::Timeout => Failure::Timeout,
            TransportKind::Dropped => Failure::Dropped,
            TransportKind::Certificate | TransportKind::PlainHttp | TransportKind::Other => {
                Failure::Other
            }
        };
        AttemptError {
            failure,
            error: Error::Transport {
                endpoint: endpoint.clone(),
                kind,
                detail: self.config.consumer_secret.scrub(&detail),
                attempts: 1,
            },
        }
    }
}

/// What a failed attempt says about the store's load: refusals for load
/// (429; 502, 503 and 504 from the web server or proxy in front of PHP)
/// and timeouts are the store saying "fewer".
fn load_signal(failure: &Failure) -> Finished {
    match failure {
        Failure::Status {
            status: 429 | 502..=504,
            retry_after,
        } => Finished::Overloaded {
            retry_after: *retry_after,
        },
        Failure::Timeout => Finished::Overloaded { retry_after: None },
        _ => Finished::Other,
    }
}

/// A request's kind for its unloaded latency: the verb and the route with
/// ids replaced (`POST /wc/v3/products/{id}/variations/batch`).
fn request_kind(call: &Call) -> String {
    let route: Vec<&str> = call
        .route
        .split('/')
        .map(|part| {
            if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                part
            }
        })
        .collect();
    format!("{} {}", call.verb.as_str(), route.join("/"))
}

fn with_attempts(error: Error, attempts: u32) -> Error {
    match error {
        Error::Status {
            endpoint,
            status,
            body,
            ..
        } => Error::Status {
            endpoint,
            status,
            body,
            attempts,
        },
        Error::Transport {
            endpoint,
            kind,
            detail,
            ..
        } => Error::Transport {
            endpoint,
            kind,
            detail,
            attempts,
        },
        Error::Body {
            endpoint,
            status,
            detail,
        } if attempts > 1 => Error::Body {
            endpoint,
            status,
            detail: format!("{detail} (after {attempts} attempts)"),
        },
        other => other,
    }
}

/// The error and its causes, without the URL (which may carry credentials).
fn chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(
            if error.is_timeout() {
                "no answer in time"
            } else {
                "no further detail"
            }
            .to_owned(),
        );
    }
    parts.join(": ")
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Whether a TLS failure's text says the other side spoke plain HTTP (an
/// HTTP answer read as a TLS record).
fn answered_in_plain_http(detail: &str) -> bool {
    let detail = detail.to_ascii_lowercase();
    [
        "invalidcontenttype",
        "corrupt message",
        "wrong version number",
        "http request",
    ]
    .iter()
    .any(|sign| detail.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_of_one_kind_differ_only_in_ids() {
        let batch = Call::post(
            "/wc/v3/products/812/variations/batch",
            serde_json::json!({}),
            true,
        );
        assert_eq!(
            request_kind(&batch),
            "POST /wc/v3/products/{id}/variations/batch"
        );
        let page = Call::get("/wc/v3/products", vec![("page".into(), "7".into())]);
        assert_eq!(request_kind(&page), "GET /wc/v3/products");
    }

    #[test]
    fn refusals_for_load_and_timeouts_slow_the_client_down() {
        let wait = Some(Duration::from_secs(2));
        for status in [429, 502, 503, 504] {
            let failure = Failure::Status {
                status,
                retry_after: wait,
            };
            assert_eq!(
                load_signal(&failure),
                Finished::Overloaded { retry_after: wait },
                "{status}"
            );
        }
        assert_eq!(
            load_signal(&Failure::Timeout),
            Finished::Overloaded { retry_after: None }
        );
        for other in [
            Failure::Status {
                status: 404,
                retry_after: None,
            },
            Failure::Status {
                status: 500,
                retry_after: None,
            },
            Failure::Connect,
            Failure::Other,
        ] {
            assert_eq!(load_signal(&other), Finished::Other, "{other:?}");
        }
    }
}
