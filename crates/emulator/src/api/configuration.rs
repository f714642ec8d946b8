//! The FunctionConfiguration document Lambda answers with for a function or one of its versions
//! (CreateFunction, GetFunction, PublishVersion, ListFunctions, ListVersionsByFunction...).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::model::function::{FunctionKind, FunctionSpec};
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
    })
}
