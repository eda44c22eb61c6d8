//! Turning a call into the URL and headers sent: REST path form, query
//! encoding and authentication. Pure: the OAuth stamp is passed in.

use base64::Engine;

use crate::config::{ApiPath, Auth, ClientConfig};
use crate::oauth::{self, OAuthStamp, rawurlencode};

/// The HTTP verbs the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// One REST call, before authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub verb: Verb,
    /// The route under the REST root, e.g. `/wc/v3/products`.
    pub route: String,
    /// Query parameters; list values are already comma lists.
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    /// Whether sending it twice has the same effect as once.
    pub idempotent: bool,
}

impl Call {
    pub fn get(route: impl Into<String>, query: Vec<(String, String)>) -> Self {
        Self {
            verb: Verb::Get,
            route: route.into(),
            query,
            body: None,
            idempotent: true,
        }
    }

    pub fn put(route: impl Into<String>, body: serde_json::Value) -> Self {
        Self {
            verb: Verb::Put,
            route: route.into(),
            query: Vec::new(),
            body: Some(body),
            idempotent: true,
        }
    }

    /// A DELETE with its query (e.g. `force=true`); repeating one that
    /// took effect answers 404, so it is not repeated blindly.
    pub fn delete(route: impl Into<String>, query: Vec<(String, String)>) -> Self {
        Self {
            verb: Verb::Delete,
            route: route.into(),
            query,
            body: None,
            idempotent: false,
        }
    }

    /// A POST; `idempotent` says whether repeating it is harmless (a batch
    /// that sets absolute values) or not (a note that would appear twice).
    pub fn post(route: impl Into<String>, body: serde_json::Value, idempotent: bool) -> Self {
        Self {
            verb: Verb::Post,
            route: route.into(),
            query: Vec::new(),
            body: Some(body),
            idempotent,
        }
    }
}

/// What goes on the wire for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub url: String,
    /// The `Authorization` header, when the auth mode uses one.
    pub authorization: Option<String>,
}

/// Builds the URL and auth of `call` for this store.
///
/// Under OAuth the signed base URL is the configured store URL plus the
/// request path (`/` for the `?rest_route=` form, where the route is itself
/// a signed parameter), as WooCommerce rebuilds it from its home URL.
pub fn prepare(config: &ClientConfig, call: &Call, stamp: &OAuthStamp) -> Prepared {
    let root = config.store_root();
    let (base, mut query) = match config.api_path {
        ApiPath::WpJson => (format!("{root}/wp-json{}", call.route), call.query.clone()),
        ApiPath::RestRoute => {
            let mut query = vec![("rest_route".to_owned(), call.route.clone())];
            query.extend(call.query.iter().cloned());
            (format!("{root}/"), query)
        }
    };
    let mut authorization = None;
    match config.resolved_auth() {
        Auth::OAuth => {
            let signed = oauth::oauth_params(
                call.verb.as_str(),
                &base,
                &query,
                &config.consumer_key,
                config.consumer_secret.expose(),
                stamp,
            );
            query.extend(signed);
        }
        Auth::QueryString => {
            query.push(("consumer_key".into(), config.consumer_key.clone()));
            query.push((
                "consumer_secret".into(),
                config.consumer_secret.expose().to_owned(),
            ));
        }
        Auth::Basic => {
            let pair = format!(
                "{}:{}",
                config.consumer_key,
                config.consumer_secret.expose()
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            authorization = Some(format!("Basic {encoded}"));
        }
    }
    let url = if query.is_empty() {
        base
    } else {
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", rawurlencode(k), rawurlencode(v)))
            .collect();
        format!("{base}?{}", encoded.join("&"))
    };
    Prepared { url, authorization }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthMode;

    const KEY: &str = "ck_47ad0bb99783221b138429d9dbd6c6e19fffcac9";
    const SECRET: &str = "cs_297c0bb9351df56edc3fc561c402b9759b8793c7";

    fn stamp() -> OAuthStamp {
        OAuthStamp {
            timestamp: 1_795_703_730,
            nonce: "de1a5558d6df5948b0c23e14f485d945a09f89e1".into(),
        }
    }

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn oauth_request_matches_a_recorded_accepted_one() {
        // 05-products-status-publish-per_page5: the real store answered 200.
        let config = ClientConfig::new("http://127.0.0.1:8080/", KEY, SECRET);
        let call = Call::get(
            "/wc/v3/products",
            query(&[
                ("per_page", "5"),
                ("status", "publish"),
                ("orderby", "id"),
                ("order", "asc"),
            ]),
        );
        let prepared = prepare(&config, &call, &stamp());
        assert_eq!(prepared.authorization, None);
        assert!(prepared.url.starts_with(
            "http://127.0.0.1:8080/wp-json/wc/v3/products?per_page=5&status=publish&orderby=id&order=asc&oauth_consumer_key="
        ));
        assert!(
            prepared
                .url
                .ends_with("&oauth_signature=ma2pnsVbQMUxUhCMokVp3XHEamqpTfBuvfwZnSlysCw%3D")
        );
    }

    #[test]
    fn plain_permalinks_use_rest_route_and_sign_it() {
        let mut config = ClientConfig::new("http://127.0.0.1:8080", KEY, SECRET);
        config.api_path = ApiPath::RestRoute;
        let call = Call::get("/wc/v3/products/11", Vec::new());
        let prepared = prepare(&config, &call, &stamp());
        assert!(prepared.url.starts_with(
            "http://127.0.0.1:8080/?rest_route=%2Fwc%2Fv3%2Fproducts%2F11&oauth_consumer_key="
        ));
        let signature = oauth::signature(
            "GET",
            "http://127.0.0.1:8080/",
            &[
                ("rest_route".into(), "/wc/v3/products/11".into()),
                ("oauth_consumer_key".into(), KEY.into()),
                ("oauth_timestamp".into(), "1795703730".into()),
                ("oauth_nonce".into(), stamp().nonce),
                ("oauth_signature_method".into(), "HMAC-SHA256".into()),
            ],
            SECRET,
        );
        assert!(
            prepared
                .url
                .ends_with(&format!("oauth_signature={}", rawurlencode(&signature)))
        );
    }

    #[test]
    fn https_stores_use_basic_auth_and_keep_the_secret_out_of_the_url() {
        let config = ClientConfig::new("https://shop.example", KEY, SECRET);
        let call = Call::get("/wc/v3/orders", query(&[("status", "processing,on-hold")]));
        let prepared = prepare(&config, &call, &stamp());
        assert_eq!(
            prepared.url,
            "https://shop.example/wp-json/wc/v3/orders?status=processing%2Con-hold"
        );
        let header = prepared.authorization.unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            format!("{KEY}:{SECRET}")
        );
    }

    #[test]
    fn query_string_auth_is_a_setting() {
        let mut config = ClientConfig::new("https://shop.example", KEY, SECRET);
        config.auth = AuthMode::QueryString;
        let prepared = prepare(&config, &Call::get("/wc/v3", Vec::new()), &stamp());
        assert_eq!(prepared.authorization, None);
        assert!(
            prepared
                .url
                .ends_with(&format!("consumer_key={KEY}&consumer_secret={SECRET}"))
        );
    }

    #[test]
    fn plus_signs_and_spaces_are_percent_encoded() {
        let mut config = ClientConfig::new("https://s", KEY, SECRET);
        config.auth = AuthMode::Basic;
        let call = Call::get("/wc/v3/products", query(&[("search", "Rig T-Shirt+")]));
        assert!(
            prepare(&config, &call, &stamp())
                .url
                .ends_with("search=Rig%20T-Shirt%2B")
        );
    }
}
