//! The HTTP client every call of the shared SDK client goes through, credential providers
//! included: hyper-util's pooling client (hyper 1, the client the SDK's own default wraps) over
//! this crate's [`Connector`], so that every connection has TCP keep-alive and the trust a user
//! chose, and what its errors say about whether a request was sent.

use std::collections::HashMap;
use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::config::SharedHttpClient;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::client::connector::Connector;
use crate::client::trust::{self, Trust};

/// Idle pooled connections are not reused after this, and closed by the pool's reaper, which
/// runs at the same interval, within twice this: 50 s at most, before the 60 s or so after which
/// servers and NAT gateways drop theirs, so a request rarely meets a connection closed under it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(25);

/// The client: it accepts the certificates `trust` says; it goes through the proxy `proxy`
/// names for a destination (None: always direct); connections are pooled per endpoint.
pub fn build(trust: &Trust, proxy: Option<Arc<Matcher>>) -> Result<SharedHttpClient, String> {
    let tls = trust::client_config(trust)?;
    Ok(SharedHttpClient::new(ConfiguredClient { tls, proxy, clients: Mutex::default() }))
}

/// (connect timeout, read timeout), as the SDK asks for a connector.
type Timeouts = (Option<Duration>, Option<Duration>);

/// One pooling client per pair of timeouts the SDK asks for: the Lambda client's, and the
/// credential providers' own.
struct ConfiguredClient {
    tls: Arc<rustls::ClientConfig>,
    proxy: Option<Arc<Matcher>>,
    clients: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

/// Written out so that the proxy (whose URL may hold credentials) is never printed.
impl std::fmt::Debug for ConfiguredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredClient").finish_non_exhaustive()
    }
}

impl HttpClient for ConfiguredClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let client = clients.entry(key).or_insert_with(|| {
            let connector = Connector::new(self.tls.clone(), self.proxy.clone(), settings.connect_timeout());
            let pool = Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .build(connector);
            SharedHttpConnector::new(Pooled { pool, proxy: self.proxy.clone(), read_timeout: settings.read_timeout() })
        });
        client.clone()
    }
}

/// Sends each request of the SDK on a pooled connection.
struct Pooled {
    pool: Client<Connector, SdkBody>,
    proxy: Option<Arc<Matcher>>,
    /// How long a request may wait for its response: its head, and a body read whole here.
    read_timeout: Option<Duration>,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled").finish_non_exhaustive()
    }
}

impl HttpConnector for Pooled {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into()))),
        };
        // A forwarding proxy (an http endpoint's) takes its credentials on each request; a
        // tunnel's were given to the CONNECT.
        if request.uri().scheme() == Some(&http::uri::Scheme::HTTP) {
            let intercept = self.proxy.as_ref().and_then(|matcher| matcher.intercept(request.uri()));
            if let Some(credentials) = intercept.as_ref().and_then(|intercept| intercept.basic_auth()) {
                request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, credentials.clone());
            }
        }
        let responding = self.pool.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = async {
                let response = responding.await.map_err(|error| ConnectorError::io(error.into()))?;
                let (parts, body) = response.into_parts();
                let body = match announced_length(&parts.headers) {
                    Some(length) => SdkBody::from(read_whole(body, length).await?),
                    None => SdkBody::from_body_1_x(body),
                };
                HttpResponse::try_from(http::Response::from_parts(parts, body))
                    .map_err(|error| ConnectorError::other(error.into(), None))
            };
            match read_timeout {
                None => response.await,
                Some(limit) => tokio::time::timeout(limit, response).await.unwrap_or_else(|_| {
                    let seconds = limit.as_secs_f64();
                    Err(ConnectorError::timeout(format!("no response within the read timeout ({seconds} s)").into()))
                }),
            }
        })
    }
}

/// A body this large or smaller is read here whole, into one buffer of the size the response
/// announces (Lambda's responses are at most 6 MB); a larger one, or one of no announced size,
/// goes to the SDK as it comes.
const WHOLE_BODY_MAX: u64 = 8 << 20;

fn announced_length(headers: &http::HeaderMap) -> Option<usize> {
    let length: u64 = headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()?;
    (length <= WHOLE_BODY_MAX).then_some(length as usize)
}

/// The body, in one buffer: the SDK collects a body into one before deserializing it, and given
/// hyper's chunks it would hold them and its copy at once. Here each chunk is let go as soon as it
/// is copied, and a body that came in one chunk is taken as it is. (The read timeout covers this.)
async fn read_whole(mut body: hyper::body::Incoming, length: usize) -> Result<bytes::Bytes, ConnectorError> {
    use http_body_util::BodyExt;
    let mut first = None;
    let mut whole = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(chunk) = frame.map_err(|error| ConnectorError::io(error.into()))?.into_data() else { continue };
        match first.take() {
            // Held until a second chunk shows that the body did not come in one.
            None if whole.is_empty() => first = Some(chunk),
            earlier => {
                if whole.is_empty() {
                    whole.reserve(length);
                }
                if let Some(earlier) = earlier {
                    whole.extend_from_slice(&earlier);
                }
                whole.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| whole.freeze()))
}

/// The causes of `error`, outermost first.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |cause: &&'a (dyn Error + 'static)| (*cause).source())
}

/// True when the error proves the request went no further: hyper-util marks a failure to
/// establish the connection (DNS, TCP connect, TLS handshake, a proxy's CONNECT) as a connect
/// error; or the peer reset it unread.
pub fn never_sent(error: &ConnectorError) -> bool {
    causes(error).any(|cause| {
        cause
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
            || reset_unread(cause)
    })
}

/// The peer closed the connection (a pooled one it had closed meanwhile, say) and reset the
/// request unread, before any byte of an answer (connector.rs): it was never sent on.
fn reset_unread(cause: &(dyn Error + 'static)) -> bool {
    let mut inner = Some(cause);
    while let Some(current) = inner {
        if current.is::<crate::client::connector::NeverRead>() {
            return true;
        }
        inner = current.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref).map(|e| e as _);
    }
    false
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
