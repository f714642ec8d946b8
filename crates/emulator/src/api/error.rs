//! The one error type of LocalLambda's HTTP API: a modelled Lambda service error as the wire
//! carries it (restJson1: `x-amzn-ErrorType` and a JSON body), and how the service's own errors
//! become one.

use hyper::StatusCode;
use lambda_executor_protocol::HEADER_ERROR_TYPE;

use crate::http::{json_response, HttpResponse};
use crate::service::emulator::Emulator;
use crate::service::layers::{FunctionLayersError, MAX_FUNCTION_LAYERS};
use crate::service::versions::VersionError;

/// A modelled Lambda service error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error_type: &'static str,
    message: String,
    reason: Option<&'static str>,
    /// Retry-After for this error rather than the emulator's (an injected throttle's).
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, message: message.into(), reason: None, retry_after: None }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameterValueException", message)
    }

    /// A request that breaks the API model's constraints (Lambda's "1 validation error detected").
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    /// Another account's function, which this caller may not create: AWS's 403 says no more
    /// (recorded: test_function_arns, function_arn_other_account_exc, `{"Message": null}`).
    pub fn access_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDeniedException", "")
    }

    /// Function not found: `name` may carry a qualifier (`name:7`), as the ARN then does.
    pub fn not_found(emulator: &Emulator, name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Function not found: {}", emulator.function_arn(name)),
        )
    }

    /// 429 for `reason`; the caller is told to wait `retry_after` seconds, or the emulator's.
    pub fn throttled(reason: &'static str, retry_after: Option<u32>) -> Self {
        Self {
            reason: Some(reason),
            retry_after,
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException", "Rate Exceeded.")
        }
    }

    pub fn unknown_operation() -> Self {
        Self::new(StatusCode::NOT_FOUND, "UnknownOperationException", "Unknown operation")
    }

    /// What a published version's operation failed with, as the control plane answers it.
    pub fn from_version(emulator: &Emulator, error: VersionError) -> Self {
        match error {
            VersionError::NotFound(name) => Self::not_found(emulator, &name),
            VersionError::CodeSha256Differs { expected, latest } => Self::invalid(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST ({latest}). \
                 Please try again with the CodeSHA256 in $LATEST."
            )),
            VersionError::CodeNotCopied { name, error } => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                format!("cannot copy the code of {name}: {error}"),
            ),
            VersionError::NamedByAliases(aliases) => Self::new(
                StatusCode::CONFLICT,
                "ResourceConflictException",
                format!(
                    "Unable to delete version because the following aliases reference it: [{}]",
                    aliases.join(", ")
                ),
            ),
        }
    }

    /// What Lambda answers when a function's Layers cannot be used.
    pub fn from_layers(error: FunctionLayersError) -> Self {
        match error {
            FunctionLayersError::TooMany => {
                Self::invalid(format!("Cannot reference more than {MAX_FUNCTION_LAYERS} layers."))
            }
            FunctionLayersError::Malformed(arns) => Self::validation(format!(
                "1 validation error detected: Value '[{}]' at 'layers' failed to satisfy constraint: Member must \
                 satisfy constraint: [Member must have length less than or equal to 140, Member must have length \
                 greater than or equal to 1, Member must satisfy regular expression pattern: \
                 (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+)|\
                 (arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]",
                arns.join(", ")
            )),
            FunctionLayersError::Missing(arn) => Self::invalid(format!("Layer version {arn} does not exist.")),
        }
    }

    /// A layer, layer version or resource-based policy that is not there (Lambda's words for it).
    pub fn resource_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", "The resource you requested does not exist.")
    }

    /// A RevisionId that is not the resource's latest (the words AWS answered in LocalStack's
    /// recordings: test_function_revisions_basic, test_function_revisions_version_and_alias).
    pub fn stale_revision() -> Self {
        Self::stale("GetFunction/GetAlias")
    }

    /// A RevisionId that is not the resource-based policy's latest (LocalStack's
    /// test_lambda_permission_fn_versioning).
    pub fn stale_policy_revision() -> Self {
        Self::stale("GetPolicy")
    }

    /// A stale RevisionId, the caller told which `operation` reads the latest.
    fn stale(operation: &str) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailedException",
            format!(
                "The Revision Id provided does not match the latest Revision Id. Call the {operation} API to \
                 retrieve the latest Revision Id"
            ),
        )
    }

    /// Refuses a change that names a RevisionId other than `current`.
    pub fn check_revision(body: &serde_json::Value, current: &str) -> Result<(), Self> {
        match body.get("RevisionId").and_then(serde_json::Value::as_str) {
            Some(given) if given != current => Err(Self::stale_revision()),
            _ => Ok(()),
        }
    }

    /// The answer of a control-plane operation (or of an unknown one).
    pub fn into_response(self) -> HttpResponse {
        let body = match self.error_type {
            "AccessDeniedException" => serde_json::json!({"Message": null}),
            _ => serde_json::json!({"Type": "User", self.message_key(): self.message}),
        };
        json_response(self.status, &[(HEADER_ERROR_TYPE, self.error_type)], &body)
    }

    /// Lambda spells the message key `Message` for some errors and `message` for others.
    fn message_key(&self) -> &'static str {
        match self.error_type {
            "ResourceNotFoundException" | "ServiceException" => "Message",
            _ => "message",
        }
    }

    /// The answer of Invoke, which also says why it throttled and when to retry (`retry_after`
    /// seconds, unless the error has its own).
    pub fn into_invoke_response(self, retry_after: &str) -> HttpResponse {
        let mut body = serde_json::json!({"Type": "User", self.message_key(): self.message});
        let mut headers = vec![(HEADER_ERROR_TYPE, self.error_type)];
        let own_retry_after = self.retry_after.map(|seconds| seconds.to_string());
        if let Some(reason) = self.reason {
            body["Reason"] = reason.into();
            headers.push(("retry-after", own_retry_after.as_deref().unwrap_or(retry_after)));
        }
        json_response(self.status, &headers, &body)
    }
}
