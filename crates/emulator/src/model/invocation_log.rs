//! The log of one invocation as Lambda writes it (START, output, END, REPORT) and the tail of it
//! that X-Amz-Log-Result carries.

use std::time::Duration;

use base64::Engine;

use lambda_executor_protocol::LOG_TAIL_BYTES;

/// One invocation's log, as Lambda writes it.
pub struct InvocationLog<'a> {
    pub request_id: &'a str,
    pub version: &'a str,
    pub output: &'a [u8],
    pub duration: Duration,
    pub memory_size_mb: u32,
    pub max_memory_mb: u64,
    pub init_duration: Option<Duration>,
    /// `timeout` or `error` for failures the platform saw (not handler exceptions).
    pub status: Option<&'a str>,
    pub error_type: Option<&'a str>,
}

impl InvocationLog<'_> {
    pub fn log(&self) -> String {
        let id = self.request_id;
        let mut log = format!("START RequestId: {id} Version: {}\n", self.version);
        let output = String::from_utf8_lossy(self.output);
        log.push_str(&output);
        if !output.is_empty() && !output.ends_with('\n') {
            log.push('\n');
        }
        let duration_ms = self.duration.as_secs_f64() * 1000.0;
        // Since 1 August 2025 Lambda bills a cold start's INIT phase with the invocation
        // (aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase).
        let init_ms = self.init_duration.map_or(0.0, |init| init.as_secs_f64() * 1000.0);
        let billed_ms = (duration_ms + init_ms).ceil().max(1.0) as u64;
        log.push_str(&format!("END RequestId: {id}\n"));
        log.push_str(&format!(
            "REPORT RequestId: {id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {billed_ms} ms\t\
             Memory Size: {} MB\tMax Memory Used: {} MB",
            self.memory_size_mb, self.max_memory_mb
        ));
        if let Some(init) = self.init_duration {
            log.push_str(&format!("\tInit Duration: {:.2} ms", init.as_secs_f64() * 1000.0));
        }
        match (self.status, self.error_type) {
            (Some(status), Some(error_type)) => log.push_str(&format!("\tStatus: {status}\tError Type: {error_type}")),
            (Some(status), None) => log.push_str(&format!("\tStatus: {status}")),
            _ => {}
        }
        log.push_str("\t\n");
        log
    }
}

/// Base64 of the last 4 KB of `log`, as X-Amz-Log-Result carries it.
pub fn log_tail(log: &str) -> String {
    let bytes = log.as_bytes();
    let tail = &bytes[bytes.len().saturating_sub(LOG_TAIL_BYTES)..];
    base64::engine::general_purpose::STANDARD.encode(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(init: Option<Duration>, status: Option<&'static str>) -> String {
        InvocationLog {
            request_id: "r1",
            version: "$LATEST",
            output: b"hello",
            duration: Duration::from_micros(15_740),
            memory_size_mb: 128,
            max_memory_mb: 56,
            init_duration: init,
            status,
            error_type: status.map(|_| "Runtime.ExitError"),
        }
        .log()
    }

    #[test]
    fn a_warm_invocation_reports_duration_and_memory() {
        let log = report(None, None);
        assert!(log.starts_with("START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\n"));
        assert!(log.contains("REPORT RequestId: r1\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\t\n"));
        assert!(!log.contains("Init Duration"));
    }

    #[test]
    fn a_cold_failed_invocation_reports_init_and_status() {
        let log = report(Some(Duration::from_millis(130)), Some("error"));
        assert!(log.contains("\tInit Duration: 130.00 ms\tStatus: error\tError Type: Runtime.ExitError"));
        // INIT is billed with the invocation: 15.74 + 130 ms, rounded up to the millisecond.
        assert!(log.contains("\tDuration: 15.74 ms\tBilled Duration: 146 ms\t"));
    }

    #[test]
    fn the_tail_is_the_last_4_kb() {
        let long = "x".repeat(10_000) + "END";
        let decoded = base64::engine::general_purpose::STANDARD.decode(log_tail(&long)).unwrap();
        assert_eq!(decoded.len(), 4096);
        assert!(decoded.ends_with(b"END"));
    }
}
