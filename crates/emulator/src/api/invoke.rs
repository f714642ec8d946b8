//! The Invoke API (POST /2015-03-31/functions/{FunctionName}/invocations) as Lambda serves it:
//! which function and version it names, its headers and payload, the faults injected into it,
//! and its answer for each invocation type.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, StatusCode};
use percent_encoding::percent_decode_str;

use super::error::ApiError;
use super::target::{target, Target};
use crate::http::{dropped_connection, query_parameter, read_body, response, BodyError, HttpResponse};
use crate::model::invocation::InvocationRequest;
use crate::model::invocation_log::log_tail;
use crate::model::version::{version_name, LATEST};
use crate::service::emulator::Emulator;
use crate::service::versions::UnknownQualifier;
use crate::state::faults::Fault;
use crate::state::registry::RegistryError;
use lambda_executor_protocol::*;

const INVOKE_PREFIX: &str = "/2015-03-31/functions/";
pub const INVOKE_SUFFIX: &str = "/invocations";

/// Answers an Invoke request; an error carries the request id, as Lambda's do.
pub async fn handle(emulator: &Arc<Emulator>, request: Request<Incoming>) -> HttpResponse {
    let retry_after = emulator.config.retry_after_secs.to_string();
    let request_id = uuid::Uuid::new_v4().to_string();
    match invoke(emulator, request, &request_id).await {
        Ok(response) => response,
        Err(error) => {
            let mut response = error.into_invoke_response(&retry_after);
            response.headers_mut().insert(HEADER_REQUEST_ID, request_id.parse().expect("uuid is a valid header"));
            response
        }
    }
}

async fn invoke(
    emulator: &Arc<Emulator>,
    request: Request<Incoming>,
    request_id: &str,
) -> Result<HttpResponse, ApiError> {
    let path = request.uri().path();
    let encoded_name = path
        .strip_prefix(INVOKE_PREFIX)
        .and_then(|rest| rest.strip_suffix(INVOKE_SUFFIX))
        .filter(|_| request.method() == Method::POST)
        .ok_or_else(ApiError::unknown_operation)?;
    let reference = percent_decode_str(encoded_name).decode_utf8_lossy().into_owned();
    let query_qualifier = query_parameter(request.uri().query(), "Qualifier");
    let Target { name, qualifier } = target(emulator, &reference, query_qualifier.as_deref())?;
    let headers = request.headers();
    let invocation_type = match header(headers, HEADER_INVOCATION_TYPE) {
        None => InvocationType::RequestResponse,
        Some(value) => {
            InvocationType::parse(value).ok_or_else(|| ApiError::invalid(format!("Invalid InvocationType: {value}")))?
        }
    };
    let log_tail_requested = match header(headers, HEADER_LOG_TYPE) {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(value) => return Err(ApiError::invalid(format!("Invalid LogType: {value}"))),
    };
    let client_context = header(headers, HEADER_CLIENT_CONTEXT).map(decode_client_context).transpose()?;

    if !emulator.exists(&name) {
        // Named as the version asked for, $LATEST by default (recorded:
        // test_function_name_and_qualifier_validation, function_name_too_long-invoke).
        return Err(ApiError::not_found(emulator, &format!("{name}:{}", qualifier.as_deref().unwrap_or(LATEST))));
    }
    let version = emulator.resolve(&name, qualifier.as_deref()).map_err(|UnknownQualifier| {
        ApiError::not_found(emulator, &format!("{name}:{}", qualifier.as_deref().unwrap_or_default()))
    })?;
    let fault = emulator.draw_fault(&name);
    match fault {
        Some((Fault::DropBefore, ..)) => return Ok(dropped_connection()),
        Some((Fault::ServiceError, ..)) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "An injected fault: the service could not take the call",
            ))
        }
        Some((Fault::NotReady, ..)) => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "ResourceNotReadyException",
                "An injected fault: the function is not ready",
            ))
        }
        Some((Fault::Throttle, _, retry_after)) => {
            return Err(ApiError::throttled(REASON_RESERVED_CONCURRENCY, Some(retry_after)))
        }
        _ => {}
    }
    let limit = invocation_type.max_payload();
    let payload = match read_body(request.into_body(), limit).await {
        Ok(body) if body.is_empty() => Bytes::from_static(b"{}"),
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            let message = format!("Request must be smaller than {limit} bytes for the InvokeFunction operation");
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLargeException", message));
        }
        Err(BodyError::Broken) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                "Could not read the request body",
            ))
        }
    };
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        let message = format!("Could not parse request body into json: {error}");
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "InvalidRequestContentException", message));
    }

    let executed_version = version_name(version.as_ref().map(|version| version.number));
    let mut function_arn = emulator.function_arn(&name);
    if let Some(qualifier) = &qualifier {
        function_arn = format!("{function_arn}:{qualifier}");
    }
    let invocation = InvocationRequest {
        request_id: request_id.to_owned(),
        payload,
        client_context,
        function_arn,
        version,
        qualifier,
        accepted: std::time::Instant::now(),
        attempt: 1,
    };
    let id_header = (HEADER_REQUEST_ID, request_id);
    let answer = match invocation_type {
        InvocationType::DryRun => response(StatusCode::NO_CONTENT, &[id_header], Bytes::new()),
        InvocationType::Event => {
            emulator.enqueue(&name, invocation).map_err(|error| registry_error(emulator, error))?;
            response(StatusCode::ACCEPTED, &[id_header], Bytes::new())
        }
        InvocationType::RequestResponse => {
            let result = emulator.invoke(&name, invocation).await.map_err(|error| registry_error(emulator, error))?;
            let tail = log_tail_requested.then(|| log_tail(&result.log));
            let mut headers = vec![
                ("content-type", "application/json"),
                id_header,
                (HEADER_EXECUTED_VERSION, executed_version.as_str()),
            ];
            if result.function_error {
                headers.push((HEADER_FUNCTION_ERROR, "Unhandled"));
            }
            if let Some(tail) = &tail {
                headers.push((HEADER_LOG_RESULT, tail.as_str()));
            }
            response(StatusCode::OK, &headers, result.body)
        }
    };
    match fault {
        Some((Fault::DropAfter, ..)) => Ok(dropped_connection()),
        Some((Fault::Slow, slow_by, _)) => {
            tokio::time::sleep(slow_by).await;
            Ok(answer)
        }
        _ => Ok(answer),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn decode_client_context(encoded: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::invalid("Client context must be a valid Base64-encoded JSON object.");
    if encoded.len() > MAX_CLIENT_CONTEXT {
        return Err(ApiError::invalid(format!("Client context must be no longer than {MAX_CLIENT_CONTEXT} bytes")));
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| invalid())?;
    match serde_json::from_slice::<serde_json::Value>(&decoded) {
        Ok(serde_json::Value::Object(_)) => String::from_utf8(decoded).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// What a registry error means to Invoke.
fn registry_error(emulator: &Emulator, error: RegistryError) -> ApiError {
    match error {
        RegistryError::NotFound(name) => ApiError::not_found(emulator, &name),
        RegistryError::Throttled { reason } => ApiError::throttled(reason, None),
        RegistryError::Closed => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", "The emulator is stopping")
        }
        RegistryError::AlreadyExists(_) | RegistryError::OverAccountLimit { .. } => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", "unexpected registry error")
        }
    }
}
