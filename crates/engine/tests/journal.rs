//! The resume journal with real SQLite files and the dispatcher against the emulator, in-process:
//! what is recorded, what a reopened journal holds, and the journals that must be refused.
#![cfg(unix)]

mod lab;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use lab::{Collect, Faults, Lab};
use lambda_executor_engine::protocol::InvocationType;
use lambda_executor_engine::Job;
use lambda_executor_engine::RetryPolicy;
use lambda_executor_engine::{AttemptError, Failure, InvokeRequest};
use lambda_executor_engine::{Journal, State};

fn scratch(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("lambda-executor-journal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder.join("run.db")
}

fn request(payload: &str) -> InvokeRequest {
    InvokeRequest {
        function: "echo".into(),
        qualifier: None,
        invocation_type: InvocationType::RequestResponse,
        log_tail: false,
        payload: Bytes::from(payload.to_owned()),
        spill: None,
    }
}

fn refusal(path: &Path) -> String {
    match Journal::open(path) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(error) => error.to_string(),
    }
}

#[test]
fn outcomes_are_recorded_and_a_reopened_journal_holds_them_by_payload_and_occurrence() {
    let path = scratch("outcomes");
    let mut lab = Lab::new("echo", Duration::ZERO, None, RetryPolicy::default(), 8);
    lab.journal = Some(Journal::open(&path).unwrap());
    for payload in [r#"{"n": 1}"#, r#"{"n": 2}"#, r#"{"n": 1}"#] {
        let job = Job::new(Collect { index: lab.submitted, outcomes: lab.sender() });
        lab.submit_payload("echo", job, Bytes::from(payload));
    }
    assert_eq!(lab.outcomes(3).iter().filter(|finished| finished.result.is_ok()).count(), 3);
    lab.journal.take().unwrap().close();
    drop(lab);

    let journal = Journal::open(&path).unwrap();
    // The same keys in the same order: {"n": 1} twice is occurrence 0, then 1.
    let keys: Vec<_> = [r#"{"n": 1}"#, r#"{"n": 2}"#, r#"{"n": 1}"#, r#"{"n": 1}"#]
        .iter()
        .map(|payload| journal.key_for(&request(payload)))
        .collect();
    assert_eq!(keys.iter().map(|key| key.occurrence).collect::<Vec<_>>(), [0, 0, 1, 2]);
    for (key, expected) in keys.iter().zip([r#"{"n": 1}"#, r#"{"n": 2}"#, r#"{"n": 1}"#]) {
        let stored = journal.stored(key).unwrap().expect("recorded");
        assert_eq!(stored.state, State::Succeeded);
        let invoked = stored.outcome.unwrap().unwrap();
        assert_eq!(invoked.payload, expected.as_bytes(), "the echo's own result");
        assert!(invoked.request_id.is_some());
    }
    assert!(journal.stored(&keys[3]).unwrap().is_none(), "a third {{\"n\": 1}} was never submitted");
}

#[test]
fn a_failure_is_replayed_as_it_came_and_a_throttled_out_call_says_so() {
    let path = scratch("failures");
    let policy = RetryPolicy { max_retries: 0, throttle_timeout: 0.001, ..RetryPolicy::default() };
    let mut lab = Lab::new("busy", Duration::ZERO, None, policy, 4);
    lab.inject("busy", Faults { throttle: 1.0, ..Faults::default() });
    lab.journal = Some(Journal::open(&path).unwrap());
    lab.submit("busy");
    let finished = lab.outcomes(1).pop().unwrap();
    assert!(matches!(finished.result, Err(Failure::Attempt(AttemptError::Throttled { .. }))));
    let journal = lab.journal.take().unwrap();
    journal.flush();
    let key = journal.key_for(&InvokeRequest { function: "busy".into(), ..request(r#"{"i": 0}"#) });
    // The key of this opening's second submission of that payload: occurrence 1, never sent.
    assert!(journal.stored(&key).unwrap().is_none());
    drop(journal);
    drop(lab);
    let journal = Journal::open(&path).unwrap();
    let key = journal.key_for(&InvokeRequest { function: "busy".into(), ..request(r#"{"i": 0}"#) });
    let stored = journal.stored(&key).unwrap().expect("recorded");
    assert_eq!(stored.state, State::Throttled);
    assert!(matches!(stored.outcome, Some(Err(AttemptError::Throttled { .. }))));
}

#[test]
fn openings_in_one_process_share_the_file_each_with_occurrences_of_its_own() {
    let path = scratch("shared");
    let first = Journal::open(&path).unwrap();
    let second = Journal::open(&path).expect("shared, not refused");
    let payload = request(r#"{"same": true}"#);
    assert_eq!(first.key_for(&payload).occurrence, 0);
    assert_eq!(first.key_for(&payload).occurrence, 1);
    assert_eq!(second.key_for(&payload).occurrence, 0, "a new opening counts from the start");
}

#[test]
fn files_that_are_not_journals_of_this_release_are_refused_naming_the_file() {
    let text = scratch("text");
    std::fs::write(&text, "results, one per line\n".repeat(100)).unwrap();
    let why = refusal(&text);
    assert!(
        why.starts_with(&format!("the journal {}", text.display())) && why.contains("not an SQLite database"),
        "{why}"
    );

    let other = scratch("other");
    let connection = rusqlite::Connection::open(&other).unwrap();
    connection.execute_batch("CREATE TABLE notes (body TEXT)").unwrap();
    drop(connection);
    assert!(refusal(&other).contains("not a lambda-executor journal"), "{}", refusal(&other));

    let newer = scratch("newer");
    drop(Journal::open(&newer).unwrap());
    let connection = rusqlite::Connection::open(&newer).unwrap();
    connection.pragma_update(None, "user_version", 2).unwrap();
    drop(connection);
    assert!(refusal(&newer).contains("newer lambda-executor (schema 2"), "{}", refusal(&newer));

    let corrupt = scratch("corrupt");
    drop(Journal::open(&corrupt).unwrap());
    let mut bytes = std::fs::read(&corrupt).unwrap();
    let page = 4096;
    bytes.resize(page * 2, 0);
    for byte in &mut bytes[page..] {
        *byte = 0xA5;
    }
    std::fs::write(&corrupt, bytes).unwrap();
    let why = refusal(&corrupt);
    assert!(why.contains("corrupt"), "{why}");
}
