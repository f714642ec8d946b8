//! Put, Update, Get, Delete and ListFunctionEventInvokeConfig(s): how a function (or a version or
//! alias of it) handles its failed Event invocations, in AWS's shapes and words (LocalStack's
//! AWS-validated recordings, TestLambdaEventInvokeConfig in test_lambda_api.snapshot.json).
//! invocations.rs retries by them; destinations are recorded, not delivered.

use std::sync::Arc;
use std::time::SystemTime;

use hyper::StatusCode;
use serde_json::{json, Value};

use super::error::ApiError;
use crate::http::{json_response, response, HttpResponse};
use crate::model::event_invoke::{
    EventInvokeConfig, DEFAULT_MAXIMUM_EVENT_AGE_SECS, DEFAULT_MAXIMUM_RETRY_ATTEMPTS, MINIMUM_EVENT_AGE_SECS,
};
use crate::model::version::LATEST;
use crate::service::emulator::Emulator;
use crate::state::code_store::default_deployment;

/// Whether Put replaces the configuration or Update merges into it.
#[derive(PartialEq)]
pub enum Change {
    Put,
    Update,
}

fn function_missing() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", "The function doesn't exist.")
}

/// The qualified ARN a configuration is shown under and named by in refusals.
fn config_arn(emulator: &Emulator, name: &str, key: &str) -> String {
    format!("{}:{key}", emulator.function_arn(name))
}

fn no_config(emulator: &Emulator, name: &str, key: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("The function {} doesn't have an EventInvokeConfig", config_arn(emulator, name, key)),
    )
}

/// The configuration's key: the qualifier, $LATEST without one.
fn key_of(qualifier: Option<&str>) -> String {
    qualifier.unwrap_or(LATEST).to_owned()
}

/// A setting of the body within Lambda's range (the API model's), refused as its validation says.
fn setting(
    body: &Value,
    field: &str,
    member: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<Option<u32>, ApiError> {
    let Some(value) = body.get(field).filter(|value| !value.is_null()) else { return Ok(None) };
    let number = value.as_i64().unwrap_or(-1);
    let (bound, words) = if number < i64::from(*range.start()) {
        (range.start(), "greater than or equal to")
    } else if number > i64::from(*range.end()) {
        (range.end(), "less than or equal to")
    } else {
        return Ok(Some(number as u32));
    };
    Err(ApiError::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have \
         value {words} {bound}"
    )))
}

/// PutFunctionEventInvokeConfig (replaces) and UpdateFunctionEventInvokeConfig (merges).
pub fn change(
    emulator: &Arc<Emulator>,
    name: &str,
    qualifier: Option<&str>,
    body: Result<Value, ApiError>,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let retries = setting(&body, "MaximumRetryAttempts", "maximumRetryAttempts", 0..=DEFAULT_MAXIMUM_RETRY_ATTEMPTS)?;
    let age = setting(
        &body,
        "MaximumEventAgeInSeconds",
        "maximumEventAgeInSeconds",
        MINIMUM_EVENT_AGE_SECS..=DEFAULT_MAXIMUM_EVENT_AGE_SECS,
    )?;
    let destinations = body.get("DestinationConfig").filter(|value| !value.is_null());
    if !emulator.exists(name) || qualifier.is_some_and(|q| emulator.resolve(name, Some(q)).is_err()) {
        return Err(function_missing());
    }
    if retries.is_none() && age.is_none() && destinations.is_none() {
        return Err(ApiError::invalid("You must specify at least one of error handling or destination setting."));
    }
    let key = key_of(qualifier);
    let mut deployments = emulator.deployments();
    let deployment = deployments.entry(name.to_owned()).or_insert_with(default_deployment);
    let previous = deployment.event_invoke_configs.get(&key).cloned();
    let base = match (change, previous) {
        (Change::Put, _) => None,
        (Change::Update, Some(previous)) => Some(previous),
        (Change::Update, None) => return Err(no_config(emulator, name, &key)),
    };
    let config = EventInvokeConfig {
        maximum_retry_attempts: retries.or(base.as_ref().and_then(|base| base.maximum_retry_attempts)),
        maximum_event_age_secs: age.or(base.as_ref().and_then(|base| base.maximum_event_age_secs)),
        destination_config: destinations
            .or(base.as_ref().map(|base| &base.destination_config))
            .cloned()
            .unwrap_or(Value::Null),
        last_modified: SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs_f64(),
    };
    let document = document(emulator, name, &key, &config);
    deployment.event_invoke_configs.insert(key, config);
    Ok(json_response(StatusCode::OK, &[], &document))
}

/// A configuration as Lambda shows it: the settings made, and both destinations (empty if unset).
fn document(emulator: &Emulator, name: &str, key: &str, config: &EventInvokeConfig) -> Value {
    let destination = |which: &str| config.destination_config.get(which).cloned().unwrap_or_else(|| json!({}));
    let mut document = json!({
        "DestinationConfig": {"OnFailure": destination("OnFailure"), "OnSuccess": destination("OnSuccess")},
        "FunctionArn": config_arn(emulator, name, key),
        "LastModified": config.last_modified,
    });
    if let Some(retries) = config.maximum_retry_attempts {
        document["MaximumRetryAttempts"] = json!(retries);
    }
    if let Some(age) = config.maximum_event_age_secs {
        document["MaximumEventAgeInSeconds"] = json!(age);
    }
    document
}

pub fn get(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ApiError> {
    let key = key_of(qualifier);
    let deployments = emulator.deployments();
    let config = deployments
        .get(name)
        .and_then(|deployment| deployment.event_invoke_configs.get(&key))
        .ok_or_else(|| no_config(emulator, name, &key))?;
    Ok(json_response(StatusCode::OK, &[], &document(emulator, name, &key, config)))
}

pub fn delete(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ApiError> {
    let key = key_of(qualifier);
    emulator
        .deployments()
        .get_mut(name)
        .and_then(|deployment| deployment.event_invoke_configs.remove(&key))
        .ok_or_else(|| no_config(emulator, name, &key))?;
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}

/// ListFunctionEventInvokeConfigs: every configuration of the function, in one page.
pub fn list(emulator: &Arc<Emulator>, name: &str) -> Result<HttpResponse, ApiError> {
    if !emulator.exists(name) {
        return Err(function_missing());
    }
    let deployments = emulator.deployments();
    let configs: Vec<Value> = deployments
        .get(name)
        .map(|deployment| {
            deployment.event_invoke_configs.iter().map(|(key, config)| document(emulator, name, key, config)).collect()
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &[], &json!({"FunctionEventInvokeConfigs": configs})))
}
