//! The settings a client is built from.

use std::path::PathBuf;
use std::time::Duration;

use crate::limit::{AUTO_CEILING, Concurrency};
use crate::retry::RetryPolicy;
use crate::secret::ConsumerSecret;

/// How requests prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// HTTP Basic on `https://` stores, OAuth 1.0a on `http://` stores.
    #[default]
    Auto,
    /// HTTP Basic with key and secret (WooCommerce honours it over HTTPS only).
    Basic,
    /// OAuth 1.0a one-legged, HMAC-SHA256, parameters in the query string.
    OAuth,
    /// `consumer_key` / `consumer_secret` query parameters, for HTTPS hosts
    /// that strip the Authorization header.
    QueryString,
}

/// The auth a request actually uses once `Auto` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Basic,
    OAuth,
    QueryString,
}

/// Where the REST API lives on the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiPath {
    /// Pretty permalinks: `https://shop/wp-json/wc/v3/...`.
    #[default]
    WpJson,
    /// Plain permalinks: `https://shop/?rest_route=/wc/v3/...`.
    RestRoute,
}

/// Everything a [`crate::WooClient`] needs.
///
/// `Debug` is safe to print: the secret is masked.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The store URL exactly as WordPress has it configured (Settings →
    /// General → Site Address): OAuth signatures are checked against it.
    pub store_url: String,
    pub consumer_key: String,
    pub consumer_secret: ConsumerSecret,
    pub auth: AuthMode,
    pub api_path: ApiPath,
    /// A PEM file of extra certificate authorities to trust besides the
    /// system's (for stores with a private CA).
    pub extra_ca_file: Option<PathBuf>,
    /// Limit for one request, connection to last byte.
    pub timeout: Duration,
    /// How many requests may be in flight at once, over every call of the
    /// client and its clones: `auto`, or a ceiling.
    pub concurrency: Concurrency,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// The REST namespace of the Shipment Tracking extension's routes.
    pub tracking_namespace: String,
}

/// The namespace current Shipment Tracking versions register.
pub const DEFAULT_TRACKING_NAMESPACE: &str = "wc-shipment-tracking/v3";

impl ClientConfig {
    pub fn new(
        store_url: impl Into<String>,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<ConsumerSecret>,
    ) -> Self {
        Self {
            store_url: store_url.into(),
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            auth: AuthMode::Auto,
            api_path: ApiPath::WpJson,
            extra_ca_file: None,
            timeout: Duration::from_secs(30),
            concurrency: Concurrency::Auto,
            retry: RetryPolicy::default(),
            user_agent: concat!("IntelliTrack-WooCommerce/", env!("CARGO_PKG_VERSION")).to_owned(),
            tracking_namespace: DEFAULT_TRACKING_NAMESPACE.to_owned(),
        }
    }

    /// The store URL without a trailing slash.
    pub fn store_root(&self) -> &str {
        self.store_url.trim().trim_end_matches('/')
    }

    pub fn is_https(&self) -> bool {
        self.store_root()
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// The auth mode after resolving `Auto` by the URL's scheme.
    pub fn resolved_auth(&self) -> Auth {
        match self.auth {
            AuthMode::Auto if self.is_https() => Auth::Basic,
            AuthMode::Auto | AuthMode::OAuth => Auth::OAuth,
            AuthMode::Basic => Auth::Basic,
            AuthMode::QueryString => Auth::QueryString,
        }
    }

    /// Checks the settings; each problem in words an admin understands.
    pub fn validate(&self) -> Result<(), String> {
        let root = self.store_root();
        let lower = root.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(format!(
                "the store URL {root:?} must start with https:// (or http://)"
            ));
        }
        if lower.contains("/wp-json") {
            return Err(format!(
                "the store URL {root:?} should be the shop's address, without /wp-json"
            ));
        }
        if root.contains('?') || root.contains('#') {
            return Err("the store URL must not contain '?' or '#'".to_owned());
        }
        if self.consumer_key.trim().is_empty() {
            return Err("the consumer key is empty".to_owned());
        }
        if self.consumer_secret.is_empty() {
            return Err("the consumer secret is empty".to_owned());
        }
        if let Concurrency::AtMost(n) = self.concurrency
            && !(1..=AUTO_CEILING).contains(&n)
        {
            return Err(format!(
                "concurrency must be auto or from 1 to {AUTO_CEILING}"
            ));
        }
        if self.timeout.is_zero() {
            return Err("the request timeout must be more than zero".to_owned());
        }
        if self.retry.max_attempts == 0 {
            return Err("retry attempts must be at least 1".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> ClientConfig {
        ClientConfig::new(url, "ck_1", "cs_1")
    }

    #[test]
    fn auto_auth_follows_the_scheme() {
        assert_eq!(config("https://shop.example/").resolved_auth(), Auth::Basic);
        assert_eq!(config("HTTPS://shop.example").resolved_auth(), Auth::Basic);
        assert_eq!(config("http://127.0.0.1:8080").resolved_auth(), Auth::OAuth);
        let mut forced = config("https://shop.example");
        forced.auth = AuthMode::QueryString;
        assert_eq!(forced.resolved_auth(), Auth::QueryString);
    }

    #[test]
    fn store_root_drops_the_trailing_slash() {
        assert_eq!(
            config("http://h:8080/shop/").store_root(),
            "http://h:8080/shop"
        );
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(
            config("shop.example")
                .validate()
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            ClientConfig::new("https://s", "", "cs")
                .validate()
                .unwrap_err()
                .contains("key")
        );
        assert!(
            ClientConfig::new("https://s", "ck", "")
                .validate()
                .unwrap_err()
                .contains("secret")
        );
        assert!(
            config("https://s/wp-json/wc/v3")
                .validate()
                .unwrap_err()
                .contains("without /wp-json")
        );
        assert!(config("https://s").validate().is_ok());
    }
}
