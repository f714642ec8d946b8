//! The SDK's retry for calls other than Invoke (deploy's control-plane and IAM calls): a call is
//! sent again only when it never left (the connection failed before the request was written, or
//! the peer reset it unread, as a proxy does with a pooled connection it closed); one that may
//! have been read is not, whatever the SDK's own classifiers say, so that no change is made twice.

use std::time::Duration;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_types::retry::RetryConfig;

use crate::client::http;

/// At most this many attempts of one call.
const ATTEMPTS: u32 = 3;

/// The retry configuration that goes with [`ResendUnsent`]: quick, as a call that never left
/// waits for nothing.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(ATTEMPTS).with_initial_backoff(Duration::from_millis(50))
}

#[derive(Debug)]
pub struct ResendUnsent;

impl ClassifyRetry for ResendUnsent {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = context.output_or_error() else { return RetryAction::NoActionIndicated };
        match error.as_connector_error() {
            Some(connector) if http::never_sent(connector) => RetryAction::transient_error(),
            Some(_) => RetryAction::RetryForbidden,
            // A timeout or an unreadable answer: the call may have been made.
            None if error.is_timeout_error() || error.is_response_error() => RetryAction::RetryForbidden,
            None => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "ResendUnsent"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After the SDK's classifiers, so that its word on a connection failure is overruled.
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
