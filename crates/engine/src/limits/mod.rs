//! What may be sent, and when: the adaptive concurrency limit and the request rate a function's
//! throttles taught, the retry policy, and the spend cap.

pub mod adaptive;
pub mod function;
pub mod rate;
pub mod retry;
pub mod spend_cap;
