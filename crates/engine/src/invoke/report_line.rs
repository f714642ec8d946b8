//! The REPORT line Lambda ends each invocation's log with, read back from a log tail: what the
//! invocation was billed for, and whether it met a cold start.

/// What Lambda reported for one invocation (`future.invocation.report`, with `log_tail=True`).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub duration_ms: f64,
    pub billed_duration_ms: f64,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u32,
    /// Set only when the invocation started a new execution environment (a cold start). Since
    /// 1 August 2025 Lambda bills it: Billed Duration includes it.
    pub init_duration_ms: Option<f64>,
    /// A SnapStart function's cold start restores a snapshot instead: these two are set, and the
    /// billed part is priced as duration, the restore itself per GB of memory restored.
    pub restore_duration_ms: Option<f64>,
    pub billed_restore_duration_ms: Option<f64>,
}

impl Report {
    pub fn cold_start(&self) -> bool {
        self.init_duration_ms.is_some() || self.restore_duration_ms.is_some()
    }

    /// GB-seconds billed: billed duration (and billed restore duration) times configured memory.
    pub fn gb_seconds(&self) -> f64 {
        let billed_ms = self.billed_duration_ms + self.billed_restore_duration_ms.unwrap_or(0.0);
        billed_ms / 1000.0 * self.memory_gb()
    }

    /// GB of memory restored from a SnapStart snapshot (none but on a SnapStart cold start).
    pub fn restored_gb(&self) -> f64 {
        if self.restore_duration_ms.is_some() {
            self.memory_gb()
        } else {
            0.0
        }
    }

    fn memory_gb(&self) -> f64 {
        f64::from(self.memory_size_mb) / 1024.0
    }
}

/// The last REPORT line in `log`, if the tail holds a whole one.
pub fn parse(log: &str) -> Option<Report> {
    let line = log.lines().rev().find(|line| line.starts_with("REPORT RequestId:"))?;
    let mut fields = std::collections::HashMap::new();
    for field in line.split('\t') {
        if let Some((name, value)) = field.split_once(": ") {
            fields.insert(name.trim(), value.trim());
        }
    }
    let number = |name: &str, unit: &str| -> Option<f64> { fields.get(name)?.strip_suffix(unit)?.trim().parse().ok() };
    Some(Report {
        duration_ms: number("Duration", "ms")?,
        billed_duration_ms: number("Billed Duration", "ms")?,
        memory_size_mb: number("Memory Size", "MB")? as u32,
        max_memory_used_mb: number("Max Memory Used", "MB")? as u32,
        init_duration_ms: number("Init Duration", "ms"),
        restore_duration_ms: number("Restore Duration", "ms"),
        billed_restore_duration_ms: number("Billed Restore Duration", "ms"),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use lambda_executor_emulator::invocation_log::InvocationLog as Written;

    fn written(init: Option<Duration>) -> String {
        Written {
            request_id: "r1",
            version: "$LATEST",
            output: b"some output\nREPORT lines printed by the handler do not count",
            duration: Duration::from_micros(15_740),
            memory_size_mb: 512,
            max_memory_mb: 56,
            init_duration: init,
            status: None,
            error_type: None,
        }
        .log()
    }

    #[test]
    fn reads_back_what_lambda_writes() {
        let warm = parse(&written(None)).unwrap();
        assert_eq!(
            warm,
            Report {
                duration_ms: 15.74,
                billed_duration_ms: 16.0,
                memory_size_mb: 512,
                max_memory_used_mb: 56,
                init_duration_ms: None,
                restore_duration_ms: None,
                billed_restore_duration_ms: None,
            }
        );
        assert!((warm.gb_seconds() - 0.016 / 2.0).abs() < 1e-12);
        // A cold start's INIT is billed (since 1 August 2025): 15.74 + 130 ms, rounded up.
        let cold = parse(&written(Some(Duration::from_millis(130)))).unwrap();
        assert_eq!((cold.init_duration_ms, cold.billed_duration_ms), (Some(130.0), 146.0));
        assert!(cold.cold_start() && cold.restored_gb() == 0.0);
    }

    #[test]
    fn reads_and_prices_a_snapstart_restore() {
        // The fields of AWS's documentation (docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html).
        let line = "REPORT RequestId: 9f1a\tDuration: 20.50 ms\tBilled Duration: 21 ms\tMemory Size: 2048 MB\t\
                    Max Memory Used: 90 MB\tRestore Duration: 480.25 ms\tBilled Restore Duration: 120 ms\t\n";
        let report = parse(line).unwrap();
        assert_eq!((report.restore_duration_ms, report.billed_restore_duration_ms), (Some(480.25), Some(120.0)));
        assert!(report.cold_start() && report.init_duration_ms.is_none());
        assert!((report.gb_seconds() - 0.141 * 2.0).abs() < 1e-12, "21 + 120 ms at 2 GB");
        assert_eq!(report.restored_gb(), 2.0);
    }

    #[test]
    fn reads_aws_lines_with_status_and_trailing_tab() {
        let line = "END RequestId: x\nREPORT RequestId: 3f1d\tDuration: 1003.14 ms\tBilled Duration: 1004 ms\t\
                    Memory Size: 128 MB\tMax Memory Used: 38 MB\tInit Duration: 141.79 ms\tStatus: timeout\t\n";
        let report = parse(line).unwrap();
        assert_eq!((report.billed_duration_ms, report.init_duration_ms), (1004.0, Some(141.79)));
    }

    #[test]
    fn a_tail_cut_before_the_report_has_none() {
        assert_eq!(parse("START RequestId: r1 Version: $LATEST\nlots of output"), None);
        assert_eq!(parse("REPORT RequestId: r1\tDuration: 3"), None);
    }
}
