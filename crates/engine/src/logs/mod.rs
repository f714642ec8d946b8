//! Functions' logs, read from CloudWatch Logs with aws-sdk-cloudwatchlogs on the engine's client
//! configuration: a function's lines (`reader`), and the whole log of one invocation, START to
//! REPORT (`call`).

pub mod call;
pub mod reader;
