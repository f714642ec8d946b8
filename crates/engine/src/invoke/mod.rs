//! One Invoke call: the attempt, what its failure means for retrying, and the REPORT line of its
//! log tail.

pub mod attempt;
pub mod report_line;
