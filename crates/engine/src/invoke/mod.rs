//! One Invoke call: what it sends and gets back, the attempt, what its failure means for
//! retrying, and the REPORT line of its log tail.

pub mod attempt;
pub mod failure;
pub mod report_line;
pub mod request;
