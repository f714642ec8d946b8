//! Wire facts of the Lambda Invoke API that the client (the engine) and the emulator share:
//! payload limits, header names, throttle reasons, and the forms a function reference takes.

/// Largest request payload of a synchronous (RequestResponse) invocation: 6 MB.
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Largest request payload of an asynchronous (Event) invocation: 1 MB.
pub const MAX_EVENT_PAYLOAD: usize = 1024 * 1024;
/// Largest response payload a function may return.
pub const MAX_RESPONSE_PAYLOAD: usize = 6 * 1024 * 1024;
/// Largest X-Amz-Client-Context header (base64).
pub const MAX_CLIENT_CONTEXT: usize = 3583;
/// X-Amz-Log-Result carries at most the last 4 KB of the log.
pub const LOG_TAIL_BYTES: usize = 4096;

pub const HEADER_INVOCATION_TYPE: &str = "x-amz-invocation-type";
pub const HEADER_LOG_TYPE: &str = "x-amz-log-type";
pub const HEADER_CLIENT_CONTEXT: &str = "x-amz-client-context";
pub const HEADER_FUNCTION_ERROR: &str = "x-amz-function-error";
pub const HEADER_LOG_RESULT: &str = "x-amz-log-result";
pub const HEADER_EXECUTED_VERSION: &str = "x-amz-executed-version";
pub const HEADER_REQUEST_ID: &str = "x-amzn-requestid";
pub const HEADER_ERROR_TYPE: &str = "x-amzn-errortype";

/// How a caller asked for an invocation to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "RequestResponse" => Some(Self::RequestResponse),
            "Event" => Some(Self::Event),
            "DryRun" => Some(Self::DryRun),
            _ => None,
        }
    }

    /// The header value Lambda takes (X-Amz-Invocation-Type).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestResponse => "RequestResponse",
            Self::Event => "Event",
            Self::DryRun => "DryRun",
        }
    }

    /// The request payload limit for this kind of invocation.
    pub fn max_payload(self) -> usize {
        match self {
            Self::Event => MAX_EVENT_PAYLOAD,
            Self::RequestResponse | Self::DryRun => MAX_SYNC_PAYLOAD,
        }
    }
}

/// Throttle reasons Lambda sends in a TooManyRequestsException body.
pub const REASON_ACCOUNT_CONCURRENCY: &str = "ConcurrentInvocationLimitExceeded";
pub const REASON_RESERVED_CONCURRENCY: &str = "ReservedFunctionConcurrentInvocationLimitExceeded";
pub const REASON_FUNCTION_RATE: &str = "FunctionInvocationRateLimitExceeded";
pub const REASON_RESERVED_RATE: &str = "ReservedFunctionInvocationRateLimitExceeded";
pub const REASON_CALLER_RATE: &str = "CallerRateLimitExceeded";

/// A function reference as Lambda accepts it: a name, `name:qualifier`, a partial ARN
/// (`account:function:name[:qualifier]`) or a full ARN
/// (`arn:aws:lambda:region:account:function:name[:qualifier]`).
#[derive(Debug, PartialEq, Eq)]
pub struct FunctionRef<'a> {
    pub name: &'a str,
    pub qualifier: Option<&'a str>,
}

impl<'a> FunctionRef<'a> {
    pub fn parse(reference: &'a str) -> Option<Self> {
        let parts: Vec<&str> = reference.split(':').collect();
        let (name, qualifier) = match parts.as_slice() {
            [name] => (*name, None),
            [name, qualifier] => (*name, Some(*qualifier)),
            [_account, "function", name] => (*name, None),
            [_account, "function", name, qualifier] => (*name, Some(*qualifier)),
            ["arn", _partition, "lambda", _region, _account, "function", name] => (*name, None),
            ["arn", _partition, "lambda", _region, _account, "function", name, qualifier] => (*name, Some(*qualifier)),
            _ => return None,
        };
        if !is_valid_function_name(name) || qualifier.is_some_and(|q| !is_valid_qualifier(q)) {
            return None;
        }
        Some(Self { name, qualifier })
    }
}

/// Function names: 1 to 64 letters, digits, hyphens and underscores.
pub fn is_valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Qualifiers: `$LATEST`, a version number or an alias name.
pub fn is_valid_qualifier(qualifier: &str) -> bool {
    (1..=128).contains(&qualifier.len())
        && qualifier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_references_in_every_form_name_the_function() {
        let plain = FunctionRef { name: "f", qualifier: None };
        let qualified = FunctionRef { name: "f", qualifier: Some("live") };
        assert_eq!(FunctionRef::parse("f"), Some(plain));
        assert_eq!(FunctionRef::parse("f:live"), Some(qualified));
        assert_eq!(FunctionRef::parse("123456789012:function:f").unwrap().name, "f");
        let arn = FunctionRef::parse("arn:aws:lambda:us-east-1:123456789012:function:f:7").unwrap();
        assert_eq!((arn.name, arn.qualifier), ("f", Some("7")));
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in ["", "a b", "f:", "arn:aws:s3:::bucket", "f:x:y:z:w", &"n".repeat(65)] {
            assert_eq!(FunctionRef::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn payload_limits_depend_on_the_invocation_type() {
        assert_eq!(InvocationType::Event.max_payload(), 1024 * 1024);
        assert_eq!(InvocationType::RequestResponse.max_payload(), 6 * 1024 * 1024);
        assert_eq!(InvocationType::parse("Sync"), None);
        for kind in [InvocationType::RequestResponse, InvocationType::Event, InvocationType::DryRun] {
            assert_eq!(InvocationType::parse(kind.as_str()), Some(kind));
        }
    }
}
