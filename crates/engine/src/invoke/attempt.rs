//! One Invoke call through the shared client: the request as the SDK sends it, the response as
//! the dispatcher reads it.

use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType as SdkInvocationType, LogType};
use lambda_executor_protocol::InvocationType;

use crate::client::config::SharedClient;
use crate::invoke::failure::{classify, AttemptError, Peer};
use crate::invoke::request::{InvokeRequest, Invoked};

pub async fn attempt(client: &SharedClient, request: &InvokeRequest) -> Result<Invoked, AttemptError> {
    let invocation_type = match request.invocation_type {
        InvocationType::RequestResponse => SdkInvocationType::RequestResponse,
        InvocationType::Event => SdkInvocationType::Event,
        InvocationType::DryRun => SdkInvocationType::DryRun,
    };
    let mut call = client
        .sdk
        .invoke()
        .function_name(&request.function)
        .set_qualifier(request.qualifier.clone())
        .invocation_type(invocation_type)
        .payload(Blob::from_maybe_shared(request.payload.clone()));
    if request.log_tail && request.invocation_type == InvocationType::RequestResponse {
        call = call.log_type(LogType::Tail);
    }
    match call.send().await {
        Ok(mut output) => {
            let payload = output.payload.take().map(Blob::into_bytes).unwrap_or_default();
            let function_error = output.function_error.take();
            let unreadable = request.invocation_type == InvocationType::RequestResponse
                && function_error.is_none()
                && serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err();
            Ok(Invoked {
                status_code: output.status_code(),
                request_id: output.request_id().map(str::to_owned),
                payload,
                function_error,
                log_tail: output.log_result.take().map(|encoded| decode_log(&encoded)),
                executed_version: output.executed_version.take(),
                unreadable,
            })
        }
        Err(error) => Err(classify(error, &Peer { function: &request.function, client })),
    }
}

fn decode_log(encoded: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
