//! The HTTP client every call of the shared SDK client goes through, credential providers
//! included: aws-smithy-http-client's default client (hyper 1 and hyper-util) on rustls with
//! ring, configured here, and what its errors say about whether a request was sent.

use aws_sdk_lambda::config::SharedHttpClient;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::Builder;
use aws_smithy_runtime_api::client::result::ConnectorError;
use std::error::Error;
use std::time::Duration;

/// Idle pooled connections are closed after this: before the 60 s or so after which servers and
/// NAT gateways drop theirs, so a request rarely meets a connection closed under it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// Builds the client: it trusts the `trusted` certificates (PEM) if given, as boto3 trusts only
/// its `verify=` bundle, else the system's store (SSL_CERT_FILE names another bundle);
/// connections are pooled per endpoint.
pub fn build(trusted: Option<Vec<u8>>) -> Result<SharedHttpClient, String> {
    let trust = match trusted {
        Some(pem) => TrustStore::empty().with_native_roots(false).with_pem_certificate(pem),
        None => TrustStore::default(),
    };
    let context = TlsContext::builder().with_trust_store(trust).build().map_err(|error| error.to_string())?;
    Ok(Builder::new()
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https())
}

/// The causes of `error`, outermost first.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |cause: &&'a (dyn Error + 'static)| (*cause).source())
}

/// True when the error proves no byte of the request was written: hyper-util marks a failure to
/// establish the connection (DNS, TCP connect, TLS handshake, a proxy's CONNECT) as a connect
/// error, and a request it never sent on a pooled connection closed under it as canceled.
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
