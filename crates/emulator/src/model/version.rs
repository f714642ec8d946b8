//! How a version is named: `$LATEST`, or the number of a published version.

pub const LATEST: &str = "$LATEST";

/// "$LATEST", or the number of a published version.
pub fn version_name(number: Option<u32>) -> String {
    number.map_or_else(|| LATEST.to_owned(), |number| number.to_string())
}
