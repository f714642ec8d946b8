//! One call's log read back from CloudWatch Logs (the emulator's), START to REPORT: calls of a
//! synthetic function run at once and share one stream, and each call's lines are its own.

mod lab;

use std::time::{Duration, SystemTime};

use lab::Lab;
use lambda_executor_engine::{runtime, LineQuery, LogReader, LogsError, RetryPolicy};

#[test]
fn each_call_of_many_at_once_reads_back_its_own_lines() {
    let mut lab = Lab::new("echo", Duration::from_millis(50), None, RetryPolicy::default(), 8);
    for _ in 0..8 {
        lab.submit("echo");
    }
    let outcomes = lab.outcomes(8);
    let reader = LogReader::new(&lab.client).unwrap();
    for finished in &outcomes {
        let request_id = finished.result.as_ref().unwrap().request_id.clone().unwrap();
        let lines = runtime::get()
            .block_on(reader.call("echo", &request_id, Some(SystemTime::now()), Duration::from_secs(5)))
            .unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0], format!("START RequestId: {request_id} Version: $LATEST"));
        assert_eq!(lines[1], format!("END RequestId: {request_id}"));
        assert!(lines[2].starts_with(&format!("REPORT RequestId: {request_id}\tDuration: ")), "{}", lines[2]);
    }
    let group = LogReader::log_group("arn:aws:lambda:us-east-1:123456789012:function:echo:live").unwrap();
    assert_eq!(group, "/aws/lambda/echo");
    let everything = runtime::get().block_on(reader.lines(&group, &LineQuery::default())).unwrap();
    assert_eq!(everything.len(), 8 * 3);
    assert!(everything.windows(2).all(|pair| pair[0].timestamp <= pair[1].timestamp));

    let missing = runtime::get().block_on(reader.call("echo", "no-such-request", None, Duration::from_millis(300)));
    let Err(error @ LogsError::NotFound { .. }) = missing else { panic!("{missing:?}") };
    assert!(error.to_string().contains("no START line of request no-such-request in /aws/lambda/echo after 0."));
}
