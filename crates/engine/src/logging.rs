//! What the engine tells its user, through the `log` facade: each record's target names the
//! subsystem that decided it, and the Python bindings send it to the logger of the same name
//! (`lambda_executor::retry` to `lambda_executor.retry`). DEBUG is per call, INFO a change of a
//! limit, WARNING work lost. No record holds a payload, a credential or a signature.
//!
//! The AWS SDK logs through `tracing`; [`forward_sdk_events`] sends its events (DEBUG and above,
//! as botocore's logger does) to `lambda_executor::sdk` at DEBUG, and withholds any that names a
//! credential or a signed header. Spans are never kept; while that logger is off, tracing skips
//! the SDK's events where they are written, as if no subscriber were set.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::{Interest, Subscriber};
use tracing_core::{Event, LevelFilter, Metadata};

/// Each call's end, and a call cancelled or abandoned.
pub const CALL: &str = "lambda_executor::call";
/// Each retry (why, the delay), and a call the retry policy gave up on.
pub const RETRY: &str = "lambda_executor::retry";
/// Each throttle: Lambda's Reason, and the limit or rate that follows.
pub const THROTTLE: &str = "lambda_executor::throttle";
/// A function's concurrency limit or request rate changed.
pub const LIMITS: &str = "lambda_executor::limits";
/// Calls answered from a journal or sent again.
pub const JOURNAL: &str = "lambda_executor::journal";
/// Payloads moved through S3.
pub const SPILL: &str = "lambda_executor::spill";
/// The spend cap reached.
pub const SPEND: &str = "lambda_executor::spend";
/// The AWS SDK's own events.
pub const SDK: &str = "lambda_executor::sdk";
/// Every target the engine logs to.
pub const TARGETS: [&str; 8] = [CALL, RETRY, THROTTLE, LIMITS, JOURNAL, SPILL, SPEND, SDK];

/// What an SDK event may not carry to a log (lowercase): signed headers (Authorization,
/// X-Amz-Date, X-Amz-Security-Token), a signature, credentials, a session token.
const SECRET_MARKS: [&str; 7] =
    ["authorization", "x-amz-date", "signature", "credential", "access_key", "secret", "token"];

/// Whether the SDK's events are forwarded now.
static FORWARDING: AtomicBool = AtomicBool::new(false);

/// Forwards the SDK's `tracing` events to `lambda_executor::sdk` (`on`: that logger takes DEBUG),
/// or stops. The first call sets the process's subscriber.
pub fn forward_sdk_events(on: bool) {
    static SUBSCRIBED: Once = Once::new();
    SUBSCRIBED.call_once(|| {
        let _ = tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(SdkEvents));
    });
    if FORWARDING.swap(on, Ordering::Relaxed) != on {
        // Each callsite asks again whether it is wanted, and remembers.
        tracing_core::callsite::rebuild_interest_cache();
    }
}

/// A `tracing` subscriber that keeps no spans and hands events on to `log`.
struct SdkEvents;

impl Subscriber for SdkEvents {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Spans and TRACE events (the SDK's requests and responses, whole) are never kept.
        if FORWARDING.load(Ordering::Relaxed) && metadata.is_event() && *metadata.level() <= tracing_core::Level::DEBUG
        {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(if FORWARDING.load(Ordering::Relaxed) { LevelFilter::DEBUG } else { LevelFilter::OFF })
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        FORWARDING.load(Ordering::Relaxed) && metadata.is_event()
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = Fields(String::new());
        event.record(&mut text);
        log::debug!(target: SDK, "{}", sdk_line(event.metadata().target(), &text.0));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// An SDK event as logged: where it comes from and what it says, or that it was withheld.
fn sdk_line(origin: &str, text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if SECRET_MARKS.iter().any(|mark| lower.contains(mark)) {
        format!("{origin}: an event withheld (it names credentials or a signature)")
    } else {
        format!("{origin}: {text}")
    }
}

/// An event's fields as `message field=value ...`.
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let gap = if self.0.is_empty() { "" } else { " " };
        let _ = match field.name() {
            "message" => write!(self.0, "{gap}{value:?}"),
            name => write!(self.0, "{gap}{name}={value:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sdk_event_naming_a_credential_or_a_signature_is_withheld() {
        for text in [
            "identity loaded: Credentials { access_key_id: \"AKIDEXAMPLE\", secret_access_key: \"** redacted **\" }",
            "headers: {\"authorization\": \"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/..., Signature=abc\"}",
            "x-amz-security-token: FwoGZXIvYXdzE",
        ] {
            let line = sdk_line("aws_smithy_runtime", text);
            assert_eq!(line, "aws_smithy_runtime: an event withheld (it names credentials or a signature)");
        }
        assert_eq!(sdk_line("hyper_util", "connecting to 127.0.0.1:9001"), "hyper_util: connecting to 127.0.0.1:9001");
    }
}
