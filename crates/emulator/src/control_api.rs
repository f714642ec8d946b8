//! The part of Lambda's control plane a deploy tool needs: CreateFunction, GetFunction,
//! UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction, ListFunctions, ListTags and
//! Put/DeleteFunctionConcurrency, with a zip for the code, as aws-sdk-lambda and boto3 call them.
//! A function created here runs its zip's Python code like any other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::function_target::target;
use super::http::{json_response, query_parameter, read_body, response, HttpResponse};
use super::model::function::{FunctionKind, FunctionSpec};
use super::model::version::{version_name, LATEST};
use super::state::handler::handler_module;
use super::state::registry::RegistryError;
use super::versions_api;
use super::Emulator;
use lambda_executor_protocol::{is_valid_function_name, HEADER_ERROR_TYPE};

/// Lambda takes zips of up to 50 MB in a request (base64 makes them a third larger).
const MAX_REQUEST_BYTES: usize = 70 * 1024 * 1024;

/// What CreateFunction recorded beyond what runs the function.
#[derive(Clone)]
pub struct Deployment {
    pub runtime: String,
    pub role: String,
    pub description: String,
    pub layers: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub code_sha256: String,
    pub code_size: u64,
    pub last_modified: String,
    /// Where the zip was unpacked; removed with the function.
    pub dir: PathBuf,
}

pub struct ControlError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub message: String,
}

impl ControlError {
    pub fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameterValueException", message)
    }

    /// A request that breaks the API model's constraints (Lambda's "1 validation error detected").
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    /// Function not found: `name` may carry a qualifier (`name:7`), as the ARN then does.
    pub fn not_found(emulator: &Emulator, name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Function not found: {}", emulator.function_arn(name)),
        )
    }

    pub fn into_response(self) -> HttpResponse {
        let body = json!({"Type": "User", "message": self.message});
        json_response(self.status, &[(HEADER_ERROR_TYPE, self.error_type)], &body)
    }
}

/// Serves one control-plane request; None if the path is not one of these operations.
pub async fn handle(
    emulator: &Arc<Emulator>,
    request: Request<Incoming>,
) -> Option<Result<HttpResponse, ControlError>> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut segments: Vec<String> =
        path.trim_matches('/').split('/').map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect();
    let mut qualifier = query_parameter(request.uri().query(), "Qualifier");
    let function_version = query_parameter(request.uri().query(), "FunctionVersion");
    // The function a path names (by name or ARN) becomes its bare name here, its qualifier apart.
    if segments.len() >= 3 && (segments[1] == "functions" || segments[1] == "tags") {
        match target(emulator, &segments[2], qualifier.as_deref()) {
            Ok(target) => (segments[2], qualifier) = (target.name, target.qualifier),
            Err(error) => return Some(Err(error)),
        }
    }
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let outcome = match (&method, segments.as_slice()) {
        (&Method::POST, ["2015-03-31", "functions"]) => create(emulator, body(request).await).await,
        (&Method::GET, ["2015-03-31", "functions"]) => Ok(list(emulator)),
        (&Method::GET, ["2015-03-31", "functions", name]) => get(emulator, name, qualifier.as_deref()),
        (&Method::GET, ["2015-03-31", "functions", name, "configuration"]) => {
            configuration(emulator, name, qualifier.as_deref())
        }
        (&Method::DELETE, ["2015-03-31", "functions", name]) => delete(emulator, name, qualifier.as_deref()),
        (&Method::POST, ["2015-03-31", "functions", name, "versions"]) => {
            let name = name.to_string();
            versions_api::publish(emulator, &name, body(request).await).await
        }
        (&Method::GET, ["2015-03-31", "functions", name, "versions"]) => versions_api::list_versions(emulator, name),
        (&Method::POST, ["2015-03-31", "functions", name, "aliases"]) => {
            let name = name.to_string();
            versions_api::create_alias(emulator, &name, body(request).await)
        }
        (&Method::GET, ["2015-03-31", "functions", name, "aliases"]) => {
            versions_api::list_aliases(emulator, name, function_version.as_deref())
        }
        (&Method::GET, ["2015-03-31", "functions", name, "aliases", alias]) => {
            versions_api::get_alias(emulator, name, alias)
        }
        (&Method::PUT, ["2015-03-31", "functions", name, "aliases", alias]) => {
            let (name, alias) = (name.to_string(), alias.to_string());
            versions_api::update_alias(emulator, &name, &alias, body(request).await)
        }
        (&Method::DELETE, ["2015-03-31", "functions", name, "aliases", alias]) => {
            versions_api::delete_alias(emulator, name, alias)
        }
        (&Method::PUT, ["2015-03-31", "functions", name, "code"]) => {
            let name = name.to_string();
            update_code(emulator, &name, body(request).await).await
        }
        (&Method::PUT, ["2015-03-31", "functions", name, "configuration"]) => {
            let name = name.to_string();
            update_configuration(emulator, &name, body(request).await).await
        }
        (&Method::GET, ["2017-03-31", "tags", name]) => tags(emulator, name),
        (&Method::PUT, ["2017-10-31", "functions", name, "concurrency"]) => {
            let name = name.to_string();
            put_concurrency(emulator, &name, body(request).await)
        }
        (&Method::GET, ["2019-09-30", "functions", name, "concurrency"]) => concurrency(emulator, name),
        (&Method::GET, ["2016-08-19", "account-settings"]) => Ok(account_settings(emulator)),
        (&Method::DELETE, ["2017-10-31", "functions", name, "concurrency"]) => emulator
            .set_reserved_concurrency(name, None)
            .map(|()| response(StatusCode::NO_CONTENT, &[], Default::default()))
            .map_err(|e| registry_error(emulator, name, e)),
        _ => return None,
    };
    Some(outcome)
}

async fn body(request: Request<Incoming>) -> Result<Value, ControlError> {
    let bytes = read_body(request.into_body(), MAX_REQUEST_BYTES).await.map_err(|_| {
        ControlError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            "Request must be smaller than 70167211 bytes",
        )
    })?;
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|_| ControlError::invalid("the request body is not JSON"))
}

fn registry_error(emulator: &Emulator, name: &str, error: RegistryError) -> ControlError {
    match error {
        RegistryError::NotFound(_) => ControlError::not_found(emulator, name),
        RegistryError::AlreadyExists(_) => ControlError::new(
            StatusCode::CONFLICT,
            "ResourceConflictException",
            format!("Function already exist: {name}"),
        ),
        other => ControlError::invalid(format!("{other:?}")),
    }
}

async fn create(emulator: &Arc<Emulator>, body: Result<Value, ControlError>) -> Result<HttpResponse, ControlError> {
    let body = body?;
    let name = text(&body, "FunctionName").ok_or_else(|| ControlError::invalid("FunctionName is required"))?;
    if !is_valid_function_name(name) {
        return Err(ControlError::invalid(format!("invalid FunctionName '{name}'")));
    }
    if emulator.exists(name) {
        return Err(registry_error(emulator, name, RegistryError::AlreadyExists(name.to_owned())));
    }
    let runtime = check_runtime(text(&body, "Runtime").unwrap_or("python3.12"))?.to_owned();
    emulator.choose_interpreter(name, &runtime).await;
    let handler = text(&body, "Handler").ok_or_else(|| ControlError::invalid("Handler is required"))?.to_owned();
    let role = check_role(text(&body, "Role").ok_or_else(|| ControlError::invalid("Role is required"))?)?.to_owned();
    let zip = zip_file(body.get("Code"))?;
    let deployment = Deployment {
        runtime,
        role,
        description: text(&body, "Description").unwrap_or_default().to_owned(),
        layers: strings(body.get("Layers")),
        tags: string_map(body.get("Tags")),
        architectures: Some(strings(body.get("Architectures")))
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| vec!["x86_64".into()]),
        code_sha256: String::new(),
        code_size: 0,
        last_modified: String::new(),
        dir: PathBuf::new(),
    };
    let deployment = unpack(emulator, name, &handler, &zip, deployment).await?;
    let spec = FunctionSpec {
        name: name.to_owned(),
        kind: FunctionKind::Python {
            handler,
            code_dir: deployment.dir.clone(),
            variables: string_map(body.get("Environment").and_then(|e| e.get("Variables"))).into_iter().collect(),
        },
        timeout: Duration::from_secs(number(&body, "Timeout", 3, 1..=900)?),
        memory_mb: number(&body, "MemorySize", 128, 128..=10240)? as u32,
    };
    emulator.add_function(spec, None).map_err(|e| registry_error(emulator, name, e))?;
    emulator.deployments().insert(name.to_owned(), deployment);
    Ok(json_response(StatusCode::CREATED, &[], &configuration_of(emulator, name)?))
}

async fn update_code(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ControlError>,
) -> Result<HttpResponse, ControlError> {
    let zip = zip_file(Some(&body?))?;
    let spec = emulator.spec(name).map_err(|e| registry_error(emulator, name, e))?;
    let FunctionKind::Python { handler, variables, .. } = &spec.kind else {
        return Err(ControlError::invalid(format!("{name} is synthetic: it has no code to update")));
    };
    let previous = emulator.deployment(name);
    let deployment = unpack(emulator, name, handler, &zip, previous.clone()).await?;
    let kind = FunctionKind::Python {
        handler: handler.clone(),
        code_dir: deployment.dir.clone(),
        variables: variables.clone(),
    };
    emulator
        .replace_function(FunctionSpec {
            name: name.to_owned(),
            kind,
            timeout: spec.timeout,
            memory_mb: spec.memory_mb,
        })
        .map_err(|e| registry_error(emulator, name, e))?;
    emulator.deployments().insert(name.to_owned(), deployment);
    remove_unpacked(&previous.dir);
    Ok(json_response(StatusCode::OK, &[], &configuration_of(emulator, name)?))
}

async fn update_configuration(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ControlError>,
) -> Result<HttpResponse, ControlError> {
    let body = body?;
    let spec = emulator.spec(name).map_err(|e| registry_error(emulator, name, e))?;
    let role = text(&body, "Role").map(check_role).transpose()?;
    let runtime = text(&body, "Runtime").map(check_runtime).transpose()?;
    if let Some(runtime) = runtime {
        emulator.choose_interpreter(name, runtime).await;
    }
    let kind = match &spec.kind {
        FunctionKind::Python { handler, code_dir, variables } => FunctionKind::Python {
            handler: text(&body, "Handler").unwrap_or(handler).to_owned(),
            code_dir: code_dir.clone(),
            variables: match body.get("Environment") {
                Some(environment) => string_map(environment.get("Variables")).into_iter().collect(),
                None => variables.clone(),
            },
        },
        FunctionKind::Synthetic { latency } => FunctionKind::Synthetic { latency: *latency },
    };
    let timeout = Duration::from_secs(number(&body, "Timeout", spec.timeout.as_secs(), 1..=900)?);
    let memory_mb = number(&body, "MemorySize", u64::from(spec.memory_mb), 128..=10240)? as u32;
    emulator
        .replace_function(FunctionSpec { name: name.to_owned(), kind, timeout, memory_mb })
        .map_err(|e| registry_error(emulator, name, e))?;
    let mut deployments = emulator.deployments();
    let deployment = deployments.entry(name.to_owned()).or_insert_with(default_deployment);
    if let Some(role) = role {
        deployment.role = role.to_owned();
    }
    if let Some(runtime) = runtime {
        deployment.runtime = runtime.to_owned();
    }
    if let Some(description) = text(&body, "Description") {
        deployment.description = description.to_owned();
    }
    if body.get("Layers").is_some() {
        deployment.layers = strings(body.get("Layers"));
    }
    deployment.last_modified = now_iso8601();
    drop(deployments);
    Ok(json_response(StatusCode::OK, &[], &configuration_of(emulator, name)?))
}

/// DeleteFunction: the function with all its versions, or with a qualifier one version.
fn delete(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ControlError> {
    match qualifier {
        None => emulator.remove_function(name).map_err(|e| registry_error(emulator, name, e))?,
        Some(LATEST) => {
            return Err(ControlError::invalid("$LATEST version cannot be deleted without deleting the function."))
        }
        Some(qualifier) => match qualifier.parse() {
            Ok(number) if emulator.exists(name) => emulator.delete_version(name, number)?,
            _ => return Err(ControlError::not_found(emulator, &format!("{name}:{qualifier}"))),
        },
    }
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}

fn get(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ControlError> {
    let (spec, deployment, version) = emulator.version_record(name, qualifier)?;
    let mut body = json!({
        "Configuration": configuration_document(emulator, &spec, &deployment, version, qualifier),
        "Code": {"RepositoryType": "S3", "Location": format!("file://{}", deployment.dir.display())},
        "Tags": emulator.deployment(name).tags,
    });
    if let Some(reserved) = emulator.reserved_concurrency(name).map_err(|e| registry_error(emulator, name, e))? {
        body["Concurrency"] = json!({"ReservedConcurrentExecutions": reserved});
    }
    Ok(json_response(StatusCode::OK, &[], &body))
}

fn configuration(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ControlError> {
    let (spec, deployment, version) = emulator.version_record(name, qualifier)?;
    let body = configuration_document(emulator, &spec, &deployment, version, qualifier);
    Ok(json_response(StatusCode::OK, &[], &body))
}

fn list(emulator: &Arc<Emulator>) -> HttpResponse {
    let functions: Vec<Value> =
        emulator.function_names().iter().filter_map(|name| configuration_of(emulator, name).ok()).collect();
    json_response(StatusCode::OK, &[], &json!({"Functions": functions}))
}

fn tags(emulator: &Arc<Emulator>, name: &str) -> Result<HttpResponse, ControlError> {
    if !emulator.exists(name) {
        return Err(ControlError::not_found(emulator, name));
    }
    let tags = emulator.deployments().get(name).map(|d| d.tags.clone()).unwrap_or_default();
    Ok(json_response(StatusCode::OK, &[], &json!({"Tags": tags})))
}

/// GetFunctionConcurrency: the reservation, or an empty object without one.
fn concurrency(emulator: &Arc<Emulator>, name: &str) -> Result<HttpResponse, ControlError> {
    let body = match emulator.reserved_concurrency(name).map_err(|e| registry_error(emulator, name, e))? {
        Some(reserved) => json!({"ReservedConcurrentExecutions": reserved}),
        None => json!({}),
    };
    Ok(json_response(StatusCode::OK, &[], &body))
}

/// GetAccountSettings: the concurrency LocalLambda applies; the code-size limits are Lambda's
/// default quotas, and code size in use is not tracked (0).
fn account_settings(emulator: &Arc<Emulator>) -> HttpResponse {
    let (limit, unreserved) = emulator.account_concurrency();
    let body = json!({
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800_u64,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": unreserved,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": emulator.function_names().len()},
    });
    json_response(StatusCode::OK, &[], &body)
}

fn put_concurrency(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ControlError>,
) -> Result<HttpResponse, ControlError> {
    let body = body?;
    let reserved = body
        .get("ReservedConcurrentExecutions")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| ControlError::invalid("ReservedConcurrentExecutions must be a whole number"))?;
    emulator.set_reserved_concurrency(name, Some(reserved)).map_err(|e| match e {
        RegistryError::OverAccountLimit { .. } => ControlError::invalid(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value",
        ),
        other => registry_error(emulator, name, other),
    })?;
    Ok(json_response(StatusCode::OK, &[], &json!({"ReservedConcurrentExecutions": reserved})))
}

/// The function's FunctionConfiguration document ($LATEST's).
fn configuration_of(emulator: &Arc<Emulator>, name: &str) -> Result<Value, ControlError> {
    let spec = emulator.spec(name).map_err(|e| registry_error(emulator, name, e))?;
    Ok(configuration_document(emulator, &spec, &emulator.deployment(name), None, None))
}

/// The FunctionConfiguration document of $LATEST or of published version `version`; its ARN
/// carries `arn_qualifier` if given.
pub fn configuration_document(
    emulator: &Emulator,
    spec: &FunctionSpec,
    deployment: &Deployment,
    version: Option<u32>,
    arn_qualifier: Option<&str>,
) -> Value {
    let name = &spec.name;
    let mut arn = emulator.function_arn(name);
    if let Some(qualifier) = arn_qualifier {
        arn = format!("{arn}:{qualifier}");
    }
    let (handler, variables) = match &spec.kind {
        FunctionKind::Python { handler, variables, .. } => {
            (handler.clone(), variables.iter().cloned().collect::<BTreeMap<_, _>>())
        }
        FunctionKind::Synthetic { .. } => ("synthetic".to_owned(), BTreeMap::new()),
    };
    json!({
        "FunctionName": name,
        "FunctionArn": arn,
        "Runtime": deployment.runtime,
        "Role": deployment.role,
        "Handler": handler,
        "CodeSize": deployment.code_size,
        "Description": deployment.description,
        "Timeout": spec.timeout.as_secs(),
        "MemorySize": spec.memory_mb,
        "LastModified": deployment.last_modified,
        "CodeSha256": deployment.code_sha256,
        "Version": version_name(version),
        "Environment": {"Variables": variables},
        "Layers": deployment.layers.iter().map(|arn| json!({"Arn": arn, "CodeSize": 0})).collect::<Vec<_>>(),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": deployment.architectures,
    })
}

/// Python runtimes Lambda no longer lets a function be created or updated with.
const BLOCKED_RUNTIMES: [&str; 4] = ["python2.7", "python3.6", "python3.7", "python3.8"];
/// The Python runtimes Lambda runs (see interpreters.rs for the Python that serves each).
const PYTHON_RUNTIMES: [&str; 6] = ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"];

/// A runtime Lambda accepts and LocalLambda runs, or Lambda's refusal (LocalLambda's own for
/// other languages).
fn check_runtime(runtime: &str) -> Result<&str, ControlError> {
    if BLOCKED_RUNTIMES.contains(&runtime) {
        return Err(ControlError::invalid(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. \
             We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    if !PYTHON_RUNTIMES.contains(&runtime) {
        return Err(ControlError::invalid(format!(
            "LocalLambda runs the Python runtimes {} only, not {runtime}",
            PYTHON_RUNTIMES.join(", ")
        )));
    }
    Ok(runtime)
}

/// A role ARN as Lambda's model requires it: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
fn check_role(role: &str) -> Result<&str, ControlError> {
    let name_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c);
    let valid =
        role.strip_prefix("arn:").and_then(|rest| rest.split_once(":iam::")).is_some_and(|(partition, rest)| {
            let partition_ok = partition.is_empty()
                || partition
                    .strip_prefix("aws")
                    .is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic() || c == '-'));
            let account_ok = rest.len() > 12 && rest.as_bytes()[..12].iter().all(u8::is_ascii_digit);
            let role_name = rest.get(12..).and_then(|r| r.strip_prefix(":role")).unwrap_or("");
            partition_ok && account_ok && !role_name.is_empty() && role_name.chars().all(name_char)
        });
    if !valid {
        return Err(ControlError::validation(format!(
            "1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
        )));
    }
    Ok(role)
}

impl Emulator {
    /// What the control plane recorded of $LATEST (defaults for a function added from Python).
    pub(crate) fn deployment(&self, name: &str) -> Deployment {
        self.deployments().get(name).cloned().unwrap_or_else(default_deployment)
    }
}

fn default_deployment() -> Deployment {
    Deployment {
        runtime: "python3.12".into(),
        role: "arn:aws:iam::000000000000:role/local-lambda".into(),
        description: String::new(),
        layers: Vec::new(),
        tags: BTreeMap::new(),
        architectures: vec!["x86_64".into()],
        code_sha256: String::new(),
        code_size: 0,
        last_modified: now_iso8601(),
        dir: PathBuf::new(),
    }
}

/// Unpacks `zip` into a folder of its own (Python's zipfile, which keeps paths inside it) and
/// checks the handler's module is there.
async fn unpack(
    emulator: &Emulator,
    name: &str,
    handler: &str,
    zip: &[u8],
    mut deployment: Deployment,
) -> Result<Deployment, ControlError> {
    let dir =
        std::env::temp_dir().join(format!("lambda-executor-{}-{name}-{}", std::process::id(), uuid::Uuid::new_v4()));
    let archive = dir.with_extension("zip");
    let failed = |why: String| ControlError::invalid(format!("Could not unzip uploaded file: {why}"));
    std::fs::write(&archive, zip).map_err(|e| failed(e.to_string()))?;
    let output = tokio::process::Command::new(&emulator.config.python)
        .args(["-m", "zipfile", "-e"])
        .arg(&archive)
        .arg(&dir)
        .output()
        .await;
    let _ = std::fs::remove_file(&archive);
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            remove_unpacked(&dir);
            return Err(failed(String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("").to_owned()));
        }
        Err(error) => return Err(failed(error.to_string())),
    }
    if let Err(why) = handler_module(handler, &dir) {
        remove_unpacked(&dir);
        return Err(ControlError::invalid(why.to_string()));
    }
    deployment.code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip));
    deployment.code_size = zip.len() as u64;
    deployment.last_modified = now_iso8601();
    deployment.dir = dir;
    Ok(deployment)
}

pub fn remove_unpacked(dir: &Path) {
    if !dir.as_os_str().is_empty() && dir.starts_with(std::env::temp_dir()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn zip_file(code: Option<&Value>) -> Result<Vec<u8>, ControlError> {
    let encoded = code.and_then(|code| code.get("ZipFile")).and_then(Value::as_str).ok_or_else(|| {
        ControlError::invalid("LocalLambda takes code as Code.ZipFile (S3 and images are not supported)")
    })?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| ControlError::invalid("ZipFile is not base64"))
}

fn text<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str)
}

fn number(
    body: &Value,
    field: &str,
    default: u64,
    allowed: std::ops::RangeInclusive<u64>,
) -> Result<u64, ControlError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_u64()
            .filter(|n| allowed.contains(n))
            .ok_or_else(|| ControlError::invalid(format!("{field} must be {} to {}", allowed.start(), allowed.end()))),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| map.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
        .unwrap_or_default()
}

/// Now, as Lambda writes LastModified: 2024-05-01T12:34:56.789+0000.
fn now_iso8601() -> String {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, seconds) = (since_epoch.as_secs() / 86_400, since_epoch.as_secs() % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}+0000",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60,
        since_epoch.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_is_lambdas_format() {
        let now = now_iso8601();
        assert_eq!(now.len(), "2024-05-01T12:34:56.789+0000".len());
        assert!(now.starts_with("20") && now.ends_with("+0000") && &now[10..11] == "T", "{now}");
    }
}
