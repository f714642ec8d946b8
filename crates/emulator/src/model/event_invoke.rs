//! How Lambda handles a failed Event invocation: a function's (or version's, or alias's) event
//! invoke configuration, Lambda's defaults when it has none, and when a retry is due.

use std::time::Duration;

/// Retries of a failed Event invocation when no configuration says otherwise, and at most.
pub const DEFAULT_MAXIMUM_RETRY_ATTEMPTS: u32 = 2;
/// How long an Event invocation is kept when no configuration says otherwise, and at most.
pub const DEFAULT_MAXIMUM_EVENT_AGE_SECS: u32 = 21_600;
/// The least MaximumEventAgeInSeconds Lambda takes.
pub const MINIMUM_EVENT_AGE_SECS: u32 = 60;

/// PutFunctionEventInvokeConfig's settings: what is not set takes Lambda's default, and is not shown.
#[derive(Clone)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_secs: Option<u32>,
    /// `DestinationConfig` as given (recorded and shown; LocalLambda sends nothing there).
    pub destination_config: serde_json::Value,
    /// Seconds since the epoch of the last Put or Update.
    pub last_modified: f64,
}

/// What a failed Event invocation's retries follow.
#[derive(Clone, Copy)]
pub struct RetryRule {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age: Duration,
}

impl RetryRule {
    /// The rule of `config`, Lambda's defaults where it sets nothing (or where there is none).
    pub fn of(config: Option<&EventInvokeConfig>) -> Self {
        let retries = config.and_then(|config| config.maximum_retry_attempts);
        let age = config.and_then(|config| config.maximum_event_age_secs);
        Self {
            maximum_retry_attempts: retries.unwrap_or(DEFAULT_MAXIMUM_RETRY_ATTEMPTS),
            maximum_event_age: Duration::from_secs(u64::from(age.unwrap_or(DEFAULT_MAXIMUM_EVENT_AGE_SECS))),
        }
    }

    /// The wait before the retry that follows run number `attempt` (1 for the first) of an event
    /// `age` old, if one is due: none past MaximumRetryAttempts, or once the event would be older
    /// than MaximumEventAgeInSeconds when it starts. Lambda waits about a minute, then two:
    /// `first_delay` stands for the minute, and each later wait doubles it.
    pub fn retry_wait(&self, attempt: u32, age: Duration, first_delay: Duration) -> Option<Duration> {
        let wait = first_delay * 2u32.pow(attempt.saturating_sub(1).min(16));
        (attempt <= self.maximum_retry_attempts && age + wait < self.maximum_event_age).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_configuration_two_retries_within_six_hours() {
        let rule = RetryRule::of(None);
        assert_eq!(rule.maximum_retry_attempts, 2);
        assert_eq!(rule.maximum_event_age, Duration::from_secs(21_600));
    }

    #[test]
    fn a_configuration_sets_what_it_names_and_leaves_the_rest_to_lambda() {
        let config = EventInvokeConfig {
            maximum_retry_attempts: Some(0),
            maximum_event_age_secs: None,
            destination_config: serde_json::Value::Null,
            last_modified: 0.0,
        };
        let rule = RetryRule::of(Some(&config));
        assert_eq!((rule.maximum_retry_attempts, rule.maximum_event_age.as_secs()), (0, 21_600));
    }

    #[test]
    fn the_second_retry_waits_twice_the_first_and_there_is_no_third() {
        let (rule, minute) = (RetryRule::of(None), Duration::from_secs(60));
        let waits = [1, 2, 3].map(|attempt| rule.retry_wait(attempt, Duration::ZERO, minute));
        assert_eq!(waits, [Some(minute), Some(2 * minute), None]);
    }

    #[test]
    fn no_retry_would_start_past_the_maximum_age() {
        let config = EventInvokeConfig {
            maximum_retry_attempts: None,
            maximum_event_age_secs: Some(60),
            destination_config: serde_json::Value::Null,
            last_modified: 0.0,
        };
        let (rule, second) = (RetryRule::of(Some(&config)), Duration::from_secs(1));
        assert_eq!(rule.retry_wait(1, Duration::from_secs(58), second), Some(second));
        assert_eq!(rule.retry_wait(1, Duration::from_secs(59), second), None);
    }
}
