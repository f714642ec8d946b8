//! The CloudWatch Logs calls that read a function's logs, as CloudWatch Logs serves them (JSON
//! 1.1: a POST to `/` whose `X-Amz-Target` is `Logs_20140328.<Operation>`), so that boto3's
//! `logs` client, the AWS CLI and the engine read LocalLambda's logs with `endpoint_url` set to it:
//! FilterLogEvents, GetLogEvents and DescribeLogStreams.

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::{json, Map, Value};

use crate::http::{read_body, response, HttpResponse};
use crate::service::emulator::Emulator;
use crate::state::filter_pattern::FilterPattern;
use crate::state::log_store::{EventFilter, LogEvent, LogsError, StreamOrder, StreamRead};

/// The target prefix of CloudWatch Logs' operations.
pub const TARGET_PREFIX: &str = "Logs_20140328.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const MAX_REQUEST_BYTES: usize = 1 << 20;

/// An error as CloudWatch Logs sends it: 400 with `{"__type": ..., "message": ...}`.
struct LogsApiError {
    error_type: &'static str,
    message: String,
}

impl LogsApiError {
    fn invalid(message: impl Into<String>) -> Self {
        Self { error_type: "InvalidParameterException", message: message.into() }
    }
}

impl From<LogsError> for LogsApiError {
    fn from(error: LogsError) -> Self {
        match error {
            LogsError::GroupNotFound => Self {
                error_type: "ResourceNotFoundException",
                message: "The specified log group does not exist.".into(),
            },
            LogsError::StreamNotFound => Self {
                error_type: "ResourceNotFoundException",
                message: "The specified log stream does not exist.".into(),
            },
            LogsError::Invalid(message) => Self::invalid(message),
        }
    }
}

/// Answers a CloudWatch Logs request; `operation` is its target less the prefix.
pub async fn handle(emulator: &Arc<Emulator>, operation: &str, request: Request<Incoming>) -> HttpResponse {
    let request_id = uuid::Uuid::new_v4().to_string();
    let answer = match read_body(request.into_body(), MAX_REQUEST_BYTES).await {
        Ok(body) => serve(emulator, operation, &body),
        Err(_) => Err(LogsApiError::invalid("the request body could not be read, or is over 1 MB")),
    };
    let (status, body) = match answer {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => (StatusCode::BAD_REQUEST, json!({"__type": error.error_type, "message": error.message})),
    };
    let headers = [("content-type", CONTENT_TYPE), ("x-amzn-requestid", request_id.as_str())];
    response(status, &headers, Bytes::from(body.to_string()))
}

fn serve(emulator: &Emulator, operation: &str, body: &[u8]) -> Result<Value, LogsApiError> {
    let parameters: Map<String, Value> = match serde_json::from_slice(if body.is_empty() { b"{}" } else { body }) {
        Ok(Value::Object(parameters)) => parameters,
        _ => {
            return Err(LogsApiError {
                error_type: "SerializationException",
                message: "the body is not a JSON object".into(),
            })
        }
    };
    let parameters = Parameters(parameters);
    match operation {
        "FilterLogEvents" => filter_log_events(emulator, &parameters),
        "GetLogEvents" => get_log_events(emulator, &parameters),
        "DescribeLogStreams" => describe_log_streams(emulator, &parameters),
        _ => Err(LogsApiError {
            error_type: "UnknownOperationException",
            message: format!(
                "LocalLambda serves FilterLogEvents, GetLogEvents and DescribeLogStreams of CloudWatch Logs, not {operation}"
            ),
        }),
    }
}

fn filter_log_events(emulator: &Emulator, parameters: &Parameters) -> Result<Value, LogsApiError> {
    if parameters.boolean("unmask")? == Some(true) {
        return Err(LogsApiError::invalid("LocalLambda masks no data: unmask is not supported"));
    }
    let filter = EventFilter {
        stream_names: parameters.strings("logStreamNames")?,
        stream_prefix: parameters.string("logStreamNamePrefix")?.map(str::to_owned),
        start_time: parameters.integer("startTime")?,
        end_time: parameters.integer("endTime")?,
        pattern: FilterPattern::parse(parameters.string("filterPattern")?.unwrap_or_default())
            .map_err(LogsApiError::invalid)?,
    };
    let limit = parameters.limit(10_000)?;
    let group = parameters.log_group()?;
    let page = emulator.logs.filter(&group, &filter, parameters.string("nextToken")?, limit)?;
    let events: Vec<Value> = page
        .items
        .iter()
        .map(|event| {
            json!({
                "logStreamName": &*event.stream,
                "timestamp": event.timestamp,
                "message": event.message,
                "ingestionTime": event.ingestion_time,
                "eventId": event.sequence.to_string(),
            })
        })
        .collect();
    let mut answer = json!({"events": events});
    if let Some(token) = page.next_token {
        answer["nextToken"] = token.into();
    }
    Ok(answer)
}

fn get_log_events(emulator: &Emulator, parameters: &Parameters) -> Result<Value, LogsApiError> {
    let group = parameters.log_group()?;
    let stream =
        parameters.string("logStreamName")?.ok_or_else(|| LogsApiError::invalid("logStreamName is required"))?;
    let read = StreamRead {
        start_time: parameters.integer("startTime")?,
        end_time: parameters.integer("endTime")?,
        token: parameters.string("nextToken")?,
        start_from_head: parameters.boolean("startFromHead")?.unwrap_or(false),
        limit: parameters.limit(10_000)?,
    };
    let page = emulator.logs.stream_events(&group, stream, &read)?;
    let event = |event: &LogEvent| json!({"timestamp": event.timestamp, "message": event.message, "ingestionTime": event.ingestion_time});
    Ok(json!({
        "events": page.events.iter().map(event).collect::<Vec<_>>(),
        "nextForwardToken": page.next_forward,
        "nextBackwardToken": page.next_backward,
    }))
}

fn describe_log_streams(emulator: &Emulator, parameters: &Parameters) -> Result<Value, LogsApiError> {
    let group = parameters.log_group()?;
    let prefix = parameters.string("logStreamNamePrefix")?;
    let order = match parameters.string("orderBy")? {
        None | Some("LogStreamName") => StreamOrder::Name,
        Some("LastEventTime") if prefix.is_some() => {
            return Err(LogsApiError::invalid("Cannot order by LastEventTime with a logStreamNamePrefix."))
        }
        Some("LastEventTime") => StreamOrder::LastEventTime,
        Some(other) => {
            return Err(LogsApiError::invalid(format!("orderBy is LogStreamName or LastEventTime, not {other}")))
        }
    };
    let descending = parameters.boolean("descending")?.unwrap_or(false);
    let page = emulator.logs.streams(
        &group,
        prefix,
        order,
        descending,
        parameters.string("nextToken")?,
        parameters.limit(50)?,
    )?;
    let config = &emulator.config;
    let partition = lambda_executor_protocol::partition_of(&config.region);
    let streams: Vec<Value> = page
        .items
        .iter()
        .map(|info| {
            json!({
                "logStreamName": &*info.name,
                "creationTime": info.created,
                "firstEventTimestamp": info.first_event,
                "lastEventTimestamp": info.last_event,
                "lastIngestionTime": info.last_ingestion,
                "arn": format!(
                    "arn:{partition}:logs:{}:{}:log-group:{group}:log-stream:{}",
                    config.region, config.account_id, info.name
                ),
                "storedBytes": info.stored_bytes,
            })
        })
        .collect();
    let mut answer = json!({"logStreams": streams});
    if let Some(token) = page.next_token {
        answer["nextToken"] = token.into();
    }
    Ok(answer)
}

/// A request's parameters, each checked for its type.
struct Parameters(Map<String, Value>);

impl Parameters {
    fn wrong_type(name: &str, kind: &str) -> LogsApiError {
        LogsApiError { error_type: "SerializationException", message: format!("{name} must be {kind}") }
    }

    fn string(&self, name: &str) -> Result<Option<&str>, LogsApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(Self::wrong_type(name, "a string")),
        }
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, LogsApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value.as_i64().map(Some).ok_or_else(|| Self::wrong_type(name, "an integer")),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, LogsApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value.as_bool().map(Some).ok_or_else(|| Self::wrong_type(name, "true or false")),
        }
    }

    fn strings(&self, name: &str) -> Result<Option<Vec<String>>, LogsApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(values)) => values
                .iter()
                .map(|value| {
                    value.as_str().map(str::to_owned).ok_or_else(|| Self::wrong_type(name, "a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(Self::wrong_type(name, "a list of strings")),
        }
    }

    /// `limit`, 1 to `most` (and `most` when not given).
    fn limit(&self, most: usize) -> Result<usize, LogsApiError> {
        match self.integer("limit")? {
            None => Ok(most),
            Some(limit) if (1..=most as i64).contains(&limit) => Ok(limit as usize),
            Some(limit) => Err(LogsApiError::invalid(format!("limit must be 1 to {most}, not {limit}"))),
        }
    }

    /// The log group a request names: `logGroupName`, or `logGroupIdentifier` (a name or an ARN).
    fn log_group(&self) -> Result<String, LogsApiError> {
        if let Some(name) = self.string("logGroupName")? {
            return Ok(name.to_owned());
        }
        let identifier =
            self.string("logGroupIdentifier")?.ok_or_else(|| LogsApiError::invalid("logGroupName is required"))?;
        match identifier.split_once(":log-group:") {
            Some((_, name)) => Ok(name.trim_end_matches(":*").to_owned()),
            None => Ok(identifier.to_owned()),
        }
    }
}
