//! The whole log of one invocation, START to REPORT, as Lambda wrote it to CloudWatch Logs.
//!
//! Lambda writes a call's START, END and REPORT lines with its request id, and its handler's
//! lines in between, to the stream of the execution environment that ran it; an environment runs
//! one call at a time, so between a call's START and its REPORT its stream holds that call's lines
//! only. Filtering the group by the request id (as Lambda's users do) finds START, END and REPORT
//! and the lines logged through the logging module (awslambdaric puts the id in their prefix), but
//! not what the handler printed. So the call's START is found by filtering the group for the
//! quoted request id (FilterLogEvents), and its stream is then read from the START's time
//! (GetLogEvents) to its REPORT. Lambda's text log format only (not `LogFormat: JSON`).
//!
//! A call that just ended may not have reached CloudWatch Logs yet (it takes seconds on AWS):
//! the read is repeated, with growing pauses, until the call's REPORT is there or the time given
//! has passed.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::reader::{failed, without_newline, LogReader, LogsError};

const FIRST_PAUSE: Duration = Duration::from_millis(200);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);
/// A call's START is no older than this before it ended: 15 minutes of run, and its init.
const LONGEST_CALL: Duration = Duration::from_secs(16 * 60);
/// Pages read looking for one call at most (CloudWatch may answer a search with empty pages).
const MAX_PAGES: usize = 1000;

/// What one read of the group found of the call.
enum Found {
    Complete(Vec<String>),
    NoStart,
    NoReport { stream: String, lines: usize },
}

/// Whether `message` is the `kind` line (START, REPORT) of the request `request_id`.
fn is_line_of(message: &str, kind: &str, request_id: &str) -> bool {
    message
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(" RequestId: "))
        .and_then(|rest| rest.strip_prefix(request_id))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

impl LogReader {
    /// The lines of the call `request_id` of `function`, START to REPORT, waiting up to `timeout`
    /// for them to reach CloudWatch Logs. `ended`, when the call ended if known, bounds the search.
    pub async fn call(
        &self,
        function: &str,
        request_id: &str,
        ended: Option<SystemTime>,
        timeout: Duration,
    ) -> Result<Vec<String>, LogsError> {
        let group = Self::log_group(function)?;
        let start_time = ended
            .and_then(|ended| ended.checked_sub(LONGEST_CALL))
            .map(|start| start.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64));
        let began = Instant::now();
        let deadline = began + timeout;
        let mut pause = FIRST_PAUSE;
        loop {
            let found = self.read_call(&group, request_id, start_time, deadline).await;
            let waited = began.elapsed();
            let not_yet = match found {
                Ok(Found::Complete(lines)) => return Ok(lines),
                Ok(Found::NoStart) => {
                    LogsError::NotFound { request_id: request_id.into(), group: group.clone(), waited }
                }
                Ok(Found::NoReport { stream, lines }) => {
                    LogsError::Incomplete { request_id: request_id.into(), group: group.clone(), stream, lines, waited }
                }
                // A function's first call may come before its group does.
                Err(no_group @ LogsError::NoLogGroup { .. }) => no_group,
                Err(error) => return Err(error),
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(not_yet);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    async fn read_call(
        &self,
        group: &str,
        request_id: &str,
        start_time: Option<i64>,
        deadline: Instant,
    ) -> Result<Found, LogsError> {
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .logs
                .filter_log_events()
                .log_group_name(group)
                .filter_pattern(format!("\"{request_id}\""))
                .set_start_time(start_time)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|error| failed("FilterLogEvents", group, error))?;
            let start =
                page.events().iter().find(|event| is_line_of(event.message().unwrap_or_default(), "START", request_id));
            if let Some(event) = start {
                let stream = event.log_stream_name().unwrap_or_default().to_owned();
                return self.read_stream(group, &stream, request_id, event.timestamp()).await;
            }
            match page.next_token() {
                Some(next) if Instant::now() < deadline => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(Found::NoStart)
    }

    /// The call's lines in its stream, from its START (at `from`) to its REPORT.
    async fn read_stream(
        &self,
        group: &str,
        stream: &str,
        request_id: &str,
        from: Option<i64>,
    ) -> Result<Found, LogsError> {
        let mut lines = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .logs
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .set_start_time(from)
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|error| failed("GetLogEvents", group, error))?;
            for event in page.events() {
                let message = event.message().unwrap_or_default();
                if lines.is_empty() && !is_line_of(message, "START", request_id) {
                    continue; // an earlier call's line of the same millisecond
                }
                lines.push(without_newline(message));
                if is_line_of(message, "REPORT", request_id) {
                    return Ok(Found::Complete(lines));
                }
            }
            // The forward token comes back unchanged at the stream's end.
            match page.next_forward_token() {
                Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(Found::NoReport { stream: stream.to_owned(), lines: lines.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::is_line_of;

    #[test]
    fn lines_of_a_request_are_told_by_their_kind_and_whole_id() {
        assert!(is_line_of("START RequestId: r-1 Version: $LATEST\n", "START", "r-1"));
        assert!(is_line_of("REPORT RequestId: r-1\tDuration: 1.00 ms\t\n", "REPORT", "r-1"));
        assert!(!is_line_of("REPORT RequestId: r-10\tDuration: 1.00 ms\n", "REPORT", "r-1"));
        assert!(!is_line_of("END RequestId: r-1\n", "REPORT", "r-1"));
        assert!(!is_line_of("[INFO] START RequestId: r-1", "START", "r-1"));
    }
}
