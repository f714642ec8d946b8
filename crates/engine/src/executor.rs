//! An executor's submissions, above the dispatcher: the settings all its calls share (checked
//! once), each call checked and made a request before anything is sent, then started, or
//! answered from its journal without sending.

use std::sync::Arc;

use bytes::Bytes;
use lambda_executor_protocol::{is_valid_qualifier, FunctionRef, InvocationType};

use crate::client::config::{ConfigError, SharedClient};
use crate::dispatch::dispatcher::Dispatcher;
use crate::dispatch::job::{Finished, Job, Sink};
use crate::invoke::request::InvokeRequest;
use crate::journal::record::JournalError;
use crate::journal::resume::{Plan, Resume};
use crate::journal::store::Journal;
use crate::limits::retry::RetryPolicy;
use crate::limits::spend_cap::SpendCap;
use crate::spill::location::SpillLocation;
use crate::spill::transfer::Spill;

/// The most invocations one executor keeps in flight (each is a socket).
pub const MAX_WORKERS: usize = 100_000;

/// What every call of an executor shares, checked.
pub struct Settings {
    qualifier: Option<String>,
    invocation_type: InvocationType,
    log_tail: bool,
    spend_cap: Option<SpendCap>,
    spill: Option<SpillLocation>,
}

/// A spend cap as asked for: US dollars, and Lambda's prices.
pub struct SpendCapAsked {
    pub max_cost: f64,
    pub price_per_gb_second: f64,
    pub price_per_request: f64,
}

/// Why an executor's settings, or a call, cannot be used; nothing was sent.
#[derive(Debug)]
pub enum SubmitError {
    /// A setting or argument that cannot be one (what, in a sentence).
    Invalid(String),
    PayloadTooLarge(String),
    /// The executor was made by the process this one was forked from.
    Forked,
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(why) | Self::PayloadTooLarge(why) => f.write_str(why),
            Self::Forked => f.write_str(
                "this executor belongs to the parent process and cannot be used after fork; create a new one in the child",
            ),
        }
    }
}

impl std::error::Error for SubmitError {}

impl Settings {
    pub fn new(
        qualifier: Option<String>,
        invocation_type: &str,
        log_tail: bool,
        spend_cap: Option<SpendCapAsked>,
        spill: Option<&str>,
    ) -> Result<Self, SubmitError> {
        let invocation_type = match InvocationType::parse(invocation_type) {
            Some(InvocationType::DryRun) | None => {
                return Err(SubmitError::Invalid(format!(
                    "invocation_type must be 'RequestResponse' or 'Event', not '{invocation_type}'"
                )))
            }
            Some(kind) => kind,
        };
        if let Some(qualifier) = qualifier.as_ref().filter(|qualifier| !is_valid_qualifier(qualifier)) {
            return Err(SubmitError::Invalid(format!("qualifier '{qualifier}' is not a version or alias name")));
        }
        let spend_cap = match spend_cap {
            None => None,
            Some(_) if invocation_type == InvocationType::Event => {
                return Err(SubmitError::Invalid(
                    "max_cost needs synchronous invocations: an Event invocation returns no REPORT line to cost".into(),
                ))
            }
            Some(SpendCapAsked { max_cost, price_per_gb_second, price_per_request }) => {
                Some(SpendCap::new(max_cost, price_per_gb_second, price_per_request).map_err(SubmitError::Invalid)?)
            }
        };
        let spill =
            spill.map(SpillLocation::parse).transpose().map_err(|why| SubmitError::Invalid(format!("spill: {why}")))?;
        Ok(Self { qualifier, invocation_type, log_tail, spend_cap, spill })
    }
}

/// What a call came to when it was started.
// Matched as soon as it is returned, never kept: boxing the outcome would cost an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Started<S> {
    /// Sent: the job, to cancel it.
    Sent(Arc<Job<S>>),
    /// Its journal held its outcome: nothing was sent, and `S` is to be given this now.
    Replayed(S, Finished),
}

pub struct Executor {
    dispatcher: Arc<Dispatcher>,
    /// Where agents' calls spill, if anywhere.
    spill: Option<Arc<Spill>>,
    qualifier: Option<String>,
    invocation_type: InvocationType,
    log_tail: bool,
    owner_pid: u32,
}

impl Executor {
    pub fn new(
        client: Arc<SharedClient>,
        policy: RetryPolicy,
        max_workers: usize,
        settings: Settings,
    ) -> Result<Self, ConfigError> {
        let Settings { qualifier, invocation_type, log_tail, spend_cap, spill } = settings;
        let spill = spill.map(|location| Spill::new(&client, location).map(Arc::new)).transpose()?;
        let dispatcher = Dispatcher::new(client, policy, max_workers, spend_cap);
        Ok(Self { dispatcher, spill, qualifier, invocation_type, log_tail, owner_pid: std::process::id() })
    }

    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// True in a process forked from the one that made the executor: its invocations are not
    /// this process's to wait for (and can never end here).
    pub fn forked(&self) -> bool {
        std::process::id() != self.owner_pid
    }

    /// Checks that `function` may be called through this executor, before its payload is made.
    pub fn check(&self, function: &str) -> Result<(), SubmitError> {
        if self.forked() {
            return Err(SubmitError::Forked);
        }
        match FunctionRef::parse(function) {
            Some(_) => Ok(()),
            None => {
                Err(SubmitError::Invalid(format!("'{function}' is not a Lambda function name, name:qualifier or ARN")))
            }
        }
    }

    /// The request for one call of a checked `function` with this JSON payload; `log_tail`
    /// overrides the executor's setting (a spend cap always asks for it: it is counted from
    /// REPORT lines, which come with the log tail). An `agent`'s call spills through S3 when the
    /// executor has a spill location.
    pub fn request(
        &self,
        function: &str,
        payload: impl Into<Bytes>,
        log_tail: Option<bool>,
        agent: bool,
    ) -> Result<InvokeRequest, SubmitError> {
        let payload = payload.into();
        let spill = self.spill.clone().filter(|_| agent);
        let limit = self.invocation_type.max_payload();
        if payload.len() > limit && spill.is_none() {
            return Err(SubmitError::PayloadTooLarge(format!(
                "the payload is {} bytes as JSON, over Lambda's {limit}-byte limit for {} invocations; nothing was \
                 sent{}",
                payload.len(),
                if self.invocation_type == InvocationType::Event { "Event" } else { "synchronous" },
                if agent { " (with spill='s3://bucket/prefix', larger arguments go through S3)" } else { "" }
            )));
        }
        let named_qualifier = FunctionRef::parse(function).is_some_and(|reference| reference.qualifier.is_some());
        Ok(InvokeRequest {
            function: function.to_owned(),
            qualifier: if named_qualifier { None } else { self.qualifier.clone() },
            invocation_type: self.invocation_type,
            log_tail: log_tail.unwrap_or(self.log_tail) || self.dispatcher.has_spend_cap(),
            payload,
            spill,
        })
    }

    /// Sends `request`, or answers it with what `journal` already holds for it.
    pub fn start<S: Sink>(
        &self,
        request: InvokeRequest,
        journal: Option<(&Journal, Resume)>,
        sink: S,
    ) -> Result<Started<S>, JournalError> {
        let entry = match journal {
            None => None,
            Some((journal, resume)) => match resume.plan(journal, &request)? {
                Plan::Send { entry, resent_in_flight } => {
                    if resent_in_flight {
                        self.dispatcher.count_resent_in_flight();
                    }
                    Some(entry)
                }
                Plan::Replay(outcome) => {
                    return Ok(Started::Replayed(sink, self.dispatcher.from_journal(request, outcome)))
                }
            },
        };
        let job = Job::new(sink);
        self.dispatcher.submit(job.clone(), request, entry);
        Ok(Started::Sent(job))
    }
}
