//! The code store: where a function's zip is unpacked and a version's code copied (folders of
//! their own under the temporary directory, removed with them), and what CreateFunction recorded
//! beyond what runs the function.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::handler::handler_module;
use crate::model::clock::UtcTime;

/// What CreateFunction recorded beyond what runs the function.
#[derive(Clone)]
pub struct Deployment {
    pub runtime: String,
    pub role: String,
    pub description: String,
    pub layers: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub code_sha256: String,
    pub code_size: u64,
    pub last_modified: String,
    /// Where the zip was unpacked; removed with the function.
    pub dir: PathBuf,
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
        last_modified: now_iso8601(),
        dir: PathBuf::new(),
    }
}

/// Unpacks `zip` into a folder of its own (Python's zipfile, which keeps paths inside it) and
/// checks the handler's module is there; or says why not (Lambda's InvalidParameterValueException).
pub async fn unpack(
    python: &Path,
    name: &str,
    handler: &str,
    zip: &[u8],
    mut deployment: Deployment,
) -> Result<Deployment, String> {
    let dir =
        std::env::temp_dir().join(format!("lambda-executor-{}-{name}-{}", std::process::id(), uuid::Uuid::new_v4()));
    let archive = dir.with_extension("zip");
    let failed = |why: String| format!("Could not unzip uploaded file: {why}");
    std::fs::write(&archive, zip).map_err(|e| failed(e.to_string()))?;
    let output =
        tokio::process::Command::new(python).args(["-m", "zipfile", "-e"]).arg(&archive).arg(&dir).output().await;
    let _ = std::fs::remove_file(&archive);
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            remove_unpacked(&dir);
            return Err(failed(String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("").to_owned()));
        }
        Err(error) => return Err(failed(error.to_string())),
    }
    if let Err(why) = handler_module(handler, &dir) {
        remove_unpacked(&dir);
        return Err(why.to_string());
    }
    deployment.code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip));
    deployment.code_size = zip.len() as u64;
    deployment.last_modified = now_iso8601();
    deployment.dir = dir;
    Ok(deployment)
}

/// Removes a folder of the store's (nothing outside the temporary directory).
pub fn remove_unpacked(dir: &Path) {
    if !dir.as_os_str().is_empty() && dir.starts_with(std::env::temp_dir()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Copies a folder, its subfolders and symbolic links as they are.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
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
