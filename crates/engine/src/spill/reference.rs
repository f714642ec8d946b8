//! The reference that travels in place of a spilled payload: an event or a result that is
//! exactly `{"lambda_executor.s3": {"bucket": ..., "key": ..., "size": ..., "sha256": ...}}`
//! (the agent reads and writes the same; see lambda_executor/agent.py).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The envelope's one key.
pub const ENVELOPE: &str = "lambda_executor.s3";
/// An envelope is small; a payload longer than this is never read as one.
const MAX_ENVELOPE: usize = 4096;

/// A spilled payload: where it is, and what it must be when read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// The SHA-256 of the payload, in lowercase hex.
    pub sha256: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[serde(rename = "lambda_executor.s3")]
    reference: ObjectRef,
}

impl ObjectRef {
    /// The reference to `payload` once stored at `bucket`/`key`.
    pub fn of(bucket: &str, key: &str, payload: &[u8]) -> Self {
        Self { bucket: bucket.to_owned(), key: key.to_owned(), size: payload.len() as u64, sha256: sha256_hex(payload) }
    }

    /// The JSON that stands for the payload.
    pub fn envelope(&self) -> Vec<u8> {
        serde_json::to_vec(&Envelope { reference: self.clone() }).expect("a reference always serializes")
    }

    /// The reference `payload` is, if it is an envelope and nothing else.
    pub fn in_envelope(payload: &[u8]) -> Option<Self> {
        if payload.len() > MAX_ENVELOPE || !payload.windows(ENVELOPE.len()).any(|window| window == ENVELOPE.as_bytes())
        {
            return None;
        }
        serde_json::from_slice::<Envelope>(payload).ok().map(|envelope| envelope.reference)
    }

    /// True if `payload` is what this reference stands for.
    pub fn matches(&self, payload: &[u8]) -> bool {
        payload.len() as u64 == self.size && sha256_hex(payload) == self.sha256
    }
}

fn sha256_hex(payload: &[u8]) -> String {
    Sha256::digest(payload).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_travels_as_its_envelope_and_checks_what_is_read_back() {
        let reference = ObjectRef::of("bucket", "runs/result-1", b"payload");
        assert_eq!(reference.sha256, "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5");
        let envelope = reference.envelope();
        assert!(envelope.starts_with(br#"{"lambda_executor.s3":{"bucket":"bucket","key":"runs/result-1""#));
        assert_eq!(ObjectRef::in_envelope(&envelope), Some(reference.clone()));
        assert!(reference.matches(b"payload"));
        assert!(!reference.matches(b"pAyload"));
        assert!(!reference.matches(b"payload "));
    }

    #[test]
    fn only_an_envelope_and_nothing_else_is_one() {
        let reference = ObjectRef::of("bucket", "key", b"x");
        let with_more = String::from_utf8(reference.envelope()).unwrap().replace("}}", r#"},"other":1}"#);
        assert_eq!(ObjectRef::in_envelope(with_more.as_bytes()), None);
        assert_eq!(ObjectRef::in_envelope(br#"{"lambda_executor.s3": {"bucket": "b"}}"#), None);
        assert_eq!(ObjectRef::in_envelope(br#"{"result": "lambda_executor.s3"}"#), None);
    }
}
