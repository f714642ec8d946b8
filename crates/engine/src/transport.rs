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

/// An idle connection unused for this long is closed (servers drop theirs after a while too; one
/// that says when, with Keep-Alive: timeout=N, is closed a second before that).
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

#[derive(Debug)]
struct Shared {
    /// A forked child inherits the pool but must not close its sockets (see Drop).
    owner_pid: u32,
    idle: Mutex<HashMap<Origin, Vec<Idle>>>,
    /// Addresses by host name, looked up once for a burst of new connections, not once each.
    resolved: tokio::sync::Mutex<HashMap<String, (Instant, Addresses)>>,
    tls: OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
    reaper_started: OnceLock<()>,
}

type Addresses = Arc<[SocketAddr]>;

impl Default for Shared {
    fn default() -> Self {
        Self {
            owner_pid: std::process::id(),
            idle: Mutex::default(),
            resolved: tokio::sync::Mutex::default(),
            tls: OnceLock::new(),
            reaper_started: OnceLock::new(),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // In a forked child the pooled sockets are still registered with the parent's epoll
        // (shared across fork): closing them here would deregister them there too and leave the
        // parent's next request on them waiting forever. The child leaves them be.
        if std::process::id() != self.owner_pid {
            let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()));
            std::mem::forget(idle);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Origin {
    tls: bool,
    host: String,
    port: u16,
}

#[derive(Debug)]
struct Idle {
    connection: Connection,
    expires: Instant,
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
        let head_request = request.method() == "HEAD";
        let transport = self.transport.clone();
        let (connect_timeout, read_timeout) = (self.connect_timeout, self.read_timeout);
        HttpConnectorFuture::new(async move {
            transport.send(origin, message, head_request, connect_timeout, read_timeout).await
        })
    }
}

impl Transport {
    async fn send(
        &self,
        origin: Origin,
        message: Vec<u8>,
        head_request: bool,
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
            read_response(&mut connection, head_request).await
        };
        let (response, idle_limit) = match read_timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| ConnectorError::timeout("no response within the read timeout".into()))?,
            None => exchange.await,
        }
        .map_err(|e| ConnectorError::io(Box::new(e)))?;
        if let Some(idle_limit) = idle_limit {
            self.checkin(origin, connection, idle_limit);
        }
        Ok(response)
    }

    /// The most recently used idle connection to `origin` that is still open.
    fn checkout(&self, origin: &Origin) -> Option<Connection> {
        let mut idle = self.shared.idle.lock().unwrap();
        let connections = idle.get_mut(origin)?;
        while let Some(candidate) = connections.pop() {
            if candidate.expires > Instant::now() && candidate.connection.is_open() {
                return Some(candidate.connection);
            }
        }
        None
    }

    fn checkin(&self, origin: Origin, connection: Connection, idle_limit: Duration) {
        self.start_reaper();
        let mut idle = self.shared.idle.lock().unwrap();
        idle.entry(origin).or_default().push(Idle { connection, expires: Instant::now() + idle_limit });
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
                    let now = Instant::now();
                    for connections in idle.values_mut() {
                        connections.retain(|c| c.expires > now);
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
        let host = if origin.port == default_port {
            authority.trim_end_matches(&format!(":{default_port}"))
        } else {
            authority
        };
        message.extend_from_slice(format!("host: {host}\r\n").as_bytes());
    }
    if !has_length && (!body.is_empty() || request.method() != "GET") {
        message.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    message.extend_from_slice(b"\r\n");
    message.extend_from_slice(body);
    message
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// The head of a response: status, headers (names lowercased), and what its framing says.
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
    http11: bool,
}

impl Head {
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n == name).flat_map(|(_, v)| v.split(',')).map(str::trim)
    }

    /// The one content length all Content-Length headers agree on; an error if they disagree.
    fn content_length(&self) -> io::Result<Option<usize>> {
        let mut lengths =
            self.all("content-length").map(|v| v.parse::<usize>().map_err(|_| invalid("invalid content-length")));
        let Some(first) = lengths.next().transpose()? else { return Ok(None) };
        for other in lengths {
            if other? != first {
                return Err(invalid("conflicting content-length headers"));
            }
        }
        Ok(Some(first))
    }

    /// How long the server keeps an idle connection, if it says (Keep-Alive: timeout=N).
    fn keep_alive(&self) -> Option<Duration> {
        let timeout = self.all("keep-alive").find_map(|part| part.strip_prefix("timeout="))?;
        timeout.trim().parse().ok().map(Duration::from_secs)
    }
}

/// Reads one response to a request; the second value is how long the connection may then wait
/// idle for another request (None: it must not carry another).
async fn read_response(
    connection: &mut Connection,
    head_request: bool,
) -> io::Result<(HttpResponse, Option<Duration>)> {
    // Allocated once the answer starts to arrive, not while the function runs.
    connection.tcp().readable().await?;
    let mut buffer = BytesMut::with_capacity(FIRST_READ);
    let head = loop {
        let parsed = if buffer.is_empty() { None } else { parse_head(&buffer)? };
        match parsed {
            // 1xx (100 Continue, 103 Early Hints) come before the real answer: skip them.
            Some((head, head_len)) if (100..200).contains(&head.status) && head.status != 101 => {
                buffer.advance(head_len)
            }
            Some((head, head_len)) => {
                buffer.advance(head_len);
                break head;
            }
            None if buffer.len() > MAX_HEAD_BYTES => return Err(invalid("response head too large")),
            None => {
                buffer.reserve(FIRST_READ.max(buffer.len()));
                if connection.read_buf(&mut buffer).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection closed before a complete response",
                    ));
                }
            }
        }
    };
    if head.status == 101 {
        return Err(invalid("unexpected protocol switch"));
    }
    let close = head.all("connection").any(|token| token.eq_ignore_ascii_case("close"));
    let mut reusable = head.http11 && !close;
    let encodings: Vec<String> = head.all("transfer-encoding").map(str::to_ascii_lowercase).collect();
    let length = head.content_length()?;
    let body = if head_request || head.status == 204 || head.status == 304 {
        BytesMut::new()
    } else if !encodings.is_empty() {
        // Transfer-Encoding overrides Content-Length; a message with both is suspect.
        reusable &= length.is_none();
        if encodings.last().map(String::as_str) == Some("chunked") {
            read_chunked(connection, &mut buffer).await?
        } else {
            reusable = false;
            read_to_close(connection, buffer.split()).await?
        }
    } else if let Some(length) = length {
        if length > MAX_BODY_BYTES {
            return Err(invalid("response body too large"));
        }
        buffer.reserve(length.saturating_sub(buffer.len()));
        while buffer.len() < length {
            if connection.read_buf(&mut buffer).await? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed mid-body"));
            }
        }
        buffer.split_to(length)
    } else {
        reusable = false;
        read_to_close(connection, buffer.split()).await?
    };
    // Bytes past the message were never asked for: the connection is out of step.
    reusable &= buffer.is_empty();
    let idle_limit = reusable.then(|| {
        head.keep_alive().map_or(IDLE_TIMEOUT, |server| IDLE_TIMEOUT.min(server.saturating_sub(Duration::from_secs(1))))
    });
    let status = head.status.try_into().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    // A small body is copied out, so the result does not hold the whole read buffer (head and
    // spare room) while it waits to be taken.
    let body = if body.len() <= COPY_BODY_BELOW { bytes::Bytes::copy_from_slice(&body) } else { body.freeze() };
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    for (name, value) in head.headers {
        response.headers_mut().try_append(name, value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
    Ok((response, idle_limit))
}

fn parse_head(buffer: &[u8]) -> io::Result<Option<(Head, usize)>> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut slots);
    match parsed.parse(buffer).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))? {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(head_len) => {
            let headers = parsed
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                .collect();
            let head = Head { status: parsed.code.unwrap_or(0), headers, http11: parsed.version == Some(1) };
            Ok(Some((head, head_len)))
        }
    }
}

async fn read_to_close(connection: &mut Connection, mut body: BytesMut) -> io::Result<BytesMut> {
    loop {
        if body.len() > MAX_BODY_BYTES {
            return Err(invalid("response body too large"));
        }
        body.reserve(FIRST_READ);
        if connection.read_buf(&mut body).await? == 0 {
            return Ok(body);
        }
    }
}

/// Decodes a chunked body from `buffer` (what was read past the head) and the connection; what
/// is left in `buffer` after it was not part of this message.
async fn read_chunked(connection: &mut Connection, buffer: &mut BytesMut) -> io::Result<BytesMut> {
    let mut body = BytesMut::new();
    loop {
        let line = read_line(connection, buffer).await?;
        let digits = std::str::from_utf8(&line).unwrap_or("").split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(digits, 16).map_err(|_| invalid("invalid chunk size"))?;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            while !read_line(connection, buffer).await?.is_empty() {}
            return Ok(body);
        }
        if size > MAX_BODY_BYTES - body.len() {
            return Err(invalid("response body too large"));
        }
        while buffer.len() < size + 2 {
            fill(connection, buffer).await?;
        }
        body.extend_from_slice(&buffer[..size]);
        if &buffer[size..size + 2] != b"\r\n" {
            return Err(invalid("invalid chunk terminator"));
        }
        buffer.advance(size + 2);
    }
}

/// The next CRLF-terminated line (without its CRLF), at most MAX_HEAD_BYTES long.
async fn read_line(connection: &mut Connection, buffer: &mut BytesMut) -> io::Result<BytesMut> {
    let mut searched = 0;
    loop {
        if let Some(end) = buffer[searched..].windows(2).position(|w| w == b"\r\n") {
            let mut line = buffer.split_to(searched + end + 2);
            line.truncate(searched + end);
            return Ok(line);
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Err(invalid("chunk line too long"));
        }
        searched = buffer.len().saturating_sub(1);
        fill(connection, buffer).await?;
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

    fn pooled(transport: &Transport) -> usize {
        transport.shared.idle.lock().unwrap().values().map(Vec::len).sum()
    }

    #[tokio::test]
    async fn only_a_connection_in_step_and_kept_alive_goes_back_to_the_pool() {
        for (reply, reusable) in [
            (OK, true),
            ("HTTP/1.1 200 OK\r\nconnection: keep-alive, close\r\ncontent-length: 2\r\n\r\n{}", false),
            ("HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}", false),
            ("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}", false),
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nGARBAGE", false),
            ("HTTP/1.1 204 No Content\r\n\r\nGARBAGE", false),
            ("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}GARBAGE", false),
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\n{}", false),
            ("HTTP/1.1 200 OK\r\nkeep-alive: timeout=5, max=100\r\ncontent-length: 2\r\n\r\n{}", true),
        ] {
            let server = serve(vec![Reply::Answer(reply)]).await;
            let transport = Transport::default();
            call_with(&transport, server.port, "{}").await.unwrap();
            assert_eq!(
                pooled(&transport) == 1 && transport.checkout(&origin(server.port)).is_some(),
                reusable,
                "{reply:?}"
            );
        }
    }

    fn origin(port: u16) -> Origin {
        Origin { tls: false, host: "127.0.0.1".into(), port }
    }

    #[tokio::test]
    async fn informational_answers_are_skipped() {
        let reply = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: x\r\n\r\n".to_owned() + OK;
        let server = serve(vec![Reply::Answer(reply.leak())]).await;
        assert_eq!(body(&call(server.port, "{}").await.unwrap()), "{\"a\":1}");
    }

    #[tokio::test]
    async fn a_pool_dropped_in_a_forked_child_leaves_the_parents_connections_working() {
        let server = serve(vec![Reply::Answer(OK), Reply::Answer(OK)]).await;
        let transport = Transport::default();
        call_with(&transport, server.port, "{}").await.unwrap();
        // SAFETY: the child only drops the pool and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            drop(transport);
            unsafe { libc::_exit(0) };
        }
        unsafe { libc::waitpid(pid, &mut 0, 0) };
        let again = tokio::time::timeout(Duration::from_secs(5), call_with(&transport, server.port, "{}")).await;
        assert_eq!(body(&again.expect("the parent's pooled connection still works").unwrap()), "{\"a\":1}");
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn malformed_or_truncated_answers_are_errors() {
        for reply in [
            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\nffffffffffffffff\r\nbbbb\r\n0\r\n\r\n",
            "SMTP ready\r\n\r\n",
        ] {
            let server = serve(vec![Reply::AnswerAndClose(reply)]).await;
            let error = call(server.port, "{}").await.unwrap_err();
            assert!(error.is_io() && !never_sent(&error), "{reply:?}: {error:?}");
        }
    }
}
