//! The Runtime API (base path /2018-06-01) an execution environment polls, served on that
//! environment's own port.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};

use tokio::net::TcpListener;

use super::process::Environment;
use crate::http::{json_response, read_body, response, HttpResponse};
use crate::model::invocation::error_document;
use lambda_executor_protocol::MAX_RESPONSE_PAYLOAD;

/// Lambda accepts a response of 6 MiB plus a little framing from the runtime.
const MAX_RUNTIME_POST: usize = MAX_RESPONSE_PAYLOAD + 100;

/// Serves `environment`'s Runtime API on `listener` until the environment is killed.
pub fn serve(listener: TcpListener, environment: Arc<Environment>) {
    let stopped = environment.api_stopped();
    // Its port is the system's choice: nothing waits for it to be free.
    let _ = crate::http::serve(listener, stopped, None, move |request| handle(environment.clone(), request));
}

async fn handle(environment: Arc<Environment>, request: Request<Incoming>) -> HttpResponse {
    let path = request.uri().path().to_owned();
    let Some(route) = path.strip_prefix("/2018-06-01/runtime/") else {
        return refuse(StatusCode::NOT_FOUND, "UnknownPath", "no such Runtime API path");
    };
    let method = request.method().clone();
    match (method, route.split('/').collect::<Vec<_>>().as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(&environment).await,
        (Method::POST, ["invocation", request_id, outcome @ ("response" | "error")]) => {
            let failed = *outcome == "error";
            let request_id = request_id.to_string();
            let body = match read_body(request.into_body(), MAX_RUNTIME_POST).await {
                Ok(body) => body,
                Err(_) => {
                    // The caller gets Lambda's error for an oversized result (its words, recorded
                    // against AWS in LocalStack's test_lambda_too_large_response); the runtime, a 413.
                    let message = format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_RUNTIME_POST} bytes)."
                    );
                    let document = error_document("Function.ResponseSizeTooLarge", &message);
                    environment.response_too_large(&request_id, document).await;
                    return refuse(StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", &message);
                }
            };
            if environment.respond(&request_id, body, failed).await {
                accepted()
            } else {
                refuse(StatusCode::BAD_REQUEST, "InvalidRequestID", "Invalid request ID")
            }
        }
        (Method::POST, ["init", "error"]) => {
            let body = read_body(request.into_body(), MAX_RUNTIME_POST).await.unwrap_or_default();
            environment.init_failed(body);
            accepted()
        }
        _ => refuse(StatusCode::NOT_FOUND, "UnknownPath", "no such Runtime API path"),
    }
}

async fn next(environment: &Environment) -> HttpResponse {
    let Some((request, deadline)) = environment.next().await else {
        return refuse(StatusCode::GONE, "EnvironmentStopped", "this environment has been stopped");
    };
    let deadline = epoch_ms(deadline).to_string();
    // awslambdaric crashes when a header is missing, so every one is sent.
    let trace_id = format!(
        "Root=1-{:08x}-{}",
        epoch_ms(std::time::SystemTime::now()) / 1000,
        &request.request_id.replace('-', "")[..24]
    );
    let headers = [
        ("content-type", "application/json"),
        ("lambda-runtime-aws-request-id", request.request_id.as_str()),
        ("lambda-runtime-deadline-ms", deadline.as_str()),
        ("lambda-runtime-invoked-function-arn", request.function_arn.as_str()),
        ("lambda-runtime-trace-id", trace_id.as_str()),
        ("lambda-runtime-client-context", request.client_context.as_deref().unwrap_or("")),
        ("lambda-runtime-cognito-identity", ""),
    ];
    response(StatusCode::OK, &headers, request.payload.clone())
}

fn accepted() -> HttpResponse {
    json_response(StatusCode::ACCEPTED, &[], &serde_json::json!({"status": "OK"}))
}

fn refuse(status: StatusCode, error_type: &str, message: &str) -> HttpResponse {
    json_response(status, &[], &serde_json::json!({"errorType": error_type, "errorMessage": message}))
}

/// Milliseconds since the epoch, as Lambda-Runtime-Deadline-Ms carries it.
fn epoch_ms(time: std::time::SystemTime) -> u128 {
    time.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis()
}
