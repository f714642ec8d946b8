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
            return Ok(Connection::direct(direct.call(destination).await?, false));
        };
        if !matches!(proxy.uri().scheme_str(), Some("http" | "https")) {
            return Err("only http:// and https:// proxies are supported".into());
        }
        if destination.scheme() != Some(&Scheme::HTTPS) {
            // The request itself goes to the proxy, in absolute form.
            return Ok(Connection::direct(direct.call(proxy.uri().clone()).await?, true));
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
    /// The TCP socket under it, where the kernel says whether the peer reset it.
    socket: Option<Socket>,
    /// A byte of an answer was read since the last request was written.
    answered: bool,
    /// The end came before any answer: how long the peer's reset of the request may still take.
    reset_grace: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// How long after the end of a connection with no answer a reset of the request may still arrive.
const RESET_GRACE: Duration = Duration::from_millis(20);

/// The stream a direct connection (or one to a forwarding proxy) is made of.
type DirectStream = hyper_rustls::MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

#[cfg(unix)]
type Socket = std::os::fd::RawFd;
#[cfg(not(unix))]
type Socket = ();

impl Connection {
    fn new(stream: impl Stream, to_proxy: bool) -> Self {
        Self { stream: Box::new(stream), to_proxy, socket: None, answered: false, reset_grace: None }
    }

    fn direct(stream: DirectStream, to_proxy: bool) -> Self {
        let socket = socket_of(&stream);
        Self { socket, ..Self::new(stream, to_proxy) }
    }
}

#[cfg(unix)]
fn socket_of(stream: &DirectStream) -> Option<Socket> {
    use std::os::fd::AsRawFd;
    Some(match stream {
        hyper_rustls::MaybeHttpsStream::Http(tcp) => tcp.inner().as_raw_fd(),
        hyper_rustls::MaybeHttpsStream::Https(tls) => tls.inner().get_ref().0.inner().inner().as_raw_fd(),
    })
}

#[cfg(not(unix))]
fn socket_of(_: &DirectStream) -> Option<Socket> {
    None
}

/// The peer reset the connection: its socket was closed when our bytes reached it, so what was
/// unread there (the request, if no answer came) was never read.
#[cfg(unix)]
fn was_reset(socket: Socket) -> bool {
    let mut error: libc::c_int = 0;
    let mut length = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the socket is open for as long as the connection holding it; the out-pointers are
    // valid for the sizes given.
    let read =
        unsafe { libc::getsockopt(socket, libc::SOL_SOCKET, libc::SO_ERROR, (&raw mut error).cast(), &raw mut length) };
    // A reset after the peer's FIN is EPIPE, before it ECONNRESET.
    read == 0 && (error == libc::EPIPE || error == libc::ECONNRESET)
}

#[cfg(not(unix))]
fn was_reset(_: Socket) -> bool {
    false
}

fn never_read() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, NeverRead)
}

/// A request the peer closed its connection on without reading it: it was never sent on.
#[derive(Debug)]
pub struct NeverRead;

impl std::fmt::Display for NeverRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the peer had closed the connection: the request was reset unread")
    }
}

impl std::error::Error for NeverRead {}

impl hyper_util::client::legacy::connect::Connection for Connection {
    fn connected(&self) -> Connected {
        // Through a forwarding proxy, hyper writes each request's target in absolute form.
        Connected::new().proxy(self.to_proxy)
    }
}

impl Read for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(grace) = &mut self.reset_grace {
            // The end came with no answer: waiting a little for the peer's reset of the request.
            let waited = grace.as_mut().poll(cx).is_ready();
            let reset = self.socket.is_some_and(was_reset);
            if !waited && !reset {
                return Poll::Pending;
            }
            self.reset_grace = None;
            return Poll::Ready(if reset { Err(never_read()) } else { Ok(()) });
        }
        // Read through a buffer over the same memory, to see how much was read (no copy).
        // SAFETY: `inner` only writes initialised bytes into the slice, and `advance` counts
        // exactly those.
        let room = buf.remaining();
        let mut inner = hyper::rt::ReadBuf::uninit(unsafe { buf.as_mut() });
        let read = Pin::new(&mut *self.stream).poll_read(cx, inner.unfilled());
        let filled = inner.filled().len();
        unsafe { buf.advance(filled) };
        if let Poll::Ready(Ok(())) = read {
            if filled > 0 {
                self.answered = true;
            } else if room > 0 && !self.answered && self.socket.is_some() {
                // The end of the connection before any answer: if the peer reset what we sent (now
                // or within the grace), it was never read.
                if self.socket.is_some_and(was_reset) {
                    return Poll::Ready(Err(never_read()));
                }
                let mut grace = Box::pin(tokio::time::sleep(RESET_GRACE));
                if grace.as_mut().poll(cx).is_pending() {
                    self.reset_grace = Some(grace);
                    return Poll::Pending;
                }
            }
        }
        read
    }
}

impl Write for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.answered = false;
        Pin::new(&mut *self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.answered = false;
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
