//! Lambda layers as LocalLambda keeps them: a published layer version (its content unpacked in a
//! folder of its own), and a function's reference to one.

use std::path::PathBuf;

/// One published version of a layer. Immutable once published.
pub struct LayerVersion {
    pub name: String,
    pub number: u32,
    pub description: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
    /// Of the zip, base64 (as Lambda gives it).
    pub code_sha256: String,
    /// The zip's size in bytes.
    pub code_size: u64,
    /// The size of its files once unzipped, which counts against the function's 250 MB.
    pub unzipped_size: u64,
    pub created_date: String,
    /// Where its zip was unpacked.
    pub dir: PathBuf,
}

/// A layer version a function uses, as its configuration reports it.
#[derive(Clone, Debug)]
pub struct FunctionLayer {
    pub arn: String,
    pub code_size: u64,
    pub unzipped_size: u64,
}
