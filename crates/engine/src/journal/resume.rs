//! What a rerun does with what its journal holds for a submission: return the stored outcome
//! without sending anything, or send the call (again).

use std::sync::atomic::Ordering;

use crate::invoke::failure::AttemptError;
use crate::invoke::request::{InvokeRequest, Invoked};
use crate::journal::record::{JournalError, State, Stored};
use crate::journal::store::{Journal, JournalEntry};
use crate::logging::JOURNAL;

/// A journal's resume policy: what of an earlier run is sent again.
#[derive(Clone, Copy, Debug)]
pub struct Resume {
    /// Send calls that failed again (otherwise their failure is returned as it was).
    pub retry_failed: bool,
    /// Send calls that were in flight when the earlier run stopped again (they may have run).
    pub resume_in_flight: bool,
}

/// What to do with one submission.
pub enum Plan {
    /// Send it, through this entry; `resent_in_flight` when an earlier run stopped while it was
    /// in flight.
    Send { entry: JournalEntry, resent_in_flight: bool },
    /// Return this outcome, as the journal holds it: nothing is sent.
    Replay(Result<Invoked, AttemptError>),
}

impl Resume {
    /// Decides, from what `journal` holds for this submission of `request`, whether to send it.
    pub fn plan(&self, journal: &Journal, request: &InvokeRequest) -> Result<Plan, JournalError> {
        let key = journal.key_for(request);
        let stored = journal.stored(&key)?;
        let earlier = stored.as_ref().map(|stored| stored.state);
        let mut resent_in_flight = false;
        let replayed = match stored {
            Some(Stored { state: State::Succeeded, outcome: Some(outcome) }) => Some(outcome),
            Some(Stored { state: State::Failed, outcome: Some(outcome) }) if !self.retry_failed => Some(outcome),
            Some(Stored { state: State::Sent, .. }) if !self.resume_in_flight => Some(Err(AttemptError::MaybeSent {
                message: format!(
                    "it was in flight when an earlier run using the journal {} stopped, so it may have run; \
                     with resume_in_flight=False it is not sent again",
                    journal.path().display()
                ),
            })),
            Some(Stored { state: State::Sent, .. }) => {
                resent_in_flight = true;
                None
            }
            _ => None,
        };
        let function = &request.function;
        let resumed = &journal.resumed;
        match (&replayed, earlier) {
            (Some(_), Some(state)) => {
                resumed.answered.fetch_add(1, Ordering::Relaxed);
                log::debug!(target: JOURNAL, "{function}: answered from the journal ({state:?} in an earlier run)");
            }
            (None, Some(state)) => {
                resumed.resent.fetch_add(1, Ordering::Relaxed);
                resumed.resent_in_flight.fetch_add(u64::from(resent_in_flight), Ordering::Relaxed);
                log::debug!(target: JOURNAL, "{function}: sent again ({state:?} in an earlier run)");
            }
            _ => {}
        }
        Ok(match replayed {
            Some(outcome) => Plan::Replay(outcome),
            None => Plan::Send { entry: journal.entry(key)?, resent_in_flight },
        })
    }
}
