//! LocalLambda over TLS: a server identity from a PEM certificate chain and its private key, so
//! that clients reach the emulator over https with a CA of the user's (or a test's) own.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The server configuration for `certificate` (PEM chain, leaf first) and `key` (PEM).
pub fn server_config(certificate: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| format!("cannot read the certificate {}: {error}", certificate.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no PEM certificate", certificate.display()));
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|error| format!("cannot read the key {}: {error}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| format!("the certificate and key do not make a TLS identity: {error}"))?;
    Ok(Arc::new(config))
}
