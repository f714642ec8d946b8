//! The HTTP/1.1 transport the SDK sends through: a pool of keep-alive connections, one per
//! invocation in flight, each costing little more than its socket while it waits.
//!
//! Why not hyper's client: it keeps two 8 KB buffers, a dispatch channel and a task per
//! connection (about 30 KB), which at 10,000 invocations in flight is most of the client's memory.
//! Invoke requests and responses are small, whole bodies (at most 6 MB), so this transport writes
//! each request in one go and reads each response whole, with buffers sized to what arrives.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// An idle connection unused for this long is closed (servers drop theirs after a while too).
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);
/// How long a host name's addresses are used before they are looked up again.
const DNS_TTL: Duration = Duration::from_secs(30);
const MAX_HEADERS: usize = 64;
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Lambda answers with at most 6 MB (plus its error document); anything far larger is not Lambda.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The first read of a response: enough for Lambda's head and a small result.
const FIRST_READ: usize = 2048;
const COPY_BODY_BELOW: usize = 64 * 1024;

/// True when the error proves the request was never written (the connection could not be made),
/// so the call did not run.
pub fn never_sent(error: &ConnectorError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.is::<NotSent>() {
            return true;
        }
        cause = current.source();
    }
    false
}

#[derive(Debug)]
struct NotSent(io::Error);

impl std::fmt::Display for NotSent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not connect")
    }
}

impl std::error::Error for NotSent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The shared transport: pooled connections by origin, and the TLS configuration, built on first
/// https use.
#[derive(Clone, Debug, Default)]
pub struct Transport {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    idle: Mutex<HashMap<Origin, Vec<Idle>>>,
    /// Addresses by host name, looked up once for a burst of new connections, not once each.
    resolved: tokio::sync::Mutex<HashMap<String, (Instant, Addresses)>>,
    tls: OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
    reaper_started: OnceLock<()>,
}

type Addresses = Arc<[SocketAddr]>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Origin {
    tls: bool,
    host: String,
    port: u16,
}

#[derive(Debug)]
struct Idle {
    connection: Connection,
    since: Instant,
}

impl HttpClient for Transport {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            transport: self.clone(),
            connect_timeout: settings.connect_timeout(),
            read_timeout: settings.read_timeout(),
        })
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("lambda-executor", Some(env!("CARGO_PKG_VERSION").into())))
    }
}

#[derive(Debug)]
struct Connector {
    transport: Transport,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        // The request is read here and dropped: the future waiting for the answer keeps only the
        // bytes to send.
        let prepared = (|| {
            let uri: http::Uri = request.uri().parse().map_err(|e| ConnectorError::user(Box::new(e)))?;
            let origin = origin_of(&uri).map_err(|e| ConnectorError::user(e.into()))?;
            let body = request
                .body()
                .bytes()
                .ok_or_else(|| ConnectorError::user("streaming request bodies are not supported".into()))?;
            Ok((serialize(&request, &uri, &origin, body), origin))
        })();
        let (message, origin) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return HttpConnectorFuture::ready(Err(error)),
        };
        let transport = self.transport.clone();
        let (connect_timeout, read_timeout) = (self.connect_timeout, self.read_timeout);
        HttpConnectorFuture::new(async move { transport.send(origin, message, connect_timeout, read_timeout).await })
    }
}

impl Transport {
    async fn send(
        &self,
        origin: Origin,
        message: Vec<u8>,
        connect_timeout: Option<Duration>,
        read_timeout: Option<Duration>,
    ) -> Result<HttpResponse, ConnectorError> {
        let mut connection = match self.checkout(&origin) {
            Some(connection) => connection,
            // Boxed: a TLS handshake's state is large, and the future waiting for the response
            // should not carry room for it.
            None => Box::pin(self.connect(&origin, connect_timeout))
                .await
                .map_err(|e| ConnectorError::io(Box::new(NotSent(e))))?,
        };
        let exchange = async {
            connection.write_all(&message).await?;
            connection.flush().await?;
            drop(message);
            read_response(&mut connection).await
        };
        let (response, reusable) = match read_timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| ConnectorError::timeout("no response within the read timeout".into()))?,
            None => exchange.await,
        }
        .map_err(|e| ConnectorError::io(Box::new(e)))?;
        if reusable {
            self.checkin(origin, connection);
        }
        Ok(response)
    }

    /// The most recently used idle connection to `origin` that is still open.
    fn checkout(&self, origin: &Origin) -> Option<Connection> {
        let mut idle = self.shared.idle.lock().unwrap();
        let connections = idle.get_mut(origin)?;
        while let Some(candidate) = connections.pop() {
            if candidate.since.elapsed() < IDLE_TIMEOUT && candidate.connection.is_open() {
                return Some(candidate.connection);
            }
        }
        None
    }

    fn checkin(&self, origin: Origin, connection: Connection) {
        self.start_reaper();
        let mut idle = self.shared.idle.lock().unwrap();
        idle.entry(origin).or_default().push(Idle { connection, since: Instant::now() });
    }

    /// Closes idle connections past their time, so a finished batch does not hold its sockets.
    fn start_reaper(&self) {
        self.shared.reaper_started.get_or_init(|| {
            let shared: Weak<Shared> = Arc::downgrade(&self.shared);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(IDLE_TIMEOUT / 2).await;
                    let Some(shared) = shared.upgrade() else { return };
                    let mut idle = shared.idle.lock().unwrap();
                    for connections in idle.values_mut() {
                        // Oldest first: pushed in the order they went idle.
                        let expired = connections.partition_point(|c| c.since.elapsed() >= IDLE_TIMEOUT);
                        connections.drain(..expired);
                    }
                    idle.retain(|_, connections| !connections.is_empty());
                }
            });
        });
    }

    async fn resolve(&self, origin: &Origin) -> io::Result<Addresses> {
        if let Ok(ip) = origin.host.parse::<std::net::IpAddr>() {
            return Ok(Arc::new([SocketAddr::new(ip, origin.port)]));
        }
        // Held across the lookup, so a burst waits for one answer instead of asking thousands of times.
        let mut resolved = self.shared.resolved.lock().await;
        let key = format!("{}:{}", origin.host, origin.port);
        if let Some((at, addresses)) = resolved.get(&key) {
            if at.elapsed() < DNS_TTL {
                return Ok(addresses.clone());
            }
        }
        let addresses: Addresses = tokio::net::lookup_host(&key).await?.collect();
        if addresses.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} has no address", origin.host)));
        }
        resolved.insert(key, (Instant::now(), addresses.clone()));
        Ok(addresses)
    }

    async fn connect(&self, origin: &Origin, timeout: Option<Duration>) -> io::Result<Connection> {
        let connecting = async {
            let tcp = TcpStream::connect(&self.resolve(origin).await?[..]).await?;
            tcp.set_nodelay(true)?;
            if !origin.tls {
                return Ok(Connection::Plain(tcp));
            }
            let config = self.shared.tls.get_or_init(tls_config).clone().map_err(io::Error::other)?;
            let name = rustls::pki_types::ServerName::try_from(origin.host.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let stream = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?;
            Ok(Connection::Tls(Box::new(stream)))
        };
        match timeout {
            Some(limit) => tokio::time::timeout(limit, connecting)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("no connection within {limit:?}")))?,
            None => connecting.await,
        }
    }
}

fn origin_of(uri: &http::Uri) -> Result<Origin, String> {
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => return Err(format!("unsupported URL scheme {other:?}")),
    };
    let host = uri.host().ok_or("the URL has no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    Ok(Origin { tls, host, port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }) })
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err("no trusted root certificates found on this system (set SSL_CERT_FILE to a PEM bundle)".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The whole request, head and body, in one buffer: one write, one segment for small calls.
fn serialize(request: &HttpRequest, uri: &http::Uri, origin: &Origin, body: &[u8]) -> Vec<u8> {
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut message = Vec::with_capacity(256 + body.len());
    message.extend_from_slice(request.method().as_bytes());
    message.push(b' ');
    message.extend_from_slice(target.as_bytes());
    message.extend_from_slice(b" HTTP/1.1\r\n");
    let (mut has_host, mut has_length) = (false, false);
    for (name, value) in request.headers() {
        has_host |= name.eq_ignore_ascii_case("host");
        has_length |= name.eq_ignore_ascii_case("content-length");
        for part in [name, ": ", value, "\r\n"] {
            message.extend_from_slice(part.as_bytes());
        }
    }
    if !has_host {
        let default_port = if origin.tls { 443 } else { 80 };
        let authority = uri.authority().map_or(origin.host.as_str(), |a| a.as_str());
        let host = if origin.port == default_port { authority.trim_end_matches(&format!(":{default_port}")) } else { authority };
        message.extend_from_slice(format!("host: {host}\r\n").as_bytes());
    }
    if !has_length && (!body.is_empty() || request.method() != "GET") {
        message.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    message.extend_from_slice(b"\r\n");
    message.extend_from_slice(body);
    message
}

/// Reads one response; the flag says whether the connection can carry another request.
async fn read_response(connection: &mut Connection) -> io::Result<(HttpResponse, bool)> {
    // Allocated once the answer starts to arrive, not while the function runs.
    connection.tcp().readable().await?;
    let mut buffer = BytesMut::with_capacity(FIRST_READ);
    let (status, headers, http11, head_len) = loop {
        if connection.read_buf(&mut buffer).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed before a complete response"));
        }
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(&buffer).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))? {
            httparse::Status::Complete(head_len) => {
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect();
                break (parsed.code.unwrap_or(0), headers, parsed.version == Some(1), head_len);
            }
            httparse::Status::Partial if buffer.len() > MAX_HEAD_BYTES => {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "response head too large"));
            }
            httparse::Status::Partial => buffer.reserve(buffer.capacity()),
        }
    };
    if (100..200).contains(&status) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "unexpected informational response"));
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let mut reusable = http11 && !header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    buffer.advance(head_len);
    let body = if status == 204 || status == 304 {
        buffer.clear();
        BytesMut::new()
    } else if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        read_chunked(connection, buffer).await?
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .trim()
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "invalid content-length"))?;
        if length > MAX_BODY_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "response body too large"));
        }
        buffer.reserve(length.saturating_sub(buffer.len()));
        while buffer.len() < length {
            if connection.read_buf(&mut buffer).await? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed mid-body"));
            }
        }
        // Bytes past the body were never asked for: the connection is out of step.
        reusable &= buffer.len() == length;
        buffer.truncate(length);
        buffer
    } else {
        // No length: the body runs to the end of the connection.
        reusable = false;
        loop {
            if buffer.len() > MAX_BODY_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "response body too large"));
            }
            if connection.read_buf(&mut buffer).await? == 0 {
                break buffer;
            }
        }
    };
    let status = status.try_into().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    // A small body is copied out, so the result does not hold the whole read buffer (head and
    // spare room) while it waits to be taken.
    let body = if body.len() <= COPY_BODY_BELOW { bytes::Bytes::copy_from_slice(&body) } else { body.freeze() };
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    for (name, value) in headers {
        response.headers_mut().try_append(name, value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
    Ok((response, reusable))
}

/// Decodes a chunked body; `buffer` holds what was read past the head.
async fn read_chunked(connection: &mut Connection, mut buffer: BytesMut) -> io::Result<BytesMut> {
    let mut body = BytesMut::new();
    loop {
        let (size, line_len) = loop {
            if let Some(end) = buffer.windows(2).position(|w| w == b"\r\n") {
                let line = std::str::from_utf8(&buffer[..end]).unwrap_or("");
                let digits = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(digits, 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "invalid chunk size"))?;
                break (size, end + 2);
            }
            if buffer.len() > MAX_HEAD_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "invalid chunk header"));
            }
            fill(connection, &mut buffer).await?;
        };
        if body.len() + size > MAX_BODY_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "response body too large"));
        }
        buffer.advance(line_len);
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                if let Some(end) = buffer.windows(2).position(|w| w == b"\r\n") {
                    buffer.advance(end + 2);
                    if end == 0 {
                        return Ok(body);
                    }
                } else {
                    fill(connection, &mut buffer).await?;
                }
            }
        }
        while buffer.len() < size + 2 {
            fill(connection, &mut buffer).await?;
        }
        body.extend_from_slice(&buffer[..size]);
        if &buffer[size..size + 2] != b"\r\n" {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "invalid chunk terminator"));
        }
        buffer.advance(size + 2);
    }
}

async fn fill(connection: &mut Connection, buffer: &mut BytesMut) -> io::Result<()> {
    buffer.reserve(FIRST_READ);
    if connection.read_buf(buffer).await? == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed mid-body"));
    }
    Ok(())
}

#[derive(Debug)]
enum Connection {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection {
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(tls) => tls.get_ref().0,
        }
    }


    /// An idle connection is usable when the server has neither closed it nor sent anything.
    fn is_open(&self) -> bool {
        let fd = self.tcp().as_raw_fd();
        let mut byte = 0u8;
        // SAFETY: a one-byte peek into a valid buffer on a socket this connection owns.
        let peeked = unsafe { libc::recv(fd, (&raw mut byte).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
        peeked < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
    }
}

impl AsyncRead for Connection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, data),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::net::TcpListener;

    use super::*;

    /// What the scripted server does with the next request it reads.
    enum Reply {
        Answer(&'static str),
        AnswerAndClose(&'static str),
        Close,
    }

    struct Server {
        port: u16,
        connections: Arc<AtomicUsize>,
        requests: Arc<Mutex<Vec<String>>>,
    }

    async fn serve(script: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (connections, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::new())));
        let (counted, recorded) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let (script, recorded) = (script.clone(), recorded.clone());
                tokio::spawn(async move {
                    loop {
                        let mut request = Vec::new();
                        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                            let mut chunk = [0u8; 4096];
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => request.extend_from_slice(&chunk[..n]),
                            }
                        }
                        recorded.lock().unwrap().push(String::from_utf8_lossy(&request).into_owned());
                        let reply = script.lock().unwrap().pop_front();
                        match reply {
                            Some(Reply::Answer(text)) => socket.write_all(text.as_bytes()).await.unwrap(),
                            Some(Reply::AnswerAndClose(text)) => {
                                socket.write_all(text.as_bytes()).await.unwrap();
                                return;
                            }
                            Some(Reply::Close) | None => return,
                        }
                    }
                });
            }
        });
        Server { port, connections, requests }
    }

    async fn call(port: u16, body: &str) -> Result<HttpResponse, ConnectorError> {
        call_with(&Transport::default(), port, body).await
    }

    async fn call_with(transport: &Transport, port: u16, body: &str) -> Result<HttpResponse, ConnectorError> {
        let mut request = HttpRequest::new(SdkBody::from(body.to_owned()));
        request.set_method("POST").unwrap();
        request.set_uri(format!("http://127.0.0.1:{port}/2015-03-31/functions/f/invocations")).unwrap();
        request.headers_mut().insert("x-amz-invocation-type", "RequestResponse");
        let connector = Connector { transport: transport.clone(), connect_timeout: None, read_timeout: None };
        connector.call(request).await
    }

    fn body(response: &HttpResponse) -> &str {
        std::str::from_utf8(response.body().bytes().unwrap()).unwrap()
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-amz-executed-version: $LATEST\r\ncontent-length: 7\r\n\r\n{\"a\":1}";

    #[tokio::test]
    async fn writes_one_framed_request_and_reuses_the_kept_alive_connection() {
        let server = serve(vec![Reply::Answer(OK), Reply::Answer(OK)]).await;
        let transport = Transport::default();
        for _ in 0..2 {
            let response = call_with(&transport, server.port, "{\"x\":1}").await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(body(&response), "{\"a\":1}");
            assert_eq!(response.headers().get("x-amz-executed-version"), Some("$LATEST"));
        }
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
        let requests = server.requests.lock().unwrap();
        assert!(requests[0].starts_with("POST /2015-03-31/functions/f/invocations HTTP/1.1\r\n"), "{}", requests[0]);
        assert!(requests[0].contains(&format!("host: 127.0.0.1:{}\r\n", server.port)));
        assert!(requests[0].contains("content-length: 7\r\n"));
        assert!(requests[0].contains("x-amz-invocation-type: RequestResponse\r\n"));
    }

    #[tokio::test]
    async fn reads_chunked_bodies_with_extensions_and_trailers() {
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nx-trailer: t\r\n\r\n";
        let server = serve(vec![Reply::Answer(chunked), Reply::Answer(OK)]).await;
        let transport = Transport::default();
        assert_eq!(body(&call_with(&transport, server.port, "{}").await.unwrap()), "{\"a\":1}");
        // The chunked body was read to its end, so the connection is in step for the next call.
        assert_eq!(body(&call_with(&transport, server.port, "{}").await.unwrap()), "{\"a\":1}");
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_body_without_length_runs_to_the_close_and_the_connection_is_not_reused() {
        let unframed = "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\nproxy says no";
        let server = serve(vec![Reply::AnswerAndClose(unframed), Reply::Answer(OK)]).await;
        let transport = Transport::default();
        let response = call_with(&transport, server.port, "{}").await.unwrap();
        assert_eq!((response.status().as_u16(), body(&response)), (502, "proxy says no"));
        assert_eq!(body(&call_with(&transport, server.port, "{}").await.unwrap()), "{\"a\":1}");
        assert_eq!(server.connections.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn connection_close_and_a_server_closed_idle_connection_are_not_reused() {
        let closing = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}";
        let server = serve(vec![Reply::Answer(closing), Reply::AnswerAndClose(OK), Reply::Answer(OK)]).await;
        let transport = Transport::default();
        assert_eq!(body(&call_with(&transport, server.port, "{}").await.unwrap()), "{}");
        assert_eq!(body(&call_with(&transport, server.port, "{}").await.unwrap()), "{\"a\":1}");
        // The server closed that connection after answering; the next call must not be sent on it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(body(&call_with(&transport, server.port, "{}").await.unwrap()), "{\"a\":1}");
        assert_eq!(server.connections.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_refused_connection_is_known_unsent_and_a_close_after_sending_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_port = listener.local_addr().unwrap().port();
        drop(listener);
        let refused = call(closed_port, "{}").await.unwrap_err();
        assert!(never_sent(&refused), "{refused:?}");

        let server = serve(vec![Reply::Close]).await;
        let lost = call(server.port, "{}").await.unwrap_err();
        assert!(lost.is_io() && !never_sent(&lost), "{lost:?}");
        assert_eq!(server.requests.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn malformed_or_truncated_answers_are_errors() {
        for reply in [
            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            "SMTP ready\r\n\r\n",
        ] {
            let server = serve(vec![Reply::AnswerAndClose(reply)]).await;
            let error = call(server.port, "{}").await.unwrap_err();
            assert!(error.is_io() && !never_sent(&error), "{reply:?}: {error:?}");
        }
    }
}
