//! The control-plane calls of versions and aliases, as Lambda serves them: PublishVersion,
//! ListVersionsByFunction, CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases
//! (routes.rs routes them here).

use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{json, Value};

use super::configuration::configuration_document;
use super::error::ApiError;
use crate::http::{json_response, response, HttpResponse};
use crate::model::version::LATEST;
use crate::service::emulator::Emulator;
use crate::state::versions::{Alias, Published};

/// Lambda's pattern for alias names: not a version number.
const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";

pub async fn publish(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let text = |field| body.get(field).and_then(Value::as_str);
    check_function(emulator, name)?;
    ApiError::check_revision(&body, &emulator.deployment(name).revision_id)?;
    let document = published_configuration(emulator, name, text("Description"), text("CodeSha256"), true).await?;
    Ok(json_response(StatusCode::CREATED, &[], &document))
}

/// Publishes $LATEST as it now is (see `Emulator::publish_version`): the version's configuration,
/// under its own ARN if `qualified_arn`, else (as CreateFunction with Publish answers) the function's.
pub async fn published_configuration(
    emulator: &Arc<Emulator>,
    name: &str,
    description: Option<&str>,
    code_sha256: Option<&str>,
    qualified_arn: bool,
) -> Result<Value, ApiError> {
    let version_error = |error| ApiError::from_version(emulator, error);
    let number = emulator.publish_version(name, description, code_sha256).await.map_err(version_error)?.to_string();
    let (spec, deployment, version) = emulator.version_record(name, Some(&number)).map_err(version_error)?;
    Ok(configuration_document(emulator, &spec, &deployment, version, qualified_arn.then_some(number.as_str())))
}

/// ListVersionsByFunction: $LATEST, then each published version (all in one page).
pub fn list_versions(emulator: &Arc<Emulator>, name: &str) -> Result<HttpResponse, ApiError> {
    let versions = version_documents(emulator, name).ok_or_else(|| ApiError::not_found(emulator, name))?;
    Ok(json_response(StatusCode::OK, &[], &json!({"Versions": versions})))
}

/// The configurations of $LATEST and of each published version of `name`, each under its
/// qualified ARN; None if there is no such function.
pub fn version_documents(emulator: &Emulator, name: &str) -> Option<Vec<Value>> {
    let latest = emulator.spec(name).ok()?;
    let mut versions = vec![configuration_document(emulator, &latest, &emulator.deployment(name), None, Some(LATEST))];
    if let Some(function) = emulator.published().get(name) {
        versions.extend(function.versions.iter().map(|(number, version)| {
            configuration_document(
                emulator,
                &version.spec,
                &version.deployment,
                Some(*number),
                Some(&number.to_string()),
            )
        }));
    }
    Some(versions)
}

pub fn create_alias(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let alias_name = body.get("Name").and_then(Value::as_str).unwrap_or_default();
    check_alias_name(alias_name)?;
    let version = body.get("FunctionVersion").and_then(Value::as_str).unwrap_or_default();
    check_function(emulator, name)?;
    let mut published = emulator.published();
    let function = published.entry(name.to_owned()).or_default();
    check_version(emulator, name, function, version)?;
    let alias = Alias {
        version: version.to_owned(),
        description: body.get("Description").and_then(Value::as_str).unwrap_or_default().to_owned(),
        additional: routing(emulator, name, function, version, body.get("RoutingConfig"))?,
        revision_id: uuid::Uuid::new_v4().to_string(),
    };
    if function.aliases.contains_key(alias_name) {
        let arn = alias_arn(emulator, name, alias_name);
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ResourceConflictException",
            format!("Alias already exists: {arn}"),
        ));
    }
    let document = alias_document(emulator, name, alias_name, &alias);
    function.aliases.insert(alias_name.to_owned(), alias);
    Ok(json_response(StatusCode::CREATED, &[], &document))
}

pub fn get_alias(emulator: &Arc<Emulator>, name: &str, alias_name: &str) -> Result<HttpResponse, ApiError> {
    check_function(emulator, name)?;
    let published = emulator.published();
    let alias = published
        .get(name)
        .and_then(|f| f.aliases.get(alias_name))
        .ok_or_else(|| no_alias(emulator, name, alias_name))?;
    Ok(json_response(StatusCode::OK, &[], &alias_document(emulator, name, alias_name, alias)))
}

/// UpdateAlias: what the body names changes; an empty RoutingConfig ends the routing.
pub fn update_alias(
    emulator: &Arc<Emulator>,
    name: &str,
    alias_name: &str,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    check_function(emulator, name)?;
    let mut published = emulator.published();
    // UpdateAlias words it otherwise than GetAlias (LocalStack's test_non_existent_alias_update).
    let not_found = || {
        let arn = alias_arn(emulator, name, alias_name);
        ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", format!("Alias not found: {arn}"))
    };
    let function = published.get_mut(name).ok_or_else(not_found)?;
    let current = function.aliases.get(alias_name).ok_or_else(not_found)?.clone();
    ApiError::check_revision(&body, &current.revision_id)?;
    let version = body.get("FunctionVersion").and_then(Value::as_str).unwrap_or(&current.version).to_owned();
    check_version(emulator, name, function, &version)?;
    let additional = match body.get("RoutingConfig") {
        Some(routing_config) => routing(emulator, name, function, &version, Some(routing_config))?,
        None => current.additional.filter(|(other, _)| other.to_string() != version),
    };
    let alias = Alias {
        description: body.get("Description").and_then(Value::as_str).map_or(current.description, str::to_owned),
        version,
        additional,
        revision_id: uuid::Uuid::new_v4().to_string(),
    };
    let document = alias_document(emulator, name, alias_name, &alias);
    function.aliases.insert(alias_name.to_owned(), alias);
    Ok(json_response(StatusCode::OK, &[], &document))
}

/// DeleteAlias: an alias that is not there is as good as deleted (LocalStack's
/// test_non_existent_alias_deletion: AWS answers 204).
pub fn delete_alias(emulator: &Arc<Emulator>, name: &str, alias_name: &str) -> Result<HttpResponse, ApiError> {
    check_function(emulator, name)?;
    if let Some(function) = emulator.published().get_mut(name) {
        function.aliases.remove(alias_name);
    }
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}

/// ListAliases, of one version if `function_version` is given (all in one page).
pub fn list_aliases(
    emulator: &Arc<Emulator>,
    name: &str,
    function_version: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    check_function(emulator, name)?;
    let published = emulator.published();
    let aliases: Vec<Value> = published
        .get(name)
        .map(|function| {
            function
                .aliases
                .iter()
                .filter(|(_, alias)| function_version.is_none_or(|version| alias.version == version))
                .map(|(alias_name, alias)| alias_document(emulator, name, alias_name, alias))
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &[], &json!({"Aliases": aliases})))
}

fn alias_arn(emulator: &Emulator, name: &str, alias_name: &str) -> String {
    format!("{}:{alias_name}", emulator.function_arn(name))
}

fn alias_document(emulator: &Emulator, name: &str, alias_name: &str, alias: &Alias) -> Value {
    let mut document = json!({
        "AliasArn": alias_arn(emulator, name, alias_name),
        "Name": alias_name,
        "FunctionVersion": alias.version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    });
    if let Some((other, weight)) = alias.additional {
        document["RoutingConfig"] = json!({"AdditionalVersionWeights": {other.to_string(): weight}});
    }
    document
}

fn no_alias(emulator: &Emulator, name: &str, alias_name: &str) -> ApiError {
    let arn = alias_arn(emulator, name, alias_name);
    ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", format!("Cannot find alias arn: {arn}"))
}

fn check_function(emulator: &Emulator, name: &str) -> Result<(), ApiError> {
    if emulator.exists(name) {
        Ok(())
    } else {
        Err(ApiError::not_found(emulator, name))
    }
}

fn check_alias_name(alias_name: &str) -> Result<(), ApiError> {
    let allowed = alias_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let number = alias_name.bytes().all(|b| b.is_ascii_digit());
    if !(1..=128).contains(&alias_name.len()) || !allowed || number {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{alias_name}' at 'name' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: {ALIAS_PATTERN}"
        )));
    }
    Ok(())
}

/// An alias's version: $LATEST or one that is published.
fn check_version(emulator: &Emulator, name: &str, function: &Published, version: &str) -> Result<(), ApiError> {
    if version == LATEST {
        return Ok(());
    }
    let number: u32 = version.parse().map_err(|_| {
        ApiError::validation(format!(
            "1 validation error detected: Value '{version}' at 'functionVersion' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)"
        ))
    })?;
    if !function.versions.contains_key(&number) {
        return Err(ApiError::not_found(emulator, &format!("{name}:{version}")));
    }
    Ok(())
}

/// RoutingConfig.AdditionalVersionWeights, checked as Lambda checks it: at most one other
/// published version, weighted 0 to 1, beside a primary version that is not $LATEST.
fn routing(
    emulator: &Emulator,
    name: &str,
    function: &Published,
    version: &str,
    routing_config: Option<&Value>,
) -> Result<Option<(u32, f64)>, ApiError> {
    let weights = routing_config.and_then(|config| config.get("AdditionalVersionWeights")).and_then(Value::as_object);
    let Some(weights) = weights.filter(|weights| !weights.is_empty()) else { return Ok(None) };
    if weights.len() > 1 {
        return Err(ApiError::invalid("Number of items in AdditionalVersionWeights cannot be greater than 1"));
    }
    let (other, weight) = weights.iter().next().expect("one weight");
    let shown = format!("{{{other}={weight}}}");
    let weight = weight.as_f64().filter(|weight| (0.0..=1.0).contains(weight)).ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value '{shown}' at 'routingConfig.additionalVersionWeights' failed to \
             satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to \
             1.0, Member must have value greater than or equal to 0.0]"
        ))
    })?;
    let number: u32 = other.parse().map_err(|_| {
        ApiError::validation(format!(
            "1 validation error detected: Value '{shown}' at 'routingConfig.additionalVersionWeights' failed to \
             satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to \
             1024, Member must have length greater than or equal to 1, Member must satisfy regular expression \
             pattern: [0-9]+]"
        ))
    })?;
    if other == version {
        return Err(ApiError::invalid(format!(
            "Invalid function version {version}. Function version {version} is already included in routing configuration."
        )));
    }
    if version == LATEST {
        return Err(ApiError::invalid("$LATEST is not supported for an alias pointing to more than 1 version"));
    }
    check_version(emulator, name, function, other)?;
    Ok(Some((number, weight)))
}
