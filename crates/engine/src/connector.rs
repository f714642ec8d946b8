//! How the client reaches an endpoint, put together from maintained parts: TCP with keep-alive
//! (hyper-util's `HttpConnector`), TLS (rustls through hyper-rustls and tokio-rustls), and the
//! proxy its matcher names: an http endpoint's requests go to the proxy itself, an https
//! endpoint's through a CONNECT tunnel (hyper-util's `Tunnel`) with TLS to the endpoint inside.
//! Every failure here comes before a byte of a request is written: hyper-util's client reports
//! it as a connect error.

use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::Scheme;
use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Keep-alive probes start after a connection has been silent this long: well inside the
/// 350 s after which a NAT gateway forgets a silent connection (a synchronous call may be silent
/// for 15 minutes while its function runs), and the 60 s or so of other middleboxes.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(45);
/// Then a probe this often; a peer that answers none of them is given up.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
const KEEPALIVE_PROBES: u32 = 4;

/// Makes connections: a tower service from a destination to a [`Connection`], for hyper-util's
/// pooling client.
#[derive(Clone)]
pub struct Connector {
    /// TCP, then TLS for https: to an endpoint, or to a proxy.
    direct: HttpsConnector<HttpConnector>,
    tls: Arc<rustls::ClientConfig>,
    proxy: Option<Arc<Matcher>>,
    /// For the whole of connecting: TCP, a proxy's tunnel and TLS.
    timeout: Option<Duration>,
}

impl Connector {
    pub fn new(tls: Arc<rustls::ClientConfig>, proxy: Option<Arc<Matcher>>, timeout: Option<Duration>) -> Self {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_keepalive(Some(KEEPALIVE_IDLE));
        tcp.set_keepalive_interval(Some(KEEPALIVE_INTERVAL));
        tcp.set_keepalive_retries(Some(KEEPALIVE_PROBES));
        let direct = HttpsConnector::from((tcp, tls.clone()));
        Self { direct, tls, proxy, timeout }
    }

    async fn connect(self, destination: Uri) -> Result<Connection, BoxError> {
        let Self { mut direct, tls, proxy, .. } = self;
        let Some(proxy) = proxy.and_then(|matcher| matcher.intercept(&destination)) else {
            return Ok(Connection::new(direct.call(destination).await?, false));
        };
        if !matches!(proxy.uri().scheme_str(), Some("http" | "https")) {
            return Err("only http:// and https:// proxies are supported".into());
        }
        if destination.scheme() != Some(&Scheme::HTTPS) {
            // The request itself goes to the proxy, in absolute form.
            return Ok(Connection::new(direct.call(proxy.uri().clone()).await?, true));
        }
        let mut tunnel = Tunnel::new(proxy.uri().clone(), direct);
        if let Some(credentials) = proxy.basic_auth() {
            tunnel = tunnel.with_auth(credentials.clone());
        }
        let tunnelled = tunnel.call(destination.clone()).await?;
        let host = destination.host().ok_or("the endpoint has no host")?;
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_owned())?;
        let stream = tokio_rustls::TlsConnector::from(tls).connect(name, TokioIo::new(tunnelled)).await?;
        Ok(Connection::new(TokioIo::new(stream), false))
    }
}

impl Service<Uri> for Connector {
    type Response = Connection;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Connection, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let timeout = self.timeout;
        let connecting = self.clone().connect(destination);
        Box::pin(async move {
            match timeout {
                None => connecting.await,
                Some(limit) => tokio::time::timeout(limit, connecting).await.unwrap_or_else(|_| {
                    Err(format!("no connection within the connect timeout ({} s)", limit.as_secs_f64()).into())
                }),
            }
        })
    }
}

/// What a connection is made of, whichever way it was made.
trait Stream: Read + Write + Send + Unpin + 'static {}
impl<T: Read + Write + Send + Unpin + 'static> Stream for T {}

/// A connection to an endpoint, or to the proxy that forwards its requests.
pub struct Connection {
    stream: Box<dyn Stream>,
    to_proxy: bool,
}

impl Connection {
    fn new(stream: impl Stream, to_proxy: bool) -> Self {
        Self { stream: Box::new(stream), to_proxy }
    }
}

impl hyper_util::client::legacy::connect::Connection for Connection {
    fn connected(&self) -> Connected {
        // Through a forwarding proxy, hyper writes each request's target in absolute form.
        Connected::new().proxy(self.to_proxy)
    }
}

impl Read for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.stream).poll_read(cx, buf)
    }
}

impl Write for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.stream).poll_shutdown(cx)
    }
}
