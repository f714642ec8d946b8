//! Which function a request names, as Lambda reads a function name, a partial or full ARN and a
//! qualifier given in it or beside it (`?Qualifier=`). A function of another region, account or
//! partition is refused as Lambda refuses one: LocalLambda is one account in one region.

use hyper::StatusCode;
use lambda_executor_protocol::{is_valid_qualifier, FunctionRef};

use super::error::ApiError;
use crate::service::emulator::Emulator;

/// botocore's FunctionName pattern, which Lambda's validation message quotes.
const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";

pub struct Target {
    pub name: String,
    pub qualifier: Option<String>,
}

/// The function (and qualifier) `reference` names here, with `given` from the query string.
pub fn target(emulator: &Emulator, reference: &str, given: Option<&str>) -> Result<Target, ApiError> {
    let function = FunctionRef::parse(reference).ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value '{reference}' at 'functionName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"
        ))
    })?;
    let home = &emulator.config.region;
    if let Some(region) = function.region.filter(|region| region != home) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Functions from '{region}' are not reachable in this region ('{home}')"),
        ));
    }
    let qualifier = match (function.qualifier, given) {
        (Some(derived), Some(given)) if derived != given => {
            return Err(ApiError::invalid(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ))
        }
        (None, Some(given)) if !is_valid_qualifier(given) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{given}' at 'qualifier' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
            )))
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
