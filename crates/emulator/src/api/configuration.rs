//! The FunctionConfiguration document Lambda answers with for a function or one of its versions
//! (CreateFunction, GetFunction, PublishVersion, ListFunctions, ListVersionsByFunction...).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::model::function::{FunctionKind, FunctionSpec};
use crate::model::log_names::log_group;
use crate::model::version::version_name;
use crate::service::emulator::Emulator;
use crate::state::code_store::Deployment;

/// The FunctionConfiguration document of $LATEST or of published version `version`; its ARN
/// carries `arn_qualifier` if given.
pub fn configuration_document(
    emulator: &Emulator,
    spec: &FunctionSpec,
    deployment: &Deployment,
    version: Option<u32>,
    arn_qualifier: Option<&str>,
) -> Value {
    let name = &spec.name;
    let mut arn = emulator.function_arn(name);
    if let Some(qualifier) = arn_qualifier {
        arn = format!("{arn}:{qualifier}");
    }
    let (handler, variables) = match &spec.kind {
        FunctionKind::Python { handler, variables, .. } => {
            (handler.clone(), variables.iter().cloned().collect::<BTreeMap<_, _>>())
        }
        FunctionKind::Synthetic { .. } => ("synthetic".to_owned(), BTreeMap::new()),
    };
    json!({
        "FunctionName": name,
        "FunctionArn": arn,
        "Runtime": deployment.runtime,
        "Role": deployment.role,
        "Handler": handler,
        "CodeSize": deployment.code_size,
        "Description": deployment.description,
        "Timeout": spec.timeout.as_secs(),
        "MemorySize": spec.memory_mb,
        "LastModified": deployment.last_modified,
        "CodeSha256": deployment.code_sha256,
        "Version": version_name(version),
        "Environment": {"Variables": variables},
        "Layers": deployment
            .layers
            .iter()
            .map(|layer| json!({"Arn": layer.arn, "CodeSize": layer.code_size}))
            .collect::<Vec<_>>(),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": deployment.architectures,
        "RevisionId": deployment.revision_id,
        // Lambda's defaults for what LocalLambda does not vary (as recorded against AWS in
        // LocalStack's test_lambda_api.snapshot.json, test_publish_version_on_create).
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": log_group(name)},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "TracingConfig": {"Mode": "PassThrough"},
        "RuntimeVersionConfig": {"RuntimeVersionArn": runtime_version_arn(emulator, &deployment.runtime)},
    })
}

/// The ARN of the runtime version a function runs: Lambda's form, `arn:aws:lambda:REGION::runtime:`
/// and 64 hex digits; LocalLambda's digits are the runtime name's SHA-256, one version per runtime.
fn runtime_version_arn(emulator: &Emulator, runtime: &str) -> String {
    let digest: String = Sha256::digest(runtime.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect();
    format!("arn:{}:lambda:{}::runtime:{digest}", emulator.partition(), emulator.config.region)
}
