//! Payloads larger than Lambda takes (6 MB each way), through S3: where they go (a bucket and a
//! prefix), the reference an event or a result carries instead of them, and the transfers (an
//! upload, and a download that checks the digest and deletes what it read), and the lifecycle rule
//! that expires what a killed run left.

pub mod lifecycle;
pub mod location;
pub mod reference;
pub mod transfer;
