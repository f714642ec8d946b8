//! Which server certificates the client accepts, as the rustls configuration every TLS connection
//! uses (ring, the one crypto provider): a CA bundle's (boto3's `verify=` path, AWS_CA_BUNDLE, a
//! profile's `ca_bundle`), else the system's store, or any at all (boto3's `verify=False`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub enum Trust {
    /// The system's store (SSL_CERT_FILE and SSL_CERT_DIR name others).
    System,
    /// These certificates (PEM) and no others, as boto3 trusts only its `verify=` bundle.
    Bundle(Vec<u8>),
    /// Any certificate, for any name: boto3's `verify=False`.
    Anything,
}

/// The TLS configuration for `trust`, speaking HTTP/1.1 (all Lambda's endpoints take).
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?;
    let mut config = match trust {
        Trust::System => builder.with_root_certificates(system_roots()),
        Trust::Bundle(pem) => builder.with_root_certificates(bundle_roots(pem)?),
        Trust::Anything => builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))),
    }
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The system's trusted roots, less those rustls cannot take as a root (system stores hold some).
/// Read for each client rather than once per process behind a lock: a child forked while a parent
/// thread held such a lock would wait for it forever. (With none, https calls fail as untrusted;
/// plain http ones still work.)
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots
}

/// A bundle's certificates; one rustls cannot use as a root is refused now, naming it, rather
/// than leaving every call to fail later.
fn bundle_roots(pem: &[u8]) -> Result<RootCertStore, String> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("the CA bundle is not valid PEM: {error}"))?;
    if certificates.is_empty() {
        return Err("the CA bundle holds no PEM certificate".into());
    }
    let mut roots = RootCertStore::empty();
    for (index, certificate) in certificates.into_iter().enumerate() {
        roots
            .add(certificate)
            .map_err(|error| format!("certificate {} of the CA bundle cannot be a trusted root: {error}", index + 1))?;
    }
    Ok(roots)
}

/// Accepts whatever certificate the server shows, for whatever name (the connection is still
/// encrypted, and the handshake's signatures are still checked against that certificate's key).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, certificate, signature, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, certificate, signature, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
