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
    /// A reference to a function that may exist: [`FunctionRef::matching`] whose name is a valid
    /// function name.
    pub fn parse(reference: &'a str) -> Option<Self> {
        Self::matching(reference).filter(|function| is_valid_function_name(function.name))
    }

    /// A reference as Lambda's FunctionName pattern for reading and invoking a function takes it:
    /// the name of any length (Lambda answers a name over 64 characters "Function not found"),
    /// a qualifier in it `$LATEST` or a version or alias name, a region one of AWS's forms.
    pub fn matching(reference: &'a str) -> Option<Self> {
        let parts: Vec<&str> = reference.split(':').collect();
        let (name, qualifier, partition, region, account) = match parts.as_slice() {
            [name] => (*name, None, None, None, None),
            [name, qualifier] => (*name, Some(*qualifier), None, None, None),
            [account, "function", name] => (*name, None, None, None, Some(*account)),
            [account, "function", name, qualifier] => (*name, Some(*qualifier), None, None, Some(*account)),
            ["arn", partition, "lambda", region, account, "function", name, rest @ ..] if rest.len() <= 1 => {
                (*name, rest.first().copied(), Some(*partition), Some(*region), Some(*account))
            }
            // The pattern's `function:` is optional: `arn:aws:lambda:REGION:ACCOUNT:function` names
            // a function called "function" (recorded: test_function_name_and_qualifier_validation[incomplete_arn]).
            ["arn", partition, "lambda", region, account, name] => {
                (*name, None, Some(*partition), Some(*region), Some(*account))
            }
            _ => return None,
        };
        let account_ok = account.is_none_or(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
        let partition_ok = partition.is_none_or(|p| p.starts_with("aws"));
        let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !name_ok
            || qualifier.is_some_and(|q| !is_valid_name_qualifier(q))
            || !account_ok
            || !partition_ok
            || region.is_some_and(|r| !is_region(r))
        {
            return None;
        }
        Some(Self { name, qualifier, partition, region, account })
    }
}

/// A region as Lambda's FunctionName pattern has it: `(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}`.
pub fn is_region(region: &str) -> bool {
    let rest = region.strip_prefix("eusc-").unwrap_or(region);
    let (Some(country), Some(rest)) = (rest.get(..2), rest.get(2..)) else {
        return false;
    };
    let rest =
        ["-gov", "-isob", "-isoe", "-isof", "-iso"].iter().find_map(|kind| rest.strip_prefix(kind)).unwrap_or(rest);
    let Some((area, digit)) = rest.strip_prefix('-').and_then(|rest| rest.rsplit_once('-')) else {
        return false;
    };
    country.bytes().all(|b| b.is_ascii_lowercase())
        && !area.is_empty()
        && area.bytes().all(|b| b.is_ascii_lowercase())
        && digit.len() == 1
        && digit.bytes().all(|b| b.is_ascii_digit())
}

/// A qualifier written in a function name or ARN: `$LATEST` (or `$LATEST.PUBLISHED`), or a
/// version or alias name, with no `$` (Lambda's pattern `\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+`).
pub fn is_valid_name_qualifier(qualifier: &str) -> bool {
    qualifier == "$LATEST"
        || qualifier == "$LATEST.PUBLISHED"
        || (!qualifier.is_empty() && qualifier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
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
        let bad_region = "arn:aws:lambda:invalid-region:123456789012:function:f";
        let misspelled_latest = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATES";
        for bad in
            ["", "a b", "f:", "arn:aws:s3:::bucket", "f:x:y:z:w", short_account, not_aws, bad_region, misspelled_latest]
        {
            assert_eq!(FunctionRef::matching(bad), None, "{bad:?}");
        }
        // Lambda's pattern takes a name of any length; a function's name is 64 characters at most.
        let long = "n".repeat(65);
        assert_eq!(FunctionRef::matching(&long).map(|function| function.name), Some(long.as_str()));
        assert_eq!(FunctionRef::parse(&long), None);
        let incomplete = FunctionRef::matching("arn:aws:lambda:us-east-1:123456789012:function").unwrap();
        assert_eq!(incomplete.name, "function");
        for region in ["us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1", "us-isob-east-1"] {
            assert!(is_region(region), "{region}");
        }
        for region in ["invalid-region", "us-east-12", "US-east-1", "u-east-1", ""] {
            assert!(!is_region(region), "{region}");
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
