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
/// (`arn:aws:lambda:region:account:function:name[:qualifier]`), with the partition, region and
/// account it names, if any.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FunctionRef<'a> {
    pub name: &'a str,
    pub qualifier: Option<&'a str>,
    pub partition: Option<&'a str>,
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
}

impl<'a> FunctionRef<'a> {
    pub fn parse(reference: &'a str) -> Option<Self> {
        let parts: Vec<&str> = reference.split(':').collect();
        let (name, qualifier, partition, region, account) = match parts.as_slice() {
            [name] => (*name, None, None, None, None),
            [name, qualifier] => (*name, Some(*qualifier), None, None, None),
            [account, "function", name] => (*name, None, None, None, Some(*account)),
            [account, "function", name, qualifier] => (*name, Some(*qualifier), None, None, Some(*account)),
            ["arn", partition, "lambda", region, account, "function", name, rest @ ..] if rest.len() <= 1 => {
                (*name, rest.first().copied(), Some(*partition), Some(*region), Some(*account))
            }
            _ => return None,
        };
        let account_ok = account.is_none_or(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
        let partition_ok = partition.is_none_or(|p| p.starts_with("aws"));
        if !is_valid_function_name(name)
            || qualifier.is_some_and(|q| !is_valid_qualifier(q))
            || !account_ok
            || !partition_ok
            || region.is_some_and(str::is_empty)
        {
            return None;
        }
        Some(Self { name, qualifier, partition, region, account })
    }
}

/// The partition of a region's ARNs: `aws`, `aws-cn` (China) or `aws-us-gov` (GovCloud).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
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
        let plain = FunctionRef { name: "f", ..Default::default() };
        let qualified = FunctionRef { name: "f", qualifier: Some("live"), ..Default::default() };
        assert_eq!(FunctionRef::parse("f"), Some(plain));
        assert_eq!(FunctionRef::parse("f:live"), Some(qualified));
        let partial = FunctionRef::parse("123456789012:function:f").unwrap();
        assert_eq!((partial.name, partial.account), ("f", Some("123456789012")));
        let arn = FunctionRef::parse("arn:aws-cn:lambda:cn-north-1:123456789012:function:f:7").unwrap();
        assert_eq!((arn.name, arn.qualifier), ("f", Some("7")));
        assert_eq!(
            (arn.partition, arn.region, arn.account),
            (Some("aws-cn"), Some("cn-north-1"), Some("123456789012"))
        );
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("eu-west-1"), "aws");
    }

    #[test]
    fn malformed_references_are_refused() {
        let short_account = "arn:aws:lambda:us-east-1:1234:function:f";
        let not_aws = "arn:gcp:lambda:us-east-1:123456789012:function:f";
        for bad in ["", "a b", "f:", "arn:aws:s3:::bucket", "f:x:y:z:w", &"n".repeat(65), short_account, not_aws] {
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
