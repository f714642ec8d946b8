//! The HTTP client every call of the shared SDK client goes through, credential providers
//! included: aws-smithy-http-client's default client (hyper 1, hyper-util with its proxy support)
//! on rustls with ring, configured here, and what its errors say about whether a request was sent.

use std::collections::HashMap;
use std::error::Error;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_lambda::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpConnector};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// Idle pooled connections are closed after this: before the 60 s or so after which servers and
/// NAT gateways drop theirs, so a request rarely meets a connection closed under it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The client: it trusts the `trusted` certificates (PEM) if given, as boto3 trusts only its
/// `verify=` bundle, else the system's store (SSL_CERT_FILE names another bundle); it goes
/// through `proxy`; connections are pooled per endpoint.
pub fn build(trusted: Option<Vec<u8>>, proxy: ProxyConfig) -> Result<SharedHttpClient, String> {
    let pem = match trusted {
        Some(pem) => {
            check_pem(&pem)?;
            pem
        }
        None => system_roots(),
    };
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(pem);
    let tls = TlsContext::builder().with_trust_store(trust).build().map_err(|error| error.to_string())?;
    Ok(SharedHttpClient::new(ConfiguredClient { tls, proxy, connectors: Mutex::default() }))
}

/// The system's trusted roots (SSL_CERT_FILE and SSL_CERT_DIR name others), as PEM. Read here
/// rather than by the SDK's client, which loads them once per process behind a lock: a child
/// forked while a parent thread held that lock would wait for it forever. (With none, https calls
/// fail as untrusted; plain http ones still work.)
fn system_roots() -> Vec<u8> {
    use base64::Engine;
    let found = rustls_native_certs::load_native_certs();
    let mut pem = Vec::new();
    // Only what rustls takes as a root: the SDK's client panics on the others (system stores hold some).
    let usable =
        found.certs.iter().filter(|certificate| rustls::RootCertStore::empty().add((*certificate).clone()).is_ok());
    for certificate in usable {
        let encoded = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

/// A bundle the TLS layer would fail on later (it panics on a certificate it cannot use as a
/// root) is refused now, naming the certificate.
fn check_pem(pem: &[u8]) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("the CA bundle is not valid PEM: {error}"))?;
    if certificates.is_empty() {
        return Err("the CA bundle holds no PEM certificate".into());
    }
    let mut roots = rustls::RootCertStore::empty();
    for (index, certificate) in certificates.into_iter().enumerate() {
        roots
            .add(certificate)
            .map_err(|error| format!("certificate {} of the CA bundle cannot be a trusted root: {error}", index + 1))?;
    }
    Ok(())
}

/// (connect timeout, read timeout), as the SDK asks for a connector.
type Timeouts = (Option<Duration>, Option<Duration>);

/// One connector (and connection pool) per pair of timeouts the SDK asks for: the Lambda client's,
/// and the credential providers' own.
struct ConfiguredClient {
    tls: TlsContext,
    proxy: ProxyConfig,
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

/// Written out so that the proxy (whose URL may hold credentials) is never printed.
impl std::fmt::Debug for ConfiguredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredClient").finish_non_exhaustive()
    }
}

impl HttpClient for ConfiguredClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let connector = connectors.entry(key).or_insert_with(|| {
            let mut builder = Connector::builder()
                .connector_settings(settings.clone())
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .proxy_config(self.proxy.clone());
            builder.set_sleep_impl(components.sleep_impl());
            let connector =
                builder.tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).tls_context(self.tls.clone()).build();
            SharedHttpConnector::new(connector)
        });
        connector.clone()
    }
}

/// The causes of `error`, outermost first.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |cause: &&'a (dyn Error + 'static)| (*cause).source())
}

/// True when the error proves no byte of the request was written: hyper-util marks a failure to
/// establish the connection (DNS, TCP connect, TLS handshake, a proxy's CONNECT) as a connect
/// error.
pub fn never_sent(error: &ConnectorError) -> bool {
    causes(error).any(|cause| {
        cause
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
    })
}

/// True when the server's certificate was refused: retrying cannot help. (TLS errors reach the
/// chain wrapped in io::Errors, whose `source()` skips what they wrap, so those are unwrapped.)
pub fn untrusted_certificate(error: &ConnectorError) -> bool {
    causes(error).any(|cause| {
        let mut inner = Some(cause);
        while let Some(current) = inner {
            if let Some(tls) = current.downcast_ref::<rustls::Error>() {
                return matches!(tls, rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented);
            }
            inner = current.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref).map(|e| e as _);
        }
        false
    })
}
