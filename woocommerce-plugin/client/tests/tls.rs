//! HTTPS: certificates are verified by default, an extra CA file makes a
//! private authority trusted, and HTTPS stores get HTTP Basic auth.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use woo_client::connection::Check;
use woo_client::error::TransportKind;
use woo_client::{ClientConfig, RetryPolicy, Scope, WooClient};

struct TlsStore {
    url: String,
    ca_pem: String,
    authorizations: Arc<Mutex<Vec<String>>>,
}

/// A one-route HTTPS store whose certificate is issued by a private CA.
async fn start_tls_store() -> TlsStore {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let server_config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let authorizations = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&authorizations);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let read = tls.read(&mut buffer).await.unwrap();
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                }
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(line) = text
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                {
                    seen.lock().unwrap().push(line[14..].trim().to_owned());
                }
                let body = r#"[{"id":11,"sku":"RIG-SIMPLE-1","stock_quantity":21}]"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-wp-total: 1\r\n\
                     x-wp-totalpages: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                tls.write_all(response.as_bytes()).await.unwrap();
                tls.shutdown().await.ok();
            });
        }
    });
    TlsStore {
        url,
        ca_pem: ca.pem(),
        authorizations,
    }
}

fn config(url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(url, "ck_tls", "cs_tls_secret");
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
    };
    config
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_and_explained() {
    let store = start_tls_store().await;
    let client = WooClient::new(config(&store.url)).unwrap();
    let error = client.list_products(Scope::Full).await.unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportKind::Certificate),
        "{error}"
    );
    let report = client.check_connection().await;
    assert!(!report.is_usable());
    let problem = report.problems().next().unwrap();
    assert_eq!(problem.check, Check::Address);
    assert!(
        problem.explanation.contains("certificate is not trusted"),
        "{problem:?}"
    );
    assert!(
        store.authorizations.lock().unwrap().is_empty(),
        "no credentials sent"
    );
}

#[tokio::test]
async fn an_extra_ca_file_makes_a_private_authority_trusted() {
    let store = start_tls_store().await;
    let dir = std::env::temp_dir().join(format!("woo-client-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &store.ca_pem).unwrap();
    let mut cfg = config(&store.url);
    cfg.extra_ca_file = Some(ca_file);
    let listing = WooClient::new(cfg)
        .unwrap()
        .list_products(Scope::Full)
        .await
        .unwrap();
    assert_eq!(listing.records[0].sku, "RIG-SIMPLE-1");
    let sent = store.authorizations.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("Basic "), "HTTPS stores get Basic auth");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_missing_ca_file_is_a_settings_error() {
    let mut cfg = config("https://127.0.0.1:1");
    cfg.extra_ca_file = Some("/nonexistent/ca.pem".into());
    let error = WooClient::new(cfg).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("invalid settings: cannot read the extra CA file"),
        "{error}"
    );
}

/// A plain HTTP server where the settings say `https://`: it answers the
/// TLS hello with an HTTP error page.
async fn start_plain_http_store() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    format!("https://{addr}")
}

#[tokio::test]
async fn an_https_address_answered_in_plain_http_is_named_as_such() {
    let url = start_plain_http_store().await;
    let client = WooClient::new(config(&url)).unwrap();
    let error = client.list_products(Scope::Full).await.unwrap_err();
    assert_eq!(
        error.transport_kind(),
        Some(TransportKind::PlainHttp),
        "{error}"
    );
    let report = client.check_connection().await;
    let problem = report.problems().next().unwrap();
    assert!(
        problem
            .explanation
            .contains("the store answered in plain HTTP; use http:// or fix its TLS"),
        "{problem:?}"
    );
}
