//! Which function a request names, as Lambda reads a function name, a partial or full ARN and a
//! qualifier given in it or beside it (`?Qualifier=`). A function of another region, account or
//! partition is refused as Lambda refuses one: LocalLambda is one account in one region.

use hyper::StatusCode;
use lambda_executor_protocol::{is_valid_qualifier, FunctionRef};

use super::error::ApiError;
use crate::service::emulator::Emulator;

/// Lambda's FunctionName pattern for reading, deleting and invoking a function, as its validation
/// message quotes it (LocalStack's recordings: test_function_name_and_qualifier_validation).
const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
/// CreateFunction's FunctionName pattern (same recordings, create_function).
const CREATE_FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
/// The Qualifier parameter's pattern.
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
/// Longest FunctionName CreateFunction takes (a name, partial or full ARN).
const MAX_CREATE_REFERENCE: usize = 140;

pub struct Target {
    pub name: String,
    pub qualifier: Option<String>,
}

/// Lambda's "1 validation error detected" about `value` at `member`.
fn constraint(value: &str, member: &str, constraint: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// Another region's function: Lambda's 404 (recorded: test_function_arns, function_arn_other_region_exc).
fn other_region(region: &str, home: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("Functions from '{region}' are not reachable in this region ('{home}')"),
    )
}

/// The function (and qualifier) `reference` names here, with `given` from the query string. A
/// name Lambda's pattern takes but no function can have (over 64 characters, say) is a function
/// that is not there, as Lambda answers it.
pub fn target(emulator: &Emulator, reference: &str, given: Option<&str>) -> Result<Target, ApiError> {
    let function = FunctionRef::matching(reference).ok_or_else(|| {
        constraint(
            reference,
            "functionName",
            &format!("Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"),
        )
    })?;
    let home = &emulator.config.region;
    if let Some(region) = function.region.filter(|region| region != home) {
        return Err(other_region(region, home));
    }
    let qualifier = match (function.qualifier, given) {
        (Some(derived), Some(given)) if derived != given => {
            return Err(ApiError::invalid(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ))
        }
        (None, Some(given)) if given.len() > 128 => {
            return Err(constraint(given, "qualifier", "Member must have length less than or equal to 128"))
        }
        (None, Some(given)) if !is_valid_qualifier(given) => {
            return Err(constraint(
                given,
                "qualifier",
                &format!("Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"),
            ))
        }
        (derived, given) => derived.or(given),
    };
    // Another account's (or partition's) function is not one of this emulator's.
    let account = function.account.unwrap_or(&emulator.config.account_id);
    let partition = function.partition.unwrap_or(emulator.partition());
    if account != emulator.config.account_id || partition != emulator.partition() {
        let mut arn = format!("arn:{partition}:lambda:{home}:{account}:function:{}", function.name);
        if let Some(qualifier) = qualifier {
            arn = format!("{arn}:{qualifier}");
        }
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Function not found: {arn}"),
        ));
    }
    Ok(Target { name: function.name.to_owned(), qualifier: qualifier.map(str::to_owned) })
}

/// The name of the function CreateFunction's FunctionName (a name, a partial or a full ARN)
/// creates, or Lambda's refusal as recorded in test_function_arns and
/// test_function_name_and_qualifier_validation (create_function).
pub fn creation_name<'a>(emulator: &Emulator, reference: &'a str) -> Result<&'a str, ApiError> {
    if reference.len() > MAX_CREATE_REFERENCE {
        return Err(constraint(reference, "functionName", "Member must have length less than or equal to 140"));
    }
    let pattern_refusal = || {
        constraint(
            reference,
            "functionName",
            &format!("Member must satisfy regular expression pattern: {CREATE_FUNCTION_NAME_PATTERN}"),
        )
    };
    let function = FunctionRef::matching(reference)
        .filter(|function| !function.name.contains('.') && function.qualifier.is_none_or(|q| q != "$LATEST.PUBLISHED"))
        .ok_or_else(pattern_refusal)?;
    if function.name.len() > 64 {
        // AWS answers this one as an InvalidParameterValueException, in a validation error's words.
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{reference}' at 'functionName' failed to satisfy constraint: \
             Member must have length less than or equal to 64"
        )));
    }
    let home = &emulator.config.region;
    if let Some(region) = function.region.filter(|region| region != home) {
        return Err(other_region(region, home));
    }
    let account = function.account.unwrap_or(&emulator.config.account_id);
    let partition = function.partition.unwrap_or(emulator.partition());
    if account != emulator.config.account_id || partition != emulator.partition() {
        return Err(ApiError::access_denied());
    }
    if function.qualifier.is_some() {
        return Err(ApiError::invalid(format!("a function is created without a qualifier, not as '{reference}'")));
    }
    Ok(function.name)
}
