//! A self-signed certificate and a rustls (ring) server configuration for
//! the `--tls` listener.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A server configuration plus the certificate (PEM) clients must trust.
pub struct SelfSigned {
    /// rustls configuration (HTTP/1.1 and h2 via ALPN).
    pub config: Arc<ServerConfig>,
    /// The certificate in PEM form.
    pub cert_pem: String,
}

/// Make a certificate for `localhost`, `127.0.0.1` and `hosts`.
pub fn self_signed(hosts: &[String]) -> anyhow::Result<SelfSigned> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(hosts.iter().cloned());
    names.dedup();
    let certified = rcgen::generate_simple_self_signed(names)?;
    let cert_der = CertificateDer::from(certified.cert.der().to_vec());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key_der)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(SelfSigned {
        config: Arc::new(config),
        cert_pem: certified.cert.pem(),
    })
}
