//! A function's architecture, which its price depends on (arm64's GB-second costs less than
//! x86_64's): read once per function from its configuration, for `stats()` to price it.

use aws_sdk_lambda::error::ProvideErrorMetadata;

use crate::client::config::SharedClient;
use crate::error_text::sentence;

/// `function`'s architecture (`x86_64` or `arm64`; a qualified name, `fn:alias`, is read at that
/// qualifier), or why it could not be read (a caller without lambda:GetFunctionConfiguration).
pub async fn architecture(client: &SharedClient, function: &str) -> Result<String, String> {
    let answer = client.sdk.get_function_configuration().function_name(function).send().await;
    match answer {
        Ok(configuration) => Ok(configuration
            .architectures()
            .first()
            .map_or_else(|| "x86_64".to_owned(), |architecture| architecture.as_str().to_owned())),
        Err(error) => Err(match error.code() {
            Some(code) => format!("GetFunctionConfiguration: {code}"),
            None => format!("GetFunctionConfiguration: {}", sentence(&error)),
        }),
    }
}
