//! A function's resource-based policy: AddPermission, GetPolicy and RemovePermission, per
//! qualifier, in AWS's shapes and words (LocalStack's AWS-validated recordings,
//! TestLambdaPermissions in test_lambda_api.snapshot.json). LocalLambda records the policy and
//! answers for it; it does not check callers against it (it checks no credentials at all).

use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{json, Value};

use super::error::ApiError;
use super::functions::text;
use crate::http::{json_response, response, HttpResponse};
use crate::model::version::LATEST;
use crate::service::emulator::Emulator;
use crate::state::code_store::{default_deployment, new_revision_id, Policy};

/// The qualifier's key among a function's policies ($LATEST for none), once its function and
/// its version or alias are found; else Lambda's 404 for a missing one.
fn policy_key(emulator: &Emulator, name: &str, qualifier: Option<&str>) -> Result<String, ApiError> {
    if !emulator.exists(name) {
        return Err(ApiError::not_found(emulator, name));
    }
    match qualifier {
        None => Ok(LATEST.to_owned()),
        Some(qualifier) if emulator.resolve(name, Some(qualifier)).is_ok() => Ok(qualifier.to_owned()),
        // A version is "Function not found", an alias "Cannot find alias" (test_permission_exceptions).
        Some(qualifier) if qualifier.parse::<u32>().is_ok() => {
            Err(ApiError::not_found(emulator, &format!("{name}:{qualifier}")))
        }
        Some(qualifier) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Cannot find alias arn: {}:{qualifier}", emulator.function_arn(name)),
        )),
    }
}

/// AddPermission: 201 with the statement added, as a JSON string.
pub fn add(
    emulator: &Arc<Emulator>,
    name: &str,
    qualifier: Option<&str>,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let statement_id = text(&body, "StatementId").unwrap_or_default();
    if statement_id.is_empty() || !statement_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{statement_id}' at 'statementId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
        )));
    }
    if qualifier == Some(LATEST) {
        return Err(ApiError::invalid("We currently do not support adding policies for $LATEST."));
    }
    let key = policy_key(emulator, name, qualifier)?;
    let principal = principal(text(&body, "Principal").unwrap_or_default())?;
    let mut resource = emulator.function_arn(name);
    if let Some(qualifier) = qualifier {
        resource = format!("{resource}:{qualifier}");
    }
    let mut statement = json!({
        "Sid": statement_id,
        "Effect": "Allow",
        "Principal": principal,
        "Action": text(&body, "Action").unwrap_or_default(),
        "Resource": resource,
    });
    let mut condition = serde_json::Map::new();
    // Each optional field a key of StringEquals, as AWS writes them (LocalStack's snapshot,
    // TestLambdaPermissions::test_add_lambda_permission_fields).
    let string_equals: serde_json::Map<String, Value> = [
        ("SourceAccount", "AWS:SourceAccount"),
        ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
        ("PrincipalOrgID", "aws:PrincipalOrgID"),
        ("EventSourceToken", "lambda:EventSourceToken"),
    ]
    .into_iter()
    .filter_map(|(field, key)| text(&body, field).map(|value| (key.to_owned(), json!(value))))
    .collect();
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(arn) = text(&body, "SourceArn") {
        condition.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
    }
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    let resource_revision = resource_revision(emulator, name, qualifier);
    let mut deployments = emulator.deployments();
    let deployment = deployments.entry(name.to_owned()).or_insert_with(default_deployment);
    let policy = deployment
        .policies
        .entry(key)
        .or_insert_with(|| Policy { statements: Vec::new(), revision_id: resource_revision });
    check_revision(text(&body, "RevisionId"), policy)?;
    if policy.statements.iter().any(|existing| existing["Sid"] == statement_id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ResourceConflictException",
            format!(
                "The statement id ({statement_id}) provided already exists. Please provide a new statement id, or \
                 remove the existing statement."
            ),
        ));
    }
    policy.statements.push(statement.clone());
    policy.revision_id = new_revision_id();
    Ok(json_response(StatusCode::CREATED, &[], &json!({"Statement": statement.to_string()})))
}

/// The RevisionId a first statement's AddPermission names: its function's, version's or alias's
/// (LocalStack's test_lambda_permission_fn_versioning adds one to an alias with the alias's).
/// Once added to, the policy has its own: a new one with every change.
fn resource_revision(emulator: &Emulator, name: &str, qualifier: Option<&str>) -> String {
    let Some(qualifier) = qualifier else { return emulator.deployment(name).revision_id };
    let published = emulator.published();
    let function = published.get(name);
    let alias = function.and_then(|function| function.aliases.get(qualifier)).map(|alias| alias.revision_id.clone());
    let version = || {
        let number = qualifier.parse().ok()?;
        function?.versions.get(&number).map(|version| version.deployment.revision_id.clone())
    };
    alias.or_else(version).unwrap_or_default()
}

/// Refuses a change to `policy` that names a RevisionId other than its latest.
fn check_revision(given: Option<&str>, policy: &Policy) -> Result<(), ApiError> {
    match given {
        Some(given) if given != policy.revision_id => Err(ApiError::stale_policy_revision()),
        _ => Ok(()),
    }
}

/// A policy's Principal as Lambda writes it: a service's, an account's (as its root), or anyone's.
fn principal(given: &str) -> Result<Value, ApiError> {
    let is_account = given.len() == 12 && given.bytes().all(|b| b.is_ascii_digit());
    if given == "*" {
        Ok(json!("*"))
    } else if is_account {
        Ok(json!({"AWS": format!("arn:aws:iam::{given}:root")}))
    } else if given.starts_with("arn:") {
        Ok(json!({"AWS": given}))
    } else if given.ends_with(".amazonaws.com") || given.ends_with(".amazon.com") {
        Ok(json!({"Service": given}))
    } else {
        Err(ApiError::invalid("The provided principal was invalid. Please check the principal and try again."))
    }
}

/// GetPolicy: the policy document as a JSON string, with its RevisionId; 404 when there is none
/// (or no such function or qualifier), in the same words.
pub fn get(emulator: &Arc<Emulator>, name: &str, qualifier: Option<&str>) -> Result<HttpResponse, ApiError> {
    let key = policy_key(emulator, name, qualifier).map_err(|_| ApiError::resource_not_found())?;
    let deployments = emulator.deployments();
    let policy = deployments
        .get(name)
        .and_then(|deployment| deployment.policies.get(&key))
        .filter(|policy| !policy.statements.is_empty())
        .ok_or_else(ApiError::resource_not_found)?;
    let document = json!({"Version": "2012-10-17", "Id": "default", "Statement": policy.statements});
    let body = json!({"Policy": document.to_string(), "RevisionId": policy.revision_id});
    Ok(json_response(StatusCode::OK, &[], &body))
}

/// RemovePermission: 204; a function, policy or statement that is not there is 404 in Lambda's
/// words for each.
pub fn remove(
    emulator: &Arc<Emulator>,
    name: &str,
    qualifier: Option<&str>,
    statement_id: &str,
    revision_id: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let not_found = |message: String| ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message);
    let key = policy_key(emulator, name, qualifier).map_err(|error| match emulator.exists(name) {
        false => not_found(format!("No policy found for: {}", emulator.function_arn(name))),
        true => error,
    })?;
    let mut deployments = emulator.deployments();
    let policy = deployments
        .get_mut(name)
        .and_then(|deployment| deployment.policies.get_mut(&key))
        .filter(|policy| !policy.statements.is_empty())
        .ok_or_else(|| not_found("No policy is associated with the given resource.".into()))?;
    check_revision(revision_id, policy)?;
    let index = policy
        .statements
        .iter()
        .position(|statement| statement["Sid"] == statement_id)
        .ok_or_else(|| not_found(format!("Statement {statement_id} is not found in resource policy.")))?;
    policy.statements.remove(index);
    policy.revision_id = new_revision_id();
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}
