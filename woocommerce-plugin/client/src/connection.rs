//! The connection check run on activation: does the store answer, do the
//! keys read and write, which WooCommerce it is, and which optional features
//! it has; every failure explained in words a shop admin understands.
//!
//! [`explain`] is pure; [`WooClient::check_connection`] makes the requests.
//! The write check sends an empty batch (`POST /products/batch` with `{}`):
//! WooCommerce checks the key's write permission for every POST before the
//! route runs (recording 65), and an empty batch changes nothing.

use serde_json::{Value, json};

use crate::client::{WooClient, decode_body};
use crate::config::{ApiPath, Auth, ClientConfig};
use crate::error::{Error, TransportKind};
use crate::request::Call;

/// What the check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Settings,
    Address,
    Read,
    Write,
    ShipmentTracking,
    CostOfGoods,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The plugin cannot work until this is fixed.
    Problem,
    /// It works, but something is off.
    Warning,
    /// For information.
    Note,
}

/// One result of the check, in plain language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: Check,
    pub severity: Severity,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionReport {
    pub store_answers: bool,
    pub can_read: bool,
    pub can_write: bool,
    pub woocommerce_version: Option<String>,
    /// WordPress' own home URL, as the store reports it.
    pub home_url: Option<String>,
    /// Whether the Shipment Tracking routes exist (`None`: not checked).
    pub shipment_tracking: Option<bool>,
    /// Whether the native Cost of Goods field is on (`None`: no product to
    /// tell from, or not checked).
    pub native_cost_of_goods: Option<bool>,
    pub findings: Vec<Finding>,
}

impl ConnectionReport {
    /// The plugin can run: the store answers and the keys read and write.
    pub fn is_usable(&self) -> bool {
        self.store_answers && self.can_read && self.can_write
    }

    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Problem)
    }

    fn add(&mut self, check: Check, severity: Severity, explanation: impl Into<String>) {
        self.findings.push(Finding {
            check,
            severity,
            explanation: explanation.into(),
        });
    }
}

/// Why keys sent the `auth` way are ignored over plain HTTP, in the words
/// of that way.
fn ignored_over_plain_http(auth: Auth) -> &'static str {
    match auth {
        Auth::QueryString => {
            "Keys in the query string are ignored over plain HTTP: WooCommerce only accepts \
             the key and secret this way over HTTPS."
        }
        _ => {
            "Basic auth is ignored over plain HTTP: WooCommerce only accepts the key and \
             secret this way over HTTPS."
        }
    }
}

/// Explains a failed call of the connection check to a shop admin.
pub fn explain(error: &Error, config: &ClientConfig, check: Check) -> String {
    let store = config.store_root();
    let auth = config.resolved_auth();
    match error {
        Error::Config(detail) => format!("The settings cannot be used: {detail}."),
        Error::Transport { kind, detail, .. } => match kind {
            TransportKind::Connect => format!(
                "The store URL does not answer: nothing accepted a connection at {store}. \
                 Check the address and that the site is online. ({detail})"
            ),
            TransportKind::Timeout => format!(
                "The store did not answer within {} seconds. It may be overloaded or the \
                 address may be wrong.",
                config.timeout.as_secs()
            ),
            TransportKind::PlainHttp => format!(
                "At {store} the store answered in plain HTTP; use http:// or fix its TLS. \
                 ({detail})"
            ),
            TransportKind::Certificate => format!(
                "The store's HTTPS certificate is not trusted by this computer ({detail}). \
                 If the store uses a private certificate authority, set the extra CA file \
                 setting to that authority's certificate."
            ),
            TransportKind::Dropped => format!(
                "The store closed the connection before its answer was complete (a web server \
                 or PHP restarting, or a proxy cutting it off); the next run tries again. \
                 ({detail})"
            ),
            TransportKind::Other => format!(
                "The request to the store could not be completed ({detail}); the next run tries \
                 again."
            ),
        },
        Error::Body { detail, .. } => format!(
            "Something answered at {store}, but not the WooCommerce REST API ({detail}). \
             Check the store URL."
        ),
        Error::Status { status, .. } => {
            let code = error.code().unwrap_or_default();
            let message = error.message().unwrap_or_default();
            explain_status(*status, code, message, config, auth, check)
        }
    }
}

fn explain_status(
    status: u16,
    code: &str,
    message: &str,
    config: &ClientConfig,
    auth: Auth,
    check: Check,
) -> String {
    let store = config.store_root();
    if (300..400).contains(&status) {
        return format!(
            "The store sends requests elsewhere ({message}). Set the store URL to the address \
             WordPress uses (Settings → General → Site Address), e.g. with https:// or www."
        );
    }
    if message.contains("does not have write permissions") {
        return "These keys are read-only. In WooCommerce → Settings → Advanced → REST API, \
                edit the key (or create a new one) with Read/Write permission."
            .into();
    }
    if message.contains("Consumer secret is invalid") {
        return "The consumer secret does not belong to this consumer key. Copy both again \
                from WooCommerce → Settings → Advanced → REST API."
            .into();
    }
    if message.contains("Consumer key is invalid") {
        return "The store does not know this consumer key: it may have been revoked or \
                belong to another store."
            .into();
    }
    if message.contains("provided signature does not match") {
        return format!(
            "The store refused the request signature. Either the consumer secret is wrong, or \
             the store URL ({store}) differs from the one WordPress has configured (check \
             www, http/https and the port in Settings → General)."
        );
    }
    if message.contains("Invalid timestamp") {
        return "This computer's clock and the store's differ by more than 15 minutes; \
                correct the clock."
            .into();
    }
    if message.contains("cannot be used to access this endpoint") {
        return "The store refuses API keys on this route; update the plugin or check \
                WooCommerce's settings."
            .into();
    }
    match (status, code) {
        (
            401,
            "woocommerce_rest_cannot_view"
            | "woocommerce_rest_cannot_create"
            | "woocommerce_rest_cannot_edit"
            | "woocommerce_rest_cannot_batch",
        ) => match auth {
            Auth::Basic | Auth::QueryString if !config.is_https() => format!(
                "{} Use an https:// store URL, or the automatic / OAuth authentication mode.",
                ignored_over_plain_http(auth)
            ),
            Auth::Basic => "The store ignored the keys: the consumer key is unknown, or the web \
                 server removes the Authorization header before WordPress sees it. Try the \
                 query-string authentication mode, or ask the host to pass the header through."
                .into(),
            Auth::QueryString | Auth::OAuth => {
                "The store ignored the keys (it treated the request as anonymous). Check that \
                 the consumer key exists and that the site uses HTTPS if WordPress thinks it \
                 does."
                    .into()
            }
        },
        (403, _) => format!(
            "The keys work, but the WordPress user they belong to may not {}. Create the keys \
             for a Shop Manager or Administrator.",
            match check {
                Check::Write => "change products",
                _ => "read the store's data",
            }
        ),
        (404, "rest_no_route") | (404, "") => {
            let hint = match config.api_path {
                ApiPath::WpJson => {
                    " If the site uses plain permalinks, switch the API path \
                                    setting to ?rest_route=."
                }
                ApiPath::RestRoute => "",
            };
            format!(
                "The WooCommerce REST API was not found at {store}. Check that WooCommerce is \
                 active and the store URL is right.{hint}"
            )
        }
        (429, _) => "The store (or its host) is limiting requests right now; try again in a \
                     few minutes."
            .into(),
        (500..=599, _) => format!(
            "The store had an internal problem (HTTP {status}{}). Try again later; if it \
             persists, check the site's error log.",
            if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            }
        ),
        _ => format!(
            "The store answered HTTP {status}{}{}.",
            if code.is_empty() {
                String::new()
            } else {
                format!(" {code}")
            },
            if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            }
        ),
    }
}

impl WooClient {
    /// Whether the store has the Shipment Tracking routes (the extension, or
    /// Advanced Shipment Tracking): asks for order 0's trackings. Only
    /// WordPress' own "no route" answer means they are missing; any other
    /// answer from the route (an error about order 0 included) means they
    /// are there; an answer that is not WordPress' (a bare 404 from a proxy,
    /// a garbled body) tells nothing and is returned as the error.
    pub async fn shipment_tracking_installed(&self) -> Result<bool, Error> {
        let namespace = self.config().tracking_namespace.trim_matches('/');
        let call = Call::get(
            format!("/{namespace}/orders/0/shipment-trackings"),
            Vec::new(),
        );
        match self.send(&call).await {
            Ok(_) => Ok(true),
            Err(error) if error.code() == Some("rest_no_route") => Ok(false),
            Err(error @ Error::Status { .. }) if error.code().is_none() => Err(error),
            Err(Error::Status { .. }) => Ok(true),
            Err(error) => Err(error),
        }
    }

    /// Runs the activation check. Never fails: every problem is a finding.
    pub async fn check_connection(&self) -> ConnectionReport {
        let config = self.config().clone();
        let mut report = ConnectionReport::default();
        let auth = config.resolved_auth();
        if matches!(auth, Auth::Basic | Auth::QueryString) && !config.is_https() {
            report.add(
                Check::Settings,
                Severity::Warning,
                ignored_over_plain_http(auth),
            );
        }

        let status_call = Call::get(
            "/wc/v3/system_status",
            vec![("_fields".into(), "environment".into())],
        );
        let environment = match self.send(&status_call).await {
            Ok(answer) => decode_body::<Value>(&status_call, answer),
            Err(error) => Err(error),
        };
        match environment {
            Ok(body) => {
                report.store_answers = true;
                report.can_read = true;
                let environment = &body["environment"];
                report.woocommerce_version = environment["version"].as_str().map(str::to_owned);
                report.home_url = environment["home_url"].as_str().map(str::to_owned);
                match &report.woocommerce_version {
                    Some(version) => report.add(
                        Check::Read,
                        Severity::Note,
                        format!("WooCommerce {version}."),
                    ),
                    None => report.add(
                        Check::Read,
                        Severity::Warning,
                        "The store did not say which WooCommerce version it runs.",
                    ),
                }
                if let Some(home) = report.home_url.clone()
                    && config.resolved_auth() == Auth::OAuth
                    && home.trim_end_matches('/') != config.store_root()
                {
                    report.add(
                        Check::Settings,
                        Severity::Warning,
                        format!(
                            "WordPress calls itself {home}, but the store URL setting is {}; \
                             signed requests are checked against WordPress' address.",
                            config.store_root()
                        ),
                    );
                }
            }
            Err(error) => {
                report.store_answers = !matches!(error, Error::Transport { .. } | Error::Config(_));
                let check = if report.store_answers {
                    Check::Read
                } else {
                    Check::Address
                };
                report.add(check, Severity::Problem, explain(&error, &config, check));
                return report;
            }
        }

        // The other checks do not depend on one another: asked at once, so
        // activation (and every run's check) waits one round trip, not three.
        let write_call = Call::post("/wc/v3/products/batch", json!({}), true);
        let cost_call = Call::get(
            "/wc/v3/products",
            vec![
                ("per_page".into(), "1".into()),
                ("_fields".into(), "id,cost_of_goods_sold".into()),
            ],
        );
        let (written, tracking, products) = tokio::join!(
            self.send(&write_call),
            self.shipment_tracking_installed(),
            async {
                match self.send(&cost_call).await {
                    Ok(answer) => decode_body::<Vec<Value>>(&cost_call, answer),
                    Err(error) => Err(error),
                }
            },
        );
        match written {
            Ok(_) => report.can_write = true,
            Err(error) => report.add(
                Check::Write,
                Severity::Problem,
                explain(&error, &config, Check::Write),
            ),
        }

        match tracking {
            Ok(false) => {
                report.shipment_tracking = Some(false);
                report.add(
                    Check::ShipmentTracking,
                    Severity::Warning,
                    "The Shipment Tracking extension is not installed: tracking numbers will \
                     be added as order notes instead.",
                );
            }
            Ok(true) => {
                report.shipment_tracking = Some(true);
                report.add(
                    Check::ShipmentTracking,
                    Severity::Note,
                    "Shipment Tracking is installed.",
                );
            }
            Err(error) => report.add(
                Check::ShipmentTracking,
                Severity::Warning,
                format!(
                    "Could not tell whether Shipment Tracking is installed: {}",
                    explain(&error, &config, Check::ShipmentTracking)
                ),
            ),
        }

        match products {
            Ok(products) => match products.first() {
                Some(product) => {
                    let on = product.get("cost_of_goods_sold").is_some();
                    report.native_cost_of_goods = Some(on);
                    report.add(
                        Check::CostOfGoods,
                        Severity::Note,
                        if on {
                            "WooCommerce's own Cost of Goods field is on: unit costs come from it."
                        } else {
                            "WooCommerce's own Cost of Goods field is off: unit costs come from \
                             product meta data, if any."
                        },
                    );
                }
                None => report.add(
                    Check::CostOfGoods,
                    Severity::Note,
                    "The store has no products yet, so the Cost of Goods field could not be \
                     checked.",
                ),
            },
            Err(error) => report.add(
                Check::CostOfGoods,
                Severity::Warning,
                format!(
                    "Could not check the Cost of Goods field: {}",
                    explain(&error, &config, Check::CostOfGoods)
                ),
            ),
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthMode;
    use crate::error::{Endpoint, WooErrorBody};

    fn status_error(status: u16, code: &str, message: &str) -> Error {
        Error::Status {
            endpoint: Endpoint {
                method: "GET",
                path: "/wc/v3/system_status".into(),
            },
            status,
            body: WooErrorBody {
                code: Some(code.into()),
                message: Some(message.into()),
            },
            attempts: 1,
        }
    }

    fn transport_error(kind: TransportKind) -> Error {
        Error::Transport {
            endpoint: Endpoint {
                method: "GET",
                path: "/wc/v3/system_status".into(),
            },
            kind,
            detail: "detail".into(),
            attempts: 1,
        }
    }

    fn config(url: &str, auth: AuthMode) -> ClientConfig {
        let mut config = ClientConfig::new(url, "ck_1", "cs_1");
        config.auth = auth;
        config
    }

    #[test]
    fn read_only_keys() {
        let error = status_error(
            401,
            "woocommerce_rest_authentication_error",
            "The API key provided does not have write permissions.",
        );
        let text = explain(&error, &config("http://s", AuthMode::Auto), Check::Write);
        assert!(text.starts_with("These keys are read-only"), "{text}");
    }

    #[test]
    fn basic_auth_over_plain_http() {
        let error = status_error(
            401,
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        );
        let query = explain(
            &error,
            &config("http://s", AuthMode::QueryString),
            Check::Read,
        );
        assert!(
            query.starts_with("Keys in the query string are ignored over plain HTTP"),
            "{query}"
        );
        let text = explain(&error, &config("http://s", AuthMode::Basic), Check::Read);
        assert!(
            text.starts_with("Basic auth is ignored over plain HTTP"),
            "{text}"
        );
        let https = explain(&error, &config("https://s", AuthMode::Basic), Check::Read);
        assert!(https.contains("Authorization header"), "{https}");
    }

    #[test]
    fn unreachable_store_and_untrusted_certificate() {
        let cfg = config("https://shop.example", AuthMode::Auto);
        let text = explain(
            &transport_error(TransportKind::Connect),
            &cfg,
            Check::Address,
        );
        assert!(text.starts_with("The store URL does not answer"), "{text}");
        let text = explain(
            &transport_error(TransportKind::Certificate),
            &cfg,
            Check::Address,
        );
        assert!(text.contains("certificate is not trusted"), "{text}");
        assert!(text.contains("extra CA file"), "{text}");
        let text = explain(
            &transport_error(TransportKind::Dropped),
            &cfg,
            Check::Address,
        );
        assert!(
            text.starts_with("The store closed the connection before its answer was complete"),
            "{text}"
        );
    }

    #[test]
    fn signature_secret_key_and_clock_problems() {
        let cfg = config("http://s", AuthMode::Auto);
        let cases = [
            (
                "Invalid signature - provided signature does not match.",
                "refused the request signature",
            ),
            (
                "Consumer secret is invalid.",
                "consumer secret does not belong",
            ),
            (
                "Consumer key is invalid.",
                "does not know this consumer key",
            ),
            ("Invalid timestamp.", "clock"),
        ];
        for (message, expected) in cases {
            let error = status_error(401, "woocommerce_rest_authentication_error", message);
            let text = explain(&error, &cfg, Check::Read);
            assert!(text.contains(expected), "{message}: {text}");
        }
    }

    #[test]
    fn missing_api_suggests_plain_permalinks() {
        let error = status_error(404, "rest_no_route", "No route was found");
        let text = explain(&error, &config("https://s", AuthMode::Auto), Check::Read);
        assert!(text.contains("?rest_route="), "{text}");
    }

    #[test]
    fn a_user_without_rights() {
        let error = status_error(
            403,
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed",
        );
        let text = explain(&error, &config("https://s", AuthMode::Auto), Check::Write);
        assert!(text.contains("Shop Manager"), "{text}");
    }
}
