//! The one shared Lambda client: its configuration, and the HTTP client under it (connections,
//! proxies, the certificates trusted).

pub mod config;
pub mod connector;
pub mod http;
pub mod proxy;
pub mod trust;
