//! The HTTP plumbing both emulator APIs share: an accept loop that stops on a signal, bounded body
//! reading, and response builders.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

pub type HttpResponse = Response<Full<Bytes>>;

/// Marks a response whose connection is closed instead of answered (an injected fault).
#[derive(Clone, Copy)]
struct DropConnection;

/// A response that closes the connection without a byte of answer.
pub fn dropped_connection() -> HttpResponse {
    let mut dropped = response(StatusCode::OK, &[], Bytes::new());
    dropped.extensions_mut().insert(DropConnection);
    dropped
}

/// A listener being served: says when its port is let go.
pub struct Listening(std::sync::Mutex<std::sync::mpsc::Receiver<()>>);

impl Listening {
    /// Blocks until the listener is closed (after the stop), at most `timeout`. Not from inside
    /// the runtime that serves it.
    pub fn wait_closed(&self, timeout: std::time::Duration) {
        let _ = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv_timeout(timeout);
    }
}

/// Serves `listener` with `handler` until `stop` turns true (or its sender is dropped); open
/// connections end with it. With `tls`, each connection is a TLS one.
pub fn serve<H, F>(
    listener: TcpListener,
    stop: watch::Receiver<bool>,
    tls: Option<TlsAcceptor>,
    handler: H,
) -> Listening
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    let handler = Arc::new(handler);
    // Dropped with the listener: whoever waits on the receiver learns the port is free.
    let (closed, listening) = std::sync::mpsc::channel::<()>();
    tokio::spawn(async move {
        let _closed = closed;
        let mut stop_accepting = stop.clone();
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of file descriptors, most likely: back off instead of spinning.
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stopped(&mut stop_accepting) => break,
            };
            let _ = stream.set_nodelay(true);
            let (handler, stop, tls) = (handler.clone(), stop.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    // A client that fails the handshake gets nothing more.
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            serve_connection(stream, handler, stop).await;
                        }
                    }
                    None => serve_connection(stream, handler, stop).await,
                }
            });
        }
        drop(listener);
    });
    Listening(std::sync::Mutex::new(listening))
}

/// Answers the requests of one connection until it closes or `stop` turns true.
async fn serve_connection<S, H, F>(stream: S, handler: Arc<H>, mut stop: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    let service = service_fn(move |request| {
        let response = handler(request);
        async move {
            let response = response.await;
            // An error from the service makes hyper close the connection unanswered.
            match response.extensions().get::<DropConnection>() {
                Some(_) => Err(std::io::Error::other("connection dropped on purpose")),
                None => Ok(response),
            }
        }
    });
    let connection = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = stopped(&mut stop) => {}
    }
}

/// Resolves once `stop` turns true or its sender is gone. The borrow `wait_for` returns is
/// dropped here: held across a select, it would deadlock whoever sends the stop from a drop.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Why a request body could not be read.
pub enum BodyError {
    TooLarge,
    Broken,
}

/// Reads a request body of at most `limit` bytes.
pub async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

pub fn response(status: StatusCode, headers: &[(&str, &str)], body: Bytes) -> HttpResponse {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(body)).expect("static response parts are valid")
}

pub fn json_response(status: StatusCode, headers: &[(&str, &str)], body: &serde_json::Value) -> HttpResponse {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    response(status, &all, Bytes::from(body.to_string()))
}

/// A query string parameter, percent-decoded.
pub fn query_parameter(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode_str(value).decode_utf8_lossy().into_owned())
    })
}
