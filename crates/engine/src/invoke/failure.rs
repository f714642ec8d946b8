//! What a failed attempt means for retrying: throttled (did not run), failed before it was sent
//! (did not run), failed after it may have run, or final; read from the SDK's error, naming the
//! function, the endpoint and the proxy it went through.

use std::time::Duration;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::invoke::InvokeError;

use crate::client::config::SharedClient;
use crate::client::http;
use crate::error_text::sentence;

/// The code of a response that names no Lambda error type.
const UNKNOWN_CODE: &str = "Unknown";
/// The code of an answer from an endpoint that is not Lambda (neither its error type nor its
/// request id).
pub const NOT_LAMBDA: &str = "NotLambda";

/// A Retry-After longer than this (an hour) is read as this.
const MAX_RETRY_AFTER: f64 = 3600.0;

/// Why an attempt did not produce a response (kept in the journal as it is, to be replayed).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum AttemptError {
    /// 429: Lambda refused the call; it did not run.
    Throttled { reason: String, retry_after: Option<Duration> },
    /// Lambda said it could not take the call now (5xx, not ready, pending): it did not run.
    Unavailable { code: String, message: String, status: u16 },
    /// The connection failed before the request was written: it did not run.
    NotSent { message: String },
    /// The connection failed after the request was (or may have been) written: it may have run.
    MaybeSent { message: String },
    /// A final answer: retrying cannot help.
    Rejected { code: String, message: String, status: u16, request_id: Option<String> },
}

impl AttemptError {
    /// Why the attempt failed, for a log: Lambda's codes, not its messages (which may quote the
    /// payload); the connection's own words.
    pub fn brief(&self) -> String {
        match self {
            Self::Throttled { reason, .. } => format!("throttled ({reason})"),
            Self::Unavailable { code, status, .. } | Self::Rejected { code, status, .. } => {
                format!("{code} (HTTP {status})")
            }
            Self::NotSent { message } => format!("not sent: {message}"),
            Self::MaybeSent { message } => format!("may have run: {message}"),
        }
    }

    /// Lambda did not take the call, or it may have run: a retry policy may try it again.
    pub fn retryable(&self) -> bool {
        !matches!(self, Self::Rejected { .. })
    }
}

/// An HTTP proxy that will not forward a call answers for itself (407, or 401/403 to wrong
/// credentials or a forbidden destination) without Lambda's request id. Only a 407 proves the call
/// went no further (a filtering proxy may answer 403 after forwarding), so only it counts as not
/// sent; the others are final, and none is worth retrying as it is.
fn refused_by_proxy(
    proxy: Option<&str>,
    response: &aws_sdk_lambda::config::http::HttpResponse,
) -> Option<AttemptError> {
    let proxy = proxy?;
    let status = response.status().as_u16();
    if response.headers().get("x-amzn-requestid").is_some() || !matches!(status, 401 | 403 | 407) {
        return None;
    }
    let message = format!("the proxy {proxy} refused the call (HTTP {status})");
    Some(match status {
        407 => AttemptError::NotSent { message },
        _ => AttemptError::Rejected { code: "ProxyRefused".into(), message, status, request_id: None },
    })
}

/// Who a call went to, for what its errors say: the function, the endpoint, the proxy on the way.
pub struct Peer<'a> {
    pub function: &'a str,
    pub client: &'a SharedClient,
}

impl Peer<'_> {
    /// "my-function at https://lambda.us-east-1.amazonaws.com (through the proxy host:port)"
    fn describe(&self) -> String {
        let Self { function, client } = self;
        match &client.proxy {
            Some(proxy) => format!("{function} at {} through the proxy {proxy}", client.endpoint),
            None => format!("{function} at {}", client.endpoint),
        }
    }
}

pub fn classify(error: SdkError<InvokeError, aws_sdk_lambda::config::http::HttpResponse>, peer: &Peer) -> AttemptError {
    let proxy = peer.client.proxy.as_deref();
    match error {
        SdkError::ServiceError(context) => {
            if let Some(refused) = refused_by_proxy(proxy, context.raw()) {
                return refused;
            }
            let status = context.raw().status().as_u16();
            let request_id = context.raw().headers().get("x-amzn-requestid").map(str::to_owned);
            let retry_after_header = context.raw().headers().get("retry-after").and_then(retry_after);
            let error = context.into_err();
            let code = error.code().unwrap_or(UNKNOWN_CODE).to_owned();
            let message = error.message().unwrap_or_default().to_owned();
            // Lambda names its error type, and its request id, in every answer it gives.
            let not_lambda = code == UNKNOWN_CODE && request_id.is_none();
            match error {
                InvokeError::TooManyRequestsException(throttle) => AttemptError::Throttled {
                    reason: throttle.reason().map_or("TooManyRequestsException", |reason| reason.as_str()).to_owned(),
                    retry_after: throttle.retry_after_seconds().and_then(retry_after),
                },
                // A 429 is a throttle whatever its body (a bare one names no error type): the
                // call did not run.
                _ if status == 429 => AttemptError::Throttled {
                    reason: if code == UNKNOWN_CODE { "HTTP 429".to_owned() } else { code },
                    retry_after: retry_after_header,
                },
                // Lambda's own word that it did not take the call (yet): worth another try.
                InvokeError::ResourceNotReadyException(_)
                | InvokeError::ResourceConflictException(_)
                | InvokeError::ServiceException(_)
                | InvokeError::Ec2ThrottledException(_)
                | InvokeError::EniLimitReachedException(_)
                | InvokeError::SubnetIpAddressLimitReachedException(_) => {
                    AttemptError::Unavailable { code, message, status }
                }
                // A 5xx that is not one of Lambda's modelled errors (a proxy's 502/504 after a
                // long call, say) does not prove the function did not run.
                _ if status >= 500 && code == UNKNOWN_CODE && proxy.is_some() => AttemptError::MaybeSent {
                    message: format!("HTTP {status} without a Lambda error type calling {}", peer.describe()),
                },
                // Neither Lambda's error type nor its request id: whatever answered is not Lambda,
                // and nothing is sent again (with a 5xx, it may have gone further).
                _ if not_lambda => AttemptError::Rejected {
                    code: NOT_LAMBDA.into(),
                    message: format!(
                        "HTTP {status} calling {}, with neither Lambda's error type nor its request id: the \
                         endpoint does not look like Lambda",
                        peer.describe()
                    ),
                    status,
                    request_id,
                },
                _ if status >= 500 && code == UNKNOWN_CODE => AttemptError::MaybeSent {
                    message: format!("HTTP {status} without a Lambda error type calling {}", peer.describe()),
                },
                _ => AttemptError::Rejected { code, message, status, request_id },
            }
        }
        SdkError::DispatchFailure(failure) => {
            let Some(connector) = failure.as_connector_error() else {
                return AttemptError::MaybeSent { message: "the request could not be dispatched".into() };
            };
            let message = format!("calling {}: {}", peer.describe(), sentence(connector));
            if http::untrusted_certificate(connector) {
                let code = "UntrustedCertificate".into();
                AttemptError::Rejected { code, message, status: 0, request_id: None }
            } else if http::never_sent(connector) {
                AttemptError::NotSent { message }
            } else {
                AttemptError::MaybeSent { message }
            }
        }
        SdkError::TimeoutError(_) => AttemptError::MaybeSent { message: "the call timed out".into() },
        SdkError::ResponseError(failure) => {
            if let Some(refused) = refused_by_proxy(proxy, failure.raw()) {
                return refused;
            }
            let status = failure.raw().status().as_u16();
            AttemptError::MaybeSent { message: format!("unreadable response (HTTP {status})") }
        }
        other => {
            let message = sentence(&other);
            AttemptError::Rejected { code: "ClientError".into(), message, status: 0, request_id: None }
        }
    }
}

/// Retry-After in seconds, as Lambda sends it (a number, possibly fractional).
fn retry_after(seconds: &str) -> Option<Duration> {
    let seconds = seconds.trim().parse::<f64>().ok().filter(|seconds| seconds.is_finite() && *seconds >= 0.0)?;
    Some(Duration::from_secs_f64(seconds.min(MAX_RETRY_AFTER)))
}
