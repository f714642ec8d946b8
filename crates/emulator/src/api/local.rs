//! LocalLambda's own operation (no AWS one): GET /local-lambda/runtime says which runtime its
//! interpreter serves, which `deploy` takes as its default against it.

use hyper::StatusCode;

use crate::environment::interpreters::version_of;
use crate::http::{json_response, HttpResponse};
use crate::service::emulator::Emulator;

/// Where LocalLambda says which runtime its interpreter serves (see `deploy`).
pub const RUNTIME_PATH: &str = "/local-lambda/runtime";

/// The runtime the emulator's interpreter is (`{"Runtime": "python3.12"}`, or null if unknown).
pub async fn runtime(emulator: &Emulator) -> HttpResponse {
    let runtime = version_of(&emulator.config.python).await.map(|version| format!("python{version}"));
    json_response(StatusCode::OK, &[], &serde_json::json!({ "Runtime": runtime }))
}
