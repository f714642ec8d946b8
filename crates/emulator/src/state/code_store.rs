//! The code store: where a function's or a layer's zip is unpacked, a function's layers composed
//! and a version's code copied (folders of their own under the temporary directory, removed with
//! them), Lambda's unzipped-size limit, and what CreateFunction recorded beyond what runs the
//! function.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::model::clock::UtcTime;
use crate::model::event_invoke::EventInvokeConfig;
use crate::model::layer::FunctionLayer;

/// Lambda's limit on a function's code and all its layers, unzipped: they must be smaller.
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

/// What CreateFunction recorded beyond what runs the function.
#[derive(Clone)]
pub struct Deployment {
    pub runtime: String,
    pub role: String,
    pub description: String,
    pub layers: Vec<FunctionLayer>,
    pub tags: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub code_sha256: String,
    pub code_size: u64,
    /// The size of the function's own files, unzipped.
    pub unzipped_size: u64,
    pub last_modified: String,
    /// Changes with every change to the function (or version): a caller names it to refuse a
    /// change made on a stale view (412 PreconditionFailedException).
    pub revision_id: String,
    /// Where the zip was unpacked; removed with the function.
    pub dir: PathBuf,
    /// Its layers' files, extracted in order (see `compose_layers`); removed with the function.
    pub opt_dir: Option<PathBuf>,
    /// AddPermission's resource-based policies, by qualifier ($LATEST for the function's own).
    pub policies: BTreeMap<String, Policy>,
    /// PutFunctionEventInvokeConfig's configurations, by qualifier ($LATEST for the function's own).
    pub event_invoke_configs: BTreeMap<String, EventInvokeConfig>,
}

/// A resource-based policy: its statements in the order added, and its own RevisionId.
#[derive(Clone)]
pub struct Policy {
    pub statements: Vec<serde_json::Value>,
    pub revision_id: String,
}

impl Deployment {
    /// Removes the folders of its code and layers.
    pub fn remove_files(&self) {
        remove_unpacked(&self.dir);
        if let Some(opt_dir) = &self.opt_dir {
            remove_unpacked(opt_dir);
        }
    }

    /// The unzipped size of its layers' files.
    pub fn layers_unzipped_size(&self) -> u64 {
        self.layers.iter().map(|layer| layer.unzipped_size).sum()
    }
}

/// What the control plane records of a function added from Python.
pub fn default_deployment() -> Deployment {
    Deployment {
        runtime: "python3.12".into(),
        role: "arn:aws:iam::000000000000:role/local-lambda".into(),
        description: String::new(),
        layers: Vec::new(),
        tags: BTreeMap::new(),
        architectures: vec!["x86_64".into()],
        code_sha256: String::new(),
        code_size: 0,
        unzipped_size: 0,
        last_modified: now_iso8601(),
        revision_id: new_revision_id(),
        dir: PathBuf::new(),
        opt_dir: None,
        policies: BTreeMap::new(),
        event_invoke_configs: BTreeMap::new(),
    }
}

/// What refuses a zip whose own files reach the limit: Lambda's words for it (an
/// InvalidParameterValueException).
pub fn unzipped_too_large() -> String {
    format!("Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
}

/// Why a function's code and its layers (`layers` bytes of it) may not go together, if they may
/// not: Lambda's words (an InvalidParameterValueException).
pub fn check_combined_size(code: u64, layers: u64) -> Result<(), String> {
    if layers > MAX_UNZIPPED_BYTES {
        return Err(format!("Layers consume more than the available size of {MAX_UNZIPPED_BYTES} bytes"));
    }
    if code + layers > MAX_UNZIPPED_BYTES {
        return Err(format!(
            "Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED_BYTES} bytes. The \
             actual size is {} bytes.",
            code + layers
        ));
    }
    Ok(())
}

/// Extracts with Python's zipfile (which keeps paths inside the folder), after checking from the
/// zip's directory that its files add up to less than the limit, and gives each file the Unix
/// permissions the zip records (a layer's bin/ tools stay executable, as on Lambda); prints their
/// size.
const EXTRACT: &str = r#"
import os, sys, zipfile
archive, target, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
with zipfile.ZipFile(archive) as z:
    size = sum(info.file_size for info in z.infolist())
    if size >= limit:
        sys.exit(3)
    for info in z.infolist():
        path = z.extract(info, target)
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(path, mode | 0o600)
print(size)
"#;

/// A new folder of the store's under the temporary directory, named after `label`.
fn new_folder(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lambda-executor-{}-{label}-{}", std::process::id(), uuid::Uuid::new_v4()))
}

/// Unpacks `zip` into a folder of its own if its files add up to less than `limit` bytes;
/// returns the folder and that size, or says why not (Lambda's InvalidParameterValueException).
pub async fn extract(python: &Path, label: &str, zip: &[u8], limit: u64) -> Result<(PathBuf, u64), String> {
    let dir = new_folder(label);
    let archive = dir.with_extension("zip");
    let failed = |why: String| format!("Could not unzip uploaded file: {why}");
    std::fs::write(&archive, zip).map_err(|e| failed(e.to_string()))?;
    let output = tokio::process::Command::new(python)
        .args(["-c", EXTRACT])
        .arg(&archive)
        .arg(&dir)
        .arg(limit.to_string())
        .output()
        .await;
    let _ = std::fs::remove_file(&archive);
    match output {
        Ok(output) if output.status.success() => {
            let size = String::from_utf8_lossy(&output.stdout).trim().parse().unwrap_or_default();
            std::fs::create_dir_all(&dir).map_err(|e| failed(e.to_string()))?;
            Ok((dir, size))
        }
        Ok(output) => {
            remove_unpacked(&dir);
            if output.status.code() == Some(3) {
                return Err(unzipped_too_large());
            }
            // Not a zip Python's zipfile reads: AWS's words (LocalStack's recording,
            // test_create_lambda_exceptions, invalid_zip_exc).
            Err("Could not unzip uploaded file. Please check your file, then try to upload again.".to_owned())
        }
        Err(error) => Err(failed(error.to_string())),
    }
}

/// Unpacks a function's `zip` into a folder of its own (its files must add up to less than
/// Lambda's limit, and with its layers' no more), or says why not (Lambda's
/// InvalidParameterValueException). Whether the handler's module is in it is not checked: Lambda
/// accepts such code, and the runtime says Runtime.ImportModuleError at the first invoke.
pub async fn unpack(python: &Path, name: &str, zip: &[u8], mut deployment: Deployment) -> Result<Deployment, String> {
    let (dir, unzipped_size) = extract(python, name, zip, MAX_UNZIPPED_BYTES).await?;
    if let Err(why) = check_combined_size(unzipped_size, deployment.layers_unzipped_size()) {
        remove_unpacked(&dir);
        return Err(why);
    }
    deployment.code_sha256 = sha256_base64(zip);
    deployment.code_size = zip.len() as u64;
    deployment.unzipped_size = unzipped_size;
    deployment.last_modified = now_iso8601();
    deployment.revision_id = new_revision_id();
    deployment.dir = dir;
    Ok(deployment)
}

/// A zip's SHA-256, base64, as Lambda reports CodeSha256.
pub fn sha256_base64(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

/// One folder of the layers' files: each layer's copied in over the ones before it, as Lambda
/// extracts a function's layers into /opt in order. None for no layers.
pub async fn compose_layers(layer_dirs: Vec<PathBuf>) -> io::Result<Option<PathBuf>> {
    if layer_dirs.is_empty() {
        return Ok(None);
    }
    let opt = new_folder("opt");
    let target = opt.clone();
    let composed = tokio::task::spawn_blocking(move || layer_dirs.iter().try_for_each(|dir| copy_tree(dir, &target)))
        .await
        .unwrap_or_else(|panic| Err(io::Error::other(panic.to_string())));
    match composed {
        Ok(()) => Ok(Some(opt)),
        Err(error) => {
            remove_unpacked(&opt);
            Err(error)
        }
    }
}

/// Removes a folder of the store's (nothing outside the temporary directory).
pub fn remove_unpacked(dir: &Path) {
    if !dir.as_os_str().is_empty() && dir.starts_with(std::env::temp_dir()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Copies a folder, its subfolders and symbolic links as they are, over what `to` holds.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        // What an earlier layer put there gives way, unless both are folders (they merge).
        if let Ok(existing) = std::fs::symlink_metadata(&target) {
            if existing.is_dir() && !kind.is_dir() {
                std::fs::remove_dir_all(&target)?;
            } else if !existing.is_dir() && (kind.is_dir() || kind.is_symlink()) {
                std::fs::remove_file(&target)?;
            }
        }
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Now, as Lambda writes LastModified: 2024-05-01T12:34:56.789+0000.
/// A fresh RevisionId (Lambda's are UUIDs).
pub fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn now_iso8601() -> String {
    let now = UtcTime::of(SystemTime::now());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        now.year, now.month, now.day, now.hour, now.minute, now.second, now.millisecond
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_is_lambdas_format() {
        let now = now_iso8601();
        assert_eq!(now.len(), "2024-05-01T12:34:56.789+0000".len());
        assert!(now.starts_with("20") && now.ends_with("+0000") && &now[10..11] == "T", "{now}");
    }
}
