//! The operations LocalLambda serves, one row each: Lambda's (with the method and path template of
//! AWS's API model), CloudWatch Logs' reads and LocalLambda's own. routes.rs routes them; this
//! table says what it routes, for the documentation's checklist (`local_lambda_operations()` in
//! Python), and tests/emulator/test_operations_table.py keeps the two agreeing, operation by
//! operation of AWS's Lambda and CloudWatch Logs models.

use super::local::RUNTIME_PATH;

/// The API an operation belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Lambda,
    /// CloudWatch Logs' JSON 1.1 API: a POST to `/` whose `X-Amz-Target` names the operation.
    CloudWatchLogs,
    /// LocalLambda's own endpoints, which AWS does not have.
    LocalLambda,
}

impl Service {
    /// The service's name as AWS's SDKs name it (`lambda`, `logs`), or `local-lambda`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lambda => "lambda",
            Self::CloudWatchLogs => "logs",
            Self::LocalLambda => "local-lambda",
        }
    }
}

/// One operation LocalLambda serves.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    pub service: Service,
    /// The operation's name as AWS names it.
    pub name: &'static str,
    pub method: &'static str,
    /// The request URI's template, as AWS's API model writes it.
    pub path: &'static str,
}

const fn lambda(name: &'static str, method: &'static str, path: &'static str) -> Operation {
    Operation { service: Service::Lambda, name, method, path }
}

const fn logs(name: &'static str) -> Operation {
    Operation { service: Service::CloudWatchLogs, name, method: "POST", path: "/" }
}

/// Every operation LocalLambda serves; any other request is an UnknownOperationException.
pub const OPERATIONS: &[Operation] = &[
    lambda("Invoke", "POST", "/2015-03-31/functions/{FunctionName}/invocations"),
    // Functions
    lambda("CreateFunction", "POST", "/2015-03-31/functions"),
    lambda("ListFunctions", "GET", "/2015-03-31/functions"),
    lambda("GetFunction", "GET", "/2015-03-31/functions/{FunctionName}"),
    lambda("DeleteFunction", "DELETE", "/2015-03-31/functions/{FunctionName}"),
    lambda("GetFunctionConfiguration", "GET", "/2015-03-31/functions/{FunctionName}/configuration"),
    lambda("UpdateFunctionConfiguration", "PUT", "/2015-03-31/functions/{FunctionName}/configuration"),
    lambda("UpdateFunctionCode", "PUT", "/2015-03-31/functions/{FunctionName}/code"),
    // Versions and aliases
    lambda("PublishVersion", "POST", "/2015-03-31/functions/{FunctionName}/versions"),
    lambda("ListVersionsByFunction", "GET", "/2015-03-31/functions/{FunctionName}/versions"),
    lambda("CreateAlias", "POST", "/2015-03-31/functions/{FunctionName}/aliases"),
    lambda("ListAliases", "GET", "/2015-03-31/functions/{FunctionName}/aliases"),
    lambda("GetAlias", "GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}"),
    lambda("UpdateAlias", "PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}"),
    lambda("DeleteAlias", "DELETE", "/2015-03-31/functions/{FunctionName}/aliases/{Name}"),
    // Tags
    lambda("ListTags", "GET", "/2017-03-31/tags/{Resource}"),
    lambda("TagResource", "POST", "/2017-03-31/tags/{Resource}"),
    lambda("UntagResource", "DELETE", "/2017-03-31/tags/{Resource}"),
    // Resource-based policies
    lambda("AddPermission", "POST", "/2015-03-31/functions/{FunctionName}/policy"),
    lambda("GetPolicy", "GET", "/2015-03-31/functions/{FunctionName}/policy"),
    lambda("RemovePermission", "DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}"),
    // Event invoke configurations
    lambda("PutFunctionEventInvokeConfig", "PUT", "/2019-09-25/functions/{FunctionName}/event-invoke-config"),
    lambda("UpdateFunctionEventInvokeConfig", "POST", "/2019-09-25/functions/{FunctionName}/event-invoke-config"),
    lambda("GetFunctionEventInvokeConfig", "GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config"),
    lambda("DeleteFunctionEventInvokeConfig", "DELETE", "/2019-09-25/functions/{FunctionName}/event-invoke-config"),
    lambda("ListFunctionEventInvokeConfigs", "GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config/list"),
    // Concurrency and account settings
    lambda("PutFunctionConcurrency", "PUT", "/2017-10-31/functions/{FunctionName}/concurrency"),
    lambda("GetFunctionConcurrency", "GET", "/2019-09-30/functions/{FunctionName}/concurrency"),
    lambda("DeleteFunctionConcurrency", "DELETE", "/2017-10-31/functions/{FunctionName}/concurrency"),
    lambda("GetAccountSettings", "GET", "/2016-08-19/account-settings"),
    // Layers
    lambda("PublishLayerVersion", "POST", "/2018-10-31/layers/{LayerName}/versions"),
    lambda("ListLayerVersions", "GET", "/2018-10-31/layers/{LayerName}/versions"),
    lambda("GetLayerVersion", "GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}"),
    lambda("DeleteLayerVersion", "DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}"),
    lambda("GetLayerVersionByArn", "GET", "/2018-10-31/layers?find=LayerVersion"),
    lambda("ListLayers", "GET", "/2018-10-31/layers"),
    // The reads of a function's logs
    logs("FilterLogEvents"),
    logs("GetLogEvents"),
    logs("DescribeLogStreams"),
    Operation { service: Service::LocalLambda, name: "GetRuntime", method: "GET", path: RUNTIME_PATH },
];
