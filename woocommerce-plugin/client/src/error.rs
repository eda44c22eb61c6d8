//! The client's errors. Each names the method, the path, the HTTP status and
//! WooCommerce's error code and message where there is one, and never the
//! consumer secret.

use std::fmt;

/// `GET /wc/v3/products`: which call failed (route only, never the query,
/// which can carry credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Why no answer came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Nothing accepted a connection (DNS, refused, unreachable).
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The store's TLS certificate is not trusted.
    Certificate,
    /// An `https://` address answered in plain HTTP (no TLS there).
    PlainHttp,
    /// The connection closed before the answer was complete.
    Dropped,
    /// Any other transport problem.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "could not connect",
            Self::Timeout => "timed out",
            Self::Certificate => "TLS certificate not trusted",
            Self::PlainHttp => "answered in plain HTTP",
            Self::Dropped => "connection dropped",
            Self::Other => "request failed",
        })
    }
}

/// WooCommerce's error body: `{"code", "message", "data": {"status"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WooErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl WooErrorBody {
    pub fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Self::default();
        };
        Self {
            code: value["code"].as_str().map(str::to_owned),
            message: value["message"].as_str().map(crate::model::unescape_html),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store answered with an error status.
    #[error("{endpoint}: HTTP {status}{}{}", code_part(.body), attempts_part(*.attempts))]
    Status {
        endpoint: Endpoint,
        status: u16,
        body: WooErrorBody,
        attempts: u32,
    },
    /// No usable answer arrived.
    #[error("{endpoint}: {kind}: {detail}{}", attempts_part(*.attempts))]
    Transport {
        endpoint: Endpoint,
        kind: TransportKind,
        detail: String,
        attempts: u32,
    },
    /// The answer is not the JSON WooCommerce sends for this call.
    #[error("{endpoint}: HTTP {status}: unexpected answer: {detail}")]
    Body {
        endpoint: Endpoint,
        status: u16,
        detail: String,
    },
    /// The client's settings are unusable.
    #[error("invalid settings: {0}")]
    Config(String),
}

fn code_part(body: &WooErrorBody) -> String {
    match (&body.code, &body.message) {
        (Some(code), Some(message)) => format!(" {code}: {message}"),
        (Some(code), None) => format!(" {code}"),
        (None, Some(message)) => format!(": {message}"),
        (None, None) => " (no WooCommerce error in the answer)".to_owned(),
    }
}

fn attempts_part(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl Error {
    /// The HTTP status, when the store answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } | Self::Body { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// WooCommerce's error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { body, .. } => body.code.as_deref(),
            _ => None,
        }
    }

    /// WooCommerce's error message, when it sent one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Status { body, .. } => body.message.as_deref(),
            _ => None,
        }
    }

    pub fn transport_kind(&self) -> Option<TransportKind> {
        match self {
            Self::Transport { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            method: "PUT",
            path: "/wc/v3/orders/176".into(),
        }
    }

    #[test]
    fn status_errors_name_method_path_status_code_and_message() {
        let body = WooErrorBody::parse(
            br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): status","data":{"status":400}}"#,
        );
        let error = Error::Status {
            endpoint: endpoint(),
            status: 400,
            body,
            attempts: 1,
        };
        assert_eq!(
            error.to_string(),
            "PUT /wc/v3/orders/176: HTTP 400 rest_invalid_param: Invalid parameter(s): status"
        );
        assert_eq!(error.code(), Some("rest_invalid_param"));
    }

    #[test]
    fn non_woocommerce_bodies_and_retries_are_said_plainly() {
        let error = Error::Status {
            endpoint: endpoint(),
            status: 503,
            body: WooErrorBody::parse(b"<html>busy</html>"),
            attempts: 5,
        };
        assert_eq!(
            error.to_string(),
            "PUT /wc/v3/orders/176: HTTP 503 (no WooCommerce error in the answer) (after 5 attempts)"
        );
    }
}
