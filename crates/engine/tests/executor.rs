//! The executor's policies, below Python: what settings it refuses, what it checks of a call
//! before anything is sent, and what a rerun sends again of what its journal holds.

mod lab;

use std::path::PathBuf;
use std::time::Duration;

use lab::{Collect, Faults, Lab};
use lambda_executor_engine::RetryPolicy;
use lambda_executor_engine::{
    AttemptError, Executor, Failure, Journal, Resume, Settings, SpendCapAsked, Started, SubmitError,
};

fn settings(invocation_type: &str) -> Settings {
    Settings::new(None, invocation_type, false, None, None).unwrap()
}

fn refusal(settings: Result<Settings, SubmitError>) -> String {
    match settings {
        Ok(_) => panic!("the settings were accepted"),
        Err(error) => error.to_string(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("lambda-executor-executor-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder.join("run.db")
}

#[test]
fn settings_an_executor_cannot_have_are_refused_saying_why() {
    let cap = || Some(SpendCapAsked { max_cost: 1.0, price_per_gb_second: 0.0, price_per_request: 0.0 });
    assert!(refusal(Settings::new(None, "DryRun", false, None, None))
        .contains("'RequestResponse' or 'Event', not 'DryRun'"));
    assert!(
        refusal(Settings::new(Some("my alias".into()), "Event", false, None, None)).contains("not a version or alias")
    );
    assert!(
        refusal(Settings::new(None, "Event", false, cap(), None)).contains("max_cost needs synchronous invocations")
    );
    let negative = Some(SpendCapAsked { max_cost: -1.0, price_per_gb_second: 0.0, price_per_request: 0.0 });
    assert!(
        refusal(Settings::new(None, "RequestResponse", false, negative, None)).contains("max_cost must be a positive")
    );
    assert!(Settings::new(Some("live".into()), "RequestResponse", false, cap(), None).is_ok());
}

#[test]
fn a_call_is_checked_and_shaped_before_anything_is_sent() {
    let lab = Lab::new("echo", Duration::ZERO, None, RetryPolicy::default(), 4);
    let executor = Executor::new(lab.client.clone(), RetryPolicy::default(), 4, settings("Event")).unwrap();
    assert!(matches!(executor.check("not a name"), Err(SubmitError::Invalid(why)) if why.contains("'not a name'")));
    assert!(executor.check("echo:live").is_ok());
    // Lambda's limit for an Event payload is 1 MB (6 MB for a synchronous one).
    let Err(error) = executor.request("echo", vec![b' '; 1024 * 1024 + 1], None, false) else {
        panic!("1 MB + 1 was accepted")
    };
    assert!(matches!(&error, SubmitError::PayloadTooLarge(_)), "{error}");
    assert!(error.to_string().contains("limit for Event invocations; nothing was sent"), "{error}");
    assert!(executor.request("echo", vec![b' '; 1024 * 1024], None, false).is_ok());

    // The executor's qualifier, unless the call names its own; a spend cap asks for the log tail.
    let cap = Some(SpendCapAsked { max_cost: 1.0, price_per_gb_second: 0.0, price_per_request: 0.0 });
    let capped = Settings::new(Some("live".into()), "RequestResponse", false, cap, None).unwrap();
    let executor = Executor::new(lab.client.clone(), RetryPolicy::default(), 4, capped).unwrap();
    let request = executor.request("echo", b"{}".to_vec(), Some(false), false).unwrap();
    assert_eq!((request.qualifier.as_deref(), request.log_tail), (Some("live"), true));
    assert_eq!(executor.request("echo:1", b"{}".to_vec(), None, false).unwrap().qualifier, None);
    assert!(lab.invocations("echo") == 0, "nothing was sent");
}

#[test]
fn a_rerun_replays_what_its_journal_holds_as_its_resume_policy_says() {
    let path = scratch("resume");
    let policy = RetryPolicy { max_retries: 0, throttle_timeout: 0.001, ..RetryPolicy::default() };
    let lab = Lab::new("flaky", Duration::ZERO, None, policy.clone(), 4);
    let executor = Executor::new(lab.client.clone(), policy.clone(), 4, settings("RequestResponse")).unwrap();
    let journal = Journal::open(&path).unwrap();
    let resend = Resume { retry_failed: true, resume_in_flight: true };
    let start = |executor: &Executor, journal: &Journal, resume: Resume, payload: &str| {
        let request = executor.request("flaky", payload.as_bytes().to_vec(), None, false).unwrap();
        executor.start(request, Some((journal, resume)), Collect { index: 0, outcomes: lab.sender() }).unwrap()
    };
    assert!(matches!(start(&executor, &journal, resend, r#"{"ok": 1}"#), Started::Sent(_)));
    lab.outcomes(1);
    lab.inject("flaky", Faults { service_error: 1.0, ..Faults::default() });
    assert!(matches!(start(&executor, &journal, resend, r#"{"ok": 2}"#), Started::Sent(_)));
    lab.outcomes(1);
    journal.flush();
    drop(journal);

    let journal = Journal::open(&path).unwrap();
    let executor = Executor::new(lab.client.clone(), policy, 4, settings("RequestResponse")).unwrap();
    let keep_failures = Resume { retry_failed: false, resume_in_flight: true };
    match start(&executor, &journal, keep_failures, r#"{"ok": 1}"#) {
        Started::Replayed(_, finished) => assert!(finished.from_journal && finished.result.is_ok()),
        Started::Sent(_) => panic!("a call that succeeded was sent again"),
    }
    match start(&executor, &journal, keep_failures, r#"{"ok": 2}"#) {
        Started::Replayed(_, finished) => {
            assert!(matches!(finished.result, Err(Failure::Attempt(AttemptError::Unavailable { .. }))))
        }
        Started::Sent(_) => panic!("with retry_failed=False a failed call was sent again"),
    }
    assert_eq!(lab.injected("flaky", "service_error"), 1, "the failed call was not sent again");
    // With retry_failed, the failed call is sent again (and fails again).
    assert!(matches!(start(&executor, &journal, resend, r#"{"ok": 2}"#), Started::Sent(_)));
    lab.outcomes(1);
    assert_eq!(executor.dispatcher().summary().from_journal, 2);
}
