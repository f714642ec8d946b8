//! The one route table of LocalLambda's HTTP API: it routes every operation the emulator's port
//! serves to the file that serves it. Invoke goes to invoke.rs; the functions' control-plane
//! calls (and concurrency, tags and account settings) to functions.rs; versions and aliases to
//! versions.rs; resource-based policies to policy.rs; event invoke configurations to
//! event_invoke.rs; layers to layers.rs; LocalLambda's own /local-lambda/runtime to local.rs;
//! CloudWatch Logs' reads of the functions' logs (a POST whose X-Amz-Target names one) to logs.rs;
//! anything else is an UnknownOperationException. operations.rs lists what it routes: an operation
//! added here is added there too.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::error::ApiError;
use super::event_invoke::Change;
use super::layers::Compatible;
use super::target::target;
use super::{event_invoke, functions, invoke, layers, local, logs, policy, versions};
use crate::http::{query_parameter, read_body, HttpResponse};
use crate::service::emulator::Emulator;

/// Lambda's limit on a control-plane request (a 50 MB zip is a third larger in base64).
const MAX_REQUEST_BYTES: usize = 69_905_067;

/// Answers one request: routes it to its operation, and renders the error that operation ends in.
pub async fn handle(emulator: Arc<Emulator>, request: Request<Incoming>) -> HttpResponse {
    if request.method() == Method::GET && request.uri().path() == local::RUNTIME_PATH {
        return local::runtime(&emulator).await;
    }
    let logs_operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .and_then(|target| target.strip_prefix(logs::TARGET_PREFIX))
        .map(str::to_owned);
    if let Some(operation) = logs_operation.filter(|_| request.method() == Method::POST) {
        return logs::handle(&emulator, &operation, request).await;
    }
    // Invoke: every path that ends as its own does (its wrong method or prefix is Invoke's to refuse).
    if request.uri().path().ends_with(invoke::INVOKE_SUFFIX) {
        return invoke::handle(&emulator, request).await;
    }
    match control_plane(&emulator, request).await {
        Some(outcome) => outcome.unwrap_or_else(ApiError::into_response),
        None => ApiError::unknown_operation().into_response(),
    }
}

/// Routes a control-plane request; None if the path is not one of its operations.
async fn control_plane(emulator: &Arc<Emulator>, request: Request<Incoming>) -> Option<Result<HttpResponse, ApiError>> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut segments: Vec<String> =
        path.trim_matches('/').split('/').map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect();
    let mut qualifier = query_parameter(request.uri().query(), "Qualifier");
    let function_version = query_parameter(request.uri().query(), "FunctionVersion");
    let compatible = Compatible {
        runtime: query_parameter(request.uri().query(), "CompatibleRuntime"),
        architecture: query_parameter(request.uri().query(), "CompatibleArchitecture"),
    };
    // The function a path names (by name or ARN) becomes its bare name here, its qualifier apart.
    if segments.len() >= 3 && (segments[1] == "functions" || segments[1] == "tags") {
        match target(emulator, &segments[2], qualifier.as_deref()) {
            Ok(target) => (segments[2], qualifier) = (target.name, target.qualifier),
            Err(error) => return Some(Err(error)),
        }
    }
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let outcome = match (&method, segments.as_slice()) {
        (&Method::POST, ["2015-03-31", "functions"]) => {
            functions::create(emulator, body(request, "CreateFunction").await).await
        }
        (&Method::GET, ["2015-03-31", "functions"]) => functions::list(emulator, function_version.as_deref()),
        (&Method::GET, ["2015-03-31", "functions", name]) => functions::get(emulator, name, qualifier.as_deref()),
        (&Method::GET, ["2015-03-31", "functions", name, "configuration"]) => {
            functions::configuration(emulator, name, qualifier.as_deref())
        }
        (&Method::DELETE, ["2015-03-31", "functions", name]) => functions::delete(emulator, name, qualifier.as_deref()),
        (&Method::POST, ["2015-03-31", "functions", name, "versions"]) => {
            let name = name.to_string();
            versions::publish(emulator, &name, body(request, "PublishVersion").await).await
        }
        (&Method::GET, ["2015-03-31", "functions", name, "versions"]) => versions::list_versions(emulator, name),
        (&Method::POST, ["2015-03-31", "functions", name, "aliases"]) => {
            let name = name.to_string();
            versions::create_alias(emulator, &name, body(request, "CreateAlias").await)
        }
        (&Method::GET, ["2015-03-31", "functions", name, "aliases"]) => {
            versions::list_aliases(emulator, name, function_version.as_deref())
        }
        (&Method::GET, ["2015-03-31", "functions", name, "aliases", alias]) => {
            versions::get_alias(emulator, name, alias)
        }
        (&Method::PUT, ["2015-03-31", "functions", name, "aliases", alias]) => {
            let (name, alias) = (name.to_string(), alias.to_string());
            versions::update_alias(emulator, &name, &alias, body(request, "UpdateAlias").await)
        }
        (&Method::DELETE, ["2015-03-31", "functions", name, "aliases", alias]) => {
            versions::delete_alias(emulator, name, alias)
        }
        (&Method::PUT, ["2015-03-31", "functions", name, "code"]) => {
            let name = name.to_string();
            functions::update_code(emulator, &name, body(request, "UpdateFunctionCode").await).await
        }
        (&Method::PUT, ["2015-03-31", "functions", name, "configuration"]) => {
            let name = name.to_string();
            functions::update_configuration(emulator, &name, body(request, "UpdateFunctionConfiguration").await).await
        }
        (&Method::GET, ["2017-03-31", "tags", name]) => functions::tags(emulator, name),
        (&Method::POST, ["2017-03-31", "tags", name]) => {
            let name = name.to_string();
            functions::tag(emulator, &name, qualifier.as_deref(), body(request, "TagResource").await)
        }
        (&Method::DELETE, ["2017-03-31", "tags", name]) => {
            let keys = query_parameters(request.uri().query(), "tagKeys");
            functions::untag(emulator, name, qualifier.as_deref(), &keys)
        }
        (&Method::POST, ["2015-03-31", "functions", name, "policy"]) => {
            let name = name.to_string();
            policy::add(emulator, &name, qualifier.as_deref(), body(request, "AddPermission").await)
        }
        (&Method::GET, ["2015-03-31", "functions", name, "policy"]) => {
            policy::get(emulator, name, qualifier.as_deref())
        }
        (&Method::DELETE, ["2015-03-31", "functions", name, "policy", statement_id]) => {
            let revision_id = query_parameter(request.uri().query(), "RevisionId");
            policy::remove(emulator, name, qualifier.as_deref(), statement_id, revision_id.as_deref())
        }
        (&Method::PUT | &Method::POST, ["2019-09-25", "functions", name, "event-invoke-config"]) => {
            let (change, operation) = match method {
                Method::PUT => (Change::Put, "PutFunctionEventInvokeConfig"),
                _ => (Change::Update, "UpdateFunctionEventInvokeConfig"),
            };
            let name = name.to_string();
            let body = body(request, operation).await;
            event_invoke::change(emulator, &name, qualifier.as_deref(), body, change)
        }
        (&Method::GET, ["2019-09-25", "functions", name, "event-invoke-config"]) => {
            event_invoke::get(emulator, name, qualifier.as_deref())
        }
        (&Method::DELETE, ["2019-09-25", "functions", name, "event-invoke-config"]) => {
            event_invoke::delete(emulator, name, qualifier.as_deref())
        }
        (&Method::GET, ["2019-09-25", "functions", name, "event-invoke-config", "list"]) => {
            event_invoke::list(emulator, name)
        }
        (&Method::PUT, ["2017-10-31", "functions", name, "concurrency"]) => {
            let name = name.to_string();
            functions::put_concurrency(
                emulator,
                &name,
                qualifier.as_deref(),
                body(request, "PutFunctionConcurrency").await,
            )
        }
        (&Method::GET, ["2019-09-30", "functions", name, "concurrency"]) => functions::concurrency(emulator, name),
        (&Method::GET, ["2016-08-19", "account-settings"]) => Ok(functions::account_settings(emulator)),
        (&Method::DELETE, ["2017-10-31", "functions", name, "concurrency"]) => {
            functions::delete_concurrency(emulator, name)
        }
        (&Method::POST, ["2018-10-31", "layers", name, "versions"]) => {
            let name = name.to_string();
            layers::publish(emulator, &name, body(request, "PublishLayerVersion").await).await
        }
        (&Method::GET, ["2018-10-31", "layers", name, "versions"]) => {
            layers::list_versions(emulator, name, &compatible)
        }
        (&Method::GET, ["2018-10-31", "layers", name, "versions", number]) => layers::get(emulator, name, number),
        (&Method::DELETE, ["2018-10-31", "layers", name, "versions", number]) => layers::delete(emulator, name, number),
        (&Method::GET, ["2018-10-31", "layers"]) => match query_parameter(request.uri().query(), "find").as_deref() {
            Some("LayerVersion") => {
                let arn = query_parameter(request.uri().query(), "Arn").unwrap_or_default();
                layers::get_by_arn(emulator, &arn)
            }
            _ => Ok(layers::list_layers(emulator, &compatible)),
        },
        _ => return None,
    };
    Some(outcome)
}

/// Every value of a query parameter given more than once (`tagKeys=a&tagKeys=b`).
fn query_parameters(query: Option<&str>, name: &str) -> Vec<String> {
    let pairs = query.unwrap_or_default().split('&').filter_map(|pair| pair.split_once('='));
    pairs
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| percent_decode_str(value).decode_utf8_lossy().into_owned())
        .collect()
}

/// A control-plane request's JSON body (`{}` when it has none); `operation` names it in Lambda's
/// refusal of a body over its limit.
async fn body(request: Request<Incoming>, operation: &str) -> Result<Value, ApiError> {
    let bytes = read_body(request.into_body(), MAX_REQUEST_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            format!("Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation"),
        )
    })?;
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|_| ApiError::invalid("the request body is not JSON"))
}
