//! The functions' part of Lambda's control plane a deploy tool needs: CreateFunction, GetFunction,
//! GetFunctionConfiguration, UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction,
//! ListFunctions, ListTags, TagResource, UntagResource, Put/Get/DeleteFunctionConcurrency and GetAccountSettings, with a zip
//! for the code (in the request, or an object of the emulator's S3 endpoint) and layers, as
//! aws-sdk-lambda and boto3 call them (routes.rs routes them here). A function created here runs
//! its zip's Python code like any other, with its layers' files as its /opt.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hyper::StatusCode;
use serde_json::{json, Value};

use super::configuration::configuration_document;
use super::error::ApiError;
use super::target::creation_name;
use super::versions::{published_configuration, version_documents};
use crate::http::{json_response, response, HttpResponse};
use crate::model::clock::{days_since_epoch, today};
use crate::model::code::CodeSource;
use crate::model::function::{FunctionKind, FunctionSpec};
use crate::model::layer::LayerVersion;
use crate::model::version::LATEST;
use crate::service::emulator::Emulator;
use crate::service::versions::VersionError;
use crate::state::code_store::{
    check_combined_size, default_deployment, new_revision_id, now_iso8601, remove_unpacked, unpack, Deployment,
};
use crate::state::registry::RegistryError;

/// What a registry error means to a control-plane operation on `name`.
fn registry_error(emulator: &Emulator, name: &str, error: RegistryError) -> ApiError {
    match error {
        RegistryError::NotFound(_) => ApiError::not_found(emulator, name),
        RegistryError::AlreadyExists(_) => {
            ApiError::new(StatusCode::CONFLICT, "ResourceConflictException", format!("Function already exist: {name}"))
        }
        other => ApiError::invalid(format!("{other:?}")),
    }
}

pub async fn create(emulator: &Arc<Emulator>, body: Result<Value, ApiError>) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let reference = text(&body, "FunctionName").ok_or_else(|| ApiError::invalid("FunctionName is required"))?;
    let name = creation_name(emulator, reference)?;
    if emulator.exists(name) {
        return Err(registry_error(emulator, name, RegistryError::AlreadyExists(name.to_owned())));
    }
    let runtime =
        check_runtime(text(&body, "Runtime").unwrap_or("python3.12"), RuntimeUse::Create, today())?.to_owned();
    emulator.choose_interpreter(name, &runtime).await;
    let handler = text(&body, "Handler").ok_or_else(|| ApiError::invalid("Handler is required"))?.to_owned();
    let role = check_role(text(&body, "Role").ok_or_else(|| ApiError::invalid("Role is required"))?)?.to_owned();
    let timeout = Duration::from_secs(number(&body, "Timeout", 3, 1..=900)?);
    let memory_mb = number(&body, "MemorySize", 128, 128..=10240)? as u32;
    let variables = environment_variables(&body)?.unwrap_or_default();
    let architectures = check_architectures(body.get("Architectures"))?;
    let layers = function_layers(emulator, body.get("Layers"))?;
    let source = code_source(body.get("Code"))?;
    let zip = emulator.code_bytes(source).await.map_err(|error| ApiError::invalid(error.0))?;
    let deployment = Deployment {
        runtime,
        role,
        description: text(&body, "Description").unwrap_or_default().to_owned(),
        layers: emulator.layer_references(&layers),
        tags: string_map(body.get("Tags")),
        architectures,
        code_sha256: String::new(),
        code_size: 0,
        unzipped_size: 0,
        last_modified: String::new(),
        revision_id: String::new(),
        dir: PathBuf::new(),
        opt_dir: None,
        policies: BTreeMap::new(),
        event_invoke_configs: BTreeMap::new(),
    };
    let mut deployment = unpack(&emulator.config.python, name, &zip, deployment).await.map_err(ApiError::invalid)?;
    deployment.opt_dir = match emulator.compose_function_layers(&layers).await {
        Ok(opt_dir) => opt_dir,
        Err(error) => {
            deployment.remove_files();
            return Err(layers_not_composed(name, &error));
        }
    };
    let spec = FunctionSpec {
        name: name.to_owned(),
        kind: FunctionKind::Python {
            handler,
            code_dir: deployment.dir.clone(),
            variables: variables.into_iter().collect(),
            opt_dir: deployment.opt_dir.clone(),
        },
        timeout,
        memory_mb,
    };
    if let Err(error) = emulator.add_function(spec, None) {
        deployment.remove_files();
        return Err(registry_error(emulator, name, error));
    }
    emulator.deployments().insert(name.to_owned(), deployment);
    if publishes(&body) {
        // As recorded (LocalStack's test_publish_version_on_create): version 1's configuration
        // under the function's unqualified ARN.
        let document = published_configuration(emulator, name, None, None, false).await?;
        return Ok(json_response(StatusCode::CREATED, &[], &in_progress(emulator, name, document, Step::Creating)));
    }
    let document = in_progress(emulator, name, configuration_of(emulator, name)?, Step::Creating);
    Ok(json_response(StatusCode::CREATED, &[], &document))
}

/// What a create or an update answers with: its change still being applied.
enum Step {
    /// A new function or version: State Pending.
    Creating,
    /// A change to $LATEST: LastUpdateStatus InProgress.
    Updating,
}

/// The answer to a create or an update shows the change still being applied, with AWS's reasons
/// (as recorded in LocalStack's test_function_lifecycle, test_publish_version_on_create and
/// test_publish_with_update). LocalLambda has applied it already: every later read shows it done
/// (Active, Successful) under a new RevisionId, as AWS's reads do once the step ends, so boto3's
/// waiters see it done at their first look.
fn in_progress(emulator: &Emulator, name: &str, mut document: Value, step: Step) -> Value {
    let ([status, reason, code], value) = match step {
        Step::Creating => {
            if let Some(fields) = document.as_object_mut() {
                fields.remove("LastUpdateStatus");
            }
            (["State", "StateReason", "StateReasonCode"], "Pending")
        }
        Step::Updating => (["LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"], "InProgress"),
    };
    document[status] = json!(value);
    document[reason] = json!("The function is being created.");
    document[code] = json!("Creating");
    if let Some(latest) = emulator.deployments().get_mut(name) {
        latest.revision_id = new_revision_id();
    }
    document
}

/// Whether a CreateFunction or UpdateFunctionCode asks to publish a version of the result.
fn publishes(body: &Value) -> bool {
    body.get("Publish").and_then(Value::as_bool).unwrap_or(false)
}

pub async fn update_code(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let source = code_source(Some(&body))?;
    let spec = emulator.spec(name).map_err(|e| registry_error(emulator, name, e))?;
    ApiError::check_revision(&body, &emulator.deployment(name).revision_id)?;
    let FunctionKind::Python { handler, variables, opt_dir, .. } = &spec.kind else {
        return Err(ApiError::invalid(format!("{name} is synthetic: it has no code to update")));
    };
    let zip = emulator.code_bytes(source).await.map_err(|error| ApiError::invalid(error.0))?;
    let previous = emulator.deployment(name);
    let deployment = unpack(&emulator.config.python, name, &zip, previous.clone()).await.map_err(ApiError::invalid)?;
    let kind = FunctionKind::Python {
        handler: handler.clone(),
        code_dir: deployment.dir.clone(),
        variables: variables.clone(),
        opt_dir: opt_dir.clone(),
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
    if publishes(&body) {
        // As recorded (LocalStack's test_publish_with_update): the new version's configuration.
        let document = published_configuration(emulator, name, None, None, true).await?;
        return Ok(json_response(StatusCode::OK, &[], &in_progress(emulator, name, document, Step::Creating)));
    }
    let document = in_progress(emulator, name, configuration_of(emulator, name)?, Step::Updating);
    Ok(json_response(StatusCode::OK, &[], &document))
}

pub async fn update_configuration(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let spec = emulator.spec(name).map_err(|e| registry_error(emulator, name, e))?;
    ApiError::check_revision(&body, &emulator.deployment(name).revision_id)?;
    let role = text(&body, "Role").map(check_role).transpose()?;
    let runtime = text(&body, "Runtime").map(|r| check_runtime(r, RuntimeUse::Update, today())).transpose()?;
    if let Some(runtime) = runtime {
        emulator.choose_interpreter(name, runtime).await;
    }
    let timeout = Duration::from_secs(number(&body, "Timeout", spec.timeout.as_secs(), 1..=900)?);
    let memory_mb = number(&body, "MemorySize", u64::from(spec.memory_mb), 128..=10240)? as u32;
    let new_variables = environment_variables(&body)?;
    // New layers: checked, their files and the code's within the limit, then composed anew.
    let new_layers = match body.get("Layers") {
        Some(value) => {
            let layers = function_layers(emulator, Some(value))?;
            let references = emulator.layer_references(&layers);
            let layers_size: u64 = references.iter().map(|layer| layer.unzipped_size).sum();
            check_combined_size(emulator.deployment(name).unzipped_size, layers_size).map_err(ApiError::invalid)?;
            let opt_dir =
                emulator.compose_function_layers(&layers).await.map_err(|error| layers_not_composed(name, &error))?;
            Some((references, opt_dir))
        }
        None => None,
    };
    let kind = match &spec.kind {
        FunctionKind::Python { handler, code_dir, variables, opt_dir } => FunctionKind::Python {
            handler: text(&body, "Handler").unwrap_or(handler).to_owned(),
            code_dir: code_dir.clone(),
            variables: match new_variables {
                Some(new_variables) => new_variables.into_iter().collect(),
                None => variables.clone(),
            },
            opt_dir: match &new_layers {
                Some((_, new_opt_dir)) => new_opt_dir.clone(),
                None => opt_dir.clone(),
            },
        },
        synthetic @ FunctionKind::Synthetic { .. } => synthetic.clone(),
    };
    if let Err(error) = emulator.replace_function(FunctionSpec { name: name.to_owned(), kind, timeout, memory_mb }) {
        if let Some(opt_dir) = new_layers.and_then(|(_, opt_dir)| opt_dir) {
            remove_unpacked(&opt_dir);
        }
        return Err(registry_error(emulator, name, error));
    }
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
    if let Some((references, opt_dir)) = new_layers {
        deployment.layers = references;
        if let Some(previous) = std::mem::replace(&mut deployment.opt_dir, opt_dir) {
            remove_unpacked(&previous);
        }
    }
    deployment.last_modified = now_iso8601();
    deployment.revision_id = new_revision_id();
    drop(deployments);
    let document = in_progress(emulator, name, configuration_of(emulator, name)?, Step::Updating);
    Ok(json_response(StatusCode::OK, &[], &document))
}

/// DeleteFunction: the function with all its versions, or with a qualifier one version. A
/// version that is not there is as good as deleted; a function that is not there is not found,
/// named without the qualifier (LocalStack's test_delete_on_nonexisting_version).
pub fn delete(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ApiError> {
    match qualifier {
        None => emulator.remove_function(name).map_err(|e| registry_error(emulator, name, e))?,
        Some(_) if !emulator.exists(name) => return Err(ApiError::not_found(emulator, name)),
        Some(LATEST) => {
            return Err(ApiError::invalid("$LATEST version cannot be deleted without deleting the function."))
        }
        Some(qualifier) => match qualifier.parse() {
            Ok(number) => match emulator.delete_version(name, number) {
                Ok(()) | Err(VersionError::NotFound(_)) => {}
                Err(error) => return Err(ApiError::from_version(emulator, error)),
            },
            Err(_) => return Err(ApiError::not_found(emulator, &format!("{name}:{qualifier}"))),
        },
    }
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}

pub fn get(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ApiError> {
    let (spec, deployment, version) =
        emulator.version_record(name, qualifier).map_err(|e| ApiError::from_version(emulator, e))?;
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

pub fn configuration(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ApiError> {
    let (spec, deployment, version) =
        emulator.version_record(name, qualifier).map_err(|e| ApiError::from_version(emulator, e))?;
    let body = configuration_document(emulator, &spec, &deployment, version, qualifier);
    Ok(json_response(StatusCode::OK, &[], &body))
}

/// ListFunctions: each function's $LATEST, or with `FunctionVersion=ALL` its published versions
/// too, each under its qualified ARN (LocalStack's test_list_functions).
pub fn list(emulator: &Arc<Emulator>, function_version: Option<&str>) -> Result<HttpResponse, ApiError> {
    let names = emulator.function_names();
    let functions: Vec<Value> = match function_version {
        None => names.iter().filter_map(|name| configuration_of(emulator, name).ok()).collect(),
        Some("ALL") => names.iter().filter_map(|name| version_documents(emulator, name)).flatten().collect(),
        Some(other) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'functionVersion' failed to satisfy constraint: \
                 Member must satisfy enum value set: [ALL]"
            )))
        }
    };
    Ok(json_response(StatusCode::OK, &[], &json!({"Functions": functions})))
}

pub fn tags(emulator: &Arc<Emulator>, name: &str) -> Result<HttpResponse, ApiError> {
    if !emulator.exists(name) {
        return Err(ApiError::not_found(emulator, name));
    }
    let tags = emulator.deployments().get(name).map(|d| d.tags.clone()).unwrap_or_default();
    Ok(json_response(StatusCode::OK, &[], &json!({"Tags": tags})))
}

/// Tags belong to the function: a version's or alias's ARN is refused (LocalStack's test_tag_versions).
fn tagged_function(emulator: &Emulator, name: &str, qualifier: Option<&str>) -> Result<(), ApiError> {
    if qualifier.is_some() {
        return Err(ApiError::invalid(
            "Tags on function aliases and versions are not supported. Please specify a function ARN.",
        ));
    }
    if !emulator.exists(name) {
        return Err(ApiError::not_found(emulator, name));
    }
    Ok(())
}

/// TagResource: 204, the tags given added to the function's (a key given again takes its new value).
pub fn tag(
    emulator: &Arc<Emulator>,
    name: &str,
    qualifier: Option<&str>,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    tagged_function(emulator, name, qualifier)?;
    let mut deployments = emulator.deployments();
    let deployment = deployments.entry(name.to_owned()).or_insert_with(default_deployment);
    deployment.tags.extend(string_map(body.get("Tags")));
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}

/// UntagResource: 204, the keys given removed (a key the function has not is no error).
pub fn untag(
    emulator: &Arc<Emulator>,
    name: &str,
    qualifier: Option<&str>,
    keys: &[String],
) -> Result<HttpResponse, ApiError> {
    tagged_function(emulator, name, qualifier)?;
    let mut deployments = emulator.deployments();
    let deployment = deployments.entry(name.to_owned()).or_insert_with(default_deployment);
    deployment.tags.retain(|key, _| !keys.contains(key));
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}

/// GetFunctionConcurrency: the reservation, or an empty object without one.
pub fn concurrency(emulator: &Arc<Emulator>, name: &str) -> Result<HttpResponse, ApiError> {
    let body = match emulator.reserved_concurrency(name).map_err(|e| registry_error(emulator, name, e))? {
        Some(reserved) => json!({"ReservedConcurrentExecutions": reserved}),
        None => json!({}),
    };
    Ok(json_response(StatusCode::OK, &[], &body))
}

/// GetAccountSettings: the concurrency LocalLambda applies; the code-size limits are Lambda's
/// default quotas, and code size in use is not tracked (0).
pub fn account_settings(emulator: &Arc<Emulator>) -> HttpResponse {
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

/// The concurrency a reservation by PutFunctionConcurrency must leave unreserved: AWS's 100
/// (LocalStack's LAMBDA_LIMITS_MINIMUM_UNRESERVED_CONCURRENCY defaults to it).
const MIN_UNRESERVED_CONCURRENCY: u32 = 100;

pub fn put_concurrency(
    emulator: &Arc<Emulator>,
    name: &str,
    qualifier: Option<&str>,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    if qualifier.is_some() {
        // LocalStack's test_function_concurrency_exceptions (put_function_concurrency_with_qualified_arn).
        return Err(ApiError::invalid(
            "This operation is permitted on Lambda functions only. Aliases and versions do not support this \
             operation. Please specify either a function name or an unqualified function ARN.",
        ));
    }
    let reserved = body
        .get("ReservedConcurrentExecutions")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| ApiError::invalid("ReservedConcurrentExecutions must be a whole number"))?;
    let refusal = |error| match error {
        // Named as $LATEST (LocalStack's test_function_concurrency_exceptions).
        RegistryError::NotFound(_) => ApiError::not_found(emulator, &format!("{name}:{LATEST}")),
        other => registry_error(emulator, name, other),
    };
    let current = emulator.reserved_concurrency(name).map_err(refusal)?.unwrap_or(0);
    let (_, unreserved) = emulator.account_concurrency();
    // AWS keeps 100 of the account's concurrency unreserved, and says so in these words whether
    // the reservation exceeds the account's limit or only the unreserved part (recorded:
    // TestLambdaReservedConcurrency::test_function_concurrency_limits).
    if reserved > current && (unreserved + current).saturating_sub(reserved) < MIN_UNRESERVED_CONCURRENCY {
        return Err(ApiError::invalid(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution \
             below its minimum value of [{MIN_UNRESERVED_CONCURRENCY}]."
        )));
    }
    emulator.set_reserved_concurrency(name, Some(reserved)).map_err(refusal)?;
    Ok(json_response(StatusCode::OK, &[], &json!({"ReservedConcurrentExecutions": reserved})))
}

/// DeleteFunctionConcurrency: the function shares what the account leaves unreserved again.
pub fn delete_concurrency(emulator: &Arc<Emulator>, name: &str) -> Result<HttpResponse, ApiError> {
    emulator
        .set_reserved_concurrency(name, None)
        .map(|()| response(StatusCode::NO_CONTENT, &[], Default::default()))
        .map_err(|e| registry_error(emulator, name, e))
}

/// The function's FunctionConfiguration document ($LATEST's).
fn configuration_of(emulator: &Arc<Emulator>, name: &str) -> Result<Value, ApiError> {
    let spec = emulator.spec(name).map_err(|e| registry_error(emulator, name, e))?;
    Ok(configuration_document(emulator, &spec, &emulator.deployment(name), None, None))
}

/// Whether a runtime is named to create a function or to update one: Lambda blocks the two from
/// different dates.
#[derive(Clone, Copy)]
enum RuntimeUse {
    Create,
    Update,
}

/// AWS's table of the Python runtimes' block dates (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html,
/// as cfn-lint's LmbdRuntimeLifecycle.json copied it in June 2026): from the first date no function
/// can be created with the runtime, from the second none updated to it. AWS has moved these dates
/// before (python3.8's were 2025-02-28 and 2025-03-31 until 2026), so they are data, not logic.
const PYTHON_RUNTIME_BLOCKS: [(&str, i64, i64); 10] = [
    ("python2.7", days_since_epoch(2021, 7, 15), days_since_epoch(2022, 5, 30)),
    ("python3.6", days_since_epoch(2022, 7, 18), days_since_epoch(2022, 8, 29)),
    ("python3.7", days_since_epoch(2024, 1, 9), days_since_epoch(2027, 3, 3)),
    ("python3.8", days_since_epoch(2027, 2, 1), days_since_epoch(2027, 3, 3)),
    ("python3.9", days_since_epoch(2027, 2, 1), days_since_epoch(2027, 3, 3)),
    ("python3.10", days_since_epoch(2027, 2, 1), days_since_epoch(2027, 3, 3)),
    ("python3.11", days_since_epoch(2027, 7, 31), days_since_epoch(2027, 8, 31)),
    ("python3.12", days_since_epoch(2028, 11, 30), days_since_epoch(2029, 1, 10)),
    ("python3.13", days_since_epoch(2029, 7, 31), days_since_epoch(2029, 8, 31)),
    ("python3.14", days_since_epoch(2029, 7, 31), days_since_epoch(2029, 8, 31)),
];
/// The Runtime values Lambda takes, in the order its refusal lists them (recorded 12 January 2026:
/// LocalStack's test_create_lambda_exceptions, invalid_runtime_exc).
const LAMBDA_RUNTIMES: &str = "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, \
    nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, \
    nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2";

/// A runtime Lambda accepts on `day` (days since 1970-01-01) for `usage` and LocalLambda runs, or
/// Lambda's refusal (LocalLambda's own for other languages).
fn check_runtime(runtime: &str, usage: RuntimeUse, day: i64) -> Result<&str, ApiError> {
    let blocks = PYTHON_RUNTIME_BLOCKS.iter().find(|(name, ..)| *name == runtime);
    if let Some((_, create_blocked, update_blocked)) = blocks {
        let blocked_from = match usage {
            RuntimeUse::Create => create_blocked,
            RuntimeUse::Update => update_blocked,
        };
        if day >= *blocked_from {
            return Err(ApiError::invalid(format!(
                "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda \
                 functions. We recommend you use a supported runtime while creating or updating functions."
            )));
        }
    }
    if !LAMBDA_RUNTIMES.split(", ").any(|known| known == runtime) {
        return Err(ApiError::invalid(format!(
            "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \
             [{LAMBDA_RUNTIMES}] or be a valid ARN"
        )));
    }
    if blocks.is_none() {
        let enumerated = |name: &&str| LAMBDA_RUNTIMES.split(", ").any(|known| known == *name);
        let python: Vec<&str> = PYTHON_RUNTIME_BLOCKS.iter().map(|(name, ..)| *name).filter(enumerated).collect();
        return Err(ApiError::invalid(format!(
            "LocalLambda runs the Python runtimes {} only, not {runtime}",
            python.join(", ")
        )));
    }
    Ok(runtime)
}

/// A role ARN as Lambda's model requires it: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
fn check_role(role: &str) -> Result<&str, ApiError> {
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
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
        )));
    }
    Ok(role)
}

/// Lambda's limit on a function's environment variables, measured as their JSON.
const MAX_VARIABLES_BYTES: usize = 4096;

/// The `Environment.Variables` a CreateFunction or UpdateFunctionConfiguration sets (None if it
/// sets no Environment), within Lambda's limit (its words: LocalStack's
/// test_large_environment_variables_fails).
fn environment_variables(body: &Value) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let Some(environment) = body.get("Environment") else { return Ok(None) };
    let variables = string_map(environment.get("Variables"));
    let measured = serde_json::to_string(&variables).unwrap_or_default();
    if measured.len() > MAX_VARIABLES_BYTES {
        return Err(ApiError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you \
             have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(Some(variables))
}

/// A function's `Architectures`: one of Lambda's two (x86_64 without any), refused in Lambda's
/// words otherwise (LocalStack's test_create_lambda_exceptions).
fn check_architectures(value: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let architectures = strings(value);
    let shown = format!("[{}]", architectures.join(", "));
    if architectures.len() > 1 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{shown}' at 'architectures' failed to satisfy constraint: Member \
             must have length less than or equal to 1"
        )));
    }
    match architectures.first().map(String::as_str) {
        None => Ok(vec!["x86_64".into()]),
        Some("x86_64" | "arm64") => Ok(architectures),
        Some(_) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{shown}' at 'architectures' failed to satisfy constraint: Member \
             must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
        ))),
    }
}

/// Where the code of CreateFunction's `Code` (or UpdateFunctionCode's body) is: its ZipFile, or
/// its S3Bucket and S3Key (and S3ObjectVersion).
pub(super) fn code_source(code: Option<&Value>) -> Result<CodeSource, ApiError> {
    let code = code.unwrap_or(&Value::Null);
    let bucket = text(code, "S3Bucket");
    let key = text(code, "S3Key");
    if let Some(encoded) = text(code, "ZipFile") {
        if bucket.is_some() || key.is_some() || code.get("S3ObjectVersion").is_some() {
            return Err(ApiError::invalid(
                "Please do not provide other FunctionCode parameters when providing a ZipFile.",
            ));
        }
        return base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map(CodeSource::Zip)
            .map_err(|_| ApiError::invalid("ZipFile is not base64"));
    }
    match (bucket, key) {
        (Some(bucket), Some(key)) => Ok(CodeSource::S3 {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: text(code, "S3ObjectVersion").map(str::to_owned),
        }),
        (Some(_), None) | (None, Some(_)) => Err(ApiError::invalid("Please provide both S3Bucket and S3Key.")),
        (None, None) => Err(ApiError::invalid(
            "LocalLambda takes code as ZipFile, or as S3Bucket and S3Key of a zip in its S3 endpoint (not images)",
        )),
    }
}

/// The layer versions a function's `Layers` name, checked.
fn function_layers(emulator: &Emulator, value: Option<&Value>) -> Result<Vec<Arc<LayerVersion>>, ApiError> {
    emulator.function_layers(&strings(value)).map_err(ApiError::from_layers)
}

fn layers_not_composed(name: &str, error: &std::io::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ServiceException",
        format!("cannot extract the layers of {name}: {error}"),
    )
}

pub(super) fn text<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str)
}

fn number(body: &Value, field: &str, default: u64, allowed: std::ops::RangeInclusive<u64>) -> Result<u64, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_u64()
            .filter(|n| allowed.contains(n))
            .ok_or_else(|| ApiError::invalid(format!("{field} must be {} to {}", allowed.start(), allowed.end()))),
    }
}

pub(super) fn strings(value: Option<&Value>) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(runtime: &str, usage: RuntimeUse, date: (i64, i64, i64)) -> bool {
        check_runtime(runtime, usage, days_since_epoch(date.0, date.1, date.2)).is_err()
    }

    #[test]
    fn a_deprecated_runtime_is_refused_from_its_block_dates_on() {
        // python3.8 as AWS's table has it since June 2026: create until 31 January 2027, update
        // until 2 March 2027 (AWS accepted an update to it in November 2025).
        assert!(!refused("python3.8", RuntimeUse::Create, (2026, 12, 6)));
        assert!(!refused("python3.8", RuntimeUse::Update, (2025, 11, 15)));
        assert!(refused("python3.8", RuntimeUse::Create, (2027, 2, 1)));
        assert!(!refused("python3.8", RuntimeUse::Update, (2027, 3, 2)));
        assert!(refused("python3.8", RuntimeUse::Update, (2027, 3, 3)));
        assert!(refused("python3.7", RuntimeUse::Create, (2026, 12, 6)));
        assert!(refused("python2.7", RuntimeUse::Update, (2026, 12, 6)));
        assert!(!refused("python3.14", RuntimeUse::Create, (2029, 7, 30)));
    }

    #[test]
    fn other_languages_are_lambda_runtimes_local_lambda_does_not_run() {
        let refusal = check_runtime("nodejs20.x", RuntimeUse::Create, 0).unwrap_err();
        assert!(
            format!("{refusal:?}").contains("LocalLambda runs the Python runtimes python3.8, python3.9, python3.10")
        );
    }
}
