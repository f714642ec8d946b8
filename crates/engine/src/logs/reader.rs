//! A function's log lines, read from its log group (`/aws/lambda/NAME`) in CloudWatch Logs with
//! aws-sdk-cloudwatchlogs on the engine's client configuration (the same credentials, HTTP
//! client, proxies, trust and timeouts). Its endpoint: the SDK's own for CloudWatch Logs when
//! AWS_ENDPOINT_URL_CLOUDWATCH_LOGS is set; else the one the executor was given (LocalLambda
//! serves both); else the SDK's (AWS_ENDPOINT_URL, the profile, AWS's).

use std::time::Duration;

use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use lambda_executor_protocol::FunctionRef;

use crate::client::config::{ConfigError, SharedClient};
use crate::error_text::sentence;

/// The variable that gives CloudWatch Logs an endpoint of its own (the SDK's name for it).
const LOGS_ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS";
/// Lines one read returns at most.
pub const MAX_LINES: usize = 10_000;

/// Why logs could not be read. Messages name the log group and request, never a line's text.
#[derive(Debug)]
pub enum LogsError {
    /// Not a function reference Lambda takes.
    InvalidFunction(String),
    /// The function has no log group (it never ran, or its logs went elsewhere).
    NoLogGroup { group: String },
    /// No START line of the request in the log group.
    NotFound { request_id: String, group: String, waited: Duration },
    /// Its START was found, not its REPORT.
    Incomplete { request_id: String, group: String, stream: String, lines: usize, waited: Duration },
    /// CloudWatch Logs refused a call, or the way to it failed.
    Service { operation: &'static str, group: String, why: String, denied: bool },
}

impl std::fmt::Display for LogsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = |waited: &Duration| waited.as_secs_f64();
        match self {
            Self::InvalidFunction(function) => write!(f, "'{function}' is not a function name or ARN"),
            Self::NoLogGroup { group } => {
                write!(f, "CloudWatch Logs has no log group {group}: the function has not logged (or logs elsewhere)")
            }
            Self::NotFound { request_id, group, waited } => write!(
                f,
                "no START line of request {request_id} in {group} after {:.1} s (CloudWatch Logs may take longer to \
                 receive it; try a longer timeout)",
                seconds(waited)
            ),
            Self::Incomplete { request_id, group, stream, lines, waited } => write!(
                f,
                "found the START of request {request_id} and {lines} lines after it in {group} stream {stream}, but \
                 not its REPORT after {:.1} s (the call may still be running, or CloudWatch Logs not have it yet)",
                seconds(waited)
            ),
            Self::Service { operation, group, why, denied } => {
                write!(f, "{operation} on {group} failed: {why}")?;
                if *denied {
                    write!(f, " (the caller needs logs:{operation} on it)")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LogsError {}

/// One line of a log group, as FilterLogEvents returns it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LogLine {
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Without the newline that ends it.
    pub message: String,
    pub event_id: String,
}

/// Which lines of a group to read: a time range (inclusive, in milliseconds) and a filter pattern.
#[derive(Clone, Debug, Default)]
pub struct LineQuery {
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub filter_pattern: Option<String>,
}

/// Reads functions' log groups.
#[derive(Clone, Debug)]
pub struct LogReader {
    pub(super) logs: aws_sdk_cloudwatchlogs::Client,
}

impl LogReader {
    pub fn new(client: &SharedClient) -> Result<Self, ConfigError> {
        let own_endpoint = std::env::var_os(LOGS_ENDPOINT_VARIABLE).is_some();
        let endpoint_url = client.endpoint_url.as_deref().filter(|_| !own_endpoint);
        let config = client.service_config(endpoint_url)?;
        Ok(Self { logs: aws_sdk_cloudwatchlogs::Client::new(&config) })
    }

    /// `/aws/lambda/NAME` of a function's name, `name:qualifier` or ARN.
    pub fn log_group(function: &str) -> Result<String, LogsError> {
        let reference = FunctionRef::parse(function).ok_or_else(|| LogsError::InvalidFunction(function.to_owned()))?;
        Ok(format!("/aws/lambda/{}", reference.name))
    }

    /// The group's lines that `query` selects, oldest first, at most `MAX_LINES`.
    pub async fn lines(&self, group: &str, query: &LineQuery) -> Result<Vec<LogLine>, LogsError> {
        let mut lines = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .logs
                .filter_log_events()
                .log_group_name(group)
                .set_start_time(query.start_time)
                .set_end_time(query.end_time)
                .set_filter_pattern(query.filter_pattern.clone())
                .set_next_token(token.take())
                .limit((MAX_LINES - lines.len()) as i32)
                .send()
                .await
                .map_err(|error| failed("FilterLogEvents", group, error))?;
            lines.extend(page.events().iter().map(|event| LogLine {
                stream: event.log_stream_name().unwrap_or_default().to_owned(),
                timestamp: event.timestamp().unwrap_or_default(),
                message: without_newline(event.message().unwrap_or_default()),
                event_id: event.event_id().unwrap_or_default().to_owned(),
            }));
            match page.next_token() {
                Some(next) if lines.len() < MAX_LINES => token = Some(next.to_owned()),
                _ => return Ok(lines),
            }
        }
    }
}

/// A line as a caller reads it: Lambda ends each event's message with a newline.
pub(super) fn without_newline(message: &str) -> String {
    message.strip_suffix('\n').unwrap_or(message).to_owned()
}

/// What CloudWatch Logs, or the way to it, said of a failed call.
pub(super) fn failed<E>(
    operation: &'static str,
    group: &str,
    error: SdkError<E, aws_sdk_cloudwatchlogs::config::http::HttpResponse>,
) -> LogsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let group = group.to_owned();
    let SdkError::ServiceError(context) = &error else {
        return LogsError::Service { operation, group, why: sentence(&error), denied: false };
    };
    let service_error = context.err();
    if service_error.code() == Some("ResourceNotFoundException") && operation == "FilterLogEvents" {
        return LogsError::NoLogGroup { group };
    }
    let denied = service_error.code() == Some("AccessDeniedException") || context.raw().status().as_u16() == 403;
    let why = match (service_error.code(), service_error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => sentence(&error),
    };
    LogsError::Service { operation, group, why, denied }
}
