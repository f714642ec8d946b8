//! The one shared Lambda client: its configuration, the HTTP client under it (connections,
//! proxies, the certificates trusted), and the retry of other services' calls that never left.

pub mod config;
pub mod connector;
pub mod http;
pub mod proxy;
pub mod resend_unsent;
pub mod trust;
