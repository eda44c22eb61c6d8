//! Who is calling: WooCommerce's `WC_REST_Authentication` rules over the
//! sandbox's API keys. Over TLS (or when told the sandbox sits behind TLS)
//! the query-string `consumer_key`/`consumer_secret` pair, then HTTP Basic;
//! then OAuth 1.0a. Credentials the real store would ignore leave the
//! request anonymous, so the route answers its own 401.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;

use crate::error::ApiError;
use crate::oauth::{self, NonceLedger};
use crate::php_query::PhpParams;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permissions {
    /// GET/HEAD only.
    Read,
    /// POST/PUT/PATCH/DELETE only.
    Write,
    /// Everything.
    ReadWrite,
}

impl Permissions {
    /// Parse `read`, `write` or `read_write`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "read_write" => Some(Self::ReadWrite),
            _ => None,
        }
    }
}

/// A REST API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// `ck_...`
    pub consumer_key: String,
    /// `cs_...`
    pub consumer_secret: String,
    /// Allowed methods.
    pub permissions: Permissions,
}

impl ApiKey {
    /// A read/write key.
    pub fn read_write(key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            consumer_key: key.into(),
            consumer_secret: secret.into(),
            permissions: Permissions::ReadWrite,
        }
    }
}

/// The parts of a request authentication looks at.
#[derive(Debug, Clone)]
pub struct Credentials<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The URL WooCommerce would sign against: home URL + request path.
    pub signature_base_url: &'a str,
    /// Query parameters as PHP parsed them.
    pub query: &'a PhpParams,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// Whether WordPress would consider the request HTTPS (`is_ssl()`).
    pub is_ssl: bool,
    /// Unix seconds now.
    pub now: i64,
}

/// The outcome of authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials the store accepts: routes answer their own 401.
    Anonymous,
    /// An API key.
    Key(Permissions),
}

/// Keys plus the nonces they have used.
#[derive(Debug)]
pub struct Authenticator {
    keys: Vec<ApiKey>,
    window_secs: Option<i64>,
    nonces: Mutex<HashMap<String, NonceLedger>>,
}

fn auth_error(message: &str) -> ApiError {
    ApiError::new(401, "woocommerce_rest_authentication_error", message)
}

impl Authenticator {
    /// `window_secs`: the OAuth timestamp window (WooCommerce: 900);
    /// `None` accepts any timestamp (for replaying recorded requests).
    pub fn new(keys: Vec<ApiKey>, window_secs: Option<i64>) -> Self {
        Self {
            keys,
            window_secs,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, consumer_key: &str) -> Option<&ApiKey> {
        self.keys.iter().find(|k| k.consumer_key == consumer_key)
    }

    /// Authenticate a request; `Err` is the 401 WooCommerce answers.
    pub fn authenticate(&self, c: &Credentials<'_>) -> Result<Caller, ApiError> {
        let mut pending_error = None;
        if c.is_ssl {
            match self.basic(c) {
                Ok(Some(p)) => return Ok(Caller::Key(p)),
                Ok(None) => {}
                Err(e) => pending_error = Some(e),
            }
        }
        let mut params = c.query.clone();
        if let Some(h) = c.authorization {
            for (k, v) in oauth::parse_authorization_header(h) {
                params.set(&k, v);
            }
        }
        let request = match oauth::extract(&params) {
            Ok(Some(r)) => r,
            Ok(None) => return pending_error.map_or(Ok(Caller::Anonymous), Err),
            Err(e) => return Err(ApiError::new(401, e.code(), e.message())),
        };
        let key = self
            .key(&request.consumer_key)
            .ok_or_else(|| auth_error("Consumer key is invalid."))?;
        oauth::verify_signature(
            c.method,
            c.signature_base_url,
            &params,
            &request,
            &key.consumer_secret,
        )
        .map_err(|e| ApiError::new(401, e.code(), e.message()))?;
        self.nonces
            .lock()
            .expect("nonce lock")
            .entry(key.consumer_key.clone())
            .or_default()
            .check_and_record(c.now, self.window_secs, &request.timestamp, &request.nonce)
            .map_err(|e| ApiError::new(401, e.code(), e.message()))?;
        Ok(Caller::Key(key.permissions))
    }

    /// Query-string pair first, then the Basic header.
    fn basic(&self, c: &Credentials<'_>) -> Result<Option<Permissions>, ApiError> {
        let from_query = match (
            c.query.scalar("consumer_key"),
            c.query.scalar("consumer_secret"),
        ) {
            (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => {
                Some((k.to_owned(), s.to_owned()))
            }
            _ => None,
        };
        let pair = from_query.or_else(|| {
            let encoded = c.authorization?.trim().strip_prefix("Basic ")?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (k, s) = text.split_once(':')?;
            (!k.is_empty() && !s.is_empty()).then(|| (k.to_owned(), s.to_owned()))
        });
        let Some((k, s)) = pair else {
            return Ok(None);
        };
        let Some(key) = self.key(&k) else {
            return Ok(None);
        };
        if key.consumer_secret != s {
            return Err(auth_error("Consumer secret is invalid."));
        }
        Ok(Some(key.permissions))
    }
}

/// WooCommerce's per-method key permission check (`check_permissions`).
pub fn check_method(method: &str, caller: &Caller) -> Result<(), ApiError> {
    let Caller::Key(p) = caller else {
        return Ok(());
    };
    match method {
        "GET" | "HEAD" if *p == Permissions::Write => Err(auth_error(
            "The API key provided does not have read permissions.",
        )),
        "POST" | "PUT" | "PATCH" | "DELETE" if *p == Permissions::Read => Err(auth_error(
            "The API key provided does not have write permissions.",
        )),
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => Ok(()),
        _ => Err(auth_error("Unknown request method.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ck_47ad0bb99783221b138429d9dbd6c6e19fffcac9";
    const SECRET: &str = "cs_297c0bb9351df56edc3fc561c402b9759b8793c7";

    fn auth() -> Authenticator {
        Authenticator::new(
            vec![
                ApiKey::read_write(KEY, SECRET),
                ApiKey {
                    consumer_key: "ck_ro".into(),
                    consumer_secret: "cs_ro".into(),
                    permissions: Permissions::Read,
                },
            ],
            Some(900),
        )
    }

    fn creds<'a>(
        query: &'a PhpParams,
        authorization: Option<&'a str>,
        is_ssl: bool,
    ) -> Credentials<'a> {
        Credentials {
            method: "GET",
            signature_base_url: "http://h/wp-json/wc/v3/products",
            query,
            authorization,
            is_ssl,
            now: 1_000,
        }
    }

    fn basic(user: &str, pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    }

    #[test]
    fn basic_and_query_credentials_only_count_over_tls() {
        let a = auth();
        let q = PhpParams::parse(&format!("consumer_key={KEY}&consumer_secret={SECRET}"));
        assert_eq!(
            a.authenticate(&creds(&q, None, false)),
            Ok(Caller::Anonymous)
        );
        assert_eq!(
            a.authenticate(&creds(&q, None, true)),
            Ok(Caller::Key(Permissions::ReadWrite))
        );
        let h = basic(KEY, SECRET);
        let empty = PhpParams::default();
        assert_eq!(
            a.authenticate(&creds(&empty, Some(&h), false)),
            Ok(Caller::Anonymous)
        );
        assert_eq!(
            a.authenticate(&creds(&empty, Some(&h), true)),
            Ok(Caller::Key(Permissions::ReadWrite))
        );
    }

    #[test]
    fn wrong_basic_secret_and_unknown_key() {
        let a = auth();
        let empty = PhpParams::default();
        let e = a
            .authenticate(&creds(&empty, Some(&basic(KEY, "cs_wrong")), true))
            .unwrap_err();
        assert_eq!(e.message, "Consumer secret is invalid.");
        assert_eq!(
            a.authenticate(&creds(&empty, Some(&basic("ck_nobody", "x")), true)),
            Ok(Caller::Anonymous)
        );
    }

    #[test]
    fn oauth_in_header_and_replay() {
        let a = auth();
        let signed = oauth::sign_query(
            "GET",
            "http://h/wp-json/wc/v3/products",
            &[],
            &oauth::Consumer {
                key: KEY,
                secret: SECRET,
                method: oauth::SignatureMethod::HmacSha1,
            },
            1_000,
            "nonce1",
        );
        let header = format!(
            "OAuth {}",
            signed
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", oauth::rawurlencode(v)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let empty = PhpParams::default();
        assert_eq!(
            a.authenticate(&creds(&empty, Some(&header), false)),
            Ok(Caller::Key(Permissions::ReadWrite))
        );
        let e = a
            .authenticate(&creds(&empty, Some(&header), false))
            .unwrap_err();
        assert_eq!(e.message, "Invalid nonce - nonce has already been used.");
    }

    #[test]
    fn unknown_oauth_key() {
        let q = PhpParams::parse(
            "oauth_consumer_key=ck_x&oauth_timestamp=1&oauth_nonce=n&oauth_signature=s&oauth_signature_method=HMAC-SHA256",
        );
        assert_eq!(
            auth()
                .authenticate(&creds(&q, None, false))
                .unwrap_err()
                .message,
            "Consumer key is invalid."
        );
    }

    #[test]
    fn method_permissions() {
        let ro = Caller::Key(Permissions::Read);
        assert!(check_method("GET", &ro).is_ok());
        assert_eq!(
            check_method("PUT", &ro).unwrap_err().message,
            "The API key provided does not have write permissions."
        );
        assert!(check_method("GET", &Caller::Key(Permissions::Write)).is_err());
        assert!(check_method("PUT", &Caller::Anonymous).is_ok());
    }
}
